/* Recompute findings of stored hosts against a feed store: hosts.c does
 * the bookkeeping (each distinct inventory once, findings replaced per
 * host), the matcher the scan; this file loads the advisory index from
 * the store, takes the cross-node lock and records the snapshot. */
#include "patchwarden/findings.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "patchwarden/audit.h"
#include "patchwarden/clock.h"
#include "patchwarden/ecosystem.h"
#include "patchwarden/host_findings.h"
#include "patchwarden/inventory.h"
#include "patchwarden/matcher.h"
#include "patchwarden/sql.h"

/* ---- configuration ----------------------------------------------------- */

pw_err pw_findings_config_load(const pw_config *c, pw_findings_config *out, pw_error *err)
{
	static const char *const known[] = {"store", "recompute_interval", "stale_checkins", NULL};
	memset(out, 0, sizeof *out);
	pw_err rc = c ? pw_config_check_keys(c, "feeds", known, err) : PW_OK;
	if (!rc)
		rc = pw_config_get_int(c, "feeds", "recompute_interval", PW_FEEDS_INTERVAL_DEFAULT,
				       &out->recompute_interval, err);
	if (!rc && (out->recompute_interval < 0 || out->recompute_interval > PW_FEEDS_INTERVAL_MAX))
		rc = pw_error_set(err, PW_ERR_PARSE,
				  "[feeds] recompute_interval = %ld is out of range: give seconds "
				  "from 0 (never) to %d",
				  out->recompute_interval, PW_FEEDS_INTERVAL_MAX);
	if (!rc)
		rc = pw_config_get_int(c, "feeds", "stale_checkins",
				       PW_FEEDS_STALE_CHECKINS_DEFAULT, &out->stale_checkins, err);
	if (!rc && (out->stale_checkins < 1 || out->stale_checkins > 1000))
		rc = pw_error_set(err, PW_ERR_PARSE,
				  "[feeds] stale_checkins = %ld is out of range: give check-in "
				  "intervals from 1 to 1000",
				  out->stale_checkins);
	if (!rc)
		rc = pw_config_get_int(c, "server", "checkin_interval", PW_CHECKIN_INTERVAL_DEFAULT,
				       &out->checkin_interval, err);
	if (!rc && out->checkin_interval < 1)
		out->checkin_interval = PW_CHECKIN_INTERVAL_DEFAULT;
	if (!rc)
		rc = pw_policy_from_config(c, &out->policy, err);
	if (rc)
		return rc;
	const char *env = getenv("PATCHWARDEN_STORE");
	const char *v = pw_config_get(c, "feeds", "store");
	/* "store =" is the default written out: the server's database. */
	out->store = env && *env ? env : v && *v ? v : NULL;
	return PW_OK;
}

pw_err pw_findings_store_open(const char *path, pw_db *db, pw_feedstore **out, pw_error *err)
{
	*out = NULL;
	if (!path)
		return pw_feedstore_open_db(db, out, err);
	/* pw_feedstore_open would create an empty store, which scans as
	 * "no data" forever instead of telling the operator to import. */
	const char *file = pw_db_sqlite_path(path);
	if (file && access(file, F_OK) != 0)
		return pw_error_set(err, PW_ERR_NOTFOUND,
				    "no feed store at %s: import feeds into it ('patchwarden feed "
				    "import --store %s PATH' or 'feed sync'), or set [feeds] store",
				    file, path);
	return pw_feedstore_open(path, out, err);
}

/* ---- the scan callback --------------------------------------------------- */

/* The matcher over an advisory index filled from the store on demand:
 * whole ecosystems for a fleet, one inventory's packages for one host. */
struct store_scan {
	pw_feedstore *store;
	int64_t snapshot;
	bool whole;
	pw_advindex *idx;
	pw_host_matcher m;
};

static pw_err unsupported(pw_error *err)
{
	if (err)
		err->code = PW_ERR_UNSUPPORTED;
	return PW_ERR_UNSUPPORTED;
}

/* Loads what the inventory needs. The matcher parses the JSON again:
 * it keeps its own copy for the findings it returns. */
