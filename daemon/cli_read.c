/*
 * cli_read.c — the subcommands that read and change nothing: parse, check-config, match.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "match/match.h"
#include "parse/parse.h"
#include "xmalloc.h"

struct config *cli_load_config(const char *path)
{
	struct config_diag d = {0};
	struct config *cfg;

	if (path != NULL)
		cfg = config_load(path, &d);
	else
		cfg = config_load_string("(built-in configuration)", config_default_text, &d);
	for (size_t i = 0; i < d.n; i++) {
		if (d.items[i].warning)
			log_warn("%s", d.items[i].text);
		else
			log_error("%s", d.items[i].text);
	}
	config_diag_free(&d);
	return cfg;
}

bool cli_config_args(int argc, char **argv, int min, int max, const char **path)
{
	int c;

	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c != 'c')
			return false;
		*path = optarg;
	}
	return argc - optind >= min && argc - optind <= max;
}

int cli_parse_size(const char *s, size_t *out)
{
	return conf_parse_size(s, out);
}

/* ---- parse ---- */

/* Prints one paper as a line of JSON; the parser's callback for `parse`. */
static void print_paper(void *ctx, const struct paper *p)
{
	json_t *o = paper_json(p);

	(void)ctx;
	json_dumpf(o, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(o);
}

/* Flushes standard output; a failure (a closed pipe, a full disk) is the command's failure. */
static int finish_output(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_error("standard output: cannot write");
		return EXIT_FAIL;
	}
	return status;
}

