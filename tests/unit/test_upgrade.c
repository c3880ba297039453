/* A scan's findings grouped by package upgrade (upgrade.h): one upgrade
 * per package, its target the highest fixed version by the ecosystem's
 * own order. The expected orders were checked with
 * `dpkg --compare-versions` and rpm's rpm.vercmp (apk's by its rules:
 * numeric components, -rN revisions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "patchwarden/upgrade.h"

static pw_index_cve cve1 = {"CVE-2024-0001", true, "2024-01-01", "2024-02-01", false, -1, -1};
static pw_index_cve cve2 = {"CVE-2024-0002", false, NULL, NULL, false, -1, -1};
static pw_index_cve cve3 = {"CVE-2024-0003", true, "2024-01-01", "2024-01-20", false, -1, -1};
static pw_index_cve cve9 = {"CVE-2024-0009", true, "2023-12-01", "2024-01-10", false, -1, -1};

static const pw_index_cve *const cves_1_2[] = {&cve1, &cve2};
static const pw_index_cve *const cves_2_3[] = {&cve2, &cve3};
static const pw_index_cve *const cves_9[] = {&cve9};

static pw_index_advisory adv(const char *id, const pw_index_cve *const *cves, size_t n)
{
	pw_index_advisory a = {0};
	a.id = id;
	a.cves = cves;
	a.n_cves = n;
	return a;
}

static pw_package libssl3 = {"libssl3", "3.0.0-1", "amd64", "openssl", "3.0.0-1", "installed"};
static pw_package openssl = {"openssl", "3.0.1-1", "amd64", "openssl", "3.0.1-1", "installed"};
static pw_package curl = {"curl", "7.88.1-10", "amd64", "curl", "7.88.1-10", "installed"};
static pw_package libcurl = {"libcurl4", "7.88.1-10", "amd64", "curl", "7.88.1-10", "installed"};
static pw_package zlib = {"zlib1g", "1.2.9-1", "amd64", "zlib", "1.2.9-1", "installed"};

static const pw_package *const bins_ssl[] = {&libssl3, &openssl};
static const pw_package *const bins_libssl[] = {&libssl3};
static const pw_package *const bins_curl[] = {&curl, &libcurl};
static const pw_package *const bins_zlib[] = {&zlib};

static pw_finding finding(const char *pkg, const char *installed, const char *fixed,
			  const pw_index_advisory *a, pw_priority p, int sla,
			  const pw_package *const *bins, size_t nb)
{
	pw_finding f = {0};
	f.package = pkg;
	f.by_source = true;
	f.installed = installed;
	f.fixed = fixed;
	f.adv = a;
	f.cves = a->cves;
	f.n_cves = a->n_cves;
	f.binaries = bins;
	f.n_binaries = nb;
	f.priority = p;
	f.sla_days = sla;
	return f;
}

/* pw_scan_upgrades() of n findings of `ecosystem`, which must succeed. */
static pw_scan_upgrade_list group(const char *ecosystem, pw_finding *f, size_t n)
{
	pw_scan_result r = PW_SCAN_RESULT_INIT;
	snprintf(r.ecosystem, sizeof r.ecosystem, "%s", ecosystem);
	r.findings = f;
	r.n_findings = n;
	pw_scan_upgrade_list l = PW_UPGRADE_LIST_INIT;
	assert_int_equal(pw_scan_upgrades(&r, &l, NULL), PW_OK);
	return l;
}

/* Debian: 3.0.10-1~deb12u1 > 3.0.10~rc1-1 > 3.0.9-1 (so "~" sorts
 * first, and 10 > 9 as numbers); the epoch of 1:1.2.13 puts it above
 * 1.2.99-1; installed 1.2.9-1 < 1.2.10-1. */
