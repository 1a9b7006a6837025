/*
 * outbox.h — delivering the queued messages. Each notifier is a queue in the state database,
 * sent oldest first, one message in flight at a time, through libcurl's multi interface on the
 * event loop: a slow or dead endpoint never delays another. Every attempt's outcome is recorded
 * before the queue moves on, so a kill at any moment loses nothing.
 */
#ifndef PW_OUTBOX_H
#define PW_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"
#include "loop.h"
#include "state.h"

struct outbox;

/* What this process delivered so far. */
struct outbox_stats {
	size_t delivered, retried, failed; /* attempts by outcome */
	size_t papers;                     /* papers in the delivered messages */
};

int outbox_new(struct loop *l, struct state *s, struct config *cfg, struct outbox **out,
	       struct err *err);
/* Stops at once: sends in flight are abandoned and stay queued. */
void outbox_free(struct outbox *o);

/* From now on a configuration fault (a certificate not trusted, an unknown host) fails a message
 * at its first attempt instead of being retried: for `test-notify`, which answers at once. */
void outbox_fail_fast(struct outbox *o);

/* Writes now the deliveries known in memory only (webhooks' are written within a second, a
 * burst's in one commit): before counting what is pending, or stopping. */
void outbox_flush(struct outbox *o);

/* Uses a new configuration from now on (a reload); sends in flight finish with the old one. */
void outbox_set_config(struct outbox *o, struct config *cfg);
/* Looks at every queue again: call after queueing messages. */
void outbox_kick(struct outbox *o);
/* Starts no new sends from now on; those in flight may finish. */
void outbox_drain(struct outbox *o);

/* Sends in flight. */
size_t outbox_in_flight(const struct outbox *o);
/* When the outbox next has something to do (a loop_now() time), or -1 when no queue holds a
 * pending message. A queue whose endpoint asked for a pause counts from the pause's end. */
double outbox_next_activity(const struct outbox *o);
const struct outbox_stats *outbox_stats(const struct outbox *o);
/* Calls fn after each attempt's outcome is recorded and counted in the stats. */
void outbox_on_change(struct outbox *o, void (*fn)(void *ctx), void *ctx);

#endif
