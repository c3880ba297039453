/* Taking a step (campaigns.h): check it against the machine
 * (machine.c), check what the step itself needs (a note, an assessment,
 * a date, the gates the table cannot see), apply it, and record it on
 * the ticket and in the audit log, all in one transaction. */
#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patchwarden/audit.h"
#include "patchwarden/campaigns.h"
#include "patchwarden/hosts.h"
#include "patchwarden/jobs.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/sql.h"
#include "patchwarden/text.h"

#include "campaign-internal.h"

#define NOTE_MAX 4096

struct campaign_row {
	int64_t id, soak;
	pw_campaign_state state;
};

struct step_ctx {
	const pw_campaign_step *s;
	char now[PW_TS_LEN];
	char until[PW_TS_LEN]; /* the stored form of s->until */
	struct campaign_row c;
	struct chost h;
	pw_chost_state to;
	pw_campaign_state cto;
	int64_t job; /* pw_campaign_job_outcome: the job behind it */
};

pw_err pw_campaign_ticket_event(pw_db *db, const struct ticket_event *e, pw_error *err)
{
	const char *next = e->next ? e->next : pw_chost_next_actor(e->to, 0);
	pw_stmt *st;
	pw_err rc =
		pw_sql(db,
		       "INSERT INTO ticket_events (ticket_id, ts, actor, action, from_state,"
		       " to_state, note, detail, next_actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       &st, err, "itttttttt", e->ticket, e->ts, e->actor, e->action,
		       pw_chost_state_name(e->from), pw_chost_state_name(e->to), e->note, e->detail,
		       next);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	bool closed = pw_chost_state_final(e->to);
	if (!rc)
		rc = pw_sql(db,
			    "UPDATE tickets SET next_actor = ?, state = ?,"
			    " closed = CASE WHEN ? = 'closed' THEN ? ELSE NULL END WHERE id = ?",
			    &st, err, "tttti", next, closed ? "closed" : "open",
			    closed ? "closed" : "open", e->ts, e->ticket);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	/* A ticket opened, or moved on to someone: they are told. */
	bool moved = e->from != e->to || strcmp(e->action, "open") == 0;
	return rc || !moved ? rc : pw_campaign_notice_ticket(db, e->ticket, e->to, err);
}

pw_err pw_campaign_audit(pw_db *db, const char *actor, const char *action, int64_t id,
			 const cJSON *after, pw_error *err)
{
	char target[40];
	snprintf(target, sizeof target, "campaign:%" PRId64, id);
	char *a = cJSON_PrintUnformatted(after);
	pw_err rc = a ? pw_audit_append(db, actor, action, target, NULL, a, NULL, err)
		      : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	cJSON_free(a);
	return rc;
}

/* ---- loading ------------------------------------------------------------ */

static pw_err load_campaign(pw_db *db, int64_t id, struct campaign_row *c, pw_error *err)
{
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db, "SELECT state, soak_seconds FROM campaigns WHERE id = ?", &st, err,
			   "i", id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (!rc && !row)
		return pw_error_set(err, PW_ERR_NOTFOUND,
				    "there is no campaign %" PRId64 " ('campaign list' shows them)",
				    id);
	c->id = id;
	if (!rc && !pw_campaign_state_parse(pw_stmt_text(st, 0), &c->state))
		rc = pw_error_set(err, PW_ERR_STORE, "campaign %" PRId64 " has an unknown state",
				  id);
	c->soak = rc ? 0 : pw_stmt_int(st, 1);
	pw_stmt_reset(st);
	return rc;
}

static void copy_col(pw_stmt *st, int col, char *out, size_t size)
{
	const char *t = pw_stmt_text(st, col);
	snprintf(out, size, "%s", t ? t : "");
}

#define CHOST_COLS                                                                                 \
	"SELECT id, host_id, ticket_id, patches, hostname, category, app_owner, flow, wave,"       \
	" test_env, state FROM campaign_hosts WHERE campaign_id = ?"

/* The host of campaign c named `ref` ("id:N" or a hostname), or with
 * host id `host_id` when ref is NULL. */
