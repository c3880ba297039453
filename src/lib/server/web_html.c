/* The console's text handling: HTML escaping, form bodies, cookies. */
#include "patchwarden/web.h"
#include "patchwarden/text.h"

#include <stdlib.h>
#include <string.h>

pw_err pw_html_escape(pw_buf *b, const char *s)
{
	if (!s)
		return PW_OK;
	pw_err rc = PW_OK;
	const char *run = s;
	for (; *s && !rc; s++) {
		const char *e = NULL;
		switch (*s) {
		case '&':
			e = "&amp;";
			break;
		case '<':
			e = "&lt;";
			break;
		case '>':
			e = "&gt;";
			break;
		case '"':
			e = "&quot;";
			break;
		case '\'':
			e = "&#39;";
			break;
		default:
			continue;
		}
		rc = pw_buf_append(b, run, (size_t)(s - run));
		if (!rc)
			rc = pw_buf_puts(b, e);
		run = s + 1;
	}
	return rc ? rc : pw_buf_append(b, run, strlen(run));
}

/* Decodes s[0..len) in place into out (at most len bytes): '+' is a
 * space; false for a malformed escape or a NUL. */
static bool decode(const char *s, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 2 < len ? pw_hex_digit(s[i + 1]) : -1;
			int lo = hi >= 0 ? pw_hex_digit(s[i + 2]) : -1;
			if (lo < 0)
				return false;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (!c)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

pw_err pw_form_parse(const char *s, size_t len, pw_form *out, pw_error *err)
{
	memset(out, 0, sizeof *out);
	/* Decoding never grows a field, and each field ends in one NUL. */
	out->store = malloc(len + 2 * PW_FORM_MAX + 2);
	if (!out->store)
		return pw_error_set(err, PW_ERR_NOMEM, "reading a form: out of memory");
	char *w = out->store;
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && s[end] != '&')
			end++;
		if (end > i) {
			if (out->n == PW_FORM_MAX) {
				pw_form_release(out);
				return pw_error_set(err, PW_ERR_INVALID,
						    "the form has more than %d fields",
						    PW_FORM_MAX);
			}
			size_t eq = i;
			while (eq < end && s[eq] != '=')
				eq++;
			out->key[out->n] = w;
			bool ok = decode(s + i, eq - i, w);
			if (ok) {
				w += strlen(w) + 1;
				out->value[out->n] = w;
				ok = decode(s + (eq < end ? eq + 1 : end),
					    eq < end ? end - eq - 1 : 0, w);
			}
			if (ok)
				w += strlen(w) + 1;
			if (!ok) {
				pw_form_release(out);
				return pw_error_set(err, PW_ERR_INVALID,
						    "the form has a malformed %%-escape or a NUL "
						    "byte");
			}
			out->n++;
		}
		i = end + 1;
	}
	return PW_OK;
}

const char *pw_form_get(const pw_form *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->key[i], key))
			return f->value[i];
	return NULL;
}

void pw_form_release(pw_form *f)
{
	free(f->store);
	memset(f, 0, sizeof *f);
}

bool pw_cookie_get(const char *header, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);
	const char *p = header;
	while (p && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > nlen && !strncmp(p, name, nlen) && p[nlen] == '=') {
			size_t vlen = len - nlen - 1;
			if (vlen >= size)
				return false;
			memcpy(out, p + nlen + 1, vlen);
			out[vlen] = '\0';
			return true;
		}
		p = end;
	}
	return false;
}
