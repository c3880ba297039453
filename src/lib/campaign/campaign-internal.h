/* What the campaign folder's files share. */
#ifndef PATCHWARDEN_CAMPAIGN_INTERNAL_H
#define PATCHWARDEN_CAMPAIGN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "patchwarden/campaign.h"
#include "patchwarden/clock.h"
#include "patchwarden/db.h"
#include "patchwarden/error.h"

struct cJSON;

/* The outcomes (pw_chost_state_final) in SQL, for the queries that count
 * the hosts still to be done. */
#define PW_CHOST_FINAL_SQL                                                                         \
	"('verified', 'risk_accepted', 'countermeasure', 'cancelled', 'rolled_back',"              \
	" 'skipped')"

/* machine.c: {h} and {c} of a refusal template; the roles of a bit set. */
void pw_campaign_expand(char *out, size_t size, const char *tmpl, const char *host, int64_t id);
void pw_campaign_roles_text(unsigned bits, char *out, size_t size);
pw_err pw_campaign_check_live(pw_campaign_state state, int64_t id, pw_error *err);
/* The templates of what a host or a campaign in `s` waits for and the
 * command that does it: refusals and notifications say the same. */
const char *pw_campaign_missing(pw_chost_state s);
const char *pw_campaign_missing_campaign(pw_campaign_state s);

/* notice.c: the notifications (notify.h) of a ticket that now waits on
 * someone, and of a halted campaign, in the caller's transaction. */
pw_err pw_campaign_notice_ticket(pw_db *db, int64_t ticket, pw_chost_state to, pw_error *err);
pw_err pw_campaign_notice_halt(pw_db *db, int64_t campaign, const char *why, pw_error *err);

/* One host of a campaign as the step code reads it. */
struct chost {
	int64_t id, host_id, ticket_id, patches;
	char hostname[256], category[64], app_owner[256];
	int flow, wave;
	bool test_env;
	pw_chost_state state;
};

/* One ticket event (step.c); the campaign's audit event is separate. */
struct ticket_event {
	int64_t ticket;
	const char *ts, *actor, *action, *note, *detail;
	pw_chost_state from, to; /* from == to: no change of state */
	const char *next;        /* who acts next; NULL: whoever `to` waits for */
};

pw_err pw_campaign_ticket_event(pw_db *db, const struct ticket_event *e, pw_error *err);

/* Audits `action` ("campaign.approve") on campaign `id` with `after` (a
 * JSON object, not consumed). */
pw_err pw_campaign_audit(pw_db *db, const char *actor, const char *action, int64_t id,
			 const struct cJSON *after, pw_error *err);

/* driver.c: the packages (a JSON array of {"name", "version"}) the newest
 * patch job of the host upgraded, at their versions before it: what a
 * rollback job installs; *patch_job that job (0: none). */
pw_err pw_campaign_rollback_set(pw_db *db, int64_t campaign, int64_t host_id, struct cJSON **pkgs,
				int64_t *patch_job, pw_error *err);

/* How many hosts of the waves before `wave` have not reached an outcome
 * or soaked for `soak` seconds by `now`: the wave's turn when 0. */
pw_err pw_campaign_wave_waiting(pw_db *db, int64_t campaign, int wave, int64_t soak, int64_t now,
				int64_t *waiting, pw_error *err);

#endif
