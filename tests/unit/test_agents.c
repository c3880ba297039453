/* Enrollment tokens, agent credentials, check-ins and jobs (agents.h, checkin.h, jobs.h),
 * on SQLite and PostgreSQL: token expiry and use counts, re-keying,
 * need_inventory, idempotent results, leases, host isolation, and
 * concurrent check-ins that must never hand one job out twice. */
#include <cjson/cJSON.h>
#include <pthread.h>
#include <time.h>

#include "servertest.h"

#include "patchwarden/agents.h"
#include "patchwarden/audit.h"
#include "patchwarden/checkin.h"
#include "patchwarden/hosts.h"
#include "patchwarden/inventory.h"
#include "patchwarden/jobkind.h"
#include "patchwarden/jobs.h"
#include "patchwarden/window.h"

#define ACTOR "cli:test"

static void token(struct srv *f, int64_t uses, int64_t ttl, char tok[PW_ENROLL_TOKEN_MAX],
		  int64_t *id)
{
	CHECK(f, pw_enroll_token_create(f->db, ACTOR, "test hosts", uses, ttl, tok, id, &f->e));
}

/* `cred`: the credential a re-enrolling agent proves itself with, or NULL. */
static pw_err enroll_proving(struct srv *f, const char *tok, const char *host, const char *mid,
			     const char *cred, pw_enrollment *out)
{
	pw_enroll_request r = {
		tok, host, mid, "debian", "12", "bookworm", "Debian GNU/Linux 12", "amd64", cred};
	return pw_agent_enroll(f->db, &r, out, &f->e);
}

static pw_err enroll_as(struct srv *f, const char *tok, const char *host, const char *mid,
			pw_enrollment *out)
{
	return enroll_proving(f, tok, host, mid, NULL, out);
}

/* A fresh token, one enrollment, and the authenticated agent. */
static void new_agent(struct srv *f, const char *host, const char *mid, pw_agent *a)
{
	char tok[PW_ENROLL_TOKEN_MAX];
	token(f, 1, 3600, tok, NULL);
	pw_enrollment en;
	CHECK(f, enroll_as(f, tok, host, mid, &en));
	CHECK(f, pw_agent_authenticate(f->db, en.credential, a, &f->e));
	assert_int_equal(a->host_id, en.host_id);
}

/* A small Debian inventory; `openssl` differs between the variants. */
static cJSON *inventory(const char *openssl_version)
{
	char text[1024];
	snprintf(text, sizeof text,
		 "{\"os\":{\"id\":\"debian\",\"version_id\":\"12\",\"codename\":\"bookworm\","
		 "\"pretty_name\":\"Debian GNU/Linux 12 (bookworm)\"},\"arch\":\"amd64\","
		 "\"scheme\":\"deb\",\"kernel\":{\"running\":\"6.1.0-13-amd64\",\"installed\":"
		 "[\"6.1.0-13-amd64\"],\"needs_reboot\":false},\"packages\":["
		 "{\"name\":\"openssl\",\"version\":\"%s\",\"arch\":\"amd64\","
		 "\"status\":\"install ok installed\"},"
		 "{\"name\":\"bash\",\"version\":\"5.2.15-2+b2\",\"arch\":\"amd64\","
		 "\"status\":\"install ok installed\"}],\"warnings\":[]}",
		 openssl_version);
	cJSON *j = cJSON_Parse(text);
	assert_non_null(j);
	return j;
}

static void inventory_hash(const cJSON *j, char out[65])
{
	pw_inventory inv = PW_INVENTORY_INIT;
	pw_error e = PW_ERROR_INIT;
	if (pw_inventory_from_json(&inv, j, &e))
		fail_msg("test inventory: %s", pw_error_text(&e));
	pw_inventory_hash(&inv, out);
	pw_inventory_release(&inv);
}

/* A check-in with only the hash (inv NULL) or the inventory too. */
static pw_err checkin(struct srv *f, pw_db *db, pw_agent *a, const char *hash, const cJSON *inv,
		      const pw_job_result *res, size_t n, size_t max_jobs, pw_checkin_reply *r)
{
	pw_checkin c = PW_CHECKIN_INIT;
	c.inventory_hash = hash;
	c.inventory = inv;
	c.results = res;
	c.n_results = n;
	c.max_jobs = max_jobs;
	return pw_agent_checkin(db, a, &c, r, &f->e);
}

static const char HASH0[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static int64_t job(struct srv *f, int64_t host, const char *kind)
{
	int64_t id = 0;
	CHECK(f, pw_job_create(f->db, ACTOR, host, kind, "{ }", &id, &f->e));
	return id;
}

/* ---- enrollment tokens and enrollment ------------------------------- */

static void test_enroll(void **state)
{
	struct srv *f = *state;
	char tok[PW_ENROLL_TOKEN_MAX];
	int64_t tid = 0;
	token(f, 1, 3600, tok, &tid);
	char prefix[32];
	snprintf(prefix, sizeof prefix, "pwe_%lld.", (long long)tid);
	assert_memory_equal(tok, prefix, strlen(prefix));

	pw_enrollment en;
	CHECK(f, enroll_as(f, tok, "web-01", "4c4c4544003510", &en));
	assert_memory_equal(en.agent_id, "ag_", 3);
	assert_int_equal(strlen(en.agent_id), 19);
	assert_int_equal(strlen(en.credential), 19 + 1 + 64);
	assert_memory_equal(en.credential, en.agent_id, 19);
	assert_false(en.rekeyed);
	assert_true(en.host_id > 0);

	char *s = srv_text(f, "SELECT hostname FROM hosts WHERE machine_id = ?", "4c4c4544003510");
	assert_string_equal(s, "web-01");
	free(s);
	s = srv_text(f, "SELECT agent_id FROM hosts WHERE hostname = ?", "web-01");
	assert_string_equal(s, en.agent_id);
	free(s);
	s = srv_text(f, "SELECT os_pretty_name FROM hosts WHERE hostname = ?", "web-01");
	assert_string_equal(s, "Debian GNU/Linux 12");
	free(s);
	assert_int_equal(srv_int(f, "SELECT uses_left FROM enroll_tokens", NULL), 0);
	s = srv_text(f, "SELECT actor FROM audit_events WHERE action = ?", "agent.enroll");
	snprintf(prefix, sizeof prefix, "enroll-token:pwe_%lld", (long long)tid);
	assert_string_equal(s, prefix);
	free(s);
	/* The stored secrets are hashes, not the secrets. */
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM audit_events WHERE after_json LIKE ?",
				 strchr(en.credential, '.') + 1),
			 0);

	pw_agent a;
	CHECK(f, pw_agent_authenticate(f->db, en.credential, &a, &f->e));
	assert_string_equal(a.id, en.agent_id);
	assert_int_equal(a.host_id, en.host_id);
}

