/*
 * cli.h — the subcommands of the paperwatch command, and what they share.
 */
#ifndef PW_CLI_H
#define PW_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Exit statuses shared by every subcommand. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

int cmd_parse(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_retry(int argc, char **argv);
int cmd_test_notify(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* Loads the configuration at path, or the built-in default when path is NULL; every problem
 * (and warning) goes to the log. NULL when there are errors. */
struct config *cli_load_config(const char *path);

/* Reads the options of a subcommand whose one option is -c CONFIG, into *path, and checks it has
 * from min to max operands, which start at argv[optind]. False on a usage error. */
bool cli_config_args(int argc, char **argv, int min, int max, const char **path);

/* "s" for a count other than one: "1 paper", "2 papers". */
static inline const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* Reads a byte count with an optional K, M or G suffix; -1 when it is not one. */
int cli_parse_size(const char *s, size_t *out);

#endif
