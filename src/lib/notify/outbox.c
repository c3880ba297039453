/* The outbox side of notify.h: configuration, addresses, enqueueing. */
#include "patchwarden/notify.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/clock.h"
#include "patchwarden/grow.h"
#include "patchwarden/sql.h"
#include "patchwarden/users.h"

pw_err pw_notify_config_load(const pw_config *c, pw_notify_config *out, pw_error *err)
{
	static const char *const known[] = {
		"smtp_url", "smtp_user", "smtp_password", "smtp_starttls",
		"smtp_ca",  "from",      "webhook_url",   "webhook_secret",
		"interval", "timeout",   "backoff_min",   "backoff_max",
		NULL};
	memset(out, 0, sizeof *out);
	pw_err rc = c ? pw_config_check_keys(c, "notify", known, err) : PW_OK;
	const char **strs[] = {&out->smtp_url,      &out->smtp_user, &out->smtp_password,
			       &out->smtp_ca,       &out->from,      &out->webhook_url,
			       &out->webhook_secret};
	const char *names[] = {"smtp_url", "smtp_user",   "smtp_password", "smtp_ca",
			       "from",     "webhook_url", "webhook_secret"};
	for (size_t i = 0; c && i < sizeof strs / sizeof strs[0]; i++) {
		const char *v = pw_config_get(c, "notify", names[i]);
		*strs[i] = v && *v ? v : NULL;
	}
	if (!rc)
		rc = pw_config_get_bool(c, "notify", "smtp_starttls", false, &out->smtp_starttls,
					err);
	if (!rc)
		rc = pw_config_get_int(c, "notify", "interval", 30, &out->interval, err);
	if (!rc)
		rc = pw_config_get_int(c, "notify", "timeout", 30, &out->timeout, err);
	if (!rc)
		rc = pw_config_get_int(c, "notify", "backoff_min", 30, &out->backoff_min, err);
	if (!rc)
		rc = pw_config_get_int(c, "notify", "backoff_max", 3600, &out->backoff_max, err);
	if (rc)
		return rc;
	if (out->interval < 1 || out->interval > 86400 || out->timeout < 1 || out->timeout > 600 ||
	    out->backoff_min < 1 || out->backoff_max < out->backoff_min || out->backoff_max > 86400)
		return pw_error_set(err, PW_ERR_PARSE,
				    "[notify]: interval must be 1 to 86400 seconds, timeout 1 to "
				    "600, backoff_min 1 to backoff_max, backoff_max at most 86400");
	if (out->smtp_url && strncmp(out->smtp_url, "smtp://", 7) != 0 &&
	    strncmp(out->smtp_url, "smtps://", 8) != 0)
		return pw_error_set(err, PW_ERR_PARSE,
				    "[notify] smtp_url = '%s': give smtp://HOST:PORT or "
				    "smtps://HOST:PORT",
				    out->smtp_url);
	if (out->webhook_url && strncmp(out->webhook_url, "http://", 7) != 0 &&
	    strncmp(out->webhook_url, "https://", 8) != 0)
		return pw_error_set(err, PW_ERR_PARSE,
				    "[notify] webhook_url = '%s': give an http:// or https:// URL",
				    out->webhook_url);
	if (out->smtp_url && (!out->from || !pw_email_address_ok(out->from)))
		return pw_error_set(err, PW_ERR_PARSE,
				    "[notify] smtp_url is set: give `from` a plain address "
				    "(local@domain), the sender of the mail");
	if (out->webhook_url && !out->webhook_secret)
		return pw_error_set(err, PW_ERR_PARSE,
				    "[notify] webhook_url is set: give webhook_secret, the key the "
				    "receiver checks X-Patchwarden-Signature with");
	return PW_OK;
}

void pw_notify_sign(const char *secret, const char *body, size_t len, char out[72])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	const char *key = secret ? secret : "";
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, 72 - 7, mac, sizeof mac);
}

long pw_notify_backoff(int64_t attempts, long min, long max)
{
	long wait = min;
	for (int64_t i = 1; i < attempts && wait < max; i++)
		wait *= 2;
	return wait < max ? wait : max;
}

