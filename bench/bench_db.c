/* The SQL layer's own cost (db.h): one indexed SELECT by key and one
 * UPDATE by key, each as a cached prepared statement (prepare-from-cache +
 * bind + step + read), through pw_db and, in the same run, through the
 * database's own C API with a statement prepared once (sqlite3_reset +
 * bind + step; libpq PQexecPrepared). The difference is what pw_db adds.
 *
 *   bench_db [N]     N statements per measurement (default 200000 on
 *                    SQLite, N/20 on PostgreSQL)
 *
 * SQLite runs on a file in a temporary directory with the settings
 * pw_db_open uses (WAL, synchronous=NORMAL). PostgreSQL runs when
 * PW_BENCH_PG_URL names a database; the bench works in its own table
 * (pw_bench_db_<pid>, dropped at the end). Times are CPU time of the
 * process on SQLite (the machine is shared) and wall time on PostgreSQL
 * (a round trip to the server is most of it). Best of 5. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "patchwarden/db.h"

#define ROWS 1000
#define TRIALS 5

static void die(const char *fmt, const char *what)
{
	fprintf(stderr, "bench_db: ");
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	exit(1);
}

static void check(pw_err rc, const pw_error *e)
{
	if (rc)
		die("%s", pw_error_text(e));
}

static double cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* One measured loop: `op` runs statement i of n. */
typedef void (*op_fn)(void *ctx, long i);

static double run_ns_per_op(op_fn op, void *ctx, long n, bool cpu)
{
	double t0 = cpu ? cpu_ns() : bench_now_ns();
	for (long i = 0; i < n; i++)
		op(ctx, i);
	return ((cpu ? cpu_ns() : bench_now_ns()) - t0) / (double)n;
}

/* The reference and pw_db take turns, trial by trial, so a warm-up or a
 * busy neighbour does not favour whichever runs second. Best of TRIALS. */
static void best_pair(op_fn ref, void *ref_ctx, op_fn ours, void *our_ctx, long n, bool cpu,
		      double *ref_ns, double *our_ns)
{
	for (int t = 0; t < TRIALS; t++) {
		double a = run_ns_per_op(ref, ref_ctx, n, cpu);
		double b = run_ns_per_op(ours, our_ctx, n, cpu);
		if (t == 0 || a < *ref_ns)
			*ref_ns = a;
		if (t == 0 || b < *our_ns)
			*our_ns = b;
	}
}

static void measure(const char *backend, const char *ref_name, const char *what, op_fn ref,
		    void *ref_ctx, op_fn ours, void *our_ctx, long n, bool cpu)
{
	double r = 0, o = 0;
	best_pair(ref, ref_ctx, ours, our_ctx, n, cpu, &r, &o);
	printf("%-11s %-34s %-7s %10.2f\n", backend, ref_name, what, r / 1000.0);
	printf("%-11s %-34s %-7s %10.2f  %+8.2f\n", backend, "pw_db (cached prepare)", what,
	       o / 1000.0, (o - r) / 1000.0);
}

/* ---- through pw_db ---- */

struct pwctx {
	pw_db *db;
	char select_sql[128], update_sql[128];
	int64_t sink;
};

static void pw_select(void *ctx, long i)
{
	struct pwctx *c = ctx;
	pw_stmt *st;
	pw_error e = PW_ERROR_INIT;
	bool row = false;
	check(pw_db_prepare(c->db, c->select_sql, &st, &e), &e);
	pw_stmt_bind_int(st, 1, i % ROWS + 1);
	check(pw_stmt_step(st, &row, &e), &e);
	if (!row)
		die("%s", "a row is missing");
	c->sink += pw_stmt_int(st, 0) + (int64_t)strlen(pw_stmt_text(st, 1));
	pw_stmt_reset(st);
}

static void pw_update(void *ctx, long i)
{
	struct pwctx *c = ctx;
	pw_stmt *st;
	pw_error e = PW_ERROR_INIT;
	check(pw_db_prepare(c->db, c->update_sql, &st, &e), &e);
	pw_stmt_bind_int(st, 1, i);
	pw_stmt_bind_int(st, 2, i % ROWS + 1);
	check(pw_stmt_exec(st, &e), &e);
}

static void pw_setup(struct pwctx *c, const char *url, const char *table)
{
	pw_error e = PW_ERROR_INIT;
	check(pw_db_open(url, &c->db, &e), &e);
	char sql[512];
	snprintf(sql, sizeof sql,
		 "DROP TABLE IF EXISTS %s; CREATE TABLE %s (id BIGINT PRIMARY KEY, v BIGINT NOT "
		 "NULL, s TEXT NOT NULL)",
		 table, table);
	check(pw_db_exec(c->db, sql, &e), &e);
	check(pw_db_begin(c->db, &e), &e);
	snprintf(sql, sizeof sql, "INSERT INTO %s (id, v, s) VALUES (?, ?, ?)", table);
	for (int i = 1; i <= ROWS; i++) {
		pw_stmt *st;
		check(pw_db_prepare(c->db, sql, &st, &e), &e);
		pw_stmt_bind_int(st, 1, i);
		pw_stmt_bind_int(st, 2, i);
		pw_stmt_bind_text(st, 3, "host-0001.example.org");
		check(pw_stmt_exec(st, &e), &e);
	}
	check(pw_db_commit(c->db, &e), &e);
	snprintf(c->select_sql, sizeof c->select_sql, "SELECT v, s FROM %s WHERE id = ?", table);
	snprintf(c->update_sql, sizeof c->update_sql, "UPDATE %s SET v = ? WHERE id = ?", table);
}

/* ---- raw SQLite ---- */

struct sqlctx {
	sqlite3 *db;
	sqlite3_stmt *sel, *upd;
	int64_t sink;
};

