/* The report writers (report.h) on hand-written documents: package URLs,
 * CSV cells, SARIF levels, and the VEX mapping of CycloneDX. The expected
 * texts are written from the purl types, RFC 4180 and the CycloneDX 1.5
 * enumerations, not from the code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "patchwarden/csv.h"
#include "patchwarden/report.h"

static void expect_purl(const char *eco, const char *name, const char *version, const char *arch,
			const char *want)
{
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	if (pw_report_purl(eco, name, version, arch, &b, &e))
		fail_msg("%s %s: %s", eco, name, pw_error_text(&e));
	assert_string_equal(pw_buf_str(&b), want);
	pw_buf_release(&b);
}

static void test_purl(void **state)
{
	(void)state;
	expect_purl("debian:12", "openssl", "3.0.11-1~deb12u1", "amd64",
		    "pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64&distro=debian-12");
	expect_purl(
		"debian:10", "zlib1g", "1:1.2.11.dfsg-1+deb10u1", "amd64",
		"pkg:deb/debian/zlib1g@1%3A1.2.11.dfsg-1%2Bdeb10u1?arch=amd64&distro=debian-10");
	expect_purl("ubuntu:22.04", "glibc", "2.35-0ubuntu3.1", "source",
		    "pkg:deb/ubuntu/glibc@2.35-0ubuntu3.1?arch=source&distro=ubuntu-22.04");
	expect_purl("almalinux:8", "openssl-libs", "1:1.1.1k-14.el8_6", "x86_64",
		    "pkg:rpm/almalinux/openssl-libs@1.1.1k-14.el8_6?arch=x86_64&distro=almalinux-8"
		    "&epoch=1");
	expect_purl("rhel:9", "bash", "5.1.8-6.el9", NULL,
		    "pkg:rpm/redhat/bash@5.1.8-6.el9?distro=rhel-9");
	expect_purl("alpine:3.18", "libcrypto3", "3.1.4-r0", "x86_64",
		    "pkg:apk/alpine/libcrypto3@3.1.4-r0?arch=x86_64&distro=alpine-3.18");
	expect_purl(
		"sles:15.5", "libopenssl1_1", "1.1.1l-150500.17.19.1", "x86_64",
		"pkg:rpm/suse/libopenssl1_1@1.1.1l-150500.17.19.1?arch=x86_64&distro=sles-15.5");
	pw_buf b = PW_BUF_INIT;
	assert_int_equal(pw_report_purl("debian", "x", "1", NULL, &b, NULL), PW_ERR_INVALID);
	assert_int_equal(pw_report_purl(NULL, "x", "1", NULL, &b, NULL), PW_ERR_INVALID);
	pw_buf_release(&b);
}

static void expect_cell(const char *v, const char *want)
{
	pw_buf b = PW_BUF_INIT;
	assert_int_equal(pw_csv_cell(&b, v), PW_OK);
	assert_string_equal(pw_buf_str(&b), want);
	pw_buf_release(&b);
}

static void test_csv_cell(void **state)
{
	(void)state;
	expect_cell("openssl", "openssl");
	expect_cell(NULL, "");
	expect_cell("", "");
	expect_cell("a,b", "\"a,b\"");
	expect_cell("say \"hi\"", "\"say \"\"hi\"\"\"");
	expect_cell("two\nlines", "\"two\nlines\"");
	expect_cell(" padded", "\" padded\"");
	expect_cell("=cmd|' /C calc'!A0", "\"'=cmd|' /C calc'!A0\"");
	expect_cell("+1", "\"'+1\"");
	expect_cell("-1", "\"'-1\"");
	expect_cell("@SUM(A1)", "\"'@SUM(A1)\"");
	expect_cell("\tx", "\"'\tx\"");
	expect_cell("'quoted", "\"''quoted\"");
	expect_cell("1:2.3-4", "1:2.3-4");
}

/* A findings document of two hosts: open, fixed and not affected. */
static const char findings_doc[] =
	"{\"schema_version\":1,\"created\":\"2026-01-02T03:04:05.000Z\","
	"\"tool\":{\"name\":\"patchwarden\",\"version\":\"9.9\","
	"\"information_uri\":\"https://example.org/\"},"
	"\"feed_snapshot\":{\"id\":3,\"created\":\"2026-01-01T00:00:00Z\"},\"findings\":["
	"{\"id\":1,\"hostname\":\"web-1\",\"package\":\"openssl\",\"by_source\":true,"
	"\"installed\":\"3.0.11-1~deb12u1\",\"fixed\":\"3.0.11-1~deb12u2\","
	"\"advisory\":\"DSA-5532-1\",\"cves\":[\"CVE-2023-5363\",\"CVE-2023-5678\"],"
	"\"priority\":\"high\",\"reason\":\"remote\",\"due\":\"2026-01-16\","
	"\"kev\":{\"cve\":\"CVE-2023-5363\",\"due_date\":\"2026-02-01\"},"
	"\"epss\":{\"cve\":\"CVE-2023-5363\",\"score\":0.5},\"first_seen\":"
	"\"2026-01-02T03:04:05.000Z\",\"fixed_at\":null,\"state\":\"open\",\"ecosystem\":\"debian:"
	"12\"},"
	"{\"id\":2,\"hostname\":\"db-1\",\"package\":\"=cmd\",\"by_source\":false,"
	"\"installed\":\"1,0\",\"fixed\":\"2\",\"advisory\":\"ALSA-2025:1\",\"cves\":[],"
	"\"priority\":\"low\",\"reason\":null,\"due\":null,\"kev\":null,\"epss\":null,"
	"\"first_seen\":\"2026-01-01T00:00:00.000Z\",\"fixed_at\":\"2026-01-02T00:00:00.000Z\","
	"\"state\":\"fixed\",\"ecosystem\":\"almalinux:8\"},"
	"{\"id\":3,\"hostname\":\"db-1\",\"package\":\"bash\",\"by_source\":false,"
	"\"installed\":\"5.1\",\"fixed\":null,\"advisory\":\"CVE-2024-1\",\"cves\":[\"CVE-2024-1\"]"
	","
	"\"priority\":\"normal\",\"state\":\"not_affected\",\"ecosystem\":\"almalinux:8\"}]}";

