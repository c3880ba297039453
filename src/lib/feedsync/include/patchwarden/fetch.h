/* HTTP(S) downloads for `feed sync`: conditional GET from a stored ETag
 * and Last-Modified, retries with exponential backoff and jitter on
 * network errors and 5xx/429 (a Retry-After is honoured), timeouts, a
 * size limit and an optional CA file. Redirects are followed only to
 * http and https URLs, and never from https down to http.
 *
 * The body goes to a hidden temporary file next to `dest` and is renamed
 * to `dest` only once it arrived complete, so `dest` is either absent,
 * its previous content, or the whole new body. */
#ifndef PATCHWARDEN_FETCH_H
#define PATCHWARDEN_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "patchwarden/error.h"

/* Called before each retry: `reason` says why the previous attempt
 * failed ("HTTP 503", "connection refused"); `attempt` is the number of
 * the attempt about to start. */
typedef void (*pw_fetch_retry_fn)(void *ctx, const char *url, unsigned attempt, unsigned attempts,
				  long delay_ms, const char *reason);

/* Bytes of the body received so far; `total` is 0 while unknown. */
typedef void (*pw_fetch_progress_fn)(void *ctx, const char *url, uint64_t done, uint64_t total);

/* Zero fields take the default given in brackets. */
typedef struct pw_fetch_opts {
	const char *ca_file;     /* PEM bundle of trusted CAs [the system's] */
	const char *user_agent;  /* ["patchwarden/VERSION"] */
	long connect_timeout_ms; /* per attempt [15000] */
	long timeout_ms;         /* whole transfer per attempt [900000] */
	long stall_timeout_ms;   /* abort when no byte arrives for this long [60000] */
	uint64_t max_bytes;      /* body size limit after content decoding [1 GiB] */
	unsigned attempts;       /* tries in all, 1 = no retry [4] */
	long retry_delay_ms;     /* first backoff, doubled per retry [2000] */
	long retry_max_delay_ms; /* backoff cap; a longer Retry-After gives up [120000] */
	pw_fetch_retry_fn on_retry;
	pw_fetch_progress_fn on_progress; /* called often: throttle in the callback */
	void *ctx;
} pw_fetch_opts;

/* clang-format off */
#define PW_FETCH_OPTS_INIT {0}
/* clang-format on */

typedef struct pw_fetch_result {
	long status;       /* final HTTP status: 200, or 304 when not modified */
	bool not_modified; /* 304: `dest` was not touched */
	uint64_t bytes;    /* body size written to `dest` */
	unsigned attempts; /* attempts made */
	double seconds;    /* wall time including backoff */
	char etag[256];    /* validators the server sent ("" if none) */
	char last_modified[64];
} pw_fetch_result;

/* Downloads `url` (http or https) to `dest`. `etag` and `last_modified`
 * (NULL or "" for none) make the request conditional; a 304 reply gives
 * PW_OK with out->not_modified set. Errors: PW_ERR_INVALID for a URL
 * that is not http(s), PW_ERR_TOOLARGE over max_bytes, PW_ERR_IO when
 * `dest` cannot be written, PW_ERR_NETWORK for everything the server or
 * the network did, with a message naming the URL, the cause and the
 * number of attempts. `out` is filled on success and failure alike. */
pw_err pw_fetch(const char *url, const char *dest, const char *etag, const char *last_modified,
		const pw_fetch_opts *opts, pw_fetch_result *out, pw_error *err);

/* The delay before retry number `retry` (1 = the first retry): base *
 * 2^(retry-1) capped at `max`, then "equal jitter" (half fixed, half
 * random) so clients that failed together do not return together.
 * Exposed for tests. */
long pw_fetch_backoff_ms(unsigned retry, long base_ms, long max_ms);

#endif
