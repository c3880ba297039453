/* Planning and creating a campaign (campaigns.h): the hosts of the
 * filter, their flows, waves and selected findings, then one
 * transaction that stores the campaign, a ticket per host and the
 * tickets' first events. */
#include <cjson/cJSON.h>

#include <stdlib.h>
#include <string.h>

#include "patchwarden/audit.h"
#include "patchwarden/campaign_select.h"
#include "patchwarden/campaigns.h"
#include "patchwarden/jobs.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/sql.h"
#include "patchwarden/text.h"

#include "campaign-internal.h"

#define PAGE 1000

struct plan_host {
	const pw_host *h;
	int flow, wave;
	cJSON *findings; /* finding ids */
};

static bool wanted(const pw_campaign_select *s, const char *package)
{
	for (size_t i = 0; i < s->n_packages; i++)
		if (!strcmp(s->packages[i], package))
			return true;
	return !s->n_packages;
}

/* The ids of host_id's open findings the selection takes, into ids. */
static pw_err host_findings(pw_db *db, const pw_campaign_select *s, int64_t host_id, cJSON *ids,
			    pw_error *err)
{
	pw_finding_filter f = s->f;
	f.host_id = host_id;
	f.host = (pw_host_filter)PW_HOST_FILTER_INIT;
	f.host.decom = PW_HOST_ANY;
	for (int64_t after = 0;;) {
		pw_finding_list l = PW_FINDING_LIST_INIT;
		pw_err rc = pw_finding_page(db, &f, after, PAGE, &l, err);
		for (size_t i = 0; !rc && i < l.n; i++)
			if (wanted(s, l.v[i].package) &&
			    !cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)l.v[i].id)))
				rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		size_t n = l.n;
		after = n ? l.v[n - 1].id : after;
		pw_finding_list_release(&l);
		if (rc || n < PAGE)
			return rc;
	}
}

static int criticality(const pw_host *h)
{
	/* Unknown criticality goes last: nobody said it may be patched early. */
	const char *c = h->f[PW_HF_CRITICALITY];
	return c ? (int)strtol(c, NULL, 10) : 6;
}

static bool is_test(const pw_host *h)
{
	const char *e = h->f[PW_HF_ENVIRONMENT];
	return e && !strcmp(e, "test");
}

static const char *text_or_empty(const char *s)
{
	return s ? s : "";
}

/* Test environment first, then least critical first, then category,
 * then name (seed 000's staged rollout). */
static int wave_order(const void *a, const void *b)
{
	const pw_host *x = ((const struct plan_host *)a)->h, *y = ((const struct plan_host *)b)->h;
	if (is_test(x) != is_test(y))
		return is_test(x) ? -1 : 1;
	if (criticality(x) != criticality(y))
		return criticality(x) - criticality(y);
	int c = strcmp(text_or_empty(x->f[PW_HF_CATEGORY]), text_or_empty(y->f[PW_HF_CATEGORY]));
	return c ? c : strcmp(x->f[PW_HF_HOSTNAME], y->f[PW_HF_HOSTNAME]);
}

/* One wave for the test hosts, then one per (criticality, category). */
static void number_waves(struct plan_host *v, size_t n)
{
	qsort(v, n, sizeof *v, wave_order);
	for (size_t i = 0; i < n; i++) {
		const pw_host *h = v[i].h, *p = i ? v[i - 1].h : NULL;
		bool same = p && is_test(h) == is_test(p) &&
			    (is_test(h) || (criticality(h) == criticality(p) &&
					    !strcmp(text_or_empty(h->f[PW_HF_CATEGORY]),
						    text_or_empty(p->f[PW_HF_CATEGORY]))));
		v[i].wave = !p ? 1 : same ? v[i - 1].wave : v[i - 1].wave + 1;
	}
}

