#include "patchwarden/runtime.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/grow.h"
#include "patchwarden/jsonout.h"

void pw_runtime_release(pw_runtime *rt)
{
	if (!rt)
		return;
	for (size_t i = 0; i < rt->n_in_use; i++)
		free(rt->in_use[i]);
	for (size_t i = 0; i < rt->n_unknown; i++)
		free(rt->unknown[i]);
	for (size_t i = 0; i < rt->n_restarts; i++) {
		pw_runtime_restart *r = &rt->restarts[i];
		free(r->process);
		free(r->path);
		free(r->package);
		free(r->unit);
	}
	free(rt->in_use);
	free(rt->unknown);
	free(rt->restarts);
	*rt = (pw_runtime)PW_RUNTIME_INIT;
}

bool pw_runtime_key(const char *name, const char *arch, char *out)
{
	int n = arch && *arch ? snprintf(out, PW_RUNTIME_KEY_MAX + 1, "%s:%s", name, arch)
			      : snprintf(out, PW_RUNTIME_KEY_MAX + 1, "%s", name);
	return n > 0 && n <= PW_RUNTIME_KEY_MAX;
}

/* A copy fit to carry: at most max bytes, control characters as '?'. */
static char *safe_dup(const char *s, size_t max)
{
	if (!s)
		return NULL;
	size_t n = strlen(s);
	if (n > max)
		n = max;
	char *c = malloc(n + 1);
	if (!c)
		return NULL;
	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	c[n] = '\0';
	return c;
}

static pw_err nomem(pw_error *err)
{
	return pw_error_set(err, PW_ERR_NOMEM, "out of memory recording the running processes");
}

pw_err pw_runtime_add_key(pw_runtime *rt, bool unknown, const char *key, pw_error *err)
{
	char ***v = unknown ? &rt->unknown : &rt->in_use;
	size_t *n = unknown ? &rt->n_unknown : &rt->n_in_use;
	size_t *cap = unknown ? &rt->cap_unknown : &rt->cap_in_use;
	if (rt->n_in_use + rt->n_unknown >= PW_RUNTIME_MAX_PACKAGES)
		return pw_error_set(err, PW_ERR_INVALID, "runtime: more than %d packages",
				    PW_RUNTIME_MAX_PACKAGES);
	size_t len = strlen(key);
	if (!len || len > PW_RUNTIME_KEY_MAX)
		return pw_error_set(err, PW_ERR_INVALID,
				    "runtime: a package key of %zu bytes (1 to %d)", len,
				    PW_RUNTIME_KEY_MAX);
	char **grown = pw_grow(*v, cap, *n, sizeof *grown);
	char *copy = grown ? strdup(key) : NULL;
	if (grown)
		*v = grown;
	if (!copy)
		return nomem(err);
	(*v)[(*n)++] = copy;
	return PW_OK;
}

