/*
 * test_schedule.c — schedules read from their text, and deadlines in real zones: the same
 * local time each day across a change to and from summer time, weekly days, a deadline inside
 * the hour a clock skips, and zone names refused.
 */
#include "unit.h"

#include <time.h>

#include "schedule.h"

/* Milliseconds of a UTC time. */
static long long utc(int y, int mo, int d, int h, int mi)
{
	struct tm t = {
		.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};

	return (long long)timegm(&t) * 1000;
}

static struct schedule zoned(const char *text, const char *zone)
{
	struct schedule s = {0};
	struct err err;

	snprintf(s.zone, sizeof(s.zone), "%s", zone);
	assert_int_equal(schedule_parse(text, &s, &err), 0);
	return s;
}

static void schedules_are_read_and_bad_ones_named(void **state)
{
	struct schedule s = {0};
	struct err err;

	(void)state;
	assert_int_equal(schedule_parse("instant", &s, &err), 0);
	assert_int_equal(s.kind, SCHEDULE_INSTANT);
	assert_int_equal(schedule_parse("daily 07:05", &s, &err), 0);
	assert_int_equal(s.kind, SCHEDULE_DAILY);
	assert_int_equal(s.hour, 7);
	assert_int_equal(s.minute, 5);
	assert_int_equal(schedule_parse("weekly Mon 18:30", &s, &err), 0);
	assert_int_equal(s.kind, SCHEDULE_WEEKLY);
	assert_int_equal(s.weekday, 1);
	assert_int_equal(schedule_parse("weekly sunday 00:00", &s, &err), 0);
	assert_int_equal(s.weekday, 0);
	assert_int_equal(schedule_parse("daily 24:00", &s, &err), -1);
	assert_non_null(strstr(err.msg, "\"daily 24:00\" is not a schedule"));
	assert_int_equal(schedule_parse("daily 8:00", &s, &err), -1);
	assert_int_equal(schedule_parse("weekly funday 08:00", &s, &err), -1);
	assert_int_equal(schedule_parse("daily 08:00 extra", &s, &err), -1);
	assert_int_equal(schedule_parse("hourly", &s, &err), -1);
	assert_int_equal(s.kind, SCHEDULE_INSTANT);
}

static void zones_are_checked_against_tzdata(void **state)
{
	struct err err;

	(void)state;
	assert_int_equal(schedule_zone_check("Europe/Berlin", &err), 0);
	assert_int_equal(schedule_zone_check("UTC", &err), 0);
	assert_int_equal(schedule_zone_check("Europe/Atlantis", &err), -1);
	assert_non_null(strstr(err.msg, "no time zone \"Europe/Atlantis\""));
	assert_int_equal(schedule_zone_check("../../etc/passwd", &err), -1);
	assert_int_equal(schedule_zone_check("/etc/localtime", &err), -1);
	assert_int_equal(schedule_zone_check("", &err), -1);
}

/* Europe/Berlin goes from CET (UTC+1) to CEST (UTC+2) at 02:00 on 28 March 2027. */
static void daily_keeps_its_local_time_across_summer_time(void **state)
{
	struct schedule s = zoned("daily 08:00", "Europe/Berlin");

	(void)state;
	assert_int_equal(schedule_last(&s, utc(2027, 3, 27, 7, 0)), utc(2027, 3, 27, 7, 0));
	assert_int_equal(schedule_last(&s, utc(2027, 3, 27, 6, 59)), utc(2027, 3, 26, 7, 0));
	assert_int_equal(schedule_next(&s, utc(2027, 3, 27, 7, 0)), utc(2027, 3, 28, 6, 0));
	assert_int_equal(schedule_next(&s, utc(2027, 3, 28, 6, 0)), utc(2027, 3, 29, 6, 0));
	/* And back to CET on 31 October: the day is 25 hours long. */
	assert_int_equal(schedule_next(&s, utc(2027, 10, 30, 6, 0)), utc(2027, 10, 31, 7, 0));
	assert_int_equal(schedule_last(&s, utc(2027, 10, 31, 6, 30)), utc(2027, 10, 30, 6, 0));
}

