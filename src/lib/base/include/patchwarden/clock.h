/* The one clock of the library: timestamps as text. */
#ifndef PATCHWARDEN_CLOCK_H
#define PATCHWARDEN_CLOCK_H

#include <stdint.h>

/* "2026-01-02T03:04:05.678Z": fixed width, so text order is time order
 * and SQL can compare timestamps as strings on both backends. */
#define PW_TS_LEN 25
void pw_ts_now(char out[PW_TS_LEN], int64_t plus_seconds);

/* "2026-01-02T03:04:05Z": the second-precision form of feed snapshots,
 * bundle manifests and the agent's state files. */
#define PW_TS_SECONDS_LEN 21
void pw_ts_seconds(int64_t unix_time, char out[PW_TS_SECONDS_LEN]);
void pw_ts_seconds_now(char out[PW_TS_SECONDS_LEN]);

#endif
