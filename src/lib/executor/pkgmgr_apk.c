/* apk (Alpine). Command construction and output parsing only: apk-tools
 * is not packaged for Debian, so tests/unit/test_pkgmgr_apk.c runs this
 * backend against recorded outputs (tests/data/apk/README.md).
 *
 * simulate is `apk add --simulate` of the request; patch and rollback run
 * it for real. apk keeps its wishes in /etc/apk/world: `apk add
 * name=version` writes that exact constraint there, which is also how a
 * package is held (pinned). So after a patch of an exact version, the
 * names that were plain world entries before get `apk add name` again,
 * which releases the pin and changes nothing installed (apk add changes
 * installed packages only with --upgrade); names that were dependencies,
 * not world entries, keep the constraint (apk drops a world entry only
 * with `apk del`). A rollback keeps its pin (the older version stays until
 * unhold). hold pins the installed version,
 * unhold writes the plain name back. The installed versions come from
 * lib/apk/db/installed, as the inventory reads them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor-internal.h"
#include "patchwarden/fileio.h"
#include "patchwarden/inventory.h"

typedef struct apk_cmd {
	pw_argv a;
	char prog[4096];
} apk_cmd;

static void apk_base(const pw_pkgmgr_ctx *ctx, apk_cmd *c, const char *verb)
{
	pw_argv_init(&c->a);
	pw_pkgmgr_prog(ctx, "/sbin", "apk", c->prog, sizeof c->prog);
	pw_argv_add(&c->a, c->prog);
	pw_argv_add(&c->a, "--no-progress");
	if (pw_pkgmgr_other_root(ctx)) {
		pw_argv_add(&c->a, "--root");
		pw_argv_add(&c->a, ctx->root);
	}
	pw_argv_add(&c->a, verb);
}

static const char *root_of(const pw_pkgmgr_ctx *ctx)
{
	return pw_pkgmgr_other_root(ctx) ? ctx->root : "";
}

/* The installed packages (lib/apk/db/installed). */
static pw_err apk_installed(const pw_pkgmgr_ctx *ctx, pw_inventory *inv, pw_error *err)
{
	char path[4096];
	pw_buf b = PW_BUF_INIT;
	snprintf(path, sizeof path, "%s/lib/apk/db/installed", root_of(ctx));
	pw_err rc = pw_read_file(path, &b, (size_t)256 << 20, err);
	if (!rc)
		rc = pw_inventory_parse_apk(inv, pw_buf_str(&b), b.len, path, err);
	pw_buf_release(&b);
	return rc;
}

static const char *installed_version(const pw_inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->n_pkgs; i++)
		if (!strcmp(inv->pkgs[i].name, name))
			return inv->pkgs[i].version;
	return "";
}

/* name's entry in /etc/apk/world ("name", "name=1.0-r0", "name>=2"...)
 * into out; false when it has none. */
static bool world_entry(const pw_buf *world, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	for (const char *p = pw_buf_str(world); *p;) {
		size_t len = strcspn(p, " \n");
		if (len >= nl && !memcmp(p, name, nl) && (len == nl || strchr("=<>~@", p[nl]))) {
			snprintf(out, size, "%.*s", (int)len, p);
			return true;
		}
		p += len;
		p += strspn(p, " \n");
	}
	out[0] = '\0';
	return false;
}

static void read_world(const pw_pkgmgr_ctx *ctx, pw_buf *world)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/etc/apk/world", root_of(ctx));
	if (pw_read_file(path, world, (size_t)4 << 20, NULL))
		pw_buf_reset(world);
}

/* apk-tools' commit.c print_change(): "(%i/%i) %s %s (%s)" or
 * "(%i/%i) %s %s (%s -> %s)", the counter padded in newer releases
 * ("( 1/12)"), the name followed by its repository tag ("@edge"). */
