/* CISA KEV catalog parser on the real catalog and vunnel's fixtures. */
#include "feedtest.h"

static pw_err parse_text(const char *json, ft_sink *s, pw_error *e)
{
	pw_feed_sink sink = ft_feed_sink(s);
	return pw_feed_parse_kev(json, strlen(json), "kev.json", &sink, e);
}

static void test_real_catalog(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	ft_load("cisa-kev/known_exploited_vulnerabilities.json", &b);
	ft_sink s = FT_SINK_INIT;
	pw_feed_sink sink = ft_feed_sink(&s);
	pw_error e = PW_ERROR_INIT;
	double t0 = ft_cpu_seconds();
	if (pw_feed_parse_kev(b.data, b.len, "known_exploited_vulnerabilities.json", &sink, &e))
		fail_msg("%s", pw_error_text(&e));
	printf("kev: %zu entries, %.1f ms CPU\n", s.kev, (ft_cpu_seconds() - t0) * 1e3);
	assert_int_equal(s.kev, 1404);
	assert_int_equal(s.warns, 0);
	const char *out = pw_buf_str(&s.out);
	assert_memory_equal(out,
			    "CVE-2025-48384 2025-08-25 2025-09-15 Git | Git | Git Link Following "
			    "Vulnerability\n",
			    strlen("CVE-2025-48384 2025-08-25 2025-09-15 Git | Git | Git Link "
				   "Following Vulnerability\n"));
	assert_non_null(
		strstr(out,
		       "\nCVE-2020-29583 2021-11-03 2022-05-03 Zyxel | Multiple Products | "
		       "Zyxel Multiple Products Use of Hard-Coded Credentials Vulnerability\n"));
	size_t ransomware = 0;
	for (const char *p = out; (p = strstr(p, " ransomware\n")); p++)
		ransomware++;
	assert_int_equal(ransomware, 293);
	ft_sink_release(&s);
	pw_buf_release(&b);
}

static void test_vunnel_fixtures(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	ft_load("vunnel-fixtures/providers/kev/test-fixtures/valid-catalog-1.json", &b);
	ft_sink s = FT_SINK_INIT;
	pw_feed_sink sink = ft_feed_sink(&s);
	pw_error e = PW_ERROR_INIT;
	/* Its count (1273) is the full catalog's; entries were cut for the
	 * fixture. The count is informational and not checked. */
	if (pw_feed_parse_kev(b.data, b.len, "valid-catalog-1.json", &sink, &e))
		fail_msg("%s", pw_error_text(&e));
	assert_string_equal(
		pw_buf_str(&s.out),
		"CVE-2025-0108 2025-02-18 2025-03-11 Palo Alto Networks | PAN-OS | Palo Alto "
		"Networks PAN-OS Authentication Bypass Vulnerability\n"
		"CVE-2024-53704 2025-02-18 2025-03-11 SonicWall | SonicOS | SonicWall SonicOS "
		"SSLVPN Improper Authentication Vulnerability\n"
		"CVE-2024-57727 2025-02-13 2025-03-06 SimpleHelp  | SimpleHelp | SimpleHelp "
		"Path Traversal Vulnerability\n");
	assert_int_equal(s.warns, 0);

	/* A lone entry is not a catalog. */
	pw_buf_reset(&b);
	ft_load("vunnel-fixtures/providers/kev/test-fixtures/single-entry/example1.json", &b);
	assert_int_equal(pw_feed_parse_kev(b.data, b.len, "example1.json", &sink, &e),
			 PW_ERR_PARSE);
	assert_string_equal(
		e.msg,
		"example1.json: catalogVersion: missing (a KEV catalog needs it as a string)");
	ft_sink_release(&s);
	pw_buf_release(&b);
}

#define HEAD                                                                                       \
	"{\"catalogVersion\":\"1\",\"dateReleased\":\"2025-08-25T17:04:19.9796Z\",\"count\":3,"    \
	"\"vulnerabilities\":["

