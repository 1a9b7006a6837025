/*
 * digest.c — a growing list of copied papers, for the tests.
 */
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "xmalloc.h"

void digest_init(struct digest *d)
{
	memset(d, 0, sizeof(*d));
	arena_init(&d->arena);
}

void digest_free(struct digest *d)
{
	if (d == NULL)
		return;
	free(d->papers);
	arena_free(&d->arena);
	memset(d, 0, sizeof(*d));
}

void digest_collect(void *ctx, const struct paper *p)
{
	struct digest *d = ctx;

	d->papers = xgrow(d->papers, &d->cap_papers, d->n_papers + 1, sizeof(*d->papers));
	paper_copy(&d->arena, &d->papers[d->n_papers++], p);
}
