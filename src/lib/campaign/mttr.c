/* Mean time to remediate (compliance.h, pw_mttr_report). */
#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/clock.h"
#include "patchwarden/compliance.h"
#include "patchwarden/csv.h"
#include "patchwarden/hashtab.h"
#include "patchwarden/hosts.h"
#include "patchwarden/jsonout.h"

#include "campaign-internal.h"

#define DAY 86400.0

/* The earliest publication any source gives the advisory; INT64_MAX when
 * none does. A feed's time that is not one of the stored forms counts by
 * its date. */
static pw_err on_name(void *ctx, const pw_advisory_name *a, pw_error *err)
{
	(void)err;
	int64_t *best = ctx, t;
	char day[11];
	pw_error e = PW_ERROR_INIT;
	if (!a->published)
		return PW_OK;
	snprintf(day, sizeof day, "%s", a->published);
	if ((!pw_ts_parse("published", a->published, &t, NULL, &e) ||
	     !pw_ts_parse("published", day, &t, NULL, &e)) &&
	    t < *best)
		*best = t;
	return PW_OK;
}

/* An advisory and its publication. */
struct pub {
	const char *advisory;
	int64_t at;
};

static bool pub_eq(const void *rec, const void *key)
{
	return !strcmp(((const struct pub *)rec)->advisory, key);
}

/* Publication time per finding (INT64_MAX unknown), each advisory looked
 * up once. */
static pw_err published(pw_feedstore *store, const struct cx_hist *x, int64_t *pub, pw_error *err)
{
	for (size_t i = 0; i < x->nf; i++)
		pub[i] = INT64_MAX;
	if (!store)
		return PW_OK;
	/* A store without a snapshot dates nothing. */
	int64_t snap = 0;
	pw_error none = PW_ERROR_INIT;
	if (pw_feedstore_latest(store, &snap, &none) || !snap)
		return PW_OK;
	pw_err rc = PW_OK;
	pw_hashtab seen = PW_HASHTAB_INIT;
	struct pub *known = malloc((x->nf ? x->nf : 1) * sizeof *known);
	size_t nk = 0;
	if (!known)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	for (size_t i = 0; !rc && i < x->nf; i++) {
		const struct cx_finding *f = &x->f[i];
		if (!f->verified || f->fixed > x->q->as_of)
			continue;
		uint64_t h = pw_hash_str(PW_HASH_SEED, f->advisory);
		struct pub *k = pw_hashtab_find(&seen, h, pub_eq, f->advisory);
		if (!k) {
			k = &known[nk++];
			*k = (struct pub){f->advisory, INT64_MAX};
			pw_error e = PW_ERROR_INIT;
			/* An id the store refuses to look up has no publication date. */
			pw_err r = pw_feedstore_naming(store, snap, f->advisory, false, on_name,
						       &k->at, &e);
			if (r && r != PW_ERR_INVALID)
				rc = pw_error_set(err, r, "%s", e.msg);
			else if (pw_hashtab_insert(&seen, h, k))
				rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
		pub[i] = k->at;
	}
	pw_hashtab_release(&seen);
	free(known);
	return rc;
}

/* One group's row: the fixes whose key (a priority, an owner group)
 * matches. */
static bool group_row(const struct cx_hist *x, const int64_t *pub, cJSON *arr, const char *by,
		      const char *group,
		      bool (*match)(const struct cx_hist *, size_t, const char *), double *v)
{
	size_t n = 0, np = 0;
	double *vp = v + x->nf;
	for (size_t i = 0; i < x->nf; i++) {
		const struct cx_finding *f = &x->f[i];
		if (!f->verified || f->fixed > x->q->as_of || !match(x, i, group))
			continue;
		v[n++] = (double)(f->fixed - f->first) / DAY;
		if (pub[i] != INT64_MAX)
			vp[np++] = (double)(f->fixed - pub[i]) / DAY;
	}
	if (n == 0)
		return true;
	cJSON *o = cJSON_CreateObject();
	return o && cJSON_AddItemToArray(arr, o) && pw_json_add_str(o, "group_by", by) &&
	       pw_json_add_str(o, "group", group) && pw_json_add_int(o, "fixed", (int64_t)n) &&
	       pw_cx_add_stats(o, "detection_median_days", "detection_mean_days", v, n) &&
	       pw_json_add_int(o, "published", (int64_t)np) &&
	       pw_cx_add_stats(o, "publication_median_days", "publication_mean_days", vp, np);
}

static bool by_priority(const struct cx_hist *x, size_t i, const char *group)
{
	return !strcmp(pw_host_prio_name((pw_host_prio)x->f[i].prio), group);
}

static bool by_owner(const struct cx_hist *x, size_t i, const char *group)
{
	const char *o = x->h[x->f[i].host].owner;
	return !strcmp(o ? o : "", group);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool add_groups(const struct cx_hist *x, const int64_t *pub, cJSON *doc, double *v)
{
	cJSON *arr = cJSON_AddArrayToObject(doc, "groups");
	bool ok = arr != NULL;
	for (int p = 0; ok && p < PW_HOST_PRIO__COUNT; p++)
		ok = group_row(x, pub, arr, "priority", pw_host_prio_name((pw_host_prio)p),
			       by_priority, v);
	/* The owner groups in name order ("" for hosts without one). */
	const char **names = malloc((x->nh ? x->nh : 1) * sizeof *names);
	size_t n = 0;
	for (size_t i = 0; names && i < x->nh; i++)
		names[n++] = x->h[i].owner ? x->h[i].owner : "";
	if (names)
		qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; ok && names && i < n; i++)
		if (i == 0 || strcmp(names[i], names[i - 1]))
			ok = group_row(x, pub, arr, "owner_group", names[i], by_owner, v);
	ok = ok && names;
	free(names);
	return ok;
}

pw_err pw_mttr_report(pw_db *db, pw_feedstore *store, const pw_compliance_query *q, cJSON **out,
		      pw_error *err)
{
	*out = NULL;
	struct cx_hist x;
	pw_err rc = pw_cx_load(db, q, CX_ADVISORIES, &x, err);
	if (rc)
		return rc;
	int64_t *pub = malloc((x.nf ? x.nf : 1) * sizeof *pub);
	double *v = malloc((x.nf ? 2 * x.nf : 1) * sizeof *v);
	cJSON *doc = cJSON_CreateObject();
	rc = pub && v && doc ? published(store, &x, pub, err)
			     : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc) {
		char at[PW_TS_SECONDS_LEN];
		pw_ts_seconds(q->as_of, at);
		bool ok = pw_json_add_str(doc, "as_of", at) &&
			  pw_json_add_str(doc, "owner_group", q->owner) &&
			  pw_json_add_str(doc, "category", q->category) &&
			  add_groups(&x, pub, doc, v);
		if (!ok)
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	free(pub);
	free(v);
	pw_cx_free(&x);
	if (rc)
		cJSON_Delete(doc);
	else
		*out = doc;
	return rc;
}
