/* Shared by test_users.c, test_audit.c and test_agents.c: a fresh,
 * migrated server database per test, on SQLite (a file in a temporary
 * directory) and, when PW_TEST_PG_URL names a PostgreSQL database
 * (tests/scripts/server_store_postgres.sh starts a real one), on
 * PostgreSQL too: the same test functions for both backends. */
#ifndef PW_SERVERTEST_H
#define PW_SERVERTEST_H

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
#include "patchwarden/schema.h"

static pw_db_kind g_kind;
static const char *g_pg_url;

struct srv {
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

/* A call that must fail with `code` and a message containing `needle`. */
#define REFUSED(f, code, needle, call)                                                             \
	do {                                                                                       \
		pw_error_set(&(f)->e, PW_OK, "%s", "");                                            \
		pw_err rc_ = (call);                                                               \
		if (rc_ != (code))                                                                 \
			fail_msg("%s gave %d (%s), expected %d", #call, (int)rc_,                  \
				 pw_error_text(&(f)->e), (int)(code));                             \
		srv_contains((f)->e.msg, (needle));                                                \
	} while (0)

static inline void srv_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

/* Another connection to the test's database (the caller closes it). */
static inline pw_db *srv_open_other(struct srv *f)
{
	pw_db *db = NULL;
	pw_error e = PW_ERROR_INIT;
	if (pw_db_open(f->url, &db, &e))
		fail_msg("opening %s: %s", f->url, pw_error_text(&e));
	return db;
}

static inline int srv_setup(void **state)
{
	struct srv *f = calloc(1, sizeof *f);
	assert_non_null(f);
	if (g_kind == PW_DB_SQLITE) {
		snprintf(f->dir, sizeof f->dir, "/tmp/pw-srv-XXXXXX");
		assert_non_null(mkdtemp(f->dir));
		snprintf(f->url, sizeof f->url, "sqlite:%s/server.db", f->dir);
	} else {
		snprintf(f->url, sizeof f->url, "%s", g_pg_url);
	}
	f->db = srv_open_other(f);
	if (g_kind == PW_DB_POSTGRES)
		CHECK(f, pw_db_exec(f->db,
				    "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public",
				    &f->e));
	CHECK(f, pw_schema_migrate(f->db, &f->e));
	*state = f;
	return 0;
}

static inline int srv_teardown(void **state)
{
	struct srv *f = *state;
	pw_db_close(f->db);
	if (g_kind == PW_DB_SQLITE) {
		static const char *const files[] = {"server.db", "server.db-wal", "server.db-shm",
						    "server.db-pwlock", "server.db-pwlock-neg"};
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

static inline void srv_exec(struct srv *f, pw_db *db, const char *sql)
{
	CHECK(f, pw_db_exec(db, sql, &f->e));
}

/* The first column of the first row as an integer, for SQL with at most
 * one text parameter (`arg`, NULL for none). */
static inline int64_t srv_int(struct srv *f, const char *sql, const char *arg)
{
	pw_stmt *st = NULL;
	bool row = false;
	CHECK(f, pw_db_prepare(f->db, sql, &st, &f->e));
	if (arg)
		assert_int_equal(pw_stmt_bind_text(st, 1, arg), PW_OK);
	CHECK(f, pw_stmt_step(st, &row, &f->e));
	assert_true(row);
	int64_t v = pw_stmt_int(st, 0);
	pw_stmt_reset(st);
	return v;
}

/* The first column of the first row as a string the caller frees
 * (NULL for SQL NULL). */
static inline char *srv_text(struct srv *f, const char *sql, const char *arg)
{
	pw_stmt *st = NULL;
	bool row = false;
	CHECK(f, pw_db_prepare(f->db, sql, &st, &f->e));
	if (arg)
		assert_int_equal(pw_stmt_bind_text(st, 1, arg), PW_OK);
	CHECK(f, pw_stmt_step(st, &row, &f->e));
	assert_true(row);
	const char *s = pw_stmt_text(st, 0);
	char *copy = s ? strdup(s) : NULL;
	pw_stmt_reset(st);
	return copy;
}

/* The initial state of a test declared with T_PG: it runs on PostgreSQL
 * only (srv_setup replaces the state with the fixture). Leaving it out
 * of the SQLite group, rather than skip() in it, keeps "skipped" for
 * tests that could not run where they should have. */
static int srv_pg_only_marker;

/* Runs `tests` on SQLite (but those declared with T_PG), then on
 * PostgreSQL when PW_TEST_PG_URL is set; returns the number of failures. */
static inline int srv_run(const char *name, const struct CMUnitTest *tests, size_t n)
{
	char group[64];
	struct CMUnitTest *lite = calloc(n ? n : 1, sizeof *lite);
	size_t m = 0;
	assert_non_null(lite);
	for (size_t i = 0; i < n; i++)
		if (tests[i].initial_state != &srv_pg_only_marker)
			lite[m++] = tests[i];
	g_kind = PW_DB_SQLITE;
	printf("== backend: SQLite\n");
	fflush(stdout);
	snprintf(group, sizeof group, "%s/sqlite", name);
	int failed = _cmocka_run_group_tests(group, lite, m, NULL, NULL);
	free(lite);
	g_pg_url = getenv("PW_TEST_PG_URL");
	if (g_pg_url && *g_pg_url) {
		g_kind = PW_DB_POSTGRES;
		printf("== backend: PostgreSQL\n");
		fflush(stdout);
		snprintf(group, sizeof group, "%s/postgresql", name);
		failed += _cmocka_run_group_tests(group, tests, n, NULL, NULL);
	}
	return failed;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, srv_setup, srv_teardown)
#define T_PG(fn)                                                                                   \
	cmocka_unit_test_prestate_setup_teardown(fn, srv_setup, srv_teardown, &srv_pg_only_marker)

#endif
