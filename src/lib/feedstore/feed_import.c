/* What `feed import PATH...` reads: files, directory trees and archives
 * (zip such as osv.dev's all.zip, tar, and gzip/bzip2/xz/zstd, alone or
 * around a tar), each member's format detected from its content and
 * parsed into the open import's sink. */
#include <archive.h>

#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "patchwarden/buf.h"
#include "patchwarden/feed.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/fileio.h"
#include "patchwarden/grow.h"

#include "feedstore-internal.h"

/* No feed file is this large (osv.dev's biggest JSON is a few MB, the
 * EPSS CSV 20 MB); the limit stops an archive bomb, not real data. */
#define MAX_MEMBER ((size_t)1 << 30)
#define MAX_DEPTH 32  /* directory levels, also stops symlink loops */
#define MAX_NESTING 2 /* archive inside archive */

struct input {
	char *path;
	bool named; /* given on the command line, not found by a walk */
};

struct walk {
	pw_feed_import *imp;
	struct input *inputs;
	size_t n_inputs, cap_inputs;
	size_t done, total; /* progress over files and archive members */
};

static pw_err nomem(pw_error *err)
{
	return pw_error_set(err, PW_ERR_NOMEM, "out of memory while reading feeds");
}

static pw_err add_input(struct walk *w, const char *path, bool named, pw_error *err)
{
	struct input *v = pw_grow(w->inputs, &w->cap_inputs, w->n_inputs, sizeof *v);
	if (!v)
		return nomem(err);
	w->inputs = v;
	char *p = strdup(path);
	if (!p)
		return nomem(err);
	w->inputs[w->n_inputs++] = (struct input){p, named};
	return PW_OK;
}

/* Regular files under `dir` in name order, so imports are repeatable;
 * dot files are skipped (a cloned feed repository's .git). */
static pw_err collect_dir(struct walk *w, const char *dir, int depth, pw_error *err)
{
	if (depth > MAX_DEPTH)
		return pw_error_set(err, PW_ERR_INVALID,
				    "%s: more than %d directory levels (a symlink"
				    " loop?)",
				    dir, MAX_DEPTH);
	char **names;
	size_t n;
	pw_err rc = pw_dir_names(dir, NULL, &names, &n, err);
	pw_buf path = PW_BUF_INIT;
	for (size_t i = 0; !rc && i < n; i++) {
		pw_buf_reset(&path);
		size_t dl = strlen(dir);
		if (pw_buf_printf(&path, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/",
				  names[i])) {
			rc = nomem(err);
			break;
		}
		struct stat st;
		if (stat(path.data, &st) != 0)
			rc = pw_error_set(err, PW_ERR_IO, "%s: %s", path.data, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = collect_dir(w, path.data, depth + 1, err);
		else if (S_ISREG(st.st_mode))
			rc = add_input(w, path.data, false, err);
	}
	pw_buf_release(&path);
	pw_free_names(names, n);
	return rc;
}

enum wrapping { PLAIN, ARCHIVE, ZIP };

/* Compressed or archived content, told by its magic bytes. */
static enum wrapping wrapping_of(const unsigned char *p, size_t n)
{
	if (n >= 4 && p[0] == 'P' && p[1] == 'K' &&
	    ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6)))
		return ZIP;
	if ((n >= 2 && p[0] == 0x1f && p[1] == 0x8b) || (n >= 3 && memcmp(p, "BZh", 3) == 0) ||
	    (n >= 6 && memcmp(p,
			      "\xfd"
			      "7zXZ\0",
			      6) == 0) ||
	    (n >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0) ||
	    (n >= 262 && memcmp(p + 257, "ustar", 5) == 0))
		return ARCHIVE;
	return PLAIN;
}

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Member count from the zip's end-of-central-directory record (zip64
 * too), so progress over an all.zip has a total; 0 when unreadable. */
static size_t zip_entries(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size < 22)
		return 0;
	size_t tail = st.st_size < 65557 ? (size_t)st.st_size : 65557;
	unsigned char *buf = malloc(tail);
	if (!buf)
		return 0;
	size_t count = 0;
	off_t base = st.st_size - (off_t)tail;
	if (pread(fd, buf, tail, base) == (ssize_t)tail) {
		for (size_t i = tail - 22 + 1; i-- > 0;) {
			if (memcmp(buf + i, "PK\5\6", 4) != 0)
				continue;
			count = (size_t)le(buf + i + 10, 2);
			unsigned char z[56];
			if (count == 0xffff && i >= 20 && memcmp(buf + i - 20, "PK\6\7", 4) == 0 &&
			    pread(fd, z, sizeof z, (off_t)le(buf + i - 20 + 8, 8)) ==
				    (ssize_t)sizeof z &&
			    memcmp(z, "PK\6\6", 4) == 0)
				count = (size_t)le(z + 32, 8);
			break;
		}
	}
	free(buf);
	return count;
}

