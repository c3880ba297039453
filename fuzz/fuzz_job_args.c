/* The job-argument schema check (pw_job_args_check) on arbitrary request
 * bodies, parsed as the server parses POST /api/v1/hosts/{id}/jobs
 * (pw_json_parse_limited): {"kind": ..., "args": ...}.
 *
 * "args" is checked against the kind the body names (when the table has
 * it), every kind of the table, and a kind with one argument of every
 * type, so the type checks are reached although the shipped kinds take
 * no arguments. Aborts on a crash, a sanitizer report, or a broken law:
 * an accepted "args" is null or an object whose every member is one of
 * the kind's arguments with a value of its type; a refusal is
 * PW_ERR_INVALID with a message in UTF-8 (it is sent in a JSON reply);
 * the text pw_job_create stores (printed, then parsed again) gets the
 * same verdict. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/jobkind.h"
#include "patchwarden/json_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const pw_job_arg typed_args[] = {
	{"reboot", PW_JOB_ARG_BOOL, 0},       {"note", PW_JOB_ARG_STRING, 0},
	{"list", PW_JOB_ARG_STRINGS, 0},      {"all", PW_JOB_ARG_TRUE, 0},
	{"packages", PW_JOB_ARG_PACKAGES, 0}, {"names", PW_JOB_ARG_NAMES, 0},
	{"ids", PW_JOB_ARG_IDS, 0},           {NULL, PW_JOB_ARG_BOOL, 0},
};
static const pw_job_kind typed = {"patch",    "every type of argument",
				  typed_args, "admin",
				  NULL,       NULL,
				  false};

/* A package name or version as the grammar allows (pkgname.h): no
 * blank, no control character, nothing a shell or option parser reads. */
static bool plain(const cJSON *v)
{
	if (!cJSON_IsString(v) || !v->valuestring[0] || v->valuestring[0] == '-' ||
	    strlen(v->valuestring) > 128)
		return false;
	for (const char *p = v->valuestring; *p; p++)
		if (*p <= ' ' || *p > '~' || strchr("\"'`$;&|<>()\\*?[]{}!#=/,", *p))
			return false;
	return true;
}

static bool of_type(const cJSON *v, pw_job_arg_type t)
{
	if (t == PW_JOB_ARG_BOOL)
		return cJSON_IsBool(v);
	if (t == PW_JOB_ARG_TRUE)
		return cJSON_IsTrue(v);
	if (t == PW_JOB_ARG_STRING)
		return cJSON_IsString(v);
	if (!cJSON_IsArray(v))
		return false;
	int n = cJSON_GetArraySize(v);
	if (t != PW_JOB_ARG_STRINGS && (n < 1 || n > PW_JOB_MAX_PACKAGES))
		return false;
	for (const cJSON *e = v->child; e; e = e->next) {
		bool ok = t == PW_JOB_ARG_STRINGS ? cJSON_IsString(e)
			  : t == PW_JOB_ARG_NAMES ? plain(e)
			  : t == PW_JOB_ARG_IDS
				  ? cJSON_IsNumber(e) && e->valuedouble >= 1
				  : plain(cJSON_GetObjectItemCaseSensitive(e, "name")) &&
					    plain(cJSON_GetObjectItemCaseSensitive(e, "version"));
		if (!ok)
			return false;
	}
	return true;
}

/* The verdict on args, with the laws above; true when accepted. */
static bool check(const pw_job_kind *k, const cJSON *args)
{
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_job_args_check(k, args, &e);
	if (rc) {
		if (rc != PW_ERR_INVALID || !e.msg[0] || !pw_utf8_valid(e.msg, strlen(e.msg)))
			abort();
		return false;
	}
	if (args && !cJSON_IsNull(args)) {
		if (!cJSON_IsObject(args))
			abort();
		for (const cJSON *m = args->child; m; m = m->next) {
			const pw_job_arg *a = k->args;
			while (a->name && strcmp(a->name, m->string))
				a++;
			if (!a->name || !of_type(m, a->type))
				abort();
		}
	}
	return true;
}

/* The same values, numbers bit for bit (cJSON_Compare allows a relative
 * error). */
static bool same(const cJSON *a, const cJSON *b)
{
	if (!a || !b || (a->type & 0xff) != (b->type & 0xff))
		return a == b;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a))
		return !strcmp(a->valuestring, b->valuestring);
	const cJSON *x = a->child, *y = b->child;
	for (; x && y; x = x->next, y = y->next)
		if (!same(x, y) || (x->string && (!y->string || strcmp(x->string, y->string))))
			return false;
	return !x && !y;
}

/* check(), and the text pw_job_create stores of accepted arguments is
 * accepted again, with the same text (refused ones are never stored;
 * cJSON may write a refused non-integer near 1e15 as an integer). */
static void check_stored(const pw_job_kind *k, const cJSON *args)
{
	bool ok = check(k, args);
	if (!ok || !cJSON_IsObject(args))
		return;
	char *text = cJSON_PrintUnformatted(args);
	cJSON *again = text ? cJSON_Parse(text) : NULL;
	char *text2 = again ? cJSON_PrintUnformatted(again) : NULL;
	if (again && (!check(k, again) || !same(args, again) || !text2 || strcmp(text, text2)))
		abort();
	cJSON_free(text2);
	cJSON_Delete(again);
	cJSON_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const pw_json_limits lim = PW_JSON_LIMITS_DEFAULT;
	cJSON *body = NULL;
	if (pw_json_parse_limited((const char *)data, size, &lim, "request body", &body, NULL))
		return 0;
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(body, "kind");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(body, "args");
	const pw_job_kind *named = cJSON_IsString(kind) ? pw_job_kind_find(kind->valuestring)
							: NULL;
	if (named) {
		if (strcmp(named->name, kind->valuestring))
			abort();
		(void)pw_job_kind_allows(named, "operator");
		check_stored(named, args);
	}
	size_t n;
	const pw_job_kind *all = pw_job_kinds(&n);
	for (size_t i = 0; i < n; i++)
		check_stored(&all[i], args);
	check_stored(&typed, args);
	cJSON_Delete(body);
	return 0;
}
