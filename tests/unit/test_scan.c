/* Scans of inventories built here against advisories built here: the
 * matching rules one by one. The data-driven cases over real feeds are
 * in test_scan_cases.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "patchwarden/feedstore.h"
#include "patchwarden/fileio.h"
#include "patchwarden/scan.h"

/* ---- building inventories and advisories ---- */

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void inv_os(pw_inventory *inv, const char *id, const char *version_id)
{
	inv->os_id = strdup(id);
	inv->os_version_id = strdup(version_id);
}

static void add_pkg(pw_inventory *inv, const char *name, const char *version, const char *source,
		    const char *source_version)
{
	if (inv->n_pkgs == inv->cap_pkgs) {
		inv->cap_pkgs = inv->cap_pkgs ? inv->cap_pkgs * 2 : 16;
		inv->pkgs = realloc(inv->pkgs, inv->cap_pkgs * sizeof *inv->pkgs);
		assert_non_null(inv->pkgs);
	}
	pw_package *p = &inv->pkgs[inv->n_pkgs++];
	memset(p, 0, sizeof *p);
	p->name = strdup(name);
	p->version = strdup(version);
	p->arch = strdup("amd64");
	p->source = dup_or_null(source);
	p->source_version = dup_or_null(source_version ? source_version : version);
	p->status = strdup("install ok installed");
}

static void add_adv(pw_advindex *idx, const char *id, const char *cve, const char *eco,
		    const char *pkg, bool by_source, pw_fix_state state, const char *fixed)
{
	const char *cves[] = {cve};
	pw_affected af = {eco,   pkg,   by_source,
			  state, fixed, state == PW_FIX_UNFIXED ? "work in progress" : NULL};
	pw_advisory a = {.id = id,
			 .source = "test",
			 .cves = cves,
			 .n_cves = cve ? 1 : 0,
			 .severity = PW_SEV_MEDIUM,
			 .attack_vector = PW_AV_NETWORK,
			 .affected = &af,
			 .n_affected = 1};
	assert_int_equal(pw_advindex_add(idx, &a, NULL), PW_OK);
}

static pw_advindex *new_index(void)
{
	pw_advindex *idx = NULL;
	assert_int_equal(pw_advindex_new(&idx, NULL), PW_OK);
	return idx;
}

static pw_policy policy(void)
{
	pw_policy p;
	pw_policy_defaults(&p);
	return p;
}

static void scan(const pw_advindex *idx, const pw_inventory *inv, const pw_scan_host *host,
		 pw_scan_result *r)
{
	pw_policy p = policy();
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_scan_inventory(idx, inv, host, &p, r, &e);
	if (rc)
		fail_msg("scan failed: %s", pw_error_text(&e));
}

/* "package installed fixed advisory" lines, sorted, as the cases use. */
static char *summary(const pw_scan_result *r)
{
	pw_buf b = PW_BUF_INIT;
	for (size_t i = 0; i < r->n_findings; i++)
		pw_buf_printf(&b, "%s %s %s %s\n", r->findings[i].package, r->findings[i].installed,
			      r->findings[i].fixed, r->findings[i].adv->id);
	for (size_t i = 0; i < r->n_unfixed; i++)
		pw_buf_printf(&b, "unfixed %s %s %s\n", r->unfixed[i].package,
			      r->unfixed[i].installed, r->unfixed[i].adv->id);
	for (size_t i = 0; i < r->n_inactive; i++)
		if (r->inactive[i].kind == PW_INACTIVE_REBOOT)
			pw_buf_printf(&b, "reboot %s %s->%s %zu\n",
				      r->inactive[i].package ? r->inactive[i].package : "-",
				      r->inactive[i].running_version
					      ? r->inactive[i].running_version
					      : "-",
				      r->inactive[i].installed ? r->inactive[i].installed : "-",
				      r->inactive[i].n_advs);
	return pw_buf_detach(&b);
}

static void expect(const pw_scan_result *r, const char *want)
{
	char *got = summary(r);
	if (strcmp(got ? got : "", want) != 0)
		fail_msg("scan result differs.\n--- want\n%s--- got\n%s", want, got ? got : "");
	free(got);
}

/* ---- Debian / Ubuntu: by source ---- */

