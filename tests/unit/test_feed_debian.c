/* Debian security tracker parsers: data/{DSA,DLA,DTSA}/list and the
 * tracker JSON. Expected counts were taken independently of this code
 * (grep and a Python re-implementation of the documented rules over the
 * same files; see the comment at each number). */
#include "distro_sink.h"

#define LIST_DIR "debian-security-tracker/data/"

/* Whole lists. Counts: headers = `grep -c '^\['`; rows = lines matching
 * `^\s+\[` (each has a known codename); CVEs = ids inside {...}, counted
 * once per advisory; states from the row's <kind>. */
static void list_counts(const char *file, size_t adv, size_t cves, size_t rows, size_t fixed,
			size_t not_affected, size_t unfixed, size_t ignored)
{
	tsink t;
	tsink_init(&t, "debian:", true);
	double t0 = now_s();
	parse_shared_as(pw_feed_parse_debian_list, PW_FEED_DEBIAN_LIST, file, &t);
	double dt = now_s() - t0;
	assert_clean(&t);
	if (t.warns)
		fail_msg("%s: unexpected warnings:\n%s", file, pw_buf_str(&t.warnings));
	assert_int_equal(t.adv, adv);
	assert_int_equal(t.cves, cves);
	assert_int_equal(t.rows, rows);
	assert_int_equal(t.state[PW_FIX_FIXED], fixed);
	assert_int_equal(t.state[PW_FIX_NOT_AFFECTED], not_affected);
	assert_int_equal(t.state[PW_FIX_UNFIXED], unfixed);
	assert_int_equal(t.state[PW_FIX_IGNORED], ignored);
	assert_int_equal(t.state[PW_FIX_DNE], 0);
	print_message("%s: %zu advisories in %.3f s\n", file, t.adv, dt);
	tsink_release(&t);
}

static void test_list_dsa_whole(void **state)
{
	(void)state;
	list_counts(LIST_DIR "DSA/list", 5406, 18128, 6988, 6926, 55, 3, 4);
}

static void test_list_dla_whole(void **state)
{
	(void)state;
	list_counts(LIST_DIR "DLA/list", 3534, 11002, 3535, 3534, 0, 0, 1);
}

static void test_list_dtsa_whole(void **state)
{
	(void)state;
	list_counts(LIST_DIR "DTSA/list", 208, 480, 208, 208, 0, 0, 0);
}

/* Rows per release: `grep -cP '^\s+\[bullseye\]' DSA/list` etc. */
static void test_list_dsa_per_release(void **state)
{
	(void)state;
	static const struct {
		const char *codename;
		size_t rows;
	} want[] = {
		{"bullseye", 410}, {"buster", 623},  {"stretch", 740}, {"jessie", 898},
		{"wheezy", 813},   {"squeeze", 674}, {"lenny", 588},   {"etch", 678},
		{"sarge", 712},    {"woody", 852},
	};
	tsink t;
	tsink_init(&t, "debian:", true);
	parse_shared(pw_feed_parse_debian_list, LIST_DIR "DSA/list", &t);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		char eco[PW_ECOSYSTEM_MAX];
		eco_of("debian", want[i].codename, eco);
		if (eco_rows(&t, eco, false) != want[i].rows)
			fail_msg("%s (%s): %zu rows, want %zu", want[i].codename, eco,
				 eco_rows(&t, eco, false), want[i].rows);
	}
	assert_int_equal(t.n_ecos, 10);
	tsink_release(&t);
}

static void expect_record(parse_fn fn, const char *file, const char *id, const char *want)
{
	tsink t;
	tsink_init(&t, "debian:", true);
	t.want = id;
	parse_shared(fn, file, &t);
	assert_string_equal(pw_buf_str(&t.dump), want);
	tsink_release(&t);
}

