/* One scan: group the installed packages by the index key they match
 * (source or binary name), walk each key's fixes once, reduce per
 * advisory, then rank. See scan.h for the rules. */
#include "patchwarden/scan.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/arena.h"
#include "patchwarden/grow.h"
#include "patchwarden/hashtab.h"
#include "patchwarden/jsonout.h"

/* What a result owns besides its arrays' elements. */
struct scan_mem {
	pw_arena arena;
	pw_finding *findings;
	pw_unfixed *unfixed;
	pw_inactive *inactive;
	const char **warnings;
};

/* A growable array of fixed-size elements, for the scratch lists. */
struct vec {
	void *data;
	size_t n, cap, size;
};

static void *vec_push(struct vec *v)
{
	void *d = pw_grow(v->data, &v->cap, v->n, v->size);
	if (!d)
		return NULL;
	v->data = d;
	void *p = (char *)v->data + v->n * v->size;
	v->n++;
	memset(p, 0, v->size);
	return p;
}

/* An installed binary package under one index key. */
struct member {
	const pw_index_package *key;
	const pw_package *bin;
	const char *ver; /* the version compared: source version for source keys */
	size_t inv_index;
	bool kernel;  /* one of several side-by-side kernel packages */
	bool running; /* belongs to the running kernel */
	bool modular;
	pw_deb_version dv; /* deb: `ver` parsed once */
};

/* One (advisory, member) verdict of one fix statement. */
struct pair {
	const pw_index_advisory *adv;
	const pw_index_fix *fix;
	size_t member; /* index into the group */
	bool hit;      /* member older than fix->fixed (or unfixed) */
};

struct scan {
	const pw_advindex *idx;
	const pw_inventory *inv;
	const pw_scan_host *host;
	const pw_policy *policy;
	pw_scheme scheme;
	const char *eco;
	struct scan_mem *mem;
	struct vec members, pairs, findings, unfixed, inactive, warnings, reboot_advs;
	pw_error *err;
};

static pw_err nomem(struct scan *s)
{
	return pw_error_set(s->err, PW_ERR_NOMEM, "out of memory scanning the inventory");
}

/* qsort, also for empty arrays that were never allocated. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static int vcmp(pw_scheme scheme, const char *a, const char *b)
{
	return pw_scheme_vercmp(scheme, a, b);
}

static pw_err warn(struct scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static pw_err warn(struct scan *s, const char *fmt, ...)
{
	char msg[PW_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	const char **slot = vec_push(&s->warnings);
	if (!slot || !(*slot = pw_arena_strdup(&s->mem->arena, msg)))
		return nomem(s);
	return PW_OK;
}

/* ---- kernels ---- */

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Equal, or one is the other followed by "-...": "4.15.0-101" (headers)
 * and "4.19.0-5-amd64-unsigned" (image) both belong to their kernels. */
static bool release_matches(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	size_t n = na < nb ? na : nb;
	if (strncmp(a, b, n) != 0)
		return false;
	return na == nb || (na > nb ? a[n] : b[n]) == '-';
}

/* dpkg: linux-{image,image-unsigned,modules,modules-extra,headers}-<release>. */
static bool deb_kernel(const pw_package *p, const char *running, bool *is_running)
{
	static const char *const prefixes[] = {"linux-image-unsigned-", "linux-image-",
					       "linux-modules-extra-", "linux-modules-",
					       "linux-headers-"};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		if (!has_prefix(p->name, prefixes[i]))
			continue;
		const char *rel = p->name + strlen(prefixes[i]);
		if (*rel < '0' || *rel > '9')
			return false; /* a meta package such as linux-image-amd64 */
		*is_running = running && release_matches(rel, running);
		return true;
	}
	return false;
}

/* rpm: the installonly kernel packages, whose version-release.arch is
 * the uname -r of the kernel they belong to. */
static bool rpm_kernel(const pw_package *p, const char *running, bool *is_running)
{
	static const char *const not_kernels[] = {"kernel-headers",
						  "kernel-tools",
						  "kernel-tools-libs",
						  "kernel-tools-libs-devel",
						  "kernel-abi-stablelists",
						  "kernel-abi-whitelists",
						  "kernel-doc",
						  "kernel-firmware",
						  "kernel-srpm-macros",
						  "kernel-rpm-macros",
						  "kernel-cross-headers"};
	if (strcmp(p->name, "kernel") != 0 && !has_prefix(p->name, "kernel-"))
		return false;
	for (size_t i = 0; i < sizeof not_kernels / sizeof not_kernels[0]; i++)
		if (strcmp(p->name, not_kernels[i]) == 0)
			return false;
	*is_running = false;
	if (running && p->version) {
		const char *vr = strchr(p->version, ':') ? strchr(p->version, ':') + 1 : p->version;
		size_t n = strlen(vr);
		*is_running = strncmp(running, vr, n) == 0 &&
			      (running[n] == '.' || running[n] == '+' || running[n] == '\0');
	}
	return true;
}

/* apk: linux-<flavour> 5.10.43-r0 runs as 5.10.43-0-<flavour>. */
static bool apk_kernel(const pw_package *p, const char *running, bool *is_running)
{
	static const char *const flavours[] = {"lts",          "virt",  "edge",      "rpi",
					       "rpi2",         "rpi4",  "vanilla",   "hardened",
					       "virthardened", "grsec", "virtgrsec", "stable"};
	if (!has_prefix(p->name, "linux-"))
		return false;
	const char *flavour = p->name + 6;
	bool known = false;
	for (size_t i = 0; i < sizeof flavours / sizeof flavours[0] && !known; i++)
		known = strcmp(flavour, flavours[i]) == 0;
	if (!known)
		return false;
	*is_running = false;
	const char *r = p->version ? strstr(p->version, "-r") : NULL;
	if (running && r) {
		char rel[256];
		int n = snprintf(rel, sizeof rel, "%.*s-%s-%s", (int)(r - p->version), p->version,
				 r + 2, flavour);
		*is_running = n > 0 && (size_t)n < sizeof rel && strcmp(rel, running) == 0;
	}
	return true;
}

