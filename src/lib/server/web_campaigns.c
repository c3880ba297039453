/* The campaign pages: the list, a new campaign from a host filter and a
 * selection with its dry run first, a campaign with its hosts by wave,
 * the steps a person takes ("My actions"). */
#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/campaign_select.h"

#include "server-internal.h"

void pw_web_campaigns(struct pw_web_page *p)
{
	cJSON *j = pw_web_page_data(p, "/api/v1/campaigns");
	if (!j)
		return;
	pw_web_head(p, 200, "Campaigns");
	if (pw_web_may(p, "POST", "/api/v1/campaigns"))
		pw_web_put(p, "<p><a href=\"/campaigns/new\">New campaign</a></p>\n");
	pw_web_table(p, cJSON_GetObjectItemCaseSensitive(j, "campaigns"), NULL, "name",
		     "/campaigns/", "id");
	cJSON_Delete(j);
	pw_web_foot(p);
}

/* The new-campaign form's text fields, as POST /api/v1/campaigns names
 * them; the soak (in the CLI's --soak words) and the emergency checkbox
 * are converted. The dry run's confirmation carries them all. */
static const char *const text_fields[] = {"name", "hosts", "findings", "upgrades", "flow"};
#define N_TEXT (sizeof text_fields / sizeof text_fields[0])
static const char *const create_fields[] = {"name", "hosts", "findings", "upgrades",
					    "flow", "soak",  "emergency"};
#define N_CREATE (sizeof create_fields / sizeof create_fields[0])

static const char *field_value(const pw_form *f, const pw_web_request *rq, const char *key)
{
	return f ? pw_form_get(f, key) : pw_web_query(rq, key);
}

static void text_field(struct pw_web_page *p, const char *name, const char *text, const char *hint,
		       const char *v, bool required)
{
	pw_web_putf(p, "<p><label for=\"c-%s\">", name);
	pw_web_esc(p, text);
	pw_web_putf(
		p,
		"</label> <input id=\"c-%s\" name=\"%s\" aria-describedby=\"c-%s-hint\"%s value=\"",
		name, name, name, required ? " required" : "");
	pw_web_esc(p, v);
	pw_web_putf(p, "\"> <small id=\"c-%s-hint\">", name);
	pw_web_esc(p, hint);
	pw_web_put(p, "</small></p>");
}

/* The form, filled from f (a post) or the query (a link from the hosts
 * page). */
static void create_form(struct pw_web_page *p, const pw_form *f)
{
	const pw_web_request *rq = p->rq;
	pw_web_put(p, "<form method=\"post\" action=\"/campaigns/new\"><fieldset>"
		      "<legend>What the campaign covers</legend>");
	pw_web_csrf(p);
	text_field(p, "name", "Name", "shown in lists and mails", field_value(f, rq, "name"), true);
	const char *hosts = field_value(f, rq, "hosts");
	text_field(p, "hosts", "Hosts",
		   "all, or key=value pairs joined by commas: category, exposure, environment, "
		   "owner, criticality (N or higher), overdue, stale (days)",
		   hosts && *hosts ? hosts : "all", true);
	text_field(p, "findings", "Findings (optional)",
		   "key=value pairs: priority, package, cve, advisory, kev, due_before",
		   field_value(f, rq, "findings"), false);
	text_field(p, "upgrades", "Upgrades (optional)",
		   "package names joined by commas, as the upgrades list shows them",
		   field_value(f, rq, "upgrades"), false);
	const char *flow = field_value(f, rq, "flow");
	pw_web_put(p, "<p><label for=\"c-flow\">Flow</label> <select id=\"c-flow\" name=\"flow\">");
	static const char *const flows[][2] = {{"auto", "by each host's category"},
					       {"1", "Flow 1"},
					       {"2", "Flow 2 (owner's approval)"}};
	for (size_t i = 0; i < 3; i++)
		pw_web_putf(p, "<option value=\"%s\"%s>%s</option>", flows[i][0],
			    flow && !strcmp(flow, flows[i][0]) ? " selected" : "", flows[i][1]);
	pw_web_put(p, "</select></p>");
	text_field(p, "soak", "Soak time (optional)",
		   "between waves: days (2), or a number with s, m, h or d; default 2 days",
		   field_value(f, rq, "soak"), false);
	/* An emergency campaign is a manager's (or admin's) decision. */
	if (p->s.user.role == PW_ROLE_MANAGER || p->s.user.role == PW_ROLE_ADMIN) {
		const char *em = field_value(f, rq, "emergency");
		pw_web_putf(p,
			    "<p><input type=\"checkbox\" id=\"c-emergency\" name=\"emergency\" "
			    "value=\"yes\"%s> <label for=\"c-emergency\">Emergency: may patch "
			    "outside maintenance windows</label></p>",
			    em && *em ? " checked" : "");
	}
	pw_web_put(p, "<button type=\"submit\">Dry run</button></fieldset></form>\n");
}

void pw_web_campaign_new(struct pw_web_page *p)
{
	if (!pw_web_may(p, "POST", "/api/v1/campaigns")) {
		pw_web_error_page(p, 403, "your role may not create campaigns");
		return;
	}
	pw_web_head(p, 200, "New campaign");
	pw_web_put(p, "<p>The dry run shows the hosts, their flows, waves and findings; nothing "
		      "is stored until you confirm it.</p>\n");
	create_form(p, NULL);
	pw_web_foot(p);
}

