/* THE state machine of a campaign's hosts and of the campaign itself:
 * one table each. Everything else (the store, the API, the CLI, the
 * documentation) asks these tables what is allowed. */
#include "patchwarden/campaign.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "campaign-internal.h"

static const char *const host_states[PW_CH__COUNT] = {
	"awaiting_backup", "awaiting_approval", "declined",     "risk_accepted", "awaiting_uat",
	"scheduled",       "patching",          "post_scan",    "escalated",     "countermeasure",
	"verified",        "cancelled",         "rolling_back", "rolled_back",   "skipped",
};

static const char *const actions[PW_CA__COUNT] = {
	"confirm-backup",
	"approve",
	"decline",
	"sign-off",
	"record-uat",
	"record-countermeasure",
	"skip",
	"rollback",
	"start",
	"pause",
	"resume",
	"cancel",
	"backup-check-passed",
	"pre-scan-done",
	"patch-done",
	"patch-failed",
	"post-scan-clean",
	"post-scan-vulnerable",
	"health-failed",
	"rollback-done",
	"rollback-failed",
	"expire",
};

static const char *const campaign_states[PW_CS__COUNT] = {
	"open", "running", "paused", "halted", "cancelled", "done",
};

static bool parse_name(const char *const *names, int n, const char *name, int *out)
{
	for (int i = 0; name && i < n; i++)
		if (!strcmp(names[i], name)) {
			*out = i;
			return true;
		}
	return false;
}

const char *pw_chost_state_name(pw_chost_state s)
{
	return (unsigned)s < PW_CH__COUNT ? host_states[s] : "?";
}

bool pw_chost_state_parse(const char *name, pw_chost_state *out)
{
	int i;
	if (!parse_name(host_states, PW_CH__COUNT, name, &i))
		return false;
	*out = (pw_chost_state)i;
	return true;
}

const char *pw_campaign_action_name(pw_campaign_action a)
{
	return (unsigned)a < PW_CA__COUNT ? actions[a] : "?";
}

bool pw_campaign_action_parse(const char *name, pw_campaign_action *out)
{
	int i;
	if (!parse_name(actions, PW_CA__COUNT, name, &i))
		return false;
	*out = (pw_campaign_action)i;
	return true;
}

const char *pw_campaign_state_name(pw_campaign_state s)
{
	return (unsigned)s < PW_CS__COUNT ? campaign_states[s] : "?";
}

bool pw_campaign_state_parse(const char *name, pw_campaign_state *out)
{
	int i;
	if (!parse_name(campaign_states, PW_CS__COUNT, name, &i))
		return false;
	*out = (pw_campaign_state)i;
	return true;
}

int pw_campaign_flow_of(const char *category)
{
	static const char *const flow1[] = {"core", "security", "file-print", "mail"};
	static const char *const flow2[] = {"application", "database", "web"};
	int i;
	if (parse_name(flow1, 4, category, &i))
		return 1;
	return parse_name(flow2, 3, category, &i) ? 2 : 0;
}

/* ---- the host machine -------------------------------------------------- */

enum guard {
	G_NONE = 0,
	G_PRODUCTION,  /* not a test environment host */
	G_TEST_ENV,    /* environment=test */
	G_UNDER_LIMIT, /* fewer than PW_CAMPAIGN_MAX_PATCHES patches so far */
	G_AT_LIMIT,    /* PW_CAMPAIGN_MAX_PATCHES patches done */
	G_HALTED,      /* the campaign is halted */
};

#define F1 (1u << 1)
#define F2 (1u << 2)
#define BOTH (F1 | F2)
#define R(r) (1u << (r))
#define OPS (R(PW_ROLE_ADMIN) | R(PW_ROLE_OPERATOR)) /* also the backup role: campaign.h */
#define OWNER R(PW_ROLE_APP_OWNER)
#define MANAGER R(PW_ROLE_MANAGER)
#define SYS R(PW_ACTOR_SYSTEM)

/* Approvals, sign-offs and UATs are business decisions of the named
 * person: admin (who runs the server) does not take them. */
