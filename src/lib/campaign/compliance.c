/* Compliance reports (compliance.h): the stored history read once, then
 * evaluated at each time asked (the report's, and the trend's points). */
#include "patchwarden/compliance.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/clock.h"
#include "patchwarden/coverage.h"
#include "patchwarden/grow.h"
#include "patchwarden/hosts.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/sql.h"

#include "campaign-internal.h"

#define NEVER INT64_MAX
#define DAY 86400

/* A stored time (created, fixed_at, a date); NEVER for NULL or text that
 * is not one of the stored forms. */
static int64_t stored_time(pw_stmt *st, int col)
{
	const char *s = pw_stmt_text(st, col);
	int64_t t;
	pw_error e = PW_ERROR_INIT;
	return s && !pw_ts_parse("stored time", s, &t, NULL, &e) ? t : NEVER;
}

/* The bound of the SQL reads: all of as_of's second in every stored form
 * ("...SS.mmmZ", "...SSZ", a date). */
static void upto_text(int64_t t, char out[PW_TS_LEN])
{
	char s[PW_TS_SECONDS_LEN];
	pw_ts_seconds(t, s);
	snprintf(out, PW_TS_LEN, "%.19s.999Z", s);
}

static void date_text(int64_t t, char out[11])
{
	char s[PW_TS_SECONDS_LEN];
	pw_ts_seconds(t, s);
	snprintf(out, 11, "%.10s", s);
}

void pw_cx_free(struct cx_hist *x)
{
	for (size_t i = 0; i < x->nh; i++) {
		free(x->h[i].name);
		free(x->h[i].owner);
		free(x->h[i].category);
		free(x->h[i].no_feed);
	}
	for (size_t i = 0; i < x->nc; i++) {
		free(x->c[i].name);
		free(x->c[i].state);
		free(x->c[i].recheck);
	}
	for (size_t i = 0; i < x->nr; i++) {
		free(x->r[i].name);
		free(x->r[i].signed_by);
		free(x->r[i].expires_text);
	}
	for (size_t i = 0; i < x->nf; i++)
		free(x->f[i].advisory);
	free(x->h);
	free(x->f);
	free(x->p);
	free(x->c);
	free(x->r);
	memset(x, 0, sizeof *x);
}

/* The index of host `id` in x->h (sorted by id), or -1: a host the
 * filters left out. */