static pw_err place(const pw_campaign_spec *s, struct plan_host *p, pw_error *err)
{
	const char *cat = p->h->f[PW_HF_CATEGORY];
	p->flow = s->flow ? s->flow : pw_campaign_flow_of(cat);
	if (!p->flow)
		return pw_error_set(err, PW_ERR_INVALID,
				    "%s has %s%s%s: set it ('host set %s category=web') or give "
				    "--flow 1 or 2",
				    p->h->f[PW_HF_HOSTNAME], cat ? "category " : "no category",
				    cat ? cat : "", cat ? ", which no flow takes" : "",
				    p->h->f[PW_HF_HOSTNAME]);
	return PW_OK;
}

/* The host's plan entry; it takes p->findings over. */
static cJSON *plan_host_json(struct plan_host *p)
{
	const pw_host *h = p->h;
	cJSON *o = cJSON_CreateObject();
	bool ok = o && pw_json_add_int(o, "host_id", h->id) &&
		  pw_json_add_str(o, "hostname", h->f[PW_HF_HOSTNAME]) &&
		  pw_json_add_int(o, "flow", p->flow) && pw_json_add_int(o, "wave", p->wave) &&
		  pw_json_add_str(o, "environment", h->f[PW_HF_ENVIRONMENT]) &&
		  pw_json_add_str(o, "category", h->f[PW_HF_CATEGORY]) &&
		  pw_json_add_str(o, "app_owner", h->f[PW_HF_APP_OWNER]) &&
		  (h->f[PW_HF_CRITICALITY] ? pw_json_add_int(o, "criticality", criticality(h))
					   : cJSON_AddNullToObject(o, "criticality") != NULL);
	if (!ok || !cJSON_AddItemToObject(o, "findings", p->findings)) {
		cJSON_Delete(o);
		return NULL;
	}
	p->findings = NULL;
	return o;
}

/* The hosts a campaign may take: all (only NULL), or those listed. */
struct only {
	const int64_t *ids;
	size_t n;
};

static bool taken(const struct only *only, int64_t id)
{
	for (size_t i = 0; only->ids && i < only->n; i++)
		if (only->ids[i] == id)
			return true;
	return !only->ids;
}

static pw_err plan_hosts(pw_db *db, const pw_campaign_spec *s, const pw_campaign_select *sel,
			 const pw_host_list *hosts, const struct only *only, cJSON *out,
			 pw_error *err)
{
	struct plan_host *v = calloc(hosts->n ? hosts->n : 1, sizeof *v);
	size_t n = 0;
	int64_t snapshot = 0;
	pw_err rc = v ? PW_OK : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	for (size_t i = 0; !rc && i < hosts->n; i++) {
		if (!taken(only, hosts->v[i].id))
			continue;
		struct plan_host p = {&hosts->v[i], 0, 0, cJSON_CreateArray()};
		rc = p.findings ? place(s, &p, err)
				: pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		if (!rc)
			rc = host_findings(db, sel, p.h->id, p.findings, err);
		if (rc || !cJSON_GetArraySize(p.findings)) {
			cJSON_Delete(p.findings);
			continue;
		}
		v[n++] = p;
		snapshot = p.h->findings_snapshot > snapshot ? p.h->findings_snapshot : snapshot;
	}
	if (!rc && !n)
		rc = pw_error_set(err, PW_ERR_INVALID,
				  "no host of the filter has an open finding the selection takes: "
				  "nothing to patch");
	number_waves(v, n);
	cJSON *arr = rc ? NULL : cJSON_AddArrayToObject(out, "hosts");
	for (size_t i = 0; !rc && i < n; i++)
		if (!arr || !cJSON_AddItemToArray(arr, plan_host_json(&v[i])))
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc && !pw_json_add_int(out, "feed_snapshot", snapshot))
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(v[i].findings);
	free(v);
	return rc;
}

