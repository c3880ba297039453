/* OSV parser on the real records in ../shared/data (AlmaLinux, Rocky,
 * Ubuntu, Red Hat, the OSV linter's samples and broken variants) and on
 * broken records derived from them. */
#include "feedtest.h"

#include <dirent.h>

#include <cjson/cJSON.h>

#include "patchwarden/ecosystem.h"

/* Parses one shared-data file; returns the parser's result. */
static pw_err parse_file(const char *rel, ft_sink *s, pw_error *e)
{
	pw_buf b = PW_BUF_INIT;
	ft_load(rel, &b);
	pw_feed_sink sink = ft_feed_sink(s);
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	pw_err rc = pw_feed_parse_osv(b.data, b.len, base, &sink, e);
	pw_buf_release(&b);
	return rc;
}

static pw_err parse_text(const char *json, ft_sink *s, pw_error *e)
{
	pw_feed_sink sink = ft_feed_sink(s);
	return pw_feed_parse_osv(json, strlen(json), "t.json", &sink, e);
}

static void expect_file(const char *rel, const char *want_out, const char *want_warnings)
{
	ft_sink s = FT_SINK_INIT;
	pw_error e = PW_ERROR_INIT;
	if (parse_file(rel, &s, &e))
		fail_msg("%s: %s", rel, pw_error_text(&e));
	assert_string_equal(pw_buf_str(&s.out), want_out);
	assert_string_equal(pw_buf_str(&s.warnings), want_warnings);
	ft_sink_release(&s);
}

/* ---- the whole AlmaLinux 8 + 9 database ---- */

typedef struct alma_count {
	ft_sink s;
	char **pairs; /* "ecosystem\tpackage", one per row */
	size_t n_pairs, cap_pairs;
	int has_alma10;
} alma_count;

