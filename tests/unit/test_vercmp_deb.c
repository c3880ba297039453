/* deb version parsing and comparison against dpkg's own test vectors,
 * OSV's dpkg-checked orderings, and edge cases checked one by one with
 * dpkg 1.21.23 --compare-versions on this machine. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "patchwarden/vercmp.h"
#include "vercmp_vectors.h"

/* Checks cmp(a, b) == want through every entry point, both ways round. */
static void check_pair(struct vec_tally *t, const char *where, const char *a, const char *b,
		       int want)
{
	t->cases++;
	int cmp = 2, back = 2;
	pw_error e = PW_ERROR_INIT;
	if (pw_vercmp(PW_SCHEME_DEB, a, b, &cmp, &e) != PW_OK ||
	    pw_vercmp(PW_SCHEME_DEB, b, a, &back, &e) != PW_OK) {
		vec_mismatch(t, "%s: '%s' vs '%s': refused: %s\n", where, a, b, pw_error_text(&e));
		return;
	}
	int fast = pw_deb_vercmp(a, b);
	if (vec_sign(cmp) != want || vec_sign(back) != -want || vec_sign(fast) != want)
		vec_mismatch(t, "%s: '%s' vs '%s': want %d, got %d (reversed %d, fast %d)\n", where,
			     a, b, want, cmp, back, fast);
}

/* dpkg-version-compare.txt: "A B expected" */
static void compare_line(char *line, const char *where, void *ctx)
{
	char *f[4];
	if (line[0] == '#')
		return;
	if (vec_split(line, f, 4) != 3 || vec_expected(f[2]) == 2)
		fail_msg("%s: not 'A B -1|0|1'", where);
	check_pair(ctx, where, f[0], f[1], vec_expected(f[2]));
}

static void test_dpkg_compare_vectors(void **state)
{
	(void)state;
	struct vec_tally t = {0, 0};
	vec_for_each_line("dpkg/dpkg-version-compare.txt", compare_line, &t);
	vec_done("dpkg/dpkg-version-compare.txt", &t);
	assert_int_equal(t.cases, 43);
}

/* dpkg-version-parse.txt: KIND 'input' [=> epoch|upstream|revision] or
 * SORT v1 v2 ...; inside quotes only \t is an escape (backslash is also
 * one of the tested characters). */
static char *unquote(char **p, const char *where)
{
	if (**p != '\'')
		fail_msg("%s: input is not quoted", where);
	char *start = ++*p, *out = start;
	for (; **p && **p != '\''; (*p)++) {
		if ((*p)[0] == '\\' && (*p)[1] == 't') {
			*out++ = '\t';
			(*p)++;
		} else {
			*out++ = **p;
		}
	}
	if (**p != '\'')
		fail_msg("%s: unterminated quote", where);
	(*p)++;
	*out = '\0';
	return start;
}

struct parse_counts {
	struct vec_tally t;
	int valid, invalid, warn, sorted;
};

static void check_sorted(struct parse_counts *c, const char *where, char *list)
{
	char *v[16];
	int n = vec_split(list, v, 16);
	assert_in_range(n, 2, 16);
	for (int i = 0; i < n; i++)
		for (int j = i; j < n; j++)
			check_pair(&c->t, where, v[i], v[j], i == j ? 0 : -1);
	c->sorted++;
}

static void check_valid(struct parse_counts *c, const char *where, const char *in, const char *want)
{
	pw_deb_version d;
	pw_error e = PW_ERROR_INIT;
	c->t.cases++;
	c->valid++;
	if (pw_deb_version_parse(in, &d, &e) != PW_OK) {
		vec_mismatch(&c->t, "%s: '%s' refused: %s\n", where, in, pw_error_text(&e));
		return;
	}
	char got[256];
	snprintf(got, sizeof got, "%u|%.*s|%.*s", d.epoch, (int)d.upstream_len, d.upstream,
		 (int)d.revision_len, d.revision);
	if (strcmp(got, want) != 0 || d.warning)
		vec_mismatch(&c->t, "%s: '%s' parsed as %s (warning: %s), want %s\n", where, in,
			     got, d.warning ? d.warning : "none", want);
}

