/* How fast the scan is, on real data (shared/data):
 *
 *  1. one host after the store is opened: index load for the host's
 *     packages from the SQLite store + the scan. Claircore's texlive image
 *     (Ubuntu 18.04, 357 packages) against the Ubuntu CVE tracker, KEV and
 *     EPSS; this machine's packages against the Debian DSA/DLA lists (the
 *     tracker snapshot has no bookworm data, so the host is relabelled
 *     Debian 11, bullseye: every package is still looked up).
 *  2. a fleet: 10,000 inventories generated from the real ones (each
 *     source package set back, with a seed, to a fixed version an advisory
 *     names, so it misses the later fixes; a fifth left as they are),
 *     scanned with pw_scan_fleet on 1 and 2 threads.
 *  3. scaling: the Ubuntu 18.04 statements copied 1x, 10x and 100x (each
 *     copy under new advisory and package names, as a bigger feed would
 *     add other packages) - memory grows, per-host time must not.
 *
 *   bench_scan [HOSTS [SEED]]      (default 10000 hosts, seed 42)
 *
 * Stores are built in a temporary directory first (not timed). */
#include <glob.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "patchwarden/ecosystem.h"
#include "patchwarden/feed.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/fileio.h"
#include "patchwarden/inventory.h"
#include "patchwarden/matcher.h"
#include "patchwarden/scan.h"
#include "patchwarden/vercmp.h"

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench_scan: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void check(pw_err rc, const pw_error *e, const char *what)
{
	if (rc)
		die("%s: %s", what, pw_error_text(e));
}

/* CPU time of the whole process (all threads): on a shared machine the
 * wall clock measures the neighbours too. */
static double cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static char *xstrdup(const char *s)
{
	char *p = s ? strdup(s) : NULL;
	if (s && !p)
		die("out of memory");
	return p;
}

/* ---- stores ---- */

static void quiet(void *ctx, const char *where, const char *message)
{
	(void)where;
	(void)message;
	(*(size_t *)ctx)++;
}

/* Imports every path (globs expanded) as one snapshot. */
static void build_store(const char *db, const char *const *patterns, size_t n)
{
	pw_feedstore *s = NULL;
	pw_feed_import *imp = NULL;
	pw_error e = PW_ERROR_INIT;
	size_t warnings = 0;
	double t0 = bench_now_ns();
	check(pw_feedstore_open(db, &s, &e), &e, db);
	check(pw_feed_import_begin(s, "bench", &imp, &e), &e, db);
	pw_feed_import_set_callbacks(imp, quiet, NULL, &warnings);
	for (size_t i = 0; i < n; i++) {
		glob_t g;
		if (glob(patterns[i], 0, NULL, &g) != 0)
			die("%s: no such file", patterns[i]);
		for (size_t k = 0; k < g.gl_pathc; k++)
			check(pw_feed_import_path(imp, g.gl_pathv[k], &e), &e, g.gl_pathv[k]);
		globfree(&g);
	}
	int64_t snap;
	pw_import_stats st;
	check(pw_feed_import_commit(imp, &snap, &st, &e), &e, db);
	pw_feedstore_close(s);
	printf("  store %-10s %6zu files, %6zu advisories, %7zu affected rows, %4zu KEV, %6zu EPSS "
	       "(%.1f s to import)\n",
	       strrchr(db, '/') + 1, st.files, st.advisories, st.affected, st.kev, st.epss,
	       (bench_now_ns() - t0) / 1e9);
}

/* ---- inventories ---- */

static void set_os(pw_inventory *inv, const char *id, const char *version_id, const char *codename)
{
	free(inv->os_id);
	free(inv->os_version_id);
	free(inv->os_codename);
	inv->os_id = xstrdup(id);
	inv->os_version_id = xstrdup(version_id);
	inv->os_codename = xstrdup(codename);
}

static void read_db(pw_inventory *inv, const char *path, bool apk)
{
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	check(pw_read_file(path, &b, 0, &e), &e, path);
	check(apk ? pw_inventory_parse_apk(inv, b.data ? b.data : "", b.len, path, &e)
		  : pw_inventory_parse_dpkg(inv, b.data ? b.data : "", b.len, path, &e),
	      &e, path);
	inv->scheme = apk ? PW_SCHEME_APK : PW_SCHEME_DEB;
	pw_buf_release(&b);
}

