#include "patchwarden/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "patchwarden/fileio.h"
#include "patchwarden/grow.h"

#define SEQ_DIGITS 20
#define SUFFIX ".result"
#define MAGIC "PWSPOOL1"
/* Header "PWSPOOL1 <len> <crc>\n" is well under this. */
#define HEADER_MAX 64
/* One result file is at most the whole spool, and never more than this. */
#define RESULT_MAX (256u * 1024 * 1024)

void pw_spool_release(pw_spool *s)
{
	free(s->dir);
	*s = (pw_spool)PW_SPOOL_INIT;
}

/* The sequence number of a result file name, 0 for any other name. */
static uint64_t name_seq(const char *name)
{
	uint64_t v = 0;
	for (int i = 0; i < SEQ_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		unsigned d = (unsigned)(name[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	return strcmp(name + SEQ_DIGITS, SUFFIX) == 0 ? v : 0;
}

static pw_err path_of(const pw_spool *s, const char *sub, uint64_t seq, pw_buf *out, pw_error *err)
{
	pw_err rc = sub ? pw_buf_printf(out, "%s/%s/%020" PRIu64 SUFFIX, s->dir, sub, seq)
			: pw_buf_printf(out, "%s/%020" PRIu64 SUFFIX, s->dir, seq);
	return rc ? pw_error_set(err, PW_ERR_NOMEM, "spool: out of memory") : PW_OK;
}

static pw_err read_counter(pw_spool *s, pw_error *err)
{
	pw_buf path = PW_BUF_INIT, text = PW_BUF_INIT;
	if (pw_buf_printf(&path, "%s/next-seq", s->dir))
		return pw_error_set(err, PW_ERR_NOMEM, "spool: out of memory");
	pw_err rc = pw_read_file(path.data, &text, 64, err);
	if (rc == PW_ERR_NOTFOUND) {
		rc = PW_OK; /* a new spool starts at 1 */
	} else if (!rc || rc == PW_ERR_TOOLARGE) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(pw_buf_str(&text), &end, 10);
		const char *t = pw_buf_str(&text);
		if (rc || *t < '0' || *t > '9' || errno || (*end && *end != '\n') || v == 0 ||
		    v == UINT64_MAX)
			rc = pw_error_set(err, PW_ERR_PARSE,
					  "%s: not a sequence number; remove the file and restart "
					  "the agent (numbering resumes after the spooled results, "
					  "and above the highest the server acknowledged once it "
					  "checks in; no result is lost)",
					  path.data);
		else
			s->next_seq = v;
	}
	pw_buf_release(&path);
	pw_buf_release(&text);
	return rc;
}

static pw_err write_counter(const pw_spool *s, uint64_t next, pw_error *err)
{
	pw_buf path = PW_BUF_INIT;
	char text[32];
	int n = snprintf(text, sizeof text, "%" PRIu64 "\n", next);
	if (pw_buf_printf(&path, "%s/next-seq", s->dir))
		return pw_error_set(err, PW_ERR_NOMEM, "spool: out of memory");
	pw_err rc = pw_write_file_atomic(path.data, text, (size_t)n, 0600, err);
	pw_buf_release(&path);
	return rc;
}

/* Walks DIR: counts results and their size, removes temporaries a crash
 * left behind, and raises next_seq past the highest result. */
static pw_err scan_dir(pw_spool *s, pw_error *err)
{
	DIR *d = opendir(s->dir);
	if (!d)
		return pw_error_set(err, PW_ERR_IO, "%s: cannot read the spool: %s", s->dir,
				    strerror(errno));
	int dfd = dirfd(d);
	s->count = 0;
	s->total_bytes = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strstr(e->d_name, ".tmp.")) {
			unlinkat(dfd, e->d_name, 0);
			continue;
		}
		uint64_t seq = name_seq(e->d_name);
		struct stat st;
		if (!seq || fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		s->count++;
		s->total_bytes += (size_t)st.st_size;
		if (seq >= s->next_seq)
			s->next_seq = seq + 1;
	}
	closedir(d);
	return PW_OK;
}

pw_err pw_spool_open(pw_spool *s, const char *dir, size_t max_bytes, pw_error *err)
{
	*s = (pw_spool)PW_SPOOL_INIT;
	s->max_bytes = max_bytes ? max_bytes : PW_SPOOL_DEFAULT_MAX;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return pw_error_set(err, PW_ERR_IO, "%s: cannot create the spool directory: %s",
				    dir, strerror(errno));
	s->dir = strdup(dir);
	if (!s->dir)
		return pw_error_set(err, PW_ERR_NOMEM, "spool: out of memory");
	pw_err rc = read_counter(s, err);
	if (!rc)
		rc = scan_dir(s, err);
	if (rc)
		pw_spool_release(s);
	return rc;
}

pw_err pw_spool_put(pw_spool *s, const void *data, size_t len, uint64_t *seq, pw_error *err)
{
	char head[HEADER_MAX];
	int hn = snprintf(head, sizeof head, MAGIC " %zu %08lx\n", len,
			  crc32(crc32(0, Z_NULL, 0), data, (uInt)len));
	size_t size = (size_t)hn + len;
	if (len > RESULT_MAX ||
	    size > s->max_bytes - (s->total_bytes < s->max_bytes ? s->total_bytes : s->max_bytes))
		return pw_error_set(err, PW_ERR_TOOLARGE,
				    "%s: a result of %zu bytes does not fit: the spool holds %zu "
				    "results in %zu bytes and its limit is %zu bytes; the server "
				    "has not acknowledged them, check that it is reachable (or "
				    "raise spool_max_bytes)",
				    s->dir, len, s->count, s->total_bytes, s->max_bytes);
	uint64_t n = s->next_seq;
	pw_err rc = write_counter(s, n + 1, err);
	if (rc)
		return rc;
	s->next_seq = n + 1;
	pw_buf file = PW_BUF_INIT, path = PW_BUF_INIT;
	if (pw_buf_append(&file, head, (size_t)hn) || pw_buf_append(&file, data, len))
		rc = pw_error_set(err, PW_ERR_NOMEM, "spool: out of memory");
	if (!rc)
		rc = path_of(s, NULL, n, &path, err);
	if (!rc)
		rc = pw_write_file_atomic(path.data, file.data, file.len, 0600, err);
	if (!rc) {
		s->count++;
		s->total_bytes += size;
		*seq = n;
	}
	pw_buf_release(&file);
	pw_buf_release(&path);
	return rc;
}

pw_err pw_spool_raise(pw_spool *s, uint64_t next, pw_error *err)
{
	if (next <= s->next_seq)
		return PW_OK;
	pw_err rc = write_counter(s, next, err);
	if (!rc)
		s->next_seq = next;
	return rc;
}

pw_err pw_spool_renumber(pw_spool *s, uint64_t seq, uint64_t *to, pw_error *err)
{
	pw_buf from = PW_BUF_INIT, path = PW_BUF_INIT;
	uint64_t n = s->next_seq;
	pw_err rc = path_of(s, NULL, seq, &from, err);
	if (!rc)
		rc = path_of(s, NULL, n, &path, err);
	if (!rc && access(from.data, F_OK) != 0)
		rc = pw_error_set(err, PW_ERR_NOTFOUND, "%s: no such result to renumber",
				  from.data);
	if (!rc)
		rc = write_counter(s, n + 1, err);
	if (!rc) {
		s->next_seq = n + 1;
		if (rename(from.data, path.data) != 0)
			rc = pw_error_set(err, PW_ERR_IO, "%s: cannot rename to %s: %s", from.data,
					  path.data, strerror(errno));
	}
	if (!rc) {
		/* The new name must survive a crash as the counter does. */
		int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) != 0)
			rc = pw_error_set(err, PW_ERR_IO, "%s: cannot sync the spool directory: %s",
					  s->dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
	}
	if (!rc)
		*to = n;
	pw_buf_release(&from);
	pw_buf_release(&path);
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

pw_err pw_spool_list(const pw_spool *s, uint64_t **seqs, size_t *n, pw_error *err)
{
	*seqs = NULL;
	*n = 0;
	DIR *d = opendir(s->dir);
	if (!d)
		return pw_error_set(err, PW_ERR_IO, "%s: cannot read the spool: %s", s->dir,
				    strerror(errno));
	size_t cap = 0;
	pw_err rc = PW_OK;
	struct dirent *e;
	while ((e = readdir(d))) {
		uint64_t seq = name_seq(e->d_name);
		if (!seq)
			continue;
		uint64_t *v = pw_grow(*seqs, &cap, *n, sizeof *v);
		if (!v) {
			rc = pw_error_set(err, PW_ERR_NOMEM, "spool: out of memory");
			break;
		}
		*seqs = v;
		(*seqs)[(*n)++] = seq;
	}
	closedir(d);
	if (rc) {
		free(*seqs);
		*seqs = NULL;
		*n = 0;
		return rc;
	}
	if (*n)
		qsort(*seqs, *n, sizeof **seqs, cmp_u64);
	return PW_OK;
}

/* Checks "PWSPOOL1 <len> <crc>\n" + payload; on success sets the payload. */
static bool verify(const pw_buf *file, const char **payload, size_t *len)
{
	const char *p = pw_buf_str(file);
	const char *nl = memchr(p, '\n', file->len < HEADER_MAX ? file->len : HEADER_MAX);
	if (!nl || strncmp(p, MAGIC " ", sizeof MAGIC) != 0)
		return false;
	const char *q = p + sizeof MAGIC;
	if (*q < '0' || *q > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(q, &end, 10);
	if (errno || *end != ' ' || end[1] < '0')
		return false;
	unsigned long crc = strtoul(end + 1, &end, 16);
	if (end != nl || n != file->len - (size_t)(nl + 1 - p))
		return false;
	*payload = nl + 1;
	*len = (size_t)n;
	return crc32(crc32(0, Z_NULL, 0), (const Bytef *)*payload, (uInt)n) == crc;
}

static pw_err quarantine(pw_spool *s, uint64_t seq, const char *from, const char *why,
			 pw_error *err)
{
	pw_buf qdir = PW_BUF_INIT, to = PW_BUF_INIT;
	pw_err rc = PW_OK;
	if (pw_buf_printf(&qdir, "%s/quarantine", s->dir) ||
	    path_of(s, "quarantine", seq, &to, NULL))
		rc = pw_error_set(err, PW_ERR_NOMEM, "spool: out of memory");
	else if ((mkdir(qdir.data, 0700) != 0 && errno != EEXIST) || rename(from, to.data) != 0)
		rc = pw_error_set(err, PW_ERR_IO, "%s: %s, and it cannot be moved to %s: %s", from,
				  why, qdir.data, strerror(errno));
	else
		rc = pw_error_set(err, PW_ERR_INTEGRITY,
				  "%s: %s; moved to %s, the other results are delivered without it",
				  from, why, to.data);
	if (rc == PW_ERR_INTEGRITY)
		scan_dir(s, NULL);
	pw_buf_release(&qdir);
	pw_buf_release(&to);
	return rc;
}

pw_err pw_spool_read(pw_spool *s, uint64_t seq, pw_buf *out, pw_error *err)
{
	pw_buf path = PW_BUF_INIT, file = PW_BUF_INIT;
	pw_err rc = path_of(s, NULL, seq, &path, err);
	if (!rc)
		rc = pw_read_file(path.data, &file, RESULT_MAX + HEADER_MAX, err);
	if (rc == PW_ERR_TOOLARGE) {
		rc = quarantine(s, seq, path.data, "larger than any result", err);
	} else if (!rc) {
		const char *payload;
		size_t len;
		if (!verify(&file, &payload, &len))
			rc = quarantine(s, seq, path.data,
					"damaged (bad header, length or checksum)", err);
		else if (pw_buf_append(out, payload, len))
			rc = pw_error_set(err, PW_ERR_NOMEM, "spool: out of memory");
	}
	pw_buf_release(&path);
	pw_buf_release(&file);
	return rc;
}

pw_err pw_spool_remove(pw_spool *s, uint64_t seq, pw_error *err)
{
	pw_buf path = PW_BUF_INIT;
	pw_err rc = path_of(s, NULL, seq, &path, err);
	struct stat st;
	if (!rc && stat(path.data, &st) == 0) {
		if (unlink(path.data) != 0) {
			rc = pw_error_set(err, PW_ERR_IO, "%s: cannot delete: %s", path.data,
					  strerror(errno));
		} else {
			size_t size = (size_t)st.st_size;
			s->count -= s->count > 0;
			s->total_bytes = s->total_bytes > size ? s->total_bytes - size : 0;
		}
	}
	pw_buf_release(&path);
	return rc;
}
