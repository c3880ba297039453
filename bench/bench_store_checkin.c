/* The agent check-in hot path (checkin.h): an unchanged-inventory check-in
 * without results or jobs, as the library call the HTTP server makes,
 * with and without authenticating the credential first, on SQLite and on
 * PostgreSQL. Beside it, the floor: one bare UPDATE of hosts.last_seen
 * through the same SQL layer.
 *
 *   bench_store_checkin [N]    N calls per measurement (default 10000)
 *
 * SQLite runs in a temporary directory. PostgreSQL runs when
 * PW_BENCH_PG_URL names a database; the bench works in its own schema
 * (pw_bench_<pid>, dropped at the end) and leaves the rest alone. With
 * 1,000 enrolled hosts, each check-in is for the next host in turn. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"
#include "patchwarden/agents.h"
#include "patchwarden/checkin.h"
#include "patchwarden/db.h"
#include "patchwarden/inventory.h"
#include "patchwarden/schema.h"

#define HOSTS 1000
#define THREADS 4

struct fleet {
	pw_agent agents[HOSTS];
	char creds[HOSTS][PW_CREDENTIAL_MAX];
	char hash[65];
};

static void die(const char *what, const pw_error *e)
{
	fprintf(stderr, "bench_store_checkin: %s: %s\n", what, pw_error_text(e));
	exit(1);
}

static cJSON *inventory(void)
{
	/* 400 packages: the size of a small Debian server. */
	cJSON *inv = cJSON_Parse("{\"os\":{\"id\":\"debian\",\"version_id\":\"12\"},"
				 "\"arch\":\"amd64\",\"scheme\":\"deb\",\"packages\":[]}");
	cJSON *pkgs = cJSON_GetObjectItem(inv, "packages");
	for (int i = 0; i < 400; i++) {
		char name[32];
		snprintf(name, sizeof name, "package-%03d", i);
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", name);
		cJSON_AddStringToObject(p, "version", "1.2.3-4+deb12u1");
		cJSON_AddStringToObject(p, "arch", "amd64");
		cJSON_AddStringToObject(p, "status", "install ok installed");
		cJSON_AddItemToArray(pkgs, p);
	}
	return inv;
}

static void setup(pw_db *db, struct fleet *fl)
{
	pw_error e = PW_ERROR_INIT;
	if (pw_schema_migrate(db, &e))
		die("migrate", &e);
	char tok[PW_ENROLL_TOKEN_MAX];
	if (pw_enroll_token_create(db, "bench", "bench", HOSTS, 3600, tok, NULL, &e))
		die("enroll token", &e);
	cJSON *inv = inventory();
	pw_inventory parsed = PW_INVENTORY_INIT;
	if (pw_inventory_from_json(&parsed, inv, &e))
		die("inventory", &e);
	pw_inventory_hash(&parsed, fl->hash);
	pw_inventory_release(&parsed);
	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	for (int i = 0; i < HOSTS; i++) {
		char host[32], mid[40];
		snprintf(host, sizeof host, "web-%04d", i);
		snprintf(mid, sizeof mid, "%032x", i + 1);
		pw_enroll_request q = {tok,        host, mid,     "debian", "12",
				       "bookworm", NULL, "amd64", NULL};
		pw_enrollment en;
		if (pw_agent_enroll(db, &q, &en, &e))
			die("enroll", &e);
		snprintf(fl->creds[i], sizeof fl->creds[i], "%s", en.credential);
		if (pw_agent_authenticate(db, en.credential, &fl->agents[i], &e))
			die("authenticate", &e);
		pw_checkin c = PW_CHECKIN_INIT;
		c.inventory_hash = fl->hash;
		c.inventory = i == 0 ? inv : NULL; /* the others reuse the stored content */
		if (pw_agent_checkin(db, &fl->agents[i], &c, &r, &e))
			die("first check-in", &e);
	}
	pw_checkin_reply_release(&r);
	cJSON_Delete(inv);
}

enum what { FLOOR, CHECKIN, AUTH_CHECKIN };

