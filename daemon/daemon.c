/*
 * daemon.c — `paperwatch run`: the long-running service. One event loop carries the folder's
 * inotify events, signals (SIGHUP reloads, SIGTERM and SIGINT stop), deliveries and the systemd
 * watchdog; every file goes through the same pipeline as `paperwatch scan`.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cadence.h"
#include "cli.h"
#include "health.h"
#include "libwatch.h"
#include "log.h"
#include "loop.h"
#include "match/match.h"
#include "notify.h"
#include "outbox.h"
#include "pipeline.h"
#include "sdnotify.h"
#include "state.h"
#include "watch.h"
#include "xmalloc.h"

/* Exit statuses that tell systemd a restart would not help (see systemd/paperwatch.service). */
enum { EXIT_STATE = 3 };

#define STATUS_EVERY 1.0

struct daemon {
	const char *config_path; /* NULL: the built-in configuration */
	struct config *cfg;
	struct state *state;
	struct loop *loop;
	struct outbox *outbox;
	struct watcher *watcher;
	struct health *health;     /* the checks on the digests coming in */
	struct libwatch *libwatch; /* the library files of like: rules */
	struct loop_timer *watchdog;
	double watchdog_interval, watchdog_at; /* the pings' interval, the last one's time */
	/* Files the state could not record (a full disk) are read again by a rescan this timer
	 * starts, waiting longer after each failure. */
	struct loop_timer *again;
	double again_delay;
	/* Wakes the loop when the state's maintenance falls due. */
	struct loop_timer *maintain;
	/* Wakes the loop at the next scheduled message's deadline. */
	struct loop_timer *cadence;
	double cadence_delay; /* after a run that failed, the wait before the next (0: none did) */
	/* STATUS= goes out at most once a STATUS_EVERY: a burst of files or deliveries is one
	 * update, not one per event. */
	struct loop_timer *status;
	double status_at;
	int sfd;
	bool stopping;
	int exit_status; /* what the daemon exits with once it has stopped: EXIT_OK unless it says
			  */
	/* Counted since start, for the status line. */
	size_t files, papers, alerts, queued;
	size_t partial; /* files read only partly: some papers only by the fallback, or records
			 * left out (the parser's warning says which) */
	/* Pending and failed messages when counted at start or reload: the status line adds what
	 * this process did since, instead of counting the whole outbox after every file. */
	size_t pending0, failed0;
	size_t delivered0, failures0; /* the outbox's own tallies at that moment */
	/* Another process changed the queues: counted again when the status line is next
	 * written, not at every knock (on a shared state, one per message any instance queues
	 * or settles). */
	bool recount;
	/* The digests of one burst go into one group (state.h): one commit for them all, at the
	 * end of the loop's turn or when the group is full, and only then are they sent. */
	size_t group_files, group_messages;
	double group_since;
};

/* A group commits after this many digests or this long (seconds), whichever comes first. */
#define GROUP_MAX_FILES 32
#define GROUP_MAX_AGE   0.010

/* Counts pending and failed messages in the state once, as the base the status line adds to. */
static void daemon_count(struct daemon *d)
{
	const struct outbox_stats *os = outbox_stats(d->outbox);

	d->pending0 = d->failed0 = d->queued = 0;
	for (size_t i = 0; i < d->cfg->n_notifiers; i++) {
		struct state_counts c;
		struct err err;

		if (state_counts(d->state, d->cfg->notifiers[i].name, &c, &err) == 0) {
			d->pending0 += c.pending;
			d->failed0 += c.failed;
		}
	}
	d->delivered0 = os->delivered;
	d->failures0 = os->failed;
}

static void daemon_status_soon(void *ctx);

/* The status line's end when health conditions are raised: "; health: quiet *.md, ...". */
static void daemon_health_status(const struct daemon *d, char *out, size_t size)
{
	char list[480];
	size_t n = d->health ? health_summary(d->health, list, sizeof(list)) : 0;

	if (n > 0)
		snprintf(out, size, "; health: %s", list);
}

/* Health conditions changed: the status line says so, and their notices are counted and sent
 * once their transaction is committed. */
static void on_health_changed(void *ctx, size_t messages)
{
	struct daemon *d = ctx;

	d->queued += messages;
	d->group_messages += messages;
	if (messages > 0 && !state_grouped(d->state))
		outbox_kick(d->outbox);
	daemon_status_soon(d);
}

