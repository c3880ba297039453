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

/* Queues a job for a host: `kind` from the job-kind table (jobkind.h),
 * `args_json` a JSON object its schema accepts, or NULL ({}). The event
 * "job.create" is audited in the same transaction. */
pw_err pw_job_create(pw_db *db, const char *actor, int64_t host_id, const char *kind,
		     const char *args_json, int64_t *id, pw_error *err);

typedef struct pw_job {
	int64_t id, host_id, attempts;
	char *kind, *args, *state, *created, *created_by, *leased_to, *lease_until, *finished;
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
 * "lease_until", "attempts", "finished", "result": {"status", "exit_code",
 * "received"} or null}; NULL when out of memory. */
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
