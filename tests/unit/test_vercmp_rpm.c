/* rpm version comparison against rpm's own test vectors (including the
 * "oddities" it documents), claircore's and OSV's, and EVR edge cases
 * checked one by one with rpm 4.18.0's Lua rpm.vercmp() on this machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "patchwarden/vercmp.h"
#include "vercmp_vectors.h"

enum { SEG = 1, EVR = 2 }; /* which comparisons a vector applies to */

static void check_pair(struct vec_tally *t, const char *where, const char *a, const char *b,
		       int want, int which)
{
	t->cases++;
	if (which & SEG) {
		int r = pw_rpm_segcmp(a, b), back = pw_rpm_segcmp(b, a);
		if (vec_sign(r) != want || vec_sign(back) != -want)
			vec_mismatch(t,
				     "%s: rpmvercmp('%s', '%s'): want %d, got %d (reversed %d)\n",
				     where, a, b, want, r, back);
	}
	if (which & EVR) {
		int r = pw_rpm_vercmp(a, b), back = pw_rpm_vercmp(b, a), via = 2;
		pw_error e = PW_ERROR_INIT;
		if (pw_vercmp(PW_SCHEME_RPM, a, b, &via, &e) != PW_OK)
			vec_mismatch(t, "%s: '%s' vs '%s' refused: %s\n", where, a, b,
				     pw_error_text(&e));
		if (vec_sign(r) != want || vec_sign(back) != -want || vec_sign(via) != want)
			vec_mismatch(t,
				     "%s: rpm.vercmp('%s', '%s'): want %d, got %d (reversed %d, "
				     "pw_vercmp %d)\n",
				     where, a, b, want, r, back, via);
	}
}

/* rpm/rpmvercmp.txt: "A B expected", and "#ODD A B expected" for the
 * behaviour rpm's test suite documents as arguably buggy (RhBug:811992,
 * non-ASCII letters as separators). rpm 4.18 does exactly that, and rpm's
 * Lua rpm.vercmp() agrees on all of these, so they are held to it too. */
struct rpm_counts {
	struct vec_tally t;
	int odd;
};

static void rpm_line(char *line, const char *where, void *ctx)
{
	struct rpm_counts *c = ctx;
	if (!strncmp(line, "#ODD ", 5)) {
		line += 5;
		c->odd++;
	} else if (line[0] == '#') {
		return;
	}
	char *f[4];
	if (vec_split(line, f, 4) != 3 || vec_expected(f[2]) == 2)
		fail_msg("%s: not 'A B -1|0|1'", where);
	check_pair(&c->t, where, f[0], f[1], vec_expected(f[2]), SEG | EVR);
}

static void test_rpm_vectors(void **state)
{
	(void)state;
	struct rpm_counts c = {{0, 0}, 0};
	vec_for_each_line("rpm/rpmvercmp.txt", rpm_line, &c);
	print_message("rpm/rpmvercmp.txt: %d active cases, %d #ODD cases\n", c.t.cases - c.odd,
		      c.odd);
	vec_done("rpm/rpmvercmp.txt", &c.t);
	assert_int_equal(c.t.cases, 103);
	assert_int_equal(c.odd, 12);
}

/* "A op B" files; `which` says how they compare. */
struct op_file {
	struct vec_tally t;
	int which;
};

static void op_line(char *line, const char *where, void *ctx)
{
	struct op_file *o = ctx;
	char *f[4];
	if (line[0] == '#')
		return;
	if (vec_split(line, f, 4) != 3 || vec_expected(f[1]) == 2)
		fail_msg("%s: not 'A op B'", where);
	check_pair(&o->t, where, f[0], f[2], vec_expected(f[1]), o->which);
}

static void test_claircore_and_osv_vectors(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		int which, cases;
	} files[] = {
		/* rpmvercmp cases; none has '-' or ':' so EVR gives the same. */
		{"claircore-rpmver/rpmvercmp.txt", SEG | EVR, 113},
		/* rpm.vercmp()-style EVR orderings, all confirmed by rpm 4.18. */
		{"osv-scalibr-semantic/redhat-versions.txt", EVR, 165},
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		struct op_file o = {{0, 0}, files[i].which};
		vec_for_each_line(files[i].file, op_line, &o);
		vec_done(files[i].file, &o.t);
		assert_int_equal(o.t.cases, files[i].cases);
	}
}

