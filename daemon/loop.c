/*
 * loop.c — epoll and one timerfd. Timers are few (libcurl's, the outbox's, the watchdog's), so
 * they live in a short array and the timerfd is armed to the earliest after every change. A
 * timer that is due already (libcurl asks for one each time a transfer starts) never touches
 * the timerfd: the next turn polls instead of sleeping and fires it, which saves arming the
 * timerfd, reading it and arming it again, each a costly call on a virtual machine.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "xmalloc.h"

#define MAX_EVENTS 32
/* Seconds a timer may move later without the timerfd being armed again. */
#define REARM_SLACK 0.001

struct watch {
	int fd;
	loop_fd_fn fn;
	void *ctx;
};

struct loop_timer {
	struct loop *loop;
	loop_timer_fn fn;
	void *ctx;
	double when;         /* loop_now() time, or < 0 when disarmed */
	unsigned long round; /* the loop's round when it was set */
};

struct loop {
	int epfd, tfd;
	int cfd; /* the wall clock's watch (loop_on_clock_set), -1 without one */
	loop_timer_fn on_clock_set;
	void *clock_ctx;
	struct watch *watches; /* indexed by fd */
	size_t n_watches;
	struct loop_timer **timers;
	size_t n_timers;
	double armed;        /* when the timerfd fires, < 0 when disarmed */
	bool due;            /* a timer is due: the next turn polls and fires it */
	unsigned long round; /* counts rounds of timers fired */
};

double loop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int loop_new(struct loop **out, struct err *err)
{
	struct loop *l = xcalloc(1, sizeof(*l));
	struct epoll_event ev = {.events = EPOLLIN};

	l->armed = -1;
	l->cfd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ev.data.fd = l->tfd;
	if (l->epfd < 0 || l->tfd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->tfd, &ev) != 0) {
		err_set(err, "event loop: %s", strerror(errno));
		loop_free(l);
		return -1;
	}
	*out = l;
	return 0;
}

void loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->cfd >= 0)
		close(l->cfd);
	free(l->watches);
	free(l->timers);
	free(l);
}

int loop_watch(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *ctx, struct err *err)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	bool known = (size_t)fd < l->n_watches && l->watches[fd].fn != NULL;

	if ((size_t)fd >= l->n_watches) {
		size_t n = (size_t)fd + 16;

		l->watches = xreallocarray(l->watches, n, sizeof(*l->watches));
		memset(l->watches + l->n_watches, 0, (n - l->n_watches) * sizeof(*l->watches));
		l->n_watches = n;
	}
	if (epoll_ctl(l->epfd, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0)
		return err_set(err, "event loop: watching descriptor %d: %s", fd, strerror(errno));
	l->watches[fd] = (struct watch){.fd = fd, .fn = fn, .ctx = ctx};
	return 0;
}