static void progress(struct walk *w, const char *current)
{
	w->done++;
	if (w->done > w->total)
		w->total = w->done;
	pw_feed_import_progress(w->imp, w->done, w->total, current);
}

/* Detects and parses one inflated file. Unknown formats fail a file the
 * operator named and are skipped with a warning inside a walk. */
static pw_err import_plain(pw_feed_import *imp, const char *data, size_t len, const char *name,
			   bool named, pw_error *err)
{
	pw_feed_import_count_file(imp);
	pw_feed_format f = pw_feed_detect(data, len, name);
	if (f == PW_FEED_UNKNOWN) {
		if (named)
			return pw_error_set(
				err, PW_ERR_UNSUPPORTED,
				"%s: not a feed format patchwarden reads (OSV JSON, Debian"
				" tracker list or JSON, Ubuntu CVE tracker, Alpine secdb,"
				" CISA KEV JSON, EPSS CSV; plain, compressed or in a zip or"
				" tar archive)",
				name);
		pw_feed_import_warn(imp, name, "format not recognised; file skipped");
		return PW_OK;
	}
	pw_feed_import_set_current(imp, name);
	pw_error why = PW_ERROR_INIT;
	pw_err rc = pw_feed_parse(f, data, len, name, pw_feed_import_sink(imp), &why);
	pw_feed_import_set_current(imp, NULL);
	if (rc && !named && (rc == PW_ERR_PARSE || rc == PW_ERR_UNSUPPORTED)) {
		/* One bad upstream file must not cost the whole import. The
		 * message starts with the file's name (and maybe :line:column),
		 * which become the warning's `where`. */
		const char *msg = pw_error_text(&why);
		size_t n = strlen(name), at = 0;
		if (strncmp(msg, name, n) == 0 && msg[n] == ':') {
			const char *sep = strstr(msg + n, ": ");
			at = sep ? (size_t)(sep - msg) : 0;
		}
		pw_buf text = PW_BUF_INIT;
		pw_err e = at ? pw_buf_printf(&text, "%.*s%c%s; file skipped", (int)at, msg, '\0',
					      msg + at + 2)
			      : pw_buf_printf(&text, "%s%c%s; file skipped", name, '\0', msg);
		if (e)
			return nomem(err);
		pw_feed_import_skip(imp, text.data, text.data + strlen(text.data) + 1);
		pw_buf_release(&text);
		return PW_OK;
	}
	if (rc && err)
		*err = why;
	return rc;
}

static pw_err import_archive(struct walk *w, struct archive *a, const char *name, bool named,
			     int nesting, pw_error *err);

/* A libarchive reader for what feeds come in: any compression around a
 * zip, a tar, or one raw file. NULL without memory. */
static struct archive *reader_new(void)
{
	struct archive *a = archive_read_new();
	if (a) {
		archive_read_support_filter_all(a);
		archive_read_support_format_zip(a);
		archive_read_support_format_tar(a);
		archive_read_support_format_raw(a);
	}
	return a;
}

/* A member (or a named buffer): plain, or an archive nested inside. */
static pw_err import_data(struct walk *w, const char *data, size_t len, const char *name,
			  bool named, int nesting, pw_error *err)
{
	if (wrapping_of((const unsigned char *)data, len) == PLAIN || nesting >= MAX_NESTING)
		return import_plain(w->imp, data, len, name, named, err);
	struct archive *a = reader_new();
	if (!a)
		return nomem(err);
	pw_err rc;
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK)
		rc = pw_error_set(err, PW_ERR_PARSE, "%s: %s", name, archive_error_string(a));
	else
		rc = import_archive(w, a, name, named, nesting + 1, err);
	archive_read_free(a);
	return rc;
}

/* The member's name for messages; a compressed single file (libarchive's
 * "raw" format) keeps the outer name without its compression suffix. */
static pw_err member_name(pw_buf *out, struct archive *a, struct archive_entry *e,
			  const char *outer)
{
	pw_buf_reset(out);
	if (archive_format(a) == ARCHIVE_FORMAT_RAW) {
		size_t n = strlen(outer);
		static const char *const suffixes[] = {".gz", ".bz2", ".xz", ".zst", ".tgz"};
		for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
			size_t k = strlen(suffixes[i]);
			if (n > k && strcmp(outer + n - k, suffixes[i]) == 0) {
				n -= k;
				break;
			}
		}
		return pw_buf_append(out, outer, n);
	}
	const char *path = archive_entry_pathname(e);
	return pw_buf_printf(out, "%s:%s", outer, path ? path : "?");
}