static pw_err alma_advisory(void *ctx, const pw_advisory *a, pw_error *err)
{
	alma_count *c = ctx;
	for (size_t i = 0; i < a->n_affected; i++) {
		const pw_affected *r = &a->affected[i];
		assert_false(r->by_source);
		if (strcmp(r->ecosystem, "almalinux:10") == 0)
			c->has_alma10 = 1;
		if (c->n_pairs == c->cap_pairs) {
			c->cap_pairs = c->cap_pairs ? 2 * c->cap_pairs : 65536;
			c->pairs = realloc(c->pairs, c->cap_pairs * sizeof *c->pairs);
			assert_non_null(c->pairs);
		}
		size_t n = strlen(r->ecosystem) + strlen(r->package) + 2;
		char *p = malloc(n);
		assert_non_null(p);
		snprintf(p, n, "%s\t%s", r->ecosystem, r->package);
		c->pairs[c->n_pairs++] = p;
	}
	return ft_advisory(&c->s, a, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_almalinux_all(void **state)
{
	(void)state;
	alma_count c = {.s = FT_SINK_INIT};
	c.s.dump = 0;
	pw_feed_sink sink = {&c, alma_advisory, NULL, NULL, ft_warn};
	size_t files = 0, alma10_files[2] = {0, 0};
	double parse_cpu = 0;
	size_t bytes = 0;
	const char *root = getenv("PW_SHARED_DATA");
	assert_non_null(root);
	pw_buf b = PW_BUF_INIT;
	for (int rel = 8; rel <= 9; rel++) {
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/almalinux-osv/advisories/almalinux%d", root, rel);
		DIR *d = opendir(dir);
		assert_non_null(d);
		struct dirent *de;
		while ((de = readdir(d))) {
			size_t n = strlen(de->d_name);
			if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
				continue;
			char path[8192];
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			pw_buf_reset(&b);
			pw_error e = PW_ERROR_INIT;
			if (pw_read_file(path, &b, 0, &e))
				fail_msg("%s", pw_error_text(&e));
			bytes += b.len;
			c.has_alma10 = 0;
			double t0 = ft_cpu_seconds();
			size_t before = c.s.advisories;
			if (pw_feed_parse_osv(b.data, b.len, de->d_name, &sink, &e))
				fail_msg("%s", pw_error_text(&e));
			parse_cpu += ft_cpu_seconds() - t0;
			assert_int_equal(c.s.advisories, before + 1);
			alma10_files[rel - 8] += (size_t)c.has_alma10;
			files++;
		}
		closedir(d);
	}
	pw_buf_release(&b);

	/* The counts of SOURCE.txt (checked independently with python3). */
	assert_int_equal(files, 3820);
	assert_int_equal(c.s.advisories, 3820);
	assert_int_equal(c.s.fixed, 55580);
	assert_int_equal(c.s.rows, 55580);
	assert_int_equal(c.s.unfixed, 0);
	assert_int_equal(c.s.warns, 0);
	qsort(c.pairs, c.n_pairs, sizeof *c.pairs, cmp_str);
	size_t distinct = 0, per_release[3] = {0, 0, 0};
	for (size_t i = 0; i < c.n_pairs; i++) {
		if (i && strcmp(c.pairs[i], c.pairs[i - 1]) == 0)
			continue;
		distinct++;
		per_release[strncmp(c.pairs[i], "almalinux:10\t", 13) == 0  ? 2
			    : strncmp(c.pairs[i], "almalinux:9\t", 12) == 0 ? 1
									    : 0]++;
	}
	assert_int_equal(distinct, 6821);
	assert_int_equal(per_release[0], 3841);
	assert_int_equal(per_release[1], 2931);
	assert_int_equal(per_release[2], 49);
	/* Entries for AlmaLinux 10 inside the 8 and 9 trees keep their own
	 * ecosystem. */
	assert_int_equal(alma10_files[0], 6);
	assert_int_equal(alma10_files[1], 9);

	printf("almalinux 8+9: %zu files, %.1f MB, parse+sink %.0f ms CPU (%.0f MB/s)\n", files,
	       (double)bytes / 1e6, parse_cpu * 1e3, (double)bytes / 1e6 / parse_cpu);
	for (size_t i = 0; i < c.n_pairs; i++)
		free(c.pairs[i]);
	free(c.pairs);
	ft_sink_release(&c.s);
}

/* ---- single real records, full output ---- */

static void test_almalinux_module_streams(void **state)
{
	(void)state;
	expect_file("almalinux-osv/advisories/almalinux8/ALSA-2019:0975.json",
		    "ALSA-2019:0975 source=osv published=2019-05-07T03:39:11Z "
		    "modified=2019-05-07T03:39:02Z severity=high av=unknown cvss=-\n"
		    " summary=Important: container-tools:rhel8 security and bug fix update\n"
		    " cves=CVE-2019-5736\n"
		    " almalinux:8 oci-systemd-hook binary fixed "
		    "1:0.1.15-2.git2d0b8a3.module_el8.5.0+119+9a9ec082\n"
		    " almalinux:8 oci-systemd-hook binary fixed "
		    "1:0.1.15-2.git2d0b8a3.module_el8.4.0+2496+12421f43\n"
		    " almalinux:8 oci-systemd-hook binary fixed "
		    "1:0.1.15-2.git2d0b8a3.module_el8.3.0+2044+12421f43\n"
		    " almalinux:8 oci-umount binary fixed "
		    "2:2.3.4-2.git87f9237.module_el8.5.0+119+9a9ec082\n"
		    " almalinux:8 oci-umount binary fixed "
		    "2:2.3.4-2.git87f9237.module_el8.4.0+2496+12421f43\n"
		    " almalinux:8 oci-umount binary fixed "
		    "2:2.3.4-2.git87f9237.module_el8.3.0+2044+12421f43\n",
		    "");
}

static void test_almalinux_other_releases(void **state)
{
	(void)state;
	ft_sink s = FT_SINK_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(parse_file("almalinux-osv/advisories/almalinux8/ALSA-2025:10873.json", &s,
				    &e),
			 PW_OK);
	const char *out = pw_buf_str(&s.out);
	assert_int_equal(s.rows, 69);
	assert_non_null(
		strstr(out,
		       " almalinux:10 java-21-openjdk binary fixed 1:21.0.8.0.9-1.el10.alma.1\n"));
	assert_non_null(
		strstr(out, " almalinux:8 java-21-openjdk binary fixed 1:21.0.8.0.9-1.el8\n"));
	assert_non_null(
		strstr(out,
		       " almalinux:9 java-21-openjdk binary fixed 1:21.0.8.0.9-1.el9.alma.1\n"));
	assert_non_null(
		strstr(out, " cves=CVE-2025-30749,CVE-2025-30754,CVE-2025-50059,CVE-2025-50106\n"));
	ft_sink_release(&s);
}

static void test_rocky(void **state)
{
	(void)state;
	expect_file("vunnel-fixtures/providers/rocky/test-fixtures/osv/RLSA-2023_3220.json",
		    "RLSA-2023:3220 source=osv published=2023-05-18T19:52:18.288616Z "
		    "modified=2023-05-18T19:53:57.454316Z severity=high av=unknown cvss=-\n"
		    " summary=Important: firefox security update\n"
		    " cves=CVE-2023-32205,CVE-2023-32206,CVE-2023-32207,CVE-2023-32211,"
		    "CVE-2023-32212,CVE-2023-32213,CVE-2023-32215\n"
		    " rocky:8 firefox binary fixed 0:102.11.0-2.el8_7\n",
		    "");
	ft_sink s = FT_SINK_INIT;
	pw_error e = PW_ERROR_INIT;
	static const char *const others[] = {"RLSA-2021_3891.json", "RLSA-2024_3671.json"};
	for (size_t i = 0; i < 2; i++) {
		char rel[256];
		snprintf(rel, sizeof rel, "vunnel-fixtures/providers/rocky/test-fixtures/osv/%s",
			 others[i]);
		assert_int_equal(parse_file(rel, &s, &e), PW_OK);
	}
	assert_int_equal(s.advisories, 2);
	assert_int_equal(s.warns, 0);
	assert_true(s.fixed > 0);
	ft_sink_release(&s);
}

/* Ubuntu names source packages (ecosystem_specific.binaries lists the
 * binaries built from them); Pro releases are their own ecosystems. */
static void test_ubuntu_usn(void **state)
{
	(void)state;
	expect_file(
		"vunnel-fixtures/providers/ubuntu/test-fixtures/osv/usn/USN-5614-1.json",
		"USN-5614-1 source=osv published=2022-09-15T16:43:06Z "
		"modified=2026-04-22T07:37:02Z severity=unknown av=unknown cvss=-\n"
		" summary=wayland vulnerability\n"
		" cves=CVE-2021-3782\n"
		" ubuntu:18.04 wayland source fixed 1.16.0-1ubuntu1.1~18.04.4 (No subscription "
		"required)\n"
		" ubuntu:20.04 wayland source fixed 1.18.0-1ubuntu0.1 (No subscription required)\n"
		" ubuntu:22.04 wayland source fixed 1.20.0-1ubuntu0.1 (No subscription required)\n",
		"");
}

static void test_ubuntu_cve(void **state)
{
	(void)state;
	expect_file("vunnel-fixtures/providers/ubuntu/test-fixtures/osv-esm-cases/cve/2022/"
		    "UBUNTU-CVE-2022-24823.json",
		    "UBUNTU-CVE-2022-24823 source=osv published=2022-05-06T12:15:00Z "
		    "modified=2026-06-08T16:11:47Z severity=low av=local "
		    "cvss=CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N\n"
		    " summary=-\n"
		    " cves=CVE-2022-24823\n"
		    " ubuntu-pro:14.04 netty source unfixed -\n"
		    " ubuntu-pro:16.04 netty source fixed 1:4.0.34-1ubuntu0.1~esm2 (Available with "
		    "Ubuntu Pro: https://ubuntu.com/pro)\n"
		    " ubuntu-pro:18.04 netty source fixed 1:4.1.7-4ubuntu0.1+esm3 (Available with "
		    "Ubuntu Pro: https://ubuntu.com/pro)\n"
		    " ubuntu-pro:20.04 netty source fixed 1:4.1.45-1ubuntu0.1~esm2 (Available with "
		    "Ubuntu Pro: https://ubuntu.com/pro)\n"
		    " ubuntu-pro:22.04 netty source fixed 1:4.1.48-4+deb11u2ubuntu0.1~esm1 "
		    "(Available with Ubuntu Pro: https://ubuntu.com/pro)\n"
		    " ubuntu-pro:24.04 netty source fixed 1:4.1.48-9ubuntu0.1~esm1 (Available with "
		    "Ubuntu Pro: https://ubuntu.com/pro)\n"
		    " ubuntu:25.10 netty source unfixed -\n"
		    " ubuntu-pro:26.04 netty source unfixed -\n",
		    "");
}

/* Every Ubuntu fixture parses; withdrawn records emit nothing. */
static void test_ubuntu_all(void **state)
{
	(void)state;
	static const char *const files[] = {
		"osv/usn/USN-5614-1.json",
		"osv/cve/2020/UBUNTU-CVE-2020-36325.json", /* withdrawn */
		"osv/cve/2026/UBUNTU-CVE-2026-1403.json",
		"osv/cve/2013/UBUNTU-CVE-2013-2208.json", /* withdrawn */
		"osv/cve/2016/UBUNTU-CVE-2016-20013.json",
		"osv/cve/2021/UBUNTU-CVE-2021-3782.json",
		"osv-esm-cases/cve/2014/UBUNTU-CVE-2014-2901.json", /* withdrawn */
		"osv-esm-cases/cve/2014/UBUNTU-CVE-2014-9913.json",
		"osv-esm-cases/cve/2022/UBUNTU-CVE-2022-24823.json",
	};
	ft_sink s = FT_SINK_INIT;
	pw_error e = PW_ERROR_INIT;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char rel[512];
		snprintf(rel, sizeof rel, "vunnel-fixtures/providers/ubuntu/test-fixtures/%s",
			 files[i]);
		if (parse_file(rel, &s, &e))
			fail_msg("%s: %s", rel, pw_error_text(&e));
	}
	assert_int_equal(s.advisories, 6);
	assert_int_equal(s.warns, 0);
	const char *out = pw_buf_str(&s.out);
	assert_null(strstr(out, "UBUNTU-CVE-2020-36325"));
	assert_non_null(strstr(out, "UBUNTU-CVE-2016-20013 "));
	assert_non_null(strstr(out, " ubuntu:16.04 sssd source unfixed -\n"));
	assert_non_null(
		strstr(out, " ubuntu-pro:14.04 unzip source fixed 6.0-9ubuntu1.6 (Available with "
			    "Ubuntu Pro (Infra-only): https://ubuntu.com/pro)\n"));
	/* UBUNTU-CVE-2014-9913: Ubuntu rates it negligible, CVSS says local. */
	assert_non_null(strstr(out,
			       "UBUNTU-CVE-2014-9913 source=osv published=2017-01-18T17:59:00Z "
			       "modified=2025-09-08T16:43:17Z severity=negligible av=local "));
	ft_sink_release(&s);
}

/* Red Hat's converter output: extended-support streams are their own
 * ecosystems; only CVE ids count as CVEs (GO-2024-2687 does not). */
static void test_redhat_golden(void **state)
{
	(void)state;
	ft_sink s = FT_SINK_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(parse_file("osv-schema/tools/redhat/testdata/OSV/RHSA-2024_4546.json", &s,
				    &e),
			 PW_OK);
	const char *out = pw_buf_str(&s.out);
	assert_non_null(strstr(out,
			       "RHSA-2024:4546 source=osv published=2024-09-02T14:30:00Z "
			       "modified=2024-09-02T14:30:00Z severity=unknown av=network "
			       "cvss=CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H\n"
			       " summary=Red Hat Security Advisory: git-lfs security update\n"
			       " cves=CVE-2023-45288\n"
			       " rhel-rhel_aus:8.6 git-lfs binary fixed 0:2.13.3-3.el8_6.1\n"));
	assert_non_null(
		strstr(out,
		       " rhel-rhel_tus:8.6 git-lfs-debugsource binary fixed 0:2.13.3-3.el8_6.1\n"));
	assert_int_equal(s.rows, 9);
	assert_int_equal(parse_file("osv-schema/tools/redhat/testdata/OSV/RHSA-2024_6220.json", &s,
				    &e),
			 PW_OK);
	assert_int_equal(s.advisories, 2);
	assert_int_equal(s.warns, 0);
	assert_non_null(strstr(out = pw_buf_str(&s.out),
			       " rhel-rhel_e4s:8.6 python39-wheel binary fixed "
			       "1:0.35.1-4.module+el8.5.0+12204+54860423\n"));
	ft_sink_release(&s);
}

/* The CSAF documents the converter started from, as the other side of the
 * golden pair: every fixed product of the CSAF (one per stream, package
 * and architecture) must be an affected row of our import of the OSV (one
 * per stream and package), and nothing else. A CSAF product id is
 * "STREAM[:MODULE:STREAM:VERSION:CONTEXT]:NAME-EPOCH:VERSION-RELEASE.ARCH";
 * module headers carry no package and are passed over. Each fact becomes a
 * line "STREAM-KIND NAME EVR" (STREAM-KIND aus, e4s, tus), sorted. */
static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *sorted_lines(const pw_buf *b)
{
	size_t n = 0, cap = 16;
	char **v = malloc(cap * sizeof *v);
	assert_non_null(v);
	char *text = strdup(pw_buf_str(b));
	assert_non_null(text);
	char *rest = text;
	for (char *line; (line = strsep(&rest, "\n"));) {
		if (!*line)
			continue;
		if (n == cap)
			assert_non_null(v = realloc(v, (cap *= 2) * sizeof *v));
		v[n++] = line;
	}
	qsort(v, n, sizeof *v, cmp_line);
	pw_buf out = PW_BUF_INIT;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			assert_int_equal(pw_buf_printf(&out, "%s\n", v[i]), PW_OK);
	free(v);
	free(text);
	char *r = strdup(pw_buf_str(&out));
	pw_buf_release(&out);
	return r;
}

static void csaf_facts(const char *rel, pw_buf *facts)
{
	pw_buf b = PW_BUF_INIT;
	ft_load(rel, &b);
	cJSON *doc = cJSON_ParseWithLength(b.data, b.len);
	assert_non_null(doc);
	const cJSON *vuln;
	cJSON_ArrayForEach(vuln, cJSON_GetObjectItem(doc, "vulnerabilities")) {
		const cJSON *id;
		cJSON_ArrayForEach(id,
				   cJSON_GetObjectItem(cJSON_GetObjectItem(vuln, "product_status"),
						       "fixed")) {
			const char *s = cJSON_GetStringValue(id);
			assert_non_null(s);
			const char *colon1 = strchr(s, ':'), *last = strrchr(s, ':'), *prev = last;
			while (prev > s && prev[-1] != ':')
				prev--;
			/* prev..last is "NAME-EPOCH", last+1.. "VERSION-RELEASE.ARCH" */
			const char *dash = prev;
			for (const char *q = prev; q < last; q++)
				if (*q == '-')
					dash = q;
			const char *arch = strrchr(last, '.');
			if (dash == prev || !arch)
				continue; /* a module header: no package in it */
			const char *kind = colon1;
			while (kind > s && kind[-1] != '.')
				kind--;
			char k[8] = {0};
			for (size_t i = 0; i < sizeof k - 1 && kind + i < colon1; i++)
				k[i] = (char)(kind[i] | 0x20);
			assert_int_equal(pw_buf_printf(facts, "%s %.*s %.*s:%.*s\n", k,
						       (int)(dash - prev), prev,
						       (int)(last - dash - 1), dash + 1,
						       (int)(arch - last - 1), last + 1),
					 PW_OK);
		}
	}
	cJSON_Delete(doc);
	pw_buf_release(&b);
}

static void osv_facts(const char *rel, pw_buf *facts)
{
	ft_sink s = FT_SINK_INIT;
	pw_error e = PW_ERROR_INIT;
	if (parse_file(rel, &s, &e))
		fail_msg("%s: %s", rel, pw_error_text(&e));
	char eco[64], name[256], kind[16], state[16], evr[256];
	for (const char *p = pw_buf_str(&s.out); (p = strstr(p, "\n rhel-rhel_")); p++) {
		assert_int_equal(sscanf(p + 1, " %63s %255s %15s %15s %255s", eco, name, kind,
					state, evr),
				 5);
		assert_string_equal(state, "fixed");
		*strchr(eco, ':') = '\0';
		assert_int_equal(pw_buf_printf(facts, "%s %s %s\n", eco + strlen("rhel-rhel_"),
					       name, evr),
				 PW_OK);
	}
	ft_sink_release(&s);
}

static void test_redhat_csaf_pairs(void **state)
{
	(void)state;
	static const char *const pairs[][2] = {
		{"rhsa-2024_4546.json", "RHSA-2024_4546.json"},
		{"rhsa-2024_6220.json", "RHSA-2024_6220.json"},
	};
	static const size_t want[] = {9, 228};
	for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
		char rel[256];
		pw_buf from_csaf = PW_BUF_INIT, from_osv = PW_BUF_INIT;
		snprintf(rel, sizeof rel, "osv-schema/tools/redhat/testdata/CSAF/%s", pairs[i][0]);
		csaf_facts(rel, &from_csaf);
		snprintf(rel, sizeof rel, "osv-schema/tools/redhat/testdata/OSV/%s", pairs[i][1]);
		osv_facts(rel, &from_osv);
		char *a = sorted_lines(&from_csaf), *b = sorted_lines(&from_osv);
		size_t lines = 0;
		for (const char *q = b; *q; q++)
			lines += *q == '\n';
		assert_int_equal(lines, want[i]);
		assert_string_equal(a, b);
		free(a);
		free(b);
		pw_buf_release(&from_csaf);
		pw_buf_release(&from_osv);
	}
}

