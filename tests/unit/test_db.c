/* The SQL layer (db.h). Every test runs against SQLite (a file in a
 * temporary directory) and, when PW_TEST_PG_URL names a PostgreSQL
 * database (tests/scripts/db_postgres.sh starts a real one), against
 * PostgreSQL too: the same functions, so both backends keep one meaning.
 * A PostgreSQL test starts from an empty `public` schema. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "patchwarden/db.h"

static pw_db_kind g_kind;
static const char *g_pg_url;

struct fixture {
	char dir[64]; /* SQLite: the temporary directory */
	char url[600];
	pw_db *db;
	pw_error e;
};

#define CHECK(f, call)                                                                             \
	do {                                                                                       \
		pw_err rc_ = (call);                                                               \
		if (rc_)                                                                           \
			fail_msg("%s failed: %s", #call, pw_error_text(&(f)->e));                  \
	} while (0)

static pw_db *open_db(struct fixture *f)
{
	pw_db *db = NULL;
	CHECK(f, pw_db_open(f->url, &db, &f->e));
	assert_int_equal(pw_db_kind_of(db), g_kind);
	return db;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	if (g_kind == PW_DB_SQLITE) {
		snprintf(f->dir, sizeof f->dir, "/tmp/pw-db-XXXXXX");
		assert_non_null(mkdtemp(f->dir));
		snprintf(f->url, sizeof f->url, "sqlite:%s/test.db", f->dir);
	} else {
		snprintf(f->url, sizeof f->url, "%s", g_pg_url);
	}
	f->db = open_db(f);
	if (g_kind == PW_DB_POSTGRES)
		CHECK(f, pw_db_exec(f->db,
				    "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public",
				    &f->e));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pw_db_close(f->db);
	if (g_kind == PW_DB_SQLITE) {
		static const char *const files[] = {"test.db", "test.db-wal", "test.db-shm",
						    "test.db-pwlock", "test.db-pwlock-neg"};
		char path[128];
		for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
			snprintf(path, sizeof path, "%s/%s", f->dir, files[i]);
			unlink(path);
		}
		rmdir(f->dir);
	}
	free(f);
	return 0;
}

static pw_stmt *prep(struct fixture *f, pw_db *db, const char *sql)
{
	pw_stmt *st = NULL;
	CHECK(f, pw_db_prepare(db, sql, &st, &f->e));
	return st;
}

static bool step(struct fixture *f, pw_stmt *st)
{
	bool row = false;
	CHECK(f, pw_stmt_step(st, &row, &f->e));
	return row;
}

/* The first column of the first row as an integer (the statement is
 * reset afterwards, so it does not hold SQLite's read transaction). */
static int64_t query_int(struct fixture *f, pw_db *db, const char *sql)
{
	pw_stmt *st = prep(f, db, sql);
	assert_true(step(f, st));
	int64_t v = pw_stmt_int(st, 0);
	pw_stmt_reset(st);
	return v;
}

static void exec_sql(struct fixture *f, pw_db *db, const char *sql)
{
	CHECK(f, pw_db_exec(db, sql, &f->e));
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

/* ---- open, exec ------------------------------------------------------ */

/* The URL helpers front ends use before and after opening. */
static void test_url_forms(void **state)
{
	(void)state;
	assert_string_equal(pw_db_sqlite_path("sqlite:/a/b.db"), "/a/b.db");
	assert_string_equal(pw_db_sqlite_path("sqlite:///a/b.db"), "/a/b.db");
	assert_string_equal(pw_db_sqlite_path("b.db"), "b.db");
	assert_null(pw_db_sqlite_path("postgresql://u@h/db"));
	assert_null(pw_db_sqlite_path("host=h dbname=db"));
	static const char *const cases[][2] = {
		{"postgresql://pw:sekrit@127.0.0.1:5432/db",
		 "postgresql://pw:***@127.0.0.1:5432/db"},
		{"postgres://pw@h/db?password=sekrit&sslmode=require",
		 "postgres://pw@h/db?password=***&sslmode=require"},
		{"host=h password=sekrit dbname=db", "host=h password=*** dbname=db"},
		{"host=h password = 'se krit'", "host=h password = ***"},
		{"postgresql://h/db", "postgresql://h/db"},
		{"sqlite:/tmp/password=x.db", "sqlite:/tmp/password=x.db"},
	};
	char out[128];
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		pw_db_url_redact(cases[i][0], out, sizeof out);
		assert_string_equal(out, cases[i][1]);
	}
}

/* Transaction state, transaction locks and table lookups. */
static void test_xact_lock_and_tables(void **state)
{
	struct fixture *f = *state;
	pw_error e = PW_ERROR_INIT;
	bool exists = true;
	assert_int_equal(pw_db_table_exists(f->db, "t", &exists, &e), PW_OK);
	assert_false(exists);
	exec_sql(f, f->db, "CREATE TABLE t (x BIGINT)");
	assert_int_equal(pw_db_table_exists(f->db, "t", &exists, &e), PW_OK);
	assert_true(exists);
	assert_false(pw_db_in_transaction(f->db));
	assert_int_equal(pw_db_xact_lock(f->db, 42, &e), PW_ERR_INVALID);
	assert_contains(e.msg, "needs an open transaction");
	assert_int_equal(pw_db_begin_immediate(f->db, &e), PW_OK);
	assert_true(pw_db_in_transaction(f->db));
	assert_int_equal(pw_db_xact_lock(f->db, 42, &e), PW_OK);
	assert_int_equal(pw_db_tune_bulk(f->db, 1024, &e), PW_OK);
	assert_int_equal(pw_db_commit(f->db, &e), PW_OK);
	assert_false(pw_db_in_transaction(f->db));
	assert_int_equal(pw_db_tune_bulk(f->db, 0, &e), PW_ERR_INVALID);
}

