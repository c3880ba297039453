/* Findings recomputed against a feed store (findings.h): a real store
 * imported from share/sample/feeds, the sample inventories stored as
 * agents send them, the same counts as `patchwarden scan` of each
 * inventory, the snapshot of record, the audit event, the cross-node
 * lock and the [feeds] configuration; on SQLite and PostgreSQL. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "servertest.h"

#include "patchwarden/buf.h"
#include "patchwarden/clock.h"
#include "patchwarden/coverage.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/fileio.h"
#include "patchwarden/findings.h"
#include "patchwarden/hosts.h"
#include "patchwarden/host_findings.h"
#include "patchwarden/inventory.h"
#include "patchwarden/matcher.h"
#include "patchwarden/scan.h"
#include "patchwarden/summary.h"

#define ACTOR "cli:test"

/* The store is built once per process: imports are the slow part. */
static char g_store_dir[64];
static char g_store[128];

static const char *source_dir(void)
{
	const char *src = getenv("PW_SOURCE_DIR");
	if (!src || !*src)
		fail_msg("PW_SOURCE_DIR is not set; run through ctest");
	return src;
}

static void sample_path(const char *rel, char *out, size_t size)
{
	snprintf(out, size, "%s/share/sample/%s", source_dir(), rel);
}

/* One more snapshot of the sample feeds in the store at `path` (NULL:
 * the feed tables of `db`); its id. */
static int64_t import_samples_into(const char *path, pw_db *db)
{
	pw_error e = PW_ERROR_INIT;
	pw_feedstore *s = NULL;
	pw_feed_import *imp = NULL;
	int64_t snap = 0;
	char feeds[512];
	sample_path("feeds", feeds, sizeof feeds);
	if ((path ? pw_feedstore_open(path, &s, &e) : pw_feedstore_open_db(db, &s, &e)) ||
	    pw_feed_import_begin(s, "test", &imp, &e) || pw_feed_import_path(imp, feeds, &e) ||
	    pw_feed_import_commit(imp, &snap, NULL, &e))
		fail_msg("importing %s into %s: %s", feeds, path ? path : "the server database",
			 pw_error_text(&e));
	pw_feedstore_close(s);
	return snap;
}

static int64_t import_samples(const char *path)
{
	return import_samples_into(path, NULL);
}

static const char *store_path(void)
{
	if (!g_store[0]) {
		snprintf(g_store_dir, sizeof g_store_dir, "/tmp/pw-findings-XXXXXX");
		assert_non_null(mkdtemp(g_store_dir));
		snprintf(g_store, sizeof g_store, "%s/feeds.db", g_store_dir);
		import_samples(g_store);
	}
	return g_store;
}

static pw_feedstore *open_store(struct srv *f, const char *path)
{
	pw_feedstore *s = NULL;
	CHECK(f, pw_findings_store_open(path, NULL, &s, &f->e));
	return s;
}

static char *read_sample(const char *rel)
{
	char path[512];
	sample_path(rel, path, sizeof path);
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	if (pw_read_file(path, &b, 64 << 20, &e))
		fail_msg("%s", pw_error_text(&e));
	return pw_buf_detach(&b);
}

/* Stores `json` as an agent's check-in would and gives it to `host`. */
static void give_inventory(struct srv *f, const char *host, const char *hash, const char *json)
{
	pw_stmt *st = NULL;
	CHECK(f, pw_db_prepare(f->db,
			       "INSERT INTO inventories (hash, json, first_seen) VALUES (?, ?, 'x')"
			       " ON CONFLICT (hash) DO NOTHING",
			       &st, &f->e));
	assert_int_equal(pw_stmt_bind_text(st, 1, hash), PW_OK);
	assert_int_equal(pw_stmt_bind_text(st, 2, json), PW_OK);
	CHECK(f, pw_stmt_exec(st, &f->e));
	CHECK(f, pw_db_prepare(f->db, "UPDATE hosts SET inventory_hash = ? WHERE hostname = ?", &st,
			       &f->e));
	assert_int_equal(pw_stmt_bind_text(st, 1, hash), PW_OK);
	assert_int_equal(pw_stmt_bind_text(st, 2, host), PW_OK);
	CHECK(f, pw_stmt_exec(st, &f->e));
}

static int64_t add_host(struct srv *f, const char *name, const char *exposure)
{
	int64_t id = 0;
	pw_host_assign a = {PW_HF_EXPOSURE, exposure};
	CHECK(f, pw_host_create(f->db, ACTOR, name, &a, exposure ? 1 : 0, &id, &f->e));
	return id;
}

/* What `patchwarden scan` finds in a sample inventory, per priority
 * (pw_priority order: low first). */