static pw_err load_chost(pw_db *db, int64_t c, const char *ref, int64_t host_id, struct chost *h,
			 pw_error *err)
{
	pw_stmt *st;
	bool row = false;
	int64_t by_id = host_id;
	if (ref && !strncmp(ref, "id:", 3))
		by_id = strtoll(ref + 3, NULL, 10);
	pw_err rc = by_id || !ref
			    ? pw_sql(db, CHOST_COLS " AND host_id = ?", &st, err, "ii", c, by_id)
			    : pw_sql(db, CHOST_COLS " AND lower(hostname) = lower(?)", &st, err,
				     "it", c, ref);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (!rc && !row)
		return pw_error_set(err, PW_ERR_NOTFOUND,
				    "host %.128s is not in campaign %" PRId64
				    " ('campaign show %" PRId64 "' lists its hosts)",
				    ref ? ref : "?", c, c);
	if (rc)
		return rc;
	h->id = pw_stmt_int(st, 0);
	h->host_id = pw_stmt_int(st, 1);
	h->ticket_id = pw_stmt_int(st, 2);
	h->patches = pw_stmt_int(st, 3);
	copy_col(st, 4, h->hostname, sizeof h->hostname);
	copy_col(st, 5, h->category, sizeof h->category);
	copy_col(st, 6, h->app_owner, sizeof h->app_owner);
	h->flow = (int)pw_stmt_int(st, 7);
	h->wave = (int)pw_stmt_int(st, 8);
	h->test_env = pw_stmt_int(st, 9) != 0;
	bool ok = pw_chost_state_parse(pw_stmt_text(st, 10), &h->state);
	pw_stmt_reset(st);
	return ok ? PW_OK : pw_error_set(err, PW_ERR_STORE, "%s has an unknown state", h->hostname);
}

/* ---- what a step needs besides its state -------------------------------- */

static pw_err need_text(const char *v, const char *what, const char *step, pw_error *err)
{
	if (v && pw_text_ok(v, NOTE_MAX))
		return PW_OK;
	return pw_error_set(err, PW_ERR_INVALID, "%s needs %s (1 to %d characters)", step, what,
			    NOTE_MAX);
}

static pw_err need_level(const char *v, const char *what, pw_error *err)
{
	if (v && (!strcmp(v, "low") || !strcmp(v, "medium") || !strcmp(v, "high")))
		return PW_OK;
	return pw_error_set(err, PW_ERR_INVALID,
			    "decline needs a risk assessment: %s is low, medium or high", what);
}

/* "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ" as unix time;
 * false unless it names that very instant (no 31st of February). */
static bool parse_until(const char *v, int64_t *out)
{
	struct tm tm = {0};
	int n = 0;
	size_t len = strlen(v);
	if (len == 10)
		n = sscanf(v, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) == 3;
	else if (len == 20 && v[10] == 'T' && v[19] == 'Z')
		n = sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6;
	if (!n || tm.tm_year < 1970 || tm.tm_year > 9999)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	struct tm check = tm;
	*out = (int64_t)timegm(&tm);
	return tm.tm_mday == check.tm_mday && tm.tm_mon == check.tm_mon &&
	       tm.tm_hour == check.tm_hour && tm.tm_min == check.tm_min &&
	       tm.tm_sec == check.tm_sec;
}

/* s->until in the stored form, after now. */
static pw_err need_until(struct step_ctx *x, const char *what, pw_error *err)
{
	const char *step = pw_campaign_action_name(x->s->action);
	int64_t t;
	if (!x->s->until || !parse_until(x->s->until, &t))
		return pw_error_set(err, PW_ERR_INVALID,
				    "%s needs %s: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)", step,
				    what);
	if (t <= x->s->now)
		return pw_error_set(err, PW_ERR_INVALID, "%s: %s %.32s is not in the future", step,
				    what, x->s->until);
	pw_job_ts(t, x->until);
	return PW_OK;
}

