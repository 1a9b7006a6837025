/*
 * state_pg.c — the state in PostgreSQL, through libpq: the schema and its version, the same
 * statements as the SQLite state's with what sharing adds (claims with a lease and a fencing
 * token, one pace per notifier, the database's clock), LISTEN/NOTIFY between processes, and
 * reconnecting when the database goes away.
 *
 * Statements run on one connection, prepared once per connection, each with a deadline
 * (QUERY_DEADLINE): a database that stops answering is taken as lost rather than let hold the
 * daemon's loop longer. Reconnecting runs on the loop: the descriptor the daemon watches
 * (state_knock_fd) is an epoll set of the connection's socket, the backoff's timer and an
 * eventfd, and pg_knocked does what is due on it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "state_pg.h"
#include "xmalloc.h"

/* 1: the tables of the SQLite state's schema 5, with the files and the health conditions of
 * each scope apart, and the claims and paces only sharing needs. */
#define PG_SCHEMA_VERSION 1
/* How long one statement may take before the database is taken as lost (seconds). */
#define QUERY_DEADLINE 10.0
/* How often a statement that waits tells the owner it still does (seconds). */
#define WAIT_TICK 0.5
/* How long a connection may take to be made (seconds). */
#define CONNECT_DEADLINE 10.0
/* The wait before reconnecting: doubling from the first to the longest (seconds). */
#define BACKOFF_FIRST 0.5
#define BACKOFF_MAX   30.0
/* The channel every process listens on. A notification is empty: a listener looks at every
 * queue it has, PostgreSQL folds a transaction's notifications into one, and no name can
 * outgrow the 8000 bytes a payload may hold. */
#define CHANNEL "paperwatch"
/* Any two processes' migrations take turns on this lock (pg_advisory_xact_lock), a transaction's
 * own: a connection pooler cannot strand it. */
#define MIGRATION_LOCK "7070777761746368"
/* The database's clock in milliseconds, which orders leases and paces across hosts. */
#define DB_NOW "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
/* A period's key, as the pipeline makes batch keys: the stem and 32 hex digits. */
#define PERIOD_KEY "'msg_' || replace(gen_random_uuid()::text, '-', '')"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS paperwatch_meta ("
	"  key text PRIMARY KEY, value text NOT NULL);"
	/* Files are named inside their folder: a scope is the host and the folder. */
	"CREATE TABLE IF NOT EXISTS files ("
	"  scope text NOT NULL, name text NOT NULL,"
	"  dev bigint NOT NULL, ino bigint NOT NULL, size bigint NOT NULL,"
	"  mtime_ns bigint NOT NULL, hash text NOT NULL,"
	"  papers bigint NOT NULL, processed_ms bigint NOT NULL,"
	"  fallback bigint NOT NULL DEFAULT 0, skipped bigint NOT NULL DEFAULT 0,"
	"  format text NOT NULL DEFAULT '', with_authors bigint NOT NULL DEFAULT -1,"
	"  papers_sum bigint,"
	"  PRIMARY KEY (scope, name));"
	"CREATE INDEX IF NOT EXISTS files_format ON files (scope, format, processed_ms);"
	"CREATE INDEX IF NOT EXISTS files_time ON files (scope, processed_ms);"
	"CREATE INDEX IF NOT EXISTS files_sum ON files (scope, papers_sum);"
	"CREATE TABLE IF NOT EXISTS alerts ("
	"  paper text NOT NULL, rule text NOT NULL, notifier text NOT NULL,"
	"  batch text NOT NULL, title text NOT NULL DEFAULT '',"
	"  created_ms bigint NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (paper, rule, notifier));"
	"CREATE INDEX IF NOT EXISTS alerts_time ON alerts (created_ms);"
	/* next_ms, lease_until: the database's clock. claims counts the claims made: the token a
	 * claimant's outcome must still match. */
	"CREATE TABLE IF NOT EXISTS outbox ("
	"  id bigserial PRIMARY KEY, notifier text NOT NULL, key text NOT NULL UNIQUE,"
	"  source text NOT NULL, papers bigint NOT NULL,"
	"  state text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),"
	"  attempts integer NOT NULL DEFAULT 0, created_ms bigint NOT NULL,"
	"  next_ms bigint NOT NULL, done_ms bigint, last_error text, tried_ms bigint,"
	"  body bytea, claimed_by text, lease_until bigint, claims bigint NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS outbox_queue ON outbox (notifier, id) WHERE state = 'pending';"
	"CREATE INDEX IF NOT EXISTS outbox_state ON outbox (notifier, state);"
	/* One row per notifier: nothing of its is sent before not_before (the database's clock). */
	"CREATE TABLE IF NOT EXISTS pacing ("
	"  notifier text PRIMARY KEY, not_before bigint NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS held ("
	"  id bigserial PRIMARY KEY, notifier text NOT NULL, created_ms bigint NOT NULL,"
	"  alert bytea NOT NULL);"
	"CREATE INDEX IF NOT EXISTS held_queue ON held (notifier, id);"
	"CREATE TABLE IF NOT EXISTS periods ("
	"  notifier text PRIMARY KEY, last_ms bigint NOT NULL, key text NOT NULL);"
	"CREATE TABLE IF NOT EXISTS health ("
	"  scope text NOT NULL, condition text NOT NULL, subject text NOT NULL,"
	"  active boolean NOT NULL DEFAULT false, since_ms bigint NOT NULL DEFAULT 0,"
	"  last_ms bigint NOT NULL DEFAULT 0, detail text NOT NULL DEFAULT '',"
	"  PRIMARY KEY (scope, condition, subject));"
	"CREATE TABLE IF NOT EXISTS papers_read ("
	"  id text PRIMARY KEY, title text NOT NULL, abstract text, seen_ms bigint NOT NULL);"
	"CREATE INDEX IF NOT EXISTS papers_read_seen ON papers_read (seen_ms);";

enum stmt {
	ST_FILE_SEEN,
	ST_FILE_DONE,
	ST_FILE_HASH,
	ST_FILES_PARTIAL,
	ST_ALERT_ADD,
	ST_OUTBOX_ADD,
	ST_CLAIM,
	ST_NEXT_DUE,
	ST_DELIVERED,
	ST_RETRY,
	ST_FAILED,
	ST_RELEASE,
	ST_REQUEUE,
	ST_COUNTS,
	ST_LAST_ERROR,
	ST_NOTIFIERS,
	ST_PENDING_ERROR,
	ST_ALERTED,
	ST_RECENT,
	ST_AUTHORS,
	ST_HOLD,
	ST_HELD,
	ST_HELD_RELEASE,
	ST_HELD_COUNT,
	ST_PERIOD_OPEN,
	ST_PERIOD_GET,
	ST_PERIOD_CLOSE,
	ST_FILES_PAPERS,
	ST_FILES_LATEST,
	ST_FILE_REPEATS,
	ST_HEALTH_LIST,
	ST_HEALTH_PUT,
	ST_PAPERS_KEEP,
	ST_PAPERS_TRIM,
	ST_PAPERS_TEXT,
	ST_KNOCK,
	N_STMTS
};

/* An outcome of a claim: fenced by its token ($2), it lets the lease go, sets the notifier's
 * pace ($3 ms from now, never shortening one set already) and tells the other processes. */
#define OUTCOME(set)                                                                               \
	"WITH done AS (UPDATE outbox SET attempts = attempts + 1, claimed_by = NULL, "             \
	"  lease_until = NULL, " set " WHERE id = $1 AND claims = $2 AND state = 'pending' "       \
	"  RETURNING notifier), "                                                                  \
	"pace AS (UPDATE pacing p SET not_before = greatest(p.not_before, " DB_NOW " + $3) "       \
	"  FROM done WHERE p.notifier = done.notifier) "                                           \
	"SELECT pg_notify('" CHANNEL "', '') FROM done"

