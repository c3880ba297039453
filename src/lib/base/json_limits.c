#include "patchwarden/json_limits.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1-based line and byte column of offset `at`, for messages. */
static void position(const char *text, size_t at, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < at; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static pw_err fail_at(pw_error *err, pw_err code, const char *text, size_t at, const char *what,
		      const char *problem)
{
	size_t line, col;
	position(text, at, &line, &col);
	return pw_error_set(err, code, "%s: line %zu, column %zu: %s", what, line, col, problem);
}

/* Length of the UTF-8 sequence starting at s[0] (at most `left` bytes
 * available), or 0 when it is malformed: overlong forms, surrogates and
 * code points above U+10FFFF included (RFC 3629). */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (left < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

bool pw_utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t k = u[i] < 0x80 ? 1 : utf8_len(u + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

static pw_err check(const char *text, size_t len, const pw_json_limits *lim, const char *what,
		    pw_error *err)
{
	const unsigned char *s = (const unsigned char *)text;
	unsigned depth = 0;
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		if (c == '[' || c == '{') {
			if (++depth > lim->max_depth) {
				char msg[96];
				snprintf(msg, sizeof msg,
					 "nested deeper than %u levels of arrays and objects",
					 lim->max_depth);
				return fail_at(err, PW_ERR_TOOLARGE, text, i, what, msg);
			}
		} else if (c == ']' || c == '}') {
			if (depth)
				depth--;
		} else if (c == '"') {
			size_t start = ++i;
			while (i < len && s[i] != '"') {
				if (i - start >= lim->max_string) {
					char msg[96];
					snprintf(msg, sizeof msg, "a string longer than %zu bytes",
						 lim->max_string);
					return fail_at(err, PW_ERR_TOOLARGE, text, start - 1, what,
						       msg);
				}
				if (s[i] < 0x20)
					return fail_at(
						err, PW_ERR_PARSE, text, i, what,
						"a control character inside a string (escape it)");
				if (s[i] == '\\') {
					if (i + 5 < len && s[i + 1] == 'u' && s[i + 2] == '0' &&
					    s[i + 3] == '0' && s[i + 4] == '0' && s[i + 5] == '0')
						return fail_at(
							err, PW_ERR_PARSE, text, i, what,
							"the escape \\u0000 (NUL) is not allowed");
					i += 2;
					continue;
				}
				if (s[i] >= 0x80) {
					size_t n = utf8_len(s + i, len - i);
					if (!n)
						return fail_at(err, PW_ERR_PARSE, text, i, what,
							       "a string that is not valid UTF-8");
					i += n;
					continue;
				}
				i++;
			}
			/* An unterminated string is cJSON's to report. */
		}
		i++;
	}
	return PW_OK;
}

pw_err pw_json_check(const char *text, size_t len, const pw_json_limits *lim, pw_error *err)
{
	return check(text, len, lim, "JSON", err);
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

pw_err pw_json_parse_limited(const char *text, size_t len, const pw_json_limits *lim,
			     const char *what, cJSON **out, pw_error *err)
{
	*out = NULL;
	pw_err rc = check(text, len, lim, what, err);
	if (rc)
		return rc;
	size_t lead = 0;
	while (lead < len && is_ws(text[lead]))
		lead++;
	if (lead == len)
		return pw_error_set(err, PW_ERR_PARSE, "%s: empty; a JSON value was expected",
				    what);
	const char *end = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (!v) {
		size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
		return fail_at(err, PW_ERR_PARSE, text, at, what, "not valid JSON here");
	}
	size_t at = (size_t)(end - text);
	while (at < len && is_ws(text[at]))
		at++;
	if (at < len) {
		cJSON_Delete(v);
		return fail_at(err, PW_ERR_PARSE, text, at, what,
			       "more data after the JSON value (send one value)");
	}
	*out = v;
	return PW_OK;
}

pw_err pw_json_compact(const char *json, const char *what, char **out, pw_error *err)
{
	*out = NULL;
	if (!json)
		return PW_OK;
	const char *end = NULL;
	cJSON *v = cJSON_ParseWithOpts(json, &end, true);
	if (!v) {
		size_t at = end ? (size_t)(end - json) : 0;
		return pw_error_set(err, PW_ERR_PARSE, "%s is not valid JSON (at byte %zu)", what,
				    at);
	}
	char *text = cJSON_PrintUnformatted(v);
	cJSON_Delete(v);
	if (!text)
		return pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", what);
	/* Callers free() it like every other string, whatever allocator
	 * cJSON was given. */
	*out = strdup(text);
	cJSON_free(text);
	if (!*out)
		return pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", what);
	return PW_OK;
}
