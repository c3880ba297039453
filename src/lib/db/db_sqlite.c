/* SQLite backend of db.h: one file in WAL mode. */
#include <errno.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db-internal.h"
#include "patchwarden/fileio.h"

/* Long enough to ride out another connection's write transaction, short
 * enough that a stuck writer surfaces as an error. */
#define SQ_BUSY_TIMEOUT_MS 10000

typedef struct sq_db {
	struct pw_db base;
	sqlite3 *h;
	/* try_lock: lock files for keys >= 0 and < 0, opened on first use. */
	int lockfd[2];
} sq_db;

typedef struct sq_stmt {
	struct pw_stmt base;
	sqlite3_stmt *s;
	bool readonly;
} sq_stmt;

static sq_db *SQ(pw_db *db)
{
	return (sq_db *)db;
}

static sq_stmt *SQS(pw_stmt *st)
{
	return (sq_stmt *)st;
}

/* SQLite's constraint, locking, disk-full and read-only codes as the
 * SQLSTATEs PostgreSQL reports, so callers test one value on both
 * backends. */
static const char *sq_sqlstate(int xrc)
{
	switch (xrc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return "23505";
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return "23503";
	case SQLITE_CONSTRAINT_NOTNULL:
		return "23502";
	case SQLITE_CONSTRAINT_CHECK:
		return "23514";
	default:
		break;
	}
	switch (xrc & 0xff) {
	case SQLITE_CONSTRAINT:
		return "23000";
	case SQLITE_FULL:
		return "53100";
	case SQLITE_READONLY:
		return "25006";
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return "55P03";
	default:
		return "";
	}
}

static pw_err sq_fail(sq_db *d, pw_error *err, const char *sql)
{
	return pw_db_fail(&d->base, err, sql, sq_sqlstate(sqlite3_extended_errcode(d->h)), "%s",
			  sqlite3_errmsg(d->h));
}

static void sq_close(pw_db *db)
{
	sq_db *d = SQ(db);
	sqlite3_close_v2(d->h);
	for (int i = 0; i < 2; i++) {
		if (d->lockfd[i] >= 0)
			close(d->lockfd[i]);
	}
	free(d);
}

static bool sq_in_transaction(pw_db *db)
{
	return !sqlite3_get_autocommit(SQ(db)->h);
}

