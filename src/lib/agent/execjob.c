#include "patchwarden/execjob.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

/* The members each kind takes: a bit per member below. */
enum {
	A_PACKAGES = 1 << 0, /* [{"name","version","source"}] */
	A_NAMES = 1 << 1,    /* "packages": ["name", ...] */
	A_FINDINGS = 1 << 2,
	A_ALL_SECURITY = 1 << 3,
	A_FROM_FINDINGS = 1 << 4,
	A_WINDOW = 1 << 5, /* emergency, at_window: the server's business */
	A_PATCH_FLAGS = 1 << 6,
};

static const struct {
	pw_exec_kind kind;
	unsigned members;
} kind_members[] = {
	{PW_EXEC_SIMULATE, A_PACKAGES | A_FINDINGS | A_ALL_SECURITY | A_FROM_FINDINGS},
	{PW_EXEC_PATCH,
	 A_PACKAGES | A_FINDINGS | A_ALL_SECURITY | A_FROM_FINDINGS | A_WINDOW | A_PATCH_FLAGS},
	{PW_EXEC_HOLD, A_NAMES},
	{PW_EXEC_UNHOLD, A_NAMES},
	{PW_EXEC_ROLLBACK, A_PACKAGES | A_WINDOW},
	{PW_EXEC_REBOOT, A_WINDOW},
	{PW_EXEC_HEALTH, 0},
	{PW_EXEC_BACKUP_CHECK, 0},
};

static const struct {
	const char *name;
	unsigned member;
	uint32_t flag; /* a boolean that sets this request flag */
} members[] = {
	{"packages", A_PACKAGES | A_NAMES, 0},
	{"findings", A_FINDINGS, 0},
	{"all_security", A_ALL_SECURITY, PW_EXEC_ALL_SECURITY},
	{"from_findings", A_FROM_FINDINGS, 0},
	{"emergency", A_WINDOW, 0},
	{"at_window", A_WINDOW, 0},
	{"allow_reboot", A_PATCH_FLAGS, PW_EXEC_ALLOW_REBOOT},
	{"allow_remove", A_PATCH_FLAGS, PW_EXEC_ALLOW_REMOVE},
	{"configure_pending", A_PATCH_FLAGS, PW_EXEC_CONFIGURE_PENDING},
};

/* Package names and versions as no package manager reads as an option
 * or a pattern: the backend's own grammar check comes later
 * (pw_exec_request_check). */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > PW_EXEC_NAME_MAX || s[0] == '-' || s[0] == '.')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+._-") == n;
}

static bool version_ok(const char *s)
{
	size_t n = strlen(s);
	if (n > PW_EXEC_VERSION_MAX || s[0] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.~:_-^") ==
	       n;
}

static pw_err bad(pw_error *err, const char *kind, const char *what, size_t i)
{
	return pw_error_set(err, PW_ERR_INVALID, "%s job: packages[%zu]: %s", kind, i, what);
}

static pw_err package_from(const char *kind, const cJSON *v, size_t i, bool names,
			   bool need_version, pw_exec_package *p, pw_error *err)
{
	memset(p, 0, sizeof *p);
	const char *name = NULL, *version = "";
	if (names) {
		if (!cJSON_IsString(v))
			return bad(err, kind, "must be a package name (a string)", i);
		name = v->valuestring;
	} else {
		if (!cJSON_IsObject(v))
			return bad(err, kind, "must be an object {\"name\", \"version\"}", i);
		for (const cJSON *m = v->child; m; m = m->next) {
			bool is_name = !strcmp(m->string, "name"),
			     is_ver = !strcmp(m->string, "version"),
			     is_src = !strcmp(m->string, "source");
			if (!is_name && !is_ver && !is_src)
				return pw_error_set(
					err, PW_ERR_INVALID,
					"%s job: packages[%zu]: unknown member \"%.40s\" "
					"(a package has name, version and source)",
					kind, i, m->string);
			if (!cJSON_IsString(m))
				return pw_error_set(err, PW_ERR_INVALID,
						    "%s job: packages[%zu].%s must be a string",
						    kind, i, m->string);
			if (is_name)
				name = m->valuestring;
			else if (is_ver)
				version = m->valuestring;
			else if (!name_ok(m->valuestring))
				return bad(err, kind, "source is not a package name", i);
			else
				p->at_least = true;
		}
	}
	if (!name || !name_ok(name))
		return bad(err, kind, "name is missing or not a package name", i);
	if (!version_ok(version))
		return bad(err, kind, "version is not a package version", i);
	if (need_version && !version[0])
		return bad(err, kind, "a version is needed", i);
	if (p->at_least && !version[0])
		return bad(err, kind, "source without a version", i);
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->version, sizeof p->version, "%s", version);
	return PW_OK;
}

