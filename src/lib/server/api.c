/* Routing, authentication, authorization, body limits and error replies
 * for the route table in routes.c, independent of the HTTP library. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "patchwarden/gzip.h"
#include "patchwarden/json_limits.h"
#include "patchwarden/metrics.h"
#include "patchwarden/text.h"

#include "server-internal.h"

void pw_api_response_release(pw_api_response *r)
{
	pw_buf_release(&r->body);
	r->status = 0;
	r->content_type = NULL;
	r->allow[0] = '\0';
}

const char *pw_api_error_code(int status)
{
	switch (status) {
	case 400:
		return "bad_request";
	case 401:
		return "unauthorized";
	case 403:
		return "forbidden";
	case 404:
		return "not_found";
	case 405:
		return "method_not_allowed";
	case 409:
		return "conflict";
	case 413:
		return "too_large";
	case 415:
		return "unsupported_encoding";
	case 429:
		return "rate_limited";
	case 503:
		return "unavailable";
	default:
		return "internal";
	}
}

pw_err pw_api_json_str(pw_buf *b, const char *s)
{
	if (!s)
		return pw_buf_puts(b, "null");
	static const char hex[] = "0123456789abcdef";
	pw_err rc = pw_buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
		if (*p == '"' || *p == '\\') {
			char e[2] = {'\\', (char)*p};
			rc = pw_buf_append(b, e, 2);
		} else if (*p < 0x20) {
			char e[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
			rc = pw_buf_append(b, e, 6);
		} else if (*p >= 0x80) {
			/* JSON text is UTF-8, and a message may quote input cut
			 * short inside a character: what is not UTF-8 is U+FFFD. */
			size_t k = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
			if (strnlen((const char *)p, k) == k && pw_utf8_valid((const char *)p, k)) {
				rc = pw_buf_append(b, (const char *)p, k);
				p += k - 1;
			} else {
				rc = pw_buf_puts(b, "\\ufffd");
			}
		} else {
			rc = pw_buf_putc(b, (char)*p);
		}
	}
	return rc ? rc : pw_buf_putc(b, '"');
}

