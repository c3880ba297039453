/* Package names and versions a job may name, checked against each
 * ecosystem's grammar before the server queues a job and again in the
 * agent's privileged parent before it hands them to apt, dnf, zypper or
 * apk (never through a shell, but an option-looking "-o..." or a blank
 * would still change what the package manager does). Stricter than what
 * the tools tolerate in a database they read: a job names a package to
 * install, so only the documented grammar passes.
 *
 *   deb  name:    [a-z0-9][a-z0-9+.-]+                (deb-control(5) Package)
 *        version: [epoch:]upstream[-revision] as deb-version(5): epoch
 *                 digits, upstream starting with a digit and of
 *                 [A-Za-z0-9.+~:-], revision of [A-Za-z0-9.+~]
 *   rpm  name:    [A-Za-z0-9_][A-Za-z0-9._+-]*        (no "-" first)
 *        version: [epoch:]version[-release], version and release of
 *                 [A-Za-z0-9._+~^] starting with an alphanumeric
 *   apk  name:    [A-Za-z0-9][A-Za-z0-9._+-]*
 *        version: what apk_version_validate() accepts (1.2.3_rc1-r0)
 *
 * Every name is at most PW_PKGNAME_MAX bytes, every version at most
 * PW_PKGVERSION_MAX. */
#ifndef PATCHWARDEN_PKGNAME_H
#define PATCHWARDEN_PKGNAME_H

#include <stdbool.h>

#include "patchwarden/error.h"
#include "patchwarden/vercmp.h"

#define PW_PKGNAME_MAX 128
#define PW_PKGVERSION_MAX 128

/* PW_ERR_INVALID, naming the package (cut to a printable prefix) and what
 * is wrong with it, unless `name` is a package name of scheme s. */
pw_err pw_pkgname_check(pw_scheme s, const char *name, pw_error *err);

/* PW_ERR_INVALID unless `version` is a version of scheme s a job may ask
 * the package manager for. */
pw_err pw_pkgversion_check(pw_scheme s, const char *version, pw_error *err);

/* Whether `name` is a package name of any scheme: what a job's arguments
 * must pass before the host (and so the scheme) is known. */
bool pw_pkgname_any(const char *name);
/* Whether `version` is a version of any scheme. */
bool pw_pkgversion_any(const char *version);

#endif
