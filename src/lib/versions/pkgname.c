#include "patchwarden/pkgname.h"

#include <string.h>

/* The first bytes of s that are safe to quote in a message: printable
 * ASCII, at most 40. */
static int quotable(const char *s)
{
	int n = 0;
	while (n < 40 && s[n] >= 0x20 && s[n] < 0x7f && s[n] != '"' && s[n] != '\\')
		n++;
	return n;
}

static bool in(char c, const char *set)
{
	return c && strchr(set, c) != NULL;
}

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool lower_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Whether s[from..to) are all alphanumerics or in `set`. */
static bool span_ok(const char *s, size_t from, size_t to, bool lower_only, const char *set)
{
	for (size_t i = from; i < to; i++)
		if (!(lower_only ? lower_digit(s[i]) : alnum(s[i])) && !in(s[i], set))
			return false;
	return true;
}

static const char *name_problem(pw_scheme s, const char *name)
{
	size_t n = strlen(name);
	if (!n)
		return "is empty";
	if (n > PW_PKGNAME_MAX)
		return "is longer than 128 bytes";
	switch (s) {
	case PW_SCHEME_DEB:
		if (n < 2)
			return "is shorter than two characters (deb-control(5))";
		if (!lower_digit(name[0]))
			return "does not start with a lower-case letter or digit";
		if (!span_ok(name, 1, n, true, "+.-"))
			return "has a character outside [a-z0-9+.-]";
		return NULL;
	case PW_SCHEME_RPM:
		if (!alnum(name[0]) && name[0] != '_')
			return "does not start with a letter, digit or '_'";
		if (!span_ok(name, 1, n, false, "._+-"))
			return "has a character outside [A-Za-z0-9._+-]";
		return NULL;
	case PW_SCHEME_APK:
		if (!alnum(name[0]))
			return "does not start with a letter or digit";
		if (!span_ok(name, 1, n, false, "._+-"))
			return "has a character outside [A-Za-z0-9._+-]";
		return NULL;
	}
	return "has an unknown package scheme";
}

pw_err pw_pkgname_check(pw_scheme s, const char *name, pw_error *err)
{
	const char *why = name_problem(s, name ? name : "");
	if (!why)
		return PW_OK;
	return pw_error_set(err, PW_ERR_INVALID, "package name \"%.*s\"%s %s for %s",
			    quotable(name ? name : ""), name ? name : "",
			    name && strlen(name) > (size_t)quotable(name) ? "..." : "", why,
			    pw_scheme_name(s));
}

/* [epoch:]version[-release]: digits then ':', then runs of
 * [A-Za-z0-9._+~^] each starting with an alphanumeric. */
static const char *rpm_problem(const char *v)
{
	const char *p = v;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == ':') {
		if (p == v)
			return "has an empty epoch";
		p++;
	} else {
		p = v;
	}
	const char *dash = strchr(p, '-');
	if (dash && strchr(dash + 1, '-'))
		return "has more than one '-' (rpm: [epoch:]version[-release])";
	size_t vlen = dash ? (size_t)(dash - p) : strlen(p);
	if (!vlen || !alnum(p[0]))
		return "has no version starting with a letter or digit";
	if (!span_ok(p, 0, vlen, false, "._+~^"))
		return "has a character outside [A-Za-z0-9._+~^]";
	if (dash) {
		const char *r = dash + 1;
		if (!alnum(r[0]))
			return "has no release starting with a letter or digit after '-'";
		if (!span_ok(r, 0, strlen(r), false, "._+~^"))
			return "has a character outside [A-Za-z0-9._+~^] in its release";
	}
	return NULL;
}

static const char *version_problem(pw_scheme s, const char *v)
{
	size_t n = strlen(v);
	if (!n)
		return "is empty";
	if (n > PW_PKGVERSION_MAX)
		return "is longer than 128 bytes";
	/* Whatever a scheme's parser makes of it, it would reach the package
	 * manager as an option (fuzz_job_args found "-0:0:x" taken). */
	if (v[0] == '-')
		return "begins with '-'";
	switch (s) {
	case PW_SCHEME_DEB: {
		pw_deb_version d;
		if (pw_deb_version_parse(v, &d, NULL))
			return "is not a version dpkg accepts (deb-version(5))";
		/* dpkg only warns about these; a job takes none of them. */
		if (d.warning || !span_ok(v, 0, n, false, ".+~:-"))
			return "is not [epoch:]upstream[-revision] of deb-version(5)";
		return NULL;
	}
	case PW_SCHEME_RPM:
		return rpm_problem(v);
	case PW_SCHEME_APK:
		if (pw_apk_version_check(v, NULL))
			return "is not a version apk accepts";
		return NULL;
	}
	return "has an unknown package scheme";
}

pw_err pw_pkgversion_check(pw_scheme s, const char *version, pw_error *err)
{
	const char *why = version_problem(s, version ? version : "");
	if (!why)
		return PW_OK;
	return pw_error_set(err, PW_ERR_INVALID, "version \"%.*s\"%s %s for %s",
			    quotable(version ? version : ""), version ? version : "",
			    version && strlen(version) > (size_t)quotable(version) ? "..." : "",
			    why, pw_scheme_name(s));
}

bool pw_pkgname_any(const char *name)
{
	for (int s = PW_SCHEME_DEB; s <= PW_SCHEME_APK; s++)
		if (!name_problem((pw_scheme)s, name ? name : ""))
			return true;
	return false;
}

bool pw_pkgversion_any(const char *version)
{
	for (int s = PW_SCHEME_DEB; s <= PW_SCHEME_APK; s++)
		if (!version_problem((pw_scheme)s, version ? version : ""))
			return true;
	return false;
}
