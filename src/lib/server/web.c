/* The console's pages and its login. Every page's data comes from the
 * API's routes run as the session's user (call()), so what a role may
 * read or do, and every rule, is the API's. */
#include <cjson/cJSON.h>
#include <sodium.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/session.h"
#include "patchwarden/token.h"
#include "patchwarden/web.h"

#include "server-internal.h"

#define COOKIE "pw_session"
#define LOGIN_COOKIE "pw_login"

const char pw_web_csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
			  "img-src 'self'; form-action 'self'; base-uri 'none'; "
			  "frame-ancestors 'none'";

static const pw_session_limits limits = PW_SESSION_LIMITS_DEFAULT;

void pw_web_response_release(pw_web_response *r)
{
	pw_buf_release(&r->body);
}

bool pw_web_owns(const char *path)
{
	static const char *const exact[] = {"/",     "/login",     "/logout", "/hosts",
					    "/cves", "/campaigns", "/actions"};
	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
		if (!strcmp(path, exact[i]))
			return true;
	return !strncmp(path, "/static/", 8) || !strncmp(path, "/hosts/", 7) ||
	       !strncmp(path, "/campaigns/", 11);
}

struct page {
	const pw_api_env *env;
	const pw_web_request *rq;
	pw_web_response *out;
	pw_session s;
	pw_api_identity who;
	bool in;    /* logged in */
	pw_err oom; /* an append failed */
};

static void put(struct page *p, const char *s)
{
	if (!p->oom)
		p->oom = pw_buf_puts(&p->out->body, s);
}

static void putf(struct page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct page *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!p->oom)
		p->oom = pw_buf_vprintf(&p->out->body, fmt, ap);
	va_end(ap);
}

/* Escaped text: the one way a value reaches a page. */
static void esc(struct page *p, const char *s)
{
	if (!p->oom)
		p->oom = pw_html_escape(&p->out->body, s);
}

static void head(struct page *p, int status, const char *title)
{
	p->out->status = status;
	p->out->content_type = "text/html; charset=utf-8";
	pw_buf_reset(&p->out->body);
	put(p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
	esc(p, title);
	putf(p,
	     " - patchwarden</title><link rel=\"stylesheet\" href=\"%s\">"
	     "<script src=\"%s\" defer></script></head><body>"
	     "<a class=\"skip\" href=\"#main\">Skip to the content</a><header>",
	     pw_web_asset_path("css"), pw_web_asset_path("js"));
	if (p->in) {
		put(p,
		    "<nav aria-label=\"Main\"><a href=\"/\">Fleet</a><a href=\"/hosts\">Hosts</a>"
		    "<a href=\"/cves\">Are we exposed?</a><a href=\"/campaigns\">Campaigns</a>"
		    "<a href=\"/actions\">My actions</a></nav>"
		    "<form method=\"post\" action=\"/logout\"><span>");
		esc(p, p->s.user.name);
		put(p, " (");
		esc(p, pw_role_name(p->s.user.role));
		put(p, ") </span><input type=\"hidden\" name=\"csrf\" value=\"");
		esc(p, p->s.csrf);
		put(p, "\"><button type=\"submit\">Log out</button></form>");
	} else {
		put(p, "<span>patchwarden</span>");
	}
	put(p, "</header><main id=\"main\"><h1>");
	esc(p, title);
	put(p, "</h1>\n");
}

static void foot(struct page *p)
{
	put(p, "</main></body></html>\n");
}

static void message(struct page *p, const char *cls, const char *text)
{
	bool error = !strcmp(cls, "error");
	/* The word says it, not only the colour. */
	putf(p, "<p class=\"%s\" role=\"%s\">%s: ", cls, error ? "alert" : "status",
	     error ? "Error" : "Done");
	esc(p, text);
	put(p, "</p>\n");
}

static void error_page(struct page *p, int status, const char *text)
{
	head(p, status, status == 403 ? "Not allowed" : status == 404 ? "Not found" : "Error");
	message(p, "error", text);
	foot(p);
}

static void redirect(struct page *p, const char *to)
{
	p->out->status = 303;
	snprintf(p->out->location, sizeof p->out->location, "%s", to);
	pw_buf_reset(&p->out->body);
	put(p, "See other\n");
	p->out->content_type = "text/plain; charset=utf-8";
}

/* ---- the API's routes, run as the session's user -------------------- */

/* Runs `method path` with the query and JSON body given; the reply's
 * JSON in *out (NULL on an error, whose message goes to msg). Returns
 * the status. A role the route does not let in is refused here with
 * the API's own 403, before the handler runs. */
static int call(struct page *p, const char *method, const char *path, const pw_query_param *q,
		size_t nq, const char *body, cJSON **out, char *msg, size_t msize)
{
	*out = NULL;
	msg[0] = '\0';
	pw_route_args args;
	int status;
	pw_api_response resp = PW_API_RESPONSE_INIT;
	const pw_route *r = pw_route_find(method, path, &args, &status, resp.allow);
	if (!r) {
		snprintf(msg, msize, "there is no such page");
		return 404;
	}
	if (pw_route_expected_status(r, &p->who) == 403) {
		snprintf(msg, msize, "your role (%s) may not do this",
			 pw_role_name(p->s.user.role));
		return 403;
	}
	pw_api_run(p->env, r, &args, &p->who, q, nq, body ? body : "", body ? strlen(body) : 0,
		   &resp);
	status = resp.status;
	cJSON *j = resp.body.len ? cJSON_ParseWithLength(resp.body.data, resp.body.len) : NULL;
	if (status >= 400) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
		snprintf(msg, msize, "%s",
			 cJSON_IsString(m) ? m->valuestring : "the server could not do this");
		cJSON_Delete(j);
	} else if (!j) {
		snprintf(msg, msize, "the server ran out of memory");
		status = 500;
	} else {
		*out = j;
	}
	pw_api_response_release(&resp);
	return status;
}

