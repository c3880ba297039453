#include "patchwarden/window.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "patchwarden/buf.h"

#define DAY 86400
#define WEEK (7 * DAY)

static const char *const day_names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

static int day_at(const char **p)
{
	for (int d = 0; d < 7; d++) {
		if (!strncasecmp(*p, day_names[d], 3)) {
			*p += 3;
			return d;
		}
	}
	return -1;
}

/* "HH:MM" into minutes; 24:00 only as an end. */
static int clock_at(const char *s, bool end)
{
	if (s[0] < '0' || s[0] > '2' || s[1] < '0' || s[1] > '9' || s[2] != ':' || s[3] < '0' ||
	    s[3] > '5' || s[4] < '0' || s[4] > '9')
		return -1;
	int h = (s[0] - '0') * 10 + s[1] - '0', m = (s[3] - '0') * 10 + s[4] - '0';
	if (h > 24 || (h == 24 && (m || !end)))
		return -1;
	return h * 60 + m;
}

static pw_err bad(const char *text, pw_error *err)
{
	return pw_error_set(err, PW_ERR_INVALID,
			    "maintenance_window '%.60s' is not DAYS HH:MM-HH:MM or always", text);
}

/* Appends s to b, when there is a b. */
static pw_err put(pw_buf *b, const char *s)
{
	return b ? pw_buf_puts(b, s) : PW_OK;
}

/* Parses text into *out and, when canon is not NULL, appends its stored
 * form there (canonical day names). */
static pw_err parse(const char *text, pw_window *out, pw_buf *canon, pw_error *err)
{
	*out = (pw_window){.always = false};
	const char *p = text ? text : "";
	pw_buf *b = canon;
	if (!strcasecmp(p, "always")) {
		out->always = true;
		return put(b, "always") ? pw_error_set(err, PW_ERR_NOMEM, "out of memory") : PW_OK;
	}
	if (!strncasecmp(p, "daily", 5)) {
		p += 5;
		out->days = 0x7f;
		if (put(b, "daily"))
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	} else {
		for (;;) {
			int d = day_at(&p), e = d;
			if (d < 0)
				return bad(text, err);
			pw_err rc = put(b, day_names[d]);
			if (*p == '-') {
				p++;
				e = day_at(&p);
				if (e < 0 || e == d)
					return bad(text, err);
				rc = rc ? rc : put(b, "-");
				rc = rc ? rc : put(b, day_names[e]);
			}
			for (int i = d;; i = (i + 1) % 7) {
				out->days |= (unsigned char)(1u << i);
				if (i == e)
					break;
			}
			if (*p == ',')
				rc = rc ? rc : put(b, ",");
			if (rc)
				return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
			if (*p != ',')
				break;
			p++;
		}
	}
	if (*p != ' ' || strlen(p + 1) != 11 || p[6] != '-')
		return bad(text, err);
	int start = clock_at(p + 1, false), end = clock_at(p + 7, true);
	if (start < 0 || end < 0 || start == end % 1440)
		return bad(text, err);
	out->start = start;
	out->duration = ((end - start) % 1440 + 1440) % 1440;
	if (put(b, " ") || put(b, p + 1))
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	return PW_OK;
}

pw_err pw_window_parse(const char *text, pw_window *out, pw_error *err)
{
	return parse(text, out, NULL, err);
}

pw_err pw_window_canonical(const char *text, pw_buf *out, pw_error *err)
{
	pw_window w;
	return parse(text, &w, out, err);
}

/* The weekday of the day that begins at `day_start` (1970-01-01 was a
 * Thursday: 3 counting from Monday). */
static int weekday(int64_t day_start)
{
	int64_t d = day_start / DAY;
	return (int)(((d + 3) % 7 + 7) % 7);
}

static int64_t floor_day(int64_t t)
{
	int64_t d = t / DAY;
	if (t % DAY < 0)
		d--;
	return d * DAY;
}

bool pw_window_at(const pw_window *w, int64_t t, int64_t *start, int64_t *end)
{
	if (w->always) {
		if (start)
			*start = t;
		if (end)
			*end = INT64_MAX;
		return true;
	}
	/* A window is shorter than a day: one that holds t started today or
	 * yesterday. */
	for (int64_t day = floor_day(t) - DAY; day <= floor_day(t); day += DAY) {
		int64_t s = day + (int64_t)w->start * 60, e = s + (int64_t)w->duration * 60;
		if ((w->days >> weekday(day) & 1) && s <= t && t < e) {
			if (start)
				*start = s;
			if (end)
				*end = e;
			return true;
		}
	}
	return false;
}

void pw_window_next(const pw_window *w, int64_t t, int64_t *start, int64_t *end)
{
	*start = t;
	*end = INT64_MAX;
	if (w->always || !w->days)
		return;
	for (int64_t day = floor_day(t); day <= floor_day(t) + WEEK; day += DAY) {
		int64_t s = day + (int64_t)w->start * 60;
		if ((w->days >> weekday(day) & 1) && s > t) {
			*start = s;
			*end = s + (int64_t)w->duration * 60;
			return;
		}
	}
}

int64_t pw_window_now(void)
{
#ifdef PW_TEST_HOOKS
	const char *v = getenv("PATCHWARDEN_TEST_NOW");
	if (v && *v) {
		char *end;
		long long n = strtoll(v, &end, 10);
		if (!*end)
			return n;
	}
#endif
	return (int64_t)time(NULL);
}
