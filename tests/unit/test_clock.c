/* pw_ts_parse (clock.h): the stored and typed forms of a UTC time, and
 * errors that name the input and the position at fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "patchwarden/clock.h"

static void test_forms(void **state)
{
	(void)state;
	/* Unix times from date(1): date -u -d 2026-12-07 +%s, ... */
	static const struct {
		const char *text;
		int64_t want;
		bool date;
	} ok[] = {
		{"2026-12-07", 1796601600, true},
		{"2026-12-07T18:20:34Z", 1796667634, false},
		{"2026-12-07T18:20:34.678Z", 1796667634, false},
		{"1970-01-01", 0, true},
		{"2024-02-29", 1709164800, true},
		{"2000-02-29T23:59:59Z", 951868799, false},
		{"9999-12-31T23:59:59Z", 253402300799, false},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int64_t t = -1;
		bool date = !ok[i].date;
		pw_error err = PW_ERROR_INIT;
		assert_int_equal(pw_ts_parse("t", ok[i].text, &t, &date, &err), PW_OK);
		assert_int_equal(t, ok[i].want);
		assert_int_equal(date, ok[i].date);
	}
}

static void test_refused(void **state)
{
	(void)state;
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"", "--as-of '': unexpected end at position 1"},
		{"2026-12-0", "unexpected end at position 10"},
		{"2026/12/07", "unexpected character at position 5"},
		{"2026-12-07 18:00:00", "unexpected character at position 11"},
		{"2026-12-07T18:00:00", "unexpected end at position 20"},
		{"2026-12-07T18:00:00+01:00", "unexpected character at position 20"},
		{"2026-12-07T18:00:00Zx", "unexpected character at position 21"},
		{"2026-12-07T18:00:00.5Z", "unexpected character at position 20"},
		{"2026-12-07x", "unexpected character at position 11"},
		{"2026-13-01", "month 13 at position 6 is out of range (1 to 12)"},
		{"2026-00-01", "month 0 at position 6"},
		{"2025-02-29", "day 29 at position 9 is out of range (1 to 28)"},
		{"2026-04-31", "day 31 at position 9"},
		{"1969-12-31", "year 1969 at position 1"},
		{"2026-12-07T24:00:00Z", "hour 24 at position 12"},
		{"2026-12-07T23:60:00Z", "minute 60 at position 15"},
		{"2026-12-07T23:59:60Z", "second 60 at position 18"},
		{"-2026-12-07", "unexpected character at position 1"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t t = 7;
		pw_error err = PW_ERROR_INIT;
		assert_int_equal(pw_ts_parse("--as-of", bad[i].text, &t, NULL, &err), PW_ERR_PARSE);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("%s: got \"%s\", want \"%s\"", bad[i].text, err.msg, bad[i].msg);
		assert_int_equal(t, 7);
	}
	pw_error err = PW_ERROR_INIT;
	int64_t t;
	assert_int_equal(pw_ts_parse("x", NULL, &t, NULL, &err), PW_ERR_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
