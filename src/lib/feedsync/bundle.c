#include "patchwarden/bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "patchwarden/buf.h"
#include "patchwarden/clock.h"
#include "patchwarden/feedsync.h"
#include "patchwarden/fileio.h"
#include "patchwarden/grow.h"

#define PUB_TAG "pw-ed25519-public"
#define SEC_TAG "pw-ed25519-secret"
#define MANIFEST_NAME "MANIFEST"
#define SIG_NAME "MANIFEST.sig"
#define FEEDS_PREFIX "feeds/"
#define SIG_TEXT_MAX 1024
#define CHUNK 65536
/* 2^62: larger sizes are certainly damage, and sums cannot overflow. */
#define FILE_SIZE_MAX ((uint64_t)1 << 62)

static pw_err crypto_ready(pw_error *err)
{
	if (sodium_init() < 0)
		return pw_error_set(err, PW_ERR_EXTERNAL, "libsodium cannot start");
	return PW_OK;
}

static void key_id_of(const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
		      char id[PW_BUNDLE_KEY_ID_LEN + 1])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, pk, crypto_sign_PUBLICKEYBYTES);
	sodium_bin2hex(id, PW_BUNDLE_KEY_ID_LEN + 1, h, PW_BUNDLE_KEY_ID_LEN / 2);
}

/* ---- manifest ---- */

void pw_bundle_manifest_release(pw_bundle_manifest *m)
{
	for (size_t i = 0; i < m->n_files; i++)
		free(m->files[i].name);
	free(m->files);
	*m = (pw_bundle_manifest)PW_BUNDLE_MANIFEST_INIT;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("._+,:@=~-", c));
}

bool pw_bundle_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > PW_BUNDLE_NAME_MAX)
		return false;
	bool at_start = true;
	for (const char *p = name; *p; p++) {
		if (*p == '/') {
			if (at_start)
				return false;
			at_start = true;
			continue;
		}
		if ((at_start && *p == '.') || !name_char(*p))
			return false;
		at_start = false;
	}
	return !at_start;
}

static bool lower_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

