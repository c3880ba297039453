/* The policy run (policy_run.h). */
#include "patchwarden/policy_run.h"

#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patchwarden/audit.h"
#include "patchwarden/buf.h"
#include "patchwarden/campaigns.h"
#include "patchwarden/clock.h"
#include "patchwarden/grow.h"
#include "patchwarden/hosts.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/notify.h"
#include "patchwarden/sql.h"

#define R(role) (1u << (role))
#define LIVE_STATES "('open', 'running', 'paused', 'halted')"

pw_err pw_policy_run_config_load(const pw_config *c, pw_policy_run_config *out, pw_error *err)
{
	memset(out, 0, sizeof *out);
	pw_err rc = pw_config_get_int(c, "policy", "max_days_unpatched", 90,
				      &out->max_days_unpatched, err);
	if (!rc)
		rc = pw_config_get_int(c, "policy", "expiry_warning_days", 7,
				       &out->expiry_warning_days, err);
	if (!rc)
		rc = pw_config_get_bool(c, "policy", "draft_campaigns", false,
					&out->draft_campaigns, err);
	if (rc)
		return rc;
	const char *dg = c ? pw_config_get(c, "policy", "digest") : NULL;
	if (dg && *dg && strcmp(dg, "off") && strcmp(dg, "daily") && strcmp(dg, "weekly"))
		return pw_error_set(err, PW_ERR_PARSE,
				    "[policy] digest = '%s': use off, daily or weekly", dg);
	out->digest_days = !dg || !*dg || !strcmp(dg, "off") ? 0 : !strcmp(dg, "daily") ? 1 : 7;
	const char *at = c ? pw_config_get(c, "policy", "daily_at") : NULL;
	out->daily_at = at && *at ? at : NULL;
	unsigned hh, mm;
	char extra;
	if (out->daily_at &&
	    (sscanf(out->daily_at, "%2u:%2u%c", &hh, &mm, &extra) != 2 || hh > 23 || mm > 59))
		return pw_error_set(err, PW_ERR_PARSE,
				    "[policy] daily_at = '%s': give HH:MM (UTC), or nothing to "
				    "leave the daily run to 'patchwarden policy run'",
				    out->daily_at);
	if (out->max_days_unpatched < 1 || out->max_days_unpatched > 3650 ||
	    out->expiry_warning_days < 0 || out->expiry_warning_days > 365)
		return pw_error_set(err, PW_ERR_PARSE,
				    "[policy] max_days_unpatched is 1 to 3650 days, "
				    "expiry_warning_days 0 to 365");
	return PW_OK;
}

static void ts_of(int64_t t, char out[PW_TS_SECONDS_LEN])
{
	pw_ts_seconds(t, out);
}

