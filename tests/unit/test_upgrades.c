/* Findings grouped by package upgrade (upgrades.h): the target chosen by
 * the ecosystem's own version order (expectations checked by hand with
 * `dpkg --compare-versions` and rpm's `rpm.vercmp`, never string order),
 * the binaries named from the inventory, the counts, the order and the
 * record; then a host's upgrades from its stored findings and inventory,
 * and the fleet's (grouped by package and target, host filters), on
 * SQLite and PostgreSQL. */
#include <cjson/cJSON.h>

#include "servertest.h"

#include "patchwarden/host_findings.h"
#include "patchwarden/hosts.h"
#include "patchwarden/inventory.h"
#include "patchwarden/upgrades.h"

#define ACTOR "cli:test"

/* An open finding row; the strings are the test's (never freed). */
static pw_finding_row row(int64_t id, char *package, bool by_source, char *installed, char *fixed,
			  char *advisory, char *cves, char *priority, char *due)
{
	pw_finding_row r = {0};
	r.id = id;
	r.host_id = 1;
	r.hostname = "web-01";
	r.package = package;
	r.by_source = by_source;
	r.installed = installed;
	r.fixed = fixed;
	r.advisory = advisory;
	r.cves = cves;
	r.priority = priority;
	r.due = due;
	return r;
}

static const pw_upgrade *find(const pw_upgrade_list *l, const char *package)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].package, package))
			return &l->v[i];
	fail_msg("no upgrade of %s", package);
	return NULL;
}

static void group(const pw_finding_row *rows, size_t n, pw_scheme scheme, const pw_inventory *inv,
		  pw_upgrade_list *out)
{
	pw_error e = PW_ERROR_INIT;
	if (pw_upgrades_group(rows, n, scheme, inv, out, &e))
		fail_msg("pw_upgrades_group: %s", pw_error_text(&e));
}

/* dpkg order: 1.2.10 > 1.2.9, an epoch outweighs any version, ~ sorts
 * before everything (even the end of the string). */
static void test_deb_target(void **state)
{
	(void)state;
	pw_finding_row r[] = {
		/* string order would pick 1.2.9-2 and installed 1.2.9-1 */
		row(1, "zlib", true, "1.2.9-1", "1.2.9-2", "DSA-1", "CVE-2024-0001", "low", NULL),
		row(2, "zlib", true, "1.2.10-0", "1.2.10-1", "DSA-2", "CVE-2024-0002", "normal",
		    NULL),
		/* 1:1.0-1 > 2.0-1 (the epoch) */
		row(3, "curl", true, "1:0.9-1", "2.0-1", "DSA-3", "", "low", NULL),
		row(4, "curl", true, "1:0.9-1", "1:1.0-1", "DSA-4", "", "low", NULL),
		/* 3.0.11-1 > 3.0.11-1~deb12u2; installed 3.0.9-1 < 3.0.11-1~deb12u1 */
		row(5, "openssl", true, "3.0.11-1~deb12u1", "3.0.11-1~deb12u2", "DSA-5", "", "low",
		    NULL),
		row(6, "openssl", true, "3.0.9-1", "3.0.11-1", "DSA-6", "", "low", NULL),
	};
	pw_upgrade_list l = PW_UPGRADE_LIST_INIT;
	group(r, sizeof r / sizeof *r, PW_SCHEME_DEB, NULL, &l);
	assert_int_equal(l.n, 3);
	assert_string_equal(find(&l, "zlib")->target, "1.2.10-1");
	assert_string_equal(find(&l, "zlib")->installed, "1.2.9-1");
	assert_string_equal(find(&l, "curl")->target, "1:1.0-1");
	assert_string_equal(find(&l, "openssl")->target, "3.0.11-1");
	assert_string_equal(find(&l, "openssl")->installed, "3.0.9-1");
	/* by priority (zlib has a normal one), then package */
	assert_string_equal(l.v[0].package, "zlib");
	assert_string_equal(l.v[1].package, "curl");
	assert_string_equal(l.v[2].package, "openssl");
	pw_upgrade_list_release(&l);
}

