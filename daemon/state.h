/*
 * state.h — what paperwatch remembers: the digest files it processed, every alert ever enqueued
 * (one per paper, rule and notifier), and the outbox of messages to deliver, one queue per
 * notifier. Recording a digest's alerts and queueing their messages happen in one transaction,
 * so a crash loses nothing and repeats nothing. The state is an SQLite file (state.c), or a
 * PostgreSQL database that any number of processes on any number of hosts share (state_pg.c);
 * nothing of either shows here but what sharing adds: claims with a lease, and a database that
 * can go away and come back.
 */
#ifndef PW_STATE_H
#define PW_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A file's content hash in hex (XXH3's 128 bits), and its NUL. It tells a file touched or copied
 * over itself from one whose bytes changed; whoever could make two digests' hashes collide can
 * write the digest anyway, so it need not be a cryptographic hash, and XXH3 reads a digest ten
 * times as fast as SHA-256. A hash recorded by an earlier version never equals one of these: such
 * a file is read once more, and its alerts, already recorded, do not go out again. */
#define STATE_HASH_SIZE 33

struct state;

/* How long a shared state's claim on a message stands when the configuration says nothing
 * (seconds): longer than any send may take. */
#define STATE_LEASE_DEFAULT 60.0

/* What a shared state needs to know of the process using it; the SQLite state needs none of
 * it. */
struct state_opts {
	const char *scope;    /* whose digest files: the folder they are named in */
	double lease;         /* seconds a claim on a message stands; 0: the default */
	const char *password; /* the database's; NULL: libpq's own ways (~/.pgpass, PGPASSWORD) */
	/* A database that cannot be reached now is waited for (state_down until state_knocked
	 * says it is back), as one lost later is: a daemon starts all the same. */
	bool patient;
};

/* Opens (creating if need be) the state at path: an SQLite file's, or a postgresql:// or
 * postgres:// URI. Every commit is durable before it returns. The message of a failure says
 * how to recover (a damaged file is moved aside) or what is wrong (the database unreachable,
 * the password refused, a privilege missing). o may be NULL. */
int state_open(const char *path, const struct state_opts *o, struct state **out, struct err *err);
/* Whether path names a shared (PostgreSQL) state. */
bool state_is_shared(const char *path);
/* path as a message or a status may show it: a URI without its password. The caller frees it. */
char *state_shown(const char *path);
/* Opens a state that lives in memory and is gone when closed: for trying a notifier without
 * touching the real state. */
int state_open_ephemeral(struct state **out, struct err *err);
/* Closes the state, finishing any upkeep still due. NULL is a no-op. */
void state_close(struct state *s);

/* ---- Maintenance ---- */

/* The state needs maintenance now and then (the SQLite backend copies its log back into the
 * database, which syncs the disk). By default the commit that makes it due does it, holding up
 * that commit. After state_maintain_when_quiet, the owner calls state_maintain instead, and the
 * state waits for a quiet moment (no commit for a while) unless the work has grown too large to
 * wait for one. */
void state_maintain_when_quiet(struct state *s);
/* Does the maintenance that is due now. *next is how many seconds from now to call again, or -1
 * when nothing waits. A failure leaves nothing due until a commit asks again. */
int state_maintain(struct state *s, double *next, struct err *err);

/* ---- One owner of the queues ----
 *
 * An SQLite state has one owner at a time. A shared state has none: any number of processes
 * deliver from it, each message claimed by one at a time; state_own makes this process listen
 * for the others' work, and state_owner says 0. */

/* Makes this process the one that delivers from the state's queues, for as long as it keeps the
 * state open. Fails, naming the owner's pid, when another process is it. A state in memory needs
 * no owner. */
int state_own(struct state *s, struct err *err);
/* The pid of the process that owns the queues, 0 when none does (or this one does). */
int state_owner(struct state *s, long *pid, struct err *err);
/* Tells the owner, if there is one, that messages were queued or put back: it sends them now. */
int state_knock(struct state *s, struct err *err);
/* The owner's side: a descriptor that becomes readable when another process knocked, or when
 * the state's own file changed under it, -1 when this process does not own the queues.
 * state_knocked() reads it empty: 1 when another process knocked, 0 when nobody did, -1 when
 * the state was deleted, replaced or emptied, which the owner cannot go on with, and 2 when a
 * shared state's database is back after it was lost: what waited (digests not recorded,
 * messages not sent) is to be done now. */
int state_knock_fd(const struct state *s);
/* The state's file went from under it (state_knocked said so): from now on nothing is written
 * back into the path, not even at close. */
