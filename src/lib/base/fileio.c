#include "patchwarden/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "patchwarden/grow.h"

static const char *kind_of(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "a special file";
}

pw_err pw_open_regular(const char *path, int *fd, pw_error *err)
{
	*fd = -1;
	/* O_NONBLOCK: opening a FIFO without a writer would wait for one. */
	int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (f < 0)
		return pw_error_set(err, errno == ENOENT ? PW_ERR_NOTFOUND : PW_ERR_IO,
				    "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	if (fstat(f, &st) != 0) {
		int e = errno;
		close(f);
		return pw_error_set(err, PW_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
	}
	/* /dev/null is the usual way to say "empty" (`--config /dev/null`)
	 * and ends at once, unlike /dev/zero. */
	bool null_dev = S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
	if (!S_ISREG(st.st_mode) && !null_dev) {
		close(f);
		return pw_error_set(err, PW_ERR_INVALID, "%s: %s, not a regular file; give a file",
				    path, kind_of(st.st_mode));
	}
	int flags = fcntl(f, F_GETFL);
	if (flags >= 0)
		fcntl(f, F_SETFL, flags & ~O_NONBLOCK);
	*fd = f;
	return PW_OK;
}

pw_err pw_read_file(const char *path, pw_buf *out, size_t max_bytes, pw_error *err)
{
	if (!max_bytes || max_bytes > PW_READ_FILE_MAX)
		max_bytes = PW_READ_FILE_MAX;
	int fd;
	pw_err rc = pw_open_regular(path, &fd, err);
	if (rc)
		return rc;
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		if ((uintmax_t)st.st_size > max_bytes) {
			close(fd);
			return pw_error_set(err, PW_ERR_TOOLARGE,
					    "%s: %lld bytes is more than the limit of %zu bytes",
					    path, (long long)st.st_size, max_bytes);
		}
		if (pw_buf_reserve(out, (size_t)st.st_size)) {
			close(fd);
			return pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", path);
		}
	}
	size_t start = out->len;
	for (;;) {
		if (pw_buf_reserve(out, 65536)) {
			close(fd);
			return pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", path);
		}
		ssize_t n = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			out->len = start;
			out->data[out->len] = '\0';
			return pw_error_set(err, PW_ERR_IO, "%s: read failed: %s", path,
					    strerror(e));
		}
		if (n == 0) {
			/* An empty file still leaves a terminated (empty) string. */
			out->data[out->len] = '\0';
			break;
		}
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		if (out->len - start > max_bytes) {
			close(fd);
			out->len = start;
			out->data[out->len] = '\0';
			return pw_error_set(err, PW_ERR_TOOLARGE,
					    "%s: more than the limit of %zu bytes", path,
					    max_bytes);
		}
	}
	close(fd);
	return PW_OK;
}

pw_err pw_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode,
			    pw_error *err)
{
	pw_buf tmp = PW_BUF_INIT;
	if (pw_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid()))
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0) {
		pw_error_set(err, PW_ERR_IO, "%s: cannot create: %s", tmp.data, strerror(errno));
		pw_buf_release(&tmp);
		return PW_ERR_IO;
	}
	const char *p = data;
	size_t left = len;
	while (left) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		p += n;
		left -= (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp.data, path) != 0)
		goto fail;
	/* Make the rename itself durable. */
	{
		char dir[4096];
		pw_path_dir(path, dir, sizeof dir);
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	pw_buf_release(&tmp);
	return PW_OK;
fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp.data);
	pw_error_set(err, PW_ERR_IO, "%s: cannot write: %s", path, strerror(e));
	pw_buf_release(&tmp);
	return PW_ERR_IO;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void pw_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

pw_err pw_dir_names(const char *dir, bool (*keep)(const char *name), char ***names, size_t *n,
		    pw_error *err)
{
	*names = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return pw_error_set(err,
				    errno == ENOENT || errno == ENOTDIR ? PW_ERR_NOTFOUND
									: PW_ERR_IO,
				    "%s: cannot read the directory: %s", dir, strerror(errno));
	char **v = NULL;
	size_t count = 0, cap = 0;
	bool oom = false;
	struct dirent *de;
	while (!oom && (de = readdir(d))) {
		if (de->d_name[0] == '.' || (keep && !keep(de->d_name)))
			continue;
		char **grown = pw_grow(v, &cap, count, sizeof *grown);
		if (grown)
			v = grown;
		if (!grown || !(v[count] = strdup(de->d_name)))
			oom = true;
		else
			count++;
	}
	closedir(d);
	if (oom) {
		pw_free_names(v, count);
		return pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory listing the directory",
				    dir);
	}
	if (count)
		qsort(v, count, sizeof *v, cmp_names);
	*names = v;
	*n = count;
	return PW_OK;
}

void pw_path_dir(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(out, size, ".");
	else if (slash == path)
		snprintf(out, size, "/");
	else
		snprintf(out, size, "%.*s", (int)(slash - path), path);
}
