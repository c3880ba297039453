/* dpkg's installed-package database: var/lib/dpkg/status, the journal in
 * var/lib/dpkg/updates/ that dpkg merges into it, and the per-package
 * files of distroless images in var/lib/dpkg/status.d/. */
#include "inventory-internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "patchwarden/fileio.h"
#include "patchwarden/grow.h"
#include "patchwarden/vercmp.h"

enum field { F_PACKAGE, F_VERSION, F_ARCH, F_STATUS, F_SOURCE, F_COUNT };
#define F_NONE (-1)
#define F_OTHER F_COUNT

static const char *const field_names[F_COUNT] = {
	[F_PACKAGE] = "Package", [F_VERSION] = "Version", [F_ARCH] = "Architecture",
	[F_STATUS] = "Status",   [F_SOURCE] = "Source",
};

struct stanza {
	struct pw_span val[F_COUNT];
	unsigned long line[F_COUNT]; /* where each field is; 0 when absent */
	unsigned long start;
	struct pw_inv_fault fault;
};

/* dpkg's three Status words (lib/dpkg/parsehelp.c and dpkg-query(1)). */
static const char *const wants[] = {"unknown", "install", "hold", "deinstall", "purge"};
static const char *const eflags[] = {"ok", "reinstreq", "hold", "hold-reinstreq"};
static const char *const states[] = {
	"not-installed",   "config-files",     "half-installed",   "unpacked",
	"half-configured", "triggers-awaited", "triggers-pending", "installed",
};
#define STATE_NOT_INSTALLED 0
#define STATE_CONFIG_FILES 1

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static struct pw_span trim(const char *p, size_t n)
{
	while (n && is_space(*p)) {
		p++;
		n--;
	}
	while (n && is_space(p[n - 1]))
		n--;
	return (struct pw_span){p, n};
}

/* Next whitespace-separated word of *s, consuming it; empty at the end. */
static struct pw_span next_word(struct pw_span *s)
{
	*s = trim(s->p, s->n);
	size_t i = 0;
	while (i < s->n && !is_space(s->p[i]))
		i++;
	struct pw_span w = {s->p, i};
	s->p += i;
	s->n -= i;
	return w;
}

static int word_index(struct pw_span w, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(list[i]) == w.n && memcmp(list[i], w.p, w.n) == 0)
			return (int)i;
	return -1;
}

/* dpkg's pkg_name_is_illegal(): an alphanumeric, then alphanumerics and "-+._". */
static const char *name_problem(struct pw_span s)
{
	if (!s.n)
		return "is empty";
	if (!is_alnum(s.p[0]))
		return "does not start with a letter or digit";
	for (size_t i = 1; i < s.n; i++)
		if (!is_alnum(s.p[i]) && !strchr("-+._", s.p[i]))
			return "has a character other than letters, digits and '-+._'";
	return NULL;
}

/* dpkg_arch_name_is_illegal(): an alphanumeric, then alphanumerics and '-'. */
static const char *arch_problem(struct pw_span s)
{
	if (!is_alnum(s.p[0]))
		return "does not start with a letter or digit";
	for (size_t i = 1; i < s.n; i++)
		if (!is_alnum(s.p[i]) && s.p[i] != '-')
			return "has a character other than letters, digits and '-'";
	return NULL;
}

static enum field field_of(const char *p, size_t n)
{
	for (int f = 0; f < F_COUNT; f++)
		if (strlen(field_names[f]) == n && strncasecmp(field_names[f], p, n) == 0)
			return (enum field)f;
	return F_OTHER;
}

/* *out = v as a new string, or NULL with *e saying why when v cannot be
 * a version at all (empty, spaces, control bytes). Like dpkg reading its
 * database, a version that breaks the syntax rules in other ways is kept
 * with a warning: the package is installed all the same. */
