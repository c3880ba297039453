/* The log-line escaper (pw_log_escape) on arbitrary text.
 *
 * Input: one byte giving the size of a small output buffer (0-255), then
 * the text (it ends at the first NUL, as a C string does). Aborts on a
 * crash, a sanitizer report, or a broken law, checked here without the
 * escaper's own code: with room for everything, the output is printable
 * ASCII, `\\`, `\xNN` (for a byte that is not printable ASCII) and UTF-8
 * characters that neither break nor reorder a line, and unescaping it
 * gives the text back; with the small buffer, the output is the longest
 * run of whole pieces of the full output that fits, NUL-terminated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The length of the printable UTF-8 character at s, or 0. */
static size_t utf8_char(const unsigned char *s, size_t avail)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	if (!n || n > avail || s[0] > 0xf4)
		return 0;
	uint32_t cp = s[0] & (0x7fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 controls, LRM and RLM, line and paragraph separators, the
	 * embeddings and overrides, the isolates. */
	if (cp <= 0x9f || cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return n;
}

/* The length of the piece of escaped output at s (an escape, a printable
 * ASCII byte or a UTF-8 character) with the byte(s) it stands for put at
 * *dec (*ndec of them); 0 when s starts no valid piece. */
static size_t piece(const char *s, size_t avail, char *dec, size_t *ndec)
{
	const unsigned char *u = (const unsigned char *)s;
	if (s[0] == '\\') {
		if (avail >= 2 && s[1] == '\\') {
			dec[0] = '\\';
			*ndec = 1;
			return 2;
		}
		if (avail < 4 || s[1] != 'x' || hexval(s[2]) < 0 || hexval(s[3]) < 0)
			return 0;
		int b = hexval(s[2]) * 16 + hexval(s[3]);
		if (b == 0 || (b >= 0x20 && b < 0x7f))
			return 0; /* NUL cannot be in the text; printable ASCII needs no escape */
		dec[0] = (char)b;
		*ndec = 1;
		return 4;
	}
	if (u[0] >= 0x20 && u[0] < 0x7f) {
		dec[0] = s[0];
		*ndec = 1;
		return 1;
	}
	size_t n = utf8_char(u, avail);
	memcpy(dec, s, n);
	*ndec = n;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t small = data[0];
	const uint8_t *end = memchr(data + 1, 0, size - 1);
	size_t len = end ? (size_t)(end - data - 1) : size - 1;
	char *in = malloc(len + 1), *full = malloc(4 * len + 1), *cut = malloc(small ? small : 1);
	char *back = malloc(len + 1);
	if (!in || !full || !cut || !back)
		abort();
	memcpy(in, data + 1, len);
	in[len] = '\0';

	size_t n = pw_log_escape(in, full, 4 * len + 1);
	if (n != strlen(full))
		abort();
	size_t nback = 0;
	for (size_t at = 0; at < n;) {
		char dec[4];
		size_t nd = 0, p = piece(full + at, n - at, dec, &nd);
		if (!p || nback + nd > len)
			abort();
		memcpy(back + nback, dec, nd);
		nback += nd;
		at += p;
	}
	if (nback != len || memcmp(back, in, len))
		abort();

	size_t m = pw_log_escape(in, cut, small);
	if (small) {
		if (m >= small || m > n || strlen(cut) != m || memcmp(cut, full, m))
			abort();
		/* Whole pieces only, and as many as fit. */
		size_t at = 0;
		while (at < m) {
			char dec[4];
			size_t nd;
			at += piece(full + at, n - at, dec, &nd);
		}
		if (at != m)
			abort();
		if (m < n) {
			char dec[4];
			size_t nd;
			if (m + piece(full + m, n - m, dec, &nd) < small)
				abort();
		}
	} else if (m != 0) {
		abort();
	}
	free(back);
	free(cut);
	free(full);
	free(in);
	return 0;
}
