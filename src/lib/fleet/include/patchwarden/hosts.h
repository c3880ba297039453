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

struct cJSON;

/* A record's fields, in CSV and table order. The editable ones come
 * first; the rest are reported by the agent or kept by the store. */
typedef enum pw_host_field {
	PW_HF_HOSTNAME = 0, /* RFC 1123 name, stored in lower case */
	PW_HF_LOCATION,     /* free text */
	PW_HF_PURPOSE,      /* free text */
	PW_HF_CATEGORY,     /* core, security, file-print, mail, application, database, web */
	PW_HF_OWNER_GROUP,  /* free text */
	PW_HF_APP_OWNER,    /* free text */
	PW_HF_CRITICALITY,  /* 1 (least) .. 5 (most critical) */
	PW_HF_EXPOSURE,     /* internet, internal, isolated */
	PW_HF_ENVIRONMENT,  /* test, production */
	PW_HF_MAINT_WINDOW, /* "Sun 01:00-04:00", "Mon-Fri 22:00-02:00", "daily 03:00-04:00",
			     * "always" (UTC; window.h) */
	PW_HF_BACKUP_CHECK, /* a command that proves the backup is readable */
	PW_HF_HEALTH_CHECK, /* http(s)://URL, tcp:HOST:PORT or command:/abs/path ARGS */
	PW_HF_LAST_PATCHED, /* "YYYY-MM-DD" or a UTC timestamp; stored as a timestamp */
	PW_HF_TICKET,       /* current change ticket, free text */
	PW_HF_AGENT_ID,
	PW_HF_OS_ID,
	PW_HF_OS_VERSION_ID,
	PW_HF_OS_PRETTY_NAME,
	PW_HF_ARCH,
	PW_HF_KERNEL,
	PW_HF_LAST_SEEN,
	PW_HF_CREATED,
	PW_HF_UPDATED,
	PW_HF_MACHINE_ID,
	PW_HF_OS_CODENAME,
	PW_HF_INVENTORY_HASH,
	PW_HF_INVENTORY_AT,
	PW_HF_INVENTORY_REFUSED, /* why the agent's inventory was refused (checkin.h) */
	PW_HF_DECOMMISSIONED,    /* when the host was decommissioned, NULL while in service */
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

/* The one check of a host name, for every writer (host add and set, CSV
 * import, enrollment and re-key): RFC 1123 labels (letters, digits, '-'
 * inside, 1 to 63 each), 253 characters in all; *out gets it in lower case
 * (the caller frees it). With `db`, the name must also be free: another
 * host than `self` (0: none) holding it in any case is PW_ERR_CONFLICT. */
pw_err pw_host_name_check(pw_db *db, const char *value, int64_t self, char **out, pw_error *err);

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

/* Whether the host's findings can be trusted to be complete (coverage.h
 * computes it): unknown until pw_host_coverage_set filled it in. */
typedef enum pw_host_coverage {
	PW_COVERAGE_UNKNOWN = 0,
	PW_COVERAGE_COVERED,        /* inventory, feed for its release, newest snapshot */
	PW_COVERAGE_NEVER_REPORTED, /* no inventory yet */
	PW_COVERAGE_NO_FEED,        /* the feed store has no advisories for its release */
	PW_COVERAGE_STALE,          /* no check-in for too many check-in intervals */
	PW_COVERAGE_PENDING,        /* findings not yet computed against the newest snapshot */
	PW_COVERAGE__COUNT
} pw_host_coverage;

typedef struct pw_host {
	int64_t id;
	char *f[PW_HF__COUNT]; /* text of each field, NULL when unset */
	int64_t open_findings[PW_HOST_PRIO__COUNT];
	int64_t open_jobs; /* queued or leased */
	/* The feed snapshot and the inventory its findings were last computed
	 * from (0 / NULL: never), and its coverage once set (coverage.h). */
	int64_t findings_snapshot;
	char *findings_inventory;
	pw_host_coverage coverage;
	char coverage_detail[128];
} pw_host;

/* clang-format off */
#define PW_HOST_INIT {0, {NULL}, {0}, 0, 0, NULL, PW_COVERAGE_UNKNOWN, {0}}
/* clang-format on */
void pw_host_release(pw_host *h);

typedef struct pw_host_list {
	pw_host *v;
	size_t n, cap;
} pw_host_list;

/* clang-format off */
#define PW_HOST_LIST_INIT {NULL, 0, 0}
/* clang-format on */
void pw_host_list_release(pw_host_list *l);

/* The record as JSON, the one shape of the CLI's --json and the API
 * (docs/api.md, "Records"): "id", "hostname", "machine_id", "agent_id",
 * "os" {"id", "version_id", "codename", "pretty_name"}, "arch", "kernel",
 * "created", "last_seen", "inventory" {"hash", "at", "refused"}, the editable fields
 * from "location" to "ticket" (strings or null; criticality a number),
 * "updated", "decommissioned" (a timestamp or null), "open_findings"
 * {"emergency": n, ...}, "open_jobs" and "coverage" {"state", "detail"}
 * (null while PW_COVERAGE_UNKNOWN). NULL
 * when out of memory; the caller frees it with cJSON_Delete. */
struct cJSON *pw_host_to_json(const pw_host *h);

/* The patch policy: every server patched at least this often. */
#define PW_HOST_PATCH_POLICY_DAYS 90

/* Which hosts a list takes by their decommissioning. */
typedef enum pw_host_decom {
	PW_HOST_IN_SERVICE = 0, /* the default: decommissioned hosts are left out */
	PW_HOST_DECOMMISSIONED, /* only those */
	PW_HOST_ANY             /* both */
} pw_host_decom;

/* "false" (in service), "true" (decommissioned) or "any". */
bool pw_host_decom_parse(const char *s, pw_host_decom *out);

/* NULL/0/false members do not filter (but see `decom`). */
typedef struct pw_host_filter {
	const char *category, *exposure, *environment, *owner_group;
	int min_criticality; /* 1..5; 0: any */
	bool overdue;        /* last patched before the policy's 90 days, or never */
	int64_t stale_days;  /* > 0: last seen more than this many days ago, or never */
	pw_host_decom decom;
} pw_host_filter;

/* clang-format off */
#define PW_HOST_FILTER_INIT {NULL, NULL, NULL, NULL, 0, false, 0, PW_HOST_IN_SERVICE}
/* clang-format on */

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
pw_err pw_host_create(pw_db *db, const char *actor, const char *hostname, const pw_host_assign *a,
		      size_t n, int64_t *id, pw_error *err);

/* Appends the hosts matching `f` (NULL: all) to `out`, by hostname.
 * Filter values are checked as pw_host_value_check does. */
pw_err pw_host_list_query(pw_db *db, const pw_host_filter *f, pw_host_list *out, pw_error *err);

/* Appends a page of the hosts matching `f` (NULL: all) to `out`, by id:
 * those after `after`, at most `limit` (1 or more). */
pw_err pw_host_page(pw_db *db, const pw_host_filter *f, int64_t after, int64_t limit,
		    pw_host_list *out, pw_error *err);

/* Applies the assignments to the host in one transaction, all or none,
 * audited as "host.set" with the fields that changed (no event when
 * nothing changed). *changed (may be NULL) gets whether anything did.
 * A rename onto another host's name (in any case) is PW_ERR_CONFLICT. */
pw_err pw_host_set(pw_db *db, const char *actor, const char *hostname, const pw_host_assign *a,
		   size_t n, bool *changed, pw_error *err);

/* ---- lifecycle (each in one transaction with its audit event) --------- */

/* Revokes the host's agent credentials (the live one and a re-key waiting
 * for approval): its next check-in is refused (401), and its leased jobs
 * are offered again to the agent that enrolls next, which re-keys the host
 * as an enrollment of a host without a live agent does (agents.h).
 * Audited as "agent.revoke" with the revoked agent ids; a host without a
 * live agent is PW_ERR_CONFLICT. `ref` names the host as
 * pw_host_get_by_name takes it ("id:N" or a hostname). */
pw_err pw_host_revoke_agent(pw_db *db, const char *actor, const char *ref, pw_error *err);

/* Takes a host out of service for good: revokes its agents as above,
 * cancels its queued and leased jobs (state "cancelled"), closes its open
 * findings (fixed_at now, closed_reason "decommissioned"; the rows stay
 * for the record) and marks it decommissioned, which leaves it out of
 * host lists by default and out of findings recomputes. Audited as
 * "host.decommission" with the counts and `note` (may be NULL). A host
 * decommissioned already is PW_ERR_CONFLICT; *id (may be NULL) gets the
 * host's id. An enrollment of its machine is refused from now on. */
pw_err pw_host_decommission(pw_db *db, const char *actor, const char *ref, const char *note,
			    int64_t *id, pw_error *err);

/* Removes a decommissioned host and everything stored about it (agents,
 * jobs, job results, findings); the audit log keeps its history. Audited
 * as "host.delete" with the record as it was. A host in service is
 * PW_ERR_CONFLICT saying to decommission it first. */
pw_err pw_host_delete(pw_db *db, const char *actor, const char *ref, pw_error *err);

#endif
