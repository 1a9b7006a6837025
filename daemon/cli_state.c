/*
 * cli_state.c — the subcommands that use the state: scan (process digests and deliver, as the
 * daemon does), status, retry, and test-notify.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cadence.h"
#include "cli.h"
#include "health.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "outbox.h"
#include "pipeline.h"
#include "state.h"
#include "xmalloc.h"

/* How long `scan` waits for deliveries unless --wait says otherwise. */
#define SCAN_WAIT_DEFAULT 60.0
/* How long `test-notify` waits for its one message. */
#define TEST_NOTIFY_WAIT 60.0
/* A local time as `status` shows it, "YYYY-MM-DD HH:MM:SS +HHMM", with room for a longer year. */
#define TIME_TEXT_SIZE 40
/* The most alerts `status --recent` shows. */
#define STATUS_RECENT_MAX 100000

/* Delivers what is queued until nothing is pending, or the deadline, or until everything still
 * pending waits past the deadline. */
static int deliver_until(struct loop *l, struct outbox *o, double wait)
{
	double deadline = loop_now() + wait;
	struct err err;

	outbox_kick(o);
	for (;;) {
		double next = outbox_next_activity(o);

		if (next < 0 || next > deadline || loop_now() >= deadline)
			return 0;
		if (loop_turn(l, deadline, &err) != 0) {
			log_error("%s", err.msg);
			return -1;
		}
	}
}

/* Messages still pending for the configured notifiers. */
static size_t pending_total(struct state *st, const struct config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_notifiers; i++) {
		struct state_counts c;
		struct err err;

		if (state_counts(st, cfg->notifiers[i].name, &c, &err) == 0)
			n += c.pending;
	}
	return n;
}

/* The environment scan and test-notify deliver in. */
struct delivery {
	struct config *cfg;
	struct state *st;
	struct loop *loop;
	struct outbox *outbox;
};

/* Another instance on the shared state recorded an outcome or queued something: look again. */
static void on_shared_knock(void *ctx, int fd, uint32_t events)
{
	struct delivery *d = ctx;
	struct err err;

	(void)fd;
	(void)events;
	if (state_knocked(d->st, &err) > 0)
		outbox_kick(d->outbox);
}

/* On a shared state the instances running beside the scan may claim what it queued: the scan
 * sends what it can claim, and waits, woken by each outcome they record, until nothing the
 * configuration's notifiers hold is pending or for at most wait seconds. */
static int deliver_shared(struct delivery *d, double wait)
{
	double deadline = loop_now() + wait;
	int fd = state_knock_fd(d->st);
	struct err err;
	int rc = 0;

	if (loop_watch(d->loop, fd, EPOLLIN, on_shared_knock, d, &err) != 0) {
		log_error("%s", err.msg);
		return -1;
	}
	outbox_kick(d->outbox);
	while (pending_total(d->st, d->cfg) > 0 && loop_now() < deadline) {
		if (loop_turn(d->loop, deadline, &err) != 0) {
			log_error("%s", err.msg);
			rc = -1;
			break;
		}
	}
	loop_unwatch(d->loop, fd);
	return rc;
}

/* Opens the configuration's state, or one in memory only without with_state, and delivery on
 * it. */
static int delivery_open(struct delivery *d, struct config *cfg, bool with_state)
{
	struct err err;
	int rc;

	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	rc = with_state ? cli_state_open(cfg, false, &d->st, &err)
			: state_open_ephemeral(&d->st, &err);
	if (rc != 0 || loop_new(&d->loop, &err) != 0 ||
	    outbox_new(d->loop, d->st, cfg, &d->outbox, &err) != 0) {
		log_error("%s", err.msg);
		return -1;
	}
	return 0;
}

static void delivery_close(struct delivery *d)
{
	outbox_free(d->outbox);
	loop_free(d->loop);
	state_close(d->st);
}

/* Runs one digest through the pipeline and says what came of it. A file of the folder (inbox)
 * is read and remembered as the daemon does. */
