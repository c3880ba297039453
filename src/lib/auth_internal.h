/* Helpers shared by users.c, audit.c and agents.c: timestamps, secrets,
 * bearer-token syntax and the one-transaction wrapper. Not public API. */
#ifndef PATCHWARDEN_AUTH_INTERNAL_H
#define PATCHWARDEN_AUTH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/db.h"
#include "patchwarden/error.h"

/* "2026-01-02T03:04:05.678Z": fixed width, so text order is time order
 * and SQL can compare timestamps as strings on both backends. */
#define PW_TS_LEN 25
void pw_ts_now(char out[PW_TS_LEN], int64_t plus_seconds);

/* Bearer secrets: 32 random bytes as 64 lowercase hex digits. They are
 * high-entropy, so the database keeps a SHA-256 of them (no Argon2 on
 * the hot path) and a stolen database reveals no usable secret. */
#define PW_SECRET_HEX 64
#define PW_SECRET_HASH_LEN 32
pw_err pw_secret_new(char out[PW_SECRET_HEX + 1], pw_error *err);
void pw_secret_hash(const char *secret, unsigned char out[PW_SECRET_HASH_LEN]);
/* Constant-time comparison of `secret`'s hash with a stored hash of any
 * length (a wrong-length stored value never matches). */
bool pw_secret_matches(const void *stored, size_t stored_len, const char *secret);

/* Reads the row of token `id` that is about to be revoked: `sql` selects
 * it by id with its revocation time as column 3, and *st is left on the
 * row for the caller to read and reset. NOTFOUND when there is no such
 * token, INVALID when it is revoked already; `what` ("API token") and
 * `list` (the "patchwarden user" subcommand that lists them) name it in
 * the message. */
pw_err pw_token_revocable(pw_db *db, const char *sql, int64_t id, const char *what,
			  const char *list, pw_stmt **st, pw_error *err);

/* Splits "<prefix><id>.<secret>" (API tokens "pwt_", enrollment tokens
 * "pwe_"): false unless id is 1..2^63-1 in decimal and the secret is
 * exactly PW_SECRET_HEX lowercase hex digits. */
bool pw_token_split(const char *token, const char *prefix, int64_t *id, const char **secret);

/* Whether s is 1..max bytes of printable ASCII without spaces (ids and
 * names that end up in audit targets and log lines). */
bool pw_word_ok(const char *s, size_t max);
/* Whether s is 1..max bytes without control characters (labels). */
#define PW_LABEL_MAX 128
bool pw_text_ok(const char *s, size_t max);

/* Copies a JSON text after checking that it parses, compacted, so the
 * audit log and the job tables hold one canonical spelling. NULL in,
 * NULL out. `what` names the field in the error. */
pw_err pw_json_compact(const char *json, const char *what, char **out, pw_error *err);

/* Runs fn inside one write transaction (BEGIN IMMEDIATE on SQLite),
 * committing on success and rolling back on any error. */
typedef pw_err (*pw_txn_fn)(pw_db *db, void *arg, pw_error *err);
pw_err pw_in_write_txn(pw_db *db, pw_txn_fn fn, void *arg, pw_error *err);

/* The part of a token-creating transaction's argument that
 * pw_token_issue fills in (the new secret's hash, for fn to store) and
 * reads back (the row id fn stored it under). */
typedef struct pw_token_row {
	const unsigned char *secret_hash;
	int64_t id;
} pw_token_row;

/* Makes a fresh secret, runs fn(arg) in one write transaction with
 * row->secret_hash set to the secret's hash, and on success writes
 * "<prefix><id>.<secret>" to token (and the id to *id when id is not
 * NULL). The secret itself never reaches the database or the heap. */
pw_err pw_token_issue(pw_db *db, const char *prefix, pw_txn_fn fn, void *arg, pw_token_row *row,
		      char *token, size_t token_size, int64_t *id, pw_error *err);

/* Prepares and binds in one go, for the many one-shot statements:
 * `types` has one letter per parameter: 't' text (const char *, NULL
 * binds NULL), 'i' int64_t, 'b' blob (const void *, size_t). */
pw_err pw_sql(pw_db *db, const char *sql, pw_stmt **out, pw_error *err, const char *types, ...);

/* Runs a prepared one-row query: *out gets the integer in the first
 * column of its first row and stays as it is when there is none. */
pw_err pw_sql_int(pw_stmt *st, int64_t *out, pw_error *err);

/* Returns the array `v` of n `elem`-byte items, grown so one more fits
 * (updating *cap), or NULL when out of memory (v is then unchanged). */
void *pw_grow(void *v, size_t *cap, size_t n, size_t elem);

/* Appends one item per remaining row of st to the array *v of *n items
 * (capacity *cap, items of `elem` bytes), each filled by fill, which sets
 * *oom when a copy fails. Such an item still counts, so the list's
 * release function frees what it got. `what` ("listing users") starts
 * the out-of-memory error. */
typedef void (*pw_row_fill)(pw_stmt *st, void *item, bool *oom);
pw_err pw_rows_append(pw_stmt *st, void **v, size_t *n, size_t *cap, size_t elem,
		      pw_row_fill fill, const char *what, pw_error *err);

/* A copy of a text column (NULL for SQL NULL); sets *oom when the copy
 * fails, so a row's columns can be copied and checked once. */
char *pw_col_dup(pw_stmt *st, int col, bool *oom);

/* Takes the audit log's head lock now (PostgreSQL row lock; SQLite's
 * write transaction already excludes everyone). Changes that check an
 * invariant across rows (the last admin) take it before reading, so two
 * server nodes cannot both pass the check. */
pw_err pw_audit_serialize(pw_db *db, pw_error *err);

#endif