static void debian_groups(void **state)
{
	(void)state;
	pw_index_advisory a = adv("DSA-1", cves_1_2, 2), b = adv("DSA-2", cves_2_3, 2),
			  c = adv("DSA-3", cves_2_3, 1), d = adv("DSA-4", cves_9, 1),
			  e = adv("DSA-5", NULL, 0), g = adv("DSA-6", NULL, 0);
	pw_finding f[] = {
		finding("curl", "7.88.1-10", "7.88.1-10+deb12u5", &d, PW_PRIO_EMERGENCY, 2,
			bins_curl, 2),
		finding("openssl", "3.0.1-1", "3.0.9-1", &a, PW_PRIO_HIGH, 14, bins_ssl, 2),
		finding("zlib", "1.2.10-1", "1:1.2.13", &e, PW_PRIO_HIGH, 14, bins_zlib, 1),
		finding("openssl", "3.0.0-1", "3.0.10-1~deb12u1", &b, PW_PRIO_NORMAL, 30,
			bins_libssl, 1),
		finding("openssl", "3.0.1-1", "3.0.10~rc1-1", &c, PW_PRIO_NORMAL, 30, bins_libssl,
			1),
		finding("zlib", "1.2.9-1", "1.2.99-1", &g, PW_PRIO_LOW, 90, bins_zlib, 1),
	};
	pw_scan_upgrade_list l = group("debian:12", f, sizeof f / sizeof f[0]);
	assert_int_equal(l.n, 3);

	assert_string_equal(l.v[0].package, "curl");
	assert_int_equal(l.v[0].priority, PW_PRIO_EMERGENCY);
	assert_int_equal(l.v[0].n_binaries, 2);
	assert_string_equal(l.v[0].kev_due, "2024-01-10");

	const pw_scan_upgrade *o = &l.v[1];
	assert_string_equal(o->package, "openssl");
	assert_true(o->by_source);
	assert_string_equal(o->installed, "3.0.0-1");
	assert_string_equal(o->target, "3.0.10-1~deb12u1");
	assert_int_equal(o->n_findings, 3);
	assert_string_equal(o->findings[0]->adv->id, "DSA-1");
	assert_string_equal(o->findings[2]->adv->id, "DSA-3");
	assert_int_equal(o->n_cves, 3); /* CVE-2024-0002 once */
	assert_string_equal(o->cves[0], "CVE-2024-0001");
	assert_string_equal(o->cves[2], "CVE-2024-0003");
	assert_int_equal(o->n_binaries, 2); /* libssl3 once */
	assert_string_equal(o->binaries[0]->name, "libssl3");
	assert_string_equal(o->binaries[1]->name, "openssl");
	assert_int_equal(o->priority, PW_PRIO_HIGH);
	assert_int_equal(o->sla_days, 14);
	assert_true(o->kev);
	assert_string_equal(o->kev_due, "2024-01-20"); /* the earlier of two */

	const pw_scan_upgrade *z = &l.v[2];
	assert_string_equal(z->package, "zlib");
	assert_string_equal(z->target, "1:1.2.13");
	assert_string_equal(z->installed, "1.2.9-1");
	assert_false(z->kev);
	assert_null(z->kev_due);
	assert_int_equal(z->n_cves, 0);
	pw_scan_upgrade_list_release(&l);
	assert_null(l.v);
}

/* rpm: 5.14.0-284.11.1.el9_2 > 5.14.0-70.13.1.el9_0, 1:1.0-1 > 2.0-1;
 * a binary package of the same name as a source is its own upgrade. */
static void rpm_order(void **state)
{
	(void)state;
	pw_index_advisory a = adv("ALSA-1", NULL, 0), b = adv("ALSA-2", NULL, 0),
			  c = adv("ALSA-3", NULL, 0), d = adv("ALSA-4", NULL, 0);
	pw_finding f[] = {
		finding("kernel", "5.14.0-70.1.1.el9_0", "5.14.0-70.13.1.el9_0", &a, PW_PRIO_NORMAL,
			30, NULL, 0),
		finding("kernel", "5.14.0-70.1.1.el9_0", "5.14.0-284.11.1.el9_2", &b,
			PW_PRIO_NORMAL, 30, NULL, 0),
		finding("tool", "0.9-1", "1:1.0-1", &c, PW_PRIO_LOW, 90, NULL, 0),
		finding("tool", "0.9-1", "2.0-1", &d, PW_PRIO_LOW, 90, NULL, 0),
	};
	f[0].by_source = f[1].by_source = f[2].by_source = false;
	pw_scan_upgrade_list l = group("almalinux:9", f, 4);
	assert_int_equal(l.n, 3); /* f[3] is by source: another key */
	assert_string_equal(l.v[0].target, "5.14.0-284.11.1.el9_2");
	assert_string_equal(l.v[1].package, "tool");
	assert_false(l.v[1].by_source);
	assert_string_equal(l.v[1].target, "1:1.0-1");
	assert_true(l.v[2].by_source);
	assert_string_equal(l.v[2].target, "2.0-1");
	pw_scan_upgrade_list_release(&l);
}

/* apk: 1.2.10-r0 > 1.2.9-r0, 1.2.9-r10 > 1.2.9-r9. */
static void apk_order(void **state)
{
	(void)state;
	pw_index_advisory a = adv("A-1", NULL, 0), b = adv("A-2", NULL, 0), c = adv("A-3", NULL, 0),
			  d = adv("A-4", NULL, 0);
	pw_finding f[] = {
		finding("musl", "1.2.8-r0", "1.2.10-r0", &a, PW_PRIO_HIGH, 14, NULL, 0),
		finding("musl", "1.2.8-r0", "1.2.9-r0", &b, PW_PRIO_HIGH, 14, NULL, 0),
		finding("busybox", "1.2.9-r1", "1.2.9-r9", &c, PW_PRIO_NORMAL, 30, NULL, 0),
		finding("busybox", "1.2.9-r1", "1.2.9-r10", &d, PW_PRIO_NORMAL, 30, NULL, 0),
	};
	pw_scan_upgrade_list l = group("alpine:3.18", f, 4);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].target, "1.2.10-r0");
	assert_string_equal(l.v[1].target, "1.2.9-r10");
	pw_scan_upgrade_list_release(&l);
}

/* No findings: an empty list, nothing to release. */
static void empty(void **state)
{
	(void)state;
	pw_scan_upgrade_list l = group("debian:12", NULL, 0);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	pw_scan_upgrade_list_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(debian_groups),
		cmocka_unit_test(rpm_order),
		cmocka_unit_test(apk_order),
		cmocka_unit_test(empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
