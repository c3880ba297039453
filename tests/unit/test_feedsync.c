/* feedsync without a network: how a downloaded file is imported (plain,
 * gzip, zip, tar.gz, with and without a format hint) and how a bad
 * configuration is refused before anything is fetched. The transfers
 * themselves are covered by test_fetch and tests/scripts/feed_sync.sh.
 * The stores are SQLite files and, when PW_TEST_PG_URL is set
 * (tests/scripts/feedstore_postgres.sh), the PostgreSQL test database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "patchwarden/config.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/feedsync.h"
#include "patchwarden/fileio.h"
#include "servertest.h"

static char dir[256];

static const char epss_csv[] = "#model_version:v2023.03.01,score_date:2025-02-20T00:00:00+0000\n"
			       "cve,epss,percentile\n"
			       "CVE-1999-0001,0.00383,0.73075\n"
			       "CVE-1999-0002,0.01328,0.85996\n"
			       "CVE-1999-0003,0.04409,0.92440\n";

static void path(char *out, size_t cap, const char *rel)
{
	snprintf(out, cap, "%s/%s", dir, rel);
}

/* A fresh, empty store: a file in the test directory or the PostgreSQL
 * test database emptied. */
static void fresh_store(char *out, size_t cap, const char *rel)
{
	if (g_kind == PW_DB_SQLITE) {
		path(out, cap, rel);
		unlink(out);
		return;
	}
	snprintf(out, cap, "%s", g_pg_url);
	pw_db *db = NULL;
	pw_error e = PW_ERROR_INIT;
	if (pw_db_open(out, &db, &e) ||
	    pw_db_exec(db, "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public", &e))
		fail_msg("emptying the test database: %s", pw_error_text(&e));
	pw_db_close(db);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/pw-test-feedsync-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_plain(const char *rel, const char *data, size_t len)
{
	char p[512];
	path(p, sizeof p, rel);
	assert_int_equal(pw_write_file_atomic(p, data, len, 0644, NULL), PW_OK);
}

static void write_gzip(const char *rel, const char *data, size_t len)
{
	char p[512];
	path(p, sizeof p, rel);
	gzFile g = gzopen(p, "wb");
	assert_non_null(g);
	assert_int_equal(gzwrite(g, data, (unsigned)len), (int)len);
	assert_int_equal(gzclose(g), Z_OK);
}

/* A zip (or, with `tgz`, a gzip tar) holding one member. */
static void write_archive(const char *rel, bool tgz, const char *member, const char *data)
{
	char p[512];
	path(p, sizeof p, rel);
	struct archive *a = archive_write_new();
	if (tgz) {
		archive_write_add_filter_gzip(a);
		archive_write_set_format_pax_restricted(a);
	} else {
		archive_write_set_format_zip(a);
	}
	assert_int_equal(archive_write_open_filename(a, p), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, member);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)strlen(data));
	archive_write_header(a, e);
	archive_write_data(a, data, strlen(data));
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
}

/* Imports one file into a fresh store; returns the import's result. */
static pw_err import_one(const char *rel, pw_feed_format hint, pw_import_stats *st, pw_error *e)
{
	char store_path[512], p[512];
	fresh_store(store_path, sizeof store_path, "store.db");
	path(p, sizeof p, rel);
	pw_feedstore *s = NULL;
	assert_int_equal(pw_feedstore_open(store_path, &s, e), PW_OK);
	pw_feed_import *imp = NULL;
	assert_int_equal(pw_feed_import_begin(s, "test", &imp, e), PW_OK);
	pw_err rc = pw_sync_import_file(imp, p, rel, hint, e);
	int64_t snap = 0;
	memset(st, 0, sizeof *st);
	if (rc == PW_OK)
		rc = pw_feed_import_commit(imp, &snap, st, e);
	else
		pw_feed_import_abort(imp);
	pw_feedstore_close(s);
	return rc;
}

