/* The API through the real server over HTTP on 127.0.0.1 (libcurl):
 * the authorization matrix (EVERY route x EVERY role, no credential, a
 * bad token and an agent credential, expected statuses read from
 * tests/data/authz/matrix.tsv, written from the roles' job descriptions
 * rather than from the route table the server enforces), the audit event of every state-changing
 * call, limits (413, depth, string length, bad JSON), error shapes, the check-in flow, the
 * configuration rules, and that docs/api.md and dist/patchwarden.conf match the tables they
 * document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patchwarden/agents.h"
#include "patchwarden/audit.h"
#include "patchwarden/campaigns.h"
#include "patchwarden/fileio.h"
#include "patchwarden/host_findings.h"
#include "patchwarden/hosts.h"
#include "patchwarden/jobs.h"
#include "patchwarden/metrics.h"
#include "patchwarden/policy_run.h"
#include "patchwarden/routes.h"
#include "patchwarden/schema.h"
#include "patchwarden/server.h"
#include "patchwarden/users.h"
#include "patchwarden/window.h"

/* ---- fixture: a database with one user per role, an agent, a server --- */

#define N_CALLERS (PW_ROLE__COUNT + 3) /* roles, agent, none, bad token */
enum { C_AGENT = PW_ROLE__COUNT, C_NONE, C_BAD };

static struct {
	char dir[64];
	char url[128];
	pw_db *db; /* the test's own handle, for set-up and checks */
	pw_server *srv;
	char base[64];
	char token[PW_ROLE__COUNT][PW_API_TOKEN_MAX];
	int64_t user_id[PW_ROLE__COUNT];
	char enroll_token[PW_ENROLL_TOKEN_MAX];
	pw_enrollment agent;
	int64_t seq; /* the agent's result numbering */
	int counter; /* unique names */
	CURL *curl;
} fx;

static void log_quiet(void *ctx, pw_log_level level, const char *line)
{
	(void)ctx;
	/* 5xx causes are worth seeing when a test fails. */
	if (level == PW_LOG_ERR)
		fprintf(stderr, "server: %s\n", line);
}

static void check(pw_err rc, const pw_error *e)
{
	if (rc)
		fail_msg("%s", pw_error_text(e));
}

static int setup(void **state)
{
	(void)state;
	setenv("PATCHWARDEN_PWHASH", "fast", 1);
	snprintf(fx.dir, sizeof fx.dir, "/tmp/pw-routes-XXXXXX");
	assert_non_null(mkdtemp(fx.dir));
	snprintf(fx.url, sizeof fx.url, "sqlite:%s/server.db", fx.dir);
	pw_error e = PW_ERROR_INIT;
	check(pw_schema_open(fx.url, &fx.db, &e), &e);
	for (int r = 0; r < PW_ROLE__COUNT; r++) {
		char name[32];
		snprintf(name, sizeof name, "t-%s", pw_role_name((pw_role)r));
		check(pw_user_add(fx.db, "test", name, (pw_role)r, NULL, &fx.user_id[r], &e), &e);
		check(pw_api_token_create(fx.db, "test", name, "test", 0, fx.token[r], NULL, &e),
		      &e);
	}
	check(pw_enroll_token_create(fx.db, "test", "test", 100000, 3600, fx.enroll_token, NULL,
				     &e),
	      &e);
	pw_enroll_request req = {fx.enroll_token,
				 "agent-host",
				 "machine-0",
				 "debian",
				 "12",
				 "bookworm",
				 "Debian GNU/Linux 12 (bookworm)",
				 "amd64",
				 NULL};
	check(pw_agent_enroll(fx.db, &req, &fx.agent, &e), &e);

	pw_server_config sc;
	pw_server_config_defaults(&sc);
	sc.listen = "127.0.0.1:0";
	sc.allow_plain_http = true;
	sc.db_url = fx.url;
	sc.threads = 2;
	sc.log = log_quiet;
	check(pw_server_start(&sc, &fx.srv, &e), &e);
	snprintf(fx.base, sizeof fx.base, "http://127.0.0.1:%u", pw_server_port(fx.srv));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	fx.curl = curl_easy_init();
	assert_non_null(fx.curl);
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	curl_easy_cleanup(fx.curl);
	curl_global_cleanup();
	pw_server_stop(fx.srv);
	pw_db_close(fx.db);
	nftw(fx.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- HTTP ---------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	return pw_buf_append(ud, p, size * n) ? 0 : size * n;
}

struct reply {
	long status;
	pw_buf body;
	cJSON *json;
};

static void reply_release(struct reply *r)
{
	pw_buf_release(&r->body);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof *r);
}

/* `auth` is the bearer token or NULL; extra_header may be NULL. */
static struct reply http(const char *method, const char *path, const char *auth, const char *body,
			 size_t len, const char *extra_header)
{
	struct reply r = {0, PW_BUF_INIT, NULL};
	char url[512], authz[256];
	snprintf(url, sizeof url, "%s%s", fx.base, path);
	CURL *c = fx.curl;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	if (auth) {
		snprintf(authz, sizeof authz, "Authorization: Bearer %s", auth);
		h = curl_slist_append(h, authz);
	}
	if (extra_header)
		h = curl_slist_append(h, extra_header);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	CURLcode cc = curl_easy_perform(c);
	curl_slist_free_all(h);
	if (cc != CURLE_OK)
		fail_msg("%s %s: %s", method, path, curl_easy_strerror(cc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	char *type = NULL;
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
	/* CSV and metrics replies are the only others, and only on success. */
	if (r.status < 400 && type &&
	    (!strcmp(type, PW_CSV_TYPE) || !strcmp(type, PW_METRICS_TYPE)))
		return r;
	if (!type || strcmp(type, "application/json") != 0)
		fail_msg("%s %s: %ld with Content-Type %s", method, path, r.status,
			 type ? type : "(none)");
	r.json = cJSON_ParseWithLength(pw_buf_str(&r.body), r.body.len);
	if (!r.json)
		fail_msg("%s %s: %ld with a body that is not JSON: %s", method, path, r.status,
			 pw_buf_str(&r.body));
	return r;
}

static struct reply call(const char *method, const char *path, const char *auth, const char *body)
{
	return http(method, path, auth, body, body ? strlen(body) : 0, NULL);
}

/* Every error reply has exactly {"error":{"code","message"}}, the code
 * matching the status. */
static void expect_error(const struct reply *r, long status, const char *what)
{
	if (r->status != status)
		fail_msg("%s: status %ld, expected %ld: %s", what, r->status, status,
			 pw_buf_str(&r->body));
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->json, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
	if (!cJSON_IsString(code) || !cJSON_IsString(msg) || !msg->valuestring[0] ||
	    cJSON_GetArraySize(r->json) != 1 || cJSON_GetArraySize(e) != 2)
		fail_msg("%s: not an error object: %s", what, pw_buf_str(&r->body));
	assert_string_equal(code->valuestring, pw_api_error_code((int)status));
}

static int64_t json_int(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v))
		fail_msg("no number \"%s\"", key);
	return (int64_t)v->valuedouble;
}

/* ---- the matrix ---------------------------------------------------------- */

static const char *caller_name(int k)
{
	return k < PW_ROLE__COUNT ? pw_role_name((pw_role)k)
	       : k == C_AGENT     ? "agent"
	       : k == C_NONE      ? "no credential"
				  : "a bad token";
}

static const char *caller_token(int k)
{
	static const char bad[] =
		"pwt_1.0000000000000000000000000000000000000000000000000000000000000000";
	return k < PW_ROLE__COUNT ? fx.token[k]
	       : k == C_AGENT     ? fx.agent.credential
	       : k == C_NONE      ? NULL
				  : bad;
}

/* One row of tests/data/authz/matrix.tsv: for each caller but C_BAD
 * (refused or let through like C_NONE) whether it may call the route. */
struct matrix_row {
	char method[8];
	char path[96];
	long ok;
	bool allow[C_BAD];
	bool used;
};

static struct matrix_row g_matrix[128];
static size_t g_matrix_n;

/* Splits line (NUL-terminated, modified) at tabs into at most max fields. */
static int split_tabs(char *line, char **f, int max)
{
	int n = 0;
	for (char *p = line; n < max; p++) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p = '\0';
	}
	return n;
}

/* The caller index of a matrix column name, or -1. */
static int matrix_column(const char *name)
{
	for (int r = 0; r < PW_ROLE__COUNT; r++)
		if (!strcmp(name, pw_role_name((pw_role)r)))
			return r;
	return !strcmp(name, "agent") ? C_AGENT : !strcmp(name, "none") ? C_NONE : -1;
}

