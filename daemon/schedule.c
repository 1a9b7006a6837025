/*
 * schedule.c — deadlines in a time zone. The C library knows one zone at a time, the one TZ
 * names: each computation sets TZ to the schedule's zone and puts the process's own back after,
 * so that nothing else (status's local times) sees a zone it did not ask for.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "schedule.h"
#include "xmalloc.h"

static const char *const weekdays[] = {"sunday",   "monday", "tuesday", "wednesday",
				       "thursday", "friday", "saturday"};

/* The process's own TZ, as it was before any schedule set one (NULL: it had none). */
static bool tz_saved;
static char *tz_own;

static void zone_enter(const char *zone)
{
	if (!tz_saved) {
		const char *t = getenv("TZ");

		tz_own = t ? xstrdup(t) : NULL;
		tz_saved = true;
	}
	if (zone[0] == '\0')
		return;
	setenv("TZ", zone, 1);
	tzset();
}

static void zone_leave(const char *zone)
{
	if (zone[0] == '\0')
		return;
	if (tz_own != NULL)
		setenv("TZ", tz_own, 1);
	else
		unsetenv("TZ");
	tzset();
}

static int weekday(const char *s, size_t n)
{
	for (int i = 0; i < 7; i++) {
		if ((n == 3 || n == strlen(weekdays[i])) && strncasecmp(s, weekdays[i], n) == 0)
			return i;
	}
	return -1;
}

/* "HH:MM" into s; false when it is not one. */
static bool clock_time(const char *t, struct schedule *s)
{
	if (!(isdigit((unsigned char)t[0]) && isdigit((unsigned char)t[1]) && t[2] == ':' &&
	      isdigit((unsigned char)t[3]) && isdigit((unsigned char)t[4]) && t[5] == '\0'))
		return false;
	s->hour = (t[0] - '0') * 10 + (t[1] - '0');
	s->minute = (t[3] - '0') * 10 + (t[4] - '0');
	return s->hour < 24 && s->minute < 60;
}

int schedule_parse(const char *text, struct schedule *s, struct err *err)
{
	char word[16] = "", day[16] = "", at[16] = "", rest[2] = "";
	int n = sscanf(text, " %15s %15s %15s %1s", word, day, at, rest);

	s->kind = SCHEDULE_INSTANT;
	s->hour = s->minute = s->weekday = 0;
	if (n == 1 && strcmp(word, "instant") == 0)
		return 0;
	if (n == 2 && strcmp(word, "daily") == 0 && clock_time(day, s)) {
		s->kind = SCHEDULE_DAILY;
		return 0;
	}
	if (n == 3 && strcmp(word, "weekly") == 0 &&
	    (s->weekday = weekday(day, strlen(day))) >= 0 && clock_time(at, s)) {
		s->kind = SCHEDULE_WEEKLY;
		return 0;
	}
	s->kind = SCHEDULE_INSTANT;
	return err_set(
		err,
		"\"%s\" is not a schedule: write \"instant\", \"daily HH:MM\" or \"weekly DAY "
		"HH:MM\" (\"weekly monday 08:00\"), in 24-hour time",
		text);
}

int schedule_zone_check(const char *zone, struct err *err)
{
	char path[sizeof(SCHEDULE_ZONE_DIR) + SCHEDULE_ZONE_MAX + 1], magic[4];
	int fd;
	bool ok;

	if (zone[0] == '\0' || strlen(zone) >= SCHEDULE_ZONE_MAX || zone[0] == '/' ||
	    strstr(zone, "..") != NULL ||
	    strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
			 "qrstuvwxyz0123456789/_+-") != strlen(zone))
		return err_set(err, "\"%s\" is not a time zone name (\"Europe/Berlin\", \"UTC\")",
			       zone);
	snprintf(path, sizeof(path), "%s/%s", SCHEDULE_ZONE_DIR, zone);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ELOOP) /* tzdata links its aliases */
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return err_set(err,
			       "no time zone \"%s\" in %s (%s); names are like "
			       "\"Europe/Berlin\", and the tzdata package holds them",
			       zone, SCHEDULE_ZONE_DIR, strerror(errno));
	ok = read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	     memcmp(magic, "TZif", 4) == 0;
	close(fd);
	if (!ok)
		return err_set(err, "%s/%s is not a time zone file", SCHEDULE_ZONE_DIR, zone);
	return 0;
}