static void scan_counts(struct srv *f, const char *rel, pw_exposure exposure,
			size_t out[PW_PRIO__COUNT])
{
	char *json = read_sample(rel);
	cJSON *j = cJSON_Parse(json);
	pw_inventory inv = PW_INVENTORY_INIT;
	CHECK(f, pw_inventory_from_json(&inv, j, &f->e));
	cJSON_Delete(j);
	free(json);
	pw_feedstore *s = open_store(f, store_path());
	pw_advindex *idx = NULL;
	CHECK(f, pw_advindex_new(&idx, &f->e));
	int64_t snap = 0;
	CHECK(f, pw_feedstore_latest(s, &snap, &f->e));
	pw_policy policy;
	pw_policy_defaults(&policy);
	pw_scan_host host = {exposure, NULL};
	pw_scan_result r = PW_SCAN_RESULT_INIT;
	CHECK(f, pw_scan_from_store(idx, s, snap, &inv, &host, &policy, &r, &f->e));
	memcpy(out, r.counts, sizeof r.counts);
	pw_scan_result_release(&r);
	pw_advindex_free(idx);
	pw_feedstore_close(s);
	pw_inventory_release(&inv);
}

static void host_counts(struct srv *f, int64_t id, int64_t out[PW_HOST_PRIO__COUNT])
{
	CHECK(f, pw_host_findings_count(f->db, id, out, &f->e));
}

/* Host priorities run most urgent first, the scan's least urgent first. */
static void same_counts(const int64_t host[PW_HOST_PRIO__COUNT], const size_t scan[PW_PRIO__COUNT])
{
	assert_int_equal(host[PW_HOST_PRIO_EMERGENCY], scan[PW_PRIO_EMERGENCY]);
	assert_int_equal(host[PW_HOST_PRIO_HIGH], scan[PW_PRIO_HIGH]);
	assert_int_equal(host[PW_HOST_PRIO_NORMAL], scan[PW_PRIO_NORMAL]);
	assert_int_equal(host[PW_HOST_PRIO_LOW], scan[PW_PRIO_LOW]);
}

static size_t total(const size_t c[PW_PRIO__COUNT])
{
	return c[0] + c[1] + c[2] + c[3];
}

static const char fedora[] =
	"{\"os\":{\"id\":\"fedora\",\"version_id\":\"39\"},\"scheme\":\"rpm\",\"packages\":[]}";
static const char plan9[] =
	"{\"os\":{\"id\":\"plan9\",\"version_id\":\"4\"},\"scheme\":\"rpm\",\"packages\":[]}";

/* A fleet of two Debian hosts sharing an inventory, an internet-facing
 * AlmaLinux host, a Fedora host the feeds do not cover and one without
 * an inventory: each distinct inventory is scanned once, the counts are
 * those of `patchwarden scan`, the Fedora host is skipped. */
static void test_recompute_fleet(void **state)
{
	struct srv *f = *state;
	char *deb = read_sample("inventories/debian10-web.json");
	char *alma = read_sample("inventories/alma8-app.json");
	int64_t web1 = add_host(f, "web1", NULL), web2 = add_host(f, "web2", NULL);
	int64_t app1 = add_host(f, "app1", "internet");
	int64_t fed1 = add_host(f, "fed1", NULL);
	add_host(f, "new1", NULL);
	give_inventory(f, "web1", "deb", deb);
	give_inventory(f, "web2", "deb", deb);
	give_inventory(f, "app1", "alma", alma);
	give_inventory(f, "fed1", "fed", fedora);
	free(deb);
	free(alma);

	pw_feedstore *s = open_store(f, store_path());
	int64_t latest = 0;
	CHECK(f, pw_feedstore_latest(s, &latest, &f->e));
	int64_t recorded = -1;
	CHECK(f, pw_findings_snapshot(f->db, &recorded, &f->e));
	assert_int_equal(recorded, 0);

	pw_policy policy;
	pw_policy_defaults(&policy);
	pw_findings_stats st;
	CHECK(f, pw_findings_recompute(f->db, s, 0, &policy, ACTOR, &st, &f->e));
	assert_true(st.ran);
	assert_int_equal(st.snapshot, latest);
	assert_int_equal(st.hosts, 3);
	assert_int_equal(st.inventories, 2);
	assert_int_equal(st.skipped, 1);
	assert_true(st.seconds >= 0);

	size_t d[PW_PRIO__COUNT], a[PW_PRIO__COUNT];
	scan_counts(f, "inventories/debian10-web.json", PW_EXPOSURE_INTERNAL, d);
	scan_counts(f, "inventories/alma8-app.json", PW_EXPOSURE_INTERNET, a);
	assert_true(total(d) > 0 && total(a) > 0);
	assert_true(a[PW_PRIO_EMERGENCY] > 0); /* KEV and EPSS reach the priorities */
	int64_t c[PW_HOST_PRIO__COUNT];
	host_counts(f, web1, c);
	same_counts(c, d);
	host_counts(f, web2, c);
	same_counts(c, d);
	host_counts(f, app1, c);
	same_counts(c, a);
	host_counts(f, fed1, c);
	assert_int_equal(c[0] + c[1] + c[2] + c[3], 0);
	assert_int_equal(st.delta.opened, 2 * total(d) + total(a));
	assert_int_equal(st.open[PW_HOST_PRIO_EMERGENCY],
			 2 * d[PW_PRIO_EMERGENCY] + a[PW_PRIO_EMERGENCY]);
	assert_int_equal(st.open[PW_HOST_PRIO_NORMAL], 2 * d[PW_PRIO_NORMAL] + a[PW_PRIO_NORMAL]);

	/* Recorded, and audited with the counts. */
	CHECK(f, pw_findings_snapshot(f->db, &recorded, &f->e));
	assert_int_equal(recorded, latest);
	char *ev = srv_text(f,
			    "SELECT actor || ' ' || target || ' ' || after_json FROM audit_events"
			    " WHERE action = ?",
			    "findings.recompute");
	char want[64];
	snprintf(want, sizeof want, "%s snapshot:%lld {", ACTOR, (long long)latest);
	srv_contains(ev, want);
	srv_contains(ev, "\"hosts\":3,\"inventories\":2,\"skipped\":1,");
	free(ev);

	/* Nothing new: the scheduler's step does nothing. */
	CHECK(f, pw_findings_refresh(f->db, s, &policy, ACTOR, &st, &f->e));
	assert_false(st.ran);
	pw_feedstore_close(s);

	/* A new snapshot: the step recomputes, keeping every finding. */
	int64_t next = import_samples(store_path());
	assert_int_equal(next, latest + 1);
	s = open_store(f, store_path());
	CHECK(f, pw_findings_refresh(f->db, s, &policy, ACTOR, &st, &f->e));
	assert_true(st.ran);
	assert_int_equal(st.snapshot, next);
	assert_int_equal(st.delta.opened, 0);
	assert_int_equal(st.delta.kept, 2 * total(d) + total(a));
	CHECK(f, pw_findings_snapshot(f->db, &recorded, &f->e));
	assert_int_equal(recorded, next);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM audit_events WHERE action = ?",
				 "findings.recompute"),
			 2);

	/* By hand against an older snapshot; one that does not exist. */
	CHECK(f, pw_findings_recompute(f->db, s, latest, &policy, ACTOR, &st, &f->e));
	assert_true(st.ran);
	assert_int_equal(st.snapshot, latest);
	REFUSED(f, PW_ERR_NOTFOUND, "",
		pw_findings_recompute(f->db, s, 999, &policy, ACTOR, &st, &f->e));
	CHECK(f, pw_findings_snapshot(f->db, &recorded, &f->e));
	assert_int_equal(recorded, latest);
	pw_feedstore_close(s);
}

