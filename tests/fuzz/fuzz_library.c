/*
 * fuzz_library.c — libFuzzer target for the library reader. Any bytes must read without a crash,
 * a leak or undefined behaviour, as BibTeX, CSL JSON or an ids list; every entry kept must have
 * a title or an id, valid UTF-8, a field no longer than the bound, and a line inside the input.
 * The entries are then indexed and a paper scored against them: a score in [0, 1].
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/library.h"
#include "match/like.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned lines_in;

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void on_warn(void *ctx, const char *file, unsigned line, const char *reason)
{
	(void)ctx;
	check(file != NULL && reason[0] != '\0' && line <= lines_in);
}

static void check_text(const char *s)
{
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	check(n > 0 && n <= LIBRARY_MAX_FIELD && utf8_valid_prefix(s, n) == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct paper p = {
		.title = "Diffusion policies for robot control",
		.abstract = "We learn visuomotor policies with diffusion models and tool use.",
	};
	struct library_file f;
	struct like *lk;
	double s;

	lines_in = 1;
	for (size_t i = 0; i < size; i++)
		lines_in += data[i] == '\n';
	library_read("fuzz.bib", (const char *)data, size, &f, on_warn, NULL);
	for (size_t i = 0; i < f.n; i++) {
		const struct library_entry *e = &f.v[i];

		check(e->title != NULL || e->id != NULL);
		check(e->line >= 1 && e->line <= lines_in);
		check_text(e->title);
		check_text(e->abstract);
		check_text(e->authors);
	}
	lk = like_new(&f);
	like_observe(lk, &p);
	s = like_score(lk, &p, NULL);
	check(s >= 0 && s <= 1);
	like_free(lk);
	library_file_free(&f);
	return 0;
}
