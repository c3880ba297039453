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

/* What an upgrade fixes: the members the host's and the fleet's share. */
static bool add_fixes(cJSON *o, char *const *adv, size_t n_adv, char *const *cves, size_t n_cves,
		      pw_host_prio prio, const char *due, bool kev)
{
	return pw_json_add_strings(o, "advisories", adv, n_adv) &&
	       pw_json_add_int(o, "cve_count", (int64_t)n_cves) &&
	       pw_json_add_strings(o, "cves", cves, n_cves) &&
	       pw_json_add_str(o, "highest_priority",
			       prio < PW_HOST_PRIO__COUNT ? pw_host_prio_name(prio) : NULL) &&
	       pw_json_add_str(o, "earliest_due", due) && cJSON_AddBoolToObject(o, "kev", kev);
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
	     add_fixes(o, u->advisories, u->n_advisories, u->cves, u->n_cves, u->highest_priority,
		       u->earliest_due, u->kev);
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

/* Parsed stored inventories by hash: a fleet shares few distinct ones. */
struct inv_cache {
	struct cached {
		char *hash;
		pw_inventory inv;
	} * v;
	size_t n, cap;
};

static void inv_cache_release(struct inv_cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].hash);
		pw_inventory_release(&c->v[i].inv);
	}
	free(c->v);
}

/* The stored inventory `hash` (NULL in *out when it is not stored). */
static pw_err inv_cached(pw_db *db, struct inv_cache *c, const char *hash, const pw_inventory **out,
			 pw_error *err)
{
	*out = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].hash, hash)) {
			*out = &c->v[i].inv;
			return PW_OK;
		}
	pw_stmt *st = NULL;
	bool row = false;
	pw_err rc = pw_sql(db, "SELECT json FROM inventories WHERE hash = ?", &st, err, "t", hash);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	cJSON *j = !rc && row ? cJSON_Parse(pw_stmt_text(st, 0) ? pw_stmt_text(st, 0) : "") : NULL;
	if (st)
		pw_stmt_reset(st);
	if (rc || !j) {
		cJSON_Delete(j);
		return rc;
	}
	struct cached *v = pw_grow(c->v, &c->cap, c->n, sizeof *v);
	if (v)
		c->v = v;
	if (!v || !(v[c->n].hash = strdup(hash))) {
		cJSON_Delete(j);
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	v[c->n].inv = (pw_inventory)PW_INVENTORY_INIT;
	rc = pw_inventory_from_json(&v[c->n].inv, j, err);
	cJSON_Delete(j);
	c->n++; /* counted either way: the release frees what it got */
	if (rc)
		return pw_error_prefix(err, "stored inventory %.64s: ", hash);
	*out = &v[c->n - 1].inv;
	return PW_OK;
}

/* Groups the open findings rows[0..n) of host `host_id` into `out`: its
 * stored inventory names the binaries and the version scheme (its OS
 * does without one). PW_ERR_NOTFOUND when there is no such host. */
