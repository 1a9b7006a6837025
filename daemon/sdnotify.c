/*
 * sdnotify.c — the systemd notify protocol (READY=1, STATUS=, WATCHDOG=1, ...) on a datagram
 * socket of the daemon's own that never blocks: a service manager that stops reading its
 * socket cannot freeze the daemon, whose SIGTERM would then wait for ever. And the watchdog's
 * interval, read from the environment as systemd sets it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"

/* A notify message: the daemon's longest is its status line. */
#define SDNOTIFY_MAX 1024

static int notify_fd = -1;
static bool lost_noted; /* a message that mattered could not be sent; said once until one is */

int sdnotify_open(struct err *err)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	size_t n;

	if (path == NULL || *path == '\0')
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path))
		return err_set(err, "NOTIFY_SOCKET: not a socket path: %s", path);
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* an abstract socket */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (notify_fd < 0)
		return err_set(err, "NOTIFY_SOCKET: %s", strerror(errno));
	if (connect(notify_fd, (const struct sockaddr *)&sa, len) != 0) {
		err_set(err, "NOTIFY_SOCKET %s: %s", path, strerror(errno));
		close(notify_fd);
		notify_fd = -1;
		return -1;
	}
	return 0;
}

void sdnotify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}

void sdnotify(const char *fmt, ...)
{
	char msg[SDNOTIFY_MAX];
	va_list ap;
	int n;

	if (notify_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (send(notify_fd, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1,
		 MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
		lost_noted = false;
		return;
	}
	/* A status line is replaced by the next one; anything else the manager should have had. */
	if (strncmp(msg, "STATUS=", 7) == 0 || lost_noted)
		return;
	lost_noted = true;
	log_warn("the service manager is not reading its notify socket (%s); \"%.*s\" was not "
		 "sent, and the daemon goes on",
		 strerror(errno), (int)strcspn(msg, "\n"), msg);
}

/* A decimal number of at least one digit and nothing else, up to max: no sign, space or 0x,
 * which strtoull alone would let through. */
static bool parse_decimal(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

int sdnotify_watchdog(uint64_t *usec, struct err *err)
{
	const char *interval = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	uint64_t n, owner;

	*usec = 0;
	if (interval == NULL)
		return 0;
	/* systemd never sets 0 or "infinity" (UINT64_MAX), which would mean no watchdog. */
	if (!parse_decimal(interval, UINT64_MAX - 1, &n) || n == 0)
		return err_set(err, "WATCHDOG_USEC: not a number of microseconds: '%.40s'",
			       interval);
	if (pid != NULL) {
		if (!parse_decimal(pid, INT32_MAX, &owner) || owner == 0)
			return err_set(err, "WATCHDOG_PID: not a process id: '%.40s'", pid);
		if (owner != (uint64_t)getpid())
			return 0; /* the watchdog watches the process systemd started, not this one
				   */
	}
	*usec = n;
	return 0;
}
