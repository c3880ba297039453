/* Who is told what when a ticket moves (issue 14): the person the
 * ticket now waits on, with the command that moves it on; the help desk
 * (and the application's owner) before a host is patched; the operators
 * when a campaign halts. The message is written to the outbox in the
 * step's own transaction (notify.h). */
#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "patchwarden/notify.h"
#include "patchwarden/sql.h"

#include "campaign-internal.h"

#define R(role) (1u << (role))

/* Who a host in `s` waits on, how the subject says it, and whether
 * the console's "My actions" is where they act (else the host's page). */
static bool audience(pw_chost_state s, unsigned *roles, bool *owner, const char **what,
		     bool *actions)
{
	*owner = false;
	*actions = s != PW_CH_SCHEDULED && s != PW_CH_ESCALATED;
	switch (s) {
	case PW_CH_AWAITING_BACKUP:
		*roles = R(PW_ROLE_OPERATOR); /* the backup role: campaign.h */
		*what = "confirm the backup";
		return true;
	case PW_CH_AWAITING_APPROVAL:
	case PW_CH_AWAITING_UAT:
		*roles = 0;
		*owner = true;
		*what = s == PW_CH_AWAITING_UAT ? "record the user acceptance test"
						: "approve or decline the patches";
		return true;
	case PW_CH_DECLINED:
		*roles = R(PW_ROLE_MANAGER);
		*what = "sign off the risk acceptance";
		return true;
	case PW_CH_SCHEDULED:
		*roles = R(PW_ROLE_HELPDESK);
		*owner = true;
		*what = "to be patched: tell its users";
		return true;
	case PW_CH_ESCALATED:
		*roles = R(PW_ROLE_OPERATOR);
		*what = "still vulnerable: record countermeasures";
		return true;
	default:
		return false;
	}
}

/* "What": the packages the host's campaign findings upgrade, joined by
 * ", " into out (cut short with "..."). campaign_hosts.findings is a
 * JSON array without spaces, so ",ID," finds one in both backends. */
static pw_err packages(pw_db *db, int64_t ticket, char *out, size_t size, pw_error *err)
{
	pw_stmt *st;
	bool row = false;
	size_t len = 0;
	out[0] = '\0';
	pw_err rc = pw_sql(db,
			   "SELECT DISTINCT f.package FROM campaign_hosts ch JOIN findings f"
			   " ON f.host_id = ch.host_id WHERE ch.ticket_id = ? AND (',' ||"
			   " substr(ch.findings, 2, length(ch.findings) - 2) || ',') LIKE ('%,' ||"
			   " CAST(f.id AS TEXT) || ',%') ORDER BY f.package",
			   &st, err, "i", ticket);
	while (!rc && !(rc = pw_stmt_step(st, &row, err)) && row) {
		const char *p = pw_stmt_text(st, 0);
		if (len + strlen(p) + 6 >= size) {
			snprintf(out + len, size - len, "%s...", len ? ", " : "");
			pw_stmt_reset(st);
			break;
		}
		len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "", p);
	}
	return rc;
}

static pw_err enqueue(pw_db *db, const char *event, const pw_notify_to *to, const char *subject,
		      const char *body, cJSON *payload, const char *link, pw_error *err)
{
	char *p = payload && cJSON_AddStringToObject(payload, "event", event) &&
				  cJSON_AddStringToObject(payload, "subject", subject) &&
				  cJSON_AddStringToObject(payload, "text", body)
			  ? cJSON_PrintUnformatted(payload)
			  : NULL;
	pw_err rc = p ? pw_notify_enqueue(db, event, to, subject, body, p, link, err)
		      : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	cJSON_free(p);
	cJSON_Delete(payload);
	return rc;
}

