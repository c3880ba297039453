/* What the agent's privileged side may be asked to do, and what it
 * answers: typed records with fixed limits, so that the request the
 * unprivileged side sends (privsep.h) and the one a backend runs
 * (pkgmgr.h) are the same closed set. Names and versions are checked
 * against the ecosystem's grammar before anything runs; nothing here is
 * ever a shell string. */
#ifndef PATCHWARDEN_EXECREQ_H
#define PATCHWARDEN_EXECREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/buf.h"
#include "patchwarden/error.h"
#include "patchwarden/runtime.h"

/* Wire values: append only. */
typedef enum pw_exec_kind {
	PW_EXEC_INVENTORY = 1,
	PW_EXEC_SIMULATE = 2,
	PW_EXEC_PATCH = 3,
	PW_EXEC_HOLD = 4,
	PW_EXEC_UNHOLD = 5,
	PW_EXEC_ROLLBACK = 6,
	PW_EXEC_REBOOT = 7,
	PW_EXEC_HEALTH = 8,       /* the configured health check */
	PW_EXEC_BACKUP_CHECK = 9, /* the configured backup-check command */
	PW_EXEC__END
} pw_exec_kind;

/* Request flags. */
#define PW_EXEC_ALL_SECURITY (1u << 0)      /* every security update, no package list */
#define PW_EXEC_ALLOW_REBOOT (1u << 1)      /* the job may reboot the host */
#define PW_EXEC_ALLOW_REMOVE (1u << 2)      /* the upgrade may remove packages */
#define PW_EXEC_CONFIGURE_PENDING (1u << 3) /* finish a half-configured dpkg first */
#define PW_EXEC_FLAGS_ALL (0xfu)

#define PW_EXEC_MAX_PACKAGES 512
#define PW_EXEC_NAME_MAX 128    /* longer than any real package name */
#define PW_EXEC_VERSION_MAX 128 /* longer than any real version */
#define PW_EXEC_LOG_MAX ((size_t)4 << 20)

typedef struct pw_exec_package {
	char name[PW_EXEC_NAME_MAX + 1];
	char version[PW_EXEC_VERSION_MAX + 1]; /* "": the newest candidate */
	/* version is a minimum (the fixed version of a source package, whose
	 * binaries may carry a binNMU suffix), not the exact one to install */
	bool at_least;
} pw_exec_package;

/* ~133 KiB: allocate it, don't put it on a stack. */
typedef struct pw_exec_request {
	pw_exec_kind kind;
	uint32_t flags;
	size_t n_packages;
	pw_exec_package packages[PW_EXEC_MAX_PACKAGES];
} pw_exec_request;

typedef enum pw_exec_status {
	PW_EXEC_DONE = 0,    /* did what was asked */
	PW_EXEC_FAILED = 1,  /* tried and failed: the log and message say where */
	PW_EXEC_REFUSED = 2, /* invalid or not allowed: nothing was run */
} pw_exec_status;

/* The package database afterwards. */
typedef enum pw_pkgdb_state {
	PW_PKGDB_UNKNOWN = 0,
	PW_PKGDB_CLEAN = 1,
	PW_PKGDB_HALF_CONFIGURED = 2, /* dpkg: unpacked or half-configured packages */
	PW_PKGDB_BROKEN = 3,          /* unmet dependencies, rpmdb errors */
} pw_pkgdb_state;

typedef enum pw_change_action {
	PW_CHANGE_INSTALL = 0,
	PW_CHANGE_UPGRADE = 1,
	PW_CHANGE_DOWNGRADE = 2,
	PW_CHANGE_REMOVE = 3,
	PW_CHANGE_HOLD = 4,
	PW_CHANGE_UNHOLD = 5,
	PW_CHANGE__END
} pw_change_action;

typedef struct pw_exec_change {
	char name[PW_EXEC_NAME_MAX + 1];
	char before[PW_EXEC_VERSION_MAX + 1]; /* "": not installed */
	char after[PW_EXEC_VERSION_MAX + 1];  /* "": removed (or not reached) */
	pw_change_action action;
	bool ok; /* reached `after` (simulate: would) */
} pw_exec_change;

typedef struct pw_exec_result {
	pw_exec_status status;
	int exit_code; /* of the package manager or check; -1 when none ran */
	bool resolves; /* simulate: the transaction resolves */
	bool needs_reboot;
	pw_pkgdb_state db_state;
	pw_exec_change *changes;
	size_t n_changes;
	char **services; /* units that need a restart */
	size_t n_services;
	pw_buf log; /* the package manager's or check's output, at most PW_EXEC_LOG_MAX */
	char message[PW_ERROR_MSG_MAX]; /* for the operator: what happened, what to do */
	/* inventory: what the running processes use (owned; NULL: none) */
	pw_runtime *runtime;
	size_t cap_changes, cap_services; /* private */
} pw_exec_result;

void pw_exec_result_init(pw_exec_result *r);
void pw_exec_result_release(pw_exec_result *r);
pw_err pw_exec_result_add_change(pw_exec_result *r, const pw_exec_change *c, pw_error *err);
pw_err pw_exec_result_add_service(pw_exec_result *r, const char *unit, pw_error *err);
/* Sets status and a printf-style message; returns PW_OK. */
pw_err pw_exec_result_say(pw_exec_result *r, pw_exec_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "patch" for PW_EXEC_PATCH (the job kinds' names); NULL when unknown. */
const char *pw_exec_kind_name(pw_exec_kind k);
/* The kind named `name`, or 0. */
pw_exec_kind pw_exec_kind_from_name(const char *name);
const char *pw_pkgdb_state_name(pw_pkgdb_state s);
const char *pw_change_action_name(pw_change_action a);

#endif
