/* Ubuntu CVE tracker parser over the 2018-2020 UCT subset (active/ and
 * retired/, 6,713 files). Expected numbers come from grep and from a
 * Python re-implementation of the documented rules, run independently
 * over the same files. */
#include <dirent.h>

#include "distro_sink.h"

#define UCT "ubuntu-cve-tracker-2020/"

/* Parses every CVE-* file of one UCT directory. */
static size_t parse_dir(const char *dir, tsink *t)
{
	const char *root = getenv("PW_SHARED_DATA");
	char path[4096];
	assert_non_null(root);
	snprintf(path, sizeof path, "%s/" UCT "%s", root, dir);
	DIR *d = opendir(path);
	if (!d)
		fail_msg("cannot open %s", path);
	size_t files = 0;
	pw_buf b = PW_BUF_INIT;
	pw_feed_sink sink = tsink_sink(t);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "CVE-", 4))
			continue;
		char rel[512], full[4608];
		pw_error e = PW_ERROR_INIT;
		snprintf(rel, sizeof rel, "%s/%s", dir, de->d_name);
		snprintf(full, sizeof full, "%s/%s", path, de->d_name);
		pw_buf_reset(&b);
		if (pw_read_file(full, &b, 0, &e) ||
		    pw_feed_parse_ubuntu_uct(pw_buf_str(&b), b.len, rel, &sink, &e))
			fail_msg("%s: %s", rel, pw_error_text(&e));
		if (pw_feed_detect(pw_buf_str(&b), b.len, rel) != PW_FEED_UBUNTU_UCT)
			fail_msg("%s: not detected as a UCT file", rel);
		files++;
	}
	closedir(d);
	pw_buf_release(&b);
	return files;
}

static void test_whole_set(void **state)
{
	(void)state;
	tsink t;
	tsink_init(&t, "ubuntu:", true);
	double t0 = now_s();
	size_t files = parse_dir("active", &t) + parse_dir("retired", &t);
	double dt = now_s() - t0;
	assert_clean(&t);
	/* `ls active/CVE-* retired/CVE-* | wc -l` */
	assert_int_equal(files, 6713);
	assert_int_equal(t.adv, 6713);
	assert_int_equal(t.cves, 6713);
	/* "released (version)" lines: `grep -cE '^(xenial|bionic|focal)_[^:]*: released \('`
	 * gives 11,859 (xenial 5,463, bionic 6,396; this snapshot has no focal
	 * lines). Two are malformed and skipped with a warning:
	 * "bionic_thunderbird: released (1:68.4.1+build1-0ubuntu0.18.04.1" (no ")")
	 * and "xenial_xmltooling: released ((1.5.6-2ubuntu0.2)". */
	assert_int_equal(eco_rows(&t, "ubuntu:16.04", true), 5462);
	assert_int_equal(eco_rows(&t, "ubuntu:18.04", true), 6395);
	assert_int_equal(eco_rows(&t, "ubuntu:20.04", false), 0);
	/* All release rows: lines of the ten codenames present (trusty ...
	 * eoan), minus the three malformed ones (the third is
	 * "bionic_gnutls28: not-affected 3.5.18-1ubuntu1.3)"). */
	assert_int_equal(t.rows, 131909);
	assert_int_equal(eco_rows(&t, "ubuntu:14.04", false), 24656);
	assert_int_equal(eco_rows(&t, "ubuntu:16.04", false), 25987);
	assert_int_equal(eco_rows(&t, "ubuntu:18.04", false), 25809);
	assert_int_equal(t.state[PW_FIX_FIXED], 19273);
	assert_int_equal(t.state[PW_FIX_UNFIXED], 12929);
	assert_int_equal(t.state[PW_FIX_NOT_AFFECTED], 17878);
	assert_int_equal(t.state[PW_FIX_DNE], 60323);
	assert_int_equal(t.state[PW_FIX_IGNORED], 21506);
	/* Priority: `grep -h '^Priority:'` (4,800 medium counts "medium " and
	 * "medium\t"); untriaged is no rating. */
	assert_int_equal(t.severity[PW_SEV_UNKNOWN], 345);
	assert_int_equal(t.severity[PW_SEV_NEGLIGIBLE], 125);
	assert_int_equal(t.severity[PW_SEV_LOW], 1351);
	assert_int_equal(t.severity[PW_SEV_MEDIUM], 4800);
	assert_int_equal(t.severity[PW_SEV_HIGH], 92);
	/* AV: of the highest-version CVSS vector; 159 files have none. */
	assert_int_equal(t.attack_vector[PW_AV_UNKNOWN], 159);
	assert_int_equal(t.attack_vector[PW_AV_NETWORK], 5011);
	assert_int_equal(t.attack_vector[PW_AV_ADJACENT], 43);
	assert_int_equal(t.attack_vector[PW_AV_LOCAL], 1427);
	assert_int_equal(t.attack_vector[PW_AV_PHYSICAL], 73);
	/* 3 malformed rows + 38 lines "-- Tags_xen: universe-binary". */
	assert_int_equal(t.warns, 41);
	assert_non_null(strstr(pw_buf_str(&t.warnings), "retired/CVE-2018-0489:29|"));
	print_message("UCT: %zu files in %.3f s\n", files, dt);
	tsink_release(&t);
}