/* One host after its inventory changed: only its packages are loaded,
 * with the same result as the fleet run and `patchwarden scan`. */
static void test_recompute_host(void **state)
{
	struct srv *f = *state;
	char *alma = read_sample("inventories/alma8-app.json");
	int64_t app1 = add_host(f, "app1", "internet");
	int64_t fed1 = add_host(f, "fed1", NULL), odd1 = add_host(f, "odd1", NULL);
	int64_t new1 = add_host(f, "new1", NULL);
	give_inventory(f, "app1", "alma", alma);
	give_inventory(f, "fed1", "fed", fedora);
	give_inventory(f, "odd1", "p9", plan9);
	free(alma);
	pw_feedstore *s = open_store(f, store_path());
	pw_policy policy;
	pw_policy_defaults(&policy);
	pw_host_findings_delta d;
	CHECK(f, pw_findings_recompute_host(f->db, s, &policy, app1, &d, &f->e));
	size_t a[PW_PRIO__COUNT];
	scan_counts(f, "inventories/alma8-app.json", PW_EXPOSURE_INTERNET, a);
	assert_int_equal(d.opened, total(a));
	int64_t c[PW_HOST_PRIO__COUNT];
	host_counts(f, app1, c);
	same_counts(c, a);
	REFUSED(f, PW_ERR_UNSUPPORTED, "has no advisories for fedora:39",
		pw_findings_recompute_host(f->db, s, &policy, fed1, &d, &f->e));
	REFUSED(f, PW_ERR_UNSUPPORTED,
		"inventory p9: ", pw_findings_recompute_host(f->db, s, &policy, odd1, &d, &f->e));
	REFUSED(f, PW_ERR_NOTFOUND, "has no inventory yet",
		pw_findings_recompute_host(f->db, s, &policy, new1, &d, &f->e));
	/* The fleet run of an unchanged fleet keeps everything. */
	pw_findings_stats st;
	CHECK(f, pw_findings_recompute(f->db, s, 0, &policy, ACTOR, &st, &f->e));
	assert_int_equal(st.delta.kept, total(a));
	assert_int_equal(st.delta.opened + st.delta.fixed, 0);
	assert_int_equal(st.skipped, 2);
	pw_feedstore_close(s);
}

/* An empty store has no snapshot to scan against; a missing one is not
 * created behind the operator's back. */
