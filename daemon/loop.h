/*
 * loop.h — the event loop: one epoll over the descriptors that matter (inotify, a signalfd,
 * libcurl's sockets) and timers on a single timerfd. With nothing to do it sleeps: no polling,
 * no wakeups.
 */
#ifndef PW_LOOP_H
#define PW_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "err.h"

struct loop;
struct loop_timer;

/* Called with the epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP) that fd got. */
typedef void (*loop_fd_fn)(void *ctx, int fd, uint32_t events);
typedef void (*loop_timer_fn)(void *ctx);

int loop_new(struct loop **out, struct err *err);
void loop_free(struct loop *l);

/* Watches fd for events (EPOLLIN and/or EPOLLOUT); a second add for the same fd changes them. */
int loop_watch(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *ctx, struct err *err);
void loop_unwatch(struct loop *l, int fd);

/* A one-shot timer, disarmed until loop_timer_set. */
struct loop_timer *loop_timer_new(struct loop *l, loop_timer_fn fn, void *ctx);
/* Fires once, seconds from now (0: on the next turn); a negative delay disarms it. */
void loop_timer_set(struct loop_timer *t, double seconds);
bool loop_timer_armed(const struct loop_timer *t);
void loop_timer_free(struct loop_timer *t);

/* Calls fn whenever the wall clock is set: by hand, by NTP stepping it, or on waking from
 * suspend, during which no monotonic timer ran. Timers for a wall-clock deadline (08:00 local
 * time) are computed again then. One callback per loop; a second call replaces it. */
int loop_on_clock_set(struct loop *l, loop_timer_fn fn, void *ctx, struct err *err);

/* Waits for and dispatches one round of events, at most until the deadline (a loop_now() time;
 * negative: no deadline). Returns -1 only if epoll itself fails. */
int loop_turn(struct loop *l, double deadline, struct err *err);

/* Monotonic seconds. */
double loop_now(void);

#endif
