/* The campaign pages: the list, a campaign with its hosts by wave, the
 * steps a person takes ("My actions"). */
#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server-internal.h"

void pw_web_campaigns(struct pw_web_page *p)
{
	cJSON *j = pw_web_page_data(p, "/api/v1/campaigns");
	if (!j)
		return;
	pw_web_head(p, 200, "Campaigns");
	pw_web_table(p, cJSON_GetObjectItemCaseSensitive(j, "campaigns"), NULL, "name",
		     "/campaigns/", "id");
	cJSON_Delete(j);
	pw_web_foot(p);
}

/* The steps a person takes on a campaign host, by the role whose turn
 * it is (pw_chost_next_actor); the campaign library decides whether the
 * step fits the host's state. */
static const struct {
	const char *role, *step, *button;
} steps[] = {
	{"operator", "confirm-backup", "Confirm the backup"},
	{"app-owner", "approve", "Approve"},
	{"app-owner", "decline", "Decline"},
	{"app-owner", "record-uat", "Record the UAT"},
	{"manager", "sign-off", "Sign off the risk acceptance"},
};

static void level(struct pw_web_page *p, const char *name, const char *text, const char *uid)
{
	pw_web_putf(p, "<label for=\"%s-%s\">", name, uid);
	pw_web_esc(p, text);
	pw_web_putf(p,
		    "</label><select id=\"%s-%s\" name=\"%s\" required><option value=\"\">choose"
		    "</option><option>low</option><option>medium</option><option>high</option>"
		    "</select>",
		    name, uid, name);
}

/* The forms of the steps `h` (a campaign host) waits for from this
 * user, posting to /campaigns/<id>/step. */
static void step_forms(struct pw_web_page *p, int64_t campaign, const cJSON *h)
{
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(h, "hostname");
	const char *hn = cJSON_IsString(host) ? host->valuestring : "";
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		if (strcmp(steps[i].role, pw_role_name(p->s.user.role)) != 0)
			continue;
		char uid[160];
		snprintf(uid, sizeof uid, "%" PRId64 "-%zu-%.100s", campaign, i, hn);
		for (char *c = uid; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
				*c = '_';
		pw_web_putf(p, "<form method=\"post\" action=\"/campaigns/%" PRId64 "/step\"%s>",
			    campaign,
			    !strcmp(steps[i].step, "decline") ? " data-confirm=\"Decline the patch "
								"and ask for a risk acceptance?\""
							      : "");
		pw_web_put(p, "<fieldset><legend>");
		pw_web_esc(p, steps[i].button);
		pw_web_put(p, ": ");
		pw_web_esc(p, hn);
		pw_web_put(p, "</legend>");
		pw_web_hidden(p, "csrf", p->s.csrf);
		pw_web_hidden(p, "step", steps[i].step);
		pw_web_hidden(p, "host", hn);
		if (!strcmp(steps[i].step, "decline")) {
			level(p, "data_value", "Value of the data on the host", uid);
			level(p, "threat_frequency", "How often the threat occurs", uid);
			level(p, "impact", "Impact if exploited", uid);
			pw_web_putf(
				p,
				"<label for=\"cost-%s\">Cost and benefit of patching now</label>"
				"<textarea id=\"cost-%s\" name=\"cost_benefit\" "
				"required></textarea>",
				uid, uid);
		}
		if (!strcmp(steps[i].step, "sign-off"))
			pw_web_putf(
				p,
				"<label for=\"exp-%s\">The acceptance expires (YYYY-MM-DD)</label>"
				"<input id=\"exp-%s\" name=\"expires\" required>",
				uid, uid);
		pw_web_putf(
			p,
			"<label for=\"note-%s\">%s</label><textarea id=\"note-%s\" name=\"note\"%s>"
			"</textarea><button type=\"submit\">",
			uid, !strcmp(steps[i].step, "decline") ? "Reason" : "Note (optional)", uid,
			!strcmp(steps[i].step, "decline") ? " required" : "");
		pw_web_esc(p, steps[i].button);
		pw_web_put(p, "</button></fieldset></form>\n");
	}
}

/* Whether host `h` of a campaign waits for this user's role. The
 * campaign library decides whether this user may take the step. */
static bool mine(const struct pw_web_page *p, const cJSON *h)
{
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(h, "next_actor");
	return cJSON_IsString(next) && !strcmp(next->valuestring, pw_role_name(p->s.user.role));
}

