/* The feed store through its sink: snapshots, upserts, retirement,
 * visibility by snapshot, KEV/EPSS versioning, rollback and crash
 * safety, reading by ecosystem and package, source state, and the path
 * walker's handling of files it cannot read. Every test runs on SQLite
 * and, when PW_TEST_PG_URL names a database
 * (tests/scripts/feedstore_postgres.sh starts one), on PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "patchwarden/buf.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/fileio.h"
#include "servertest.h"

struct fixture {
	char dir[64];   /* files the tests write; the SQLite store */
	char path[128]; /* SQLite: the store's file */
	char url[600];  /* what pw_feedstore_open is given */
	pw_feedstore *s;
};

/* Runs SQL without parameters on another connection to the store. */
static void exec_other(struct fixture *f, const char *sql)
{
	pw_db *db = NULL;
	pw_error err = PW_ERROR_INIT;
	if (pw_db_open(f->url, &db, &err) || pw_db_exec(db, sql, &err))
		fail_msg("%s: %s", sql, pw_error_text(&err));
	pw_db_close(db);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/pw-feedstore-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
	if (g_kind == PW_DB_SQLITE) {
		snprintf(f->url, sizeof f->url, "sqlite:%s", f->path);
	} else {
		snprintf(f->url, sizeof f->url, "%s", g_pg_url);
		exec_other(f, "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
	}
	pw_error err = PW_ERROR_INIT;
	if (pw_feedstore_open(f->url, &f->s, &err))
		fail_msg("open: %s", pw_error_text(&err));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pw_feedstore_close(f->s);
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* ---- building records ---- */

static pw_advisory adv(const char *source, const char *id, const pw_affected *aff, size_t n,
		       const char *const *cves, size_t n_cves)
{
	return (pw_advisory){id,
			     source,
			     "2023-01-01",
			     "2023-01-02",
			     "summary of advisory",
			     PW_SEV_HIGH,
			     PW_AV_NETWORK,
			     "CVSS:3.1/AV:N",
			     cves,
			     n_cves,
			     aff,
			     n};
}

#define FIX(eco, pkg, ver)                                                                         \
	{                                                                                          \
		eco, pkg, false, PW_FIX_FIXED, ver, NULL                                           \
	}

static const char *const cves_a[] = {"CVE-2023-0001", "CVE-2023-0002"};
static const pw_affected aff_a[] = {FIX("almalinux:8", "openssl", "1.1.1k-9.el8"),
				    FIX("almalinux:8", "openssl-libs", "1.1.1k-9.el8"),
				    FIX("almalinux:9", "openssl", "3.0.7-1.el9")};
static const pw_affected aff_b[] = {FIX("almalinux:8", "bash", "4.4.20-4.el8")};
static const pw_affected aff_c[] = {{"debian:11", "openssl", true, PW_FIX_FIXED, "1.1.1n-0+deb11u5",
				     NULL},
				    {"debian:11", "curl", true, PW_FIX_NOT_AFFECTED, NULL,
				     "vulnerable code not present"}};

static void put(pw_feed_import *imp, pw_advisory a)
{
	pw_error err = PW_ERROR_INIT;
	const pw_feed_sink *k = pw_feed_import_sink(imp);
	assert_int_equal(k->advisory(k->ctx, &a, &err), PW_OK);
}

static void put_kev(pw_feed_import *imp, const char *cve, const char *due)
{
	pw_error err = PW_ERROR_INIT;
	pw_kev_entry e = {cve, "2023-01-01", due, "Vendor", "Product", "Name", false};
	const pw_feed_sink *k = pw_feed_import_sink(imp);
	assert_int_equal(k->kev(k->ctx, &e, &err), PW_OK);
}

static void put_epss(pw_feed_import *imp, const char *cve, double score, double pct)
{
	pw_error err = PW_ERROR_INIT;
	pw_epss_entry e = {cve, score, pct};
	const pw_feed_sink *k = pw_feed_import_sink(imp);
	assert_int_equal(k->epss(k->ctx, &e, &err), PW_OK);
}

static pw_feed_import *begin(struct fixture *f)
{
	pw_error err = PW_ERROR_INIT;
	pw_feed_import *imp = NULL;
	assert_int_equal(pw_feed_import_begin(f->s, "test import", &imp, &err), PW_OK);
	return imp;
}

static int64_t commit(pw_feed_import *imp, pw_import_stats *st)
{
	pw_error err = PW_ERROR_INIT;
	int64_t snap = 0;
	pw_import_stats dummy;
	pw_err rc = pw_feed_import_commit(imp, &snap, st ? st : &dummy, &err);
	if (rc)
		fail_msg("commit: %s", pw_error_text(&err));
	return snap;
}

/* The base data set: A and B from "osv", C from "debian-list". */
static int64_t import_base(struct fixture *f, pw_import_stats *st)
{
	pw_feed_import *imp = begin(f);
	put(imp, adv("osv", "ALSA-2023:0001", aff_a, 3, cves_a, 2));
	put(imp, adv("osv", "ALSA-2023:0002", aff_b, 1, NULL, 0));
	put(imp, adv("debian-list", "DSA-5000-1", aff_c, 2, cves_a, 1));
	return commit(imp, st);
}

/* ---- reading back ---- */

struct seen {
	char text[4096];
	size_t n;
};

static pw_err record(void *ctx, const pw_advisory *a, pw_error *err)
{
	(void)err;
	struct seen *s = ctx;
	size_t len = strlen(s->text);
	/* Long listings are only counted. */
	if (len > sizeof s->text / 2) {
		s->n++;
		return PW_OK;
	}
	len += (size_t)snprintf(s->text + len, sizeof s->text - len, "%s%s/%s[", s->n ? " " : "",
				a->source, a->id);
	for (size_t i = 0; i < a->n_affected; i++)
		len += (size_t)snprintf(s->text + len, sizeof s->text - len, "%s%s=%s",
					i ? "," : "", a->affected[i].package,
					a->affected[i].fixed
						? a->affected[i].fixed
						: pw_fix_state_name(a->affected[i].state));
	len += (size_t)snprintf(s->text + len, sizeof s->text - len, "]");
	if (a->n_cves)
		snprintf(s->text + len, sizeof s->text - len, "{%s..%zu}", a->cves[0], a->n_cves);
	s->n++;
	return PW_OK;
}

static const char *read_eco(struct fixture *f, int64_t snap, const char *eco,
			    const char *const *pkgs, size_t n, struct seen *out)
{
	memset(out, 0, sizeof *out);
	pw_error err = PW_ERROR_INIT;
	pw_err rc = pw_feedstore_each_advisory(f->s, snap, eco, pkgs, n, record, out, &err);
	if (rc)
		fail_msg("each_advisory: %s", pw_error_text(&err));
	return out->text;
}

/* The first column of the first row of `sql`, on another connection. */
static int64_t query_int(struct fixture *f, const char *sql)
{
	pw_db *db = NULL;
	pw_stmt *st = NULL;
	bool row = false;
	pw_error err = PW_ERROR_INIT;
	if (pw_db_open(f->url, &db, &err) || pw_db_prepare(db, sql, &st, &err) ||
	    pw_stmt_step(st, &row, &err))
		fail_msg("%s: %s", sql, pw_error_text(&err));
	assert_true(row);
	int64_t n = pw_stmt_int(st, 0);
	pw_db_close(db);
	return n;
}

static int64_t count_rows(struct fixture *f, const char *table)
{
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM feed_%s", table);
	return query_int(f, sql);
}

/* ---- tests ---- */

static void test_empty_store(void **state)
{
	struct fixture *f = *state;
	pw_error err = PW_ERROR_INIT;
	int64_t snap = -1;
	assert_int_equal(pw_feedstore_latest(f->s, &snap, &err), PW_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "feed import"));
	pw_snapshot_info info;
	assert_int_equal(pw_feedstore_snapshot_info(f->s, 1, &info, &err), PW_ERR_NOTFOUND);
	struct seen s;
	assert_int_equal(pw_feedstore_each_advisory(f->s, 1, "almalinux:8", NULL, 0, record, &s,
						    &err),
			 PW_ERR_NOTFOUND);
	pw_snapshot_info *list;
	size_t n = 9;
	assert_int_equal(pw_feedstore_snapshots(f->s, &list, &n, &err), PW_OK);
	assert_int_equal(n, 0);
	free(list);
	/* Reopening an existing store runs no migration twice. */
	pw_feedstore_close(f->s);
	assert_int_equal(pw_feedstore_open(f->url, &f->s, &err), PW_OK);
	assert_int_equal(query_int(f, "SELECT COUNT(*) FROM schema_migrations"
				      " WHERE component = 'feeds'"),
			 1);
}

static void test_not_a_store(void **state)
{
	struct fixture *f = *state;
	pw_feedstore_close(f->s);
	f->s = NULL;
	pw_feedstore *s = NULL;
	pw_error err = PW_ERROR_INIT;
	/* The store may share a database with other tables (the server's). */
	exec_other(f, "CREATE TABLE t (x BIGINT)");
	assert_int_equal(pw_feedstore_open(f->url, &s, &err), PW_OK);
	pw_feedstore_close(s);

	/* A store written by the code before db.h is refused with advice. */
	exec_other(f, "CREATE TABLE schema_version (component TEXT NOT NULL, version BIGINT"
		      " NOT NULL, applied TEXT NOT NULL);"
		      " INSERT INTO schema_version VALUES ('feed', 1, 'x')");
	assert_int_equal(pw_feedstore_open(f->url, &s, &err), PW_ERR_UNSUPPORTED);
	assert_null(s);
	assert_non_null(strstr(err.msg, "older patchwarden"));
	assert_non_null(strstr(err.msg, "import the feeds again"));
	exec_other(f, "DROP TABLE schema_version");

	/* A store written by a newer patchwarden is refused, not damaged. */
	exec_other(f, "UPDATE schema_migrations SET version = 999 WHERE component = 'feeds'");
	assert_int_equal(pw_feedstore_open(f->url, &s, &err), PW_ERR_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "999"));
	exec_other(f, "UPDATE schema_migrations SET version = 1 WHERE component = 'feeds'");
	assert_int_equal(pw_feedstore_open(f->url, &f->s, &err), PW_OK);

	if (g_kind != PW_DB_SQLITE)
		return;
	char other[160];
	snprintf(other, sizeof other, "%s/garbage.db", f->dir);
	assert_int_equal(pw_write_file_atomic(other, "this is not sqlite, not at all, really no",
					      41, 0644, &err),
			 PW_OK);
	assert_int_equal(pw_feedstore_open(other, &s, &err), PW_ERR_STORE);
	assert_non_null(strstr(err.msg, "garbage.db"));
}

