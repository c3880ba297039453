/* The jobs queued for hosts: queuing one, and listing them as operators
 * see them, each with its newest result. Leasing is the check-in's
 * (checkin.h); the kinds are in jobkind.h. */
#ifndef PATCHWARDEN_JOBS_H
#define PATCHWARDEN_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/db.h"
#include "patchwarden/error.h"

struct cJSON;

#include "patchwarden/clock.h"

/* What to queue: `kind` from the job-kind table (jobkind.h), `args_json`
 * a JSON object its schema accepts, or NULL ({}). role: the users.h name
 * of the user who asks (the kind's queued_by and emergency_by apply);
 * NULL for the command line on the server, which may queue every kind. */
typedef struct pw_job_request {
	const char *actor, *role;
	int64_t host_id;
	const char *kind, *args_json;
} pw_job_request;

typedef struct pw_job_queued {
	int64_t id;
	bool emergency;
	/* The window the job may be leased in ("" for none): a job bound to
	 * the host's maintenance window queued inside it gets not_after (the
	 * window's end), one queued with "at_window" both. */
	char not_before[PW_TS_LEN], not_after[PW_TS_LEN];
} pw_job_queued;

/* Queues a job for a host. Before anything is stored:
 * - the arguments must pass the kind's schema (PW_ERR_INVALID);
 * - the role must be allowed: "emergency": true only by the kind's
 *   emergency_by roles, anything else by its queued_by (PW_ERR_AUTH,
 *   naming the roles that may);
 * - "packages" must all be installed per the host's stored inventory and
 *   of its ecosystem's grammar; "findings": [ids] must be open findings of
 *   the host and are stored as "packages" (the binaries to install and
 *   their fixed versions; binNMUs: see expand_findings in job_queue.c and
 *   protocol.md) plus "from_findings": [ids] (PW_ERR_INVALID);
 * - a kind bound to the maintenance window (jobkind.h "windowed": patch,
 *   rollback, reboot) is refused outside the host's window and on a host
 *   without one (PW_ERR_CONFLICT, naming the next window start and the
 *   ways out: "at_window": true queues it for that window, leased only
 *   inside it; "emergency": true runs it now).
 * "job.create" is audited with the job; a refusal of the window or of an
 * emergency is audited as "job.refuse". Called inside an open
 * transaction it joins it (the campaign driver records the job in the
 * same one); a refusal is then not audited, the caller rolls back. */
pw_err pw_job_queue(pw_db *db, const pw_job_request *r, pw_job_queued *out, pw_error *err);

/* The queued job as POST /api/v1/hosts/{id}/jobs and `host queue --json`
 * give it: {"job_id", "host_id", "kind", "state": "queued", "emergency",
 * "not_before", "not_after"}; NULL when out of memory. */
struct cJSON *pw_job_queued_to_json(const pw_job_queued *q, int64_t host_id, const char *kind);

/* pw_job_queue without a role (the command line on the server). */
pw_err pw_job_create(pw_db *db, const char *actor, int64_t host_id, const char *kind,
		     const char *args_json, int64_t *id, pw_error *err);

/* The server's deadlines, run by its scheduler: a reboot job leased
 * more than reboot_timeout seconds ago without a result (its host did not
 * come back and report) and a job whose window (not_after) closed before
 * an agent took it, or whose lease ran out after it closed, become
 * "failed" with a message, each audited as "job.fail" by `actor`.
 * *failed counts them. Times follow pw_window_now (window.h). */
pw_err pw_job_deadlines(pw_db *db, const char *actor, int64_t reboot_timeout, size_t *failed,
			pw_error *err);

#define PW_JOB_REBOOT_TIMEOUT 900

/* Unix seconds as the store's timestamps ("...T01:00:00.000Z"). */
void pw_job_ts(int64_t t, char out[PW_TS_LEN]);

typedef struct pw_job {
	int64_t id, host_id, attempts;
	char *kind, *args, *state, *created, *created_by, *leased_to, *lease_until, *finished;
	bool emergency;
	char *not_before, *not_after; /* the window it may be leased in; NULL: any time */
	char *message;                /* why the server failed it; NULL when it did not */
	/* The newest result; result_status NULL when there is none. */
	char *result_status, *result_received;
	bool has_exit_code;
	int64_t exit_code;
} pw_job;

typedef struct pw_job_list {
	pw_job *v;
	size_t n, cap;
} pw_job_list;

/* clang-format off */
#define PW_JOB_LIST_INIT {NULL, 0, 0}
/* clang-format on */
void pw_job_list_release(pw_job_list *l);

/* Appends host_id's jobs after job id `after`, at most `limit`, by id.
 * PW_ERR_NOTFOUND when there is no such host. */
pw_err pw_job_page(pw_db *db, int64_t host_id, int64_t after, int64_t limit, pw_job_list *out,
		   pw_error *err);

/* {"job_id", "kind", "args", "state", "created", "created_by", "leased_to",
 * "lease_until", "attempts", "finished", "emergency", "not_before",
 * "not_after", "message", "result": {"status", "exit_code", "received"} or
 * null}; NULL when out of memory. */
struct cJSON *pw_job_to_json(const pw_job *j);

/* One job with its newest result's output (the JSON the agent sent,
 * compacted; *output NULL when there is none or it had no output), which
 * the caller frees with free(), as *out with pw_job_release. host_id 0:
 * any host's; else PW_ERR_NOTFOUND unless the job is that host's. */
pw_err pw_job_get(pw_db *db, int64_t host_id, int64_t job_id, pw_job *out, char **output,
		  pw_error *err);
void pw_job_release(pw_job *j);

/* The job as `host job --json` and GET /api/v1/jobs/{id} show it:
 * pw_job_to_json's members, "host_id", and "output" in "result" (the
 * stored JSON, or null). NULL when out of memory. */
struct cJSON *pw_job_show_json(const pw_job *j, const char *output);

#endif
