#include "feeds-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/grow.h"

pw_dspan pw_dspan_z(const char *s)
{
	pw_dspan r = {s, s ? strlen(s) : 0};
	return r;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

pw_dspan pw_dspan_trim(pw_dspan s)
{
	while (s.n && is_blank(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && is_blank(s.p[s.n - 1]))
		s.n--;
	return s;
}

bool pw_dspan_eq(pw_dspan s, const char *z)
{
	size_t n = strlen(z);
	return s.n == n && (n == 0 || memcmp(s.p, z, n) == 0);
}

bool pw_dspan_starts(pw_dspan s, const char *z)
{
	size_t n = strlen(z);
	return s.n >= n && (n == 0 || memcmp(s.p, z, n) == 0);
}

size_t pw_dspan_index(pw_dspan s, char c)
{
	const char *q = s.n ? memchr(s.p, c, s.n) : NULL;
	return q ? (size_t)(q - s.p) : s.n;
}

pw_dspan pw_dspan_word(pw_dspan *s)
{
	*s = pw_dspan_trim(*s);
	size_t i = 0;
	while (i < s->n && s->p[i] != ' ' && s->p[i] != '\t')
		i++;
	pw_dspan w = {s->p, i};
	s->p += i;
	s->n -= i;
	return w;
}

bool pw_distro_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return pw_distro_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool pw_distro_is_id(pw_dspan s)
{
	if (s.n >= 3 && (s.p[0] == 'C' || s.p[0] == 'c') && (s.p[1] == 'V' || s.p[1] == 'v') &&
	    (s.p[2] == 'E' || s.p[2] == 'e'))
		return pw_feed_is_cve(s.p, s.n);
	if (s.n == 0 || !is_alnum(s.p[0]) || pw_distro_is_digit(s.p[0]))
		return false;
	size_t dashes = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] == '-') {
			if (i + 1 == s.n || s.p[i + 1] == '-')
				return false;
			dashes++;
		} else if (!is_alnum(s.p[i])) {
			return false;
		}
	}
	return dashes > 0;
}

bool pw_distro_is_version(pw_dspan s)
{
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c <= ' ' || c == 0x7f || c == '(' || c == ')')
			return false;
	}
	return true;
}

void pw_dlines_init(pw_dlines *it, const char *data, size_t len)
{
	it->p = data;
	it->end = data + len;
	it->lineno = 0;
}

bool pw_dlines_next(pw_dlines *it, pw_dspan *line)
{
	if (it->p >= it->end)
		return false;
	const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
	const char *stop = nl ? nl : it->end;
	line->p = it->p;
	line->n = (size_t)(stop - it->p);
	if (line->n && line->p[line->n - 1] == '\r')
		line->n--;
	it->p = nl ? nl + 1 : it->end;
	it->lineno++;
	return true;
}

void pw_distro_warn(const pw_feed_sink *sink, const char *name, size_t line, const char *field,
		    const char *fmt, ...)
{
	if (!sink->warn)
		return;
	char where[512], msg[512];
	int n = snprintf(where, sizeof where, "%s", name);
	if (line && n >= 0 && (size_t)n < sizeof where)
		n += snprintf(where + n, sizeof where - (size_t)n, ":%zu", line);
	if (field && n >= 0 && (size_t)n < sizeof where)
		snprintf(where + n, sizeof where - (size_t)n, ": %s", field);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sink->warn(sink->ctx, where, msg);
}

pw_err pw_distro_ecosystem(const char *distro, pw_dspan release, char out[PW_ECOSYSTEM_MAX],
			   pw_error *err)
{
	char word[PW_ECOSYSTEM_MAX];
	if (release.n == 0 || release.n >= sizeof word || memchr(release.p, '\0', release.n))
		return pw_error_set(err, PW_ERR_NOTFOUND, "'%.*s' is not a %s release name",
				    PW_DSPAN_CLIP(release), distro);
	memcpy(word, release.p, release.n);
	word[release.n] = '\0';
	return pw_ecosystem_from_release(distro, word, out, err);
}

void pw_dadv_reset(pw_dadv *a)
{
	pw_buf_reset(&a->strs);
	a->id = a->published = a->modified = a->summary = a->cvss_vector = PW_DADV_NONE;
	a->severity = PW_SEV_UNKNOWN;
	a->attack_vector = PW_AV_UNKNOWN;
	a->n_cves = 0;
	a->n_rows = 0;
}

void pw_dadv_release(pw_dadv *a)
{
	pw_buf_release(&a->strs);
	free(a->cves);
	free(a->rows);
	free(a->cve_view);
	free(a->row_view);
	*a = (pw_dadv)PW_DADV_INIT;
}

pw_err pw_dadv_str(pw_dadv *a, pw_dspan s, size_t *off)
{
	if (!s.p) {
		*off = PW_DADV_NONE;
		return PW_OK;
	}
	size_t at = a->strs.len;
	pw_err rc = pw_buf_append(&a->strs, s.p, s.n);
	if (!rc)
		rc = pw_buf_putc(&a->strs, '\0');
	if (rc)
		return rc;
	*off = at;
	return PW_OK;
}