static void push_pkg(pw_inventory *inv, const pw_package *src)
{
	if (inv->n_pkgs == inv->cap_pkgs) {
		inv->cap_pkgs = inv->cap_pkgs ? inv->cap_pkgs * 2 : 64;
		inv->pkgs = realloc(inv->pkgs, inv->cap_pkgs * sizeof *inv->pkgs);
		if (!inv->pkgs)
			die("out of memory");
	}
	pw_package *p = &inv->pkgs[inv->n_pkgs++];
	p->name = xstrdup(src->name);
	p->version = xstrdup(src->version);
	p->arch = xstrdup(src->arch);
	p->source = xstrdup(src->source);
	p->source_version = xstrdup(src->source_version);
	p->status = xstrdup(src->status);
}

/* claircore's derived package lists: name, version, arch, source, source version. */
static void read_tsv(pw_inventory *inv, const char *path, pw_scheme scheme)
{
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	check(pw_read_file(path, &b, 0, &e), &e, path);
	inv->scheme = scheme;
	char *text = xstrdup(b.len ? b.data : "");
	pw_buf_release(&b);
	for (char *line = text, *next; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? (*next = '\0', next + 1) : line + strlen(line);
		if (*line == '#' || !*line)
			continue;
		char *f[5] = {0};
		int k = 0;
		for (char *p = line; k < 5; k++) {
			f[k] = p;
			char *tab = strchr(p, '\t');
			if (!tab)
				break;
			*tab = '\0';
			p = tab + 1;
		}
		if (k < 2)
			continue;
		char *src = f[3] && *f[3] ? f[3] : f[0], *srcver = f[4] && *f[4] ? f[4] : f[1];
		char *paren = strstr(src, " (");
		if (paren) { /* "util-linux (2.33.1-0.1)" */
			*paren = '\0';
			srcver = paren + 2;
			srcver[strcspn(srcver, ")")] = '\0';
		}
		static char installed[] = "installed";
		pw_package p = {f[0], f[1], f[2], src, srcver, installed};
		push_pkg(inv, &p);
	}
	free(text);
}

static void clone_inventory(pw_inventory *out, const pw_inventory *in)
{
	pw_inventory z = PW_INVENTORY_INIT;
	*out = z;
	set_os(out, in->os_id, in->os_version_id, in->os_codename);
	out->scheme = in->scheme;
	out->kernel_running = xstrdup(in->kernel_running);
	for (size_t i = 0; i < in->n_pkgs; i++)
		push_pkg(out, &in->pkgs[i]);
}

/* ---- the fleet generator ---- */

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: reproducible across platforms, unlike rand(). */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static int vcmp(pw_scheme s, const char *a, const char *b)
{
	return s == PW_SCHEME_DEB   ? pw_deb_vercmp(a, b)
	       : s == PW_SCHEME_RPM ? pw_rpm_vercmp(a, b)
				    : pw_apk_vercmp(a, b);
}

/* The fixed versions older than `cur` that the index names for a package. */
static size_t older_fixes(const pw_index_package *k, pw_scheme s, const char *cur, const char **out,
			  size_t max)
{
	size_t n = 0;
	for (size_t i = 0; k && i < k->n_fixes && n < max; i++) {
		const pw_index_fix *f = &k->fixes[i];
		if (f->state == PW_FIX_FIXED && vcmp(s, f->fixed, cur) < 0 &&
		    (s != PW_SCHEME_RPM || pw_rpm_is_modular(f->fixed) == pw_rpm_is_modular(cur)))
			out[n++] = f->fixed;
	}
	return n;
}

/* A copy of `base` where each source package is, with probability 1/8,
 * set back to one of its older fixed versions. */
