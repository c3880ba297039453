/* Helpers shared by the feed parsers; not part of the public API.
 *
 * The second half serves the distro tracker parsers (feed_debian.c,
 * feed_ubuntu.c, feed_alpine.c): an advisory under construction that owns
 * copies of its strings, a line reader, and positioned warnings. */
#ifndef PATCHWARDEN_FEEDS_INTERNAL_H
#define PATCHWARDEN_FEEDS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "patchwarden/advisory.h"
#include "patchwarden/buf.h"
#include "patchwarden/ecosystem.h"
#include "patchwarden/error.h"
#include "patchwarden/feed.h"

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

/* A piece of the input; not NUL-terminated. */
typedef struct pw_dspan {
	const char *p;
	size_t n;
} pw_dspan;

/* printf arguments for "%.*s" quoting at most 60 bytes of a span, so a
 * huge or binary line cannot flood a warning. */
#define PW_DSPAN_CLIP(s) (int)((s).n > 60 ? 60 : (s).n), ((s).p ? (s).p : "")

pw_dspan pw_dspan_z(const char *s); /* NULL gives the empty span {NULL, 0} */
pw_dspan pw_dspan_trim(pw_dspan s); /* without leading and trailing blanks */
bool pw_dspan_eq(pw_dspan s, const char *z);
bool pw_dspan_starts(pw_dspan s, const char *z);
/* Offset of the first c in s, s.n if none. */
size_t pw_dspan_index(pw_dspan s, char c);
/* The next blank-separated word of *s (empty at the end); *s is advanced
 * past it. */
pw_dspan pw_dspan_word(pw_dspan *s);
bool pw_distro_is_digit(char c);

/* An advisory id of another namespace: letters and digits in two or more
 * dash-separated parts, starting with a letter ("XSA-273",
 * "GHSA-h5c8-rqwp-cp95", "TEMP-0000000-1A2B3C"). Anything starting with
 * "CVE" must pass pw_feed_is_cve() instead, so typos are not taken. */
bool pw_distro_is_id(pw_dspan s);
/* A version as trackers print one: printable, no blanks, no parentheses.
 * The ecosystem's own syntax is the matcher's business. */
bool pw_distro_is_version(pw_dspan s);

/* Yields one line at a time without its "\n" or "\r\n"; lineno counts
 * from 1. A final line without a newline is still a line. */
typedef struct pw_dlines {
	const char *p, *end;
	size_t lineno;
} pw_dlines;

void pw_dlines_init(pw_dlines *it, const char *data, size_t len);
bool pw_dlines_next(pw_dlines *it, pw_dspan *line);

/* A warning at "name", "name:line" (line > 0), "name: field" or
 * "name:line: field" (field non-NULL). */
void pw_distro_warn(const pw_feed_sink *sink, const char *name, size_t line, const char *field,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* pw_ecosystem_from_release() for a release word that is a span. */
pw_err pw_distro_ecosystem(const char *distro, pw_dspan release, char out[PW_ECOSYSTEM_MAX],
			   pw_error *err);

#define PW_DADV_NONE ((size_t)-1)

/* One affected row; strings are offsets into pw_dadv.strs, PW_DADV_NONE
 * for NULL, because the buffer moves when it grows. */
typedef struct pw_dadv_row {
	size_t ecosystem, package, fixed, note;
	bool by_source;
	pw_fix_state state;
} pw_dadv_row;

/* The input to pw_dadv_add_row(); spans with p == NULL become NULL. */
typedef struct pw_dadv_rowin {
	pw_dspan ecosystem, package, fixed, note;
	bool by_source;
	pw_fix_state state;
} pw_dadv_rowin;

/* An advisory being built. Reset between records so its memory is reused;
 * pw_dadv_emit() hands borrowed pointers to the sink for one call. */
typedef struct pw_dadv {
	pw_buf strs; /* every string of the record, each NUL-terminated */
	size_t id, published, modified, summary, cvss_vector;
	pw_severity severity;
	pw_attack_vector attack_vector;
	size_t *cves;
	size_t n_cves, cap_cves;
	pw_dadv_row *rows;
	size_t n_rows, cap_rows;
	const char **cve_view; /* rebuilt by each emit; n_cves long */
	size_t cap_cve_view;
	pw_affected *row_view; /* rebuilt by each emit; n_rows long */
	size_t cap_row_view;
} pw_dadv;

#define PW_DADV_INIT                                                                               \
	{                                                                                          \
		.strs = PW_BUF_INIT, .id = PW_DADV_NONE, .published = PW_DADV_NONE,                \
		.modified = PW_DADV_NONE, .summary = PW_DADV_NONE, .cvss_vector = PW_DADV_NONE     \
	}

void pw_dadv_reset(pw_dadv *a);
void pw_dadv_release(pw_dadv *a);
/* Copies s into the record; *off receives its offset (PW_DADV_NONE when
 * s.p is NULL). */
pw_err pw_dadv_str(pw_dadv *a, pw_dspan s, size_t *off);
/* Sets the summary to s with each run of blanks, newlines and control
 * characters made one space, so a multi-line description reads as one line. */
pw_err pw_dadv_set_summary(pw_dadv *a, pw_dspan s);
/* Adds a CVE or other advisory id unless the record already lists it. */
pw_err pw_dadv_add_cve(pw_dadv *a, pw_dspan id);
pw_err pw_dadv_add_row(pw_dadv *a, const pw_dadv_rowin *in);
/* The string at an offset, NULL for PW_DADV_NONE. */
const char *pw_dadv_at(const pw_dadv *a, size_t off);
/* Passes the record to sink->advisory with `source` as its importer. */
pw_err pw_dadv_emit(pw_dadv *a, const char *source, const pw_feed_sink *sink, pw_error *err);

#endif
