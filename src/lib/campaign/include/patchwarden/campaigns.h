/* Campaigns in the store (schema migration 15): creating one from a
 * host filter and a selection of findings, the steps of its hosts and of
 * itself (campaign.h says which are allowed), the patch driver's job
 * outcomes, the scheduler's expiry, and reading campaigns and tickets.
 *
 * Every change runs in one write transaction that appends the ticket
 * event(s) and an audit event "campaign.<step>" (target "campaign:N");
 * the audit head is locked first, so server nodes sharing PostgreSQL
 * take one step at a time and never the same step twice.
 *
 * Times: `now` is unix seconds, pw_window_now() (window.h) for callers,
 * so tests can move the clock (PATCHWARDEN_TEST_NOW). */
#ifndef PATCHWARDEN_CAMPAIGNS_H
#define PATCHWARDEN_CAMPAIGNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/campaign.h"
#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/policy.h"
#include "patchwarden/users.h"

struct cJSON;

typedef struct pw_campaign_spec {
	const char *name;
	const char *hosts, *findings, *upgrades; /* campaign_select.h */
	int flow;                                /* 0: auto (by category), 1 or 2 */
	bool emergency;                          /* may run outside windows: manager or admin */
	int64_t soak_seconds;                    /* < 0: PW_CAMPAIGN_SOAK_DEFAULT */
} pw_campaign_spec;

/* The plan of a campaign: its hosts with flow, wave and findings, the
 * pinned snapshot, as JSON ({"name", "flow", "emergency", "soak_seconds",
 * "feed_snapshot", "hosts": [{"host_id", "hostname", "flow", "wave",
 * "environment", "category", "criticality", "findings": [ids]}]}): what
 * `campaign create --dry-run` prints. Hosts without a selected open
 * finding are left out; none left is PW_ERR_INVALID. A host whose flow
 * auto cannot place (no category) is PW_ERR_INVALID naming it. */
pw_err pw_campaign_plan(pw_db *db, const pw_campaign_spec *s, struct cJSON **out, pw_error *err);

/* Plans and stores the campaign: state open, each host awaiting its
 * backup with a ticket opened. `role`: the creator's (operator or admin;
 * an emergency: manager or admin). Audited as "campaign.create". */
pw_err pw_campaign_create(pw_db *db, const char *actor, pw_role role, const pw_campaign_spec *s,
			  int64_t now, int64_t *id, pw_error *err);
/* The same for the hosts of s->hosts that are also among the n
 * `host_ids` (the policy's drafts for hosts it chose itself). */
pw_err pw_campaign_create_hosts(pw_db *db, const char *actor, pw_role role,
				const pw_campaign_spec *s, const int64_t *host_ids, size_t n,
				int64_t now, int64_t *id, pw_error *err);

/* The risk assessment of a decline: data value, threat frequency and
 * impact are low, medium or high; cost_benefit and the reason are text. */
typedef struct pw_risk_assessment {
	const char *data_value, *threat_frequency, *impact, *cost_benefit;
} pw_risk_assessment;

typedef struct pw_campaign_step {
	const char *actor;
	pw_role role; /* PW_ACTOR_SYSTEM: the driver or the scheduler */
	int64_t campaign;
	pw_campaign_action action;
	const char *host; /* host steps: a hostname or "id:N"; NULL for campaign steps */
	/* confirm-backup: the proof (required); decline: the reason
	 * (required); record-uat: its result (required); record-countermeasure:
	 * what was done (required); others: an optional note. */
	const char *note;
	pw_risk_assessment risk; /* decline */
	/* sign-off: when the acceptance expires; record-countermeasure: the
	 * re-check date. YYYY-MM-DD or a UTC timestamp, after `now`. */
	const char *until;
	int64_t now;
} pw_campaign_step;

/* Takes the step: checks it against the machine (campaign.h: the
 * refusal names what is missing and who must act; PW_ERR_AUTH for a
 * wrong role, PW_ERR_CONFLICT for a wrong state, PW_ERR_INVALID for a
 * missing note or assessment, PW_ERR_NOTFOUND for an unknown campaign or
 * a host not in it), applies it and records it. */
pw_err pw_campaign_step_apply(pw_db *db, const pw_campaign_step *s, pw_error *err);

