/*
 * log.h — messages on stderr: plain for one-shot commands, sd-daemon priority prefixes when stderr
 * is the journal, timestamps otherwise. Control bytes in messages are escaped, so a hostile file
 * name cannot forge a log line.
 */
#ifndef PW_LOG_H
#define PW_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* The sd-daemon / syslog priorities the journal understands. */
enum log_prio {
	LOG_PRIO_ERR = 3,
	LOG_PRIO_WARN = 4,
	LOG_PRIO_INFO = 6,
	LOG_PRIO_DEBUG = 7,
};

enum log_style {
	LOG_STYLE_PLAIN,   /* "paperwatch: warning: ..." for commands run by hand */
	LOG_STYLE_JOURNAL, /* "<4>..." when stderr is connected to the journal */
	LOG_STYLE_STAMPED, /* "2026-11-22T10:00:00.000Z warning: ..." for a daemon outside systemd
			    */
};

/* Chooses the style and the most verbose priority shown; LOG_PRIO_ERR - 1 silences everything. */
void log_setup(enum log_style style, int max_prio);

/* The style for a daemon: journal when JOURNAL_STREAM names our stderr, else stamped. */
enum log_style log_daemon_style(void);

void log_msg(enum log_prio prio, const char *fmt, ...) PW_PRINTF(2, 3);

#define log_error(...) log_msg(LOG_PRIO_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_PRIO_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_PRIO_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_PRIO_DEBUG, __VA_ARGS__)

/* "s" for a count other than one: "1 paper", "2 papers". */
static inline const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

#endif
