/* The scan: an inventory matched against an advisory index gives the
 * missing fixes (findings) with their priorities, the vulnerabilities
 * with no fix yet, and the fixes installed but not active (reboot,
 * restart). One host or a whole fleet; the same code everywhere
 * (DESIGN.md §2).
 *
 * Matching rules (DESIGN.md §4):
 *  - The host's ecosystem comes from its os-release (pw_ecosystem_from_os);
 *    only that release's own fixed versions count (backports).
 *  - Per source where the data is per source (pw_affected.by_source:
 *    Debian, Ubuntu, and Alpine, whose secdb and OSV name aports origins):
 *    a binary package is looked up by its source package (apk origin) and
 *    compared by its source version (a binNMU "+b1" binary version is not
 *    what the distro fixed). Otherwise (RPM) by binary name and version.
 *  - Versions compare with the ecosystem's own scheme (dpkg, rpm EVR with a
 *    missing epoch as 0, apk).
 *  - One finding per (package, advisory) where some installed binary is
 *    older than the fixed version; the binaries it concerns are listed.
 *    The same advisory id reached twice for one package is one finding
 *    with the union of CVEs.
 *  - rpm module streams: an installed module build (".module+el8",
 *    ".module_el8") is compared only with module builds, a non-modular
 *    package only with non-modular fixes. Among module builds only the
 *    installed package's stream counts: the stream is the leading
 *    version components the advisories name ("postgresql:12" -> 12.x,
 *    "nginx:1.14" -> 1.14.x; 1 component when no advisory says). An
 *    advisory that lists several builds of one package for that stream
 *    (one per platform release, e.g. module_el8.4.0 and module_el8.6.0)
 *    is fixed when the installed version reaches any of them.
 *  - Kernels: several kernel packages can be installed side by side and
 *    only one runs. Kernel packages are compared by the newest installed
 *    kernel; when that one has a fix the running kernel lacks, the fix is
 *    inactive (reboot), not missing. Older, not running kernels are not
 *    findings.
 *  - fixed / not-affected / DNE / ignored are not findings; unfixed
 *    statements for installed packages are listed apart.
 *
 * Lifetime: a result borrows strings from the index and the inventory it
 * was computed from; release it before either. */
#ifndef PATCHWARDEN_SCAN_H
#define PATCHWARDEN_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/ecosystem.h"
#include "patchwarden/error.h"
#include "patchwarden/inventory.h"
#include "patchwarden/matcher.h"
#include "patchwarden/policy.h"
#include "patchwarden/runtime.h"

struct cJSON;

/* What is known about the host beyond its inventory. */
typedef struct pw_scan_host {
	pw_exposure exposure;
	/* What the host's running processes use (runtime.h): read from /proc
	 * when scanning the live host, sent by its agent to the server. Makes
	 * "not in use" (low priority) and service restarts known. NULL
	 * otherwise. */
	const pw_runtime *runtime;
} pw_scan_host;

typedef struct pw_finding {
	const char *package; /* the name the fix is keyed by (source or binary) */
	bool by_source;
	const char *installed; /* lowest installed version concerned */
	const char *fixed;
	const pw_index_advisory *adv;
	const pw_index_cve *const *cves; /* the advisory's, merged when reached twice */
	size_t n_cves;
	const pw_package *const *binaries; /* installed packages older than `fixed` */
	size_t n_binaries;
	pw_priority priority;
	pw_priority_reason reason;
	pw_priority_input why; /* what the priority rules saw */
	int sla_days;
} pw_finding;

/* Affected, and the distro has no fix yet. */
typedef struct pw_unfixed {
	const char *package;
	bool by_source;
	const char *installed;
	const pw_index_advisory *adv;
	const char *note; /* the distro's remark, may be NULL */
	const pw_package *const *binaries;
	size_t n_binaries;
} pw_unfixed;

typedef enum pw_inactive_kind {
	PW_INACTIVE_REBOOT = 0,  /* the fixed kernel is installed, an older one runs */
	PW_INACTIVE_RESTART = 1, /* a process still maps a deleted (replaced) file */
} pw_inactive_kind;

typedef struct pw_inactive {
	pw_inactive_kind kind;
	/* reboot */
	const char *running;                  /* running kernel release (uname -r) */
	const char *package;                  /* kernel package the fixes are in; NULL when the
					       * host only reported that it needs a reboot */
	const char *installed;                /* newest installed kernel version (has the fixes) */
	const char *running_version;          /* version of the running kernel's package */
	const pw_index_advisory *const *advs; /* fixes waiting for the reboot */
	size_t n_advs;
	/* restart */
	int pid;
	const char *process;
	const char *file;
	const char *owner; /* dpkg package of the file, may be NULL */
	const char *unit;  /* systemd service of the process, may be NULL */
} pw_inactive;