static void sq_select(void *ctx, long i)
{
	struct sqlctx *c = ctx;
	sqlite3_reset(c->sel);
	sqlite3_bind_int64(c->sel, 1, i % ROWS + 1);
	if (sqlite3_step(c->sel) != SQLITE_ROW)
		die("%s", sqlite3_errmsg(c->db));
	c->sink += sqlite3_column_int64(c->sel, 0) +
		   (int64_t)strlen((const char *)sqlite3_column_text(c->sel, 1));
	sqlite3_reset(c->sel);
}

static void sq_update(void *ctx, long i)
{
	struct sqlctx *c = ctx;
	sqlite3_reset(c->upd);
	sqlite3_bind_int64(c->upd, 1, i);
	sqlite3_bind_int64(c->upd, 2, i % ROWS + 1);
	if (sqlite3_step(c->upd) != SQLITE_DONE)
		die("%s", sqlite3_errmsg(c->db));
}

/* ---- raw libpq ---- */

struct pqctx {
	PGconn *conn;
	int64_t sink;
};

static void pq_run(struct pqctx *c, const char *name, int n, const char *const *vals,
		   ExecStatusType want)
{
	PGresult *r = PQexecPrepared(c->conn, name, n, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != want)
		die("%s", PQerrorMessage(c->conn));
	if (want == PGRES_TUPLES_OK)
		c->sink += strtoll(PQgetvalue(r, 0, 0), NULL, 10) +
			   (int64_t)strlen(PQgetvalue(r, 0, 1));
	PQclear(r);
}

static void pq_select(void *ctx, long i)
{
	char id[24];
	snprintf(id, sizeof id, "%ld", i % ROWS + 1);
	const char *vals[] = {id};
	pq_run(ctx, "sel", 1, vals, PGRES_TUPLES_OK);
}

static void pq_update(void *ctx, long i)
{
	char v[24], id[24];
	snprintf(v, sizeof v, "%ld", i);
	snprintf(id, sizeof id, "%ld", i % ROWS + 1);
	const char *vals[] = {v, id};
	pq_run(ctx, "upd", 2, vals, PGRES_COMMAND_OK);
}

static void pq_prepare(PGconn *conn, const char *name, const char *sql)
{
	PGresult *r = PQprepare(conn, name, sql, 0, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die("%s", PQerrorMessage(conn));
	PQclear(r);
}

int main(int argc, char **argv)
{
	char *end = NULL;
	long n = argc > 1 ? strtol(argv[1], &end, 10) : 200000;
	if (n <= 0 || (end && *end))
		die("%s", "usage: bench_db [N]  (N > 0 statements per measurement)");

	char dir[] = "/tmp/pw-bench-db-XXXXXX", path[256];
	if (!mkdtemp(dir))
		die("%s", "cannot make a temporary directory");
	snprintf(path, sizeof path, "%s/bench.db", dir);

	printf("%-11s %-34s %-7s %10s  %8s\n", "backend", "implementation", "stmt", "us/stmt",
	       "pw_db adds");

	struct pwctx p = {0};
	pw_setup(&p, path, "t");
	struct sqlctx s = {0};
	if (sqlite3_open_v2(path, &s.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(s.db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL,
			 NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s.db, "SELECT v, s FROM t WHERE id = ?", -1, &s.sel, NULL) ||
	    sqlite3_prepare_v2(s.db, "UPDATE t SET v = ? WHERE id = ?", -1, &s.upd, NULL))
		die("%s", sqlite3_errmsg(s.db));
	measure("SQLite", "sqlite3 (prepared once)", "SELECT", sq_select, &s, pw_select, &p, n,
		true);
	measure("SQLite", "sqlite3 (prepared once)", "UPDATE", sq_update, &s, pw_update, &p, n,
		true);
	sqlite3_finalize(s.sel);
	sqlite3_finalize(s.upd);
	sqlite3_close(s.db);
	pw_db_close(p.db);
	unlink(path);
	char wal[300];
	snprintf(wal, sizeof wal, "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof wal, "%s-shm", path);
	unlink(wal);
	rmdir(dir);

	const char *url = getenv("PW_BENCH_PG_URL");
	if (!url || !*url) {
		printf("PostgreSQL: not measured (set PW_BENCH_PG_URL)\n");
		return (int)((p.sink + s.sink) & 0);
	}
	long npg = n / 20 > 0 ? n / 20 : 1;
	char table[64];
	snprintf(table, sizeof table, "pw_bench_db_%ld", (long)getpid());
	struct pwctx pg = {0};
	pw_setup(&pg, url, table);
	struct pqctx q = {PQconnectdb(url), 0};
	if (PQstatus(q.conn) != CONNECTION_OK)
		die("%s", PQerrorMessage(q.conn));
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT v, s FROM %s WHERE id = $1", table);
	pq_prepare(q.conn, "sel", sql);
	snprintf(sql, sizeof sql, "UPDATE %s SET v = $1 WHERE id = $2", table);
	pq_prepare(q.conn, "upd", sql);
	measure("PostgreSQL", "libpq PQexecPrepared", "SELECT", pq_select, &q, pw_select, &pg, npg,
		false);
	measure("PostgreSQL", "libpq PQexecPrepared", "UPDATE", pq_update, &q, pw_update, &pg, npg,
		false);
	PQfinish(q.conn);
	pw_error e = PW_ERROR_INIT;
	snprintf(sql, sizeof sql, "DROP TABLE %s", table);
	check(pw_db_exec(pg.db, sql, &e), &e);
	pw_db_close(pg.db);
	printf("SQLite: CPU time; PostgreSQL: wall time (loopback round trips). Best of %d.\n",
	       TRIALS);
	return (int)((p.sink + s.sink + pg.sink + q.sink) & 0);
}