void state_abandon(struct state *s);
int state_knocked(struct state *s, struct err *err);
/* Whether a shared state's database is away: every call fails at once, with a message saying
 * so, until state_knocked says it is back. Each failure need not be logged: the loss was. */
bool state_down(const struct state *s);
/* While a call waits for a shared state's database, fn is called about every second: the
 * process is waiting, not hung, and the daemon keeps the service manager's watchdog fed. */
typedef void (*state_wait_fn)(void *ctx);
void state_on_wait(struct state *s, state_wait_fn fn, void *ctx);

/* ---- Digest files ---- */

/* How a digest file was when it was read: a file still like this need not be read again. */
struct file_stamp {
	uint64_t dev, ino;
	int64_t size, mtime_ns;
	char hash[STATE_HASH_SIZE]; /* "" when not known */
};

/* What reading a digest file gave: its papers, and how much of it its format did not read. */
struct file_read {
	size_t papers;
	size_t fallback;     /* papers only the fallback read, from links no record held */
	size_t skipped;      /* records left out */
	const char *format;  /* the format that read it; NULL for none */
	size_t with_authors; /* papers that named their authors */
	uint64_t papers_sum; /* the sum of its papers' identity hashes, whatever their order */
};

/* The files read only partly (fallback or skipped above 0), for `paperwatch status`. */
struct state_partial {
	size_t files;
	char last[256]; /* the name of the latest of them, "" when there is none */
	long long last_ms;
};

int state_files_partial(struct state *s, struct state_partial *p, struct err *err);

/* Whether the file called name was processed exactly as f describes it. */
int state_file_seen(struct state *s, const char *name, const struct file_stamp *f, bool *seen,
		    struct err *err);

/* The content hash recorded for the file called name; "" when none is. */
int state_file_hash(struct state *s, const char *name, char hash[STATE_HASH_SIZE], struct err *err);

/* ---- The transaction that records a digest and queues its alerts ---- */

int state_begin(struct state *s, struct err *err);

/* That paper (its identity key) matched rule for notifier; batch names the messages that carry
 * it. The title and time are kept for people to read. */
struct state_alert {
	const char *paper, *rule, *notifier, *batch, *title;
	long long created_ms;
};

/* Records an alert; *fresh is false when its paper, rule and notifier were recorded before, by
 * any digest. */
int state_alert_add(struct state *s, const struct state_alert *a, bool *fresh, struct err *err);
/* Queues one message for notifier. */
int state_outbox_add(struct state *s, const char *notifier, const char *key, const char *source,
		     const char *body, size_t len, size_t n_papers, long long now_ms,
		     struct err *err);
/* Records the file as processed; a file with the bytes it had keeps the time it was read. */
int state_file_done(struct state *s, const char *name, const struct file_stamp *f,
		    const struct file_read *read, long long now_ms, struct err *err);
int state_commit(struct state *s, struct err *err);
void state_rollback(struct state *s);

/* ---- Groups: the digests of one burst in one transaction ----
 *
 * Between state_group_open and state_group_close, each digest's state_begin .. state_commit is a
 * savepoint of the group's one transaction, rolled back alone on failure, and one commit (one
 * fdatasync) records them all. The messages they queue are claimed only once it is committed:
 * nothing is sent that the state could still lose. An outcome recorded for good
 * (state_claim_delivered, _retry, _failed) closes the group first. A group that fails to commit,
 * or that SQLite ends itself after an error, loses its digests: the caller reads them again. */
int state_group_open(struct state *s, struct err *err);
int state_group_close(struct state *s, struct err *err);
bool state_grouped(const struct state *s);
/* Whether a group was lost (its commit failed, or SQLite ended it after an error) since the
 * last call: its digests are to be read again. Whoever closed it, the daemon or an outcome. */
bool state_group_lost(struct state *s);

/* ---- The outbox ---- */

/* A message claimed for delivery. While the claim stands the message is its claimant's alone:
 * no other claim gets it. Every claim ends with state_claim_end; the claim owns key and body. */
struct state_claim {
	int64_t id; /* which message; the state's to read */
	char *key;
	char *body; /* len bytes and a NUL */
	size_t len;
	size_t n_papers;
	int attempts; /* made before this claim */
	long long created_ms;
	/* After the outcome, nothing more of the queue goes for this long (the notifier's
	 * interval, a server's Retry-After): set by the claimant before recording it. A shared
	 * state makes every process wait; a process keeps its own pace besides. */
	long long pause_ms;
	int64_t token; /* a shared state's fencing token; the state's to read */
	bool settled;  /* an attempt's outcome is recorded; the state's to write */
};