static cJSON *written(pw_report_format fmt, pw_buf *b)
{
	cJSON *doc = cJSON_Parse(findings_doc);
	assert_non_null(doc);
	pw_error e = PW_ERROR_INIT;
	if (pw_report_write(fmt, doc, NULL, b, &e))
		fail_msg("%s", pw_error_text(&e));
	cJSON_Delete(doc);
	return fmt == PW_REPORT_CSV ? NULL : cJSON_Parse(pw_buf_str(b));
}

static void test_csv(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	written(PW_REPORT_CSV, &b);
	assert_string_equal(pw_buf_str(&b),
			    "host,package,installed,fixed,advisory,cves,priority,due,kev,state\r\n"
			    "web-1,openssl,3.0.11-1~deb12u1,3.0.11-1~deb12u2,DSA-5532-1,"
			    "CVE-2023-5363 CVE-2023-5678,high,2026-01-16,true,open\r\n"
			    "db-1,\"'=cmd\",\"1,0\",2,ALSA-2025:1,,low,,false,fixed\r\n"
			    "db-1,bash,5.1,,CVE-2024-1,CVE-2024-1,normal,,false,not_affected\r\n");
	pw_buf_release(&b);
}

static const char *str_at(const cJSON *o, const char *path)
{
	/* "a.b.0.c": members and array indexes */
	char key[64];
	while (o && *path) {
		size_t n = strcspn(path, ".");
		assert_true(n < sizeof key);
		memcpy(key, path, n);
		key[n] = '\0';
		o = (key[0] >= '0' && key[0] <= '9') ? cJSON_GetArrayItem(o, key[0] - '0')
						     : cJSON_GetObjectItemCaseSensitive(o, key);
		path += n + (path[n] == '.');
	}
	return cJSON_IsString(o) ? o->valuestring : NULL;
}