/* The JSON of `GET path` for a page, or NULL after an error page. */
static cJSON *page_data(struct page *p, const char *path)
{
	cJSON *j;
	char msg[512];
	int st = call(p, "GET", path, NULL, 0, NULL, &j, msg, sizeof msg);
	if (!j)
		error_page(p, st, msg);
	return j;
}

/* ---- JSON as HTML --------------------------------------------------- */

static void value(struct page *p, const cJSON *v);

static void scalar(struct page *p, const cJSON *v)
{
	if (cJSON_IsString(v))
		esc(p, v->valuestring);
	else if (cJSON_IsBool(v))
		put(p, cJSON_IsTrue(v) ? "yes" : "no");
	else if (cJSON_IsNumber(v) && v->valuedouble == (double)(int64_t)v->valuedouble)
		putf(p, "%" PRId64, (int64_t)v->valuedouble);
	else if (cJSON_IsNumber(v))
		putf(p, "%g", v->valuedouble);
	else
		put(p, "-");
}

/* "open_findings" as "open findings". */
static void label(struct page *p, const char *key)
{
	char buf[128];
	snprintf(buf, sizeof buf, "%s", key);
	for (char *c = buf; *c; c++)
		if (*c == '_')
			*c = ' ';
	esc(p, buf);
}

/* A table of an array of objects; the column `link_key` links to
 * link_prefix + the row's `link_id`. */