/* Claims notifier's next message if it is due at now_ms. Each queue goes in order: a message
 * waiting to be tried again holds up those behind it. When nothing is claimed, *next_ms says
 * when the next message is due, or is -1 when none is pending. A shared state's claim is a
 * lease: should this process not record an outcome before it runs out, another claims the
 * message, and this one's outcome then changes nothing (a warning says so). */
int state_claim_next(struct state *s, const char *notifier, long long now_ms, struct state_claim *c,
		     bool *claimed, long long *next_ms, struct err *err);
/* When notifier's next message is due, claiming nothing; -1 when none is pending. */
int state_queue_next_due(struct state *s, const char *notifier, long long *next_ms,
			 struct err *err);
/* Record how an attempt on a claimed message ended, settling the claim: delivered, to be tried
 * again at next_ms, or failed for good. After a failure to record, the claim still stands and
 * the outcome can be recorded again. */
int state_claim_delivered(struct state *s, struct state_claim *c, long long now_ms,
			  struct err *err);
/* Records a delivery in memory, for the next commit to write (a group's close, or
 * state_flush_marks): the queue goes on after the message at once. For a channel whose resend
 * carries the same id, which its receiver dedups: a delivery lost in a crash before it was
 * written is sent again, not lost. */
void state_claim_delivered_lazily(struct state *s, struct state_claim *c, const char *notifier,
				  long long now_ms);
/* Writes the deliveries recorded in memory, in a transaction of their own (none open: a group
 * writes them when it closes). */
int state_flush_marks(struct state *s, struct err *err);
/* How many deliveries wait in memory to be written. */
size_t state_marks_pending(const struct state *s);
int state_claim_retry(struct state *s, struct state_claim *c, long long next_ms, const char *detail,
		      struct err *err);
int state_claim_failed(struct state *s, struct state_claim *c, long long now_ms, const char *detail,
		       struct err *err);
/* Ends a claim: a message whose outcome was not recorded goes back to its queue as it was.
 * Frees the claim's copies; a zeroed claim is a no-op. */
void state_claim_end(struct state *s, struct state_claim *c);

/* Puts failed messages (of notifier, or of all when NULL) back in the queue; *n says how many. */
int state_outbox_requeue(struct state *s, const char *notifier, long long now_ms, size_t *n,
			 struct err *err);

/* Counts for `paperwatch status` and the daemon's status line. */
struct state_counts {
	size_t delivered, pending, failed; /* messages */
	size_t papers_delivered;
	long long next_ms;    /* earliest next attempt of a pending message; 0 when none */
	char last_error[256]; /* of the latest failed message */
	/* Why the queue's head is still pending: its last attempt's error ("" before any), when
	 * that was and how many attempts it has had. */
	char pending_error[256];
	long long pending_error_ms;
	int pending_attempts;
};

int state_counts(struct state *s, const char *notifier, struct state_counts *c, struct err *err);
/* Every notifier name the outbox knows, including ones no longer configured. The caller frees the
 * array and its strings. */
int state_notifiers(struct state *s, char ***names, size_t *n, struct err *err);

/* Into notifiers (size bytes, "" for none), the notifiers paper was alerted to for rule, as a
 * list "a, b". */
int state_alerted(struct state *s, const char *paper, const char *rule, char *notifiers,
		  size_t size, struct err *err);

/* One of the latest alerts, and how its message fared ("pending", "delivered", "failed"; "held"
 * while it waits for a scheduled message; "" for a message no longer kept) and when it was done
 * (0 when not yet). */
struct state_recent {
	struct state_alert alert;
	const char *message_state;
	long long done_ms;
};
typedef void (*state_recent_fn)(void *ctx, const struct state_recent *r);

/* Calls fn for each of the n latest alerts, the latest first; the strings live for the call. */
int state_recent(struct state *s, size_t n, state_recent_fn fn, void *ctx, struct err *err);

/* What the digests read so far say of authors: how many files (of those read since the state
 * kept it), how many of their papers named authors, and their formats ("a, b"). */
struct state_authors {
	size_t files, papers_with_authors;
	char formats[256];
};
int state_authors(struct state *s, struct state_authors *a, struct err *err);

/* ---- Scheduled messages ----
 *
 * A notifier with a schedule gets one message a period. Its alerts are recorded as they come
 * (state_alert_add, their batch the open period's key) and held with all their message needs;
 * at the deadline one transaction queues the period's message, lets the held alerts go and
 * opens the next period: each alert is in exactly one message. Call these between
 * state_begin and state_commit. */

