/* What a host's running processes use, as facts that travel: which
 * installed packages are in use, and which processes still run old code
 * (map or execute a file an upgrade deleted). procuse.h reads them from
 * /proc on the host itself; this record carries them from the agent's
 * privileged parent (the only side that can read every process's maps)
 * across the privilege boundary (privmsg.h), in the check-in to the
 * server, and into the scan, so a scan of / and the server's findings
 * rank by the same facts through the same rule (policy.h).
 *
 * Packages are named "name:arch" ("name" when the inventory gives no
 * architecture), as pw_runtime_key makes them. */
#ifndef PATCHWARDEN_RUNTIME_H
#define PATCHWARDEN_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/buf.h"
#include "patchwarden/error.h"
#include "patchwarden/inventory.h"
#include "patchwarden/procuse.h"

struct cJSON;

/* Limits of what a runtime record may hold (the decoders refuse more). */
#define PW_RUNTIME_MAX_PACKAGES 20000
#define PW_RUNTIME_MAX_RESTARTS 1024
#define PW_RUNTIME_KEY_MAX 257 /* name ':' arch */
#define PW_RUNTIME_PROCESS_MAX 64
#define PW_RUNTIME_PATH_MAX 1024
#define PW_RUNTIME_UNIT_MAX 256

/* A process still mapping or executing a deleted (replaced) file: it
 * runs the old code until it restarts. */
typedef struct pw_runtime_restart {
	int pid;
	char *process; /* /proc/<pid>/comm */
	char *path;    /* the deleted file */
	char *package; /* binary package whose file list names it; NULL: unknown */
	char *unit;    /* systemd service the process belongs to; NULL: none known */
} pw_runtime_restart;

typedef struct pw_runtime {
	/* Every process's maps were read and the package database has file
	 * lists: a package in neither in_use nor unknown is not in use. */
	bool in_use_known;
	size_t processes;
	char **in_use; /* sorted keys */
	size_t n_in_use;
	char **unknown; /* sorted keys: no file list to tell */
	size_t n_unknown;
	pw_runtime_restart *restarts; /* by pid, path */
	size_t n_restarts;
	size_t cap_in_use, cap_unknown, cap_restarts; /* private */
} pw_runtime;

/* clang-format off */
#define PW_RUNTIME_INIT {false, 0, NULL, 0, NULL, 0, NULL, 0, 0, 0, 0}
/* clang-format on */

void pw_runtime_release(pw_runtime *rt);

/* "name:arch" (or "name") into out[PW_RUNTIME_KEY_MAX + 1]; false when
 * it does not fit. */
bool pw_runtime_key(const char *name, const char *arch, char *out);

/* The facts of `pu` for every package of `inv` (pw_procuse_package_in_use
 * of each), its restarts with their packages. Strings are made safe to
 * carry (control characters become '?'); over-long paths are cut. Units
 * are left NULL: the caller that can read /proc/<pid>/cgroup fills them. */
pw_err pw_runtime_from_procuse(const pw_procuse *pu, const pw_inventory *inv, pw_runtime *out,
			       pw_error *err);

/* 1 when package `name` (`arch`, may be NULL) is in use, 0 when it is
 * not, -1 when unknown (in_use_known false, or listed unknown). */
int pw_runtime_in_use(const pw_runtime *rt, const char *name, const char *arch);

/* Adds a restart (strings copied; package and unit may be NULL);
 * PW_ERR_INVALID past the limits. */
pw_err pw_runtime_add_restart(pw_runtime *rt, int pid, const char *process, const char *path,
			      const char *package, const char *unit, pw_error *err);
/* Adds a key to in_use (`unknown` false) or unknown; the caller sorts
 * with pw_runtime_sort when done. */
pw_err pw_runtime_add_key(pw_runtime *rt, bool unknown, const char *key, pw_error *err);
void pw_runtime_sort(pw_runtime *rt);
/* Whether the lists are as pw_runtime_sort leaves them, with no key or
 * restart twice: a decoder takes only that one form, so what it accepts
 * is what the encoder writes. */
bool pw_runtime_sorted(const pw_runtime *rt);

/* {"in_use_known":bool,"processes":N,"in_use":[keys],"unknown":[keys],
 *  "restarts":[{"pid","process","path","package","unit"}]}
 * (docs/records.md, "runtime"). NULL without memory. */
struct cJSON *pw_runtime_to_json(const pw_runtime *rt);
/* Reads that object into an empty `rt`, refusing wrong types, counts and
 * lengths over the limits above (PW_ERR_INVALID naming the member). */
pw_err pw_runtime_from_json(pw_runtime *rt, const struct cJSON *obj, pw_error *err);
/* SHA-256 (hex) of the record's compact JSON: whether it changed. */
pw_err pw_runtime_hash(const pw_runtime *rt, char out[65], pw_error *err);

#endif