static long host_index(const struct cx_hist *x, int64_t id)
{
	size_t lo = 0, hi = x->nh;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->h[mid].id == id)
			return (long)mid;
		if (x->h[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static pw_err oom(pw_error *err)
{
	return pw_error_set(err, PW_ERR_NOMEM, "reading the history: out of memory");
}

/* Out of memory in the middle of a read: the statement is reset. */
static pw_err oom_at(pw_stmt *st, pw_error *err)
{
	pw_stmt_reset(st);
	return oom(err);
}

static pw_err load_hosts(pw_db *db, struct cx_hist *x, const char *upto, pw_error *err)
{
	const pw_compliance_query *q = x->q;
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "SELECT id, hostname, owner_group, category, created, decommissioned,"
			   " inventory_at, os_id, os_version_id, os_codename FROM hosts WHERE "
			   "created <= ? AND (CAST(? AS TEXT) IS NULL OR owner_group = ?)"
			   " AND (CAST(? AS TEXT) IS NULL OR category = ?) ORDER BY id",
			   &st, err, "ttttt", upto, q->owner, q->owner, q->category, q->category);
	size_t cap = 0;
	for (bool row = true; !rc && row;) {
		rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			break;
		struct cx_host *g = pw_grow(x->h, &cap, x->nh, sizeof *x->h);
		if (!g)
			return oom_at(st, err);
		x->h = g;
		struct cx_host *h = &x->h[x->nh++];
		bool o = false;
		*h = (struct cx_host){pw_stmt_int(st, 0),    pw_col_dup(st, 1, &o),
				      pw_col_dup(st, 2, &o), pw_col_dup(st, 3, &o),
				      stored_time(st, 4),    stored_time(st, 5),
				      stored_time(st, 6),    NULL};
		char release[PW_COVERAGE_RELEASE_MAX];
		if (q->coverage && h->reported != NEVER &&
		    !pw_coverage_has_feed(q->coverage, pw_stmt_text(st, 7), pw_stmt_text(st, 8),
					  pw_stmt_text(st, 9), release))
			o = o || !(h->no_feed = strdup(release));
		if (o)
			return oom_at(st, err);
	}
	return rc;
}

/* The earlier values of hosts.last_patched, which an edit overwrites:
 * each edit's audit event (by then) has the value it set. The event names
 * the host by its name then; a host renamed since is matched by none. */
static pw_err load_patch_history(pw_db *db, struct cx_hist *x, const char *upto, size_t *cap,
				 pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "SELECT h.id, a.after_json FROM audit_events a JOIN hosts h"
			   " ON h.hostname = substr(a.target, 6) WHERE a.target LIKE 'host:%'"
			   " AND a.action IN ('host.add', 'host.set', 'host.import') AND a.ts <= ?"
			   " AND a.after_json LIKE '%\"last\\_patched\"%' ESCAPE '\\'",
			   &st, err, "t", upto);
	for (bool row = true; !rc && row;) {
		rc = pw_stmt_step(st, &row, err);
		long hi = !rc && row ? host_index(x, pw_stmt_int(st, 0)) : -1;
		cJSON *after = hi >= 0 ? cJSON_Parse(pw_stmt_text(st, 1)) : NULL;
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(after, "last_patched");
		int64_t at = NEVER;
		pw_error e = PW_ERROR_INIT;
		if (cJSON_IsString(v) && pw_ts_parse("last_patched", v->valuestring, &at, NULL, &e))
			at = NEVER;
		cJSON_Delete(after);
		if (at == NEVER || at > x->q->as_of)
			continue;
		struct cx_patch *g = pw_grow(x->p, cap, x->np, sizeof *x->p);
		if (!g)
			return oom_at(st, err);
		x->p = g;
		x->p[x->np++] = (struct cx_patch){(size_t)hi, at};
	}
	return rc;
}

static pw_err load_patches(pw_db *db, struct cx_hist *x, const char *upto, pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "SELECT id, last_patched FROM hosts WHERE last_patched IS NOT NULL"
			   " AND last_patched <= ? UNION ALL SELECT host_id, finished FROM jobs"
			   " WHERE kind = 'patch' AND state = 'done' AND finished IS NOT NULL"
			   " AND finished <= ?",
			   &st, err, "tt", upto, upto);
	size_t cap = 0;
	for (bool row = true; !rc && row;) {
		rc = pw_stmt_step(st, &row, err);
		long hi = !rc && row ? host_index(x, pw_stmt_int(st, 0)) : -1;
		int64_t at = hi >= 0 ? stored_time(st, 1) : NEVER;
		if (at == NEVER || at > x->q->as_of)
			continue;
		struct cx_patch *g = pw_grow(x->p, &cap, x->np, sizeof *x->p);
		if (!g)
			return oom_at(st, err);
		x->p = g;
		x->p[x->np++] = (struct cx_patch){(size_t)hi, at};
	}
	return rc ? rc : load_patch_history(db, x, upto, &cap, err);
}