static void test_deb_by_source(void **state)
{
	(void)state;
	pw_advindex *idx = new_index();
	add_adv(idx, "DSA-1-1", "CVE-2022-1", "debian:11", "openssl", true, PW_FIX_FIXED,
		"1.1.1n-0+deb11u2");
	add_adv(idx, "DSA-2-1", "CVE-2022-2", "debian:11", "openssl", true, PW_FIX_FIXED,
		"1.1.1n-0+deb11u4");
	add_adv(idx, "DSA-3-1", "CVE-2022-3", "debian:11", "openssl", true, PW_FIX_FIXED,
		"1.1.1n-0+deb11u5");
	/* Another release's fix does not apply (backports). */
	add_adv(idx, "DSA-4-1", "CVE-2022-4", "debian:10", "openssl", true, PW_FIX_FIXED,
		"1.1.1n-0+deb10u9");
	/* gcc-8's libgcc1 has epoch 1 only in its binary version. */
	add_adv(idx, "DLA-5-1", "CVE-2022-5", "debian:11", "gcc-8", true, PW_FIX_FIXED, "8.3.0-7");
	/* A binNMU: binary 1.2-3+b1 of source 1.2-3. */
	add_adv(idx, "DSA-6-1", "CVE-2022-6", "debian:11", "zlib", true, PW_FIX_FIXED,
		"1:1.2.11.dfsg-2+deb11u1");
	add_adv(idx, "DSA-7-1", "CVE-2022-7", "debian:11", "bash", true, PW_FIX_FIXED, "5.1-2");
	/* States that are not missing fixes. */
	add_adv(idx, "CVE-2022-8", "CVE-2022-8", "debian:11", "bash", true, PW_FIX_NOT_AFFECTED,
		NULL);
	add_adv(idx, "CVE-2022-9", "CVE-2022-9", "debian:11", "bash", true, PW_FIX_DNE, NULL);
	add_adv(idx, "CVE-2022-10", "CVE-2022-10", "debian:11", "bash", true, PW_FIX_IGNORED, NULL);
	add_adv(idx, "CVE-2022-11", "CVE-2022-11", "debian:11", "bash", true, PW_FIX_UNFIXED, NULL);
	add_adv(idx, "CVE-2022-12", "CVE-2022-12", "debian:11", "vim", true, PW_FIX_UNFIXED, NULL);

	pw_inventory inv = PW_INVENTORY_INIT;
	inv_os(&inv, "debian", "11");
	add_pkg(&inv, "libssl1.1", "1.1.1n-0+deb11u3", "openssl", NULL);
	add_pkg(&inv, "openssl", "1.1.1n-0+deb11u3", NULL, NULL);
	add_pkg(&inv, "libgcc1", "1:8.3.0-6", "gcc-8", "8.3.0-6");
	add_pkg(&inv, "zlib1g", "1:1.2.11.dfsg-2+b1", "zlib", "1:1.2.11.dfsg-2");
	add_pkg(&inv, "bash", "5.1-2", NULL, NULL);
	pw_scan_result r = PW_SCAN_RESULT_INIT;
	scan(idx, &inv, NULL, &r);
	assert_string_equal(r.ecosystem, "debian:11");
	expect(&r, "gcc-8 8.3.0-6 8.3.0-7 DLA-5-1\n"
		   "openssl 1.1.1n-0+deb11u3 1.1.1n-0+deb11u4 DSA-2-1\n"
		   "openssl 1.1.1n-0+deb11u3 1.1.1n-0+deb11u5 DSA-3-1\n"
		   "zlib 1:1.2.11.dfsg-2 1:1.2.11.dfsg-2+deb11u1 DSA-6-1\n"
		   "unfixed bash 5.1-2 CVE-2022-11\n");
	/* Both binaries of openssl are listed on its findings. */
	const pw_finding *f = &r.findings[1];
	assert_string_equal(f->package, "openssl");
	assert_true(f->by_source);
	assert_int_equal(f->n_binaries, 2);
	assert_int_equal(f->n_cves, 1);
	assert_string_equal(f->cves[0]->id, "CVE-2022-2");
	assert_int_equal(r.counts[PW_PRIO_NORMAL], 4);
	assert_int_equal(r.unfixed[0].n_binaries, 1);
	assert_string_equal(r.unfixed[0].note, "work in progress");
	pw_scan_result_release(&r);
	pw_scan_result_release(&r); /* released results are empty */

	/* A partial upgrade: only the binary still old is concerned. */
	free(inv.pkgs[0].version);
	free(inv.pkgs[0].source_version);
	inv.pkgs[0].version = strdup("1.1.1n-0+deb11u5");
	inv.pkgs[0].source_version = strdup("1.1.1n-0+deb11u5");
	scan(idx, &inv, NULL, &r);
	assert_string_equal(r.findings[1].package, "openssl");
	assert_int_equal(r.findings[1].n_binaries, 1);
	assert_string_equal(r.findings[1].binaries[0]->name, "openssl");
	pw_scan_result_release(&r);
	pw_inventory_release(&inv);
	pw_advindex_free(idx);
}

/* The same advisory reached by source and by binary name is one finding. */
static void test_merge_same_advisory(void **state)
{
	(void)state;
	pw_advindex *idx = new_index();
	const char *c1[] = {"CVE-2020-1"}, *c2[] = {"CVE-2020-2"};
	pw_affected a1 = {"ubuntu:18.04", "curl", true, PW_FIX_FIXED, "7.58.0-2ubuntu3.9", NULL};
	pw_affected a2 = {"ubuntu:18.04", "curl", false, PW_FIX_FIXED, "7.58.0-2ubuntu3.10", NULL};
	pw_advisory x = {.id = "USN-4466-1",
			 .source = "uct",
			 .cves = c1,
			 .n_cves = 1,
			 .affected = &a1,
			 .n_affected = 1};
	pw_advisory y = {.id = "USN-4466-1",
			 .source = "osv",
			 .cves = c2,
			 .n_cves = 1,
			 .affected = &a2,
			 .n_affected = 1};
	assert_int_equal(pw_advindex_add(idx, &x, NULL), PW_OK);
	assert_int_equal(pw_advindex_add(idx, &y, NULL), PW_OK);
	pw_inventory inv = PW_INVENTORY_INIT;
	inv_os(&inv, "ubuntu", "18.04");
	add_pkg(&inv, "curl", "7.58.0-2ubuntu3.8", NULL, NULL);
	pw_scan_result r = PW_SCAN_RESULT_INIT;
	scan(idx, &inv, NULL, &r);
	expect(&r, "curl 7.58.0-2ubuntu3.8 7.58.0-2ubuntu3.10 USN-4466-1\n");
	assert_int_equal(r.findings[0].n_cves, 2);
	assert_int_equal(r.findings[0].n_binaries, 1);
	pw_scan_result_release(&r);

	/* Statements of one advisory that are not adjacent in the index
	 * (added by a later merge) still make one verdict. */
	pw_affected a3 = {"ubuntu:18.04", "curl", true, PW_FIX_FIXED, "7.58.0-2ubuntu3.7", NULL};
	pw_affected a4 = {"ubuntu:18.04", "curl", true, PW_FIX_FIXED, "7.58.0-2ubuntu3.9", NULL};
	pw_advisory z = {.id = "USN-9-1", .source = "uct", .affected = &a3, .n_affected = 1};
	pw_advisory z2 = {.id = "USN-9-1", .source = "uct", .affected = &a4, .n_affected = 1};
	pw_advisory other = {.id = "USN-10-1", .source = "uct", .affected = &a4, .n_affected = 1};
	assert_int_equal(pw_advindex_add(idx, &z, NULL), PW_OK);
	assert_int_equal(pw_advindex_add(idx, &other, NULL), PW_OK);
	assert_int_equal(pw_advindex_add(idx, &z2, NULL), PW_OK);
	assert_true(pw_advindex_lookup(idx, "ubuntu:18.04", "curl", true)->interleaved);
	scan(idx, &inv, NULL, &r);
	expect(&r, "curl 7.58.0-2ubuntu3.8 7.58.0-2ubuntu3.9 USN-10-1\n"
		   "curl 7.58.0-2ubuntu3.8 7.58.0-2ubuntu3.10 USN-4466-1\n"
		   "curl 7.58.0-2ubuntu3.8 7.58.0-2ubuntu3.9 USN-9-1\n");
	pw_scan_result_release(&r);
	pw_inventory_release(&inv);
	pw_advindex_free(idx);
}

/* ---- RPM: epochs and module streams (real AlmaLinux 8 versions) ---- */

static void add_alma(pw_advindex *idx, const char *id, const char *summary, const char *pkg,
		     const char *const *fixed, size_t n)
{
	pw_affected af[4];
	for (size_t i = 0; i < n; i++) {
		pw_affected a = {"almalinux:8", pkg, false, PW_FIX_FIXED, fixed[i], NULL};
		af[i] = a;
	}
	pw_advisory a = {.id = id,
			 .source = "osv",
			 .summary = summary,
			 .severity = PW_SEV_HIGH,
			 .affected = af,
			 .n_affected = n};
	assert_int_equal(pw_advindex_add(idx, &a, NULL), PW_OK);
}