static const char *const stmt_sql[N_STMTS] = {
	[ST_FILE_SEEN] = "SELECT 1 FROM files WHERE scope = $1 AND name = $2 AND dev = $3 AND "
			 "ino = $4 AND size = $5 AND mtime_ns = $6",
	[ST_FILE_DONE] =
		"INSERT INTO files (scope, name, dev, ino, size, mtime_ns, hash, papers, "
		"processed_ms, fallback, skipped, format, with_authors, papers_sum) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
		"ON CONFLICT (scope, name) DO UPDATE SET dev = $3, ino = $4, size = $5, "
		"mtime_ns = $6, hash = $7, papers = $8, "
		"processed_ms = CASE WHEN files.hash = $7 THEN files.processed_ms ELSE $9 END, "
		"fallback = $10, skipped = $11, format = $12, with_authors = $13, papers_sum = $14",
	[ST_FILE_HASH] = "SELECT hash FROM files WHERE scope = $1 AND name = $2",
	[ST_FILES_PARTIAL] = "SELECT count(*), (SELECT name FROM files WHERE scope = $1 AND "
			     "(fallback > 0 OR skipped > 0) ORDER BY processed_ms DESC, name "
			     "LIMIT 1), coalesce(max(processed_ms), 0) FROM files "
			     "WHERE scope = $1 AND (fallback > 0 OR skipped > 0)",
	/* Two processes adding the same alert at once: the second waits for the first's commit,
	 * then adds nothing. */
	[ST_ALERT_ADD] = "INSERT INTO alerts (paper, rule, notifier, batch, title, created_ms) "
			 "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
	/* Told at commit: the others' queues learn of it without looking. */
	[ST_OUTBOX_ADD] =
		"WITH m AS (INSERT INTO outbox (notifier, key, source, papers, state, "
		"  created_ms, next_ms, body) VALUES ($1, $2, $3, $4, 'pending', $5, " DB_NOW
		", $6) RETURNING notifier), "
		"p AS (INSERT INTO pacing (notifier) SELECT notifier FROM m "
		"  ON CONFLICT DO NOTHING) "
		"SELECT pg_notify('" CHANNEL "', '') FROM m",
	/* The queue's head, if it is due, no lease on it stands and the notifier's pace allows.
	 * Claimants of one notifier take turns on its pace row, and a claim waits for no lock:
	 * an outcome being recorded holds the head's row, then the pace row, so waiting for the
	 * head while holding the pace would deadlock. A row locked is skipped, and a message is
	 * claimed only when no earlier one is pending, so the queue's order holds. */
	[ST_CLAIM] = "WITH pace AS (SELECT notifier FROM pacing WHERE notifier = $1 AND "
		     "  not_before <= " DB_NOW " FOR UPDATE SKIP LOCKED), "
		     "head AS (SELECT id FROM outbox WHERE notifier = $1 AND state = 'pending' "
		     "  ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) "
		     "UPDATE outbox o SET claimed_by = $2, lease_until = " DB_NOW " + $3, "
		     "  claims = o.claims + 1 FROM head, pace "
		     "WHERE o.id = head.id AND o.state = 'pending' AND o.next_ms <= " DB_NOW
		     " AND (o.lease_until IS NULL OR o.lease_until <= " DB_NOW ") "
		     " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.notifier = $1 AND "
		     "  e.state = 'pending' AND e.id < o.id) "
		     "RETURNING o.id, o.key, o.body, o.attempts, o.created_ms, o.papers, o.claims",
	/* How long until the head may go: it is due, its lease ran out, the pace allows. */
	[ST_NEXT_DUE] = "SELECT greatest(o.next_ms, coalesce(o.lease_until, 0), "
			"  coalesce(p.not_before, 0)) - " DB_NOW " FROM outbox o "
			"LEFT JOIN pacing p ON p.notifier = o.notifier "
			"WHERE o.notifier = $1 AND o.state = 'pending' ORDER BY o.id LIMIT 1",
	[ST_DELIVERED] = OUTCOME("state = 'delivered', done_ms = $4, last_error = NULL, "
				 "body = NULL"),
	[ST_RETRY] = OUTCOME("next_ms = " DB_NOW " + $4, last_error = $5, tried_ms = $6"),
	[ST_FAILED] = OUTCOME("state = 'failed', done_ms = $4, last_error = $5, tried_ms = $6"),
	/* A claim given up with no outcome: the message is its queue's again at once. */
	[ST_RELEASE] = "WITH r AS (UPDATE outbox SET claimed_by = NULL, lease_until = NULL "
		       "  WHERE id = $1 AND claims = $2 AND state = 'pending' RETURNING notifier) "
		       "SELECT pg_notify('" CHANNEL "', '') FROM r",
	/* $1 NULL: every notifier's. */
	[ST_REQUEUE] = "UPDATE outbox SET state = 'pending', next_ms = " DB_NOW ", "
		       "created_ms = $2, done_ms = NULL, claimed_by = NULL, lease_until = NULL "
		       "WHERE state = 'failed' AND ($1::text IS NULL OR notifier = $1)",
	[ST_COUNTS] = "SELECT "
		      "  count(*) FILTER (WHERE state = 'delivered'),"
		      "  count(*) FILTER (WHERE state = 'pending'),"
		      "  count(*) FILTER (WHERE state = 'failed'),"
		      "  coalesce(sum(papers) FILTER (WHERE state = 'delivered'), 0)::bigint,"
		      "  min(next_ms) FILTER (WHERE state = 'pending') - " DB_NOW " "
		      "FROM outbox WHERE notifier = $1",
	[ST_LAST_ERROR] = "SELECT last_error FROM outbox WHERE notifier = $1 AND state = 'failed' "
			  "ORDER BY done_ms DESC LIMIT 1",
	[ST_NOTIFIERS] = "SELECT DISTINCT notifier FROM outbox ORDER BY notifier",
	[ST_PENDING_ERROR] = "SELECT last_error, tried_ms, attempts FROM outbox "
			     "WHERE notifier = $1 AND state = 'pending' ORDER BY id LIMIT 1",
	[ST_ALERTED] = "SELECT string_agg(notifier, ', ' ORDER BY notifier) FROM alerts "
		       "WHERE paper = $1 AND rule = $2",
	[ST_RECENT] =
		"SELECT a.paper, a.title, a.rule, a.notifier, a.created_ms, "
		"  coalesce((SELECT min(o.state) FROM outbox o WHERE o.notifier = a.notifier AND "
		"   o.key > a.batch || '-' AND o.key < a.batch || '.'), "
		"   (SELECT 'held' FROM periods p WHERE p.notifier = a.notifier AND "
		"    p.key = a.batch)), "
		"  (SELECT max(o.done_ms) FROM outbox o WHERE o.notifier = a.notifier AND "
		"   o.key > a.batch || '-' AND o.key < a.batch || '.') "
		"FROM alerts a ORDER BY a.created_ms DESC, a.paper, a.rule, a.notifier LIMIT $1",
	[ST_AUTHORS] = "SELECT count(*), coalesce(sum(with_authors), 0)::bigint, "
		       "  (SELECT string_agg(format, ', ' ORDER BY format) FROM (SELECT DISTINCT "
		       "   format FROM files WHERE scope = $1 AND with_authors >= 0 AND "
		       "   papers > 0 AND format != '') f) "
		       "FROM files WHERE scope = $1 AND with_authors >= 0 AND papers > 0",
	[ST_HOLD] = "INSERT INTO held (notifier, created_ms, alert) VALUES ($1, $2, $3)",
	[ST_HELD] = "SELECT id, alert, created_ms FROM held WHERE notifier = $1 ORDER BY id",
	[ST_HELD_RELEASE] = "DELETE FROM held WHERE notifier = $1 AND id <= $2",
	[ST_HELD_COUNT] = "SELECT count(*), coalesce(min(created_ms), 0) FROM held "
			  "WHERE notifier = $1",
	[ST_PERIOD_OPEN] = "INSERT INTO periods (notifier, last_ms, key) "
			   "VALUES ($1, $2, " PERIOD_KEY ") ON CONFLICT DO NOTHING",
	/* Locked to the end of the transaction: one process makes each period's message. */
	[ST_PERIOD_GET] = "SELECT last_ms, key FROM periods WHERE notifier = $1 FOR UPDATE",
	[ST_PERIOD_CLOSE] =
		"UPDATE periods SET last_ms = $2, key = " PERIOD_KEY " WHERE notifier = $1",
	[ST_FILES_PAPERS] = "SELECT papers FROM files WHERE scope = $1 AND format = $2 AND "
			    "name != $3 ORDER BY processed_ms DESC LIMIT $4",
	[ST_FILES_LATEST] = "SELECT name, papers, processed_ms FROM files WHERE scope = $1 "
			    "ORDER BY processed_ms DESC LIMIT $2",
	[ST_FILE_REPEATS] = "SELECT name FROM files WHERE scope = $1 AND papers_sum = $2 AND "
			    "papers = $3 AND name != $4 LIMIT 1",
	[ST_HEALTH_LIST] = "SELECT condition, subject, active, since_ms, last_ms, detail "
			   "FROM health WHERE scope = $1 ORDER BY condition, subject",
	[ST_HEALTH_PUT] = "INSERT INTO health (scope, condition, subject, active, since_ms, "
			  "last_ms, detail) VALUES ($1, $2, $3, $4, $5, $6, $7) "
			  "ON CONFLICT (scope, condition, subject) DO UPDATE SET active = $4, "
			  "since_ms = $5, last_ms = $6, detail = $7",
	[ST_PAPERS_KEEP] = "INSERT INTO papers_read (id, title, abstract, seen_ms) "
			   "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET title = $2, "
			   "abstract = coalesce($3, papers_read.abstract), seen_ms = $4",
	[ST_PAPERS_TRIM] = "DELETE FROM papers_read WHERE seen_ms < (SELECT seen_ms FROM "
			   "papers_read ORDER BY seen_ms DESC LIMIT 1 OFFSET $1::bigint - 1)",
	[ST_PAPERS_TEXT] = "SELECT title, abstract FROM papers_read WHERE id = $1",
	[ST_KNOCK] = "SELECT pg_notify('" CHANNEL "', '')",
};