static void load_matrix(void)
{
	const char *dir = getenv("PW_TEST_DATA");
	if (!dir)
		fail_msg("PW_TEST_DATA is not set; run through ctest");
	char path[512];
	snprintf(path, sizeof path, "%s/authz/matrix.tsv", dir);
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	check(pw_read_file(path, &b, 0, &e), &e);
	int col[3 + C_BAD]; /* caller index of each column after method, path, ok */
	int ncol = 0, lineno = 0;
	g_matrix_n = 0;
	if (!b.len)
		fail_msg("%s is empty", path);
	for (char *line = b.data, *next; line; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *f[3 + C_BAD + 1];
		if (!strncmp(line, "# method\t", 9)) {
			ncol = split_tabs(line + 2, f, 3 + C_BAD + 1);
			if (ncol != 3 + C_BAD)
				fail_msg("%s:%d: want method, path, ok and %d callers", path,
					 lineno, C_BAD);
			for (int i = 3; i < ncol; i++)
				if ((col[i] = matrix_column(f[i])) < 0)
					fail_msg("%s:%d: unknown caller '%s'", path, lineno, f[i]);
			continue;
		}
		if (!*line || *line == '#')
			continue;
		if (!ncol)
			fail_msg("%s:%d: a row before the '# method' header", path, lineno);
		if (g_matrix_n == sizeof g_matrix / sizeof g_matrix[0])
			fail_msg("%s:%d: too many rows", path, lineno);
		struct matrix_row *row = &g_matrix[g_matrix_n++];
		memset(row, 0, sizeof *row);
		char *end;
		if (split_tabs(line, f, ncol + 1) != ncol)
			fail_msg("%s:%d: want %d tab-separated fields", path, lineno, ncol);
		snprintf(row->method, sizeof row->method, "%s", f[0]);
		snprintf(row->path, sizeof row->path, "%s", f[1]);
		row->ok = strtol(f[2], &end, 10);
		if (*end || row->ok < 200 || row->ok > 299)
			fail_msg("%s:%d: ok '%s' is not a 2xx status", path, lineno, f[2]);
		for (int i = 3; i < ncol; i++) {
			if (strcmp(f[i], "allow") != 0 && strcmp(f[i], "deny") != 0)
				fail_msg("%s:%d: '%s' is neither allow nor deny", path, lineno,
					 f[i]);
			row->allow[col[i]] = !strcmp(f[i], "allow");
		}
	}
	pw_buf_release(&b);
	if (!ncol)
		fail_msg("%s: no '# method' header", path);
}

/* The status caller k should get from a well-formed call of rt. */
static int expected(const pw_route *rt, int k)
{
	struct matrix_row *row = NULL;
	for (size_t i = 0; i < g_matrix_n && !row; i++)
		if (!strcmp(g_matrix[i].method, rt->method) && !strcmp(g_matrix[i].path, rt->path))
			row = &g_matrix[i];
	if (!row)
		fail_msg("%s %s has no row in tests/data/authz/matrix.tsv: say who may call it",
			 rt->method, rt->path);
	row->used = true;
	/* A token that authenticates no one is refused (or ignored) like none. */
	int who = k == C_BAD ? C_NONE : k;
	if (row->allow[who])
		return (int)row->ok;
	return who == C_NONE ? 401 : 403;
}

static int64_t new_job(void)
{
	int64_t id;
	pw_error e = PW_ERROR_INIT;
	check(pw_job_create(fx.db, "test", fx.agent.host_id, "scan", NULL, &id, &e), &e);
	return id;
}

static int64_t new_enroll_token(void)
{
	char tok[PW_ENROLL_TOKEN_MAX];
	int64_t id;
	pw_error e = PW_ERROR_INIT;
	check(pw_enroll_token_create(fx.db, "test", "to revoke", 1, 60, tok, &id, &e), &e);
	return id;
}

/* A host without an agent, decommissioned when `decom`. */
static int64_t new_host(int n, bool decom)
{
	char name[32];
	int64_t id;
	pw_error e = PW_ERROR_INIT;
	snprintf(name, sizeof name, "dc-%d", n);
	check(pw_host_create(fx.db, "test", name, NULL, 0, &id, &e), &e);
	if (decom)
		check(pw_host_decommission(fx.db, "test", name, NULL, NULL, &e), &e);
	return id;
}

/* A helpdesk user, disabled when `disabled`. */
static int64_t new_user(int n, bool disabled)
{
	char name[32];
	int64_t id;
	pw_error e = PW_ERROR_INIT;
	snprintf(name, sizeof name, "ud-%d", n);
	check(pw_user_add(fx.db, "test", name, PW_ROLE_HELPDESK, NULL, &id, &e), &e);
	if (disabled)
		check(pw_user_set_disabled(fx.db, "test", name, true, &e), &e);
	return id;
}

/* A token of a user no caller is: only the admin may revoke it. */
static int64_t new_api_token(int n)
{
	char tok[PW_API_TOKEN_MAX], name[32];
	int64_t id;
	pw_error e = PW_ERROR_INIT;
	snprintf(name, sizeof name, "tk-%d", n);
	check(pw_user_add(fx.db, "test", name, PW_ROLE_HELPDESK, NULL, NULL, &e), &e);
	check(pw_api_token_create(fx.db, "test", name, "to revoke", 0, tok, &id, &e), &e);
	return id;
}

/* A host "PREFIX-N" of owner group g-N with an open finding. */
static void campaign_host(const char *prefix, int n, const char *env)
{
	char name[32], group[32];
	snprintf(name, sizeof name, "%s-%d", prefix, n);
	snprintf(group, sizeof group, "g-%d", n);
	pw_host_assign a[] = {{PW_HF_CATEGORY, "web"},
			      {PW_HF_ENVIRONMENT, env},
			      {PW_HF_APP_OWNER, "shop"},
			      {PW_HF_OWNER_GROUP, group}};
	int64_t id;
	pw_error e = PW_ERROR_INIT;
	check(pw_host_create(fx.db, "test", name, a, 4, &id, &e), &e);
	pw_host_finding hf = {.package = "nginx",
			      .advisory = "DSA-1-1",
			      .installed = "1.0",
			      .fixed = "1.1",
			      .priority = PW_HOST_PRIO_HIGH,
			      .cves = "CVE-2026-1"};
	check(pw_host_findings_replace(fx.db, id, &hf, 1, NULL, &e), &e);
}

static void campaign_take(int64_t c, pw_campaign_action a, pw_role r, const char *host)
{
	pw_campaign_step s = {"test",         r, c, a, host, "ok", {NULL, NULL, NULL, NULL}, NULL,
			      pw_window_now()};
	pw_error e = PW_ERROR_INIT;
	check(pw_campaign_step_apply(fx.db, &s, &e), &e);
}

/* Campaign c's Flow 1 host halted by its failed patch, which upgraded
 * pwt-vuln (what a rollback undoes), as the driver records it. */
static void campaign_halted(int64_t c, const char *host)
{
	pw_error e = PW_ERROR_INIT;
	pw_host h = PW_HOST_INIT;
	check(pw_host_get_by_name(fx.db, host, &h, &e), &e);
	campaign_take(c, PW_CA_CONFIRM_BACKUP, PW_ROLE_OPERATOR, host);
	campaign_take(c, PW_CA_START, PW_ROLE_OPERATOR, NULL);
	check(pw_campaign_job_outcome(fx.db, "test", c, h.id, PW_CA_PRE_SCAN_DONE, 0,
				      pw_window_now(), &e),
	      &e);
	int64_t job = new_job();
	pw_buf sql = PW_BUF_INIT;
	pw_buf_printf(&sql,
		      "INSERT INTO campaign_jobs (campaign_id, host_id, purpose, round, job_id,"
		      " queued, handled) VALUES (%" PRId64 ", %" PRId64 ", 'patch', 0, %" PRId64
		      ", '2026-12-07T00:00:00.000Z', 'retry');"
		      "INSERT INTO job_results (agent_id, seq, job_id, host_id, status, output,"
		      " received) VALUES ('%s', %" PRId64 ", %" PRId64 ", %" PRId64
		      ", 'failed', '{\"packages\":[{\"name\":\"pwt-vuln\",\"before\":"
		      "\"1.0-1\",\"after\":\"1.0-2\"}]}', '2026-12-07T00:00:01.000Z')",
		      c, h.id, job, fx.agent.agent_id, ++fx.seq, job, fx.agent.host_id);
	check(pw_db_exec(fx.db, sql.data, &e), &e);
	pw_buf_release(&sql);
	check(pw_campaign_job_outcome(fx.db, "test", c, h.id, PW_CA_PATCH_FAILED, job,
				      pw_window_now(), &e),
	      &e);
	pw_host_release(&h);
}

/* A campaign over host cp-N (Flow 2) in the state `step` (the route's
 * last segment) needs; its id. *body gets the step's body. */
