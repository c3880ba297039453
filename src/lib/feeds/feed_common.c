#include "feeds-internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool pw_feed_is_cve(const char *s, size_t len)
{
	if (len < 13 || len > 28 || memcmp(s, "CVE-", 4) != 0 || s[8] != '-')
		return false;
	for (size_t k = 4; k < len; k++)
		if (k != 8 && !isdigit((unsigned char)s[k]))
			return false;
	return true;
}

enum json_shape { JSON_COMPLETE, JSON_UNCLOSED, JSON_TOO_DEEP };

/* Why cJSON gave up, for the message: its error position points at the
 * start of an unterminated string, not at the end of a cut-off file. */
static enum json_shape json_shape(const char *data, size_t len)
{
	size_t depth = 0;
	bool in_string = false;
	for (size_t k = 0; k < len; k++) {
		char ch = data[k];
		if (in_string) {
			if (ch == '\\')
				k++;
			else if (ch == '"')
				in_string = false;
		} else if (ch == '"') {
			in_string = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > CJSON_NESTING_LIMIT)
				return JSON_TOO_DEEP;
		} else if ((ch == '}' || ch == ']') && depth) {
			depth--;
		}
	}
	return in_string || depth ? JSON_UNCLOSED : JSON_COMPLETE;
}

/* Offset of the first NUL inside a string, raw or as the escape \u0000,
 * or `len` when there is none. cJSON hands such a string over cut at the
 * NUL, so "CVE-1\u0000x" would be stored as "CVE-1". */
static size_t string_nul(const char *data, size_t len)
{
	bool in_string = false;
	for (size_t k = 0; k < len; k++) {
		char ch = data[k];
		if (!in_string) {
			in_string = ch == '"';
		} else if (ch == '\\') {
			if (k + 5 < len && memcmp(data + k + 1, "u0000", 5) == 0)
				return k;
			k++;
		} else if (ch == '"') {
			in_string = false;
		} else if (ch == '\0') {
			return k;
		}
	}
	return len;
}

#define PATH_LEVELS 64

/* The member path of offset `at` ("vulnerabilities[3].cveID"), for a
 * message naming the field. Keys are shown as written, escapes and all;
 * levels past PATH_LEVELS show as "...". */
static void json_path(const char *data, size_t at, char *out, size_t cap)
{
	struct level {
		bool object;
		size_t index;        /* arrays: the element */
		size_t key, key_len; /* objects: the current member's name */
	} lv[PATH_LEVELS];
	size_t depth = 0;
	bool want_key = false;
	for (size_t k = 0; k < at; k++) {
		char ch = data[k];
		if (ch == '"') {
			size_t start = ++k;
			while (k < at && data[k] != '"')
				k += data[k] == '\\' ? 2 : 1;
			if (want_key && depth && depth <= PATH_LEVELS) {
				lv[depth - 1].key = start;
				lv[depth - 1].key_len = (k < at ? k : at) - start;
			}
			want_key = false;
		} else if (ch == '{' || ch == '[') {
			if (++depth <= PATH_LEVELS)
				lv[depth - 1] = (struct level){ch == '{', 0, 0, 0};
			want_key = ch == '{';
		} else if ((ch == '}' || ch == ']') && depth) {
			depth--;
		} else if (ch == ',' && depth && depth <= PATH_LEVELS) {
			lv[depth - 1].index++;
			want_key = lv[depth - 1].object;
		}
	}
	size_t n = 0;
	out[0] = '\0';
	for (size_t d = 0; d < depth && n < cap; d++) {
		int w;
		if (d >= PATH_LEVELS)
			w = snprintf(out + n, cap - n, "...");
		else if (lv[d].object)
			w = snprintf(out + n, cap - n, "%s%.*s", n ? "." : "",
				     (int)(lv[d].key_len > 64 ? 64 : lv[d].key_len),
				     data + lv[d].key);
		else
			w = snprintf(out + n, cap - n, "[%zu]", lv[d].index);
		if (w < 0 || d >= PATH_LEVELS)
			break;
		n += (size_t)w;
	}
	if (!out[0])
		snprintf(out, cap, "(top level)");
}

pw_err pw_feed_json_parse(const char *data, size_t len, const char *name, const char *what,
			  cJSON **out, pw_error *err)
{
	*out = NULL;
	if (!data || !len)
		return pw_error_set(err, PW_ERR_PARSE, "%s: empty file, not %s", name, what);
	size_t nul = string_nul(data, len);
	if (nul < len) {
		char field[256];
		json_path(data, nul, field, sizeof field);
		size_t line = 1, col = 1;
		for (size_t k = 0; k < nul; k++, col++)
			if (data[k] == '\n') {
				line++;
				col = 0;
			}
		return pw_error_set(err, PW_ERR_PARSE,
				    "%s:%zu:%zu: %s: a NUL character (\\u0000) in a string "
				    "would cut the value short; not %s patchwarden can store",
				    name, line, col, field, what);
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(data, len, &end, 0);
	size_t pos = end && end >= data && end <= data + len ? (size_t)(end - data) : 0;
	if (root) {
		while (pos < len && isspace((unsigned char)data[pos]))
			pos++;
		if (pos == len) {
			*out = root;
			return PW_OK;
		}
		cJSON_Delete(root);
	}
	size_t line = 1, col = 1;
	for (size_t k = 0; k < pos; k++) {
		if (data[k] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	if (root)
		return pw_error_set(
			err, PW_ERR_PARSE,
			"%s:%zu:%zu: data after the JSON value; expected %s and nothing else", name,
			line, col, what);
	const char *why = "";
	switch (json_shape(data, len)) {
	case JSON_COMPLETE:
		break;
	case JSON_UNCLOSED:
		why = ", ends inside a string, object or list: truncated file?";
		break;
	case JSON_TOO_DEEP:
		why = ", nested too deeply";
		break;
	}
	return pw_error_set(err, PW_ERR_PARSE, "%s:%zu:%zu: malformed JSON%s (expected %s)", name,
			    line, col, why, what);
}

const cJSON *pw_feed_json_get(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}