/* The patch driver's call for a job outcome (backup-check-passed,
 * pre-scan-done, patch-done, patch-failed, post-scan-clean,
 * post-scan-vulnerable, health-failed) on host `host_id` of `campaign`:
 * a step by PW_ACTOR_SYSTEM with job `job_id` (0: none) as its proof.
 * pre-scan-done also needs the campaign running and the earlier waves
 * done and soaked; patch-failed and health-failed halt the campaign. */
pw_err pw_campaign_job_outcome(pw_db *db, const char *actor, int64_t campaign, int64_t host_id,
			       pw_campaign_action outcome, int64_t job_id, int64_t now,
			       pw_error *err);

/* The driver's jobs outside the maintenance windows (simulate,
 * backup_check, the scans, health) must be finished this long after they
 * were queued: a host that does not come back fails its job (the jobs'
 * deadline check) and halts the campaign, or, for the backup check, leaves
 * the host waiting for its backup proof. */
#define PW_CAMPAIGN_JOB_DEADLINE (4 * 3600)
/* A failed backup check is run again this long after it failed. */
#define PW_CAMPAIGN_BACKUP_RETRY 3600

/* The pw_db_try_lock key of the patch driver ("pwcd"): one node drives. */
#define PW_CAMPAIGN_DRIVER_LOCK_KEY INT64_C(0x70776364)

typedef struct pw_campaign_drive_stats {
	bool ran;                /* false: another node holds the driver's lock */
	size_t queued, outcomes; /* jobs queued, job outcomes taken */
	size_t halted;           /* campaigns halted (a failed job, a passed deadline) */
	size_t errors;           /* hosts whose step failed this run (retried next run) */
	char first_error[PW_ERROR_MSG_MAX];
} pw_campaign_drive_stats;

/* The patch driver, run by the server's scheduler: for each running
 * campaign, for each host in a state that needs a job (campaign/driver.c
 * has the table: simulate once; backup_check while awaiting a backup on
 * a host with one; inventory as the pre-scan in the host's window once
 * its wave's turn came; patch with the selected findings, at the window
 * or as the campaign's emergency; inventory as the post-scan; health on
 * a host with a health_check), queues the job and records it on the
 * campaign host in one transaction, and takes the job's outcome once its
 * result is in. The scans are of the inventory jobs' output against the
 * campaign's pinned snapshot of `store`; the post-scan's diff against the
 * pre-scan goes on the ticket. A failed patch, health check, scan or a
 * job whose deadline passed halts the campaign, the ticket saying why.
 * One node at a time (PW_CAMPAIGN_DRIVER_LOCK_KEY); a host whose step
 * fails is counted in stats and tried again next run. */
pw_err pw_campaign_drive(pw_db *db, pw_feedstore *store, const pw_policy *policy, const char *actor,
			 int64_t now, pw_campaign_drive_stats *stats, pw_error *err);

/* Re-opens what expired by `now`: signed risk acceptances (the host asks
 * its owner again) and countermeasures past their re-check date (the host
 * starts over at its backup), each a step "expire" in its own
 * transaction; a done campaign runs again. A cancelled campaign's end
 * with it (its hosts' findings stay open for the next campaign).
 * *reopened (may be NULL) counts them. For the scheduler. */
pw_err pw_campaign_expire(pw_db *db, const char *actor, int64_t now, size_t *reopened,
			  pw_error *err);

/* Readers: JSON as the API and --json give them (docs/records.md). */
pw_err pw_campaign_list_json(pw_db *db, struct cJSON **out, pw_error *err);
pw_err pw_campaign_show_json(pw_db *db, int64_t id, struct cJSON **out, pw_error *err);
/* campaign 0: every campaign's tickets. */
pw_err pw_ticket_list_json(pw_db *db, int64_t campaign, struct cJSON **out, pw_error *err);
/* Host `host`'s tickets, of every campaign. */
pw_err pw_ticket_list_host_json(pw_db *db, int64_t host, struct cJSON **out, pw_error *err);
pw_err pw_ticket_show_json(pw_db *db, int64_t id, struct cJSON **out, pw_error *err);

/* A user's role by name, for the command line's --as: PW_ERR_NOTFOUND
 * for an unknown user, PW_ERR_AUTH for a disabled one. */
pw_err pw_campaign_user_role(pw_db *db, const char *name, pw_role *out, pw_error *err);

#endif