/* The form as the API's body; NULL after an error page. */
static char *create_body(struct pw_web_page *p, const pw_form *f, bool dry_run)
{
	cJSON *b = cJSON_CreateObject();
	bool ok = b != NULL;
	for (size_t i = 0; ok && i < N_TEXT; i++) {
		const char *v = pw_form_get(f, text_fields[i]);
		if (v && *v)
			ok = cJSON_AddStringToObject(b, text_fields[i], v) != NULL;
	}
	const char *soak = pw_form_get(f, "soak"), *em = pw_form_get(f, "emergency");
	if (ok && soak && *soak) {
		int64_t seconds;
		pw_error e = PW_ERROR_INIT;
		if (pw_campaign_soak_parse(soak, &seconds, &e)) {
			cJSON_Delete(b);
			pw_web_error_page(p, 400, pw_error_text(&e));
			return NULL;
		}
		ok = cJSON_AddNumberToObject(b, "soak_seconds", (double)seconds) != NULL;
	}
	ok = ok && cJSON_AddBoolToObject(b, "emergency", em && *em) &&
	     cJSON_AddBoolToObject(b, "dry_run", dry_run);
	char *body = ok ? cJSON_PrintUnformatted(b) : NULL;
	cJSON_Delete(b);
	if (!body)
		pw_web_error_page(p, 500, "the server ran out of memory");
	return body;
}

/* POST /campaigns/new: without `confirm`, the dry run and a form to
 * confirm it; with it, the campaign. */
void pw_web_campaign_create(struct pw_web_page *p, const pw_form *f)
{
	const char *confirm = pw_form_get(f, "confirm");
	bool dry = !confirm || !*confirm;
	char *body = create_body(p, f, dry);
	if (!body)
		return;
	cJSON *j;
	char msg[PW_WEB_MSG];
	int st = pw_web_call(p, "POST", "/api/v1/campaigns", NULL, 0, body, &j, msg, sizeof msg);
	cJSON_free(body);
	if (!dry && j) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
		char to[96];
		snprintf(to, sizeof to, "/campaigns/%" PRId64 "?done=created",
			 cJSON_IsNumber(id) ? (int64_t)id->valuedouble : 0);
		cJSON_Delete(j);
		pw_web_redirect(p, to);
		return;
	}
	pw_web_head(p, j ? 200 : st, "New campaign");
	if (!j) {
		/* The API's refusal, and the form to correct it. */
		pw_web_message(p, "error", msg);
		create_form(p, f);
		pw_web_foot(p);
		return;
	}
	pw_web_put(p, "<h2>Dry run</h2>\n<p>Nothing is stored yet.</p>\n");
	pw_web_dl(p, j, "hosts");
	pw_web_table(p, cJSON_GetObjectItemCaseSensitive(j, "hosts"),
		     "The hosts, their flow, wave and findings", "hostname", "/hosts/", "host_id");
	cJSON_Delete(j);
	pw_web_put(p, "<form method=\"post\" action=\"/campaigns/new\">");
	pw_web_csrf(p);
	for (size_t i = 0; i < N_CREATE; i++) {
		const char *v = pw_form_get(f, create_fields[i]);
		if (v && *v)
			pw_web_hidden(p, create_fields[i], v);
	}
	pw_web_hidden(p, "confirm", "yes");
	pw_web_put(p, "<button type=\"submit\">Create the campaign</button></form>\n"
		      "<h2>Change the selection</h2>\n");
	create_form(p, f);
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

/* Whether host `h` of a campaign waits for this user: for their role,
 * and for an application owner, of their own application (the host's
 * app_owner is their name) or of one nobody owns, whose mails go to
 * every application owner (campaign/notice.c). The campaign library
 * decides whether this user may take the step. */
static bool mine(const struct pw_web_page *p, const cJSON *h)
{
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(h, "next_actor");
	if (!cJSON_IsString(next) || strcmp(next->valuestring, pw_role_name(p->s.user.role)) != 0)
		return false;
	const char *owner = pw_web_str(h, "app_owner");
	return p->s.user.role != PW_ROLE_APP_OWNER || !*owner || !strcmp(owner, p->s.user.name);
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
	/* The redirects' codes: "created", or the step taken. */
	const char *done = pw_web_query(p->rq, "done");
	bool known = done && !strcmp(done, "created");
	for (size_t i = 0; done && i < sizeof steps / sizeof steps[0]; i++)
		known |= !strcmp(done, steps[i].step);
	if (known)
		pw_web_message(p, "ok", done);
	pw_web_putf(p,
		    "<p><a href=\"/tickets?campaign=%" PRId64 "\">The campaign's tickets</a></p>\n",
		    id);
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
	char msg[PW_WEB_MSG];
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
	if (!b) {
		pw_web_error_page(p, 500, "the server ran out of memory");
		return;
	}
	char path[96], to[160];
	snprintf(path, sizeof path, "/api/v1/campaigns/%" PRId64 "/%s", id, name);
	snprintf(to, sizeof to, "/campaigns/%" PRId64 "?done=%s", id, name);
	pw_web_act(p, "POST", path, b, to);
}
