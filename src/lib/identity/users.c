#include "patchwarden/users.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/audit.h"
#include "patchwarden/clock.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/sql.h"
#include "patchwarden/text.h"
#include "patchwarden/token.h"

/* Last-use times are written at most this often per token. */
#define LAST_USED_EVERY 60

static const char *const role_names[PW_ROLE__COUNT] = {
	[PW_ROLE_ADMIN] = "admin",         [PW_ROLE_OPERATOR] = "operator",
	[PW_ROLE_APP_OWNER] = "app-owner", [PW_ROLE_MANAGER] = "manager",
	[PW_ROLE_HELPDESK] = "helpdesk",   [PW_ROLE_AUDITOR] = "auditor",
};

const char *pw_role_name(pw_role r)
{
	return (unsigned)r < PW_ROLE__COUNT ? role_names[r] : "unknown";
}

bool pw_role_parse(const char *name, pw_role *out)
{
	for (int i = 0; name && i < PW_ROLE__COUNT; i++) {
		if (strcmp(name, role_names[i]) == 0) {
			*out = (pw_role)i;
			return true;
		}
	}
	return false;
}

static bool name_ok(const char *s)
{
	if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (n >= PW_USER_NAME_MAX || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
					       c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static pw_err check_name(const char *name, pw_error *err)
{
	if (name_ok(name))
		return PW_OK;
	return pw_error_set(err, PW_ERR_INVALID,
			    "user name \"%.80s\" is not valid: use 1 to %d of a-z, 0-9, '.', "
			    "'_' and '-', starting with a letter or digit",
			    name ? name : "", PW_USER_NAME_MAX);
}

bool pw_pwhash_fast(void)
{
#ifdef PW_TEST_HOOKS
	const char *v = getenv("PATCHWARDEN_PWHASH");
	return v && strcmp(v, "fast") == 0;
#else
	/* Compiled out: the environment of a production server must not be
	 * able to make its password hashes cheap to attack. */
	return false;
#endif
}

static void pwhash_cost(unsigned long long *ops, size_t *mem)
{
	if (pw_pwhash_fast()) {
		*ops = crypto_pwhash_OPSLIMIT_MIN;
		*mem = crypto_pwhash_MEMLIMIT_MIN;
	} else {
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	}
}

/* Hashes outside any transaction: Argon2 takes a while and must not hold
 * the database's write lock meanwhile. */
static pw_err hash_password(const char *password, char out[crypto_pwhash_STRBYTES], pw_error *err)
{
	size_t len = password ? strlen(password) : 0;
	if (len < PW_PASSWORD_MIN || len > PW_PASSWORD_MAX)
		return pw_error_set(err, PW_ERR_INVALID,
				    "a password must have %d to %d characters (this one has %zu)",
				    PW_PASSWORD_MIN, PW_PASSWORD_MAX, len);
	if (sodium_init() < 0)
		return pw_error_set(err, PW_ERR_EXTERNAL, "libsodium could not be initialised");
	unsigned long long ops;
	size_t mem;
	pwhash_cost(&ops, &mem);
	if (crypto_pwhash_str_alg(out, password, len, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return pw_error_set(err, PW_ERR_NOMEM,
				    "hashing the password failed: Argon2id needs %zu MiB of memory",
				    mem >> 20);
	return PW_OK;
}

/* {"name":…,"role":…,"disabled":…,"password":…} for audit events. The
 * caller frees the text. */
static char *user_json(const char *name, pw_role role, bool disabled, bool has_password)
{
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "name", name) ||
	    !cJSON_AddStringToObject(o, "role", pw_role_name(role)) ||
	    !cJSON_AddBoolToObject(o, "disabled", disabled) ||
	    !cJSON_AddBoolToObject(o, "password", has_password)) {
		cJSON_Delete(o);
		return NULL;
	}
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

struct user_row {
	int64_t id;
	pw_role role;
	bool disabled, has_password;
};

static pw_err load_user(pw_db *db, const char *name, struct user_row *u, pw_error *err)
{
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db,
			   "SELECT id, role, disabled, CASE WHEN password_hash IS NULL THEN 0 "
			   "ELSE 1 END FROM users WHERE name = ?",
			   &st, err, "t", name);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	if (!row)
		return pw_error_set(err, PW_ERR_NOTFOUND,
				    "there is no user \"%s\"; see 'patchwarden user list'", name);
	u->id = pw_stmt_int(st, 0);
	const char *role = pw_stmt_text(st, 1);
	bool known = pw_role_parse(role, &u->role);
	u->disabled = pw_stmt_int(st, 2) != 0;
	u->has_password = pw_stmt_int(st, 3) != 0;
	pw_stmt_reset(st);
	if (!known)
		return pw_error_set(err, PW_ERR_STORE,
				    "user \"%s\" has the unknown role \"%.40s\" in the database",
				    name, role ? role : "");
	return PW_OK;
}

/* One user change: the row before and after, written with its audit
 * event in one transaction. */
enum change_kind { CH_ADD, CH_ROLE, CH_PASSWORD, CH_DISABLED };

struct change {
	enum change_kind kind;
	const char *actor, *action, *name;
	pw_role role;
	bool disabled;
	const char *pwhash; /* the new hash, or NULL for none */
	int64_t id;         /* out: the user's id */
};

static pw_err audit_user(pw_db *db, const struct change *c, const struct user_row *before,
			 const struct user_row *after, pw_error *err)
{
	char *b = before ? user_json(c->name, before->role, before->disabled, before->has_password)
			 : NULL;
	char *a = user_json(c->name, after->role, after->disabled, after->has_password);
	char target[PW_USER_NAME_MAX + 8];
	snprintf(target, sizeof target, "user:%s", c->name);
	pw_err rc = (before && !b) || !a
			    ? pw_error_set(err, PW_ERR_NOMEM, "out of memory")
			    : pw_audit_append(db, c->actor, c->action, target, b, a, NULL, err);
	cJSON_free(b);
	cJSON_free(a);
	return rc;
}

static pw_err add_txn(pw_db *db, void *arg, pw_error *err)
{
	struct change *c = arg;
	pw_stmt *st;
	bool row = false;
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_err rc = pw_sql(db, "SELECT 1 FROM users WHERE name = ?", &st, err, "t", c->name);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	pw_stmt_reset(st);
	if (row)
		return pw_error_set(err, PW_ERR_INVALID, "user \"%s\" exists already", c->name);
	rc = pw_sql(db,
		    "INSERT INTO users (name, role, password_hash, disabled, created, updated)"
		    " VALUES (?, ?, ?, 0, ?, ?) RETURNING id",
		    &st, err, "ttttt", c->name, pw_role_name(c->role), c->pwhash, now, now);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	c->id = pw_stmt_int(st, 0);
	pw_stmt_reset(st);
	struct user_row after = {c->id, c->role, false, c->pwhash != NULL};
	return audit_user(db, c, NULL, &after, err);
}

pw_err pw_user_add(pw_db *db, const char *actor, const char *name, pw_role role,
		   const char *password, int64_t *id, pw_error *err)
{
	pw_err rc = check_name(name, err);
	if (rc)
		return rc;
	if ((unsigned)role >= PW_ROLE__COUNT)
		return pw_error_set(err, PW_ERR_INVALID, "unknown role %d", (int)role);
	char hash[crypto_pwhash_STRBYTES];
	if (password && (rc = hash_password(password, hash, err)))
		return rc;
	struct change c = {CH_ADD, actor, "user.add", name, role, false, password ? hash : NULL, 0};
	rc = pw_in_write_txn(db, add_txn, &c, err);
	sodium_memzero(hash, sizeof hash);
	if (!rc && id)
		*id = c.id;
	return rc;
}

/* Whether `u` is the only enabled admin, who must stay one. */
static pw_err last_admin(pw_db *db, const struct user_row *u, bool *last, pw_error *err)
{
	*last = false;
	if (u->role != PW_ROLE_ADMIN || u->disabled)
		return PW_OK;
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db, "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0",
			   &st, err, "");
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	*last = row && pw_stmt_int(st, 0) <= 1;
	pw_stmt_reset(st);
	return PW_OK;
}

static pw_err update_txn(pw_db *db, void *arg, pw_error *err)
{
	struct change *c = arg;
	struct user_row before, after;
	pw_err rc = pw_audit_serialize(db, err);
	if (!rc)
		rc = load_user(db, c->name, &before, err);
	if (rc)
		return rc;
	after = before;
	if (c->kind == CH_ROLE)
		after.role = c->role;
	else if (c->kind == CH_PASSWORD)
		after.has_password = c->pwhash != NULL;
	else
		after.disabled = c->disabled;
	bool demotes = after.role != PW_ROLE_ADMIN || after.disabled;
	bool last = false;
	if (demotes && (rc = last_admin(db, &before, &last, err)))
		return rc;
	if (last)
		return pw_error_set(err, PW_ERR_INVALID,
				    "\"%s\" is the last enabled admin; make another user admin "
				    "first",
				    c->name);
	/* Setting a password always counts as a change: the new hash differs. */
	if (after.role == before.role && after.disabled == before.disabled && !c->pwhash &&
	    after.has_password == before.has_password)
		return PW_OK;
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_stmt *st;
	if (c->kind == CH_ROLE)
		rc = pw_sql(db, "UPDATE users SET role = ?, updated = ? WHERE id = ?", &st, err,
			    "tti", pw_role_name(c->role), now, before.id);
	else if (c->kind == CH_PASSWORD)
		rc = pw_sql(db, "UPDATE users SET password_hash = ?, updated = ? WHERE id = ?", &st,
			    err, "tti", c->pwhash, now, before.id);
	else
		rc = pw_sql(db, "UPDATE users SET disabled = ?, updated = ? WHERE id = ?", &st, err,
			    "iti", (int64_t)c->disabled, now, before.id);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (!rc)
		rc = audit_user(db, c, &before, &after, err);
	return rc;
}

static pw_err update_user(pw_db *db, struct change *c, pw_error *err)
{
	pw_err rc = check_name(c->name, err);
	return rc ? rc : pw_in_write_txn(db, update_txn, c, err);
}

pw_err pw_user_set_password(pw_db *db, const char *actor, const char *name, const char *password,
			    pw_error *err)
{
	char hash[crypto_pwhash_STRBYTES];
	pw_err rc;
	if (password && (rc = hash_password(password, hash, err)))
		return rc;
	struct change c = {CH_PASSWORD,   actor, "user.passwd",          name,
			   PW_ROLE_ADMIN, false, password ? hash : NULL, 0};
	rc = update_user(db, &c, err);
	sodium_memzero(hash, sizeof hash);
	return rc;
}

pw_err pw_user_set_role(pw_db *db, const char *actor, const char *name, pw_role role, pw_error *err)
{
	if ((unsigned)role >= PW_ROLE__COUNT)
		return pw_error_set(err, PW_ERR_INVALID, "unknown role %d", (int)role);
	struct change c = {CH_ROLE, actor, "user.role", name, role, false, NULL, 0};
	return update_user(db, &c, err);
}

bool pw_email_address_ok(const char *addr)
{
	if (!addr)
		return false;
	size_t n = strlen(addr);
	const char *at = strchr(addr, '@');
	if (n < 3 || n > 254 || !at || at == addr || !at[1] || strchr(at + 1, '@'))
		return false;
	for (const char *p = addr; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch <= ' ' || ch >= 0x7f || strchr("<>()[]\\,;:\"", ch))
			return false;
	}
	return true;
}

