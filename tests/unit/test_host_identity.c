/* Who a host is: one hostname check for every writer (enrollment, re-key,
 * host add/set, CSV import), CSV cells a spreadsheet would run as
 * formulas, and re-keys that must prove the old credential or wait for an
 * operator (issue 10: bug 5, bug 6, "host takeover by machine_id"), on
 * SQLite and PostgreSQL. */
#include <cjson/cJSON.h>

#include "servertest.h"

#include "patchwarden/agents.h"
#include "patchwarden/audit.h"
#include "patchwarden/buf.h"
#include "patchwarden/hosts.h"
#include "patchwarden/host_csv.h"

#define ACTOR "cli:test"

static void token(struct srv *f, char tok[PW_ENROLL_TOKEN_MAX])
{
	CHECK(f, pw_enroll_token_create(f->db, ACTOR, "test hosts", 100, 3600, tok, NULL, &f->e));
}

static pw_err enroll(struct srv *f, const char *tok, const char *host, const char *mid,
		     const char *cred, pw_enrollment *out)
{
	pw_enroll_request r = {
		tok, host, mid, "debian", "12", "bookworm", "Debian GNU/Linux 12", "amd64", cred};
	return pw_agent_enroll(f->db, &r, out, &f->e);
}

static int64_t events(struct srv *f, const char *action)
{
	return srv_int(f, "SELECT COUNT(*) FROM audit_events WHERE action = ?", action);
}

/* ---- bug 5: hostnames ------------------------------------------------ */

static void test_enroll_hostname_checked(void **state)
{
	struct srv *f = *state;
	char tok[PW_ENROLL_TOKEN_MAX];
	token(f, tok);
	pw_enrollment en;
	char long_label[80], too_long[300];
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	memset(too_long, 'a', 254);
	for (int i = 63; i < 254; i += 64)
		too_long[i] = '.';
	too_long[254] = '\0';
	const char *bad[] = {"web_01", "-web", "web-",   "a..b",     ".web",
			     "web 01", "wéb",  "web;ls", long_label, too_long};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		REFUSED(f, PW_ERR_INVALID, "not a valid host name",
			enroll(f, tok, bad[i], "m-bad", NULL, &en));
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM hosts", NULL), 0);

	CHECK(f, enroll(f, tok, "WEB-01.Example.ORG", "m-1", NULL, &en));
	char *s = srv_text(f, "SELECT hostname FROM hosts WHERE machine_id = ?", "m-1");
	assert_string_equal(s, "web-01.example.org");
	free(s);
}

/* A re-key may rename its host, not to another host's name in any case. */
static void test_rekey_name_taken(void **state)
{
	struct srv *f = *state;
	char tok[PW_ENROLL_TOKEN_MAX];
	token(f, tok);
	pw_enrollment a, b, again;
	CHECK(f, enroll(f, tok, "host-a", "m-a", NULL, &a));
	CHECK(f, enroll(f, tok, "host-b", "m-b", NULL, &b));
	REFUSED(f, PW_ERR_CONFLICT, "host-b is already the name of host",
		enroll(f, tok, "HOST-B", "m-a", a.credential, &again));
	REFUSED(f, PW_ERR_CONFLICT, "already the name",
		enroll(f, tok, "host-b", "m-a", NULL, &again));
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM hosts WHERE lower(hostname) = ?",
				 "host-b"),
			 1);
	/* Its own name in another case is its own. */
	CHECK(f, enroll(f, tok, "Host-A", "m-a", a.credential, &again));
	assert_true(again.rekeyed);
	char *s = srv_text(f, "SELECT hostname FROM hosts WHERE machine_id = ?", "m-a");
	assert_string_equal(s, "host-a");
	free(s);
}

/* host set and CSV import compare names without case too; a rename onto
 * a taken name is a conflict (the API's 409), not a bad value. */
static void test_set_name_taken(void **state)
{
	struct srv *f = *state;
	CHECK(f, pw_host_create(f->db, ACTOR, "host-a", NULL, 0, NULL, &f->e));
	CHECK(f, pw_host_create(f->db, ACTOR, "host-b", NULL, 0, NULL, &f->e));
	pw_host_assign to_b = {PW_HF_HOSTNAME, "HOST-B"};
	REFUSED(f, PW_ERR_CONFLICT, "already the name of host",
		pw_host_set(f->db, ACTOR, "host-a", &to_b, 1, NULL, &f->e));
	REFUSED(f, PW_ERR_INVALID, "not a valid host name",
		pw_host_name_check(NULL, "host_b", 0, &(char *){NULL}, &f->e));

	/* A name stored in upper case before every writer lowered it. */
	srv_exec(f, f->db,
		 "INSERT INTO hosts (hostname, created)"
		 " VALUES ('HOST-C', '2024-01-01T00:00:00.000Z')");
	pw_host h = PW_HOST_INIT;
	CHECK(f, pw_host_get_by_name(f->db, "host-c", &h, &f->e));
	pw_host_release(&h);
	pw_host_assign to_c = {PW_HF_HOSTNAME, "host-c"};
	REFUSED(f, PW_ERR_CONFLICT, "host-c is already the name",
		pw_host_set(f->db, ACTOR, "host-a", &to_c, 1, NULL, &f->e));
	static const char csv[] = "hostname,location\nhost-c,DC2\n";
	pw_host_import_stats st;
	CHECK(f, pw_host_import_csv(f->db, ACTOR, "x.csv", csv, sizeof csv - 1, &st, &f->e));
	assert_int_equal(st.created, 0);
	assert_int_equal(st.updated, 1);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM hosts", NULL), 3);
}