static pw_err load_findings(pw_db *db, struct cx_hist *x, const char *upto, pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "SELECT host_id, priority, first_seen, fixed_at, due, closed_reason,"
			   " kev_cve, advisory FROM findings WHERE first_seen <= ?",
			   &st, err, "t", upto);
	size_t cap = 0;
	for (bool row = true; !rc && row;) {
		rc = pw_stmt_step(st, &row, err);
		long hi = !rc && row ? host_index(x, pw_stmt_int(st, 0)) : -1;
		pw_host_prio prio;
		if (hi < 0 || !pw_host_prio_parse(pw_stmt_text(st, 1), &prio))
			continue;
		struct cx_finding f = {(size_t)hi,
				       prio,
				       stored_time(st, 2),
				       stored_time(st, 3),
				       stored_time(st, 4),
				       pw_stmt_is_null(st, 5),
				       !pw_stmt_is_null(st, 6),
				       NULL};
		if (f.first > x->q->as_of)
			continue;
		const char *adv = pw_stmt_text(st, 7);
		if ((x->what & CX_ADVISORIES) && !(f.advisory = strdup(adv ? adv : "")))
			f.first = NEVER;
		struct cx_finding *g = pw_grow(x->f, &cap, x->nf, sizeof *x->f);
		if (!g || f.first == NEVER) {
			free(f.advisory);
			return oom_at(st, err);
		}
		x->f = g;
		x->f[x->nf++] = f;
	}
	return rc;
}

/* When each host first reported: hosts.inventory_at is its newest
 * inventory's time, so an earlier one shows in the audit log (an agent's
 * check-in that carried one) or in a finding first seen then. */
static pw_err load_first_reports(pw_db *db, struct cx_hist *x, const char *upto, pw_error *err)
{
	for (size_t i = 0; i < x->nf; i++) {
		struct cx_host *h = &x->h[x->f[i].host];
		if (x->f[i].first < h->reported)
			h->reported = x->f[i].first;
	}
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "SELECT target, MIN(ts) FROM audit_events WHERE action = 'agent.checkin'"
			   " AND ts <= ? AND after_json LIKE '%\"inventory\\_hash\"%' ESCAPE '\\'"
			   " GROUP BY target",
			   &st, err, "t", upto);
	for (bool row = true; !rc && row;) {
		rc = pw_stmt_step(st, &row, err);
		const char *target = !rc && row ? pw_stmt_text(st, 0) : NULL;
		if (!target || strncmp(target, "host:", 5))
			continue;
		long hi = host_index(x, strtoll(target + 5, NULL, 10));
		int64_t at = hi >= 0 ? stored_time(st, 1) : NEVER;
		if (hi >= 0 && at < x->h[hi].reported)
			x->h[hi].reported = at;
	}
	return rc;
}

static pw_err load_campaigns(pw_db *db, struct cx_hist *x, const char *upto, pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(
		db,
		"SELECT c.id, c.name, c.emergency, c.created, t.host_id,"
		" (SELECT e.to_state FROM ticket_events e WHERE e.ticket_id = t.id AND e.ts <= ?"
		" AND e.to_state IS NOT NULL ORDER BY e.id DESC LIMIT 1), h.recheck"
		" FROM campaigns c JOIN tickets t ON t.campaign_id = c.id"
		" JOIN campaign_hosts h ON h.ticket_id = t.id WHERE c.created <= ? ORDER BY c.id, "
		"t.id",
		&st, err, "tt", upto, upto);
	size_t cap = 0;
	for (bool row = true; !rc && row;) {
		rc = pw_stmt_step(st, &row, err);
		long hi = !rc && row ? host_index(x, pw_stmt_int(st, 4)) : -1;
		if (hi < 0 || pw_stmt_is_null(st, 5) || stored_time(st, 3) > x->q->as_of)
			continue;
		struct cx_campaign *g = pw_grow(x->c, &cap, x->nc, sizeof *x->c);
		if (!g)
			return oom_at(st, err);
		x->c = g;
		bool o = false;
		x->c[x->nc++] = (struct cx_campaign){pw_stmt_int(st, 0),
						     pw_col_dup(st, 1, &o),
						     pw_stmt_int(st, 2) != 0,
						     stored_time(st, 3),
						     (size_t)hi,
						     pw_col_dup(st, 5, &o),
						     pw_col_dup(st, 6, &o)};
		if (o)
			return oom_at(st, err);
	}
	return rc;
}