static void test_open_close(void **state)
{
	struct fixture *f = *state;
	exec_sql(f, f->db, "CREATE TABLE t (x BIGINT)");
	exec_sql(f, f->db, "INSERT INTO t VALUES (7)");
	pw_db_close(f->db);
	f->db = open_db(f);
	assert_int_equal(query_int(f, f->db, "SELECT x FROM t"), 7);

	pw_db *bad = NULL;
	pw_error e = PW_ERROR_INIT;
	if (g_kind == PW_DB_SQLITE) {
		pw_stmt *st = prep(f, f->db, "PRAGMA journal_mode");
		assert_true(step(f, st));
		assert_string_equal(pw_stmt_text(st, 0), "wal");
		pw_stmt_reset(st);
		assert_int_equal(query_int(f, f->db, "PRAGMA foreign_keys"), 1);
		assert_int_equal(pw_db_open("sqlite:/nonexistent-pw-dir/x.db", &bad, &e),
				 PW_ERR_STORE);
		assert_contains(e.msg, "/nonexistent-pw-dir/x.db");
		assert_int_equal(pw_db_open("sqlite:", &bad, &e), PW_ERR_INVALID);
	} else {
		assert_int_equal(pw_db_open("postgresql://pw:sekrit@127.0.0.1:1/nodb", &bad, &e),
				 PW_ERR_STORE);
		assert_contains(e.msg, "cannot connect");
		assert_contains(e.msg, "nodb");
		assert_null(strstr(e.msg, "sekrit"));
	}
	assert_null(bad);
}

static void test_exec(void **state)
{
	struct fixture *f = *state;
	exec_sql(f, f->db,
		 "CREATE TABLE a (x BIGINT);\n"
		 "INSERT INTO a VALUES (1); -- a comment\n"
		 "INSERT INTO a VALUES (2);");
	assert_int_equal(query_int(f, f->db, "SELECT COUNT(*) FROM a"), 2);
	assert_int_equal(pw_db_exec(f->db, "INSERT INTO a VALUES (?)", &f->e), PW_ERR_INVALID);
	assert_int_equal(pw_db_exec(f->db, "INSERT INTO nowhere VALUES (1)", &f->e), PW_ERR_STORE);
	assert_contains(f->e.msg, "nowhere");
	assert_int_equal(query_int(f, f->db, "SELECT COUNT(*) FROM a"), 2);
}

/* ---- statement cache and binding ------------------------------------ */

static void test_prepare_cache(void **state)
{
	struct fixture *f = *state;
	const char *sql = "SELECT CAST(? AS BIGINT) + 1";
	pw_stmt *a = prep(f, f->db, sql);
	assert_int_equal(pw_stmt_columns(a), 1);
	CHECK(f, pw_stmt_bind_int(a, 1, 41));
	assert_true(step(f, a));
	assert_int_equal(pw_stmt_int(a, 0), 42);
	assert_false(step(f, a));
	assert_false(step(f, a)); /* stays finished */

	/* The same text (even a different copy) is the same statement,
	 * reset with its bindings cleared. */
	char copy[64];
	snprintf(copy, sizeof copy, "%s", sql);
	pw_stmt *b = prep(f, f->db, copy);
	assert_ptr_equal(a, b);
	assert_true(step(f, b));
	assert_true(pw_stmt_is_null(b, 0));

	/* Rebinding a finished statement runs it again. */
	CHECK(f, pw_stmt_bind_int(b, 1, 1));
	assert_true(step(f, b));
	assert_int_equal(pw_stmt_int(b, 0), 2);
	CHECK(f, pw_stmt_bind_int(b, 1, 99));
	assert_true(step(f, b));
	assert_int_equal(pw_stmt_int(b, 0), 100);
	pw_stmt_reset(b);

	/* Hundreds of statements: the cache grows and keeps each one. */
	enum { N = 300 };
	pw_stmt *all[N];
	char text[80];
	for (int i = 0; i < N; i++) {
		snprintf(text, sizeof text, "SELECT CAST(? AS BIGINT) * %d", i);
		all[i] = prep(f, f->db, text);
	}
	for (int i = 0; i < N; i++) {
		snprintf(text, sizeof text, "SELECT CAST(? AS BIGINT) * %d", i);
		pw_stmt *st = prep(f, f->db, text);
		assert_ptr_equal(st, all[i]);
		CHECK(f, pw_stmt_bind_int(st, 1, 3));
		assert_true(step(f, st));
		assert_int_equal(pw_stmt_int(st, 0), 3 * i);
		pw_stmt_reset(st);
	}
	assert_ptr_equal(prep(f, f->db, sql), a);
}