static int scan_file(struct delivery *d, const char *path, bool inbox, unsigned flags)
{
	char real[PATH_MAX], what[160];
	struct pipeline_result r;
	struct err err;
	int rc;

	/* Files scanned by hand are remembered by their full path. */
	if (inbox)
		rc = pipeline_file(d->cfg, d->st, path, strrchr(path, '/') + 1, d->cfg->watch.dir,
				   flags, &r, &err);
	else if (realpath(path, real) != NULL)
		rc = pipeline_file(d->cfg, d->st, path, real, NULL, flags, &r, &err);
	else
		rc = pipeline_file(d->cfg, d->st, path, path, NULL, flags, &r, &err);
	if (rc != 0) {
		log_error("%s", err.msg);
		return -1;
	}
	if (r.unchanged) {
		log_info("%s: unchanged since it was processed", path);
		return 0;
	}
	pipeline_describe(&r, what, sizeof(what));
	log_info("%s: %s", path, what);
	return 0;
}

/* Whether a running daemon owns the state's queues (*owner its pid), or this scan does now: only
 * one process may deliver from a state, or the same messages would go out twice. */
static int scan_owner(struct delivery *d, long *owner)
{
	struct err err, again;

	if (state_owner(d->st, owner, &err) != 0) {
		log_error("%s", err.msg);
		return -1;
	}
	if (*owner > 0 || state_own(d->st, &err) == 0)
		return 0;
	/* A daemon may have started since the first look: then it owns the queues. */
	if (state_owner(d->st, owner, &again) == 0 && *owner > 0)
		return 0;
	log_error("%s", err.msg);
	return -1;
}

/* Leaves what the scan queued to the daemon that owns the queues, and says so. */
static int scan_hand_over(struct delivery *d, const struct config *cfg, long owner, int status)
{
	size_t pending = pending_total(d->st, cfg);
	struct err err;

	if (state_knock(d->st, &err) != 0) {
		log_error("%s", err.msg);
		return EXIT_FAIL;
	}
	log_info("%zu message%s queued for the running paperwatch (pid %ld), which sends them",
		 pending, plural(pending), owner);
	return status;
}