static void run(pw_db *db, const struct fleet *fl, enum what w, long n, int offset)
{
	pw_error e = PW_ERROR_INIT;
	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	for (long i = 0; i < n; i++) {
		int k = (int)((i + offset) % HOSTS);
		if (w == FLOOR) {
			pw_stmt *st;
			if (pw_db_prepare(db, "UPDATE hosts SET last_seen = ? WHERE id = ?", &st,
					  &e) ||
			    pw_stmt_bind_text(st, 1, "2026-01-01T00:00:00.000Z") ||
			    pw_stmt_bind_int(st, 2, fl->agents[k].host_id) || pw_stmt_exec(st, &e))
				die("floor", &e);
			continue;
		}
		pw_agent a = fl->agents[k];
		if (w == AUTH_CHECKIN && pw_agent_authenticate(db, fl->creds[k], &a, &e))
			die("authenticate", &e);
		pw_checkin c = PW_CHECKIN_INIT;
		c.inventory_hash = fl->hash;
		if (pw_agent_checkin(db, &a, &c, &r, &e))
			die("check-in", &e);
		if (r.need_inventory || r.n_jobs)
			die("check-in: not an unchanged check-in", &e);
	}
	pw_checkin_reply_release(&r);
}

struct worker {
	const char *url, *search_path;
	const struct fleet *fl;
	long n;
	int offset;
};

static pw_db *open_db(const char *url, const char *search_path)
{
	pw_db *db = NULL;
	pw_error e = PW_ERROR_INIT;
	if (pw_db_open(url, &db, &e))
		die(url, &e);
	if (search_path && pw_db_exec(db, search_path, &e))
		die("search_path", &e);
	return db;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	pw_db *db = open_db(w->url, w->search_path);
	run(db, w->fl, AUTH_CHECKIN, w->n, w->offset);
	pw_db_close(db);
	return NULL;
}

static void measure(const char *backend, const char *url, const char *search_path, long n)
{
	struct fleet *fl = calloc(1, sizeof *fl);
	pw_db *db = open_db(url, search_path);
	double t0 = bench_now_ns();
	setup(db, fl);
	printf("%-10s set-up: %d hosts enrolled and checked in once in %.1f s\n", backend, HOSTS,
	       (bench_now_ns() - t0) / 1e9);
	static const char *const names[] = {"floor: one UPDATE hosts", "check-in",
					    "authenticate + check-in"};
	for (int w = FLOOR; w <= AUTH_CHECKIN; w++) {
		run(db, fl, (enum what)w, n / 10, 0); /* warm the caches */
		t0 = bench_now_ns();
		run(db, fl, (enum what)w, n, 0);
		double us = (bench_now_ns() - t0) / 1e3 / (double)n;
		printf("%-10s %-26s %8.1f us/call  %8.0f calls/s  (N=%ld, 1 connection)\n", backend,
		       names[w], us, 1e6 / us, n);
	}
	pw_db_close(db);

	/* Throughput with several connections, as server threads have. */
	pthread_t th[THREADS];
	struct worker wk[THREADS];
	t0 = bench_now_ns();
	for (int i = 0; i < THREADS; i++) {
		wk[i] = (struct worker){url, search_path, fl, n / THREADS, i * (HOSTS / THREADS)};
		pthread_create(&th[i], NULL, work, &wk[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	double s = (bench_now_ns() - t0) / 1e9;
	printf("%-10s %-26s %8.0f calls/s in total (N=%ld, %d connections)\n", backend,
	       "authenticate + check-in", (double)(n / THREADS * THREADS) / s, n, THREADS);
	free(fl);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
	if (n < 10) {
		fprintf(stderr, "usage: bench_store_checkin [N >= 10]\n");
		return 2;
	}
	char dir[] = "/tmp/pw-bench-checkin-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("bench_store_checkin: mkdtemp");
		return 1;
	}
	char url[128];
	snprintf(url, sizeof url, "sqlite:%s/server.db", dir);
	measure("sqlite", url, NULL, n);
	static const char *const files[] = {"server.db", "server.db-wal", "server.db-shm"};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char path[160];
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);

	const char *pg = getenv("PW_BENCH_PG_URL");
	if (!pg || !*pg) {
		printf("postgres   skipped: set PW_BENCH_PG_URL to a database the bench may use\n");
		return 0;
	}
	char create[96], path[96], drop[96];
	snprintf(create, sizeof create, "CREATE SCHEMA pw_bench_%d", (int)getpid());
	snprintf(path, sizeof path, "SET search_path = pw_bench_%d", (int)getpid());
	snprintf(drop, sizeof drop, "DROP SCHEMA pw_bench_%d CASCADE", (int)getpid());
	pw_db *db = open_db(pg, create);
	measure("postgres", pg, path, n);
	pw_error e = PW_ERROR_INIT;
	if (pw_db_exec(db, drop, &e))
		die("drop schema", &e);
	pw_db_close(db);
	return 0;
}
