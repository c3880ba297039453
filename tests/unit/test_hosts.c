/* The host inventory database (hosts.h): fields and their checks,
 * create/set with audit events, filters, CSV import/export and findings,
 * on SQLite and PostgreSQL. */
#include <cjson/cJSON.h>
#include <time.h>

#include "servertest.h"

#include "patchwarden/audit.h"
#include "patchwarden/buf.h"
#include "patchwarden/hosts.h"
#include "patchwarden/host_findings.h"
#include "patchwarden/host_csv.h"

#define ACTOR "cli:test"

static int64_t events(struct srv *f, const char *action)
{
	return srv_int(f, "SELECT COUNT(*) FROM audit_events WHERE action = ?", action);
}

static void add(struct srv *f, const char *name, const pw_host_assign *a, size_t n)
{
	CHECK(f, pw_host_create(f->db, ACTOR, name, a, n, NULL, &f->e));
}

static void set1(struct srv *f, const char *host, pw_host_field field, const char *value)
{
	pw_host_assign a = {field, value};
	CHECK(f, pw_host_set(f->db, ACTOR, host, &a, 1, NULL, &f->e));
}

/* "YYYY-MM-DD" for `days` days before now. */
static void days_ago(int days, char out[11])
{
	time_t t = time(NULL) - (time_t)days * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static void test_value_checks(void **state)
{
	(void)state;
	static const struct {
		pw_host_field f;
		const char *in, *out; /* out NULL: refused */
	} cases[] = {
		{PW_HF_HOSTNAME, "Web01.Example.ORG", "web01.example.org"},
		{PW_HF_HOSTNAME, "a-b", "a-b"},
		{PW_HF_HOSTNAME, "-ab", NULL},
		{PW_HF_HOSTNAME, "ab-", NULL},
		{PW_HF_HOSTNAME, "a..b", NULL},
		{PW_HF_HOSTNAME, "a b", NULL},
		{PW_HF_HOSTNAME, "host_1", NULL},
		{PW_HF_CATEGORY, "Web", "web"},
		{PW_HF_CATEGORY, "file-print", "file-print"},
		{PW_HF_CATEGORY, "printer", NULL},
		{PW_HF_EXPOSURE, "isolated", "isolated"},
		{PW_HF_EXPOSURE, "dmz", NULL},
		{PW_HF_ENVIRONMENT, "production", "production"},
		{PW_HF_ENVIRONMENT, "staging", NULL},
		{PW_HF_CRITICALITY, "5", "5"},
		{PW_HF_CRITICALITY, "0", NULL},
		{PW_HF_CRITICALITY, "6", NULL},
		{PW_HF_CRITICALITY, "33", NULL},
		{PW_HF_MAINT_WINDOW, "sun 01:00-04:00", "Sun 01:00-04:00"},
		{PW_HF_MAINT_WINDOW, "Mon-Fri 22:00-02:00", "Mon-Fri 22:00-02:00"},
		{PW_HF_MAINT_WINDOW, "Sat,Sun 23:00-24:00", "Sat,Sun 23:00-24:00"},
		{PW_HF_MAINT_WINDOW, "DAILY 03:00-04:00", "daily 03:00-04:00"},
		{PW_HF_MAINT_WINDOW, "Sun 01:00-01:00", NULL},
		{PW_HF_MAINT_WINDOW, "Sun 00:00-24:00", NULL},
		{PW_HF_MAINT_WINDOW, "Sun 1:00-4:00", NULL},
		{PW_HF_MAINT_WINDOW, "Sunday 01:00-04:00", NULL},
		{PW_HF_MAINT_WINDOW, "Sun 24:00-04:00", NULL},
		{PW_HF_MAINT_WINDOW, "Sun 01:60-04:00", NULL},
		{PW_HF_MAINT_WINDOW, "Sun-Sun 01:00-04:00", NULL},
		{PW_HF_MAINT_WINDOW, "Sun, 01:00-04:00", NULL},
		{PW_HF_LAST_PATCHED, "2024-02-29", "2024-02-29T00:00:00.000Z"},
		{PW_HF_LAST_PATCHED, "2024-03-01T10:20:30Z", "2024-03-01T10:20:30.000Z"},
		{PW_HF_LAST_PATCHED, "2024-03-01T10:20:30.123Z", "2024-03-01T10:20:30.123Z"},
		{PW_HF_LAST_PATCHED, "2023-02-29", NULL},
		{PW_HF_LAST_PATCHED, "2024-13-01", NULL},
		{PW_HF_LAST_PATCHED, "2024-1-01", NULL},
		{PW_HF_LAST_PATCHED, "2999-01-01", NULL},
		{PW_HF_LAST_PATCHED, "2024-03-01T25:00:00Z", NULL},
		{PW_HF_LOCATION, "DC1 rack 4", "DC1 rack 4"},
		{PW_HF_LOCATION, "tab\there", NULL},
		{PW_HF_KERNEL, "6.1.0", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *out = NULL;
		pw_error e = PW_ERROR_INIT;
		pw_err rc = pw_host_value_check(cases[i].f, cases[i].in, &out, &e);
		if (cases[i].out) {
			if (rc)
				fail_msg("%s refused: %s", cases[i].in, e.msg);
			assert_string_equal(out, cases[i].out);
		} else if (rc != PW_ERR_INVALID) {
			fail_msg("%s accepted as %s", cases[i].in, out ? out : "(null)");
		} else {
			/* The message names the field. */
			srv_contains(e.msg, pw_host_field_name(cases[i].f));
		}
		free(out);
	}
	char *out = (char *)1;
	assert_int_equal(pw_host_value_check(PW_HF_TICKET, "", &out, NULL), PW_OK);
	assert_null(out);
	pw_host_field fld;
	assert_true(pw_host_field_parse("owner-group", &fld));
	assert_int_equal(fld, PW_HF_OWNER_GROUP);
	assert_true(pw_host_field_parse("maintenance_window", &fld));
	assert_false(pw_host_field_parse("maintenance", &fld));
}

static void test_create_get_set(void **state)
{
	struct srv *f = *state;
	pw_host_assign a[] = {{PW_HF_CATEGORY, "web"},
			      {PW_HF_CRITICALITY, "4"},
			      {PW_HF_MAINT_WINDOW, "Sun 01:00-04:00"}};
	int64_t id = 0;
	CHECK(f, pw_host_create(f->db, ACTOR, "WWW1.example.org", a, 3, &id, &f->e));
	assert_true(id > 0);
	REFUSED(f, PW_ERR_INVALID, "exists already",
		pw_host_create(f->db, ACTOR, "www1.example.org", NULL, 0, NULL, &f->e));
	assert_int_equal(events(f, "host.add"), 1);
	char *after = srv_text(f, "SELECT after_json FROM audit_events WHERE action = ?",
			       "host.add");
	assert_string_equal(after, "{\"hostname\":\"www1.example.org\",\"category\":\"web\","
				   "\"criticality\":4,\"maintenance_window\":\"Sun 01:00-04:00\"}");
	free(after);

	pw_host h = PW_HOST_INIT;
	CHECK(f, pw_host_get(f->db, id, &h, &f->e));
	assert_string_equal(h.f[PW_HF_HOSTNAME], "www1.example.org");
	assert_string_equal(h.f[PW_HF_CRITICALITY], "4");
	assert_null(h.f[PW_HF_LOCATION]);
	assert_non_null(h.f[PW_HF_CREATED]);
	cJSON *j = pw_host_to_json(&h);
	assert_non_null(j);
	assert_int_equal(cJSON_GetObjectItem(j, "id")->valuedouble, (double)id);
	assert_int_equal(cJSON_GetObjectItem(j, "criticality")->valuedouble, 4);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "location")));
	assert_string_equal(cJSON_GetObjectItem(j, "category")->valuestring, "web");
	assert_int_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(j, "open_findings"), "low")->valuedouble,
		0);
	cJSON_Delete(j);
	pw_host_release(&h);

	pw_host_assign b[] = {{PW_HF_CATEGORY, "database"},
			      {PW_HF_CRITICALITY, ""},
			      {PW_HF_LOCATION, "DC1 rack 4"},
			      {PW_HF_MAINT_WINDOW, "sun 01:00-04:00"}};
	bool changed = false;
	CHECK(f, pw_host_set(f->db, ACTOR, "www1.example.org", b, 4, &changed, &f->e));
	assert_true(changed);
	char *before = srv_text(f, "SELECT before_json FROM audit_events WHERE action = ?",
				"host.set");
	after = srv_text(f, "SELECT after_json FROM audit_events WHERE action = ?", "host.set");
	/* The window is unchanged once canonical, so it is not in the event. */
	assert_string_equal(before, "{\"location\":null,\"category\":\"web\",\"criticality\":4}");
	assert_string_equal(after, "{\"location\":\"DC1 rack 4\",\"category\":\"database\","
				   "\"criticality\":null}");
	free(before);
	free(after);
	CHECK(f, pw_host_set(f->db, ACTOR, "www1.example.org", b, 4, &changed, &f->e));
	assert_false(changed);
	assert_int_equal(events(f, "host.set"), 1);

	CHECK(f, pw_host_get_by_name(f->db, "WWW1.EXAMPLE.ORG", &h, &f->e));
	assert_string_equal(h.f[PW_HF_CATEGORY], "database");
	assert_null(h.f[PW_HF_CRITICALITY]);
	pw_host_release(&h);

	/* All or nothing: a bad value leaves the good one unwritten. */
	pw_host_assign bad[] = {{PW_HF_LOCATION, "DC2"}, {PW_HF_EXPOSURE, "dmz"}};
	REFUSED(f, PW_ERR_INVALID, "exposure: 'dmz' is not one of internet, internal, isolated",
		pw_host_set(f->db, ACTOR, "www1.example.org", bad, 2, NULL, &f->e));
	pw_host_assign twice[] = {{PW_HF_LOCATION, "DC2"}, {PW_HF_LOCATION, "DC3"}};
	REFUSED(f, PW_ERR_INVALID, "location is given twice",
		pw_host_set(f->db, ACTOR, "www1.example.org", twice, 2, NULL, &f->e));
	pw_host_assign agent[] = {{PW_HF_KERNEL, "6.1"}};
	REFUSED(f, PW_ERR_INVALID, "reported by the host's agent",
		pw_host_set(f->db, ACTOR, "www1.example.org", agent, 1, NULL, &f->e));
	REFUSED(f, PW_ERR_NOTFOUND, "no host named 'nope'",
		pw_host_set(f->db, ACTOR, "nope", b, 1, NULL, &f->e));
	CHECK(f, pw_host_get(f->db, id, &h, &f->e));
	assert_string_equal(h.f[PW_HF_LOCATION], "DC1 rack 4");
	pw_host_release(&h);
	REFUSED(f, PW_ERR_NOTFOUND, "no host with id 999", pw_host_get(f->db, 999, &h, &f->e));

	/* Renames keep names unique. */
	add(f, "www2.example.org", NULL, 0);
	REFUSED(f, PW_ERR_CONFLICT, "www2.example.org is already the name of host",
		pw_host_set(f->db, ACTOR, "www1.example.org",
			    &(pw_host_assign){PW_HF_HOSTNAME, "www2.example.org"}, 1, NULL, &f->e));
	set1(f, "www1.example.org", PW_HF_HOSTNAME, "www3.example.org");
	CHECK(f, pw_host_get(f->db, id, &h, &f->e));
	assert_string_equal(h.f[PW_HF_HOSTNAME], "www3.example.org");
	pw_host_release(&h);
	pw_audit_report rep;
	CHECK(f, pw_audit_verify(f->db, &rep, &f->e));
	assert_int_equal(rep.events, 4);
}

