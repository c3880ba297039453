#include "patchwarden/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Writes t (and millis when millis >= 0) as ISO-8601 UTC into out, which
 * holds at least PW_TS_LEN bytes. */
static void format(time_t t, int millis, char *out, size_t size)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	/* Years past 9999 would widen the text and break its ordering. */
	if (tm.tm_year > 9999 - 1900) {
		snprintf(out, size, "%s",
			 millis >= 0 ? "9999-12-31T23:59:59.999Z" : "9999-12-31T23:59:59Z");
		return;
	}
	/* The compiler cannot see that struct tm's fields are in range. */
	char buf[80];
	int n = snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (millis >= 0)
		snprintf(buf + n, sizeof buf - (size_t)n, ".%03dZ", millis);
	else
		snprintf(buf + n, sizeof buf - (size_t)n, "Z");
	size_t len = strlen(buf);
	if (len >= size)
		len = size - 1;
	memcpy(out, buf, len);
	out[len] = '\0';
}

void pw_ts_now(char out[PW_TS_LEN], int64_t plus_seconds)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	format(ts.tv_sec + (time_t)plus_seconds, (int)(ts.tv_nsec / 1000000), out, PW_TS_LEN);
}

void pw_ts_seconds(int64_t t, char out[PW_TS_SECONDS_LEN])
{
	format((time_t)t, -1, out, PW_TS_SECONDS_LEN);
}

void pw_ts_seconds_now(char out[PW_TS_SECONDS_LEN])
{
	pw_ts_seconds(time(NULL), out);
}

/* Days from 1970-01-01 to the civil date (H. Hinnant's algorithm): no
 * timegm, so no time zone state. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const unsigned char days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

pw_err pw_ts_parse(const char *what, const char *text, int64_t *out, bool *date_only, pw_error *err)
{
	/* The shape, one character per position: d a digit, others literal. */
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	static const char *const fields[] = {"year", "month", "day", "hour", "minute", "second"};
	static const unsigned char starts[] = {0, 5, 8, 11, 14, 17}, widths[] = {4, 2, 2, 2, 2, 2};
	const char *t = text ? text : "";
	size_t len = strlen(t), i = 0;
	unsigned v[6] = {0, 0, 0, 0, 0, 0};
	for (; i < sizeof shape - 1 && t[i]; i++) {
		bool ok = shape[i] == 'd' ? t[i] >= '0' && t[i] <= '9' : t[i] == shape[i];
		if (!ok)
			break;
	}
	bool date = i == 10 && len == 10;
	size_t end = i;
	if (!date && i == sizeof shape - 1) {
		if (t[i] == '.' && t[i + 1] >= '0' && t[i + 1] <= '9' && t[i + 2] >= '0' &&
		    t[i + 2] <= '9' && t[i + 3] >= '0' && t[i + 3] <= '9')
			i += 4;
		end = t[i] == 'Z' && t[i + 1] == '\0' ? (size_t)-1 : i + (t[i] == 'Z');
	}
	if (!date && end != (size_t)-1)
		return pw_error_set(err, PW_ERR_PARSE,
				    "%s '%.40s': unexpected %s at position %zu: give YYYY-MM-DD or "
				    "YYYY-MM-DDTHH:MM:SSZ (UTC)",
				    what, t, end < len ? "character" : "end", end + 1);
	for (size_t f = 0; f < (date ? 3u : 6u); f++)
		for (size_t k = 0; k < widths[f]; k++)
			v[f] = v[f] * 10 + (unsigned)(t[starts[f] + k] - '0');
	unsigned max[6] = {9999, 12, 0, 23, 59, 59};
	unsigned min[6] = {1970, 1, 1, 0, 0, 0};
	for (size_t f = 0; f < (date ? 3u : 6u); f++) {
		if (f == 2)
			max[2] = month_days(v[0], v[1]);
		if (v[f] < min[f] || v[f] > max[f])
			return pw_error_set(err, PW_ERR_PARSE,
					    "%s '%.40s': %s %u at position %u is out of range "
					    "(%u to %u)",
					    what, t, fields[f], v[f], starts[f] + 1u, min[f],
					    max[f]);
	}
	*out = days_from_civil(v[0], v[1], v[2]) * 86400 + (int64_t)v[3] * 3600 +
	       (int64_t)v[4] * 60 + v[5];
	if (date_only)
		*date_only = date;
	return PW_OK;
}