static void test_sarif(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	cJSON *s = written(PW_REPORT_SARIF, &b);
	assert_non_null(s);
	assert_string_equal(str_at(s, "version"), "2.1.0");
	assert_string_equal(str_at(s, "runs.0.tool.driver.name"), "patchwarden");
	assert_string_equal(str_at(s, "runs.0.tool.driver.version"), "9.9");
	assert_string_equal(str_at(s, "runs.0.tool.driver.informationUri"), "https://example.org/");
	/* one rule per advisory; high is an error, a fixed finding a pass */
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(
			cJSON_GetObjectItem(
				cJSON_GetObjectItem(
					cJSON_GetArrayItem(cJSON_GetObjectItem(s, "runs"), 0),
					"tool"),
				"driver"),
			"rules")),
		3);
	assert_string_equal(str_at(s, "runs.0.results.0.level"), "error");
	assert_string_equal(str_at(s, "runs.0.results.0.ruleId"), "DSA-5532-1");
	assert_string_equal(str_at(s, "runs.0.results.0.locations.0.physicalLocation."
				      "artifactLocation.uri"),
			    "pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=source&distro=debian-12");
	assert_string_equal(str_at(s, "runs.0.results.0.properties.kev.due_date"), "2026-02-01");
	assert_string_equal(str_at(s, "runs.0.results.1.kind"), "pass");
	assert_string_equal(str_at(s, "runs.0.results.1.level"), "none");
	assert_string_equal(str_at(s, "runs.0.results.2.level"), "warning");
	cJSON_Delete(s);
	pw_buf_release(&b);
}

static void test_cyclonedx(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	cJSON *c = written(PW_REPORT_CYCLONEDX, &b);
	assert_non_null(c);
	assert_string_equal(str_at(c, "bomFormat"), "CycloneDX");
	assert_string_equal(str_at(c, "specVersion"), "1.5");
	assert_string_equal(str_at(c, "metadata.timestamp"), "2026-01-02T03:04:05.000Z");
	/* VEX: open -> exploitable (update), fixed -> resolved, not affected */
	assert_string_equal(str_at(c, "vulnerabilities.0.analysis.state"), "exploitable");
	assert_string_equal(str_at(c, "vulnerabilities.0.analysis.response.0"), "update");
	assert_string_equal(str_at(c, "vulnerabilities.0.affects.0.versions.0.status"), "affected");
	assert_string_equal(str_at(c, "vulnerabilities.0.affects.0.versions.1.version"),
			    "3.0.11-1~deb12u2");
	assert_string_equal(str_at(c, "vulnerabilities.0.affects.0.versions.1.status"),
			    "unaffected");
	assert_string_equal(str_at(c, "vulnerabilities.0.references.0.id"), "CVE-2023-5363");
	assert_string_equal(str_at(c, "vulnerabilities.0.ratings.0.severity"), "high");
	assert_string_equal(str_at(c, "vulnerabilities.1.analysis.state"), "resolved");
	assert_null(str_at(c, "vulnerabilities.1.analysis.response.0"));
	assert_string_equal(str_at(c, "vulnerabilities.1.analysis.lastUpdated"),
			    "2026-01-02T00:00:00.000Z");
	assert_string_equal(str_at(c, "vulnerabilities.2.analysis.state"), "not_affected");
	assert_string_equal(str_at(c, "vulnerabilities.2.affects.0.versions.0.status"),
			    "unaffected");
	/* a fixed finding's component is the package at its fixed version */
	assert_string_equal(str_at(c, "vulnerabilities.1.affects.0.ref"),
			    "host:db-1/pkg:rpm/almalinux/%3Dcmd@2?distro=almalinux-8");
	/* hosts are components holding their packages */
	assert_string_equal(str_at(c, "components.0.name"), "web-1");
	assert_string_equal(str_at(c, "components.0.type"), "device");
	assert_string_equal(str_at(c, "components.0.components.0.purl"),
			    "pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=source&distro=debian-12");
	assert_string_equal(str_at(c, "components.1.name"), "db-1");
	cJSON_Delete(c);
	pw_buf_release(&b);
}

static void test_formats(void **state)
{
	(void)state;
	pw_report_format f;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_report_format_parse("cyclonedx", &f, &e), PW_OK);
	assert_int_equal(f, PW_REPORT_CYCLONEDX);
	assert_int_equal(pw_report_format_parse("table", &f, &e), PW_OK);
	assert_int_equal(f, PW_REPORT_TABLE);
	assert_int_equal(pw_report_format_parse("xml", &f, &e), PW_ERR_INVALID);
	assert_non_null(strstr(pw_error_text(&e), "table, json, csv, sarif, cyclonedx"));
	pw_buf b = PW_BUF_INIT;
	cJSON *not_report = cJSON_Parse("{\"hosts\":[]}");
	assert_int_equal(pw_report_csv(not_report, &b, &e), PW_ERR_INVALID);
	cJSON_Delete(not_report);
	pw_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_purl),      cmocka_unit_test(test_csv_cell),
		cmocka_unit_test(test_csv),       cmocka_unit_test(test_sarif),
		cmocka_unit_test(test_cyclonedx), cmocka_unit_test(test_formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