static bool timestamp_valid(const char *p, size_t n)
{
	static const char pattern[] = "DDDD-DD-DDTDD:DD:DDZ";
	if (n != sizeof pattern - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (pattern[i] == 'D' ? !(p[i] >= '0' && p[i] <= '9') : p[i] != pattern[i])
			return false;
	return true;
}

/* Parses "<size> <sha256> <name>" of a file line. */
static pw_err parse_file_line(const char *l, size_t n, const char *where, unsigned line,
			      pw_bundle_manifest *m, pw_error *err)
{
	size_t i = 0;
	uint64_t size = 0;
	while (i < n && l[i] >= '0' && l[i] <= '9') {
		if (size > FILE_SIZE_MAX / 10 || (i == 1 && l[0] == '0'))
			return pw_error_set(err, PW_ERR_PARSE,
					    "%s:%u: file size is not a plain number", where, line);
		size = size * 10 + (uint64_t)(l[i] - '0');
		i++;
	}
	if (i == 0 || i >= n || l[i] != ' ' || size > FILE_SIZE_MAX)
		return pw_error_set(err, PW_ERR_PARSE,
				    "%s:%u: expected 'file <size> <sha256> <name>'", where, line);
	i++;
	if (n - i < 66 || !lower_hex(l + i, 64) || l[i + 64] != ' ')
		return pw_error_set(err, PW_ERR_PARSE,
				    "%s:%u: the SHA-256 must be 64 lower-case hex digits", where,
				    line);
	const char *hex = l + i;
	const char *name = l + i + 65;
	size_t nlen = n - i - 65;
	if (nlen > PW_BUNDLE_NAME_MAX)
		return pw_error_set(err, PW_ERR_PARSE, "%s:%u: file name longer than %d bytes",
				    where, line, PW_BUNDLE_NAME_MAX);
	char nb[PW_BUNDLE_NAME_MAX + 1];
	memcpy(nb, name, nlen);
	nb[nlen] = '\0';
	if (!pw_bundle_name_valid(nb))
		return pw_error_set(
			err, PW_ERR_PARSE,
			"%s:%u: file name '%s' is not allowed (letters, digits, ._+,:@=~- "
			"in '/'-separated parts that do not start with '.')",
			where, line, nb);
	if (m->n_files && strcmp(m->files[m->n_files - 1].name, nb) >= 0)
		return pw_error_set(
			err, PW_ERR_PARSE,
			"%s:%u: file '%s' is out of order or repeated (names must be sorted "
			"and unique)",
			where, line, nb);
	if (m->n_files >= PW_BUNDLE_FILES_MAX)
		return pw_error_set(err, PW_ERR_TOOLARGE, "%s:%u: more than %u files", where, line,
				    PW_BUNDLE_FILES_MAX);
	pw_bundle_file *nf = pw_grow(m->files, &m->cap, m->n_files, sizeof *nf);
	if (!nf)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	m->files = nf;
	pw_bundle_file *f = &m->files[m->n_files];
	f->name = strdup(nb);
	if (!f->name)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	f->size = size;
	sodium_hex2bin(f->sha256, sizeof f->sha256, hex, 64, NULL, NULL, NULL);
	m->n_files++;
	return PW_OK;
}

enum mstate { M_HEADER, M_CREATED, M_KEY, M_FILES };

static pw_err parse_line(const char *l, size_t n, const char *where, unsigned line, enum mstate *st,
			 pw_bundle_manifest *m, pw_error *err)
{
	static const char magic[] = "patchwarden-bundle ";
	switch (*st) {
	case M_HEADER:
		if (n < sizeof magic || memcmp(l, magic, sizeof magic - 1) != 0)
			return pw_error_set(err, PW_ERR_PARSE,
					    "%s:%u: not a patchwarden bundle manifest", where,
					    line);
		if (n != sizeof magic || l[sizeof magic - 1] != '1')
			return pw_error_set(err, PW_ERR_UNSUPPORTED,
					    "%s:%u: bundle format '%.*s' is not supported; this "
					    "patchwarden reads format %d",
					    where, line, (int)(n - (sizeof magic - 1)),
					    l + sizeof magic - 1, PW_BUNDLE_VERSION);
		m->version = PW_BUNDLE_VERSION;
		*st = M_CREATED;
		return PW_OK;
	case M_CREATED:
		if (n < 8 || memcmp(l, "created ", 8) != 0 || !timestamp_valid(l + 8, n - 8))
			return pw_error_set(err, PW_ERR_PARSE,
					    "%s:%u: expected 'created YYYY-MM-DDTHH:MM:SSZ'", where,
					    line);
		memcpy(m->created, l + 8, n - 8);
		m->created[n - 8] = '\0';
		*st = M_KEY;
		return PW_OK;
	case M_KEY:
		if (n != 4 + PW_BUNDLE_KEY_ID_LEN || memcmp(l, "key ", 4) != 0 ||
		    !lower_hex(l + 4, PW_BUNDLE_KEY_ID_LEN))
			return pw_error_set(err, PW_ERR_PARSE,
					    "%s:%u: expected 'key <%d hex digits>'", where, line,
					    PW_BUNDLE_KEY_ID_LEN);
		memcpy(m->key_id, l + 4, PW_BUNDLE_KEY_ID_LEN);
		m->key_id[PW_BUNDLE_KEY_ID_LEN] = '\0';
		*st = M_FILES;
		return PW_OK;
	case M_FILES:
		if (n < 5 || memcmp(l, "file ", 5) != 0)
			return pw_error_set(err, PW_ERR_PARSE, "%s:%u: expected a 'file' line",
					    where, line);
		return parse_file_line(l + 5, n - 5, where, line, m, err);
	}
	return PW_ERR_PARSE;
}

pw_err pw_bundle_manifest_parse(const char *data, size_t len, const char *where,
				pw_bundle_manifest *out, pw_error *err)
{
	*out = (pw_bundle_manifest)PW_BUNDLE_MANIFEST_INIT;
	if (len > PW_BUNDLE_MANIFEST_MAX)
		return pw_error_set(err, PW_ERR_TOOLARGE, "%s: larger than %u bytes", where,
				    PW_BUNDLE_MANIFEST_MAX);
	enum mstate st = M_HEADER;
	unsigned line = 0;
	size_t pos = 0;
	pw_err rc = PW_OK;
	while (pos < len && rc == PW_OK) {
		line++;
		const char *l = data + pos;
		const char *nl = memchr(l, '\n', len - pos);
		if (!nl) {
			rc = pw_error_set(err, PW_ERR_PARSE,
					  "%s:%u: truncated (the last line has no newline)", where,
					  line);
			break;
		}
		size_t n = (size_t)(nl - l);
		pos += n + 1;
		for (size_t i = 0; i < n && rc == PW_OK; i++)
			if ((unsigned char)l[i] < 0x20 || (unsigned char)l[i] > 0x7e)
				rc = pw_error_set(err, PW_ERR_PARSE,
						  "%s:%u: byte 0x%02x is not allowed in a manifest",
						  where, line, (unsigned char)l[i]);
		if (rc == PW_OK)
			rc = parse_line(l, n, where, line, &st, out, err);
	}
	if (rc == PW_OK && (st != M_FILES || out->n_files == 0))
		rc = pw_error_set(err, PW_ERR_PARSE, "%s: truncated: %s", where,
				  st == M_HEADER    ? "empty"
				  : st == M_CREATED ? "no 'created' line"
				  : st == M_KEY     ? "no 'key' line"
						    : "lists no files");
	if (rc)
		pw_bundle_manifest_release(out);
	return rc;
}

static pw_err manifest_format(const pw_bundle_manifest *m, pw_buf *out)
{
	pw_err rc = pw_buf_printf(out, "patchwarden-bundle %u\ncreated %s\nkey %s\n", m->version,
				  m->created, m->key_id);
	for (size_t i = 0; i < m->n_files && rc == PW_OK; i++) {
		char hex[65];
		sodium_bin2hex(hex, sizeof hex, m->files[i].sha256, sizeof m->files[i].sha256);
		rc = pw_buf_printf(out, "file %llu %s %s\n", (unsigned long long)m->files[i].size,
				   hex, m->files[i].name);
	}
	return rc;
}

/* ---- keys ---- */

static pw_err load_key(const char *path, bool secret, unsigned char *key, size_t keylen,
		       pw_error *err)
{
	const char *want = secret ? SEC_TAG : PUB_TAG;
	const char *other = secret ? PUB_TAG : SEC_TAG;
	struct stat st;
	if (stat(path, &st) != 0)
		return pw_error_set(err, errno == ENOENT ? PW_ERR_NOTFOUND : PW_ERR_IO,
				    "%s: cannot open the key: %s", path, strerror(errno));
	pw_buf b = PW_BUF_INIT;
	pw_err rc = pw_read_file(path, &b, 4096, err);
	if (rc) {
		pw_buf_release(&b);
		return rc;
	}
	rc = pw_error_set(err, PW_ERR_PARSE,
			  "%s: not a patchwarden bundle %s key (expected a '%s' line)", path,
			  secret ? "secret" : "public", want);
	for (char *line = b.data; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		size_t tl = strlen(want);
		if (line[0] == '#' || line[0] == '\0') {
			line = nl ? nl + 1 : NULL;
			continue;
		}
		if (strncmp(line, other, tl) == 0 && line[tl] == ' ') {
			rc = pw_error_set(err, PW_ERR_INVALID,
					  "%s: this is a %s key; give the %s key", path,
					  secret ? "public" : "secret",
					  secret ? "secret (.sec)" : "public (.pub)");
		} else if (strncmp(line, want, tl) == 0 && line[tl] == ' ') {
			size_t got = 0;
			const char *b64 = line + tl + 1;
			if (sodium_base642bin(key, keylen, b64, strlen(b64), " \r", &got, NULL,
					      sodium_base64_VARIANT_ORIGINAL) == 0 &&
			    got == keylen)
				rc = PW_OK;
			else
				rc = pw_error_set(err, PW_ERR_PARSE,
						  "%s: the key is damaged (bad base64 or length)",
						  path);
		}
		break;
	}
	sodium_memzero(b.data, b.cap);
	pw_buf_release(&b);
	if (rc == PW_OK && secret && (st.st_mode & 077)) {
		sodium_memzero(key, keylen);
		rc = pw_error_set(
			err, PW_ERR_AUTH,
			"%s: the secret key is accessible by other users (mode %04o); run "
			"chmod 600 %s",
			path, (unsigned)(st.st_mode & 07777), path);
	}
	return rc;
}

static pw_err write_key(const char *path, const char *tag, const unsigned char *key, size_t keylen,
			const char *comment, unsigned mode, pw_error *err)
{
	char b64[256];
	sodium_bin2base64(b64, sizeof b64, key, keylen, sodium_base64_VARIANT_ORIGINAL);
	pw_buf text = PW_BUF_INIT;
	pw_err rc = pw_buf_printf(&text, "# %s\n%s %s\n", comment, tag, b64);
	if (rc == PW_OK)
		rc = pw_write_file_atomic(path, text.data, text.len, mode, err);
	else
		rc = pw_error_set(err, rc, "out of memory");
	sodium_memzero(b64, sizeof b64);
	if (text.data)
		sodium_memzero(text.data, text.cap);
	pw_buf_release(&text);
	return rc;
}

pw_err pw_bundle_keygen(const char *prefix, bool force, char key_id[PW_BUNDLE_KEY_ID_LEN + 1],
			pw_error *err)
{
	pw_err rc = crypto_ready(err);
	if (rc)
		return rc;
	pw_buf pub = PW_BUF_INIT, sec = PW_BUF_INIT;
	if (pw_buf_printf(&pub, "%s.pub", prefix) || pw_buf_printf(&sec, "%s.sec", prefix)) {
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		goto out;
	}
	const char *paths[2] = {pub.data, sec.data};
	for (int i = 0; i < 2 && !force; i++) {
		struct stat st;
		if (lstat(paths[i], &st) == 0) {
			rc = pw_error_set(
				err, PW_ERR_INVALID,
				"%s exists; choose another name or pass --force to replace the key",
				paths[i]);
			goto out;
		}
	}
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	crypto_sign_keypair(pk, sk);
	key_id_of(pk, key_id);
	char comment[160];
	snprintf(comment, sizeof comment,
		 "patchwarden bundle signing key %s: SECRET, keep it on the signing host", key_id);
	rc = write_key(sec.data, SEC_TAG, sk, sizeof sk, comment, 0600, err);
	snprintf(comment, sizeof comment, "patchwarden bundle verification key %s", key_id);
	if (rc == PW_OK)
		rc = write_key(pub.data, PUB_TAG, pk, sizeof pk, comment, 0644, err);
	sodium_memzero(sk, sizeof sk);
out:
	pw_buf_release(&pub);
	pw_buf_release(&sec);
	return rc;
}

/* ---- create ---- */

struct item {
	char *name, *path;
};

struct items {
	struct item *v;
	size_t n, cap;
};

/* clang-format off */
#define ITEMS_INIT {NULL, 0, 0}
/* clang-format on */

static void items_release(struct items *it)
{
	for (size_t i = 0; i < it->n; i++) {
		free(it->v[i].name);
		free(it->v[i].path);
	}
	free(it->v);
}

static pw_err items_add(struct items *it, const char *name, const char *path, pw_error *err)
{
	if (!pw_bundle_name_valid(name))
		return pw_error_set(
			err, PW_ERR_INVALID,
			"%s: the name '%s' cannot be bundled: use letters, digits and "
			"._+,:@=~- in parts that do not start with '.', at most %d bytes",
			path, name, PW_BUNDLE_NAME_MAX);
	if (it->n >= PW_BUNDLE_FILES_MAX)
		return pw_error_set(err, PW_ERR_TOOLARGE, "more than %u files to bundle",
				    PW_BUNDLE_FILES_MAX);
	struct item *nv = pw_grow(it->v, &it->cap, it->n, sizeof *nv);
	if (!nv)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	it->v = nv;
	struct item *x = &it->v[it->n];
	x->name = strdup(name);
	x->path = strdup(path);
	if (!x->name || !x->path) {
		free(x->name);
		free(x->path);
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	it->n++;
	return PW_OK;
}

static pw_err walk(struct items *it, const char *dir, const char *rel, unsigned depth,
		   pw_error *err)
{
	if (depth > 32)
		return pw_error_set(err, PW_ERR_INVALID, "%s: directories nested too deep", dir);
	DIR *d = opendir(dir);
	if (!d)
		return pw_error_set(err, PW_ERR_IO, "%s: cannot read the directory: %s", dir,
				    strerror(errno));
	pw_err rc = PW_OK;
	struct dirent *de;
	pw_buf path = PW_BUF_INIT, name = PW_BUF_INIT;
	while (rc == PW_OK && (de = readdir(d))) {
		/* Hidden entries are partial downloads, locks and the like. */
		if (de->d_name[0] == '.')
			continue;
		pw_buf_reset(&path);
		pw_buf_reset(&name);
		if (pw_buf_printf(&path, "%s/%s", dir, de->d_name) ||
		    pw_buf_printf(&name, "%s%s%s", rel, *rel ? "/" : "", de->d_name)) {
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
			break;
		}
		struct stat st;
		if (lstat(path.data, &st) != 0)
			rc = pw_error_set(err, PW_ERR_IO, "%s: %s", path.data, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = walk(it, path.data, name.data, depth + 1, err);
		else if (S_ISREG(st.st_mode))
			rc = items_add(it, name.data, path.data, err);
		else
			rc = pw_error_set(
				err, PW_ERR_INVALID,
				"%s: not a regular file or directory (symbolic links are not "
				"bundled; copy the file instead)",
				path.data);
	}
	closedir(d);
	pw_buf_release(&path);
	pw_buf_release(&name);
	return rc;
}

static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->name, ((const struct item *)b)->name);
}

static pw_err collect_inputs(const char *const *inputs, size_t n, struct items *it, pw_error *err)
{
	pw_err rc = PW_OK;
	for (size_t i = 0; i < n && rc == PW_OK; i++) {
		struct stat st;
		if (stat(inputs[i], &st) != 0) {
			rc = pw_error_set(err, errno == ENOENT ? PW_ERR_NOTFOUND : PW_ERR_IO,
					  "%s: %s", inputs[i], strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			rc = walk(it, inputs[i], "", 0, err);
		} else if (S_ISREG(st.st_mode)) {
			const char *slash = strrchr(inputs[i], '/');
			rc = items_add(it, slash ? slash + 1 : inputs[i], inputs[i], err);
		} else {
			rc = pw_error_set(err, PW_ERR_INVALID,
					  "%s: not a regular file or directory", inputs[i]);
		}
	}
	if (rc)
		return rc;
	if (it->n == 0)
		return pw_error_set(err, PW_ERR_INVALID,
				    "nothing to bundle: the inputs hold no files");
	qsort(it->v, it->n, sizeof *it->v, item_cmp);
	for (size_t i = 1; i < it->n; i++)
		if (strcmp(it->v[i - 1].name, it->v[i].name) == 0)
			return pw_error_set(err, PW_ERR_INVALID,
					    "%s and %s would both be bundled as '%s'; bundle their "
					    "directories instead",
					    it->v[i - 1].path, it->v[i].path, it->v[i].name);
	return PW_OK;
}

/* Hashes `path`; with `a` also writes it as the current archive entry,
 * stopping at `limit` bytes (the size recorded in the entry header). */
static pw_err hash_file(const char *path, struct archive *a, uint64_t limit, uint64_t *size,
			unsigned char sha[32], pw_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pw_error_set(err, PW_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	crypto_hash_sha256_state hs;
	crypto_hash_sha256_init(&hs);
	unsigned char *buf = malloc(CHUNK);
	pw_err rc = buf ? PW_OK : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	*size = 0;
	while (rc == PW_OK) {
		ssize_t r = read(fd, buf, CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = pw_error_set(err, PW_ERR_IO, "%s: read failed: %s", path,
					  strerror(errno));
			break;
		}
		if (r == 0)
			break;
		crypto_hash_sha256_update(&hs, buf, (unsigned long long)r);
		if (a && *size + (uint64_t)r <= limit &&
		    archive_write_data(a, buf, (size_t)r) != (la_ssize_t)r)
			rc = pw_error_set(err, PW_ERR_IO, "bundle: cannot write %s: %s", path,
					  archive_error_string(a));
		*size += (uint64_t)r;
	}
	crypto_hash_sha256_final(&hs, sha);
	free(buf);
	close(fd);
	return rc;
}

static pw_err write_entry_header(struct archive *a, const char *name, uint64_t size, time_t mtime,
				 pw_error *err)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, mtime, 0);
	pw_err rc = PW_OK;
	if (archive_write_header(a, e) != ARCHIVE_OK)
		rc = pw_error_set(err, PW_ERR_IO, "bundle: cannot write %s: %s", name,
				  archive_error_string(a));
	archive_entry_free(e);
	return rc;
}

static pw_err write_small(struct archive *a, const char *name, const char *data, size_t len,
			  time_t mtime, pw_error *err)
{
	pw_err rc = write_entry_header(a, name, len, mtime, err);
	if (rc == PW_OK && archive_write_data(a, data, len) != (la_ssize_t)len)
		rc = pw_error_set(err, PW_ERR_IO, "bundle: cannot write %s: %s", name,
				  archive_error_string(a));
	return rc;
}

static pw_err write_archive(const char *tmp, const pw_buf *manifest, const char *sig_text,
			    const struct items *it, const pw_bundle_manifest *m, time_t mtime,
			    pw_error *err)
{
	struct archive *a = archive_write_new();
	if (!a)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	pw_err rc = PW_OK;
	if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open_filename(a, tmp) != ARCHIVE_OK)
		rc = pw_error_set(err, PW_ERR_IO, "%s: cannot create the bundle: %s", tmp,
				  archive_error_string(a));
	if (rc == PW_OK)
		rc = write_small(a, MANIFEST_NAME, manifest->data, manifest->len, mtime, err);
	if (rc == PW_OK)
		rc = write_small(a, SIG_NAME, sig_text, strlen(sig_text), mtime, err);
	pw_buf member = PW_BUF_INIT;
	for (size_t i = 0; i < it->n && rc == PW_OK; i++) {
		const pw_bundle_file *f = &m->files[i];
		pw_buf_reset(&member);
		if (pw_buf_printf(&member, FEEDS_PREFIX "%s", f->name)) {
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
			break;
		}
		rc = write_entry_header(a, member.data, f->size, mtime, err);
		uint64_t size;
		unsigned char sha[32];
		if (rc == PW_OK)
			rc = hash_file(it->v[i].path, a, f->size, &size, sha, err);
		if (rc == PW_OK && (size != f->size || memcmp(sha, f->sha256, 32) != 0))
			rc = pw_error_set(
				err, PW_ERR_IO,
				"%s changed while the bundle was written; run again when the "
				"feed files are stable",
				it->v[i].path);
	}
	pw_buf_release(&member);
	if (archive_write_close(a) != ARCHIVE_OK && rc == PW_OK)
		rc = pw_error_set(err, PW_ERR_IO, "%s: cannot finish the bundle: %s", tmp,
				  archive_error_string(a));
	archive_write_free(a);
	if (rc == PW_OK) {
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) != 0)
			rc = pw_error_set(err, PW_ERR_IO, "%s: cannot sync: %s", tmp,
					  strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	return rc;
}

