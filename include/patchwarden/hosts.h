/* The host inventory database of the case study: one record per server
 * with what its agent reports (OS, arch, kernel, last seen) and what
 * operators maintain (location, purpose, category, owners, criticality,
 * exposure, environment, maintenance window, backup check, last patched,
 * ticket), plus the open findings per priority.
 *
 * Operator fields are edited one by one (pw_host_set) or in bulk from
 * CSV (pw_host_import_csv); every change writes an audit event
 * "host.add", "host.set" or "host.import" with the changed fields before
 * and after, in the same transaction. Findings are not operator data:
 * pw_host_findings_replace stores what a scan found and is not audited.
 *
 * Tables: the hosts table of the server schema (schema.h, migration 4)
 * with the case-study columns and the findings table of migration 6. */
#ifndef PATCHWARDEN_HOSTS_H
#define PATCHWARDEN_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/buf.h"
#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/scan.h"

struct cJSON;

/* A record's fields, in CSV and table order. The editable ones come
 * first; the rest are reported by the agent or kept by the store. */
typedef enum pw_host_field {
	PW_HF_HOSTNAME = 0,   /* RFC 1123 name, stored in lower case */
	PW_HF_LOCATION,       /* free text */
	PW_HF_PURPOSE,        /* free text */
	PW_HF_CATEGORY,       /* core, security, file-print, mail, application, database, web */
	PW_HF_OWNER_GROUP,    /* free text */
	PW_HF_APP_OWNER,      /* free text */
	PW_HF_CRITICALITY,    /* 1 (least) .. 5 (most critical) */
	PW_HF_EXPOSURE,       /* internet, internal, isolated */
	PW_HF_ENVIRONMENT,    /* test, production */
	PW_HF_MAINT_WINDOW,   /* "Sun 01:00-04:00", "Mon-Fri 22:00-02:00", "daily 03:00-04:00" */
	PW_HF_BACKUP_CHECK,   /* a command that proves the backup is readable */
	PW_HF_LAST_PATCHED,   /* "YYYY-MM-DD" or a UTC timestamp; stored as a timestamp */
	PW_HF_TICKET,         /* current change ticket, free text */
	PW_HF_AGENT_ID,
	PW_HF_OS_ID,
	PW_HF_OS_VERSION_ID,
	PW_HF_OS_PRETTY_NAME,
	PW_HF_ARCH,
	PW_HF_KERNEL,
	PW_HF_LAST_SEEN,
	PW_HF_CREATED,
	PW_HF_UPDATED,
	PW_HF_INVENTORY_REFUSED, /* why the agent's inventory was refused (agents.h) */
	PW_HF__COUNT
} pw_host_field;

/* Fields below this one are editable (pw_host_set, CSV). */
#define PW_HF__EDITABLE (PW_HF_TICKET + 1)

/* The field's name in CSV headers, `set NAME=VALUE` and JSON
 * ("owner_group", "maintenance_window"). */
const char *pw_host_field_name(pw_host_field f);
/* Takes the names above in any case; '-' may stand for '_' ("Owner-Group"). */
bool pw_host_field_parse(const char *name, pw_host_field *out);

/* Checks `value` for an editable field and returns its stored form in
 * *out (the caller frees it; NULL for "", which clears the field):
 * hostnames in lower case, last_patched as "YYYY-MM-DDTHH:MM:SS.mmmZ".
 * The error names the field and the accepted values. */
pw_err pw_host_value_check(pw_host_field f, const char *value, char **out, pw_error *err);

/* Priorities of findings, most urgent first. */
typedef enum pw_host_prio {
	PW_HOST_PRIO_EMERGENCY = 0,
	PW_HOST_PRIO_HIGH,
	PW_HOST_PRIO_NORMAL,
	PW_HOST_PRIO_LOW,
	PW_HOST_PRIO__COUNT
} pw_host_prio;

const char *pw_host_prio_name(pw_host_prio p);
bool pw_host_prio_parse(const char *name, pw_host_prio *out);

typedef struct pw_host {
	int64_t id;
	char *f[PW_HF__COUNT];                 /* text of each field, NULL when unset */
	int64_t open_findings[PW_HOST_PRIO__COUNT];
} pw_host;

#define PW_HOST_INIT {0, {NULL}, {0}}
void pw_host_release(pw_host *h);

typedef struct pw_host_list {
	pw_host *v;
	size_t n, cap;
} pw_host_list;

#define PW_HOST_LIST_INIT {NULL, 0, 0}
void pw_host_list_release(pw_host_list *l);