static void test_rpm_epoch(void **state)
{
	(void)state;
	pw_advindex *idx = new_index();
	const char *bash[] = {"0:4.4.20-1.el8_4"};
	add_alma(idx, "ALSA-2021:4000", "Low: bash security update", "bash", bash, 1);
	const char *shim[] = {"15.4-2.el8"};
	add_alma(idx, "ALSA-2021:5000", "Important: shim security update", "shim", shim, 1);
	pw_inventory inv = PW_INVENTORY_INIT;
	inv_os(&inv, "almalinux", "8.10");
	add_pkg(&inv, "bash", "4.4.19-12.el8", "bash", NULL); /* no epoch = 0 */
	add_pkg(&inv, "shim", "1:15-1.el8", "shim", NULL);    /* epoch 1 beats a higher version */
	pw_scan_result r = PW_SCAN_RESULT_INIT;
	scan(idx, &inv, NULL, &r);
	assert_string_equal(r.ecosystem, "almalinux:8");
	expect(&r, "bash 4.4.19-12.el8 0:4.4.20-1.el8_4 ALSA-2021:4000\n");
	assert_false(r.findings[0].by_source);
	pw_scan_result_release(&r);
	pw_inventory_release(&inv);
	pw_advindex_free(idx);
}

static void load_alma_modules(pw_advindex *idx)
{
	const char *serf[] = {"1.3.9-9.module_el8.3.0+2053+ac338b6d",
			      "1.3.9-9.module_el8.6.0+2912+eb1cdf5a",
			      "1.3.9-9.module_el8.4.0+2266+ac338b6d"};
	add_alma(idx, "ALSA-2021:0507", "Important: subversion:1.10 security update", "libserf",
		 serf, 3);
	const char *pg12[] = {"12.22-9.module_el8.10.0+4249+5ffd6db7"};
	add_alma(idx, "ALSA-2025:9000", "Important: postgresql:12 security update", "postgresql",
		 pg12, 1);
	const char *pg13[] = {"13.20-1.module_el8.10.0+3967+334cd65a"};
	add_alma(idx, "ALSA-2025:9001", "Important: postgresql:13 security update", "postgresql",
		 pg13, 1);
	const char *pg15[] = {"15.3-1.module_el8.8.0+3610+f1fe5820"};
	add_alma(idx, "ALSA-2023:4000", "Important: postgresql:15 security update", "postgresql",
		 pg15, 1);
	const char *ngx[] = {"1:1.14.1-9.module_el8.3.0+2165+af250afe.alma",
			     "1:1.14.1-9.module_el8.4.0+2221+af250afe.alma"};
	add_alma(idx, "ALSA-2021:0778", "Important: nginx:1.14 security update", "nginx", ngx, 2);
	const char *ngx16[] = {"1:1.16.1-2.module_el8.4.0+2470+68135136.1.alma"};
	add_alma(idx, "ALSA-2021:2258", "Important: nginx:1.16 security update", "nginx", ngx16, 1);
	const char *ngx_plain[] = {"1:1.14.2-1.el8"};
	add_alma(idx, "ALSA-2099:0001", "Moderate: nginx security update", "nginx", ngx_plain, 1);
}

static void test_rpm_modules(void **state)
{
	(void)state;
	pw_advindex *idx = new_index();
	load_alma_modules(idx);
	pw_inventory inv = PW_INVENTORY_INIT;
	inv_os(&inv, "almalinux", "8.10");
	/* The el8.4.0 build of the fixed libserf: the el8.6.0 build of the
	 * same fix does not make it vulnerable. */
	add_pkg(&inv, "libserf", "1.3.9-9.module_el8.4.0+2266+ac338b6d", NULL, NULL);
	/* RHEL's postgresql:13 build: only the :13 advisory applies. */
	add_pkg(&inv, "postgresql", "13.18-1.module+el8.10.0+22549+cf2ec3d9", NULL, NULL);
	/* nginx:1.14 module: not the 1.16 stream, not the non-modular fix. */
	add_pkg(&inv, "nginx", "1:1.14.1-8.module_el8.3.0+2165+af250afe.alma", NULL, NULL);
	pw_scan_result r = PW_SCAN_RESULT_INIT;
	scan(idx, &inv, NULL, &r);
	expect(&r, "nginx 1:1.14.1-8.module_el8.3.0+2165+af250afe.alma "
		   "1:1.14.1-9.module_el8.3.0+2165+af250afe.alma ALSA-2021:0778\n"
		   "postgresql 13.18-1.module+el8.10.0+22549+cf2ec3d9 "
		   "13.20-1.module_el8.10.0+3967+334cd65a ALSA-2025:9001\n");
	pw_scan_result_release(&r);

	/* Older than every build: the build of its own platform is shown. */
	free(inv.pkgs[0].version);
	inv.pkgs[0].version = strdup("1.3.9-8.module_el8.6.0+2900+eb1cdf5a");
	/* A non-modular nginx sees only the non-modular fix. */
	free(inv.pkgs[2].version);
	inv.pkgs[2].version = strdup("1:1.14.1-1.el8");
	/* The newest postgresql:13: no finding from :15. */
	free(inv.pkgs[1].version);
	inv.pkgs[1].version = strdup("13.23-3.module_el8.10.0+4198+7a62a2ce");
	scan(idx, &inv, NULL, &r);
	expect(&r, "libserf 1.3.9-8.module_el8.6.0+2900+eb1cdf5a "
		   "1.3.9-9.module_el8.6.0+2912+eb1cdf5a ALSA-2021:0507\n"
		   "nginx 1:1.14.1-1.el8 1:1.14.2-1.el8 ALSA-2099:0001\n");
	pw_scan_result_release(&r);
	pw_inventory_release(&inv);
	pw_advindex_free(idx);
}

/* ---- kernels ---- */

