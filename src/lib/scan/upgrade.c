/* A scan's findings grouped by package upgrade (upgrade.h). */
#include "patchwarden/upgrade.h"

#include <stdlib.h>
#include <string.h>

#include "patchwarden/arena.h"
#include "patchwarden/ecosystem.h"
#include "patchwarden/vercmp.h"

static bool same_key(const pw_finding *a, const pw_scan_upgrade *u)
{
	return a->by_source == u->by_source && !strcmp(a->package, u->package);
}

/* Where each group's pointers start: the groups share one array each of
 * findings, binaries and CVE ids, sized by their findings' totals. */
struct fill {
	const pw_finding **findings;
	const pw_package **binaries;
	const char **cves;
};

/* Versions in a scan result passed the scheme's checks when they were
 * read, so pw_scheme_vercmp applies. */
static void add_finding(pw_scan_upgrade *u, const pw_finding *f, pw_scheme s, struct fill *at)
{
	if (!u->n_findings) {
		u->findings = at->findings;
		u->binaries = at->binaries;
		u->cves = at->cves;
	}
	at->findings[0] = f;
	at->findings++;
	u->n_findings++;
	if (!u->installed || pw_scheme_vercmp(s, f->installed, u->installed) < 0)
		u->installed = f->installed;
	if (!u->target || pw_scheme_vercmp(s, f->fixed, u->target) > 0)
		u->target = f->fixed;
	if (u->n_findings == 1 || f->priority > u->priority)
		u->priority = f->priority;
	if (u->n_findings == 1 || f->sla_days < u->sla_days)
		u->sla_days = f->sla_days;
	for (size_t i = 0; i < f->n_binaries; i++) {
		size_t k = 0;
		while (k < u->n_binaries && strcmp(u->binaries[k]->name, f->binaries[i]->name))
			k++;
		if (k == u->n_binaries) {
			at->binaries[0] = f->binaries[i];
			at->binaries++;
			u->n_binaries++;
		}
	}
	for (size_t i = 0; i < f->n_cves; i++) {
		const pw_index_cve *c = f->cves[i];
		size_t k = 0;
		while (k < u->n_cves && strcmp(u->cves[k], c->id))
			k++;
		if (k == u->n_cves) {
			at->cves[0] = c->id;
			at->cves++;
			u->n_cves++;
		}
		if (c->kev) {
			u->kev = true;
			if (c->kev_due && (!u->kev_due || strcmp(c->kev_due, u->kev_due) < 0))
				u->kev_due = c->kev_due;
		}
	}
}

pw_err pw_scan_upgrades(const pw_scan_result *r, pw_scan_upgrade_list *out, pw_error *err)
{
	pw_scan_upgrade_list empty = PW_UPGRADE_LIST_INIT;
	*out = empty;
	size_t n = r->n_findings;
	if (!n)
		return PW_OK;
	pw_scheme scheme = pw_ecosystem_scheme(r->ecosystem);
	pw_arena *arena = calloc(1, sizeof *arena);
	size_t *group = malloc(n * sizeof *group);
	size_t *bins = calloc(n, sizeof *bins), *cves = calloc(n, sizeof *cves);
	size_t *count = calloc(n, sizeof *count);
	pw_scan_upgrade *v = arena && group && bins && cves && count
				     ? pw_arena_alloc(arena, n * sizeof *v)
				     : NULL;
	pw_err rc = PW_OK;
	if (!v) {
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory grouping findings by upgrade");
		goto out;
	}
	/* Which upgrade each finding belongs to, and each upgrade's share of
	 * the pointer arrays. */
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		const pw_finding *f = &r->findings[i];
		size_t g = 0;
		while (g < ng && !same_key(f, &v[g]))
			g++;
		if (g == ng) {
			memset(&v[g], 0, sizeof v[g]);
			v[g].package = f->package;
			v[g].by_source = f->by_source;
			ng++;
		}
		group[i] = g;
		count[g]++;
		bins[g] += f->n_binaries;
		cves[g] += f->n_cves;
	}
	size_t nb = 0, nc = 0;
	for (size_t g = 0; g < ng; g++) {
		nb += bins[g];
		nc += cves[g];
	}
	const pw_finding **fp = pw_arena_alloc(arena, n * sizeof *fp);
	const pw_package **bp = pw_arena_alloc(arena, (nb + 1) * sizeof *bp);
	const char **cp = pw_arena_alloc(arena, (nc + 1) * sizeof *cp);
	struct fill *at = pw_arena_alloc(arena, ng * sizeof *at);
	if (!fp || !bp || !cp || !at) {
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory grouping findings by upgrade");
		goto out;
	}
	for (size_t g = 0; g < ng; g++) {
		at[g].findings = fp;
		at[g].binaries = bp;
		at[g].cves = cp;
		fp += count[g];
		bp += bins[g];
		cp += cves[g];
	}
	for (size_t i = 0; i < n; i++)
		add_finding(&v[group[i]], &r->findings[i], scheme, &at[group[i]]);
	/* The findings come by priority, so first appearance is already the
	 * most urgent first; a stable pass keeps that for equal priorities. */
	for (size_t i = 1; i < ng; i++) {
		pw_scan_upgrade u = v[i];
		size_t k = i;
		while (k > 0 && v[k - 1].priority < u.priority) {
			v[k] = v[k - 1];
			k--;
		}
		v[k] = u;
	}
	out->v = v;
	out->n = ng;
	out->mem = arena;
	arena = NULL;
out:
	if (arena)
		pw_arena_release(arena);
	free(arena);
	free(group);
	free(bins);
	free(cves);
	free(count);
	return rc;
}

void pw_scan_upgrade_list_release(pw_scan_upgrade_list *l)
{
	if (l->mem)
		pw_arena_release(l->mem);
	free(l->mem);
	pw_scan_upgrade_list empty = PW_UPGRADE_LIST_INIT;
	*l = empty;
}
