/* The rpm database, for the dnf and zypper backends: what is installed
 * (before and after a transaction), failed scriptlets in a transaction's
 * log, and the database's state. rpm reads its database path from its own
 * macros, as dnf and zypper do, so the three agree on every system. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor-internal.h"

#define RPM_QF "%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\n"

static void rpm_base(const pw_pkgmgr_ctx *ctx, pw_argv *a, char *prog, size_t size)
{
	pw_pkgmgr_prog(ctx, "/usr/bin", "rpm", prog, size);
	pw_argv_add(a, prog);
	if (pw_pkgmgr_other_root(ctx)) {
		pw_argv_add(a, "--root");
		pw_argv_add(a, ctx->root);
	}
}

pw_err pw_rpm_installed(const pw_pkgmgr_ctx *ctx, const char *const *names, size_t n,
			char (*vers)[PW_EXEC_VERSION_MAX + 1], pw_buf *log, pw_error *err)
{
	for (size_t i = 0; i < n; i++)
		vers[i][0] = '\0';
	if (!n)
		return PW_OK;
	char prog[4096];
	pw_argv a;
	pw_argv_init(&a);
	rpm_base(ctx, &a, prog, sizeof prog);
	pw_argv_add(&a, "-q");
	pw_argv_add(&a, "--qf");
	pw_argv_add(&a, RPM_QF);
	for (size_t i = 0; i < n; i++)
		pw_argv_add(&a, names[i]);
	pw_err rc = pw_argv_check(&a, err);
	pw_run_result r = PW_RUN_RESULT_INIT;
	pw_run_opts o = {.timeout_s = ctx->timeout_s};
	if (!rc)
		rc = pw_run(a.v, &o, &r, err);
	pw_argv_release(&a);
	if (rc)
		return rc;
	/* rpm -q exits 1 when one of the names is not installed ("package X
	 * is not installed"): only lines with a tab are answers. */
	for (const char *p = pw_buf_str(&r.output); *p;) {
		size_t len = strcspn(p, "\n");
		const char *tab = memchr(p, '\t', len);
		if (tab) {
			size_t nl = (size_t)(tab - p), vl = len - nl - 1;
			for (size_t i = 0; i < n; i++) {
				if (strlen(names[i]) != nl || memcmp(names[i], p, nl))
					continue;
				char v[PW_EXEC_VERSION_MAX + 1];
				snprintf(v, sizeof v, "%.*s", (int)vl, tab + 1);
				/* several (kernels): the highest */
				if (!vers[i][0] || pw_rpm_vercmp(v, vers[i]) > 0)
					memcpy(vers[i], v, sizeof v);
			}
		} else if (log && len) {
			(void)pw_buf_printf(log, "%.*s\n", (int)len, p);
		}
		p += len + (p[len] == '\n');
	}
	pw_run_result_release(&r);
	return PW_OK;
}

/* The names of res's changes and of req's packages, once each. */
static const char **names_of(const pw_exec_result *res, const pw_exec_request *req, size_t *n)
{
	size_t cap = res->n_changes + (req ? req->n_packages : 0);
	const char **v = calloc(cap + 1, sizeof *v);
	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < cap; i++) {
		const char *s = i < res->n_changes ? res->changes[i].name
						   : req->packages[i - res->n_changes].name;
		size_t j = 0;
		while (j < *n && strcmp(v[j], s))
			j++;
		if (j == *n)
			v[(*n)++] = s;
	}
	return v;
}

static pw_err query_all(const pw_pkgmgr_ctx *ctx, const pw_exec_result *res,
			const pw_exec_request *req, const char ***names, size_t *n,
			char (**vers)[PW_EXEC_VERSION_MAX + 1], pw_error *err)
{
	*names = names_of(res, req, n);
	*vers = calloc(*n + 1, sizeof **vers);
	if (!*names || !*vers) {
		free(*names);
		free(*vers);
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory querying rpm");
	}
	pw_err rc = pw_rpm_installed(ctx, *names, *n, *vers, NULL, err);
	if (rc) {
		free(*names);
		free(*vers);
	}
	return rc;
}

static const char *lookup(const char **names, size_t n, char (*vers)[PW_EXEC_VERSION_MAX + 1],
			  const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return vers[i];
	return "";
}

