/* Users, roles, passwords and API tokens (users.h), on SQLite and
 * PostgreSQL. Argon2id runs with the minimum cost (PATCHWARDEN_PWHASH=
 * fast) except in the test that checks the interactive cost. */
#include <pthread.h>

#include "servertest.h"

#include "patchwarden/audit.h"
#include "patchwarden/users.h"

#define ACTOR "cli:test"

static void add(struct srv *f, const char *name, pw_role role, const char *pw)
{
	CHECK(f, pw_user_add(f->db, ACTOR, name, role, pw, NULL, &f->e));
}

static int64_t events(struct srv *f, const char *action)
{
	return srv_int(f, "SELECT COUNT(*) FROM audit_events WHERE action = ?", action);
}

static void test_roles(void **state)
{
	(void)state;
	static const char *const names[] = {"admin",   "operator", "app-owner",
					    "manager", "helpdesk", "auditor"};
	for (int i = 0; i < PW_ROLE__COUNT; i++) {
		pw_role r;
		assert_string_equal(pw_role_name((pw_role)i), names[i]);
		assert_true(pw_role_parse(names[i], &r));
		assert_int_equal(r, i);
	}
	pw_role r = PW_ROLE_ADMIN;
	assert_false(pw_role_parse("root", &r));
	assert_false(pw_role_parse("Admin", &r));
	assert_false(pw_role_parse(NULL, &r));
	assert_string_equal(pw_role_name(PW_ROLE__COUNT), "unknown");
}

static void test_add_and_list(void **state)
{
	struct srv *f = *state;
	int64_t id = 0;
	CHECK(f, pw_user_add(f->db, ACTOR, "zoe", PW_ROLE_AUDITOR, NULL, &id, &f->e));
	assert_true(id > 0);
	add(f, "alice", PW_ROLE_ADMIN, "correct horse");
	add(f, "bob.smith", PW_ROLE_APP_OWNER, "battery staple");

	pw_user_list l = PW_USER_LIST_INIT;
	CHECK(f, pw_user_list_all(f->db, &l, &f->e));
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].name, "alice");
	assert_int_equal(l.v[0].role, PW_ROLE_ADMIN);
	assert_true(l.v[0].has_password);
	assert_false(l.v[0].disabled);
	assert_string_equal(l.v[1].name, "bob.smith");
	assert_string_equal(l.v[2].name, "zoe");
	assert_int_equal(l.v[2].id, id);
	assert_false(l.v[2].has_password);
	assert_int_equal(strlen(l.v[2].created), 24);
	pw_user_list_release(&l);

	/* Audited, without the password or its hash. */
	assert_int_equal(events(f, "user.add"), 3);
	char *after = srv_text(f, "SELECT after_json FROM audit_events WHERE target = ?",
			       "user:alice");
	assert_string_equal(
		after,
		"{\"name\":\"alice\",\"role\":\"admin\",\"disabled\":false,\"password\":true}");
	free(after);
	char *hash = srv_text(f, "SELECT password_hash FROM users WHERE name = ?", "alice");
	assert_non_null(strstr(hash, "$argon2id$"));
	free(hash);
	assert_int_equal(srv_int(f,
				 "SELECT COUNT(*) FROM audit_events WHERE after_json LIKE"
				 " '%argon2%' OR after_json LIKE '%horse%'",
				 NULL),
			 0);
	pw_audit_report r;
	CHECK(f, pw_audit_verify(f->db, &r, &f->e));
}

