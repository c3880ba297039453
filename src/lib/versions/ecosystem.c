#include "patchwarden/ecosystem.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct codename {
	const char *name;
	const char *release;
};

/* Release numbers as the distros' advisories key them. Debian's list
 * goes back to the oldest DSAs in the tracker. */
static const struct codename debian_codenames[] = {
	{"buzz", "1.1"},    {"rex", "1.2"},    {"bo", "1.3"},    {"hamm", "2.0"},
	{"slink", "2.1"},   {"potato", "2.2"}, {"woody", "3.0"}, {"sarge", "3.1"},
	{"etch", "4"},      {"lenny", "5"},    {"squeeze", "6"}, {"wheezy", "7"},
	{"jessie", "8"},    {"stretch", "9"},  {"buster", "10"}, {"bullseye", "11"},
	{"bookworm", "12"}, {"trixie", "13"},  {"forky", "14"},  {"duke", "15"},
	{"sid", "sid"},
};

static const struct codename ubuntu_codenames[] = {
	{"warty", "4.10"},     {"hoary", "5.04"},    {"breezy", "5.10"},    {"dapper", "6.06"},
	{"edgy", "6.10"},      {"feisty", "7.04"},   {"gutsy", "7.10"},     {"hardy", "8.04"},
	{"intrepid", "8.10"},  {"jaunty", "9.04"},   {"karmic", "9.10"},    {"lucid", "10.04"},
	{"maverick", "10.10"}, {"natty", "11.04"},   {"oneiric", "11.10"},  {"precise", "12.04"},
	{"quantal", "12.10"},  {"raring", "13.04"},  {"saucy", "13.10"},    {"trusty", "14.04"},
	{"utopic", "14.10"},   {"vivid", "15.04"},   {"wily", "15.10"},     {"xenial", "16.04"},
	{"yakkety", "16.10"},  {"zesty", "17.04"},   {"artful", "17.10"},   {"bionic", "18.04"},
	{"cosmic", "18.10"},   {"disco", "19.04"},   {"eoan", "19.10"},     {"focal", "20.04"},
	{"groovy", "20.10"},   {"hirsute", "21.04"}, {"impish", "21.10"},   {"jammy", "22.04"},
	{"kinetic", "22.10"},  {"lunar", "23.04"},   {"mantic", "23.10"},   {"noble", "24.04"},
	{"oracular", "24.10"}, {"plucky", "25.04"},  {"questing", "25.10"}, {"resolute", "26.04"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *lookup_codename(const struct codename *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(t[i].name, name) == 0)
			return t[i].release;
	return NULL;
}

static bool all_digits_dots(const char *s)
{
	if (!*s || !isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && *s != '.')
			return false;
	return true;
}

/* Copies the first `parts` dot-separated numeric components of v. */
static bool leading_parts(const char *v, int parts, char *out, size_t outsz)
{
	if (!isdigit((unsigned char)*v))
		return false;
	size_t n = 0;
	int seen = 0;
	while (v[n]) {
		if (v[n] == '.' && ++seen == parts)
			break;
		if (!isdigit((unsigned char)v[n]) && v[n] != '.')
			break;
		n++;
	}
	if (n == 0 || n >= outsz)
		return false;
	memcpy(out, v, n);
	out[n] = '\0';
	return true;
}

static pw_err emit(char out[PW_ECOSYSTEM_MAX], pw_error *err, const char *what, const char *distro,
		   const char *release)
{
	int n = snprintf(out, PW_ECOSYSTEM_MAX, "%s:%s", distro, release);
	if (n < 0 || n >= PW_ECOSYSTEM_MAX)
		return pw_error_set(err, PW_ERR_INVALID, "ecosystem '%s': name too long", what);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return PW_OK;
}

pw_err pw_ecosystem_from_release(const char *distro, const char *release,
				 char out[PW_ECOSYSTEM_MAX], pw_error *err)
{
	if (!distro || !release || !*distro || !*release)
		return pw_error_set(err, PW_ERR_INVALID, "distro release: empty name");
	char buf[PW_ECOSYSTEM_MAX];
	if (strcasecmp(distro, "debian") == 0) {
		const char *r = all_digits_dots(release)
					? release
					: lookup_codename(debian_codenames, COUNT(debian_codenames),
							  release);
		if (!r)
			return pw_error_set(err, PW_ERR_NOTFOUND,
					    "unknown Debian release '%s' (expected a codename such "
					    "as bookworm, or a number)",
					    release);
		/* Point releases share their major's advisories (10.13 -> 10);
		 * before etch (4) the minor number named the release itself. */
		if (all_digits_dots(r) && strtol(r, NULL, 10) >= 4 &&
		    leading_parts(r, 1, buf, sizeof buf))
			r = buf;
		return emit(out, err, release, "debian", r);
	}
	if (strcasecmp(distro, "ubuntu") == 0) {
		const char *r = all_digits_dots(release)
					? release
					: lookup_codename(ubuntu_codenames, COUNT(ubuntu_codenames),
							  release);
		if (!r)
			return pw_error_set(err, PW_ERR_NOTFOUND,
					    "unknown Ubuntu release '%s' (expected a codename such "
					    "as jammy, or a number like 22.04)",
					    release);
		if (leading_parts(r, 2, buf, sizeof buf))
			r = buf;
		return emit(out, err, release, "ubuntu", r);
	}
	if (strcasecmp(distro, "alpine") == 0) {
		const char *r = (release[0] == 'v' || release[0] == 'V') ? release + 1 : release;
		if (!leading_parts(r, 2, buf, sizeof buf) || !strchr(buf, '.'))
			return pw_error_set(
				err, PW_ERR_NOTFOUND,
				"unknown Alpine release '%s' (expected v3.NN or 3.NN[.N])",
				release);
		return emit(out, err, release, "alpine", buf);
	}
	/* RPM distros publish advisories per major release. */
	static const char *const by_major[] = {"almalinux", "rocky",  "rhel", "centos",
					       "ol",        "fedora", "amzn"};
	for (size_t i = 0; i < COUNT(by_major); i++) {
		if (strcasecmp(distro, by_major[i]) == 0) {
			if (!leading_parts(release, 1, buf, sizeof buf))
				return pw_error_set(
					err, PW_ERR_NOTFOUND,
					"unknown %s release '%s' (expected a number like 9 or 9.4)",
					distro, release);
			return emit(out, err, release, distro, buf);
		}
	}
	return emit(out, err, release, distro, release);
}

/* "Linux Enterprise Server 15 SP5" -> slug "linux-enterprise-server",
 * release "15.5". Returns false when no version number is found. */
static bool split_suse_product(const char *p, char *slug, size_t slugsz, char *rel, size_t relsz)
{
	const char *num = NULL;
	for (const char *q = p; *q; q++)
		if (isdigit((unsigned char)*q) && (q == p || q[-1] == ' ')) {
			num = q;
			break;
		}
	if (!num)
		return false;
	size_t n = 0;
	for (const char *q = p; q < num && n + 1 < slugsz; q++) {
		char c = (char)tolower((unsigned char)*q);
		slug[n++] = isalnum((unsigned char)c) ? c : '-';
	}
	while (n && slug[n - 1] == '-')
		n--;
	slug[n] = '\0';
	const char *sp = strstr(num, " SP");
	int major = 0, minor = 0;
	if (sscanf(num, "%d.%d", &major, &minor) < 1)
		return false;
	if (sp && sscanf(sp + 3, "%d", &minor) != 1)
		minor = 0;
	snprintf(rel, relsz, "%d.%d", major, minor);
	return true;
}

pw_err pw_ecosystem_from_osv(const char *osv, char out[PW_ECOSYSTEM_MAX], pw_error *err)
{
	if (!osv || !*osv)
		return pw_error_set(err, PW_ERR_INVALID, "empty OSV ecosystem");
	const char *colon = strchr(osv, ':');
	size_t nlen = colon ? (size_t)(colon - osv) : strlen(osv);
	const char *rest = colon ? colon + 1 : "";
	char rel[PW_ECOSYSTEM_MAX];
#define IS(name) (nlen == strlen(name) && strncmp(osv, name, nlen) == 0)
	if (!*rest && (IS("Debian") || IS("Ubuntu") || IS("AlmaLinux") || IS("Rocky Linux") ||
		       IS("Alpine") || IS("Red Hat") || IS("SUSE") || IS("openSUSE")))
		return pw_error_set(err, PW_ERR_INVALID,
				    "OSV ecosystem '%s' names no release (expected e.g. '%.*s:N')",
				    osv, (int)nlen, osv);
	if (IS("Debian"))
		return pw_ecosystem_from_release("debian", rest, out, err);
	if (IS("AlmaLinux"))
		return pw_ecosystem_from_release("almalinux", rest, out, err);
	if (IS("Rocky Linux"))
		return pw_ecosystem_from_release("rocky", rest, out, err);
	if (IS("Alpine"))
		return pw_ecosystem_from_release("alpine", rest, out, err);
	if (IS("Ubuntu")) {
		/* "18.04:LTS", "Pro:18.04:LTS", "Pro:FIPS:20.04:LTS": Pro fixes
		 * live in repositories a plain host does not have, so they get
		 * their own ecosystem rather than counting as missing patches. */
		bool pro = strncmp(rest, "Pro:", 4) == 0;
		const char *v = rest;
		while (*v && !isdigit((unsigned char)*v))
			v = strchr(v, ':') ? strchr(v, ':') + 1 : v + strlen(v);
		if (!leading_parts(v, 2, rel, sizeof rel))
			return pw_error_set(err, PW_ERR_INVALID,
					    "OSV ecosystem '%s': no Ubuntu release number", osv);
		return emit(out, err, osv, pro ? "ubuntu-pro" : "ubuntu", rel);
	}
	if (IS("Red Hat")) {
		/* "enterprise_linux:8::appstream"; other streams (rhel_eus,
		 * rhel_aus, ...) are separate products with their own fixes. */
		const char *c2 = strchr(rest, ':');
		if (!c2 || !leading_parts(c2 + 1, 1, rel, sizeof rel))
			return pw_error_set(
				err, PW_ERR_INVALID,
				"OSV ecosystem '%s': expected 'Red Hat:<product>:<release>...'",
				osv);
		if (strncmp(rest, "enterprise_linux:", 17) == 0)
			return emit(out, err, osv, "rhel", rel);
		char distro[PW_ECOSYSTEM_MAX];
		snprintf(distro, sizeof distro, "rhel-%.*s", (int)(c2 - rest), rest);
		if (!leading_parts(c2 + 1, 2, rel, sizeof rel))
			return pw_error_set(err, PW_ERR_INVALID, "OSV ecosystem '%s': bad release",
					    osv);
		return emit(out, err, osv, distro, rel);
	}
	if (IS("SUSE") || IS("openSUSE")) {
		char slug[PW_ECOSYSTEM_MAX - 16];
		if (strcmp(rest, "Tumbleweed") == 0)
			return emit(out, err, osv, "opensuse-tumbleweed", "rolling");
		if (!split_suse_product(rest, slug, sizeof slug, rel, sizeof rel))
			return pw_error_set(err, PW_ERR_INVALID,
					    "OSV ecosystem '%s': no product version found", osv);
		char distro[PW_ECOSYSTEM_MAX];
		if (IS("SUSE") && strcmp(slug, "linux-enterprise-server") == 0)
			snprintf(distro, sizeof distro, "sles");
		else
			snprintf(distro, sizeof distro, "%s-%s", IS("SUSE") ? "suse" : "opensuse",
				 slug);
		return emit(out, err, osv, distro, rel);
	}
#undef IS
	return pw_error_set(err, PW_ERR_UNSUPPORTED,
			    "OSV ecosystem '%s' is not a Linux distribution patchwarden handles",
			    osv);
}

pw_err pw_ecosystem_from_os(const char *id, const char *version_id, const char *codename,
			    char out[PW_ECOSYSTEM_MAX], pw_error *err)
{
	if (!id || !*id)
		return pw_error_set(
			err, PW_ERR_NOTFOUND,
			"the host's os-release has no ID; cannot tell which advisories apply");
	const char *rel = version_id && *version_id ? version_id : codename;
	if (!rel || !*rel)
		return pw_error_set(
			err, PW_ERR_NOTFOUND,
			"os-release of '%s' has neither VERSION_ID nor VERSION_CODENAME", id);
	if (strcmp(id, "sles") == 0 || strcmp(id, "sled") == 0) {
		/* VERSION_ID="15-SP5" or "15.5". */
		int major = 0, minor = 0;
		if (sscanf(rel, "%d-SP%d", &major, &minor) < 1 &&
		    sscanf(rel, "%d.%d", &major, &minor) < 1)
			return pw_error_set(err, PW_ERR_NOTFOUND, "unknown SLES release '%s'", rel);
		char r[32];
		snprintf(r, sizeof r, "%d.%d", major, minor);
		return emit(out, err, rel, "sles", r);
	}
	return pw_ecosystem_from_release(id, rel, out, err);
}

pw_scheme pw_ecosystem_scheme(const char *ecosystem)
{
	if (strncmp(ecosystem, "debian:", 7) == 0 || strncmp(ecosystem, "ubuntu", 6) == 0)
		return PW_SCHEME_DEB;
	if (strncmp(ecosystem, "alpine:", 7) == 0)
		return PW_SCHEME_APK;
	return PW_SCHEME_RPM;
}

/* Debian and Ubuntu publish fixes per source package; Alpine's secdb and
 * OSV key by aports origin, which is the inventory's `source` too. */
bool pw_ecosystem_by_source(const char *ecosystem)
{
	return pw_ecosystem_scheme(ecosystem) != PW_SCHEME_RPM;
}
