/* Administration, the admin's alone: users (add, role, disable and
 * enable), API tokens (create, shown once; revoke) and enrollment
 * tokens (create, shown once; revoke), each through its API route. */
#include <cjson/cJSON.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server-internal.h"

static int64_t row_id(const cJSON *row)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(row, "id");
	return cJSON_IsNumber(id) ? (int64_t)id->valuedouble : 0;
}

/* A form of one button posting to /admin/<what>. */
static void button(struct pw_web_page *p, const char *what, int64_t id, const char *verb,
		   const char *text, const char *name)
{
	pw_web_putf(p, "<form method=\"post\" action=\"/admin/%s/%" PRId64 "/%s\">", what, id,
		    verb);
	pw_web_csrf(p);
	pw_web_putf(p, "<button type=\"submit\" aria-label=\"%s ", text);
	pw_web_esc(p, name);
	pw_web_putf(p, "\">%s</button></form>", text);
}

static void role_options(struct pw_web_page *p, const char *selected)
{
	for (int r = 0; r < PW_ROLE__COUNT; r++) {
		const char *n = pw_role_name((pw_role)r);
		pw_web_putf(p, "<option%s>%s</option>",
			    selected && !strcmp(selected, n) ? " selected" : "", n);
	}
}

static void user_actions(struct pw_web_page *p, const cJSON *u)
{
	int64_t id = row_id(u);
	const char *name = pw_web_str(u, "name");
	pw_web_putf(p, "<form method=\"post\" action=\"/admin/users/%" PRId64 "/role\">", id);
	pw_web_csrf(p);
	pw_web_putf(p, "<label for=\"role-%" PRId64 "\">Role of ", id);
	pw_web_esc(p, name);
	pw_web_putf(p, "</label> <select id=\"role-%" PRId64 "\" name=\"role\">", id);
	role_options(p, pw_web_str(u, "role"));
	pw_web_put(p, "</select> <button type=\"submit\">Change the role</button></form>");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "disabled")))
		button(p, "users", id, "enable", "Enable", name);
	else
		button(p, "users", id, "disable", "Disable", name);
}

static void token_actions(struct pw_web_page *p, const cJSON *t)
{
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(t, "revoked")))
		pw_web_put(p, "revoked");
	else
		button(p, "tokens", row_id(t), "revoke", "Revoke", pw_web_str(t, "label"));
}

static void enroll_actions(struct pw_web_page *p, const cJSON *t)
{
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(t, "revoked")))
		pw_web_put(p, "revoked");
	else
		button(p, "enroll-tokens", row_id(t), "revoke", "Revoke", pw_web_str(t, "label"));
}

static void input(struct pw_web_page *p, const char *id, const char *name, const char *text,
		  const char *attrs)
{
	pw_web_putf(p, "<p><label for=\"%s\">%s</label> <input id=\"%s\" name=\"%s\" %s></p>", id,
		    text, id, name, attrs);
}

/* What a form of this page did, by the redirect's code: its path's last
 * segment. */
static const char *const said[][2] = {
	{"add", "the user is added"},        {"role", "the role is changed"},
	{"disable", "the user is disabled"}, {"enable", "the user is enabled"},
	{"revoke", "the token is revoked"},
};

/* The page, after `done` (a message; NULL: the query's code) and with a
 * secret shown once. */
