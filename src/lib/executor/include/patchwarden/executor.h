/* The executor: runs one validated request (execreq.h) on this host and
 * says what happened. In `patchwarden-agent run` as root it is called only
 * by the privileged parent, after the request crossed the privilege
 * boundary (privsep) and was checked again there. Package kinds go to
 * the host's backend (pkgmgr.h); health and backup checks run the
 * commands of the agent's configuration, never ones from a request; an
 * inventory request is answered with the runtime facts (runtime.h) of
 * the system at `root`, which only root reads completely. */
#ifndef PATCHWARDEN_EXECUTOR_H
#define PATCHWARDEN_EXECUTOR_H

#include "patchwarden/error.h"
#include "patchwarden/execreq.h"

typedef struct pw_executor_conf {
	const char *root;    /* the system acted on: "/" (tests: an install root) */
	const char *backend; /* "apt", ...; NULL: chosen from root's os-release */
	/* [agent] health_check: "http://…", "https://…", "tcp:HOST:PORT" or
	 * "command:/abs/path ARG..."; NULL: none configured */
	const char *health_check;
	const char *backup_check; /* [agent] backup_check: "command:/abs/path ARG..." */
	unsigned timeout_s;       /* per program run (0: a default) */
	const char *bin_dir;      /* test hook of pkgmgr_ctx; NULL in production */
} pw_executor_conf;

/* Checks `req` (kind known, flags known, package names and versions in
 * the backend's ecosystem grammar, counts within limits) without running
 * anything: PW_ERR_INVALID names the field. */
pw_err pw_exec_request_check(const pw_exec_request *req, const char *ecosystem_scheme,
			     pw_error *err);

/* Runs `req`. PW_OK when `res` says what happened (a failed patch
 * included); an error only when nothing could be tried. */
pw_err pw_executor_run(const pw_executor_conf *conf, const pw_exec_request *req,
		       pw_exec_result *res, pw_error *err);

#endif
