#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "patchwarden/gzip.h"

static void zip(const char *text, size_t len, pw_buf *out)
{
	assert_int_equal(pw_gzip(text, len, out, NULL), PW_OK);
	assert_true(out->len > 18);
	assert_int_equal((unsigned char)out->data[0], 0x1f);
	assert_int_equal((unsigned char)out->data[1], 0x8b);
}

static void test_round_trip(void **state)
{
	(void)state;
	size_t n = 3u << 20; /* more than one output step */
	char *text = malloc(n + 1);
	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		text[i] = (char)('a' + (i * 7919 % 26));
	pw_buf z = PW_BUF_INIT, back = PW_BUF_INIT;
	zip(text, n, &z);
	assert_int_equal(pw_gunzip(z.data, z.len, n, "t", &back, NULL), PW_OK);
	assert_int_equal(back.len, n);
	assert_memory_equal(back.data, text, n);
	assert_int_equal(back.data[n], '\0');
	free(text);
	pw_buf_release(&z);
	pw_buf_release(&back);
}

/* The limit is exact: max bytes pass, max + 1 do not, and no more than
 * that is ever held. */
static void test_limit(void **state)
{
	(void)state;
	size_t n = 1u << 20;
	char *zeros = calloc(1, n);
	assert_non_null(zeros);
	pw_buf z = PW_BUF_INIT, out = PW_BUF_INIT;
	zip(zeros, n, &z);
	assert_int_equal(pw_gunzip(z.data, z.len, n, "t", &out, NULL), PW_OK);
	assert_int_equal(out.len, n);
	pw_buf_release(&out);
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_gunzip(z.data, z.len, n - 1, "the body", &out, &e), PW_ERR_TOOLARGE);
	assert_string_equal(e.msg, "the body: inflates to more than 1048575 bytes");
	assert_true(out.len <= n);
	assert_true(out.cap <= 2 * n + 1);
	pw_buf_release(&out);
	/* A bomb: 1 MiB of zeros is 1 KiB of gzip; a 4 KiB cap stops it. */
	assert_int_equal(pw_gunzip(z.data, z.len, 4096, "t", &out, NULL), PW_ERR_TOOLARGE);
	assert_true(out.cap <= 8192);
	free(zeros);
	pw_buf_release(&z);
	pw_buf_release(&out);
}

static void test_members(void **state)
{
	(void)state;
	pw_buf z = PW_BUF_INIT, out = PW_BUF_INIT;
	zip("{\"a\":", 5, &z);
	zip("1}", 2, &z);
	assert_int_equal(pw_gunzip(z.data, z.len, 100, "t", &out, NULL), PW_OK);
	assert_string_equal(out.data, "{\"a\":1}");
	pw_buf_release(&z);
	pw_buf_release(&out);
}

static void test_damaged(void **state)
{
	(void)state;
	pw_buf z = PW_BUF_INIT, out = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	zip("{\"inventory_hash\":\"0\"}", 22, &z);
	assert_int_equal(pw_gunzip(z.data, z.len - 4, 100, "body", &out, &e), PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, "body: truncated gzip data"));
	pw_buf_reset(&out);
	assert_int_equal(pw_gunzip("{\"a\":1}", 7, 100, "body", &out, &e), PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, "body: damaged gzip data at byte"));
	pw_buf_reset(&out);
	assert_int_equal(pw_gunzip("", 0, 100, "body", &out, &e), PW_ERR_PARSE);
	assert_string_equal(e.msg, "body: empty gzip data");
	z.data[z.len - 5] ^= 0x55; /* the CRC */
	pw_buf_reset(&out);
	assert_int_equal(pw_gunzip(z.data, z.len, 100, "body", &out, &e), PW_ERR_PARSE);
	pw_buf_release(&z);
	pw_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_damaged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