void pw_api_error(pw_api_response *resp, int status, const char *code, const char *fmt, ...)
{
	char msg[PW_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	resp->status = status;
	resp->content_type = NULL;
	pw_buf_reset(&resp->body);
	pw_err rc = pw_buf_puts(&resp->body, "{\"error\":{\"code\":");
	if (!rc)
		rc = pw_api_json_str(&resp->body, code);
	if (!rc)
		rc = pw_buf_puts(&resp->body, ",\"message\":");
	if (!rc)
		rc = pw_api_json_str(&resp->body, msg);
	if (!rc)
		rc = pw_buf_puts(&resp->body, "}}");
	if (rc) /* the transport sends a fixed text for an empty 500 */
		pw_buf_reset(&resp->body);
}

/* A full disk or a read-only database: the operator's to fix and the
 * client's to retry, not a fault of the request or of the program.
 * `state` is the SQLSTATE when known ("" otherwise). */
static void unavailable(pw_api_response *resp, const char *state, const pw_error *cause)
{
	const char *why = !strcmp(state, "53100")   ? "out of disk space"
			  : !strcmp(state, "25006") ? "read-only"
						    : "out of disk space or read-only";
	pw_api_error(resp, 503, "unavailable",
		     "the server's database is %s, so it takes no changes now; try again when an "
		     "operator has fixed that",
		     why);
	resp->detail = *cause;
}

static void internal_error(pw_api_response *resp, const pw_error *cause)
{
	if (cause->code == PW_ERR_UNAVAILABLE) {
		unavailable(resp, "", cause);
		return;
	}
	pw_api_error(resp, 500, "internal",
		     "the server could not complete the request; its log has the cause");
	resp->detail = *cause;
}

/* ---- routing --------------------------------------------------------- */

/* The text parameters a path may have, each with its grammar (text.h),
 * checked before the handler runs. */
static const struct text_param {
	const char *name; /* as in the path, braces included */
	bool (*ok)(const char *s);
	const char *what; /* what a value must be, for the 400 */
} text_params[] = {
	{"{cve}", pw_cve_id_ok,
	 "a CVE id like CVE-2023-5363 (CVE-, the year, -, 4 or more digits; in capitals)"},
	{"{advisory}", pw_advisory_id_ok,
	 "an advisory id as the feeds name it (DSA-5532-1, RHSA-2024:1234, GHSA-…): a letter or "
	 "digit, then letters, digits and -:._, at most 64 in all"},
};

static const struct text_param *text_param(const char *pat, size_t patlen)
{
	for (size_t i = 0; i < sizeof text_params / sizeof text_params[0]; i++)
		if (strlen(text_params[i].name) == patlen &&
		    !memcmp(text_params[i].name, pat, patlen))
			return &text_params[i];
	return NULL;
}

/* The text parameter of a route's path, NULL when it has none. */
static const struct text_param *route_text_param(const char *path)
{
	for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{')) {
		const struct text_param *t = text_param(p, strcspn(p, "/"));
		if (t)
			return t;
	}
	return NULL;
}

/* A segment of the pattern (`patlen` bytes at `pat`): literal text, a
 * text parameter whose value (any non-empty segment: its grammar is
 * checked before the handler, so a bad one is a 400 naming it, not a 404)
 * goes to `name`, or a numeric parameter (an id) whose value goes to
 * *id. Advances *p past the path's segment. */
static bool match_segment(const char **p, const char *pat, size_t patlen, int64_t *id,
			  char name[PW_ROUTE_NAME_MAX + 2])
{
	const char *s = *p;
	size_t n = strcspn(s, "/");
	*p = s + n;
	if (text_param(pat, patlen)) {
		size_t k = n < PW_ROUTE_NAME_MAX + 1 ? n : PW_ROUTE_NAME_MAX + 1;
		memcpy(name, s, k);
		name[k] = '\0';
		return n > 0;
	}
	if (patlen > 2 && pat[0] == '{' && pat[patlen - 1] == '}') {
		/* 1..2^63-1 in plain decimal: no sign, no leading zero. */
		if (n == 0 || n > 19 || s[0] == '0')
			return false;
		int64_t v = 0;
		for (size_t i = 0; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return false;
			int d = s[i] - '0';
			if (v > (INT64_MAX - d) / 10)
				return false;
			v = v * 10 + d;
		}
		*id = v;
		return true;
	}
	return n == patlen && memcmp(s, pat, n) == 0;
}

static bool path_matches(const char *pattern, const char *path, pw_route_args *a)
{
	int k = 0;
	int64_t scratch;
	memset(a, 0, sizeof *a);
	while (*pattern) {
		if (*pattern != '/' || *path != '/')
			return false;
		pattern++;
		path++;
		size_t patlen = strcspn(pattern, "/");
		bool param = pattern[0] == '{' && !text_param(pattern, patlen);
		if (!match_segment(&path, pattern, patlen,
				   param && k < PW_ROUTE_IDS ? &a->id[k] : &scratch, a->name))
			return false;
		k += param;
		pattern += patlen;
	}
	return *path == '\0';
}

const pw_route *pw_route_find(const char *method, const char *path, pw_route_args *args,
			      int *status, char allow[PW_ALLOW_MAX])
{
	size_t n;
	const pw_route *routes = pw_routes(&n);
	const pw_route *found = NULL;
	char local[PW_ALLOW_MAX];
	if (!allow)
		allow = local;
	allow[0] = '\0';
	memset(args, 0, sizeof *args);
	/* HEAD is GET without the body (libmicrohttpd drops it): load
	 * balancers and monitors probe with it. */
	const char *want = strcmp(method, "HEAD") ? method : "GET";
	for (size_t i = 0; i < n; i++) {
		pw_route_args a;
		if (!path_matches(routes[i].path, path, &a))
			continue;
		if (!found && strcmp(routes[i].method, want) == 0) {
			found = &routes[i];
			*args = a;
		}
		size_t len = strlen(allow);
		bool get = !strcmp(routes[i].method, "GET");
		snprintf(allow + len, PW_ALLOW_MAX - len, "%s%s%s", len ? ", " : "",
			 routes[i].method, get ? ", HEAD" : "");
	}
	*status = found ? 0 : allow[0] ? 405 : 404;
	return found;
}

/* ---- authentication -------------------------------------------------- */

int pw_route_expected_status(const pw_route *route, const pw_api_identity *who)
{
	pw_identity_kind k = who ? who->kind : PW_ID_NONE;
	switch (route->access) {
	case PW_ACCESS_PUBLIC:
	case PW_ACCESS_ENROLL:
		return route->ok_status;
	case PW_ACCESS_AGENT:
		return k == PW_ID_NONE ? 401 : k == PW_ID_AGENT ? route->ok_status : 403;
	case PW_ACCESS_USER:
		if (k == PW_ID_NONE)
			return 401;
		if (k == PW_ID_AGENT)
			return 403;
		return route->roles & PW_ROLE_BIT(who->user.role) ? route->ok_status : 403;
	}
	return 500;
}

/* The token after "Bearer " (any case, then blanks), or NULL. */
static const char *bearer(const char *h)
{
	if (!h || strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return NULL;
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	return *h ? h : NULL;
}

static bool auth_failed(pw_api_response *resp, pw_err rc, const pw_error *e)
{
	if (rc == PW_ERR_AUTH)
		pw_api_error(resp, 401, "unauthorized", "%s", pw_error_text(e));
	else if (rc == PW_ERR_STORE)
		pw_api_error(resp, 503, "unavailable",
			     "the server cannot reach its database; try again shortly");
	else
		internal_error(resp, e);
	if (rc == PW_ERR_STORE)
		resp->detail = *e;
	return false;
}

static bool authenticate(const pw_api_env *env, const char *token, pw_api_identity *who,
			 pw_api_response *resp)
{
	pw_error e = PW_ERROR_INIT;
	pw_err rc;
	if (strncmp(token, "ag_", 3) == 0) {
		rc = pw_agent_authenticate(env->db, token, &who->agent, &e);
		if (rc)
			return auth_failed(resp, rc, &e);
		who->kind = PW_ID_AGENT;
		snprintf(who->actor, sizeof who->actor, "agent:%s", who->agent.id);
		return true;
	}
	if (strncmp(token, "pwt_", 4) == 0) {
		rc = pw_api_token_authenticate(env->db, token, &who->user, &e);
		if (rc)
			return auth_failed(resp, rc, &e);
		who->kind = PW_ID_USER;
		snprintf(who->actor, sizeof who->actor, "user:%s", who->user.name);
		return true;
	}
	pw_api_error(resp, 401, "unauthorized",
		     "the bearer token is neither an API token (pwt_…) nor an agent credential "
		     "(ag_…)");
	return false;
}

static const char *roles_text(unsigned roles, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int r = 0; r < PW_ROLE__COUNT; r++)
		if (roles & PW_ROLE_BIT(r) && len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
						pw_role_name((pw_role)r));
	return buf;
}

bool pw_api_authorize(const pw_api_env *env, const pw_route *route, const char *authorization,
		      pw_api_identity *who, pw_api_response *resp)
{
	memset(who, 0, sizeof *who);
	snprintf(who->actor, sizeof who->actor, "-");
	if (route->access == PW_ACCESS_PUBLIC || route->access == PW_ACCESS_ENROLL)
		return true;
	const char *token = bearer(authorization);
	if (!token) {
		pw_api_error(resp, 401, "unauthorized",
			     authorization ? "the Authorization header must be 'Bearer <token>'"
			     : route->access == PW_ACCESS_AGENT
				     ? "this call needs the agent's credential: 'Authorization: "
				       "Bearer ag_<id>.<secret>'"
				     : "this call needs an API token: 'Authorization: Bearer "
				       "pwt_<id>.<secret>' (patchwarden user token create)");
		return false;
	}
	if (!authenticate(env, token, who, resp))
		return false;
	int want = pw_route_expected_status(route, who);
	if (want != 403)
		return true;
	char roles[128];
	if (route->access == PW_ACCESS_AGENT)
		pw_api_error(resp, 403, "forbidden", "%s %s is for agents only", route->method,
			     route->path);
	else if (who->kind == PW_ID_AGENT)
		pw_api_error(resp, 403, "forbidden", "%s %s is not for agents", route->method,
			     route->path);
	else
		pw_api_error(resp, 403, "forbidden",
			     "%s %s needs the role %s; user %s has the role %s", route->method,
			     route->path, roles_text(route->roles, roles, sizeof roles),
			     who->user.name, pw_role_name(who->user.role));
	return false;
}

/* ---- running a route ------------------------------------------------- */

static void size_text(size_t n, char *buf, size_t size)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(buf, size, "%zu MiB", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, size, "%zu KiB", n >> 10);
	else
		snprintf(buf, size, "%zu bytes", n);
}