/* libpq is loaded with dlopen() when a state is first opened from a URI, so that the SQLite
 * state never maps it: Debian's libpq brings twenty more libraries (Kerberos, LDAP, SASL) that
 * cost a process about 4 MiB before the first call. The calls below go through pq, each
 * function of the type libpq-fe.h declares. */
#define PQ_LIBRARY "libpq.so.5"

#define PQ_FUNCTIONS(X)                                                                            \
	X(PQbackendPID)                                                                            \
	X(PQclear)                                                                                 \
	X(PQcmdTuples)                                                                             \
	X(PQconnectPoll)                                                                           \
	X(PQconnectStartParams)                                                                    \
	X(PQconnectdbParams)                                                                       \
	X(PQconsumeInput)                                                                          \
	X(PQerrorMessage)                                                                          \
	X(PQfinish)                                                                                \
	X(PQflush)                                                                                 \
	X(PQfreemem)                                                                               \
	X(PQgetResult)                                                                             \
	X(PQgetisnull)                                                                             \
	X(PQgetvalue)                                                                              \
	X(PQisBusy)                                                                                \
	X(PQnotifies)                                                                              \
	X(PQntuples)                                                                               \
	X(PQresultErrorField)                                                                      \
	X(PQresultStatus)                                                                          \
	X(PQsendPrepare)                                                                           \
	X(PQsendQuery)                                                                             \
	X(PQsendQueryPrepared)                                                                     \
	X(PQsendQueryParams)                                                                       \
	X(PQsetNoticeProcessor)                                                                    \
	X(PQsetnonblocking)                                                                        \
	X(PQsocket)                                                                                \
	X(PQstatus)                                                                                \
	X(PQtransactionStatus)                                                                     \
	X(PQunescapeBytea)

static struct {
#define PQ_FIELD(f) __typeof__(f) *(f);
	PQ_FUNCTIONS(PQ_FIELD)
#undef PQ_FIELD
} pq;

/* Loads libpq and finds every function paperwatch calls, once; it stays loaded. */
static int pq_load(struct err *err)
{
	static void *handle;
	void *fn;

	if (handle != NULL)
		return 0;
	handle = dlopen(PQ_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL)
		return err_set(err, "cannot load libpq, which a PostgreSQL state needs: %s",
			       dlerror());
		/* A function's address as dlsym() returns it; POSIX makes the conversion exact. */
#define PQ_FIND(f)                                                                                 \
	fn = dlsym(handle, #f);                                                                    \
	if (fn == NULL)                                                                            \
		goto missing;                                                                      \
	pq.f = (__typeof__(pq.f))fn;
	PQ_FUNCTIONS(PQ_FIND)
#undef PQ_FIND
	return 0;
missing:
	err_set(err, "%s has no function paperwatch calls: %s", PQ_LIBRARY, dlerror());
	dlclose(handle);
	handle = NULL;
	return -1;
}

enum link { LINK_UP, LINK_CONNECTING, LINK_DOWN };

struct pgstate {
	char *uri;      /* as configured: what libpq connects with */
	char *shown;    /* the URI without its password, for every message */
	char *password; /* the configuration's, or NULL */
	char *scope;    /* whose files and health these are */
	char *me;       /* what a claim says of its claimant: host, pid */
	long long lease_ms;
	PGconn *conn;
	enum link link;
	char why[400]; /* why the database is away */
	bool ready;    /* set up: a loss from here on is news */
	bool refused;  /* a reconnection's setup failed, and the log said why */
	double lost_at, backoff;
	/* The owner's: the epoll set the daemon watches, the backoff's timer in it, an eventfd
	 * it reads when notifications came in during a statement, and the socket it holds. */
	int epfd, timer_fd, wake_fd, sock;
	bool notified;    /* another process queued or settled something */
	bool reconnected; /* the database is back: what waited is to be done */
	bool grouped, group_lost, in_digest;
	state_wait_fn on_wait; /* called every WAIT_TICK a statement waits */
	void *wait_ctx;
	/* Deliveries that could not be written at once, written by the next flush. */
	struct pg_mark {
		int64_t id, token;
		long long done_ms;
	} * marks;
	size_t n_marks, cap_marks;
};

/* Monotonic seconds. */
static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool pg_is_uri(const char *where)
{
	return strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0;
}

/* The URI as messages show it: no password, whether between "user:" and "@" or a password=
 * parameter. */
char *pg_uri_shown(const char *uri)
{
	const char *rest = strstr(uri, "://") + 3, *end = rest + strcspn(rest, "/?"), *at;
	const char *colon;
	char *shown, *q, *pw;

	at = memchr(rest, '@', (size_t)(end - rest));
	colon = at ? memchr(rest, ':', (size_t)(at - rest)) : NULL;
	if (colon != NULL)
		shown = xasprintf("%.*s%s", (int)(colon - uri), uri, at);
	else
		shown = xstrdup(uri);
	q = strchr(shown, '?');
	while (q != NULL && (pw = strstr(q, "password=")) != NULL) {
		char *value = pw + 9, *next = value + strcspn(value, "&"), *cut;
		size_t at_value = (size_t)(value - shown);

		if (pw[-1] != '?' && pw[-1] != '&') {
			q = value;
			continue;
		}
		cut = xasprintf("%.*s***%s", (int)at_value, shown, next);
		free(shown);
		shown = cut;
		q = shown + at_value + 3;
	}
	return shown;
}

/* ---- Parameters and statements ---- */

#define MAX_PARAMS 16

struct args {
	const char *v[MAX_PARAMS];
	int len[MAX_PARAMS], fmt[MAX_PARAMS];
	char num[MAX_PARAMS][24];
	int n;
};

static void arg_text(struct args *a, const char *s)
{
	a->v[a->n] = s;
	a->len[a->n] = 0;
	a->fmt[a->n] = 0;
	a->n++;
}

static void arg_int(struct args *a, long long x)
{
	snprintf(a->num[a->n], sizeof(a->num[a->n]), "%lld", x);
	arg_text(a, a->num[a->n]);
}

static void arg_blob(struct args *a, const void *b, size_t len)
{
	a->v[a->n] = b;
	a->len[a->n] = (int)len;
	a->fmt[a->n] = 1;
	a->n++;
}

static void arm_timer(struct pgstate *p, double seconds)
{
	struct itimerspec its = {0};

	if (p->timer_fd < 0)
		return;
	if (seconds > 0) {
		its.it_value.tv_sec = (time_t)seconds;
		its.it_value.tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9);
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	timerfd_settime(p->timer_fd, 0, &its, NULL);
}

/* Puts the connection's socket in the owner's set, watched for events; -1 takes it out. */
static void watch_socket(struct pgstate *p, int sock, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = sock};

	if (p->epfd < 0)
		return;
	if (p->sock >= 0 && p->sock != sock)
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->sock, NULL);
	if (sock >= 0 &&
	    epoll_ctl(p->epfd, p->sock == sock ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, sock, &ev) != 0)
		sock = -1;
	p->sock = sock;
}

/* The connection is gone or no longer to be trusted: calls fail at once from now on, the owner
 * reconnects after the backoff, and a group open is lost. Said once, however many calls fail. */
static void link_lost(struct pgstate *p, const char *why)
{
	if (p->ready) {
		log_error("%s: lost the database (%s); digests and deliveries wait for it, "
			  "paperwatch reconnects",
			  p->shown, why);
		p->lost_at = mono_now();
	} else {
		log_debug("%s: no database yet (%s)", p->shown, why);
	}
	p->ready = false;
	if (why != p->why)
		snprintf(p->why, sizeof(p->why), "%s", why);
	watch_socket(p, -1, 0);
	pq.PQfinish(p->conn);
	p->conn = NULL;
	p->link = LINK_DOWN;
	if (p->grouped)
		p->group_lost = true;
	p->grouped = p->in_digest = false;
	p->backoff = p->backoff > 0 ? p->backoff * 2 : BACKOFF_FIRST;
	if (p->backoff > BACKOFF_MAX)
		p->backoff = BACKOFF_MAX;
	arm_timer(p, p->backoff);
}