static pw_err deb_version(pw_inventory *inv, const char *file, unsigned long line, const char *pkg,
			  const char *what, struct pw_span v, char **out, pw_error *e)
{
	*out = NULL;
	if (!pw_inv_is_token(v.p, v.n)) {
		char q[PW_INV_EXCERPT + 4];
		pw_inv_excerpt(q, sizeof q, v.p, v.n);
		pw_error_set(e, PW_ERR_PARSE, "'%s' is not printable ASCII without spaces", q);
		return PW_OK;
	}
	char *s = pw_inv_strndup(v.p, v.n);
	if (!s)
		return PW_ERR_NOMEM;
	pw_error check = PW_ERROR_INIT;
	pw_deb_version parsed;
	pw_err rc = PW_OK;
	if (pw_deb_version_parse(s, &parsed, &check))
		rc = pw_inv_warn(inv, "%s:%lu: package '%s': %s: %s; kept, as dpkg keeps it", file,
				 line, pkg, what, pw_error_text(&check));
	else if (parsed.warning)
		rc = pw_inv_warn(inv, "%s:%lu: package '%s': %s: '%s' %s; kept, as dpkg keeps it",
				 file, line, pkg, what, s, parsed.warning);
	if (rc)
		free(s);
	else
		*out = s;
	return rc;
}

/* "name" or "name (version)" as dpkg-query's ${source:Package} and
 * ${source:Version} read it. False when it is neither. */
static bool split_source(struct pw_span src, struct pw_span *name, struct pw_span *version)
{
	struct pw_span rest = src;
	*name = next_word(&rest);
	rest = trim(rest.p, rest.n);
	version->p = NULL;
	version->n = 0;
	if (!rest.n)
		return true;
	if (rest.p[0] != '(' || rest.p[rest.n - 1] != ')')
		return false;
	*version = trim(rest.p + 1, rest.n - 2);
	return version->n > 0;
}

