/*
 * cli_read.c — the subcommands that read and change nothing: parse, check-config, match.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "match/match.h"
#include "parse/parse.h"
#include "pipeline.h"
#include "state.h"
#include "utf8.h"
#include "watch.h"
#include "xmalloc.h"

/* Loads the configuration, its rules only when rules_only. */
static struct config *load_config(const char *path, bool rules_only)
{
	struct config_diag d = {0};
	struct config *cfg;

	if (path != NULL)
		cfg = rules_only ? config_load_rules(path, &d) : config_load(path, &d);
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

struct config *cli_load_config(const char *path)
{
	return load_config(path, false);
}

struct config *cli_load_rules(const char *path)
{
	return load_config(path, true);
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

int cli_finish_output(int status)
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
	return cli_finish_output(status);
usage:
	return cli_usage_error("parse");
}

/* ---- check-config ---- */

/* Opens the state, as the daemon would: a shared state's database that cannot be reached, that
 * refuses the password or a privilege, is an error of the configuration; an SQLite file that
 * cannot be opened is the daemon's to report (it may not exist yet). Then warns of rules that
 * can match only papers with authors when no digest read so far named any: such a rule would
 * never fire on what the folder receives. */
static int check_state(const struct config *cfg)
{
	struct state_authors a;
	struct state *st;
	struct err err;

	if (!cli_state_exists(cfg))
		return 0;
	if (cli_state_open(cfg, false, &st, &err) != 0) {
		if (!state_is_shared(cfg->state))
			return 0;
		log_error("%s: state: %s", cfg->path, err.msg);
		return -1;
	}
	if (state_authors(st, &a, &err) != 0) {
		log_warn("%s", err.msg);
	} else if (a.files > 0 && a.papers_with_authors == 0) {
		for (size_t i = 0; i < cfg->n_rules; i++) {
			if (matcher_needs_field(cfg->matcher, (unsigned)i, MATCH_AUTHORS))
				log_warn("%s: rule \"%s\" can match only papers with authors, and "
					 "none of the %zu digest%s read so far named any (format%s "
					 "%s); the README's \"Formats\" says which formats give "
					 "them",
					 cfg->path, cfg->rules[i].name, a.files, plural(a.files),
					 strchr(a.formats, ',') ? "s" : "", a.formats);
		}
	}
	state_close(st);
	return 0;
}

int cmd_check_config(int argc, char **argv)
{
	const char *path = NULL;
	struct config *cfg;

	if (!cli_config_args(argc, argv, 0, 0, &path))
		return cli_usage_error("check-config");
	cfg = cli_load_config(path);
	if (cfg == NULL)
		return EXIT_USAGE;
	if (check_state(cfg) != 0) {
		config_unref(cfg);
		return cli_finish_output(EXIT_FAIL);
	}
	printf("%s: ok: %zu notifier%s, %zu rule%s\n", cfg->path, cfg->n_notifiers,
	       plural(cfg->n_notifiers), cfg->n_rules, plural(cfg->n_rules));
	config_unref(cfg);
	return cli_finish_output(EXIT_OK);
}

/* ---- The folder's digests ---- */

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cli_inbox(const struct config *cfg, struct cli_files *out)
{
	DIR *dir = opendir(cfg->watch.dir);
	const struct dirent *e;
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	if (dir == NULL) {
		log_error("%s: cannot read the folder: %s", cfg->watch.dir, strerror(errno));
		return -1;
	}
	for (e = readdir(dir); e != NULL; e = readdir(dir)) {
		struct stat st;

		if (!watch_name_wanted(&cfg->watch, e->d_name) ||
		    fstatat(dirfd(dir), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
			continue;
		out->paths = xgrow(out->paths, &cap, out->n + 1, sizeof(*out->paths));
		out->paths[out->n++] = xasprintf("%s/%s", cfg->watch.dir, e->d_name);
	}
	closedir(dir);
	if (out->n > 0)
		qsort(out->paths, out->n, sizeof(*out->paths), compare_names);
	return 0;
}

void cli_files_free(struct cli_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->paths[i]);
	free(f->paths);
	memset(f, 0, sizeof(*f));
}

/* ---- match ---- */

/* One distinct piece of text a rule's terms hit in a paper, how often and in which fields. */
struct hit_word {
	const char *s;
	size_t len, count;
	unsigned fields; /* 1 << enum match_field */
};

/* A line of JSON being written by hand, for `match --json`. jansson's objects, and its dump,
 * which checks every object and array for a loop, cost several times what matching the paper
 * does, for a line whose shape is fixed. Strings are written as jansson writes them (short
 * escapes, \u00XX for other control characters, UTF-8 as it is), and one that is not valid
 * UTF-8 is left out, as jansson leaves out what it cannot make a string of. */
struct jline {
	char *s;
	size_t n, cap;
};

static void jl_raw(struct jline *j, const char *s, size_t n)
{
	if (n == 0)
		return;
	j->s = xgrow(j->s, &j->cap, j->n + n + 1, 1);
	memcpy(j->s + j->n, s, n);
	j->n += n;
}

static void jl_lit(struct jline *j, const char *s)
{
	jl_raw(j, s, strlen(s));
}

/* Appends s[0..n) as a JSON string; false, with nothing appended, when it is not UTF-8. */
static bool jl_str(struct jline *j, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o;

	if (utf8_valid_prefix(s, n) != n)
		return false;
	j->s = xgrow(j->s, &j->cap, j->n + 6 * n + 3, 1);
	o = j->s + j->n;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = c == '"'    ? "\\\""
				: c == '\\' ? "\\\\"
				: c == '\b' ? "\\b"
				: c == '\f' ? "\\f"
				: c == '\n' ? "\\n"
				: c == '\r' ? "\\r"
				: c == '\t' ? "\\t"
					    : NULL;

		if (e != NULL) {
			*o++ = e[0];
			*o++ = e[1];
		} else if (c < 0x20) {
			*o++ = '\\';
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		} else {
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	j->n = (size_t)(o - j->s);
	return true;
}

/* Appends "key": and s as a JSON string, or nothing when s is NULL or not UTF-8; a comma first
 * when *n says something came before, and *n counts it. */
static void jl_member(struct jline *j, size_t *n, const char *key, const char *s, size_t len)
{
	size_t at = j->n;

	if (s == NULL)
		return;
	jl_lit(j, *n ? ",\"" : "\"");
	jl_lit(j, key);
	jl_lit(j, "\":");
	if (!jl_str(j, s, len)) {
		j->n = at;
		return;
	}
	(*n)++;
}

struct match_cmd {
	struct matcher *matcher;
	const char *const *names; /* rule names by index */
	const bool *only;         /* the rules shown (--rule), by index; NULL for all */
	bool json;
	struct state *st;   /* what was alerted before; NULL when there is no state */
	struct config *cfg; /* for the libraries of like: rules; NULL with --query */
	const char *file;   /* the digest being read, and whether its name has been printed */
	bool file_shown, paper_shown;
	const struct paper *paper;
	char *key; /* the paper's identity in the state */
	size_t papers, matched, files_matched;
	struct jline rules, hits, alerted, likes, line; /* --json: the parts of a paper's line */
	size_t n_rules, n_hits, n_alerted, n_likes;     /* the entries of each so far */
	size_t title_len, abstract_len, id_len;         /* of the paper, for its hits */
	struct hit_word *words;
	size_t cap_words;
};

/* The paper's text a hit covers; NULL when it is out of range. */
static const char *hit_span(const struct paper *p, const struct match_hit *h, size_t *len)
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
		return NULL;
	*len = h->end - h->start;
	return s + h->start;
}

/* The same, for a paper whose fields' lengths m has. */
static const char *hit_span_known(const struct match_cmd *m, const struct match_hit *h, size_t *len)
{
	const struct paper *p = m->paper;
	const char *s = NULL;
	size_t n = 0;

	switch (h->field) {
	case MATCH_TITLE:
		s = p->title;
		n = m->title_len;
		break;
	case MATCH_AUTHORS:
		s = h->author < p->n_authors ? p->authors[h->author] : NULL;
		n = s ? strlen(s) : 0;
		break;
	case MATCH_ABSTRACT:
		s = p->abstract;
		n = m->abstract_len;
		break;
	case MATCH_ID:
		s = p->id;
		n = m->id_len;
		break;
	}
	if (s == NULL || h->end > n || h->start > h->end)
		return NULL;
	*len = h->end - h->start;
	return s + h->start;
}

/* The notifiers the paper was already alerted to for rule, into buf ("" for none). */
static void alerted_to(struct match_cmd *m, unsigned rule, char *buf, size_t size)
{
	struct err err;

	buf[0] = '\0';
	if (m->st != NULL && state_alerted(m->st, m->key, m->names[rule], buf, size, &err) != 0) {
		log_warn("%s", err.msg);
		m->st = NULL; /* said once; the rest is shown without */
	}
}

/* Appends, after a comma when *n counts something before it, rule's name as a JSON string;
 * false when it is not UTF-8, and then nothing is appended. */
static bool json_name(struct match_cmd *m, struct jline *j, size_t *n, unsigned rule)
{
	const char *name = m->names[rule];
	size_t at = j->n;

	if (*n)
		jl_lit(j, ",");
	if (!jl_str(j, name, strlen(name))) {
		j->n = at;
		return false;
	}
	(*n)++;
	return true;
}

/* A like: rule's score and why, under its name in "likes": {"score", "why"}. */
static void json_like(struct match_cmd *m, unsigned rule)
{
	char num[32], *why;
	double score;

	if (m->cfg == NULL || m->cfg->n_libraries == 0)
		return;
	why = config_like_explain(m->cfg, rule, m->paper, &score);
	if (why != NULL && json_name(m, &m->likes, &m->n_likes, rule)) {
		snprintf(num, sizeof(num), ":{\"score\":%.6g,\"why\":", score);
		jl_lit(&m->likes, num);
		if (!jl_str(&m->likes, why, strlen(why)))
			jl_lit(&m->likes, "null");
		jl_lit(&m->likes, "}");
	}
	free(why);
}

/* The rule and its hits in the paper's line: its name in "rules", its hits under its name in
 * "hits", each {"term", "field", "text"}, and its name in "alerted" when it was. */
static void json_rule(struct match_cmd *m, unsigned rule, const struct match_hit *hits,
		      size_t n_hits)
{
	char who[256];

	json_name(m, &m->rules, &m->n_rules, rule);
	if (json_name(m, &m->hits, &m->n_hits, rule)) {
		jl_lit(&m->hits, ":[");
		for (size_t i = 0; i < n_hits; i++) {
			const char *term = matcher_term_text(m->matcher, rule, hits[i].term);
			const char *field = match_field_name(hits[i].field);
			size_t len = 0, k = 0;
			const char *t = hit_span_known(m, &hits[i], &len);

			jl_lit(&m->hits, i ? ",{" : "{");
			jl_member(&m->hits, &k, "term", term, term ? strlen(term) : 0);
			jl_member(&m->hits, &k, "field", field, strlen(field));
			if (t != NULL)
				jl_member(&m->hits, &k, "text", t, len);
			else
				jl_lit(&m->hits, k ? ",\"text\":null" : "\"text\":null");
			jl_lit(&m->hits, "}");
		}
		jl_lit(&m->hits, "]");
	}
	alerted_to(m, rule, who, sizeof(who));
	if (who[0] != '\0')
		json_name(m, &m->alerted, &m->n_alerted, rule);
	json_like(m, rule);
}

/* The hits' distinct texts (compared without case), in the order they first come. */
static size_t distinct_words(struct match_cmd *m, const struct match_hit *hits, size_t n_hits)
{
	size_t n = 0;

	for (size_t i = 0; i < n_hits; i++) {
		size_t len = 0, k;
		const char *t = hit_span(m->paper, &hits[i], &len);

		if (t == NULL)
			continue;
		for (k = 0; k < n; k++) {
			if (m->words[k].len == len && strncasecmp(m->words[k].s, t, len) == 0)
				break;
		}
		if (k == n) {
			m->words = xgrow(m->words, &m->cap_words, n + 1, sizeof(*m->words));
			m->words[n++] = (struct hit_word){t, len, 0, 0};
		}
		m->words[k].count++;
		m->words[k].fields |= 1u << hits[i].field;
	}
	return n;
}

/* Prints text with every control byte (a tab, a line break, an escape) shown as a space. */
static void print_clean(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		putchar((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i]);
}

static void human_rule(struct match_cmd *m, unsigned rule, const struct match_hit *hits,
		       size_t n_hits)
{
	size_t n = distinct_words(m, hits, n_hits);
	char who[256], *why;
	double score;

	if (!m->file_shown) {
		printf("%s%s\n", m->files_matched ? "\n" : "", m->file);
		m->file_shown = true;
		m->files_matched++;
	}
	if (!m->paper_shown) {
		printf("  ");
		print_clean(m->paper->title, strlen(m->paper->title));
		printf(m->paper->id ? "  [%s]\n" : "\n", m->paper->id);
		m->paper_shown = true;
	}
	printf("    %s:", m->names[rule]);
	for (size_t i = 0; i < n; i++) {
		const struct hit_word *w = &m->words[i];
		const char *sep = " (";

		printf("%s \"", i ? ";" : "");
		print_clean(w->s, w->len);
		printf("\"");
		if (w->count > 1)
			printf(" %zu×", w->count);
		for (int f = MATCH_TITLE; f <= MATCH_ID; f++) {
			if (w->fields & (1u << f)) {
				printf("%s%s", sep, match_field_name((enum match_field)f));
				sep = ", ";
			}
		}
		printf(")");
	}
	why = m->cfg && m->cfg->n_libraries ? config_like_explain(m->cfg, rule, m->paper, &score)
					    : NULL;
	if (why != NULL) {
		printf("%s ", n ? ";" : "");
		print_clean(why, strlen(why));
	} else if (n == 0) {
		printf(" (no word: the query holds by what the paper lacks)");
	}
	free(why);
	alerted_to(m, rule, who, sizeof(who));
	if (who[0] != '\0')
		printf(" — already alerted (%s)\n", who);
	else
		printf(" — new\n");
}

static void on_match(void *ctx, unsigned rule, const struct match_hit *hits, size_t n_hits)
{
	struct match_cmd *m = ctx;

	if (m->only != NULL && !m->only[rule])
		return;
	if (m->json)
		json_rule(m, rule, hits, n_hits);
	else
		human_rule(m, rule, hits, n_hits);
}

/* Prints the paper's line: {"id", "title", "source", "rules", "hits", "alerted"}. */
static void json_line(struct match_cmd *m)
{
	struct jline *j = &m->line;
	const struct paper *p = m->paper;
	size_t k = 0;

	m->matched++;
	j->n = 0;
	jl_lit(j, "{");
	if (p->id != NULL) {
		jl_member(j, &k, "id", p->id, m->id_len);
	} else {
		jl_lit(j, "\"id\":null");
		k++;
	}
	jl_member(j, &k, "title", p->title, m->title_len);
	jl_member(j, &k, "source", m->file, strlen(m->file));
	jl_lit(j, k ? ",\"rules\":[" : "\"rules\":[");
	jl_raw(j, m->rules.s, m->rules.n);
	jl_lit(j, "],\"hits\":{");
	jl_raw(j, m->hits.s, m->hits.n);
	jl_lit(j, "},\"alerted\":[");
	jl_raw(j, m->alerted.s, m->alerted.n);
	if (m->cfg != NULL && m->cfg->n_libraries > 0) {
		jl_lit(j, "],\"likes\":{");
		jl_raw(j, m->likes.s, m->likes.n);
		jl_lit(j, "}}\n");
	} else {
		jl_lit(j, "]}\n");
	}
	(void)fwrite(j->s, 1, j->n, stdout); /* a failure shows in ferror(), at the end */
}

/* The parser's callback for `match`: shows the paper if a rule matched, with why. */
static void match_paper(void *ctx, const struct paper *p)
{
	struct match_cmd *m = ctx;

	m->paper = p;
	m->paper_shown = false;
	m->key = m->st ? pipeline_paper_key(p) : NULL;
	m->papers++;
	if (m->json) {
		m->rules.n = m->hits.n = m->alerted.n = m->likes.n = 0;
		m->n_rules = m->n_hits = m->n_alerted = m->n_likes = 0;
		m->title_len = p->title ? strlen(p->title) : 0;
		m->abstract_len = p->abstract ? strlen(p->abstract) : 0;
		m->id_len = p->id ? strlen(p->id) : 0;
	}
	if (m->cfg != NULL && m->cfg->n_libraries > 0)
		config_like_begin(m->cfg, p);
	matcher_match(m->matcher, p, true, on_match, m);
	free(m->key);
	m->key = NULL;
	if (!m->json) {
		m->matched += m->paper_shown;
		return;
	}
	if (m->n_rules > 0)
		json_line(m);
}

/* Reads every file through the matcher; returns the exit status. folder: the one the files
 * must be in, as the daemon reads them, or NULL. */
static int match_files(struct match_cmd *m, size_t max_size, const char *folder, size_t n,
		       char *const *files)
{
	struct parse_opts opts = {
		.max_size = max_size, .emit = match_paper, .ctx = m, .folder = folder};
	int status = EXIT_OK;

	for (size_t i = 0; i < n; i++) {
		struct parse_result res;
		struct err err;

		m->file = files[i];
		m->file_shown = false;
		if (parse_file(files[i], &opts, &res, &err) != 0) {
			log_error("%s", err.msg);
			status = EXIT_FAIL;
		}
	}
	if (!m->json)
		printf("%s%zu of %zu paper%s matched, in %zu of %zu file%s\n",
		       m->matched ? "\n" : "", m->matched, m->papers, plural(m->papers),
		       m->files_matched, n, plural(n));
	free(m->words);
	free(m->rules.s);
	free(m->hits.s);
	free(m->alerted.s);
	free(m->likes.s);
	free(m->line.s);
	return cli_finish_output(status);
}

/* Whether every like:NAME of the query names a library; says each that does not. Without a
 * configuration there is none, so a like: term is refused as a rule's would be. */
static bool query_likes_known(const struct matcher *matcher)
{
	const char *name;
	struct err err;
	bool known = true;

	for (size_t i = 0; (name = matcher_like_name(matcher, 0, i)) != NULL; i++) {
		if (config_library_check(NULL, name, &err) != 0) {
			log_error("query: %s", err.msg);
			known = false;
		}
	}
	return known;
}

/* `match --query Q`: one rule, no configuration at all. */
static int match_query(struct match_cmd *m, const char *query, size_t n, char *const *files)
{
	static const char *const names[] = {"query"};
	struct query_error qe;
	int status;

	m->names = names;
	m->matcher = matcher_new();
	if (matcher_add(m->matcher, query, &qe) < 0) {
		log_error("query column %u: %s", qe.column, qe.msg);
		matcher_free(m->matcher);
		return EXIT_USAGE;
	}
	if (qe.warning[0] != '\0')
		log_warn("query column %u: %s", qe.warning_column, qe.warning);
	if (!query_likes_known(m->matcher)) {
		matcher_free(m->matcher);
		return EXIT_USAGE;
	}
	matcher_compile(m->matcher);
	status = match_files(m, PARSE_MAX_SIZE_DEFAULT, NULL, n, files);
	matcher_free(m->matcher);
	return status;
}

/* Opens the configuration's state, if there is one, to say what was alerted already. */
static struct state *open_for_reading(const struct config *cfg)
{
	struct state *st = NULL;
	struct err err;

	if (!cli_state_exists(cfg))
		return NULL;
	if (cli_state_open(cfg, false, &st, &err) != 0) {
		log_warn("%s; what was already alerted is not shown", err.msg);
		return NULL;
	}
	return st;
}

/* `match` with the configuration's rules (those of --rule only, when given). */
static int match_config(struct match_cmd *m, const char *path, char **rules, size_t n_rules,
			size_t n, char *const *files)
{
	struct config *cfg = cli_load_rules(path);
	struct cli_files inbox = {0};
	const char **names;
	bool *only = NULL;
	int status = EXIT_USAGE;

	if (cfg == NULL)
		return EXIT_USAGE;
	names = xcalloc(cfg->n_rules + 1, sizeof(*names));
	for (size_t i = 0; i < cfg->n_rules; i++)
		names[i] = cfg->rules[i].name;
	if (n_rules > 0)
		only = xcalloc(cfg->n_rules + 1, sizeof(*only));
	for (size_t i = 0; i < n_rules; i++) {
		int k = config_rule_index(cfg, rules[i]);

		if (k < 0) {
			log_error("%s: no rule named \"%s\"", cfg->path, rules[i]);
			goto out;
		}
		only[k] = true;
	}
	if (n == 0) {
		if (cli_inbox(cfg, &inbox) != 0) {
			status = EXIT_FAIL;
			goto out;
		}
		n = inbox.n;
		files = inbox.paths;
	}
	m->matcher = cfg->matcher;
	m->cfg = cfg;
	m->names = names;
	m->only = only;
	m->st = open_for_reading(cfg);
	if (m->st != NULL && cfg->keeps_papers) {
		struct err err;
		size_t filled;

		/* The papers of lists of ids, as the daemon knows them. */
		if (config_libraries_fill(cfg, m->st, &filled, &err) != 0)
			log_warn("%s", err.msg);
	}
	status =
		match_files(m, cfg->watch.max_file_size, inbox.n ? cfg->watch.dir : NULL, n, files);
	state_close(m->st);
out:
	cli_files_free(&inbox);
	free(only);
	free(names);
	config_unref(cfg);
	return status;
}

int cmd_match(int argc, char **argv)
{
	static const struct option options[] = {
		{"rule", required_argument, NULL, 'r'},
		{"query", required_argument, NULL, 'q'},
		{"json", no_argument, NULL, 'j'},
		{"like", required_argument, NULL, 'l'},
		{"min-score", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL, *query = NULL, *like = NULL;
	double min_score = CONFIG_MIN_SCORE_DEFAULT;
	bool min_given = false;
	char *end;
	struct match_cmd m = {0};
	char **rules = xcalloc((size_t)argc + 1, sizeof(*rules));
	size_t n_rules = 0;
	int c, status = EXIT_USAGE;

	while ((c = getopt_long(argc, argv, "c:r:q:jl:s:", options, NULL)) != -1) {
		if (c == 'c')
			path = optarg;
		else if (c == 'r')
			rules[n_rules++] = optarg;
		else if (c == 'q')
			query = optarg;
		else if (c == 'j')
			m.json = true;
		else if (c == 'l')
			like = optarg;
		else if (c == 's') {
			min_score = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(min_score >= 0 && min_score <= 1)) {
				log_error("--min-score takes a number from 0 to 1, not \"%s\"",
					  optarg);
				goto usage;
			}
			min_given = true;
		} else
			goto usage;
	}
	if (query != NULL && (path != NULL || n_rules > 0 || optind == argc))
		goto usage;
	if ((like != NULL && (query != NULL || path != NULL || n_rules > 0 || optind == argc)) ||
	    (min_given && like == NULL))
		goto usage;
	if (like != NULL)
		status = cli_match_like(like, min_score, m.json, (size_t)(argc - optind),
					argv + optind);
	else if (query != NULL)
		status = match_query(&m, query, (size_t)(argc - optind), argv + optind);
	else
		status = match_config(&m, path, rules, n_rules, (size_t)(argc - optind),
				      argv + optind);
	free(rules);
	return status;
usage:
	free(rules);
	return cli_usage_error("match");
}