static void test_store_missing_or_empty(void **state)
{
	struct srv *f = *state;
	char path[128];
	snprintf(path, sizeof path, "%s/none.db", store_path() ? g_store_dir : "");
	pw_feedstore *s = NULL;
	REFUSED(f, PW_ERR_NOTFOUND, "feed import --store",
		pw_findings_store_open(path, NULL, &s, &f->e));
	assert_null(s);
	struct stat sb;
	assert_int_not_equal(stat(path, &sb), 0);
	CHECK(f, pw_feedstore_open(path, &s, &f->e));
	pw_feedstore_close(s);
	s = open_store(f, path);
	int64_t id = add_host(f, "app1", NULL);
	give_inventory(f, "app1", "fed", fedora);
	pw_policy policy;
	pw_policy_defaults(&policy);
	pw_findings_stats st;
	REFUSED(f, PW_ERR_NOTFOUND, "feed import",
		pw_findings_refresh(f->db, s, &policy, ACTOR, &st, &f->e));
	assert_false(st.ran);
	REFUSED(f, PW_ERR_NOTFOUND, "feed import",
		pw_findings_recompute_host(f->db, s, &policy, id, NULL, &f->e));
	pw_feedstore_close(s);
	unlink(path);
}

/* While another node holds the lock, a run does nothing. */
static void test_lock(void **state)
{
	struct srv *f = *state;
	pw_db *other = srv_open_other(f);
	bool got = false;
	CHECK(f, pw_db_try_lock(other, PW_FINDINGS_LOCK_KEY, &got, &f->e));
	assert_true(got);
	pw_feedstore *s = open_store(f, store_path());
	pw_policy policy;
	pw_policy_defaults(&policy);
	pw_findings_stats st;
	CHECK(f, pw_findings_recompute(f->db, s, 0, &policy, ACTOR, &st, &f->e));
	assert_false(st.ran);
	CHECK(f, pw_findings_refresh(f->db, s, &policy, ACTOR, &st, &f->e));
	assert_false(st.ran);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM findings_state", NULL), 0);
	CHECK(f, pw_db_unlock(other, PW_FINDINGS_LOCK_KEY, &f->e));
	CHECK(f, pw_findings_refresh(f->db, s, &policy, ACTOR, &st, &f->e));
	assert_true(st.ran);
	/* The run let go of the lock. */
	CHECK(f, pw_db_try_lock(other, PW_FINDINGS_LOCK_KEY, &got, &f->e));
	assert_true(got);
	CHECK(f, pw_db_unlock(other, PW_FINDINGS_LOCK_KEY, &f->e));
	pw_db_close(other);
	pw_feedstore_close(s);
}

static pw_err load_conf(const char *text, pw_findings_config *out, pw_error *e)
{
	char path[] = "/tmp/pw-findings-conf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	pw_config *c = NULL;
	pw_err rc = pw_config_load(path, true, &c, e);
	if (!rc)
		rc = pw_findings_config_load(c, out, e);
	/* The store name points into the config: keep a copy alive. */
	static char store[256];
	if (!rc && out->store) {
		snprintf(store, sizeof store, "%s", out->store);
		out->store = store;
	}
	pw_config_free(c);
	unlink(path);
	return rc;
}

/* By default the feeds live in the server's own database (where 'feed
 * import' puts them by default too): the same findings as from a file. */
static void test_store_in_server_database(void **state)
{
	struct srv *f = *state;
	char *deb = read_sample("inventories/debian10-web.json");
	int64_t web1 = add_host(f, "web1", NULL);
	give_inventory(f, "web1", "deb", deb);
	free(deb);
	int64_t snap = import_samples_into(NULL, f->db);
	pw_feedstore *s = NULL;
	CHECK(f, pw_findings_store_open(NULL, f->db, &s, &f->e));
	pw_policy policy;
	pw_policy_defaults(&policy);
	pw_findings_stats st;
	CHECK(f, pw_findings_recompute(f->db, s, 0, &policy, ACTOR, &st, &f->e));
	pw_feedstore_close(s);
	assert_true(st.ran);
	assert_int_equal(st.snapshot, snap);
	assert_int_equal(st.hosts, 1);
	size_t d[PW_PRIO__COUNT];
	scan_counts(f, "inventories/debian10-web.json", PW_EXPOSURE_INTERNAL, d);
	assert_true(total(d) > 0);
	int64_t c[PW_HOST_PRIO__COUNT];
	host_counts(f, web1, c);
	same_counts(c, d);
}

static void set_os(struct srv *f, const char *host, const char *id, const char *version,
		   const char *seen)
{
	pw_stmt *st = NULL;
	CHECK(f, pw_db_prepare(f->db,
			       "UPDATE hosts SET os_id = ?, os_version_id = ?, last_seen = ?"
			       " WHERE hostname = ?",
			       &st, &f->e));
	assert_int_equal(pw_stmt_bind_text(st, 1, id), PW_OK);
	assert_int_equal(pw_stmt_bind_text(st, 2, version), PW_OK);
	assert_int_equal(pw_stmt_bind_text(st, 3, seen), PW_OK);
	assert_int_equal(pw_stmt_bind_text(st, 4, host), PW_OK);
	CHECK(f, pw_stmt_exec(st, &f->e));
}

