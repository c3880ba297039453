/* The hosts' stored findings: replaced per host as a whole, counted by
 * priority, and recomputed from the stored inventories by a scan function
 * (the matcher of scan.h behind pw_host_matcher_scan). */
#ifndef PATCHWARDEN_HOST_FINDINGS_H
#define PATCHWARDEN_HOST_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/hosts.h"
#include "patchwarden/scan.h"

/* ---- findings -------------------------------------------------------- */

/* One finding of a scan, as the matcher reports it. */
typedef struct pw_host_finding {
	const char *package;   /* binary package name */
	const char *advisory;  /* "DSA-5678-1", "ALSA-2024:1234", a CVE id */
	const char *installed; /* installed version */
	const char *fixed;     /* version that fixes it */
	pw_host_prio priority;
	const char *cves; /* "CVE-2024-1,CVE-2024-2", may be "" */
	/* What scan --json says besides; zero/NULL when unknown. */
	bool by_source;       /* `package` is a source package */
	const char *reason;   /* why this priority */
	int sla_days;         /* to fix it in; 0: none */
	const char *kev_cve;  /* a CVE of it in CISA KEV */
	const char *kev_due;  /* that entry's due date (YYYY-MM-DD) */
	const char *epss_cve; /* the CVE with the highest EPSS; NULL: none known */
	double epss;          /* its score */
	int64_t snapshot;     /* the feed snapshot it was computed from; 0: unknown */
} pw_host_finding;

typedef struct pw_host_findings_delta {
	size_t opened, kept, fixed;
} pw_host_findings_delta;

/* A package whose fix is installed while a process still runs its old
 * code (it maps or executes a file the upgrade replaced): the host's
 * open findings of that package stay open, with `reason`, until the
 * process restarts or the host reboots. */
typedef struct pw_host_hold {
	const char *package; /* a finding's package: binary or source name */
	const char *reason;
} pw_host_hold;

/* What a scan function is given: one stored inventory (the inventories
 * table: `hash` and its JSON as the agent sent it), the hosts' runtime
 * facts (runtime.h JSON; NULL: none sent) and their exposure (the
 * field's value, NULL when unset). */
typedef struct pw_host_scan_in {
	const char *inventory_hash;
	const char *inventory_json;
	const char *runtime_json;
	const char *exposure;
} pw_host_scan_in;

/* Its findings and holds, valid until the next call. */
typedef struct pw_host_scan_out {
	const pw_host_finding *v;
	size_t n;
	const pw_host_hold *holds;
	size_t n_holds;
} pw_host_scan_out;

/* Makes `v` the host's open findings in one transaction: new ones open
 * with first_seen now, persisting ones (same package and advisory) keep
 * first_seen and take the new versions, priority and CVEs, and open ones
 * not in `v` get fixed_at now. The same (package, advisory) twice in `v`
 * is PW_ERR_INVALID. */
pw_err pw_host_findings_replace(pw_db *db, int64_t host_id, const pw_host_finding *v, size_t n,
				pw_host_findings_delta *delta, pw_error *err);

/* The same, recording that they were computed against feed snapshot
 * `snapshot` from the inventory `inventory` (the host's coverage,
 * coverage.h); snapshot 0 records nothing, as pw_host_findings_replace. */
pw_err pw_host_findings_replace_from(pw_db *db, int64_t host_id, int64_t snapshot,
				     const char *inventory, const pw_host_finding *v, size_t n,
				     pw_host_findings_delta *delta, pw_error *err);
/* And with holds: an open finding not in `v` whose package a hold names
 * stays open (counted kept) with the hold's reason instead of fixed. */
pw_err pw_host_findings_replace_held(pw_db *db, int64_t host_id, int64_t snapshot,
				     const char *inventory, const pw_host_scan_out *out,
				     pw_host_findings_delta *delta, pw_error *err);

/* Open findings of a host per priority; of the whole fleet for host_id 0. */
pw_err pw_host_findings_count(pw_db *db, int64_t host_id, int64_t counts[PW_HOST_PRIO__COUNT],
			      pw_error *err);

/* ---- reading findings --------------------------------------------------- */

/* A stored finding as the API and the CLI show it. */
typedef struct pw_finding_row {
	int64_t id, host_id;
	char *hostname, *package, *advisory, *installed, *fixed, *priority, *cves, *reason;
	char *due, *kev_cve, *kev_due, *epss_cve, *first_seen, *fixed_at;
	bool by_source, has_epss, has_sla;
	double epss;
	int64_t sla_days, snapshot; /* snapshot 0: unknown (stored before it was kept) */
	char *ecosystem;            /* the host's release ("debian:12"); NULL: unknown */
} pw_finding_row;

typedef struct pw_finding_list {
	pw_finding_row *v;
	size_t n, cap;
} pw_finding_list;

/* clang-format off */
#define PW_FINDING_LIST_INIT {NULL, 0, 0}
/* clang-format on */
void pw_finding_list_release(pw_finding_list *l);

/* The states a finding can be in. Today's data knows "open" (fixed_at
 * unset) and "fixed"; "accepted" (a risk acceptance) and
 * "unfixed-upstream" (no fixed version yet) are valid filter values that
 * match nothing until campaigns and unfixed findings are stored. */
const char *pw_finding_state(const pw_finding_row *r);

/* The record as JSON, the one shape of the CLI's --json and the API
 * (docs/records.md, "finding"): "id", "host_id", "hostname", "package",
 * "by_source", "installed", "fixed", "advisory", "cves" [..], "priority",
 * "reason", "sla_days", "due", "kev" {"cve", "due_date"} | null, "epss"
 * {"cve", "score"} | null, "first_seen", "fixed_at", "state", "snapshot",
 * "ecosystem" (the host's release; members named as in scan --json).
 * NULL when out of memory. */