static size_t list_count(struct srv *f, const pw_host_filter *flt)
{
	pw_host_list l = PW_HOST_LIST_INIT;
	CHECK(f, pw_host_list_query(f->db, flt, &l, &f->e));
	size_t n = l.n;
	pw_host_list_release(&l);
	return n;
}

static void test_filters(void **state)
{
	struct srv *f = *state;
	char recent[11], old[11], seen_old[11];
	days_ago(10, recent);
	days_ago(120, old);
	days_ago(30, seen_old);
	add(f, "web1",
	    (pw_host_assign[]){{PW_HF_CATEGORY, "web"},
			       {PW_HF_EXPOSURE, "internet"},
			       {PW_HF_CRITICALITY, "3"},
			       {PW_HF_LAST_PATCHED, recent},
			       {PW_HF_OWNER_GROUP, "webops"}},
	    5);
	add(f, "web2",
	    (pw_host_assign[]){{PW_HF_CATEGORY, "web"},
			       {PW_HF_EXPOSURE, "internal"},
			       {PW_HF_CRITICALITY, "5"},
			       {PW_HF_LAST_PATCHED, old},
			       {PW_HF_ENVIRONMENT, "production"}},
	    5);
	add(f, "db1",
	    (pw_host_assign[]){{PW_HF_CATEGORY, "database"},
			       {PW_HF_CRITICALITY, "5"},
			       {PW_HF_ENVIRONMENT, "test"}},
	    3);
	add(f, "dc1", NULL, 0);
	/* last_seen is the agent's: written here as a check-in would. */
	srv_exec(f, f->db,
		 "UPDATE hosts SET last_seen = '2099-01-01T00:00:00.000Z'"
		 " WHERE hostname IN ('web1', 'db1')");
	char sql[160];
	snprintf(sql, sizeof sql,
		 "UPDATE hosts SET last_seen = '%sT00:00:00.000Z'"
		 " WHERE hostname = 'web2'",
		 seen_old);
	srv_exec(f, f->db, sql);

	assert_int_equal(list_count(f, NULL), 4);
	pw_host_filter flt = PW_HOST_FILTER_INIT;
	flt.category = "WEB";
	assert_int_equal(list_count(f, &flt), 2);
	flt.overdue = true;
	pw_host_list l = PW_HOST_LIST_INIT;
	CHECK(f, pw_host_list_query(f->db, &flt, &l, &f->e));
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].f[PW_HF_HOSTNAME], "web2");
	pw_host_list_release(&l);
	flt = (pw_host_filter)PW_HOST_FILTER_INIT;
	flt.overdue = true; /* never patched counts */
	assert_int_equal(list_count(f, &flt), 3);
	flt = (pw_host_filter)PW_HOST_FILTER_INIT;
	flt.min_criticality = 5;
	assert_int_equal(list_count(f, &flt), 2);
	flt.environment = "production";
	assert_int_equal(list_count(f, &flt), 1);
	flt = (pw_host_filter)PW_HOST_FILTER_INIT;
	flt.owner_group = "webops";
	assert_int_equal(list_count(f, &flt), 1);
	flt = (pw_host_filter)PW_HOST_FILTER_INIT;
	flt.exposure = "internet";
	assert_int_equal(list_count(f, &flt), 1);
	flt = (pw_host_filter)PW_HOST_FILTER_INIT;
	flt.stale_days = 7; /* web2 seen 30 days ago, dc1 never */
	CHECK(f, pw_host_list_query(f->db, &flt, &l, &f->e));
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].f[PW_HF_HOSTNAME], "dc1");
	assert_string_equal(l.v[1].f[PW_HF_HOSTNAME], "web2");
	pw_host_list_release(&l);
	flt.stale_days = 60;
	assert_int_equal(list_count(f, &flt), 1);

	flt = (pw_host_filter)PW_HOST_FILTER_INIT;
	flt.category = "printers";
	REFUSED(f, PW_ERR_INVALID, "category: 'printers' is not one of",
		pw_host_list_query(f->db, &flt, &l, &f->e));
	flt = (pw_host_filter)PW_HOST_FILTER_INIT;
	flt.min_criticality = 7;
	REFUSED(f, PW_ERR_INVALID, "criticality", pw_host_list_query(f->db, &flt, &l, &f->e));
	assert_int_equal(l.n, 0);
}

