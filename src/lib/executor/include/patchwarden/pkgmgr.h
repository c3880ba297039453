/* The package-manager backends (apt, dnf, zypper, apk): one interface,
 * one file each (pkgmgr_<name>.c), chosen from the host's os-release.
 * A backend builds argv arrays from a validated pw_exec_request and runs
 * them with pw_run (run.h); it parses what the package manager printed
 * into a pw_exec_result. Backends never see JSON or the network. */
#ifndef PATCHWARDEN_PKGMGR_H
#define PATCHWARDEN_PKGMGR_H

#include "patchwarden/error.h"
#include "patchwarden/execreq.h"
#include "patchwarden/run.h"

typedef struct pw_pkgmgr_ctx {
	/* The system to act on: "/" on a host; a test's install root (dnf
	 * --installroot, zypper --root; apt runs chrooted into it). */
	const char *root;
	unsigned timeout_s; /* per package-manager run */
	/* Test hook: a directory whose programs replace /usr/bin's (recorded
	 * outputs for apk); NULL in production. */
	const char *bin_dir;
} pw_pkgmgr_ctx;

typedef struct pw_pkgmgr {
	const char *name; /* "apt" */
	/* os-release IDs (ID or an ID_LIKE word) it serves, space-separated */
	const char *os_ids;
	/* simulate, patch, hold, unhold and rollback: req->kind says which;
	 * the request was validated (pw_exec_request_check). Returns PW_OK
	 * when the result says what happened (failed runs included); an error
	 * only when nothing could be run. */
	pw_err (*run)(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
		      pw_error *err);
	/* The package database's state now (for every job's result). */
	pw_pkgdb_state (*db_state)(const pw_pkgmgr_ctx *ctx, pw_buf *detail);
} pw_pkgmgr;

/* The backend for an os-release ID and ID_LIKE (either may be NULL), or
 * NULL when none serves it. */
const pw_pkgmgr *pw_pkgmgr_for_os(const char *id, const char *id_like);
/* By name ("apt"), or NULL. */
const pw_pkgmgr *pw_pkgmgr_find(const char *name);

#endif
