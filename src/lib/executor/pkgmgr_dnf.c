/* dnf (Fedora, RHEL and its rebuilds, Amazon Linux): dnf 4's command line.
 * simulate is `dnf --assumeno` on the same transaction, whose table says
 * what would change; patch and rollback run it with -y (`upgrade` and
 * `downgrade` of name-version, so nothing new is installed by name);
 * hold and unhold are the versionlock plugin's. Another root is
 * --installroot with that root's repositories, configuration and release:
 * dnf is never chrooted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor-internal.h"
#include "patchwarden/fileio.h"
#include "patchwarden/inventory.h"
#include "patchwarden/text.h"

typedef struct dnf_cmd {
	pw_argv a;
	char prog[4096];
	char releasever[64];
} dnf_cmd;

/* The root's VERSION_ID, for $releasever in its repositories. */
static void root_release(const char *root, char *out, size_t size)
{
	static const char *const files[] = {"/etc/os-release", "/usr/lib/os-release"};
	out[0] = '\0';
	for (size_t i = 0; i < 2 && !out[0]; i++) {
		char path[4096];
		pw_buf b = PW_BUF_INIT;
		pw_inventory inv = PW_INVENTORY_INIT;
		snprintf(path, sizeof path, "%s%s", root, files[i]);
		if (!pw_read_file(path, &b, 64 * 1024, NULL) &&
		    !pw_inventory_parse_os_release(&inv, pw_buf_str(&b), b.len) &&
		    inv.os_version_id && pw_word_ok(inv.os_version_id, size - 1))
			snprintf(out, size, "%s", inv.os_version_id);
		pw_inventory_release(&inv);
		pw_buf_release(&b);
	}
}

static void dnf_base(const pw_pkgmgr_ctx *ctx, dnf_cmd *c)
{
	pw_argv_init(&c->a);
	pw_pkgmgr_prog(ctx, "/usr/bin", "dnf", c->prog, sizeof c->prog);
	pw_argv_add(&c->a, c->prog);
	if (pw_pkgmgr_other_root(ctx)) {
		char conf[4096];
		pw_argv_addf(&c->a, "--installroot=%s", ctx->root);
		pw_argv_addf(&c->a, "--setopt=reposdir=%s/etc/yum.repos.d", ctx->root);
		snprintf(conf, sizeof conf, "%s/etc/dnf/dnf.conf", ctx->root);
		if (!access(conf, R_OK))
			pw_argv_addf(&c->a, "--config=%s", conf);
		root_release(ctx->root, c->releasever, sizeof c->releasever);
		if (c->releasever[0])
			pw_argv_addf(&c->a, "--releasever=%s", c->releasever);
	}
	pw_argv_add(&c->a, "--color=never");
}

/* One package's argument: name-version (exact; dnf reads an epoch in it
 * too), or the name alone for the newest or at least a version (checked
 * against the rpm database afterwards). */
static void add_spec(pw_argv *a, const pw_exec_package *p)
{
	if (p->version[0] && !p->at_least)
		pw_argv_addf(a, "%s-%s", p->name, p->version);
	else
		pw_argv_add(a, p->name);
}

static const struct {
	const char *head;
	int action; /* -1: rows not taken (skipped, reinstalled) */
} sections[] = {
	{"Installing:", PW_CHANGE_INSTALL},
	{"Installing dependencies:", PW_CHANGE_INSTALL},
	{"Installing weak dependencies:", PW_CHANGE_INSTALL},
	{"Upgrading:", PW_CHANGE_UPGRADE},
	{"Downgrading:", PW_CHANGE_DOWNGRADE},
	{"Removing:", PW_CHANGE_REMOVE},
	{"Removing dependent packages:", PW_CHANGE_REMOVE},
	{"Removing unused dependencies:", PW_CHANGE_REMOVE},
	{"Skipping packages with conflicts:", -2},
	{"Skipping packages with broken dependencies:", -2},
};

static int section_of(const char *line, size_t len)
{
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
		if (strlen(sections[i].head) == len && !memcmp(sections[i].head, line, len))
			return sections[i].action;
	return -1;
}

#define MAX_TOK 8

static size_t split(const char *line, size_t len, const char **tok, size_t *tlen)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n < MAX_TOK;) {
		while (i < len && line[i] == ' ')
			i++;
		if (i >= len)
			break;
		size_t j = i;
		while (j < len && line[j] != ' ')
			j++;
		tok[n] = line + i;
		tlen[n++] = j - i;
		i = j;
	}
	return n;
}

/* dnf's transaction table (dnf/cli/output.py list_transaction): a section
 * heading, then one row a package: " name arch version repo size" (a long
 * name alone on its line, the rest on the next), and "   replacing
 * name.arch version" under a package that obsoletes another. Skipped
 * packages go to `skipped`. */