static const pw_campaign_rule rules[] = {
	/* before: the backup gate */
	{F1, PW_CH_AWAITING_BACKUP, PW_CA_CONFIRM_BACKUP, OPS, PW_CH_SCHEDULED, G_NONE},
	{F2, PW_CH_AWAITING_BACKUP, PW_CA_CONFIRM_BACKUP, OPS, PW_CH_AWAITING_APPROVAL, G_NONE},
	{F1, PW_CH_AWAITING_BACKUP, PW_CA_BACKUP_CHECK_PASSED, SYS, PW_CH_SCHEDULED, G_NONE},
	{F2, PW_CH_AWAITING_BACKUP, PW_CA_BACKUP_CHECK_PASSED, SYS, PW_CH_AWAITING_APPROVAL,
	 G_NONE},
	/* Flow 2: the application owner */
	{F2, PW_CH_AWAITING_APPROVAL, PW_CA_APPROVE, OWNER, PW_CH_AWAITING_UAT, G_PRODUCTION},
	{F2, PW_CH_AWAITING_APPROVAL, PW_CA_APPROVE, OWNER, PW_CH_SCHEDULED, G_TEST_ENV},
	{F2, PW_CH_AWAITING_APPROVAL, PW_CA_DECLINE, OWNER, PW_CH_DECLINED, G_NONE},
	{F2, PW_CH_DECLINED, PW_CA_SIGN_OFF, MANAGER, PW_CH_RISK_ACCEPTED, G_NONE},
	{F2, PW_CH_AWAITING_UAT, PW_CA_RECORD_UAT, OWNER, PW_CH_SCHEDULED, G_NONE},
	{F2, PW_CH_RISK_ACCEPTED, PW_CA_EXPIRE, SYS, PW_CH_AWAITING_APPROVAL, G_NONE},
	/* during: the patch driver's jobs */
	{BOTH, PW_CH_SCHEDULED, PW_CA_PRE_SCAN_DONE, SYS, PW_CH_PATCHING, G_NONE},
	{BOTH, PW_CH_PATCHING, PW_CA_PATCH_DONE, SYS, PW_CH_POST_SCAN, G_NONE},
	{BOTH, PW_CH_PATCHING, PW_CA_PATCH_FAILED, SYS, PW_CH_PATCHING, G_NONE},
	{BOTH, PW_CH_POST_SCAN, PW_CA_HEALTH_FAILED, SYS, PW_CH_POST_SCAN, G_NONE},
	{BOTH, PW_CH_POST_SCAN, PW_CA_POST_SCAN_CLEAN, SYS, PW_CH_VERIFIED, G_NONE},
	{BOTH, PW_CH_POST_SCAN, PW_CA_POST_SCAN_VULNERABLE, SYS, PW_CH_PATCHING, G_UNDER_LIMIT},
	{BOTH, PW_CH_POST_SCAN, PW_CA_POST_SCAN_VULNERABLE, SYS, PW_CH_ESCALATED, G_AT_LIMIT},
	/* the other outcome: countermeasures, and their re-check */
	{BOTH, PW_CH_AWAITING_BACKUP, PW_CA_RECORD_COUNTERMEASURE, OPS, PW_CH_COUNTERMEASURE,
	 G_NONE},
	{F2, PW_CH_AWAITING_APPROVAL, PW_CA_RECORD_COUNTERMEASURE, OPS, PW_CH_COUNTERMEASURE,
	 G_NONE},
	{F2, PW_CH_AWAITING_UAT, PW_CA_RECORD_COUNTERMEASURE, OPS, PW_CH_COUNTERMEASURE, G_NONE},
	{BOTH, PW_CH_SCHEDULED, PW_CA_RECORD_COUNTERMEASURE, OPS, PW_CH_COUNTERMEASURE, G_NONE},
	{BOTH, PW_CH_ESCALATED, PW_CA_RECORD_COUNTERMEASURE, OPS, PW_CH_COUNTERMEASURE, G_NONE},
	{BOTH, PW_CH_COUNTERMEASURE, PW_CA_EXPIRE, SYS, PW_CH_AWAITING_BACKUP, G_NONE},
	/* a halted host (seed 000): resume (the campaign step) does the failed
	 * step again; skip and rollback take the host out, the campaign runs on */
	{BOTH, PW_CH_PATCHING, PW_CA_SKIP, OPS, PW_CH_SKIPPED, G_HALTED},
	{BOTH, PW_CH_POST_SCAN, PW_CA_SKIP, OPS, PW_CH_SKIPPED, G_HALTED},
	{BOTH, PW_CH_ROLLING_BACK, PW_CA_SKIP, OPS, PW_CH_SKIPPED, G_HALTED},
	{BOTH, PW_CH_PATCHING, PW_CA_ROLLBACK, OPS, PW_CH_ROLLING_BACK, G_HALTED},
	{BOTH, PW_CH_POST_SCAN, PW_CA_ROLLBACK, OPS, PW_CH_ROLLING_BACK, G_HALTED},
	{BOTH, PW_CH_ROLLING_BACK, PW_CA_ROLLBACK_DONE, SYS, PW_CH_ROLLED_BACK, G_NONE},
	{BOTH, PW_CH_ROLLING_BACK, PW_CA_ROLLBACK_FAILED, SYS, PW_CH_ROLLING_BACK, G_NONE},
};

