#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "patchwarden/fileio.h"
#include "patchwarden/spool.h"

static int make_dir(void **state)
{
	char *d = strdup("/tmp/pw-spool-XXXXXX");
	assert_non_null(mkdtemp(d));
	*state = d;
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *)*state);
	assert_int_equal(system(cmd), 0);
	free(*state);
	return 0;
}

static char *sub(const char *dir, const char *name)
{
	static char path[1024];
	int n = snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_true(n > 0 && (size_t)n < sizeof path);
	return path;
}

static void put(pw_spool *s, const char *text, uint64_t want)
{
	uint64_t seq = 0;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_spool_put(s, text, strlen(text), &seq, &e), PW_OK);
	assert_int_equal(seq, want);
}

static void expect_read(pw_spool *s, uint64_t seq, const char *want)
{
	pw_buf b = PW_BUF_INIT;
	assert_int_equal(pw_spool_read(s, seq, &b, NULL), PW_OK);
	assert_string_equal(pw_buf_str(&b), want);
	pw_buf_release(&b);
}

static void expect_list(const pw_spool *s, const uint64_t *want, size_t n)
{
	uint64_t *v;
	size_t got;
	assert_int_equal(pw_spool_list(s, &v, &got, NULL), PW_OK);
	assert_int_equal(got, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], want[i]);
	free(v);
}

/* Results keep their numbers and order across reopening (a restart);
 * removal is final and numbers are never reused. */
static void test_order_and_restart(void **state)
{
	const char *dir = *state;
	char path[512];
	snprintf(path, sizeof path, "%s/spool", dir);
	pw_spool s = PW_SPOOL_INIT;
	assert_int_equal(pw_spool_open(&s, path, 0, NULL), PW_OK);
	for (uint64_t i = 1; i <= 12; i++) {
		char text[32];
		snprintf(text, sizeof text, "{\"n\":%d}", (int)i);
		put(&s, text, i);
	}
	assert_int_equal(s.count, 12);
	pw_spool_release(&s);

	assert_int_equal(pw_spool_open(&s, path, 0, NULL), PW_OK);
	assert_int_equal(s.count, 12);
	const uint64_t all[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	expect_list(&s, all, 12);
	expect_read(&s, 10, "{\"n\":10}");
	for (uint64_t i = 1; i <= 12; i++)
		assert_int_equal(pw_spool_remove(&s, i, NULL), PW_OK);
	assert_int_equal(pw_spool_remove(&s, 3, NULL), PW_OK); /* a repeated ack */
	assert_int_equal(s.count, 0);
	assert_int_equal(s.total_bytes, 0);
	expect_list(&s, NULL, 0);
	pw_spool_release(&s);

	assert_int_equal(pw_spool_open(&s, path, 0, NULL), PW_OK);
	put(&s, "after", 13);
	pw_spool_release(&s);
	/* A lost counter file does not make numbers go back past the files. */
	unlink(sub(path, "next-seq"));
	assert_int_equal(pw_spool_open(&s, path, 0, NULL), PW_OK);
	put(&s, "", 14);
	expect_read(&s, 14, "");
	pw_spool_release(&s);
}

/* The server's high-water mark raises the counter, never lowers it,
 * durably; a result in conflict moves to the next number whole. */
static void test_raise_and_renumber(void **state)
{
	const char *dir = *state;
	pw_spool s = PW_SPOOL_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_spool_open(&s, dir, 0, NULL), PW_OK);
	put(&s, "one", 1);
	put(&s, "two", 2);
	assert_int_equal(pw_spool_raise(&s, 2, &e), PW_OK); /* below: no change */
	assert_int_equal(s.next_seq, 3);
	assert_int_equal(pw_spool_raise(&s, 41, &e), PW_OK);
	uint64_t to = 0;
	assert_int_equal(pw_spool_renumber(&s, 1, &to, &e), PW_OK);
	assert_int_equal(to, 41);
	const uint64_t now[] = {2, 41};
	expect_list(&s, now, 2);
	expect_read(&s, 41, "one");
	assert_int_equal(s.count, 2);
	assert_int_equal(pw_spool_renumber(&s, 1, &to, &e), PW_ERR_NOTFOUND);
	pw_spool_release(&s);
	/* Both survive a restart, the counter without the files' help. */
	unlink(sub(dir, "00000000000000000041.result"));
	assert_int_equal(pw_spool_open(&s, dir, 0, NULL), PW_OK);
	put(&s, "three", 42);
	pw_spool_release(&s);
}