struct cJSON *pw_finding_to_json(const pw_finding_row *r);

/* The findings as one document: what `findings --format json` prints,
 * the other formats are written from (report.h) and GET /api/v1/findings
 * pages (adding "next_after"): the report head (jsonout.h) with feed
 * snapshot `snapshot` (0: none) created `snapshot_created`, then
 * "findings": [records]. NULL when out of memory. */
struct cJSON *pw_finding_report_json(const pw_finding_list *l, int64_t snapshot,
				     const char *snapshot_created);

/* NULL/0 members do not filter. Values are checked (PW_ERR_INVALID
 * naming the filter). */
typedef struct pw_finding_filter {
	int64_t host_id;        /* one host */
	pw_host_filter host;    /* the hosts' filters, as GET /hosts */
	const char *priority;   /* emergency, high, normal, low */
	const char *state;      /* open, fixed, accepted, unfixed-upstream */
	const char *package;    /* the stored package name, exactly */
	const char *cve;        /* CVE-YYYY-N, one of the finding's CVEs */
	const char *advisory;   /* exactly */
	int kev;                /* 1: in KEV, -1: not in KEV, 0: any */
	const char *due_before; /* YYYY-MM-DD: due before that day */
} pw_finding_filter;

/* clang-format off */
#define PW_FINDING_FILTER_INIT {0, PW_HOST_FILTER_INIT, NULL, NULL, NULL, NULL, NULL, 0, NULL}
/* clang-format on */

/* Appends a page of the findings matching `f` (NULL: all) to `out`, by
 * id: those after `after`, at most `limit` (1 or more). */
pw_err pw_finding_page(pw_db *db, const pw_finding_filter *f, int64_t after, int64_t limit,
		       pw_finding_list *out, pw_error *err);

/* ---- recomputing findings ---------------------------------------------- */

/* Scans one input. PW_ERR_UNSUPPORTED means "no data to scan this
 * inventory against" (an OS the feeds do not cover): its hosts keep
 * their findings. pw_host_matcher_scan below is the matcher (scan.h)
 * behind this interface; tests plug in their own. */
typedef pw_err (*pw_host_scan_fn)(void *ctx, const pw_host_scan_in *in, pw_host_scan_out *out,
				  pw_error *err);

typedef struct pw_host_recompute_stats {
	size_t inventories; /* distinct inventories scanned */
	size_t hosts;       /* hosts whose findings were replaced */
	size_t skipped; /* hosts whose inventory the scan could not cover (PW_ERR_UNSUPPORTED) */
	pw_host_findings_delta delta; /* summed over the hosts */
} pw_host_recompute_stats;

/* After a new feed snapshot: scans each distinct inventory of the fleet
 * once per exposure and runtime facts (priorities depend on them) and
 * replaces the findings
 * of every host that has it (one transaction per host). Hosts without an
 * inventory keep theirs, and so do the skipped ones: one host of an OS
 * the feeds do not cover must not hold up the fleet. Any other error
 * stops the run; hosts done before it keep their new findings, so a
 * rerun completes it. */
pw_err pw_host_recompute_findings(pw_db *db, pw_host_scan_fn scan, void *ctx,
				  pw_host_recompute_stats *stats, pw_error *err);

/* After a host's inventory changed: the same for that one host.
 * PW_ERR_NOTFOUND when the host has no inventory yet; the scan's
 * PW_ERR_UNSUPPORTED is returned as it is. */
pw_err pw_host_recompute_host(pw_db *db, int64_t host_id, pw_host_scan_fn scan, void *ctx,
			      pw_host_findings_delta *delta, pw_error *err);

/* Both, recording on each host whose findings they replace that these
 * were computed against feed snapshot `snapshot` (0: nothing recorded). */
pw_err pw_host_recompute_findings_at(pw_db *db, int64_t snapshot, pw_host_scan_fn scan, void *ctx,
				     pw_host_recompute_stats *stats, pw_error *err);
pw_err pw_host_recompute_host_at(pw_db *db, int64_t snapshot, int64_t host_id, pw_host_scan_fn scan,
				 void *ctx, pw_host_findings_delta *delta, pw_error *err);

/* The matcher as a pw_host_scan_fn: `ctx` is a pw_host_matcher holding
 * an advisory index with the fleet's ecosystems (pw_advindex_load) and
 * the priority policy. The runtime facts go to the scan as a scan of /
 * reads them (pw_scan_host), so priorities follow the same rule; each
 * restart the scan lists makes a hold for its package (by binary and
 * source name). Inventories whose OS the index has no data for fail the
 * run (a scan against no data would look clean). */
typedef struct pw_host_matcher {
	const pw_advindex *idx;
	const pw_policy *policy;
	/* private: the last scan, which *v points into */
	pw_inventory inv;
	pw_runtime rt;
	pw_scan_result res;
	pw_host_finding *v;
	char **cves;
	char **reasons;
	size_t n;
	pw_host_hold *holds;
	size_t n_holds;
} pw_host_matcher;

#define PW_HOST_MATCHER_INIT(idx, policy)                                                          \
	{                                                                                          \
		(idx), (policy), PW_INVENTORY_INIT, PW_RUNTIME_INIT, PW_SCAN_RESULT_INIT, NULL,    \
			NULL, NULL, 0, NULL, 0                                                     \
	}
void pw_host_matcher_release(pw_host_matcher *m);
pw_err pw_host_matcher_scan(void *ctx, const pw_host_scan_in *in, pw_host_scan_out *out,
			    pw_error *err);

#endif
