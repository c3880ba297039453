/* Campaigns (campaign.h, campaigns.h, issue 13). The first tests walk
 * every (flow, state, action, role) of the host machine and every
 * (state, step, role) of the campaign machine against expectations
 * written here by hand from the issue and seed 001's flowcharts, not
 * read from the table under test. The others run campaigns through the
 * store on SQLite (and PostgreSQL with PW_TEST_PG_URL). */
#include <cjson/cJSON.h>
#include <inttypes.h>

#include "servertest.h"

#include "patchwarden/audit.h"
#include "patchwarden/campaign.h"
#include "patchwarden/campaign_select.h"
#include "patchwarden/campaigns.h"
#include "patchwarden/host_findings.h"
#include "patchwarden/hosts.h"
#include "patchwarden/policy_run.h"

#define ACTOR "cli:test"
#define SYS PW_ACTOR_SYSTEM
#define NO_STATE PW_CH__COUNT

/* ---- the host machine, by hand ------------------------------------------ */

/* Who may take each step, and in which flows (1, 2 or both: 3). */
struct who {
	pw_campaign_action a;
	int flows;
	pw_role r1, r2; /* r2 == r1 when one role */
};

static const struct who steps_by_hand[] = {
	{PW_CA_CONFIRM_BACKUP, 3, PW_ROLE_OPERATOR, PW_ROLE_ADMIN},
	{PW_CA_APPROVE, 2, PW_ROLE_APP_OWNER, PW_ROLE_APP_OWNER},
	{PW_CA_DECLINE, 2, PW_ROLE_APP_OWNER, PW_ROLE_APP_OWNER},
	{PW_CA_SIGN_OFF, 2, PW_ROLE_MANAGER, PW_ROLE_MANAGER},
	{PW_CA_RECORD_UAT, 2, PW_ROLE_APP_OWNER, PW_ROLE_APP_OWNER},
	{PW_CA_RECORD_COUNTERMEASURE, 3, PW_ROLE_OPERATOR, PW_ROLE_ADMIN},
	{PW_CA_BACKUP_CHECK_PASSED, 3, SYS, SYS},
	{PW_CA_PRE_SCAN_DONE, 3, SYS, SYS},
	{PW_CA_PATCH_DONE, 3, SYS, SYS},
	{PW_CA_PATCH_FAILED, 3, SYS, SYS},
	{PW_CA_POST_SCAN_CLEAN, 3, SYS, SYS},
	{PW_CA_POST_SCAN_VULNERABLE, 3, SYS, SYS},
	{PW_CA_HEALTH_FAILED, 3, SYS, SYS},
	{PW_CA_SKIP, 3, PW_ROLE_OPERATOR, PW_ROLE_ADMIN},
	{PW_CA_ROLLBACK, 3, PW_ROLE_OPERATOR, PW_ROLE_ADMIN},
	{PW_CA_ROLLBACK_DONE, 3, SYS, SYS},
	{PW_CA_ROLLBACK_FAILED, 3, SYS, SYS},
	{PW_CA_EXPIRE, 3, SYS, SYS},
};

/* The allowed moves of a production host with no patch done yet. */
struct move {
	int flows;
	pw_chost_state from;
	pw_campaign_action a;
	pw_chost_state to;
};

static const struct move moves_by_hand[] = {
	/* Flow 1: backup verified → ticket, help desk → scheduled */
	{1, PW_CH_AWAITING_BACKUP, PW_CA_CONFIRM_BACKUP, PW_CH_SCHEDULED},
	{1, PW_CH_AWAITING_BACKUP, PW_CA_BACKUP_CHECK_PASSED, PW_CH_SCHEDULED},
	/* Flow 2: then the application owner */
	{2, PW_CH_AWAITING_BACKUP, PW_CA_CONFIRM_BACKUP, PW_CH_AWAITING_APPROVAL},
	{2, PW_CH_AWAITING_BACKUP, PW_CA_BACKUP_CHECK_PASSED, PW_CH_AWAITING_APPROVAL},
	{2, PW_CH_AWAITING_APPROVAL, PW_CA_APPROVE, PW_CH_AWAITING_UAT},
	{2, PW_CH_AWAITING_APPROVAL, PW_CA_DECLINE, PW_CH_DECLINED},
	{2, PW_CH_DECLINED, PW_CA_SIGN_OFF, PW_CH_RISK_ACCEPTED},
	{2, PW_CH_RISK_ACCEPTED, PW_CA_EXPIRE, PW_CH_AWAITING_APPROVAL},
	{2, PW_CH_AWAITING_UAT, PW_CA_RECORD_UAT, PW_CH_SCHEDULED},
	/* both: pre-scan → patch → post-scan → verified, or patch again */
	{3, PW_CH_SCHEDULED, PW_CA_PRE_SCAN_DONE, PW_CH_PATCHING},
	{3, PW_CH_PATCHING, PW_CA_PATCH_DONE, PW_CH_POST_SCAN},
	{3, PW_CH_PATCHING, PW_CA_PATCH_FAILED, PW_CH_PATCHING},
	{3, PW_CH_POST_SCAN, PW_CA_POST_SCAN_CLEAN, PW_CH_VERIFIED},
	{3, PW_CH_POST_SCAN, PW_CA_POST_SCAN_VULNERABLE, PW_CH_PATCHING},
	{3, PW_CH_POST_SCAN, PW_CA_HEALTH_FAILED, PW_CH_POST_SCAN},
	/* countermeasures instead of a patch, until their re-check */
	{3, PW_CH_AWAITING_BACKUP, PW_CA_RECORD_COUNTERMEASURE, PW_CH_COUNTERMEASURE},
	{2, PW_CH_AWAITING_APPROVAL, PW_CA_RECORD_COUNTERMEASURE, PW_CH_COUNTERMEASURE},
	{2, PW_CH_AWAITING_UAT, PW_CA_RECORD_COUNTERMEASURE, PW_CH_COUNTERMEASURE},
	{3, PW_CH_SCHEDULED, PW_CA_RECORD_COUNTERMEASURE, PW_CH_COUNTERMEASURE},
	{3, PW_CH_ESCALATED, PW_CA_RECORD_COUNTERMEASURE, PW_CH_COUNTERMEASURE},
	{3, PW_CH_COUNTERMEASURE, PW_CA_EXPIRE, PW_CH_AWAITING_BACKUP},
	/* an operator's rollback of a halted host: the driver's job */
	{3, PW_CH_ROLLING_BACK, PW_CA_ROLLBACK_DONE, PW_CH_ROLLED_BACK},
	{3, PW_CH_ROLLING_BACK, PW_CA_ROLLBACK_FAILED, PW_CH_ROLLING_BACK},
};