static pw_err read_member(struct archive *a, const char *name, pw_buf *data, pw_error *err)
{
	pw_buf_reset(data);
	for (;;) {
		if (pw_buf_reserve(data, 65536))
			return nomem(err);
		la_ssize_t n = archive_read_data(a, data->data + data->len,
						 data->cap - data->len - 1);
		if (n < 0)
			return pw_error_set(err, PW_ERR_PARSE, "%s: %s", name,
					    archive_error_string(a));
		if (n == 0)
			break;
		data->len += (size_t)n;
		data->data[data->len] = '\0';
		if (data->len > MAX_MEMBER)
			return pw_error_set(err, PW_ERR_TOOLARGE,
					    "%s: larger than %zu bytes inflated;"
					    " not a feed file",
					    name, MAX_MEMBER);
	}
	return PW_OK;
}

static pw_err import_archive(struct walk *w, struct archive *a, const char *name, bool named,
			     int nesting, pw_error *err)
{
	pw_buf data = PW_BUF_INIT, member = PW_BUF_INIT;
	pw_err rc = PW_OK;
	struct archive_entry *e;
	int r;
	while (!rc && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if (archive_entry_filetype(e) != AE_IFREG) {
			if (nesting == 1)
				progress(w, name);
			continue;
		}
		if (member_name(&member, a, e, name)) {
			rc = nomem(err);
			break;
		}
		rc = read_member(a, member.data, &data, err);
		/* A compressed single file stands for the file the operator
		 * named; members of a real archive were found, not named. */
		bool raw = archive_format(a) == ARCHIVE_FORMAT_RAW;
		if (!rc)
			rc = import_data(w, data.data ? data.data : "", data.len, member.data,
					 named && raw, nesting, err);
		if (!rc && nesting == 1)
			progress(w, member.data);
	}
	if (!rc && r != ARCHIVE_EOF)
		rc = pw_error_set(err, PW_ERR_PARSE, "%s: %s", name, archive_error_string(a));
	pw_buf_release(&data);
	pw_buf_release(&member);
	return rc;
}

/* A file on disk: archives stream through libarchive (an all.zip need
 * not fit in memory), everything else is read whole. */
static pw_err import_file(struct walk *w, const struct input *in, pw_error *err)
{
	int fd;
	pw_err rc = pw_open_regular(in->path, &fd, err);
	if (rc)
		return rc;
	unsigned char head[512];
	ssize_t n = pread(fd, head, sizeof head, 0);
	enum wrapping kind = n > 0 ? wrapping_of(head, (size_t)n) : PLAIN;
	if (kind == PLAIN) {
		close(fd);
		pw_buf data = PW_BUF_INIT;
		rc = pw_read_file(in->path, &data, MAX_MEMBER, err);
		if (!rc)
			rc = import_plain(w->imp, data.data ? data.data : "", data.len, in->path,
					  in->named, err);
		pw_buf_release(&data);
		progress(w, in->path);
		return rc;
	}
	if (kind == ZIP) {
		size_t members = zip_entries(fd);
		if (members)
			w->total += members - 1; /* the zip was counted as one file */
	}
	struct archive *a = reader_new();
	if (!a) {
		close(fd);
		return nomem(err);
	}
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK)
		rc = pw_error_set(err, PW_ERR_PARSE, "%s: %s", in->path, archive_error_string(a));
	else
		rc = import_archive(w, a, in->path, in->named, 1, err);
	archive_read_free(a);
	close(fd);
	return rc;
}

pw_err pw_feed_import_paths(pw_feed_import *imp, const char *const *paths, size_t n, pw_error *err)
{
	struct walk w = {imp, NULL, 0, 0, 0, 0};
	pw_err rc = PW_OK;
	/* Everything is listed first, so a missing path fails before any
	 * parsing and progress knows the total. */
	for (size_t i = 0; !rc && i < n; i++) {
		struct stat st;
		if (stat(paths[i], &st) != 0)
			rc = pw_error_set(err, errno == ENOENT ? PW_ERR_NOTFOUND : PW_ERR_IO,
					  "%s: %s", paths[i], strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = collect_dir(&w, paths[i], 0, err);
		else if (S_ISREG(st.st_mode))
			rc = add_input(&w, paths[i], true, err);
		else
			rc = pw_error_set(err, PW_ERR_INVALID,
					  "%s: not a regular file or a directory (a FIFO or a"
					  " device would never end); give a feed file, directory"
					  " or archive",
					  paths[i]);
	}
	w.total = w.n_inputs;
	for (size_t i = 0; !rc && i < w.n_inputs; i++)
		rc = import_file(&w, &w.inputs[i], err);
	for (size_t i = 0; i < w.n_inputs; i++)
		free(w.inputs[i].path);
	free(w.inputs);
	return rc;
}

pw_err pw_feed_import_path(pw_feed_import *imp, const char *path, pw_error *err)
{
	return pw_feed_import_paths(imp, &path, 1, err);
}

pw_err pw_feed_import_buffer(pw_feed_import *imp, const char *data, size_t len, const char *name,
			     pw_error *err)
{
	return import_plain(imp, data, len, name, true, err);
}