static void test_enroll_token_limits(void **state)
{
	struct srv *f = *state;
	char single[PW_ENROLL_TOKEN_MAX], counted[PW_ENROLL_TOKEN_MAX];
	int64_t sid, cid;
	token(f, 1, 3600, single, &sid);
	token(f, 3, 3600, counted, &cid);
	pw_enrollment en;
	CHECK(f, enroll_as(f, single, "a", "m-a", &en));
	REFUSED(f, PW_ERR_AUTH, "is used up (all 1 enrollment(s) done)",
		enroll_as(f, single, "b", "m-b", &en));
	assert_int_equal(en.host_id, 0);
	assert_string_equal(en.credential, "");
	for (int i = 0; i < 3; i++) {
		char mid[16];
		snprintf(mid, sizeof mid, "m-%d", i);
		CHECK(f, enroll_as(f, counted, mid, mid, &en));
	}
	REFUSED(f, PW_ERR_AUTH, "used up (all 3", enroll_as(f, counted, "d", "m-d", &en));
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM hosts", NULL), 4);

	/* Expired. */
	char old[PW_ENROLL_TOKEN_MAX];
	token(f, 5, 60, old, NULL);
	srv_exec(f, f->db,
		 "UPDATE enroll_tokens SET expires = '2020-02-02T00:00:00.000Z'"
		 " WHERE uses_total = 5");
	REFUSED(f, PW_ERR_AUTH, "expired at 2020-02-02T00:00:00.000Z",
		enroll_as(f, old, "e", "m-e", &en));
	assert_int_equal(srv_int(f, "SELECT uses_left FROM enroll_tokens WHERE uses_total = 5",
				 NULL),
			 5);

	/* Revoked. */
	char rev[PW_ENROLL_TOKEN_MAX];
	int64_t rid;
	token(f, 5, 3600, rev, &rid);
	CHECK(f, pw_enroll_token_revoke(f->db, ACTOR, rid, &f->e));
	REFUSED(f, PW_ERR_AUTH, "was revoked at", enroll_as(f, rev, "r", "m-r", &en));
	REFUSED(f, PW_ERR_INVALID, "revoked already",
		pw_enroll_token_revoke(f->db, ACTOR, rid, &f->e));
	REFUSED(f, PW_ERR_NOTFOUND, "no enrollment token 777",
		pw_enroll_token_revoke(f->db, ACTOR, 777, &f->e));

	/* Wrong secrets and garbage: nothing about the token's state leaks. */
	char wrong[PW_ENROLL_TOKEN_MAX];
	snprintf(wrong, sizeof wrong, "%s", single);
	char *last = wrong + strlen(wrong) - 1;
	*last = *last == 'a' ? 'b' : 'a';
	REFUSED(f, PW_ERR_AUTH, "is not valid (unknown token or wrong secret)",
		enroll_as(f, wrong, "w", "m-w", &en));
	snprintf(wrong, sizeof wrong, "pwe_999%s", strchr(single, '.'));
	REFUSED(f, PW_ERR_AUTH, "pwe_999 is not valid", enroll_as(f, wrong, "w", "m-w", &en));
	REFUSED(f, PW_ERR_AUTH, "not an enrollment token",
		enroll_as(f, "pwt_1.x", "w", "m-w", &en));
	REFUSED(f, PW_ERR_AUTH, "not an enrollment token", enroll_as(f, NULL, "w", "m-w", &en));

	/* Bad requests and bad token parameters. */
	char fresh[PW_ENROLL_TOKEN_MAX];
	token(f, 1, 3600, fresh, NULL);
	REFUSED(f, PW_ERR_INVALID, "hostname", enroll_as(f, fresh, "", "m-x", &en));
	REFUSED(f, PW_ERR_INVALID, "hostname", enroll_as(f, fresh, "web 01", "m-x", &en));
	REFUSED(f, PW_ERR_INVALID, "machine_id", enroll_as(f, fresh, "x", NULL, &en));
	CHECK(f, enroll_as(f, fresh, "x", "m-x", &en)); /* the refusals spent no use */
	REFUSED(f, PW_ERR_INVALID, "1 to 1000000 enrollments",
		pw_enroll_token_create(f->db, ACTOR, "x", 0, 60, fresh, NULL, &f->e));
	REFUSED(f, PW_ERR_INVALID, "must expire",
		pw_enroll_token_create(f->db, ACTOR, "x", 1, 0, fresh, NULL, &f->e));

	pw_enroll_token_list l = PW_ENROLL_TOKEN_LIST_INIT;
	CHECK(f, pw_enroll_token_list_all(f->db, &l, &f->e));
	assert_int_equal(l.n, 5);
	assert_int_equal(l.v[0].id, sid);
	assert_int_equal(l.v[1].uses_total, 3);
	assert_int_equal(l.v[1].uses_left, 0);
	assert_string_equal(l.v[1].created_by, ACTOR);
	assert_non_null(l.v[3].revoked);
	assert_null(l.v[4].revoked);
	pw_enroll_token_list_release(&l);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM audit_events WHERE action = ?",
				 "enroll_token.create"),
			 5);
	pw_audit_report r;
	CHECK(f, pw_audit_verify(f->db, &r, &f->e));
}