static pw_err sq_exec(pw_db *db, const char *sql, pw_error *err)
{
	sq_db *d = SQ(db);
	char *msg = NULL;
	int rc = sqlite3_exec(d->h, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return PW_OK;
	pw_err r = pw_db_fail(db, err, sql, sq_sqlstate(sqlite3_extended_errcode(d->h)), "%s",
			      msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return r;
}

static pw_err sq_commit(pw_db *db, pw_error *err)
{
	pw_err rc = sq_exec(db, "COMMIT", err);
	/* A failed COMMIT (SQLITE_BUSY) leaves the transaction open; the
	 * contract is that a failed commit rolled back. */
	if (rc && sq_in_transaction(db))
		sq_exec(db, "ROLLBACK", NULL);
	return rc;
}

static pw_err sq_stmt_new(pw_db *db, const char *sql, pw_stmt **out, pw_error *err)
{
	sq_db *d = SQ(db);
	int nparams;
	pw_err rc = pw_db_translate(PW_DB_SQLITE, sql, &db->scratch, &nparams, err);
	if (rc)
		return rc;
	const char *text = pw_buf_str(&db->scratch);
	sqlite3_stmt *s = NULL;
	const char *tail = NULL;
	if (sqlite3_prepare_v3(d->h, text, -1, SQLITE_PREPARE_PERSISTENT, &s, &tail) != SQLITE_OK)
		return sq_fail(d, err, sql);
	if (!s)
		return pw_db_fail(db, err, sql, NULL, "no SQL statement in the text");
	while (tail &&
	       (*tail == ' ' || *tail == '\t' || *tail == '\n' || *tail == '\r' || *tail == ';'))
		tail++;
	if (tail && *tail) {
		sqlite3_finalize(s);
		return pw_error_set(err, PW_ERR_INVALID,
				    "pw_db_prepare takes one statement; run several with "
				    "pw_db_exec (SQL: \"%.60s\")",
				    sql);
	}
	sq_stmt *st = calloc(1, sizeof *st);
	if (!st) {
		sqlite3_finalize(s);
		return pw_error_set(err, PW_ERR_NOMEM, "preparing SQL: out of memory");
	}
	st->s = s;
	st->readonly = sqlite3_stmt_readonly(s);
	st->base.nparams = sqlite3_bind_parameter_count(s);
	st->base.ncols = sqlite3_column_count(s);
	*out = &st->base;
	return PW_OK;
}

static void sq_stmt_free(pw_stmt *st)
{
	sqlite3_finalize(SQS(st)->s);
	free(st);
}

static void sq_stmt_reset(pw_stmt *st, bool clear)
{
	sqlite3_reset(SQS(st)->s);
	if (clear)
		sqlite3_clear_bindings(SQS(st)->s);
}

static pw_err sq_bind(pw_stmt *st, int idx, const pw_value *v)
{
	sqlite3_stmt *s = SQS(st)->s;
	int rc;
	switch (v->type) {
	case PW_VALUE_INT:
		rc = sqlite3_bind_int64(s, idx, v->i);
		break;
	case PW_VALUE_DOUBLE:
		rc = sqlite3_bind_double(s, idx, v->d);
		break;
	case PW_VALUE_TEXT:
		rc = sqlite3_bind_text(s, idx, v->p, -1, SQLITE_TRANSIENT);
		break;
	case PW_VALUE_BLOB:
		/* sqlite3_bind_blob binds NULL for a NULL pointer, and a
		 * zero-length blob may come with any pointer. */
		rc = v->n ? sqlite3_bind_blob64(s, idx, v->p, v->n, SQLITE_TRANSIENT)
			  : sqlite3_bind_zeroblob(s, idx, 0);
		break;
	default:
		rc = sqlite3_bind_null(s, idx);
		break;
	}
	if (rc == SQLITE_OK)
		return PW_OK;
	return rc == SQLITE_NOMEM    ? PW_ERR_NOMEM
	       : rc == SQLITE_TOOBIG ? PW_ERR_TOOLARGE
				     : PW_ERR_INVALID;
}

static pw_err sq_step(pw_stmt *st, bool *row, pw_error *err)
{
	sq_stmt *s = SQS(st);
	sq_db *d = SQ(st->db);
	int rc = sqlite3_step(s->s);
	if (rc == SQLITE_ROW) {
		st->state = PW_STMT_ROWS;
		*row = true;
		return PW_OK;
	}
	st->state = PW_STMT_DONE;
	if (rc == SQLITE_DONE) {
		st->changes = s->readonly ? 0 : sqlite3_changes64(d->h);
		return PW_OK;
	}
	pw_err r = sq_fail(d, err, st->sql);
	sqlite3_reset(s->s);
	return r;
}

static bool sq_col_is_null(pw_stmt *st, int col)
{
	return sqlite3_column_type(SQS(st)->s, col) == SQLITE_NULL;
}

static const char *sq_col_text(pw_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(SQS(st)->s, col);
}

static const void *sq_col_blob(pw_stmt *st, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(SQS(st)->s, col);
	*len = (size_t)sqlite3_column_bytes(SQS(st)->s, col);
	return p ? p : ""; /* SQLite gives NULL for an empty blob */
}

static int64_t sq_col_int(pw_stmt *st, int col)
{
	return sqlite3_column_int64(SQS(st)->s, col);
}

static double sq_col_double(pw_stmt *st, int col)
{
	return sqlite3_column_double(SQS(st)->s, col);
}

/* The file whose byte `key` (or ~key for negative keys: offsets cannot
 * be negative) is the lock. A database without a file (":memory:") gets
 * a private memfd, since no other handle can reach it anyway. */
static pw_err sq_lock_fd(sq_db *d, int64_t key, int *fd, off_t *off, pw_error *err)
{
	int which = key < 0;
	*off = key < 0 ? (off_t)(-(key + 1)) : (off_t)key;
	if (d->lockfd[which] >= 0) {
		*fd = d->lockfd[which];
		return PW_OK;
	}
	const char *file = sqlite3_db_filename(d->h, "main");
	int f;
	char path[4096];
	if (file && *file) {
		int n = snprintf(path, sizeof path, "%s-pwlock%s", file, which ? "-neg" : "");
		if (n < 0 || (size_t)n >= sizeof path)
			return pw_error_set(err, PW_ERR_INVALID,
					    "%s: path too long for a lock file", file);
		f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	} else {
		snprintf(path, sizeof path, "(in-memory database)");
		f = memfd_create("pwlock", MFD_CLOEXEC);
	}
	if (f < 0)
		return pw_error_set(err, PW_ERR_IO, "%s: cannot open the lock file: %s", path,
				    strerror(errno));
	d->lockfd[which] = f;
	*fd = f;
	return PW_OK;
}

static pw_err sq_setlk(pw_db *db, int64_t key, short type, bool *got, pw_error *err)
{
	int fd;
	off_t off;
	pw_err rc = sq_lock_fd(SQ(db), key, &fd, &off, err);
	if (rc)
		return rc;
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = off, .l_len = 1};
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
		*got = true;
		return PW_OK;
	}
	if (errno == EAGAIN || errno == EACCES) {
		*got = false;
		return PW_OK;
	}
	return pw_error_set(err, PW_ERR_IO, "lock %lld: %s", (long long)key, strerror(errno));
}