static void test_kernel_deb(void **state)
{
	(void)state;
	pw_advindex *idx = new_index();
	add_adv(idx, "CVE-2020-10", "CVE-2020-10", "ubuntu:18.04", "linux-signed", true,
		PW_FIX_FIXED, "4.15.0-101.102");
	add_adv(idx, "CVE-2020-11", "CVE-2020-11", "ubuntu:18.04", "linux-signed", true,
		PW_FIX_FIXED, "4.15.0-102.103");
	add_adv(idx, "CVE-2020-12", "CVE-2020-12", "ubuntu:18.04", "linux-signed", true,
		PW_FIX_FIXED, "4.15.0-50.51");
	add_adv(idx, "CVE-2020-13", "CVE-2020-13", "ubuntu:18.04", "linux-signed", true,
		PW_FIX_FIXED, "4.15.0-100.101");
	pw_inventory inv = PW_INVENTORY_INIT;
	inv_os(&inv, "ubuntu", "18.04");
	add_pkg(&inv, "linux-image-4.15.0-99-generic", "4.15.0-99.100", "linux-signed", NULL);
	add_pkg(&inv, "linux-image-4.15.0-101-generic", "4.15.0-101.102", "linux-signed", NULL);
	inv.kernel_running = strdup("4.15.0-99-generic");
	pw_scan_result r = PW_SCAN_RESULT_INIT;
	scan(idx, &inv, NULL, &r);
	/* 102 is missing everywhere; 101 and 100 wait for a reboot into the
	 * installed 101 kernel; 50 is old news. */
	expect(&r, "linux-signed 4.15.0-101.102 4.15.0-102.103 CVE-2020-11\n"
		   "reboot linux-signed 4.15.0-99.100->4.15.0-101.102 2\n");
	assert_int_equal(r.findings[0].n_binaries, 1);
	assert_string_equal(r.findings[0].binaries[0]->name, "linux-image-4.15.0-101-generic");
	assert_string_equal(r.inactive[0].running, "4.15.0-99-generic");
	pw_scan_result_release(&r);

	/* Running the newest: the old kernel lying around is no finding. */
	free(inv.kernel_running);
	inv.kernel_running = strdup("4.15.0-101-generic");
	scan(idx, &inv, NULL, &r);
	expect(&r, "linux-signed 4.15.0-101.102 4.15.0-102.103 CVE-2020-11\n");
	pw_scan_result_release(&r);

	/* Unknown running kernel (a JSON inventory): judged by the newest. */
	free(inv.kernel_running);
	inv.kernel_running = NULL;
	inv.needs_reboot = true;
	scan(idx, &inv, NULL, &r);
	expect(&r, "linux-signed 4.15.0-101.102 4.15.0-102.103 CVE-2020-11\n"
		   "reboot - -->- 0\n");
	pw_scan_result_release(&r);
	pw_inventory_release(&inv);
	pw_advindex_free(idx);
}

static void test_kernel_rpm(void **state)
{
	(void)state;
	pw_advindex *idx = new_index();
	const char *k[] = {"4.18.0-348.el8"};
	add_alma(idx, "ALSA-2021:4356", "Important: kernel security update", "kernel-core", k, 1);
	const char *h[] = {"4.18.0-348.el8"};
	add_alma(idx, "ALSA-2021:4357", "Important: kernel security update", "kernel-headers", h,
		 1);
	pw_inventory inv = PW_INVENTORY_INIT;
	inv_os(&inv, "almalinux", "8");
	add_pkg(&inv, "kernel-core", "4.18.0-305.el8", NULL, NULL);
	add_pkg(&inv, "kernel-core", "4.18.0-348.el8", NULL, NULL);
	add_pkg(&inv, "kernel-headers", "4.18.0-305.el8", NULL, NULL); /* not side by side */
	inv.kernel_running = strdup("4.18.0-305.el8.x86_64");
	pw_scan_result r = PW_SCAN_RESULT_INIT;
	scan(idx, &inv, NULL, &r);
	expect(&r, "kernel-headers 4.18.0-305.el8 4.18.0-348.el8 ALSA-2021:4357\n"
		   "reboot kernel-core 4.18.0-305.el8->4.18.0-348.el8 1\n");
	pw_scan_result_release(&r);
	pw_inventory_release(&inv);
	pw_advindex_free(idx);
}

/* ---- Alpine: secdb names are origins ---- */

static void test_apk_origin(void **state)
{
	(void)state;
	pw_advindex *idx = new_index();
	add_adv(idx, "ALPINE-openssl-1.1.1d-r0", "CVE-2019-1547", "alpine:3.10", "openssl", true,
		PW_FIX_FIXED, "1.1.1d-r0");
	add_adv(idx, "ALPINE-musl-1.1.22-r3", "CVE-2019-14697", "alpine:3.10", "musl", true,
		PW_FIX_FIXED, "1.1.22-r3");
	pw_inventory inv = PW_INVENTORY_INIT;
	inv_os(&inv, "alpine", "3.10.4");
	add_pkg(&inv, "libcrypto1.1", "1.1.1c-r0", "openssl", NULL);
	add_pkg(&inv, "libssl1.1", "1.1.1c-r0", "openssl", NULL);
	add_pkg(&inv, "musl", "1.1.22-r3", "musl", NULL);
	pw_scan_result r = PW_SCAN_RESULT_INIT;
	scan(idx, &inv, NULL, &r);
	assert_string_equal(r.ecosystem, "alpine:3.10");
	expect(&r, "openssl 1.1.1c-r0 1.1.1d-r0 ALPINE-openssl-1.1.1d-r0\n");
	assert_int_equal(r.findings[0].n_binaries, 2);
	pw_scan_result_release(&r);
	pw_inventory_release(&inv);
	pw_advindex_free(idx);
}

/* ---- priorities ---- */