static void test_rekey(void **state)
{
	struct srv *f = *state;
	char tok[PW_ENROLL_TOKEN_MAX];
	token(f, 2, 3600, tok, NULL);
	pw_enrollment first, second;
	CHECK(f, enroll_as(f, tok, "db-01", "machine-7", &first));
	pw_agent old;
	CHECK(f, pw_agent_authenticate(f->db, first.credential, &old, &f->e));
	int64_t j = job(f, first.host_id, "scan");
	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	CHECK(f, checkin(f, f->db, &old, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 1); /* leased to the old agent */

	CHECK(f,
	      enroll_proving(f, tok, "db-01.example.org", "machine-7", first.credential, &second));
	assert_true(second.rekeyed);
	assert_int_equal(second.host_id, first.host_id);
	assert_string_not_equal(second.agent_id, first.agent_id);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM hosts", NULL), 1);
	char *s = srv_text(f, "SELECT hostname FROM hosts WHERE machine_id = ?", "machine-7");
	assert_string_equal(s, "db-01.example.org");
	free(s);
	s = srv_text(f, "SELECT before_json FROM audit_events WHERE action = ?", "agent.rekey");
	assert_non_null(strstr(s, first.agent_id));
	free(s);

	pw_agent a;
	REFUSED(f, PW_ERR_AUTH, "not valid",
		pw_agent_authenticate(f->db, first.credential, &a, &f->e));
	REFUSED(f, PW_ERR_AUTH, "no longer the agent of host",
		checkin(f, f->db, &old, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 0);
	CHECK(f, pw_agent_authenticate(f->db, second.credential, &a, &f->e));
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 1); /* the old agent's lease was given up */
	assert_int_equal(r.jobs[0].id, j);
	pw_checkin_reply_release(&r);
}

/* A host an operator entered before its agent ran is taken over by the
 * first enrollment under its name; another machine under that name is
 * refused. */
static void test_adopt(void **state)
{
	struct srv *f = *state;
	pw_host_assign a[] = {{PW_HF_CATEGORY, "web"}, {PW_HF_CRITICALITY, "4"}};
	int64_t id = 0;
	CHECK(f, pw_host_create(f->db, ACTOR, "web-07", a, 2, &id, &f->e));
	char tok[PW_ENROLL_TOKEN_MAX];
	int64_t tid;
	token(f, 3, 3600, tok, &tid);
	pw_enrollment en, again, other;
	CHECK(f, enroll_as(f, tok, "WEB-07", "m-07", &en));
	assert_true(en.adopted);
	assert_false(en.rekeyed);
	assert_int_equal(en.host_id, id);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM hosts", NULL), 1);
	char *s = srv_text(f, "SELECT hostname FROM hosts WHERE machine_id = ?", "m-07");
	assert_string_equal(s, "web-07"); /* the operator's fields stay */
	free(s);
	s = srv_text(f, "SELECT category FROM hosts WHERE agent_id = ?", en.agent_id);
	assert_string_equal(s, "web");
	free(s);
	s = srv_text(f, "SELECT os_pretty_name FROM hosts WHERE agent_id = ?", en.agent_id);
	assert_string_equal(s, "Debian GNU/Linux 12");
	free(s);
	s = srv_text(f, "SELECT before_json FROM audit_events WHERE action = ?", "agent.adopt");
	assert_string_equal(s, "{\"agent_id\":null,\"machine_id\":null}");
	free(s);

	/* Another machine under the name: refused, the token use kept. */
	REFUSED(f, PW_ERR_CONFLICT, "belongs to host", enroll_as(f, tok, "web-07", "m-x", &other));
	REFUSED(f, PW_ERR_CONFLICT, "hostname=web-07-old",
		enroll_as(f, tok, "Web-07", "m-y", &other));
	char tids[24];
	snprintf(tids, sizeof tids, "%lld", (long long)tid);
	assert_int_equal(srv_int(f, "SELECT uses_left FROM enroll_tokens WHERE id = ?", tids), 2);
	/* The machine itself again: a re-key of the same host. */
	CHECK(f, enroll_proving(f, tok, "web-07", "m-07", en.credential, &again));
	assert_true(again.rekeyed);
	assert_false(again.adopted);
	assert_int_equal(again.host_id, id);
	/* A new name: a new host. */
	CHECK(f, enroll_as(f, tok, "web-08", "m-08", &other));
	assert_false(other.adopted);
	assert_int_not_equal(other.host_id, id);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM hosts", NULL), 2);
}

static void test_credentials(void **state)
{
	struct srv *f = *state;
	char tok[PW_ENROLL_TOKEN_MAX];
	token(f, 1, 3600, tok, NULL);
	pw_enrollment en;
	CHECK(f, enroll_as(f, tok, "h", "m", &en));
	pw_agent a;
	char wrong[PW_CREDENTIAL_MAX + 8];
	/* Every position of the secret matters (one flipped digit). */
	for (size_t pos = 20; pos < strlen(en.credential); pos += 21) {
		snprintf(wrong, sizeof wrong, "%s", en.credential);
		wrong[pos] = wrong[pos] == 'f' ? 'e' : 'f';
		REFUSED(f, PW_ERR_AUTH, "the credential is not valid",
			pw_agent_authenticate(f->db, wrong, &a, &f->e));
		assert_int_equal(a.host_id, 0);
	}
	snprintf(wrong, sizeof wrong, "ag_0000000000000000%s", strchr(en.credential, '.'));
	REFUSED(f, PW_ERR_AUTH, "not valid", pw_agent_authenticate(f->db, wrong, &a, &f->e));
	static const char *const junk[] = {
		"", "ag_", "ag_1234.abcd", "Bearer ag_x",
		/* upper-case hex id */
		("ag_ABCDEF0123456789."
		 "0000000000000000000000000000000000000000000000000000000000000000")};
	for (size_t i = 0; i < sizeof junk / sizeof *junk; i++)
		REFUSED(f, PW_ERR_AUTH, "not an agent credential",
			pw_agent_authenticate(f->db, junk[i], &a, &f->e));
	snprintf(wrong, sizeof wrong, "%sX", en.credential);
	REFUSED(f, PW_ERR_AUTH, "not an agent credential",
		pw_agent_authenticate(f->db, wrong, &a, &f->e));
	REFUSED(f, PW_ERR_AUTH, "not an agent credential",
		pw_agent_authenticate(f->db, NULL, &a, &f->e));
}

/* ---- check-in -------------------------------------------------------- */

static void test_need_inventory(void **state)
{
	struct srv *f = *state;
	pw_agent a, b;
	new_agent(f, "web-01", "m1", &a);
	new_agent(f, "web-02", "m2", &b);
	cJSON *inv = inventory("3.0.11-1~deb12u2");
	char h[65];
	inventory_hash(inv, h);

	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	CHECK(f, checkin(f, f->db, &a, h, NULL, NULL, 0, 0, &r));
	assert_true(r.need_inventory); /* unknown content */
	assert_false(r.inventory_changed);
	CHECK(f, checkin(f, f->db, &a, h, inv, NULL, 0, 0, &r));
	assert_false(r.need_inventory);
	assert_true(r.inventory_changed); /* findings are recomputed on this */
	char *s = srv_text(f, "SELECT inventory_hash FROM hosts WHERE hostname = ?", "web-01");
	assert_string_equal(s, h);
	free(s);
	s = srv_text(f, "SELECT kernel FROM hosts WHERE hostname = ?", "web-01");
	assert_string_equal(s, "6.1.0-13-amd64");
	free(s);
	CHECK(f, checkin(f, f->db, &a, h, NULL, NULL, 0, 0, &r));
	assert_false(r.need_inventory); /* unchanged */
	assert_false(r.inventory_changed);
	s = srv_text(f, "SELECT last_seen FROM hosts WHERE hostname = ?", "web-01");
	assert_non_null(s);
	free(s);

	/* Another host with the same content: known, stored once. */
	CHECK(f, checkin(f, f->db, &b, h, NULL, NULL, 0, 0, &r));
	assert_false(r.need_inventory);
	assert_true(r.inventory_changed); /* web-02 has content now */
	s = srv_text(f, "SELECT inventory_hash FROM hosts WHERE hostname = ?", "web-02");
	assert_string_equal(s, h);
	free(s);
	CHECK(f, checkin(f, f->db, &b, h, inv, NULL, 0, 0, &r)); /* sent anyway: no copy */
	assert_false(r.inventory_changed);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM inventories", NULL), 1);

	/* The content changes: asked for, stored, and the old one kept. */
	cJSON *inv2 = inventory("3.0.13-1~deb12u1");
	char h2[65];
	inventory_hash(inv2, h2);
	assert_string_not_equal(h, h2);
	CHECK(f, checkin(f, f->db, &a, h2, NULL, NULL, 0, 0, &r));
	assert_true(r.need_inventory);
	s = srv_text(f, "SELECT inventory_hash FROM hosts WHERE hostname = ?", "web-01");
	assert_string_equal(s, h); /* unchanged until the content arrives */
	free(s);
	CHECK(f, checkin(f, f->db, &a, h2, inv2, NULL, 0, 0, &r));
	assert_false(r.need_inventory);
	assert_true(r.inventory_changed);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM inventories", NULL), 2);
	s = srv_text(f, "SELECT json FROM inventories WHERE hash = ?", h2);
	assert_non_null(strstr(s, "3.0.13-1~deb12u1"));
	free(s);

	/* A hash that does not match the content, or is not a hash. */
	REFUSED(f, PW_ERR_INVALID, "does not match the inventory sent",
		checkin(f, f->db, &a, h, inv2, NULL, 0, 0, &r));
	REFUSED(f, PW_ERR_INVALID, "64 lowercase hex",
		checkin(f, f->db, &a, "abc", NULL, NULL, 0, 0, &r));
	REFUSED(f, PW_ERR_INVALID, "64 lowercase hex",
		checkin(f, f->db, &a, NULL, NULL, NULL, 0, 0, &r));
	cJSON *bad = cJSON_Parse("{\"packages\": 5, \"scheme\": \"deb\"}");
	REFUSED(f, PW_ERR_PARSE, "check-in: inventory: packages",
		checkin(f, f->db, &a, h, bad, NULL, 0, 0, &r));
	pw_checkin quiet = PW_CHECKIN_INIT; /* the same without an error message */
	quiet.inventory_hash = h;
	quiet.inventory = bad;
	assert_int_equal(pw_agent_checkin(f->db, &a, &quiet, &r, NULL), PW_ERR_PARSE);
	cJSON_Delete(bad);
	cJSON_Delete(inv);
	cJSON_Delete(inv2);
	pw_checkin_reply_release(&r);
}

static void test_results_idempotent(void **state)
{
	struct srv *f = *state;
	pw_agent a;
	new_agent(f, "web-01", "m1", &a);
	int64_t j1 = job(f, a.host_id, "scan"), j2 = job(f, a.host_id, "inventory");
	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 2);
	assert_int_equal(r.jobs[0].id, j1);
	assert_string_equal(r.jobs[0].kind, "scan");
	assert_string_equal(r.jobs[0].args_json, "{}");
	assert_string_equal(r.jobs[1].kind, "inventory");
	assert_int_equal(r.n_ack, 0);

	pw_job_result res[2] = {
		{j1, 1, "ok", "2026-01-01T00:00:00Z", "2026-01-01T00:00:05Z", true, 0,
		 "{\"findings\": 3}"},
		{j2, 2, "failed", NULL, NULL, false, 0, NULL},
	};
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, res, 2, 0, &r));
	assert_int_equal(r.n_ack, 2);
	assert_int_equal(r.ack[0], 1);
	assert_int_equal(r.ack[1], 2);
	assert_int_equal(r.n_jobs, 0);
	/* The response got lost: the agent sends both again, twice. */
	for (int i = 0; i < 2; i++) {
		CHECK(f, checkin(f, f->db, &a, HASH0, NULL, res, 2, 0, &r));
		assert_int_equal(r.n_ack, 2);
	}
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM job_results", NULL), 2);
	char *s = srv_text(f, "SELECT output FROM job_results WHERE seq = 1 AND agent_id = ?",
			   a.id);
	assert_string_equal(s, "{\"findings\":3}");
	free(s);
	assert_true(srv_int(f,
			    "SELECT CASE WHEN exit_code IS NULL THEN 1 ELSE 0 END FROM"
			    " job_results WHERE agent_id = ? AND seq = 2",
			    a.id));
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM jobs WHERE state = 'done'", NULL), 1);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM jobs WHERE state = 'failed'", NULL), 1);

	/* One result sent twice in one check-in: one ack. */
	int64_t j3 = job(f, a.host_id, "scan");
	pw_job_result dup[2] = {{j3, 3, "ok", NULL, NULL, true, 0, NULL},
				{j3, 3, "ok", NULL, NULL, true, 0, NULL}};
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, dup, 2, 0, &r));
	assert_int_equal(r.n_ack, 1);
	assert_int_equal(r.ack[0], 3);

	pw_job_result bad = {j1, 0, "ok", NULL, NULL, false, 0, NULL};
	REFUSED(f, PW_ERR_INVALID, "must be positive",
		checkin(f, f->db, &a, HASH0, NULL, &bad, 1, 0, &r));
	bad.seq = 9;
	bad.status = "maybe";
	REFUSED(f, PW_ERR_INVALID, "\"ok\" or \"failed\"",
		checkin(f, f->db, &a, HASH0, NULL, &bad, 1, 0, &r));
	bad.status = "ok";
	bad.output_json = "{nope";
	REFUSED(f, PW_ERR_PARSE, "results[0].output is not valid JSON",
		checkin(f, f->db, &a, HASH0, NULL, &bad, 1, 0, &r));
	pw_checkin_reply_release(&r);
}

