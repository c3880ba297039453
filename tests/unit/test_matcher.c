#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "patchwarden/matcher.h"

struct warnings {
	int n;
	char last_where[256];
	char last_msg[512];
};

static void on_warn(void *ctx, const char *where, const char *message)
{
	struct warnings *w = ctx;
	w->n++;
	snprintf(w->last_where, sizeof w->last_where, "%s", where);
	snprintf(w->last_msg, sizeof w->last_msg, "%s", message);
}

static pw_advindex *new_index(struct warnings *w)
{
	pw_advindex *idx = NULL;
	assert_int_equal(pw_advindex_new(&idx, NULL), PW_OK);
	if (w)
		pw_advindex_set_warn(idx, on_warn, w);
	return idx;
}

static void test_add_lookup(void **state)
{
	(void)state;
	struct warnings w = {0};
	pw_advindex *idx = new_index(&w);
	const char *cves[] = {"CVE-2023-1393", "CVE-2023-1393", ""};
	pw_affected af[] = {
		{"debian:11", "xorg-server", true, PW_FIX_FIXED, "2:1.20.11-1+deb11u6", NULL},
		/* the same statement twice in one record is kept once */
		{"debian:11", "xorg-server", true, PW_FIX_FIXED, "2:1.20.11-1+deb11u6", NULL},
		{"debian:10", "xorg-server", true, PW_FIX_NOT_AFFECTED, NULL,
		 "vulnerable code not present"},
	};
	pw_advisory a = {.id = "DSA-5380-1",
			 .source = "debian-list",
			 .summary = "xorg-server",
			 .severity = PW_SEV_HIGH,
			 .cves = cves,
			 .n_cves = 3,
			 .affected = af,
			 .n_affected = 3};
	assert_int_equal(pw_advindex_add(idx, &a, NULL), PW_OK);

	const pw_index_package *p = pw_advindex_lookup(idx, "debian:11", "xorg-server", true);
	assert_non_null(p);
	assert_string_equal(p->ecosystem, "debian:11");
	assert_true(p->by_source);
	assert_int_equal(p->n_fixes, 1);
	assert_string_equal(p->fixes->fixed, "2:1.20.11-1+deb11u6");
	assert_false(p->fixes->modular);
	const pw_index_advisory *adv = p->fixes->adv;
	assert_string_equal(adv->id, "DSA-5380-1");
	assert_string_equal(adv->source, "debian-list");
	assert_int_equal(adv->severity, PW_SEV_HIGH);
	assert_int_equal(adv->n_cves, 1); /* duplicates and empty ids dropped */
	assert_string_equal(adv->cves[0]->id, "CVE-2023-1393");
	assert_true(adv->cves[0]->epss < 0);

	/* Keys are exact: release, name and source-vs-binary all count. */
	assert_null(pw_advindex_lookup(idx, "debian:11", "xorg-server", false));
	assert_null(pw_advindex_lookup(idx, "debian:12", "xorg-server", true));
	assert_null(pw_advindex_lookup(idx, "debian:11", "xorg", true));
	p = pw_advindex_lookup(idx, "debian:10", "xorg-server", true);
	assert_non_null(p);
	assert_int_equal(p->fixes->state, PW_FIX_NOT_AFFECTED);
	assert_null(p->fixes->fixed);
	assert_string_equal(p->fixes->note, "vulnerable code not present");

	assert_true(pw_advindex_has_ecosystem(idx, "debian:11"));
	assert_false(pw_advindex_has_ecosystem(idx, "ubuntu:18.04"));
	assert_int_equal(pw_advindex_snapshot(idx), -1);
	pw_advindex_stats st;
	pw_advindex_get_stats(idx, &st);
	assert_int_equal(st.advisories, 1);
	assert_int_equal(st.packages, 2);
	assert_int_equal(st.fixes, 2);
	assert_int_equal(st.cves, 1);
	assert_int_equal(st.skipped, 0);
	assert_true(st.arena_bytes > 0);
	assert_int_equal(w.n, 0);
	pw_advindex_free(idx);
}