/* The linter's samples: Alpine entries (origin packages, marked
 * arch=source in the purl) are used, GIT-only entries and other
 * ecosystems are skipped silently, and records with nothing for a distro
 * (RHSA-2022_0216 has no affected[], SUSE-FU an empty one) emit nothing. */
static void test_linter_samples(void **state)
{
	(void)state;
	static const char alpine[] =
		"CVE-2018-5407 source=osv published=2018-11-15T21:29:00Z "
		"modified=2024-05-29T23:34:56Z "
		"severity=unknown av=local cvss=CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N\n"
		" summary=-\n"
		" cves=CVE-2018-5407\n"
		" alpine:3.3 openssl source fixed 1.0.2q-r0\n"
		" alpine:3.4 openssl source fixed 1.0.2q-r0\n"
		" alpine:3.5 openssl source fixed 1.0.2q-r0\n"
		" alpine:3.6 openssl source fixed 1.0.2q-r0\n"
		" alpine:3.7 openssl source fixed 1.0.2q-r0\n"
		" alpine:3.8 openssl source fixed 1.0.2q-r0\n";
	expect_file("osv-schema/tools/osv-linter/testdata/CVE-2018-5407.json", alpine, "");
	/* Its broken variant only breaks the GIT entry we do not read. */
	expect_file("osv-schema/tools/osv-linter/testdata/nondistinct-CVE-2018-5407.json", alpine,
		    "");
	static const char *const nothing[] = {
		"CVE-2023-41045.json",      "nointroduced-CVE-2023-41045.json",
		"GHSA-9v2f-6vcg-3hgv.json", "nopackage-GHSA-9v2f-6vcg-3hgv.json",
		"GO-2020-0001.json",        "GO-2024-2963.json",
		"MAL-2024-10238.json",      "PYSEC-2023-74.json",
		"RHSA-2022_0216.json",      "SUSE-FU-2022_0444-1.json",
	};
	for (size_t i = 0; i < sizeof nothing / sizeof nothing[0]; i++) {
		char rel[256];
		snprintf(rel, sizeof rel, "osv-schema/tools/osv-linter/testdata/%s", nothing[i]);
		expect_file(rel, "", "");
	}
}

