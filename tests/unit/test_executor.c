/* The apt backend's parsers on real recorded output (tests/data/apt/,
 * recorded from apt 2.6 in a bookworm root against the repository that
 * tests/scripts/apt_executor.sh builds), and the executor's dispatch
 * that needs no package manager. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/lib/executor/executor-internal.h"
#include "patchwarden/buf.h"
#include "patchwarden/executor.h"
#include "patchwarden/fileio.h"

static void read_apt(const char *name, pw_buf *out)
{
	const char *d = getenv("PW_TEST_DATA");
	if (!d)
		fail_msg("PW_TEST_DATA is not set; run through ctest");
	pw_buf path = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_buf_printf(&path, "%s/apt/%s", d, name), PW_OK);
	if (pw_read_file(path.data, out, 0, &e))
		fail_msg("%s: %s", path.data, pw_error_text(&e));
	pw_buf_release(&path);
}

static const pw_exec_change *find(const pw_exec_result *r, const char *name)
{
	for (size_t i = 0; i < r->n_changes; i++)
		if (!strcmp(r->changes[i].name, name))
			return &r->changes[i];
	fail_msg("no change for %s", name);
	return NULL;
}

static void test_simulate_upgrade_remove(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	pw_exec_result r;
	pw_error e = PW_ERROR_INIT;
	pw_exec_result_init(&r);
	read_apt("simulate-upgrade-remove.txt", &b);
	assert_int_equal(pw_apt_parse_simulate(b.data, b.len, &r, &e), PW_OK);
	/* Remv, three Inst; the Conf lines are not changes */
	assert_int_equal(r.n_changes, 4);
	const pw_exec_change *c = find(&r, "pwt-victim");
	assert_int_equal(c->action, PW_CHANGE_REMOVE);
	assert_string_equal(c->before, "1.0-1");
	assert_string_equal(c->after, "");
	c = find(&r, "pwt-newdep");
	assert_int_equal(c->action, PW_CHANGE_INSTALL);
	assert_string_equal(c->before, "");
	assert_string_equal(c->after, "1.0-1");
	c = find(&r, "pwt-dep");
	assert_int_equal(c->action, PW_CHANGE_UPGRADE);
	assert_string_equal(c->before, "1.0-1");
	assert_string_equal(c->after, "2.0-1");
	pw_exec_result_release(&r);
	pw_buf_release(&b);
}

static void test_simulate_downgrade_and_missing(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	pw_exec_result r;
	pw_error e = PW_ERROR_INIT;
	pw_exec_result_init(&r);
	read_apt("simulate-downgrade.txt", &b);
	assert_int_equal(pw_apt_parse_simulate(b.data, b.len, &r, &e), PW_OK);
	assert_int_equal(r.n_changes, 1);
	assert_int_equal(r.changes[0].action, PW_CHANGE_DOWNGRADE);
	assert_string_equal(r.changes[0].before, "1.0-2");
	assert_string_equal(r.changes[0].after, "1.0-1");
	pw_exec_result_release(&r);
	pw_buf_reset(&b);
	read_apt("simulate-missing.txt", &b);
	assert_int_equal(pw_apt_parse_simulate(b.data, b.len, &r, &e), PW_OK);
	assert_int_equal(r.n_changes, 0);
	pw_exec_result_release(&r);
	pw_buf_release(&b);
}

static void test_simulate_odd_lines(void **state)
{
	(void)state;
	static const char text[] = "Inst\nInst x\nInst y [1\nRemv\nInst z [1] (\n"
				   "Inst ok (2:1.0-1 Debian:12/stable [amd64])\n"
				   "Inst broken [1.0] (2.0 r [all]) []\n";
	pw_exec_result r;
	pw_error e = PW_ERROR_INIT;
	pw_exec_result_init(&r);
	assert_int_equal(pw_apt_parse_simulate(text, sizeof text - 1, &r, &e), PW_OK);
	assert_int_equal(r.n_changes, 2);
	assert_string_equal(r.changes[0].after, "2:1.0-1");
	assert_string_equal(r.changes[1].name, "broken");
	pw_exec_result_release(&r);
}

static void test_security_upgrades(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	static pw_exec_request req;
	read_apt("simulate-upgrade-security.txt", &b);
	assert_int_equal(pw_apt_security_upgrades(b.data, b.len, &req, &e), PW_OK);
	assert_int_equal(req.n_packages, 1);
	assert_string_equal(req.packages[0].name, "pwt-sec");
	assert_string_equal(req.packages[0].version, "1.0-2");
	/* the release strings of Debian's and Ubuntu's security archives */
	static const char more[] =
		"Inst libssl3 [3.0.11-1~deb12u2] (3.0.13-1~deb12u1 Debian-Security:12/"
		"stable-security [amd64])\n"
		"Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable [all])\n"
		"Inst curl [7.81.0-1ubuntu1.15] (7.81.0-1ubuntu1.16 Ubuntu:22.04/jammy-security "
		"[amd64])\n"
		"Inst newpkg (1.0 Debian-Security:12/stable-security [amd64])\n";
	assert_int_equal(pw_apt_security_upgrades(more, sizeof more - 1, &req, &e), PW_OK);
	assert_int_equal(req.n_packages, 3);
	assert_string_equal(req.packages[1].name, "libssl3");
	assert_string_equal(req.packages[1].version, "3.0.13-1~deb12u1");
	assert_string_equal(req.packages[2].name, "curl");
	pw_buf_release(&b);
}