static int64_t campaign_for(const char *step, int n, pw_buf *body)
{
	bool uat = !strcmp(step, "record-uat");
	bool halt = !strcmp(step, "skip") || !strcmp(step, "rollback");
	char filter[32], host[32], test[32];
	snprintf(filter, sizeof filter, "owner=g-%d", n);
	snprintf(host, sizeof host, "cp-%d", n);
	snprintf(test, sizeof test, "cpt-%d", n);
	campaign_host("cp", n, "production");
	if (uat)
		campaign_host("cpt", n, "test");
	pw_campaign_spec sp = {"c", filter, NULL, NULL, halt ? 1 : 0, false, 0};
	int64_t c, host_id = 0;
	pw_error e = PW_ERROR_INIT;
	check(pw_campaign_create(fx.db, "test", PW_ROLE_OPERATOR, &sp, pw_window_now(), &c, &e),
	      &e);
	bool owner = !strcmp(step, "approve") || !strcmp(step, "decline") || uat;
	if (owner || !strcmp(step, "sign-off"))
		campaign_take(c, PW_CA_CONFIRM_BACKUP, PW_ROLE_OPERATOR, host);
	if (!strcmp(step, "sign-off"))
		pw_buf_printf(body, "{\"host\":\"%s\",\"expires\":\"2099-01-01\"}", host);
	if (!strcmp(step, "sign-off")) {
		pw_campaign_step d = {"test",
				      PW_ROLE_APP_OWNER,
				      c,
				      PW_CA_DECLINE,
				      host,
				      "busy",
				      {"low", "low", "low", "cheap"},
				      NULL,
				      pw_window_now()};
		check(pw_campaign_step_apply(fx.db, &d, &e), &e);
	}
	if (uat) {
		campaign_take(c, PW_CA_CONFIRM_BACKUP, PW_ROLE_OPERATOR, test);
		campaign_take(c, PW_CA_APPROVE, PW_ROLE_APP_OWNER, test);
		campaign_take(c, PW_CA_APPROVE, PW_ROLE_APP_OWNER, host);
		campaign_take(c, PW_CA_START, PW_ROLE_OPERATOR, NULL);
		pw_host h = PW_HOST_INIT;
		check(pw_host_get_by_name(fx.db, test, &h, &e), &e);
		host_id = h.id;
		pw_host_release(&h);
	}
	static const pw_campaign_action walk[] = {PW_CA_PRE_SCAN_DONE, PW_CA_PATCH_DONE,
						  PW_CA_POST_SCAN_CLEAN};
	for (size_t i = 0; host_id && i < 3; i++)
		check(pw_campaign_job_outcome(fx.db, "test", c, host_id, walk[i], 0,
					      pw_window_now(), &e),
		      &e);
	if (halt)
		campaign_halted(c, host);
	if (!strcmp(step, "pause") || !strcmp(step, "resume"))
		campaign_take(c, PW_CA_START, PW_ROLE_OPERATOR, NULL);
	if (!strcmp(step, "resume"))
		campaign_take(c, PW_CA_PAUSE, PW_ROLE_OPERATOR, NULL);
	if (!body->len)
		pw_buf_printf(body,
			      "{\"host\":\"%s\",\"note\":\"ok\",\"reason\":\"busy\",\"data_value\":"
			      "\"low\",\"threat_frequency\":\"low\",\"impact\":\"low\","
			      "\"cost_benefit\":\"cheap\",\"recheck\":\"2099-01-01\"}",
			      host);
	return c;
}

/* The first ticket of a fresh campaign. */
static int64_t new_ticket(int n)
{
	pw_buf ignored = PW_BUF_INIT;
	int64_t c = campaign_for("start", n, &ignored);
	pw_buf_release(&ignored);
	cJSON *arr = NULL;
	pw_error e = PW_ERROR_INIT;
	check(pw_ticket_list_json(fx.db, c, &arr, &e), &e);
	int64_t id = (int64_t)cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "id")->valuedouble;
	cJSON_Delete(arr);
	return id;
}

/* A well-formed call of `rt`: the path with its {id} and a body. Every
 * route must be known here, so a new route cannot skip the matrix. */
static void make_call(const pw_route *rt, char *path, size_t psize, pw_buf *body)
{
	int n = ++fx.counter;
	int64_t id = 0, sub = 0;
	pw_buf_reset(body);
	const char *p = rt->path;
	bool post = strcmp(rt->method, "POST") == 0;
	if (!strcmp(p, "/api/v1/agents/enroll")) {
		pw_buf_printf(
			body,
			"{\"token\":\"%s\",\"hostname\":\"h-%d\",\"machine_id\":\"m-%d\","
			"\"os\":{\"id\":\"debian\",\"version_id\":\"12\"},\"arch\":\"amd64\"}",
			fx.enroll_token, n, n);
	} else if (!strcmp(p, "/api/v1/agents/checkin")) {
		pw_buf_printf(body,
			      "{\"inventory_hash\":\"%064d\",\"results\":[{\"job_id\":%" PRId64
			      ",\"seq\":%" PRId64 ",\"status\":\"ok\",\"exit_code\":0}]}",
			      0, new_job(), ++fx.seq);
	} else if (!strcmp(p, "/api/v1/hosts/{id}/rekey")) {
		/* A re-key of fx.agent's machine without its credential waits;
		 * refusing it leaves fx.agent the host's. */
		pw_enroll_request q = {fx.enroll_token,
				       "agent-host",
				       "machine-0",
				       NULL,
				       NULL,
				       NULL,
				       NULL,
				       NULL,
				       NULL};
		pw_enrollment en;
		pw_error e = PW_ERROR_INIT;
		check(pw_agent_enroll(fx.db, &q, &en, &e), &e);
		assert_true(en.pending);
		id = fx.agent.host_id;
		pw_buf_puts(body, "{\"approve\":false}");
	} else if (!strcmp(p, "/api/v1/hosts/{id}/revoke-agent")) {
		/* A fresh agent of its own each time: a success revokes it. */
		char h[32], m[32];
		snprintf(h, sizeof h, "rv-%d", n);
		snprintf(m, sizeof m, "machine-rv-%d", n);
		pw_enroll_request q = {fx.enroll_token, h, m, NULL, NULL, NULL, NULL, NULL, NULL};
		pw_enrollment en;
		pw_error e = PW_ERROR_INIT;
		check(pw_agent_enroll(fx.db, &q, &en, &e), &e);
		id = en.host_id;
	} else if (!strcmp(p, "/api/v1/hosts/{id}/decommission")) {
		id = new_host(n, false);
		pw_buf_printf(body, "{\"note\":\"note %d\"}", n);
	} else if (!strcmp(p, "/api/v1/hosts/{id}/compromised")) {
		/* Similar hosts are of its category: it needs one; a clearing
		 * needs the mark. */
		char name[32];
		snprintf(name, sizeof name, "dc-%d", n);
		id = new_host(n, false);
		pw_host_assign a = {PW_HF_CATEGORY, "core"};
		pw_error e = PW_ERROR_INIT;
		check(pw_host_set(fx.db, "test", name, &a, 1, NULL, &e), &e);
		if (!post) {
			int64_t campaign, ticket;
			size_t similar;
			check(pw_policy_compromised(fx.db, "test", name, NULL, 0, &campaign,
						    &similar, &ticket, &e),
			      &e);
		}
		pw_buf_printf(body, "{\"note\":\"incident %d\"}", n);
	} else if (!strcmp(p, "/api/v1/hosts/{id}") && !strcmp(rt->method, "DELETE")) {
		id = new_host(n, true);
	} else if (!strcmp(p, "/api/v1/hosts/{id}/jobs/{job}")) {
		id = fx.agent.host_id;
		sub = new_job();
	} else if (!strncmp(p, "/api/v1/hosts/{id}", 18)) {
		id = fx.agent.host_id;
		if (post)
			pw_buf_puts(body, "{\"kind\":\"scan\",\"args\":{}}");
		else if (!strcmp(rt->method, "PATCH"))
			pw_buf_printf(body, "{\"ticket\":\"CHG-%d\",\"criticality\":%d}", n,
				      n % 5 + 1);
	} else if (!strcmp(p, "/api/v1/hosts/import-csv")) {
		pw_buf_printf(body, "hostname,purpose\r\ncsv-%d,\"imported, %d\"\r\n", n, n);
	} else if (!strcmp(p, "/api/v1/users") && post) {
		pw_buf_printf(body, "{\"name\":\"u-%d\",\"role\":\"helpdesk\"}", n);
	} else if (!strcmp(p, "/api/v1/users/{id}/tokens")) {
		id = fx.user_id[PW_ROLE_AUDITOR];
		pw_buf_printf(body, "{\"label\":\"t-%d\"}", n);
	} else if (!strcmp(p, "/api/v1/users/{id}/role")) {
		id = new_user(n, false);
		pw_buf_puts(body, "{\"role\":\"manager\"}");
	} else if (!strcmp(p, "/api/v1/users/{id}/disable") ||
		   !strcmp(p, "/api/v1/users/{id}/enable")) {
		id = new_user(n, strstr(p, "enable") != NULL);
	} else if (!strcmp(p, "/api/v1/tokens/{id}")) {
		id = new_api_token(n);
	} else if (!strcmp(p, "/api/v1/enroll-tokens") && post) {
		pw_buf_printf(body, "{\"label\":\"e-%d\",\"uses\":2}", n);
	} else if (!strcmp(p, "/api/v1/enroll-tokens/{id}")) {
		id = new_enroll_token();
	} else if (!strcmp(p, "/api/v1/jobs/{id}")) {
		id = new_job();
	} else if (!strcmp(p, "/api/v1/campaigns") && post) {
		campaign_host("cc", n, "production");
		pw_buf_printf(body, "{\"name\":\"c-%d\",\"hosts\":\"owner=g-%d\"}", n, n);
	} else if (!strncmp(p, "/api/v1/campaigns/{id}", 22)) {
		pw_buf body_of_get = PW_BUF_INIT;
		id = campaign_for(post ? strrchr(p, '/') + 1 : "start", n,
				  post ? body : &body_of_get);
		pw_buf_release(&body_of_get);
	} else if (!strcmp(p, "/api/v1/tickets/{id}")) {
		id = new_ticket(n);
	} else if (!strcmp(p, "/api/v1/cves/{cve}")) {
		snprintf(path, psize, "/api/v1/cves/CVE-2023-%d", 5363 + n);
		return;
	} else if (!strcmp(p, "/api/v1/advisories/{advisory}")) {
		snprintf(path, psize, "/api/v1/advisories/DSA-%d-1", 5532 + n);
		return;
	} else if (post || strchr(p, '{')) {
		fail_msg("test_routes.c does not know how to call %s %s; add it to make_call",
			 rt->method, p);
	}
	const char *brace = strstr(p, "{id}"), *job = strstr(p, "{job}");
	if (job)
		snprintf(path, psize, "%.*s%" PRId64 "%.*s%" PRId64 "%s", (int)(brace - p), p, id,
			 (int)(job - brace - 4), brace + 4, sub, job + 5);
	else if (brace)
		snprintf(path, psize, "%.*s%" PRId64 "%s", (int)(brace - p), p, id, brace + 4);
	else
		snprintf(path, psize, "%s", p);
}