static bool is_kernel(pw_scheme scheme, const pw_package *p, const char *running, bool *is_running)
{
	*is_running = false;
	switch (scheme) {
	case PW_SCHEME_DEB:
		return deb_kernel(p, running, is_running);
	case PW_SCHEME_RPM:
		return rpm_kernel(p, running, is_running);
	case PW_SCHEME_APK:
		return apk_kernel(p, running, is_running);
	}
	return false;
}

/* ---- grouping installed packages by index key ---- */

static pw_err add_member(struct scan *s, const pw_index_package *key, size_t i, const char *ver,
			 const pw_deb_version *dv, bool kernel, bool running)
{
	struct member *m = vec_push(&s->members);
	if (!m)
		return nomem(s);
	m->key = key;
	m->bin = &s->inv->pkgs[i];
	m->ver = ver;
	m->inv_index = i;
	m->kernel = kernel;
	m->running = running;
	m->modular = s->scheme == PW_SCHEME_RPM && pw_rpm_is_modular(ver);
	if (dv)
		m->dv = *dv;
	return PW_OK;
}

/* Checks (and for deb parses, once) a version the scan will compare:
 * 1 good, 0 skipped with a warning, -1 out of memory. */
static int version_ok(struct scan *s, const pw_package *p, const char *v, pw_deb_version *dv)
{
	pw_error ve = PW_ERROR_INIT;
	pw_err rc = s->scheme == PW_SCHEME_DEB ? pw_deb_version_parse(v, dv, &ve)
					       : pw_version_check(s->scheme, v, &ve);
	if (!rc)
		return 1;
	return warn(s, "package %s skipped: %s", p->name, pw_error_text(&ve)) ? -1 : 0;
}

static pw_err collect_members(struct scan *s)
{
	const pw_inventory *inv = s->inv;
	for (size_t i = 0; i < inv->n_pkgs; i++) {
		const pw_package *p = &inv->pkgs[i];
		if (!p->name || !*p->name || !p->version)
			continue;
		const char *src = p->source && *p->source ? p->source : p->name;
		const char *srcver = p->source_version && *p->source_version ? p->source_version
									     : p->version;
		const pw_index_package *by_src = pw_advindex_lookup(s->idx, s->eco, src, true);
		const pw_index_package *by_bin = pw_advindex_lookup(s->idx, s->eco, p->name, false);
		if (!by_src && !by_bin)
			continue;
		/* Only versions that will be compared are checked. */
		pw_deb_version dv_bin, dv_src;
		int ok = by_bin ? version_ok(s, p, p->version, &dv_bin) : 1;
		if (ok == 1 && by_src)
			ok = version_ok(s, p, srcver, &dv_src);
		if (ok < 0)
			return PW_ERR_NOMEM;
		if (!ok)
			continue;
		const pw_deb_version *dvb = s->scheme == PW_SCHEME_DEB ? &dv_bin : NULL;
		const pw_deb_version *dvs = s->scheme == PW_SCHEME_DEB ? &dv_src : NULL;
		bool running;
		bool kernel = is_kernel(s->scheme, p, inv->kernel_running, &running);
		pw_err rc = PW_OK;
		if (by_src)
			rc = add_member(s, by_src, i, srcver, dvs, kernel, running);
		if (!rc && by_bin)
			rc = add_member(s, by_bin, i, p->version, dvb, kernel, running);
		if (rc)
			return rc;
	}
	return PW_OK;
}

static int cmp_member(const void *pa, const void *pb)
{
	const struct member *a = pa, *b = pb;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	int c = strcmp(a->ver, b->ver);
	if (c)
		return c;
	return a->inv_index < b->inv_index ? -1 : a->inv_index > b->inv_index;
}

static int cmp_pair(const void *pa, const void *pb)
{
	const struct pair *a = pa, *b = pb;
	if (a->adv != b->adv)
		return a->adv < b->adv ? -1 : 1;
	return a->member < b->member ? -1 : a->member > b->member;
}

/* ---- one key: fixes x members -> pairs -> findings ---- */

static bool applicable(const struct scan *s, const pw_index_package *key, const pw_index_fix *f,
		       const struct member *m)
{
	if (s->scheme != PW_SCHEME_RPM)
		return true;
	if (f->modular != m->modular)
		return false;
	return !f->modular || pw_rpm_same_stream(f->fixed, m->ver, key->stream_depth);
}

/* installed <=> fixed, with the versions parsed once for deb. */
static int cmp_fix(const struct scan *s, const struct member *m, const pw_index_fix *f)
{
	if (s->scheme == PW_SCHEME_DEB)
		return pw_deb_version_cmp(&m->dv, &f->deb);
	return vcmp(s->scheme, m->ver, f->fixed);
}

static int cmp_members(const struct scan *s, const struct member *a, const struct member *b)
{
	if (s->scheme == PW_SCHEME_DEB)
		return pw_deb_version_cmp(&a->dv, &b->dv);
	return vcmp(s->scheme, a->ver, b->ver);
}

static int cmp_fixes(const struct scan *s, const pw_index_fix *a, const pw_index_fix *b)
{
	if (s->scheme == PW_SCHEME_DEB)
		return pw_deb_version_cmp(&a->deb, &b->deb);
	return vcmp(s->scheme, a->fixed, b->fixed);
}

static pw_err push_pair(struct scan *s, const pw_index_fix *f, size_t member, bool hit)
{
	struct pair *p = vec_push(&s->pairs);
	if (!p)
		return nomem(s);
	p->adv = f->adv;
	p->fix = f;
	p->member = member;
	p->hit = hit;
	return PW_OK;
}

/* Pairs ordered by (advisory, member): the fixes of one advisory are
 * adjacent in the key's list unless the index says otherwise, so walking
 * each advisory's run member by member needs no sort. Members are sorted
 * by version: one with the same version as the previous one copies its
 * verdicts. */