static void expect_file(const char *rel, const char *want)
{
	tsink t;
	tsink_init(&t, "ubuntu:", true);
	t.want = "*";
	parse_shared(pw_feed_parse_ubuntu_uct, rel, &t);
	assert_string_equal(pw_buf_str(&t.dump), want);
	assert_int_equal(t.warns, 0);
	tsink_release(&t);
}

/* Severity 3 = medium, attack vector 1 = network / 3 = local. ESM,
 * upstream and devel rows are not emitted. */
static void test_records(void **state)
{
	(void)state;
	expect_file(
		UCT "active/CVE-2020-8597",
		"CVE-2020-8597|ubuntu-uct|2020-02-03T23:15:00Z|eap.c in pppd in ppp 2.4.2 "
		"through 2.4.8 has an rhostname buffer overflow in the eap_request and "
		"eap_response functions.|sev=3|av=1|CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n"
		" cve CVE-2020-8597\n"
		" row ubuntu:14.04|ppp|ignored|-|out of standard support\n"
		" row ubuntu:16.04|ppp|fixed|2.4.7-1+2ubuntu1.16.04.2|-\n"
		" row ubuntu:18.04|ppp|fixed|2.4.7-2+2ubuntu1.2|-\n"
		" row ubuntu:19.10|ppp|fixed|2.4.7-2+4.1ubuntu4.1|-\n"
		" row ubuntu:14.04|lwip|ignored|-|out of standard support\n"
		" row ubuntu:16.04|lwip|dne|-|-\n"
		" row ubuntu:18.04|lwip|dne|-|-\n"
		" row ubuntu:19.10|lwip|unfixed|-|-\n");
	expect_file(
		UCT "retired/CVE-2019-1010004",
		"CVE-2019-1010004|ubuntu-uct|2019-07-15T02:15:00Z|SoX - Sound eXchange 14.4.2 "
		"and earlier is affected by: Out-of-bounds Read. The impact is: Denial of "
		"Service. The component is: read_samples function at xa.c:219. The attack "
		"vector is: Victim must open specially crafted .xa file. NOTE: this may "
		"overlap CVE-2017-18189.|sev=3|av=3|CVSS:3.0/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H\n"
		" cve CVE-2019-1010004\n"
		" row ubuntu:14.04|sox|ignored|-|out of standard support\n"
		" row ubuntu:16.04|sox|not-affected|-|14.4.1-5ubuntu0.1\n"
		" row ubuntu:18.04|sox|not-affected|-|14.4.2-3\n"
		" row ubuntu:18.10|sox|not-affected|-|-\n"
		" row ubuntu:19.04|sox|not-affected|-|-\n");
}

