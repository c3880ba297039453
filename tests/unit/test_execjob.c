/* The agent's conversion of a job's JSON arguments into an executor
 * request (strict: every bad input refused, naming what), and of a
 * result into the job's output JSON (docs/protocol.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "patchwarden/execjob.h"

static pw_exec_request *req;

static pw_err conv(const char *kind, const char *json, pw_error *e)
{
	cJSON *args = json ? cJSON_Parse(json) : NULL;
	if (json && !args)
		fail_msg("test JSON does not parse: %s", json);
	*e = (pw_error)PW_ERROR_INIT;
	pw_err rc = pw_exec_request_from_json(kind, args, req, e);
	cJSON_Delete(args);
	return rc;
}

static void refused(const char *kind, const char *json, const char *names)
{
	pw_error e;
	if (conv(kind, json, &e) != PW_ERR_INVALID)
		fail_msg("%s %s was accepted", kind, json ? json : "(none)");
	if (!strstr(pw_error_text(&e), names))
		fail_msg("%s %s: \"%s\" does not name \"%s\"", kind, json, pw_error_text(&e),
			 names);
}

static void test_good(void **state)
{
	(void)state;
	pw_error e;
	assert_int_equal(
		conv("patch",
		     "{\"packages\":[{\"name\":\"openssl\",\"version\":\"3.0.15-1~deb12u1\"},"
		     "{\"name\":\"libssl3\",\"version\":\"3.0.15-1~deb12u1\",\"source\":"
		     "\"openssl\"}],\"allow_remove\":true,\"allow_reboot\":false,"
		     "\"configure_pending\":true,\"emergency\":true,\"from_findings\":[3]}",
		     &e),
		PW_OK);
	assert_int_equal(req->kind, PW_EXEC_PATCH);
	assert_int_equal(req->n_packages, 2);
	assert_string_equal(req->packages[0].name, "openssl");
	assert_string_equal(req->packages[0].version, "3.0.15-1~deb12u1");
	assert_false(req->packages[0].at_least);
	assert_true(req->packages[1].at_least);
	assert_int_equal(req->flags, PW_EXEC_ALLOW_REMOVE | PW_EXEC_CONFIGURE_PENDING);

	assert_int_equal(conv("simulate", "{\"all_security\":true}", &e), PW_OK);
	assert_int_equal(req->flags, PW_EXEC_ALL_SECURITY);
	assert_int_equal(req->n_packages, 0);
	assert_int_equal(conv("hold", "{\"packages\":[\"nginx\",\"libc6\"]}", &e), PW_OK);
	assert_int_equal(req->kind, PW_EXEC_HOLD);
	assert_string_equal(req->packages[1].name, "libc6");
	assert_int_equal(conv("reboot", NULL, &e), PW_OK);
	assert_int_equal(req->flags, PW_EXEC_ALLOW_REBOOT);
	assert_int_equal(conv("health", "{}", &e), PW_OK);
	assert_int_equal(conv("backup_check", "null", &e), PW_OK);
	assert_int_equal(conv("rollback", "{\"packages\":[{\"name\":\"a\",\"version\":\"1:2.0\"}]}",
			      &e),
			 PW_OK);
}

static void test_bad(void **state)
{
	(void)state;
	refused("scan", NULL, "scan");
	refused("inventory", NULL, "inventory");
	refused("nonesuch", NULL, "nonesuch");
	refused("patch", "[]", "object");
	refused("patch", "{}", "packages");
	refused("patch", "{\"packages\":[]}", "1 to");
	refused("patch", "{\"packages\":{}}", "array");
	refused("patch", "{\"packages\":[{\"name\":\"a\"}],\"all_security\":true}", "not both");
	refused("patch", "{\"packages\":[{\"name\":\"a\",\"colour\":\"red\"}]}", "colour");
	refused("patch", "{\"packages\":[{\"name\":\"a\"}],\"shell\":\"rm\"}", "shell");
	refused("patch", "{\"packages\":[{\"version\":\"1\"}]}", "name");
	refused("patch", "{\"packages\":[{\"name\":\"-oAPT::Foo=1\"}]}", "packages[0]");
	refused("patch", "{\"packages\":[{\"name\":\"a b\"}]}", "packages[0]");
	refused("patch", "{\"packages\":[{\"name\":\"a/b\"}]}", "packages[0]");
	refused("patch", "{\"packages\":[{\"name\":\"a\",\"version\":\"--force\"}]}", "version");
	refused("patch", "{\"packages\":[{\"name\":\"a\",\"version\":\"1 2\"}]}", "version");
	refused("patch", "{\"packages\":[{\"name\":\"a\",\"version\":1}]}", "string");
	refused("patch", "{\"packages\":[{\"name\":\"a\"},{\"name\":\"a\"}]}", "twice");
	refused("patch", "{\"packages\":[\"a\"]}", "object");
	refused("patch", "{\"packages\":[{\"name\":\"a\",\"source\":\"a\"}]}", "source");
	refused("patch", "{\"packages\":[{\"name\":\"a\"}],\"allow_remove\":1}", "true or false");
	refused("patch", "{\"findings\":[1]}", "findings");
	refused("simulate", "{\"packages\":[{\"name\":\"a\"}],\"allow_remove\":true}",
		"allow_remove");
	refused("hold", "{\"packages\":[{\"name\":\"a\"}]}", "name");
	refused("hold", "{\"packages\":[\"a\",\"a\"]}", "twice");
	refused("hold", "{}", "packages");
	refused("rollback", "{\"packages\":[{\"name\":\"a\"}]}", "version is needed");
	refused("reboot", "{\"allow_reboot\":true}", "allow_reboot");
	refused("health", "{\"command\":\"/bin/sh\"}", "command");
	char name[300];
	memset(name, 'a', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	char json[400];
	snprintf(json, sizeof json, "{\"packages\":[\"%s\"]}", name);
	refused("hold", json, "packages[0]");
	/* 513 packages */
	cJSON *args = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(args, "packages");
	for (int i = 0; i <= PW_EXEC_MAX_PACKAGES; i++) {
		char n[16];
		snprintf(n, sizeof n, "p%d", i);
		cJSON_AddItemToArray(arr, cJSON_CreateString(n));
	}
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_exec_request_from_json("hold", args, req, &e), PW_ERR_INVALID);
	cJSON_Delete(args);
}

