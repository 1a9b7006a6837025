/*
 * cli.c — the paperwatch command line: the table of subcommands, each one function (cli_*.c,
 * daemon.c), with the usage and help every one of them prints, and the dispatch to them.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "state.h"
#include "xmalloc.h"

#ifndef PW_VERSION
#define PW_VERSION "dev"
#endif

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;    /* the synopsis after the name; more than one line for variants */
	const char *summary; /* one line, for the list of commands */
	const char *details; /* the options and operands, for `help COMMAND` */
};

static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{"run", cmd_run, "[-c CONFIG] [-v]",
	 "watch the folder and deliver alerts, in the foreground (the service)",
	 "  -c CONFIG   the configuration file (default: the built-in one)\n"
	 "  -v          log debug messages too\n"
	 "SIGHUP reloads the configuration; SIGTERM stops after sends in flight finish.\n"},
	{"parse", cmd_parse, "[--strict] [--max-size BYTES] FILE...",
	 "print every paper of the digest files as JSON lines",
	 "  --strict          fail (exit 1) when a file is read only partly\n"
	 "  --max-size BYTES  refuse larger files (default 64M; K, M and G suffixes)\n"},
	{"match", cmd_match,
	 "[-c CONFIG] [--rule NAME]... [--json] [FILE...]\n"
	 "       paperwatch match --query QUERY [--json] FILE...\n"
	 "       paperwatch match --like LIBRARY [--min-score S] [--json] FILE...",
	 "show which papers the rules match, and why; sends and records nothing",
	 "  -c CONFIG     the configuration whose rules are tried (no secret is read)\n"
	 "  --rule NAME   only this rule; may be repeated\n"
	 "  --query QUERY one query, with no configuration\n"
	 "  --json        one JSON line per matched paper, for scripts\n"
	 "  --like LIBRARY    score every paper against a library file (BibTeX, CSL JSON, ids),\n"
	 "                    most similar first, with no configuration\n"
	 "  --min-score S     with --like, show papers scoring S or more (default 0.15; 0: all)\n"
	 "Without FILE, every digest in the configured watch.dir is read: a rule can be tried on\n"
	 "the digests already there, then applied to them with `paperwatch scan --again`.\n"},
	{"scan", cmd_scan, "[-c CONFIG] [--wait SECONDS] [--again] [FILE...]",
	 "process digest files as the daemon does: alert and deliver",
	 "  -c CONFIG       the configuration file\n"
	 "  --wait SECONDS  how long to wait for deliveries (default 60s)\n"
	 "  --again         read files already processed too, so that rules added since alert on\n"
	 "                  them; what was alerted before is never alerted again\n"
	 "Without FILE, every digest in the configured watch.dir.\n"
	 "Beside a running daemon, the messages are handed to it to send.\n"},
	{"status", cmd_status, "[-c CONFIG] [--recent N] [--json]",
	 "show delivered, pending and failed messages per notifier",
	 "  -c CONFIG    the configuration file\n"
	 "  --recent N   also the last N alerts: paper, rule and notifier\n"
	 "  --json       one JSON object, for scripts\n"},
	{"retry", cmd_retry, "[-c CONFIG] [NOTIFIER]", "queue failed messages again",
	 "  -c CONFIG   the configuration file\n"
	 "  NOTIFIER    only this notifier's failed messages (default: every notifier's)\n"},
	{"import", cmd_import, "[-c CONFIG] STATE_FILE",
	 "move an SQLite state into the configuration's PostgreSQL state",
	 "  -c CONFIG    the configuration whose state, a postgresql:// URI, receives it\n"
	 "  STATE_FILE   the SQLite state (stop the paperwatch using it first)\n"
	 "What was read, alerted, queued and held moves: nothing is alerted again. What the\n"
	 "database holds already is kept, so several hosts' states can move into one.\n"},
	{"test-notify", cmd_test_notify, "[-c CONFIG] [--notice] NAME",
	 "send a sample alert to a notifier",
	 "  -c CONFIG   the configuration file\n"
	 "  --notice    a sample health notice instead, as health.notify sends them\n"
	 "  NAME        the notifier; a configuration fault (a certificate, an unknown host)\n"
	 "              fails at once, other failures are retried for up to a minute\n"},
	{"check-config", cmd_check_config, "[-c CONFIG]",
	 "check a configuration file, and what can be checked before the first digest",
	 "  -c CONFIG   the configuration file (default: the built-in one)\n"},
	{"help", cmd_help, "[COMMAND]", "show this help, or one command's",
	 "  COMMAND   the command whose usage is shown\n"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	}
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: paperwatch [-c CONFIG] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'paperwatch help COMMAND' or 'paperwatch COMMAND --help' shows a command's "
		     "usage.\nWithout -c, paperwatch uses its built-in configuration.\n"
		     "paperwatch --version prints the version; man paperwatch has the manual.\n");
}