static void test_list_records(void **state)
{
	(void)state;
	expect_record(
		pw_feed_parse_debian_list, LIST_DIR "DSA/list", "DSA-5380-1",
		"DSA-5380-1|debian-list|2023-03-29|xorg-server - security update|sev=0|av=0|-\n"
		" cve CVE-2023-1393\n"
		" row debian:11|xorg-server|fixed|2:1.20.11-1+deb11u6|-\n");
	/* No CVE line, two releases. */
	expect_record(pw_feed_parse_debian_list, LIST_DIR "DSA/list", "DSA-3699-1",
		      "DSA-3699-1|debian-list|2016-10-25|virtualbox - end of life|sev=0|av=0|-\n"
		      " row debian:8|virtualbox|ignored|-|end-of-life\n");
	expect_record(pw_feed_parse_debian_list, LIST_DIR "DLA/list", "DLA-3193-2",
		      "DLA-3193-2|debian-list|2023-03-30|joblib - security update|sev=0|av=0|-\n"
		      " cve CVE-2022-21797\n"
		      " row debian:10|joblib|fixed|0.13.0-2+deb10u2|-\n");
}

/* Old forms: DTSA dates, DSA ids without a revision, notes on versions. */
static void test_list_old_forms(void **state)
{
	(void)state;
	char etch[PW_ECOSYSTEM_MAX], sarge[PW_ECOSYSTEM_MAX], woody[PW_ECOSYSTEM_MAX];
	char want[1024];
	snprintf(want, sizeof want,
		 "DTSA-1-1|debian-list|2005-08-26|kismet - various|sev=0|av=0|-\n"
		 " cve CVE-2005-2626\n"
		 " cve CVE-2005-2627\n"
		 " row %s|kismet|fixed|2005.08.R1-0.1etch1|high\n",
		 eco_of("debian", "etch", etch));
	expect_record(pw_feed_parse_debian_list, LIST_DIR "DTSA/list", "DTSA-1-1", want);
	snprintf(want, sizeof want,
		 "DSA-1075-1|debian-list|2006-05-26|awstats - programming error|sev=0|av=0|-\n"
		 " cve CVE-2006-2644\n"
		 " cve CVE-2006-1945\n"
		 " row %s|awstats|fixed|6.4-1sarge3|bug #365910\n",
		 eco_of("debian", "sarge", sarge));
	expect_record(pw_feed_parse_debian_list, LIST_DIR "DSA/list", "DSA-1075-1", want);
	snprintf(want, sizeof want,
		 "DSA-141|debian-list|2002-08-01|mpack - buffer overflow|sev=0|av=0|-\n"
		 " cve CVE-2002-1425\n"
		 " row %s|mpack|fixed|1.5-7woody2|-\n",
		 eco_of("debian", "woody", woody));
	expect_record(pw_feed_parse_debian_list,
		      "vunnel-fixtures/providers/debian/test-fixtures/input/DSA", "DSA-141", want);
}

static const char sample_list[] =
	"[29 Mar 2023] DSA-5380-1 xorg-server - security update\n"
	"\t{CVE-2023-1393 CVE-2023-1393}\n"
	"\t[bullseye] - xorg-server 2:1.20.11-1+deb11u6\n"
	"\t[sid] - xorg-server 2:21.1.7-3\n"
	"\tNOTE: a note\n"
	"\n"
	"[27 Mar 2023] DSA-5379-1 dino-im - security update\n"
	"\t[buster] - dino-im <not-affected> (Vulnerable code not present)\n"
	"\t[bullseye] - dino-im <postponed>\n";

static const char sample_dump[] =
	"DSA-5380-1|debian-list|2023-03-29|xorg-server - security update|sev=0|av=0|-\n"
	" cve CVE-2023-1393\n"
	" row debian:11|xorg-server|fixed|2:1.20.11-1+deb11u6|-\n"
	"DSA-5379-1|debian-list|2023-03-27|dino-im - security update|sev=0|av=0|-\n"
	" row debian:10|dino-im|not-affected|-|Vulnerable code not present\n"
	" row debian:11|dino-im|unfixed|-|postponed\n";

/* sid rows are dropped silently; duplicate CVEs collapse; kinds map. */
static void test_list_inline(void **state)
{
	(void)state;
	tsink t;
	pw_error e = PW_ERROR_INIT;
	tsink_init(&t, "debian:", true);
	t.want = "*";
	assert_int_equal(parse_str(pw_feed_parse_debian_list, sample_list, "DSA/list", &t, &e),
			 PW_OK);
	assert_string_equal(pw_buf_str(&t.dump), sample_dump);
	assert_int_equal(t.warns, 0);
	tsink_release(&t);
}