static void test_types(void **state)
{
	struct fixture *f = *state;
	exec_sql(f, f->db,
		 "CREATE TABLE v (id BIGINT PRIMARY KEY, t TEXT, b {{blob}}, i BIGINT,"
		 " d DOUBLE PRECISION)");
	static const char unicode[] = "Grüße, 日本語, ελληνικά, 🙂";
	static const char quoted[] = "it's \"quoted\" \\ ? $1 {{id}}";
	static const unsigned char nul_blob[] = {'a', 0, 'b', 0, 0xff};
	unsigned char all_bytes[256];
	for (int i = 0; i < 256; i++)
		all_bytes[i] = (unsigned char)i;
	struct row {
		const char *t;
		const void *b;
		size_t blen;
		bool i_null;
		int64_t i;
		double d;
	} rows[] = {
		{unicode, nul_blob, sizeof nul_blob, false, INT64_MAX, 0.1},
		{"", "", 0, false, INT64_MIN, -DBL_MAX},
		{NULL, NULL, 0, true, 0, 0},
		{quoted, all_bytes, sizeof all_bytes, false, 0, 5e-324},
		{"x", "y", 1, false, -1, INFINITY},
		{"1e3", "z", 1, false, 1234567890123LL, 1.0 / 3.0},
	};
	const size_t nrows = sizeof rows / sizeof *rows;
	pw_stmt *ins = prep(f, f->db, "INSERT INTO v (id, t, b, i, d) VALUES (?, ?, ?, ?, ?)");
	for (size_t r = 0; r < nrows; r++) {
		CHECK(f, pw_stmt_bind_int(ins, 1, (int64_t)r));
		CHECK(f, pw_stmt_bind_text(ins, 2, rows[r].t));
		if (rows[r].b)
			CHECK(f, pw_stmt_bind_blob(ins, 3, rows[r].b, rows[r].blen));
		else
			CHECK(f, pw_stmt_bind_null(ins, 3));
		if (rows[r].i_null) {
			CHECK(f, pw_stmt_bind_null(ins, 4));
			CHECK(f, pw_stmt_bind_null(ins, 5));
		} else {
			CHECK(f, pw_stmt_bind_int(ins, 4, rows[r].i));
			CHECK(f, pw_stmt_bind_double(ins, 5, rows[r].d));
		}
		CHECK(f, pw_stmt_exec(ins, &f->e));
		assert_int_equal(pw_stmt_changes(ins), 1);
	}
	pw_stmt *sel = prep(f, f->db, "SELECT t, b, i, d, id FROM v ORDER BY id");
	assert_int_equal(pw_stmt_columns(sel), 5);
	for (size_t r = 0; r < nrows; r++) {
		assert_true(step(f, sel));
		assert_int_equal(pw_stmt_int(sel, 4), (int64_t)r);
		size_t len = 99;
		const void *b = pw_stmt_blob(sel, 1, &len);
		if (!rows[r].t) {
			for (int c = 0; c < 4; c++)
				assert_true(pw_stmt_is_null(sel, c));
			assert_null(pw_stmt_text(sel, 0));
			assert_null(b);
			assert_int_equal(len, 0);
			assert_int_equal(pw_stmt_int(sel, 2), 0);
			assert_true(pw_stmt_double(sel, 3) == 0.0);
			continue;
		}
		assert_false(pw_stmt_is_null(sel, 0));
		assert_string_equal(pw_stmt_text(sel, 0), rows[r].t);
		assert_non_null(b);
		assert_int_equal(len, rows[r].blen);
		if (len)
			assert_memory_equal(b, rows[r].b, len);
		assert_int_equal(pw_stmt_int(sel, 2), rows[r].i);
		if (pw_stmt_double(sel, 3) != rows[r].d)
			fail_msg("row %zu: double %.17g read back as %.17g", r, rows[r].d,
				 pw_stmt_double(sel, 3));
	}
	assert_false(step(f, sel));
	/* Out of range and after the end: no crash, empty values. */
	assert_null(pw_stmt_text(sel, 0));
	assert_true(pw_stmt_is_null(sel, 9));

	/* A comparison reads as 1/0 on both (PostgreSQL: boolean). */
	pw_stmt *cmp = prep(f, f->db, "SELECT 1 = 1, 1 = 2, CAST(? AS TEXT)");
	CHECK(f, pw_stmt_bind_int(cmp, 1, -9223372036854775807LL - 1));
	assert_true(step(f, cmp));
	assert_int_equal(pw_stmt_int(cmp, 0), 1);
	assert_int_equal(pw_stmt_int(cmp, 1), 0);
	assert_string_equal(pw_stmt_text(cmp, 2), "-9223372036854775808");
	pw_stmt_reset(cmp);
}

static void test_bind_errors(void **state)
{
	struct fixture *f = *state;
	pw_stmt *st = prep(f, f->db, "SELECT CAST(? AS BIGINT), CAST(? AS TEXT)");
	assert_int_equal(pw_stmt_bind_int(st, 3, 1), PW_ERR_INVALID);
	assert_int_equal(pw_stmt_bind_int(st, 0, 1), PW_ERR_INVALID);
	bool row = true;
	assert_int_equal(pw_stmt_step(st, &row, &f->e), PW_ERR_INVALID);
	assert_false(row);
	assert_contains(f->e.msg, "parameter 3");
	assert_contains(f->e.msg, "has 2 parameters");
	assert_contains(f->e.msg, "SELECT CAST(");

	st = prep(f, f->db, "SELECT CAST(? AS BIGINT), CAST(? AS TEXT)");
	assert_int_equal(pw_stmt_bind_blob(st, 1, NULL, 3), PW_ERR_INVALID);
	assert_int_equal(pw_stmt_step(st, &row, &f->e), PW_ERR_INVALID);
	assert_contains(f->e.msg, "NULL pointer");

	/* Preparing again clears the error with the bindings. */
	st = prep(f, f->db, "SELECT CAST(? AS BIGINT), CAST(? AS TEXT)");
	CHECK(f, pw_stmt_bind_int(st, 1, 5));
	CHECK(f, pw_stmt_bind_text(st, 2, "five"));
	assert_true(step(f, st));
	assert_string_equal(pw_stmt_text(st, 1), "five");
	pw_stmt_reset(st);
}

/* ---- errors ---------------------------------------------------------- */