static const char sample[] = "# comment\n"
			     "Candidate: CVE-2020-0001\n"
			     "PublicDate: 2020-01-02\n"
			     "Description:\n"
			     " first line\n"
			     "  second\tline\n"
			     "Priority: high\n"
			     "CVSS:\n"
			     " nvd: AV:L/AC:L/Au:N/C:P/I:P/A:P\n"
			     " ubuntu: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n"
			     " other: CVSS:3.0/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n"
			     "\n"
			     "Patches_foo:\n"
			     " upstream: https://example.org/fix\n"
			     "upstream_foo: released (1.2)\n"
			     "devel_foo: released (1.2-1)\n"
			     "esm-infra/xenial_foo: released (1.0-1ubuntu0.1~esm1)\n"
			     "snap_foo: released\n"
			     "xenial_foo: released-esm (1.0-1ubuntu0.1+esm1)\n"
			     "bionic_foo: pending (1.1-1ubuntu0.1)\n"
			     "eoan_foo: needs-triage\n"
			     "Priority_foo: low\n"
			     "Tags_foo: apparmor\n";

static const char sample_dump[] =
	"CVE-2020-0001|ubuntu-uct|2020-01-02|first line second line|sev=4|av=1|"
	"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n"
	" cve CVE-2020-0001\n"
	" row ubuntu:16.04|foo|unfixed|-|1.0-1ubuntu0.1+esm1\n"
	" row ubuntu:18.04|foo|unfixed|-|1.1-1ubuntu0.1\n"
	" row ubuntu:19.10|foo|unfixed|-|-\n";

static void test_inline_and_crlf(void **state)
{
	(void)state;
	tsink t;
	pw_error e = PW_ERROR_INIT;
	tsink_init(&t, "ubuntu:", true);
	t.want = "*";
	assert_int_equal(parse_str(pw_feed_parse_ubuntu_uct, sample, "CVE-2020-0001", &t, &e),
			 PW_OK);
	assert_string_equal(pw_buf_str(&t.dump), sample_dump);
	assert_int_equal(t.warns, 0);
	tsink_release(&t);

	size_t len;
	char *crlf = to_crlf(sample, &len);
	tsink_init(&t, "ubuntu:", true);
	t.want = "*";
	assert_int_equal(parse_text(pw_feed_parse_ubuntu_uct, crlf, len, "CVE-2020-0001", &t, &e),
			 PW_OK);
	assert_string_equal(pw_buf_str(&t.dump), sample_dump);
	assert_int_equal(t.warns, 0);
	free(crlf);
	tsink_release(&t);
}

static void test_malformed(void **state)
{
	(void)state;
	static const char text[] = "Candidate: CVE-2020-0002\n"     /* 1 */
				   "PublicDate: yesterday\n"        /* 2: warned, left empty */
				   "CVSS: nvd CVSS:3.1/AV:N\n"      /* 3: no "source:" */
				   "Candidate: CVE-2020-0003\n"     /* 4: second one */
				   "-- Tags_xen: universe-binary\n" /* 5: not Field: value */
				   "xenial_a: released\n"           /* 6: no version */
				   "xenial_b: released (1.0\n"      /* 7: unclosed */
				   "xenial_c: not-affected 1.0)\n"  /* 8 */
				   "xenial_d: frobbed (1.0)\n"      /* 9: unknown status */
				   "hamm_e: released (1.0)\n"       /* 10: unknown release */
				   "xenial_: DNE\n"                 /* 11: no package */
				   "xenial_f: released (1.0 1.1)\n" /* 12: two words */
				   "xenial_g: released (2.0)\n";    /* 13: fine */
	tsink t;
	pw_error e = PW_ERROR_INIT;
	tsink_init(&t, "ubuntu:", true);
	t.want = "*";
	assert_int_equal(parse_str(pw_feed_parse_ubuntu_uct, text, "m/CVE", &t, &e), PW_OK);
	assert_string_equal(pw_buf_str(&t.dump), "CVE-2020-0002|ubuntu-uct|-|-|sev=0|av=0|-\n"
						 " cve CVE-2020-0002\n"
						 " row ubuntu:16.04|g|fixed|2.0|-\n");
	const char *w = pw_buf_str(&t.warnings);
	for (int line = 2; line <= 12; line++) {
		char want[32];
		snprintf(want, sizeof want, "m/CVE:%d|", line);
		if (strncmp(w, want, strlen(want)))
			fail_msg("want a warning at %s, got:\n%s", want, w);
		w = strchr(w, '\n') + 1;
	}
	assert_string_equal(w, "");
	tsink_release(&t);
}