/* Each host's coverage, read back through pw_host_list_query. */
static void expect_coverage(struct srv *f, const char *host, pw_host_coverage want,
			    const char *detail)
{
	pw_findings_config fc;
	CHECK(f, pw_findings_config_load(NULL, &fc, &f->e));
	pw_coverage_ctx c;
	CHECK(f, pw_coverage_load(f->db, &fc, &c, &f->e));
	pw_host h = PW_HOST_INIT;
	CHECK(f, pw_host_get_by_name(f->db, host, &h, &f->e));
	pw_host_coverage_set(&c, &h);
	if (h.coverage != want)
		fail_msg("%s: coverage %s (%s), expected %s", host,
			 pw_host_coverage_name(h.coverage), h.coverage_detail,
			 pw_host_coverage_name(want));
	if (detail)
		srv_contains(h.coverage_detail, detail);
	cJSON *j = pw_host_to_json(&h);
	cJSON *cov = cJSON_GetObjectItem(j, "coverage");
	assert_string_equal(cJSON_GetObjectItem(cov, "state")->valuestring,
			    pw_host_coverage_name(want));
	assert_string_equal(cJSON_GetObjectItem(cov, "detail")->valuestring, h.coverage_detail);
	cJSON_Delete(j);
	pw_host_release(&h);
	pw_coverage_ctx_release(&c);
}

static void test_coverage(void **state)
{
	struct srv *f = *state;
	unsetenv("PATCHWARDEN_STORE");
	char *deb = read_sample("inventories/debian10-web.json");
	char now[PW_TS_LEN], old[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_ts_now(old, -4 * PW_CHECKIN_INTERVAL_DEFAULT); /* over 3 intervals */
	add_host(f, "never", NULL);
	add_host(f, "web1", NULL);
	add_host(f, "ubu1", NULL);
	add_host(f, "gone", NULL);
	give_inventory(f, "web1", "deb", deb);
	give_inventory(f, "gone", "deb", deb);
	give_inventory(f, "ubu1", "ubu",
		       "{\"os\":{\"id\":\"ubuntu\",\"version_id\":\"24.04\"},"
		       "\"scheme\":\"deb\",\"packages\":[]}");
	free(deb);
	set_os(f, "web1", "debian", "10", now);
	set_os(f, "gone", "debian", "10", old);
	set_os(f, "ubu1", "ubuntu", "24.04", now);

	/* No feed store yet: every reported host lacks a feed. */
	expect_coverage(f, "never", PW_COVERAGE_NEVER_REPORTED, "no inventory");
	expect_coverage(f, "web1", PW_COVERAGE_NO_FEED, "debian:10");

	int64_t s1 = import_samples_into(NULL, f->db);
	/* The snapshot is there, the findings are not computed yet. */
	expect_coverage(f, "web1", PW_COVERAGE_PENDING, "against snapshot 0");
	pw_feedstore *s = NULL;
	CHECK(f, pw_findings_store_open(NULL, f->db, &s, &f->e));
	pw_policy policy;
	pw_policy_defaults(&policy);
	pw_findings_stats st;
	CHECK(f, pw_findings_recompute(f->db, s, 0, &policy, ACTOR, &st, &f->e));
	pw_feedstore_close(s);
	assert_int_equal(st.snapshot, s1);
	char want[40];
	snprintf(want, sizeof want, "snapshot %" PRId64, s1);
	expect_coverage(f, "web1", PW_COVERAGE_COVERED, want);
	expect_coverage(f, "never", PW_COVERAGE_NEVER_REPORTED, NULL);
	expect_coverage(f, "ubu1", PW_COVERAGE_NO_FEED, "ubuntu:24.04");
	expect_coverage(f, "gone", PW_COVERAGE_STALE, "no check-in since");
	assert_int_equal(srv_int(f, "SELECT findings_snapshot FROM hosts WHERE hostname = ?",
				 "web1"),
			 s1);

	/* A newer snapshot: pending until the host is recomputed. */
	int64_t s2 = import_samples_into(NULL, f->db);
	snprintf(want, sizeof want, "newest is %" PRId64, s2);
	expect_coverage(f, "web1", PW_COVERAGE_PENDING, want);
	CHECK(f, pw_findings_store_open(NULL, f->db, &s, &f->e));
	int64_t web1 = srv_int(f, "SELECT id FROM hosts WHERE hostname = ?", "web1");
	pw_host_findings_delta d;
	CHECK(f, pw_findings_recompute_host(f->db, s, &policy, web1, &d, &f->e));
	pw_feedstore_close(s);
	expect_coverage(f, "web1", PW_COVERAGE_COVERED, NULL);

	/* The summary of these hosts: the findings' SLAs of 0 days put web1
	 * past them; nobody was ever patched. */
	pw_findings_config fc;
	CHECK(f, pw_findings_config_load(NULL, &fc, &f->e));
	for (int p = 0; p < PW_PRIO__COUNT; p++)
		fc.policy.sla_days[p] = 0;
	pw_fleet_summary sum;
	CHECK(f, pw_fleet_summary_get(f->db, &fc, &sum, &f->e));
	assert_int_equal(sum.hosts, 4);
	assert_int_equal(sum.coverage[PW_COVERAGE_COVERED], 1);
	assert_int_equal(sum.coverage[PW_COVERAGE_NEVER_REPORTED], 1);
	assert_int_equal(sum.coverage[PW_COVERAGE_NO_FEED], 1);
	assert_int_equal(sum.coverage[PW_COVERAGE_STALE], 1);
	assert_int_equal(sum.unpatched, 4);
	assert_int_equal(sum.snapshot, s2);
	assert_int_equal(sum.snapshot_age_days, 0);
	int64_t open[PW_HOST_PRIO__COUNT];
	CHECK(f, pw_host_findings_count(f->db, 0, open, &f->e));
	int64_t total = 0;
	for (int p = 0; p < PW_HOST_PRIO__COUNT; p++) {
		assert_int_equal(sum.open[p], open[p]);
		total += open[p];
	}
	assert_true(total > 0);
	/* web1 and gone share the inventory and its findings. */
	assert_int_equal(sum.past_sla, 2);
	pw_policy_defaults(&fc.policy);
	CHECK(f, pw_fleet_summary_get(f->db, &fc, &sum, &f->e));
	assert_int_equal(sum.past_sla, 0);
	cJSON *sj = pw_fleet_summary_to_json(&sum);
	assert_non_null(sj);
	assert_int_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(sj, "coverage"), "stale")->valuedouble, 1);
	assert_int_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(sj, "feed_snapshot"), "id")->valuedouble,
		(double)s2);
	cJSON_Delete(sj);

	/* Another inventory: pending until its findings are computed. */
	give_inventory(f, "web1", "deb2",
		       "{\"os\":{\"id\":\"debian\",\"version_id\":\"10\"},"
		       "\"scheme\":\"deb\",\"packages\":[]}");
	expect_coverage(f, "web1", PW_COVERAGE_PENDING, "inventory changed");
}

