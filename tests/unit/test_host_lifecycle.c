/* The end of a host's life (hosts.h, issue 11): revoking its agent,
 * decommissioning and deleting it, each audited; on SQLite and
 * PostgreSQL. */
#include <cjson/cJSON.h>

#include "servertest.h"

#include "patchwarden/agents.h"
#include "patchwarden/audit.h"
#include "patchwarden/checkin.h"
#include "patchwarden/host_findings.h"
#include "patchwarden/hosts.h"
#include "patchwarden/jobs.h"

#define ACTOR "cli:test"

static int64_t events(struct srv *f, const char *action)
{
	return srv_int(f, "SELECT COUNT(*) FROM audit_events WHERE action = ?", action);
}

/* An enrolled agent on machine `name`; *cred gets its credential. */
static int64_t enroll(struct srv *f, const char *name, char cred[PW_CREDENTIAL_MAX])
{
	char tok[PW_ENROLL_TOKEN_MAX];
	CHECK(f, pw_enroll_token_create(f->db, ACTOR, "t", 5, 3600, tok, NULL, &f->e));
	char machine[64];
	snprintf(machine, sizeof machine, "machine-%s", name);
	pw_enroll_request q = {tok, name, machine, "debian", "12", "bookworm", NULL, "amd64", NULL};
	pw_enrollment en;
	CHECK(f, pw_agent_enroll(f->db, &q, &en, &f->e));
	snprintf(cred, PW_CREDENTIAL_MAX, "%s", en.credential);
	return en.host_id;
}

static pw_err reenroll(struct srv *f, const char *name, pw_enrollment *en)
{
	char tok[PW_ENROLL_TOKEN_MAX];
	CHECK(f, pw_enroll_token_create(f->db, ACTOR, "t2", 1, 3600, tok, NULL, &f->e));
	char machine[64];
	snprintf(machine, sizeof machine, "machine-%s", name);
	pw_enroll_request q = {tok, name, machine, "debian", "12", "bookworm", NULL, "amd64", NULL};
	return pw_agent_enroll(f->db, &q, en, &f->e);
}

/* Leases the host's queued jobs to the agent with one check-in. */
static void checkin(struct srv *f, const char *cred)
{
	pw_agent a;
	CHECK(f, pw_agent_authenticate(f->db, cred, &a, &f->e));
	pw_checkin req = PW_CHECKIN_INIT;
	req.inventory_hash = "0000000000000000000000000000000000000000000000000000000000000000";
	pw_checkin_reply rep = PW_CHECKIN_REPLY_INIT;
	CHECK(f, pw_agent_checkin(f->db, &a, &req, &rep, &f->e));
	pw_checkin_reply_release(&rep);
}

static size_t listed(struct srv *f, pw_host_decom d)
{
	pw_host_filter flt = PW_HOST_FILTER_INIT;
	flt.decom = d;
	pw_host_list l = PW_HOST_LIST_INIT;
	CHECK(f, pw_host_list_query(f->db, &flt, &l, &f->e));
	size_t n = l.n;
	pw_host_list_release(&l);
	pw_host_list p = PW_HOST_LIST_INIT;
	CHECK(f, pw_host_page(f->db, &flt, 0, 100, &p, &f->e));
	assert_int_equal(p.n, n);
	pw_host_list_release(&p);
	return n;
}

static void test_revoke_agent(void **state)
{
	struct srv *f = *state;
	char cred[PW_CREDENTIAL_MAX];
	int64_t id = enroll(f, "web1", cred);
	int64_t job;
	CHECK(f, pw_job_create(f->db, ACTOR, id, "scan", NULL, &job, &f->e));
	checkin(f, cred);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM jobs WHERE state = ?", "leased"), 1);

	CHECK(f, pw_host_revoke_agent(f->db, ACTOR, "web1", &f->e));
	assert_int_equal(events(f, "agent.revoke"), 1);
	pw_agent a;
	REFUSED(f, PW_ERR_AUTH, "not valid", pw_agent_authenticate(f->db, cred, &a, &f->e));
	/* Its leased job waits for the next agent; the host stays listed. */
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM jobs WHERE state = ?", "queued"), 1);
	assert_int_equal(listed(f, PW_HOST_IN_SERVICE), 1);
	REFUSED(f, PW_ERR_CONFLICT, "no agent credential to revoke",
		pw_host_revoke_agent(f->db, ACTOR, "web1", &f->e));
	assert_int_equal(events(f, "agent.revoke"), 1);

	/* The machine enrolls again: a re-key at once (no live agent). */
	pw_enrollment en;
	CHECK(f, reenroll(f, "web1", &en));
	assert_true(en.rekeyed);
	assert_int_equal(events(f, "agent.rekey"), 1);
	assert_false(en.pending);
	assert_int_equal(en.host_id, id);
	pw_host h = PW_HOST_INIT;
	CHECK(f, pw_host_get(f->db, id, &h, &f->e));
	assert_string_equal(h.f[PW_HF_AGENT_ID], en.agent_id);
	pw_host_release(&h);
	checkin(f, en.credential);
	REFUSED(f, PW_ERR_NOTFOUND, "no host named 'nosuch'",
		pw_host_revoke_agent(f->db, ACTOR, "nosuch", &f->e));
}