static void a_deadline_the_clock_skips_falls_after_the_jump(void **state)
{
	struct schedule s = zoned("daily 02:30", "Europe/Berlin");
	long long d = schedule_next(&s, utc(2027, 3, 27, 1, 30));

	(void)state;
	/* 02:30 does not exist on 28 March: the message goes when the clock shows 03:30 CEST,
	 * or 01:30 CET, never not at all, and once. */
	assert_true(d == utc(2027, 3, 28, 1, 30) || d == utc(2027, 3, 28, 0, 30));
	assert_int_equal(schedule_next(&s, d), utc(2027, 3, 29, 0, 30));
}

static void a_deadline_the_clock_shows_twice_is_the_first_and_only(void **state)
{
	struct schedule s = zoned("daily 02:30", "Europe/Berlin");

	(void)state;
	/* On 31 October 2027 02:30 comes at 00:30 UTC (CEST) and again at 01:30 UTC (CET): one
	 * message, at the first. */
	assert_int_equal(schedule_next(&s, utc(2027, 10, 30, 12, 0)), utc(2027, 10, 31, 0, 30));
	assert_int_equal(schedule_last(&s, utc(2027, 10, 31, 1, 45)), utc(2027, 10, 31, 0, 30));
	assert_int_equal(schedule_next(&s, utc(2027, 10, 31, 0, 30)), utc(2027, 11, 1, 1, 30));
}

static void weekly_finds_its_day(void **state)
{
	struct schedule s = zoned("weekly monday 09:00", "America/New_York");

	(void)state;
	/* Wednesday 3 November 2027: the last Monday 09:00 EDT was 1 November, 13:00 UTC. */
	assert_int_equal(schedule_last(&s, utc(2027, 11, 3, 12, 0)), utc(2027, 11, 1, 13, 0));
	/* Summer time ends on Sunday 7 November: the next Monday 09:00 is EST, 14:00 UTC. */
	assert_int_equal(schedule_next(&s, utc(2027, 11, 3, 12, 0)), utc(2027, 11, 8, 14, 0));
	assert_int_equal(schedule_next(&s, utc(2027, 11, 8, 14, 0)), utc(2027, 11, 15, 14, 0));
	/* On the Monday itself, before and after nine. */
	assert_int_equal(schedule_last(&s, utc(2027, 11, 8, 13, 59)), utc(2027, 11, 1, 13, 0));
	assert_int_equal(schedule_last(&s, utc(2027, 11, 8, 14, 0)), utc(2027, 11, 8, 14, 0));
}

static void local_times_are_shown_in_the_zone_and_the_process_keeps_its_own(void **state)
{
	struct schedule s = zoned("daily 08:00", "Asia/Tokyo");
	char out[64];
	const char *before = getenv("TZ");
	char *own = before ? strdup(before) : NULL;

	(void)state;
	schedule_time(&s, utc(2027, 1, 1, 23, 0), SCHEDULE_MINUTE, out, sizeof(out));
	assert_string_equal(out, "Sat 2027-01-02 08:00 JST");
	schedule_time(&s, utc(2027, 1, 1, 23, 0), SCHEDULE_RFC3339, out, sizeof(out));
	assert_string_equal(out, "2027-01-02T08:00:00+09:00");
	schedule_describe(&s, out, sizeof(out));
	assert_string_equal(out, "daily 08:00 Asia/Tokyo");
	if (own == NULL)
		assert_null(getenv("TZ"));
	else
		assert_string_equal(getenv("TZ"), own);
	free(own);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(schedules_are_read_and_bad_ones_named),
		cmocka_unit_test(zones_are_checked_against_tzdata),
		cmocka_unit_test(daily_keeps_its_local_time_across_summer_time),
		cmocka_unit_test(a_deadline_the_clock_skips_falls_after_the_jump),
		cmocka_unit_test(a_deadline_the_clock_shows_twice_is_the_first_and_only),
		cmocka_unit_test(weekly_finds_its_day),
		cmocka_unit_test(local_times_are_shown_in_the_zone_and_the_process_keeps_its_own),
	};

	return cmocka_run_group_tests_name("schedule", tests, NULL, NULL);
}