static void test_output(void **state)
{
	(void)state;
	pw_error e;
	assert_int_equal(conv("patch", "{\"packages\":[{\"name\":\"a\",\"version\":\"2\"}]}", &e),
			 PW_OK);
	pw_exec_result r;
	pw_exec_result_init(&r);
	pw_exec_change c = {"a", "1", "2", PW_CHANGE_UPGRADE, true};
	pw_exec_change d = {"b", "1", "", PW_CHANGE_REMOVE, false};
	assert_int_equal(pw_exec_result_add_change(&r, &c, &e), PW_OK);
	assert_int_equal(pw_exec_result_add_change(&r, &d, &e), PW_OK);
	assert_int_equal(pw_exec_result_add_service(&r, "nginx.service", &e), PW_OK);
	pw_exec_result_say(&r, PW_EXEC_FAILED, "it broke");
	r.exit_code = 100;
	r.needs_reboot = true;
	r.db_state = PW_PKGDB_HALF_CONFIGURED;
	assert_int_equal(pw_buf_append(&r.log, "ok\xff\xfe\0x", 6), PW_OK);
	cJSON *o = pw_exec_result_to_json(req, &r);
	assert_non_null(o);
	char *text = cJSON_PrintUnformatted(o);
	assert_string_equal(
		text,
		"{\"kind\":\"patch\",\"status\":\"failed\",\"exit_code\":100,\"message\":\"it "
		"broke\",\"resolves\":false,\"needs_reboot\":true,\"db_state\":\"half-"
		"configured\",\"packages\":[{\"name\":\"a\",\"action\":\"upgrade\",\"before\":"
		"\"1\",\"after\":\"2\",\"result\":\"ok\"},{\"name\":\"b\",\"action\":\"remove\","
		"\"before\":\"1\",\"after\":null,\"result\":\"failed\"}],\"services\":[\"nginx."
		"service\"],\"log\":\"ok???x\"}");
	assert_int_equal(pw_exec_status_exit(r.status), 1);
	cJSON_free(text);
	cJSON_Delete(o);
	pw_exec_result_release(&r);
}

static int setup(void **state)
{
	(void)state;
	req = calloc(1, sizeof *req);
	return req ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(req);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_output),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