static void test_errors(void **state)
{
	struct fixture *f = *state;
	pw_stmt *st = NULL;
	assert_int_equal(pw_db_prepare(f->db, "SELEC 1 FROM nothing", &st, &f->e), PW_ERR_STORE);
	assert_contains(f->e.msg, "syntax error");
	assert_contains(f->e.msg, "SELEC 1 FROM nothing");
	assert_contains(f->e.msg, g_kind == PW_DB_SQLITE ? "SQLite" : "PostgreSQL");

	exec_sql(f, f->db,
		 "CREATE TABLE parent (id BIGINT PRIMARY KEY);"
		 "CREATE TABLE u (k TEXT NOT NULL UNIQUE, c BIGINT CHECK (c > 0),"
		 " p BIGINT REFERENCES parent (id))");
	st = prep(f, f->db, "INSERT INTO u (k, c, p) VALUES (?, ?, ?)");
	CHECK(f, pw_stmt_bind_text(st, 1, "a"));
	CHECK(f, pw_stmt_bind_int(st, 2, 1));
	CHECK(f, pw_stmt_exec(st, &f->e));
	/* Same binding again: unique violation. */
	assert_int_equal(pw_stmt_exec(st, &f->e), PW_ERR_STORE);
	assert_string_equal(pw_db_sqlstate(f->db), "23505");
	assert_contains(f->e.msg, "INSERT INTO u (k, c, p)");
	if (g_kind == PW_DB_SQLITE)
		assert_contains(f->e.msg, "UNIQUE constraint failed: u.k");
	else
		assert_contains(f->e.msg, "duplicate key value violates unique constraint");

	CHECK(f, pw_stmt_bind_null(st, 1));
	assert_int_equal(pw_stmt_exec(st, &f->e), PW_ERR_STORE);
	assert_string_equal(pw_db_sqlstate(f->db), "23502");
	CHECK(f, pw_stmt_bind_text(st, 1, "b"));
	CHECK(f, pw_stmt_bind_int(st, 2, -1));
	assert_int_equal(pw_stmt_exec(st, &f->e), PW_ERR_STORE);
	assert_string_equal(pw_db_sqlstate(f->db), "23514");
	CHECK(f, pw_stmt_bind_int(st, 2, 1));
	CHECK(f, pw_stmt_bind_int(st, 3, 12345));
	assert_int_equal(pw_stmt_exec(st, &f->e), PW_ERR_STORE);
	assert_string_equal(pw_db_sqlstate(f->db), "23503");
	assert_int_equal(query_int(f, f->db, "SELECT COUNT(*) FROM u"), 1);

	/* exec refuses a statement with result columns before running it. */
	st = prep(f, f->db, "INSERT INTO parent (id) VALUES (1) RETURNING id");
	assert_int_equal(pw_stmt_exec(st, &f->e), PW_ERR_INVALID);
	assert_contains(f->e.msg, "pw_stmt_step");
	assert_int_equal(query_int(f, f->db, "SELECT COUNT(*) FROM parent"), 0);

	assert_int_not_equal(pw_db_prepare(f->db, "SELECT 1; SELECT 2", &st, &f->e), PW_OK);
	assert_int_equal(pw_db_prepare(f->db, "SELECT {{nope}}", &st, &f->e), PW_ERR_INVALID);
	assert_contains(f->e.msg, "{{nope}}");
	assert_int_equal(pw_db_prepare(f->db, "SELECT ?1", &st, &f->e), PW_ERR_INVALID);

	/* A long statement is cut in the message. */
	assert_int_equal(pw_db_prepare(f->db,
				       "SELECT k, c, p, k, c, p, k, c, p, k, c, p, k, c, p, k, c, p"
				       " FROM no_such_table_with_a_long_name",
				       &st, &f->e),
			 PW_ERR_STORE);
	assert_contains(f->e.msg, "no_such_table_with_a_long_name");
	assert_contains(f->e.msg, "SELECT k, c, p");
	assert_contains(f->e.msg, "...\")");
}

/* ---- transactions ---------------------------------------------------- */

static void test_transactions(void **state)
{
	struct fixture *f = *state;
	pw_db *other = open_db(f);
	exec_sql(f, f->db, "CREATE TABLE t (k TEXT PRIMARY KEY)");
	const char *count = "SELECT COUNT(*) FROM t";

	CHECK(f, pw_db_begin(f->db, &f->e));
	assert_int_equal(pw_db_begin(f->db, &f->e), PW_ERR_INVALID);
	assert_contains(f->e.msg, "already open");
	exec_sql(f, f->db, "INSERT INTO t VALUES ('a')");
	assert_int_equal(query_int(f, other, count), 0); /* not yet visible */
	CHECK(f, pw_db_commit(f->db, &f->e));
	assert_int_equal(query_int(f, other, count), 1);

	CHECK(f, pw_db_begin_immediate(f->db, &f->e));
	exec_sql(f, f->db, "INSERT INTO t VALUES ('b')");
	assert_int_equal(query_int(f, f->db, count), 2);
	pw_db_rollback(f->db);
	assert_int_equal(query_int(f, f->db, count), 1);
	assert_int_equal(pw_db_commit(f->db, &f->e), PW_ERR_INVALID);
	pw_db_rollback(f->db); /* harmless without a transaction */

	/* A failed statement: the portable answer is a rollback of all. */
	CHECK(f, pw_db_begin(f->db, &f->e));
	exec_sql(f, f->db, "INSERT INTO t VALUES ('c')");
	assert_int_equal(pw_db_exec(f->db, "INSERT INTO t VALUES ('a')", &f->e), PW_ERR_STORE);
	pw_db_rollback(f->db);
	assert_int_equal(query_int(f, other, count), 1);

	/* PostgreSQL aborts the whole transaction: COMMIT must fail rather
	 * than quietly roll back. SQLite keeps the statements before it. */
	CHECK(f, pw_db_begin(f->db, &f->e));
	exec_sql(f, f->db, "INSERT INTO t VALUES ('d')");
	assert_int_equal(pw_db_exec(f->db, "INSERT INTO t VALUES ('a')", &f->e), PW_ERR_STORE);
	if (g_kind == PW_DB_POSTGRES) {
		assert_int_equal(pw_db_commit(f->db, &f->e), PW_ERR_STORE);
		assert_contains(f->e.msg, "rolled back");
		assert_int_equal(query_int(f, other, count), 1);
	} else {
		CHECK(f, pw_db_commit(f->db, &f->e));
		assert_int_equal(query_int(f, other, count), 2);
	}
	/* The handle is usable again either way. */
	CHECK(f, pw_db_begin(f->db, &f->e));
	CHECK(f, pw_db_commit(f->db, &f->e));
	pw_db_close(other);
}

/* A SELECT read only partly and then reset must not leave its handle on
 * an old snapshot (SQLite: an unfinished statement keeps the read
 * transaction open, and every later read on the handle sees that
 * snapshot, not the other connection's commits). */
static void test_reset_releases(void **state)
{
	struct fixture *f = *state;
	pw_db *other = open_db(f);
	exec_sql(f, f->db,
		 "CREATE TABLE r (x BIGINT); INSERT INTO r VALUES (1); INSERT INTO r VALUES (2)");
	pw_stmt *sel = prep(f, f->db, "SELECT x FROM r ORDER BY x");
	assert_true(step(f, sel));
	assert_int_equal(pw_stmt_int(sel, 0), 1);
	pw_stmt_reset(sel);
	exec_sql(f, other, "UPDATE r SET x = x + 10 WHERE x = 2");
	assert_int_equal(query_int(f, f->db, "SELECT SUM(x) FROM r"), 13);
	/* After a reset, stepping runs the statement from the start. */
	assert_true(step(f, sel));
	assert_int_equal(pw_stmt_int(sel, 0), 1);
	assert_true(step(f, sel));
	assert_int_equal(pw_stmt_int(sel, 0), 12);
	assert_false(step(f, sel));
	pw_db_close(other);
}

