/* EPSS parser on the official daily format (vunnel's fixtures) and the
 * headerless per-year files in ../shared/data/epss. */
#include "feedtest.h"

static pw_err parse_text(const char *csv, ft_sink *s, pw_error *e)
{
	pw_feed_sink sink = ft_feed_sink(s);
	return pw_feed_parse_epss(csv, strlen(csv), "e.csv", &sink, e);
}

static pw_err parse_file(const char *rel, ft_sink *s, pw_error *e)
{
	pw_buf b = PW_BUF_INIT;
	ft_load(rel, &b);
	pw_feed_sink sink = ft_feed_sink(s);
	pw_err rc = pw_feed_parse_epss(b.data, b.len, strrchr(rel, '/') + 1, &sink, e);
	pw_buf_release(&b);
	return rc;
}

#define FIXTURES "vunnel-fixtures/providers/epss/test-fixtures/"

static const char example_scores[] = "CVE-1999-0001 0.00383 0.73075\n"
				     "CVE-1999-0002 0.01328 0.85996\n"
				     "CVE-1999-0003 0.04409 0.92440\n"
				     "CVE-1999-0004 0.00917 0.82963\n"
				     "CVE-1999-0005 0.91963 0.99214\n";

static void test_official_format(void **state)
{
	(void)state;
	ft_sink s = FT_SINK_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(parse_file(FIXTURES "example-1.csv", &s, &e), PW_OK);
	assert_string_equal(pw_buf_str(&s.out), example_scores);
	assert_int_equal(s.warns, 0);
	ft_sink_release(&s);
}

/* vunnel refuses a file without score_date; pw_epss_entry carries no
 * date (the importing snapshot dates the scores), so it is accepted. */
static void test_missing_date(void **state)
{
	(void)state;
	ft_sink s = FT_SINK_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(parse_file(FIXTURES "missing-date.csv", &s, &e), PW_OK);
	assert_string_equal(pw_buf_str(&s.out), example_scores);
	assert_int_equal(s.warns, 0);
	ft_sink_release(&s);
}

/* A header without the three columns means the file is not EPSS. */
static void test_invalid_header(void **state)
{
	(void)state;
	ft_sink s = FT_SINK_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(parse_file(FIXTURES "invalid-header.csv", &s, &e), PW_ERR_PARSE);
	assert_string_equal(e.msg,
			    "invalid-header.csv:2: header 'invalid,header,format' lacks the cve, "
			    "epss and percentile columns; not an EPSS score file");
	assert_int_equal(s.epss, 0);
	ft_sink_release(&s);
}

static void test_year_files(void **state)
{
	(void)state;
	static const struct {
		int year;
		size_t lines;
		const char *line;
	} years[] = {
		{1999, 1540, "CVE-1999-0001 0.03351 0.87650\n"},
		{2010, 5074, NULL},
		{2021, 22591, "CVE-2021-44228 0.99999 1.00000\n"},
		{2026, 44129, NULL},
	};
	for (size_t i = 0; i < sizeof years / sizeof years[0]; i++) {
		char rel[128];
		snprintf(rel, sizeof rel, "epss/CVE_%d_EPSS.csv.gz", years[i].year);
		ft_sink s = FT_SINK_INIT;
		pw_error e = PW_ERROR_INIT;
		if (parse_file(rel, &s, &e))
			fail_msg("%s: %s", rel, pw_error_text(&e));
		assert_int_equal(s.epss, years[i].lines);
		assert_int_equal(s.warns, 0);
		if (years[i].line)
			assert_non_null(strstr(pw_buf_str(&s.out), years[i].line));
		ft_sink_release(&s);
	}
}