/* Days from the date at the start of `ts` to `now`; -1 when unreadable. */
static int64_t days_since(const char *ts, int64_t now)
{
	struct tm tm = {0};
	if (!ts || sscanf(ts, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (now - (int64_t)timegm(&tm)) / 86400;
}

/* Appends one object per row of st: the columns named by `cols` (a
 * letter per column: 't' text, 'i' integer). */
static pw_err rows_to(pw_stmt *st, cJSON *arr, const char *const *names, const char *cols,
		      pw_error *err)
{
	bool row = false;
	pw_err rc;
	while (!(rc = pw_stmt_step(st, &row, err)) && row) {
		cJSON *o = cJSON_CreateObject();
		bool ok = o && cJSON_AddItemToArray(arr, o);
		for (int i = 0; ok && cols[i]; i++)
			ok = cols[i] == 'i' ? pw_json_add_int(o, names[i], pw_stmt_int(st, i))
					    : pw_json_add_str(o, names[i], pw_stmt_text(st, i));
		if (!ok)
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	return rc;
}

static pw_err list_unpatched(pw_db *db, const pw_policy_run_config *cfg, int64_t now, cJSON *arr,
			     pw_error *err)
{
	char cutoff[PW_TS_SECONDS_LEN];
	ts_of(now - cfg->max_days_unpatched * 86400, cutoff);
	pw_stmt *st;
	static const char *const names[] = {"host_id", "host", "last_patched", "owner_group"};
	pw_err rc =
		pw_sql(db,
		       "SELECT id, hostname, last_patched, owner_group FROM hosts"
		       " WHERE decommissioned IS NULL AND ((last_patched IS NULL AND created < ?)"
		       " OR last_patched < ?) ORDER BY hostname, id",
		       &st, err, "tt", cutoff, cutoff);
	if (!rc)
		rc = rows_to(st, arr, names, "ittt", err);
	cJSON *o;
	cJSON_ArrayForEach(o, arr) {
		const cJSON *lp = cJSON_GetObjectItemCaseSensitive(o, "last_patched");
		int64_t d = cJSON_IsString(lp) ? days_since(lp->valuestring, now) : -1;
		if (!rc && !(d >= 0 ? pw_json_add_int(o, "days", d)
				    : cJSON_AddNullToObject(o, "days") != NULL))
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	return rc;
}

static pw_err list_findings(pw_db *db, const char *where, const char *bind, cJSON *arr,
			    pw_error *err)
{
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "SELECT f.id, h.hostname, f.package, f.advisory, f.priority, f.due, f.kev_cve"
		 " FROM findings f JOIN hosts h ON h.id = f.host_id"
		 " WHERE f.fixed_at IS NULL AND h.decommissioned IS NULL AND %s"
		 " ORDER BY f.due, h.hostname, f.id",
		 where);
	static const char *const names[] = {"finding",  "host", "package", "advisory",
					    "priority", "due",  "kev_cve"};
	pw_stmt *st;
	pw_err rc = bind ? pw_sql(db, sql, &st, err, "t", bind) : pw_sql(db, sql, &st, err, "");
	return rc ? rc : rows_to(st, arr, names, "itttttt", err);
}

static pw_err list_expiring(pw_db *db, const pw_policy_run_config *cfg, int64_t now, cJSON *arr,
			    pw_error *err)
{
	char from[PW_TS_SECONDS_LEN], to[PW_TS_SECONDS_LEN];
	ts_of(now, from);
	ts_of(now + cfg->expiry_warning_days * 86400, to);
	static const char *const names[] = {"kind", "campaign", "host", "app_owner", "expires"};
	pw_stmt *st;
	pw_err rc = pw_sql(
		db,
		"SELECT 'risk_acceptance', ch.campaign_id, ch.hostname, ch.app_owner, r.expires"
		" FROM risk_acceptances r JOIN campaign_hosts ch ON ch.campaign_id = r.campaign_id"
		" AND ch.host_id = r.host_id WHERE r.expired IS NULL AND ch.state = 'risk_accepted'"
		" AND r.expires IS NOT NULL AND r.expires >= ? AND r.expires < ?"
		" UNION ALL SELECT 'countermeasure', campaign_id, hostname, app_owner, recheck"
		" FROM campaign_hosts WHERE state = 'countermeasure' AND recheck >= ?"
		" AND recheck < ? ORDER BY 5, 3",
		&st, err, "tttt", from, to, from, to);
	return rc ? rc : rows_to(st, arr, names, "tittt", err);
}

struct draft {
	const char *name, *hosts, *findings;
	bool emergency;
};

static pw_err draft(pw_db *db, const struct draft *d, int64_t now, cJSON *drafted, pw_error *err)
{
	pw_stmt *st;
	int64_t live = 0;
	pw_err rc =
		pw_sql(db,
		       "SELECT count(*) FROM campaigns WHERE name = ? AND state IN " LIVE_STATES,
		       &st, err, "t", d->name);
	if (!rc)
		rc = pw_sql_int(st, &live, err);
	if (rc || live)
		return rc;
	pw_campaign_spec s = {d->name, d->hosts, d->findings, NULL, 0, d->emergency, -1};
	int64_t id = 0;
	pw_error e = PW_ERROR_INIT;
	rc = pw_campaign_create(db, "system:policy", PW_ROLE_ADMIN, &s, now, &id, &e);
	if (rc == PW_ERR_INVALID) /* no host has such a finding, or one has no flow */
		return PW_OK;
	if (rc) {
		*err = e;
		return rc;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToArray(drafted, o) || !pw_json_add_str(o, "name", d->name) ||
	    !pw_json_add_int(o, "id", id))
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	return PW_OK;
}

struct record {
	cJSON *report;
	const char *kind;
	int64_t now;
	size_t notified;
};

static pw_err summary_body(cJSON *r, char **subject, char **body)
{
	static const char *const parts[] = {"emergency", "past_sla", "unpatched", "expiring",
					    "drafted"};
	static const char *const what[] = {
		"open KEV-listed or emergency findings", "open findings past their SLA",
		"hosts not patched within the policy",
		"risk acceptances or countermeasures to expire",
		"campaigns drafted (open: each host still passes its gates)"};
	size_t len = 0, cap = 4096;
	char *b = malloc(cap);
	int n[5];
	if (!b)
		return PW_ERR_NOMEM;
	len += (size_t)snprintf(b, cap, "The patch policy run of %s found:\n\n",
				cJSON_GetObjectItemCaseSensitive(r, "as_of")->valuestring);
	for (int i = 0; i < 5; i++) {
		n[i] = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, parts[i]));
		if (len < cap)
			len += (size_t)snprintf(b + len, cap - len, "  %4d %s\n", n[i], what[i]);
	}
	if (len < cap)
		snprintf(b + len, cap - len,
			 "\n'patchwarden policy run --dry-run' lists them; 'patchwarden campaign "
			 "list' shows the drafts, which an operator starts with 'patchwarden "
			 "campaign start ID --as USER'.\n");
	char s[200];
	snprintf(s, sizeof s,
		 "[patchwarden] policy: %d emergency, %d past SLA, %d unpatched, %d expiring", n[0],
		 n[1], n[2], n[3]);
	*subject = strdup(s);
	*body = b;
	return *subject ? PW_OK : PW_ERR_NOMEM;
}

static pw_err notify_expiry(pw_db *db, const cJSON *x, pw_error *err)
{
	const char *kind = cJSON_GetObjectItemCaseSensitive(x, "kind")->valuestring;
	const char *host = cJSON_GetObjectItemCaseSensitive(x, "host")->valuestring;
	const cJSON *owner = cJSON_GetObjectItemCaseSensitive(x, "app_owner");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(x, "expires");
	int64_t c = (int64_t)cJSON_GetObjectItemCaseSensitive(x, "campaign")->valuedouble;
	bool risk = strcmp(kind, "risk_acceptance") == 0;
	pw_notify_to to = {R(PW_ROLE_MANAGER) | (risk ? 0 : R(PW_ROLE_OPERATOR)),
			   cJSON_IsString(owner) ? owner->valuestring : NULL, NULL};
	char subject[400], body[1200];
	snprintf(subject, sizeof subject,
		 "[patchwarden] %s: the %s of campaign %" PRId64 " expires %s", host,
		 risk ? "risk acceptance" : "countermeasures", c,
		 cJSON_IsString(exp) ? exp->valuestring : "");
	snprintf(body, sizeof body,
		 "%s's %s in campaign %" PRId64 " expires %s. Then the host re-opens and %s.\n"
		 "Patch it before then, or renew: 'patchwarden campaign %s %" PRId64
		 " --host %s --as YOUR-USER'.\n",
		 host, risk ? "risk acceptance" : "countermeasures", c,
		 cJSON_IsString(exp) ? exp->valuestring : "",
		 risk ? "its owner is asked again" : "it is looked at again",
		 risk ? "sign-off" : "record-countermeasure", c, host);
	char *p = cJSON_PrintUnformatted(x), link[64];
	snprintf(link, sizeof link, "/campaigns/%" PRId64, c);
	pw_err rc = p ? pw_notify_enqueue(db, "policy.expiring", &to, subject, body, p, link, err)
		      : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	cJSON_free(p);
	return rc;
}

static pw_err record_txn(pw_db *db, void *arg, pw_error *err)
{
	struct record *x = arg;
	char *subject = NULL, *body = NULL;
	char *json = NULL;
	pw_err rc = summary_body(x->report, &subject, &body);
	if (rc)
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	pw_notify_to to = {R(PW_ROLE_OPERATOR) | R(PW_ROLE_MANAGER), NULL, NULL};
	json = rc ? NULL : cJSON_PrintUnformatted(x->report);
	if (!rc && !json)
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = pw_notify_enqueue(db, "policy.run", &to, subject, body, json, "/campaigns",
				       err);
	x->notified = 1;
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(x->report, "expiring")) {
		if (!rc)
			rc = notify_expiry(db, e, err);
		x->notified++;
	}
	char started[PW_TS_SECONDS_LEN];
	ts_of(x->now, started);
	pw_stmt *st;
	if (!rc)
		rc = pw_sql(db,
			    "INSERT INTO policy_runs (started, kind, actor, report) VALUES (?, ?, "
			    "?, ?)",
			    &st, err, "tttt", started, x->kind, "system:policy", json);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (!rc)
		rc = pw_audit_append(db, "system:policy", "policy.run", "policy", NULL, json, NULL,
				     err);
	free(subject);
	free(body);
	cJSON_free(json);
	return rc;
}

