/* A scan's findings grouped by package upgrade: the unit an operator
 * patches ("upgrade openssl to 3.0.11-1~deb12u2: fixes 4 advisories,
 * 9 CVEs, highest priority emergency") and a campaign will select.
 *
 * One upgrade per (package, by_source) of the findings: where the data is
 * per source package (Debian, Ubuntu, Alpine) that is the source, with the
 * binary packages installed from it (what `apt install` takes); otherwise
 * the binary package. Its target is the version that fixes all of its
 * advisories: the highest fixed version by the ecosystem's own comparison
 * (pw_ecosystem_scheme: dpkg, rpm EVR, apk), so "1.2.10" is above
 * "1.2.9", an epoch above any version without one, and "~" below
 * nothing.
 *
 * Lifetime: a list borrows from the scan result (and through it from the
 * index and the inventory); release it first. */
#ifndef PATCHWARDEN_UPGRADE_H
#define PATCHWARDEN_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/error.h"
#include "patchwarden/scan.h"

typedef struct pw_scan_upgrade {
	const char *package; /* the findings' package: source or binary name */
	bool by_source;
	const char *installed;             /* the lowest installed version of its findings */
	const char *target;                /* the highest fixed version: fixes all of them */
	const pw_finding *const *findings; /* its findings (one per advisory), in
					    * the result's order */
	size_t n_findings;
	const pw_package *const *binaries; /* installed packages concerned, each
					    * name once, in the findings' order */
	size_t n_binaries;
	const char *const *cves; /* distinct CVE ids of its findings, in order */
	size_t n_cves;
	pw_priority priority; /* the highest of its findings */
	int sla_days;         /* the shortest SLA of its findings */
	const char *kev_due;  /* the earliest KEV due date, NULL when none */
	bool kev;             /* a CVE of it is in CISA KEV */
} pw_scan_upgrade;

typedef struct pw_scan_upgrade_list {
	pw_scan_upgrade *v; /* by priority (most urgent first), then as the findings
			     * come (package name) */
	size_t n;
	void *mem; /* private */
} pw_scan_upgrade_list;

/* clang-format off */
#define PW_UPGRADE_LIST_INIT {NULL, 0, NULL}
/* clang-format on */

/* Groups r's findings by upgrade into `out` (owned by the caller: release
 * it). Fails only without memory (PW_ERR_NOMEM). */
pw_err pw_scan_upgrades(const pw_scan_result *r, pw_scan_upgrade_list *out, pw_error *err);
void pw_scan_upgrade_list_release(pw_scan_upgrade_list *l);

#endif
