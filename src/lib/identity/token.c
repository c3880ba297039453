#include "patchwarden/token.h"
#include "patchwarden/audit.h"
#include "patchwarden/clock.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

pw_err pw_secret_new(char out[PW_SECRET_HEX + 1], pw_error *err)
{
	if (sodium_init() < 0)
		return pw_error_set(err, PW_ERR_EXTERNAL,
				    "libsodium could not be initialised (no random source?)");
	unsigned char raw[PW_SECRET_HEX / 2];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(out, PW_SECRET_HEX + 1, raw, sizeof raw);
	sodium_memzero(raw, sizeof raw);
	return PW_OK;
}

void pw_secret_hash(const char *secret, unsigned char out[PW_SECRET_HASH_LEN])
{
	crypto_hash_sha256(out, (const unsigned char *)secret, strlen(secret));
}

bool pw_secret_matches(const void *stored, size_t stored_len, const char *secret)
{
	unsigned char h[PW_SECRET_HASH_LEN];
	pw_secret_hash(secret, h);
	bool ok = stored && stored_len == sizeof h && sodium_memcmp(stored, h, sizeof h) == 0;
	sodium_memzero(h, sizeof h);
	return ok;
}

bool pw_secret_matches_col(pw_stmt *st, bool row, int col, const char *secret)
{
	size_t len = 0;
	const void *stored = row ? pw_stmt_blob(st, col, &len) : NULL;
	return pw_secret_matches(stored, len, secret);
}

pw_err pw_token_issue(pw_db *db, const char *prefix, pw_txn_fn fn, void *arg, pw_token_row *row,
		      char *token, size_t token_size, int64_t *id, pw_error *err)
{
	char secret[PW_SECRET_HEX + 1];
	pw_err rc = pw_secret_new(secret, err);
	if (rc)
		return rc;
	unsigned char h[PW_SECRET_HASH_LEN];
	pw_secret_hash(secret, h);
	row->secret_hash = h;
	rc = pw_in_write_txn(db, fn, arg, err);
	row->secret_hash = NULL;
	if (!rc) {
		snprintf(token, token_size, "%s%" PRId64 ".%s", prefix, row->id, secret);
		if (id)
			*id = row->id;
	}
	sodium_memzero(secret, sizeof secret);
	return rc;
}

/* Leaves *st on the row of token `id` when it can be revoked. */
static pw_err revocable(pw_db *db, const pw_token_kind *k, int64_t id, pw_stmt **st, pw_error *err)
{
	bool row = false;
	pw_err rc = pw_sql(db, k->select, st, err, "i", id);
	if (!rc)
		rc = pw_stmt_step(*st, &row, err);
	if (rc)
		return rc;
	if (!row)
		return pw_error_set(err, PW_ERR_NOTFOUND,
				    "there is no %s %" PRId64 "; see 'patchwarden user %s'",
				    k->what, id, k->list);
	if (!pw_stmt_is_null(*st, 3)) {
		pw_error_set(err, PW_ERR_INVALID, "%s %" PRId64 " was revoked already at %s",
			     k->what, id, pw_stmt_text(*st, 3));
		pw_stmt_reset(*st);
		return PW_ERR_INVALID;
	}
	return PW_OK;
}

pw_err pw_token_audit(pw_db *db, const pw_token_kind *k, const char *actor, const char *verb,
		      int64_t id, const char *before, const char *after, pw_error *err)
{
	if (!after)
		return pw_error_set(err, PW_ERR_NOMEM, "auditing a %s: out of memory", k->what);
	char target[64], action[64];
	snprintf(target, sizeof target, "%s:%" PRId64, k->target, id);
	snprintf(action, sizeof action, "%s.%s", k->target, verb);
	return pw_audit_append(db, actor, action, target, before, after, NULL, err);
}

struct revoke {
	const pw_token_kind *k;
	const char *actor;
	int64_t id;
};

static pw_err revoke_txn(pw_db *db, void *arg, pw_error *err)
{
	const struct revoke *r = arg;
	pw_stmt *st;
	pw_err rc = revocable(db, r->k, r->id, &st, err);
	if (rc)
		return rc;
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	char *before = r->k->record(st, r->id, NULL);
	char *after = r->k->record(st, r->id, now);
	pw_stmt_reset(st);
	rc = before ? pw_sql(db, r->k->update, &st, err, "ti", now, r->id)
		    : pw_error_set(err, PW_ERR_NOMEM, "revoking a %s: out of memory", r->k->what);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (!rc)
		rc = pw_token_audit(db, r->k, r->actor, "revoke", r->id, before, after, err);
	cJSON_free(before);
	cJSON_free(after);
	return rc;
}

pw_err pw_token_revoke(pw_db *db, const pw_token_kind *k, const char *actor, int64_t id,
		       pw_error *err)
{
	struct revoke r = {k, actor, id};
	return pw_in_write_txn(db, revoke_txn, &r, err);
}

pw_err pw_token_touch(pw_db *db, const char *update, const char *now, int64_t id, pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(db, update, &st, err, "ti", now, id);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (rc == PW_ERR_UNAVAILABLE) {
		pw_error_set(err, PW_OK, "%s", "");
		rc = PW_OK;
	}
	return rc;
}

bool pw_token_split(const char *token, const char *prefix, int64_t *id, const char **secret)
{
	size_t plen = strlen(prefix);
	if (!token || strncmp(token, prefix, plen) != 0)
		return false;
	const char *p = token + plen;
	int64_t v = 0;
	size_t digits = 0;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (digits == 0 || v == 0 || *p != '.')
		return false;
	p++;
	size_t n = 0;
	for (; p[n]; n++) {
		if (!((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'f')))
			return false;
	}
	if (n != PW_SECRET_HEX)
		return false;
	*id = v;
	*secret = p;
	return true;
}

pw_err pw_token_row_match(pw_db *db, const char *sql, int64_t id, const char *secret, pw_stmt **st,
			  bool *match, pw_error *err)
{
	bool row = false;
	*match = false;
	pw_err rc = pw_sql(db, sql, st, err, "i", id);
	if (!rc)
		rc = pw_stmt_step(*st, &row, err);
	if (rc)
		return rc;
	*match = pw_secret_matches_col(*st, row, 0, secret);
	if (!*match)
		pw_stmt_reset(*st);
	return PW_OK;
}
