/* Shared by the version-comparison unit tests: reads the real test
 * vectors in $PW_SHARED_DATA/version-vectors line by line. Static
 * functions, so each test executable gets its own copy. */
#ifndef PW_TEST_VERCMP_VECTORS_H
#define PW_TEST_VERCMP_VECTORS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/fileio.h"

/* Called with each non-empty line, NUL-terminated and writable, and
 * "file:line" for messages. */
typedef void (*vec_line_fn)(char *line, const char *where, void *ctx);

/* Runs fn over every non-empty line of version-vectors/<rel>; fails the
 * test when the file cannot be read. Returns the number of lines. */
static int vec_for_each_line(const char *rel, vec_line_fn fn, void *ctx)
{
	const char *root = getenv("PW_SHARED_DATA");
	if (!root)
		fail_msg("PW_SHARED_DATA is not set (run the test through ctest)");
	char path[4096];
	snprintf(path, sizeof path, "%s/version-vectors/%s", root, rel);
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	if (pw_read_file(path, &b, 0, &e) != PW_OK)
		fail_msg("%s", pw_error_text(&e));
	int n = 0, lineno = 0;
	char *p = b.data, *end = b.data + b.len;
	while (p && p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *next = nl ? nl + 1 : end;
		if (nl)
			*nl = '\0';
		lineno++;
		if (*p) {
			char where[4200];
			snprintf(where, sizeof where, "%s:%d", rel, lineno);
			fn(p, where, ctx);
			n++;
		}
		p = next;
	}
	pw_buf_release(&b);
	return n;
}

/* Splits on spaces and tabs into at most max fields; returns the count
 * (which may exceed max). */
static int vec_split(char *line, char **f, int max)
{
	int n = 0;
	for (char *p = line;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return n;
		if (n < max)
			f[n] = p;
		n++;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

/* "<" "-1" -> -1, "=" "==" "0" -> 0, ">" "1" -> 1; 2 when unknown. */
static int vec_expected(const char *s)
{
	if (!strcmp(s, "<") || !strcmp(s, "-1"))
		return -1;
	if (!strcmp(s, "=") || !strcmp(s, "==") || !strcmp(s, "0"))
		return 0;
	if (!strcmp(s, ">") || !strcmp(s, "1"))
		return 1;
	return 2;
}

static int vec_sign(int v)
{
	return (v > 0) - (v < 0);
}

/* Mismatches are printed, counted and failed on at the end of a test,
 * so one run shows all of them. */
struct vec_tally {
	int cases;
	int bad;
};

__attribute__((format(printf, 2, 3))) static void vec_mismatch(struct vec_tally *t, const char *fmt,
							       ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprint_message(fmt, ap);
	va_end(ap);
	t->bad++;
}

static void vec_done(const char *what, const struct vec_tally *t)
{
	print_message("%s: %d cases, %d mismatches\n", what, t->cases, t->bad);
	if (t->bad)
		fail_msg("%s: %d of %d cases disagree", what, t->bad, t->cases);
	if (!t->cases)
		fail_msg("%s: no cases read", what);
}

#endif
