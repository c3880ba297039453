/* The stored hosts' findings recomputed against a feed store: the
 * matcher (scan.h) over each host's stored inventory (hosts.h), when a
 * new feed snapshot lands (every distinct inventory scanned once) and
 * when one host's inventory changes. The server database remembers the
 * snapshot the fleet's findings were last computed against (table
 * findings_state, server migration 7), so a server notices a newer one.
 *
 * Configuration (patchwarden.conf), all optional:
 *   [feeds] store = FILE|URL           the feed store the server scans against
 *                                      ($PATCHWARDEN_STORE takes precedence);
 *                                      default: the server's own database, where
 *                                      'feed import' puts feeds by default too
 *           recompute_interval = 60    seconds between the server's looks for a
 *                                      newer snapshot; 0: never
 *           stale_checkins = 3         a host that has not checked in for this
 *                                      many [server] checkin_interval (900 s)
 *                                      is "stale" (coverage.h)
 * plus [policy] and [scan] (policy.h) for the priorities. */
#ifndef PATCHWARDEN_FINDINGS_H
#define PATCHWARDEN_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/config.h"
#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/hosts.h"
#include "patchwarden/host_findings.h"
#include "patchwarden/policy.h"

struct cJSON;

/* The pw_db_try_lock key a fleet recompute holds ("pwfr"). */
#define PW_FINDINGS_LOCK_KEY INT64_C(0x70776672)

#define PW_FEEDS_INTERVAL_DEFAULT 60
#define PW_FEEDS_INTERVAL_MAX 86400
#define PW_FEEDS_STALE_CHECKINS_DEFAULT 3
#define PW_CHECKIN_INTERVAL_DEFAULT 900

typedef struct pw_findings_config {
	const char *store;       /* the config or the environment; NULL: the server's database */
	long recompute_interval; /* seconds; 0: the server never looks */
	long checkin_interval;   /* [server] checkin_interval, seconds */
	long stale_checkins;     /* check-in intervals without one: stale */
	pw_policy policy;
} pw_findings_config;

/* Reads [feeds] (an unknown key or a value out of range is PW_ERR_PARSE
 * naming the key), [policy] and [scan]; `c` NULL gives the defaults.
 * Strings point into `c`, which must outlive *out. */
pw_err pw_findings_config_load(const pw_config *c, pw_findings_config *out, pw_error *err);

/* Opens the feed store at `path` without creating one: PW_ERR_NOTFOUND,
 * saying how to create it, when nothing is there. `path` NULL: the feed
 * tables of `db` itself (pw_feedstore_open_db; close the store first). */
pw_err pw_findings_store_open(const char *path, pw_db *db, pw_feedstore **out, pw_error *err);

typedef struct pw_findings_stats {
	bool ran;           /* false: another holder had the lock, or nothing was new */
	int64_t snapshot;   /* the feed snapshot scanned against */
	size_t hosts;       /* hosts whose findings were replaced */
	size_t inventories; /* distinct (inventory, exposure) pairs scanned */
	size_t skipped;     /* hosts whose OS the snapshot has no advisories for: kept theirs */
	pw_host_findings_delta delta;
	int64_t open[PW_HOST_PRIO__COUNT]; /* the fleet's open findings afterwards */
	double seconds;
} pw_findings_stats;

/* The counts as JSON: {"snapshot", "hosts", "inventories", "skipped",
 * "opened", "kept", "fixed", "open_findings":{"emergency",...},
 * "elapsed_seconds"}; NULL when out of memory. */
struct cJSON *pw_findings_stats_to_json(const pw_findings_stats *st);

/* Recomputes the findings of every host with an inventory against
 * `snapshot` of `store` (0: its newest), each distinct inventory scanned
 * once, records the snapshot in findings_state and writes the audit event
 * "findings.recompute" (target "snapshot:N", the counts after) by `actor`
 * in one transaction. One run at a time across processes and server
 * nodes (pw_db_try_lock): when another holds the lock, stats->ran is
 * false and nothing is done. Hosts whose OS has no advisories in the
 * snapshot keep their findings and are counted as skipped. The first
 * other error stops the run, leaving the snapshot unrecorded so the next
 * run completes it. */
pw_err pw_findings_recompute(pw_db *db, pw_feedstore *store, int64_t snapshot,
			     const pw_policy *policy, const char *actor, pw_findings_stats *stats,
			     pw_error *err);

/* The scheduler's step: pw_findings_recompute against the store's newest
 * snapshot when it is not the one recorded (a newer import, or another
 * store); stats->ran false when nothing was new or another node is at
 * it. PW_ERR_NOTFOUND when the store has no snapshot yet. */
pw_err pw_findings_refresh(pw_db *db, pw_feedstore *store, const pw_policy *policy,
			   const char *actor, pw_findings_stats *stats, pw_error *err);

/* One host whose inventory changed, against the store's newest snapshot,
 * loading only the advisories of its packages. PW_ERR_NOTFOUND when the
 * store has no snapshot or the host no inventory, PW_ERR_UNSUPPORTED
 * when the snapshot has no advisories for its OS (it keeps its findings).
 * Like the check-in that causes it, not audited. */
pw_err pw_findings_recompute_host(pw_db *db, pw_feedstore *store, const pw_policy *policy,
				  int64_t host_id, pw_host_findings_delta *delta, pw_error *err);

/* Scans one inventory (the JSON an agent sends; an inventory job's
 * output) against `snapshot` of `store` without storing anything: `fn`
 * gets each finding. The campaign driver's pre- and post-scans, both
 * against the campaign's pinned snapshot. PW_ERR_UNSUPPORTED when the
 * snapshot has no advisories for the inventory's OS. */
typedef pw_err (*pw_findings_each_fn)(void *ctx, const pw_host_finding *f, pw_error *err);
pw_err pw_findings_scan_inventory(pw_feedstore *store, int64_t snapshot, const pw_policy *policy,
				  const char *inventory_json, pw_findings_each_fn fn, void *ctx,
				  pw_error *err);

/* The snapshot the fleet's findings were last recomputed against, 0 when
 * never. */
pw_err pw_findings_snapshot(pw_db *db, int64_t *snapshot, pw_error *err);

#endif
