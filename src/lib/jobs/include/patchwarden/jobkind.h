/* The one table of job kinds, shared by the server and the agent: the
 * server queues only a known kind, with arguments its schema accepts, for
 * a role the kind allows; the agent (and its privileged parent) runs only
 * kinds it finds here, with arguments that pass the same checks.
 * docs/protocol.md lists the kinds and their arguments. */
#ifndef PATCHWARDEN_JOBKIND_H
#define PATCHWARDEN_JOBKIND_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/error.h"
#include "patchwarden/vercmp.h"

struct cJSON;

/* How an argument's value is checked. */
typedef enum pw_job_arg_type {
	PW_JOB_ARG_BOOL,
	PW_JOB_ARG_STRING,
	PW_JOB_ARG_STRINGS, /* an array of strings */
	PW_JOB_ARG_TRUE,    /* true (a switch that is only ever set) */
	/* [{"name", "version"}, ...]: 1..PW_JOB_MAX_PACKAGES packages, each
	 * name and version of a package scheme's grammar (pkgname.h), a name
	 * at most once; an element may also carry "source" (a package name:
	 * the version is then that source package's, see protocol.md). */
	PW_JOB_ARG_PACKAGES,
	PW_JOB_ARG_NAMES, /* ["name", ...]: 1..PW_JOB_MAX_PACKAGES package names, distinct */
	PW_JOB_ARG_IDS,   /* [17, ...]: 1..PW_JOB_MAX_PACKAGES positive integers, distinct */
} pw_job_arg_type;

#define PW_JOB_MAX_PACKAGES 512

/* An argument only the server writes (the finding ids a "findings"
 * request was expanded from): refused in a request, accepted in the
 * stored arguments the agent receives. */
#define PW_JOB_ARG_SERVER 1u

typedef struct pw_job_arg {
	const char *name;
	pw_job_arg_type type;
	unsigned flags; /* PW_JOB_ARG_SERVER */
} pw_job_arg;

typedef struct pw_job_kind {
	const char *name;       /* "scan" */
	const char *summary;    /* for docs and errors */
	const pw_job_arg *args; /* the arguments it takes, ended by {NULL}; no others */
	/* The roles (users.h names, space-separated) that may queue it; the
	 * route's own roles apply first. */
	const char *queued_by;
	/* Exactly one of these arguments (space-separated names) must be
	 * given; NULL: no such rule. */
	const char *one_of;
	/* Roles that may set "emergency": true (the kind then needs no role
	 * of queued_by); NULL: the kind takes no "emergency". */
	const char *emergency_by;
	/* Bound to the host's maintenance window (jobs.h). */
	bool windowed;
} pw_job_kind;

/* The table, in the order docs list it. */
const pw_job_kind *pw_job_kinds(size_t *n);

/* The kind named `name`, or NULL. */
const pw_job_kind *pw_job_kind_find(const char *name);

/* "scan, inventory": the known kinds for messages. */
const char *pw_job_kind_names(void);

/* Whether the role named `role` may queue kind k. */
bool pw_job_kind_allows(const pw_job_kind *k, const char *role);

/* Checks `args` (an object, or NULL for none) against k's schema as the
 * agent receives them: PW_ERR_INVALID names the argument that is unknown,
 * of the wrong type, over a limit, or the one_of rule it breaks. Package
 * names and versions must be of some scheme's grammar. */
pw_err pw_job_args_check(const pw_job_kind *k, const struct cJSON *args, pw_error *err);

/* pw_job_args_check for a request: PW_JOB_ARG_SERVER arguments are
 * refused too. */
pw_err pw_job_args_check_request(const pw_job_kind *k, const struct cJSON *args, pw_error *err);

/* pw_job_args_check, and every package name and version of the
 * arguments of scheme s's grammar: what the agent's privileged parent
 * checks before it runs the package manager. */
pw_err pw_job_args_check_scheme(const pw_job_kind *k, const struct cJSON *args, pw_scheme s,
				pw_error *err);

/* Whether `role` may queue kind k with `args` (checked already): with
 * "emergency": true only the roles of emergency_by may, else those of
 * queued_by. PW_ERR_AUTH names the roles that may. */
pw_err pw_job_role_check(const pw_job_kind *k, const char *role, const struct cJSON *args,
			 pw_error *err);

/* Whether args has `name` set to true. */
bool pw_job_arg_true(const struct cJSON *args, const char *name);

#endif
