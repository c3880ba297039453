/* Version comparison speed on real version pairs, patchwarden side by side
 * with the native libraries in the same run:
 *   deb: libdpkg parseversion() + dpkg_version_compare(),
 *   rpm: librpm rpmvercmp() and rpmverParse() + rpmverCmp().
 * "parse+compare" rows start from the version strings each time, as a
 * scan does; "compare only" rows compare versions parsed beforehand.
 * Also counts heap allocations per comparison (malloc/calloc/realloc are
 * wrapped below) and checks that every implementation gives the same
 * answer on every pair.
 *
 * Pairs: the fixed versions of the Debian security tracker's DSA and DLA
 * lists and of the AlmaLinux OSV advisories, each against the previous
 * fixed version of the same package; plus the OSV-SCALIBR orderings of
 * real Debian and Red Hat versions. */
#define LIBDPKG_VOLATILE_API 1

#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "benchutil.h"
#include "patchwarden/fileio.h"
#include "patchwarden/vercmp.h"

#ifdef HAVE_LIBDPKG
#include <dpkg/dpkg-db.h>
#include <dpkg/dpkg.h>
#include <dpkg/version.h>
#endif
#ifdef HAVE_LIBRPM
#include <rpm/rpmver.h>
#endif

/* ---- allocation counting ---------------------------------------------
 * The program's own malloc, calloc and realloc count calls and hand the
 * work to glibc's allocator, so libdpkg and librpm are counted too. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
static size_t n_allocs;

void *malloc(size_t n)
{
	n_allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	n_allocs++;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	n_allocs++;
	return __libc_realloc(p, n);
}

static void die(const char *what)
{
	fprintf(stderr, "bench_vercmp: %s\n", what);
	exit(1);
}

/* ---- strings and pairs ----------------------------------------------- */

/* Copies of the version strings, freed together at the end. */
struct arena {
	char **blocks;
	size_t nblocks, used;
};
/* clang-format off */
#define ARENA_INIT {NULL, 0, 0}
/* clang-format on */
enum { ARENA_BLOCK = 1 << 16 };

static const char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	if (len + 1 > ARENA_BLOCK)
		die("version too long");
	if (!a->nblocks || a->used + len + 1 > ARENA_BLOCK) {
		char **b = realloc(a->blocks, (a->nblocks + 1) * sizeof *b);
		if (!b || !(b[a->nblocks] = malloc(ARENA_BLOCK)))
			die("out of memory");
		a->blocks = b;
		a->nblocks++;
		a->used = 0;
	}
	char *d = a->blocks[a->nblocks - 1] + a->used;
	memcpy(d, s, len);
	d[len] = '\0';
	a->used += len + 1;
	return d;
}

static void arena_release(struct arena *a)
{
	for (size_t i = 0; i < a->nblocks; i++)
		free(a->blocks[i]);
	free(a->blocks);
	*a = (struct arena)ARENA_INIT;
}

struct pairs {
	const char **a, **b;
	size_t n, cap;
};
/* clang-format off */
#define PAIRS_INIT {NULL, NULL, 0, 0}
/* clang-format on */

static void pairs_add(struct pairs *p, const char *a, const char *b)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 4096;
		p->a = realloc(p->a, p->cap * sizeof *p->a);
		p->b = realloc(p->b, p->cap * sizeof *p->b);
		if (!p->a || !p->b)
			die("out of memory");
	}
	p->a[p->n] = a;
	p->b[p->n] = b;
	p->n++;
}

static void pairs_release(struct pairs *p)
{
	free(p->a);
	free(p->b);
	*p = (struct pairs)PAIRS_INIT;
}

/* (package, fixed version) in the order the data lists them. */
struct fix {
	const char *name, *version;
	size_t seq;
};
struct fixes {
	struct fix *v;
	size_t n, cap;
};
/* clang-format off */
#define FIXES_INIT {NULL, 0, 0}
/* clang-format on */

