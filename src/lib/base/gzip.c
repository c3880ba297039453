#include "patchwarden/gzip.h"

#include <stdint.h>
#include <string.h>
#include <zlib.h>

/* zlib counts in unsigned int: feed and take at most this per call. */
#define STEP (1u << 30)

static unsigned step(size_t n)
{
	return n > STEP ? STEP : (unsigned)n;
}

pw_err pw_gzip(const void *in, size_t len, pw_buf *out, pw_error *err)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	/* 16 + MAX_WBITS: a gzip header and trailer; level 6 is zlib's
	 * default and within a few percent of 9 on inventories (benchmarks.md). */
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return pw_error_set(err, PW_ERR_NOMEM, "gzip: out of memory");
	z.next_in = (Bytef *)(uintptr_t)in;
	size_t left = len;
	pw_err rc = PW_OK;
	for (int zr = Z_OK; zr != Z_STREAM_END;) {
		if (z.avail_in == 0 && left) {
			z.avail_in = step(left);
			left -= z.avail_in;
		}
		size_t room = deflateBound(&z, z.avail_in) + 64;
		if (pw_buf_reserve(out, room)) {
			rc = pw_error_set(err, PW_ERR_NOMEM, "gzip: out of memory");
			break;
		}
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = step(out->cap - out->len - 1);
		unsigned before = z.avail_out;
		zr = deflate(&z, left ? Z_NO_FLUSH : Z_FINISH);
		out->len += before - z.avail_out;
		out->data[out->len] = '\0';
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			rc = pw_error_set(err, PW_ERR_EXTERNAL, "gzip: deflate failed (%d)", zr);
			break;
		}
	}
	deflateEnd(&z);
	return rc;
}

pw_err pw_gunzip(const void *in, size_t len, size_t max, const char *what, pw_buf *out,
		 pw_error *err)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return pw_error_set(err, PW_ERR_NOMEM, "%s: zlib: out of memory", what);
	z.next_in = (Bytef *)(uintptr_t)in;
	size_t left = len, start = out->len;
	pw_err rc = PW_OK;
	if (!len)
		rc = pw_error_set(err, PW_ERR_PARSE, "%s: empty gzip data", what);
	while (!rc) {
		if (z.avail_in == 0 && left) {
			z.avail_in = step(left);
			left -= z.avail_in;
		}
		size_t got = out->len - start;
		if (got > max) {
			rc = pw_error_set(err, PW_ERR_TOOLARGE,
					  "%s: inflates to more than %zu bytes", what, max);
			break;
		}
		/* Room for what may still fit and one byte more, which tells
		 * "exactly max" from "beyond": never the whole claimed size. */
		size_t want = max - got + 1;
		if (pw_buf_reserve(out, want < (1u << 20) ? want : (1u << 20))) {
			rc = pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", what);
			break;
		}
		size_t room = out->cap - out->len - 1;
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = step(room < want ? room : want);
		unsigned before = z.avail_out;
		int zr = inflate(&z, Z_NO_FLUSH);
		out->len += before - z.avail_out;
		out->data[out->len] = '\0';
		if (zr == Z_STREAM_END) {
			if (z.avail_in == 0 && left == 0) {
				if (out->len - start > max)
					rc = pw_error_set(err, PW_ERR_TOOLARGE,
							  "%s: inflates to more than %zu bytes",
							  what, max);
				break;
			}
			/* Concatenated members form one stream (RFC 1952). */
			if (inflateReset(&z) != Z_OK)
				rc = pw_error_set(err, PW_ERR_PARSE, "%s: damaged gzip data", what);
			continue;
		}
		if (zr == Z_BUF_ERROR && z.avail_in == 0 && left == 0 && z.avail_out) {
			rc = pw_error_set(err, PW_ERR_PARSE,
					  "%s: truncated gzip data (after %zu of %zu bytes)", what,
					  len - left, len);
			break;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			rc = pw_error_set(err, PW_ERR_PARSE,
					  "%s: damaged gzip data at byte %zu: %s", what,
					  (size_t)(len - left - z.avail_in),
					  z.msg ? z.msg : "inflate failed");
	}
	inflateEnd(&z);
	return rc;
}
