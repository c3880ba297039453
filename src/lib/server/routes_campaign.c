/* The campaign and ticket routes (campaigns.h): the same library calls
 * as `patchwarden campaign` and `patchwarden ticket`. Each step has its
 * own route row (routes.c), so the table says who may take it; the
 * handler reads the step from the path's last segment. */
#include <cjson/cJSON.h>

#include <stdint.h>
#include <string.h>

#include "patchwarden/campaigns.h"
#include "patchwarden/window.h"

#include "server-internal.h"

#define TEXT_MAX 4096

/* Replies with the JSON `o` built by a reader, or the reader's error. */
static void reply_read(struct pw_api_ctx *c, pw_err rc, cJSON *o, const pw_error *e)
{
	if (rc) {
		pw_api_fail(c, rc, e);
		return;
	}
	pw_api_reply(c, o);
}

/* A reader's array under `key`. */
static void reply_list(struct pw_api_ctx *c, pw_err rc, cJSON *arr, const char *key,
		       const pw_error *e)
{
	cJSON *o = rc ? NULL : cJSON_CreateObject();
	if (!rc && (!o || !cJSON_AddItemToObject(o, key, arr))) {
		cJSON_Delete(o);
		cJSON_Delete(arr);
		pw_api_oom(c);
		return;
	}
	reply_read(c, rc, o, e);
}

/* A refused step or creation: 403 for the wrong role (the message says
 * whose step it is), else as any library error. */
static void fail_step(struct pw_api_ctx *c, pw_err rc, const pw_error *e)
{
	if (rc == PW_ERR_AUTH)
		pw_api_error(c->resp, 403, "forbidden", "%s", pw_error_text(e));
	else
		pw_api_fail(c, rc, e);
}

void pw_h_campaigns(struct pw_api_ctx *c)
{
	cJSON *arr = NULL;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_campaign_list_json(c->env->db, &arr, &e);
	reply_list(c, rc, arr, "campaigns", &e);
}

void pw_h_campaign(struct pw_api_ctx *c)
{
	cJSON *o = NULL;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_campaign_show_json(c->env->db, c->id, &o, &e);
	reply_read(c, rc, o, &e);
}

/* "flow": "auto", "1", "2", 1 or 2. */
static bool body_flow(struct pw_api_ctx *c, int *flow)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->body, "flow");
	*flow = 0;
	if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !strcmp(v->valuestring, "auto")))
		return true;
	if (cJSON_IsString(v) && (!strcmp(v->valuestring, "1") || !strcmp(v->valuestring, "2")))
		*flow = v->valuestring[0] - '0';
	else if (cJSON_IsNumber(v) && (v->valuedouble == 1 || v->valuedouble == 2))
		*flow = (int)v->valuedouble;
	if (!*flow)
		pw_api_error(c->resp, 400, "bad_request", "\"flow\" must be \"auto\", 1 or 2");
	return *flow != 0;
}

void pw_h_campaign_create(struct pw_api_ctx *c)
{
	if (!pw_api_body_object(c))
		return;
	pw_campaign_spec s = {NULL, NULL, NULL, NULL, 0, false, -1};
	const cJSON *em = cJSON_GetObjectItemCaseSensitive(c->body, "emergency");
	if (em && !cJSON_IsBool(em)) {
		pw_api_error(c->resp, 400, "bad_request", "\"emergency\" must be true or false");
		return;
	}
	s.emergency = cJSON_IsTrue(em);
	const cJSON *dry = cJSON_GetObjectItemCaseSensitive(c->body, "dry_run");
	if (dry && !cJSON_IsBool(dry)) {
		pw_api_error(c->resp, 400, "bad_request", "\"dry_run\" must be true or false");
		return;
	}
	if (!pw_api_body_str(c, c->body, "name", true, 128, &s.name) ||
	    !pw_api_body_str(c, c->body, "hosts", true, TEXT_MAX, &s.hosts) ||
	    !pw_api_body_str(c, c->body, "findings", false, TEXT_MAX, &s.findings) ||
	    !pw_api_body_str(c, c->body, "upgrades", false, TEXT_MAX, &s.upgrades) ||
	    !pw_api_body_int(c, c->body, "soak_seconds", false, 0, 366 * 86400, &s.soak_seconds) ||
	    !body_flow(c, &s.flow))
		return;
	if (!cJSON_GetObjectItemCaseSensitive(c->body, "soak_seconds"))
		s.soak_seconds = -1;
	int64_t id = 0;
	pw_error e = PW_ERROR_INIT;
	if (cJSON_IsTrue(dry)) {
		cJSON *plan = NULL;
		pw_err rc = pw_campaign_plan(c->env->db, &s, &plan, &e);
		if (rc) {
			fail_step(c, rc, &e);
			return;
		}
		pw_api_reply(c, plan);
		/* Nothing was created. */
		c->resp->status = 200;
		return;
	}
	pw_err rc = pw_campaign_create(c->env->db, c->who->actor, c->who->user.role, &s,
				       pw_window_now(), &id, &e);
	if (rc) {
		fail_step(c, rc, &e);
		return;
	}
	c->id = id;
	pw_h_campaign(c);
}