static pw_err make_pairs(struct scan *s, const struct member *g, size_t n)
{
	const pw_index_package *key = g[0].key;
	const pw_index_fix *fx = key->fixes;
	s->pairs.n = 0;
	for (size_t run = 0, end; run < key->n_fixes; run = end) {
		for (end = run + 1; end < key->n_fixes && fx[end].adv == fx[run].adv;)
			end++;
		size_t prev_start = 0, prev_end = 0;
		for (size_t j = 0; j < n; j++) {
			size_t start = s->pairs.n;
			if (j > 0 &&
			    (g[j].ver == g[j - 1].ver || strcmp(g[j].ver, g[j - 1].ver) == 0)) {
				for (size_t k = prev_start; k < prev_end; k++) {
					const struct pair *q = (const struct pair *)s->pairs.data +
							       k;
					if (push_pair(s, q->fix, j, q->hit))
						return PW_ERR_NOMEM;
				}
			} else {
				for (size_t k = run; k < end; k++) {
					const pw_index_fix *f = &fx[k];
					bool fixed = f->state == PW_FIX_FIXED;
					if ((!fixed && f->state != PW_FIX_UNFIXED) ||
					    (fixed && !applicable(s, key, f, &g[j])))
						continue;
					if (push_pair(s, f, j, !fixed || cmp_fix(s, &g[j], f) < 0))
						return PW_ERR_NOMEM;
				}
			}
			prev_start = start;
			prev_end = s->pairs.n;
		}
	}
	if (key->interleaved)
		sort(s->pairs.data, s->pairs.n, sizeof(struct pair), cmp_pair);
	return PW_OK;
}

static size_t common_prefix(const char *a, const char *b)
{
	size_t n = 0;
	while (a[n] && a[n] == b[n])
		n++;
	return n;
}

/* How near a module build is to the installed one: the longer common
 * start wins, then the longer common module platform part
 * ("module_el8.6.0+..."), so an installed el8.6.0 build is shown the
 * el8.6.0 build of a fix. */
static size_t closeness(const char *fixed, const char *installed)
{
	const char *mf = strstr(fixed, ".module"), *mi = strstr(installed, ".module");
	size_t platform = mf && mi ? common_prefix(mf, mi) : 0;
	return common_prefix(fixed, installed) * 4096 + (platform < 4096 ? platform : 4095);
}

static const pw_package *const *bins_array(struct scan *s, const struct member *g,
					   const size_t *which, size_t n)
{
	const pw_package **bins = pw_arena_alloc(&s->mem->arena, (n ? n : 1) * sizeof *bins);
	if (!bins)
		return NULL;
	for (size_t i = 0; i < n; i++)
		bins[i] = g[which[i]].bin;
	return bins;
}

/* The verdict for one advisory over the members of one key: either a
 * finding (some member lacks a fix) or an unfixed statement or a reboot
 * (only the running, older kernel lacks the fix), or nothing. */
struct verdict {
	size_t *members; /* indexes into the group, in scratch memory */
	size_t n_members;
	bool unfixed; /* members are affected, no fix exists */
	bool reboot;
	const char *fixed;
	const char *installed;
	const char *note;
};

/* The fix to show for a member: among module builds the one closest to
 * the installed build (same platform release); otherwise the highest
 * fixed version (several OSV ranges are a union). */
static const pw_index_fix *better_fix(const struct scan *s, const pw_index_fix *best,
				      const pw_index_fix *f, const char *installed)
{
	if (!best)
		return f;
	if (f->modular)
		return closeness(f->fixed, installed) > closeness(best->fixed, installed) ? f
											  : best;
	return cmp_fixes(s, f, best) > 0 ? f : best;
}

static void judge(const struct scan *s, const struct member *g, const char *newest_kernel,
		  const struct pair *run, size_t n_run, size_t *fixed_m, size_t *unfixed_m,
		  struct verdict *v)
{
	memset(v, 0, sizeof *v);
	size_t n_fixed = 0, n_unfixed = 0;
	const struct member *fixed_min = NULL, *unfixed_min = NULL;
	const char *fixed_ver = NULL, *note = NULL;
	bool running_hit = false;
	for (size_t i = 0; i < n_run;) {
		size_t j = run[i].member;
		bool hit = false, covered = false, unfixed = false;
		const pw_index_fix *best = NULL;
		for (; i < n_run && run[i].member == j; i++) {
			const pw_index_fix *f = run[i].fix;
			if (f->state == PW_FIX_UNFIXED) {
				unfixed = true;
				note = f->note ? f->note : note;
			} else if (run[i].hit) {
				hit = true;
				best = better_fix(s, best, f, g[j].ver);
			} else {
				covered = true;
			}
		}
		/* A module build that reaches any build of the fix has it. */
		bool lacks_fix = g[j].modular ? hit && !covered : hit;
		bool lacks_any = !hit && !covered && unfixed;
		if (!lacks_fix && !lacks_any)
			continue;
		if (g[j].kernel && newest_kernel && strcmp(g[j].ver, newest_kernel) != 0) {
			/* An older kernel beside the newest: only matters
			 * when it is the one running. */
			running_hit = running_hit || (lacks_fix && g[j].running);
			continue;
		}
		if (lacks_fix) {
			fixed_m[n_fixed++] = j;
			if (!fixed_min || cmp_members(s, &g[j], fixed_min) < 0) {
				fixed_min = &g[j];
				fixed_ver = best->fixed;
			}
		} else {
			unfixed_m[n_unfixed++] = j;
			if (!unfixed_min || cmp_members(s, &g[j], unfixed_min) < 0)
				unfixed_min = &g[j];
		}
	}
	if (n_fixed) {
		v->members = fixed_m;
		v->n_members = n_fixed;
		v->installed = fixed_min->ver;
		v->fixed = fixed_ver;
	} else if (n_unfixed) {
		v->members = unfixed_m;
		v->n_members = n_unfixed;
		v->installed = unfixed_min->ver;
		v->unfixed = true;
		v->note = note;
	} else {
		v->reboot = running_hit;
	}
}