static void table(struct page *p, const cJSON *arr, const char *caption, const char *link_key,
		  const char *link_prefix, const char *link_id)
{
	const cJSON *first = cJSON_GetArrayItem(arr, 0);
	if (!cJSON_IsObject(first)) {
		put(p, "<p>None.</p>\n");
		return;
	}
	put(p, "<table>");
	if (caption) {
		put(p, "<caption>");
		esc(p, caption);
		put(p, "</caption>");
	}
	put(p, "<thead><tr>");
	const cJSON *k;
	cJSON_ArrayForEach(k, first) {
		put(p, "<th scope=\"col\">");
		label(p, k->string);
		put(p, "</th>");
	}
	put(p, "</tr></thead><tbody>\n");
	const cJSON *row;
	cJSON_ArrayForEach(row, arr) {
		put(p, "<tr>");
		cJSON_ArrayForEach(k, first) {
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(row, k->string);
			const cJSON *id = link_id ? cJSON_GetObjectItemCaseSensitive(row, link_id)
						  : NULL;
			put(p, "<td>");
			bool link = link_key && !strcmp(k->string, link_key) && cJSON_IsNumber(id);
			if (link)
				putf(p, "<a href=\"%s%" PRId64 "\">", link_prefix,
				     (int64_t)id->valuedouble);
			value(p, c);
			if (link)
				put(p, "</a>");
			put(p, "</td>");
		}
		put(p, "</tr>\n");
	}
	put(p, "</tbody></table>\n");
}

static void dl(struct page *p, const cJSON *o, const char *skip)
{
	put(p, "<dl>");
	const cJSON *k;
	cJSON_ArrayForEach(k, o) {
		if (skip && !strcmp(k->string, skip))
			continue;
		put(p, "<dt>");
		label(p, k->string);
		put(p, "</dt><dd>");
		value(p, k);
		put(p, "</dd>");
	}
	put(p, "</dl>\n");
}

static void value(struct page *p, const cJSON *v)
{
	if (cJSON_IsObject(v)) {
		dl(p, v, NULL);
	} else if (cJSON_IsArray(v) && cJSON_IsObject(cJSON_GetArrayItem(v, 0))) {
		table(p, v, NULL, NULL, NULL, NULL);
	} else if (cJSON_IsArray(v)) {
		const cJSON *e;
		bool first = true;
		cJSON_ArrayForEach(e, v) {
			if (!first)
				put(p, ", ");
			first = false;
			scalar(p, e);
		}
	} else {
		scalar(p, v);
	}
}

/* ---- pages ------------------------------------------------------------ */

static void fleet(struct page *p)
{
	cJSON *j = page_data(p, "/api/v1/summary");
	if (!j)
		return;
	head(p, 200, "Fleet");
	dl(p, j, NULL);
	cJSON_Delete(j);
	/* The campaigns are extra: a role that may not list them sees none. */
	cJSON *c;
	char msg[512];
	(void)call(p, "GET", "/api/v1/campaigns", NULL, 0, NULL, &c, msg, sizeof msg);
	if (c) {
		put(p, "<h2>Campaigns</h2>\n");
		table(p, cJSON_GetObjectItemCaseSensitive(c, "campaigns"), NULL, "name",
		      "/campaigns/", "id");
		cJSON_Delete(c);
	}
	foot(p);
}

static const char *query_get(const pw_web_request *rq, const char *key)
{
	for (size_t i = 0; i < rq->n_query; i++)
		if (!strcmp(rq->query[i].key, key))
			return rq->query[i].value;
	return NULL;
}

/* The `host list` filters the hosts page offers (GET /api/v1/hosts). */
static const char *const host_filters[] = {
	"state",   "category", "environment", "owner", "criticality", "priority",
	"package", "cve",      "advisory",    "kev",   "overdue",     "stale",
};
#define N_FILTERS (sizeof host_filters / sizeof host_filters[0])

/* Appends a query value, percent-encoded but for unreserved bytes. */
static void url_value(struct page *p, const char *v)
{
	for (; v && *v; v++) {
		unsigned char c = (unsigned char)*v;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			putf(p, "%c", c);
		else
			putf(p, "%%%02X", c);
	}
}

/* The next page of the same filtered list. */
static void next_link(struct page *p, const pw_query_param *q, size_t nq, int64_t after)
{
	put(p, "<p><a href=\"/hosts?");
	for (size_t i = 0; i < nq; i++) {
		if (!strcmp(q[i].key, "after"))
			continue;
		url_value(p, q[i].key);
		put(p, "=");
		url_value(p, q[i].value);
		put(p, "&amp;");
	}
	putf(p, "after=%" PRId64 "\">Next page</a></p>\n", after);
}

