#include "table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "patchwarden/grow.h"
#include "patchwarden/log.h"

/* The column widths the fitting does not go below, phase by phase: the
 * flexible columns first, then every column, then one character. */
#define FLEX_MIN 8
#define ANY_MIN 4
#define GAP 2 /* spaces between columns */

static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026, one character */

pw_style pw_style_of_priority(const char *name)
{
	static const char *const names[] = {"emergency", "high", "normal", "low"};
	static const pw_style styles[] = {PW_STYLE_EMERGENCY, PW_STYLE_HIGH, PW_STYLE_NORMAL,
					  PW_STYLE_LOW};
	for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(name, names[i]))
			return styles[i];
	return PW_STYLE_NONE;
}

static const char *sgr(pw_style s)
{
	switch (s) {
	case PW_STYLE_EMERGENCY:
		return "\033[1;31m";
	case PW_STYLE_HIGH:
		return "\033[31m";
	case PW_STYLE_NORMAL:
		return "\033[33m";
	case PW_STYLE_LOW:
		return "\033[2m";
	case PW_STYLE_NONE:
		break;
	}
	return NULL;
}

size_t pw_term_width(int fd)
{
	struct winsize ws;
	if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *c = getenv("COLUMNS");
	if (!c || !*c)
		return 0;
	char *end = NULL;
	long n = strtol(c, &end, 10);
	return *end || n <= 0 || n > 100000 ? 0 : (size_t)n;
}

bool pw_term_color(int fd, pw_color_mode mode)
{
	if (mode != PW_COLOR_AUTO)
		return mode == PW_COLOR_ALWAYS;
	const char *no = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	return isatty(fd) && !(no && *no) && !(term && !strcmp(term, "dumb"));
}

struct pw_term pw_term_stdout(void)
{
	struct pw_term t = {pw_term_width(STDOUT_FILENO),
			    pw_term_color(STDOUT_FILENO, pw_cli_color_mode())};
	return t;
}

size_t pw_utf8_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The byte length of the first `chars` characters of s. */
static size_t utf8_prefix(const char *s, size_t chars)
{
	size_t i = 0;
	while (s[i] && chars) {
		i++;
		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		chars--;
	}
	return i;
}

/* `in` with control characters and bad UTF-8 escaped; caller frees. */
static char *escaped(const char *in)
{
	if (!in || !*in)
		in = "-";
	size_t size = strlen(in) * 4 + 1;
	char *out = malloc(size);
	if (out)
		pw_log_escape(in, out, size);
	return out;
}

void pw_table_columns(pw_table *t, const struct pw_table_col *cols, size_t n)
{
	t->cols = cols;
	t->n_cols = n;
}

void pw_table_row(pw_table *t, pw_style style, const char *const *cells)
{
	if (t->failed)
		return;
	size_t cap = t->cap_rows;
	pw_style *st = pw_grow(t->styles, &cap, t->n_rows, sizeof *st);
	if (st)
		t->styles = st;
	char **c = st ? realloc(t->cells, cap * t->n_cols * sizeof *c + 1) : NULL;
	if (!c) {
		t->failed = true;
		return;
	}
	t->cells = c;
	t->cap_rows = cap;
	char **row = t->cells + t->n_rows * t->n_cols;
	for (size_t i = 0; i < t->n_cols; i++) {
		row[i] = escaped(cells[i]);
		if (!row[i])
			t->failed = true;
	}
	t->styles[t->n_rows++] = style;
}

void pw_table_release(pw_table *t)
{
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->styles);
	pw_table empty = PW_TABLE_INIT;
	*t = empty;
}

/* The width column c gives way to: for flexible columns in the first
 * phase (floor 0), its `keep`; else `floor`. */
static size_t floor_of(const struct pw_table_col *col, size_t floor)
{
	if (floor)
		return floor;
	return col->keep ? col->keep : FLEX_MIN;
}

/* Takes one character at a time from the widest column with all `need`
 * flags, above its floor, until the excess is gone. Returns what is left. */
