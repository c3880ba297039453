/* Notifications (issue 14): email by SMTP and webhooks, through an
 * outbox. A message is written to the notify_outbox table by
 * pw_notify_enqueue inside the transaction of the event that causes it,
 * so a rolled-back step sends nothing and a committed one cannot lose
 * its message. The server's notifier thread (server/notifier.c) calls
 * pw_notify_deliver at its cadence: each due row is sent, and stays
 * (attempts, last_error, an exponential backoff) until it is. A mail
 * server that is down delays mail; it loses none.
 *
 * Email: libcurl's SMTP (STARTTLS when smtp_starttls or an smtps://
 * URL, AUTH with smtp_user and smtp_password), an RFC 5322 message with
 * Date, Message-ID (the row's, so a resend after a crash is recognisable),
 * From, To and an RFC 2047 encoded Subject. Addresses are checked before
 * they are stored and again before they are sent, so no header can be
 * injected (pw_email_address_ok, users.h). Webhooks: the JSON payload POSTed to webhook_url with
 * X-Patchwarden-Signature: sha256=HEX, the HMAC-SHA256 of the body under
 * webhook_secret (libsodium).
 *
 * Links: each message names the console page where its recipient acts
 * (a path such as "/actions", stored with the row). The node that sends
 * it makes the link from its [server] public_url, so a message written
 * by the CLI gets the same link, and a server without public_url sends
 * the command alone. */
#ifndef PATCHWARDEN_NOTIFY_H
#define PATCHWARDEN_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/buf.h"
#include "patchwarden/config.h"
#include "patchwarden/db.h"
#include "patchwarden/error.h"

/* [notify] of the configuration file. Strings point into the pw_config. */
typedef struct pw_notify_config {
	const char *smtp_url;      /* smtp://HOST:PORT or smtps://; NULL: no email */
	const char *smtp_user;     /* AUTH; NULL: none */
	const char *smtp_password; /* AUTH */
	bool smtp_starttls;        /* require STARTTLS on smtp:// */
	const char *smtp_ca;       /* PEM CA bundle for the SMTP server; NULL: the system's */
	const char *from;          /* the sender's address */
	const char *webhook_url;   /* NULL: webhook rows are dropped */
	const char *webhook_secret;
	long interval;          /* seconds between the notifier's rounds */
	long timeout;           /* seconds one delivery may take */
	long backoff_min;       /* seconds: the wait after the first failed attempt */
	long backoff_max;       /* seconds: the longest wait between two attempts */
	const char *public_url; /* [server] public_url, checked; NULL: no links */
} pw_notify_config;

pw_err pw_notify_config_load(const pw_config *c, pw_notify_config *out, pw_error *err);

/* Who a message is for: users of these roles (bits 1 << pw_role) that
 * have an email address, `user` by name when set (an owner field), and
 * for `owner_group` the user of that name (a team's address) and the
 * users named as app_owner of the group's hosts in service. */
typedef struct pw_notify_to {
	unsigned roles;
	const char *user;
	const char *owner_group;
} pw_notify_to;

/* Writes one email row per distinct address found and one webhook row,
 * in the caller's transaction. `event` ("campaign.waiting"), `subject`
 * (one line), `body` (what to do and the command that does it),
 * `payload` (a JSON object as text, the webhook body) and `link` (the
 * console page where the recipient does it, a path accepted by
 * pw_notify_path_ok; NULL: none). */
pw_err pw_notify_enqueue(pw_db *db, const char *event, const pw_notify_to *to, const char *subject,
			 const char *body, const char *payload, const char *link, pw_error *err);

/* Whether a [server] public_url is one links can start with: http:// or
 * https://, a host, an optional path, no query, fragment, space, quote
 * or control character. */
bool pw_notify_public_url_ok(const char *url);

/* Whether path is a console path of a link: a single leading '/', then
 * only unreserved characters, '/', '?', '=', '&' and %-escapes (user
 * text goes through pw_notify_path_escape first). */
bool pw_notify_path_ok(const char *path);

/* Appends s %-escaped: every byte but the unreserved ones (RFC 3986). */
pw_err pw_notify_path_escape(pw_buf *b, const char *s);

/* The link: public_url (without its trailing '/') followed by path, in
 * out. False when either is not acceptable or it does not fit. */
bool pw_notify_url(const char *public_url, const char *path, char *out, size_t size);

typedef struct pw_notify_stats {
	size_t sent, failed, dropped;
} pw_notify_stats;

/* Sends the due rows (at most `limit`): each success is marked sent, a
 * failure keeps its row with the error and the next attempt's time.
 * Rows of a channel that is not configured stay pending (email) or are
 * dropped (webhook without a URL), as the row's last_error says. */
pw_err pw_notify_deliver(pw_db *db, const pw_notify_config *cfg, size_t limit, pw_notify_stats *st,
			 pw_error *err);

/* The seconds to wait after `attempts` failed attempts: `min` doubled
 * for each one after the first, at most `max`. */
long pw_notify_backoff(int64_t attempts, long min, long max);

/* One mail as sent: from and to are plain addresses (users.h), id and
 * created the outbox row's (the Message-ID), url the link (pw_notify_url;
 * NULL: none). */
typedef struct pw_notify_mail {
	const char *from, *to;
	int64_t id;
	const char *created, *subject, *body, *url;
} pw_notify_mail;

/* Appends the RFC 5322 message: Date, From, To, Message-ID, the Subject
 * as RFC 2047 encoded words of at most 45 bytes of whole UTF-8
 * characters, MIME headers, a blank line, then the body with each LF as
 * CRLF and CRs left out (libcurl escapes a leading dot), and the link on
 * a line of its own after "In the web console: ". False when out
 * of memory. fuzz/fuzz_notify_message.c checks that no subject or body
 * adds a header line. */
bool pw_notify_message(pw_buf *b, const pw_notify_mail *m);

/* The X-Patchwarden-Signature value ("sha256=" + 64 hex) of body. */
void pw_notify_sign(const char *secret, const char *body, size_t len, char out[72]);

#endif