/* The same (source, id) again: new CVEs and statements join the first
 * record, repeated ones do not. */
static void test_merge(void **state)
{
	(void)state;
	pw_advindex *idx = new_index(NULL);
	const char *c1[] = {"CVE-2020-1"}, *c2[] = {"CVE-2020-1", "CVE-2020-2"};
	pw_affected a1[] = {
		{"ubuntu:18.04", "openssl", true, PW_FIX_FIXED, "1.1.1-1ubuntu2.1~18.04.6", NULL}};
	pw_affected a2[] = {{"ubuntu:18.04", "openssl", true, PW_FIX_FIXED,
			     "1.1.1-1ubuntu2.1~18.04.6", NULL},
			    {"ubuntu:18.04", "openssl1.0", true, PW_FIX_UNFIXED, NULL, NULL}};
	pw_advisory a = {.id = "CVE-2020-1",
			 .source = "ubuntu-uct",
			 .cves = c1,
			 .n_cves = 1,
			 .affected = a1,
			 .n_affected = 1};
	assert_int_equal(pw_advindex_add(idx, &a, NULL), PW_OK);
	pw_advisory b = {.id = "CVE-2020-1",
			 .source = "ubuntu-uct",
			 .cves = c2,
			 .n_cves = 2,
			 .affected = a2,
			 .n_affected = 2};
	assert_int_equal(pw_advindex_add(idx, &b, NULL), PW_OK);
	/* Same id from another source is another advisory. */
	pw_advisory c = {.id = "CVE-2020-1",
			 .source = "osv",
			 .cves = c1,
			 .n_cves = 1,
			 .affected = a1,
			 .n_affected = 1};
	assert_int_equal(pw_advindex_add(idx, &c, NULL), PW_OK);

	const pw_index_package *p = pw_advindex_lookup(idx, "ubuntu:18.04", "openssl", true);
	assert_non_null(p);
	assert_int_equal(p->n_fixes, 2);
	assert_string_equal(p->fixes->adv->source, "ubuntu-uct");
	assert_int_equal(p->fixes->adv->n_cves, 2);
	assert_string_equal(p->fixes[1].adv->source, "osv");
	assert_ptr_not_equal(p->fixes->adv, p->fixes[1].adv);
	/* The CVE record is shared. */
	assert_ptr_equal(p->fixes->adv->cves[0], p->fixes[1].adv->cves[0]);
	assert_false(p->interleaved);
	p = pw_advindex_lookup(idx, "ubuntu:18.04", "openssl1.0", true);
	assert_non_null(p);
	assert_int_equal(p->fixes->state, PW_FIX_UNFIXED);
	/* A later statement of the first advisory lands after the second's:
	 * the index says so, scans then sort. */
	pw_affected a3[] = {
		{"ubuntu:18.04", "openssl", true, PW_FIX_FIXED, "1.1.1-1ubuntu2.1~18.04.7", NULL}};
	pw_advisory d = {.id = "CVE-2020-1",
			 .source = "ubuntu-uct",
			 .affected = a3,
			 .n_affected = 1};
	assert_int_equal(pw_advindex_add(idx, &d, NULL), PW_OK);
	p = pw_advindex_lookup(idx, "ubuntu:18.04", "openssl", true);
	assert_int_equal(p->n_fixes, 3);
	assert_true(p->interleaved);
	assert_ptr_equal(p->fixes[0].adv, p->fixes[2].adv);
	pw_advindex_stats st;
	pw_advindex_get_stats(idx, &st);
	assert_int_equal(st.advisories, 2);
	assert_int_equal(st.fixes, 4);
	pw_advindex_free(idx);
}