/* libpq's message, on one line: its line breaks and runs of blanks one space each. */
static void one_line(char *out, size_t size, const char *msg)
{
	size_t n = 0;

	if (msg == NULL || *msg == '\0')
		msg = "no reason given";
	for (; *msg && n + 1 < size; msg++) {
		bool blank = *msg == '\n' || *msg == '\t' || *msg == ' ';

		if (!blank)
			out[n++] = *msg;
		else if (n > 0 && out[n - 1] != ' ')
			out[n++] = ' ';
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* Reads the notifications that came in: another process's, not this one's own. */
static void take_notifications(struct pgstate *p)
{
	PGnotify *n;
	int self = pq.PQbackendPID(p->conn);

	while ((n = pq.PQnotifies(p->conn)) != NULL) {
		if (n->be_pid != self)
			p->notified = true;
		pq.PQfreemem(n);
	}
}

/* Waits for the answer to what was sent, up to the deadline; NULL when the connection failed
 * (it is then lost). */
static PGresult *await(struct pgstate *p, struct err *err)
{
	double deadline = mono_now() + QUERY_DEADLINE;
	PGresult *res = NULL, *r;
	char why[256];

	for (;;) {
		int f = pq.PQflush(p->conn), wait_ms;
		struct pollfd pfd = {.fd = pq.PQsocket(p->conn), .events = POLLIN};

		if (f < 0)
			break;
		if (f == 0 && !pq.PQisBusy(p->conn)) {
			r = pq.PQgetResult(p->conn);
			if (r == NULL)
				goto done;
			if (res == NULL)
				res = r;
			else
				pq.PQclear(r);
			continue;
		}
		if (f == 1)
			pfd.events |= POLLOUT;
		wait_ms = (int)((deadline - mono_now()) * 1000);
		if (wait_ms > 0 && p->on_wait != NULL && wait_ms > (int)(WAIT_TICK * 1000)) {
			/* Waited a tick: the owner hears of it, and the wait goes on. */
			if (poll(&pfd, 1, (int)(WAIT_TICK * 1000)) == 0) {
				p->on_wait(p->wait_ctx);
				continue;
			}
		} else if (wait_ms <= 0 || poll(&pfd, 1, wait_ms) == 0) {
			pq.PQclear(res);
			snprintf(why, sizeof(why), "no answer within %.0f s", QUERY_DEADLINE);
			link_lost(p, why);
			err_set(err, "%s: %s", p->shown, why);
			return NULL;
		}
		if ((pfd.revents & (POLLIN | POLLERR | POLLHUP)) && !pq.PQconsumeInput(p->conn))
			break;
	}
	pq.PQclear(res);
	one_line(why, sizeof(why), pq.PQerrorMessage(p->conn));
	link_lost(p, why);
	err_set(err, "%s: %s", p->shown, why);
	return NULL;
done:
	take_notifications(p);
	if (p->notified && p->wake_fd >= 0)
		eventfd_write(p->wake_fd, 1);
	return res;
}

/* Ends the transaction open, whatever came of it. */
static void rollback_quietly(struct pgstate *p)
{
	struct err ignored;

	if (p->link == LINK_UP && pq.PQtransactionStatus(p->conn) != PQTRANS_IDLE &&
	    pq.PQsendQuery(p->conn, "ROLLBACK"))
		pq.PQclear(await(p, &ignored));
}

/* An error a statement had, in err; the transaction it aborted, if any, is rolled back: a
 * digest's savepoint by the caller (pg_rollback), anything else here, losing a group. */
static void statement_failed(struct pgstate *p, PGresult *res, struct err *err)
{
	char msg[400];
	const char *state = pq.PQresultErrorField(res, PG_DIAG_SQLSTATE);

	one_line(msg, sizeof(msg), pq.PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	err_set(err, "%s: %s%s%s", p->shown, msg,
		state && strncmp(state, "42501", 5) == 0
			? " (the role paperwatch connects as needs the privileges the README's "
			  "\"Running several instances\" lists)"
			: "",
		state && strncmp(state, "53100", 5) == 0 ? " (the database's disk is full)" : "");
	if (pq.PQstatus(p->conn) == CONNECTION_BAD) {
		link_lost(p, msg);
		return;
	}
	if (pq.PQtransactionStatus(p->conn) == PQTRANS_INERROR && !p->in_digest) {
		rollback_quietly(p);
		if (p->grouped)
			p->group_lost = true;
		p->grouped = false;
	}
}

/* The connection could not take a statement: it is lost. */
static PGresult *send_failed(struct pgstate *p, struct err *err)
{
	char why[256];

	one_line(why, sizeof(why), pq.PQerrorMessage(p->conn));
	link_lost(p, why);
	err_set(err, "%s: %s", p->shown, why);
	return NULL;
}

/* The answer to the statement sent: its result, or NULL with err set when it failed. */
static PGresult *answer(struct pgstate *p, struct err *err)
{
	PGresult *res = await(p, err);
	ExecStatusType st;

	if (res == NULL)
		return NULL;
	st = pq.PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		statement_failed(p, res, err);
		pq.PQclear(res);
		return NULL;
	}
	return res;
}

/* Runs prepared statement i: its result (rows or none), or NULL with err set. */
static PGresult *run(struct pgstate *p, enum stmt i, const struct args *a, struct err *err)
{
	char name[16];

	if (p->link != LINK_UP) {
		err_set(err, "%s: the database is away (%s); paperwatch reconnects", p->shown,
			p->why);
		return NULL;
	}
	snprintf(name, sizeof(name), "s%d", (int)i);
	if (!pq.PQsendQueryPrepared(p->conn, name, a ? a->n : 0, a ? a->v : NULL, a ? a->len : NULL,
				    a ? a->fmt : NULL, 0))
		return send_failed(p, err);
	return answer(p, err);
}

/* Runs statement i for its effect alone. */
static int run_done(struct pgstate *p, enum stmt i, const struct args *a, struct err *err)
{
	PGresult *res = run(p, i, a, err);

	if (res == NULL)
		return -1;
	pq.PQclear(res);
	return 0;
}

/* Runs SQL text with no parameters (transactions, the schema), with the same deadline: its
 * result, or NULL with err set. */
static PGresult *run_text(struct pgstate *p, const char *sql, struct err *err)
{
	if (p->link != LINK_UP) {
		err_set(err, "%s: the database is away (%s); paperwatch reconnects", p->shown,
			p->why);
		return NULL;
	}
	if (!pq.PQsendQuery(p->conn, sql))
		return send_failed(p, err);
	return answer(p, err);
}

static int run_sql(struct pgstate *p, const char *sql, struct err *err)
{
	PGresult *res = run_text(p, sql, err);

	if (res == NULL)
		return -1;
	pq.PQclear(res);
	return 0;
}

static long long col_int(const PGresult *r, int row, int col)
{
	return pq.PQgetisnull(r, row, col) ? 0 : strtoll(pq.PQgetvalue(r, row, col), NULL, 10);
}

static const char *col_text(const PGresult *r, int row, int col)
{
	return pq.PQgetisnull(r, row, col) ? "" : pq.PQgetvalue(r, row, col);
}

/* A bytea column's bytes, with a NUL after them; the caller frees them. */
static char *col_bytes(const PGresult *r, int row, int col, size_t *len)
{
	unsigned char *raw = pq.PQunescapeBytea((const unsigned char *)col_text(r, row, col), len);
	char *out;

	if (raw == NULL) {
		*len = 0;
		return xstrdup("");
	}
	out = xmalloc(*len + 1);
	memcpy(out, raw, *len);
	out[*len] = '\0';
	pq.PQfreemem(raw);
	return out;
}

/* ---- Connecting ---- */

/* The keywords libpq connects with: the URI, then what paperwatch adds to it. */
static void conn_params(const struct pgstate *p, const char *keys[6], const char *values[6])
{
	int i = 0;

	keys[i] = "dbname", values[i++] = p->uri;
	keys[i] = "application_name", values[i++] = "paperwatch";
	keys[i] = "connect_timeout", values[i++] = "10";
	if (p->password != NULL)
		keys[i] = "password", values[i++] = p->password;
	keys[i] = NULL, values[i] = NULL;
}

/* Creates or migrates the schema, in one transaction that any other process's migration waits
 * for; refuses a schema a newer paperwatch made. */
static int setup_schema(struct pgstate *p, struct err *err)
{
	PGresult *res;
	int version = 0;
	char sql[160];

	/* A schema that is this version's needs nothing, nor any privilege beyond reading and
	 * writing its tables: a role that may not create them can use them. */
	if ((res = run_text(p, "SELECT to_regclass('paperwatch_meta') IS NOT NULL", err)) == NULL)
		return -1;
	version = col_text(res, 0, 0)[0] == 't' ? -1 : 0;
	pq.PQclear(res);
	if (version < 0) {
		res = run_text(p, "SELECT value FROM paperwatch_meta WHERE key = 'schema'", err);
		if (res == NULL)
			return -1;
		version = pq.PQntuples(res) == 1 ? (int)col_int(res, 0, 0) : 0;
		pq.PQclear(res);
		if (version == PG_SCHEMA_VERSION)
			return 0;
	}
	if (run_sql(p, "BEGIN", err) != 0)
		return -1;
	if (run_sql(p, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")", err) != 0 ||
	    run_sql(p, schema, err) != 0)
		goto fail;
	res = run_text(p, "SELECT value FROM paperwatch_meta WHERE key = 'schema'", err);
	if (res == NULL)
		goto fail;
	if (pq.PQntuples(res) == 1)
		version = (int)col_int(res, 0, 0);
	pq.PQclear(res);
	if (version > PG_SCHEMA_VERSION) {
		err_set(err, "%s: written by a newer paperwatch (schema %d, this one knows %d)",
			p->shown, version, PG_SCHEMA_VERSION);
		goto fail;
	}
	snprintf(sql, sizeof(sql),
		 "INSERT INTO paperwatch_meta (key, value) VALUES ('schema', '%d') "
		 "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
		 PG_SCHEMA_VERSION);
	if (run_sql(p, sql, err) != 0 || run_sql(p, "COMMIT", err) != 0)
		goto fail;
	return 0;
fail:
	rollback_quietly(p);
	return -1;
}

/* The server's notices ("relation already exists, skipping") are for whoever debugs. */
static void on_notice(void *ctx, const char *msg)
{
	char line[400];

	(void)ctx;
	one_line(line, sizeof(line), msg);
	log_debug("database: %s", line);
}

/* Makes a connection that has just been made ready: schema, statements, listening. */
static int setup(struct pgstate *p, struct err *err)
{
	PGresult *res;

	p->link = LINK_UP;
	pq.PQsetNoticeProcessor(p->conn, on_notice, NULL);
	if (pq.PQsetnonblocking(p->conn, 1) != 0) {
		link_lost(p, "cannot make the connection non-blocking");
		return err_set(err, "%s: %s", p->shown, p->why);
	}
	if (setup_schema(p, err) != 0)
		return -1;
	for (int i = 0; i < N_STMTS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "s%d", i);
		if (!pq.PQsendPrepare(p->conn, name, stmt_sql[i], 0, NULL) ||
		    (res = await(p, err)) == NULL)
			return -1;
		if (pq.PQresultStatus(res) != PGRES_COMMAND_OK) {
			statement_failed(p, res, err);
			pq.PQclear(res);
			return err_prefix(err, "preparing statement %d: ", i);
		}
		pq.PQclear(res);
	}
	if (p->epfd >= 0) {
		if (run_sql(p, "LISTEN " CHANNEL, err) != 0)
			return -1;
		watch_socket(p, pq.PQsocket(p->conn), EPOLLIN);
	}
	p->ready = true;
	return 0;
}

/* The message for a connection that could not be made, on one line. */
static int connect_failed(struct pgstate *p, struct err *err)
{
	char why[400];

	one_line(why, sizeof(why), p->conn ? pq.PQerrorMessage(p->conn) : "out of memory");
	pq.PQfinish(p->conn);
	p->conn = NULL;
	p->link = LINK_DOWN;
	snprintf(p->why, sizeof(p->why), "%s", why);
	return err_set(err, "%s: cannot connect to the database: %s", p->shown, why);
}

int pg_open(const char *uri, const struct state_opts *o, struct pgstate **out, struct err *err)
{
	struct pgstate *p = xcalloc(1, sizeof(*p));
	const char *keys[6], *values[6];
	char host[256] = "";

	if (pq_load(err) != 0) {
		free(p);
		return -1;
	}
	p->epfd = p->timer_fd = p->wake_fd = p->sock = -1;
	p->uri = xstrdup(uri);
	p->shown = pg_uri_shown(uri);
	p->link = LINK_DOWN;
	gethostname(host, sizeof(host) - 1);
	p->scope = xasprintf("%s:%s", host, o && o->scope ? o->scope : "");
	p->me = xasprintf("%s:%ld", host, (long)getpid());
	p->lease_ms = (long long)((o && o->lease > 0 ? o->lease : STATE_LEASE_DEFAULT) * 1000);
	if (o && o->password)
		p->password = xstrdup(o->password);
	conn_params(p, keys, values);
	p->conn = pq.PQconnectdbParams(keys, values, 1);
	if (p->conn == NULL || pq.PQstatus(p->conn) != CONNECTION_OK) {
		connect_failed(p, err);
		if (o == NULL || !o->patient)
			goto fail;
		/* The owner's set, made by pg_own, says when to try again. */
		log_error("%s; paperwatch starts and waits for it", err->msg);
		p->lost_at = mono_now();
		*out = p;
		return 0;
	}
	if (setup(p, err) != 0)
		goto fail;
	*out = p;
	return 0;
fail:
	pg_close(p);
	return -1;
}

void pg_close(struct pgstate *p)
{
	struct err err;

	if (p == NULL)
		return;
	if (p->link == LINK_UP) {
		if (pg_group_close(p, &err) == 0)
			pg_flush_marks(p, &err);
	}
	pq.PQfinish(p->conn);
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->timer_fd >= 0)
		close(p->timer_fd);
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	if (p->password != NULL)
		explicit_bzero(p->password, strlen(p->password));
	free(p->password);
	free(p->marks);
	free(p->uri);
	free(p->shown);
	free(p->scope);
	free(p->me);
	free(p);
}

