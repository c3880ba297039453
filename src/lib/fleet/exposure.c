/* The exposure of the fleet to one CVE or advisory (exposure.h): the
 * feed store read once (what names the id, KEV, EPSS), the hosts with
 * their coverage, the stored findings naming the id, and each host put
 * in one group. */
#include "patchwarden/exposure.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/coverage.h"
#include "patchwarden/ecosystem.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/grow.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/sql.h"

static const char *const group_names[PW_EXPOSED__COUNT] = {
	[PW_EXPOSED_AFFECTED] = "affected",
	[PW_EXPOSED_FIXED] = "fixed",
	[PW_EXPOSED_NOT_AFFECTED] = "not_affected",
	[PW_EXPOSED_UNKNOWN] = "unknown",
};

const char *pw_exposed_name(pw_exposed g)
{
	return (unsigned)g < PW_EXPOSED__COUNT ? group_names[g] : "unknown";
}

static pw_err nomem(pw_error *err)
{
	return pw_error_set(err, PW_ERR_NOMEM, "exposure: out of memory");
}

void pw_vuln_exposure_release(pw_vuln_exposure *e)
{
	for (size_t i = 0; i < e->n_advisories; i++) {
		free(e->advisories[i].id);
		free(e->advisories[i].source);
		free(e->advisories[i].releases);
	}
	free(e->advisories);
	for (size_t i = 0; i < e->n_cves; i++)
		free(e->cves[i]);
	free(e->cves);
	for (int g = 0; g < PW_EXPOSED__COUNT; g++) {
		for (size_t i = 0; i < e->n_hosts[g]; i++) {
			free(e->hosts[g][i].hostname);
			free(e->hosts[g][i].fixed_at);
			free(e->hosts[g][i].findings);
		}
		free(e->hosts[g]);
	}
	for (size_t i = 0; i < e->n_findings; i++) {
		pw_exposure_finding *f = &e->findings[i];
		char *s[] = {f->package, f->installed, f->fixed,   f->advisory, f->priority,
			     f->due,     f->kev_cve,   f->kev_due, f->fixed_at};
		for (size_t k = 0; k < sizeof s / sizeof s[0]; k++)
			free(s[k]);
	}
	free(e->findings);
	*e = (pw_vuln_exposure)PW_VULN_EXPOSURE_INIT;
}

/* The next word (*w, *n bytes) of a space-separated list at *p; false
 * at its end. */
static bool next_word(const char **p, const char **w, size_t *n)
{
	*p += strspn(*p, " ");
	if (!**p)
		return false;
	*w = *p;
	*n = strcspn(*p, " ");
	*p += *n;
	return true;
}

/* Whether the space-separated `list` has the word w. */
static bool has_word(const char *list, const char *w)
{
	size_t len = strlen(w), n;
	const char *word;
	for (const char *p = list ? list : ""; next_word(&p, &word, &n);)
		if (n == len && !memcmp(word, w, n))
			return true;
	return false;
}

/* ---- what the feed store knows ------------------------------------------ */

struct feed_ctx {
	pw_vuln_exposure *e;
	size_t cap_adv, cap_cves;
};

static pw_err add_cve(struct feed_ctx *c, const char *cve, size_t len, pw_error *err)
{
	pw_vuln_exposure *e = c->e;
	for (size_t i = 0; i < e->n_cves; i++)
		if (strlen(e->cves[i]) == len && !memcmp(e->cves[i], cve, len))
			return PW_OK;
	char **v = pw_grow(e->cves, &c->cap_cves, e->n_cves, sizeof *v);
	if (!v)
		return nomem(err);
	e->cves = v;
	if (!(v[e->n_cves] = strndup(cve, len)))
		return nomem(err);
	e->n_cves++;
	return PW_OK;
}

