/* Inventories: lifecycle, which database a root has, OS identity, kernel
 * state, canonical order and hash, and the JSON form. The per-database
 * parsers are in inventory_{dpkg,apk,rpm}.c. */
#include "inventory-internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "patchwarden/fileio.h"
#include "patchwarden/grow.h"
#include "patchwarden/jsonout.h"

/* ---- lifecycle and helpers for the readers ---- */

void pw_package_release(pw_package *pkg)
{
	free(pkg->name);
	free(pkg->version);
	free(pkg->arch);
	free(pkg->source);
	free(pkg->source_version);
	free(pkg->status);
	memset(pkg, 0, sizeof *pkg);
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void pw_inventory_release(pw_inventory *inv)
{
	free(inv->os_id);
	free(inv->os_version_id);
	free(inv->os_codename);
	free(inv->os_pretty_name);
	free(inv->arch);
	free(inv->kernel_running);
	free_strings(inv->kernels_installed, inv->n_kernels);
	for (size_t i = 0; i < inv->n_pkgs; i++)
		pw_package_release(&inv->pkgs[i]);
	free(inv->pkgs);
	free_strings(inv->warnings, inv->n_warnings);
	memset(inv, 0, sizeof *inv);
}

static pw_err push_string(pw_inventory *inv, char *s)
{
	char **v = pw_grow(inv->warnings, &inv->cap_warnings, inv->n_warnings, sizeof *v);
	if (!v) {
		free(s);
		return PW_ERR_NOMEM;
	}
	inv->warnings = v;
	inv->warnings[inv->n_warnings++] = s;
	return PW_OK;
}

pw_err pw_inv_warn(pw_inventory *inv, const char *fmt, ...)
{
	if (inv->n_warnings > PW_INV_MAX_WARNINGS)
		return PW_OK;
	if (inv->n_warnings == PW_INV_MAX_WARNINGS) {
		char *s = strdup("more warnings omitted");
		return s ? push_string(inv, s) : PW_ERR_NOMEM;
	}
	pw_buf b = PW_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	pw_err rc = pw_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc) {
		pw_buf_release(&b);
		return rc;
	}
	return push_string(inv, pw_buf_detach(&b));
}

void pw_inv_fault_set(struct pw_inv_fault *f, unsigned long line, const char *fmt, ...)
{
	if (f->line)
		return;
	f->line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->what, sizeof f->what, fmt, ap);
	va_end(ap);
}

pw_err pw_inv_push(pw_inventory *inv, pw_package *pkg)
{
	pw_package *v = pw_grow(inv->pkgs, &inv->cap_pkgs, inv->n_pkgs, sizeof *v);
	if (!v) {
		pw_package_release(pkg);
		return PW_ERR_NOMEM;
	}
	inv->pkgs = v;
	inv->pkgs[inv->n_pkgs++] = *pkg;
	memset(pkg, 0, sizeof *pkg);
	return PW_OK;
}