pw_err pw_campaign_notice_ticket(pw_db *db, int64_t ticket, pw_chost_state to, pw_error *err)
{
	unsigned roles;
	bool owner, actions;
	const char *what;
	if (!audience(to, &roles, &owner, &what, &actions))
		return PW_OK;
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db,
			   "SELECT ch.campaign_id, ch.hostname, ch.app_owner, c.name, c.emergency,"
			   " h.maint_window, ch.host_id FROM campaign_hosts ch"
			   " JOIN campaigns c ON c.id = ch.campaign_id"
			   " LEFT JOIN hosts h ON h.id = ch.host_id WHERE ch.ticket_id = ?",
			   &st, err, "i", ticket);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc || !row)
		return rc;
	int64_t id = pw_stmt_int(st, 0);
	char host[256], app_owner[256], name[256], window[256];
	snprintf(host, sizeof host, "%s", pw_stmt_text(st, 1) ? pw_stmt_text(st, 1) : "");
	snprintf(app_owner, sizeof app_owner, "%s", pw_stmt_text(st, 2) ? pw_stmt_text(st, 2) : "");
	snprintf(name, sizeof name, "%s", pw_stmt_text(st, 3) ? pw_stmt_text(st, 3) : "");
	bool emergency = pw_stmt_int(st, 4) != 0;
	snprintf(window, sizeof window, "%s", pw_stmt_text(st, 5) ? pw_stmt_text(st, 5) : "");
	char link[64];
	if (actions)
		snprintf(link, sizeof link, "/actions");
	else
		snprintf(link, sizeof link, "/hosts/%" PRId64, pw_stmt_int(st, 6));
	pw_stmt_reset(st);
	/* An owner who is a user is told; otherwise every app-owner is
	 * when the step is theirs, and none of them of a host with no
	 * application to approve. */
	bool all_owners = owner && !app_owner[0] && to != PW_CH_SCHEDULED;
	pw_notify_to rcpt = {roles | (all_owners ? R(PW_ROLE_APP_OWNER) : 0),
			     owner && app_owner[0] ? app_owner : NULL, NULL};
	char subject[600], todo[PW_ERROR_MSG_MAX], body[3072], what_pkgs[512];
	pw_err prc = packages(db, ticket, what_pkgs, sizeof what_pkgs, err);
	if (prc)
		return prc;
	snprintf(subject, sizeof subject, "[patchwarden]%s campaign %" PRId64 " %s: %s: %s",
		 emergency ? " EMERGENCY" : "", id, name, host, what);
	pw_campaign_expand(todo, sizeof todo, pw_campaign_missing(to), host, id);
	snprintf(body, sizeof body,
		 "Campaign %" PRId64 " (%s)%s, ticket %" PRId64 ", host %s.\nWhat: the upgrades"
		 " of %s.\n\n%s.\n%s%s%s\n"
		 "Run the commands as 'patchwarden campaign ... --as YOUR-USER'; 'patchwarden "
		 "ticket show %" PRId64 "' shows the ticket's history.\n",
		 id, name, emergency ? ", an emergency campaign" : "", ticket, host,
		 what_pkgs[0] ? what_pkgs : "(none left)", todo,
		 to == PW_CH_SCHEDULED ? "When: in the host's maintenance window " : "",
		 to == PW_CH_SCHEDULED ? (window[0] ? window : "(none set: any time)") : "",
		 to == PW_CH_SCHEDULED ? "; expected downtime: the package upgrades and, when they "
					 "need one, a reboot.\n"
				       : "",
		 ticket);
	cJSON *p = cJSON_CreateObject();
	if (p && (!cJSON_AddNumberToObject(p, "campaign", (double)id) ||
		  !cJSON_AddNumberToObject(p, "ticket", (double)ticket) ||
		  !cJSON_AddStringToObject(p, "host", host) ||
		  !cJSON_AddStringToObject(p, "state", pw_chost_state_name(to)))) {
		cJSON_Delete(p);
		p = NULL;
	}
	return enqueue(db, to == PW_CH_SCHEDULED ? "campaign.scheduled" : "campaign.waiting", &rcpt,
		       subject, body, p, link, err);
}

pw_err pw_campaign_notice_halt(pw_db *db, int64_t campaign, const char *why, pw_error *err)
{
	pw_notify_to rcpt = {R(PW_ROLE_OPERATOR), NULL, NULL};
	char subject[200], todo[PW_ERROR_MSG_MAX], body[PW_ERROR_MSG_MAX + 512];
	snprintf(subject, sizeof subject, "[patchwarden] campaign %" PRId64 " halted", campaign);
	pw_campaign_expand(todo, sizeof todo, pw_campaign_missing_campaign(PW_CS_HALTED), "",
			   campaign);
	snprintf(body, sizeof body,
		 "Campaign %" PRId64 " halted: %s.\n\n%s ('patchwarden ticket "
		 "list --campaign %" PRId64 "').\n",
		 campaign, why, todo, campaign);
	cJSON *p = cJSON_CreateObject();
	if (p && !cJSON_AddNumberToObject(p, "campaign", (double)campaign)) {
		cJSON_Delete(p);
		p = NULL;
	}
	char link[64];
	snprintf(link, sizeof link, "/campaigns/%" PRId64, campaign);
	return enqueue(db, "campaign.halted", &rcpt, subject, body, p, link, err);
}
