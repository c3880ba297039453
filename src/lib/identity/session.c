#include "patchwarden/session.h"
#include "patchwarden/audit.h"
#include "patchwarden/clock.h"
#include "patchwarden/jsonout.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Seconds between two records of a session's last request. */
#define LAST_SEEN_EVERY 60

static char *session_record(pw_stmt *st, int64_t id, const char *revoked)
{
	(void)id;
	cJSON *o = cJSON_CreateObject();
	bool ok = o && pw_json_add_str(o, "user", pw_stmt_text(st, 0)) &&
		  pw_json_add_str(o, "client", pw_stmt_text(st, 1)) &&
		  pw_json_add_str(o, "expires", pw_stmt_text(st, 2)) &&
		  (!revoked || cJSON_AddStringToObject(o, "revoked", revoked));
	char *s = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}

static const pw_token_kind sessions = {
	"session",
	"session list",
	"session",
	"SELECT u.name, s.client, s.expires, s.revoked FROM sessions s"
	" JOIN users u ON u.id = s.user_id WHERE s.id = ?",
	"UPDATE sessions SET revoked = ? WHERE id = ?",
	session_record,
};

/* Audits a refused login; `name` goes to the record only (the target is
 * the user when the name is one, so `audit list` finds it). */
static pw_err audit_failure(pw_db *db, const char *name, int64_t user_id, const char *client,
			    const char *reason, pw_error *err)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && pw_json_add_str(o, "name", name) && pw_json_add_str(o, "client", client) &&
		  pw_json_add_str(o, "reason", reason);
	char *after = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!after)
		return pw_error_set(err, PW_ERR_NOMEM, "auditing a failed login: out of memory");
	char target[48];
	if (user_id)
		snprintf(target, sizeof target, "user:%" PRId64, user_id);
	else
		snprintf(target, sizeof target, "user:?");
	pw_err rc = pw_audit_append(db, "web:anonymous", "login.fail", target, NULL, after, NULL,
				    err);
	cJSON_free(after);
	return rc;
}

struct login {
	const char *name, *client, *reason;
	bool locked;
	const pw_session_limits *lim;
	int64_t user_id;
	bool ok;
	pw_session *out;
	pw_token_row row;
};

static pw_err failure_txn(pw_db *db, void *arg, pw_error *err)
{
	const struct login *l = arg;
	pw_err rc = PW_OK;
	/* Attempts while locked out only go to the audit log: counting them
	 * would let anyone keep a user out for ever by trying once in a while. */
	if (l->user_id && !l->locked) {
		char until[PW_TS_LEN];
		pw_ts_now(until, l->lim->lockout);
		pw_stmt *st;
		rc = pw_sql(db,
			    "UPDATE users SET failed_logins = failed_logins + 1,"
			    " locked_until = CASE WHEN failed_logins + 1 >= ? THEN ?"
			    " ELSE locked_until END WHERE id = ?",
			    &st, err, "iti", l->lim->failures, until, l->user_id);
		if (!rc)
			rc = pw_stmt_exec(st, err);
	}
	if (!rc)
		rc = audit_failure(db, l->name, l->user_id, l->client, l->reason, err);
	return rc;
}

static pw_err session_txn(pw_db *db, void *arg, pw_error *err)
{
	struct login *l = arg;
	char now[PW_TS_LEN], expires[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_ts_now(expires, l->lim->absolute);
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db,
			   "INSERT INTO sessions (user_id, secret_hash, csrf, client, created,"
			   " last_seen, expires) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
			   &st, err, "ibttttt", l->user_id, l->row.secret_hash,
			   (size_t)PW_SECRET_HASH_LEN, l->out->csrf, l->client, now, now, expires);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	l->row.id = pw_stmt_int(st, 0);
	pw_stmt_reset(st);
	rc = pw_sql(db, "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", &st,
		    err, "i", l->user_id);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	cJSON *o = cJSON_CreateObject();
	bool ok = o && pw_json_add_str(o, "user", l->name) &&
		  pw_json_add_str(o, "client", l->client) && pw_json_add_str(o, "expires", expires);
	char *after = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	char actor[PW_USER_NAME_MAX + 8];
	snprintf(actor, sizeof actor, "user:%s", l->name);
	if (!rc)
		rc = pw_token_audit(db, &sessions, actor, "create", l->row.id, NULL, after, err);
	cJSON_free(after);
	return rc;
}

/* The user's id and lockout, 0 for a name that is no user. */
static pw_err lockout(pw_db *db, const char *name, int64_t *id, char until[PW_TS_LEN],
		      pw_error *err)
{
	pw_stmt *st;
	bool row = false;
	*id = 0;
	until[0] = '\0';
	pw_err rc = pw_sql(db, "SELECT id, locked_until FROM users WHERE name = ?", &st, err, "t",
			   name);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc || !row)
		return rc;
	*id = pw_stmt_int(st, 0);
	const char *u = pw_stmt_text(st, 1);
	if (u)
		snprintf(until, PW_TS_LEN, "%s", u);
	pw_stmt_reset(st);
	return PW_OK;
}