/* Seed 000: a halted campaign's host (a failed patch, health check or
 * rollback) is resumed, skipped or rolled back; only while halted. */
static const struct move halted_moves_by_hand[] = {
	{3, PW_CH_PATCHING, PW_CA_SKIP, PW_CH_SKIPPED},
	{3, PW_CH_POST_SCAN, PW_CA_SKIP, PW_CH_SKIPPED},
	{3, PW_CH_ROLLING_BACK, PW_CA_SKIP, PW_CH_SKIPPED},
	{3, PW_CH_PATCHING, PW_CA_ROLLBACK, PW_CH_ROLLING_BACK},
	{3, PW_CH_POST_SCAN, PW_CA_ROLLBACK, PW_CH_ROLLING_BACK},
};

static const struct who *who_of(pw_campaign_action a)
{
	for (size_t i = 0; i < sizeof steps_by_hand / sizeof *steps_by_hand; i++)
		if (steps_by_hand[i].a == a)
			return &steps_by_hand[i];
	return NULL;
}

static pw_chost_state move_in(const struct move *v, size_t n, int flow, pw_chost_state s,
			      pw_campaign_action a)
{
	for (size_t i = 0; i < n; i++) {
		const struct move *m = &v[i];
		if ((m->flows & flow) && m->from == s && m->a == a)
			return m->to;
	}
	return NO_STATE;
}

static bool halted_case;

static pw_chost_state move_of(int flow, pw_chost_state s, pw_campaign_action a)
{
	pw_chost_state to = move_in(moves_by_hand, sizeof moves_by_hand / sizeof *moves_by_hand,
				    flow, s, a);
	if (to == NO_STATE && halted_case)
		to = move_in(halted_moves_by_hand,
			     sizeof halted_moves_by_hand / sizeof *halted_moves_by_hand, flow, s,
			     a);
	return to;
}

static pw_err expected(int flow, pw_chost_state s, pw_campaign_action a, pw_role r,
		       pw_chost_state *to)
{
	const struct who *w = who_of(a);
	if (!w || !(w->flows & flow))
		return PW_ERR_CONFLICT;
	if (r != w->r1 && r != w->r2)
		return PW_ERR_AUTH;
	*to = move_of(flow, s, a);
	return *to == NO_STATE ? PW_ERR_CONFLICT : PW_OK;
}

