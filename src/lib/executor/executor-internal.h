/* The executor's own declarations: one backend object per
 * pkgmgr_<name>.c, listed in pkgmgr.c; the apt backend's output parsers
 * (unit-tested on recorded output in tests/data/apt/). */
#ifndef PATCHWARDEN_EXECUTOR_INTERNAL_H
#define PATCHWARDEN_EXECUTOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/pkgmgr.h"
#include "patchwarden/vercmp.h"

extern const pw_pkgmgr pw_pkgmgr_apt;

/* `apt-get -s install` output: each "Inst" and "Remv" line becomes a
 * change (install, upgrade, downgrade by dpkg order, remove). */
pw_err pw_apt_parse_simulate(const char *out, size_t len, pw_exec_result *res, pw_error *err);
/* `apt-get -s upgrade`: each upgrade from a "-security" suite (its
 * release "Debian-Security:12/stable-security") appended to req's
 * packages with its new version. */
pw_err pw_apt_security_upgrades(const char *out, size_t len, pw_exec_request *req, pw_error *err);
/* `apt-cache policy NAME`: the Candidate version; false for none. */
bool pw_apt_parse_candidate(const char *out, size_t len, char *cand, size_t size);
/* `apt-cache show NAME=VERSION`: the version of the source package the
 * binary was built from (the Source field's "(VERSION)", else the
 * binary's own Version); false when neither is there. */
bool pw_apt_source_version(const char *out, size_t len, char *version, size_t size);
/* `apt-cache madison NAME` lists `version`. */
bool pw_apt_madison_has(const char *out, size_t len, const char *version);
/* The first package dpkg failed on in an apt-get log ("dpkg: error
 * processing package NAME (--configure):") and the reason on the next
 * line; false when there is none. */
bool pw_apt_failed_package(const char *log, size_t len, char *name, size_t size, char *why,
			   size_t why_size);
/* `dpkg --audit` output: clean when empty, else half-configured. */
pw_pkgdb_state pw_apt_audit_state(const char *out, size_t len);

/* The systemd unit ("foo.service") a process belongs to, from
 * /proc/PID/cgroup; false when it has none. */
bool pw_pid_unit(int pid, char *unit, size_t size);
/* The unit named by a cgroup file's text (tests: recorded files). */
bool pw_cgroup_unit(const char *text, size_t len, char *unit, size_t size);

/* What the dnf, zypper and apk backends share (pkgmgr_common.c). */

extern const pw_pkgmgr pw_pkgmgr_dnf, pw_pkgmgr_zypper, pw_pkgmgr_apk;

/* An argv under construction: the strings it formats are its own. */
#define PW_ARGV_MAX (PW_EXEC_MAX_PACKAGES + 32)
typedef struct pw_argv {
	const char *v[PW_ARGV_MAX + 1]; /* NULL-terminated */
	size_t n;
	char *owned[PW_ARGV_MAX];
	size_t n_owned;
	bool failed; /* out of memory or too long: pw_argv_check says so */
} pw_argv;