/* On a database the caller opened: the store leaves it open. */
static void test_open_db(void **state)
{
	struct fixture *f = *state;
	import_base(f, NULL);
	pw_db *db = NULL;
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_db_open(f->url, &db, &err), PW_OK);
	pw_feedstore *s = NULL;
	assert_int_equal(pw_feedstore_open_db(db, &s, &err), PW_OK);
	int64_t latest;
	assert_int_equal(pw_feedstore_latest(s, &latest, &err), PW_OK);
	assert_int_equal(latest, 1);
	pw_feedstore_close(s);
	assert_int_equal(pw_db_exec(db, "SELECT 1", &err), PW_OK);
	pw_db_close(db);
}

static void test_snapshot_and_reimport(void **state)
{
	struct fixture *f = *state;
	pw_import_stats st;
	assert_int_equal(import_base(f, &st), 1);
	assert_int_equal(st.advisories, 3);
	assert_int_equal(st.added, 3);
	assert_int_equal(st.unchanged, 0);
	assert_int_equal(st.affected, 6);
	pw_snapshot_info info;
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_snapshot_info(f->s, 1, &info, &err), PW_OK);
	assert_int_equal(info.advisories, 3);
	assert_int_equal(info.affected, 6);
	assert_string_equal(info.label, "test import");
	assert_int_equal(strlen(info.created), 20);
	int64_t rows = count_rows(f, "advisory"), aff = count_rows(f, "affected");

	/* The same data again: a new snapshot, no new rows. */
	assert_int_equal(import_base(f, &st), 2);
	assert_int_equal(st.added, 0);
	assert_int_equal(st.unchanged, 3);
	assert_int_equal(count_rows(f, "advisory"), rows);
	assert_int_equal(count_rows(f, "affected"), aff);
	assert_int_equal(pw_feedstore_snapshot_info(f->s, 2, &info, &err), PW_OK);
	assert_int_equal(info.advisories, 3);
	assert_int_equal(info.affected, 6);
	int64_t latest;
	assert_int_equal(pw_feedstore_latest(f->s, &latest, &err), PW_OK);
	assert_int_equal(latest, 2);

	struct seen s;
	assert_string_equal(read_eco(f, 2, "almalinux:8", NULL, 0, &s),
			    "osv/ALSA-2023:0001[openssl=1.1.1k-9.el8,openssl-libs=1.1.1k-9.el8]"
			    "{CVE-2023-0001..2} osv/ALSA-2023:0002[bash=4.4.20-4.el8]");
	assert_string_equal(read_eco(f, 1, "debian:11", NULL, 0, &s),
			    "debian-list/DSA-5000-1[openssl=1.1.1n-0+deb11u5,curl=not-affected]"
			    "{CVE-2023-0001..1}");
	assert_string_equal(read_eco(f, 2, "alpine:3.18", NULL, 0, &s), "");
}

