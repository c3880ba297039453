/* One SQL interface over SQLite (default, one file) and PostgreSQL
 * (libpq; many server nodes on one database). Callers write SQL once with
 * `?` placeholders and portable types; the backend translates placeholders
 * ($1.. for PostgreSQL) and the few type words migrations need.
 *
 * Prepared statements only: pw_db_prepare caches each SQL text on the
 * handle, so a hot path prepares once per connection. A handle is used
 * by one thread at a time.
 *
 * Portable SQL: use BIGINT for 64-bit integers (PostgreSQL's INTEGER is
 * 32 bits), TEXT, DOUBLE PRECISION and the {{…}} words below; write
 * CAST(? AS BIGINT) where PostgreSQL cannot infer a parameter's type
 * (`SELECT ?`, `? + 1`). `?` is always a parameter outside literals and
 * comments, so PostgreSQL's jsonb `?` operators are not available. */
#ifndef PATCHWARDEN_DB_H
#define PATCHWARDEN_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/error.h"

/* The server database (and feed store) file when neither --db,
 * $PATCHWARDEN_DB nor the configuration names one: absolute, so a command
 * run in another directory finds the same database (or says it is not
 * there) instead of opening ./patchwarden.db. */
#define PW_STATE_DIR "/var/lib/patchwarden"
#define PW_SERVER_DB_DEFAULT PW_STATE_DIR "/patchwarden.db"

typedef struct pw_db pw_db;
typedef struct pw_stmt pw_stmt;

typedef enum pw_db_kind {
	PW_DB_SQLITE = 0,
	PW_DB_POSTGRES = 1,
} pw_db_kind;

/* `url`: "postgresql://…", "postgres://…" or a libpq "host=… dbname=…"
 * string for PostgreSQL; "sqlite:PATH" or a plain PATH for SQLite
 * (created if missing; WAL, synchronous=NORMAL, foreign keys on,
 * busy timeout). PostgreSQL connections time out after 10 s unless the
 * URL says otherwise; a broken connection is re-established by the next
 * prepare/exec/begin, and the cached statements are prepared again. A
 * transaction lost with the connection is reported first (its commit
 * fails, other calls fail until pw_db_rollback), so nothing silently runs
 * outside it. */
pw_err pw_db_open(const char *url, pw_db **out, pw_error *err);
void pw_db_close(pw_db *db);
pw_db_kind pw_db_kind_of(const pw_db *db);

/* The file a SQLite URL names ("sqlite:PATH" or PATH), or NULL for a
 * PostgreSQL URL: lets front ends tell "no such file" from an empty
 * database before opening (which creates the file). */
const char *pw_db_sqlite_path(const char *url);
/* `url` fit for messages and output: a PostgreSQL password (in the URL's
 * user info, a password= parameter or keyword) is replaced by "***". */
void pw_db_url_redact(const char *url, char *out, size_t size);
/* Bulk writes on this handle: SQLite keeps up to `cache_kib` KiB of the
 * database in memory (PRAGMA cache_size), so big imports into clustered
 * tables do not go back to the file for every page, and keeps temporary
 * data in memory (PRAGMA temp_store): a multi-row INSERT writes a
 * statement journal, which would otherwise be a file. PostgreSQL:
 * nothing (the server's settings govern). */
pw_err pw_db_tune_bulk(pw_db *db, int64_t cache_kib, pw_error *err);
/* *exists true when a table (or view) named `name` is visible. */
pw_err pw_db_table_exists(pw_db *db, const char *name, bool *exists, pw_error *err);
/* Whether the database answers: one trivial statement, through the
 * reconnect that every statement gets (a health check). */
pw_err pw_db_ping(pw_db *db, pw_error *err);

/* Backups (SQLite; PostgreSQL has pg_dump, see patchwarden-db(1), and
 * these answer PW_ERR_UNSUPPORTED). pw_db_sqlite_backup copies the open
 * database into `dest` with SQLite's online backup API — one consistent
 * snapshot while other connections keep writing — through dest.tmp
 * (mode 0600), an fsync and a rename, so `dest` is whole or absent. */
