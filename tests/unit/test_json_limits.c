/* The JSON pre-scan: depth, string length, control characters, UTF-8,
 * \u0000, trailing data, and positions in messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/buf.h"
#include "patchwarden/json_limits.h"

static const pw_json_limits lim = {4, 8};

static pw_err parse(const char *text, pw_error *e)
{
	cJSON *v = NULL;
	pw_err rc = pw_json_parse_limited(text, strlen(text), &lim, "body", &v, e);
	assert_true((rc == PW_OK) == (v != NULL));
	cJSON_Delete(v);
	return rc;
}

static void expect(const char *text, pw_err want, const char *needle)
{
	pw_error e = PW_ERROR_INIT;
	pw_err rc = parse(text, &e);
	if (rc != want)
		fail_msg("'%s': %s, expected %s (%s)", text, pw_strerror(rc), pw_strerror(want),
			 e.msg);
	if (needle && !strstr(e.msg, needle))
		fail_msg("'%s': message '%s' lacks '%s'", text, e.msg, needle);
}

static void test_accepts(void **state)
{
	(void)state;
	expect("{}", PW_OK, NULL);
	expect("  [1, 2, {\"a\": [true]}]\n", PW_OK, NULL); /* depth 4 */
	expect("{\"12345678\":\"abcdefgh\"}", PW_OK, NULL); /* 8 bytes each */
	expect("[\"\\\"\\\\\\n\"]", PW_OK, NULL);           /* escapes: 6 bytes */
	expect("[\"\xc3\xa9\xe2\x82\xac\", \"\xf0\x9f\x98\x80\"]", PW_OK,
	       NULL); /* "é€", an emoji */
}

static void test_depth(void **state)
{
	(void)state;
	expect("[[[[[]]]]]", PW_ERR_TOOLARGE, "line 1, column 5: nested deeper than 4 levels");
	expect("{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}", PW_ERR_TOOLARGE, "deeper than 4");
	/* Brackets inside strings are text, not nesting. */
	expect("[\"[[[[[[\"]", PW_OK, NULL);
	/* Closing brackets lower the depth again. */
	expect("[[[[]]],[[[]]],[[[]]]]", PW_OK, NULL);
	/* Far deeper than cJSON's own limit: refused before cJSON sees it. */
	pw_buf b = PW_BUF_INIT;
	for (int i = 0; i < 100000; i++)
		pw_buf_putc(&b, '[');
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_json_check(b.data, b.len, &lim, &e), PW_ERR_TOOLARGE);
	pw_buf_release(&b);
}

static void test_strings(void **state)
{
	(void)state;
	expect("[\"123456789\"]", PW_ERR_TOOLARGE, "column 2: a string longer than 8 bytes");
	expect("{\"123456789\":1}", PW_ERR_TOOLARGE, "longer than 8");
	expect("[\"a\tb\"]", PW_ERR_PARSE, "control character");
	expect("[\"a\\u0000b\"]", PW_ERR_PARSE, "\\u0000");
	expect("[\"a\\u0001\"]", PW_OK, NULL);
	/* Malformed UTF-8: a lone continuation byte, an overlong '/', a
	 * surrogate, a code point above U+10FFFF, a truncated sequence. */
	const char *bad[] = {"[\"\x80\"]", "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]",
			     "[\"\xf4\x90\x80\x80\"]", "[\"\xe2\x82\"]"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect(bad[i], PW_ERR_PARSE, "not valid UTF-8");
	expect("[\"\xf4\x8f\xbf\xbf\"]", PW_OK, NULL); /* U+10FFFF */
}

static void test_syntax(void **state)
{
	(void)state;
	expect("", PW_ERR_PARSE, "empty");
	expect(" \n ", PW_ERR_PARSE, "empty");
	expect("{\"a\":1,\n \"b\": tru}", PW_ERR_PARSE, "line 2, column");
	expect("{} x", PW_ERR_PARSE, "column 4: more data after the JSON value");
	expect("[1] [2]", PW_ERR_PARSE, "more data");
	expect("[\"abc", PW_ERR_PARSE, "not valid JSON");
	expect("]", PW_ERR_PARSE, "not valid JSON");
	/* Only `len` bytes are read: the NUL terminator is not required. */
	char buf[4] = {'[', '1', ']', 'x'};
	cJSON *v = NULL;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_json_parse_limited(buf, 3, &lim, "body", &v, &e), PW_OK);
	assert_true(cJSON_IsArray(v));
	cJSON_Delete(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_syntax),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