/* Records are borrowed, so the fields are checked inside the call. */
static pw_err check_dsa(void *ctx, const pw_advisory *a, pw_error *err)
{
	(void)err;
	(*(int *)ctx)++;
	assert_string_equal(a->id, "DSA-5000-1");
	assert_string_equal(a->source, "debian-list");
	assert_string_equal(a->published, "2023-01-01");
	assert_string_equal(a->modified, "2023-01-02");
	assert_string_equal(a->summary, "summary of advisory");
	assert_string_equal(a->cvss_vector, "CVSS:3.1/AV:N");
	assert_int_equal(a->severity, PW_SEV_HIGH);
	assert_int_equal(a->attack_vector, PW_AV_NETWORK);
	assert_int_equal(a->n_cves, 1);
	assert_string_equal(a->cves[0], "CVE-2023-0001");
	assert_int_equal(a->n_affected, 1);
	assert_string_equal(a->affected[0].ecosystem, "debian:11");
	assert_string_equal(a->affected[0].package, "curl");
	assert_true(a->affected[0].by_source);
	assert_int_equal(a->affected[0].state, PW_FIX_NOT_AFFECTED);
	assert_null(a->affected[0].fixed);
	assert_string_equal(a->affected[0].note, "vulnerable code not present");
	return PW_OK;
}

static void test_fields_round_trip(void **state)
{
	struct fixture *f = *state;
	import_base(f, NULL);
	int calls = 0;
	pw_error err = PW_ERROR_INIT;
	const char *pkgs[] = {"curl"};
	assert_int_equal(pw_feedstore_each_advisory(f->s, 1, "debian:11", pkgs, 1, check_dsa,
						    &calls, &err),
			 PW_OK);
	assert_int_equal(calls, 1);
}

static void test_upsert_and_visibility(void **state)
{
	struct fixture *f = *state;
	import_base(f, NULL);
	pw_feed_import *imp = begin(f);
	const pw_affected newer[] = {FIX("almalinux:8", "bash", "4.4.20-5.el8")};
	put(imp, adv("osv", "ALSA-2023:0002", newer, 1, NULL, 0));
	pw_import_stats st;
	assert_int_equal(commit(imp, &st), 2);
	assert_int_equal(st.added, 1);
	assert_int_equal(st.retired, 0);

	struct seen s;
	const char *bash[] = {"bash"};
	assert_string_equal(read_eco(f, 1, "almalinux:8", bash, 1, &s),
			    "osv/ALSA-2023:0002[bash=4.4.20-4.el8]");
	assert_string_equal(read_eco(f, 2, "almalinux:8", bash, 1, &s),
			    "osv/ALSA-2023:0002[bash=4.4.20-5.el8]");
	/* Without --replace an import only adds: the others stay. */
	assert_int_equal(read_eco(f, 2, "almalinux:8", NULL, 0, &s) != NULL, 1);
	assert_int_equal(s.n, 2);
	pw_snapshot_info info;
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_snapshot_info(f->s, 2, &info, &err), PW_OK);
	assert_int_equal(info.advisories, 3);
	assert_int_equal(info.affected, 6);
}

static void test_replace_retires(void **state)
{
	struct fixture *f = *state;
	import_base(f, NULL);
	pw_feed_import *imp = begin(f);
	pw_feed_import_replace_source(imp, true);
	put(imp, adv("osv", "ALSA-2023:0001", aff_a, 3, cves_a, 2));
	pw_import_stats st;
	assert_int_equal(commit(imp, &st), 2);
	assert_int_equal(st.unchanged, 1);
	assert_int_equal(st.retired, 1);

	struct seen s;
	read_eco(f, 2, "almalinux:8", NULL, 0, &s);
	assert_int_equal(s.n, 1);
	read_eco(f, 1, "almalinux:8", NULL, 0, &s);
	assert_int_equal(s.n, 2);
	/* Another source is not touched by a replace of "osv". */
	read_eco(f, 2, "debian:11", NULL, 0, &s);
	assert_int_equal(s.n, 1);
	pw_snapshot_info info;
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_snapshot_info(f->s, 2, &info, &err), PW_OK);
	assert_int_equal(info.advisories, 2);
	assert_int_equal(info.affected, 5);

	/* Coming back later makes it visible again from that snapshot. */
	imp = begin(f);
	put(imp, adv("osv", "ALSA-2023:0002", aff_b, 1, NULL, 0));
	assert_int_equal(commit(imp, &st), 3);
	assert_int_equal(st.added, 1);
	read_eco(f, 3, "almalinux:8", NULL, 0, &s);
	assert_int_equal(s.n, 2);
	read_eco(f, 2, "almalinux:8", NULL, 0, &s);
	assert_int_equal(s.n, 1);
}

