/*
 * libwatch.h — the configuration's library files, watched: when one is written or replaced,
 * it is read again and its index replaced, with no restart. A file that no longer reads leaves
 * the index it had.
 */
#ifndef PW_LIBWATCH_H
#define PW_LIBWATCH_H

#include "config.h"
#include "err.h"
#include "loop.h"
#include "state.h"

struct libwatch;

/* Watches the folders of cfg's library files (nothing when it has none), and gives the
 * libraries that list ids the text st kept of their papers, now and after each change. cfg
 * and st must outlive the watch. */
int libwatch_new(struct loop *l, struct config *cfg, struct state *st, struct libwatch **out,
		 struct err *err);

/* NULL is a no-op. */
void libwatch_free(struct libwatch *w);

#endif
