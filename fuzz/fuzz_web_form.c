/* The web console's parsers and escaper (web.h) on arbitrary bytes: the
 * form decoder, the Cookie header reader and the HTML escaper.
 *
 * Input: the bytes as a form body, then as a Cookie header and as text
 * to escape (each up to the first NUL, as a C string). Aborts on a crash,
 * a sanitizer report, or a broken law, checked without the code under
 * test: a parsed form has at most PW_FORM_MAX fields, no more fields than
 * the body has '&'-separated parts, and every key and value no longer
 * than the body; a cookie value found is a substring of the header; the
 * escaped text has no '<', '>', '"' or '\'' and, with the five entities
 * replaced back, is the text again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *unescape(const char *s)
{
	static const char *const ent[][2] = {{"&amp;", "&"},
					     {"&lt;", "<"},
					     {"&gt;", ">"},
					     {"&quot;", "\""},
					     {"&#39;", "'"}};
	char *out = malloc(strlen(s) + 1), *w = out;
	if (!out)
		abort();
	while (*s) {
		size_t i = 0;
		for (; i < 5; i++)
			if (!strncmp(s, ent[i][0], strlen(ent[i][0])))
				break;
		if (i < 5) {
			*w++ = ent[i][1][0];
			s += strlen(ent[i][0]);
		} else if (*s == '&') {
			abort(); /* every '&' of the output starts an entity */
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	pw_form f;
	pw_error e = PW_ERROR_INIT;
	if (pw_form_parse((const char *)data, size, &f, &e) == PW_OK) {
		size_t parts = 1;
		for (size_t i = 0; i < size; i++)
			parts += data[i] == '&';
		if (f.n > PW_FORM_MAX || f.n > parts)
			abort();
		for (size_t i = 0; i < f.n; i++)
			if (strlen(f.key[i]) > size || strlen(f.value[i]) > size)
				abort();
		pw_form_release(&f);
	}

	char v[128];
	if (pw_cookie_get(text, "pw_session", v, sizeof v) && !strstr(text, v))
		abort();

	pw_buf b = PW_BUF_INIT;
	if (pw_html_escape(&b, text) == PW_OK) {
		const char *out = b.len ? pw_buf_str(&b) : "";
		if (strpbrk(out, "<>\"'"))
			abort();
		char *back = unescape(out);
		if (strcmp(back, text) != 0)
			abort();
		free(back);
	}
	pw_buf_release(&b);
	free(text);
	return 0;
}