static const char fleet_csv[] =
	"hostname,category,criticality,location,maintenance_window,last_patched,ticket\r\n"
	"web1,web,3,\"DC1, rack 4\",Sun 01:00-04:00,2024-01-15,\r\n"
	"db1,database,5,\"the \"\"blue\"\" room\",,,CHG-1\r\n"
	"\r\n"
	"mail1,mail,,\" DC2\",daily 02:00-03:00,,\r\n";

/* The hostnames of a page, comma-separated, in got. */
static pw_err page_names(pw_db *db, const pw_host_filter *flt, int64_t after, int64_t limit,
			 pw_buf *got, pw_error *err)
{
	pw_host_list l = PW_HOST_LIST_INIT;
	pw_buf_reset(got);
	pw_err rc = pw_host_page(db, flt, after, limit, &l, err);
	for (size_t i = 0; !rc && i < l.n; i++)
		rc = pw_buf_printf(got, "%s%s", i ? "," : "", l.v[i].f[PW_HF_HOSTNAME]);
	pw_host_list_release(&l);
	return rc;
}

/* A page by id of the hosts a filter matches, as the API lists them. */
static void test_page(void **state)
{
	struct srv *f = *state;
	static const char *const names[] = {"p1", "p2", "p3", "p4", "p5"};
	for (size_t i = 0; i < 5; i++)
		add(f, names[i], &(pw_host_assign){PW_HF_CATEGORY, i % 2 ? "mail" : "web"}, 1);
	pw_host_filter flt = PW_HOST_FILTER_INIT;
	flt.category = "web";
	pw_buf got = PW_BUF_INIT;
	CHECK(f, page_names(f->db, &flt, 0, 2, &got, &f->e));
	assert_string_equal(pw_buf_str(&got), "p1,p3");
	int64_t p3 = srv_int(f, "SELECT id FROM hosts WHERE hostname = ?", "p3");
	CHECK(f, page_names(f->db, &flt, p3, 2, &got, &f->e));
	assert_string_equal(pw_buf_str(&got), "p5");
	CHECK(f, page_names(f->db, NULL, p3, 100, &got, &f->e));
	assert_string_equal(pw_buf_str(&got), "p4,p5");
	flt.category = "kitchen";
	REFUSED(f, PW_ERR_INVALID, "category: 'kitchen' is not one of",
		page_names(f->db, &flt, 0, 2, &got, &f->e));
	REFUSED(f, PW_ERR_INVALID, "a limit of 1 or more",
		page_names(f->db, NULL, 0, 0, &got, &f->e));
	pw_buf_release(&got);
}

