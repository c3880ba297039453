/* apk's installed-package database, lib/apk/db/installed: stanzas of
 * "X:value" lines separated by blank lines (apk-tools' "index" format). */
#include "inventory-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/fileio.h"

/* The one-letter fields kept: name, version, architecture, origin. */
enum field { F_NAME, F_VERSION, F_ARCH, F_ORIGIN, F_COUNT };
static const char field_letters[F_COUNT] = {'P', 'V', 'A', 'o'};

struct stanza {
	struct pw_span val[F_COUNT];
	unsigned long line[F_COUNT];
	unsigned long start;
	struct pw_inv_fault fault;
};

static pw_err finish_stanza(pw_inventory *inv, const struct stanza *st, const char *file)
{
	char q[PW_INV_EXCERPT + 4];
	if (st->fault.line)
		return pw_inv_warn(inv, "%s:%lu: %s; stanza from line %lu skipped", file,
				   st->fault.line, st->fault.what, st->start);
	if (!st->line[F_NAME])
		return pw_inv_warn(inv, "%s:%lu: stanza has no P: (package name) line; skipped",
				   file, st->start);
	struct pw_span name = st->val[F_NAME];
	pw_inv_excerpt(q, sizeof q, name.p, name.n);
	if (!pw_inv_is_token(name.p, name.n))
		return pw_inv_warn(inv,
				   "%s:%lu: package name '%s' is empty or not printable ASCII; "
				   "stanza skipped",
				   file, st->line[F_NAME], q);
	static const char *const what[F_COUNT] = {"", "V: (version)", "A: (architecture)",
						  "o: (origin)"};
	for (int f = F_VERSION; f < F_COUNT; f++) {
		struct pw_span v = st->val[f];
		if (!st->line[f] && f != F_VERSION)
			continue;
		if (!st->line[f])
			return pw_inv_warn(inv,
					   "%s:%lu: package '%s' has no %s line; stanza skipped",
					   file, st->start, q, what[f]);
		if (!pw_inv_is_token(v.p, v.n)) {
			char vq[PW_INV_EXCERPT + 4];
			pw_inv_excerpt(vq, sizeof vq, v.p, v.n);
			return pw_inv_warn(inv,
					   "%s:%lu: package '%s': %s '%s' is empty or not "
					   "printable ASCII; stanza skipped",
					   file, st->line[f], q, what[f], vq);
		}
	}
	/* Subpackages name the APKBUILD they come from in o:; a package
	 * without one is its own origin. Both share the APKBUILD's version. */
	struct pw_span origin = st->line[F_ORIGIN] ? st->val[F_ORIGIN] : name;
	struct pw_span ver = st->val[F_VERSION], arch = st->val[F_ARCH];
	pw_package pkg = {0};
	if (!(pkg.name = pw_inv_strndup(name.p, name.n)) ||
	    !(pkg.version = pw_inv_strndup(ver.p, ver.n)) ||
	    !(pkg.source = pw_inv_strndup(origin.p, origin.n)) ||
	    !(pkg.source_version = pw_inv_strndup(ver.p, ver.n)) ||
	    !(pkg.status = strdup("installed")) ||
	    (st->line[F_ARCH] && !(pkg.arch = pw_inv_strndup(arch.p, arch.n)))) {
		pw_package_release(&pkg);
		return PW_ERR_NOMEM;
	}
	return pw_inv_push(inv, &pkg);
}

static pw_err parse(pw_inventory *inv, const char *data, size_t len, const char *file)
{
	const char *p = data, *end = data + len;
	unsigned long line = 0;
	bool active = false;
	struct stanza st;
	pw_err rc;

	while (p < end) {
		size_t n;
		const char *next = pw_inv_line(p, end, &n);
		line++;
		if (n == 0) {
			if (active && (rc = finish_stanza(inv, &st, file)))
				return rc;
			active = false;
			p = next;
			continue;
		}
		if (!active) {
			memset(&st, 0, sizeof st);
			st.start = line;
			active = true;
		}
		if (n < 2 || p[1] != ':') {
			char q[PW_INV_EXCERPT + 4];
			pw_inv_excerpt(q, sizeof q, p, n);
			pw_inv_fault_set(&st.fault, line, "'%s' is not an 'X:value' line", q);
		} else {
			for (int f = 0; f < F_COUNT; f++) {
				if (p[0] != field_letters[f])
					continue;
				if (st.line[f]) {
					pw_inv_fault_set(&st.fault, line,
							 "second %c: line (first on line %lu)",
							 p[0], st.line[f]);
				} else {
					st.line[f] = line;
					st.val[f] = (struct pw_span){p + 2, n - 2};
				}
				break;
			}
		}
		p = next;
	}
	if (active && (rc = finish_stanza(inv, &st, file)))
		return rc;
	return PW_OK;
}

pw_err pw_inventory_parse_apk(pw_inventory *inv, const char *data, size_t len, const char *name,
			      pw_error *err)
{
	inv->scheme = PW_SCHEME_APK;
	pw_err rc = parse(inv, data, len, name);
	if (rc)
		return pw_error_set(err, rc, "%s: out of memory", name);
	return PW_OK;
}

pw_err pw_inv_read_apk(pw_inventory *inv, const char *root, pw_error *err)
{
	pw_buf path = PW_BUF_INIT, b = PW_BUF_INIT;
	pw_err rc = pw_inv_path(&path, root, "lib/apk/db/installed");
	if (rc)
		return pw_error_set(err, rc, "out of memory");
	rc = pw_read_file(path.data, &b, PW_INV_MAX_FILE, err);
	if (!rc)
		rc = pw_inventory_parse_apk(inv, b.data ? b.data : "", b.len, path.data, err);
	pw_buf_release(&b);
	pw_buf_release(&path);
	return rc;
}

/* Alpine's kernel packages are linux-<flavour>; their release is the
 * package version with "-rN" turned into "-N-<flavour>" (linux-lts
 * 6.6.14-r0 runs as 6.6.14-0-lts). */
pw_err pw_inv_apk_kernel_release(const pw_package *pkg, char **release)
{
	static const char *const flavours[] = {
		"lts",  "virt",    "edge",     "stable",       "rpi",   "rpi2",
		"rpi4", "vanilla", "hardened", "virthardened", "grsec", "virtgrsec",
	};
	*release = NULL;
	if (strncmp(pkg->name, "linux-", 6) != 0 || !pkg->version)
		return PW_OK;
	const char *flavour = pkg->name + 6;
	bool known = false;
	for (size_t i = 0; i < sizeof flavours / sizeof flavours[0]; i++)
		known |= strcmp(flavour, flavours[i]) == 0;
	const char *r = NULL;
	for (const char *s = strstr(pkg->version, "-r"); s; s = strstr(s + 1, "-r"))
		r = s;
	if (!known || !r || r[2] < '0' || r[2] > '9')
		return PW_OK;
	pw_buf b = PW_BUF_INIT;
	if (pw_buf_printf(&b, "%.*s-%s-%s", (int)(r - pkg->version), pkg->version, r + 2,
			  flavour)) {
		pw_buf_release(&b);
		return PW_ERR_NOMEM;
	}
	*release = pw_buf_detach(&b);
	return PW_OK;
}