const pw_campaign_rule *pw_campaign_rules(size_t *n)
{
	*n = sizeof rules / sizeof rules[0];
	return rules;
}

static bool guard_holds(int g, const pw_chost_facts *f)
{
	switch (g) {
	case G_PRODUCTION:
		return !f->test_env;
	case G_TEST_ENV:
		return f->test_env;
	case G_UNDER_LIMIT:
		return f->patches < PW_CAMPAIGN_MAX_PATCHES;
	case G_AT_LIMIT:
		return f->patches >= PW_CAMPAIGN_MAX_PATCHES;
	case G_HALTED:
		return f->halted;
	default:
		return true;
	}
}

/* What is missing in each state and who must act, for refusals. {h} is
 * the host, {c} the campaign id. */
static const char *const missing[PW_CH__COUNT] = {
	("{h} has no verified backup: the backup role (operator) must run 'campaign "
	 "confirm-backup {c} --host {h}' or its backup check must pass"),
	("{h} waits for its application owner: the app-owner must run 'campaign approve {c} "
	 "--host {h}' or 'campaign decline {c} --host {h}' with a risk assessment"),
	("{h} was declined and waits for a manager's sign-off: a manager must run 'campaign "
	 "sign-off {c} --host {h} --expires DATE'"),
	"{h} has a signed risk acceptance: nothing is done until it expires",
	("{h} has no user acceptance test recorded: its test environment hosts must be verified, "
	 "then the app-owner must run 'campaign record-uat {c} --host {h}'"),
	("{h} is scheduled: the patch driver runs its pre-scan and patch in its window once an "
	 "operator has run 'campaign start {c}' and the earlier waves have soaked"),
	"{h} is being patched: the patch driver records the patch job's result",
	"{h} waits for its post-scan and health check: the patch driver records them",
	("{h} is still vulnerable after its last patch: the patch group (operator) must run "
	 "'campaign record-countermeasure {c} --host {h}' or cancel the campaign"),
	"{h} has countermeasures recorded: nothing is done until their re-check date",
	"{h} is patched and verified: its ticket is closed",
	"{h} was cancelled with campaign {c}",
	"{h} is being rolled back: the patch driver records the rollback job's result",
	("{h} was rolled back after its campaign halted: its findings stay open for another "
	 "campaign"),
	"{h} was skipped after its campaign halted: its findings stay open for another campaign",
};

const char *pw_campaign_missing(pw_chost_state s)
{
	return missing[s % PW_CH__COUNT];
}