static void downgrade(pw_inventory *out, const pw_inventory *base, const pw_advindex *idx,
		      uint64_t *rng)
{
	clone_inventory(out, base);
	char eco[PW_ECOSYSTEM_MAX];
	if (pw_ecosystem_from_os(base->os_id, base->os_version_id, base->os_codename, eco, NULL))
		return;
	pw_scheme s = pw_ecosystem_scheme(eco);
	const char *chosen_src[4096], *chosen_ver[4096];
	size_t n_chosen = 0;
	for (size_t i = 0; i < out->n_pkgs; i++) {
		pw_package *p = &out->pkgs[i];
		const char *src = p->source ? p->source : p->name;
		const char *ver = NULL;
		for (size_t c = 0; c < n_chosen && !ver; c++)
			if (strcmp(chosen_src[c], src) == 0)
				ver = chosen_ver[c];
		if (!ver) {
			const pw_index_package *k = pw_advindex_lookup(idx, eco, src, true);
			bool by_source = k != NULL;
			if (!k)
				k = pw_advindex_lookup(idx, eco, p->name, false);
			const char *cur = by_source && p->source_version ? p->source_version
									 : p->version;
			const char *older[256];
			size_t n = older_fixes(k, s, cur, older, 256);
			if (!n || rng_next(rng) % 8 != 0)
				continue;
			ver = older[rng_next(rng) % n];
			if (n_chosen < 4096) {
				chosen_src[n_chosen] = src;
				chosen_ver[n_chosen++] = ver;
			}
		}
		if (p->version && p->source_version && strcmp(p->version, p->source_version) == 0) {
			free(p->version);
			p->version = xstrdup(ver);
		}
		free(p->source_version);
		p->source_version = xstrdup(ver);
	}
}

/* ---- single host ---- */

struct host_times {
	double load_ms, scan_ms, total_ms, cpu_ms;
	size_t findings, advisories;
};

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

static struct host_times time_host(pw_feedstore *store, const pw_inventory *inv, int runs)
{
	pw_error e = PW_ERROR_INIT;
	int64_t snap;
	check(pw_feedstore_latest(store, &snap, &e), &e, "store");
	pw_policy pol;
	pw_policy_defaults(&pol);
	double *load = calloc((size_t)runs, sizeof *load),
	       *scan = calloc((size_t)runs, sizeof *scan),
	       *total = calloc((size_t)runs, sizeof *total),
	       *cpu = calloc((size_t)runs, sizeof *cpu);
	if (!load || !scan || !total || !cpu)
		die("out of memory");
	struct host_times t = {0};
	for (int r = -1; r < runs; r++) { /* run -1 warms the caches */
		double t0 = bench_now_ns(), c0 = cpu_ns();
		pw_advindex *idx = NULL;
		check(pw_advindex_new(&idx, &e), &e, "index");
		pw_scan_result res = PW_SCAN_RESULT_INIT;
		check(pw_scan_from_store(idx, store, snap, inv, NULL, &pol, &res, &e), &e, "scan");
		double t2 = bench_now_ns(), c2 = cpu_ns();
		/* The scan alone, on the loaded index. */
		pw_scan_result again = PW_SCAN_RESULT_INIT;
		double c3 = cpu_ns();
		check(pw_scan_inventory(idx, inv, NULL, &pol, &again, &e), &e, "scan");
		double c4 = cpu_ns();
		pw_scan_result_release(&again);
		t.findings = res.n_findings;
		pw_advindex_stats st;
		pw_advindex_get_stats(idx, &st);
		t.advisories = st.advisories;
		pw_scan_result_release(&res);
		pw_advindex_free(idx);
		if (r >= 0) {
			total[r] = (t2 - t0) / 1e6;
			cpu[r] = (c2 - c0) / 1e6;
			scan[r] = (c4 - c3) / 1e6;
			load[r] = cpu[r] - scan[r];
		}
	}
	t.load_ms = median(load, runs);
	t.scan_ms = median(scan, runs);
	t.total_ms = median(total, runs);
	t.cpu_ms = median(cpu, runs);
	free(load);
	free(scan);
	free(total);
	free(cpu);
	return t;
}

/* ---- scaling: statements copied under new names ---- */

struct rec {
	char *id;
	char **cves;
	size_t n_cves;
	pw_severity sev;
	pw_attack_vector av;
	pw_affected *aff;
	size_t n_aff;
	char **owned; /* the strings aff[] points to */
	size_t n_owned;
};

