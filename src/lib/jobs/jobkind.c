#include "patchwarden/jobkind.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "patchwarden/pkgname.h"
#include "patchwarden/text.h"

static const pw_job_arg no_args[] = {{NULL, PW_JOB_ARG_BOOL, 0}};

/* What to install: exactly one of packages, findings, all_security
 * (one_of); from_findings is what the server expanded findings from. */
#define TARGETS                                                                                    \
	{"packages", PW_JOB_ARG_PACKAGES, 0}, {"findings", PW_JOB_ARG_IDS, 0},                     \
		{"all_security", PW_JOB_ARG_TRUE, 0},                                              \
	{                                                                                          \
		"from_findings", PW_JOB_ARG_IDS, PW_JOB_ARG_SERVER                                 \
	}
#define TARGET_ONE_OF "packages findings all_security"
/* The largest id an args array may name (15 digits; see value_problem). */
#define PW_JOB_ID_MAX 999999999999999.0
/* A job bound to the host's maintenance window: queued for its next
 * start, or an emergency outside it (jobs.h). */
#define WINDOWED                                                                                   \
	{"emergency", PW_JOB_ARG_BOOL, 0},                                                         \
	{                                                                                          \
		"at_window", PW_JOB_ARG_BOOL, 0                                                    \
	}

static const pw_job_arg simulate_args[] = {TARGETS, {NULL, PW_JOB_ARG_BOOL, 0}};
static const pw_job_arg patch_args[] = {TARGETS,
					WINDOWED,
					{"allow_reboot", PW_JOB_ARG_BOOL, 0},
					{"allow_remove", PW_JOB_ARG_BOOL, 0},
					{"configure_pending", PW_JOB_ARG_BOOL, 0},
					{NULL, PW_JOB_ARG_BOOL, 0}};
static const pw_job_arg names_args[] = {{"packages", PW_JOB_ARG_NAMES, 0},
					{NULL, PW_JOB_ARG_BOOL, 0}};
static const pw_job_arg rollback_args[] = {{"packages", PW_JOB_ARG_PACKAGES, 0},
					   WINDOWED,
					   {NULL, PW_JOB_ARG_BOOL, 0}};
static const pw_job_arg reboot_args[] = {WINDOWED, {NULL, PW_JOB_ARG_BOOL, 0}};

#define STAFF "admin operator"
#define SIGNS_OFF "admin manager"

static const pw_job_kind kinds[] = {
	{"scan", "inventory the host and match it against the agent's feed store", no_args, STAFF,
	 NULL, NULL, false},
	{"inventory", "report the packages installed on the host", no_args, STAFF, NULL, NULL,
	 false},
	{"simulate", "what the package manager would install, upgrade and remove", simulate_args,
	 STAFF, TARGET_ONE_OF, NULL, false},
	{"patch", "install the named versions (or every security update)", patch_args, STAFF,
	 TARGET_ONE_OF, SIGNS_OFF, true},
	{"hold", "keep the named packages at their installed versions", names_args, STAFF,
	 "packages", NULL, false},
	{"unhold", "let the named packages be upgraded again", names_args, STAFF, "packages", NULL,
	 false},
	{"rollback", "install the named older versions", rollback_args, STAFF, "packages",
	 SIGNS_OFF, true},
	{"reboot", "reboot the host; the agent reports after boot", reboot_args, STAFF, NULL,
	 SIGNS_OFF, true},
	{"health", "run the host's configured health check", no_args, STAFF, NULL, NULL, false},
	{"backup_check", "run the host's configured backup check", no_args, STAFF, NULL, NULL,
	 false},
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

/* Whether the space-separated `list` has the word w (n bytes). */
static bool has_word(const char *list, const char *w, size_t n)
{
	for (const char *p = list ? list : ""; n && *p;) {
		size_t l = strcspn(p, " ");
		if (l == n && !memcmp(p, w, n))
			return true;
		p += l + (p[l] == ' ');
	}
	return false;
}

bool pw_job_kind_allows(const pw_job_kind *k, const char *role)
{
	return role && has_word(k->queued_by, role, strlen(role));
}

bool pw_job_arg_true(const cJSON *args, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, name));
}

