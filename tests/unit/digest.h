/*
 * digest.h — the papers of a digest gathered in memory, for the tests and benchmarks that want
 * them all at once. The parser itself hands papers out one at a time, and the daemon keeps only
 * those that match.
 */
#ifndef PW_DIGEST_H
#define PW_DIGEST_H

#include <stddef.h>

#include "arena.h"
#include "paper.h"

struct digest {
	struct paper *papers; /* deep copies, in the arena */
	size_t n_papers, cap_papers;
	struct arena arena;
};

void digest_init(struct digest *d);
void digest_free(struct digest *d);
/* Keeps a copy of p; it has the shape of a parser callback, its ctx the struct digest. */
void digest_collect(void *ctx, const struct paper *p);

#endif