static pw_err load_risks(pw_db *db, struct cx_hist *x, const char *upto, pw_error *err)
{
	pw_stmt *st;
	pw_err rc =
		pw_sql(db,
		       "SELECT r.host_id, r.campaign_id, c.name, r.signed, r.signed_by, r.expires,"
		       " r.expired FROM risk_acceptances r JOIN campaigns c ON c.id = r.campaign_id"
		       " WHERE r.signed IS NOT NULL AND r.signed <= ? ORDER BY r.id",
		       &st, err, "t", upto);
	size_t cap = 0;
	for (bool row = true; !rc && row;) {
		rc = pw_stmt_step(st, &row, err);
		long hi = !rc && row ? host_index(x, pw_stmt_int(st, 0)) : -1;
		if (hi < 0 || stored_time(st, 3) > x->q->as_of)
			continue;
		struct cx_risk *g = pw_grow(x->r, &cap, x->nr, sizeof *x->r);
		if (!g)
			return oom_at(st, err);
		x->r = g;
		bool o = false;
		int64_t expires = stored_time(st, 5), expired = stored_time(st, 6);
		x->r[x->nr++] = (struct cx_risk){(size_t)hi,
						 pw_stmt_int(st, 1),
						 pw_col_dup(st, 2, &o),
						 pw_col_dup(st, 4, &o),
						 pw_col_dup(st, 5, &o),
						 expires < expired ? expires : expired};
		if (o)
			return oom_at(st, err);
	}
	return rc;
}

pw_err pw_cx_load(pw_db *db, const pw_compliance_query *q, unsigned what, struct cx_hist *x,
		  pw_error *err)
{
	memset(x, 0, sizeof *x);
	x->q = q;
	x->what = what;
	char upto[PW_TS_LEN];
	upto_text(q->as_of, upto);
	/* One read transaction, so the rows agree (a caller's own will do). */
	bool own = !pw_db_in_transaction(db);
	pw_err rc = own ? pw_db_begin(db, err) : PW_OK;
	if (rc)
		return rc;
	rc = load_hosts(db, x, upto, err);
	rc = rc ? rc : load_patches(db, x, upto, err);
	rc = rc ? rc : load_findings(db, x, upto, err);
	if (q->coverage)
		rc = rc ? rc : load_first_reports(db, x, upto, err);
	if (what & CX_CAMPAIGNS) {
		rc = rc ? rc : load_campaigns(db, x, upto, err);
		rc = rc ? rc : load_risks(db, x, upto, err);
	}
	if (own)
		pw_db_rollback(db);
	if (rc)
		pw_cx_free(x);
	return rc;
}

/* ---- evaluation at one time -------------------------------------------- */

/* Each host's state at `t` (hs: x->nh items) and the fleet's point. */
static void evaluate(const struct cx_hist *x, int64_t t, struct cx_state *hs,
		     pw_compliance_point *pt)
{
	int64_t today = t - (t % DAY + DAY) % DAY, limit = t - x->q->max_days * DAY;
	/* No host in service: no share at all (not 100 %, which would
	 * read as a compliant fleet). */
	*pt = (pw_compliance_point){t, 0, 0, 0, 0, 0, 0, NAN};
	for (size_t i = 0; i < x->nh; i++) {
		const struct cx_host *h = &x->h[i];
		hs[i] = (struct cx_state){h->created <= t && h->decom > t,
					  NEVER,
					  {0, 0, 0, 0},
					  0,
					  false,
					  !x->q->coverage || (h->reported <= t && !h->no_feed)};
	}
	for (size_t i = 0; i < x->np; i++) {
		struct cx_state *s = &hs[x->p[i].host];
		if (x->p[i].at <= t && (s->last_patch == NEVER || x->p[i].at > s->last_patch))
			s->last_patch = x->p[i].at;
	}
	for (size_t i = 0; i < x->nf; i++) {
		const struct cx_finding *f = &x->f[i];
		struct cx_state *s = &hs[f->host];
		if (!s->in_service || !s->covered || f->first > t || f->fixed <= t)
			continue;
		s->open[f->prio]++;
		pt->open++;
		if (f->due != NEVER && f->due < today) {
			s->past_sla++;
			pt->past_sla++;
		}
	}
	for (size_t i = 0; i < x->nh; i++) {
		struct cx_state *s = &hs[i];
		if (!s->in_service)
			continue;
		s->within = s->last_patch != NEVER ? s->last_patch >= limit
						   : x->h[i].created >= limit;
		pt->hosts++;
		pt->within_policy += s->within;
		pt->not_covered += !s->covered;
		pt->compliant += s->covered && s->within && !s->past_sla;
	}
	if (pt->hosts)
		pt->percent = round(1000.0 * (double)pt->compliant / (double)pt->hosts) / 10;
}