/* The after_json of the n-th agent.checkin event (1: the first). */
static char *checkin_event(struct srv *f, int n)
{
	char sql[160];
	snprintf(sql, sizeof sql,
		 "SELECT after_json FROM audit_events WHERE action = ? ORDER BY id LIMIT 1"
		 " OFFSET %d",
		 n - 1);
	return srv_text(f, sql, "agent.checkin");
}

/* An agent whose counter went back (spool/next-seq deleted, a state
 * directory restored from a backup) numbers a new result with a seq the
 * server holds another result under: that is a conflict, neither
 * acknowledged (the agent would delete it) nor stored, and the reply
 * says the highest seq stored so the agent renumbers above it. Only the
 * same result again (same job and content) is a resend. */
static void test_results_conflict(void **state)
{
	struct srv *f = *state;
	pw_agent a;
	new_agent(f, "web-01", "m1", &a);
	int64_t j1 = job(f, a.host_id, "scan"), j2 = job(f, a.host_id, "inventory");
	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 2);
	assert_int_equal(r.seq_high, 0);

	pw_job_result first = {j1,
			       1,
			       "ok",
			       "2026-01-01T00:00:00Z",
			       "2026-01-01T00:00:05Z",
			       true,
			       0,
			       "{\"findings\": 3}"};
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, &first, 1, 0, &r));
	assert_int_equal(r.n_ack, 1);
	assert_int_equal(r.n_conflict, 0);
	assert_int_equal(r.seq_high, 1);

	/* A true resend (the output spaced otherwise is the same JSON):
	 * acknowledged again, stored once, audited as a resend. */
	pw_job_result again = first;
	again.output_json = "{ \"findings\" : 3 }";
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, &again, 1, 0, &r));
	assert_int_equal(r.n_ack, 1);
	assert_int_equal(r.ack[0], 1);
	assert_int_equal(r.n_conflict, 0);
	char *ev = checkin_event(f, 2);
	srv_contains(ev, "\"seq\":1,\"status\":\"ok\",\"exit_code\":0,\"resent\":true");
	free(ev);

	/* The counter went back: a result of job 2 under seq 1. */
	pw_job_result lost = {j2, 1, "ok", NULL, NULL, true, 0, "{\"packages\":[]}"};
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, &lost, 1, 0, &r));
	assert_int_equal(r.n_ack, 0);
	assert_int_equal(r.n_conflict, 1);
	assert_int_equal(r.conflict[0], 1);
	assert_int_equal(r.seq_high, 1);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM job_results", NULL), 1);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM jobs WHERE state = 'leased'", NULL), 1);
	ev = checkin_event(f, 3);
	srv_contains(ev, "\"conflict\":true");
	assert_null(strstr(ev, "resent"));
	free(ev);
	/* Job 1 again with other content under its seq: also a conflict. */
	pw_job_result other = first;
	other.exit_code = 1;
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, &other, 1, 0, &r));
	assert_int_equal(r.n_ack, 0);
	assert_int_equal(r.n_conflict, 1);
	other = first;
	other.finished = NULL;
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, &other, 1, 0, &r));
	assert_int_equal(r.n_conflict, 1);

	/* Renumbered above seq_high: stored, and the job completes. */
	lost.seq = r.seq_high + 1;
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, &lost, 1, 0, &r));
	assert_int_equal(r.n_ack, 1);
	assert_int_equal(r.ack[0], 2);
	assert_int_equal(r.n_conflict, 0);
	assert_int_equal(r.seq_high, 2);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM jobs WHERE state = 'done'", NULL), 2);
	char *s = srv_text(f, "SELECT output FROM job_results WHERE seq = 2 AND agent_id = ?",
			   a.id);
	assert_string_equal(s, "{\"packages\":[]}");
	free(s);

	/* Every reply carries the high-water mark, the heartbeat's too,
	 * whether the agent comes from authentication or was used before. */
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.seq_high, 2);
	pw_agent b = a;
	b.fresh = false;
	CHECK(f, checkin(f, f->db, &b, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.seq_high, 2);
	pw_checkin_reply_release(&r);
}

/* A check-in's results and its audit event commit together: when the
 * event cannot be written, nothing of the check-in is stored. */
static void test_checkin_audit_atomic(void **state)
{
	struct srv *f = *state;
	pw_agent a;
	new_agent(f, "web-01", "m1", &a);
	int64_t j1 = job(f, a.host_id, "scan");
	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	int64_t events = srv_int(f, "SELECT COUNT(*) FROM audit_events", NULL);
	srv_exec(f, f->db, "ALTER TABLE audit_events RENAME TO audit_events_away");
	pw_job_result res = {j1, 1, "ok", NULL, NULL, true, 0, NULL};
	assert_int_not_equal(checkin(f, f->db, &a, HASH0, NULL, &res, 1, 0, &r), PW_OK);
	srv_exec(f, f->db, "ALTER TABLE audit_events_away RENAME TO audit_events");
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM job_results", NULL), 0);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM jobs WHERE state = 'leased'", NULL), 1);

	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, &res, 1, 0, &r));
	assert_int_equal(r.n_ack, 1);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM audit_events", NULL), events + 1);
	char *ev = checkin_event(f, 1);
	srv_contains(ev, "{\"results\":[{\"job_id\":");
	assert_null(strstr(ev, "resent"));
	free(ev);
	pw_checkin_reply_release(&r);
}