/* rpm order: 1.2.10 > 1.2.9, 1:1.0 > 2.0, 1.0~rc1 < 1.0. */
static void test_rpm_target(void **state)
{
	(void)state;
	pw_finding_row r[] = {
		row(1, "bind", false, "9.11.26-4.el8", "1.2.9-3.el8", "ALSA-1", "", "high", NULL),
		row(2, "bind", false, "9.11.26-4.el8", "1.2.10-1.el8", "ALSA-2", "", "high", NULL),
		row(3, "sudo", false, "1:0.9-1", "2.0-1", "ALSA-3", "", "low", NULL),
		row(4, "sudo", false, "1:0.9-1", "1:1.0-1", "ALSA-4", "", "low", NULL),
		row(5, "vim", false, "1.0~rc0-1", "1.0~rc1-1", "ALSA-5", "", "low", NULL),
		row(6, "vim", false, "1.0~rc0-1", "1.0-1", "ALSA-6", "", "low", NULL),
	};
	pw_upgrade_list l = PW_UPGRADE_LIST_INIT;
	group(r, sizeof r / sizeof *r, PW_SCHEME_RPM, NULL, &l);
	assert_int_equal(l.n, 3);
	assert_string_equal(find(&l, "bind")->target, "1.2.10-1.el8");
	assert_string_equal(find(&l, "sudo")->target, "1:1.0-1");
	assert_string_equal(find(&l, "vim")->target, "1.0-1");
	/* no inventory: an RPM upgrade names the package itself */
	const pw_upgrade *s = find(&l, "sudo");
	assert_int_equal(s->n_binaries, 1);
	assert_string_equal(s->binaries[0].name, "sudo");
	assert_string_equal(s->binaries[0].version, "1:0.9-1");
	pw_upgrade_list_release(&l);
}

static void add_pkg(pw_inventory *inv, const char *name, const char *version, const char *arch,
		    const char *source)
{
	if (inv->n_pkgs == inv->cap_pkgs) {
		inv->cap_pkgs = inv->cap_pkgs ? 2 * inv->cap_pkgs : 8;
		inv->pkgs = realloc(inv->pkgs, inv->cap_pkgs * sizeof *inv->pkgs);
		assert_non_null(inv->pkgs);
	}
	pw_package *p = &inv->pkgs[inv->n_pkgs++];
	*p = (pw_package){strdup(name),   strdup(version), strdup(arch),
			  strdup(source), strdup(version), strdup("install ok installed")};
}

/* The binaries from the source, each (name, version) once; counts;
 * fixed rows left out; the record. */