bool pw_api_body_fits(const pw_route *route, size_t len, pw_api_response *resp)
{
	if (len <= route->body_max)
		return true;
	char lim[32];
	size_text(route->body_max, lim, sizeof lim);
	if (route->body_max)
		pw_api_error(resp, 413, "too_large",
			     "the request body is larger than %s, the limit of %s %s", lim,
			     route->method, route->path);
	else
		pw_api_error(resp, 413, "too_large", "%s %s takes no request body", route->method,
			     route->path);
	return false;
}

/* The next query parameter name documented in `*p` (a route's `query`
 * text): a name in backticks outside parentheses. NULL after the last. */
static const char *next_param(const char **p, size_t *len)
{
	static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz_";
	int depth = 0;
	for (const char *s = *p; s && *s; s++) {
		if (*s == '(' || *s == ')') {
			depth += *s == '(' ? 1 : -1;
			continue;
		}
		if (*s != '`')
			continue;
		const char *end = strchr(s + 1, '`');
		if (!end)
			break;
		size_t n = (size_t)(end - s - 1);
		if (depth == 0 && n && strspn(s + 1, name_chars) == n) {
			*p = end + 1;
			*len = n;
			return s + 1;
		}
		s = end;
	}
	*p = NULL;
	return NULL;
}

/* The query parameters a route takes are the ones docs/api.md lists for
 * it (its `query` text): anything else is a 400, so a misspelt or
 * unsupported filter is not silently ignored (protocol.md). */
