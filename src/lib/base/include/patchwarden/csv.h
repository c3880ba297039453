/* The one CSV cell writer, shared by the host inventory's export
 * (host_csv.h) and the reports (report.h): RFC 4180 quoting with the
 * formula-injection guard. */
#ifndef PATCHWARDEN_CSV_H
#define PATCHWARDEN_CSV_H

#include <stdbool.h>

#include "patchwarden/buf.h"
#include "patchwarden/error.h"

/* Formula injection (OWASP): a spreadsheet runs a cell that begins with
 * = + - @, a tab or a carriage return. Whether `v` begins with one of
 * those or with a single quote (which the guard itself adds, so that a
 * reader taking one leading quote off gets back exactly what was
 * written). */
bool pw_csv_guarded(const char *v);

/* Appends `v` as one cell (no separator): as it is when it needs no
 * quoting, else in double quotes with each quote doubled (a comma, a
 * quote, CR, LF, or a leading or trailing space); a guarded value goes
 * out quoted with a single quote before it. NULL is an empty cell. */
pw_err pw_csv_cell(pw_buf *out, const char *v);

#endif