static void fixes_add(struct fixes *f, const char *name, const char *version)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 4096;
		f->v = realloc(f->v, f->cap * sizeof *f->v);
		if (!f->v)
			die("out of memory");
	}
	f->v[f->n] = (struct fix){name, version, f->n};
	f->n++;
}

static int fix_order(const void *x, const void *y)
{
	const struct fix *a = x, *b = y;
	int c = strcmp(a->name, b->name);
	return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/* Each fixed version against the previous one of the same package. */
static void pair_adjacent(struct fixes *f, struct pairs *out)
{
	qsort(f->v, f->n, sizeof *f->v, fix_order);
	for (size_t i = 1; i < f->n; i++)
		if (!strcmp(f->v[i].name, f->v[i - 1].name))
			pairs_add(out, f->v[i - 1].version, f->v[i].version);
	free(f->v);
	*f = (struct fixes)FIXES_INIT;
}

static void read_whole(const char *path, pw_buf *b)
{
	pw_error e = PW_ERROR_INIT;
	if (pw_read_file(path, b, 0, &e) != PW_OK)
		die(pw_error_text(&e));
}

/* Debian tracker lists: "\t[release] - package version". */
static void tracker_fixes(const char *path, struct arena *ar, struct fixes *out)
{
	pw_buf b = PW_BUF_INIT;
	read_whole(path, &b);
	for (char *line = b.data; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *dash = line[0] == '\t' && line[1] == '[' ? strstr(line, "] - ") : NULL;
		if (dash) {
			char *name = dash + 4, *sp = strchr(name, ' ');
			if (sp && sp[1] && sp[1] != '<') { /* skip <not-affected>, <unfixed>, ... */
				char *ver = sp + 1;
				size_t vlen = strcspn(ver, " \t");
				fixes_add(out, arena_strndup(ar, name, (size_t)(sp - name)),
					  arena_strndup(ar, ver, vlen));
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	pw_buf_release(&b);
}

/* OSV-SCALIBR orderings: "a op b" lines of real versions. */
static void ordering_pairs(const char *path, struct arena *ar, struct pairs *out)
{
	pw_buf b = PW_BUF_INIT;
	read_whole(path, &b);
	for (char *line = b.data; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char a[256], op[8], c[256];
		if (line[0] != '#' && sscanf(line, "%255s %7s %255s", a, op, c) == 3)
			pairs_add(out, arena_strndup(ar, a, strlen(a)),
				  arena_strndup(ar, c, strlen(c)));
		line = nl ? nl + 1 : NULL;
	}
	pw_buf_release(&b);
}

static int name_order(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* AlmaLinux OSV: affected[].package.name and ranges[].events[].fixed. */
static void osv_fixes(const char *dir, struct arena *ar, struct fixes *out)
{
	DIR *d = opendir(dir);
	if (!d)
		die("cannot open the AlmaLinux OSV directory");
	char **names = NULL;
	size_t n = 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (!strstr(de->d_name, ".json"))
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		if (!names || !(names[n] = strdup(de->d_name)))
			die("out of memory");
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof *names, name_order);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path)
			die("path too long");
		pw_buf b = PW_BUF_INIT;
		read_whole(path, &b);
		cJSON *root = cJSON_ParseWithLength(b.data, b.len);
		const cJSON *aff;
		cJSON_ArrayForEach(aff, cJSON_GetObjectItemCaseSensitive(root, "affected")) {
			const cJSON *pkg = cJSON_GetObjectItemCaseSensitive(aff, "package");
			const char *name = cJSON_GetStringValue(
				cJSON_GetObjectItemCaseSensitive(pkg, "name"));
			const cJSON *range, *ev;
			cJSON_ArrayForEach(range, cJSON_GetObjectItemCaseSensitive(aff, "ranges")) {
				cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(range,
											"events")) {
					const char *fixed = cJSON_GetStringValue(
						cJSON_GetObjectItemCaseSensitive(ev, "fixed"));
					if (name && fixed && *fixed)
						fixes_add(out,
							  arena_strndup(ar, name, strlen(name)),
							  arena_strndup(ar, fixed, strlen(fixed)));
				}
			}
		}
		cJSON_Delete(root);
		pw_buf_release(&b);
		free(names[i]);
	}
	free(names);
}

/* ---- the implementations --------------------------------------------- */

static struct pairs deb = PAIRS_INIT, rpm = PAIRS_INIT;
static struct arena strings = ARENA_INIT;
static pw_deb_version *pw_deb_a, *pw_deb_b;

static int sgn(int v)
{
	return (v > 0) - (v < 0);
}

/* One comparison of pair i as X_one(i); X_all(n) loops it over n pairs,
 * inlined, and returns a checksum so the work cannot be optimised away. */
#define DEFINE_ALL(x)                                                                              \
	static long x##_all(size_t n)                                                              \
	{                                                                                          \
		long sum = 0;                                                                      \
		for (size_t i = 0; i < n; i++)                                                     \
			sum += sgn(x##_one(i));                                                    \
		return sum;                                                                        \
	}

static int pw_deb_one(size_t i)
{
	return pw_deb_vercmp(deb.a[i], deb.b[i]);
}
DEFINE_ALL(pw_deb)

static int pw_deb_parsed_one(size_t i)
{
	return pw_deb_version_cmp(&pw_deb_a[i], &pw_deb_b[i]);
}
DEFINE_ALL(pw_deb_parsed)

static int pw_rpm_seg_one(size_t i)
{
	return pw_rpm_segcmp(rpm.a[i], rpm.b[i]);
}
DEFINE_ALL(pw_rpm_seg)

static int pw_rpm_evr_one(size_t i)
{
	return pw_rpm_vercmp(rpm.a[i], rpm.b[i]);
}
DEFINE_ALL(pw_rpm_evr)

static void prepare_pw_deb(void)
{
	pw_deb_a = malloc(deb.n * sizeof *pw_deb_a);
	pw_deb_b = malloc(deb.n * sizeof *pw_deb_b);
	if (!pw_deb_a || !pw_deb_b)
		die("out of memory");
	for (size_t i = 0; i < deb.n; i++)
		if (pw_deb_version_parse(deb.a[i], &pw_deb_a[i], NULL) ||
		    pw_deb_version_parse(deb.b[i], &pw_deb_b[i], NULL))
			die("a deb pair went bad after filtering");
}

#ifdef HAVE_LIBDPKG
static struct dpkg_version *dpkg_a, *dpkg_b;

static int dpkg_one(size_t i)
{
	struct dpkg_version x, y;
	struct dpkg_error e = DPKG_ERROR_INIT;
	/* Pairs were filtered to what dpkg accepts without a warning, so e
	 * never holds a message to free. */
	parseversion(&x, deb.a[i], &e);
	parseversion(&y, deb.b[i], &e);
	return dpkg_version_compare(&x, &y);
}
DEFINE_ALL(dpkg)

static int dpkg_parsed_one(size_t i)
{
	return dpkg_version_compare(&dpkg_a[i], &dpkg_b[i]);
}
DEFINE_ALL(dpkg_parsed)

static void prepare_dpkg(void)
{
	dpkg_a = malloc(deb.n * sizeof *dpkg_a);
	dpkg_b = malloc(deb.n * sizeof *dpkg_b);
	if (!dpkg_a || !dpkg_b)
		die("out of memory");
	for (size_t i = 0; i < deb.n; i++) {
		struct dpkg_error e = DPKG_ERROR_INIT;
		if (parseversion(&dpkg_a[i], deb.a[i], &e) ||
		    parseversion(&dpkg_b[i], deb.b[i], &e))
			die("libdpkg refused a filtered pair");
		/* Out of libdpkg's obstack, which every parse+compare pass empties. */
		struct dpkg_version *v[2] = {&dpkg_a[i], &dpkg_b[i]};
		for (int k = 0; k < 2; k++) {
			v[k]->version = arena_strndup(&strings, v[k]->version,
						      strlen(v[k]->version));
			v[k]->revision = arena_strndup(&strings, v[k]->revision,
						       strlen(v[k]->revision));
		}
	}
	nffreeall();
}

/* parseversion() copies into libdpkg's obstack; empty it between passes
 * so memory stays flat (the cost belongs to libdpkg's parse). */
static void dpkg_after_pass(void)
{
	nffreeall();
}
#endif

#ifdef HAVE_LIBRPM
static rpmver *rpm_a, *rpm_b;

static int librpm_seg_one(size_t i)
{
	return rpmvercmp(rpm.a[i], rpm.b[i]);
}
DEFINE_ALL(librpm_seg)

static int librpm_evr_one(size_t i)
{
	rpmver x = rpmverParse(rpm.a[i]), y = rpmverParse(rpm.b[i]);
	int r = rpmverCmp(x, y);
	rpmverFree(x);
	rpmverFree(y);
	return r;
}
DEFINE_ALL(librpm_evr)

static int librpm_evr_parsed_one(size_t i)
{
	return rpmverCmp(rpm_a[i], rpm_b[i]);
}
DEFINE_ALL(librpm_evr_parsed)

static void prepare_librpm(void)
{
	rpm_a = malloc(rpm.n * sizeof *rpm_a);
	rpm_b = malloc(rpm.n * sizeof *rpm_b);
	if (!rpm_a || !rpm_b)
		die("out of memory");
	for (size_t i = 0; i < rpm.n; i++)
		if (!(rpm_a[i] = rpmverParse(rpm.a[i])) || !(rpm_b[i] = rpmverParse(rpm.b[i])))
			die("librpm refused a pair");
}
#endif

struct impl {
	const char *name, *work;
	const struct pairs *pairs;
	int ref;                  /* row this one is measured against; itself for references */
	int (*one)(size_t i);     /* for checking answers */
	long (*all)(size_t n);    /* for timing */
	void (*after_pass)(void); /* between passes, timed */
	double ns;
	double allocs;
};

static volatile long sink;

/* CPU time of this process: the machine is shared, and wall time would
 * count the moments other programs had the CPU. */
static double cpu_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void run_pass(const struct impl *im)
{
	sink += im->all(im->pairs->n);
	if (im->after_pass)
		im->after_pass();
}

/* Counts allocations over one pass and sizes a trial to ~100 ms. */
static size_t calibrate(struct impl *im)
{
	size_t before = n_allocs;
	run_pass(im);
	im->allocs = (double)(n_allocs - before) / (double)im->pairs->n;
	double t0 = cpu_now_ns();
	run_pass(im);
	double once = cpu_now_ns() - t0;
	im->ns = INFINITY;
	return (size_t)(100e6 / (once > 1 ? once : 1)) + 1;
}

/* Trials take turns across the implementations, so that a disturbance
 * (caches shared with other programs) hits all of them, and the best of
 * the trials is the figure least disturbed. */
static void measure(struct impl *impls, int n)
{
	size_t reps[16];
	for (int i = 0; i < n; i++)
		reps[i] = calibrate(&impls[i]);
	for (int trial = 0; trial < 7; trial++) {
		for (int i = 0; i < n; i++) {
			double t0 = cpu_now_ns();
			for (size_t r = 0; r < reps[i]; r++)
				run_pass(&impls[i]);
			double ns = (cpu_now_ns() - t0) / (double)(reps[i] * impls[i].pairs->n);
			if (ns < impls[i].ns)
				impls[i].ns = ns;
		}
	}
}

/* Every implementation must agree with its reference on every pair. */
static size_t disagreements(const struct impl *im, const struct impl *ref)
{
	size_t bad = 0;
	if (im == ref)
		return 0;
	for (size_t i = 0; i < im->pairs->n; i++)
		if (sgn(im->one(i)) != sgn(ref->one(i)))
			bad++;
	if (ref->after_pass)
		ref->after_pass();
	return bad;
}

int main(void)
{
	const char *data = bench_shared_data();
	char path[4096];
	struct fixes fx = FIXES_INIT;
	struct pairs raw = PAIRS_INIT;

	/* deb: tracker fixes in sequence, then the OSV orderings. */
	static const char *const tracker_lists[] = {"DSA", "DLA"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/debian-security-tracker/data/%s/list", data,
			 tracker_lists[i]);
		tracker_fixes(path, &strings, &fx);
	}
	pair_adjacent(&fx, &raw);
	size_t tracker_pairs = raw.n;
	static const char *const deb_orderings[] = {"debian-versions.txt",
						    "debian-versions-generated.txt"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/version-vectors/osv-scalibr-semantic/%s", data,
			 deb_orderings[i]);
		ordering_pairs(path, &strings, &raw);
	}
	/* Keep what dpkg accepts without a warning, so both sides do the
	 * same, normal work. */
	size_t dropped = 0;
	for (size_t i = 0; i < raw.n; i++) {
		pw_deb_version x, y;
		if (pw_deb_version_parse(raw.a[i], &x, NULL) == PW_OK && !x.warning &&
		    pw_deb_version_parse(raw.b[i], &y, NULL) == PW_OK && !y.warning)
			pairs_add(&deb, raw.a[i], raw.b[i]);
		else
			dropped++;
	}
	pairs_release(&raw);
	printf("deb pairs: %zu (%zu Debian tracker DSA/DLA fixed versions against the previous fix "
	       "of the "
	       "same source package, %zu OSV-SCALIBR orderings; %zu dropped as refused or warned "
	       "about by "
	       "dpkg)\n",
	       deb.n, tracker_pairs, deb.n + dropped - tracker_pairs, dropped);

	/* rpm: AlmaLinux 8 and 9 fixes in sequence, then the OSV orderings. */
	static const char *const alma[] = {"almalinux8", "almalinux9"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/almalinux-osv/advisories/%s", data, alma[i]);
		osv_fixes(path, &strings, &fx);
	}
	pair_adjacent(&fx, &rpm);
	size_t alma_pairs = rpm.n;
	snprintf(path, sizeof path, "%s/version-vectors/osv-scalibr-semantic/redhat-versions.txt",
		 data);
	ordering_pairs(path, &strings, &rpm);
	printf("rpm pairs: %zu (%zu AlmaLinux OSV fixed versions against the previous fix of the "
	       "same "
	       "package, %zu OSV-SCALIBR orderings)\n\n",
	       rpm.n, alma_pairs, rpm.n - alma_pairs);
	if (!deb.n || !rpm.n)
		die("no version pairs found: is PW_SHARED_DATA right?");

	prepare_pw_deb();
	/* Each patchwarden row is measured against the library row before it;
	 * without the library it is its own reference. */
	struct impl impls[9];
	int n = 0;
#define ADD(label, work_, pairs_, ref_, x, after)                                                  \
	(impls[n] = (struct impl){label, work_, &pairs_, ref_, x##_one, x##_all, after, 0, 0}, n++)
	int deb_parse_ref = n;
#ifdef HAVE_LIBDPKG
	prepare_dpkg();
	ADD("libdpkg parseversion x2 + dpkg_version_compare", "parse+compare", deb, n, dpkg,
	    dpkg_after_pass);
#endif
	int pw_deb_row = n;
	ADD("patchwarden pw_deb_vercmp", "parse+compare", deb, deb_parse_ref, pw_deb, NULL);
	int deb_cmp_ref = n;
#ifdef HAVE_LIBDPKG
	ADD("libdpkg dpkg_version_compare", "compare only", deb, n, dpkg_parsed, NULL);
#endif
	ADD("patchwarden pw_deb_version_cmp", "compare only", deb, deb_cmp_ref, pw_deb_parsed,
	    NULL);
	int seg_ref = n;
#ifdef HAVE_LIBRPM
	prepare_librpm();
	ADD("librpm rpmvercmp", "one component", rpm, n, librpm_seg, NULL);
#endif
	ADD("patchwarden pw_rpm_segcmp", "one component", rpm, seg_ref, pw_rpm_seg, NULL);
	int evr_ref = n;
#ifdef HAVE_LIBRPM
	ADD("librpm rpmverParse x2 + rpmverCmp", "parse+compare EVR", rpm, n, librpm_evr, NULL);
#endif
	ADD("patchwarden pw_rpm_vercmp", "parse+compare EVR", rpm, evr_ref, pw_rpm_evr, NULL);
#ifdef HAVE_LIBRPM
	ADD("librpm rpmverCmp", "compare only EVR", rpm, n, librpm_evr_parsed, NULL);
#endif
#undef ADD
	size_t total_bad = 0;
	for (int i = 0; i < n; i++) {
		size_t bad = disagreements(&impls[i], &impls[impls[i].ref]);
		if (bad)
			printf("DISAGREE: %s and %s differ on %zu pairs\n", impls[i].name,
			       impls[impls[i].ref].name, bad);
		total_bad += bad;
	}
	measure(impls, n);

	printf("%-48s %-18s %7s %8s %9s %11s\n", "impl", "work", "pairs", "ns/cmp*", "relative",
	       "allocs/cmp");
	for (int i = 0; i < n; i++) {
		const struct impl *im = &impls[i];
		char rel[16];
		if (im->ref == i)
			snprintf(rel, sizeof rel, "1.00 ref");
		else
			snprintf(rel, sizeof rel, "%.2fx", im->ns / impls[im->ref].ns);
		printf("%-48s %-18s %7zu %8.1f %9s %11.3f\n", im->name, im->work, im->pairs->n,
		       im->ns, rel, im->allocs);
	}
	/* The bar set for patchwarden: its parse+compare from strings against
	 * libdpkg's compare alone, on versions libdpkg parsed beforehand. */
#ifdef HAVE_LIBDPKG
	printf("\npatchwarden pw_deb_vercmp (parse+compare) vs libdpkg dpkg_version_compare "
	       "(compare only): %.2fx\n",
	       impls[pw_deb_row].ns / impls[deb_cmp_ref].ns);
#endif
	printf("* CPU time per comparison, best of 7 trials of ~100 ms\n");
	/* patchwarden promises comparisons without heap allocation. */
	for (int i = 0; i < n; i++) {
		if (!strncmp(impls[i].name, "patchwarden", 11) && impls[i].allocs > 0) {
			printf("ALLOCATES: %s makes %.3f allocations per comparison\n",
			       impls[i].name, impls[i].allocs);
			total_bad++;
		}
	}
	printf("answers: %s\n",
	       total_bad ? "DISAGREE (see above)" : "every implementation agrees on every pair");
	printf("peak RSS: %ld KiB\n", bench_peak_rss_kib());

#ifdef HAVE_LIBRPM
	for (size_t i = 0; i < rpm.n; i++) {
		rpmverFree(rpm_a[i]);
		rpmverFree(rpm_b[i]);
	}
	free(rpm_a);
	free(rpm_b);
#endif
#ifdef HAVE_LIBDPKG
	free(dpkg_a);
	free(dpkg_b);
	nffreeall();
#endif
	free(pw_deb_a);
	free(pw_deb_b);
	pairs_release(&deb);
	pairs_release(&rpm);
	arena_release(&strings);
	return total_bad ? 1 : 0;
}
