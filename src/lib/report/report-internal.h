/* What the report writers share: one finding of either document as the
 * writers read it, and the advisory and CVE links. */
#ifndef PATCHWARDEN_REPORT_INTERNAL_H
#define PATCHWARDEN_REPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/report.h"

/* A finding (or, from a scan's "unfixed", a vulnerability without a fix
 * yet: fixed NULL, state "unfixed-upstream"), pointing into the
 * document. */
struct rp_finding {
	const char *host;      /* hostname; NULL: unknown */
	const char *ecosystem; /* "debian:12"; NULL: unknown */
	const char *host_arch; /* the host's architecture (scan); NULL: unknown */
	const char *package, *installed, *fixed, *advisory, *advisory_source;
	const char *summary, *published, *severity, *priority, *reason, *state;
	const char *kev_cve, *kev_due, *epss_cve;
	const char *first_seen, *fixed_at;
	char due[11]; /* YYYY-MM-DD, "" when none */
	double epss;
	bool by_source, has_epss;
	const struct cJSON *cves;     /* array of strings */
	const struct cJSON *binaries; /* [{"name","version","arch"}] (scan), or NULL */
};

/* The document's head and findings. */
struct rp_doc {
	const struct cJSON *doc;
	bool scan;            /* a scan report (else a findings document) */
	const char *created;  /* "created" of the report head */
	const char *hostname; /* a scan's host; NULL otherwise or unknown */
	struct rp_finding *v; /* findings, then (scan) the unfixed ones */
	size_t n, n_findings;
};

pw_err rp_doc_read(const struct cJSON *doc, struct rp_doc *d, pw_error *err);
void rp_doc_release(struct rp_doc *d);

/* The purl of the finding's package: a source package is arch=source;
 * else the host's architecture when known. */
pw_err rp_purl(const struct rp_finding *f, const char *name, const char *version, const char *arch,
	       pw_buf *out, pw_error *err);

/* The finding's plain facts that every format carries as properties, in
 * order: hostname, package, installed, fixed, priority, due, state (NULL
 * values when unknown). */
#define RP_FACTS 7
struct rp_fact {
	const char *name, *value;
};
void rp_facts(const struct rp_finding *f, struct rp_fact out[RP_FACTS]);

/* A page that describes the advisory (the distribution's tracker), or a
 * CVE (NVD). */
void rp_advisory_url(const char *id, pw_buf *out);
/* The CVEs as one text, separated by `sep`. */
void rp_cves_text(const struct rp_finding *f, const char *sep, pw_buf *out);

/* cJSON helpers that keep going after a failure and remember it. */
struct rp_json {
	bool ok;
};
struct cJSON *rp_obj(struct rp_json *j, struct cJSON *parent, const char *key);
struct cJSON *rp_arr(struct rp_json *j, struct cJSON *parent, const char *key);
void rp_str(struct rp_json *j, struct cJSON *o, const char *key, const char *v);
void rp_num(struct rp_json *j, struct cJSON *o, const char *key, double v);
/* Prints `root` (indented) into `out` and deletes it. */
pw_err rp_print(struct rp_json *j, struct cJSON *root, pw_buf *out, const char *what,
		pw_error *err);

#endif