/* All 28 year files in one buffer: 360,142 lines. */
static void test_all_years_fast(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	for (int y = 1999; y <= 2026; y++) {
		char rel[128];
		snprintf(rel, sizeof rel, "epss/CVE_%d_EPSS.csv.gz", y);
		ft_load(rel, &b);
	}
	ft_sink s = FT_SINK_INIT;
	s.dump = 0;
	pw_feed_sink sink = ft_feed_sink(&s);
	pw_error e = PW_ERROR_INIT;
	double t0 = ft_cpu_seconds();
	if (pw_feed_parse_epss(b.data, b.len, "all.csv", &sink, &e))
		fail_msg("%s", pw_error_text(&e));
	double cpu = ft_cpu_seconds() - t0;
	printf("epss: %zu lines, %.1f MB, %.1f ms CPU\n", s.epss, (double)b.len / 1e6, cpu * 1e3);
	assert_int_equal(s.epss, 360142);
	assert_int_equal(s.warns, 0);
	ft_sink_release(&s);
	pw_buf_release(&b);
}

typedef struct scores {
	double *v; /* score, percentile, score, ... */
	size_t n, cap;
} scores;

static pw_err keep_scores(void *ctx, const pw_epss_entry *e, pw_error *err)
{
	(void)err;
	scores *s = ctx;
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
		assert_non_null(s->v);
	}
	s->v[s->n++] = e->score;
	s->v[s->n++] = e->percentile;
	return PW_OK;
}

/* The parser's numbers are bit for bit what strtod makes of the text. */
static void test_numbers_exact(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	ft_load("epss/CVE_2026_EPSS.csv.gz", &b);
	scores sc = {NULL, 0, 0};
	pw_feed_sink sink = {&sc, NULL, NULL, keep_scores, NULL};
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_feed_parse_epss(b.data, b.len, "2026.csv", &sink, &e), PW_OK);
	size_t k = 0;
	for (char *p = b.data; *p; k += 2) {
		char *semi = strchr(p, ';');
		assert_non_null(semi);
		char *end;
		double score = strtod(semi + 1, &end);
		double pct = strtod(end + 1, &end);
		assert_true(k + 1 < sc.n);
		assert_memory_equal(&sc.v[k], &score, sizeof score);
		assert_memory_equal(&sc.v[k + 1], &pct, sizeof pct);
		p = *end ? end + 1 : end;
	}
	assert_int_equal(k, sc.n);
	assert_int_equal(k, 2 * 44129);
	free(sc.v);
	pw_buf_release(&b);
}

static void test_bad_lines(void **state)
{
	(void)state;
	ft_sink s = FT_SINK_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(
		parse_text(
			"\xEF\xBB\xBF#model_version:v2025.03.14,score_date:2025-08-25T00:00:00Z\r\n"
			"cve,epss,percentile\r\n"
			"CVE-2024-0001,0.5,0.25\r\n"
			"CVE-2024-0002,0.5\n"
			"CVE-2024-0003,0.5,0.25,9\n"
			"CVE-24-0004,0.5,0.25\n"
			"CVE-2024-0005,1.5,0.25\n"
			"CVE-2024-0006,nan,0.25\n"
			"CVE-2024-0007,0.5,inf\n"
			"CVE-2024-0008,0.5x,0.25\n"
			"CVE-2024-0009,,0.25\n"
			"CVE-2024-0010,-0.0001,0.25\n"
			"\n"
			"# a comment\n"
			"CVE-2024-0011;0.5;0.25\n"
			"CVE-2024-0012,1e-05,1\n"
			"CVE-2024-0013,0.000430000,0.092910000",
			&s, &e),
		PW_OK);
	assert_string_equal(pw_buf_str(&s.out), "CVE-2024-0001 0.50000 0.25000\n"
						"CVE-2024-0012 0.00001 1.00000\n"
						"CVE-2024-0013 0.00043 0.09291\n");
	assert_string_equal(
		pw_buf_str(&s.warnings),
		"e.csv:4: not 3 fields separated by ','\n"
		"e.csv:5: not 3 fields separated by ','\n"
		"e.csv:6: 'CVE-24-0004' is not a CVE id like CVE-2021-44228\n"
		"e.csv:7: CVE-2024-0005: epss and percentile must be numbers from 0 to 1\n"
		"e.csv:8: CVE-2024-0006: epss and percentile must be numbers from 0 to 1\n"
		"e.csv:9: CVE-2024-0007: epss and percentile must be numbers from 0 to 1\n"
		"e.csv:10: CVE-2024-0008: epss and percentile must be numbers from 0 to 1\n"
		"e.csv:11: CVE-2024-0009: epss and percentile must be numbers from 0 to 1\n"
		"e.csv:12: CVE-2024-0010: epss and percentile must be numbers from 0 to 1\n"
		"e.csv:15: not 3 fields separated by ','\n");
	ft_sink_release(&s);
}