static void test_config(void **state)
{
	struct srv *f = *state;
	unsetenv("PATCHWARDEN_STORE");
	pw_findings_config c;
	CHECK(f, pw_findings_config_load(NULL, &c, &f->e));
	assert_null(c.store); /* the server's own database */
	assert_int_equal(c.recompute_interval, PW_FEEDS_INTERVAL_DEFAULT);
	assert_int_equal(c.stale_checkins, PW_FEEDS_STALE_CHECKINS_DEFAULT);
	assert_int_equal(c.checkin_interval, PW_CHECKIN_INTERVAL_DEFAULT);
	CHECK(f, load_conf("[feeds]\nstale_checkins = 5\n[server]\ncheckin_interval = 60\n", &c,
			   &f->e));
	assert_int_equal(c.stale_checkins, 5);
	assert_int_equal(c.checkin_interval, 60);
	REFUSED(f, PW_ERR_PARSE, "stale_checkins = 0 is out of range",
		load_conf("[feeds]\nstale_checkins = 0\n", &c, &f->e));
	CHECK(f, load_conf("[feeds]\nstore = /var/lib/pw/f.db\nrecompute_interval = 0\n"
			   "[policy]\nepss_threshold = 0.5\n",
			   &c, &f->e));
	assert_string_equal(c.store, "/var/lib/pw/f.db");
	assert_int_equal(c.recompute_interval, 0);
	assert_true(c.policy.epss_threshold > 0.49 && c.policy.epss_threshold < 0.51);
	setenv("PATCHWARDEN_STORE", "/env/f.db", 1);
	CHECK(f, load_conf("[feeds]\nstore = /var/lib/pw/f.db\n", &c, &f->e));
	assert_string_equal(c.store, "/env/f.db");
	unsetenv("PATCHWARDEN_STORE");
	REFUSED(f, PW_ERR_PARSE, ":2", load_conf("[feeds]\nstroe = x\n", &c, &f->e));
	REFUSED(f, PW_ERR_PARSE, "recompute_interval = 86401 is out of range",
		load_conf("[feeds]\nrecompute_interval = 86401\n", &c, &f->e));
	REFUSED(f, PW_ERR_PARSE, "recompute_interval",
		load_conf("[feeds]\nrecompute_interval = soon\n", &c, &f->e));
	CHECK(f, load_conf("[feeds]\nstore =\n", &c, &f->e));
	assert_null(c.store);
	REFUSED(f, PW_ERR_INVALID, "epss_threshold",
		load_conf("[policy]\nepss_threshold = 2\n", &c, &f->e));
}

/* A scan with what its result points into. */
struct held_scan {
	pw_advindex *idx;
	pw_inventory inv;
	pw_scan_result r;
};

static void held_release(struct held_scan *h)
{
	pw_scan_result_release(&h->r);
	pw_advindex_free(h->idx);
	pw_inventory_release(&h->inv);
}

