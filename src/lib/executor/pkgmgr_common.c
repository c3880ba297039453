/* What the dnf, zypper and apk backends share: argv building (no shell,
 * each word its own argument), running a package manager with its output
 * kept in the job's log, the version match of a request and the reboot
 * heuristic. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor-internal.h"

void pw_argv_init(pw_argv *a)
{
	memset(a, 0, sizeof *a);
}

void pw_argv_add(pw_argv *a, const char *s)
{
	if (a->n >= PW_ARGV_MAX || !s) {
		a->failed = true;
		return;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

void pw_argv_addf(pw_argv *a, const char *fmt, ...)
{
	pw_buf b = PW_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	pw_err rc = pw_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc || a->n_owned >= PW_ARGV_MAX) {
		pw_buf_release(&b);
		a->failed = true;
		return;
	}
	char *s = pw_buf_detach(&b);
	if (!s) {
		a->failed = true;
		return;
	}
	a->owned[a->n_owned++] = s;
	pw_argv_add(a, s);
}

pw_err pw_argv_check(const pw_argv *a, pw_error *err)
{
	if (a->failed)
		return pw_error_set(err, PW_ERR_NOMEM,
				    "cannot build the package manager's command line (out of "
				    "memory or more than %d words)",
				    PW_ARGV_MAX);
	return PW_OK;
}

void pw_argv_release(pw_argv *a)
{
	for (size_t i = 0; i < a->n_owned; i++)
		free(a->owned[i]);
	pw_argv_init(a);
}

void pw_pkgmgr_prog(const pw_pkgmgr_ctx *ctx, const char *dir, const char *prog, char *out,
		    size_t size)
{
	snprintf(out, size, "%s/%s", ctx->bin_dir ? ctx->bin_dir : dir, prog);
}

bool pw_pkgmgr_other_root(const pw_pkgmgr_ctx *ctx)
{
	return ctx->root && ctx->root[0] && strcmp(ctx->root, "/");
}

static void log_append(pw_buf *log, const char *s, size_t n)
{
	static const char cut[] = "\n[the log is cut here: it reached its limit]\n";
	if (log->len >= PW_EXEC_LOG_MAX)
		return;
	size_t room = PW_EXEC_LOG_MAX - log->len;
	if (n + sizeof cut > room) {
		size_t keep = room > sizeof cut ? room - sizeof cut : 0;
		(void)pw_buf_append(log, s, keep < n ? keep : n);
		(void)pw_buf_append(log, cut, sizeof cut - 1);
		log->len = log->len > PW_EXEC_LOG_MAX ? PW_EXEC_LOG_MAX : log->len;
		return;
	}
	(void)pw_buf_append(log, s, n);
}

pw_err pw_pkgmgr_exec(const pw_pkgmgr_ctx *ctx, const pw_argv *a, pw_exec_result *res,
		      pw_run_result *out, pw_error *err)
{
	pw_err rc = pw_argv_check(a, err);
	if (rc)
		return rc;
	pw_buf head = PW_BUF_INIT;
	(void)pw_buf_puts(&head, "$");
	for (size_t i = 0; i < a->n; i++)
		(void)pw_buf_printf(&head, " %s", a->v[i]);
	(void)pw_buf_puts(&head, "\n");
	log_append(&res->log, pw_buf_str(&head), head.len);
	pw_buf_release(&head);
	pw_run_opts o = {.timeout_s = ctx->timeout_s, .max_output = PW_EXEC_LOG_MAX};
	rc = pw_run(a->v, &o, out, err);
	if (rc)
		return rc;
	char how[64];
	pw_run_describe(out, &o, how, sizeof how);
	if (out->output.len)
		log_append(&res->log, out->output.data, out->output.len);
	char tail[96];
	int n = snprintf(tail, sizeof tail, "%s(%s)\n",
			 out->output.len && out->output.data[out->output.len - 1] != '\n' ? "\n"
											  : "",
			 how);
	log_append(&res->log, tail, (size_t)n);
	res->exit_code = out->exit_code;
	return PW_OK;
}

pw_err pw_pkgmgr_dispatch(const pw_pkgmgr *pm, pw_pkgmgr_step change, pw_pkgmgr_step lock,
			  const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
			  pw_error *err)
{
	pw_err rc;
	switch (req->kind) {
	case PW_EXEC_SIMULATE:
	case PW_EXEC_PATCH:
	case PW_EXEC_ROLLBACK:
		rc = change(ctx, req, res, err);
		break;
	case PW_EXEC_HOLD:
	case PW_EXEC_UNHOLD:
		rc = lock(ctx, req, res, err);
		break;
	default:
		return pw_exec_result_say(res, PW_EXEC_REFUSED, "%s does not run %s jobs", pm->name,
					  pw_exec_kind_name(req->kind));
	}
	if (!rc && req->kind != PW_EXEC_SIMULATE)
		res->db_state = pm->db_state(ctx, NULL);
	return rc;
}

pw_exec_change *pw_exec_find_change(pw_exec_result *res, const char *name)
{
	for (size_t i = 0; i < res->n_changes; i++)
		if (!strcmp(res->changes[i].name, name))
			return &res->changes[i];
	return NULL;
}

static void copy_field(char *dst, size_t size, const char *s, size_t n)
{
	if (!s)
		n = 0;
	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(dst, s, n);
	dst[n] = '\0';
}

pw_err pw_exec_change_add(pw_exec_result *res, pw_change_action act, const char *name, size_t nlen,
			  const char *before, size_t blen, const char *after, size_t alen,
			  pw_error *err)
{
	pw_exec_change c;
	memset(&c, 0, sizeof c);
	c.action = act;
	copy_field(c.name, sizeof c.name, name, nlen);
	copy_field(c.before, sizeof c.before, before, blen);
	copy_field(c.after, sizeof c.after, after, alen);
	c.ok = true;
	return pw_exec_result_add_change(res, &c, err);
}

/* [E:]V[-R] split in place: epoch NULL when absent, release NULL when
 * absent. */
