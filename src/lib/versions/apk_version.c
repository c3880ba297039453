/* Alpine apk version ordering and validity, behaving like apk-tools 3
 * (apk_version_compare / apk_version_validate, src/version.c).
 *
 * Grammar apk accepts:  N{.N}...{a}{_suffix{N}}...{~hash}{-rN}
 *
 * apk has no separate fallback for invalid strings: both versions are
 * tokenised side by side and the walk stops at the first token that
 * differs in kind or value. A malformed tail simply becomes an "invalid"
 * token, older than any real token except a pre-release suffix, so
 * "1.2_blah" < "1.2", and two strings that break at the same place are
 * equal whatever follows ("1-ruff2" = "1--ruff1"). This file reproduces
 * that walk exactly, including for strings apk_version_validate rejects.
 *
 * Written after studying apk-tools' src/version.c and its test vectors;
 * no code was copied. */
#include <stdint.h>

#include <stdio.h>
#include <string.h>

#include "patchwarden/vercmp.h"

/* Token kinds, in apk's order. Where two versions agree up to a point and
 * then go on with different kinds of token, the one whose next kind comes
 * later in this list is the older: "1.2" (end) < "1.2.1" (number),
 * "1.2_p1" (suffix) < "1.2a" (letter). Pre-release suffixes are the
 * exception: they are older than anything. */
typedef enum tok_kind {
	TK_FIRST_NUM,  /* leading number: always numeric */
	TK_NUM,        /* ".N": numeric, but string order if either has a leading 0 */
	TK_LETTER,     /* one lowercase letter after a number */
	TK_SUFFIX,     /* "_alpha" ... "_p" */
	TK_SUFFIX_NUM, /* number right after a suffix */
	TK_HASH,       /* "~" + lowercase hex, string order */
	TK_REVISION,   /* "-rN" */
	TK_END,
	TK_INVALID,
} tok_kind;

/* Suffix ranks: pre-release ones sort below "no suffix", the others above. */
typedef enum apk_suffix {
	SUF_UNKNOWN,
	SUF_ALPHA,
	SUF_BETA,
	SUF_PRE,
	SUF_RC,
	SUF_NONE,
	SUF_CVS,
	SUF_SVN,
	SUF_GIT,
	SUF_HG,
	SUF_P,
} apk_suffix;

static const struct {
	const char *name;
	apk_suffix rank;
} suffixes[] = {
	{"alpha", SUF_ALPHA}, {"beta", SUF_BETA}, {"pre", SUF_PRE},
	{"rc", SUF_RC},       {"cvs", SUF_CVS},   {"svn", SUF_SVN},
	{"git", SUF_GIT},     {"hg", SUF_HG},     {"p", SUF_P},
};

/* Why a version stopped being valid, for pw_apk_version_check's message. */
typedef enum why_invalid {
	WHY_NONE,
	WHY_EMPTY,
	WHY_NO_LEADING_DIGIT,
	WHY_DOT_LATE,
	WHY_DOT_NO_DIGIT,
	WHY_LETTER_LATE,
	WHY_DIGIT_AFTER_LETTER,
	WHY_SUFFIX_LATE,
	WHY_SUFFIX_UNKNOWN,
	WHY_HASH_LATE,
	WHY_HASH_EMPTY,
	WHY_DASH_NOT_REVISION,
	WHY_REVISION_LATE,
	WHY_REVISION_NO_NUMBER,
	WHY_BAD_CHAR,
} why_invalid;

static const char *const why_text[] = {
	[WHY_NONE] = "",
	[WHY_EMPTY] = "it is empty",
	[WHY_NO_LEADING_DIGIT] = "it must start with a digit",
	[WHY_DOT_LATE] = "'.N' parts must come before any letter, suffix, hash or revision",
	[WHY_DOT_NO_DIGIT] = "'.' must be followed by digits",
	[WHY_LETTER_LATE] = "a letter may only follow a number, and only one letter is allowed",
	[WHY_DIGIT_AFTER_LETTER] =
		"digits may not follow the letter directly (write e.g. 6.6.2_p1)",
	[WHY_SUFFIX_LATE] = "'_suffix' must come before the '~hash' and '-rN' revision",
	[WHY_SUFFIX_UNKNOWN] =
		"unknown suffix (valid: _alpha _beta _pre _rc _cvs _svn _git _hg _p)",
	[WHY_HASH_LATE] = "only one '~hash' is allowed, before the '-rN' revision",
	[WHY_HASH_EMPTY] = "'~' must be followed by a lowercase hex commit hash",
	[WHY_DASH_NOT_REVISION] = "'-' may only start the revision '-rN'",
	[WHY_REVISION_LATE] = "only one '-rN' revision is allowed, at the end",
	[WHY_REVISION_NO_NUMBER] = "the revision '-r' must be followed by digits",
	[WHY_BAD_CHAR] = "character not allowed in an apk version",
};

