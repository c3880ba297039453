#include "patchwarden/host_findings.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patchwarden/audit.h"
#include "patchwarden/clock.h"
#include "patchwarden/grow.h"
#include "patchwarden/json_limits.h"
#include "patchwarden/sql.h"
#include "patchwarden/text.h"

#include "fleet-internal.h"

/* ---- findings -------------------------------------------------------- */

struct open_finding {
	int64_t id;
	char *package, *advisory;
	char *cur[4];  /* installed, fixed, priority, cves */
	char *more[5]; /* reason, kev_cve, kev_due, epss_cve, first_seen */
	int64_t by_source, sla_days;
	bool has_epss;
	double epss;
};

struct replace {
	int64_t host_id;
	int64_t snapshot;      /* 0: not recorded */
	const char *inventory; /* the inventory hash scanned */
	const pw_host_finding *v;
	size_t n;
	const pw_host_hold *holds;
	size_t n_holds;
	pw_host_findings_delta d;
};

static const pw_host_hold *hold_of(const struct replace *r, const char *package)
{
	for (size_t i = 0; i < r->n_holds; i++)
		if (!strcmp(r->holds[i].package, package))
			return &r->holds[i];
	return NULL;
}

static int by_key(const void *a, const void *b)
{
	const pw_host_finding *x = *(const pw_host_finding *const *)a;
	const pw_host_finding *y = *(const pw_host_finding *const *)b;
	int c = strcmp(x->package, y->package);
	return c ? c : strcmp(x->advisory, y->advisory);
}

static pw_err finding_check(const pw_host_finding *f, size_t i, pw_error *err)
{
	if (!f->package || !*f->package || !f->advisory || !*f->advisory || !f->installed ||
	    !f->fixed || !f->cves)
		return pw_error_set(err, PW_ERR_INVALID,
				    "finding %zu: package, advisory, installed, fixed and cves are "
				    "required",
				    i + 1);
	if ((unsigned)f->priority >= PW_HOST_PRIO__COUNT)
		return pw_error_set(err, PW_ERR_INVALID, "finding %zu (%s %s): unknown priority %d",
				    i + 1, f->package, f->advisory, (int)f->priority);
	return PW_OK;
}