static int64_t audit_head(void)
{
	int64_t last;
	char hash[PW_AUDIT_HASH_HEX + 1];
	pw_error e = PW_ERROR_INIT;
	check(pw_audit_head(fx.db, &last, hash, &e), &e);
	return last;
}

static void newest_action(char *out, size_t size)
{
	pw_audit_list l = PW_AUDIT_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	check(pw_audit_read(fx.db, audit_head() - 1, 1, &l, &e), &e);
	assert_int_equal(l.n, 1);
	snprintf(out, size, "%s", l.v[0].action);
	pw_audit_list_release(&l);
}

static void test_matrix(void **state)
{
	(void)state;
	size_t n;
	const pw_route *rt = pw_routes(&n);
	pw_buf body = PW_BUF_INIT;
	int cells = 0;
	load_matrix();
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < N_CALLERS; k++) {
			char path[256], what[320];
			make_call(&rt[i], path, sizeof path, &body);
			snprintf(what, sizeof what, "%s %s as %s", rt[i].method, path,
				 caller_name(k));
			int64_t before = audit_head();
			struct reply r = http(rt[i].method, path, caller_token(k),
					      body.len ? body.data : NULL, body.len, NULL);
			int want = expected(&rt[i], k);
			if (want >= 400)
				expect_error(&r, want, what);
			else if (r.status != want)
				fail_msg("%s: status %ld, expected %d: %s", what, r.status, want,
					 pw_buf_str(&r.body));
			int64_t after = audit_head();
			if (want < 400 && rt[i].audit) {
				char action[64];
				if (after <= before)
					fail_msg("%s changed state without an audit event", what);
				newest_action(action, sizeof action);
				if (!strstr(rt[i].audit, action))
					fail_msg(
						"%s wrote audit action %s; the route table says %s",
						what, action, rt[i].audit);
			} else if (after != before) {
				fail_msg("%s (status %ld) wrote an audit event", what, r.status);
			}
			reply_release(&r);
			cells++;
		}
	}
	pw_buf_release(&body);
	for (size_t i = 0; i < g_matrix_n; i++)
		if (!g_matrix[i].used)
			fail_msg("tests/data/authz/matrix.tsv: %s %s is not a route",
				 g_matrix[i].method, g_matrix[i].path);
	assert_int_equal(cells, (int)n * N_CALLERS);
	printf("authorization matrix: %d routes x %d callers = %d calls checked\n", (int)n,
	       N_CALLERS, cells);
}

/* ---- routing and errors -------------------------------------------------- */

static void test_routing(void **state)
{
	(void)state;
	struct reply r = call("GET", "/api/v1/nothing", NULL, NULL);
	expect_error(&r, 404, "unknown path");
	reply_release(&r);
	r = call("PUT", "/api/v1/hosts", fx.token[PW_ROLE_ADMIN], NULL);
	expect_error(&r, 405, "PUT on a GET route");
	reply_release(&r);
	/* {id} is a positive decimal without sign or leading zero. */
	const char *bad_ids[] = {"/api/v1/hosts/0",
				 "/api/v1/hosts/-1",
				 "/api/v1/hosts/01",
				 "/api/v1/hosts/1x",
				 "/api/v1/hosts/99999999999999999999",
				 "/api/v1/hosts/"};
	for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
		r = call("GET", bad_ids[i], fx.token[PW_ROLE_ADMIN], NULL);
		expect_error(&r, 404, bad_ids[i]);
		reply_release(&r);
	}
	/* {cve} and {advisory} take ids of their grammar; anything else is a
	 * 400 naming the parameter, before the handler runs. */
	const char *bad_names[] = {
		"/api/v1/cves/cve-2023-5363",
		"/api/v1/cves/CVE-23-5363",
		"/api/v1/cves/CVE-2023-536",
		"/api/v1/cves/CVE-2023-5363x",
		"/api/v1/cves/CVE-2023-5363%25",
		"/api/v1/cves/%20CVE-2023-5363",
		"/api/v1/advisories/-DSA-5532-1",
		"/api/v1/advisories/DSA%205532",
		"/api/v1/advisories/DSA-5532-1%3Bx",
		("/api/v1/advisories/"
		 "A1234567890123456789012345678901234567890123456789012345678901234")};
	for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
		r = call("GET", bad_names[i], fx.token[PW_ROLE_HELPDESK], NULL);
		expect_error(&r, 400, bad_names[i]);
		assert_non_null(
			strstr(pw_buf_str(&r.body), strstr(bad_names[i], "cves/")
							    ? "\"message\":\"cve: \\\""
							    : "\"message\":\"advisory: \\\""));
		reply_release(&r);
	}
	r = call("GET", "/api/v1/cves/", fx.token[PW_ROLE_ADMIN], NULL);
	expect_error(&r, 404, "no CVE id");
	reply_release(&r);
	const char *good_names[] = {
		"/api/v1/cves/CVE-2023-5363",
		"/api/v1/cves/CVE-2021-4414412",
		"/api/v1/advisories/RHSA-2024:1234",
		"/api/v1/advisories/GHSA-jfh8-c2jp-5v3q",
		"/api/v1/advisories/openSUSE-SU-2024:1234-1",
		("/api/v1/advisories/"
		 "A123456789012345678901234567890123456789012345678901234567890123")};
	for (size_t i = 0; i < sizeof good_names / sizeof good_names[0]; i++) {
		r = call("GET", good_names[i], fx.token[PW_ROLE_AUDITOR], NULL);
		if (r.status != 200)
			fail_msg("%s: %ld %s", good_names[i], r.status, pw_buf_str(&r.body));
		/* No feed in this database: nothing names it, nobody is cleared. */
		assert_false(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "known")));
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "not_affected")),
				 0);
		reply_release(&r);
	}
	r = call("GET", "/api/v1/hosts/999999", fx.token[PW_ROLE_ADMIN], NULL);
	expect_error(&r, 404, "a host that does not exist");
	reply_release(&r);
	r = call("GET", "/api/v1/hosts?limit=0", fx.token[PW_ROLE_ADMIN], NULL);
	expect_error(&r, 400, "limit=0");
	reply_release(&r);
	r = call("GET", "/api/v1/me", "Basic Zm9vOmJhcg==", NULL);
	expect_error(&r, 401, "a non-patchwarden token");
	reply_release(&r);
	r = call("GET", "/api/v1/me", fx.token[PW_ROLE_AUDITOR], NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(cJSON_GetObjectItem(r.json, "role")->valuestring, "auditor");
	reply_release(&r);
}