static pw_err digest_if_due(pw_db *db, const pw_policy_run_config *cfg, int64_t now, pw_error *err);

pw_err pw_policy_run(pw_db *db, const pw_policy_run_config *cfg, int64_t now, bool dry_run,
		     bool emergency_only, cJSON **report, pw_error *err)
{
	char asof[PW_TS_SECONDS_LEN];
	ts_of(now, asof);
	cJSON *r = cJSON_CreateObject();
	*report = r;
	cJSON *un = cJSON_CreateArray(), *sla = cJSON_CreateArray(), *ex = cJSON_CreateArray(),
	      *em = cJSON_CreateArray(), *dr = cJSON_CreateArray();
	bool ok = r && pw_json_add_str(r, "as_of", asof) &&
		  cJSON_AddBoolToObject(r, "dry_run", dry_run) &&
		  cJSON_AddBoolToObject(r, "emergency_only", emergency_only) && un &&
		  cJSON_AddItemToObject(r, "unpatched", un) && sla &&
		  cJSON_AddItemToObject(r, "past_sla", sla) && ex &&
		  cJSON_AddItemToObject(r, "expiring", ex) && em &&
		  cJSON_AddItemToObject(r, "emergency", em) && dr &&
		  cJSON_AddItemToObject(r, "drafted", dr);
	if (!ok)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	pw_err rc = list_findings(db, "(f.priority = 'emergency' OR f.kev_cve IS NOT NULL)", NULL,
				  em, err);
	if (!rc && !emergency_only) {
		rc = list_findings(db, "f.due IS NOT NULL AND f.due < ?", asof, sla, err);
		if (!rc)
			rc = list_unpatched(db, cfg, now, un, err);
		if (!rc)
			rc = list_expiring(db, cfg, now, ex, err);
	}
	if (rc || dry_run)
		return rc;
	/* Low-priority findings get no campaign of their own: they join the
	 * regular cycle of their hosts (the unpatched draft takes every open
	 * finding of a host past the rule). */
	char high[64], normal[64];
	snprintf(high, sizeof high, "priority=high,due_before=%.10s", asof);
	snprintf(normal, sizeof normal, "priority=normal,due_before=%.10s", asof);
	const struct draft drafts[] = {
		{"policy: emergency (KEV)", "all", "kev=true", true},
		{"policy: emergency (priority)", "all", "priority=emergency", true},
		{"policy: past SLA (high)", "all", high, false},
		{"policy: past SLA (normal)", "all", normal, false},
		{"policy: unpatched", "overdue=true", NULL, false},
	};
	size_t n = emergency_only || !cfg->draft_campaigns ? 2 : sizeof drafts / sizeof drafts[0];
	for (size_t i = 0; i < n && !rc; i++)
		rc = draft(db, &drafts[i], now, dr, err);
	struct record x = {r, emergency_only ? "emergency" : "daily", now, 0};
	/* An emergency-only run that found none tells nobody. */
	if (!rc && (!emergency_only || cJSON_GetArraySize(em) > 0))
		rc = pw_in_write_txn(db, record_txn, &x, err);
	if (!rc && !pw_json_add_int(r, "notified", (int64_t)x.notified))
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc && !emergency_only && cfg->digest_days)
		rc = digest_if_due(db, cfg, now, err);
	return rc;
}

