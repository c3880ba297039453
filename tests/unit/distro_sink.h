/* Test sink shared by the distro feed tests (test_feed_debian.c,
 * test_feed_ubuntu.c, test_feed_alpine.c): counts what a parser emits,
 * checks the invariants every record must hold, and renders chosen
 * records as text so a test can compare them field by field. Included by
 * one test executable each, so everything here is static inline (no
 * unused-function warnings where a test needs only part of it). */
#ifndef PW_TEST_DISTRO_SINK_H
#define PW_TEST_DISTRO_SINK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "patchwarden/buf.h"
#include "patchwarden/ecosystem.h"
#include "patchwarden/feed.h"
#include "patchwarden/fileio.h"

typedef pw_err (*parse_fn)(const char *data, size_t len, const char *name, const pw_feed_sink *sink,
			   pw_error *err);

typedef struct eco_count {
	char eco[PW_ECOSYSTEM_MAX];
	size_t rows;
	size_t fixed;
} eco_count;

typedef struct tsink {
	const char *eco_prefix; /* every row's ecosystem starts with this */
	bool by_source;         /* every row's by_source */
	const char *want;       /* render advisories with this id into `dump`; "*" = all */
	pw_err fail_with;       /* returned by the advisory callback when non-zero */
	size_t adv, cves, rows, warns;
	size_t state[5];
	size_t severity[PW_SEV_CRITICAL + 1];
	size_t attack_vector[PW_AV_PHYSICAL + 1];
	eco_count ecos[64];
	size_t n_ecos;
	pw_buf dump;     /* rendered advisories */
	pw_buf warnings; /* "where|message\n" per warning */
	char bad[256];   /* first broken invariant, "" if none */
} tsink;

static const char *const state_names[5] = {"fixed", "unfixed", "not-affected", "dne", "ignored"};

static inline void tsink_init(tsink *t, const char *eco_prefix, bool by_source)
{
	memset(t, 0, sizeof *t);
	t->eco_prefix = eco_prefix;
	t->by_source = by_source;
	t->dump = (pw_buf)PW_BUF_INIT;
	t->warnings = (pw_buf)PW_BUF_INIT;
}

static inline void tsink_release(tsink *t)
{
	pw_buf_release(&t->dump);
	pw_buf_release(&t->warnings);
}

static inline void invariant(tsink *t, bool ok, const char *what, const char *id)
{
	if (!ok && !t->bad[0])
		snprintf(t->bad, sizeof t->bad, "%s: %s", id ? id : "(null id)", what);
}

static inline void count_eco(tsink *t, const pw_affected *r)
{
	size_t i = 0;
	while (i < t->n_ecos && strcmp(t->ecos[i].eco, r->ecosystem))
		i++;
	if (i == t->n_ecos) {
		if (i == sizeof t->ecos / sizeof t->ecos[0])
			return;
		snprintf(t->ecos[i].eco, sizeof t->ecos[i].eco, "%s", r->ecosystem);
		t->n_ecos++;
	}
	t->ecos[i].rows++;
	t->ecos[i].fixed += r->state == PW_FIX_FIXED;
}

static inline const char *or_dash(const char *s)
{
	return s ? s : "-";
}

static inline pw_err tsink_advisory(void *ctx, const pw_advisory *a, pw_error *err)
{
	tsink *t = ctx;
	t->adv++;
	t->cves += a->n_cves;
	t->rows += a->n_affected;
	invariant(t, a->id && a->id[0], "no id", a->id);
	invariant(t, a->source && a->source[0], "no source", a->id);
	invariant(t, !a->n_cves || a->cves, "cves NULL", a->id);
	invariant(t, (unsigned)a->severity <= PW_SEV_CRITICAL, "severity out of range", a->id);
	invariant(t, (unsigned)a->attack_vector <= PW_AV_PHYSICAL, "attack vector out of range",
		  a->id);
	if ((unsigned)a->severity <= PW_SEV_CRITICAL)
		t->severity[a->severity]++;
	if ((unsigned)a->attack_vector <= PW_AV_PHYSICAL)
		t->attack_vector[a->attack_vector]++;
	for (size_t i = 0; i < a->n_cves; i++)
		invariant(t, a->cves[i] && a->cves[i][0], "empty cve", a->id);
	for (size_t i = 0; i < a->n_affected; i++) {
		const pw_affected *r = &a->affected[i];
		invariant(t,
			  r->ecosystem &&
				  !strncmp(r->ecosystem, t->eco_prefix, strlen(t->eco_prefix)),
			  "wrong ecosystem", a->id);
		invariant(t, r->package && r->package[0], "no package", a->id);
		invariant(t, r->by_source == t->by_source, "by_source", a->id);
		invariant(t, (unsigned)r->state <= PW_FIX_IGNORED, "state out of range", a->id);
		invariant(t, (r->state == PW_FIX_FIXED) == (r->fixed != NULL),
			  "fixed version iff state fixed", a->id);
		if ((unsigned)r->state <= PW_FIX_IGNORED)
			t->state[r->state]++;
		if (r->ecosystem)
			count_eco(t, r);
	}
	if (t->want && a->id && (!strcmp(t->want, "*") || !strcmp(t->want, a->id))) {
		pw_buf_printf(&t->dump, "%s|%s|%s|%s|sev=%d|av=%d|%s\n", a->id, a->source,
			      or_dash(a->published), or_dash(a->summary), (int)a->severity,
			      (int)a->attack_vector, or_dash(a->cvss_vector));
		for (size_t i = 0; i < a->n_cves; i++)
			pw_buf_printf(&t->dump, " cve %s\n", a->cves[i]);
		for (size_t i = 0; i < a->n_affected; i++) {
			const pw_affected *r = &a->affected[i];
			pw_buf_printf(&t->dump, " row %s|%s|%s|%s|%s\n", r->ecosystem, r->package,
				      (unsigned)r->state <= 4 ? state_names[r->state] : "?",
				      or_dash(r->fixed), or_dash(r->note));
		}
	}
	if (t->fail_with)
		return pw_error_set(err, t->fail_with, "sink refused %s", a->id);
	return PW_OK;
}

