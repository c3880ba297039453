/* The tickets: the list (all, a campaign's), a ticket with its
 * append-only log and risk acceptances, and a host's tickets for its
 * page. */
#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "server-internal.h"

void pw_web_tickets(struct pw_web_page *p)
{
	const char *campaign = pw_web_query(p->rq, "campaign");
	pw_query_param q = {"campaign", campaign};
	cJSON *j;
	char msg[PW_WEB_MSG];
	int st = pw_web_call(p, "GET", "/api/v1/tickets", &q, campaign && *campaign ? 1 : 0, NULL,
			     &j, msg, sizeof msg);
	pw_web_head(p, j ? 200 : st, "Tickets");
	pw_web_put(p, "<form method=\"get\" action=\"/tickets\"><label for=\"t-campaign\">"
		      "Campaign id</label> <input id=\"t-campaign\" name=\"campaign\" "
		      "inputmode=\"numeric\" value=\"");
	pw_web_esc(p, campaign);
	pw_web_put(p, "\"> <button type=\"submit\">Show</button></form>\n");
	if (!j) {
		pw_web_message(p, "error", msg);
	} else {
		pw_web_table(p, cJSON_GetObjectItemCaseSensitive(j, "tickets"),
			     "One ticket per host of each campaign", "id", "/tickets/", "id");
		cJSON_Delete(j);
	}
	pw_web_foot(p);
}

void pw_web_ticket(struct pw_web_page *p, int64_t id)
{
	char path[64];
	snprintf(path, sizeof path, "/api/v1/tickets/%" PRId64, id);
	cJSON *j = pw_web_page_data(p, path);
	if (!j)
		return;
	char title[64];
	snprintf(title, sizeof title, "Ticket %" PRId64, id);
	pw_web_head(p, 200, title);
	cJSON *events = cJSON_DetachItemFromObjectCaseSensitive(j, "events");
	cJSON *risks = cJSON_DetachItemFromObjectCaseSensitive(j, "risk_acceptances");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "campaign_id"),
		    *h = cJSON_GetObjectItemCaseSensitive(j, "host_id");
	if (cJSON_IsNumber(c) && cJSON_IsNumber(h))
		pw_web_putf(p,
			    "<p><a href=\"/campaigns/%" PRId64 "\">The campaign</a>, <a "
			    "href=\"/hosts/%" PRId64 "\">the host</a></p>\n",
			    (int64_t)c->valuedouble, (int64_t)h->valuedouble);
	pw_web_dl(p, j, NULL);
	cJSON_Delete(j);
	pw_web_put(p, "<h2>Log</h2>\n<p>Append-only: every step, who took it and when.</p>\n");
	pw_web_put(p, "<div class=\"wide\">");
	pw_web_table(p, events, "The ticket's events, oldest first", NULL, NULL, NULL);
	pw_web_put(p, "</div>\n");
	pw_web_put(p, "<h2>Risk acceptances</h2>\n");
	pw_web_table(p, risks, NULL, NULL, NULL, NULL);
	cJSON_Delete(events);
	cJSON_Delete(risks);
	pw_web_foot(p);
}

void pw_web_host_tickets(struct pw_web_page *p, int64_t host_id)
{
	char id[24], msg[PW_WEB_MSG];
	snprintf(id, sizeof id, "%" PRId64, host_id);
	pw_query_param q = {"host", id};
	cJSON *j;
	(void)pw_web_call(p, "GET", "/api/v1/tickets", &q, 1, NULL, &j, msg, sizeof msg);
	pw_web_put(p, "<h2>Tickets</h2>\n");
	if (!j) {
		pw_web_message(p, "error", msg);
		return;
	}
	pw_web_table(p, cJSON_GetObjectItemCaseSensitive(j, "tickets"), NULL, "id", "/tickets/",
		     "id");
	cJSON_Delete(j);
}