static void hosts(struct page *p)
{
	/* Empty fields of the filter form mean "any". */
	pw_query_param q[N_FILTERS + 2];
	size_t nq = 0;
	for (size_t i = 0; i < p->rq->n_query && nq < N_FILTERS + 2; i++)
		if (p->rq->query[i].value && p->rq->query[i].value[0])
			q[nq++] = p->rq->query[i];
	cJSON *j;
	char msg[512];
	int st = call(p, "GET", "/api/v1/hosts", q, nq, NULL, &j, msg, sizeof msg);
	head(p, j ? 200 : st, "Hosts");
	put(p, "<form method=\"get\" action=\"/hosts\"><fieldset><legend>Filter</legend>");
	for (size_t i = 0; i < N_FILTERS; i++) {
		putf(p, "<label>%s <input name=\"%s\" value=\"", host_filters[i], host_filters[i]);
		esc(p, query_get(p->rq, host_filters[i]));
		put(p, "\"></label>");
	}
	put(p, "<button type=\"submit\">Show</button></fieldset></form>\n");
	if (!j) {
		message(p, "error", msg);
	} else {
		table(p, cJSON_GetObjectItemCaseSensitive(j, "hosts"), "Hosts", "hostname",
		      "/hosts/", "id");
		const cJSON *next = cJSON_GetObjectItemCaseSensitive(j, "next_after");
		if (cJSON_IsNumber(next))
			next_link(p, q, nq, (int64_t)next->valuedouble);
		cJSON_Delete(j);
	}
	foot(p);
}

static void host(struct page *p, int64_t id)
{
	char path[96], msg[512];
	snprintf(path, sizeof path, "/api/v1/hosts/%" PRId64, id);
	cJSON *j = page_data(p, path);
	if (!j)
		return;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "hostname");
	head(p, 200, cJSON_IsString(name) ? name->valuestring : "Host");
	dl(p, j, NULL);
	cJSON_Delete(j);
	static const char *const parts[][2] = {{"upgrades", "Findings by upgrade"},
					       {"jobs", "Jobs"}};
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "/api/v1/hosts/%" PRId64 "/%s", id, parts[i][0]);
		(void)call(p, "GET", path, NULL, 0, NULL, &j, msg, sizeof msg);
		put(p, "<h2>");
		esc(p, parts[i][1]);
		put(p, "</h2>\n");
		if (!j) {
			message(p, "error", msg);
			continue;
		}
		table(p, cJSON_GetObjectItemCaseSensitive(j, parts[i][0]), NULL, NULL, NULL, NULL);
		cJSON_Delete(j);
	}
	foot(p);
}

static void cves(struct page *p)
{
	const char *q = query_get(p->rq, "q");
	head(p, 200, "Are we exposed?");
	put(p, "<form method=\"get\" action=\"/cves\"><label>CVE or advisory id "
	       "<input name=\"q\" data-autofocus required value=\"");
	esc(p, q);
	put(p, "\"></label><button type=\"submit\">Search</button></form>\n");
	if (q && q[0] && strpbrk(q, "/?#%")) {
		p->out->status = 400;
		message(p, "error", "that is not a CVE or advisory id (CVE-2024-1234, DSA-5532-1)");
	} else if (q && q[0]) {
		char path[128], msg[512];
		cJSON *j;
		bool cve = !strncasecmp(q, "CVE-", 4);
		snprintf(path, sizeof path, "/api/v1/%s/%.64s", cve ? "cves" : "advisories", q);
		int st = call(p, "GET", path, NULL, 0, NULL, &j, msg, sizeof msg);
		if (!j) {
			p->out->status = st;
			message(p, "error", msg);
		} else {
			put(p, "<h2>");
			esc(p, q);
			put(p, "</h2>\n");
			dl(p, j, NULL);
			cJSON_Delete(j);
		}
	}
	foot(p);
}