int cmd_scan(int argc, char **argv)
{
	static const struct option options[] = {
		{"wait", required_argument, NULL, 'w'},
		{"again", no_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	double wait = SCAN_WAIT_DEFAULT;
	struct cli_files files = {0};
	struct cadence_result made;
	struct delivery d;
	struct config *cfg;
	unsigned flags = 0;
	int c, status = EXIT_OK;
	size_t pending;
	long owner;
	long long next;

	while ((c = getopt_long(argc, argv, "c:w:", options, NULL)) != -1) {
		if (c == 'c')
			path = optarg;
		else if (c == 'a')
			flags |= PIPELINE_AGAIN;
		else if (c != 'w' || conf_parse_duration(optarg, &wait) != 0)
			goto usage;
	}
	if ((cfg = cli_load_config(path)) == NULL)
		return EXIT_USAGE;
	if (optind == argc && cli_inbox(cfg, &files) != 0) {
		config_unref(cfg);
		return EXIT_FAIL;
	}
	if (delivery_open(&d, cfg, true) != 0 || scan_owner(&d, &owner) != 0) {
		status = EXIT_FAIL;
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		if (scan_file(&d, argv[i], false, flags) != 0)
			status = EXIT_FAIL;
	}
	for (size_t i = 0; i < files.n; i++) {
		if (scan_file(&d, files.paths[i], true, flags) != 0)
			status = EXIT_FAIL;
	}
	if (optind == argc)
		log_info("%zu digest%s in %s", files.n, plural(files.n), cfg->watch.dir);
	/* A scan run from cron, with no daemon, makes the scheduled messages that are due. */
	if (cadence_run(cfg, d.st, state_now_ms(), &made, &next) != 0) {
		log_info("scheduled messages: tried again at the next scan");
		status = EXIT_FAIL;
	}
	if (owner > 0) {
		status = scan_hand_over(&d, cfg, owner, status);
		goto out;
	}
	if (state_is_shared(cfg->state) ? deliver_shared(&d, wait) != 0
					: deliver_until(d.loop, d.outbox, wait) != 0)
		status = EXIT_FAIL;
	outbox_flush(d.outbox);
	pending = pending_total(d.st, cfg);
	log_info("%zu message%s delivered (%zu paper%s), %zu failed, %zu still pending",
		 outbox_stats(d.outbox)->delivered, plural(outbox_stats(d.outbox)->delivered),
		 outbox_stats(d.outbox)->papers, plural(outbox_stats(d.outbox)->papers),
		 outbox_stats(d.outbox)->failed, pending);
	if (pending > 0 || outbox_stats(d.outbox)->failed > 0)
		status = EXIT_FAIL;
out:
	delivery_close(&d);
	cli_files_free(&files);
	config_unref(cfg);
	return status;
usage:
	return cli_usage_error("scan");
}

/* ---- status and retry ---- */

/* Opens the state of an existing configuration for status or retry, without creating it. */
static struct state *open_existing(const struct config *cfg)
{
	struct state *st;
	struct err err;

	if (!cli_state_exists(cfg)) {
		log_info("%s: no state yet: nothing was ever processed", cfg->state);
		return NULL;
	}
	if (cli_state_open(cfg, false, &st, &err) != 0) {
		log_error("%s", err.msg);
		return NULL;
	}
	return st;
}

/* A time as people read it, in the local zone and saying which: "2026-12-02 09:30:00 +0100";
 * with iso, as JSON has it: "2026-12-02T09:30:00+01:00". "-" for none (ms <= 0). */
static void format_time(long long ms, char *out, size_t size, bool iso)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	if (ms <= 0) {
		snprintf(out, size, "-");
		return;
	}
	/* strftime leaves the buffer undefined when the time does not fit: show "-" then, as for
	 * no time at all. */
	if (localtime_r(&t, &tm) == NULL ||
	    (n = strftime(out, size, iso ? "%Y-%m-%dT%H:%M:%S%z" : "%Y-%m-%d %H:%M:%S %z", &tm)) ==
		    0) {
		snprintf(out, size, "-");
		return;
	}
	/* RFC 3339 writes the offset with a colon. */
	if (iso && n + 1 < size && n >= 2) {
		memmove(out + n - 1, out + n - 2, 3);
		out[n - 2] = ':';
	}
}

/* A time for JSON: the string, or null for none. */
static json_t *json_time(long long ms)
{
	char text[TIME_TEXT_SIZE];

	format_time(ms, text, sizeof(text), true);
	return ms > 0 ? json_string(text) : json_null();
}

/* Text from the state (an error an answer gave, a file name) with no control byte left to
 * reach a terminal. */
static void clean(char *s)
{
	for (char *c = s; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	}
}

/* What `status` shows: filled from the state, then printed as a table or as JSON. */
struct status_view {
	bool json;
	json_t *out;   /* with json: the object printed at the end */
	json_t *notif; /* with json: its "notifiers" */
	size_t n_waiting;
	size_t n_health; /* conditions shown */
	struct {
		char name[128];
		struct state_counts c;
	} * waiting; /* notifiers with pending messages, for the lines under the table */
	size_t cap_waiting;
};

/* One notifier's counts: a row of the table, or an element of "notifiers". */
static void status_row(struct status_view *v, struct state *st, const char *name, bool configured)
{
	struct state_counts c;
	char next[TIME_TEXT_SIZE];
	struct err err;
	json_t *o;

	if (state_counts(st, name, &c, &err) != 0) {
		log_error("%s", err.msg);
		return;
	}
	clean(c.last_error);
	clean(c.pending_error);
	if (v->json) {
		o = json_object();
		json_object_set_new(o, "name", json_string(name));
		json_object_set_new(o, "configured", json_boolean(configured));
		json_object_set_new(o, "delivered", json_integer((json_int_t)c.delivered));
		json_object_set_new(o, "papers_delivered",
				    json_integer((json_int_t)c.papers_delivered));
		json_object_set_new(o, "pending", json_integer((json_int_t)c.pending));
		json_object_set_new(o, "failed", json_integer((json_int_t)c.failed));
		json_object_set_new(o, "next_attempt", json_time(c.pending ? c.next_ms : 0));
		json_object_set_new(o, "last_error",
				    c.failed ? json_string(c.last_error) : json_null());
		json_object_set_new(o, "pending_error",
				    c.pending_error[0] ? json_string(c.pending_error)
						       : json_null());
		json_object_set_new(o, "pending_error_at", json_time(c.pending_error_ms));
		json_object_set_new(o, "pending_attempts", json_integer(c.pending_attempts));
		json_array_append_new(v->notif, o);
		return;
	}
	format_time(c.pending ? c.next_ms : 0, next, sizeof(next), false);
	printf("%-20s %9zu %9zu  %-25s %7zu  %s%s\n", name, c.delivered, c.pending, next, c.failed,
	       c.failed ? c.last_error : "-", configured ? "" : "  (not configured)");
	if (c.pending > 0) {
		v->waiting =
			xgrow(v->waiting, &v->cap_waiting, v->n_waiting + 1, sizeof(*v->waiting));
		snprintf(v->waiting[v->n_waiting].name, sizeof(v->waiting[0].name), "%s", name);
		v->waiting[v->n_waiting++].c = c;
	}
}

/* Under the table: why each notifier's pending messages wait. */
static void status_waiting(const struct status_view *v)
{
	char when[TIME_TEXT_SIZE], next[TIME_TEXT_SIZE];

	if (v->n_waiting > 0)
		printf("\nwhy messages are pending:\n");
	for (size_t i = 0; i < v->n_waiting; i++) {
		const struct state_counts *c = &v->waiting[i].c;

		format_time(c->next_ms, next, sizeof(next), false);
		if (c->pending_error[0] == '\0') {
			printf("  %s: %zu message%s due at %s, not tried yet\n", v->waiting[i].name,
			       c->pending, plural(c->pending), next);
			continue;
		}
		format_time(c->pending_error_ms, when, sizeof(when), false);
		printf("  %s: %zu message%s wait; the first was tried %d time%s, the last at %s: "
		       "%s; next attempt at %s\n",
		       v->waiting[i].name, c->pending, plural(c->pending), c->pending_attempts,
		       plural((size_t)c->pending_attempts), when, c->pending_error, next);
	}
}

/* Each notifier with a schedule: what it holds and when its next message goes; lines under the
 * table, or "schedules". */
static void status_schedules(struct status_view *v, struct state *st, const struct config *cfg)
{
	json_t *list = json_array();
	bool any = false;

	for (size_t i = 0; i < cfg->n_notifiers; i++) {
		const struct notifier *n = &cfg->notifiers[i];
		char what[96], next[40], since[TIME_TEXT_SIZE];
		long long now = state_now_ms(), oldest;
		size_t held;
		struct err err;

		if (n->when.kind == SCHEDULE_INSTANT)
			continue;
		if (state_held_count(st, n->name, &held, &oldest, &err) != 0) {
			log_error("%s", err.msg);
			continue;
		}
		schedule_describe(&n->when, what, sizeof(what));
		if (v->json) {
			json_t *o = json_object();

			schedule_time(&n->when, schedule_next(&n->when, now), SCHEDULE_RFC3339,
				      next, sizeof(next));
			json_object_set_new(o, "notifier", json_string(n->name));
			json_object_set_new(o, "schedule", json_string(what));
			json_object_set_new(o, "held", json_integer((json_int_t)held));
			json_object_set_new(o, "held_since", json_time(oldest));
			json_object_set_new(o, "next", json_string(next));
			json_array_append_new(list, o);
			continue;
		}
		if (!any)
			printf("\nscheduled messages:\n");
		any = true;
		schedule_time(&n->when, schedule_next(&n->when, now), SCHEDULE_MINUTE, next,
			      sizeof(next));
		format_time(oldest, since, sizeof(since), false);
		printf("  %s: %s; %zu paper%s held%s%s; the next message at %s\n", n->name, what,
		       held, plural(held), held ? " since " : "", held ? since : "", next);
	}
	if (v->json)
		json_object_set_new(v->out, "schedules", list);
	else
		json_decref(list);
}

/* Digests whose format did not read them whole: a line under the table, or "partial". */
static void status_partial(struct status_view *v, struct state *st)
{
	struct state_partial pt;
	char when[TIME_TEXT_SIZE];
	struct err err;
	json_t *o;

	if (state_files_partial(st, &pt, &err) != 0) {
		log_error("%s", err.msg);
		return;
	}
	if (v->json) {
		o = json_object();
		json_object_set_new(o, "files", json_integer((json_int_t)pt.files));
		json_object_set_new(o, "latest", pt.files ? json_string(pt.last) : json_null());
		json_object_set_new(o, "latest_at", json_time(pt.files ? pt.last_ms : 0));
		json_object_set_new(v->out, "partial", o);
		return;
	}
	printf("\ndigests read only partly: %zu", pt.files);
	if (pt.files > 0) {
		/* A file name is whatever its writer chose: no control byte reaches the terminal.
		 */
		clean(pt.last);
		format_time(pt.last_ms, when, sizeof(when), false);
		printf(" (the latest %s, at %s; paperwatch parse --strict FILE says what was not "
		       "understood)",
		       pt.last, when);
	}
	printf("\n");
}

/* The folder's digests: the latest one's time and papers, and the median of the last ones. */
static void status_digests(struct status_view *v, struct state *st, const struct config *cfg)
{
	struct state_digest last[HEALTH_MEDIAN_OF];
	size_t n, papers[HEALTH_MEDIAN_OF], median = 0;
	char when[TIME_TEXT_SIZE];
	struct err err;
	json_t *o;

	if (state_files_latest(st, HEALTH_MEDIAN_OF, last, &n, &err) != 0) {
		log_error("%s", err.msg);
		return;
	}
	for (size_t i = 0; i < n; i++)
		papers[i] = last[i].papers;
	if (n > 0)
		median = health_median(papers, n);
	if (v->json) {
		o = json_object();
		json_object_set_new(o, "folder", json_string(cfg->watch.dir));
		json_object_set_new(o, "latest", n ? json_string(last[0].name) : json_null());
		json_object_set_new(o, "latest_at", json_time(n ? last[0].processed_ms : 0));
		json_object_set_new(o, "latest_papers",
				    n ? json_integer((json_int_t)last[0].papers) : json_null());
		json_object_set_new(o, "median_of", json_integer((json_int_t)n));
		json_object_set_new(o, "median_papers",
				    n ? json_integer((json_int_t)median) : json_null());
		json_object_set_new(v->out, "digests", o);
		return;
	}
	if (n == 0) {
		printf("\ndigests in %s: none read yet\n", cfg->watch.dir);
		return;
	}
	clean(last[0].name);
	format_time(last[0].processed_ms, when, sizeof(when), false);
	printf("\ndigests in %s: the latest %s, read at %s, %zu paper%s; the median of the last "
	       "%zu: %zu\n",
	       cfg->watch.dir, last[0].name, when, last[0].papers, plural(last[0].papers), n,
	       median);
}

/* state_health_each's callback: a condition raised, a line or an element of "health". */
static void status_health_one(void *ctx, const struct state_health *hc)
{
	struct status_view *v = ctx;
	char when[TIME_TEXT_SIZE], *subject, *detail;
	json_t *o;

	if (!hc->active)
		return;
	if (v->json) {
		o = json_object();
		json_object_set_new(o, "condition", json_string(hc->condition));
		json_object_set_new(o, "subject", json_string(hc->subject));
		json_object_set_new(o, "since", json_time(hc->since_ms));
		json_object_set_new(o, "detail", json_string(hc->detail));
		json_array_append_new(json_object_get(v->out, "health"), o);
		return;
	}
	subject = xstrdup(hc->subject);
	detail = xstrdup(hc->detail);
	clean(subject);
	clean(detail);
	format_time(hc->since_ms, when, sizeof(when), false);
	printf("  %s (%s) since %s: %s\n", hc->condition, subject, when, detail);
	free(subject);
	free(detail);
	v->n_health++;
}

/* The health conditions raised: a line each under "health:", or "health" in JSON. */
static void status_health(struct status_view *v, struct state *st)
{
	struct err err;

	if (v->json)
		json_object_set_new(v->out, "health", json_array());
	else
		printf("health:\n");
	if (state_health_each(st, status_health_one, v, &err) != 0)
		log_error("%s", err.msg);
	if (!v->json && v->n_health == 0)
		printf("  no condition raised\n");
}

/* state_recent's callback: one alert, a line or an element of "recent". */
static void status_recent_one(void *ctx, const struct state_recent *r)
{
	struct status_view *v = ctx;
	const struct state_alert *a = &r->alert;
	bool has_id = strncmp(a->paper, "title:", 6) != 0;
	char when[TIME_TEXT_SIZE], title[512];
	json_t *o;

	if (v->json) {
		o = json_object();
		json_object_set_new(o, "id", has_id ? json_string(a->paper) : json_null());
		json_object_set_new(o, "title", json_string(a->title));
		json_object_set_new(o, "rule", json_string(a->rule));
		json_object_set_new(o, "notifier", json_string(a->notifier));
		json_object_set_new(o, "alerted_at", json_time(a->created_ms));
		json_object_set_new(o, "message",
				    r->message_state[0] ? json_string(r->message_state)
							: json_null());
		json_object_set_new(o, "done_at", json_time(r->done_ms));
		json_array_append_new(json_object_get(v->out, "recent"), o);
		return;
	}
	format_time(a->created_ms, when, sizeof(when), false);
	snprintf(title, sizeof(title), "%s", a->title[0] ? a->title : a->paper);
	clean(title);
	printf("  %s  %s -> %s, %s: %s%s%s\n", when, a->rule, a->notifier,
	       strcmp(r->message_state, "held") == 0 ? "held for its scheduled message"
	       : r->message_state[0]                 ? r->message_state
						     : "message no longer kept",
	       title, has_id ? "  " : "", has_id ? a->paper : "");
}

static void status_recent(struct status_view *v, struct state *st, size_t n)
{
	struct err err;

	if (v->json)
		json_object_set_new(v->out, "recent", json_array());
	else
		printf("\nlatest alerts (%zu at most, the latest first):\n", n);
	if (state_recent(st, n, status_recent_one, v, &err) != 0)
		log_error("%s", err.msg);
}

/* The table, or the JSON object, of everything status shows. */
static void status_show(struct status_view *v, struct state *st, const struct config *cfg,
			size_t recent)
{
	char **names;
	size_t n;
	struct err err;

	if (v->json) {
		char *shown = state_shown(cfg->state);

		v->out = json_object();
		v->notif = json_array();
		json_object_set_new(v->out, "state", json_string(shown));
		free(shown);
		json_object_set_new(v->out, "exists", json_true());
		json_object_set_new(v->out, "notifiers", v->notif);
	} else {
		printf("%-20s %9s %9s  %-25s %7s  %s\n", "NOTIFIER", "DELIVERED", "PENDING",
		       "NEXT ATTEMPT", "FAILED", "LAST ERROR");
	}
	for (size_t i = 0; i < cfg->n_notifiers; i++)
		status_row(v, st, cfg->notifiers[i].name, true);
	/* Queues of notifiers the configuration no longer has still hold messages. */
	if (state_notifiers(st, &names, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (config_notifier_index(cfg, names[i]) < 0)
				status_row(v, st, names[i], false);
			free(names[i]);
		}
		free(names);
	}
	if (!v->json)
		status_waiting(v);
	status_schedules(v, st, cfg);
	status_partial(v, st);
	status_digests(v, st, cfg);
	status_health(v, st);
	if (recent > 0)
		status_recent(v, st, recent);
	if (v->json) {
		json_dumpf(v->out, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(v->out);
	}
	free(v->waiting);
}

int cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{"recent", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	struct status_view v = {0};
	const char *path = NULL;
	struct config *cfg;
	struct state *st;
	size_t recent = 0;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "c:", options, NULL)) != -1) {
		if (c == 'c') {
			path = optarg;
		} else if (c == 'j') {
			v.json = true;
		} else if (c == 'r') {
			errno = 0;
			recent = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' ||
			    recent > STATUS_RECENT_MAX)
				goto usage;
		} else {
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	if ((cfg = cli_load_config(path)) == NULL)
		return EXIT_USAGE;
	if ((st = open_existing(cfg)) == NULL) {
		c = cli_state_exists(cfg) ? EXIT_FAIL : EXIT_OK;
		/* A script still reads an answer: nothing was ever processed. */
		if (v.json && c == EXIT_OK) {
			v.out = json_pack(
				"{s:s, s:b, s:[], s:[], s:[], s:{s:s, s:n, s:n, s:n, s:i, "
				"s:n}}",
				"state", cfg->state, "exists", 0, "notifiers", "schedules",
				"health", "digests", "folder", cfg->watch.dir, "latest",
				"latest_at", "latest_papers", "median_of", 0, "median_papers");
			json_dumpf(v.out, stdout, JSON_COMPACT);
			fputc('\n', stdout);
			json_decref(v.out);
		}
		config_unref(cfg);
		return cli_finish_output(c);
	}
	status_show(&v, st, cfg, recent);
	state_close(st);
	config_unref(cfg);
	return cli_finish_output(EXIT_OK);
usage:
	return cli_usage_error("status");
}