static void test_csv_import_export(void **state)
{
	struct srv *f = *state;
	add(f, "db1",
	    (pw_host_assign[]){{PW_HF_CATEGORY, "database"},
			       {PW_HF_CRITICALITY, "5"},
			       {PW_HF_PURPOSE, "orders"}},
	    3);
	pw_host_import_stats st;
	CHECK(f, pw_host_import_csv(f->db, ACTOR, "fleet.csv", fleet_csv, strlen(fleet_csv), &st,
				    &f->e));
	assert_int_equal(st.rows, 3);
	assert_int_equal(st.created, 2);
	assert_int_equal(st.updated, 1);
	assert_int_equal(events(f, "host.import"), 3);
	pw_host h = PW_HOST_INIT;
	CHECK(f, pw_host_get_by_name(f->db, "db1", &h, &f->e));
	assert_string_equal(h.f[PW_HF_LOCATION], "the \"blue\" room");
	assert_string_equal(h.f[PW_HF_PURPOSE], "orders"); /* not a column: kept */
	pw_host_release(&h);
	CHECK(f, pw_host_get_by_name(f->db, "web1", &h, &f->e));
	assert_string_equal(h.f[PW_HF_LOCATION], "DC1, rack 4");
	assert_string_equal(h.f[PW_HF_LAST_PATCHED], "2024-01-15T00:00:00.000Z");
	pw_host_release(&h);
	CHECK(f, pw_host_import_csv(f->db, ACTOR, "fleet.csv", fleet_csv, strlen(fleet_csv), &st,
				    &f->e));
	assert_int_equal(st.unchanged, 3);
	assert_int_equal(events(f, "host.import"), 3);

	/* Export, import into a fresh host table, export again: the same. */
	pw_buf one = PW_BUF_INIT, two = PW_BUF_INIT;
	CHECK(f, pw_host_export_csv(f->db, NULL, &one, &f->e));
	srv_contains(pw_buf_str(&one), "hostname,location,purpose,category,owner_group,app_owner,"
				       "criticality,exposure,environment,maintenance_window,"
				       "backup_check,health_check,last_patched,ticket\r\n");
	srv_contains(pw_buf_str(&one), "mail1,\" DC2\",,mail,");
	srv_contains(pw_buf_str(&one),
		     "web1,\"DC1, rack 4\",,web,,,3,,,Sun 01:00-04:00,,,2024-01-15,\r\n");
	srv_exec(f, f->db, "DELETE FROM hosts");
	CHECK(f, pw_host_import_csv(f->db, ACTOR, "export.csv", pw_buf_str(&one), one.len, &st,
				    &f->e));
	assert_int_equal(st.created, 3);
	CHECK(f, pw_host_export_csv(f->db, NULL, &two, &f->e));
	assert_string_equal(pw_buf_str(&one), pw_buf_str(&two));
	pw_buf_release(&one);
	pw_buf_release(&two);
}

static void test_csv_errors(void **state)
{
	struct srv *f = *state;
	static const struct {
		const char *csv, *msg;
	} cases[] = {
		{"", "x.csv:1:1: the file is empty"},
		{"location\nDC1\n", "x.csv:1:1: the header row has no hostname column"},
		{"hostname,colour\n", "x.csv:1:10: column 'colour' is not a host field"},
		{"hostname,kernel\n", "x.csv:1:10: column 'kernel' is not a host field"},
		{"hostname,ticket,ticket\n", "x.csv:1:17: column ticket appears twice"},
		{"hostname,category\nweb1,web\nweb2,printer\n",
		 "x.csv:3:6: category: 'printer' is not one of"},
		{"hostname,criticality\nweb1,9\n", "x.csv:2:6: criticality: '9' is not 1"},
		{"hostname,ticket\nweb1\n", "x.csv:2:1: this row has 1 fields, the header 2"},
		{"hostname,ticket\nweb1,a,b\n",
		 "x.csv:2:8: more fields than the header has columns"},
		{"hostname,ticket\nweb1,\"CHG\n1\n", "x.csv:2:6: this quoted field never ends"},
		{"hostname,ticket\nweb1,\"CHG\"x\n", "x.csv:2:11: text after a closing quote"},
		{"hostname,ticket\nweb1,CH\"G\n", "x.csv:2:8: a quote inside an unquoted field"},
		{"hostname,ticket\nweb1,C\rG\n", "x.csv:2:7: a carriage return not followed"},
		{"hostname,ticket\nweb1,a\nWEB1,b\n",
		 "x.csv:3:1: host web1 appears again (first on line 2)"},
		{"hostname,ticket\n\"web9\",x\nbad_name,y\n", "x.csv:3:1: hostname: 'bad_name'"},
		{"hostname,ticket\nweb1,\"a\nb\"x\n", "x.csv:3:3: text after a closing quote"},
		{"hostname,ticket\nweb1,\"a\nb\"\n", "x.csv:2:6: ticket: the value must be"},
		{"hostname\n,\n", "x.csv:2:2: more fields than the header"},
		{"hostname\n\"\"\n", "x.csv:2:1: hostname: a host needs a name"},
		{"hostname,location\nweb1,Z\xfcrich\n", "x.csv:2:6: location: the value must be "
							"at most 256 bytes of UTF-8 text"},
		/* Every bad row is named, the first with its message. */
		{"hostname,criticality\nweb1,9\nweb2,3\nweb3,x\nweb4\nweb2,1\n",
		 "x.csv:2:6: criticality: '9' is not 1 (least) to 5 (most critical); 3 more bad "
		 "rows, on lines 4, 5, 6"},
		{"hostname\nb_1\nb_2\nb_3\nb_4\nb_5\nb_6\nb_7\nb_8\nb_9\nb_10\nb_11\nb_12\nok\n",
		 "x.csv:2:1: hostname: 'b_1'"},
		{"hostname\nb_1\nb_2\nb_3\nb_4\nb_5\nb_6\nb_7\nb_8\nb_9\nb_10\nb_11\nb_12\nok\n",
		 "; 11 more bad rows, on lines 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 and later"},
	};
	add(f, "keep", NULL, 0);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		pw_host_import_stats st = {9, 9, 9, 9};
		pw_err rc = pw_host_import_csv(f->db, ACTOR, "x.csv", cases[i].csv,
					       strlen(cases[i].csv), &st, &f->e);
		if (rc == PW_OK)
			fail_msg("case %zu accepted", i);
		if (!strstr(f->e.msg, cases[i].msg))
			fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, f->e.msg,
				 cases[i].msg);
		assert_int_equal(st.rows, 0);
	}
	/* Nothing written by any of them. */
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM hosts", NULL), 1);
	assert_int_equal(events(f, "host.import"), 0);
	/* A NUL byte. */
	static const char nul[] = "hostname\nab\0c\n";
	pw_host_import_stats st;
	REFUSED(f, PW_ERR_PARSE, "x.csv:2:3: a NUL byte",
		pw_host_import_csv(f->db, ACTOR, "x.csv", nul, sizeof nul - 1, &st, &f->e));
	/* A row the database refuses (a hostname two agent-made hosts
	 * share) rolls back the rows before it. */
	srv_exec(f, f->db,
		 "INSERT INTO hosts (hostname, created) VALUES ('twin', 'x'), ('twin', 'y')");
	static const char twin[] = "hostname,ticket\nnew1,a\ntwin,b\n";
	REFUSED(f, PW_ERR_INVALID, "x.csv:3: host twin: hostname twin is ambiguous: hosts",
		pw_host_import_csv(f->db, ACTOR, "x.csv", twin, sizeof twin - 1, &st, &f->e));
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM hosts WHERE hostname = ?", "new1"), 0);
	assert_int_equal(events(f, "host.import"), 0);
}