static bool query_known(const pw_route *route, const pw_query_param *query, size_t n_query,
			pw_api_response *resp)
{
	for (size_t i = 0; i < n_query; i++) {
		const char *p = route->query, *name;
		size_t n;
		bool found = false;
		while (!found && (name = next_param(&p, &n)))
			found = strlen(query[i].key) == n && !memcmp(name, query[i].key, n);
		if (found)
			continue;
		if (!route->query) {
			pw_api_error(resp, 400, "bad_request",
				     "unknown query parameter %s: %s %s takes no query parameters",
				     query[i].key, route->method, route->path);
			return false;
		}
		char list[256] = "";
		size_t used = 0;
		p = route->query;
		while ((name = next_param(&p, &n)) && used < sizeof list) {
			int w = snprintf(list + used, sizeof list - used, "%s%.*s",
					 used ? ", " : "", (int)n, name);
			used += w > 0 ? (size_t)w : 0;
		}
		pw_api_error(resp, 400, "bad_request", "unknown query parameter %s: %s %s takes %s",
			     query[i].key, route->method, route->path, list);
		return false;
	}
	return true;
}

/* pw_api_run once the body's size is known to be within its limit. */
static void run(const pw_api_env *env, const pw_route *route, const pw_route_args *args,
		const pw_api_identity *who, const pw_query_param *query, size_t n_query,
		const char *body, size_t len, pw_api_response *resp)
{
	const struct text_param *tp = route_text_param(route->path);
	if (tp && !tp->ok(args->name)) {
		int n = (int)strcspn(tp->name + 1, "}");
		pw_api_error(resp, 400, "bad_request", "%.*s: \"%.*s\" is not %s", n, tp->name + 1,
			     pw_utf8_prefix(args->name, PW_ROUTE_NAME_MAX), args->name, tp->what);
		return;
	}
	cJSON *doc = NULL;
	if (len && route->format != PW_FORMAT_CSV_BODY) {
		pw_error e = PW_ERROR_INIT;
		if (pw_json_parse_limited(body, len, &env->settings->json, "request body", &doc,
					  &e)) {
			pw_api_error(resp, 400, "bad_request", "%s", e.msg);
			return;
		}
	}
	struct pw_api_ctx c = {env,   route,   args->id[0], args->id[1], args->name, who,
			       query, n_query, doc,         body,        len,        resp};
	bool locked = route->audit && env->write_lock;
	if (locked)
		pthread_mutex_lock(env->write_lock);
	route->handler(&c);
	if (locked)
		pthread_mutex_unlock(env->write_lock);
	cJSON_Delete(doc);
	if (!resp->status) {
		pw_error e = PW_ERROR_INIT;
		pw_error_set(&e, PW_ERR_INVALID, "%s %s: the handler gave no reply", route->method,
			     route->path);
		internal_error(resp, &e);
	}
}

void pw_api_run(const pw_api_env *env, const pw_route *route, const pw_route_args *args,
		const pw_api_identity *who, const pw_query_param *query, size_t n_query,
		const char *body, size_t len, pw_api_response *resp)
{
	if (pw_api_body_fits(route, len, resp) && query_known(route, query, n_query, resp))
		run(env, route, args, who, query, n_query, body, len, resp);
}

void pw_api_run_encoded(const pw_api_env *env, const pw_route *route, const pw_route_args *args,
			const pw_api_identity *who, const pw_query_param *query, size_t n_query,
			const char *encoding, const char *body, size_t len, pw_api_response *resp)
{
	if (!encoding || !strcasecmp(encoding, "identity")) {
		pw_api_run(env, route, args, who, query, n_query, body, len, resp);
		return;
	}
	/* Only agents send bodies large enough to be worth it (an inventory
	 * of 100,000 packages: 14 MB of JSON, 1.6 MB gzip); elsewhere a
	 * compressed body would only widen what a user can make us inflate. */
	if (strcasecmp(encoding, "gzip") != 0 || route->access != PW_ACCESS_AGENT) {
		pw_api_error(resp, 415, "unsupported_encoding",
			     "%s %s takes %s; not Content-Encoding %.40s", route->method,
			     route->path,
			     route->access == PW_ACCESS_AGENT ? "a plain or gzip body"
							      : "a plain body",
			     encoding);
		return;
	}
	if (!pw_api_body_fits(route, len, resp) || !query_known(route, query, n_query, resp))
		return;
	pw_buf plain = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	size_t max = env->settings->inflated_max;
	pw_err rc = pw_gunzip(body, len, max, "the gzip request body", &plain, &e);
	if (rc == PW_ERR_TOOLARGE) {
		char lim[32];
		size_text(max, lim, sizeof lim);
		pw_api_error(resp, 413, "too_large",
			     "the gzip request body inflates to more than %s, the limit of "
			     "inflated bodies ([server] inflated_max)",
			     lim);
	} else if (rc == PW_ERR_NOMEM) {
		internal_error(resp, &e);
	} else if (rc) {
		pw_api_error(resp, 400, "bad_request", "%s", e.msg);
	} else {
		run(env, route, args, who, query, n_query, pw_buf_str(&plain), plain.len, resp);
	}
	pw_buf_release(&plain);
}