/* One source name carries many distros: a refresh of one distro's
 * advisories must not retire another's. */
static void test_replace_scoped_by_ecosystem(void **state)
{
	struct fixture *f = *state;
	const pw_affected deb[] = {FIX("debian:12", "openssl", "3.0.9-1")};
	const pw_affected mixed[] = {FIX("debian:12", "bash", "5.2-1"),
				     FIX("almalinux:8", "bash", "5")};
	pw_feed_import *imp = begin(f);
	put(imp, adv("osv", "ALSA-2023:0001", aff_a, 3, cves_a, 2)); /* almalinux:8, :9 */
	put(imp, adv("osv", "ALSA-2023:0002", aff_b, 1, NULL, 0));   /* almalinux:8 */
	put(imp, adv("osv", "DSA-1-1", deb, 1, NULL, 0));            /* debian:12 */
	put(imp, adv("osv", "DSA-2-1", deb, 1, NULL, 0));
	put(imp, adv("osv", "MIXED-1", mixed, 2, NULL, 0));
	put(imp, adv("osv", "EMPTY-1", NULL, 0, NULL, 0));
	commit(imp, NULL);

	/* A Debian-only refresh that lacks DSA-2-1. */
	imp = begin(f);
	pw_feed_import_replace_source(imp, true);
	put(imp, adv("osv", "DSA-1-1", deb, 1, NULL, 0));
	pw_import_stats st;
	assert_int_equal(commit(imp, &st), 2);
	/* DSA-2-1 and EMPTY-1 (no ecosystem) go; the AlmaLinux ones and
	 * MIXED-1 (also AlmaLinux, not covered) stay. */
	assert_int_equal(st.retired, 2);
	struct seen s;
	assert_string_equal(read_eco(f, 2, "debian:12", NULL, 0, &s),
			    "osv/DSA-1-1[openssl=3.0.9-1] osv/MIXED-1[bash=5.2-1]");
	read_eco(f, 2, "almalinux:8", NULL, 0, &s);
	assert_int_equal(s.n, 3);
}

static void test_package_filter(void **state)
{
	struct fixture *f = *state;
	import_base(f, NULL);
	struct seen s;
	/* Duplicates, unknown names and unsorted input are fine. */
	const char *pkgs[] = {"zlib", "openssl", "bash", "openssl", "nosuch"};
	assert_string_equal(read_eco(f, 1, "almalinux:8", pkgs, 5, &s),
			    "osv/ALSA-2023:0001[openssl=1.1.1k-9.el8]{CVE-2023-0001..2}"
			    " osv/ALSA-2023:0002[bash=4.4.20-4.el8]");
	assert_string_equal(read_eco(f, 1, "almalinux:9", pkgs, 5, &s),
			    "osv/ALSA-2023:0001[openssl=3.0.7-1.el9]{CVE-2023-0001..2}");
	const char *none[] = {"nosuch"};
	assert_string_equal(read_eco(f, 1, "almalinux:8", none, 1, &s), "");
	const char *libs[] = {"openssl-libs"};
	assert_string_equal(read_eco(f, 1, "almalinux:8", libs, 1, &s),
			    "osv/ALSA-2023:0001[openssl-libs=1.1.1k-9.el8]{CVE-2023-0001..2}");
}

/* Output order is (id, source) and affected[] keeps the record's order,
 * whatever the row ids: also when they are too spread out for the
 * counting sort (many advisories of other ecosystems in between). */
static void test_order_independent_of_history(void **state)
{
	struct fixture *f = *state;
	pw_feed_import *imp = begin(f);
	const pw_affected z[] = {FIX("debian:12", "zlib", "2"), FIX("debian:12", "apt", "1")};
	put(imp, adv("osv", "ZZZ-1", z, 2, NULL, 0));
	char id[32];
	for (int i = 0; i < 3000; i++) {
		snprintf(id, sizeof id, "FILLER-%d", i);
		put(imp, adv("osv", id, aff_b, 1, NULL, 0));
	}
	put(imp, adv("osv", "AAA-1", z, 2, NULL, 0));
	commit(imp, NULL);
	struct seen s;
	const char *pkgs[] = {"zlib", "apt"};
	assert_string_equal(read_eco(f, 1, "debian:12", pkgs, 2, &s),
			    "osv/AAA-1[zlib=2,apt=1] osv/ZZZ-1[zlib=2,apt=1]");
	assert_string_equal(read_eco(f, 1, "debian:12", NULL, 0, &s),
			    "osv/AAA-1[zlib=2,apt=1] osv/ZZZ-1[zlib=2,apt=1]");
	read_eco(f, 1, "almalinux:8", NULL, 0, &s);
	assert_int_equal(s.n, 3000);
}

static pw_err stop_after_one(void *ctx, const pw_advisory *a, pw_error *err)
{
	(void)a;
	(*(int *)ctx)++;
	return pw_error_set(err, PW_ERR_INVALID, "stop");
}

static void test_callback_error_stops(void **state)
{
	struct fixture *f = *state;
	import_base(f, NULL);
	int calls = 0;
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_each_advisory(f->s, 1, "almalinux:8", NULL, 0, stop_after_one,
						    &calls, &err),
			 PW_ERR_INVALID);
	assert_int_equal(calls, 1);
	assert_string_equal(err.msg, "stop");
}