/* Tells systemd how things stand: "STATUS=..." with live counters. */
static void daemon_status(struct daemon *d, const char *extra)
{
	const struct outbox_stats *os = outbox_stats(d->outbox);
	size_t done, pending, failed;
	char partial[64] = "", health[512] = "";

	if (d->recount) {
		d->recount = false;
		daemon_count(d);
	}
	done = (os->delivered - d->delivered0) + (os->failed - d->failures0);
	pending = d->pending0 + d->queued > done ? d->pending0 + d->queued - done : 0;
	failed = d->failed0 + os->failed - d->failures0;

	if (d->partial > 0)
		snprintf(partial, sizeof(partial), " (%zu read only partly)", d->partial);
	daemon_health_status(d, health, sizeof(health));
	sdnotify("%sSTATUS=%zu file%s%s, %zu paper%s, %zu alert%s; %zu message%s delivered (%zu "
		 "paper%s), %zu pending, %zu failed%s",
		 extra ? extra : "", d->files, plural(d->files), partial, d->papers,
		 plural(d->papers), d->alerts, plural(d->alerts), os->delivered,
		 plural(os->delivered), os->papers, plural(os->papers), pending, failed, health);
	d->status_at = loop_now();
}

static void on_status(void *ctx)
{
	daemon_status(ctx, NULL);
}

/* The counters changed: STATUS= now, or when STATUS_EVERY has passed since the last one. */
static void daemon_status_soon(void *ctx)
{
	struct daemon *d = ctx;
	double wait = d->status_at + STATUS_EVERY - loop_now();

	if (loop_timer_armed(d->status))
		return;
	if (wait <= 0)
		daemon_status(d, NULL);
	else
		loop_timer_set(d->status, wait);
}

/* Does the state's maintenance when it is due, off the path of any digest's alerts, and sets
 * the timer for when it next is. Called after every turn of the loop. */
static void daemon_maintain(void *ctx)
{
	struct daemon *d = ctx;
	double next;
	struct err err;

	if (state_maintain(d->state, &next, &err) != 0)
		log_warn("%s (the next quiet moment tries again)", err.msg);
	loop_timer_set(d->maintain, next);
}

/* The wait before the next try of what failed again after a wait of prev (0: its first
 * failure): the delivery's first retry, doubled each time, up to its longest. */
static double backoff(const struct daemon *d, double prev)
{
	double next = prev > 0 ? prev * 2 : d->cfg->delivery.retry_base;

	return next > d->cfg->delivery.retry_max ? d->cfg->delivery.retry_max : next;
}

/* Reads the folder again, in a while, after the state failed to record what it read. */
static void read_again_later(struct daemon *d, const char *what)
{
	if (loop_timer_armed(d->again))
		return;
	d->again_delay = backoff(d, d->again_delay);
	log_info("%s: read again in %.1f s", what, d->again_delay);
	loop_timer_set(d->again, d->again_delay);
}

/* Commits the open group, if any, and sends what it queued. The outbox may have committed it
 * already (an outcome recorded for good closes a group first), or lost it: its digests are
 * read again then. */
static void group_end(struct daemon *d)
{
	struct err err;
	size_t files = d->group_files, messages = d->group_messages;

	d->group_files = d->group_messages = 0;
	if (state_group_close(d->state, &err) != 0)
		log_error("%s: the last %zu digest%s were not recorded", err.msg, files,
			  plural(files));
	if (state_group_lost(d->state)) {
		if (d->health != NULL && health_reload(d->health, &err) != 0)
			log_error("%s", err.msg);
		read_again_later(d, "the folder");
		return;
	}
	if (messages > 0)
		outbox_kick(d->outbox);
}

/* Opens a group for the digest about to be read, unless one is open; a full one commits first.
 * Without a group (it could not open), each digest commits alone. */
static void group_join(struct daemon *d)
{
	struct err err;

	if (state_grouped(d->state) &&
	    (d->group_files >= GROUP_MAX_FILES || loop_now() - d->group_since >= GROUP_MAX_AGE))
		group_end(d);
	if (state_grouped(d->state))
		return;
	if (state_group_open(d->state, &err) != 0) {
		if (!state_down(d->state))
			log_warn("%s (digests are recorded one by one)", err.msg);
		return;
	}
	d->group_since = loop_now();
}