static pw_err process_key(struct scan *s, const struct member *g, size_t n)
{
	const pw_index_package *key = g[0].key;
	const struct member *newest = NULL;
	for (size_t j = 0; j < n; j++)
		if (g[j].kernel && (!newest || cmp_members(s, &g[j], newest) > 0))
			newest = &g[j];
	const char *newest_kernel = newest ? newest->ver : NULL;
	pw_err rc = make_pairs(s, g, n);
	if (rc)
		return rc;
	size_t *scratch = malloc(2 * n * sizeof *scratch);
	if (!scratch)
		return nomem(s);
	s->reboot_advs.n = 0;
	const struct pair *pairs = s->pairs.data;
	const char *running_ver = NULL;
	for (size_t j = 0; j < n; j++)
		if (g[j].running)
			running_ver = g[j].ver;
	for (size_t i = 0; i < s->pairs.n && !rc;) {
		size_t start = i;
		while (i < s->pairs.n && pairs[i].adv == pairs[start].adv)
			i++;
		struct verdict v;
		judge(s, g, newest_kernel, pairs + start, i - start, scratch, scratch + n, &v);
		if (v.reboot) {
			const pw_index_advisory **a = vec_push(&s->reboot_advs);
			if (!a) {
				rc = nomem(s);
				break;
			}
			*a = pairs[start].adv;
			continue;
		}
		if (!v.n_members)
			continue;
		const pw_package *const *bins = bins_array(s, g, v.members, v.n_members);
		if (!bins) {
			rc = nomem(s);
			break;
		}
		if (v.unfixed) {
			pw_unfixed *u = vec_push(&s->unfixed);
			if (!u) {
				rc = nomem(s);
				break;
			}
			u->package = key->name;
			u->by_source = key->by_source;
			u->installed = v.installed;
			u->adv = pairs[start].adv;
			u->note = v.note;
			u->binaries = bins;
			u->n_binaries = v.n_members;
			continue;
		}
		pw_finding *f = vec_push(&s->findings);
		if (!f) {
			rc = nomem(s);
			break;
		}
		f->package = key->name;
		f->by_source = key->by_source;
		f->installed = v.installed;
		f->fixed = v.fixed;
		f->adv = pairs[start].adv;
		f->cves = f->adv->cves;
		f->n_cves = f->adv->n_cves;
		f->binaries = bins;
		f->n_binaries = v.n_members;
	}
	free(scratch);
	if (rc || !s->reboot_advs.n)
		return rc;
	pw_inactive *r = vec_push(&s->inactive);
	size_t nb = s->reboot_advs.n * sizeof(const pw_index_advisory *);
	const pw_index_advisory **advs = pw_arena_alloc(&s->mem->arena, nb);
	if (!r || !advs)
		return nomem(s);
	memcpy(advs, s->reboot_advs.data, nb);
	r->kind = PW_INACTIVE_REBOOT;
	r->running = s->inv->kernel_running;
	r->package = key->name;
	r->installed = newest_kernel;
	r->running_version = running_ver;
	r->advs = advs;
	r->n_advs = s->reboot_advs.n;
	return PW_OK;
}

/* ---- merging, ranking ---- */

static int cmp_finding_key(const void *pa, const void *pb)
{
	const pw_finding *a = pa, *b = pb;
	int c = a->package == b->package ? 0 : strcmp(a->package, b->package);
	if (!c && a->adv != b->adv)
		c = strcmp(a->adv->id, b->adv->id);
	return c;
}

static int cmp_finding_rank(const void *pa, const void *pb)
{
	const pw_finding *a = pa, *b = pb;
	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	return cmp_finding_key(pa, pb);
}

static int cmp_unfixed(const void *pa, const void *pb)
{
	const pw_unfixed *a = pa, *b = pb;
	int c = strcmp(a->package, b->package);
	return c ? c : strcmp(a->adv->id, b->adv->id);
}

/* Appends the elements of b not in a; result in the arena. */
static const void **union_ptrs(struct scan *s, const void *const *a, size_t na,
			       const void *const *b, size_t nb, size_t *n_out)
{
	const void **out = pw_arena_alloc(&s->mem->arena, (na + nb + 1) * sizeof *out);
	if (!out)
		return NULL;
	if (na)
		memcpy(out, a, na * sizeof *out);
	size_t n = na;
	for (size_t i = 0; i < nb; i++) {
		bool dup = false;
		for (size_t j = 0; j < n && !dup; j++)
			dup = out[j] == b[i];
		if (!dup)
			out[n++] = b[i];
	}
	*n_out = n;
	return out;
}

/* The same advisory id reached through two keys or two sources of data
 * (a source and a binary key, two feeds) is one finding. */
static pw_err merge_findings(struct scan *s)
{
	pw_finding *f = s->findings.data;
	size_t n = s->findings.n;
	sort(f, n, sizeof *f, cmp_finding_key);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w && cmp_finding_key(&f[w - 1], &f[i]) == 0) {
			pw_finding *d = &f[w - 1];
			const void **cves = union_ptrs(s, (const void *const *)d->cves, d->n_cves,
						       (const void *const *)f[i].cves, f[i].n_cves,
						       &d->n_cves);
			const void **bins = union_ptrs(s, (const void *const *)d->binaries,
						       d->n_binaries,
						       (const void *const *)f[i].binaries,
						       f[i].n_binaries, &d->n_binaries);
			if (!cves || !bins)
				return nomem(s);
			d->cves = (const pw_index_cve *const *)cves;
			d->binaries = (const pw_package *const *)bins;
			if (vcmp(s->scheme, f[i].installed, d->installed) < 0)
				d->installed = f[i].installed;
			if (vcmp(s->scheme, f[i].fixed, d->fixed) > 0)
				d->fixed = f[i].fixed;
			continue;
		}
		f[w++] = f[i];
	}
	s->findings.n = w;
	pw_unfixed *u = s->unfixed.data;
	sort(u, s->unfixed.n, sizeof *u, cmp_unfixed);
	w = 0;
	for (size_t i = 0; i < s->unfixed.n; i++)
		if (!w || cmp_unfixed(&u[w - 1], &u[i]) != 0)
			u[w++] = u[i];
	s->unfixed.n = w;
	return PW_OK;
}

static int package_in_use(struct scan *s, const pw_finding *f)
{
	const pw_runtime *rt = s->host ? s->host->runtime : NULL;
	if (!rt || !rt->in_use_known)
		return -1;
	int verdict = 0;
	for (size_t i = 0; i < f->n_binaries && verdict != 1; i++) {
		bool running;
		if (is_kernel(s->scheme, f->binaries[i], NULL, &running)) {
			verdict = -1; /* a kernel is in use without being mapped */
			continue;
		}
		int u = pw_runtime_in_use(rt, f->binaries[i]->name, f->binaries[i]->arch);
		if (u != 0)
			verdict = u;
	}
	return verdict;
}

