/* The feed store's read path: snapshots, the advisories of one
 * ecosystem for the matcher (optionally restricted to a host's package
 * names), KEV and EPSS, and counts for status. Names and advisory ids go
 * to the database in fixed-size IN lists (one cached statement each), so
 * a host costs a few statements, not one per package. */
#include "patchwarden/feedstore.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/arena.h"
#include "patchwarden/buf.h"
#include "patchwarden/grow.h"
#include "patchwarden/text.h"

#include "feedstore-internal.h"

static const char SQL_SNAP_GET[] = "SELECT " SNAP_COLS " FROM feed_snapshot WHERE id = ?";
static const char SQL_SNAP_ALL[] = "SELECT " SNAP_COLS " FROM feed_snapshot ORDER BY id";
/* Validity is checked once per advisory (the rid list), not per
 * affected row: rows of replaced versions are few, seeks are not. */
static const char SQL_AFF_BY_ECO[] = "SELECT " AFF_COLS " FROM feed_affected WHERE ecosystem = ?";
static const char SQL_KEV_GET[] = "SELECT " KEV_COLS
				  " FROM feed_kev WHERE cve = ? AND " VISIBLE("");
static const char SQL_KEV_EACH[] = "SELECT " KEV_COLS
				   " FROM feed_kev WHERE " VISIBLE("") " ORDER BY cve";
static const char SQL_EPSS_GET[] =
	"SELECT score, percentile FROM feed_epss WHERE cve = ? AND " VISIBLE("");
static const char SQL_NAMING_ADV[] =
	"SELECT adv_id, source, ecosystems, cves, published FROM feed_advisory"
	" WHERE adv_id = ? AND " VISIBLE("") " ORDER BY adv_id, source";
/* The CVE ids it is bound with have no LIKE wildcard (pw_cve_id_ok). */
static const char SQL_NAMING_CVE[] = "SELECT adv_id, source, ecosystems, cves, published"
				     " FROM feed_advisory"
				     " WHERE (adv_id = ? OR ' ' || cves || ' ' LIKE ?)"
				     " AND " VISIBLE("") " ORDER BY adv_id, source";
static const char SQL_ECOSYSTEMS[] =
	"SELECT f.ecosystem, COUNT(DISTINCT f.adv), COUNT(DISTINCT f.package)"
	" FROM feed_affected f JOIN feed_advisory a ON a.rid = f.adv"
	" WHERE " VISIBLE("a.") " GROUP BY f.ecosystem";

/* ---- snapshots ---- */

static void snapshot_from_row(pw_stmt *st, void *item)
{
	pw_snapshot_info *out = item;
	memset(out, 0, sizeof *out);
	out->id = pw_stmt_int(st, 0);
	pw_fs_copy_text(out->created, sizeof out->created, pw_stmt_text(st, 1));
	pw_fs_copy_text(out->label, sizeof out->label, pw_stmt_text(st, 2));
	out->advisories = (size_t)pw_stmt_int(st, 3);
	out->affected = (size_t)pw_stmt_int(st, 4);
	out->kev = (size_t)pw_stmt_int(st, 5);
	out->epss = (size_t)pw_stmt_int(st, 6);
}

static void int_from_row(pw_stmt *st, void *item)
{
	*(int64_t *)item = pw_stmt_is_null(st, 0) ? 0 : pw_stmt_int(st, 0);
}

pw_err pw_feedstore_latest(pw_feedstore *s, int64_t *snapshot, pw_error *err)
{
	bool found;
	*snapshot = 0;
	pw_err rc = pw_fs_row_one(s, SQL_LATEST, NULL, 0, int_from_row, snapshot, &found,
				  "reading the latest snapshot", err);
	if (!rc && !*snapshot)
		return pw_error_set(err, PW_ERR_NOTFOUND,
				    "%s: the feed store has no snapshot yet;"
				    " run 'patchwarden feed import PATH' first",
				    s->where);
	return rc;
}

