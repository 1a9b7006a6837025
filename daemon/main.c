/*
 * main.c — the paperwatch command: a table of subcommands, each one function (cli_*.c).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

#ifndef PW_VERSION
#define PW_VERSION "dev"
#endif

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *help;
};

static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{"run", cmd_run, "[-c CONFIG] [-v]",
	 "watch the folder and deliver alerts, in the foreground (the service)"},
	{"parse", cmd_parse, "[--strict] [--max-size BYTES] FILE...",
	 "print every paper of the digest files as JSON lines"},
	{"match", cmd_match, "[-c CONFIG] [--rule NAME] FILE... | --query QUERY FILE...",
	 "show which papers the rules match, and why; sends and records nothing"},
	{"scan", cmd_scan, "[-c CONFIG] [--wait SECONDS] FILE...",
	 "process digest files as the daemon does: alert and deliver"},
	{"status", cmd_status, "[-c CONFIG]",
	 "show delivered, pending and failed messages per notifier"},
	{"retry", cmd_retry, "[-c CONFIG] [NOTIFIER]", "queue failed messages again"},
	{"test-notify", cmd_test_notify, "[-c CONFIG] NAME", "send a sample alert to a notifier"},
	{"check-config", cmd_check_config, "[-c CONFIG]", "check a configuration file"},
	{"help", cmd_help, "", "show this help"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: paperwatch COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %s %s\n      %s\n", commands[i].name, commands[i].args,
			commands[i].help);
	fprintf(out, "\nWithout -c, paperwatch uses its built-in configuration.\n"
		     "paperwatch --version prints the version.\n");
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	int status;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("paperwatch %s\n", PW_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(argc, argv);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			curl_global_init(CURL_GLOBAL_DEFAULT);
			status = commands[i].run(argc - 1, argv + 1);
			curl_global_cleanup();
			return status;
		}
	}
	log_error("unknown command '%s'; 'paperwatch help' lists them", argv[1]);
	return EXIT_USAGE;
}
