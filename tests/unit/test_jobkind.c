/* The job-kind table (jobkind.h): lookup, who may queue a kind, and the
 * argument schema the server checks before it queues a job. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "patchwarden/buf.h"
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

/* The executor's kinds (issue 12): every row is found by name, named in
 * the list errors give, and says who may queue it. */
static void test_executor_kinds(void **state)
{
	(void)state;
	static const char *const names[] = {"simulate", "patch",  "hold",   "unhold",
					    "rollback", "reboot", "health", "backup_check"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		const pw_job_kind *k = pw_job_kind_find(names[i]);
		assert_non_null(k);
		assert_non_null(strstr(pw_job_kind_names(), names[i]));
		assert_true(pw_job_kind_allows(k, "operator"));
		assert_true(pw_job_kind_allows(k, "admin"));
		assert_false(pw_job_kind_allows(k, "manager"));
		assert_false(pw_job_kind_allows(k, "auditor"));
	}
	/* Bound to the maintenance window: what changes the host's packages
	 * or state. */
	assert_true(pw_job_kind_find("patch")->windowed);
	assert_true(pw_job_kind_find("rollback")->windowed);
	assert_true(pw_job_kind_find("reboot")->windowed);
	assert_false(pw_job_kind_find("simulate")->windowed);
	assert_false(pw_job_kind_find("hold")->windowed);
	assert_false(pw_job_kind_find("health")->windowed);
}

static pw_err role(const char *kind, const char *r, const char *json, pw_error *e)
{
	cJSON *args = cJSON_Parse(json);
	pw_err rc = pw_job_role_check(pw_job_kind_find(kind), r, args, e);
	cJSON_Delete(args);
	return rc;
}

/* Patching is the operator's; an emergency (outside the window) is
 * signed off by a manager or an admin. */
static void test_emergency_roles(void **state)
{
	(void)state;
	pw_error e = PW_ERROR_INIT;
	const char *em = "{\"all_security\":true,\"emergency\":true}";
	assert_int_equal(role("patch", "operator", "{\"all_security\":true}", &e), PW_OK);
	assert_int_equal(role("patch", "manager", em, &e), PW_OK);
	assert_int_equal(role("patch", "admin", em, &e), PW_OK);
	assert_int_equal(role("patch", "operator", em, &e), PW_ERR_AUTH);
	assert_non_null(strstr(e.msg, "manager"));
	assert_int_equal(role("patch", "manager", "{\"all_security\":true}", &e), PW_ERR_AUTH);
	assert_non_null(strstr(e.msg, "emergency"));
	assert_int_equal(role("reboot", "manager", "{\"emergency\":true}", &e), PW_OK);
	assert_int_equal(role("rollback", "helpdesk", "{\"emergency\":true}", &e), PW_ERR_AUTH);
	assert_int_equal(role("hold", "manager", "{\"packages\":[\"a1\"]}", &e), PW_ERR_AUTH);
	assert_int_equal(role("scan", "manager", "{}", &e), PW_ERR_AUTH);
	assert_int_equal(role("scan", NULL, "{}", &e), PW_ERR_AUTH);
}

static pw_err request(const char *kind, const char *json, pw_error *e)
{
	cJSON *args = cJSON_Parse(json);
	assert_non_null(args);
	pw_err rc = pw_job_args_check_request(pw_job_kind_find(kind), args, e);
	cJSON_Delete(args);
	return rc;
}

#define OK_ARGS(kind, json) assert_int_equal(request(kind, json, &e), PW_OK)
#define BAD_ARGS(kind, json, says)                                                                 \
	do {                                                                                       \
		assert_int_equal(request(kind, json, &e), PW_ERR_INVALID);                         \
		if (!strstr(e.msg, says))                                                          \
			fail_msg("%s %s: \"%s\" does not say %s", kind, json, e.msg, says);        \
	} while (0)

