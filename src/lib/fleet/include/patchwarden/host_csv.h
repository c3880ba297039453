/* The server inventory as CSV (the case study's spreadsheet): one host per
 * row, imported all-or-nothing and exported with the same columns. */
#ifndef PATCHWARDEN_HOST_CSV_H
#define PATCHWARDEN_HOST_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "patchwarden/buf.h"
#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/hosts.h"

/* ---- CSV ------------------------------------------------------------- */

/* A parsed and checked CSV file: RFC 4180 (quoted fields may hold
 * commas, quotes as "" and line breaks; CRLF or LF), a header row naming
 * editable fields, hostname required. Cells hold stored forms
 * (pw_host_value_check); NULL is an empty cell. */
typedef struct pw_host_csv {
	pw_host_field *cols; /* per column, from the header */
	size_t ncols;
	char **cells;  /* nrows * ncols */
	size_t *lines; /* each row's first line in the file */
	size_t nrows, cap;
} pw_host_csv;

/* clang-format off */
#define PW_HOST_CSV_INIT {NULL, 0, NULL, NULL, 0, 0}
/* clang-format on */
void pw_host_csv_release(pw_host_csv *c);

/* Errors are "NAME:LINE:COLUMN: message" (column in bytes, 1-based).
 * Rows with a bad value or field count do not stop the parse: the
 * error is the first one's, followed by "; N more bad rows, on lines
 * L1, L2, ..." so one run names every line to fix. */
pw_err pw_host_csv_parse(const char *name, const char *data, size_t len, pw_host_csv *out,
			 pw_error *err);

typedef struct pw_host_import_stats {
	size_t rows, created, updated, unchanged;
} pw_host_import_stats;

/* Parses `data` and upserts every row by hostname in one transaction:
 * an invalid row aborts the import and nothing is written. Each new or
 * changed host gets a "host.import" audit event. */
pw_err pw_host_import_csv(pw_db *db, const char *actor, const char *name, const char *data,
			  size_t len, pw_host_import_stats *stats, pw_error *err);

/* Appends the editable fields of the hosts matching `f` as CSV with a
 * header row (CRLF line ends): what pw_host_import_csv reads back. A value
 * that begins with = + - @ TAB CR or a single quote goes out quoted with a
 * single quote before it, so that no spreadsheet runs it as a formula;
 * the parse takes exactly one such quote off again (lossless). */
pw_err pw_host_export_csv(pw_db *db, const pw_host_filter *f, pw_buf *out, pw_error *err);

#endif