static void test_decommission(void **state)
{
	struct srv *f = *state;
	char cred[PW_CREDENTIAL_MAX], cred2[PW_CREDENTIAL_MAX];
	int64_t id = enroll(f, "db1", cred);
	int64_t other = enroll(f, "db2", cred2);
	int64_t j1, j2, j3;
	CHECK(f, pw_job_create(f->db, ACTOR, id, "scan", NULL, &j1, &f->e));
	checkin(f, cred); /* j1 leased */
	CHECK(f, pw_job_create(f->db, ACTOR, id, "scan", NULL, &j2, &f->e));
	CHECK(f, pw_job_create(f->db, ACTOR, other, "scan", NULL, &j3, &f->e));
	pw_host_finding fnd[] = {
		{.package = "openssl",
		 .advisory = "DSA-1",
		 .installed = "1",
		 .fixed = "2",
		 .priority = PW_HOST_PRIO_HIGH,
		 .cves = "CVE-2024-1"},
		{.package = "curl",
		 .advisory = "DSA-2",
		 .installed = "1",
		 .fixed = "2",
		 .priority = PW_HOST_PRIO_EMERGENCY,
		 .cves = ""},
	};
	pw_host_findings_delta d;
	CHECK(f, pw_host_findings_replace(f->db, id, fnd, 2, &d, &f->e));
	CHECK(f, pw_host_findings_replace(f->db, other, fnd, 1, &d, &f->e));
	CHECK(f, pw_host_findings_replace(f->db, id, fnd, 1, &d, &f->e)); /* curl fixed */
	int64_t before = events(f, "host.decommission");

	int64_t got = 0;
	CHECK(f, pw_host_decommission(f->db, ACTOR, "db1", "replaced by db9", &got, &f->e));
	assert_int_equal(got, id);
	assert_int_equal(events(f, "host.decommission"), before + 1);
	/* The event says what was done. */
	char *after = srv_text(f, "SELECT after_json FROM audit_events WHERE action = ?",
			       "host.decommission");
	cJSON *aj = cJSON_Parse(after);
	free(after);
	assert_non_null(aj);
	assert_int_equal(cJSON_GetObjectItem(aj, "cancelled_jobs")->valueint, 2);
	assert_int_equal(cJSON_GetObjectItem(aj, "closed_findings")->valueint, 1);
	assert_string_equal(cJSON_GetObjectItem(aj, "note")->valuestring, "replaced by db9");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(aj, "revoked_agents")), 1);
	cJSON_Delete(aj);

	pw_agent a;
	REFUSED(f, PW_ERR_AUTH, "not valid", pw_agent_authenticate(f->db, cred, &a, &f->e));
	/* Jobs cancelled, findings closed but kept; the other host untouched. */
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM jobs WHERE state = ?", "cancelled"), 2);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM jobs WHERE state = ?", "queued"), 1);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM findings WHERE closed_reason = ?",
				 "decommissioned"),
			 1);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM findings WHERE fixed_at IS NULL", NULL),
			 1);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM findings", NULL), 3);
	pw_host h = PW_HOST_INIT;
	CHECK(f, pw_host_get_by_name(f->db, "db1", &h, &f->e));
	assert_non_null(h.f[PW_HF_DECOMMISSIONED]);
	assert_int_equal(h.open_jobs, 0);
	for (int p = 0; p < PW_HOST_PRIO__COUNT; p++)
		assert_int_equal(h.open_findings[p], 0);
	cJSON *hj = pw_host_to_json(&h);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(hj, "decommissioned")));
	cJSON_Delete(hj);
	pw_host_release(&h);

	/* Out of lists by default, in them on demand. */
	assert_int_equal(listed(f, PW_HOST_IN_SERVICE), 1);
	assert_int_equal(listed(f, PW_HOST_DECOMMISSIONED), 1);
	assert_int_equal(listed(f, PW_HOST_ANY), 2);
	pw_host_decom dd;
	assert_true(pw_host_decom_parse("any", &dd) && dd == PW_HOST_ANY);
	assert_false(pw_host_decom_parse("yes", &dd));

	/* Twice is a conflict; its machine cannot enroll again. */
	REFUSED(f, PW_ERR_CONFLICT, "was decommissioned at",
		pw_host_decommission(f->db, ACTOR, "db1", NULL, NULL, &f->e));
	pw_enrollment en;
	REFUSED(f, PW_ERR_CONFLICT, "decommissioned", reenroll(f, "db1", &en));
	assert_int_equal(events(f, "host.decommission"), before + 1);
}

/* Recomputes leave a decommissioned host alone. */
static pw_err one_finding(void *ctx, const pw_host_scan_in *in, pw_host_scan_out *out,
			  pw_error *err)
{
	static const pw_host_finding one[] = {{.package = "openssl",
					       .advisory = "DSA-1",
					       .installed = "1",
					       .fixed = "2",
					       .priority = PW_HOST_PRIO_HIGH,
					       .cves = "CVE-2024-1"}};
	(void)ctx, (void)in, (void)err;
	*out = (pw_host_scan_out){one, 1, NULL, 0};
	return PW_OK;
}

