/*
 * sdnotify.h — telling the service manager how the daemon is (READY=1, STATUS=..., WATCHDOG=1,
 * STOPPING=1) without ever blocking on it.
 */
#ifndef PW_SDNOTIFY_H
#define PW_SDNOTIFY_H

#include "err.h"

/* Connects to $NOTIFY_SOCKET, when systemd (or a test) set it; without it, sdnotify() is a no-op.
 */
int sdnotify_open(struct err *err);
void sdnotify_close(void);

/* Sends one notify message. When the manager's socket is full it is not sent: a message that is
 * only a STATUS= line is dropped, since the next replaces it; any other is named in the log. */
void sdnotify(const char *fmt, ...) PW_PRINTF(1, 2);

#endif