pw_err pw_feedstore_snapshot_info(pw_feedstore *s, int64_t snapshot, pw_snapshot_info *out,
				  pw_error *err)
{
	bool found;
	struct cell id = c_int(snapshot);
	pw_err rc = pw_fs_row_one(s, SQL_SNAP_GET, &id, 1, snapshot_from_row, out, &found,
				  "reading a snapshot", err);
	if (!rc && !found)
		return pw_error_set(err, PW_ERR_NOTFOUND,
				    "%s: there is no snapshot %lld;"
				    " 'patchwarden feed snapshots' lists them",
				    s->where, (long long)snapshot);
	return rc;
}

pw_err pw_feedstore_snapshots(pw_feedstore *s, pw_snapshot_info **list, size_t *n, pw_error *err)
{
	void *v;
	pw_err rc = pw_fs_rows_all(s, SQL_SNAP_ALL, sizeof **list, snapshot_from_row,
				   "listing snapshots", &v, n, err);
	*list = v;
	return rc;
}

/* ---- reading advisories ---- */

struct aff_row {
	int64_t adv, seq;
	const char *package, *fixed, *note;
	int state;
	bool by_source;
};

struct adv_rec {
	pw_advisory a;
	int64_t rid;
	size_t first; /* its rows in the sorted row array */
	bool visible;
};

struct reader {
	pw_feedstore *s;
	int64_t snapshot;
	pw_arena mem;
	struct aff_row *rows;
	size_t n_rows, cap_rows;
	struct adv_rec *advs;
	size_t n_advs, max_group;
	bool oom;
};

