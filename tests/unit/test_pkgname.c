/* Package name and version grammar (pkgname.h): every package of real
 * inventories (../shared/data: a Debian 10 image, a dpkg status of 357
 * TeX Live and Ubuntu packages, a RHEL 8 image, an Alpine installed
 * database) passes for its ecosystem; crafted names and versions a
 * package manager would read as options, shell syntax or something else
 * are refused, for every ecosystem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "patchwarden/buf.h"
#include "patchwarden/fileio.h"
#include "patchwarden/inventory.h"
#include "patchwarden/pkgname.h"

static void read_shared(const char *rel, pw_buf *out)
{
	const char *d = getenv("PW_SHARED_DATA");
	if (!d)
		fail_msg("PW_SHARED_DATA is not set; run through ctest");
	pw_buf path = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_buf_printf(&path, "%s/inventories/%s", d, rel), PW_OK);
	if (pw_read_file(path.data, out, 0, &e))
		fail_msg("%s", pw_error_text(&e));
	pw_buf_release(&path);
}

static void valid(pw_scheme s, const char *name, const char *version)
{
	pw_error e = PW_ERROR_INIT;
	if (pw_pkgname_check(s, name, &e) || (version && pw_pkgversion_check(s, version, &e)))
		fail_msg("%s %s %s: %s", pw_scheme_name(s), name, version ? version : "", e.msg);
	assert_true(pw_pkgname_any(name));
	assert_true(!version || pw_pkgversion_any(version));
}

/* name<TAB>version<TAB>... lines after a # comment: how many checked. */
static size_t valid_tsv(pw_scheme s, const char *rel)
{
	pw_buf b = PW_BUF_INIT;
	read_shared(rel, &b);
	size_t n = 0;
	char *save = NULL;
	for (char *line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		char *tab = strchr(line, '\t'), *tab2 = tab ? strchr(tab + 1, '\t') : NULL;
		assert_non_null(tab2);
		*tab = *tab2 = '\0';
		valid(s, line, tab + 1);
		n++;
	}
	pw_buf_release(&b);
	return n;
}

static void test_real_names(void **state)
{
	(void)state;
	assert_int_equal(valid_tsv(PW_SCHEME_DEB, "claircore/debian-10.packages.tsv"), 91);
	assert_int_equal(valid_tsv(PW_SCHEME_RPM, "claircore/rhel8.rpm-packages.tsv"), 104);

	/* A dpkg status file as the agent reads it: names, versions, and the
	 * source packages' names and versions. */
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	read_shared("claircore/texlive.dpkg-status", &b);
	pw_inventory inv = PW_INVENTORY_INIT;
	assert_int_equal(pw_inventory_parse_dpkg(&inv, b.data, b.len, "status", &e), PW_OK);
	assert_int_equal(inv.n_pkgs, 357);
	for (size_t i = 0; i < inv.n_pkgs; i++) {
		valid(PW_SCHEME_DEB, inv.pkgs[i].name, inv.pkgs[i].version);
		if (inv.pkgs[i].source)
			valid(PW_SCHEME_DEB, inv.pkgs[i].source, inv.pkgs[i].source_version);
	}
	pw_inventory_release(&inv);
	pw_buf_release(&b);

	inv = (pw_inventory)PW_INVENTORY_INIT;
	read_shared("osv-scalibr/apk/installed", &b);
	assert_int_equal(pw_inventory_parse_apk(&inv, b.data, b.len, "installed", &e), PW_OK);
	assert_true(inv.n_pkgs >= 10);
	for (size_t i = 0; i < inv.n_pkgs; i++)
		valid(PW_SCHEME_APK, inv.pkgs[i].name, inv.pkgs[i].version);
	pw_inventory_release(&inv);
	pw_buf_release(&b);

	/* Epochs, tildes, binNMUs, rpm carets. */
	valid(PW_SCHEME_DEB, "libssl1.1", "1.1.1n-0+deb10u3");
	valid(PW_SCHEME_DEB, "g++", "4:8.3.0-1");
	valid(PW_SCHEME_DEB, "libc6", "2.28-10+deb10u2+b1");
	valid(PW_SCHEME_DEB, "linux-image-6.1.0-13-amd64", "6.1.55-1~bpo11+1");
	valid(PW_SCHEME_DEB, "python3", "3.11.2-1+b1");
	valid(PW_SCHEME_RPM, "kernel-core", "4.18.0-513.5.1.el8_9");
	valid(PW_SCHEME_RPM, "openssl-libs", "1:1.1.1k-9.el8_7");
	valid(PW_SCHEME_RPM, "_private", "1.0^20230101git1-1");
	valid(PW_SCHEME_APK, "musl", "1.2.4-r2");
	valid(PW_SCHEME_APK, "busybox", "1.36.1_p3-r0");
}