static pw_err parse_table(const char *out, pw_exec_result *res, pw_buf *skipped, pw_error *err)
{
	int section = -1;
	bool in_table = false;
	const char *pend = NULL;
	size_t pend_len = 0;
	for (const char *p = out; *p;) {
		size_t len = strcspn(p, "\n");
		const char *line = p;
		p += len + (p[len] == '\n');
		if (!in_table) {
			in_table = len > 9 && !memcmp(line, " Package ", 9);
			continue;
		}
		if (len >= 19 && !memcmp(line, "Transaction Summary", 19))
			break;
		if (!len || line[0] == '=') {
			section = -1;
			continue;
		}
		if (line[0] != ' ') {
			section = line[len - 1] == ':' ? section_of(line, len) : -1;
			pend = NULL;
			continue;
		}
		const char *tok[MAX_TOK];
		size_t tl[MAX_TOK];
		size_t n = split(line, len, tok, tl);
		if (section == -2 && n >= 1) {
			(void)pw_buf_printf(skipped, "%s%.*s", skipped->len ? ", " : "", (int)tl[0],
					    tok[0]);
			continue;
		}
		if (section < 0 || !n)
			continue;
		if (n == 1) {
			pend = tok[0];
			pend_len = tl[0];
			continue;
		}
		pw_err rc = PW_OK;
		if (n >= 3 && tl[0] == 9 && !memcmp(tok[0], "replacing", 9)) {
			/* name.arch: the name ends at the last dot */
			const char *dot = tok[1] + tl[1];
			while (dot > tok[1] && *dot != '.')
				dot--;
			size_t nl = dot > tok[1] ? (size_t)(dot - tok[1]) : tl[1];
			rc = pw_exec_change_add(res, PW_CHANGE_REMOVE, tok[1], nl, tok[2], tl[2],
						NULL, 0, err);
		} else {
			const char *name = pend ? pend : tok[0];
			size_t nl = pend ? pend_len : tl[0], vi = pend ? 1 : 2;
			pend = NULL;
			if (vi >= n)
				continue;
			if (section == PW_CHANGE_REMOVE)
				rc = pw_exec_change_add(res, PW_CHANGE_REMOVE, name, nl, tok[vi],
							tl[vi], NULL, 0, err);
			else
				rc = pw_exec_change_add(res, (pw_change_action)section, name, nl,
							NULL, 0, tok[vi], tl[vi], err);
		}
		if (rc)
			return rc;
	}
	return PW_OK;
}

/* "Error: ..." and the " Problem: ..." lines after it, or dnf's "No match
 * for argument" lines: dnf's own words for what went wrong. */
static void problem_text(const char *out, pw_buf *problem)
{
	static const char *const marks[] = {"No match for argument",
					    "available, but not installed",
					    "Error: ",
					    " Problem",
					    "  - ",
					    "No such command",
					    NULL};
	for (const char *p = out; *p;) {
		size_t len = strcspn(p, "\n");
		for (size_t i = 0; marks[i]; i++) {
			const char *m = strstr(p, marks[i]);
			if (m && m < p + len) {
				size_t sp = strspn(p, " ");
				(void)pw_buf_printf(problem, "%s%.*s", problem->len ? " " : "",
						    (int)(len - sp), p + sp);
				break;
			}
		}
		p += len + (p[len] == '\n');
	}
}

/* needs-restarting -r (dnf-plugins-core) on this system: 1 reboot, 0 none,
 * -1 when the plugin is not there or another root is patched (it reads
 * the running system's boot time). */
static int needs_restarting(const pw_pkgmgr_ctx *ctx)
{
	if (pw_pkgmgr_other_root(ctx))
		return -1;
	dnf_cmd c;
	dnf_base(ctx, &c);
	pw_argv_add(&c.a, "needs-restarting");
	pw_argv_add(&c.a, "-r");
	pw_run_result r = PW_RUN_RESULT_INIT;
	pw_run_opts o = {.timeout_s = ctx->timeout_s, .max_output = 64 * 1024};
	int hint = -1;
	if (!pw_argv_check(&c.a, NULL) && !pw_run(c.a.v, &o, &r, NULL)) {
		const char *s = pw_buf_str(&r.output);
		if (strstr(s, "Reboot is required"))
			hint = 1;
		else if (strstr(s, "Reboot should not be necessary") ||
			 strstr(s, "No core libraries or services have been updated"))
			hint = 0;
	}
	pw_run_result_release(&r);
	pw_argv_release(&c.a);
	return hint;
}