static void test_shared_name(void **state)
{
	struct srv *f = *state;
	/* Two agents enrolled with one hostname. */
	srv_exec(f, f->db,
		 "INSERT INTO hosts (hostname, created) VALUES ('twin', 'x'), ('twin', 'y')");
	int64_t a = srv_int(f, "SELECT MIN(id) FROM hosts WHERE hostname = ?", "twin");
	int64_t b = srv_int(f, "SELECT MAX(id) FROM hosts WHERE hostname = ?", "twin");
	char want[120], ref[40];
	snprintf(want, sizeof want,
		 "hostname twin is ambiguous: hosts %lld and %lld share it; "
		 "name one by id (\"id:%lld\")",
		 (long long)a, (long long)b, (long long)b);
	pw_host h = PW_HOST_INIT;
	REFUSED(f, PW_ERR_INVALID, want, pw_host_get_by_name(f->db, "twin", &h, &f->e));
	REFUSED(f, PW_ERR_INVALID, want,
		pw_host_set(f->db, ACTOR, "twin", &(pw_host_assign){PW_HF_TICKET, "T-1"}, 1, NULL,
			    &f->e));
	snprintf(ref, sizeof ref, "id:%lld", (long long)b);
	/* Editing one without renaming it is fine; so is renaming it. */
	set1(f, ref, PW_HF_TICKET, "T-1");
	set1(f, ref, PW_HF_HOSTNAME, "twin2");
	CHECK(f, pw_host_get_by_name(f->db, "twin", &h, &f->e));
	assert_int_equal(h.id, a);
	pw_host_release(&h);
	CHECK(f, pw_host_get_by_name(f->db, ref, &h, &f->e));
	assert_string_equal(h.f[PW_HF_HOSTNAME], "twin2");
	assert_string_equal(h.f[PW_HF_TICKET], "T-1");
	pw_host_release(&h);
	REFUSED(f, PW_ERR_NOTFOUND, "no host with id 9999",
		pw_host_set(f->db, ACTOR, "id:9999", &(pw_host_assign){PW_HF_TICKET, "x"}, 1, NULL,
			    &f->e));
	REFUSED(f, PW_ERR_INVALID, "not a valid host name",
		pw_host_create(f->db, ACTOR, "id:5", NULL, 0, NULL, &f->e));
}

static void test_csv_bom_and_blank_lines(void **state)
{
	struct srv *f = *state;
	static const char csv[] = "\xEF\xBB\xBFHostname,Owner-Group\n\nfs1,infra\n\n";
	pw_host_csv c = PW_HOST_CSV_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_host_csv_parse("b.csv", csv, sizeof csv - 1, &c, &e);
	(void)f;
	assert_int_equal(rc, PW_OK);
	assert_int_equal(c.ncols, 2);
	assert_int_equal(c.nrows, 1);
	assert_int_equal(c.lines[0], 3);
	assert_string_equal(c.cells[1], "infra");
	pw_host_csv_release(&c);
}

/* A finding with the fields the tests set; the rest zero. */
#define HF(pkg, adv, inst, fix, prio, cv)                                                          \
	{                                                                                          \
		.package = (pkg), .advisory = (adv), .installed = (inst), .fixed = (fix),          \
		.priority = (prio), .cves = (cv)                                                   \
	}