bool pg_down(const struct pgstate *p)
{
	return p->link != LINK_UP;
}

void pg_on_wait(struct pgstate *p, state_wait_fn fn, void *ctx)
{
	p->on_wait = fn;
	p->wait_ctx = ctx;
}

/* ---- Listening, and reconnecting on the owner's loop ---- */

int pg_own(struct pgstate *p, struct err *err)
{
	struct epoll_event ev = {.events = EPOLLIN};

	if (p->epfd >= 0)
		return 0;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->epfd < 0 || p->timer_fd < 0 || p->wake_fd < 0)
		return err_set(err, "%s: cannot listen: %s", p->shown, strerror(errno));
	ev.data.fd = p->timer_fd;
	epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->timer_fd, &ev);
	ev.data.fd = p->wake_fd;
	epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wake_fd, &ev);
	if (p->link == LINK_DOWN) { /* opened patient, the database not reached yet */
		p->backoff = BACKOFF_FIRST;
		arm_timer(p, p->backoff);
		return 0;
	}
	if (run_sql(p, "LISTEN " CHANNEL, err) != 0)
		return -1;
	watch_socket(p, pq.PQsocket(p->conn), EPOLLIN);
	return 0;
}

int pg_knock(struct pgstate *p, struct err *err)
{
	return run_done(p, ST_KNOCK, NULL, err);
}

int pg_knock_fd(const struct pgstate *p)
{
	return p->epfd;
}

/* Starts a connection without waiting for it; the owner's set says when it can go on. */
static void connect_start(struct pgstate *p)
{
	const char *keys[6], *values[6];
	struct err err;

	conn_params(p, keys, values);
	p->conn = pq.PQconnectStartParams(keys, values, 1);
	if (p->conn == NULL || pq.PQstatus(p->conn) == CONNECTION_BAD) {
		connect_failed(p, &err);
		link_lost(p, p->why);
		return;
	}
	p->link = LINK_CONNECTING;
	watch_socket(p, pq.PQsocket(p->conn), EPOLLOUT);
	arm_timer(p, CONNECT_DEADLINE);
}

/* Takes the connection being made one step on. */
static void connect_step(struct pgstate *p, bool timed_out)
{
	struct err err;
	char why[300];

	if (timed_out) {
		snprintf(why, sizeof(why), "no connection within %.0f s", CONNECT_DEADLINE);
		link_lost(p, why);
		return;
	}
	switch (pq.PQconnectPoll(p->conn)) {
	case PGRES_POLLING_READING:
		watch_socket(p, pq.PQsocket(p->conn), EPOLLIN);
		return;
	case PGRES_POLLING_WRITING:
		watch_socket(p, pq.PQsocket(p->conn), EPOLLOUT);
		return;
	case PGRES_POLLING_OK:
		arm_timer(p, 0);
		if (setup(p, &err) != 0) {
			/* Connected, but the schema or a privilege is wrong: said once, tried again
			 * with the backoff, since an operator may be mending it. */
			if (p->link == LINK_UP && !p->refused)
				log_warn("%s; paperwatch tries again", err.msg);
			p->refused = p->link == LINK_UP || p->refused;
			if (p->link == LINK_UP)
				link_lost(p, err.msg);
			return;
		}
		p->refused = false;
		log_info("%s: the database is back after %.0f s; what waited goes on", p->shown,
			 mono_now() - p->lost_at);
		p->backoff = 0;
		p->reconnected = true;
		return;
	default:
		one_line(why, sizeof(why), pq.PQerrorMessage(p->conn));
		link_lost(p, why);
		return;
	}
}

int pg_knocked(struct pgstate *p, struct err *err)
{
	struct epoll_event evs[4];
	int n = p->epfd >= 0 ? epoll_wait(p->epfd, evs, 4, 0) : 0;
	bool timer = false, sock = false;
	uint64_t v;

	(void)err;
	for (int i = 0; i < n; i++) {
		if (evs[i].data.fd == p->timer_fd)
			timer = read(p->timer_fd, &v, sizeof(v)) == (ssize_t)sizeof(v);
		else if (evs[i].data.fd == p->wake_fd)
			eventfd_read(p->wake_fd, &v);
		else
			sock = true;
	}
	if (p->link == LINK_DOWN && timer)
		connect_start(p);
	else if (p->link == LINK_CONNECTING && (timer || sock))
		connect_step(p, timer && !sock);
	else if (p->link == LINK_UP && sock) {
		if (!pq.PQconsumeInput(p->conn)) {
			char why[256];

			one_line(why, sizeof(why), pq.PQerrorMessage(p->conn));
			link_lost(p, why);
		} else {
			take_notifications(p);
		}
	}
	if (p->reconnected) {
		p->reconnected = p->notified = false;
		return 2;
	}
	if (p->notified) {
		p->notified = false;
		return 1;
	}
	return 0;
}