static pw_err parse_changes(const char *out, pw_exec_result *res, pw_error *err)
{
	static const struct {
		const char *verb;
		pw_change_action act;
	} verbs[] = {
		{"Installing ", PW_CHANGE_INSTALL},    {"Upgrading ", PW_CHANGE_UPGRADE},
		{"Downgrading ", PW_CHANGE_DOWNGRADE}, {"Purging ", PW_CHANGE_REMOVE},
		{"Replacing ", PW_CHANGE_UPGRADE},
	};
	for (const char *p = out; *p;) {
		size_t len = strcspn(p, "\n");
		const char *line = p, *end = p + len;
		p += len + (p[len] == '\n');
		const char *q = memchr(line, ')', len);
		if (line[0] != '(' || !q || q + 2 > end)
			continue;
		q += 2;
		size_t k = 0, nv = sizeof verbs / sizeof verbs[0];
		while (k < nv && strncmp(q, verbs[k].verb, strlen(verbs[k].verb)))
			k++;
		if (k == nv)
			continue;
		const char *name = q + strlen(verbs[k].verb);
		const char *open = strstr(name, " (");
		if (!open || open > end || end[-1] != ')')
			continue;
		size_t nl = strcspn(name, "@ ");
		const char *v1 = open + 2, *arrow = strstr(v1, " -> ");
		const char *v1e = arrow && arrow < end ? arrow : end - 1;
		const char *v2 = arrow && arrow < end ? arrow + 4 : NULL;
		pw_err rc;
		if (verbs[k].act == PW_CHANGE_REMOVE)
			rc = pw_exec_change_add(res, PW_CHANGE_REMOVE, name, nl, v1,
						(size_t)(v1e - v1), NULL, 0, err);
		else if (v2)
			rc = pw_exec_change_add(res, verbs[k].act, name, nl, v1, (size_t)(v1e - v1),
						v2, (size_t)(end - 1 - v2), err);
		else
			rc = pw_exec_change_add(res, verbs[k].act, name, nl, NULL, 0, v1,
						(size_t)(v1e - v1), err);
		if (rc)
			return rc;
	}
	return PW_OK;
}

/* "ERROR: ..." lines and the indented lines after them (the solver's
 * explanation from apk_solver_print_errors()). */
static void problem_text(const char *out, pw_buf *problem)
{
	bool in = false;
	for (const char *p = out; *p;) {
		size_t len = strcspn(p, "\n");
		if (!strncmp(p, "ERROR: ", 7) || (in && p[0] == ' ')) {
			size_t sp = strspn(p, " ");
			(void)pw_buf_printf(problem, "%s%.*s", problem->len ? " " : "",
					    (int)(len - sp), p + sp);
			in = true;
		} else {
			in = false;
		}
		p += len + (p[len] == '\n');
	}
}

/* "ERROR: pwpost-1.1-r0.post-upgrade: script exited with error 1"
 * (apk_db_run_script()): the change of that package failed. */
static size_t script_failures(const char *out, pw_exec_result *res, pw_buf *what)
{
	size_t n = 0;
	for (const char *p = out; (p = strstr(p, "ERROR: "));) {
		size_t len = strcspn(p, "\n");
		const char *s = p + 7;
		p += len;
		if (!memmem(s, (size_t)(p - s), "script exited with error", 24))
			continue;
		(void)pw_buf_printf(what, "%s%.*s", n++ ? "; " : "", (int)(p - s), s);
		for (size_t i = 0; i < res->n_changes; i++) {
			pw_exec_change *c = &res->changes[i];
			size_t nl = strlen(c->name), al = strlen(c->after);
			if (!strncmp(s, c->name, nl) && s[nl] == '-' && al &&
			    !strncmp(s + nl + 1, c->after, al) && s[nl + 1 + al] == '.')
				c->ok = false;
		}
	}
	return n;
}

