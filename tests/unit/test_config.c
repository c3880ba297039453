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
			    "# keys outside a section: test_errors\n"
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
			    "sla_low = 10\n");
	pw_config *c = NULL;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_config_load(p, true, &c, &e), PW_OK);
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
	assert_int_equal(pw_config_get_int(c, "scan", "sla_low", 14, &l, &e), PW_OK);
	assert_int_equal(l, 10); /* a section may be opened again */
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
	/* A key before any section header, and one set twice (across a
	 * reopened section too): refused with both lines. */
	p = write_tmp("# c\ntop = 1\n[scan]\n");
	assert_int_equal(pw_config_load(p, true, &c, &e), PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, ":2: 'top' is outside any section"));
	unlink(p);
	free(p);
	p = write_tmp("[scan]\na = 1\n[x]\n[scan]\nb = 2\na = 1\n");
	assert_int_equal(pw_config_load(p, true, &c, &e), PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, ":6: [scan] a is set again (first on line 2)"));
	unlink(p);
	free(p);
	/* Missing file: error only when it must exist. */
	assert_int_equal(pw_config_load("/nonexistent/pw.conf", true, &c, &e), PW_ERR_NOTFOUND);
	assert_int_equal(pw_config_load("/nonexistent/pw.conf", false, &c, &e), PW_OK);
	assert_non_null(c);
	assert_null(pw_config_get(c, "scan", "x"));
	pw_config_free(c);
}

static pw_config *load_text(const char *text)
{
	char *p = write_tmp(text);
	pw_config *c = NULL;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_config_load(p, true, &c, &e), PW_OK);
	unlink(p);
	free(p);
	return c;
}

static void test_sections(void **state)
{
	(void)state;
	static const char *const known[] = {"server", "source *", NULL};
	pw_error e = PW_ERROR_INIT;
	pw_config *c = load_text("[server]\n[source a]\n[source  b c]\n");
	assert_int_equal(pw_config_check_sections(c, known, &e), PW_OK);
	pw_config_free(c);
	const char *bad[] = {"[serevr]\n", "[source]\n", "[sourcex]\n", "[server x]\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		c = load_text(bad[i]);
		assert_int_equal(pw_config_check_sections(c, known, &e), PW_ERR_PARSE);
		assert_non_null(strstr(e.msg, ":1: patchwarden has no section ["));
		pw_config_free(c);
	}
}

/* Written out by hand: a changed, b removed, c added, d the same, e in
 * another section, f set twice to the same value by pw_config_set. */
static void test_changed(void **state)
{
	(void)state;
	pw_config *a = load_text("[s]\na = 1\nb = 2\nd = 4\nf = 6\n[t]\ne = 5\n");
	pw_config *b = load_text("[s]\nc = 3\nd = 4\na = 9\n[t]\ne = 0\n");
	assert_int_equal(pw_config_set(b, "s", "f", "6"), PW_OK);
	assert_int_equal(pw_config_set(b, "s", "f", "6"), PW_OK);
	const char *want[] = {"a", "b", "c"};
	size_t pos = 0, n = 0;
	for (const char *k; (k = pw_config_changed(a, b, "s", &pos)); n++) {
		assert_true(n < 3);
		assert_string_equal(k, want[n]);
	}
	assert_int_equal(n, 3);
	pos = 0;
	assert_string_equal(pw_config_changed(a, b, "t", &pos), "e");
	assert_null(pw_config_changed(a, b, "t", &pos));
	pos = 0;
	assert_null(pw_config_changed(a, a, "s", &pos));
	pw_config_free(a);
	pw_config_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_changed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