pw_err pw_policy_run_due(pw_db *db, const pw_policy_run_config *cfg, int64_t now, bool *due,
			 pw_error *err)
{
	*due = false;
	unsigned hh, mm;
	if (!cfg->daily_at || sscanf(cfg->daily_at, "%2u:%2u", &hh, &mm) != 2)
		return PW_OK;
	int64_t at = now - now % 86400 + (int64_t)hh * 3600 + (int64_t)mm * 60;
	if (now < at)
		return PW_OK;
	char since[PW_TS_SECONDS_LEN];
	ts_of(at, since);
	pw_stmt *st;
	int64_t runs = 0;
	pw_err rc = pw_sql(db,
			   "SELECT count(*) FROM policy_runs WHERE kind = 'daily' AND started >= ?",
			   &st, err, "t", since);
	if (!rc)
		rc = pw_sql_int(st, &runs, err);
	*due = !rc && runs == 0;
	return rc;
}

struct compromised {
	const char *actor, *host, *note;
	int64_t host_id, campaign, ticket;
	size_t similar;
	char when[PW_TS_SECONDS_LEN];
};

/* A ticket joins or leaves the incident track: its track, and an event in
 * its history at the state it is in, waiting on whom it waits on. */
static pw_err ticket_track(pw_db *db, int64_t ticket, const char *track, const char *actor,
			   const char *action, const char *note, const char *ts, pw_error *err)
{
	pw_stmt *st;
	bool row = false;
	char state[64] = "", next[64] = "";
	pw_err rc = pw_sql(db,
			   "SELECT ch.state, t.next_actor FROM tickets t JOIN campaign_hosts ch ON"
			   " ch.ticket_id = t.id WHERE t.id = ?",
			   &st, err, "i", ticket);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (!rc && row) {
		snprintf(state, sizeof state, "%s", pw_stmt_text(st, 0));
		snprintf(next, sizeof next, "%s", pw_stmt_text(st, 1));
		pw_stmt_reset(st);
	}
	if (!rc)
		rc = pw_sql(db, "UPDATE tickets SET track = ? WHERE id = ?", &st, err, "ti", track,
			    ticket);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (!rc)
		rc = pw_sql(db,
			    "INSERT INTO ticket_events (ticket_id, ts, actor, action, from_state,"
			    " to_state, note, next_actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			    &st, err, "ittttttt", ticket, ts, actor, action, state, state, note,
			    next);
	return rc ? rc : pw_stmt_exec(st, err);
}

/* The host's mark changed: `action` audited with `a` (NULL: out of
 * memory), the operators and managers told with the host's console page. */
static pw_err incident_told(pw_db *db, const char *actor, const char *action, const char *host,
			    int64_t host_id, const cJSON *a, const char *subject, const char *body,
			    pw_error *err)
{
	char target[300], link[64];
	snprintf(target, sizeof target, "host:%s", host);
	snprintf(link, sizeof link, "/hosts/%" PRId64, host_id);
	char *after = a ? cJSON_PrintUnformatted(a) : NULL;
	pw_notify_to to = {R(PW_ROLE_OPERATOR) | R(PW_ROLE_MANAGER), NULL, NULL};
	pw_err rc = after ? pw_audit_append(db, actor, action, target, NULL, after, NULL, err)
			  : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = pw_notify_enqueue(db, action, &to, subject, body, after, link, err);
	cJSON_free(after);
	return rc;
}

