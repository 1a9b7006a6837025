/*
 * cadence.h — scheduled messages. For a notifier with a schedule the pipeline holds each new
 * alert in the state (cadence_encode); at each deadline cadence_run builds the period's one
 * message from what is held, most relevant first and grouped by rule, and queues it in the
 * transaction that lets the held alerts go. A deadline missed while the daemon was down is made
 * up when it runs again, once, and says it is late.
 */
#ifndef PW_CADENCE_H
#define PW_CADENCE_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "notify.h"
#include "state.h"

/* A period's message made this long after its deadline says it is late. */
#define CADENCE_LATE_MS (60 * 1000LL)
/* Missed deadlines counted for "covers N days", at most. */
#define CADENCE_PERIODS_MAX 1000

/* The held form of an alert (its paper, rules and hits): *len bytes the caller frees. */
char *cadence_encode(const struct alert *a, size_t *len);

/* What a run made. */
struct cadence_result {
	size_t messages, papers; /* queued, and the papers they hold */
};

/* Makes the message of every notifier whose deadline has come since its last one, each in a
 * transaction of its own; a notifier that holds alerts but has no schedule any more (the file
 * changed) sends them now. *next_ms is the next deadline of any notifier, -1 when none has a
 * schedule. A notifier that fails is logged and left for the next run; -1 when any did. */
int cadence_run(struct config *cfg, struct state *st, long long now_ms, struct cadence_result *res,
		long long *next_ms);

#endif