static void add_specs(apk_cmd *c, const pw_exec_request *req)
{
	for (size_t i = 0; i < req->n_packages; i++) {
		const pw_exec_package *p = &req->packages[i];
		if (!p->version[0])
			pw_argv_add(&c->a, p->name);
		else
			pw_argv_addf(&c->a, "%s%s%s", p->name, p->at_least ? ">=" : "=",
				     p->version);
	}
}

/* apk add [--simulate] of the request; `apk upgrade` for every update
 * (Alpine's stable branches take only security and bug fixes, and apk
 * has no advisory metadata). */
static pw_err apk_transact(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, bool real,
			   pw_exec_result *res, pw_run_result *r, pw_error *err)
{
	apk_cmd c;
	bool all = req->flags & PW_EXEC_ALL_SECURITY;
	apk_base(ctx, &c, all ? "upgrade" : "add");
	if (!real)
		pw_argv_add(&c.a, "--simulate");
	/* a newest or at-least request moves an installed package only with
	 * --upgrade; exact ones need none */
	bool loose = false;
	for (size_t i = 0; i < req->n_packages; i++)
		loose |= !req->packages[i].version[0] || req->packages[i].at_least;
	if (!all && loose && req->kind == PW_EXEC_PATCH)
		pw_argv_add(&c.a, "--upgrade");
	add_specs(&c, req);
	pw_err rc = pw_pkgmgr_exec(ctx, &c.a, res, r, err);
	pw_argv_release(&c.a);
	return rc;
}

static size_t plan_misses(const pw_exec_request *req, pw_exec_result *res, const pw_inventory *inv,
			  pw_buf *missed)
{
	size_t bad = 0;
	for (size_t i = 0; i < req->n_packages; i++) {
		const pw_exec_package *p = &req->packages[i];
		pw_exec_change *c = pw_exec_find_change(res, p->name);
		const char *v = c ? c->after : installed_version(inv, p->name);
		if (pw_pkg_version_matches(PW_SCHEME_APK, p, v))
			continue;
		if (c)
			c->ok = false;
		(void)pw_buf_printf(missed, "%s%s would be %s, not %s%s", bad++ ? "; " : "",
				    p->name, v[0] ? v : "absent", p->at_least ? "at least " : "",
				    p->version[0] ? p->version : "the newest");
	}
	return bad;
}

/* After an exact patch: `apk add name` for the names that were plain
 * world entries, releasing the pin `apk add name=version` wrote. */
static pw_err release_pins(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req,
			   const pw_buf *world, pw_exec_result *res, pw_error *err)
{
	apk_cmd c;
	apk_base(ctx, &c, "add");
	size_t n = c.a.n;
	for (size_t i = 0; i < req->n_packages; i++) {
		char e[PW_EXEC_NAME_MAX + PW_EXEC_VERSION_MAX + 8];
		const pw_exec_package *p = &req->packages[i];
		if (p->version[0] && world_entry(world, p->name, e, sizeof e) &&
		    !strcmp(e, p->name))
			pw_argv_add(&c.a, p->name);
	}
	pw_err rc = PW_OK;
	if (c.a.n > n) {
		pw_run_result r = PW_RUN_RESULT_INIT;
		rc = pw_pkgmgr_exec(ctx, &c.a, res, &r, err);
		pw_run_result_release(&r);
	}
	pw_argv_release(&c.a);
	return rc;
}

