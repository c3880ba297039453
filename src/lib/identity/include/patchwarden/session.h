/* Browser sessions (the web console): the token module's fourth kind,
 * "pws_<id>.<64 hex>" in a cookie, stored in the database (a SHA-256 of
 * the secret, like API tokens) so every server node honours them. Each
 * session has its own CSRF token, which the console's forms carry and
 * the server compares with the stored one. Logins are audited, failures
 * too, and a user name with too many failures in a row is locked out
 * for a while (on every node: the count is in the users table). */
#ifndef PATCHWARDEN_SESSION_H
#define PATCHWARDEN_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/token.h"
#include "patchwarden/users.h"

#define PW_SESSION_MAX 96

/* The [server] keys session_idle, session_lifetime, login_failures and
 * login_lockout (server.c). */
typedef struct pw_session_limits {
	int64_t idle;     /* seconds without a request before the session ends */
	int64_t absolute; /* seconds after the login when it ends regardless */
	int64_t failures; /* failed logins in a row that lock a user name out */
	int64_t lockout;  /* seconds the lockout lasts */
} pw_session_limits;

/* clang-format off */
#define PW_SESSION_LIMITS_DEFAULT {1800, 43200, 5, 900}
/* clang-format on */

typedef struct pw_session {
	int64_t id;
	pw_principal user;
	char csrf[PW_SECRET_HEX + 1];
} pw_session;

/* A password login from `client` (an address, for the audit log): on
 * success a new session (its token in `token`, the rest in *out) and the
 * user's failure count cleared; "session.create" is audited. A failure
 * is PW_ERR_AUTH, audited as "login.fail" (the reason in the record,
 * never the password); a locked-out name is PW_ERR_AUTH saying until
 * when, without checking the password. */
pw_err pw_session_login(pw_db *db, const char *name, const char *password, const char *client,
			const pw_session_limits *lim, char token[PW_SESSION_MAX], pw_session *out,
			pw_error *err);

/* Checks a session token: malformed, unknown, wrong, ended, idle for
 * longer than lim->idle, past its absolute expiry, or of a disabled
 * user is PW_ERR_AUTH. Records the use (at most once a minute). */
pw_err pw_session_check(pw_db *db, const char *token, const pw_session_limits *lim, pw_session *out,
			pw_error *err);

/* Ends session `id` (logout), audited as "session.revoke". */
pw_err pw_session_end(pw_db *db, const char *actor, int64_t id, pw_error *err);

/* A form's CSRF token against the session's, in constant time; NULL or
 * a wrong length never matches. */
bool pw_session_csrf_ok(const pw_session *s, const char *given);

#endif
