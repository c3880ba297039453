/* Format detection on the real feed files in ../shared/data: every
 * sample must be recognised from its content, whatever its name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "patchwarden/feed.h"
#include "patchwarden/fileio.h"

static void load(const char *rel, pw_buf *b)
{
	const char *root = getenv("PW_SHARED_DATA");
	assert_non_null(root);
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	pw_buf_reset(b);
	size_t n = strlen(path);
	if (n > 3 && strcmp(path + n - 3, ".gz") == 0) {
		gzFile gz = gzopen(path, "rb");
		assert_non_null(gz);
		char chunk[65536];
		int got;
		while ((got = gzread(gz, chunk, sizeof chunk)) > 0)
			assert_int_equal(pw_buf_append(b, chunk, (size_t)got), PW_OK);
		gzclose(gz);
		return;
	}
	pw_error e = PW_ERROR_INIT;
	if (pw_read_file(path, b, 0, &e))
		fail_msg("%s", pw_error_text(&e));
}

static const struct {
	const char *path;
	pw_feed_format want;
} samples[] = {
	{"almalinux-osv/advisories/almalinux8/ALSA-2019:0975.json", PW_FEED_OSV},
	{"vunnel-fixtures/providers/rocky/test-fixtures/osv/RLSA-2021_3891.json", PW_FEED_OSV},
	{"osv-schema/tools/osv-linter/testdata/RHSA-2022_0216.json", PW_FEED_OSV},
	{"debian-security-tracker/data/DSA/list", PW_FEED_DEBIAN_LIST},
	{"debian-security-tracker/data/DLA/list", PW_FEED_DEBIAN_LIST},
	{"debian-security-tracker/data/DTSA/list", PW_FEED_DEBIAN_LIST},
	{"nvd-cve-samples/debian/debian_security_tracker_mock.json", PW_FEED_DEBIAN_JSON},
	{"ubuntu-cve-tracker-2020/active/CVE-2018-0493", PW_FEED_UBUNTU_UCT},
	{"alpine-secdb/v3.10/main.yaml", PW_FEED_ALPINE_YAML},
	{"alpine-secdb/v3.3/community.yaml", PW_FEED_ALPINE_YAML},
	{"trivy-db-vulnlist-format/pkg/vulnsrc/alpine/testdata/happy/vuln-list/alpine/ansible.json",
	 PW_FEED_ALPINE_JSON},
	{"cisa-kev/known_exploited_vulnerabilities.json", PW_FEED_KEV},
	{"epss/CVE_2021_EPSS.csv.gz", PW_FEED_EPSS},
	{"vunnel-fixtures/providers/epss/test-fixtures/example-1.csv", PW_FEED_EPSS},
	{"cisa-kev/known_exploited_vulnerabilities_schema.json", PW_FEED_UNKNOWN},
};

static void test_real_samples(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		load(samples[i].path, &b);
		pw_feed_format got = pw_feed_detect(pw_buf_str(&b), b.len, samples[i].path);
		if (got != samples[i].want)
			fail_msg("%s: detected %s, expected %s", samples[i].path,
				 pw_feed_format_name(got), pw_feed_format_name(samples[i].want));
	}
	pw_buf_release(&b);
}

/* Every UCT file of the 2018-2020 set, some of which start with
 * PublicDateAtUSN rather than Candidate. */
static void test_all_uct_files(void **state)
{
	(void)state;
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "ls %s/ubuntu-cve-tracker-2020/active/CVE-* | head -400",
		 getenv("PW_SHARED_DATA"));
	FILE *ls = popen(cmd, "r");
	assert_non_null(ls);
	char line[4096];
	pw_buf b = PW_BUF_INIT;
	int n = 0;
	while (fgets(line, sizeof line, ls)) {
		line[strcspn(line, "\n")] = '\0';
		pw_buf_reset(&b);
		assert_int_equal(pw_read_file(line, &b, 0, NULL), PW_OK);
		if (pw_feed_detect(pw_buf_str(&b), b.len, "") != PW_FEED_UBUNTU_UCT)
			fail_msg("%s not detected as UCT", line);
		n++;
	}
	pclose(ls);
	pw_buf_release(&b);
	assert_true(n >= 400);
}

static void test_garbage(void **state)
{
	(void)state;
	assert_int_equal(pw_feed_detect("", 0, "x"), PW_FEED_UNKNOWN);
	assert_int_equal(pw_feed_detect("   \n\t", 5, "x"), PW_FEED_UNKNOWN);
	assert_int_equal(pw_feed_detect("{}", 2, "x"), PW_FEED_UNKNOWN);
	assert_int_equal(pw_feed_detect("[29 Mar", 7, "x"), PW_FEED_UNKNOWN);
	assert_int_equal(pw_feed_detect("hello world", 11, "x"), PW_FEED_UNKNOWN);
	assert_int_equal(pw_feed_detect("CVE-2020-1;0.5;0.9\n", 19, "x"), PW_FEED_EPSS);
	/* UCT's template file (active/00boilerplate): no CVE, no advisory. */
	const char boilerplate[] = "Candidate: \nPublicDate: \nPriority: untriaged\n";
	assert_int_equal(pw_feed_detect(boilerplate, sizeof boilerplate - 1, "x"), PW_FEED_UNKNOWN);
	assert_string_equal(pw_feed_format_name(PW_FEED_DEBIAN_LIST), "debian-list");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_samples),
		cmocka_unit_test(test_all_uct_files),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
