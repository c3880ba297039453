/* The advisory index: an arena of records plus three open-addressing hash
 * tables (packages, advisories, CVEs). A host scan costs one hash lookup
 * per installed package and one walk over that package's fixes, never a
 * loop over all advisories. */
#include "patchwarden/matcher.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/arena.h"
#include "patchwarden/ecosystem.h"
#include "patchwarden/grow.h"
#include "patchwarden/hashtab.h"
#include "patchwarden/vercmp.h"

/* ---- records ---- */

struct cve_rec {
	pw_index_cve pub; /* first: a pw_index_cve pointer is a cve_rec pointer */
	bool referenced;  /* named by an advisory (only those get EPSS loaded) */
	bool epss_checked;
};

struct adv_rec {
	pw_index_advisory pub;
	const pw_index_cve **cves; /* pub.cves, writable */
	size_t cap_cves;
};

struct pkg_rec {
	pw_index_package pub;
	pw_index_fix *fixes; /* pub.fixes, writable; malloc'd, grows by doubling */
	size_t cap_fixes;
	/* The first fix added by the pw_advindex_add call numbered `serial`:
	 * duplicates within one record are looked for from there only. */
	unsigned long serial;
	size_t serial_first;
};

struct eco_rec {
	const char *name;
	size_t fixes;
	bool loaded_whole; /* every advisory of the snapshot is in */
	bool in_store;     /* the store has advisories for it (maybe none of ours) */
};

struct pw_advindex {
	pw_arena arena;
	pw_hashtab pkgs, advs, cves;
	struct cve_rec **cve_list; /* insertion order, for EPSS loading */
	size_t n_cve_list, cap_cve_list, epss_checked_upto;
	struct eco_rec *ecos;
	size_t n_ecos, cap_ecos;
	size_t fix_bytes; /* the packages' fix arrays */
	int64_t snapshot;
	bool kev_loaded;
	bool defer_epss;
	unsigned long serial; /* of pw_advindex_add calls */
	pw_advindex_stats stats;
	void (*warn)(void *ctx, const char *where, const char *message);
	void *warn_ctx;
};

pw_err pw_advindex_new(pw_advindex **out, pw_error *err)
{
	pw_advindex *idx = calloc(1, sizeof *idx);
	if (!idx)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory creating the advisory index");
	idx->snapshot = -1;
	*out = idx;
	return PW_OK;
}

void pw_advindex_free(pw_advindex *idx)
{
	if (!idx)
		return;
	for (size_t i = 0; i < idx->pkgs.cap; i++) {
		struct pkg_rec *p = idx->pkgs.slots[i].rec;
		if (p)
			free(p->fixes);
	}
	pw_arena_release(&idx->arena);
	pw_hashtab_release(&idx->pkgs);
	pw_hashtab_release(&idx->advs);
	pw_hashtab_release(&idx->cves);
	free(idx->cve_list);
	free(idx->ecos);
	free(idx);
}

void pw_advindex_set_warn(pw_advindex *idx,
			  void (*warn)(void *ctx, const char *where, const char *message),
			  void *ctx)
{
	idx->warn = warn;
	idx->warn_ctx = ctx;
}

static pw_err nomem(pw_error *err)
{
	return pw_error_set(err, PW_ERR_NOMEM, "out of memory building the advisory index");
}

/* ---- CVEs ---- */

static bool cve_eq(const void *rec, const void *key)
{
	return strcmp(((const struct cve_rec *)rec)->pub.id, key) == 0;
}

static struct cve_rec *cve_get(pw_advindex *idx, const char *id, pw_error *err)
{
	uint64_t h = pw_hash_str(PW_HASH_SEED, id);
	struct cve_rec *c = pw_hashtab_find(&idx->cves, h, cve_eq, id);
	if (c)
		return c;
	c = pw_arena_alloc(&idx->arena, sizeof *c);
	if (!c || !(c->pub.id = pw_arena_strdup(&idx->arena, id)))
		goto oom;
	c->pub.kev = false;
	c->pub.kev_added = c->pub.kev_due = NULL;
	c->pub.kev_ransomware = false;
	c->pub.epss = -1;
	c->pub.epss_percentile = -1;
	c->referenced = false;
	c->epss_checked = false;
	struct cve_rec **list = pw_grow(idx->cve_list, &idx->cap_cve_list, idx->n_cve_list,
					sizeof *list);
	if (!list)
		goto oom;
	idx->cve_list = list;
	if (pw_hashtab_insert(&idx->cves, h, c))
		goto oom;
	idx->cve_list[idx->n_cve_list++] = c;
	idx->stats.cves++;
	return c;
oom:
	nomem(err);
	return NULL;
}

