#include "patchwarden/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void pw_ts_now(char out[PW_TS_LEN], int64_t plus_seconds)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	time_t t = ts.tv_sec + (time_t)plus_seconds;
	struct tm tm;
	gmtime_r(&t, &tm);
	/* Years past 9999 would widen the text and break its ordering. */
	if (tm.tm_year > 9999 - 1900) {
		memcpy(out, "9999-12-31T23:59:59.999Z", PW_TS_LEN);
		return;
	}
	/* The compiler cannot see that struct tm's fields are in range. */
	char buf[80];
	snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ts.tv_nsec / 1000000));
	memcpy(out, buf, PW_TS_LEN - 1);
	out[PW_TS_LEN - 1] = '\0';
}