static void test_list_crlf(void **state)
{
	(void)state;
	size_t len;
	char *crlf = to_crlf(sample_list, &len);
	tsink t;
	pw_error e = PW_ERROR_INIT;
	tsink_init(&t, "debian:", true);
	t.want = "*";
	assert_int_equal(parse_text(pw_feed_parse_debian_list, crlf, len, "DSA/list", &t, &e),
			 PW_OK);
	assert_string_equal(pw_buf_str(&t.dump), sample_dump);
	assert_int_equal(t.warns, 0);
	free(crlf);
	tsink_release(&t);
}

/* Each bad line is one warning naming file:line; the rest is kept. */
static void test_list_malformed(void **state)
{
	(void)state;
	static const char text[] =
		"\t[bullseye] - orphan 1.0\n"           /* 1: before any header */
		"[29 Mar 2023] DSA-1-1 a - b\n"         /* 2 */
		"\t{CVE-2023-1 CVE-2023-12345 bogus}\n" /* 3: two bad ids */
		"\t{CVE-2023-2222\n"                    /* 4: unterminated */
		"\t[bullseye] - a\n"                    /* 5: no version */
		"\t[bullseye] - a <frobbed>\n"          /* 6: unknown kind */
		"\t[hamm2] - a 1.0\n"                   /* 7: unknown release */
		"\t[bullseye] - a 1.0 trailing words\n" /* 8: junk after version */
		"\t[bullseye] a 1.0\n"                  /* 9: no dash */
		"\twhat is this\n"                      /* 10 */
		"garbage at column one\n"               /* 11 */
		"[Someday] DSA-2-1 c - d\n"             /* 12: bad date, kept */
		"\t[bullseye] - c 2.0 (note\n"          /* 13: unclosed note */
		"[29 Mar 2023] not-an-id x - y\n"       /* 14: entry skipped */
		"\t[bullseye] - skipped 1.0\n"          /* 15: silently */
		"[31 Mar 2023] DSA-3-1\n"               /* 16: no summary */
		"\t[bullseye] - e 3.0\n";
	tsink t;
	pw_error e = PW_ERROR_INIT;
	tsink_init(&t, "debian:", true);
	t.want = "*";
	assert_int_equal(parse_str(pw_feed_parse_debian_list, text, "x/list", &t, &e), PW_OK);
	assert_string_equal(pw_buf_str(&t.dump),
			    "DSA-1-1|debian-list|2023-03-29|a - b|sev=0|av=0|-\n"
			    " cve CVE-2023-12345\n"
			    "DSA-2-1|debian-list|-|c - d|sev=0|av=0|-\n"
			    "DSA-3-1|debian-list|2023-03-31|-|sev=0|av=0|-\n"
			    " row debian:11|e|fixed|3.0|-\n");
	static const char *const where[] = {
		"x/list:1|",  "x/list:3|",  "x/list:3|",  "x/list:4|",  "x/list:5|",
		"x/list:6|",  "x/list:7|",  "x/list:8|",  "x/list:9|",  "x/list:10|",
		"x/list:11|", "x/list:12|", "x/list:13|", "x/list:14|",
	};
	const char *w = pw_buf_str(&t.warnings);
	for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
		if (strncmp(w, where[i], strlen(where[i])))
			fail_msg("warning %zu: want %s..., got:\n%s", i, where[i], w);
		w = strchr(w, '\n') + 1;
	}
	assert_string_equal(w, "");
	assert_non_null(strstr(pw_buf_str(&t.warnings), "hamm2"));
	tsink_release(&t);
}