static pw_err load_for(struct store_scan *s, const char *json, pw_error *err)
{
	pw_inventory inv = PW_INVENTORY_INIT;
	cJSON *j = cJSON_Parse(json);
	pw_err rc = j ? pw_inventory_from_json(&inv, j, err)
		      : pw_error_set(err, PW_ERR_PARSE, "the stored inventory is not JSON");
	cJSON_Delete(j);
	char eco[PW_ECOSYSTEM_MAX];
	if (!rc && pw_ecosystem_from_os(inv.os_id, inv.os_version_id, inv.os_codename, eco, err))
		rc = unsupported(err);
	if (!rc)
		rc = pw_advindex_load(s->idx, s->store, s->snapshot, eco, s->whole ? NULL : &inv,
				      err);
	if (!rc && !pw_advindex_has_ecosystem(s->idx, eco))
		rc = pw_error_set(err, PW_ERR_UNSUPPORTED,
				  "feed snapshot %" PRId64 " has no advisories for %s; import that "
				  "release's feed to get its findings",
				  s->snapshot, eco);
	pw_inventory_release(&inv);
	return rc;
}

static pw_err store_scan_fn(void *ctx, const pw_host_scan_in *in, pw_host_scan_out *out,
			    pw_error *err)
{
	struct store_scan *s = ctx;
	pw_err rc = load_for(s, in->inventory_json, err);
	if (rc)
		return pw_error_prefix(err, "inventory %.64s: ", in->inventory_hash);
	return pw_host_matcher_scan(&s->m, in, out, err);
}

static pw_err store_scan_init(struct store_scan *s, pw_feedstore *store, int64_t snapshot,
			      bool whole, const pw_policy *policy, pw_error *err)
{
	pw_advindex *idx = NULL;
	pw_err rc = pw_advindex_new(&idx, err);
	*s = (struct store_scan){store, snapshot, whole, idx, PW_HOST_MATCHER_INIT(idx, policy)};
	return rc;
}

static void store_scan_release(struct store_scan *s)
{
	pw_host_matcher_release(&s->m);
	pw_advindex_free(s->idx);
}

pw_err pw_findings_scan_inventory(pw_feedstore *store, int64_t snapshot, const pw_policy *policy,
				  const char *inventory_json, pw_findings_each_fn fn, void *ctx,
				  pw_error *err)
{
	struct store_scan s;
	pw_err rc = store_scan_init(&s, store, snapshot, false, policy, err);
	pw_host_scan_in in = {"campaign-scan", inventory_json, NULL, NULL};
	pw_host_scan_out out = {NULL, 0, NULL, 0};
	if (!rc)
		rc = store_scan_fn(&s, &in, &out, err);
	for (size_t i = 0; !rc && i < out.n; i++)
		rc = fn(ctx, &out.v[i], err);
	store_scan_release(&s);
	return rc;
}

/* ---- the snapshot of record ------------------------------------------- */

pw_err pw_findings_snapshot(pw_db *db, int64_t *snapshot, pw_error *err)
{
	pw_stmt *st;
	*snapshot = 0;
	pw_err rc = pw_sql(db, "SELECT snapshot FROM findings_state WHERE id = 1", &st, err, "");
	return rc ? rc : pw_sql_int(st, snapshot, err);
}

struct record {
	const char *actor;
	const pw_findings_stats *st;
};

cJSON *pw_findings_stats_to_json(const pw_findings_stats *st)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddNumberToObject(o, "snapshot", (double)st->snapshot) &&
		  cJSON_AddNumberToObject(o, "hosts", (double)st->hosts) &&
		  cJSON_AddNumberToObject(o, "inventories", (double)st->inventories) &&
		  cJSON_AddNumberToObject(o, "skipped", (double)st->skipped) &&
		  cJSON_AddNumberToObject(o, "opened", (double)st->delta.opened) &&
		  cJSON_AddNumberToObject(o, "kept", (double)st->delta.kept) &&
		  cJSON_AddNumberToObject(o, "fixed", (double)st->delta.fixed);
	cJSON *open = ok ? cJSON_AddObjectToObject(o, "open_findings") : NULL;
	ok = open != NULL;
	for (int p = 0; ok && p < PW_HOST_PRIO__COUNT; p++)
		ok = cJSON_AddNumberToObject(open, pw_host_prio_name((pw_host_prio)p),
					     (double)st->open[p]) != NULL;
	/* Milliseconds are all a person or a script needs. */
	if (ok)
		ok = cJSON_AddNumberToObject(o, "elapsed_seconds",
					     (double)(int64_t)(st->seconds * 1000 + 0.5) / 1000) !=
		     NULL;
	if (ok)
		return o;
	cJSON_Delete(o);
	return NULL;
}

static char *stats_json(const pw_findings_stats *st)
{
	cJSON *o = pw_findings_stats_to_json(st);
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}

