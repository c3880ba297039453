#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "patchwarden/advisory.h"
#include "patchwarden/ecosystem.h"

static void expect_osv(const char *in, const char *want)
{
	char out[PW_ECOSYSTEM_MAX];
	pw_error e = PW_ERROR_INIT;
	if (pw_ecosystem_from_osv(in, out, &e) != PW_OK)
		fail_msg("%s: %s", in, pw_error_text(&e));
	assert_string_equal(out, want);
}

static void test_from_osv(void **state)
{
	(void)state;
	expect_osv("Debian:11", "debian:11");
	expect_osv("Debian:10", "debian:10");
	expect_osv("AlmaLinux:8", "almalinux:8");
	expect_osv("AlmaLinux:9", "almalinux:9");
	expect_osv("Rocky Linux:9", "rocky:9");
	expect_osv("Alpine:v3.18", "alpine:3.18");
	expect_osv("Ubuntu:18.04:LTS", "ubuntu:18.04");
	expect_osv("Ubuntu:22.10", "ubuntu:22.10");
	expect_osv("Ubuntu:Pro:18.04:LTS", "ubuntu-pro:18.04");
	expect_osv("Ubuntu:Pro:FIPS:20.04:LTS", "ubuntu-pro:20.04");
	expect_osv("Red Hat:enterprise_linux:8::appstream", "rhel:8");
	expect_osv("Red Hat:rhel_eus:8.4::baseos", "rhel-rhel_eus:8.4");
	expect_osv("SUSE:Linux Enterprise Server 15 SP5", "sles:15.5");
	expect_osv("SUSE:Linux Enterprise Server 12", "sles:12.0");
	expect_osv("openSUSE:Leap 15.5", "opensuse-leap:15.5");

	char out[PW_ECOSYSTEM_MAX];
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_ecosystem_from_osv("PyPI", out, &e), PW_ERR_UNSUPPORTED);
	assert_int_equal(pw_ecosystem_from_osv("Debian", out, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "Debian"));
	assert_int_equal(pw_ecosystem_from_osv("Debian:potatoes", out, &e), PW_ERR_NOTFOUND);
	assert_non_null(strstr(e.msg, "potatoes"));
	assert_int_equal(pw_ecosystem_from_osv("", out, &e), PW_ERR_INVALID);
}

static void expect_rel(const char *d, const char *r, const char *want)
{
	char out[PW_ECOSYSTEM_MAX];
	pw_error e = PW_ERROR_INIT;
	if (pw_ecosystem_from_release(d, r, out, &e) != PW_OK)
		fail_msg("%s %s: %s", d, r, pw_error_text(&e));
	assert_string_equal(out, want);
}

static void test_from_release(void **state)
{
	(void)state;
	expect_rel("debian", "bullseye", "debian:11");
	expect_rel("debian", "buster", "debian:10");
	expect_rel("debian", "woody", "debian:3.0");
	expect_rel("debian", "sid", "debian:sid");
	expect_rel("debian", "10.13", "debian:10");
	expect_rel("ubuntu", "bionic", "ubuntu:18.04");
	expect_rel("ubuntu", "focal", "ubuntu:20.04");
	expect_rel("ubuntu", "18.04", "ubuntu:18.04");
	expect_rel("alpine", "v3.10", "alpine:3.10");
	expect_rel("alpine", "3.18.4", "alpine:3.18");
	expect_rel("almalinux", "8.10", "almalinux:8");
	expect_rel("rocky", "9", "rocky:9");
	char out[PW_ECOSYSTEM_MAX];
	assert_int_equal(pw_ecosystem_from_release("ubuntu", "nosuch", out, NULL), PW_ERR_NOTFOUND);
	assert_int_equal(pw_ecosystem_from_release("alpine", "edge", out, NULL), PW_ERR_NOTFOUND);
}

