/* Every API reply is UTF-8, as JSON text must be (RFC 8259), although
 * error messages quote input: a long name or value is quoted cut short
 * between characters, never inside one (what fuzz_api and fuzz_job_args
 * found), and bytes that are not UTF-8 (a URL-decoded query value) reach
 * the reply as U+FFFD. Through pw_api_handle on a SQLite database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patchwarden/buf.h"
#include "patchwarden/db.h"
#include "patchwarden/hosts.h"
#include "patchwarden/json_limits.h"
#include "patchwarden/routes.h"
#include "patchwarden/schema.h"
#include "patchwarden/users.h"

/* "a" then 45 two-byte characters: byte 40 and byte 80 of it are each
 * the second byte of a character. */
#define E1 "\xc3\xa9"
#define E5 E1 E1 E1 E1 E1
#define E15 E5 E5 E5
#define LONG "a" E15 E15 E15

static struct {
	char dir[64];
	pw_db *db;
	char admin[PW_API_TOKEN_MAX];
	pw_api_settings settings;
} fx;

static void check(pw_err rc, const pw_error *e)
{
	if (rc)
		fail_msg("%s", pw_error_text(e));
}

static int setup(void **state)
{
	(void)state;
	setenv("PATCHWARDEN_PWHASH", "fast", 1);
	snprintf(fx.dir, sizeof fx.dir, "/tmp/pw-apiutf8-XXXXXX");
	assert_non_null(mkdtemp(fx.dir));
	char url[128];
	snprintf(url, sizeof url, "sqlite:%s/server.db", fx.dir);
	pw_error e = PW_ERROR_INIT;
	int64_t id = 0;
	check(pw_schema_open(url, &fx.db, &e), &e);
	check(pw_user_add(fx.db, "test", "root", PW_ROLE_ADMIN, NULL, NULL, &e), &e);
	check(pw_api_token_create(fx.db, "test", "root", "test", 0, fx.admin, NULL, &e), &e);
	check(pw_host_create(fx.db, "test", "web-01", NULL, 0, &id, &e), &e);
	assert_int_equal(id, 1);
	fx.settings = (pw_api_settings)PW_API_SETTINGS_INIT;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pw_db_close(fx.db);
	static const char *const files[] = {"server.db", "server.db-wal", "server.db-shm",
					    "server.db-pwlock", "server.db-pwlock-neg"};
	char path[128];
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(path, sizeof path, "%s/%s", fx.dir, files[i]);
		unlink(path);
	}
	rmdir(fx.dir);
	return 0;
}

/* The call's reply must be `status`, UTF-8, and contain `needle`. */
static void expect(const char *method, const char *path, const pw_query_param *q, size_t nq,
		   const char *body, int status, const char *needle)
{
	pw_api_env env = {fx.db, &fx.settings, NULL, NULL, NULL, NULL, NULL};
	char auth[PW_API_TOKEN_MAX + 16];
	snprintf(auth, sizeof auth, "Bearer %s", fx.admin);
	pw_api_call call = {method, path, auth, q, nq, body, body ? strlen(body) : 0, NULL};
	pw_api_response resp = PW_API_RESPONSE_INIT;
	pw_api_handle(&env, &call, &resp);
	const char *text = pw_buf_str(&resp.body);
	if (resp.status != status || !pw_utf8_valid(text, resp.body.len) || !strstr(text, needle))
		fail_msg("%s %s: status %d (want %d), UTF-8 %s, \"%s\" wanted in: %s", method, path,
			 resp.status, status, pw_utf8_valid(text, resp.body.len) ? "yes" : "no",
			 needle, text);
	pw_api_response_release(&resp);
}

static void test_long_names_cut_between_characters(void **state)
{
	(void)state;
	/* 80 bytes at most: "a" and 39 characters. */
	expect("PATCH", "/api/v1/hosts/1", NULL, 0, "{\"" LONG "\":1}", 400,
	       "\"a" E15 E15 E5 E1 E1 E1 E1 " is not a host field");
	expect("PATCH", "/api/v1/hosts/1", NULL, 0, "{\"category\":\"" LONG "\"}", 400,
	       "category: 'a" E15 E15 E5 E1 E1 E1 E1 "' is not one of");
	expect("PATCH", "/api/v1/hosts/1", NULL, 0, "{\"criticality\":\"" LONG "\"}", 400,
	       "criticality: 'a" E15 E15 E5 E1 E1 E1 E1 "' is not 1");
	/* 40 bytes at most: "a" and 19 characters. */
	expect("POST", "/api/v1/hosts/1/jobs", NULL, 0,
	       "{\"kind\":\"scan\",\"args\":{\"" LONG "\":true}}", 400,
	       "takes no argument \\\"a" E15 E1 E1 E1 E1 "\\\"");
}

static void test_bytes_not_utf8_become_replacement_characters(void **state)
{
	(void)state;
	/* The transport URL-decodes query values: %FF arrives as one byte. */
	pw_query_param q[] = {{"category", "web\xff"}};
	expect("GET", "/api/v1/hosts", q, 1, NULL, 400, "'web\\ufffd'");
	pw_query_param cut[] = {{"exposure", "x\xe2\x80"}};
	expect("GET", "/api/v1/hosts", cut, 1, NULL, 400, "'x\\ufffd\\ufffd'");
	pw_query_param ok[] = {{"owner", "\xc3\xa9quipe"}};
	expect("GET", "/api/v1/hosts", ok, 1, NULL, 200, "\"hosts\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_names_cut_between_characters),
		cmocka_unit_test(test_bytes_not_utf8_become_replacement_characters),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