static void test_add_refusals(void **state)
{
	struct srv *f = *state;
	add(f, "alice", PW_ROLE_ADMIN, NULL);
	REFUSED(f, PW_ERR_INVALID, "exists already",
		pw_user_add(f->db, ACTOR, "alice", PW_ROLE_OPERATOR, NULL, NULL, &f->e));
	static const char *const bad[] = {
		"",    "Alice",
		"-x",  ".x",
		"a b", "a/b",
		"ä",   "a12345678901234567890123456789012345678901234567890123456789012345"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		REFUSED(f, PW_ERR_INVALID, "is not valid",
			pw_user_add(f->db, ACTOR, bad[i], PW_ROLE_OPERATOR, NULL, NULL, &f->e));
	REFUSED(f, PW_ERR_INVALID, "8 to 1024 characters (this one has 5)",
		pw_user_add(f->db, ACTOR, "bob", PW_ROLE_OPERATOR, "short", NULL, &f->e));
	REFUSED(f, PW_ERR_INVALID, "unknown role",
		pw_user_add(f->db, ACTOR, "bob", PW_ROLE__COUNT, NULL, NULL, &f->e));
	REFUSED(f, PW_ERR_INVALID, "actor",
		pw_user_add(f->db, "", "bob", PW_ROLE_OPERATOR, NULL, NULL, &f->e));
	/* Nothing of the refused ones was kept. */
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM users", NULL), 1);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM audit_events", NULL), 1);
}

static void test_login(void **state)
{
	struct srv *f = *state;
	add(f, "alice", PW_ROLE_OPERATOR, "correct horse");
	add(f, "bob", PW_ROLE_AUDITOR, NULL);
	pw_principal p;
	CHECK(f, pw_user_login(f->db, "alice", "correct horse", &p, &f->e));
	assert_string_equal(p.name, "alice");
	assert_int_equal(p.role, PW_ROLE_OPERATOR);
	assert_true(p.user_id > 0);
	assert_int_equal(p.token_id, 0);

	/* One answer for a wrong password, an unknown user and a user
	 * without a password. */
	const char *msg = "the user name or the password is wrong";
	REFUSED(f, PW_ERR_AUTH, msg, pw_user_login(f->db, "alice", "correct horsE", &p, &f->e));
	assert_int_equal(p.user_id, 0);
	REFUSED(f, PW_ERR_AUTH, msg, pw_user_login(f->db, "carol", "correct horse", &p, &f->e));
	REFUSED(f, PW_ERR_AUTH, msg, pw_user_login(f->db, "bob", "anything at all", &p, &f->e));
	REFUSED(f, PW_ERR_AUTH, msg, pw_user_login(f->db, "Bad Name", "x", &p, &f->e));
	REFUSED(f, PW_ERR_AUTH, msg, pw_user_login(f->db, "alice", "", &p, &f->e));

	add(f, "root", PW_ROLE_ADMIN, NULL);
	CHECK(f, pw_user_set_disabled(f->db, ACTOR, "alice", true, &f->e));
	REFUSED(f, PW_ERR_AUTH, "user \"alice\" is disabled",
		pw_user_login(f->db, "alice", "correct horse", &p, &f->e));
	CHECK(f, pw_user_set_disabled(f->db, ACTOR, "alice", false, &f->e));
	CHECK(f, pw_user_login(f->db, "alice", "correct horse", &p, &f->e));
	assert_int_equal(events(f, "user.disable"), 1);
	assert_int_equal(events(f, "user.enable"), 1);
}

static void test_password_change(void **state)
{
	struct srv *f = *state;
	add(f, "alice", PW_ROLE_OPERATOR, "first password");
	pw_principal p;
	CHECK(f, pw_user_set_password(f->db, ACTOR, "alice", "second password", &f->e));
	REFUSED(f, PW_ERR_AUTH, "wrong",
		pw_user_login(f->db, "alice", "first password", &p, &f->e));
	CHECK(f, pw_user_login(f->db, "alice", "second password", &p, &f->e));
	CHECK(f, pw_user_set_password(f->db, ACTOR, "alice", NULL, &f->e));
	REFUSED(f, PW_ERR_AUTH, "wrong",
		pw_user_login(f->db, "alice", "second password", &p, &f->e));
	/* Removing a password that is not there changes nothing. */
	CHECK(f, pw_user_set_password(f->db, ACTOR, "alice", NULL, &f->e));
	assert_int_equal(events(f, "user.passwd"), 2);
	REFUSED(f, PW_ERR_NOTFOUND, "there is no user \"carol\"",
		pw_user_set_password(f->db, ACTOR, "carol", "whatever123", &f->e));
	REFUSED(f, PW_ERR_INVALID, "a password must have",
		pw_user_set_password(f->db, ACTOR, "alice", "short", &f->e));
}