static void test_errors_and_nul(void **state)
{
	(void)state;
	tsink t;
	pw_error e = PW_ERROR_INIT;
	tsink_init(&t, "ubuntu:", true);
	assert_int_equal(parse_str(pw_feed_parse_ubuntu_uct, "PublicDate: 2020-01-01\n", "x", &t,
				   &e),
			 PW_ERR_PARSE);
	assert_string_equal(e.msg,
			    "x: no valid 'Candidate: CVE-YYYY-NNNN' field; not a UCT CVE file");
	assert_int_equal(parse_str(pw_feed_parse_ubuntu_uct, "Candidate: not an id\n", "x", &t, &e),
			 PW_ERR_PARSE);
	assert_int_equal(parse_text(pw_feed_parse_ubuntu_uct, "", 0, "x", &t, &e), PW_ERR_PARSE);
	assert_int_equal(t.adv, 0);

	static const char nul[] = "Candidate: CVE-2020-0004\n"
				  "xenial_a: released (1\0.0)\n"
				  "bionic_a: released (1.0)";
	t.want = "*";
	assert_int_equal(parse_text(pw_feed_parse_ubuntu_uct, nul, sizeof nul - 1, "n", &t, &e),
			 PW_OK);
	assert_string_equal(pw_buf_str(&t.dump), "CVE-2020-0004|ubuntu-uct|-|-|sev=0|av=0|-\n"
						 " cve CVE-2020-0004\n"
						 " row ubuntu:18.04|a|fixed|1.0|-\n");
	assert_string_equal(pw_buf_str(&t.warnings), "n:2|NUL byte in line; skipped\n");
	tsink_release(&t);
}

/* A 1 MiB description and a 1 MiB garbage line. */
static void test_huge_lines(void **state)
{
	(void)state;
	size_t big = 1 << 20;
	pw_buf b = PW_BUF_INIT;
	assert_int_equal(pw_buf_puts(&b, "Candidate: CVE-2020-0005\nDescription:\n "), PW_OK);
	for (size_t i = 0; i < big; i++)
		assert_int_equal(pw_buf_putc(&b, i % 7 ? 'a' : ' '), PW_OK);
	assert_int_equal(pw_buf_puts(&b, "\n"), PW_OK);
	for (size_t i = 0; i < big; i++)
		assert_int_equal(pw_buf_putc(&b, 'z'), PW_OK);
	assert_int_equal(pw_buf_puts(&b, "\nxenial_a: DNE\n"), PW_OK);
	tsink t;
	pw_error e = PW_ERROR_INIT;
	tsink_init(&t, "ubuntu:", true);
	assert_int_equal(parse_text(pw_feed_parse_ubuntu_uct, b.data, b.len, "h", &t, &e), PW_OK);
	assert_int_equal(t.adv, 1);
	assert_int_equal(t.rows, 1);
	assert_int_equal(t.warns, 1);
	assert_true(t.warnings.len < 400);
	tsink_release(&t);
	pw_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_set),       cmocka_unit_test(test_records),
		cmocka_unit_test(test_inline_and_crlf), cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_errors_and_nul),  cmocka_unit_test(test_huge_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