/* claircore's compare.txt mixes NEVRA (name, arch) with EVR; only the
 * block after "# EVR strings work." is plain EVR. */
struct evr_block {
	struct vec_tally t;
	bool in_block;
};

static void claircore_compare_line(char *line, const char *where, void *ctx)
{
	struct evr_block *b = ctx;
	if (line[0] == '#') {
		b->in_block = !strcmp(line, "# EVR strings work.");
		return;
	}
	if (!b->in_block)
		return;
	char *f[4];
	if (vec_split(line, f, 4) != 3 || vec_expected(f[1]) == 2)
		fail_msg("%s: not 'A op B'", where);
	check_pair(&b->t, where, f[0], f[2], vec_expected(f[1]), EVR);
}

static void test_claircore_evr_block(void **state)
{
	(void)state;
	struct evr_block b = {{0, 0}, false};
	vec_for_each_line("claircore-rpmver/compare.txt", claircore_compare_line, &b);
	vec_done("claircore-rpmver/compare.txt (EVR block)", &b.t);
	assert_int_equal(b.t.cases, 3);
}

/* Each expectation was checked with rpm --eval '%{lua: print(rpm.vercmp(A, B))}'. */
static void test_rpm_evr_edge_cases(void **state)
{
	(void)state;
	static const struct {
		const char *a, *b;
		int want;
	} cases[] = {
		{"1-1", "1", 1}, /* a release, even empty, beats none */
		{"1-", "1", 1},
		{"1-~", "1-", -1},
		{"0.0.0", "0.0.0-0", -1},
		{"1:1-1", "1:1", 1},
		{"0:1", "1", 0},  /* missing epoch is 0 */
		{":1", "0:1", 0}, /* so is an empty one */
		{"00:1", "0:1", 0},
		{"10:1", "9:2", 1},
		{"1:", "1", 1}, /* epoch 1, empty version */
		{"1:", "0:", 1},
		{"1:1", "2", 1},
		{"a:1", "1", -1}, /* not digits: no epoch, part of the version */
		{"1:1:1", "1:1", 1},
		{"-", "0", -1},
		{"-1", "1", -1},     /* empty version, release 1 */
		{"1-2-3", "1-2", 1}, /* release after the last '-' */
		{"1.0-1", "1.0-1.el8", -1},
		{"1.0~rc1-1", "1.0-0", -1},
		{"1^", "1-1", 1},
		{"2.0-1~", "2.0-1", -1},
		{"1_0-1", "1.0-1", 0},
		{"\xc3\xa9"
		 "1",
		 "1", 0}, /* non-ASCII bytes separate */
		{"1.0^git1~pre", "1.0^git1", -1},
		{"12345678901234567890123", "12345678901234567890122", 1},
		{"000000000000000000001", "1", 0},
	};
	struct vec_tally t = {0, 0};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_pair(&t, "EVR edge case", cases[i].a, cases[i].b, cases[i].want, EVR);
	/* rpmvercmp() itself does not split EVR: '-' and ':' separate. */
	check_pair(&t, "segment edge case", "1-1", "1", 1, SEG);
	check_pair(&t, "segment edge case", "1:2", "1.2", 0, SEG);
	check_pair(&t, "segment edge case", "", "", 0, SEG);
	check_pair(&t, "segment edge case", "", "~", 1, SEG);
	check_pair(&t, "segment edge case", "", "^", -1, SEG);
	vec_done("rpm edge cases", &t);
}

static void test_rpm_refuses_only_empty(void **state)
{
	(void)state;
	pw_error e = PW_ERROR_INIT;
	int cmp = 5;
	assert_int_equal(pw_vercmp(PW_SCHEME_RPM, "", "1", &cmp, &e), PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, "version '' is empty"));
	assert_int_equal(cmp, 5);
	assert_int_equal(pw_version_check(PW_SCHEME_RPM, "", NULL), PW_ERR_PARSE);
	assert_int_equal(pw_version_check(PW_SCHEME_RPM, " \t:-~^", NULL), PW_OK);
	assert_int_equal(pw_vercmp(PW_SCHEME_RPM, "-", ":", &cmp, NULL), PW_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rpm_vectors),
		cmocka_unit_test(test_claircore_and_osv_vectors),
		cmocka_unit_test(test_claircore_evr_block),
		cmocka_unit_test(test_rpm_evr_edge_cases),
		cmocka_unit_test(test_rpm_refuses_only_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