static pw_err apk_change(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
			 pw_error *err)
{
	pw_inventory inv = PW_INVENTORY_INIT;
	pw_buf world = PW_BUF_INIT, what = PW_BUF_INIT, removes = PW_BUF_INIT;
	pw_run_result sim = PW_RUN_RESULT_INIT, real = PW_RUN_RESULT_INIT;
	const char *kind = pw_exec_kind_name(req->kind);
	pw_err rc = apk_installed(ctx, &inv, err);
	if (rc)
		goto out;
	read_world(ctx, &world);
	for (size_t i = 0; i < req->n_packages; i++) {
		const char *name = req->packages[i].name;
		char e[PW_EXEC_NAME_MAX + PW_EXEC_VERSION_MAX + 8];
		if (!installed_version(&inv, name)[0] && req->kind != PW_EXEC_SIMULATE)
			(void)pw_buf_printf(&what, "%s%s is not installed", what.len ? "; " : "",
					    name);
		else if (req->kind == PW_EXEC_PATCH && world_entry(&world, name, e, sizeof e) &&
			 strchr(e, '=') && !strstr(e, ">=") && !strstr(e, "<="))
			(void)pw_buf_printf(&what, "%s%s is held (%s in /etc/apk/world)",
					    what.len ? "; " : "", name, e);
	}
	if (what.len) {
		pw_exec_result_say(res, PW_EXEC_FAILED, "%s: nothing run", pw_buf_str(&what));
		goto out;
	}
	if ((rc = apk_transact(ctx, req, false, res, &sim, err)) ||
	    (rc = parse_changes(pw_buf_str(&sim.output), res, err)))
		goto out;
	problem_text(pw_buf_str(&sim.output), &what);
	size_t bad = sim.exit_code == 0 ? plan_misses(req, res, &inv, &what) : 0;
	res->resolves = sim.exit_code == 0 && !bad;
	for (size_t i = 0; i < res->n_changes; i++)
		if (res->changes[i].action == PW_CHANGE_REMOVE)
			(void)pw_buf_printf(&removes, "%s%s %s", removes.len ? ", " : "",
					    res->changes[i].name, res->changes[i].before);
	if (!res->resolves) {
		pw_exec_result_say(res,
				   req->kind == PW_EXEC_SIMULATE ? PW_EXEC_DONE : PW_EXEC_FAILED,
				   "apk: the transaction does not resolve: %.300s",
				   pw_buf_str(&what));
	} else if (req->kind == PW_EXEC_SIMULATE) {
		pw_exec_result_say(res, PW_EXEC_DONE, "apk: %zu change%s%s%s", res->n_changes,
				   res->n_changes == 1 ? "" : "s",
				   removes.len ? "; it removes " : "", pw_buf_str(&removes));
	} else if (removes.len && !(req->flags & PW_EXEC_ALLOW_REMOVE)) {
		pw_exec_result_say(res, PW_EXEC_REFUSED,
				   "the %s would remove %s: refused, the job does not allow "
				   "removals (allow_remove)",
				   kind, pw_buf_str(&removes));
	} else if (!res->n_changes) {
		pw_exec_result_say(res, PW_EXEC_DONE, "nothing to do: already as asked");
	} else {
		if ((rc = apk_transact(ctx, req, true, res, &real, err)))
			goto out;
		int code = real.exit_code;
		pw_buf_reset(&what);
		size_t failed = script_failures(pw_buf_str(&real.output), res, &what);
		if (!failed && code != 0)
			problem_text(pw_buf_str(&real.output), &what);
		if (!failed && code == 0 && req->kind == PW_EXEC_PATCH &&
		    (rc = release_pins(ctx, req, &world, res, err)))
			goto out;
		for (size_t i = 0; i < res->n_changes; i++) {
			res->changes[i].ok = res->changes[i].ok && code == 0;
			if (res->changes[i].ok && res->changes[i].action != PW_CHANGE_REMOVE &&
			    pw_pkg_needs_reboot(res->changes[i].name))
				res->needs_reboot = true;
		}
		if (failed || code != 0)
			pw_exec_result_say(res, PW_EXEC_FAILED, "apk (exit status %d): %.300s",
					   code, pw_buf_str(&what));
		else
			pw_exec_result_say(res, PW_EXEC_DONE, "apk: %zu change%s done%s",
					   res->n_changes, res->n_changes == 1 ? "" : "s",
					   req->kind == PW_EXEC_ROLLBACK
						   ? "; pinned in /etc/apk/world until unhold"
						   : "");
	}
out:
	pw_run_result_release(&sim);
	pw_run_result_release(&real);
	pw_buf_release(&world);
	pw_buf_release(&what);
	pw_buf_release(&removes);
	pw_inventory_release(&inv);
	return rc;
}

