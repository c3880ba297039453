/* Helpers shared by the feed parsers; not part of the public API. */
#ifndef PATCHWARDEN_FEED_INTERNAL_H
#define PATCHWARDEN_FEED_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "patchwarden/error.h"

/* Whether s[0..len) is a CVE id: "CVE-", a four-digit year, '-', and 4
 * to 19 digits (the CVE JSON 5 and KEV schema pattern). */
bool pw_feed_is_cve(const char *s, size_t len);

/* Parses one JSON value filling the whole buffer (whitespace may follow).
 * A NUL in a string, raw or as \u0000, is refused with the member path
 * of the field (cJSON would hand the value over cut short at it).
 * Errors name the input and the line:column where parsing stopped, and
 * say when the input ended too early. `what` names the expected content
 * ("an OSV record"). The caller owns *out (cJSON_Delete). */
pw_err pw_feed_json_parse(const char *data, size_t len, const char *name, const char *what,
			  cJSON **out, pw_error *err);

/* obj[key] when obj is an object holding key, else NULL. */
const cJSON *pw_feed_json_get(const cJSON *obj, const char *key);

#endif