static pw_err check_inputs(struct step_ctx *x, pw_error *err)
{
	const pw_campaign_step *s = x->s;
	const pw_risk_assessment *r = &s->risk;
	const char *step = pw_campaign_action_name(s->action);
	pw_err rc = s->note && !pw_text_ok(s->note, NOTE_MAX) ? need_text(NULL, "a note", step, err)
							      : PW_OK;
	switch (rc ? PW_CA__COUNT : s->action) {
	case PW_CA_CONFIRM_BACKUP:
		return need_text(s->note, "the proof that the backup restores (--note)", step, err);
	case PW_CA_RECORD_UAT:
		return need_text(s->note, "the user acceptance test's result (--note)", step, err);
	case PW_CA_DECLINE:
		rc = need_text(s->note, "a reason (--reason)", step, err);
		rc = rc ? rc : need_level(r->data_value, "the data's value (--data-value)", err);
		rc = rc ? rc
			: need_level(r->threat_frequency,
				     "the threat's frequency (--threat-frequency)", err);
		rc = rc ? rc : need_level(r->impact, "the impact (--impact)", err);
		return rc ? rc
			  : need_text(r->cost_benefit, "a cost/benefit analysis (--cost-benefit)",
				      step, err);
	case PW_CA_SIGN_OFF:
		return need_until(x, "an expiry (--expires)", err);
	case PW_CA_RECORD_COUNTERMEASURE:
		rc = need_text(s->note, "what was done (--note)", step, err);
		return rc ? rc : need_until(x, "a re-check date (--recheck)", err);
	case PW_CA_SKIP:
		return need_text(s->note, "a reason (--reason): why the host is left unpatched",
				 step, err);
	default:
		return rc;
	}
}

/* Flow 2: the owner's UAT comes after the host's test environment hosts
 * in this campaign (same category and application owner) are verified. */
static pw_err test_hosts_verified(pw_db *db, struct step_ctx *x, pw_error *err)
{
	pw_stmt *st;
	int64_t all = 0, done = 0;
	pw_err rc = pw_sql(db,
			   "SELECT count(*), coalesce(sum(CASE WHEN state = 'verified' THEN 1"
			   " ELSE 0 END), 0) FROM campaign_hosts WHERE campaign_id = ?"
			   " AND test_env = 1 AND coalesce(category, '') = ?"
			   " AND coalesce(app_owner, '') = ?",
			   &st, err, "itt", x->c.id, x->h.category, x->h.app_owner);
	bool row = false;
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (!rc && row) {
		all = pw_stmt_int(st, 0);
		done = pw_stmt_int(st, 1);
	}
	pw_stmt_reset(st);
	if (rc || (all && done == all))
		return rc;
	return pw_error_set(err, PW_ERR_CONFLICT,
			    "cannot record-uat %s now: %s: the patch goes to the test environment "
			    "first (environment=test, category %s, app_owner %s)",
			    x->h.hostname,
			    all ? "its test environment hosts are not all verified yet"
				: "campaign has no test environment host for it",
			    x->h.category[0] ? x->h.category : "unset",
			    x->h.app_owner[0] ? x->h.app_owner : "unset");
}

pw_err pw_campaign_wave_waiting(pw_db *db, int64_t campaign, int wave, int64_t soak, int64_t now,
				int64_t *waiting, pw_error *err)
{
	pw_stmt *st;
	char since[PW_TS_LEN];
	pw_job_ts(now - soak, since);
	*waiting = 0;
	pw_err rc = pw_sql(db,
			   "SELECT count(*) FROM campaign_hosts WHERE campaign_id = ? AND wave < ?"
			   " AND (state NOT IN " PW_CHOST_FINAL_SQL " OR finished > ?)",
			   &st, err, "iit", campaign, (int64_t)wave, since);
	return rc ? rc : pw_sql_int(st, waiting, err);
}

/* Wave n is patched after every host of the waves before it reached an
 * outcome and the last of them has soaked for the campaign's soak time. */
static pw_err wave_turn(pw_db *db, struct step_ctx *x, pw_error *err)
{
	if (x->c.state != PW_CS_RUNNING) {
		return pw_error_set(err, PW_ERR_CONFLICT,
				    "cannot patch %s now: campaign %" PRId64 " is %s: an operator "
				    "must run 'campaign %s %" PRId64 "'",
				    x->h.hostname, x->c.id, pw_campaign_state_name(x->c.state),
				    x->c.state == PW_CS_OPEN ? "start" : "resume", x->c.id);
	}
	int64_t waiting = 0;
	pw_err rc = pw_campaign_wave_waiting(db, x->c.id, x->h.wave, x->c.soak, x->s->now, &waiting,
					     err);
	if (rc || !waiting)
		return rc;
	return pw_error_set(err, PW_ERR_CONFLICT,
			    "cannot patch %s now: it is in wave %d, and %" PRId64
			    " host(s) of the earlier waves have not reached an outcome or "
			    "soaked for %" PRId64 " s",
			    x->h.hostname, x->h.wave, waiting, x->c.soak);
}