static void test_binaries_and_counts(void **state)
{
	(void)state;
	pw_inventory inv = PW_INVENTORY_INIT;
	inv.scheme = PW_SCHEME_DEB;
	add_pkg(&inv, "libssl3", "3.0.11-1~deb12u1", "amd64", "openssl");
	add_pkg(&inv, "libssl3", "3.0.11-1~deb12u1", "i386", "openssl");
	add_pkg(&inv, "openssl", "3.0.11-1~deb12u1", "amd64", "openssl");
	add_pkg(&inv, "libc6", "2.36-9", "amd64", "glibc");
	add_pkg(&inv, "curl", "7.88.1-10", "amd64", "curl");
	pw_inventory_sort(&inv);
	pw_finding_row r[] = {
		row(9, "openssl", true, "3.0.11-1~deb12u1", "3.0.11-1~deb12u2", "DSA-5532-1",
		    "CVE-2023-5363,CVE-2023-5678", "high", "2024-05-20"),
		row(7, "openssl", true, "3.0.11-1~deb12u1", "3.0.11-1~deb12u2", "DSA-5585-1",
		    "CVE-2023-5678,CVE-2023-6129", "emergency", "2024-05-15"),
		row(8, "glibc", true, "2.36-9", "2.36-9+deb12u4", "DSA-5514-1", "CVE-2023-4911",
		    "normal", NULL),
		row(10, "glibc", true, "2.36-9", "2.36-9+deb12u7", "DSA-9999-1", "", "low", NULL),
	};
	r[2].kev_cve = "CVE-2023-4911";
	r[3].fixed_at = "2024-05-02T00:00:00.000Z"; /* fixed: left out */
	pw_upgrade_list l = PW_UPGRADE_LIST_INIT;
	group(r, sizeof r / sizeof *r, PW_SCHEME_DEB, &inv, &l);
	assert_int_equal(l.n, 2);
	const pw_upgrade *o = &l.v[0], *g = &l.v[1];
	assert_string_equal(o->package, "openssl");
	assert_int_equal(o->highest_priority, PW_HOST_PRIO_EMERGENCY);
	assert_int_equal(o->n_binaries, 2);
	assert_string_equal(o->binaries[0].name, "libssl3");
	assert_string_equal(o->binaries[1].name, "openssl");
	assert_string_equal(o->binaries[1].version, "3.0.11-1~deb12u1");
	assert_int_equal(o->n_advisories, 2);
	assert_int_equal(o->n_cves, 3);
	assert_string_equal(o->earliest_due, "2024-05-15");
	assert_false(o->kev);
	assert_int_equal(o->n_findings, 2);
	assert_int_equal(o->findings[0], 7);
	assert_int_equal(o->findings[1], 9);
	assert_string_equal(g->target, "2.36-9+deb12u4"); /* the fixed row does not count */
	assert_true(g->kev);
	assert_null(g->earliest_due);
	assert_int_equal(g->n_binaries, 1);
	assert_string_equal(g->binaries[0].name, "libc6");

	cJSON *j = pw_upgrade_to_json(o);
	assert_non_null(j);
	char *s = cJSON_PrintUnformatted(j);
	assert_string_equal(
		s, "{\"host_id\":1,\"hostname\":\"web-01\",\"package\":\"openssl\",\"by_source\":"
		   "true,\"binaries\":[{\"name\":\"libssl3\",\"version\":\"3.0.11-1~deb12u1\"},"
		   "{\"name\":\"openssl\",\"version\":\"3.0.11-1~deb12u1\"}],\"installed\":"
		   "\"3.0.11-1~deb12u1\",\"target\":\"3.0.11-1~deb12u2\",\"advisories\":"
		   "[\"DSA-5532-1\",\"DSA-5585-1\"],\"cve_count\":3,\"cves\":[\"CVE-2023-5363\","
		   "\"CVE-2023-5678\",\"CVE-2023-6129\"],\"highest_priority\":\"emergency\","
		   "\"earliest_due\":\"2024-05-15\",\"kev\":false,\"findings\":[7,9]}");
	cJSON_free(s);
	cJSON_Delete(j);
	pw_upgrade_list_release(&l);
	pw_inventory_release(&inv);
}

/* A version dpkg refuses names the finding. */
static void test_bad_version(void **state)
{
	(void)state;
	pw_finding_row r[] = {
		row(3, "zlib", true, "1.0-1", "1.1-1", "DSA-1", "", "low", NULL),
		row(4, "zlib", true, "1.0-1", "1:", "DSA-2", "", "low", NULL),
	};
	pw_upgrade_list l = PW_UPGRADE_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_upgrades_group(r, 2, PW_SCHEME_DEB, NULL, &l, &e), PW_ERR_PARSE);
	srv_contains(pw_error_text(&e), "finding 4 (zlib DSA-2)");
	pw_upgrade_list_release(&l);
}

/* ---- from the database ------------------------------------------------ */