static void test_host_isolation(void **state)
{
	struct srv *f = *state;
	pw_agent a, b;
	new_agent(f, "web-01", "m1", &a);
	new_agent(f, "web-02", "m2", &b);
	int64_t ja = job(f, a.host_id, "scan");
	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	CHECK(f, checkin(f, f->db, &b, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 0); /* not B's job */

	/* B reports a result for A's job: refused, and nothing of that
	 * check-in is kept, its own valid result included. */
	int64_t jb = job(f, b.host_id, "scan");
	CHECK(f, checkin(f, f->db, &b, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 1);
	pw_job_result res[2] = {{jb, 1, "ok", NULL, NULL, true, 0, NULL},
				{ja, 2, "ok", NULL, NULL, true, 0, "{\"forged\":true}"}};
	REFUSED(f, PW_ERR_AUTH, "is not a job of host",
		checkin(f, f->db, &b, HASH0, NULL, res, 2, 0, &r));
	assert_int_equal(r.n_ack, 0);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM job_results", NULL), 0);
	pw_job_result unknown = {424242, 3, "ok", NULL, NULL, false, 0, NULL};
	REFUSED(f, PW_ERR_AUTH, "job 424242 is not a job of host",
		checkin(f, f->db, &b, HASH0, NULL, &unknown, 1, 0, &r));

	/* A's job is still A's to take. */
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 1);
	assert_int_equal(r.jobs[0].id, ja);
	pw_checkin_reply_release(&r);
}

static void test_leases(void **state)
{
	struct srv *f = *state;
	pw_agent a;
	new_agent(f, "web-01", "m1", &a);
	int64_t ids[5];
	for (int i = 0; i < 5; i++)
		ids[i] = job(f, a.host_id, "scan");
	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 2, &r));
	assert_int_equal(r.n_jobs, 2);
	assert_int_equal(r.jobs[0].id, ids[0]);
	assert_int_equal(r.jobs[1].id, ids[1]);
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 3); /* the rest; the leased two are not offered again */
	assert_int_equal(r.jobs[0].id, ids[2]);
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 0);

	/* A lease that ran out without a result: offered again. */
	srv_exec(f, f->db, "UPDATE jobs SET lease_until = '2001-01-01T00:00:00.000Z' WHERE id = 2");
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 1);
	assert_int_equal(r.jobs[0].id, 2);
	assert_int_equal(srv_int(f, "SELECT attempts FROM jobs WHERE id = 2", NULL), 2);
	/* Done jobs never come back. */
	pw_job_result done = {2, 1, "ok", NULL, NULL, true, 0, NULL};
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, &done, 1, 0, &r));
	srv_exec(f, f->db, "UPDATE jobs SET lease_until = '2001-01-01T00:00:00.000Z'");
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 4);
	for (size_t i = 0; i < r.n_jobs; i++)
		assert_int_not_equal(r.jobs[i].id, 2);
	pw_checkin_reply_release(&r);
}

/* Issue 10: an agent whose inventory the server refused reports it and
 * goes on checking in; a job it cannot keep it gives back. */
static void test_refused_and_release(void **state)
{
	struct srv *f = *state;
	pw_agent a, b;
	new_agent(f, "web-01", "m1", &a);
	new_agent(f, "web-02", "m2", &b);
	int64_t j1 = job(f, a.host_id, "scan"), jb = job(f, b.host_id, "scan");
	pw_inventory_refusal ref = {14436244, 1634165, "gzip", "2026-12-07T01:00:00Z", 33554432};
	pw_checkin c = PW_CHECKIN_INIT;
	c.inventory_hash = HASH0;
	c.refused = &ref;
	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	CHECK(f, pw_agent_checkin(f->db, &a, &c, &r, &f->e));
	assert_true(r.need_inventory);
	assert_int_equal(r.n_jobs, 1); /* still handed its jobs */
	char host[16];
	snprintf(host, sizeof host, "%lld", (long long)a.host_id);
	char *v = srv_text(f, "SELECT inventory_refused FROM hosts WHERE id = CAST(? AS BIGINT)",
			   host);
	assert_non_null(v);
	srv_contains(v, "of 14436244 bytes (1634165 sent, gzip) refused as over the server's "
			"limit of 33554432 bytes");
	free(v);
	ref.encoding = "zstd";
	REFUSED(f, PW_ERR_INVALID, "encoding must be", pw_agent_checkin(f->db, &a, &c, &r, &f->e));

	/* Given back: j1 is queued again, b's job (not a's to give) is left
	 * alone, and no jobs come with this reply. */
	CHECK(f, pw_agent_checkin(f->db, &b, &(pw_checkin){.inventory_hash = HASH0}, &r, &f->e));
	assert_int_equal(r.n_jobs, 1);
	int64_t back[] = {j1, jb, 999};
	c = (pw_checkin)PW_CHECKIN_INIT;
	c.inventory_hash = HASH0;
	c.release = back;
	c.n_release = 3;
	CHECK(f, pw_agent_checkin(f->db, &a, &c, &r, &f->e));
	assert_int_equal(r.n_released, 1);
	assert_int_equal(r.n_jobs, 0);
	snprintf(host, sizeof host, "%lld", (long long)j1);
	v = srv_text(f, "SELECT state FROM jobs WHERE id = CAST(? AS BIGINT)", host);
	assert_string_equal(v, "queued");
	free(v);
	snprintf(host, sizeof host, "%lld", (long long)jb);
	v = srv_text(f, "SELECT state FROM jobs WHERE id = CAST(? AS BIGINT)", host);
	assert_string_equal(v, "leased");
	free(v);
	/* The check-in without a refusal cleared it; the job comes back. */
	snprintf(host, sizeof host, "%lld", (long long)a.host_id);
	v = srv_text(f, "SELECT inventory_refused FROM hosts WHERE id = CAST(? AS BIGINT)", host);
	assert_null(v);
	c = (pw_checkin)PW_CHECKIN_INIT;
	c.inventory_hash = HASH0;
	CHECK(f, pw_agent_checkin(f->db, &a, &c, &r, &f->e));
	assert_int_equal(r.n_jobs, 1);
	assert_int_equal(r.jobs[0].id, j1);
	pw_checkin_reply_release(&r);
}

/* Runtime facts: checked, kept per host when they change (audited, the
 * findings then stale), left as they were by a check-in without them. */
static void test_runtime(void **state)
{
	struct srv *f = *state;
	pw_agent a;
	new_agent(f, "web-01", "m1", &a);
	cJSON *rt = cJSON_Parse("{\"in_use_known\":true,\"processes\":2,\"in_use\":"
				"[\"openssl:amd64\"],\"restarts\":[{\"pid\":9,\"process\":"
				"\"nginx\",\"path\":\"/usr/lib/libssl.so.3\",\"package\":"
				"\"openssl:amd64\",\"unit\":null}]}");
	assert_non_null(rt);
	pw_checkin c = PW_CHECKIN_INIT;
	c.inventory_hash = HASH0;
	c.runtime = rt;
	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	CHECK(f, pw_agent_checkin(f->db, &a, &c, &r, &f->e));
	assert_true(r.inventory_changed);
	char host[16];
	snprintf(host, sizeof host, "%lld", (long long)a.host_id);
	char *v = srv_text(f, "SELECT runtime FROM hosts WHERE id = CAST(? AS BIGINT)", host);
	srv_contains(v, "\"in_use\":[\"openssl:amd64\"]");
	free(v);
	assert_int_equal(srv_int(f,
				 "SELECT COUNT(*) FROM audit_events WHERE action = 'agent.checkin'"
				 " AND after_json LIKE '%runtime_hash%'",
				 NULL),
			 1);
	/* The same facts again change nothing; none at all keep them. */
	CHECK(f, pw_agent_checkin(f->db, &a, &c, &r, &f->e));
	assert_false(r.inventory_changed);
	c.runtime = NULL;
	CHECK(f, pw_agent_checkin(f->db, &a, &c, &r, &f->e));
	v = srv_text(f, "SELECT runtime_hash FROM hosts WHERE id = CAST(? AS BIGINT)", host);
	assert_non_null(v);
	free(v);
	cJSON_Delete(rt);
	rt = cJSON_Parse("{\"in_use_known\":true,\"restarts\":[{\"pid\":0,\"path\":\"/x\"}]}");
	c.runtime = rt;
	REFUSED(f, PW_ERR_INVALID, "restarts[].pid must be a process id",
		pw_agent_checkin(f->db, &a, &c, &r, &f->e));
	cJSON_Delete(rt);
	pw_checkin_reply_release(&r);
}