typedef struct tok {
	const unsigned char *pos; /* first byte not yet consumed */
	tok_kind kind;
	apk_suffix suffix;
	/* apk-tools accumulates digits in a uint64_t and lets it wrap; doing
	 * the same keeps results identical to apk even for 20+ digit parts. */
	uint64_t num;
	const unsigned char *text; /* the token's bytes, for string order */
	size_t len;
	why_invalid why;
	const unsigned char *bad; /* where the version became invalid */
} tok;

static int is_digit(unsigned c)
{
	return c >= '0' && c <= '9';
}

static int is_lower(unsigned c)
{
	return c >= 'a' && c <= 'z';
}

static int is_hex_lower(unsigned c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* Reads a digit run at t->pos as `kind`; false when there is none. */
static int tok_number(tok *t, tok_kind kind)
{
	const unsigned char *p = t->pos;
	uint64_t n = 0;
	while (is_digit(*p))
		n = n * 10u + (uint64_t)(*p++ - '0');
	if (p == t->pos)
		return 0;
	t->kind = kind;
	t->num = n;
	t->text = t->pos;
	t->len = (size_t)(p - t->pos);
	t->pos = p;
	return 1;
}

static apk_suffix suffix_rank(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
		if (strlen(suffixes[i].name) == len && memcmp(suffixes[i].name, s, len) == 0)
			return suffixes[i].rank;
	return SUF_UNKNOWN;
}

/* Takes the span of bytes from t->pos + 1 that satisfy `in_set` as a
 * TK_SUFFIX or TK_HASH token's text. */
static void tok_span(tok *t, tok_kind kind, int (*in_set)(unsigned))
{
	const unsigned char *s = t->pos + 1, *e = s;
	while (in_set(*e))
		e++;
	t->kind = kind;
	t->text = s;
	t->len = (size_t)(e - s);
	t->pos = e;
}

/* Reads the token at t->pos given the previous token's kind, which
 * decides what may follow, as in apk: '.' and a letter only after a
 * number, '_' up to a suffix number, '~' before the revision, one '-rN'
 * last. Returns why the version is invalid there, or WHY_NONE. */
static why_invalid tok_advance(tok *t)
{
	tok_kind prev = t->kind;
	unsigned c = *t->pos;

	if (c == '\0') {
		t->kind = TK_END;
		return WHY_NONE;
	}
	if (is_lower(c)) {
		if (prev > TK_NUM)
			return WHY_LETTER_LATE;
		t->kind = TK_LETTER;
		t->text = t->pos++;
		t->len = 1;
		return WHY_NONE;
	}
	if (c == '.') {
		if (prev > TK_NUM)
			return WHY_DOT_LATE;
		t->pos++;
		return tok_number(t, TK_NUM) ? WHY_NONE : WHY_DOT_NO_DIGIT;
	}
	if (is_digit(c)) {
		/* Numbers swallow all their digits, so a bare digit run
		 * follows either a suffix or a letter. */
		if (prev == TK_SUFFIX && tok_number(t, TK_SUFFIX_NUM))
			return WHY_NONE;
		return WHY_DIGIT_AFTER_LETTER;
	}
	if (c == '_') {
		if (prev > TK_SUFFIX_NUM)
			return WHY_SUFFIX_LATE;
		tok_span(t, TK_SUFFIX, is_lower);
		t->suffix = suffix_rank(t->text, t->len);
		return t->suffix == SUF_UNKNOWN ? WHY_SUFFIX_UNKNOWN : WHY_NONE;
	}
	if (c == '~') {
		if (prev >= TK_HASH)
			return WHY_HASH_LATE;
		tok_span(t, TK_HASH, is_hex_lower);
		return t->len ? WHY_NONE : WHY_HASH_EMPTY;
	}
	if (c == '-') {
		if (prev >= TK_REVISION)
			return WHY_REVISION_LATE;
		if (t->pos[1] != 'r')
			return WHY_DASH_NOT_REVISION;
		t->pos += 2;
		return tok_number(t, TK_REVISION) ? WHY_NONE : WHY_REVISION_NO_NUMBER;
	}
	return WHY_BAD_CHAR;
}

static void tok_next(tok *t)
{
	const unsigned char *at = t->pos;
	why_invalid why = tok_advance(t);
	if (why != WHY_NONE) {
		t->kind = TK_INVALID;
		t->why = why;
		t->bad = at;
	}
}

static void tok_first(tok *t, const char *v)
{
	t->pos = (const unsigned char *)v;
	t->why = WHY_NONE;
	t->bad = NULL;
	if (!tok_number(t, TK_FIRST_NUM)) {
		t->kind = TK_INVALID;
		t->why = *v ? WHY_NO_LEADING_DIGIT : WHY_EMPTY;
		t->bad = t->pos;
	}
}

static int bytes_cmp(const tok *a, const tok *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int r = memcmp(a->text, b->text, n);
	if (r)
		return r < 0 ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}

static int num_cmp(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* Compares two tokens of the same kind (below TK_END). */
static int tok_cmp(const tok *a, const tok *b)
{
	switch (a->kind) {
	case TK_NUM:
		/* Gentoo rule: "1.05" vs "1.5" is a string comparison. */
		if (a->text[0] == '0' || b->text[0] == '0')
			return bytes_cmp(a, b);
		return num_cmp(a->num, b->num);
	case TK_FIRST_NUM:
	case TK_SUFFIX_NUM:
	case TK_REVISION:
		return num_cmp(a->num, b->num);
	case TK_LETTER:
		return num_cmp(a->text[0], b->text[0]);
	case TK_SUFFIX:
		return num_cmp(a->suffix, b->suffix);
	default:
		return bytes_cmp(a, b);
	}
}

static int is_pre_release(const tok *t)
{
	return t->kind == TK_SUFFIX && t->suffix < SUF_NONE;
}

int pw_apk_vercmp(const char *a, const char *b)
{
	/* Zeroed only to quiet GCC -O3, which cannot see tok_first fill every field. */
	tok ta = {0}, tb = {0};

	/* A missing version reads as the empty string: invalid from the start. */
	tok_first(&ta, a ? a : "");
	tok_first(&tb, b ? b : "");
	while (ta.kind == tb.kind && ta.kind < TK_END) {
		int r = tok_cmp(&ta, &tb);
		if (r)
			return r;
		tok_next(&ta);
		tok_next(&tb);
	}
	if (ta.kind == tb.kind)
		return 0;
	if (is_pre_release(&ta))
		return -1;
	if (is_pre_release(&tb))
		return 1;
	return ta.kind > tb.kind ? -1 : 1;
}

pw_err pw_apk_version_check(const char *v, pw_error *err)
{
	if (!v)
		return pw_error_set(err, PW_ERR_INVALID, "apk version check: no version given");

	tok t;
	tok_first(&t, v);
	while (t.kind < TK_END)
		tok_next(&t);
	if (t.kind == TK_END)
		return PW_OK;

	/* Long or binary input: show a bounded, escaped prefix. */
	char shown[72];
	size_t n = 0, i = 0;
	for (; v[i] && n + 5 < sizeof shown; i++) {
		unsigned char ch = (unsigned char)v[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '"')
			shown[n++] = (char)ch;
		else
			n += (size_t)snprintf(shown + n, sizeof shown - n, "\\x%02x", ch);
	}
	shown[n] = '\0';
	return pw_error_set(err, PW_ERR_PARSE,
			    "apk version \"%s%s\" is not valid at byte %zu: %s; apk versions "
			    "look like N{.N}[a][_suffix[N]]...[~hash][-rN]",
			    shown, v[i] ? "..." : "",
			    (size_t)(t.bad - (const unsigned char *)v) + 1, why_text[t.why]);
}
