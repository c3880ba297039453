/* The in-memory advisory index the scanner matches inventories against:
 * fixes by (ecosystem, package name, source or binary), advisories, and
 * KEV and EPSS by CVE. Built once (from the feed store, or straight from
 * feed parsers through its sink), then read by any number of scans, also
 * from several threads at once: lookups never modify the index.
 *
 * Everything added is copied into the index, so the records passed in may
 * be freed right after the call. Pointers the lookup functions return stay
 * valid until the index is changed again (add, load) or freed. */
#ifndef PATCHWARDEN_MATCHER_H
#define PATCHWARDEN_MATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/advisory.h"
#include "patchwarden/error.h"
#include "patchwarden/feed.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/inventory.h"
#include "patchwarden/vercmp.h"

typedef struct pw_advindex pw_advindex;

/* What the index knows about one CVE. */
typedef struct pw_index_cve {
	const char *id;
	bool kev;
	const char *kev_added; /* YYYY-MM-DD, NULL unless kev */
	const char *kev_due;   /* YYYY-MM-DD, NULL unless kev */
	bool kev_ransomware;
	double epss; /* < 0 when no score is known */
	double epss_percentile;
} pw_index_cve;

typedef struct pw_index_advisory {
	const char *id;
	const char *source;
	const char *published;   /* may be NULL */
	const char *summary;     /* may be NULL */
	const char *cvss_vector; /* may be NULL */
	pw_severity severity;
	pw_attack_vector attack_vector;
	const pw_index_cve *const *cves;
	size_t n_cves;
} pw_index_advisory;

/* One affected-package statement of one advisory. */
typedef struct pw_index_fix {
	const pw_index_advisory *adv;
	pw_fix_state state;
	const char *fixed;  /* PW_FIX_FIXED: the fixed version; else NULL */
	const char *note;   /* may be NULL */
	bool modular;       /* rpm: `fixed` is a module build (".module+el8", ".module_el8") */
	pw_deb_version deb; /* deb ecosystems, PW_FIX_FIXED: `fixed` parsed once */
} pw_index_fix;

/* The fixes of one (ecosystem, package name, by_source) key, with what
 * the index learnt about that package's module streams. */
typedef struct pw_index_package {
	const char *ecosystem;
	const char *name;
	bool by_source;
	/* rpm modules: how many leading version components name a stream
	 * ("postgresql:12" -> 1, "nginx:1.14" -> 2), learnt from advisory
	 * summaries that name the module stream; 0 when unknown. */
	unsigned stream_depth;
	/* False while the fixes of each advisory are adjacent in `fixes`
	 * (merging more statements into an earlier advisory can break that). */
	bool interleaved;
	const pw_index_fix *fixes; /* n_fixes of them, in the order added, in one
				    * array: a scan walks them without cache misses */
	size_t n_fixes;
} pw_index_package;

typedef struct pw_advindex_stats {
	size_t advisories;
	size_t packages; /* distinct (ecosystem, name, by_source) keys */
	size_t fixes;    /* affected statements kept */
	size_t cves;
	size_t kev, epss;
	size_t skipped;     /* statements refused (invalid version, no ecosystem, ...) */
	size_t warnings;    /* warnings the parsers sent through the sink */
	size_t arena_bytes; /* memory held by the index's records and fix arrays */
} pw_advindex_stats;

pw_err pw_advindex_new(pw_advindex **out, pw_error *err);
void pw_advindex_free(pw_advindex *idx);

/* Adds an advisory. The same (source, id) added again is merged into the
 * first: its new CVEs and affected statements are added, duplicates are
 * not. Statements the matcher cannot use (no ecosystem or package, a
 * fixed state without a version, a version the ecosystem's package tool
 * would refuse) are skipped with a warning; only lack of memory fails. */
pw_err pw_advindex_add(pw_advindex *idx, const pw_advisory *adv, pw_error *err);
pw_err pw_advindex_add_kev(pw_advindex *idx, const pw_kev_entry *e, pw_error *err);
pw_err pw_advindex_add_epss(pw_advindex *idx, const pw_epss_entry *e, pw_error *err);

/* Where skipped statements and the parsers' warnings are reported
 * (`where` names the advisory and package). Without a callback they are
 * only counted (stats.skipped). */
void pw_advindex_set_warn(pw_advindex *idx,
			  void (*warn)(void *ctx, const char *where, const char *message),
			  void *ctx);

/* A sink that feeds parser output straight into the index (no store). */
pw_feed_sink pw_advindex_sink(pw_advindex *idx);

/* Loads, from `snapshot` of the store, the advisories of `ecosystem` (of
 * only the packages `only_for` has installed, by binary and source name,
 * when it is not NULL), the whole KEV catalogue and the EPSS scores of the
 * CVEs loaded. Several ecosystems may be loaded into one index, each
 * once; loading one again does nothing. Records the snapshot: an index
 * holds one snapshot only, so loading from another one is an error. */
pw_err pw_advindex_load(pw_advindex *idx, pw_feedstore *store, int64_t snapshot,
			const char *ecosystem, const pw_inventory *only_for, pw_error *err);

/* With `defer` set, pw_advindex_load() leaves EPSS out: a single host
 * needs the scores of its findings' CVEs only, which
 * pw_advindex_load_epss() then fetches (pw_scan_from_store does both). */
void pw_advindex_defer_epss(pw_advindex *idx, bool defer);
/* Fetches the EPSS scores of these CVEs from the index's snapshot. */
pw_err pw_advindex_load_epss(pw_advindex *idx, pw_feedstore *store, const char *const *cves,
			     size_t n, pw_error *err);

/* The snapshot the index was loaded from, -1 when built from records. */
int64_t pw_advindex_snapshot(const pw_advindex *idx);
/* Whether the index holds statements of `ecosystem`, or was loaded from a
 * store that has advisories for it (none about the packages asked for). */
bool pw_advindex_has_ecosystem(const pw_advindex *idx, const char *ecosystem);
void pw_advindex_get_stats(const pw_advindex *idx, pw_advindex_stats *out);

/* The fixes for a package, NULL when the index has none. */
const pw_index_package *pw_advindex_lookup(const pw_advindex *idx, const char *ecosystem,
					   const char *name, bool by_source);
/* KEV and EPSS of a CVE, NULL when the index has neither. */
const pw_index_cve *pw_advindex_cve(const pw_advindex *idx, const char *cve);

/* True when an rpm version-release is a module build. */
bool pw_rpm_is_modular(const char *evr);
/* Whether two rpm versions are of the same module stream: their first
 * `depth` version components (after any epoch, before the release) are
 * equal. Depth 0 (unknown) counts as 1. */
bool pw_rpm_same_stream(const char *a, const char *b, unsigned depth);

#endif