/* A batch key, as a period's is: "msg_" and 32 hex digits, and its NUL. */
#define STATE_KEY_SIZE 37

struct state_period {
	long long last_ms;        /* the deadline of the last period whose message was made */
	char key[STATE_KEY_SIZE]; /* the open period's: its alerts' batch, its message's stem */
};

/* The notifier's period, opened with last_ms first_ms the first time a notifier has one. */
int state_period(struct state *s, const char *notifier, long long first_ms, struct state_period *p,
		 struct err *err);
/* Its message is queued: the period up to the deadline last_ms is done, a new one opens. */
int state_period_close(struct state *s, const char *notifier, long long last_ms, struct err *err);
/* Holds an alert (len bytes, as the caller encodes it) for the notifier's next message. */
int state_hold(struct state *s, const char *notifier, const char *alert, size_t len,
	       long long now_ms, struct err *err);
typedef void (*state_held_fn)(void *ctx, const char *alert, size_t len, long long created_ms);
/* Calls fn for each alert held for notifier, oldest first (the bytes live for the call); *last_id
 * is the last one's, for state_held_release, 0 when none is held. */
int state_held(struct state *s, const char *notifier, state_held_fn fn, void *ctx, int64_t *last_id,
	       struct err *err);
/* Lets the notifier's held alerts up to last_id go: their message is queued. */
int state_held_release(struct state *s, const char *notifier, int64_t last_id, struct err *err);
/* How many alerts are held for notifier, and when the oldest was (0 when none is). */
int state_held_count(struct state *s, const char *notifier, size_t *n, long long *oldest_ms,
		     struct err *err);
/* ---- Health: what the history of digests says, and the conditions raised ---- */

/* Into papers, the paper counts of the max latest digests of format other than name, the
 * latest first; *n says how many there were. */
int state_files_papers(struct state *s, const char *format, const char *name, size_t max,
		       size_t *papers, size_t *n, struct err *err);

/* One digest read, for `status`. */
struct state_digest {
	char name[256];
	size_t papers;
	long long processed_ms;
};
/* The max latest digests read, of any format, the latest first, into out; *n how many. */
int state_files_latest(struct state *s, size_t max, struct state_digest *out, size_t *n,
		       struct err *err);
/* Into other (size bytes), the name of a digest other than name with the same number of papers
 * and the same sum of their identity hashes (a copy of it), or "" when none has. */
int state_file_repeats(struct state *s, const char *name, uint64_t sum, size_t papers, char *other,
		       size_t size, struct err *err);

/* A health condition (condition, subject): raised or not, since when, what it said; for the
 * quiet check, when the latest digest it waits for came (or when waiting began). */
struct state_health {
	const char *condition, *subject;
	bool active;
	long long since_ms, last_ms;
	const char *detail;
};
typedef void (*state_health_fn)(void *ctx, const struct state_health *h);
/* Calls fn for every condition recorded; the strings live for the call. */
int state_health_each(struct state *s, state_health_fn fn, void *ctx, struct err *err);
/* Records a condition as h says, in the transaction that is open. */
int state_health_put(struct state *s, const struct state_health *h, struct err *err);

/* ---- Moving a state ---- */

/* Copies every record of the SQLite state at from into the shared state s, in one transaction:
 * the digests read (as the files of s's folder), the alerts made, the messages queued, sent or
 * failed, the alerts held for schedules and their periods, the health conditions and the papers
 * read. What s holds already is kept, so nothing alerted before is alerted again, the states of
 * several hosts can be moved into one, and moving one twice changes nothing. The SQLite state
 * must not be in use (its daemon stopped). *rows says how many records it had, *added how many
 * of them s did not. */
int state_import(struct state *s, const char *from, size_t *rows, size_t *added, struct err *err);

/* Wall-clock milliseconds since the epoch: what the database stores. */
long long state_now_ms(void);

/* ---- Papers read, for libraries that list arXiv ids (their text comes from here) ---- */

/* Keeps the text of the paper called id (again: the newer title, and abstract when it has
 * one), seen at seen_ms. Inside state_begin .. state_commit. */
int state_paper_keep(struct state *s, const char *id, const char *title, const char *abstract,
		     long long seen_ms, struct err *err);
/* Keeps only the max papers seen last (ties kept together); max 0 keeps none. */
int state_papers_trim(struct state *s, long long max, struct err *err);
/* Calls fn once with the text kept for id (abstract NULL when none), or not at all. */
typedef void (*state_paper_fn)(void *ctx, const char *title, const char *abstract);
int state_paper_text(struct state *s, const char *id, state_paper_fn fn, void *ctx,
		     struct err *err);

#endif