void pw_argv_init(pw_argv *a);
void pw_argv_add(pw_argv *a, const char *s); /* s outlives a */
void pw_argv_addf(pw_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
pw_err pw_argv_check(const pw_argv *a, pw_error *err);
void pw_argv_release(pw_argv *a);

/* A backend's run(): simulate, patch and rollback go to `change`, hold
 * and unhold to `lock`, anything else is refused; the database state is
 * recorded after everything but a simulation. */
typedef pw_err (*pw_pkgmgr_step)(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req,
				 pw_exec_result *res, pw_error *err);
pw_err pw_pkgmgr_dispatch(const pw_pkgmgr *pm, pw_pkgmgr_step change, pw_pkgmgr_step lock,
			  const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
			  pw_error *err);

/* ctx->bin_dir/prog when the test hook is set, else dir/prog. */
void pw_pkgmgr_prog(const pw_pkgmgr_ctx *ctx, const char *dir, const char *prog, char *out,
		    size_t size);
/* Whether ctx->root is another system than this one's "/". */
bool pw_pkgmgr_other_root(const pw_pkgmgr_ctx *ctx);

/* Runs argv with ctx's deadline, appends "$ argv..." and the output to
 * res->log (capped at PW_EXEC_LOG_MAX) and sets res->exit_code; the output
 * stays in *out for parsing (release it). PW_OK when it ran. */
pw_err pw_pkgmgr_exec(const pw_pkgmgr_ctx *ctx, const pw_argv *a, pw_exec_result *res,
		      pw_run_result *out, pw_error *err);

/* The change for `name` in res, or NULL. */
pw_exec_change *pw_exec_find_change(pw_exec_result *res, const char *name);
/* Adds a change with bounded copies of name/before/after. */
pw_err pw_exec_change_add(pw_exec_result *res, pw_change_action act, const char *name, size_t nlen,
			  const char *before, size_t blen, const char *after, size_t alen,
			  pw_error *err);

/* Whether `installed` satisfies what `p` asks in scheme s: the same
 * version (for rpm, a requested version without release matches any
 * release, as rpm's own "name = V" does), or at least it when p->at_least;
 * any version when p->version is "". */
bool pw_pkg_version_matches(pw_scheme s, const pw_exec_package *p, const char *installed);

/* Whether updating `name` calls for a reboot by the package list the
 * distributions' own tools use (pkgmgr_common.c says where it is from). */
bool pw_pkg_needs_reboot(const char *name);

/* rpm (dnf and zypper; rpmdb.c). The installed [E:]V-R of each name in
 * `names` (NULL-terminated) is written to vers[i] ("" when not installed;
 * the highest when several are). */
pw_err pw_rpm_installed(const pw_pkgmgr_ctx *ctx, const char *const *names, size_t n,
			char (*vers)[PW_EXEC_VERSION_MAX + 1], pw_buf *log, pw_error *err);
/* Fills every change's `before` from the rpm database. */
pw_err pw_rpm_fill_before(const pw_pkgmgr_ctx *ctx, pw_exec_result *res, pw_error *err);
/* After a run: each change's `after` as installed now and ok when it is
 * what the transaction said; each requested package checked against the
 * request. Returns the number of requested packages that missed. */
size_t pw_rpm_check_after(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
			  pw_buf *missed, pw_error *err);
/* "warning: %post(pwpost-1.1-1.noarch) scriptlet failed, exit status 1":
 * marks the package's change failed and says so in `what`. Returns how
 * many scriptlets failed. */
size_t pw_rpm_scriptlet_failures(const char *log, pw_exec_result *res, pw_buf *what);
pw_pkgdb_state pw_rpm_db_state(const pw_pkgmgr_ctx *ctx, pw_buf *detail);
/* After a hold or unhold that worked: a change per package, at the
 * version it stays at. */
pw_err pw_rpm_held(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
		   pw_error *err);

/* The flow dnf and zypper share for simulate, patch and rollback
 * (rpmdb.c): the named packages must be installed; the transaction is
 * simulated first (its changes, whether it resolves); a patch that would
 * remove a package without PW_EXEC_ALLOW_REMOVE is refused; then it runs,
 * and the rpm database says what was reached. */
typedef struct pw_rpm_frontend {
	const char *name; /* "dnf" */
	/* Runs the transaction for req (real: for real, else simulated).
	 * Simulated: adds the changes it plans to res and sets *resolved,
	 * with the package manager's own words in `problem` when it does
	 * not resolve. Real: *reboot is 1 when the package manager says a
	 * reboot is needed, 0 when it says none is, -1 when it does not say.
	 * PW_OK when it ran (res->exit_code is its status). */
	pw_err (*transact)(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, bool real,
			   pw_exec_result *res, bool *resolved, pw_buf *problem, int *reboot,
			   pw_error *err);
	/* Whether a real run's exit status means success (NULL: only 0). */
	bool (*exit_ok)(int code);
} pw_rpm_frontend;

pw_err pw_rpm_transaction(const pw_rpm_frontend *fe, const pw_pkgmgr_ctx *ctx,
			  const pw_exec_request *req, pw_exec_result *res, pw_error *err);

#endif
