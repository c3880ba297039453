/* Package inventories: what is installed on a host, read from its package
 * database (dpkg, apk, rpm), plus OS identity and kernel state. */
#ifndef PATCHWARDEN_INVENTORY_H
#define PATCHWARDEN_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/error.h"
#include "patchwarden/vercmp.h"

struct cJSON;

typedef struct pw_package {
	char *name;
	char *version; /* as the database has it; rpm: [epoch:]version-release */
	char *arch;
	char *source;         /* source package (dpkg Source:, apk origin, rpm source rpm name) */
	char *source_version; /* version of the source package; equals version when not given */
	char *status;         /* dpkg: "install ok installed" etc.; apk/rpm: "installed" */
} pw_package;

typedef struct pw_inventory {
	char *os_id;         /* os-release ID, e.g. "debian", "ubuntu", "almalinux", "alpine" */
	char *os_version_id; /* VERSION_ID, e.g. "12", "18.04", "3.18.4" */
	char *os_codename;   /* VERSION_CODENAME, may be NULL */
	char *os_pretty_name;
	char *arch;               /* dpkg/apk/rpm architecture of the host, may be NULL */
	pw_scheme scheme;         /* version scheme of the package database */
	char *kernel_running;     /* uname release; NULL when not reading "/" */
	char **kernels_installed; /* kernel releases (uname -r form) of the installed
				   * kernel packages, oldest package version first */
	size_t n_kernels;
	bool needs_reboot;
	pw_package *pkgs;
	size_t n_pkgs, cap_pkgs;
	char **warnings; /* "file:line: what was skipped and why" */
	size_t n_warnings, cap_warnings;
} pw_inventory;

/* clang-format off */
#define PW_INVENTORY_INIT {0}
/* clang-format on */

void pw_inventory_release(pw_inventory *inv);
/* Frees the strings of one package (each its own allocation) and zeroes it. */
void pw_package_release(pw_package *pkg);

/* Reads everything under `root` ("/" for this host) into an empty inv:
 * os-release, the package database that exists (dpkg status + updates/
 * journal + status.d, apk installed, or rpm through `rpm --root`),
 * kernels, reboot state; packages sorted. No database, or an unreadable
 * one: PW_ERR_NOTFOUND/PW_ERR_IO/PW_ERR_TOOLARGE/PW_ERR_EXTERNAL with a
 * clear message. Malformed stanzas become warnings and the rest is read.
 * On failure inv may hold part of the data: release it either way. */
pw_err pw_inventory_read(const char *root, pw_inventory *inv, pw_error *err);

/* Parsers over a buffer, for tests and fuzzers. `name` is used in
 * warnings ("var/lib/dpkg/status:123: ..."). Only installed packages are
 * added: for dpkg those whose files are on disk (Status state other than
 * not-installed and config-files; see patchwarden-inventory(1)). They
 * append to inv in file order and fail only for lack of memory. */
pw_err pw_inventory_parse_dpkg(pw_inventory *inv, const char *data, size_t len, const char *name,
			       pw_error *err);
pw_err pw_inventory_parse_apk(pw_inventory *inv, const char *data, size_t len, const char *name,
			      pw_error *err);
/* os-release(5) with sh quoting rules, never run: ID, VERSION_ID,
 * VERSION_CODENAME (else UBUNTU_CODENAME), PRETTY_NAME. Values that are
 * not UTF-8 text without control characters are left out. */
pw_err pw_inventory_parse_os_release(pw_inventory *inv, const char *data, size_t len);
/* The output of `rpm -qa --qf PW_INVENTORY_RPM_QF`, one package a line. */
#define PW_INVENTORY_RPM_QF                                                                        \
	"%{NAME}\\t%|EPOCH?{%{EPOCH}}:{}|\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\n"
pw_err pw_inventory_parse_rpm_qa(pw_inventory *inv, const char *data, size_t len, const char *name,
				 pw_error *err);

/* The `patchwarden inventory --json` object (caller owns the result):
 * {"os":{"id","version_id","codename","pretty_name"},"arch","scheme",
 *  "kernel":{"running","installed":[...],"needs_reboot"},
 *  "packages":[{"name","version","arch","source","source_version","status"}],
 *  "warnings":[...]} */
struct cJSON *pw_inventory_to_json(const pw_inventory *inv);
/* Reads that object back (what `scan --inventory FILE.json` takes) into
 * an empty inv, checking types: "scheme" and "packages" are required,
 * each package needs a non-empty "name" and "version"; absent or null
 * optional values stay NULL, except source and source_version, which
 * default to the package's name and version as the readers set them.
 * Errors (PW_ERR_PARSE) name the field: "packages[3].version: expected a
 * string, got a number". Packages come out sorted. */
pw_err pw_inventory_from_json(pw_inventory *inv, const struct cJSON *obj, pw_error *err);

/* Sorts packages by name, arch, version, then the other fields (byte
 * order, NULL as ""): one canonical order for output and hashing. */
void pw_inventory_sort(pw_inventory *inv);
/* SHA-256 (hex, 65 bytes with NUL) over the sorted package list and OS
 * identity: equal content, equal hash, whatever the order of pkgs. The
 * hashed bytes, each string followed by one NUL (a NULL one is empty):
 * "patchwarden-inventory-1", os_id, os_version_id, then per package in
 * pw_inventory_sort order: name, version, arch, source, source_version,
 * status. Sorted inventories (what pw_inventory_read and
 * pw_inventory_from_json give) hash without allocating; for an unsorted
 * one without memory for an index, out is "". */
void pw_inventory_hash(const pw_inventory *inv, char out[65]);

#endif
