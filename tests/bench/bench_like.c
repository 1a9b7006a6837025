/*
 * bench_like.c — times and weighs like: on the papers of the given digests. Prints one JSON
 * object; tests/bench/run.py (section "like") runs it.
 *
 *   bench_like speed LIBRARY PAPERS DIGEST...   LIBRARY papers (those with abstracts first) as
 *       the library, PAPERS papers scored against it, drawn round from the papers with an
 *       abstract that are not in it; CPU time of one core
 *   bench_like write ENTRIES FILE DIGEST...     writes a BibTeX file of ENTRIES entries, every
 *       one with an abstract, to FILE
 *   bench_like load FILE                        reads and indexes it, in a process that has done
 *       nothing else: the time, the heap the index keeps, and how far the process grew at its
 *       peak
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/digest.h"
#include "log.h"
#include "timing.h"
#include "match/like.h"
#include "parse/parse.h"
#include "xmalloc.h"

#define RUNS 3

/* The papers of the digests, each id once, those with an abstract first. */
static size_t gather(int n, char **files, struct digest *d, const struct paper ***out)
{
	struct parse_opts opts = {.max_size = (size_t)1 << 30, .emit = digest_collect, .ctx = d};
	const struct paper **v;
	size_t k = 0;

	for (int i = 0; i < n; i++) {
		struct parse_result res;
		struct err err;

		if (parse_file(files[i], &opts, &res, &err) != 0)
			log_warn("%s", err.msg);
	}
	v = xcalloc(d->n_papers + 1, sizeof(const struct paper *));
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < d->n_papers; i++) {
			const struct paper *p = &d->papers[i];
			bool dup = false;

			if ((p->abstract != NULL) != (pass == 0))
				continue;
			/* Digests repeat papers; a quadratic check is fine for a benchmark's setup,
			 * but only over ids, which are short. */
			for (size_t j = 0; p->id != NULL && j < k && !dup; j++)
				dup = v[j]->id != NULL && strcmp(v[j]->id, p->id) == 0;
			if (!dup)
				v[k++] = p;
		}
	}
	*out = v;
	return k;
}

static struct library_file library_of(const struct paper **v, size_t n)
{
	struct library_file f = {0};

	arena_init(&f.arena);
	f.v = xcalloc(n + 1, sizeof(*f.v));
	for (size_t i = 0; i < n; i++)
		f.v[f.n++] = (struct library_entry){.title = v[i]->title,
						    .abstract = v[i]->abstract,
						    .id = v[i]->id,
						    .line = 1};
	return f;
}

static int speed(size_t n_lib, size_t n_papers, int n, char **files)
{
	struct digest d;
	const struct paper **v;
	size_t all, with_abstract = 0, n_pool;
	struct library_file f;
	struct like *lk;
	double t[RUNS], sum = 0;

	digest_init(&d);
	all = gather(n, files, &d, &v);
	while (with_abstract < all && v[with_abstract]->abstract != NULL)
		with_abstract++;
	/* The papers scored are never in the library: those with an abstract it left out. */
	if (n_lib >= all || with_abstract == 0 || n_papers == 0) {
		fprintf(stderr, "bench_like: %zu papers, too few for a library of %zu\n", all,
			n_lib);
		return 1;
	}
	n_pool = with_abstract > 1000 ? 1000 : with_abstract / 3;
	if (n_pool == 0) {
		fprintf(stderr, "bench_like: too few papers with an abstract to score\n");
		return 1;
	}
	f = library_of(v + n_pool, n_lib);
	lk = like_new(&f);
	for (size_t i = 0; i < n_pool; i++)
		like_observe(lk, v[i]);
	for (int r = 0; r < RUNS; r++) {
		double t0 = bench_cpu_now();

		for (size_t i = 0; i < n_papers; i++)
			sum += like_score(lk, v[i % n_pool], NULL);
		t[r] = bench_cpu_now() - t0;
	}
	bench_sort(t, RUNS);
	printf("{\"library\": %zu, \"library_with_abstract\": %zu, \"papers\": %zu, "
	       "\"distinct_papers\": %zu, \"median_s\": %.6f, \"papers_per_s\": %.0f, "
	       "\"us_per_paper\": %.3f, \"index_bytes\": %zu, \"mean_score\": %.4f}\n",
	       like_size(lk), n_lib < with_abstract - n_pool ? n_lib : with_abstract - n_pool,
	       n_papers, n_pool, t[RUNS / 2], (double)n_papers / t[RUNS / 2],
	       t[RUNS / 2] / (double)n_papers * 1e6, like_bytes(lk),
	       sum / (double)(RUNS * n_papers));
	like_free(lk);
	free(f.v);
	arena_free(&f.arena);
	free(v);
	digest_free(&d);
	return 0;
}