static void campaigns(struct page *p)
{
	cJSON *j = page_data(p, "/api/v1/campaigns");
	if (!j)
		return;
	head(p, 200, "Campaigns");
	table(p, cJSON_GetObjectItemCaseSensitive(j, "campaigns"), NULL, "name", "/campaigns/",
	      "id");
	cJSON_Delete(j);
	foot(p);
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

static void hidden(struct page *p, const char *name, const char *v)
{
	putf(p, "<input type=\"hidden\" name=\"%s\" value=\"", name);
	esc(p, v);
	put(p, "\">");
}

static void level(struct page *p, const char *name, const char *text, const char *uid)
{
	putf(p, "<label for=\"%s-%s\">", name, uid);
	esc(p, text);
	putf(p,
	     "</label><select id=\"%s-%s\" name=\"%s\" required><option value=\"\">choose"
	     "</option><option>low</option><option>medium</option><option>high</option>"
	     "</select>",
	     name, uid, name);
}

/* The forms of the steps `h` (a campaign host) waits for from this
 * user, posting to /campaigns/<id>/step. */
static void step_forms(struct page *p, int64_t campaign, const cJSON *h)
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
		putf(p, "<form method=\"post\" action=\"/campaigns/%" PRId64 "/step\"%s>", campaign,
		     !strcmp(steps[i].step, "decline")
			     ? " data-confirm=\"Decline the patch and ask for a risk acceptance?\""
			     : "");
		put(p, "<fieldset><legend>");
		esc(p, steps[i].button);
		put(p, ": ");
		esc(p, hn);
		put(p, "</legend>");
		hidden(p, "csrf", p->s.csrf);
		hidden(p, "step", steps[i].step);
		hidden(p, "host", hn);
		if (!strcmp(steps[i].step, "decline")) {
			level(p, "data_value", "Value of the data on the host", uid);
			level(p, "threat_frequency", "How often the threat occurs", uid);
			level(p, "impact", "Impact if exploited", uid);
			putf(p,
			     "<label for=\"cost-%s\">Cost and benefit of patching now</label>"
			     "<textarea id=\"cost-%s\" name=\"cost_benefit\" required></textarea>",
			     uid, uid);
		}
		if (!strcmp(steps[i].step, "sign-off"))
			putf(p,
			     "<label for=\"exp-%s\">The acceptance expires (YYYY-MM-DD)</label>"
			     "<input id=\"exp-%s\" name=\"expires\" required>",
			     uid, uid);
		putf(p,
		     "<label for=\"note-%s\">%s</label><textarea id=\"note-%s\" name=\"note\"%s>"
		     "</textarea><button type=\"submit\">",
		     uid, !strcmp(steps[i].step, "decline") ? "Reason" : "Note (optional)", uid,
		     !strcmp(steps[i].step, "decline") ? " required" : "");
		esc(p, steps[i].button);
		put(p, "</button></fieldset></form>\n");
	}
}

/* Whether host `h` of a campaign waits for this user's role. The
 * campaign library decides whether this user may take the step. */
static bool mine(const struct page *p, const cJSON *h)
{
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(h, "next_actor");
	return cJSON_IsString(next) && !strcmp(next->valuestring, pw_role_name(p->s.user.role));
}

static void campaign(struct page *p, int64_t id)
{
	char path[96];
	snprintf(path, sizeof path, "/api/v1/campaigns/%" PRId64, id);
	cJSON *j = page_data(p, path);
	if (!j)
		return;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
	head(p, 200, cJSON_IsString(name) ? name->valuestring : "Campaign");
	const char *done = query_get(p->rq, "done");
	if (done)
		message(p, "ok", done);
	dl(p, j, "host_list");
	const cJSON *hl = cJSON_GetObjectItemCaseSensitive(j, "host_list");
	put(p, "<h2>Hosts by wave</h2>\n");
	table(p, hl, "Each host's state and who acts next", "hostname", "/hosts/", "host_id");
	const cJSON *h;
	bool any = false;
	cJSON_ArrayForEach(h, hl) {
		if (!mine(p, h))
			continue;
		if (!any)
			put(p, "<h2>Your actions</h2>\n");
		any = true;
		step_forms(p, id, h);
	}
	cJSON_Delete(j);
	foot(p);
}

