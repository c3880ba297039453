/* Maintenance windows: when a host may be patched, rebooted or rolled
 * back without an emergency (jobs.h). A host's maintenance_window is
 * "DAYS HH:MM-HH:MM" (hosts.h) in UTC: the server has no idea of a host's
 * local time, and UTC has no daylight-saving gaps or repeats. DAYS are
 * the days a window *starts* on ("daily", "Sat,Sun", "Mon-Fri", a range
 * may wrap: "Fri-Mon"); an end at or before the start runs past midnight
 * into the next day ("Mon-Fri 22:00-02:00": Friday's window closes
 * Saturday 02:00). "always" is the explicit policy "any time". */
#ifndef PATCHWARDEN_WINDOW_H
#define PATCHWARDEN_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "patchwarden/error.h"

typedef struct pw_window {
	bool always;         /* "always": every instant is inside */
	unsigned char days;  /* bit d set: a window starts on day d (0 Monday .. 6 Sunday) */
	int start, duration; /* minutes after 00:00 UTC; 1..1439 minutes long */
} pw_window;

/* Parses a maintenance_window value as hosts.h stores it (any case).
 * PW_ERR_INVALID names it. */
pw_err pw_window_parse(const char *text, pw_window *out, pw_error *err);

/* The stored form of a maintenance_window value (day names as "Mon",
 * "daily", "always"), appended to out; PW_ERR_INVALID as pw_window_parse. */
struct pw_buf;
pw_err pw_window_canonical(const char *text, struct pw_buf *out, pw_error *err);

/* Whether unix time t is inside one of w's windows; if so *start and
 * *end (may be NULL) are that window's, in unix seconds (always: t and
 * INT64_MAX). */
bool pw_window_at(const pw_window *w, int64_t t, int64_t *start, int64_t *end);

/* The first window of w that starts after t: its start and end. */
void pw_window_next(const pw_window *w, int64_t t, int64_t *start, int64_t *end);

/* The clock window decisions use: time(NULL); a test-hooks build
 * (PW_TEST_HOOKS) takes PATCHWARDEN_TEST_NOW (unix seconds) when set, so
 * tests can stand inside or outside a window. */
int64_t pw_window_now(void);

#endif
