/*
 * outbox.c — the delivery engine: libcurl's multi socket interface driven by the event loop,
 * one queue per notifier, retries with exponential backoff and jitter, Retry-After, rate
 * limits, and an age after which a message is given up.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "log.h"
#include "net.h"
#include "notify.h"
#include "outbox.h"
#include "xmalloc.h"

/* Bytes of an answer kept for the notifier to judge and for `status`. */
#define ANSWER_MAX 4096

struct transfer;

/* One notifier's queue. */
struct dest {
	struct outbox *o;
	char *name;
	struct transfer *in_flight;
	double not_before; /* loop_now() time before which nothing is sent (rate limit, pause) */
	double next_wake;  /* when the queue's head is due, -1 when the queue is empty */
	struct loop_timer *timer;
	bool unknown_noted; /* a queue whose notifier is gone was logged once */
	int failures;       /* attempts that failed since the last delivery */
	/* The claim on a message delivered whose delivery the state could not record (a full
	 * disk): its record is retried before anything else, so it is not sent again. id 0 when
	 * none. */
	struct state_claim unrecorded;
};

struct transfer {
	struct dest *d;
	struct config *cfg; /* a reference: the configuration the send started with */
	const struct notifier *n;
	struct state_claim claim;
	struct message msg; /* a view of claim for the channel; libcurl sends from claim's body */
	CURL *easy;
	struct curl_slist *headers;
	char error[CURL_ERROR_SIZE];
	char answer[ANSWER_MAX];
	size_t answer_len;
	char retry_after[64];
};

struct outbox {
	struct loop *loop;
	struct state *state;
	struct config *cfg;
	CURLM *multi;
	struct loop_timer *curl_timer;
	struct loop_timer *marks_timer; /* writes the deliveries known in memory (MARKS_WITHIN) */
	struct dest **dests; /* each allocated alone: transfers and timers point at them */
	size_t n_dests;
	bool draining;
	bool fail_fast; /* a configuration fault fails the message at once (test-notify) */
	struct outbox_stats stats;
	void (*on_change)(void *ctx); /* after an attempt's outcome is counted */
	void *change_ctx;
};

static void dest_pump(struct dest *d);

/* A delivery a channel's receiver dedups by its id is written with the next digests' commit,
 * or within MARKS_WITHIN seconds, or once MARKS_MAX of them wait, or when its queue runs empty,
 * whichever comes first. Losing them in a crash only sends them again, with their ids: at most
 * MARKS_MAX messages. */
#define MARKS_WITHIN 1.0
#define MARKS_MAX    16

void outbox_flush(struct outbox *o)
{
	struct err err;

	if (state_flush_marks(o->state, &err) != 0) {
		log_error("%s (tried again in %.0f s)", err.msg, o->cfg->delivery.retry_base);
		loop_timer_set(o->marks_timer, o->cfg->delivery.retry_base);
	}
}

static void on_marks(void *ctx)
{
	outbox_flush(ctx);
}

/* A transport error that only the configuration can mend gets its hint; with fail_fast, the
 * message fails at once instead of being tried again for as long as max_age. */
static void judge_fault(const struct outbox *o, const struct send_response *resp,
			struct send_result *r)
{
	const char *hint = notify_config_fault(resp->code);
	size_t n = strlen(r->detail);

	if (hint == NULL || r->status != SEND_RETRY)
		return;
	snprintf(r->detail + n, sizeof(r->detail) - n, " (%s)", hint);
	if (o->fail_fast)
		r->status = SEND_FAILED;
}

/* ---- libcurl on the event loop ---- */

static void outbox_check_done(struct outbox *o);

static void on_socket(void *ctx, int fd, uint32_t events)
{
	struct outbox *o = ctx;
	int mask = 0, running;

	if (events & EPOLLIN)
		mask |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		mask |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		mask |= CURL_CSELECT_ERR;
	curl_multi_socket_action(o->multi, fd, mask, &running);
	outbox_check_done(o);
}