static void test_priorities(void **state)
{
	(void)state;
	pw_advindex *idx = new_index();
	pw_kev_entry kev = {.cve = "CVE-2021-3156",
			    .date_added = "2022-04-06",
			    .due_date = "2022-04-27"};
	assert_int_equal(pw_advindex_add_kev(idx, &kev, NULL), PW_OK);
	pw_epss_entry ep = {"CVE-2021-2", 0.42, 0.99};
	assert_int_equal(pw_advindex_add_epss(idx, &ep, NULL), PW_OK);
	const char *c1[] = {"CVE-2021-1", "CVE-2021-3156"}, *c2[] = {"CVE-2021-2"},
		   *c3[] = {"CVE-2021-3"};
	pw_affected a1 = {"debian:11", "sudo", true, PW_FIX_FIXED, "1.9.5p2-3", NULL};
	pw_affected a2 = {"debian:11", "nginx", true, PW_FIX_FIXED, "1.18.0-6.1+deb11u1", NULL};
	pw_affected a3 = {"debian:11", "less", true, PW_FIX_FIXED, "551-2+deb11u1", NULL};
	pw_advisory s1 = {.id = "DSA-4839-1",
			  .source = "t",
			  .cves = c1,
			  .n_cves = 2,
			  .severity = PW_SEV_HIGH,
			  .attack_vector = PW_AV_LOCAL,
			  .affected = &a1,
			  .n_affected = 1};
	pw_advisory s2 = {.id = "DSA-5000-1",
			  .source = "t",
			  .cves = c2,
			  .n_cves = 1,
			  .severity = PW_SEV_HIGH,
			  .attack_vector = PW_AV_NETWORK,
			  .affected = &a2,
			  .n_affected = 1};
	pw_advisory s3 = {.id = "DSA-5001-1",
			  .source = "t",
			  .cves = c3,
			  .n_cves = 1,
			  .severity = PW_SEV_LOW,
			  .attack_vector = PW_AV_LOCAL,
			  .affected = &a3,
			  .n_affected = 1};
	assert_int_equal(pw_advindex_add(idx, &s1, NULL), PW_OK);
	assert_int_equal(pw_advindex_add(idx, &s2, NULL), PW_OK);
	assert_int_equal(pw_advindex_add(idx, &s3, NULL), PW_OK);
	pw_inventory inv = PW_INVENTORY_INIT;
	inv_os(&inv, "debian", "11");
	add_pkg(&inv, "sudo", "1.9.5p2-2", NULL, NULL);
	add_pkg(&inv, "nginx-core", "1.18.0-6.1", "nginx", NULL);
	add_pkg(&inv, "less", "551-2", NULL, NULL);
	pw_scan_host host = {PW_EXPOSURE_INTERNAL, NULL};
	pw_scan_result r = PW_SCAN_RESULT_INIT;
	scan(idx, &inv, &host, &r);
	assert_int_equal(r.n_findings, 3);
	/* Most urgent first. */
	assert_string_equal(r.findings[0].package, "sudo");
	assert_int_equal(r.findings[0].priority, PW_PRIO_EMERGENCY);
	assert_string_equal(r.findings[0].why.kev_cve, "CVE-2021-3156");
	assert_int_equal(r.findings[0].sla_days, 2);
	pw_policy p = policy();
	pw_buf why = PW_BUF_INIT;
	assert_int_equal(pw_finding_reason(&r.findings[0], &p, &why), PW_OK);
	assert_string_equal(pw_buf_str(&why), "CVE-2021-3156 is in CISA KEV (due 2022-04-27)");
	assert_string_equal(r.findings[1].package, "nginx");
	assert_int_equal(r.findings[1].priority, PW_PRIO_HIGH);
	assert_true(r.findings[1].why.epss > 0.41);
	assert_string_equal(r.findings[2].package, "less");
	assert_int_equal(r.findings[2].priority, PW_PRIO_LOW);
	assert_int_equal(r.findings[2].why.in_use, -1);
	assert_int_equal(r.counts[PW_PRIO_EMERGENCY], 1);
	assert_int_equal(r.counts[PW_PRIO_HIGH], 1);
	assert_int_equal(r.counts[PW_PRIO_LOW], 1);
	pw_scan_result_release(&r);

	/* Internet-facing: EPSS 0.42 >= 0.1 makes nginx an emergency too
	 * (equal priorities sort by package). */
	host.exposure = PW_EXPOSURE_INTERNET;
	scan(idx, &inv, &host, &r);
	assert_string_equal(r.findings[0].package, "nginx");
	assert_int_equal(r.findings[0].priority, PW_PRIO_EMERGENCY);
	assert_int_equal(r.findings[0].reason, PW_REASON_EPSS_INTERNET);
	pw_buf_reset(&why);
	assert_int_equal(pw_finding_reason(&r.findings[0], &p, &why), PW_OK);
	assert_string_equal(pw_buf_str(&why),
			    "EPSS 0.420 (CVE-2021-2) >= 0.100 on an internet-facing host");
	pw_buf_release(&why);

	/* The JSON document has the documented shape. */
	cJSON *j = pw_scan_result_to_json(&r, &p);
	assert_non_null(j);
	char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	j = cJSON_Parse(text);
	free(text);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(j, "host"), "ecosystem")->valuestring,
		"debian:11");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "snapshot")));
	cJSON *sum = cJSON_GetObjectItem(j, "summary");
	assert_int_equal(cJSON_GetObjectItem(sum, "emergency")->valueint, 2);
	assert_int_equal(cJSON_GetObjectItem(sum, "low")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(sum, "findings")->valueint, 3);
	cJSON *f0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "findings"), 1);
	assert_string_equal(cJSON_GetObjectItem(f0, "package")->valuestring, "sudo");
	assert_string_equal(cJSON_GetObjectItem(f0, "priority")->valuestring, "emergency");
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(f0, "kev"), "due_date")->valuestring,
		"2022-04-27");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f0, "cves")), 2);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(f0, "binaries"), 0),
				    "name")
			->valuestring,
		"sudo");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(f0, "in_use")));
	assert_non_null(cJSON_GetObjectItem(f0, "reason")->valuestring);
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(j, "unfixed")));
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(j, "inactive")));
	cJSON_Delete(j);
	pw_scan_result_release(&r);
	pw_inventory_release(&inv);
	pw_advindex_free(idx);
}

/* ---- live host: a fake /proc and dpkg file lists ---- */

static void write_file(const char *dir, const char *rel, const char *text)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	assert_int_equal(pw_write_file_atomic(path, text, strlen(text), 0644, NULL), PW_OK);
}

static void mkdirs(const char *dir, const char *rel)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	mkdir(path, 0755);
}

static void link_at(const char *dir, const char *rel, const char *target)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	assert_int_equal(symlink(target, path), 0);
}