static pw_err on_advisory(void *ctx, const pw_advisory_name *a, pw_error *err)
{
	struct feed_ctx *c = ctx;
	pw_vuln_exposure *e = c->e;
	pw_exposure_advisory *v = pw_grow(e->advisories, &c->cap_adv, e->n_advisories, sizeof *v);
	if (!v)
		return nomem(err);
	e->advisories = v;
	pw_exposure_advisory *x = &v[e->n_advisories++];
	x->id = strdup(a->id ? a->id : "");
	x->source = strdup(a->source ? a->source : "");
	x->releases = strdup(a->ecosystems);
	if (!x->id || !x->source || !x->releases)
		return nomem(err);
	if (e->kind != PW_VULN_ADVISORY)
		return PW_OK;
	const char *cve;
	size_t n;
	for (const char *p = a->cves; next_word(&p, &cve, &n);) {
		pw_err rc = add_cve(c, cve, n, err);
		if (rc)
			return rc;
	}
	return PW_OK;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The KEV entry due first and the highest EPSS of the CVEs. */
static pw_err kev_epss(pw_feedstore *s, pw_vuln_exposure *e, pw_error *err)
{
	pw_err rc = PW_OK;
	for (size_t i = 0; !rc && i < e->n_cves; i++) {
		pw_kev_entry k;
		pw_epss_entry p;
		bool found = false;
		rc = pw_feedstore_kev(s, e->snapshot, e->cves[i], &k, &found, err);
		if (!rc && found &&
		    (!*e->kev_cve ||
		     (k.due_date && (!*e->kev_due || strcmp(k.due_date, e->kev_due) < 0)))) {
			snprintf(e->kev_cve, sizeof e->kev_cve, "%s", e->cves[i]);
			snprintf(e->kev_due, sizeof e->kev_due, "%s", k.due_date ? k.due_date : "");
		}
		if (!rc)
			rc = pw_feedstore_epss(s, e->snapshot, e->cves[i], &p, &found, err);
		if (!rc && found && (!e->has_epss || p.score > e->epss)) {
			e->has_epss = true;
			e->epss = p.score;
			e->epss_percentile = p.percentile;
			snprintf(e->epss_cve, sizeof e->epss_cve, "%s", e->cves[i]);
		}
	}
	return rc;
}

static pw_err load_feed(pw_db *db, const pw_findings_config *cfg, pw_vuln_exposure *e,
			pw_error *err)
{
	struct feed_ctx c = {e, 0, 0};
	pw_err rc = e->kind == PW_VULN_CVE ? add_cve(&c, e->id, strlen(e->id), err) : PW_OK;
	if (rc || !e->snapshot)
		return rc;
	pw_feedstore *s = NULL;
	rc = pw_findings_store_open(cfg->store, db, &s, err);
	if (!rc)
		rc = pw_feedstore_naming(s, e->snapshot, e->id, e->kind == PW_VULN_CVE, on_advisory,
					 &c, err);
	if (!rc && e->n_cves > 1)
		qsort(e->cves, e->n_cves, sizeof *e->cves, by_str);
	if (!rc)
		rc = kev_epss(s, e, err);
	pw_feedstore_close(s);
	e->known = e->n_advisories > 0;
	return rc;
}

/* ---- the stored findings naming it -------------------------------------- */

#define FINDING_COLS                                                                               \
	"SELECT id, host_id, package, installed, fixed, advisory, priority, due, kev_cve,"         \
	" kev_due, fixed_at FROM findings"

static void fill_finding(pw_stmt *st, void *item, bool *oom)
{
	pw_exposure_finding *f = item;
	f->id = pw_stmt_int(st, 0);
	f->host_id = pw_stmt_int(st, 1);
	char **t[] = {&f->package, &f->installed, &f->fixed,   &f->advisory, &f->priority,
		      &f->due,     &f->kev_cve,   &f->kev_due, &f->fixed_at};
	for (int k = 0; k < 9; k++)
		*t[k] = pw_col_dup(st, 2 + k, oom);
}

static pw_err load_findings(pw_db *db, pw_vuln_exposure *e, pw_error *err)
{
	pw_stmt *st = NULL;
	pw_err rc;
	if (e->kind == PW_VULN_CVE) { /* a CVE id has no LIKE wildcard */
		char pattern[PW_ADVISORY_ID_MAX + 8];
		snprintf(pattern, sizeof pattern, "%%,%s,%%", e->id);
		rc = pw_sql(db,
			    FINDING_COLS " WHERE advisory = ? OR ',' || cves || ',' LIKE ?"
					 " ORDER BY host_id, id",
			    &st, err, "tt", e->id, pattern);
	} else {
		rc = pw_sql(db, FINDING_COLS " WHERE advisory = ? ORDER BY host_id, id", &st, err,
			    "t", e->id);
	}
	size_t cap = 0;
	void *v = e->findings;
	if (!rc)
		rc = pw_rows_append(st, &v, &e->n_findings, &cap, sizeof *e->findings, fill_finding,
				    "reading findings", err);
	e->findings = v;
	return rc;
}

/* ---- the groups ---------------------------------------------------------- */

static bool release_named(const pw_vuln_exposure *e, const char *release)
{
	for (size_t i = 0; *release && i < e->n_advisories; i++)
		if (has_word(e->advisories[i].releases, release))
			return true;
	return false;
}

/* The first of the findings (by host id) of host `id`. */
static size_t first_of(const pw_vuln_exposure *e, int64_t id)
{
	size_t lo = 0, hi = e->n_findings;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->findings[mid].host_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static pw_err place(pw_vuln_exposure *e, size_t cap[PW_EXPOSED__COUNT], const pw_host *h,
		    pw_error *err)
{
	size_t lo = first_of(e, h->id), hi = lo, open = 0;
	const char *last_fixed = NULL;
	for (; hi < e->n_findings && e->findings[hi].host_id == h->id; hi++) {
		const char *at = e->findings[hi].fixed_at;
		if (!at)
			open++;
		else if (!last_fixed || strcmp(at, last_fixed) > 0)
			last_fixed = at;
	}
	pw_exposed g = open                                             ? PW_EXPOSED_AFFECTED
		       : hi > lo                                        ? PW_EXPOSED_FIXED
		       : h->coverage == PW_COVERAGE_COVERED && e->known ? PW_EXPOSED_NOT_AFFECTED
									: PW_EXPOSED_UNKNOWN;
	pw_exposure_host *v = pw_grow(e->hosts[g], &cap[g], e->n_hosts[g], sizeof *v);
	if (!v)
		return nomem(err);
	e->hosts[g] = v;
	pw_exposure_host *x = &v[e->n_hosts[g]++];
	memset(x, 0, sizeof *x);
	x->id = h->id;
	x->coverage = h->coverage;
	snprintf(x->coverage_detail, sizeof x->coverage_detail, "%s", h->coverage_detail);
	char eco[PW_ECOSYSTEM_MAX];
	if (!pw_ecosystem_from_os(h->f[PW_HF_OS_ID], h->f[PW_HF_OS_VERSION_ID],
				  h->f[PW_HF_OS_CODENAME], eco, NULL))
		snprintf(x->release, sizeof x->release, "%s", eco);
	x->release_named = release_named(e, x->release);
	x->hostname = strdup(h->f[PW_HF_HOSTNAME] ? h->f[PW_HF_HOSTNAME] : "");
	if (!x->hostname)
		return nomem(err);
	if (g == PW_EXPOSED_FIXED && !(x->fixed_at = strdup(last_fixed)))
		return nomem(err);
	if (g != PW_EXPOSED_AFFECTED)
		return PW_OK;
	if (!(x->findings = calloc(open, sizeof *x->findings)))
		return nomem(err);
	for (size_t i = lo; i < hi; i++)
		if (!e->findings[i].fixed_at)
			x->findings[x->n_findings++] = &e->findings[i];
	return PW_OK;
}

pw_err pw_vuln_exposure_get(pw_db *db, const pw_findings_config *cfg, pw_vuln_kind kind,
			    const char *id, const pw_host_filter *f, pw_vuln_exposure *out,
			    pw_error *err)
{
	*out = (pw_vuln_exposure)PW_VULN_EXPOSURE_INIT;
	out->kind = kind;
	if (kind == PW_VULN_CVE && !pw_cve_id_ok(id))
		return pw_error_set(err, PW_ERR_INVALID,
				    "\"%.*s\" is not a CVE id like CVE-2023-5363 (CVE-, the year, "
				    "-, 4 or more digits; in capitals)",
				    id ? pw_utf8_prefix(id, 64) : 0, id ? id : "");
	if (kind != PW_VULN_CVE && !pw_advisory_id_ok(id))
		return pw_error_set(err, PW_ERR_INVALID,
				    "\"%.*s\" is not an advisory id as the feeds name them "
				    "(DSA-5532-1, RHSA-2024:1234, GHSA-…): letters, digits and "
				    "-:._, at most %d",
				    id ? pw_utf8_prefix(id, 64) : 0, id ? id : "",
				    PW_ADVISORY_ID_MAX);
	snprintf(out->id, sizeof out->id, "%s", id);
	pw_coverage_ctx cov;
	pw_err rc = pw_coverage_load(db, cfg, &cov, err);
	if (rc)
		return rc;
	out->snapshot = cov.snapshot;
	rc = load_feed(db, cfg, out, err);
	static const pw_host_filter in_service = PW_HOST_FILTER_INIT;
	pw_host_list l = PW_HOST_LIST_INIT;
	if (!rc)
		rc = pw_host_list_query(db, f ? f : &in_service, &l, err);
	pw_host_list_coverage_set(&cov, &l);
	pw_coverage_ctx_release(&cov);
	if (!rc)
		rc = load_findings(db, out, err);
	size_t cap[PW_EXPOSED__COUNT] = {0};
	for (size_t i = 0; !rc && i < l.n; i++)
		rc = place(out, cap, &l.v[i], err);
	pw_host_list_release(&l);
	if (rc)
		pw_vuln_exposure_release(out);
	return rc;
}

/* ---- the record ------------------------------------------------------------ */

/* The space-separated words of `text` as an array member. */
static bool add_words(cJSON *o, const char *key, const char *text)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);
	const char *w;
	size_t n;
	for (const char *p = text ? text : ""; a && next_word(&p, &w, &n);) {
		char one[PW_ECOSYSTEM_MAX];
		snprintf(one, sizeof one, "%.*s", (int)(n < sizeof one ? n : sizeof one - 1), w);
		cJSON *s = cJSON_CreateString(one);
		if (!s || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			return false;
		}
	}
	return a != NULL;
}

