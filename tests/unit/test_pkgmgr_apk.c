/* The apk backend against recorded apk outputs (tests/data/apk/README.md
 * says where they come from): a small `apk` script in ctx->bin_dir records
 * its argv and prints the scenario's next file, so both the command lines
 * the backend builds and what it makes of apk's words are checked. Also
 * the choice of backend from os-release. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "patchwarden/fileio.h"
#include "patchwarden/pkgmgr.h"

static char g_tmp[64], g_root[128], g_bin[128], g_apk[160];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	pw_buf b = PW_BUF_INIT;
	if (pw_read_file(path, &b, 1 << 20, NULL))
		return NULL;
	if (!b.data)
		return calloc(1, 1);
	return pw_buf_detach(&b);
}

static void copy_data(const char *name, const char *dst)
{
	char src[512];
	snprintf(src, sizeof src, "%s/apk/%s", getenv("PW_TEST_DATA"), name);
	char *s = slurp(src);
	assert_non_null(s);
	put(dst, s);
	free(s);
}

static void mkdirs(const char *base, const char *rel)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", base, rel);
	for (char *s = p + strlen(base) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_tmp, sizeof g_tmp, "/tmp/pw-apk.XXXXXX");
	assert_non_null(mkdtemp(g_tmp));
	snprintf(g_root, sizeof g_root, "%s/root", g_tmp);
	snprintf(g_bin, sizeof g_bin, "%s/bin", g_tmp);
	mkdirs(g_tmp, "root/lib/apk/db");
	mkdirs(g_tmp, "root/etc/apk");
	mkdirs(g_tmp, "bin");
	char p[512];
	snprintf(p, sizeof p, "%s/lib/apk/db/installed", g_root);
	copy_data("installed", p);
	snprintf(p, sizeof p, "%s/etc/apk/world", g_root);
	copy_data("world", p);
	snprintf(g_apk, sizeof g_apk, "%s/apk", g_bin);
	/* Call N prints out.N and exits with rc.N (0 when there is none). */
	put(g_apk, "#!/bin/sh\n"
		   "d=${0%/*}\n"
		   "for a in \"$0\" \"$@\"; do printf '%s\\n' \"$a\"; done >>\"$d/argv.log\"\n"
		   "echo -- >>\"$d/argv.log\"\n"
		   "n=$(( $(cat \"$d/count\" 2>/dev/null || echo 0) + 1 ))\n"
		   "echo $n >\"$d/count\"\n"
		   "cat \"$d/out.$n\" 2>/dev/null\n"
		   "exit $(cat \"$d/rc.$n\" 2>/dev/null || echo 0)\n");
	chmod(g_apk, 0755);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	const char *argv[] = {"/bin/rm", "-rf", g_tmp, NULL};
	pw_run_result r = PW_RUN_RESULT_INIT;
	pw_run(argv, NULL, &r, NULL);
	pw_run_result_release(&r);
	return 0;
}

/* The scenario: the files apk prints on its calls, and their statuses. */
static void scenario(const char *const *outs, const int *rcs)
{
	for (int i = 0; outs[i]; i++) {
		char p[512];
		snprintf(p, sizeof p, "%s/out.%d", g_bin, i + 1);
		copy_data(outs[i], p);
		if (rcs && rcs[i]) {
			char rc[16];
			snprintf(rc, sizeof rc, "%d\n", rcs[i]);
			snprintf(p, sizeof p, "%s/rc.%d", g_bin, i + 1);
			put(p, rc);
		}
	}
}

/* Runs the apk backend: packages as "name=version" ("" for none). */
static void run(pw_exec_kind kind, uint32_t flags, const char *const *pkgs, pw_exec_result *res)
{
	pw_exec_request *req = calloc(1, sizeof *req);
	assert_non_null(req);
	req->kind = kind;
	req->flags = flags;
	for (; pkgs[req->n_packages]; req->n_packages++) {
		pw_exec_package *p = &req->packages[req->n_packages];
		const char *s = pkgs[req->n_packages], *eq = strchr(s, '=');
		snprintf(p->name, sizeof p->name, "%.*s", (int)(eq ? eq - s : (long)strlen(s)), s);
		snprintf(p->version, sizeof p->version, "%s", eq ? eq + 1 : "");
	}
	pw_pkgmgr_ctx ctx = {.root = g_root, .timeout_s = 30, .bin_dir = g_bin};
	const pw_pkgmgr *apk = pw_pkgmgr_find("apk");
	assert_non_null(apk);
	pw_exec_result_init(res);
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(apk->run(&ctx, req, res, &err), PW_OK);
	free(req);
}

