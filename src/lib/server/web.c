/* The console's plumbing and dispatch. Every page's data comes from the
 * API's routes run as the session's user (pw_web_call()), so what a role
 * may read or do, and every rule, is the API's. The pages are in
 * web_<area>.c. */
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

const char pw_web_csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
			  "img-src 'self'; form-action 'self'; base-uri 'none'; "
			  "frame-ancestors 'none'";

void pw_web_response_release(pw_web_response *r)
{
	pw_buf_release(&r->body);
}

bool pw_web_owns(const char *path)
{
	static const char *const exact[] = {"/",      "/login",     "/logout",  "/hosts",
					    "/cves",  "/campaigns", "/actions", "/tickets",
					    "/audit", "/admin"};
	static const char *const prefix[] = {"/static/", "/hosts/", "/campaigns/", "/tickets/",
					     "/admin/"};
	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
		if (!strcmp(path, exact[i]))
			return true;
	for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++)
		if (!strncmp(path, prefix[i], strlen(prefix[i])))
			return true;
	return false;
}

void pw_web_put(struct pw_web_page *p, const char *s)
{
	if (!p->oom)
		p->oom = pw_buf_puts(&p->out->body, s);
}

void pw_web_putf(struct pw_web_page *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!p->oom)
		p->oom = pw_buf_vprintf(&p->out->body, fmt, ap);
	va_end(ap);
}

/* Escaped text: the one way a value reaches a page. */
void pw_web_esc(struct pw_web_page *p, const char *s)
{
	if (!p->oom)
		p->oom = pw_html_escape(&p->out->body, s);
}

