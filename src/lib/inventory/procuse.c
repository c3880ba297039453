#include "patchwarden/procuse.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "patchwarden/arena.h"
#include "patchwarden/buf.h"
#include "patchwarden/fileio.h"
#include "patchwarden/grow.h"
#include "patchwarden/hashtab.h"

#define DELETED_MARK " (deleted)"
#define DPKG_INFO "var/lib/dpkg/info"

/* A top-level symlink of root: "/lib" -> "/usr/lib". */
struct toplink {
	char from[64];
	char to[PATH_MAX + 2];
};

struct pw_procuse {
	pw_arena arena;
	char *root;
	/* root's real path when it is not "/": a process chrooted there has
	 * its files shown from our root, under this prefix */
	char *prefix;
	size_t prefix_len;
	pw_hashtab used; /* canonical paths (arena strings) */
	pw_proc_deleted *deleted;
	size_t n_deleted, cap_deleted;
	size_t processes;
	bool complete;
	struct toplink *links;
	size_t n_links;
	pw_buf path; /* scratch */
};

bool pw_procuse_complete(const pw_procuse *pu)
{
	return pu->complete;
}

size_t pw_procuse_process_count(const pw_procuse *pu)
{
	return pu->processes;
}

size_t pw_procuse_deleted_count(const pw_procuse *pu)
{
	return pu->n_deleted;
}

const pw_proc_deleted *pw_procuse_deleted(const pw_procuse *pu, size_t i)
{
	return i < pu->n_deleted ? &pu->deleted[i] : NULL;
}

bool pw_procuse_file_used(const pw_procuse *pu, const char *path)
{
	return pw_hashtab_find(&pu->used, pw_hash_str(PW_HASH_SEED, path), pw_hashtab_str_eq,
			       path) != NULL;
}

void pw_procuse_free(pw_procuse *pu)
{
	if (!pu)
		return;
	pw_arena_release(&pu->arena);
	pw_hashtab_release(&pu->used);
	free(pu->deleted);
	free(pu->links);
	free(pu->root);
	free(pu->prefix);
	pw_buf_release(&pu->path);
	free(pu);
}

/* pw_read_file, plus a terminator even for an empty file (a kernel
 * thread's maps), which pw_read_file leaves out. */
static pw_err read_text(const char *path, pw_buf *out, size_t max, pw_error *err)
{
	pw_err rc = pw_read_file(path, out, max, err);
	if (!rc && pw_buf_append(out, "", 0))
		rc = pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", path);
	return rc;
}

static pw_err nomem(pw_error *err)
{
	return pw_error_set(err, PW_ERR_NOMEM, "out of memory reading the running processes");
}

/* root + "/" + rel, in a buffer of the caller. */
static pw_err join(pw_buf *b, const char *root, const char *rel)
{
	pw_buf_reset(b);
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (pw_buf_append(b, root, n))
		return PW_ERR_NOMEM;
	if (!(n == 1 && root[0] == '/') && pw_buf_putc(b, '/'))
		return PW_ERR_NOMEM;
	while (*rel == '/')
		rel++;
	return pw_buf_puts(b, rel);
}