static void test_list_nul_and_huge(void **state)
{
	(void)state;
	static const char with_nul[] = "[29 Mar 2023] DSA-1-1 a\0b - c\n"
				       "\t[bullseye] - a 1.0\n"
				       "[29 Mar 2023] DSA-2-1 d - e\n"
				       "\t[bullseye] - d 1\0.0\n"
				       "\t[bullseye] - d 2.0\n";
	tsink t;
	pw_error e = PW_ERROR_INIT;
	tsink_init(&t, "debian:", true);
	t.want = "*";
	assert_int_equal(parse_text(pw_feed_parse_debian_list, with_nul, sizeof with_nul - 1,
				    "n/list", &t, &e),
			 PW_OK);
	assert_string_equal(pw_buf_str(&t.dump),
			    "DSA-2-1|debian-list|2023-03-29|d - e|sev=0|av=0|-\n"
			    " row debian:11|d|fixed|2.0|-\n");
	assert_int_equal(t.warns, 2);
	assert_non_null(strstr(pw_buf_str(&t.warnings), "n/list:1|NUL byte"));
	assert_non_null(strstr(pw_buf_str(&t.warnings), "n/list:4|NUL byte"));
	tsink_release(&t);

	/* A 1 MiB line: parsed, and the warning quotes only its start. */
	size_t big = 1 << 20;
	char *huge = malloc(big + 64);
	assert_non_null(huge);
	memset(huge, 'x', big);
	memcpy(huge + big, "\n[29 Mar 2023] DSA-3-1 f - g\n", 29);
	tsink_init(&t, "debian:", true);
	assert_int_equal(parse_text(pw_feed_parse_debian_list, huge, big + 29, "h/list", &t, &e),
			 PW_OK);
	assert_int_equal(t.adv, 1);
	assert_int_equal(t.warns, 1);
	assert_true(t.warnings.len < 400);
	free(huge);
	tsink_release(&t);
}

static void test_list_sink_error_stops(void **state)
{
	(void)state;
	tsink t;
	pw_error e = PW_ERROR_INIT;
	tsink_init(&t, "debian:", true);
	t.fail_with = PW_ERR_STORE;
	assert_int_equal(parse_str(pw_feed_parse_debian_list, sample_list, "DSA/list", &t, &e),
			 PW_ERR_STORE);
	assert_int_equal(t.adv, 1);
	assert_string_equal(e.msg, "sink refused DSA-5380-1");
	tsink_release(&t);
}

/* ---- JSON ---- */

#define MOCK_JSON "nvd-cve-samples/debian/debian_security_tracker_mock.json"
#define VUNNEL_JSON "vunnel-fixtures/providers/debian/test-fixtures/input/debian.json"

static void test_json_mock(void **state)
{
	(void)state;
	tsink t;
	tsink_init(&t, "debian:", true);
	t.want = "*";
	parse_shared_as(pw_feed_parse_debian_json, PW_FEED_DEBIAN_JSON, MOCK_JSON, &t);
	assert_clean(&t);
	assert_int_equal(t.warns, 0);
	/* 3 CVEs x 5 releases, sid dropped: 12 rows. */
	assert_int_equal(t.adv, 3);
	assert_int_equal(t.rows, 12);
	assert_string_equal(
		strstr(pw_buf_str(&t.dump), "CVE-2016-1585"),
		"CVE-2016-1585|debian-json|-|In all versions of AppArmor mount rules are "
		"accidentally widened when compiled.|sev=1|av=3|-\n"
		" cve CVE-2016-1585\n"
		" row debian:12|apparmor|ignored|-|unimportant\n"
		" row debian:11|apparmor|ignored|-|unimportant\n"
		" row debian:10|apparmor|ignored|-|unimportant\n"
		" row debian:13|apparmor|fixed|3.0.12-1|-\n"
		"CVE-2017-6507|debian-json|-|An issue was discovered in AppArmor before 2.12. "
		"Incorrect handling of unknown AppArmor profiles in AppArmor init scripts, upstart "
		"jobs, and/or systemd unit files allows an attacker to possibly have increased "
		"attack surfaces of processes that were intended to be confined by AppArmor. This "
		"is due to the common logic to handle 'restart' operations removing AppArmor "
		"profiles that aren't found in the typical filesystem locations, such as "
		"/etc/apparmor.d/. Userspace projects that manage their own AppArmor profiles in "
		"atypical directories, such as what's done by LXD and Docker, are affected by this "
		"flaw in the AppArmor init script logic.|sev=0|av=3|-\n"
		" cve CVE-2017-6507\n"
		" row debian:12|apparmor|fixed|2.11.0-3|-\n"
		" row debian:11|apparmor|fixed|2.11.0-3|-\n"
		" row debian:10|apparmor|fixed|2.11.0-3|-\n"
		" row debian:13|apparmor|fixed|2.11.0-3|-\n");
	assert_int_equal(t.state[PW_FIX_NOT_AFFECTED], 4);
	tsink_release(&t);
}

