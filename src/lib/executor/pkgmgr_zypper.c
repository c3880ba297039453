/* zypper (openSUSE, SLES). simulate is `zypper --xmlout install --dry-run`
 * of name=version capabilities, whose <install-summary> says what would
 * change; patch runs the same install for real (rollback with
 * --oldpackage), removals only with --force-resolution; hold and unhold
 * are zypper's package locks. Another root is zypper's --root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor-internal.h"

typedef struct zypper_cmd {
	pw_argv a;
	char prog[4096];
} zypper_cmd;

static void zypper_base(const pw_pkgmgr_ctx *ctx, zypper_cmd *c, bool xml)
{
	pw_argv_init(&c->a);
	pw_pkgmgr_prog(ctx, "/usr/bin", "zypper", c->prog, sizeof c->prog);
	pw_argv_add(&c->a, c->prog);
	pw_argv_add(&c->a, "--non-interactive");
	if (xml)
		pw_argv_add(&c->a, "--xmlout");
	if (pw_pkgmgr_other_root(ctx)) {
		pw_argv_add(&c->a, "--root");
		pw_argv_add(&c->a, ctx->root);
	}
}

/* Bounded copy of an XML attribute value with the five predefined
 * entities decoded (zypper writes no others). */
static void xml_text(char *dst, size_t size, const char *s, size_t n)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {{"&apos;", '\''},
		    {"&quot;", '"'},
		    {"&amp;", '&'},
		    {"&lt;", '<'},
		    {"&gt;", '>'}};
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < size;) {
		size_t k = 0, nents = sizeof ents / sizeof ents[0];
		while (s[i] == '&' && k < nents &&
		       (strlen(ents[k].ent) > n - i ||
			memcmp(s + i, ents[k].ent, strlen(ents[k].ent))))
			k++;
		if (s[i] == '&' && k < nents) {
			dst[o++] = ents[k].c;
			i += strlen(ents[k].ent);
		} else {
			dst[o++] = s[i++];
		}
	}
	dst[o] = '\0';
}

/* The value of attribute `name` in the tag [tag, end), or false. */
static bool xml_attr(const char *tag, const char *end, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	for (const char *p = tag; p + nl + 3 < end; p++) {
		if (p[-1] != ' ' || memcmp(p, name, nl) || p[nl] != '=' || p[nl + 1] != '"')
			continue;
		const char *v = p + nl + 2, *q = memchr(v, '"', (size_t)(end - v));
		if (!q)
			return false;
		xml_text(out, size, v, (size_t)(q - v));
		return true;
	}
	out[0] = '\0';
	return false;
}

static const struct {
	const char *tag;
	int action;
} sections[] = {
	{"to-install", PW_CHANGE_INSTALL},     {"to-upgrade", PW_CHANGE_UPGRADE},
	{"to-downgrade", PW_CHANGE_DOWNGRADE}, {"to-remove", PW_CHANGE_REMOVE},
	{"to-change-arch", PW_CHANGE_UPGRADE}, {"to-change-vendor", PW_CHANGE_UPGRADE},
};

static int section_of(const char *tag, size_t n)
{
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
		if (strlen(sections[i].tag) == n && !memcmp(sections[i].tag, tag, n))
			return sections[i].action;
	return -1;
}

/* zypper's <install-summary> (zypper's src/Summary.cc, xml mode):
 * <to-upgrade> etc. holding <solvable type="package" name edition
 * edition-old .../>. Read minimally: tags in order, attributes by name;
 * solvables of other types (patches, patterns) are not packages. */
static pw_err parse_summary(const char *xml, pw_exec_result *res, pw_error *err)
{
	const char *p = strstr(xml, "<install-summary");
	const char *end = p ? strstr(p, "</install-summary>") : NULL;
	int section = -1;
	while (p && end && (p = memchr(p + 1, '<', (size_t)(end - p - 1)))) {
		const char *tag = p + 1, *close = memchr(tag, '>', (size_t)(end - tag));
		if (!close)
			break;
		size_t tl = strcspn(tag, " />");
		if (tag[0] == '/') {
			if (section_of(tag + 1, strcspn(tag + 1, " />")) != -1)
				section = -1;
		} else if (tl == 8 && !memcmp(tag, "solvable", 8) && section >= 0) {
			char type[32], name[PW_EXEC_NAME_MAX + 1], ed[PW_EXEC_VERSION_MAX + 1],
				old[PW_EXEC_VERSION_MAX + 1];
			xml_attr(tag, close, "type", type, sizeof type);
			xml_attr(tag, close, "name", name, sizeof name);
			xml_attr(tag, close, "edition", ed, sizeof ed);
			xml_attr(tag, close, "edition-old", old, sizeof old);
			if (strcmp(type, "package") || !name[0])
				continue;
			pw_err rc = section == PW_CHANGE_REMOVE
					    ? pw_exec_change_add(res, PW_CHANGE_REMOVE, name,
								 strlen(name), ed, strlen(ed), NULL,
								 0, err)
					    : pw_exec_change_add(res, (pw_change_action)section,
								 name, strlen(name), old,
								 strlen(old), ed, strlen(ed), err);
			if (rc)
				return rc;
		} else if (section_of(tag, tl) != -1) {
			section = section_of(tag, tl);
		}
		p = close;
	}
	return PW_OK;
}

/* zypper's words for what went wrong: the solver's problem description
 * and error messages. */