static pw_err sign_manifest(const pw_buf *manifest, const unsigned char *sk, char *sig_text,
			    size_t cap)
{
	unsigned char sig[crypto_sign_BYTES];
	crypto_sign_detached(sig, NULL, (const unsigned char *)manifest->data, manifest->len, sk);
	sodium_bin2base64(sig_text, cap - 1, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
	size_t l = strlen(sig_text);
	sig_text[l] = '\n';
	sig_text[l + 1] = '\0';
	return PW_OK;
}

pw_err pw_bundle_create(const char *out_path, const char *secret_key_path,
			const char *const *inputs, size_t n_inputs, pw_bundle_info *info,
			pw_error *err)
{
	pw_err rc = crypto_ready(err);
	if (rc)
		return rc;
	unsigned char sk[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	rc = load_key(secret_key_path, true, sk, sizeof sk, err);
	if (rc)
		return rc;
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	struct items it = ITEMS_INIT;
	pw_bundle_manifest m = PW_BUNDLE_MANIFEST_INIT;
	pw_buf text = PW_BUF_INIT, tmp = PW_BUF_INIT;
	time_t now = time(NULL);
	m.version = PW_BUNDLE_VERSION;
	pw_ts_seconds(now, m.created);
	key_id_of(pk, m.key_id);
	rc = collect_inputs(inputs, n_inputs, &it, err);
	if (rc == PW_OK) {
		m.files = calloc(it.n, sizeof *m.files);
		if (!m.files)
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		else
			m.cap = it.n;
	}
	for (size_t i = 0; i < it.n && rc == PW_OK; i++) {
		pw_bundle_file *f = &m.files[m.n_files++];
		f->name = strdup(it.v[i].name);
		if (!f->name)
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		else
			rc = hash_file(it.v[i].path, NULL, 0, &f->size, f->sha256, err);
	}
	if (rc == PW_OK && (manifest_format(&m, &text) ||
			    pw_buf_printf(&tmp, "%s.tmp.%ld", out_path, (long)getpid())))
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	char sig_text[SIG_TEXT_MAX];
	if (rc == PW_OK)
		rc = sign_manifest(&text, sk, sig_text, sizeof sig_text);
	if (rc == PW_OK) {
		rc = write_archive(tmp.data, &text, sig_text, &it, &m, now, err);
		if (rc == PW_OK && rename(tmp.data, out_path) != 0)
			rc = pw_error_set(err, PW_ERR_IO, "%s: cannot rename to %s: %s", tmp.data,
					  out_path, strerror(errno));
		if (rc)
			unlink(tmp.data);
	}
	if (rc == PW_OK && info) {
		memset(info, 0, sizeof *info);
		memcpy(info->created, m.created, sizeof info->created);
		memcpy(info->key_id, m.key_id, sizeof info->key_id);
		info->files = m.n_files;
		for (size_t i = 0; i < m.n_files; i++)
			info->bytes += m.files[i].size;
	}
	sodium_memzero(sk, sizeof sk);
	items_release(&it);
	pw_bundle_manifest_release(&m);
	pw_buf_release(&text);
	pw_buf_release(&tmp);
	return rc;
}

/* ---- verify ---- */

struct reader {
	struct archive *a;
	const char *bundle;
	pw_error *err;
};

static pw_err damaged(const struct reader *r)
{
	const char *why = archive_error_string(r->a);
	return pw_error_set(r->err, PW_ERR_INTEGRITY,
			    "%s: damaged or truncated bundle (%s); fetch or copy it again",
			    r->bundle, why ? why : "unexpected end of data");
}

static pw_err next_member(struct reader *r, struct archive_entry **e, bool *eof)
{
	int ar = archive_read_next_header(r->a, e);
	*eof = ar == ARCHIVE_EOF;
	if (ar == ARCHIVE_OK || ar == ARCHIVE_WARN || ar == ARCHIVE_EOF)
		return PW_OK;
	return damaged(r);
}

/* Reads a member that must come at this position and be small. */
static pw_err read_small(struct reader *r, const char *want, size_t max, pw_buf *out)
{
	struct archive_entry *e;
	bool eof;
	pw_err rc = next_member(r, &e, &eof);
	if (rc)
		return rc;
	const char *name = eof ? NULL : archive_entry_pathname(e);
	if (eof || !name || strcmp(name, want) != 0)
		return pw_error_set(r->err, PW_ERR_INTEGRITY,
				    "%s: not a patchwarden bundle: expected member %s, found %s",
				    r->bundle, want,
				    eof    ? "the end of the archive"
				    : name ? name
					   : "a nameless member");
	if (archive_entry_filetype(e) != AE_IFREG || !archive_entry_size_is_set(e) ||
	    archive_entry_size(e) < 0 || (uint64_t)archive_entry_size(e) > max)
		return pw_error_set(r->err, PW_ERR_INTEGRITY,
				    "%s: member %s is not a regular file of at most %zu bytes",
				    r->bundle, want, max);
	size_t size = (size_t)archive_entry_size(e);
	if (pw_buf_reserve(out, size))
		return pw_error_set(r->err, PW_ERR_NOMEM, "out of memory");
	while (out->len < size) {
		la_ssize_t n = archive_read_data(r->a, out->data + out->len, size - out->len);
		if (n < 0)
			return damaged(r);
		if (n == 0)
			return pw_error_set(r->err, PW_ERR_INTEGRITY, "%s: member %s is truncated",
					    r->bundle, want);
		out->len += (size_t)n;
	}
	out->data[out->len] = '\0';
	return PW_OK;
}

static pw_err check_signature(struct reader *r, const pw_buf *manifest, const pw_buf *sig_text,
			      const unsigned char *pk, const char *key_id, const char *key_path)
{
	unsigned char sig[crypto_sign_BYTES];
	size_t got = 0;
	if (sodium_base642bin(sig, sizeof sig, sig_text->data ? sig_text->data : "", sig_text->len,
			      "\n", &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != sizeof sig)
		return pw_error_set(r->err, PW_ERR_INTEGRITY,
				    "%s: %s is not an Ed25519 signature; the bundle is damaged",
				    r->bundle, SIG_NAME);
	if (crypto_sign_verify_detached(sig, (const unsigned char *)manifest->data, manifest->len,
					pk) == 0)
		return PW_OK;
	/* Tell a wrong key from tampering where the manifest still says. */
	pw_bundle_manifest m;
	bool other_key = pw_bundle_manifest_parse(manifest->data, manifest->len, MANIFEST_NAME, &m,
						  NULL) == PW_OK &&
			 strcmp(m.key_id, key_id) != 0;
	pw_err rc;
	if (other_key)
		rc = pw_error_set(
			r->err, PW_ERR_INTEGRITY,
			"%s: signed with key %s, but %s is key %s; verify with the signer's "
			"public key",
			r->bundle, m.key_id, key_path, key_id);
	else
		rc = pw_error_set(
			r->err, PW_ERR_INTEGRITY,
			"%s: the signature does not verify with key %s (%s): the manifest was "
			"modified or signed by another key; do not use this bundle",
			r->bundle, key_id, key_path);
	pw_bundle_manifest_release(&m);
	return rc;
}

static int file_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const pw_bundle_file *)elem)->name);
}

