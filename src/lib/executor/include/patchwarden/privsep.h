/* Privilege separation, the privileged side and the call across: in
 * `patchwarden-agent run` as root, a parent process keeps root and serves
 * the child's requests over a socketpair (privmsg.h); the child, which
 * does everything network and JSON, drops its privileges
 * (patchwarden/separate.h in the agent folder) and asks the parent only
 * through pw_privsep_call. The parent decodes each request, checks it
 * again (pw_exec_request_check with the scheme of the host's os-release)
 * and only then runs it (pw_executor_run); anything else is refused,
 * logged and answered with PW_EXEC_REFUSED. */
#ifndef PATCHWARDEN_PRIVSEP_H
#define PATCHWARDEN_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/error.h"
#include "patchwarden/execreq.h"
#include "patchwarden/executor.h"

/* Refused messages after which the parent closes the channel. */
#define PW_PRIVSEP_MAX_BAD 16

typedef struct pw_privsep_stats {
	size_t served;  /* requests checked and run */
	size_t refused; /* requests refused (decode or check) */
	bool clean;     /* the child closed the channel between messages */
	/* Why the channel ended: "the child closed the channel", "too many
	 * refused requests", a framing error. */
	char ended[PW_ERROR_MSG_MAX];
} pw_privsep_stats;

/* The package scheme ("deb", "rpm", "apk") of the system at `root` from
 * its os-release (ID, then ID_LIKE), or NULL when none is known. */
const char *pw_privsep_host_scheme(const char *root);

/* The parent's loop: reads a frame, decodes, checks, runs, replies, until
 * the child closes the channel, a frame is malformed (the stream is then
 * out of step) or PW_PRIVSEP_MAX_BAD requests were refused. Every refusal
 * is logged to stderr, escaped (log.h). `scheme` NULL: package requests
 * are refused. Never exits the process. */
void pw_privsep_serve(int fd, const pw_executor_conf *conf, const char *scheme,
		      pw_privsep_stats *stats);

/* The child's side: sends `req`, waits for the result. `res` must be
 * initialised; it is refilled. PW_ERR_IO when the parent is gone. */
pw_err pw_privsep_call(int fd, const pw_exec_request *req, pw_exec_result *res, pw_error *err);

#endif