static void test_limit(void **state)
{
	const char *dir = *state;
	pw_spool s = PW_SPOOL_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_spool_open(&s, dir, 100, NULL), PW_OK);
	put(&s, "0123456789012345678901234567890123456789", 1); /* 40 + 21 header */
	uint64_t seq = 0;
	assert_int_equal(pw_spool_put(&s, "0123456789012345678901234567890123456789", 40, &seq, &e),
			 PW_ERR_TOOLARGE);
	assert_non_null(strstr(e.msg, "holds 1 results in 61 bytes and its limit is 100 bytes"));
	assert_int_equal(seq, 0);
	assert_int_equal(pw_spool_remove(&s, 1, NULL), PW_OK);
	put(&s, "0123456789012345678901234567890123456789", 2); /* a refusal takes no number */
	pw_spool_release(&s);
}

/* Damaged files go to quarantine/ with a clear error, the rest stays
 * readable; temporaries of an interrupted write are removed. */
static void test_corrupt(void **state)
{
	const char *dir = *state;
	pw_spool s = PW_SPOOL_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_spool_open(&s, dir, 0, NULL), PW_OK);
	put(&s, "first result", 1);
	put(&s, "second result", 2);
	put(&s, "third result", 3);
	put(&s, "fourth result", 4);
	pw_spool_release(&s);

	const char *names[] = {"00000000000000000001.result", "00000000000000000002.result",
			       "00000000000000000003.result"};
	/* 1: truncated (a partial write), 2: one byte flipped, 3: garbage header */
	assert_int_equal(truncate(sub(dir, names[0]), 20), 0);
	const char *flipped = "PWSPOOL1 13 00000000\nsecond result";
	assert_int_equal(pw_write_file_atomic(sub(dir, names[1]), flipped, strlen(flipped), 0600,
					      NULL),
			 PW_OK);
	assert_int_equal(pw_write_file_atomic(sub(dir, names[2]), "x", 1, 0600, NULL), PW_OK);
	assert_int_equal(pw_write_file_atomic(sub(dir, "00000000000000000009.result.tmp.1"), "x", 1,
					      0600, NULL),
			 PW_OK);
	assert_int_equal(pw_write_file_atomic(sub(dir, "junk"), "x", 1, 0600, NULL), PW_OK);

	assert_int_equal(pw_spool_open(&s, dir, 0, NULL), PW_OK);
	assert_int_equal(access(sub(dir, "00000000000000000009.result.tmp.1"), F_OK), -1);
	assert_int_equal(s.count, 4);
	pw_buf b = PW_BUF_INIT;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pw_spool_read(&s, (uint64_t)i + 1, &b, &e), PW_ERR_INTEGRITY);
		assert_non_null(strstr(e.msg, "quarantine"));
		assert_int_equal(b.len, 0);
	}
	assert_non_null(strstr(e.msg, "damaged"));
	const uint64_t left[] = {4};
	expect_list(&s, left, 1);
	assert_int_equal(s.count, 1);
	expect_read(&s, 4, "fourth result");
	char q[64];
	assert_int_equal(snprintf(q, sizeof q, "quarantine/%s", names[1]), 38);
	assert_int_equal(access(sub(dir, q), F_OK), 0);
	put(&s, "fifth", 5);
	pw_buf_release(&b);
	pw_spool_release(&s);
}

static void test_bad_counter_and_dir(void **state)
{
	const char *dir = *state;
	pw_spool s = PW_SPOOL_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_write_file_atomic(sub(dir, "next-seq"), "abc\n", 4, 0600, NULL), PW_OK);
	assert_int_equal(pw_spool_open(&s, dir, 0, &e), PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, "next-seq: not a sequence number"));
	assert_int_equal(pw_spool_open(&s, "/proc/nonexistent/spool", 0, &e), PW_ERR_IO);
	assert_non_null(strstr(e.msg, "cannot create the spool directory"));
	unlink(sub(dir, "next-seq"));
	assert_int_equal(pw_spool_open(&s, dir, 0, NULL), PW_OK);
	pw_buf b = PW_BUF_INIT;
	assert_int_equal(pw_spool_read(&s, 99, &b, &e), PW_ERR_NOTFOUND);
	pw_spool_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_and_restart, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_raise_and_renumber, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_limit, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_corrupt, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_bad_counter_and_dir, make_dir, remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