static void test_plain_and_gzip(void **state)
{
	(void)state;
	pw_import_stats st;
	pw_error e = PW_ERROR_INIT;
	write_plain("epss.csv", epss_csv, strlen(epss_csv));
	assert_int_equal(import_one("epss.csv", PW_FEED_UNKNOWN, &st, &e), PW_OK);
	assert_int_equal(st.epss, 3);
	assert_int_equal(import_one("epss.csv", PW_FEED_EPSS, &st, &e), PW_OK);
	assert_int_equal(st.epss, 3);

	write_gzip("epss.csv.gz", epss_csv, strlen(epss_csv));
	assert_int_equal(import_one("epss.csv.gz", PW_FEED_UNKNOWN, &st, &e), PW_OK);
	assert_int_equal(st.epss, 3);
	assert_int_equal(import_one("epss.csv.gz", PW_FEED_EPSS, &st, &e), PW_OK);
	assert_int_equal(st.epss, 3);
}

static void test_damaged_gzip(void **state)
{
	(void)state;
	char p[512];
	path(p, sizeof p, "epss.csv.gz");
	pw_buf gz = PW_BUF_INIT;
	assert_int_equal(pw_read_file(p, &gz, 0, NULL), PW_OK);
	write_plain("cut.csv.gz", gz.data, gz.len / 2);
	pw_import_stats st;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(import_one("cut.csv.gz", PW_FEED_EPSS, &st, &e), PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, "cut.csv.gz: truncated gzip data"));
	gz.data[12] ^= 0x55;
	write_plain("bad.csv.gz", gz.data, gz.len);
	assert_int_equal(import_one("bad.csv.gz", PW_FEED_EPSS, &st, &e), PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, "bad.csv.gz: damaged gzip data"));
	pw_buf_release(&gz);
}

static void test_archives(void **state)
{
	(void)state;
	pw_import_stats st;
	pw_error e = PW_ERROR_INIT;
	write_archive("epss.zip", false, "epss.csv", epss_csv);
	assert_int_equal(import_one("epss.zip", PW_FEED_UNKNOWN, &st, &e), PW_OK);
	assert_int_equal(st.epss, 3);
	assert_int_equal(import_one("epss.zip", PW_FEED_EPSS, &st, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "format = epss, but the file is a zip archive"));

	write_archive("epss.tar.gz", true, "epss.csv", epss_csv);
	assert_int_equal(import_one("epss.tar.gz", PW_FEED_UNKNOWN, &st, &e), PW_OK);
	assert_int_equal(st.epss, 3);
	assert_int_equal(import_one("epss.tar.gz", PW_FEED_EPSS, &st, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "tar archive"));
}

#define OSV_REC(id, modified)                                                                      \
	"{\"id\":\"" id "\",\"modified\":\"" modified "\",\"affected\":[{\"package\":"             \
	"{\"ecosystem\":\"AlmaLinux:9\",\"name\":\"zlib\"},\"ranges\":[{\"type\":\"ECOSYSTEM\","   \
	"\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1.2.11-40.el9\"}]}]}]}"

/* One malformed record in a source's archive is skipped and counted; it
 * does not cost the source its other records. */
static void test_bad_member_skipped(void **state)
{
	(void)state;
	static const char *const names[] = {"ALSA-1.json", "ALSA-2.json", "ALSA-3.json",
					    "ALSA-4.json"};
	static const char good[] = OSV_REC("ALSA-1", "2024-01-01T00:00:00Z");
	static const char bad_modified[] = OSV_REC("ALSA-2", "yesterday");
	static const char nul_id[] = OSV_REC("ALSA-3\\u0000x", "2024-01-01T00:00:00Z");
	const char *datas[] = {good, bad_modified, nul_id, good};
	char p[512];
	path(p, sizeof p, "alma.zip");
	struct archive *a = archive_write_new();
	archive_write_set_format_zip(a);
	assert_int_equal(archive_write_open_filename(a, p), ARCHIVE_OK);
	for (size_t i = 0; i < 4; i++) {
		/* The last member is the first cut short: a truncated file. */
		size_t len = i == 3 ? strlen(datas[i]) / 2 : strlen(datas[i]);
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, names[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)len);
		archive_write_header(a, e);
		archive_write_data(a, datas[i], len);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	pw_import_stats st;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(import_one("alma.zip", PW_FEED_UNKNOWN, &st, &e), PW_OK);
	assert_int_equal(st.files, 4);
	assert_int_equal(st.advisories, 1);
	assert_int_equal(st.skipped, 3);
	assert_int_equal(st.warnings, 3);
}