/* ---- bug 6: CSV formula injection ---------------------------------- */

static void test_csv_formulas(void **state)
{
	struct srv *f = *state;
	pw_host_assign a[] = {
		{PW_HF_LOCATION, "=HYPERLINK(\"http://x\",\"y\")"},
		{PW_HF_PURPOSE, "+cmd|' /C calc'!A0"},
		{PW_HF_OWNER_GROUP, "-2+3"},
		{PW_HF_APP_OWNER, "@SUM(1)"},
		{PW_HF_BACKUP_CHECK, "'=already quoted"},
		{PW_HF_TICKET, "'plain"},
	};
	CHECK(f, pw_host_create(f->db, ACTOR, "web-01", a, 6, NULL, &f->e));
	pw_buf one = PW_BUF_INIT;
	CHECK(f, pw_host_export_csv(f->db, NULL, &one, &f->e));
	const char *csv = pw_buf_str(&one);
	srv_contains(csv, "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
	srv_contains(csv, "\"'+cmd|' /C calc'!A0\"");
	srv_contains(csv, "\"'-2+3\"");
	srv_contains(csv, "\"'@SUM(1)\"");
	srv_contains(csv, "\"''=already quoted\"");
	srv_contains(csv, "\"''plain\"");
	/* No cell of a data row starts a formula. */
	const char *row = strstr(csv, "\r\n") + 2;
	for (const char *p = row; *p; p++)
		if (p == row || p[-1] == ',' || p[-1] == '\n')
			assert_null(strchr("=+-@", *p));

	/* Import gives back exactly the values. */
	pw_host_assign clear[] = {{PW_HF_LOCATION, ""},     {PW_HF_PURPOSE, "x"},
				  {PW_HF_OWNER_GROUP, ""},  {PW_HF_APP_OWNER, ""},
				  {PW_HF_BACKUP_CHECK, ""}, {PW_HF_TICKET, ""}};
	CHECK(f, pw_host_set(f->db, ACTOR, "web-01", clear, 6, NULL, &f->e));
	pw_host_import_stats st;
	CHECK(f, pw_host_import_csv(f->db, ACTOR, "export.csv", csv, one.len, &st, &f->e));
	assert_int_equal(st.updated, 1);
	pw_host h = PW_HOST_INIT;
	CHECK(f, pw_host_get_by_name(f->db, "web-01", &h, &f->e));
	for (size_t i = 0; i < sizeof a / sizeof *a; i++)
		assert_string_equal(h.f[a[i].field], a[i].value);
	pw_host_release(&h);
	pw_buf two = PW_BUF_INIT;
	CHECK(f, pw_host_export_csv(f->db, NULL, &two, &f->e));
	assert_string_equal(pw_buf_str(&two), csv);
	CHECK(f, pw_host_import_csv(f->db, ACTOR, "export.csv", csv, one.len, &st, &f->e));
	assert_int_equal(st.unchanged, 1);
	pw_buf_release(&one);
	pw_buf_release(&two);

	/* Hand-written: one quote comes off only before = + - @ or a quote. */
	static const char hand[] = "hostname,location,purpose,ticket\n"
				   "web-02,'=1+1,'DC1,''x\n";
	CHECK(f, pw_host_import_csv(f->db, ACTOR, "hand.csv", hand, sizeof hand - 1, &st, &f->e));
	CHECK(f, pw_host_get_by_name(f->db, "web-02", &h, &f->e));
	assert_string_equal(h.f[PW_HF_LOCATION], "=1+1");
	assert_string_equal(h.f[PW_HF_PURPOSE], "'DC1");
	assert_string_equal(h.f[PW_HF_TICKET], "'x");
	pw_host_release(&h);
}

/* ---- host takeover by machine_id ------------------------------------- */

static void test_rekey_needs_proof(void **state)
{
	struct srv *f = *state;
	char tok[PW_ENROLL_TOKEN_MAX];
	token(f, tok);
	pw_enrollment real, thief, proven;
	CHECK(f, enroll(f, tok, "db-01", "m-7", NULL, &real));

	/* Someone with a token and the world-readable machine-id. */
	CHECK(f, enroll(f, tok, "db-01", "m-7", NULL, &thief));
	assert_true(thief.pending);
	assert_false(thief.rekeyed);
	assert_int_equal(thief.host_id, real.host_id);
	pw_agent a;
	CHECK(f, pw_agent_authenticate(f->db, real.credential, &a, &f->e)); /* still the host's */
	REFUSED(f, PW_ERR_AUTH, "waits for an operator",
		pw_agent_authenticate(f->db, thief.credential, &a, &f->e));
	char *s = srv_text(f, "SELECT agent_id FROM hosts WHERE machine_id = ?", "m-7");
	assert_string_equal(s, real.agent_id);
	free(s);
	assert_int_equal(events(f, "agent.rekey_request"), 1);
	assert_int_equal(events(f, "agent.rekey"), 0);
	pw_rekey_request q;
	bool found = false;
	CHECK(f, pw_agent_rekey_pending(f->db, real.host_id, &q, &found, &f->e));
	assert_true(found);
	assert_string_equal(q.agent_id, thief.agent_id);
	assert_string_equal(q.current, real.agent_id);

	/* A wrong credential proves nothing; a newer request replaces. */
	CHECK(f, enroll(f, tok, "db-01", "m-7", thief.credential, &thief));
	assert_true(thief.pending);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM rekey_requests", NULL), 1);

	/* The real agent's credential re-keys at once; the waiting one goes. */
	CHECK(f, enroll(f, tok, "db-01", "m-7", real.credential, &proven));
	assert_true(proven.rekeyed);
	assert_false(proven.pending);
	REFUSED(f, PW_ERR_AUTH, "not valid",
		pw_agent_authenticate(f->db, real.credential, &a, &f->e));
	REFUSED(f, PW_ERR_AUTH, "not valid",
		pw_agent_authenticate(f->db, thief.credential, &a, &f->e));
	CHECK(f, pw_agent_authenticate(f->db, proven.credential, &a, &f->e));
	CHECK(f, pw_agent_rekey_pending(f->db, real.host_id, &q, &found, &f->e));
	assert_false(found);
	s = srv_text(f, "SELECT after_json FROM audit_events WHERE action = ?", "agent.rekey");
	srv_contains(s, "\"proof\":\"credential\"");
	free(s);
	pw_audit_report r;
	CHECK(f, pw_audit_verify(f->db, &r, &f->e));
}

/* An agent that lost its state comes back through an operator. */
static void test_rekey_decided(void **state)
{
	struct srv *f = *state;
	char tok[PW_ENROLL_TOKEN_MAX];
	token(f, tok);
	pw_enrollment real, lost, other;
	CHECK(f, enroll(f, tok, "db-02", "m-8", NULL, &real));
	REFUSED(f, PW_ERR_NOTFOUND, "no re-key waiting",
		pw_agent_rekey_decide(f->db, ACTOR, real.host_id, true, &f->e));

	CHECK(f, enroll(f, tok, "db-02", "m-8", NULL, &lost));
	CHECK(f, pw_agent_rekey_decide(f->db, ACTOR, real.host_id, false, &f->e));
	pw_agent a;
	REFUSED(f, PW_ERR_AUTH, "not valid",
		pw_agent_authenticate(f->db, lost.credential, &a, &f->e));
	CHECK(f, pw_agent_authenticate(f->db, real.credential, &a, &f->e));
	assert_int_equal(events(f, "agent.rekey_refuse"), 1);

	CHECK(f, enroll(f, tok, "db-02b", "m-8", NULL, &lost));
	/* The name it reports is taken before approval: approval refuses. */
	CHECK(f, enroll(f, tok, "db-02b", "m-9", NULL, &other));
	REFUSED(f, PW_ERR_CONFLICT, "already the name",
		pw_agent_rekey_decide(f->db, ACTOR, real.host_id, true, &f->e));
	CHECK(f, pw_host_set(f->db, ACTOR, "db-02b", &(pw_host_assign){PW_HF_HOSTNAME, "db-09"}, 1,
			     NULL, &f->e));
	CHECK(f, pw_agent_rekey_decide(f->db, ACTOR, real.host_id, true, &f->e));
	REFUSED(f, PW_ERR_AUTH, "not valid",
		pw_agent_authenticate(f->db, real.credential, &a, &f->e));
	CHECK(f, pw_agent_authenticate(f->db, lost.credential, &a, &f->e));
	assert_int_equal(a.host_id, real.host_id);
	char *s = srv_text(f, "SELECT hostname FROM hosts WHERE machine_id = ?", "m-8");
	assert_string_equal(s, "db-02b");
	free(s);
	assert_int_equal(events(f, "agent.rekey_approve"), 1);
	s = srv_text(f, "SELECT before_json FROM audit_events WHERE action = ?",
		     "agent.rekey_approve");
	srv_contains(s, real.agent_id);
	free(s);

	/* A host whose agent was revoked has no live agent to ask. */
	srv_exec(f, f->db, "UPDATE agents SET revoked = '2024-01-01T00:00:00.000Z'");
	CHECK(f, enroll(f, tok, "db-02b", "m-8", NULL, &other));
	assert_false(other.pending);
	pw_audit_report r;
	CHECK(f, pw_audit_verify(f->db, &r, &f->e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_enroll_hostname_checked), T(test_rekey_name_taken),
		T(test_set_name_taken),          T(test_csv_formulas),
		T(test_rekey_needs_proof),       T(test_rekey_decided),
	};
	return srv_run("host_identity", tests, sizeof tests / sizeof *tests);
}