static void test_findings(void **state)
{
	struct srv *f = *state;
	int64_t id = 0;
	CHECK(f, pw_host_create(f->db, ACTOR, "web1", NULL, 0, &id, &f->e));
	pw_host_finding scan1[] = {
		HF("openssl", "DSA-5678-1", "3.0.11-1", "3.0.13-1", PW_HOST_PRIO_HIGH,
		   "CVE-2024-1"),
		HF("curl", "DSA-5600-1", "7.88.1-10", "7.88.1-10+deb12u5", PW_HOST_PRIO_EMERGENCY,
		   "CVE-2024-2,CVE-2024-3"),
		HF("zlib", "DSA-5500-1", "1.2.13", "1.2.13.dfsg-1", PW_HOST_PRIO_LOW, ""),
	};
	pw_host_findings_delta d;
	CHECK(f, pw_host_findings_replace(f->db, id, scan1, 3, &d, &f->e));
	assert_int_equal(d.opened, 3);
	int64_t counts[PW_HOST_PRIO__COUNT];
	CHECK(f, pw_host_findings_count(f->db, id, counts, &f->e));
	assert_int_equal(counts[PW_HOST_PRIO_EMERGENCY], 1);
	assert_int_equal(counts[PW_HOST_PRIO_HIGH], 1);
	assert_int_equal(counts[PW_HOST_PRIO_NORMAL], 0);
	assert_int_equal(counts[PW_HOST_PRIO_LOW], 1);
	srv_exec(f, f->db, "UPDATE findings SET first_seen = '2020-01-01T00:00:00.000Z'");

	/* curl fixed, openssl persists with a new priority, bash is new. */
	pw_host_finding scan2[] = {
		HF("openssl", "DSA-5678-1", "3.0.11-1", "3.0.13-1", PW_HOST_PRIO_EMERGENCY,
		   "CVE-2024-1"),
		HF("bash", "DSA-5700-1", "5.2-1", "5.2-2", PW_HOST_PRIO_NORMAL, ""),
		HF("zlib", "DSA-5500-1", "1.2.13", "1.2.13.dfsg-1", PW_HOST_PRIO_LOW, ""),
	};
	CHECK(f, pw_host_findings_replace(f->db, id, scan2, 3, &d, &f->e));
	assert_int_equal(d.opened, 1);
	assert_int_equal(d.kept, 2);
	assert_int_equal(d.fixed, 1);
	char *fs = srv_text(f, "SELECT first_seen FROM findings WHERE package = ?", "openssl");
	assert_string_equal(fs, "2020-01-01T00:00:00.000Z");
	free(fs);
	char *pr = srv_text(f, "SELECT priority FROM findings WHERE package = ?", "openssl");
	assert_string_equal(pr, "emergency");
	free(pr);
	assert_int_equal(srv_int(f,
				 "SELECT COUNT(*) FROM findings WHERE package = ? AND fixed_at "
				 "IS NOT NULL",
				 "curl"),
			 1);
	pw_host h = PW_HOST_INIT;
	CHECK(f, pw_host_get(f->db, id, &h, &f->e));
	assert_int_equal(h.open_findings[PW_HOST_PRIO_EMERGENCY], 1);
	assert_int_equal(h.open_findings[PW_HOST_PRIO_HIGH], 0);
	assert_int_equal(h.open_findings[PW_HOST_PRIO_NORMAL], 1);
	assert_int_equal(h.open_findings[PW_HOST_PRIO_LOW], 1);
	pw_host_release(&h);

	/* curl comes back: a new open finding, the fixed one stays on record. */
	CHECK(f, pw_host_findings_replace(f->db, id, scan1, 3, &d, &f->e));
	assert_int_equal(d.opened, 1);
	assert_int_equal(d.fixed, 1);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM findings WHERE package = ?", "curl"), 2);

	/* A clean scan closes everything. */
	CHECK(f, pw_host_findings_replace(f->db, id, NULL, 0, &d, &f->e));
	assert_int_equal(d.fixed, 3);
	CHECK(f, pw_host_findings_count(f->db, id, counts, &f->e));
	for (int p = 0; p < PW_HOST_PRIO__COUNT; p++)
		assert_int_equal(counts[p], 0);

	pw_host_finding dup[] = {scan1[0], scan1[0]};
	REFUSED(f, PW_ERR_INVALID, "finding openssl DSA-5678-1 is listed twice",
		pw_host_findings_replace(f->db, id, dup, 2, &d, &f->e));
	pw_host_finding noname[] = {HF("", "X", "1", "2", PW_HOST_PRIO_LOW, "")};
	REFUSED(f, PW_ERR_INVALID, "finding 1: package",
		pw_host_findings_replace(f->db, id, noname, 1, &d, &f->e));
	REFUSED(f, PW_ERR_NOTFOUND, "no host with id 4242",
		pw_host_findings_replace(f->db, 4242, scan1, 1, &d, &f->e));
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM findings WHERE fixed_at IS NULL", NULL),
			 0);
}

/* A stand-in for the matcher: findings by inventory content. */
struct fake_scan {
	int calls;
	char seen[8][80];
};

static pw_err fake_scan(void *ctx, const pw_host_scan_in *in, pw_host_scan_out *out, pw_error *err)
{
	static const pw_host_finding two[] = {
		HF("openssl", "DSA-1", "1", "2", PW_HOST_PRIO_HIGH, "CVE-2024-1"),
		HF("curl", "DSA-2", "1", "2", PW_HOST_PRIO_EMERGENCY, ""),
	};
	static const pw_host_hold held[] = {{"openssl", "fixed on disk, old code runs"}};
	struct fake_scan *fs = ctx;
	const char *hash = in->inventory_hash, *json = in->inventory_json;
	char key[80];
	snprintf(key, sizeof key, "%s/%s/%s", hash, in->exposure ? in->exposure : "-",
		 in->runtime_json ? in->runtime_json : "-");
	for (int i = 0; i < fs->calls; i++)
		if (!strcmp(fs->seen[i], key))
			fail_msg("inventory %s scanned twice", key);
	snprintf(fs->seen[fs->calls++], sizeof fs->seen[0], "%s", key);
	if (strstr(json, "broken"))
		return pw_error_set(err, PW_ERR_PARSE, "inventory %s: broken", hash);
	if (strstr(json, "nodata"))
		return pw_error_set(err, PW_ERR_UNSUPPORTED, "inventory %s: no data", hash);
	bool both = strstr(json, "\"both\"") != NULL;
	bool hold = in->runtime_json && strstr(in->runtime_json, "held");
	*out = (pw_host_scan_out){both ? two : two + 1, both ? 2 : 1, hold ? held : NULL, hold};
	return PW_OK;
}

/* Hosts with other runtime facts are scanned apart; a hold keeps an open
 * finding open (fixed on disk, the old code still running) until the
 * facts no longer hold it. */