static pw_err finish_stanza(pw_inventory *inv, const struct stanza *st, const char *file,
			    unsigned flags)
{
	char q[PW_INV_EXCERPT + 4];
	if (st->fault.line) {
		if (st->line[F_PACKAGE] && st->line[F_PACKAGE] < st->fault.line) {
			pw_inv_excerpt(q, sizeof q, st->val[F_PACKAGE].p, st->val[F_PACKAGE].n);
			return pw_inv_warn(inv, "%s:%lu: package '%s': %s; stanza skipped", file,
					   st->fault.line, q, st->fault.what);
		}
		return pw_inv_warn(inv, "%s:%lu: %s; stanza from line %lu skipped", file,
				   st->fault.line, st->fault.what, st->start);
	}
	if (!st->line[F_PACKAGE])
		return pw_inv_warn(inv, "%s:%lu: stanza has no Package field; skipped", file,
				   st->start);
	struct pw_span name = st->val[F_PACKAGE];
	pw_inv_excerpt(q, sizeof q, name.p, name.n);
	const char *why = name_problem(name);
	if (why)
		return pw_inv_warn(inv, "%s:%lu: Package name '%s' %s; stanza skipped", file,
				   st->line[F_PACKAGE], q, why);

	int want = 1, eflag = 0, state = STATE_NOT_INSTALLED;
	if (st->line[F_STATUS]) {
		struct pw_span rest = st->val[F_STATUS];
		want = word_index(next_word(&rest), wants, sizeof wants / sizeof wants[0]);
		eflag = word_index(next_word(&rest), eflags, sizeof eflags / sizeof eflags[0]);
		state = word_index(next_word(&rest), states, sizeof states / sizeof states[0]);
		if (want < 0 || eflag < 0 || state < 0 || next_word(&rest).n) {
			char sq[PW_INV_EXCERPT + 4];
			pw_inv_excerpt(sq, sizeof sq, st->val[F_STATUS].p, st->val[F_STATUS].n);
			return pw_inv_warn(inv,
					   "%s:%lu: package '%s': Status '%s' is not "
					   "'WANT FLAG STATE' as dpkg writes it; stanza skipped",
					   file, st->line[F_STATUS], q, sq);
		}
	} else if ((flags & PW_DPKG_STATUS_D) && st->line[F_VERSION]) {
		state = (int)(sizeof states / sizeof states[0]) - 1;
	}
	bool removed = state == STATE_NOT_INSTALLED || state == STATE_CONFIG_FILES;
	if (removed && !(flags & PW_DPKG_KEEP_REMOVED))
		return PW_OK;
	if (!removed && !st->val[F_VERSION].n)
		return pw_inv_warn(inv,
				   "%s:%lu: package '%s' is installed but has no Version; "
				   "stanza skipped",
				   file, st->start, q);
	struct pw_span arch = st->val[F_ARCH];
	if (arch.n && (why = pw_inv_is_token(arch.p, arch.n) ? arch_problem(arch)
							     : "is not printable ASCII")) {
		char aq[PW_INV_EXCERPT + 4];
		pw_inv_excerpt(aq, sizeof aq, arch.p, arch.n);
		return pw_inv_warn(inv,
				   "%s:%lu: package '%s': Architecture '%s' %s; stanza skipped",
				   file, st->line[F_ARCH], q, aq, why);
	}

	pw_package pkg = {0};
	pw_error e = PW_ERROR_INIT;
	pw_err rc;
	if (!removed) {
		if ((rc = deb_version(inv, file, st->line[F_VERSION], q, "Version",
				      st->val[F_VERSION], &pkg.version, &e)))
			return rc;
		if (!pkg.version)
			return pw_inv_warn(inv, "%s:%lu: package '%s': Version %s; stanza skipped",
					   file, st->line[F_VERSION], q, pw_error_text(&e));
	}
	/* A broken Source costs the source name, not the package: matching
	 * on the binary name still works, so keep it and say so. */
	struct pw_span sname = name;
	if (st->line[F_SOURCE] && !removed) {
		struct pw_span n, v;
		char *sv = NULL;
		if (!split_source(st->val[F_SOURCE], &n, &v) || name_problem(n)) {
			pw_error_set(&e, PW_ERR_PARSE, "is not 'NAME' or 'NAME (VERSION)'");
		} else if (v.n && (rc = deb_version(inv, file, st->line[F_SOURCE], q,
						    "source version", v, &sv, &e))) {
			pw_package_release(&pkg);
			return rc;
		} else if (!v.n || sv) {
			sname = n;
			pkg.source_version = sv;
		}
		if (sname.p == name.p) {
			char sq[PW_INV_EXCERPT + 4];
			pw_inv_excerpt(sq, sizeof sq, st->val[F_SOURCE].p, st->val[F_SOURCE].n);
			if ((rc = pw_inv_warn(inv,
					      "%s:%lu: package '%s': Source '%s': %s; the "
					      "package's own name and version stand in for it",
					      file, st->line[F_SOURCE], q, sq,
					      pw_error_text(&e)))) {
				pw_package_release(&pkg);
				return rc;
			}
		}
	}
	char status[64];
	snprintf(status, sizeof status, "%s %s %s", wants[want], eflags[eflag], states[state]);
	if (!(pkg.name = pw_inv_strndup(name.p, name.n)) || !(pkg.status = strdup(status)) ||
	    !(pkg.source = pw_inv_strndup(sname.p, sname.n)) ||
	    (arch.n && !(pkg.arch = pw_inv_strndup(arch.p, arch.n))) ||
	    (!pkg.source_version && pkg.version && !(pkg.source_version = strdup(pkg.version)))) {
		pw_package_release(&pkg);
		return PW_ERR_NOMEM;
	}
	return pw_inv_push(inv, &pkg);
}

