/* The web console's pieces that need no browser: HTML escaping of
 * hostile text, form and cookie parsing, and the session rules (login,
 * CSRF, logout, idle and absolute expiry, lockout, the audit trail) on
 * both database backends. Expected texts are written out by hand. */
#include "servertest.h"

#include "patchwarden/clock.h"
#include "patchwarden/session.h"
#include "patchwarden/users.h"
#include "patchwarden/web.h"

#include "../../src/lib/server/server-internal.h"

static void expect_escaped(const char *in, const char *want)
{
	pw_buf b = PW_BUF_INIT;
	assert_int_equal(pw_html_escape(&b, in), PW_OK);
	assert_string_equal(b.len ? pw_buf_str(&b) : "", want);
	pw_buf_release(&b);
}

static void test_escape(void **state)
{
	(void)state;
	expect_escaped("<script>alert('x')</script>",
		       "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
	expect_escaped("\"><img src=x onerror=alert(1)>",
		       "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
	expect_escaped("' onmouseover='steal()", "&#39; onmouseover=&#39;steal()");
	expect_escaped("&amp; &lt;", "&amp;amp; &amp;lt;");
	expect_escaped("db-01 \xc3\xa9t\xc3\xa9", "db-01 \xc3\xa9t\xc3\xa9");
	expect_escaped("", "");
	expect_escaped(NULL, "");
	expect_escaped("<<>>", "&lt;&lt;&gt;&gt;");
}

/* The console's paths go to the console, the API's and the agents' to
 * the route table; the notification mails' links (/actions,
 * /campaigns/N) among the first. */
static void test_owns(void **state)
{
	(void)state;
	static const char *const console[] = {
		"/",
		"/login",
		"/logout",
		"/hosts",
		"/hosts/7",
		"/cves",
		"/campaigns",
		"/campaigns/7",
		"/campaigns/new",
		"/actions",
		"/tickets",
		"/tickets/31",
		"/audit",
		"/admin",
		"/admin/users",
		"/reports/compliance",
		"/reports/compliance.csv",
		"/static/x.css",
	};
	static const char *const api[] = {"/api/v1/tickets",
					  "/api/v1/audit",
					  "/metrics",
					  "/adminx",
					  "/ticketsx",
					  "/api/v1/hosts/7",
					  "/auditx",
					  "/reportsx",
					  "/api/v1/reports/compliance",
					  ""};
	for (size_t i = 0; i < sizeof console / sizeof *console; i++)
		if (!pw_web_owns(console[i]))
			fail_msg("%s is the console's", console[i]);
	for (size_t i = 0; i < sizeof api / sizeof *api; i++)
		if (pw_web_owns(api[i]))
			fail_msg("%s is not the console's", api[i]);
}

static void test_form(void **state)
{
	(void)state;
	pw_form f;
	pw_error e = PW_ERROR_INIT;
	const char body[] = "user=alice&password=a%20b+c%26d%3D&empty=&flag&&csrf=%3Cx%3e";
	assert_int_equal(pw_form_parse(body, sizeof body - 1, &f, &e), PW_OK);
	assert_int_equal(f.n, 5);
	assert_string_equal(pw_form_get(&f, "user"), "alice");
	assert_string_equal(pw_form_get(&f, "password"), "a b c&d=");
	assert_string_equal(pw_form_get(&f, "empty"), "");
	assert_string_equal(pw_form_get(&f, "flag"), "");
	assert_string_equal(pw_form_get(&f, "csrf"), "<x>");
	assert_null(pw_form_get(&f, "nothing"));
	pw_form_release(&f);
	static const char *const bad[] = {"a=%4", "a=%zz", "a=%00", "%=1", "a=b%"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(pw_form_parse(bad[i], strlen(bad[i]), &f, &e), PW_ERR_INVALID);
	pw_buf many = PW_BUF_INIT;
	for (int i = 0; i <= PW_FORM_MAX; i++)
		assert_int_equal(pw_buf_puts(&many, "a=1&"), PW_OK);
	assert_int_equal(pw_form_parse(many.data, many.len, &f, &e), PW_ERR_INVALID);
	pw_buf_release(&many);
	assert_int_equal(pw_form_parse("", 0, &f, &e), PW_OK);
	assert_int_equal(f.n, 0);
	pw_form_release(&f);
}

static void test_cookie(void **state)
{
	(void)state;
	char v[16];
	assert_true(pw_cookie_get("a=1; pw_session=pws_1.x; b=2", "pw_session", v, sizeof v));
	assert_string_equal(v, "pws_1.x");
	assert_true(pw_cookie_get("pw_session=z", "pw_session", v, sizeof v));
	assert_string_equal(v, "z");
	assert_false(pw_cookie_get("xpw_session=z", "pw_session", v, sizeof v));
	assert_false(pw_cookie_get("pw_sessionx=z", "pw_session", v, sizeof v));
	assert_false(pw_cookie_get("pw_session=0123456789abcdef", "pw_session", v, sizeof v));
	assert_false(pw_cookie_get("", "pw_session", v, sizeof v));
}

static int64_t at(struct srv *f, const char *text)
{
	int64_t t;
	CHECK(f, pw_ts_parse("test", text, &t, NULL, &f->e));
	return t;
}

/* The fleet chart's series cache: the same points until the ttl has
 * passed (a host added meanwhile is not counted), then computed again;
 * a clock set back recomputes too. Host a was patched on 2026-01-01 (in
 * the 90 days' policy on the 20th), b enrolled in 2025 and never patched. */
static void test_chart_cache(void **state)
{
	struct srv *f = *state;
	srv_exec(f, f->db,
		 "INSERT INTO hosts (hostname, created, last_patched)"
		 " VALUES ('a', '2026-01-01T00:00:00.000Z', '2026-01-01')");
	int64_t t0 = at(f, "2026-01-20T12:00:00Z");
	pw_web_charts *c = pw_web_charts_new(300);
	assert_non_null(c);
	pw_compliance_point p[PW_WEB_CHART_POINTS];
	const pw_compliance_point *last = &p[PW_WEB_CHART_POINTS - 1];
	CHECK(f, pw_web_charts_compliance(c, f->db, NULL, t0, p, &f->e));
	assert_int_equal(last->at, t0);
	assert_int_equal(last->hosts, 1);
	assert_int_equal(last->compliant, 1);
	/* A week earlier, the 13th: a was already patched. */
	assert_int_equal(p[PW_WEB_CHART_POINTS - 2].at, t0 - 7 * 86400);
	srv_exec(f, f->db,
		 "INSERT INTO hosts (hostname, created) VALUES ('b', '2025-01-01T00:00:00.000Z')");
	CHECK(f, pw_web_charts_compliance(c, f->db, NULL, t0 + 299, p, &f->e));
	assert_int_equal(last->at, t0);
	assert_int_equal(last->hosts, 1);
	CHECK(f, pw_web_charts_compliance(c, f->db, NULL, t0 + 300, p, &f->e));
	assert_int_equal(last->at, t0 + 300);
	assert_int_equal(last->hosts, 2);
	assert_int_equal(last->compliant, 1);
	assert_true(last->percent == 50);
	CHECK(f, pw_web_charts_compliance(c, f->db, NULL, t0 - 60, p, &f->e));
	assert_int_equal(last->at, t0 - 60);
	pw_web_charts_free(c);
	/* No cache: computed each time. */
	CHECK(f, pw_web_charts_compliance(NULL, f->db, NULL, t0 + 1, p, &f->e));
	assert_int_equal(last->at, t0 + 1);
	assert_int_equal(last->hosts, 2);
}

/* Three failures lock a name out here, not the default five. */
static const pw_session_limits lim = {600, 3600, 3, 900};

static void add_user(struct srv *f, const char *name, const char *password)
{
	CHECK(f, pw_user_add(f->db, "cli:test", name, PW_ROLE_MANAGER, password, NULL, &f->e));
}

static void test_session_login_and_csrf(void **state)
{
	struct srv *f = *state;
	add_user(f, "mia", "correct horse");
	char token[PW_SESSION_MAX];
	pw_session s, c;
	CHECK(f,
	      pw_session_login(f->db, "mia", "correct horse", "192.0.2.7", &lim, token, &s, &f->e));
	assert_int_equal(strncmp(token, "pws_", 4), 0);
	assert_int_equal(strlen(s.csrf), 64);
	CHECK(f, pw_session_check(f->db, token, &lim, &c, &f->e));
	assert_string_equal(c.user.name, "mia");
	assert_int_equal(c.user.role, PW_ROLE_MANAGER);
	assert_int_equal(c.id, s.id);
	assert_true(pw_session_csrf_ok(&c, s.csrf));
	char other[65];
	snprintf(other, sizeof other, "%s", s.csrf);
	other[0] = other[0] == 'a' ? 'b' : 'a';
	assert_false(pw_session_csrf_ok(&c, other));
	assert_false(pw_session_csrf_ok(&c, NULL));
	assert_false(pw_session_csrf_ok(&c, ""));
	other[10] = '\0';
	assert_false(pw_session_csrf_ok(&c, other));
	/* A second login is another session with another CSRF token. */
	char token2[PW_SESSION_MAX];
	pw_session s2;
	CHECK(f, pw_session_login(f->db, "mia", "correct horse", "192.0.2.7", &lim, token2, &s2,
				  &f->e));
	assert_false(pw_session_csrf_ok(&c, s2.csrf));
	/* Only the hash of the secret is stored. */
	char *row = srv_text(f, "SELECT csrf FROM sessions WHERE id = 1", NULL);
	assert_string_equal(row, s.csrf);
	free(row);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM sessions WHERE client = ?", "192.0.2.7"),
			 2);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM audit_events WHERE action = ?",
				 "session.create"),
			 2);
	/* A wrong secret with the right id. */
	char forged[PW_SESSION_MAX];
	snprintf(forged, sizeof forged, "%s", token);
	size_t n = strlen(forged);
	forged[n - 1] = forged[n - 1] == '0' ? '1' : '0';
	REFUSED(f, PW_ERR_AUTH, "not valid", pw_session_check(f->db, forged, &lim, &c, &f->e));
	REFUSED(f, PW_ERR_AUTH, "not a session",
		pw_session_check(f->db, "pwt_1.abc", &lim, &c, &f->e));
	/* Logout ends it, audited. */
	CHECK(f, pw_session_end(f->db, "user:mia", s.id, &f->e));
	REFUSED(f, PW_ERR_AUTH, "logged out", pw_session_check(f->db, token, &lim, &c, &f->e));
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM audit_events WHERE action = ?",
				 "session.revoke"),
			 1);
	CHECK(f, pw_session_check(f->db, token2, &lim, &c, &f->e));
}