static void test_recompute_holds(void **state)
{
	struct srv *f = *state;
	int64_t ids[2];
	const char *names[2] = {"x1", "x2"};
	for (int i = 0; i < 2; i++)
		CHECK(f, pw_host_create(f->db, ACTOR, names[i], NULL, 0, &ids[i], &f->e));
	srv_exec(f, f->db,
		 "INSERT INTO inventories (hash, json, first_seen) VALUES"
		 " ('h1', '{\"both\": true}', 'x'), ('h2', '{\"one\": true}', 'x')");
	srv_exec(f, f->db, "UPDATE hosts SET inventory_hash = 'h1'");
	struct fake_scan fs = {0, {{0}}};
	pw_host_recompute_stats st;
	CHECK(f, pw_host_recompute_findings(f->db, fake_scan, &fs, &st, &f->e));
	assert_int_equal(st.delta.opened, 4);
	/* openssl upgraded on both (h2); x1 still runs its old code. */
	srv_exec(f, f->db, "UPDATE hosts SET inventory_hash = 'h2'");
	srv_exec(f, f->db,
		 "UPDATE hosts SET runtime = '{\"held\": 1}', runtime_hash = 'r1'"
		 " WHERE hostname = 'x1'");
	fs.calls = 0;
	CHECK(f, pw_host_recompute_findings(f->db, fake_scan, &fs, &st, &f->e));
	assert_int_equal(fs.calls, 2);
	assert_int_equal(st.delta.fixed, 1);
	assert_int_equal(st.delta.kept, 3);
	int64_t counts[PW_HOST_PRIO__COUNT];
	CHECK(f, pw_host_findings_count(f->db, ids[0], counts, &f->e));
	assert_int_equal(counts[PW_HOST_PRIO_HIGH], 1);
	CHECK(f, pw_host_findings_count(f->db, ids[1], counts, &f->e));
	assert_int_equal(counts[PW_HOST_PRIO_HIGH], 0);
	char *why = srv_text(f,
			     "SELECT reason FROM findings WHERE package = 'openssl'"
			     " AND fixed_at IS NULL AND host_id = (SELECT id FROM hosts"
			     " WHERE hostname = ?)",
			     "x1");
	assert_string_equal(why, "fixed on disk, old code runs");
	free(why);
	/* The process restarted: the facts hold it no more. */
	srv_exec(f, f->db, "UPDATE hosts SET runtime = '{}', runtime_hash = 'r2'");
	pw_host_findings_delta d;
	CHECK(f, pw_host_recompute_host(f->db, ids[0], fake_scan, &fs, &d, &f->e));
	assert_int_equal(d.fixed, 1);
	CHECK(f, pw_host_findings_count(f->db, ids[0], counts, &f->e));
	assert_int_equal(counts[PW_HOST_PRIO_HIGH], 0);
}

static void test_recompute(void **state)
{
	struct srv *f = *state;
	int64_t ids[4];
	const char *names[4] = {"a1", "a2", "b1", "none"};
	for (int i = 0; i < 4; i++)
		CHECK(f, pw_host_create(f->db, ACTOR, names[i], NULL, 0, &ids[i], &f->e));
	srv_exec(f, f->db,
		 "INSERT INTO inventories (hash, json, first_seen) VALUES"
		 " ('h1', '{\"both\": true}', 'x'), ('h2', '{\"one\": true}', 'x'),"
		 " ('h3', '{\"broken\": true}', 'x')");
	srv_exec(f, f->db, "UPDATE hosts SET inventory_hash = 'h1' WHERE hostname IN ('a1', 'a2')");
	srv_exec(f, f->db, "UPDATE hosts SET inventory_hash = 'h2' WHERE hostname = 'b1'");
	/* Priorities depend on exposure: a2 is scanned apart from a1. */
	set1(f, "a2", PW_HF_EXPOSURE, "internet");
	struct fake_scan fs = {0, {{0}}};
	pw_host_recompute_stats st;
	CHECK(f, pw_host_recompute_findings(f->db, fake_scan, &fs, &st, &f->e));
	assert_int_equal(fs.calls, 3);
	assert_int_equal(st.inventories, 3);
	assert_int_equal(st.hosts, 3);
	assert_int_equal(st.delta.opened, 5);
	int64_t counts[PW_HOST_PRIO__COUNT];
	CHECK(f, pw_host_findings_count(f->db, ids[1], counts, &f->e));
	assert_int_equal(counts[PW_HOST_PRIO_HIGH], 1);
	assert_int_equal(counts[PW_HOST_PRIO_EMERGENCY], 1);
	CHECK(f, pw_host_findings_count(f->db, ids[3], counts, &f->e));
	assert_int_equal(counts[PW_HOST_PRIO_EMERGENCY], 0);

	/* A new snapshot with the same answers changes nothing. */
	fs.calls = 0;
	CHECK(f, pw_host_recompute_findings(f->db, fake_scan, &fs, &st, &f->e));
	assert_int_equal(st.delta.opened, 0);
	assert_int_equal(st.delta.kept, 5);

	/* a1's inventory changes to h2: only a1 is rescanned. */
	srv_exec(f, f->db, "UPDATE hosts SET inventory_hash = 'h2' WHERE hostname = 'a1'");
	fs.calls = 0;
	pw_host_findings_delta d;
	CHECK(f, pw_host_recompute_host(f->db, ids[0], fake_scan, &fs, &d, &f->e));
	assert_int_equal(fs.calls, 1);
	assert_int_equal(d.kept, 1);
	assert_int_equal(d.fixed, 1);
	CHECK(f, pw_host_findings_count(f->db, ids[0], counts, &f->e));
	assert_int_equal(counts[PW_HOST_PRIO_HIGH], 0);
	REFUSED(f, PW_ERR_NOTFOUND, "has no inventory yet",
		pw_host_recompute_host(f->db, ids[3], fake_scan, &fs, &d, &f->e));

	/* An inventory the scan cannot cover is skipped: its host keeps its
	 * findings and the others are done. */
	srv_exec(f, f->db,
		 "INSERT INTO inventories (hash, json, first_seen) VALUES"
		 " ('h0', '{\"nodata\": true}', 'x')");
	srv_exec(f, f->db, "UPDATE hosts SET inventory_hash = 'h0' WHERE hostname = 'a2'");
	fs.calls = 0;
	CHECK(f, pw_host_recompute_findings(f->db, fake_scan, &fs, &st, &f->e));
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.hosts, 2);
	assert_int_equal(st.inventories, 1);
	CHECK(f, pw_host_findings_count(f->db, ids[1], counts, &f->e));
	assert_int_equal(counts[PW_HOST_PRIO_HIGH], 1);
	fs.calls = 0;
	REFUSED(f, PW_ERR_UNSUPPORTED, "inventory h0: no data",
		pw_host_recompute_host(f->db, ids[1], fake_scan, &fs, &d, &f->e));

	/* Any other scan error stops the run and names the inventory. */
	srv_exec(f, f->db, "UPDATE hosts SET inventory_hash = 'h3' WHERE hostname = 'none'");
	fs.calls = 0;
	REFUSED(f, PW_ERR_PARSE, "inventory h3: broken",
		pw_host_recompute_findings(f->db, fake_scan, &fs, &st, &f->e));
}

