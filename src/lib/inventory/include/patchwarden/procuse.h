/* Which files the running processes of this host use, from
 * /proc/<pid>/maps and /proc/<pid>/exe, and which of those files were
 * deleted (replaced by an upgrade) while still mapped: those processes
 * run old code until restarted, so an installed fix is not active yet.
 *
 * With the dpkg file lists (var/lib/dpkg/info/<pkg>[:<arch>].list) the
 * answer becomes per package: is any file of a package in use?
 *
 * Only processes that share this process's root directory count (a
 * container's /usr is not the host's; a process whose root even root may
 * not resolve lives in another namespace). A process chrooted into a
 * `root` other than "/" shows its files under root's real path: that
 * prefix is taken off. Reading another user's maps
 * needs root: when some maps could not be read the picture is incomplete,
 * and "no process uses this package" is then never concluded. */
#ifndef PATCHWARDEN_PROCUSE_H
#define PATCHWARDEN_PROCUSE_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/error.h"

typedef struct pw_procuse pw_procuse;

/* A process still mapping (or executing) a deleted file. */
typedef struct pw_proc_deleted {
	int pid;
	const char *process; /* /proc/<pid>/comm */
	const char *path;    /* without the " (deleted)" mark */
	const char *package; /* dpkg package whose file list names path, or NULL */
} pw_proc_deleted;

/* Reads every process under `proc_dir` ("/proc"; tests pass a copy).
 * `root` is the file system the package database describes ("/"): the
 * dpkg file lists are read from it, and its top-level symlinks (/lib ->
 * usr/lib on merged-/usr systems) are applied to listed paths before
 * they are compared with what the kernel reports. When deleted files are
 * mapped, all file lists are read once to name their packages. */
pw_err pw_procuse_read(const char *proc_dir, const char *root, pw_procuse **out, pw_error *err);
void pw_procuse_free(pw_procuse *pu);

/* False when some process's maps could not be read (not root, or the
 * process went away is not counted as missing). */
bool pw_procuse_complete(const pw_procuse *pu);
size_t pw_procuse_process_count(const pw_procuse *pu);

/* Whether a running process maps or executes `path` (canonical). */
bool pw_procuse_file_used(const pw_procuse *pu, const char *path);

size_t pw_procuse_deleted_count(const pw_procuse *pu);
const pw_proc_deleted *pw_procuse_deleted(const pw_procuse *pu, size_t i);

/* Whether the dpkg package `name` (architecture `arch`, may be NULL) is in
 * use: 1 when a file it installs is mapped or executed by a running
 * process, or it installs a setuid/setgid file (any user can start that
 * at any moment); 0 when neither; -1 when unknown (no file list, or the
 * process picture is incomplete). */
int pw_procuse_package_in_use(const pw_procuse *pu, const char *name, const char *arch);

#endif