static size_t shrink(const pw_table *t, size_t *w, size_t excess, unsigned need, size_t floor)
{
	while (excess) {
		size_t best = t->n_cols;
		for (size_t c = 0; c < t->n_cols; c++)
			if ((t->cols[c].flags & need) == need &&
			    w[c] > floor_of(&t->cols[c], floor) &&
			    (best == t->n_cols || w[c] > w[best]))
				best = c;
		if (best == t->n_cols)
			break;
		w[best]--;
		excess--;
	}
	return excess;
}

static void fit(const pw_table *t, size_t *w, size_t limit)
{
	size_t total = 0;
	for (size_t c = 0; c < t->n_cols; c++) {
		w[c] = pw_utf8_width(t->cols[c].header);
		for (size_t r = 0; r < t->n_rows; r++) {
			size_t n = pw_utf8_width(t->cells[r * t->n_cols + c]);
			if (n > w[c])
				w[c] = n;
		}
		total += w[c] + (c ? GAP : 0);
	}
	if (!limit || total <= limit)
		return;
	size_t excess = total - limit;
	excess = shrink(t, w, excess, PW_COL_FLEX, 0);
	excess = shrink(t, w, excess, PW_COL_FLEX, FLEX_MIN);
	excess = shrink(t, w, excess, 0, ANY_MIN);
	shrink(t, w, excess, 0, 1);
}

static void put_cell(FILE *out, const char *s, size_t w, bool right, bool last, const char *on)
{
	size_t n = pw_utf8_width(s);
	size_t pad = n < w ? w - n : 0;
	if (right && pad)
		fprintf(out, "%*s", (int)pad, "");
	if (on)
		fputs(on, out);
	if (n <= w)
		fputs(s, out);
	else
		fprintf(out, "%.*s%s", (int)utf8_prefix(s, w - 1), s, ellipsis);
	if (on)
		fputs("\033[0m", out);
	if (!right && pad && !last)
		fprintf(out, "%*s", (int)pad, "");
}

int pw_table_print(const pw_table *t, FILE *out, struct pw_term term)
{
	if (t->failed)
		return -1;
	size_t *w = calloc(t->n_cols ? t->n_cols : 1, sizeof *w);
	if (!w)
		return -1;
	fit(t, w, term.width);
	bool any_styled = false;
	for (size_t c = 0; c < t->n_cols; c++)
		any_styled |= (t->cols[c].flags & PW_COL_STYLE) != 0;
	for (size_t r = 0; r <= t->n_rows; r++) {
		const char *on = r && term.color ? sgr(t->styles[r - 1]) : NULL;
		for (size_t c = 0; c < t->n_cols; c++) {
			const struct pw_table_col *col = &t->cols[c];
			const char *s = r ? t->cells[(r - 1) * t->n_cols + c] : col->header;
			bool styled = !any_styled || (col->flags & PW_COL_STYLE);
			if (c)
				fprintf(out, "%*s", GAP, "");
			put_cell(out, s, w[c], col->flags & PW_COL_RIGHT, c + 1 == t->n_cols,
				 styled ? on : NULL);
		}
		fputc('\n', out);
	}
	free(w);
	return 0;
}

void pw_term_wrap(FILE *out, size_t width, size_t indent, const char *text)
{
	char *s = escaped(text);
	if (!s)
		return;
	if (!width) {
		fprintf(out, "%s\n", s);
		free(s);
		return;
	}
	size_t col = 0;
	for (char *p = s; *p;) {
		size_t len = strcspn(p, " ");
		size_t n = pw_utf8_width(p) - pw_utf8_width(p + len);
		if (col && col + 1 + n > width) {
			fprintf(out, "\n%*s", (int)indent, "");
			col = indent;
		} else if (col) {
			fputc(' ', out);
			col++;
		}
		size_t room = width > col ? width - col : 1;
		if (n > room) {
			fprintf(out, "%.*s%s", (int)utf8_prefix(p, room - 1), p, ellipsis);
			col += room;
		} else {
			fprintf(out, "%.*s", (int)len, p);
			col += n;
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
	free(s);
}