/* The ids of the rows of `st` (one id column) in *ids, empty before. */
static pw_err ids_read(pw_stmt *st, int64_t **ids, size_t *n, pw_error *err)
{
	size_t cap = 0;
	bool row = false;
	pw_err rc;
	while (!(rc = pw_stmt_step(st, &row, err)) && row) {
		int64_t *g = pw_grow(*ids, &cap, *n, sizeof **ids);
		if (!g) {
			pw_stmt_reset(st);
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
		*ids = g;
		(*ids)[(*n)++] = pw_stmt_int(st, 0);
	}
	return rc;
}

static pw_err compromised_txn(pw_db *db, void *arg, pw_error *err)
{
	struct compromised *x = arg;
	pw_stmt *st;
	pw_err rc = pw_sql(db, "UPDATE hosts SET compromised = ? WHERE id = ?", &st, err, "ti",
			   x->when, x->host_id);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (!rc && x->ticket)
		rc = ticket_track(db, x->ticket, "incident", x->actor, "incident", x->note, x->when,
				  err);
	cJSON *a = cJSON_CreateObject();
	bool ok = a && pw_json_add_str(a, "compromised", x->when) &&
		  pw_json_add_str(a, "note", x->note) &&
		  pw_json_add_int(a, "campaign", x->campaign) &&
		  pw_json_add_int(a, "similar_hosts", (int64_t)x->similar) &&
		  (x->ticket ? pw_json_add_int(a, "ticket", x->ticket)
			     : cJSON_AddNullToObject(a, "ticket") != NULL) &&
		  pw_json_add_str(a, "track", "incident");
	char subject[400], body[1600], own[400];
	snprintf(subject, sizeof subject, "[patchwarden] %s is compromised: %zu similar hosts",
		 x->host, x->similar);
	if (x->ticket)
		snprintf(own, sizeof own,
			 "Its own ticket %" PRId64 " is on the incident track: 'patchwarden ticket "
			 "show %" PRId64 "'.",
			 x->ticket, x->ticket);
	else
		snprintf(own, sizeof own,
			 "It has no open finding, so no ticket of its own: handle it by the "
			 "incident process.");
	if (x->campaign)
		snprintf(body, sizeof body,
			 "%s was marked compromised by %s (%s).\n%s\n\nEmergency campaign %" PRId64
			 " was drafted for the %zu hosts of its category and OS release that "
			 "share one of its open findings. A manager or an operator confirms their "
			 "backups and starts it: 'patchwarden campaign show %" PRId64
			 "', then 'patchwarden campaign start %" PRId64 " --as YOUR-USER'.\n",
			 x->host, x->actor, x->note ? x->note : "no note", own, x->campaign,
			 x->similar, x->campaign, x->campaign);
	else
		snprintf(body, sizeof body,
			 "%s was marked compromised by %s (%s).\n%s\n\nNo other host of its "
			 "category and OS release shares one of its open findings: no campaign was "
			 "drafted.\n",
			 x->host, x->actor, x->note ? x->note : "no note", own);
	if (!rc)
		rc = incident_told(db, x->actor, "host.compromised", x->host, x->host_id,
				   ok ? a : NULL, subject, body, err);
	cJSON_Delete(a);
	return rc;
}

/* The compromised host's own ticket: its open one in a live campaign
 * (an emergency one first), else that of a new emergency campaign of the
 * host alone when it has open findings; 0 when neither. */
static pw_err incident_ticket(pw_db *db, int64_t host_id, const char *name, int64_t now,
			      int64_t *ticket, pw_error *err)
{
	pw_stmt *st;
	int64_t open = 0, campaign = 0;
	pw_err rc = pw_sql(db,
			   "SELECT COALESCE((SELECT t.id FROM tickets t JOIN campaigns c ON"
			   " c.id = t.campaign_id WHERE t.host_id = ? AND t.state = 'open' AND"
			   " c.state IN " LIVE_STATES
			   " ORDER BY c.emergency DESC, t.id DESC LIMIT 1),"
			   " 0)",
			   &st, err, "i", host_id);
	if (!rc)
		rc = pw_sql_int(st, ticket, err);
	if (rc || *ticket)
		return rc;
	rc = pw_sql(db, "SELECT count(*) FROM findings WHERE host_id = ? AND fixed_at IS NULL", &st,
		    err, "i", host_id);
	if (!rc)
		rc = pw_sql_int(st, &open, err);
	if (rc || !open)
		return rc;
	char cname[300];
	snprintf(cname, sizeof cname, "incident: %s", name);
	pw_campaign_spec s = {cname, "all", NULL, NULL, 0, true, -1};
	rc = pw_campaign_create_hosts(db, "system:policy", PW_ROLE_ADMIN, &s, &host_id, 1, now,
				      &campaign, err);
	if (!rc)
		rc = pw_sql(db, "SELECT ticket_id FROM campaign_hosts WHERE campaign_id = ?", &st,
			    err, "i", campaign);
	return rc ? rc : pw_sql_int(st, ticket, err);
}

pw_err pw_policy_compromised(pw_db *db, const char *actor, const char *host, const char *note,
			     int64_t now, int64_t *campaign, size_t *similar, int64_t *ticket,
			     pw_error *err)
{
	*campaign = 0;
	*ticket = 0;
	*similar = 0;
	pw_host h = PW_HOST_INIT;
	pw_err rc = pw_host_get_by_name(db, host, &h, err);
	if (rc)
		return rc;
	bool decommissioned = h.f[PW_HF_DECOMMISSIONED] != NULL;
	struct compromised x = {actor, NULL, note, h.id, 0, 0, 0, {0}};
	char category[64], os[64], release[64], name[256];
	const char *const v[] = {h.f[PW_HF_CATEGORY], h.f[PW_HF_OS_ID], h.f[PW_HF_OS_VERSION_ID],
				 h.f[PW_HF_HOSTNAME]};
	snprintf(category, sizeof category, "%s", v[0] ? v[0] : "");
	snprintf(os, sizeof os, "%s", v[1] ? v[1] : "");
	snprintf(release, sizeof release, "%s", v[2] ? v[2] : "");
	snprintf(name, sizeof name, "%s", v[3] ? v[3] : host);
	pw_host_release(&h);
	if (decommissioned)
		return pw_error_set(err, PW_ERR_CONFLICT,
				    "%s is decommissioned: it is out of service already", name);
	x.host = name;
	if (!category[0])
		return pw_error_set(err, PW_ERR_INVALID,
				    "%s has no category: set it ('patchwarden host set %s "
				    "category=...') so that its similar hosts can be found",
				    name, name);
	int64_t *ids = NULL;
	pw_stmt *st;
	rc = pw_sql(db,
		    "SELECT DISTINCT h.id FROM hosts h JOIN findings f ON f.host_id = h.id"
		    " AND f.fixed_at IS NULL WHERE h.id <> ? AND h.decommissioned IS NULL"
		    " AND h.category = ? AND h.os_id = ? AND h.os_version_id = ? AND f.advisory IN"
		    " (SELECT advisory FROM findings WHERE host_id = ? AND fixed_at IS NULL)"
		    " ORDER BY h.id",
		    &st, err, "ittti", x.host_id, category, os, release, x.host_id);
	if (!rc)
		rc = ids_read(st, &ids, &x.similar, err);
	char cname[300];
	snprintf(cname, sizeof cname, "incident: similar to %s", name);
	pw_campaign_spec s = {cname, "all", NULL, NULL, 0, true, -1};
	if (!rc && x.similar)
		rc = pw_campaign_create_hosts(db, "system:policy", PW_ROLE_ADMIN, &s, ids,
					      x.similar, now, &x.campaign, err);
	free(ids);
	if (!rc)
		rc = incident_ticket(db, x.host_id, name, now, &x.ticket, err);
	ts_of(now, x.when);
	if (!rc)
		rc = pw_in_write_txn(db, compromised_txn, &x, err);
	*campaign = x.campaign;
	*similar = x.similar;
	*ticket = x.ticket;
	return rc;
}

struct cleared {
	const char *actor, *host, *note;
	int64_t host_id;
	size_t tickets;
	char when[PW_TS_SECONDS_LEN];
};

static pw_err cleared_txn(pw_db *db, void *arg, pw_error *err)
{
	struct cleared *x = arg;
	pw_stmt *st;
	int64_t *ids = NULL;
	pw_err rc = pw_sql(db, "UPDATE hosts SET compromised = NULL WHERE id = ?", &st, err, "i",
			   x->host_id);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (!rc)
		rc = pw_sql(db,
			    "SELECT id FROM tickets WHERE host_id = ? AND track = 'incident'"
			    " ORDER BY id",
			    &st, err, "i", x->host_id);
	if (!rc)
		rc = ids_read(st, &ids, &x->tickets, err);
	for (size_t i = 0; i < x->tickets && !rc; i++)
		rc = ticket_track(db, ids[i], "regular", x->actor, "incident.cleared", x->note,
				  x->when, err);
	cJSON *a = cJSON_CreateObject(), *t = cJSON_AddArrayToObject(a, "tickets");
	bool ok = t && cJSON_AddNullToObject(a, "compromised") &&
		  pw_json_add_str(a, "note", x->note);
	for (size_t i = 0; ok && i < x->tickets; i++)
		ok = cJSON_AddItemToArray(t, cJSON_CreateNumber((double)ids[i]));
	free(ids);
	char subject[400], body[1200];
	snprintf(subject, sizeof subject, "[patchwarden] %s is no longer compromised", x->host);
	snprintf(body, sizeof body,
		 "%s was cleared of its compromise by %s (%s).\n\n%zu of its tickets left the "
		 "incident track; their history keeps it: 'patchwarden ticket list' and "
		 "'patchwarden ticket show ID'.\n",
		 x->host, x->actor, x->note ? x->note : "no note", x->tickets);
	if (!rc)
		rc = incident_told(db, x->actor, "host.compromised_cleared", x->host, x->host_id,
				   ok ? a : NULL, subject, body, err);
	cJSON_Delete(a);
	return rc;
}

pw_err pw_policy_compromise_clear(pw_db *db, const char *actor, const char *host, const char *note,
				  int64_t now, size_t *tickets, pw_error *err)
{
	*tickets = 0;
	pw_host h = PW_HOST_INIT;
	pw_err rc = pw_host_get_by_name(db, host, &h, err);
	if (rc)
		return rc;
	char name[256];
	snprintf(name, sizeof name, "%s", h.f[PW_HF_HOSTNAME] ? h.f[PW_HF_HOSTNAME] : host);
	struct cleared x = {actor, name, note, h.id, 0, {0}};
	pw_stmt *st;
	int64_t marked = 0;
	pw_host_release(&h);
	rc = pw_sql(db, "SELECT count(*) FROM hosts WHERE id = ? AND compromised IS NOT NULL", &st,
		    err, "i", x.host_id);
	if (!rc)
		rc = pw_sql_int(st, &marked, err);
	if (!rc && !marked)
		return pw_error_set(err, PW_ERR_CONFLICT,
				    "%s is not marked compromised: nothing to clear", name);
	ts_of(now, x.when);
	if (!rc)
		rc = pw_in_write_txn(db, cleared_txn, &x, err);
	*tickets = x.tickets;
	return rc;
}

/* When the last digest was recorded; "" when none. */
static pw_err last_digest(pw_db *db, char out[PW_TS_SECONDS_LEN], pw_error *err)
{
	pw_stmt *st;
	bool row = false;
	out[0] = '\0';
	pw_err rc = pw_sql(db, "SELECT max(started) FROM policy_runs WHERE kind = 'digest'", &st,
			   err, "");
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (!rc && row && pw_stmt_text(st, 0))
		snprintf(out, PW_TS_SECONDS_LEN, "%s", pw_stmt_text(st, 0));
	if (!rc)
		pw_stmt_reset(st);
	return rc;
}

/* The live campaign with an open finding of `advisory` on a host of
 * `group`; 0 when none. campaign_hosts.findings is a JSON array of ids
 * without spaces, so ",ID," finds one in both backends. */
static pw_err handling(pw_db *db, const char *group, const char *advisory, int64_t *id,
		       pw_error *err)
{
	pw_stmt *st;
	*id = 0;
	pw_err rc =
		pw_sql(db,
		       "SELECT COALESCE(min(c.id), 0) FROM campaigns c JOIN campaign_hosts ch"
		       " ON ch.campaign_id = c.id JOIN hosts h ON h.id = ch.host_id JOIN findings f"
		       " ON f.host_id = ch.host_id AND f.fixed_at IS NULL AND f.advisory = ?"
		       " WHERE c.state IN " LIVE_STATES " AND h.owner_group = ?"
		       " AND (',' || substr(ch.findings, 2, length(ch.findings) - 2) || ',')"
		       " LIKE ('%,' || CAST(f.id AS TEXT) || ',%')",
		       &st, err, "tt", advisory, group);
	return rc ? rc : pw_sql_int(st, id, err);
}

static pw_err digest_groups(pw_db *db, const char *since, cJSON *groups, pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(
		db,
		"SELECT h.owner_group, f.advisory, min(CASE f.priority WHEN 'emergency' THEN 0"
		" WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END), count(DISTINCT h.id)"
		" FROM findings f JOIN hosts h ON h.id = f.host_id WHERE f.fixed_at IS NULL"
		" AND h.decommissioned IS NULL AND h.owner_group IS NOT NULL AND f.first_seen >= ?"
		" GROUP BY h.owner_group, f.advisory ORDER BY 1, 3, 2",
		&st, err, "t", since);
	static const char *const prio[] = {"emergency", "high", "normal", "low"};
	cJSON *g = NULL, *adv = NULL;
	bool row = false;
	while (!rc && !(rc = pw_stmt_step(st, &row, err)) && row) {
		const char *group = pw_stmt_text(st, 0);
		if (!g || strcmp(cJSON_GetObjectItemCaseSensitive(g, "owner_group")->valuestring,
				 group) != 0) {
			g = cJSON_CreateObject();
			adv = cJSON_CreateArray();
			if (!g || !cJSON_AddItemToArray(groups, g) ||
			    !pw_json_add_str(g, "owner_group", group) || !adv ||
			    !cJSON_AddItemToObject(g, "advisories", adv))
				return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
		cJSON *a = cJSON_CreateObject();
		int64_t p = pw_stmt_int(st, 2);
		if (!a || !cJSON_AddItemToArray(adv, a) ||
		    !pw_json_add_str(a, "advisory", pw_stmt_text(st, 1)) ||
		    !pw_json_add_str(a, "priority", prio[p >= 0 && p < 4 ? p : 3]) ||
		    !pw_json_add_int(a, "hosts", pw_stmt_int(st, 3)))
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	/* The campaigns are looked up once the rows are read: one statement
	 * at a time per handle. */
	cJSON_ArrayForEach(g, groups) {
		const char *group = cJSON_GetObjectItemCaseSensitive(g, "owner_group")->valuestring;
		cJSON *a;
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(g, "advisories")) {
			int64_t id = 0;
			const char *name =
				cJSON_GetObjectItemCaseSensitive(a, "advisory")->valuestring;
			if (!rc)
				rc = handling(db, group, name, &id, err);
			if (!rc && !(id ? pw_json_add_int(a, "campaign", id)
					: cJSON_AddNullToObject(a, "campaign") != NULL))
				rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
	}
	return rc;
}

struct digest {
	cJSON *report;
	const char *as_of;
};

static pw_err digest_txn(pw_db *db, void *arg, pw_error *err)
{
	struct digest *d = arg;
	pw_err rc = PW_OK;
	const cJSON *g;
	const char *since = cJSON_GetObjectItemCaseSensitive(d->report, "since")->valuestring;
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(d->report, "groups")) {
		const char *group = cJSON_GetObjectItemCaseSensitive(g, "owner_group")->valuestring;
		const cJSON *adv = cJSON_GetObjectItemCaseSensitive(g, "advisories"), *a;
		char subject[400];
		snprintf(subject, sizeof subject,
			 "[patchwarden] %s: %d new advisories affect your hosts", group,
			 cJSON_GetArraySize(adv));
		size_t cap = 8192, len = 0;
		char *body = malloc(cap);
		if (!body)
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		len += (size_t)snprintf(body, cap,
					"New advisories on the hosts of %s since %s:\n\n", group,
					since);
		cJSON_ArrayForEach(a, adv) {
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "campaign");
			char handled[64];
			if (cJSON_IsNumber(c))
				snprintf(handled, sizeof handled, "campaign %" PRId64,
					 (int64_t)c->valuedouble);
			else
				snprintf(handled, sizeof handled, "no campaign yet");
			if (len < cap)
				len += (size_t)snprintf(
					body + len, cap - len, "  %-24s %-9s %3d hosts  %s\n",
					cJSON_GetObjectItemCaseSensitive(a, "advisory")
						->valuestring,
					cJSON_GetObjectItemCaseSensitive(a, "priority")
						->valuestring,
					(int)cJSON_GetObjectItemCaseSensitive(a, "hosts")
						->valuedouble,
					handled);
		}
		if (len < cap)
			snprintf(body + len, cap - len,
				 "\n'patchwarden findings --owner %s' lists the findings; "
				 "'patchwarden campaign show ID' a campaign.\n",
				 group);
		char *p = cJSON_PrintUnformatted(g);
		pw_notify_to to = {0, NULL, group};
		/* The group's hosts in the console: its name is text of the
		 * operators', so it is escaped into the link. */
		pw_buf link = PW_BUF_INIT;
		rc = p && !pw_buf_puts(&link, "/hosts?owner=") &&
				     !pw_notify_path_escape(&link, group)
			     ? pw_notify_enqueue(db, "policy.digest", &to, subject, body, p,
						 pw_buf_str(&link), err)
			     : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		pw_buf_release(&link);
		cJSON_free(p);
		free(body);
		if (rc)
			return rc;
	}
	char *json = cJSON_PrintUnformatted(d->report);
	pw_stmt *st;
	rc = json ? pw_sql(db,
			   "INSERT INTO policy_runs (started, kind, actor, report) VALUES (?, "
			   "'digest', 'system:policy', ?)",
			   &st, err, "tt", d->as_of, json)
		  : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (!rc)
		rc = pw_audit_append(db, "system:policy", "policy.digest", "policy", NULL, json,
				     NULL, err);
	cJSON_free(json);
	return rc;
}

pw_err pw_policy_digest(pw_db *db, const pw_policy_run_config *cfg, int64_t now, const char *since,
			bool dry_run, cJSON **report, pw_error *err)
{
	char asof[PW_TS_SECONDS_LEN], from[PW_TS_SECONDS_LEN];
	ts_of(now, asof);
	pw_err rc = PW_OK;
	if (since)
		snprintf(from, sizeof from, "%s", since);
	else if (!(rc = last_digest(db, from, err)) && !from[0])
		ts_of(now - (cfg->digest_days ? cfg->digest_days : 1) * 86400, from);
	cJSON *r = cJSON_CreateObject(), *groups = cJSON_CreateArray();
	*report = r;
	if (!rc && !(r && pw_json_add_str(r, "since", from) && pw_json_add_str(r, "as_of", asof) &&
		     cJSON_AddBoolToObject(r, "dry_run", dry_run) && groups &&
		     cJSON_AddItemToObject(r, "groups", groups)))
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = digest_groups(db, from, groups, err);
	struct digest d = {r, asof};
	if (!rc && !dry_run)
		rc = pw_in_write_txn(db, digest_txn, &d, err);
	return rc;
}

/* The daily run's digest: when digest_days have passed since the last
 * one (an hour's slack, so a run at the same time each day is on time). */
static pw_err digest_if_due(pw_db *db, const pw_policy_run_config *cfg, int64_t now, pw_error *err)
{
	char last[PW_TS_SECONDS_LEN], due[PW_TS_SECONDS_LEN];
	pw_err rc = last_digest(db, last, err);
	ts_of(now - cfg->digest_days * 86400 + 3600, due);
	if (rc || (last[0] && strcmp(last, due) > 0))
		return rc;
	cJSON *r = NULL;
	rc = pw_policy_digest(db, cfg, now, NULL, false, &r, err);
	cJSON_Delete(r);
	return rc;
}