char *pw_inv_strndup(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

void pw_inv_excerpt(char *out, size_t size, const char *p, size_t n)
{
	size_t keep = size > 4 ? size - 4 : 0, o = 0;
	for (size_t i = 0; i < n && i < keep; i++) {
		unsigned char c = (unsigned char)p[i];
		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (n > keep && size >= 4) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	if (size)
		out[o] = '\0';
}

bool pw_inv_is_token(const char *p, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			return false;
	return true;
}

pw_err pw_inv_path(pw_buf *out, const char *root, const char *rel)
{
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	pw_buf_reset(out);
	if (n == 1 && root[0] == '/')
		return pw_buf_printf(out, "/%s", rel);
	return pw_buf_printf(out, "%.*s/%s", (int)n, root, rel);
}

/* ---- os-release ---- */

static bool valid_utf8_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80             ? 1
			     : (c & 0xe0) == 0xc0 ? 2
			     : (c & 0xf0) == 0xe0 ? 3
			     : (c & 0xf8) == 0xf0 ? 4
						  : 0;
		if (!len || (len == 1 && (c < 0x20 || c == 0x7f)) || i + len > n ||
		    (len == 2 && c < 0xc2) || (len == 4 && c > 0xf4))
			return false;
		for (size_t k = 1; k < len; k++)
			if (((unsigned char)s[i + k] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

/* One shell word starting at *pp: quotes and backslashes as sh reads an
 * assignment's value (os-release(5)). PW_ERR_PARSE on an unterminated
 * quote. */
static pw_err shell_word(const char **pp, const char *end, pw_buf *out)
{
	const char *p = *pp;
	pw_err rc = PW_OK;
	pw_buf_reset(out);
	while (!rc && p < end && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
		char c = *p++;
		if (c == '\'') {
			const char *q = memchr(p, '\'', (size_t)(end - p));
			if (!q)
				return PW_ERR_PARSE;
			rc = pw_buf_append(out, p, (size_t)(q - p));
			p = q + 1;
		} else if (c == '"') {
			for (;;) {
				if (p >= end)
					return PW_ERR_PARSE;
				c = *p++;
				if (c == '"')
					break;
				if (c == '\\' && p < end && *p && strchr("$`\"\\\n", *p)) {
					c = *p++;
					if (c == '\n')
						continue;
				}
				if ((rc = pw_buf_putc(out, c)))
					break;
			}
		} else if (c == '\\') {
			if (p < end && (c = *p++) != '\n')
				rc = pw_buf_putc(out, c);
		} else {
			rc = pw_buf_putc(out, c);
		}
	}
	*pp = p;
	return rc;
}

pw_err pw_inventory_parse_os_release(pw_inventory *inv, const char *data, size_t len)
{
	static const char *const keys[] = {"ID", "VERSION_ID", "VERSION_CODENAME", "PRETTY_NAME",
					   "UBUNTU_CODENAME"};
	char *vals[5] = {0};
	const char *p = data, *end = data + len;
	pw_buf word = PW_BUF_INIT;
	pw_err rc = PW_OK;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *key = p;
		while (p < end && (*p == '_' || (*p >= 'A' && *p <= 'Z') ||
				   (*p >= 'a' && *p <= 'z') || (p > key && *p >= '0' && *p <= '9')))
			p++;
		size_t klen = (size_t)(p - key);
		if (klen && p < end && *p == '=') {
			p++;
			pw_err wrc = shell_word(&p, end, &word);
			if (wrc == PW_ERR_NOMEM) {
				rc = wrc;
				break;
			}
			for (size_t k = 0; !wrc && k < sizeof keys / sizeof keys[0]; k++) {
				if (strlen(keys[k]) != klen || memcmp(keys[k], key, klen) != 0)
					continue;
				if (!valid_utf8_text(pw_buf_str(&word), word.len))
					break;
				free(vals[k]);
				if (!(vals[k] = pw_inv_strndup(pw_buf_str(&word), word.len)))
					rc = PW_ERR_NOMEM;
				break;
			}
			if (rc)
				break;
			/* An unterminated quote spoils only its own line. */
			if (wrc)
				p = key;
		}
		/* The rest of the line: a comment, junk, or what a bad quote left. */
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	pw_buf_release(&word);
	if (rc) {
		for (size_t k = 0; k < 5; k++)
			free(vals[k]);
		return rc;
	}
	if (!vals[2]) {
		vals[2] = vals[4];
		vals[4] = NULL;
	}
	char **dst[4] = {&inv->os_id, &inv->os_version_id, &inv->os_codename, &inv->os_pretty_name};
	for (size_t k = 0; k < 4; k++) {
		if (vals[k]) {
			free(*dst[k]);
			*dst[k] = vals[k];
		}
	}
	free(vals[4]);
	return PW_OK;
}

/* ---- reading a root ---- */

static bool exists(const char *root, const char *rel, mode_t type)
{
	pw_buf path = PW_BUF_INIT;
	struct stat st;
	bool yes = !pw_inv_path(&path, root, rel) && stat(path.data, &st) == 0 &&
		   (st.st_mode & S_IFMT) == type;
	pw_buf_release(&path);
	return yes;
}

static pw_err read_os_release(pw_inventory *inv, const char *root, pw_error *err)
{
	static const char *const places[] = {"etc/os-release", "usr/lib/os-release"};
	pw_buf path = PW_BUF_INIT, data = PW_BUF_INIT;
	pw_error why = PW_ERROR_INIT;
	pw_err rc = PW_ERR_NOTFOUND;
	for (size_t i = 0; i < 2 && rc == PW_ERR_NOTFOUND; i++) {
		if ((rc = pw_inv_path(&path, root, places[i])))
			break;
		rc = pw_read_file(path.data, &data, 1 << 20, &why);
	}
	if (rc == PW_OK)
		rc = pw_inventory_parse_os_release(inv, pw_buf_str(&data), data.len);
	else if (rc == PW_ERR_NOTFOUND)
		rc = pw_inv_warn(inv,
				 "%s: no etc/os-release or usr/lib/os-release; the OS is unknown",
				 root);
	else if (rc != PW_ERR_NOMEM)
		rc = pw_inv_warn(inv, "%s; the OS is unknown", pw_error_text(&why));
	if (rc)
		pw_error_set(err, rc, "out of memory");
	pw_buf_release(&path);
	pw_buf_release(&data);
	return rc;
}

/* The host's own architecture: what apk says it is, else that of the
 * package manager's package, else the most common one that is not
 * architecture-independent. */
static pw_err find_arch(pw_inventory *inv, const char *root)
{
	static const char *const managers[] =
		{[PW_SCHEME_DEB] = "dpkg", [PW_SCHEME_RPM] = "rpm", [PW_SCHEME_APK] = "apk-tools"};
	if (inv->scheme == PW_SCHEME_APK) {
		pw_buf path = PW_BUF_INIT, data = PW_BUF_INIT;
		if (!pw_inv_path(&path, root, "etc/apk/arch") &&
		    !pw_read_file(path.data, &data, 4096, NULL)) {
			size_t n = strcspn(pw_buf_str(&data), "\r\n");
			if (pw_inv_is_token(data.data, n))
				inv->arch = pw_inv_strndup(data.data, n);
		}
		pw_buf_release(&path);
		pw_buf_release(&data);
		if (inv->arch)
			return PW_OK;
	}
	const char *best = NULL;
	for (size_t i = 0; i < inv->n_pkgs && !best; i++)
		if (!strcmp(inv->pkgs[i].name, managers[inv->scheme]))
			best = inv->pkgs[i].arch;
	if (!best || !strcmp(best, "all") || !strcmp(best, "noarch")) {
		/* Hosts have a handful of architectures at most: count them
		 * in a small table, keeping the first seen on ties. */
		struct arch_count {
			const char *arch;
			size_t count;
		} seen[8];
		size_t n_seen = 0, best_count = 0;
		best = NULL;
		for (size_t i = 0; i < inv->n_pkgs; i++) {
			const char *a = inv->pkgs[i].arch;
			if (!a || !strcmp(a, "all") || !strcmp(a, "noarch"))
				continue;
			size_t k = 0;
			while (k < n_seen && strcmp(seen[k].arch, a))
				k++;
			if (k == n_seen) {
				if (n_seen == sizeof seen / sizeof seen[0])
					continue;
				seen[n_seen++] = (struct arch_count){a, 0};
			}
			if (++seen[k].count > best_count) {
				best = a;
				best_count = seen[k].count;
			}
		}
	}
	if (best && strcmp(best, "all") && strcmp(best, "noarch") && !(inv->arch = strdup(best)))
		return PW_ERR_NOMEM;
	return PW_OK;
}

struct kernel {
	char *release;
	const char *version; /* of its package */
};

/* Databases may hold versions their tools only warn about; those order
 * by bytes, after a warning was already given when they were read. */
static int version_cmp(pw_scheme scheme, const char *a, const char *b)
{
	int c;
	if (pw_vercmp(scheme, a, b, &c, NULL))
		c = strcmp(a, b);
	return c;
}

static int kernel_cmp(pw_scheme scheme, const struct kernel *a, const struct kernel *b)
{
	int c = version_cmp(scheme, a->version, b->version);
	return c ? c : strcmp(a->release, b->release);
}

/* Kernel lists are short: insertion sort keeps it simple. */
pw_err pw_inv_find_kernels(pw_inventory *inv, const char *root)
{
	pw_err (*release_of)(const pw_package *, char **) = inv->scheme == PW_SCHEME_RPM
								    ? pw_inv_rpm_kernel_release
							    : inv->scheme == PW_SCHEME_APK
								    ? pw_inv_apk_kernel_release
								    : pw_inv_dpkg_kernel_release;
	struct kernel *k = NULL;
	size_t n = 0, cap = 0;
	pw_err rc = PW_OK;
	for (size_t i = 0; i < inv->n_pkgs && !rc; i++) {
		struct kernel cur = {NULL, inv->pkgs[i].version};
		if (!cur.version || (rc = release_of(&inv->pkgs[i], &cur.release)) || !cur.release)
			continue;
		size_t dup = 0;
		while (dup < n && strcmp(k[dup].release, cur.release))
			dup++;
		if (dup < n) {
			/* kernel and kernel-core install the same release. */
			if (kernel_cmp(inv->scheme, &cur, &k[dup]) > 0)
				k[dup].version = cur.version;
			free(cur.release);
			continue;
		}
		struct kernel *v = pw_grow(k, &cap, n, sizeof *v);
		if (!v) {
			free(cur.release);
			rc = PW_ERR_NOMEM;
			break;
		}
		k = v;
		size_t at = n++;
		while (at > 0 && kernel_cmp(inv->scheme, &k[at - 1], &cur) > 0) {
			k[at] = k[at - 1];
			at--;
		}
		k[at] = cur;
	}
	if (!rc && n && !(inv->kernels_installed = malloc(n * sizeof *inv->kernels_installed)))
		rc = PW_ERR_NOMEM;
	if (rc) {
		for (size_t i = 0; i < n; i++)
			free(k[i].release);
		free(k);
		return rc;
	}
	bool running_is_newest = false;
	for (size_t i = 0; i < n; i++) {
		/* Flavours of one build share a version: any of them is newest. */
		if (inv->kernel_running && !strcmp(k[i].release, inv->kernel_running) &&
		    version_cmp(inv->scheme, k[i].version, k[n - 1].version) == 0)
			running_is_newest = true;
		inv->kernels_installed[i] = k[i].release;
	}
	inv->n_kernels = n;
	free(k);
	inv->needs_reboot = (inv->kernel_running && n && !running_is_newest) ||
			    exists(root, "run/reboot-required", S_IFREG);
	return PW_OK;
}

/* rpm keeps its database in one of these, holding one of these files
 * (sqlite since rpm 4.16, ndb, Berkeley DB before). */
static const char *find_rpmdb(const char *root)
{
	static const char *const dirs[] = {"/var/lib/rpm", "/usr/lib/sysimage/rpm"};
	static const char *const files[] = {"rpmdb.sqlite", "Packages.db", "Packages"};
	pw_buf rel = PW_BUF_INIT;
	const char *found = NULL;
	for (size_t d = 0; d < 2 && !found; d++)
		for (size_t f = 0; f < 3 && !found; f++)
			if (!pw_buf_printf((pw_buf_reset(&rel), &rel), "%s/%s", dirs[d] + 1,
					   files[f]) &&
			    exists(root, rel.data, S_IFREG))
				found = dirs[d];
	pw_buf_release(&rel);
	return found;
}

static bool is_host_root(const char *root)
{
	char *real = realpath(root, NULL);
	bool yes = real && !strcmp(real, "/");
	free(real);
	return yes;
}

static pw_err read_root(const char *root, pw_inventory *inv, pw_error *err)
{
	pw_err rc = read_os_release(inv, root, err);
	if (rc)
		return rc;
	const char *rpmdb;
	if (exists(root, "var/lib/dpkg/status", S_IFREG) ||
	    exists(root, "var/lib/dpkg/status.d", S_IFDIR))
		rc = pw_inv_read_dpkg(inv, root, err);
	else if (exists(root, "lib/apk/db/installed", S_IFREG))
		rc = pw_inv_read_apk(inv, root, err);
	else if ((rpmdb = find_rpmdb(root)))
		rc = pw_inv_read_rpm(inv, root, rpmdb, err);
	else
		return pw_error_set(
			err, PW_ERR_NOTFOUND,
			"%s: no package database found (looked for var/lib/dpkg/status, "
			"var/lib/dpkg/status.d/, lib/apk/db/installed and an rpm database "
			"in var/lib/rpm/ or usr/lib/sysimage/rpm/); give --root the top "
			"directory of a Debian, Ubuntu, Alpine or RPM-based system",
			root);
	if (rc)
		return rc;
	if (is_host_root(root)) {
		struct utsname u;
		if (uname(&u) == 0 && !(inv->kernel_running = strdup(u.release)))
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	if ((rc = find_arch(inv, root)) || (rc = pw_inv_find_kernels(inv, root)))
		return pw_error_set(err, rc, "out of memory");
	pw_inventory_sort(inv);
	return PW_OK;
}

pw_err pw_inventory_read(const char *root, pw_inventory *inv, pw_error *err)
{
	struct stat st;
	if (stat(root, &st) != 0)
		return pw_error_set(err, errno == ENOENT ? PW_ERR_NOTFOUND : PW_ERR_IO,
				    "%s: cannot read: %s", root, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return pw_error_set(err, PW_ERR_INVALID, "%s: not a directory", root);
	/* rpm --root takes only an absolute path, and every reader should
	 * see the same directory whatever the working directory. */
	char *abs = realpath(root, NULL);
	if (!abs)
		return pw_error_set(err, errno == ENOMEM ? PW_ERR_NOMEM : PW_ERR_IO,
				    "%s: cannot resolve the directory: %s", root, strerror(errno));
	pw_err rc = read_root(abs, inv, err);
	free(abs);
	return rc;
}

/* ---- canonical order and hash ---- */

static int str0cmp(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int pkg_cmp(const pw_package *a, const pw_package *b)
{
	int c = str0cmp(a->name, b->name);
	if (!c)
		c = str0cmp(a->arch, b->arch);
	if (!c)
		c = str0cmp(a->version, b->version);
	if (!c)
		c = str0cmp(a->source, b->source);
	if (!c)
		c = str0cmp(a->source_version, b->source_version);
	if (!c)
		c = str0cmp(a->status, b->status);
	return c;
}

static int pkg_qsort_cmp(const void *a, const void *b)
{
	return pkg_cmp(a, b);
}

static int pkg_ptr_cmp(const void *a, const void *b)
{
	return pkg_cmp(*(const pw_package *const *)a, *(const pw_package *const *)b);
}

void pw_inventory_sort(pw_inventory *inv)
{
	if (inv->n_pkgs > 1)
		qsort(inv->pkgs, inv->n_pkgs, sizeof *inv->pkgs, pkg_qsort_cmp);
}

static void hash_field(crypto_hash_sha256_state *h, const char *s)
{
	/* Fields never hold NUL, so NUL ends each one unambiguously; a
	 * missing field hashes as an empty one. */
	if (s)
		crypto_hash_sha256_update(h, (const unsigned char *)s, strlen(s));
	crypto_hash_sha256_update(h, (const unsigned char *)"", 1);
}

void pw_inventory_hash(const pw_inventory *inv, char out[65])
{
	crypto_hash_sha256_state h;
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_init(&h);
	hash_field(&h, "patchwarden-inventory-1");
	hash_field(&h, inv->os_id);
	hash_field(&h, inv->os_version_id);
	/* Hash in canonical order without reordering the caller's copy. */
	bool sorted = true;
	for (size_t i = 1; i < inv->n_pkgs && sorted; i++)
		sorted = pkg_cmp(&inv->pkgs[i - 1], &inv->pkgs[i]) <= 0;
	const pw_package **order = NULL;
	if (!sorted) {
		if (!(order = malloc(inv->n_pkgs * sizeof *order))) {
			out[0] = '\0';
			return;
		}
		for (size_t i = 0; i < inv->n_pkgs; i++)
			order[i] = &inv->pkgs[i];
		qsort(order, inv->n_pkgs, sizeof *order, pkg_ptr_cmp);
	}
	for (size_t i = 0; i < inv->n_pkgs; i++) {
		const pw_package *p = order ? order[i] : &inv->pkgs[i];
		hash_field(&h, p->name);
		hash_field(&h, p->version);
		hash_field(&h, p->arch);
		hash_field(&h, p->source);
		hash_field(&h, p->source_version);
		hash_field(&h, p->status);
	}
	free(order);
	crypto_hash_sha256_final(&h, digest);
	sodium_bin2hex(out, 65, digest, sizeof digest);
}

/* ---- JSON ---- */

static bool add_str(cJSON *o, const char *key, const char *v)
{
	return v ? cJSON_AddStringToObject(o, key, v) != NULL
		 : cJSON_AddNullToObject(o, key) != NULL;
}

cJSON *pw_inventory_to_json(const pw_inventory *inv)
{
	cJSON *o = cJSON_CreateObject(), *os, *k, *pkgs;
	bool ok = o && (os = cJSON_AddObjectToObject(o, "os")) && add_str(os, "id", inv->os_id) &&
		  add_str(os, "version_id", inv->os_version_id) &&
		  add_str(os, "codename", inv->os_codename) &&
		  add_str(os, "pretty_name", inv->os_pretty_name) &&
		  add_str(o, "arch", inv->arch) &&
		  add_str(o, "scheme", pw_scheme_name(inv->scheme)) &&
		  (k = cJSON_AddObjectToObject(o, "kernel")) &&
		  add_str(k, "running", inv->kernel_running) &&
		  pw_json_add_strings(k, "installed", inv->kernels_installed, inv->n_kernels) &&
		  cJSON_AddBoolToObject(k, "needs_reboot", inv->needs_reboot) &&
		  (pkgs = cJSON_AddArrayToObject(o, "packages"));
	for (size_t i = 0; ok && i < inv->n_pkgs; i++) {
		const pw_package *p = &inv->pkgs[i];
		cJSON *po = cJSON_CreateObject();
		ok = po && cJSON_AddItemToArray(pkgs, po);
		if (!ok) {
			cJSON_Delete(po);
			break;
		}
		ok = add_str(po, "name", p->name) && add_str(po, "version", p->version) &&
		     add_str(po, "arch", p->arch) && add_str(po, "source", p->source) &&
		     add_str(po, "source_version", p->source_version) &&
		     add_str(po, "status", p->status);
	}
	if (ok)
		ok = pw_json_add_strings(o, "warnings", inv->warnings, inv->n_warnings);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static const char *json_type(const cJSON *v)
{
	return cJSON_IsString(v)   ? "a string"
	       : cJSON_IsNumber(v) ? "a number"
	       : cJSON_IsBool(v)   ? "a boolean"
	       : cJSON_IsNull(v)   ? "null"
	       : cJSON_IsArray(v)  ? "an array"
	       : cJSON_IsObject(v) ? "an object"
				   : "invalid";
}

/* *out = a copy of obj[key] when it is a string; absent or null leave it
 * NULL unless `required`. `where` names obj in messages ("packages[3]"). */
static pw_err get_str(const cJSON *obj, const char *key, bool required, const char *where,
		      char **out, pw_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	const char *dot = *where ? "." : "";
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return pw_error_set(err, PW_ERR_PARSE,
					    "%s%s%s: missing; it must be a string", where, dot,
					    key);
		return PW_OK;
	}
	if (!cJSON_IsString(v))
		return pw_error_set(err, PW_ERR_PARSE, "%s%s%s: expected a string, got %s", where,
				    dot, key, json_type(v));
	if (required && !*v->valuestring)
		return pw_error_set(err, PW_ERR_PARSE, "%s%s%s: must not be empty", where, dot,
				    key);
	free(*out);
	if (!(*out = strdup(v->valuestring)))
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	return PW_OK;
}

/* obj[key] as an array of strings (absent: none). */
static pw_err get_str_array(const cJSON *obj, const char *key, const char *where, char ***out,
			    size_t *n, size_t *cap, pw_error *err)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key), *v;
	if (!a)
		return PW_OK;
	if (!cJSON_IsArray(a))
		return pw_error_set(err, PW_ERR_PARSE, "%s%s: expected an array of strings, got %s",
				    where, key, json_type(a));
	size_t i = 0;
	cJSON_ArrayForEach(v, a) {
		if (!cJSON_IsString(v))
			return pw_error_set(err, PW_ERR_PARSE,
					    "%s%s[%zu]: expected a string, got %s", where, key, i,
					    json_type(v));
		char *s = strdup(v->valuestring);
		char **items = s ? pw_grow(*out, cap, *n, sizeof *items) : NULL;
		if (!items) {
			free(s);
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
		*out = items;
		(*out)[(*n)++] = s;
		i++;
	}
	return PW_OK;
}

static pw_err package_from_json(pw_inventory *inv, const cJSON *po, size_t i, pw_error *err)
{
	char where[48];
	snprintf(where, sizeof where, "packages[%zu]", i);
	if (!cJSON_IsObject(po))
		return pw_error_set(err, PW_ERR_PARSE, "%s: expected an object, got %s", where,
				    json_type(po));
	pw_package pkg = {0};
	pw_err rc;
	if ((rc = get_str(po, "name", true, where, &pkg.name, err)) ||
	    (rc = get_str(po, "version", true, where, &pkg.version, err)) ||
	    (rc = get_str(po, "arch", false, where, &pkg.arch, err)) ||
	    (rc = get_str(po, "source", false, where, &pkg.source, err)) ||
	    (rc = get_str(po, "source_version", false, where, &pkg.source_version, err)) ||
	    (rc = get_str(po, "status", false, where, &pkg.status, err))) {
		pw_package_release(&pkg);
		return rc;
	}
	/* Readers always fill the source; keep that true for what comes in. */
	if ((!pkg.source && !(pkg.source = strdup(pkg.name))) ||
	    (!pkg.source_version && !(pkg.source_version = strdup(pkg.version)))) {
		pw_package_release(&pkg);
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	if (pw_inv_push(inv, &pkg))
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	return PW_OK;
}

pw_err pw_inventory_from_json(pw_inventory *inv, const cJSON *obj, pw_error *err)
{
	if (!cJSON_IsObject(obj))
		return pw_error_set(err, PW_ERR_PARSE, "inventory: expected an object, got %s",
				    json_type(obj));
	const cJSON *os = cJSON_GetObjectItemCaseSensitive(obj, "os");
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(obj, "kernel");
	const cJSON *pkgs = cJSON_GetObjectItemCaseSensitive(obj, "packages");
	const cJSON *scheme = cJSON_GetObjectItemCaseSensitive(obj, "scheme");
	pw_err rc;
	if (os && !cJSON_IsNull(os)) {
		if (!cJSON_IsObject(os))
			return pw_error_set(err, PW_ERR_PARSE, "os: expected an object, got %s",
					    json_type(os));
		if ((rc = get_str(os, "id", false, "os", &inv->os_id, err)) ||
		    (rc = get_str(os, "version_id", false, "os", &inv->os_version_id, err)) ||
		    (rc = get_str(os, "codename", false, "os", &inv->os_codename, err)) ||
		    (rc = get_str(os, "pretty_name", false, "os", &inv->os_pretty_name, err)))
			return rc;
	}
	if ((rc = get_str(obj, "arch", false, "", &inv->arch, err)))
		return rc;
	if (!cJSON_IsString(scheme))
		return pw_error_set(err, PW_ERR_PARSE,
				    "scheme: expected \"deb\", \"rpm\" or \"apk\", "
				    "got %s",
				    scheme ? json_type(scheme) : "nothing");
	if (pw_scheme_from_name(scheme->valuestring, &inv->scheme, NULL)) {
		char q[PW_INV_EXCERPT + 4];
		pw_inv_excerpt(q, sizeof q, scheme->valuestring, strlen(scheme->valuestring));
		return pw_error_set(err, PW_ERR_PARSE,
				    "scheme: '%s' is not \"deb\", \"rpm\" or \"apk\"", q);
	}
	if (k && !cJSON_IsNull(k)) {
		const cJSON *reboot = cJSON_GetObjectItemCaseSensitive(k, "needs_reboot");
		if (!cJSON_IsObject(k))
			return pw_error_set(err, PW_ERR_PARSE, "kernel: expected an object, got %s",
					    json_type(k));
		size_t cap = 0;
		if ((rc = get_str(k, "running", false, "kernel", &inv->kernel_running, err)) ||
		    (rc = get_str_array(k, "installed", "kernel.", &inv->kernels_installed,
					&inv->n_kernels, &cap, err)))
			return rc;
		if (reboot && !cJSON_IsBool(reboot))
			return pw_error_set(err, PW_ERR_PARSE,
					    "kernel.needs_reboot: expected a "
					    "boolean, got %s",
					    json_type(reboot));
		inv->needs_reboot = cJSON_IsTrue(reboot);
	}
	if (!cJSON_IsArray(pkgs))
		return pw_error_set(err, PW_ERR_PARSE, "packages: expected an array, got %s",
				    pkgs ? json_type(pkgs) : "nothing");
	const cJSON *po;
	size_t i = 0;
	cJSON_ArrayForEach(po, pkgs) {
		if ((rc = package_from_json(inv, po, i++, err)))
			return rc;
	}
	if ((rc = get_str_array(obj, "warnings", "", &inv->warnings, &inv->n_warnings,
				&inv->cap_warnings, err)))
		return rc;
	pw_inventory_sort(inv);
	return PW_OK;
}