static void test_bad_entries(void **state)
{
	(void)state;
	ft_sink s = FT_SINK_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(
		parse_text(HEAD
			   "{\"vendorProject\":\"V\"},"
			   "{\"cveID\":\"CVE-2024-1\"},"
			   "{\"cveID\":17},"
			   "\"CVE-2024-1234\","
			   "{\"cveID\":\"CVE-2024-1111\",\"dateAdded\":\"08/25/2025\"},"
			   "{\"cveID\":\"CVE-2024-2222\",\"product\":[\"a\"]},"
			   "{\"cveID\":\"CVE-2024-3333\",\"knownRansomwareCampaignUse\":\"Known\"}"
			   "]}",
			   &s, &e),
		PW_OK);
	assert_string_equal(pw_buf_str(&s.out), "CVE-2024-3333 - - - | - | - ransomware\n");
	assert_string_equal(
		pw_buf_str(&s.warnings),
		"kev.json: vulnerabilities[0]: no cveID\n"
		"kev.json: vulnerabilities[1]: cveID is not a CVE id like CVE-2024-1234\n"
		"kev.json: vulnerabilities[2]: cveID is not a CVE id like CVE-2024-1234\n"
		"kev.json: vulnerabilities[3]: not an object\n"
		"kev.json: vulnerabilities[4] (CVE-2024-1111): dateAdded and dueDate must be "
		"dates like 2025-08-25\n"
		"kev.json: vulnerabilities[5] (CVE-2024-2222): dateAdded, dueDate, vendorProject, "
		"product, vulnerabilityName and knownRansomwareCampaignUse must be strings\n");
	ft_sink_release(&s);
}

static void test_bad_catalogs(void **state)
{
	(void)state;
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{"[]",
		 "kev.json: not a JSON object; a KEV catalog is one object with vulnerabilities[]"},
		{"{\"catalogVersion\":\"1\",\"dateReleased\":\"x\",\"count\":0}",
		 "kev.json: vulnerabilities: missing (a KEV catalog needs it as a list)"},
		{"{\"catalogVersion\":\"1\",\"dateReleased\":\"x\",\"count\":\"0\","
		 "\"vulnerabilities\":[]}",
		 "kev.json: count: wrong type (a KEV catalog needs it as a number)"},
		{HEAD "{\"cveID\":\"CVE-2024-1234\"}",
		 "kev.json:1:119: malformed JSON, ends inside a string, "
		 "object or list: truncated file? (expected a KEV catalog)"},
		{"", "kev.json: empty file, not a KEV catalog"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ft_sink s = FT_SINK_INIT;
		pw_error e = PW_ERROR_INIT;
		assert_int_equal(parse_text(cases[i].json, &s, &e), PW_ERR_PARSE);
		assert_string_equal(e.msg, cases[i].msg);
		assert_int_equal(s.kev, 0);
		ft_sink_release(&s);
	}
}

static void test_truncated_real(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	ft_load("cisa-kev/known_exploited_vulnerabilities.json", &b);
	for (size_t n = 1; n < b.len - 8; n += b.len / 37) {
		ft_sink s = FT_SINK_INIT;
		s.dump = 0;
		pw_feed_sink sink = ft_feed_sink(&s);
		pw_error e = PW_ERROR_INIT;
		assert_int_equal(pw_feed_parse_kev(b.data, n, "kev.json", &sink, &e), PW_ERR_PARSE);
		assert_non_null(strstr(e.msg, "truncated file?"));
		assert_int_equal(s.kev, 0); /* nothing emitted before the whole file parsed */
		ft_sink_release(&s);
	}
	pw_buf_release(&b);
}

static void test_sink_error(void **state)
{
	(void)state;
	ft_sink s = FT_SINK_INIT;
	s.fail_after = 2;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(parse_text(HEAD
				    "{\"cveID\":\"CVE-2024-1111\"},{\"cveID\":\"CVE-2024-2222\"},"
				    "{\"cveID\":\"CVE-2024-3333\"}]}",
				    &s, &e),
			 PW_ERR_STORE);
	assert_int_equal(s.kev, 2);
	ft_sink_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_catalog),   cmocka_unit_test(test_vunnel_fixtures),
		cmocka_unit_test(test_bad_entries),    cmocka_unit_test(test_bad_catalogs),
		cmocka_unit_test(test_truncated_real), cmocka_unit_test(test_sink_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