void pw_web_campaign(struct pw_web_page *p, int64_t id)
{
	char path[96];
	snprintf(path, sizeof path, "/api/v1/campaigns/%" PRId64, id);
	cJSON *j = pw_web_page_data(p, path);
	if (!j)
		return;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
	pw_web_head(p, 200, cJSON_IsString(name) ? name->valuestring : "Campaign");
	const char *done = pw_web_query(p->rq, "done");
	if (done)
		pw_web_message(p, "ok", done);
	pw_web_dl(p, j, "host_list");
	const cJSON *hl = cJSON_GetObjectItemCaseSensitive(j, "host_list");
	pw_web_put(p, "<h2>Hosts by wave</h2>\n");
	pw_web_table(p, hl, "Each host's state and who acts next", "hostname", "/hosts/",
		     "host_id");
	const cJSON *h;
	bool any = false;
	cJSON_ArrayForEach(h, hl) {
		if (!mine(p, h))
			continue;
		if (!any)
			pw_web_put(p, "<h2>Your actions</h2>\n");
		any = true;
		step_forms(p, id, h);
	}
	cJSON_Delete(j);
	pw_web_foot(p);
}

void pw_web_actions(struct pw_web_page *p)
{
	cJSON *j = pw_web_page_data(p, "/api/v1/campaigns");
	if (!j)
		return;
	pw_web_head(p, 200, "My actions");
	bool any = false;
	char msg[512];
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "campaigns")) {
		const cJSON *cid = cJSON_GetObjectItemCaseSensitive(c, "id");
		if (!cJSON_IsNumber(cid))
			continue;
		char path[96];
		cJSON *full;
		int64_t id = (int64_t)cid->valuedouble;
		snprintf(path, sizeof path, "/api/v1/campaigns/%" PRId64, id);
		if (pw_web_call(p, "GET", path, NULL, 0, NULL, &full, msg, sizeof msg) != 200)
			continue;
		const cJSON *h;
		cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(full, "host_list")) {
			if (!mine(p, h))
				continue;
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(full, "name");
			pw_web_putf(p, "<h2><a href=\"/campaigns/%" PRId64 "\">", id);
			pw_web_esc(p, cJSON_IsString(name) ? name->valuestring : "");
			pw_web_put(p, "</a></h2>\n");
			any = true;
			step_forms(p, id, h);
		}
		cJSON_Delete(full);
	}
	cJSON_Delete(j);
	if (!any)
		pw_web_put(p, "<p>Nothing waits for you.</p>\n");
	pw_web_foot(p);
}

/* POST /campaigns/<id>/step: the form as the API's step body. */
void pw_web_step(struct pw_web_page *p, int64_t id, const pw_form *f)
{
	const char *name = pw_form_get(f, "step");
	bool known = false;
	for (size_t i = 0; name && i < sizeof steps / sizeof steps[0]; i++)
		known |= !strcmp(name, steps[i].step);
	if (!known) {
		pw_web_error_page(p, 400, "the form names no known step");
		return;
	}
	static const char *const fields[] = {"host",   "note",         "data_value",
					     "impact", "cost_benefit", "threat_frequency",
					     "expires"};
	cJSON *b = cJSON_CreateObject();
	for (size_t i = 0; b && i < sizeof fields / sizeof fields[0]; i++) {
		const char *v = pw_form_get(f, fields[i]);
		if (v && v[0] && !cJSON_AddStringToObject(b, fields[i], v)) {
			cJSON_Delete(b);
			b = NULL;
		}
	}
	char *body = b ? cJSON_PrintUnformatted(b) : NULL;
	cJSON_Delete(b);
	if (!body) {
		pw_web_error_page(p, 500, "the server ran out of memory");
		return;
	}
	char path[96], msg[512];
	cJSON *j;
	snprintf(path, sizeof path, "/api/v1/campaigns/%" PRId64 "/%s", id, name);
	int st = pw_web_call(p, "POST", path, NULL, 0, body, &j, msg, sizeof msg);
	cJSON_free(body);
	if (!j) {
		pw_web_error_page(p, st, msg);
		return;
	}
	cJSON_Delete(j);
	char to[160];
	snprintf(to, sizeof to, "/campaigns/%" PRId64 "?done=%s", id, name);
	pw_web_redirect(p, to);
}
