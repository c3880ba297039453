/* Bounded JSON parsing for text from the network. cJSON's only guard is
 * a compile-time nesting limit (1000); a request body is checked here
 * first, in one pass without allocation, so an oversized or hostile
 * document is refused before cJSON builds anything from it:
 *
 *   - nesting of arrays and objects deeper than max_depth,
 *   - a string (member names too) longer than max_string bytes as sent,
 *     escapes counted as written,
 *   - raw control characters or malformed UTF-8 inside strings, and the
 *     \u0000 escape (cJSON would silently cut the string there; the
 *     database could not store it),
 *
 * each reported with line and column. Everything else about the syntax
 * is left to cJSON, whose errors get a line and column here too. */
#ifndef PATCHWARDEN_JSON_LIMITS_H
#define PATCHWARDEN_JSON_LIMITS_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/error.h"

struct cJSON;

typedef struct pw_json_limits {
	unsigned max_depth; /* 1: a flat object or array */
	size_t max_string;  /* bytes between the quotes */
} pw_json_limits;

#define PW_JSON_MAX_DEPTH_DEFAULT 32
#define PW_JSON_MAX_STRING_DEFAULT 65536
#define PW_JSON_LIMITS_DEFAULT                                                                     \
	{                                                                                          \
		PW_JSON_MAX_DEPTH_DEFAULT, PW_JSON_MAX_STRING_DEFAULT                              \
	}

/* Whether s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms,
 * surrogates or code points above U+10FFFF), for text that reaches JSON
 * replies by another way than a JSON body (CSV). */
bool pw_utf8_valid(const char *s, size_t n);

/* The pre-scan alone. A limit exceeded is PW_ERR_TOOLARGE; bad bytes in
 * a string are PW_ERR_PARSE. */
pw_err pw_json_check(const char *text, size_t len, const pw_json_limits *lim, pw_error *err);

/* pw_json_check, then cJSON over exactly `len` bytes (no NUL needed);
 * anything but whitespace after the value is an error. The caller owns
 * *out (cJSON_Delete). `what` names the input in messages ("request
 * body"). */
pw_err pw_json_parse_limited(const char *text, size_t len, const pw_json_limits *lim,
			     const char *what, struct cJSON **out, pw_error *err);

/* Copies a JSON text after checking that it parses, compacted, so the
 * audit log and the job tables hold one canonical spelling. NULL in,
 * NULL out. `what` names the field in the error. */
pw_err pw_json_compact(const char *json, const char *what, char **out, pw_error *err);

#endif
