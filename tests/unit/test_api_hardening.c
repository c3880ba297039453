/* What an adversarial review found in the API layer (issue 10), through
 * pw_api_handle on a SQLite database: query parameters a route does not
 * take and integers that overflow are 400s; a full disk and a read-only
 * database are 503 `unavailable` naming the reason; database files are
 * created 0600 whatever the umask; and the escaping every log line goes
 * through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "patchwarden/buf.h"
#include "patchwarden/db.h"
#include "patchwarden/log.h"
#include "patchwarden/routes.h"
#include "patchwarden/schema.h"
#include "patchwarden/users.h"

static struct {
	char dir[64];
	char url[128];
	pw_db *db;
	char admin[PW_API_TOKEN_MAX];
	char reader[PW_API_TOKEN_MAX]; /* never used before the database turns read-only */
	const char *auth;              /* the token of the next call: admin unless set */
	pw_api_settings settings;
	int counter;
} fx;

static void check(pw_err rc, const pw_error *e)
{
	if (rc)
		fail_msg("%s", pw_error_text(e));
}

static void rm_files(void)
{
	static const char *const files[] = {
		"server.db",        "server.db-wal",        "server.db-shm",
		"server.db-pwlock", "server.db-pwlock-neg", "fresh.db",
		"fresh.db-wal",     "fresh.db-shm"};
	char path[128];
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(path, sizeof path, "%s/%s", fx.dir, files[i]);
		unlink(path);
	}
}

static int setup(void **state)
{
	(void)state;
	setenv("PATCHWARDEN_PWHASH", "fast", 1);
	snprintf(fx.dir, sizeof fx.dir, "/tmp/pw-apihard-XXXXXX");
	assert_non_null(mkdtemp(fx.dir));
	snprintf(fx.url, sizeof fx.url, "sqlite:%s/server.db", fx.dir);
	pw_error e = PW_ERROR_INIT;
	check(pw_schema_open(fx.url, &fx.db, &e), &e);
	check(pw_user_add(fx.db, "test", "root", PW_ROLE_ADMIN, NULL, NULL, &e), &e);
	check(pw_api_token_create(fx.db, "test", "root", "test", 0, fx.admin, NULL, &e), &e);
	check(pw_api_token_create(fx.db, "test", "root", "reader", 0, fx.reader, NULL, &e), &e);
	fx.settings = (pw_api_settings)PW_API_SETTINGS_INIT;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pw_db_close(fx.db);
	rm_files();
	rmdir(fx.dir);
	return 0;
}

struct reply {
	int status;
	char code[32];
	char text[1024];
};

static struct reply handle(const char *method, const char *path, const pw_query_param *q, size_t nq,
			   const char *body)
{
	pw_api_env env = {fx.db, &fx.settings, NULL, NULL, NULL, NULL, NULL};
	char auth[PW_API_TOKEN_MAX + 16];
	snprintf(auth, sizeof auth, "Bearer %s", fx.auth ? fx.auth : fx.admin);
	pw_api_call call = {method, path, auth, q, nq, body, body ? strlen(body) : 0, NULL};
	pw_api_response resp = PW_API_RESPONSE_INIT;
	pw_api_handle(&env, &call, &resp);
	struct reply r = {resp.status, "", ""};
	snprintf(r.text, sizeof r.text, "%s", pw_buf_str(&resp.body));
	const char *c = strstr(r.text, "\"code\":\"");
	if (c)
		snprintf(r.code, sizeof r.code, "%.*s", (int)strcspn(c + 8, "\""), c + 8);
	pw_api_response_release(&resp);
	return r;
}

static void expect(const struct reply *r, int status, const char *needle)
{
	if (r->status != status || (needle && !strstr(r->text, needle)))
		fail_msg("status %d, expected %d with \"%s\": %s", r->status, status,
			 needle ? needle : "", r->text);
}

/* ---- query parameters -------------------------------------------------- */

static void test_unknown_query_parameters(void **state)
{
	(void)state;
	/* What the review tried: filters the routes do not have. */
	pw_query_param hostname[] = {{"hostname", "web-01"}};
	struct reply r = handle("GET", "/api/v1/hosts", hostname, 1, NULL);
	expect(&r, 400, "hostname");
	pw_query_param q[] = {{"q", "web"}};
	r = handle("GET", "/api/v1/hosts/export-csv", q, 1, NULL);
	expect(&r, 400, "unknown query parameter");
	/* A route without parameters takes none, paging included. */
	pw_query_param limit[] = {{"limit", "5"}};
	r = handle("GET", "/api/v1/users", limit, 1, NULL);
	expect(&r, 400, "takes no query parameters");
	r = handle("GET", "/api/v1/me", q, 1, NULL);
	expect(&r, 400, "takes no query parameters");
	/* Each documented one is still taken, on every route that has it. */
	pw_query_param all[] = {{"after", "0"},
				{"limit", "10"},
				{"category", "web"},
				{"exposure", "internet"},
				{"environment", "production"},
				{"owner", "ops"},
				{"criticality", "3"},
				{"overdue", "true"},
				{"stale", "7"}};
	r = handle("GET", "/api/v1/hosts", all, sizeof all / sizeof *all, NULL);
	expect(&r, 200, "\"hosts\"");
	r = handle("GET", "/api/v1/hosts/export-csv", all + 2, sizeof all / sizeof *all - 2, NULL);
	expect(&r, 200, NULL);
	r = handle("GET", "/api/v1/hosts/export-csv", all, 1, NULL);
	expect(&r, 400, "unknown query parameter after");
	r = handle("GET", "/api/v1/audit", all, 2, NULL);
	expect(&r, 200, "\"events\"");
	r = handle("GET", "/api/v1/audit", all + 2, 1, NULL);
	expect(&r, 400, "category");
}

