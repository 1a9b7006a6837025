/*
 * cli.h — the subcommands of the paperwatch command, and what they share.
 */
#ifndef PW_CLI_H
#define PW_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "log.h"

/* Exit statuses shared by every subcommand. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

int cmd_parse(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_retry(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_test_notify(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* The paperwatch command: runs the subcommand argv names; returns the exit status. */
int cli_main(int argc, char **argv);

/* Prints the usage of the command called name to standard error; returns EXIT_USAGE. */
int cli_usage_error(const char *name);

/* Loads the configuration at path, or the built-in default when path is NULL; every problem
 * (and warning) goes to the log. NULL when there are errors. */
struct config *cli_load_config(const char *path);
/* The same, for commands that only read digests: the rules, without the notifiers (and their
 * secrets). */
struct config *cli_load_rules(const char *path);

/* Opens the configuration's state, telling a shared one whose files these are (the watched
 * folder on this host), the lease and the password. With patient (the daemon), a shared state's
 * database that cannot be reached now is waited for, as one lost later is. */
int cli_state_open(const struct config *cfg, bool patient, struct state **out, struct err *err);
/* Whether the configuration's state was ever made: an SQLite file that is there. A shared state
 * always is: opening it makes what is missing. */
bool cli_state_exists(const struct config *cfg);

/* Reads the options of a subcommand whose one option is -c CONFIG, into *path, and checks it has
 * from min to max operands, which start at argv[optind]. False on a usage error. */
bool cli_config_args(int argc, char **argv, int min, int max, const char **path);

/* Flushes standard output; a failure (a closed pipe, a full disk) is the command's failure:
 * returns status, or EXIT_FAIL then. */
int cli_finish_output(int status);

/* A list of file paths. */
struct cli_files {
	char **paths;
	size_t n;
};

/* The digests in the configured folder, as the daemon reads them: the regular files whose names
 * watch.include takes, as FOLDER/NAME, in name order. -1 (said in the log) when the folder
 * cannot be read. */
int cli_inbox(const struct config *cfg, struct cli_files *out);
void cli_files_free(struct cli_files *f);

/* `match --like FILE`: the papers of files scored against the library, most similar first,
 * those from min_score on; returns the exit status. */
int cli_match_like(const char *library, double min_score, bool json, size_t n, char *const *files);

/* Reads a byte count with an optional K, M or G suffix; -1 when it is not one. */
int cli_parse_size(const char *s, size_t *out);

#endif
