/* Test support for the feed parser tests: loading shared data (inflating
 * .gz as the importer would) and a sink that writes every record as a
 * line of text, so a test states the expected output as one string. */
#ifndef PATCHWARDEN_FEEDTEST_H
#define PATCHWARDEN_FEEDTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <zlib.h>

#include "patchwarden/buf.h"
#include "patchwarden/feed.h"
#include "patchwarden/fileio.h"

/* Appends the content of $PW_SHARED_DATA/rel to b, inflated if .gz. */
static inline void ft_load(const char *rel, pw_buf *b)
{
	const char *root = getenv("PW_SHARED_DATA");
	assert_non_null(root);
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	size_t n = strlen(path);
	if (n > 3 && strcmp(path + n - 3, ".gz") == 0) {
		gzFile gz = gzopen(path, "rb");
		if (!gz)
			fail_msg("%s: cannot open", path);
		char chunk[65536];
		int got;
		while ((got = gzread(gz, chunk, sizeof chunk)) > 0)
			assert_int_equal(pw_buf_append(b, chunk, (size_t)got), PW_OK);
		assert_int_equal(got, 0);
		gzclose(gz);
		return;
	}
	pw_error e = PW_ERROR_INIT;
	if (pw_read_file(path, b, 0, &e))
		fail_msg("%s", pw_error_text(&e));
}

typedef struct ft_sink {
	pw_buf out;      /* one line per record (if `dump`) */
	pw_buf warnings; /* "where: message\n" each */
	int dump;
	size_t advisories, rows, fixed, unfixed, kev, epss, warns;
	long fail_after; /* > 0: the n-th record fails with PW_ERR_STORE */
} ft_sink;

/* clang-format off */
#define FT_SINK_INIT {PW_BUF_INIT, PW_BUF_INIT, 1, 0, 0, 0, 0, 0, 0, 0, 0}
/* clang-format on */

static inline pw_err ft_maybe_fail(ft_sink *s, pw_error *err)
{
	if (s->fail_after > 0 && --s->fail_after == 0)
		return pw_error_set(err, PW_ERR_STORE, "sink refused the record");
	return PW_OK;
}

static inline const char *ft_or(const char *s)
{
	return s ? s : "-";
}

static inline pw_err ft_advisory(void *ctx, const pw_advisory *a, pw_error *err)
{
	ft_sink *s = ctx;
	s->advisories++;
	s->rows += a->n_affected;
	for (size_t i = 0; i < a->n_affected; i++) {
		s->fixed += a->affected[i].state == PW_FIX_FIXED;
		s->unfixed += a->affected[i].state == PW_FIX_UNFIXED;
	}
	if (s->dump) {
		pw_buf *o = &s->out;
		pw_buf_printf(o,
			      "%s source=%s published=%s modified=%s severity=%s av=%s cvss=%s\n",
			      a->id, a->source, ft_or(a->published), ft_or(a->modified),
			      pw_severity_name(a->severity),
			      pw_attack_vector_name(a->attack_vector), ft_or(a->cvss_vector));
		pw_buf_printf(o, " summary=%s\n cves=", ft_or(a->summary));
		for (size_t i = 0; i < a->n_cves; i++)
			pw_buf_printf(o, "%s%s", i ? "," : "", a->cves[i]);
		pw_buf_puts(o, "\n");
		for (size_t i = 0; i < a->n_affected; i++) {
			const pw_affected *r = &a->affected[i];
			pw_buf_printf(o, " %s %s %s %s %s", r->ecosystem, r->package,
				      r->by_source ? "source" : "binary",
				      pw_fix_state_name(r->state), ft_or(r->fixed));
			if (r->note)
				pw_buf_printf(o, " (%s)", r->note);
			pw_buf_puts(o, "\n");
		}
	}
	return ft_maybe_fail(s, err);
}

static inline pw_err ft_kev(void *ctx, const pw_kev_entry *e, pw_error *err)
{
	ft_sink *s = ctx;
	s->kev++;
	if (s->dump)
		pw_buf_printf(&s->out, "%s %s %s %s | %s | %s%s\n", e->cve, ft_or(e->date_added),
			      ft_or(e->due_date), ft_or(e->vendor), ft_or(e->product),
			      ft_or(e->name), e->ransomware ? " ransomware" : "");
	return ft_maybe_fail(s, err);
}

static inline pw_err ft_epss(void *ctx, const pw_epss_entry *e, pw_error *err)
{
	ft_sink *s = ctx;
	s->epss++;
	if (s->dump)
		pw_buf_printf(&s->out, "%s %.5f %.5f\n", e->cve, e->score, e->percentile);
	return ft_maybe_fail(s, err);
}

static inline void ft_warn(void *ctx, const char *where, const char *message)
{
	ft_sink *s = ctx;
	s->warns++;
	pw_buf_printf(&s->warnings, "%s: %s\n", where, message);
}

static inline pw_feed_sink ft_feed_sink(ft_sink *s)
{
	return (pw_feed_sink){s, ft_advisory, ft_kev, ft_epss, ft_warn};
}

static inline void ft_sink_release(ft_sink *s)
{
	pw_buf_release(&s->out);
	pw_buf_release(&s->warnings);
}

/* CPU seconds of this process: timing asserts must not fail because
 * other jobs share the machine. */
static inline double ft_cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
