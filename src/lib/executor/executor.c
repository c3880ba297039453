/* PLACEHOLDER until wip/apt lands pw_executor_run (the backends): every
 * request is answered "not available in this build". Take wip/apt's
 * executor.c over this file at merge. */
#include "patchwarden/executor.h"

pw_err pw_executor_run(const pw_executor_conf *conf, const pw_exec_request *req,
		       pw_exec_result *res, pw_error *err)
{
	(void)conf;
	(void)err;
	return pw_exec_result_say(res, PW_EXEC_FAILED,
				  "%s: this build has no package-manager backend yet",
				  pw_exec_kind_name(req->kind));
}