/* libcurl says which of its sockets to watch for what. */
static int curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct outbox *o = userp;
	uint32_t events = 0;
	struct err err;

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		loop_unwatch(o->loop, fd);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (loop_watch(o->loop, fd, events, on_socket, o, &err) != 0)
		log_error("%s", err.msg);
	return 0;
}

static void on_curl_timer(void *ctx)
{
	struct outbox *o = ctx;
	int running;

	curl_multi_socket_action(o->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	outbox_check_done(o);
}

static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct outbox *o = userp;

	(void)multi;
	loop_timer_set(o->curl_timer, timeout_ms < 0 ? -1 : (double)timeout_ms / 1000);
	return 0;
}

/* Keeps the start of the answer; the rest is read and dropped. */
static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
	struct transfer *t = userp;
	size_t len = size * n, room = sizeof(t->answer) - 1 - t->answer_len;

	if (room > 0) {
		memcpy(t->answer + t->answer_len, data, len < room ? len : room);
		t->answer_len += len < room ? len : room;
	}
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
	struct transfer *t = userp;
	size_t len = size * n;

	if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		size_t v = len - 12 < sizeof(t->retry_after) - 1 ? len - 12
								 : sizeof(t->retry_after) - 1;

		memcpy(t->retry_after, data + 12, v);
		t->retry_after[v] = '\0';
	}
	return len;
}

/* ---- Outcomes ---- */

static long long wall_now(void)
{
	return state_now_ms();
}

/* The wait before attempt number attempts + 1: doubling from retry_base up to retry_max, with
 * "equal jitter" (half fixed, half random) so many queues do not retry in step. */
static double backoff(const struct config *cfg, int attempts)
{
	double d = cfg->delivery.retry_base * ldexp(1.0, attempts < 30 ? attempts : 30);
	unsigned r = 0;

	if (d > cfg->delivery.retry_max)
		d = cfg->delivery.retry_max;
	/* Jitter needs no secrecy: rand() will do while the kernel has no random bytes yet. */
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned)rand(); /* NOLINT(cert-msc30-c,cert-msc50-cpp) */
	return d / 2 + d / 2 * ((double)r / (double)UINT32_MAX);
}

/* The wait before the next attempt at a message: what the server asked for (Retry-After), up to
 * retry_max; the backoff where it asked for nothing; and never past the message's max_age, so
 * that a long wait ends in the attempt that gives up, not in a queue parked for an hour. */
static double retry_wait(const struct config *cfg, const struct state_claim *it,
			 const struct send_result *r, long long wall)
{
	double wait = r->retry_after > 0 ? r->retry_after : backoff(cfg, it->attempts);
	double left = (double)(it->created_ms - wall) / 1000 + cfg->delivery.max_age;

	if (wait > cfg->delivery.retry_max)
		wait = cfg->delivery.retry_max;
	if (wait > left)
		wait = left > 0 ? left : 0;
	return wait;
}

/* The claimed message as the message a channel sends: the same bytes and key. */
static struct message claim_message(const struct state_claim *c)
{
	return (struct message){
		.key = c->key, .body = c->body, .len = c->len, .n_papers = c->n_papers};
}

/* After a delivery: a recovery is news too, since warnings said the notifier was failing. */
static void note_recovery(struct dest *d, const struct state_claim *it)
{
	int failed = d->failures > it->attempts ? d->failures : it->attempts;

	if (failed > 0)
		log_info("%s: delivering again: message %s went through after %d failed attempt%s",
			 d->name, it->key, failed, plural((size_t)failed));
	d->failures = 0;
}

/* Records how an attempt on the claimed message it ended and sets when the queue may go on. A
 * delivery the state could not record takes the claim into the queue's keeping. */
