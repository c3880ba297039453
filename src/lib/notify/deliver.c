/* The sending side of notify.h: one round over the due rows of the
 * outbox, by libcurl, outside any transaction so that a slow mail server
 * holds no database lock. */
#include "patchwarden/notify.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patchwarden/buf.h"
#include "patchwarden/clock.h"
#include "patchwarden/sql.h"
#include "patchwarden/users.h"

/* pw_db_try_lock's key: one node delivers at a time, so two nodes do
 * not send the same row. "pwnotify". */
#define NOTIFY_LOCK 0x70776e6f74696679LL

struct row {
	int64_t id, attempts;
	char *channel, *recipient, *subject, *body, *payload, *created, *link;
};

static void row_fill(pw_stmt *st, void *item, bool *oom)
{
	struct row *r = item;
	r->id = pw_stmt_int(st, 0);
	r->attempts = pw_stmt_int(st, 1);
	r->channel = pw_col_dup(st, 2, oom);
	r->recipient = pw_col_dup(st, 3, oom);
	r->subject = pw_col_dup(st, 4, oom);
	r->body = pw_col_dup(st, 5, oom);
	r->payload = pw_col_dup(st, 6, oom);
	r->created = pw_col_dup(st, 7, oom);
	r->link = pw_col_dup(st, 8, oom);
}

static void rows_free(struct row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].channel);
		free(v[i].recipient);
		free(v[i].subject);
		free(v[i].body);
		free(v[i].payload);
		free(v[i].created);
		free(v[i].link);
	}
	free(v);
}

struct upload {
	const char *p;
	size_t left;
};

static size_t read_cb(char *out, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb < u->left ? size * nmemb : u->left;
	memcpy(out, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

static size_t discard_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

/* The Subject as RFC 2047 encoded words of at most 45 bytes, each of
 * whole UTF-8 characters, so that no byte of it (a CR, an LF, non-ASCII)
 * reaches the header as itself. */
static bool encode_subject(pw_buf *b, const char *s)
{
	size_t n = strlen(s), i = 0;
	bool ok = !pw_buf_puts(b, "Subject:");
	do {
		size_t k = n - i < 45 ? n - i : 45;
		while (k > 1 && i + k < n && ((unsigned char)s[i + k] & 0xc0) == 0x80)
			k--;
		char enc[sodium_base64_ENCODED_LEN(45, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(enc, sizeof enc, (const unsigned char *)s + i, k,
				  sodium_base64_VARIANT_ORIGINAL);
		ok = ok && !pw_buf_printf(b, "%s=?UTF-8?B?%s?=", i ? "\r\n " : " ", enc);
		i += k;
	} while (ok && i < n);
	return ok && !pw_buf_puts(b, "\r\n");
}

bool pw_notify_message(pw_buf *b, const pw_notify_mail *m)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	char stamp[32] = "";
	size_t k = 0;
	for (const char *p = m->created; p && *p && k + 1 < sizeof stamp; p++)
		if (*p >= '0' && *p <= '9')
			stamp[k++] = *p;
	stamp[k] = '\0';
	bool ok =
		!pw_buf_printf(b,
			       "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\n"
			       "Message-ID: <patchwarden.%" PRId64 ".%s@%s>\r\n",
			       date, m->from, m->to, m->id, stamp, strchr(m->from, '@') + 1) &&
		encode_subject(b, m->subject) &&
		!pw_buf_puts(b,
			     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
			     "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n"
			     "\r\n");
	for (const char *p = m->body; ok && *p; p++)
		ok = *p == '\n' ? !pw_buf_puts(b, "\r\n") : *p == '\r' || !pw_buf_putc(b, *p);
	if (ok && m->url)
		ok = !pw_buf_printf(b, "\r\nIn the web console: %s\r\n", m->url);
	return ok && !pw_buf_puts(b, "\r\n");
}

static pw_err curl_failed(CURLcode code, const char *errbuf, pw_error *err)
{
	return pw_error_set(err, PW_ERR_UNAVAILABLE, "%s",
			    *errbuf ? errbuf : curl_easy_strerror(code));
}

/* What both channels set: the URL and only the protocols of the channel
 * (no redirect to file:// or elsewhere), no signals (a thread of the
 * server), the time limit and the error text. */
static void common(CURL *c, const char *url, const char *protocols, long timeout, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
}

/* The row's link on this node: NULL without public_url or link. */
static const char *row_url(const pw_notify_config *cfg, const struct row *r, char *out, size_t size)
{
	return cfg->public_url && r->link && pw_notify_url(cfg->public_url, r->link, out, size)
		       ? out
		       : NULL;
}

static pw_err send_email(const pw_notify_config *cfg, const struct row *r, pw_error *err)
{
	if (!pw_email_address_ok(r->recipient))
		return pw_error_set(err, PW_ERR_INVALID, "'%s' is not a plain address: not sent",
				    r->recipient ? r->recipient : "");
	pw_buf b = PW_BUF_INIT;
	char url[1024];
	pw_notify_mail m = {cfg->from,
			    r->recipient,
			    r->id,
			    r->created,
			    r->subject,
			    r->body,
			    row_url(cfg, r, url, sizeof url)};
	if (!pw_notify_message(&b, &m)) {
		pw_buf_release(&b);
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	CURL *c = curl_easy_init();
	char from[300], to[300], errbuf[CURL_ERROR_SIZE] = "";
	snprintf(from, sizeof from, "<%s>", cfg->from);
	snprintf(to, sizeof to, "<%s>", r->recipient);
	struct curl_slist *rcpt = curl_slist_append(NULL, to);
	struct upload u = {b.data, b.len};
	pw_err rc = PW_OK;
	if (!c || !rcpt) {
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	} else {
		common(c, cfg->smtp_url, "smtp,smtps", cfg->timeout, errbuf);
		curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
		curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, &u);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)b.len);
		if (cfg->smtp_starttls)
			curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
		if (cfg->smtp_ca)
			curl_easy_setopt(c, CURLOPT_CAINFO, cfg->smtp_ca);
		if (cfg->smtp_user) {
			curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp_user);
			curl_easy_setopt(c, CURLOPT_PASSWORD,
					 cfg->smtp_password ? cfg->smtp_password : "");
		}
		CURLcode code = curl_easy_perform(c);
		if (code != CURLE_OK)
			rc = curl_failed(code, errbuf, err);
	}
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	pw_buf_release(&b);
	return rc;
}

