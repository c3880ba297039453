/* The check-in route's answers to what is over a limit (issue 10): gzip
 * bodies and their inflate limit, an agent's report that its inventory
 * was refused (kept on the host until a check-in without one), jobs it
 * gives back, and a database disk that is full (503, not 500). Through
 * pw_api_handle on SQLite, with the test's own connection, so that the
 * disk can be "filled" with max_page_count. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "patchwarden/agents.h"
#include "patchwarden/gzip.h"
#include "patchwarden/hosts.h"
#include "patchwarden/jobs.h"
#include "patchwarden/routes.h"
#include "patchwarden/schema.h"
#include "patchwarden/users.h"

static struct {
	char dir[64];
	pw_db *db;
	pw_api_settings settings;
	char bearer[PW_CREDENTIAL_MAX + 8];
	char admin[PW_API_TOKEN_MAX + 8];
	int64_t host_id;
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
	snprintf(fx.dir, sizeof fx.dir, "/tmp/pw-limits-XXXXXX");
	assert_non_null(mkdtemp(fx.dir));
	char url[128];
	snprintf(url, sizeof url, "sqlite:%s/server.db", fx.dir);
	pw_error e = PW_ERROR_INIT;
	check(pw_schema_open(url, &fx.db, &e), &e);
	char tok[PW_ENROLL_TOKEN_MAX], api[PW_API_TOKEN_MAX];
	check(pw_user_add(fx.db, "test", "root", PW_ROLE_ADMIN, NULL, NULL, &e), &e);
	check(pw_api_token_create(fx.db, "test", "root", "test", 0, api, NULL, &e), &e);
	snprintf(fx.admin, sizeof fx.admin, "Bearer %s", api);
	check(pw_enroll_token_create(fx.db, "test", "test", 10, 3600, tok, NULL, &e), &e);
	pw_enroll_request req = {tok,
				 "big-host",
				 "machine-1",
				 "debian",
				 "12",
				 "bookworm",
				 "Debian GNU/Linux 12 (bookworm)",
				 "amd64",
				 NULL};
	pw_enrollment en;
	check(pw_agent_enroll(fx.db, &req, &en, &e), &e);
	snprintf(fx.bearer, sizeof fx.bearer, "Bearer %s", en.credential);
	fx.host_id = en.host_id;
	fx.settings = (pw_api_settings)PW_API_SETTINGS_INIT;
	fx.settings.inflated_max = 65536;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	pw_db_close(fx.db);
	nftw(fx.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* One request; the reply's status, its body in *body (caller frees). */
static int request(const char *method, const char *path, const char *auth, const char *encoding,
		   const char *body, size_t len, pw_buf *reply)
{
	pw_api_env env = {fx.db, &fx.settings, NULL, NULL, NULL, NULL, NULL};
	pw_api_call c = {method, path, auth, NULL, 0, body, len, encoding};
	pw_api_response r = PW_API_RESPONSE_INIT;
	pw_api_handle(&env, &c, &r);
	pw_buf_reset(reply);
	pw_buf_append(reply, pw_buf_str(&r.body), r.body.len);
	int status = r.status;
	pw_api_response_release(&r);
	return status;
}

static int checkin(const char *body, pw_buf *reply)
{
	return request("POST", "/api/v1/agents/checkin", fx.bearer, NULL, body, strlen(body),
		       reply);
}