void pw_api_handle(const pw_api_env *env, const pw_api_call *call, pw_api_response *resp)
{
	pw_route_args args;
	int status;
	const pw_route *route = pw_route_find(call->method, call->path, &args, &status,
					      resp->allow);
	if (!route) {
		if (status == 405)
			pw_api_error(resp, 405, "method_not_allowed", "%s takes %s, not %s",
				     call->path, resp->allow, call->method);
		else
			pw_api_error(resp, 404, "not_found",
				     "there is no %s; docs/api.md lists the API's paths",
				     call->path);
		return;
	}
	pw_api_identity who;
	if (!pw_api_authorize(env, route, call->authorization, &who, resp))
		return;
	pw_api_run_encoded(env, route, &args, &who, call->query, call->n_query,
			   call->content_encoding, call->body ? call->body : "",
			   call->body ? call->body_len : 0, resp);
}

/* ---- helpers for handlers -------------------------------------------- */

void pw_api_reply_buf(struct pw_api_ctx *c, pw_buf *text)
{
	pw_buf_release(&c->resp->body);
	c->resp->body = *text;
	*text = (pw_buf)PW_BUF_INIT;
	c->resp->status = c->route->ok_status;
	c->resp->content_type = c->route->format == PW_FORMAT_CSV_REPLY       ? PW_CSV_TYPE
				: c->route->format == PW_FORMAT_METRICS_REPLY ? PW_METRICS_TYPE
									      : NULL;
}

void pw_api_reply(struct pw_api_ctx *c, cJSON *obj)
{
	char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
	cJSON_Delete(obj);
	pw_buf b = PW_BUF_INIT;
	if (!text || pw_buf_puts(&b, text)) {
		cJSON_free(text);
		pw_buf_release(&b);
		pw_api_oom(c);
		return;
	}
	cJSON_free(text);
	pw_api_reply_buf(c, &b);
}

void pw_api_oom(struct pw_api_ctx *c)
{
	pw_error e = PW_ERROR_INIT;
	pw_error_set(&e, PW_ERR_NOMEM, "%s %s: out of memory building the reply", c->route->method,
		     c->route->path);
	internal_error(c->resp, &e);
}

void pw_api_fail(struct pw_api_ctx *c, pw_err rc, const pw_error *err)
{
	const char *msg = pw_error_text(err);
	switch (rc) {
	case PW_ERR_INVALID:
	case PW_ERR_PARSE:
		pw_api_error(c->resp, 400, "bad_request", "%s", msg);
		return;
	case PW_ERR_AUTH:
		pw_api_error(c->resp, 401, "unauthorized", "%s", msg);
		return;
	case PW_ERR_NOTFOUND:
		pw_api_error(c->resp, 404, "not_found", "%s", msg);
		return;
	case PW_ERR_CONFLICT:
		pw_api_error(c->resp, 409, "conflict", "%s", msg);
		return;
	case PW_ERR_TOOLARGE:
		pw_api_error(c->resp, 413, "too_large", "%s", msg);
		return;
	case PW_ERR_UNAVAILABLE:
		unavailable(c->resp, pw_db_sqlstate(c->env->db), err);
		return;
	case PW_ERR_STORE: {
		const char *state = pw_db_sqlstate(c->env->db);
		if (strncmp(state, "23", 2) == 0) {
			pw_api_error(c->resp, 409, "conflict",
				     "the change conflicts with the stored data (a duplicate?)");
			c->resp->detail = *err;
			return;
		}
		if (strcmp(state, "55P03") == 0 || strncmp(state, "08", 2) == 0 ||
		    strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
			pw_api_error(c->resp, 503, "unavailable",
				     "the database is busy or unreachable; try again shortly");
			c->resp->detail = *err;
			return;
		}
		break;
	}
	default:
		break;
	}
	internal_error(c->resp, err);
}

