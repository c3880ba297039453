/* The daily policy run (issue 14): what the patch policy says is due,
 * listed, notified and (configurable) drafted into campaigns.
 *
 * * hosts not patched for more than max_days_unpatched days (last_patched
 *   older, or never patched and enrolled before that);
 * * open findings past their priority's SLA (findings.due);
 * * risk acceptances and countermeasures that expire within
 *   expiry_warning_days;
 * * the emergency path: open KEV-listed or emergency-priority findings.
 *
 * Drafts (draft_campaigns, and always for emergencies) are campaigns
 * created by "system:policy" (campaigns.h) in state open, so people
 * still walk every host through its gates: "policy: emergency (KEV)" and
 * "policy: emergency (priority)" (emergency campaigns), "policy: past
 * SLA (high)" and "(normal)" (findings past their due date; low ones get
 * no campaign of their own but wait for their host's regular cycle) and
 * "policy: unpatched" (hosts past the 90-day rule, all their findings). A draft is not made again
 * while a campaign of its name is live (open, running, paused or halted). The operators and
 * managers get one summary; managers and the host's owner a notice of each expiry. The run is
 * recorded in policy_runs and audited as "policy.run". */
#ifndef PATCHWARDEN_POLICY_RUN_H
#define PATCHWARDEN_POLICY_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "patchwarden/config.h"
#include "patchwarden/db.h"
#include "patchwarden/error.h"

struct cJSON;

/* [policy] keys of the run (the SLA days are the scan policy's). */
typedef struct pw_policy_run_config {
	long max_days_unpatched;  /* 90 */
	long expiry_warning_days; /* 7 */
	bool draft_campaigns;     /* false: list and notify only (emergencies are drafted) */
	const char *daily_at;     /* "HH:MM" UTC when the server runs it (and the emergency
				   * path after each new snapshot); NULL: neither */
	long digest_days;         /* [policy] digest: 0 off, 1 daily, 7 weekly */
} pw_policy_run_config;

pw_err pw_policy_run_config_load(const pw_config *c, pw_policy_run_config *out, pw_error *err);

/* Runs the policy as of `now` (unix seconds). dry_run: lists only,
 * changes nothing. emergency_only: the emergency path alone (after a new
 * feed snapshot). *report: {"as_of", "dry_run", "unpatched": [...],
 * "past_sla": [...], "expiring": [...], "emergency": [...], "drafted":
 * [{"name", "id"}], "notified": N} (docs/records.md). */
pw_err pw_policy_run(pw_db *db, const pw_policy_run_config *cfg, int64_t now, bool dry_run,
		     bool emergency_only, struct cJSON **report, pw_error *err);

/* Whether the server's daily run is due at `now`: past daily_at today
 * and no full run recorded since then. */
pw_err pw_policy_run_due(pw_db *db, const pw_policy_run_config *cfg, int64_t now, bool *due,
			 pw_error *err);

/* The advisory digest per owner group: the advisories first seen on the
 * group's hosts in service since `since` (a UTC timestamp; NULL: the last
 * digest, else digest_days before now), each with its priority, the
 * number of the group's hosts it affects and the live campaign that
 * handles it (null: none yet), mailed to the group (pw_notify_to's
 * owner_group: the user named as the group, the app owners of its hosts).
 * A group with nothing new gets nothing. Recorded in policy_runs (kind
 * "digest") and audited as "policy.digest" unless dry_run. *report:
 * {"since", "as_of", "dry_run", "groups": [{"owner_group", "advisories":
 * [{"advisory", "priority", "hosts", "campaign"}]}]}. The daily run
 * sends one when digest_days have passed since the last. */
pw_err pw_policy_digest(pw_db *db, const pw_policy_run_config *cfg, int64_t now, const char *since,
			bool dry_run, struct cJSON **report, pw_error *err);

/* `host set HOST compromised=true`: marks the host compromised (when,
 * in hosts.compromised; audited as "host.compromised" with the note)
 * and drafts the emergency campaign "incident: similar to HOST" for
 * every host in service of the same category and OS release that shares
 * one of its open findings (by advisory), not the host itself, which is
 * the incident's: its own ticket goes on the incident track (tickets.track
 * 'incident', an "incident" event with the note in its history) - its
 * open ticket in a live campaign, else the ticket of a new emergency
 * campaign "incident: HOST" of the host alone when it has open findings
 * (*ticket, 0 when neither). The operators and managers are told, with
 * the host's console page. *campaign is 0 when no host is similar. A
 * host without a category is PW_ERR_INVALID (similar hosts are of its
 * category); `host` is a hostname or "id:N" (hosts.h). */
pw_err pw_policy_compromised(pw_db *db, const char *actor, const char *host, const char *note,
			     int64_t now, int64_t *campaign, size_t *similar, int64_t *ticket,
			     pw_error *err);

/* `host set HOST compromised=false`: the mark is cleared and each of the
 * host's incident tickets goes back to the regular track with an
 * "incident.cleared" event (*tickets of them), audited as
 * "host.compromised_cleared" with the note, the operators and managers
 * told. A host not marked is PW_ERR_CONFLICT. */
pw_err pw_policy_compromise_clear(pw_db *db, const char *actor, const char *host, const char *note,
				  int64_t now, size_t *tickets, pw_error *err);

#endif