/* hold: `apk add name=<installed>` pins it in /etc/apk/world; unhold:
 * `apk add name` writes the plain name back (apk add leaves the installed
 * version as it is). */
static pw_err apk_lock(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
		       pw_error *err)
{
	bool hold = req->kind == PW_EXEC_HOLD;
	pw_inventory inv = PW_INVENTORY_INIT;
	pw_buf missing = PW_BUF_INIT;
	apk_cmd c;
	pw_err rc = apk_installed(ctx, &inv, err);
	if (rc)
		return rc;
	apk_base(ctx, &c, "add");
	for (size_t i = 0; i < req->n_packages; i++) {
		const char *name = req->packages[i].name, *v = installed_version(&inv, name);
		if (!v[0])
			(void)pw_buf_printf(&missing, "%s%s", missing.len ? ", " : "", name);
		else if (hold)
			pw_argv_addf(&c.a, "%s=%s", name, v);
		else
			pw_argv_add(&c.a, name);
	}
	pw_run_result r = PW_RUN_RESULT_INIT;
	if (missing.len) {
		pw_exec_result_say(res, PW_EXEC_FAILED, "not installed: %s; nothing run",
				   pw_buf_str(&missing));
	} else if (!(rc = pw_pkgmgr_exec(ctx, &c.a, res, &r, err))) {
		for (size_t i = 0; !rc && i < req->n_packages; i++) {
			const char *name = req->packages[i].name,
				   *v = installed_version(&inv, name);
			rc = pw_exec_change_add(res, hold ? PW_CHANGE_HOLD : PW_CHANGE_UNHOLD, name,
						strlen(name), v, strlen(v), v, strlen(v), err);
			res->changes[res->n_changes - 1].ok = r.exit_code == 0;
		}
		if (r.exit_code != 0) {
			pw_buf p = PW_BUF_INIT;
			problem_text(pw_buf_str(&r.output), &p);
			pw_exec_result_say(res, PW_EXEC_FAILED, "apk add (exit status %d): %.300s",
					   r.exit_code, pw_buf_str(&p));
			pw_buf_release(&p);
		} else {
			pw_exec_result_say(res, PW_EXEC_DONE, "%s %zu package%s in /etc/apk/world",
					   hold ? "pinned" : "unpinned", req->n_packages,
					   req->n_packages == 1 ? "" : "s");
		}
	}
	pw_run_result_release(&r);
	pw_argv_release(&c.a);
	pw_buf_release(&missing);
	pw_inventory_release(&inv);
	return rc;
}

/* The installed database as the inventory reads it: clean when every
 * stanza parses, broken when some do not, unknown when it is unreadable.
 * apk keeps no half-configured state: a failed script is the job's
 * failure, and the package stays installed. */
static pw_pkgdb_state apk_db_state(const pw_pkgmgr_ctx *ctx, pw_buf *detail)
{
	pw_inventory inv = PW_INVENTORY_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_pkgdb_state st = PW_PKGDB_CLEAN;
	if (apk_installed(ctx, &inv, &e)) {
		st = PW_PKGDB_UNKNOWN;
		if (detail)
			(void)pw_buf_puts(detail, pw_error_text(&e));
	} else if (inv.n_warnings) {
		st = PW_PKGDB_BROKEN;
		if (detail)
			(void)pw_buf_puts(detail, inv.warnings[0]);
	}
	pw_inventory_release(&inv);
	return st;
}

static pw_err apk_run(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
		      pw_error *err)
{
	return pw_pkgmgr_dispatch(&pw_pkgmgr_apk, apk_change, apk_lock, ctx, req, res, err);
}

const pw_pkgmgr pw_pkgmgr_apk = {
	.name = "apk",
	.os_ids = "alpine",
	.run = apk_run,
	.db_state = apk_db_state,
};