/* A file to read, from the watcher. */
static void on_file(void *ctx, const char *path, const char *name)
{
	struct daemon *d = ctx;
	struct pipeline_result r;
	char what[160];
	struct err err;

	if (d->stopping)
		return;
	group_join(d);
	if (pipeline_file(d->cfg, d->state, path, name, d->cfg->watch.dir, 0, &r, &err) != 0) {
		/* A shared state's database is away: it was said once, and its return reads the
		 * folder again. */
		if (r.state_failed && state_down(d->state)) {
			log_debug("%s: waits for the database", name);
			return;
		}
		log_error("%s", err.msg);
		if (r.state_failed)
			read_again_later(d, name);
		return;
	}
	d->again_delay = 0;
	if (r.unchanged) {
		log_debug("%s: unchanged since it was processed", path);
		return;
	}
	d->files++;
	d->papers += r.papers;
	d->partial += r.fallback > 0 || r.skipped > 0;
	d->alerts += r.alerts;
	d->queued += r.messages;
	pipeline_describe(&r, what, sizeof(what));
	log_info("%s: %s", name, what);
	d->group_files++;
	d->group_messages += r.messages;
	health_digest(d->health, name, &r);
	if (r.messages > 0 && !state_grouped(d->state))
		outbox_kick(d->outbox);
	daemon_status_soon(d);
}

static void on_cadence(void *ctx);

/* The database came back: the digests it missed are read again, the deadlines that passed made
 * up, the queues sent, and the status line counted afresh. */
static void daemon_catch_up(struct daemon *d)
{
	struct err err;

	if (d->health != NULL && health_reload(d->health, &err) != 0)
		log_error("%s", err.msg);
	if (d->watcher != NULL)
		watcher_rescan(d->watcher);
	group_end(d);
	on_cadence(d);
	daemon_count(d);
	outbox_kick(d->outbox);
	daemon_status_soon(d);
}

/* Another process (scan, retry) queued messages or put failed ones back: send them now. Or the
 * state's file went from under the daemon, which then stops with the state's exit status. */
static void on_knock(void *ctx, int fd, uint32_t events)
{
	struct daemon *d = ctx;
	struct err err;

	(void)fd;
	(void)events;
	switch (state_knocked(d->state, &err)) {
	case -1:
		log_error("%s", err.msg);
		d->exit_status = EXIT_STATE;
		d->stopping = true;
		return;
	case 0:
		return; /* the state's own file changed as the state wrote it */
	case 2:
		/* A shared state's database is back: what waited for it is done now. */
		daemon_catch_up(d);
		return;
	default:
		break;
	}
	log_debug("work queued by another process");
	d->recount = true; /* the outbox grew behind the status line's back */
	outbox_kick(d->outbox);
	daemon_status_soon(d);
}

/* Makes the scheduled messages whose deadline has come (and those a stopped daemon missed), and
 * sets the timer for the next deadline; after a failure (a full disk), tries again sooner, in
 * retry_base doubled each time it fails again up to retry_max, since the message is due now. */
static void on_cadence(void *ctx)
{
	struct daemon *d = ctx;
	struct cadence_result r;
	long long now = state_now_ms(), next;
	double wait;
	int rc;

	group_end(d); /* digests read before the deadline are in its message */
	rc = cadence_run(d->cfg, d->state, now, &r, &next);
	if (r.messages > 0) {
		d->queued += r.messages;
		outbox_kick(d->outbox);
		daemon_status_soon(d);
	}
	wait = next < 0 ? -1 : (double)(next - now) / 1000;
	if (rc == 0) {
		d->cadence_delay = 0;
	} else {
		d->cadence_delay = backoff(d, d->cadence_delay);
		log_info("scheduled messages: tried again in %.1f s", d->cadence_delay);
		if (wait < 0 || wait > d->cadence_delay)
			wait = d->cadence_delay;
	}
	loop_timer_set(d->cadence, wait);
}

/* The wall clock was set, or the machine woke from suspend: the deadlines are computed again. */
static void on_clock_set(void *ctx)
{
	struct daemon *d = ctx;

	log_info("the clock was set: the next deadlines are computed again");
	health_clock_set(d->health);
	on_cadence(d);
}

/* Reads the folder again after the state failed to record a file. */
static void on_again(void *ctx)
{
	struct daemon *d = ctx;

	if (d->watcher != NULL)
		watcher_rescan(d->watcher);
}

static void on_watchdog(void *ctx)
{
	struct daemon *d = ctx;

	sdnotify("WATCHDOG=1");
	d->watchdog_at = loop_now();
	loop_timer_set(d->watchdog, d->watchdog_interval);
}

/* A call waits for a shared state's database, holding the loop: the watchdog still hears from
 * the process at its interval, since it waits, and the statement's own deadline ends a wait
 * for a database that no longer answers. */
static void on_state_wait(void *ctx)
{
	struct daemon *d = ctx;

	if (d->watchdog != NULL && loop_now() - d->watchdog_at >= d->watchdog_interval)
		on_watchdog(d);
}