static void test_host_machine_exhaustive(void **state)
{
	(void)state;
	size_t allowed[2] = {0, 0};
	for (int halted = 0; halted <= 1; halted++)
		for (int flow = 1; flow <= 2; flow++)
			for (int s = 0; s < PW_CH__COUNT; s++)
				for (int a = 0; a < PW_CA__COUNT; a++) {
					if (a >= PW_CA__HOST_STEPS && a < PW_CA__STEPS)
						continue; /* campaign steps: below */
					for (int r = 0; r <= (int)SYS; r++) {
						pw_chost_facts f = {flow, false, 0, halted};
						halted_case = halted;
						pw_chost_state want = NO_STATE, got = NO_STATE;
						pw_error e = PW_ERROR_INIT;
						pw_err rc_want = expected(flow, (pw_chost_state)s,
									  (pw_campaign_action)a,
									  (pw_role)r, &want);
						pw_err rc = pw_campaign_check(&f, (pw_chost_state)s,
									      (pw_campaign_action)a,
									      (pw_role)r, "web-01",
									      7, &got, &e);
						if (rc != rc_want || (!rc && got != want))
							fail_msg("flow %d%s %s %s by %s: got %d "
								 "(%s) -> "
								 "%s, expected %d -> %s",
								 flow, halted ? " halted" : "",
								 pw_chost_state_name(s),
								 pw_campaign_action_name(a),
								 r == (int)SYS ? "system"
									       : pw_role_name(r),
								 rc, e.msg,
								 pw_chost_state_name(got), rc_want,
								 pw_chost_state_name(want));
						allowed[halted] += !rc;
					}
				}
	/* 2 roles may confirm backups and record countermeasures; a rollback
	 * job's 2 outcomes in 2 flows. */
	assert_int_equal(allowed[0], 41 + 4);
	/* Halted: skip from 3 states and rollback from 2, by 2 roles in 2 flows. */
	assert_int_equal(allowed[1], 45 + (3 + 2) * 2 * 2);
}

static void test_host_machine_guards(void **state)
{
	(void)state;
	pw_chost_state to;
	pw_error e = PW_ERROR_INIT;
	/* An approved test environment host is patched at once: it is the test. */
	pw_chost_facts test = {2, true, 0, false};
	assert_int_equal(pw_campaign_check(&test, PW_CH_AWAITING_APPROVAL, PW_CA_APPROVE,
					   PW_ROLE_APP_OWNER, "web-t1", 1, &to, &e),
			 PW_OK);
	assert_int_equal(to, PW_CH_SCHEDULED);
	/* Still vulnerable after the third patch: escalated, not patched again. */
	pw_chost_facts worn = {1, false, 3, false}, fresh = {1, false, 2, false};
	assert_int_equal(pw_campaign_check(&worn, PW_CH_POST_SCAN, PW_CA_POST_SCAN_VULNERABLE, SYS,
					   "dns-01", 1, &to, &e),
			 PW_OK);
	assert_int_equal(to, PW_CH_ESCALATED);
	assert_int_equal(pw_campaign_check(&fresh, PW_CH_POST_SCAN, PW_CA_POST_SCAN_VULNERABLE, SYS,
					   "dns-01", 1, &to, &e),
			 PW_OK);
	assert_int_equal(to, PW_CH_PATCHING);
	/* The refusal says what is missing and who must do it. */
	pw_chost_facts f2 = {2, false, 0, false};
	assert_int_equal(pw_campaign_check(&f2, PW_CH_AWAITING_BACKUP, PW_CA_APPROVE,
					   PW_ROLE_APP_OWNER, "web-01", 7, &to, &e),
			 PW_ERR_CONFLICT);
	srv_contains(e.msg,
		     "web-01 has no verified backup: the backup role (operator) must run "
		     "'campaign confirm-backup 7 --host web-01' or its backup check must pass");
	assert_int_equal(pw_campaign_check(&f2, PW_CH_DECLINED, PW_CA_SIGN_OFF, PW_ROLE_OPERATOR,
					   "web-01", 7, &to, &e),
			 PW_ERR_AUTH);
	srv_contains(e.msg, "sign-off is the manager's step; you are operator");
	/* Skip and rollback are for a halted campaign's host, and say so. */
	assert_int_equal(pw_campaign_check(&f2, PW_CH_PATCHING, PW_CA_SKIP, PW_ROLE_OPERATOR,
					   "web-01", 7, &to, &e),
			 PW_ERR_CONFLICT);
	srv_contains(e.msg, "cannot skip web-01 now: campaign 7 is not halted");
	assert_int_equal(pw_campaign_check(&f2, PW_CH_SCHEDULED, PW_CA_ROLLBACK, PW_ROLE_OPERATOR,
					   "web-01", 7, &to, &e),
			 PW_ERR_CONFLICT);
	srv_contains(e.msg, "cannot rollback web-01 now: web-01 is scheduled");
	assert_int_equal(pw_campaign_check(&f2, PW_CH_PATCHING, PW_CA_ROLLBACK, PW_ROLE_MANAGER,
					   "web-01", 7, &to, &e),
			 PW_ERR_AUTH);
	srv_contains(e.msg, "rollback is the admin or operator's step; you are manager");
}

/* ---- the campaign machine, by hand -------------------------------------- */

static pw_campaign_state campaign_move(pw_campaign_state s, pw_campaign_action a)
{
	if (a == PW_CA_START && s == PW_CS_OPEN)
		return PW_CS_RUNNING;
	if (a == PW_CA_PAUSE && s == PW_CS_RUNNING)
		return PW_CS_PAUSED;
	if (a == PW_CA_RESUME && (s == PW_CS_PAUSED || s == PW_CS_HALTED))
		return PW_CS_RUNNING;
	if (a == PW_CA_CANCEL && s != PW_CS_CANCELLED && s != PW_CS_DONE)
		return PW_CS_CANCELLED;
	return PW_CS__COUNT;
}

