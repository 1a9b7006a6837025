/*
 * cli_like.c — `paperwatch match --like FILE`: the papers of digests scored against a library
 * file, most similar first, with no configuration, for choosing a rule's min_score. Every
 * paper is counted into the IDF before any is scored (past the first hundred the IDF moves in
 * steps as they are counted, so the order of the files moves a score a little).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "match/like.h"
#include "parse/parse.h"
#include "utf8.h"
#include "xmalloc.h"

struct scored {
	struct paper paper;
	double score;
	size_t order;
};

struct dry_run {
	struct arena arena;
	struct scored *v;
	size_t n, cap;
};

static void keep_paper(void *ctx, const struct paper *p)
{
	struct dry_run *d = ctx;

	d->v = xgrow(d->v, &d->cap, d->n + 1, sizeof(*d->v));
	paper_copy(&d->arena, &d->v[d->n].paper, p);
	d->v[d->n].order = d->n;
	d->n++;
}

static int by_score(const void *a, const void *b)
{
	const struct scored *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void on_warn(void *ctx, const char *file, unsigned line, const char *reason)
{
	(void)ctx;
	log_warn("%s:%u: %s", file, line, reason);
}

/* Prints text with control characters made spaces. */
static void print_clean(const char *s)
{
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

static void print_json(const struct scored *s, const struct like_why *why)
{
	json_t *o = json_object(), *w = json_object(), *terms = json_array();
	char *line;

	for (size_t i = 0; i < why->n_terms; i++)
		json_array_append_new(terms, json_string(why->terms[i]));
	json_object_set_new(w, "terms", terms);
	json_object_set_new(w, "closest", why->closest ? json_string(why->closest) : json_null());
	json_object_set_new(w, "closest_similarity", json_real(why->closest_sim));
	json_object_set_new(o, "id", s->paper.id ? json_string(s->paper.id) : json_null());
	json_object_set_new(o, "title", json_string(s->paper.title));
	json_object_set_new(o, "source", json_string(s->paper.source));
	json_object_set_new(o, "score", json_real(s->score));
	json_object_set_new(o, "why", w);
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	if (line != NULL)
		puts(line);
	free(line);
	json_decref(o);
}

static void print_human(const struct scored *s, const struct like_why *why)
{
	printf("%.3f  ", s->score);
	print_clean(s->paper.title);
	printf(s->paper.id ? "  [%s]\n" : "\n", s->paper.id);
	printf("       %s", s->paper.source);
	if (why->closest != NULL) {
		printf("; closest \u201c");
		print_clean(why->closest);
		printf("\u201d (%.2f)", why->closest_sim);
	}
	for (size_t i = 0; i < why->n_terms; i++)
		printf("%s%s", i ? ", " : "; shared: ", why->terms[i]);
	printf("\n");
}

int cli_match_like(const char *library, double min_score, bool json, size_t n, char *const *files)
{
	struct parse_opts opts = {.max_size = PARSE_MAX_SIZE_DEFAULT, .emit = keep_paper};
	struct dry_run d = {0};
	struct library_file f;
	struct like *lk = NULL;
	size_t shown = 0;
	struct err err;
	int status = EXIT_OK;

	if (like_load(&err) != 0 || library_read_file(library, &f, on_warn, NULL, &err) != 0) {
		log_error("%s", err.msg);
		return EXIT_FAIL;
	}
	lk = like_new(&f);
	if (like_size(lk) == 0) {
		log_error("%s: no entry with a title or an abstract (%zu read as %s)", library, f.n,
			  library_format_name(f.format));
		status = EXIT_FAIL;
		goto out;
	}
	arena_init(&d.arena);
	opts.ctx = &d;
	for (size_t i = 0; i < n; i++) {
		struct parse_result res;

		if (parse_file(files[i], &opts, &res, &err) != 0) {
			log_error("%s", err.msg);
			status = EXIT_FAIL;
		}
	}
	for (size_t i = 0; i < d.n; i++)
		like_observe(lk, &d.v[i].paper);
	for (size_t i = 0; i < d.n; i++)
		d.v[i].score = like_score(lk, &d.v[i].paper, NULL);
	qsort(d.v, d.n, sizeof(*d.v), by_score);
	for (size_t i = 0; i < d.n && d.v[i].score >= min_score; i++) {
		struct like_why why;

		like_score(lk, &d.v[i].paper, &why);
		if (json)
			print_json(&d.v[i], &why);
		else
			print_human(&d.v[i], &why);
		shown++;
	}
	if (!json)
		printf("%s%zu of %zu paper%s scored %.2f or more against %zu of %s\n",
		       shown ? "\n" : "", shown, d.n, plural(d.n), min_score, like_size(lk),
		       library);
	free(d.v);
	arena_free(&d.arena);
	status = cli_finish_output(status);
out:
	like_free(lk);
	library_file_free(&f);
	return status;
}
