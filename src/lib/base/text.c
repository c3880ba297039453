#include "patchwarden/text.h"

#include <limits.h>
#include <string.h>

bool pw_word_ok(const char *s, size_t max)
{
	if (!s || !*s)
		return false;
	size_t n = 0;
	for (; s[n]; n++) {
		if (n >= max || s[n] <= ' ' || s[n] > '~')
			return false;
	}
	return true;
}

bool pw_text_ok(const char *s, size_t max)
{
	if (!s || !*s)
		return false;
	size_t n = 0;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];
		if (n >= max || c < ' ' || c == 0x7f)
			return false;
	}
	return true;
}

bool pw_cve_id_ok(const char *s)
{
	if (!s || strncmp(s, "CVE-", 4) != 0 || strspn(s + 4, "0123456789") != 4 || s[8] != '-')
		return false;
	size_t n = strspn(s + 9, "0123456789");
	return n >= 4 && n <= 12 && s[9 + n] == '\0';
}

bool pw_advisory_id_ok(const char *s)
{
	static const char ok[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-:._";
	if (!s || !*s || !strchr(ok, *s) || strchr("-:._", *s))
		return false;
	size_t n = strspn(s, ok);
	return s[n] == '\0' && n <= PW_ADVISORY_ID_MAX;
}

int pw_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool pw_str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int pw_utf8_prefix(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);
	if (n > max) {
		n = max;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return n > INT_MAX ? INT_MAX : (int)n;
}