static void test_campaign_machine_exhaustive(void **state)
{
	(void)state;
	for (int s = 0; s < PW_CS__COUNT; s++)
		for (int a = PW_CA__HOST_STEPS; a < PW_CA__STEPS; a++)
			for (int r = 0; r <= (int)SYS; r++) {
				bool ops = r == PW_ROLE_OPERATOR || r == PW_ROLE_ADMIN;
				pw_campaign_state want = campaign_move(s, a), got = PW_CS__COUNT;
				pw_err rc_want = !ops                   ? PW_ERR_AUTH
						 : want == PW_CS__COUNT ? PW_ERR_CONFLICT
									: PW_OK;
				pw_error e = PW_ERROR_INIT;
				pw_err rc = pw_campaign_check_campaign(s, a, r, 3, &got, &e);
				if (rc != rc_want || (!rc && got != want))
					fail_msg("campaign %s %s by role %d: got %d (%s), expected "
						 "%d",
						 pw_campaign_state_name(s),
						 pw_campaign_action_name(a), r, rc, e.msg, rc_want);
			}
}

static void test_flow_of(void **state)
{
	(void)state;
	static const char *const one[] = {"core", "security", "file-print", "mail"};
	static const char *const two[] = {"application", "database", "web"};
	for (int i = 0; i < 4; i++)
		assert_int_equal(pw_campaign_flow_of(one[i]), 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pw_campaign_flow_of(two[i]), 2);
	assert_int_equal(pw_campaign_flow_of(NULL), 0);
	assert_int_equal(pw_campaign_flow_of("Web"), 0);
}

static void test_select_parse(void **state)
{
	(void)state;
	pw_campaign_select s;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_campaign_select_parse("category=web,criticality=3,overdue=true",
						  "priority=high,kev=true", NULL, &s, &e),
			 PW_OK);
	assert_string_equal(s.f.host.category, "web");
	assert_int_equal(s.f.host.min_criticality, 3);
	assert_true(s.f.host.overdue);
	assert_string_equal(s.f.priority, "high");
	assert_int_equal(s.f.kev, 1);
	assert_string_equal(s.f.state, "open");
	pw_campaign_select_release(&s);
	assert_int_equal(pw_campaign_select_parse("all", NULL, "openssl,curl", &s, &e), PW_OK);
	assert_int_equal(s.n_packages, 2);
	assert_string_equal(s.packages[1], "curl");
	pw_campaign_select_release(&s);
	static const char *const bad[][3] = {
		{"criticality=9", NULL, NULL},
		{"colour=red", NULL, NULL},
		{"category", NULL, NULL},
		{"", NULL, NULL},
		{"all", "kev=maybe", NULL},
		{"all", "priority=high", "openssl"},
		{"all", NULL, ""},
		{NULL, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(pw_campaign_select_parse(bad[i][0], bad[i][1], bad[i][2], &s, &e),
				 PW_ERR_INVALID);
		pw_campaign_select_release(&s);
	}
	int64_t sec;
	assert_int_equal(pw_campaign_soak_parse("2", &sec, &e), PW_OK);
	assert_int_equal(sec, 172800);
	assert_int_equal(pw_campaign_soak_parse("30m", &sec, &e), PW_OK);
	assert_int_equal(sec, 1800);
	assert_int_equal(pw_campaign_soak_parse("0s", &sec, &e), PW_OK);
	assert_int_equal(sec, 0);
	assert_int_equal(pw_campaign_soak_parse("400", &sec, &e), PW_ERR_INVALID);
	assert_int_equal(pw_campaign_soak_parse("-1", &sec, &e), PW_ERR_INVALID);
	assert_int_equal(pw_campaign_soak_parse("m", &sec, &e), PW_ERR_INVALID);
}

/* ---- through the store -------------------------------------------------- */

/* 2026-12-07 12:00 UTC, and a day. */
#define NOW 1796644800
#define DAY 86400

/* A host with fields "category=web,environment=test,..." and one open
 * finding of package `pkg`. */
static int64_t host(struct srv *f, const char *name, const char *cat, const char *env,
		    const char *crit, const char *owner, const char *pkg)
{
	pw_host_assign a[] = {{PW_HF_CATEGORY, cat},
			      {PW_HF_ENVIRONMENT, env},
			      {PW_HF_CRITICALITY, crit},
			      {PW_HF_APP_OWNER, owner}};
	int64_t id;
	CHECK(f, pw_host_create(f->db, ACTOR, name, a, 4, &id, &f->e));
	pw_host_finding hf = {.package = pkg,
			      .advisory = "DSA-1-1",
			      .installed = "1.0",
			      .fixed = "1.1",
			      .priority = PW_HOST_PRIO_HIGH,
			      .cves = "CVE-2026-1",
			      .snapshot = 5};
	CHECK(f, pw_host_findings_replace_from(f->db, id, 5, NULL, &hf, 1, NULL, &f->e));
	return id;
}

