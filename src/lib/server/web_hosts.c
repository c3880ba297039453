/* The hosts pages: the `host list` filters, a host with its findings by
 * upgrade, jobs and tickets, its operator fields; "are we exposed?". */
#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/hosts.h"

#include "server-internal.h"

/* The `host list` filters the hosts page offers (GET /api/v1/hosts). */
static const char *const host_filters[] = {
	"state",   "category", "environment", "owner", "criticality", "priority",
	"package", "cve",      "advisory",    "kev",   "overdue",     "stale",
};
#define N_FILTERS (sizeof host_filters / sizeof host_filters[0])

/* The next page of the same filtered list. */
static void next_link(struct pw_web_page *p, const pw_query_param *q, size_t nq, int64_t after)
{
	pw_web_put(p, "<p><a href=\"/hosts?");
	for (size_t i = 0; i < nq; i++) {
		if (!strcmp(q[i].key, "after"))
			continue;
		pw_web_url_value(p, q[i].key);
		pw_web_put(p, "=");
		pw_web_url_value(p, q[i].value);
		pw_web_put(p, "&amp;");
	}
	pw_web_putf(p, "after=%" PRId64 "\">Next page</a></p>\n", after);
}

/* The filter's host keys become the new campaign's host filter, its
 * finding keys the findings it patches. */
static void campaign_link(struct pw_web_page *p)
{
	static const char *const host_keys[] = {"category",    "environment", "owner",
						"criticality", "overdue",     "stale"};
	static const char *const finding_keys[] = {"priority", "package", "cve", "advisory", "kev"};
	static const struct {
		const char *param;
		const char *const *keys;
		size_t n;
	} parts[] = {{"hosts", host_keys, sizeof host_keys / sizeof *host_keys},
		     {"findings", finding_keys, sizeof finding_keys / sizeof *finding_keys}};
	pw_web_put(p, "<p><a href=\"/campaigns/new?");
	for (size_t k = 0; k < 2; k++) {
		pw_web_putf(p, "%s%s=", k ? "&amp;" : "", parts[k].param);
		bool first = true;
		for (size_t i = 0; i < parts[k].n; i++) {
			const char *v = pw_web_query(p->rq, parts[k].keys[i]);
			if (!v || !*v)
				continue;
			/* "key=value," percent-encoded as a whole. */
			pw_web_put(p, first ? "" : "%2C");
			pw_web_url_value(p, parts[k].keys[i]);
			pw_web_put(p, "%3D");
			pw_web_url_value(p, v);
			first = false;
		}
		if (!k && first)
			pw_web_put(p, "all");
	}
	pw_web_put(p, "\">Create a campaign for these hosts</a></p>\n");
}

void pw_web_hosts(struct pw_web_page *p)
{
	/* Empty fields of the filter form mean "any". */
	pw_query_param q[N_FILTERS + 2];
	size_t nq = 0;
	for (size_t i = 0; i < p->rq->n_query && nq < N_FILTERS + 2; i++)
		if (p->rq->query[i].value && p->rq->query[i].value[0])
			q[nq++] = p->rq->query[i];
	cJSON *j;
	char msg[PW_WEB_MSG];
	int st = pw_web_call(p, "GET", "/api/v1/hosts", q, nq, NULL, &j, msg, sizeof msg);
	pw_web_head(p, j ? 200 : st, "Hosts");
	pw_web_put(p, "<form method=\"get\" action=\"/hosts\"><fieldset><legend>Filter</legend>");
	for (size_t i = 0; i < N_FILTERS; i++) {
		pw_web_putf(p, "<label>%s <input name=\"%s\" value=\"", host_filters[i],
			    host_filters[i]);
		pw_web_esc(p, pw_web_query(p->rq, host_filters[i]));
		pw_web_put(p, "\"></label>");
	}
	pw_web_put(p, "<button type=\"submit\">Show</button></fieldset></form>\n");
	if (j && pw_web_may(p, "POST", "/api/v1/campaigns"))
		campaign_link(p);
	if (!j) {
		pw_web_message(p, "error", msg);
	} else {
		pw_web_table(p, cJSON_GetObjectItemCaseSensitive(j, "hosts"), "Hosts", "hostname",
			     "/hosts/", "id");
		const cJSON *next = cJSON_GetObjectItemCaseSensitive(j, "next_after");
		if (cJSON_IsNumber(next))
			next_link(p, q, nq, (int64_t)next->valuedouble);
		cJSON_Delete(j);
	}
	pw_web_foot(p);
}

/* A host field the operator sets (`host set`); the hostname is the
 * host's name in every link and ticket, so the console leaves it to the
 * CLI. */
static bool operator_field(const char *key, pw_host_field *f)
{
	return pw_host_field_parse(key, f) && !strcmp(pw_host_field_name(*f), key) &&
	       *f < PW_HF__EDITABLE && *f != PW_HF_HOSTNAME;
}

/* The operator fields as a form for the roles that may change them,
 * else as text. */