static bool add_kev(cJSON *o, const char *cve, const char *due)
{
	if (!cve || !*cve)
		return cJSON_AddNullToObject(o, "kev") != NULL;
	cJSON *k = cJSON_AddObjectToObject(o, "kev");
	return k && pw_json_add_str(k, "cve", cve) &&
	       pw_json_add_str(k, "due_date", due && *due ? due : NULL);
}

static cJSON *finding_json(const pw_exposure_finding *f)
{
	cJSON *o = cJSON_CreateObject();
	if (o && pw_json_add_int(o, "id", f->id) && pw_json_add_str(o, "package", f->package) &&
	    pw_json_add_str(o, "installed", f->installed) &&
	    pw_json_add_str(o, "fixed", f->fixed) && pw_json_add_str(o, "advisory", f->advisory) &&
	    pw_json_add_str(o, "priority", f->priority) && pw_json_add_str(o, "due", f->due) &&
	    add_kev(o, f->kev_cve, f->kev_due))
		return o;
	cJSON_Delete(o);
	return NULL;
}

static cJSON *host_json(pw_exposed g, const pw_exposure_host *h)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && pw_json_add_int(o, "host_id", h->id) &&
		  pw_json_add_str(o, "hostname", h->hostname) &&
		  pw_json_add_str(o, "release", *h->release ? h->release : NULL);
	if (ok && g == PW_EXPOSED_AFFECTED) {
		cJSON *a = cJSON_AddArrayToObject(o, "findings");
		ok = a != NULL;
		for (size_t i = 0; ok && i < h->n_findings; i++) {
			cJSON *f = finding_json(h->findings[i]);
			ok = f && cJSON_AddItemToArray(a, f);
			if (!ok)
				cJSON_Delete(f);
		}
	} else if (ok && g == PW_EXPOSED_FIXED) {
		ok = pw_json_add_str(o, "fixed_at", h->fixed_at);
	} else if (ok && g == PW_EXPOSED_NOT_AFFECTED) {
		ok = cJSON_AddBoolToObject(o, "release_named", h->release_named) != NULL;
	} else if (ok) {
		cJSON *c = cJSON_AddObjectToObject(o, "coverage");
		ok = c && pw_json_add_str(c, "state", pw_host_coverage_name(h->coverage)) &&
		     pw_json_add_str(c, "detail", h->coverage_detail);
	}
	if (ok)
		return o;
	cJSON_Delete(o);
	return NULL;
}