static pw_campaign_step step(int64_t c, pw_campaign_action a, pw_role r, const char *h,
			     const char *note, int64_t now)
{
	pw_campaign_step s = {"user:t", r, c, a, h, note, {NULL, NULL, NULL, NULL}, NULL, now};
	return s;
}

static void take(struct srv *f, pw_campaign_step s)
{
	CHECK(f, pw_campaign_step_apply(f->db, &s, &f->e));
}

static char *host_state(struct srv *f, const char *name)
{
	return srv_text(f, "SELECT state FROM campaign_hosts WHERE hostname = ?", name);
}

static void assert_state(struct srv *f, const char *name, const char *want)
{
	char *s = host_state(f, name);
	assert_string_equal(s, want);
	free(s);
}

static void assert_audit_intact(struct srv *f)
{
	pw_audit_report r;
	CHECK(f, pw_audit_verify(f->db, &r, &f->e));
	assert_int_equal(r.fault, PW_AUDIT_INTACT);
}

static void test_flow1_walk(void **state)
{
	struct srv *f = *state;
	int64_t dns = host(f, "dns-01", "core", "production", "2", NULL, "bind9");
	host(f, "web-09", "web", "production", "4", "shop", "nginx");
	pw_campaign_spec sp = {"core", "category=core", NULL, NULL, 0, false, 0};
	int64_t c;
	REFUSED(f, PW_ERR_AUTH, "created by the admin or operator or manager",
		pw_campaign_create(f->db, ACTOR, PW_ROLE_APP_OWNER, &sp, NOW, &c, &f->e));
	CHECK(f, pw_campaign_create(f->db, ACTOR, PW_ROLE_OPERATOR, &sp, NOW, &c, &f->e));
	assert_int_equal(srv_int(f, "SELECT count(*) FROM campaign_hosts", NULL), 1);
	assert_int_equal(srv_int(f, "SELECT snapshot FROM campaigns", NULL), 5);
	/* No backup proof, no patch. */
	REFUSED(f, PW_ERR_CONFLICT, "dns-01 has no verified backup",
		pw_campaign_job_outcome(f->db, "driver", c, dns, PW_CA_PRE_SCAN_DONE, 0, NOW,
					&f->e));
	pw_campaign_step s = step(c, PW_CA_CONFIRM_BACKUP, PW_ROLE_OPERATOR, "dns-01", NULL, NOW);
	REFUSED(f, PW_ERR_INVALID, "proof", pw_campaign_step_apply(f->db, &s, &f->e));
	take(f, step(c, PW_CA_CONFIRM_BACKUP, PW_ROLE_OPERATOR, "dns-01", "tape 7 restored", NOW));
	REFUSED(f, PW_ERR_CONFLICT, "'campaign start",
		pw_campaign_job_outcome(f->db, "driver", c, dns, PW_CA_PRE_SCAN_DONE, 0, NOW,
					&f->e));
	take(f, step(c, PW_CA_START, PW_ROLE_OPERATOR, NULL, NULL, NOW));
	static const pw_campaign_action walk[] = {
		PW_CA_PRE_SCAN_DONE, PW_CA_PATCH_DONE,      PW_CA_POST_SCAN_VULNERABLE,
		PW_CA_PATCH_DONE,    PW_CA_POST_SCAN_CLEAN,
	};
	for (size_t i = 0; i < sizeof walk / sizeof *walk; i++)
		CHECK(f, pw_campaign_job_outcome(f->db, "driver", c, dns, walk[i], 40 + (int64_t)i,
						 NOW, &f->e));
	assert_state(f, "dns-01", "verified");
	/* The backup's confirmation is asked in "My actions"; the help desk
	 * is told about the host on its page. */
	assert_int_equal(srv_int(f,
				 "SELECT count(*) FROM notify_outbox WHERE channel = 'webhook' AND"
				 " event = 'campaign.waiting' AND link = '/actions'",
				 NULL),
			 1);
	char want[32];
	snprintf(want, sizeof want, "/hosts/%" PRId64, dns);
	assert_int_equal(srv_int(f,
				 "SELECT count(*) FROM notify_outbox WHERE channel = 'webhook' AND"
				 " event = 'campaign.scheduled' AND link = ?",
				 want),
			 1);
	assert_int_equal(srv_int(f, "SELECT patches FROM campaign_hosts", NULL), 2);
	char *cs = srv_text(f, "SELECT state FROM campaigns", NULL);
	assert_string_equal(cs, "done");
	free(cs);
	char *ts = srv_text(f, "SELECT state FROM tickets", NULL);
	assert_string_equal(ts, "closed");
	free(ts);
	/* open, backup, 5 outcomes: one event each, each audited too. */
	assert_int_equal(srv_int(f, "SELECT count(*) FROM ticket_events", NULL), 7);
	assert_int_equal(srv_int(f,
				 "SELECT count(*) FROM audit_events WHERE action LIKE"
				 " 'campaign.%'",
				 NULL),
			 8);
	REFUSED(f, PW_ERR_CONFLICT, "is done",
		pw_campaign_job_outcome(f->db, "driver", c, dns, PW_CA_PATCH_DONE, 0, NOW, &f->e));
	assert_audit_intact(f);
}