static void test_job_create(void **state)
{
	struct srv *f = *state;
	pw_agent a;
	new_agent(f, "web-01", "m1", &a);
	int64_t id = 0;
	CHECK(f, pw_job_create(f->db, "user:alice", a.host_id, "inventory", NULL, &id, &f->e));
	char *s = srv_text(f, "SELECT args FROM jobs WHERE kind = ?", "inventory");
	assert_string_equal(s, "{}");
	free(s);
	s = srv_text(f, "SELECT after_json FROM audit_events WHERE action = ?", "job.create");
	char want[96];
	snprintf(want, sizeof want, "{\"job_id\":%lld,\"kind\":\"inventory\",\"args\":{}}",
		 (long long)id);
	assert_string_equal(s, want);
	free(s);
	REFUSED(f, PW_ERR_INVALID, "job kind \"reinstall\" is not known",
		pw_job_create(f->db, ACTOR, a.host_id, "reinstall", NULL, NULL, &f->e));
	REFUSED(f, PW_ERR_INVALID, "must be a JSON object",
		pw_job_create(f->db, ACTOR, a.host_id, "scan", "[1]", NULL, &f->e));
	REFUSED(f, PW_ERR_INVALID, "must be a JSON object",
		pw_job_create(f->db, ACTOR, a.host_id, "scan", "{", NULL, &f->e));
	REFUSED(f, PW_ERR_NOTFOUND, "no host 999",
		pw_job_create(f->db, ACTOR, 999, "scan", NULL, NULL, &f->e));
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM jobs", NULL), 1);
}

/* ---- issue 12: queuing the executor's jobs ------------------------------ */

/* The host's stored inventory, as a check-in leaves it: Debian 12 with
 * two binaries of source openssl, two of glibc, a binNMU (libfoo1
 * 1.2-3+b1 of source foo 1.2-3) and bash. */
static void give_inventory(struct srv *f, int64_t host)
{
	static const char inv[] =
		"{\"os\":{\"id\":\"debian\",\"version_id\":\"12\",\"codename\":\"bookworm\","
		"\"pretty_name\":\"Debian 12\"},\"arch\":\"amd64\",\"scheme\":\"deb\",\"kernel\":"
		"{\"running\":null,\"installed\":[],\"needs_reboot\":false},\"packages\":["
		"{\"name\":\"openssl\",\"version\":\"3.0.11-1~deb12u1\",\"arch\":\"amd64\","
		"\"source\":\"openssl\",\"source_version\":\"3.0.11-1~deb12u1\",\"status\":"
		"\"install "
		"ok installed\"},"
		"{\"name\":\"libssl3\",\"version\":\"3.0.11-1~deb12u1\",\"arch\":\"amd64\","
		"\"source\":\"openssl\",\"source_version\":\"3.0.11-1~deb12u1\",\"status\":"
		"\"install "
		"ok installed\"},"
		"{\"name\":\"libc6\",\"version\":\"2.36-9+deb12u3\",\"arch\":\"amd64\","
		"\"source\":\"glibc\",\"source_version\":\"2.36-9+deb12u3\",\"status\":\"install "
		"ok "
		"installed\"},"
		"{\"name\":\"libfoo1\",\"version\":\"1.2-3+b1\",\"arch\":\"amd64\","
		"\"source\":\"foo\",\"source_version\":\"1.2-3\",\"status\":\"install ok "
		"installed\"},"
		"{\"name\":\"bash\",\"version\":\"5.2.15-2+b2\",\"arch\":\"amd64\","
		"\"source\":\"bash\",\"source_version\":\"5.2.15-2\",\"status\":\"install ok "
		"installed\"}],\"warnings\":[]}";
	char sql[4096];
	snprintf(sql, sizeof sql,
		 "INSERT INTO inventories (hash, json, first_seen) VALUES ('inv%lld', '%s',"
		 " '2026-01-01T00:00:00.000Z');"
		 "UPDATE hosts SET inventory_hash = 'inv%lld', maint_window = 'always' WHERE id = "
		 "%lld",
		 (long long)host, inv, (long long)host, (long long)host);
	srv_exec(f, f->db, sql);
}

static int64_t finding(struct srv *f, int64_t host, const char *pkg, const char *fixed,
		       int by_source, bool open)
{
	char sql[512];
	snprintf(sql, sizeof sql,
		 "INSERT INTO findings (host_id, package, advisory, installed, fixed, priority,"
		 " cves, first_seen, by_source, fixed_at) VALUES (%lld, '%s', 'DSA-%s-%s', '0',"
		 " '%s', 'high', 'CVE-2026-1', '2026-01-01T00:00:00.000Z', %d, %s)",
		 (long long)host, pkg, pkg, fixed, fixed, by_source,
		 open ? "NULL" : "'2026-01-02T00:00:00.000Z'");
	srv_exec(f, f->db, sql);
	return srv_int(f, "SELECT MAX(id) FROM findings", NULL);
}

static pw_err queue(struct srv *f, const char *role, int64_t host, const char *kind,
		    const char *args, pw_job_queued *q)
{
	pw_job_request r = {"user:t", role, host, kind, args};
	return pw_job_queue(f->db, &r, q, &f->e);
}

/* "findings": [ids] become the binaries to install at the fixed versions
 * (by source package: every binary of the source; a binNMU binary gets
 * the source's fixed version and "source"), the highest fix of a package
 * wins, and the ids are kept as from_findings. Named packages must be on
 * the host. */