static void test_bad_statements(void **state)
{
	(void)state;
	struct warnings w = {0};
	pw_advindex *idx = new_index(&w);
	pw_affected af[] = {
		{"debian:11", "foo", true, PW_FIX_FIXED, "1.0 beta",
		 NULL},                                                  /* space: dpkg refuses */
		{"debian:11", "foo", true, PW_FIX_FIXED, "x:1.0", NULL}, /* epoch not a number */
		{"debian:11", "foo", true, PW_FIX_FIXED, NULL, NULL},    /* fixed without version */
		{NULL, "foo", true, PW_FIX_FIXED, "1.0", NULL},          /* no ecosystem */
		{"debian:11", "", true, PW_FIX_FIXED, "1.0", NULL},      /* no package */
		{"alpine:3.10", "bar", false, PW_FIX_FIXED, "1.0-r", NULL}, /* apk refuses */
		{"almalinux:8", "baz", false, PW_FIX_FIXED, "", NULL},      /* rpm: empty */
		{"debian:11", "foo", true, (pw_fix_state)42, NULL, NULL},   /* unknown state */
		{"debian:11", "foo", true, PW_FIX_FIXED, "1.0-1", NULL},    /* the one good one */
	};
	pw_advisory a = {.id = "DSA-1-1",
			 .source = "debian-list",
			 .affected = af,
			 .n_affected = sizeof af / sizeof af[0]};
	assert_int_equal(pw_advindex_add(idx, &a, NULL), PW_OK);
	assert_int_equal(w.n, 8);
	assert_non_null(strstr(w.last_where, "DSA-1-1"));
	assert_non_null(strstr(w.last_where, "foo"));
	assert_non_null(strstr(w.last_msg, "state"));
	const pw_index_package *p = pw_advindex_lookup(idx, "debian:11", "foo", true);
	assert_non_null(p);
	assert_int_equal(p->n_fixes, 1);
	assert_string_equal(p->fixes->fixed, "1.0-1");
	pw_advindex_stats st;
	pw_advindex_get_stats(idx, &st);
	assert_int_equal(st.skipped, 8);

	/* An advisory without id is skipped, not an error. */
	pw_advisory noid = {.source = "osv", .affected = af + 8, .n_affected = 1};
	assert_int_equal(pw_advindex_add(idx, &noid, NULL), PW_OK);
	assert_int_equal(w.n, 9);
	pw_advindex_free(idx);
}

static void test_kev_epss(void **state)
{
	(void)state;
	pw_advindex *idx = new_index(NULL);
	pw_kev_entry k = {"CVE-2021-44228", "2021-12-10", "2021-12-24", "Apache",
			  "Log4j2",         "Log4Shell",  true};
	assert_int_equal(pw_advindex_add_kev(idx, &k, NULL), PW_OK);
	pw_epss_entry e = {"CVE-2021-44228", 0.99999, 1.0};
	assert_int_equal(pw_advindex_add_epss(idx, &e, NULL), PW_OK);
	pw_epss_entry e2 = {"CVE-2020-9999", 0.01, 0.3};
	assert_int_equal(pw_advindex_add_epss(idx, &e2, NULL), PW_OK);
	pw_epss_entry empty = {"", 0.5, 0.5};
	assert_int_equal(pw_advindex_add_epss(idx, &empty, NULL), PW_OK);

	const char *cves[] = {"CVE-2021-44228"};
	pw_affected af[] = {
		{"debian:11", "apache-log4j2", true, PW_FIX_FIXED, "2.15.0-1~deb11u1", NULL}};
	pw_advisory a = {.id = "DSA-5020-1",
			 .source = "debian-list",
			 .cves = cves,
			 .n_cves = 1,
			 .affected = af,
			 .n_affected = 1};
	assert_int_equal(pw_advindex_add(idx, &a, NULL), PW_OK);
	const pw_index_package *p = pw_advindex_lookup(idx, "debian:11", "apache-log4j2", true);
	assert_non_null(p);
	const pw_index_cve *c = p->fixes->adv->cves[0];
	assert_ptr_equal(c, pw_advindex_cve(idx, "CVE-2021-44228"));
	assert_true(c->kev);
	assert_string_equal(c->kev_due, "2021-12-24");
	assert_string_equal(c->kev_added, "2021-12-10");
	assert_true(c->kev_ransomware);
	assert_true(c->epss > 0.9999);
	c = pw_advindex_cve(idx, "CVE-2020-9999");
	assert_non_null(c);
	assert_false(c->kev);
	assert_null(c->kev_due);
	assert_null(pw_advindex_cve(idx, "CVE-1999-0001"));
	pw_advindex_stats st;
	pw_advindex_get_stats(idx, &st);
	assert_int_equal(st.kev, 1);
	assert_int_equal(st.epss, 2);
	pw_advindex_free(idx);
}