/* The real matcher behind the callback: one Debian 12 advisory. */
static void test_recompute_with_matcher(void **state)
{
	struct srv *f = *state;
	pw_advindex *idx = NULL;
	CHECK(f, pw_advindex_new(&idx, &f->e));
	const char *cves[] = {"CVE-2024-0001", "CVE-2024-0002"};
	pw_affected af = {"debian:12", "openssl", true, PW_FIX_FIXED, "3.0.13-1~deb12u1", NULL};
	pw_advisory a = {.id = "DSA-5678-1",
			 .source = "test",
			 .cves = cves,
			 .n_cves = 2,
			 .severity = PW_SEV_HIGH,
			 .attack_vector = PW_AV_NETWORK,
			 .affected = &af,
			 .n_affected = 1};
	CHECK(f, pw_advindex_add(idx, &a, &f->e));
	pw_policy policy;
	pw_policy_defaults(&policy);
	int64_t id = 0, other = 0;
	CHECK(f, pw_host_create(f->db, ACTOR, "deb1", NULL, 0, &id, &f->e));
	CHECK(f, pw_host_create(f->db, ACTOR, "alma1", NULL, 0, &other, &f->e));
	srv_exec(f, f->db,
		 "INSERT INTO inventories (hash, json, first_seen) VALUES ('d12', '{\"os\":{\"id\":"
		 "\"debian\",\"version_id\":\"12\"},\"scheme\":\"deb\",\"packages\":["
		 "{\"name\":\"libssl3\",\"version\":\"3.0.11-1~deb12u2\",\"source\":\"openssl\"},"
		 "{\"name\":\"bash\",\"version\":\"5.2.15-2+b2\"}]}', 'x'),"
		 " ('nodata', '{\"os\":{\"id\":\"almalinux\",\"version_id\":\"9\"},"
		 "\"scheme\":\"rpm\",\"packages\":[]}', 'x')");
	srv_exec(f, f->db, "UPDATE hosts SET inventory_hash = 'd12' WHERE hostname = 'deb1'");
	pw_host_matcher m = PW_HOST_MATCHER_INIT(idx, &policy);
	pw_host_findings_delta d;
	CHECK(f, pw_host_recompute_host(f->db, id, pw_host_matcher_scan, &m, &d, &f->e));
	assert_int_equal(d.opened, 1);
	char *cv = srv_text(f,
			    "SELECT package || ' ' || advisory || ' ' || installed || ' ' ||"
			    " fixed || ' ' || cves FROM findings",
			    NULL);
	assert_string_equal(cv, "openssl DSA-5678-1 3.0.11-1~deb12u2 3.0.13-1~deb12u1 "
				"CVE-2024-0001,CVE-2024-0002");
	free(cv);
	/* The agent's runtime facts: no process uses libssl3, so the same
	 * rule as a scan of / ranks it low. */
	srv_exec(f, f->db,
		 "UPDATE hosts SET runtime_hash = 'rt0', runtime = '{\"in_use_known\":true,"
		 "\"processes\":3,\"in_use\":[\"bash\"],\"unknown\":[],\"restarts\":[]}'"
		 " WHERE hostname = 'deb1'");
	CHECK(f, pw_host_recompute_host(f->db, id, pw_host_matcher_scan, &m, &d, &f->e));
	cv = srv_text(f, "SELECT priority || ': ' || reason FROM findings", NULL);
	assert_string_equal(cv, "low: installed, but no running process uses its files");
	free(cv);
	/* Upgraded on disk while nginx still maps the old library: open. */
	srv_exec(f, f->db,
		 "INSERT INTO inventories (hash, json, first_seen) VALUES ('d12b', '{\"os\":{"
		 "\"id\":\"debian\",\"version_id\":\"12\"},\"scheme\":\"deb\",\"packages\":["
		 "{\"name\":\"libssl3\",\"version\":\"3.0.13-1~deb12u1\",\"arch\":\"amd64\","
		 "\"source\":\"openssl\"}]}', 'x')");
	srv_exec(f, f->db,
		 "UPDATE hosts SET inventory_hash = 'd12b', runtime_hash = 'rt1', runtime ="
		 " '{\"in_use_known\":true,\"in_use\":[\"libssl3:amd64\"],\"restarts\":[{"
		 "\"pid\":812,\"process\":\"nginx\",\"path\":\"/usr/lib/x86_64-linux-gnu/"
		 "libssl.so.3\",\"package\":\"libssl3:amd64\",\"unit\":\"nginx.service\"}]}'"
		 " WHERE hostname = 'deb1'");
	CHECK(f, pw_host_recompute_host(f->db, id, pw_host_matcher_scan, &m, &d, &f->e));
	assert_int_equal(d.kept, 1);
	assert_int_equal(d.fixed, 0);
	cv = srv_text(f, "SELECT reason FROM findings WHERE fixed_at IS NULL", NULL);
	assert_string_equal(cv, "fixed on disk (libssl3 3.0.13-1~deb12u1 installed), but nginx "
				"(pid 812, nginx.service) still runs the old code: it maps the "
				"deleted /usr/lib/x86_64-linux-gnu/libssl.so.3; open until it "
				"restarts or the host reboots");
	free(cv);
	/* nginx restarted: fixed. */
	srv_exec(f, f->db,
		 "UPDATE hosts SET runtime_hash = 'rt2', runtime = '{\"in_use_known\":true}'"
		 " WHERE hostname = 'deb1'");
	CHECK(f, pw_host_recompute_host(f->db, id, pw_host_matcher_scan, &m, &d, &f->e));
	assert_int_equal(d.fixed, 1);
	srv_exec(f, f->db, "UPDATE hosts SET inventory_hash = 'd12' WHERE hostname = 'deb1'");
	/* An OS the index has no data for fails, naming the inventory. */
	srv_exec(f, f->db, "UPDATE hosts SET inventory_hash = 'nodata' WHERE hostname = 'alma1'");
	pw_host_recompute_stats st;
	pw_err rc = pw_host_recompute_findings(f->db, pw_host_matcher_scan, &m, &st, &f->e);
	assert_int_not_equal(rc, PW_OK);
	srv_contains(f->e.msg, "inventory nodata: ");
	pw_host_matcher_release(&m);
	pw_advindex_free(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_value_checks),      T(test_create_get_set),
		T(test_filters),           T(test_page),
		T(test_csv_import_export), T(test_csv_errors),
		T(test_shared_name),       T(test_csv_bom_and_blank_lines),
		T(test_findings),          T(test_recompute),
		T(test_recompute_holds),   T(test_recompute_with_matcher),
	};
	return srv_run("hosts", tests, sizeof tests / sizeof *tests);
}