static void dest_record(struct dest *d, const struct config *cfg, struct state_claim *it,
			const struct notifier *n, const struct send_result *r)
{
	struct outbox *o = d->o;
	double now = loop_now(), wait;
	long long wall = wall_now();
	struct err err;
	int rc = 0;

	if (r->status == SEND_RETRY &&
	    wall - it->created_ms > (long long)(cfg->delivery.max_age * 1000)) {
		struct send_result given_up = *r;

		given_up.status = SEND_FAILED;
		snprintf(given_up.detail, sizeof(given_up.detail),
			 "gave up after %d attempts: %.200s", it->attempts + 1, r->detail);
		dest_record(d, cfg, it, n, &given_up);
		return;
	}
	/* The pace every process sharing the state keeps: the notifier's interval after an
	 * outcome, the whole wait after a retry. */
	it->pause_ms = (long long)((n ? n->ops->min_interval : 0) * 1000);
	switch (r->status) {
	case SEND_DELIVERED:
		if (n != NULL && n->ops->idempotent) {
			state_claim_delivered_lazily(o->state, it, d->name, wall);
			if (state_marks_pending(o->state) >= MARKS_MAX)
				outbox_flush(o);
			else if (!loop_timer_armed(o->marks_timer))
				loop_timer_set(o->marks_timer, MARKS_WITHIN);
		} else {
			rc = state_claim_delivered(o->state, it, wall, &err);
		}
		if (rc == 0) {
			o->stats.delivered++;
			o->stats.papers += it->n_papers;
		}
		log_debug("%s: delivered message %s (%s)", d->name, it->key, r->detail);
		note_recovery(d, it);
		d->not_before = now + (n ? n->ops->min_interval : 0);
		break;
	case SEND_RETRY:
		wait = retry_wait(cfg, it, r, wall);
		it->pause_ms = (long long)(wait * 1000);
		rc = state_claim_retry(o->state, it, wall + (long long)(wait * 1000), r->detail,
				       &err);
		o->stats.retried++;
		d->failures++;
		log_warn("%s: message %s not delivered (%s); next attempt in %.1f s", d->name,
			 it->key, r->detail, wait);
		/* The whole destination waits: a refused connection or a 429 is not one message's
		 * fault. */
		d->not_before = now + wait;
		break;
	case SEND_FAILED:
		rc = state_claim_failed(o->state, it, wall, r->detail, &err);
		o->stats.failed++;
		d->failures++;
		if (o->fail_fast)
			log_error("%s: message %s failed: %s", d->name, it->key, r->detail);
		else
			log_error(
				"%s: message %s failed for good (%s); `paperwatch retry %s` sends "
				"it again",
				d->name, it->key, r->detail, d->name);
		d->not_before = now + (n ? n->ops->min_interval : 0);
		break;
	}
	if (rc != 0) {
		if (!state_down(o->state))
			log_error("%s", err.msg);
		d->not_before = now + cfg->delivery.retry_base;
		/* Delivered but not recorded: remember it, and record it before sending anything.
		 * (Should the process die first, the message goes again with the same key.) */
		if (r->status == SEND_DELIVERED) {
			d->unrecorded = *it;
			memset(it, 0, sizeof(*it));
		}
	}
	if (o->on_change != NULL)
		o->on_change(o->change_ctx);
}

/* Records a delivery the state could not record before; false while it still cannot. */
static bool dest_record_late(struct dest *d)
{
	struct outbox *o = d->o;
	struct err err;

	if (d->unrecorded.id == 0)
		return true;
	if (state_claim_delivered(o->state, &d->unrecorded, wall_now(), &err) != 0) {
		if (!state_down(o->state))
			log_error("%s", err.msg);
		return false;
	}
	o->stats.delivered++;
	o->stats.papers += d->unrecorded.n_papers;
	state_claim_end(o->state, &d->unrecorded);
	if (o->on_change != NULL)
		o->on_change(o->change_ctx);
	return true;
}

static void transfer_free(struct transfer *t)
{
	if (t->easy != NULL) {
		curl_multi_remove_handle(t->d->o->multi, t->easy);
		curl_easy_cleanup(t->easy);
	}
	curl_slist_free_all(t->headers);
	state_claim_end(t->d->o->state, &t->claim);
	config_unref(t->cfg);
	free(t);
}