pw_err pw_rpm_fill_before(const pw_pkgmgr_ctx *ctx, pw_exec_result *res, pw_error *err)
{
	const char **names;
	size_t n;
	char(*vers)[PW_EXEC_VERSION_MAX + 1];
	pw_err rc = query_all(ctx, res, NULL, &names, &n, &vers, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < res->n_changes; i++) {
		pw_exec_change *c = &res->changes[i];
		const char *v = lookup(names, n, vers, c->name);
		if (v[0] || c->action != PW_CHANGE_REMOVE)
			snprintf(c->before, sizeof c->before, "%s", v);
	}
	free(names);
	free(vers);
	return PW_OK;
}

size_t pw_rpm_check_after(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
			  pw_buf *missed, pw_error *err)
{
	const char **names;
	size_t n, bad = 0;
	char(*vers)[PW_EXEC_VERSION_MAX + 1];
	if (query_all(ctx, res, req, &names, &n, &vers, err)) {
		for (size_t i = 0; i < res->n_changes; i++)
			res->changes[i].ok = false;
		(void)pw_buf_printf(missed, "cannot query rpm afterwards: %s", pw_error_text(err));
		return req->n_packages ? req->n_packages : 1;
	}
	for (size_t i = 0; i < res->n_changes; i++) {
		pw_exec_change *c = &res->changes[i];
		const char *now = lookup(names, n, vers, c->name);
		c->ok = c->action == PW_CHANGE_REMOVE ? !now[0] : !strcmp(now, c->after);
		snprintf(c->after, sizeof c->after, "%s", now);
	}
	for (size_t i = 0; i < req->n_packages; i++) {
		const pw_exec_package *p = &req->packages[i];
		const char *now = lookup(names, n, vers, p->name);
		if (pw_pkg_version_matches(PW_SCHEME_RPM, p, now))
			continue;
		(void)pw_buf_printf(missed, "%s%s is %s%s, not %s%s", bad ? "; " : "", p->name,
				    now[0] ? "at " : "", now[0] ? now : "not installed",
				    p->at_least ? "at least " : "",
				    p->version[0] ? p->version : "the newest");
		pw_exec_change *c = pw_exec_find_change(res, p->name);
		if (c)
			c->ok = false;
		bad++;
	}
	free(names);
	free(vers);
	return bad;
}

size_t pw_rpm_scriptlet_failures(const char *log, pw_exec_result *res, pw_buf *what)
{
	size_t count = 0;
	for (const char *p = log; (p = strstr(p, " scriptlet failed, "));) {
		const char *bol = p, *eol = p + strcspn(p, "\n");
		while (bol > log && bol[-1] != '\n')
			bol--;
		const char *open = memchr(bol, '(', (size_t)(p - bol));
		const char *close = open ? memchr(open, ')', (size_t)(p + 1 - open)) : NULL;
		const char *what_start = bol;
		if (!strncmp(what_start, "warning: ", 9))
			what_start += 9;
		else if (!strncmp(what_start, "error: ", 7))
			what_start += 7;
		(void)pw_buf_printf(what, "%s%.*s", count ? "; " : "", (int)(eol - what_start),
				    what_start);
		count++;
		for (size_t i = 0; open && close && i < res->n_changes; i++) {
			pw_exec_change *c = &res->changes[i];
			size_t nl = strlen(c->name);
			const char *nevra = open + 1;
			if ((size_t)(close - nevra) > nl && !memcmp(nevra, c->name, nl) &&
			    nevra[nl] == '-' &&
			    ((c->after[0] &&
			      !strncmp(nevra + nl + 1, c->after, strlen(c->after))) ||
			     (c->before[0] &&
			      !strncmp(nevra + nl + 1, c->before, strlen(c->before)))))
				c->ok = false;
		}
		p = eol;
	}
	return count;
}

