/* Patch campaigns (issue 13, the case study's two flowcharts): one
 * patching job over many hosts, in which every host walks one explicit
 * state machine and cannot skip a step. The machine is the table in
 * campaign/machine.c: each row is (flows, state, action, the roles that
 * may take it, the next state). Every transition appends a ticket event
 * (ticket.h) and an audit event in one transaction.
 *
 * Flow 1 (core, security, file-print, mail): backup verified → ticket
 * open, help desk notified → scheduled → pre-scan → patch → post-scan
 * (still vulnerable: patch again, at most PW_CAMPAIGN_MAX_PATCHES times,
 * then escalated to the patch group) → verified, ticket closed.
 * Flow 2 (application, database, web): after the backup the application
 * owner approves or declines. A decline (reason + risk assessment) waits
 * for a manager's sign-off and becomes a risk acceptance with an expiry,
 * at which the host re-opens and the owner is asked again. An approved
 * production host waits for its test environment hosts to be verified
 * and the owner's user acceptance test before it is scheduled.
 *
 * The backup role: users.h has none. The case study's backup
 * administrator belongs to the network admin team, the patch operators,
 * so the backup step is the operator's (and admin's). */
#ifndef PATCHWARDEN_CAMPAIGN_H
#define PATCHWARDEN_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/users.h"

struct cJSON;

/* A host's state in its campaign. Append only: the names are stored. */
typedef enum pw_chost_state {
	PW_CH_AWAITING_BACKUP = 0, /* no backup proof yet */
	PW_CH_AWAITING_APPROVAL,   /* Flow 2: the application owner decides */
	PW_CH_DECLINED,            /* Flow 2: declined, a manager's sign-off is missing */
	PW_CH_RISK_ACCEPTED,       /* Flow 2: signed off; until the acceptance expires */
	PW_CH_AWAITING_UAT,        /* Flow 2: approved; test hosts first, then the owner's UAT */
	PW_CH_SCHEDULED,           /* gates passed: the driver's pre-scan in the host's window */
	PW_CH_PATCHING,            /* pre-scan done: the patch job */
	PW_CH_POST_SCAN,           /* patched: the post-scan and the health check */
	PW_CH_ESCALATED,           /* still vulnerable after the last patch: the patch group */
	PW_CH_COUNTERMEASURE,      /* countermeasures recorded, until their re-check */
	PW_CH_VERIFIED,            /* patched and verified: the ticket is closed */
	PW_CH_CANCELLED,           /* the campaign was cancelled */
	PW_CH_ROLLING_BACK,        /* halted, an operator chose rollback: the rollback job */
	PW_CH_ROLLED_BACK,         /* rolled back: the findings stay open for another campaign */
	PW_CH_SKIPPED,             /* halted, an operator skipped it (with a reason): the same */
	PW_CH__COUNT
} pw_chost_state;

/* What happens to a host or a campaign: people's steps (the commands of
 * `patchwarden campaign`), the patch driver's job outcomes and the
 * scheduler's expiry. Append only: the names are stored. */
typedef enum pw_campaign_action {
	PW_CA_CONFIRM_BACKUP = 0,
	PW_CA_APPROVE,
	PW_CA_DECLINE,
	PW_CA_SIGN_OFF,
	PW_CA_RECORD_UAT,
	PW_CA_RECORD_COUNTERMEASURE,
	PW_CA_SKIP,     /* a halted host: out of the campaign, the campaign runs on */
	PW_CA_ROLLBACK, /* a halted host: its patch undone by a rollback job, then out */
	PW_CA_START,    /* campaign steps: no --host */
	PW_CA_PAUSE,
	PW_CA_RESUME,
	PW_CA_CANCEL,
	PW_CA_BACKUP_CHECK_PASSED, /* the driver's job outcomes (pw_campaign_job_outcome) */
	PW_CA_PRE_SCAN_DONE,
	PW_CA_PATCH_DONE,
	PW_CA_PATCH_FAILED,
	PW_CA_POST_SCAN_CLEAN,
	PW_CA_POST_SCAN_VULNERABLE,
	PW_CA_HEALTH_FAILED,
	PW_CA_ROLLBACK_DONE,
	PW_CA_ROLLBACK_FAILED,
	PW_CA_EXPIRE, /* the scheduler: a risk acceptance or a re-check date passed */
	PW_CA__COUNT
} pw_campaign_action;

