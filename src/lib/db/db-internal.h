/* What db.c (common: cache, translation, migrations, locks) shares with
 * the two backends, db_sqlite.c and db_pg.c. A backend embeds struct pw_db
 * and struct pw_stmt as the first member of its own handle and statement
 * and fills a pw_db_ops table; the common layer checks arguments and
 * states once so the backends stay thin. */
#ifndef PATCHWARDEN_DB_INTERNAL_H
#define PATCHWARDEN_DB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/buf.h"
#include "patchwarden/db.h"

enum pw_stmt_state {
	PW_STMT_READY, /* bound, not executed */
	PW_STMT_ROWS,  /* executed, a row is current */
	PW_STMT_DONE,  /* executed to the end (or failed) */
};

struct pw_stmt {
	pw_db *db;
	char *sql;     /* the caller's text: cache key and error snippet */
	uint64_t hash; /* of sql */
	enum pw_stmt_state state;
	int nparams;
	int ncols;
	int64_t changes;
	/* A bind cannot report a message, so its first failure is kept and
	 * returned by the next step. */
	pw_err bind_rc;
	int bind_idx;
};

typedef enum pw_value_type {
	PW_VALUE_NULL,
	PW_VALUE_INT,
	PW_VALUE_DOUBLE,
	PW_VALUE_TEXT,
	PW_VALUE_BLOB,
} pw_value_type;

typedef struct pw_value {
	pw_value_type type;
	int64_t i;
	double d;
	const void *p; /* TEXT: NUL-terminated; BLOB: n bytes (never NULL) */
	size_t n;
} pw_value;

typedef struct pw_db_ops {
	const char *name; /* "SQLite", "PostgreSQL": starts every message */
	void (*close)(pw_db *db);
	/* Reconnects a handle whose connection broke (PostgreSQL); NULL when
	 * the backend cannot lose its connection. */
	pw_err (*ensure_connected)(pw_db *db, pw_error *err);
	bool (*in_transaction)(pw_db *db);
	/* `sql` is already translated. */
	pw_err (*exec)(pw_db *db, const char *sql, pw_error *err);
	/* Commits the open transaction; on failure it is rolled back. */
	pw_err (*commit)(pw_db *db, pw_error *err);
	/* Creates a statement for `sql` (the caller's text; the backend
	 * translates it) with nparams and ncols filled in. */
	pw_err (*stmt_new)(pw_db *db, const char *sql, pw_stmt **out, pw_error *err);
	void (*stmt_free)(pw_stmt *st);
	/* Ends the current execution; bindings stay unless `clear`. */
	void (*stmt_reset)(pw_stmt *st, bool clear);
	pw_err (*bind)(pw_stmt *st, int idx, const pw_value *v);
	/* Executes (READY) or advances (ROWS); sets state, changes, *row. */
	pw_err (*step)(pw_stmt *st, bool *row, pw_error *err);
	/* Column readers: col and the current row are already checked. */
	bool (*col_is_null)(pw_stmt *st, int col);
	const char *(*col_text)(pw_stmt *st, int col);
	const void *(*col_blob)(pw_stmt *st, int col, size_t *len);
	int64_t (*col_int)(pw_stmt *st, int col);
	double (*col_double)(pw_stmt *st, int col);
	/* Cross-node lock on `key`; *got false when someone else holds it.
	 * unlock is only called for keys this handle holds. */
	pw_err (*try_lock)(pw_db *db, int64_t key, bool *got, pw_error *err);
	pw_err (*unlock)(pw_db *db, int64_t key, pw_error *err);
	/* Serialises pw_db_migrate between nodes beyond what each
	 * migration's own transaction does; NULL when transactions suffice. */
	pw_err (*migrate_lock)(pw_db *db, bool take, pw_error *err);
} pw_db_ops;

struct pw_db {
	const pw_db_ops *ops;
	pw_db_kind kind;
	/* Statement cache: open addressing on the SQL text's hash. */
	pw_stmt **slots;
	size_t nslots; /* a power of two, or 0 */
	size_t nstmts;
	/* Locks this handle holds, so both backends refuse the same misuse. */
	int64_t *locks;
	size_t nlocks, locks_cap;
	char sqlstate[6];
	pw_buf scratch; /* translated SQL */
};

/* Backend constructors: `target` is the URL with any "sqlite:" prefix
 * removed. They set ops and kind; db.c initialises the rest. */
pw_err pw_db_sqlite_open(const char *path, pw_db **out, pw_error *err);
/* The PostgreSQL backend (db_pg.c, CMake target pw_db_pg) registers its
 * opener when it is linked in, so that programs which never open a
 * PostgreSQL database (patchwarden-agent) are built without libpq by
 * construction rather than by link-order tricks. */
typedef pw_err (*pw_db_opener)(const char *conninfo, pw_db **out, pw_error *err);
void pw_db_register_postgres(pw_db_opener open);

/* Rewrites `sql` for `kind` into `out` (reset first): `?` becomes $1, $2…
 * for PostgreSQL and the {{…}} words of db.h become the backend's SQL;
 * both only outside string literals, quoted identifiers, dollar quotes
 * and comments. *nparams counts the `?`. Errors name the position. */
pw_err pw_db_translate(pw_db_kind kind, const char *sql, pw_buf *out, int *nparams, pw_error *err);

/* Sets err to "<backend> error [SQLSTATE]: message (SQL: "start…")",
 * records sqlstate on the handle, and returns PW_ERR_STORE
 * (PW_ERR_UNAVAILABLE for a full disk or a read-only database). `sql` may be
 * NULL; sqlstate may be NULL or "". */
pw_err pw_db_fail(pw_db *db, pw_error *err, const char *sql, const char *sqlstate, const char *fmt,
		  ...) __attribute__((format(printf, 5, 6)));

/* Forgets every lock the handle held (its connection was lost). */
void pw_db_forget_locks(pw_db *db);

#endif