typedef struct pw_scan_result {
	char ecosystem[PW_ECOSYSTEM_MAX];
	int64_t snapshot; /* of the index, -1 when built from records */
	pw_exposure exposure;
	const pw_inventory *inventory;
	bool in_use_known;    /* runtime facts were given and tell per package */
	pw_finding *findings; /* by priority (most urgent first), package, advisory */
	size_t n_findings;
	pw_unfixed *unfixed;
	size_t n_unfixed;
	pw_inactive *inactive;
	size_t n_inactive;
	size_t counts[PW_PRIO__COUNT]; /* findings per priority */
	const char *const *warnings;   /* packages skipped (invalid version, ...) */
	size_t n_warnings;
	void *mem; /* private: what the result owns */
} pw_scan_result;

#define PW_SCAN_RESULT_INIT                                                                        \
	{                                                                                          \
		{0}, -1, PW_EXPOSURE_INTERNAL, NULL, false, NULL, 0, NULL, 0, NULL, 0, {0}, NULL,  \
			0, NULL                                                                    \
	}

/* Scans one inventory. Fails for an inventory whose OS is unknown or has
 * no advisories in the index (a scan against no data would look clean). */
pw_err pw_scan_inventory(const pw_advindex *idx, const pw_inventory *inv, const pw_scan_host *host,
			 const pw_policy *policy, pw_scan_result *out, pw_error *err);
void pw_scan_result_release(pw_scan_result *r);

/* One host straight from a feed store, loading only what it needs into
 * `idx` (new, or holding the same snapshot): its packages' advisories, the
 * KEV catalogue, and the EPSS scores of the CVEs it lacks fixes for. The
 * result borrows from idx. Fails like pw_scan_inventory, and with
 * PW_ERR_NOTFOUND when the snapshot has no advisories for the host's
 * release. */
pw_err pw_scan_from_store(pw_advindex *idx, pw_feedstore *store, int64_t snapshot,
			  const pw_inventory *inv, const pw_scan_host *host,
			  const pw_policy *policy, pw_scan_result *out, pw_error *err);

/* The short text of why a finding has its priority. */
pw_err pw_finding_reason(const pw_finding *f, const pw_policy *policy, pw_buf *out);

/* The `patchwarden scan --json` object (caller owns it):
 * {"host":{"os":{...},"ecosystem","exposure","kernel":{...}},
 *  "snapshot", "summary":{"emergency","high","normal","low","unfixed","inactive"},
 *  "findings":[...], "unfixed":[...], "inactive":[...], "warnings":[...]}
 * Documented field by field in patchwarden-scan(1). NULL without memory. */
struct cJSON *pw_scan_result_to_json(const pw_scan_result *r, const pw_policy *policy);
/* The same, as the report `scan --format json` prints and the other
 * formats are written from (report.h): the report head (jsonout.h:
 * "schema_version", "created", "tool", "feed_snapshot" with
 * `snapshot_created`), and `hostname` (NULL: unknown) as "host"'s first
 * member. pw_scan_result_to_json passes NULL for both. */
struct cJSON *pw_scan_report_to_json(const pw_scan_result *r, const pw_policy *policy,
				     const char *hostname, const char *snapshot_created);

/* ---- fleets: many inventories, each distinct content scanned once ---- */

typedef struct pw_fleet_input {
	const pw_inventory *inventory;
	pw_exposure exposure;
	/* pw_inventory_hash of the inventory when it is already known (a
	 * stored inventory keeps it), else NULL: hashing costs about as much
	 * as the scan itself. */
	const char *hash;
} pw_fleet_input;

typedef struct pw_fleet_host_result {
	const pw_scan_result *result; /* shared by inputs of equal content; NULL on error */
	pw_err code;                  /* PW_OK, or why this input was not scanned */
	const char *error;            /* message when code != PW_OK */
	char inventory_hash[65];
} pw_fleet_host_result;

typedef struct pw_fleet_result {
	pw_fleet_host_result *hosts; /* one per input, in input order */
	size_t n_hosts;
	size_t n_distinct; /* scans actually run */
	void *mem;         /* private */
} pw_fleet_result;

/* clang-format off */
#define PW_FLEET_RESULT_INIT {NULL, 0, 0, NULL}
/* clang-format on */

/* Scans `n` inventories with `threads` workers (0: 2). Inputs with the
 * same content (pw_inventory_hash) and exposure are scanned once and share
 * their result. The index must already hold every needed ecosystem; an
 * input that cannot be scanned gets its own error, the others go on. */
pw_err pw_scan_fleet(const pw_advindex *idx, const pw_fleet_input *inputs, size_t n,
		     const pw_policy *policy, unsigned threads, pw_fleet_result *out,
		     pw_error *err);
void pw_fleet_result_release(pw_fleet_result *r);

#endif