/* Watches the configured folder (again, after a reload) and reads what is there. */
static int daemon_watch(struct daemon *d)
{
	struct err err;

	/* The library files of this configuration's like: rules, watched for changes. */
	libwatch_free(d->libwatch);
	if (libwatch_new(d->loop, d->cfg, d->state, &d->libwatch, &err) != 0)
		log_warn("%s; a library that changes takes a reload", err.msg);
	watcher_free(d->watcher);
	d->watcher = NULL;
	if (watcher_new(d->loop, &d->cfg->watch, on_file, d, &d->watcher, &err) != 0) {
		log_error("%s", err.msg);
		return -1;
	}
	watcher_rescan(d->watcher);
	return 0;
}

/* Says once how regular expressions run in this process: where writable code is forbidden (as
 * systemd's MemoryDenyWriteExecute=yes forbids it), PCRE2 interprets them without a word, slower
 * but alike. Said when the rules first have one, at start or at a reload: asking loads PCRE2,
 * which a configuration without one never maps. */
static void daemon_log_regex(const struct config *cfg)
{
	static bool said;
	char why[256];

	if (said || !matcher_has_regex(cfg->matcher))
		return;
	said = true;
	if (matcher_jit_probe(why, sizeof(why)) == 0)
		log_info("regular expressions: compiled to machine code (PCRE2 JIT)");
	else
		log_info("regular expressions: interpreted, PCRE2's JIT is unavailable here (%s)",
			 why);
}

/* SIGHUP: the new file is checked completely first; a bad one leaves the old in force. */
static void daemon_reload(struct daemon *d)
{
	struct timespec ts;
	struct config *cfg, *old = d->cfg;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sdnotify("RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)ts.tv_sec * 1000000ULL +
							     (unsigned long long)ts.tv_nsec / 1000);
	log_info("reloading %s", d->config_path ? d->config_path : "the built-in configuration");
	group_end(d); /* what was read under the old rules is recorded under them */
	cfg = cli_load_config(d->config_path);
	if (cfg == NULL) {
		log_error("reload: the configuration has errors (above); the one loaded before "
			  "stays in force");
		daemon_status(d, "READY=1\n");
		return;
	}
	if (strcmp(cfg->state, old->state) != 0) {
		char *shown = state_shown(old->state);

		log_warn("reload: a new state takes a restart; still using %s", shown);
		free(shown);
	}
	d->cfg = cfg;
	daemon_log_regex(cfg);
	outbox_set_config(d->outbox, cfg);
	health_set_config(d->health, cfg);
	/* A new watcher on the new settings; its rescan also reads files again for new rules. */
	daemon_watch(d);
	on_cadence(d); /* schedules may have changed */
	config_unref(old);
	log_info("reloaded: %zu notifiers, %zu rules", cfg->n_notifiers, cfg->n_rules);
	daemon_count(d);
	daemon_status(d, "READY=1\n");
}

static void on_signal(void *ctx, int fd, uint32_t events)
{
	struct daemon *d = ctx;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			daemon_reload(d);
		} else if (!d->stopping) {
			log_info("stopping (%s)", strsignal((int)si.ssi_signo));
			d->stopping = true;
		}
	}
}

/* Routes SIGHUP, SIGTERM and SIGINT to a descriptor the loop reads. */
static int daemon_signals(struct daemon *d, struct err *err)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return err_set(err, "signals: %s", strerror(errno));
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return err_set(err, "signals: %s", strerror(errno));
	d->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sfd < 0)
		return err_set(err, "signalfd: %s", strerror(errno));
	return loop_watch(d->loop, d->sfd, EPOLLIN, on_signal, d, err);
}

/* Pings the service manager's watchdog at half its interval, when it watches this process. */
static void daemon_watchdog(struct daemon *d)
{
	uint64_t usec;
	struct err err;

	if (sdnotify_watchdog(&usec, &err) != 0) {
		log_warn("%s; the watchdog gets no pings", err.msg);
		return;
	}
	if (usec == 0)
		return;
	d->watchdog_interval = (double)usec / 2e6;
	d->watchdog = loop_timer_new(d->loop, on_watchdog, d);
	loop_timer_set(d->watchdog, d->watchdog_interval);
	log_debug("watchdog: a ping every %.1f s", d->watchdog_interval);
}

