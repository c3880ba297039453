/* Whole-file reads: only regular files, never blocking, never more than
 * the cap; atomic writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "patchwarden/buf.h"
#include "patchwarden/fileio.h"

static char dir[256];

static void path(char *out, size_t cap, const char *rel)
{
	snprintf(out, cap, "%s/%s", dir, rel);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/pw-test-fileio-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void expect_refused(const char *p, size_t max, pw_err code, const char *msg)
{
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_read_file(p, &b, max, &e);
	if (rc != code || !strstr(e.msg, p) || !strstr(e.msg, msg))
		fail_msg("%s: got %d '%s', want %d '%s'", p, rc, e.msg, code, msg);
	pw_buf_release(&b);
}

static void test_regular_file(void **state)
{
	(void)state;
	char p[512];
	path(p, sizeof p, "plain");
	assert_int_equal(pw_write_file_atomic(p, "hello\n", 6, 0644, NULL), PW_OK);
	pw_buf b = PW_BUF_INIT;
	assert_int_equal(pw_read_file(p, &b, 0, NULL), PW_OK);
	assert_string_equal(pw_buf_str(&b), "hello\n");
	pw_buf_release(&b);
	expect_refused(p, 5, PW_ERR_TOOLARGE, "6 bytes is more than the limit of 5 bytes");
	path(p, sizeof p, "absent");
	expect_refused(p, 0, PW_ERR_NOTFOUND, "cannot open");
}

/* A FIFO without a writer would block open(2) for ever: a timer turns a
 * hang into a failure. */
static void test_fifo_refused_without_blocking(void **state)
{
	(void)state;
	char p[512];
	path(p, sizeof p, "fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	alarm(10);
	expect_refused(p, 0, PW_ERR_INVALID, "a FIFO, not a regular file");
	int fd = 0;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_open_regular(p, &fd, &e), PW_ERR_INVALID);
	assert_int_equal(fd, -1);
	alarm(0);
}

static void test_devices_and_directories_refused(void **state)
{
	(void)state;
	/* /dev/zero never ends: refused before a byte is read, whatever the cap. */
	expect_refused("/dev/zero", 4096, PW_ERR_INVALID, "a device, not a regular file");
	expect_refused("/dev/urandom", 0, PW_ERR_INVALID, "a device");
	/* /dev/null, the usual "empty", ends at once: it reads as empty. */
	pw_buf b = PW_BUF_INIT;
	assert_int_equal(pw_read_file("/dev/null", &b, 0, NULL), PW_OK);
	assert_int_equal(b.len, 0);
	pw_buf_release(&b);
	expect_refused(dir, 0, PW_ERR_INVALID, "a directory, not a regular file");
}

/* No limit given still means PW_READ_FILE_MAX: a sparse file one byte
 * over it is refused from its size, without reading it. */
static void test_cap_without_a_limit(void **state)
{
	(void)state;
	char p[512];
	path(p, sizeof p, "huge");
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)PW_READ_FILE_MAX + 1), 0);
	close(fd);
	char msg[128];
	snprintf(msg, sizeof msg, "is more than the limit of %zu bytes", PW_READ_FILE_MAX);
	expect_refused(p, 0, PW_ERR_TOOLARGE, msg);
	expect_refused(p, PW_READ_FILE_MAX * 2, PW_ERR_TOOLARGE, msg);
	unlink(p);
}

static bool not_b(const char *name)
{
	return strcmp(name, "b") != 0;
}

/* Sorted, dot files and what `keep` refuses left out; a missing directory
 * is PW_ERR_NOTFOUND, a file PW_ERR_NOTFOUND too (not a directory). */
static void test_dir_names(void **state)
{
	(void)state;
	char sub[512], p[600];
	path(sub, sizeof sub, "names");
	assert_int_equal(mkdir(sub, 0755), 0);
	const char *make[] = {"c", "a", ".hidden", "b", "B"};
	for (size_t i = 0; i < sizeof make / sizeof *make; i++) {
		snprintf(p, sizeof p, "%s/%s", sub, make[i]);
		assert_int_equal(pw_write_file_atomic(p, "", 0, 0644, NULL), PW_OK);
	}
	char **names;
	size_t n;
	assert_int_equal(pw_dir_names(sub, NULL, &names, &n, NULL), PW_OK);
	assert_int_equal(n, 4);
	assert_string_equal(names[0], "B");
	assert_string_equal(names[1], "a");
	assert_string_equal(names[2], "b");
	assert_string_equal(names[3], "c");
	pw_free_names(names, n);
	assert_int_equal(pw_dir_names(sub, not_b, &names, &n, NULL), PW_OK);
	assert_int_equal(n, 3);
	assert_string_equal(names[2], "c");
	pw_free_names(names, n);

	pw_error e = PW_ERROR_INIT;
	path(p, sizeof p, "no-such-dir");
	assert_int_equal(pw_dir_names(p, NULL, &names, &n, &e), PW_ERR_NOTFOUND);
	assert_null(names);
	assert_int_equal(n, 0);
	assert_non_null(strstr(e.msg, "cannot read the directory"));
	snprintf(p, sizeof p, "%s/a", sub);
	assert_int_equal(pw_dir_names(p, NULL, &names, &n, NULL), PW_ERR_NOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regular_file),
		cmocka_unit_test(test_fifo_refused_without_blocking),
		cmocka_unit_test(test_devices_and_directories_refused),
		cmocka_unit_test(test_cap_without_a_limit),
		cmocka_unit_test(test_dir_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