static pw_err packages_from(const char *kind, const cJSON *v, bool names, bool need_version,
			    pw_exec_request *req, pw_error *err)
{
	int n = cJSON_GetArraySize(v);
	if (!cJSON_IsArray(v) || n < 1 || n > PW_EXEC_MAX_PACKAGES)
		return pw_error_set(err, PW_ERR_INVALID,
				    "%s job: packages must be an array of 1 to %d %s", kind,
				    PW_EXEC_MAX_PACKAGES, names ? "names" : "packages");
	size_t i = 0;
	for (const cJSON *e = v->child; e; e = e->next, i++) {
		pw_err rc = package_from(kind, e, i, names, need_version, &req->packages[i], err);
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(req->packages[j].name, req->packages[i].name))
				return bad(err, kind, "a package named twice", i);
	}
	req->n_packages = i;
	return PW_OK;
}

pw_err pw_exec_request_from_json(const char *kind, const cJSON *args, pw_exec_request *req,
				 pw_error *err)
{
	memset(req, 0, sizeof *req);
	pw_exec_kind k = pw_exec_kind_from_name(kind);
	unsigned allowed = 0;
	bool known = false;
	for (size_t i = 0; i < sizeof kind_members / sizeof *kind_members; i++)
		if (kind_members[i].kind == k) {
			allowed = kind_members[i].members;
			known = true;
		}
	if (!known)
		return pw_error_set(err, PW_ERR_INVALID, "%.40s is not a job the executor runs",
				    kind ? kind : "(none)");
	if (args && !cJSON_IsNull(args) && !cJSON_IsObject(args))
		return pw_error_set(err, PW_ERR_INVALID, "%s job: arguments must be an object",
				    kind);
	req->kind = k;
	if (k == PW_EXEC_REBOOT)
		req->flags |= PW_EXEC_ALLOW_REBOOT; /* the job itself is the permission */
	const cJSON *pkgs = NULL;
	for (const cJSON *m = args ? args->child : NULL; m; m = m->next) {
		size_t i = 0;
		while (i < sizeof members / sizeof *members &&
		       (strcmp(members[i].name, m->string) || !(members[i].member & allowed)))
			i++;
		if (i == sizeof members / sizeof *members)
			return pw_error_set(err, PW_ERR_INVALID,
					    "a %s job takes no argument \"%.40s\"", kind,
					    m->string);
		if (!strcmp(m->string, "packages")) {
			pkgs = m;
		} else if (!strcmp(m->string, "findings")) {
			return pw_error_set(err, PW_ERR_INVALID,
					    "%s job: \"findings\" reached the agent; the server "
					    "expands findings into packages before it hands out "
					    "the job",
					    kind);
		} else if (!strcmp(m->string, "from_findings")) {
			if (!cJSON_IsArray(m))
				return pw_error_set(err, PW_ERR_INVALID,
						    "%s job: from_findings must be an array", kind);
		} else if (!cJSON_IsBool(m)) {
			return pw_error_set(err, PW_ERR_INVALID,
					    "%s job: argument \"%s\" must be true or false", kind,
					    m->string);
		} else if (cJSON_IsTrue(m)) {
			req->flags |= members[i].flag;
		}
	}
	if (pkgs) {
		pw_err rc = packages_from(kind, pkgs, (allowed & A_NAMES) != 0,
					  k == PW_EXEC_ROLLBACK, req, err);
		if (rc)
			return rc;
	}
	bool need_target = allowed & (A_PACKAGES | A_NAMES);
	bool all = req->flags & PW_EXEC_ALL_SECURITY;
	if (need_target && !pkgs && !all)
		return pw_error_set(err, PW_ERR_INVALID, "a %s job needs \"packages\"%s", kind,
				    (allowed & A_ALL_SECURITY) ? " or \"all_security\": true" : "");
	if (pkgs && all)
		return pw_error_set(err, PW_ERR_INVALID,
				    "a %s job takes \"packages\" or \"all_security\", not both",
				    kind);
	return PW_OK;
}