static void test_policy_madison(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	char cand[64];
	read_apt("policy.txt", &b);
	assert_true(pw_apt_parse_candidate(b.data, b.len, cand, sizeof cand));
	assert_string_equal(cand, "1.0-2");
	pw_buf_reset(&b);
	read_apt("policy-none.txt", &b);
	assert_false(pw_apt_parse_candidate(b.data ? b.data : "", b.len, cand, sizeof cand));
	static const char none[] = "foo:\n  Installed: (none)\n  Candidate: (none)\n";
	assert_false(pw_apt_parse_candidate(none, sizeof none - 1, cand, sizeof cand));
	pw_buf_reset(&b);
	read_apt("madison.txt", &b);
	assert_true(pw_apt_madison_has(b.data, b.len, "1.0-1"));
	assert_true(pw_apt_madison_has(b.data, b.len, "1.0-2"));
	assert_false(pw_apt_madison_has(b.data, b.len, "1.0"));
	assert_false(pw_apt_madison_has(b.data, b.len, "0.9-1"));
	pw_buf_release(&b);
}

/* apt-cache show on Debian 12 (recorded): gcc 4:12.2.0-3 is built from
 * gcc-defaults 1.203; libssl3's "Source: openssl" has no version, so the
 * source's is the binary's. */
static void test_source_version(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	char v[64];
	read_apt("show-gcc.txt", &b);
	assert_true(pw_apt_source_version(b.data, b.len, v, sizeof v));
	assert_string_equal(v, "1.203");
	pw_buf_reset(&b);
	read_apt("show-libssl3.txt", &b);
	assert_true(pw_apt_source_version(b.data, b.len, v, sizeof v));
	assert_string_equal(v, "3.0.22-1~deb12u2");
	assert_false(pw_apt_source_version(b.data, b.len, v, 4));
	static const char binnmu[] = "Package: foo\nSource: foo (1.2-3)\nVersion: 1.2-3+b1\n\n"
				     "Package: foo\nVersion: 9\n";
	assert_true(pw_apt_source_version(binnmu, sizeof binnmu - 1, v, sizeof v));
	assert_string_equal(v, "1.2-3");
	assert_false(pw_apt_source_version("", 0, v, sizeof v));
	static const char open[] = "Package: foo\nSource: foo (1.2\n";
	assert_false(pw_apt_source_version(open, sizeof open - 1, v, sizeof v));
	pw_buf_release(&b);
}

static void test_failed_package(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	char name[64], why[200];
	read_apt("install-failpost.txt", &b);
	assert_true(pw_apt_failed_package(b.data, b.len, name, sizeof name, why, sizeof why));
	assert_string_equal(name, "pwt-failpost");
	assert_string_equal(why, "installed pwt-failpost package post-installation script "
				 "subprocess returned error exit status 1");
	pw_buf_reset(&b);
	read_apt("simulate-upgrade-remove.txt", &b);
	assert_false(pw_apt_failed_package(b.data, b.len, name, sizeof name, why, sizeof why));
	static const char arch[] = "dpkg: error processing package libfoo:amd64 (--configure):\n";
	assert_true(
		pw_apt_failed_package(arch, sizeof arch - 1, name, sizeof name, why, sizeof why));
	assert_string_equal(name, "libfoo");
	assert_string_equal(why, "");
	pw_buf_release(&b);
}

static void test_audit(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	read_apt("audit-half-configured.txt", &b);
	assert_int_equal(pw_apt_audit_state(b.data, b.len), PW_PKGDB_HALF_CONFIGURED);
	assert_int_equal(pw_apt_audit_state("", 0), PW_PKGDB_CLEAN);
	assert_int_equal(pw_apt_audit_state("\n", 1), PW_PKGDB_CLEAN);
	pw_buf_release(&b);
}

static void test_cgroup_unit(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	char unit[64];
	read_apt("cgroup-v2-service.txt", &b);
	assert_true(pw_cgroup_unit(b.data, b.len, unit, sizeof unit));
	assert_string_equal(unit, "nginx.service");
	pw_buf_reset(&b);
	read_apt("cgroup-v1-service.txt", &b);
	assert_true(pw_cgroup_unit(b.data, b.len, unit, sizeof unit));
	assert_string_equal(unit, "cron.service");
	pw_buf_reset(&b);
	read_apt("cgroup-v2-session.txt", &b);
	assert_false(pw_cgroup_unit(b.data, b.len, unit, sizeof unit));
	pw_buf_release(&b);
}

