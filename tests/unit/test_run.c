#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "patchwarden/run.h"

static void test_output_and_status(void **state)
{
	(void)state;
	const char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
	pw_run_result r = PW_RUN_RESULT_INIT;
	assert_int_equal(pw_run(argv, NULL, &r, NULL), PW_OK);
	assert_int_equal(r.exit_code, 3);
	assert_int_equal(r.signal, 0);
	assert_false(r.timed_out);
	assert_string_equal(r.output.data, "out\nerr\n");
	pw_run_result_release(&r);
}

/* No PATH search and no inherited environment: only the fixed one. */
static void test_environment(void **state)
{
	(void)state;
	setenv("PW_RUN_SECRET", "leak", 1);
	const char *argv[] = {"/usr/bin/env", NULL};
	pw_run_result r = PW_RUN_RESULT_INIT;
	assert_int_equal(pw_run(argv, NULL, &r, NULL), PW_OK);
	assert_string_equal(r.output.data, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLANG=C.UTF-8\n");
	pw_run_result_release(&r);
	const char *env[] = {"A=1", NULL};
	pw_run_opts o = {.env = env};
	assert_int_equal(pw_run(argv, &o, &r, NULL), PW_OK);
	assert_string_equal(r.output.data, "A=1\n");
	pw_run_result_release(&r);
}

static void test_refusals(void **state)
{
	(void)state;
	pw_error e = PW_ERROR_INIT;
	const char *rel[] = {"sh", "-c", "true", NULL};
	pw_run_result r = PW_RUN_RESULT_INIT;
	assert_int_equal(pw_run(rel, NULL, &r, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "not an absolute path"));
	const char *missing[] = {"/nonexistent/prog", NULL};
	assert_int_equal(pw_run(missing, NULL, &r, &e), PW_ERR_EXTERNAL);
	assert_non_null(strstr(e.msg, "/nonexistent/prog"));
	assert_non_null(strstr(e.msg, "No such file"));
	pw_run_result_release(&r);
}

/* A program that ignores SIGTERM and leaves a child behind is killed,
 * group and all, and the call returns. */
static void test_timeout(void **state)
{
	(void)state;
	const char *argv[] = {"/bin/sh", "-c", "trap '' TERM; sleep 30 & echo started; wait", NULL};
	pw_run_opts o = {.timeout_s = 1};
	pw_run_result r = PW_RUN_RESULT_INIT;
	assert_int_equal(pw_run(argv, &o, &r, NULL), PW_OK);
	assert_true(r.timed_out);
	assert_int_equal(r.exit_code, -1);
	assert_int_equal(r.signal, SIGKILL);
	assert_string_equal(r.output.data, "started\n");
	char text[64];
	pw_run_describe(&r, &o, text, sizeof text);
	assert_string_equal(text, "timed out after 1 s");
	pw_run_result_release(&r);
}

static void test_output_cap_and_input(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	const char *argv[] = {"/usr/bin/head", "-c", "100000", "/dev/zero", NULL};
	pw_run_opts o = {.max_output = 1000};
	pw_run_result r = PW_RUN_RESULT_INIT;
	assert_int_equal(pw_run(argv, &o, &r, NULL), PW_OK);
	assert_int_equal(r.output.len, 1000);
	assert_int_equal(r.dropped, 99000);
	pw_run_result_release(&r);
	/* Input larger than a pipe's buffer, written while output is read. */
	static char big[300000];
	memset(big, 'x', sizeof big);
	const char *wc[] = {"/usr/bin/wc", "-c", NULL};
	pw_run_opts in = {.input = big, .input_len = sizeof big};
	assert_int_equal(pw_run(wc, &in, &r, NULL), PW_OK);
	assert_string_equal(r.output.data, "300000\n");
	pw_run_result_release(&r);
	/* A program that reads nothing does not block or kill the caller. */
	const char *tru[] = {"/bin/true", NULL};
	assert_int_equal(pw_run(tru, &in, &r, NULL), PW_OK);
	assert_int_equal(r.exit_code, 0);
	pw_run_result_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_and_status),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_output_cap_and_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