static void test_ecosystem_counts(void **state)
{
	struct fixture *f = *state;
	import_base(f, NULL);
	pw_ecosystem_count *list;
	size_t n;
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_ecosystems(f->s, 1, &list, &n, &err), PW_OK);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].ecosystem, "almalinux:8");
	assert_int_equal(list[0].advisories, 2);
	assert_int_equal(list[0].packages, 3);
	assert_string_equal(list[1].ecosystem, "almalinux:9");
	assert_int_equal(list[1].advisories, 1);
	assert_string_equal(list[2].ecosystem, "debian:11");
	assert_int_equal(list[2].packages, 2);
	pw_feedstore_free_counts(list, n);

	/* Releases sort as numbers. */
	pw_feed_import *imp = begin(f);
	const pw_affected rel[] = {FIX("debian:10", "a", "1"), FIX("debian:9", "a", "1"),
				   FIX("alpine:3.10", "a", "1"), FIX("alpine:3.9", "a", "1")};
	put(imp, adv("osv", "X-1", rel, 4, NULL, 0));
	commit(imp, NULL);
	assert_int_equal(pw_feedstore_ecosystems(f->s, 2, &list, &n, &err), PW_OK);
	assert_int_equal(n, 7);
	const char *order[] = {"almalinux:8", "almalinux:9", "alpine:3.9", "alpine:3.10",
			       "debian:9",    "debian:10",   "debian:11"};
	for (size_t i = 0; i < n; i++)
		assert_string_equal(list[i].ecosystem, order[i]);
	pw_feedstore_free_counts(list, n);
}

static pw_err count_kev(void *ctx, const pw_kev_entry *e, pw_error *err)
{
	(void)err;
	struct seen *s = ctx;
	size_t len = strlen(s->text);
	snprintf(s->text + len, sizeof s->text - len, "%s%s@%s", s->n++ ? " " : "", e->cve,
		 e->due_date);
	return PW_OK;
}

static void test_kev_versions(void **state)
{
	struct fixture *f = *state;
	pw_feed_import *imp = begin(f);
	put_kev(imp, "CVE-2021-0001", "2021-02-01");
	put_kev(imp, "CVE-2021-0002", "2021-02-02");
	pw_import_stats st;
	assert_int_equal(commit(imp, &st), 1);
	assert_int_equal(st.kev, 2);

	/* An import without KEV leaves the catalogue alone. */
	imp = begin(f);
	put(imp, adv("osv", "ALSA-2023:0002", aff_b, 1, NULL, 0));
	assert_int_equal(commit(imp, NULL), 2);

	/* A KEV import replaces the catalogue: 0001 changed, 0002 gone, 0003 new. */
	imp = begin(f);
	put_kev(imp, "CVE-2021-0001", "2021-03-01");
	put_kev(imp, "CVE-2021-0003", "2021-02-03");
	assert_int_equal(commit(imp, NULL), 3);

	struct seen s = {{0}, 0};
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_each_kev(f->s, 2, count_kev, &s, &err), PW_OK);
	assert_string_equal(s.text, "CVE-2021-0001@2021-02-01 CVE-2021-0002@2021-02-02");
	memset(&s, 0, sizeof s);
	assert_int_equal(pw_feedstore_each_kev(f->s, 3, count_kev, &s, &err), PW_OK);
	assert_string_equal(s.text, "CVE-2021-0001@2021-03-01 CVE-2021-0003@2021-02-03");

	pw_kev_entry e;
	bool found;
	assert_int_equal(pw_feedstore_kev(f->s, 2, "CVE-2021-0002", &e, &found, &err), PW_OK);
	assert_true(found);
	assert_string_equal(e.cve, "CVE-2021-0002");
	assert_string_equal(e.vendor, "Vendor");
	assert_string_equal(e.name, "Name");
	assert_false(e.ransomware);
	assert_int_equal(pw_feedstore_kev(f->s, 3, "CVE-2021-0002", &e, &found, &err), PW_OK);
	assert_false(found);
	assert_int_equal(pw_feedstore_kev(f->s, 1, "CVE-2021-0003", &e, &found, &err), PW_OK);
	assert_false(found);

	pw_snapshot_info info;
	assert_int_equal(pw_feedstore_snapshot_info(f->s, 2, &info, &err), PW_OK);
	assert_int_equal(info.kev, 2);
	assert_int_equal(pw_feedstore_snapshot_info(f->s, 3, &info, &err), PW_OK);
	assert_int_equal(info.kev, 2);
	assert_int_equal(count_rows(f, "kev"), 4);

	/* The same catalogue again adds no rows. */
	imp = begin(f);
	put_kev(imp, "CVE-2021-0003", "2021-02-03");
	put_kev(imp, "CVE-2021-0001", "2021-03-01");
	assert_int_equal(commit(imp, NULL), 4);
	assert_int_equal(count_rows(f, "kev"), 4);
}

static double epss_at(struct fixture *f, int64_t snap, const char *cve)
{
	pw_epss_entry e;
	bool found;
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_epss(f->s, snap, cve, &e, &found, &err), PW_OK);
	return found ? e.score : -1;
}