/* ---- Digest files ---- */

int pg_files_partial(struct pgstate *p, struct state_partial *sp, struct err *err)
{
	struct args a = {0};
	PGresult *r;

	memset(sp, 0, sizeof(*sp));
	arg_text(&a, p->scope);
	if ((r = run(p, ST_FILES_PARTIAL, &a, err)) == NULL)
		return -1;
	sp->files = (size_t)col_int(r, 0, 0);
	snprintf(sp->last, sizeof(sp->last), "%s", col_text(r, 0, 1));
	sp->last_ms = col_int(r, 0, 2);
	pq.PQclear(r);
	return 0;
}

static void arg_stamp(struct args *a, const struct file_stamp *f)
{
	arg_int(a, (long long)f->dev);
	arg_int(a, (long long)f->ino);
	arg_int(a, f->size);
	arg_int(a, f->mtime_ns);
}

int pg_file_seen(struct pgstate *p, const char *name, const struct file_stamp *f, bool *seen,
		 struct err *err)
{
	struct args a = {0};
	PGresult *r;

	arg_text(&a, p->scope);
	arg_text(&a, name);
	arg_stamp(&a, f);
	if ((r = run(p, ST_FILE_SEEN, &a, err)) == NULL)
		return -1;
	*seen = pq.PQntuples(r) > 0;
	pq.PQclear(r);
	return 0;
}

int pg_file_hash(struct pgstate *p, const char *name, char hash[STATE_HASH_SIZE], struct err *err)
{
	struct args a = {0};
	PGresult *r;

	hash[0] = '\0';
	arg_text(&a, p->scope);
	arg_text(&a, name);
	if ((r = run(p, ST_FILE_HASH, &a, err)) == NULL)
		return -1;
	if (pq.PQntuples(r) > 0)
		snprintf(hash, STATE_HASH_SIZE, "%s", col_text(r, 0, 0));
	pq.PQclear(r);
	return 0;
}

int pg_file_done(struct pgstate *p, const char *name, const struct file_stamp *f,
		 const struct file_read *read, long long now_ms, struct err *err)
{
	struct args a = {0};

	arg_text(&a, p->scope);
	arg_text(&a, name);
	arg_stamp(&a, f);
	arg_text(&a, f->hash);
	arg_int(&a, (long long)read->papers);
	arg_int(&a, now_ms);
	arg_int(&a, (long long)read->fallback);
	arg_int(&a, (long long)read->skipped);
	arg_text(&a, read->format ? read->format : "");
	arg_int(&a, (long long)read->with_authors);
	arg_int(&a, (long long)read->papers_sum);
	return run_done(p, ST_FILE_DONE, &a, err);
}

/* ---- Transactions and groups ---- */

int pg_begin(struct pgstate *p, struct err *err)
{
	if (run_sql(p, p->grouped ? "SAVEPOINT digest" : "BEGIN", err) != 0)
		return -1;
	p->in_digest = true;
	return 0;
}

int pg_commit(struct pgstate *p, struct err *err)
{
	if (run_sql(p, p->grouped ? "RELEASE digest" : "COMMIT", err) != 0) {
		pg_rollback(p);
		return -1;
	}
	p->in_digest = false;
	return 0;
}

void pg_rollback(struct pgstate *p)
{
	struct err ignored;

	if (!p->in_digest || p->link != LINK_UP) {
		p->in_digest = false;
		return;
	}
	p->in_digest = false;
	if (p->grouped) {
		if (run_sql(p, "ROLLBACK TO digest", &ignored) == 0)
			run_sql(p, "RELEASE digest", &ignored);
	} else {
		run_sql(p, "ROLLBACK", &ignored);
	}
}

int pg_group_open(struct pgstate *p, struct err *err)
{
	if (p->grouped)
		return 0;
	if (run_sql(p, "BEGIN", err) != 0)
		return -1;
	p->grouped = true;
	return 0;
}

int pg_group_close(struct pgstate *p, struct err *err)
{
	if (!p->grouped)
		return 0;
	p->grouped = false;
	if (run_sql(p, "COMMIT", err) != 0) {
		rollback_quietly(p);
		p->group_lost = true;
		return -1;
	}
	return 0;
}

bool pg_grouped(const struct pgstate *p)
{
	return p->grouped;
}

bool pg_group_lost(struct pgstate *p)
{
	bool lost = p->group_lost;

	p->group_lost = false;
	return lost;
}

int pg_alert_add(struct pgstate *p, const struct state_alert *al, bool *fresh, struct err *err)
{
	struct args a = {0};
	PGresult *r;

	arg_text(&a, al->paper);
	arg_text(&a, al->rule);
	arg_text(&a, al->notifier);
	arg_text(&a, al->batch);
	arg_text(&a, al->title ? al->title : "");
	arg_int(&a, al->created_ms);
	if ((r = run(p, ST_ALERT_ADD, &a, err)) == NULL)
		return -1;
	*fresh = strcmp(pq.PQcmdTuples(r), "1") == 0;
	pq.PQclear(r);
	return 0;
}

int pg_outbox_add(struct pgstate *p, const char *notifier, const char *key, const char *source,
		  const char *body, size_t len, size_t n_papers, long long now_ms, struct err *err)
{
	struct args a = {0};

	arg_text(&a, notifier);
	arg_text(&a, key);
	arg_text(&a, source);
	arg_int(&a, (long long)n_papers);
	arg_int(&a, now_ms);
	arg_blob(&a, body, len);
	return run_done(p, ST_OUTBOX_ADD, &a, err);
}

/* ---- The outbox ---- */

/* The time on this host's clock that is db_delay_ms from now on the database's: the database
 * says how long things take, never what time it is. */
static long long host_ms(long long db_delay_ms)
{
	return state_now_ms() + db_delay_ms;
}

int pg_queue_next_due(struct pgstate *p, const char *notifier, long long *next_ms, struct err *err)
{
	struct args a = {0};
	PGresult *r;

	*next_ms = -1;
	arg_text(&a, notifier);
	if ((r = run(p, ST_NEXT_DUE, &a, err)) == NULL)
		return -1;
	if (pq.PQntuples(r) > 0) {
		long long wait = col_int(r, 0, 0);

		/* Due, but the pace row was another claimant's a moment ago: look again soon. */
		*next_ms = host_ms(wait > 20 ? wait : 20);
	}
	pq.PQclear(r);
	return 0;
}

int pg_claim_next(struct pgstate *p, const char *notifier, struct state_claim *c, bool *claimed,
		  long long *next_ms, struct err *err)
{
	struct args a = {0};
	PGresult *r;

	*claimed = false;
	/* A claim sees only what is committed: a group's messages go once it is. */
	if (pg_group_close(p, err) != 0)
		return -1;
	arg_text(&a, notifier);
	arg_text(&a, p->me);
	arg_int(&a, p->lease_ms);
	if ((r = run(p, ST_CLAIM, &a, err)) == NULL)
		return -1;
	if (pq.PQntuples(r) == 0) {
		pq.PQclear(r);
		return pg_queue_next_due(p, notifier, next_ms, err);
	}
	*c = (struct state_claim){.id = col_int(r, 0, 0),
				  .key = xstrdup(col_text(r, 0, 1)),
				  .attempts = (int)col_int(r, 0, 3),
				  .created_ms = col_int(r, 0, 4),
				  .n_papers = (size_t)col_int(r, 0, 5),
				  .token = col_int(r, 0, 6)};
	c->body = col_bytes(r, 0, 2, &c->len);
	pq.PQclear(r);
	*claimed = true;
	*next_ms = state_now_ms();
	return 0;
}

/* Runs an outcome statement; a claim whose token no longer matches changes nothing, and says
 * so: its lease ran out and another process has the message. */
static int outcome(struct pgstate *p, enum stmt i, struct state_claim *c, struct args *a,
		   struct err *err)
{
	PGresult *r;

	if (pg_group_close(p, err) != 0)
		return -1;
	if ((r = run(p, i, a, err)) == NULL)
		return -1;
	if (pq.PQntuples(r) == 0)
		log_warn("message %s: this process's claim on it ran out (lease %g s) and it "
			 "went back to the queue; what this attempt did is not recorded here",
			 c->key, (double)p->lease_ms / 1000);
	pq.PQclear(r);
	c->settled = true;
	return 0;
}

static void arg_claim(struct args *a, const struct state_claim *c)
{
	arg_int(a, c->id);
	arg_int(a, c->token);
	arg_int(a, c->pause_ms > 0 ? c->pause_ms : 0);
}

int pg_claim_delivered(struct pgstate *p, struct state_claim *c, long long now_ms, struct err *err)
{
	struct args a = {0};

	arg_claim(&a, c);
	arg_int(&a, now_ms);
	return outcome(p, ST_DELIVERED, c, &a, err);
}

