#include "auth_internal.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void pw_ts_now(char out[PW_TS_LEN], int64_t plus_seconds)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	time_t t = ts.tv_sec + (time_t)plus_seconds;
	struct tm tm;
	gmtime_r(&t, &tm);
	/* Years past 9999 would widen the text and break its ordering. */
	if (tm.tm_year > 9999 - 1900) {
		memcpy(out, "9999-12-31T23:59:59.999Z", PW_TS_LEN);
		return;
	}
	/* The compiler cannot see that struct tm's fields are in range. */
	char buf[80];
	snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ts.tv_nsec / 1000000));
	memcpy(out, buf, PW_TS_LEN - 1);
	out[PW_TS_LEN - 1] = '\0';
}

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

pw_err pw_token_revocable(pw_db *db, const char *sql, int64_t id, const char *what,
			  const char *list, pw_stmt **st, pw_error *err)
{
	bool row = false;
	pw_err rc = pw_sql(db, sql, st, err, "i", id);
	if (!rc)
		rc = pw_stmt_step(*st, &row, err);
	if (rc)
		return rc;
	if (!row)
		return pw_error_set(err, PW_ERR_NOTFOUND,
				    "there is no %s %" PRId64 "; see 'patchwarden user %s'", what, id,
				    list);
	if (!pw_stmt_is_null(*st, 3)) {
		pw_error_set(err, PW_ERR_INVALID, "%s %" PRId64 " was revoked already at %s", what,
			     id, pw_stmt_text(*st, 3));
		pw_stmt_reset(*st);
		return PW_ERR_INVALID;
	}
	return PW_OK;
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

bool pw_word_ok(const char *s, size_t max)
{
	if (!s || !*s)
		return false;
	size_t n = 0;
	for (; s[n]; n++) {
		if (n >= max || s[n] <= ' ' || s[n] > '~')
			return false;
	}
	return true;
}

bool pw_text_ok(const char *s, size_t max)
{
	if (!s || !*s)
		return false;
	size_t n = 0;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];
		if (n >= max || c < ' ' || c == 0x7f)
			return false;
	}
	return true;
}

pw_err pw_json_compact(const char *json, const char *what, char **out, pw_error *err)
{
	*out = NULL;
	if (!json)
		return PW_OK;
	const char *end = NULL;
	cJSON *v = cJSON_ParseWithOpts(json, &end, true);
	if (!v) {
		size_t at = end ? (size_t)(end - json) : 0;
		return pw_error_set(err, PW_ERR_PARSE, "%s is not valid JSON (at byte %zu)", what,
				    at);
	}
	char *text = cJSON_PrintUnformatted(v);
	cJSON_Delete(v);
	if (!text)
		return pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", what);
	/* Callers free() it like every other string, whatever allocator
	 * cJSON was given. */
	*out = strdup(text);
	cJSON_free(text);
	if (!*out)
		return pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", what);
	return PW_OK;
}

pw_err pw_in_write_txn(pw_db *db, pw_txn_fn fn, void *arg, pw_error *err)
{
	pw_err rc = pw_db_begin_immediate(db, err);
	if (rc)
		return rc;
	rc = fn(db, arg, err);
	if (!rc)
		rc = pw_db_commit(db, err);
	if (rc)
		pw_db_rollback(db);
	return rc;
}

pw_err pw_sql(pw_db *db, const char *sql, pw_stmt **out, pw_error *err, const char *types, ...)
{
	pw_stmt *st = NULL;
	pw_err rc = pw_db_prepare(db, sql, &st, err);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, types);
	for (int i = 0; types[i] && !rc; i++) {
		if (types[i] == 't') {
			rc = pw_stmt_bind_text(st, i + 1, va_arg(ap, const char *));
		} else if (types[i] == 'i') {
			rc = pw_stmt_bind_int(st, i + 1, va_arg(ap, int64_t));
		} else {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			rc = pw_stmt_bind_blob(st, i + 1, p, n);
		}
	}
	va_end(ap);
	if (rc)
		return pw_error_set(err, rc, "binding parameters of \"%.60s\" failed", sql);
	*out = st;
	return PW_OK;
}

pw_err pw_sql_int(pw_stmt *st, int64_t *out, pw_error *err)
{
	bool row = false;
	pw_err rc = pw_stmt_step(st, &row, err);
	if (!rc && row)
		*out = pw_stmt_int(st, 0);
	if (!rc)
		pw_stmt_reset(st);
	return rc;
}

void *pw_grow(void *v, size_t *cap, size_t n, size_t elem)
{
	if (v && n < *cap)
		return v;
	size_t ncap = *cap ? *cap * 2 : 16;
	if (ncap > SIZE_MAX / elem)
		return NULL;
	void *p = realloc(v, ncap * elem);
	if (p)
		*cap = ncap;
	return p;
}

pw_err pw_rows_append(pw_stmt *st, void **v, size_t *n, size_t *cap, size_t elem,
		      pw_row_fill fill, const char *what, pw_error *err)
{
	for (;;) {
		bool row = false;
		pw_err rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			return rc;
		char *grown = pw_grow(*v, cap, *n, elem);
		if (!grown)
			break;
		*v = grown;
		bool oom = false;
		fill(st, grown + elem * (*n)++, &oom);
		if (oom)
			break;
	}
	pw_stmt_reset(st);
	return pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", what);
}

char *pw_col_dup(pw_stmt *st, int col, bool *oom)
{
	const char *s = pw_stmt_text(st, col);
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}