pw_err pw_runtime_add_restart(pw_runtime *rt, int pid, const char *process, const char *path,
			      const char *package, const char *unit, pw_error *err)
{
	if (rt->n_restarts >= PW_RUNTIME_MAX_RESTARTS)
		return pw_error_set(err, PW_ERR_INVALID, "runtime: more than %d restarts",
				    PW_RUNTIME_MAX_RESTARTS);
	if (pid <= 0 || !path || !*path)
		return pw_error_set(err, PW_ERR_INVALID,
				    "runtime: restarts[%zu]: a pid and a path are required",
				    rt->n_restarts);
	pw_runtime_restart *grown = pw_grow(rt->restarts, &rt->cap_restarts, rt->n_restarts,
					    sizeof *grown);
	if (!grown)
		return nomem(err);
	rt->restarts = grown;
	pw_runtime_restart c = {pid, safe_dup(process ? process : "", PW_RUNTIME_PROCESS_MAX),
				safe_dup(path, PW_RUNTIME_PATH_MAX),
				safe_dup(package, PW_RUNTIME_KEY_MAX),
				safe_dup(unit, PW_RUNTIME_UNIT_MAX)};
	if (!c.process || !c.path || (package && !c.package) || (unit && !c.unit)) {
		free(c.process);
		free(c.path);
		free(c.package);
		free(c.unit);
		return nomem(err);
	}
	rt->restarts[rt->n_restarts++] = c;
	return PW_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_restart(const void *a, const void *b)
{
	const pw_runtime_restart *x = a, *y = b;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return strcmp(x->path, y->path);
}

static bool ascending(const void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	for (size_t i = 1; i < n; i++)
		if (cmp((const char *)v + (i - 1) * size, (const char *)v + i * size) >= 0)
			return false;
	return true;
}

bool pw_runtime_sorted(const pw_runtime *rt)
{
	return ascending(rt->in_use, rt->n_in_use, sizeof *rt->in_use, cmp_str) &&
	       ascending(rt->unknown, rt->n_unknown, sizeof *rt->unknown, cmp_str) &&
	       ascending(rt->restarts, rt->n_restarts, sizeof *rt->restarts, cmp_restart);
}

void pw_runtime_sort(pw_runtime *rt)
{
	if (rt->n_in_use)
		qsort(rt->in_use, rt->n_in_use, sizeof *rt->in_use, cmp_str);
	if (rt->n_unknown)
		qsort(rt->unknown, rt->n_unknown, sizeof *rt->unknown, cmp_str);
	if (rt->n_restarts)
		qsort(rt->restarts, rt->n_restarts, sizeof *rt->restarts, cmp_restart);
}

pw_err pw_runtime_from_procuse(const pw_procuse *pu, const pw_inventory *inv, pw_runtime *out,
			       pw_error *err)
{
	*out = (pw_runtime)PW_RUNTIME_INIT;
	out->processes = pw_procuse_process_count(pu);
	bool lists = false; /* the database has file lists at all */
	pw_err rc = PW_OK;
	for (size_t i = 0; !rc && pw_procuse_complete(pu) && i < inv->n_pkgs; i++) {
		const pw_package *p = &inv->pkgs[i];
		char key[PW_RUNTIME_KEY_MAX + 1];
		if (!pw_runtime_key(p->name, p->arch, key))
			continue;
		int u = pw_procuse_package_in_use(pu, p->name, p->arch);
		lists = lists || u >= 0;
		if (u != 0)
			rc = pw_runtime_add_key(out, u < 0, key, err);
	}
	if (!rc && !lists) {
		/* No file lists (rpm, apk) or an incomplete picture: nothing
		 * is known per package, and listing every one as unknown
		 * would say no more. */
		for (size_t i = 0; i < out->n_unknown; i++)
			free(out->unknown[i]);
		out->n_unknown = 0;
	}
	out->in_use_known = !rc && lists;
	for (size_t i = 0; !rc && i < pw_procuse_deleted_count(pu); i++) {
		const pw_proc_deleted *d = pw_procuse_deleted(pu, i);
		rc = pw_runtime_add_restart(out, d->pid, d->process, d->path, d->package, NULL,
					    err);
		if (rc == PW_ERR_INVALID) /* past the limit: the first ones tell enough */
			rc = pw_error_set(err, PW_OK, "%s", "");
		if (rc == PW_OK && out->n_restarts == PW_RUNTIME_MAX_RESTARTS)
			break;
	}
	if (rc) {
		pw_runtime_release(out);
		return rc;
	}
	pw_runtime_sort(out);
	return PW_OK;
}

static bool listed(char *const *v, size_t n, const char *key)
{
	return n && bsearch(&key, v, n, sizeof *v, cmp_str) != NULL;
}

int pw_runtime_in_use(const pw_runtime *rt, const char *name, const char *arch)
{
	char key[PW_RUNTIME_KEY_MAX + 1];
	if (!rt->in_use_known || !pw_runtime_key(name, arch, key))
		return -1;
	if (listed(rt->in_use, rt->n_in_use, key))
		return 1;
	return listed(rt->unknown, rt->n_unknown, key) ? -1 : 0;
}

/* ---- JSON -------------------------------------------------------------- */

cJSON *pw_runtime_to_json(const pw_runtime *rt)
{
	cJSON *o = cJSON_CreateObject(), *a = NULL;
	bool ok = o && cJSON_AddBoolToObject(o, "in_use_known", rt->in_use_known) &&
		  cJSON_AddNumberToObject(o, "processes", (double)rt->processes) &&
		  pw_json_add_strings(o, "in_use", rt->in_use, rt->n_in_use) &&
		  pw_json_add_strings(o, "unknown", rt->unknown, rt->n_unknown) &&
		  (a = cJSON_AddArrayToObject(o, "restarts"));
	for (size_t i = 0; ok && i < rt->n_restarts; i++) {
		const pw_runtime_restart *r = &rt->restarts[i];
		cJSON *x = cJSON_CreateObject();
		ok = x && cJSON_AddItemToArray(a, x) && cJSON_AddNumberToObject(x, "pid", r->pid) &&
		     cJSON_AddStringToObject(x, "process", r->process) &&
		     cJSON_AddStringToObject(x, "path", r->path) &&
		     pw_json_add_str(x, "package", r->package) &&
		     pw_json_add_str(x, "unit", r->unit);
		if (!ok && x && !cJSON_GetArrayItem(a, (int)i))
			cJSON_Delete(x);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static pw_err bad(pw_error *err, const char *member, const char *want)
{
	return pw_error_set(err, PW_ERR_INVALID, "runtime: %s must be %s", member, want);
}

/* A string member of at most max bytes; NULL for null when `optional`. */
static pw_err get_text(const cJSON *o, const char *key, size_t max, bool optional, const char **out,
		       pw_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*out = NULL;
	if (optional && (!v || cJSON_IsNull(v)))
		return PW_OK;
	if (!cJSON_IsString(v) || !*v->valuestring || strlen(v->valuestring) > max) {
		char want[64];
		snprintf(want, sizeof want, "a string of 1 to %zu bytes%s", max,
			 optional ? " or null" : "");
		return bad(err, key, want);
	}
	*out = v->valuestring;
	return PW_OK;
}

static pw_err get_keys(pw_runtime *rt, const cJSON *o, const char *name, bool unknown,
		       pw_error *err)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!a)
		return PW_OK;
	if (!cJSON_IsArray(a))
		return bad(err, name, "an array of package keys");
	pw_err rc = PW_OK;
	for (const cJSON *x = a->child; !rc && x; x = x->next)
		rc = cJSON_IsString(x) ? pw_runtime_add_key(rt, unknown, x->valuestring, err)
				       : bad(err, name, "an array of strings");
	return rc;
}

pw_err pw_runtime_from_json(pw_runtime *rt, const cJSON *obj, pw_error *err)
{
	*rt = (pw_runtime)PW_RUNTIME_INIT;
	if (!cJSON_IsObject(obj))
		return bad(err, "the record", "an object");
	const cJSON *known = cJSON_GetObjectItemCaseSensitive(obj, "in_use_known");
	const cJSON *procs = cJSON_GetObjectItemCaseSensitive(obj, "processes");
	if (!cJSON_IsBool(known))
		return bad(err, "in_use_known", "true or false");
	if (procs && (!cJSON_IsNumber(procs) || procs->valuedouble < 0 || procs->valuedouble > 1e9))
		return bad(err, "processes", "a count");
	rt->in_use_known = cJSON_IsTrue(known);
	rt->processes = procs ? (size_t)procs->valuedouble : 0;
	pw_err rc = get_keys(rt, obj, "in_use", false, err);
	if (!rc)
		rc = get_keys(rt, obj, "unknown", true, err);
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, "restarts");
	if (!rc && a && !cJSON_IsArray(a))
		rc = bad(err, "restarts", "an array");
	for (const cJSON *x = a ? a->child : NULL; !rc && x; x = x->next) {
		const cJSON *pid = cJSON_GetObjectItemCaseSensitive(x, "pid");
		const char *process = NULL, *path = NULL, *package = NULL, *unit = NULL;
		if (!cJSON_IsNumber(pid) || pid->valuedouble < 1 || pid->valuedouble > 4194304 ||
		    pid->valuedouble != (double)(int)pid->valuedouble)
			rc = bad(err, "restarts[].pid", "a process id");
		if (!rc &&
		    (rc = get_text(x, "path", PW_RUNTIME_PATH_MAX, false, &path, err)) == 0 &&
		    (rc = get_text(x, "package", PW_RUNTIME_KEY_MAX, true, &package, err)) == 0 &&
		    (rc = get_text(x, "unit", PW_RUNTIME_UNIT_MAX, true, &unit, err)) == 0) {
			const cJSON *pv = cJSON_GetObjectItemCaseSensitive(x, "process");
			process = cJSON_IsString(pv) ? pv->valuestring : NULL;
			if (!process || strlen(process) > PW_RUNTIME_PROCESS_MAX)
				rc = bad(err, "restarts[].process", "a string of at most 64 bytes");
		}
		if (!rc)
			rc = pw_runtime_add_restart(rt, (int)pid->valuedouble, process, path,
						    package, unit, err);
	}
	if (rc) {
		pw_runtime_release(rt);
		return rc;
	}
	pw_runtime_sort(rt);
	return PW_OK;
}

pw_err pw_runtime_hash(const pw_runtime *rt, char out[65], pw_error *err)
{
	cJSON *j = pw_runtime_to_json(rt);
	char *text = j ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	if (!text)
		return nomem(err);
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
	cJSON_free(text);
	for (size_t i = 0; i < sizeof h; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
	return PW_OK;
}