static pw_err open_extract(const char *dir, const char *name, int *fd, pw_error *err)
{
	pw_buf p = PW_BUF_INIT;
	if (pw_buf_printf(&p, "%s/%s", dir, name))
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	pw_err rc = PW_OK;
	/* Names were validated: no "..", no absolute paths, no hidden parts. */
	for (size_t i = strlen(dir) + 1; i < p.len && rc == PW_OK; i++) {
		if (p.data[i] != '/')
			continue;
		p.data[i] = '\0';
		if (mkdir(p.data, 0700) != 0 && errno != EEXIST)
			rc = pw_error_set(err, PW_ERR_IO, "%s: %s", p.data, strerror(errno));
		p.data[i] = '/';
	}
	if (rc == PW_OK) {
		*fd = open(p.data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (*fd < 0)
			rc = pw_error_set(err, PW_ERR_IO, "%s: cannot create: %s", p.data,
					  strerror(errno));
	}
	pw_buf_release(&p);
	return rc;
}

static pw_err write_all(int fd, const void *data, size_t len, const char *name, pw_error *err)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return pw_error_set(err, PW_ERR_IO, "%s: cannot extract: %s", name,
					    strerror(errno));
		p += w;
		len -= (size_t)w;
	}
	return PW_OK;
}

/* Streams one feed member: size and hash against the manifest, and a
 * copy into `extract_dir` when given. */