/* ---- records built for the cases the real data lacks ---- */

#define REC_HEAD                                                                                   \
	"{\"schema_version\":\"1.6.0\",\"id\":\"SUSE-SU-2024:0001-1\",\"modified\":\"2024-01-"     \
	"02T03:04:05Z\","

static void expect_text(const char *json, const char *want_out, const char *want_warnings)
{
	ft_sink s = FT_SINK_INIT;
	pw_error e = PW_ERROR_INIT;
	if (parse_text(json, &s, &e))
		fail_msg("%s", pw_error_text(&e));
	assert_string_equal(pw_buf_str(&s.out), want_out);
	assert_string_equal(pw_buf_str(&s.warnings), want_warnings);
	ft_sink_release(&s);
}

static void test_suse_and_events(void **state)
{
	(void)state;
	expect_text(
		REC_HEAD
		"\"summary\":\"Low-level "
		"fix\",\"aliases\":null,\"related\":[\"CVE-2024-0001\",\"CVE-2024-0001\",\"bsc#1\"]"
		","
		"\"database_specific\":{\"severity\":\"moderate\"},"
		"\"severity\":[{\"type\":\"CVSS_V2\",\"score\":\"AV:N/AC:L/Au:N/C:P/I:P/A:P\"},"
		"{\"type\":\"CVSS_V4\",\"score\":\"CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/"
		"VA:H/SC:N/SI:N/SA:N\"},"
		"{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/"
		"A:H\"}],"
		"\"affected\":["
		"{\"package\":{\"ecosystem\":\"SUSE:Linux Enterprise Server 15 "
		"SP5\",\"name\":\"curl\"},"
		"\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
		"\"8.0.1-150400.5.41.1\"}]}]},"
		"{\"package\":{\"ecosystem\":\"openSUSE:Leap "
		"15.5\",\"name\":\"curl\",\"purl\":\"pkg:rpm/opensuse/curl?arch=src\"},"
		"\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
		"\"8.0.1-1\"},"
		"{\"introduced\":\"8.1\"},{\"fixed\":\"8.2-1\"}]},"
		"{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"9.9.9\"}]}]},"
		"{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"curl\"},\"ecosystem_"
		"specific\":{\"urgency\":\"high\"},"
		"\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"last_"
		"affected\":\"7.88.1-10\"}]}]},"
		"{\"package\":{\"ecosystem\":\"npm\",\"name\":\"curl\"},\"ranges\":\"not even a "
		"list\"}"
		"]}",
		"SUSE-SU-2024:0001-1 source=osv published=- modified=2024-01-02T03:04:05Z "
		"severity=high "
		"av=adjacent cvss=CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N\n"
		" summary=Low-level fix\n"
		" cves=CVE-2024-0001\n"
		" sles:15.5 curl binary fixed 8.0.1-150400.5.41.1\n"
		" opensuse-leap:15.5 curl source fixed 8.0.1-1\n"
		" opensuse-leap:15.5 curl source fixed 8.2-1\n"
		" debian:12 curl source unfixed -\n",
		"");
}