pw_err pw_job_role_check(const pw_job_kind *k, const char *role, const cJSON *args, pw_error *err)
{
	size_t n = role ? strlen(role) : 0;
	if (k->emergency_by && pw_job_arg_true(args, "emergency")) {
		if (has_word(k->emergency_by, role, n))
			return PW_OK;
		return pw_error_set(err, PW_ERR_AUTH,
				    "role %.20s may not mark a %s job emergency: that needs the "
				    "role %s",
				    role ? role : "(none)", k->name, k->emergency_by);
	}
	if (has_word(k->queued_by, role, n))
		return PW_OK;
	return pw_error_set(err, PW_ERR_AUTH, "role %.20s may not queue %s jobs (roles: %s%s%s)",
			    role ? role : "(none)", k->name, k->queued_by,
			    k->emergency_by ? "; with \"emergency\": true: " : "",
			    k->emergency_by ? k->emergency_by : "");
}

/* A scheme, or any scheme (-1): the grammar package names and versions
 * must follow. */
static bool name_ok(int scheme, const char *name)
{
	return scheme < 0 ? pw_pkgname_any(name) : !pw_pkgname_check(scheme, name, NULL);
}

static bool version_ok(int scheme, const char *v)
{
	return scheme < 0 ? pw_pkgversion_any(v) : !pw_pkgversion_check(scheme, v, NULL);
}

static const char *const type_names[] = {
	[PW_JOB_ARG_BOOL] = "true or false",
	[PW_JOB_ARG_STRING] = "a string",
	[PW_JOB_ARG_STRINGS] = "an array of strings",
	[PW_JOB_ARG_TRUE] = "true",
	[PW_JOB_ARG_PACKAGES] = "an array of 1 to 512 {\"name\", \"version\"} objects",
	[PW_JOB_ARG_NAMES] = "an array of 1 to 512 package names",
	[PW_JOB_ARG_IDS] = "an array of 1 to 512 distinct positive integer ids",
};

/* Whether the i-th element's `key` (a string) is already among the
 * elements before it: names and ids are given once. */
static bool repeated(const cJSON *arr, const cJSON *e, const char *key)
{
	const cJSON *me = key ? cJSON_GetObjectItemCaseSensitive(e, key) : e;
	for (const cJSON *x = arr->child; x && x != e; x = x->next) {
		const cJSON *other = key ? cJSON_GetObjectItemCaseSensitive(x, key) : x;
		if (cJSON_IsString(me) && !strcmp(other->valuestring, me->valuestring))
			return true;
		if (cJSON_IsNumber(me) && other->valuedouble == me->valuedouble)
			return true;
	}
	return false;
}

/* One element of a PACKAGES array; NULL when good, else what is wrong. */
static const char *package_problem(const cJSON *e, int scheme)
{
	if (!cJSON_IsObject(e))
		return "is not an object";
	const cJSON *name = NULL, *version = NULL;
	for (const cJSON *m = e->child; m; m = m->next) {
		/* A repeated member would let the check and the executor read
		 * different values (cJSON finds the first, this loop the last). */
		if (!strcmp(m->string, "name") || !strcmp(m->string, "version")) {
			const cJSON **slot = m->string[0] == 'n' ? &name : &version;
			if (*slot)
				return "names \"name\" or \"version\" twice";
			*slot = m;
		} else if (strcmp(m->string, "source") || !cJSON_IsString(m) ||
			   !name_ok(scheme, m->valuestring))
			return "has a member other than \"name\", \"version\" and a source "
			       "package name \"source\"";
	}
	if (!cJSON_IsString(name) || !name_ok(scheme, name->valuestring))
		return "has no \"name\" that is a package name (see pkgname.h: no blanks, no "
		       "leading '-', at most 128 bytes)";
	if (!cJSON_IsString(version) || !version_ok(scheme, version->valuestring))
		return "has no \"version\" that is a package version of its ecosystem";
	return NULL;
}

