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

#include "cli.h"
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
/* A local time as `status` shows it, "YYYY-MM-DD HH:MM:SS", with room for a longer year. */
#define TIME_TEXT_SIZE 32

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

/* Opens the state at state_path, or one in memory only when it is NULL, and delivery on it. */
static int delivery_open(struct delivery *d, struct config *cfg, const char *state_path)
{
	struct err err;
	int rc;

	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	rc = state_path ? state_open(state_path, &d->st, &err) : state_open_ephemeral(&d->st, &err);
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

/* Runs one digest through the pipeline and says what came of it. */
static int scan_file(struct delivery *d, const char *path)
{
	char real[PATH_MAX];
	struct pipeline_result r;
	struct err err;

	/* Files scanned by hand are remembered by their full path. */
	if (realpath(path, real) == NULL)
		snprintf(real, sizeof(real), "%s", path);
	if (pipeline_file(d->cfg, d->st, path, real, NULL, &r, &err) != 0) {
		log_error("%s", err.msg);
		return -1;
	}
	if (r.unchanged)
		log_info("%s: unchanged since it was processed", path);
	else
		log_info("%s: %zu paper%s, %zu matched, %zu new alert%s in %zu message%s", path,
			 r.papers, plural(r.papers), r.matched, r.alerts, plural(r.alerts),
			 r.messages, plural(r.messages));
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
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	double wait = SCAN_WAIT_DEFAULT;
	struct delivery d;
	struct config *cfg;
	int c, status = EXIT_OK;
	size_t pending;
	long owner;

	while ((c = getopt_long(argc, argv, "c:w:", options, NULL)) != -1) {
		if (c == 'c')
			path = optarg;
		else if (c != 'w' || conf_parse_duration(optarg, &wait) != 0)
			goto usage;
	}
	if (optind == argc)
		goto usage;
	if ((cfg = cli_load_config(path)) == NULL)
		return EXIT_USAGE;
	if (delivery_open(&d, cfg, cfg->state) != 0) {
		delivery_close(&d);
		config_unref(cfg);
		return EXIT_FAIL;
	}
	if (scan_owner(&d, &owner) != 0) {
		status = EXIT_FAIL;
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		if (scan_file(&d, argv[i]) != 0)
			status = EXIT_FAIL;
	}
	if (owner > 0) {
		status = scan_hand_over(&d, cfg, owner, status);
		goto out;
	}
	if (deliver_until(d.loop, d.outbox, wait) != 0)
		status = EXIT_FAIL;
	pending = pending_total(d.st, cfg);
	log_info("%zu message%s delivered (%zu paper%s), %zu failed, %zu still pending",
		 outbox_stats(d.outbox)->delivered, plural(outbox_stats(d.outbox)->delivered),
		 outbox_stats(d.outbox)->papers, plural(outbox_stats(d.outbox)->papers),
		 outbox_stats(d.outbox)->failed, pending);
	if (pending > 0 || outbox_stats(d.outbox)->failed > 0)
		status = EXIT_FAIL;
out:
	delivery_close(&d);
	config_unref(cfg);
	return status;
usage:
	fprintf(stderr, "usage: paperwatch scan [-c CONFIG] [--wait SECONDS] FILE...\n");
	return EXIT_USAGE;
}

/* ---- status and retry ---- */

/* Opens the state of an existing configuration for status or retry, without creating it. */
static struct state *open_existing(const struct config *cfg)
{
	struct state *st;
	struct err err;

	if (access(cfg->state, F_OK) != 0) {
		log_info("%s: no state yet: nothing was ever processed", cfg->state);
		return NULL;
	}
	if (state_open(cfg->state, &st, &err) != 0) {
		log_error("%s", err.msg);
		return NULL;
	}
	return st;
}

static void format_time(long long ms, char *out, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0) {
		snprintf(out, size, "-");
		return;
	}
	/* strftime leaves the buffer undefined when the time does not fit: show "-" then, as for
	 * no time at all. */
	if (localtime_r(&t, &tm) == NULL || strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, size, "-");
}

/* One row of the status table. */
static void status_row(struct state *st, const char *name, bool configured)
{
	struct state_counts c;
	char next[TIME_TEXT_SIZE];
	struct err err;

	if (state_counts(st, name, &c, &err) != 0) {
		log_error("%s", err.msg);
		return;
	}
	format_time(c.pending ? c.next_ms : 0, next, sizeof(next));
	printf("%-20s %9zu %9zu  %-19s %7zu  %s%s\n", name, c.delivered, c.pending, next, c.failed,
	       c.failed ? c.last_error : "-", configured ? "" : "  (not configured)");
}