/* Parsers can feed the index directly. */
static void test_sink(void **state)
{
	(void)state;
	struct warnings w = {0};
	pw_advindex *idx = new_index(&w);
	pw_feed_sink s = pw_advindex_sink(idx);
	pw_affected af[] = {{"alpine:3.10", "musl", false, PW_FIX_FIXED, "1.1.22-r3", NULL}};
	const char *cves[] = {"CVE-2019-14697"};
	pw_advisory a = {.id = "ALPINE-musl-1.1.22-r3",
			 .source = "alpine-secdb",
			 .cves = cves,
			 .n_cves = 1,
			 .affected = af,
			 .n_affected = 1};
	assert_int_equal(s.advisory(s.ctx, &a, NULL), PW_OK);
	pw_kev_entry k = {.cve = "CVE-2019-14697", .due_date = "2022-01-01"};
	assert_int_equal(s.kev(s.ctx, &k, NULL), PW_OK);
	pw_epss_entry e = {"CVE-2019-14697", 0.02, 0.8};
	assert_int_equal(s.epss(s.ctx, &e, NULL), PW_OK);
	s.warn(s.ctx, "main.yaml:12", "bad key");
	assert_int_equal(w.n, 1);
	assert_string_equal(w.last_where, "main.yaml:12");
	pw_advindex_stats st;
	pw_advindex_get_stats(idx, &st);
	assert_int_equal(st.warnings, 1);
	assert_int_equal(st.kev, 1);
	assert_int_equal(st.epss, 1);
	assert_true(
		pw_advindex_lookup(idx, "alpine:3.10", "musl", false)->fixes->adv->cves[0]->kev);
	pw_advindex_free(idx);
}

static void add_alma(pw_advindex *idx, const char *id, const char *summary, const char *pkg,
		     const char *const *fixed, size_t n)
{
	pw_affected af[8];
	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		pw_affected a = {"almalinux:8", pkg, false, PW_FIX_FIXED, fixed[i], NULL};
		af[i] = a;
	}
	pw_advisory a = {.id = id,
			 .source = "osv",
			 .summary = summary,
			 .affected = af,
			 .n_affected = n};
	assert_int_equal(pw_advindex_add(idx, &a, NULL), PW_OK);
}

/* Stream depth comes from real AlmaLinux 8 summaries and fixed versions. */
static void test_module_streams(void **state)
{
	(void)state;
	pw_advindex *idx = new_index(NULL);
	const char *pg[] = {"12.9-1.module_el8.5.0+2606+4554acc4"};
	add_alma(idx, "ALSA-2022:0009", "Moderate: postgresql:12 security update", "postgresql", pg,
		 1);
	const char *ngx[] = {"1:1.14.1-9.module_el8.3.0+2165+af250afe.alma"};
	add_alma(idx, "ALSA-2021:0778", "Important: nginx:1.14 security update", "nginx", ngx, 1);
	const char *serf[] = {"1.3.9-9.module_el8.3.0+2053+ac338b6d",
			      "1.3.9-9.module_el8.6.0+2912+eb1cdf5a",
			      "1.3.9-9.module_el8.4.0+2266+ac338b6d"};
	add_alma(idx, "ALSA-2021:0507", "Important: subversion:1.10 security update", "libserf",
		 serf, 3);
	const char *maria[] = {"3:10.3.28-1.module_el8.3.0+2177+7adc332a"};
	add_alma(idx, "ALSA-2021:1242",
		 "Important: mariadb:10.3 and mariadb-devel:10.3 security update", "mariadb", maria,
		 1);
	const char *bash[] = {"4.4.20-1.el8_4"};
	add_alma(idx, "ALSA-2021:4000", "Low: bash security update", "bash", bash, 1);

	const pw_index_package *p = pw_advindex_lookup(idx, "almalinux:8", "postgresql", false);
	assert_int_equal(p->stream_depth, 1);
	assert_true(p->fixes->modular);
	p = pw_advindex_lookup(idx, "almalinux:8", "nginx", false);
	assert_int_equal(p->stream_depth, 2);
	p = pw_advindex_lookup(idx, "almalinux:8", "mariadb", false);
	assert_int_equal(p->stream_depth, 2);
	/* libserf 1.3.9 is not "1.10": nothing learnt; three builds kept. */
	p = pw_advindex_lookup(idx, "almalinux:8", "libserf", false);
	assert_int_equal(p->stream_depth, 0);
	assert_int_equal(p->n_fixes, 3);
	p = pw_advindex_lookup(idx, "almalinux:8", "bash", false);
	assert_false(p->fixes->modular);
	assert_int_equal(p->stream_depth, 0);
	pw_advindex_free(idx);
}

