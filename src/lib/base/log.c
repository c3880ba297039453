#include "patchwarden/log.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The length of the UTF-8 character at s (1 to 4), or 0 when it is not
 * one (overlong, a surrogate, beyond U+10FFFF, cut off) or is one that
 * must not reach a log line as it is. */
static size_t printable_utf8(const unsigned char *s)
{
	uint32_t cp;
	size_t n;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		cp = s[0] & 0x1fu;
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		cp = s[0] & 0x0fu;
		n = 3;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		cp = s[0] & 0x07u;
		n = 4;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* the NUL at the end included */
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 controls; line and paragraph separators; the marks, embeddings,
	 * overrides and isolates that make a terminal show text reordered. */
	if (cp <= 0x9f || cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return n;
}

size_t pw_log_escape(const char *in, char *out, size_t size)
{
	if (!size)
		return 0;
	const unsigned char *s = (const unsigned char *)in;
	size_t len = 0;
	while (*s) {
		char esc[5];
		const char *piece = esc;
		size_t n;
		if (*s == '\\') {
			memcpy(esc, "\\\\", 2);
			n = 2;
		} else if (*s >= 0x20 && *s < 0x7f) {
			piece = (const char *)s;
			n = 1;
		} else if (*s >= 0x80 && (n = printable_utf8(s)) != 0) {
			piece = (const char *)s;
		} else {
			snprintf(esc, sizeof esc, "\\x%02x", *s);
			n = 4;
		}
		if (len + n >= size)
			break;
		memcpy(out + len, piece, n);
		len += n;
		s += piece == esc ? 1 : n;
	}
	out[len] = '\0';
	return len;
}

static const char *const level_names[] = {
	[PW_LOG_ERR] = "err",   [PW_LOG_WARNING] = "warning", [PW_LOG_NOTICE] = "notice",
	[PW_LOG_INFO] = "info", [PW_LOG_DEBUG] = "debug",
};

const char *pw_log_level_name(pw_log_level level)
{
	return level >= PW_LOG_ERR && level <= PW_LOG_DEBUG ? level_names[level] : "info";
}

bool pw_log_level_parse(const char *name, pw_log_level *out)
{
	for (int l = PW_LOG_ERR; l <= PW_LOG_DEBUG; l++)
		if (!strcmp(name, level_names[l])) {
			*out = (pw_log_level)l;
			return true;
		}
	return false;
}