static void test_epss_versions(void **state)
{
	struct fixture *f = *state;
	pw_feed_import *imp = begin(f);
	put_epss(imp, "CVE-2021-0001", 0.5, 0.9);
	put_epss(imp, "CVE-2021-0002", 0.01, 0.2);
	put_epss(imp, "CVE-2021-0003", 0.02, 0.3);
	assert_int_equal(commit(imp, NULL), 1);

	/* 0001 drifts below the step (kept), 0002 moves (new row), 0003
	 * is gone, 0004 is new. */
	imp = begin(f);
	put_epss(imp, "CVE-2021-0001", 0.500001, 0.9);
	put_epss(imp, "CVE-2021-0002", 0.2, 0.6);
	put_epss(imp, "CVE-2021-0004", 0.3, 0.7);
	pw_import_stats st;
	assert_int_equal(commit(imp, &st), 2);
	assert_int_equal(st.epss, 3);
	assert_int_equal(count_rows(f, "epss"), 5);

	assert_true(epss_at(f, 1, "CVE-2021-0001") == 0.5);
	assert_true(epss_at(f, 2, "CVE-2021-0001") == 0.5);
	assert_true(epss_at(f, 1, "CVE-2021-0002") == 0.01);
	assert_true(epss_at(f, 2, "CVE-2021-0002") == 0.2);
	assert_true(epss_at(f, 1, "CVE-2021-0003") == 0.02);
	assert_true(epss_at(f, 2, "CVE-2021-0003") == -1);
	assert_true(epss_at(f, 1, "CVE-2021-0004") == -1);
	assert_true(epss_at(f, 2, "CVE-2021-0004") == 0.3);
	pw_snapshot_info info;
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_snapshot_info(f->s, 2, &info, &err), PW_OK);
	assert_int_equal(info.epss, 3);

	/* The same CVE twice in one import: the later value stands. */
	imp = begin(f);
	put_epss(imp, "CVE-2021-0004", 0.4, 0.8);
	put_epss(imp, "CVE-2021-0004", 0.45, 0.85);
	put_epss(imp, "CVE-2021-0001", 0.5, 0.9);
	put_epss(imp, "CVE-2021-0002", 0.2, 0.6);
	assert_int_equal(commit(imp, NULL), 3);
	assert_true(epss_at(f, 3, "CVE-2021-0004") == 0.45);
	assert_true(epss_at(f, 2, "CVE-2021-0004") == 0.3);
	assert_int_equal(count_rows(f, "epss"), 6);
}

struct warnings {
	size_t n;
	char last[512];
};

static void on_warn(void *ctx, const char *where, const char *message)
{
	struct warnings *w = ctx;
	w->n++;
	snprintf(w->last, sizeof w->last, "%s: %s", where, message);
}

static void test_bad_records_warn(void **state)
{
	struct fixture *f = *state;
	pw_feed_import *imp = begin(f);
	struct warnings w = {0, {0}};
	pw_feed_import_set_callbacks(imp, on_warn, NULL, &w);
	put(imp, adv("osv", "", aff_b, 1, NULL, 0));
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.last, "no advisory id"));
	const pw_affected bad[] = {{"almalinux:8", "bash", false, PW_FIX_FIXED, NULL, NULL},
				   FIX("almalinux:8", "zsh", "5.5-1"),
				   {"almalinux:8", "", false, PW_FIX_FIXED, "1", NULL}};
	const char *const cves[] = {"CVE-2023-0001", "not a cve", ""};
	put(imp, adv("osv", "ALSA-2023:0009", bad, 3, cves, 3));
	assert_int_equal(w.n, 5);
	assert_string_equal(w.last, "ALSA-2023:0009: cves[2]: '' is not a CVE id; dropped");
	const pw_feed_sink *k = pw_feed_import_sink(imp);
	k->warn(k->ctx, "DSA/list:12", "no package");
	assert_int_equal(w.n, 6);
	assert_string_equal(w.last, "DSA/list:12: no package");
	put_kev(imp, "", "2021-01-01");
	put_epss(imp, "CVE-2020-1", 2.0, 0.5);
	assert_int_equal(w.n, 8);
	pw_import_stats st;
	commit(imp, &st);
	assert_int_equal(st.warnings, 8);
	assert_int_equal(st.advisories, 1);
	assert_int_equal(st.kev, 0);
	assert_int_equal(st.epss, 0);
	struct seen s;
	assert_string_equal(read_eco(f, 1, "almalinux:8", NULL, 0, &s),
			    "osv/ALSA-2023:0009[zsh=5.5-1]{CVE-2023-0001..1}");
}

static void test_duplicates_in_one_import(void **state)
{
	struct fixture *f = *state;
	pw_feed_import *imp = begin(f);
	struct warnings w = {0, {0}};
	pw_feed_import_set_callbacks(imp, on_warn, NULL, &w);
	put(imp, adv("osv", "ALSA-2023:0002", aff_b, 1, NULL, 0));
	put(imp, adv("osv", "ALSA-2023:0002", aff_b, 1, NULL, 0));
	assert_int_equal(w.n, 0);
	const pw_affected other[] = {FIX("almalinux:8", "bash", "9")};
	put(imp, adv("osv", "ALSA-2023:0002", other, 1, NULL, 0));
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.last, "appears twice"));
	pw_import_stats st;
	commit(imp, &st);
	assert_int_equal(st.added, 1);
	assert_int_equal(st.unchanged, 1);
	struct seen s;
	assert_string_equal(read_eco(f, 1, "almalinux:8", NULL, 0, &s),
			    "osv/ALSA-2023:0002[bash=9]");
	pw_snapshot_info info;
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_snapshot_info(f->s, 1, &info, &err), PW_OK);
	assert_int_equal(info.advisories, 1);
	assert_int_equal(info.affected, 1);
}