static void test_json_vunnel(void **state)
{
	(void)state;
	tsink t;
	tsink_init(&t, "debian:", true);
	t.want = "CVE-2022-0456";
	parse_shared_as(pw_feed_parse_debian_json, PW_FEED_DEBIAN_JSON, VUNNEL_JSON, &t);
	assert_clean(&t);
	assert_int_equal(t.warns, 0);
	/* 7 issues; 25 release entries minus 6 for sid = 19 (python3 json). */
	assert_int_equal(t.adv, 7);
	assert_int_equal(t.rows, 19);
	assert_string_equal(pw_buf_str(&t.dump),
			    "CVE-2022-0456|debian-json|-|-|sev=0|av=0|-\n"
			    " cve CVE-2022-0456\n"
			    " row debian:12|chromium|fixed|98.0.4758.80-1|-\n"
			    " row debian:11|chromium|fixed|98.0.4758.80-1~deb11u1|-\n"
			    " row debian:10|chromium|ignored|-|end-of-life\n"
			    " row debian:9|chromium|ignored|-|end-of-life\n");
	tsink_release(&t);
}

/* One advisory per CVE over all its source packages; nodsa handling. */
static void test_json_grouping_and_states(void **state)
{
	(void)state;
	static const char text[] =
		"{\"zlib\": {\"CVE-2023-45853\": {\"scope\": \"remote\", \"description\": "
		"\"MiniZip\\noverflow\", \"releases\": {\"bookworm\": {\"status\": \"open\", "
		"\"urgency\": \"not yet assigned\", \"nodsa\": \"contrib/minizip not built\", "
		"\"nodsa_reason\": \"ignored\"}, \"bullseye\": {\"status\": \"open\", "
		"\"urgency\": \"low\", \"nodsa\": \"Minor issue\", \"nodsa_reason\": "
		"\"postponed\"}, \"trixie\": {\"status\": \"undetermined\"}}},"
		" \"TEMP-0000000-ABCDEF\": {\"releases\": {\"bookworm\": {\"status\": \"open\", "
		"\"urgency\": \"high\"}}}},"
		" \"minizip\": {\"CVE-2023-45853\": {\"releases\": {\"bookworm\": {\"status\": "
		"\"resolved\", \"fixed_version\": \"1.1-8+deb12u1\", \"urgency\": "
		"\"medium**\"}}}}}";
	tsink t;
	pw_error e = PW_ERROR_INIT;
	tsink_init(&t, "debian:", true);
	t.want = "*";
	assert_int_equal(parse_str(pw_feed_parse_debian_json, text, "t.json", &t, &e), PW_OK);
	assert_string_equal(pw_buf_str(&t.dump),
			    "CVE-2023-45853|debian-json|-|MiniZip overflow|sev=3|av=1|-\n"
			    " cve CVE-2023-45853\n"
			    " row debian:12|zlib|ignored|-|contrib/minizip not built\n"
			    " row debian:11|zlib|unfixed|-|Minor issue\n"
			    " row debian:13|zlib|unfixed|-|undetermined\n"
			    " row debian:12|minizip|fixed|1.1-8+deb12u1|-\n"
			    "TEMP-0000000-ABCDEF|debian-json|-|-|sev=4|av=0|-\n"
			    " row debian:12|zlib|unfixed|-|-\n");
	assert_int_equal(t.warns, 0);
	tsink_release(&t);
}

