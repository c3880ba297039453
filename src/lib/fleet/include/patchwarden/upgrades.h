/* A host's open findings grouped by package upgrade: the unit an operator
 * patches (one `apt install` / `dnf upgrade` of a package) and a campaign
 * selects. One upgrade per package (the source package where the
 * distribution's data is per source), with the version that fixes all of
 * its findings, chosen by the ecosystem's own version order (vercmp.h). */
#ifndef PATCHWARDEN_UPGRADES_H
#define PATCHWARDEN_UPGRADES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/host_findings.h"
#include "patchwarden/hosts.h"
#include "patchwarden/inventory.h"
#include "patchwarden/vercmp.h"

/* A binary package the upgrade installs, at its installed version. */
typedef struct pw_upgrade_binary {
	char *name, *version;
} pw_upgrade_binary;

typedef struct pw_upgrade {
	int64_t host_id;
	char *hostname;
	char *package;  /* the source package when by_source, else the binary one */
	bool by_source; /* as the findings say (Debian, Ubuntu: per source) */
	/* by_source: the binaries installed from `package` on the host (its
	 * stored inventory), by name; else the package itself. */
	pw_upgrade_binary *binaries;
	size_t n_binaries;
	char *installed;   /* the lowest installed version among the findings */
	char *target;      /* the highest fixed version: fixes all of them */
	char **advisories; /* unique, sorted */
	size_t n_advisories;
	char **cves; /* unique, sorted */
	size_t n_cves;
	pw_host_prio highest_priority;
	char *earliest_due; /* YYYY-MM-DD, NULL when no finding has a due date */
	bool kev;           /* a finding with a CVE in CISA KEV */
	int64_t *findings;  /* the findings' ids, ascending */
	size_t n_findings;
} pw_upgrade;

typedef struct pw_upgrade_list {
	pw_upgrade *v;
	size_t n, cap;
} pw_upgrade_list;

/* clang-format off */
#define PW_UPGRADE_LIST_INIT {NULL, 0, 0}
/* clang-format on */
void pw_upgrade_list_release(pw_upgrade_list *l);

/* Groups the open rows of `rows` (fixed ones are left out) by (package,
 * by_source) and appends one upgrade per group to `out`, sorted by
 * highest priority (most urgent first), then package. Versions compare by
 * `scheme`; `inv` (NULL: none) names the binaries. A version the scheme's
 * tool refuses is PW_ERR_PARSE naming the finding. */
pw_err pw_upgrades_group(const pw_finding_row *rows, size_t n, pw_scheme scheme,
			 const pw_inventory *inv, pw_upgrade_list *out, pw_error *err);

/* The upgrades of host `host_id` from its open stored findings and its
 * stored inventory (hosts.inventory_hash; without one, its OS names the
 * version scheme). PW_ERR_NOTFOUND when there is no such host. */
pw_err pw_host_upgrades(pw_db *db, int64_t host_id, pw_upgrade_list *out, pw_error *err);

/* The record as JSON, the one shape of the CLI's --json and the API
 * (docs/records.md, "upgrade"): "host_id", "hostname", "package",
 * "by_source", "binaries" [{"name", "version"}], "installed", "target",
 * "advisories" [..], "cve_count", "cves" [..], "highest_priority",
 * "earliest_due", "kev", "findings" [ids]. NULL when out of memory. */
struct cJSON *pw_upgrade_to_json(const pw_upgrade *u);

/* ---- the fleet's upgrades --------------------------------------------- */

/* One upgrade across the hosts that need it: the hosts' upgrades of one
 * (package, by_source, target), what a campaign's upgrade selector picks
 * from. */
typedef struct pw_fleet_upgrade {
	char *package;
	bool by_source;
	char *target;
	int64_t hosts;   /* how many hosts need it */
	char **binaries; /* the binaries' names over those hosts, unique, sorted */
	size_t n_binaries;
	char **advisories; /* unique, sorted */
	size_t n_advisories;
	char **cves; /* unique, sorted */
	size_t n_cves;
	pw_host_prio highest_priority;
	char *earliest_due; /* NULL: none */
	bool kev;
	int64_t findings; /* open findings it closes, over the hosts */
} pw_fleet_upgrade;

typedef struct pw_fleet_upgrade_list {
	pw_fleet_upgrade *v;
	size_t n, cap;
} pw_fleet_upgrade_list;

/* clang-format off */
#define PW_FLEET_UPGRADE_LIST_INIT {NULL, 0, 0}
/* clang-format on */
void pw_fleet_upgrade_list_release(pw_fleet_upgrade_list *l);

/* Each host's upgrades (pw_host_upgrades) of the hosts matching `hosts`
 * (NULL: those in service), grouped by (package, by_source, target) and
 * appended to `out`, sorted by highest priority, package, target. */
pw_err pw_fleet_upgrades(pw_db *db, const pw_host_filter *hosts, pw_fleet_upgrade_list *out,
			 pw_error *err);

/* The record as JSON (docs/records.md, "fleet upgrade"): "package",
 * "by_source", "target", "hosts", "binaries" [names], "advisories" [..],
 * "cve_count", "cves" [..], "highest_priority", "earliest_due", "kev",
 * "findings" (a count). NULL when out of memory. */
struct cJSON *pw_fleet_upgrade_to_json(const pw_fleet_upgrade *u);

#endif