static void test_abort_rolls_back(void **state)
{
	struct fixture *f = *state;
	import_base(f, NULL);
	pw_feed_import *imp = begin(f);
	const pw_affected newer[] = {FIX("almalinux:8", "bash", "99")};
	put(imp, adv("osv", "ALSA-2023:0002", newer, 1, NULL, 0));
	put_kev(imp, "CVE-2021-0001", "2021-02-01");
	/* A file that fails halfway through the import: the caller aborts. */
	pw_error err = PW_ERROR_INIT;
	const char junk[] = "\x01\x02 definitely not a feed";
	assert_int_not_equal(pw_feed_import_buffer(imp, junk, sizeof junk - 1, "junk.bin", &err),
			     PW_OK);
	assert_non_null(strstr(err.msg, "junk.bin"));
	pw_feed_import_abort(imp);

	int64_t latest;
	assert_int_equal(pw_feedstore_latest(f->s, &latest, &err), PW_OK);
	assert_int_equal(latest, 1);
	struct seen s;
	const char *bash[] = {"bash"};
	assert_string_equal(read_eco(f, 1, "almalinux:8", bash, 1, &s),
			    "osv/ALSA-2023:0002[bash=4.4.20-4.el8]");
	assert_int_equal(count_rows(f, "kev"), 0);
	/* The next import takes the next number, as if nothing happened. */
	assert_int_equal(import_base(f, NULL), 2);
}

static void test_reader_isolation(void **state)
{
	struct fixture *f = *state;
	import_base(f, NULL);
	pw_feed_import *imp = begin(f);
	pw_feed_import_replace_source(imp, true);
	put(imp, adv("osv", "ALSA-2023:0003", aff_b, 1, NULL, 0));
	/* Mid-import (write lock held), another handle opens and still sees
	 * snapshot 1 and all of it. The writer is this thread: a reader that
	 * waited for its lock would wait until the busy timeout and fail, so
	 * the open succeeding shows it did not wait (no clock needed). */
	pw_feedstore *reader;
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_open(f->url, &reader, &err), PW_OK);
	int64_t latest;
	assert_int_equal(pw_feedstore_latest(reader, &latest, &err), PW_OK);
	assert_int_equal(latest, 1);
	struct seen s;
	memset(&s, 0, sizeof s);
	assert_int_equal(pw_feedstore_each_advisory(reader, 1, "almalinux:8", NULL, 0, record, &s,
						    &err),
			 PW_OK);
	assert_int_equal(s.n, 2);
	/* A second import on this handle is refused while one is open. */
	pw_feed_import *second;
	assert_int_equal(pw_feed_import_begin(f->s, "x", &second, &err), PW_ERR_INVALID);
	assert_int_equal(commit(imp, NULL), 2);
	assert_int_equal(pw_feedstore_latest(reader, &latest, &err), PW_OK);
	assert_int_equal(latest, 2);
	pw_feedstore_close(reader);
}

/* SQLite's own check of the file; PostgreSQL keeps no file of ours. */
static bool integrity_ok(struct fixture *f)
{
	if (g_kind != PW_DB_SQLITE)
		return true;
	pw_db *db = NULL;
	pw_stmt *st = NULL;
	bool row = false;
	pw_error err = PW_ERROR_INIT;
	if (pw_db_open(f->url, &db, &err) ||
	    pw_db_prepare(db, "PRAGMA integrity_check", &st, &err) || pw_stmt_step(st, &row, &err))
		fail_msg("integrity_check: %s", pw_error_text(&err));
	bool ok = row && strcmp(pw_stmt_text(st, 0), "ok") == 0;
	pw_db_close(db);
	return ok;
}

/* The child imports without end; the parent kills it mid-import. */
static void crash_child(const char *path, const char *wal, int ready_fd)
{
	pw_feedstore *s;
	pw_error err = PW_ERROR_INIT;
	pw_feed_import *imp;
	if (pw_feedstore_open(path, &s, &err) || pw_feed_import_begin(s, "doomed", &imp, &err))
		_exit(3);
	pw_feed_import_replace_source(imp, true);
	const pw_feed_sink *k = pw_feed_import_sink(imp);
	char id[64];
	for (long i = 0;; i++) {
		snprintf(id, sizeof id, "ALSA-9999:%ld", i);
		pw_affected a[4] = {FIX("almalinux:8", "pkg-a", "1"),
				    FIX("almalinux:8", "pkg-b", "2"),
				    FIX("almalinux:9", "pkg-c", "3"),
				    FIX("almalinux:9", "pkg-d", "4")};
		pw_advisory x = adv("osv", id, a, 4, cves_a, 2);
		if (k->advisory(k->ctx, &x, &err))
			_exit(4);
		/* Killed only once the import has written rows: on SQLite
		 * spilled pages into the WAL, the state a crash must survive;
		 * on PostgreSQL sent batches the server holds uncommitted. */
		struct stat st;
		bool written = g_kind == PW_DB_SQLITE ? stat(wal, &st) == 0 && st.st_size > 0
						      : i >= 2000;
		if (i % 1000 == 0 && written && ready_fd >= 0) {
			if (write(ready_fd, "x", 1) != 1)
				_exit(5);
			ready_fd = -1;
		}
		if (i > 2000000)
			_exit(6);
	}
}

static void test_crash_mid_import(void **state)
{
	struct fixture *f = *state;
	import_base(f, NULL);
	char wal[160];
	snprintf(wal, sizeof wal, "%s-wal", f->path);
	pw_feedstore_close(f->s);
	f->s = NULL;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		crash_child(f->url, wal, fds[1]);
	}
	close(fds[1]);
	char c;
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	assert_int_equal(kill(pid, SIGKILL), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* Closing the last handle checkpointed and removed the WAL, so what
	 * is there now are the dead import's uncommitted pages. */
	struct stat wst;
	if (g_kind == PW_DB_SQLITE) {
		assert_int_equal(stat(wal, &wst), 0);
		assert_true(wst.st_size > 0);
	}

	assert_true(integrity_ok(f));
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_open(f->url, &f->s, &err), PW_OK);
	int64_t latest;
	assert_int_equal(pw_feedstore_latest(f->s, &latest, &err), PW_OK);
	assert_int_equal(latest, 1);
	struct seen s;
	read_eco(f, 1, "almalinux:8", NULL, 0, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(count_rows(f, "advisory"), 3);
	assert_int_equal(import_base(f, NULL), 2);
	assert_true(integrity_ok(f));
}