static void test_json_malformed(void **state)
{
	(void)state;
	static const char text[] =
		"{\"a\": 5,\n"
		" \"b\": {\"garbage\": {}, \"CVE-2020-1111\": 7,\n"
		"  \"CVE-2020-2222\": {\"releases\": {\"bullseye\": {\"status\": \"weird\"},\n"
		"   \"buster\": {\"status\": \"resolved\"}, \"hamm2\": {\"status\": \"open\"},\n"
		"   \"stretch\": 3, \"sid\": {\"status\": \"open\"},\n"
		"   \"jessie\": {\"status\": \"resolved\", \"fixed_version\": \"1 2\"}}},\n"
		"  \"CVE-2020-3333\": {\"releases\": \"none\"}}}";
	tsink t;
	pw_error e = PW_ERROR_INIT;
	tsink_init(&t, "debian:", true);
	t.want = "*";
	assert_int_equal(parse_str(pw_feed_parse_debian_json, text, "m.json", &t, &e), PW_OK);
	assert_string_equal(pw_buf_str(&t.dump), "CVE-2020-2222|debian-json|-|-|sev=0|av=0|-\n"
						 " cve CVE-2020-2222\n"
						 "CVE-2020-3333|debian-json|-|-|sev=0|av=0|-\n"
						 " cve CVE-2020-3333\n");
	const char *w = pw_buf_str(&t.warnings);
	static const char *const want[] = {
		"m.json: a|",
		"m.json: b/garbage|",
		"m.json: b/CVE-2020-1111|",
		"m.json: b/CVE-2020-2222/releases/bullseye|status 'weird'",
		"m.json: b/CVE-2020-2222/releases/buster|resolved without",
		"m.json: b/CVE-2020-2222/releases/hamm2|",
		"m.json: b/CVE-2020-2222/releases/stretch|",
		"m.json: b/CVE-2020-2222/releases/jessie|resolved without",
		"m.json: b/CVE-2020-3333|no 'releases'",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (strncmp(w, want[i], strlen(want[i])))
			fail_msg("warning %zu: want %s..., got:\n%s", i, want[i], w);
		w = strchr(w, '\n') + 1;
	}
	assert_string_equal(w, "");
	tsink_release(&t);
}

static void test_json_errors(void **state)
{
	(void)state;
	tsink t;
	pw_error e = PW_ERROR_INIT;
	tsink_init(&t, "debian:", true);
	assert_int_equal(parse_str(pw_feed_parse_debian_json, "{\"a\": {\n\"CVE-2020-1", "t.json",
				   &t, &e),
			 PW_ERR_PARSE);
	assert_string_equal(e.msg, "t.json:2:2: malformed JSON, ends inside a string, object or "
				   "list: truncated file? (expected a Debian security tracker "
				   "export (JSON object of source packages))");
	assert_int_equal(parse_str(pw_feed_parse_debian_json, "[1, 2]", "t.json", &t, &e),
			 PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, "not a Debian tracker export"));
	assert_int_equal(parse_text(pw_feed_parse_debian_json, "", 0, "t.json", &t, &e),
			 PW_ERR_PARSE);
	assert_int_equal(parse_text(pw_feed_parse_debian_json, "{\"a\":\0}", 7, "t.json", &t, &e),
			 PW_ERR_PARSE);
	assert_int_equal(t.adv, 0);
	tsink_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_dsa_whole),
		cmocka_unit_test(test_list_dla_whole),
		cmocka_unit_test(test_list_dtsa_whole),
		cmocka_unit_test(test_list_dsa_per_release),
		cmocka_unit_test(test_list_records),
		cmocka_unit_test(test_list_old_forms),
		cmocka_unit_test(test_list_inline),
		cmocka_unit_test(test_list_crlf),
		cmocka_unit_test(test_list_malformed),
		cmocka_unit_test(test_list_nul_and_huge),
		cmocka_unit_test(test_list_sink_error_stops),
		cmocka_unit_test(test_json_mock),
		cmocka_unit_test(test_json_vunnel),
		cmocka_unit_test(test_json_grouping_and_states),
		cmocka_unit_test(test_json_malformed),
		cmocka_unit_test(test_json_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