/* Writes s into a BibTeX value: braces made parentheses, so every value closes. */
static void bib_value(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc(*s == '{' ? '(' : *s == '}' ? ')' : *s == '\\' ? ' ' : *s, out);
}

/* The process's resident memory now (VmRSS) or at its peak (VmHWM), in KiB. */
static long status_kib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key), NULL, 10);
	}
	if (f != NULL)
		(void)fclose(f);
	return v;
}

static int write_bib(size_t entries, const char *path, int n, char **files)
{
	struct digest d;
	const struct paper **v;
	size_t all, with_abstract = 0;
	FILE *out;

	digest_init(&d);
	all = gather(n, files, &d, &v);
	while (with_abstract < all && v[with_abstract]->abstract != NULL)
		with_abstract++;
	out = fopen(path, "w");
	if (out == NULL || with_abstract == 0)
		return 1;
	/* Each entry a title of the digests and an abstract, as a Zotero export has them. */
	for (size_t i = 0; i < entries; i++) {
		fprintf(out, "@article{key%zu,\n  title = {{", i);
		bib_value(out, v[i % all]->title);
		fprintf(out, "}},\n  author = {Doe, Jane and M{\\\"u}ller, J{\\\"u}rgen},\n"
			     "  abstract = {");
		bib_value(out, v[i % with_abstract]->abstract);
		fprintf(out, "},\n  year = {2024},\n  eprint = {%s},\n}\n",
			v[i % all]->id ? v[i % all]->id : "none");
	}
	free(v);
	digest_free(&d);
	return fclose(out) == 0 ? 0 : 1;
}

static int load(const char *path)
{
	size_t heap0, heap1;
	struct library_file f;
	struct like *lk;
	struct err err;
	double w0, c0, wall, cpu;
	long rss0, rss1;

	heap0 = mallinfo2().uordblks;
	rss0 = status_kib("VmRSS:");
	w0 = bench_wall_now();
	c0 = bench_cpu_now();
	if (library_read_file(path, &f, NULL, NULL, &err) != 0) {
		fprintf(stderr, "bench_like: %s\n", err.msg);
		return 1;
	}
	lk = like_new(&f);
	wall = bench_wall_now() - w0;
	cpu = bench_cpu_now() - c0;
	library_file_free(&f);
	malloc_trim(0);
	heap1 = mallinfo2().uordblks;
	rss1 = status_kib("VmHWM:");
	printf("{\"entries\": %zu, \"indexed\": %zu, \"load_s\": %.4f, \"load_cpu_s\": %.4f, "
	       "\"index_heap_bytes\": %zu, \"peak_growth_bytes\": %ld, \"index_bytes\": %zu}\n",
	       like_size(lk), like_size(lk), wall, cpu, heap1 - heap0, (rss1 - rss0) * 1024,
	       like_bytes(lk));
	like_free(lk);
	return 0;
}

int main(int argc, char **argv)
{
	log_setup(LOG_STYLE_PLAIN, LOG_PRIO_ERR);
	if (argc >= 5 && strcmp(argv[1], "speed") == 0)
		return speed(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10), argc - 4,
			     argv + 4);
	if (argc >= 5 && strcmp(argv[1], "write") == 0)
		return write_bib(strtoull(argv[2], NULL, 10), argv[3], argc - 4, argv + 4);
	if (argc == 3 && strcmp(argv[1], "load") == 0)
		return load(argv[2]);
	fprintf(stderr, "usage: bench_like speed LIBRARY PAPERS DIGEST...\n"
			"       bench_like write ENTRIES FILE DIGEST...\n"
			"       bench_like load FILE\n");
	return 2;
}