/* Wakes the daemon that owns the queues, or says who will send what retry put back. */
static void retry_tell_owner(struct state *st, const struct config *cfg)
{
	struct err err;
	long owner;

	/* The requeue told every instance listening: the first to claim each message sends it. */
	if (state_is_shared(cfg->state)) {
		printf("the paperwatch instances sharing the state send them now\n");
		return;
	}
	if (state_owner(st, &owner, &err) != 0 || (owner > 0 && state_knock(st, &err) != 0)) {
		log_error("%s", err.msg);
		return;
	}
	if (owner > 0)
		printf("the running paperwatch (pid %ld) sends them now\n", owner);
	else
		printf("paperwatch sends them when it next runs; `paperwatch scan` sends them "
		       "too\n");
}

/* Whether name is a configured notifier, or one whose queue the state still holds; says which
 * names there are when it is neither. */
static bool known_notifier(struct state *st, const struct config *cfg, const char *name)
{
	char **names = NULL, list[512] = "";
	size_t n = 0, used = 0;
	bool known = config_notifier_index(cfg, name) >= 0;
	struct err err;

	if (state_notifiers(st, &names, &n, &err) != 0)
		log_error("%s", err.msg);
	for (size_t i = 0; i < n; i++)
		known |= strcmp(names[i], name) == 0;
	for (size_t i = 0; i < cfg->n_notifiers && !known && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s\"%s\"",
					 i ? ", " : "", cfg->notifiers[i].name);
	if (!known)
		log_error("%s: no notifier named \"%s\"%s%s", cfg->path, name,
			  cfg->n_notifiers ? "; the notifiers are " : " (it has no notifiers)",
			  list);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return known;
}