struct email_change {
	const char *actor, *name, *email;
};

static pw_err email_txn(pw_db *db, void *arg, pw_error *err)
{
	const struct email_change *c = arg;
	struct user_row u;
	pw_err rc = pw_audit_serialize(db, err);
	if (!rc)
		rc = load_user(db, c->name, &u, err);
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_stmt *st;
	if (!rc)
		rc = pw_sql(db, "UPDATE users SET email = ?, updated = ? WHERE id = ?", &st, err,
			    "tti", c->email, now, u.id);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	cJSON *a = cJSON_CreateObject();
	char *after = a && (c->email ? cJSON_AddStringToObject(a, "email", c->email)
				     : cJSON_AddNullToObject(a, "email"))
			      ? cJSON_PrintUnformatted(a)
			      : NULL;
	char target[PW_USER_NAME_MAX + 8];
	snprintf(target, sizeof target, "user:%s", c->name);
	if (!rc)
		rc = after ? pw_audit_append(db, c->actor, "user.email", target, NULL, after, NULL,
					     err)
			   : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	cJSON_free(after);
	cJSON_Delete(a);
	return rc;
}

pw_err pw_user_set_email(pw_db *db, const char *actor, const char *name, const char *email,
			 pw_error *err)
{
	if (email && !pw_email_address_ok(email))
		return pw_error_set(err, PW_ERR_INVALID,
				    "'%s' is not a plain address: give local@domain, without "
				    "spaces, quotes, angle brackets or a display name",
				    email);
	struct email_change c = {actor, name, email};
	pw_err rc = check_name(name, err);
	return rc ? rc : pw_in_write_txn(db, email_txn, &c, err);
}

