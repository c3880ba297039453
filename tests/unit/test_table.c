/* Tables on the command line (src/table.c): widths fitted to the content
 * and to a width limit, flexible columns shortened first with an
 * ellipsis that never cuts a UTF-8 character, colour only when asked and
 * never counted, control characters escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "table.h"

/* cli.c looks usage texts up in the command table of main.c. */
const struct pw_cmd *pw_cli_find(const char *name)
{
	(void)name;
	return NULL;
}

static const struct pw_table_col cols[] = {
	{"PRIORITY", PW_COL_STYLE, 0},
	{"PACKAGE", PW_COL_FLEX, 0},
	{"N", PW_COL_RIGHT, 0},
	{"NOTE", PW_COL_FLEX, 0},
};

/* The table printed into a string (caller frees). */
static char *render(const pw_table *t, size_t width, bool color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	struct pw_term term = {width, color};
	assert_int_equal(pw_table_print(t, f, term), 0);
	fclose(f);
	return buf;
}

/* The widest line, in characters. */
static size_t widest(const char *s)
{
	size_t max = 0;
	while (*s) {
		size_t len = strcspn(s, "\n");
		char *line = strndup(s, len);
		size_t w = pw_utf8_width(line);
		free(line);
		if (w > max)
			max = w;
		s += len + (s[len] == '\n');
	}
	return max;
}

static void fill(pw_table *t)
{
	pw_table_columns(t, cols, 4);
	pw_table_row(t, PW_STYLE_EMERGENCY,
		     (const char *[]){"emergency", "openssl (libssl3, openssl)", "12",
				      "CVE-2024-0001 CVE-2024-0002 CVE-2024-0003"});
	pw_table_row(t, PW_STYLE_LOW, (const char *[]){"low", "zlib", "1", NULL});
}

static void natural_widths(void **state)
{
	(void)state;
	pw_table t = PW_TABLE_INIT;
	fill(&t);
	char *s = render(&t, 0, false);
	assert_string_equal(s, "PRIORITY   PACKAGE                      N  NOTE\n"
			       "emergency  openssl (libssl3, openssl)  12  CVE-2024-0001 "
			       "CVE-2024-0002 CVE-2024-0003\n"
			       "low        zlib                         1  -\n");
	free(s);
	pw_table_release(&t);
}

static void fitted_to_width(void **state)
{
	(void)state;
	pw_table t = PW_TABLE_INIT;
	fill(&t);
	for (size_t w = 20; w <= 100; w += 5) {
		char *s = render(&t, w, false);
		assert_true(widest(s) <= w);
		free(s);
	}
	/* 50 of 84: only the flexible columns give way, the widest first:
	 * NOTE 41 -> 26, then both in turn, PACKAGE 26 -> 16, NOTE -> 17 (N is
	 * right-aligned: its header is padded on the left). */
	char *s = render(&t, 50, false);
	assert_non_null(strstr(s, "PRIORITY   PACKAGE            N  NOTE\n"
				  "emergency  openssl (libssl\xe2\x80\xa6  12  CVE-2024-0001 "
				  "CV\xe2\x80\xa6\n"));
	free(s);
	pw_table_release(&t);
}

/* A flexible column's `keep`: the flexible columns give way widest first
 * (in turn when equal), it down to `keep` and the others to 8; then it
 * goes down to 8 before a column that is not flexible gives anything. */
static void keep_width(void **state)
{
	(void)state;
	static const struct pw_table_col k[] = {{"NAME", PW_COL_FLEX, 12},
						{"VERSION", 0, 0},
						{"LIST", PW_COL_FLEX, 0}};
	pw_table t = PW_TABLE_INIT;
	pw_table_columns(&t, k, 3);
	pw_table_row(&t, PW_STYLE_NONE,
		     (const char *[]){"abcdefghijklmnopqrst", "1.0-1", "a b c d e f g h i j"});
	/* natural 20 + 2 + 7 + 2 + 19 = 50; at 40: NAME 14, LIST 15 */
	char *s = render(&t, 40, false);
	assert_string_equal(s, "NAME            VERSION  LIST\n"
			       "abcdefghijklm\xe2\x80\xa6  1.0-1    a b c d e f g \xe2\x80\xa6\n");
	free(s);
	s = render(&t, 31, false); /* NAME stops at 12, LIST goes on to 8 */
	assert_string_equal(s, "NAME          VERSION  LIST\n"
			       "abcdefghijk\xe2\x80\xa6  1.0-1    a b c d\xe2\x80\xa6\n");
	free(s);
	/* 27: NAME from 12 to 8 before VERSION gives anything */
	s = render(&t, 27, false);
	assert_string_equal(s, "NAME      VERSION  LIST\n"
			       "abcdefg\xe2\x80\xa6  1.0-1    a b c d\xe2\x80\xa6\n");
	free(s);
	pw_table_release(&t);
}