static pw_err series(const struct cx_hist *x, size_t n, pw_compliance_point *pts, pw_error *err)
{
	struct cx_state *hs = calloc(x->nh ? x->nh : 1, sizeof *hs);
	if (!hs)
		return oom(err);
	for (size_t i = 0; i < n; i++)
		evaluate(x, x->q->as_of - (int64_t)(n - 1 - i) * 7 * DAY, hs, &pts[i]);
	free(hs);
	return PW_OK;
}

pw_err pw_compliance_series(pw_db *db, const pw_compliance_query *q, size_t n,
			    pw_compliance_point **out, pw_error *err)
{
	*out = NULL;
	if (n == 0 || n > 520)
		return pw_error_set(err, PW_ERR_INVALID, "a trend has 1 to 520 weekly points");
	struct cx_hist x;
	pw_err rc = pw_cx_load(db, q, 0, &x, err);
	if (rc)
		return rc;
	pw_compliance_point *pts = calloc(n, sizeof *pts);
	rc = pts ? series(&x, n, pts, err) : oom(err);
	pw_cx_free(&x);
	if (rc)
		free(pts);
	else
		*out = pts;
	return rc;
}

/* ---- the document -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

bool pw_cx_add_stats(cJSON *o, const char *median_key, const char *mean_key, double *v, size_t n)
{
	if (n == 0)
		return cJSON_AddNullToObject(o, median_key) && cJSON_AddNullToObject(o, mean_key);
	qsort(v, n, sizeof *v, cmp_double);
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return cJSON_AddNumberToObject(o, median_key, round(median * 10) / 10) &&
	       cJSON_AddNumberToObject(o, mean_key, round(sum / (double)n * 10) / 10);
}

static bool add_percent(cJSON *o, const pw_compliance_point *p)
{
	return (p->hosts ? cJSON_AddNumberToObject(o, "percent", p->percent)
			 : cJSON_AddNullToObject(o, "percent")) != NULL;
}

static cJSON *point_json(const pw_compliance_point *p)
{
	char d[11];
	date_text(p->at, d);
	cJSON *o = cJSON_CreateObject();
	bool ok = o && pw_json_add_str(o, "date", d) && pw_json_add_int(o, "hosts", p->hosts) &&
		  pw_json_add_int(o, "compliant", p->compliant) && add_percent(o, p) &&
		  pw_json_add_int(o, "within_policy", p->within_policy) &&
		  pw_json_add_int(o, "not_covered", p->not_covered) &&
		  pw_json_add_int(o, "open", p->open) &&
		  pw_json_add_int(o, "past_sla", p->past_sla);
	if (!ok)
		cJSON_Delete(o);
	return ok ? o : NULL;
}

static bool add_open(cJSON *o, const int64_t open[PW_HOST_PRIO__COUNT])
{
	cJSON *p = cJSON_AddObjectToObject(o, "open");
	bool ok = p != NULL;
	for (int i = 0; ok && i < PW_HOST_PRIO__COUNT; i++)
		ok = pw_json_add_int(p, pw_host_prio_name((pw_host_prio)i), open[i]);
	return ok;
}

/* The machine's outcomes (skipped and rolled back too), by stored name. */
static bool final_state(const char *s)
{
	pw_chost_state st;
	return pw_chost_state_parse(s, &st) && pw_chost_state_final(st);
}