int cmd_retry(int argc, char **argv)
{
	const char *path = NULL, *only = NULL;
	struct config *cfg;
	struct state *st;
	size_t n = 0;
	struct err err;
	int status = EXIT_OK;

	if (!cli_config_args(argc, argv, 0, 1, &path))
		goto usage;
	only = optind < argc ? argv[optind] : NULL;
	if ((cfg = cli_load_config(path)) == NULL)
		return EXIT_USAGE;
	if ((st = open_existing(cfg)) == NULL) {
		config_unref(cfg);
		return EXIT_FAIL;
	}
	if (only != NULL && !known_notifier(st, cfg, only)) {
		status = EXIT_USAGE;
	} else if (state_outbox_requeue(st, only, state_now_ms(), &n, &err) != 0) {
		log_error("%s", err.msg);
		status = EXIT_FAIL;
	} else {
		printf("%zu failed message%s queued again%s%s\n", n, plural(n), only ? " for " : "",
		       only ? only : "");
		if (n > 0)
			retry_tell_owner(st, cfg);
	}
	state_close(st);
	config_unref(cfg);
	return status;
usage:
	return cli_usage_error("retry");
}

/* ---- import ---- */

int cmd_import(int argc, char **argv)
{
	const char *path = NULL;
	struct config *cfg;
	struct state *st;
	size_t rows, added;
	struct err err;
	int status = EXIT_OK;

	if (!cli_config_args(argc, argv, 1, 1, &path))
		return cli_usage_error("import");
	if ((cfg = cli_load_config(path)) == NULL)
		return EXIT_USAGE;
	if (!state_is_shared(cfg->state)) {
		log_error("%s: the state is an SQLite file; import moves one into a PostgreSQL "
			  "state (state = \"postgresql://...\")",
			  cfg->path ? cfg->path : "the built-in configuration");
		config_unref(cfg);
		return EXIT_USAGE;
	}
	if (cli_state_open(cfg, false, &st, &err) != 0) {
		log_error("%s", err.msg);
		config_unref(cfg);
		return EXIT_FAIL;
	}
	if (state_import(st, argv[optind], &rows, &added, &err) != 0) {
		log_error("%s (nothing was moved)", err.msg);
		status = EXIT_FAIL;
	} else {
		printf("%s: %zu record%s, %zu of them new to the shared state; nothing alerted "
		       "before is alerted again\n",
		       argv[optind], rows, plural(rows), added);
	}
	state_close(st);
	config_unref(cfg);
	return status;
}