/* The scan of a sample inventory, for counting findings independently of
 * the stored ones. The caller releases *h. */
static void scan_result(struct srv *f, const char *rel, pw_exposure exposure, struct held_scan *h)
{
	pw_scan_result *r = &h->r;
	char *json = read_sample(rel);
	cJSON *j = cJSON_Parse(json);
	pw_inventory inv = PW_INVENTORY_INIT;
	CHECK(f, pw_inventory_from_json(&inv, j, &f->e));
	cJSON_Delete(j);
	free(json);
	pw_feedstore *s = open_store(f, store_path());
	pw_advindex *idx = NULL;
	CHECK(f, pw_advindex_new(&idx, &f->e));
	int64_t snap = 0;
	CHECK(f, pw_feedstore_latest(s, &snap, &f->e));
	pw_policy policy;
	pw_policy_defaults(&policy);
	pw_scan_host host = {exposure, NULL};
	CHECK(f, pw_scan_from_store(idx, s, snap, &inv, &host, &policy, r, &f->e));
	h->idx = idx;
	h->inv = inv;
	pw_feedstore_close(s);
}

/* Every finding of `f` over all pages of `limit`; checks ids ascend. */
static size_t count_pages(struct srv *s, const pw_finding_filter *f, int64_t limit)
{
	size_t total = 0;
	int64_t after = 0;
	for (;;) {
		pw_finding_list l = PW_FINDING_LIST_INIT;
		CHECK(s, pw_finding_page(s->db, f, after, limit, &l, &s->e));
		for (size_t i = 0; i < l.n; i++) {
			assert_true(l.v[i].id > after);
			after = l.v[i].id;
		}
		size_t n = l.n;
		total += n;
		pw_finding_list_release(&l);
		if (n < (size_t)limit)
			return total;
	}
}

static bool has_cve(const pw_finding *x, const char *cve)
{
	for (size_t k = 0; k < x->n_cves; k++)
		if (!strcmp(x->cves[k]->id, cve))
			return true;
	return false;
}

/* The stored findings listed with each filter: the counts are those of
 * the scans of the same inventories, counted here from the scan results. */