static void test_live_host(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/pw-scan-XXXXXX";
	char *top = mkdtemp(tmpl);
	assert_non_null(top);
	char root[512], proc[512];
	snprintf(root, sizeof root, "%s/root", top);
	snprintf(proc, sizeof proc, "%s/proc", top);
	mkdirs(root, "usr/lib/x86_64-linux-gnu");
	mkdirs(root, "usr/sbin");
	mkdirs(root, "usr/bin");
	mkdirs(root, "var/lib/dpkg/info");
	link_at(root, "lib", "usr/lib"); /* merged /usr */
	write_file(root, "var/lib/dpkg/info/libssl1.1:amd64.list",
		   "/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libssl.so.1.1\n");
	write_file(root, "var/lib/dpkg/info/nginx-core.list", "/usr\n/usr/sbin/nginx\n");
	write_file(root, "var/lib/dpkg/info/less.list", "/usr/bin/less\n");
	write_file(root, "var/lib/dpkg/info/sudo.list", "/usr/bin/sudo\n");
	write_file(root, "usr/bin/sudo", "binary");
	char sudo[600];
	snprintf(sudo, sizeof sudo, "%s/usr/bin/sudo", root);
	assert_int_equal(chmod(sudo, 04755), 0);
	/* pid 100: nginx, mapping the old, deleted libssl. */
	mkdirs(proc, "100");
	link_at(proc, "100/root", root);
	write_file(proc, "100/comm", "nginx\n");
	link_at(proc, "100/exe", "/usr/sbin/nginx");
	write_file(proc, "100/maps",
		   "55d0c0a00000-55d0c0a2c000 r--p 00000000 08:01 1234   /usr/sbin/nginx\n"
		   "7f0000000000-7f0000001000 r-xp 00001000 08:01 99 "
		   "/usr/lib/x86_64-linux-gnu/libssl.so.1.1 (deleted)\n"
		   "7f0000001000-7f0000002000 r--p 00002000 08:01 99 "
		   "/usr/lib/x86_64-linux-gnu/libssl.so.1.1 (deleted)\n"
		   "7f0000003000-7f0000004000 rw-s 00000000 00:01 7  /memfd:pulse (deleted)\n"
		   "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0  [stack]\n");
	/* pid 200 lives in another root (a container): ignored. */
	mkdirs(proc, "200");
	link_at(proc, "200/root", "/");
	write_file(proc, "200/comm", "less\n");
	link_at(proc, "200/exe", "/usr/bin/less");
	write_file(proc, "200/maps", "00400000-00401000 r-xp 00000000 08:01 5 /usr/bin/less\n");
	mkdirs(proc, "self"); /* not a pid */

	pw_procuse *pu = NULL;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_procuse_read(proc, root, &pu, &e), PW_OK);
	assert_true(pw_procuse_complete(pu));
	assert_int_equal(pw_procuse_process_count(pu), 1);
	assert_true(pw_procuse_file_used(pu, "/usr/sbin/nginx"));
	assert_true(pw_procuse_file_used(pu, "/usr/lib/x86_64-linux-gnu/libssl.so.1.1"));
	assert_false(pw_procuse_file_used(pu, "/usr/bin/less"));
	assert_int_equal(pw_procuse_deleted_count(pu), 1);
	const pw_proc_deleted *d = pw_procuse_deleted(pu, 0);
	assert_int_equal(d->pid, 100);
	assert_string_equal(d->process, "nginx");
	assert_string_equal(d->path, "/usr/lib/x86_64-linux-gnu/libssl.so.1.1");
	assert_string_equal(d->package, "libssl1.1:amd64");
	assert_null(pw_procuse_deleted(pu, 1));
	assert_int_equal(pw_procuse_package_in_use(pu, "libssl1.1", "amd64"), 1);
	assert_int_equal(pw_procuse_package_in_use(pu, "nginx-core", "amd64"), 1);
	assert_int_equal(pw_procuse_package_in_use(pu, "less", "amd64"), 0);
	assert_int_equal(pw_procuse_package_in_use(pu, "sudo", NULL), 1); /* setuid */
	assert_int_equal(pw_procuse_package_in_use(pu, "vim", "amd64"), -1);

	pw_advindex *idx = new_index();
	add_adv(idx, "DSA-1", "CVE-2021-1", "debian:11", "nginx", true, PW_FIX_FIXED,
		"1.18.0-6.1+deb11u1");
	add_adv(idx, "DSA-2", "CVE-2021-2", "debian:11", "less", true, PW_FIX_FIXED,
		"551-2+deb11u1");
	add_adv(idx, "DSA-3", "CVE-2021-3", "debian:11", "sudo", true, PW_FIX_FIXED, "1.9.5p2-3");
	pw_inventory inv = PW_INVENTORY_INIT;
	inv_os(&inv, "debian", "11");
	add_pkg(&inv, "nginx-core", "1.18.0-6.1", "nginx", NULL);
	add_pkg(&inv, "less", "551-2", NULL, NULL);
	add_pkg(&inv, "sudo", "1.9.5p2-2", NULL, NULL);
	pw_runtime rt;
	assert_int_equal(pw_runtime_from_procuse(pu, &inv, &rt, &e), PW_OK);
	assert_true(rt.in_use_known);
	assert_int_equal(rt.n_in_use, 2); /* nginx-core (mapped), sudo (setuid) */
	assert_string_equal(rt.in_use[0], "nginx-core:amd64");
	assert_string_equal(rt.in_use[1], "sudo:amd64");
	assert_int_equal(rt.n_restarts, 1);
	/* What the agent sends is what the server scans with: the record
	 * through its JSON ranks the same. */
	cJSON *rj = pw_runtime_to_json(&rt);
	pw_runtime back;
	assert_int_equal(pw_runtime_from_json(&back, rj, &e), PW_OK);
	cJSON_Delete(rj);
	char h1[65], h2[65];
	assert_int_equal(pw_runtime_hash(&rt, h1, &e), PW_OK);
	assert_int_equal(pw_runtime_hash(&back, h2, &e), PW_OK);
	assert_string_equal(h1, h2);
	pw_runtime_release(&rt);
	pw_scan_host host = {PW_EXPOSURE_INTERNAL, &back};
	pw_scan_result r = PW_SCAN_RESULT_INIT;
	scan(idx, &inv, &host, &r);
	assert_true(r.in_use_known);
	assert_int_equal(r.n_findings, 3);
	assert_string_equal(r.findings[2].package, "less");
	assert_int_equal(r.findings[2].priority, PW_PRIO_LOW);
	assert_int_equal(r.findings[2].reason, PW_REASON_NOT_IN_USE);
	assert_int_equal(r.findings[0].why.in_use, 1);
	assert_int_equal(r.findings[1].why.in_use, 1);
	assert_int_equal(r.n_inactive, 1);
	assert_int_equal(r.inactive[0].kind, PW_INACTIVE_RESTART);
	assert_int_equal(r.inactive[0].pid, 100);
	assert_string_equal(r.inactive[0].owner, "libssl1.1:amd64");
	pw_policy p = policy();
	cJSON *j = pw_scan_result_to_json(&r, &p);
	cJSON *in0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "inactive"), 0);
	assert_string_equal(cJSON_GetObjectItem(in0, "kind")->valuestring, "restart");
	assert_string_equal(cJSON_GetObjectItem(in0, "process")->valuestring, "nginx");
	cJSON_Delete(j);
	pw_scan_result_release(&r);
	pw_runtime_release(&back);
	pw_procuse_free(pu);

	/* An unreadable process makes "not in use" unknown. */
	mkdirs(proc, "300");
	link_at(proc, "300/root", root);
	write_file(proc, "300/comm", "secret\n");
	mkdirs(proc, "300/maps"); /* reading a directory fails like EACCES would */
	assert_int_equal(pw_procuse_read(proc, root, &pu, &e), PW_OK);
	assert_false(pw_procuse_complete(pu));
	assert_int_equal(pw_procuse_package_in_use(pu, "less", "amd64"), -1);
	assert_int_equal(pw_runtime_from_procuse(pu, &inv, &rt, &e), PW_OK);
	assert_false(rt.in_use_known);
	host.runtime = &rt;
	scan(idx, &inv, &host, &r);
	assert_false(r.in_use_known);
	for (size_t i = 0; i < r.n_findings; i++)
		assert_int_not_equal(r.findings[i].priority, PW_PRIO_LOW);
	pw_scan_result_release(&r);
	pw_runtime_release(&rt);
	pw_procuse_free(pu);

	assert_int_equal(pw_procuse_read("/nonexistent-proc", root, &pu, &e), PW_ERR_IO);
	assert_non_null(strstr(e.msg, "/nonexistent-proc"));
	pw_inventory_release(&inv);
	pw_advindex_free(idx);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
}