static void test_from_os(void **state)
{
	(void)state;
	char out[PW_ECOSYSTEM_MAX];
	assert_int_equal(pw_ecosystem_from_os("debian", "12", "bookworm", out, NULL), PW_OK);
	assert_string_equal(out, "debian:12");
	/* Debian testing has no VERSION_ID. */
	assert_int_equal(pw_ecosystem_from_os("debian", NULL, "trixie", out, NULL), PW_OK);
	assert_string_equal(out, "debian:13");
	assert_int_equal(pw_ecosystem_from_os("ubuntu", "18.04", "bionic", out, NULL), PW_OK);
	assert_string_equal(out, "ubuntu:18.04");
	assert_int_equal(pw_ecosystem_from_os("almalinux", "8.10", NULL, out, NULL), PW_OK);
	assert_string_equal(out, "almalinux:8");
	assert_int_equal(pw_ecosystem_from_os("sles", "15-SP5", NULL, out, NULL), PW_OK);
	assert_string_equal(out, "sles:15.5");
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_ecosystem_from_os(NULL, "1", NULL, out, &e), PW_ERR_NOTFOUND);
	assert_int_equal(pw_ecosystem_from_os("debian", NULL, NULL, out, &e), PW_ERR_NOTFOUND);
	assert_non_null(strstr(e.msg, "VERSION_ID"));
}

static void test_scheme(void **state)
{
	(void)state;
	assert_int_equal(pw_ecosystem_scheme("debian:12"), PW_SCHEME_DEB);
	assert_int_equal(pw_ecosystem_scheme("ubuntu-pro:18.04"), PW_SCHEME_DEB);
	assert_int_equal(pw_ecosystem_scheme("alpine:3.18"), PW_SCHEME_APK);
	assert_int_equal(pw_ecosystem_scheme("almalinux:8"), PW_SCHEME_RPM);
	assert_true(pw_ecosystem_by_source("ubuntu:18.04"));
	assert_false(pw_ecosystem_by_source("rocky:9"));
	assert_true(pw_ecosystem_by_source("alpine:3.18"));
}

static void test_advisory_words(void **state)
{
	(void)state;
	assert_int_equal(pw_severity_from_text("Important"), PW_SEV_HIGH);
	assert_int_equal(pw_severity_from_text(" moderate"), PW_SEV_MEDIUM);
	assert_int_equal(pw_severity_from_text("CRITICAL"), PW_SEV_CRITICAL);
	assert_int_equal(pw_severity_from_text("unimportant"), PW_SEV_NEGLIGIBLE);
	assert_int_equal(pw_severity_from_text("Important: kernel security update"), PW_SEV_HIGH);
	assert_int_equal(pw_severity_from_text("highest"), PW_SEV_UNKNOWN);
	assert_int_equal(pw_severity_from_text(NULL), PW_SEV_UNKNOWN);
	assert_int_equal(pw_attack_vector_from_cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
			 PW_AV_NETWORK);
	assert_int_equal(pw_attack_vector_from_cvss("AV:L/AC:L/Au:N/C:P/I:P/A:P"), PW_AV_LOCAL);
	assert_int_equal(pw_attack_vector_from_cvss("CVSS:4.0/AV:P/AC:L"), PW_AV_PHYSICAL);
	assert_int_equal(pw_attack_vector_from_cvss("CVSS:3.0/XAV:N"), PW_AV_UNKNOWN);
	assert_int_equal(pw_attack_vector_from_cvss(""), PW_AV_UNKNOWN);
	assert_string_equal(pw_fix_state_name(PW_FIX_NOT_AFFECTED), "not-affected");
	assert_string_equal(pw_severity_name(PW_SEV_HIGH), "high");
	assert_string_equal(pw_attack_vector_name(PW_AV_ADJACENT), "adjacent");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_osv),       cmocka_unit_test(test_from_release),
		cmocka_unit_test(test_from_os),        cmocka_unit_test(test_scheme),
		cmocka_unit_test(test_advisory_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