void loop_unwatch(struct loop *l, int fd)
{
	if ((size_t)fd >= l->n_watches || l->watches[fd].fn == NULL)
		return;
	/* The descriptor may be closed already; then the kernel dropped it itself. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->watches[fd].fn = NULL;
}

/* Arms the timerfd to the earliest timer, or disarms it. */
static void loop_rearm(struct loop *l)
{
	struct itimerspec its = {0};
	double first = -1, delay;

	for (size_t i = 0; i < l->n_timers; i++) {
		if (l->timers[i]->when >= 0 && (first < 0 || l->timers[i]->when < first))
			first = l->timers[i]->when;
	}
	/* Moved later by a little, the timerfd stays as it is: it fires a moment early and is armed
	 * again then, instead of a system call on each move (libcurl moves its timeout on every
	 * call it gets). */
	if (first == l->armed ||
	    (l->armed >= 0 && first > l->armed && first - l->armed < REARM_SLACK))
		return;
	delay = first - loop_now();
	if (first >= 0 && delay <= 0) {
		l->due = true; /* the timerfd stays as it is: the timers it fires check the time */
		return;
	}
	l->armed = first;
	if (first >= 0) {
		if (delay < 1e-6)
			delay = 1e-6; /* a few nanoseconds would round to zero, which disarms */
		its.it_value.tv_sec = (time_t)delay;
		its.it_value.tv_nsec = (long)((delay - (double)(time_t)delay) * 1e9);
	}
	timerfd_settime(l->tfd, 0, &its, NULL);
}

struct loop_timer *loop_timer_new(struct loop *l, loop_timer_fn fn, void *ctx)
{
	struct loop_timer *t = xcalloc(1, sizeof(*t));

	t->loop = l;
	t->fn = fn;
	t->ctx = ctx;
	t->when = -1;
	l->timers = xreallocarray(l->timers, l->n_timers + 1, sizeof(struct loop_timer *));
	l->timers[l->n_timers++] = t;
	return t;
}

void loop_timer_set(struct loop_timer *t, double seconds)
{
	t->when = seconds < 0 ? -1 : loop_now() + seconds;
	t->round = t->loop->round;
	loop_rearm(t->loop);
}

bool loop_timer_armed(const struct loop_timer *t)
{
	return t->when >= 0;
}

void loop_timer_free(struct loop_timer *t)
{
	struct loop *l;

	if (t == NULL)
		return;
	l = t->loop;
	for (size_t i = 0; i < l->n_timers; i++) {
		if (l->timers[i] == t) {
			l->timers[i] = l->timers[--l->n_timers];
			break;
		}
	}
	free(t);
	loop_rearm(l);
}

/* Runs every timer that is due, when the timerfd fired (expired) or a timer was due already. A
 * callback may set timers (those wait for the next round, so one set to fire at once cannot
 * spin) or free them (so the scan starts over after each). */
static void loop_fire_timers(struct loop *l, bool expired)
{
	double now = loop_now();
	uint64_t expirations;

	if (expired) {
		if (read(l->tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
			return;
		l->armed = -1;
	}
	l->due = false;
	l->round++;
	for (size_t i = 0; i < l->n_timers; i++) {
		struct loop_timer *t = l->timers[i];

		if (t->when >= 0 && t->when <= now && t->round < l->round) {
			t->when = -1;
			t->fn(t->ctx);
			i = (size_t)-1;
		}
	}
	loop_rearm(l);
}

/* The wall clock's watch: a timer on it that never fires, which the kernel cancels whenever the
 * clock is set. */
static int clock_arm(struct loop *l)
{
	struct itimerspec far = {.it_value = {.tv_sec = (time_t)INT32_MAX}};

	return timerfd_settime(l->cfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &far, NULL);
}

static void on_clock(void *ctx, int fd, uint32_t events)
{
	struct loop *l = ctx;
	uint64_t expirations;

	(void)events;
	if (read(fd, &expirations, sizeof(expirations)) >= 0 || errno != ECANCELED)
		return;
	clock_arm(l);
	l->on_clock_set(l->clock_ctx);
}

int loop_on_clock_set(struct loop *l, loop_timer_fn fn, void *ctx, struct err *err)
{
	l->on_clock_set = fn;
	l->clock_ctx = ctx;
	if (l->cfd >= 0)
		return 0;
	l->cfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->cfd < 0 || clock_arm(l) != 0)
		return err_set(err, "event loop: watching the wall clock: %s", strerror(errno));
	return loop_watch(l, l->cfd, EPOLLIN, on_clock, l, err);
}

int loop_turn(struct loop *l, double deadline, struct err *err)
{
	struct epoll_event ev[MAX_EVENTS];
	int timeout = -1, n;

	if (deadline >= 0) {
		double left = deadline - loop_now();

		timeout = left <= 0 ? 0 : (int)(left * 1000) + 1;
	}
	if (l->due)
		timeout = 0;
	n = epoll_wait(l->epfd, ev, MAX_EVENTS, timeout);
	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0)
		return err_set(err, "event loop: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd;

		if (fd == l->tfd)
			loop_fire_timers(l, true);
		else if ((size_t)fd < l->n_watches && l->watches[fd].fn != NULL)
			l->watches[fd].fn(l->watches[fd].ctx, fd, ev[i].events);
	}
	if (l->due)
		loop_fire_timers(l, false);
	return 0;
}