static void test_executor_args(void **state)
{
	(void)state;
	pw_error e = PW_ERROR_INIT;
	const char *pkgs = "{\"packages\":[{\"name\":\"openssl\",\"version\":\"1.1.1n-0+deb10u3\"},"
			   "{\"name\":\"libssl1.1\",\"version\":\"1.1.1n-0+deb10u3\"}]}";
	OK_ARGS("simulate", pkgs);
	OK_ARGS("patch", pkgs);
	OK_ARGS("rollback", pkgs);
	OK_ARGS("patch", "{\"findings\":[3,17],\"allow_reboot\":true,\"allow_remove\":false,"
			 "\"configure_pending\":true,\"at_window\":true}");
	OK_ARGS("patch", "{\"all_security\":true,\"emergency\":true}");
	OK_ARGS("hold", "{\"packages\":[\"openssl\",\"linux-image-amd64\"]}");
	OK_ARGS("unhold", "{\"packages\":[\"NetworkManager\"]}");
	OK_ARGS("reboot", "{}");
	OK_ARGS("reboot", "{\"at_window\":true}");
	OK_ARGS("health", "{}");
	OK_ARGS("backup_check", "{}");

	/* exactly one of packages, findings, all_security */
	BAD_ARGS("patch", "{}", "exactly one of");
	BAD_ARGS("patch", "{\"all_security\":true,\"findings\":[1]}", "more than one");
	BAD_ARGS("simulate", "{\"all_security\":false}", "must be true");
	BAD_ARGS("hold", "{}", "exactly one of: packages");
	/* element checks */
	BAD_ARGS("patch", "{\"packages\":[]}", "1 to 512");
	BAD_ARGS("patch", "{\"packages\":[\"openssl\"]}", "element 0 is not an object");
	BAD_ARGS("patch", "{\"packages\":[{\"name\":\"-x\",\"version\":\"1\"}]}", "element 0");
	BAD_ARGS("patch", "{\"packages\":[{\"name\":\"a1\",\"version\":\"1; reboot\"}]}",
		 "\"version\"");
	BAD_ARGS("patch", "{\"packages\":[{\"name\":\"a1\",\"version\":\"1\",\"arch\":\"x\"}]}",
		 "member other than");
	BAD_ARGS("patch",
		 "{\"packages\":[{\"name\":\"a1\",\"version\":\"1\"},{\"name\":\"a1\","
		 "\"version\":\"2\"}]}",
		 "element 1 is given twice");
	/* the fuzzer's find: the check read the last "version", cJSON the first */
	BAD_ARGS("patch",
		 "{\"packages\":[{\"name\":\"a1\",\"version\":\"1,x\",\"version\":\"1\"}]}",
		 "twice");
	BAD_ARGS("hold", "{\"packages\":[\"a b\"]}", "element 0 is not a package name");
	BAD_ARGS("hold", "{\"packages\":[\"ab\",\"ab\"]}", "twice");
	BAD_ARGS("patch", "{\"findings\":[0]}", "positive integer");
	BAD_ARGS("patch", "{\"findings\":[1.5]}", "positive integer");
	BAD_ARGS("patch", "{\"findings\":[\"7\"]}", "positive integer");
	BAD_ARGS("patch", "{\"findings\":[7,7]}", "twice");
	BAD_ARGS("reboot", "{\"packages\":[\"a1\"]}", "takes no argument");
	BAD_ARGS("hold", "{\"packages\":[\"a1\"],\"emergency\":true}", "takes no argument");
	BAD_ARGS("patch", "{\"all_security\":true,\"emergency\":\"yes\"}", "true or false");
	/* from_findings is the server's: refused in a request, accepted in
	 * what the agent receives. */
	BAD_ARGS("patch", "{\"all_security\":true,\"from_findings\":[1]}", "no argument");
	cJSON *stored = cJSON_Parse(
		"{\"packages\":[{\"name\":\"libc6\",\"version\":\"2.28-10+deb10u2\","
		"\"source\":\"glibc\"}],\"from_findings\":[4]}");
	assert_int_equal(pw_job_args_check(pw_job_kind_find("patch"), stored, &e), PW_OK);
	assert_int_equal(pw_job_args_check_scheme(pw_job_kind_find("patch"), stored, PW_SCHEME_DEB,
						  &e),
			 PW_OK);
	cJSON_Delete(stored);

	/* 512 packages at most */
	pw_buf b = PW_BUF_INIT;
	pw_buf_puts(&b, "{\"packages\":[");
	for (int i = 0; i < 513; i++)
		pw_buf_printf(&b, "%s\"p%d\"", i ? "," : "", i);
	pw_buf_puts(&b, "]}");
	BAD_ARGS("hold", pw_buf_str(&b), "1 to 512");
	char *last = strrchr(b.data, ',');
	memcpy(last, "]}", 3);
	OK_ARGS("hold", pw_buf_str(&b));
	pw_buf_release(&b);

	/* Each ecosystem's grammar once the host is known. */
	cJSON *rpm = cJSON_Parse("{\"packages\":[{\"name\":\"NetworkManager\","
				 "\"version\":\"1:1.40.16-4.el8_9\"}]}");
	const pw_job_kind *patch = pw_job_kind_find("patch");
	assert_int_equal(pw_job_args_check_scheme(patch, rpm, PW_SCHEME_RPM, &e), PW_OK);
	assert_int_equal(pw_job_args_check_scheme(patch, rpm, PW_SCHEME_DEB, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "element 0"));
	cJSON_Delete(rpm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),         cmocka_unit_test(test_roles),
		cmocka_unit_test(test_args),           cmocka_unit_test(test_args_utf8),
		cmocka_unit_test(test_executor_kinds), cmocka_unit_test(test_emergency_roles),
		cmocka_unit_test(test_executor_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