/* The argv of every call, "--" after each; NULL when apk never ran. */
static char *calls(void)
{
	char p[512];
	snprintf(p, sizeof p, "%s/argv.log", g_bin);
	return slurp(p);
}

/* "add --simulate x=1" -> the full argv lines of one call. */
static void expect_call(pw_buf *b, const char *words)
{
	pw_buf_printf(b, "%s\n--no-progress\n--root\n%s\n", g_apk, g_root);
	for (const char *p = words; *p;) {
		size_t n = strcspn(p, " ");
		pw_buf_printf(b, "%.*s\n", (int)n, p);
		p += n + (p[n] == ' ');
	}
	pw_buf_puts(b, "--\n");
}

static void assert_calls(const char *const *each)
{
	pw_buf want = PW_BUF_INIT;
	for (int i = 0; each[i]; i++)
		expect_call(&want, each[i]);
	char *got = calls();
	assert_non_null(got);
	assert_string_equal(got, pw_buf_str(&want));
	free(got);
	pw_buf_release(&want);
}

static void assert_change(const pw_exec_result *r, size_t i, pw_change_action act, const char *name,
			  const char *before, const char *after, bool ok)
{
	assert_true(i < r->n_changes);
	assert_int_equal(r->changes[i].action, act);
	assert_string_equal(r->changes[i].name, name);
	assert_string_equal(r->changes[i].before, before);
	assert_string_equal(r->changes[i].after, after);
	assert_int_equal(r->changes[i].ok, ok);
}

static void test_simulate(void **state)
{
	(void)state;
	scenario((const char *[]){"simulate-upgrade.out", NULL}, NULL);
	pw_exec_result r;
	run(PW_EXEC_SIMULATE, 0, (const char *[]){"pwdemo=1.1-r0", "pwdep=2.0-r0", NULL}, &r);
	assert_calls((const char *[]){"add --simulate pwdemo=1.1-r0 pwdep=2.0-r0", NULL});
	assert_int_equal(r.status, PW_EXEC_DONE);
	assert_true(r.resolves);
	assert_int_equal(r.n_changes, 3);
	assert_change(&r, 0, PW_CHANGE_UPGRADE, "pwdemo", "1.0-r0", "1.1-r0", true);
	assert_change(&r, 1, PW_CHANGE_INSTALL, "pwlib", "", "1.0-r0", true);
	assert_change(&r, 2, PW_CHANGE_UPGRADE, "pwdep", "1.0-r0", "2.0-r0", true);
	pw_exec_result_release(&r);
}

/* Exact versions, then the pins apk wrote released for the names that
 * were plain world entries. */
static void test_patch(void **state)
{
	(void)state;
	scenario((const char *[]){"simulate-upgrade.out", "add-upgrade.out", "ok.out", NULL}, NULL);
	pw_exec_result r;
	run(PW_EXEC_PATCH, 0, (const char *[]){"pwdemo=1.1-r0", "pwdep=2.0-r0", NULL}, &r);
	assert_calls((const char *[]){"add --simulate pwdemo=1.1-r0 pwdep=2.0-r0",
				      "add pwdemo=1.1-r0 pwdep=2.0-r0", "add pwdemo pwdep", NULL});
	assert_int_equal(r.status, PW_EXEC_DONE);
	assert_int_equal(r.exit_code, 0);
	assert_false(r.needs_reboot);
	assert_int_equal(r.db_state, PW_PKGDB_CLEAN);
	assert_change(&r, 0, PW_CHANGE_UPGRADE, "pwdemo", "1.0-r0", "1.1-r0", true);
	assert_non_null(strstr(pw_buf_str(&r.log), "(3/3) Upgrading pwdep (1.0-r0 -> 2.0-r0)"));
	pw_exec_result_release(&r);
}