static inline void tsink_warn(void *ctx, const char *where, const char *message)
{
	tsink *t = ctx;
	t->warns++;
	pw_buf_printf(&t->warnings, "%s|%s\n", where, message);
}

static inline pw_feed_sink tsink_sink(tsink *t)
{
	pw_feed_sink s = {.ctx = t, .advisory = tsink_advisory, .warn = tsink_warn};
	return s;
}

static inline size_t eco_rows(const tsink *t, const char *eco, bool fixed_only)
{
	for (size_t i = 0; i < t->n_ecos; i++)
		if (!strcmp(t->ecos[i].eco, eco))
			return fixed_only ? t->ecos[i].fixed : t->ecos[i].rows;
	return 0;
}

/* Ecosystem name as the library spells it, so tests of old releases do
 * not hard-code the spelling of e.g. woody. */
static inline const char *eco_of(const char *distro, const char *release,
				 char out[PW_ECOSYSTEM_MAX])
{
	pw_error e = PW_ERROR_INIT;
	if (pw_ecosystem_from_release(distro, release, out, &e))
		fail_msg("%s %s: %s", distro, release, pw_error_text(&e));
	return out;
}

/* $PW_SHARED_DATA/<rel> into *b; fails the test if unreadable. */
static inline void load_shared(const char *rel, pw_buf *b)
{
	const char *root = getenv("PW_SHARED_DATA");
	char path[4096];
	pw_error e = PW_ERROR_INIT;
	if (!root)
		fail_msg("PW_SHARED_DATA is not set (ctest sets it)");
	snprintf(path, sizeof path, "%s/%s", root, rel);
	pw_buf_reset(b);
	if (pw_read_file(path, b, 0, &e))
		fail_msg("%s", pw_error_text(&e));
}

/* Parses text given inline; returns the parser's result. */
static inline pw_err parse_text(parse_fn fn, const char *text, size_t len, const char *name,
				tsink *t, pw_error *e)
{
	pw_feed_sink s = tsink_sink(t);
	return fn(text, len, name, &s, e);
}

static inline pw_err parse_str(parse_fn fn, const char *text, const char *name, tsink *t,
			       pw_error *e)
{
	return parse_text(fn, text, strlen(text), name, t, e);
}

/* Parses a whole shared-data file, naming it by its relative path; the
 * file must also be detected as `format` (PW_FEED_UNKNOWN: not checked). */
static inline void parse_shared_as(parse_fn fn, pw_feed_format format, const char *rel, tsink *t)
{
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	load_shared(rel, &b);
	if (format != PW_FEED_UNKNOWN && pw_feed_detect(pw_buf_str(&b), b.len, rel) != format)
		fail_msg("%s: detected as %s, want %s", rel,
			 pw_feed_format_name(pw_feed_detect(pw_buf_str(&b), b.len, rel)),
			 pw_feed_format_name(format));
	pw_err rc = parse_text(fn, pw_buf_str(&b), b.len, rel, t, &e);
	pw_buf_release(&b);
	if (rc)
		fail_msg("%s: %s", rel, pw_error_text(&e));
}

static inline void parse_shared(parse_fn fn, const char *rel, tsink *t)
{
	parse_shared_as(fn, PW_FEED_UNKNOWN, rel, t);
}

static inline double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The same text with every "\n" made "\r\n". */
static inline char *to_crlf(const char *s, size_t *len)
{
	pw_buf b = PW_BUF_INIT;
	for (; *s; s++)
		if ((*s == '\n' && pw_buf_putc(&b, '\r')) || pw_buf_putc(&b, *s))
			fail_msg("out of memory");
	*len = b.len;
	return pw_buf_detach(&b);
}

static inline void assert_clean(const tsink *t)
{
	if (t->bad[0])
		fail_msg("invariant broken: %s", t->bad);
}

#endif