static void test_changes(void **state)
{
	struct fixture *f = *state;
	exec_sql(f, f->db, "CREATE TABLE c (x BIGINT)");
	pw_stmt *ins = prep(f, f->db, "INSERT INTO c (x) VALUES (?)");
	for (int i = 0; i < 5; i++) {
		CHECK(f, pw_stmt_bind_int(ins, 1, i));
		CHECK(f, pw_stmt_exec(ins, &f->e));
	}
	pw_stmt *up = prep(f, f->db, "UPDATE c SET x = x + 100 WHERE x >= ?");
	CHECK(f, pw_stmt_bind_int(up, 1, 2));
	CHECK(f, pw_stmt_exec(up, &f->e));
	assert_int_equal(pw_stmt_changes(up), 3);
	CHECK(f, pw_stmt_bind_int(up, 1, 1000));
	CHECK(f, pw_stmt_exec(up, &f->e));
	assert_int_equal(pw_stmt_changes(up), 0);
	pw_stmt *del = prep(f, f->db, "DELETE FROM c WHERE x < 1");
	CHECK(f, pw_stmt_exec(del, &f->e));
	assert_int_equal(pw_stmt_changes(del), 1);
	pw_stmt *sel = prep(f, f->db, "SELECT x FROM c");
	while (step(f, sel))
		;
	assert_int_equal(pw_stmt_changes(sel), 0);
	pw_stmt *ret = prep(f, f->db, "DELETE FROM c WHERE x > 100 RETURNING x");
	int n = 0;
	while (step(f, ret))
		n++;
	assert_int_equal(n, 3);
	assert_int_equal(pw_stmt_changes(ret), 3);
}

/* ---- SQL translation ------------------------------------------------- */

static bool is_timestamp(const char *s)
{
	/* 2024-01-02T03:04:05.678Z */
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	if (!s || strlen(s) != sizeof shape - 1)
		return false;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
			return false;
	}
	return true;
}

static void test_words_and_returning(void **state)
{
	struct fixture *f = *state;
	exec_sql(f, f->db,
		 "CREATE TABLE tok (id {{id}}, data {{blob}}, created TEXT NOT NULL DEFAULT "
		 "({{now}}));"
		 "CREATE TABLE pairs (a BIGINT NOT NULL, b BIGINT NOT NULL, PRIMARY KEY (a, b))"
		 " {{without_rowid}}");
	pw_stmt *ins = prep(f, f->db, "INSERT INTO tok (data) VALUES (?) RETURNING id, created");
	for (int64_t want = 1; want <= 3; want++) {
		CHECK(f, pw_stmt_bind_blob(ins, 1, "\0\1", 2));
		assert_true(step(f, ins));
		assert_int_equal(pw_stmt_int(ins, 0), want);
		assert_true(is_timestamp(pw_stmt_text(ins, 1)));
		assert_false(step(f, ins));
		assert_int_equal(pw_stmt_changes(ins), 1);
	}
	pw_stmt *now = prep(f, f->db, "SELECT {{now}}, '{{id}} ?', {{now}} <= {{now}}");
	assert_true(step(f, now));
	if (!is_timestamp(pw_stmt_text(now, 0)))
		fail_msg("{{now}} gave \"%s\"", pw_stmt_text(now, 0));
	assert_string_equal(pw_stmt_text(now, 1), "{{id}} ?");
	pw_stmt_reset(now);

	pw_stmt *pair = prep(f, f->db, "INSERT INTO pairs (a, b) VALUES (?, ?)");
	CHECK(f, pw_stmt_bind_int(pair, 1, 1));
	CHECK(f, pw_stmt_bind_int(pair, 2, 2));
	CHECK(f, pw_stmt_exec(pair, &f->e));
	assert_int_equal(pw_stmt_exec(pair, &f->e), PW_ERR_STORE);
	assert_string_equal(pw_db_sqlstate(f->db), "23505");

	/* {{skip_locked}} vanishes on SQLite and locks on PostgreSQL. */
	pw_stmt *sk = prep(f, f->db, "SELECT id FROM tok ORDER BY id LIMIT 1 {{skip_locked}}");
	assert_true(step(f, sk));
	assert_int_equal(pw_stmt_int(sk, 0), 1);
	pw_stmt_reset(sk);
}

static void test_placeholders_in_literals(void **state)
{
	struct fixture *f = *state;
	exec_sql(f, f->db, "CREATE TABLE ph (\"q?\" TEXT, \"{{id}}\" TEXT)");
	pw_stmt *ins = prep(f, f->db,
			    "INSERT INTO ph (\"q?\", \"{{id}}\") -- why? {{id}}\n"
			    "VALUES (/* ? {{blob}} */ ?, 'it''s ? {{now}}')");
	CHECK(f, pw_stmt_bind_text(ins, 1, "bound"));
	assert_int_equal(pw_stmt_bind_text(ins, 2, "x"), PW_ERR_INVALID); /* only one ? */
	ins = prep(f, f->db,
		   "INSERT INTO ph (\"q?\", \"{{id}}\") -- why? {{id}}\n"
		   "VALUES (/* ? {{blob}} */ ?, 'it''s ? {{now}}')");
	CHECK(f, pw_stmt_bind_text(ins, 1, "bound"));
	CHECK(f, pw_stmt_exec(ins, &f->e));
	pw_stmt *sel = prep(f, f->db, "SELECT \"q?\", \"{{id}}\", '?' FROM ph WHERE \"q?\" = ?");
	CHECK(f, pw_stmt_bind_text(sel, 1, "bound"));
	assert_true(step(f, sel));
	assert_string_equal(pw_stmt_text(sel, 0), "bound");
	assert_string_equal(pw_stmt_text(sel, 1), "it's ? {{now}}");
	assert_string_equal(pw_stmt_text(sel, 2), "?");
	assert_false(step(f, sel));

	if (g_kind == PW_DB_POSTGRES) {
		/* PostgreSQL-only quoting: dollar quotes and E'' escapes. */
		pw_stmt *pg = prep(f, f->db,
				   "SELECT $$a ? b$$, $t$ ' ? $t$, E'\\' ?', CAST(? AS TEXT)");
		CHECK(f, pw_stmt_bind_text(pg, 1, "p"));
		assert_true(step(f, pg));
		assert_string_equal(pw_stmt_text(pg, 0), "a ? b");
		assert_string_equal(pw_stmt_text(pg, 1), " ' ? ");
		assert_string_equal(pw_stmt_text(pg, 2), "' ?");
		assert_string_equal(pw_stmt_text(pg, 3), "p");
		pw_stmt_reset(pg);
	}
}