/* Reads every finished transfer's result. */
static void outbox_check_done(struct outbox *o)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(o->multi, &left)) != NULL) {
		struct transfer *t;
		struct send_response resp = {0};
		struct send_result r;
		struct dest *d;
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		t = (struct transfer *)(void *)priv;
		resp.code = msg->data.result;
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &resp.status);
		t->answer[t->answer_len] = '\0';
		resp.body = t->answer;
		resp.body_len = t->answer_len;
		resp.retry_after = t->retry_after[0] ? t->retry_after : NULL;
		resp.error = t->error;
		t->n->ops->classify(t->n, &resp, &r);
		judge_fault(t->d->o, &resp, &r);
		d = t->d;
		dest_record(d, t->cfg, &t->claim, t->n, &r);
		d->in_flight = NULL;
		transfer_free(t);
		dest_pump(d);
	}
}

/* ---- Queues ---- */

void outbox_fail_fast(struct outbox *o)
{
	o->fail_fast = true;
}

static void on_dest_timer(void *ctx)
{
	dest_pump(ctx);
}

static const struct notifier *dest_notifier(const struct dest *d)
{
	int i = config_notifier_index(d->o->cfg, d->name);

	return i >= 0 ? &d->o->cfg->notifiers[i] : NULL;
}

/* Loads and starts libcurl and makes the outbox's multi handle, once: when a configuration
 * first has a notifier that needs the network, at start or at the reload that adds it. A
 * configuration of local notifiers never maps libcurl (net.c says what that saves). */
static int outbox_net(struct outbox *o, struct err *err)
{
	if (o->multi != NULL)
		return 0;
	if (net_load(err) != 0)
		return -1;
	o->multi = curl_multi_init();
	if (o->multi == NULL) {
		net_end();
		return err_set(err, "cannot start libcurl");
	}
	o->curl_timer = loop_timer_new(o->loop, on_curl_timer, o);
	curl_multi_setopt(o->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
	curl_multi_setopt(o->multi, CURLMOPT_SOCKETDATA, o);
	curl_multi_setopt(o->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(o->multi, CURLMOPT_TIMERDATA, o);
	return 0;
}

/* Whether a notifier of the configuration sends over the network. */
static bool config_needs_net(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_notifiers; i++) {
		if (cfg->notifiers[i].ops->prepare != NULL)
			return true;
	}
	return false;
}

/* Starts a network send of the claimed message; the transfer takes the claim. */
static void dest_start(struct dest *d, const struct notifier *n, struct state_claim *c)
{
	struct outbox *o = d->o;
	struct transfer *t;
	struct send_result r = {.status = SEND_RETRY};
	struct err err;

	/* Started with the configuration; should that have failed, every attempt tries again. */
	if (outbox_net(o, &err) != 0) {
		snprintf(r.detail, sizeof(r.detail), "%.255s", err.msg);
		dest_record(d, o->cfg, c, n, &r);
		state_claim_end(o->state, c);
		return;
	}
	t = xcalloc(1, sizeof(*t));
	t->d = d;
	t->cfg = config_ref(o->cfg);
	t->n = n;
	t->claim = *c;
	memset(c, 0, sizeof(*c));
	t->msg = claim_message(&t->claim);
	t->easy = curl_easy_init();
	if (t->easy == NULL || n->ops->prepare(n, &t->msg, t->easy, &t->headers, &err) != 0) {
		snprintf(r.detail, sizeof(r.detail), "%.255s",
			 t->easy ? err.msg : "cannot start a transfer");
		dest_record(d, t->cfg, &t->claim, n, &r);
		transfer_free(t);
		return;
	}
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, (char *)t);
	curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->error);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	d->in_flight = t;
	curl_multi_add_handle(o->multi, t->easy);
}