static void command_usage(const struct command *c, FILE *out, bool full)
{
	fprintf(out, "usage: paperwatch %s %s\n", c->name, c->args);
	if (full)
		fprintf(out, "\n%s.\n\n%s", c->summary, c->details);
	else
		fprintf(out, "'paperwatch help %s' says more.\n", c->name);
}

int cli_usage_error(const char *name)
{
	const struct command *c = find_command(name);

	if (c != NULL)
		command_usage(c, stderr, false);
	return EXIT_USAGE;
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	c = find_command(argv[1]);
	if (argc > 2 || c == NULL) {
		log_error("no command named '%s'; 'paperwatch help' lists them", argv[1]);
		return EXIT_USAGE;
	}
	command_usage(c, stdout, true);
	return EXIT_OK;
}

/* Whether args (up to a "--") ask for help. */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

/* How many of the arguments from argv[1] on are options given before the command: -c CONFIG,
 * -cCONFIG and -v, which the commands take as their own. -1 for anything else, *bad its index. */
static int leading_options(int argc, char **argv, int *bad)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			i += 2;
		} else if ((strncmp(argv[i], "-c", 2) == 0 && argv[i][2] != '\0') ||
			   strcmp(argv[i], "-v") == 0) {
			i++;
		} else {
			*bad = i;
			return -1;
		}
	}
	return i - 1;
}

static int dispatch(const struct command *c, int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		command_usage(c, stdout, true);
		return EXIT_OK;
	}
	return c->run(argc, argv);
}

int cli_main(int argc, char **argv)
{
	const struct command *c;
	char **args;
	int lead, bad = 0, status;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("paperwatch %s\n", PW_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(1, argv);
	lead = leading_options(argc, argv, &bad);
	if (lead < 0 && strcmp(argv[bad], "-c") == 0) {
		log_error("-c needs a configuration file: paperwatch -c FILE COMMAND");
		return EXIT_USAGE;
	}
	if (lead < 0) {
		log_error("unknown option '%s' before the command; 'paperwatch help' lists the "
			  "commands and their options",
			  argv[bad]);
		return EXIT_USAGE;
	}
	if (1 + lead >= argc) {
		log_error("options but no command; 'paperwatch help' lists the commands");
		return EXIT_USAGE;
	}
	c = find_command(argv[1 + lead]);
	if (c == NULL) {
		log_error("unknown command '%s'; 'paperwatch help' lists them", argv[1 + lead]);
		return EXIT_USAGE;
	}
	/* The options before the command go after its name, where its own parsing finds them. */
	args = xcalloc((size_t)argc + 1, sizeof(*args));
	args[0] = argv[1 + lead];
	memcpy(args + 1, argv + 1, (size_t)lead * sizeof(*args));
	memcpy(args + 1 + lead, argv + 2 + lead, (size_t)(argc - 2 - lead) * sizeof(*args));
	status = dispatch(c, argc - 1, args);
	free(args);
	return status;
}

int cli_state_open(const struct config *cfg, bool patient, struct state **out, struct err *err)
{
	char dir[PATH_MAX];
	struct state_opts o = {.scope = cfg->watch.dir,
			       .lease = cfg->delivery.lease,
			       .password = cfg->state_password,
			       .patient = patient};

	if (realpath(cfg->watch.dir, dir) != NULL)
		o.scope = dir;
	return state_open(cfg->state, &o, out, err);
}

bool cli_state_exists(const struct config *cfg)
{
	return state_is_shared(cfg->state) || access(cfg->state, F_OK) == 0;
}