pw_err pw_db_sqlite_backup(pw_db *db, const char *dest, pw_error *err);
/* Replaces the open database's content with the SQLite file `src`'s
 * (the backup API the other way), in one step: readers see the old or
 * the new database. Check `src` with pw_db_sqlite_file_check first. */
pw_err pw_db_sqlite_restore(pw_db *db, const char *src, pw_error *err);
/* Opens the SQLite file `path` read-only (nothing is written to it), runs
 * PRAGMA integrity_check and reads the newest schema version of
 * `component` (0 when it has none): a backup is checked before it is
 * restored. PW_ERR_INTEGRITY with SQLite's first complaint. */
pw_err pw_db_sqlite_file_check(const char *path, const char *component, int64_t *version,
			       pw_error *err);
/* PRAGMA integrity_check of an open SQLite database (PW_ERR_INTEGRITY
 * with the first complaint); PostgreSQL checks its pages itself: a round
 * trip. */
pw_err pw_db_integrity(pw_db *db, pw_error *err);

/* Runs SQL without parameters (may hold several statements). */
pw_err pw_db_exec(pw_db *db, const char *sql, pw_error *err);

/* Transactions. pw_db_begin_immediate takes the write lock at once
 * (SQLite BEGIN IMMEDIATE; PostgreSQL plain BEGIN). Nested begin is an
 * error. A failed commit has rolled the transaction back. After a failed
 * statement, roll back: PostgreSQL has aborted the transaction (its
 * commit then fails), SQLite only undid that statement. */
pw_err pw_db_begin(pw_db *db, pw_error *err);
pw_err pw_db_begin_immediate(pw_db *db, pw_error *err);
pw_err pw_db_commit(pw_db *db, pw_error *err);
void pw_db_rollback(pw_db *db);
/* Whether a transaction is open on the handle (a module sharing a
 * caller's handle joins the caller's transaction instead of nesting). */
bool pw_db_in_transaction(pw_db *db);
/* Inside a transaction: waits for the lock `key`, held until commit or
 * rollback, so writers of one kind (feed imports) on several nodes run
 * one after the other. PostgreSQL pg_advisory_xact_lock; on SQLite the
 * write lock of pw_db_begin_immediate already does this, so it only
 * checks that a transaction is open. */
pw_err pw_db_xact_lock(pw_db *db, int64_t key, pw_error *err);

/* Returns the cached statement for `sql`, reset and with bindings
 * cleared. The handle owns it: never free it. The {{…}} words of
 * pw_db_migrate are translated here and in pw_db_exec too. Preparing the
 * same text again resets the one statement, so do not prepare a
 * statement's own text while iterating it. */
pw_err pw_db_prepare(pw_db *db, const char *sql, pw_stmt **out, pw_error *err);

/* Ends the current execution and keeps the bindings. Call it when you
 * stop reading before the last row (a lookup of one row): on SQLite an
 * unfinished SELECT keeps the handle's read transaction open, so every
 * later read on the handle sees that old snapshot and the WAL cannot be
 * checkpointed past it. Stepping to the end (or preparing the statement
 * again) does the same. */
void pw_stmt_reset(pw_stmt *st);

/* Parameters are numbered from 1. Text and blobs are copied. Binding an
 * executed statement resets it (keeping the other bindings), so
 * bind/exec/bind/exec reruns it. A bad index is returned here and again,
 * with a message, by the next step. */
pw_err pw_stmt_bind_text(pw_stmt *st, int idx, const char *s); /* NULL binds NULL */
pw_err pw_stmt_bind_blob(pw_stmt *st, int idx, const void *p, size_t n);
pw_err pw_stmt_bind_int(pw_stmt *st, int idx, int64_t v);
pw_err pw_stmt_bind_double(pw_stmt *st, int idx, double v);
pw_err pw_stmt_bind_null(pw_stmt *st, int idx);

/* Executes on the first call, then moves to the next row: *row is true
 * while a row is available. Errors carry the database's message and the
 * start of the SQL. PostgreSQL results arrive whole (so statements can
 * nest as on SQLite): page through big tables with LIMIT and a key. */