static bool add_feed(cJSON *o, const pw_vuln_exposure *e)
{
	bool ok = e->snapshot ? pw_json_add_int(o, "feed_snapshot", e->snapshot)
			      : cJSON_AddNullToObject(o, "feed_snapshot") != NULL;
	cJSON *a = ok ? cJSON_AddArrayToObject(o, "advisories") : NULL;
	ok = a != NULL;
	for (size_t i = 0; ok && i < e->n_advisories; i++) {
		cJSON *x = cJSON_CreateObject();
		ok = x && cJSON_AddItemToArray(a, x);
		if (!ok) {
			cJSON_Delete(x);
			break;
		}
		ok = pw_json_add_str(x, "id", e->advisories[i].id) &&
		     pw_json_add_str(x, "source", e->advisories[i].source) &&
		     add_words(x, "releases", e->advisories[i].releases);
	}
	a = ok ? cJSON_AddArrayToObject(o, "cves") : NULL;
	ok = a != NULL;
	for (size_t i = 0; ok && i < e->n_cves; i++) {
		cJSON *s = cJSON_CreateString(e->cves[i]);
		ok = s && cJSON_AddItemToArray(a, s);
		if (!ok)
			cJSON_Delete(s);
	}
	ok = ok && add_kev(o, e->kev_cve, e->kev_due);
	if (ok && e->has_epss) {
		cJSON *x = cJSON_AddObjectToObject(o, "epss");
		ok = x && pw_json_add_str(x, "cve", e->epss_cve) &&
		     cJSON_AddNumberToObject(x, "score", e->epss) &&
		     cJSON_AddNumberToObject(x, "percentile", e->epss_percentile);
	} else if (ok) {
		ok = cJSON_AddNullToObject(o, "epss") != NULL;
	}
	return ok;
}

cJSON *pw_exposure_to_json(const pw_vuln_exposure *e)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && pw_json_add_str(o, "id", e->id) &&
		  pw_json_add_str(o, "kind", e->kind == PW_VULN_CVE ? "cve" : "advisory") &&
		  cJSON_AddBoolToObject(o, "known", e->known) && add_feed(o, e);
	cJSON *c = ok ? cJSON_AddObjectToObject(o, "counts") : NULL;
	ok = c != NULL;
	for (int g = 0; ok && g < PW_EXPOSED__COUNT; g++)
		ok = pw_json_add_int(c, pw_exposed_name((pw_exposed)g), (int64_t)e->n_hosts[g]);
	for (int g = 0; ok && g < PW_EXPOSED__COUNT; g++) {
		cJSON *a = cJSON_AddArrayToObject(o, pw_exposed_name((pw_exposed)g));
		ok = a != NULL;
		for (size_t i = 0; ok && i < e->n_hosts[g]; i++) {
			cJSON *h = host_json((pw_exposed)g, &e->hosts[g][i]);
			ok = h && cJSON_AddItemToArray(a, h);
			if (!ok)
				cJSON_Delete(h);
		}
	}
	if (ok)
		return o;
	cJSON_Delete(o);
	return NULL;
}
