/*
 * test_state.c — the state: alerts recorded once, the outbox's life cycle through claims, file
 * records, checkpoints at quiet moments, and clear messages for a damaged database. With
 * PW_TEST_PG set to a PostgreSQL server's URI (tests/run.py starts a throwaway one), the tests
 * that say nothing of SQLite run instead on a shared state, each in a database of its own, with
 * those of what sharing adds: leases, fencing, one pace, LISTEN.
 */
#include "unit.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state.h"

/* A state's path: an SQLite file's, or a PostgreSQL URI. */
#define PATH_SIZE 512

/* The server the shared state's tests run on: a URI without the database's name ("...///" and
 * the rest), NULL while the SQLite tests run. */
static const char *pg_server;

/* Runs sql on the server's maintenance database. */
static void pg_admin(const char *sql)
{
	char uri[PATH_SIZE];
	const char *q = strchr(pg_server, '?');
	PGconn *c;
	PGresult *r;

	snprintf(uri, sizeof(uri), "postgresql:///postgres%s", q ? q : "");
	c = PQconnectdb(uri);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

static struct state *fresh_state(char *path)
{
	static int databases;
	struct state *s;
	struct err err;
	int fd;

	if (pg_server != NULL) {
		char sql[64];
		const char *q = strchr(pg_server, '?');

		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS pw_unit_%d", ++databases);
		pg_admin(sql);
		snprintf(sql, sizeof(sql), "CREATE DATABASE pw_unit_%d", databases);
		pg_admin(sql);
		snprintf(path, PATH_SIZE, "postgresql:///pw_unit_%d%s", databases, q ? q : "");
	} else {
		strcpy(path, "/tmp/pw-state-XXXXXX");
		fd = mkstemp(path);
		close(fd);
		unlink(path);
	}
	if (state_open(path, NULL, &s, &err) != 0)
		fail_msg("%s", err.msg);
	return s;
}

static void remove_db(const char *path)
{
	char aux[300];

	if (state_is_shared(path))
		return; /* the server is the test run's, and goes with it */
	unlink(path);
	snprintf(aux, sizeof(aux), "%s-wal", path);
	unlink(aux);
	snprintf(aux, sizeof(aux), "%s-shm", path);
	unlink(aux);
}

/* Queues one message for notifier "n", in a transaction of its own. */
static void queue(struct state *s, const char *key, const char *body, size_t len, size_t papers)
{
	struct err err;

	assert_int_equal(state_begin(s, &err), 0);
	assert_int_equal(state_outbox_add(s, "n", key, "d.md", body, len, papers, 1000, &err), 0);
	assert_int_equal(state_commit(s, &err), 0);
}

static int add_alert(struct state *s, const char *paper, const char *rule, const char *notifier,
		     const char *batch, bool *fresh, struct err *err)
{
	struct state_alert a = {paper, rule, notifier, batch, "A title", 1000};

	return state_alert_add(s, &a, fresh, err);
}

/* The first test to open a state, since SQLite takes its threading mode only before it starts. */
static void sqlite_runs_without_mutexes_or_a_count_of_its_memory(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	sqlite3 *db;

	(void)state;
	/* Set for the process, so any connection shows it: no mutex of its own. */
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_null(sqlite3_db_mutex(db));
	assert_int_equal(
		sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", NULL, NULL, NULL),
		SQLITE_OK);
	/* Nothing counted: with MEMSTATUS on, two open connections hold more than nothing. */
	assert_int_equal(sqlite3_memory_used(), 0);
	sqlite3_close(db);
	state_close(s);
	remove_db(path);
}

static void an_alert_is_fresh_only_once_per_paper_rule_and_notifier(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	struct err err;
	bool fresh;

	(void)state;
	assert_int_equal(state_begin(s, &err), 0);
	assert_int_equal(add_alert(s, "2410.07177", "agents", "slack", "b1", &fresh, &err), 0);
	assert_true(fresh);
	assert_int_equal(add_alert(s, "2410.07177", "agents", "slack", "b2", &fresh, &err), 0);
	assert_false(fresh);
	/* Another rule, another notifier: new alerts for the same paper. */
	assert_int_equal(add_alert(s, "2410.07177", "llm", "slack", "b2", &fresh, &err), 0);
	assert_true(fresh);
	assert_int_equal(add_alert(s, "2410.07177", "agents", "mail", "b2", &fresh, &err), 0);
	assert_true(fresh);
	assert_int_equal(state_commit(s, &err), 0);
	state_close(s);
	remove_db(path);
}

static void a_rolled_back_transaction_records_nothing(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	struct err err;
	bool fresh, claimed;
	struct state_claim c = {0};
	long long next_ms;

	(void)state;
	assert_int_equal(state_begin(s, &err), 0);
	assert_int_equal(add_alert(s, "p", "r", "n", "b", &fresh, &err), 0);
	assert_int_equal(state_outbox_add(s, "n", "b-0", "d.md", "body", 4, 1, 1000, &err), 0);
	state_rollback(s);
	assert_int_equal(state_claim_next(s, "n", 2000, &c, &claimed, &next_ms, &err), 0);
	assert_false(claimed);
	assert_int_equal(next_ms, -1);
	assert_int_equal(state_begin(s, &err), 0);
	assert_int_equal(add_alert(s, "p", "r", "n", "b", &fresh, &err), 0);
	assert_true(fresh);
	assert_int_equal(state_commit(s, &err), 0);
	state_close(s);
	remove_db(path);
}

/* Claims notifier "n"'s next message at now_ms, which must be there and due. */
static void claim(struct state *s, long long now_ms, struct state_claim *c)
{
	struct err err;
	bool claimed;
	long long next_ms;

	assert_int_equal(state_claim_next(s, "n", now_ms, c, &claimed, &next_ms, &err), 0);
	assert_true(claimed);
}

static void the_outbox_goes_oldest_first_through_retry_failure_and_requeue(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	struct state_claim c = {0};
	struct state_counts c_n;
	struct err err;
	bool claimed;
	long long next_ms;
	size_t n;

	(void)state;
	queue(s, "k-0", "first", 5, 2);
	queue(s, "k-1", "second", 6, 1);
	claim(s, 1000, &c);
	assert_string_equal(c.key, "k-0");
	assert_string_equal(c.body, "first");
	assert_int_equal(c.n_papers, 2);
	/* A retry keeps it first in line, with a later time and one more attempt: the message
	 * behind it waits too. */
	assert_int_equal(state_claim_retry(s, &c, 5000, "HTTP 500", &err), 0);
	state_claim_end(s, &c);
	assert_int_equal(state_claim_next(s, "n", 4999, &c, &claimed, &next_ms, &err), 0);
	assert_false(claimed);
	assert_int_equal(next_ms, 5000);
	assert_int_equal(state_queue_next_due(s, "n", &next_ms, &err), 0);
	assert_int_equal(next_ms, 5000);
	claim(s, 5000, &c);
	assert_string_equal(c.key, "k-0");
	assert_int_equal(c.attempts, 1);
	assert_int_equal(state_claim_failed(s, &c, 6000, "HTTP 404: no such hook", &err), 0);
	state_claim_end(s, &c);
	claim(s, 6000, &c);
	assert_string_equal(c.key, "k-1");
	assert_int_equal(state_claim_delivered(s, &c, 7000, &err), 0);
	state_claim_end(s, &c);
	assert_int_equal(state_queue_next_due(s, "n", &next_ms, &err), 0);
	assert_int_equal(next_ms, -1);
	assert_int_equal(state_counts(s, "n", &c_n, &err), 0);
	assert_int_equal(c_n.delivered, 1);
	assert_int_equal(c_n.failed, 1);
	assert_int_equal(c_n.pending, 0);
	assert_int_equal(c_n.papers_delivered, 1);
	assert_string_equal(c_n.last_error, "HTTP 404: no such hook");
	assert_int_equal(state_outbox_requeue(s, "n", 8000, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(state_counts(s, "n", &c_n, &err), 0);
	assert_int_equal(c_n.pending, 1);
	assert_int_equal(c_n.next_ms, 8000);
	state_close(s);
	remove_db(path);
}

static void a_claim_ended_without_an_outcome_leaves_the_message_queued(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	struct state_claim c = {0};

	(void)state;
	queue(s, "k-0", "first", 5, 1);
	claim(s, 1000, &c);
	state_claim_end(s, &c);
	claim(s, 1000, &c);
	assert_string_equal(c.key, "k-0");
	assert_int_equal(c.attempts, 0);
	state_claim_end(s, &c);
	state_close(s);
	remove_db(path);
}

/* One number from the database at path, read beside the state's own connection. */
static long long sql_number(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void sql_run(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void a_delivered_message_keeps_its_count_but_not_its_body(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	struct state_claim it = {0};
	struct state_counts c;
	struct err err;

	(void)state;
	queue(s, "k-0", "sent", 4, 3);
	queue(s, "k-1", "waiting", 7, 1);
	claim(s, 2000, &it);
	assert_int_equal(state_claim_delivered(s, &it, 2000, &err), 0);
	state_claim_end(s, &it);
	assert_int_equal(sql_number(path, "SELECT count(*) FROM bodies JOIN outbox ON id = message "
					  "WHERE key = 'k-0'"),
			 0);
	assert_int_equal(sql_number(path,
				    "SELECT length(body) FROM bodies JOIN outbox ON id = message "
				    "WHERE key = 'k-1'"),
			 7);
	assert_int_equal(state_counts(s, "n", &c, &err), 0);
	assert_int_equal(c.delivered, 1);
	assert_int_equal(c.papers_delivered, 3);
	state_close(s);
	remove_db(path);
}

static void an_older_state_lets_go_of_the_bodies_it_delivered(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	struct state_claim it = {0};
	struct err err;

	(void)state;
	state_close(s);
	/* As the first schema left it: bodies in the outbox's rows, delivered ones' too. */
	sql_run(path, "DROP TABLE bodies; DROP TABLE outbox; CREATE TABLE outbox (id INTEGER "
		      "PRIMARY KEY, notifier TEXT NOT NULL, key TEXT NOT NULL UNIQUE, source TEXT "
		      "NOT NULL, body BLOB NOT NULL, papers INTEGER NOT NULL, state TEXT NOT NULL, "
		      "attempts INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL, next_ms "
		      "INTEGER NOT NULL, done_ms INTEGER, last_error TEXT);"
		      "INSERT INTO outbox (notifier, key, source, body, papers, state, created_ms, "
		      "next_ms) VALUES ('n', 'k-old', 'd.md', 'delivered long ago', 1, "
		      "'delivered', 1, 1), ('n', 'k-0', 'd.md', 'pending', 1, 'pending', 1, 1);"
		      "PRAGMA user_version = 1;");
	assert_int_equal(state_open(path, NULL, &s, &err), 0);
	assert_int_equal(sql_number(path, "PRAGMA user_version"), 5);
	/* Only the body still needed is kept, in its own table. */
	assert_int_equal(sql_number(path, "SELECT count(*) FROM bodies"), 1);
	assert_int_equal(sql_number(path, "SELECT count(*) FROM pragma_table_info('outbox') "
					  "WHERE name = 'body'"),
			 0);
	claim(s, 2000, &it);
	assert_string_equal(it.body, "pending");
	state_claim_end(s, &it);
	state_close(s);
	remove_db(path);
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* Queues one message big enough to fill the write-ahead log past its checkpoint mark. */
static void commit_big_message(struct state *s, const char *key)
{
	size_t len = 6u << 20;
	char *body = malloc(len);

	assert_non_null(body);
	memset(body, 'x', len);
	queue(s, key, body, len, 1);
	free(body);
}

/* Sleeps for seconds, fractions included. */
static void sleep_for(double seconds)
{
	struct timespec ts = {.tv_sec = (time_t)seconds,
			      .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9)};

	nanosleep(&ts, NULL);
}

static void a_long_log_is_checkpointed_at_a_quiet_moment_not_inside_the_commit(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	struct err err;
	double next;

	(void)state;
	state_maintain_when_quiet(s);
	commit_big_message(s, "k-0");
	/* The commit left the pages in the log, and the state asks to be maintained in a second. */
	assert_true(file_size(path) < (1 << 20));
	assert_int_equal(state_maintain(s, &next, &err), 0);
	assert_true(next > 0 && next <= 1.0);
	assert_true(file_size(path) < (1 << 20));
	sleep_for(next + 0.01);
	assert_int_equal(state_maintain(s, &next, &err), 0);
	assert_true(next < 0);
	assert_true(file_size(path) > (6 << 20));
	state_close(s);
	remove_db(path);
}

static void without_quiet_maintenance_the_commit_checkpoints_a_long_log_itself(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	struct err err;
	double next;

	(void)state;
	commit_big_message(s, "k-0");
	assert_true(file_size(path) > (6 << 20));
	assert_int_equal(state_maintain(s, &next, &err), 0);
	assert_true(next < 0);
	state_close(s);
	remove_db(path);
}

static void an_ephemeral_state_keeps_a_queue_in_memory(void **state)
{
	struct state *s;
	struct state_claim c = {0};
	struct err err;

	(void)state;
	assert_int_equal(state_open_ephemeral(&s, &err), 0);
	queue(s, "k-0", "first", 5, 1);
	claim(s, 1000, &c);
	assert_string_equal(c.body, "first");
	assert_int_equal(state_claim_delivered(s, &c, 1000, &err), 0);
	state_claim_end(s, &c);
	state_close(s);
}

static void a_file_is_seen_only_as_it_was_recorded(void **state)
{
	char path[PATH_SIZE], hash[STATE_HASH_SIZE];
	struct state *s = fresh_state(path);
	struct file_stamp f = {.dev = 1, .ino = 2, .size = 3, .mtime_ns = 4, .hash = "abc"};
	struct err err;
	bool seen;

	(void)state;
	assert_int_equal(state_file_seen(s, "d.md", &f, &seen, &err), 0);
	assert_false(seen);
	assert_int_equal(
		state_file_done(s, "d.md", &f, &(struct file_read){.papers = 10}, 1000, &err), 0);
	assert_int_equal(state_file_seen(s, "d.md", &f, &seen, &err), 0);
	assert_true(seen);
	f.size = 4; /* appended to */
	assert_int_equal(state_file_seen(s, "d.md", &f, &seen, &err), 0);
	assert_false(seen);
	assert_int_equal(state_file_hash(s, "d.md", hash, &err), 0);
	assert_string_equal(hash, "abc");
	assert_int_equal(state_file_hash(s, "other.md", hash, &err), 0);
	assert_string_equal(hash, "");
	state_close(s);
	remove_db(path);
}

static void files_read_only_partly_are_counted_and_the_latest_named(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	struct file_stamp f = {.dev = 1, .ino = 2, .size = 3, .mtime_ns = 4, .hash = "abc"};
	struct state_partial pt;
	struct err err;

	(void)state;
	assert_int_equal(state_files_partial(s, &pt, &err), 0);
	assert_int_equal(pt.files, 0);
	assert_string_equal(pt.last, "");
	assert_int_equal(
		state_file_done(s, "whole.md", &f, &(struct file_read){.papers = 9}, 1000, &err),
		0);
	assert_int_equal(state_file_done(s, "a.md", &f,
					 &(struct file_read){.papers = 9, .fallback = 2}, 2000,
					 &err),
			 0);
	assert_int_equal(state_file_done(s, "b.md", &f,
					 &(struct file_read){.papers = 9, .skipped = 1}, 3000,
					 &err),
			 0);
	assert_int_equal(state_files_partial(s, &pt, &err), 0);
	assert_int_equal(pt.files, 2);
	assert_string_equal(pt.last, "b.md");
	assert_int_equal(pt.last_ms, 3000);
	/* Read whole when it changed: no longer partial. */
	assert_int_equal(
		state_file_done(s, "b.md", &f, &(struct file_read){.papers = 9}, 4000, &err), 0);
	assert_int_equal(state_files_partial(s, &pt, &err), 0);
	assert_int_equal(pt.files, 1);
	assert_string_equal(pt.last, "a.md");
	state_close(s);
	remove_db(path);
}

/* A digest touched or copied over itself is the same digest: it keeps the time it was read. */
static void a_file_with_the_same_bytes_keeps_the_time_it_was_read(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	struct file_stamp f = {.dev = 1, .ino = 2, .size = 3, .mtime_ns = 4, .hash = "abc"};
	struct state_digest latest;
	size_t n;
	struct err err;

	(void)state;
	assert_int_equal(
		state_file_done(s, "d.md", &f, &(struct file_read){.papers = 9}, 1000, &err), 0);
	f.mtime_ns = 5;
	assert_int_equal(
		state_file_done(s, "d.md", &f, &(struct file_read){.papers = 9}, 2000, &err), 0);
	assert_int_equal(state_files_latest(s, 1, &latest, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(latest.processed_ms, 1000);
	snprintf(f.hash, sizeof(f.hash), "def");
	assert_int_equal(
		state_file_done(s, "d.md", &f, &(struct file_read){.papers = 8}, 3000, &err), 0);
	assert_int_equal(state_files_latest(s, 1, &latest, &n, &err), 0);
	assert_int_equal(latest.processed_ms, 3000);
	assert_int_equal(latest.papers, 8);
	state_close(s);
	remove_db(path);
}

static void a_schema_2_state_learns_how_files_were_read(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	struct state_partial pt;
	struct err err;

	(void)state;
	state_close(s);
	/* The files table as schema 2 made it, with a file in it. */
	sql_run(path, "DROP TABLE files; CREATE TABLE files (name TEXT PRIMARY KEY, dev INTEGER "
		      "NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT "
		      "NULL, hash TEXT NOT NULL, papers INTEGER NOT NULL, processed_ms INTEGER NOT "
		      "NULL); INSERT INTO files VALUES ('old.md', 1, 2, 3, 4, 'h', 5, 6); "
		      "PRAGMA user_version = 2;");
	assert_int_equal(state_open(path, NULL, &s, &err), 0);
	assert_int_equal(sql_number(path, "PRAGMA user_version"), 5);
	assert_int_equal(sql_number(path, "SELECT fallback + skipped FROM files"), 0);
	assert_int_equal(state_files_partial(s, &pt, &err), 0);
	assert_int_equal(pt.files, 0);
	state_close(s);
	remove_db(path);
}

/* state_recent's callback: appends "rule/notifier/title/message state" lines to a buffer. */
static void collect_recent(void *ctx, const struct state_recent *r)
{
	char *out = ctx;

	snprintf(out + strlen(out), 512 - strlen(out), "%s/%s/%s/%s/%lld\n", r->alert.rule,
		 r->alert.notifier, r->alert.title, r->message_state, r->done_ms);
}

static void alerts_keep_what_status_shows_of_them(void **state)
{
	char path[PATH_SIZE], who[64], recent[512] = "";
	struct state *s = fresh_state(path);
	struct state_alert a = {"2410.07177", "agents", "slack", "msg_a", "Agents", 1000};
	struct state_alert b = {"2410.07178", "robots", "mail", "msg_b", "Robots", 2000};
	struct state_claim it = {0};
	struct state_counts c;
	struct err err;
	bool fresh;

	(void)state;
	assert_int_equal(state_begin(s, &err), 0);
	assert_int_equal(state_alert_add(s, &a, &fresh, &err), 0);
	a.notifier = "mail";
	assert_int_equal(state_alert_add(s, &a, &fresh, &err), 0);
	assert_int_equal(state_alert_add(s, &b, &fresh, &err), 0);
	assert_int_equal(state_outbox_add(s, "mail", "msg_b-0", "d.md", "x", 1, 1, 2000, &err), 0);
	assert_int_equal(state_outbox_add(s, "mail", "msg_a-0", "d.md", "y", 1, 1, 2000, &err), 0);
	assert_int_equal(state_commit(s, &err), 0);
	assert_int_equal(state_alerted(s, "2410.07177", "agents", who, sizeof(who), &err), 0);
	assert_true(strcmp(who, "mail, slack") == 0 || strcmp(who, "slack, mail") == 0);
	assert_int_equal(state_alerted(s, "2410.07177", "robots", who, sizeof(who), &err), 0);
	assert_string_equal(who, "");
	/* The head of mail's queue fails once: status says why it waits. */
	assert_int_equal(state_counts(s, "mail", &c, &err), 0);
	assert_string_equal(c.pending_error, "");
	assert_int_equal(state_claim_next(s, "mail", 3000, &it, &fresh, &(long long){0}, &err), 0);
	assert_true(fresh);
	assert_int_equal(state_claim_retry(s, &it, 9000, "HTTP 503: busy", &err), 0);
	state_claim_end(s, &it);
	assert_int_equal(state_counts(s, "mail", &c, &err), 0);
	assert_string_equal(c.pending_error, "HTTP 503: busy");
	assert_int_equal(c.pending_attempts, 1);
	assert_true(c.pending_error_ms > 0);
	/* The latest first; a message's state is its batch's. */
	assert_int_equal(state_recent(s, 2, collect_recent, recent, &err), 0);
	assert_string_equal(recent, "robots/mail/Robots/pending/0\n"
				    "agents/mail/Agents/pending/0\n");
	state_close(s);
	remove_db(path);
}

static void a_schema_3_state_keeps_its_alerts_and_gains_their_history(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	char recent[512] = "";
	struct err err;

	(void)state;
	state_close(s);
	sql_run(path,
		"DROP TABLE alerts; CREATE TABLE alerts (paper TEXT NOT NULL, rule TEXT NOT "
		"NULL, notifier TEXT NOT NULL, batch TEXT NOT NULL, PRIMARY KEY (paper, rule, "
		"notifier)) WITHOUT ROWID; INSERT INTO alerts VALUES ('p', 'r', 'n', 'b');"
		"ALTER TABLE outbox DROP COLUMN tried_ms; PRAGMA user_version = 3;");
	assert_int_equal(state_open(path, NULL, &s, &err), 0);
	assert_int_equal(sql_number(path, "PRAGMA user_version"), 5);
	assert_int_equal(state_recent(s, 5, collect_recent, recent, &err), 0);
	assert_string_equal(recent, "r/n///0\n");
	state_close(s);
	remove_db(path);
}

static void collect_health(void *ctx, const struct state_health *h)
{
	char *out = ctx;

	snprintf(out + strlen(out), 512 - strlen(out), "%s/%s/%d/%lld/%lld/%s\n", h->condition,
		 h->subject, h->active, h->since_ms, h->last_ms, h->detail);
}

static void a_schema_4_state_gains_papers_sums_and_health_conditions(void **state)
{
	char path[PATH_SIZE], other[64], health[512] = "";
	struct state *s = fresh_state(path);
	struct state_health h = {"quiet", "*.md", true, 10, 20, "no digest"};
	struct err err;

	(void)state;
	state_close(s);
	/* As schema 4 left it: no sums, no health table, a file read before. */
	sql_run(path, "DROP TABLE health; DROP INDEX files_sum; DROP INDEX files_format; "
		      "DROP INDEX files_time; ALTER TABLE files DROP COLUMN papers_sum; "
		      "INSERT INTO files (name, dev, ino, size, mtime_ns, hash, papers, "
		      "processed_ms) VALUES ('old.md', 1, 2, 3, 4, 'h', 5, 6); "
		      "PRAGMA user_version = 4;");
	assert_int_equal(state_open(path, NULL, &s, &err), 0);
	assert_int_equal(sql_number(path, "PRAGMA user_version"), 5);
	assert_int_equal(sql_number(path, "SELECT count(*) FROM files WHERE papers_sum IS NULL"),
			 1);
	/* A sum not known is no copy of anything. */
	assert_int_equal(state_file_repeats(s, "new.md", 0, 5, other, sizeof(other), &err), 0);
	assert_string_equal(other, "");
	assert_int_equal(state_begin(s, &err), 0);
	assert_int_equal(state_health_put(s, &h, &err), 0);
	assert_int_equal(state_commit(s, &err), 0);
	assert_int_equal(state_health_each(s, collect_health, health, &err), 0);
	assert_string_equal(health, "quiet/*.md/1/10/20/no digest\n");
	state_close(s);
	remove_db(path);
}

static void digests_are_found_by_format_time_and_papers_sum(void **state)
{
	char path[PATH_SIZE], other[64], health[512] = "";
	struct state *s = fresh_state(path);
	struct file_stamp f = {.hash = "h"};
	struct state_digest last[3];
	struct state_health h = {"small", "table", true, 5, 0, "few"};
	size_t papers[7], n;
	struct err err;

	(void)state;
	for (int i = 0; i < 9; i++) {
		char name[16];
		struct file_read r = {.papers = (size_t)10 + (size_t)i,
				      .format = i % 3 == 0 ? "list" : "table",
				      .papers_sum = 1000 + (uint64_t)i};

		snprintf(name, sizeof(name), "d%d.md", i);
		assert_int_equal(state_file_done(s, name, &f, &r, 100 + i, &err), 0);
	}
	/* The latest of the format first, the file itself left out. */
	assert_int_equal(state_files_papers(s, "table", "d8.md", 7, papers, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_int_equal(papers[0], 17);
	assert_int_equal(papers[4], 11);
	assert_int_equal(state_files_papers(s, "table", "x.md", 3, papers, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(papers[0], 18);
	assert_int_equal(state_files_latest(s, 3, last, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(last[0].name, "d8.md");
	assert_int_equal(last[0].papers, 18);
	assert_int_equal(last[0].processed_ms, 108);
	/* The same sum and count under another name is a copy; under its own name, not. */
	assert_int_equal(state_file_repeats(s, "copy.md", 1004, 14, other, sizeof(other), &err), 0);
	assert_string_equal(other, "d4.md");
	assert_int_equal(state_file_repeats(s, "d4.md", 1004, 14, other, sizeof(other), &err), 0);
	assert_string_equal(other, "");
	assert_int_equal(state_file_repeats(s, "copy.md", 1004, 15, other, sizeof(other), &err), 0);
	assert_string_equal(other, "");
	/* A condition written twice is one row, as it was written last. */
	assert_int_equal(state_begin(s, &err), 0);
	assert_int_equal(state_health_put(s, &h, &err), 0);
	h.active = false;
	h.detail = "usual";
	assert_int_equal(state_health_put(s, &h, &err), 0);
	assert_int_equal(state_commit(s, &err), 0);
	assert_int_equal(state_health_each(s, collect_health, health, &err), 0);
	assert_string_equal(health, "small/table/0/5/0/usual\n");
	state_close(s);
	remove_db(path);
}

static void copy_text(void *ctx, const char *title, const char *abstract)
{
	snprintf(ctx, 256, "%s|%s", title, abstract ? abstract : "(none)");
}

/* The papers read, for libraries that list ids: kept by id, the newer text winning but not
 * losing an abstract, only the last N kept, and gained by a state of the schema before. */
static void papers_read_are_kept_by_id_bounded_and_gained_by_an_older_state(void **state)
{
	char path[PATH_SIZE], text[256];
	struct state *s = fresh_state(path);
	struct err err;

	(void)state;
	state_close(s);
	sql_run(path, "DROP TABLE papers_read;");
	assert_int_equal(state_open(path, NULL, &s, &err), 0);
	assert_int_equal(sql_number(path, "PRAGMA user_version"), 5);
	assert_int_equal(state_begin(s, &err), 0);
	assert_int_equal(state_paper_keep(s, "2501.00001", "First", "Its abstract.", 10, &err), 0);
	assert_int_equal(state_paper_keep(s, "2501.00002", "Second", NULL, 20, &err), 0);
	assert_int_equal(state_paper_keep(s, "2501.00001", "First again", NULL, 30, &err), 0);
	assert_int_equal(state_commit(s, &err), 0);
	text[0] = '\0';
	assert_int_equal(state_paper_text(s, "2501.00001", copy_text, text, &err), 0);
	assert_string_equal(text, "First again|Its abstract.");
	text[0] = '\0';
	assert_int_equal(state_paper_text(s, "2501.00003", copy_text, text, &err), 0);
	assert_string_equal(text, "");
	/* Only the one seen last stays. */
	assert_int_equal(state_papers_trim(s, 1, &err), 0);
	assert_int_equal(state_paper_text(s, "2501.00002", copy_text, text, &err), 0);
	assert_string_equal(text, "");
	assert_int_equal(state_paper_text(s, "2501.00001", copy_text, text, &err), 0);
	assert_string_equal(text, "First again|Its abstract.");
	assert_int_equal(state_papers_trim(s, 0, &err), 0);
	assert_int_equal(sql_number(path, "SELECT count(*) FROM papers_read"), 0);
	state_close(s);
	remove_db(path);
}

static void a_next_attempt_out_of_range_is_repaired_when_the_state_opens(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	struct state_claim it = {0};
	struct err err;

	(void)state;
	queue(s, "k-0", "parked", 6, 1);
	state_close(s);
	/* As an older version left a Retry-After of 1e17: an overflowed, negative time. */
	sql_run(path, "UPDATE outbox SET next_ms = -9000000000000000000");
	assert_int_equal(state_open(path, NULL, &s, &err), 0);
	/* Due now: status shows when, and the queue, which reads a negative time as empty, goes. */
	assert_true(llabs(sql_number(path, "SELECT next_ms FROM outbox") - state_now_ms()) < 60000);
	claim(s, state_now_ms(), &it);
	assert_string_equal(it.body, "parked");
	state_claim_end(s, &it);
	state_close(s);
	remove_db(path);
}

static void a_damaged_database_is_named_with_the_way_out(void **state)
{
	static const char junk[] = "this is not an SQLite database, but it is long enough to look "
				   "like the header of one..........................";
	char path[] = "/tmp/pw-broken-XXXXXX";
	struct state *s;
	struct err err;
	int fd = mkstemp(path);

	(void)state;
	assert_int_equal(write(fd, junk, sizeof(junk) - 1), (ssize_t)sizeof(junk) - 1);
	close(fd);
	assert_int_equal(state_open(path, NULL, &s, &err), -1);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "damaged"));
	assert_non_null(strstr(err.msg, "move it aside"));
	remove_db(path);
}

/* Whether notifier "n" has a message to claim at now_ms; *key its key when it has. */
static bool claimable(struct state *s, long long now_ms, char *key, size_t size)
{
	struct state_claim c = {0};
	long long next_ms;
	struct err err;
	bool claimed;

	assert_int_equal(state_claim_next(s, "n", now_ms, &c, &claimed, &next_ms, &err), 0);
	if (claimed)
		snprintf(key, size, "%s", c.key);
	state_claim_end(s, &c);
	return claimed;
}

static void a_groups_digests_commit_together_and_are_claimed_only_then(void **state)
{
	char path[PATH_SIZE], key[64];
	struct state *s = fresh_state(path);
	struct state_claim it = {0};
	struct err err;

	(void)state;
	queue(s, "before-0", "b", 1, 1);
	queue(s, "before-1", "b", 1, 1);
	claim(s, 2000, &it);
	assert_int_equal(state_claim_delivered(s, &it, 2000, &err), 0);
	state_claim_end(s, &it);
	assert_int_equal(state_group_open(s, &err), 0);
	assert_true(state_grouped(s));
	queue(s, "d1-0", "one", 3, 1);
	/* The second digest fails half-way: it rolls back alone. */
	assert_int_equal(state_begin(s, &err), 0);
	assert_int_equal(state_outbox_add(s, "n", "d2-0", "d.md", "two", 3, 1, 1000, &err), 0);
	state_rollback(s);
	assert_true(state_grouped(s));
	queue(s, "d3-0", "three", 5, 1);
	/* Inside the group, only what was committed before it can be sent... */
	assert_true(claimable(s, 2000, key, sizeof(key)));
	assert_string_equal(key, "before-1");
	claim(s, 2000, &it);
	state_claim_delivered_lazily(s, &it, "n", 2000);
	state_claim_end(s, &it);
	assert_false(claimable(s, 2000, key, sizeof(key)));
	assert_int_equal(sql_number(path, "SELECT count(*) FROM outbox"), 2);
	/* ...and what it holds once it is committed. */
	assert_int_equal(state_group_close(s, &err), 0);
	assert_false(state_grouped(s));
	assert_true(claimable(s, 2000, key, sizeof(key)));
	assert_string_equal(key, "d1-0");
	assert_int_equal(sql_number(path, "SELECT count(*) FROM outbox"), 4);
	assert_int_equal(sql_number(path, "SELECT count(*) FROM outbox WHERE key = 'd2-0'"), 0);
	state_close(s);
	remove_db(path);
}

static void a_delivery_known_in_memory_moves_the_queue_on_and_is_written_later(void **state)
{
	char path[PATH_SIZE], key[64];
	struct state *s = fresh_state(path);
	struct state_claim it = {0};
	struct state_counts c;
	struct err err;

	(void)state;
	queue(s, "k-0", "zero", 4, 1);
	queue(s, "k-1", "one", 3, 1);
	claim(s, 2000, &it);
	state_claim_delivered_lazily(s, &it, "n", 2000);
	state_claim_end(s, &it);
	assert_int_equal(state_marks_pending(s), 1);
	/* The queue goes on at once, and the delivered one is not sent again... */
	assert_true(claimable(s, 2000, key, sizeof(key)));
	assert_string_equal(key, "k-1");
	/* ...though the file says it is pending until the marks are written. */
	assert_int_equal(sql_number(path, "SELECT count(*) FROM outbox WHERE state = 'pending'"),
			 2);
	assert_int_equal(state_flush_marks(s, &err), 0);
	assert_int_equal(state_marks_pending(s), 0);
	assert_int_equal(state_counts(s, "n", &c, &err), 0);
	assert_int_equal(c.delivered, 1);
	assert_int_equal(c.pending, 1);
	/* A group's commit writes them too; an outcome recorded for good closes the group. */
	claim(s, 3000, &it);
	assert_int_equal(state_group_open(s, &err), 0);
	state_claim_delivered_lazily(s, &it, "n", 3000);
	state_claim_end(s, &it);
	assert_int_equal(state_group_close(s, &err), 0);
	assert_int_equal(sql_number(path, "SELECT count(*) FROM outbox WHERE state = 'delivered'"),
			 2);
	queue(s, "k-2", "two", 3, 1);
	claim(s, 4000, &it);
	assert_int_equal(state_group_open(s, &err), 0);
	assert_int_equal(state_claim_retry(s, &it, 9000, "HTTP 503", &err), 0);
	state_claim_end(s, &it);
	assert_false(state_grouped(s));
	state_close(s);
	remove_db(path);
}

static void collect_held(void *ctx, const char *alert, size_t len, long long created_ms)
{
	char *seen = ctx;

	(void)created_ms;
	strncat(seen, alert, len);
	strcat(seen, ";");
}

/* A scheduled notifier's period: alerts held until its message is queued, each in exactly one,
 * and a restart in the middle loses none. */
static void held_alerts_go_into_exactly_one_period_message(void **state)
{
	char path[PATH_SIZE], seen[256] = "";
	struct state *s = fresh_state(path);
	struct state_period p, again;
	int64_t last = 0;
	size_t n;
	long long oldest;
	struct err err;

	(void)state;
	assert_int_equal(state_begin(s, &err), 0);
	assert_int_equal(state_period(s, "daily", 5000, &p, &err), 0);
	assert_int_equal(p.last_ms, 5000);
	assert_int_equal(strncmp(p.key, "msg_", 4), 0);
	assert_int_equal(strlen(p.key), STATE_KEY_SIZE - 1);
	assert_int_equal(state_hold(s, "daily", "one", 3, 6000, &err), 0);
	assert_int_equal(state_hold(s, "daily", "two", 3, 7000, &err), 0);
	assert_int_equal(state_hold(s, "other", "three", 5, 7000, &err), 0);
	assert_int_equal(state_commit(s, &err), 0);
	/* Opening again gives the same period: the first deadline given is kept. */
	assert_int_equal(state_period(s, "daily", 9000, &again, &err), 0);
	assert_int_equal(again.last_ms, 5000);
	assert_string_equal(again.key, p.key);
	state_close(s);

	assert_int_equal(state_open(path, NULL, &s, &err), 0);
	assert_int_equal(state_held_count(s, "daily", &n, &oldest, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(oldest, 6000);
	assert_int_equal(state_begin(s, &err), 0);
	assert_int_equal(state_held(s, "daily", collect_held, seen, &last, &err), 0);
	assert_string_equal(seen, "one;two;");
	assert_int_equal(state_held_release(s, "daily", last, &err), 0);
	assert_int_equal(state_period_close(s, "daily", 8000, &err), 0);
	assert_int_equal(state_commit(s, &err), 0);
	assert_int_equal(state_period(s, "daily", 1, &again, &err), 0);
	assert_int_equal(again.last_ms, 8000);
	assert_string_not_equal(again.key, p.key); /* the next period's message has its own ids */
	assert_int_equal(state_held_count(s, "daily", &n, &oldest, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(state_held_count(s, "other", &n, &oldest, &err), 0);
	assert_int_equal(n, 1);
	/* A release rolled back lets nothing go. */
	assert_int_equal(state_begin(s, &err), 0);
	assert_int_equal(state_held(s, "other", collect_held, seen, &last, &err), 0);
	assert_int_equal(state_held_release(s, "other", last, &err), 0);
	state_rollback(s);
	assert_int_equal(state_held_count(s, "other", &n, &oldest, &err), 0);
	assert_int_equal(n, 1);
	state_close(s);
	remove_db(path);
}

/* A schema 4 state gains the tables of scheduled messages and keeps the rest. */
static void a_schema_4_state_gains_the_schedules_tables(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	struct state_period p;
	struct err err;

	(void)state;
	state_close(s);
	sql_run(path, "DROP TABLE held; DROP TABLE periods; PRAGMA user_version = 4;");
	assert_int_equal(state_open(path, NULL, &s, &err), 0);
	assert_int_equal(sql_number(path, "PRAGMA user_version"), 5);
	assert_int_equal(state_begin(s, &err), 0);
	assert_int_equal(state_period(s, "daily", 1, &p, &err), 0);
	assert_int_equal(state_hold(s, "daily", "x", 1, 2, &err), 0);
	assert_int_equal(state_commit(s, &err), 0);
	state_close(s);
	remove_db(path);
}

/* Whether SQLite's program for sql, on the state at path, builds a table in memory. */
static bool builds_a_table(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	bool found = false;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		found |= strcmp((const char *)sqlite3_column_text(st, 1), "OpenEphemeral") == 0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return found;
}

/* The outbox's check of a message's state was a list, for which SQLite built a table in memory
 * at every insert and update of a message; a file made so is given the same check as three
 * comparisons when it opens, and it still holds. */
static void an_outbox_check_of_a_list_becomes_three_comparisons(void **state)
{
	static const char insert[] =
		"EXPLAIN INSERT INTO outbox (notifier, key, source, papers, state, created_ms, "
		"next_ms) VALUES ('n', 'k', 's', 1, 'pending', 1, 1)";
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	struct err err;
	sqlite3 *db;
	sqlite3_stmt *st;
	char *msg = NULL;

	(void)state;
	state_close(s);
	assert_false(builds_a_table(path, insert));
	sql_run(path, "PRAGMA writable_schema = ON;"
		      "UPDATE sqlite_schema SET sql = replace(sql, "
		      "'(state = ''pending'' OR state = ''delivered'' OR state = ''failed'')', "
		      "'(state IN (''pending'', ''delivered'', ''failed''))') "
		      "WHERE name = 'outbox';"
		      "PRAGMA writable_schema = OFF;");
	assert_true(builds_a_table(path, insert));
	assert_int_equal(state_open(path, NULL, &s, &err), 0);
	state_close(s);
	assert_false(builds_a_table(path, insert));
	assert_int_equal(sql_number(path, "PRAGMA user_version"), 5);
	/* Still the check it was. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db,
			     "INSERT INTO outbox (notifier, key, source, papers, state, "
			     "created_ms, next_ms) VALUES ('n', 'k', 's', 1, 'sent', 1, 1)",
			     NULL, NULL, &msg),
		SQLITE_CONSTRAINT);
	assert_non_null(strstr(msg, "CHECK constraint failed"));
	sqlite3_free(msg);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
	remove_db(path);
}

/* The outbox's order again, on the clock as it goes: both backends. A retry's time is when
 * the message is due again; nothing behind it goes first. */
static void the_queue_keeps_its_order_through_a_retry_on_the_clock(void **state)
{
	char path[PATH_SIZE];
	struct state *s = fresh_state(path);
	struct state_claim c = {0};
	struct state_counts counts;
	struct err err;
	long long now = state_now_ms(), next_ms;
	bool claimed;
	size_t n;

	(void)state;
	queue(s, "k-0", "first", 5, 2);
	queue(s, "k-1", "second", 6, 1);
	claim(s, now, &c);
	assert_string_equal(c.key, "k-0");
	assert_int_equal(state_claim_retry(s, &c, now + 400, "HTTP 500", &err), 0);
	state_claim_end(s, &c);
	assert_int_equal(state_claim_next(s, "n", state_now_ms(), &c, &claimed, &next_ms, &err), 0);
	assert_false(claimed);
	assert_in_range(next_ms, now + 300, now + 500);
	sleep_for(0.45);
	claim(s, state_now_ms(), &c);
	assert_string_equal(c.key, "k-0");
	assert_int_equal(c.attempts, 1);
	assert_int_equal(state_claim_failed(s, &c, state_now_ms(), "HTTP 404", &err), 0);
	state_claim_end(s, &c);
	claim(s, state_now_ms(), &c);
	assert_string_equal(c.key, "k-1");
	assert_int_equal(state_claim_delivered(s, &c, state_now_ms(), &err), 0);
	state_claim_end(s, &c);
	assert_int_equal(state_queue_next_due(s, "n", &next_ms, &err), 0);
	assert_int_equal(next_ms, -1);
	assert_int_equal(state_outbox_requeue(s, "n", state_now_ms(), &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(state_counts(s, "n", &counts, &err), 0);
	assert_int_equal(counts.pending, 1);
	assert_int_equal(counts.delivered, 1);
	assert_int_equal(counts.papers_delivered, 1);
	state_close(s);
	remove_db(path);
}

/* A URI's password never shows, wherever it is written in it; a file's path shows as it is. */
static void a_state_is_shown_without_its_password(void **state)
{
	static const char *const cases[][2] = {
		{"postgresql://pw:s3cret@db.example.org:5433/pw?sslmode=verify-full",
		 "postgresql://pw@db.example.org:5433/pw?sslmode=verify-full"},
		{"postgres:///pw?host=/run/pg&password=s3cret&user=pw",
		 "postgres:///pw?host=/run/pg&password=***&user=pw"},
		{"postgresql://pw@/pw?password=s3cret", "postgresql://pw@/pw?password=***"},
		{"postgresql:///pw?xpassword=keep", "postgresql:///pw?xpassword=keep"},
		{"postgresql://db/a@b", "postgresql://db/a@b"},
		{"/var/lib/paperwatch/state.db", "/var/lib/paperwatch/state.db"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *shown = state_shown(cases[i][0]);

		assert_string_equal(shown, cases[i][1]);
		free(shown);
	}
	assert_true(state_is_shared("postgres://h/db"));
	assert_false(state_is_shared("postgresql.db"));
}

/* ---- What a shared state adds ---- */

/* Another process's handle on the state at path, whose claims stand lease seconds. */
static struct state *another_process(const char *path, double lease)
{
	struct state_opts o = {.scope = "/srv/inbox", .lease = lease};
	struct state *s;
	struct err err;

	if (state_open(path, &o, &s, &err) != 0)
		fail_msg("%s", err.msg);
	return s;
}

/* Two processes, one alert: the second finds it recorded. */
static void an_alert_is_recorded_once_across_processes(void **state)
{
	char path[PATH_SIZE];
	struct state *a = fresh_state(path), *b = another_process(path, 1);
	struct err err;
	bool fresh;

	(void)state;
	assert_int_equal(state_begin(a, &err), 0);
	assert_int_equal(add_alert(a, "2410.07177", "agents", "slack", "b1", &fresh, &err), 0);
	assert_true(fresh);
	assert_int_equal(state_commit(a, &err), 0);
	assert_int_equal(state_begin(b, &err), 0);
	assert_int_equal(add_alert(b, "2410.07177", "agents", "slack", "b2", &fresh, &err), 0);
	assert_false(fresh);
	assert_int_equal(state_commit(b, &err), 0);
	state_close(b);
	state_close(a);
}

/* A claim is a lease: while it stands no other process gets the message; once it runs out one
 * does, and the first claimant's late outcome, its token spent, changes nothing. */
static void a_claim_is_a_lease_and_a_late_outcome_changes_nothing(void **state)
{
	char path[PATH_SIZE];
	struct state *a = fresh_state(path), *first = another_process(path, 0.5),
		     *second = another_process(path, 0.5);
	struct state_claim c1 = {0}, c2 = {0};
	struct state_counts counts;
	struct err err;
	long long now = state_now_ms(), next_ms;
	bool claimed;

	(void)state;
	queue(a, "k-0", "first", 5, 1);
	assert_int_equal(state_claim_next(first, "n", now, &c1, &claimed, &next_ms, &err), 0);
	assert_true(claimed);
	assert_int_equal(state_claim_next(second, "n", now, &c2, &claimed, &next_ms, &err), 0);
	assert_false(claimed);
	assert_in_range(next_ms, now + 300, now + 700); /* when the lease runs out */
	sleep_for(0.6);
	assert_int_equal(
		state_claim_next(second, "n", state_now_ms(), &c2, &claimed, &next_ms, &err), 0);
	assert_true(claimed);
	assert_string_equal(c2.key, "k-0");
	assert_true(c2.token > c1.token);
	/* The first claimant's delivery comes late: recorded as nothing. */
	assert_int_equal(state_claim_delivered(first, &c1, state_now_ms(), &err), 0);
	state_claim_end(first, &c1);
	assert_int_equal(state_counts(a, "n", &counts, &err), 0);
	assert_int_equal(counts.delivered, 0);
	assert_int_equal(counts.pending, 1);
	assert_int_equal(state_claim_delivered(second, &c2, state_now_ms(), &err), 0);
	state_claim_end(second, &c2);
	assert_int_equal(state_counts(a, "n", &counts, &err), 0);
	assert_int_equal(counts.delivered, 1);
	assert_int_equal(counts.pending, 0);
	state_close(second);
	state_close(first);
	state_close(a);
}

/* A notifier's pace, set by the outcome of one process's send, holds the other processes too. */
static void a_notifiers_pace_holds_every_process(void **state)
{
	char path[PATH_SIZE];
	struct state *a = fresh_state(path), *b = another_process(path, 5);
	struct state_claim c = {0};
	struct err err;
	long long now, next_ms;
	bool claimed;

	(void)state;
	queue(a, "k-0", "first", 5, 1);
	queue(a, "k-1", "second", 6, 1);
	claim(a, state_now_ms(), &c);
	c.pause_ms = 400;
	assert_int_equal(state_claim_delivered(a, &c, state_now_ms(), &err), 0);
	state_claim_end(a, &c);
	now = state_now_ms();
	assert_int_equal(state_claim_next(b, "n", now, &c, &claimed, &next_ms, &err), 0);
	assert_false(claimed);
	assert_in_range(next_ms, now + 250, now + 500);
	sleep_for(0.45);
	claim(b, state_now_ms(), &c);
	assert_string_equal(c.key, "k-1");
	state_claim_end(b, &c);
	state_close(b);
	state_close(a);
}

/* A claim never waits for a lock: another process completing the head (its row locked until it
 * commits) while this one claims would otherwise lock the two rows in the opposite order, and
 * PostgreSQL would break the deadlock only after a second. The claim finds nothing now and the
 * queue's order holds: the message behind is not taken either. */
static void a_claim_waits_for_no_lock_and_keeps_the_order(void **state)
{
	char path[PATH_SIZE];
	struct state *a = fresh_state(path);
	struct state_claim c = {0};
	struct err err;
	long long next_ms;
	bool claimed;
	double t0;
	PGconn *other = PQconnectdb(path);
	PGresult *r;

	(void)state;
	assert_int_equal(PQstatus(other), CONNECTION_OK);
	queue(a, "k-0", "first", 5, 1);
	queue(a, "k-1", "second", 6, 1);
	PQclear(PQexec(other, "BEGIN"));
	r = PQexec(other, "UPDATE outbox SET attempts = attempts WHERE key = 'k-0'");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	t0 = (double)state_now_ms();
	assert_int_equal(state_claim_next(a, "n", state_now_ms(), &c, &claimed, &next_ms, &err), 0);
	assert_false(claimed);
	assert_true((double)state_now_ms() - t0 < 500);
	assert_true(next_ms >= 0);
	PQclear(PQexec(other, "ROLLBACK"));
	PQfinish(other);
	claim(a, state_now_ms(), &c);
	assert_string_equal(c.key, "k-0");
	state_claim_end(a, &c);
	state_close(a);
}

/* Whether fd becomes readable within ms. */
static bool readable_within(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1;
}

/* The owner hears of a message another process queued, and not of its own. */
static void a_process_hears_of_what_another_queued(void **state)
{
	char path[PATH_SIZE];
	struct state *a = fresh_state(path), *b = another_process(path, 5);
	struct err err;

	(void)state;
	assert_int_equal(state_own(a, &err), 0);
	assert_true(state_knock_fd(a) >= 0);
	queue(b, "k-0", "first", 5, 1);
	assert_true(readable_within(state_knock_fd(a), 2000));
	assert_int_equal(state_knocked(a, &err), 1);
	queue(a, "k-1", "second", 6, 1);
	readable_within(state_knock_fd(a), 300);
	assert_int_equal(state_knocked(a, &err), 0);
	assert_int_equal(state_knock(b, &err), 0);
	assert_true(readable_within(state_knock_fd(a), 2000));
	assert_int_equal(state_knocked(a, &err), 1);
	state_close(b);
	state_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sqlite_runs_without_mutexes_or_a_count_of_its_memory),
		cmocka_unit_test(an_alert_is_fresh_only_once_per_paper_rule_and_notifier),
		cmocka_unit_test(a_rolled_back_transaction_records_nothing),
		cmocka_unit_test(the_outbox_goes_oldest_first_through_retry_failure_and_requeue),
		cmocka_unit_test(a_delivered_message_keeps_its_count_but_not_its_body),
		cmocka_unit_test(an_older_state_lets_go_of_the_bodies_it_delivered),
		cmocka_unit_test(a_claim_ended_without_an_outcome_leaves_the_message_queued),
		cmocka_unit_test(
			a_long_log_is_checkpointed_at_a_quiet_moment_not_inside_the_commit),
		cmocka_unit_test(
			without_quiet_maintenance_the_commit_checkpoints_a_long_log_itself),
		cmocka_unit_test(an_ephemeral_state_keeps_a_queue_in_memory),
		cmocka_unit_test(a_file_is_seen_only_as_it_was_recorded),
		cmocka_unit_test(files_read_only_partly_are_counted_and_the_latest_named),
		cmocka_unit_test(a_schema_2_state_learns_how_files_were_read),
		cmocka_unit_test(alerts_keep_what_status_shows_of_them),
		cmocka_unit_test(a_groups_digests_commit_together_and_are_claimed_only_then),
		cmocka_unit_test(
			a_delivery_known_in_memory_moves_the_queue_on_and_is_written_later),
		cmocka_unit_test(a_schema_3_state_keeps_its_alerts_and_gains_their_history),
		cmocka_unit_test(a_next_attempt_out_of_range_is_repaired_when_the_state_opens),
		cmocka_unit_test(a_schema_4_state_gains_papers_sums_and_health_conditions),
		cmocka_unit_test(digests_are_found_by_format_time_and_papers_sum),
		cmocka_unit_test(a_damaged_database_is_named_with_the_way_out),
		cmocka_unit_test(held_alerts_go_into_exactly_one_period_message),
		cmocka_unit_test(a_file_with_the_same_bytes_keeps_the_time_it_was_read),
		cmocka_unit_test(a_schema_4_state_gains_the_schedules_tables),
		cmocka_unit_test(an_outbox_check_of_a_list_becomes_three_comparisons),
		cmocka_unit_test(papers_read_are_kept_by_id_bounded_and_gained_by_an_older_state),
		cmocka_unit_test(the_queue_keeps_its_order_through_a_retry_on_the_clock),
		cmocka_unit_test(a_state_is_shown_without_its_password),
	};
	/* What says nothing of SQLite, and what sharing adds. */
	const struct CMUnitTest shared[] = {
		cmocka_unit_test(an_alert_is_fresh_only_once_per_paper_rule_and_notifier),
		cmocka_unit_test(a_rolled_back_transaction_records_nothing),
		cmocka_unit_test(a_claim_ended_without_an_outcome_leaves_the_message_queued),
		cmocka_unit_test(a_file_is_seen_only_as_it_was_recorded),
		cmocka_unit_test(files_read_only_partly_are_counted_and_the_latest_named),
		cmocka_unit_test(alerts_keep_what_status_shows_of_them),
		cmocka_unit_test(digests_are_found_by_format_time_and_papers_sum),
		cmocka_unit_test(held_alerts_go_into_exactly_one_period_message),
		cmocka_unit_test(a_file_with_the_same_bytes_keeps_the_time_it_was_read),
		cmocka_unit_test(the_queue_keeps_its_order_through_a_retry_on_the_clock),
		cmocka_unit_test(an_alert_is_recorded_once_across_processes),
		cmocka_unit_test(a_claim_is_a_lease_and_a_late_outcome_changes_nothing),
		cmocka_unit_test(a_notifiers_pace_holds_every_process),
		cmocka_unit_test(a_claim_waits_for_no_lock_and_keeps_the_order),
		cmocka_unit_test(a_process_hears_of_what_another_queued),
	};

	pg_server = getenv("PW_TEST_PG");
	if (pg_server != NULL && *pg_server != '\0')
		return cmocka_run_group_tests_name("state (postgresql)", shared, NULL, NULL);
	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