/* Unreserved characters (RFC 3986): the bytes a link carries as themselves. */
static bool unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static bool hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool pw_notify_path_ok(const char *path)
{
	if (!path || path[0] != '/' || path[1] == '/' || strlen(path) > 512)
		return false;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p == '%' ? !hex(p[1]) || !hex(p[2]) : !unreserved(*p) && !strchr("/?=&", *p))
			return false;
		if (*p == '/' && p[1] == '/')
			return false;
	}
	return true;
}

pw_err pw_notify_path_escape(pw_buf *b, const char *s)
{
	pw_err rc = PW_OK;
	for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++)
		rc = unreserved(*p) ? pw_buf_putc(b, (char)*p) : pw_buf_printf(b, "%%%02X", *p);
	return rc;
}

bool pw_notify_public_url_ok(const char *url)
{
	size_t skip = !url                           ? 0
		      : !strncmp(url, "https://", 8) ? 8
		      : !strncmp(url, "http://", 7)  ? 7
						     : 0;
	if (!skip || !url[skip] || url[skip] == '/' || strlen(url) > 256)
		return false;
	for (const unsigned char *p = (const unsigned char *)url + skip; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"'<>\\^`{|}?#", *p))
			return false;
	return true;
}

bool pw_notify_url(const char *public_url, const char *path, char *out, size_t size)
{
	if (!pw_notify_public_url_ok(public_url) || !pw_notify_path_ok(path))
		return false;
	size_t n = strlen(public_url);
	while (n && public_url[n - 1] == '/')
		n--;
	int w = snprintf(out, size, "%.*s%s", (int)n, public_url, path);
	return w > 0 && (size_t)w < size;
}

static pw_err insert(pw_db *db, const char *now, const char *event, const char *channel,
		     const char *to, const char *subject, const char *body, const char *payload,
		     const char *link, pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "INSERT INTO notify_outbox (created, event, channel, recipient, subject,"
			   " body, payload, next_attempt, link) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			   &st, err, "ttttttttt", now, event, channel, to, subject, body, payload,
			   now, link);
	return rc ? rc : pw_stmt_exec(st, err);
}

/* The addresses of `to`, without repeats; *n of them in *v (freed by the
 * caller with each string). */
static pw_err addresses(pw_db *db, const pw_notify_to *to, char ***v, size_t *n, pw_error *err)
{
	pw_stmt *st;
	pw_err rc =
		pw_sql(db,
		       "SELECT email, role, name, CASE WHEN name = ? OR name IN (SELECT app_owner"
		       " FROM hosts WHERE owner_group = ? AND decommissioned IS NULL) THEN 1"
		       " ELSE 0 END FROM users WHERE disabled = 0 AND email IS NOT NULL"
		       " ORDER BY email",
		       &st, err, "tt", to->owner_group, to->owner_group);
	bool row = false;
	size_t cap = 0;
	while (!rc && !(rc = pw_stmt_step(st, &row, err)) && row) {
		const char *email = pw_stmt_text(st, 0);
		pw_role r;
		bool wanted = (pw_role_parse(pw_stmt_text(st, 1), &r) && (to->roles & (1u << r))) ||
			      (to->user && strcmp(to->user, pw_stmt_text(st, 2)) == 0) ||
			      pw_stmt_int(st, 3) != 0;
		if (!wanted || !pw_email_address_ok(email) ||
		    (*n && strcmp((*v)[*n - 1], email) == 0))
			continue;
		char **g = pw_grow(*v, &cap, *n, sizeof **v);
		if (!g)
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		*v = g;
		if (!((*v)[*n] = strdup(email)))
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		(*n)++;
	}
	return rc;
}

pw_err pw_notify_enqueue(pw_db *db, const char *event, const pw_notify_to *to, const char *subject,
			 const char *body, const char *payload, const char *link, pw_error *err)
{
	if (link && !pw_notify_path_ok(link))
		return pw_error_set(err, PW_ERR_INVALID,
				    "'%s' is not a console path a link can carry: escape its text "
				    "with pw_notify_path_escape",
				    link);
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	char **v = NULL;
	size_t n = 0;
	pw_err rc = addresses(db, to, &v, &n, err);
	for (size_t i = 0; i < n && !rc; i++)
		rc = insert(db, now, event, "email", v[i], subject, body, payload, link, err);
	if (!rc)
		rc = insert(db, now, event, "webhook", NULL, subject, body, payload, link, err);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return rc;
}
