/* The executor's own declarations: one backend object per
 * pkgmgr_<name>.c, listed in pkgmgr.c; the apt backend's output parsers
 * (unit-tested on recorded output in tests/data/apt/). */
#ifndef PATCHWARDEN_EXECUTOR_INTERNAL_H
#define PATCHWARDEN_EXECUTOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/pkgmgr.h"

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

#endif