static pw_err group_host(pw_db *db, int64_t host_id, const pw_finding_row *rows, size_t n,
			 struct inv_cache *cache, pw_upgrade_list *out, pw_error *err)
{
	pw_stmt *st = NULL;
	bool row = false, oom = false;
	char *f[4] = {NULL, NULL, NULL, NULL}; /* inventory hash, OS id, version, codename */
	pw_err rc = pw_sql(db,
			   "SELECT inventory_hash, os_id, os_version_id, os_codename FROM hosts"
			   " WHERE id = ?",
			   &st, err, "i", host_id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	for (int k = 0; k < 4 && row && !rc; k++)
		f[k] = pw_col_dup(st, k, &oom);
	if (st)
		pw_stmt_reset(st);
	if (!rc && !row)
		rc = pw_error_set(err, PW_ERR_NOTFOUND, "no host with id %" PRId64, host_id);
	if (!rc && oom)
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	const pw_inventory *inv = NULL;
	if (!rc && n && f[0])
		rc = inv_cached(db, cache, f[0], &inv, err);
	pw_scheme scheme = inv ? inv->scheme : PW_SCHEME_DEB;
	char eco[PW_ECOSYSTEM_MAX];
	pw_error ignored = PW_ERROR_INIT;
	if (!rc && n && !inv) {
		if (f[1] && !pw_ecosystem_from_os(f[1], f[2], f[3], eco, &ignored))
			scheme = pw_ecosystem_scheme(eco);
		else
			rc = pw_error_set(err, PW_ERR_INVALID,
					  "host %" PRId64 ": neither a stored inventory nor its OS "
					  "says how its versions compare",
					  host_id);
	}
	for (int k = 0; k < 4; k++)
		free(f[k]);
	if (!rc)
		rc = pw_upgrades_group(rows, n, scheme, inv, out, err);
	return rc;
}

/* Appends the open findings matching `f` to `l`, every page. */
static pw_err open_findings(pw_db *db, pw_finding_filter *f, pw_finding_list *l, pw_error *err)
{
	f->state = "open";
	pw_err rc = PW_OK;
	for (int64_t after = 0; !rc;) {
		size_t before = l->n;
		rc = pw_finding_page(db, f, after, PAGE, l, err);
		if (rc || l->n - before < PAGE)
			break;
		after = l->v[l->n - 1].id;
	}
	return rc;
}

pw_err pw_host_upgrades(pw_db *db, int64_t host_id, pw_upgrade_list *out, pw_error *err)
{
	pw_finding_filter f = PW_FINDING_FILTER_INIT;
	f.host_id = host_id;
	f.host.decom = PW_HOST_ANY;
	pw_finding_list l = PW_FINDING_LIST_INIT;
	struct inv_cache cache = {NULL, 0, 0};
	pw_err rc = open_findings(db, &f, &l, err);
	if (!rc)
		rc = group_host(db, host_id, l.v, l.n, &cache, out, err);
	inv_cache_release(&cache);
	pw_finding_list_release(&l);
	return rc;
}

/* ---- the fleet's upgrades ---------------------------------------------------- */

static void fleet_upgrade_release(pw_fleet_upgrade *u)
{
	free(u->package);
	free(u->target);
	free_strings(u->binaries, u->n_binaries);
	free_strings(u->advisories, u->n_advisories);
	free_strings(u->cves, u->n_cves);
	free(u->earliest_due);
}

void pw_fleet_upgrade_list_release(pw_fleet_upgrade_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		fleet_upgrade_release(&l->v[i]);
	free(l->v);
	*l = (pw_fleet_upgrade_list)PW_FLEET_UPGRADE_LIST_INIT;
}

static int cmp_finding_host(const void *a, const void *b)
{
	const pw_finding_row *x = a, *y = b;
	if (x->host_id != y->host_id)
		return x->host_id < y->host_id ? -1 : 1;
	return cmp_id(&x->id, &y->id);
}

/* (package, by_source, target) */
static int cmp_fleet_key(const pw_upgrade *x, const pw_upgrade *y)
{
	int c = strcmp(x->package, y->package);
	if (!c && x->by_source != y->by_source)
		c = x->by_source ? 1 : -1;
	return c ? c : strcmp(x->target, y->target);
}

static int cmp_fleet_key_q(const void *a, const void *b)
{
	int c = cmp_fleet_key(a, b);
	return c ? c : cmp_id(&((const pw_upgrade *)a)->host_id, &((const pw_upgrade *)b)->host_id);
}

static int cmp_fleet(const void *a, const void *b)
{
	const pw_fleet_upgrade *x = a, *y = b;
	if (x->highest_priority != y->highest_priority)
		return x->highest_priority < y->highest_priority ? -1 : 1;
	int c = strcmp(x->package, y->package);
	if (!c && x->by_source != y->by_source)
		c = x->by_source ? 1 : -1;
	return c ? c : strcmp(x->target, y->target);
}

/* One fleet upgrade from the hosts' upgrades g[0..n) of one key. */
static bool merge(const pw_upgrade *g, size_t n, pw_fleet_upgrade *u)
{
	struct strset bins = {NULL, 0, 0}, adv = {NULL, 0, 0}, cves = {NULL, 0, 0};
	bool ok = true;
	u->highest_priority = PW_HOST_PRIO__COUNT;
	const char *due = NULL;
	for (size_t i = 0; i < n; i++) {
		const pw_upgrade *h = &g[i];
		for (size_t k = 0; ok && k < h->n_binaries; k++)
			ok = strset_add(&bins, h->binaries[k].name, strlen(h->binaries[k].name));
		for (size_t k = 0; ok && k < h->n_advisories; k++)
			ok = strset_add(&adv, h->advisories[k], strlen(h->advisories[k]));
		for (size_t k = 0; ok && k < h->n_cves; k++)
			ok = strset_add(&cves, h->cves[k], strlen(h->cves[k]));
		if (h->highest_priority < u->highest_priority)
			u->highest_priority = h->highest_priority;
		if (h->earliest_due && (!due || strcmp(h->earliest_due, due) < 0))
			due = h->earliest_due;
		u->kev = u->kev || h->kev;
		u->findings += (int64_t)h->n_findings;
	}
	strset_finish(&bins);
	strset_finish(&adv);
	strset_finish(&cves);
	u->binaries = bins.v;
	u->n_binaries = bins.n;
	u->advisories = adv.v;
	u->n_advisories = adv.n;
	u->cves = cves.v;
	u->n_cves = cves.n;
	u->hosts = (int64_t)n;
	u->by_source = g[0].by_source;
	return ok && (u->package = strdup(g[0].package)) && (u->target = strdup(g[0].target)) &&
	       (!due || (u->earliest_due = strdup(due)));
}

pw_err pw_fleet_upgrades(pw_db *db, const pw_host_filter *hosts, pw_fleet_upgrade_list *out,
			 pw_error *err)
{
	pw_finding_filter f = PW_FINDING_FILTER_INIT;
	if (hosts)
		f.host = *hosts;
	pw_finding_list l = PW_FINDING_LIST_INIT;
	pw_upgrade_list all = PW_UPGRADE_LIST_INIT;
	struct inv_cache cache = {NULL, 0, 0};
	pw_err rc = open_findings(db, &f, &l, err);
	if (!rc && l.n)
		qsort(l.v, l.n, sizeof *l.v, cmp_finding_host);
	for (size_t i = 0; i < l.n && !rc;) { /* each host's rows */
		size_t j = i + 1;
		while (j < l.n && l.v[j].host_id == l.v[i].host_id)
			j++;
		rc = group_host(db, l.v[i].host_id, l.v + i, j - i, &cache, &all, err);
		i = j;
	}
	if (!rc && all.n)
		qsort(all.v, all.n, sizeof *all.v, cmp_fleet_key_q);
	size_t first = out->n;
	for (size_t i = 0; i < all.n && !rc;) {
		size_t j = i + 1;
		while (j < all.n && !cmp_fleet_key(&all.v[i], &all.v[j]))
			j++;
		pw_fleet_upgrade *v = pw_grow(out->v, &out->cap, out->n, sizeof *v);
		if (v) {
			out->v = v;
			v[out->n] = (pw_fleet_upgrade){0};
		}
		if (!v || !merge(all.v + i, j - i, &v[out->n++]))
			rc = pw_error_set(err, PW_ERR_NOMEM, "grouping upgrades: out of memory");
		i = j;
	}
	if (!rc && out->n > first)
		qsort(out->v + first, out->n - first, sizeof *out->v, cmp_fleet);
	pw_upgrade_list_release(&all);
	inv_cache_release(&cache);
	pw_finding_list_release(&l);
	return rc;
}

cJSON *pw_fleet_upgrade_to_json(const pw_fleet_upgrade *u)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && pw_json_add_str(o, "package", u->package) &&
		  cJSON_AddBoolToObject(o, "by_source", u->by_source) &&
		  pw_json_add_str(o, "target", u->target) &&
		  pw_json_add_int(o, "hosts", u->hosts) &&
		  pw_json_add_strings(o, "binaries", u->binaries, u->n_binaries) &&
		  add_fixes(o, u->advisories, u->n_advisories, u->cves, u->n_cves,
			    u->highest_priority, u->earliest_due, u->kev) &&
		  pw_json_add_int(o, "findings", u->findings);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
