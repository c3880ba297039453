/* A host's open findings grouped by package upgrade (upgrades.h): the
 * grouping, the one JSON serialiser, and the host's upgrades read from
 * its stored findings and inventory. */
#include "patchwarden/upgrades.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/ecosystem.h"
#include "patchwarden/grow.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/sql.h"

#define PAGE 1000

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void upgrade_release(pw_upgrade *u)
{
	free(u->hostname);
	free(u->package);
	for (size_t i = 0; i < u->n_binaries; i++) {
		free(u->binaries[i].name);
		free(u->binaries[i].version);
	}
	free(u->binaries);
	free(u->installed);
	free(u->target);
	free_strings(u->advisories, u->n_advisories);
	free_strings(u->cves, u->n_cves);
	free(u->earliest_due);
	free(u->findings);
}

void pw_upgrade_list_release(pw_upgrade_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		upgrade_release(&l->v[i]);
	free(l->v);
	*l = (pw_upgrade_list)PW_UPGRADE_LIST_INIT;
}

/* ---- the grouping ------------------------------------------------------- */

/* A growing set of strings, sorted and made unique at the end. */
struct strset {
	char **v;
	size_t n, cap;
};

static bool strset_add(struct strset *s, const char *p, size_t len)
{
	char **v = pw_grow(s->v, &s->cap, s->n, sizeof *v);
	if (!v)
		return false;
	s->v = v;
	if (!(v[s->n] = strndup(p, len)))
		return false;
	s->n++;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strset_finish(struct strset *s)
{
	if (!s->n)
		return;
	qsort(s->v, s->n, sizeof *s->v, cmp_str);
	size_t w = 1;
	for (size_t i = 1; i < s->n; i++) {
		if (strcmp(s->v[w - 1], s->v[i]))
			s->v[w++] = s->v[i];
		else
			free(s->v[i]);
	}
	s->n = w;
}

/* Adds the CVEs of "CVE-1,CVE-2" (NULL or "": none). */
static bool strset_add_list(struct strset *s, const char *list)
{
	for (const char *p = list ? list : ""; *p;) {
		size_t len = strcspn(p, ",");
		if (len && !strset_add(s, p, len))
			return false;
		p += len;
		if (*p)
			p++;
	}
	return true;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_key(const pw_finding_row *a, const pw_finding_row *b)
{
	if (a->host_id != b->host_id)
		return a->host_id < b->host_id ? -1 : 1;
	int c = strcmp(a->package ? a->package : "", b->package ? b->package : "");
	return c ? c : (int)a->by_source - (int)b->by_source;
}

static int cmp_row(const void *a, const void *b)
{
	const pw_finding_row *x = *(const pw_finding_row *const *)a;
	const pw_finding_row *y = *(const pw_finding_row *const *)b;
	int c = cmp_key(x, y);
	return c ? c : cmp_id(&x->id, &y->id);
}

static int cmp_upgrade(const void *a, const void *b)
{
	const pw_upgrade *x = a, *y = b;
	if (x->highest_priority != y->highest_priority)
		return x->highest_priority < y->highest_priority ? -1 : 1;
	int c = strcmp(x->package, y->package);
	if (c)
		return c;
	if (x->by_source != y->by_source)
		return x->by_source ? 1 : -1;
	return cmp_id(&x->host_id, &y->host_id);
}

/* The binaries of `u` from `inv`: installed from u->package (by_source)
 * or named so; each (name, version) once, in the inventory's order. */
static bool add_binaries(pw_upgrade *u, const pw_inventory *inv)
{
	size_t cap = 0;
	for (size_t i = 0; inv && i < inv->n_pkgs; i++) {
		const pw_package *p = &inv->pkgs[i];
		if (!p->name || !p->version)
			continue;
		const char *from = u->by_source && p->source && *p->source ? p->source : p->name;
		if (strcmp(from, u->package))
			continue;
		bool seen = false;
		for (size_t k = 0; k < u->n_binaries && !seen; k++)
			seen = !strcmp(u->binaries[k].name, p->name) &&
			       !strcmp(u->binaries[k].version, p->version);
		if (seen)
			continue;
		pw_upgrade_binary *v = pw_grow(u->binaries, &cap, u->n_binaries, sizeof *v);
		if (!v)
			return false;
		u->binaries = v;
		v[u->n_binaries] = (pw_upgrade_binary){strdup(p->name), strdup(p->version)};
		u->n_binaries++;
		if (!v[u->n_binaries - 1].name || !v[u->n_binaries - 1].version)
			return false;
	}
	if (u->n_binaries || u->by_source)
		return true;
	/* A binary package the inventory no longer lists: the findings' word. */
	u->binaries = malloc(sizeof *u->binaries);
	if (!u->binaries)
		return false;
	u->binaries[0] = (pw_upgrade_binary){strdup(u->package), strdup(u->installed)};
	u->n_binaries = 1;
	return u->binaries[0].name && u->binaries[0].version;
}

/* One upgrade from the rows g[0..n) of one (host, package, by_source). */
static pw_err make_upgrade(const pw_finding_row *const *g, size_t n, pw_scheme scheme,
			   const pw_inventory *inv, pw_upgrade *u, pw_error *err)
{
	const pw_finding_row *lo = g[0], *hi = g[0];
	u->highest_priority = PW_HOST_PRIO__COUNT;
	const char *due = NULL;
	struct strset adv = {NULL, 0, 0}, cves = {NULL, 0, 0};
	bool ok = (u->findings = malloc(n * sizeof *u->findings)) != NULL;
	for (size_t i = 0; i < n; i++) {
		const pw_finding_row *r = g[i];
		int c_lo = 0, c_hi = 0;
		pw_err rc = pw_vercmp(scheme, r->installed ? r->installed : "", lo->installed,
				      &c_lo, err);
		if (!rc)
			rc = pw_vercmp(scheme, r->fixed ? r->fixed : "", hi->fixed, &c_hi, err);
		if (rc) {
			free_strings(adv.v, adv.n);
			free_strings(cves.v, cves.n);
			pw_error_prefix(err, "finding %" PRId64 " (%s %s): ", r->id, r->package,
					r->advisory);
			return rc;
		}
		if (c_lo < 0)
			lo = r;
		if (c_hi > 0)
			hi = r;
		pw_host_prio p = PW_HOST_PRIO_LOW;
		pw_host_prio_parse(r->priority ? r->priority : "", &p);
		if (p < u->highest_priority)
			u->highest_priority = p;
		if (r->due && (!due || strcmp(r->due, due) < 0))
			due = r->due;
		u->kev = u->kev || r->kev_cve;
		if (ok)
			u->findings[i] = r->id;
		ok = ok && strset_add(&adv, r->advisory, strlen(r->advisory));
		ok = ok && strset_add_list(&cves, r->cves);
	}
	strset_finish(&adv);
	strset_finish(&cves);
	u->advisories = adv.v;
	u->n_advisories = adv.n;
	u->cves = cves.v;
	u->n_cves = cves.n;
	u->n_findings = u->findings ? n : 0;
	if (u->findings)
		qsort(u->findings, n, sizeof *u->findings, cmp_id);
	u->host_id = g[0]->host_id;
	u->by_source = g[0]->by_source;
	ok = ok && (u->package = strdup(g[0]->package)) &&
	     (!g[0]->hostname || (u->hostname = strdup(g[0]->hostname))) &&
	     (u->installed = strdup(lo->installed)) && (u->target = strdup(hi->fixed)) &&
	     (!due || (u->earliest_due = strdup(due)));
	ok = ok && add_binaries(u, inv);
	return ok ? PW_OK : pw_error_set(err, PW_ERR_NOMEM, "grouping upgrades: out of memory");
}

pw_err pw_upgrades_group(const pw_finding_row *rows, size_t n, pw_scheme scheme,
			 const pw_inventory *inv, pw_upgrade_list *out, pw_error *err)
{
	const pw_finding_row **open = n ? malloc(n * sizeof *open) : NULL;
	if (n && !open)
		return pw_error_set(err, PW_ERR_NOMEM, "grouping upgrades: out of memory");
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		const pw_finding_row *r = &rows[i];
		if (r->fixed_at)
			continue;
		if (!r->package || !r->advisory || !r->installed || !r->fixed) {
			free(open);
			return pw_error_set(err, PW_ERR_INVALID,
					    "finding %" PRId64
					    ": package, advisory, installed and fixed are required",
					    r->id);
		}
		open[m++] = r;
	}
	if (m)
		qsort(open, m, sizeof *open, cmp_row);
	size_t first = out->n;
	pw_err rc = PW_OK;
	for (size_t i = 0; i < m && !rc;) {
		size_t j = i + 1;
		while (j < m && !cmp_key(open[i], open[j]))
			j++;
		pw_upgrade *v = pw_grow(out->v, &out->cap, out->n, sizeof *v);
		if (!v) {
			rc = pw_error_set(err, PW_ERR_NOMEM, "grouping upgrades: out of memory");
			break;
		}
		out->v = v;
		v[out->n] = (pw_upgrade){0};
		rc = make_upgrade(open + i, j - i, scheme, inv, &v[out->n], err);
		out->n++; /* counted either way: the release frees what it got */
		i = j;
	}
	free(open);
	if (!rc && out->n > first)
		qsort(out->v + first, out->n - first, sizeof *out->v, cmp_upgrade);
	return rc;
}

/* ---- the record ----------------------------------------------------------- */

static bool add_strings(cJSON *o, const char *key, char *const *v, size_t n)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);
	for (size_t i = 0; a && i < n; i++) {
		cJSON *s = cJSON_CreateString(v[i]);
		if (!s || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			return false;
		}
	}
	return a != NULL;
}