static void rank(struct scan *s)
{
	pw_finding *f = s->findings.data;
	pw_exposure exposure = s->host ? s->host->exposure : s->policy->default_exposure;
	for (size_t i = 0; i < s->findings.n; i++) {
		pw_priority_input *in = &f[i].why;
		memset(in, 0, sizeof *in);
		in->epss = -1;
		for (size_t c = 0; c < f[i].n_cves; c++) {
			const pw_index_cve *cve = f[i].cves[c];
			if (cve->kev && (!in->kev_cve || (cve->kev_due && in->kev_due &&
							  strcmp(cve->kev_due, in->kev_due) < 0))) {
				in->kev_cve = cve->id;
				in->kev_due = cve->kev_due;
			}
			if (cve->epss > in->epss) {
				in->epss = cve->epss;
				in->epss_cve = cve->id;
			}
		}
		in->severity = f[i].adv->severity;
		in->attack_vector = f[i].adv->attack_vector;
		in->exposure = exposure;
		in->in_use = package_in_use(s, &f[i]);
		f[i].priority = pw_policy_decide(s->policy, in, &f[i].reason);
		f[i].sla_days = s->policy->sla_days[f[i].priority];
	}
	sort(f, s->findings.n, sizeof *f, cmp_finding_rank);
}

static pw_err add_restarts(struct scan *s)
{
	const pw_runtime *rt = s->host ? s->host->runtime : NULL;
	size_t n = rt ? rt->n_restarts : 0;
	for (size_t i = 0; i < n; i++) {
		const pw_runtime_restart *d = &rt->restarts[i];
		pw_inactive *r = vec_push(&s->inactive);
		if (!r)
			return nomem(s);
		r->kind = PW_INACTIVE_RESTART;
		r->pid = d->pid;
		r->process = d->process;
		r->file = d->path;
		r->owner = d->package;
		r->unit = d->unit;
	}
	return PW_OK;
}

static pw_err scan_run(struct scan *s)
{
	pw_err rc = collect_members(s);
	if (rc)
		return rc;
	struct member *m = s->members.data;
	sort(m, s->members.n, sizeof *m, cmp_member);
	for (size_t i = 0; i < s->members.n && !rc;) {
		size_t start = i;
		while (i < s->members.n && m[i].key == m[start].key)
			i++;
		rc = process_key(s, m + start, i - start);
	}
	if (rc || (rc = merge_findings(s)))
		return rc;
	rank(s);
	bool reboot_listed = false;
	const pw_inactive *in = s->inactive.data;
	for (size_t i = 0; i < s->inactive.n; i++)
		reboot_listed = reboot_listed || in[i].kind == PW_INACTIVE_REBOOT;
	if (s->inv->needs_reboot && !reboot_listed) {
		pw_inactive *r = vec_push(&s->inactive);
		if (!r)
			return nomem(s);
		r->kind = PW_INACTIVE_REBOOT;
		r->running = s->inv->kernel_running;
	}
	return add_restarts(s);
}

pw_err pw_scan_inventory(const pw_advindex *idx, const pw_inventory *inv, const pw_scan_host *host,
			 const pw_policy *policy, pw_scan_result *out, pw_error *err)
{
	pw_scan_result r = PW_SCAN_RESULT_INIT;
	pw_err rc = pw_ecosystem_from_os(inv->os_id, inv->os_version_id, inv->os_codename,
					 r.ecosystem, err);
	if (rc)
		return pw_error_prefix(err, "inventory: ");
	if (!pw_advindex_has_ecosystem(idx, r.ecosystem))
		return pw_error_set(err, PW_ERR_NOTFOUND,
				    "no advisories for %s are loaded; import that release's feed "
				    "(patchwarden feed import) before scanning",
				    r.ecosystem);
	struct scan s = {0};
	s.idx = idx;
	s.inv = inv;
	s.host = host;
	s.policy = policy;
	s.scheme = pw_ecosystem_scheme(r.ecosystem);
	s.eco = r.ecosystem;
	s.err = err;
	s.members.size = sizeof(struct member);
	s.pairs.size = sizeof(struct pair);
	s.findings.size = sizeof(pw_finding);
	s.unfixed.size = sizeof(pw_unfixed);
	s.inactive.size = sizeof(pw_inactive);
	s.warnings.size = sizeof(const char *);
	s.reboot_advs.size = sizeof(const pw_index_advisory *);
	s.mem = calloc(1, sizeof *s.mem);
	rc = s.mem ? scan_run(&s) : nomem(&s);
	free(s.members.data);
	free(s.pairs.data);
	free(s.reboot_advs.data);
	r.mem = s.mem;
	r.snapshot = pw_advindex_snapshot(idx);
	r.exposure = host ? host->exposure : policy->default_exposure;
	r.inventory = inv;
	r.in_use_known = host && host->runtime && host->runtime->in_use_known;
	r.findings = s.findings.data;
	r.n_findings = s.findings.n;
	r.unfixed = s.unfixed.data;
	r.n_unfixed = s.unfixed.n;
	r.inactive = s.inactive.data;
	r.n_inactive = s.inactive.n;
	r.warnings = s.warnings.data;
	r.n_warnings = s.warnings.n;
	if (s.mem) {
		s.mem->findings = r.findings;
		s.mem->unfixed = r.unfixed;
		s.mem->inactive = r.inactive;
		s.mem->warnings = s.warnings.data;
	}
	for (size_t i = 0; i < r.n_findings; i++)
		r.counts[r.findings[i].priority]++;
	if (rc) {
		pw_scan_result_release(&r);
		return rc;
	}
	*out = r;
	return PW_OK;
}

void pw_scan_result_release(pw_scan_result *r)
{
	struct scan_mem *m = r->mem;
	if (m) {
		pw_arena_release(&m->arena);
		free(m->findings);
		free(m->unfixed);
		free(m->inactive);
		free(m->warnings);
		free(m);
	}
	pw_scan_result empty = PW_SCAN_RESULT_INIT;
	*r = empty;
}

