/* Alpine secdb parser, YAML and JSON. Expected numbers come from a Python
 * (PyYAML BaseLoader) re-implementation of the documented rules run over
 * the same files, independently of this code. */
#include "distro_sink.h"

#define SECDB "alpine-secdb/"

static const struct {
	const char *file;
	size_t adv, ids, warns;
} secdb_files[] = {
	{"v3.3/main.yaml", 159, 488, 1},   {"v3.3/community.yaml", 0, 0, 0},
	{"v3.4/main.yaml", 258, 727, 3},   {"v3.4/community.yaml", 2, 14, 0},
	{"v3.5/main.yaml", 316, 909, 3},   {"v3.5/community.yaml", 25, 102, 0},
	{"v3.6/main.yaml", 345, 989, 3},   {"v3.6/community.yaml", 58, 215, 1},
	{"v3.7/main.yaml", 425, 1171, 1},  {"v3.7/community.yaml", 97, 409, 1},
	{"v3.8/main.yaml", 442, 1224, 2},  {"v3.8/community.yaml", 125, 483, 1},
	{"v3.9/main.yaml", 447, 1207, 16}, {"v3.9/community.yaml", 161, 599, 1},
	{"v3.10/main.yaml", 460, 1267, 3}, {"v3.10/community.yaml", 203, 718, 1},
	{"v3.11/main.yaml", 502, 1295, 3}, {"v3.11/community.yaml", 239, 892, 2},
};

/* Per file: advisories = secfixes keys (heimdal 7.4.0-r0 in v3.6, with no
 * list, is skipped with a warning); ids = distinct valid ids per key. */
static void test_whole_set(void **state)
{
	(void)state;
	size_t adv = 0, ids = 0, warns = 0;
	double dt = 0;
	for (size_t i = 0; i < sizeof secdb_files / sizeof secdb_files[0]; i++) {
		char rel[128];
		tsink t;
		tsink_init(&t, "alpine:", true);
		snprintf(rel, sizeof rel, SECDB "%s", secdb_files[i].file);
		double t0 = now_s();
		parse_shared_as(pw_feed_parse_alpine_secdb, PW_FEED_ALPINE_YAML, rel, &t);
		dt += now_s() - t0;
		assert_clean(&t);
		if (t.adv != secdb_files[i].adv || t.cves != secdb_files[i].ids ||
		    t.warns != secdb_files[i].warns)
			fail_msg(
				"%s: %zu advisories, %zu ids, %zu warnings; want %zu, %zu, %zu\n%s",
				rel, t.adv, t.cves, t.warns, secdb_files[i].adv, secdb_files[i].ids,
				secdb_files[i].warns, pw_buf_str(&t.warnings));
		/* One row per advisory, all for the file's release. */
		assert_int_equal(t.rows, t.adv);
		assert_true(t.n_ecos <= 1);
		adv += t.adv;
		ids += t.cves;
		warns += t.warns;
		tsink_release(&t);
	}
	assert_int_equal(adv, 4264);
	assert_int_equal(ids, 12709); /* 11,886 CVE ids + 823 others (XSA, TALOS, ...) */
	assert_int_equal(warns, 42);
	print_message("secdb v3.3-v3.11: %zu advisories in %.3f s\n", adv, dt);
}

static void expect_record(const char *rel, const char *id, const char *want, size_t warns)
{
	tsink t;
	tsink_init(&t, "alpine:", true);
	t.want = id;
	parse_shared(pw_feed_parse_alpine_secdb, rel, &t);
	assert_string_equal(pw_buf_str(&t.dump), want);
	assert_int_equal(t.warns, warns);
	tsink_release(&t);
}