pw_err pw_advindex_add_kev(pw_advindex *idx, const pw_kev_entry *e, pw_error *err)
{
	if (!e->cve || !*e->cve)
		return PW_OK;
	struct cve_rec *c = cve_get(idx, e->cve, err);
	if (!c)
		return PW_ERR_NOMEM;
	if (!c->pub.kev)
		idx->stats.kev++;
	c->pub.kev = true;
	c->pub.kev_ransomware = e->ransomware;
	if ((e->date_added && !(c->pub.kev_added = pw_arena_strdup(&idx->arena, e->date_added))) ||
	    (e->due_date && !(c->pub.kev_due = pw_arena_strdup(&idx->arena, e->due_date))))
		return nomem(err);
	return PW_OK;
}

pw_err pw_advindex_add_epss(pw_advindex *idx, const pw_epss_entry *e, pw_error *err)
{
	if (!e->cve || !*e->cve)
		return PW_OK;
	struct cve_rec *c = cve_get(idx, e->cve, err);
	if (!c)
		return PW_ERR_NOMEM;
	if (c->pub.epss < 0)
		idx->stats.epss++;
	c->pub.epss = e->score;
	c->pub.epss_percentile = e->percentile;
	c->epss_checked = true;
	return PW_OK;
}

const pw_index_cve *pw_advindex_cve(const pw_advindex *idx, const char *cve)
{
	struct cve_rec *c = pw_hashtab_find(&idx->cves, pw_hash_str(PW_HASH_SEED, cve), cve_eq,
					    cve);
	return c ? &c->pub : NULL;
}

/* ---- ecosystems and packages ---- */

static struct eco_rec *eco_find(const pw_advindex *idx, const char *name)
{
	for (size_t i = 0; i < idx->n_ecos; i++)
		if (strcmp(idx->ecos[i].name, name) == 0)
			return &idx->ecos[i];
	return NULL;
}

static struct eco_rec *eco_get(pw_advindex *idx, const char *name)
{
	struct eco_rec *e = eco_find(idx, name);
	if (e)
		return e;
	struct eco_rec *ecos = pw_grow(idx->ecos, &idx->cap_ecos, idx->n_ecos, sizeof *ecos);
	if (!ecos)
		return NULL;
	idx->ecos = ecos;
	e = &idx->ecos[idx->n_ecos];
	if (!(e->name = pw_arena_strdup(&idx->arena, name)))
		return NULL;
	e->fixes = 0;
	e->loaded_whole = false;
	e->in_store = false;
	idx->n_ecos++;
	return e;
}

bool pw_advindex_has_ecosystem(const pw_advindex *idx, const char *ecosystem)
{
	const struct eco_rec *e = eco_find(idx, ecosystem);
	return e && (e->fixes > 0 || e->in_store);
}

struct pkg_key {
	const char *eco, *name;
	bool by_source;
};

static uint64_t pkg_hash(const struct pkg_key *k)
{
	uint64_t h = pw_hash_str(PW_HASH_SEED, k->eco);
	h = pw_hash_str(h, k->name);
	return pw_hash_bytes(h, &k->by_source, 1);
}

static bool pkg_eq(const void *rec, const void *key)
{
	const pw_index_package *p = rec;
	const struct pkg_key *k = key;
	return p->by_source == k->by_source && strcmp(p->name, k->name) == 0 &&
	       strcmp(p->ecosystem, k->eco) == 0;
}

const pw_index_package *pw_advindex_lookup(const pw_advindex *idx, const char *ecosystem,
					   const char *name, bool by_source)
{
	struct pkg_key k = {ecosystem, name, by_source};
	return pw_hashtab_find(&idx->pkgs, pkg_hash(&k), pkg_eq, &k);
}

/* `eco` must be the interned name (eco_rec.name). */
static struct pkg_rec *pkg_get(pw_advindex *idx, const char *eco, const char *name, bool by_source)
{
	struct pkg_key k = {eco, name, by_source};
	uint64_t h = pkg_hash(&k);
	struct pkg_rec *p = pw_hashtab_find(&idx->pkgs, h, pkg_eq, &k);
	if (p)
		return p;
	p = pw_arena_alloc(&idx->arena, sizeof *p);
	if (!p || !(p->pub.name = pw_arena_strdup(&idx->arena, name)))
		return NULL;
	p->pub.ecosystem = eco;
	p->pub.by_source = by_source;
	p->pub.stream_depth = 0;
	p->pub.interleaved = false;
	p->pub.fixes = NULL;
	p->pub.n_fixes = 0;
	p->fixes = NULL;
	p->cap_fixes = 0;
	p->serial = 0;
	p->serial_first = 0;
	if (pw_hashtab_insert(&idx->pkgs, h, p))
		return NULL;
	idx->stats.packages++;
	return p;
}

