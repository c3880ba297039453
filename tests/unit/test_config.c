#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "patchwarden/config.h"
#include "patchwarden/fileio.h"

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/pw-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pw_write_file_atomic(path, text, strlen(text), 0600, NULL), PW_OK);
	return path;
}

static void test_values(void **state)
{
	(void)state;
	char *p = write_tmp("# comment\n"
			    "top = 1\n"
			    "[scan]\n"
			    "  epss_threshold = 0.25  \n"
			    "internet_facing = yes\n"
			    "sla_high = 7\n"
			    "name = \"quoted value\"\n"
			    "[source  debian-dsa]\n"
			    "url = https://example.invalid/DSA/list\n"
			    "[source alpine]\n"
			    "url = x\n"
			    "[scan]\n"
			    "sla_high = 10\n");
	pw_config *c = NULL;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_config_load(p, true, &c, &e), PW_OK);
	assert_string_equal(pw_config_get(c, "", "top"), "1");
	assert_string_equal(pw_config_get(c, "scan", "name"), "quoted value");
	double d;
	assert_int_equal(pw_config_get_double(c, "scan", "epss_threshold", 0.1, &d, &e), PW_OK);
	assert_true(d > 0.249 && d < 0.251);
	assert_int_equal(pw_config_get_double(c, "scan", "missing", 0.1, &d, &e), PW_OK);
	assert_true(d > 0.09 && d < 0.11);
	bool b;
	assert_int_equal(pw_config_get_bool(c, "scan", "internet_facing", false, &b, &e), PW_OK);
	assert_true(b);
	long l;
	assert_int_equal(pw_config_get_int(c, "scan", "sla_high", 14, &l, &e), PW_OK);
	assert_int_equal(l, 10); /* last assignment wins */
	assert_int_equal(pw_config_count_sections(c, "source"), 2);
	assert_string_equal(pw_config_section_name(c, "source", 0), "debian-dsa");
	assert_string_equal(pw_config_section_name(c, "source", 1), "alpine");
	assert_null(pw_config_section_name(c, "source", 2));
	assert_string_equal(pw_config_get(c, "source debian-dsa", "url"),
			    "https://example.invalid/DSA/list");
	/* Wrong type: error names file, line and key. */
	assert_int_equal(pw_config_get_int(c, "scan", "name", 0, &l, &e), PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, ":7:"));
	assert_non_null(strstr(e.msg, "name"));
	assert_int_equal(pw_config_set(c, "scan", "sla_high", "3"), PW_OK);
	assert_int_equal(pw_config_get_int(c, "scan", "sla_high", 14, &l, &e), PW_OK);
	assert_int_equal(l, 3);
	pw_config_free(c);
	unlink(p);
	free(p);
}

static void test_errors(void **state)
{
	(void)state;
	pw_config *c = NULL;
	pw_error e = PW_ERROR_INIT;
	char *p = write_tmp("[scan]\nthis line has no equals\n");
	assert_int_equal(pw_config_load(p, true, &c, &e), PW_ERR_PARSE);
	assert_null(c);
	assert_non_null(strstr(e.msg, ":2:"));
	unlink(p);
	free(p);
	p = write_tmp("[scan\n");
	assert_int_equal(pw_config_load(p, true, &c, &e), PW_ERR_PARSE);
	unlink(p);
	free(p);
	p = write_tmp("[]\n");
	assert_int_equal(pw_config_load(p, true, &c, &e), PW_ERR_PARSE);
	unlink(p);
	free(p);
	p = write_tmp(" = value\n");
	assert_int_equal(pw_config_load(p, true, &c, &e), PW_ERR_PARSE);
	unlink(p);
	free(p);
	/* Missing file: error only when it must exist. */
	assert_int_equal(pw_config_load("/nonexistent/pw.conf", true, &c, &e), PW_ERR_NOTFOUND);
	assert_int_equal(pw_config_load("/nonexistent/pw.conf", false, &c, &e), PW_OK);
	assert_non_null(c);
	assert_null(pw_config_get(c, "scan", "x"));
	pw_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
