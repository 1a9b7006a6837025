/*
 * state.c — the SQLite state: schema, the enqueue transaction, the outbox queries and the
 * write-ahead log's checkpoints. Every statement is prepared once and kept. A claim lives in
 * the claimant's memory only: one process at a time delivers from a state file.
 *
 * A state opened from a PostgreSQL URI is state_pg.c's: each function here hands it on first.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state.h"
#include "state_pg.h"
#include "xmalloc.h"

/* 2: a delivered message keeps its row, for the counts, but not its body; 3: how much of each
 * file was read; 4: what `status` shows of alerts and attempts, and bodies in a table of their
 * own; 5: each file's papers in sum, the health conditions, and alerts held for a notifier's
 * scheduled message with each schedule's last period. */
#define SCHEMA_VERSION 5
/* How long a writer waits for another (a `paperwatch status` reading while the daemon writes). */
#define BUSY_TIMEOUT_MS 10000
/* The write-ahead log is copied back into the database (a checkpoint) once it holds
 * WAL_CHECKPOINT_PAGES. With maintenance left to quiet moments, that waits until no commit has
 * come for CHECKPOINT_QUIET seconds, unless the log reaches WAL_FORCE_PAGES (32 MiB of 4 KiB
 * pages): then it is done at once however busy things are, so the log stays bounded. */
#define WAL_CHECKPOINT_PAGES 1000
#define WAL_FORCE_PAGES      8192
#define CHECKPOINT_QUIET     1.0
/* What SQLite calls a database that lives in memory. */
#define EPHEMERAL_PATH ":memory:"

/* The outbox's check of a message's state, as older files have it and as it is now: the same
 * rule, but for a list of three SQLite builds a table in memory each time it checks, at every
 * insert and update of a message. */
#define OUTBOX_CHECK_LIST  "CHECK (state IN ('pending', 'delivered', 'failed'))"
#define OUTBOX_CHECK_PLAIN "CHECK (state = 'pending' OR state = 'delivered' OR state = 'failed')"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS files ("
	"  name TEXT PRIMARY KEY,"
	"  dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL,"
	"  mtime_ns INTEGER NOT NULL, hash TEXT NOT NULL,"
	"  papers INTEGER NOT NULL, processed_ms INTEGER NOT NULL,"
	/* How much of it the format did not read: papers only the fallback did, records left out.
	 */
	"  fallback INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,"
	/* Its format, and how many of its papers named authors (-1: not known, from before). */
	"  format TEXT NOT NULL DEFAULT '', with_authors INTEGER NOT NULL DEFAULT -1);"
	/* Every alert ever queued: the same paper, rule and notifier never go out twice. */
	"CREATE TABLE IF NOT EXISTS alerts ("
	"  paper TEXT NOT NULL, rule TEXT NOT NULL, notifier TEXT NOT NULL,"
	"  batch TEXT NOT NULL,"
	"  title TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (paper, rule, notifier)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  notifier TEXT NOT NULL,"
	"  key TEXT NOT NULL UNIQUE,"
	"  source TEXT NOT NULL,"
	"  papers INTEGER NOT NULL,"
	"  state TEXT NOT NULL " OUTBOX_CHECK_PLAIN ","
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  created_ms INTEGER NOT NULL,"
	"  next_ms INTEGER NOT NULL,"
	"  done_ms INTEGER,"
	"  last_error TEXT,"
	"  tried_ms INTEGER);" /* the last attempt's time, which last_error is about */
	"CREATE INDEX IF NOT EXISTS outbox_queue ON outbox (notifier, state, id);"
	/* A message's body until it is delivered, apart from its row: the row's updates (each
	 * attempt's) never copy it, and letting it go is a delete, not a rewrite of the row. */
	"CREATE TABLE IF NOT EXISTS bodies ("
	"  message INTEGER PRIMARY KEY, body BLOB NOT NULL);"
	/* Alerts waiting for their notifier's scheduled message: all the message needs of each
	 * (its paper, rules and hits, encoded by the caller), so a restart loses none. */
	"CREATE TABLE IF NOT EXISTS held ("
	"  id INTEGER PRIMARY KEY, notifier TEXT NOT NULL, created_ms INTEGER NOT NULL,"
	"  alert BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS held_queue ON held (notifier, id);"
	/* Per scheduled notifier: the deadline of the last period whose message was made, and the
	 * key the open period's alerts and message carry. */
	"CREATE TABLE IF NOT EXISTS periods ("
	"  notifier TEXT PRIMARY KEY, last_ms INTEGER NOT NULL, key TEXT NOT NULL);";

enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_MAX_ID,
	ST_FILE_SEEN,
	ST_FILE_DONE,
	ST_FILE_HASH,
	ST_FILES_PARTIAL,
	ST_ALERT_ADD,
	ST_OUTBOX_ADD,
	ST_BODY_ADD,
	ST_BODY_DELETE,
	ST_OUTBOX_HEAD,
	ST_OUTBOX_DELIVERED,
	ST_OUTBOX_RETRY,
	ST_OUTBOX_FAILED,
	ST_OUTBOX_REQUEUE,
	ST_OUTBOX_REQUEUE_ALL,
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
	N_STMTS
};

/* A period's key is a batch key as the pipeline makes them: the stem and 16 random bytes. */
#define PERIOD_KEY "'msg_' || lower(hex(randomblob(16)))"