/* ---- test-notify ---- */

/* Queues the sample alert for one notifier in a state that lives only in memory. */
/* A health notice like those health.notify gets, to try an operations channel. */
static const struct notice sample_notice = {
	.type = "health",
	.condition = "quiet",
	.subject = "*",
	.title = "a test notice from paperwatch",
	.detail = "This notifier is set up and reachable; health conditions will come here.",
	.key = "health_test",
};

static int queue_sample(struct delivery *d, const struct notifier *n, bool notice)
{
	struct alert_batch b = notify_sample_batch();
	struct notice nt = sample_notice;
	struct message_list msgs = {0};
	struct err err;
	int rc = 0;

	b.key = "msg_test";
	b.created_ms = nt.created_ms = state_now_ms();
	if ((notice ? n->ops->format_notice(n, &nt, &msgs, &err)
		    : n->ops->format(n, &b, &msgs, &err)) != 0) {
		log_error("%s: %s", n->name, err.msg);
		return -1;
	}
	for (size_t i = 0; i < msgs.n && rc == 0; i++)
		rc = state_outbox_add(d->st, n->name, msgs.v[i].key, b.source, msgs.v[i].body,
				      msgs.v[i].len, msgs.v[i].n_papers, b.created_ms, &err);
	if (rc != 0)
		log_error("%s", err.msg);
	message_list_free(&msgs);
	return rc;
}