static const char *last_segment(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* The step's body: "host", "note" (or "reason" for a decline), the risk
 * assessment, "expires" (sign-off) or "recheck" (countermeasure). */
static bool read_step(struct pw_api_ctx *c, pw_campaign_step *s)
{
	const char *reason = NULL, *expires = NULL, *recheck = NULL;
	pw_risk_assessment *r = &s->risk;
	if (c->body && !pw_api_body_object(c))
		return false;
	const cJSON *b = c->body;
	bool ok = !b ||
		  (pw_api_body_str(c, b, "host", false, 256, &s->host) &&
		   pw_api_body_str(c, b, "note", false, TEXT_MAX, &s->note) &&
		   pw_api_body_str(c, b, "reason", false, TEXT_MAX, &reason) &&
		   pw_api_body_str(c, b, "data_value", false, 16, &r->data_value) &&
		   pw_api_body_str(c, b, "threat_frequency", false, 16, &r->threat_frequency) &&
		   pw_api_body_str(c, b, "impact", false, 16, &r->impact) &&
		   pw_api_body_str(c, b, "cost_benefit", false, TEXT_MAX, &r->cost_benefit) &&
		   pw_api_body_str(c, b, "expires", false, 32, &expires) &&
		   pw_api_body_str(c, b, "recheck", false, 32, &recheck));
	if (reason)
		s->note = reason;
	s->until = expires ? expires : recheck;
	return ok;
}

void pw_h_campaign_step(struct pw_api_ctx *c)
{
	pw_campaign_step s = {c->who->actor, c->who->user.role,        c->id, PW_CA__COUNT,   NULL,
			      NULL,          {NULL, NULL, NULL, NULL}, NULL,  pw_window_now()};
	if (!pw_campaign_action_parse(last_segment(c->route->path), &s.action) ||
	    s.action >= PW_CA__STEPS) {
		pw_api_error(c->resp, 404, "not_found", "no such campaign step");
		return;
	}
	if (!read_step(c, &s))
		return;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_campaign_step_apply(c->env->db, &s, &e);
	if (rc) {
		fail_step(c, rc, &e);
		return;
	}
	pw_h_campaign(c);
}

void pw_h_tickets(struct pw_api_ctx *c)
{
	int64_t campaign, host;
	if (!pw_api_query_int(c, "campaign", 0, 1, INT64_MAX, &campaign) ||
	    !pw_api_query_int(c, "host", 0, 1, INT64_MAX, &host))
		return;
	if (campaign && host) {
		pw_api_error(c->resp, 400, "bad_request", "give campaign or host, not both");
		return;
	}
	cJSON *arr = NULL;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = host ? pw_ticket_list_host_json(c->env->db, host, &arr, &e)
			 : pw_ticket_list_json(c->env->db, campaign, &arr, &e);
	reply_list(c, rc, arr, "tickets", &e);
}

void pw_h_ticket(struct pw_api_ctx *c)
{
	cJSON *o = NULL;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_ticket_show_json(c->env->db, c->id, &o, &e);
	reply_read(c, rc, o, &e);
}