/* Shared queues wait for no batch: the next message is another process's to claim as soon as
 * this one is recorded. A delivery that cannot be recorded now is the next flush's. */
void pg_claim_delivered_lazily(struct pgstate *p, struct state_claim *c, long long now_ms)
{
	struct err err;

	if (pg_claim_delivered(p, c, now_ms, &err) == 0)
		return;
	p->marks = xgrow(p->marks, &p->cap_marks, p->n_marks + 1, sizeof(*p->marks));
	p->marks[p->n_marks++] =
		(struct pg_mark){.id = c->id, .token = c->token, .done_ms = now_ms};
	c->settled = true;
}

int pg_flush_marks(struct pgstate *p, struct err *err)
{
	char key[] = "(a delivery written late)";

	while (p->n_marks > 0) {
		struct pg_mark *m = &p->marks[p->n_marks - 1];
		struct state_claim c = {.id = m->id, .token = m->token, .key = key};

		if (pg_claim_delivered(p, &c, m->done_ms, err) != 0)
			return -1;
		p->n_marks--;
	}
	return 0;
}

size_t pg_marks_pending(const struct pgstate *p)
{
	return p->n_marks;
}

int pg_claim_retry(struct pgstate *p, struct state_claim *c, long long next_ms, const char *detail,
		   struct err *err)
{
	struct args a = {0};

	arg_claim(&a, c);
	arg_int(&a, next_ms - state_now_ms());
	arg_text(&a, detail);
	arg_int(&a, state_now_ms());
	return outcome(p, ST_RETRY, c, &a, err);
}

int pg_claim_failed(struct pgstate *p, struct state_claim *c, long long now_ms, const char *detail,
		    struct err *err)
{
	struct args a = {0};

	arg_claim(&a, c);
	arg_int(&a, now_ms);
	arg_text(&a, detail);
	arg_int(&a, state_now_ms());
	return outcome(p, ST_FAILED, c, &a, err);
}

void pg_claim_end(struct pgstate *p, struct state_claim *c)
{
	struct args a = {0};
	struct err ignored;

	if (c->id != 0 && !c->settled && p->link == LINK_UP) {
		arg_int(&a, c->id);
		arg_int(&a, c->token);
		run_done(p, ST_RELEASE, &a, &ignored);
	}
	free(c->key);
	free(c->body);
	memset(c, 0, sizeof(*c));
}

int pg_outbox_requeue(struct pgstate *p, const char *notifier, long long now_ms, size_t *n,
		      struct err *err)
{
	struct args a = {0};
	PGresult *r;

	arg_text(&a, notifier);
	arg_int(&a, now_ms);
	if ((r = run(p, ST_REQUEUE, &a, err)) == NULL)
		return -1;
	*n = (size_t)strtoull(pq.PQcmdTuples(r), NULL, 10);
	pq.PQclear(r);
	return *n > 0 ? pg_knock(p, err) : 0;
}

int pg_counts(struct pgstate *p, const char *notifier, struct state_counts *c, struct err *err)
{
	struct args a = {0};
	PGresult *r;

	memset(c, 0, sizeof(*c));
	arg_text(&a, notifier);
	if ((r = run(p, ST_COUNTS, &a, err)) == NULL)
		return -1;
	c->delivered = (size_t)col_int(r, 0, 0);
	c->pending = (size_t)col_int(r, 0, 1);
	c->failed = (size_t)col_int(r, 0, 2);
	c->papers_delivered = (size_t)col_int(r, 0, 3);
	c->next_ms = pq.PQgetisnull(r, 0, 4) ? 0 : host_ms(col_int(r, 0, 4));
	pq.PQclear(r);
	if ((r = run(p, ST_LAST_ERROR, &a, err)) == NULL)
		return -1;
	if (pq.PQntuples(r) > 0)
		snprintf(c->last_error, sizeof(c->last_error), "%s", col_text(r, 0, 0));
	pq.PQclear(r);
	if ((r = run(p, ST_PENDING_ERROR, &a, err)) == NULL)
		return -1;
	if (pq.PQntuples(r) > 0 && !pq.PQgetisnull(r, 0, 0)) {
		snprintf(c->pending_error, sizeof(c->pending_error), "%s", col_text(r, 0, 0));
		c->pending_error_ms = col_int(r, 0, 1);
		c->pending_attempts = (int)col_int(r, 0, 2);
	}
	pq.PQclear(r);
	return 0;
}

int pg_notifiers(struct pgstate *p, char ***names, size_t *n, struct err *err)
{
	PGresult *r;

	*names = NULL;
	*n = 0;
	if ((r = run(p, ST_NOTIFIERS, NULL, err)) == NULL)
		return -1;
	for (int i = 0; i < pq.PQntuples(r); i++) {
		*names = xreallocarray(*names, *n + 1, sizeof(**names));
		(*names)[(*n)++] = xstrdup(col_text(r, i, 0));
	}
	pq.PQclear(r);
	return 0;
}

int pg_alerted(struct pgstate *p, const char *paper, const char *rule, char *notifiers, size_t size,
	       struct err *err)
{
	struct args a = {0};
	PGresult *r;

	notifiers[0] = '\0';
	arg_text(&a, paper);
	arg_text(&a, rule);
	if ((r = run(p, ST_ALERTED, &a, err)) == NULL)
		return -1;
	snprintf(notifiers, size, "%s", col_text(r, 0, 0));
	pq.PQclear(r);
	return 0;
}

int pg_recent(struct pgstate *p, size_t n, state_recent_fn fn, void *ctx, struct err *err)
{
	struct args a = {0};
	PGresult *r;

	arg_int(&a, (long long)n);
	if ((r = run(p, ST_RECENT, &a, err)) == NULL)
		return -1;
	for (int i = 0; i < pq.PQntuples(r); i++) {
		struct state_recent rc = {
			.alert = {.paper = col_text(r, i, 0),
				  .title = col_text(r, i, 1),
				  .rule = col_text(r, i, 2),
				  .notifier = col_text(r, i, 3),
				  .created_ms = col_int(r, i, 4)},
			.message_state = col_text(r, i, 5),
			.done_ms = col_int(r, i, 6),
		};

		fn(ctx, &rc);
	}
	pq.PQclear(r);
	return 0;
}

int pg_authors(struct pgstate *p, struct state_authors *au, struct err *err)
{
	struct args a = {0};
	PGresult *r;

	memset(au, 0, sizeof(*au));
	arg_text(&a, p->scope);
	if ((r = run(p, ST_AUTHORS, &a, err)) == NULL)
		return -1;
	au->files = (size_t)col_int(r, 0, 0);
	au->papers_with_authors = (size_t)col_int(r, 0, 1);
	snprintf(au->formats, sizeof(au->formats), "%s", col_text(r, 0, 2));
	pq.PQclear(r);
	return 0;
}

/* ---- Scheduled messages ---- */

int pg_period(struct pgstate *p, const char *notifier, long long first_ms, struct state_period *sp,
	      struct err *err)
{
	struct args a = {0};
	PGresult *r;

	arg_text(&a, notifier);
	arg_int(&a, first_ms);
	if (run_done(p, ST_PERIOD_OPEN, &a, err) != 0)
		return -1;
	a.n = 1;
	if ((r = run(p, ST_PERIOD_GET, &a, err)) == NULL)
		return -1;
	if (pq.PQntuples(r) == 0) {
		pq.PQclear(r);
		return err_set(err, "%s: notifier %s has no period", p->shown, notifier);
	}
	sp->last_ms = col_int(r, 0, 0);
	snprintf(sp->key, sizeof(sp->key), "%s", col_text(r, 0, 1));
	pq.PQclear(r);
	return 0;
}

int pg_period_close(struct pgstate *p, const char *notifier, long long last_ms, struct err *err)
{
	struct args a = {0};

	arg_text(&a, notifier);
	arg_int(&a, last_ms);
	return run_done(p, ST_PERIOD_CLOSE, &a, err);
}

int pg_hold(struct pgstate *p, const char *notifier, const char *alert, size_t len,
	    long long now_ms, struct err *err)
{
	struct args a = {0};

	arg_text(&a, notifier);
	arg_int(&a, now_ms);
	arg_blob(&a, alert, len);
	return run_done(p, ST_HOLD, &a, err);
}

int pg_held(struct pgstate *p, const char *notifier, state_held_fn fn, void *ctx, int64_t *last_id,
	    struct err *err)
{
	struct args a = {0};
	PGresult *r;

	*last_id = 0;
	arg_text(&a, notifier);
	if ((r = run(p, ST_HELD, &a, err)) == NULL)
		return -1;
	for (int i = 0; i < pq.PQntuples(r); i++) {
		size_t len;
		char *alert = col_bytes(r, i, 1, &len);

		*last_id = col_int(r, i, 0);
		fn(ctx, alert, len, col_int(r, i, 2));
		free(alert);
	}
	pq.PQclear(r);
	return 0;
}