/* Expands {h} and {c} of `tmpl` into out. */
void pw_campaign_expand(char *out, size_t size, const char *tmpl, const char *host, int64_t id)
{
	size_t len = 0;
	out[0] = '\0';
	for (const char *p = tmpl; *p && len + 1 < size; p++) {
		char num[24];
		const char *put = NULL;
		if (p[0] == '{' && (p[1] == 'h' || p[1] == 'c') && p[2] == '}') {
			snprintf(num, sizeof num, "%" PRId64, id);
			put = p[1] == 'h' ? host : num;
			p += 2;
		}
		int n = put ? snprintf(out + len, size - len, "%s", put)
			    : snprintf(out + len, size - len, "%c", *p);
		len += n > 0 ? (size_t)n : 0;
		if (len >= size)
			len = size - 1;
	}
}

/* "operator or admin": the roles in `bits`. */
void pw_campaign_roles_text(unsigned bits, char *out, size_t size)
{
	size_t len = 0;
	out[0] = '\0';
	for (int r = 0; r < PW_ROLE__COUNT; r++) {
		if (!(bits & R(r)))
			continue;
		int n = snprintf(out + len, size - len, "%s%s", len ? " or " : "",
				 pw_role_name((pw_role)r));
		if (n < 0 || (size_t)n >= size - len)
			return;
		len += (size_t)n;
	}
}

static pw_err refuse_role(const char *what, unsigned roles, pw_role role, pw_error *err)
{
	if (roles == SYS)
		return pw_error_set(err, PW_ERR_AUTH,
				    "%s is recorded by the patch driver or the scheduler, not by a "
				    "user",
				    what);
	if (role == PW_ACTOR_SYSTEM)
		return pw_error_set(err, PW_ERR_AUTH, "%s is a person's step, not the driver's",
				    what);
	char who[96];
	pw_campaign_roles_text(roles, who, sizeof who);
	return pw_error_set(err, PW_ERR_AUTH, "%s is the %s's step; you are %s", what, who,
			    pw_role_name(role));
}

pw_err pw_campaign_check(const pw_chost_facts *f, pw_chost_state state, pw_campaign_action action,
			 pw_role role, const char *host, int64_t id, pw_chost_state *to,
			 pw_error *err)
{
	const char *what = pw_campaign_action_name(action);
	unsigned flow = f->flow == 1 ? F1 : f->flow == 2 ? F2 : 0, roles = 0;
	const pw_campaign_rule *hit = NULL;
	bool not_halted = false;
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		const pw_campaign_rule *r = &rules[i];
		if (!(r->flows & flow) || r->action != action)
			continue;
		roles |= r->roles;
		if (!hit && r->from == state && guard_holds(r->guard, f))
			hit = r;
		not_halted = not_halted || (r->from == state && r->guard == G_HALTED);
	}
	if (!roles)
		return pw_error_set(err, PW_ERR_CONFLICT,
				    "%s is not a step of Flow %d, which %s follows", what, f->flow,
				    host);
	if (!(roles & R(role)))
		return refuse_role(what, roles, role, err);
	if (!hit && not_halted)
		return pw_error_set(err, PW_ERR_CONFLICT,
				    "cannot %s %s now: campaign %" PRId64
				    " is not halted: a host is "
				    "skipped or rolled back when a failed patch, health check or "
				    "rollback halted its campaign; an operator may 'campaign pause "
				    "%" PRId64 "' to stop it",
				    what, host, id, id);
	if (!hit) {
		char msg[PW_ERROR_MSG_MAX];
		pw_campaign_expand(msg, sizeof msg, missing[state % PW_CH__COUNT], host, id);
		return pw_error_set(err, PW_ERR_CONFLICT, "cannot %s %s now: %s", what, host, msg);
	}
	*to = hit->to;
	return PW_OK;
}

const char *pw_chost_next_actor(pw_chost_state s, int flow)
{
	(void)flow;
	switch (s) {
	case PW_CH_AWAITING_BACKUP:
	case PW_CH_ESCALATED:
		return "operator";
	case PW_CH_AWAITING_APPROVAL:
	case PW_CH_AWAITING_UAT:
		return "app-owner";
	case PW_CH_DECLINED:
		return "manager";
	case PW_CH_SCHEDULED:
	case PW_CH_PATCHING:
	case PW_CH_POST_SCAN:
	case PW_CH_ROLLING_BACK:
		return "patch driver";
	default:
		return "nobody";
	}
}