static void actions(struct page *p)
{
	cJSON *j = page_data(p, "/api/v1/campaigns");
	if (!j)
		return;
	head(p, 200, "My actions");
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
		if (call(p, "GET", path, NULL, 0, NULL, &full, msg, sizeof msg) != 200)
			continue;
		const cJSON *h;
		cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(full, "host_list")) {
			if (!mine(p, h))
				continue;
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(full, "name");
			putf(p, "<h2><a href=\"/campaigns/%" PRId64 "\">", id);
			esc(p, cJSON_IsString(name) ? name->valuestring : "");
			put(p, "</a></h2>\n");
			any = true;
			step_forms(p, id, h);
		}
		cJSON_Delete(full);
	}
	cJSON_Delete(j);
	if (!any)
		put(p, "<p>Nothing waits for you.</p>\n");
	foot(p);
}

/* POST /campaigns/<id>/step: the form as the API's step body. */
static void step(struct page *p, int64_t id, const pw_form *f)
{
	const char *name = pw_form_get(f, "step");
	bool known = false;
	for (size_t i = 0; name && i < sizeof steps / sizeof steps[0]; i++)
		known |= !strcmp(name, steps[i].step);
	if (!known) {
		error_page(p, 400, "the form names no known step");
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
		error_page(p, 500, "the server ran out of memory");
		return;
	}
	char path[96], msg[512];
	cJSON *j;
	snprintf(path, sizeof path, "/api/v1/campaigns/%" PRId64 "/%s", id, name);
	int st = call(p, "POST", path, NULL, 0, body, &j, msg, sizeof msg);
	cJSON_free(body);
	if (!j) {
		error_page(p, st, msg);
		return;
	}
	cJSON_Delete(j);
	char to[160];
	snprintf(to, sizeof to, "/campaigns/%" PRId64 "?done=%s", id, name);
	redirect(p, to);
}

/* ---- login ------------------------------------------------------------ */

/* The page a login goes back to (a link in a mail lands on /login when
 * its reader has no session): `v` when it is a path of this server - one
 * leading '/', no "//", no scheme or backslash, only the characters of
 * the console's paths - so that no link can send who logs in to another
 * site; NULL otherwise (the fleet page). */