const char *pw_exec_status_name(pw_exec_status st)
{
	return st == PW_EXEC_DONE ? "done" : st == PW_EXEC_FAILED ? "failed" : "refused";
}

int pw_exec_status_exit(pw_exec_status st)
{
	return st == PW_EXEC_DONE ? 0 : st == PW_EXEC_FAILED ? 1 : 2;
}

static bool add_change(cJSON *arr, const pw_exec_change *c, bool simulated)
{
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToArray(arr, o))
		return cJSON_Delete(o), false;
	return cJSON_AddStringToObject(o, "name", c->name) &&
	       cJSON_AddStringToObject(o, "action", pw_change_action_name(c->action)) &&
	       (c->before[0] ? cJSON_AddStringToObject(o, "before", c->before)
			     : cJSON_AddNullToObject(o, "before")) &&
	       (c->after[0] ? cJSON_AddStringToObject(o, "after", c->after)
			    : cJSON_AddNullToObject(o, "after")) &&
	       cJSON_AddStringToObject(o, "result",
				       c->ok ? (simulated ? "would" : "ok") : "failed");
}

/* Length of the valid UTF-8 character at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t k = s[0] < 0x80                   ? 1
		   : s[0] >= 0xC2 && s[0] < 0xE0 ? 2
		   : s[0] >= 0xE0 && s[0] < 0xF0 ? 3
		   : s[0] >= 0xF0 && s[0] < 0xF5 ? 4
						 : 0;
	if (!k || k > n || !s[0])
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((k == 3 && ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0))) ||
	    (k == 4 && ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))))
		return 0;
	return k;
}

/* The log as JSON text: bytes that are not UTF-8 (or NUL) become '?'. */
static bool add_log(cJSON *o, const pw_buf *log)
{
	pw_buf b = PW_BUF_INIT;
	const unsigned char *s = (const unsigned char *)(log->data ? log->data : "");
	bool ok = !pw_buf_reserve(&b, log->len + 1);
	for (size_t i = 0; ok && i < log->len;) {
		size_t k = utf8_len(s + i, log->len - i);
		ok = !(k ? pw_buf_append(&b, s + i, k) : pw_buf_putc(&b, '?'));
		i += k ? k : 1;
	}
	ok = ok && cJSON_AddStringToObject(o, "log", pw_buf_str(&b));
	pw_buf_release(&b);
	return ok;
}

cJSON *pw_exec_result_to_json(const pw_exec_request *req, const pw_exec_result *res)
{
	cJSON *o = cJSON_CreateObject(), *pk = NULL, *sv = NULL;
	bool ok = o && cJSON_AddStringToObject(o, "kind", pw_exec_kind_name(req->kind)) &&
		  cJSON_AddStringToObject(o, "status", pw_exec_status_name(res->status)) &&
		  cJSON_AddNumberToObject(o, "exit_code", res->exit_code) &&
		  cJSON_AddStringToObject(o, "message", res->message) &&
		  cJSON_AddBoolToObject(o, "resolves", res->resolves) &&
		  cJSON_AddBoolToObject(o, "needs_reboot", res->needs_reboot) &&
		  cJSON_AddStringToObject(o, "db_state", pw_pkgdb_state_name(res->db_state)) &&
		  (pk = cJSON_AddArrayToObject(o, "packages")) &&
		  (sv = cJSON_AddArrayToObject(o, "services"));
	for (size_t i = 0; ok && i < res->n_changes; i++)
		ok = add_change(pk, &res->changes[i], req->kind == PW_EXEC_SIMULATE);
	for (size_t i = 0; ok && i < res->n_services; i++) {
		cJSON *s = cJSON_CreateString(res->services[i]);
		ok = s && cJSON_AddItemToArray(sv, s);
		if (!ok)
			cJSON_Delete(s);
	}
	ok = ok && add_log(o, &res->log);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

pw_err pw_exec_in_process(void *ctx, const pw_exec_request *req, pw_exec_result *res, pw_error *err)
{
	return pw_executor_run(ctx, req, res, err);
}
