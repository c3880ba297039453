/* Tables on the command line: columns with headers, widths fitted to the
 * content and to the terminal, flexible columns shortened with an
 * ellipsis, and colour by priority on a terminal. Front-end only, like
 * cli.c (test_table adds this file by name; the library has no terminal).
 *
 *   struct pw_table t = PW_TABLE_INIT;
 *   pw_table_columns(&t, cols, n);
 *   pw_table_row(&t, PW_STYLE_HIGH, (const char *[]){"openssl", "3.0.11", ...});
 *   pw_table_print(&t, stdout, pw_term_stdout());
 *   pw_table_release(&t);
 *
 * Cells are copied with control characters, bytes that are not UTF-8 and
 * the characters that reorder a line escaped as \xNN (names come from
 * inventories; pw_log_escape). Widths count characters, not bytes, and a
 * shortened cell never ends inside a multibyte character. Colour codes
 * never count. */
#ifndef PATCHWARDEN_TABLE_H
#define PATCHWARDEN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"

/* Column flags. */
enum {
	PW_COL_FLEX = 1 << 0,  /* shortened first when the table is too wide */
	PW_COL_RIGHT = 1 << 1, /* right-aligned (numbers) */
	PW_COL_STYLE = 1 << 2, /* takes the row's colour; no column flagged: the whole row */
};

/* A row's colour (emergency bold red, high red, normal yellow, low dim). */
typedef enum pw_style {
	PW_STYLE_NONE = 0,
	PW_STYLE_EMERGENCY,
	PW_STYLE_HIGH,
	PW_STYLE_NORMAL,
	PW_STYLE_LOW,
} pw_style;

/* The style of a priority name ("emergency", ...); NONE for others. */
pw_style pw_style_of_priority(const char *name);

struct pw_table_col {
	const char *header;
	unsigned flags; /* PW_COL_* */
	size_t keep;    /* FLEX: the width it keeps while the other flexible
			 * columns give way to 8 (0: 8) */
};

/* Where a table goes: its width (0: no limit) and whether to colour. */
struct pw_term {
	size_t width;
	bool color;
};

/* The width of the terminal on `fd`: TIOCGWINSZ when it is one, else
 * $COLUMNS (a positive number), else 0 (no limit: piped output is not
 * cut). */
size_t pw_term_width(int fd);
/* Whether to colour output to `fd`: always, never, or (auto) when fd is
 * a terminal, $NO_COLOR is unset or empty (no-color.org) and $TERM is not
 * "dumb". */
bool pw_term_color(int fd, pw_color_mode mode);
/* Standard output's width and colour, with the --color given to the
 * command line (cli.c keeps it). */
struct pw_term pw_term_stdout(void);

typedef struct pw_table {
	const struct pw_table_col *cols;
	size_t n_cols;
	char **cells; /* n_rows * n_cols escaped cells, owned */
	pw_style *styles;
	size_t n_rows, cap_rows;
	bool failed; /* out of memory: pw_table_print says so */
} pw_table;

/* clang-format off */
#define PW_TABLE_INIT {NULL, 0, NULL, NULL, 0, 0, false}
/* clang-format on */

/* The columns (borrowed: they must outlive the table). */
void pw_table_columns(pw_table *t, const struct pw_table_col *cols, size_t n);
/* Adds a row of n_cols cells (NULL or "" is shown as "-"), copied. */
void pw_table_row(pw_table *t, pw_style style, const char *const *cells);
/* Prints the header and the rows fitted to term->width: the flexible
 * columns give up width first, the widest first, down to their `keep`,
 * then down to 8, then every column, down to a few characters each. Returns -1 when a row could not
 * be stored (out of memory), else 0. */
int pw_table_print(const pw_table *t, FILE *out, struct pw_term term);
void pw_table_release(pw_table *t);

/* The number of characters of a UTF-8 string (continuation bytes do not
 * count). */
size_t pw_utf8_width(const char *s);
/* Writes `text` wrapped at spaces to `width` characters (0: as it is),
 * continuation lines indented by `indent` spaces, and a newline. Words
 * longer than a line are shortened with an ellipsis. Escapes like a cell. */
void pw_term_wrap(FILE *out, size_t width, size_t indent, const char *text);

#endif
