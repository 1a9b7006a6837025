/*
 * state.h — what paperwatch remembers, in one SQLite file: the digest files it processed, every
 * alert ever enqueued (one per paper, rule and notifier), and the outbox of messages to deliver.
 * Recording a digest's alerts and queueing their messages happen in one transaction, so a crash
 * loses nothing and repeats nothing.
 */
#ifndef PW_STATE_H
#define PW_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct state;

/* Opens (creating if need be) the state database; WAL, synchronous=FULL, a busy timeout. The
 * message of a failure says how to recover (a corrupt file is moved aside). */
int state_open(const char *path, struct state **out, struct err *err);
void state_close(struct state *s);

/* Commits go to a write-ahead log that a checkpoint copies back into the database, syncing it.
 * With a hook set, a commit that leaves the log long calls fn, and the caller checkpoints when
 * nothing is waiting (a log grown very long is checkpointed at once all the same); without one,
 * that commit checkpoints itself. Closing checkpoints what is left. */
typedef void (*state_wal_fn)(void *ctx);
void state_set_wal_hook(struct state *s, state_wal_fn fn, void *ctx);
int state_checkpoint(struct state *s, struct err *err);

/* ---- Digest files ---- */

/* How a digest file was when it was read: a file still like this need not be read again. */
struct file_stamp {
	uint64_t dev, ino;
	int64_t size, mtime_ns;
	char hash[65]; /* SHA-256 of the content, hex; "" when not known */
};

/* Whether the file called name was processed exactly as f describes it. */
int state_file_seen(struct state *s, const char *name, const struct file_stamp *f, bool *seen,
		    struct err *err);

/* The content hash recorded for the file called name; "" when none is. */
int state_file_hash(struct state *s, const char *name, char hash[65], struct err *err);

/* ---- The transaction that records a digest and queues its alerts ---- */

int state_begin(struct state *s, struct err *err);
/* Records that paper (its identity key) matched rule for notifier; *fresh is false when that was
 * recorded before, by any digest. batch names the messages that carry it. */
int state_alert_add(struct state *s, const char *paper, const char *rule, const char *notifier,
		    const char *batch, bool *fresh, struct err *err);
/* Queues one message for notifier. */
int state_outbox_add(struct state *s, const char *notifier, const char *key, const char *source,
		     const char *body, size_t len, size_t n_papers, long long now_ms,
		     struct err *err);
/* Records the file as processed. */
int state_file_done(struct state *s, const char *name, const struct file_stamp *f, size_t papers,
		    long long now_ms, struct err *err);
int state_commit(struct state *s, struct err *err);
void state_rollback(struct state *s);

/* ---- The outbox ---- */

struct outbox_item {
	int64_t id;
	char *key;
	char *body;
	size_t len;
	size_t n_papers;
	int attempts;
	long long created_ms, next_ms;
};

void outbox_item_free(struct outbox_item *it);

/* The oldest pending message of notifier, due or not; *found is false when none is pending. */
int state_outbox_head(struct state *s, const char *notifier, struct outbox_item *it, bool *found,
		      struct err *err);
int state_outbox_delivered(struct state *s, int64_t id, long long now_ms, struct err *err);
int state_outbox_retry(struct state *s, int64_t id, long long next_ms, const char *detail,
		       struct err *err);
int state_outbox_failed(struct state *s, int64_t id, long long now_ms, const char *detail,
			struct err *err);
/* Puts failed messages (of notifier, or of all when NULL) back in the queue; *n says how many. */
int state_outbox_requeue(struct state *s, const char *notifier, long long now_ms, size_t *n,
			 struct err *err);

/* Counts for `paperwatch status` and the daemon's status line. */
struct state_counts {
	size_t delivered, pending, failed; /* messages */
	size_t papers_delivered;
	long long next_ms;    /* earliest next attempt of a pending message; 0 when none */
	char last_error[256]; /* of the latest failed message */
};

int state_counts(struct state *s, const char *notifier, struct state_counts *c, struct err *err);
/* Every notifier name the outbox knows, including ones no longer configured. The caller frees the
 * array and its strings. */
int state_notifiers(struct state *s, char ***names, size_t *n, struct err *err);

/* Wall-clock milliseconds since the epoch: what the database stores. */
long long state_now_ms(void);

#endif
