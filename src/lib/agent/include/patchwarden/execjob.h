/* The agent's side of the executor's jobs (simulate, patch, hold, unhold,
 * rollback, reboot, health, backup_check): the job's JSON arguments
 * become a typed pw_exec_request (strictly: an unknown member, a wrong
 * type or a name that is not a package name is refused, naming it), and
 * the pw_exec_result becomes the job's output JSON (docs/protocol.md,
 * "Executor job output"). The executor itself never sees JSON. */
#ifndef PATCHWARDEN_EXECJOB_H
#define PATCHWARDEN_EXECJOB_H

#include <stdbool.h>

#include "patchwarden/error.h"
#include "patchwarden/execreq.h"
#include "patchwarden/executor.h"

struct cJSON;

/* Fills *req (caller-allocated; ~133 KiB) from a job of kind `kind` with
 * arguments `args` (an object, or NULL for none). PW_ERR_INVALID names
 * the argument; "inventory" and "scan" are not executor kinds. */
pw_err pw_exec_request_from_json(const char *kind, const struct cJSON *args, pw_exec_request *req,
				 pw_error *err);

/* The job's output object (caller owns it), or NULL without memory:
 * {"kind","status","exit_code","message","resolves","needs_reboot",
 *  "db_state","packages":[{"name","action","before","after","result"}],
 *  "services":[...],"log"}. */
struct cJSON *pw_exec_result_to_json(const pw_exec_request *req, const pw_exec_result *res);

/* The job result's exit code for a status: 0 done, 1 failed, 2 refused. */
int pw_exec_status_exit(pw_exec_status st);
/* "done", "failed", "refused". */
const char *pw_exec_status_name(pw_exec_status st);

/* Runs a request somewhere: the one hook through which the agent runs
 * executor jobs. The default runs pw_executor_run in this process with
 * the pw_executor_conf `ctx` points to; the privilege-separated agent
 * sets one that sends the request to its privileged parent. */
typedef pw_err (*pw_exec_fn)(void *ctx, const pw_exec_request *req, pw_exec_result *res,
			     pw_error *err);

/* The default hook: ctx is a const pw_executor_conf *. */
pw_err pw_exec_in_process(void *ctx, const pw_exec_request *req, pw_exec_result *res,
			  pw_error *err);

#endif