static pw_err sq_try_lock(pw_db *db, int64_t key, bool *got, pw_error *err)
{
	return sq_setlk(db, key, F_WRLCK, got, err);
}

static pw_err sq_unlock(pw_db *db, int64_t key, pw_error *err)
{
	bool got;
	return sq_setlk(db, key, F_UNLCK, &got, err);
}

static const pw_db_ops sq_ops = {
	.name = "SQLite",
	.close = sq_close,
	.ensure_connected = NULL,
	.in_transaction = sq_in_transaction,
	.exec = sq_exec,
	.commit = sq_commit,
	.stmt_new = sq_stmt_new,
	.stmt_free = sq_stmt_free,
	.stmt_reset = sq_stmt_reset,
	.bind = sq_bind,
	.step = sq_step,
	.col_is_null = sq_col_is_null,
	.col_text = sq_col_text,
	.col_blob = sq_col_blob,
	.col_int = sq_col_int,
	.col_double = sq_col_double,
	.try_lock = sq_try_lock,
	.unlock = sq_unlock,
	.migrate_lock = NULL, /* BEGIN IMMEDIATE per migration serialises */
};

/* SQLite would create the file 0644 less the umask; it holds password
 * hashes, token digests and the fleet's data, for the server's user
 * alone. Its journal, WAL and shared-memory files take its mode. An
 * existing file is left as it is; a path that cannot be created is
 * left to sqlite3_open_v2 to report. */
static pw_err create_private(const char *path, pw_error *err)
{
	if (!strcmp(path, ":memory:"))
		return PW_OK;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return PW_OK;
	pw_err rc = PW_OK;
	if (fchmod(fd, 0600) != 0) /* a umask that took the owner's bits */
		rc = pw_error_set(err, PW_ERR_IO, "%s: cannot make the new database private: %s",
				  path, strerror(errno));
	close(fd);
	if (rc)
		unlink(path);
	return rc;
}

pw_err pw_db_sqlite_open(const char *path, pw_db **out, pw_error *err)
{
	pw_err prc = create_private(path, err);
	if (prc)
		return prc;
	sq_db *d = calloc(1, sizeof *d);
	if (!d)
		return pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", path);
	d->base.ops = &sq_ops;
	d->base.kind = PW_DB_SQLITE;
	d->lockfd[0] = d->lockfd[1] = -1;
	/* NOMUTEX: a handle is used by one thread at a time (db.h). */
	int rc = sqlite3_open_v2(path, &d->h,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		pw_error_set(err, PW_ERR_STORE,
			     "SQLite: cannot open database %s: %s; check that the directory "
			     "exists and is writable",
			     path, d->h ? sqlite3_errmsg(d->h) : sqlite3_errstr(rc));
		sq_close(&d->base);
		return PW_ERR_STORE;
	}
	sqlite3_extended_result_codes(d->h, 1);
	sqlite3_busy_timeout(d->h, SQ_BUSY_TIMEOUT_MS);
	pw_err r = sq_exec(&d->base,
			   "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			   " PRAGMA foreign_keys=ON",
			   err);
	if (r) {
		pw_error_prefix(err, "%s: ", path);
		sq_close(&d->base);
		return r;
	}
	*out = &d->base;
	return PW_OK;
}

/* ---- backups --------------------------------------------------------------- */

static pw_err unsupported(pw_db *db, const char *what, pw_error *err)
{
	(void)db;
	return pw_error_set(err, PW_ERR_UNSUPPORTED,
			    "%s is for SQLite databases; for PostgreSQL use pg_dump and "
			    "pg_restore (patchwarden-db(1) has the commands)",
			    what);
}

/* Copies every page of `from` into `to` in one step. */
static pw_err copy_pages(sqlite3 *to, sqlite3 *from, const char *what, pw_error *err)
{
	sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
	if (!b)
		return pw_error_set(err, PW_ERR_STORE, "%s: %s", what, sqlite3_errmsg(to));
	int rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE)
		return pw_error_set(err, PW_ERR_STORE, "%s: %s", what, sqlite3_errstr(rc));
	return PW_OK;
}

