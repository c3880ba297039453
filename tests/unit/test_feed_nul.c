/* A NUL inside a JSON string ("CVE-1\u0000x") reaches cJSON's caller
 * cut short, so an id would be stored truncated: every JSON feed parser
 * refuses the document, naming the file, position and field. */
#include "feedtest.h"

typedef pw_err (*parser_fn)(const char *data, size_t len, const char *name,
			    const pw_feed_sink *sink, pw_error *err);

/* Parses `text` with `nul` (the escape, or a raw NUL byte) put where
 * `text` has '@', and checks the error names `want`. */
static void expect_refused(parser_fn parse, const char *text, const char *nul, const char *want)
{
	pw_buf doc = PW_BUF_INIT;
	const char *at = strchr(text, '@');
	assert_non_null(at);
	pw_buf_append(&doc, text, (size_t)(at - text));
	pw_buf_append(&doc, nul, strcmp(nul, "raw") == 0 ? 1 : strlen(nul));
	if (strcmp(nul, "raw") == 0)
		doc.data[doc.len - 1] = '\0';
	pw_buf_puts(&doc, at + 1);
	ft_sink s = FT_SINK_INIT;
	pw_feed_sink sink = ft_feed_sink(&s);
	pw_error e = PW_ERROR_INIT;
	pw_err rc = parse(doc.data, doc.len, "feed.json", &sink, &e);
	if (rc != PW_ERR_PARSE || !strstr(e.msg, want) || !strstr(e.msg, "NUL"))
		fail_msg("got %d '%s', want '%s'", rc, e.msg, want);
	assert_int_equal(s.advisories + s.kev, 0);
	ft_sink_release(&s);
	pw_buf_release(&doc);
}

#define OSV_AFF                                                                                    \
	"\"affected\":[{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"zlib\"},"            \
	"\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"                  \
	"{\"fixed\":\"1.2.11-40.el9\"}]}]}]"

static void test_osv(void **state)
{
	(void)state;
	static const char *const nuls[] = {"\\u0000", "raw"};
	for (size_t i = 0; i < 2; i++) {
		expect_refused(
			pw_feed_parse_osv,
			"{\"id\":\"ALSA-2024:1@x\",\"modified\":\"2024-01-01T00:00:00Z\"," OSV_AFF
			"}",
			nuls[i], "feed.json:1:19: id: a NUL character");
		expect_refused(pw_feed_parse_osv,
			       "{\"id\":\"ALSA-2024:1\",\"modified\":\"2024-01-01T00:00:00Z\",\n"
			       "\"aliases\":[\"CVE-2024-1\",\"CVE-2024-2@\"]," OSV_AFF "}",
			       nuls[i], "feed.json:2:36: aliases[1]: a NUL character");
	}
	expect_refused(pw_feed_parse_osv,
		       "{\"id\":\"ALSA-2024:1\",\"modified\":\"2024-01-01T00:00:00Z\","
		       "\"affected\":[{\"package\":{\"ecosystem\":\"AlmaLinux:9\","
		       "\"name\":\"zl@ib\"}}]}",
		       "\\u0000", "affected[0].package.name: a NUL character");
}

static void test_osv_escapes_that_are_not_nul(void **state)
{
	(void)state;
	/* "\\u0000" is a backslash and "u0000", "\u00001" a NUL: only the
	 * second is refused. */
	static const char ok[] = "{\"id\":\"ALSA-2024:1\",\"modified\":\"2024-01-01T00:00:00Z\","
				 "\"summary\":\"a \\\\u0000 b \\u0041\"," OSV_AFF "}";
	ft_sink s = FT_SINK_INIT;
	pw_feed_sink sink = ft_feed_sink(&s);
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_feed_parse_osv(ok, strlen(ok), "ok.json", &sink, &e), PW_OK);
	assert_int_equal(s.advisories, 1);
	assert_non_null(strstr(pw_buf_str(&s.out), "summary=a \\u0000 b A"));
	ft_sink_release(&s);
}

static void test_kev(void **state)
{
	(void)state;
	expect_refused(pw_feed_parse_kev,
		       "{\"catalogVersion\":\"1\",\"dateReleased\":\"2025-08-25T17:04:19.9796Z\","
		       "\"count\":2,\"vulnerabilities\":[{\"cveID\":\"CVE-2024-1111\"},"
		       "{\"cveID\":\"CVE-2024-2222@x\"}]}",
		       "\\u0000", "feed.json:1:144: vulnerabilities[1].cveID: a NUL character");
}

static void test_debian_json(void **state)
{
	(void)state;
	expect_refused(pw_feed_parse_debian_json,
		       "{\"zlib\": {\"CVE-2023-45853@x\": {\"releases\": {\"bookworm\": "
		       "{\"status\": \"open\"}}}}}",
		       "\\u0000", "feed.json:1:26: zlib.CVE-2023-45853: a NUL character");
	expect_refused(pw_feed_parse_debian_json,
		       "{\"zlib\": {\"CVE-2023-45853\": {\"releases\": {\"bookworm\": "
		       "{\"status\": \"resolved\", \"fixed_version\": \"1.2@\"}}}}}",
		       "\\u0000",
		       "zlib.CVE-2023-45853.releases.bookworm.fixed_version: a NUL character");
}

static void test_alpine_json(void **state)
{
	(void)state;
	expect_refused(pw_feed_parse_alpine_secdb,
		       "{\"distroversion\": \"v3.12\", \"reponame\": \"main\", \"packages\": [\n"
		       " {\"pkg\": {\"name\": \"zlib@\", \"secfixes\": {\"1.2.11-r4\": "
		       "[\"CVE-2022-37434\"]}}}]}",
		       "\\u0000", "feed.json:2:24: packages[0].pkg.name: a NUL character");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_osv),
		cmocka_unit_test(test_osv_escapes_that_are_not_nul),
		cmocka_unit_test(test_kev),
		cmocka_unit_test(test_debian_json),
		cmocka_unit_test(test_alpine_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