static void test_query_integers(void **state)
{
	(void)state;
	/* 2^64 and beyond were clamped to INT64_MAX and accepted. */
	static const char *const bad[] = {"9223372036854775808",
					  "99999999999999999999999",
					  "-1",
					  "+5",
					  " 5",
					  "5 ",
					  "0x10",
					  "1e3",
					  ""};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		pw_query_param q[] = {{"after", bad[i]}};
		struct reply r = handle("GET", "/api/v1/audit", q, 1, NULL);
		if (r.status != 400 || !strstr(r.text, "query parameter after"))
			fail_msg("after=\"%s\": %d %s", bad[i], r.status, r.text);
	}
	pw_query_param max[] = {{"after", "9223372036854775807"}};
	struct reply r = handle("GET", "/api/v1/audit", max, 1, NULL);
	expect(&r, 200, "\"events\":[]");
}

/* ---- a full disk, a read-only database ---------------------------------- */

static struct reply add_user(void)
{
	char body[128];
	snprintf(body, sizeof body, "{\"name\":\"u%d\",\"role\":\"auditor\"}", fx.counter++);
	return handle("POST", "/api/v1/users", NULL, 0, body);
}

static void expect_unavailable(const struct reply *r, const char *needle)
{
	expect(r, 503, needle);
	assert_string_equal(r->code, "unavailable");
}

static void test_disk_full(void **state)
{
	(void)state;
	pw_error e = PW_ERROR_INIT;
	struct reply r = add_user();
	expect(&r, 201, NULL);
	/* SQLite's own way to run out of room: no page beyond the ones in use. */
	check(pw_db_exec(fx.db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA max_page_count = 1", &e),
	      &e);
	for (int i = 0; i < 100 && r.status == 201; i++) /* until a write needs a page */
		r = add_user();
	expect_unavailable(&r, "disk");
	check(pw_db_exec(fx.db, "PRAGMA max_page_count = 1073741823", &e), &e);
	r = add_user();
	expect(&r, 201, NULL);
}

static void test_read_only(void **state)
{
	(void)state;
	pw_error e = PW_ERROR_INIT;
	check(pw_db_exec(fx.db, "PRAGMA query_only = ON", &e), &e);
	struct reply r = add_user();
	expect_unavailable(&r, "read-only");
	/* Reading still works, with a token whose first use cannot be
	 * recorded too. */
	r = handle("GET", "/api/v1/users", NULL, 0, NULL);
	expect(&r, 200, "\"users\"");
	fx.auth = fx.reader;
	r = handle("GET", "/api/v1/users", NULL, 0, NULL);
	fx.auth = NULL;
	expect(&r, 200, "\"users\"");
	check(pw_db_exec(fx.db, "PRAGMA query_only = OFF", &e), &e);
	r = add_user();
	expect(&r, 201, NULL);
}

/* ---- file modes ---------------------------------------------------------- */

static void test_database_file_mode(void **state)
{
	(void)state;
	char url[200], path[160];
	snprintf(path, sizeof path, "%s/fresh.db", fx.dir);
	snprintf(url, sizeof url, "sqlite:%s", path);
	mode_t old = umask(0);
	pw_db *db = NULL;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_schema_open(url, &db, &e);
	umask(old);
	check(rc, &e);
	static const char *const files[] = {"fresh.db", "fresh.db-wal", "fresh.db-shm"};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", fx.dir, files[i]);
		assert_int_equal(stat(path, &st), 0);
		if ((st.st_mode & 0777) != 0600)
			fail_msg("%s was created with mode %03o under umask 0", files[i],
				 (unsigned)(st.st_mode & 0777));
	}
	pw_db_close(db);
}

/* ---- log escaping ------------------------------------------------------- */

static void escaped(const char *in, const char *want)
{
	char out[256];
	pw_log_escape(in, out, sizeof out);
	assert_string_equal(out, want);
}

static void test_log_escape(void **state)
{
	(void)state;
	escaped("GET /api/v1/x", "GET /api/v1/x");
	escaped("/x\naccess: 10.0.0.1 GET /admin 200", "/x\\x0aaccess: 10.0.0.1 GET /admin 200");
	escaped("a\rb\tc\x1b[31md\x7f", "a\\x0db\\x09c\\x1b[31md\\x7f");
	escaped("back\\slash", "back\\\\slash");
	/* UTF-8 text stays readable; what is not UTF-8, C1 controls and the
	 * line and paragraph separators do not. */
	escaped("h\xc3\xb4te", "h\xc3\xb4te");
	escaped("\xff\xc3", "\\xff\\xc3");
	escaped("\xc2\x85", "\\xc2\\x85");
	escaped("a\xe2\x80\xa8"
		"b",
		"a\\xe2\\x80\\xa8b");
	escaped("\xe2\x80\xae"
		"evil",
		"\\xe2\\x80\\xaeevil");
	/* Cut short, never in the middle of an escape. */
	char small[8];
	pw_log_escape("ab\ncdef", small, sizeof small);
	assert_string_equal(small, "ab\\x0ac");
	pw_log_escape("abc\n", small, 6);
	assert_string_equal(small, "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_query_parameters),
		cmocka_unit_test(test_query_integers),
		cmocka_unit_test(test_disk_full),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_database_file_mode),
		cmocka_unit_test(test_log_escape),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