/* Broken entries are skipped with a warning naming file and field; the
 * record's other entries still count. */
static void test_broken_entries(void **state)
{
	(void)state;
#define GOOD                                                                                       \
	"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"ok\"},\"ranges\":[{\"type\":"      \
	"\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1-1.el9\"}]}]}"
	static const struct {
		const char *entry, *warning;
	} cases[] = {
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\"},\"ranges\":[{"
		 "\"type\":\"ECOSYSTEM\",\"events\":[{\"fixed\":\"1-1\"}]}]}",
		 "t.json: affected[1].ranges[0].events: no 'introduced' event (required by the OSV "
		 "schema)\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:nine\",\"name\":\"p\"},\"ranges\":[]}",
		 "t.json: affected[1].package.ecosystem: unknown almalinux release 'nine' "
		 "(expected a number like 9 or 9.4)\n"},
		{"{\"package\":{\"ecosystem\":\"Debian\",\"name\":\"p\"},\"ranges\":[]}",
		 "t.json: affected[1].package.ecosystem: OSV ecosystem 'Debian' names no release "
		 "(expected e.g. 'Debian:N')\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":42},\"ranges\":[]}",
		 "t.json: affected[1].package.name: missing, empty or not a string\n"},
		{"{\"package\":{\"ecosystem\":7,\"name\":\"p\"}}",
		 "t.json: affected[1].package.ecosystem: missing or not a string\n"},
		{"{\"package\":\"AlmaLinux:9/p\"}", "t.json: affected[1].package: not an object\n"},
		{"[1,2]", "t.json: affected[1]: not an object\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\"},\"ranges\":{\"type\":"
		 "\"ECOSYSTEM\"}}",
		 "t.json: affected[1].ranges: not a list\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\"},\"versions\":[\"1-"
		 "1\"]}",
		 "t.json: affected[1].ranges: missing: without an ECOSYSTEM range there is no "
		 "fixed version\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\"},\"ranges\":[{"
		 "\"type\":\"GIT\",\"repo\":\"r\",\"events\":[{\"introduced\":\"0\"}]}]}",
		 "t.json: affected[1].ranges: no ECOSYSTEM range: cannot tell the distro's fixed "
		 "version\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\"},\"ranges\":[{"
		 "\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":5}]}]}",
		 "t.json: affected[1].ranges[0].events[1]: must be an object with exactly one of "
		 "introduced, fixed, last_affected, limit as a string\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\"},\"ranges\":[{"
		 "\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\",\"fixed\":\"1\"}]}]}",
		 "t.json: affected[1].ranges[0].events[0]: must be an object with exactly one of "
		 "introduced, fixed, last_affected, limit as a string\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\"},\"ranges\":[{"
		 "\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"\"}]}]}",
		 "t.json: affected[1].ranges[0].events[1].fixed: empty version\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\"},\"ranges\":[{"
		 "\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"2\"},{"
		 "\"last_affected\":\"3\"}]}]}",
		 "t.json: affected[1].ranges[0].events: 'fixed' and 'last_affected' together (the "
		 "OSV schema forbids it)\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\"},\"ranges\":[{"
		 "\"type\":\"ECOSYSTEM\",\"events\":[]}]}",
		 "t.json: affected[1].ranges[0].events: missing, empty or not a list\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\"},\"ranges\":[{"
		 "\"type\":\"RPM\",\"events\":[{\"introduced\":\"0\"}]}]}",
		 "t.json: affected[1].ranges[0].type: missing or not one of ECOSYSTEM, SEMVER, "
		 "GIT\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\"},\"ranges\":[{"
		 "\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}, 3]}",
		 "t.json: affected[1].ranges[1]: not an object\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\",\"purl\":[]},"
		 "\"ranges\":[]}",
		 "t.json: affected[1].package.purl: not a string\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\"},\"ecosystem_"
		 "specific\":\"x\",\"ranges\":[]}",
		 "t.json: affected[1].ecosystem_specific: not an object\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\"},\"severity\":[{"
		 "\"type\":\"CVSS_V3\"}],\"ranges\":[]}",
		 "t.json: affected[1].severity[0]: needs 'type' and 'score' strings\n"},
		{"{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\"},\"severity\":{},"
		 "\"ranges\":[]}",
		 "t.json: affected[1].severity: not a list\n"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		pw_buf j = PW_BUF_INIT;
		pw_buf_printf(&j,
			      "{\"id\":\"ALSA-2024:1\",\"modified\":\"2024-01-01T00:00:00Z\","
			      "\"affected\":[" GOOD ",%s," GOOD "]}",
			      cases[i].entry);
		ft_sink s = FT_SINK_INIT;
		pw_error e = PW_ERROR_INIT;
		if (parse_text(j.data, &s, &e))
			fail_msg("case %zu: %s", i, pw_error_text(&e));
		assert_string_equal(pw_buf_str(&s.warnings), cases[i].warning);
		assert_int_equal(s.advisories, 1);
		assert_int_equal(s.rows, 2); /* the good entries, nothing of the bad one */
		pw_buf_release(&j);
		ft_sink_release(&s);
	}