pw_err pw_stmt_step(pw_stmt *st, bool *row, pw_error *err);
/* Convenience: step once expecting no row (INSERT/UPDATE/DELETE). */
pw_err pw_stmt_exec(pw_stmt *st, pw_error *err);
/* Rows changed by the last INSERT/UPDATE/DELETE once it has finished;
 * 0 for other statements. */
int64_t pw_stmt_changes(const pw_stmt *st);

/* Columns are numbered from 0 and valid until the next step/reset.
 * pw_stmt_text returns NULL for SQL NULL; pw_stmt_blob returns NULL for
 * NULL and a non-NULL pointer for an empty blob. Read BYTEA/BLOB columns
 * with pw_stmt_blob. PostgreSQL booleans read as 1/0 with pw_stmt_int. */
const char *pw_stmt_text(pw_stmt *st, int col);
const void *pw_stmt_blob(pw_stmt *st, int col, size_t *len);
int64_t pw_stmt_int(pw_stmt *st, int col);
double pw_stmt_double(pw_stmt *st, int col);
bool pw_stmt_is_null(pw_stmt *st, int col);
int pw_stmt_columns(const pw_stmt *st);

/* Numbered schema migrations for one component ("hosts", "feeds"):
 * applied in order inside one transaction each, recorded in the
 * `schema_migrations` table, never applied twice, and safe when several
 * nodes start at once (PostgreSQL advisory lock). In `sql`, these words
 * are translated per backend:
 *   {{id}}        INTEGER PRIMARY KEY  | BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY
 *   {{blob}}      BLOB                 | BYTEA
 *   {{now}}       strftime('%Y-%m-%dT%H:%M:%fZ','now') | to_char(now() at time zone 'utc',
 * 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
 *   {{without_rowid}}  WITHOUT ROWID   | (nothing)
 *   {{skip_locked}}    (nothing)       | FOR UPDATE SKIP LOCKED
 *
 * Taking queued work portably: inside pw_db_begin_immediate, run
 *   UPDATE jobs SET owner = ? WHERE id = (SELECT id FROM jobs WHERE owner
 *   IS NULL ORDER BY id LIMIT 1 {{skip_locked}}) RETURNING id
 * PostgreSQL nodes then take different rows at the same time; SQLite's
 * write lock (BEGIN IMMEDIATE) serialises the takers instead.
 *
 * Each migration runs in its own transaction (so no CREATE INDEX
 * CONCURRENTLY); a failing one is rolled back, leaves the earlier ones in
 * place and is reported with its version and name. A database whose
 * component is at a version newer than the last of `m` is refused. */
typedef struct pw_migration {
	int version;      /* 1, 2, 3, ... */
	const char *name; /* "create hosts" */
	const char *sql;
} pw_migration;

pw_err pw_db_migrate(pw_db *db, const char *component, const pw_migration *m, size_t n,
		     pw_error *err);

/* Mutual exclusion across server nodes for scheduled work: PostgreSQL
 * pg_try_advisory_lock(key) (session level); SQLite an open-file-
 * description lock on a byte of "PATH-pwlock" ("PATH-pwlock-neg" for
 * negative keys), so other handles and processes on the same file are
 * excluded too and a crash releases it.
 * *got is false when another holder has it. Taking a key this handle
 * already holds, or unlocking one it does not hold, is PW_ERR_INVALID.
 * A reconnect (PostgreSQL) loses the locks. */
pw_err pw_db_try_lock(pw_db *db, int64_t key, bool *got, pw_error *err);
pw_err pw_db_unlock(pw_db *db, int64_t key, pw_error *err);

/* SQLSTATE of the handle's last error ("23505" unique violation, "23503"
 * foreign key, "23502" not null, "23514" check, "23000" other constraint,
 * "55P03" locked/busy; SQLite errors are mapped to these), or "" when
 * unknown. Lets callers tell a conflict from a failure on both backends. */
const char *pw_db_sqlstate(const pw_db *db);

#endif