/* ---- migrations ------------------------------------------------------ */

static const pw_migration host_migrations[] = {
	{1, "create hosts", "CREATE TABLE hosts (id {{id}}, name TEXT NOT NULL UNIQUE)"},
	{2, "seed and add seen",
	 "ALTER TABLE hosts ADD COLUMN seen TEXT;"
	 "INSERT INTO hosts (name, seen) VALUES ('m2', {{now}})"},
	{3, "add extra table", "CREATE TABLE extra (x BIGINT); INSERT INTO extra VALUES (3)"},
};

static int64_t applied(struct fixture *f, pw_db *db, const char *component)
{
	pw_stmt *st = prep(f, db, "SELECT COUNT(*) FROM schema_migrations WHERE component = ?");
	CHECK(f, pw_stmt_bind_text(st, 1, component));
	assert_true(step(f, st));
	int64_t n = pw_stmt_int(st, 0);
	pw_stmt_reset(st);
	return n;
}

static void test_migrations(void **state)
{
	struct fixture *f = *state;
	CHECK(f, pw_db_migrate(f->db, "hosts", host_migrations, 2, &f->e));
	assert_int_equal(applied(f, f->db, "hosts"), 2);
	assert_int_equal(query_int(f, f->db, "SELECT COUNT(*) FROM hosts"), 1);
	pw_stmt *st = prep(f, f->db,
			   "SELECT version, name FROM schema_migrations WHERE component = 'hosts'"
			   " ORDER BY applied_at, version");
	assert_true(step(f, st));
	assert_int_equal(pw_stmt_int(st, 0), 1);
	assert_string_equal(pw_stmt_text(st, 1), "create hosts");
	assert_true(step(f, st));
	assert_int_equal(pw_stmt_int(st, 0), 2);
	assert_false(step(f, st));

	/* Idempotent, also across a reopen. */
	CHECK(f, pw_db_migrate(f->db, "hosts", host_migrations, 2, &f->e));
	pw_db_close(f->db);
	f->db = open_db(f);
	CHECK(f, pw_db_migrate(f->db, "hosts", host_migrations, 2, &f->e));
	assert_int_equal(applied(f, f->db, "hosts"), 2);
	assert_int_equal(query_int(f, f->db, "SELECT COUNT(*) FROM hosts"), 1);

	/* A failing migration rolls back alone; the earlier ones stay. */
	pw_migration broken[3];
	memcpy(broken, host_migrations, sizeof broken);
	broken[2].sql = "CREATE TABLE extra (x BIGINT); INSERT INTO no_such_table VALUES (1)";
	assert_int_equal(pw_db_migrate(f->db, "hosts", broken, 3, &f->e), PW_ERR_STORE);
	assert_contains(f->e.msg, "hosts migration 3 (\"add extra table\")");
	assert_contains(f->e.msg, "no_such_table");
	assert_int_equal(applied(f, f->db, "hosts"), 2);
	pw_stmt *extra = NULL;
	assert_int_equal(pw_db_prepare(f->db, "SELECT x FROM extra", &extra, &f->e), PW_ERR_STORE);
	assert_int_equal(query_int(f, f->db, "SELECT COUNT(*) FROM hosts"), 1);

	CHECK(f, pw_db_migrate(f->db, "hosts", host_migrations, 3, &f->e));
	assert_int_equal(applied(f, f->db, "hosts"), 3);
	assert_int_equal(query_int(f, f->db, "SELECT x FROM extra"), 3);

	/* A database newer than the binary is refused. */
	assert_int_equal(pw_db_migrate(f->db, "hosts", host_migrations, 2, &f->e),
			 PW_ERR_UNSUPPORTED);
	assert_contains(f->e.msg, "version 3");

	/* Components are independent. */
	static const pw_migration feeds[] = {{1, "create feeds", "CREATE TABLE feeds (x BIGINT)"}};
	CHECK(f, pw_db_migrate(f->db, "feeds", feeds, 1, &f->e));
	assert_int_equal(applied(f, f->db, "feeds"), 1);
	assert_int_equal(applied(f, f->db, "hosts"), 3);

	/* Bad lists and bad moments. */
	pw_migration order[2] = {{2, "b", "SELECT 1"}, {1, "a", "SELECT 1"}};
	assert_int_equal(pw_db_migrate(f->db, "x", order, 2, &f->e), PW_ERR_INVALID);
	assert_contains(f->e.msg, "increase");
	assert_int_equal(pw_db_migrate(f->db, "", feeds, 1, &f->e), PW_ERR_INVALID);
	CHECK(f, pw_db_begin(f->db, &f->e));
	assert_int_equal(pw_db_migrate(f->db, "feeds", feeds, 1, &f->e), PW_ERR_INVALID);
	pw_db_rollback(f->db);
}

/* Threads own their handles; results are checked on the main thread
 * (cmocka's assertions are not thread-safe). */
struct racer {
	const char *url;
	pthread_barrier_t *start;
	const char *component;
	const pw_migration *m;
	size_t n;
	pw_err rc;
	pw_error e;
	int taken[64];
	int ntaken;
};

static void *migrate_racer(void *arg)
{
	struct racer *r = arg;
	pw_db *db = NULL;
	r->rc = pw_db_open(r->url, &db, &r->e);
	pthread_barrier_wait(r->start);
	if (!r->rc)
		r->rc = pw_db_migrate(db, r->component, r->m, r->n, &r->e);
	pw_db_close(db);
	return NULL;
}