static pw_err check_gates(pw_db *db, struct step_ctx *x, pw_error *err)
{
	if (x->s->action == PW_CA_RECORD_UAT)
		return test_hosts_verified(db, x, err);
	if (x->s->action == PW_CA_PRE_SCAN_DONE)
		return wave_turn(db, x, err);
	if (x->s->action != PW_CA_ROLLBACK)
		return PW_OK;
	cJSON *pkgs = NULL;
	int64_t patch_job = 0;
	pw_err rc = pw_campaign_rollback_set(db, x->c.id, x->h.host_id, &pkgs, &patch_job, err);
	int n = cJSON_GetArraySize(pkgs);
	cJSON_Delete(pkgs);
	if (rc || n)
		return rc;
	char which[48] = "no patch job of the campaign";
	if (patch_job)
		snprintf(which, sizeof which, "patch job %" PRId64, patch_job);
	return pw_error_set(err, PW_ERR_CONFLICT,
			    "cannot rollback %s now: %s upgraded no package installed before "
			    "it, so there is no older version to go back to: an operator may run "
			    "'campaign skip "
			    "%" PRId64 " --host %s --reason TEXT' or 'campaign resume %" PRId64 "'",
			    x->h.hostname, which, x->c.id, x->h.hostname, x->c.id);
}

/* ---- applying ----------------------------------------------------------- */

static pw_err set_campaign_state(pw_db *db, struct step_ctx *x, pw_campaign_state to, pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(db, "UPDATE campaigns SET state = ?, updated = ? WHERE id = ?", &st, err,
			   "tti", pw_campaign_state_name(to), x->now, x->c.id);
	x->c.state = to;
	return rc ? rc : pw_stmt_exec(st, err);
}

static pw_err risk_record(pw_db *db, struct step_ctx *x, pw_error *err)
{
	const pw_campaign_step *s = x->s;
	pw_stmt *st;
	pw_err rc = PW_OK;
	if (s->action == PW_CA_DECLINE)
		rc = pw_sql(db,
			    "INSERT INTO risk_acceptances (campaign_id, host_id, ticket_id, reason,"
			    " data_value, threat_frequency, impact, cost_benefit, declined_by,"
			    " declined) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    &st, err, "iiittttttt", x->c.id, x->h.host_id, x->h.ticket_id, s->note,
			    s->risk.data_value, s->risk.threat_frequency, s->risk.impact,
			    s->risk.cost_benefit, s->actor, x->now);
	else if (s->action == PW_CA_SIGN_OFF)
		rc = pw_sql(db,
			    "UPDATE risk_acceptances SET signed_by = ?, signed = ?, expires = ?"
			    " WHERE ticket_id = ? AND signed IS NULL",
			    &st, err, "ttti", s->actor, x->now, x->until, x->h.ticket_id);
	else if (s->action == PW_CA_EXPIRE && x->h.state == PW_CH_RISK_ACCEPTED)
		rc = pw_sql(db,
			    "UPDATE risk_acceptances SET expired = ? WHERE ticket_id = ?"
			    " AND signed IS NOT NULL AND expired IS NULL",
			    &st, err, "ti", x->now, x->h.ticket_id);
	else
		return PW_OK;
	return rc ? rc : pw_stmt_exec(st, err);
}

static pw_err update_host(pw_db *db, struct step_ctx *x, pw_error *err)
{
	pw_campaign_action a = x->s->action;
	int64_t patches = x->h.patches + (a == PW_CA_PATCH_DONE);
	const char *recheck = a == PW_CA_RECORD_COUNTERMEASURE ? x->until : NULL;
	bool final = pw_chost_state_final(x->to);
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "UPDATE campaign_hosts SET state = ?, patches = ?, recheck = ?,"
			   " finished = CASE WHEN ? = 1 THEN ? ELSE finished END, updated = ?"
			   " WHERE id = ?",
			   &st, err, "tititti", pw_chost_state_name(x->to), patches, recheck,
			   (int64_t) final, x->now, x->now, x->h.id);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	return rc ? rc : risk_record(db, x, err);
}