static void invalid_name(pw_scheme s, const char *name)
{
	pw_error e = PW_ERROR_INIT;
	if (pw_pkgname_check(s, name, &e) != PW_ERR_INVALID)
		fail_msg("%s name '%s' passed", pw_scheme_name(s), name ? name : "(null)");
	assert_non_null(strstr(e.msg, "package name"));
}

static void invalid_version(pw_scheme s, const char *v)
{
	pw_error e = PW_ERROR_INIT;
	if (pw_pkgversion_check(s, v, &e) != PW_ERR_INVALID)
		fail_msg("%s version '%s' passed", pw_scheme_name(s), v ? v : "(null)");
	assert_non_null(strstr(e.msg, "version"));
}

static void test_crafted(void **state)
{
	(void)state;
	char longname[PW_PKGNAME_MAX + 2], longver[PW_PKGVERSION_MAX + 2];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	memset(longver, '1', sizeof longver - 1);
	longver[sizeof longver - 1] = '\0';
	/* Never a name, in any ecosystem: */
	static const char *const names[] = {
		"",
		"-x",
		"--force-yes",
		"-oDpkg::Options::=--force-confnew",
		"a b",
		"a\tb",
		"a\nb",
		"openssl;rm -rf /",
		"$(reboot)",
		"`id`",
		"a|b",
		"a&b",
		"a>b",
		"../etc",
		"/bin/sh",
		"pkg=1.0",
		"pkg*",
		"pkg?",
		"a'b",
		"a\"b",
		"caf\xc3\xa9",
		".hidden",
		"+plus",
		"a\\b",
		NULL,
	};
	for (int s = PW_SCHEME_DEB; s <= PW_SCHEME_APK; s++) {
		for (size_t i = 0; i < sizeof names / sizeof *names; i++)
			invalid_name((pw_scheme)s, names[i]);
		invalid_name((pw_scheme)s, longname);
	}
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		assert_false(pw_pkgname_any(names[i]));
	assert_false(pw_pkgname_any(longname));
	/* deb only: upper case, one character, '_' */
	invalid_name(PW_SCHEME_DEB, "OpenSSL");
	invalid_name(PW_SCHEME_DEB, "a");
	invalid_name(PW_SCHEME_DEB, "lib_foo");
	valid(PW_SCHEME_RPM, "NetworkManager", NULL);
	valid(PW_SCHEME_APK, "py3-A_b", NULL);

	static const char *const versions[] = {
		"",
		"-1",
		"1.0 ",
		" 1.0",
		"1.0;id",
		"$(id)",
		"1.0\n",
		"1|2",
		"--force",
		"1.0'",
		"1.0\"",
		"1/2",
		"1*",
		NULL,
		/* rpm's parser took it; fuzz_job_args found it accepted */
		"-0:0:simu9",
	};
	for (int s = PW_SCHEME_DEB; s <= PW_SCHEME_APK; s++) {
		for (size_t i = 0; i < sizeof versions / sizeof *versions; i++)
			invalid_version((pw_scheme)s, versions[i]);
		invalid_version((pw_scheme)s, longver);
	}
	for (size_t i = 0; i < sizeof versions / sizeof *versions; i++)
		assert_false(pw_pkgversion_any(versions[i]));
	/* deb-version(5): digits-only epoch, digit first, no empty part */
	invalid_version(PW_SCHEME_DEB, "a:1.0");
	invalid_version(PW_SCHEME_DEB, "1:");
	invalid_version(PW_SCHEME_DEB, "1.0-");
	invalid_version(PW_SCHEME_DEB, "abc");
	invalid_version(PW_SCHEME_DEB, "1.0_1");
	/* rpm: one '-' between version and release, nothing empty */
	invalid_version(PW_SCHEME_RPM, "1.0-1-2");
	invalid_version(PW_SCHEME_RPM, ":1.0");
	invalid_version(PW_SCHEME_RPM, "1.0-");
	invalid_version(PW_SCHEME_RPM, "~1.0");
	/* apk: what apk_version_validate() refuses */
	invalid_version(PW_SCHEME_APK, "1.0-r");
	invalid_version(PW_SCHEME_APK, "r1");

	/* A message quotes only a printable prefix. */
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_pkgname_check(PW_SCHEME_DEB, "ok\x1b[31m", &e), PW_ERR_INVALID);
	assert_null(strchr(e.msg, '\x1b'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_names),
		cmocka_unit_test(test_crafted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
