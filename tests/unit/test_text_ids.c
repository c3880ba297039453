/* The grammars of vulnerability ids (text.h): what the API's {cve} and
 * {advisory} path parameters, `patchwarden cve|advisory` and the
 * findings' cve filter accept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "patchwarden/text.h"

static void test_cve_ids(void **state)
{
	(void)state;
	const char *good[] = {"CVE-2023-5363", "CVE-1999-0001", "CVE-2021-4414412",
			      "CVE-2024-123456789012"};
	const char *bad[] = {NULL,
			     "",
			     "cve-2023-5363",
			     "CVE-23-5363",
			     "CVE-2023-536",
			     "CVE-2023-5363 ",
			     " CVE-2023-5363",
			     "CVE-2023-5363x",
			     "CVE-2023_5363",
			     "CVE-20231-5363",
			     "CVE-2024-1234567890123",
			     "CVE-2023-5363%"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!pw_cve_id_ok(good[i]))
			fail_msg("%s refused", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (pw_cve_id_ok(bad[i]))
			fail_msg("%s accepted", bad[i]);
}

static void test_advisory_ids(void **state)
{
	(void)state;
	const char *good[] = {"DSA-5532-1",
			      "DLA-3325-1",
			      "USN-6123-1",
			      "RHSA-2024:1234",
			      "ALSA-2024:0627",
			      "GHSA-jfh8-c2jp-5v3q",
			      "openSUSE-SU-2024:1234-1",
			      "DEBIAN-CVE-2023-5363",
			      "CVE-2023-5363",
			      "PYSEC-2021.1_x",
			      "0123456789012345678901234567890123456789012345678901234567890123"};
	const char *bad[] = {NULL,
			     "",
			     "-DSA-5532-1",
			     ":x",
			     ".x",
			     "_x",
			     "DSA 5532-1",
			     "DSA-5532-1/",
			     "DSA-5532-1;",
			     "DSA%205532",
			     "DSA-5532-1\n",
			     "ALSA-2024:06\xc3\xa9",
			     "01234567890123456789012345678901234567890123456789012345678901234"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!pw_advisory_id_ok(good[i]))
			fail_msg("%s refused", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (pw_advisory_id_ok(bad[i]))
			fail_msg("%s accepted", bad[i] ? bad[i] : "NULL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cve_ids),
		cmocka_unit_test(test_advisory_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