static const char HASH[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static char *refused_field(void)
{
	pw_host h = PW_HOST_INIT;
	pw_error e = PW_ERROR_INIT;
	check(pw_host_get_by_name(fx.db, "big-host", &h, &e), &e);
	char *v = h.f[PW_HF_INVENTORY_REFUSED] ? strdup(h.f[PW_HF_INVENTORY_REFUSED]) : NULL;
	pw_host_release(&h);
	return v;
}

static void contains(const pw_buf *b, const char *needle)
{
	if (!strstr(pw_buf_str(b), needle))
		fail_msg("\"%s\" does not contain \"%s\"", pw_buf_str(b), needle);
}

static void test_gzip(void **state)
{
	(void)state;
	pw_buf body = PW_BUF_INIT, z = PW_BUF_INIT, reply = PW_BUF_INIT;
	pw_buf_printf(&body, "{\"inventory_hash\":\"%s\"}", HASH);
	check(pw_gzip(body.data, body.len, &z, NULL), NULL);
	const char *cp = "/api/v1/agents/checkin";
	assert_int_equal(request("POST", cp, fx.bearer, "gzip", z.data, z.len, &reply), 200);
	contains(&reply, "\"need_inventory\":true");
	assert_int_equal(request("POST", cp, fx.bearer, "GZIP", z.data, z.len, &reply), 200);
	assert_int_equal(request("POST", cp, fx.bearer, "identity", body.data, body.len, &reply),
			 200);
	assert_int_equal(request("POST", cp, fx.bearer, "deflate", z.data, z.len, &reply), 415);
	contains(&reply, "\"unsupported_encoding\"");
	assert_int_equal(request("POST", cp, fx.bearer, "gzip", body.data, body.len, &reply), 400);
	contains(&reply, "damaged gzip data");
	char path[64];
	snprintf(path, sizeof path, "/api/v1/hosts/%lld/jobs", (long long)fx.host_id);
	assert_int_equal(request("POST", path, fx.admin, "gzip", z.data, z.len, &reply), 415);
	/* Over inflated_max (64 KiB here): a 413 naming it. */
	pw_buf_reset(&body);
	pw_buf_printf(&body, "{\"inventory_hash\":\"%s\",\"pad\":\"", HASH);
	for (int i = 0; i < 70000; i++)
		pw_buf_putc(&body, 'x');
	pw_buf_puts(&body, "\"}");
	pw_buf_reset(&z);
	check(pw_gzip(body.data, body.len, &z, NULL), NULL);
	assert_true(z.len < 8192);
	assert_int_equal(request("POST", cp, fx.bearer, "gzip", z.data, z.len, &reply), 413);
	contains(&reply, "inflates to more than 64 KiB");
	pw_buf_release(&body);
	pw_buf_release(&z);
	pw_buf_release(&reply);
}

static void test_refused(void **state)
{
	(void)state;
	pw_buf body = PW_BUF_INIT, reply = PW_BUF_INIT;
	pw_buf_printf(&body,
		      "{\"inventory_hash\":\"%s\",\"inventory_refused\":{\"size\":14436244,"
		      "\"sent\":1634165,\"encoding\":\"gzip\",\"at\":\"2026-12-07T01:00:00Z\"}}",
		      HASH);
	assert_int_equal(checkin(body.data, &reply), 200);
	char *v = refused_field();
	assert_non_null(v);
	assert_string_equal(v, "2026-12-07T01:00:00Z: inventory 0123456789abcdef of 14436244 "
			       "bytes (1634165 sent, gzip) refused as over the server's limit of "
			       "65536 bytes; the host keeps its last inventory");
	free(v);
	/* Sent plain (or gzip still over the wire limit): the route's limit. */
	pw_buf_reset(&body);
	pw_buf_printf(&body,
		      "{\"inventory_hash\":\"%s\",\"inventory_refused\":{\"size\":9000000,"
		      "\"sent\":9000000,\"encoding\":\"identity\","
		      "\"at\":\"2026-12-07T01:00:00Z\"}}",
		      HASH);
	assert_int_equal(checkin(body.data, &reply), 200);
	v = refused_field();
	assert_non_null(strstr(v, "limit of 8388608 bytes"));
	free(v);
	pw_buf_reset(&body);
	pw_buf_printf(&body,
		      "{\"inventory_hash\":\"%s\",\"inventory_refused\":{\"size\":1,\"sent\":1,"
		      "\"encoding\":\"br\",\"at\":\"now\"}}",
		      HASH);
	assert_int_equal(checkin(body.data, &reply), 400);
	contains(&reply, "encoding must be");
	pw_buf_reset(&body);
	pw_buf_printf(&body, "{\"inventory_hash\":\"%s\",\"inventory_refused\":[]}", HASH);
	assert_int_equal(checkin(body.data, &reply), 400);
	/* A check-in without a refusal clears it, also the unchanged one. */
	pw_buf_reset(&body);
	pw_buf_printf(&body, "{\"inventory_hash\":\"%s\"}", HASH);
	assert_int_equal(checkin(body.data, &reply), 200);
	assert_null(refused_field());
	pw_buf_release(&body);
	pw_buf_release(&reply);
}

static const char *job_state(int64_t id)
{
	static char state[16];
	pw_buf reply = PW_BUF_INIT;
	char path[64];
	snprintf(path, sizeof path, "/api/v1/hosts/%lld/jobs", (long long)fx.host_id);
	assert_int_equal(request("GET", path, fx.admin, NULL, NULL, 0, &reply), 200);
	cJSON *o = cJSON_Parse(pw_buf_str(&reply));
	const cJSON *j;
	state[0] = '\0';
	cJSON_ArrayForEach(j, cJSON_GetObjectItem(o, "jobs"))
		if (cJSON_GetObjectItem(j, "job_id")->valuedouble == (double)id)
			snprintf(state, sizeof state, "%s",
				 cJSON_GetObjectItem(j, "state")->valuestring);
	cJSON_Delete(o);
	pw_buf_release(&reply);
	return state;
}

static void test_release(void **state)
{
	(void)state;
	pw_error e = PW_ERROR_INIT;
	int64_t j1, j2;
	check(pw_job_create(fx.db, "test", fx.host_id, "scan", NULL, &j1, &e), &e);
	pw_buf body = PW_BUF_INIT, reply = PW_BUF_INIT;
	pw_buf_printf(&body, "{\"inventory_hash\":\"%s\"}", HASH);
	assert_int_equal(checkin(body.data, &reply), 200);
	contains(&reply, "\"kind\":\"scan\"");
	assert_string_equal(job_state(j1), "leased");
	check(pw_job_create(fx.db, "test", fx.host_id, "inventory", NULL, &j2, &e), &e);
	/* Given back: queued again, and no jobs in this reply (not even j2). */
	pw_buf_reset(&body);
	pw_buf_printf(&body, "{\"inventory_hash\":\"%s\",\"release\":[%lld, 999]}", HASH,
		      (long long)j1);
	assert_int_equal(checkin(body.data, &reply), 200);
	contains(&reply, "\"jobs\":[]");
	assert_string_equal(job_state(j1), "queued");
	assert_string_equal(job_state(j2), "queued");
	pw_buf_reset(&body);
	pw_buf_printf(&body, "{\"inventory_hash\":\"%s\",\"release\":[0]}", HASH);
	assert_int_equal(checkin(body.data, &reply), 400);
	pw_buf_reset(&body);
	pw_buf_printf(&body, "{\"inventory_hash\":\"%s\",\"release\":{}}", HASH);
	assert_int_equal(checkin(body.data, &reply), 400);
	/* The next check-in gets both. */
	pw_buf_reset(&body);
	pw_buf_printf(&body, "{\"inventory_hash\":\"%s\"}", HASH);
	assert_int_equal(checkin(body.data, &reply), 200);
	assert_string_equal(job_state(j1), "leased");
	assert_string_equal(job_state(j2), "leased");
	pw_buf_release(&body);
	pw_buf_release(&reply);
}

/* SQLITE_FULL, made with max_page_count on this connection. */
static void test_disk_full(void **state)
{
	(void)state;
	pw_error e = PW_ERROR_INIT;
	int64_t j;
	check(pw_job_create(fx.db, "test", fx.host_id, "scan", NULL, &j, &e), &e);
	pw_buf body = PW_BUF_INIT, reply = PW_BUF_INIT;
	pw_buf_printf(&body, "{\"inventory_hash\":\"%s\"}", HASH);
	assert_int_equal(checkin(body.data, &reply), 200);
	/* No page more than the file has now. */
	check(pw_db_exec(fx.db, "PRAGMA max_page_count = 1", &e), &e);
	pw_buf_reset(&body);
	pw_buf_printf(&body,
		      "{\"inventory_hash\":\"%s\",\"results\":[{\"job_id\":%lld,\"seq\":1,"
		      "\"status\":\"ok\",\"output\":{\"pad\":\"",
		      HASH, (long long)j);
	for (int i = 0; i < 60000; i++)
		pw_buf_putc(&body, 'x');
	pw_buf_puts(&body, "\"}}]}");
	assert_int_equal(checkin(body.data, &reply), 503);
	contains(&reply, "\"unavailable\"");
	contains(&reply, "out of disk space");
	pw_buf_release(&body);
	pw_buf_release(&reply);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gzip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
