/* The audit log for the auditor: the hash chain's verification (GET
 * /api/v1/audit/verify: the same pw_audit_verify as `audit verify`)
 * and the events, oldest first, a page at a time. */
#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "server-internal.h"

#define PAGE "100"

static void verification(struct pw_web_page *p)
{
	cJSON *v;
	char msg[PW_WEB_MSG];
	(void)pw_web_call(p, "GET", "/api/v1/audit/verify", NULL, 0, NULL, &v, msg, sizeof msg);
	pw_web_put(p, "<h2>Verification</h2>\n");
	if (!v) {
		pw_web_message(p, "error", msg);
		return;
	}
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(v, "events");
	char text[PW_WEB_MSG];
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "intact"))) {
		snprintf(text, sizeof text,
			 "the hash chain is intact: %" PRId64 " events, the newest's hash %.64s",
			 cJSON_IsNumber(events) ? (int64_t)events->valuedouble : 0,
			 pw_web_str(v, "head_hash"));
		pw_web_message(p, "verified", text);
	} else {
		const cJSON *bad = cJSON_GetObjectItemCaseSensitive(v, "bad_id");
		snprintf(text, sizeof text,
			 "the hash chain is BROKEN (%.64s) at event %" PRId64 ": %.300s",
			 pw_web_str(v, "fault"),
			 cJSON_IsNumber(bad) ? (int64_t)bad->valuedouble : 0,
			 pw_web_str(v, "reason"));
		pw_web_message(p, "error", text);
	}
	cJSON_Delete(v);
}

void pw_web_audit(struct pw_web_page *p)
{
	const char *after = pw_web_query(p->rq, "after");
	pw_query_param q[] = {{"limit", PAGE}, {"after", after}};
	cJSON *j;
	char msg[PW_WEB_MSG];
	int st = pw_web_call(p, "GET", "/api/v1/audit", q, after && *after ? 2 : 1, NULL, &j, msg,
			     sizeof msg);
	if (!j) {
		pw_web_error_page(p, st, msg);
		return;
	}
	pw_web_head(p, 200, "Audit log");
	verification(p);
	pw_web_put(p, "<h2>Events</h2>\n<div class=\"wide\">");
	pw_web_table(p, cJSON_GetObjectItemCaseSensitive(j, "events"),
		     "Oldest first, " PAGE " a page; each event's hash covers the one before", NULL,
		     NULL, NULL);
	pw_web_put(p, "</div>\n");
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(j, "next_after");
	pw_web_put(p, "<p>");
	if (after && *after)
		pw_web_put(p, "<a href=\"/audit\">First page</a> ");
	if (cJSON_IsNumber(next))
		pw_web_putf(p, "<a href=\"/audit?after=%" PRId64 "\">Next page</a>",
			    (int64_t)next->valuedouble);
	pw_web_put(p, "</p>\n");
	cJSON_Delete(j);
	pw_web_foot(p);
}