static bool risk_active(const struct cx_risk *r, int64_t t)
{
	return r->ends > t;
}

/* A host's accepted risks, countermeasures and campaigns at as_of. */
static bool host_lists(const struct cx_hist *x, size_t hi, cJSON *o, int64_t *n_risks,
		       int64_t *n_cm)
{
	cJSON *ra = cJSON_AddArrayToObject(o, "accepted_risks");
	cJSON *cm = cJSON_AddArrayToObject(o, "countermeasures");
	cJSON *ca = cJSON_AddArrayToObject(o, "campaigns");
	bool ok = ra && cm && ca;
	for (size_t i = 0; ok && i < x->nr; i++) {
		const struct cx_risk *r = &x->r[i];
		if (r->host != hi || !risk_active(r, x->q->as_of))
			continue;
		cJSON *e = cJSON_CreateObject();
		ok = e && cJSON_AddItemToArray(ra, e) &&
		     pw_json_add_int(e, "campaign", r->campaign) &&
		     pw_json_add_str(e, "name", r->name) &&
		     pw_json_add_str(e, "signed_by", r->signed_by) &&
		     pw_json_add_str(e, "expires", r->expires_text);
		(*n_risks)++;
	}
	for (size_t i = 0; ok && i < x->nc; i++) {
		const struct cx_campaign *c = &x->c[i];
		if (c->host != hi)
			continue;
		cJSON *e = cJSON_CreateObject();
		ok = e && cJSON_AddItemToArray(ca, e) && pw_json_add_int(e, "id", c->id) &&
		     pw_json_add_str(e, "name", c->name) &&
		     cJSON_AddBoolToObject(e, "emergency", c->emergency) &&
		     pw_json_add_str(e, "state", c->state);
		if (!ok || strcmp(c->state, "countermeasure"))
			continue;
		e = cJSON_CreateObject();
		ok = e && cJSON_AddItemToArray(cm, e) && pw_json_add_int(e, "campaign", c->id) &&
		     pw_json_add_str(e, "name", c->name) &&
		     pw_json_add_str(e, "recheck", c->recheck);
		(*n_cm)++;
	}
	return ok;
}

static cJSON *host_json(const struct cx_hist *x, size_t hi, const struct cx_state *s,
			int64_t *n_risks, int64_t *n_cm)
{
	const struct cx_host *h = &x->h[hi];
	cJSON *o = cJSON_CreateObject();
	char d[11];
	if (s->last_patch != NEVER)
		date_text(s->last_patch, d);
	/* Not covered: its findings are not known, so neither is its
	 * compliance (issue 11: never "0 findings"). */
	bool c = s->covered;
	const char *coverage = c ? "covered" : h->no_feed ? "no_feed" : "never_reported";
	bool ok = o && pw_json_add_str(o, "host", h->name) &&
		  pw_json_add_str(o, "owner_group", h->owner) &&
		  pw_json_add_str(o, "category", h->category) &&
		  pw_json_add_str(o, "last_patched", s->last_patch != NEVER ? d : NULL) &&
		  (s->last_patch != NEVER
			   ? pw_json_add_int(o, "days_since", (x->q->as_of - s->last_patch) / DAY)
			   : cJSON_AddNullToObject(o, "days_since") != NULL) &&
		  cJSON_AddBoolToObject(o, "within_policy", s->within) &&
		  pw_json_add_str(o, "coverage", coverage) &&
		  pw_json_add_str(o, "coverage_detail", c ? NULL : h->no_feed) &&
		  (c ? add_open(o, s->open) : cJSON_AddNullToObject(o, "open") != NULL) &&
		  (c ? pw_json_add_int(o, "past_sla", s->past_sla)
		     : cJSON_AddNullToObject(o, "past_sla") != NULL) &&
		  host_lists(x, hi, o, n_risks, n_cm) &&
		  (c ? cJSON_AddBoolToObject(o, "compliant", s->within && !s->past_sla)
		     : cJSON_AddNullToObject(o, "compliant")) != NULL;
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int cmp_host_name(const void *a, const void *b, void *ctx)
{
	const struct cx_host *h = ctx;
	const struct cx_host *p = &h[*(const size_t *)a], *q = &h[*(const size_t *)b];
	int c = strcmp(p->name ? p->name : "", q->name ? q->name : "");
	return c ? c : (p->id > q->id) - (p->id < q->id);
}

static bool add_hosts(const struct cx_hist *x, const struct cx_state *hs, cJSON *doc, cJSON *fleet)
{
	size_t *order = malloc((x->nh ? x->nh : 1) * sizeof *order), n = 0;
	cJSON *arr = cJSON_AddArrayToObject(doc, "hosts");
	if (!order || !arr) {
		free(order);
		return false;
	}
	for (size_t i = 0; i < x->nh; i++)
		if (hs[i].in_service)
			order[n++] = i;
	qsort_r(order, n, sizeof *order, cmp_host_name, x->h);
	int64_t risks = 0, cms = 0;
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		cJSON *h = host_json(x, order[i], &hs[order[i]], &risks, &cms);
		ok = h && cJSON_AddItemToArray(arr, h);
	}
	free(order);
	int64_t expired = 0;
	for (size_t i = 0; i < x->nr; i++)
		expired += hs[x->r[i].host].in_service && !risk_active(&x->r[i], x->q->as_of);
	return ok && pw_json_add_int(fleet, "accepted_risks", risks) &&
	       pw_json_add_int(fleet, "expired_risks", expired) &&
	       pw_json_add_int(fleet, "countermeasures", cms);
}