cJSON *pw_upgrade_to_json(const pw_upgrade *u)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && pw_json_add_int(o, "host_id", u->host_id) &&
		  pw_json_add_str(o, "hostname", u->hostname) &&
		  pw_json_add_str(o, "package", u->package) &&
		  cJSON_AddBoolToObject(o, "by_source", u->by_source);
	cJSON *bins = ok ? cJSON_AddArrayToObject(o, "binaries") : NULL;
	ok = bins != NULL;
	for (size_t i = 0; ok && i < u->n_binaries; i++) {
		cJSON *b = cJSON_CreateObject();
		ok = b && cJSON_AddItemToArray(bins, b);
		if (!ok) {
			cJSON_Delete(b);
			break;
		}
		ok = pw_json_add_str(b, "name", u->binaries[i].name) &&
		     pw_json_add_str(b, "version", u->binaries[i].version);
	}
	ok = ok && pw_json_add_str(o, "installed", u->installed) &&
	     pw_json_add_str(o, "target", u->target) &&
	     add_strings(o, "advisories", u->advisories, u->n_advisories) &&
	     pw_json_add_int(o, "cve_count", (int64_t)u->n_cves) &&
	     add_strings(o, "cves", u->cves, u->n_cves) &&
	     pw_json_add_str(o, "highest_priority",
			     u->highest_priority < PW_HOST_PRIO__COUNT
				     ? pw_host_prio_name(u->highest_priority)
				     : NULL) &&
	     pw_json_add_str(o, "earliest_due", u->earliest_due) &&
	     cJSON_AddBoolToObject(o, "kev", u->kev);
	cJSON *ids = ok ? cJSON_AddArrayToObject(o, "findings") : NULL;
	ok = ids != NULL;
	for (size_t i = 0; ok && i < u->n_findings; i++) {
		cJSON *x = cJSON_CreateNumber((double)u->findings[i]);
		ok = x && cJSON_AddItemToArray(ids, x);
		if (!ok)
			cJSON_Delete(x);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ---- a host's upgrades ----------------------------------------------------- */

/* The host's stored inventory into `inv` (nothing when it has none) and
 * the scheme its versions compare by. */
static pw_err host_scheme(pw_db *db, const pw_host *h, pw_inventory *inv, bool *have_scheme,
			  pw_scheme *scheme, pw_error *err)
{
	const char *hash = h->f[PW_HF_INVENTORY_HASH];
	*have_scheme = false;
	if (hash) {
		pw_stmt *st = NULL;
		bool row = false;
		pw_err rc = pw_sql(db, "SELECT json FROM inventories WHERE hash = ?", &st, err, "t",
				   hash);
		if (!rc)
			rc = pw_stmt_step(st, &row, err);
		cJSON *j = !rc && row ? cJSON_Parse(pw_stmt_text(st, 0) ? pw_stmt_text(st, 0) : "")
				      : NULL;
		if (st)
			pw_stmt_reset(st);
		if (rc) {
			cJSON_Delete(j);
			return rc;
		}
		if (j) {
			rc = pw_inventory_from_json(inv, j, err);
			cJSON_Delete(j);
			if (rc)
				return pw_error_prefix(err, "host %" PRId64 ": stored inventory: ",
						       h->id);
			*scheme = inv->scheme;
			*have_scheme = true;
			return PW_OK;
		}
	}
	char eco[PW_ECOSYSTEM_MAX];
	pw_error ignored = PW_ERROR_INIT;
	if (h->f[PW_HF_OS_ID] && !pw_ecosystem_from_os(h->f[PW_HF_OS_ID], h->f[PW_HF_OS_VERSION_ID],
						       h->f[PW_HF_OS_CODENAME], eco, &ignored)) {
		*scheme = pw_ecosystem_scheme(eco);
		*have_scheme = true;
	}
	return PW_OK;
}

pw_err pw_host_upgrades(pw_db *db, int64_t host_id, pw_upgrade_list *out, pw_error *err)
{
	pw_host h = PW_HOST_INIT;
	pw_err rc = pw_host_get(db, host_id, &h, err);
	pw_finding_filter f = PW_FINDING_FILTER_INIT;
	f.host_id = host_id;
	f.state = "open";
	f.host.decom = PW_HOST_ANY;
	pw_finding_list l = PW_FINDING_LIST_INIT;
	for (int64_t after = 0; !rc;) { /* every page */
		size_t before = l.n;
		rc = pw_finding_page(db, &f, after, PAGE, &l, err);
		if (rc || l.n - before < PAGE)
			break;
		after = l.v[l.n - 1].id;
	}
	pw_inventory inv = PW_INVENTORY_INIT;
	bool have = false;
	pw_scheme scheme = PW_SCHEME_DEB;
	if (!rc && l.n)
		rc = host_scheme(db, &h, &inv, &have, &scheme, err);
	if (!rc && l.n && !have)
		rc = pw_error_set(err, PW_ERR_INVALID,
				  "host %" PRId64
				  ": neither a stored inventory nor its OS says how its versions "
				  "compare",
				  host_id);
	if (!rc)
		rc = pw_upgrades_group(l.v, l.n, scheme, &inv, out, err);
	pw_inventory_release(&inv);
	pw_finding_list_release(&l);
	pw_host_release(&h);
	return rc;
}