static pw_err load_open(pw_db *db, int64_t host_id, struct open_finding **out, size_t *n,
			pw_error *err)
{
	pw_stmt *st = NULL;
	size_t cap = 0;
	pw_err rc = pw_sql(db,
			   "SELECT id, package, advisory, installed, fixed, priority, cves,"
			   " reason, kev_cve, kev_due, epss_cve, first_seen, by_source,"
			   " sla_days, epss FROM findings"
			   " WHERE host_id = ? AND fixed_at IS NULL",
			   &st, err, "i", host_id);
	while (!rc) {
		bool row = false, oom = false;
		rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			break;
		struct open_finding *v = pw_grow(*out, &cap, *n, sizeof *v);
		if (!v) {
			pw_stmt_reset(st);
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
		*out = v;
		v[*n] = (struct open_finding){pw_stmt_int(st, 0),
					      pw_col_dup(st, 1, &oom),
					      pw_col_dup(st, 2, &oom),
					      {NULL},
					      {NULL},
					      pw_stmt_int(st, 12),
					      pw_stmt_is_null(st, 13) ? -1 : pw_stmt_int(st, 13),
					      !pw_stmt_is_null(st, 14),
					      pw_stmt_double(st, 14)};
		for (int k = 0; k < 4; k++)
			v[*n].cur[k] = pw_col_dup(st, 3 + k, &oom);
		for (int k = 0; k < 5; k++)
			v[*n].more[k] = pw_col_dup(st, 7 + k, &oom);
		(*n)++;
		if (oom) {
			pw_stmt_reset(st);
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
	}
	return rc;
}

/* The date a finding is due: the earlier of first_seen + its SLA and its
 * KEV due date; NULL when it has neither. `out` holds YYYY-MM-DD. */
static const char *finding_due(const pw_host_finding *f, const char *first_seen, char out[11])
{
	const char *due = NULL;
	struct tm tm = {0};
	if (f->sla_days > 0 && first_seen &&
	    sscanf(first_seen, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) == 3) {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		time_t t = timegm(&tm) + (time_t)f->sla_days * 86400;
		struct tm d;
		if (gmtime_r(&t, &d) && strftime(out, 11, "%Y-%m-%d", &d) == 10)
			due = out;
	}
	if (f->kev_due && strlen(f->kev_due) >= 10 && (!due || strncmp(f->kev_due, due, 10) < 0)) {
		memcpy(out, f->kev_due, 10);
		out[10] = '\0';
		due = out;
	}
	return due;
}

/* Binds what migration 11 added, from parameter `i` on (9 of them). */
static pw_err bind_more(pw_stmt *st, int i, const pw_host_finding *f, const char *due)
{
	pw_err rc = pw_stmt_bind_int(st, i, f->by_source);
	if (!rc)
		rc = pw_stmt_bind_text(st, i + 1, f->reason);
	if (!rc)
		rc = f->sla_days > 0 ? pw_stmt_bind_int(st, i + 2, f->sla_days)
				     : pw_stmt_bind_null(st, i + 2);
	if (!rc)
		rc = pw_stmt_bind_text(st, i + 3, due);
	if (!rc)
		rc = pw_stmt_bind_text(st, i + 4, f->kev_cve);
	if (!rc)
		rc = pw_stmt_bind_text(st, i + 5, f->kev_cve ? f->kev_due : NULL);
	if (!rc)
		rc = pw_stmt_bind_text(st, i + 6, f->epss_cve);
	if (!rc)
		rc = f->epss_cve ? pw_stmt_bind_double(st, i + 7, f->epss)
				 : pw_stmt_bind_null(st, i + 7);
	if (!rc)
		rc = f->snapshot > 0 ? pw_stmt_bind_int(st, i + 8, f->snapshot)
				     : pw_stmt_bind_null(st, i + 8);
	return rc;
}

/* Writes finding `f`: a new open row of the host (id 0, first seen now)
 * or the open row `id`, which keeps when it was first seen. */
static pw_err write_finding(pw_db *db, int64_t host_id, int64_t id, const pw_host_finding *f,
			    const char *first_seen, pw_error *err)
{
	char due[11];
	const char *d = finding_due(f, first_seen, due);
	pw_stmt *st = NULL;
	pw_err rc;
	if (id)
		rc = pw_sql(db,
			    "UPDATE findings SET installed = ?, fixed = ?, priority = ?, cves = ?,"
			    " by_source = ?, reason = ?, sla_days = ?, due = ?, kev_cve = ?,"
			    " kev_due = ?, epss_cve = ?, epss = ?, snapshot = ? WHERE id = ?",
			    &st, err, "tttt", f->installed, f->fixed,
			    pw_host_prio_name(f->priority), f->cves);
	else
		rc = pw_sql(db,
			    "INSERT INTO findings (host_id, package, advisory, installed, fixed,"
			    " priority, cves, first_seen, by_source, reason, sla_days, due,"
			    " kev_cve, kev_due, epss_cve, epss, snapshot)"
			    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    &st, err, "itttttt", host_id, f->package, f->advisory, f->installed,
			    f->fixed, pw_host_prio_name(f->priority), f->cves);
	if (!rc)
		rc = id ? bind_more(st, 5, f, d) : pw_stmt_bind_text(st, 8, first_seen);
	if (!rc)
		rc = id ? pw_stmt_bind_int(st, 14, id) : bind_more(st, 9, f, d);
	if (!rc)
		return pw_stmt_exec(st, err);
	if (st)
		pw_stmt_reset(st);
	return rc == PW_ERR_NOMEM
		       ? pw_error_set(err, rc, "out of memory")
		       : pw_error_set(err, rc, "binding finding %s %s", f->package, f->advisory);
}

static pw_err replace_txn(pw_db *db, void *arg, pw_error *err)
{
	struct replace *r = arg;
	struct open_finding *open = NULL;
	size_t nopen = 0;
	const pw_host_finding **sorted = r->n ? malloc(r->n * sizeof *sorted) : NULL;
	bool *kept = r->n ? calloc(r->n, sizeof *kept) : NULL;
	pw_err rc = r->n && (!sorted || !kept) ? pw_error_set(err, PW_ERR_NOMEM, "out of memory")
					       : PW_OK;
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_stmt *st = NULL;
	bool row = false;
	if (!rc)
		rc = pw_sql(db, "SELECT id FROM hosts WHERE id = ?", &st, err, "i", r->host_id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (!rc && !row)
		rc = pw_error_set(err, PW_ERR_NOTFOUND, "no host with id %" PRId64, r->host_id);
	if (st)
		pw_stmt_reset(st);
	for (size_t i = 0; i < r->n && !rc; i++) {
		rc = finding_check(&r->v[i], i, err);
		sorted[i] = &r->v[i];
	}
	if (!rc && r->n) {
		qsort(sorted, r->n, sizeof *sorted, by_key);
		for (size_t i = 1; i < r->n && !rc; i++)
			if (!by_key(&sorted[i - 1], &sorted[i]))
				rc = pw_error_set(err, PW_ERR_INVALID,
						  "finding %s %s is listed twice",
						  sorted[i]->package, sorted[i]->advisory);
	}
	if (!rc)
		rc = load_open(db, r->host_id, &open, &nopen, err);
	for (size_t i = 0; i < nopen && !rc; i++) {
		const pw_host_hold *hold;
		pw_host_finding key = {.package = open[i].package, .advisory = open[i].advisory};
		const pw_host_finding *kp = &key;
		const pw_host_finding **hit =
			r->n ? bsearch(&kp, sorted, r->n, sizeof *sorted, by_key) : NULL;
		if (hit) {
			kept[hit - sorted] = true;
			r->d.kept++;
			const pw_host_finding *h = *hit;
			const char *got[4] = {h->installed, h->fixed,
					      pw_host_prio_name(h->priority), h->cves};
			const char *more[4] = {h->reason, h->kev_cve, h->kev_due, h->epss_cve};
			int k = 0;
			while (k < 4 && pw_str_same(got[k], open[i].cur[k]))
				k++;
			int m = 0;
			while (m < 4 && pw_str_same(more[m], open[i].more[m]))
				m++;
			if (k == 4 && m == 4 && open[i].by_source == h->by_source &&
			    open[i].sla_days == (h->sla_days > 0 ? h->sla_days : -1) &&
			    open[i].has_epss == (h->epss_cve != NULL) &&
			    (!h->epss_cve || open[i].epss == h->epss))
				continue; /* most rescans change nothing: write nothing */
			rc = write_finding(db, r->host_id, open[i].id, h, open[i].more[4], err);
			continue;
		} else if ((hold = hold_of(r, open[i].package))) {
			/* Fixed on disk, the old code still runs: not fixed yet. */
			r->d.kept++;
			if (pw_str_same(hold->reason, open[i].more[0]))
				continue;
			rc = pw_sql(db, "UPDATE findings SET reason = ? WHERE id = ?", &st, err,
				    "ti", hold->reason, open[i].id);
		} else {
			r->d.fixed++;
			rc = pw_sql(db, "UPDATE findings SET fixed_at = ? WHERE id = ?", &st, err,
				    "ti", now, open[i].id);
		}
		if (!rc)
			rc = pw_stmt_exec(st, err);
	}
	for (size_t i = 0; i < r->n && !rc; i++) {
		if (kept[i])
			continue;
		const pw_host_finding *f = sorted[i];
		rc = write_finding(db, r->host_id, 0, f, now, err);
		r->d.opened++;
	}
	if (!rc && r->snapshot) {
		rc = pw_sql(db,
			    "UPDATE hosts SET findings_snapshot = ?, findings_inventory = ?"
			    " WHERE id = ?",
			    &st, err, "iti", r->snapshot, r->inventory, r->host_id);
		if (!rc)
			rc = pw_stmt_exec(st, err);
	}
	for (size_t i = 0; i < nopen; i++) {
		free(open[i].package);
		free(open[i].advisory);
		for (int k = 0; k < 4; k++)
			free(open[i].cur[k]);
		for (int k = 0; k < 5; k++)
			free(open[i].more[k]);
	}
	free(open);
	free(sorted);
	free(kept);
	return rc;
}

pw_err pw_host_findings_replace(pw_db *db, int64_t host_id, const pw_host_finding *v, size_t n,
				pw_host_findings_delta *delta, pw_error *err)
{
	return pw_host_findings_replace_from(db, host_id, 0, NULL, v, n, delta, err);
}

pw_err pw_host_findings_replace_from(pw_db *db, int64_t host_id, int64_t snapshot,
				     const char *inventory, const pw_host_finding *v, size_t n,
				     pw_host_findings_delta *delta, pw_error *err)
{
	pw_host_scan_out out = {v, n, NULL, 0};
	return pw_host_findings_replace_held(db, host_id, snapshot, inventory, &out, delta, err);
}

pw_err pw_host_findings_replace_held(pw_db *db, int64_t host_id, int64_t snapshot,
				     const char *inventory, const pw_host_scan_out *out,
				     pw_host_findings_delta *delta, pw_error *err)
{
	struct replace r = {host_id, snapshot,   inventory,    out->v,
			    out->n,  out->holds, out->n_holds, {0, 0, 0}};
	pw_err rc = pw_in_write_txn(db, replace_txn, &r, err);
	if (delta)
		*delta = rc ? (pw_host_findings_delta){0, 0, 0} : r.d;
	return rc;
}

pw_err pw_host_findings_count(pw_db *db, int64_t host_id, int64_t counts[PW_HOST_PRIO__COUNT],
			      pw_error *err)
{
	for (int p = 0; p < PW_HOST_PRIO__COUNT; p++)
		counts[p] = 0;
	pw_stmt *st = NULL;
	pw_err rc = host_id ? pw_sql(db,
				     "SELECT priority, COUNT(*) FROM findings"
				     " WHERE host_id = ? AND fixed_at IS NULL GROUP BY priority",
				     &st, err, "i", host_id)
			    : pw_sql(db,
				     "SELECT priority, COUNT(*) FROM findings"
				     " WHERE fixed_at IS NULL GROUP BY priority",
				     &st, err, "");
	while (!rc) {
		bool row = false;
		rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			break;
		pw_host_prio p;
		if (pw_host_prio_parse(pw_stmt_text(st, 0), &p))
			counts[p] = pw_stmt_int(st, 1);
	}
	return rc;
}

/* ---- recomputing findings ---------------------------------------------- */

/* Copies the first column of every row of `st` (text or integer) into
 * an array, so nothing is left reading while the findings are written. */
struct column_copy {
	char **text;
	int64_t *num;
	size_t n, cap;
};

static void column_copy_release(struct column_copy *c)
{
	for (size_t i = 0; c->text && i < c->n; i++)
		free(c->text[i]);
	free(c->text);
	free(c->num);
}

static pw_err copy_column(pw_stmt *st, bool text, struct column_copy *out, pw_error *err)
{
	pw_err rc = PW_OK;
	while (!rc) {
		bool row = false, oom = false;
		rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			break;
		size_t cap = out->cap;
		if (text) {
			char **v = pw_grow(out->text, &cap, out->n, sizeof *v);
			if (v) {
				out->text = v;
				v[out->n] = pw_col_dup(st, 0, &oom);
			}
			oom |= !v;
		} else {
			int64_t *v = pw_grow(out->num, &cap, out->n, sizeof *v);
			if (v) {
				out->num = v;
				v[out->n] = pw_stmt_int(st, 0);
			}
			oom |= !v;
		}
		out->cap = cap;
		if (oom) {
			pw_stmt_reset(st);
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
		out->n++;
	}
	return rc;
}

/* The first column of the one row of `st`, copied (NULL for NULL);
 * PW_ERR_NOTFOUND without a row. */
static pw_err one_text(pw_stmt *st, char **out, pw_error *err)
{
	bool row = false, oom = false;
	pw_err rc = pw_stmt_step(st, &row, err);
	*out = NULL;
	if (!rc && !row)
		return PW_ERR_NOTFOUND;
	if (!rc)
		*out = pw_col_dup(st, 0, &oom);
	pw_stmt_reset(st);
	return rc ? rc : oom ? pw_error_set(err, PW_ERR_NOMEM, "out of memory") : PW_OK;
}

/* Scans the inventory `hash` with the runtime facts `runtime_hash` (""
 * none) and gives its findings to `hosts`. */
static pw_err recompute_hash(pw_db *db, int64_t snapshot, const char *hash,
			     const char *runtime_hash, const char *exposure, const int64_t *hosts,
			     size_t nhosts, pw_host_scan_fn scan, void *ctx,
			     pw_host_recompute_stats *st, pw_error *err)
{
	pw_stmt *q = NULL;
	char *json = NULL, *runtime = NULL;
	pw_err rc = pw_sql(db, "SELECT json FROM inventories WHERE hash = ?", &q, err, "t", hash);
	if (!rc && (rc = one_text(q, &json, err)) == PW_ERR_NOTFOUND)
		rc = pw_error_set(err, PW_ERR_NOTFOUND, "inventory %.64s is not stored", hash);
	if (!rc && !json && !(json = strdup("")))
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc && *runtime_hash) {
		rc = pw_sql(db, "SELECT runtime FROM hosts WHERE runtime_hash = ? LIMIT 1", &q, err,
			    "t", runtime_hash);
		if (!rc && (rc = one_text(q, &runtime, err)) == PW_ERR_NOTFOUND)
			rc = pw_error_set(err, PW_OK, "%s", "");
	}
	pw_host_scan_in in = {hash, json, runtime, exposure};
	pw_host_scan_out out = {NULL, 0, NULL, 0};
	if (!rc)
		rc = scan(ctx, &in, &out, err);
	if (!rc)
		st->inventories++;
	for (size_t i = 0; i < nhosts && !rc; i++) {
		pw_host_findings_delta d;
		rc = pw_host_findings_replace_held(db, hosts[i], snapshot, hash, &out, &d, err);
		if (rc)
			break;
		st->hosts++;
		st->delta.opened += d.opened;
		st->delta.kept += d.kept;
		st->delta.fixed += d.fixed;
	}
	free(json);
	free(runtime);
	return rc;
}

pw_err pw_host_recompute_findings(pw_db *db, pw_host_scan_fn scan, void *ctx,
				  pw_host_recompute_stats *stats, pw_error *err)
{
	return pw_host_recompute_findings_at(db, 0, scan, ctx, stats, err);
}

pw_err pw_host_recompute_findings_at(pw_db *db, int64_t snapshot, pw_host_scan_fn scan, void *ctx,
				     pw_host_recompute_stats *stats, pw_error *err)
{
	pw_host_recompute_stats st = {0, 0, 0, {0, 0, 0}};
	struct column_copy hashes = {NULL, NULL, 0, 0};
	pw_stmt *q = NULL;
	pw_err rc = pw_sql(db,
			   "SELECT DISTINCT inventory_hash || ' ' || COALESCE(runtime_hash, '')"
			   " || ' ' || COALESCE(exposure, '')"
			   " FROM hosts WHERE inventory_hash IS NOT NULL AND decommissioned IS NULL"
			   " ORDER BY 1",
			   &q, err, "");
	if (!rc)
		rc = copy_column(q, true, &hashes, err);
	for (size_t i = 0; i < hashes.n && !rc; i++) {
		/* "HASH RUNTIME EXPOSURE": hashes are hex (the runtime's may
		 * be empty), so the first two spaces split. */
		char *runtime = strchr(hashes.text[i], ' ');
		*runtime++ = '\0';
		char *exposure = strchr(runtime, ' ');
		*exposure++ = '\0';
		struct column_copy ids = {NULL, NULL, 0, 0};
		rc = pw_sql(db,
			    "SELECT id FROM hosts WHERE inventory_hash = ?"
			    " AND COALESCE(runtime_hash, '') = ? AND COALESCE(exposure, '') = ?"
			    " AND decommissioned IS NULL ORDER BY id",
			    &q, err, "ttt", hashes.text[i], runtime, exposure);
		if (!rc)
			rc = copy_column(q, false, &ids, err);
		if (!rc)
			rc = recompute_hash(db, snapshot, hashes.text[i], runtime,
					    *exposure ? exposure : NULL, ids.num, ids.n, scan, ctx,
					    &st, err);
		if (rc == PW_ERR_UNSUPPORTED) {
			st.skipped += ids.n;
			rc = pw_error_set(err, PW_OK, "%s", "");
		}
		column_copy_release(&ids);
	}
	column_copy_release(&hashes);
	if (stats)
		*stats = st;
	return rc;
}

pw_err pw_host_recompute_host(pw_db *db, int64_t host_id, pw_host_scan_fn scan, void *ctx,
			      pw_host_findings_delta *delta, pw_error *err)
{
	return pw_host_recompute_host_at(db, 0, host_id, scan, ctx, delta, err);
}

pw_err pw_host_recompute_host_at(pw_db *db, int64_t snapshot, int64_t host_id, pw_host_scan_fn scan,
				 void *ctx, pw_host_findings_delta *delta, pw_error *err)
{
	pw_stmt *q = NULL;
	bool row = false;
	char *hash = NULL;
	char *exposure = NULL, *runtime = NULL;
	bool oom = false;
	pw_err rc = pw_sql(db,
			   "SELECT inventory_hash, exposure, decommissioned, runtime_hash"
			   " FROM hosts WHERE id = ?",
			   &q, err, "i", host_id);
	if (!rc)
		rc = pw_stmt_step(q, &row, err);
	if (!rc && !row)
		rc = pw_error_set(err, PW_ERR_NOTFOUND, "no host with id %" PRId64, host_id);
	if (!rc && !pw_stmt_is_null(q, 2))
		rc = pw_error_set(err, PW_ERR_CONFLICT,
				  "host %" PRId64 " was decommissioned: its findings stay closed",
				  host_id);
	if (!rc && pw_stmt_is_null(q, 0))
		rc = pw_error_set(err, PW_ERR_NOTFOUND,
				  "host %" PRId64
				  " has no inventory yet: its agent has not sent one",
				  host_id);
	if (!rc) {
		hash = pw_col_dup(q, 0, &oom);
		exposure = pw_col_dup(q, 1, &oom);
		runtime = pw_col_dup(q, 3, &oom);
		if (oom)
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	if (q)
		pw_stmt_reset(q);
	pw_host_recompute_stats st = {0, 0, 0, {0, 0, 0}};
	if (!rc)
		rc = recompute_hash(db, snapshot, hash, runtime ? runtime : "", exposure, &host_id,
				    1, scan, ctx, &st, err);
	free(hash);
	free(exposure);
	free(runtime);
	if (delta)
		*delta = st.delta;
	return rc;
}

/* ---- the matcher behind pw_host_scan_fn ----------------------------- */

static void matcher_clear(pw_host_matcher *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->cves[i]);
		free(m->reasons[i]);
	}
	for (size_t i = 0; i < m->n_holds; i++) {
		free((void *)(uintptr_t)m->holds[i].package);
		free((void *)(uintptr_t)m->holds[i].reason);
	}
	free(m->holds);
	m->holds = NULL;
	m->n_holds = 0;
	pw_runtime_release(&m->rt);
	free(m->cves);
	free(m->reasons);
	m->reasons = NULL;
	free(m->v);
	m->cves = NULL;
	m->v = NULL;
	m->n = 0;
	pw_scan_result_release(&m->res);
	m->res = (pw_scan_result)PW_SCAN_RESULT_INIT;
	pw_inventory_release(&m->inv);
	m->inv = (pw_inventory)PW_INVENTORY_INIT;
}

void pw_host_matcher_release(pw_host_matcher *m)
{
	matcher_clear(m);
}

/* Adds a hold for `package` unless it has one. */
static pw_err add_hold(pw_host_matcher *m, size_t *cap, const char *package, const char *reason)
{
	for (size_t i = 0; i < m->n_holds; i++)
		if (!strcmp(m->holds[i].package, package))
			return PW_OK;
	pw_host_hold *v = pw_grow(m->holds, cap, m->n_holds, sizeof *v);
	if (!v)
		return PW_ERR_NOMEM;
	m->holds = v;
	char *p = strdup(package), *r = strdup(reason);
	if (!p || !r) {
		free(p);
		free(r);
		return PW_ERR_NOMEM;
	}
	v[m->n_holds++] = (pw_host_hold){p, r};
	return PW_OK;
}

/* A hold per package (binary and source name) of each restart the scan
 * lists: its fix may be on disk, but the process runs the old code. */
static pw_err restart_holds(pw_host_matcher *m)
{
	size_t cap = 0;
	for (size_t i = 0; i < m->res.n_inactive; i++) {
		const pw_inactive *in = &m->res.inactive[i];
		if (in->kind != PW_INACTIVE_RESTART || !in->owner)
			continue;
		size_t nlen = strcspn(in->owner, ":");
		for (size_t k = 0; k < m->inv.n_pkgs; k++) {
			const pw_package *p = &m->inv.pkgs[k];
			if (strlen(p->name) != nlen || strncmp(p->name, in->owner, nlen))
				continue;
			pw_buf why = PW_BUF_INIT;
			pw_err rc = pw_buf_printf(
				&why,
				"fixed on disk (%s %s installed), but %s (pid %d%s%s) still runs "
				"the old code: it maps the deleted %s; open until it restarts or "
				"the host reboots",
				p->name, p->version, in->process, in->pid, in->unit ? ", " : "",
				in->unit ? in->unit : "", in->file);
			if (!rc)
				rc = add_hold(m, &cap, p->name, pw_buf_str(&why));
			if (!rc && p->source && strcmp(p->source, p->name))
				rc = add_hold(m, &cap, p->source, pw_buf_str(&why));
			pw_buf_release(&why);
			if (rc)
				return pw_error_set(NULL, rc, "out of memory");
		}
	}
	return PW_OK;
}

pw_err pw_host_matcher_scan(void *ctx, const pw_host_scan_in *in, pw_host_scan_out *out,
			    pw_error *err)
{
	pw_host_matcher *m = ctx;
	matcher_clear(m);
	const char *exposure = in->exposure;
	pw_scan_host host = {PW_EXPOSURE_INTERNAL, NULL};
	if (exposure && !strcmp(exposure, "internet"))
		host.exposure = PW_EXPOSURE_INTERNET;
	else if (exposure && !strcmp(exposure, "isolated"))
		host.exposure = PW_EXPOSURE_ISOLATED;
	cJSON *j = cJSON_Parse(in->inventory_json);
	pw_err rc = j ? pw_inventory_from_json(&m->inv, j, err)
		      : pw_error_set(err, PW_ERR_PARSE, "not JSON");
	cJSON_Delete(j);
	if (!rc && in->runtime_json) {
		/* Facts the server checked when it took them; unreadable ones
		 * make "in use" unknown, never a wrong low priority. */
		cJSON *rj = cJSON_Parse(in->runtime_json);
		if (rj && !pw_runtime_from_json(&m->rt, rj, NULL))
			host.runtime = &m->rt;
		cJSON_Delete(rj);
	}
	if (!rc)
		rc = pw_scan_inventory(m->idx, &m->inv, &host, m->policy, &m->res, err);
	if (!rc && restart_holds(m))
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	size_t nf = rc ? 0 : m->res.n_findings;
	if (!rc && nf) {
		m->v = calloc(nf, sizeof *m->v);
		m->cves = calloc(nf, sizeof *m->cves);
		m->reasons = calloc(nf, sizeof *m->reasons);
		if (!m->v || !m->cves || !m->reasons)
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < nf && !rc; i++) {
		const pw_finding *f = &m->res.findings[i];
		pw_buf cves = PW_BUF_INIT;
		for (size_t k = 0; k < f->n_cves && !rc; k++)
			rc = pw_buf_printf(&cves, "%s%s", k ? "," : "", f->cves[k]->id);
		m->cves[i] = rc ? NULL : pw_buf_detach(&cves);
		pw_buf_release(&cves);
		pw_buf why = PW_BUF_INIT;
		if (!rc && !pw_finding_reason(f, m->policy, &why))
			m->reasons[i] = pw_buf_detach(&why);
		pw_buf_release(&why);
		if (rc || !m->cves[i] || !m->reasons[i]) {
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
			break;
		}
		m->n++;
		pw_host_prio p = PW_HOST_PRIO_NORMAL;
		pw_host_prio_parse(pw_priority_name(f->priority), &p);
		m->v[i] = (pw_host_finding){.package = f->package,
					    .advisory = f->adv->id,
					    .installed = f->installed,
					    .fixed = f->fixed,
					    .priority = p,
					    .cves = m->cves[i],
					    .by_source = f->by_source,
					    .reason = m->reasons[i],
					    .sla_days = f->sla_days,
					    .kev_cve = f->why.kev_cve,
					    .kev_due = f->why.kev_due,
					    .epss_cve = f->why.epss >= 0 ? f->why.epss_cve : NULL,
					    .epss = f->why.epss,
					    .snapshot = m->res.snapshot > 0 ? m->res.snapshot : 0};
	}
	if (rc) {
		matcher_clear(m);
		pw_error_prefix(err, "inventory %.64s: ", in->inventory_hash);
		return rc;
	}
	*out = (pw_host_scan_out){m->v, m->n, m->holds, m->n_holds};
	return PW_OK;
}