bool pw_chost_state_final(pw_chost_state s)
{
	return s == PW_CH_RISK_ACCEPTED || s == PW_CH_COUNTERMEASURE || s == PW_CH_VERIFIED ||
	       s == PW_CH_CANCELLED || s == PW_CH_ROLLED_BACK || s == PW_CH_SKIPPED;
}

/* ---- the campaign machine ---------------------------------------------- */

struct campaign_rule {
	unsigned from; /* bits (1 << pw_campaign_state) */
	pw_campaign_action action;
	pw_campaign_state to;
};

#define S(s) (1u << (s))
static const struct campaign_rule campaign_rules[] = {
	{S(PW_CS_OPEN), PW_CA_START, PW_CS_RUNNING},
	{S(PW_CS_RUNNING), PW_CA_PAUSE, PW_CS_PAUSED},
	{S(PW_CS_PAUSED) | S(PW_CS_HALTED), PW_CA_RESUME, PW_CS_RUNNING},
	{S(PW_CS_OPEN) | S(PW_CS_RUNNING) | S(PW_CS_PAUSED) | S(PW_CS_HALTED), PW_CA_CANCEL,
	 PW_CS_CANCELLED},
};

static const char *const campaign_missing[PW_CS__COUNT] = {
	"campaign {c} has not started: an operator must run 'campaign start {c}'",
	"campaign {c} is running: an operator may run 'campaign pause {c}'",
	"campaign {c} is paused: an operator must run 'campaign resume {c}'",
	("campaign {c} is halted by a failed patch, health check or rollback: an operator must "
	 "look at its tickets and run 'campaign resume {c}' (the step is done again), 'campaign "
	 "skip {c} --host HOST --reason TEXT', 'campaign rollback {c} --host HOST' or 'campaign "
	 "cancel {c}'"),
	"campaign {c} is cancelled",
	"campaign {c} is done: every host reached an outcome",
};

const char *pw_campaign_missing_campaign(pw_campaign_state s)
{
	return campaign_missing[s % PW_CS__COUNT];
}

pw_err pw_campaign_check_campaign(pw_campaign_state state, pw_campaign_action action, pw_role role,
				  int64_t id, pw_campaign_state *to, pw_error *err)
{
	const char *what = pw_campaign_action_name(action);
	if (action < PW_CA__HOST_STEPS || action >= PW_CA__STEPS)
		return pw_error_set(err, PW_ERR_INVALID, "%s acts on a host, not on a campaign",
				    what);
	if (!(OPS & R(role)))
		return refuse_role(what, OPS, role, err);
	for (size_t i = 0; i < sizeof campaign_rules / sizeof campaign_rules[0]; i++)
		if (campaign_rules[i].action == action && (campaign_rules[i].from & S(state))) {
			*to = campaign_rules[i].to;
			return PW_OK;
		}
	char msg[PW_ERROR_MSG_MAX];
	pw_campaign_expand(msg, sizeof msg, campaign_missing[state % PW_CS__COUNT], "", id);
	return pw_error_set(err, PW_ERR_CONFLICT, "cannot %s campaign %" PRId64 ": %s", what, id,
			    msg);
}

/* The refusal for any step on a host of a campaign in `state`, when it
 * takes none (cancelled, done); PW_OK otherwise. */
pw_err pw_campaign_check_live(pw_campaign_state state, int64_t id, pw_error *err)
{
	if (state != PW_CS_CANCELLED && state != PW_CS_DONE)
		return PW_OK;
	char msg[PW_ERROR_MSG_MAX];
	pw_campaign_expand(msg, sizeof msg, campaign_missing[state], "", id);
	return pw_error_set(err, PW_ERR_CONFLICT, "%s: its hosts take no more steps", msg);
}