/* A failed patch or health check halts the campaign; the last host
 * reaching an outcome ends it. */
static pw_err follow_campaign(pw_db *db, struct step_ctx *x, pw_error *err)
{
	pw_campaign_action a = x->s->action;
	if (a == PW_CA_PATCH_FAILED || a == PW_CA_HEALTH_FAILED || a == PW_CA_ROLLBACK_FAILED) {
		char why[400];
		snprintf(why, sizeof why, "%s on %s", pw_campaign_action_name(a), x->h.hostname);
		pw_err rc = set_campaign_state(db, x, PW_CS_HALTED, err);
		return rc ? rc : pw_campaign_notice_halt(db, x->c.id, why, err);
	}
	if (a == PW_CA_EXPIRE && x->c.state == PW_CS_DONE)
		return set_campaign_state(db, x, PW_CS_RUNNING, err);
	/* The operator dealt with the host that halted it: the others go on. */
	if ((a == PW_CA_SKIP || a == PW_CA_ROLLBACK) && x->c.state == PW_CS_HALTED) {
		pw_err rc = set_campaign_state(db, x, PW_CS_RUNNING, err);
		if (rc)
			return rc;
	}
	if (x->c.state != PW_CS_RUNNING || !pw_chost_state_final(x->to))
		return PW_OK;
	pw_stmt *st;
	int64_t open = 0;
	pw_err rc = pw_sql(db,
			   "SELECT count(*) FROM campaign_hosts WHERE campaign_id = ? AND state NOT"
			   " IN " PW_CHOST_FINAL_SQL,
			   &st, err, "i", x->c.id);
	if (!rc)
		rc = pw_sql_int(st, &open, err);
	return rc || open ? rc : set_campaign_state(db, x, PW_CS_DONE, err);
}

/* The audit event "campaign.<step>" of step s on campaign id. */
static pw_err audit_step(pw_db *db, const pw_campaign_step *s, int64_t id, const cJSON *d,
			 pw_error *err)
{
	char action[64];
	snprintf(action, sizeof action, "campaign.%s", pw_campaign_action_name(s->action));
	return pw_campaign_audit(db, s->actor, action, id, d, err);
}

/* The step's ticket event and audit event. */
static pw_err record(pw_db *db, struct step_ctx *x, const struct chost *h, pw_chost_state to,
		     pw_error *err)
{
	const pw_campaign_step *s = x->s;
	/* A failed step halts the campaign: the operator decides what next. */
	const char *next = s->action == PW_CA_PATCH_FAILED || s->action == PW_CA_HEALTH_FAILED ||
					   s->action == PW_CA_ROLLBACK_FAILED
				   ? "operator"
				   : pw_chost_next_actor(to, h->flow);
	cJSON *d = cJSON_CreateObject();
	bool ok = d && pw_json_add_int(d, "campaign", x->c.id) &&
		  pw_json_add_str(d, "host", h->hostname) &&
		  pw_json_add_int(d, "ticket", h->ticket_id) &&
		  pw_json_add_str(d, "from", pw_chost_state_name(h->state)) &&
		  pw_json_add_str(d, "to", pw_chost_state_name(to)) &&
		  pw_json_add_str(d, "next", next) && pw_json_add_str(d, "note", s->note) &&
		  (!x->until[0] || pw_json_add_str(d, "until", x->until)) &&
		  (!x->job || pw_json_add_int(d, "job", x->job)) &&
		  (s->action != PW_CA_DECLINE ||
		   (pw_json_add_str(d, "data_value", s->risk.data_value) &&
		    pw_json_add_str(d, "threat_frequency", s->risk.threat_frequency) &&
		    pw_json_add_str(d, "impact", s->risk.impact) &&
		    pw_json_add_str(d, "cost_benefit", s->risk.cost_benefit)));
	char *detail = ok ? cJSON_PrintUnformatted(d) : NULL;
	struct ticket_event e = {h->ticket_id, x->now, s->actor, pw_campaign_action_name(s->action),
				 s->note,      detail, h->state, to,
				 next};
	pw_err rc = detail ? pw_campaign_ticket_event(db, &e, err)
			   : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = audit_step(db, s, x->c.id, d, err);
	cJSON_free(detail);
	cJSON_Delete(d);
	return rc;
}