static void test_job_findings(void **state)
{
	struct srv *f = *state;
	pw_agent a, b;
	new_agent(f, "web-01", "m1", &a);
	new_agent(f, "web-02", "m2", &b);
	pw_job_queued q;
	REFUSED(f, PW_ERR_INVALID, "no inventory yet",
		queue(f, "operator", a.host_id, "hold", "{\"packages\":[\"openssl\"]}", &q));
	give_inventory(f, a.host_id);
	int64_t f1 = finding(f, a.host_id, "openssl", "3.0.13-1~deb12u1", 1, true);
	int64_t f2 = finding(f, a.host_id, "openssl", "3.0.11-1~deb12u2", 1, true);
	int64_t f3 = finding(f, a.host_id, "foo", "1.2-4", 1, true);
	int64_t f4 = finding(f, a.host_id, "bash", "5.2.15-3", 0, true);
	int64_t closed = finding(f, a.host_id, "glibc", "2.36-9+deb12u4", 1, false);
	int64_t other = finding(f, b.host_id, "openssl", "3.0.13-1~deb12u1", 1, true);
	char args[256];
	snprintf(args, sizeof args, "{\"findings\":[%lld,%lld,%lld,%lld]}", (long long)f1,
		 (long long)f2, (long long)f3, (long long)f4);
	CHECK(f, queue(f, "operator", a.host_id, "patch", args, &q));
	char *got = srv_text(f, "SELECT args FROM jobs WHERE kind = ?", "patch");
	char want[1024];
	snprintf(want, sizeof want,
		 "{\"packages\":[{\"name\":\"bash\",\"version\":\"5.2.15-3\"},"
		 "{\"name\":\"libfoo1\",\"version\":\"1.2-4\",\"source\":\"foo\"},"
		 "{\"name\":\"libssl3\",\"version\":\"3.0.13-1~deb12u1\",\"source\":\"openssl\"},"
		 "{\"name\":\"openssl\",\"version\":\"3.0.13-1~deb12u1\",\"source\":\"openssl\"}],"
		 "\"from_findings\":[%lld,%lld,%lld,%lld]}",
		 (long long)f1, (long long)f2, (long long)f3, (long long)f4);
	/* The order of packages follows the findings; compare as sets. */
	cJSON *g = cJSON_Parse(got), *w = cJSON_Parse(want);
	cJSON *gp = cJSON_GetObjectItem(g, "packages"), *wp = cJSON_GetObjectItem(w, "packages");
	assert_int_equal(cJSON_GetArraySize(gp), cJSON_GetArraySize(wp));
	for (cJSON *x = wp->child; x; x = x->next) {
		bool found = false;
		for (cJSON *y = gp->child; y; y = y->next)
			found |= cJSON_Compare(x, y, true);
		if (!found)
			fail_msg("%s lacks %s", got, cJSON_PrintUnformatted(x));
	}
	assert_true(cJSON_Compare(cJSON_GetObjectItem(g, "from_findings"),
				  cJSON_GetObjectItem(w, "from_findings"), true));
	assert_null(cJSON_GetObjectItem(g, "findings"));
	cJSON_Delete(g);
	cJSON_Delete(w);
	free(got);
	/* What the agent gets passes the kind's schema, with deb's grammar. */
	got = srv_text(f, "SELECT args FROM jobs WHERE kind = ?", "patch");
	g = cJSON_Parse(got);
	CHECK(f, pw_job_args_check_scheme(pw_job_kind_find("patch"), g, PW_SCHEME_DEB, &f->e));
	cJSON_Delete(g);
	free(got);

	snprintf(args, sizeof args, "{\"findings\":[%lld]}", (long long)closed);
	REFUSED(f, PW_ERR_INVALID, "is not an open finding of host web-01",
		queue(f, "operator", a.host_id, "simulate", args, &q));
	snprintf(args, sizeof args, "{\"findings\":[%lld]}", (long long)other);
	REFUSED(f, PW_ERR_INVALID, "is not an open finding",
		queue(f, "operator", a.host_id, "simulate", args, &q));
	REFUSED(f, PW_ERR_INVALID, "\"nginx\" is not installed on host web-01",
		queue(f, "operator", a.host_id, "hold", "{\"packages\":[\"openssl\",\"nginx\"]}",
		      &q));
	REFUSED(f, PW_ERR_INVALID, "packages[0]: \"nginx\" is not installed",
		queue(f, "operator", a.host_id, "patch",
		      "{\"packages\":[{\"name\":\"nginx\",\"version\":\"1.22.1-9\"}]}", &q));
	/* deb grammar once the host is known: an rpm-style name */
	REFUSED(f, PW_ERR_INVALID, "argument \"packages\" of a rollback job: element 0",
		queue(f, "operator", a.host_id, "rollback",
		      "{\"packages\":[{\"name\":\"libc6\",\"version\":\"2.36_9-1\"}]}", &q));
	CHECK(f, queue(f, "operator", a.host_id, "hold", "{\"packages\":[\"openssl\"]}", &q));
	CHECK(f, queue(f, "operator", a.host_id, "rollback",
		       "{\"packages\":[{\"name\":\"libc6\",\"version\":\"2.36-9+deb12u1\"}]}", &q));
	CHECK(f, queue(f, "operator", a.host_id, "simulate", "{\"all_security\":true}", &q));
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM jobs", NULL), 4);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM audit_events WHERE action = ?",
				 "job.create"),
			 4);
}

static void set_now(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi};
	char v[32];
	snprintf(v, sizeof v, "%lld", (long long)timegm(&tm));
	setenv("PATCHWARDEN_TEST_NOW", v, 1);
}

static char *job_col(struct srv *f, const char *col, int64_t id)
{
	char sql[128], arg[32];
	snprintf(sql, sizeof sql, "SELECT %s FROM jobs WHERE CAST(id AS TEXT) = ?", col);
	snprintf(arg, sizeof arg, "%lld", (long long)id);
	return srv_text(f, sql, arg);
}

static void job_is(struct srv *f, int64_t id, const char *col, const char *want)
{
	char *v = job_col(f, col, id);
	if (!v || !want ? v != want : !!strstr(v, want) == false)
		fail_msg("job %lld %s: \"%s\", expected \"%s\"", (long long)id, col,
			 v ? v : "(null)", want ? want : "(null)");
	free(v);
}

/* Maintenance windows (UTC): a patch outside one is refused naming the
 * next start and the ways out; at_window waits for it and is leased only
 * inside it; an emergency is a manager's or an admin's; the scheduler's
 * deadlines fail a reboot that does not report back and a job whose window
 * closed. The clock is the test hook PATCHWARDEN_TEST_NOW (window.h). */
static void test_job_window(void **state)
{
	struct srv *f = *state;
#ifndef PW_TEST_HOOKS
	skip();
#endif
	pw_agent a;
	new_agent(f, "web-01", "m1", &a);
	pw_job_queued q;
	const char *all = "{\"all_security\":true}";
	set_now(2026, 12, 7, 12, 0); /* a Monday */
	REFUSED(f, PW_ERR_CONFLICT, "has no maintenance window",
		queue(f, "operator", a.host_id, "reboot", "{}", &q));
	srv_exec(f, f->db, "UPDATE hosts SET maint_window = 'Sun 01:00-04:00'");
	REFUSED(f, PW_ERR_CONFLICT,
		"outside its maintenance window (Sun 01:00-04:00, UTC); the next one starts "
		"2026-12-13T01:00:00.000Z: queue the patch job with \"at_window\": true",
		queue(f, "operator", a.host_id, "patch", all, &q));
	srv_contains(f->e.msg, "\"emergency\": true (roles admin manager)");
	REFUSED(f, PW_ERR_AUTH, "needs the role admin manager",
		queue(f, "operator", a.host_id, "patch",
		      "{\"all_security\":true,\"emergency\":true}", &q));
	REFUSED(f, PW_ERR_AUTH, "may not queue patch jobs",
		queue(f, "manager", a.host_id, "patch", all, &q));
	REFUSED(f, PW_ERR_INVALID, "exclude each other",
		queue(f, "admin", a.host_id, "patch",
		      "{\"all_security\":true,\"emergency\":true,\"at_window\":true}", &q));
	/* The two policy refusals are audited; the plain role refusal is a
	 * 403 like any route's. */
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM audit_events WHERE action = ?",
				 "job.refuse"),
			 3);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM jobs", NULL), 0);

	CHECK(f, queue(f, "manager", a.host_id, "patch",
		       "{\"all_security\":true,\"emergency\":true}", &q));
	int64_t urgent = q.id;
	assert_true(q.emergency);
	assert_string_equal(q.not_before, "");
	CHECK(f, queue(f, "operator", a.host_id, "patch",
		       "{\"all_security\":true,\"at_window\":true}", &q));
	int64_t later = q.id;
	assert_string_equal(q.not_before, "2026-12-13T01:00:00.000Z");
	assert_string_equal(q.not_after, "2026-12-13T04:00:00.000Z");
	job_is(f, later, "not_before", "2026-12-13T01:00:00.000Z");
	CHECK(f, queue(f, "operator", a.host_id, "scan", "{}", &q));
	int64_t scan = q.id;

	/* Monday: the emergency and the scan, not the windowed patch. */
	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 2);
	assert_int_equal(r.jobs[0].id, urgent);
	assert_int_equal(r.jobs[1].id, scan);
	/* Sunday 02:00, inside: now the patch. */
	set_now(2026, 12, 13, 2, 0);
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 1);
	assert_int_equal(r.jobs[0].id, later);
	/* Inside the window a patch needs nothing: it may run until 04:00. */
	CHECK(f, queue(f, "operator", a.host_id, "patch", all, &q));
	int64_t inside = q.id;
	assert_string_equal(q.not_before, "");
	assert_string_equal(q.not_after, "2026-12-13T04:00:00.000Z");
	/* 04:00: the window closed before the agent came back for it. */
	set_now(2026, 12, 13, 4, 0);
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 0);
	size_t failed = 0;
	CHECK(f, pw_job_deadlines(f->db, "system:scheduler", 900, &failed, &f->e));
	assert_int_equal(failed, 1);
	job_is(f, inside, "state", "failed");
	job_is(f, inside, "message", "maintenance window closed");
	job_is(f, later, "state", "leased");

	/* A reboot (an emergency here) leased and not reported within 900 s. */
	CHECK(f, queue(f, "admin", a.host_id, "reboot", "{\"emergency\":true}", &q));
	int64_t reboot = q.id;
	set_now(2026, 12, 13, 5, 0);
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 1);
	set_now(2026, 12, 13, 5, 14);
	CHECK(f, pw_job_deadlines(f->db, "system:scheduler", 900, &failed, &f->e));
	assert_int_equal(failed, 0);
	job_is(f, reboot, "state", "leased");
	set_now(2026, 12, 13, 5, 16);
	CHECK(f, pw_job_deadlines(f->db, "system:scheduler", 900, &failed, &f->e));
	assert_int_equal(failed, 1);
	job_is(f, reboot, "state", "failed");
	job_is(f, reboot, "message", "did not report back within [jobs] reboot_timeout");
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM audit_events WHERE action = ?",
				 "job.fail"),
			 2);
	/* "always": any time. */
	srv_exec(f, f->db, "UPDATE hosts SET maint_window = 'always'");
	CHECK(f, queue(f, "operator", a.host_id, "reboot", "{}", &q));
	assert_string_equal(q.not_after, "");
	pw_checkin_reply_release(&r);
	unsetenv("PATCHWARDEN_TEST_NOW");
}