pw_pkgdb_state pw_rpm_db_state(const pw_pkgmgr_ctx *ctx, pw_buf *detail)
{
	static const char *const checks[][6] = {
		{"--verifydb", NULL},
		{"-Va", "--nofiles", "--nodigest", "--nosignature", "--noscripts", NULL},
	};
	pw_pkgdb_state st = PW_PKGDB_CLEAN;
	for (size_t k = 0; k < sizeof checks / sizeof checks[0] && st == PW_PKGDB_CLEAN; k++) {
		char prog[4096];
		pw_argv a;
		pw_argv_init(&a);
		rpm_base(ctx, &a, prog, sizeof prog);
		for (size_t i = 0; checks[k][i]; i++)
			pw_argv_add(&a, checks[k][i]);
		pw_run_result r = PW_RUN_RESULT_INIT;
		pw_run_opts o = {.timeout_s = ctx->timeout_s, .max_output = 64 * 1024};
		pw_error e = PW_ERROR_INIT;
		if (pw_argv_check(&a, &e) || pw_run(a.v, &o, &r, &e)) {
			st = PW_PKGDB_UNKNOWN;
			if (detail)
				(void)pw_buf_printf(detail, "%s", pw_error_text(&e));
		} else if (r.exit_code != 0) {
			/* -Va --nofiles checks only dependencies: what it prints
			 * is "Unsatisfied dependencies for ..." */
			st = PW_PKGDB_BROKEN;
			if (detail)
				(void)pw_buf_printf(detail, "rpm %s: exit status %d: %.*s",
						    checks[k][0], r.exit_code,
						    (int)(r.output.len > 2000 ? 2000
									      : r.output.len),
						    pw_buf_str(&r.output));
		}
		pw_run_result_release(&r);
		pw_argv_release(&a);
	}
	return st;
}

/* The named packages that are not installed, in `missing`. */
static pw_err check_installed(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_buf *missing,
			      pw_error *err)
{
	const char **names = calloc(req->n_packages + 1, sizeof *names);
	char(*vers)[PW_EXEC_VERSION_MAX + 1] = calloc(req->n_packages + 1, sizeof *vers);
	pw_err rc = PW_OK;
	if (!names || !vers)
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory querying rpm");
	for (size_t i = 0; !rc && i < req->n_packages; i++)
		names[i] = req->packages[i].name;
	if (!rc)
		rc = pw_rpm_installed(ctx, names, req->n_packages, vers, NULL, err);
	for (size_t i = 0; !rc && i < req->n_packages; i++)
		if (!vers[i][0])
			(void)pw_buf_printf(missing, "%s%s", missing->len ? ", " : "", names[i]);
	free(names);
	free(vers);
	return rc;
}

static bool would_remove(const pw_exec_result *res, pw_buf *names)
{
	for (size_t i = 0; i < res->n_changes; i++)
		if (res->changes[i].action == PW_CHANGE_REMOVE)
			(void)pw_buf_printf(names, "%s%s %s", names->len ? ", " : "",
					    res->changes[i].name, res->changes[i].before);
	return names->len > 0;
}

/* Simulated: whether the plan reaches every request (the change for it,
 * or what is installed when there is none). */
static size_t plan_misses(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
			  pw_buf *missed, pw_error *err)
{
	size_t bad = 0;
	for (size_t i = 0; i < req->n_packages; i++) {
		const pw_exec_package *p = &req->packages[i];
		pw_exec_change *c = pw_exec_find_change(res, p->name);
		char now[1][PW_EXEC_VERSION_MAX + 1] = {""};
		const char *name = p->name;
		if (!c && pw_rpm_installed(ctx, &name, 1, now, NULL, err))
			now[0][0] = '\0';
		const char *v = c ? c->after : now[0];
		if (pw_pkg_version_matches(PW_SCHEME_RPM, p, v))
			continue;
		if (c)
			c->ok = false;
		(void)pw_buf_printf(missed, "%s%s would be %s%s, not %s%s", bad ? "; " : "",
				    p->name, v[0] ? "at " : "", v[0] ? v : "unchanged",
				    p->at_least ? "at least " : "",
				    p->version[0] ? p->version : "the newest");
		bad++;
	}
	return bad;
}

static void set_reboot(const pw_pkgmgr_ctx *ctx, pw_exec_result *res, int hint)
{
	res->needs_reboot = hint > 0;
	(void)ctx;
	for (size_t i = 0; hint < 0 && i < res->n_changes; i++)
		if (res->changes[i].ok && res->changes[i].action != PW_CHANGE_REMOVE &&
		    pw_pkg_needs_reboot(res->changes[i].name))
			res->needs_reboot = true;
}