pw_err pw_scan_from_store(pw_advindex *idx, pw_feedstore *store, int64_t snapshot,
			  const pw_inventory *inv, const pw_scan_host *host,
			  const pw_policy *policy, pw_scan_result *out, pw_error *err)
{
	char eco[PW_ECOSYSTEM_MAX];
	pw_err rc = pw_ecosystem_from_os(inv->os_id, inv->os_version_id, inv->os_codename, eco,
					 err);
	if (rc)
		return pw_error_prefix(err, "inventory: ");
	pw_advindex_defer_epss(idx, true);
	rc = pw_advindex_load(idx, store, snapshot, eco, inv, err);
	pw_advindex_defer_epss(idx, false);
	if (rc)
		return rc;
	if (!pw_advindex_has_ecosystem(idx, eco))
		return pw_error_set(err, PW_ERR_NOTFOUND,
				    "feed snapshot %lld has no advisories for %s; import that "
				    "release's feed ('patchwarden feed import') first",
				    (long long)snapshot, eco);
	pw_scan_result r = PW_SCAN_RESULT_INIT;
	if ((rc = pw_scan_inventory(idx, inv, host, policy, &r, err)))
		return rc;
	/* EPSS for the findings' CVEs, then rank again with the scores. */
	size_t n = 0;
	for (size_t i = 0; i < r.n_findings; i++)
		n += r.findings[i].n_cves;
	const char **cves = malloc((n ? n : 1) * sizeof *cves);
	if (!cves) {
		pw_scan_result_release(&r);
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory scanning the inventory");
	}
	n = 0;
	for (size_t i = 0; i < r.n_findings; i++)
		for (size_t k = 0; k < r.findings[i].n_cves; k++)
			cves[n++] = r.findings[i].cves[k]->id;
	rc = n ? pw_advindex_load_epss(idx, store, cves, n, err) : PW_OK;
	free(cves);
	if (!rc && n) {
		pw_scan_result_release(&r);
		rc = pw_scan_inventory(idx, inv, host, policy, &r, err);
	}
	if (rc) {
		pw_scan_result_release(&r);
		return rc;
	}
	*out = r;
	return PW_OK;
}

pw_err pw_finding_reason(const pw_finding *f, const pw_policy *policy, pw_buf *out)
{
	return pw_policy_reason_text(policy, &f->why, f->reason, out);
}

/* ---- JSON ---- */

/* Builders that remember a failed allocation instead of checking each. */
struct jb {
	bool ok;
};

static void j_str(struct jb *b, cJSON *obj, const char *key, const char *v)
{
	if (!(v ? cJSON_AddStringToObject(obj, key, v) : cJSON_AddNullToObject(obj, key)))
		b->ok = false;
}

static void j_num(struct jb *b, cJSON *obj, const char *key, double v)
{
	if (!cJSON_AddNumberToObject(obj, key, v))
		b->ok = false;
}

static void j_bool(struct jb *b, cJSON *obj, const char *key, bool v)
{
	if (!cJSON_AddBoolToObject(obj, key, v))
		b->ok = false;
}

static cJSON *j_obj(struct jb *b, cJSON *parent, const char *key)
{
	cJSON *o = key ? cJSON_AddObjectToObject(parent, key) : cJSON_CreateObject();
	if (!o) {
		b->ok = false;
		return NULL;
	}
	if (!key && !cJSON_AddItemToArray(parent, o)) {
		cJSON_Delete(o);
		b->ok = false;
		return NULL;
	}
	return o;
}

static cJSON *j_arr(struct jb *b, cJSON *parent, const char *key)
{
	cJSON *a = cJSON_AddArrayToObject(parent, key);
	if (!a)
		b->ok = false;
	return a;
}

static void j_push_str(struct jb *b, cJSON *arr, const char *v)
{
	cJSON *s = cJSON_CreateString(v);
	if (!s || !cJSON_AddItemToArray(arr, s)) {
		cJSON_Delete(s);
		b->ok = false;
	}
}

static void j_cves(struct jb *b, cJSON *obj, const pw_index_cve *const *cves, size_t n)
{
	cJSON *a = j_arr(b, obj, "cves");
	for (size_t i = 0; a && i < n; i++)
		j_push_str(b, a, cves[i]->id);
}

static void j_bins(struct jb *b, cJSON *obj, const pw_package *const *bins, size_t n)
{
	cJSON *a = j_arr(b, obj, "binaries");
	for (size_t i = 0; a && i < n; i++) {
		cJSON *o = j_obj(b, a, NULL);
		if (!o)
			return;
		j_str(b, o, "name", bins[i]->name);
		j_str(b, o, "version", bins[i]->version);
		j_str(b, o, "arch", bins[i]->arch);
	}
}

static void j_host(struct jb *b, cJSON *root, const pw_scan_result *r, const char *hostname)
{
	const pw_inventory *inv = r->inventory;
	cJSON *host = j_obj(b, root, "host");
	if (host)
		j_str(b, host, "hostname", hostname);
	cJSON *os = host ? j_obj(b, host, "os") : NULL;
	if (!os)
		return;
	j_str(b, os, "id", inv->os_id);
	j_str(b, os, "version_id", inv->os_version_id);
	j_str(b, os, "codename", inv->os_codename);
	j_str(b, os, "pretty_name", inv->os_pretty_name);
	j_str(b, host, "ecosystem", r->ecosystem);
	j_str(b, host, "arch", inv->arch);
	j_str(b, host, "exposure", pw_exposure_name(r->exposure));
	j_num(b, host, "packages", (double)inv->n_pkgs);
	j_bool(b, host, "in_use_known", r->in_use_known);
	cJSON *k = j_obj(b, host, "kernel");
	if (!k)
		return;
	j_str(b, k, "running", inv->kernel_running);
	j_bool(b, k, "needs_reboot", inv->needs_reboot);
}

