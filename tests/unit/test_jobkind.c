/* The job-kind table (jobkind.h): lookup, who may queue a kind, and the
 * argument schema the server checks before it queues a job. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "patchwarden/jobkind.h"
#include "patchwarden/json_limits.h"
#include "patchwarden/text.h"

static void test_lookup(void **state)
{
	(void)state;
	size_t n = 0;
	const pw_job_kind *all = pw_job_kinds(&n);
	assert_true(n >= 2);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(pw_job_kind_find(all[i].name), &all[i]);
	assert_non_null(pw_job_kind_find("scan"));
	assert_non_null(pw_job_kind_find("inventory"));
	assert_null(pw_job_kind_find("Scan"));
	assert_null(pw_job_kind_find("rm -rf /"));
	assert_null(pw_job_kind_find(""));
	assert_null(pw_job_kind_find(NULL));
	assert_non_null(strstr(pw_job_kind_names(), "scan"));
	assert_non_null(strstr(pw_job_kind_names(), "inventory"));
}

/* Operators start patching work (DESIGN.md §3); the read-only roles and
 * agents queue nothing. */
static void test_roles(void **state)
{
	(void)state;
	const pw_job_kind *k = pw_job_kind_find("scan");
	assert_true(pw_job_kind_allows(k, "admin"));
	assert_true(pw_job_kind_allows(k, "operator"));
	static const char *const no[] = {"auditor",        "helpdesk", "app-owner",
					 "manager",        "agent",    "",
					 "admin operator", "oper",     NULL};
	for (size_t i = 0; no[i]; i++)
		assert_false(pw_job_kind_allows(k, no[i]));
	assert_false(pw_job_kind_allows(k, NULL));
}

static pw_err check(const char *kind, const char *json, pw_error *e)
{
	cJSON *args = json ? cJSON_Parse(json) : NULL;
	pw_err rc = pw_job_args_check(pw_job_kind_find(kind), args, e);
	cJSON_Delete(args);
	return rc;
}

static void test_args(void **state)
{
	(void)state;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(check("scan", NULL, &e), PW_OK);
	assert_int_equal(check("scan", "{}", &e), PW_OK);
	assert_int_equal(check("inventory", "null", &e), PW_OK);
	assert_int_equal(check("scan", "{\"full\":true}", &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "\"full\""));
	assert_int_equal(check("scan", "[1]", &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "object"));
}

/* The message quotes at most 40 bytes of an unknown name, and goes into
 * a JSON reply: it must not end inside a UTF-8 character (fuzz_job_args
 * found this). "a" then 22 two-byte characters: byte 40 is the second
 * byte of one. */
static void test_args_utf8(void **state)
{
	(void)state;
#define E1 "\xc3\xa9"
#define E11 E1 E1 E1 E1 E1 E1 E1 E1 E1 E1 E1
	static const char json[] = "{\"a" E11 E11 "\":1}";
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(check("scan", json, &e), PW_ERR_INVALID);
	assert_true(pw_utf8_valid(e.msg, strlen(e.msg)));
	assert_non_null(strstr(e.msg, "\"a" E11 E1 E1 E1 E1 E1 E1 E1 E1 "\""));
#undef E11
#undef E1

	assert_int_equal(pw_utf8_prefix("abc", 40), 3);
	assert_int_equal(pw_utf8_prefix("abc", 2), 2);
	assert_int_equal(pw_utf8_prefix("a\xc3\xa9", 2), 1);
	assert_int_equal(pw_utf8_prefix("a\xc3\xa9", 3), 3);
	assert_int_equal(pw_utf8_prefix("\xf0\x9f\x98\x80x", 3), 0);
	assert_int_equal(pw_utf8_prefix("", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_args_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