static cJSON *plan_head(const pw_campaign_spec *s)
{
	static const char *const flows[] = {"auto", "1", "2"};
	cJSON *o = cJSON_CreateObject(), *sel = cJSON_CreateObject();
	bool ok = o && sel && cJSON_AddItemToObject(o, "selection", sel);
	if (!ok)
		cJSON_Delete(sel);
	ok = ok && pw_json_add_str(o, "name", s->name) &&
	     pw_json_add_str(o, "flow", flows[s->flow % 3]) &&
	     cJSON_AddBoolToObject(o, "emergency", s->emergency) &&
	     pw_json_add_int(o, "soak_seconds",
			     s->soak_seconds < 0 ? PW_CAMPAIGN_SOAK_DEFAULT : s->soak_seconds) &&
	     pw_json_add_str(sel, "hosts", s->hosts) &&
	     pw_json_add_str(sel, "findings", s->findings) &&
	     pw_json_add_str(sel, "upgrades", s->upgrades);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static pw_err check_spec(const pw_campaign_spec *s, pw_error *err)
{
	if (!s->name || !*s->name || !pw_text_ok(s->name, 128))
		return pw_error_set(err, PW_ERR_INVALID,
				    "a campaign needs a name: 1 to 128 printable characters");
	if (s->flow < 0 || s->flow > 2)
		return pw_error_set(err, PW_ERR_INVALID, "the flow is auto, 1 or 2");
	return PW_OK;
}

static pw_err plan(pw_db *db, const pw_campaign_spec *s, const struct only *only, cJSON **out,
		   pw_error *err)
{
	*out = NULL;
	pw_err rc = check_spec(s, err);
	if (rc)
		return rc;
	pw_campaign_select sel;
	pw_host_list hosts = PW_HOST_LIST_INIT;
	rc = pw_campaign_select_parse(s->hosts, s->findings, s->upgrades, &sel, err);
	if (!rc)
		rc = pw_host_list_query(db, &sel.f.host, &hosts, err);
	cJSON *o = rc ? NULL : plan_head(s);
	if (!rc && !o)
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = plan_hosts(db, s, &sel, &hosts, only, o, err);
	pw_host_list_release(&hosts);
	pw_campaign_select_release(&sel);
	if (rc) {
		cJSON_Delete(o);
		return rc;
	}
	*out = o;
	return PW_OK;
}

pw_err pw_campaign_plan(pw_db *db, const pw_campaign_spec *s, cJSON **out, pw_error *err)
{
	struct only all = {NULL, 0};
	return plan(db, s, &all, out, err);
}

/* ---- storing it --------------------------------------------------------- */

struct create {
	const char *actor;
	const cJSON *plan;
	char now[PW_TS_LEN];
	int64_t id;
};

static const char *member_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t member_int(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static pw_err store_campaign(pw_db *db, struct create *c, pw_error *err)
{
	const cJSON *p = c->plan;
	char *sel = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(p, "selection"));
	pw_stmt *st;
	pw_err rc =
		sel ? pw_sql(db,
			     "INSERT INTO campaigns (name, flow, emergency, soak_seconds, state,"
			     " snapshot, selection, created, created_by, updated)"
			     " VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?) RETURNING id",
			     &st, err, "ttiiitttt", member_str(p, "name"), member_str(p, "flow"),
			     (int64_t)cJSON_IsTrue(
				     cJSON_GetObjectItemCaseSensitive(p, "emergency")),
			     member_int(p, "soak_seconds"), member_int(p, "feed_snapshot"), sel,
			     c->now, c->actor, c->now)
		    : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	cJSON_free(sel);
	return rc ? rc : pw_sql_int(st, &c->id, err);
}

static pw_err store_host(pw_db *db, struct create *c, const cJSON *h, pw_error *err)
{
	int64_t ticket = 0;
	int flow = (int)member_int(h, "flow");
	const char *env = member_str(h, "environment");
	const cJSON *crit = cJSON_GetObjectItemCaseSensitive(h, "criticality");
	char *findings = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(h, "findings"));
	const char *next = pw_chost_next_actor(PW_CH_AWAITING_BACKUP, flow);
	pw_stmt *st;
	pw_err rc = findings ? pw_sql(db,
				      "INSERT INTO tickets (campaign_id, host_id, hostname, state,"
				      " next_actor, created) VALUES (?, ?, ?, 'open', ?, ?)"
				      " RETURNING id",
				      &st, err, "iittt", c->id, member_int(h, "host_id"),
				      member_str(h, "hostname"), next, c->now)
			     : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = pw_sql_int(st, &ticket, err);
	if (!rc)
		rc = pw_sql(
			db,
			"INSERT INTO campaign_hosts (campaign_id, host_id, hostname, flow, wave,"
			" category, app_owner, test_env, criticality, state, findings,"
			" ticket_id, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			&st, err, "iitiittiittit", c->id, member_int(h, "host_id"),
			member_str(h, "hostname"), (int64_t)flow, member_int(h, "wave"),
			member_str(h, "category"), member_str(h, "app_owner"),
			(int64_t)(env && !strcmp(env, "test")),
			cJSON_IsNumber(crit) ? (int64_t)crit->valuedouble : (int64_t)0,
			pw_chost_state_name(PW_CH_AWAITING_BACKUP), findings, ticket, c->now);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	/* Notifying them is issue 14's; the ticket says who is to be told. */
	struct ticket_event e = {ticket,
				 c->now,
				 c->actor,
				 "open",
				 "ticket opened with the findings to patch; the help desk and the "
				 "users are to be notified",
				 findings,
				 PW_CH_AWAITING_BACKUP,
				 PW_CH_AWAITING_BACKUP,
				 NULL};
	if (!rc)
		rc = pw_campaign_ticket_event(db, &e, err);
	cJSON_free(findings);
	return rc;
}