static const char *login_next(const char *v)
{
	if (!v || v[0] != '/' || strlen(v) > 128)
		return NULL;
	for (const char *s = v; *s; s++) {
		bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			  (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.' ||
			  (*s == '/' && s[1] != '/');
		if (!ok)
			return NULL;
	}
	return v;
}

/* The login form, with `next` (login_next's) when set. Its own CSRF
 * token (there is no session yet) is in a SameSite=Strict cookie and in
 * the form: another site's page can post a form here, but not with the
 * cookie, so nobody is logged in to an account of someone else's
 * choosing. */
static void login_form(struct page *p, int status, const char *error, const char *next)
{
	char token[PW_SECRET_HEX + 1];
	pw_error e = PW_ERROR_INIT;
	if (pw_secret_new(token, &e)) {
		error_page(p, 500, "the server has no random source; try again");
		return;
	}
	snprintf(p->out->set_cookie, sizeof p->out->set_cookie,
		 LOGIN_COOKIE "=%s; Path=/login; Max-Age=3600; HttpOnly; SameSite=Strict%s", token,
		 p->rq->secure_cookies ? "; Secure" : "");
	head(p, status, "Log in");
	if (error)
		message(p, "error", error);
	put(p, "<form method=\"post\" action=\"/login\">");
	hidden(p, "csrf", token);
	if (next)
		hidden(p, "next", next);
	put(p, "<label for=\"user\">User name</label>"
	       "<input id=\"user\" name=\"user\" autocomplete=\"username\" required "
	       "data-autofocus>"
	       "<label for=\"password\">Password</label>"
	       "<input id=\"password\" name=\"password\" type=\"password\" "
	       "autocomplete=\"current-password\" required>"
	       "<p><button type=\"submit\">Log in</button></p></form>\n");
	foot(p);
}

/* Whether the login form's token came back in both the cookie and the form. */
static bool login_csrf_ok(const struct page *p, const pw_form *f)
{
	char cookie[PW_SECRET_HEX + 1];
	const char *given = pw_form_get(f, "csrf");
	return p->rq->cookie && pw_cookie_get(p->rq->cookie, LOGIN_COOKIE, cookie, sizeof cookie) &&
	       strlen(cookie) == PW_SECRET_HEX && given && strlen(given) == PW_SECRET_HEX &&
	       sodium_memcmp(cookie, given, PW_SECRET_HEX) == 0;
}

static void login(struct page *p, const pw_form *f)
{
	const char *next = login_next(pw_form_get(f, "next"));
	if (!login_csrf_ok(p, f)) {
		login_form(p, 403,
			   "the login form was stale or came from another site: log in again here",
			   next);
		return;
	}
	char token[PW_SESSION_MAX];
	pw_error e = PW_ERROR_INIT;
	pw_session s;
	if (p->env->write_lock)
		pthread_mutex_lock(p->env->write_lock);
	pw_err rc = pw_session_login(p->env->db, pw_form_get(f, "user"), pw_form_get(f, "password"),
				     p->rq->client, &limits, token, &s, &e);
	if (p->env->write_lock)
		pthread_mutex_unlock(p->env->write_lock);
	if (rc == PW_ERR_AUTH) {
		login_form(p, 401, pw_error_text(&e), next);
		return;
	}
	if (rc) {
		error_page(p, rc == PW_ERR_UNAVAILABLE ? 503 : 500,
			   "the server could not log you in; try again shortly");
		return;
	}
	snprintf(p->out->set_cookie, sizeof p->out->set_cookie,
		 COOKIE "=%s; Path=/; Max-Age=%" PRId64 "; HttpOnly; SameSite=Strict%s", token,
		 limits.absolute, p->rq->secure_cookies ? "; Secure" : "");
	snprintf(p->out->actor, sizeof p->out->actor, "user:%s", s.user.name);
	redirect(p, next ? next : "/");
}

static void logout(struct page *p)
{
	pw_error e = PW_ERROR_INIT;
	if (p->env->write_lock)
		pthread_mutex_lock(p->env->write_lock);
	pw_err rc = pw_session_end(p->env->db, p->who.actor, p->s.id, &e);
	if (p->env->write_lock)
		pthread_mutex_unlock(p->env->write_lock);
	if (rc) {
		error_page(p, 500, "the server could not log you out; try again");
		return;
	}
	snprintf(p->out->set_cookie, sizeof p->out->set_cookie,
		 COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
		 p->rq->secure_cookies ? "; Secure" : "");
	redirect(p, "/login");
}

/* ---- dispatch --------------------------------------------------------- */

/* "/prefix/<id>" or "/prefix/<id>/<rest>": the id, 0 when malformed. */
static int64_t path_id(const char *path, size_t skip, const char **rest)
{
	const char *s = path + skip;
	int64_t v = 0;
	size_t n = 0;
	for (; *s >= '0' && *s <= '9' && n < 18; s++, n++)
		v = v * 10 + (*s - '0');
	*rest = s;
	return n && (*s == '\0' || *s == '/') ? v : 0;
}

static void asset(struct page *p)
{
	const pw_web_asset *a = pw_web_asset_find(p->rq->path);
	if (!a || strcmp(p->rq->method, "GET")) {
		error_page(p, 404, "there is no such file");
		return;
	}
	p->out->status = 200;
	p->out->content_type = a->content_type;
	p->out->cache_control = "public, max-age=31536000, immutable";
	if (!p->oom)
		p->oom = pw_buf_append(&p->out->body, a->text, a->len);
}

static void get(struct page *p)
{
	const char *path = p->rq->path, *rest;
	int64_t id;
	if (!strcmp(path, "/"))
		fleet(p);
	else if (!strcmp(path, "/hosts"))
		hosts(p);
	else if (!strcmp(path, "/cves"))
		cves(p);
	else if (!strcmp(path, "/campaigns"))
		campaigns(p);
	else if (!strcmp(path, "/actions"))
		actions(p);
	else if ((id = path_id(path, 7, &rest)) && !strncmp(path, "/hosts/", 7) && !*rest)
		host(p, id);
	else if ((id = path_id(path, 11, &rest)) && !strncmp(path, "/campaigns/", 11) && !*rest)
		campaign(p, id);
	else
		error_page(p, 404, "there is no such page");
}

static void post(struct page *p, const pw_form *f)
{
	const char *path = p->rq->path, *rest;
	int64_t id;
	if (!pw_session_csrf_ok(&p->s, pw_form_get(f, "csrf"))) {
		error_page(p, 403,
			   "the form is stale or did not come from this console: reload the "
			   "page and try again");
		return;
	}
	if (!strcmp(path, "/logout"))
		logout(p);
	else if ((id = path_id(path, 11, &rest)) && !strncmp(path, "/campaigns/", 11) &&
		 !strcmp(rest, "/step"))
		step(p, id, f);
	else
		error_page(p, 404, "there is no such form");
}

void pw_web_handle(const pw_api_env *env, const pw_web_request *rq, pw_web_response *out)
{
	struct page p = {env, rq, out, {0}, {0}, false, PW_OK};
	out->cache_control = "no-store";
	snprintf(out->actor, sizeof out->actor, "-");
	if (!strncmp(rq->path, "/static/", 8)) {
		asset(&p);
		goto done;
	}
	bool is_get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
	bool is_post = !strcmp(rq->method, "POST");
	if (!is_get && !is_post) {
		error_page(&p, 405, "the console takes GET and POST only");
		goto done;
	}
	pw_form f = {0};
	pw_error e = PW_ERROR_INIT;
	if (is_post && (!rq->content_type ||
			strncasecmp(rq->content_type, "application/x-www-form-urlencoded", 33))) {
		error_page(&p, 415, "the console's forms send application/x-www-form-urlencoded");
		goto done;
	}
	if (is_post && pw_form_parse(rq->body, rq->body_len, &f, &e)) {
		error_page(&p, 400, pw_error_text(&e));
		goto done;
	}
	char token[PW_SESSION_MAX];
	if (rq->cookie && pw_cookie_get(rq->cookie, COOKIE, token, sizeof token)) {
		pw_error se = PW_ERROR_INIT;
		p.in = pw_session_check(env->db, token, &limits, &p.s, &se) == PW_OK;
	}
	if (p.in) {
		p.who.kind = PW_ID_USER;
		p.who.user = p.s.user;
		snprintf(p.who.actor, sizeof p.who.actor, "user:%s", p.s.user.name);
		snprintf(out->actor, sizeof out->actor, "%s", p.who.actor);
	}
	const char *next = login_next(query_get(rq, "next"));
	if (!strcmp(rq->path, "/login")) {
		if (is_post)
			login(&p, &f);
		else if (p.in)
			redirect(&p, next ? next : "/");
		else
			login_form(&p, 200, NULL, next);
	} else if (!p.in) {
		char to[160];
		snprintf(to, sizeof to, "/login?next=%s", rq->path);
		if (is_get)
			redirect(&p, strcmp(rq->path, "/") && login_next(rq->path) ? to : "/login");
		else
			error_page(&p, 403,
				   "you are not logged in (or your session ended): log in");
	} else if (is_get) {
		get(&p);
	} else {
		post(&p, &f);
	}
	pw_form_release(&f);
done:
	if (p.oom) {
		pw_buf_reset(&out->body);
		out->status = 500;
		out->content_type = "text/plain; charset=utf-8";
		(void)pw_buf_puts(&out->body, "the server ran out of memory\n");
	}
}