static void j_finding(struct jb *b, cJSON *arr, const pw_finding *f, const pw_policy *policy)
{
	cJSON *o = j_obj(b, arr, NULL);
	if (!o)
		return;
	j_str(b, o, "package", f->package);
	j_bool(b, o, "by_source", f->by_source);
	j_str(b, o, "installed", f->installed);
	j_str(b, o, "fixed", f->fixed);
	j_str(b, o, "advisory", f->adv->id);
	j_str(b, o, "advisory_source", f->adv->source);
	j_str(b, o, "published", f->adv->published);
	j_str(b, o, "summary", f->adv->summary);
	j_cves(b, o, f->cves, f->n_cves);
	j_bins(b, o, f->binaries, f->n_binaries);
	j_str(b, o, "severity", pw_severity_name(f->adv->severity));
	j_str(b, o, "attack_vector", pw_attack_vector_name(f->adv->attack_vector));
	j_str(b, o, "priority", pw_priority_name(f->priority));
	pw_buf why = PW_BUF_INIT;
	if (pw_finding_reason(f, policy, &why))
		b->ok = false;
	j_str(b, o, "reason", pw_buf_str(&why));
	pw_buf_release(&why);
	j_num(b, o, "sla_days", f->sla_days);
	if (f->why.kev_cve) {
		cJSON *k = j_obj(b, o, "kev");
		if (k) {
			j_str(b, k, "cve", f->why.kev_cve);
			j_str(b, k, "due_date", f->why.kev_due);
		}
	} else {
		j_str(b, o, "kev", NULL);
	}
	if (f->why.epss >= 0) {
		cJSON *e = j_obj(b, o, "epss");
		if (e) {
			j_str(b, e, "cve", f->why.epss_cve);
			j_num(b, e, "score", f->why.epss);
		}
	} else {
		j_str(b, o, "epss", NULL);
	}
	if (f->why.in_use < 0)
		j_str(b, o, "in_use", NULL);
	else
		j_bool(b, o, "in_use", f->why.in_use == 1);
}

static void j_inactive(struct jb *b, cJSON *arr, const pw_inactive *in)
{
	cJSON *o = j_obj(b, arr, NULL);
	if (!o)
		return;
	if (in->kind == PW_INACTIVE_RESTART) {
		j_str(b, o, "kind", "restart");
		j_num(b, o, "pid", in->pid);
		j_str(b, o, "process", in->process);
		j_str(b, o, "file", in->file);
		j_str(b, o, "package", in->owner);
		return;
	}
	j_str(b, o, "kind", "reboot");
	j_str(b, o, "running", in->running);
	j_str(b, o, "package", in->package);
	j_str(b, o, "installed", in->installed);
	j_str(b, o, "running_version", in->running_version);
	cJSON *a = j_arr(b, o, "advisories");
	for (size_t i = 0; a && i < in->n_advs; i++)
		j_push_str(b, a, in->advs[i]->id);
}

cJSON *pw_scan_result_to_json(const pw_scan_result *r, const pw_policy *policy)
{
	return pw_scan_report_to_json(r, policy, NULL, NULL);
}

cJSON *pw_scan_report_to_json(const pw_scan_result *r, const pw_policy *policy,
			      const char *hostname, const char *snapshot_created)
{
	struct jb b = {true};
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	if (!pw_json_add_report_head(root, r->snapshot, snapshot_created))
		b.ok = false;
	j_host(&b, root, r, hostname);
	if (r->snapshot >= 0)
		j_num(&b, root, "snapshot", (double)r->snapshot);
	else
		j_str(&b, root, "snapshot", NULL);
	cJSON *sum = j_obj(&b, root, "summary");
	if (sum) {
		for (int p = PW_PRIO__COUNT - 1; p >= 0; p--)
			j_num(&b, sum, pw_priority_name((pw_priority)p), (double)r->counts[p]);
		j_num(&b, sum, "findings", (double)r->n_findings);
		j_num(&b, sum, "unfixed", (double)r->n_unfixed);
		j_num(&b, sum, "inactive", (double)r->n_inactive);
	}
	cJSON *pol = j_obj(&b, root, "policy");
	cJSON *sla = pol ? j_obj(&b, pol, "sla_days") : NULL;
	if (sla) {
		j_num(&b, pol, "epss_threshold", policy->epss_threshold);
		for (int p = PW_PRIO__COUNT - 1; p >= 0; p--)
			j_num(&b, sla, pw_priority_name((pw_priority)p), policy->sla_days[p]);
	}
	cJSON *a = j_arr(&b, root, "findings");
	for (size_t i = 0; a && i < r->n_findings; i++)
		j_finding(&b, a, &r->findings[i], policy);
	a = j_arr(&b, root, "unfixed");
	for (size_t i = 0; a && i < r->n_unfixed; i++) {
		const pw_unfixed *u = &r->unfixed[i];
		cJSON *o = j_obj(&b, a, NULL);
		if (!o)
			break;
		j_str(&b, o, "package", u->package);
		j_bool(&b, o, "by_source", u->by_source);
		j_str(&b, o, "installed", u->installed);
		j_str(&b, o, "advisory", u->adv->id);
		j_str(&b, o, "advisory_source", u->adv->source);
		j_cves(&b, o, u->adv->cves, u->adv->n_cves);
		j_str(&b, o, "severity", pw_severity_name(u->adv->severity));
		j_str(&b, o, "note", u->note);
		j_bins(&b, o, u->binaries, u->n_binaries);
	}
	a = j_arr(&b, root, "inactive");
	for (size_t i = 0; a && i < r->n_inactive; i++)
		j_inactive(&b, a, &r->inactive[i]);
	a = j_arr(&b, root, "warnings");
	for (size_t i = 0; a && i < r->n_warnings; i++)
		j_push_str(&b, a, r->warnings[i]);
	if (!b.ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* ---- fleets ---- */

struct fleet_mem {
	pw_scan_result *results; /* per distinct content */
	char **errors;           /* per distinct content, NULL when scanned */
	size_t n;
};

struct fleet_job {
	const pw_advindex *idx;
	const pw_fleet_input *inputs;
	const pw_policy *policy;
	pw_fleet_host_result *hosts;
	const size_t *reps; /* distinct slot -> an input with that content */
	struct fleet_mem *mem;
	pw_err *codes;
	size_t n;     /* items of the current phase */
	bool hashing; /* phase: hash inputs, else scan distinct */
	atomic_size_t next;
};

static void *fleet_worker(void *arg)
{
	struct fleet_job *job = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&job->next, 1);
		if (i >= job->n)
			return NULL;
		if (job->hashing) {
			const char *known = job->inputs[i].hash;
			if (known && strlen(known) < sizeof job->hosts[i].inventory_hash)
				memcpy(job->hosts[i].inventory_hash, known, strlen(known) + 1);
			else
				pw_inventory_hash(job->inputs[i].inventory,
						  job->hosts[i].inventory_hash);
			continue;
		}
		const pw_fleet_input *in = &job->inputs[job->reps[i]];
		pw_scan_host host = {in->exposure, NULL};
		pw_error e = PW_ERROR_INIT;
		job->codes[i] = pw_scan_inventory(job->idx, in->inventory, &host, job->policy,
						  &job->mem->results[i], &e);
		if (job->codes[i])
			job->mem->errors[i] = strdup(pw_error_text(&e));
	}
}

