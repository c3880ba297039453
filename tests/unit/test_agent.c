#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "patchwarden/agent.h"
#include "patchwarden/buf.h"
#include "patchwarden/fileio.h"
#include "patchwarden/json_limits.h"

static void expect_url(const char *url, bool insecure, pw_err want, const char *needle)
{
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_agent_check_url(url, insecure, &e), want);
	if (needle)
		assert_non_null(strstr(e.msg, needle));
}

static void test_urls(void **state)
{
	(void)state;
	expect_url("https://pw.example.org", false, PW_OK, NULL);
	expect_url("https://10.0.0.1:8443/", false, PW_OK, NULL);
	expect_url("https://[2001:db8::1]:8443", false, PW_OK, NULL);
	expect_url("http://127.0.0.1:8080", true, PW_OK, NULL);
	expect_url("http://127.1.2.3", true, PW_OK, NULL);
	expect_url("http://localhost:1/", true, PW_OK, NULL);
	expect_url("http://[::1]:80", true, PW_OK, NULL);
	expect_url("https://pw.example.org", true, PW_ERR_INVALID, "always verified");
	expect_url("http://127.0.0.1", false, PW_ERR_INVALID, "unprotected");
	expect_url("http://127.0.0.1.evil.example", true, PW_ERR_INVALID, "loopback address only");
	expect_url("http://localhost.evil.example", true, PW_ERR_INVALID, "loopback address only");
	expect_url("http://10.213.0.1", true, PW_ERR_INVALID, "loopback address only");
	expect_url("http://[::2]", true, PW_ERR_INVALID, "loopback address only");
	expect_url("ftp://127.0.0.1", true, PW_ERR_INVALID, "expected https://");
	expect_url("https://", false, PW_ERR_INVALID, "expected https://");
	expect_url("https://[::1", false, PW_ERR_INVALID, "expected https://");
	expect_url("", false, PW_ERR_INVALID, "expected https://");
}

static void test_delays(void **state)
{
	(void)state;
	/* after a good check-in: the interval, +-10% */
	assert_true(pw_agent_next_delay(900, 0, 0.0) == 810.0);
	assert_true(pw_agent_next_delay(900, 0, 0.5) == 900.0);
	assert_true(pw_agent_next_delay(900, 0, 0.999) < 990.0);
	/* after failures: 2, 4, 8, ... seconds, never more than the interval */
	assert_true(pw_agent_next_delay(900, 1, 0.5) == 2.0);
	assert_true(pw_agent_next_delay(900, 3, 0.5) == 8.0);
	assert_true(pw_agent_next_delay(900, 9, 0.5) == 512.0);
	assert_true(pw_agent_next_delay(900, 10, 0.5) == 900.0);
	assert_true(pw_agent_next_delay(900, 31, 0.5) == 900.0);
	assert_true(pw_agent_next_delay(10, 4, 0.5) == 10.0);
	assert_true(pw_agent_next_delay(0, 0, 0.5) == PW_AGENT_DEFAULT_INTERVAL);
}

