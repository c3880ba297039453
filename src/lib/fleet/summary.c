/* The fleet summary (summary.h): the hosts with their coverage, then a
 * few counting queries, and the KEV list of the newest snapshot. */
#include "patchwarden/summary.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patchwarden/clock.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/grow.h"
#include "patchwarden/sql.h"

/* The KEV CVEs of a snapshot, sorted. */
struct kev_set {
	char **v;
	size_t n, cap;
};

static pw_err kev_add(void *ctx, const pw_kev_entry *e, pw_error *err)
{
	struct kev_set *k = ctx;
	char **v = pw_grow(k->v, &k->cap, k->n, sizeof *v);
	char *s = v ? strdup(e->cve) : NULL;
	if (v)
		k->v = v;
	if (!s)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	k->v[k->n++] = s;
	return PW_OK;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void kev_release(struct kev_set *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
}

static pw_err kev_load(pw_db *db, const char *store_path, int64_t snapshot, struct kev_set *k,
		       pw_error *err)
{
	pw_feedstore *store = NULL;
	pw_err rc = pw_findings_store_open(store_path, db, &store, err);
	if (!rc)
		rc = pw_feedstore_each_kev(store, snapshot, kev_add, k, err);
	pw_feedstore_close(store);
	if (!rc && k->n)
		qsort(k->v, k->n, sizeof *k->v, by_str);
	return rc;
}

/* Whether a comma-separated list of CVEs has one in `k`. */
static bool any_kev(const struct kev_set *k, const char *cves)
{
	while (cves && *cves) {
		const char *end = strchr(cves, ',');
		size_t len = end ? (size_t)(end - cves) : strlen(cves);
		char one[64];
		if (len < sizeof one) {
			memcpy(one, cves, len);
			one[len] = '\0';
			const char *key = one;
			if (bsearch(&key, k->v, k->n, sizeof *k->v, by_str))
				return true;
		}
		cves = end ? end + 1 : NULL;
	}
	return false;
}

static pw_err count_kev(pw_db *db, const struct kev_set *k, int64_t *out, pw_error *err)
{
	pw_stmt *st = NULL;
	pw_err rc = pw_sql(db,
			   "SELECT host_id, cves FROM findings WHERE fixed_at IS NULL"
			   " AND cves <> '' ORDER BY host_id",
			   &st, err, "");
	int64_t last = 0;
	while (!rc) {
		bool row = false;
		rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			break;
		int64_t host = pw_stmt_int(st, 0);
		if (host != last && any_kev(k, pw_stmt_text(st, 1))) {
			(*out)++;
			last = host;
		}
	}
	return rc;
}

/* Hosts with an open finding first seen more than its priority's SLA
 * days ago (the SLA configured now), or whose CVE's KEV due date has
 * passed: CISA's deadline is a breach even on a finding seen today. */
static pw_err count_past_sla(pw_db *db, const pw_policy *policy, int64_t *out, pw_error *err)
{
	static const pw_priority prio[PW_HOST_PRIO__COUNT] = {
		[PW_HOST_PRIO_EMERGENCY] = PW_PRIO_EMERGENCY,
		[PW_HOST_PRIO_HIGH] = PW_PRIO_HIGH,
		[PW_HOST_PRIO_NORMAL] = PW_PRIO_NORMAL,
		[PW_HOST_PRIO_LOW] = PW_PRIO_LOW,
	};
	char due[PW_HOST_PRIO__COUNT][PW_TS_LEN];
	for (int p = 0; p < PW_HOST_PRIO__COUNT; p++)
		pw_ts_now(due[p], -(int64_t)policy->sla_days[prio[p]] * 86400);
	char today[PW_TS_LEN];
	pw_ts_now(today, 0);
	today[10] = '\0';
	pw_stmt *st = NULL;
	pw_err rc = pw_sql(db,
			   "SELECT COUNT(DISTINCT host_id) FROM findings WHERE fixed_at IS NULL"
			   " AND (kev_due < ?"
			   " OR (priority = 'emergency' AND first_seen < ?)"
			   " OR (priority = 'high' AND first_seen < ?)"
			   " OR (priority = 'normal' AND first_seen < ?)"
			   " OR (priority = 'low' AND first_seen < ?))",
			   &st, err, "ttttt", today, due[0], due[1], due[2], due[3]);
	return rc ? rc : pw_sql_int(st, out, err);
}

static int64_t age_seconds(const char *created)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	if (sscanf(created, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm), now = time(NULL);
	return now > t ? (int64_t)(now - t) : 0;
}

pw_err pw_fleet_summary_get(pw_db *db, const pw_findings_config *cfg, pw_fleet_summary *out,
			    pw_error *err)
{
	memset(out, 0, sizeof *out);
	pw_coverage_ctx cov;
	pw_err rc = pw_coverage_load(db, cfg, &cov, err);
	if (rc)
		return rc;
	out->snapshot = cov.snapshot;
	snprintf(out->snapshot_created, sizeof out->snapshot_created, "%s", cov.created);
	out->snapshot_age_seconds = cov.snapshot ? age_seconds(cov.created) : 0;
	out->snapshot_age_days = out->snapshot_age_seconds / 86400;
	pw_host_list l = PW_HOST_LIST_INIT;
	rc = pw_host_list_query(db, NULL, &l, err);
	pw_host_list_coverage_set(&cov, &l);
	pw_coverage_ctx_release(&cov);
	char patched_before[PW_TS_LEN];
	pw_ts_now(patched_before, -(int64_t)PW_HOST_PATCH_POLICY_DAYS * 86400);
	for (size_t i = 0; !rc && i < l.n; i++) {
		const pw_host *h = &l.v[i];
		out->hosts++;
		out->coverage[h->coverage]++;
		const char *p = h->f[PW_HF_LAST_PATCHED];
		if (!p || strcmp(p, patched_before) < 0)
			out->unpatched++;
	}
	pw_host_list_release(&l);
	if (!rc)
		rc = pw_host_findings_count(db, 0, out->open, err);
	if (!rc)
		rc = count_past_sla(db, &cfg->policy, &out->past_sla, err);
	struct kev_set k = {NULL, 0, 0};
	if (!rc && out->snapshot)
		rc = kev_load(db, cfg->store, out->snapshot, &k, err);
	if (!rc && k.n)
		rc = count_kev(db, &k, &out->kev, err);
	kev_release(&k);
	return rc;
}

cJSON *pw_fleet_summary_to_json(const pw_fleet_summary *s)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddNumberToObject(o, "hosts", (double)s->hosts);
	cJSON *sub = ok ? cJSON_AddObjectToObject(o, "coverage") : NULL;
	ok = sub != NULL;
	for (int c = PW_COVERAGE_COVERED; ok && c < PW_COVERAGE__COUNT; c++)
		ok = cJSON_AddNumberToObject(sub, pw_host_coverage_name((pw_host_coverage)c),
					     (double)s->coverage[c]) != NULL;
	sub = ok ? cJSON_AddObjectToObject(o, "open_findings") : NULL;
	ok = sub != NULL;
	for (int p = 0; ok && p < PW_HOST_PRIO__COUNT; p++)
		ok = cJSON_AddNumberToObject(sub, pw_host_prio_name((pw_host_prio)p),
					     (double)s->open[p]) != NULL;
	ok = ok && cJSON_AddNumberToObject(o, "hosts_past_sla", (double)s->past_sla) &&
	     cJSON_AddNumberToObject(o, "hosts_unpatched", (double)s->unpatched) &&
	     cJSON_AddNumberToObject(o, "unpatched_days", PW_HOST_PATCH_POLICY_DAYS) &&
	     cJSON_AddNumberToObject(o, "hosts_kev", (double)s->kev);
	if (ok && !s->snapshot) {
		ok = cJSON_AddNullToObject(o, "feed_snapshot") != NULL;
	} else if (ok) {
		sub = cJSON_AddObjectToObject(o, "feed_snapshot");
		ok = sub && cJSON_AddNumberToObject(sub, "id", (double)s->snapshot) &&
		     cJSON_AddStringToObject(sub, "created", s->snapshot_created) &&
		     cJSON_AddNumberToObject(sub, "age_days", (double)s->snapshot_age_days);
	}
	if (ok)
		return o;
	cJSON_Delete(o);
	return NULL;
}
