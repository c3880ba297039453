/* Maintenance-window arithmetic (window.h): inside or not, the next
 * window, across midnight, the week's end, the year's end and a leap
 * day, all in UTC. Expected instants come from timegm() of calendar
 * dates (2026-12-07 is a Monday), not from the code under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "patchwarden/window.h"

static int64_t at(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi,
			.tm_sec = s};
	return (int64_t)timegm(&tm);
}

static pw_window parse(const char *text)
{
	pw_window w;
	pw_error e = PW_ERROR_INIT;
	if (pw_window_parse(text, &w, &e))
		fail_msg("%s: %s", text, e.msg);
	return w;
}

static void inside(const char *text, int64_t t, int64_t start, int64_t end)
{
	pw_window w = parse(text);
	int64_t s = 0, e = 0;
	if (!pw_window_at(&w, t, &s, &e))
		fail_msg("%s: %lld is not inside", text, (long long)t);
	assert_int_equal(s, start);
	assert_int_equal(e, end);
}

static void outside(const char *text, int64_t t, int64_t next, int64_t next_end)
{
	pw_window w = parse(text);
	if (pw_window_at(&w, t, NULL, NULL))
		fail_msg("%s: %lld is inside", text, (long long)t);
	int64_t s = 0, e = 0;
	pw_window_next(&w, t, &s, &e);
	assert_int_equal(s, next);
	assert_int_equal(e, next_end);
}

static void test_weekly(void **state)
{
	(void)state;
	const char *w = "Sun 01:00-04:00";
	outside(w, at(2026, 12, 7, 4, 0, 0), at(2026, 12, 13, 1, 0, 0), at(2026, 12, 13, 4, 0, 0));
	inside(w, at(2026, 12, 13, 1, 0, 0), at(2026, 12, 13, 1, 0, 0), at(2026, 12, 13, 4, 0, 0));
	inside(w, at(2026, 12, 13, 3, 59, 59), at(2026, 12, 13, 1, 0, 0),
	       at(2026, 12, 13, 4, 0, 0));
	/* The end is not inside; the next is a week later. */
	outside(w, at(2026, 12, 13, 4, 0, 0), at(2026, 12, 20, 1, 0, 0), at(2026, 12, 20, 4, 0, 0));
	outside(w, at(2026, 12, 13, 0, 59, 59), at(2026, 12, 13, 1, 0, 0),
		at(2026, 12, 13, 4, 0, 0));
	/* Lower case, as an operator may type it. */
	inside("sun 01:00-04:00", at(2026, 12, 13, 2, 0, 0), at(2026, 12, 13, 1, 0, 0),
	       at(2026, 12, 13, 4, 0, 0));
}

static void test_midnight(void **state)
{
	(void)state;
	const char *w = "Mon-Fri 22:00-02:00";
	/* Friday's window closes Saturday 02:00. */
	inside(w, at(2026, 12, 11, 23, 30, 0), at(2026, 12, 11, 22, 0, 0),
	       at(2026, 12, 12, 2, 0, 0));
	inside(w, at(2026, 12, 12, 1, 59, 59), at(2026, 12, 11, 22, 0, 0),
	       at(2026, 12, 12, 2, 0, 0));
	outside(w, at(2026, 12, 12, 2, 0, 0), at(2026, 12, 14, 22, 0, 0),
		at(2026, 12, 15, 2, 0, 0));
	/* Sunday night starts no window, so Monday 01:00 is outside. */
	outside(w, at(2026, 12, 14, 1, 0, 0), at(2026, 12, 14, 22, 0, 0),
		at(2026, 12, 15, 2, 0, 0));
	/* Tuesday 01:00 is Monday's window. */
	inside(w, at(2026, 12, 15, 1, 0, 0), at(2026, 12, 14, 22, 0, 0), at(2026, 12, 15, 2, 0, 0));
	/* daily, and an end of 24:00 */
	outside("daily 03:00-04:00", at(2026, 12, 7, 4, 0, 0), at(2026, 12, 8, 3, 0, 0),
		at(2026, 12, 8, 4, 0, 0));
	inside("Sun 22:00-24:00", at(2026, 12, 13, 23, 59, 59), at(2026, 12, 13, 22, 0, 0),
	       at(2026, 12, 14, 0, 0, 0));
}

