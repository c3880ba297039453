/* People and scripts that use the server: users with one role each,
 * Argon2id password hashes (libsodium crypto_pwhash_str), and API tokens
 * for scripts. Every change runs in its own write transaction together
 * with its audit event (audit.h), recorded under the caller's `actor`
 * ("cli:root", "user:alice"). Secrets never reach the audit log. */
#ifndef PATCHWARDEN_USERS_H
#define PATCHWARDEN_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/db.h"
#include "patchwarden/error.h"

struct cJSON;

/* DESIGN.md §3. Append only: the names are stored. */
typedef enum pw_role {
	PW_ROLE_ADMIN = 0, /* everything, including users */
	PW_ROLE_OPERATOR,  /* runs patch campaigns */
	PW_ROLE_APP_OWNER, /* accepts or declines patches for their applications */
	PW_ROLE_MANAGER,   /* signs off risk acceptances */
	PW_ROLE_HELPDESK,  /* is notified, reads status */
	PW_ROLE_AUDITOR,   /* reads everything, changes nothing */
	PW_ROLE__COUNT
} pw_role;

/* "admin", "operator", "app-owner", "manager", "helpdesk", "auditor". */
const char *pw_role_name(pw_role r);
/* False for an unknown name. */
bool pw_role_parse(const char *name, pw_role *out);

/* User names: 1..64 of [a-z0-9._-], starting with a letter or digit. */
#define PW_USER_NAME_MAX 64
/* Passwords: 8..1024 bytes. */
#define PW_PASSWORD_MIN 8
#define PW_PASSWORD_MAX 1024

/* Who is calling, once authenticated. */
typedef struct pw_principal {
	int64_t user_id;
	char name[PW_USER_NAME_MAX + 1];
	pw_role role;
	int64_t token_id; /* the API token used; 0 after a password login */
} pw_principal;

/* Adds a user. `password` NULL: no password login (API tokens only).
 * An existing name is PW_ERR_INVALID. *id may be NULL. */
pw_err pw_user_add(pw_db *db, const char *actor, const char *name, pw_role role,
		   const char *password, int64_t *id, pw_error *err);
/* Sets (or with NULL removes) the password. */
pw_err pw_user_set_password(pw_db *db, const char *actor, const char *name, const char *password,
			    pw_error *err);
/* Changing the role of, or disabling, the last enabled admin is refused
 * (PW_ERR_INVALID), so the server always has someone who can manage it.
 * Disabling a user also stops their API tokens. */
pw_err pw_user_set_role(pw_db *db, const char *actor, const char *name, pw_role role,
			pw_error *err);
pw_err pw_user_set_disabled(pw_db *db, const char *actor, const char *name, bool disabled,
			    pw_error *err);

/* The address notifications go to (notify.h); NULL removes it. A plain
 * addr-spec only (pw_email_address_ok), else PW_ERR_INVALID. */
pw_err pw_user_set_email(pw_db *db, const char *actor, const char *name, const char *email,
			 pw_error *err);
/* Whether `addr` is local@domain of printable ASCII without spaces,
 * angle brackets, quotes, commas or control bytes: nothing a mail header
 * or an SMTP command could be split on. */
bool pw_email_address_ok(const char *addr);

typedef struct pw_user {
	int64_t id;
	char *name;
	pw_role role;
	bool disabled;
	bool has_password;
	char *created, *updated;
} pw_user;

/* {"id", "name", "role", "disabled", "has_password", "created",
 * "updated"}: `user list --json` and GET /api/v1/users. NULL when out of
 * memory. */
struct cJSON *pw_user_to_json(const pw_user *u);

typedef struct pw_user_list {
	pw_user *v;
	size_t n, cap;
} pw_user_list;

/* clang-format off */
#define PW_USER_LIST_INIT {NULL, 0, 0}
/* clang-format on */

/* Appends every user to `out`, by name. */
pw_err pw_user_list_all(pw_db *db, pw_user_list *out, pw_error *err);
void pw_user_list_release(pw_user_list *l);

/* Checks a password login. A wrong name, a wrong password and a user
 * without a password all give the same PW_ERR_AUTH (and take the same
 * time); a disabled user is PW_ERR_AUTH saying so. A hash made with
 * weaker parameters than the current ones is upgraded on success. */
pw_err pw_user_login(pw_db *db, const char *name, const char *password, pw_principal *out,
		     pw_error *err);

/* Argon2id cost. Interactive (libsodium's OPSLIMIT/MEMLIMIT_INTERACTIVE,
 * ~64 MiB) unless the environment has PATCHWARDEN_PWHASH=fast in a test
 * build (CMake option PW_TEST_HOOKS, on in the default, asan and fuzz
 * presets the test suites use, off in the release preset and a plain
 * configure), which uses the minimum parameters. Elsewhere the variable
 * is ignored and this is always false. */
bool pw_pwhash_fast(void);

/* API tokens: "pwt_<id>.<64 hex>", shown once at creation; the database
 * keeps a SHA-256 of the secret part, so a lookup costs no Argon2. */
#define PW_API_TOKEN_MAX 96

/* `ttl_seconds` 0: never expires. `token` receives the full token. */
pw_err pw_api_token_create(pw_db *db, const char *actor, const char *user, const char *label,
			   int64_t ttl_seconds, char token[PW_API_TOKEN_MAX], int64_t *id,
			   pw_error *err);
pw_err pw_api_token_revoke(pw_db *db, const char *actor, int64_t id, pw_error *err);

typedef struct pw_api_token {
	int64_t id;
	char *user, *label, *created;
	char *expires, *last_used, *revoked; /* NULL when not set */
} pw_api_token;

/* {"id", "user", "label", "created", "expires", "last_used", "revoked"}:
 * `user token list --json`. NULL when out of memory. */
struct cJSON *pw_api_token_to_json(const pw_api_token *t);

typedef struct pw_api_token_list {
	pw_api_token *v;
	size_t n, cap;
} pw_api_token_list;

/* clang-format off */
#define PW_API_TOKEN_LIST_INIT {NULL, 0, 0}
/* clang-format on */

/* Appends the tokens of `user` (every user's when NULL) to `out`, by id. */
pw_err pw_api_token_list_all(pw_db *db, const char *user, pw_api_token_list *out, pw_error *err);
void pw_api_token_list_release(pw_api_token_list *l);

/* Checks a bearer token (constant-time comparison of the secret's
 * hash): malformed, unknown, wrong, revoked, expired, or belonging to a
 * disabled user is PW_ERR_AUTH. Records the last use (at most once a
 * minute, so busy scripts do not write on every call). */
pw_err pw_api_token_authenticate(pw_db *db, const char *token, pw_principal *out, pw_error *err);

#endif