pw_err pw_inv_parse_dpkg(pw_inventory *inv, const char *data, size_t len, const char *file,
			 unsigned flags)
{
	const char *p = data, *end = data + len;
	unsigned long line = 0;
	bool active = false;
	int cur = F_NONE;
	struct stanza st;
	pw_err rc;

	while (p < end) {
		size_t n;
		const char *next = pw_inv_line(p, end, &n);
		line++;
		if (n == 0) {
			if (active && (rc = finish_stanza(inv, &st, file, flags)))
				return rc;
			active = false;
			cur = F_NONE;
			p = next;
			continue;
		}
		if (is_space(p[0])) {
			/* Continuation of the previous field's value. */
			if (!active) {
				if (trim(p, n).n == 0) {
					p = next;
					continue;
				}
				memset(&st, 0, sizeof st);
				st.start = line;
				active = true;
			}
			if (cur == F_NONE)
				pw_inv_fault_set(&st.fault, line,
						 "continuation line without a field before it");
			else if (cur != F_OTHER)
				pw_inv_fault_set(&st.fault, line, "%s continues on a second line",
						 field_names[cur]);
			p = next;
			continue;
		}
		if (!active) {
			memset(&st, 0, sizeof st);
			st.start = line;
			active = true;
		}
		const char *colon = memchr(p, ':', n);
		struct pw_span fname = colon ? trim(p, (size_t)(colon - p))
					     : (struct pw_span){p, 0};
		cur = F_OTHER;
		if (!colon || !fname.n || memchr(fname.p, ' ', fname.n) ||
		    memchr(fname.p, '\t', fname.n)) {
			char q[PW_INV_EXCERPT + 4];
			pw_inv_excerpt(q, sizeof q, p, n);
			pw_inv_fault_set(&st.fault, line, "'%s' is not a 'Field: value' line", q);
		} else {
			enum field f = field_of(fname.p, fname.n);
			if (f != F_OTHER) {
				if (st.line[f]) {
					pw_inv_fault_set(&st.fault, line,
							 "second %s field (first on line %lu)",
							 field_names[f], st.line[f]);
				} else {
					st.line[f] = line;
					st.val[f] = trim(colon + 1, (size_t)(p + n - colon - 1));
				}
			}
			cur = (int)f;
		}
		p = next;
	}
	if (active && (rc = finish_stanza(inv, &st, file, flags)))
		return rc;
	return PW_OK;
}

pw_err pw_inventory_parse_dpkg(pw_inventory *inv, const char *data, size_t len, const char *name,
			       pw_error *err)
{
	inv->scheme = PW_SCHEME_DEB;
	pw_err rc = pw_inv_parse_dpkg(inv, data, len, name, 0);
	if (rc)
		return pw_error_set(err, rc, "%s: out of memory", name);
	return PW_OK;
}

static pw_err parse_file(pw_inventory *inv, const char *path, unsigned flags, pw_error *err)
{
	pw_buf b = PW_BUF_INIT;
	pw_err rc = pw_read_file(path, &b, PW_INV_MAX_FILE, err);
	if (rc == PW_OK && (rc = pw_inv_parse_dpkg(inv, pw_buf_str(&b), b.len, path, flags)))
		pw_error_set(err, rc, "%s: out of memory", path);
	pw_buf_release(&b);
	return rc;
}

typedef bool (*name_filter)(const char *name);

/* Regular files in dir accepted by `keep`, sorted by name, in order. A
 * missing directory has none. */