struct recs {
	struct rec *r;
	size_t n, cap;
	const char *ecosystem;
};

static pw_err keep_record(void *ctx, const pw_advisory *a, pw_error *err)
{
	(void)err;
	struct recs *rs = ctx;
	struct rec r = {xstrdup(a->id), NULL, a->n_cves, a->severity, a->attack_vector, NULL, 0,
			NULL,           0};
	r.cves = calloc(a->n_cves + 1, sizeof *r.cves);
	r.aff = calloc(a->n_affected + 1, sizeof *r.aff);
	r.owned = calloc(2 * a->n_affected + 1, sizeof *r.owned);
	if (!r.cves || !r.aff || !r.owned)
		die("out of memory");
	for (size_t i = 0; i < a->n_cves; i++)
		r.cves[i] = xstrdup(a->cves[i]);
	for (size_t i = 0; i < a->n_affected; i++) {
		const pw_affected *f = &a->affected[i];
		if (!f->ecosystem || strcmp(f->ecosystem, rs->ecosystem) != 0)
			continue;
		char *pkg = xstrdup(f->package), *fixed = xstrdup(f->fixed);
		r.owned[r.n_owned++] = pkg;
		r.owned[r.n_owned++] = fixed;
		pw_affected c = {rs->ecosystem, pkg, f->by_source, f->state, fixed, NULL};
		r.aff[r.n_aff++] = c;
	}
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 1024;
		rs->r = realloc(rs->r, rs->cap * sizeof *rs->r);
		if (!rs->r)
			die("out of memory");
	}
	rs->r[rs->n++] = r;
	return PW_OK;
}

static void parse_files(const char *pattern, const pw_feed_sink *sink)
{
	glob_t g;
	if (glob(pattern, 0, NULL, &g) != 0)
		die("%s: no such file", pattern);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		pw_buf b = PW_BUF_INIT;
		pw_error e = PW_ERROR_INIT;
		check(pw_read_file(g.gl_pathv[i], &b, 0, &e), &e, g.gl_pathv[i]);
		const char *d = b.len ? b.data : "";
		pw_feed_format f = pw_feed_detect(d, b.len, g.gl_pathv[i]);
		if (f != PW_FEED_UNKNOWN)
			pw_feed_parse(f, d, b.len, g.gl_pathv[i], sink, &e);
		pw_buf_release(&b);
	}
	globfree(&g);
}

/* Adds every record `copies` times; copy k > 0 renames advisories and
 * packages ("openssl~3"), as another feed's packages would be. */
static void add_copies(pw_advindex *idx, const struct recs *rs, int copies)
{
	char id[256], names[64][128];
	for (int k = 0; k < copies; k++) {
		for (size_t i = 0; i < rs->n; i++) {
			const struct rec *r = &rs->r[i];
			pw_affected aff[64];
			size_t n = r->n_aff < 64 ? r->n_aff : 64;
			for (size_t j = 0; j < n; j++) {
				aff[j] = r->aff[j];
				if (k) {
					snprintf(names[j], sizeof names[j], "%s~%d",
						 r->aff[j].package, k);
					aff[j].package = names[j];
				}
			}
			snprintf(id, sizeof id, k ? "%s~%d" : "%s", r->id, k);
			pw_advisory a = {.id = id,
					 .source = "bench",
					 .severity = r->sev,
					 .attack_vector = r->av,
					 .cves = (const char *const *)r->cves,
					 .n_cves = r->n_cves,
					 .affected = aff,
					 .n_affected = n};
			pw_error e = PW_ERROR_INIT;
			check(pw_advindex_add(idx, &a, &e), &e, "add");
		}
	}
}

static double per_host_us(const pw_advindex *idx, const pw_inventory *inv, int runs,
			  size_t *findings)
{
	pw_policy pol;
	pw_policy_defaults(&pol);
	double t0 = cpu_ns();
	for (int r = 0; r < runs; r++) {
		pw_scan_result res = PW_SCAN_RESULT_INIT;
		pw_error e = PW_ERROR_INIT;
		check(pw_scan_inventory(idx, inv, NULL, &pol, &res, &e), &e, "scan");
		*findings = res.n_findings;
		pw_scan_result_release(&res);
	}
	return (cpu_ns() - t0) / 1e3 / runs;
}

