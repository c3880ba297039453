/* The fleet page: the summary at a glance and the running campaigns. */
#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server-internal.h"

void pw_web_fleet(struct pw_web_page *p)
{
	cJSON *j = pw_web_page_data(p, "/api/v1/summary");
	if (!j)
		return;
	pw_web_head(p, 200, "Fleet");
	pw_web_dl(p, j, NULL);
	cJSON_Delete(j);
	/* The campaigns are extra: a role that may not list them sees none. */
	cJSON *c;
	char msg[PW_WEB_MSG];
	(void)pw_web_call(p, "GET", "/api/v1/campaigns", NULL, 0, NULL, &c, msg, sizeof msg);
	if (c) {
		pw_web_put(p, "<h2>Campaigns</h2>\n");
		pw_web_table(p, cJSON_GetObjectItemCaseSensitive(c, "campaigns"), NULL, "name",
			     "/campaigns/", "id");
		cJSON_Delete(c);
	}
	pw_web_foot(p);
}