static void test_records(void **state)
{
	(void)state;
	expect_record(SECDB "v3.8/main.yaml", "ALPINE-3.8-db-0",
		      "ALPINE-3.8-db-0|alpine-secdb|-|db is not affected|sev=0|av=0|-\n"
		      " cve CVE-2016-0682\n"
		      " cve CVE-2016-0689\n"
		      " cve CVE-2016-0692\n"
		      " cve CVE-2016-0694\n"
		      " cve CVE-2016-3418\n"
		      " row alpine:3.8|db|not-affected|-|-\n",
		      2);
	/* "CVE-????-?????  XSA-295": the placeholder is dropped, XSA kept. */
	expect_record(
		SECDB "v3.10/main.yaml", "ALPINE-3.10-xen-4.12.1-r0",
		"ALPINE-3.10-xen-4.12.1-r0|alpine-secdb|-|xen fixed in 4.12.1-r0|sev=0|av=0|-\n"
		" cve XSA-295\n"
		" row alpine:3.10|xen|fixed|4.12.1-r0|-\n",
		3);
	/* Remarks in parentheses are not ids. */
	expect_record(SECDB "v3.10/main.yaml", "ALPINE-3.10-tcpdump-4.9.3-r0",
		      "ALPINE-3.10-tcpdump-4.9.3-r0|alpine-secdb|-|tcpdump fixed in 4.9.3-r0|sev=0|"
		      "av=0|-\n"
		      " cve CVE-2017-16808\n cve CVE-2018-14468\n cve CVE-2018-14469\n"
		      " cve CVE-2018-14470\n cve CVE-2018-14466\n cve CVE-2018-14461\n"
		      " cve CVE-2018-14462\n cve CVE-2018-14465\n cve CVE-2018-14881\n"
		      " cve CVE-2018-14464\n cve CVE-2018-14463\n cve CVE-2018-14467\n"
		      " cve CVE-2018-10103\n cve CVE-2018-10105\n cve CVE-2018-14880\n"
		      " cve CVE-2018-16451\n cve CVE-2018-14882\n cve CVE-2018-16227\n"
		      " cve CVE-2018-16229\n cve CVE-2018-16301\n cve CVE-2018-16230\n"
		      " cve CVE-2018-16452\n cve CVE-2018-16300\n cve CVE-2018-16228\n"
		      " cve CVE-2019-15166\n cve CVE-2019-15167\n cve CVE-2018-14879\n"
		      " row alpine:3.10|tcpdump|fixed|4.9.3-r0|-\n",
		      3);
}

/* vunnel's v3.15 excerpt puts distroversion after packages. */
static void test_vunnel_fixture(void **state)
{
	(void)state;
	tsink t;
	tsink_init(&t, "alpine:", true);
	t.want = "ALPINE-3.15-zsh-5.4.2-r1";
	parse_shared(pw_feed_parse_alpine_secdb,
		     "vunnel-fixtures/providers/alpine/test-fixtures/input/secdb/v3.15/main.yaml",
		     &t);
	assert_int_equal(t.adv, 12);
	assert_int_equal(t.warns, 0);
	assert_string_equal(
		pw_buf_str(&t.dump),
		"ALPINE-3.15-zsh-5.4.2-r1|alpine-secdb|-|zsh fixed in 5.4.2-r1|sev=0|av=0|-\n"
		" cve CVE-2018-1083\n"
		" cve CVE-2018-1071\n"
		" row alpine:3.15|zsh|fixed|5.4.2-r1|-\n");
	tsink_release(&t);
}

#define TRIVY "trivy-db-vulnlist-format/pkg/vulnsrc/alpine/testdata/"

/* vuln-list's one-package JSON, with GHSA ids and remarks. */
static void test_json_vuln_list(void **state)
{
	(void)state;
	tsink t;
	tsink_init(&t, "alpine:", true);
	t.want = "*";
	parse_shared(pw_feed_parse_alpine_secdb, TRIVY "happy/vuln-list/alpine/ansible.json", &t);
	assert_int_equal(t.warns, 0);
	assert_string_equal(pw_buf_str(&t.dump),
			    "ALPINE-3.12-ansible-2.9.3-r0|alpine-secdb|-|ansible fixed in 2.9.3-r0|"
			    "sev=0|av=0|-\n"
			    " cve CVE-2019-14904\n"
			    " cve CVE-2019-14905\n"
			    " cve CVE-2024-22195\n"
			    " cve GHSA-h5c8-rqwp-cp95\n"
			    " cve CVE-2017-2616\n"
			    " cve GHSA-f7r5-w49x-gxm3\n"
			    " cve GHSA-h6cc-rc6q-23j4\n"
			    " row alpine:3.12|ansible|fixed|2.9.3-r0|-\n"
			    "ALPINE-3.12-ansible-2.9.6-r0|alpine-secdb|-|ansible fixed in 2.9.6-r0|"
			    "sev=0|av=0|-\n"
			    " cve CVE-2020-1737\n"
			    " row alpine:3.12|ansible|fixed|2.9.6-r0|-\n");
	tsink_release(&t);

	/* The "sad" twin has a trailing comma: the whole file is refused. */
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	load_shared(TRIVY "sad/vuln-list/alpine/ansible.json", &b);
	tsink_init(&t, "alpine:", true);
	assert_int_equal(parse_text(pw_feed_parse_alpine_secdb, b.data, b.len, "sad.json", &t, &e),
			 PW_ERR_PARSE);
	assert_string_equal(e.msg,
			    "sad.json:5:4: malformed JSON (expected an Alpine secdb (JSON))");
	assert_int_equal(t.adv, 0);
	pw_buf_release(&b);
	tsink_release(&t);
}