/* ---- rpm module streams ---- */

bool pw_rpm_is_modular(const char *evr)
{
	return evr && (strstr(evr, ".module+") || strstr(evr, ".module_"));
}

/* Start of the version proper: past an "N:" epoch. */
static const char *skip_epoch(const char *v)
{
	const char *p = v;
	while (*p >= '0' && *p <= '9')
		p++;
	return (*p == ':' && p != v) ? p + 1 : v;
}

/* Length of the first `depth` dot-separated components of a version,
 * stopping at the release ("12.9-1.module..." depth 1 -> "12"). */
static size_t stream_prefix_len(const char *v, unsigned depth)
{
	size_t n = 0;
	for (unsigned comps = 0; v[n] && v[n] != '-'; n++)
		if (v[n] == '.' && ++comps == depth)
			break;
	return n;
}

bool pw_rpm_same_stream(const char *a, const char *b, unsigned depth)
{
	if (!depth)
		depth = 1;
	a = skip_epoch(a);
	b = skip_epoch(b);
	size_t na = stream_prefix_len(a, depth), nb = stream_prefix_len(b, depth);
	return na == nb && strncmp(a, b, na) == 0;
}

/* Advisory summaries of module updates name the stream: "Important:
 * postgresql:12 security update", "mariadb:10.3 and mariadb-devel:10.3
 * ...". When a stream made of digits and dots is a leading part of the
 * fixed version ("12" of "12.9-1.module_el8..."), that package's streams
 * are told apart by that many version components. Returns 0 when the
 * summary says nothing about `fixed`. */
static unsigned stream_depth_from_summary(const char *summary, const char *fixed)
{
	if (!summary)
		return 0;
	const char *ver = skip_epoch(fixed);
	unsigned best = 0;
	for (const char *p = strchr(summary, ':'); p; p = strchr(p + 1, ':')) {
		if (p == summary || p[-1] == ' ')
			continue; /* "Important: ..." is no module name */
		const char *s = p + 1;
		size_t n = 0;
		unsigned comps = 1;
		while ((s[n] >= '0' && s[n] <= '9') || (s[n] == '.' && n > 0)) {
			if (s[n] == '.')
				comps++;
			n++;
		}
		if (n == 0 || s[n - 1] == '.' || (s[n] && s[n] != ' ' && s[n] != ','))
			continue;
		if (strncmp(ver, s, n) == 0 && (ver[n] == '.' || ver[n] == '-'))
			if (!best || comps < best)
				best = comps;
	}
	return best;
}

/* ---- advisories ---- */

struct adv_key {
	const char *source, *id;
};

static uint64_t adv_hash(const struct adv_key *k)
{
	return pw_hash_str(pw_hash_str(PW_HASH_SEED, k->source ? k->source : ""), k->id);
}

static bool adv_eq(const void *rec, const void *key)
{
	const pw_index_advisory *a = rec;
	const struct adv_key *k = key;
	return strcmp(a->id, k->id) == 0 &&
	       strcmp(a->source ? a->source : "", k->source ? k->source : "") == 0;
}