int cmd_parse(int argc, char **argv)
{
	static const struct option options[] = {
		{"max-size", required_argument, NULL, 'm'},
		{"strict", no_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	struct parse_opts opts = {.max_size = PARSE_MAX_SIZE_DEFAULT, .emit = print_paper};
	int status = EXIT_OK, c;
	bool strict = false;

	while ((c = getopt_long(argc, argv, "m:s", options, NULL)) != -1) {
		if (c == 's')
			strict = true;
		else if (c != 'm' || cli_parse_size(optarg, &opts.max_size) != 0)
			goto usage;
	}
	if (optind == argc)
		goto usage;
	for (int i = optind; i < argc; i++) {
		struct parse_result res;
		struct err err;

		if (parse_file(argv[i], &opts, &res, &err) != 0) {
			log_error("%s", err.msg);
			status = EXIT_FAIL;
		} else if (strict && parse_partial(&res)) {
			/* The parser has said what it could not read; --strict makes it a failure.
			 */
			status = EXIT_FAIL;
		}
	}
	return finish_output(status);
usage:
	fprintf(stderr, "usage: paperwatch parse [--strict] [--max-size BYTES] FILE...\n");
	return EXIT_USAGE;
}

/* ---- check-config ---- */

int cmd_check_config(int argc, char **argv)
{
	const char *path = NULL;
	struct config *cfg;

	if (!cli_config_args(argc, argv, 0, 0, &path))
		goto usage;
	cfg = cli_load_config(path);
	if (cfg == NULL)
		return EXIT_USAGE;
	printf("%s: ok: %zu notifier%s, %zu rule%s\n", cfg->path, cfg->n_notifiers,
	       cfg->n_notifiers == 1 ? "" : "s", cfg->n_rules, cfg->n_rules == 1 ? "" : "s");
	config_unref(cfg);
	return finish_output(EXIT_OK);
usage:
	fprintf(stderr, "usage: paperwatch check-config [-c CONFIG]\n");
	return EXIT_USAGE;
}

/* ---- match ---- */

struct match_cmd {
	struct matcher *matcher;
	const char *const *names; /* rule names by index */
	int only;                 /* the one rule shown (--rule), or -1 */
	const struct paper *paper;
	json_t *rules, *hits;
};

/* The text a hit covers, from the paper's own strings. */
static json_t *hit_text(const struct paper *p, const struct match_hit *h)
{
	const char *s = NULL;

	switch (h->field) {
	case MATCH_TITLE:
		s = p->title;
		break;
	case MATCH_AUTHORS:
		s = h->author < p->n_authors ? p->authors[h->author] : NULL;
		break;
	case MATCH_ABSTRACT:
		s = p->abstract;
		break;
	case MATCH_ID:
		s = p->id;
		break;
	}
	if (s == NULL || h->end > strlen(s) || h->start > h->end)
		return json_null();
	return json_stringn(s + h->start, h->end - h->start);
}

static void on_match(void *ctx, unsigned rule, const struct match_hit *hits, size_t n_hits)
{
	struct match_cmd *m = ctx;
	json_t *list;

	if (m->only >= 0 && (unsigned)m->only != rule)
		return;
	json_array_append_new(m->rules, json_string(m->names[rule]));
	list = json_array();
	for (size_t i = 0; i < n_hits; i++) {
		json_t *h = json_object();

		json_object_set_new(h, "term",
				    json_string(matcher_term_text(m->matcher, rule, hits[i].term)));
		json_object_set_new(h, "field", json_string(match_field_name(hits[i].field)));
		json_object_set_new(h, "text", hit_text(m->paper, &hits[i]));
		json_array_append_new(list, h);
	}
	json_object_set_new(m->hits, m->names[rule], list);
}

/* The parser's callback for `match`: prints the paper if a rule matched, with why. */
static void match_paper(void *ctx, const struct paper *p)
{
	struct match_cmd *m = ctx;
	json_t *o;

	m->paper = p;
	m->rules = json_array();
	m->hits = json_object();
	matcher_match(m->matcher, p, true, on_match, m);
	if (json_array_size(m->rules) > 0) {
		o = json_object();
		json_object_set_new(o, "id", p->id ? json_string(p->id) : json_null());
		json_object_set_new(o, "title", json_string(p->title));
		json_object_set_new(o, "rules", m->rules);
		json_object_set_new(o, "hits", m->hits);
		json_dumpf(o, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(o);
	} else {
		json_decref(m->rules);
		json_decref(m->hits);
	}
}

/* Reads every file through the matcher; returns the exit status. */
static int match_files(struct match_cmd *m, size_t max_size, int n, char **files)
{
	struct parse_opts opts = {.max_size = max_size, .emit = match_paper, .ctx = m};
	int status = EXIT_OK;

	for (int i = 0; i < n; i++) {
		struct parse_result res;
		struct err err;

		if (parse_file(files[i], &opts, &res, &err) != 0) {
			log_error("%s", err.msg);
			status = EXIT_FAIL;
		}
	}
	return finish_output(status);
}

/* `match --query Q`: one rule, no configuration at all. */
static int match_query(const char *query, int n, char **files)
{
	static const char *const names[] = {"query"};
	struct match_cmd m = {.names = names, .only = -1};
	struct query_error qe;
	int status;

	m.matcher = matcher_new();
	if (matcher_add(m.matcher, query, &qe) < 0) {
		log_error("query column %u: %s", qe.column, qe.msg);
		matcher_free(m.matcher);
		return EXIT_USAGE;
	}
	matcher_compile(m.matcher);
	status = match_files(&m, PARSE_MAX_SIZE_DEFAULT, n, files);
	matcher_free(m.matcher);
	return status;
}

int cmd_match(int argc, char **argv)
{
	static const struct option options[] = {
		{"rule", required_argument, NULL, 'r'},
		{"query", required_argument, NULL, 'q'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL, *rule = NULL, *query = NULL;
	struct match_cmd m = {.only = -1};
	const char **names;
	struct config *cfg;
	int c, status;

	while ((c = getopt_long(argc, argv, "c:r:q:", options, NULL)) != -1) {
		if (c == 'c')
			path = optarg;
		else if (c == 'r')
			rule = optarg;
		else if (c == 'q')
			query = optarg;
		else
			goto usage;
	}
	if (optind == argc || (query != NULL && (path != NULL || rule != NULL)))
		goto usage;
	if (query != NULL)
		return match_query(query, argc - optind, argv + optind);
	if ((cfg = cli_load_config(path)) == NULL)
		return EXIT_USAGE;
	if (rule != NULL && (m.only = config_rule_index(cfg, rule)) < 0) {
		log_error("%s: no rule named \"%s\"", cfg->path, rule);
		config_unref(cfg);
		return EXIT_USAGE;
	}
	names = xcalloc(cfg->n_rules + 1, sizeof(*names));
	for (size_t i = 0; i < cfg->n_rules; i++)
		names[i] = cfg->rules[i].name;
	m.matcher = cfg->matcher;
	m.names = names;
	status = match_files(&m, cfg->watch.max_file_size, argc - optind, argv + optind);
	free(names);
	config_unref(cfg);
	return status;
usage:
	fprintf(stderr, "usage: paperwatch match [-c CONFIG] [--rule NAME] FILE...\n"
			"       paperwatch match --query QUERY FILE...\n");
	return EXIT_USAGE;
}