static void test_flow2_decline_expiry(void **state)
{
	struct srv *f = *state;
	host(f, "db-01", "database", "production", "5", "erp", "postgresql-15");
	pw_campaign_spec sp = {"erp", "category=database", NULL, "postgresql-15", 0, false, 60};
	int64_t c;
	CHECK(f, pw_campaign_create(f->db, ACTOR, PW_ROLE_ADMIN, &sp, NOW, &c, &f->e));
	take(f, step(c, PW_CA_CONFIRM_BACKUP, PW_ROLE_ADMIN, "db-01", "restore test ok", NOW));
	assert_state(f, "db-01", "awaiting_approval");
	pw_campaign_step d = step(c, PW_CA_DECLINE, PW_ROLE_APP_OWNER, "db-01", "month end", NOW);
	REFUSED(f, PW_ERR_INVALID, "risk assessment", pw_campaign_step_apply(f->db, &d, &f->e));
	d.risk = (pw_risk_assessment){"high", "low", "medium", "outage costs more this week"};
	CHECK(f, pw_campaign_step_apply(f->db, &d, &f->e));
	assert_state(f, "db-01", "declined");
	/* Each step's message names the console page where its recipient
	 * acts and keeps the command: the owner's approval and the manager's
	 * sign-off both in "My actions". */
	assert_int_equal(srv_int(f,
				 "SELECT count(*) FROM notify_outbox WHERE channel = 'webhook' AND"
				 " event = 'campaign.waiting' AND link = '/actions'",
				 NULL),
			 3);
	assert_int_equal(srv_int(f,
				 "SELECT count(*) FROM notify_outbox WHERE channel = 'webhook' AND"
				 " (link IS NULL OR link <> '/actions')",
				 NULL),
			 0);
	char *signoff = srv_text(f,
				 "SELECT body FROM notify_outbox WHERE channel = 'webhook'"
				 " ORDER BY id DESC LIMIT 1",
				 NULL);
	srv_contains(signoff, "sign-off");
	free(signoff);
	pw_campaign_step so = step(c, PW_CA_SIGN_OFF, PW_ROLE_APP_OWNER, "db-01", NULL, NOW);
	so.until = "2026-12-10";
	REFUSED(f, PW_ERR_AUTH, "manager", pw_campaign_step_apply(f->db, &so, &f->e));
	so.role = PW_ROLE_MANAGER;
	so.until = "2026-12-01";
	REFUSED(f, PW_ERR_INVALID, "not in the future", pw_campaign_step_apply(f->db, &so, &f->e));
	so.until = "2026-12-10";
	CHECK(f, pw_campaign_step_apply(f->db, &so, &f->e));
	assert_state(f, "db-01", "risk_accepted");
	size_t n = 9;
	CHECK(f, pw_campaign_expire(f->db, "scheduler", NOW + DAY, &n, &f->e));
	assert_int_equal(n, 0);
	CHECK(f, pw_campaign_expire(f->db, "scheduler", NOW + 3 * DAY, &n, &f->e));
	assert_int_equal(n, 1);
	assert_state(f, "db-01", "awaiting_approval");
	assert_int_equal(srv_int(f,
				 "SELECT count(*) FROM risk_acceptances WHERE expired IS NOT"
				 " NULL AND signed_by = 'user:t'",
				 NULL),
			 1);
	CHECK(f, pw_campaign_expire(f->db, "scheduler", NOW + 4 * DAY, &n, &f->e));
	assert_int_equal(n, 0);
	assert_audit_intact(f);
}

/* A done campaign whose risk acceptance expires runs again; a cancelled
 * one's countermeasure is not re-checked. */
static void test_expiry_after_the_end(void **state)
{
	struct srv *f = *state;
	host(f, "db-02", "database", "production", "5", "erp", "postgresql-15");
	host(f, "mx-01", "mail", "production", "2", NULL, "exim4");
	pw_campaign_spec a = {"a", "category=database", NULL, NULL, 0, false, 0};
	pw_campaign_spec b = {"b", "category=mail", NULL, NULL, 0, false, 0};
	int64_t ca, cb;
	CHECK(f, pw_campaign_create(f->db, ACTOR, PW_ROLE_OPERATOR, &a, NOW, &ca, &f->e));
	CHECK(f, pw_campaign_create(f->db, ACTOR, PW_ROLE_OPERATOR, &b, NOW, &cb, &f->e));
	take(f, step(ca, PW_CA_START, PW_ROLE_OPERATOR, NULL, NULL, NOW));
	take(f, step(ca, PW_CA_CONFIRM_BACKUP, PW_ROLE_OPERATOR, "db-02", "ok", NOW));
	pw_campaign_step d = step(ca, PW_CA_DECLINE, PW_ROLE_APP_OWNER, "db-02", "no", NOW);
	d.risk = (pw_risk_assessment){"low", "low", "low", "cheap"};
	take(f, d);
	pw_campaign_step so = step(ca, PW_CA_SIGN_OFF, PW_ROLE_MANAGER, "db-02", NULL, NOW);
	so.until = "2026-12-08T12:00:00Z";
	take(f, so);
	pw_campaign_step cm = step(cb, PW_CA_RECORD_COUNTERMEASURE, PW_ROLE_ADMIN, "mx-01",
				   "port 25 closed", NOW);
	cm.until = "2026-12-08";
	take(f, cm);
	take(f, step(cb, PW_CA_CANCEL, PW_ROLE_ADMIN, NULL, NULL, NOW));
	assert_int_equal(srv_int(f, "SELECT count(*) FROM campaigns WHERE state = ?", "done"), 1);
	size_t n = 0;
	CHECK(f, pw_campaign_expire(f->db, "scheduler", NOW + DAY, &n, &f->e));
	assert_int_equal(n, 1);
	assert_state(f, "db-02", "awaiting_approval");
	assert_state(f, "mx-01", "countermeasure");
	assert_int_equal(srv_int(f, "SELECT count(*) FROM campaigns WHERE state = ?", "running"),
			 1);
	assert_audit_intact(f);
}