static void test_rpm_helpers(void **state)
{
	(void)state;
	assert_true(pw_rpm_is_modular("13.18-1.module+el8.10.0+22549+cf2ec3d9"));
	assert_true(pw_rpm_is_modular("1:14.18.2-2.module_el8.5.0+254+b4526b16"));
	assert_false(pw_rpm_is_modular("4.4.20-1.el8_4"));
	assert_false(pw_rpm_is_modular("1.0-1.modules"));
	assert_false(pw_rpm_is_modular(NULL));

	assert_true(pw_rpm_same_stream("12.9-1.module_el8", "12.22-9.module_el8", 1));
	assert_false(pw_rpm_same_stream("12.9-1.module_el8", "13.5-1.module_el8", 1));
	assert_true(pw_rpm_same_stream("9.6.22-1.module", "9.6-1", 0));
	assert_true(
		pw_rpm_same_stream("1:1.14.1-9.module", "1.14.0-1.module", 2)); /* epochs ignored */
	assert_false(pw_rpm_same_stream("1:1.14.1-9.module", "1:1.16.1-2.module", 2));
	assert_true(pw_rpm_same_stream("1:1.14.1-9.module", "1:1.16.1-2.module", 1));
	assert_true(pw_rpm_same_stream("1:14.18.2-2.module", "1:14.20.0-2.module", 0));
	/* Components are whole: 1.1 is not a prefix stream of 1.10. */
	assert_false(pw_rpm_same_stream("1.1.5-1", "1.10.2-1", 2));
	assert_true(pw_rpm_same_stream("5-1", "5-2", 2));
}

/* Many advisories for one package stay cheap to add (no list walks). */
static void test_many(void **state)
{
	(void)state;
	pw_advindex *idx = new_index(NULL);
	char id[32], cve[32], fixed[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(id, sizeof id, "CVE-2020-%d", i);
		snprintf(cve, sizeof cve, "CVE-2020-%d", i);
		snprintf(fixed, sizeof fixed, "4.15.0-%d.%d", i % 200, i);
		const char *cves[] = {cve};
		pw_affected af[] = {{"ubuntu:18.04", "linux", true, PW_FIX_FIXED, fixed, NULL},
				    {"ubuntu:18.04", "linux-hwe", true, PW_FIX_UNFIXED, NULL,
				     NULL}};
		pw_advisory a = {.id = id,
				 .source = "ubuntu-uct",
				 .cves = cves,
				 .n_cves = 1,
				 .affected = af,
				 .n_affected = 2};
		assert_int_equal(pw_advindex_add(idx, &a, NULL), PW_OK);
	}
	const pw_index_package *p = pw_advindex_lookup(idx, "ubuntu:18.04", "linux", true);
	assert_int_equal(p->n_fixes, 20000);
	assert_string_equal(p->fixes[0].adv->id, "CVE-2020-0");
	assert_string_equal(p->fixes[19999].adv->id, "CVE-2020-19999");
	assert_false(p->interleaved);
	assert_non_null(pw_advindex_cve(idx, "CVE-2020-19999"));
	pw_advindex_stats st;
	pw_advindex_get_stats(idx, &st);
	assert_int_equal(st.advisories, 20000);
	assert_int_equal(st.cves, 20000);
	assert_int_equal(st.packages, 2);
	pw_advindex_free(idx);
}