static pw_err record_txn(pw_db *db, void *arg, pw_error *err)
{
	struct record *r = arg;
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "INSERT INTO findings_state (id, snapshot, computed) VALUES (1, ?, ?)"
			   " ON CONFLICT (id) DO UPDATE SET snapshot = excluded.snapshot,"
			   " computed = excluded.computed",
			   &st, err, "it", r->st->snapshot, now);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	char *after = rc ? NULL : stats_json(r->st);
	if (!rc && !after)
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory recording the recompute");
	char target[40];
	snprintf(target, sizeof target, "snapshot:%" PRId64, r->st->snapshot);
	if (!rc)
		rc = pw_audit_append(db, r->actor, "findings.recompute", target, NULL, after, NULL,
				     err);
	cJSON_free(after);
	return rc;
}

/* ---- runs ------------------------------------------------------------------ */

static double since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Under the lock: with `only_new`, nothing when the snapshot is the one
 * recorded already. */
static pw_err run_locked(pw_db *db, pw_feedstore *store, int64_t snapshot, const pw_policy *policy,
			 const char *actor, bool only_new, pw_findings_stats *st, pw_error *err)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pw_err rc = PW_OK;
	if (snapshot) {
		pw_snapshot_info info;
		rc = pw_feedstore_snapshot_info(store, snapshot, &info, err);
	} else {
		rc = pw_feedstore_latest(store, &snapshot, err);
	}
	int64_t recorded = 0;
	if (!rc && only_new)
		rc = pw_findings_snapshot(db, &recorded, err);
	if (rc || (only_new && recorded == snapshot))
		return rc;
	st->snapshot = snapshot;
	struct store_scan s;
	pw_host_recompute_stats hs = {0, 0, 0, {0, 0, 0}};
	rc = store_scan_init(&s, store, snapshot, true, policy, err);
	if (!rc)
		rc = pw_host_recompute_findings_at(db, snapshot, store_scan_fn, &s, &hs, err);
	store_scan_release(&s);
	st->hosts = hs.hosts;
	st->inventories = hs.inventories;
	st->skipped = hs.skipped;
	st->delta = hs.delta;
	if (!rc)
		rc = pw_host_findings_count(db, 0, st->open, err);
	st->seconds = since(&t0);
	struct record r = {actor, st};
	if (!rc)
		rc = pw_in_write_txn(db, record_txn, &r, err);
	st->ran = !rc;
	return rc;
}

static pw_err run(pw_db *db, pw_feedstore *store, int64_t snapshot, const pw_policy *policy,
		  const char *actor, bool only_new, pw_findings_stats *stats, pw_error *err)
{
	pw_findings_stats st;
	memset(&st, 0, sizeof st);
	bool got = false;
	pw_err rc = pw_db_try_lock(db, PW_FINDINGS_LOCK_KEY, &got, err);
	if (!rc && got) {
		rc = run_locked(db, store, snapshot, policy, actor, only_new, &st, err);
		pw_error e = PW_ERROR_INIT;
		pw_err urc = pw_db_unlock(db, PW_FINDINGS_LOCK_KEY, &e);
		if (!rc && urc) {
			rc = urc;
			if (err)
				*err = e;
		}
	}
	if (stats)
		*stats = st;
	return rc;
}

pw_err pw_findings_recompute(pw_db *db, pw_feedstore *store, int64_t snapshot,
			     const pw_policy *policy, const char *actor, pw_findings_stats *stats,
			     pw_error *err)
{
	return run(db, store, snapshot, policy, actor, false, stats, err);
}

pw_err pw_findings_refresh(pw_db *db, pw_feedstore *store, const pw_policy *policy,
			   const char *actor, pw_findings_stats *stats, pw_error *err)
{
	return run(db, store, 0, policy, actor, true, stats, err);
}

pw_err pw_findings_recompute_host(pw_db *db, pw_feedstore *store, const pw_policy *policy,
				  int64_t host_id, pw_host_findings_delta *delta, pw_error *err)
{
	int64_t snapshot = 0;
	pw_err rc = pw_feedstore_latest(store, &snapshot, err);
	if (rc)
		return rc;
	struct store_scan s;
	rc = store_scan_init(&s, store, snapshot, false, policy, err);
	if (!rc)
		rc = pw_host_recompute_host_at(db, snapshot, host_id, store_scan_fn, &s, delta,
					       err);
	store_scan_release(&s);
	return rc;
}
