/* RPM versions, exactly as rpm 4.18 orders them: rpmvercmp() on each
 * component and rpmverCmp() on [epoch:]version[-release], the comparison
 * behind rpm's Lua rpm.vercmp(). Written from rpm's documented behaviour
 * and checked against the real rpm by tests/scripts/vercmp_differential.sh.
 * Works on pointer ranges, so nothing is copied or allocated. */
#include <stdbool.h>

#include <string.h>

#include "patchwarden/vercmp.h"

/* rpm's rctype is ASCII-only: every other byte separates segments, which
 * is why "1.1.α" and "1.1.β" compare equal in rpm. */
static inline bool r_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool r_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool r_separator(char c)
{
	return !r_digit(c) && !r_alpha(c) && c != '~' && c != '^';
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* Compares two runs of equal kind (digits or letters) as rpm does:
 * numbers by value (leading zeros dropped, then length, then digits),
 * letters as strcmp() would. */
static int segment_cmp(const char *a, const char *ae, const char *b, const char *be, bool numeric)
{
	if (numeric) {
		while (a < ae && *a == '0')
			a++;
		while (b < be && *b == '0')
			b++;
		if (ae - a != be - b)
			return ae - a > be - b ? 1 : -1;
	}
	size_t la = (size_t)(ae - a), lb = (size_t)(be - b);
	int c = memcmp(a, b, la < lb ? la : lb);
	if (c)
		return sign(c);
	return la == lb ? 0 : (la < lb ? -1 : 1);
}

/* rpmvercmp() on [a, ae) and [b, be). */
static int segcmp(const char *a, const char *ae, const char *b, const char *be)
{
	for (;;) {
		while (a < ae && r_separator(*a))
			a++;
		while (b < be && r_separator(*b))
			b++;
		char ca = a < ae ? *a : '\0';
		char cb = b < be ? *b : '\0';

		/* '~' sorts before everything, even the end of the string. */
		if (ca == '~' || cb == '~') {
			if (ca != '~')
				return 1;
			if (cb != '~')
				return -1;
			a++;
			b++;
			continue;
		}
		/* '^' sorts after the end of the string but before anything else. */
		if (ca == '^' || cb == '^') {
			if (a == ae)
				return -1;
			if (b == be)
				return 1;
			if (ca != '^')
				return 1;
			if (cb != '^')
				return -1;
			a++;
			b++;
			continue;
		}
		if (a == ae || b == be)
			break;

		const char *sa = a, *sb = b;
		bool numeric = r_digit(ca);
		if (numeric) {
			while (a < ae && r_digit(*a))
				a++;
			while (b < be && r_digit(*b))
				b++;
		} else {
			while (a < ae && r_alpha(*a))
				a++;
			while (b < be && r_alpha(*b))
				b++;
		}
		/* A number against letters: the number is newer. */
		if (b == sb)
			return numeric ? 1 : -1;
		int r = segment_cmp(sa, a, sb, b, numeric);
		if (r)
			return r;
	}
	if (a == ae && b == be)
		return 0;
	return a == ae ? -1 : 1;
}

/* segcmp() after skipping the bytes both sides share: up to the first
 * difference, backed up to the start of its run of letters and digits,
 * which is where rpmvercmp() starts a segment; before it both sides went
 * through the same segments and separators. */
static int range_cmp(const char *a, const char *ae, const char *b, const char *be)
{
	size_t la = (size_t)(ae - a), lb = (size_t)(be - b), n = la < lb ? la : lb, k = 0;
	while (k < n && a[k] == b[k])
		k++;
	if (k == la && k == lb)
		return 0;
	while (k > 0 && (r_digit(a[k - 1]) || r_alpha(a[k - 1])))
		k--;
	return segcmp(a + k, ae, b + k, be);
}

int pw_rpm_segcmp(const char *a, const char *b)
{
	return range_cmp(a, a + strlen(a), b, b + strlen(b));
}

/* [epoch:]version[-release] as rpmverParse() splits it: the epoch is the
 * leading digits when a ':' follows them (an empty one counts as "0", a
 * missing one too), the release what follows the last '-'. */
struct evr {
	const char *e, *ee, *v, *ve, *r, *re;
	bool has_release;
};

static void evr_split(const char *s, struct evr *o)
{
	static const char zero[] = "0";
	const char *p = s;
	while (r_digit(*p))
		p++;
	const char *end = p + strlen(p);
	o->e = zero;
	o->ee = zero + 1;
	o->v = s;
	if (*p == ':') {
		if (p != s) {
			o->e = s;
			o->ee = p;
		}
		o->v = p + 1;
	}
	const char *hyphen = memrchr(p, '-', (size_t)(end - p));
	o->has_release = hyphen != NULL;
	o->ve = hyphen ? hyphen : end;
	o->r = hyphen ? hyphen + 1 : end;
	o->re = end;
}

int pw_rpm_vercmp(const char *a, const char *b)
{
	struct evr x, y;
	evr_split(a, &x);
	evr_split(b, &y);
	int r = range_cmp(x.e, x.ee, y.e, y.ee);
	if (r == 0)
		r = range_cmp(x.v, x.ve, y.v, y.ve);
	if (r == 0) {
		/* rpmverCmp(): a release, even an empty one, beats none. */
		if (x.has_release && y.has_release)
			r = range_cmp(x.r, x.re, y.r, y.re);
		else
			r = (int)x.has_release - (int)y.has_release;
	}
	return r;
}