static pw_err create_txn(pw_db *db, void *arg, pw_error *err)
{
	struct create *c = arg;
	pw_err rc = pw_audit_serialize(db, err);
	if (!rc)
		rc = store_campaign(db, c, err);
	const cJSON *h;
	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(c->plan, "hosts")) {
		if (!rc)
			rc = store_host(db, c, h, err);
	}
	return rc ? rc : pw_campaign_audit(db, c->actor, "campaign.create", c->id, c->plan, err);
}

static pw_err check_creator(pw_role role, bool emergency, pw_error *err)
{
	/* The manager decides emergencies (seed 001), so may start one. */
	unsigned may = (1u << PW_ROLE_ADMIN) | (1u << PW_ROLE_MANAGER) |
		       (emergency ? 0 : 1u << PW_ROLE_OPERATOR);
	if ((unsigned)role < PW_ROLE__COUNT && (may & (1u << role)))
		return PW_OK;
	char who[64];
	pw_campaign_roles_text(may, who, sizeof who);
	return pw_error_set(err, PW_ERR_AUTH, "%s campaign is created by the %s; you are %s",
			    emergency ? "an emergency" : "a", who,
			    (unsigned)role < PW_ROLE__COUNT ? pw_role_name(role) : "the system");
}

static pw_err create(pw_db *db, const char *actor, pw_role role, const pw_campaign_spec *s,
		     const struct only *only, int64_t now, int64_t *id, pw_error *err)
{
	cJSON *p = NULL;
	pw_err rc = check_creator(role, s->emergency, err);
	if (!rc)
		rc = plan(db, s, only, &p, err);
	struct create c = {actor, p, {0}, 0};
	pw_job_ts(now, c.now);
	if (!rc)
		rc = pw_in_write_txn(db, create_txn, &c, err);
	cJSON_Delete(p);
	if (!rc && id)
		*id = c.id;
	return rc;
}

pw_err pw_campaign_create(pw_db *db, const char *actor, pw_role role, const pw_campaign_spec *s,
			  int64_t now, int64_t *id, pw_error *err)
{
	struct only all = {NULL, 0};
	return create(db, actor, role, s, &all, now, id, err);
}

pw_err pw_campaign_create_hosts(pw_db *db, const char *actor, pw_role role,
				const pw_campaign_spec *s, const int64_t *host_ids, size_t n,
				int64_t now, int64_t *id, pw_error *err)
{
	struct only these = {host_ids, n};
	return create(db, actor, role, s, &these, now, id, err);
}