static pw_err host_step(pw_db *db, struct step_ctx *x, pw_error *err)
{
	const pw_campaign_step *s = x->s;
	/* An expiry re-opens a host of a done campaign too (follow_campaign). */
	pw_err rc = s->action == PW_CA_EXPIRE ? PW_OK
					      : pw_campaign_check_live(x->c.state, x->c.id, err);
	if (!rc)
		rc = load_chost(db, x->c.id, s->host, x->h.host_id, &x->h, err);
	pw_chost_facts f = {x->h.flow, x->h.test_env, x->h.patches, x->c.state == PW_CS_HALTED};
	if (!rc)
		rc = pw_campaign_check(&f, x->h.state, s->action, s->role, x->h.hostname, x->c.id,
				       &x->to, err);
	if (!rc)
		rc = check_inputs(x, err);
	if (!rc)
		rc = check_gates(db, x, err);
	if (!rc)
		rc = update_host(db, x, err);
	if (!rc)
		rc = record(db, x, &x->h, x->to, err);
	return rc ? rc : follow_campaign(db, x, err);
}

/* Cancelling a campaign cancels its hosts that have no outcome yet, each
 * on its ticket. */
static pw_err cancel_hosts(pw_db *db, struct step_ctx *x, pw_error *err)
{
	pw_stmt *st;
	pw_err rc =
		pw_sql(db,
		       "SELECT host_id FROM campaign_hosts WHERE campaign_id = ? AND state NOT IN"
		       " " PW_CHOST_FINAL_SQL " ORDER BY id",
		       &st, err, "i", x->c.id);
	int64_t ids[64];
	size_t n = 0;
	bool row = true;
	while (!rc && row && n < 64) {
		rc = pw_stmt_step(st, &row, err);
		if (!rc && row)
			ids[n++] = pw_stmt_int(st, 0);
	}
	pw_stmt_reset(st);
	for (size_t i = 0; !rc && i < n; i++) {
		struct chost h;
		rc = load_chost(db, x->c.id, NULL, ids[i], &h, err);
		x->h = h;
		x->to = PW_CH_CANCELLED;
		if (!rc)
			rc = update_host(db, x, err);
		if (!rc)
			rc = record(db, x, &h, PW_CH_CANCELLED, err);
	}
	/* Batches of 64 keep the list on the stack; the next batch follows. */
	return rc || n < 64 ? rc : cancel_hosts(db, x, err);
}

static pw_err campaign_step(pw_db *db, struct step_ctx *x, pw_error *err)
{
	const pw_campaign_step *s = x->s;
	pw_campaign_state from = x->c.state;
	pw_err rc = pw_campaign_check_campaign(from, s->action, s->role, x->c.id, &x->cto, err);
	if (!rc)
		rc = set_campaign_state(db, x, x->cto, err);
	if (!rc && s->action == PW_CA_CANCEL)
		rc = cancel_hosts(db, x, err);
	cJSON *d = cJSON_CreateObject();
	bool ok = d && pw_json_add_int(d, "campaign", x->c.id) &&
		  pw_json_add_str(d, "from", pw_campaign_state_name(from)) &&
		  pw_json_add_str(d, "to", pw_campaign_state_name(x->cto)) &&
		  pw_json_add_str(d, "note", s->note);
	if (!rc)
		rc = ok ? audit_step(db, s, x->c.id, d, err)
			: pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	cJSON_Delete(d);
	return rc;
}

static pw_err step_txn(pw_db *db, void *arg, pw_error *err)
{
	struct step_ctx *x = arg;
	pw_err rc = pw_audit_serialize(db, err);
	if (!rc)
		rc = load_campaign(db, x->s->campaign, &x->c, err);
	if (rc)
		return rc;
	bool on_host = x->s->action < PW_CA__HOST_STEPS || x->s->action >= PW_CA__STEPS;
	return on_host ? host_step(db, x, err) : campaign_step(db, x, err);
}