static void admin_page(struct pw_web_page *p, const char *done, const char *secret)
{
	cJSON *users = pw_web_page_data(p, "/api/v1/users");
	if (!users)
		return;
	cJSON *tokens, *enroll;
	char msg[PW_WEB_MSG], emsg[PW_WEB_MSG];
	(void)pw_web_call(p, "GET", "/api/v1/tokens", NULL, 0, NULL, &tokens, msg, sizeof msg);
	(void)pw_web_call(p, "GET", "/api/v1/enroll-tokens", NULL, 0, NULL, &enroll, emsg,
			  sizeof emsg);
	pw_web_head(p, 200, "Administration");
	if (done)
		pw_web_message(p, "ok", done);
	else
		pw_web_done(p, said, sizeof said / sizeof said[0]);
	if (secret) {
		pw_web_put(p, "<p role=\"status\">The new token, shown this once (copy it now): "
			      "<output id=\"secret\"><code>");
		pw_web_esc(p, secret);
		pw_web_put(p, "</code></output></p>\n");
	}
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(users, "users");
	pw_web_put(p, "<h2>Users</h2>\n");
	pw_web_table_actions(p, list, NULL, NULL, NULL, NULL, user_actions);
	pw_web_put(p, "<form method=\"post\" action=\"/admin/users\"><fieldset><legend>Add a "
		      "user</legend>");
	pw_web_csrf(p);
	input(p, "u-name", "name", "User name", "required autocomplete=\"off\"");
	pw_web_put(p, "<p><label for=\"u-role\">Role</label> <select id=\"u-role\" name=\"role\" "
		      "required>");
	role_options(p, "helpdesk");
	pw_web_put(p, "</select></p>");
	input(p, "u-password", "password", "Password (8 characters or more; none: API tokens only)",
	      "type=\"password\" autocomplete=\"new-password\" minlength=\"8\"");
	pw_web_put(p, "<button type=\"submit\">Add the user</button></fieldset></form>\n");

	pw_web_put(p, "<h2>API tokens</h2>\n");
	if (tokens)
		pw_web_table_actions(p, cJSON_GetObjectItemCaseSensitive(tokens, "tokens"), NULL,
				     NULL, NULL, NULL, token_actions);
	else
		pw_web_message(p, "error", msg);
	pw_web_put(p, "<form method=\"post\" action=\"/admin/tokens\"><fieldset><legend>Create "
		      "an API token</legend>");
	pw_web_csrf(p);
	pw_web_put(p, "<p><label for=\"t-user\">For the user</label> <select id=\"t-user\" "
		      "name=\"user\" required>");
	const cJSON *u;
	cJSON_ArrayForEach(u, list) {
		pw_web_putf(p, "<option value=\"%" PRId64 "\">", row_id(u));
		pw_web_esc(p, pw_web_str(u, "name"));
		pw_web_put(p, "</option>");
	}
	pw_web_put(p, "</select></p>");
	input(p, "t-label", "label", "Label (what it is for)", "required");
	input(p, "t-days", "days", "Valid for days (empty: no expiry)", "inputmode=\"numeric\"");
	pw_web_put(p, "<button type=\"submit\">Create the token</button></fieldset></form>\n");

	pw_web_put(p, "<h2>Enrollment tokens</h2>\n");
	if (enroll)
		pw_web_table_actions(p, cJSON_GetObjectItemCaseSensitive(enroll, "enroll_tokens"),
				     NULL, NULL, NULL, NULL, enroll_actions);
	else
		pw_web_message(p, "error", emsg);
	pw_web_put(p, "<form method=\"post\" action=\"/admin/enroll-tokens\"><fieldset><legend>"
		      "Create an enrollment token</legend>");
	pw_web_csrf(p);
	input(p, "e-label", "label", "Label (where the agents are)", "required");
	input(p, "e-uses", "uses", "Agents it may enroll", "inputmode=\"numeric\" value=\"1\"");
	input(p, "e-hours", "hours", "Valid for hours", "inputmode=\"numeric\" value=\"24\"");
	pw_web_put(p, "<button type=\"submit\">Create the token</button></fieldset></form>\n");
	cJSON_Delete(users);
	cJSON_Delete(tokens);
	cJSON_Delete(enroll);
	pw_web_foot(p);
}

void pw_web_admin(struct pw_web_page *p)
{
	if (!pw_web_may(p, "POST", "/api/v1/users")) {
		pw_web_error_page(p, 403, "administration is the admin's");
		return;
	}
	admin_page(p, NULL, NULL);
}

/* A form field as a whole number from 1 to max times `unit`, into `key`
 * of b; an empty field adds nothing. False after an error page. */
