/* Notifications (notify.h, issue 14): the pure parts against values
 * worked out by hand or from RFC 4231, and the outbox on the store: rows
 * per address found, nothing sent without a configured channel, a failed
 * delivery kept with its error and its backoff. Delivery to a real MTA
 * and webhook receiver is tests/scripts/notify_mail.sh. */
#include <cjson/cJSON.h>

#include "servertest.h"

#include "patchwarden/clock.h"
#include "patchwarden/notify.h"
#include "patchwarden/sql.h"
#include "patchwarden/users.h"

#define T(fn) cmocka_unit_test_setup_teardown(fn, srv_setup, srv_teardown)

static void test_sign_rfc4231(void **state)
{
	(void)state;
	char sig[72];
	const char *data = "what do ya want for nothing?";
	/* RFC 4231, test case 2: key "Jefe". */
	pw_notify_sign("Jefe", data, strlen(data), sig);
	assert_string_equal(
		sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_backoff(void **state)
{
	(void)state;
	/* 30, 60, 120, ... capped at 3600; by hand. */
	assert_int_equal(pw_notify_backoff(1, 30, 3600), 30);
	assert_int_equal(pw_notify_backoff(2, 30, 3600), 60);
	assert_int_equal(pw_notify_backoff(5, 30, 3600), 480);
	assert_int_equal(pw_notify_backoff(8, 30, 3600), 3600);
	assert_int_equal(pw_notify_backoff(1000, 30, 3600), 3600);
	assert_int_equal(pw_notify_backoff(3, 1, 2), 2);
}

static void test_addresses(void **state)
{
	(void)state;
	static const char *const good[] = {"a@b.c", "op+pw@example.org", "x.y-z@sub.example.org"};
	static const char *const bad[] = {"",
					  "a",
					  "@b.c",
					  "a@",
					  "a@b@c",
					  "a b@c.d",
					  "a@b.c\r\nBcc: e@f.g",
					  "A <a@b.c>",
					  "\"a\"@b.c",
					  "a,b@c.d",
					  "a@b.c;",
					  "a@[1.2.3.4]",
					  "\xc3\xa9@b.c",
					  "a@b.c\n"};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		if (!pw_email_address_ok(good[i]))
			fail_msg("'%s' refused", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (pw_email_address_ok(bad[i]))
			fail_msg("'%s' taken", bad[i]);
	assert_false(pw_email_address_ok(NULL));
}

static pw_config *conf(const char *text)
{
	char path[] = "/tmp/pw-notify-conf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	pw_config *c = NULL;
	pw_error e = PW_ERROR_INIT;
	if (pw_config_load(path, true, &c, &e))
		fail_msg("%s", pw_error_text(&e));
	unlink(path);
	return c;
}

static void test_config(void **state)
{
	(void)state;
	pw_notify_config n;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_notify_config_load(NULL, &n, &e), PW_OK);
	assert_null(n.smtp_url);
	assert_int_equal(n.interval, 30);
	assert_int_equal(n.backoff_min, 30);
	assert_int_equal(n.backoff_max, 3600);
	static const struct {
		const char *text, *needle;
	} refused[] = {
		{"[notify]\nsmtp_url = smtp://127.0.0.1:25\n", "give `from` a plain address"},
		{"[notify]\nsmtp_url = smtp://127.0.0.1:25\nfrom = A <a@b.c>\n", "plain address"},
		{"[notify]\nwebhook_url = http://127.0.0.1/\n", "give webhook_secret"},
		{"[notify]\nbackoff_min = 60\nbackoff_max = 30\n", "backoff_min 1 to backoff_max"},
		{"[notify]\nsmtp_host = x\n", "smtp_host"},
		{"[notify]\nsmtp_url = http://127.0.0.1/\nfrom = a@b.c\n", "give smtp://"},
		{"[notify]\nwebhook_url = file:///etc/passwd\nwebhook_secret = s\n",
		 "http:// or https://"},
	};
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
		pw_config *c = conf(refused[i].text);
		pw_err rc = pw_notify_config_load(c, &n, &e);
		if (!rc)
			fail_msg("taken: %s", refused[i].text);
		srv_contains(e.msg, refused[i].needle);
		pw_config_free(c);
	}
}

struct enq {
	const char *event;
	pw_notify_to to;
	const char *link;
};

static pw_err enqueue_txn(pw_db *db, void *arg, pw_error *err)
{
	const struct enq *q = arg;
	return pw_notify_enqueue(db, q->event, &q->to, "subject", "body", "{}", q->link, err);
}

static void test_enqueue_recipients(void **state)
{
	struct srv *f = *state;
	static const struct {
		const char *name, *email;
		pw_role role;
	} users[] = {
		{"op1", "op1@example.org", PW_ROLE_OPERATOR},
		{"op2", NULL, PW_ROLE_OPERATOR},
		{"boss", "boss@example.org", PW_ROLE_MANAGER},
		{"shop", "shop@example.org", PW_ROLE_APP_OWNER},
		{"gone", "gone@example.org", PW_ROLE_OPERATOR},
		{"twin", "op1@example.org", PW_ROLE_MANAGER},
	};
	for (size_t i = 0; i < sizeof users / sizeof *users; i++) {
		CHECK(f, pw_user_add(f->db, "cli:test", users[i].name, users[i].role, NULL, NULL,
				     &f->e));
		if (users[i].email)
			CHECK(f, pw_user_set_email(f->db, "cli:test", users[i].name, users[i].email,
						   &f->e));
	}
	CHECK(f, pw_user_set_disabled(f->db, "cli:test", "gone", true, &f->e));
	REFUSED(f, PW_ERR_INVALID, "is not a plain address",
		pw_user_set_email(f->db, "cli:test", "op2", "a@b.c\r\nBcc: x@y.z", &f->e));
	/* Operators and managers: op1 (once, though twin shares it), boss;
	 * not op2 (no address), not gone (disabled). And the owner by name. */
	struct enq q = {"test.one",
			{(1u << PW_ROLE_OPERATOR) | (1u << PW_ROLE_MANAGER), "shop", NULL},
			"/actions"};
	CHECK(f, pw_in_write_txn(f->db, enqueue_txn, &q, &f->e));
	assert_int_equal(srv_int(f, "SELECT count(*) FROM notify_outbox WHERE channel = 'email'",
				 NULL),
			 3);
	assert_int_equal(srv_int(f, "SELECT count(*) FROM notify_outbox WHERE recipient = ?",
				 "op1@example.org"),
			 1);
	assert_int_equal(srv_int(f, "SELECT count(*) FROM notify_outbox WHERE recipient = ?",
				 "shop@example.org"),
			 1);
	assert_int_equal(srv_int(f, "SELECT count(*) FROM notify_outbox WHERE channel = 'webhook'",
				 NULL),
			 1);
	assert_int_equal(srv_int(f, "SELECT count(*) FROM notify_outbox WHERE link = '/actions'",
				 NULL),
			 4);
	/* A link that could leave the console is not written. */
	q.link = "//evil.example/actions";
	REFUSED(f, PW_ERR_INVALID, "not a console path",
		pw_in_write_txn(f->db, enqueue_txn, &q, &f->e));
	assert_int_equal(srv_int(f, "SELECT count(*) FROM audit_events WHERE action = 'user.email'",
				 NULL),
			 5);
}

/* Each of v taken by ok when `taken`, each refused otherwise. */
static void judged(bool (*ok)(const char *), const char *const *v, size_t n, bool taken)
{
	for (size_t i = 0; i < n; i++)
		if (ok(v[i]) != taken)
			fail_msg("'%s' %s", v[i], taken ? "refused" : "taken");
}

/* Links: what a public_url and a path may be, and the link they make,
 * by hand. */
static void test_links(void **state)
{
	(void)state;
	static const char *const good_base[] = {"https://patch.example.org",
						"https://patch.example.org/",
						"http://127.0.0.1:8080/pw", "https://[::1]:8443"};
	static const char *const bad_base[] = {"",
					       "patch.example.org",
					       "ftp://x.org",
					       "https://",
					       "https:///x",
					       "https://x.org/?a=b",
					       "https://x.org/#f",
					       "https://x.org/a b",
					       "https://x.org/\"><script>",
					       "https://x.org\r\nBcc: a@b.c",
					       "javascript:alert(1)"};
	judged(pw_notify_public_url_ok, good_base, sizeof good_base / sizeof *good_base, true);
	judged(pw_notify_public_url_ok, bad_base, sizeof bad_base / sizeof *bad_base, false);
	static const char *const good_path[] = {"/actions", "/campaigns/12",
						"/hosts?owner=ops%20team", "/"};
	static const char *const bad_path[] = {
		"",      "actions", "//evil.example", "/a//b",           "/a b", "/a\"b", "/a%2",
		"/a%zz", "/a#b",    "/a\r\nX",        "/\\evil.example", "/a<b>"};
	judged(pw_notify_path_ok, good_path, sizeof good_path / sizeof *good_path, true);
	judged(pw_notify_path_ok, bad_path, sizeof bad_path / sizeof *bad_path, false);
	pw_buf b = PW_BUF_INIT;
	assert_int_equal(pw_notify_path_escape(&b, "ops team/&x=\xc3\xa9~a.b_c-d"), PW_OK);
	assert_string_equal(pw_buf_str(&b), "ops%20team%2F%26x%3D%C3%A9~a.b_c-d");
	pw_buf_release(&b);
	char url[64];
	assert_true(pw_notify_url("https://patch.example.org/", "/actions", url, sizeof url));
	assert_string_equal(url, "https://patch.example.org/actions");
	assert_true(pw_notify_url("http://127.0.0.1:8080/pw", "/campaigns/7", url, sizeof url));
	assert_string_equal(url, "http://127.0.0.1:8080/pw/campaigns/7");
	assert_false(pw_notify_url("https://patch.example.org", "//evil", url, sizeof url));
	assert_false(pw_notify_url(NULL, "/actions", url, sizeof url));
	assert_false(pw_notify_url("https://patch.example.org", "/actions", url, 20));
	/* The mail: the link on a line of its own after the body. */
	pw_notify_mail m = {"a@example.org",
			    "b@example.org",
			    7,
			    "2026-12-07T10:00:00.000Z",
			    "s",
			    "Sign off.\n",
			    "https://patch.example.org/actions"};
	assert_true(pw_notify_message(&b, &m));
	const char *body = strstr(pw_buf_str(&b), "\r\n\r\n");
	assert_non_null(body);
	assert_string_equal(body, "\r\n\r\nSign off.\r\n\r\nIn the web console: "
				  "https://patch.example.org/actions\r\n\r\n");
	pw_buf_release(&b);
	m.url = NULL;
	assert_true(pw_notify_message(&b, &m));
	assert_null(strstr(pw_buf_str(&b), "web console"));
	pw_buf_release(&b);
}

static void test_deliver_kept_and_dropped(void **state)
{
	struct srv *f = *state;
	CHECK(f, pw_user_add(f->db, "cli:test", "op", PW_ROLE_OPERATOR, NULL, NULL, &f->e));
	CHECK(f, pw_user_set_email(f->db, "cli:test", "op", "op@example.org", &f->e));
	struct enq q = {"test.two", {1u << PW_ROLE_OPERATOR, NULL, NULL}, NULL};
	CHECK(f, pw_in_write_txn(f->db, enqueue_txn, &q, &f->e));
	pw_notify_config n;
	CHECK(f, pw_notify_config_load(NULL, &n, &f->e));
	pw_notify_stats st;
	/* No channel configured: the webhook is dropped, the mail waits. */
	CHECK(f, pw_notify_deliver(f->db, &n, 10, &st, &f->e));
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.sent + st.failed, 0);
	assert_int_equal(srv_int(f,
				 "SELECT count(*) FROM notify_outbox WHERE state = 'dropped' AND "
				 "last_error LIKE '%webhook_url%'",
				 NULL),
			 1);
	assert_int_equal(srv_int(f, "SELECT attempts FROM notify_outbox WHERE channel = 'email'",
				 NULL),
			 0);
	/* A mail server that refuses connections (port 1 of 127.0.0.1): the
	 * row stays, with the error and an attempt an hour (backoff_min) on. */
	n.smtp_url = "smtp://127.0.0.1:1";
	n.from = "pw@example.org";
	n.backoff_min = 3600;
	n.backoff_max = 7200;
	CHECK(f, pw_notify_deliver(f->db, &n, 10, &st, &f->e));
	assert_int_equal(st.failed, 1);
	assert_int_equal(srv_int(f,
				 "SELECT count(*) FROM notify_outbox WHERE channel = 'email' AND "
				 "state = 'pending' AND attempts = 1 AND last_error IS NOT NULL",
				 NULL),
			 1);
	char soon[PW_TS_LEN];
	pw_ts_now(soon, 3000);
	assert_int_equal(srv_int(f,
				 "SELECT count(*) FROM notify_outbox WHERE channel = 'email' AND "
				 "next_attempt > ?",
				 soon),
			 1);
	CHECK(f, pw_notify_deliver(f->db, &n, 10, &st, &f->e));
	assert_int_equal(st.sent + st.failed + st.dropped, 0); /* not due yet */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_rfc4231), cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_addresses),    cmocka_unit_test(test_config),
		cmocka_unit_test(test_links),        T(test_enqueue_recipients),
		T(test_deliver_kept_and_dropped),
	};
	return srv_run("notify", tests, sizeof tests / sizeof *tests);
}