/* Columns are found by name, in any order and case, with ';' too. */
static void test_header_variants(void **state)
{
	(void)state;
	ft_sink s = FT_SINK_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(
		parse_text("Percentile; CVE ;EPSS;date\n0.9;CVE-2023-4966;0.97;2025-01-01\n", &s,
			   &e),
		PW_OK);
	assert_string_equal(pw_buf_str(&s.out), "CVE-2023-4966 0.97000 0.90000\n");
	ft_sink_release(&s);

	/* Header only: a valid file with no scores. */
	ft_sink h = FT_SINK_INIT;
	assert_int_equal(parse_text("#model_version:v2025.03.14\ncve,epss,percentile\n", &h, &e),
			 PW_OK);
	assert_int_equal(h.epss, 0);
	ft_sink_release(&h);
}

static void test_not_epss(void **state)
{
	(void)state;
	static const struct {
		const char *csv, *msg;
	} cases[] = {
		{"", "e.csv: no EPSS scores: neither a 'cve,epss,percentile' header nor 'CVE-...' "
		     "lines"},
		{"#model_version:v2025.03.14\n\n",
		 "e.csv: no EPSS scores: neither a 'cve,epss,percentile' header nor 'CVE-...' "
		 "lines"},
		{"{\"id\": \"OSV-1\"}\n",
		 "e.csv:1: header '{\"id\": \"OSV-1\"}' lacks the cve, epss and "
		 "percentile columns; not an EPSS score file"},
		{"cve,score,percentile\nCVE-2024-0001,0.5,0.5\n",
		 "e.csv:1: header 'cve,score,percentile' lacks the cve, epss and percentile "
		 "columns; not "
		 "an EPSS score file"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ft_sink s = FT_SINK_INIT;
		pw_error e = PW_ERROR_INIT;
		assert_int_equal(parse_text(cases[i].csv, &s, &e), PW_ERR_PARSE);
		assert_string_equal(e.msg, cases[i].msg);
		ft_sink_release(&s);
	}
}

/* The headerless form takes its separator from the first line. */
static void test_headerless_separator(void **state)
{
	(void)state;
	ft_sink s = FT_SINK_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(parse_text("CVE-2024-0001,0.1,0.2\nCVE-2024-0002;0.3;0.4\nCVE-2024-0003\n",
				    &s, &e),
			 PW_OK);
	assert_string_equal(pw_buf_str(&s.out), "CVE-2024-0001 0.10000 0.20000\n");
	assert_string_equal(pw_buf_str(&s.warnings), "e.csv:2: not 3 fields separated by ','\n"
						     "e.csv:3: not 3 fields separated by ','\n");
	ft_sink_release(&s);
}

static void test_sink_error(void **state)
{
	(void)state;
	ft_sink s = FT_SINK_INIT;
	s.fail_after = 2;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(parse_file(FIXTURES "example-1.csv", &s, &e), PW_ERR_STORE);
	assert_int_equal(s.epss, 2);
	ft_sink_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_official_format), cmocka_unit_test(test_missing_date),
		cmocka_unit_test(test_invalid_header),  cmocka_unit_test(test_year_files),
		cmocka_unit_test(test_all_years_fast),  cmocka_unit_test(test_numbers_exact),
		cmocka_unit_test(test_bad_lines),       cmocka_unit_test(test_header_variants),
		cmocka_unit_test(test_not_epss),        cmocka_unit_test(test_headerless_separator),
		cmocka_unit_test(test_sink_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
