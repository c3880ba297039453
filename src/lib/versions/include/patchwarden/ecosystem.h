/* One name for a distro release, whatever spelling a feed or an
 * os-release file uses: "<distro>:<release>" in lower case, with the
 * release as the distro's advisories key it:
 *   debian:11  ubuntu:18.04  almalinux:8  rocky:9  rhel:8  alpine:3.10
 *   sles:15.5  opensuse-leap:15.5
 * Debian and Ubuntu codenames map to numbers (bullseye -> 11,
 * bionic -> 18.04); RPM distros key by major release; Alpine by
 * major.minor. */
#ifndef PATCHWARDEN_ECOSYSTEM_H
#define PATCHWARDEN_ECOSYSTEM_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/error.h"
#include "patchwarden/vercmp.h"

#define PW_ECOSYSTEM_MAX 64

/* From an OSV `affected[].package.ecosystem` ("AlmaLinux:8", "Debian:11",
 * "Ubuntu:18.04:LTS", "Alpine:v3.18", "Rocky Linux:9", "Red Hat:..."). */
pw_err pw_ecosystem_from_osv(const char *osv, char out[PW_ECOSYSTEM_MAX], pw_error *err);
/* From a distro name and a release word: ("debian", "bullseye"),
 * ("ubuntu", "bionic"), ("alpine", "v3.10"), ("almalinux", "8.10"). */
pw_err pw_ecosystem_from_release(const char *distro, const char *release,
				 char out[PW_ECOSYSTEM_MAX], pw_error *err);
/* From os-release ID, VERSION_ID and VERSION_CODENAME (may be NULL);
 * ID_LIKE-style derivatives are not guessed. */
pw_err pw_ecosystem_from_os(const char *id, const char *version_id, const char *codename,
			    char out[PW_ECOSYSTEM_MAX], pw_error *err);
/* Version scheme of an ecosystem's packages. */
pw_scheme pw_ecosystem_scheme(const char *ecosystem);
/* Whether the distro's fixed versions are per source package (Debian,
 * Ubuntu; Alpine per aports origin). */
bool pw_ecosystem_by_source(const char *ecosystem);

#endif
