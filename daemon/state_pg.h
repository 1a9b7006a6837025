/*
 * state_pg.h — the state in PostgreSQL, shared by any number of paperwatch processes on any
 * number of hosts. state.c hands every call on a state opened from a postgresql:// URI to the
 * function of the same name here; state.h says what each does, and this file only what differs
 * when the state is shared:
 *
 * - an alert is recorded once across all processes (the database's unique key decides);
 * - a message is claimed by one process at a time, for a lease, with a claim counter as its
 *   fencing token: an outcome from a process whose lease ran out and whose message another
 *   process claimed since changes nothing;
 * - a notifier's pace (its interval, a server's Retry-After) is a row every process obeys;
 * - times that order processes (leases, pace, when a message is due) are the database's;
 * - a process that owns its queues listens for the others' messages (LISTEN/NOTIFY), and
 *   reconnects with backoff when the database goes away, on the descriptor state_knock_fd gives.
 */
#ifndef PW_STATE_PG_H
#define PW_STATE_PG_H

#include "state.h"

struct pgstate;

/* Whether where names a PostgreSQL database: a postgresql:// or postgres:// URI. */
bool pg_is_uri(const char *where);
/* The URI without its password, whether after "user:" or in a password= parameter. */
char *pg_uri_shown(const char *uri);
/* Connects to the database the URI names, creating or migrating its schema. */
int pg_open(const char *uri, const struct state_opts *o, struct pgstate **out, struct err *err);
void pg_close(struct pgstate *p);
/* Whether the database is away: calls fail at once until it is back. */
bool pg_down(const struct pgstate *p);
void pg_on_wait(struct pgstate *p, state_wait_fn fn, void *ctx);

int pg_own(struct pgstate *p, struct err *err);
int pg_knock(struct pgstate *p, struct err *err);
int pg_knock_fd(const struct pgstate *p);
int pg_knocked(struct pgstate *p, struct err *err);

int pg_files_partial(struct pgstate *p, struct state_partial *sp, struct err *err);
int pg_file_seen(struct pgstate *p, const char *name, const struct file_stamp *f, bool *seen,
		 struct err *err);
int pg_file_hash(struct pgstate *p, const char *name, char hash[STATE_HASH_SIZE], struct err *err);
int pg_begin(struct pgstate *p, struct err *err);
int pg_alert_add(struct pgstate *p, const struct state_alert *a, bool *fresh, struct err *err);
int pg_outbox_add(struct pgstate *p, const char *notifier, const char *key, const char *source,
		  const char *body, size_t len, size_t n_papers, long long now_ms, struct err *err);
int pg_file_done(struct pgstate *p, const char *name, const struct file_stamp *f,
		 const struct file_read *read, long long now_ms, struct err *err);
int pg_commit(struct pgstate *p, struct err *err);
void pg_rollback(struct pgstate *p);
int pg_group_open(struct pgstate *p, struct err *err);
int pg_group_close(struct pgstate *p, struct err *err);
bool pg_grouped(const struct pgstate *p);
bool pg_group_lost(struct pgstate *p);
int pg_claim_next(struct pgstate *p, const char *notifier, struct state_claim *c, bool *claimed,
		  long long *next_ms, struct err *err);
int pg_queue_next_due(struct pgstate *p, const char *notifier, long long *next_ms, struct err *err);
int pg_claim_delivered(struct pgstate *p, struct state_claim *c, long long now_ms, struct err *err);
void pg_claim_delivered_lazily(struct pgstate *p, struct state_claim *c, long long now_ms);
int pg_flush_marks(struct pgstate *p, struct err *err);
size_t pg_marks_pending(const struct pgstate *p);
int pg_claim_retry(struct pgstate *p, struct state_claim *c, long long next_ms, const char *detail,
		   struct err *err);
int pg_claim_failed(struct pgstate *p, struct state_claim *c, long long now_ms, const char *detail,
		    struct err *err);
void pg_claim_end(struct pgstate *p, struct state_claim *c);
int pg_outbox_requeue(struct pgstate *p, const char *notifier, long long now_ms, size_t *n,
		      struct err *err);
int pg_counts(struct pgstate *p, const char *notifier, struct state_counts *c, struct err *err);
int pg_notifiers(struct pgstate *p, char ***names, size_t *n, struct err *err);
int pg_alerted(struct pgstate *p, const char *paper, const char *rule, char *notifiers, size_t size,
	       struct err *err);
int pg_recent(struct pgstate *p, size_t n, state_recent_fn fn, void *ctx, struct err *err);
int pg_authors(struct pgstate *p, struct state_authors *a, struct err *err);
int pg_period(struct pgstate *p, const char *notifier, long long first_ms, struct state_period *sp,
	      struct err *err);
int pg_period_close(struct pgstate *p, const char *notifier, long long last_ms, struct err *err);
int pg_hold(struct pgstate *p, const char *notifier, const char *alert, size_t len,
	    long long now_ms, struct err *err);
int pg_held(struct pgstate *p, const char *notifier, state_held_fn fn, void *ctx, int64_t *last_id,
	    struct err *err);
int pg_held_release(struct pgstate *p, const char *notifier, int64_t last_id, struct err *err);
int pg_held_count(struct pgstate *p, const char *notifier, size_t *n, long long *oldest_ms,
		  struct err *err);
int pg_files_papers(struct pgstate *p, const char *format, const char *name, size_t max,
		    size_t *papers, size_t *n, struct err *err);
int pg_files_latest(struct pgstate *p, size_t max, struct state_digest *out, size_t *n,
		    struct err *err);
int pg_file_repeats(struct pgstate *p, const char *name, uint64_t sum, size_t papers, char *other,
		    size_t size, struct err *err);
int pg_health_each(struct pgstate *p, state_health_fn fn, void *ctx, struct err *err);
int pg_health_put(struct pgstate *p, const struct state_health *h, struct err *err);
int pg_paper_keep(struct pgstate *p, const char *id, const char *title, const char *abstract,
		  long long seen_ms, struct err *err);
int pg_papers_trim(struct pgstate *p, long long max, struct err *err);
int pg_paper_text(struct pgstate *p, const char *id, state_paper_fn fn, void *ctx, struct err *err);

/* Moving an SQLite state in (state_import): a transaction of rows, each of one table with its
 * columns in the order pg_import_columns gives (state.c reads them so); a NULL value is SQL's
 * NULL, a column whose binary flag is set bytes of its length. *added: the row was new. */
enum pg_table {
	PG_FILES,
	PG_ALERTS,
	PG_OUTBOX,
	PG_HELD,
	PG_PERIODS,
	PG_HEALTH,
	PG_PAPERS_READ,
	PG_N_TABLES
};
extern const char *const pg_import_columns[PG_N_TABLES];
int pg_import_begin(struct pgstate *p, struct err *err);
int pg_import_row(struct pgstate *p, enum pg_table t, int n, const char *const *values,
		  const int *lengths, const int *binary, bool *added, struct err *err);
int pg_import_end(struct pgstate *p, struct err *err);

#endif