static void test_migrate_concurrently(void **state)
{
	struct fixture *f = *state;
	static const pw_migration race[] = {
		{1, "create", "CREATE TABLE race (x BIGINT)"},
		{2, "fill", "INSERT INTO race VALUES (1); INSERT INTO race VALUES (2)"},
		{3, "index", "CREATE UNIQUE INDEX race_x ON race (x)"},
	};
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, 2);
	struct racer r[2];
	pthread_t t[2];
	for (int i = 0; i < 2; i++) {
		r[i] = (struct racer){.url = f->url,
				      .start = &start,
				      .component = "race",
				      .m = race,
				      .n = 3,
				      .e = PW_ERROR_INIT};
		assert_int_equal(pthread_create(&t[i], NULL, migrate_racer, &r[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	for (int i = 0; i < 2; i++) {
		if (r[i].rc)
			fail_msg("migrator %d: %s", i, pw_error_text(&r[i].e));
	}
	assert_int_equal(applied(f, f->db, "race"), 3);
	assert_int_equal(query_int(f, f->db, "SELECT COUNT(*) FROM race"), 2);
}

/* ---- locks and job taking -------------------------------------------- */

static void test_locks(void **state)
{
	struct fixture *f = *state;
	pw_db *other = open_db(f);
	const int64_t keys[] = {42, 0, -7, INT64_MIN, INT64_MAX};
	bool got;
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		CHECK(f, pw_db_try_lock(f->db, keys[i], &got, &f->e));
		assert_true(got);
		CHECK(f, pw_db_try_lock(other, keys[i], &got, &f->e));
		assert_false(got);
	}
	CHECK(f, pw_db_try_lock(other, 43, &got, &f->e)); /* a neighbour is free */
	assert_true(got);
	assert_int_equal(pw_db_try_lock(f->db, 42, &got, &f->e), PW_ERR_INVALID);
	assert_contains(f->e.msg, "already held");
	assert_int_equal(pw_db_unlock(other, 42, &f->e), PW_ERR_INVALID);

	CHECK(f, pw_db_unlock(f->db, 42, &f->e));
	CHECK(f, pw_db_try_lock(other, 42, &got, &f->e));
	assert_true(got);
	CHECK(f, pw_db_try_lock(f->db, 42, &got, &f->e));
	assert_false(got);

	/* Closing a handle releases what it held (PostgreSQL: once the
	 * server process of the closed session has exited). */
	pw_db_close(other);
	for (int tries = 0; tries < 100; tries++) {
		CHECK(f, pw_db_try_lock(f->db, 42, &got, &f->e));
		if (got)
			break;
		usleep(50 * 1000);
	}
	assert_true(got);
	CHECK(f, pw_db_try_lock(f->db, 43, &got, &f->e));
	assert_true(got);
	CHECK(f, pw_db_unlock(f->db, INT64_MIN, &f->e));
}

static const char take_job_sql[] =
	"UPDATE jobs SET owner = ? WHERE id = (SELECT id FROM jobs WHERE owner IS NULL"
	" ORDER BY id LIMIT 1 {{skip_locked}}) RETURNING id";

static int64_t take_job(struct fixture *f, pw_db *db, const char *owner)
{
	pw_stmt *st = prep(f, db, take_job_sql);
	CHECK(f, pw_stmt_bind_text(st, 1, owner));
	int64_t id = step(f, st) ? pw_stmt_int(st, 0) : 0;
	pw_stmt_reset(st);
	return id;
}

static void make_jobs(struct fixture *f, int n)
{
	exec_sql(f, f->db, "CREATE TABLE jobs (id {{id}}, owner TEXT)");
	pw_stmt *st = prep(f, f->db, "INSERT INTO jobs (owner) VALUES (NULL)");
	for (int i = 0; i < n; i++)
		CHECK(f, pw_stmt_exec(st, &f->e));
}

static void test_skip_locked(void **state)
{
	struct fixture *f = *state;
	make_jobs(f, 3);
	pw_db *other = open_db(f);
	CHECK(f, pw_db_begin_immediate(f->db, &f->e));
	int64_t a = take_job(f, f->db, "a");
	if (g_kind == PW_DB_SQLITE) /* the write lock serialises takers */
		CHECK(f, pw_db_commit(f->db, &f->e));
	CHECK(f, pw_db_begin_immediate(other, &f->e));
	int64_t b = take_job(f, other, "b"); /* PostgreSQL: skips a's locked row */
	CHECK(f, pw_db_commit(other, &f->e));
	if (g_kind == PW_DB_POSTGRES)
		CHECK(f, pw_db_commit(f->db, &f->e));
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(query_int(f, f->db, "SELECT COUNT(*) FROM jobs WHERE owner IS NULL"), 1);
	pw_db_close(other);
}

static void *job_worker(void *arg)
{
	struct racer *r = arg;
	pw_db *db = NULL;
	r->rc = pw_db_open(r->url, &db, &r->e);
	pthread_barrier_wait(r->start);
	while (!r->rc) {
		pw_stmt *st = NULL;
		bool row = false;
		r->rc = pw_db_begin_immediate(db, &r->e);
		if (!r->rc)
			r->rc = pw_db_prepare(db, take_job_sql, &st, &r->e);
		if (!r->rc)
			r->rc = pw_stmt_bind_text(st, 1, r->component);
		if (!r->rc)
			r->rc = pw_stmt_step(st, &row, &r->e);
		int id = row ? (int)pw_stmt_int(st, 0) : 0;
		if (st)
			pw_stmt_reset(st);
		if (!r->rc)
			r->rc = pw_db_commit(db, &r->e);
		else
			pw_db_rollback(db);
		if (r->rc || !id)
			break;
		if (r->ntaken < (int)(sizeof r->taken / sizeof *r->taken))
			r->taken[r->ntaken++] = id;
	}
	pw_db_close(db);
	return NULL;
}

/* Two workers drain one queue at the same time: every job is taken
 * exactly once. */
static void test_job_queue_concurrently(void **state)
{
	struct fixture *f = *state;
	enum { JOBS = 40 };
	make_jobs(f, JOBS);
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, 2);
	struct racer r[2];
	pthread_t t[2];
	static const char *const names[] = {"w1", "w2"};
	for (int i = 0; i < 2; i++) {
		r[i] = (struct racer){.url = f->url,
				      .start = &start,
				      .component = names[i],
				      .e = PW_ERROR_INIT};
		assert_int_equal(pthread_create(&t[i], NULL, job_worker, &r[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	int seen[JOBS + 1] = {0};
	for (int i = 0; i < 2; i++) {
		if (r[i].rc)
			fail_msg("worker %d: %s", i, pw_error_text(&r[i].e));
		for (int k = 0; k < r[i].ntaken; k++) {
			assert_in_range(r[i].taken[k], 1, JOBS);
			seen[r[i].taken[k]]++;
		}
	}
	for (int id = 1; id <= JOBS; id++) {
		if (seen[id] != 1)
			fail_msg("job %d taken %d times", id, seen[id]);
	}
	assert_int_equal(query_int(f, f->db, "SELECT COUNT(*) FROM jobs WHERE owner IS NULL"), 0);
}

static void kill_session(struct fixture *f, pw_db *victim)
{
	int64_t pid = query_int(f, victim, "SELECT CAST(pg_backend_pid() AS BIGINT)");
	pw_db *other = open_db(f);
	pw_stmt *kill = prep(f, other, "SELECT pg_terminate_backend(CAST(? AS INTEGER), 5000)");
	CHECK(f, pw_stmt_bind_int(kill, 1, pid));
	assert_true(step(f, kill));
	assert_int_equal(pw_stmt_int(kill, 0), 1);
	pw_stmt_reset(kill);
	pw_db_close(other);
}

/* PostgreSQL only (an SQLite handle has no connection to lose): a
 * killed session is re-established by the next prepare, the cached
 * statements work again and its locks are known to be gone; but a
 * transaction lost with it must be rolled back by the caller first, or
 * later statements would silently run outside it. */
static void test_reconnect(void **state)
{
	struct fixture *f = *state;
	exec_sql(f, f->db, "CREATE TABLE k (x BIGINT)");
	bool got, row;
	CHECK(f, pw_db_try_lock(f->db, 5, &got, &f->e));
	assert_true(got);
	const char *sql = "SELECT CAST(pg_backend_pid() AS BIGINT)";
	int64_t pid = query_int(f, f->db, sql);
	kill_session(f, f->db);
	pw_stmt *st = prep(f, f->db, sql);
	assert_int_equal(pw_stmt_step(st, &row, &f->e), PW_ERR_STORE);
	assert_string_equal(pw_db_sqlstate(f->db), "08006");
	assert_int_not_equal(query_int(f, f->db, sql), pid);
	CHECK(f, pw_db_try_lock(f->db, 5, &got, &f->e));
	assert_true(got);

	CHECK(f, pw_db_begin(f->db, &f->e));
	exec_sql(f, f->db, "INSERT INTO k VALUES (1)");
	kill_session(f, f->db);
	assert_int_equal(pw_db_exec(f->db, "INSERT INTO k VALUES (2)", &f->e), PW_ERR_STORE);
	assert_int_equal(pw_db_exec(f->db, "INSERT INTO k VALUES (3)", &f->e), PW_ERR_STORE);
	assert_contains(f->e.msg, "lost inside a transaction");
	assert_int_equal(pw_db_begin(f->db, &f->e), PW_ERR_STORE);
	assert_contains(f->e.msg, "roll back");
	pw_db_rollback(f->db);
	assert_int_equal(query_int(f, f->db, "SELECT COUNT(*) FROM k"), 0);

	CHECK(f, pw_db_begin(f->db, &f->e));
	kill_session(f, f->db);
	assert_int_equal(pw_db_exec(f->db, "INSERT INTO k VALUES (4)", &f->e), PW_ERR_STORE);
	assert_int_equal(pw_db_commit(f->db, &f->e), PW_ERR_STORE);
	assert_contains(f->e.msg, "nothing was committed");
	assert_int_equal(query_int(f, f->db, "SELECT COUNT(*) FROM k"), 0);
}

/* PostgreSQL only: a connection closed while idle, between transactions
 * and without locks (a failover, a server restart), is replaced before
 * the next statement runs instead of failing it. */
static void test_reconnect_idle(void **state)
{
	struct fixture *f = *state;
	const char *sql = "SELECT CAST(pg_backend_pid() AS BIGINT)";
	int64_t pid = query_int(f, f->db, sql);
	kill_session(f, f->db);
	int64_t now = query_int(f, f->db, sql);
	assert_int_not_equal(now, pid);
	kill_session(f, f->db);
	CHECK(f, pw_db_exec(f->db, "CREATE TABLE k (x BIGINT)", &f->e));
	assert_int_not_equal(query_int(f, f->db, sql), now);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_close),
		T(test_url_forms),
		T(test_xact_lock_and_tables),
		T(test_exec),
		T(test_prepare_cache),
		T(test_types),
		T(test_bind_errors),
		T(test_errors),
		T(test_transactions),
		T(test_reset_releases),
		T(test_changes),
		T(test_words_and_returning),
		T(test_placeholders_in_literals),
		T(test_migrations),
		T(test_migrate_concurrently),
		T(test_locks),
		T(test_skip_locked),
		T(test_job_queue_concurrently),
	};
	/* Left out of the SQLite group rather than skip()ped there: a
	 * skipped test is one that could not run where it should have. */
	const struct CMUnitTest pg_only[] = {
		T(test_reconnect),
		T(test_reconnect_idle),
	};
	g_kind = PW_DB_SQLITE;
	printf("== backend: SQLite\n");
	fflush(stdout);
	int failed = cmocka_run_group_tests_name("db/sqlite", tests, NULL, NULL);
	g_pg_url = getenv("PW_TEST_PG_URL");
	if (g_pg_url && *g_pg_url) {
		g_kind = PW_DB_POSTGRES;
		printf("== backend: PostgreSQL\n");
		fflush(stdout);
		failed += cmocka_run_group_tests_name("db/postgresql", tests, NULL, NULL);
		failed += cmocka_run_group_tests_name("db/postgresql-only", pg_only, NULL, NULL);
	}
	return failed;
}