/* The payload with "url" added when the row has a link here; *out is
 * then freed by the caller with cJSON_free. */
static const char *webhook_body(const pw_notify_config *cfg, const struct row *r, char **out)
{
	char url[1024];
	*out = NULL;
	if (!row_url(cfg, r, url, sizeof url))
		return r->payload;
	cJSON *j = cJSON_Parse(r->payload);
	if (cJSON_IsObject(j) && !cJSON_GetObjectItemCaseSensitive(j, "url") &&
	    cJSON_AddStringToObject(j, "url", url))
		*out = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return *out ? *out : r->payload;
}

static pw_err send_webhook(const pw_notify_config *cfg, const struct row *r, pw_error *err)
{
	char sig[72], sigh[128], idh[64], *owned;
	const char *payload = webhook_body(cfg, r, &owned);
	size_t len = strlen(payload);
	pw_notify_sign(cfg->webhook_secret, payload, len, sig);
	snprintf(sigh, sizeof sigh, "X-Patchwarden-Signature: %s", sig);
	snprintf(idh, sizeof idh, "X-Patchwarden-Delivery: %" PRId64, r->id);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	h = h ? curl_slist_append(h, sigh) : NULL;
	h = h ? curl_slist_append(h, idh) : NULL;
	CURL *c = curl_easy_init();
	char errbuf[CURL_ERROR_SIZE] = "";
	pw_err rc = PW_OK;
	if (!c || !h) {
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	} else {
		common(c, cfg->webhook_url, "http,https", cfg->timeout, errbuf);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
		CURLcode code = curl_easy_perform(c);
		long status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (code != CURLE_OK)
			rc = curl_failed(code, errbuf, err);
		else if (status < 200 || status > 299)
			rc = pw_error_set(err, PW_ERR_UNAVAILABLE, "the webhook answered HTTP %ld",
					  status);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	cJSON_free(owned);
	return rc;
}

static pw_err mark(pw_db *db, const struct row *r, const char *state, const char *error,
		   const pw_notify_config *cfg, pw_error *err)
{
	char now[PW_TS_LEN], next[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_ts_now(next, pw_notify_backoff(r->attempts + 1, cfg->backoff_min, cfg->backoff_max));
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "UPDATE notify_outbox SET state = ?, attempts = attempts + 1,"
			   " last_error = ?, next_attempt = ?, sent = ? WHERE id = ?",
			   &st, err, "tttti", state, error, next,
			   strcmp(state, "sent") == 0 ? now : NULL, r->id);
	return rc ? rc : pw_stmt_exec(st, err);
}

static pw_err due(pw_db *db, const pw_notify_config *cfg, size_t limit, struct row **v, size_t *n,
		  pw_error *err)
{
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_stmt *st;
	size_t cap = 0;
	/* Mail waits for an smtp_url: set later, it sends what piled up. */
	pw_err rc =
		pw_sql(db,
		       "SELECT id, attempts, channel, recipient, subject, body, payload, created,"
		       " link FROM notify_outbox WHERE state = 'pending' AND next_attempt <= ?"
		       " AND (channel = 'webhook' OR ? = 1) ORDER BY id LIMIT ?",
		       &st, err, "tii", now, (int64_t)(cfg->smtp_url != NULL), (int64_t)limit);
	return rc ? rc
		  : pw_rows_append(st, (void **)v, n, &cap, sizeof **v, row_fill,
				   "reading the notification outbox", err);
}

pw_err pw_notify_deliver(pw_db *db, const pw_notify_config *cfg, size_t limit,
			 pw_notify_stats *stats, pw_error *err)
{
	memset(stats, 0, sizeof *stats);
	bool got = false;
	pw_err rc = pw_db_try_lock(db, NOTIFY_LOCK, &got, err);
	if (rc || !got)
		return rc;
	struct row *v = NULL;
	size_t n = 0;
	rc = due(db, cfg, limit, &v, &n, err);
	for (size_t i = 0; i < n && !rc; i++) {
		pw_error e = PW_ERROR_INIT;
		pw_err src;
		const char *state = "pending";
		if (strcmp(v[i].channel, "email") == 0) {
			src = send_email(cfg, &v[i], &e);
		} else if (!cfg->webhook_url) {
			src = pw_error_set(&e, PW_ERR_INVALID, "no [notify] webhook_url: dropped");
		} else {
			src = send_webhook(cfg, &v[i], &e);
		}
		if (!src) {
			state = "sent";
			stats->sent++;
		} else if (src == PW_ERR_INVALID) {
			state = "dropped";
			stats->dropped++;
		} else {
			stats->failed++;
		}
		rc = mark(db, &v[i], state, src ? pw_error_text(&e) : NULL, cfg, err);
	}
	rows_free(v, n);
	pw_error e2 = PW_ERROR_INIT;
	pw_db_unlock(db, NOTIFY_LOCK, rc ? &e2 : err);
	return rc;
}