static pw_err fsync_path(const char *path, int flags, pw_error *err)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return pw_error_set(err, PW_ERR_IO, "%s: %s", path, strerror(e));
	}
	close(fd);
	return PW_OK;
}

pw_err pw_db_sqlite_backup(pw_db *db, const char *dest, pw_error *err)
{
	if (db->kind != PW_DB_SQLITE)
		return unsupported(db, "db backup", err);
	char tmp[4096], dir[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", dest) >= (int)sizeof tmp)
		return pw_error_set(err, PW_ERR_INVALID, "backup path too long");
	unlink(tmp);
	pw_err rc = create_private(tmp, err);
	sqlite3 *to = NULL;
	if (!rc && sqlite3_open_v2(tmp, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL))
		rc = pw_error_set(err, PW_ERR_IO, "%s: %s", tmp,
				  to ? sqlite3_errmsg(to) : "cannot create it");
	if (!rc)
		rc = copy_pages(to, SQ(db)->h, tmp, err);
	/* A standalone file: no -wal beside it to lose on the way. */
	if (!rc && sqlite3_exec(to, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
		rc = pw_error_set(err, PW_ERR_STORE, "%s: %s", tmp, sqlite3_errmsg(to));
	sqlite3_close(to);
	if (!rc)
		rc = fsync_path(tmp, O_RDONLY, err);
	if (!rc && rename(tmp, dest) != 0)
		rc = pw_error_set(err, PW_ERR_IO, "%s: %s", dest, strerror(errno));
	if (rc) {
		unlink(tmp);
		return rc;
	}
	pw_path_dir(dest, dir, sizeof dir);
	return fsync_path(dir, O_RDONLY | O_DIRECTORY, err);
}

pw_err pw_db_sqlite_restore(pw_db *db, const char *src, pw_error *err)
{
	if (db->kind != PW_DB_SQLITE)
		return unsupported(db, "db restore", err);
	sqlite3 *from = NULL;
	pw_err rc = PW_OK;
	if (sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		rc = pw_error_set(err, PW_ERR_IO, "%s: %s", src,
				  from ? sqlite3_errmsg(from) : "cannot open it");
	if (!rc)
		rc = copy_pages(SQ(db)->h, from, src, err);
	sqlite3_close(from);
	return rc;
}

/* PRAGMA integrity_check's first line: "ok" or the first problem. */
static pw_err integrity(sqlite3 *h, const char *what, pw_error *err)
{
	sqlite3_stmt *st = NULL;
	pw_err rc = PW_OK;
	if (sqlite3_prepare_v2(h, "PRAGMA integrity_check(1)", -1, &st, NULL) != SQLITE_OK)
		rc = pw_error_set(err, PW_ERR_INTEGRITY, "%s: %s", what, sqlite3_errmsg(h));
	else if (sqlite3_step(st) != SQLITE_ROW)
		rc = pw_error_set(err, PW_ERR_INTEGRITY, "%s: %s", what, sqlite3_errmsg(h));
	else if (strcmp((const char *)sqlite3_column_text(st, 0), "ok"))
		rc = pw_error_set(err, PW_ERR_INTEGRITY, "%s: not intact: %.200s", what,
				  (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc;
}

pw_err pw_db_sqlite_file_check(const char *path, const char *component, int64_t *version,
			       pw_error *err)
{
	*version = 0;
	sqlite3 *h = NULL;
	pw_err rc = PW_OK;
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		rc = pw_error_set(err, PW_ERR_IO, "%s: %s", path,
				  h ? sqlite3_errmsg(h) : "cannot open it");
	if (!rc)
		rc = integrity(h, path, err);
	sqlite3_stmt *st = NULL;
	if (!rc && sqlite3_prepare_v2(h,
				      "SELECT COALESCE(MAX(version), 0) FROM schema_migrations "
				      "WHERE component = ?",
				      -1, &st, NULL) != SQLITE_OK)
		rc = pw_error_set(err, PW_ERR_INVALID, "%s is not a patchwarden database (%s)",
				  path, sqlite3_errmsg(h));
	if (!rc) {
		sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			*version = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	return rc;
}

pw_err pw_db_integrity(pw_db *db, pw_error *err)
{
	if (db->kind != PW_DB_SQLITE)
		return pw_db_ping(db, err);
	return integrity(SQ(db)->h, "integrity_check", err);
}