static void test_recompute_skips(void **state)
{
	struct srv *f = *state;
	int64_t a, b;
	CHECK(f, pw_host_create(f->db, ACTOR, "a", NULL, 0, &a, &f->e));
	CHECK(f, pw_host_create(f->db, ACTOR, "b", NULL, 0, &b, &f->e));
	srv_exec(f, f->db,
		 "INSERT INTO inventories (hash, json, first_seen) VALUES ('h1', '{}', 'x')");
	srv_exec(f, f->db, "UPDATE hosts SET inventory_hash = 'h1'");
	CHECK(f, pw_host_decommission(f->db, ACTOR, "b", NULL, NULL, &f->e));
	pw_host_recompute_stats st;
	CHECK(f, pw_host_recompute_findings(f->db, one_finding, NULL, &st, &f->e));
	assert_int_equal(st.hosts, 1);
	int64_t counts[PW_HOST_PRIO__COUNT];
	CHECK(f, pw_host_findings_count(f->db, b, counts, &f->e));
	assert_int_equal(counts[PW_HOST_PRIO_HIGH], 0);
	CHECK(f, pw_host_findings_count(f->db, a, counts, &f->e));
	assert_int_equal(counts[PW_HOST_PRIO_HIGH], 1);
	pw_host_findings_delta d;
	REFUSED(f, PW_ERR_CONFLICT, "decommissioned",
		pw_host_recompute_host(f->db, b, one_finding, NULL, &d, &f->e));
}

static void test_delete(void **state)
{
	struct srv *f = *state;
	char cred[PW_CREDENTIAL_MAX];
	int64_t id = enroll(f, "old1", cred);
	int64_t job;
	CHECK(f, pw_job_create(f->db, ACTOR, id, "scan", NULL, &job, &f->e));
	pw_agent a;
	CHECK(f, pw_agent_authenticate(f->db, cred, &a, &f->e));
	pw_checkin req = PW_CHECKIN_INIT;
	req.inventory_hash = "0000000000000000000000000000000000000000000000000000000000000000";
	pw_checkin_reply rep = PW_CHECKIN_REPLY_INIT;
	CHECK(f, pw_agent_checkin(f->db, &a, &req, &rep, &f->e));
	pw_checkin_reply_release(&rep);
	pw_job_result res = {0};
	res.job_id = job;
	res.seq = 1;
	res.status = "ok";
	res.has_exit_code = true;
	req.results = &res;
	req.n_results = 1;
	pw_checkin_reply rep2 = PW_CHECKIN_REPLY_INIT;
	CHECK(f, pw_agent_checkin(f->db, &a, &req, &rep2, &f->e));
	pw_checkin_reply_release(&rep2);
	pw_host_finding fnd[] = {{.package = "openssl",
				  .advisory = "DSA-1",
				  .installed = "1",
				  .fixed = "2",
				  .priority = PW_HOST_PRIO_HIGH,
				  .cves = ""}};
	pw_host_findings_delta d;
	CHECK(f, pw_host_findings_replace(f->db, id, fnd, 1, &d, &f->e));

	REFUSED(f, PW_ERR_CONFLICT, "decommission it first",
		pw_host_delete(f->db, ACTOR, "old1", &f->e));
	assert_int_equal(events(f, "host.delete"), 0);
	CHECK(f, pw_host_decommission(f->db, ACTOR, "old1", NULL, NULL, &f->e));
	CHECK(f, pw_host_delete(f->db, ACTOR, "old1", &f->e));
	assert_int_equal(events(f, "host.delete"), 1);
	static const char *const tables[] = {"hosts", "agents", "jobs", "job_results", "findings"};
	char sql[96];
	for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
		snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", tables[i]);
		assert_int_equal(srv_int(f, sql, NULL), 0);
	}
	/* The audit log keeps the record and still verifies. */
	char *before = srv_text(f, "SELECT before_json FROM audit_events WHERE action = ?",
				"host.delete");
	srv_contains(before, "\"hostname\":\"old1\"");
	free(before);
	pw_audit_report r;
	CHECK(f, pw_audit_verify(f->db, &r, &f->e));
	REFUSED(f, PW_ERR_NOTFOUND, "no host named", pw_host_delete(f->db, ACTOR, "old1", &f->e));
	/* The machine enrolls as a new host now. */
	pw_enrollment en;
	CHECK(f, reenroll(f, "old1", &en));
	assert_false(en.rekeyed);
	assert_int_equal(events(f, "agent.enroll"), 2);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM hosts WHERE decommissioned IS NULL",
				 NULL),
			 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_revoke_agent),
		T(test_decommission),
		T(test_recompute_skips),
		T(test_delete),
	};
	return srv_run("host_lifecycle", tests, sizeof tests / sizeof *tests);
}