static void check_refused_or_warned(struct parse_counts *c, const char *where, const char *in,
				    bool refused)
{
	pw_deb_version d;
	pw_error e = PW_ERROR_INIT;
	c->t.cases++;
	pw_err rc = pw_deb_version_parse(in, &d, &e);
	if (refused) {
		c->invalid++;
		if (rc != PW_ERR_PARSE || !strstr(e.msg, "has bad syntax: "))
			vec_mismatch(&c->t, "%s: '%s' should be refused, got %d '%s'\n", where, in,
				     rc, e.msg);
		if (pw_deb_version_check(in, NULL) != PW_ERR_PARSE)
			vec_mismatch(&c->t, "%s: '%s' passes pw_deb_version_check\n", where, in);
		return;
	}
	c->warn++;
	if (rc != PW_OK || !d.warning || pw_deb_version_check(in, NULL) != PW_OK)
		vec_mismatch(&c->t, "%s: '%s' should be accepted with a warning, got %d '%s'\n",
			     where, in, rc, rc ? e.msg : "no warning");
}

static void parse_line(char *line, const char *where, void *ctx)
{
	struct parse_counts *c = ctx;
	if (line[0] == '#')
		return;
	char *p = strchr(line, ' ');
	if (!p)
		fail_msg("%s: no input", where);
	*p++ = '\0';
	if (!strcmp(line, "SORT")) {
		check_sorted(c, where, p);
		return;
	}
	char *in = unquote(&p, where);
	if (!strcmp(line, "VALID")) {
		if (strncmp(p, " => ", 4) != 0)
			fail_msg("%s: VALID without '=> e|u|r'", where);
		check_valid(c, where, in, p + 4);
	} else if (!strcmp(line, "INVALID") || !strcmp(line, "WARN")) {
		check_refused_or_warned(c, where, in, !strcmp(line, "INVALID"));
	} else {
		fail_msg("%s: unknown kind %s", where, line);
	}
}

static void test_dpkg_parse_vectors(void **state)
{
	(void)state;
	struct parse_counts c = {{0, 0}, 0, 0, 0, 0};
	vec_for_each_line("dpkg/dpkg-version-parse.txt", parse_line, &c);
	print_message("dpkg-version-parse.txt: %d VALID, %d INVALID, %d WARN, %d SORT lines\n",
		      c.valid, c.invalid, c.warn, c.sorted);
	vec_done("dpkg/dpkg-version-parse.txt", &c.t);
	assert_int_equal(c.valid, 19);
	assert_int_equal(c.invalid, 13);
	assert_int_equal(c.warn, 52);
	assert_int_equal(c.sorted, 3);
}

/* OSV's files: "A op B" with op < = >. */
static void osv_line(char *line, const char *where, void *ctx)
{
	char *f[4];
	if (line[0] == '#')
		return;
	if (vec_split(line, f, 4) != 3 || vec_expected(f[1]) == 2)
		fail_msg("%s: not 'A op B'", where);
	check_pair(ctx, where, f[0], f[2], vec_expected(f[1]));
}

static void test_osv_debian_vectors(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		int cases;
	} files[] = {
		{"osv-scalibr-semantic/debian-versions.txt", 30},
		{"osv-scalibr-semantic/debian-versions-generated.txt", 14442},
	};
	for (size_t i = 0; i < 2; i++) {
		struct vec_tally t = {0, 0};
		vec_for_each_line(files[i].file, osv_line, &t);
		vec_done(files[i].file, &t);
		assert_int_equal(t.cases, files[i].cases);
	}
}

