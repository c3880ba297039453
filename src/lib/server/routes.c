/* THE route table of the HTTP/JSON API and its handlers. Adding a route
 * here adds it to the server, to docs/api.md and to the authorization
 * test; the table says who may call it, how big its body may be and
 * which audit event it writes. Handlers work through the library
 * (users.h, agents.h, checkin.h, jobs.h, hosts.h, audit.h, db.h), which
 * writes the audit events in the transaction of each change: handlers
 * run no SQL of their own. */
#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/agents.h"
#include "patchwarden/audit.h"
#include "patchwarden/checkin.h"
#include "patchwarden/coverage.h"
#include "patchwarden/exposure.h"
#include "patchwarden/host_csv.h"
#include "patchwarden/summary.h"
#include "patchwarden/host_findings.h"
#include "patchwarden/upgrades.h"
#include "patchwarden/hosts.h"
#include "patchwarden/jobkind.h"
#include "patchwarden/jobs.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/metrics.h"
#include "patchwarden/policy_run.h"
#include "patchwarden/schema.h"
#include "patchwarden/text.h"
#include "patchwarden/window.h"

#include "server-internal.h"

#define KiB 1024u
#define MiB (1024u * 1024u)

/* Most results one check-in may carry; agents send the rest next time. */
#define CHECKIN_MAX_RESULTS 1000
#define LIST_MAX 1000
#define LIST_DEFAULT 100

/* ---- small JSON helpers ---------------------------------------------- */

static bool add_next(cJSON *o, size_t got, int64_t limit, int64_t last)
{
	if ((int64_t)got < limit)
		return cJSON_AddNullToObject(o, "next_after") != NULL;
	return pw_json_add_int(o, "next_after", last);
}

/* What a list route answers: {"host_id"?, KEY: [items], "next_after"?}. */
struct list_reply {
	const char *key;
	const void *v;
	size_t n, size;
	cJSON *(*item)(const void *item);
	int64_t host_id; /* 0: not one host's list */
	int64_t limit;   /* 0: not paged */
	int64_t last;    /* the page's cursor when it is full */
};

/* A list_reply's items: the list `l`'s, under `key`, each by `item`. */
#define LIST_OF(key_, l, item_)                                                                    \
	.key = (key_), .v = (l).v, .n = (l).n, .size = sizeof *(l).v, .item = (item_)