/* Delivers a claimed message of a local queue (a file) at once. */
static void dest_deliver_local(struct dest *d, const struct notifier *n, struct state_claim *c)
{
	struct send_result r = {.status = SEND_DELIVERED};
	struct message m = claim_message(c);
	struct err err;

	if (n->ops->deliver(n, &m, &err) != 0) {
		r.status = SEND_RETRY;
		snprintf(r.detail, sizeof(r.detail), "%.255s", err.msg);
	} else {
		snprintf(r.detail, sizeof(r.detail), "written");
	}
	dest_record(d, d->o->cfg, c, n, &r);
}

/* A claim on the queue's next message when it is due and may go at once; else when it is due
 * (-1: the queue is empty). Nothing is claimed that could not be sent now. */
static int dest_next(struct dest *d, const struct notifier *n, double now, long long wall,
		     struct state_claim *c, bool *claimed, long long *next_ms, struct err *err)
{
	if (n == NULL || d->not_before > now) {
		*claimed = false;
		return state_queue_next_due(d->o->state, d->name, next_ms, err);
	}
	return state_claim_next(d->o->state, d->name, wall, c, claimed, next_ms, err);
}

/* Sets the queue's timer for when its next message, due at next_ms, may go. */
static void dest_wait(struct dest *d, double now, long long wall, long long next_ms)
{
	double due = now + (double)(next_ms - wall) / 1000;

	if (d->not_before > due)
		due = d->not_before;
	if (due < now) /* due but not claimed (held elsewhere): look again on the next turn */
		due = now;
	d->next_wake = due;
	loop_timer_set(d->timer, due - now);
}

/* Sends the queue's next message if it is due and nothing stops it; else sets the timer for when
 * it is. */
static void dest_pump(struct dest *d)
{
	struct outbox *o = d->o;

	for (;;) {
		const struct notifier *n = dest_notifier(d);
		struct state_claim c = {0};
		double now = loop_now();
		long long wall = wall_now(), next_ms;
		bool claimed;
		struct err err;

		d->next_wake = -1;
		if (d->in_flight != NULL || o->draining)
			return;
		if (d->unrecorded.id != 0 && now < d->not_before) {
			d->next_wake = d->not_before;
			loop_timer_set(d->timer, d->not_before - now);
			return;
		}
		if (!dest_record_late(d)) {
			d->not_before = now + o->cfg->delivery.retry_base;
			continue;
		}
		if (dest_next(d, n, now, wall, &c, &claimed, &next_ms, &err) != 0) {
			if (!state_down(o->state)) /* the loss was said once */
				log_error("%s", err.msg);
			d->next_wake = now + o->cfg->delivery.retry_base;
			loop_timer_set(d->timer, o->cfg->delivery.retry_base);
			return;
		}
		if (next_ms < 0) {
			/* The queue is empty: its deliveries are written now, not within the
			 * second, so that a crash between bursts sends nothing twice. */
			if (state_marks_pending(o->state) > 0)
				outbox_flush(o);
			return;
		}
		if (n == NULL) {
			if (!d->unknown_noted)
				log_warn("%s: messages wait for a notifier of this name, which the "
					 "configuration no longer has",
					 d->name);
			d->unknown_noted = true;
			return;
		}
		if (!claimed) {
			dest_wait(d, now, wall, next_ms);
			return;
		}
		if (n->ops->deliver != NULL) {
			dest_deliver_local(d, n, &c);
			state_claim_end(o->state, &c);
			continue;
		}
		dest_start(d, n, &c); /* takes the claim */
		if (d->in_flight != NULL)
			return;
		/* It could not even start: the loop sets the timer for the retry. */
	}
}

static struct dest *dest_get(struct outbox *o, const char *name)
{
	struct dest *d;

	for (size_t i = 0; i < o->n_dests; i++) {
		if (strcmp(o->dests[i]->name, name) == 0)
			return o->dests[i];
	}
	/* Queues live as long as the outbox: transfers and timers point at them. */
	o->dests = xreallocarray(o->dests, o->n_dests + 1, sizeof(struct dest *));
	d = o->dests[o->n_dests++] = xcalloc(1, sizeof(*d));
	d->o = o;
	d->name = xstrdup(name);
	d->next_wake = -1;
	d->timer = loop_timer_new(o->loop, on_dest_timer, d);
	return d;
}

