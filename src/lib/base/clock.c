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