static void test_roles_and_last_admin(void **state)
{
	struct srv *f = *state;
	add(f, "alice", PW_ROLE_ADMIN, NULL);
	add(f, "bob", PW_ROLE_OPERATOR, NULL);
	REFUSED(f, PW_ERR_INVALID, "\"alice\" is the last enabled admin",
		pw_user_set_role(f->db, ACTOR, "alice", PW_ROLE_AUDITOR, &f->e));
	REFUSED(f, PW_ERR_INVALID, "last enabled admin",
		pw_user_set_disabled(f->db, ACTOR, "alice", true, &f->e));
	CHECK(f, pw_user_set_role(f->db, ACTOR, "bob", PW_ROLE_ADMIN, &f->e));
	CHECK(f, pw_user_set_role(f->db, ACTOR, "alice", PW_ROLE_MANAGER, &f->e));
	/* The same role again is no change and no event. */
	CHECK(f, pw_user_set_role(f->db, ACTOR, "alice", PW_ROLE_MANAGER, &f->e));
	assert_int_equal(events(f, "user.role"), 2);
	char *before = srv_text(f,
				"SELECT before_json FROM audit_events WHERE action = 'user.role'"
				" AND target = ?",
				"user:alice");
	assert_non_null(strstr(before, "\"role\":\"admin\""));
	free(before);
	pw_user_list l = PW_USER_LIST_INIT;
	CHECK(f, pw_user_list_all(f->db, &l, &f->e));
	assert_int_equal(l.v[0].role, PW_ROLE_MANAGER);
	assert_int_equal(l.v[1].role, PW_ROLE_ADMIN);
	pw_user_list_release(&l);
	REFUSED(f, PW_ERR_NOTFOUND, "no user",
		pw_user_set_role(f->db, ACTOR, "eve", PW_ROLE_ADMIN, &f->e));
	REFUSED(f, PW_ERR_INVALID, "unknown role",
		pw_user_set_role(f->db, ACTOR, "bob", (pw_role)42, &f->e));
}

struct demoter {
	pw_db *db;
	const char *name;
	pw_err rc;
	pw_error e;
};

static void *demote(void *arg)
{
	struct demoter *d = arg;
	d->rc = pw_user_set_disabled(d->db, "node:x", d->name, true, &d->e);
	return NULL;
}

/* Two nodes disabling the last two admins at once: one must lose. */
static void test_last_admin_race(void **state)
{
	struct srv *f = *state;
	add(f, "alice", PW_ROLE_ADMIN, NULL);
	add(f, "carol", PW_ROLE_ADMIN, NULL);
	struct demoter d[2] = {{srv_open_other(f), "alice", PW_OK, PW_ERROR_INIT},
			       {srv_open_other(f), "carol", PW_OK, PW_ERROR_INIT}};
	for (int round = 0; round < 10; round++) {
		pthread_t t[2];
		for (int i = 0; i < 2; i++)
			assert_int_equal(pthread_create(&t[i], NULL, demote, &d[i]), 0);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		int ok = (d[0].rc == PW_OK) + (d[1].rc == PW_OK);
		if (ok != 1)
			fail_msg("round %d: %d of 2 admins disabled (%s / %s)", round, 2 - ok,
				 pw_error_text(&d[0].e), pw_error_text(&d[1].e));
		assert_int_equal(srv_int(f,
					 "SELECT COUNT(*) FROM users WHERE role = 'admin' AND"
					 " disabled = 0",
					 NULL),
				 1);
		const char *off = d[0].rc == PW_OK ? "alice" : "carol";
		CHECK(f, pw_user_set_disabled(f->db, ACTOR, off, false, &f->e));
	}
	pw_db_close(d[0].db);
	pw_db_close(d[1].db);
}

