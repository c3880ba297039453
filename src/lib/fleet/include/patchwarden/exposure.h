/* "Are we exposed to CVE-X?" in one call (GET /api/v1/cves/{cve},
 * GET /api/v1/advisories/{advisory}, `patchwarden cve` and `patchwarden
 * advisory`): the hosts in service grouped by what the server knows of
 * them for one CVE or advisory id, and what the feed store's newest
 * snapshot knows of the id.
 *
 *   affected      an open finding names it (the findings are listed)
 *   fixed         findings named it, all fixed now (when the last was)
 *   not_affected  covered (coverage.h) and no finding names it
 *   unknown       not covered: never reported, stale, no feed for the
 *                 release, pending; and every covered host without a
 *                 finding when no advisory of the snapshot names the id
 *                 (`known` false: the feeds cannot clear anyone of it)
 *
 * A finding names a CVE when the CVE is among its CVEs or is its
 * advisory (the Ubuntu CVE tracker's advisories are CVEs); it names an
 * advisory when it is that advisory. (pw_exposure in policy.h is where a
 * host sits, internet or internal: hence pw_vuln_exposure here.) */
#ifndef PATCHWARDEN_EXPOSURE_H
#define PATCHWARDEN_EXPOSURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/findings.h"
#include "patchwarden/hosts.h"
#include "patchwarden/text.h"

struct cJSON;

typedef enum pw_vuln_kind {
	PW_VULN_CVE = 0, /* a CVE id (pw_cve_id_ok) */
	PW_VULN_ADVISORY /* an advisory id as its feed names it (pw_advisory_id_ok) */
} pw_vuln_kind;

/* The groups, in the order the records and the verdict list them. */
typedef enum pw_exposed {
	PW_EXPOSED_AFFECTED = 0,
	PW_EXPOSED_FIXED,
	PW_EXPOSED_NOT_AFFECTED,
	PW_EXPOSED_UNKNOWN,
	PW_EXPOSED__COUNT
} pw_exposed;

/* "affected", "fixed", "not_affected", "unknown". */
const char *pw_exposed_name(pw_exposed g);

/* A stored finding that names the id. */
typedef struct pw_exposure_finding {
	int64_t id, host_id;
	char *package, *installed, *fixed, *advisory, *priority, *due, *kev_cve, *kev_due;
	char *fixed_at; /* NULL while open */
} pw_exposure_finding;

typedef struct pw_exposure_host {
	int64_t id;
	char *hostname;
	char release[64]; /* "debian:10"; "" when its OS names none */
	pw_host_coverage coverage;
	char coverage_detail[128];
	bool release_named; /* an advisory naming the id has data for the release */
	char *fixed_at;     /* fixed: when the last of its findings was fixed */
	/* affected: its open findings naming the id (pointers into the
	 * exposure's findings, which own them) */
	const pw_exposure_finding **findings;
	size_t n_findings;
} pw_exposure_host;

/* An advisory of the snapshot that names the id. */
typedef struct pw_exposure_advisory {
	char *id, *source;
	char *releases; /* space-separated, sorted */
} pw_exposure_advisory;

typedef struct pw_vuln_exposure {
	pw_vuln_kind kind;
	char id[PW_ADVISORY_ID_MAX + 1];
	int64_t snapshot; /* the feed store's newest; 0: none */
	bool known;       /* an advisory of that snapshot names the id */
	pw_exposure_advisory *advisories;
	size_t n_advisories;
	char **cves; /* a CVE: itself; an advisory: the CVEs its advisories name, sorted */
	size_t n_cves;
	/* Of those CVEs in the snapshot: the KEV entry due first and the
	 * highest EPSS score. */
	char kev_cve[32], kev_due[16];
	char epss_cve[32];
	bool has_epss;
	double epss, epss_percentile;
	pw_exposure_host *hosts[PW_EXPOSED__COUNT]; /* by hostname */
	size_t n_hosts[PW_EXPOSED__COUNT];
	pw_exposure_finding *findings; /* every stored finding naming it, of any host */
	size_t n_findings;
} pw_vuln_exposure;

/* clang-format off */
#define PW_VULN_EXPOSURE_INIT \
	{PW_VULN_CVE, "", 0, false, NULL, 0, NULL, 0, "", "", "", false, 0, 0, {NULL}, {0}, NULL, 0}
/* clang-format on */
void pw_vuln_exposure_release(pw_vuln_exposure *e);

/* The exposure of the hosts matching `f` (NULL: those in service) to
 * `id`, judged against the feed store of `cfg` (pw_findings_config_load;
 * its newest snapshot and staleness, as coverage.h). An id that does not
 * fit its kind's grammar is PW_ERR_INVALID naming it; an id no advisory
 * names is no error (`known` false). Call it outside a transaction. */
pw_err pw_vuln_exposure_get(pw_db *db, const pw_findings_config *cfg, pw_vuln_kind kind,
			    const char *id, const pw_host_filter *f, pw_vuln_exposure *out,
			    pw_error *err);

/* The one shape of the CLI's --json and the API (docs/records.md,
 * "exposure"): {"id", "kind", "known", "feed_snapshot", "advisories"
 * [{"id", "source", "releases" [..]}], "cves" [..], "kev" {"cve",
 * "due_date"} | null, "epss" {"cve", "score", "percentile"} | null,
 * "counts" {"affected", "fixed", "not_affected", "unknown"}, and the four
 * host lists, each host {"host_id", "hostname", "release"} plus, for
 * affected, "findings" [{"id", "package", "installed", "fixed",
 * "advisory", "priority", "due", "kev"}]; for fixed, "fixed_at"; for
 * not_affected, "release_named"; for unknown, "coverage" {"state",
 * "detail"}}. NULL when out of memory. */
struct cJSON *pw_exposure_to_json(const pw_vuln_exposure *e);

#endif
