/* Picks the comparison of an ecosystem by name and applies its validity
 * rules, so that callers never compare with the wrong rules. */
#include <stddef.h>

#include <strings.h>

#include "patchwarden/vercmp.h"

static const struct {
	const char *name;
	pw_scheme scheme;
} scheme_names[] = {
	{"deb", PW_SCHEME_DEB}, {"dpkg", PW_SCHEME_DEB}, {"apt", PW_SCHEME_DEB},
	{"rpm", PW_SCHEME_RPM}, {"dnf", PW_SCHEME_RPM},  {"yum", PW_SCHEME_RPM},
	{"apk", PW_SCHEME_APK},
};

pw_err pw_scheme_from_name(const char *name, pw_scheme *out, pw_error *err)
{
	if (!name || !*name)
		return pw_error_set(err, PW_ERR_INVALID,
				    "no version scheme given: use deb, rpm or apk");
	for (size_t i = 0; i < sizeof scheme_names / sizeof scheme_names[0]; i++) {
		if (strcasecmp(name, scheme_names[i].name) == 0) {
			*out = scheme_names[i].scheme;
			return PW_OK;
		}
	}
	return pw_error_set(err, PW_ERR_INVALID,
			    "unknown version scheme '%.64s': use deb, rpm or apk", name);
}

const char *pw_scheme_name(pw_scheme s)
{
	switch (s) {
	case PW_SCHEME_DEB:
		return "deb";
	case PW_SCHEME_RPM:
		return "rpm";
	case PW_SCHEME_APK:
		return "apk";
	}
	return "unknown";
}

static pw_err rpm_version_check(const char *v, pw_error *err)
{
	if (!*v)
		return pw_error_set(
			err, PW_ERR_PARSE,
			"version '' is empty: rpm refuses an empty [epoch:]version[-release]");
	return PW_OK;
}

pw_err pw_version_check(pw_scheme s, const char *v, pw_error *err)
{
	if (!v)
		return pw_error_set(err, PW_ERR_INVALID, "no version given");
	switch (s) {
	case PW_SCHEME_DEB:
		return pw_deb_version_check(v, err);
	case PW_SCHEME_RPM:
		return rpm_version_check(v, err);
	case PW_SCHEME_APK:
		return pw_apk_version_check(v, err);
	}
	return pw_error_set(err, PW_ERR_INVALID, "unknown version scheme %d", (int)s);
}

int pw_scheme_vercmp(pw_scheme s, const char *a, const char *b)
{
	switch (s) {
	case PW_SCHEME_DEB:
		return pw_deb_vercmp(a, b);
	case PW_SCHEME_RPM:
		return pw_rpm_vercmp(a, b);
	case PW_SCHEME_APK:
		return pw_apk_vercmp(a, b);
	}
	return 0;
}

pw_err pw_vercmp(pw_scheme s, const char *a, const char *b, int *cmp, pw_error *err)
{
	if (!a || !b || !cmp)
		return pw_error_set(err, PW_ERR_INVALID, "no version given");
	pw_err rc;
	switch (s) {
	case PW_SCHEME_DEB: {
		/* Parse once: the parsed form serves the check and the comparison. */
		pw_deb_version da, db;
		if ((rc = pw_deb_version_parse(a, &da, err)) != PW_OK ||
		    (rc = pw_deb_version_parse(b, &db, err)) != PW_OK)
			return rc;
		*cmp = pw_deb_version_cmp(&da, &db);
		return PW_OK;
	}
	case PW_SCHEME_RPM:
		if ((rc = rpm_version_check(a, err)) != PW_OK ||
		    (rc = rpm_version_check(b, err)) != PW_OK)
			return rc;
		*cmp = pw_rpm_vercmp(a, b);
		return PW_OK;
	case PW_SCHEME_APK:
		*cmp = pw_apk_vercmp(a, b);
		return PW_OK;
	}
	return pw_error_set(err, PW_ERR_INVALID, "unknown version scheme %d", (int)s);
}