pw_err pw_user_set_disabled(pw_db *db, const char *actor, const char *name, bool disabled,
			    pw_error *err)
{
	struct change c = {CH_DISABLED,
			   actor,
			   disabled ? "user.disable" : "user.enable",
			   name,
			   PW_ROLE_ADMIN,
			   disabled,
			   NULL,
			   0};
	return update_user(db, &c, err);
}

void pw_user_list_release(pw_user_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].created);
		free(l->v[i].updated);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static void user_fill(pw_stmt *st, void *item, bool *oom)
{
	pw_user *u = item;
	u->id = pw_stmt_int(st, 0);
	u->name = pw_col_dup(st, 1, oom);
	if (!pw_role_parse(pw_stmt_text(st, 2), &u->role))
		u->role = PW_ROLE__COUNT; /* pw_role_name says "unknown" */
	u->disabled = pw_stmt_int(st, 3) != 0;
	u->has_password = pw_stmt_int(st, 4) != 0;
	u->created = pw_col_dup(st, 5, oom);
	u->updated = pw_col_dup(st, 6, oom);
}

pw_err pw_user_list_all(pw_db *db, pw_user_list *out, pw_error *err)
{
	pw_stmt *st;
	pw_err rc =
		pw_sql(db,
		       "SELECT id, name, role, disabled, CASE WHEN password_hash IS NULL THEN 0 "
		       "ELSE 1 END, created, updated FROM users ORDER BY name",
		       &st, err, "");
	if (rc)
		return rc;
	void *v = out->v;
	rc = pw_rows_append(st, &v, &out->n, &out->cap, sizeof *out->v, user_fill, "listing users",
			    err);
	out->v = v;
	return rc;
}