/* NULL when v is of type t, else what is wrong; *at the element. */
static const char *value_problem(const cJSON *v, pw_job_arg_type t, int scheme, int *at)
{
	*at = -1;
	switch (t) {
	case PW_JOB_ARG_BOOL:
		return cJSON_IsBool(v) ? NULL : "";
	case PW_JOB_ARG_STRING:
		return cJSON_IsString(v) ? NULL : "";
	case PW_JOB_ARG_TRUE:
		return cJSON_IsTrue(v) ? NULL : "";
	case PW_JOB_ARG_STRINGS:
		if (!cJSON_IsArray(v))
			return "";
		for (const cJSON *e = v->child; e; e = e->next)
			if (!cJSON_IsString(e))
				return "";
		return NULL;
	case PW_JOB_ARG_PACKAGES:
	case PW_JOB_ARG_NAMES:
	case PW_JOB_ARG_IDS:
		break;
	}
	int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 0;
	if (n < 1 || n > PW_JOB_MAX_PACKAGES)
		return "";
	int i = 0;
	for (const cJSON *e = v->child; e; e = e->next, i++) {
		*at = i;
		const char *why = NULL;
		if (t == PW_JOB_ARG_PACKAGES)
			why = package_problem(e, scheme);
		else if (t == PW_JOB_ARG_NAMES &&
			 (!cJSON_IsString(e) || !name_ok(scheme, e->valuestring)))
			why = "is not a package name (see pkgname.h: no blanks, no leading '-', at "
			      "most 128 bytes)";
		/* At most 15 digits: cJSON writes the stored text with 15
		 * significant digits when that is within its tolerance, which
		 * would change a 16-digit id (fuzz_job_args found it). */
		else if (t == PW_JOB_ARG_IDS && (!cJSON_IsNumber(e) || e->valuedouble < 1 ||
						 e->valuedouble > PW_JOB_ID_MAX ||
						 e->valuedouble != (double)(int64_t)e->valuedouble))
			why = "is not a positive integer id of at most 15 digits";
		if (!why && repeated(v, e, t == PW_JOB_ARG_PACKAGES ? "name" : NULL))
			why = "is given twice";
		if (why)
			return why;
	}
	return NULL;
}

static bool in_one_of(const pw_job_kind *k, const char *name)
{
	return has_word(k->one_of, name, strlen(name));
}

static pw_err check_args(const pw_job_kind *k, const cJSON *args, int scheme, bool request,
			 pw_error *err)
{
	if (!args || cJSON_IsNull(args)) {
		if (k->one_of)
			return pw_error_set(err, PW_ERR_INVALID, "a %s job needs one of: %s",
					    k->name, k->one_of);
		return PW_OK;
	}
	if (!cJSON_IsObject(args))
		return pw_error_set(err, PW_ERR_INVALID, "job arguments must be a JSON object");
	int given = 0;
	for (const cJSON *v = args->child; v; v = v->next) {
		const pw_job_arg *a = k->args;
		while (a->name && strcmp(a->name, v->string))
			a++;
		if (!a->name || (request && (a->flags & PW_JOB_ARG_SERVER)))
			return pw_error_set(err, PW_ERR_INVALID,
					    "a %s job takes no argument \"%.*s\"", k->name,
					    pw_utf8_prefix(v->string, 40), v->string);
		int at;
		const char *why = value_problem(v, a->type, scheme, &at);
		if (why && at >= 0 && *why)
			return pw_error_set(err, PW_ERR_INVALID,
					    "argument \"%s\" of a %s job: element %d %s", a->name,
					    k->name, at, why);
		if (why)
			return pw_error_set(err, PW_ERR_INVALID,
					    "argument \"%s\" of a %s job must be %s", a->name,
					    k->name, type_names[a->type]);
		given += in_one_of(k, a->name);
	}
	if (k->one_of && given != 1)
		return pw_error_set(err, PW_ERR_INVALID, "a %s job needs exactly one of: %s%s",
				    k->name, k->one_of, given ? " (more than one given)" : "");
	return PW_OK;
}

pw_err pw_job_args_check(const pw_job_kind *k, const cJSON *args, pw_error *err)
{
	return check_args(k, args, -1, false, err);
}

pw_err pw_job_args_check_request(const pw_job_kind *k, const cJSON *args, pw_error *err)
{
	return check_args(k, args, -1, true, err);
}

pw_err pw_job_args_check_scheme(const pw_job_kind *k, const cJSON *args, pw_scheme s, pw_error *err)
{
	return check_args(k, args, (int)s, false, err);
}