static void test_sources(void **state)
{
	struct fixture *f = *state;
	pw_source_state st;
	bool found = true;
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_source_get(f->s, "debian-dsa", &st, &found, &err), PW_OK);
	assert_false(found);
	pw_source_state a = {"debian-dsa",
			     "https://example.org/DSA/list",
			     "\"abc\"",
			     "Mon, 01 Jan 2024 00:00:00 GMT",
			     "2024-01-01T00:00:00Z",
			     "200 imported",
			     3};
	pw_source_state b = {"alpine-main",
			     "https://example.org/main.json",
			     "",
			     "",
			     "2024-01-02T00:00:00Z",
			     "error: timeout",
			     0};
	assert_int_equal(pw_feedstore_source_put(f->s, &a, &err), PW_OK);
	assert_int_equal(pw_feedstore_source_put(f->s, &b, &err), PW_OK);
	snprintf(a.last_status, sizeof a.last_status, "304 not modified");
	a.last_snapshot = 4;
	assert_int_equal(pw_feedstore_source_put(f->s, &a, &err), PW_OK);
	assert_int_equal(pw_feedstore_source_get(f->s, "debian-dsa", &st, &found, &err), PW_OK);
	assert_true(found);
	assert_string_equal(st.etag, "\"abc\"");
	assert_string_equal(st.last_status, "304 not modified");
	assert_int_equal(st.last_snapshot, 4);
	pw_source_state *list;
	size_t n;
	assert_int_equal(pw_feedstore_sources(f->s, &list, &n, &err), PW_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "alpine-main");
	assert_string_equal(list[1].name, "debian-dsa");
	free(list);
	pw_source_state nameless;
	memset(&nameless, 0, sizeof nameless);
	assert_int_equal(pw_feedstore_source_put(f->s, &nameless, &err), PW_ERR_INVALID);
}

static void test_snapshot_list(void **state)
{
	struct fixture *f = *state;
	import_base(f, NULL);
	pw_feed_import *imp = begin(f);
	assert_int_equal(commit(imp, NULL), 2); /* empty imports are recorded too */
	pw_snapshot_info *list;
	size_t n;
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_snapshots(f->s, &list, &n, &err), PW_OK);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, 1);
	assert_int_equal(list[1].id, 2);
	assert_int_equal(list[1].advisories, 3);
	free(list);
}

/* ---- the walker, with content no parser claims ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_write_file_atomic(path, text, strlen(text), 0644, &err), PW_OK);
}

static void write_tar_gz(const char *path, const char *member, const char *text)
{
	struct archive *a = archive_write_new();
	assert_non_null(a);
	archive_write_add_filter_gzip(a);
	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, member);
	archive_entry_set_size(e, (la_int64_t)strlen(text));
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, text, strlen(text)), (la_ssize_t)strlen(text));
	archive_entry_free(e);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static void test_walker_unknown_formats(void **state)
{
	struct fixture *f = *state;
	char tree[160], sub[192], tgz[192];
	snprintf(tree, sizeof tree, "%s/tree", f->dir);
	snprintf(sub, sizeof sub, "%s/sub", tree);
	assert_int_equal(mkdir(tree, 0755), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	write_file(tree, "README", "nothing to see\n");
	write_file(tree, ".hidden", "skipped without a word\n");
	write_file(sub, "notes.txt", "still nothing\n");
	snprintf(tgz, sizeof tgz, "%s/pack.tar.gz", tree);
	write_tar_gz(tgz, "inside/readme.txt", "plain words\n");

	pw_feed_import *imp = begin(f);
	struct warnings w = {0, {0}};
	pw_feed_import_set_callbacks(imp, on_warn, NULL, &w);
	pw_error err = PW_ERROR_INIT;
	assert_int_equal(pw_feed_import_path(imp, tree, &err), PW_OK);
	/* Sorted walk: README, pack.tar.gz (one member), sub/notes.txt. */
	assert_int_equal(w.n, 3);
	assert_non_null(strstr(w.last, "sub/notes.txt: format not recognised"));
	pw_import_stats st;
	commit(imp, &st);
	assert_int_equal(st.files, 3);
	assert_int_equal(st.warnings, 3);

	/* Named explicitly, an unknown file is an error. */
	char readme[192];
	snprintf(readme, sizeof readme, "%s/README", tree);
	imp = begin(f);
	assert_int_equal(pw_feed_import_path(imp, readme, &err), PW_ERR_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "README: not a feed format"));
	pw_feed_import_abort(imp);

	char missing[192];
	snprintf(missing, sizeof missing, "%s/nope", tree);
	const char *paths[] = {tree, missing};
	imp = begin(f);
	assert_int_equal(pw_feed_import_paths(imp, paths, 2, &err), PW_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "nope"));
	pw_feed_import_abort(imp);

	/* A truncated archive is an error naming it. */
	pw_buf data = PW_BUF_INIT;
	assert_int_equal(pw_read_file(tgz, &data, 0, &err), PW_OK);
	char cut[192];
	snprintf(cut, sizeof cut, "%s/cut.tar.gz", f->dir);
	assert_int_equal(pw_write_file_atomic(cut, data.data, data.len / 2, 0644, &err), PW_OK);
	pw_buf_release(&data);
	imp = begin(f);
	assert_int_not_equal(pw_feed_import_path(imp, cut, &err), PW_OK);
	assert_non_null(strstr(err.msg, "cut.tar.gz"));
	pw_feed_import_abort(imp);
	int64_t latest;
	assert_int_equal(pw_feedstore_latest(f->s, &latest, &err), PW_OK);
	assert_int_equal(latest, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_db, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_and_reimport, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fields_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upsert_and_visibility, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_retires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_scoped_by_ecosystem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_package_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_independent_of_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_error_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ecosystem_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kev_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_epss_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_records_warn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_in_one_import, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_isolation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_mid_import, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walker_unknown_formats, setup, teardown),
	};
	return srv_run("feedstore", tests, sizeof tests / sizeof *tests);
}