static void test_wrong_hint_and_unknown_content(void **state)
{
	(void)state;
	pw_import_stats st;
	pw_error e = PW_ERROR_INIT;
	/* An HTML error page served with 200 is no feed. */
	const char html[] = "<html><body>Please log in to the proxy</body></html>\n";
	write_plain("login.html", html, strlen(html));
	assert_int_not_equal(import_one("login.html", PW_FEED_UNKNOWN, &st, &e), PW_OK);
	assert_non_null(strstr(e.msg, "login.html"));
	assert_int_not_equal(import_one("login.html", PW_FEED_KEV, &st, &e), PW_OK);
	assert_int_equal(import_one("missing.json", PW_FEED_UNKNOWN, &st, &e), PW_ERR_NOTFOUND);
}

/* ---- configuration errors, caught before any transfer ---- */

static pw_err sync_with(pw_config *c, const char *const *only, size_t n_only, pw_error *e)
{
	char store_path[512], cache[512];
	fresh_store(store_path, sizeof store_path, "sync.db");
	path(cache, sizeof cache, "cache");
	pw_feedstore *s = NULL;
	assert_int_equal(pw_feedstore_open(store_path, &s, e), PW_OK);
	pw_sync_options o = {.config = c,
			     .config_path = "test.conf",
			     .cache_dir = cache,
			     .only = only,
			     .n_only = n_only};
	pw_sync_summary sum = PW_SYNC_SUMMARY_INIT;
	pw_err rc = pw_feed_sync(s, &o, &sum, e);
	pw_sync_summary_release(&sum);
	pw_feedstore_close(s);
	pw_config_free(c);
	return rc;
}

static pw_config *one_source(const char *name, const char *url)
{
	pw_config *c = pw_config_new();
	char section[128];
	snprintf(section, sizeof section, "source %s", name);
	if (url)
		pw_config_set(c, section, "url", url);
	pw_config_set(c, section, "format", "kev");
	return c;
}

static void expect(pw_config *c, const char *only, pw_err code, const char *msg)
{
	pw_error e = PW_ERROR_INIT;
	const char *list[1] = {only};
	pw_err rc = sync_with(c, list, only ? 1 : 0, &e);
	if (rc != code || !strstr(e.msg, msg))
		fail_msg("got %d '%s', want %d '%s'", rc, e.msg, code, msg);
}

