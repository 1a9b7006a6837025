/*
 * bench_parse.c — times the digest parser on whole files: read, detect, parse, as the daemon does.
 * Prints one JSON object per file; tests/bench/run.py puts the figures beside `wc -l`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "log.h"
#include "timing.h"
#include "parse/parse.h"

#define RUNS 7

static void count(void *ctx, const struct paper *p)
{
	(void)p;
	(*(size_t *)ctx)++;
}

int main(int argc, char **argv)
{
	log_setup(LOG_STYLE_PLAIN, LOG_PRIO_ERR);
	for (int i = 1; i < argc; i++) {
		double t[RUNS];
		size_t papers = 0, bytes = 0;
		const char *format = "";

		for (int r = 0; r < RUNS; r++) {
			struct parse_opts opts = {.max_size = (size_t)1 << 40, .emit = count};
			struct parse_result res;
			struct err err;
			double start = bench_wall_now();
			struct stat st;

			papers = 0;
			opts.ctx = &papers;
			if (parse_file(argv[i], &opts, &res, &err) != 0) {
				fprintf(stderr, "bench_parse: %s\n", err.msg);
				return 1;
			}
			t[r] = bench_wall_now() - start;
			format = res.format;
			if (stat(argv[i], &st) != 0) {
				perror(argv[i]);
				return 1;
			}
			bytes = (size_t)st.st_size;
		}
		bench_sort(t, RUNS);
		printf("{\"file\":\"%s\",\"format\":\"%s\",\"bytes\":%zu,\"papers\":%zu,"
		       "\"best_s\":%.6f,\"median_s\":%.6f}\n",
		       argv[i], format, bytes, papers, t[0], t[RUNS / 2]);
	}
	return 0;
}
