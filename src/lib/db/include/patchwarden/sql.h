/* Helpers over db.h for the many one-shot statements and one-transaction
 * changes of the server-side modules. */
#ifndef PATCHWARDEN_SQL_H
#define PATCHWARDEN_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/db.h"
#include "patchwarden/error.h"

/* Runs fn inside one write transaction (BEGIN IMMEDIATE on SQLite),
 * committing on success and rolling back on any error. */
typedef pw_err (*pw_txn_fn)(pw_db *db, void *arg, pw_error *err);
pw_err pw_in_write_txn(pw_db *db, pw_txn_fn fn, void *arg, pw_error *err);

/* Prepares and binds in one go, for the many one-shot statements:
 * `types` has one letter per parameter: 't' text (const char *, NULL
 * binds NULL), 'i' int64_t, 'b' blob (const void *, size_t). */
pw_err pw_sql(pw_db *db, const char *sql, pw_stmt **out, pw_error *err, const char *types, ...);

/* Runs a prepared one-row query: *out gets the integer in the first
 * column of its first row and stays as it is when there is none. */
pw_err pw_sql_int(pw_stmt *st, int64_t *out, pw_error *err);

/* Appends one item per remaining row of st to the array *v of *n items
 * (capacity *cap, items of `elem` bytes), each filled by fill, which sets
 * *oom when a copy fails. Such an item still counts, so the list's
 * release function frees what it got. `what` ("listing users") starts
 * the out-of-memory error. */
typedef void (*pw_row_fill)(pw_stmt *st, void *item, bool *oom);
pw_err pw_rows_append(pw_stmt *st, void **v, size_t *n, size_t *cap, size_t elem, pw_row_fill fill,
		      const char *what, pw_error *err);

/* A copy of a text column (NULL for SQL NULL); sets *oom when the copy
 * fails, so a row's columns can be copied and checked once. */
char *pw_col_dup(pw_stmt *st, int col, bool *oom);

#endif