static void test_not_enrolled(void **state)
{
	(void)state;
	char dir[] = "/tmp/pw-agent-XXXXXX";
	assert_non_null(mkdtemp(dir));
	pw_agent_conf conf = PW_AGENT_CONF_INIT;
	conf.state_dir = dir;
	pw_agent_client *c = NULL;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_agent_client_open(&conf, &c, &e), PW_ERR_NOTFOUND);
	assert_non_null(strstr(e.msg, "not enrolled"));
	assert_null(c);

	char path[256];
	snprintf(path, sizeof path, "%s/credential", dir);
	assert_int_equal(pw_write_file_atomic(path, "[1]", 3, 0600, NULL), PW_OK);
	assert_int_equal(pw_agent_client_open(&conf, &c, &e), PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, "not a JSON object"));
	const char *partial = "{\"server\":\"https://x\"}";
	assert_int_equal(pw_write_file_atomic(path, partial, strlen(partial), 0600, NULL), PW_OK);
	assert_int_equal(pw_agent_client_open(&conf, &c, &e), PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, "lacks server, agent_id or credential"));
	/* A credential saved for plain http is refused for a non-loopback host. */
	const char *lan =
		"{\"server\":\"http://10.1.1.1\",\"agent_id\":\"a\",\"credential\":\"a.b\"}";
	assert_int_equal(pw_write_file_atomic(path, lan, strlen(lan), 0600, NULL), PW_OK);
	assert_int_equal(pw_agent_client_open(&conf, &c, &e), PW_ERR_INVALID);

	const char *good = "{\"server\":\"https://pw.example/\",\"agent_id\":\"ag_1\","
			   "\"credential\":\"ag_1.s\"}";
	assert_int_equal(pw_write_file_atomic(path, good, strlen(good), 0600, NULL), PW_OK);
	assert_int_equal(pw_agent_client_open(&conf, &c, &e), PW_OK);
	assert_string_equal(pw_agent_client_id(c), "ag_1");
	assert_string_equal(pw_agent_client_server(c), "https://pw.example");
	assert_int_equal(pw_agent_client_spooled(c), 0);
	assert_int_equal(pw_agent_client_interval(c), PW_AGENT_DEFAULT_INTERVAL);
	pw_agent_client_close(c);

	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_enroll_refusals(void **state)
{
	(void)state;
	pw_agent_conf conf = PW_AGENT_CONF_INIT;
	conf.state_dir = "/nonexistent/pw-agent";
	char *id = NULL;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_agent_client_enroll(&conf, "t", &id, NULL, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "--server"));
	conf.server = "https://pw.example";
	assert_int_equal(pw_agent_client_enroll(&conf, "", &id, NULL, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "--token"));
	assert_int_equal(pw_agent_client_enroll(&conf, "t", &id, NULL, &e), PW_ERR_IO);
	assert_non_null(strstr(e.msg, "cannot create the agent's state directory"));
	assert_null(id);
}

/* A job output with strings too long for the server keeps their tails
 * and then passes the server's check. */
static void test_fit_output(void **state)
{
	(void)state;
	pw_buf log = PW_BUF_INIT, quotes = PW_BUF_INIT;
	pw_buf_puts(&log, "START");
	for (int i = 0; i < 20000; i++) /* 100000 bytes, with escapes and UTF-8 */
		pw_buf_puts(&log, i % 3 ? "ab\xc3\xa9" : "\"\n\x01\\");
	pw_buf_puts(&log, "the real error is here");
	for (int i = 0; i < 40000; i++) /* 40000 bytes, 80000 escaped */
		pw_buf_putc(&quotes, '"');
	cJSON *o = cJSON_CreateObject();
	cJSON *a = cJSON_AddArrayToObject(o, "steps");
	cJSON_AddStringToObject(o, "log", pw_buf_str(&log));
	cJSON_AddItemToArray(a, cJSON_CreateString(pw_buf_str(&quotes)));
	cJSON_AddStringToObject(o, "status", "failed");
	size_t cut = 0;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_agent_fit_output(o, PW_AGENT_OUTPUT_STRING_MAX, &cut, &e), PW_OK);
	assert_int_equal(cut, 2);
	const char *l = cJSON_GetObjectItem(o, "log")->valuestring;
	assert_true(!strncmp(l, "[the first ", 11));
	assert_non_null(strstr(l, " bytes were cut]\n"));
	size_t n = strlen(l);
	assert_string_equal(l + n - 22, "the real error is here");
	assert_string_equal(cJSON_GetObjectItem(o, "status")->valuestring, "failed");

	/* What the agent sends now passes the server's limits. */
	char *text = cJSON_PrintUnformatted(o);
	pw_json_limits lim = PW_JSON_LIMITS_DEFAULT;
	assert_int_equal(pw_json_check(text, strlen(text), &lim, &e), PW_OK);
	cJSON_free(text);
	/* Fitting again changes nothing. */
	assert_int_equal(pw_agent_fit_output(o, PW_AGENT_OUTPUT_STRING_MAX, &cut, &e), PW_OK);
	assert_int_equal(cut, 0);
	assert_int_equal(pw_agent_fit_output(o, 100, &cut, &e), PW_ERR_INVALID);
	cJSON_Delete(o);
	pw_buf_release(&log);
	pw_buf_release(&quotes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),         cmocka_unit_test(test_delays),
		cmocka_unit_test(test_not_enrolled), cmocka_unit_test(test_enroll_refusals),
		cmocka_unit_test(test_fit_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