/* Each expectation below was checked with dpkg --compare-versions. */
static void test_dpkg_edge_cases(void **state)
{
	(void)state;
	static const struct {
		const char *a, *b;
		int want;
	} cases[] = {
		{"+1:0", "1:0", 0},  /* strtol() takes a sign */
		{"-0:1", "1", 0},    /* ... even a minus on zero */
		{"\n1:0", "1:0", 0}, /* ... and skips isspace() */
		{"\v2:0", "1:9", 1},
		{"00001:0", "1:0", 0},
		{"2147483647:1", "1", 1}, /* INT_MAX is the largest epoch */
		{" 1.0\t", "1.0", 0},     /* blanks around are trimmed */
		{"1\n", "1", 1},          /* newline is no blank: a character */
		{"1:2:3", "1:2:3", 0},    /* first colon ends the epoch */
		{"1:2:3", "1:2:2", 1},
		{"1.0-1-1", "1.0-1-0", 1}, /* last hyphen starts the revision */
		{"1.0-1-1", "1.0-2", 1},   /* upstream "1.0-1" > "1.0" */
		{"1~", "1", -1},
		{"1~~", "1~", -1},
		{"1~~a", "1~~", 1},
		{"1a", "1+", -1}, /* letters before other characters */
		{"1.", "1", 1},
		{"1.0", "1.00", 0},
		{"1.0-0", "1.0", 0}, /* revision "0" is no revision */
		{"99999999999999999999999", "99999999999999999999998", 1},
		{"1@", "1+", 1}, /* invalid characters still compare */
		{"1\x7f", "1~", 1},
	};
	struct vec_tally t = {0, 0};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_pair(&t, "edge case", cases[i].a, cases[i].b, cases[i].want);
	/* Bytes >= 0x80 rank as dpkg's plain char gives them: after letters;
	 * before ASCII punctuation where char is signed (amd64), after it
	 * where it is unsigned. */
	check_pair(&t, "edge case", "1a\xc3\xa9", "1az", 1);
	check_pair(&t, "edge case", "1a\xc3\xa9", "1a+", CHAR_MIN < 0 ? -1 : 1);
	vec_done("edge cases", &t);
}

static void expect_refused(const char *v, const char *reason)
{
	pw_error e = PW_ERROR_INIT;
	pw_deb_version d;
	assert_int_equal(pw_deb_version_parse(v, &d, &e), PW_ERR_PARSE);
	assert_int_equal(e.code, PW_ERR_PARSE);
	if (!strstr(e.msg, reason))
		fail_msg("'%s': message '%s' lacks '%s'", v, e.msg, reason);
	int cmp;
	assert_int_equal(pw_vercmp(PW_SCHEME_DEB, "1.0", v, &cmp, NULL), PW_ERR_PARSE);
}

static void test_dpkg_messages(void **state)
{
	(void)state;
	/* dpkg's wording and order of checks, as dpkg 1.21.23 reports them. */
	expect_refused("", "version '' has bad syntax: version string is empty");
	expect_refused(" \t ", "version string is empty");
	expect_refused("1 2", "version '1 2' has bad syntax: version string has embedded spaces");
	expect_refused("1 \n", "embedded spaces");
	expect_refused(":1", "epoch in version is empty");
	expect_refused("a:1", "epoch in version is empty");
	expect_refused("+:1", "epoch in version is empty");
	expect_refused("1a:1", "epoch in version is not number");
	expect_refused("1.0:1", "epoch in version is not number");
	expect_refused("-1:0", "epoch in version is negative");
	expect_refused("-99999999999999999999:0", "epoch in version is negative");
	expect_refused("2147483648:0", "epoch in version is too big");
	expect_refused("99999999999999999999:0", "epoch in version is too big");
	expect_refused("1:", "nothing after colon in version number");
	expect_refused("1: ", "version number is empty");
	expect_refused("1.0-", "revision number is empty");
	expect_refused("1:-1", "version number is empty");
	expect_refused("-", "revision number is empty");
	/* Control characters are shown escaped, so a message is one line. */
	expect_refused("\n1 2", "version '\\x0a1 2' has bad syntax");

	pw_deb_version d;
	assert_int_equal(pw_deb_version_parse("a1", &d, NULL), PW_OK);
	assert_string_equal(d.warning, "version number does not start with digit");
	assert_int_equal(pw_deb_version_parse("1_0", &d, NULL), PW_OK);
	assert_string_equal(d.warning, "invalid character in version number");
	assert_int_equal(pw_deb_version_parse("1-1_0", &d, NULL), PW_OK);
	assert_string_equal(d.warning, "invalid character in revision number");
	assert_int_equal(pw_deb_version_parse("1:2.0~rc1+dfsg-3ubuntu1.1", &d, NULL), PW_OK);
	assert_null(d.warning);
	assert_int_equal(d.epoch, 1);
	assert_int_equal(d.upstream_len, strlen("2.0~rc1+dfsg"));
	assert_memory_equal(d.revision, "3ubuntu1.1", d.revision_len);
	assert_int_equal(pw_deb_version_parse(NULL, &d, NULL), PW_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dpkg_compare_vectors),
		cmocka_unit_test(test_dpkg_parse_vectors),
		cmocka_unit_test(test_osv_debian_vectors),
		cmocka_unit_test(test_dpkg_edge_cases),
		cmocka_unit_test(test_dpkg_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