static pw_err read_toplinks(pw_procuse *pu, pw_error *err)
{
	DIR *d = opendir(pu->root);
	if (!d)
		return pw_error_set(err, PW_ERR_IO, "%s: cannot read the directory: %s", pu->root,
				    strerror(errno));
	struct dirent *e;
	pw_err rc = PW_OK;
	size_t cap = 0;
	while (!rc && (e = readdir(d))) {
		size_t nlen = strlen(e->d_name);
		if (e->d_name[0] == '.' || nlen + 2 > sizeof pu->links[0].from)
			continue;
		char target[PATH_MAX];
		if ((rc = join(&pu->path, pu->root, e->d_name)))
			break;
		ssize_t n = readlink(pw_buf_str(&pu->path), target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		struct stat st;
		if ((rc = join(&pu->path, pu->root, target)))
			break;
		if (stat(pw_buf_str(&pu->path), &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		struct toplink *grown = pw_grow(pu->links, &cap, pu->n_links, sizeof *grown);
		if (!grown) {
			rc = PW_ERR_NOMEM;
			break;
		}
		pu->links = grown;
		struct toplink *l = &pu->links[pu->n_links++];
		l->from[0] = '/';
		memcpy(l->from + 1, e->d_name, nlen + 1);
		snprintf(l->to, sizeof l->to, "%s%s", target[0] == '/' ? "" : "/", target);
	}
	closedir(d);
	return rc ? nomem(err) : PW_OK;
}

/* A listed path as the kernel would show it: top-level symlinks applied. */
static const char *canonical(const pw_procuse *pu, const char *path, char *out, size_t size)
{
	for (size_t i = 0; i < pu->n_links; i++) {
		size_t n = strlen(pu->links[i].from);
		if (strncmp(path, pu->links[i].from, n) == 0 && path[n] == '/') {
			int w = snprintf(out, size, "%s%s", pu->links[i].to, path + n);
			return w > 0 && (size_t)w < size ? out : path;
		}
	}
	return path;
}

static pw_err mark_used(pw_procuse *pu, const char *path, size_t len)
{
	char tmp[PATH_MAX];
	if (len >= sizeof tmp)
		return PW_OK;
	memcpy(tmp, path, len);
	tmp[len] = '\0';
	uint64_t h = pw_hash_str(PW_HASH_SEED, tmp);
	if (pw_hashtab_find(&pu->used, h, pw_hashtab_str_eq, tmp))
		return PW_OK;
	char *copy = pw_arena_strdup(&pu->arena, tmp);
	if (!copy || pw_hashtab_insert(&pu->used, h, copy))
		return PW_ERR_NOMEM;
	return PW_OK;
}

/* Pseudo files and shared memory are not package files. */
static bool is_package_file(const char *path)
{
	static const char *const pseudo[] = {"/memfd:",        "/dev/",  "/SYSV", "/drm",
					     "/anon_hugepage", "/proc/", "/sys/"};
	for (size_t i = 0; i < sizeof pseudo / sizeof pseudo[0]; i++)
		if (strncmp(path, pseudo[i], strlen(pseudo[i])) == 0)
			return false;
	return path[0] == '/';
}

static pw_err add_deleted(pw_procuse *pu, int pid, const char *comm, const char *path, size_t len)
{
	for (size_t i = pu->n_deleted; i > 0 && pu->deleted[i - 1].pid == pid; i--)
		if (strlen(pu->deleted[i - 1].path) == len &&
		    memcmp(pu->deleted[i - 1].path, path, len) == 0)
			return PW_OK;
	pw_proc_deleted *grown = pw_grow(pu->deleted, &pu->cap_deleted, pu->n_deleted,
					 sizeof *grown);
	if (!grown)
		return PW_ERR_NOMEM;
	pu->deleted = grown;
	char *copy = pw_arena_alloc(&pu->arena, len + 1);
	if (!copy)
		return PW_ERR_NOMEM;
	memcpy(copy, path, len);
	copy[len] = '\0';
	pw_proc_deleted *d = &pu->deleted[pu->n_deleted++];
	d->pid = pid;
	d->process = comm;
	d->path = copy;
	d->package = NULL;
	return PW_OK;
}

/* A path the kernel shows as the file in root's tree. */
static void strip_prefix(const pw_procuse *pu, const char **path, size_t *len)
{
	if (pu->prefix_len && *len > pu->prefix_len && (*path)[pu->prefix_len] == '/' &&
	    memcmp(*path, pu->prefix, pu->prefix_len) == 0) {
		*path += pu->prefix_len;
		*len -= pu->prefix_len;
	}
}

/* One /proc/<pid>/maps: "start-end perms offset dev inode   path". */
static pw_err read_maps(pw_procuse *pu, int pid, const char *comm, const char *data)
{
	for (const char *line = data; *line;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		const char *path = memchr(line, '/', len);
		const char *perms = memchr(line, ' ', len);
		if (path && perms) {
			size_t plen = len - (size_t)(path - line);
			size_t mlen = strlen(DELETED_MARK);
			bool deleted = plen > mlen &&
				       memcmp(path + plen - mlen, DELETED_MARK, mlen) == 0;
			if (deleted)
				plen -= mlen;
			strip_prefix(pu, &path, &plen);
			pw_err rc = mark_used(pu, path, plen);
			bool code = perms[1] && perms[2] && perms[3] == 'x';
			if (!rc && deleted && is_package_file(path) &&
			    (code || memmem(path, plen, ".so", 3)))
				rc = add_deleted(pu, pid, comm, path, plen);
			if (rc)
				return rc;
		}
		line += len + (eol ? 1 : 0);
	}
	return PW_OK;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Reads one process; vanished processes are skipped, unreadable ones make
 * the picture incomplete. */
static pw_err read_process(pw_procuse *pu, const char *proc_dir, int pid,
			   const struct stat *root_st, pw_buf *data)
{
	char rel[64];
	struct stat st;
	snprintf(rel, sizeof rel, "%d/root", pid);
	if (join(&pu->path, proc_dir, rel))
		return PW_ERR_NOMEM;
	if (stat(pw_buf_str(&pu->path), &st) != 0) {
		/* Gone, or (for root) in a namespace root cannot enter, such
		 * as a sandbox's supervisor: not a process of this system.
		 * Anyone else simply may not look. */
		if (errno != ENOENT && errno != ESRCH && geteuid() != 0)
			pu->complete = false;
		return PW_OK;
	}
	if (!same_file(&st, root_st))
		return PW_OK; /* another root (a container): not this file system */
	snprintf(rel, sizeof rel, "%d/comm", pid);
	pw_buf_reset(data);
	if (join(&pu->path, proc_dir, rel))
		return PW_ERR_NOMEM;
	if (read_text(pw_buf_str(&pu->path), data, 4096, NULL))
		return PW_OK;
	size_t n = data->len;
	while (n && (data->data[n - 1] == '\n'))
		n--;
	char *comm = pw_arena_alloc(&pu->arena, n + 1);
	if (!comm)
		return PW_ERR_NOMEM;
	if (n)
		memcpy(comm, data->data, n);
	comm[n] = '\0';

	char exe[PATH_MAX];
	snprintf(rel, sizeof rel, "%d/exe", pid);
	if (join(&pu->path, proc_dir, rel))
		return PW_ERR_NOMEM;
	ssize_t elen = readlink(pw_buf_str(&pu->path), exe, sizeof exe - 1);
	if (elen > 0) {
		size_t len = (size_t)elen, mlen = strlen(DELETED_MARK);
		bool deleted = len > mlen && memcmp(exe + len - mlen, DELETED_MARK, mlen) == 0;
		if (deleted)
			len -= mlen;
		const char *file = exe;
		strip_prefix(pu, &file, &len);
		pw_err rc = mark_used(pu, file, len);
		if (!rc && deleted && is_package_file(file))
			rc = add_deleted(pu, pid, comm, file, len);
		if (rc)
			return rc;
	} else if (elen < 0 && errno == EACCES) {
		pu->complete = false;
	}

	snprintf(rel, sizeof rel, "%d/maps", pid);
	pw_buf_reset(data);
	if (join(&pu->path, proc_dir, rel))
		return PW_ERR_NOMEM;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = read_text(pw_buf_str(&pu->path), data, 0, &e);
	if (rc == PW_ERR_NOMEM)
		return rc;
	if (rc) {
		if (rc != PW_ERR_NOTFOUND)
			pu->complete = false;
		return PW_OK;
	}
	pu->processes++;
	return read_maps(pu, pid, comm, pw_buf_str(data));
}

struct owner {
	const char *path;
	const char *package;
};

static bool owner_eq(const void *rec, const void *key)
{
	return strcmp(((const struct owner *)rec)->path, key) == 0;
}

/* Calls fn for each line of a dpkg file list; stops at a non-zero return. */
static int each_listed(const pw_procuse *pu, const char *data,
		       int (*fn)(const pw_procuse *pu, const char *path, void *ctx), void *ctx)
{
	char line[PATH_MAX], canon[PATH_MAX];
	for (const char *p = data; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len && len < sizeof line && p[0] == '/') {
			memcpy(line, p, len);
			line[len] = '\0';
			int r = fn(pu, canonical(pu, line, canon, sizeof canon), ctx);
			if (r)
				return r;
		}
		p += len + (eol ? 1 : 0);
	}
	return 0;
}

struct owner_ctx {
	pw_hashtab *owners;
	const char *package;
};

static int owner_line(const pw_procuse *pu, const char *path, void *ctx)
{
	(void)pu;
	struct owner_ctx *oc = ctx;
	struct owner *o = pw_hashtab_find(oc->owners, pw_hash_str(PW_HASH_SEED, path), owner_eq,
					  path);
	if (o && !o->package)
		o->package = oc->package;
	return 0;
}

/* Names the packages of the deleted files from all dpkg file lists. */
static pw_err find_owners(pw_procuse *pu)
{
	pw_hashtab owners = PW_HASHTAB_INIT;
	struct owner *recs = calloc(pu->n_deleted, sizeof *recs);
	pw_buf data = PW_BUF_INIT, dir = PW_BUF_INIT;
	pw_err rc = recs ? PW_OK : PW_ERR_NOMEM;
	for (size_t i = 0; !rc && i < pu->n_deleted; i++) {
		uint64_t h = pw_hash_str(PW_HASH_SEED, pu->deleted[i].path);
		if (pw_hashtab_find(&owners, h, owner_eq, pu->deleted[i].path))
			continue;
		recs[i].path = pu->deleted[i].path;
		rc = pw_hashtab_insert(&owners, h, &recs[i]);
	}
	DIR *d = NULL;
	if (!rc && !(rc = join(&dir, pu->root, DPKG_INFO)))
		d = opendir(pw_buf_str(&dir));
	struct dirent *e;
	while (!rc && d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n <= 5 || strcmp(e->d_name + n - 5, ".list") != 0)
			continue;
		char *pkg = pw_arena_alloc(&pu->arena, n - 4);
		if (!pkg) {
			rc = PW_ERR_NOMEM;
			break;
		}
		memcpy(pkg, e->d_name, n - 5);
		pkg[n - 5] = '\0';
		pw_buf_reset(&data);
		if ((rc = join(&pu->path, pw_buf_str(&dir), e->d_name)))
			break;
		if (read_text(pw_buf_str(&pu->path), &data, 0, NULL))
			continue;
		struct owner_ctx oc = {&owners, pkg};
		each_listed(pu, pw_buf_str(&data), owner_line, &oc);
	}
	if (d)
		closedir(d);
	for (size_t i = 0; !rc && i < pu->n_deleted; i++) {
		const char *path = pu->deleted[i].path;
		struct owner *o = pw_hashtab_find(&owners, pw_hash_str(PW_HASH_SEED, path),
						  owner_eq, path);
		pu->deleted[i].package = o ? o->package : NULL;
	}
	pw_hashtab_release(&owners);
	free(recs);
	pw_buf_release(&data);
	pw_buf_release(&dir);
	return rc;
}

pw_err pw_procuse_read(const char *proc_dir, const char *root, pw_procuse **out, pw_error *err)
{
	pw_procuse *pu = calloc(1, sizeof *pu);
	if (!pu || !(pu->root = strdup(root))) {
		free(pu);
		return nomem(err);
	}
	pu->complete = true;
	struct stat root_st;
	if (stat(root, &root_st) != 0) {
		pw_error_set(err, PW_ERR_IO, "%s: %s", root, strerror(errno));
		pw_procuse_free(pu);
		return PW_ERR_IO;
	}
	char real[PATH_MAX];
	if (realpath(root, real) && strcmp(real, "/") != 0) {
		if (!(pu->prefix = strdup(real))) {
			pw_procuse_free(pu);
			return nomem(err);
		}
		pu->prefix_len = strlen(real);
	}
	pw_err rc = read_toplinks(pu, err);
	DIR *d = NULL;
	if (!rc && !(d = opendir(proc_dir)))
		rc = pw_error_set(err, PW_ERR_IO,
				  "%s: cannot list the processes: %s (is /proc mounted?)", proc_dir,
				  strerror(errno));
	pw_buf data = PW_BUF_INIT;
	struct dirent *e;
	while (!rc && (e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid > INT_MAX)
			continue;
		if (read_process(pu, proc_dir, (int)pid, &root_st, &data))
			rc = nomem(err);
	}
	if (d)
		closedir(d);
	pw_buf_release(&data);
	if (!rc && pu->n_deleted && find_owners(pu))
		rc = nomem(err);
	if (rc) {
		pw_procuse_free(pu);
		return rc;
	}
	*out = pu;
	return PW_OK;
}

static int used_line(const pw_procuse *pu, const char *path, void *ctx)
{
	(void)ctx;
	return pw_procuse_file_used(pu, path) ? 1 : 0;
}

static int setid_line(const pw_procuse *pu, const char *path, void *ctx)
{
	pw_buf *b = ctx;
	struct stat st;
	if (join(b, pu->root, path))
		return 0;
	return lstat(pw_buf_str(b), &st) == 0 && S_ISREG(st.st_mode) &&
	       (st.st_mode & (S_ISUID | S_ISGID));
}

int pw_procuse_package_in_use(const pw_procuse *pu, const char *name, const char *arch)
{
	if (!pu->complete)
		return -1;
	pw_buf path = PW_BUF_INIT, data = PW_BUF_INIT;
	char rel[512];
	int verdict = -1;
	bool found = false;
	for (int attempt = 0; attempt < 2 && !found; attempt++) {
		if (attempt == 0 && !(arch && *arch))
			continue;
		int n = attempt == 0
				? snprintf(rel, sizeof rel, "%s/%s:%s.list", DPKG_INFO, name, arch)
				: snprintf(rel, sizeof rel, "%s/%s.list", DPKG_INFO, name);
		if (n < 0 || (size_t)n >= sizeof rel || join(&path, pu->root, rel))
			break;
		pw_buf_reset(&data);
		found = read_text(pw_buf_str(&path), &data, 0, NULL) == PW_OK;
	}
	if (found) {
		const char *list = pw_buf_str(&data);
		verdict = each_listed(pu, list, used_line, NULL) ||
			  each_listed(pu, list, setid_line, &path);
	}
	pw_buf_release(&path);
	pw_buf_release(&data);
	return verdict;
}
