/* Debian versions, exactly as dpkg 1.21 parses and orders them
 * (lib/dpkg/parsehelp.c parseversion(), lib/dpkg/version.c). Written from
 * dpkg's documented behaviour and checked against the real dpkg by
 * tests/scripts/vercmp_differential.sh. Nothing here allocates. */
#include <limits.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "patchwarden/vercmp.h"

/* Why a version is refused or warned about. The texts are dpkg's own, so
 * an operator can search for them and find dpkg's documentation. */
enum deb_problem {
	DEB_OK = 0,
	/* refused by dpkg */
	DEB_EMPTY,
	DEB_EMBEDDED_SPACES,
	DEB_EPOCH_EMPTY,
	DEB_EPOCH_NOT_NUMBER,
	DEB_EPOCH_NEGATIVE,
	DEB_EPOCH_TOO_BIG,
	DEB_NOTHING_AFTER_COLON,
	DEB_REVISION_EMPTY,
	DEB_UPSTREAM_EMPTY,
	/* only warned about: compared all the same */
	DEB_FIRST_WARNING,
	DEB_NO_LEADING_DIGIT = DEB_FIRST_WARNING,
	DEB_BAD_CHAR_UPSTREAM,
	DEB_BAD_CHAR_REVISION,
};

static const char *const problem_text[] = {
	[DEB_OK] = "",
	[DEB_EMPTY] = "version string is empty",
	[DEB_EMBEDDED_SPACES] = "version string has embedded spaces",
	[DEB_EPOCH_EMPTY] = "epoch in version is empty",
	[DEB_EPOCH_NOT_NUMBER] = "epoch in version is not number",
	[DEB_EPOCH_NEGATIVE] = "epoch in version is negative",
	[DEB_EPOCH_TOO_BIG] = "epoch in version is too big",
	[DEB_NOTHING_AFTER_COLON] = "nothing after colon in version number",
	[DEB_REVISION_EMPTY] = "revision number is empty",
	[DEB_UPSTREAM_EMPTY] = "version number is empty",
	[DEB_NO_LEADING_DIGIT] = "version number does not start with digit",
	[DEB_BAD_CHAR_UPSTREAM] = "invalid character in version number",
	[DEB_BAD_CHAR_REVISION] = "invalid character in revision number",
};

/* dpkg classifies characters with its own ASCII-only c-ctype, whatever
 * the locale; so do we. */
