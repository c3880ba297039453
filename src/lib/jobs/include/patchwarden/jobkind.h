/* The one table of job kinds, shared by the server and the agent: the
 * server queues only a known kind, with arguments its schema accepts, for
 * a role the kind allows; the agent runs only kinds it finds here. The
 * executor's kinds (simulate, patch, hold, reboot, ...) are rows to add.
 * docs/protocol.md lists the kinds. */
#ifndef PATCHWARDEN_JOBKIND_H
#define PATCHWARDEN_JOBKIND_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/error.h"

struct cJSON;

/* How an argument's value is checked. */
typedef enum pw_job_arg_type {
	PW_JOB_ARG_BOOL,
	PW_JOB_ARG_STRING,
	PW_JOB_ARG_STRINGS, /* an array of strings */
} pw_job_arg_type;

typedef struct pw_job_arg {
	const char *name;
	pw_job_arg_type type;
} pw_job_arg;

typedef struct pw_job_kind {
	const char *name;       /* "scan" */
	const char *summary;    /* for docs and errors */
	const pw_job_arg *args; /* the arguments it takes, ended by {NULL}; no others */
	/* The roles (users.h names, space-separated) that may queue it; the
	 * route's own roles apply first. */
	const char *queued_by;
} pw_job_kind;

/* The table, in the order docs list it. */
const pw_job_kind *pw_job_kinds(size_t *n);

/* The kind named `name`, or NULL. */
const pw_job_kind *pw_job_kind_find(const char *name);

/* "scan, inventory": the known kinds for messages. */
const char *pw_job_kind_names(void);

/* Whether the role named `role` may queue kind k. */
bool pw_job_kind_allows(const pw_job_kind *k, const char *role);

/* Checks `args` (an object, or NULL for none) against k's schema:
 * PW_ERR_INVALID names the argument that is unknown or of the wrong type. */
pw_err pw_job_args_check(const pw_job_kind *k, const struct cJSON *args, pw_error *err);

#endif