pw_err pw_rpm_transaction(const pw_rpm_frontend *fe, const pw_pkgmgr_ctx *ctx,
			  const pw_exec_request *req, pw_exec_result *res, pw_error *err)
{
	pw_buf problem = PW_BUF_INIT, names = PW_BUF_INIT, what = PW_BUF_INIT;
	bool resolved = false;
	int reboot = -1;
	const char *kind = pw_exec_kind_name(req->kind);
	pw_err rc = PW_OK;
	if (req->kind != PW_EXEC_SIMULATE || req->n_packages) {
		if ((rc = check_installed(ctx, req, &names, err)))
			goto out;
		if (names.len) {
			pw_exec_result_say(
				res, PW_EXEC_FAILED,
				"not installed: %s; a %s changes installed packages only",
				pw_buf_str(&names), kind);
			goto out;
		}
	}
	if ((rc = fe->transact(ctx, req, false, res, &resolved, &problem, &reboot, err)) ||
	    (rc = pw_rpm_fill_before(ctx, res, err)))
		goto out;
	size_t bad = resolved ? plan_misses(ctx, req, res, &what, err) : 0;
	res->resolves = resolved && !bad;
	if (!res->resolves) {
		pw_exec_result_say(res,
				   req->kind == PW_EXEC_SIMULATE ? PW_EXEC_DONE : PW_EXEC_FAILED,
				   "%s: the transaction does not resolve: %.300s", fe->name,
				   problem.len ? pw_buf_str(&problem) : pw_buf_str(&what));
		goto out;
	}
	bool removes = would_remove(res, &names);
	if (req->kind == PW_EXEC_SIMULATE) {
		pw_exec_result_say(res, PW_EXEC_DONE, "%s: %zu change%s%s%s%s", fe->name,
				   res->n_changes, res->n_changes == 1 ? "" : "s",
				   removes ? "; it removes " : "", pw_buf_str(&names),
				   removes && !(req->flags & PW_EXEC_ALLOW_REMOVE)
					   ? " (a patch needs allow_remove)"
					   : "");
		goto out;
	}
	if (removes && !(req->flags & PW_EXEC_ALLOW_REMOVE)) {
		pw_exec_result_say(res, PW_EXEC_REFUSED,
				   "the %s would remove %s: refused, the job does not allow "
				   "removals (allow_remove)",
				   kind, pw_buf_str(&names));
		goto out;
	}
	if (!res->n_changes) {
		pw_exec_result_say(res, PW_EXEC_DONE, "nothing to do: already as asked");
		goto out;
	}
	if ((rc = fe->transact(ctx, req, true, res, &resolved, &problem, &reboot, err)))
		goto out;
	int code = res->exit_code;
	pw_buf_reset(&what);
	size_t missed = pw_rpm_check_after(ctx, req, res, &what, err);
	pw_buf_reset(&names);
	size_t failed = pw_rpm_scriptlet_failures(pw_buf_str(&res->log), res, &names);
	set_reboot(ctx, res, reboot);
	if (failed)
		pw_exec_result_say(res, PW_EXEC_FAILED, "%s (exit status %d): %.300s", fe->name,
				   code, pw_buf_str(&names));
	else if (missed)
		pw_exec_result_say(res, PW_EXEC_FAILED, "%s (exit status %d): %.300s", fe->name,
				   code, pw_buf_str(&what));
	else if (fe->exit_ok ? !fe->exit_ok(code) : code != 0)
		pw_exec_result_say(res, PW_EXEC_FAILED,
				   "%s failed (exit status %d) though every package is as asked: "
				   "see the log",
				   fe->name, code);
	else
		pw_exec_result_say(res, PW_EXEC_DONE, "%s: %zu change%s done", fe->name,
				   res->n_changes, res->n_changes == 1 ? "" : "s");
out:
	pw_buf_release(&problem);
	pw_buf_release(&names);
	pw_buf_release(&what);
	return rc;
}

pw_err pw_rpm_held(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
		   pw_error *err)
{
	pw_change_action act = req->kind == PW_EXEC_HOLD ? PW_CHANGE_HOLD : PW_CHANGE_UNHOLD;
	pw_err rc = PW_OK;
	for (size_t i = 0; !rc && i < req->n_packages; i++)
		rc = pw_exec_change_add(res, act, req->packages[i].name,
					strlen(req->packages[i].name), NULL, 0, NULL, 0, err);
	if (!rc)
		rc = pw_rpm_fill_before(ctx, res, err);
	for (size_t i = 0; !rc && i < res->n_changes; i++)
		memcpy(res->changes[i].after, res->changes[i].before, sizeof res->changes[i].after);
	return rc;
}