static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The epoch goes through strtol(), which also skips leading isspace()
 * characters and takes a sign: "+1:0" and "-0:1" are valid, "\n1:0" too
 * (the C locale's isspace(); blanks were already trimmed). */
static inline bool is_strtol_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Reads the epoch in [s, colon) with strtol()'s rules and dpkg's checks,
 * in dpkg's order, so that the reported problem is the one dpkg reports. */
static enum deb_problem parse_epoch(const char *s, const char *colon, unsigned int *epoch)
{
	const char *q = s;
	while (q < colon && is_strtol_space(*q))
		q++;
	bool negative = false;
	if (q < colon && (*q == '+' || *q == '-')) {
		negative = *q == '-';
		q++;
	}
	const char *digits = q;
	unsigned long long value = 0;
	bool too_big = false;
	for (; q < colon && is_digit(*q); q++) {
		value = value * 10 + (unsigned long long)(*q - '0');
		if (value > INT_MAX) {
			too_big = true;
			value = INT_MAX + 1ULL; /* saturate: only "too big" matters now */
		}
	}
	if (q == digits)
		return DEB_EPOCH_EMPTY;
	if (q != colon)
		return DEB_EPOCH_NOT_NUMBER;
	if (negative && value != 0)
		return DEB_EPOCH_NEGATIVE;
	if (too_big)
		return DEB_EPOCH_TOO_BIG;
	*epoch = (unsigned int)value;
	return DEB_OK;
}

/* The characters split() has to look at. */
static const bool split_stop[256] = {
	['\0'] = true, [' '] = true, ['\t'] = true, [':'] = true, ['-'] = true,
};

/* Splits v into epoch, upstream version and revision as parseversion()
 * does, without the character checks. `out` always ends up pointing into
 * v, so the hot path may compare whatever this returns. */
static enum deb_problem split(const char *v, pw_deb_version *out)
{
	const char *s = v;
	while (is_blank(*s))
		s++;
	out->epoch = 0;
	out->upstream = s;
	out->upstream_len = 0;
	out->revision = s;
	out->revision_len = 0;
	out->warning = NULL;
	if (!*s)
		return DEB_EMPTY;

	/* One pass finds the end, the first colon (epoch) and the last hyphen
	 * (revision); a table keeps the loop over ordinary characters tight. */
	const char *colon = NULL, *hyphen = NULL, *p = s;
	for (;; p++) {
		while (!split_stop[(unsigned char)*p])
			p++;
		char c = *p;
		if (c == ':') {
			if (!colon)
				colon = p;
		} else if (c == '-') {
			hyphen = p;
		} else {
			break; /* end of string or a blank */
		}
	}
	const char *end = p;
	while (is_blank(*p))
		p++;
	if (*p)
		return DEB_EMBEDDED_SPACES;

	if (colon) {
		enum deb_problem pr = parse_epoch(s, colon, &out->epoch);
		if (pr != DEB_OK)
			return pr;
		/* dpkg looks at the very next character, so "0: " gets past here
		 * and fails below as an empty version instead. */
		if (colon[1] == '\0')
			return DEB_NOTHING_AFTER_COLON;
		s = colon + 1;
		if (hyphen && hyphen < s)
			hyphen = NULL; /* it was the epoch's sign */
	}
	out->upstream = s;
	out->revision = end;
	if (hyphen) {
		if (hyphen + 1 == end)
			return DEB_REVISION_EMPTY;
		out->revision = hyphen + 1;
		out->revision_len = (size_t)(end - hyphen - 1);
		end = hyphen;
	}
	out->upstream_len = (size_t)(end - s);
	if (out->upstream_len == 0)
		return DEB_UPSTREAM_EMPTY;
	return DEB_OK;
}

/* What dpkg only warns about, checked in dpkg's order. */
static enum deb_problem check_chars(const pw_deb_version *d)
{
	const char *p = d->upstream, *e = d->upstream + d->upstream_len;
	if (!is_digit(*p++))
		return DEB_NO_LEADING_DIGIT;
	for (; p < e; p++)
		if (!is_digit(*p) && !is_alpha(*p) && !strchr(".-+~:", *p))
			return DEB_BAD_CHAR_UPSTREAM;
	p = d->revision;
	e = d->revision + d->revision_len;
	for (; p < e; p++)
		if (!is_digit(*p) && !is_alpha(*p) && !strchr(".+~", *p))
			return DEB_BAD_CHAR_REVISION;
	return DEB_OK;
}

/* Copies v into out for a message, control characters as \xNN so that a
 * message stays on one line, long versions cut with "...". */
static void quote_for_message(const char *v, char *out, size_t cap)
{
	size_t n = 0;
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;
		bool ctl = c < 0x20 || c == 0x7f;
		if (n + (ctl ? 4 : 1) + 4 > cap) {
			memcpy(out + n, "...", 4);
			return;
		}
		if (ctl)
			n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
}

pw_err pw_deb_version_parse(const char *v, pw_deb_version *out, pw_error *err)
{
	if (!v || !out)
		return pw_error_set(err, PW_ERR_INVALID, "no version given");
	enum deb_problem pr = split(v, out);
	if (pr == DEB_OK) {
		pr = check_chars(out);
		out->warning = pr == DEB_OK ? NULL : problem_text[pr];
		return PW_OK;
	}
	char quoted[160];
	quote_for_message(v, quoted, sizeof quoted);
	return pw_error_set(err, PW_ERR_PARSE, "version '%s' has bad syntax: %s", quoted,
			    problem_text[pr]);
}

pw_err pw_deb_version_check(const char *v, pw_error *err)
{
	pw_deb_version d;
	return pw_deb_version_parse(v, &d, err);
}

/* dpkg's rank of a non-digit character inside a version: '~' sorts before
 * the end of the string, letters before everything else. `c` stays a
 * plain char as in dpkg, so bytes >= 0x80 rank as dpkg ranks them on the
 * same platform (negative, i.e. after letters but before ASCII
 * punctuation, where char is signed as on amd64). */
static inline int order(char c)
{
	if (is_alpha(c))
		return c;
	if (c == '~')
		return -1;
	return c + 256;
}

/* dpkg's verrevcmp() on [a, ae) and [b, be): alternating runs of
 * non-digits (compared character by character by rank, the end of the
 * string ranking 0) and digits (compared as numbers of any length). */
static int verrevcmp(const char *a, const char *ae, const char *b, const char *be)
{
	while (a < ae || b < be) {
		for (;;) {
			bool an = a < ae && !is_digit(*a);
			bool bn = b < be && !is_digit(*b);
			if (!an && !bn)
				break;
			int ac = an ? order(*a) : 0;
			int bc = bn ? order(*b) : 0;
			if (ac != bc)
				return ac - bc;
			a++;
			b++;
		}
		while (a < ae && *a == '0')
			a++;
		while (b < be && *b == '0')
			b++;
		int first_diff = 0;
		while (a < ae && b < be && is_digit(*a) && is_digit(*b)) {
			if (!first_diff)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (a < ae && is_digit(*a))
			return 1;
		if (b < be && is_digit(*b))
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

/* verrevcmp() after skipping the bytes both sides share: up to the first
 * difference, backed up to the start of a run of digits (a number must be
 * compared whole; non-digits compare one by one, so any of them is a
 * place verrevcmp() itself would pass through in the same state). Real
 * version pairs share long prefixes, so this saves most of the work. */
static int part_cmp(const char *a, size_t la, const char *b, size_t lb)
{
	size_t n = la < lb ? la : lb, k = 0;
	while (k < n && a[k] == b[k])
		k++;
	if (k == la && k == lb)
		return 0;
	while (k > 0 && is_digit(a[k - 1]))
		k--;
	return verrevcmp(a + k, a + la, b + k, b + lb);
}

int pw_deb_version_cmp(const pw_deb_version *a, const pw_deb_version *b)
{
	if (a->epoch != b->epoch)
		return a->epoch > b->epoch ? 1 : -1;
	int r = part_cmp(a->upstream, a->upstream_len, b->upstream, b->upstream_len);
	if (r == 0)
		r = part_cmp(a->revision, a->revision_len, b->revision, b->revision_len);
	return (r > 0) - (r < 0);
}

int pw_deb_vercmp(const char *a, const char *b)
{
	pw_deb_version da, db;
	split(a, &da);
	split(b, &db);
	return pw_deb_version_cmp(&da, &db);
}