static pw_err parse_dir(pw_inventory *inv, const char *dir, name_filter keep, unsigned flags,
			pw_error *err)
{
	char **names;
	size_t n;
	pw_err rc = pw_dir_names(dir, keep, &names, &n, err);
	if (rc == PW_ERR_NOTFOUND) {
		if (err)
			*err = (pw_error)PW_ERROR_INIT;
		return PW_OK;
	}
	pw_buf path = PW_BUF_INIT;
	for (size_t i = 0; i < n && !rc; i++) {
		struct stat st;
		if ((rc = pw_inv_path(&path, dir, names[i]))) {
			pw_error_set(err, rc, "%s: out of memory", dir);
			break;
		}
		if (stat(path.data, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		rc = parse_file(inv, path.data, flags, err);
	}
	pw_free_names(names, n);
	pw_buf_release(&path);
	return rc;
}

/* dpkg names its journal entries with digits only; anything else there
 * ("tmp.i") is a file being written. */
static bool is_journal_name(const char *name)
{
	for (const char *p = name; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* Distroless images keep a "<pkg>.md5sums" beside each "<pkg>". */
static bool is_status_d_name(const char *name)
{
	size_t n = strlen(name);
	return !(n > 8 && strcmp(name + n - 8, ".md5sums") == 0);
}

struct ordered {
	pw_package *pkg;
	size_t index;
};

static int str0cmp(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int cmp_key_then_order(const void *a, const void *b)
{
	const struct ordered *x = a, *y = b;
	int c = strcmp(x->pkg->name, y->pkg->name);
	if (!c)
		c = str0cmp(x->pkg->arch, y->pkg->arch);
	if (!c)
		c = x->index < y->index ? -1 : x->index > y->index;
	return c;
}

static bool is_removed(const pw_package *p)
{
	size_t n = strlen(p->status);
	return (n >= 13 && strcmp(p->status + n - 13, "not-installed") == 0) ||
	       (n >= 12 && strcmp(p->status + n - 12, "config-files") == 0);
}

pw_err pw_inv_dpkg_resolve(pw_inventory *inv, pw_error *err)
{
	if (!inv->n_pkgs)
		return PW_OK;
	struct ordered *o = malloc(inv->n_pkgs * sizeof *o);
	pw_package *keep = malloc(inv->n_pkgs * sizeof *keep);
	if (!o || !keep) {
		free(o);
		free(keep);
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < inv->n_pkgs; i++)
		o[i] = (struct ordered){&inv->pkgs[i], i};
	qsort(o, inv->n_pkgs, sizeof *o, cmp_key_then_order);
	size_t n = 0;
	for (size_t i = 0; i < inv->n_pkgs; i++) {
		bool superseded = i + 1 < inv->n_pkgs &&
				  !strcmp(o[i].pkg->name, o[i + 1].pkg->name) &&
				  !str0cmp(o[i].pkg->arch, o[i + 1].pkg->arch);
		if (superseded || is_removed(o[i].pkg))
			pw_package_release(o[i].pkg);
		else
			keep[n++] = *o[i].pkg;
	}
	memcpy(inv->pkgs, keep, n * sizeof *keep);
	inv->n_pkgs = n;
	free(o);
	free(keep);
	return PW_OK;
}

pw_err pw_inv_read_dpkg(pw_inventory *inv, const char *root, pw_error *err)
{
	pw_buf path = PW_BUF_INIT;
	pw_err rc;
	inv->scheme = PW_SCHEME_DEB;
	if ((rc = pw_inv_path(&path, root, "var/lib/dpkg/status")))
		goto nomem;
	rc = parse_file(inv, path.data, PW_DPKG_KEEP_REMOVED, err);
	if (rc == PW_ERR_NOTFOUND)
		rc = PW_OK; /* distroless images have only status.d */
	if (rc)
		goto out;
	if ((rc = pw_inv_path(&path, root, "var/lib/dpkg/updates")))
		goto nomem;
	if ((rc = parse_dir(inv, path.data, is_journal_name, PW_DPKG_KEEP_REMOVED, err)))
		goto out;
	if ((rc = pw_inv_path(&path, root, "var/lib/dpkg/status.d")))
		goto nomem;
	if ((rc = parse_dir(inv, path.data, is_status_d_name, PW_DPKG_STATUS_D, err)))
		goto out;
	rc = pw_inv_dpkg_resolve(inv, err);
	goto out;
nomem:
	rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
out:
	pw_buf_release(&path);
	return rc;
}

pw_err pw_inv_dpkg_kernel_release(const pw_package *pkg, char **release)
{
	static const char prefix[] = "linux-image-";
	const char *r = pkg->name;
	*release = NULL;
	if (strncmp(r, prefix, sizeof prefix - 1) != 0)
		return PW_OK;
	r += sizeof prefix - 1;
	/* Ubuntu's linux-image-unsigned-<release>, Debian's <release>-unsigned. */
	if (strncmp(r, "unsigned-", 9) == 0)
		r += 9;
	size_t n = strlen(r);
	if (n > 9 && strcmp(r + n - 9, "-unsigned") == 0)
		n -= 9;
	/* Meta packages (linux-image-amd64, -generic) name no release;
	 * debug symbol packages install no kernel. */
	if (!n || r[0] < '0' || r[0] > '9' || (n > 4 && strncmp(r + n - 4, "-dbg", 4) == 0) ||
	    (n > 7 && strncmp(r + n - 7, "-dbgsym", 7) == 0))
		return PW_OK;
	*release = pw_inv_strndup(r, n);
	return *release ? PW_OK : PW_ERR_NOMEM;
}