static bool number(struct pw_web_page *p, const pw_form *f, const char *field, int64_t max,
		   int64_t unit, cJSON *b, const char *key)
{
	const char *v = pw_form_get(f, field);
	if (!v || !*v)
		return true;
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || *end || n < 1 || n > max) {
		char text[160];
		snprintf(text, sizeof text, "%s must be a whole number from 1 to %" PRId64, field,
			 max);
		pw_web_error_page(p, 400, text);
		return false;
	}
	if (!cJSON_AddNumberToObject(b, key, (double)(n * unit))) {
		pw_web_error_page(p, 500, "the server ran out of memory");
		return false;
	}
	return true;
}

static bool text(struct pw_web_page *p, const pw_form *f, const char *field, cJSON *b)
{
	const char *v = pw_form_get(f, field);
	if (!v || !*v || cJSON_AddStringToObject(b, field, v))
		return true;
	pw_web_error_page(p, 500, "the server ran out of memory");
	return false;
}

/* POST /admin/<what>: the API call the form stands for; its method,
 * path and body. False after an error page. */
static bool admin_call(struct pw_web_page *p, const char *what, const pw_form *f,
		       const char **method, char *path, size_t psize, cJSON *b)
{
	const char *rest;
	int64_t id;
	*method = "POST";
	if (!strcmp(what, "users")) {
		snprintf(path, psize, "/api/v1/users");
		return text(p, f, "name", b) && text(p, f, "role", b) && text(p, f, "password", b);
	}
	if (!strcmp(what, "tokens")) {
		const char *user = pw_form_get(f, "user");
		id = user ? strtoll(user, NULL, 10) : 0;
		snprintf(path, psize, "/api/v1/users/%" PRId64 "/tokens", id);
		return text(p, f, "label", b) &&
		       number(p, f, "days", 3650, 86400, b, "ttl_seconds");
	}
	if (!strcmp(what, "enroll-tokens")) {
		snprintf(path, psize, "/api/v1/enroll-tokens");
		return text(p, f, "label", b) && number(p, f, "uses", 1000000, 1, b, "uses") &&
		       number(p, f, "hours", 24 * 366, 3600, b, "ttl_seconds");
	}
	if ((id = pw_web_path_id(what, 6, &rest)) && !strncmp(what, "users/", 6) &&
	    (!strcmp(rest, "/disable") || !strcmp(rest, "/enable") || !strcmp(rest, "/role"))) {
		snprintf(path, psize, "/api/v1/users/%" PRId64 "%s", id, rest);
		return strcmp(rest, "/role") || text(p, f, "role", b);
	}
	if ((id = pw_web_path_id(what, 7, &rest)) && !strncmp(what, "tokens/", 7) &&
	    !strcmp(rest, "/revoke")) {
		*method = "DELETE";
		snprintf(path, psize, "/api/v1/tokens/%" PRId64, id);
		return true;
	}
	if ((id = pw_web_path_id(what, 14, &rest)) && !strncmp(what, "enroll-tokens/", 14) &&
	    !strcmp(rest, "/revoke")) {
		*method = "DELETE";
		snprintf(path, psize, "/api/v1/enroll-tokens/%" PRId64, id);
		return true;
	}
	pw_web_error_page(p, 404, "there is no such form");
	return false;
}

void pw_web_admin_post(struct pw_web_page *p, const char *what, const pw_form *f)
{
	const char *method;
	char path[96];
	cJSON *b = cJSON_CreateObject();
	if (!b) {
		pw_web_error_page(p, 500, "the server ran out of memory");
		return;
	}
	if (!admin_call(p, what, f, &method, path, sizeof path, b)) {
		cJSON_Delete(b);
		return;
	}
	/* Routes without a body take none. */
	if (!b->child) {
		cJSON_Delete(b);
		b = NULL;
	}
	cJSON *j = pw_web_send(p, method, path, b);
	if (!j)
		return;
	const char *secret = pw_web_str(j, "token");
	if (*secret) {
		/* Shown once, so never through a redirect (a URL is logged). */
		admin_page(p, "the token is created", secret);
		cJSON_Delete(j);
		return;
	}
	cJSON_Delete(j);
	const char *slash = strrchr(what, '/');
	char to[64];
	snprintf(to, sizeof to, "/admin?done=%s", slash ? slash + 1 : "add");
	pw_web_redirect(p, to);
}