static const char *const stmt_sql[N_STMTS] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	/* A digest inside a group: it rolls back alone. */
	[ST_SAVEPOINT] = "SAVEPOINT digest",
	[ST_RELEASE] = "RELEASE digest",
	[ST_ROLLBACK_TO] = "ROLLBACK TO digest",
	[ST_MAX_ID] = "SELECT coalesce(max(id), 0) FROM outbox",
	[ST_FILE_SEEN] = "SELECT 1 FROM files WHERE name = ?1 AND dev = ?2 AND ino = ?3 AND "
			 "size = ?4 AND mtime_ns = ?5",
	[ST_FILE_DONE] =
		"INSERT INTO files (name, dev, ino, size, mtime_ns, hash, papers, "
		"processed_ms, fallback, skipped, format, with_authors, papers_sum) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
		"ON CONFLICT (name) DO UPDATE SET dev = ?2, ino = ?3, size = ?4, "
		"mtime_ns = ?5, hash = ?6, papers = ?7, "
		/* The same bytes touched or copied over: the same digest, read when it was. */
		"processed_ms = CASE WHEN hash = ?6 THEN processed_ms ELSE ?8 END, fallback = ?9, "
		"skipped = ?10, format = ?11, with_authors = ?12, papers_sum = ?13",
	[ST_FILE_HASH] = "SELECT hash FROM files WHERE name = ?1",
	[ST_FILES_PARTIAL] = "SELECT count(*), (SELECT name FROM files WHERE fallback > 0 OR "
			     "skipped > 0 ORDER BY processed_ms DESC, name LIMIT 1), "
			     "max(processed_ms) FROM files WHERE fallback > 0 OR skipped > 0",
	[ST_ALERT_ADD] = "INSERT OR IGNORE INTO alerts (paper, rule, notifier, batch, title, "
			 "created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_OUTBOX_ADD] = "INSERT INTO outbox (notifier, key, source, papers, state, created_ms, "
			  "next_ms) VALUES (?1, ?2, ?3, ?5, 'pending', ?6, ?6)",
	[ST_BODY_ADD] = "INSERT INTO bodies (message, body) VALUES (last_insert_rowid(), ?1)",
	/* Sent is sent: the body is not needed again, and would make the file grow for ever. */
	[ST_BODY_DELETE] = "DELETE FROM bodies WHERE message = ?1",
	/* ?2: the last message delivered but not yet marked so; ?3: the last one committed. */
	[ST_OUTBOX_HEAD] =
		"SELECT id, key, (SELECT body FROM bodies WHERE message = id), attempts, "
		"created_ms, next_ms, papers FROM outbox "
		"WHERE notifier = ?1 AND state = 'pending' AND id > ?2 AND id <= ?3 "
		"ORDER BY id LIMIT 1",
	[ST_OUTBOX_DELIVERED] = "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, "
				"done_ms = ?2, last_error = NULL WHERE id = ?1",
	[ST_OUTBOX_RETRY] = "UPDATE outbox SET attempts = attempts + 1, next_ms = ?2, "
			    "last_error = ?3, tried_ms = ?4 WHERE id = ?1",
	[ST_OUTBOX_FAILED] = "UPDATE outbox SET state = 'failed', attempts = attempts + 1, "
			     "done_ms = ?2, last_error = ?3, tried_ms = ?4 WHERE id = ?1",
	[ST_OUTBOX_REQUEUE] = "UPDATE outbox SET state = 'pending', next_ms = ?2, created_ms = ?2, "
			      "done_ms = NULL WHERE state = 'failed' AND notifier = ?1",
	[ST_OUTBOX_REQUEUE_ALL] = "UPDATE outbox SET state = 'pending', next_ms = ?2, "
				  "created_ms = ?2, done_ms = NULL WHERE state = 'failed'",
	[ST_COUNTS] = "SELECT "
		      "  count(*) FILTER (WHERE state = 'delivered'),"
		      "  count(*) FILTER (WHERE state = 'pending'),"
		      "  count(*) FILTER (WHERE state = 'failed'),"
		      "  total(papers) FILTER (WHERE state = 'delivered'),"
		      "  min(next_ms) FILTER (WHERE state = 'pending') "
		      "FROM outbox WHERE notifier = ?1",
	[ST_LAST_ERROR] = "SELECT last_error FROM outbox WHERE notifier = ?1 AND state = 'failed' "
			  "ORDER BY done_ms DESC LIMIT 1",
	[ST_NOTIFIERS] = "SELECT DISTINCT notifier FROM outbox ORDER BY notifier",
	/* Why the queue waits: its head, the message every other one waits behind. */
	[ST_PENDING_ERROR] = "SELECT last_error, tried_ms, attempts FROM outbox "
			     "WHERE notifier = ?1 AND state = 'pending' ORDER BY id LIMIT 1",
	[ST_ALERTED] = "SELECT group_concat(notifier, ', ') FROM alerts WHERE paper = ?1 AND "
		       "rule = ?2",
	/* A batch's messages are its key and "-N": the range from "-" to the next byte, '.'. */
	[ST_RECENT] =
		"SELECT a.paper, a.title, a.rule, a.notifier, a.created_ms, "
		"  coalesce((SELECT min(o.state) FROM outbox o WHERE o.notifier = a.notifier AND "
		"   o.key > a.batch || '-' AND o.key < a.batch || '.'), "
		"   (SELECT 'held' FROM periods p WHERE p.notifier = a.notifier AND "
		"    p.key = a.batch)), "
		"  (SELECT max(o.done_ms) FROM outbox o WHERE o.notifier = a.notifier AND "
		"   o.key > a.batch || '-' AND o.key < a.batch || '.') "
		"FROM alerts a ORDER BY a.created_ms DESC, a.paper, a.rule, a.notifier LIMIT ?1",
	[ST_AUTHORS] =
		"SELECT count(*), total(with_authors), "
		"  (SELECT group_concat(format, ', ') FROM (SELECT DISTINCT format FROM files "
		"   WHERE with_authors >= 0 AND papers > 0 AND format != '' ORDER BY format)) "
		"FROM files WHERE with_authors >= 0 AND papers > 0",
	[ST_HOLD] = "INSERT INTO held (notifier, created_ms, alert) VALUES (?1, ?2, ?3)",
	[ST_HELD] = "SELECT id, alert, created_ms FROM held WHERE notifier = ?1 ORDER BY id",
	[ST_HELD_RELEASE] = "DELETE FROM held WHERE notifier = ?1 AND id <= ?2",
	[ST_HELD_COUNT] = "SELECT count(*), min(created_ms) FROM held WHERE notifier = ?1",
	[ST_PERIOD_OPEN] = "INSERT OR IGNORE INTO periods (notifier, last_ms, key) "
			   "VALUES (?1, ?2, " PERIOD_KEY ")",
	[ST_PERIOD_GET] = "SELECT last_ms, key FROM periods WHERE notifier = ?1",
	[ST_PERIOD_CLOSE] =
		"UPDATE periods SET last_ms = ?2, key = " PERIOD_KEY " WHERE notifier = ?1",
	/* Health: each an index's few rows, however long the history. */
	[ST_FILES_PAPERS] = "SELECT papers FROM files WHERE format = ?1 AND name != ?2 "
			    "ORDER BY processed_ms DESC LIMIT ?3",
	[ST_FILES_LATEST] = "SELECT name, papers, processed_ms FROM files "
			    "ORDER BY processed_ms DESC LIMIT ?1",
	[ST_FILE_REPEATS] = "SELECT name FROM files WHERE papers_sum = ?1 AND papers = ?2 AND "
			    "name != ?3 LIMIT 1",
	[ST_HEALTH_LIST] = "SELECT condition, subject, active, since_ms, last_ms, detail "
			   "FROM health ORDER BY condition, subject",
	[ST_HEALTH_PUT] = "INSERT INTO health (condition, subject, active, since_ms, last_ms, "
			  "detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
			  "ON CONFLICT (condition, subject) DO UPDATE SET active = ?3, "
			  "since_ms = ?4, last_ms = ?5, detail = ?6",
};

/* The statements of the papers read (papers_setup). */
enum { PAPERS_KEEP, PAPERS_TRIM, PAPERS_TEXT, N_PAPERS_STMTS };

struct state {
	struct pgstate *pg; /* a shared state: every call is its */
	sqlite3 *db;
	char *path;
	int lock_fd;  /* the owner's lock, held while the state is open; -1 when not the owner */
	int knock_fd; /* the owner's: readable when another process knocked; -1 otherwise */
	int db_wd;    /* the owner's watch on the database file itself, on knock_fd */
	dev_t dev;    /* the database file the owner opened, to tell it from a replacement */
	ino_t ino;
	bool abandoned; /* its file went from under it: nothing is copied back into the path */
	sqlite3_stmt *stmt[N_STMTS];
	sqlite3_stmt *papers_stmt[N_PAPERS_STMTS]; /* papers_setup */
	bool when_quiet;      /* checkpoints wait for a quiet moment (state_maintain_when_quiet) */
	double checkpoint_at; /* monotonic seconds when one is due; 0 when none is */
	bool grouped;         /* a group is open (state_group_open): digests are its savepoints */
	bool group_lost;      /* a group was lost since state_group_lost last said so */
	int64_t visible_id;   /* while grouped: the last message committed before it, and claimed */
	struct lazy_mark
		*marks; /* deliveries the next commit writes (state_claim_delivered_lazily) */
	size_t n_marks, cap_marks;
};

/* A delivery known in memory only, until a commit writes it. */
struct lazy_mark {
	int64_t id;
	long long done_ms;
	char *notifier;
};

/* Monotonic seconds, for the quiet moment. */
static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long long state_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The message for an SQLite failure, with what to do when the file itself is the problem. */
static int db_error(struct state *s, int rc, struct err *err)
{
	const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);

	if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
		return err_set(err,
			       "%s: the state database is damaged (%s); move it aside "
			       "(mv %s %s.broken; rm -f %s.lock) and paperwatch starts afresh, but "
			       "alerts already sent may then be sent again",
			       s->path, msg, s->path, s->path, s->path);
	if (rc == SQLITE_FULL)
		return err_set(err,
			       "%s: the disk is full; nothing was lost, paperwatch tries again",
			       s->path);
	if (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN || rc == SQLITE_PERM)
		return err_set(err, "%s: %s (paperwatch needs to write its state here)", s->path,
			       msg);
	return err_set(err, "%s: %s", s->path, msg);
}

/* Runs a prepared statement to completion (no rows wanted) and resets it. */
static int step_done(struct state *s, enum stmt i, struct err *err)
{
	int rc = sqlite3_step(s->stmt[i]);

	sqlite3_reset(s->stmt[i]);
	sqlite3_clear_bindings(s->stmt[i]);
	if (rc != SQLITE_DONE)
		return db_error(s, rc, err);
	return 0;
}

static int exec_sql(struct state *s, const char *sql, struct err *err)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_error(s, rc, err);
}

/* A column's text, "" for NULL. */
static const char *column_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

static int checkpoint(struct state *s, struct err *err)
{
	int rc;

	if (s->abandoned)
		return 0; /* the file at the path is no longer this state's */
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_error(s, rc, err);
}