/* The line under the table: digests whose format did not read them whole. */
static void status_partial(struct state *st)
{
	struct state_partial pt;
	char when[TIME_TEXT_SIZE];
	struct err err;

	if (state_files_partial(st, &pt, &err) != 0) {
		log_error("%s", err.msg);
		return;
	}
	printf("\ndigests read only partly: %zu", pt.files);
	if (pt.files > 0) {
		/* A file name is whatever its writer chose: no control byte reaches the terminal.
		 */
		for (char *c = pt.last; *c != '\0'; c++) {
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		}
		format_time(pt.last_ms, when, sizeof(when));
		printf(" (the latest %s, at %s; paperwatch parse --strict FILE says what was not "
		       "understood)",
		       pt.last, when);
	}
	printf("\n");
}

int cmd_status(int argc, char **argv)
{
	const char *path = NULL;
	struct config *cfg;
	struct state *st;
	char **names;
	size_t n;
	struct err err;

	if (!cli_config_args(argc, argv, 0, 0, &path))
		goto usage;
	if ((cfg = cli_load_config(path)) == NULL)
		return EXIT_USAGE;
	if ((st = open_existing(cfg)) == NULL) {
		config_unref(cfg);
		return access(cfg->state, F_OK) == 0 ? EXIT_FAIL : EXIT_OK;
	}
	printf("%-20s %9s %9s  %-19s %7s  %s\n", "NOTIFIER", "DELIVERED", "PENDING", "NEXT ATTEMPT",
	       "FAILED", "LAST ERROR");
	for (size_t i = 0; i < cfg->n_notifiers; i++)
		status_row(st, cfg->notifiers[i].name, true);
	/* Queues of notifiers the configuration no longer has still hold messages. */
	if (state_notifiers(st, &names, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (config_notifier_index(cfg, names[i]) < 0)
				status_row(st, names[i], false);
			free(names[i]);
		}
		free(names);
	}
	status_partial(st);
	state_close(st);
	config_unref(cfg);
	return EXIT_OK;
usage:
	fprintf(stderr, "usage: paperwatch status [-c CONFIG]\n");
	return EXIT_USAGE;
}

/* Wakes the daemon that owns the queues, or says who will send what retry put back. */
static void retry_tell_owner(struct state *st)
{
	struct err err;
	long owner;

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
	if (state_outbox_requeue(st, only, state_now_ms(), &n, &err) != 0) {
		log_error("%s", err.msg);
		status = EXIT_FAIL;
	} else {
		printf("%zu failed message%s queued again%s%s\n", n, plural(n), only ? " for " : "",
		       only ? only : "");
		if (n > 0)
			retry_tell_owner(st);
	}
	state_close(st);
	config_unref(cfg);
	return status;
usage:
	fprintf(stderr, "usage: paperwatch retry [-c CONFIG] [NOTIFIER]\n");
	return EXIT_USAGE;
}

/* ---- test-notify ---- */

/* Queues the sample alert for one notifier in a state that lives only in memory. */
static int queue_sample(struct delivery *d, const struct notifier *n)
{
	struct alert_batch b = notify_sample_batch();
	struct message_list msgs = {0};
	struct err err;
	int rc = 0;

	b.key = "msg_test";
	b.created_ms = state_now_ms();
	if (n->ops->format(n, &b, &msgs, &err) != 0) {
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
	const char *path = NULL;
	struct config *cfg;
	struct delivery d;
	int i, status = EXIT_FAIL;

	if (!cli_config_args(argc, argv, 1, 1, &path))
		goto usage;
	if ((cfg = cli_load_config(path)) == NULL)
		return EXIT_USAGE;
	if ((i = config_notifier_index(cfg, argv[optind])) < 0) {
		log_error("%s: no notifier named \"%s\"", cfg->path, argv[optind]);
		config_unref(cfg);
		return EXIT_USAGE;
	}
	/* The real path (format, queue, send, judge), without touching the real state. */
	if (delivery_open(&d, cfg, NULL) == 0 && queue_sample(&d, &cfg->notifiers[i]) == 0 &&
	    deliver_until(d.loop, d.outbox, TEST_NOTIFY_WAIT) == 0 &&
	    outbox_stats(d.outbox)->delivered > 0 && pending_total(d.st, cfg) == 0) {
		printf("%s: the sample alert was delivered\n", argv[optind]);
		status = EXIT_OK;
	} else {
		log_error("%s: the sample alert was not delivered (see above)", argv[optind]);
	}
	delivery_close(&d);
	config_unref(cfg);
	return status;
usage:
	fprintf(stderr, "usage: paperwatch test-notify [-c CONFIG] NAME\n");
	return EXIT_USAGE;
}
