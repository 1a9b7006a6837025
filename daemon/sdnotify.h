/*
 * sdnotify.h — telling the service manager how the daemon is (READY=1, STATUS=..., WATCHDOG=1,
 * STOPPING=1) without ever blocking on it.
 */
#ifndef PW_SDNOTIFY_H
#define PW_SDNOTIFY_H

#include <stdint.h>

#include "err.h"

/* Connects to $NOTIFY_SOCKET, when systemd (or a test) set it; without it, sdnotify() is a no-op.
 */
int sdnotify_open(struct err *err);
void sdnotify_close(void);

/* Sends one notify message. When the manager's socket is full it is not sent: a message that is
 * only a STATUS= line is dropped, since the next replaces it; any other is named in the log. */
void sdnotify(const char *fmt, ...) PW_PRINTF(1, 2);

/* The watchdog interval the service manager set for this process (WatchdogSec=), from
 * $WATCHDOG_USEC: *usec, or 0 when there is none or it is another process's, which
 * $WATCHDOG_PID names when it is set. -1 when either is not a number, saying which. */
int sdnotify_watchdog(uint64_t *usec, struct err *err);

#endif
