/*
 * main.c — the paperwatch command line: a table of subcommands, each one function.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parse.h"

#ifndef PW_VERSION
#define PW_VERSION "dev"
#endif

/* Exit statuses shared by every subcommand. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *help;
};

static int cmd_parse(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{"parse", cmd_parse, "[--max-size BYTES] FILE...",
	 "print every paper of the digest files as JSON lines"},
	{"help", cmd_help, "", "show this help"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: paperwatch COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		fprintf(out, "  %s %s\n      %s\n", commands[i].name, commands[i].args,
			commands[i].help);
	}
	fprintf(out, "\npaperwatch --version prints the version.\n");
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return EXIT_OK;
}

/* Reads a byte count with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || s[0] == '-')
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift != 0)
		end++;
	if (*end != '\0' || v > (~0ull >> shift))
		return -1;
	*out = (size_t)(v << shift);
	return 0;
}

/* Prints one paper as a line of JSON; the parser's callback for `parse`. */
static void print_paper(void *ctx, const struct paper *p)
{
	json_t *o = paper_json(p);

	(void)ctx;
	json_dumpf(o, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(o);
}

static int cmd_parse(int argc, char **argv)
{
	static const struct option options[] = {
		{"max-size", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	struct parse_opts opts = {.max_size = PARSE_MAX_SIZE_DEFAULT, .emit = print_paper};
	int status = EXIT_OK, c;

	while ((c = getopt_long(argc, argv, "m:", options, NULL)) != -1) {
		if (c != 'm' || parse_size(optarg, &opts.max_size) != 0) {
			fprintf(stderr, "usage: paperwatch parse [--max-size BYTES] FILE...\n");
			return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "usage: paperwatch parse [--max-size BYTES] FILE...\n");
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		struct parse_result res;
		struct err err;

		if (parse_file(argv[i], &opts, &res, &err) != 0) {
			log_error("%s", err.msg);
			status = EXIT_FAIL;
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_error("standard output: %s", strerror(errno));
		return EXIT_FAIL;
	}
	return status;
}

int main(int argc, char **argv)
{
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
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	}
	log_error("unknown command '%s'; 'paperwatch help' lists them", argv[1]);
	return EXIT_USAGE;
}