static void utf8_never_cut(void **state)
{
	(void)state;
	static const struct pw_table_col one[] = {{"NAME", PW_COL_FLEX, 0}, {"X", 0, 0}};
	pw_table t = PW_TABLE_INIT;
	pw_table_columns(&t, one, 2);
	/* ten two-byte characters: ten columns wide, not twenty */
	pw_table_row(&t, PW_STYLE_NONE,
		     (const char *[]){"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
				      "x"});
	char *s = render(&t, 0, false);
	assert_string_equal(s, "NAME        X\n\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9  x\n");
	free(s);
	s = render(&t, 11, false); /* NAME gets 8: seven characters and the ellipsis */
	assert_string_equal(s, "NAME      X\n\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			       "\xc3\xa9\xe2\x80\xa6  x\n");
	free(s);
	pw_table_release(&t);
}

static void colour(void **state)
{
	(void)state;
	pw_table t = PW_TABLE_INIT;
	fill(&t);
	char *plain = render(&t, 60, false);
	assert_null(strchr(plain, '\033'));
	char *c = render(&t, 60, true);
	assert_non_null(strstr(c, "\033[1;31memergency\033[0m  openssl"));
	assert_non_null(strstr(c, "\033[2mlow\033[0m"));
	/* Without the escape codes it is the plain table: they take no width. */
	char *p = c, *q = c;
	while (*p) {
		if (*p == '\033') {
			p += strcspn(p, "m") + 1;
			continue;
		}
		*q++ = *p++;
	}
	*q = '\0';
	assert_string_equal(c, plain);
	free(plain);
	free(c);
	pw_table_release(&t);
}

static void control_characters_escaped(void **state)
{
	(void)state;
	static const struct pw_table_col one[] = {{"NAME", 0, 0}};
	pw_table t = PW_TABLE_INIT;
	pw_table_columns(&t, one, 1);
	pw_table_row(&t, PW_STYLE_NONE, (const char *[]){"evil\033[2J\n\r\xff"});
	char *s = render(&t, 0, false);
	assert_string_equal(s, "NAME\nevil\\x1b[2J\\x0a\\x0d\\xff\n");
	free(s);
	pw_table_release(&t);
}

static void priorities(void **state)
{
	(void)state;
	assert_int_equal(pw_style_of_priority("emergency"), PW_STYLE_EMERGENCY);
	assert_int_equal(pw_style_of_priority("high"), PW_STYLE_HIGH);
	assert_int_equal(pw_style_of_priority("normal"), PW_STYLE_NORMAL);
	assert_int_equal(pw_style_of_priority("low"), PW_STYLE_LOW);
	assert_int_equal(pw_style_of_priority("other"), PW_STYLE_NONE);
	assert_int_equal(pw_style_of_priority(NULL), PW_STYLE_NONE);
}

static void wrap(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	pw_term_wrap(f, 20, 2, "Summary: 1 emergency, 0 high, 2 normal");
	pw_term_wrap(f, 0, 2, "as it is, however long the line");
	fclose(f);
	assert_string_equal(buf, "Summary: 1\n  emergency, 0 high,\n  2 normal\n"
				 "as it is, however long the line\n");
	free(buf);
}

static void width_from_environment(void **state)
{
	(void)state;
	/* the tests' standard output is not a terminal */
	setenv("COLUMNS", "77", 1);
	assert_int_equal(pw_term_width(1), 77);
	setenv("COLUMNS", "x", 1);
	assert_int_equal(pw_term_width(1), 0);
	unsetenv("COLUMNS");
	assert_int_equal(pw_term_width(1), 0);
	assert_false(pw_term_color(1, PW_COLOR_AUTO));
	assert_true(pw_term_color(1, PW_COLOR_ALWAYS));
	assert_false(pw_term_color(1, PW_COLOR_NEVER));
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(natural_widths),
		cmocka_unit_test(fitted_to_width),
		cmocka_unit_test(keep_width),
		cmocka_unit_test(utf8_never_cut),
		cmocka_unit_test(colour),
		cmocka_unit_test(control_characters_escaped),
		cmocka_unit_test(priorities),
		cmocka_unit_test(wrap),
		cmocka_unit_test(width_from_environment),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