static bool add_fleet(const struct cx_hist *x, const struct cx_state *hs,
		      const pw_compliance_point *now, cJSON *fleet)
{
	int64_t open[PW_HOST_PRIO__COUNT] = {0}, kev = 0, hosts_past = 0;
	for (size_t i = 0; i < x->nh; i++) {
		for (int p = 0; p < PW_HOST_PRIO__COUNT; p++)
			open[p] += hs[i].in_service ? hs[i].open[p] : 0;
		hosts_past += hs[i].in_service && hs[i].past_sla > 0;
	}
	for (size_t i = 0; i < x->nf; i++)
		kev += x->f[i].kev && hs[x->f[i].host].in_service && x->f[i].fixed > x->q->as_of;
	return pw_json_add_int(fleet, "hosts", now->hosts) &&
	       pw_json_add_int(fleet, "compliant", now->compliant) && add_percent(fleet, now) &&
	       pw_json_add_int(fleet, "within_policy", now->within_policy) &&
	       pw_json_add_int(fleet, "unpatched", now->hosts - now->within_policy) &&
	       pw_json_add_int(fleet, "not_covered", now->not_covered) && add_open(fleet, open) &&
	       pw_json_add_int(fleet, "past_sla", now->past_sla) &&
	       pw_json_add_int(fleet, "hosts_past_sla", hosts_past) &&
	       pw_json_add_int(fleet, "kev_open", kev);
}

/* Per priority: the fixes verified by as_of on hosts in service, days
 * from first detection. */
static bool add_remediation(const struct cx_hist *x, cJSON *doc)
{
	cJSON *arr = cJSON_AddArrayToObject(doc, "remediation");
	double *v = malloc((x->nf ? x->nf : 1) * sizeof *v);
	bool ok = arr && v;
	for (int p = 0; ok && p < PW_HOST_PRIO__COUNT; p++) {
		size_t n = 0;
		for (size_t i = 0; i < x->nf; i++) {
			const struct cx_finding *f = &x->f[i];
			if (f->prio == p && f->verified && f->fixed <= x->q->as_of)
				v[n++] = (double)(f->fixed - f->first) / DAY;
		}
		cJSON *o = cJSON_CreateObject();
		ok = o && cJSON_AddItemToArray(arr, o) &&
		     pw_json_add_str(o, "priority", pw_host_prio_name((pw_host_prio)p)) &&
		     pw_json_add_int(o, "fixed", (int64_t)n) &&
		     pw_cx_add_stats(o, "median_days", "mean_days", v, n);
	}
	free(v);
	return ok;
}

