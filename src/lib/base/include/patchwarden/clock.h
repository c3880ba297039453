/* The one clock of the library: timestamps as text. */
#ifndef PATCHWARDEN_CLOCK_H
#define PATCHWARDEN_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "patchwarden/error.h"

/* "2026-01-02T03:04:05.678Z": fixed width, so text order is time order
 * and SQL can compare timestamps as strings on both backends. */
#define PW_TS_LEN 25
void pw_ts_now(char out[PW_TS_LEN], int64_t plus_seconds);

/* "2026-01-02T03:04:05Z": the second-precision form of feed snapshots,
 * bundle manifests and the agent's state files. */
#define PW_TS_SECONDS_LEN 21
void pw_ts_seconds(int64_t unix_time, char out[PW_TS_SECONDS_LEN]);
void pw_ts_seconds_now(char out[PW_TS_SECONDS_LEN]);

/* Parses a UTC time in the forms stored and typed: "YYYY-MM-DD" (its
 * midnight; *date_only set), "YYYY-MM-DDTHH:MM:SSZ" and
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" (the milliseconds dropped), years 1970 to
 * 9999. Anything else is PW_ERR_PARSE naming `what` ("--as-of"), the
 * text and the 1-based position of the first character at fault.
 * `date_only` may be NULL. */
pw_err pw_ts_parse(const char *what, const char *text, int64_t *out, bool *date_only,
		   pw_error *err);

#endif