static void test_session_expiry(void **state)
{
	struct srv *f = *state;
	add_user(f, "ivo", "correct horse");
	char token[PW_SESSION_MAX];
	pw_session s, c;
	CHECK(f, pw_session_login(f->db, "ivo", "correct horse", "::1", &lim, token, &s, &f->e));
	/* Idle: the last request 11 minutes ago, the limit 10. */
	srv_exec(f, f->db, "UPDATE sessions SET last_seen = '2000-01-01T00:00:00.000Z'");
	REFUSED(f, PW_ERR_AUTH, "without use", pw_session_check(f->db, token, &lim, &c, &f->e));
	/* Absolute: recent use, but past its end. */
	srv_exec(f, f->db,
		 "UPDATE sessions SET last_seen = '2999-01-01T00:00:00.000Z',"
		 " expires = '2000-01-01T00:00:00.000Z'");
	REFUSED(f, PW_ERR_AUTH, "expired", pw_session_check(f->db, token, &lim, &c, &f->e));
	/* A disabled user's sessions stop at once. */
	srv_exec(f, f->db, "UPDATE sessions SET expires = '2999-01-01T00:00:00.000Z'");
	CHECK(f, pw_session_check(f->db, token, &lim, &c, &f->e));
	CHECK(f, pw_user_set_disabled(f->db, "cli:test", "ivo", true, &f->e));
	REFUSED(f, PW_ERR_AUTH, "disabled", pw_session_check(f->db, token, &lim, &c, &f->e));
}