static pw_err check_member(struct reader *r, struct archive_entry *e, const pw_bundle_file *f,
			   const char *extract_dir, unsigned char *buf)
{
	if (archive_entry_filetype(e) != AE_IFREG)
		return pw_error_set(r->err, PW_ERR_INTEGRITY,
				    "%s: member %s%s is not a regular file; refusing the bundle",
				    r->bundle, FEEDS_PREFIX, f->name);
	if (archive_entry_size_is_set(e) && (uint64_t)archive_entry_size(e) != f->size)
		return pw_error_set(r->err, PW_ERR_INTEGRITY,
				    "%s: %s is %lld bytes, but the signed manifest says %llu; the "
				    "bundle was modified",
				    r->bundle, f->name, (long long)archive_entry_size(e),
				    (unsigned long long)f->size);
	int fd = -1;
	pw_err rc = extract_dir ? open_extract(extract_dir, f->name, &fd, r->err) : PW_OK;
	crypto_hash_sha256_state hs;
	crypto_hash_sha256_init(&hs);
	uint64_t got = 0;
	while (rc == PW_OK) {
		la_ssize_t n = archive_read_data(r->a, buf, CHUNK);
		if (n < 0) {
			rc = damaged(r);
			break;
		}
		if (n == 0)
			break;
		got += (uint64_t)n;
		crypto_hash_sha256_update(&hs, buf, (unsigned long long)n);
		if (fd >= 0)
			rc = write_all(fd, buf, (size_t)n, f->name, r->err);
	}
	unsigned char sha[32];
	crypto_hash_sha256_final(&hs, sha);
	if (fd >= 0 && close(fd) != 0 && rc == PW_OK)
		rc = pw_error_set(r->err, PW_ERR_IO, "%s: cannot extract: %s", f->name,
				  strerror(errno));
	if (rc == PW_OK && got != f->size)
		rc = pw_error_set(
			r->err, PW_ERR_INTEGRITY,
			"%s: %s has %llu bytes, the signed manifest says %llu: truncated or "
			"modified bundle",
			r->bundle, f->name, (unsigned long long)got, (unsigned long long)f->size);
	if (rc == PW_OK && memcmp(sha, f->sha256, sizeof sha) != 0)
		rc = pw_error_set(
			r->err, PW_ERR_INTEGRITY,
			"%s: %s does not match its SHA-256 in the signed manifest: the file "
			"was modified; do not use this bundle",
			r->bundle, f->name);
	return rc;
}