/* After each commit, with the pages now in the write-ahead log. SQLite's own automatic
 * checkpoint would copy them back and sync the database inside the commit that crosses its
 * threshold, holding up that digest's alerts; a daemon does it when nothing is waiting. */
static int on_commit(void *ctx, sqlite3 *db, const char *name, int pages)
{
	struct state *s = ctx;

	(void)db;
	(void)name;
	if (pages < WAL_CHECKPOINT_PAGES || s->abandoned)
		return SQLITE_OK;
	if (s->when_quiet && pages < WAL_FORCE_PAGES) {
		s->checkpoint_at = mono_now() + CHECKPOINT_QUIET;
		return SQLITE_OK;
	}
	/* A checkpoint that fails leaves the log as it was; the next commit tries again. */
	sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

void state_maintain_when_quiet(struct state *s)
{
	if (s->pg != NULL)
		return;
	s->when_quiet = true;
}

int state_maintain(struct state *s, double *next, struct err *err)
{
	if (s->pg != NULL) {
		*next = -1;
		return 0;
	}
	double now;

	*next = -1;
	if (s->checkpoint_at <= 0)
		return 0;
	if (s->grouped) {
		*next = CHECKPOINT_QUIET; /* not inside a group: after it */
		return 0;
	}
	now = mono_now();
	if (now < s->checkpoint_at) {
		*next = s->checkpoint_at - now;
		return 0;
	}
	s->checkpoint_at = 0;
	return checkpoint(s, err);
}

/* Schema 3: the files table says how much of each file its format read. A table made by this
 * version has the columns already; one made before gets them. */
static int migrate_partial(struct state *s, struct err *err)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(s->db, "SELECT fallback FROM files LIMIT 0", -1, &st, NULL) !=
	    SQLITE_OK) {
		if (exec_sql(s,
			     "ALTER TABLE files ADD COLUMN fallback INTEGER NOT NULL DEFAULT 0;"
			     "ALTER TABLE files ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;",
			     err) != 0)
			return -1;
	}
	sqlite3_finalize(st);
	return exec_sql(s, "PRAGMA user_version = 3", err);
}

/* Whether the table has the column: the schema of a new file has every column already. */
static bool has_column(struct state *s, const char *table, const char *column)
{
	char sql[128];
	sqlite3_stmt *st;
	bool has;

	snprintf(sql, sizeof(sql), "SELECT %s FROM %s LIMIT 0", column, table);
	has = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK;
	sqlite3_finalize(st);
	return has;
}

/* Schema 4: an alert keeps its paper's title and its time, for `status --recent`; a message,
 * when its last attempt was, for the error `status` shows; a file, its format and how many of
 * its papers named authors, for `check-config`. */
static int migrate_history(struct state *s, struct err *err)
{
	if (!has_column(s, "alerts", "title") &&
	    exec_sql(s,
		     "ALTER TABLE alerts ADD COLUMN title TEXT NOT NULL DEFAULT '';"
		     "ALTER TABLE alerts ADD COLUMN created_ms INTEGER NOT NULL DEFAULT 0;",
		     err) != 0)
		return -1;
	if (!has_column(s, "files", "format") &&
	    exec_sql(s,
		     "ALTER TABLE files ADD COLUMN format TEXT NOT NULL DEFAULT '';"
		     "ALTER TABLE files ADD COLUMN with_authors INTEGER NOT NULL DEFAULT -1;",
		     err) != 0)
		return -1;
	if (!has_column(s, "outbox", "tried_ms") &&
	    exec_sql(s, "ALTER TABLE outbox ADD COLUMN tried_ms INTEGER", err) != 0)
		return -1;
	/* The bodies still needed (pending, and failed for `retry`) move to their own table. */
	if (has_column(s, "outbox", "body") &&
	    exec_sql(s,
		     "INSERT OR IGNORE INTO bodies (message, body) SELECT id, body FROM outbox "
		     "WHERE state != 'delivered';"
		     "ALTER TABLE outbox DROP COLUMN body;",
		     err) != 0)
		return -1;
	return exec_sql(s, "PRAGMA user_version = 4", err);
}

/* Schema 5: a file keeps the sum of its papers' identity hashes (NULL: read before, not known),
 * by which a copy of an earlier digest is told; the health conditions live in a table of their
 * own, one row per condition and what it is about (a pattern, a format), kept when it clears
 * for the quiet check's last arrival. The tables of scheduled messages (held, periods) are
 * new: the schema made them. */
static int migrate_5(struct state *s, struct err *err)
{
	if (!has_column(s, "files", "papers_sum") &&
	    exec_sql(s, "ALTER TABLE files ADD COLUMN papers_sum INTEGER", err) != 0)
		return -1;
	if (exec_sql(s,
		     "CREATE TABLE IF NOT EXISTS health ("
		     "  condition TEXT NOT NULL, subject TEXT NOT NULL,"
		     "  active INTEGER NOT NULL DEFAULT 0, since_ms INTEGER NOT NULL DEFAULT 0,"
		     "  last_ms INTEGER NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '',"
		     "  PRIMARY KEY (condition, subject)) WITHOUT ROWID;"
		     "CREATE INDEX IF NOT EXISTS files_format ON files (format, processed_ms);"
		     "CREATE INDEX IF NOT EXISTS files_time ON files (processed_ms);"
		     "CREATE INDEX IF NOT EXISTS files_sum ON files (papers_sum);",
		     err) != 0)
		return -1;
	return exec_sql(s, "PRAGMA user_version = 5", err);
}

/* The outbox's table as it should be written, with the check of today, and the schema's version:
 * *sql NULL when the table has it already. */