static pw_err run_step(pw_db *db, const pw_campaign_step *s, int64_t host_id, int64_t job,
		       pw_error *err)
{
	if ((unsigned)s->action >= PW_CA__COUNT)
		return pw_error_set(err, PW_ERR_INVALID, "unknown campaign step");
	bool on_host = s->action < PW_CA__HOST_STEPS || s->action >= PW_CA__STEPS;
	if (on_host && !s->host && !host_id)
		return pw_error_set(err, PW_ERR_INVALID, "%s acts on one host: give --host HOST",
				    pw_campaign_action_name(s->action));
	struct step_ctx *x = calloc(1, sizeof *x);
	if (!x)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	x->s = s;
	x->job = job;
	x->h.host_id = host_id;
	pw_job_ts(s->now, x->now);
	/* The driver takes a job's outcome in the transaction that marks the
	 * job handled: a caller's open one is joined. */
	pw_err rc = pw_db_in_transaction(db) ? step_txn(db, x, err)
					     : pw_in_write_txn(db, step_txn, x, err);
	free(x);
	return rc;
}

pw_err pw_campaign_step_apply(pw_db *db, const pw_campaign_step *s, pw_error *err)
{
	return run_step(db, s, 0, 0, err);
}

pw_err pw_campaign_job_outcome(pw_db *db, const char *actor, int64_t campaign, int64_t host_id,
			       pw_campaign_action outcome, int64_t job_id, int64_t now,
			       pw_error *err)
{
	if (outcome < PW_CA_BACKUP_CHECK_PASSED || outcome == PW_CA_EXPIRE)
		return pw_error_set(err, PW_ERR_INVALID, "%s is not a job outcome",
				    pw_campaign_action_name(outcome));
	char note[64] = "";
	if (job_id)
		snprintf(note, sizeof note, "job %" PRId64, job_id);
	pw_campaign_step s = {actor,
			      PW_ACTOR_SYSTEM,
			      campaign,
			      outcome,
			      NULL,
			      job_id ? note : NULL,
			      {NULL, NULL, NULL, NULL},
			      NULL,
			      now};
	return run_step(db, &s, host_id, job_id, err);
}

/* ---- expiry ------------------------------------------------------------- */

/* Up to 64 (campaign, host) pairs due for "expire" at `now`. */
static pw_err due(pw_db *db, const char *now, int64_t (*v)[2], size_t *n, pw_error *err)
{
	pw_stmt *st;
	pw_err rc =
		pw_sql(db,
		       "SELECT h.campaign_id, h.host_id FROM campaign_hosts h"
		       " JOIN risk_acceptances r ON r.ticket_id = h.ticket_id"
		       " JOIN campaigns c ON c.id = h.campaign_id"
		       " WHERE h.state = 'risk_accepted' AND r.expired IS NULL"
		       " AND r.expires IS NOT NULL AND r.expires <= ? AND c.state <> 'cancelled'"
		       " UNION SELECT h.campaign_id, h.host_id FROM campaign_hosts h"
		       " JOIN campaigns c ON c.id = h.campaign_id WHERE h.state = 'countermeasure'"
		       " AND h.recheck <= ? AND c.state <> 'cancelled' ORDER BY 1, 2 LIMIT 64",
		       &st, err, "tt", now, now);
	*n = 0;
	for (bool row = true; !rc && row;) {
		rc = pw_stmt_step(st, &row, err);
		if (!rc && row) {
			v[*n][0] = pw_stmt_int(st, 0);
			v[(*n)++][1] = pw_stmt_int(st, 1);
		}
	}
	return rc;
}

pw_err pw_campaign_expire(pw_db *db, const char *actor, int64_t now, size_t *reopened,
			  pw_error *err)
{
	char ts[PW_TS_LEN];
	pw_job_ts(now, ts);
	size_t total = 0, n = 0;
	int64_t v[64][2];
	pw_err rc = due(db, ts, v, &n, err);
	for (size_t i = 0; !rc && i < n; i++) {
		pw_campaign_step s = {actor, PW_ACTOR_SYSTEM,          v[i][0], PW_CA_EXPIRE, NULL,
				      NULL,  {NULL, NULL, NULL, NULL}, NULL,    now};
		rc = run_step(db, &s, v[i][1], 0, err);
		total += !rc;
		/* Another server node re-opened it between the query and the step. */
		if (rc == PW_ERR_CONFLICT)
			rc = PW_OK;
	}
	if (reopened)
		*reopened = total;
	/* A full batch may have more behind it. */
	if (!rc && n == 64) {
		size_t more = 0;
		rc = pw_campaign_expire(db, actor, now, &more, err);
		if (reopened)
			*reopened += more;
	}
	return rc;
}