static void test_week_and_year_end(void **state)
{
	(void)state;
	/* Sunday's window runs into Monday, the next week. */
	inside("Sun 23:00-01:00", at(2026, 12, 14, 0, 30, 0), at(2026, 12, 13, 23, 0, 0),
	       at(2026, 12, 14, 1, 0, 0));
	/* A range that wraps over the week's end: Sat, Sun, Mon. */
	const char *w = "Sat-Mon 20:00-04:00";
	inside(w, at(2026, 12, 15, 3, 0, 0), at(2026, 12, 14, 20, 0, 0), at(2026, 12, 15, 4, 0, 0));
	outside(w, at(2026, 12, 15, 20, 0, 0), at(2026, 12, 19, 20, 0, 0),
		at(2026, 12, 20, 4, 0, 0));
	inside("Sat,Sun 23:00-05:00", at(2026, 12, 14, 4, 0, 0), at(2026, 12, 13, 23, 0, 0),
	       at(2026, 12, 14, 5, 0, 0));
	/* New Year's Eve 2026 is a Thursday. */
	inside("Thu 23:00-01:00", at(2027, 1, 1, 0, 30, 0), at(2026, 12, 31, 23, 0, 0),
	       at(2027, 1, 1, 1, 0, 0));
	outside("Fri 01:00-02:00", at(2026, 12, 31, 12, 0, 0), at(2027, 1, 1, 1, 0, 0),
		at(2027, 1, 1, 2, 0, 0));
	/* 2028 is a leap year: from Monday 28 February the next Saturday is
	 * 4 March; a window that starts on the 29th. */
	outside("Sat 00:00-01:00", at(2028, 2, 28, 12, 0, 0), at(2028, 3, 4, 0, 0, 0),
		at(2028, 3, 4, 1, 0, 0));
	outside("Tue 23:30-00:30", at(2028, 2, 29, 12, 0, 0), at(2028, 2, 29, 23, 30, 0),
		at(2028, 3, 1, 0, 30, 0));
	/* UTC has no daylight saving: the last Sunday of March and of October
	 * have windows of the same length as any other. */
	inside("Sun 01:00-04:00", at(2027, 3, 28, 2, 30, 0), at(2027, 3, 28, 1, 0, 0),
	       at(2027, 3, 28, 4, 0, 0));
	inside("Sun 01:00-04:00", at(2027, 10, 31, 2, 30, 0), at(2027, 10, 31, 1, 0, 0),
	       at(2027, 10, 31, 4, 0, 0));
}

static void test_always_and_errors(void **state)
{
	(void)state;
	pw_window w = parse("always");
	int64_t s, e, t = at(2026, 12, 7, 12, 0, 0);
	assert_true(pw_window_at(&w, t, &s, &e));
	assert_int_equal(s, t);
	assert_int_equal(e, INT64_MAX);
	static const char *const bad[] = {
		"",
		"Sun 01:00",
		"Xyz 01:00-02:00",
		"Sun 01:00-01:00",
		"Sun 25:00-26:00",
		"Sun 01:60-02:00",
		"Sun 24:00-01:00",
		"Sun,01:00-02:00",
		"Sun 1:00-2:00",
		"daily01:00-02:00",
		"never",
		NULL,
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		pw_error err = PW_ERROR_INIT;
		if (pw_window_parse(bad[i], &w, &err) != PW_ERR_INVALID)
			fail_msg("'%s' parsed", bad[i] ? bad[i] : "(null)");
		assert_non_null(strstr(err.msg, "maintenance_window"));
	}
}

static void test_clock_hook(void **state)
{
	(void)state;
	setenv("PATCHWARDEN_TEST_NOW", "1796000000", 1);
#ifdef PW_TEST_HOOKS
	assert_int_equal(pw_window_now(), 1796000000);
#endif
	unsetenv("PATCHWARDEN_TEST_NOW");
	int64_t now = (int64_t)time(NULL);
	assert_true(pw_window_now() - now < 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weekly),
		cmocka_unit_test(test_midnight),
		cmocka_unit_test(test_week_and_year_end),
		cmocka_unit_test(test_always_and_errors),
		cmocka_unit_test(test_clock_hook),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