/* ---- loading from the feed store ---- */

static const char dsa_list[] = "[01 Mar 2023] DSA-9001-1 bash - security update\n"
			       "\t{CVE-2099-0001}\n"
			       "\t[bullseye] - bash 5.1-2+deb11u1\n"
			       "[02 Mar 2023] DSA-9002-1 curl - security update\n"
			       "\t{CVE-2021-22205 CVE-2099-0002}\n"
			       "\t[bullseye] - curl 7.74.0-1.3+deb11u9\n"
			       "\t[buster] - curl 7.64.0-4+deb10u9\n"
			       "[03 Mar 2023] DSA-9003-1 nginx - security update\n"
			       "\t{CVE-2099-0003}\n"
			       "\t[bullseye] - nginx 1.18.0-6.1+deb11u4\n";

static const char kev_json[] =
	"{\"title\":\"CISA Catalog of Known Exploited Vulnerabilities\",\"catalogVersion\":\"1\","
	"\"dateReleased\":\"2025-08-25T00:00:00.000Z\",\"count\":1,\"vulnerabilities\":["
	"{\"cveID\":\"CVE-2021-22205\",\"vendorProject\":\"GitLab\",\"product\":\"GitLab\","
	"\"vulnerabilityName\":\"x\",\"dateAdded\":\"2021-11-03\",\"shortDescription\":\"x\","
	"\"requiredAction\":\"x\",\"dueDate\":\"2021-11-17\",\"knownRansomwareCampaignUse\":"
	"\"Unknown\","
	"\"notes\":\"\",\"cwes\":[]}]}";

static const char epss_csv[] = "CVE-2099-0001;0.200000000;0.950000000\n"
			       "CVE-2099-0003;0.010000000;0.500000000\n"
			       "CVE-2020-0001;0.500000000;0.990000000\n";

static int64_t import(pw_feedstore *s, const char *const *bufs, const char *const *names, size_t n)
{
	pw_feed_import *imp = NULL;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_feed_import_begin(s, "test", &imp, &e), PW_OK);
	for (size_t i = 0; i < n; i++)
		if (pw_feed_import_buffer(imp, bufs[i], strlen(bufs[i]), names[i], &e))
			fail_msg("import %s: %s", names[i], pw_error_text(&e));
	int64_t snap = 0;
	pw_import_stats st;
	assert_int_equal(pw_feed_import_commit(imp, &snap, &st, &e), PW_OK);
	return snap;
}