static void rpm_split(char *s, const char **e, const char **v, const char **r)
{
	char *colon = strchr(s, ':'), *dash;
	*e = NULL;
	if (colon) {
		*colon = '\0';
		*e = s;
		s = colon + 1;
	}
	*v = s;
	*r = NULL;
	if ((dash = strrchr(s, '-'))) {
		*dash = '\0';
		*r = dash + 1;
	}
}

/* installed against requested, as rpm compares a dependency "= V": the
 * release only when the request names one, a missing epoch as 0. */
static int rpm_cmp_request(const char *installed, const char *requested)
{
	char a[PW_EXEC_VERSION_MAX + 1], b[PW_EXEC_VERSION_MAX + 1];
	snprintf(a, sizeof a, "%s", installed);
	snprintf(b, sizeof b, "%s", requested);
	const char *ea, *va, *ra, *eb, *vb, *rb;
	rpm_split(a, &ea, &va, &ra);
	rpm_split(b, &eb, &vb, &rb);
	int c = pw_rpm_segcmp(ea ? ea : "0", eb ? eb : "0");
	if (!c)
		c = pw_rpm_segcmp(va, vb);
	if (!c && rb)
		c = pw_rpm_segcmp(ra ? ra : "", rb);
	return c;
}

bool pw_pkg_version_matches(pw_scheme s, const pw_exec_package *p, const char *installed)
{
	if (!installed || !installed[0])
		return false;
	if (!p->version[0])
		return true;
	int c;
	if (s == PW_SCHEME_RPM)
		c = rpm_cmp_request(installed, p->version);
	else if (pw_vercmp(s, installed, p->version, &c, NULL))
		return false;
	return p->at_least ? c >= 0 : c == 0;
}

/* The packages whose update the distributions' own tools say needs a
 * reboot: dnf-plugins-core's needs-restarting (NEED_REBOOT: kernel,
 * kernel-rt, glibc, linux-firmware, systemd, dbus, dbus-broker,
 * dbus-daemon, microcode_ctl), Red Hat's article 27943 (udev), libzypp's
 * /etc/zypp/needreboot (kernel-default, kernel-firmware, ucode-intel,
 * ucode-amd, dbus-1), and Alpine's kernel flavours and C library (musl).
 * Kernel packages count by prefix ("kernel-core", "kernel-modules"),
 * except the ones that hold no running code (-devel, -headers, -tools,
 * -doc). */
bool pw_pkg_needs_reboot(const char *name)
{
	static const char *const exact[] = {
		"kernel", "glibc",       "systemd",     "systemd-udev",  "udev",        "dbus",
		"dbus-1", "dbus-broker", "dbus-daemon", "microcode_ctl", "ucode-intel", "ucode-amd",
		"musl",   "linux-lts",   "linux-virt",  "linux-edge",    "linux-rpi",   NULL,
	};
	static const char *const no_code[] = {"-devel", "-headers", "-tools", "-doc", NULL};
	for (size_t i = 0; exact[i]; i++)
		if (!strcmp(name, exact[i]))
			return true;
	if (!strncmp(name, "linux-firmware", 14) || !strncmp(name, "kernel-firmware", 15))
		return true;
	if (strncmp(name, "kernel-", 7))
		return false;
	size_t n = strlen(name);
	for (size_t i = 0; no_code[i]; i++) {
		size_t k = strlen(no_code[i]);
		if (n >= k && !strcmp(name + n - k, no_code[i]))
			return false;
	}
	return true;
}
