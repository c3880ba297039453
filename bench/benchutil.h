/* Shared timing helpers for bench_*.c. */
#ifndef PATCHWARDEN_BENCHUTIL_H
#define PATCHWARDEN_BENCHUTIL_H

#include <stddef.h>

/* Monotonic clock in nanoseconds. */
double bench_now_ns(void);
/* Peak resident set size of this process in KiB (from /proc/self/status). */
long bench_peak_rss_kib(void);
/* Where ../shared/data is: $PW_SHARED_DATA, else the path configured at build time. */
const char *bench_shared_data(void);

#endif
