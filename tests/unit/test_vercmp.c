/* The scheme dispatcher: names, validity checks and that each scheme
 * reaches its own comparison. The comparisons themselves are tested in
 * test_vercmp_deb.c, test_vercmp_rpm.c and test_vercmp_apk.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "patchwarden/vercmp.h"

static void test_scheme_names(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		pw_scheme want;
	} names[] = {
		{"deb", PW_SCHEME_DEB}, {"dpkg", PW_SCHEME_DEB}, {"apt", PW_SCHEME_DEB},
		{"DEB", PW_SCHEME_DEB}, {"rpm", PW_SCHEME_RPM},  {"dnf", PW_SCHEME_RPM},
		{"yum", PW_SCHEME_RPM}, {"Rpm", PW_SCHEME_RPM},  {"apk", PW_SCHEME_APK},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		pw_scheme s = (pw_scheme)-1;
		assert_int_equal(pw_scheme_from_name(names[i].name, &s, NULL), PW_OK);
		assert_int_equal(s, names[i].want);
	}
	assert_string_equal(pw_scheme_name(PW_SCHEME_DEB), "deb");
	assert_string_equal(pw_scheme_name(PW_SCHEME_RPM), "rpm");
	assert_string_equal(pw_scheme_name(PW_SCHEME_APK), "apk");
	assert_string_equal(pw_scheme_name((pw_scheme)42), "unknown");

	pw_error e = PW_ERROR_INIT;
	pw_scheme s = PW_SCHEME_APK;
	assert_int_equal(pw_scheme_from_name("pacman", &s, &e), PW_ERR_INVALID);
	assert_string_equal(e.msg, "unknown version scheme 'pacman': use deb, rpm or apk");
	assert_int_equal(s, PW_SCHEME_APK);
	assert_int_equal(pw_scheme_from_name("", &s, &e), PW_ERR_INVALID);
	assert_int_equal(pw_scheme_from_name(NULL, &s, NULL), PW_ERR_INVALID);
	assert_int_equal(pw_scheme_from_name("debx", &s, NULL), PW_ERR_INVALID);
}

static void test_version_check(void **state)
{
	(void)state;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_version_check(PW_SCHEME_DEB, "1:2.3-4", &e), PW_OK);
	assert_int_equal(pw_version_check(PW_SCHEME_DEB, "abc", &e), PW_OK); /* dpkg only warns */
	assert_int_equal(pw_version_check(PW_SCHEME_DEB, "1.0-", &e), PW_ERR_PARSE);
	assert_string_equal(e.msg, "version '1.0-' has bad syntax: revision number is empty");
	assert_int_equal(pw_version_check(PW_SCHEME_RPM, "", &e), PW_ERR_PARSE);
	assert_int_equal(pw_version_check(PW_SCHEME_RPM, "1.0-", &e), PW_OK);
	assert_int_equal(pw_version_check(PW_SCHEME_DEB, NULL, &e), PW_ERR_INVALID);
	assert_int_equal(pw_version_check((pw_scheme)9, "1", &e), PW_ERR_INVALID);
	/* apk's own rules decide; the dispatcher must just ask them. */
	assert_int_equal(pw_version_check(PW_SCHEME_APK, "1.2.3-r0", NULL),
			 pw_apk_version_check("1.2.3-r0", NULL));
	assert_int_equal(pw_version_check(PW_SCHEME_APK, "1..2", NULL),
			 pw_apk_version_check("1..2", NULL));
}

static void test_dispatch(void **state)
{
	(void)state;
	/* Pairs the schemes order differently, so a wrong dispatch shows. */
	int cmp = 0;
	assert_int_equal(pw_vercmp(PW_SCHEME_DEB, "1.0-1", "1.0-1.el8", &cmp, NULL), PW_OK);
	assert_int_equal(cmp, -1);
	assert_int_equal(pw_vercmp(PW_SCHEME_DEB, "1.0a", "1.0+", &cmp, NULL), PW_OK);
	assert_true(cmp < 0); /* dpkg: letters before '+' */
	assert_int_equal(pw_vercmp(PW_SCHEME_RPM, "1.0a", "1.0+", &cmp, NULL), PW_OK);
	assert_true(cmp > 0); /* rpm: '+' separates, the letters are extra */
	assert_int_equal(pw_vercmp(PW_SCHEME_DEB, "1.0-1", "1.0", &cmp, NULL), PW_OK);
	assert_true(cmp > 0);
	assert_int_equal(pw_vercmp(PW_SCHEME_DEB, "1.0-0", "1.0", &cmp, NULL), PW_OK);
	assert_int_equal(cmp, 0); /* dpkg: revision "0" equals none */
	assert_int_equal(pw_vercmp(PW_SCHEME_RPM, "1.0-0", "1.0", &cmp, NULL), PW_OK);
	assert_true(cmp > 0); /* rpm: any release beats none */
	static const char *const apk_pairs[][2] = {
		{"1.0", "1.0-r1"},
		{"1.0_rc1", "1.0"},
		{"2.0", "10.0"},
		{"1.0", "1.0"},
	};
	for (size_t i = 0; i < sizeof apk_pairs / sizeof apk_pairs[0]; i++) {
		assert_int_equal(pw_vercmp(PW_SCHEME_APK, apk_pairs[i][0], apk_pairs[i][1], &cmp,
					   NULL),
				 PW_OK);
		assert_int_equal(cmp, pw_apk_vercmp(apk_pairs[i][0], apk_pairs[i][1]));
	}
}

static void test_errors_name_the_version(void **state)
{
	(void)state;
	pw_error e = PW_ERROR_INIT;
	int cmp = 7;
	assert_int_equal(pw_vercmp(PW_SCHEME_DEB, "1.0", "2:", &cmp, &e), PW_ERR_PARSE);
	assert_string_equal(e.msg,
			    "version '2:' has bad syntax: nothing after colon in version number");
	assert_int_equal(cmp, 7); /* untouched on failure */
	assert_int_equal(pw_vercmp(PW_SCHEME_DEB, "x:1", "1.0", &cmp, &e), PW_ERR_PARSE);
	assert_string_equal(e.msg, "version 'x:1' has bad syntax: epoch in version is empty");
	assert_int_equal(pw_vercmp(PW_SCHEME_RPM, "1", "", &cmp, &e), PW_ERR_PARSE);
	assert_int_equal(pw_vercmp(PW_SCHEME_DEB, NULL, "1", &cmp, &e), PW_ERR_INVALID);
	assert_int_equal(pw_vercmp(PW_SCHEME_DEB, "1", "1", NULL, &e), PW_ERR_INVALID);
	assert_int_equal(pw_vercmp((pw_scheme)9, "1", "1", &cmp, &e), PW_ERR_INVALID);
	assert_int_equal(pw_vercmp(PW_SCHEME_DEB, "1", "2:", &cmp, NULL), PW_ERR_PARSE);
	/* A long version is cut in the message, which stays within bounds. */
	char long_version[2000];
	memset(long_version, '9', sizeof long_version - 3);
	memcpy(long_version + sizeof long_version - 3, "-", 2);
	assert_int_equal(pw_version_check(PW_SCHEME_DEB, long_version, &e), PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, "...' has bad syntax: revision number is empty"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scheme_names),
		cmocka_unit_test(test_version_check),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_errors_name_the_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
