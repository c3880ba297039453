/* The one token module: bearer secrets and the "<prefix><id>.<secret>"
 * tokens built on them (API tokens "pwt_", enrollment tokens "pwe_",
 * agent credentials). The database keeps only a hash of each secret. */
#ifndef PATCHWARDEN_TOKEN_H
#define PATCHWARDEN_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/sql.h"

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
/* pw_secret_matches on the stored hash in column `col` of the row `st`
 * stepped to; `row` false (no such row) never matches. */
bool pw_secret_matches_col(pw_stmt *st, bool row, int col, const char *secret);
/* Runs `sql` (its one parameter the token's id; column 0 the stored
 * secret hash) and checks `secret` against the row: *match true with *st
 * on the row (the caller resets it), false (reset) when there is no such
 * row or the secret differs. A database error is returned. */
pw_err pw_token_row_match(pw_db *db, const char *sql, int64_t id, const char *secret, pw_stmt **st,
			  bool *match, pw_error *err);

/* A kind of revocable token (API tokens, enrollment tokens): where its
 * rows are and how messages and the audit log name it. */
typedef struct pw_token_kind {
	const char *what;   /* "API token" */
	const char *list;   /* the `patchwarden user` subcommand that lists them: "token list" */
	const char *target; /* audit target "<target>:<id>", actions "<target>.create|revoke" */
	/* Selects the token by id (one ?) with its revocation time as
	 * column 3. */
	const char *select;
	const char *update; /* sets revoked (first ?) of the token with id (second ?) */
	/* The audit record of the selected row (`st` on it), with "revoked"
	 * when revoked is not NULL; NULL when out of memory. Freed with
	 * cJSON_free. */
	char *(*record)(pw_stmt *st, int64_t id, const char *revoked);
} pw_token_kind;

/* Revokes token `id` in one write transaction, audited as
 * "<target>.revoke" with the record before and after. NOTFOUND when there
 * is no such token, INVALID when it is revoked already. */
pw_err pw_token_revoke(pw_db *db, const pw_token_kind *k, const char *actor, int64_t id,
		       pw_error *err);

/* Appends "<target>.<verb>" on "<target>:<id>" to the audit log in the
 * caller's transaction; `after` NULL (out of memory building it) is
 * PW_ERR_NOMEM. */
pw_err pw_token_audit(pw_db *db, const pw_token_kind *k, const char *actor, const char *verb,
		      int64_t id, const char *before, const char *after, pw_error *err);

/* Records a token's use with `update` (sets a time, first ?, of the
 * token with id, second ?). Bookkeeping: a full disk or a read-only
 * database must not also refuse everybody what they may still read, so
 * PW_ERR_UNAVAILABLE is no error here. */
pw_err pw_token_touch(pw_db *db, const char *update, const char *now, int64_t id, pw_error *err);

/* Splits "<prefix><id>.<secret>" (API tokens "pwt_", enrollment tokens
 * "pwe_"): false unless id is 1..2^63-1 in decimal and the secret is
 * exactly PW_SECRET_HEX lowercase hex digits. */
bool pw_token_split(const char *token, const char *prefix, int64_t *id, const char **secret);

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

#endif