int pg_held_release(struct pgstate *p, const char *notifier, int64_t last_id, struct err *err)
{
	struct args a = {0};

	arg_text(&a, notifier);
	arg_int(&a, last_id);
	return run_done(p, ST_HELD_RELEASE, &a, err);
}

int pg_held_count(struct pgstate *p, const char *notifier, size_t *n, long long *oldest_ms,
		  struct err *err)
{
	struct args a = {0};
	PGresult *r;

	arg_text(&a, notifier);
	if ((r = run(p, ST_HELD_COUNT, &a, err)) == NULL)
		return -1;
	*n = (size_t)col_int(r, 0, 0);
	*oldest_ms = col_int(r, 0, 1);
	pq.PQclear(r);
	return 0;
}

/* ---- Health ---- */

int pg_files_papers(struct pgstate *p, const char *format, const char *name, size_t max,
		    size_t *papers, size_t *n, struct err *err)
{
	struct args a = {0};
	PGresult *r;

	*n = 0;
	arg_text(&a, p->scope);
	arg_text(&a, format);
	arg_text(&a, name);
	arg_int(&a, (long long)max);
	if ((r = run(p, ST_FILES_PAPERS, &a, err)) == NULL)
		return -1;
	for (int i = 0; i < pq.PQntuples(r) && *n < max; i++)
		papers[(*n)++] = (size_t)col_int(r, i, 0);
	pq.PQclear(r);
	return 0;
}

int pg_files_latest(struct pgstate *p, size_t max, struct state_digest *out, size_t *n,
		    struct err *err)
{
	struct args a = {0};
	PGresult *r;

	*n = 0;
	arg_text(&a, p->scope);
	arg_int(&a, (long long)max);
	if ((r = run(p, ST_FILES_LATEST, &a, err)) == NULL)
		return -1;
	for (int i = 0; i < pq.PQntuples(r) && *n < max; i++) {
		struct state_digest *d = &out[(*n)++];

		snprintf(d->name, sizeof(d->name), "%s", col_text(r, i, 0));
		d->papers = (size_t)col_int(r, i, 1);
		d->processed_ms = col_int(r, i, 2);
	}
	pq.PQclear(r);
	return 0;
}

int pg_file_repeats(struct pgstate *p, const char *name, uint64_t sum, size_t papers, char *other,
		    size_t size, struct err *err)
{
	struct args a = {0};
	PGresult *r;

	other[0] = '\0';
	arg_text(&a, p->scope);
	arg_int(&a, (long long)sum);
	arg_int(&a, (long long)papers);
	arg_text(&a, name);
	if ((r = run(p, ST_FILE_REPEATS, &a, err)) == NULL)
		return -1;
	if (pq.PQntuples(r) > 0)
		snprintf(other, size, "%s", col_text(r, 0, 0));
	pq.PQclear(r);
	return 0;
}

int pg_health_each(struct pgstate *p, state_health_fn fn, void *ctx, struct err *err)
{
	struct args a = {0};
	PGresult *r;

	arg_text(&a, p->scope);
	if ((r = run(p, ST_HEALTH_LIST, &a, err)) == NULL)
		return -1;
	for (int i = 0; i < pq.PQntuples(r); i++) {
		struct state_health h = {.condition = col_text(r, i, 0),
					 .subject = col_text(r, i, 1),
					 .active = col_text(r, i, 2)[0] == 't',
					 .since_ms = col_int(r, i, 3),
					 .last_ms = col_int(r, i, 4),
					 .detail = col_text(r, i, 5)};

		fn(ctx, &h);
	}
	pq.PQclear(r);
	return 0;
}

int pg_health_put(struct pgstate *p, const struct state_health *h, struct err *err)
{
	struct args a = {0};

	arg_text(&a, p->scope);
	arg_text(&a, h->condition);
	arg_text(&a, h->subject);
	arg_text(&a, h->active ? "true" : "false");
	arg_int(&a, h->since_ms);
	arg_int(&a, h->last_ms);
	arg_text(&a, h->detail ? h->detail : "");
	return run_done(p, ST_HEALTH_PUT, &a, err);
}

/* ---- Papers read ---- */

int pg_paper_keep(struct pgstate *p, const char *id, const char *title, const char *abstract,
		  long long seen_ms, struct err *err)
{
	struct args a = {0};

	arg_text(&a, id);
	arg_text(&a, title);
	arg_text(&a, abstract);
	arg_int(&a, seen_ms);
	return run_done(p, ST_PAPERS_KEEP, &a, err);
}

int pg_papers_trim(struct pgstate *p, long long max, struct err *err)
{
	struct args a = {0};

	if (max <= 0)
		return run_sql(p, "DELETE FROM papers_read", err);
	arg_int(&a, max);
	return run_done(p, ST_PAPERS_TRIM, &a, err);
}

int pg_paper_text(struct pgstate *p, const char *id, state_paper_fn fn, void *ctx, struct err *err)
{
	struct args a = {0};
	PGresult *r;

	arg_text(&a, id);
	if ((r = run(p, ST_PAPERS_TEXT, &a, err)) == NULL)
		return -1;
	if (pq.PQntuples(r) > 0)
		fn(ctx, col_text(r, 0, 0), pq.PQgetisnull(r, 0, 1) ? NULL : col_text(r, 0, 1));
	pq.PQclear(r);
	return 0;
}

/* ---- Moving an SQLite state in ---- */

const char *const pg_import_columns[PG_N_TABLES] = {
	[PG_FILES] = "name, dev, ino, size, mtime_ns, hash, papers, processed_ms, fallback, "
		     "skipped, format, with_authors, papers_sum",
	[PG_ALERTS] = "paper, rule, notifier, batch, title, created_ms",
	[PG_OUTBOX] = "notifier, key, source, papers, state, attempts, created_ms, next_ms, "
		      "done_ms, last_error, tried_ms, body",
	[PG_HELD] = "notifier, created_ms, alert",
	[PG_PERIODS] = "notifier, last_ms, key",
	[PG_HEALTH] = "condition, subject, active, since_ms, last_ms, detail",
	[PG_PAPERS_READ] = "id, title, abstract, seen_ms",
};

/* Each table's row, kept where the shared state has it already: files and health conditions
 * go into this process's scope ($1). */
static const char *const import_sql[PG_N_TABLES] = {
	[PG_FILES] = "INSERT INTO files (scope, name, dev, ino, size, mtime_ns, hash, papers, "
		     "processed_ms, fallback, skipped, format, with_authors, papers_sum) VALUES "
		     "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
		     "ON CONFLICT DO NOTHING",
	[PG_ALERTS] = "INSERT INTO alerts (paper, rule, notifier, batch, title, created_ms) "
		      "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
	[PG_OUTBOX] = "WITH m AS (INSERT INTO outbox (notifier, key, source, papers, state, "
		      "  attempts, created_ms, next_ms, done_ms, last_error, tried_ms, body) "
		      "  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
		      "  ON CONFLICT (key) DO NOTHING RETURNING notifier) "
		      "INSERT INTO pacing (notifier) SELECT notifier FROM m ON CONFLICT DO NOTHING",
	[PG_HELD] = "INSERT INTO held (notifier, created_ms, alert) "
		    "SELECT $1::text, $2::bigint, $3::bytea WHERE NOT EXISTS (SELECT 1 FROM held "
		    "WHERE notifier = $1::text AND created_ms = $2::bigint AND alert = $3::bytea)",
	[PG_PERIODS] = "INSERT INTO periods (notifier, last_ms, key) VALUES ($1, $2, $3) "
		       "ON CONFLICT DO NOTHING",
	[PG_HEALTH] = "INSERT INTO health (scope, condition, subject, active, since_ms, last_ms, "
		      "detail) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
	[PG_PAPERS_READ] = "INSERT INTO papers_read (id, title, abstract, seen_ms) "
			   "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
};

int pg_import_begin(struct pgstate *p, struct err *err)
{
	return pg_begin(p, err);
}

int pg_import_row(struct pgstate *p, enum pg_table t, int n, const char *const *values,
		  const int *lengths, const int *binary, bool *added, struct err *err)
{
	struct args a = {0};
	PGresult *r;

	if (t == PG_FILES || t == PG_HEALTH)
		arg_text(&a, p->scope);
	for (int i = 0; i < n && a.n < MAX_PARAMS; i++) {
		if (binary[i])
			arg_blob(&a, values[i], (size_t)lengths[i]);
		else
			arg_text(&a, values[i]);
	}
	if (p->link != LINK_UP)
		return err_set(err, "%s: the database is away (%s)", p->shown, p->why);
	if (!pq.PQsendQueryParams(p->conn, import_sql[t], a.n, NULL, a.v, a.len, a.fmt, 0)) {
		send_failed(p, err);
		return -1;
	}
	if ((r = answer(p, err)) == NULL)
		return -1;
	*added = strcmp(pq.PQcmdTuples(r), "0") != 0;
	pq.PQclear(r);
	return 0;
}

int pg_import_end(struct pgstate *p, struct err *err)
{
	return pg_commit(p, err);
}
