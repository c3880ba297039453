/* Shared by the feed parser fuzz targets: a sink that reads every byte of
 * every record (so ASan sees dangling or unterminated strings) and aborts
 * when a record breaks the parser's promises. */
#ifndef PATCHWARDEN_FEED_FUZZ_H
#define PATCHWARDEN_FEED_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/feed.h"

static size_t fz_sum;

static inline void fz_touch(const char *s, int required)
{
	if (!s) {
		if (required)
			abort();
		return;
	}
	fz_sum += strlen(s);
}

static inline pw_err fz_advisory(void *ctx, const pw_advisory *a, pw_error *err)
{
	(void)ctx;
	(void)err;
	fz_touch(a->id, 1);
	fz_touch(a->source, 1);
	fz_touch(a->published, 0);
	fz_touch(a->modified, 0);
	fz_touch(a->summary, 0);
	fz_touch(a->cvss_vector, 0);
	if (a->n_affected == 0 || a->severity > PW_SEV_CRITICAL ||
	    a->attack_vector > PW_AV_PHYSICAL)
		abort();
	for (size_t i = 0; i < a->n_cves; i++)
		if (strncmp(a->cves[i], "CVE-", 4) != 0)
			abort();
	for (size_t i = 0; i < a->n_affected; i++) {
		const pw_affected *r = &a->affected[i];
		fz_touch(r->ecosystem, 1);
		fz_touch(r->package, 1);
		fz_touch(r->note, 0);
		if ((r->state == PW_FIX_FIXED) != (r->fixed != NULL) || !r->package[0])
			abort();
	}
	return PW_OK;
}

static inline pw_err fz_kev(void *ctx, const pw_kev_entry *e, pw_error *err)
{
	(void)ctx;
	(void)err;
	fz_touch(e->cve, 1);
	fz_touch(e->date_added, 0);
	fz_touch(e->due_date, 0);
	fz_touch(e->vendor, 0);
	fz_touch(e->product, 0);
	fz_touch(e->name, 0);
	return PW_OK;
}

static inline pw_err fz_epss(void *ctx, const pw_epss_entry *e, pw_error *err)
{
	(void)ctx;
	(void)err;
	fz_touch(e->cve, 1);
	if (!(e->score >= 0.0 && e->score <= 1.0 && e->percentile >= 0.0 && e->percentile <= 1.0))
		abort();
	return PW_OK;
}

static inline void fz_warn(void *ctx, const char *where, const char *message)
{
	(void)ctx;
	fz_touch(where, 1);
	fz_touch(message, 1);
	if (!message[0])
		abort();
}

typedef pw_err (*fz_parser)(const char *data, size_t len, const char *name,
			    const pw_feed_sink *sink, pw_error *err);

/* Runs a parser on the input; a failure must come with a message. */
static inline void fz_run(fz_parser parse, const uint8_t *data, size_t size)
{
	pw_feed_sink sink = {NULL, fz_advisory, fz_kev, fz_epss, fz_warn};
	pw_error e = PW_ERROR_INIT;
	pw_err rc = parse((const char *)data, size, "fuzz", &sink, &e);
	if (rc != PW_OK && (e.code != rc || !e.msg[0]))
		abort();
}

#endif