/* Stops: no new files, sends in flight get the grace period, the rest stays queued. */
static void daemon_stop(struct daemon *d)
{
	double deadline = loop_now() + d->cfg->delivery.shutdown_grace;
	struct err err;

	sdnotify("STOPPING=1");
	watcher_free(d->watcher);
	d->watcher = NULL;
	group_end(d);
	outbox_drain(d->outbox);
	while (outbox_in_flight(d->outbox) > 0 && loop_now() < deadline) {
		if (loop_turn(d->loop, deadline, &err) != 0)
			break;
	}
	if (outbox_in_flight(d->outbox) > 0)
		log_info("%zu sends still in flight stay queued for the next start",
			 outbox_in_flight(d->outbox));
}

static void daemon_free(struct daemon *d)
{
	watcher_free(d->watcher);
	health_free(d->health);
	libwatch_free(d->libwatch);
	outbox_free(d->outbox);
	loop_timer_free(d->watchdog);
	loop_timer_free(d->again);
	loop_timer_free(d->maintain);
	loop_timer_free(d->cadence);
	loop_timer_free(d->status);
	if (d->sfd >= 0)
		close(d->sfd);
	loop_free(d->loop);
	state_close(d->state);
	config_unref(d->cfg);
	sdnotify_close();
}

/* Everything up to READY=1: state, loop, signals, delivery, the folder and what it holds. */
static int daemon_start(struct daemon *d)
{
	struct err err;
	char *shown;

	if (sdnotify_open(&err) != 0)
		log_warn("%s; the service manager will not hear from paperwatch", err.msg);
	if (cli_state_open(d->cfg, true, &d->state, &err) != 0) {
		log_error("%s", err.msg);
		return EXIT_STATE;
	}
	/* One process delivers from a state: a second daemon on it would send everything twice. */
	if (state_own(d->state, &err) != 0) {
		log_error("%s", err.msg);
		return EXIT_FAIL;
	}
	if (loop_new(&d->loop, &err) != 0 || daemon_signals(d, &err) != 0 ||
	    outbox_new(d->loop, d->state, d->cfg, &d->outbox, &err) != 0 ||
	    loop_watch(d->loop, state_knock_fd(d->state), EPOLLIN, on_knock, d, &err) != 0) {
		log_error("%s", err.msg);
		return EXIT_FAIL;
	}
	daemon_watchdog(d);
	state_on_wait(d->state, on_state_wait, d);
	d->again = loop_timer_new(d->loop, on_again, d);
	d->maintain = loop_timer_new(d->loop, daemon_maintain, d);
	d->cadence = loop_timer_new(d->loop, on_cadence, d);
	if (loop_on_clock_set(d->loop, on_clock_set, d, &err) != 0)
		log_warn("%s; a deadline after the clock is set or the machine wakes may be late",
			 err.msg);
	d->status = loop_timer_new(d->loop, on_status, d);
	if (health_new(d->loop, d->state, d->cfg, on_health_changed, d, &d->health, &err) != 0) {
		log_error("%s", err.msg);
		return EXIT_STATE;
	}
	state_maintain_when_quiet(d->state);
	outbox_on_change(d->outbox, daemon_status_soon, d);
	daemon_count(d);
	shown = state_shown(d->cfg->state);
	log_info("watching %s (%zu notifiers, %zu rules), state in %s", d->cfg->watch.dir,
		 d->cfg->n_notifiers, d->cfg->n_rules, shown);
	free(shown);
	daemon_log_regex(d->cfg);
	if (daemon_watch(d) != 0)
		return EXIT_FAIL;
	group_end(d);  /* what the folder held: recorded before READY=1 */
	on_cadence(d); /* a deadline passed while the daemon was not running is made up now */
	outbox_kick(d->outbox);
	daemon_status(d, "READY=1\n");
	return EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
	struct daemon d = {.sfd = -1};
	int c, verbose = 0, status;
	struct err err;

	while ((c = getopt(argc, argv, "c:v")) != -1) {
		if (c == 'c')
			d.config_path = optarg;
		else if (c == 'v')
			verbose = 1;
		else
			goto usage;
	}
	if (optind != argc)
		goto usage;
	log_setup(log_daemon_style(), verbose ? LOG_PRIO_DEBUG : LOG_PRIO_INFO);
	if ((d.cfg = cli_load_config(d.config_path)) == NULL)
		return EXIT_USAGE;
	status = daemon_start(&d);
	while (status == EXIT_OK && !d.stopping) {
		if (loop_turn(d.loop, -1, &err) != 0) {
			log_error("%s", err.msg);
			status = EXIT_FAIL;
		}
		group_end(&d); /* the turn's digests, in one commit */
		daemon_maintain(&d);
	}
	if (d.outbox != NULL)
		daemon_stop(&d);
	daemon_free(&d);
	return status != EXIT_OK ? status : d.exit_status;
usage:
	return cli_usage_error("run");
}