static const cJSON *member(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

bool pw_api_body_object(struct pw_api_ctx *c)
{
	if (cJSON_IsObject(c->body))
		return true;
	pw_api_error(c->resp, 400, "bad_request", "%s %s needs a JSON object as its body",
		     c->route->method, c->route->path);
	return false;
}

bool pw_api_body_str(struct pw_api_ctx *c, const cJSON *obj, const char *key, bool required,
		     size_t max, const char **out)
{
	const cJSON *v = member(obj, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v)) {
		if (!required)
			return true;
		pw_api_error(c->resp, 400, "bad_request", "\"%s\" is required", key);
		return false;
	}
	if (!cJSON_IsString(v)) {
		pw_api_error(c->resp, 400, "bad_request", "\"%s\" must be a string", key);
		return false;
	}
	if (strlen(v->valuestring) > max) {
		pw_api_error(c->resp, 400, "bad_request", "\"%s\" is longer than %zu bytes", key,
			     max);
		return false;
	}
	*out = v->valuestring;
	return true;
}

/* cJSON keeps numbers as doubles: only integers that a double holds
 * exactly are accepted. */
#define EXACT_MAX 9007199254740992.0

bool pw_api_body_int(struct pw_api_ctx *c, const cJSON *obj, const char *key, bool required,
		     int64_t min, int64_t max, int64_t *out)
{
	const cJSON *v = member(obj, key);
	if (!v || cJSON_IsNull(v)) {
		if (!required)
			return true;
		pw_api_error(c->resp, 400, "bad_request", "\"%s\" is required", key);
		return false;
	}
	double d = cJSON_IsNumber(v) ? v->valuedouble : 0.5;
	if (d != d || d < -EXACT_MAX || d > EXACT_MAX || d != (double)(int64_t)d ||
	    (int64_t)d < min || (int64_t)d > max) {
		pw_api_error(c->resp, 400, "bad_request",
			     "\"%s\" must be a whole number from %" PRId64 " to %" PRId64, key, min,
			     max);
		return false;
	}
	*out = (int64_t)d;
	return true;
}

const char *pw_api_query_str(const struct pw_api_ctx *c, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < c->n_query; i++)
		if (strcmp(c->query[i].key, key) == 0)
			v = c->query[i].value ? c->query[i].value : "";
	return v;
}

bool pw_api_query_int(struct pw_api_ctx *c, const char *key, int64_t def, int64_t min, int64_t max,
		      int64_t *out)
{
	*out = def;
	for (size_t i = 0; i < c->n_query; i++) {
		if (strcmp(c->query[i].key, key) != 0)
			continue;
		const char *s = c->query[i].value ? c->query[i].value : "";
		const char *digits = s + (*s == '-' && min < 0);
		char *end;
		errno = 0;
		long long v = strtoll(s, &end, 10);
		/* Plain decimal only: strtoll would take blanks, a sign, and
		 * clamp what overflows to the largest value. */
		if (!*digits || strspn(digits, "0123456789") != strlen(digits) || errno || *end ||
		    v < min || v > max || (*digits == '0' && digits[1])) {
			pw_api_error(c->resp, 400, "bad_request",
				     "query parameter %s must be a whole number from %" PRId64
				     " to %" PRId64,
				     key, min, max);
			return false;
		}
		*out = v;
	}
	return true;
}

/* ---- docs/api.md ----------------------------------------------------- */

static const char *access_text(const pw_route *r, char *buf, size_t size)
{
	switch (r->access) {
	case PW_ACCESS_PUBLIC:
		return "public";
	case PW_ACCESS_ENROLL:
		return "enrollment token (in the body)";
	case PW_ACCESS_AGENT:
		return "agent";
	case PW_ACCESS_USER:
		if (r->roles == PW_ROLES_ALL)
			return "any user";
		return roles_text(r->roles, buf, size);
	}
	return "?";
}