pw_err pw_session_login(pw_db *db, const char *name, const char *password, const char *client,
			const pw_session_limits *lim, char token[PW_SESSION_MAX], pw_session *out,
			pw_error *err)
{
	token[0] = '\0';
	memset(out, 0, sizeof *out);
	struct login l = {name ? name : "", client ? client : "-", NULL, false, lim, 0, false, out,
			  {NULL, 0}};
	char until[PW_TS_LEN], now[PW_TS_LEN];
	pw_err rc = lockout(db, l.name, &l.user_id, until, err);
	if (rc)
		return rc;
	pw_ts_now(now, 0);
	pw_error why = PW_ERROR_INIT;
	if (until[0] && strcmp(until, now) > 0) {
		l.reason = "locked out";
		l.locked = true;
		pw_error_set(&why, PW_ERR_AUTH,
			     "too many failed logins for this user name: try again after %s, or "
			     "ask an administrator ('patchwarden user passwd')",
			     until);
	} else {
		rc = pw_user_login(db, l.name, password, &out->user, &why);
		if (rc == PW_OK) {
			rc = pw_secret_new(out->csrf, err);
			if (!rc)
				rc = pw_token_issue(db, "pws_", session_txn, &l, &l.row, token,
						    PW_SESSION_MAX, &out->id, err);
			if (rc)
				memset(out, 0, sizeof *out);
			return rc;
		}
		if (rc != PW_ERR_AUTH) {
			*err = why;
			return rc;
		}
		l.reason = why.msg;
	}
	rc = pw_in_write_txn(db, failure_txn, &l, err);
	if (rc)
		return rc;
	*err = why;
	return PW_ERR_AUTH;
}

pw_err pw_session_check(pw_db *db, const char *token, const pw_session_limits *lim, pw_session *out,
			pw_error *err)
{
	memset(out, 0, sizeof *out);
	int64_t id;
	const char *secret;
	if (!pw_token_split(token, "pws_", &id, &secret))
		return pw_error_set(err, PW_ERR_AUTH, "not a session: log in again");
	pw_stmt *st;
	bool match;
	pw_err rc = pw_token_row_match(db,
				       "SELECT s.secret_hash, s.csrf, s.last_seen, s.expires, "
				       "s.revoked, u.id, u.name, u.role, u.disabled FROM sessions s"
				       " JOIN users u ON u.id = s.user_id WHERE s.id = ?",
				       id, secret, &st, &match, err);
	if (rc)
		return rc;
	if (!match)
		return pw_error_set(err, PW_ERR_AUTH, "the session is not valid: log in again");
	char now[PW_TS_LEN], idle[PW_TS_LEN], stale[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_ts_now(idle, -lim->idle);
	pw_ts_now(stale, -LAST_SEEN_EVERY);
	const char *csrf = pw_stmt_text(st, 1), *last_seen = pw_stmt_text(st, 2),
		   *expires = pw_stmt_text(st, 3), *name = pw_stmt_text(st, 6);
	if (!pw_stmt_is_null(st, 4))
		rc = pw_error_set(err, PW_ERR_AUTH, "you logged out: log in again");
	else if (!expires || strcmp(expires, now) <= 0)
		rc = pw_error_set(err, PW_ERR_AUTH, "the session expired: log in again");
	else if (!last_seen || strcmp(last_seen, idle) < 0)
		rc = pw_error_set(err, PW_ERR_AUTH,
				  "the session ended after %" PRId64
				  " minutes without use: log in again",
				  lim->idle / 60);
	else if (pw_stmt_int(st, 8) != 0)
		rc = pw_error_set(err, PW_ERR_AUTH, "user \"%s\" is disabled", name ? name : "");
	else if (!pw_role_parse(pw_stmt_text(st, 7), &out->user.role) || !name ||
		 strlen(name) > PW_USER_NAME_MAX || !csrf || strlen(csrf) != PW_SECRET_HEX)
		rc = pw_error_set(err, PW_ERR_AUTH, "session %" PRId64 " is malformed", id);
	bool touch = !rc && strcmp(last_seen, stale) < 0;
	if (!rc) {
		out->id = id;
		out->user.user_id = pw_stmt_int(st, 5);
		snprintf(out->user.name, sizeof out->user.name, "%s", name);
		snprintf(out->csrf, sizeof out->csrf, "%s", csrf);
	}
	pw_stmt_reset(st);
	if (rc) {
		memset(out, 0, sizeof *out);
		return rc;
	}
	return touch ? pw_token_touch(db, "UPDATE sessions SET last_seen = ? WHERE id = ?", now, id,
				      err)
		     : PW_OK;
}

pw_err pw_session_end(pw_db *db, const char *actor, int64_t id, pw_error *err)
{
	return pw_token_revoke(db, &sessions, actor, id, err);
}

bool pw_session_csrf_ok(const pw_session *s, const char *given)
{
	return given && s->csrf[0] && strlen(given) == PW_SECRET_HEX &&
	       sodium_memcmp(given, s->csrf, PW_SECRET_HEX) == 0;
}