void pw_web_head(struct pw_web_page *p, int status, const char *title)
{
	p->out->status = status;
	p->out->content_type = "text/html; charset=utf-8";
	pw_buf_reset(&p->out->body);
	pw_web_put(
		p,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
	pw_web_esc(p, title);
	pw_web_putf(p,
		    " - patchwarden</title><link rel=\"stylesheet\" href=\"%s\">"
		    "<script src=\"%s\" defer></script></head><body>"
		    "<a class=\"skip\" href=\"#main\">Skip to the content</a><header>",
		    pw_web_asset_path("css"), pw_web_asset_path("js"));
	if (p->in) {
		pw_web_put(p, "<nav aria-label=\"Main\"><a href=\"/\">Fleet</a>"
			      "<a href=\"/hosts\">Hosts</a><a href=\"/cves\">Are we exposed?</a>"
			      "<a href=\"/campaigns\">Campaigns</a><a href=\"/tickets\">Tickets</a>"
			      "<a href=\"/actions\">My actions</a>");
		/* Only what the role may open. */
		if (pw_web_may(p, "GET", "/api/v1/audit"))
			pw_web_put(p, "<a href=\"/audit\">Audit log</a>");
		if (pw_web_may(p, "POST", "/api/v1/users"))
			pw_web_put(p, "<a href=\"/admin\">Administration</a>");
		pw_web_put(p, "</nav><form method=\"post\" action=\"/logout\"><span>");
		pw_web_esc(p, p->s.user.name);
		pw_web_put(p, " (");
		pw_web_esc(p, pw_role_name(p->s.user.role));
		pw_web_put(p, ") </span>");
		pw_web_csrf(p);
		pw_web_put(p, "<button type=\"submit\">Log out</button></form>");
	} else {
		pw_web_put(p, "<span>patchwarden</span>");
	}
	pw_web_put(p, "</header><main id=\"main\"><h1>");
	pw_web_esc(p, title);
	pw_web_put(p, "</h1>\n");
}

void pw_web_foot(struct pw_web_page *p)
{
	pw_web_put(p, "</main></body></html>\n");
}

void pw_web_message(struct pw_web_page *p, const char *cls, const char *text)
{
	bool error = !strcmp(cls, "error"), verified = !strcmp(cls, "verified");
	/* The word says it, not only the colour. */
	pw_web_putf(p, "<p class=\"%s\" role=\"%s\">%s: ", error ? "error" : "ok",
		    error ? "alert" : "status",
		    error      ? "Error"
		    : verified ? "Verified"
			       : "Done");
	pw_web_esc(p, text);
	pw_web_put(p, "</p>\n");
}

void pw_web_done(struct pw_web_page *p, const char *const said[][2], size_t n)
{
	const char *done = pw_web_query(p->rq, "done");
	for (size_t i = 0; done && i < n; i++)
		if (!strcmp(done, said[i][0])) {
			pw_web_message(p, "ok", said[i][1]);
			return;
		}
}

void pw_web_error_page(struct pw_web_page *p, int status, const char *text)
{
	pw_web_head(p, status,
		    status == 403   ? "Not allowed"
		    : status == 404 ? "Not found"
				    : "Error");
	pw_web_message(p, "error", text);
	pw_web_foot(p);
}

void pw_web_redirect(struct pw_web_page *p, const char *to)
{
	p->out->status = 303;
	snprintf(p->out->location, sizeof p->out->location, "%s", to);
	pw_buf_reset(&p->out->body);
	pw_web_put(p, "See other\n");
	p->out->content_type = "text/plain; charset=utf-8";
}

/* ---- the API's routes, run as the session's user -------------------- */

/* Runs `method path` with the query and JSON body given; the reply's
 * JSON in *out (NULL on an error, whose message goes to msg). Returns
 * the status. A role the route does not let in is refused here with
 * the API's own 403, before the handler runs. */
int pw_web_call(struct pw_web_page *p, const char *method, const char *path,
		const pw_query_param *q, size_t nq, const char *body, cJSON **out, char *msg,
		size_t msize)
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
cJSON *pw_web_page_data(struct pw_web_page *p, const char *path)
{
	cJSON *j;
	char msg[PW_WEB_MSG];
	int st = pw_web_call(p, "GET", path, NULL, 0, NULL, &j, msg, sizeof msg);
	if (!j)
		pw_web_error_page(p, st, msg);
	return j;
}

cJSON *pw_web_send(struct pw_web_page *p, const char *method, const char *path, cJSON *b)
{
	char *body = b ? cJSON_PrintUnformatted(b) : NULL;
	bool oom = b && !body;
	cJSON_Delete(b);
	if (oom) {
		pw_web_error_page(p, 500, "the server ran out of memory");
		return NULL;
	}
	cJSON *j;
	char msg[PW_WEB_MSG];
	int st = pw_web_call(p, method, path, NULL, 0, body, &j, msg, sizeof msg);
	cJSON_free(body);
	if (!j)
		pw_web_error_page(p, st, msg);
	return j;
}

void pw_web_act(struct pw_web_page *p, const char *method, const char *path, cJSON *b,
		const char *to)
{
	cJSON *j = pw_web_send(p, method, path, b);
	if (j) {
		cJSON_Delete(j);
		pw_web_redirect(p, to);
	}
}

bool pw_web_may(const struct pw_web_page *p, const char *method, const char *path)
{
	pw_route_args args;
	int status;
	char allow[PW_ALLOW_MAX];
	const pw_route *r = pw_route_find(method, path, &args, &status, allow);
	return r && pw_route_expected_status(r, &p->who) != 403;
}

void pw_web_csrf(struct pw_web_page *p)
{
	pw_web_hidden(p, "csrf", p->s.csrf);
}

const char *pw_web_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* ---- JSON as HTML --------------------------------------------------- */

void pw_web_value(struct pw_web_page *p, const cJSON *v);

static void scalar(struct pw_web_page *p, const cJSON *v)
{
	if (cJSON_IsString(v))
		pw_web_esc(p, v->valuestring);
	else if (cJSON_IsBool(v))
		pw_web_put(p, cJSON_IsTrue(v) ? "yes" : "no");
	else if (cJSON_IsNumber(v) && v->valuedouble == (double)(int64_t)v->valuedouble)
		pw_web_putf(p, "%" PRId64, (int64_t)v->valuedouble);
	else if (cJSON_IsNumber(v))
		pw_web_putf(p, "%g", v->valuedouble);
	else
		pw_web_put(p, "-");
}

/* "open_findings" as "open findings". */
static void label(struct pw_web_page *p, const char *key)
{
	char buf[128];
	snprintf(buf, sizeof buf, "%s", key);
	for (char *c = buf; *c; c++)
		if (*c == '_')
			*c = ' ';
	pw_web_esc(p, buf);
}

void pw_web_table(struct pw_web_page *p, const cJSON *arr, const char *caption,
		  const char *link_key, const char *link_prefix, const char *link_id)
{
	pw_web_table_actions(p, arr, caption, link_key, link_prefix, link_id, NULL);
}

void pw_web_table_actions(struct pw_web_page *p, const cJSON *arr, const char *caption,
			  const char *link_key, const char *link_prefix, const char *link_id,
			  void (*actions)(struct pw_web_page *p, const cJSON *row))
{
	const cJSON *first = cJSON_GetArrayItem(arr, 0);
	if (!cJSON_IsObject(first)) {
		pw_web_put(p, "<p>None.</p>\n");
		return;
	}
	pw_web_put(p, "<table>");
	if (caption) {
		pw_web_put(p, "<caption>");
		pw_web_esc(p, caption);
		pw_web_put(p, "</caption>");
	}
	pw_web_put(p, "<thead><tr>");
	const cJSON *k;
	cJSON_ArrayForEach(k, first) {
		pw_web_put(p, "<th scope=\"col\">");
		label(p, k->string);
		pw_web_put(p, "</th>");
	}
	if (actions)
		pw_web_put(p, "<th scope=\"col\">Actions</th>");
	pw_web_put(p, "</tr></thead><tbody>\n");
	const cJSON *row;
	cJSON_ArrayForEach(row, arr) {
		pw_web_put(p, "<tr>");
		cJSON_ArrayForEach(k, first) {
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(row, k->string);
			const cJSON *id = link_id ? cJSON_GetObjectItemCaseSensitive(row, link_id)
						  : NULL;
			pw_web_put(p, "<td>");
			bool link = link_key && !strcmp(k->string, link_key) && cJSON_IsNumber(id);
			if (link)
				pw_web_putf(p, "<a href=\"%s%" PRId64 "\">", link_prefix,
					    (int64_t)id->valuedouble);
			pw_web_value(p, c);
			if (link)
				pw_web_put(p, "</a>");
			pw_web_put(p, "</td>");
		}
		if (actions) {
			pw_web_put(p, "<td>");
			actions(p, row);
			pw_web_put(p, "</td>");
		}
		pw_web_put(p, "</tr>\n");
	}
	pw_web_put(p, "</tbody></table>\n");
}

void pw_web_dl(struct pw_web_page *p, const cJSON *o, const char *skip)
{
	pw_web_put(p, "<dl>");
	const cJSON *k;
	cJSON_ArrayForEach(k, o) {
		if (skip && !strcmp(k->string, skip))
			continue;
		pw_web_put(p, "<dt>");
		label(p, k->string);
		pw_web_put(p, "</dt><dd>");
		pw_web_value(p, k);
		pw_web_put(p, "</dd>");
	}
	pw_web_put(p, "</dl>\n");
}

void pw_web_value(struct pw_web_page *p, const cJSON *v)
{
	if (cJSON_IsObject(v)) {
		pw_web_dl(p, v, NULL);
	} else if (cJSON_IsArray(v) && cJSON_IsObject(cJSON_GetArrayItem(v, 0))) {
		pw_web_table(p, v, NULL, NULL, NULL, NULL);
	} else if (cJSON_IsArray(v)) {
		const cJSON *e;
		bool first = true;
		cJSON_ArrayForEach(e, v) {
			if (!first)
				pw_web_put(p, ", ");
			first = false;
			scalar(p, e);
		}
	} else {
		scalar(p, v);
	}
}

const char *pw_web_query(const pw_web_request *rq, const char *key)
{
	for (size_t i = 0; i < rq->n_query; i++)
		if (!strcmp(rq->query[i].key, key))
			return rq->query[i].value;
	return NULL;
}

/* Appends a query value, percent-encoded but for unreserved bytes. */
void pw_web_url_value(struct pw_web_page *p, const char *v)
{
	for (; v && *v; v++) {
		unsigned char c = (unsigned char)*v;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			pw_web_putf(p, "%c", c);
		else
			pw_web_putf(p, "%%%02X", c);
	}
}

void pw_web_hidden(struct pw_web_page *p, const char *name, const char *v)
{
	pw_web_putf(p, "<input type=\"hidden\" name=\"%s\" value=\"", name);
	pw_web_esc(p, v);
	pw_web_put(p, "\">");
}

/* ---- dispatch --------------------------------------------------------- */

int64_t pw_web_path_id(const char *path, size_t skip, const char **rest)
{
	const char *s = path + skip;
	int64_t v = 0;
	size_t n = 0;
	for (; *s >= '0' && *s <= '9' && n < 18; s++, n++)
		v = v * 10 + (*s - '0');
	*rest = s;
	return n && (*s == '\0' || *s == '/') ? v : 0;
}

static void asset(struct pw_web_page *p)
{
	const pw_web_asset *a = pw_web_asset_find(p->rq->path);
	if (!a || strcmp(p->rq->method, "GET")) {
		pw_web_error_page(p, 404, "there is no such file");
		return;
	}
	p->out->status = 200;
	p->out->content_type = a->content_type;
	p->out->cache_control = "public, max-age=31536000, immutable";
	if (!p->oom)
		p->oom = pw_buf_append(&p->out->body, a->text, a->len);
}

static void get(struct pw_web_page *p)
{
	const char *path = p->rq->path, *rest;
	int64_t id;
	static const struct {
		const char *path;
		void (*page)(struct pw_web_page *p);
	} fixed[] = {
		{"/", pw_web_fleet},
		{"/hosts", pw_web_hosts},
		{"/cves", pw_web_cves},
		{"/campaigns", pw_web_campaigns},
		{"/campaigns/new", pw_web_campaign_new},
		{"/actions", pw_web_actions},
		{"/tickets", pw_web_tickets},
		{"/audit", pw_web_audit},
		{"/admin", pw_web_admin},
	};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (!strcmp(path, fixed[i].path)) {
			fixed[i].page(p);
			return;
		}
	if ((id = pw_web_path_id(path, 7, &rest)) && !strncmp(path, "/hosts/", 7) && !*rest)
		pw_web_host(p, id);
	else if ((id = pw_web_path_id(path, 11, &rest)) && !strncmp(path, "/campaigns/", 11) &&
		 !*rest)
		pw_web_campaign(p, id);
	else if ((id = pw_web_path_id(path, 9, &rest)) && !strncmp(path, "/tickets/", 9) && !*rest)
		pw_web_ticket(p, id);
	else
		pw_web_error_page(p, 404, "there is no such page");
}

static void post(struct pw_web_page *p, const pw_form *f)
{
	const char *path = p->rq->path, *rest;
	int64_t id;
	if (!pw_session_csrf_ok(&p->s, pw_form_get(f, "csrf"))) {
		pw_web_error_page(p, 403,
				  "the form is stale or did not come from this console: reload the "
				  "page and try again");
		return;
	}
	if (!strcmp(path, "/logout"))
		pw_web_logout(p);
	else if (!strcmp(path, "/campaigns/new"))
		pw_web_campaign_create(p, f);
	else if ((id = pw_web_path_id(path, 11, &rest)) && !strncmp(path, "/campaigns/", 11) &&
		 !strcmp(rest, "/step"))
		pw_web_step(p, id, f);
	else if ((id = pw_web_path_id(path, 7, &rest)) && !strncmp(path, "/hosts/", 7) && !*rest)
		pw_web_host_set(p, id, f);
	else if (!strncmp(path, "/admin/", 7))
		pw_web_admin_post(p, path + 7, f);
	else
		pw_web_error_page(p, 404, "there is no such form");
}

void pw_web_handle(const pw_api_env *env, const pw_web_request *rq, pw_web_response *out)
{
	struct pw_web_page p = {env, rq, out, {0}, {0}, false, PW_OK};
	out->cache_control = "no-store";
	snprintf(out->actor, sizeof out->actor, "-");
	if (!strncmp(rq->path, "/static/", 8)) {
		asset(&p);
		goto done;
	}
	bool is_get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
	bool is_post = !strcmp(rq->method, "POST");
	if (!is_get && !is_post) {
		pw_web_error_page(&p, 405, "the console takes GET and POST only");
		goto done;
	}
	pw_form f = {0};
	pw_error e = PW_ERROR_INIT;
	if (is_post && (!rq->content_type ||
			strncasecmp(rq->content_type, "application/x-www-form-urlencoded", 33))) {
		pw_web_error_page(&p, 415,
				  "the console's forms send application/x-www-form-urlencoded");
		goto done;
	}
	if (is_post && pw_form_parse(rq->body, rq->body_len, &f, &e)) {
		pw_web_error_page(&p, 400, pw_error_text(&e));
		goto done;
	}
	char token[PW_SESSION_MAX];
	if (rq->cookie && pw_cookie_get(rq->cookie, PW_WEB_COOKIE, token, sizeof token)) {
		pw_error se = PW_ERROR_INIT;
		p.in = pw_session_check(env->db, token, &env->settings->session, &p.s, &se) ==
		       PW_OK;
	}
	if (p.in) {
		p.who.kind = PW_ID_USER;
		p.who.user = p.s.user;
		snprintf(p.who.actor, sizeof p.who.actor, "user:%s", p.s.user.name);
		snprintf(out->actor, sizeof out->actor, "%s", p.who.actor);
	}
	const char *next = pw_web_login_next(pw_web_query(rq, "next"));
	if (!strcmp(rq->path, "/login")) {
		if (is_post)
			pw_web_login(&p, &f);
		else if (p.in)
			pw_web_redirect(&p, next ? next : "/");
		else
			pw_web_login_form(&p, 200, NULL, next);
	} else if (!p.in) {
		char to[160];
		snprintf(to, sizeof to, "/login?next=%s", rq->path);
		if (is_get)
			pw_web_redirect(&p, strcmp(rq->path, "/") && pw_web_login_next(rq->path)
						    ? to
						    : "/login");
		else
			pw_web_error_page(&p, 403,
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