static const char intro[] =
	"# patchwarden HTTP API (v1)\n"
	"\n"
	"<!-- Generated from the route table in src/lib/routes.c by\n"
	"     `patchwarden server --routes-md > docs/api.md`. Do not edit: a test\n"
	"     fails when this file and the table differ. -->\n"
	"\n"
	"`patchwarden server` serves this API over HTTPS (plain HTTP only on a\n"
	"loopback address, when the configuration allows it; see\n"
	"patchwarden-server(1)). Requests and responses are JSON\n"
	"(`Content-Type: application/json`), except where a route says CSV: its\n"
	"body or reply is RFC 4180 CSV (`text/csv`), the format of `patchwarden host\n"
	"import-csv` and `export-csv`; its errors are JSON too. The agent side is\n"
	"described in [protocol.md](protocol.md).\n"
	"\n"
	"**Authentication.** `Authorization: Bearer <token>` with either a user's API\n"
	"token (`pwt_<id>.<secret>`, from `patchwarden user token create` or\n"
	"`POST /api/v1/users/{id}/tokens`) or an agent credential\n"
	"(`ag_<id>.<secret>`, returned by enrollment). Each route names who may call\n"
	"it: a missing or invalid credential gets 401, a valid one that is not\n"
	"allowed gets 403.\n"
	"\n"
	"**Audit.** Every call that changes state writes an audit event (the *audit*\n"
	"column), in the same transaction as the change; the actor is `user:<name>`,\n"
	"`agent:<id>` or `enroll-token:pwe_<id>`. An agent check-in is audited when\n"
	"it delivers job results or an inventory, in the same transaction as what\n"
	"it stores, so no result goes unaudited; each result in the event is marked\n"
	"`\"resent\": true` when an earlier check-in stored it (sent again after a\n"
	"lost reply) or `\"conflict\": true` when it was not stored (another result\n"
	"holds its seq; protocol.md). A check-in that only reports an unchanged\n"
	"inventory updates `last_seen` and is not audited: it is the fleet's\n"
	"heartbeat.\n"
	"\n"
	"**Errors.** Any non-2xx status carries\n"
	"`{\"error\":{\"code\":\"<word>\",\"message\":\"<what to do>\"}}`:\n"
	"\n"
	"| status | code | when |\n"
	"| --- | --- | --- |\n"
	"| 400 | `bad_request` | malformed JSON or CSV (the message names line and column), a "
	"wrong, unknown or missing member or value, a query parameter the route does not list or a "
	"number out of its range, a `{cve}` or `{advisory}` of the path that is not such an id "
	"(the message names it), JSON nested too deep or a string too long, two `Content-Length` "
	"headers, `Content-Length` with `Transfer-Encoding` or a `Transfer-Encoding` other than "
	"one `chunked` (the connection is then closed) |\n"
	"| 401 | `unauthorized` | no credential, or one that is unknown, revoked, expired or "
	"malformed |\n"
	"| 403 | `forbidden` | a valid credential whose role (or kind) may not call the route |\n"
	"| 404 | `not_found` | no such path, or no such host/user/token |\n"
	"| 405 | `method_not_allowed` | the path exists with other methods (see the `Allow` "
	"header) |\n"
	"| 409 | `conflict` | the change conflicts with stored data |\n"
	"| 413 | `too_large` | the body is larger than the route's limit, or a gzip body inflates "
	"beyond `inflated_max` |\n"
	"| 415 | `unsupported_encoding` | a `Content-Encoding` other than gzip, or gzip on a route "
	"without agent access |\n"
	"| 500 | `internal` | the server failed; its log has the cause |\n"
	"| 503 | `unavailable` | the database is unreachable or busy, its disk is full or it is "
	"read-only (the message says which); retry later |\n"
	"\n"
	"**Limits.** Each route has a body limit (below); every JSON body is also\n"
	"limited in nesting depth (`json_max_depth`, default 32) and string length\n"
	"(`json_max_string`, default 65536 bytes), must be valid UTF-8 and may not\n"
	"contain `\\u0000`. Idle connections are closed after `connection_timeout`,\n"
	"and a request whose headers and body are not in within `request_timeout`\n"
	"(default 120 s) however steadily they come; one client address may hold\n"
	"`max_connections_per_ip` connections (default 64).\n"
	"Routes with agent access take a gzip body (`Content-Encoding: gzip`): the\n"
	"compressed size counts against the route's limit, and it may inflate to\n"
	"`inflated_max` bytes (default 32 MiB; beyond, the inflating stops: 413).\n"
	"\n"
	"**Path parameters.** `{id}`, `{job}`: a positive decimal integer (anything\n"
	"else is no such path: 404). `{cve}`: a CVE id, `CVE-2023-5363` (capitals, a\n"
	"four-digit year, four or more digits). `{advisory}`: an advisory id as its\n"
	"feed names it, in its case (`DSA-5532-1`, `RHSA-2024:1234`,\n"
	"`GHSA-xxxx-xxxx-xxxx`): a letter or digit, then letters, digits and `-:._`,\n"
	"at most 64 in all. A `{cve}` or `{advisory}` that is not such an id is a 400\n"
	"naming it, before anything is read.\n"
	"\n"
	"**Lists** are paged by id: `?after=<last id seen>&limit=<n>`; a reply\n"
	"carries `next_after` (null on the last page).\n"
	"\n";

static pw_err md_table(pw_buf *out, const pw_route *r, size_t n)
{
	char buf[128], lim[32];
	pw_err rc = pw_buf_puts(
		out, "## Routes\n\n"
		     "| method | path | who may call | body limit | audit event | summary |\n"
		     "| --- | --- | --- | --- | --- | --- |\n");
	for (size_t i = 0; i < n && !rc; i++) {
		size_text(r[i].body_max, lim, sizeof lim);
		rc = pw_buf_printf(out, "| %s | `%s` | %s | %s | %s | %s |\n", r[i].method,
				   r[i].path, access_text(&r[i], buf, sizeof buf),
				   r[i].body_max ? lim : "none", r[i].audit ? r[i].audit : "-",
				   r[i].summary);
	}
	return rc;
}