/* The record as JSON, for the CLI's --json and the API: "id", every
 * field by name (a string or null; criticality a number) and
 * "open_findings" {"emergency": n, ...}. NULL when out of memory; the
 * caller frees it with cJSON_Delete. */
struct cJSON *pw_host_to_json(const pw_host *h);

/* The patch policy: every server patched at least this often. */
#define PW_HOST_PATCH_POLICY_DAYS 90

/* NULL/0/false members do not filter. */
typedef struct pw_host_filter {
	const char *category, *exposure, *environment, *owner_group;
	int min_criticality;   /* 1..5; 0: any */
	bool overdue;          /* last patched before the policy's 90 days, or never */
	int64_t stale_days;    /* > 0: last seen more than this many days ago, or never */
} pw_host_filter;

#define PW_HOST_FILTER_INIT {NULL, NULL, NULL, NULL, 0, false, 0}

/* PW_ERR_NOTFOUND when there is no such host. Where a hostname is
 * taken, "id:N" names host N instead; a hostname two hosts share (agents
 * that enrolled apart) is PW_ERR_INVALID naming both ids. */
pw_err pw_host_get(pw_db *db, int64_t id, pw_host *out, pw_error *err);
pw_err pw_host_get_by_name(pw_db *db, const char *hostname, pw_host *out, pw_error *err);

typedef struct pw_host_assign {
	pw_host_field field; /* an editable one */
	const char *value;   /* "" clears the field */
} pw_host_assign;

/* Enters a host before any agent runs on it (the standard server build
 * process) with the given fields, audited as one "host.add". A hostname
 * already present is PW_ERR_INVALID. */
pw_err pw_host_create(pw_db *db, const char *actor, const char *hostname,
		      const pw_host_assign *a, size_t n, int64_t *id, pw_error *err);

/* Appends the hosts matching `f` (NULL: all) to `out`, by hostname.
 * Filter values are checked as pw_host_value_check does. */
pw_err pw_host_list_query(pw_db *db, const pw_host_filter *f, pw_host_list *out, pw_error *err);

/* A page of the hosts matching `f` (NULL: all) by id: those after
 * `after`, at most `limit` (1 or more), for listings in another shape
 * than pw_host (the API's). `columns` is the SELECT list over the hosts
 * table aliased h ("h.id, h.hostname"); `row` gets each row and may stop
 * the listing by returning an error. */
typedef pw_err (*pw_host_row_fn)(void *ctx, pw_stmt *st, pw_error *err);
pw_err pw_host_page(pw_db *db, const char *columns, const pw_host_filter *f, int64_t after,
		    int64_t limit, pw_host_row_fn row, void *ctx, pw_error *err);

/* Applies the assignments to the host in one transaction, all or none,
 * audited as "host.set" with the fields that changed (no event when
 * nothing changed). *changed (may be NULL) gets whether anything did. */
pw_err pw_host_set(pw_db *db, const char *actor, const char *hostname, const pw_host_assign *a,
		   size_t n, bool *changed, pw_error *err);

/* ---- CSV ------------------------------------------------------------- */

/* A parsed and checked CSV file: RFC 4180 (quoted fields may hold
 * commas, quotes as "" and line breaks; CRLF or LF), a header row naming
 * editable fields, hostname required. Cells hold stored forms
 * (pw_host_value_check); NULL is an empty cell. */
typedef struct pw_host_csv {
	pw_host_field *cols; /* per column, from the header */
	size_t ncols;
	char **cells;        /* nrows * ncols */
	size_t *lines;       /* each row's first line in the file */
	size_t nrows, cap;
} pw_host_csv;

#define PW_HOST_CSV_INIT {NULL, 0, NULL, NULL, 0, 0}
void pw_host_csv_release(pw_host_csv *c);

/* Errors are "NAME:LINE:COLUMN: message" (column in bytes, 1-based).
 * Rows with a bad value or field count do not stop the parse: the
 * error is the first one's, followed by "; N more bad rows, on lines
 * L1, L2, ..." so one run names every line to fix. */
pw_err pw_host_csv_parse(const char *name, const char *data, size_t len, pw_host_csv *out,
			 pw_error *err);

typedef struct pw_host_import_stats {
	size_t rows, created, updated, unchanged;
} pw_host_import_stats;

/* Parses `data` and upserts every row by hostname in one transaction:
 * an invalid row aborts the import and nothing is written. Each new or
 * changed host gets a "host.import" audit event. */
pw_err pw_host_import_csv(pw_db *db, const char *actor, const char *name, const char *data,
			  size_t len, pw_host_import_stats *stats, pw_error *err);

/* Appends the editable fields of the hosts matching `f` as CSV with a
 * header row (CRLF line ends): what pw_host_import_csv reads back. */