#undef GOOD
}

/* A record the schema rejects fails as a whole, naming file and field. */
static void test_invalid_records(void **state)
{
	(void)state;
#define AFF                                                                                        \
	"\"affected\":[{\"package\":{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"p\"},\"ranges\":[{"  \
	"\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}]}]"
	static const struct {
		const char *json;
		pw_err code;
		const char *msg;
	} cases[] = {
		{"{\"modified\":\"2024-01-01T00:00:00Z\"," AFF "}", PW_ERR_PARSE,
		 "t.json: id: missing, empty or not a string (required by the OSV schema)"},
		{"{\"id\":\"\",\"modified\":\"2024-01-01T00:00:00Z\"," AFF "}", PW_ERR_PARSE,
		 "t.json: id: missing, empty or not a string (required by the OSV schema)"},
		{"{\"id\":\"X-1\"," AFF "}", PW_ERR_PARSE,
		 "t.json: modified: missing (required by the OSV schema)"},
		{"{\"id\":\"X-1\",\"modified\":\"yesterday\"," AFF "}", PW_ERR_PARSE,
		 "t.json: modified: not an RFC 3339 timestamp like \"2024-05-29T23:34:56Z\""},
		{"{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"published\":20240101," AFF
		 "}",
		 PW_ERR_PARSE,
		 "t.json: published: not an RFC 3339 timestamp like \"2024-05-29T23:34:56Z\""},
		{"{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00+02:00\",\"schema_version\":"
		 "\"2.0.0\"," AFF "}",
		 PW_ERR_UNSUPPORTED,
		 "t.json: schema_version: 2.0.0 is not OSV 1.x; this importer reads 1.x records "
		 "only"},
		{"{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"schema_version\":1," AFF
		 "}",
		 PW_ERR_PARSE, "t.json: schema_version: not a version string like \"1.6.0\""},
		{"{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"aliases\":\"CVE-2024-"
		 "1\"," AFF "}",
		 PW_ERR_PARSE, "t.json: aliases: not a list of strings"},
		{"{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"related\":null," AFF "}",
		 PW_ERR_PARSE, "t.json: related: not a list of strings"},
		{"{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"upstream\":[\"CVE-2024-"
		 "1234\",7]," AFF "}",
		 PW_ERR_PARSE, "t.json: upstream[1]: not a string"},
		{"{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"summary\":[]," AFF "}",
		 PW_ERR_PARSE, "t.json: summary: not a string"},
		{"{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"severity\":[{\"score\":"
		 "\"x\"}]," AFF "}",
		 PW_ERR_PARSE, "t.json: severity[0]: needs 'type' and 'score' strings"},
		{"{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":{}}",
		 PW_ERR_PARSE, "t.json: affected: not a list"},
		{"{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"database_specific\":[]"
		 "," AFF "}",
		 PW_ERR_PARSE, "t.json: database_specific: not an object"},
		{"[{\"id\":\"X-1\"}]", PW_ERR_PARSE,
		 "t.json: (top level): not a JSON object; an OSV record is one object"},
		{"{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\"} {\"id\":\"X-2\"}",
		 PW_ERR_PARSE,
		 "t.json:1:48: data after the JSON value; expected an OSV record and nothing else"},
		{"{\"id\":\"X-1\",\n\"modified\":\"2024-01-01T00:00:00Z\",\n\"affected\":[1 2]}",
		 PW_ERR_PARSE, "t.json:3:15: malformed JSON (expected an OSV record)"},
		{"", PW_ERR_PARSE, "t.json: empty file, not an OSV record"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ft_sink s = FT_SINK_INIT;
		pw_error e = PW_ERROR_INIT;
		pw_err rc = parse_text(cases[i].json, &s, &e);
		if (rc != cases[i].code || strcmp(e.msg, cases[i].msg) != 0)
			fail_msg("case %zu: got %d '%s'", i, rc, e.msg);
		assert_int_equal(s.advisories, 0);
		ft_sink_release(&s);
	}
#undef AFF
}