/* Each campaign with its hosts' states at as_of. */
static bool add_campaigns(const struct cx_hist *x, cJSON *doc)
{
	cJSON *arr = cJSON_AddArrayToObject(doc, "campaigns");
	bool ok = arr != NULL;
	for (size_t i = 0; ok && i < x->nc;) {
		const struct cx_campaign *c = &x->c[i];
		char d[11];
		date_text(c->created, d);
		cJSON *o = cJSON_CreateObject(), *st = NULL;
		ok = o && cJSON_AddItemToArray(arr, o) && pw_json_add_int(o, "id", c->id) &&
		     pw_json_add_str(o, "name", c->name) &&
		     cJSON_AddBoolToObject(o, "emergency", c->emergency) &&
		     pw_json_add_str(o, "created", d) && (st = cJSON_CreateObject()) != NULL;
		size_t j = i, done = 0;
		for (; ok && j < x->nc && x->c[j].id == c->id; j++) {
			cJSON *n = cJSON_GetObjectItemCaseSensitive(st, x->c[j].state);
			done += final_state(x->c[j].state);
			if (n)
				cJSON_SetNumberValue(n, n->valuedouble + 1);
			else
				ok = cJSON_AddNumberToObject(st, x->c[j].state, 1) != NULL;
		}
		ok = ok && pw_json_add_int(o, "hosts", (int64_t)(j - i)) &&
		     cJSON_AddItemToObject(o, "states", st) &&
		     pw_json_add_str(o, "outcome", done == j - i ? "done" : "in progress");
		if (!ok)
			cJSON_Delete(st);
		i = j;
	}
	return ok;
}

pw_err pw_compliance_report(pw_db *db, const pw_compliance_query *q, cJSON **out, pw_error *err)
{
	*out = NULL;
	int weeks = q->trend_weeks > 0 ? q->trend_weeks : 13;
	if (weeks > 520)
		return pw_error_set(err, PW_ERR_INVALID, "a trend has at most 520 weekly points");
	struct cx_hist x;
	pw_err rc = pw_cx_load(db, q, CX_CAMPAIGNS, &x, err);
	if (rc)
		return rc;
	size_t n = (size_t)weeks + 1;
	pw_compliance_point *pts = calloc(n, sizeof *pts);
	struct cx_state *hs = calloc(x.nh ? x.nh : 1, sizeof *hs);
	cJSON *doc = cJSON_CreateObject(), *fleet = NULL, *trend = NULL;
	rc = pts && hs && doc ? series(&x, n, pts, err) : oom(err);
	if (!rc) {
		char at[PW_TS_SECONDS_LEN];
		pw_ts_seconds(q->as_of, at);
		evaluate(&x, q->as_of, hs, &pts[n - 1]);
		bool ok = pw_json_add_str(doc, "as_of", at) &&
			  pw_json_add_int(doc, "max_days_unpatched", q->max_days) &&
			  pw_json_add_str(doc, "owner_group", q->owner) &&
			  pw_json_add_str(doc, "category", q->category) &&
			  (fleet = cJSON_AddObjectToObject(doc, "fleet")) != NULL &&
			  add_fleet(&x, hs, &pts[n - 1], fleet) &&
			  (trend = cJSON_AddArrayToObject(doc, "trend")) != NULL;
		for (size_t i = 0; ok && i < n; i++) {
			cJSON *p = point_json(&pts[i]);
			ok = p && cJSON_AddItemToArray(trend, p);
		}
		ok = ok && add_remediation(&x, doc) && add_campaigns(&x, doc) &&
		     add_hosts(&x, hs, doc, fleet);
		rc = ok ? PW_OK : oom(err);
	}
	free(pts);
	free(hs);
	pw_cx_free(&x);
	if (rc)
		cJSON_Delete(doc);
	else
		*out = doc;
	return rc;
}