/* The deadline on the local day of *day (any field may be out of range: mktime mends it). In a
 * gap (a clock put forward past 02:30) it is the time the clock jumps to; in the hour a clock
 * goes back, when 02:30 comes twice, the first. */
static long long deadline_on(const struct schedule *s, const struct tm *day)
{
	struct tm t = *day, other;
	time_t at, again;

	t.tm_hour = s->hour;
	t.tm_min = s->minute;
	t.tm_sec = 0;
	t.tm_isdst = -1;
	other = t;
	at = mktime(&t);
	other.tm_isdst = t.tm_isdst > 0 ? 0 : 1;
	again = mktime(&other);
	if (again < at && other.tm_hour == s->hour && other.tm_min == s->minute &&
	    other.tm_mday == t.tm_mday)
		at = again;
	return (long long)at * 1000;
}

/* The latest deadline at or before now_ms; the zone is set. */
static long long last_in_zone(const struct schedule *s, long long now_ms)
{
	time_t now = (time_t)(now_ms / 1000);
	int step = s->kind == SCHEDULE_WEEKLY ? 7 : 1;
	struct tm day;
	long long d;

	localtime_r(&now, &day);
	if (s->kind == SCHEDULE_WEEKLY)
		day.tm_mday -= (day.tm_wday - s->weekday + 7) % 7;
	d = deadline_on(s, &day);
	for (int i = 0; d > now_ms && i < 3; i++) {
		day.tm_mday -= step;
		d = deadline_on(s, &day);
	}
	return d;
}

long long schedule_last(const struct schedule *s, long long now_ms)
{
	long long d;

	zone_enter(s->zone);
	d = last_in_zone(s, now_ms);
	zone_leave(s->zone);
	return d;
}

long long schedule_next(const struct schedule *s, long long after_ms)
{
	int step = s->kind == SCHEDULE_WEEKLY ? 7 : 1;
	long long last, d;
	struct tm day;
	time_t t;

	zone_enter(s->zone);
	last = last_in_zone(s, after_ms);
	t = (time_t)(last / 1000);
	localtime_r(&t, &day);
	d = last;
	/* Day by day on the calendar: the next one may be 23 or 25 hours on. */
	for (int i = 1; d <= after_ms && i < 4; i++) {
		struct tm next = day;

		next.tm_mday += i * step;
		d = deadline_on(s, &next);
	}
	zone_leave(s->zone);
	return d;
}

void schedule_time(const struct schedule *s, long long ms, enum schedule_form form, char *out,
		   size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n = 0;

	zone_enter(s->zone);
	if (localtime_r(&t, &tm) != NULL) {
		switch (form) {
		case SCHEDULE_DAY:
			n = strftime(out, size, "%a %Y-%m-%d", &tm);
			break;
		case SCHEDULE_MINUTE:
			n = strftime(out, size, "%a %Y-%m-%d %H:%M %Z", &tm);
			break;
		case SCHEDULE_CLOCK:
			n = strftime(out, size, "%H:%M %Z", &tm);
			break;
		case SCHEDULE_RFC3339:
			n = strftime(out, size, "%Y-%m-%dT%H:%M:%S%z", &tm);
			/* strftime's +0200 as RFC 3339's +02:00 */
			if (n > 0 && n + 2 <= size) {
				memmove(out + n - 1, out + n - 2, 3);
				out[n - 2] = ':';
				n++;
			}
			break;
		}
	}
	if (n == 0)
		snprintf(out, size, "-");
	zone_leave(s->zone);
}

void schedule_describe(const struct schedule *s, char *out, size_t size)
{
	const char *zone = s->zone[0] ? s->zone : "local time";

	if (s->kind == SCHEDULE_DAILY)
		snprintf(out, size, "daily %02d:%02d %s", s->hour, s->minute, zone);
	else if (s->kind == SCHEDULE_WEEKLY)
		snprintf(out, size, "weekly %s %02d:%02d %s", weekdays[s->weekday], s->hour,
			 s->minute, zone);
	else
		snprintf(out, size, "instant");
}
