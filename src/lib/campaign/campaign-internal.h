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

/* ---- compliance reports (compliance.c, mttr.c) ------------------------ */

/* The history a report reads, up to its as_of, of the hosts its filters
 * keep (sorted by id; the other rows name a host by its index). */
struct cx_host {
	int64_t id;
	char *name, *owner, *category;
	int64_t created, decom; /* unix seconds; decom INT64_MAX: in service */
	int64_t reported;       /* the first sign of an inventory; INT64_MAX: none */
	char *no_feed;          /* its release, when the store has no advisories for it */
};
struct cx_patch {
	size_t host;
	int64_t at;
};
struct cx_finding {
	size_t host;
	int prio;                  /* pw_host_prio */
	int64_t first, fixed, due; /* INT64_MAX: not fixed, no due date */
	bool verified;             /* fixed by an inventory, not by decommissioning */
	bool kev;
	char *advisory; /* CX_ADVISORIES only */
};
struct cx_campaign {
	int64_t id;
	char *name;
	bool emergency;
	int64_t created;
	size_t host;
	char *state, *recheck; /* the host's state at as_of */
};
struct cx_risk {
	size_t host;
	int64_t campaign;
	char *name, *signed_by, *expires_text;
	int64_t ends; /* the earlier of its expiry date and when it was expired */
};
/* A host at one time. */
struct cx_state {
	bool in_service;
	int64_t last_patch;
	int64_t open[4]; /* per pw_host_prio */
	int64_t past_sla;
	bool within;
	bool covered;
};
struct cx_hist {
	const struct pw_compliance_query *q;
	unsigned what;
	struct cx_host *h;
	struct cx_patch *p;
	struct cx_finding *f;
	struct cx_campaign *c;
	struct cx_risk *r;
	size_t nh, np, nf, nc, nr;
};

enum { CX_CAMPAIGNS = 1, CX_ADVISORIES = 2 };
pw_err pw_cx_load(pw_db *db, const struct pw_compliance_query *q, unsigned what, struct cx_hist *x,
		  pw_error *err);
void pw_cx_free(struct cx_hist *x);
/* The median and mean of v (sorted here) as numbers with one decimal,
 * nulls when n is 0. */
bool pw_cx_add_stats(struct cJSON *o, const char *median_key, const char *mean_key, double *v,
		     size_t n);

#endif