static pw_err check_members(struct reader *r, const pw_bundle_manifest *m, const char *extract_dir)
{
	bool *seen = calloc(m->n_files, sizeof *seen);
	unsigned char *buf = malloc(CHUNK);
	pw_err rc = seen && buf ? PW_OK : pw_error_set(r->err, PW_ERR_NOMEM, "out of memory");
	while (rc == PW_OK) {
		struct archive_entry *e;
		bool eof;
		rc = next_member(r, &e, &eof);
		if (rc || eof)
			break;
		const char *path = archive_entry_pathname(e);
		const pw_bundle_file *f = NULL;
		if (path && strncmp(path, FEEDS_PREFIX, strlen(FEEDS_PREFIX)) == 0)
			f = bsearch(path + strlen(FEEDS_PREFIX), m->files, m->n_files,
				    sizeof *m->files, file_cmp);
		if (!f) {
			rc = pw_error_set(r->err, PW_ERR_INTEGRITY,
					  "%s: member '%s' is not listed in the signed manifest; "
					  "refusing the bundle",
					  r->bundle, path ? path : "");
			break;
		}
		size_t idx = (size_t)(f - m->files);
		if (seen[idx]) {
			rc = pw_error_set(r->err, PW_ERR_INTEGRITY,
					  "%s: member %s appears twice; refusing the bundle",
					  r->bundle, path);
			break;
		}
		seen[idx] = true;
		rc = check_member(r, e, f, extract_dir, buf);
	}
	for (size_t i = 0; rc == PW_OK && i < m->n_files; i++)
		if (!seen[i])
			rc = pw_error_set(
				r->err, PW_ERR_INTEGRITY,
				"%s: %s is listed in the manifest but missing from the "
				"bundle (truncated or incomplete); fetch or copy it again",
				r->bundle, m->files[i].name);
	free(seen);
	free(buf);
	return rc;
}

