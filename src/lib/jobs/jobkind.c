#include "patchwarden/jobkind.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "patchwarden/text.h"

static const pw_job_arg no_args[] = {{NULL, PW_JOB_ARG_BOOL}};

static const pw_job_kind kinds[] = {
	{"scan", "inventory the host and match it against the agent's feed store", no_args,
	 "admin operator"},
	{"inventory", "report the packages installed on the host", no_args, "admin operator"},
};

const pw_job_kind *pw_job_kinds(size_t *n)
{
	*n = sizeof kinds / sizeof *kinds;
	return kinds;
}

const pw_job_kind *pw_job_kind_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof kinds / sizeof *kinds; i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

const char *pw_job_kind_names(void)
{
	static char names[256];
	if (!names[0]) {
		size_t len = 0;
		for (size_t i = 0; i < sizeof kinds / sizeof *kinds && len < sizeof names; i++)
			len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
						i ? ", " : "", kinds[i].name);
	}
	return names;
}

bool pw_job_kind_allows(const pw_job_kind *k, const char *role)
{
	size_t n = role ? strlen(role) : 0;
	for (const char *p = k->queued_by; n && *p;) {
		size_t w = strcspn(p, " ");
		if (w == n && !memcmp(p, role, n))
			return true;
		p += w + (p[w] == ' ');
	}
	return false;
}

static bool type_ok(const cJSON *v, pw_job_arg_type t)
{
	switch (t) {
	case PW_JOB_ARG_BOOL:
		return cJSON_IsBool(v);
	case PW_JOB_ARG_STRING:
		return cJSON_IsString(v);
	case PW_JOB_ARG_STRINGS:
		if (!cJSON_IsArray(v))
			return false;
		for (const cJSON *e = v->child; e; e = e->next)
			if (!cJSON_IsString(e))
				return false;
		return true;
	}
	return false;
}

static const char *const type_names[] = {
	[PW_JOB_ARG_BOOL] = "true or false",
	[PW_JOB_ARG_STRING] = "a string",
	[PW_JOB_ARG_STRINGS] = "an array of strings",
};

pw_err pw_job_args_check(const pw_job_kind *k, const cJSON *args, pw_error *err)
{
	if (!args || cJSON_IsNull(args))
		return PW_OK;
	if (!cJSON_IsObject(args))
		return pw_error_set(err, PW_ERR_INVALID, "job arguments must be a JSON object");
	for (const cJSON *v = args->child; v; v = v->next) {
		const pw_job_arg *a = k->args;
		while (a->name && strcmp(a->name, v->string))
			a++;
		if (!a->name)
			return pw_error_set(err, PW_ERR_INVALID,
					    "a %s job takes no argument \"%.*s\"", k->name,
					    pw_utf8_prefix(v->string, 40), v->string);
		if (!type_ok(v, a->type))
			return pw_error_set(err, PW_ERR_INVALID,
					    "argument \"%s\" of a %s job must be %s", a->name,
					    k->name, type_names[a->type]);
	}
	return PW_OK;
}