static void test_lockout(void **state)
{
	struct srv *f = *state;
	add_user(f, "ann", "correct horse");
	add_user(f, "bob", "battery staple");
	char token[PW_SESSION_MAX];
	pw_session s;
	for (int i = 0; i < lim.failures - 1; i++)
		REFUSED(f, PW_ERR_AUTH, "wrong",
			pw_session_login(f->db, "ann", "guess", "198.51.100.1", &lim, token, &s,
					 &f->e));
	/* A success clears the count. */
	CHECK(f, pw_session_login(f->db, "ann", "correct horse", "198.51.100.1", &lim, token, &s,
				  &f->e));
	assert_int_equal(srv_int(f, "SELECT failed_logins FROM users WHERE name = ?", "ann"), 0);
	for (int i = 0; i < lim.failures; i++)
		REFUSED(f, PW_ERR_AUTH, "wrong",
			pw_session_login(f->db, "ann", "guess", "198.51.100.1", &lim, token, &s,
					 &f->e));
	/* Locked: even the right password is refused, and no session made. */
	REFUSED(f, PW_ERR_AUTH, "too many failed logins",
		pw_session_login(f->db, "ann", "correct horse", "198.51.100.1", &lim, token, &s,
				 &f->e));
	assert_string_equal(token, "");
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM sessions WHERE user_id = 1", NULL), 1);
	/* Another user is not affected; an unknown name is audited too. */
	CHECK(f, pw_session_login(f->db, "bob", "battery staple", "198.51.100.1", &lim, token, &s,
				  &f->e));
	REFUSED(f, PW_ERR_AUTH, "wrong",
		pw_session_login(f->db, "nobody", "guess", "198.51.100.1", &lim, token, &s, &f->e));
	/* 2 + 3 wrong passwords, 1 locked out, 1 unknown name. */
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM audit_events WHERE action = ?",
				 "login.fail"),
			 7);
	assert_int_equal(srv_int(f,
				 "SELECT COUNT(*) FROM audit_events WHERE action = 'login.fail'"
				 " AND target = ?",
				 "user:?"),
			 1);
	/* The lockout ends. */
	srv_exec(f, f->db, "UPDATE users SET locked_until = '2000-01-01T00:00:00.000Z'");
	CHECK(f, pw_session_login(f->db, "ann", "correct horse", "198.51.100.1", &lim, token, &s,
				  &f->e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_escape),
		T(test_owns),
		T(test_form),
		T(test_cookie),
		T(test_session_login_and_csrf),
		T(test_session_expiry),
		T(test_lockout),
		T(test_chart_cache),
	};
	return srv_run("web", tests, sizeof tests / sizeof *tests);
}