static void test_flow2_test_first(void **state)
{
	struct srv *f = *state;
	int64_t t1 = host(f, "shop-t1", "web", "test", "1", "shop", "nginx");
	host(f, "shop-p1", "web", "production", "4", "shop", "nginx");
	host(f, "mail-1", "mail", "production", "3", NULL, "exim4");
	pw_campaign_spec sp = {"web", "all", NULL, NULL, 0, false, -1};
	int64_t c;
	CHECK(f, pw_campaign_create(f->db, ACTOR, PW_ROLE_OPERATOR, &sp, NOW, &c, &f->e));
	/* waves: the test host, then criticality 3 (mail), then 4 */
	assert_int_equal(srv_int(f, "SELECT wave FROM campaign_hosts WHERE hostname = ?",
				 "shop-t1"),
			 1);
	assert_int_equal(srv_int(f, "SELECT wave FROM campaign_hosts WHERE hostname = ?", "mail-1"),
			 2);
	assert_int_equal(srv_int(f, "SELECT wave FROM campaign_hosts WHERE hostname = ?",
				 "shop-p1"),
			 3);
	for (int i = 0; i < 2; i++) {
		const char *h = i ? "shop-p1" : "shop-t1";
		take(f, step(c, PW_CA_CONFIRM_BACKUP, PW_ROLE_OPERATOR, h, "ok", NOW));
		take(f, step(c, PW_CA_APPROVE, PW_ROLE_APP_OWNER, h, NULL, NOW));
	}
	assert_state(f, "shop-t1", "scheduled");
	assert_state(f, "shop-p1", "awaiting_uat");
	pw_campaign_step uat = step(c, PW_CA_RECORD_UAT, PW_ROLE_APP_OWNER, "shop-p1", "ok", NOW);
	REFUSED(f, PW_ERR_CONFLICT, "not all verified", pw_campaign_step_apply(f->db, &uat, &f->e));
	take(f, step(c, PW_CA_START, PW_ROLE_OPERATOR, NULL, NULL, NOW));
	static const pw_campaign_action walk[] = {PW_CA_PRE_SCAN_DONE, PW_CA_PATCH_DONE,
						  PW_CA_POST_SCAN_CLEAN};
	for (size_t i = 0; i < 3; i++)
		CHECK(f, pw_campaign_job_outcome(f->db, "driver", c, t1, walk[i], 0, NOW, &f->e));
	CHECK(f, pw_campaign_step_apply(f->db, &uat, &f->e));
	assert_state(f, "shop-p1", "scheduled");
	/* mail-1 (wave 2) has no backup yet: wave 3 waits for it. */
	int64_t p1 = srv_int(f, "SELECT id FROM hosts WHERE hostname = ?", "shop-p1");
	REFUSED(f, PW_ERR_CONFLICT, "earlier waves",
		pw_campaign_job_outcome(f->db, "driver", c, p1, PW_CA_PRE_SCAN_DONE, 0, NOW,
					&f->e));
	pw_campaign_step cm = step(c, PW_CA_RECORD_COUNTERMEASURE, PW_ROLE_OPERATOR, "mail-1",
				   "smtp closed at the firewall", NOW);
	cm.until = "2027-01-07";
	CHECK(f, pw_campaign_step_apply(f->db, &cm, &f->e));
	/* The soak time (2 days by default) counts from mail-1's outcome. */
	REFUSED(f, PW_ERR_CONFLICT, "soaked",
		pw_campaign_job_outcome(f->db, "driver", c, p1, PW_CA_PRE_SCAN_DONE, 0, NOW + DAY,
					&f->e));
	CHECK(f, pw_campaign_job_outcome(f->db, "driver", c, p1, PW_CA_PRE_SCAN_DONE, 0,
					 NOW + 3 * DAY, &f->e));
	/* A failed patch halts the campaign; cancelling cancels what is left. */
	CHECK(f, pw_campaign_job_outcome(f->db, "driver", c, p1, PW_CA_PATCH_FAILED, 0,
					 NOW + 3 * DAY, &f->e));
	char *cs = srv_text(f, "SELECT state FROM campaigns", NULL);
	assert_string_equal(cs, "halted");
	free(cs);
	pw_campaign_step pause = step(c, PW_CA_PAUSE, PW_ROLE_OPERATOR, NULL, NULL, NOW);
	REFUSED(f, PW_ERR_CONFLICT, "halted", pw_campaign_step_apply(f->db, &pause, &f->e));
	take(f, step(c, PW_CA_CANCEL, PW_ROLE_OPERATOR, NULL, NULL, NOW));
	assert_state(f, "shop-p1", "cancelled");
	assert_state(f, "mail-1", "countermeasure");
	cJSON *j = NULL;
	CHECK(f, pw_campaign_show_json(f->db, c, &j, &f->e));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "host_list")), 3);
	cJSON_Delete(j);
	int64_t tk = srv_int(f, "SELECT ticket_id FROM campaign_hosts WHERE hostname = ?",
			     "shop-p1");
	CHECK(f, pw_ticket_show_json(f->db, tk, &j, &f->e));
	/* open, backup, approve, uat, pre-scan, patch failed, cancel */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "events")), 7);
	cJSON_Delete(j);
	assert_audit_intact(f);
}