static const char secdb_yaml[] = "---\n"
				 "distroversion: v3.12\n"
				 "reponame: main\n"
				 "packages:\n"
				 "  - pkg:\n"
				 "      name: zlib\n"
				 "      secfixes:\n"
				 "        1.2.11-r4:\n"
				 "          - CVE-2022-37434\n"
				 "        '0':\n"
				 "          - CVE-2023-45853 (minizip is not built)\n"
				 "  - pkg:\n"
				 "      name: nofixes\n";

static const char secdb_json[] =
	"{\"distroversion\": \"v3.12\", \"reponame\": \"main\", \"packages\": [\n"
	" {\"pkg\": {\"name\": \"zlib\", \"secfixes\": {\"1.2.11-r4\": [\"CVE-2022-37434\"],\n"
	"  \"0\": [\"CVE-2023-45853 (minizip is not built)\"]}}},\n"
	" {\"pkg\": {\"name\": \"nofixes\"}}]}";

static const char secdb_dump[] =
	"ALPINE-3.12-zlib-1.2.11-r4|alpine-secdb|-|zlib fixed in 1.2.11-r4|sev=0|av=0|-\n"
	" cve CVE-2022-37434\n"
	" row alpine:3.12|zlib|fixed|1.2.11-r4|-\n"
	"ALPINE-3.12-zlib-0|alpine-secdb|-|zlib is not affected|sev=0|av=0|-\n"
	" cve CVE-2023-45853\n"
	" row alpine:3.12|zlib|not-affected|-|-\n";

/* YAML, JSON and CRLF YAML of the same content give the same records. */
static void test_same_content_three_ways(void **state)
{
	(void)state;
	size_t crlf_len;
	char *crlf = to_crlf(secdb_yaml, &crlf_len);
	const struct {
		const char *text;
		size_t len;
	} forms[] = {{secdb_yaml, sizeof secdb_yaml - 1},
		     {secdb_json, sizeof secdb_json - 1},
		     {crlf, crlf_len}};
	for (size_t i = 0; i < 3; i++) {
		tsink t;
		pw_error e = PW_ERROR_INIT;
		tsink_init(&t, "alpine:", true);
		t.want = "*";
		assert_int_equal(parse_text(pw_feed_parse_alpine_secdb, forms[i].text, forms[i].len,
					    "s", &t, &e),
				 PW_OK);
		assert_string_equal(pw_buf_str(&t.dump), secdb_dump);
		assert_int_equal(t.warns, 0);
		tsink_release(&t);
	}
	free(crlf);
}