/* The state pw_agent_authenticate reads serves the check-in right after
 * it; a re-key or a new job in between is still noticed. */
static void test_fresh_agent(void **state)
{
	struct srv *f = *state;
	char tok[PW_ENROLL_TOKEN_MAX];
	token(f, 2, 3600, tok, NULL);
	pw_enrollment en;
	CHECK(f, enroll_as(f, tok, "web-01", "m1", &en));
	pw_agent a;
	CHECK(f, pw_agent_authenticate(f->db, en.credential, &a, &f->e));
	assert_true(a.fresh);
	assert_false(a.jobs_waiting);
	assert_string_equal(a.inventory_hash, "");
	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	cJSON *inv = inventory("3.0.11-1~deb12u2");
	char h[65];
	inventory_hash(inv, h);
	CHECK(f, checkin(f, f->db, &a, h, inv, NULL, 0, 0, &r));
	assert_false(a.fresh);
	cJSON_Delete(inv);

	CHECK(f, pw_agent_authenticate(f->db, en.credential, &a, &f->e));
	assert_string_equal(a.inventory_hash, h);
	srv_exec(f, f->db, "UPDATE hosts SET last_seen = NULL");
	CHECK(f, checkin(f, f->db, &a, h, NULL, NULL, 0, 0, &r));
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM hosts WHERE last_seen IS NOT NULL", NULL),
			 1);

	CHECK(f, pw_agent_authenticate(f->db, en.credential, &a, &f->e));
	int64_t j = job(f, a.host_id, "scan");
	CHECK(f, checkin(f, f->db, &a, h, NULL, NULL, 0, 0, &r));
	if (r.n_jobs == 0) /* authenticated before the job existed */
		CHECK(f, checkin(f, f->db, &a, h, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 1);
	assert_int_equal(r.jobs[0].id, j);
	CHECK(f, pw_agent_authenticate(f->db, en.credential, &a, &f->e));
	assert_false(a.jobs_waiting); /* leased */

	pw_enrollment again;
	CHECK(f, enroll_proving(f, tok, "web-01", "m1", en.credential, &again));
	REFUSED(f, PW_ERR_AUTH, "no longer the agent",
		checkin(f, f->db, &a, h, NULL, NULL, 0, 0, &r));
	pw_checkin_reply_release(&r);
}

/* ---- concurrency ----------------------------------------------------- */

#define RACE_JOBS 120

struct taker {
	pw_db *db;
	pw_agent agent;
	int64_t got[RACE_JOBS];
	size_t n;
	int failures;
	pw_error e;
};

static void *take_all(void *arg)
{
	struct taker *t = arg;
	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	for (int idle = 0; idle < 3;) {
		pw_checkin c = PW_CHECKIN_INIT;
		c.inventory_hash = HASH0;
		c.max_jobs = 3;
		if (pw_agent_checkin(t->db, &t->agent, &c, &r, &t->e)) {
			t->failures++;
			break;
		}
		idle = r.n_jobs ? 0 : idle + 1;
		for (size_t i = 0; i < r.n_jobs && t->n < RACE_JOBS; i++)
			t->got[t->n++] = r.jobs[i].id;
	}
	pw_checkin_reply_release(&r);
	return NULL;
}

/* Two server connections take one host's jobs at the same time: every
 * job is handed out exactly once. */
static void test_concurrent_checkins(void **state)
{
	struct srv *f = *state;
	pw_agent a;
	new_agent(f, "web-01", "m1", &a);
	CHECK(f, pw_db_begin_immediate(f->db, &f->e));
	for (int i = 0; i < RACE_JOBS; i++) {
		pw_stmt *st;
		CHECK(f, pw_db_prepare(
				 f->db,
				 "INSERT INTO jobs (host_id, kind, args, state, created,"
				 " created_by) VALUES (?, 'scan', '{}', 'queued', 'now', 'test')",
				 &st, &f->e));
		assert_int_equal(pw_stmt_bind_int(st, 1, a.host_id), PW_OK);
		CHECK(f, pw_stmt_exec(st, &f->e));
	}
	CHECK(f, pw_db_commit(f->db, &f->e));
	struct taker *t = calloc(2, sizeof *t);
	assert_non_null(t);
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		t[i].db = srv_open_other(f);
		t[i].agent = a;
		assert_int_equal(pthread_create(&th[i], NULL, take_all, &t[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	char seen[RACE_JOBS + 1] = {0};
	for (int i = 0; i < 2; i++) {
		if (t[i].failures)
			fail_msg("check-in failed: %s", pw_error_text(&t[i].e));
		for (size_t k = 0; k < t[i].n; k++) {
			int64_t id = t[i].got[k];
			assert_true(id >= 1 && id <= RACE_JOBS);
			if (seen[id]++)
				fail_msg("job %lld was handed out twice", (long long)id);
		}
		pw_db_close(t[i].db);
	}
	assert_int_equal(t[0].n + t[1].n, RACE_JOBS);
	free(t);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM jobs WHERE attempts = 1", NULL),
			 RACE_JOBS);
}

/* PostgreSQL only (T_PG): jobs another node has locked (taking them
 * right now) are skipped, not waited for. */
static void test_skip_locked(void **state)
{
	struct srv *f = *state;
	pw_agent a;
	new_agent(f, "web-01", "m1", &a);
	for (int i = 0; i < 4; i++)
		job(f, a.host_id, "scan");
	pw_db *other = srv_open_other(f);
	CHECK(f, pw_db_begin(other, &f->e));
	pw_stmt *st;
	bool row;
	CHECK(f, pw_db_prepare(other, "SELECT id FROM jobs WHERE id <= 2 FOR UPDATE", &st, &f->e));
	do
		CHECK(f, pw_stmt_step(st, &row, &f->e));
	while (row);
	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 2);
	assert_int_equal(r.jobs[0].id, 3);
	assert_int_equal(r.jobs[1].id, 4);
	pw_db_rollback(other);
	pw_db_close(other);
	CHECK(f, checkin(f, f->db, &a, HASH0, NULL, NULL, 0, 0, &r));
	assert_int_equal(r.n_jobs, 2);
	assert_int_equal(r.jobs[0].id, 1);
	pw_checkin_reply_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_enroll),
		T(test_enroll_token_limits),
		T(test_rekey),
		T(test_adopt),
		T(test_credentials),
		T(test_need_inventory),
		T(test_results_idempotent),
		T(test_results_conflict),
		T(test_checkin_audit_atomic),
		T(test_host_isolation),
		T(test_leases),
		T(test_refused_and_release),
		T(test_runtime),
		T(test_job_create),
		T(test_job_findings),
		T(test_job_window),
		T(test_fresh_agent),
		T(test_concurrent_checkins),
		T_PG(test_skip_locked),
	};
	return srv_run("agents", tests, sizeof tests / sizeof *tests);
}
