/* gzip bodies of the agent protocol: the agent compresses a large
 * check-in (Content-Encoding: gzip), the server inflates it under a cap,
 * so that a small body cannot grow into gigabytes (a "gzip bomb"). */
#ifndef PATCHWARDEN_GZIP_H
#define PATCHWARDEN_GZIP_H

#include <stddef.h>

#include "patchwarden/buf.h"
#include "patchwarden/error.h"

/* Appends `len` bytes of `in` to `out` as one gzip member. */
pw_err pw_gzip(const void *in, size_t len, pw_buf *out, pw_error *err);

/* Appends the inflated gzip data (one or more members) of `in` to `out`,
 * NUL-terminated. More than `max` inflated bytes is PW_ERR_TOOLARGE,
 * found as soon as byte max + 1 comes out, so at most max + 1 bytes are
 * ever held; damaged or truncated data is PW_ERR_PARSE. `what` names
 * the input in messages. On error `out` holds a part. */
pw_err pw_gunzip(const void *in, size_t len, size_t max, const char *what, pw_buf *out,
		 pw_error *err);

#endif
