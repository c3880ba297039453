/* The fleet at a glance (GET /api/v1/summary, `patchwarden summary`):
 * hosts by coverage state (coverage.h), open findings per priority,
 * hosts past their findings' SLA, hosts not patched within the patch
 * policy, hosts exposed to a KEV-listed CVE, and the feed snapshot the
 * findings are judged against with its age. */
#ifndef PATCHWARDEN_SUMMARY_H
#define PATCHWARDEN_SUMMARY_H

#include <stdint.h>

#include "patchwarden/coverage.h"
#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/findings.h"
#include "patchwarden/hosts.h"

struct cJSON;

typedef struct pw_fleet_summary {
	int64_t hosts;
	int64_t coverage[PW_COVERAGE__COUNT]; /* hosts per state */
	int64_t open[PW_HOST_PRIO__COUNT];    /* open findings of all hosts */
	int64_t past_sla;  /* hosts with an open finding older than its priority's SLA days */
	int64_t unpatched; /* hosts last patched over PW_HOST_PATCH_POLICY_DAYS ago, or never */
	int64_t kev;       /* hosts with an open finding of a CVE in the snapshot's KEV list */
	int64_t snapshot;  /* the feed store's newest; 0: none */
	char snapshot_created[32];
	int64_t snapshot_age_days;
	int64_t snapshot_age_seconds; /* for /metrics */
} pw_fleet_summary;

/* Computes the summary: the feed store, the SLAs ([policy]) and the
 * staleness from `cfg` (pw_findings_config_load). Call it outside a
 * transaction. */
pw_err pw_fleet_summary_get(pw_db *db, const pw_findings_config *cfg, pw_fleet_summary *out,
			    pw_error *err);

/* The one shape of the CLI's --json and the API: {"hosts", "coverage":
 * {"covered", "never_reported", "no_feed", "stale", "pending"},
 * "open_findings": {"emergency", "high", "normal", "low"},
 * "hosts_past_sla", "hosts_unpatched", "unpatched_days", "hosts_kev",
 * "feed_snapshot": null | {"id", "created", "age_days"}}. NULL when out of
 * memory. */
struct cJSON *pw_fleet_summary_to_json(const pw_fleet_summary *s);

#endif
