/* Compliance reports (issue 14): what an auditor asks for, computed from
 * the stored history as of a given time, so a report for a past date is
 * the report of that date and nothing that happened after it shows.
 *
 * The history read: hosts' enrollment (created) and decommissioning; the
 * patch dates (the operator's last_patched, a date they name, with its
 * earlier values from the audit events of the edits made by then, and
 * every patch job that finished done); findings' first_seen, fixed_at and due
 * dates (a finding is open at T when first seen by T and not fixed by T,
 * past its SLA when its due day is before T's day); risk acceptances'
 * sign-off, expiry date and expiry; each campaign host's state at T (the
 * last ticket event by T). A finding's priority and due date are the ones
 * stored now (a recompute against a newer feed may have moved them).
 *
 * A host is compliant at T when it is within the patch policy (patched
 * within max_days, or never patched and enrolled within max_days) and
 * has no open finding past its SLA. */
#ifndef PATCHWARDEN_COMPLIANCE_H
#define PATCHWARDEN_COMPLIANCE_H

#include <stdint.h>

#include "patchwarden/buf.h"
#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/feedstore.h"

struct cJSON;
struct pw_coverage_ctx;

typedef struct pw_compliance_query {
	int64_t as_of;     /* unix seconds: the report's time */
	long max_days;     /* the patch policy ([policy] max_days_unpatched, 90) */
	int trend_weeks;   /* points of the trend, a week apart, ending at as_of (13: a quarter) */
	const char *owner; /* only the hosts of this owner group; NULL: all */
	const char *category; /* only the hosts of this category; NULL: all */
	/* What the hosts' coverage is judged against (coverage.h): a host
	 * that had not reported an inventory by a time, or whose release the
	 * feed store has no advisories for, is not covered then: its findings
	 * are unknown and it is not compliant. NULL: every host counts as
	 * covered. */
	const struct pw_coverage_ctx *coverage;
} pw_compliance_query;

/* One point of the compliance trend. */
typedef struct pw_compliance_point {
	int64_t at;        /* unix seconds */
	int64_t hosts;     /* in service at `at` */
	int64_t compliant; /* of them */
	int64_t within_policy;
	int64_t not_covered; /* of the hosts: findings unknown (never reported, no feed) */
	int64_t open;        /* open findings */
	int64_t past_sla;    /* open findings past their SLA */
	double percent; /* compliant / hosts * 100, one decimal; NaN with no host (null in JSON) */
} pw_compliance_point;

/* The trend alone, for a page's chart: `n` points a week apart, the last
 * at q->as_of (q->trend_weeks is not read). *out is malloc'd. */
pw_err pw_compliance_series(pw_db *db, const pw_compliance_query *q, size_t n,
			    pw_compliance_point **out, pw_error *err);

/* The report document (docs/records.md, "compliance report"): "as_of",
 * "max_days_unpatched", "fleet" (totals), "trend" (points), "remediation"
 * (per priority: fixes by as_of, median and mean days from detection),
 * "campaigns" (each with its hosts' outcomes at as_of), "hosts" (per
 * host: last patched and days since, open findings per priority, past
 * SLA, accepted risks and countermeasures with their expiry, campaigns
 * and their state, compliant; "coverage": covered, never_reported or
 * no_feed, and when it is not covered null findings and compliance). */
pw_err pw_compliance_report(pw_db *db, const pw_compliance_query *q, struct cJSON **out,
			    pw_error *err);

/* The report's hosts as CSV (RFC 4180, csv.h's formula guard), one row
 * per host: host, owner_group, category, last_patched, days_since,
 * within_policy, emergency, high, normal, low, past_sla, accepted_risks,
 * countermeasures, campaigns, compliant (yes, no, unknown), coverage. */
pw_err pw_compliance_csv(const struct cJSON *doc, pw_buf *out, pw_error *err);

/* The report as one HTML page: inline CSS (and a print style), no
 * script, no external reference; SVG charts (compliance over time,
 * open findings by priority, days to remediate by priority) each with
 * its table. */
pw_err pw_compliance_html(const struct cJSON *doc, pw_buf *out, pw_error *err);

/* Mean time to remediate: the findings fixed by as_of (by an inventory
 * that no longer has them: fixed_at set, not closed by
 * decommissioning), days from first detection and from the advisory's
 * publication (the feed store's `store`, its newest snapshot; NULL: no
 * publication times) to the fix, per priority and per owner group: count,
 * median, mean. q->owner and q->category filter the hosts. */
pw_err pw_mttr_report(pw_db *db, pw_feedstore *store, const pw_compliance_query *q,
		      struct cJSON **out, pw_error *err);

/* The MTTR document as CSV: group_by (priority, owner_group), group,
 * fixed, detection_median_days, detection_mean_days, published,
 * publication_median_days, publication_mean_days. */
pw_err pw_mttr_csv(const struct cJSON *doc, pw_buf *out, pw_error *err);

#endif