/* The real /proc of this machine reads without error. */
static void test_live_proc(void **state)
{
	(void)state;
	pw_procuse *pu = NULL;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_procuse_read("/proc", "/", &pu, &e), PW_OK);
	assert_true(pw_procuse_process_count(pu) >= 1);
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	assert_true(n > 0);
	self[n] = '\0';
	assert_true(pw_procuse_file_used(pu, self));
	pw_procuse_free(pu);
}

/* ---- bad input ---- */

static void test_errors(void **state)
{
	(void)state;
	pw_advindex *idx = new_index();
	add_adv(idx, "DSA-1", NULL, "debian:11", "bash", true, PW_FIX_FIXED, "5.1-3");
	pw_policy p = policy();
	pw_scan_result r = PW_SCAN_RESULT_INIT;
	pw_error e = PW_ERROR_INIT;

	pw_inventory noos = PW_INVENTORY_INIT;
	add_pkg(&noos, "bash", "5.1-2", NULL, NULL);
	assert_int_equal(pw_scan_inventory(idx, &noos, NULL, &p, &r, &e), PW_ERR_NOTFOUND);
	assert_non_null(strstr(e.msg, "os-release"));
	pw_inventory_release(&noos);

	pw_inventory other = PW_INVENTORY_INIT;
	inv_os(&other, "ubuntu", "20.04");
	add_pkg(&other, "bash", "5.0-6ubuntu1", NULL, NULL);
	assert_int_equal(pw_scan_inventory(idx, &other, NULL, &p, &r, &e), PW_ERR_NOTFOUND);
	assert_non_null(strstr(e.msg, "ubuntu:20.04"));
	pw_inventory_release(&other);

	pw_inventory weird = PW_INVENTORY_INIT;
	inv_os(&weird, "debian", "bogus-release");
	assert_int_not_equal(pw_scan_inventory(idx, &weird, NULL, &p, &r, &e), PW_OK);
	pw_inventory_release(&weird);

	/* A version dpkg refuses: that package is skipped with a warning. */
	pw_inventory bad = PW_INVENTORY_INIT;
	inv_os(&bad, "debian", "11");
	add_pkg(&bad, "bash", "5.1 2", NULL, NULL);
	add_pkg(&bad, "bash", "5.1-2", NULL, NULL);
	add_pkg(&bad, "ghost", "", NULL, NULL);
	scan(idx, &bad, NULL, &r);
	expect(&r, "bash 5.1-2 5.1-3 DSA-1\n");
	/* ghost has no advisories: its version is never looked at. */
	assert_int_equal(r.n_warnings, 1);
	assert_non_null(strstr(r.warnings[0], "bash"));
	assert_int_equal(r.findings[0].n_cves, 0);
	pw_scan_result_release(&r);
	pw_inventory_release(&bad);
	pw_advindex_free(idx);
}

/* ---- one host from a store ---- */