static void test_limits(void **state)
{
	(void)state;
	const char *agent = fx.agent.credential;
	/* Over the route's limit, announced by Content-Length. */
	size_t big = 17 * 1024;
	char *blob = malloc(big + 1);
	assert_non_null(blob);
	memset(blob, ' ', big);
	blob[big] = '\0';
	struct reply r = http("POST", "/api/v1/agents/enroll", NULL, blob, big, NULL);
	expect_error(&r, 413, "a 17 KiB enrollment");
	reply_release(&r);
	/* The same, streamed in chunks without Content-Length. */
	r = http("POST", "/api/v1/agents/enroll", NULL, blob, big, "Transfer-Encoding: chunked");
	expect_error(&r, 413, "a chunked 17 KiB enrollment");
	reply_release(&r);
	/* A body where none is taken. */
	r = http("GET", "/api/v1/health", NULL, "{}", 2, NULL);
	expect_error(&r, 413, "a body on GET /health");
	reply_release(&r);
	free(blob);

	/* Nesting deeper than json_max_depth (32). */
	pw_buf deep = PW_BUF_INIT;
	pw_buf_puts(&deep, "{\"inventory_hash\":");
	for (int i = 0; i < 40; i++)
		pw_buf_putc(&deep, '[');
	for (int i = 0; i < 40; i++)
		pw_buf_putc(&deep, ']');
	pw_buf_putc(&deep, '}');
	r = call("POST", "/api/v1/agents/checkin", agent, deep.data);
	expect_error(&r, 400, "JSON 41 levels deep");
	assert_non_null(strstr(pw_buf_str(&r.body), "nested deeper than 32"));
	reply_release(&r);
	pw_buf_release(&deep);

	/* A string longer than json_max_string (65536). */
	pw_buf s = PW_BUF_INIT;
	pw_buf_puts(&s, "{\"label\":\"");
	for (int i = 0; i < 70000; i++)
		pw_buf_putc(&s, 'x');
	pw_buf_puts(&s, "\"}");
	r = call("POST", "/api/v1/agents/checkin", agent, s.data);
	expect_error(&r, 400, "a 70000-byte string");
	reply_release(&r);
	pw_buf_release(&s);

	/* Malformed JSON: the message has line and column. */
	r = call("POST", "/api/v1/agents/checkin", agent, "{\n \"inventory_hash\": tru }");
	expect_error(&r, 400, "bad JSON");
	assert_non_null(strstr(pw_buf_str(&r.body), "line 2, column"));
	reply_release(&r);
	r = call("POST", "/api/v1/agents/checkin", agent, "{} {}");
	expect_error(&r, 400, "two JSON values");
	reply_release(&r);
	r = call("POST", "/api/v1/agents/checkin", agent, "[]");
	expect_error(&r, 400, "an array body");
	reply_release(&r);
	r = call("POST", "/api/v1/agents/checkin", agent, "{\"inventory_hash\":\"a\\u0000b\"}");
	expect_error(&r, 400, "a NUL escape");
	reply_release(&r);
	r = call("POST", "/api/v1/agents/checkin", agent, "{\"inventory_hash\":\"\xff\"}");
	expect_error(&r, 400, "invalid UTF-8");
	reply_release(&r);
	r = call("POST", "/api/v1/agents/checkin", agent, "{\"inventory_hash\":\"zz\"}");
	expect_error(&r, 400, "a malformed hash");
	reply_release(&r);
	r = call("POST", "/api/v1/agents/checkin", agent,
		 "{\"inventory_hash\":\""
		 "0000000000000000000000000000000000000000000000000000000000000000"
		 "\",\"results\":[{\"job_id\":1.5,\"seq\":1,\"status\":\"ok\"}]}");
	expect_error(&r, 400, "a fractional job_id");
	reply_release(&r);
	r = call("POST", "/api/v1/hosts/1/jobs", fx.token[PW_ROLE_OPERATOR],
		 "{\"kind\":\"reboot-all\"}");
	expect_error(&r, 400, "an unknown job kind");
	reply_release(&r);
}

/* ---- the check-in flow ---------------------------------------------------- */

static void test_checkin_flow(void **state)
{
	(void)state;
	char body[1024];
	snprintf(body, sizeof body,
		 "{\"token\":\"%s\",\"hostname\":\"flow-1\",\"machine_id\":\"flow-machine\"}",
		 fx.enroll_token);
	struct reply r = call("POST", "/api/v1/agents/enroll", NULL, body);
	assert_int_equal(r.status, 201);
	char cred[PW_CREDENTIAL_MAX];
	snprintf(cred, sizeof cred, "%s", cJSON_GetObjectItem(r.json, "credential")->valuestring);
	int64_t host = json_int(r.json, "host_id");
	reply_release(&r);

	/* An unknown inventory hash: the server asks for the inventory. */
	const char *hash = "1111111111111111111111111111111111111111111111111111111111111111";
	snprintf(body, sizeof body, "{\"inventory_hash\":\"%s\"}", hash);
	r = call("POST", "/api/v1/agents/checkin", cred, body);
	assert_int_equal(r.status, 200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "need_inventory")));
	assert_int_equal(json_int(r.json, "checkin_interval"), 900);
	reply_release(&r);

	/* An operator queues a job; one check-in gets it, the next does not. */
	char path[64];
	snprintf(path, sizeof path, "/api/v1/hosts/%" PRId64 "/jobs", host);
	r = call("POST", path, fx.token[PW_ROLE_OPERATOR], "{\"kind\":\"inventory\"}");
	assert_int_equal(r.status, 201);
	int64_t job = json_int(r.json, "job_id");
	reply_release(&r);
	r = call("POST", "/api/v1/agents/checkin", cred, body);
	const cJSON *jobs = cJSON_GetObjectItem(r.json, "jobs");
	assert_int_equal(cJSON_GetArraySize(jobs), 1);
	assert_int_equal(json_int(cJSON_GetArrayItem(jobs, 0), "job_id"), job);
	reply_release(&r);
	r = call("POST", "/api/v1/agents/checkin", cred, body);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "jobs")), 0);
	reply_release(&r);

	/* The result is acknowledged; sent again, acknowledged again and
	 * audited as a resend. */
	snprintf(
		body, sizeof body,
		"{\"inventory_hash\":\"%s\",\"results\":[{\"job_id\":%" PRId64
		",\"seq\":1,\"status\":\"failed\",\"exit_code\":3,\"output\":{\"why\":\"test\"}}]}",
		hash, job);
	for (int round = 0; round < 2; round++) {
		r = call("POST", "/api/v1/agents/checkin", cred, body);
		assert_int_equal(r.status, 200);
		const cJSON *ack = cJSON_GetObjectItem(r.json, "ack");
		assert_int_equal(cJSON_GetArraySize(ack), 1);
		assert_int_equal(cJSON_GetArrayItem(ack, 0)->valueint, 1);
		reply_release(&r);
		pw_audit_list l = PW_AUDIT_LIST_INIT;
		pw_error e = PW_ERROR_INIT;
		check(pw_audit_read(fx.db, audit_head() - 1, 1, &l, &e), &e);
		assert_string_equal(l.v[0].action, "agent.checkin");
		assert_true((strstr(l.v[0].after_json, "\"resent\":true") != NULL) == (round == 1));
		pw_audit_list_release(&l);
	}
	r = call("GET", path, fx.token[PW_ROLE_HELPDESK], NULL);
	const cJSON *j0 = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "jobs"), 0);
	assert_string_equal(cJSON_GetObjectItem(j0, "state")->valuestring, "failed");
	assert_int_equal(json_int(cJSON_GetObjectItem(j0, "result"), "exit_code"), 3);
	reply_release(&r);
	/* GET /jobs/{id}: the same job with its host and the output sent. */
	char jpath[64];
	snprintf(jpath, sizeof jpath, "/api/v1/jobs/%" PRId64, job);
	r = call("GET", jpath, fx.token[PW_ROLE_HELPDESK], NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_int(r.json, "job_id"), job);
	assert_int_equal(json_int(r.json, "host_id"), host);
	const cJSON *out = cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "result"), "output");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(out, "why")), "test");
	reply_release(&r);
	snprintf(jpath, sizeof jpath, "/api/v1/jobs/%" PRId64, job + 1000);
	r = call("GET", jpath, fx.token[PW_ROLE_HELPDESK], NULL);
	expect_error(&r, 404, "no such job");
	reply_release(&r);

	/* The credential of another agent cannot speak for this one. */
	snprintf(body, sizeof body, "{\"agent_id\":\"%s\",\"inventory_hash\":\"%s\"}",
		 fx.agent.agent_id, hash);
	r = call("POST", "/api/v1/agents/checkin", cred, body);
	expect_error(&r, 403, "agent_id of another agent");
	reply_release(&r);

	/* Re-enrolling the machine with its credential revokes the old one. */
	snprintf(body, sizeof body,
		 "{\"token\":\"%s\",\"hostname\":\"flow-1\",\"machine_id\":\"flow-machine\","
		 "\"credential\":\"%s\"}",
		 fx.enroll_token, cred);
	r = call("POST", "/api/v1/agents/enroll", NULL, body);
	assert_int_equal(r.status, 201);
	assert_int_equal(json_int(r.json, "host_id"), host);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "rekeyed")));
	reply_release(&r);
	snprintf(body, sizeof body, "{\"inventory_hash\":\"%s\"}", hash);
	r = call("POST", "/api/v1/agents/checkin", cred, body);
	expect_error(&r, 401, "a revoked credential");
	reply_release(&r);

	/* Paging: one host per page, then next_after null at the end. */
	int64_t after = 0, seen = 0;
	for (;;) {
		snprintf(path, sizeof path, "/api/v1/hosts?limit=1&after=%" PRId64, after);
		r = call("GET", path, fx.token[PW_ROLE_MANAGER], NULL);
		assert_int_equal(r.status, 200);
		seen += cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "hosts"));
		const cJSON *next = cJSON_GetObjectItem(r.json, "next_after");
		bool end = cJSON_IsNull(next);
		after = end ? 0 : (int64_t)next->valuedouble;
		reply_release(&r);
		if (end)
			break;
	}
	assert_true(seen >= 2);
}