/* Steps a bound statement to its end, keeping the affected rows. */
static pw_err collect_rows(struct reader *r, pw_stmt *st, pw_error *err)
{
	bool row;
	pw_err rc;
	while (!(rc = pw_stmt_step(st, &row, err)) && row) {
		struct aff_row *v = pw_grow(r->rows, &r->cap_rows, r->n_rows, sizeof *v);
		if (!v) {
			pw_stmt_reset(st);
			return pw_fs_nomem(err);
		}
		r->rows = v;
		struct aff_row *w = &r->rows[r->n_rows++];
		w->package = pw_fs_arena_dup(&r->mem, pw_stmt_text(st, 0), &r->oom);
		w->adv = pw_stmt_int(st, 1);
		w->seq = pw_stmt_int(st, 2);
		w->by_source = pw_stmt_int(st, 3) != 0;
		w->state = (int)pw_stmt_int(st, 4);
		w->fixed = pw_fs_arena_dup(&r->mem, pw_stmt_text(st, 5), &r->oom);
		w->note = pw_fs_arena_dup(&r->mem, pw_stmt_text(st, 6), &r->oom);
	}
	if (r->oom)
		return pw_fs_nomem(err);
	return pw_fs_fail(r->s, rc, err, "reading affected packages");
}
static int cmp_row(const void *a, const void *b)
{
	const struct aff_row *x = a, *y = b;
	if (x->adv != y->adv)
		return (x->adv > y->adv) - (x->adv < y->adv);
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_adv(const void *a, const void *b)
{
	const struct adv_rec *x = a, *y = b;
	int c = strcmp(x->a.id, y->a.id);
	return c ? c : strcmp(x->a.source, y->a.source);
}

/* Splits the space-separated CVE column into an arena array. */
static void split_cves(struct reader *r, const char *text, pw_advisory *a)
{
	a->cves = NULL;
	a->n_cves = 0;
	char *t = pw_fs_arena_dup(&r->mem, text, &r->oom);
	if (!t || !*t)
		return;
	size_t n = 1;
	for (const char *p = t; *p; p++)
		n += *p == ' ';
	const char **v = pw_arena_alloc(&r->mem, n * sizeof *v);
	if (!v) {
		r->oom = true;
		return;
	}
	for (char *p = t;; p++) {
		v[a->n_cves++] = p;
		if (!(p = strchr(p, ' ')))
			break;
		*p = '\0';
	}
	a->cves = v;
}

static pw_err snapshot_exists(pw_feedstore *s, int64_t snapshot, pw_error *err)
{
	pw_snapshot_info info;
	return pw_feedstore_snapshot_info(s, snapshot, &info, err);
}

/* Orders the rows by (adv, seq). Row ids are dense, so a whole
 * ecosystem (30k rows) is bucketed by a counting sort in linear time,
 * then each advisory's few rows are put back in their seq order. */
static pw_err sort_rows(struct reader *r, pw_error *err)
{
	size_t n = r->n_rows;
	if (n < 2)
		return PW_OK;
	int64_t lo = r->rows[0].adv, hi = lo;
	for (size_t i = 1; i < n; i++) {
		lo = r->rows[i].adv < lo ? r->rows[i].adv : lo;
		hi = r->rows[i].adv > hi ? r->rows[i].adv : hi;
	}
	uint64_t range = (uint64_t)(hi - lo) + 1;
	if (range > 4 * (uint64_t)n + 1024) {
		qsort(r->rows, n, sizeof *r->rows, cmp_row);
		return PW_OK;
	}
	size_t *start = calloc((size_t)range + 1, sizeof *start);
	struct aff_row *out = malloc(n * sizeof *out);
	if (!start || !out) {
		free(start);
		free(out);
		return pw_fs_nomem(err);
	}
	for (size_t i = 0; i < n; i++)
		start[r->rows[i].adv - lo + 1]++;
	for (size_t b = 1; b <= range; b++)
		start[b] += start[b - 1];
	for (size_t i = 0; i < n; i++)
		out[start[r->rows[i].adv - lo]++] = r->rows[i];
	free(start);
	free(r->rows);
	r->rows = out;
	r->cap_rows = n;
	for (size_t i = 1; i < n; i++) {
		struct aff_row x = out[i];
		size_t j = i;
		for (; j > 0 && out[j - 1].adv == x.adv && out[j - 1].seq > x.seq; j--)
			out[j] = out[j - 1];
		out[j] = x;
	}
	return PW_OK;
}

static int cmp_rec_rid(const void *key, const void *elem)
{
	int64_t x = *(const int64_t *)key, y = ((const struct adv_rec *)elem)->rid;
	return (x > y) - (x < y);
}

/* Fills the advisory of one result row of IN_ADV_GET. */
static void advisory_from_row(struct reader *r, pw_stmt *st)
{
	int64_t rid = pw_stmt_int(st, 0);
	struct adv_rec *rec = bsearch(&rid, r->advs, r->n_advs, sizeof *r->advs, cmp_rec_rid);
	if (!rec)
		return;
	pw_advisory *a = &rec->a;
	rec->visible = true;
	a->source = pw_fs_arena_dup(&r->mem, pw_stmt_text(st, 1), &r->oom);
	a->id = pw_fs_arena_dup(&r->mem, pw_stmt_text(st, 2), &r->oom);
	a->published = pw_fs_arena_dup(&r->mem, pw_stmt_text(st, 3), &r->oom);
	a->modified = pw_fs_arena_dup(&r->mem, pw_stmt_text(st, 4), &r->oom);
	a->summary = pw_fs_arena_dup(&r->mem, pw_stmt_text(st, 5), &r->oom);
	a->severity = (pw_severity)pw_stmt_int(st, 6);
	a->attack_vector = (pw_attack_vector)pw_stmt_int(st, 7);
	a->cvss_vector = pw_fs_arena_dup(&r->mem, pw_stmt_text(st, 8), &r->oom);
	split_cves(r, pw_stmt_text(st, 9), a);
}

/* Groups the rows by advisory, loads the advisories visible in the
 * snapshot (IN_LIST at a time) and sorts them by (id, source), so the
 * order does not depend on import history. */
static pw_err load_advisories(struct reader *r, pw_error *err)
{
	pw_err rc = sort_rows(r, err);
	if (rc)
		return rc;
	size_t n_adv = 0;
	for (size_t i = 0; i < r->n_rows; i++)
		n_adv += i + 1 == r->n_rows || r->rows[i + 1].adv != r->rows[i].adv;
	if (!n_adv)
		return PW_OK;
	struct cell *rids = malloc(n_adv * sizeof *rids);
	if (!rids || !(r->advs = calloc(n_adv, sizeof *r->advs))) {
		free(rids);
		return pw_fs_nomem(err);
	}
	/* In rid order, as the rows are: the result rows find theirs by
	 * binary search. */
	for (size_t i = 0; i < r->n_rows;) {
		size_t end = i;
		while (end < r->n_rows && r->rows[end].adv == r->rows[i].adv)
			end++;
		struct adv_rec *a = &r->advs[r->n_advs];
		a->rid = r->rows[i].adv;
		a->first = i;
		a->a.n_affected = end - i;
		rids[r->n_advs++] = c_int(a->rid);
		i = end;
	}
	struct cell snap = c_int(r->snapshot);
	for (size_t at = 0; !rc && at < n_adv; at += IN_LIST) {
		pw_stmt *st;
		if ((rc = pw_fs_prep(r->s, r->s->in_text[IN_ADV_GET], &st, err)))
			break;
		pw_fs_bind_in_list(st, 1, rids + at, n_adv - at < IN_LIST ? n_adv - at : IN_LIST);
		pw_fs_bind_cell(st, IN_LIST + 1, &snap);
		pw_fs_bind_cell(st, IN_LIST + 2, &snap);
		bool row;
		while (!(rc = pw_stmt_step(st, &row, err)) && row)
			advisory_from_row(r, st);
	}
	free(rids);
	if (r->oom)
		return pw_fs_nomem(err);
	if (rc)
		return pw_fs_fail(r->s, rc, err, "reading advisories");
	size_t k = 0;
	for (size_t i = 0; i < r->n_advs; i++) {
		if (!r->advs[i].visible)
			continue;
		r->advs[k++] = r->advs[i];
		if (r->advs[i].a.n_affected > r->max_group)
			r->max_group = r->advs[i].a.n_affected;
	}
	r->n_advs = k;
	qsort(r->advs, r->n_advs, sizeof *r->advs, cmp_adv);
	return PW_OK;
}

static pw_err emit_advisories(struct reader *r, const char *ecosystem, pw_advisory_fn fn, void *ctx,
			      pw_error *err)
{
	if (!r->n_advs)
		return PW_OK;
	pw_affected *aff = calloc(r->max_group, sizeof *aff);
	pw_err rc = aff ? PW_OK : pw_fs_nomem(err);
	for (size_t k = 0; !rc && k < r->n_advs; k++) {
		pw_advisory *a = &r->advs[k].a;
		for (size_t j = 0; j < a->n_affected; j++) {
			const struct aff_row *w = &r->rows[r->advs[k].first + j];
			aff[j] = (pw_affected){ecosystem,    w->package,
					       w->by_source, (pw_fix_state)w->state,
					       w->fixed,     w->note};
		}
		a->affected = aff;
		rc = fn(ctx, a, err);
	}
	free(aff);
	return rc;
}

/* The affected rows of `ecosystem`, all of them or those of the (sorted,
 * unique) names. */
static pw_err read_rows(struct reader *r, const char *ecosystem, const char *const *names, size_t n,
			pw_error *err)
{
	pw_stmt *st;
	pw_err rc;
	if (!n) {
		if (!(rc = pw_fs_prep(r->s, SQL_AFF_BY_ECO, &st, err))) {
			pw_stmt_bind_text(st, 1, ecosystem);
			rc = collect_rows(r, st, err);
		}
		return rc;
	}
	struct cell v[IN_LIST];
	rc = PW_OK;
	for (size_t at = 0; !rc && at < n; at += IN_LIST) {
		size_t k = n - at < IN_LIST ? n - at : IN_LIST;
		for (size_t i = 0; i < k; i++)
			v[i] = c_text(names[at + i]);
		if (!(rc = pw_fs_prep(r->s, r->s->in_text[IN_AFF_BY_PKG], &st, err))) {
			pw_stmt_bind_text(st, 1, ecosystem);
			pw_fs_bind_in_list(st, 2, v, k);
			rc = collect_rows(r, st, err);
		}
	}
	return rc;
}

pw_err pw_feedstore_each_advisory(pw_feedstore *s, int64_t snapshot, const char *ecosystem,
				  const char *const *packages, size_t n_packages, pw_advisory_fn fn,
				  void *ctx, pw_error *err)
{
	pw_err rc = snapshot_exists(s, snapshot, err);
	/* An import on this handle reads its own rows, so they go out first. */
	if (!rc && s->active)
		rc = pw_feed_import_flush(s->active, err);
	if (rc)
		return rc;
	/* Sorted and unique: a name listed twice (binary = source) must not
	 * duplicate its rows, and sorted keys walk the index in order. */
	const char **names = n_packages ? malloc(n_packages * sizeof *names) : NULL;
	if (n_packages && !names)
		return pw_fs_nomem(err);
	size_t n = 0;
	if (n_packages) {
		memcpy(names, packages, n_packages * sizeof *names);
		qsort(names, n_packages, sizeof *names, pw_fs_cmp_str);
		for (size_t i = 0; i < n_packages; i++)
			if (!n || strcmp(names[i], names[n - 1]) != 0)
				names[n++] = names[i];
	}
	/* One read transaction for all the lookups: on SQLite without it each
	 * one would take and drop the WAL read lock, which costs more than
	 * the lookup itself. (A committed snapshot never changes, so even
	 * PostgreSQL's read committed gives one consistent view.) A
	 * transaction the caller (or an import) has open serves as well. */
	bool own_txn = !pw_db_in_transaction(s->db);
	if (own_txn && (rc = pw_fs_fail(s, pw_db_begin(s->db, err), err, "starting a read"))) {
		free(names);
		return rc;
	}
	struct reader r = {s, snapshot, PW_ARENA_INIT, NULL, 0, 0, NULL, 0, 0, false};
	rc = read_rows(&r, ecosystem, names, n, err);
	free(names);
	if (!rc)
		rc = load_advisories(&r, err);
	/* Everything is in memory now: the transaction ends before the
	 * callbacks run, so they may use the store freely. */
	if (own_txn)
		pw_db_rollback(s->db);
	if (!rc)
		rc = emit_advisories(&r, ecosystem, fn, ctx, err);
	free(r.rows);
	free(r.advs);
	pw_arena_release(&r.mem);
	return rc;
}

/* ---- KEV and EPSS ---- */

static void kev_from_row(pw_stmt *st, pw_kev_entry *out)
{
	out->cve = pw_stmt_text(st, 0);
	out->date_added = pw_stmt_text(st, 1);
	out->due_date = pw_stmt_text(st, 2);
	out->vendor = pw_stmt_text(st, 3);
	out->product = pw_stmt_text(st, 4);
	out->name = pw_stmt_text(st, 5);
	out->ransomware = pw_stmt_int(st, 6) != 0;
}

/* A KEV row copied into the store's buffer: the strings must outlive
 * the statement's reset. */
struct kev_copy {
	pw_buf *b;
	size_t off[6];
	bool null[6], ransomware, oom;
};

static void kev_copy_row(pw_stmt *st, void *item)
{
	struct kev_copy *k = item;
	pw_buf_reset(k->b);
	for (int i = 0; i < 6; i++) {
		const char *t = pw_stmt_text(st, i);
		k->null[i] = !t;
		k->off[i] = k->b->len;
		k->oom |= pw_buf_append(k->b, t ? t : "", t ? strlen(t) + 1 : 1) != PW_OK;
	}
	k->ransomware = pw_stmt_int(st, 6) != 0;
}

pw_err pw_feedstore_kev(pw_feedstore *s, int64_t snapshot, const char *cve, pw_kev_entry *out,
			bool *found, pw_error *err)
{
	struct cell v[3] = {c_text(cve), c_int(snapshot), c_int(snapshot)};
	struct kev_copy k = {.b = &s->kev_strings};
	pw_err rc = pw_fs_row_one(s, SQL_KEV_GET, v, 3, kev_copy_row, &k, found, "reading KEV",
				  err);
	if (rc || !*found)
		return rc;
	if (k.oom) {
		*found = false;
		return pw_fs_nomem(err);
	}
	const char *f[6];
	for (int i = 0; i < 6; i++)
		f[i] = k.null[i] ? NULL : s->kev_strings.data + k.off[i];
	*out = (pw_kev_entry){f[0], f[1], f[2], f[3], f[4], f[5], k.ransomware};
	return PW_OK;
}

static void epss_from_row(pw_stmt *st, void *item)
{
	pw_epss_entry *out = item;
	out->score = pw_stmt_double(st, 0);
	out->percentile = pw_stmt_double(st, 1);
}

pw_err pw_feedstore_epss(pw_feedstore *s, int64_t snapshot, const char *cve, pw_epss_entry *out,
			 bool *found, pw_error *err)
{
	struct cell v[3] = {c_text(cve), c_int(snapshot), c_int(snapshot)};
	pw_epss_entry e = {cve, 0, 0};
	pw_err rc = pw_fs_row_one(s, SQL_EPSS_GET, v, 3, epss_from_row, &e, found, "reading EPSS",
				  err);
	if (!rc && *found)
		*out = e;
	return rc;
}

pw_err pw_feedstore_each_kev(pw_feedstore *s, int64_t snapshot,
			     pw_err (*fn)(void *ctx, const pw_kev_entry *e, pw_error *err),
			     void *ctx, pw_error *err)
{
	pw_err rc = snapshot_exists(s, snapshot, err);
	if (rc)
		return rc;
	pw_stmt *st;
	if ((rc = pw_fs_prep(s, SQL_KEV_EACH, &st, err)))
		return pw_fs_fail(s, rc, err, "reading KEV");
	pw_stmt_bind_int(st, 1, snapshot);
	pw_stmt_bind_int(st, 2, snapshot);
	bool row;
	while (!(rc = pw_fs_fail(s, pw_stmt_step(st, &row, err), err, "reading KEV")) && row) {
		pw_kev_entry e;
		kev_from_row(st, &e);
		if ((rc = fn(ctx, &e, err))) {
			pw_stmt_reset(st);
			break;
		}
	}
	return rc;
}
/* ---- what names an id ---- */

pw_err pw_feedstore_naming(pw_feedstore *s, int64_t snapshot, const char *id, bool as_cve,
			   pw_err (*fn)(void *ctx, const pw_advisory_name *a, pw_error *err),
			   void *ctx, pw_error *err)
{
	if (as_cve ? !pw_cve_id_ok(id) : !pw_advisory_id_ok(id))
		return pw_error_set(err, PW_ERR_INVALID, "\"%.80s\" is not %s", id ? id : "",
				    as_cve ? "a CVE id" : "an advisory id");
	pw_err rc = snapshot_exists(s, snapshot, err);
	if (rc)
		return rc;
	pw_stmt *st;
	if ((rc = pw_fs_prep(s, as_cve ? SQL_NAMING_CVE : SQL_NAMING_ADV, &st, err)))
		return pw_fs_fail(s, rc, err, "looking an id up");
	char pattern[32];
	int at = 1;
	pw_stmt_bind_text(st, at++, id);
	if (as_cve) {
		snprintf(pattern, sizeof pattern, "%% %s %%", id);
		pw_stmt_bind_text(st, at++, pattern);
	}
	pw_stmt_bind_int(st, at++, snapshot);
	pw_stmt_bind_int(st, at, snapshot);
	bool row;
	while (!(rc = pw_fs_fail(s, pw_stmt_step(st, &row, err), err, "looking an id up")) && row) {
		const char *cves = pw_stmt_text(st, 3), *eco = pw_stmt_text(st, 2);
		pw_advisory_name a = {pw_stmt_text(st, 0), pw_stmt_text(st, 1), eco ? eco : "",
				      cves ? cves : "", pw_stmt_text(st, 4)};
		if ((rc = fn(ctx, &a, err))) {
			pw_stmt_reset(st);
			break;
		}
	}
	return rc;
}

/* ---- status ---- */

/* "debian:9" before "debian:10", "alpine:3.9" before "alpine:3.10":
 * runs of digits compare as numbers. */
static int cmp_release(const void *a, const void *b)
{
	const char *x = ((const pw_ecosystem_count *)a)->ecosystem;
	const char *y = ((const pw_ecosystem_count *)b)->ecosystem;
	while (*x && *y) {
		if (isdigit((unsigned char)*x) && isdigit((unsigned char)*y)) {
			while (*x == '0')
				x++;
			while (*y == '0')
				y++;
			size_t nx = strspn(x, "0123456789"), ny = strspn(y, "0123456789");
			if (nx != ny)
				return nx < ny ? -1 : 1;
			int c = strncmp(x, y, nx);
			if (c)
				return c;
			x += nx;
			y += ny;
		} else {
			if (*x != *y)
				return (unsigned char)*x < (unsigned char)*y ? -1 : 1;
			x++;
			y++;
		}
	}
	return (unsigned char)*x - (unsigned char)*y;
}

/* `item` is a struct counts. */
struct counts {
	pw_ecosystem_count *list;
	size_t n, cap;
	bool oom;
};

static void count_from_row(pw_stmt *st, void *item)
{
	struct counts *c = item;
	if (c->oom)
		return;
	pw_ecosystem_count *v = pw_grow(c->list, &c->cap, c->n, sizeof *v);
	if (!v) {
		c->oom = true;
		return;
	}
	c->list = v;
	pw_ecosystem_count *e = &c->list[c->n];
	const char *name = pw_stmt_text(st, 0);
	if (!(e->ecosystem = strdup(name ? name : ""))) {
		c->oom = true;
		return;
	}
	e->advisories = (size_t)pw_stmt_int(st, 1);
	e->packages = (size_t)pw_stmt_int(st, 2);
	c->n++;
}

pw_err pw_feedstore_ecosystems(pw_feedstore *s, int64_t snapshot, pw_ecosystem_count **list,
			       size_t *n, pw_error *err)
{
	*list = NULL;
	*n = 0;
	struct counts c = {NULL, 0, 0, false};
	pw_stmt *st;
	pw_err rc = pw_fs_prep(s, SQL_ECOSYSTEMS, &st, err);
	bool row;
	if (!rc) {
		pw_stmt_bind_int(st, 1, snapshot);
		pw_stmt_bind_int(st, 2, snapshot);
	}
	while (!rc && !(rc = pw_stmt_step(st, &row, err)) && row)
		count_from_row(st, &c);
	rc = pw_fs_fail(s, rc, err, "counting ecosystems");
	if (!rc && c.oom)
		rc = pw_fs_nomem(err);
	if (rc) {
		pw_feedstore_free_counts(c.list, c.n);
		return rc;
	}
	if (c.n)
		qsort(c.list, c.n, sizeof *c.list, cmp_release);
	*list = c.list;
	*n = c.n;
	return PW_OK;
}

void pw_feedstore_free_counts(pw_ecosystem_count *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i].ecosystem);
	free(list);
}