static void test_api_tokens(void **state)
{
	struct srv *f = *state;
	add(f, "alice", PW_ROLE_ADMIN, NULL);
	add(f, "bot", PW_ROLE_OPERATOR, NULL);
	char tok[PW_API_TOKEN_MAX];
	int64_t id = 0;
	CHECK(f, pw_api_token_create(f->db, ACTOR, "bot", "nightly sync", 0, tok, &id, &f->e));
	char prefix[32];
	snprintf(prefix, sizeof prefix, "pwt_%lld.", (long long)id);
	assert_memory_equal(tok, prefix, strlen(prefix));
	assert_int_equal(strlen(tok), strlen(prefix) + 64);

	pw_principal p;
	CHECK(f, pw_api_token_authenticate(f->db, tok, &p, &f->e));
	assert_string_equal(p.name, "bot");
	assert_int_equal(p.role, PW_ROLE_OPERATOR);
	assert_int_equal(p.token_id, id);
	char *used = srv_text(f, "SELECT last_used FROM api_tokens", NULL);
	assert_non_null(used);
	free(used);

	/* The database has neither the token nor its secret part. */
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM audit_events WHERE after_json LIKE ?",
				 strchr(tok, '.') + 1),
			 0);

	/* A wrong secret of the right shape, a truncated one, other ids and
	 * garbage: all refused. */
	char wrong[PW_API_TOKEN_MAX];
	snprintf(wrong, sizeof wrong, "%s", tok);
	char *last = wrong + strlen(wrong) - 1;
	*last = *last == '0' ? '1' : '0';
	REFUSED(f, PW_ERR_AUTH, "is not valid", pw_api_token_authenticate(f->db, wrong, &p, &f->e));
	assert_int_equal(p.user_id, 0);
	wrong[strlen(wrong) - 1] = '\0';
	REFUSED(f, PW_ERR_AUTH, "not an API token",
		pw_api_token_authenticate(f->db, wrong, &p, &f->e));
	static const char *const junk[] = {"",
					   "pwt_",
					   "pwt_1",
					   "pwt_0.",
					   "pwe_1.x",
					   "Bearer x",
					   "pwt_99999999999999999999.00"};
	for (size_t i = 0; i < sizeof junk / sizeof *junk; i++)
		REFUSED(f, PW_ERR_AUTH, "not an API token",
			pw_api_token_authenticate(f->db, junk[i], &p, &f->e));
	snprintf(wrong, sizeof wrong, "pwt_%lld%s", (long long)id + 1, strchr(tok, '.'));
	REFUSED(f, PW_ERR_AUTH, "is not valid", pw_api_token_authenticate(f->db, wrong, &p, &f->e));

	/* Disabled user: the token stops working, and works again after. */
	CHECK(f, pw_user_set_disabled(f->db, ACTOR, "bot", true, &f->e));
	REFUSED(f, PW_ERR_AUTH, "user \"bot\" is disabled",
		pw_api_token_authenticate(f->db, tok, &p, &f->e));
	REFUSED(f, PW_ERR_INVALID, "is disabled",
		pw_api_token_create(f->db, ACTOR, "bot", "x", 0, wrong, NULL, &f->e));
	CHECK(f, pw_user_set_disabled(f->db, ACTOR, "bot", false, &f->e));
	CHECK(f, pw_api_token_authenticate(f->db, tok, &p, &f->e));

	CHECK(f, pw_api_token_revoke(f->db, ACTOR, id, &f->e));
	REFUSED(f, PW_ERR_AUTH, "was revoked at", pw_api_token_authenticate(f->db, tok, &p, &f->e));
	REFUSED(f, PW_ERR_INVALID, "revoked already", pw_api_token_revoke(f->db, ACTOR, id, &f->e));
	REFUSED(f, PW_ERR_NOTFOUND, "no API token 999",
		pw_api_token_revoke(f->db, ACTOR, 999, &f->e));
	assert_int_equal(events(f, "token.create"), 1);
	assert_int_equal(events(f, "token.revoke"), 1);

	REFUSED(f, PW_ERR_NOTFOUND, "no user \"nobody\"",
		pw_api_token_create(f->db, ACTOR, "nobody", "x", 0, wrong, NULL, &f->e));
	REFUSED(f, PW_ERR_INVALID, "label",
		pw_api_token_create(f->db, ACTOR, "bot", "", 0, wrong, NULL, &f->e));
	REFUSED(f, PW_ERR_INVALID, "lifetime",
		pw_api_token_create(f->db, ACTOR, "bot", "x", -5, wrong, NULL, &f->e));
}