static void problem_text(const char *xml, pw_buf *problem)
{
	static const char *const opens[] = {"<description>Problem", "<message type=\"error\">",
					    NULL};
	for (size_t k = 0; opens[k]; k++) {
		for (const char *p = xml; (p = strstr(p, opens[k]));) {
			const char *v = strchr(p, '>') + 1, *q = strchr(v, '<');
			if (!q)
				break;
			char text[600];
			xml_text(text, sizeof text, v, (size_t)(q - v));
			for (char *t = text; *t; t++)
				if (*t == '\n')
					*t = ' ';
			(void)pw_buf_printf(problem, "%s%s", problem->len ? " " : "", text);
			p = q;
		}
	}
}

/* ZYPPER_EXIT_INF_*: 100 updates needed, 101 security updates, 102 reboot
 * needed, 103 zypper must restart, 106 some repositories skipped: the
 * run itself succeeded. 104 (a capability not found) and 107 (an rpm
 * scriptlet failed) did not. */
static bool zypper_exit_ok(int code)
{
	return code == 0 || (code >= 100 && code <= 103) || code == 106;
}

static void add_caps(pw_argv *a, const pw_exec_request *req)
{
	for (size_t i = 0; i < req->n_packages; i++) {
		const pw_exec_package *p = &req->packages[i];
		if (p->version[0] && !p->at_least)
			pw_argv_addf(a, "%s=%s", p->name, p->version);
		else
			pw_argv_add(a, p->name);
	}
}

static pw_err zypper_transact(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, bool real,
			      pw_exec_result *res, bool *resolved, pw_buf *problem, int *reboot,
			      pw_error *err)
{
	zypper_cmd c;
	zypper_base(ctx, &c, !real);
	bool security = req->flags & PW_EXEC_ALL_SECURITY;
	if (security) {
		pw_argv_add(&c.a, "patch");
		pw_argv_add(&c.a, "--category");
		pw_argv_add(&c.a, "security");
	} else {
		pw_argv_add(&c.a, "install");
	}
	if (!real)
		pw_argv_add(&c.a, "--dry-run");
	/* simulated, removals are allowed so that the plan shows them */
	if (!real || (req->flags & PW_EXEC_ALLOW_REMOVE))
		pw_argv_add(&c.a, "--force-resolution");
	else if (!security)
		pw_argv_add(&c.a, "--no-force-resolution");
	if (req->kind == PW_EXEC_ROLLBACK)
		pw_argv_add(&c.a, "--oldpackage");
	add_caps(&c.a, req);
	pw_run_result r = PW_RUN_RESULT_INIT;
	pw_err rc = pw_pkgmgr_exec(ctx, &c.a, res, &r, err);
	if (!rc && !real) {
		const char *out = pw_buf_str(&r.output);
		rc = parse_summary(out, res, err);
		*resolved = zypper_exit_ok(res->exit_code) &&
			    (strstr(out, "<install-summary") || strstr(out, "Nothing to do.")) &&
			    !strstr(out, "<description>Problem");
		problem_text(out, problem);
	}
	if (!rc && real)
		*reboot = res->exit_code == 102 ? 1 : -1;
	pw_run_result_release(&r);
	pw_argv_release(&c.a);
	return rc;
}

static const pw_rpm_frontend zypper_frontend = {"zypper", zypper_transact, zypper_exit_ok};

/* zypper addlock|removelock NAME...: a lock by name keeps the installed
 * package as it is (libzypp's /etc/zypp/locks). */
static pw_err zypper_lock(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
			  pw_error *err)
{
	bool hold = req->kind == PW_EXEC_HOLD;
	zypper_cmd c;
	zypper_base(ctx, &c, false);
	pw_argv_add(&c.a, hold ? "addlock" : "removelock");
	for (size_t i = 0; i < req->n_packages; i++)
		pw_argv_add(&c.a, req->packages[i].name);
	pw_run_result r = PW_RUN_RESULT_INIT;
	pw_err rc = pw_pkgmgr_exec(ctx, &c.a, res, &r, err);
	pw_argv_release(&c.a);
	if (!rc && r.exit_code != 0) {
		pw_exec_result_say(res, PW_EXEC_FAILED, "zypper %s failed (exit status %d): %.300s",
				   hold ? "addlock" : "removelock", r.exit_code,
				   pw_buf_str(&r.output));
	} else if (!rc) {
		rc = pw_rpm_held(ctx, req, res, err);
		pw_exec_result_say(res, PW_EXEC_DONE, "%s %zu package%s",
				   hold ? "locked" : "unlocked", req->n_packages,
				   req->n_packages == 1 ? "" : "s");
	}
	pw_run_result_release(&r);
	return rc;
}

static pw_err zypper_change(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req,
			    pw_exec_result *res, pw_error *err)
{
	return pw_rpm_transaction(&zypper_frontend, ctx, req, res, err);
}

static pw_err zypper_run(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
			 pw_error *err)
{
	return pw_pkgmgr_dispatch(&pw_pkgmgr_zypper, zypper_change, zypper_lock, ctx, req, res,
				  err);
}

const pw_pkgmgr pw_pkgmgr_zypper = {
	.name = "zypper",
	.os_ids = "opensuse-leap opensuse-tumbleweed sles sled suse opensuse",
	.run = zypper_run,
	.db_state = pw_rpm_db_state,
};
