/* The SVG chart writer (svg_chart.h): every text escaped, and no series
 * shape (none, one point, all zero, NaN, negative, infinite) that divides
 * by zero or writes a number an SVG reader refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "patchwarden/svg_chart.h"

static size_t count(const char *s, const char *what)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* What every chart must be: one <svg> element with its title and desc,
 * no number that is not finite, no markup from the texts. */
static void check_svg(const char *s, size_t points)
{
	assert_int_equal(count(s, "<svg "), 1);
	assert_int_equal(count(s, "</svg>"), 1);
	assert_non_null(strstr(s, "role=\"img\""));
	assert_non_null(strstr(s, "aria-labelledby=\"c1-title c1-desc\""));
	assert_non_null(strstr(s, "<title id=\"c1-title\">"));
	assert_non_null(strstr(s, "<desc id=\"c1-desc\">"));
	assert_null(strstr(s, "nan"));
	assert_null(strstr(s, "inf"));
	assert_null(strstr(s, "<b>"));
	/* The chart's title, desc and one per point. */
	assert_int_equal(count(s, "<title"), 1 + points);
}

static const pw_svg_chart chart = {"c1", "Title <b>&", "Desc \"'", "%", 0, 0, 0};

static void test_escape(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	assert_int_equal(pw_xml_escape(&b, "a<b>&\"'c\x01z\t"), PW_OK);
	assert_string_equal(pw_buf_str(&b), "a&lt;b&gt;&amp;&quot;&#39;c\xef\xbf\xbdz\t");
	assert_int_equal(pw_xml_escape(&b, NULL), PW_OK);
	pw_buf_release(&b);

	pw_svg_point p[] = {{"<script>", 1, "x\"onload=\""}, {"a&b", 2, NULL}};
	pw_error err = PW_ERROR_INIT;
	for (int line = 0; line < 2; line++) {
		assert_int_equal(line ? pw_svg_line_chart(&b, &chart, p, 2, &err)
				      : pw_svg_bar_chart(&b, &chart, p, 2, &err),
				 PW_OK);
		const char *s = pw_buf_str(&b);
		check_svg(s, 2);
		assert_non_null(strstr(s, "Title &lt;b&gt;&amp;</title>"));
		assert_non_null(strstr(s, "Desc &quot;&#39;</desc>"));
		assert_non_null(strstr(s, "&lt;script&gt;"));
		assert_null(strstr(s, "<script"));
		assert_null(strstr(s, "onload=\""));
		pw_buf_reset(&b);
	}
	pw_buf_release(&b);
}

static void test_shapes(void **state)
{
	(void)state;
	pw_svg_point zero[] = {{"a", 0, NULL}, {"b", 0, NULL}, {"c", 0, NULL}};
	pw_svg_point odd[] = {{"q1", NAN, NULL}, {"q2", -5, NULL}, {"q3", INFINITY, NULL}};
	pw_svg_point one[] = {{"only", 42.5, NULL}};
	struct {
		const pw_svg_point *p;
		size_t n;
	} cases[] = {{NULL, 0}, {one, 1}, {zero, 3}, {odd, 3}};
	pw_buf b = PW_BUF_INIT;
	pw_error err = PW_ERROR_INIT;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int line = 0; line < 2; line++) {
			pw_buf_reset(&b);
			assert_int_equal(line ? pw_svg_line_chart(&b, &chart, cases[i].p,
								  cases[i].n, &err)
					      : pw_svg_bar_chart(&b, &chart, cases[i].p, cases[i].n,
								 &err),
					 PW_OK);
			check_svg(pw_buf_str(&b), cases[i].n);
			assert_true((cases[i].n == 0) ==
				    (strstr(pw_buf_str(&b), "no data") != NULL));
		}
	}
	/* One point: its value labelled (one decimal, the unit escaped). */
	pw_buf_reset(&b);
	assert_int_equal(pw_svg_bar_chart(&b, &chart, one, 1, &err), PW_OK);
	assert_non_null(strstr(pw_buf_str(&b), "<title>only: 42.5%</title>"));
	/* All zero: the axis runs 0 to 1, drawn without dividing by zero. */
	pw_buf_reset(&b);
	assert_int_equal(pw_svg_line_chart(&b, &chart, zero, 3, &err), PW_OK);
	assert_non_null(strstr(pw_buf_str(&b), ">1%</text>"));
	/* NaN, negative and infinite values are drawn as 0. */
	pw_buf_reset(&b);
	assert_int_equal(pw_svg_bar_chart(&b, &chart, odd, 3, &err), PW_OK);
	assert_int_equal(count(pw_buf_str(&b), ": 0%</title>"), 3);
	/* A title is required. */
	pw_svg_chart untitled = chart;
	untitled.title = NULL;
	assert_int_equal(pw_svg_bar_chart(&b, &untitled, one, 1, &err), PW_ERR_INVALID);
	pw_buf_release(&b);
}

/* The axis' top is rounded up to 1, 2 or 5 times a power of ten; a given
 * y_max is kept. */
static void test_axis(void **state)
{
	(void)state;
	pw_svg_point p[] = {{"a", 3, NULL}, {"b", 7, NULL}};
	pw_buf b = PW_BUF_INIT;
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_svg_bar_chart(&b, &chart, p, 2, &err), PW_OK);
	assert_non_null(strstr(pw_buf_str(&b), ">10%</text>"));
	assert_non_null(strstr(pw_buf_str(&b), ">5%</text>"));
	pw_svg_chart hundred = chart;
	hundred.y_max = 100;
	pw_buf_reset(&b);
	assert_int_equal(pw_svg_line_chart(&b, &hundred, p, 2, &err), PW_OK);
	assert_non_null(strstr(pw_buf_str(&b), ">100%</text>"));
	assert_non_null(strstr(pw_buf_str(&b), ">50%</text>"));
	pw_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_axis),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