pw_err pw_dadv_set_summary(pw_dadv *a, pw_dspan s)
{
	s = pw_dspan_trim(s);
	if (s.n == 0) {
		a->summary = PW_DADV_NONE;
		return PW_OK;
	}
	a->summary = a->strs.len;
	bool gap = false;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c <= ' ' || c == 0x7f) {
			gap = true;
			continue;
		}
		if ((gap && pw_buf_putc(&a->strs, ' ')) || pw_buf_putc(&a->strs, (char)c))
			return PW_ERR_NOMEM;
		gap = false;
	}
	return pw_buf_putc(&a->strs, '\0');
}

const char *pw_dadv_at(const pw_dadv *a, size_t off)
{
	return off == PW_DADV_NONE ? NULL : a->strs.data + off;
}

/* Grows the array whose pointer is stored at `slot` (elements of `size`
 * bytes) to hold at least `need`, for the views rebuilt whole by each
 * emit (appends use pw_grow). The pointer goes through memcpy so one
 * helper serves every element type. */
static pw_err grow(void *slot, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return PW_OK;
	size_t n = *cap ? *cap : 8;
	while (n < need)
		n *= 2;
	if (n > (size_t)-1 / size)
		return PW_ERR_NOMEM;
	void *old;
	memcpy(&old, slot, sizeof old);
	void *p = realloc(old, n * size);
	if (!p)
		return PW_ERR_NOMEM;
	memcpy(slot, &p, sizeof p);
	*cap = n;
	return PW_OK;
}

pw_err pw_dadv_add_cve(pw_dadv *a, pw_dspan id)
{
	for (size_t i = 0; i < a->n_cves; i++) {
		const char *have = a->strs.data + a->cves[i];
		if (strlen(have) == id.n && memcmp(have, id.p, id.n) == 0)
			return PW_OK;
	}
	size_t *v = pw_grow(a->cves, &a->cap_cves, a->n_cves, sizeof *v);
	if (!v)
		return PW_ERR_NOMEM;
	a->cves = v;
	pw_err rc = pw_dadv_str(a, id, &a->cves[a->n_cves]);
	if (rc)
		return rc;
	a->n_cves++;
	return PW_OK;
}

pw_err pw_dadv_add_row(pw_dadv *a, const pw_dadv_rowin *in)
{
	pw_dadv_row *v = pw_grow(a->rows, &a->cap_rows, a->n_rows, sizeof *v);
	if (!v)
		return PW_ERR_NOMEM;
	a->rows = v;
	pw_err rc;
	pw_dadv_row *r = &a->rows[a->n_rows];
	r->by_source = in->by_source;
	r->state = in->state;
	if ((rc = pw_dadv_str(a, in->ecosystem, &r->ecosystem)) ||
	    (rc = pw_dadv_str(a, in->package, &r->package)) ||
	    (rc = pw_dadv_str(a, in->fixed, &r->fixed)) ||
	    (rc = pw_dadv_str(a, in->note, &r->note)))
		return rc;
	a->n_rows++;
	return PW_OK;
}

pw_err pw_dadv_emit(pw_dadv *a, const char *source, const pw_feed_sink *sink, pw_error *err)
{
	if (!sink->advisory)
		return PW_OK;
	if (grow(&a->cve_view, &a->cap_cve_view, a->n_cves, sizeof *a->cve_view) ||
	    grow(&a->row_view, &a->cap_row_view, a->n_rows, sizeof *a->row_view))
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory building advisory %s",
				    pw_dadv_at(a, a->id) ? pw_dadv_at(a, a->id) : "(no id)");
	for (size_t i = 0; i < a->n_cves; i++)
		a->cve_view[i] = pw_dadv_at(a, a->cves[i]);
	for (size_t i = 0; i < a->n_rows; i++) {
		const pw_dadv_row *r = &a->rows[i];
		a->row_view[i] = (pw_affected){
			.ecosystem = pw_dadv_at(a, r->ecosystem),
			.package = pw_dadv_at(a, r->package),
			.by_source = r->by_source,
			.state = r->state,
			.fixed = pw_dadv_at(a, r->fixed),
			.note = pw_dadv_at(a, r->note),
		};
	}
	pw_advisory adv = {
		.id = pw_dadv_at(a, a->id),
		.source = source,
		.published = pw_dadv_at(a, a->published),
		.modified = pw_dadv_at(a, a->modified),
		.summary = pw_dadv_at(a, a->summary),
		.severity = a->severity,
		.attack_vector = a->attack_vector,
		.cvss_vector = pw_dadv_at(a, a->cvss_vector),
		.cves = a->cve_view,
		.n_cves = a->n_cves,
		.affected = a->row_view,
		.n_affected = a->n_rows,
	};
	return sink->advisory(sink->ctx, &adv, err);
}
