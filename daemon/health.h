/*
 * health.h — the daemon's health checks on its input: digests that stop coming (quiet), that
 * hold far fewer papers than usual (small), that repeat an earlier digest (stale), that were
 * read only partly (partial). Each condition is said once when it starts and once when it
 * clears, in the log and as a notice to health.notify, and remembered in the state.
 */
#ifndef PW_HEALTH_H
#define PW_HEALTH_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "loop.h"
#include "pipeline.h"
#include "state.h"

/* The latest digests whose median `status` shows and a small digest is measured against. */
#define HEALTH_MEDIAN_OF 7
/* Digests of a format read before the first is judged small or not. */
#define HEALTH_SMALL_AFTER 3

struct health;

/* Told that conditions started or cleared, and how many messages that queued (in a transaction
 * of the state's, which may be a group's savepoint): the owner sends them once they are
 * committed, and updates its status line. */
typedef void (*health_changed_fn)(void *ctx, size_t messages);

/* Loads the conditions from the state and arms the quiet check's timer on l. */
int health_new(struct loop *l, struct state *st, const struct config *cfg, health_changed_fn fn,
	       void *ctx, struct health **out, struct err *err);
/* A new configuration (a reload): its patterns and notifiers from now on. */
void health_set_config(struct health *h, const struct config *cfg);
/* The wall clock was set (or the machine woke): the quiet deadlines are looked at again. */
void health_clock_set(struct health *h);
/* Judges a digest just recorded under name, as the pipeline read it. */
void health_digest(struct health *h, const char *name, const struct pipeline_result *r);
/* Reads the conditions again from the state, after it lost what the checks wrote (a group of
 * digests lost: they are read again, and judged again). */
int health_reload(struct health *h, struct err *err);
/* The conditions raised now, for the systemd status line: "quiet hf-*.md, small table", ""
 * for none. Returns how many there are. */
size_t health_summary(const struct health *h, char *out, size_t size);
/* NULL is a no-op. */
void health_free(struct health *h);

/* One line on the input's health from the state alone, for a message that has no papers to
 * show: "the latest digest, NAME, 212 papers at TIME; nothing looks wrong", or the conditions
 * raised instead of "nothing looks wrong". */
int health_line(struct state *st, char *out, size_t size, struct err *err);

/* The median of n counts (n > 0): the middle one, or the lower middle one of an even number.
 * Sorts v. */
size_t health_median(size_t *v, size_t n);

#endif