static void warnf(pw_advindex *idx, const char *adv_id, const pw_affected *af, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void warnf(pw_advindex *idx, const char *adv_id, const pw_affected *af, const char *fmt, ...)
{
	idx->stats.skipped++;
	if (!idx->warn)
		return;
	char where[256], msg[PW_ERROR_MSG_MAX];
	snprintf(where, sizeof where, "%s: %s (%s)", adv_id, af->package ? af->package : "?",
		 af->ecosystem ? af->ecosystem : "?");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	idx->warn(idx->warn_ctx, where, msg);
}

static pw_err adv_add_cves(pw_advindex *idx, struct adv_rec *a, const pw_advisory *in,
			   pw_error *err)
{
	for (size_t i = 0; i < in->n_cves; i++) {
		const char *id = in->cves[i];
		if (!id || !*id)
			continue;
		struct cve_rec *c = cve_get(idx, id, err);
		if (!c)
			return PW_ERR_NOMEM;
		bool dup = false;
		for (size_t j = 0; j < a->pub.n_cves && !dup; j++)
			dup = a->pub.cves[j] == &c->pub;
		if (dup)
			continue;
		if (a->pub.n_cves == a->cap_cves) {
			/* Grows in the arena; the old array is abandoned, which
			 * only happens on merges and for the first few CVEs. */
			size_t cap = a->cap_cves ? a->cap_cves * 2 : in->n_cves;
			const pw_index_cve **cves = pw_arena_alloc(&idx->arena, cap * sizeof *cves);
			if (!cves)
				return nomem(err);
			if (a->pub.n_cves)
				memcpy(cves, a->cves, a->pub.n_cves * sizeof *cves);
			a->cves = cves;
			a->pub.cves = cves;
			a->cap_cves = cap;
		}
		a->cves[a->pub.n_cves++] = &c->pub;
		c->referenced = true;
	}
	return PW_OK;
}

static struct adv_rec *adv_new(pw_advindex *idx, const pw_advisory *in, uint64_t h)
{
	pw_arena *ar = &idx->arena;
	struct adv_rec *a = pw_arena_alloc(ar, sizeof *a);
	if (!a)
		return NULL;
	memset(a, 0, sizeof *a);
	if (!(a->pub.id = pw_arena_strdup(ar, in->id)) ||
	    (in->source && !(a->pub.source = pw_arena_strdup(ar, in->source))) ||
	    (in->published && !(a->pub.published = pw_arena_strdup(ar, in->published))) ||
	    (in->summary && !(a->pub.summary = pw_arena_strdup(ar, in->summary))) ||
	    (in->cvss_vector && !(a->pub.cvss_vector = pw_arena_strdup(ar, in->cvss_vector))))
		return NULL;
	a->pub.severity = in->severity;
	a->pub.attack_vector = in->attack_vector;
	if (pw_hashtab_insert(&idx->advs, h, a))
		return NULL;
	idx->stats.advisories++;
	return a;
}

static bool same_fix(const pw_index_fix *f, const pw_index_advisory *adv, pw_fix_state state,
		     const char *fixed)
{
	return f->adv == adv && f->state == state &&
	       ((!f->fixed && !fixed) || (f->fixed && fixed && strcmp(f->fixed, fixed) == 0));
}

/* Whether the statement is usable; warns and returns false when not. */
static bool affected_ok(pw_advindex *idx, const char *adv_id, const pw_affected *af)
{
	if (!af->ecosystem || !*af->ecosystem || !af->package || !*af->package) {
		warnf(idx, adv_id, af, "affected entry without ecosystem or package name; skipped");
		return false;
	}
	if ((unsigned)af->state > PW_FIX_IGNORED) {
		warnf(idx, adv_id, af, "unknown fix state %d; skipped", (int)af->state);
		return false;
	}
	if (af->state != PW_FIX_FIXED)
		return true;
	if (!af->fixed || !*af->fixed) {
		warnf(idx, adv_id, af, "state fixed without a fixed version; skipped");
		return false;
	}
	pw_error e = PW_ERROR_INIT;
	pw_scheme s = pw_ecosystem_scheme(af->ecosystem);
	if (pw_version_check(s, af->fixed, &e)) {
		warnf(idx, adv_id, af, "fixed version is not a valid %s version (%s); skipped",
		      pw_scheme_name(s), pw_error_text(&e));
		return false;
	}
	return true;
}

pw_err pw_advindex_add(pw_advindex *idx, const pw_advisory *in, pw_error *err)
{
	if (!in->id || !*in->id) {
		idx->stats.skipped++;
		if (idx->warn)
			idx->warn(idx->warn_ctx, in->source ? in->source : "advisory",
				  "advisory without an id; skipped");
		return PW_OK;
	}
	struct adv_key k = {in->source, in->id};
	uint64_t h = adv_hash(&k);
	struct adv_rec *a = pw_hashtab_find(&idx->advs, h, adv_eq, &k);
	bool merging = a != NULL;
	if (!a && !(a = adv_new(idx, in, h)))
		return nomem(err);
	pw_err rc = adv_add_cves(idx, a, in, err);
	if (rc)
		return rc;
	idx->serial++;
	for (size_t i = 0; i < in->n_affected; i++) {
		const pw_affected *af = &in->affected[i];
		if (!affected_ok(idx, in->id, af))
			continue;
		struct eco_rec *eco = eco_get(idx, af->ecosystem);
		if (!eco)
			return nomem(err);
		struct pkg_rec *p = pkg_get(idx, eco->name, af->package, af->by_source);
		if (!p)
			return nomem(err);
		const char *fixed = af->state == PW_FIX_FIXED ? af->fixed : NULL;
		bool dup = false, seen = false;
		size_t from = merging                    ? 0
			      : p->serial == idx->serial ? p->serial_first
							 : p->pub.n_fixes;
		for (size_t j = from; j < p->pub.n_fixes && !dup; j++) {
			dup = same_fix(&p->fixes[j], &a->pub, af->state, fixed);
			seen = seen || p->fixes[j].adv == &a->pub;
		}
		if (dup)
			continue;
		if (seen && p->fixes[p->pub.n_fixes - 1].adv != &a->pub)
			p->pub.interleaved = true;
		if (p->pub.n_fixes == p->cap_fixes) {
			size_t cap = p->cap_fixes ? p->cap_fixes * 2 : 4;
			pw_index_fix *arr = realloc(p->fixes, cap * sizeof *arr);
			if (!arr)
				return nomem(err);
			idx->fix_bytes += (cap - p->cap_fixes) * sizeof *arr;
			p->fixes = arr;
			p->pub.fixes = arr;
			p->cap_fixes = cap;
		}
		pw_index_fix *f = &p->fixes[p->pub.n_fixes];
		f->adv = &a->pub;
		f->state = af->state;
		f->fixed = NULL;
		f->note = NULL;
		if ((fixed && !(f->fixed = pw_arena_strdup(&idx->arena, fixed))) ||
		    (af->note && !(f->note = pw_arena_strdup(&idx->arena, af->note))))
			return nomem(err);
		pw_scheme scheme = pw_ecosystem_scheme(af->ecosystem);
		f->modular = fixed && scheme == PW_SCHEME_RPM && pw_rpm_is_modular(fixed);
		memset(&f->deb, 0, sizeof f->deb);
		/* Checked by affected_ok(): parsing cannot fail here. */
		if (fixed && scheme == PW_SCHEME_DEB)
			pw_deb_version_parse(f->fixed, &f->deb, NULL);
		if (f->modular) {
			unsigned d = stream_depth_from_summary(in->summary, fixed);
			if (d && (!p->pub.stream_depth || d < p->pub.stream_depth))
				p->pub.stream_depth = d;
		}
		if (p->serial != idx->serial) {
			p->serial = idx->serial;
			p->serial_first = p->pub.n_fixes;
		}
		p->pub.n_fixes++;
		eco->fixes++;
		idx->stats.fixes++;
	}
	return PW_OK;
}

/* ---- feeding: parsers, store ---- */

static pw_err sink_advisory(void *ctx, const pw_advisory *adv, pw_error *err)
{
	return pw_advindex_add(ctx, adv, err);
}

static pw_err sink_kev(void *ctx, const pw_kev_entry *e, pw_error *err)
{
	return pw_advindex_add_kev(ctx, e, err);
}

static pw_err sink_epss(void *ctx, const pw_epss_entry *e, pw_error *err)
{
	return pw_advindex_add_epss(ctx, e, err);
}

static void sink_warn(void *ctx, const char *where, const char *message)
{
	pw_advindex *idx = ctx;
	idx->stats.warnings++;
	if (idx->warn)
		idx->warn(idx->warn_ctx, where, message);
}

pw_feed_sink pw_advindex_sink(pw_advindex *idx)
{
	pw_feed_sink s = {idx, sink_advisory, sink_kev, sink_epss, sink_warn};
	return s;
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct binary and source names of an inventory; caller frees. */
static pw_err inventory_names(const pw_inventory *inv, const char ***out, size_t *n, pw_error *err)
{
	const char **names = malloc((2 * inv->n_pkgs + 1) * sizeof *names);
	if (!names)
		return nomem(err);
	size_t k = 0;
	for (size_t i = 0; i < inv->n_pkgs; i++) {
		const pw_package *p = &inv->pkgs[i];
		if (p->name && *p->name)
			names[k++] = p->name;
		if (p->source && *p->source)
			names[k++] = p->source;
	}
	qsort(names, k, sizeof *names, cmp_str_ptr);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (u == 0 || strcmp(names[u - 1], names[i]) != 0)
			names[u++] = names[i];
	*out = names;
	*n = u;
	return PW_OK;
}

static pw_err load_advisory(void *ctx, const pw_advisory *adv, pw_error *err)
{
	return pw_advindex_add(ctx, adv, err);
}

static pw_err load_kev(void *ctx, const pw_kev_entry *e, pw_error *err)
{
	return pw_advindex_add_kev(ctx, e, err);
}

static pw_err load_epss(pw_advindex *idx, pw_feedstore *store, struct cve_rec *c, pw_error *err)
{
	pw_epss_entry e;
	bool found = false;
	pw_err rc = pw_feedstore_epss(store, idx->snapshot, c->pub.id, &e, &found, err);
	if (!rc && found)
		rc = pw_advindex_add_epss(idx, &e, err);
	c->epss_checked = !rc;
	return rc;
}

/* None of the host's packages had advisories: is that because the store
 * has none for the release at all? A scan must not look clean then. */
static pw_err probe_store(pw_feedstore *store, int64_t snapshot, struct eco_rec *eco, pw_error *err)
{
	pw_ecosystem_count *list = NULL;
	size_t n = 0;
	pw_err rc = pw_feedstore_ecosystems(store, snapshot, &list, &n, err);
	for (size_t i = 0; !rc && i < n; i++)
		if (strcmp(list[i].ecosystem, eco->name) == 0 && list[i].advisories > 0)
			eco->in_store = true;
	pw_feedstore_free_counts(list, n);
	return rc;
}

pw_err pw_advindex_load(pw_advindex *idx, pw_feedstore *store, int64_t snapshot,
			const char *ecosystem, const pw_inventory *only_for, pw_error *err)
{
	if (idx->snapshot >= 0 && idx->snapshot != snapshot)
		return pw_error_set(
			err, PW_ERR_INVALID,
			"the advisory index holds snapshot %lld and cannot take snapshot "
			"%lld too; use one index per snapshot",
			(long long)idx->snapshot, (long long)snapshot);
	idx->snapshot = snapshot;
	struct eco_rec *eco = eco_get(idx, ecosystem);
	if (!eco)
		return nomem(err);
	pw_err rc = PW_OK;
	if (!eco->loaded_whole) {
		if (only_for) {
			const char **names = NULL;
			size_t n = 0;
			if ((rc = inventory_names(only_for, &names, &n, err)))
				return rc;
			if (n)
				rc = pw_feedstore_each_advisory(store, snapshot, ecosystem, names,
								n, load_advisory, idx, err);
			free(names);
		} else {
			rc = pw_feedstore_each_advisory(store, snapshot, ecosystem, NULL, 0,
							load_advisory, idx, err);
			/* Looked up again: eco_get may have moved the array. */
			if (!rc)
				eco_find(idx, ecosystem)->loaded_whole = true;
		}
		if (rc)
			return rc;
	}
	eco = eco_find(idx, ecosystem);
	if (!eco->fixes && !eco->in_store && !eco->loaded_whole &&
	    (rc = probe_store(store, snapshot, eco, err)))
		return rc;
	if (!idx->kev_loaded) {
		if ((rc = pw_feedstore_each_kev(store, snapshot, load_kev, idx, err)))
			return rc;
		idx->kev_loaded = true;
	}
	for (size_t i = 0; !idx->defer_epss && i < idx->n_cve_list; i++) {
		struct cve_rec *c = idx->cve_list[i];
		if (c->referenced && !c->epss_checked && (rc = load_epss(idx, store, c, err)))
			return rc;
	}
	return PW_OK;
}

void pw_advindex_defer_epss(pw_advindex *idx, bool defer)
{
	idx->defer_epss = defer;
}

pw_err pw_advindex_load_epss(pw_advindex *idx, pw_feedstore *store, const char *const *cves,
			     size_t n, pw_error *err)
{
	if (idx->snapshot < 0)
		return pw_error_set(
			err, PW_ERR_INVALID,
			"the advisory index was not loaded from a store; load it first");
	for (size_t i = 0; i < n; i++) {
		struct cve_rec *c = pw_hashtab_find(&idx->cves, pw_hash_str(PW_HASH_SEED, cves[i]),
						    cve_eq, cves[i]);
		pw_err rc;
		if (c && !c->epss_checked && (rc = load_epss(idx, store, c, err)))
			return rc;
	}
	return PW_OK;
}

int64_t pw_advindex_snapshot(const pw_advindex *idx)
{
	return idx->snapshot;
}

void pw_advindex_get_stats(const pw_advindex *idx, pw_advindex_stats *out)
{
	*out = idx->stats;
	out->arena_bytes = idx->arena.bytes + idx->fix_bytes +
			   (idx->pkgs.cap + idx->advs.cap + idx->cves.cap) *
				   sizeof(pw_hashtab_slot);
}