int cmd_test_notify(int argc, char **argv)
{
	static const struct option options[] = {
		{"notice", no_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL, *what;
	struct config *cfg;
	struct delivery d;
	bool notice = false;
	int i, c, rc, status = EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "c:", options, NULL)) != -1) {
		if (c == 'c')
			path = optarg;
		else if (c == 'n')
			notice = true;
		else
			goto usage;
	}
	if (argc - optind != 1)
		goto usage;
	what = notice ? "the sample notice" : "the sample alert";
	if ((cfg = cli_load_config(path)) == NULL)
		return EXIT_USAGE;
	if ((i = config_notifier_index(cfg, argv[optind])) < 0) {
		log_error("%s: no notifier named \"%s\"", cfg->path, argv[optind]);
		config_unref(cfg);
		return EXIT_USAGE;
	}
	/* The real path (format, queue, send, judge), without touching the real state; a fault
	 * of the configuration is said at once. */
	rc = delivery_open(&d, cfg, false);
	if (rc == 0) {
		outbox_fail_fast(d.outbox);
		rc = queue_sample(&d, &cfg->notifiers[i], notice);
	}
	if (rc == 0)
		rc = deliver_until(d.loop, d.outbox, TEST_NOTIFY_WAIT);
	if (rc == 0) {
		outbox_flush(d.outbox);
		rc = outbox_stats(d.outbox)->delivered > 0 && pending_total(d.st, cfg) == 0 ? 0
											    : -1;
	}
	if (rc == 0) {
		printf("%s: %s was delivered\n", argv[optind], what);
		status = EXIT_OK;
	} else {
		log_error("%s: %s was not delivered (see above)", argv[optind], what);
	}
	delivery_close(&d);
	config_unref(cfg);
	return status;
usage:
	return cli_usage_error("test-notify");
}