/* A real Argon2id hash of a random password, so a login for an unknown
 * user costs what a real one costs and reveals nothing by its timing. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
	char pw[PW_SECRET_HEX + 1];
	if (pw_secret_new(pw, NULL) || hash_password(pw, dummy_hash, NULL))
		dummy_hash[0] = '\0';
}

static pw_err login_failed(const char *password, pw_error *err)
{
	pthread_once(&dummy_once, make_dummy_hash);
	/* The outcome is known (it never matches); only the time counts. */
	int spent = dummy_hash[0] && password
			    ? crypto_pwhash_str_verify(dummy_hash, password, strlen(password))
			    : -1;
	(void)spent;
	return pw_error_set(err, PW_ERR_AUTH, "the user name or the password is wrong");
}

pw_err pw_user_login(pw_db *db, const char *name, const char *password, pw_principal *out,
		     pw_error *err)
{
	memset(out, 0, sizeof *out);
	if (!name_ok(name) || !password || strlen(password) > PW_PASSWORD_MAX)
		return login_failed(password, err);
	if (sodium_init() < 0)
		return pw_error_set(err, PW_ERR_EXTERNAL, "libsodium could not be initialised");
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db, "SELECT id, role, password_hash, disabled FROM users WHERE name = ?",
			   &st, err, "t", name);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	const char *stored = row ? pw_stmt_text(st, 2) : NULL;
	if (!stored) {
		pw_stmt_reset(st);
		return login_failed(password, err);
	}
	char hash[crypto_pwhash_STRBYTES];
	snprintf(hash, sizeof hash, "%s", stored);
	int64_t id = pw_stmt_int(st, 0);
	bool role_ok = pw_role_parse(pw_stmt_text(st, 1), &out->role);
	bool disabled = pw_stmt_int(st, 3) != 0;
	pw_stmt_reset(st);
	if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0)
		return pw_error_set(err, PW_ERR_AUTH, "the user name or the password is wrong");
	if (disabled)
		return pw_error_set(err, PW_ERR_AUTH, "user \"%s\" is disabled", name);
	if (!role_ok)
		return pw_error_set(err, PW_ERR_AUTH, "user \"%s\" has an unknown role", name);
	unsigned long long ops;
	size_t mem;
	pwhash_cost(&ops, &mem);
	if (!pw_pwhash_fast() && crypto_pwhash_str_needs_rehash(hash, ops, mem) != 0) {
		char fresh[crypto_pwhash_STRBYTES];
		/* Best effort: the login stands even if the upgrade fails. */
		if (hash_password(password, fresh, NULL) == PW_OK &&
		    pw_sql(db,
			   "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
			   &st, NULL, "tit", fresh, id, hash) == PW_OK)
			(void)pw_stmt_exec(st, NULL);
		sodium_memzero(fresh, sizeof fresh);
	}
	sodium_memzero(hash, sizeof hash);
	out->user_id = id;
	snprintf(out->name, sizeof out->name, "%s", name);
	return PW_OK;
}