/* ---- host records: PATCH, CSV in and out, filters ------------------------ */

static void expect_400_naming(const char *path, const char *body, const char *needle)
{
	struct reply r = call("PATCH", path, fx.token[PW_ROLE_OPERATOR], body);
	expect_error(&r, 400, body);
	if (!strstr(pw_buf_str(&r.body), needle))
		fail_msg("PATCH %s: the message lacks '%s': %s", body, needle, pw_buf_str(&r.body));
	reply_release(&r);
}

/* Issue 10: a rename onto a taken name is a 409; CSV cells that would run
 * as formulas go out quoted; a re-key without the live agent's credential
 * waits, shown by GET /hosts/{id}, until POST /hosts/{id}/rekey. */
static void test_host_identity(void **state)
{
	(void)state;
	char body[512], path[64];
	snprintf(body, sizeof body,
		 "{\"token\":\"%s\",\"hostname\":\"ident-1\",\"machine_id\":\"ident-m1\"}",
		 fx.enroll_token);
	struct reply r = call("POST", "/api/v1/agents/enroll", NULL, body);
	assert_int_equal(r.status, 201);
	int64_t host = json_int(r.json, "host_id");
	reply_release(&r);
	snprintf(body, sizeof body,
		 "{\"token\":\"%s\",\"hostname\":\"Ident_2\",\"machine_id\":\"ident-m2\"}",
		 fx.enroll_token);
	r = call("POST", "/api/v1/agents/enroll", NULL, body);
	expect_error(&r, 400, "an enrollment under a hostname that is not RFC 1123");
	reply_release(&r);
	snprintf(path, sizeof path, "/api/v1/hosts/%" PRId64, host);
	snprintf(body, sizeof body, "{\"hostname\":\"AGENT-HOST\"}");
	r = call("PATCH", path, fx.token[PW_ROLE_OPERATOR], body);
	expect_error(&r, 409, "a rename onto another host's name");
	reply_release(&r);
	r = call("PATCH", path, fx.token[PW_ROLE_OPERATOR], "{\"location\":\"=1+2\"}");
	assert_int_equal(r.status, 200);
	reply_release(&r);
	r = call("GET", "/api/v1/hosts/export-csv", fx.token[PW_ROLE_OPERATOR], NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(pw_buf_str(&r.body), "\r\nident-1,\"'=1+2\","));
	reply_release(&r);

	snprintf(body, sizeof body,
		 "{\"token\":\"%s\",\"hostname\":\"ident-1\",\"machine_id\":\"ident-m1\"}",
		 fx.enroll_token);
	r = call("POST", "/api/v1/agents/enroll", NULL, body);
	assert_int_equal(r.status, 201);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "pending")));
	char waiting[PW_AGENT_ID_MAX];
	snprintf(waiting, sizeof waiting, "%s",
		 cJSON_GetObjectItem(r.json, "agent_id")->valuestring);
	reply_release(&r);
	r = call("GET", path, fx.token[PW_ROLE_HELPDESK], NULL);
	const cJSON *p = cJSON_GetObjectItem(r.json, "pending_rekey");
	assert_string_equal(cJSON_GetObjectItem(p, "agent_id")->valuestring, waiting);
	reply_release(&r);
	char rk[80];
	snprintf(rk, sizeof rk, "%s/rekey", path);
	r = call("POST", rk, fx.token[PW_ROLE_OPERATOR], "{\"approve\":true}");
	assert_int_equal(r.status, 200);
	reply_release(&r);
	r = call("GET", path, fx.token[PW_ROLE_HELPDESK], NULL);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r.json, "pending_rekey")));
	assert_string_equal(cJSON_GetObjectItem(r.json, "agent_id")->valuestring, waiting);
	reply_release(&r);
	r = call("POST", rk, fx.token[PW_ROLE_OPERATOR], "{\"approve\":true}");
	expect_error(&r, 404, "a decision with no re-key waiting");
	reply_release(&r);
	r = call("POST", rk, fx.token[PW_ROLE_OPERATOR], "{\"approve\":\"yes\"}");
	expect_error(&r, 400, "approve that is not a boolean");
	reply_release(&r);
}

static void test_host_edit(void **state)
{
	(void)state;
	char path[64];
	snprintf(path, sizeof path, "/api/v1/hosts/%" PRId64, fx.agent.host_id);
	int64_t before = audit_head();
	struct reply r =
		call("PATCH", path, fx.token[PW_ROLE_OPERATOR],
		     "{\"category\":\"Web\",\"criticality\":\"5\",\"exposure\":\"internet\","
		     "\"maintenance_window\":\"sun 01:00-04:00\",\"last_patched\":"
		     "\"2024-04-07\",\"location\":null}");
	assert_int_equal(r.status, 200);
	/* The reply is the host as GET shows it, in stored forms. */
	assert_string_equal(cJSON_GetObjectItem(r.json, "category")->valuestring, "web");
	assert_int_equal(json_int(r.json, "criticality"), 5);
	assert_string_equal(cJSON_GetObjectItem(r.json, "maintenance_window")->valuestring,
			    "Sun 01:00-04:00");
	assert_string_equal(cJSON_GetObjectItem(r.json, "machine_id")->valuestring, "machine-0");
	reply_release(&r);
	assert_int_equal(audit_head(), before + 1);
	pw_audit_list l = PW_AUDIT_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	check(pw_audit_read(fx.db, before, 1, &l, &e), &e);
	assert_string_equal(l.v[0].action, "host.set");
	assert_string_equal(l.v[0].actor, "user:t-operator");
	assert_non_null(strstr(l.v[0].after_json, "\"category\":\"web\""));
	assert_non_null(l.v[0].before_json);
	pw_audit_list_release(&l);

	/* The same again changes nothing and writes no event. */
	r = call("PATCH", path, fx.token[PW_ROLE_ADMIN], "{\"criticality\":5}");
	assert_int_equal(r.status, 200);
	reply_release(&r);
	assert_int_equal(audit_head(), before + 1);

	/* Refusals name the field; nothing of a refused body is applied. */
	expect_400_naming(path, "{\"ticket\":\"T-1\",\"colour\":\"red\"}",
			  "colour is not a host field");
	expect_400_naming(path, "{\"Category\":\"web\"}", "Category is not a host field");
	expect_400_naming(path, "{\"kernel\":\"6.1\"}", "reported by the host's agent");
	expect_400_naming(path, "{\"criticality\":9}", "criticality must be a whole number");
	expect_400_naming(path, "{\"criticality\":\"9\"}", "criticality");
	expect_400_naming(path, "{\"ticket\":\"T-1\",\"category\":\"kitchen\"}", "category");
	expect_400_naming(path, "{\"ticket\":[1]}", "ticket must be a string");
	expect_400_naming(path, "{\"maintenance_window\":\"whenever\"}", "maintenance_window");
	expect_400_naming(path, "{\"hostname\":\"bad host\"}", "hostname");
	expect_400_naming(path, "{}", "no field");
	expect_400_naming(path, "[]", "JSON object");
	assert_int_equal(audit_head(), before + 1);
	r = call("GET", path, fx.token[PW_ROLE_AUDITOR], NULL);
	assert_string_not_equal(cJSON_GetObjectItem(r.json, "ticket")->valuestring, "T-1");
	reply_release(&r);
	r = call("PATCH", "/api/v1/hosts/999999", fx.token[PW_ROLE_OPERATOR], "{\"ticket\":\"x\"}");
	expect_error(&r, 404, "PATCH of a host that does not exist");
	reply_release(&r);

	/* Fixed paths beside {id}: each takes its own methods only. */
	r = call("PATCH", "/api/v1/hosts/export-csv", fx.token[PW_ROLE_ADMIN],
		 "{\"ticket\":\"x\"}");
	expect_error(&r, 405, "PATCH on export-csv");
	reply_release(&r);
	r = call("GET", "/api/v1/hosts/import-csv", fx.token[PW_ROLE_ADMIN], NULL);
	expect_error(&r, 405, "GET on import-csv");
	reply_release(&r);
	r = call("PUT", path, fx.token[PW_ROLE_ADMIN], "{}");
	expect_error(&r, 405, "PUT on a host");
	reply_release(&r);
	/* Issue 11: a host in service is not deleted. */
	r = call("DELETE", path, fx.token[PW_ROLE_ADMIN], NULL);
	expect_error(&r, 409, "DELETE of a host in service");
	assert_non_null(strstr(pw_buf_str(&r.body), "decommission it first"));
	reply_release(&r);
}