static const char inventory[] =
	"{\"os\":{\"id\":\"debian\",\"version_id\":\"12\"},\"scheme\":\"deb\",\"packages\":["
	"{\"name\":\"openssl\",\"version\":\"3.0.11-1~deb12u1\",\"source\":\"openssl\"},"
	"{\"name\":\"libssl3\",\"version\":\"3.0.11-1~deb12u1\",\"source\":\"openssl\"},"
	"{\"name\":\"bsdutils\",\"version\":\"1:2.38.1-5+b1\",\"source\":\"util-linux\","
	"\"source_version\":\"2.38.1-5\"},"
	"{\"name\":\"util-linux\",\"version\":\"2.38.1-5+b1\",\"source\":\"util-linux\","
	"\"source_version\":\"2.38.1-5\"},"
	"{\"name\":\"zlib1g\",\"version\":\"1:1.2.13.dfsg-1\",\"source\":\"zlib\","
	"\"source_version\":\"1:1.2.13.dfsg-1\"}]}";

static void test_host_upgrades(void **state)
{
	struct srv *f = *state;
	int64_t id = 0, other = 0;
	CHECK(f, pw_host_create(f->db, ACTOR, "web-01", NULL, 0, &id, &f->e));
	CHECK(f, pw_host_create(f->db, ACTOR, "web-02", NULL, 0, &other, &f->e));
	pw_stmt *st = NULL;
	CHECK(f, pw_db_prepare(f->db,
			       "INSERT INTO inventories (hash, json, first_seen) VALUES ('h1', ?,"
			       " '2026-01-01T00:00:00.000Z')",
			       &st, &f->e));
	assert_int_equal(pw_stmt_bind_text(st, 1, inventory), PW_OK);
	CHECK(f, pw_stmt_exec(st, &f->e));
	srv_exec(f, f->db, "UPDATE hosts SET inventory_hash = 'h1'");
	pw_host_finding v[] = {
		{.package = "util-linux",
		 .advisory = "DSA-1",
		 .installed = "2.38.1-5",
		 .fixed = "2.38.1-5+deb12u9",
		 .priority = PW_HOST_PRIO_NORMAL,
		 .cves = "CVE-2024-28085",
		 .by_source = true},
		{.package = "util-linux",
		 .advisory = "DSA-2",
		 .installed = "2.38.1-5",
		 .fixed = "2.38.1-5+deb12u10",
		 .priority = PW_HOST_PRIO_LOW,
		 .cves = "CVE-2024-28085,CVE-2025-1",
		 .by_source = true},
		{.package = "openssl",
		 .advisory = "DSA-3",
		 .installed = "3.0.11-1~deb12u1",
		 .fixed = "3.0.11-1~deb12u2",
		 .priority = PW_HOST_PRIO_HIGH,
		 .cves = "CVE-2023-5363",
		 .by_source = true,
		 .sla_days = 14},
	};
	CHECK(f, pw_host_findings_replace(f->db, id, v, 3, NULL, &f->e));
	CHECK(f, pw_host_findings_replace(f->db, other, v, 1, NULL, &f->e));
	pw_upgrade_list l = PW_UPGRADE_LIST_INIT;
	CHECK(f, pw_host_upgrades(f->db, id, &l, &f->e));
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].package, "openssl");
	assert_int_equal(l.v[0].host_id, id);
	assert_string_equal(l.v[0].hostname, "web-01");
	assert_non_null(l.v[0].earliest_due); /* first seen today + 14 days */
	const pw_upgrade *u = &l.v[1];
	assert_string_equal(u->package, "util-linux");
	assert_string_equal(u->target, "2.38.1-5+deb12u10"); /* u10 > u9: not string order */
	assert_int_equal(u->n_cves, 2);
	assert_int_equal(u->highest_priority, PW_HOST_PRIO_NORMAL);
	assert_int_equal(u->n_binaries, 2);
	assert_string_equal(u->binaries[0].name, "bsdutils");
	assert_string_equal(u->binaries[0].version, "1:2.38.1-5+b1");
	assert_string_equal(u->binaries[1].name, "util-linux");
	pw_upgrade_list_release(&l);

	/* the fleet: util-linux to u10 on web-01, to u9 on web-02 */
	pw_fleet_upgrade_list fl = PW_FLEET_UPGRADE_LIST_INIT;
	CHECK(f, pw_fleet_upgrades(f->db, NULL, &fl, &f->e));
	assert_int_equal(fl.n, 3);
	assert_string_equal(fl.v[0].package, "openssl");
	assert_int_equal(fl.v[0].hosts, 1);
	assert_string_equal(fl.v[1].target, "2.38.1-5+deb12u10");
	assert_int_equal(fl.v[1].findings, 2);
	assert_int_equal(fl.v[1].n_cves, 2);
	assert_int_equal(fl.v[1].n_binaries, 2);
	assert_string_equal(fl.v[2].target, "2.38.1-5+deb12u9");
	assert_int_equal(fl.v[2].hosts, 1);
	pw_fleet_upgrade_list_release(&fl);
	/* both to u10: one upgrade of two hosts; a host filter narrows */
	CHECK(f, pw_host_findings_replace(f->db, other, v, 2, NULL, &f->e));
	CHECK(f, pw_fleet_upgrades(f->db, NULL, &fl, &f->e));
	assert_int_equal(fl.n, 2);
	assert_string_equal(fl.v[1].package, "util-linux");
	assert_int_equal(fl.v[1].hosts, 2);
	assert_int_equal(fl.v[1].findings, 4);
	cJSON *j = pw_fleet_upgrade_to_json(&fl.v[1]);
	char *js = cJSON_PrintUnformatted(j);
	assert_string_equal(js, "{\"package\":\"util-linux\",\"by_source\":true,\"target\":"
				"\"2.38.1-5+deb12u10\",\"hosts\":2,\"binaries\":[\"bsdutils\","
				"\"util-linux\"],\"advisories\":[\"DSA-1\",\"DSA-2\"],"
				"\"cve_count\":2,\"cves\":[\"CVE-2024-28085\",\"CVE-2025-1\"],"
				"\"highest_priority\":\"normal\",\"earliest_due\":null,"
				"\"kev\":false,\"findings\":4}");
	cJSON_free(js);
	cJSON_Delete(j);
	pw_fleet_upgrade_list_release(&fl);
	srv_exec(f, f->db, "UPDATE hosts SET category = 'web' WHERE hostname = 'web-02'");
	pw_host_filter hf = PW_HOST_FILTER_INIT;
	hf.category = "web";
	CHECK(f, pw_fleet_upgrades(f->db, &hf, &fl, &f->e));
	assert_int_equal(fl.n, 1);
	assert_int_equal(fl.v[0].hosts, 1);
	pw_fleet_upgrade_list_release(&fl);
	hf.category = "kitchen";
	REFUSED(f, PW_ERR_INVALID, "category", pw_fleet_upgrades(f->db, &hf, &fl, &f->e));
	pw_fleet_upgrade_list_release(&fl);
	CHECK(f, pw_host_findings_replace(f->db, other, v, 1, NULL, &f->e));

	/* a rescan without openssl's finding: fixed, no longer an upgrade */
	CHECK(f, pw_host_findings_replace(f->db, id, v, 2, NULL, &f->e));
	CHECK(f, pw_host_upgrades(f->db, id, &l, &f->e));
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].package, "util-linux");
	pw_upgrade_list_release(&l);

	/* no findings: no upgrades; no host: not found */
	CHECK(f, pw_host_findings_replace(f->db, other, NULL, 0, NULL, &f->e));
	CHECK(f, pw_host_upgrades(f->db, other, &l, &f->e));
	assert_int_equal(l.n, 0);
	REFUSED(f, PW_ERR_NOTFOUND, "", pw_host_upgrades(f->db, 999, &l, &f->e));
	pw_upgrade_list_release(&l);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_deb_target),
		cmocka_unit_test(test_rpm_target),
		cmocka_unit_test(test_binaries_and_counts),
		cmocka_unit_test(test_bad_version),
	};
	int failed = cmocka_run_group_tests_name("upgrades", pure, NULL, NULL);
	const struct CMUnitTest tests[] = {
		T(test_host_upgrades),
	};
	return failed + srv_run("upgrades/db", tests, sizeof tests / sizeof *tests);
}