/* The list read with `rc`, or the failure; the caller releases the list. */
static void reply_list(struct pw_api_ctx *c, pw_err rc, pw_error *e, const struct list_reply *r)
{
	if (rc) {
		pw_api_fail(c, rc, e);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	bool ok = o && (!r->host_id || pw_json_add_int(o, "host_id", r->host_id)) &&
		  pw_json_add_array(o, r->key, r->v, r->n, r->size, r->item) &&
		  (!r->limit || add_next(o, r->n, r->limit, r->last));
	if (!ok) {
		cJSON_Delete(o);
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

/* Adapters of the records' serialisers for pw_json_add_array. */
static cJSON *host_item(const void *item)
{
	return pw_host_to_json(item);
}

static cJSON *job_item(const void *item)
{
	return pw_job_to_json(item);
}

static cJSON *user_item(const void *item)
{
	return pw_user_to_json(item);
}

static cJSON *enroll_token_item(const void *item)
{
	return pw_enroll_token_to_json(item);
}

static cJSON *api_token_item(const void *item)
{
	return pw_api_token_to_json(item);
}

static cJSON *event_item(const void *item)
{
	return pw_audit_event_to_json(item);
}

/* ---- public ------------------------------------------------------------ */

static void h_health(struct pw_api_ctx *c)
{
	pw_error e = PW_ERROR_INIT;
	if (pw_db_ping(c->env->db, &e)) {
		pw_api_error(c->resp, 503, "unavailable",
			     "the server cannot reach its database; try again shortly");
		c->resp->detail = e;
		return;
	}
	cJSON *o = cJSON_CreateObject();
	bool pg = pw_db_kind_of(c->env->db) == PW_DB_POSTGRES;
	if (!o || !pw_json_add_str(o, "status", "ok") ||
	    !pw_json_add_str(o, "version", PW_VERSION) ||
	    !pw_json_add_str(o, "database", pg ? "postgresql" : "sqlite") ||
	    !pw_json_add_int(o, "schema", pw_schema_version())) {
		cJSON_Delete(o);
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

static void h_live(struct pw_api_ctx *c)
{
	cJSON *o = cJSON_CreateObject();
	if (!o || !pw_json_add_str(o, "status", "live") ||
	    !pw_json_add_str(o, "version", PW_VERSION)) {
		cJSON_Delete(o);
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

static void h_ready(struct pw_api_ctx *c)
{
	pw_error e = PW_ERROR_INIT;
	if (pw_schema_ready(c->env->db, &e)) {
		pw_api_error(c->resp, 503, "unavailable", "not ready: %s", e.msg);
		c->resp->detail = e;
		return;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !pw_json_add_str(o, "status", "ready") ||
	    !pw_json_add_int(o, "schema", pw_schema_version())) {
		cJSON_Delete(o);
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

static void h_me(struct pw_api_ctx *c)
{
	const pw_principal *p = &c->who->user;
	cJSON *o = cJSON_CreateObject();
	if (!o || !pw_json_add_int(o, "user_id", p->user_id) ||
	    !pw_json_add_str(o, "name", p->name) ||
	    !pw_json_add_str(o, "role", pw_role_name(p->role)) ||
	    !pw_json_add_int(o, "token_id", p->token_id)) {
		cJSON_Delete(o);
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

/* ---- agents ------------------------------------------------------------ */

static void h_enroll(struct pw_api_ctx *c)
{
	if (!pw_api_body_object(c))
		return;
	pw_enroll_request r = {0};
	const cJSON *os = cJSON_GetObjectItemCaseSensitive(c->body, "os");
	if (os && !cJSON_IsNull(os) && !cJSON_IsObject(os)) {
		pw_api_error(c->resp, 400, "bad_request", "\"os\" must be an object");
		return;
	}
	if (!pw_api_body_str(c, c->body, "token", true, PW_ENROLL_TOKEN_MAX, &r.token) ||
	    !pw_api_body_str(c, c->body, "hostname", true, 1024, &r.hostname) ||
	    !pw_api_body_str(c, c->body, "machine_id", true, 1024, &r.machine_id) ||
	    !pw_api_body_str(c, c->body, "arch", false, 1024, &r.arch) ||
	    !pw_api_body_str(c, os, "id", false, 1024, &r.os_id) ||
	    !pw_api_body_str(c, os, "version_id", false, 1024, &r.os_version_id) ||
	    !pw_api_body_str(c, os, "codename", false, 1024, &r.os_codename) ||
	    !pw_api_body_str(c, os, "pretty_name", false, 1024, &r.os_pretty_name) ||
	    !pw_api_body_str(c, c->body, "credential", false, PW_CREDENTIAL_MAX, &r.credential))
		return;
	pw_enrollment en;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_agent_enroll(c->env->db, &r, &en, &e);
	if (rc) {
		pw_api_fail(c, rc, &e);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !pw_json_add_str(o, "agent_id", en.agent_id) ||
	    !pw_json_add_str(o, "credential", en.credential) ||
	    !pw_json_add_int(o, "host_id", en.host_id) ||
	    !pw_json_add_int(o, "checkin_interval", c->env->settings->checkin_interval) ||
	    !cJSON_AddBoolToObject(o, "rekeyed", en.rekeyed) ||
	    !cJSON_AddBoolToObject(o, "adopted", en.adopted) ||
	    !cJSON_AddBoolToObject(o, "pending", en.pending)) {
		cJSON_Delete(o);
		pw_api_oom(c);
	} else {
		pw_api_reply(c, o);
	}
	memset(&en, 0, sizeof en);
}

/* The check-in's results, read from the body; output texts are owned. */
struct results {
	pw_job_result *v;
	char **out;
	size_t n;
};

static void results_release(struct results *r)
{
	for (size_t i = 0; i < r->n; i++)
		cJSON_free(r->out[i]);
	free(r->v);
	free(r->out);
}

static bool read_result(struct pw_api_ctx *c, const cJSON *o, size_t i, struct results *r)
{
	pw_job_result *x = &r->v[i];
	if (!cJSON_IsObject(o)) {
		pw_api_error(c->resp, 400, "bad_request", "results[%zu] must be an object", i);
		return false;
	}
	x->has_exit_code = cJSON_GetObjectItemCaseSensitive(o, "exit_code") != NULL;
	if (!pw_api_body_int(c, o, "job_id", true, 1, INT64_MAX, &x->job_id) ||
	    !pw_api_body_int(c, o, "seq", true, 1, INT64_MAX, &x->seq) ||
	    !pw_api_body_str(c, o, "status", true, 16, &x->status) ||
	    !pw_api_body_str(c, o, "started", false, 64, &x->started) ||
	    !pw_api_body_str(c, o, "finished", false, 64, &x->finished) ||
	    !pw_api_body_int(c, o, "exit_code", false, INT32_MIN, INT32_MAX, &x->exit_code))
		return false;
	const cJSON *out = cJSON_GetObjectItemCaseSensitive(o, "output");
	if (out && !cJSON_IsNull(out)) {
		r->out[i] = cJSON_PrintUnformatted(out);
		if (!r->out[i]) {
			pw_api_oom(c);
			return false;
		}
		x->output_json = r->out[i];
	}
	return true;
}

static bool read_results(struct pw_api_ctx *c, struct results *r)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(c->body, "results");
	if (!a || cJSON_IsNull(a))
		return true;
	if (!cJSON_IsArray(a)) {
		pw_api_error(c->resp, 400, "bad_request", "\"results\" must be an array");
		return false;
	}
	size_t n = (size_t)cJSON_GetArraySize(a);
	if (n > CHECKIN_MAX_RESULTS) {
		pw_api_error(c->resp, 400, "bad_request",
			     "a check-in carries at most %d results; send the rest with the next "
			     "check-in",
			     CHECKIN_MAX_RESULTS);
		return false;
	}
	if (!n)
		return true;
	r->v = calloc(n, sizeof *r->v);
	r->out = calloc(n, sizeof *r->out);
	if (!r->v || !r->out) {
		pw_api_oom(c);
		return false;
	}
	r->n = n;
	size_t i = 0;
	for (const cJSON *o = a->child; o; o = o->next, i++)
		if (!read_result(c, o, i, r))
			return false;
	return true;
}

/* The hot path: built by hand, without a cJSON tree. */
static pw_err checkin_reply(pw_buf *b, const pw_checkin_reply *rep, int64_t interval)
{
	pw_err rc = pw_buf_puts(b, "{\"ack\":[");
	for (size_t i = 0; i < rep->n_ack && !rc; i++)
		rc = pw_buf_printf(b, "%s%" PRId64, i ? "," : "", rep->ack[i]);
	if (!rc)
		rc = pw_buf_puts(b, "],\"conflict\":[");
	for (size_t i = 0; i < rep->n_conflict && !rc; i++)
		rc = pw_buf_printf(b, "%s%" PRId64, i ? "," : "", rep->conflict[i]);
	if (!rc)
		rc = pw_buf_printf(b, "],\"seq_high\":%" PRId64 ",\"need_inventory\":%s,\"jobs\":[",
				   rep->seq_high, rep->need_inventory ? "true" : "false");
	for (size_t i = 0; i < rep->n_jobs && !rc; i++) {
		const pw_job_offer *j = &rep->jobs[i];
		rc = pw_buf_printf(b, "%s{\"job_id\":%" PRId64 ",\"kind\":", i ? "," : "", j->id);
		if (!rc)
			rc = pw_api_json_str(b, j->kind);
		if (!rc)
			rc = pw_buf_printf(b, ",\"args\":%s}", j->args_json ? j->args_json : "{}");
	}
	if (!rc)
		rc = pw_buf_printf(b, "],\"checkin_interval\":%" PRId64 "}", interval);
	return rc;
}

/* "inventory_refused": the agent's inventory got a 413; the limit that
 * applied is the server's own, told back to the operator. */
static bool read_refusal(struct pw_api_ctx *c, pw_inventory_refusal *r, bool *present)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(c->body, "inventory_refused");
	*present = o && !cJSON_IsNull(o);
	if (!*present)
		return true;
	if (!cJSON_IsObject(o)) {
		pw_api_error(c->resp, 400, "bad_request",
			     "\"inventory_refused\" must be an object");
		return false;
	}
	if (!pw_api_body_int(c, o, "size", true, 1, INT64_MAX, &r->size) ||
	    !pw_api_body_int(c, o, "sent", true, 1, INT64_MAX, &r->sent) ||
	    !pw_api_body_str(c, o, "encoding", true, 16, &r->encoding) ||
	    !pw_api_body_str(c, o, "at", true, 64, &r->at))
		return false;
	size_t wire = c->route->body_max;
	bool gzip = !strcmp(r->encoding, "gzip");
	/* Compressed but still over the wire limit: that limit refused it. */
	r->limit = (int64_t)(gzip && (size_t)r->sent <= wire ? c->env->settings->inflated_max
							     : wire);
	return true;
}

/* "release": job ids the agent gives back; *ids is the caller's to free. */
static bool read_release(struct pw_api_ctx *c, int64_t **ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(c->body, "release");
	if (!a || cJSON_IsNull(a))
		return true;
	size_t k = cJSON_IsArray(a) ? (size_t)cJSON_GetArraySize(a) : 0;
	if (!cJSON_IsArray(a) || k > PW_CHECKIN_MAX_RELEASE) {
		pw_api_error(c->resp, 400, "bad_request",
			     "\"release\" must be an array of at most %d job ids",
			     PW_CHECKIN_MAX_RELEASE);
		return false;
	}
	if (!k)
		return true;
	if (!(*ids = calloc(k, sizeof **ids))) {
		pw_api_oom(c);
		return false;
	}
	for (const cJSON *x = a->child; x; x = x->next) {
		double v = cJSON_IsNumber(x) ? x->valuedouble : 0;
		if (v < 1 || v > 9007199254740991.0 || v != (double)(int64_t)v) {
			pw_api_error(c->resp, 400, "bad_request",
				     "release[%zu] must be a positive job id", *n);
			return false;
		}
		(*ids)[(*n)++] = (int64_t)x->valuedouble;
	}
	return true;
}

static void h_checkin(struct pw_api_ctx *c)
{
	if (!pw_api_body_object(c))
		return;
	/* A copy: pw_agent_checkin uses up the check-in state that
	 * authentication read along with the credential. */
	pw_agent agent = c->who->agent, *ag = &agent;
	const char *agent_id;
	pw_checkin q = PW_CHECKIN_INIT;
	if (!pw_api_body_str(c, c->body, "agent_id", false, PW_AGENT_ID_MAX, &agent_id) ||
	    !pw_api_body_str(c, c->body, "inventory_hash", true, 64, &q.inventory_hash))
		return;
	if (agent_id && strcmp(agent_id, ag->id) != 0) {
		pw_api_error(c->resp, 403, "forbidden",
			     "agent_id %s is not the agent of this credential (%s)", agent_id,
			     ag->id);
		return;
	}
	const cJSON *inv = cJSON_GetObjectItemCaseSensitive(c->body, "inventory");
	if (inv && !cJSON_IsNull(inv) && !cJSON_IsObject(inv)) {
		pw_api_error(c->resp, 400, "bad_request", "\"inventory\" must be an object");
		return;
	}
	q.inventory = cJSON_IsObject(inv) ? inv : NULL;
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(c->body, "runtime");
	if (rt && !cJSON_IsNull(rt) && !cJSON_IsObject(rt)) {
		pw_api_error(c->resp, 400, "bad_request", "\"runtime\" must be an object");
		return;
	}
	q.runtime = cJSON_IsObject(rt) ? rt : NULL;
	struct results r = {0};
	pw_checkin_reply rep = PW_CHECKIN_REPLY_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = PW_OK;
	pw_inventory_refusal refusal = {0, 0, NULL, NULL, 0};
	bool refused = false;
	int64_t *release = NULL;
	if (!read_results(c, &r) || !read_refusal(c, &refusal, &refused) ||
	    !read_release(c, &release, &q.n_release))
		goto out;
	q.refused = refused ? &refusal : NULL;
	q.release = release;
	q.results = r.v;
	q.n_results = r.n;
	q.lease_seconds = c->env->settings->job_lease;
	rc = pw_agent_checkin(c->env->db, ag, &q, &rep, &e);
	if (rc) {
		pw_api_fail(c, rc, &e);
		goto out;
	}
	if (rep.inventory_changed && c->env->findings_stale)
		c->env->findings_stale(c->env->hook_ctx, ag->host_id);
	pw_buf b = PW_BUF_INIT;
	if (checkin_reply(&b, &rep, c->env->settings->checkin_interval)) {
		pw_buf_release(&b);
		pw_api_oom(c);
	} else {
		pw_api_reply_buf(c, &b);
	}
out:
	pw_checkin_reply_release(&rep);
	results_release(&r);
	free(release);
}

/* ---- hosts and jobs ---------------------------------------------------- */

/* The filters of `patchwarden host list` and export-csv as query
 * parameters named like its options; the library checks their values. */
static bool query_filter(struct pw_api_ctx *c, pw_host_filter *f)
{
	*f = (pw_host_filter)PW_HOST_FILTER_INIT;
	f->category = pw_api_query_str(c, "category");
	f->exposure = pw_api_query_str(c, "exposure");
	f->environment = pw_api_query_str(c, "environment");
	f->owner_group = pw_api_query_str(c, "owner");
	const char *overdue = pw_api_query_str(c, "overdue");
	int64_t crit, stale;
	if (!pw_api_query_int(c, "criticality", 0, 1, 5, &crit) ||
	    !pw_api_query_int(c, "stale", 0, 1, 100000, &stale))
		return false;
	if (overdue && strcmp(overdue, "true") != 0 && strcmp(overdue, "false") != 0) {
		pw_api_error(c->resp, 400, "bad_request",
			     "query parameter overdue must be true or false");
		return false;
	}
	f->overdue = overdue && !strcmp(overdue, "true");
	const char *decom = pw_api_query_str(c, "decommissioned");
	if (decom && !pw_host_decom_parse(decom, &f->decom)) {
		pw_api_error(c->resp, 400, "bad_request",
			     "query parameter decommissioned must be true, false or any");
		return false;
	}
	f->min_criticality = (int)crit;
	f->stale_days = stale;
	return true;
}

/* What the hosts' coverage is judged against, from the settings: the
 * feed store and the staleness. */
static void coverage_config(const pw_api_env *env, pw_findings_config *fc)
{
	memset(fc, 0, sizeof *fc);
	fc->store = env->settings->feed_store;
	fc->checkin_interval = (long)env->settings->checkin_interval;
	fc->stale_checkins = (long)env->settings->stale_checkins;
}

pw_err pw_api_coverage_load(const pw_api_env *env, pw_coverage_ctx *cov, pw_error *e)
{
	pw_findings_config fc;
	coverage_config(env, &fc);
	return pw_coverage_load(env->db, &fc, cov, e);
}

/* The coverage and SLA rules of the summary and the metrics. */
static void summary_config(const struct pw_api_ctx *c, pw_findings_config *fc)
{
	memset(fc, 0, sizeof *fc);
	fc->store = c->env->settings->feed_store;
	fc->checkin_interval = (long)c->env->settings->checkin_interval;
	fc->stale_checkins = (long)c->env->settings->stale_checkins;
	pw_policy_defaults(&fc->policy);
	for (int p = 0; p < PW_PRIO__COUNT && p < 4; p++)
		if (c->env->settings->sla_days[p] >= 0)
			fc->policy.sla_days[p] = c->env->settings->sla_days[p];
}

static void h_metrics(struct pw_api_ctx *c)
{
	pw_findings_config fc;
	summary_config(c, &fc);
	pw_buf text = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_metrics_render(c->env->metrics, c->env->db, &fc, &text, &e);
	if (rc) {
		pw_buf_release(&text);
		pw_api_fail(c, rc, &e);
		return;
	}
	pw_api_reply_buf(c, &text);
}

static void h_summary(struct pw_api_ctx *c)
{
	pw_findings_config fc;
	summary_config(c, &fc);
	pw_fleet_summary s;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_fleet_summary_get(c->env->db, &fc, &s, &e);
	if (rc) {
		pw_api_fail(c, rc, &e);
		return;
	}
	cJSON *o = pw_fleet_summary_to_json(&s);
	if (!o) {
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

static void h_hosts(struct pw_api_ctx *c)
{
	int64_t after, limit;
	pw_host_filter f;
	if (!pw_api_query_int(c, "after", 0, 0, INT64_MAX, &after) ||
	    !pw_api_query_int(c, "limit", LIST_DEFAULT, 1, LIST_MAX, &limit) ||
	    !query_filter(c, &f))
		return;
	pw_host_list l = PW_HOST_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_coverage_ctx cov = PW_COVERAGE_CTX_INIT;
	pw_err rc = pw_api_coverage_load(c->env, &cov, &e);
	if (!rc)
		rc = pw_host_page(c->env->db, &f, after, limit, &l, &e);
	pw_host_list_coverage_set(&cov, &l);
	pw_coverage_ctx_release(&cov);
	reply_list(c, rc, &e,
		   &(struct list_reply){LIST_OF("hosts", l, host_item), .limit = limit,
					.last = l.n ? l.v[l.n - 1].id : after});
	pw_host_list_release(&l);
}

/* Replies with host c->id as `host show --json` prints it, or fails. */
static void reply_host(struct pw_api_ctx *c)
{
	pw_host h = PW_HOST_INIT;
	pw_error e = PW_ERROR_INIT;
	cJSON *j = NULL;
	pw_coverage_ctx cov = PW_COVERAGE_CTX_INIT;
	pw_err rc = pw_api_coverage_load(c->env, &cov, &e);
	if (!rc)
		rc = pw_host_get(c->env->db, c->id, &h, &e);
	if (!rc)
		pw_host_coverage_set(&cov, &h);
	pw_coverage_ctx_release(&cov);
	if (!rc)
		rc = pw_host_show_json(c->env->db, &h, &j, &e);
	pw_host_release(&h);
	if (rc) {
		pw_api_fail(c, rc, &e);
		return;
	}
	pw_api_reply(c, j);
}

static void h_host(struct pw_api_ctx *c)
{
	reply_host(c);
}

/* "hostname, location, ..., ticket": the fields a caller may set. */
static const char *editable_list(char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int f = 0; f < PW_HF__EDITABLE && len < size; f++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", f ? ", " : "",
					pw_host_field_name((pw_host_field)f));
	return buf;
}

/* One member of a PATCH body as an assignment; false after a 400 naming
 * it. Criticality may be a number, any field null (cleared). */
static bool read_assign(struct pw_api_ctx *c, const cJSON *m, pw_host_assign *a, char num[24])
{
	char list[256];
	pw_host_field f;
	if (!pw_host_field_parse(m->string, &f) || strcmp(pw_host_field_name(f), m->string) != 0) {
		pw_api_error(c->resp, 400, "bad_request", "%.*s is not a host field; fields: %s",
			     pw_utf8_prefix(m->string, 80), m->string,
			     editable_list(list, sizeof list));
		return false;
	}
	if (f >= PW_HF__EDITABLE) {
		pw_api_error(c->resp, 400, "bad_request",
			     "%s is reported by the host's agent and cannot be set; fields: %s",
			     m->string, editable_list(list, sizeof list));
		return false;
	}
	a->field = f;
	if (cJSON_IsString(m)) {
		a->value = m->valuestring;
	} else if (cJSON_IsNull(m)) {
		a->value = "";
	} else if (f == PW_HF_CRITICALITY && cJSON_IsNumber(m) && m->valuedouble >= 1 &&
		   m->valuedouble <= 5 && m->valuedouble == (double)(int)m->valuedouble) {
		snprintf(num, 24, "%d", (int)m->valuedouble);
		a->value = num;
	} else {
		pw_api_error(c->resp, 400, "bad_request", "%s must be %s or null (to clear it)",
			     m->string,
			     f == PW_HF_CRITICALITY ? "a whole number from 1 to 5" : "a string");
		return false;
	}
	return true;
}

static void h_host_patch(struct pw_api_ctx *c)
{
	if (!pw_api_body_object(c))
		return;
	pw_host_assign a[PW_HF__EDITABLE];
	char num[24];
	size_t n = 0;
	const cJSON *m;
	cJSON_ArrayForEach(m, c->body) {
		if (n == PW_HF__EDITABLE) { /* only a field named twice gets here */
			pw_api_error(c->resp, 400, "bad_request", "%.*s is given twice",
				     pw_utf8_prefix(m->string, 80), m->string);
			return;
		}
		if (!read_assign(c, m, &a[n++], num))
			return;
	}
	char list[256];
	if (!n) {
		pw_api_error(c->resp, 400, "bad_request",
			     "the body names no field to change; fields: %s",
			     editable_list(list, sizeof list));
		return;
	}
	char ref[32];
	snprintf(ref, sizeof ref, "id:%" PRId64, c->id);
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_host_set(c->env->db, c->who->actor, ref, a, n, NULL, &e);
	if (rc) {
		pw_api_fail(c, rc, &e);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (a[i].field == PW_HF_EXPOSURE && c->env->findings_stale)
			c->env->findings_stale(c->env->hook_ctx, c->id);
	reply_host(c);
}

/* Replies {"host_id", key: true} plus the host as it is now, or fails. */
static void reply_lifecycle(struct pw_api_ctx *c, pw_err rc, pw_error *e, const char *key)
{
	if (rc) {
		pw_api_fail(c, rc, e);
		return;
	}
	pw_host h = PW_HOST_INIT;
	pw_error e2 = PW_ERROR_INIT;
	cJSON *o = cJSON_CreateObject();
	cJSON *j = NULL;
	rc = pw_host_get(c->env->db, c->id, &h, &e2);
	if (!rc)
		j = pw_host_to_json(&h);
	pw_host_release(&h);
	if (rc && rc != PW_ERR_NOTFOUND) {
		cJSON_Delete(o);
		pw_api_fail(c, rc, &e2);
		return;
	}
	if (!o || !pw_json_add_int(o, "host_id", c->id) || !cJSON_AddTrueToObject(o, key) ||
	    (j ? !cJSON_AddItemToObject(o, "host", j) : !cJSON_AddNullToObject(o, "host"))) {
		if (!o || !cJSON_GetObjectItem(o, "host"))
			cJSON_Delete(j);
		cJSON_Delete(o);
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

static void id_ref(const struct pw_api_ctx *c, char ref[32])
{
	snprintf(ref, 32, "id:%" PRId64, c->id);
}

/* A host's lifecycle change: its optional note from the body, and its
 * reference by id. False when the body was refused (answered). */
static bool note_and_ref(struct pw_api_ctx *c, const char **note, char ref[32])
{
	if (c->body &&
	    (!pw_api_body_object(c) || !pw_api_body_str(c, c->body, "note", false, 1024, note)))
		return false;
	id_ref(c, ref);
	return true;
}

static void h_host_decommission(struct pw_api_ctx *c)
{
	const char *note = NULL;
	char ref[32];
	if (!note_and_ref(c, &note, ref))
		return;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_host_decommission(c->env->db, c->who->actor, ref, note, NULL, &e);
	reply_lifecycle(c, rc, &e, "decommissioned");
}

static void h_host_compromised(struct pw_api_ctx *c)
{
	const char *note = NULL;
	char ref[32];
	if (!note_and_ref(c, &note, ref))
		return;
	pw_error e = PW_ERROR_INIT;
	int64_t campaign = 0, ticket = 0;
	size_t similar = 0;
	pw_err rc = pw_policy_compromised(c->env->db, c->who->actor, ref, note, pw_window_now(),
					  &campaign, &similar, &ticket, &e);
	if (rc) {
		pw_api_fail(c, rc, &e);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !pw_json_add_int(o, "host_id", c->id) ||
	    !cJSON_AddTrueToObject(o, "compromised") ||
	    !(campaign ? pw_json_add_int(o, "campaign", campaign)
		       : cJSON_AddNullToObject(o, "campaign") != NULL) ||
	    !pw_json_add_int(o, "similar_hosts", (int64_t)similar) ||
	    !(ticket ? pw_json_add_int(o, "ticket", ticket)
		     : cJSON_AddNullToObject(o, "ticket") != NULL)) {
		cJSON_Delete(o);
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

static void h_host_compromise_clear(struct pw_api_ctx *c)
{
	const char *note = NULL;
	char ref[32];
	if (!note_and_ref(c, &note, ref))
		return;
	pw_error e = PW_ERROR_INIT;
	size_t tickets = 0;
	pw_err rc = pw_policy_compromise_clear(c->env->db, c->who->actor, ref, note,
					       pw_window_now(), &tickets, &e);
	if (rc) {
		pw_api_fail(c, rc, &e);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !pw_json_add_int(o, "host_id", c->id) ||
	    !cJSON_AddFalseToObject(o, "compromised") ||
	    !pw_json_add_int(o, "incident_tickets_cleared", (int64_t)tickets)) {
		cJSON_Delete(o);
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

static void h_host_delete(struct pw_api_ctx *c)
{
	char ref[32];
	id_ref(c, ref);
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_host_delete(c->env->db, c->who->actor, ref, &e);
	reply_lifecycle(c, rc, &e, "deleted");
}

static void h_host_revoke_agent(struct pw_api_ctx *c)
{
	char ref[32];
	id_ref(c, ref);
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_host_revoke_agent(c->env->db, c->who->actor, ref, &e);
	reply_lifecycle(c, rc, &e, "agent_revoked");
}

static void h_hosts_import(struct pw_api_ctx *c)
{
	pw_host_import_stats st;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_host_import_csv(c->env->db, c->who->actor, "csv", c->text, c->text_len, &st,
				       &e);
	if (rc == PW_ERR_PARSE || rc == PW_ERR_INVALID) {
		pw_api_error(c->resp, 400, "bad_request", "%s; nothing was imported", e.msg);
		return;
	}
	if (rc) {
		pw_api_fail(c, rc, &e);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !pw_json_add_int(o, "rows", (int64_t)st.rows) ||
	    !pw_json_add_int(o, "created", (int64_t)st.created) ||
	    !pw_json_add_int(o, "updated", (int64_t)st.updated) ||
	    !pw_json_add_int(o, "unchanged", (int64_t)st.unchanged)) {
		cJSON_Delete(o);
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

static void h_hosts_export(struct pw_api_ctx *c)
{
	pw_host_filter f;
	if (!query_filter(c, &f))
		return;
	pw_buf csv = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_host_export_csv(c->env->db, &f, &csv, &e);
	if (rc) {
		pw_buf_release(&csv);
		pw_api_fail(c, rc, &e);
		return;
	}
	pw_api_reply_buf(c, &csv);
}

static void h_host_jobs(struct pw_api_ctx *c)
{
	int64_t after, limit;
	if (!pw_api_query_int(c, "after", 0, 0, INT64_MAX, &after) ||
	    !pw_api_query_int(c, "limit", LIST_DEFAULT, 1, LIST_MAX, &limit))
		return;
	pw_job_list l = PW_JOB_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_job_page(c->env->db, c->id, after, limit, &l, &e);
	reply_list(c, rc, &e,
		   &(struct list_reply){LIST_OF("jobs", l, job_item), .host_id = c->id,
					.limit = limit, .last = l.n ? l.v[l.n - 1].id : after});
	pw_job_list_release(&l);
}

/* Replies with job `job` (of host `host`, 0: any) and its output. */
static void reply_job(struct pw_api_ctx *c, int64_t host, int64_t job)
{
	pw_job j;
	char *output = NULL;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_job_get(c->env->db, host, job, &j, &output, &e);
	if (rc) {
		pw_api_fail(c, rc, &e);
		return;
	}
	cJSON *o = pw_job_show_json(&j, output);
	pw_job_release(&j);
	free(output);
	if (!o) {
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

static void h_job(struct pw_api_ctx *c)
{
	reply_job(c, 0, c->id);
}

static void h_host_job(struct pw_api_ctx *c)
{
	reply_job(c, c->id, c->sub_id);
}

/* ---- findings -------------------------------------------------------- */

/* The findings' query parameters: theirs and the hosts' filters. */
static bool finding_query(struct pw_api_ctx *c, pw_finding_filter *f)
{
	*f = (pw_finding_filter)PW_FINDING_FILTER_INIT;
	if (!query_filter(c, &f->host))
		return false;
	f->priority = pw_api_query_str(c, "priority");
	f->state = pw_api_query_str(c, "state");
	f->package = pw_api_query_str(c, "package");
	f->cve = pw_api_query_str(c, "cve");
	f->advisory = pw_api_query_str(c, "advisory");
	f->due_before = pw_api_query_str(c, "due_before");
	const char *kev = pw_api_query_str(c, "kev");
	if (kev && strcmp(kev, "true") != 0 && strcmp(kev, "false") != 0) {
		pw_api_error(c->resp, 400, "bad_request",
			     "query parameter kev must be true or false");
		return false;
	}
	f->kev = !kev ? 0 : !strcmp(kev, "true") ? 1 : -1;
	return true;
}

static void reply_findings(struct pw_api_ctx *c, int64_t host_id)
{
	int64_t after, limit;
	pw_finding_filter f;
	if (!pw_api_query_int(c, "after", 0, 0, INT64_MAX, &after) ||
	    !pw_api_query_int(c, "limit", LIST_DEFAULT, 1, LIST_MAX, &limit) ||
	    !finding_query(c, &f))
		return;
	f.host_id = host_id;
	pw_finding_list l = PW_FINDING_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = PW_OK;
	if (host_id) { /* 404 for a host that does not exist */
		pw_host h = PW_HOST_INIT;
		rc = pw_host_get(c->env->db, host_id, &h, &e);
		pw_host_release(&h);
	}
	if (!rc)
		rc = pw_finding_page(c->env->db, &f, after, limit, &l, &e);
	pw_coverage_ctx cov = PW_COVERAGE_CTX_INIT; /* the feed snapshot of the report head */
	if (!rc)
		rc = pw_api_coverage_load(c->env, &cov, &e);
	if (rc) {
		pw_finding_list_release(&l);
		pw_api_fail(c, rc, &e);
		return;
	}
	cJSON *o = pw_finding_report_json(&l, cov.snapshot, cov.created);
	pw_coverage_ctx_release(&cov);
	bool ok = o && add_next(o, l.n, limit, l.n ? l.v[l.n - 1].id : after);
	pw_finding_list_release(&l);
	if (!ok) {
		cJSON_Delete(o);
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

static void h_findings(struct pw_api_ctx *c)
{
	reply_findings(c, 0);
}

static void h_host_findings(struct pw_api_ctx *c)
{
	reply_findings(c, c->id);
}

/* ---- exposure to a CVE or an advisory ----------------------------------- */

static void reply_exposure(struct pw_api_ctx *c, pw_vuln_kind kind)
{
	pw_host_filter f;
	if (!query_filter(c, &f))
		return;
	pw_findings_config fc;
	coverage_config(c->env, &fc);
	pw_vuln_exposure x;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_vuln_exposure_get(c->env->db, &fc, kind, c->name, &f, &x, &e);
	if (rc) {
		pw_api_fail(c, rc, &e);
		return;
	}
	cJSON *o = pw_exposure_to_json(&x);
	pw_vuln_exposure_release(&x);
	if (!o) {
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

static void h_cve(struct pw_api_ctx *c)
{
	reply_exposure(c, PW_VULN_CVE);
}

static void h_advisory(struct pw_api_ctx *c)
{
	reply_exposure(c, PW_VULN_ADVISORY);
}

static cJSON *upgrade_item(const void *item)
{
	return pw_upgrade_to_json(item);
}

static void h_host_upgrades(struct pw_api_ctx *c)
{
	pw_upgrade_list l = PW_UPGRADE_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_host_upgrades(c->env->db, c->id, &l, &e);
	reply_list(c, rc, &e,
		   &(struct list_reply){LIST_OF("upgrades", l, upgrade_item), .host_id = c->id});
	pw_upgrade_list_release(&l);
}

static cJSON *fleet_upgrade_item(const void *item)
{
	return pw_fleet_upgrade_to_json(item);
}

static void h_upgrades(struct pw_api_ctx *c)
{
	pw_host_filter f;
	if (!query_filter(c, &f))
		return;
	pw_fleet_upgrade_list l = PW_FLEET_UPGRADE_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_fleet_upgrades(c->env->db, &f, &l, &e);
	reply_list(c, rc, &e, &(struct list_reply){LIST_OF("upgrades", l, fleet_upgrade_item)});
	pw_fleet_upgrade_list_release(&l);
}

static void h_host_rekey(struct pw_api_ctx *c)
{
	if (!pw_api_body_object(c))
		return;
	const cJSON *ap = cJSON_GetObjectItemCaseSensitive(c->body, "approve");
	if (!cJSON_IsBool(ap)) {
		pw_api_error(c->resp, 400, "bad_request",
			     "\"approve\" must be true (approve the waiting re-key) or false "
			     "(refuse it)");
		return;
	}
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_agent_rekey_decide(c->env->db, c->who->actor, c->id, cJSON_IsTrue(ap), &e);
	if (rc) {
		pw_api_fail(c, rc, &e);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !pw_json_add_int(o, "host_id", c->id) ||
	    !cJSON_AddBoolToObject(o, "approved", cJSON_IsTrue(ap))) {
		cJSON_Delete(o);
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

static void h_job_create(struct pw_api_ctx *c)
{
	if (!pw_api_body_object(c))
		return;
	const char *kind;
	if (!pw_api_body_str(c, c->body, "kind", true, 32, &kind))
		return;
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(c->body, "args");
	if (args && !cJSON_IsNull(args) && !cJSON_IsObject(args)) {
		pw_api_error(c->resp, 400, "bad_request", "\"args\" must be an object");
		return;
	}
	char *text = cJSON_IsObject(args) ? cJSON_PrintUnformatted(args) : NULL;
	if (cJSON_IsObject(args) && !text) {
		pw_api_oom(c);
		return;
	}
	pw_error e = PW_ERROR_INIT;
	pw_job_request rq = {c->who->actor, pw_role_name(c->who->user.role), c->id, kind, text};
	pw_job_queued q;
	pw_err rc = pw_job_queue(c->env->db, &rq, &q, &e);
	cJSON_free(text);
	if (rc == PW_ERR_AUTH) {
		pw_api_error(c->resp, 403, "forbidden", "%s", pw_error_text(&e));
		return;
	}
	if (rc) {
		pw_api_fail(c, rc, &e);
		return;
	}
	cJSON *o = pw_job_queued_to_json(&q, c->id, kind);
	if (!o) {
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

/* ---- users and tokens -------------------------------------------------- */

static void h_users(struct pw_api_ctx *c)
{
	pw_user_list l = PW_USER_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_user_list_all(c->env->db, &l, &e);
	reply_list(c, rc, &e, &(struct list_reply){LIST_OF("users", l, user_item)});
	pw_user_list_release(&l);
}

static void h_user_add(struct pw_api_ctx *c)
{
	if (!pw_api_body_object(c))
		return;
	const char *name, *role_name, *password;
	if (!pw_api_body_str(c, c->body, "name", true, PW_USER_NAME_MAX, &name) ||
	    !pw_api_body_str(c, c->body, "role", true, 32, &role_name) ||
	    !pw_api_body_str(c, c->body, "password", false, PW_PASSWORD_MAX, &password))
		return;
	pw_role role;
	if (!pw_role_parse(role_name, &role)) {
		pw_api_error(c->resp, 400, "bad_request",
			     "\"role\" must be admin, operator, app-owner, manager, helpdesk or "
			     "auditor");
		return;
	}
	pw_error e = PW_ERROR_INIT;
	int64_t id = 0;
	pw_err rc = pw_user_add(c->env->db, c->who->actor, name, role, password, &id, &e);
	if (rc) {
		pw_api_fail(c, rc, &e);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !pw_json_add_int(o, "id", id) || !pw_json_add_str(o, "name", name) ||
	    !pw_json_add_str(o, "role", pw_role_name(role))) {
		cJSON_Delete(o);
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

/* The name of user c->id, from *l (which it fills); PW_ERR_NOTFOUND
 * when there is none. */
static pw_err user_by_id(struct pw_api_ctx *c, pw_user_list *l, const char **name, pw_error *e)
{
	pw_err rc = pw_user_list_all(c->env->db, l, e);
	*name = NULL;
	for (size_t i = 0; !rc && i < l->n; i++)
		if (l->v[i].id == c->id)
			*name = l->v[i].name;
	if (!rc && !*name)
		rc = pw_error_set(e, PW_ERR_NOTFOUND, "there is no user %" PRId64, c->id);
	return rc;
}

static void h_user_token(struct pw_api_ctx *c)
{
	if (!pw_api_body_object(c))
		return;
	const char *label;
	int64_t ttl = 0;
	if (!pw_api_body_str(c, c->body, "label", true, 128, &label) ||
	    !pw_api_body_int(c, c->body, "ttl_seconds", false, 0, INT64_MAX, &ttl))
		return;
	pw_user_list l = PW_USER_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	const char *name = NULL;
	pw_err rc = user_by_id(c, &l, &name, &e);
	char token[PW_API_TOKEN_MAX];
	int64_t id = 0;
	if (!rc)
		rc = pw_api_token_create(c->env->db, c->who->actor, name, label, ttl, token, &id,
					 &e);
	cJSON *o = rc ? NULL : cJSON_CreateObject();
	if (!rc && (!o || !pw_json_add_int(o, "id", id) || !pw_json_add_str(o, "token", token) ||
		    !pw_json_add_str(o, "user", name) || !pw_json_add_str(o, "label", label))) {
		cJSON_Delete(o);
		o = NULL;
		rc = pw_error_set(&e, PW_ERR_NOMEM, "out of memory");
	}
	pw_user_list_release(&l);
	if (rc)
		pw_api_fail(c, rc, &e);
	else
		pw_api_reply(c, o);
}

/* After a change of user c->id (rc: its result), replies with the
 * user's record as it is now. */
static void reply_user(struct pw_api_ctx *c, pw_err rc, pw_error *e)
{
	pw_user_list l = PW_USER_LIST_INIT;
	const char *name;
	if (!rc)
		rc = user_by_id(c, &l, &name, e);
	cJSON *o = NULL;
	for (size_t i = 0; !rc && i < l.n; i++)
		if (l.v[i].id == c->id && !(o = pw_user_to_json(&l.v[i])))
			rc = pw_error_set(e, PW_ERR_NOMEM, "out of memory");
	pw_user_list_release(&l);
	if (rc)
		pw_api_fail(c, rc, e);
	else
		pw_api_reply(c, o);
}

/* Disables or enables user c->id and replies with the user's record. */
static void user_disabled(struct pw_api_ctx *c, bool disabled)
{
	pw_user_list l = PW_USER_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	const char *name;
	pw_err rc = user_by_id(c, &l, &name, &e);
	if (!rc)
		rc = pw_user_set_disabled(c->env->db, c->who->actor, name, disabled, &e);
	pw_user_list_release(&l);
	reply_user(c, rc, &e);
}

static void h_user_disable(struct pw_api_ctx *c)
{
	user_disabled(c, true);
}

static void h_user_enable(struct pw_api_ctx *c)
{
	user_disabled(c, false);
}

static void h_user_role(struct pw_api_ctx *c)
{
	if (!pw_api_body_object(c))
		return;
	const char *role_name;
	pw_role role;
	if (!pw_api_body_str(c, c->body, "role", true, 32, &role_name))
		return;
	if (!pw_role_parse(role_name, &role)) {
		pw_api_error(c->resp, 400, "bad_request",
			     "\"role\" must be admin, operator, app-owner, manager, helpdesk or "
			     "auditor");
		return;
	}
	pw_user_list l = PW_USER_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	const char *name;
	pw_err rc = user_by_id(c, &l, &name, &e);
	if (!rc)
		rc = pw_user_set_role(c->env->db, c->who->actor, name, role, &e);
	pw_user_list_release(&l);
	reply_user(c, rc, &e);
}

static void h_tokens(struct pw_api_ctx *c)
{
	const char *user = pw_api_query_str(c, "user");
	pw_api_token_list l = PW_API_TOKEN_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_api_token_list_all(c->env->db, user && *user ? user : NULL, &l, &e);
	reply_list(c, rc, &e, &(struct list_reply){LIST_OF("tokens", l, api_token_item)});
	pw_api_token_list_release(&l);
}

/* Whether token c->id is the caller's own. */
static pw_err own_token(struct pw_api_ctx *c, bool *own, pw_error *e)
{
	pw_api_token_list l = PW_API_TOKEN_LIST_INIT;
	pw_err rc = pw_api_token_list_all(c->env->db, c->who->user.name, &l, e);
	*own = false;
	for (size_t i = 0; !rc && i < l.n; i++)
		*own = *own || l.v[i].id == c->id;
	pw_api_token_list_release(&l);
	return rc;
}

static void h_token_revoke(struct pw_api_ctx *c)
{
	pw_error e = PW_ERROR_INIT;
	bool own = true;
	pw_err rc = c->who->user.role == PW_ROLE_ADMIN ? PW_OK : own_token(c, &own, &e);
	if (!rc && !own) {
		pw_api_error(c->resp, 403, "forbidden",
			     "token %" PRId64 " is not yours: only an admin revokes another "
			     "user's token",
			     c->id);
		return;
	}
	if (!rc)
		rc = pw_api_token_revoke(c->env->db, c->who->actor, c->id, &e);
	if (rc == PW_ERR_INVALID) { /* revoked before */
		pw_api_error(c->resp, 409, "conflict", "%s", e.msg);
		return;
	}
	if (rc) {
		pw_api_fail(c, rc, &e);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !pw_json_add_int(o, "id", c->id) || !cJSON_AddTrueToObject(o, "revoked")) {
		cJSON_Delete(o);
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

static void h_etokens(struct pw_api_ctx *c)
{
	pw_enroll_token_list l = PW_ENROLL_TOKEN_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_enroll_token_list_all(c->env->db, &l, &e);
	reply_list(c, rc, &e, &(struct list_reply){LIST_OF("enroll_tokens", l, enroll_token_item)});
	pw_enroll_token_list_release(&l);
}

static void h_etoken_create(struct pw_api_ctx *c)
{
	if (!pw_api_body_object(c))
		return;
	const char *label;
	int64_t uses = 1, ttl = 86400;
	if (!pw_api_body_str(c, c->body, "label", true, 128, &label) ||
	    !pw_api_body_int(c, c->body, "uses", false, 1, INT64_MAX, &uses) ||
	    !pw_api_body_int(c, c->body, "ttl_seconds", false, 1, INT64_MAX, &ttl))
		return;
	char token[PW_ENROLL_TOKEN_MAX];
	int64_t id = 0;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_enroll_token_create(c->env->db, c->who->actor, label, uses, ttl, token, &id,
					   &e);
	if (rc) {
		pw_api_fail(c, rc, &e);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !pw_json_add_int(o, "id", id) || !pw_json_add_str(o, "token", token) ||
	    !pw_json_add_str(o, "label", label) || !pw_json_add_int(o, "uses", uses) ||
	    !pw_json_add_int(o, "ttl_seconds", ttl)) {
		cJSON_Delete(o);
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

static void h_etoken_revoke(struct pw_api_ctx *c)
{
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_enroll_token_revoke(c->env->db, c->who->actor, c->id, &e);
	if (rc == PW_ERR_INVALID) { /* revoked before */
		pw_api_error(c->resp, 409, "conflict", "%s", e.msg);
		return;
	}
	if (rc) {
		pw_api_fail(c, rc, &e);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !pw_json_add_int(o, "id", c->id) || !cJSON_AddTrueToObject(o, "revoked")) {
		cJSON_Delete(o);
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

/* ---- audit ------------------------------------------------------------- */

static void h_audit(struct pw_api_ctx *c)
{
	int64_t after, limit;
	if (!pw_api_query_int(c, "after", 0, 0, INT64_MAX, &after) ||
	    !pw_api_query_int(c, "limit", LIST_DEFAULT, 1, LIST_MAX, &limit))
		return;
	pw_audit_list l = PW_AUDIT_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_audit_read(c->env->db, after, (size_t)limit, &l, &e);
	reply_list(c, rc, &e,
		   &(struct list_reply){LIST_OF("events", l, event_item), .limit = limit,
					.last = l.n ? l.v[l.n - 1].id : after});
	pw_audit_list_release(&l);
}

static void h_audit_verify(struct pw_api_ctx *c)
{
	pw_audit_report rep;
	memset(&rep, 0, sizeof rep);
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_audit_verify(c->env->db, &rep, &e);
	if (rc && rc != PW_ERR_INTEGRITY) {
		pw_api_fail(c, rc, &e);
		return;
	}
	/* A broken chain is the answer to the question, not a failure. */
	cJSON *o = pw_audit_report_to_json(&rep, rc == PW_OK);
	if (!o) {
		pw_api_oom(c);
		return;
	}
	pw_api_reply(c, o);
}

/* ---- the table --------------------------------------------------------- */

#define ADMIN PW_ROLE_BIT(PW_ROLE_ADMIN)
#define OPERATOR PW_ROLE_BIT(PW_ROLE_OPERATOR)
#define AUDITOR PW_ROLE_BIT(PW_ROLE_AUDITOR)
#define MANAGER PW_ROLE_BIT(PW_ROLE_MANAGER)
#define JSON PW_FORMAT_JSON
#define CSV_BODY PW_FORMAT_CSV_BODY
#define CSV_REPLY PW_FORMAT_CSV_REPLY
/* Everyone who works with the fleet reads hosts and their jobs. */
#define HOST_READERS PW_ROLES_ALL

#define REPORT_QUERY                                                                               \
	"`as_of` (YYYY-MM-DD: the end of that day, or YYYY-MM-DDTHH:MM:SSZ; default now), "        \
	"`owner` (owner group), `category`"

static const char paging[] = "`after` (id, default 0), `limit` (1–1000, default 100)";
#define FILTERS                                                                                    \
	"`category`, `exposure`, `environment`, `owner` (owner group), `criticality` (N: N or "    \
	"higher), `overdue` (`true`: not patched within the 90-day policy, or never), `stale` "    \
	"(DAYS: not seen for DAYS days, or never), `decommissioned` (`false`, the default: hosts " \
	"in service; `true`: decommissioned ones; `any`: both), as `patchwarden host list` takes " \
	"them"
static const char host_filters[] = FILTERS;
static const char host_list_query[] =
	"`after` (id, default 0), `limit` (1–1000, default 100); " FILTERS;

#define FINDING_FILTERS                                                                            \
	"`priority` (emergency, high, normal, low), `state` (open, fixed; accepted and "           \
	"unfixed-upstream match nothing yet), `package`, `advisory`, `cve` (one of its CVEs), "    \
	"`kev` (`true`: in CISA KEV, `false`: not), `due_before` (YYYY-MM-DD: due before that "    \
	"day)"
static const char host_findings_query[] =
	"`after` (id, default 0), `limit` (1–1000, default 100); " FINDING_FILTERS;
static const char findings_query[] =
	"`after` (id, default 0), `limit` (1–1000, default 100); " FINDING_FILTERS
	"; and the hosts' " FILTERS;
#define FINDING_EXAMPLE                                                                            \
	"{\"id\":7,\"host_id\":42,\"hostname\":\"web-01\",\"package\":\"openssl\","                \
	"\"by_source\":true,\"installed\":\"3.0.11-1~deb12u1\",\"fixed\":\"3.0.11-1~deb12u2\","    \
	"\"advisory\":\"DSA-5532-1\",\"cves\":[\"CVE-2023-5363\"],\"priority\":\"high\","          \
	"\"reason\":\"remote attack vector, severity high\",\"sla_days\":14,\"due\":"              \
	"\"2024-05-15\",\"kev\":null,\"epss\":{\"cve\":\"CVE-2023-5363\",\"score\":0.00512},"      \
	"\"first_seen\":\"2024-05-01T02:15:00.000Z\",\"fixed_at\":null,\"state\":\"open\","        \
	"\"snapshot\":12,\"ecosystem\":\"debian:12\"}"

/* The report head of a findings document (jsonout.h). */
#define REPORT_HEAD_EXAMPLE                                                                        \
	"\"schema_version\":1,\"created\":\"2024-05-02T08:00:00.000Z\",\"tool\":{\"name\":"        \
	"\"patchwarden\",\"version\":\"0.1.0\",\"information_uri\":\"https://patchwarden.invalid/" \
	"\"},"                                                                                     \
	"\"feed_snapshot\":{\"id\":12,\"created\":\"2024-05-01T02:00:00.000Z\"},"

#define EXPOSURE_SUMMARY(what, cli)                                                                \
	"Are we exposed to " what ": the hosts in service (or as the host filters select) whose "  \
	"open findings name it (`affected`, with those findings), whose findings naming it are "   \
	"all fixed (`fixed`), that are covered and have none (`not_affected`; `release_named`: "   \
	"an advisory naming it has data for the host's release) and the rest (`unknown`: not "     \
	"covered, with the coverage state), with what the newest feed snapshot knows of it: the "  \
	"advisories naming it and their releases, KEV, EPSS. An id no advisory of the snapshot "   \
	"names is a 200 with `known` false and every host without a finding `unknown` (the "       \
	"feeds cannot clear anyone of it; a 404 would say there is no such id on the day it is "   \
	"in the news before the feeds have it); a malformed id is a 400 naming it. As "            \
	"`patchwarden " cli " --json` prints it: patchwarden-" cli "(1)"
#define EXPOSURE_EXAMPLE(id, kind, advisories, cves)                                               \
	"{\"id\":\"" id "\",\"kind\":\"" kind "\",\"known\":true,\"feed_snapshot\":12,"            \
	"\"advisories\":[" advisories "],\"cves\":[" cves "],\"kev\":null,\"epss\":{\"cve\":"      \
	"\"CVE-2023-5363\",\"score\":0.00512,\"percentile\":0.7671},\"counts\":{\"affected\":1,"   \
	"\"fixed\":1,\"not_affected\":1,\"unknown\":1},\"affected\":[{\"host_id\":42,"             \
	"\"hostname\":\"web-01\",\"release\":\"debian:12\",\"findings\":[{\"id\":7,\"package\":"   \
	"\"openssl\",\"installed\":\"3.0.11-1~deb12u1\",\"fixed\":\"3.0.11-1~deb12u2\","           \
	"\"advisory\":\"DSA-5532-1\",\"priority\":\"high\",\"due\":\"2024-05-15\",\"kev\":null}]}" \
	"],"                                                                                       \
	"\"fixed\":[{\"host_id\":43,\"hostname\":\"web-02\",\"release\":\"debian:12\","            \
	"\"fixed_at\":\"2024-05-03T02:15:00.000Z\"}],\"not_affected\":[{\"host_id\":44,"           \
	"\"hostname\":\"app-01\",\"release\":\"almalinux:8\",\"release_named\":false}],"           \
	"\"unknown\":[{\"host_id\":45,\"hostname\":\"web-03\",\"release\":\"debian:13\","          \
	"\"coverage\":{\"state\":\"no_feed\",\"detail\":\"debian:13\"}}]}"
#define DSA_5532 "{\"id\":\"DSA-5532-1\",\"source\":\"debian-list\",\"releases\":[\"debian:12\"]}"

/* A host's members as the API shows them. */
#define HOST_EXAMPLE                                                                               \
	"\"id\":42,\"hostname\":\"web-01\",\"machine_id\":\"4c4c4544004d3510804ab4c04f4d3232\","   \
	"\"agent_id\":\"ag_0123456789abcdef\",\"os\":{\"id\":\"debian\",\"version_id\":\"12\","    \
	"\"codename\":\"bookworm\",\"pretty_name\":\"Debian GNU/Linux 12 (bookworm)\"},"           \
	"\"arch\":\"amd64\",\"kernel\":\"6.1.0-18-amd64\",\"created\":"                            \
	"\"2024-05-01T01:00:00.000Z\",\"last_seen\":\"2024-05-01T02:15:00.000Z\","                 \
	"\"inventory\":{\"hash\":\"9f2c…\",\"at\":\"2024-05-01T01:00:05.000Z\","                 \
	"\"refused\":null},"                                                                       \
	"\"location\":\"DC1 rack 12\",\"purpose\":\"shop front end\",\"category\":\"web\","        \
	"\"owner_group\":\"webteam\",\"app_owner\":\"shop\",\"criticality\":4,\"exposure\":"       \
	"\"internet\",\"environment\":\"production\",\"maintenance_window\":"                      \
	"\"Sun 01:00-04:00\",\"backup_check\":null,\"health_check\":null,\"last_patched\":"        \
	"\"2024-04-07T00:00:00.000Z\",\"ticket\":\"CHG-1234\",\"updated\":"                        \
	"\"2024-05-01T01:10:00.000Z\",\"decommissioned\":null"

#define APP_OWNER PW_ROLE_BIT(PW_ROLE_APP_OWNER)
#define CAMPAIGN_EXAMPLE                                                                           \
	"\"id\":7,\"name\":\"web December\",\"flow\":\"auto\",\"emergency\":false,"                \
	"\"soak_seconds\":172800,\"state\":\"open\",\"feed_snapshot\":12,\"selection\":"           \
	"{\"hosts\":\"category=web\",\"findings\":null,\"upgrades\":\"openssl\"},"                 \
	"\"created\":\"2026-12-07T09:00:00.000Z\",\"created_by\":\"user:alice\",\"updated\":"      \
	"\"2026-12-07T09:05:00.000Z\",\"hosts\":1,\"host_list\":[{\"host_id\":42,\"hostname\":"    \
	"\"web-01\",\"flow\":2,\"wave\":2,\"category\":\"web\",\"app_owner\":\"shop\","            \
	"\"test_env\":false,\"criticality\":4,\"state\":\"awaiting_approval\",\"patches\":0,"      \
	"\"ticket_id\":31,\"next_actor\":\"app-owner\",\"recheck\":null,\"finished\":null,"        \
	"\"findings\":[7,8]}]"
#define STEP_ROW(step, roles, summary, request)                                                    \
	{                                                                                          \
		"POST", "/api/v1/campaigns/{id}/" step, PW_ACCESS_USER, roles, 16 * KiB, JSON,     \
			200, "campaign." step, pw_h_campaign_step, summary, NULL, request,         \
			"{" CAMPAIGN_EXAMPLE "}"                                                   \
	}
#define STEP_TAIL                                                                                  \
	": patchwarden-campaign(1). Returns the campaign; a step its state does not allow is a "   \
	"409 naming what is missing and who must do it, another role's step a 403 naming whose "   \
	"it "                                                                                      \
	"is"

static const pw_route routes[] = {
	{"GET", "/api/v1/health", PW_ACCESS_PUBLIC, 0, 0, JSON, 200, NULL, h_health,
	 "Liveness and database reachability, for load balancers (503 when the database is "
	 "unreachable)",
	 NULL, NULL,
	 "{\"status\":\"ok\",\"version\":\"0.1.0\",\"database\":\"postgresql\",\"schema\":5}"},
	{"GET", "/metrics", PW_ACCESS_USER, PW_ROLES_ALL, 0, PW_FORMAT_METRICS_REPLY, 200, NULL,
	 h_metrics,
	 "Prometheus metrics (text format 0.0.4): this node's requests by route and status with "
	 "latency histograms, check-ins, enrollments, database errors and scheduler runs; the "
	 "fleet's jobs by kind and state, hosts by coverage, open findings by priority, hosts "
	 "past SLA and the feed snapshot's age. Scrape with an API token (any role)",
	 NULL, NULL,
	 "# HELP patchwarden_agent_checkins_total Agent check-ins this node accepted.\n"
	 "# TYPE patchwarden_agent_checkins_total counter\n"
	 "patchwarden_agent_checkins_total 42\n"
	 "# HELP patchwarden_hosts Hosts in service by coverage state.\n"
	 "# TYPE patchwarden_hosts gauge\n"
	 "patchwarden_hosts{coverage=\"covered\"} 118\n"},
	{"GET", "/api/v1/health/live", PW_ACCESS_PUBLIC, 0, 0, JSON, 200, NULL, h_live,
	 "Liveness for a load balancer or systemd: the process answers (no database call); HEAD "
	 "too",
	 NULL, NULL, "{\"status\":\"live\",\"version\":\"0.1.0\"}"},
	{"GET", "/api/v1/health/ready", PW_ACCESS_PUBLIC, 0, 0, JSON, 200, NULL, h_ready,
	 "Readiness: the database takes writes and holds this node's schema (503 naming what is "
	 "wrong: read-only, unreachable, older or newer schema); HEAD too",
	 NULL, NULL, "{\"status\":\"ready\",\"schema\":14}"},
	{"GET", "/api/v1/me", PW_ACCESS_USER, PW_ROLES_ALL, 0, JSON, 200, NULL, h_me,
	 "Who the API token belongs to", NULL, NULL,
	 "{\"user_id\":3,\"name\":\"alice\",\"role\":\"operator\",\"token_id\":7}"},

	{"POST", "/api/v1/agents/enroll", PW_ACCESS_ENROLL, 0, 16 * KiB, JSON, 201,
	 "agent.enroll, agent.rekey, agent.adopt", h_enroll,
	 "Enrolls an agent with an enrollment token and returns its credential (shown once); "
	 "a known machine_id re-keys its host at once when the host has no live agent or "
	 "`credential` is that agent's, else the re-key waits for an operator (`pending`: the "
	 "credential works once approved); a new machine_id adopts the host an operator entered "
	 "under its hostname without an agent; a hostname that is not RFC 1123 is a 400, one "
	 "another host holds (in any case) a 409 (protocol.md)",
	 NULL,
	 "{\"token\":\"<enrollment token>\",\"hostname\":\"web-01\",\"machine_id\":"
	 "\"4c4c4544004d3510804ab4c04f4d3232\",\"os\":{\"id\":\"debian\",\"version_id\":\"12\","
	 "\"codename\":\"bookworm\",\"pretty_name\":\"Debian GNU/Linux 12 (bookworm)\"},"
	 "\"arch\":\"amd64\",\"credential\":\"<the agent's current credential, if any>\"}",
	 "{\"agent_id\":\"ag_0123456789abcdef\",\"credential\":\"ag_0123456789abcdef.<secret>\","
	 "\"host_id\":42,\"checkin_interval\":900,\"rekeyed\":false,\"adopted\":false,"
	 "\"pending\":false}"},
	{"POST", "/api/v1/agents/checkin", PW_ACCESS_AGENT, 0, 8 * MiB, JSON, 200,
	 "agent.checkin (with results or an inventory)", h_checkin,
	 "An agent reports its inventory hash (the inventory itself when the server asks, or "
	 "why the server refused it), delivers job results, gives back jobs it cannot keep "
	 "and receives its jobs; the body may be gzip (protocol.md)",
	 NULL,
	 "{\"agent_id\":\"ag_0123456789abcdef\",\"inventory_hash\":"
	 "\"9f2c5d0c8e4b1a7f3d6e2b9c4a1f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a19\",\"results\":"
	 "[{\"job_id\":17,\"seq\":5,\"status\":\"ok\",\"started\":\"2024-05-01T02:00:00Z\","
	 "\"finished\":\"2024-05-01T02:00:09Z\",\"exit_code\":0,\"output\":{\"findings\":3}}]}",
	 "{\"ack\":[5],\"need_inventory\":false,\"jobs\":[{\"job_id\":18,\"kind\":\"scan\","
	 "\"args\":{}}],\"checkin_interval\":900}"},

	{"GET", "/api/v1/summary", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL, h_summary,
	 "The fleet at a glance, as `patchwarden summary --json` prints it: hosts by coverage "
	 "state, open findings per priority, hosts past their findings' SLA, hosts not patched "
	 "for 90 days, hosts with an open KEV-listed finding, the newest feed snapshot and its "
	 "age: patchwarden-summary(1)",
	 NULL, NULL,
	 "{\"hosts\":3,\"coverage\":{\"covered\":1,\"never_reported\":1,\"no_feed\":1,"
	 "\"stale\":0,\"pending\":0},\"open_findings\":{\"emergency\":2,\"high\":5,"
	 "\"normal\":9,\"low\":1},\"hosts_past_sla\":1,\"hosts_unpatched\":3,"
	 "\"unpatched_days\":90,\"hosts_kev\":1,\"feed_snapshot\":{\"id\":7,"
	 "\"created\":\"2026-12-07T01:00:00.000Z\",\"age_days\":0}}"},
	{"GET", "/api/v1/reports/compliance", PW_ACCESS_USER, ADMIN | AUDITOR | MANAGER, 0, JSON,
	 200, NULL, pw_h_report_compliance,
	 "The compliance report as of `as_of`, computed from the stored history, as `patchwarden "
	 "report compliance --json` writes it: the fleet's totals, the weekly trend, days to "
	 "remediate per priority, campaigns with their hosts' states, and per host the last "
	 "patch, open findings per priority, past SLA, accepted risks and countermeasures in "
	 "force, campaigns; patchwarden-report(1)",
	 REPORT_QUERY, NULL,
	 "{\"as_of\":\"2026-12-07T23:59:59Z\",\"max_days_unpatched\":90,\"owner_group\":null,"
	 "\"category\":null,\"fleet\":{\"hosts\":2,\"compliant\":1,\"percent\":50,"
	 "\"within_policy\":2,\"unpatched\":0,\"open\":{\"emergency\":0,\"high\":1,"
	 "\"normal\":3,\"low\":0},\"past_sla\":1,\"hosts_past_sla\":1,\"kev_open\":0,"
	 "\"accepted_risks\":0,\"expired_risks\":0,\"countermeasures\":0},\"trend\":[{"
	 "\"date\":\"2026-12-07\",\"hosts\":2,\"compliant\":1,\"percent\":50,"
	 "\"within_policy\":2,\"open\":4,\"past_sla\":1}],\"remediation\":[{\"priority\":"
	 "\"high\",\"fixed\":3,\"median_days\":6,\"mean_days\":7.3}],\"campaigns\":[],"
	 "\"hosts\":[{\"host\":\"web-01\",\"owner_group\":\"web\",\"category\":\"web\","
	 "\"last_patched\":\"2026-11-30\",\"days_since\":7,\"within_policy\":true,"
	 "\"open\":{\"emergency\":0,\"high\":1,\"normal\":0,\"low\":0},\"past_sla\":1,"
	 "\"accepted_risks\":[],\"countermeasures\":[],\"campaigns\":[],"
	 "\"compliant\":false}]}"},
	{"GET", "/api/v1/reports/compliance/csv", PW_ACCESS_USER, ADMIN | AUDITOR | MANAGER, 0,
	 CSV_REPLY, 200, NULL, pw_h_report_compliance_csv,
	 "The compliance report's hosts as CSV, as `patchwarden report compliance --format csv` "
	 "writes them (the formula guard of the host export applies)",
	 REPORT_QUERY, NULL,
	 "host,owner_group,category,last_patched,days_since,within_policy,emergency,high,normal,"
	 "low,past_sla,accepted_risks,countermeasures,campaigns,compliant\r\n"
	 "web-01,web,web,2026-11-30,7,yes,0,1,0,0,1,,,,no\r\n"},
	{"GET", "/api/v1/hosts", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL, h_hosts,
	 "Lists hosts by id: what their agents report and what operators maintain", host_list_query,
	 NULL, "{\"hosts\":[{" HOST_EXAMPLE "}],\"next_after\":null}"},
	{"GET", "/api/v1/hosts/export-csv", PW_ACCESS_USER, HOST_READERS, 0, CSV_REPLY, 200, NULL,
	 h_hosts_export,
	 "The operator fields of the hosts as CSV, by hostname: what `patchwarden host "
	 "export-csv` writes and import-csv reads. A value that begins with =, +, -, @, a tab, "
	 "a carriage return or a single quote gets a single quote before it (no spreadsheet "
	 "runs it as a formula), which import takes off again: patchwarden-host(1)",
	 host_filters, NULL,
	 "hostname,location,purpose,category,owner_group,app_owner,criticality,exposure,"
	 "environment,maintenance_window,backup_check,health_check,last_patched,ticket\n"
	 "web-01,DC1 rack 12,shop front end,web,webteam,shop,4,internet,production,"
	 "Sun 01:00-04:00,,https://web-01/health,2024-04-07,CHG-1234\n"},
	{"POST", "/api/v1/hosts/import-csv", PW_ACCESS_USER, ADMIN | OPERATOR, 32 * MiB, CSV_BODY,
	 200, "host.import", h_hosts_import,
	 "Adds or updates hosts by hostname from CSV as `patchwarden host import-csv` does: a "
	 "header row naming the columns (hostname required), all rows or none; invalid rows are "
	 "a 400 naming the first one's line and column and the others' lines. One audit event "
	 "per host added or changed",
	 NULL, "hostname,category,criticality,maintenance_window\nweb-01,web,4,Sun 01:00-04:00\n",
	 "{\"rows\":1,\"created\":0,\"updated\":1,\"unchanged\":0}"},
	{"GET", "/api/v1/hosts/{id}", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL, h_host,
	 "One host, with its open findings per priority, its count of open jobs and its re-key "
	 "waiting for approval (`pending_rekey`, null when none)",
	 NULL, NULL,
	 "{" HOST_EXAMPLE ",\"open_findings\":{\"emergency\":0,\"high\":2,\"normal\":5,"
	 "\"low\":1},\"pending_rekey\":{\"agent_id\":\"ag_fedcba9876543210\","
	 "\"current_agent_id\":\"ag_0123456789abcdef\",\"hostname\":\"web-01\",\"requested\":"
	 "\"2024-05-02T08:00:00.000Z\",\"enroll_token\":3},\"open_jobs\":1}"},
	{"PATCH", "/api/v1/hosts/{id}", PW_ACCESS_USER, ADMIN | OPERATOR, 16 * KiB, JSON, 200,
	 "host.set", h_host_patch,
	 "Changes operator fields as `patchwarden host set` does: members named like the fields "
	 "(hostname, location, purpose, category, owner_group, app_owner, criticality, exposure, "
	 "environment, maintenance_window, backup_check, health_check, last_patched, ticket), "
	 "null clears one; "
	 "all or none are applied, an unknown field or a bad value is a 400 naming it, a "
	 "hostname another host holds (in any case) a 409. Audited "
	 "with the fields before and after (no event when nothing changed); returns the host",
	 NULL, "{\"criticality\":4,\"maintenance_window\":\"Sun 01:00-04:00\",\"ticket\":null}",
	 "{" HOST_EXAMPLE "}"},
	{"POST", "/api/v1/hosts/{id}/rekey", PW_ACCESS_USER, ADMIN | OPERATOR, 1 * KiB, JSON, 200,
	 "agent.rekey_approve, agent.rekey_refuse", h_host_rekey,
	 "Decides the host's re-key waiting for approval (an enrollment of its machine without "
	 "its live agent's credential, as after the agent's state was lost): approving makes the "
	 "new agent the host's and revokes the old one, refusing revokes the new one. 404 when "
	 "none waits; 409 when the name it reported is another host's by now",
	 NULL, "{\"approve\":true}", "{\"host_id\":42,\"approved\":true}"},
	{"POST", "/api/v1/hosts/{id}/revoke-agent", PW_ACCESS_USER, ADMIN | OPERATOR, 0, JSON, 200,
	 "agent.revoke", h_host_revoke_agent,
	 "Revokes the host's agent credential (and a re-key waiting for approval) without "
	 "decommissioning the host: the agent's next check-in is a 401; its leased jobs are "
	 "queued again, and the next enrollment of the machine re-keys the host (protocol.md). "
	 "409 when the host has no agent credential",
	 NULL, NULL, "{\"host_id\":42,\"agent_revoked\":true,\"host\":{" HOST_EXAMPLE "}}"},
	{"POST", "/api/v1/hosts/{id}/decommission", PW_ACCESS_USER, ADMIN | OPERATOR, 4 * KiB, JSON,
	 200, "host.decommission", h_host_decommission,
	 "Takes the host out of service for good, as `patchwarden host decommission` does: "
	 "revokes its agent, cancels its queued and leased jobs, closes its open findings (kept, "
	 "closed_reason decommissioned) and marks it decommissioned, which leaves it out of "
	 "GET /hosts (unless `decommissioned` is given) and out of findings recomputes; an "
	 "enrollment of its machine is refused until it is deleted. The body (optional) carries "
	 "a `note` for the audit log. 409 when it was decommissioned before",
	 NULL, "{\"note\":\"replaced by web-07, CHG-1299\"}",
	 "{\"host_id\":42,\"decommissioned\":true,\"host\":{" HOST_EXAMPLE "}}"},
	{"POST", "/api/v1/hosts/{id}/compromised", PW_ACCESS_USER, ADMIN | OPERATOR | MANAGER,
	 2 * KiB, JSON, 200, "host.compromised", h_host_compromised,
	 "Marks the host compromised, as `patchwarden host set HOST compromised=true` does: "
	 "audited with the body's optional `note`, and an emergency campaign \"incident: similar "
	 "to HOST\" drafted for the hosts in service of its category and OS release that share "
	 "one of its open findings (`campaign` null when none does); the host's own ticket goes "
	 "on the incident track (`ticket`: its open one, else that of a new emergency campaign "
	 "of the host alone; null when it has no open finding); operators and managers are "
	 "notified. 400 for a host without a category, 409 for a decommissioned one",
	 NULL, "{\"note\":\"IDS alert 4411\"}",
	 "{\"host_id\":42,\"compromised\":true,\"campaign\":9,\"similar_hosts\":3,"
	 "\"ticket\":31}"},
	{"DELETE", "/api/v1/hosts/{id}/compromised", PW_ACCESS_USER, ADMIN | OPERATOR | MANAGER,
	 2 * KiB, JSON, 200, "host.compromised_cleared", h_host_compromise_clear,
	 "Clears the host's compromised mark, as `patchwarden host set HOST compromised=false` "
	 "does: audited with the body's optional `note`; each of its tickets on the incident "
	 "track goes back to the regular track with an `incident.cleared` event; operators and "
	 "managers are notified. 409 for a host not marked",
	 NULL, "{\"note\":\"reimaged from the gold image\"}",
	 "{\"host_id\":42,\"compromised\":false,\"incident_tickets_cleared\":1}"},
	{"DELETE", "/api/v1/hosts/{id}", PW_ACCESS_USER, ADMIN | OPERATOR, 0, JSON, 200,
	 "host.delete", h_host_delete,
	 "Deletes a decommissioned host and what is stored about it (agents, jobs and their "
	 "results, findings); the audit log keeps its history. 409 for a host in service: "
	 "decommission it first",
	 NULL, NULL, "{\"host_id\":42,\"deleted\":true,\"host\":null}"},
	{"GET", "/api/v1/hosts/{id}/jobs", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL,
	 h_host_jobs, "A host's jobs by id, each with its newest result", paging, NULL,
	 "{\"jobs\":[{\"job_id\":17,\"kind\":\"scan\",\"args\":{},\"state\":\"done\",\"created\":"
	 "\"2024-05-01T01:30:00.000Z\",\"created_by\":\"user:alice\",\"leased_to\":"
	 "\"ag_0123456789abcdef\",\"lease_until\":null,\"attempts\":1,\"finished\":"
	 "\"2024-05-01T02:15:00.000Z\",\"result\":{\"status\":\"ok\",\"exit_code\":0,"
	 "\"received\":\"2024-05-01T02:15:00.000Z\"}}],\"host_id\":42,\"next_after\":null}"},
	{"GET", "/api/v1/hosts/{id}/findings", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL,
	 h_host_findings,
	 "A host's findings by id, open and fixed, as `patchwarden host findings --json` prints "
	 "them (docs/records.md); 404 when there is no such host",
	 host_findings_query, NULL,
	 "{" REPORT_HEAD_EXAMPLE "\"findings\":[" FINDING_EXAMPLE "],\"next_after\":null}"},
	{"GET", "/api/v1/hosts/{id}/upgrades", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL,
	 h_host_upgrades,
	 "A host's open findings grouped by package upgrade, most urgent first, as `patchwarden "
	 "host upgrades --json` prints them (docs/records.md, \"upgrade\"): per package (the "
	 "source package on Debian and Ubuntu, with the binary packages installed from it) the "
	 "version that fixes all its findings, their advisories, CVEs, highest priority, "
	 "earliest due date and KEV; 404 when there is no such host",
	 NULL, NULL,
	 "{\"host_id\":42,\"upgrades\":[{\"host_id\":42,\"hostname\":\"web-01\","
	 "\"package\":\"openssl\",\"by_source\":true,\"binaries\":[{\"name\":\"libssl3\","
	 "\"version\":\"3.0.11-1~deb12u1\"},{\"name\":\"openssl\",\"version\":"
	 "\"3.0.11-1~deb12u1\"}],\"installed\":\"3.0.11-1~deb12u1\",\"target\":"
	 "\"3.0.11-1~deb12u2\",\"advisories\":[\"DSA-5532-1\",\"DSA-5585-1\"],"
	 "\"cve_count\":3,\"cves\":[\"CVE-2023-5363\",\"CVE-2023-5678\",\"CVE-2023-6129\"],"
	 "\"highest_priority\":\"high\",\"earliest_due\":\"2024-05-15\",\"kev\":false,"
	 "\"findings\":[7,9]}]}"},
	{"POST", "/api/v1/hosts/{id}/jobs", PW_ACCESS_USER, ADMIN | OPERATOR | MANAGER, 64 * KiB,
	 JSON, 201, "job.create", h_job_create,
	 "Queues a job for the host's agent (kinds and their args: protocol.md); it is handed to "
	 "exactly one check-in. 400 for args the kind's schema refuses, packages the host's "
	 "inventory lacks, findings that are not the host's open ones; 403 for a kind the role "
	 "may not queue (manager: only with emergency true); 409 for a patch, rollback or reboot "
	 "outside the host's maintenance window, naming the next start: queue it with "
	 "at_window true (leased only inside that window) or emergency true (admin, manager). "
	 "Window and emergency refusals are audited as job.refuse",
	 NULL,
	 "{\"kind\":\"patch\",\"args\":{\"findings\":[7,9],\"allow_reboot\":false,"
	 "\"at_window\":true}}",
	 "{\"job_id\":18,\"host_id\":42,\"kind\":\"patch\",\"state\":\"queued\",\"emergency\":"
	 "false,\"not_before\":\"2024-05-05T01:00:00.000Z\",\"not_after\":"
	 "\"2024-05-05T04:00:00.000Z\"}"},

	{"GET", "/api/v1/hosts/{id}/jobs/{job}", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL,
	 h_host_job,
	 "One job of the host with its newest result and output, as `GET /api/v1/jobs/{id}` gives "
	 "it; a job of another host is a 404",
	 NULL, NULL,
	 "{\"job_id\":17,\"kind\":\"scan\",\"args\":{},\"state\":\"done\",\"created\":"
	 "\"2024-05-01T01:30:00.000Z\",\"created_by\":\"user:alice\",\"leased_to\":"
	 "\"ag_0123456789abcdef\",\"lease_until\":null,\"attempts\":1,\"finished\":"
	 "\"2024-05-01T02:15:00.000Z\",\"result\":{\"status\":\"ok\",\"exit_code\":0,"
	 "\"received\":\"2024-05-01T02:15:00.000Z\",\"output\":{\"findings\":3}},"
	 "\"host_id\":42}"},
	{"GET", "/api/v1/jobs/{id}", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL, h_job,
	 "One job (job ids are the fleet's, not per host) with its host and its newest result, "
	 "including the output its agent sent (`result.output`: the JSON as sent, or null), as "
	 "`patchwarden host job HOST JOB --json` prints it",
	 NULL, NULL,
	 "{\"job_id\":17,\"kind\":\"scan\",\"args\":{},\"state\":\"done\",\"created\":"
	 "\"2024-05-01T01:30:00.000Z\",\"created_by\":\"user:alice\",\"leased_to\":"
	 "\"ag_0123456789abcdef\",\"lease_until\":null,\"attempts\":1,\"finished\":"
	 "\"2024-05-01T02:15:00.000Z\",\"result\":{\"status\":\"ok\",\"exit_code\":0,"
	 "\"received\":\"2024-05-01T02:15:00.000Z\",\"output\":{\"findings\":3}},"
	 "\"host_id\":42}"},
	{"GET", "/api/v1/findings", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL, h_findings,
	 "The fleet's findings by id, as `patchwarden findings --json` prints them, with the "
	 "report head (docs/records.md)",
	 findings_query, NULL,
	 "{" REPORT_HEAD_EXAMPLE "\"findings\":[" FINDING_EXAMPLE "],\"next_after\":null}"},
	{"GET", "/api/v1/upgrades", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL, h_upgrades,
	 "The fleet's package upgrades, as `patchwarden upgrades --json` prints them "
	 "(docs/records.md, \"fleet upgrade\"): the hosts' upgrades (GET "
	 "/hosts/{id}/upgrades) grouped by package and target version, each with how many of "
	 "the hosts need it, most urgent first; what a campaign's upgrade selector picks from",
	 host_filters, NULL,
	 "{\"upgrades\":[{\"package\":\"openssl\",\"by_source\":true,\"target\":"
	 "\"3.0.11-1~deb12u2\",\"hosts\":12,\"binaries\":[\"libssl3\",\"openssl\"],"
	 "\"advisories\":[\"DSA-5532-1\",\"DSA-5585-1\"],\"cve_count\":3,\"cves\":"
	 "[\"CVE-2023-5363\",\"CVE-2023-5678\",\"CVE-2023-6129\"],\"highest_priority\":"
	 "\"high\",\"earliest_due\":\"2024-05-15\",\"kev\":false,\"findings\":24}]}"},

	{"GET", "/api/v1/cves/{cve}", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL, h_cve,
	 EXPOSURE_SUMMARY("a CVE", "cve"), host_filters, NULL,
	 EXPOSURE_EXAMPLE("CVE-2023-5363", "cve", DSA_5532, "\"CVE-2023-5363\"")},
	{"GET", "/api/v1/advisories/{advisory}", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL,
	 h_advisory, EXPOSURE_SUMMARY("an advisory", "advisory"), host_filters, NULL,
	 EXPOSURE_EXAMPLE("DSA-5532-1", "advisory", DSA_5532,
			  "\"CVE-2023-5363\",\"CVE-2023-5678\"")},

	{"GET", "/api/v1/campaigns", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL,
	 pw_h_campaigns,
	 "Lists the patch campaigns by id, as `patchwarden campaign list --json` prints them "
	 "(docs/records.md, \"campaign\"; without host_list)",
	 NULL, NULL,
	 "{\"campaigns\":[{\"id\":7,\"name\":\"web December\",\"flow\":\"auto\",\"emergency\":"
	 "false,\"soak_seconds\":172800,\"state\":\"running\",\"feed_snapshot\":12,\"selection\":"
	 "{\"hosts\":\"category=web\",\"findings\":null,\"upgrades\":null},\"created\":"
	 "\"2026-12-07T09:00:00.000Z\",\"created_by\":\"user:alice\",\"updated\":"
	 "\"2026-12-07T09:05:00.000Z\",\"hosts\":12}]}"},
	{"POST", "/api/v1/campaigns", PW_ACCESS_USER, ADMIN | OPERATOR | MANAGER, 16 * KiB, JSON,
	 201, "campaign.create", pw_h_campaign_create,
	 "Creates a campaign as `patchwarden campaign create` does: the hosts of `hosts` (\"all\" "
	 "or key=value pairs of the host filters), their open findings at the newest snapshot "
	 "(or those `findings` or `upgrades` select), the flow per host (`flow` auto: by "
	 "category), waves (test environment, then least critical first, then category), a "
	 "ticket per host. `emergency` (may run outside windows) only by a manager or admin; a "
	 "selection no host has findings for is a 400. Returns the campaign; with `dry_run` true "
	 "stores nothing and returns the plan (200) as `campaign create --dry-run --json` prints "
	 "it: the hosts with flow, wave and findings, and the pinned feed snapshot",
	 NULL,
	 "{\"name\":\"web December\",\"hosts\":\"category=web\",\"upgrades\":\"openssl\","
	 "\"flow\":\"auto\",\"emergency\":false,\"soak_seconds\":172800}",
	 "{" CAMPAIGN_EXAMPLE "}"},
	{"GET", "/api/v1/campaigns/{id}", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL,
	 pw_h_campaign,
	 "One campaign with its hosts (`host_list`: flow, wave, state, patches done, ticket, who "
	 "acts next), as `patchwarden campaign show ID --json` prints it",
	 NULL, NULL, "{" CAMPAIGN_EXAMPLE "}"},
	STEP_ROW("confirm-backup", ADMIN | OPERATOR,
		 "The backup role (operator) confirms that `host`'s backup is readable and "
		 "restorable; `note` is the proof (required)" STEP_TAIL,
		 "{\"host\":\"web-01\",\"note\":\"tape 2291 restored to scratch-02, checked\"}"),
	STEP_ROW("approve", APP_OWNER,
		 "The application owner approves patching Flow 2 host `host`: a test "
		 "environment host is scheduled, a production host waits for its test hosts and "
		 "the owner's UAT" STEP_TAIL,
		 "{\"host\":\"web-01\",\"note\":\"go ahead\"}"),
	STEP_ROW("decline", APP_OWNER,
		 "The application owner declines: `reason`, and the risk assessment "
		 "`data_value`, `threat_frequency`, `impact` (low, medium, high) and "
		 "`cost_benefit`, all required; a manager's sign-off follows" STEP_TAIL,
		 "{\"host\":\"web-01\",\"reason\":\"month-end close\",\"data_value\":\"high\","
		 "\"threat_frequency\":\"low\",\"impact\":\"medium\",\"cost_benefit\":\"an outage "
		 "this week costs more than the exposure behind the firewall\"}"),
	STEP_ROW("sign-off", MANAGER,
		 "A manager signs off a decline: it becomes a risk acceptance until `expires` "
		 "(YYYY-MM-DD or a UTC time, in the future), when the host re-opens" STEP_TAIL,
		 "{\"host\":\"web-01\",\"expires\":\"2027-01-31\"}"),
	STEP_ROW("record-uat", APP_OWNER,
		 "The application owner records the user acceptance test (`note`, required) "
		 "once the host's test environment hosts in the campaign are verified; the host "
		 "is scheduled" STEP_TAIL,
		 "{\"host\":\"web-01\",\"note\":\"order flow tested on web-t1\"}"),
	STEP_ROW("record-countermeasure", ADMIN | OPERATOR,
		 "The patch group records countermeasures instead of a patch (`note`, required) "
		 "and when to look again (`recheck`, in the future)" STEP_TAIL,
		 "{\"host\":\"web-01\",\"note\":\"service disabled\",\"recheck\":\"2027-01-07\"}"),
	STEP_ROW("skip", ADMIN | OPERATOR,
		 "The patch group takes host `host`, whose failed patch, health check or "
		 "rollback halted the campaign, out of it unpatched (`reason`, required; its "
		 "findings stay open); the campaign runs on" STEP_TAIL,
		 "{\"host\":\"web-01\",\"reason\":\"vendor support case 4411 open\"}"),
	STEP_ROW("rollback", ADMIN | OPERATOR,
		 "The patch group rolls back host `host`, whose failed patch, health check or "
		 "rollback halted the campaign: a rollback job installs each package its patch "
		 "upgraded at the version before, in its window; the outcome goes on its ticket; "
		 "the campaign runs on" STEP_TAIL,
		 "{\"host\":\"web-01\",\"note\":\"health check fails since the patch\"}"),
	STEP_ROW("start", ADMIN | OPERATOR,
		 "Starts the campaign: the patch driver may patch its scheduled hosts, wave by "
		 "wave" STEP_TAIL,
		 "{\"note\":\"CAB approved\"}"),
	STEP_ROW("pause", ADMIN | OPERATOR, "Pauses a running campaign" STEP_TAIL,
		 "{\"note\":\"freeze\"}"),
	STEP_ROW(
		"resume", ADMIN | OPERATOR,
		"Resumes a paused campaign, or one a failed patch, health check or rollback halted "
		"(the step is done again)" STEP_TAIL,
		"{\"note\":\"fixed\"}"),
	STEP_ROW("cancel", ADMIN | OPERATOR,
		 "Cancels the campaign: its hosts without an outcome are cancelled on their "
		 "tickets" STEP_TAIL,
		 "{\"note\":\"superseded\"}"),
	{"GET", "/api/v1/tickets", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL, pw_h_tickets,
	 "Lists the tickets (one per host of each campaign), as `patchwarden ticket list --json` "
	 "prints them",
	 "`campaign` (id: that campaign's tickets only) or `host` (id: that host's tickets only)",
	 NULL,
	 "{\"tickets\":[{\"id\":31,\"campaign_id\":7,\"host_id\":42,\"hostname\":\"web-01\","
	 "\"state\":\"open\",\"next_actor\":\"app-owner\",\"created\":"
	 "\"2026-12-07T09:00:00.000Z\",\"closed\":null}]}"},
	{"GET", "/api/v1/tickets/{id}", PW_ACCESS_USER, HOST_READERS, 0, JSON, 200, NULL,
	 pw_h_ticket,
	 "One ticket with its append-only events (who, when, what, the states before and after, "
	 "who acts next) and its risk acceptances, as `patchwarden ticket show N --json` prints it",
	 NULL, NULL,
	 "{\"id\":31,\"campaign_id\":7,\"host_id\":42,\"hostname\":\"web-01\",\"state\":"
	 "\"open\",\"next_actor\":\"app-owner\",\"created\":\"2026-12-07T09:00:00.000Z\","
	 "\"closed\":null,\"events\":[{\"id\":90,\"ts\":\"2026-12-07T09:00:00.000Z\",\"actor\":"
	 "\"user:alice\",\"action\":\"open\",\"from\":\"awaiting_backup\",\"to\":"
	 "\"awaiting_backup\",\"note\":null,\"detail\":[7,8],\"next_actor\":\"operator\"}],"
	 "\"risk_acceptances\":[]}"},

	{"GET", "/api/v1/users", PW_ACCESS_USER, ADMIN | AUDITOR, 0, JSON, 200, NULL, h_users,
	 "Lists users (the auditor reads who may do what)", NULL, NULL,
	 "{\"users\":[{\"id\":1,\"name\":\"root\",\"role\":\"admin\",\"disabled\":false,"
	 "\"has_password\":true,\"created\":\"2024-05-01T00:00:00.000Z\",\"updated\":"
	 "\"2024-05-01T00:00:00.000Z\"}]}"},
	{"POST", "/api/v1/users", PW_ACCESS_USER, ADMIN, 16 * KiB, JSON, 201, "user.add",
	 h_user_add,
	 "Adds a user with one role; without a password the user works with API tokens only", NULL,
	 "{\"name\":\"carol\",\"role\":\"auditor\",\"password\":\"<password>\"}",
	 "{\"id\":4,\"name\":\"carol\",\"role\":\"auditor\"}"},
	{"POST", "/api/v1/users/{id}/disable", PW_ACCESS_USER, ADMIN, 0, JSON, 200, "user.disable",
	 h_user_disable,
	 "Disables the user as `patchwarden user disable` does: their API tokens stop working "
	 "at once; the last enabled admin cannot be disabled (400). Returns the user",
	 NULL, NULL,
	 "{\"id\":4,\"name\":\"carol\",\"role\":\"auditor\",\"disabled\":true,"
	 "\"has_password\":true,\"created\":\"2024-05-01T00:00:00.000Z\",\"updated\":"
	 "\"2024-05-03T00:00:00.000Z\"}"},
	{"POST", "/api/v1/users/{id}/enable", PW_ACCESS_USER, ADMIN, 0, JSON, 200, "user.enable",
	 h_user_enable,
	 "Enables a disabled user again (their tokens work again unless revoked or expired); "
	 "returns the user",
	 NULL, NULL,
	 "{\"id\":4,\"name\":\"carol\",\"role\":\"auditor\",\"disabled\":false,"
	 "\"has_password\":true,\"created\":\"2024-05-01T00:00:00.000Z\",\"updated\":"
	 "\"2024-05-04T00:00:00.000Z\"}"},
	{"POST", "/api/v1/users/{id}/role", PW_ACCESS_USER, ADMIN, 1 * KiB, JSON, 200, "user.role",
	 h_user_role,
	 "Gives the user another role as `patchwarden user role` does; the last enabled admin "
	 "keeps theirs (400). Returns the user",
	 NULL, "{\"role\":\"manager\"}",
	 "{\"id\":4,\"name\":\"carol\",\"role\":\"manager\",\"disabled\":false,"
	 "\"has_password\":true,\"created\":\"2024-05-01T00:00:00.000Z\",\"updated\":"
	 "\"2024-05-04T00:00:00.000Z\"}"},
	{"GET", "/api/v1/tokens", PW_ACCESS_USER, ADMIN | AUDITOR, 0, JSON, 200, NULL, h_tokens,
	 "Lists API tokens as `patchwarden user token list --json` does (never their secrets)",
	 "`user` (a user name: that user's tokens only)", NULL,
	 "{\"tokens\":[{\"id\":9,\"user\":\"carol\",\"label\":\"nightly report\","
	 "\"created\":\"2024-05-01T00:00:00.000Z\",\"expires\":null,\"last_used\":null,"
	 "\"revoked\":null}]}"},
	{"DELETE", "/api/v1/tokens/{id}", PW_ACCESS_USER, PW_ROLES_ALL, 0, JSON, 200,
	 "token.revoke", h_token_revoke,
	 "Revokes an API token as `patchwarden user token revoke` does: an admin any token, "
	 "everyone else their own only (403 for another user's; GET /me gives the caller's "
	 "token_id); 409 when it was revoked before",
	 NULL, NULL, "{\"id\":9,\"revoked\":true}"},
	{"POST", "/api/v1/users/{id}/tokens", PW_ACCESS_USER, ADMIN, 4 * KiB, JSON, 201,
	 "token.create", h_user_token,
	 "Creates an API token for the user (shown once; ttl_seconds 0 or absent: no expiry)", NULL,
	 "{\"label\":\"nightly report\",\"ttl_seconds\":7776000}",
	 "{\"id\":9,\"token\":\"pwt_9.<secret>\",\"user\":\"carol\",\"label\":\"nightly report\"}"},

	{"GET", "/api/v1/enroll-tokens", PW_ACCESS_USER, ADMIN | AUDITOR, 0, JSON, 200, NULL,
	 h_etokens, "Lists enrollment tokens (never their secrets)", NULL, NULL,
	 "{\"enroll_tokens\":[{\"id\":2,\"label\":\"rack 12\",\"uses_total\":50,\"uses_left\":38,"
	 "\"expires\":\"2024-05-02T00:00:00.000Z\",\"created\":\"2024-05-01T00:00:00.000Z\","
	 "\"created_by\":\"user:root\",\"revoked\":null}]}"},
	{"POST", "/api/v1/enroll-tokens", PW_ACCESS_USER, ADMIN, 4 * KiB, JSON, 201,
	 "enroll_token.create", h_etoken_create,
	 "Creates an enrollment token for `uses` agents (default 1) valid for `ttl_seconds` "
	 "(default 86400); shown once",
	 NULL, "{\"label\":\"rack 12\",\"uses\":50,\"ttl_seconds\":86400}",
	 "{\"id\":2,\"token\":\"pwe_2.<secret>\",\"label\":\"rack 12\",\"uses\":50,"
	 "\"ttl_seconds\":86400}"},
	{"DELETE", "/api/v1/enroll-tokens/{id}", PW_ACCESS_USER, ADMIN, 0, JSON, 200,
	 "enroll_token.revoke", h_etoken_revoke,
	 "Revokes an enrollment token (409 when it was revoked before)", NULL, NULL,
	 "{\"id\":2,\"revoked\":true}"},

	{"GET", "/api/v1/audit", PW_ACCESS_USER, ADMIN | AUDITOR, 0, JSON, 200, NULL, h_audit,
	 "Reads the audit log, oldest first", paging, NULL,
	 "{\"events\":[{\"id\":1,\"ts\":\"2024-05-01T00:00:00.000Z\",\"actor\":\"cli:root\","
	 "\"action\":\"user.add\",\"target\":\"user:alice\",\"before\":null,\"after\":"
	 "{\"name\":\"alice\",\"role\":\"operator\"},\"prev_hash\":\"0000…\",\"hash\":"
	 "\"5d1e…\"}],\"next_after\":null}"},
	{"GET", "/api/v1/audit/verify", PW_ACCESS_USER, ADMIN | AUDITOR, 0, JSON, 200, NULL,
	 h_audit_verify,
	 "Verifies the audit log's hash chain; a broken chain is reported with intact false, "
	 "the fault and the first bad event",
	 NULL, NULL,
	 "{\"intact\":true,\"events\":1234,\"head_hash\":\"5d1e…\",\"fault\":\"intact\"}"},
};

const pw_route *pw_routes(size_t *n)
{
	*n = sizeof routes / sizeof routes[0];
	return routes;
}