static void import(const char *csv, long status, struct reply *r)
{
	*r = http("POST", "/api/v1/hosts/import-csv", fx.token[PW_ROLE_OPERATOR], csv, strlen(csv),
		  "Content-Type: text/csv");
	if (r->status != status)
		fail_msg("import: status %ld, expected %ld: %s", r->status, status,
			 pw_buf_str(&r->body));
}

static void test_host_csv(void **state)
{
	(void)state;
	const char *csv = "hostname,category,criticality,owner_group,purpose\r\n"
			  "rt-db-1,database,5,dba,\"orders, invoices\"\r\n"
			  "rt-db-2,database,2,dba,\"say \"\"hi\"\"\"\r\n"
			  "rt-web-1,web,3,web,front\r\n";
	struct reply r;
	import(csv, 200, &r);
	assert_int_equal(json_int(r.json, "rows"), 3);
	assert_int_equal(json_int(r.json, "created"), 3);
	reply_release(&r);

	/* Export with filters, as CSV, and back: nothing changes. */
	r = call("GET", "/api/v1/hosts/export-csv?category=database&owner=dba&criticality=3",
		 fx.token[PW_ROLE_HELPDESK], NULL);
	assert_int_equal(r.status, 200);
	assert_null(r.json);
	const char *out = pw_buf_str(&r.body);
	assert_true(!strncmp(out, "hostname,location,purpose,category,", 35));
	assert_non_null(strstr(out, "\r\nrt-db-1,,\"orders, invoices\",database,dba,,5,"));
	assert_null(strstr(out, "rt-db-2"));
	assert_null(strstr(out, "rt-web-1"));
	struct reply back;
	import(out, 200, &back);
	assert_int_equal(json_int(back.json, "rows"), 1);
	assert_int_equal(json_int(back.json, "unchanged"), 1);
	reply_release(&back);
	reply_release(&r);

	/* The same filters list hosts as JSON. */
	r = call("GET", "/api/v1/hosts?category=database&limit=1000", fx.token[PW_ROLE_MANAGER],
		 NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "hosts")), 2);
	reply_release(&r);
	const char *bad_filters[] = {"/api/v1/hosts?category=kitchen",
				     "/api/v1/hosts/export-csv?criticality=9",
				     "/api/v1/hosts/export-csv?overdue=yes",
				     "/api/v1/hosts/export-csv?exposure=", "/api/v1/hosts?stale=0"};
	for (size_t i = 0; i < sizeof bad_filters / sizeof *bad_filters; i++) {
		r = call("GET", bad_filters[i], fx.token[PW_ROLE_ADMIN], NULL);
		expect_error(&r, 400, bad_filters[i]);
		reply_release(&r);
	}

	/* A bad row names its line and nothing is imported. */
	int64_t before = audit_head();
	import("hostname,criticality\r\nrt-new-1,3\r\nrt-new-2,7\r\nrt-new-3,x\r\n", 400, &r);
	expect_error(&r, 400, "a bad criticality on line 3");
	assert_non_null(strstr(pw_buf_str(&r.body), "csv:3:10: criticality"));
	assert_non_null(strstr(pw_buf_str(&r.body), "; 1 more bad row, on line 4;"));
	assert_non_null(strstr(pw_buf_str(&r.body), "nothing was imported"));
	reply_release(&r);
	import("hostname,colour\nx,red\n", 400, &r);
	assert_non_null(strstr(pw_buf_str(&r.body), "csv:1:10: column 'colour'"));
	reply_release(&r);
	import("", 400, &r);
	reply_release(&r);
	assert_int_equal(audit_head(), before);
	r = call("GET", "/api/v1/reports/compliance/csv?as_of=2026-12-07",
		 fx.token[PW_ROLE_AUDITOR], NULL);
	assert_int_equal(r.status, 200);
	assert_true(!strncmp(pw_buf_str(&r.body), "host,owner_group,category,last_patched,", 39));
	reply_release(&r);
	r = call("GET", "/api/v1/reports/compliance?as_of=2026-13-01", fx.token[PW_ROLE_AUDITOR],
		 NULL);
	expect_error(&r, 400, "an as_of with month 13");
	assert_non_null(strstr(pw_buf_str(&r.body), "month 13 at position 6"));
	reply_release(&r);
	r = call("GET", "/api/v1/hosts/export-csv", fx.token[PW_ROLE_AUDITOR], NULL);
	assert_null(strstr(pw_buf_str(&r.body), "rt-new-1"));
	reply_release(&r);
}

static void test_audit_verify(void **state)
{
	(void)state;
	struct reply r = call("GET", "/api/v1/audit/verify", fx.token[PW_ROLE_AUDITOR], NULL);
	assert_int_equal(r.status, 200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "intact")));
	assert_int_equal(json_int(r.json, "events"), audit_head());
	reply_release(&r);
}

/* What the web console's pages need of the API: a campaign's dry run
 * stores nothing, a host's tickets, a user's role, the token list. */
static void test_console_routes(void **state)
{
	(void)state;
	const char *op = fx.token[PW_ROLE_OPERATOR], *admin = fx.token[PW_ROLE_ADMIN];
	campaign_host("dr", 9001, "production");
	int64_t before = audit_head();
	struct reply r = call("POST", "/api/v1/campaigns", op,
			      "{\"name\":\"dry\",\"hosts\":\"owner=g-9001\",\"dry_run\":true}");
	assert_int_equal(r.status, 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "hosts")), 1);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "hosts"), 0),
				    "hostname")
			->valuestring,
		"dr-9001");
	assert_int_equal(audit_head(), before);
	reply_release(&r);
	r = call("POST", "/api/v1/campaigns", op,
		 "{\"name\":\"dry\",\"hosts\":\"owner=g-9001\",\"dry_run\":1}");
	expect_error(&r, 400, "dry_run 1");
	reply_release(&r);
	/* The same selection for real: the host's one ticket. */
	r = call("POST", "/api/v1/campaigns", op, "{\"name\":\"real\",\"hosts\":\"owner=g-9001\"}");
	assert_int_equal(r.status, 201);
	int64_t host = json_int(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "host_list"), 0),
				"host_id");
	reply_release(&r);
	char path[128];
	snprintf(path, sizeof path, "/api/v1/tickets?host=%" PRId64, host);
	r = call("GET", path, fx.token[PW_ROLE_HELPDESK], NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "tickets")), 1);
	assert_int_equal(json_int(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "tickets"), 0),
				  "host_id"),
			 host);
	reply_release(&r);
	r = call("GET", "/api/v1/tickets?host=1&campaign=1", admin, NULL);
	expect_error(&r, 400, "host and campaign");
	reply_release(&r);
	/* A role, by id. */
	int64_t u = new_user(9001, false);
	snprintf(path, sizeof path, "/api/v1/users/%" PRId64 "/role", u);
	r = call("POST", path, admin, "{\"role\":\"auditor\"}");
	assert_int_equal(r.status, 200);
	assert_string_equal(cJSON_GetObjectItem(r.json, "role")->valuestring, "auditor");
	reply_release(&r);
	r = call("POST", path, admin, "{\"role\":\"king\"}");
	expect_error(&r, 400, "role king");
	reply_release(&r);
	r = call("POST", "/api/v1/users/999999/role", admin, "{\"role\":\"auditor\"}");
	expect_error(&r, 404, "no such user");
	reply_release(&r);
	/* Tokens: a user's, never a secret. */
	r = call("GET", "/api/v1/tokens?user=t-auditor", fx.token[PW_ROLE_AUDITOR], NULL);
	assert_int_equal(r.status, 200);
	const cJSON *t;
	int n = 0;
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(r.json, "tokens")) {
		assert_string_equal(cJSON_GetObjectItem(t, "user")->valuestring, "t-auditor");
		n++;
	}
	assert_true(n >= 1);
	assert_null(strstr(pw_buf_str(&r.body), "pwt_"));
	reply_release(&r);
}

/* ---- the documents generated from the tables ----------------------------- */