static pw_err dnf_transact(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, bool real,
			   pw_exec_result *res, bool *resolved, pw_buf *problem, int *reboot,
			   pw_error *err)
{
	dnf_cmd c;
	dnf_base(ctx, &c);
	pw_argv_add(&c.a, real ? "-y" : "--assumeno");
	/* the exact version or an error, never a silently skipped one */
	pw_argv_add(&c.a, "--best");
	if (!real)
		pw_argv_add(&c.a, "--refresh");
	/* simulated, removals are allowed so that the plan shows them */
	if (!real || (req->flags & PW_EXEC_ALLOW_REMOVE))
		pw_argv_add(&c.a, "--allowerasing");
	if (req->kind == PW_EXEC_ROLLBACK) {
		pw_argv_add(&c.a, "downgrade");
	} else {
		if (req->flags & PW_EXEC_ALL_SECURITY)
			pw_argv_add(&c.a, "--security");
		pw_argv_add(&c.a, "upgrade");
	}
	for (size_t i = 0; i < req->n_packages; i++)
		add_spec(&c.a, &req->packages[i]);
	pw_run_result r = PW_RUN_RESULT_INIT;
	pw_err rc = pw_pkgmgr_exec(ctx, &c.a, res, &r, err);
	if (!rc && !real) {
		const char *out = pw_buf_str(&r.output);
		pw_buf skipped = PW_BUF_INIT;
		rc = parse_table(out, res, &skipped, err);
		bool nothing = strstr(out, "Nothing to do.") != NULL;
		/* with --assumeno dnf exits 1 after "Operation aborted." */
		*resolved = (strstr(out, "Dependencies resolved.") || nothing) &&
			    !strstr(out, "\nError: ") && strncmp(out, "Error: ", 7) &&
			    !skipped.len && !strstr(out, "No match for argument");
		if (skipped.len)
			(void)pw_buf_printf(problem, "dnf would skip %s", pw_buf_str(&skipped));
		problem_text(out, problem);
		pw_buf_release(&skipped);
	}
	if (!rc && real && res->exit_code == 0)
		*reboot = needs_restarting(ctx);
	pw_run_result_release(&r);
	pw_argv_release(&c.a);
	return rc;
}

static const pw_rpm_frontend dnf_frontend = {"dnf", dnf_transact, NULL};

/* dnf versionlock add|delete NAME...: the plugin locks the installed
 * version (add) and drops the lock (delete). */
static pw_err dnf_lock(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
		       pw_error *err)
{
	bool hold = req->kind == PW_EXEC_HOLD;
	dnf_cmd c;
	dnf_base(ctx, &c);
	pw_argv_add(&c.a, "versionlock");
	pw_argv_add(&c.a, hold ? "add" : "delete");
	for (size_t i = 0; i < req->n_packages; i++)
		pw_argv_add(&c.a, req->packages[i].name);
	pw_run_result r = PW_RUN_RESULT_INIT;
	pw_err rc = pw_pkgmgr_exec(ctx, &c.a, res, &r, err);
	pw_argv_release(&c.a);
	if (rc)
		return rc;
	const char *out = pw_buf_str(&r.output);
	if (strstr(out, "No such command: versionlock")) {
		pw_exec_result_say(res, PW_EXEC_FAILED,
				   "dnf has no versionlock command: install its plugin "
				   "(python3-dnf-plugin-versionlock on Fedora and RHEL 8 or later, "
				   "yum-plugin-versionlock on RHEL 7; Debian's dnf-plugins-core, "
				   "which conflicts with zypper there)");
	} else if (r.exit_code != 0) {
		pw_buf p = PW_BUF_INIT;
		problem_text(out, &p);
		pw_exec_result_say(res, PW_EXEC_FAILED,
				   "dnf versionlock failed (exit status %d)%s%.300s", r.exit_code,
				   p.len ? ": " : "", pw_buf_str(&p));
		pw_buf_release(&p);
	} else {
		rc = pw_rpm_held(ctx, req, res, err);
		pw_exec_result_say(res, PW_EXEC_DONE, "%s %zu package%s",
				   hold ? "held" : "released", req->n_packages,
				   req->n_packages == 1 ? "" : "s");
	}
	pw_run_result_release(&r);
	return rc;
}

static pw_err dnf_change(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
			 pw_error *err)
{
	return pw_rpm_transaction(&dnf_frontend, ctx, req, res, err);
}

static pw_err dnf_run(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
		      pw_error *err)
{
	return pw_pkgmgr_dispatch(&pw_pkgmgr_dnf, dnf_change, dnf_lock, ctx, req, res, err);
}

const pw_pkgmgr pw_pkgmgr_dnf = {
	.name = "dnf",
	.os_ids = "fedora rhel centos rocky almalinux ol amzn",
	.run = dnf_run,
	.db_state = pw_rpm_db_state,
};
