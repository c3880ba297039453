/* FIRST EPSS scores, in both shapes seen in the wild:
 *
 *   official daily file (epss_scores-YYYY-MM-DD.csv, gzip inflated by the
 *   caller):
 *     #model_version:v2023.03.01,score_date:2025-02-20T00:00:00+0000
 *     cve,epss,percentile
 *     CVE-1999-0001,0.00383,0.73075
 *   headerless per-year files ("CVE-ID;epss;percentile"):
 *     CVE-2021-44228;0.999990000;1.000000000
 *
 * '#' lines are comments wherever they are. The first other line is the
 * header unless it starts with "CVE-"; its column names (any order,
 * any case, ',' or ';') must include cve, epss and percentile, otherwise
 * the file is not EPSS and the parse fails. A missing score_date is
 * accepted: pw_epss_entry carries no date, the snapshot that imports the
 * scores dates them. A bad line is skipped with a "file:line" warning.
 *
 * 360k lines must take milliseconds, so nothing is allocated per line:
 * fields are located in place and only copied to the stack to be
 * NUL-terminated. */
#include "feeds-internal.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "patchwarden/feed.h"

/* Where the three columns are; -1 until the header names them. */
typedef struct epss_cols {
	int cve, epss, pct;
	int n; /* fields per line */
	char delim;
} epss_cols;

/* Upper bound on header columns: the real files have three. */
#define EPSS_MAX_COLS 64

static void warn_line(const pw_feed_sink *sink, const char *name, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void warn_line(const pw_feed_sink *sink, const char *name, size_t line, const char *fmt, ...)
{
	if (!sink->warn)
		return;
	char where[1024], msg[256];
	snprintf(where, sizeof where, "%s:%zu", name, line);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sink->warn(sink->ctx, where, msg);
}

static pw_err read_header(const char *p, const char *end, const char *name, size_t line,
			  epss_cols *c, pw_error *err)
{
	c->delim = memchr(p, ',', (size_t)(end - p)) || !memchr(p, ';', (size_t)(end - p)) ? ','
											   : ';';
	c->cve = c->epss = c->pct = -1;
	c->n = 0;
	for (const char *f = p; f <= end && c->n < EPSS_MAX_COLS; c->n++) {
		const char *fe = memchr(f, c->delim, (size_t)(end - f));
		if (!fe)
			fe = end;
		const char *a = f, *b = fe;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		size_t n = (size_t)(b - a);
		if (n == 3 && strncasecmp(a, "cve", 3) == 0)
			c->cve = c->n;
		else if (n == 4 && strncasecmp(a, "epss", 4) == 0)
			c->epss = c->n;
		else if (n == 10 && strncasecmp(a, "percentile", 10) == 0)
			c->pct = c->n;
		f = fe + 1;
	}
	if (c->cve < 0 || c->epss < 0 || c->pct < 0) {
		int shown = end - p > 80 ? 80 : (int)(end - p);
		return pw_error_set(
			err, PW_ERR_PARSE,
			"%s:%zu: header '%.*s' lacks the cve, epss and percentile columns; "
			"not an EPSS score file",
			name, line, shown, p);
	}
	return PW_OK;
}

/* A probability written as a decimal number in [0, 1]. */
static bool parse_prob(const char *s, size_t len, double *out)
{
	/* Fast path for the files' "0.000430000": digits, '.', at most 15
	 * digits in all. Mantissa and 10^k are then exact doubles, so one
	 * division rounds exactly as strtod does, at a fraction of its cost. */
	static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
				       1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
	uint64_t mant = 0;
	size_t digits = 0, frac = 0, k = 0;
	bool dot = false;
	for (; k < len && digits <= 15; k++) {
		if (s[k] == '.' && !dot) {
			dot = true;
		} else if (s[k] >= '0' && s[k] <= '9') {
			mant = mant * 10 + (uint64_t)(s[k] - '0');
			digits++;
			frac += dot;
		} else {
			break;
		}
	}
	if (k == len && digits && digits <= 15) {
		double v = (double)mant / pow10[frac];
		if (v > 1.0)
			return false;
		*out = v;
		return true;
	}
	/* Anything else (exponents, long digit strings) goes to strtod. */
	char buf[40];
	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	char *e;
	double v = strtod(buf, &e);
	if (e != buf + len || !isfinite(v) || v < 0.0 || v > 1.0)
		return false;
	*out = v;
	return true;
}

static pw_err take_line(const char *p, const char *end, const char *name, size_t line,
			const epss_cols *c, const pw_feed_sink *sink, pw_error *err)
{
	const char *fs[3] = {NULL, NULL, NULL};
	size_t fl[3] = {0, 0, 0};
	int n = 0;
	for (const char *f = p;;) {
		const char *fe = memchr(f, c->delim, (size_t)(end - f));
		if (!fe)
			fe = end;
		int slot = n == c->cve ? 0 : n == c->epss ? 1 : n == c->pct ? 2 : -1;
		if (slot >= 0) {
			fs[slot] = f;
			fl[slot] = (size_t)(fe - f);
		}
		n++;
		if (fe == end || n > c->n)
			break;
		f = fe + 1;
	}
	if (n != c->n) {
		warn_line(sink, name, line, "not %d fields separated by '%c'", c->n, c->delim);
		return PW_OK;
	}
	char cve[32];
	if (!pw_feed_is_cve(fs[0], fl[0])) {
		int shown = fl[0] > 40 ? 40 : (int)fl[0];
		warn_line(sink, name, line, "'%.*s' is not a CVE id like CVE-2021-44228", shown,
			  fs[0]);
		return PW_OK;
	}
	memcpy(cve, fs[0], fl[0]);
	cve[fl[0]] = '\0';
	pw_epss_entry e = {.cve = cve};
	if (!parse_prob(fs[1], fl[1], &e.score) || !parse_prob(fs[2], fl[2], &e.percentile)) {
		warn_line(sink, name, line, "%s: epss and percentile must be numbers from 0 to 1",
			  cve);
		return PW_OK;
	}
	return sink->epss ? sink->epss(sink->ctx, &e, err) : PW_OK;
}

pw_err pw_feed_parse_epss(const char *data, size_t len, const char *name, const pw_feed_sink *sink,
			  pw_error *err)
{
	const char *p = data ? data : "", *end = p + (data ? len : 0);
	if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	epss_cols cols = {-1, -1, -1, 0, 0};
	size_t line = 0;
	for (const char *next; p < end; p = next) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		next = nl ? nl + 1 : end;
		line++;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p || *p == '#')
			continue;
		if (cols.n == 0) {
			if (le - p < 4 || memcmp(p, "CVE-", 4) != 0) {
				pw_err rc = read_header(p, le, name, line, &cols, err);
				if (rc)
					return rc;
				continue;
			}
			/* Headerless: cve, epss, percentile, split by whichever
			 * separator follows the CVE id. */
			const char *d = p;
			while (d < le && *d != ',' && *d != ';')
				d++;
			cols = (epss_cols){0, 1, 2, 3, d < le ? *d : ','};
		}
		pw_err rc = take_line(p, le, name, line, &cols, sink, err);
		if (rc)
			return rc;
	}
	if (cols.n == 0)
		return pw_error_set(
			err, PW_ERR_PARSE,
			"%s: no EPSS scores: neither a 'cve,epss,percentile' header nor "
			"'CVE-...' lines",
			name);
	return PW_OK;
}
