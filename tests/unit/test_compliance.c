/* The compliance series and report (compliance.h) on a small history
 * written straight into a SQLite database: each point worked out by hand
 * from the rows below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/clock.h"
#include "patchwarden/compliance.h"
#include "patchwarden/schema.h"

static char dir[] = "/tmp/pw-compliance-XXXXXX";
static pw_db *db;

static void check(pw_err rc, const pw_error *e)
{
	if (rc)
		fail_msg("%s", e->msg);
}

/* Hosts a (patched 2026-01-01), b (never), c (decommissioned 2026-01-12),
 * all enrolled 2026-01-01; b has a high finding seen 2026-01-05, due
 * 2026-01-10, fixed 2026-01-20. */
static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	char url[128];
	snprintf(url, sizeof url, "sqlite:%s/pw.db", dir);
	pw_error e = PW_ERROR_INIT;
	check(pw_schema_open(url, &db, &e), &e);
	check(pw_db_exec(db,
			 "INSERT INTO hosts (id, hostname, created, last_patched, decommissioned)"
			 " VALUES (1, 'a', '2026-01-01T00:00:00.000Z', '2026-01-01', NULL),"
			 " (2, 'b', '2026-01-01T00:00:00.000Z', NULL, NULL),"
			 " (3, 'c', '2026-01-01T00:00:00.000Z', NULL, '2026-01-12T00:00:00.000Z');"
			 "INSERT INTO findings (host_id, package, advisory, installed, fixed,"
			 " priority, cves, first_seen, due, fixed_at) VALUES (2, 'p', 'DSA-1-1',"
			 " '1', '2', 'high', '[]', '2026-01-05T00:00:00.000Z', '2026-01-10',"
			 " '2026-01-20T00:00:00.000Z')",
			 &e),
	      &e);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pw_db_close(db);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int64_t at(const char *text)
{
	int64_t t;
	pw_error e = PW_ERROR_INIT;
	check(pw_ts_parse("test", text, &t, NULL, &e), &e);
	return t;
}

static void test_series(void **state)
{
	(void)state;
	pw_compliance_query q = {at("2026-01-21T23:59:59Z"), 90, 0, NULL, NULL, NULL};
	pw_compliance_point *p = NULL;
	pw_error e = PW_ERROR_INIT;
	check(pw_compliance_series(db, &q, 3, &p, &e), &e);
	/* Jan 7: a, b, c in service, all within 90 days, b's finding open,
	 * not due yet. Jan 14: c decommissioned; the finding past its due day.
	 * Jan 21: fixed. */
	static const struct {
		const char *at;
		int64_t hosts, compliant, open, past;
		double percent;
	} want[] = {{"2026-01-07T23:59:59Z", 3, 3, 1, 0, 100},
		    {"2026-01-14T23:59:59Z", 2, 1, 1, 1, 50},
		    {"2026-01-21T23:59:59Z", 2, 2, 0, 0, 100}};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(p[i].at, at(want[i].at));
		assert_int_equal(p[i].hosts, want[i].hosts);
		assert_int_equal(p[i].compliant, want[i].compliant);
		assert_int_equal(p[i].within_policy, want[i].hosts);
		assert_int_equal(p[i].open, want[i].open);
		assert_int_equal(p[i].past_sla, want[i].past);
		assert_true(p[i].percent == want[i].percent);
	}
	free(p);
	/* Before any host: no host, no share (not 100 %). */
	q.as_of = at("2025-12-31T00:00:00Z");
	check(pw_compliance_series(db, &q, 1, &p, &e), &e);
	assert_int_equal(p[0].hosts, 0);
	assert_true(isnan(p[0].percent));
	free(p);
	/* 91 days after a's patch and everyone's enrollment: nobody within. */
	q.as_of = at("2026-04-02T00:00:00Z");
	check(pw_compliance_series(db, &q, 1, &p, &e), &e);
	assert_int_equal(p[0].hosts, 2);
	assert_int_equal(p[0].within_policy, 0);
	free(p);
	assert_int_equal(pw_compliance_series(db, &q, 0, &p, &e), PW_ERR_INVALID);
	assert_null(p);
}

/* The report's last trend point is the fleet; its rows the hosts. */
static void test_report(void **state)
{
	(void)state;
	pw_compliance_query q = {at("2026-01-14T12:00:00Z"), 90, 2, NULL, NULL, NULL};
	cJSON *doc = NULL;
	pw_error e = PW_ERROR_INIT;
	check(pw_compliance_report(db, &q, &doc, &e), &e);
	const cJSON *fleet = cJSON_GetObjectItem(doc, "fleet");
	assert_int_equal(cJSON_GetObjectItem(fleet, "hosts")->valueint, 2);
	assert_int_equal(cJSON_GetObjectItem(fleet, "past_sla")->valueint, 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "trend")), 3);
	const cJSON *hosts = cJSON_GetObjectItem(doc, "hosts");
	assert_int_equal(cJSON_GetArraySize(hosts), 2);
	const cJSON *a = cJSON_GetArrayItem(hosts, 0), *b = cJSON_GetArrayItem(hosts, 1);
	assert_string_equal(cJSON_GetObjectItem(a, "last_patched")->valuestring, "2026-01-01");
	assert_int_equal(cJSON_GetObjectItem(a, "days_since")->valueint, 13);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(b, "last_patched")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(b, "compliant")));
	pw_buf csv = PW_BUF_INIT;
	check(pw_compliance_csv(doc, &csv, &e), &e);
	assert_non_null(
		strstr(pw_buf_str(&csv), "\r\na,,,2026-01-01,13,yes,0,0,0,0,0,,,,yes,covered\r\n"));
	pw_buf_release(&csv);
	cJSON_Delete(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_report),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
