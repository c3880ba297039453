/* Package version comparison with each ecosystem's own rules, identical
 * to the native tools: dpkg 1.21 (deb), rpm 4.18 rpmvercmp + EVR (rpm),
 * apk-tools (apk). Comparisons allocate nothing. */
#ifndef PATCHWARDEN_VERCMP_H
#define PATCHWARDEN_VERCMP_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/error.h"

typedef enum pw_scheme {
	PW_SCHEME_DEB = 0,
	PW_SCHEME_RPM = 1,
	PW_SCHEME_APK = 2,
} pw_scheme;

/* "deb", "rpm", "apk" (also "dpkg", "apt" -> deb; "dnf", "yum" -> rpm). */
pw_err pw_scheme_from_name(const char *name, pw_scheme *out, pw_error *err);
const char *pw_scheme_name(pw_scheme s);

/* Checks that `v` is a version the native tool accepts. For deb: what
 * dpkg refuses (empty, blanks inside, bad epoch, nothing after the colon,
 * empty upstream version or revision) is an error; what dpkg only warns
 * about (no digit first in upstream, characters outside the allowed set)
 * is accepted. rpm accepts every string except the empty one (rpm.vercmp()
 * and rpmverParse() refuse it). apk: apk_version_validate(). The
 * message names the version and what is wrong with it. */
pw_err pw_version_check(pw_scheme s, const char *v, pw_error *err);

/* Compares a and b: *cmp < 0, 0 or > 0. Fails (PW_ERR_PARSE) only where
 * the native tool refuses one of the versions (deb, and the empty string
 * for rpm); apk and rpm compare every other string as their tools do,
 * including apk's fallback for invalid strings. */
pw_err pw_vercmp(pw_scheme s, const char *a, const char *b, int *cmp, pw_error *err);

/* Per-scheme comparisons for hot loops. Inputs must have passed
 * pw_version_check for deb; the result is then what dpkg says. */
int pw_deb_vercmp(const char *a, const char *b);
int pw_rpm_vercmp(const char *a, const char *b); /* full [E:]V[-R] EVR comparison */
int pw_rpm_segcmp(const char *a, const char *b); /* rpmvercmp() on one component */
int pw_apk_vercmp(const char *a, const char *b);
/* The one of the three that scheme `s` uses. */
int pw_scheme_vercmp(pw_scheme s, const char *a, const char *b);

/* Per-scheme validity, behind pw_version_check. */
pw_err pw_deb_version_check(const char *v, pw_error *err);
pw_err pw_apk_version_check(const char *v, pw_error *err);

/* A deb version split as dpkg's parseversion() splits it. The fields point
 * into the parsed string (nothing is copied or allocated), so they stay
 * valid exactly as long as that string. Parse once, compare many times. */
typedef struct pw_deb_version {
	unsigned int epoch;
	const char *upstream; /* not NUL-terminated: upstream_len bytes */
	size_t upstream_len;
	const char *revision; /* revision_len 0 when there is none */
	size_t revision_len;
	const char *warning; /* what dpkg only warns about, or NULL */
} pw_deb_version;

/* Parses v as dpkg 1.21 does: PW_ERR_PARSE, with a message naming v and
 * the problem in dpkg's words, for what dpkg refuses; PW_OK otherwise.
 * When dpkg would only warn, out->warning says why and the version still
 * compares as dpkg compares it. */
pw_err pw_deb_version_parse(const char *v, pw_deb_version *out, pw_error *err);
/* dpkg_version_compare() on parsed versions: < 0, 0 or > 0. */
int pw_deb_version_cmp(const pw_deb_version *a, const pw_deb_version *b);

#endif