static void test_unsatisfiable(void **state)
{
	(void)state;
	scenario((const char *[]){"unsatisfiable.out", NULL}, (const int[]){1});
	pw_exec_result r;
	run(PW_EXEC_PATCH, 0, (const char *[]){"pwdemo=9.9-r0", NULL}, &r);
	assert_calls((const char *[]){"add --simulate pwdemo=9.9-r0", NULL});
	assert_int_equal(r.status, PW_EXEC_FAILED);
	assert_false(r.resolves);
	assert_non_null(strstr(r.message, "unable to select packages"));
	assert_non_null(strstr(r.message, "breaks: world[pwdemo=9.9-r0]"));
	pw_exec_result_release(&r);
}

static void test_script_fails(void **state)
{
	(void)state;
	scenario((const char *[]){"post-fail-simulate.out", "post-fail.out", NULL},
		 (const int[]){0, 1});
	pw_exec_result r;
	run(PW_EXEC_PATCH, 0, (const char *[]){"pwpost=1.1-r0", NULL}, &r);
	/* no release of the pin after a failure */
	assert_calls((const char *[]){"add --simulate pwpost=1.1-r0", "add pwpost=1.1-r0", NULL});
	assert_int_equal(r.status, PW_EXEC_FAILED);
	assert_int_equal(r.exit_code, 1);
	assert_non_null(
		strstr(r.message, "pwpost-1.1-r0.post-upgrade: script exited with error 1"));
	assert_change(&r, 0, PW_CHANGE_UPGRADE, "pwpost", "1.0-r0", "1.1-r0", false);
	assert_non_null(strstr(pw_buf_str(&r.log), "pwpost: cannot configure itself"));
	pw_exec_result_release(&r);
}

static void test_removal(void **state)
{
	(void)state;
	scenario((const char *[]){"purge-simulate.out", NULL}, NULL);
	pw_exec_result r;
	run(PW_EXEC_PATCH, 0, (const char *[]){"pwswap=2.0-r0", NULL}, &r);
	assert_calls((const char *[]){"add --simulate pwswap=2.0-r0", NULL});
	assert_int_equal(r.status, PW_EXEC_REFUSED);
	assert_non_null(strstr(r.message, "would remove pwlegacy 1.0-r0"));
	pw_exec_result_release(&r);

	teardown(state);
	setup(state);
	scenario((const char *[]){"purge-simulate.out", "purge.out", "ok.out", NULL}, NULL);
	run(PW_EXEC_PATCH, PW_EXEC_ALLOW_REMOVE, (const char *[]){"pwswap=2.0-r0", NULL}, &r);
	assert_calls((const char *[]){"add --simulate pwswap=2.0-r0", "add pwswap=2.0-r0",
				      "add pwswap", NULL});
	assert_int_equal(r.status, PW_EXEC_DONE);
	assert_change(&r, 0, PW_CHANGE_REMOVE, "pwlegacy", "1.0-r0", "", true);
	assert_change(&r, 1, PW_CHANGE_UPGRADE, "pwswap", "1.0-r0", "2.0-r0", true);
	pw_exec_result_release(&r);
}

/* A rollback keeps its pin: no release call. */
static void test_rollback(void **state)
{
	(void)state;
	scenario((const char *[]){"downgrade-simulate.out", "downgrade.out", NULL}, NULL);
	pw_exec_result r;
	run(PW_EXEC_ROLLBACK, 0, (const char *[]){"pwdemo=0.9-r0", NULL}, &r);
	assert_calls((const char *[]){"add --simulate pwdemo=0.9-r0", "add pwdemo=0.9-r0", NULL});
	assert_int_equal(r.status, PW_EXEC_DONE);
	assert_change(&r, 0, PW_CHANGE_DOWNGRADE, "pwdemo", "1.0-r0", "0.9-r0", true);
	assert_non_null(strstr(r.message, "pinned"));
	pw_exec_result_release(&r);
}

