/*
 * log.c — one writer for every message the program prints about itself.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hex.h"
#include "log.h"
#include "utf8.h"

#define LOG_LINE_MAX 2048

static enum log_style log_style = LOG_STYLE_PLAIN;
static int log_max = LOG_PRIO_INFO;

void log_setup(enum log_style style, int max_prio)
{
	log_style = style;
	log_max = max_prio;
}

/* Reads systemd's JOURNAL_STREAM, "DEVICE:INODE" in decimal; -1 when it is not that (sscanf
 * would take overflowing numbers without a word). */
static int journal_stream(const char *js, unsigned long long *dev, unsigned long long *ino)
{
	char *end;

	errno = 0;
	*dev = strtoull(js, &end, 10);
	if (end == js || *end != ':')
		return -1;
	js = end + 1;
	*ino = strtoull(js, &end, 10);
	return end == js || *end != '\0' || errno != 0 ? -1 : 0;
}

enum log_style log_daemon_style(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || journal_stream(js, &dev, &ino) != 0)
		return LOG_STYLE_STAMPED;
	if (fstat(STDERR_FILENO, &st) != 0)
		return LOG_STYLE_STAMPED;
	if ((unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
		return LOG_STYLE_JOURNAL;
	return LOG_STYLE_STAMPED;
}

static const char *prio_word(enum log_prio prio)
{
	switch (prio) {
	case LOG_PRIO_ERR:
		return "error";
	case LOG_PRIO_WARN:
		return "warning";
	case LOG_PRIO_INFO:
		return "info";
	case LOG_PRIO_DEBUG:
		return "debug";
	}
	return "?";
}

/* The line's opening: the journal priority, a UTC timestamp, or the program name. */
static size_t log_head(char *buf, size_t size, enum log_prio prio)
{
	struct timespec ts;
	struct tm tm;
	int n = 0;

	switch (log_style) {
	case LOG_STYLE_JOURNAL:
		n = snprintf(buf, size, "<%d>", (int)prio);
		break;
	case LOG_STYLE_STAMPED:
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(buf, size,
			     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: ", tm.tm_year + 1900,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			     ts.tv_nsec / 1000000, prio_word(prio));
		break;
	case LOG_STYLE_PLAIN:
		if (prio == LOG_PRIO_ERR || prio == LOG_PRIO_INFO)
			n = snprintf(buf, size, "paperwatch: ");
		else
			n = snprintf(buf, size, "paperwatch: %s: ", prio_word(prio));
		break;
	}
	return n > 0 ? (size_t)n : 0;
}

/* Writes \xNN for the byte c, and a NUL after it; returns the 4 bytes written before the NUL. */
static size_t escape_byte(char *out, unsigned char c)
{
	out[0] = '\\';
	out[1] = 'x';
	hex_encode(&c, 1, out + 2);
	return 4;
}

/* The code point of the well-formed character at p when it is one a terminal acts on rather than
 * shows: a C1 control (U+0080 to U+009F), a bidirectional mark, embedding, override or isolate
 * (which make "evil\u202egpj.md" read "evildm.jpg"), a line or paragraph separator; else 0. Its
 * bytes are in *len. */
static unsigned invisible(const unsigned char *p, size_t *len)
{
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
		*len = 2;
		return p[1];
	}
	if (p[0] == 0xd8 && p[1] == 0x9c) {
		*len = 2;
		return 0x061c; /* ARABIC LETTER MARK */
	}
	if (p[0] == 0xe2 &&
	    ((p[1] == 0x80 && ((p[2] >= 0x8e && p[2] <= 0x8f) || (p[2] >= 0xa8 && p[2] <= 0xae))) ||
	     (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9))) {
		*len = 3;
		return ((unsigned)(p[0] & 0x0f) << 12) | ((unsigned)(p[1] & 0x3f) << 6) |
		       (p[2] & 0x3f);
	}
	return 0;
}

/* Copies msg into out, escaping control bytes as \n, \t or \xNN, each byte of ill-formed UTF-8
 * as \xNN and the characters a terminal would act on as \uNNNN, so a line is always valid UTF-8
 * and shows what it says; returns the length written. */
static size_t log_escape(char *out, size_t size, const char *msg)
{
	size_t o = 0, len = strlen(msg), valid = utf8_valid_prefix(msg, len);

	for (const unsigned char *p = (const unsigned char *)msg; *p && o + 7 < size; p++) {
		size_t at = (size_t)(p - (const unsigned char *)msg);

		size_t n = 1;
		/* Only inside the well-formed prefix, where a character's bytes are all there. */
		unsigned cp = at < valid && *p >= 0x80 ? invisible(p, &n) : 0;

		if (at == valid && *p >= 0x80) {
			/* One ill-formed byte: escape it, and look on from the next. */
			o += escape_byte(out + o, *p);
			valid = at + 1 + utf8_valid_prefix(msg + at + 1, len - at - 1);
		} else if (cp != 0) {
			if (o + 7 >= size)
				break;
			o += (size_t)snprintf(out + o, size - o, "\\u%04x", cp);
			p += n - 1;
		} else if (*p >= 0x20 && *p != 0x7f) {
			out[o++] = (char)*p;
		} else if (*p == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (*p == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
		} else {
			o += escape_byte(out + o, *p);
		}
	}
	return o;
}

static void log_vmsg(enum log_prio prio, const char *fmt, va_list ap) PW_PRINTF(2, 0);

static void log_vmsg(enum log_prio prio, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX * 2];
	size_t n;

	if ((int)prio > log_max)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = log_head(line, sizeof(line), prio);
	n += log_escape(line + n, sizeof(line) - n - 1, msg);
	line[n++] = '\n';
	/* One write per line keeps lines whole when several processes share the stream. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void log_msg(enum log_prio prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(prio, fmt, ap);
	va_end(ap);
}