static void test_api_token_expiry_and_list(void **state)
{
	struct srv *f = *state;
	add(f, "alice", PW_ROLE_ADMIN, NULL);
	add(f, "bot", PW_ROLE_OPERATOR, NULL);
	char t1[PW_API_TOKEN_MAX], t2[PW_API_TOKEN_MAX];
	int64_t id1, id2;
	CHECK(f, pw_api_token_create(f->db, ACTOR, "bot", "short lived", 3600, t1, &id1, &f->e));
	CHECK(f, pw_api_token_create(f->db, ACTOR, "alice", "laptop", 0, t2, &id2, &f->e));
	pw_principal p;
	CHECK(f, pw_api_token_authenticate(f->db, t1, &p, &f->e));
	srv_exec(f, f->db,
		 "UPDATE api_tokens SET expires = '2001-01-01T00:00:00.000Z'"
		 " WHERE label = 'short lived'");
	REFUSED(f, PW_ERR_AUTH, "expired at 2001-01-01T00:00:00.000Z",
		pw_api_token_authenticate(f->db, t1, &p, &f->e));
	CHECK(f, pw_api_token_authenticate(f->db, t2, &p, &f->e)); /* never expires */

	pw_api_token_list l = PW_API_TOKEN_LIST_INIT;
	CHECK(f, pw_api_token_list_all(f->db, NULL, &l, &f->e));
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].id, id1);
	assert_string_equal(l.v[0].user, "bot");
	assert_string_equal(l.v[0].label, "short lived");
	assert_non_null(l.v[0].expires);
	assert_null(l.v[1].expires);
	assert_non_null(l.v[1].last_used);
	assert_null(l.v[1].revoked);
	pw_api_token_list_release(&l);
	CHECK(f, pw_api_token_list_all(f->db, "alice", &l, &f->e));
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].id, id2);
	pw_api_token_list_release(&l);
}

/* The real cost: libsodium's interactive Argon2id parameters, and a
 * hash made cheaper (here: in test mode) is upgraded at the next login. */
static void test_interactive_cost_and_rehash(void **state)
{
	struct srv *f = *state;
	if (!pw_pwhash_fast())
		skip(); /* a build without PW_TEST_HOOKS (release) has no cheap mode */
	add(f, "alice", PW_ROLE_ADMIN, "correct horse");
	char *h = srv_text(f, "SELECT password_hash FROM users WHERE name = ?", "alice");
	assert_non_null(strstr(h, "$argon2id$v=19$m=8,"));
	free(h);
	unsetenv("PATCHWARDEN_PWHASH");
	assert_false(pw_pwhash_fast());
	pw_principal p;
	CHECK(f, pw_user_login(f->db, "alice", "correct horse", &p, &f->e));
	h = srv_text(f, "SELECT password_hash FROM users WHERE name = ?", "alice");
	assert_non_null(strstr(h, "$argon2id$v=19$m=65536,t=2,"));
	free(h);
	CHECK(f, pw_user_login(f->db, "alice", "correct horse", &p, &f->e));
	setenv("PATCHWARDEN_PWHASH", "fast", 1);
}

int main(void)
{
	setenv("PATCHWARDEN_PWHASH", "fast", 1);
	const struct CMUnitTest tests[] = {
		T(test_roles),
		T(test_add_and_list),
		T(test_add_refusals),
		T(test_login),
		T(test_password_change),
		T(test_roles_and_last_admin),
		T(test_last_admin_race),
		T(test_api_tokens),
		T(test_api_token_expiry_and_list),
		T(test_interactive_cost_and_rehash),
	};
	return srv_run("users", tests, sizeof tests / sizeof *tests);
}