#define PW_CA__STEPS (PW_CA_CANCEL + 1) /* the people's steps come first */
#define PW_CA__HOST_STEPS PW_CA_START   /* of which these act on one host */

/* A campaign's own state. */
typedef enum pw_campaign_state {
	PW_CS_OPEN = 0, /* created: hosts pass their gates; nothing is patched */
	PW_CS_RUNNING,  /* the driver patches scheduled hosts wave by wave */
	PW_CS_PAUSED,   /* an operator paused it */
	PW_CS_HALTED,   /* a failed patch, health check or rollback stopped it */
	PW_CS_CANCELLED,
	PW_CS_DONE, /* every host reached an outcome */
	PW_CS__COUNT
} pw_campaign_state;

/* A patch that leaves the host vulnerable is retried up to this many
 * patches in all, then the host is escalated to the patch group. */
#define PW_CAMPAIGN_MAX_PATCHES 3
/* Default soak time between waves (seed 000: a few days apart). */
#define PW_CAMPAIGN_SOAK_DEFAULT (2 * 86400)

const char *pw_chost_state_name(pw_chost_state s);
bool pw_chost_state_parse(const char *name, pw_chost_state *out);
/* "confirm-backup", ..., "cancel", "backup-check-passed", ..., "expire". */
const char *pw_campaign_action_name(pw_campaign_action a);
bool pw_campaign_action_parse(const char *name, pw_campaign_action *out);
const char *pw_campaign_state_name(pw_campaign_state s);
bool pw_campaign_state_parse(const char *name, pw_campaign_state *out);

/* Flow 1 or 2 for a host category (hosts.h names); 0 for an unknown or
 * unset category, which auto cannot place. */
int pw_campaign_flow_of(const char *category);

/* Who takes a step: a user's role, or the patch driver and the
 * scheduler (PW_ACTOR_SYSTEM) for job outcomes and expiry. */
#define PW_ACTOR_SYSTEM ((pw_role)PW_ROLE__COUNT)

/* One row of the machine. */
typedef struct pw_campaign_rule {
	unsigned flows; /* bit 1: Flow 1, bit 2: Flow 2 */
	pw_chost_state from;
	pw_campaign_action action;
	unsigned roles; /* bits (1 << pw_role); bit PW_ACTOR_SYSTEM for the system */
	pw_chost_state to;
	int guard; /* campaign/machine.c: the condition the row needs besides its state */
} pw_campaign_rule;

/* The table, for documentation and tests that read it. */
const pw_campaign_rule *pw_campaign_rules(size_t *n);

/* What a host's state machine needs to know besides its state. */
typedef struct pw_chost_facts {
	int flow;        /* 1 or 2 */
	bool test_env;   /* environment=test */
	int64_t patches; /* patches applied so far in this campaign */
	bool halted;     /* the campaign is halted (by a failed patch, health check, rollback) */
} pw_chost_facts;

/* Whether `role` may take `action` on a host in `state`: PW_OK and *to
 * the next state; PW_ERR_CONFLICT when the state does not allow it (the
 * message says what is missing and who must do it, naming `host` and
 * campaign `id` in the command to run); PW_ERR_AUTH when the state
 * allows it but not to this role (naming the roles that may). Pure: no
 * database. */
pw_err pw_campaign_check(const pw_chost_facts *f, pw_chost_state state, pw_campaign_action action,
			 pw_role role, const char *host, int64_t id, pw_chost_state *to,
			 pw_error *err);

/* The same for the campaign steps (start, pause, resume, cancel). */
pw_err pw_campaign_check_campaign(pw_campaign_state state, pw_campaign_action action, pw_role role,
				  int64_t id, pw_campaign_state *to, pw_error *err);

/* Who acts next on a host in `state`: "operator", "app-owner",
 * "manager", "patch driver", or "nobody" for an outcome. */
const char *pw_chost_next_actor(pw_chost_state s, int flow);

/* Whether `s` is an outcome (verified, risk accepted, countermeasure,
 * cancelled, rolled back, skipped): the host needs nothing more until an
 * expiry or another campaign. */
bool pw_chost_state_final(pw_chost_state s);

#endif