/* A compromised host without an open ticket gets one of its own, in an
 * emergency campaign of the host alone, on the incident track; clearing
 * the mark takes it off the track and keeps both in its history. */
static void test_incident_track(void **state)
{
	struct srv *f = *state;
	int64_t id = host(f, "mail-01", "mail", "production", "3", NULL, "exim4");
	int64_t c, t;
	size_t similar, n;
	CHECK(f, pw_policy_compromised(f->db, ACTOR, "mail-01", "phishing relay", NOW, &c, &similar,
				       &t, &f->e));
	assert_int_equal(c, 0);
	assert_int_equal(similar, 0);
	assert_int_equal(t, srv_int(f, "SELECT id FROM tickets WHERE hostname = 'mail-01'", NULL));
	assert_int_equal(srv_int(f,
				 "SELECT count(*) FROM campaigns WHERE name = 'incident: mail-01'"
				 " AND emergency = 1",
				 NULL),
			 1);
	char *track = srv_text(f, "SELECT track FROM tickets WHERE hostname = 'mail-01'", NULL);
	assert_string_equal(track, "incident");
	free(track);
	assert_int_equal(srv_int(f,
				 "SELECT count(*) FROM ticket_events WHERE action = 'incident' AND"
				 " note = 'phishing relay'",
				 NULL),
			 1);
	char link[32];
	snprintf(link, sizeof link, "/hosts/%" PRId64, id);
	assert_int_equal(
		srv_int(f,
			"SELECT count(*) FROM notify_outbox WHERE event = 'host.compromised'"
			" AND channel = 'webhook' AND link = ?",
			link),
		1);
	CHECK(f, pw_policy_compromise_clear(f->db, ACTOR, "mail-01", "rebuilt", NOW, &n, &f->e));
	assert_int_equal(n, 1);
	track = srv_text(f, "SELECT track FROM tickets WHERE hostname = 'mail-01'", NULL);
	assert_string_equal(track, "regular");
	free(track);
	assert_int_equal(
		srv_int(f,
			"SELECT count(*) FROM ticket_events WHERE action = 'incident.cleared'"
			" AND note = 'rebuilt'",
			NULL),
		1);
	REFUSED(f, PW_ERR_CONFLICT, "not marked compromised",
		pw_policy_compromise_clear(f->db, ACTOR, "mail-01", NULL, NOW, &n, &f->e));
	assert_audit_intact(f);
}

static void test_ticket_events_append_only(void **state)
{
	struct srv *f = *state;
	host(f, "dns-02", "core", "production", "1", NULL, "bind9");
	pw_campaign_spec sp = {"c", "all", NULL, NULL, 1, false, 0};
	int64_t c;
	CHECK(f, pw_campaign_create(f->db, ACTOR, PW_ROLE_OPERATOR, &sp, NOW, &c, &f->e));
	pw_error e = PW_ERROR_INIT;
	assert_int_not_equal(pw_db_exec(f->db, "UPDATE ticket_events SET note = 'x'", &e), PW_OK);
	assert_int_not_equal(pw_db_exec(f->db, "DELETE FROM ticket_events", &e), PW_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_machine_exhaustive),
		cmocka_unit_test(test_host_machine_guards),
		cmocka_unit_test(test_campaign_machine_exhaustive),
		cmocka_unit_test(test_flow_of),
		cmocka_unit_test(test_select_parse),
		T(test_flow1_walk),
		T(test_flow2_decline_expiry),
		T(test_incident_track),
		T(test_flow2_test_first),
		T(test_expiry_after_the_end),
		T(test_ticket_events_append_only),
	};
	return srv_run("campaign", tests, sizeof tests / sizeof *tests);
}
