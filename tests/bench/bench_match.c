/*
 * bench_match.c — times the matcher: the rules of a file (one query a line) compiled together,
 * and the papers of the sample digests, replicated, matched against them on one core. Prints one
 * JSON object; tests/bench/run.py puts the figures for several rule counts side by side.
 *
 * usage: bench_match RULES PAPERS DIGEST...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/digest.h"
#include "log.h"
#include "timing.h"
#include "match/match.h"
#include "parse/parse.h"
#include "xmalloc.h"

#define RUNS 3

/* Counts the hits handed out, so that explaining cannot be optimised away. */
static void count_hits(void *ctx, unsigned rule, const struct match_hit *hits, size_t n)
{
	(void)rule;
	(void)hits;
	*(size_t *)ctx += n;
}

/* Reads the rules of path into m; returns how many. */
static size_t load_rules(struct matcher *m, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	size_t n = 0;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct query_error qe;

		line[strcspn(line, "\n")] = '\0';
		if (matcher_add(m, line, &qe) < 0) {
			fprintf(stderr, "%s: rule \"%s\": column %u: %s\n", path, line, qe.column,
				qe.msg);
			exit(1);
		}
		n++;
	}
	(void)fclose(f);
	return n;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* The median number of rules a paper matches, over the distinct papers. */
static size_t median_matches(struct matcher *m, const struct paper *papers, size_t n)
{
	size_t *counts = xcalloc(n + 1, sizeof(*counts)), median;

	for (size_t i = 0; i < n; i++)
		counts[i] = matcher_match(m, &papers[i], false, NULL, NULL);
	qsort(counts, n, sizeof(*counts), cmp_size);
	median = n > 0 ? counts[n / 2] : 0;
	free(counts);
	return median;
}

/* Matches the papers once; returns the seconds taken and adds up matches and hits. */
static double pass(struct matcher *m, const struct paper *const *papers, size_t n, bool explain,
		   size_t *matches, size_t *hits)
{
	double start = bench_cpu_now();

	*matches = *hits = 0;
	for (size_t i = 0; i < n; i++)
		*matches += matcher_match(m, papers[i], explain, count_hits, hits);
	return bench_cpu_now() - start;
}

int main(int argc, char **argv)
{
	struct matcher *m = matcher_new();
	struct digest d;
	struct parse_opts opts = {.emit = digest_collect, .ctx = &d};
	const struct paper **papers;
	size_t n_rules, n_papers, matches = 0, hits = 0, median;
	double t[RUNS], te[RUNS], compile;

	if (argc < 4) {
		fprintf(stderr, "usage: bench_match RULES PAPERS DIGEST...\n");
		return 2;
	}
	log_setup(LOG_STYLE_PLAIN, LOG_PRIO_ERR);
	n_rules = load_rules(m, argv[1]);
	n_papers = strtoul(argv[2], NULL, 10);
	digest_init(&d);
	for (int i = 3; i < argc; i++) {
		struct parse_result res;
		struct err err;

		if (parse_file(argv[i], &opts, &res, &err) != 0) {
			fprintf(stderr, "bench_match: %s\n", err.msg);
			return 1;
		}
	}
	/* The samples replicated: the same strings again, as a day of many digests would be. */
	papers = xcalloc(n_papers, sizeof(const struct paper *));
	for (size_t i = 0; i < n_papers; i++)
		papers[i] = &d.papers[i % d.n_papers];
	compile = bench_cpu_now();
	matcher_compile(m);
	compile = bench_cpu_now() - compile;
	median = median_matches(m, d.papers, d.n_papers);
	pass(m, papers, n_papers, false, &matches, &hits);
	for (int r = 0; r < RUNS; r++) {
		t[r] = pass(m, papers, n_papers, false, &matches, &hits);
		te[r] = pass(m, papers, n_papers, true, &matches, &hits);
	}
	bench_sort(t, RUNS);
	bench_sort(te, RUNS);
	printf("{\"rules\":%zu,\"papers\":%zu,\"compile_s\":%.6f,\"median_s\":%.6f,"
	       "\"best_s\":%.6f,\"explain_median_s\":%.6f,\"matches_per_paper\":%.2f,"
	       "\"matches_median\":%zu,\"hits_per_paper\":%.2f}\n",
	       n_rules, n_papers, compile, t[RUNS / 2], t[0], te[RUNS / 2],
	       (double)matches / (double)n_papers, median, (double)hits / (double)n_papers);
	free(papers);
	digest_free(&d);
	matcher_free(m);
	return 0;
}