/* Learns every queue: the configured notifiers', and those the state still holds messages for
 * (a notifier renamed or removed). Done when the outbox starts or the configuration changes,
 * not at every kick: listing the outbox's notifiers reads all of it. */
static void outbox_learn_queues(struct outbox *o)
{
	char **names = NULL;
	size_t n = 0;
	struct err err;

	for (size_t i = 0; i < o->cfg->n_notifiers; i++)
		dest_get(o, o->cfg->notifiers[i].name);
	if (state_notifiers(o->state, &names, &n, &err) != 0 && !state_down(o->state))
		log_error("%s", err.msg);
	for (size_t i = 0; i < n; i++) {
		dest_get(o, names[i]);
		free(names[i]);
	}
	free(names);
}

void outbox_kick(struct outbox *o)
{
	for (size_t i = 0; i < o->n_dests; i++)
		dest_pump(o->dests[i]);
}

int outbox_new(struct loop *l, struct state *s, struct config *cfg, struct outbox **out,
	       struct err *err)
{
	struct outbox *o = xcalloc(1, sizeof(*o));

	o->loop = l;
	o->state = s;
	o->cfg = config_ref(cfg);
	o->marks_timer = loop_timer_new(l, on_marks, o);
	if (config_needs_net(cfg) && outbox_net(o, err) != 0) {
		outbox_free(o);
		return -1;
	}
	outbox_learn_queues(o);
	*out = o;
	return 0;
}

void outbox_free(struct outbox *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->n_dests; i++) {
		if (o->dests[i]->in_flight != NULL)
			transfer_free(o->dests[i]->in_flight);
		state_claim_end(o->state, &o->dests[i]->unrecorded);
		loop_timer_free(o->dests[i]->timer);
		free(o->dests[i]->name);
		free(o->dests[i]);
	}
	free(o->dests);
	outbox_flush(o);
	loop_timer_free(o->marks_timer);
	loop_timer_free(o->curl_timer);
	if (o->multi != NULL) {
		curl_multi_cleanup(o->multi);
		net_end();
	}
	config_unref(o->cfg);
	free(o);
}

void outbox_set_config(struct outbox *o, struct config *cfg)
{
	struct err err;

	config_unref(o->cfg);
	o->cfg = config_ref(cfg);
	/* The running daemon goes on without it: its sends say why they wait. */
	if (config_needs_net(cfg) && outbox_net(o, &err) != 0)
		log_error("%s: the network notifiers' messages wait", err.msg);
	for (size_t i = 0; i < o->n_dests; i++)
		o->dests[i]->unknown_noted = false;
	outbox_learn_queues(o);
	outbox_kick(o);
}

void outbox_drain(struct outbox *o)
{
	o->draining = true;
	for (size_t i = 0; i < o->n_dests; i++)
		loop_timer_set(o->dests[i]->timer, -1);
}

size_t outbox_in_flight(const struct outbox *o)
{
	size_t n = 0;

	for (size_t i = 0; i < o->n_dests; i++)
		n += o->dests[i]->in_flight != NULL;
	return n;
}

double outbox_next_activity(const struct outbox *o)
{
	double next = -1;

	for (size_t i = 0; i < o->n_dests; i++) {
		const struct dest *d = o->dests[i];
		double t = d->in_flight != NULL ? loop_now() : d->next_wake;

		if (t >= 0 && (next < 0 || t < next))
			next = t;
	}
	return next;
}

void outbox_on_change(struct outbox *o, void (*fn)(void *ctx), void *ctx)
{
	o->on_change = fn;
	o->change_ctx = ctx;
}

const struct outbox_stats *outbox_stats(const struct outbox *o)
{
	return &o->stats;
}