static void test_from_store(void **state)
{
	(void)state;
	char path[] = "/tmp/pw-scan-store-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	pw_feedstore *st = NULL;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_open(path, &st, &e), PW_OK);
	static const char list[] = "[01 Mar 2023] DSA-9001-1 bash - security update\n"
				   "\t{CVE-2099-0001}\n"
				   "\t[bullseye] - bash 5.1-2+deb11u1\n"
				   "[02 Mar 2023] DSA-9002-1 curl - security update\n"
				   "\t{CVE-2021-22205 CVE-2099-0002}\n"
				   "\t[bullseye] - curl 7.74.0-1.3+deb11u9\n"
				   "[03 Mar 2023] DSA-9003-1 nginx - security update\n"
				   "\t{CVE-2099-0003}\n"
				   "\t[bullseye] - nginx 1.18.0-6.1+deb11u4\n";
	static const char kev[] =
		"{\"title\":\"CISA Catalog of Known Exploited "
		"Vulnerabilities\",\"catalogVersion\":\"1\","
		"\"dateReleased\":\"2025-08-25T00:00:00.000Z\",\"count\":1,\"vulnerabilities\":["
		"{\"cveID\":\"CVE-2021-22205\",\"vendorProject\":\"GitLab\",\"product\":\"GitLab\","
		"\"vulnerabilityName\":\"x\",\"dateAdded\":\"2021-11-03\",\"shortDescription\":"
		"\"x\","
		"\"requiredAction\":\"x\",\"dueDate\":\"2021-11-17\","
		"\"knownRansomwareCampaignUse\":"
		"\"Unknown\",\"notes\":\"\",\"cwes\":[]}]}";
	static const char epss[] = "CVE-2099-0001;0.200000000;0.950000000\n"
				   "CVE-2099-0003;0.010000000;0.500000000\n";
	pw_feed_import *imp = NULL;
	assert_int_equal(pw_feed_import_begin(st, "test", &imp, &e), PW_OK);
	assert_int_equal(pw_feed_import_buffer(imp, list, strlen(list), "DSA/list", &e), PW_OK);
	assert_int_equal(pw_feed_import_buffer(imp, kev, strlen(kev), "kev.json", &e), PW_OK);
	assert_int_equal(pw_feed_import_buffer(imp, epss, strlen(epss), "epss.csv", &e), PW_OK);
	int64_t snap = 0;
	pw_import_stats is;
	assert_int_equal(pw_feed_import_commit(imp, &snap, &is, &e), PW_OK);

	pw_inventory inv = PW_INVENTORY_INIT;
	inv_os(&inv, "debian", "11");
	add_pkg(&inv, "curl", "7.74.0-1.3+deb11u7", NULL, NULL);
	add_pkg(&inv, "bash", "5.1-2+deb11u1", NULL, NULL);
	add_pkg(&inv, "nginx-core", "1.18.0-6.1", "nginx", NULL);
	pw_policy p = policy();
	pw_scan_host host = {PW_EXPOSURE_INTERNET, NULL};
	pw_advindex *idx = new_index();
	pw_scan_result r = PW_SCAN_RESULT_INIT;
	assert_int_equal(pw_scan_from_store(idx, st, snap, &inv, &host, &p, &r, &e), PW_OK);
	expect(&r, "curl 7.74.0-1.3+deb11u7 7.74.0-1.3+deb11u9 DSA-9002-1\n"
		   "nginx 1.18.0-6.1 1.18.0-6.1+deb11u4 DSA-9003-1\n");
	assert_int_equal(r.snapshot, snap);
	assert_int_equal(r.findings[0].priority, PW_PRIO_EMERGENCY);
	assert_string_equal(r.findings[0].why.kev_due, "2021-11-17");
	/* EPSS fetched for the findings' CVEs only: nginx's, not bash's. */
	assert_true(r.findings[1].why.epss > 0.009 && r.findings[1].why.epss < 0.011);
	assert_int_equal(r.findings[1].priority, PW_PRIO_NORMAL);
	assert_true(pw_advindex_cve(idx, "CVE-2099-0001")->epss < 0);
	pw_scan_result_release(&r);
	pw_advindex_free(idx);

	/* No advisories for the host's release: an error, not a clean bill. */
	free(inv.os_version_id);
	inv.os_version_id = strdup("12");
	idx = new_index();
	assert_int_equal(pw_scan_from_store(idx, st, snap, &inv, &host, &p, &r, &e),
			 PW_ERR_NOTFOUND);
	assert_non_null(strstr(e.msg, "debian:12"));
	pw_advindex_free(idx);
	free(inv.os_id);
	inv.os_id = NULL;
	idx = new_index();
	assert_int_equal(pw_scan_from_store(idx, st, snap, &inv, &host, &p, &r, &e),
			 PW_ERR_NOTFOUND);
	pw_advindex_free(idx);
	pw_inventory_release(&inv);
	pw_feedstore_close(st);
	unlink(path);
	char side[64];
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

/* ---- fleets ---- */

static void test_fleet(void **state)
{
	(void)state;
	pw_advindex *idx = new_index();
	add_adv(idx, "DSA-1", "CVE-1", "debian:11", "bash", true, PW_FIX_FIXED, "5.1-3");
	add_adv(idx, "DSA-2", "CVE-2", "debian:11", "curl", true, PW_FIX_FIXED,
		"7.74.0-1.3+deb11u2");
	enum { N = 40 };
	pw_inventory inv[N];
	pw_fleet_input in[N];
	for (int i = 0; i < N; i++) {
		pw_inventory z = PW_INVENTORY_INIT;
		inv[i] = z;
		inv_os(&inv[i], i == 7 ? "plan9" : "debian", "11");
		/* Four contents: i % 4 picks which packages are old. */
		add_pkg(&inv[i], "bash", i % 2 ? "5.1-2" : "5.1-3", NULL, NULL);
		add_pkg(&inv[i], "curl", i % 4 >= 2 ? "7.74.0-1.3+deb11u1" : "7.74.0-1.3+deb11u2",
			NULL, NULL);
		in[i].inventory = &inv[i];
		in[i].exposure = i == 9 ? PW_EXPOSURE_INTERNET : PW_EXPOSURE_INTERNAL;
		in[i].hash = NULL;
	}
	pw_policy p = policy();
	pw_fleet_result fr = PW_FLEET_RESULT_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_scan_fleet(idx, in, N, &p, 2, &fr, &e), PW_OK);
	assert_int_equal(fr.n_hosts, N);
	/* 4 contents + the plan9 one + host 9's other exposure. */
	assert_int_equal(fr.n_distinct, 6);
	for (int i = 0; i < N; i++) {
		if (i == 7) {
			assert_int_not_equal(fr.hosts[i].code, PW_OK);
			assert_null(fr.hosts[i].result);
			assert_non_null(strstr(fr.hosts[i].error, "plan9"));
			continue;
		}
		assert_int_equal(fr.hosts[i].code, PW_OK);
		const pw_scan_result *r = fr.hosts[i].result;
		size_t want = (size_t)(i % 2) + (i % 4 >= 2 ? 1 : 0);
		assert_int_equal(r->n_findings, want);
		assert_int_equal(r->exposure, i == 9 ? PW_EXPOSURE_INTERNET : PW_EXPOSURE_INTERNAL);
		assert_int_equal(strlen(fr.hosts[i].inventory_hash), 64);
	}
	assert_ptr_equal(fr.hosts[1].result, fr.hosts[5].result);
	assert_ptr_not_equal(fr.hosts[1].result, fr.hosts[9].result);
	/* Stored inventories come with their hash: the same verdicts. */
	char hashes[N][65];
	for (int i = 0; i < N; i++) {
		memcpy(hashes[i], fr.hosts[i].inventory_hash, 65);
		in[i].hash = hashes[i];
	}
	pw_fleet_result_release(&fr);
	pw_fleet_result_release(&fr);
	assert_int_equal(pw_scan_fleet(idx, in, N, &p, 2, &fr, &e), PW_OK);
	assert_int_equal(fr.n_distinct, 6);
	assert_string_equal(fr.hosts[3].inventory_hash, hashes[3]);
	pw_fleet_result_release(&fr);
	for (int i = 0; i < N; i++)
		in[i].hash = NULL;

	/* One thread, and zero inputs, work too. */
	assert_int_equal(pw_scan_fleet(idx, in, N, &p, 1, &fr, &e), PW_OK);
	assert_int_equal(fr.n_distinct, 6);
	pw_fleet_result_release(&fr);
	assert_int_equal(pw_scan_fleet(idx, in, 0, &p, 0, &fr, &e), PW_OK);
	assert_int_equal(fr.n_hosts, 0);
	pw_fleet_result_release(&fr);
	for (int i = 0; i < N; i++)
		pw_inventory_release(&inv[i]);
	pw_advindex_free(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deb_by_source), cmocka_unit_test(test_merge_same_advisory),
		cmocka_unit_test(test_rpm_epoch),     cmocka_unit_test(test_rpm_modules),
		cmocka_unit_test(test_kernel_deb),    cmocka_unit_test(test_kernel_rpm),
		cmocka_unit_test(test_apk_origin),    cmocka_unit_test(test_priorities),
		cmocka_unit_test(test_live_host),     cmocka_unit_test(test_live_proc),
		cmocka_unit_test(test_errors),        cmocka_unit_test(test_from_store),
		cmocka_unit_test(test_fleet),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