static pw_err verify_into(const char *bundle_path, const char *public_key_path,
			  const char *extract_dir, pw_bundle_manifest *m, pw_error *err)
{
	pw_err rc = crypto_ready(err);
	if (rc)
		return rc;
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	char key_id[PW_BUNDLE_KEY_ID_LEN + 1];
	rc = load_key(public_key_path, false, pk, sizeof pk, err);
	if (rc)
		return rc;
	key_id_of(pk, key_id);
	struct reader r = {archive_read_new(), bundle_path, err};
	if (!r.a)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	archive_read_support_filter_gzip(r.a);
	archive_read_support_filter_none(r.a);
	archive_read_support_format_tar(r.a);
	pw_buf manifest = PW_BUF_INIT, sig = PW_BUF_INIT;
	int fd;
	rc = pw_open_regular(bundle_path, &fd, err);
	if (rc == PW_OK && archive_read_open_fd(r.a, fd, CHUNK) != ARCHIVE_OK) {
		unsigned char magic[2] = {0};
		if (pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
			rc = damaged(&r);
		else
			rc = pw_error_set(
				err, PW_ERR_INTEGRITY,
				"%s: not a patchwarden bundle (a gzip-compressed tar): %s",
				bundle_path, archive_error_string(r.a));
	}
	if (rc == PW_OK)
		rc = read_small(&r, MANIFEST_NAME, PW_BUNDLE_MANIFEST_MAX, &manifest);
	if (rc == PW_OK)
		rc = read_small(&r, SIG_NAME, SIG_TEXT_MAX, &sig);
	if (rc == PW_OK)
		rc = check_signature(&r, &manifest, &sig, pk, key_id, public_key_path);
	if (rc == PW_OK) {
		pw_buf where = PW_BUF_INIT;
		pw_buf_printf(&where, "%s: %s", bundle_path, MANIFEST_NAME);
		rc = pw_bundle_manifest_parse(manifest.data, manifest.len, pw_buf_str(&where), m,
					      err);
		pw_buf_release(&where);
	}
	if (rc == PW_OK)
		rc = check_members(&r, m, extract_dir);
	archive_read_free(r.a);
	if (fd >= 0)
		close(fd);
	pw_buf_release(&manifest);
	pw_buf_release(&sig);
	if (rc)
		pw_bundle_manifest_release(m);
	return rc;
}

static void fill_info(const pw_bundle_manifest *m, pw_bundle_info *info)
{
	if (!info)
		return;
	memset(info, 0, sizeof *info);
	memcpy(info->created, m->created, sizeof info->created);
	memcpy(info->key_id, m->key_id, sizeof info->key_id);
	info->files = m->n_files;
	for (size_t i = 0; i < m->n_files; i++)
		info->bytes += m->files[i].size;
}

pw_err pw_bundle_verify(const char *bundle_path, const char *public_key_path,
			const char *extract_dir, pw_bundle_info *info, pw_error *err)
{
	pw_bundle_manifest m = PW_BUNDLE_MANIFEST_INIT;
	pw_err rc = verify_into(bundle_path, public_key_path, extract_dir, &m, err);
	if (rc == PW_OK)
		fill_info(&m, info);
	pw_bundle_manifest_release(&m);
	return rc;
}

/* ---- import ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Refuses a bundle older than the newest one imported (unless allowed)
 * and records this one when it is the newest. Runs inside the import's
 * transaction, under its writers' lock, so two imports cannot both pass
 * the check and the record commits with the snapshot or not at all. */
static pw_err check_and_record_age(pw_feedstore *store, pw_feed_import *imp,
				   const char *bundle_path, const pw_bundle_manifest *m,
				   bool allow_older, pw_error *err)
{
	pw_source_state st;
	bool found = false;
	pw_err rc = pw_feedstore_source_get(store, PW_BUNDLE_SOURCE, &st, &found, err);
	if (rc)
		return rc;
	bool older = found && strcmp(m->created, st.last_modified) < 0;
	if (older && !allow_older)
		return pw_error_set(err, PW_ERR_CONFLICT,
				    "%s: created %s, before the newest bundle this store imported "
				    "(%s, created %s, key %s, snapshot %lld); an old bundle would "
				    "bring back what newer ones changed (import it anyway with "
				    "--allow-older)",
				    bundle_path, m->created, st.url, st.last_modified, st.etag,
				    (long long)st.last_snapshot);
	if (older)
		return PW_OK; /* the newest stays the one to compare with */
	const char *base = strrchr(bundle_path, '/');
	memset(&st, 0, sizeof st);
	snprintf(st.name, sizeof st.name, "%s", PW_BUNDLE_SOURCE);
	snprintf(st.url, sizeof st.url, "%s", base ? base + 1 : bundle_path);
	snprintf(st.etag, sizeof st.etag, "%s", m->key_id);
	snprintf(st.last_modified, sizeof st.last_modified, "%s", m->created);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(st.last_fetch, sizeof st.last_fetch, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(st.last_status, sizeof st.last_status, "imported a bundle created %s, key %s",
		 m->created, m->key_id);
	st.last_snapshot = pw_feed_import_snapshot(imp);
	return pw_feedstore_source_put(store, &st, err);
}

pw_err pw_bundle_import(const char *store_path, const char *bundle_path,
			const char *public_key_path, const pw_bundle_import_opts *opts,
			int64_t *snapshot, pw_import_stats *stats, pw_bundle_info *info,
			pw_error *err)
{
	const char *tmpdir = getenv("TMPDIR");
	pw_buf dir = PW_BUF_INIT, path = PW_BUF_INIT;
	if (pw_buf_printf(&dir, "%s/pw-bundle-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp"))
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!mkdtemp(dir.data)) {
		pw_error_set(err, PW_ERR_IO, "%s: cannot create a temporary directory: %s",
			     dir.data, strerror(errno));
		pw_buf_release(&dir);
		return PW_ERR_IO;
	}
	pw_bundle_manifest m = PW_BUNDLE_MANIFEST_INIT;
	pw_err rc = verify_into(bundle_path, public_key_path, dir.data, &m, err);
	pw_feedstore *store = NULL;
	pw_feed_import *imp = NULL;
	if (rc == PW_OK)
		rc = pw_feedstore_open(store_path, &store, err);
	if (rc == PW_OK) {
		const char *base = strrchr(bundle_path, '/');
		char label[160];
		snprintf(label, sizeof label, "bundle %s (created %s, key %s)",
			 base ? base + 1 : bundle_path, m.created, m.key_id);
		rc = pw_feed_import_begin(store, label, &imp, err);
	}
	if (rc == PW_OK) {
		pw_feed_import_set_callbacks(imp, opts->warn, NULL, opts->ctx);
		pw_feed_import_replace_source(imp, opts->replace);
		rc = check_and_record_age(store, imp, bundle_path, &m, opts->allow_older, err);
	}
	for (size_t i = 0; rc == PW_OK && i < m.n_files; i++) {
		pw_buf_reset(&path);
		if (pw_buf_printf(&path, "%s/%s", dir.data, m.files[i].name))
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		else
			rc = pw_sync_import_file(imp, path.data, m.files[i].name, PW_FEED_UNKNOWN,
						 err);
	}
	if (imp) {
		if (rc == PW_OK)
			rc = pw_feed_import_commit(imp, snapshot, stats, err);
		else
			pw_feed_import_abort(imp);
	}
	if (store)
		pw_feedstore_close(store);
	if (rc == PW_OK)
		fill_info(&m, info);
	nftw(dir.data, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	pw_bundle_manifest_release(&m);
	pw_buf_release(&dir);
	pw_buf_release(&path);
	return rc;
}
