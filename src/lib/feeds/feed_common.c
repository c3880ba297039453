#include "feeds-internal.h"

#include <ctype.h>
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

pw_err pw_feed_json_parse(const char *data, size_t len, const char *name, const char *what,
			  cJSON **out, pw_error *err)
{
	*out = NULL;
	if (!data || !len)
		return pw_error_set(err, PW_ERR_PARSE, "%s: empty file, not %s", name, what);
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
		return pw_error_set(err, PW_ERR_PARSE,
				    "%s:%zu:%zu: data after the JSON value; expected %s and nothing else",
				    name, line, col, what);
	const char *why = "";
	switch (json_shape(data, len)) {
	case JSON_COMPLETE: break;
	case JSON_UNCLOSED: why = ", ends inside a string, object or list: truncated file?"; break;
	case JSON_TOO_DEEP: why = ", nested too deeply"; break;
	}
	return pw_error_set(err, PW_ERR_PARSE, "%s:%zu:%zu: malformed JSON%s (expected %s)", name,
			    line, col, why, what);
}

const cJSON *pw_feed_json_get(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}
