/* Login and logout. */
#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "patchwarden/token.h"

#include "server-internal.h"

#define LOGIN_COOKIE "pw_login"

const char *pw_web_login_next(const char *v)
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

/* The login form, with `next` (pw_web_login_next's) when set. Its own
 * CSRF token (there is no session yet) is in a SameSite=Strict cookie
 * and in the form: another site's page can post a form here, but not
 * with the cookie, so nobody is logged in to an account of someone
 * else's choosing. */
void pw_web_login_form(struct pw_web_page *p, int status, const char *error, const char *next)
{
	char token[PW_SECRET_HEX + 1];
	pw_error e = PW_ERROR_INIT;
	if (pw_secret_new(token, &e)) {
		pw_web_error_page(p, 500, "the server has no random source; try again");
		return;
	}
	snprintf(p->out->set_cookie, sizeof p->out->set_cookie,
		 LOGIN_COOKIE "=%s; Path=/login; Max-Age=3600; HttpOnly; SameSite=Strict%s", token,
		 p->rq->secure_cookies ? "; Secure" : "");
	pw_web_head(p, status, "Log in");
	if (error)
		pw_web_message(p, "error", error);
	pw_web_put(p, "<form method=\"post\" action=\"/login\">");
	pw_web_hidden(p, "csrf", token);
	if (next)
		pw_web_hidden(p, "next", next);
	pw_web_put(p, "<label for=\"user\">User name</label>"
		      "<input id=\"user\" name=\"user\" autocomplete=\"username\" required "
		      "data-autofocus>"
		      "<label for=\"password\">Password</label>"
		      "<input id=\"password\" name=\"password\" type=\"password\" "
		      "autocomplete=\"current-password\" required>"
		      "<p><button type=\"submit\">Log in</button></p></form>\n");
	pw_web_foot(p);
}

/* Whether the login form's token came back in both the cookie and the form. */
static bool login_csrf_ok(const struct pw_web_page *p, const pw_form *f)
{
	char cookie[PW_SECRET_HEX + 1];
	const char *given = pw_form_get(f, "csrf");
	return p->rq->cookie && pw_cookie_get(p->rq->cookie, LOGIN_COOKIE, cookie, sizeof cookie) &&
	       strlen(cookie) == PW_SECRET_HEX && given && strlen(given) == PW_SECRET_HEX &&
	       sodium_memcmp(cookie, given, PW_SECRET_HEX) == 0;
}

void pw_web_login(struct pw_web_page *p, const pw_form *f)
{
	const char *next = pw_web_login_next(pw_form_get(f, "next"));
	if (!login_csrf_ok(p, f)) {
		pw_web_login_form(
			p, 403,
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
				     p->rq->client, &p->env->settings->session, token, &s, &e);
	if (p->env->write_lock)
		pthread_mutex_unlock(p->env->write_lock);
	if (rc == PW_ERR_AUTH) {
		pw_web_login_form(p, 401, pw_error_text(&e), next);
		return;
	}
	if (rc) {
		pw_web_error_page(p, rc == PW_ERR_UNAVAILABLE ? 503 : 500,
				  "the server could not log you in; try again shortly");
		return;
	}
	snprintf(p->out->set_cookie, sizeof p->out->set_cookie,
		 PW_WEB_COOKIE "=%s; Path=/; Max-Age=%" PRId64 "; HttpOnly; SameSite=Strict%s",
		 token, p->env->settings->session.absolute,
		 p->rq->secure_cookies ? "; Secure" : "");
	snprintf(p->out->actor, sizeof p->out->actor, "user:%s", s.user.name);
	pw_web_redirect(p, next ? next : "/");
}

void pw_web_logout(struct pw_web_page *p)
{
	pw_error e = PW_ERROR_INIT;
	if (p->env->write_lock)
		pthread_mutex_lock(p->env->write_lock);
	pw_err rc = pw_session_end(p->env->db, p->who.actor, p->s.id, &e);
	if (p->env->write_lock)
		pthread_mutex_unlock(p->env->write_lock);
	if (rc) {
		pw_web_error_page(p, 500, "the server could not log you out; try again");
		return;
	}
	snprintf(p->out->set_cookie, sizeof p->out->set_cookie,
		 PW_WEB_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
		 p->rq->secure_cookies ? "; Secure" : "");
	pw_web_redirect(p, "/login");
}