static void test_finding_list(void **state)
{
	struct srv *f = *state;
	char *deb = read_sample("inventories/debian10-web.json");
	char *alma = read_sample("inventories/alma8-app.json");
	add_host(f, "web1", NULL);
	add_host(f, "web2", NULL);
	int64_t app1 = add_host(f, "app1", "internet");
	give_inventory(f, "web1", "deb", deb);
	give_inventory(f, "web2", "deb", deb);
	give_inventory(f, "app1", "alma", alma);
	free(deb);
	free(alma);
	pw_feedstore *s = open_store(f, store_path());
	int64_t latest = 0;
	CHECK(f, pw_feedstore_latest(s, &latest, &f->e));
	pw_policy policy;
	pw_policy_defaults(&policy);
	pw_findings_stats st;
	CHECK(f, pw_findings_recompute(f->db, s, 0, &policy, ACTOR, &st, &f->e));
	pw_feedstore_close(s);

	struct held_scan hd = {NULL, PW_INVENTORY_INIT, PW_SCAN_RESULT_INIT};
	struct held_scan ha = {NULL, PW_INVENTORY_INIT, PW_SCAN_RESULT_INIT};
	scan_result(f, "inventories/debian10-web.json", PW_EXPOSURE_INTERNAL, &hd);
	scan_result(f, "inventories/alma8-app.json", PW_EXPOSURE_INTERNET, &ha);
	const pw_scan_result d = hd.r, a = ha.r;
	size_t nd = d.n_findings, na = a.n_findings;
	assert_true(nd > 0 && na > 0);

	pw_finding_filter q = PW_FINDING_FILTER_INIT;
	assert_int_equal(count_pages(f, &q, 7), 2 * nd + na);
	assert_int_equal(count_pages(f, NULL, 1000), 2 * nd + na);
	q.host_id = app1;
	assert_int_equal(count_pages(f, &q, 5), na);
	q = (pw_finding_filter)PW_FINDING_FILTER_INIT;
	q.host.exposure = "internet";
	assert_int_equal(count_pages(f, &q, 5), na);

	/* priority, KEV, package, advisory, CVE: counted over the scans */
	size_t emer = 0, kev = 0, pkg = 0, adv = 0, cve = 0, due = 0;
	const char *pkg_name = d.findings[0].package, *adv_name = a.findings[0].adv->id;
	const char *cve_name = NULL;
	for (size_t i = 0; i < na && !cve_name; i++)
		if (a.findings[i].n_cves)
			cve_name = a.findings[i].cves[0]->id;
	assert_non_null(cve_name);
	for (int h = 0; h < 3; h++) {
		const pw_scan_result *r = h < 2 ? &d : &a;
		for (size_t i = 0; i < r->n_findings; i++) {
			const pw_finding *x = &r->findings[i];
			emer += x->priority == PW_PRIO_EMERGENCY;
			kev += x->why.kev_cve != NULL;
			pkg += !strcmp(x->package, pkg_name);
			adv += !strcmp(x->adv->id, adv_name);
			cve += has_cve(x, cve_name);
			due += x->sla_days > 0 || x->why.kev_due;
		}
	}
	assert_true(emer > 0 && kev > 0 && kev < 2 * nd + na);
	q = (pw_finding_filter)PW_FINDING_FILTER_INIT;
	q.priority = "emergency";
	assert_int_equal(count_pages(f, &q, 3), emer);
	q.priority = NULL;
	q.kev = 1;
	assert_int_equal(count_pages(f, &q, 3), kev);
	q.kev = -1;
	assert_int_equal(count_pages(f, &q, 50), 2 * nd + na - kev);
	q.kev = 0;
	q.package = pkg_name;
	assert_int_equal(count_pages(f, &q, 2), pkg);
	q.package = NULL;
	q.advisory = adv_name;
	assert_int_equal(count_pages(f, &q, 2), adv);
	q.advisory = NULL;
	q.cve = cve_name;
	assert_int_equal(count_pages(f, &q, 2), cve);
	q.cve = NULL;
	q.due_before = "9999-12-31";
	assert_int_equal(count_pages(f, &q, 50), due);
	q.due_before = "1970-01-01";
	assert_int_equal(count_pages(f, &q, 50), 0);
	q.due_before = NULL;
	q.state = "open";
	assert_int_equal(count_pages(f, &q, 50), 2 * nd + na);
	q.state = "fixed";
	assert_int_equal(count_pages(f, &q, 50), 0);
	q.state = "accepted";
	assert_int_equal(count_pages(f, &q, 50), 0);

	/* A KEV finding of app1 as JSON: what the scan says of it. */
	const pw_finding *k = NULL;
	for (size_t i = 0; i < na && !k; i++)
		if (a.findings[i].why.kev_cve)
			k = &a.findings[i];
	assert_non_null(k);
	q = (pw_finding_filter)PW_FINDING_FILTER_INIT;
	q.host_id = app1;
	q.package = k->package;
	q.advisory = k->adv->id;
	pw_finding_list l = PW_FINDING_LIST_INIT;
	CHECK(f, pw_finding_page(f->db, &q, 0, 10, &l, &f->e));
	assert_int_equal(l.n, 1);
	cJSON *j = pw_finding_to_json(&l.v[0]);
	assert_non_null(j);
	pw_buf why = PW_BUF_INIT;
	assert_int_equal(pw_finding_reason(k, &policy, &why), PW_OK);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "reason")),
			    pw_buf_str(&why));
	pw_buf_release(&why);
	cJSON *kj = cJSON_GetObjectItem(j, "kev");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(kj, "cve")), k->why.kev_cve);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "hostname")), "app1");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "state")), "open");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "priority")),
			    pw_priority_name(k->priority));
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "snapshot")), latest);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "cves")), k->n_cves);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "fixed_at")));
	cJSON_Delete(j);
	pw_finding_list_release(&l);

	/* Bad filters name themselves. */
	q = (pw_finding_filter)PW_FINDING_FILTER_INIT;
	q.priority = "urgent";
	REFUSED(f, PW_ERR_INVALID, "priority", pw_finding_page(f->db, &q, 0, 10, &l, &f->e));
	q.priority = NULL;
	q.cve = "CVE-2024-1%";
	REFUSED(f, PW_ERR_INVALID, "cve", pw_finding_page(f->db, &q, 0, 10, &l, &f->e));
	q.cve = NULL;
	q.state = "closed";
	REFUSED(f, PW_ERR_INVALID, "state", pw_finding_page(f->db, &q, 0, 10, &l, &f->e));
	q.state = NULL;
	q.due_before = "tomorrow";
	REFUSED(f, PW_ERR_INVALID, "due_before", pw_finding_page(f->db, &q, 0, 10, &l, &f->e));
	q.due_before = NULL;
	q.host.exposure = "moon";
	REFUSED(f, PW_ERR_INVALID, "exposure", pw_finding_page(f->db, &q, 0, 10, &l, &f->e));
	REFUSED(f, PW_ERR_INVALID, "limit", pw_finding_page(f->db, NULL, 0, 0, &l, &f->e));
	assert_int_equal(l.n, 0);
	held_release(&hd);
	held_release(&ha);
}

static void remove_store(void)
{
	if (!g_store[0])
		return;
	static const char *const suffix[] = {"", "-wal", "-shm"};
	char path[160];
	for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
		snprintf(path, sizeof path, "%s%s", g_store, suffix[i]);
		unlink(path);
	}
	rmdir(g_store_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_recompute_fleet),
		T(test_recompute_host),
		T(test_store_missing_or_empty),
		T(test_lock),
		T(test_store_in_server_database),
		T(test_config),
		T(test_coverage),
		T(test_finding_list),
	};
	int failed = srv_run("findings", tests, sizeof tests / sizeof *tests);
	remove_store();
	return failed;
}