static int outbox_rewritten(struct state *s, char **sql, int *cookie, struct err *err)
{
	sqlite3_stmt *st;
	const char *old, *at;
	int rc;

	*sql = NULL;
	rc = sqlite3_prepare_v2(s->db,
				"SELECT sql, (SELECT schema_version FROM pragma_schema_version) "
				"FROM sqlite_schema WHERE type = 'table' AND name = 'outbox'",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_error(s, rc, err);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		old = column_text(st, 0);
		*cookie = sqlite3_column_int(st, 1);
		if ((at = strstr(old, OUTBOX_CHECK_LIST)) != NULL)
			*sql = xasprintf("%.*s%s%s", (int)(at - old), old, OUTBOX_CHECK_PLAIN,
					 at + strlen(OUTBOX_CHECK_LIST));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(s, rc, err);
}

/* Gives a file with the outbox check of a list the check of today. The same constraint in other
 * words, which every stored row meets as it did, so the schema's version stays and an older
 * paperwatch reads the file as before. SQLite's way for such a change: in one transaction, the
 * table's text in the schema edited and the schema's own version moved on. Looked at first
 * outside a transaction, since nearly every file has it already. */
static int outbox_check_plain(struct state *s, struct err *err)
{
	char *sql, *edit;
	int cookie = 0, rc;

	if (outbox_rewritten(s, &sql, &cookie, err) != 0)
		return -1;
	if (sql == NULL)
		return 0;
	free(sql);
	if (exec_sql(s, "BEGIN IMMEDIATE", err) != 0)
		return -1;
	rc = outbox_rewritten(s, &sql, &cookie, err);
	if (rc == 0 && sql != NULL) {
		edit = sqlite3_mprintf("PRAGMA writable_schema = ON;"
				       "UPDATE sqlite_schema SET sql = %Q "
				       "WHERE type = 'table' AND name = 'outbox';"
				       "PRAGMA schema_version = %d;"
				       "PRAGMA writable_schema = OFF;",
				       sql, cookie + 1);
		rc = edit ? exec_sql(s, edit, err) : err_set(err, "%s: out of memory", s->path);
		sqlite3_free(edit);
		free(sql);
	}
	if (rc == 0 && exec_sql(s, "COMMIT", err) == 0)
		return 0;
	sqlite3_exec(s->db, "PRAGMA writable_schema = OFF; ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* A next attempt so far off it cannot be meant (older versions could store a server's
 * Retry-After of 1e17 as a negative time): the message is due now instead of never. */
#define NEXT_ATTEMPT_MAX_MS (10LL * 365 * 86400 * 1000)

static int repair_next_attempts(struct state *s, struct err *err)
{
	long long now = state_now_ms();
	char sql[160];

	snprintf(sql, sizeof(sql),
		 "UPDATE outbox SET next_ms = %lld WHERE state = 'pending' AND "
		 "(next_ms < 0 OR next_ms > %lld)",
		 now, now + NEXT_ATTEMPT_MAX_MS);
	return exec_sql(s, sql, err);
}

/* ---- Papers read, for libraries that list arXiv ids ----
 *
 * A table of its own, made where it is missing: an older file gains it when it opens, and an
 * older paperwatch opening a newer file leaves it alone, so the schema's version need not
 * change. */

static const char papers_schema[] =
	"CREATE TABLE IF NOT EXISTS papers_read ("
	"  id TEXT PRIMARY KEY, title TEXT NOT NULL, abstract TEXT,"
	"  seen_ms INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS papers_read_seen ON papers_read (seen_ms);";

static const char *const papers_sql[N_PAPERS_STMTS] = {
	/* Seen again: the newer text, but an abstract is not lost to a digest without one. */
	[PAPERS_KEEP] = "INSERT INTO papers_read (id, title, abstract, seen_ms) "
			"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE SET title = ?2, "
			"abstract = coalesce(?3, abstract), seen_ms = ?4",
	[PAPERS_TRIM] = ("DELETE FROM papers_read WHERE seen_ms < (SELECT seen_ms FROM papers_read "
			 "ORDER BY seen_ms DESC LIMIT 1 OFFSET ?1 - 1)"),
	[PAPERS_TEXT] = "SELECT title, abstract FROM papers_read WHERE id = ?1",
};

static int papers_setup(struct state *s, struct err *err)
{
	if (exec_sql(s, papers_schema, err) != 0)
		return -1;
	for (int i = 0; i < N_PAPERS_STMTS; i++) {
		int rc = sqlite3_prepare_v3(s->db, papers_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					    &s->papers_stmt[i], NULL);

		if (rc != SQLITE_OK)
			return db_error(s, rc, err);
	}
	return 0;
}

/* Steps a papers statement that returns no row, and resets it. */
static int papers_done(struct state *s, sqlite3_stmt *st, struct err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : db_error(s, rc, err);
}

int state_paper_keep(struct state *s, const char *id, const char *title, const char *abstract,
		     long long seen_ms, struct err *err)
{
	if (s->pg != NULL)
		return pg_paper_keep(s->pg, id, title, abstract, seen_ms, err);
	sqlite3_stmt *st = s->papers_stmt[PAPERS_KEEP];

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, title, -1, SQLITE_STATIC);
	if (abstract != NULL)
		sqlite3_bind_text(st, 3, abstract, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, seen_ms);
	return papers_done(s, st, err);
}

int state_papers_trim(struct state *s, long long max, struct err *err)
{
	if (s->pg != NULL)
		return pg_papers_trim(s->pg, max, err);
	sqlite3_stmt *st = s->papers_stmt[PAPERS_TRIM];

	if (max <= 0)
		return exec_sql(s, "DELETE FROM papers_read", err);
	sqlite3_bind_int64(st, 1, max);
	return papers_done(s, st, err);
}

int state_paper_text(struct state *s, const char *id, state_paper_fn fn, void *ctx, struct err *err)
{
	if (s->pg != NULL)
		return pg_paper_text(s->pg, id, fn, ctx, err);
	sqlite3_stmt *st = s->papers_stmt[PAPERS_TEXT];
	int rc;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		fn(ctx, (const char *)sqlite3_column_text(st, 0),
		   (const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(s, rc, err);
}

/* Sets the pragmas and the schema; checks the file really is ours. */
static int state_setup(struct state *s, struct err *err)
{
	sqlite3_stmt *st;
	int version = 0, rc;

	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	sqlite3_wal_hook(s->db, on_commit, s); /* in place of SQLite's own automatic checkpoint */
	/* temp_store: a digest's savepoint in a group keeps the pages it changes, for a rollback
	 * to it, in memory; past 64 KiB SQLite spilled them to a temporary file, several writes
	 * per digest of what a crash never needs (the WAL alone is what recovery reads). */
	if (exec_sql(s, "PRAGMA journal_mode = WAL", err) != 0 ||
	    exec_sql(s, "PRAGMA synchronous = FULL", err) != 0 ||
	    exec_sql(s, "PRAGMA secure_delete = FAST", err) != 0 ||
	    exec_sql(s, "PRAGMA temp_store = MEMORY", err) != 0)
		return -1;
	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_error(s, rc, err);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_error(s, rc, err);
	if (version > SCHEMA_VERSION)
		return err_set(err,
			       "%s: written by a newer paperwatch (schema %d, this one knows %d)",
			       s->path, version, SCHEMA_VERSION);
	if (exec_sql(s, schema, err) != 0 || papers_setup(s, err) != 0)
		return -1;
	if (version < 2 && has_column(s, "outbox", "body") &&
	    exec_sql(s, "UPDATE outbox SET body = x'' WHERE state = 'delivered'", err) != 0)
		return -1;
	if (version < 3 && migrate_partial(s, err) != 0)
		return -1;
	if (version < 4 && migrate_history(s, err) != 0)
		return -1;
	if (version < 5 && migrate_5(s, err) != 0)
		return -1;
	if (outbox_check_plain(s, err) != 0 || repair_next_attempts(s, err) != 0)
		return -1;
	for (int i = 0; i < N_STMTS; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&s->stmt[i], NULL);
		if (rc != SQLITE_OK)
			return db_error(s, rc, err);
	}
	return 0;
}

/* Refuses to begin a state afresh where one was: the lock file beside it says a state has been
 * owned here, so a database that is missing or empty was lost, and a new one would alert every
 * paper of the folder again. */
static int state_was_here(const char *path, struct err *err)
{
	char *lock;
	struct stat st;
	bool lost;
	int rc = 0;

	if (strcmp(path, EPHEMERAL_PATH) == 0)
		return 0;
	if (stat(path, &st) == 0)
		lost = st.st_size == 0;
	else
		lost = errno == ENOENT;
	lock = xasprintf("%s.lock", path);
	if (lost && stat(lock, &st) == 0)
		rc = err_set(err,
			     "%s is missing or empty, but %s says a state was kept here: starting "
			     "afresh would alert every paper of the folder again. Put the state "
			     "back, or remove %s to start afresh",
			     path, lock, lock);
	free(lock);
	return rc;
}

bool state_is_shared(const char *path)
{
	return pg_is_uri(path);
}

char *state_shown(const char *path)
{
	return pg_is_uri(path) ? pg_uri_shown(path) : xstrdup(path);
}

/*
 * paperwatch uses SQLite from one thread only. Left at its defaults, SQLite locks a mutex around
 * every call on a connection and every allocation, and counts the memory it holds under another:
 * a few percent of a digest's instructions, for nothing. This must precede SQLite's start, which
 * the first open makes; after that, sqlite3_config() refuses, harmlessly.
 */
static void sqlite_one_thread(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int state_open(const char *path, const struct state_opts *o, struct state **out, struct err *err)
{
	struct state *s;
	int rc;

	if (pg_is_uri(path)) {
		struct pgstate *pg;

		if (pg_open(path, o, &pg, err) != 0)
			return -1;
		s = xcalloc(1, sizeof(*s));
		s->pg = pg;
		*out = s;
		return 0;
	}
	if (state_was_here(path, err) != 0)
		return -1;
	s = xcalloc(1, sizeof(*s));
	s->lock_fd = s->knock_fd = s->db_wd = -1;
	s->path = xstrdup(path);
	sqlite_one_thread();
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW,
			     NULL);
	if (rc != SQLITE_OK || state_setup(s, err) != 0) {
		if (rc != SQLITE_OK)
			db_error(s, rc, err);
		state_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

int state_open_ephemeral(struct state **out, struct err *err)
{
	return state_open(EPHEMERAL_PATH, NULL, out, err);
}

/* Forgets the deliveries a commit has written. */
static void marks_written(struct state *s)
{
	for (size_t i = 0; i < s->n_marks; i++)
		free(s->marks[i].notifier);
	s->n_marks = 0;
}

void state_close(struct state *s)
{
	struct err err;

	if (s == NULL)
		return;
	if (s->pg != NULL) {
		pg_close(s->pg);
		free(s);
		return;
	}
	/* What the owner did not write already (state_flush_marks) goes now, if it can: a delivery
	 * lost here is only sent again, with its id. */
	if (state_group_close(s, &err) == 0)
		state_flush_marks(s, &err);
	marks_written(s);
	free(s->marks);
	for (int i = 0; i < N_STMTS; i++)
		sqlite3_finalize(s->stmt[i]);
	for (int i = 0; i < N_PAPERS_STMTS; i++)
		sqlite3_finalize(s->papers_stmt[i]);
	sqlite3_close(s->db);
	if (s->knock_fd >= 0)
		close(s->knock_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->path);
	free(s);
}

/* ---- One owner of the queues ----
 *
 * A file beside the database, PATH.lock, carries a POSIX write lock for as long as the owner has
 * the state open; the kernel drops it when the owner dies, however it dies, and says which pid
 * holds it. Another process knocks by opening the file for writing and closing it again, which
 * the owner's inotify watch on it sees. The owner never opens the file a second time: closing
 * any descriptor of it would drop its lock. */

static char *lock_path(const struct state *s)
{
	return xasprintf("%s.lock", s->path);
}

static bool ephemeral(const struct state *s)
{
	return strcmp(s->path, EPHEMERAL_PATH) == 0;
}

int state_own(struct state *s, struct err *err)
{
	if (s->pg != NULL)
		return pg_own(s->pg, err);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	struct stat st;
	char *path;
	int fd = -1, knock = -1;

	if (ephemeral(s) || s->lock_fd >= 0)
		return 0;
	path = lock_path(s);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0) {
		err_set(err, "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		if ((errno == EACCES || errno == EAGAIN) && fcntl(fd, F_GETLK, &fl) == 0 &&
		    fl.l_type != F_UNLCK)
			err_set(err,
				"%s: in use by another paperwatch (pid %ld): one process at a time "
				"delivers from a state",
				s->path, (long)fl.l_pid);
		else
			err_set(err, "%s: cannot lock: %s", path, strerror(errno));
		goto fail;
	}
	knock = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (knock < 0 || inotify_add_watch(knock, path, IN_CLOSE_WRITE) < 0) {
		err_set(err, "%s: cannot watch: %s", path, strerror(errno));
		goto fail;
	}
	/* The database itself: deleted, moved away or emptied under the owner, it must stop. */
	s->db_wd = inotify_add_watch(knock, s->path,
				     IN_DELETE_SELF | IN_MOVE_SELF | IN_MODIFY | IN_ATTRIB);
	if (s->db_wd < 0 || stat(s->path, &st) != 0) {
		err_set(err, "%s: cannot watch: %s", s->path, strerror(errno));
		goto fail;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->lock_fd = fd;
	s->knock_fd = knock;
	free(path);
	return 0;
fail:
	if (knock >= 0)
		close(knock);
	if (fd >= 0)
		close(fd);
	free(path);
	return -1;
}

int state_owner(struct state *s, long *pid, struct err *err)
{
	if (s->pg != NULL) {
		*pid = 0;
		return 0;
	}
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char *path;
	int fd, rc = 0;

	*pid = 0;
	if (ephemeral(s) || s->lock_fd >= 0)
		return 0;
	path = lock_path(s);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		if (errno != ENOENT)
			rc = err_set(err, "%s: cannot open: %s", path, strerror(errno));
	} else {
		if (fcntl(fd, F_GETLK, &fl) != 0)
			rc = err_set(err, "%s: cannot read its lock: %s", path, strerror(errno));
		else if (fl.l_type != F_UNLCK)
			*pid = (long)fl.l_pid;
		close(fd);
	}
	free(path);
	return rc;
}

int state_knock(struct state *s, struct err *err)
{
	if (s->pg != NULL)
		return pg_knock(s->pg, err);
	char *path;
	int fd, rc = 0;

	if (ephemeral(s) || s->lock_fd >= 0)
		return 0; /* the owner knocks at nobody's door */
	path = lock_path(s);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0)
		close(fd);
	else if (errno != ENOENT)
		rc = err_set(err, "%s: cannot knock: %s", path, strerror(errno));
	free(path);
	return rc;
}

void state_abandon(struct state *s)
{
	if (s->pg != NULL)
		return;
	/* A checkpoint at close would write the log back into whatever is at the path now. */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	s->abandoned = true;
}

bool state_down(const struct state *s)
{
	return s->pg != NULL && pg_down(s->pg);
}

void state_on_wait(struct state *s, state_wait_fn fn, void *ctx)
{
	if (s->pg != NULL) /* an SQLite call waits for the disk alone */
		pg_on_wait(s->pg, fn, ctx);
}

int state_knock_fd(const struct state *s)
{
	if (s->pg != NULL)
		return pg_knock_fd(s->pg);
	return s->knock_fd;
}

/* Why the database file is no longer the one the owner opened, or NULL while it is. */
static const char *replaced(const struct state *s)
{
	struct stat st;

	if (stat(s->path, &st) != 0)
		return errno == ENOENT ? "was deleted" : "cannot be looked at";
	if (st.st_dev != s->dev || st.st_ino != s->ino)
		return "was replaced by another file";
	if (st.st_size == 0)
		return "was emptied";
	return NULL;
}

int state_knocked(struct state *s, struct err *err)
{
	if (s->pg != NULL)
		return pg_knocked(s->pg, err);
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool db = false, knocked = false;
	const char *why;
	ssize_t n;

	for (;;) {
		n = s->knock_fd >= 0 ? read(s->knock_fd, buf, sizeof(buf)) : 0;
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;

			if (ev->wd == s->db_wd)
				db = true;
			else
				knocked = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	why = db ? replaced(s) : NULL;
	if (why == NULL)
		return knocked ? 1 : 0;
	state_abandon(s);
	return err_set(err,
		       "%s %s while paperwatch was running: it stops rather than write into a "
		       "file nobody will read (started again on an empty state, it would alert "
		       "every paper again)",
		       s->path, why);
}

static void bind_stamp(sqlite3_stmt *st, const struct file_stamp *f)
{
	sqlite3_bind_int64(st, 2, (sqlite3_int64)f->dev);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)f->ino);
	sqlite3_bind_int64(st, 4, f->size);
	sqlite3_bind_int64(st, 5, f->mtime_ns);
}

int state_file_seen(struct state *s, const char *name, const struct file_stamp *f, bool *seen,
		    struct err *err)
{
	if (s->pg != NULL)
		return pg_file_seen(s->pg, name, f, seen, err);
	sqlite3_stmt *st = s->stmt[ST_FILE_SEEN];
	int rc;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	bind_stamp(st, f);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(s, rc, err);
	*seen = rc == SQLITE_ROW;
	return 0;
}

int state_file_hash(struct state *s, const char *name, char hash[STATE_HASH_SIZE], struct err *err)
{
	if (s->pg != NULL)
		return pg_file_hash(s->pg, name, hash, err);
	sqlite3_stmt *st = s->stmt[ST_FILE_HASH];
	int rc;

	hash[0] = '\0';
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		snprintf(hash, STATE_HASH_SIZE, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(s, rc, err);
	return 0;
}

int state_begin(struct state *s, struct err *err)
{
	if (s->pg != NULL)
		return pg_begin(s->pg, err);
	return step_done(s, s->grouped ? ST_SAVEPOINT : ST_BEGIN, err);
}

int state_commit(struct state *s, struct err *err)
{
	if (s->pg != NULL)
		return pg_commit(s->pg, err);
	if (step_done(s, s->grouped ? ST_RELEASE : ST_COMMIT, err) != 0) {
		state_rollback(s);
		return -1;
	}
	return 0;
}

/* SQLite ends a transaction itself on some errors (a full disk, an I/O error): then the group is
 * gone, digests and all, which the caller learns from the failure it had. */
static void group_lost_check(struct state *s)
{
	if (s->grouped && sqlite3_get_autocommit(s->db)) {
		s->grouped = false;
		s->group_lost = true;
	}
}

void state_rollback(struct state *s)
{
	if (s->pg != NULL) {
		pg_rollback(s->pg);
		return;
	}
	struct err ignored;

	group_lost_check(s);
	if (s->grouped) {
		step_done(s, ST_ROLLBACK_TO, &ignored);
		step_done(s, ST_RELEASE, &ignored);
	} else if (!sqlite3_get_autocommit(s->db)) {
		step_done(s, ST_ROLLBACK, &ignored);
	}
}

int state_group_open(struct state *s, struct err *err)
{
	if (s->pg != NULL)
		return pg_group_open(s->pg, err);
	sqlite3_stmt *st = s->stmt[ST_MAX_ID];
	int rc;

	if (s->grouped)
		return 0;
	if (step_done(s, ST_BEGIN, err) != 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		s->visible_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		db_error(s, rc, err);
		step_done(s, ST_ROLLBACK, &(struct err){0});
		return -1;
	}
	s->grouped = true;
	return 0;
}

bool state_grouped(const struct state *s)
{
	if (s->pg != NULL)
		return pg_grouped(s->pg);
	return s->grouped;
}

bool state_group_lost(struct state *s)
{
	if (s->pg != NULL)
		return pg_group_lost(s->pg);
	bool lost = s->group_lost;

	s->group_lost = false;
	return lost;
}

/* Records message id as delivered at done_ms, and lets its body go. */
static int mark_delivered(struct state *s, int64_t id, long long done_ms, struct err *err)
{
	sqlite3_bind_int64(s->stmt[ST_OUTBOX_DELIVERED], 1, id);
	sqlite3_bind_int64(s->stmt[ST_OUTBOX_DELIVERED], 2, done_ms);
	if (step_done(s, ST_OUTBOX_DELIVERED, err) != 0)
		return -1;
	sqlite3_bind_int64(s->stmt[ST_BODY_DELETE], 1, id);
	return step_done(s, ST_BODY_DELETE, err);
}

/* Writes the deliveries known in memory, inside the transaction that is open. */
static int write_marks(struct state *s, struct err *err)
{
	for (size_t i = 0; i < s->n_marks; i++) {
		if (mark_delivered(s, s->marks[i].id, s->marks[i].done_ms, err) != 0)
			return -1;
	}
	return 0;
}

int state_group_close(struct state *s, struct err *err)
{
	if (s->pg != NULL)
		return pg_group_close(s->pg, err);
	struct err ignored;

	if (!s->grouped)
		return 0;
	if (write_marks(s, err) != 0 || step_done(s, ST_COMMIT, err) != 0) {
		group_lost_check(s);
		if (s->grouped)
			step_done(s, ST_ROLLBACK, &ignored);
		s->grouped = false;
		s->group_lost = true;
		return -1;
	}
	s->grouped = false;
	marks_written(s);
	return 0;
}

int state_flush_marks(struct state *s, struct err *err)
{
	if (s->pg != NULL)
		return pg_flush_marks(s->pg, err);
	if (s->n_marks == 0 || s->grouped)
		return 0; /* nothing to write, or the group's commit writes it */
	if (step_done(s, ST_BEGIN, err) != 0)
		return -1;
	if (write_marks(s, err) != 0 || step_done(s, ST_COMMIT, err) != 0) {
		if (!sqlite3_get_autocommit(s->db))
			step_done(s, ST_ROLLBACK, &(struct err){0});
		return -1;
	}
	marks_written(s);
	return 0;
}

size_t state_marks_pending(const struct state *s)
{
	if (s->pg != NULL)
		return pg_marks_pending(s->pg);
	return s->n_marks;
}

int state_alert_add(struct state *s, const struct state_alert *a, bool *fresh, struct err *err)
{
	if (s->pg != NULL)
		return pg_alert_add(s->pg, a, fresh, err);
	sqlite3_stmt *st = s->stmt[ST_ALERT_ADD];

	sqlite3_bind_text(st, 1, a->paper, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->notifier, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->batch, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, a->title ? a->title : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, a->created_ms);
	if (step_done(s, ST_ALERT_ADD, err) != 0)
		return -1;
	*fresh = sqlite3_changes(s->db) == 1;
	return 0;
}

int state_outbox_add(struct state *s, const char *notifier, const char *key, const char *source,
		     const char *body, size_t len, size_t n_papers, long long now_ms,
		     struct err *err)
{
	if (s->pg != NULL)
		return pg_outbox_add(s->pg, notifier, key, source, body, len, n_papers, now_ms,
				     err);
	sqlite3_stmt *st = s->stmt[ST_OUTBOX_ADD];

	sqlite3_bind_text(st, 1, notifier, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)n_papers);
	sqlite3_bind_int64(st, 6, now_ms);
	if (step_done(s, ST_OUTBOX_ADD, err) != 0)
		return -1;
	sqlite3_bind_blob64(s->stmt[ST_BODY_ADD], 1, body, len, SQLITE_STATIC);
	return step_done(s, ST_BODY_ADD, err);
}

int state_file_done(struct state *s, const char *name, const struct file_stamp *f,
		    const struct file_read *read, long long now_ms, struct err *err)
{
	if (s->pg != NULL)
		return pg_file_done(s->pg, name, f, read, now_ms, err);
	sqlite3_stmt *st = s->stmt[ST_FILE_DONE];

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	bind_stamp(st, f);
	sqlite3_bind_text(st, 6, f->hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)read->papers);
	sqlite3_bind_int64(st, 8, now_ms);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)read->fallback);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)read->skipped);
	sqlite3_bind_text(st, 11, read->format ? read->format : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)read->with_authors);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)read->papers_sum);
	return step_done(s, ST_FILE_DONE, err);
}

