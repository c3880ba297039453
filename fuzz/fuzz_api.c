/* Request handling (routing, authorization, body limits and every
 * handler) on arbitrary requests, against a real SQLite server database
 * set up once with an admin, an operator and an enrolled agent.
 *
 * Input: "METHOD PATH[?QUERY]\n" then one byte choosing the caller
 * ('1' admin, '2' operator, '3' the agent, else none), then the body.
 * "@E@" in the body becomes a valid enrollment token. Aborts on a crash,
 * a sanitizer report, a status outside the documented set, or a reply
 * that is not JSON (or, for errors, not {"error":{"code","message"}})
 * unless it is a success marked CSV, or one that is not UTF-8. */
#include <cjson/cJSON.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/agents.h"
#include "patchwarden/json_limits.h"
#include "patchwarden/metrics.h"
#include "patchwarden/routes.h"
#include "patchwarden/schema.h"
#include "patchwarden/users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	char dir[32];
	pw_db *db;
	pw_api_settings settings;
	char admin[PW_API_TOKEN_MAX], oper[PW_API_TOKEN_MAX];
	char etoken[PW_ENROLL_TOKEN_MAX];
	pw_enrollment agent;
} fz;

static void die(const pw_error *e)
{
	fprintf(stderr, "fuzz_api set-up: %s\n", pw_error_text(e));
	abort();
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	pw_db_close(fz.db);
	nftw(fz.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void init(void)
{
	setenv("PATCHWARDEN_PWHASH", "fast", 1);
	snprintf(fz.dir, sizeof fz.dir, "/tmp/pw-fuzz-api-XXXXXX");
	if (!mkdtemp(fz.dir))
		abort();
	atexit(cleanup);
	char url[128];
	snprintf(url, sizeof url, "sqlite:%s/server.db", fz.dir);
	pw_error e = PW_ERROR_INIT;
	fz.settings = (pw_api_settings)PW_API_SETTINGS_INIT;
	if (pw_schema_open(url, &fz.db, &e) ||
	    pw_user_add(fz.db, "fuzz", "admin", PW_ROLE_ADMIN, NULL, NULL, &e) ||
	    pw_user_add(fz.db, "fuzz", "oper", PW_ROLE_OPERATOR, NULL, NULL, &e) ||
	    pw_api_token_create(fz.db, "fuzz", "admin", "fuzz", 0, fz.admin, NULL, &e) ||
	    pw_api_token_create(fz.db, "fuzz", "oper", "fuzz", 0, fz.oper, NULL, &e) ||
	    pw_enroll_token_create(fz.db, "fuzz", "fuzz", 1000000, 864000, fz.etoken, NULL, &e))
		die(&e);
	pw_enroll_request r = {fz.etoken, "fuzz-host", "fuzz-machine", NULL, NULL,
			       NULL,      NULL,        NULL,           NULL};
	if (pw_agent_enroll(fz.db, &r, &fz.agent, &e))
		die(&e);
}

static const int statuses[] = {200, 201, 400, 401, 403, 404, 405, 409, 413, 503};

static void check_reply(const pw_api_response *resp)
{
	bool known = false;
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		known |= resp->status == statuses[i];
	if (!known) {
		fprintf(stderr, "status %d: %s\n", resp->status, pw_buf_str(&resp->body));
		abort();
	}
	/* Only a success may be in another format (CSV, metrics), which says so. */
	if (resp->content_type) {
		if (resp->status >= 400 || (strcmp(resp->content_type, PW_CSV_TYPE) != 0 &&
					    strcmp(resp->content_type, PW_METRICS_TYPE) != 0))
			abort();
		return;
	}
	/* JSON text is UTF-8 (RFC 8259): a message quoting input must not
	 * cut a character in two. */
	if (!pw_utf8_valid(pw_buf_str(&resp->body), resp->body.len)) {
		fprintf(stderr, "reply not UTF-8: %s\n", pw_buf_str(&resp->body));
		abort();
	}
	cJSON *v = cJSON_ParseWithLength(pw_buf_str(&resp->body), resp->body.len);
	if (!v)
		abort();
	if (resp->status >= 400) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(v, "error");
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "code")) ||
		    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")))
			abort();
	}
	cJSON_Delete(v);
}

/* Splits "a=1&b=2" in place (no unescaping: the transport does that). */
static size_t split_query(char *q, pw_query_param *out, size_t max)
{
	size_t n = 0;
	while (q && *q && n < max) {
		char *amp = strchr(q, '&');
		if (amp)
			*amp = '\0';
		char *eq = strchr(q, '=');
		if (eq)
			*eq = '\0';
		out[n].key = q;
		out[n].value = eq ? eq + 1 : NULL;
		n++;
		q = amp ? amp + 1 : NULL;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fz.db)
		init();
	if (size > 256 * 1024)
		return 0;
	const char *nl = memchr(data, '\n', size);
	if (!nl || (size_t)(nl - (const char *)data) + 2 > size)
		return 0;
	size_t line_len = (size_t)(nl - (const char *)data);
	char *line = strndup((const char *)data, line_len);
	char who = nl[1];
	const char *body_in = nl + 2;
	size_t body_len = size - line_len - 2;
	pw_buf body = PW_BUF_INIT;
	for (size_t i = 0; i < body_len; i++) {
		if (i + 3 <= body_len && !memcmp(body_in + i, "@E@", 3)) {
			pw_buf_puts(&body, fz.etoken);
			i += 2;
		} else {
			pw_buf_putc(&body, body_in[i]);
		}
	}
	char *sp = line ? strchr(line, ' ') : NULL;
	if (sp) {
		*sp = '\0';
		char *path = sp + 1, *q = strchr(path, '?');
		if (q)
			*q++ = '\0';
		pw_query_param params[16];
		size_t np = split_query(q, params, 16);
		char authz[160];
		const char *tok = who == '1'   ? fz.admin
				  : who == '2' ? fz.oper
				  : who == '3' ? fz.agent.credential
					       : NULL;
		snprintf(authz, sizeof authz, "Bearer %s", tok ? tok : "");
		pw_api_env env = {fz.db, &fz.settings, NULL, NULL, NULL, NULL, NULL};
		pw_api_call c = {line,     path, tok ? authz : NULL,
				 params,   np,   body_len ? pw_buf_str(&body) : NULL,
				 body.len, NULL};
		pw_api_response resp = PW_API_RESPONSE_INIT;
		pw_api_handle(&env, &c, &resp);
		check_reply(&resp);
		pw_api_response_release(&resp);
	}
	pw_buf_release(&body);
	free(line);
	return 0;
}
