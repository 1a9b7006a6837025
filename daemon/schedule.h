/*
 * schedule.h — when a notifier's messages go out: at once, or once a day or a week at a local
 * time in an IANA time zone. Deadlines are computed from the zone's calendar (never by adding
 * 86,400 seconds), so 08:00 stays 08:00 across a change to or from summer time.
 */
#ifndef PW_SCHEDULE_H
#define PW_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* An IANA zone name, as long as tzdata's longest and some. */
#define SCHEDULE_ZONE_MAX 64
/* Where tzdata keeps the zones. */
#define SCHEDULE_ZONE_DIR "/usr/share/zoneinfo"

enum schedule_kind { SCHEDULE_INSTANT, SCHEDULE_DAILY, SCHEDULE_WEEKLY };

struct schedule {
	enum schedule_kind kind;
	int hour, minute;
	int weekday;                  /* weekly: 0 is Sunday, as struct tm counts */
	char zone[SCHEDULE_ZONE_MAX]; /* "" for the machine's local time */
};

/* Reads "instant", "daily HH:MM" or "weekly DAY HH:MM" (DAY: monday .. sunday, or its first
 * three letters) into s, keeping s->zone; -1 with the reason in err. */
int schedule_parse(const char *text, struct schedule *s, struct err *err);
/* Whether zone is a time zone tzdata has ("Europe/Berlin", "UTC"); -1 with the reason. */
int schedule_zone_check(const char *zone, struct err *err);

/* The latest deadline at or before now_ms, in milliseconds since the epoch (a scheduled kind). */
long long schedule_last(const struct schedule *s, long long now_ms);
/* The first deadline after after_ms. */
long long schedule_next(const struct schedule *s, long long after_ms);

/* How schedule_time shows a time. */
enum schedule_form {
	SCHEDULE_DAY,     /* "Tue 2027-03-28" */
	SCHEDULE_MINUTE,  /* "Tue 2027-03-28 08:00 CEST" */
	SCHEDULE_CLOCK,   /* "08:00 CEST" */
	SCHEDULE_RFC3339, /* "2027-03-28T08:00:00+02:00" */
};

/* The time ms in the schedule's zone, into out. */
void schedule_time(const struct schedule *s, long long ms, enum schedule_form form, char *out,
		   size_t size);
/* The schedule as the configuration says it: "daily 08:00 Europe/Berlin", "instant". */
void schedule_describe(const struct schedule *s, char *out, size_t size);

#endif