/* musl is the C library: a reboot. The counter is padded ("( 1/1)"). */
static void test_reboot(void **state)
{
	(void)state;
	scenario((const char *[]){"musl-simulate.out", "musl.out", "ok.out", NULL}, NULL);
	pw_exec_result r;
	run(PW_EXEC_PATCH, 0, (const char *[]){"musl=1.2.4-r3", NULL}, &r);
	assert_int_equal(r.status, PW_EXEC_DONE);
	assert_true(r.needs_reboot);
	assert_change(&r, 0, PW_CHANGE_UPGRADE, "musl", "1.2.4-r2", "1.2.4-r3", true);
	pw_exec_result_release(&r);
}

static void test_hold_unhold(void **state)
{
	(void)state;
	scenario((const char *[]){"ok.out", "ok.out", NULL}, NULL);
	pw_exec_result r;
	run(PW_EXEC_HOLD, 0, (const char *[]){"pwdemo", NULL}, &r);
	assert_int_equal(r.status, PW_EXEC_DONE);
	assert_change(&r, 0, PW_CHANGE_HOLD, "pwdemo", "1.0-r0", "1.0-r0", true);
	pw_exec_result_release(&r);
	run(PW_EXEC_UNHOLD, 0, (const char *[]){"pwdemo", NULL}, &r);
	assert_int_equal(r.status, PW_EXEC_DONE);
	assert_calls((const char *[]){"add pwdemo=1.0-r0", "add pwdemo", NULL});
	pw_exec_result_release(&r);
}

/* Refused before apk runs: a held package, one that is not installed. */
static void test_nothing_runs(void **state)
{
	(void)state;
	char p[512];
	snprintf(p, sizeof p, "%s/etc/apk/world", g_root);
	put(p, "musl\npwdemo=1.0-r0\n");
	pw_exec_result r;
	run(PW_EXEC_PATCH, 0, (const char *[]){"pwdemo=1.1-r0", NULL}, &r);
	assert_int_equal(r.status, PW_EXEC_FAILED);
	assert_non_null(strstr(r.message, "pwdemo is held (pwdemo=1.0-r0 in /etc/apk/world)"));
	pw_exec_result_release(&r);
	run(PW_EXEC_PATCH, 0, (const char *[]){"pwnothere=1.0-r0", NULL}, &r);
	assert_int_equal(r.status, PW_EXEC_FAILED);
	assert_non_null(strstr(r.message, "pwnothere is not installed"));
	pw_exec_result_release(&r);
	assert_null(calls());
}

static void test_db_state(void **state)
{
	(void)state;
	pw_pkgmgr_ctx ctx = {.root = g_root, .bin_dir = g_bin};
	const pw_pkgmgr *apk = pw_pkgmgr_find("apk");
	assert_int_equal(apk->db_state(&ctx, NULL), PW_PKGDB_CLEAN);
	char p[512];
	snprintf(p, sizeof p, "%s/lib/apk/db/installed", g_root);
	put(p, "P:pwdemo\nA:x86_64\n\n");
	pw_buf why = PW_BUF_INIT;
	assert_int_equal(apk->db_state(&ctx, &why), PW_PKGDB_BROKEN);
	assert_true(why.len > 0);
	pw_buf_release(&why);
	remove(p);
	assert_int_equal(apk->db_state(&ctx, NULL), PW_PKGDB_UNKNOWN);
}

static void test_for_os(void **state)
{
	(void)state;
	static const char *const cases[][3] = {
		{"alpine", NULL, "apk"},
		{"rocky", "rhel centos fedora", "dnf"},
		{"amzn", "fedora", "dnf"},
		{"fedora", NULL, "dnf"},
		{"ol", NULL, "dnf"},
		{"opensuse-leap", "suse opensuse", "zypper"},
		{"sles", NULL, "zypper"},
		{"opensuse-tumbleweed", NULL, "zypper"},
		{"myrhel", "rhel fedora", "dnf"},
		{"mysuse", "suse", "zypper"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const pw_pkgmgr *pm = pw_pkgmgr_for_os(cases[i][0], cases[i][1]);
		assert_non_null(pm);
		assert_string_equal(pm->name, cases[i][2]);
	}
	assert_null(pw_pkgmgr_for_os("plan9", NULL));
	assert_non_null(pw_pkgmgr_find("dnf"));
	assert_non_null(pw_pkgmgr_find("zypper"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_simulate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_patch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsatisfiable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_script_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_unhold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_state, setup, teardown),
		cmocka_unit_test(test_for_os),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