/* The authorization matrix exactly as pw_route_expected_status has it. */
static pw_err md_matrix(pw_buf *out, const pw_route *r, size_t n)
{
	pw_err rc =
		pw_buf_puts(out,
			    "\n## Who gets what\n\n"
			    "The status each caller gets from a well-formed call; the\n"
			    "authorization test checks every cell against the running server.\n\n"
			    "| route |");
	for (int k = 0; k < PW_ROLE__COUNT && !rc; k++)
		rc = pw_buf_printf(out, " %s |", pw_role_name((pw_role)k));
	if (!rc)
		rc = pw_buf_puts(out, " agent | no credential |\n| --- |");
	for (int k = 0; k < PW_ROLE__COUNT + 2 && !rc; k++)
		rc = pw_buf_puts(out, " --- |");
	if (!rc)
		rc = pw_buf_putc(out, '\n');
	for (size_t i = 0; i < n && !rc; i++) {
		rc = pw_buf_printf(out, "| %s `%s` |", r[i].method, r[i].path);
		pw_api_identity who;
		memset(&who, 0, sizeof who);
		for (int k = 0; k < PW_ROLE__COUNT + 2 && !rc; k++) {
			who.kind = k < PW_ROLE__COUNT    ? PW_ID_USER
				   : k == PW_ROLE__COUNT ? PW_ID_AGENT
							 : PW_ID_NONE;
			who.user.role = k < PW_ROLE__COUNT ? (pw_role)k : PW_ROLE_ADMIN;
			rc = pw_buf_printf(out, " %d |", pw_route_expected_status(&r[i], &who));
		}
		if (!rc)
			rc = pw_buf_putc(out, '\n');
	}
	return rc;
}

/* Examples are kept compact in the table and indented here; CSV ones
 * are shown as they are. */
/* `fence`: the text's language when it is not JSON ("csv", "text"). */
static pw_err md_example(pw_buf *out, const char *title, const char *text, const char *fence)
{
	if (fence)
		return pw_buf_printf(out, "%s:\n\n```%s\n%s```\n\n", title, fence, text);
	cJSON *v = cJSON_Parse(text);
	char *pretty = v ? cJSON_Print(v) : NULL;
	cJSON_Delete(v);
	if (!pretty)
		return PW_ERR_INVALID;
	pw_err rc = pw_buf_printf(out, "%s:\n\n```json\n%s\n```\n\n", title, pretty);
	cJSON_free(pretty);
	return rc;
}

static pw_err md_route(pw_buf *out, const pw_route *r)
{
	char buf[128], lim[32];
	size_text(r->body_max, lim, sizeof lim);
	pw_err rc = pw_buf_printf(out, "\n### %s %s\n\n%s.\n\n- Who may call: %s\n", r->method,
				  r->path, r->summary, access_text(r, buf, sizeof buf));
	if (!rc)
		rc = pw_buf_printf(out, "- Body: %s%s\n- Success: %d%s\n",
				   !r->body_max                      ? "none"
				   : r->format == PW_FORMAT_CSV_BODY ? "CSV (text/csv), up to "
								     : "JSON, up to ",
				   r->body_max ? lim : "", r->ok_status,
				   r->format == PW_FORMAT_CSV_REPLY ? ", CSV (text/csv)"
				   : r->format == PW_FORMAT_METRICS_REPLY
					   ? ", Prometheus text format"
					   : "");
	if (!rc)
		rc = pw_buf_printf(out, "- Audit event: %s\n",
				   r->audit ? r->audit : "none (read only)");
	if (!rc && r->query)
		rc = pw_buf_printf(out, "- Query: %s\n", r->query);
	if (!rc)
		rc = pw_buf_putc(out, '\n');
	if (!rc && r->request_example)
		rc = md_example(out, "Request", r->request_example,
				r->format == PW_FORMAT_CSV_BODY ? "csv" : NULL);
	if (!rc && r->response_example)
		rc = md_example(out, "Response", r->response_example,
				r->format == PW_FORMAT_CSV_REPLY       ? "csv"
				: r->format == PW_FORMAT_METRICS_REPLY ? "text"
								       : NULL);
	return rc;
}

pw_err pw_routes_markdown(pw_buf *out)
{
	size_t n;
	const pw_route *r = pw_routes(&n);
	pw_err rc = pw_buf_puts(out, intro);
	if (!rc)
		rc = md_table(out, r, n);
	if (!rc)
		rc = md_matrix(out, r, n);
	if (!rc)
		rc = pw_buf_puts(out, "\n## Routes in detail\n");
	for (size_t i = 0; i < n && !rc; i++)
		rc = md_route(out, &r[i]);
	return rc;
}