static void test_load(void **state)
{
	(void)state;
	char path[] = "/tmp/pw-matcher-store-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	pw_feedstore *s = NULL;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_open(path, &s, &e), PW_OK);
	const char *bufs[] = {dsa_list, kev_json, epss_csv};
	const char *names[] = {"DSA/list", "kev.json", "epss.csv"};
	int64_t snap = import(s, bufs, names, 3);

	/* Only the packages of one host: bash (and its source). */
	pw_inventory inv = PW_INVENTORY_INIT;
	inv.n_pkgs = inv.cap_pkgs = 1;
	inv.pkgs = calloc(1, sizeof *inv.pkgs);
	inv.pkgs[0].name = strdup("bash");
	inv.pkgs[0].source = strdup("bash");
	pw_advindex *idx = new_index(NULL);
	assert_int_equal(pw_advindex_load(idx, s, snap, "debian:11", &inv, &e), PW_OK);
	assert_int_equal(pw_advindex_snapshot(idx), snap);
	assert_true(pw_advindex_has_ecosystem(idx, "debian:11"));
	assert_non_null(pw_advindex_lookup(idx, "debian:11", "bash", true));
	assert_null(pw_advindex_lookup(idx, "debian:11", "curl", true));
	pw_advindex_stats st;
	pw_advindex_get_stats(idx, &st);
	assert_int_equal(st.advisories, 1);
	assert_int_equal(st.kev, 1);  /* the whole catalogue */
	assert_int_equal(st.epss, 1); /* of the CVEs loaded */
	assert_true(pw_advindex_cve(idx, "CVE-2099-0001")->epss > 0.19);
	assert_null(pw_advindex_cve(idx, "CVE-2020-0001"));

	/* Then everything of the release; loading it again adds nothing. */
	assert_int_equal(pw_advindex_load(idx, s, snap, "debian:11", NULL, &e), PW_OK);
	assert_int_equal(pw_advindex_load(idx, s, snap, "debian:11", NULL, &e), PW_OK);
	pw_advindex_get_stats(idx, &st);
	assert_int_equal(st.advisories, 3);
	assert_int_equal(st.fixes, 3);
	assert_true(pw_advindex_cve(idx, "CVE-2021-22205")->kev);
	assert_int_equal(pw_advindex_lookup(idx, "debian:11", "bash", true)->n_fixes, 1);

	/* A release the store has nothing for. */
	assert_int_equal(pw_advindex_load(idx, s, snap, "debian:12", &inv, &e), PW_OK);
	assert_false(pw_advindex_has_ecosystem(idx, "debian:12"));
	/* A release it has, but not for this host's packages. */
	free(inv.pkgs[0].name);
	free(inv.pkgs[0].source);
	inv.pkgs[0].name = strdup("zsh");
	inv.pkgs[0].source = strdup("zsh");
	assert_int_equal(pw_advindex_load(idx, s, snap, "debian:10", &inv, &e), PW_OK);
	assert_true(pw_advindex_has_ecosystem(idx, "debian:10"));
	assert_null(pw_advindex_lookup(idx, "debian:10", "curl", true));

	/* One index, one snapshot. */
	const char *more[] = {epss_csv};
	const char *more_names[] = {"epss2.csv"};
	int64_t snap2 = import(s, more, more_names, 1);
	assert_int_equal(pw_advindex_load(idx, s, snap2, "debian:11", NULL, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "snapshot"));
	pw_advindex_free(idx);

	/* EPSS left out, then fetched for chosen CVEs. */
	idx = new_index(NULL);
	pw_advindex_defer_epss(idx, true);
	assert_int_equal(pw_advindex_load(idx, s, snap, "debian:11", NULL, &e), PW_OK);
	assert_true(pw_advindex_cve(idx, "CVE-2099-0001")->epss < 0);
	const char *want[] = {"CVE-2099-0001", "CVE-1999-9999"};
	assert_int_equal(pw_advindex_load_epss(idx, s, want, 2, &e), PW_OK);
	assert_true(pw_advindex_cve(idx, "CVE-2099-0001")->epss > 0.19);
	assert_true(pw_advindex_cve(idx, "CVE-2099-0003")->epss < 0);
	pw_advindex_free(idx);
	idx = new_index(NULL);
	assert_int_equal(pw_advindex_load_epss(idx, s, want, 1, &e), PW_ERR_INVALID);
	/* A snapshot that does not exist. */
	assert_int_not_equal(pw_advindex_load(idx, s, 99, "debian:11", NULL, &e), PW_OK);
	pw_advindex_free(idx);

	pw_inventory_release(&inv);
	pw_feedstore_close(s);
	unlink(path);
	char side[64];
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_lookup),     cmocka_unit_test(test_merge),
		cmocka_unit_test(test_bad_statements), cmocka_unit_test(test_kev_epss),
		cmocka_unit_test(test_sink),           cmocka_unit_test(test_module_streams),
		cmocka_unit_test(test_rpm_helpers),    cmocka_unit_test(test_many),
		cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
