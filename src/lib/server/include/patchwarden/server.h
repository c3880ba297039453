/* patchwarden's HTTP/JSON server: libmicrohttpd with an epoll thread
 * pool, TLS through libmicrohttpd's GnuTLS support, and the route table
 * of routes.h. Request handling is stateless (one database handle per
 * worker thread, opened on first use), so several nodes can serve one
 * fleet from one PostgreSQL database.
 *
 * Plain HTTP is refused unless allow_plain_http is set AND the listen
 * address is a loopback address (127.0.0.0/8 or ::1): agents and
 * operators send bearer secrets, which must not cross a network in clear. */
#ifndef PATCHWARDEN_SERVER_H
#define PATCHWARDEN_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/config.h"
#include "patchwarden/error.h"
#include "patchwarden/log.h"
#include "patchwarden/notify.h"
#include "patchwarden/policy_run.h"
#include "patchwarden/findings.h"
#include "patchwarden/routes.h"

/* Receives one complete line (no newline, escaped: log.h) and its level:
 * errors, the scheduler's work, and the access log when it is on. Called
 * from worker threads, one line per call, only for lines at or above
 * log_level. */
typedef void (*pw_server_log_fn)(void *ctx, pw_log_level level, const char *line);

typedef struct pw_server_config {
	const char *listen;         /* "ADDR:PORT" or "[IPv6]:PORT"; port 0: any free port */
	const char *tls_cert;       /* PEM file: certificate (chain); NULL or "": no TLS */
	const char *tls_key;        /* PEM file: its private key */
	const char *tls_priorities; /* GnuTLS priority string */
	bool allow_plain_http;      /* loopback addresses only */
	const char *db_url;         /* see db.h */
	long threads;               /* worker threads; 0: four per CPU core */
	long max_connections;
	long max_connections_per_ip; /* 0: no limit */
	long connection_timeout;     /* seconds a connection may sit idle */
	long request_timeout;        /* seconds for a request's headers and body, however slow */
	long shutdown_timeout;       /* seconds a stop waits for requests in progress */
	bool access_log;             /* one line per request */
	pw_api_settings api;
	/* [feeds], [policy], [scan]: the feed store findings are computed
	 * against, on a check-in that changes a host's inventory and, every
	 * recompute_interval seconds, when the store has a newer snapshot
	 * (one node at a time; "findings.recompute" audit event). */
	pw_findings_config feeds;
	/* [jobs] reboot_timeout: seconds a leased reboot job waits for its
	 * host to report back before the scheduler fails it (jobs.h). */
	long reboot_timeout;
	/* [jobs] deadline_interval: seconds between the scheduler's looks at
	 * the job deadlines, campaign expiries and the patch driver. */
	long deadline_interval;
	/* [notify]: where the notifier thread sends the outbox (notify.h). */
	pw_notify_config notify;
	/* [policy]'s run: the scheduler's daily run at daily_at, and the
	 * emergency path after each new feed snapshot (policy_run.h). */
	pw_policy_run_config policy_run;
	pw_server_log_fn log;
	void *log_ctx;
	pw_log_level log_level; /* [server] log_level; SIGHUP applies a change */
} pw_server_config;

#define PW_DEADLINE_INTERVAL_DEFAULT 15

/* One documented key of the [server] section. */
typedef struct pw_server_key {
	const char *name;
	const char *def; /* the default, as written in the file ("" for none) */
	const char *doc; /* one line */
	char type;       /* 's' text, 'i' whole number, 'b' true/false */
	long min, max;   /* 'i': the range accepted */
} pw_server_key;

/* Every key of [server], in documentation order. */
const pw_server_key *pw_server_keys(size_t *n);

/* The defaults (every key absent). Strings are static. */
void pw_server_config_defaults(pw_server_config *out);

/* Reads the [server] section over the defaults, and [feeds], [policy]
 * and [scan] (findings.h): an unknown key or a value of the wrong type or
 * range is PW_ERR_PARSE naming file:line. Strings point into `c`, which
 * must outlive *out. db_url is the `db` key (NULL when absent: the caller
 * decides; see schema.h). */
pw_err pw_server_config_load(const pw_config *c, pw_server_config *out, pw_error *err);

/* Everything that can be checked without starting: the listen address,
 * the plain-HTTP rule, TLS files present, readable and PEM. */
pw_err pw_server_config_check(const pw_server_config *cfg, pw_error *err);

typedef struct pw_server pw_server;

/* Checks the configuration, migrates the database (schema.h) and starts
 * serving in background threads. `cfg` is copied; its strings must stay
 * valid until pw_server_stop. */
pw_err pw_server_start(const pw_server_config *cfg, pw_server **out, pw_error *err);

/* The port actually bound (useful with port 0). */
unsigned pw_server_port(const pw_server *s);
/* The number of worker threads. */
unsigned pw_server_threads(const pw_server *s);
bool pw_server_tls(const pw_server *s);

/* SIGHUP: applies what can change without a restart. access_log at
 * once; with HTTPS, the certificate and key files are read again (a
 * renewal keeps their names) and, when GnuTLS takes them, a new daemon
 * takes over the listening socket while the old one finishes its
 * requests. On an error the server goes on as before (the message says
 * so); only when neither pair can be served again (PW_ERR_UNAVAILABLE)
 * is it left without a daemon, and the caller should stop it. `next`'s strings are not kept. */
pw_err pw_server_reload(pw_server *s, const pw_server_config *next, pw_error *err);

/* Stops accepting, lets requests in progress finish (at most
 * shutdown_timeout seconds), closes connections and database handles
 * and frees the server. NULL is fine. */
void pw_server_stop(pw_server *s);

/* Whether `listen` ("ADDR:PORT") names a loopback address. False for a
 * malformed address. */
bool pw_server_listen_is_loopback(const char *listen);

#endif