pw_err pw_host_export_csv(pw_db *db, const pw_host_filter *f, pw_buf *out, pw_error *err);

/* ---- findings -------------------------------------------------------- */

/* One finding of a scan, as the matcher reports it. */
typedef struct pw_host_finding {
	const char *package;   /* binary package name */
	const char *advisory;  /* "DSA-5678-1", "ALSA-2024:1234", a CVE id */
	const char *installed; /* installed version */
	const char *fixed;     /* version that fixes it */
	pw_host_prio priority;
	const char *cves;      /* "CVE-2024-1,CVE-2024-2", may be "" */
} pw_host_finding;

typedef struct pw_host_findings_delta {
	size_t opened, kept, fixed;
} pw_host_findings_delta;

/* Makes `v` the host's open findings in one transaction: new ones open
 * with first_seen now, persisting ones (same package and advisory) keep
 * first_seen and take the new versions, priority and CVEs, and open ones
 * not in `v` get fixed_at now. The same (package, advisory) twice in `v`
 * is PW_ERR_INVALID. */
pw_err pw_host_findings_replace(pw_db *db, int64_t host_id, const pw_host_finding *v, size_t n,
				pw_host_findings_delta *delta, pw_error *err);

/* Open findings of a host per priority; of the whole fleet for host_id 0. */
pw_err pw_host_findings_count(pw_db *db, int64_t host_id, int64_t counts[PW_HOST_PRIO__COUNT],
			      pw_error *err);

/* ---- recomputing findings ---------------------------------------------- */

/* Scans one stored inventory (the inventories table: `hash` and its JSON
 * as the agent sent it) for hosts of the given exposure (the field's
 * value, NULL when unset) and returns its findings in *v / *n, which stay
 * valid until the next call. PW_ERR_UNSUPPORTED means "no data to scan
 * this inventory against" (an OS the feeds do not cover): its hosts keep
 * their findings. pw_host_matcher_scan below is the matcher (scan.h)
 * behind this interface; tests plug in their own. */
typedef pw_err (*pw_host_scan_fn)(void *ctx, const char *inventory_hash,
				  const char *inventory_json, const char *exposure,
				  const pw_host_finding **v, size_t *n, pw_error *err);

typedef struct pw_host_recompute_stats {
	size_t inventories; /* distinct inventories scanned */
	size_t hosts;       /* hosts whose findings were replaced */
	size_t skipped;     /* hosts whose inventory the scan could not cover (PW_ERR_UNSUPPORTED) */
	pw_host_findings_delta delta; /* summed over the hosts */
} pw_host_recompute_stats;

/* After a new feed snapshot: scans each distinct inventory of the fleet
 * once per exposure (priorities depend on it) and replaces the findings
 * of every host that has it (one transaction per host). Hosts without an
 * inventory keep theirs, and so do the skipped ones: one host of an OS
 * the feeds do not cover must not hold up the fleet. Any other error
 * stops the run; hosts done before it keep their new findings, so a
 * rerun completes it. */
pw_err pw_host_recompute_findings(pw_db *db, pw_host_scan_fn scan, void *ctx,
				  pw_host_recompute_stats *stats, pw_error *err);

/* After a host's inventory changed: the same for that one host.
 * PW_ERR_NOTFOUND when the host has no inventory yet; the scan's
 * PW_ERR_UNSUPPORTED is returned as it is. */
pw_err pw_host_recompute_host(pw_db *db, int64_t host_id, pw_host_scan_fn scan, void *ctx,
			      pw_host_findings_delta *delta, pw_error *err);

/* The matcher as a pw_host_scan_fn: `ctx` is a pw_host_matcher holding
 * an advisory index with the fleet's ecosystems (pw_advindex_load) and
 * the priority policy. Inventories whose OS the index has no data for
 * fail the run (a scan against no data would look clean). */
typedef struct pw_host_matcher {
	const pw_advindex *idx;
	const pw_policy *policy;
	/* private: the last scan, which *v points into */
	pw_inventory inv;
	pw_scan_result res;
	pw_host_finding *v;
	char **cves;
	size_t n;
} pw_host_matcher;

#define PW_HOST_MATCHER_INIT(idx, policy) \
	{(idx), (policy), PW_INVENTORY_INIT, PW_SCAN_RESULT_INIT, NULL, NULL, 0}
void pw_host_matcher_release(pw_host_matcher *m);
pw_err pw_host_matcher_scan(void *ctx, const char *inventory_hash, const char *inventory_json,
			    const char *exposure, const pw_host_finding **v, size_t *n,
			    pw_error *err);

#endif