static void test_backends(void **state)
{
	(void)state;
	assert_ptr_equal(pw_pkgmgr_for_os("debian", NULL), &pw_pkgmgr_apt);
	assert_ptr_equal(pw_pkgmgr_for_os("linuxmint", "ubuntu debian"), &pw_pkgmgr_apt);
	assert_ptr_equal(pw_pkgmgr_find("apt"), &pw_pkgmgr_apt);
}

/* What needs no package manager: refusals, checks by command and TCP. */
static void run(const pw_executor_conf *c, pw_exec_kind kind, uint32_t flags, pw_exec_result *r)
{
	static pw_exec_request req;
	pw_error e = PW_ERROR_INIT;
	memset(&req, 0, sizeof req);
	req.kind = kind;
	req.flags = flags;
	pw_exec_result_init(r);
	assert_int_equal(pw_executor_run(c, &req, r, &e), PW_OK);
}

static void test_checks(void **state)
{
	(void)state;
	pw_exec_result r;
	pw_executor_conf c = {"/nonexistent-root", "apt", NULL, NULL, 5, NULL};
	run(&c, PW_EXEC_REBOOT, 0, &r);
	assert_int_equal(r.status, PW_EXEC_REFUSED);
	pw_exec_result_release(&r);
	/* The runtime facts need the root's package database. */
	run(&c, PW_EXEC_INVENTORY, 0, &r);
	assert_int_equal(r.status, PW_EXEC_FAILED);
	assert_null(r.runtime);
	assert_non_null(strstr(r.message, "running processes unknown: "));
	pw_exec_result_release(&r);
	/* A root no process runs in: none in use there, and the dpkg status
	 * without file lists tells nothing per package. */
	char root[512];
	const char *data = getenv("PW_TEST_DATA");
	assert_non_null(data); /* set by ctest */
	snprintf(root, sizeof root, "%s/inventory/debian", data);
	pw_executor_conf d = {root, "apt", NULL, NULL, 5, NULL};
	run(&d, PW_EXEC_INVENTORY, 0, &r);
	assert_int_equal(r.status, PW_EXEC_DONE);
	assert_non_null(r.runtime);
	assert_int_equal(r.runtime->processes, 0);
	assert_int_equal(r.runtime->n_restarts, 0);
	assert_false(r.runtime->in_use_known);
	pw_exec_result_release(&r);
	run(&c, PW_EXEC_HEALTH, 0, &r);
	assert_int_equal(r.status, PW_EXEC_REFUSED);
	assert_non_null(strstr(r.message, "health_check"));
	pw_exec_result_release(&r);
	c.health_check = "command:/bin/sh -c exit";
	run(&c, PW_EXEC_HEALTH, 0, &r);
	assert_int_equal(r.status, PW_EXEC_DONE);
	pw_exec_result_release(&r);
	c.health_check = "command:/bin/false";
	run(&c, PW_EXEC_HEALTH, 0, &r);
	assert_int_equal(r.status, PW_EXEC_FAILED);
	assert_int_equal(r.exit_code, 1);
	pw_exec_result_release(&r);
	c.health_check = "command:false";
	run(&c, PW_EXEC_HEALTH, 0, &r);
	assert_int_equal(r.status, PW_EXEC_REFUSED);
	pw_exec_result_release(&r);
	c.health_check = "tcp:127.0.0.1:1"; /* nothing listens on port 1 */
	run(&c, PW_EXEC_HEALTH, 0, &r);
	assert_int_equal(r.status, PW_EXEC_FAILED);
	pw_exec_result_release(&r);
	c.health_check = "tcp:nohost";
	run(&c, PW_EXEC_HEALTH, 0, &r);
	assert_int_equal(r.status, PW_EXEC_REFUSED);
	pw_exec_result_release(&r);
	c.backup_check = "command:/bin/echo backup fine";
	run(&c, PW_EXEC_BACKUP_CHECK, 0, &r);
	assert_int_equal(r.status, PW_EXEC_DONE);
	assert_string_equal(pw_buf_str(&r.log), "backup fine\n");
	pw_exec_result_release(&r);
	c.backend = "nonesuch";
	run(&c, PW_EXEC_PATCH, 0, &r);
	assert_int_equal(r.status, PW_EXEC_REFUSED);
	assert_non_null(strstr(r.message, "nonesuch"));
	pw_exec_result_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simulate_upgrade_remove),
		cmocka_unit_test(test_simulate_downgrade_and_missing),
		cmocka_unit_test(test_simulate_odd_lines),
		cmocka_unit_test(test_security_upgrades),
		cmocka_unit_test(test_policy_madison),
		cmocka_unit_test(test_source_version),
		cmocka_unit_test(test_failed_package),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_cgroup_unit),
		cmocka_unit_test(test_backends),
		cmocka_unit_test(test_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