int main(int argc, char **argv)
{
	size_t hosts = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
	const char *data = bench_shared_data();
	char dir[] = "/tmp/pw-bench-scan-XXXXXX";
	if (!mkdtemp(dir))
		die("mkdtemp failed");
	char path[8][1024];
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("bench_scan: shared data %s\n", data);

	/* Stores. */
	char p[16][1024];
	snprintf(path[0], sizeof path[0], "%s/uct.db", dir);
	snprintf(p[0], sizeof p[0], "%s/ubuntu-cve-tracker-2020/active/CVE-*", data);
	snprintf(p[1], sizeof p[1], "%s/ubuntu-cve-tracker-2020/retired/CVE-*", data);
	snprintf(p[2], sizeof p[2], "%s/cisa-kev/known_exploited_vulnerabilities.json", data);
	snprintf(p[3], sizeof p[3], "%s/epss/CVE_*_EPSS.csv.gz", data);
	const char *uct[] = {p[0], p[1], p[2], p[3]};
	build_store(path[0], uct, 4);
	snprintf(path[1], sizeof path[1], "%s/debian.db", dir);
	snprintf(p[4], sizeof p[4], "%s/debian-security-tracker/data/DSA/list", data);
	snprintf(p[5], sizeof p[5], "%s/debian-security-tracker/data/DLA/list", data);
	const char *deb[] = {p[4], p[5], p[2], p[3]};
	build_store(path[1], deb, 4);
	snprintf(path[2], sizeof path[2], "%s/fleet.db", dir);
	snprintf(p[6], sizeof p[6], "%s/almalinux-osv/advisories/almalinux8", data);
	snprintf(p[7], sizeof p[7], "%s/alpine-secdb/v3.4/*.yaml", data);
	const char *all[] = {p[0], p[1], p[4], p[5], p[6], p[7], p[2], p[3]};
	build_store(path[2], all, 8);

	/* Real hosts. */
	char f[2048];
	pw_inventory texlive = PW_INVENTORY_INIT, self = PW_INVENTORY_INIT,
		     deb10 = PW_INVENTORY_INIT, rhel8 = PW_INVENTORY_INIT,
		     alpine = PW_INVENTORY_INIT;
	snprintf(f, sizeof f, "%s/inventories/claircore/texlive.dpkg-status", data);
	read_db(&texlive, f, false);
	set_os(&texlive, "ubuntu", "18.04", "bionic");
	pw_error e = PW_ERROR_INIT;
	check(pw_inventory_read("/", &self, &e), &e, "this host");
	set_os(&self, "debian", "11", "bullseye");
	snprintf(f, sizeof f, "%s/inventories/claircore/debian-10.packages.tsv", data);
	read_tsv(&deb10, f, PW_SCHEME_DEB);
	set_os(&deb10, "debian", "10", "buster");
	snprintf(f, sizeof f, "%s/inventories/claircore/rhel8.rpm-packages.tsv", data);
	read_tsv(&rhel8, f, PW_SCHEME_RPM);
	set_os(&rhel8, "almalinux", "8.10", NULL);
	snprintf(f, sizeof f, "%s/inventories/trivy/alpine-apk-installed", data);
	read_db(&alpine, f, true);
	set_os(&alpine, "alpine", "3.4.6", NULL);

	printf("\n1. One host, after the store is opened: pw_scan_from_store, median of 20 runs\n"
	       "   (CPU ms; load = total - scan, scan = pw_scan_inventory alone; wall = "
	       "elapsed)\n");
	printf("  %-44s %8s %9s %9s %9s %9s %8s %10s\n", "host / data", "packages", "load", "scan",
	       "total", "wall", "findings", "advisories");
	const struct {
		const char *what;
		const pw_inventory *inv;
		int store;
	} single[] = {{"texlive (Ubuntu 18.04) / UCT+KEV+EPSS", &texlive, 0},
		      {"this host (as Debian 11) / DSA+DLA+KEV+EPSS", &self, 1}};
	for (size_t i = 0; i < 2; i++) {
		pw_feedstore *s = NULL;
		check(pw_feedstore_open(path[single[i].store], &s, &e), &e, "open");
		struct host_times t = time_host(s, single[i].inv, 20);
		printf("  %-44s %8zu %9.2f %9.3f %9.2f %9.2f %8zu %10zu\n", single[i].what,
		       single[i].inv->n_pkgs, t.load_ms, t.scan_ms, t.cpu_ms, t.total_ms,
		       t.findings, t.advisories);
		pw_feedstore_close(s);
	}

	/* Fleet: one index with every ecosystem, hosts generated from the
	 * real ones. */
	printf("\n2. Fleet: %zu generated hosts (seed %llu)\n", hosts, (unsigned long long)seed);
	pw_feedstore *fs = NULL;
	int64_t snap;
	check(pw_feedstore_open(path[2], &fs, &e), &e, "open");
	check(pw_feedstore_latest(fs, &snap, &e), &e, "latest");
	pw_advindex *idx = NULL;
	check(pw_advindex_new(&idx, &e), &e, "index");
	const char *ecos[] = {"ubuntu:18.04", "debian:10", "debian:11", "almalinux:8",
			      "alpine:3.4"};
	double t0 = bench_now_ns();
	for (size_t i = 0; i < 5; i++)
		check(pw_advindex_load(idx, fs, snap, ecos[i], NULL, &e), &e, ecos[i]);
	pw_advindex_stats st;
	pw_advindex_get_stats(idx, &st);
	printf("  index: %zu advisories, %zu packages, %zu fixes, %zu CVEs, %zu KEV, %zu EPSS, "
	       "%.1f MB; loaded in %.2f s\n",
	       st.advisories, st.packages, st.fixes, st.cves, st.kev, st.epss,
	       st.arena_bytes / 1048576.0, (bench_now_ns() - t0) / 1e9);
	const pw_inventory *bases[] = {&texlive, &self, &deb10, &rhel8, &alpine};
	pw_inventory *fleet = calloc(hosts ? hosts : 1, sizeof *fleet);
	pw_fleet_input *in = calloc(hosts ? hosts : 1, sizeof *in);
	if (!fleet || !in)
		die("out of memory");
	uint64_t rng = seed * 2654435761u + 1;
	size_t packages = 0;
	t0 = bench_now_ns();
	for (size_t i = 0; i < hosts; i++) {
		const pw_inventory *b = bases[i % 5];
		if (rng_next(&rng) % 5 == 0)
			clone_inventory(&fleet[i], b);
		else
			downgrade(&fleet[i], b, idx, &rng);
		in[i].inventory = &fleet[i];
		in[i].exposure = rng_next(&rng) % 4 == 0 ? PW_EXPOSURE_INTERNET
							 : PW_EXPOSURE_INTERNAL;
		packages += fleet[i].n_pkgs;
	}
	printf("  generated %zu hosts, %zu packages in %.2f s\n", hosts, packages,
	       (bench_now_ns() - t0) / 1e9);
	pw_policy pol;
	pw_policy_defaults(&pol);
	char(*hashes)[65] = calloc(hosts ? hosts : 1, sizeof *hashes);
	if (!hashes)
		die("out of memory");
	for (unsigned run = 0; run < 3; run++) {
		/* Runs 0, 1: the fleet hashes the inventories (1, 2 threads);
		 * run 2: stored inventories, whose hashes are known. */
		unsigned threads = run == 0 ? 1 : 2;
		pw_fleet_result fr = PW_FLEET_RESULT_INIT;
		t0 = bench_now_ns();
		double c0 = cpu_ns();
		check(pw_scan_fleet(idx, in, hosts, &pol, threads, &fr, &e), &e, "fleet");
		double secs = (bench_now_ns() - t0) / 1e9, cpu = (cpu_ns() - c0) / 1e9;
		size_t findings = 0, errors = 0, prio[PW_PRIO__COUNT] = {0};
		for (size_t i = 0; i < fr.n_hosts; i++) {
			if (!fr.hosts[i].result) {
				errors++;
				continue;
			}
			findings += fr.hosts[i].result->n_findings;
			for (int k = 0; k < PW_PRIO__COUNT; k++)
				prio[k] += fr.hosts[i].result->counts[k];
		}
		printf("  %u thread%s%s: %.3f s wall, %.3f s CPU for %zu hosts (%zu distinct "
		       "scans), "
		       "%.1f us CPU/host; %zu findings (%zu emergency, %zu high, %zu normal, %zu "
		       "low), "
		       "%zu errors\n",
		       threads, threads > 1 ? "s" : " ",
		       run == 2 ? ", hashes known" : "               ", secs, cpu, fr.n_hosts,
		       fr.n_distinct, cpu * 1e6 / (double)(hosts ? hosts : 1), findings,
		       prio[PW_PRIO_EMERGENCY], prio[PW_PRIO_HIGH], prio[PW_PRIO_NORMAL],
		       prio[PW_PRIO_LOW], errors);
		for (size_t i = 0; run == 1 && i < hosts; i++) {
			memcpy(hashes[i], fr.hosts[i].inventory_hash, sizeof hashes[i]);
			in[i].hash = hashes[i];
		}
		pw_fleet_result_release(&fr);
	}
	free(hashes);
	for (size_t i = 0; i < hosts; i++)
		pw_inventory_release(&fleet[i]);
	free(fleet);
	free(in);
	pw_advindex_free(idx);
	pw_feedstore_close(fs);

	/* Scaling. */
	printf("\n3. Scaling: Ubuntu 18.04 statements of the UCT copied under new names\n");
	struct recs rs = {NULL, 0, 0, "ubuntu:18.04"};
	pw_feed_sink sink = {&rs, keep_record, NULL, NULL, NULL};
	parse_files(p[0], &sink);
	parse_files(p[1], &sink);
	printf("  %-6s %10s %10s %10s %10s %10s %14s %14s\n", "copies", "advisories", "fixes",
	       "packages", "index MB", "build s", "texlive us", "downgraded us");
	printf("  (us: CPU per host scan, findings in brackets)\n");
	pw_inventory older = PW_INVENTORY_INIT;
	for (int copies = 1; copies <= 100; copies *= 10) {
		pw_advindex *x = NULL;
		check(pw_advindex_new(&x, &e), &e, "index");
		t0 = bench_now_ns();
		add_copies(x, &rs, copies);
		double build = (bench_now_ns() - t0) / 1e9;
		if (copies == 1) {
			uint64_t r2 = seed;
			downgrade(&older, &texlive, x, &r2);
		}
		size_t n1 = 0, n2 = 0;
		double us1 = per_host_us(x, &texlive, 200, &n1);
		double us2 = per_host_us(x, &older, 200, &n2);
		pw_advindex_get_stats(x, &st);
		printf("  %-6d %10zu %10zu %10zu %10.1f %10.2f %8.1f (%3zu) %8.1f (%3zu)\n", copies,
		       st.advisories, st.fixes, st.packages, st.arena_bytes / 1048576.0, build, us1,
		       n1, us2, n2);
		pw_advindex_free(x);
	}
	printf("  peak RSS of the whole run: %.0f MB\n", bench_peak_rss_kib() / 1024.0);
	pw_inventory_release(&older);
	for (size_t i = 0; i < rs.n; i++) {
		for (size_t k = 0; k < rs.r[i].n_cves; k++)
			free(rs.r[i].cves[k]);
		for (size_t k = 0; k < rs.r[i].n_owned; k++)
			free(rs.r[i].owned[k]);
		free(rs.r[i].owned);
		free(rs.r[i].cves);
		free(rs.r[i].aff);
		free(rs.r[i].id);
	}
	free(rs.r);
	pw_inventory_release(&texlive);
	pw_inventory_release(&self);
	pw_inventory_release(&deb10);
	pw_inventory_release(&rhel8);
	pw_inventory_release(&alpine);
	for (int i = 0; i < 3; i++) {
		static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
		for (size_t k = 0; k < 4; k++) {
			snprintf(f, sizeof f, "%.1023s%s", path[i], suffixes[k]);
			unlink(f);
		}
	}
	rmdir(dir);
	return 0;
}