static void test_config_errors(void **state)
{
	(void)state;
	const char *u = "http://127.0.0.1:9/kev.json";
	expect(pw_config_new(), NULL, PW_ERR_NOTFOUND, "no enabled feed source");
	expect(one_source("kev", NULL), NULL, PW_ERR_PARSE, "test.conf: [source kev] has no url");
	expect(one_source("no good", u), NULL, PW_ERR_PARSE, "[source no good]: a source name is");
	expect(one_source(".hidden", u), NULL, PW_ERR_PARSE, "does not start with '.'");
	expect(one_source("kev", u), "epss", PW_ERR_NOTFOUND,
	       "no enabled source named 'epss' in the configuration (enabled: kev)");

	pw_config *c = one_source("kev", u);
	pw_config_set(c, "source kev", "format", "rss");
	expect(c, NULL, PW_ERR_PARSE, "format = 'rss' is not a feed format; use one of osv, ");
	c = one_source("kev", u);
	pw_config_set(c, "source kev", "enabled", "no");
	expect(c, "kev", PW_ERR_INVALID, "source kev is disabled");
	c = one_source("kev", u);
	pw_config_set(c, "source kev", "max_size", "12Q");
	expect(c, NULL, PW_ERR_PARSE, "[source kev] max_size = '12Q' is not a size");
	c = one_source("kev", u);
	pw_config_set(c, "sync", "max_size", "-5M");
	expect(c, NULL, PW_ERR_PARSE, "[sync] max_size = '-5M'");
	c = one_source("kev", u);
	pw_config_set(c, "sync", "retries", "99");
	expect(c, NULL, PW_ERR_PARSE, "[sync] retries = 99");
	c = one_source("kev", u);
	pw_config_set(c, "sync", "timeout", "0");
	expect(c, NULL, PW_ERR_PARSE, "[sync] timeout = 0");
	c = one_source("kev", u);
	pw_config_set(c, "sync", "retry_delay", "soon");
	expect(c, NULL, PW_ERR_PARSE, "retry_delay");

	char cache[512];
	path(cache, sizeof cache, "cache");
	struct stat st;
	assert_int_equal(stat(cache, &st), -1); /* refused before touching anything */
}

static void test_shipped_list_is_overridden_key_by_key(void **state)
{
	(void)state;
	/* The shipped list enables nothing we can reach; the operator turns
	 * one source off and adds a broken one: the error names the operator's
	 * file, and the disabled shipped source is not in the enabled list. */
	char store_path[512], cache[512];
	fresh_store(store_path, sizeof store_path, "ship.db");
	path(cache, sizeof cache, "shipcache");
	pw_config *shipped = pw_config_new();
	pw_config_set(shipped, "source a", "url", "http://127.0.0.1:9/a");
	pw_config_set(shipped, "source b", "url", "http://127.0.0.1:9/b");
	pw_config *mine = pw_config_new();
	pw_config_set(mine, "source a", "enabled", "no");
	pw_config_set(mine, "source b", "max_size", "10M");
	pw_config *missing = pw_config_new();
	pw_feedstore *s = NULL;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_feedstore_open(store_path, &s, &e), PW_OK);
	const char *only[] = {"zzz"};
	pw_sync_options o = {.config = mine,
			     .config_path = "mine.conf",
			     .shipped = shipped,
			     .shipped_path = "sources.conf",
			     .cache_dir = cache,
			     .only = only,
			     .n_only = 1};
	pw_sync_summary sum = PW_SYNC_SUMMARY_INIT;
	assert_int_equal(pw_feed_sync(s, &o, &sum, &e), PW_ERR_NOTFOUND);
	assert_non_null(strstr(e.msg, "(enabled: b)"));
	pw_config_set(mine, "source b", "max_size", "lots");
	o.n_only = 0;
	assert_int_equal(pw_feed_sync(s, &o, &sum, &e), PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, "mine.conf: [source b] max_size = 'lots'"));
	pw_config_set(missing, "source c", "format", "kev");
	o.config = missing;
	o.config_path = "other.conf";
	assert_int_equal(pw_feed_sync(s, &o, &sum, &e), PW_ERR_PARSE);
	pw_sync_summary_release(&sum);
	pw_feedstore_close(s);
	pw_config_free(shipped);
	pw_config_free(mine);
	pw_config_free(missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_gzip),
		cmocka_unit_test(test_damaged_gzip),
		cmocka_unit_test(test_archives),
		cmocka_unit_test(test_bad_member_skipped),
		cmocka_unit_test(test_wrong_hint_and_unknown_content),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_shipped_list_is_overridden_key_by_key),
	};
	/* One directory for both backends: a test reads what the one before
	 * it wrote. */
	if (setup(NULL))
		return 1;
	int failed = srv_run("feedsync", tests, sizeof tests / sizeof *tests);
	return teardown(NULL) ? 1 : failed;
}