/* Runs the current phase on `threads` threads, this one included. */
static void fleet_phase(struct fleet_job *job, unsigned threads)
{
	atomic_store(&job->next, 0);
	pthread_t tid[16];
	unsigned started = 0;
	if (threads > 16)
		threads = 16;
	while (started + 1 < threads && (size_t)started + 1 < job->n &&
	       pthread_create(&tid[started], NULL, fleet_worker, job) == 0)
		started++;
	fleet_worker(job);
	for (unsigned t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
}

/* What makes two inputs scan alike: the package content (hash), and
 * what the hash leaves out but the scan uses (exposure, kernel state). */
struct content_key {
	const char *hash;
	pw_exposure exposure;
	const char *kernel;
	bool reboot;
	size_t slot;
};

static bool content_eq(const void *rec, const void *key)
{
	const struct content_key *a = rec, *b = key;
	return a->exposure == b->exposure && a->reboot == b->reboot &&
	       strcmp(a->hash, b->hash) == 0 &&
	       strcmp(a->kernel ? a->kernel : "", b->kernel ? b->kernel : "") == 0;
}

static uint64_t content_hash(const struct content_key *k)
{
	uint64_t h = pw_hash_str(PW_HASH_SEED, k->hash);
	h = pw_hash_str(h, k->kernel ? k->kernel : "");
	h = pw_hash_bytes(h, &k->exposure, sizeof k->exposure);
	return pw_hash_bytes(h, &k->reboot, sizeof k->reboot);
}

pw_err pw_scan_fleet(const pw_advindex *idx, const pw_fleet_input *inputs, size_t n,
		     const pw_policy *policy, unsigned threads, pw_fleet_result *out, pw_error *err)
{
	pw_fleet_result r = PW_FLEET_RESULT_INIT;
	struct fleet_mem *mem = calloc(1, sizeof *mem);
	struct content_key *keys = calloc(n ? n : 1, sizeof *keys);
	size_t *reps = calloc(n ? n : 1, sizeof *reps);
	size_t *slot_of = calloc(n ? n : 1, sizeof *slot_of);
	r.hosts = calloc(n ? n : 1, sizeof *r.hosts);
	r.mem = mem;
	r.n_hosts = n;
	pw_hashtab seen = PW_HASHTAB_INIT;
	pw_err rc = PW_OK;
	if (!mem || !keys || !reps || !slot_of || !r.hosts) {
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory scanning %zu inventories", n);
		goto done;
	}
	struct fleet_job job = {.idx = idx,
				.inputs = inputs,
				.policy = policy,
				.hosts = r.hosts,
				.reps = reps,
				.mem = mem,
				.n = n,
				.hashing = true};
	fleet_phase(&job, threads ? threads : 2);

	size_t distinct = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const pw_inventory *inv = inputs[i].inventory;
		struct content_key k = {r.hosts[i].inventory_hash, inputs[i].exposure,
					inv->kernel_running, inv->needs_reboot, distinct};
		uint64_t h = content_hash(&k);
		/* An empty hash (hashing ran out of memory) matches nothing. */
		const struct content_key *found =
			k.hash[0] ? pw_hashtab_find(&seen, h, content_eq, &k) : NULL;
		if (found) {
			slot_of[i] = found->slot;
			continue;
		}
		keys[distinct] = k;
		reps[distinct] = i;
		slot_of[i] = distinct;
		if (pw_hashtab_insert(&seen, h, &keys[distinct]))
			rc = pw_error_set(err, PW_ERR_NOMEM,
					  "out of memory scanning %zu inventories", n);
		distinct++;
	}
	mem->results = calloc(distinct ? distinct : 1, sizeof *mem->results);
	mem->errors = calloc(distinct ? distinct : 1, sizeof *mem->errors);
	job.codes = calloc(distinct ? distinct : 1, sizeof *job.codes);
	if (!rc && (!mem->results || !mem->errors || !job.codes))
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory scanning %zu inventories", n);
	if (!rc) {
		mem->n = distinct;
		job.n = distinct;
		job.hashing = false;
		fleet_phase(&job, threads ? threads : 2);
		for (size_t i = 0; i < n; i++) {
			size_t s = slot_of[i];
			r.hosts[i].code = job.codes[s];
			if (job.codes[s] == PW_OK)
				r.hosts[i].result = &mem->results[s];
			else
				r.hosts[i].error = mem->errors[s] ? mem->errors[s]
								  : pw_strerror(job.codes[s]);
		}
		r.n_distinct = distinct;
	}
	free(job.codes);
done:
	pw_hashtab_release(&seen);
	free(keys);
	free(reps);
	free(slot_of);
	if (rc) {
		pw_fleet_result_release(&r);
		return rc;
	}
	*out = r;
	return PW_OK;
}

void pw_fleet_result_release(pw_fleet_result *r)
{
	struct fleet_mem *mem = r->mem;
	if (mem) {
		for (size_t i = 0; i < mem->n; i++) {
			if (mem->results)
				pw_scan_result_release(&mem->results[i]);
			if (mem->errors)
				free(mem->errors[i]);
		}
		free(mem->results);
		free(mem->errors);
		free(mem);
	}
	free(r->hosts);
	pw_fleet_result empty = PW_FLEET_RESULT_INIT;
	*r = empty;
}