/* ---- API tokens ------------------------------------------------------ */

struct token_new {
	const char *actor, *user, *label;
	int64_t ttl;
	pw_token_row row;
};

static char *token_json(int64_t id, const char *user, const char *label, const char *expires,
			const char *revoked)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddNumberToObject(o, "id", (double)id) &&
		  cJSON_AddStringToObject(o, "user", user) &&
		  cJSON_AddStringToObject(o, "label", label) &&
		  (expires ? cJSON_AddStringToObject(o, "expires", expires)
			   : cJSON_AddNullToObject(o, "expires")) &&
		  (!revoked || cJSON_AddStringToObject(o, "revoked", revoked));
	char *s = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}

static char *token_record(pw_stmt *st, int64_t id, const char *revoked)
{
	return token_json(id, pw_stmt_text(st, 0), pw_stmt_text(st, 1), pw_stmt_text(st, 2),
			  revoked);
}

static const pw_token_kind api_tokens = {
	"API token",
	"token list",
	"token",
	"SELECT u.name, t.label, t.expires, t.revoked FROM api_tokens t"
	" JOIN users u ON u.id = t.user_id WHERE t.id = ?",
	"UPDATE api_tokens SET revoked = ? WHERE id = ?",
	token_record,
};

static pw_err token_create_txn(pw_db *db, void *arg, pw_error *err)
{
	struct token_new *t = arg;
	struct user_row u;
	pw_err rc = load_user(db, t->user, &u, err);
	if (rc)
		return rc;
	if (u.disabled)
		return pw_error_set(err, PW_ERR_INVALID,
				    "user \"%s\" is disabled; enable it before creating tokens",
				    t->user);
	char now[PW_TS_LEN], expires[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_ts_now(expires, t->ttl);
	pw_stmt *st;
	bool row = false;
	rc = pw_sql(db,
		    "INSERT INTO api_tokens (user_id, label, secret_hash, created, expires)"
		    " VALUES (?, ?, ?, ?, ?) RETURNING id",
		    &st, err, "itbtt", u.id, t->label, t->row.secret_hash,
		    (size_t)PW_SECRET_HASH_LEN, now, t->ttl ? expires : NULL);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	t->row.id = pw_stmt_int(st, 0);
	pw_stmt_reset(st);
	char *after = token_json(t->row.id, t->user, t->label, t->ttl ? expires : NULL, NULL);
	rc = pw_token_audit(db, &api_tokens, t->actor, "create", t->row.id, NULL, after, err);
	cJSON_free(after);
	return rc;
}

pw_err pw_api_token_create(pw_db *db, const char *actor, const char *user, const char *label,
			   int64_t ttl_seconds, char token[PW_API_TOKEN_MAX], int64_t *id,
			   pw_error *err)
{
	token[0] = '\0';
	pw_err rc = check_name(user, err);
	if (rc)
		return rc;
	if (!pw_text_ok(label, PW_LABEL_MAX))
		return pw_error_set(err, PW_ERR_INVALID,
				    "a token label needs 1 to %d printable characters",
				    PW_LABEL_MAX);
	if (ttl_seconds < 0 || ttl_seconds > 100LL * 366 * 86400)
		return pw_error_set(err, PW_ERR_INVALID,
				    "a token lifetime must be 0 (never expires) to 100 years, not "
				    "%" PRId64 " seconds",
				    ttl_seconds);
	struct token_new t = {actor, user, label, ttl_seconds, {NULL, 0}};
	return pw_token_issue(db, "pwt_", token_create_txn, &t, &t.row, token, PW_API_TOKEN_MAX, id,
			      err);
}

pw_err pw_api_token_revoke(pw_db *db, const char *actor, int64_t id, pw_error *err)
{
	return pw_token_revoke(db, &api_tokens, actor, id, err);
}

void pw_api_token_list_release(pw_api_token_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		pw_api_token *t = &l->v[i];
		free(t->user);
		free(t->label);
		free(t->created);
		free(t->expires);
		free(t->last_used);
		free(t->revoked);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static void api_token_fill(pw_stmt *st, void *item, bool *oom)
{
	pw_api_token *t = item;
	t->id = pw_stmt_int(st, 0);
	t->user = pw_col_dup(st, 1, oom);
	t->label = pw_col_dup(st, 2, oom);
	t->created = pw_col_dup(st, 3, oom);
	t->expires = pw_col_dup(st, 4, oom);
	t->last_used = pw_col_dup(st, 5, oom);
	t->revoked = pw_col_dup(st, 6, oom);
}

pw_err pw_api_token_list_all(pw_db *db, const char *user, pw_api_token_list *out, pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "SELECT t.id, u.name, t.label, t.created, t.expires, t.last_used,"
			   " t.revoked FROM api_tokens t JOIN users u ON u.id = t.user_id"
			   " WHERE u.name = ? OR CAST(? AS TEXT) IS NULL ORDER BY t.id",
			   &st, err, "tt", user, user);
	if (rc)
		return rc;
	void *v = out->v;
	rc = pw_rows_append(st, &v, &out->n, &out->cap, sizeof *out->v, api_token_fill,
			    "listing tokens", err);
	out->v = v;
	return rc;
}

pw_err pw_api_token_authenticate(pw_db *db, const char *token, pw_principal *out, pw_error *err)
{
	memset(out, 0, sizeof *out);
	int64_t id;
	const char *secret;
	if (!pw_token_split(token, "pwt_", &id, &secret))
		return pw_error_set(err, PW_ERR_AUTH,
				    "not an API token: expected pwt_<id>.<secret> as printed by "
				    "'patchwarden user token create'");
	pw_stmt *st;
	bool match;
	pw_err rc =
		pw_token_row_match(db,
				   "SELECT t.secret_hash, t.expires, t.revoked, t.last_used, u.id,"
				   " u.name, u.role, u.disabled FROM api_tokens t"
				   " JOIN users u ON u.id = t.user_id WHERE t.id = ?",
				   id, secret, &st, &match, err);
	if (rc)
		return rc;
	if (!match)
		return pw_error_set(err, PW_ERR_AUTH, "API token pwt_%" PRId64 " is not valid", id);
	char now[PW_TS_LEN], stale[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_ts_now(stale, -LAST_USED_EVERY);
	const char *expires = pw_stmt_text(st, 1), *revoked = pw_stmt_text(st, 2),
		   *last_used = pw_stmt_text(st, 3), *name = pw_stmt_text(st, 5);
	if (revoked)
		rc = pw_error_set(err, PW_ERR_AUTH, "API token pwt_%" PRId64 " was revoked at %s",
				  id, revoked);
	else if (expires && strcmp(expires, now) <= 0)
		rc = pw_error_set(err, PW_ERR_AUTH, "API token pwt_%" PRId64 " expired at %s", id,
				  expires);
	else if (pw_stmt_int(st, 7) != 0)
		rc = pw_error_set(err, PW_ERR_AUTH, "user \"%s\" is disabled", name ? name : "");
	else if (!pw_role_parse(pw_stmt_text(st, 6), &out->role) || !name ||
		 strlen(name) > PW_USER_NAME_MAX)
		rc = pw_error_set(err, PW_ERR_AUTH,
				  "the user of API token pwt_%" PRId64
				  " is malformed in the database",
				  id);
	bool touch = !rc && (!last_used || strcmp(last_used, stale) < 0);
	if (!rc) {
		out->user_id = pw_stmt_int(st, 4);
		snprintf(out->name, sizeof out->name, "%s", name);
		out->token_id = id;
	}
	pw_stmt_reset(st);
	if (rc) {
		memset(out, 0, sizeof *out);
		return rc;
	}
	return touch ? pw_token_touch(db, "UPDATE api_tokens SET last_used = ? WHERE id = ?", now,
				      id, err)
		     : PW_OK;
}

cJSON *pw_user_to_json(const pw_user *u)
{
	cJSON *o = cJSON_CreateObject();
	if (o && pw_json_add_int(o, "id", u->id) && pw_json_add_str(o, "name", u->name) &&
	    pw_json_add_str(o, "role", pw_role_name(u->role)) &&
	    cJSON_AddBoolToObject(o, "disabled", u->disabled) &&
	    cJSON_AddBoolToObject(o, "has_password", u->has_password) &&
	    pw_json_add_str(o, "created", u->created) && pw_json_add_str(o, "updated", u->updated))
		return o;
	cJSON_Delete(o);
	return NULL;
}

cJSON *pw_api_token_to_json(const pw_api_token *t)
{
	cJSON *o = cJSON_CreateObject();
	if (o && pw_json_add_int(o, "id", t->id) && pw_json_add_str(o, "user", t->user) &&
	    pw_json_add_str(o, "label", t->label) && pw_json_add_str(o, "created", t->created) &&
	    pw_json_add_str(o, "expires", t->expires) &&
	    pw_json_add_str(o, "last_used", t->last_used) &&
	    pw_json_add_str(o, "revoked", t->revoked))
		return o;
	cJSON_Delete(o);
	return NULL;
}