int state_files_partial(struct state *s, struct state_partial *p, struct err *err)
{
	if (s->pg != NULL)
		return pg_files_partial(s->pg, p, err);
	sqlite3_stmt *st = s->stmt[ST_FILES_PARTIAL];
	const unsigned char *name;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		p->files = (size_t)sqlite3_column_int64(st, 0);
		name = sqlite3_column_text(st, 1);
		snprintf(p->last, sizeof(p->last), "%s", name ? (const char *)name : "");
		p->last_ms = sqlite3_column_int64(st, 2);
	}
	if (rc != SQLITE_ROW) {
		db_error(s, rc, err);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

/* The oldest pending message of notifier: *next_ms is when it is due (-1: there is none), and
 * when c is not NULL and it is due at now_ms, c is a claim on it. */
/* The last of notifier's messages delivered but known so in memory only, or 0: its queue goes on
 * after it. */
static int64_t last_marked(const struct state *s, const char *notifier)
{
	int64_t last = 0;

	for (size_t i = 0; i < s->n_marks; i++) {
		if (s->marks[i].id > last && strcmp(s->marks[i].notifier, notifier) == 0)
			last = s->marks[i].id;
	}
	return last;
}

static int queue_head(struct state *s, const char *notifier, long long now_ms,
		      struct state_claim *c, bool *claimed, long long *next_ms, struct err *err)
{
	sqlite3_stmt *st = s->stmt[ST_OUTBOX_HEAD];
	int rc;

	*claimed = false;
	*next_ms = -1;
	sqlite3_bind_text(st, 1, notifier, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, last_marked(s, notifier));
	sqlite3_bind_int64(st, 3, s->grouped ? s->visible_id : INT64_MAX);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*next_ms = sqlite3_column_int64(st, 5);
	if (rc == SQLITE_ROW && c != NULL && *next_ms <= now_ms) {
		size_t len = (size_t)sqlite3_column_bytes(st, 2);

		*c = (struct state_claim){.id = sqlite3_column_int64(st, 0),
					  .key = xstrdup((const char *)sqlite3_column_text(st, 1)),
					  .body = xmalloc(len + 1),
					  .len = len,
					  .attempts = sqlite3_column_int(st, 3),
					  .created_ms = sqlite3_column_int64(st, 4),
					  .n_papers = (size_t)sqlite3_column_int64(st, 6)};
		memcpy(c->body, sqlite3_column_blob(st, 2), len);
		c->body[len] = '\0';
		*claimed = true;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(s, rc, err);
	return 0;
}

int state_claim_next(struct state *s, const char *notifier, long long now_ms, struct state_claim *c,
		     bool *claimed, long long *next_ms, struct err *err)
{
	if (s->pg != NULL)
		return pg_claim_next(s->pg, notifier, c, claimed, next_ms, err);
	return queue_head(s, notifier, now_ms, c, claimed, next_ms, err);
}

int state_queue_next_due(struct state *s, const char *notifier, long long *next_ms, struct err *err)
{
	if (s->pg != NULL)
		return pg_queue_next_due(s->pg, notifier, next_ms, err);
	bool claimed;

	return queue_head(s, notifier, 0, NULL, &claimed, next_ms, err);
}

/* Runs one of the outbox updates that take (id, time, detail): a retry or a failure, settling
 * the claim. */
static int claim_settle(struct state *s, enum stmt i, struct state_claim *c, long long ms,
			const char *detail, struct err *err)
{
	sqlite3_stmt *st = s->stmt[i];

	/* An outcome is recorded for good, outside a group that could still roll back. */
	if (state_group_close(s, err) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, c->id);
	sqlite3_bind_int64(st, 2, ms);
	sqlite3_bind_text(st, 3, detail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, state_now_ms());
	if (step_done(s, i, err) != 0)
		return -1;
	c->settled = true;
	return 0;
}

int state_claim_delivered(struct state *s, struct state_claim *c, long long now_ms, struct err *err)
{
	if (s->pg != NULL)
		return pg_claim_delivered(s->pg, c, now_ms, err);
	/* For good, outside a group that could still roll back; the row and the body's going in
	 * one transaction, so that a body is never let go undelivered. */
	if (state_group_close(s, err) != 0 || state_begin(s, err) != 0)
		return -1;
	if (mark_delivered(s, c->id, now_ms, err) != 0) {
		state_rollback(s);
		return -1;
	}
	if (state_commit(s, err) != 0)
		return -1;
	c->settled = true;
	return 0;
}

void state_claim_delivered_lazily(struct state *s, struct state_claim *c, const char *notifier,
				  long long now_ms)
{
	if (s->pg != NULL) {
		pg_claim_delivered_lazily(s->pg, c, now_ms);
		return;
	}
	s->marks = xgrow(s->marks, &s->cap_marks, s->n_marks + 1, sizeof(*s->marks));
	s->marks[s->n_marks++] = (struct lazy_mark){c->id, now_ms, xstrdup(notifier)};
	c->settled = true;
}

int state_claim_retry(struct state *s, struct state_claim *c, long long next_ms, const char *detail,
		      struct err *err)
{
	if (s->pg != NULL)
		return pg_claim_retry(s->pg, c, next_ms, detail, err);
	return claim_settle(s, ST_OUTBOX_RETRY, c, next_ms, detail, err);
}

int state_claim_failed(struct state *s, struct state_claim *c, long long now_ms, const char *detail,
		       struct err *err)
{
	if (s->pg != NULL)
		return pg_claim_failed(s->pg, c, now_ms, detail, err);
	return claim_settle(s, ST_OUTBOX_FAILED, c, now_ms, detail, err);
}

void state_claim_end(struct state *s, struct state_claim *c)
{
	if (s->pg != NULL) {
		pg_claim_end(s->pg, c);
		return;
	}
	/* Nothing to release: an unsettled message never left the queue. */
	(void)s;
	if (c == NULL)
		return;
	free(c->key);
	free(c->body);
	memset(c, 0, sizeof(*c));
}

int state_outbox_requeue(struct state *s, const char *notifier, long long now_ms, size_t *n,
			 struct err *err)
{
	if (s->pg != NULL)
		return pg_outbox_requeue(s->pg, notifier, now_ms, n, err);
	enum stmt i = notifier ? ST_OUTBOX_REQUEUE : ST_OUTBOX_REQUEUE_ALL;

	if (notifier != NULL)
		sqlite3_bind_text(s->stmt[i], 1, notifier, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->stmt[i], 2, now_ms);
	if (step_done(s, i, err) != 0)
		return -1;
	*n = (size_t)sqlite3_changes(s->db);
	return 0;
}

int state_counts(struct state *s, const char *notifier, struct state_counts *c, struct err *err)
{
	if (s->pg != NULL)
		return pg_counts(s->pg, notifier, c, err);
	sqlite3_stmt *st = s->stmt[ST_COUNTS];
	int rc;

	memset(c, 0, sizeof(*c));
	sqlite3_bind_text(st, 1, notifier, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->delivered = (size_t)sqlite3_column_int64(st, 0);
		c->pending = (size_t)sqlite3_column_int64(st, 1);
		c->failed = (size_t)sqlite3_column_int64(st, 2);
		c->papers_delivered = (size_t)sqlite3_column_double(st, 3);
		c->next_ms = sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW)
		return db_error(s, rc, err);
	st = s->stmt[ST_LAST_ERROR];
	sqlite3_bind_text(st, 1, notifier, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		snprintf(c->last_error, sizeof(c->last_error), "%s", sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(s, rc, err);
	st = s->stmt[ST_PENDING_ERROR];
	sqlite3_bind_text(st, 1, notifier, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL) {
		snprintf(c->pending_error, sizeof(c->pending_error), "%s",
			 sqlite3_column_text(st, 0));
		c->pending_error_ms = sqlite3_column_int64(st, 1);
		c->pending_attempts = sqlite3_column_int(st, 2);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(s, rc, err);
	return 0;
}

int state_alerted(struct state *s, const char *paper, const char *rule, char *notifiers,
		  size_t size, struct err *err)
{
	if (s->pg != NULL)
		return pg_alerted(s->pg, paper, rule, notifiers, size, err);
	sqlite3_stmt *st = s->stmt[ST_ALERTED];
	int rc;

	notifiers[0] = '\0';
	sqlite3_bind_text(st, 1, paper, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rule, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		snprintf(notifiers, size, "%s", sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(s, rc, err);
	return 0;
}

int state_recent(struct state *s, size_t n, state_recent_fn fn, void *ctx, struct err *err)
{
	if (s->pg != NULL)
		return pg_recent(s->pg, n, fn, ctx, err);
	sqlite3_stmt *st = s->stmt[ST_RECENT];
	int rc;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)n);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct state_recent r = {
			.alert = {.paper = column_text(st, 0),
				  .title = column_text(st, 1),
				  .rule = column_text(st, 2),
				  .notifier = column_text(st, 3),
				  .created_ms = sqlite3_column_int64(st, 4)},
			.message_state = column_text(st, 5),
			.done_ms = sqlite3_column_int64(st, 6),
		};

		fn(ctx, &r);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : db_error(s, rc, err);
}

int state_authors(struct state *s, struct state_authors *a, struct err *err)
{
	if (s->pg != NULL)
		return pg_authors(s->pg, a, err);
	sqlite3_stmt *st = s->stmt[ST_AUTHORS];
	int rc;

	memset(a, 0, sizeof(*a));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		a->files = (size_t)sqlite3_column_int64(st, 0);
		a->papers_with_authors = (size_t)sqlite3_column_double(st, 1);
		snprintf(a->formats, sizeof(a->formats), "%s", column_text(st, 2));
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : db_error(s, rc, err);
}

int state_notifiers(struct state *s, char ***names, size_t *n, struct err *err)
{
	if (s->pg != NULL)
		return pg_notifiers(s->pg, names, n, err);
	sqlite3_stmt *st = s->stmt[ST_NOTIFIERS];
	int rc;

	*names = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*names = xreallocarray(*names, *n + 1, sizeof(**names));
		(*names)[(*n)++] = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_error(s, rc, err);
	return 0;
}

/* ---- Scheduled messages ---- */

int state_hold(struct state *s, const char *notifier, const char *alert, size_t len,
	       long long now_ms, struct err *err)
{
	if (s->pg != NULL)
		return pg_hold(s->pg, notifier, alert, len, now_ms, err);
	sqlite3_stmt *st = s->stmt[ST_HOLD];

	sqlite3_bind_text(st, 1, notifier, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_blob64(st, 3, alert, len, SQLITE_STATIC);
	return step_done(s, ST_HOLD, err);
}

int state_held(struct state *s, const char *notifier, state_held_fn fn, void *ctx, int64_t *last_id,
	       struct err *err)
{
	if (s->pg != NULL)
		return pg_held(s->pg, notifier, fn, ctx, last_id, err);
	sqlite3_stmt *st = s->stmt[ST_HELD];
	int rc;

	*last_id = 0;
	sqlite3_bind_text(st, 1, notifier, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *alert = sqlite3_column_blob(st, 1);

		*last_id = sqlite3_column_int64(st, 0);
		fn(ctx, alert ? alert : "", (size_t)sqlite3_column_bytes(st, 1),
		   sqlite3_column_int64(st, 2));
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : db_error(s, rc, err);
}

int state_held_release(struct state *s, const char *notifier, int64_t last_id, struct err *err)
{
	if (s->pg != NULL)
		return pg_held_release(s->pg, notifier, last_id, err);
	sqlite3_stmt *st = s->stmt[ST_HELD_RELEASE];

	sqlite3_bind_text(st, 1, notifier, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, last_id);
	return step_done(s, ST_HELD_RELEASE, err);
}

int state_held_count(struct state *s, const char *notifier, size_t *n, long long *oldest_ms,
		     struct err *err)
{
	if (s->pg != NULL)
		return pg_held_count(s->pg, notifier, n, oldest_ms, err);
	sqlite3_stmt *st = s->stmt[ST_HELD_COUNT];
	int rc;

	*n = 0;
	*oldest_ms = 0;
	sqlite3_bind_text(st, 1, notifier, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*n = (size_t)sqlite3_column_int64(st, 0);
		*oldest_ms = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW ? 0 : db_error(s, rc, err);
}

int state_period(struct state *s, const char *notifier, long long first_ms, struct state_period *p,
		 struct err *err)
{
	if (s->pg != NULL)
		return pg_period(s->pg, notifier, first_ms, p, err);
	sqlite3_stmt *st = s->stmt[ST_PERIOD_GET];
	int rc;

	sqlite3_bind_text(s->stmt[ST_PERIOD_OPEN], 1, notifier, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->stmt[ST_PERIOD_OPEN], 2, first_ms);
	if (step_done(s, ST_PERIOD_OPEN, err) != 0)
		return -1;
	sqlite3_bind_text(st, 1, notifier, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		p->last_ms = sqlite3_column_int64(st, 0);
		snprintf(p->key, sizeof(p->key), "%s", column_text(st, 1));
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW ? 0 : db_error(s, rc, err);
}

int state_period_close(struct state *s, const char *notifier, long long last_ms, struct err *err)
{
	if (s->pg != NULL)
		return pg_period_close(s->pg, notifier, last_ms, err);
	sqlite3_stmt *st = s->stmt[ST_PERIOD_CLOSE];

	sqlite3_bind_text(st, 1, notifier, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, last_ms);
	return step_done(s, ST_PERIOD_CLOSE, err);
}

/* ---- Health ---- */

int state_files_papers(struct state *s, const char *format, const char *name, size_t max,
		       size_t *papers, size_t *n, struct err *err)
{
	if (s->pg != NULL)
		return pg_files_papers(s->pg, format, name, max, papers, n, err);
	sqlite3_stmt *st = s->stmt[ST_FILES_PAPERS];
	int rc;

	*n = 0;
	sqlite3_bind_text(st, 1, format, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max)
		papers[(*n)++] = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_error(s, rc, err);
}

int state_files_latest(struct state *s, size_t max, struct state_digest *out, size_t *n,
		       struct err *err)
{
	if (s->pg != NULL)
		return pg_files_latest(s->pg, max, out, n, err);
	sqlite3_stmt *st = s->stmt[ST_FILES_LATEST];
	int rc;

	*n = 0;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		struct state_digest *d = &out[(*n)++];

		snprintf(d->name, sizeof(d->name), "%s", column_text(st, 0));
		d->papers = (size_t)sqlite3_column_int64(st, 1);
		d->processed_ms = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_error(s, rc, err);
}

int state_file_repeats(struct state *s, const char *name, uint64_t sum, size_t papers, char *other,
		       size_t size, struct err *err)
{
	if (s->pg != NULL)
		return pg_file_repeats(s->pg, name, sum, papers, other, size, err);
	sqlite3_stmt *st = s->stmt[ST_FILE_REPEATS];
	int rc;

	other[0] = '\0';
	sqlite3_bind_int64(st, 1, (sqlite3_int64)sum);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)papers);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(other, size, "%s", column_text(st, 0));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_error(s, rc, err);
}

int state_health_each(struct state *s, state_health_fn fn, void *ctx, struct err *err)
{
	if (s->pg != NULL)
		return pg_health_each(s->pg, fn, ctx, err);
	sqlite3_stmt *st = s->stmt[ST_HEALTH_LIST];
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct state_health h = {.condition = column_text(st, 0),
					 .subject = column_text(st, 1),
					 .active = sqlite3_column_int(st, 2) != 0,
					 .since_ms = sqlite3_column_int64(st, 3),
					 .last_ms = sqlite3_column_int64(st, 4),
					 .detail = column_text(st, 5)};

		fn(ctx, &h);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_error(s, rc, err);
}

int state_health_put(struct state *s, const struct state_health *h, struct err *err)
{
	if (s->pg != NULL)
		return pg_health_put(s->pg, h, err);
	sqlite3_stmt *st = s->stmt[ST_HEALTH_PUT];

	sqlite3_bind_text(st, 1, h->condition, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, h->subject, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, h->active ? 1 : 0);
	sqlite3_bind_int64(st, 4, h->since_ms);
	sqlite3_bind_int64(st, 5, h->last_ms);
	sqlite3_bind_text(st, 6, h->detail ? h->detail : "", -1, SQLITE_STATIC);
	return step_done(s, ST_HEALTH_PUT, err);
}

/* ---- Moving a state ---- */

/* The SQLite side of each table moved, its columns in pg_import_columns's order; a message
 * with its body, in the queue's order. */
#define OUTBOX_WITH_BODIES                                                                         \
	"(SELECT o.*, b.body FROM outbox o LEFT JOIN bodies b ON b.message = o.id) ORDER BY id"
static const char *const export_from[PG_N_TABLES] = {
	[PG_FILES] = "files ORDER BY processed_ms",
	[PG_ALERTS] = "alerts ORDER BY created_ms",
	[PG_OUTBOX] = OUTBOX_WITH_BODIES,
	[PG_HELD] = "held ORDER BY id",
	[PG_PERIODS] = "periods",
	[PG_HEALTH] = "health",
	[PG_PAPERS_READ] = "papers_read ORDER BY seen_ms",
};

/* Copies table t of the SQLite state src into the shared state p, row by row. */
static int export_table(struct state *src, struct pgstate *p, enum pg_table t, size_t *rows,
			size_t *added, struct err *err)
{
	enum { MAX_COLUMNS = 16 };
	const char *values[MAX_COLUMNS];
	int lengths[MAX_COLUMNS], binary[MAX_COLUMNS], n, rc;
	char *sql = xasprintf("SELECT %s FROM %s", pg_import_columns[t], export_from[t]);
	sqlite3_stmt *st;

	rc = sqlite3_prepare_v2(src->db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return db_error(src, rc, err);
	n = sqlite3_column_count(st);
	while (n <= MAX_COLUMNS && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < n; i++) {
			int type = sqlite3_column_type(st, i);

			binary[i] = type == SQLITE_BLOB;
			values[i] = binary[i] ? sqlite3_column_blob(st, i)
					      : (const char *)sqlite3_column_text(st, i);
			lengths[i] = sqlite3_column_bytes(st, i);
			if (type == SQLITE_NULL)
				values[i] = NULL;
			else if (values[i] == NULL)
				values[i] = ""; /* an empty blob */
		}
		bool new_row;

		if (pg_import_row(p, t, n, values, lengths, binary, &new_row, err) != 0) {
			sqlite3_finalize(st);
			return -1;
		}
		(*rows)++;
		*added += new_row;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(src, rc, err);
	return 0;
}

int state_import(struct state *s, const char *from, size_t *rows, size_t *added, struct err *err)
{
	struct state *src;
	int rc = 0;

	*rows = *added = 0;
	if (s->pg == NULL)
		return err_set(err, "%s: the state to move into must be a PostgreSQL database",
			       s->path);
	if (pg_is_uri(from) || access(from, F_OK) != 0)
		return err_set(err, "%s: no SQLite state there", from);
	/* Opened as the daemon would, brought to this version's schema; owned, so that no
	 * daemon delivers from it while it moves. */
	if (state_open(from, NULL, &src, err) != 0)
		return -1;
	if (state_own(src, err) != 0) {
		state_close(src);
		return err_prefix(err, "stop the paperwatch using it first: ");
	}
	if (pg_import_begin(s->pg, err) != 0) {
		state_close(src);
		return -1;
	}
	for (int t = 0; t < PG_N_TABLES && rc == 0; t++)
		rc = export_table(src, s->pg, (enum pg_table)t, rows, added, err);
	if (rc == 0)
		rc = pg_import_end(s->pg, err);
	else
		pg_rollback(s->pg);
	state_close(src);
	return rc;
}