static void operator_fields(struct pw_web_page *p, int64_t id, const cJSON *ops)
{
	char path[64];
	snprintf(path, sizeof path, "/api/v1/hosts/%" PRId64, id);
	pw_web_put(p, "<h2>Operator fields</h2>\n");
	if (!pw_web_may(p, "PATCH", path)) {
		pw_web_dl(p, ops, NULL);
		return;
	}
	pw_web_putf(p,
		    "<form method=\"post\" action=\"/hosts/%" PRId64 "\"><fieldset><legend>"
		    "Change the operator fields (empty clears one)</legend>",
		    id);
	pw_web_csrf(p);
	const cJSON *k;
	cJSON_ArrayForEach(k, ops) {
		pw_web_putf(p, "<p><label for=\"f-%s\">", k->string);
		for (const char *c = k->string; *c; c++)
			pw_web_putf(p, "%c", *c == '_' ? ' ' : *c);
		pw_web_putf(p, "</label> <input id=\"f-%s\" name=\"%s\" value=\"", k->string,
			    k->string);
		if (cJSON_IsString(k))
			pw_web_esc(p, k->valuestring);
		else if (cJSON_IsNumber(k))
			pw_web_putf(p, "%" PRId64, (int64_t)k->valuedouble);
		pw_web_put(p, "\"></p>");
	}
	pw_web_put(p, "<button type=\"submit\">Save</button></fieldset></form>\n");
}

void pw_web_host(struct pw_web_page *p, int64_t id)
{
	char path[96], msg[PW_WEB_MSG];
	snprintf(path, sizeof path, "/api/v1/hosts/%" PRId64, id);
	cJSON *j = pw_web_page_data(p, path);
	if (!j)
		return;
	cJSON *ops = cJSON_CreateObject();
	if (!ops) {
		cJSON_Delete(j);
		pw_web_error_page(p, 500, "the server ran out of memory");
		return;
	}
	for (cJSON *k = j->child, *next; k; k = next) {
		next = k->next;
		pw_host_field f;
		if (!operator_field(k->string, &f))
			continue;
		cJSON *item = cJSON_DetachItemViaPointer(j, k);
		if (!cJSON_AddItemToObject(ops, item->string, item))
			cJSON_Delete(item);
	}
	pw_web_head(p, 200, pw_web_str(j, "hostname")[0] ? pw_web_str(j, "hostname") : "Host");
	static const char *const said[][2] = {{"saved", "saved"}};
	pw_web_done(p, said, 1);
	pw_web_dl(p, j, NULL);
	cJSON_Delete(j);
	operator_fields(p, id, ops);
	cJSON_Delete(ops);
	static const char *const parts[][2] = {{"upgrades", "Findings by upgrade"},
					       {"jobs", "Jobs"}};
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "/api/v1/hosts/%" PRId64 "/%s", id, parts[i][0]);
		(void)pw_web_call(p, "GET", path, NULL, 0, NULL, &j, msg, sizeof msg);
		pw_web_put(p, "<h2>");
		pw_web_esc(p, parts[i][1]);
		pw_web_put(p, "</h2>\n");
		if (!j) {
			pw_web_message(p, "error", msg);
			continue;
		}
		pw_web_table(p, cJSON_GetObjectItemCaseSensitive(j, parts[i][0]), NULL, NULL, NULL,
			     NULL);
		cJSON_Delete(j);
	}
	pw_web_host_tickets(p, id);
	pw_web_foot(p);
}

/* POST /hosts/<id>: the operator fields as PATCH /api/v1/hosts/<id>
 * takes them (an empty one is null: cleared); the API applies all or
 * none and audits what changed. */
void pw_web_host_set(struct pw_web_page *p, int64_t id, const pw_form *f)
{
	cJSON *b = cJSON_CreateObject();
	bool ok = b != NULL;
	for (size_t i = 0; ok && i < f->n; i++) {
		pw_host_field hf;
		if (!operator_field(f->key[i], &hf))
			continue;
		ok = (f->value[i][0] ? cJSON_AddStringToObject(b, f->key[i], f->value[i])
				     : cJSON_AddNullToObject(b, f->key[i])) != NULL;
	}
	if (!ok) {
		cJSON_Delete(b);
		pw_web_error_page(p, 500, "the server ran out of memory");
		return;
	}
	char path[64], to[96];
	snprintf(path, sizeof path, "/api/v1/hosts/%" PRId64, id);
	snprintf(to, sizeof to, "/hosts/%" PRId64 "?done=saved", id);
	pw_web_act(p, "PATCH", path, b, to);
}

void pw_web_cves(struct pw_web_page *p)
{
	const char *q = pw_web_query(p->rq, "q");
	pw_web_head(p, 200, "Are we exposed?");
	pw_web_put(p, "<form method=\"get\" action=\"/cves\"><label>CVE or advisory id "
		      "<input name=\"q\" data-autofocus required value=\"");
	pw_web_esc(p, q);
	pw_web_put(p, "\"></label><button type=\"submit\">Search</button></form>\n");
	if (q && q[0] && strpbrk(q, "/?#%")) {
		p->out->status = 400;
		pw_web_message(p, "error",
			       "that is not a CVE or advisory id (CVE-2024-1234, DSA-5532-1)");
	} else if (q && q[0]) {
		char path[128], msg[PW_WEB_MSG];
		cJSON *j;
		bool cve = !strncasecmp(q, "CVE-", 4);
		snprintf(path, sizeof path, "/api/v1/%s/%.64s", cve ? "cves" : "advisories", q);
		int st = pw_web_call(p, "GET", path, NULL, 0, NULL, &j, msg, sizeof msg);
		if (!j) {
			p->out->status = st;
			pw_web_message(p, "error", msg);
		} else {
			pw_web_put(p, "<h2>");
			pw_web_esc(p, q);
			pw_web_put(p, "</h2>\n");
			pw_web_dl(p, j, NULL);
			cJSON_Delete(j);
		}
	}
	pw_web_foot(p);
}