static void test_malformed_entries(void **state)
{
	(void)state;
	static const char text[] = "distroversion: v3.12\n"                   /* 1 */
				   "packages:\n"                              /* 2 */
				   "  - pkg:\n"                               /* 3 */
				   "      secfixes: {1.0-r0: [CVE-2020-1]}\n" /* 4: no name */
				   "  - pkg:\n"                               /* 5 */
				   "      name: a\n"                          /* 6 */
				   "      secfixes: [1, 2]\n"                 /* 7: not a mapping */
				   "  - pkg:\n"                               /* 8 */
				   "      name: b\n"                          /* 9 */
				   "      secfixes:\n"                        /* 10 */
				   "        1.0-r0:\n"                        /* 11: no list */
				   "        2.0 r0:\n"                 /* 12: not a version */
				   "          - CVE-2020-2222\n"       /* 13 */
				   "        3.0-r0:\n"                 /* 14 */
				   "          - CVE_2020-3333 XSA-1\n" /* 15: bad id, good id */
				   "          - [nested]\n"            /* 16: not text */
				   "          - CVE-2020-4444\n";      /* 17 */
	tsink t;
	pw_error e = PW_ERROR_INIT;
	tsink_init(&t, "alpine:", true);
	t.want = "*";
	assert_int_equal(parse_str(pw_feed_parse_alpine_secdb, text, "m.yaml", &t, &e), PW_OK);
	assert_string_equal(pw_buf_str(&t.dump),
			    "ALPINE-3.12-b-3.0-r0|alpine-secdb|-|b fixed in 3.0-r0|sev=0|av=0|-\n"
			    " cve XSA-1\n"
			    " cve CVE-2020-4444\n"
			    " row alpine:3.12|b|fixed|3.0-r0|-\n");
	const char *w = pw_buf_str(&t.warnings);
	static const char *const want[] = {"m.yaml:3|",  "m.yaml:7|",  "m.yaml:11|",
					   "m.yaml:12|", "m.yaml:15|", "m.yaml:16|"};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (strncmp(w, want[i], strlen(want[i])))
			fail_msg("warning %zu: want %s..., got:\n%s", i, want[i], w);
		w = strchr(w, '\n') + 1;
	}
	assert_string_equal(w, "");
	tsink_release(&t);
}

/* len 0: strlen(text). */
static void expect_error(const char *text, size_t len, const char *msg)
{
	if (!len)
		len = strlen(text);
	tsink t;
	pw_error e = PW_ERROR_INIT;
	tsink_init(&t, "alpine:", true);
	assert_int_equal(parse_text(pw_feed_parse_alpine_secdb, text, len, "e", &t, &e),
			 PW_ERR_PARSE);
	if (!strstr(e.msg, msg))
		fail_msg("error '%s' does not contain '%s'", e.msg, msg);
	assert_int_equal(t.adv, 0);
	tsink_release(&t);
}

static void test_whole_file_errors(void **state)
{
	(void)state;
	static const char nul[] = "distroversion: v3.12\npackages:\0\n";
	expect_error("packages: []\n", 0, "e: no 'distroversion'");
	expect_error("distroversion: [v3]\npackages: []\n", 0, "e: no 'distroversion'");
	expect_error("distroversion: v3.12\npackages: {a: b}\n", 0,
		     "e:2: 'packages' is not a list");
	expect_error("distroversion: v3.12\npackages:\n  - pkg: \"unclosed\n", 0,
		     "e:4: invalid YAML");
	expect_error(nul, sizeof nul - 1, "invalid YAML");
	expect_error("- a\n- b\n", 0, "e: not an Alpine secdb");
	expect_error("", 0, "e: not an Alpine secdb");
	expect_error("{\"distroversion\": \"v3.12\", \"packages\": [", 0,
		     "e:1:40: malformed JSON, ends inside");
	expect_error("{\"a\": 1}", 0, "e: not an Alpine secdb");
	expect_error("{\"distroversion\": \"v3.12\", \"packages\": 3}", 0,
		     "e: 'packages' is not a list");
}

/* Aliases reusing a node are refused after the first use, so a crafted
 * file cannot multiply the work. */
static void test_aliases(void **state)
{
	(void)state;
	static const char text[] = "distroversion: v3.12\n"
				   "packages:\n"
				   "  - &p\n"
				   "    pkg:\n"
				   "      name: a\n"
				   "      secfixes: {1.0-r0: &l [CVE-2020-1111]}\n"
				   "  - *p\n"
				   "  - *p\n"
				   "  - pkg: {name: b, secfixes: {2.0-r0: *l}}\n";
	tsink t;
	pw_error e = PW_ERROR_INIT;
	tsink_init(&t, "alpine:", true);
	assert_int_equal(parse_str(pw_feed_parse_alpine_secdb, text, "a.yaml", &t, &e), PW_OK);
	assert_int_equal(t.adv, 1);
	assert_int_equal(t.warns, 3);
	assert_non_null(strstr(pw_buf_str(&t.warnings), "a.yaml:3|YAML alias repeats"));
	tsink_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_set),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_vunnel_fixture),
		cmocka_unit_test(test_json_vuln_list),
		cmocka_unit_test(test_same_content_three_ways),
		cmocka_unit_test(test_malformed_entries),
		cmocka_unit_test(test_whole_file_errors),
		cmocka_unit_test(test_aliases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
