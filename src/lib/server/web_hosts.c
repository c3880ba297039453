/* The hosts pages: the `host list` filters, a host with its findings by
 * upgrade, jobs and tickets, its operator fields; "are we exposed?". */
#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void pw_web_hosts(struct pw_web_page *p)
{
	/* Empty fields of the filter form mean "any". */
	pw_query_param q[N_FILTERS + 2];
	size_t nq = 0;
	for (size_t i = 0; i < p->rq->n_query && nq < N_FILTERS + 2; i++)
		if (p->rq->query[i].value && p->rq->query[i].value[0])
			q[nq++] = p->rq->query[i];
	cJSON *j;
	char msg[512];
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

void pw_web_host(struct pw_web_page *p, int64_t id)
{
	char path[96], msg[512];
	snprintf(path, sizeof path, "/api/v1/hosts/%" PRId64, id);
	cJSON *j = pw_web_page_data(p, path);
	if (!j)
		return;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "hostname");
	pw_web_head(p, 200, cJSON_IsString(name) ? name->valuestring : "Host");
	pw_web_dl(p, j, NULL);
	cJSON_Delete(j);
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
	pw_web_foot(p);
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
		char path[128], msg[512];
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
