/* Advisory records as importers produce them and the store and matcher
 * consume them. Borrowed views: every pointer is owned by whoever emits
 * the record and is valid only during the call that passes it. */
#ifndef PATCHWARDEN_ADVISORY_H
#define PATCHWARDEN_ADVISORY_H

#include <stdbool.h>
#include <stddef.h>

/* What the distro says about one package in one release. Only FIXED
 * with a fixed version newer than installed is a missing patch; the
 * others are reported separately or not at all (DESIGN.md §4). */
typedef enum pw_fix_state {
	PW_FIX_FIXED = 0, /* fixed in `fixed` (Debian "fixed", UCT "released") */
	PW_FIX_UNFIXED =
		1, /* affected, no fix yet (UCT needed/pending/deferred, Debian <unfixed>) */
	PW_FIX_NOT_AFFECTED = 2, /* Debian <not-affected>, UCT not-affected */
	PW_FIX_DNE = 3,          /* package does not exist in that release */
	PW_FIX_IGNORED = 4,      /* distro will not fix (end of life, minor) */
} pw_fix_state;

const char *pw_fix_state_name(pw_fix_state s); /* "fixed", "unfixed", ... */

/* CVSS attack vector, the "remote vs local" of the triage rules. */
typedef enum pw_attack_vector {
	PW_AV_UNKNOWN = 0,
	PW_AV_NETWORK = 1,
	PW_AV_ADJACENT = 2,
	PW_AV_LOCAL = 3,
	PW_AV_PHYSICAL = 4,
} pw_attack_vector;

/* Normalised severity, the distro's own rating where it has one. */
typedef enum pw_severity {
	PW_SEV_UNKNOWN = 0,
	PW_SEV_NEGLIGIBLE = 1,
	PW_SEV_LOW = 2,
	PW_SEV_MEDIUM = 3,
	PW_SEV_HIGH = 4,
	PW_SEV_CRITICAL = 5,
} pw_severity;

const char *pw_severity_name(pw_severity s);
/* Accepts distro spellings: "Important"/"Moderate" (Red Hat), "medium",
 * "negligible", "untriaged", ... Unknown words give PW_SEV_UNKNOWN. */
pw_severity pw_severity_from_text(const char *s);
/* From a CVSS v2/v3/v4 vector ("CVSS:3.1/AV:N/..." or "AV:N/AC:L/..."). */
pw_attack_vector pw_attack_vector_from_cvss(const char *vector);
const char *pw_attack_vector_name(pw_attack_vector av);

typedef struct pw_affected {
	const char *ecosystem; /* normalised, see ecosystem.h: "debian:11", "almalinux:8" */
	const char *package;   /* package name as the distro's data gives it */
	bool by_source;        /* `package` is a source package (Debian, Ubuntu) */
	pw_fix_state state;
	const char *fixed; /* fixed version for PW_FIX_FIXED, else NULL */
	const char *note;  /* distro's remark ("end of life"), may be NULL */
} pw_affected;

typedef struct pw_advisory {
	const char *id;     /* "DSA-5380-1", "ALSA-2023:1234", "CVE-2020-1234" (UCT) */
	const char *source; /* importer that produced it: "osv", "debian-list", "ubuntu-uct", ... */
	const char *published; /* ISO 8601 date or NULL */
	const char *modified;  /* ISO 8601 date or NULL */
	const char *summary;   /* one line, may be NULL */
	pw_severity severity;
	pw_attack_vector attack_vector;
	const char *cvss_vector; /* highest-version CVSS vector seen, may be NULL */
	const char *const *cves; /* CVE ids this advisory fixes (aliases/related/upstream) */
	size_t n_cves;
	const pw_affected *affected;
	size_t n_affected;
} pw_advisory;

/* CISA Known Exploited Vulnerabilities entry. */
typedef struct pw_kev_entry {
	const char *cve;
	const char *date_added; /* YYYY-MM-DD */
	const char *due_date;   /* YYYY-MM-DD */
	const char *vendor;
	const char *product;
	const char *name;
	bool ransomware; /* knownRansomwareCampaignUse == "Known" */
} pw_kev_entry;

/* FIRST EPSS score. */
typedef struct pw_epss_entry {
	const char *cve;
	double score;      /* probability 0..1 */
	double percentile; /* 0..1 */
} pw_epss_entry;

#endif
