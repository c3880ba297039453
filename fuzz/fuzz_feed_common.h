/* Sink shared by the distro feed fuzz targets: reads every string a
 * parser hands over (so ASan sees dangling or unterminated ones) and traps
 * on records that break the pw_advisory contract. */
#ifndef PW_FUZZ_FEED_COMMON_H
#define PW_FUZZ_FEED_COMMON_H

#include <string.h>

#include "patchwarden/feed.h"

static size_t fuzz_touch(const char *s)
{
	return s ? strlen(s) : 0;
}

static pw_err fuzz_advisory(void *ctx, const pw_advisory *a, pw_error *err)
{
	(void)ctx;
	(void)err;
	size_t n = fuzz_touch(a->id) + fuzz_touch(a->source) + fuzz_touch(a->published) +
		   fuzz_touch(a->modified) + fuzz_touch(a->summary) + fuzz_touch(a->cvss_vector);
	if (!a->id || !a->id[0] || !a->source)
		__builtin_trap();
	for (size_t i = 0; i < a->n_cves; i++)
		n += fuzz_touch(a->cves[i]);
	for (size_t i = 0; i < a->n_affected; i++) {
		const pw_affected *r = &a->affected[i];
		n += fuzz_touch(r->ecosystem) + fuzz_touch(r->package) + fuzz_touch(r->fixed) +
		     fuzz_touch(r->note);
		if (!r->ecosystem || !r->package || (unsigned)r->state > PW_FIX_IGNORED ||
		    (r->state == PW_FIX_FIXED) != (r->fixed != NULL))
			__builtin_trap();
	}
	return n == (size_t)-1 ? PW_ERR_INVALID : PW_OK;
}

static void fuzz_warn(void *ctx, const char *where, const char *message)
{
	(void)ctx;
	if (fuzz_touch(where) + fuzz_touch(message) == 0)
		__builtin_trap();
}

static const pw_feed_sink fuzz_sink = {.advisory = fuzz_advisory, .warn = fuzz_warn};

#endif