static void read_source(const char *rel, pw_buf *out)
{
	const char *src = getenv("PW_SOURCE_DIR");
	if (!src)
		fail_msg("PW_SOURCE_DIR is not set; run through ctest");
	char path[512];
	snprintf(path, sizeof path, "%s/%s", src, rel);
	pw_error e = PW_ERROR_INIT;
	check(pw_read_file(path, out, 0, &e), &e);
}

static void test_api_md_up_to_date(void **state)
{
	(void)state;
	pw_buf want = PW_BUF_INIT, have = PW_BUF_INIT;
	assert_int_equal(pw_routes_markdown(&want), PW_OK);
	read_source("docs/api.md", &have);
	if (want.len != have.len || memcmp(want.data, have.data, want.len) != 0)
		fail_msg("docs/api.md is not what the route table generates; run "
			 "'patchwarden server --routes-md > docs/api.md'");
	pw_buf_release(&want);
	pw_buf_release(&have);
}

static void test_examples_are_json(void **state)
{
	(void)state;
	size_t n;
	const pw_route *rt = pw_routes(&n);
	for (size_t i = 0; i < n; i++) {
		const char *ex[] = {rt[i].request_example, rt[i].response_example};
		bool csv[] = {rt[i].format == PW_FORMAT_CSV_BODY,
			      PW_FORMAT_TEXT_REPLY(rt[i].format)};
		for (int k = 0; k < 2; k++) {
			if (csv[k]) {
				assert_true(ex[k] && ex[k][strlen(ex[k]) - 1] == '\n');
				continue;
			}
			cJSON *v = ex[k] ? cJSON_Parse(ex[k]) : NULL;
			if (ex[k] && !v)
				fail_msg("%s %s: example %d is not JSON", rt[i].method, rt[i].path,
					 k);
			cJSON_Delete(v);
		}
		assert_true((rt[i].body_max > 0) == (rt[i].request_example != NULL));
		assert_non_null(rt[i].response_example);
		assert_true(rt[i].access == PW_ACCESS_USER || rt[i].roles == 0);
		assert_true(rt[i].access != PW_ACCESS_USER || rt[i].roles != 0);
		/* Every POST and DELETE changes state, so it must name its event. */
		assert_true((strcmp(rt[i].method, "GET") != 0) == (rt[i].audit != NULL));
	}
}

/* Every [server] key is in the example configuration with its default. */
static void test_example_config(void **state)
{
	(void)state;
	pw_buf conf = PW_BUF_INIT;
	read_source("dist/patchwarden.conf", &conf);
	size_t n;
	const pw_server_key *k = pw_server_keys(&n);
	for (size_t i = 0; i < n; i++) {
		char set[256], commented[260];
		snprintf(set, sizeof set, "%s =%s%s\n", k[i].name, k[i].def[0] ? " " : "",
			 k[i].def);
		snprintf(commented, sizeof commented, "\n#%s", set);
		memmove(set + 1, set, strlen(set) + 1);
		set[0] = '\n';
		if (!strstr(conf.data, commented) && !strstr(conf.data, set))
			fail_msg("dist/patchwarden.conf lacks '%s = %s' (the default)", k[i].name,
				 k[i].def);
	}
	pw_buf_release(&conf);
}

/* ---- configuration -------------------------------------------------------- */

static pw_err load_text(const char *text, pw_server_config *sc, pw_error *e)
{
	char path[] = "/tmp/pw-conf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pw_write_file_atomic(path, text, strlen(text), 0600, NULL), PW_OK);
	pw_config *c = NULL;
	pw_err rc = pw_config_load(path, true, &c, e);
	if (!rc)
		rc = pw_server_config_load(c, sc, e);
	if (!rc) {
		sc->db_url = "sqlite:/nonexistent/never-opened.db";
		rc = pw_server_config_check(sc, e);
	}
	pw_config_free(c);
	unlink(path);
	return rc;
}

static void expect_refused(const char *text, const char *needle)
{
	pw_server_config sc;
	pw_error e = PW_ERROR_INIT;
	if (!load_text(text, &sc, &e))
		fail_msg("accepted: %s", text);
	if (!strstr(e.msg, needle))
		fail_msg("for %s: message '%s' lacks '%s'", text, e.msg, needle);
}

static void test_config_rules(void **state)
{
	(void)state;
	pw_server_config sc;
	pw_error e = PW_ERROR_INIT;
	check(load_text("[server]\nallow_plain_http = yes\nlisten = 127.0.0.1:8080\n", &sc, &e),
	      &e);
	check(load_text("[server]\nallow_plain_http = yes\nlisten = [::1]:8080\n", &sc, &e), &e);
	check(load_text("[server]\nallow_plain_http = yes\nlisten = 127.3.4.5:1\n", &sc, &e), &e);
	assert_int_equal(sc.connection_timeout, 30);
	assert_int_equal(sc.api.json.max_depth, 32);
	/* No certificate: plain HTTP needs both the key and loopback. */
	expect_refused("[server]\nlisten = 127.0.0.1:8080\n", "allow_plain_http");
	expect_refused("[server]\nallow_plain_http = true\nlisten = 0.0.0.0:8080\n", "loopback");
	expect_refused("[server]\nallow_plain_http = true\nlisten = 192.168.1.5:80\n", "loopback");
	expect_refused("[server]\nallow_plain_http = true\nlisten = [::]:8080\n", "loopback");
	expect_refused("[server]\nallow_plain_http = true\nlisten = [::ffff:10.0.0.1]:80\n",
		       "loopback");
	/* TLS files must exist and be PEM; both or neither. */
	expect_refused("[server]\ntls_cert = /nonexistent/cert.pem\ntls_key = /nonexistent/k\n",
		       "/nonexistent/cert.pem");
	expect_refused("[server]\ntls_cert = /etc/hostname\ntls_key = /etc/hostname\n", "PEM");
	expect_refused("[server]\ntls_cert = /etc/hostname\n", "both");
	/* Addresses are numeric ADDR:PORT. */
	expect_refused("[server]\nallow_plain_http = 1\nlisten = localhost:80\n", "ADDR:PORT");
	expect_refused("[server]\nallow_plain_http = 1\nlisten = 127.0.0.1:70000\n", "ADDR:PORT");
	expect_refused("[server]\nallow_plain_http = 1\nlisten = 127.0.0.1\n", "ADDR:PORT");
	/* Unknown keys, wrong types and ranges name the place. */
	expect_refused("[server]\ntls_certificate = x\n",
		       ":2: [server] has no key 'tls_certificate'");
	expect_refused("[server]\nthreads = many\n", ":2: [server] threads = 'many'");
	expect_refused("[server]\njson_max_depth = 5000\n",
		       "json_max_depth = 5000 is out of range");
	expect_refused("[server]\nallow_plain_http = perhaps\n", "true or false");
	/* A session cannot end for good before it could go idle. */
	expect_refused("[server]\nsession_idle = 3600\nsession_lifetime = 600\n",
		       "session_lifetime = 600 is below session_idle = 3600");
	expect_refused("[server]\nlogin_failures = 0\n", "login_failures = 0 is out of range");
	check(load_text("[server]\nallow_plain_http = 1\nlisten = 127.0.0.1:1\n"
			"session_idle = 600\nlogin_lockout = 60\n",
			&sc, &e),
	      &e);
	assert_int_equal(sc.api.session.idle, 600);
	assert_int_equal(sc.api.session.absolute, 43200);
	assert_int_equal(sc.api.session.failures, 5);
	assert_int_equal(sc.api.session.lockout, 60);
	/* Links start with public_url: a plain http(s) address, nothing that
	 * could end the link or add to it. */
	check(load_text("[server]\nallow_plain_http = 1\nlisten = 127.0.0.1:1\n"
			"public_url = https://patch.example.org/\n",
			&sc, &e),
	      &e);
	expect_refused("[server]\npublic_url = patch.example.org\n", "public_url");
	expect_refused("[server]\npublic_url = https://x.org/?next=//evil\n", "public_url");
	expect_refused("[server]\npublic_url = javascript:alert(1)\n", "public_url");
	/* Other sections are other commands' business. */
	check(load_text("[agent]\nwhatever = 1\n[server]\nallow_plain_http = on\n"
			"listen = 127.0.0.1:1\n",
			&sc, &e),
	      &e);
	assert_true(pw_server_listen_is_loopback("[::1]:1"));
	assert_false(pw_server_listen_is_loopback("10.0.0.1:1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_routing),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_checkin_flow),
		cmocka_unit_test(test_host_edit),
		cmocka_unit_test(test_host_csv),
		cmocka_unit_test(test_host_identity),
		cmocka_unit_test(test_audit_verify),
		cmocka_unit_test(test_console_routes),
		cmocka_unit_test(test_api_md_up_to_date),
		cmocka_unit_test(test_examples_are_json),
		cmocka_unit_test(test_example_config),
		cmocka_unit_test(test_config_rules),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