/* Truncations of a real record at every 97th byte are clean errors. */
static void test_truncated(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	ft_load("almalinux-osv/advisories/almalinux8/ALSA-2019:0975.json", &b);
	size_t end = b.len;
	while (end && (b.data[end - 1] == '\n' || b.data[end - 1] == ' '))
		end--;
	for (size_t n = 1; n < end; n += 97) {
		ft_sink s = FT_SINK_INIT;
		pw_feed_sink sink = ft_feed_sink(&s);
		pw_error e = PW_ERROR_INIT;
		assert_int_equal(pw_feed_parse_osv(b.data, n, "cut.json", &sink, &e), PW_ERR_PARSE);
		assert_non_null(strstr(e.msg, "cut.json:"));
		assert_non_null(strstr(e.msg, "truncated"));
		assert_int_equal(s.advisories, 0);
		ft_sink_release(&s);
	}
	pw_buf_release(&b);
}

/* Huge strings are data like any other; a huge unterminated one and very
 * deep nesting are clean errors. */
static void test_huge_inputs(void **state)
{
	(void)state;
	size_t big = 8u << 20;
	pw_buf j = PW_BUF_INIT;
	pw_buf_puts(&j, "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"summary\":\"");
	assert_int_equal(pw_buf_reserve(&j, big), PW_OK);
	memset(j.data + j.len, 'a', big);
	j.len += big;
	j.data[j.len] = '\0';
	size_t open_len = j.len;
	pw_buf_puts(&j,
		    "\",\"affected\":[{\"package\":{\"ecosystem\":\"Alpine:v3.19\",\"name\":\"");
	assert_int_equal(pw_buf_reserve(&j, big), PW_OK);
	memset(j.data + j.len, 'p', big);
	j.len += big;
	j.data[j.len] = '\0';
	pw_buf_puts(&j, "\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}"
			",{\"fixed\":\"1-r0\"}]}]}]}");
	ft_sink s = FT_SINK_INIT;
	s.dump = 0;
	pw_feed_sink sink = ft_feed_sink(&s);
	pw_error e = PW_ERROR_INIT;
	if (pw_feed_parse_osv(j.data, j.len, "big.json", &sink, &e))
		fail_msg("%s", pw_error_text(&e));
	assert_int_equal(s.rows, 1);

	assert_int_equal(pw_feed_parse_osv(j.data, open_len, "big.json", &sink, &e), PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, "truncated"));

	pw_buf_reset(&j);
	for (int i = 0; i < 200000; i++)
		pw_buf_putc(&j, '[');
	assert_int_equal(pw_feed_parse_osv(j.data, j.len, "deep.json", &sink, &e), PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, "deep.json:1:"));
	pw_buf_release(&j);
	ft_sink_release(&s);
}

static void test_sink_error(void **state)
{
	(void)state;
	ft_sink s = FT_SINK_INIT;
	s.fail_after = 1;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(parse_file("almalinux-osv/advisories/almalinux8/ALSA-2019:0975.json", &s,
				    &e),
			 PW_ERR_STORE);
	assert_string_equal(e.msg, "sink refused the record");
	ft_sink_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_almalinux_all),
		cmocka_unit_test(test_almalinux_module_streams),
		cmocka_unit_test(test_almalinux_other_releases),
		cmocka_unit_test(test_rocky),
		cmocka_unit_test(test_ubuntu_usn),
		cmocka_unit_test(test_ubuntu_cve),
		cmocka_unit_test(test_ubuntu_all),
		cmocka_unit_test(test_redhat_golden),
		cmocka_unit_test(test_redhat_csaf_pairs),
		cmocka_unit_test(test_linter_samples),
		cmocka_unit_test(test_suse_and_events),
		cmocka_unit_test(test_broken_entries),
		cmocka_unit_test(test_invalid_records),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_huge_inputs),
		cmocka_unit_test(test_sink_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
