/* The HTTP transport of the API: libmicrohttpd in epoll thread-pool
 * mode. A request is routed as soon as its headers are in, so an unknown
 * path, a body over the route's limit (by Content-Length, or while it
 * streams in) and a missing or wrong credential are answered without
 * storing the body. Everything else is routes.c's. */
#include "patchwarden/server.h"
#include "patchwarden/web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "patchwarden/buf.h"
#include "patchwarden/fileio.h"
#include "patchwarden/grow.h"
#include "patchwarden/jobs.h"
#include "patchwarden/log.h"
#include "patchwarden/metrics.h"
#include "patchwarden/schema.h"

#include "server-internal.h"

/* ---- configuration ----------------------------------------------------- */

static const pw_server_key keys[] = {
	{"listen", "0.0.0.0:8443",
	 "address and port to listen on: ADDR:PORT or [IPv6]:PORT (numeric; port 0 picks a free "
	 "one)",
	 's', 0, 0},
	{"tls_cert", "", "PEM certificate (leaf first, then intermediates) served over HTTPS", 's',
	 0, 0},
	{"tls_key", "", "PEM private key of tls_cert (unencrypted; keep it mode 0600)", 's', 0, 0},
	{"tls_priorities", "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
	 "GnuTLS priority string: protocol versions and ciphers offered", 's', 0, 0},
	{"allow_plain_http", "false",
	 "without tls_cert, serve plain HTTP; refused unless listen is a loopback address", 'b', 0,
	 0},
	{"db", PW_SERVER_DB_DEFAULT,
	 "database: sqlite:PATH, PATH, or postgresql://... (one PostgreSQL for many nodes); "
	 "$PATCHWARDEN_DB and --db take precedence",
	 's', 0, 0},
	{"threads", "0",
	 "worker threads, each with its own database connection; 0: four per CPU core", 'i', 0,
	 256},
	{"max_connections", "4096", "open connections at most; more wait in the listen queue", 'i',
	 1, 1000000},
	{"max_connections_per_ip", "64",
	 "open connections from one client address at most; 0: no limit (behind a proxy on this "
	 "machine every client is the proxy's address: raise it or use 0)",
	 'i', 0, 1000000},
	{"connection_timeout", "30", "seconds before an idle or stalled connection is closed", 'i',
	 1, 3600},
	{"request_timeout", "120",
	 "seconds a client has to send a request's headers and body (from its connection, or "
	 "from its previous reply) before the connection is closed, however steadily it sends",
	 'i', 1, 86400},
	{"shutdown_timeout", "10",
	 "seconds a stop (SIGTERM) waits for requests in progress before closing connections", 'i',
	 0, 3600},
	{"access_log", "false", "log one line per request to standard error (the journal)", 'b', 0,
	 0},
	{"log_level", "info",
	 "lowest level logged: err, warning, notice, info or debug (access lines are info)", 's', 0,
	 0},
	{"checkin_interval", "900", "seconds between agent check-ins, told to the agents", 'i', 10,
	 7 * 86400},
	{"job_lease", "7200",
	 "seconds a handed-out job waits for its result before it is handed out again", 'i', 60,
	 30 * 86400},
	{"json_max_depth", "32", "deepest nesting of arrays and objects accepted in a request body",
	 'i', 2, 1000},
	{"json_max_string", "65536",
	 "longest string accepted in a request body, in bytes (job outputs included)", 'i', 256,
	 64L << 20},
	{"public_url", "",
	 "the console's address as its users reach it (https://patch.example.org): the start of "
	 "the links in notifications; empty: messages give the command only",
	 's', 0, 0},
	{"inflated_max", "33554432",
	 "bytes a gzip check-in body (Content-Encoding: gzip) may inflate to; more is a 413", 'i',
	 65536, 1L << 30},
	{"session_idle", "1800",
	 "seconds a web console session may go without a request before it ends", 'i', 60, 86400},
	{"session_lifetime", "43200",
	 "seconds after a web console login when its session ends however busy (not below "
	 "session_idle)",
	 'i', 300, 30 * 86400},
	{"login_failures", "5",
	 "failed web console logins in a row that lock a user name out for login_lockout", 'i', 1,
	 1000},
	{"login_lockout", "900",
	 "seconds a locked-out user name is refused, even with the right password", 'i', 1,
	 7 * 86400},
};

#define N_KEYS (sizeof keys / sizeof keys[0])

const pw_server_key *pw_server_keys(size_t *n)
{
	*n = N_KEYS;
	return keys;
}

static const pw_server_key *key(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static pw_err get_str(const pw_config *c, const char *name, const char **out)
{
	const pw_server_key *k = key(name);
	const char *v = c ? pw_config_get(c, "server", name) : NULL;
	if (!v)
		v = k->def;
	*out = *v ? v : NULL;
	return PW_OK;
}

static pw_err get_long(const pw_config *c, const char *name, long *out, pw_error *err)
{
	const pw_server_key *k = key(name);
	pw_err rc = pw_config_get_int(c, "server", name, strtol(k->def, NULL, 10), out, err);
	if (rc)
		return rc;
	if (*out < k->min || *out > k->max)
		return pw_error_set(err, PW_ERR_PARSE,
				    "[server] %s = %ld is out of range: use %ld to %ld (%s)", name,
				    *out, k->min, k->max, k->doc);
	return PW_OK;
}

static pw_err get_bool(const pw_config *c, const char *name, bool *out, pw_error *err)
{
	return pw_config_get_bool(c, "server", name, strcmp(key(name)->def, "true") == 0, out, err);
}

static pw_err get_level(const pw_config *c, pw_log_level *out, pw_error *err)
{
	const char *v = NULL;
	get_str(c, "log_level", &v);
	if (v && pw_log_level_parse(v, out))
		return PW_OK;
	return pw_error_set(err, PW_ERR_PARSE,
			    "[server] log_level = '%s': use err, warning, notice, info or debug",
			    v ? v : "");
}

/* One [jobs] key of seconds from lo to hi; `what` says what it is. */
static pw_err jobs_seconds(const pw_config *c, const char *key, long def, long lo, long hi,
			   const char *what, long *out, pw_error *err)
{
	pw_err rc = pw_config_get_int(c, "jobs", key, def, out, err);
	if (!rc && (*out < lo || *out > hi))
		rc = pw_error_set(err, PW_ERR_PARSE,
				  "[jobs] %s = %ld is out of range: use %ld to %ld (%s)", key, *out,
				  lo, hi, what);
	return rc;
}

/* [jobs]: reboot_timeout (seconds, 60 to a day), deadline_interval
 * (seconds, 1 to 900). */
static pw_err jobs_config_load(const pw_config *c, pw_server_config *out, pw_error *err)
{
	static const char *const known[] = {"reboot_timeout", "deadline_interval", NULL};
	pw_err rc = c ? pw_config_check_keys(c, "jobs", known, err) : PW_OK;
	if (!rc)
		rc = jobs_seconds(c, "reboot_timeout", PW_JOB_REBOOT_TIMEOUT, 60, 86400,
				  "seconds a reboot job waits for its host to report back",
				  &out->reboot_timeout, err);
	if (!rc)
		rc = jobs_seconds(c, "deadline_interval", PW_DEADLINE_INTERVAL_DEFAULT, 1, 900,
				  "seconds between looks at job deadlines and campaigns",
				  &out->deadline_interval, err);
	return rc;
}

pw_err pw_server_config_load(const pw_config *c, pw_server_config *out, pw_error *err)
{
	memset(out, 0, sizeof *out);
	const char *known[N_KEYS + 1];
	for (size_t i = 0; i < N_KEYS; i++)
		known[i] = keys[i].name;
	known[N_KEYS] = NULL;
	/* Every command reads the same file, each its sections: the server
	 * (and -n) checks that no section is outside them all. */
	static const char *const sections[] = {"server", "feeds", "jobs",     "policy", "scan",
					       "sync",   "agent", "source *", "notify", NULL};
	pw_err rc = c ? pw_config_check_sections(c, sections, err) : PW_OK;
	if (!rc && c)
		rc = pw_config_check_keys(c, "server", known, err);
	long depth = 0, string = 0, inflated = 0;
	if (rc || (rc = get_str(c, "listen", &out->listen)) ||
	    (rc = get_str(c, "tls_cert", &out->tls_cert)) ||
	    (rc = get_str(c, "tls_key", &out->tls_key)) ||
	    (rc = get_str(c, "tls_priorities", &out->tls_priorities)) ||
	    (rc = get_bool(c, "allow_plain_http", &out->allow_plain_http, err)) ||
	    (rc = get_long(c, "threads", &out->threads, err)) ||
	    (rc = get_long(c, "max_connections", &out->max_connections, err)) ||
	    (rc = get_long(c, "max_connections_per_ip", &out->max_connections_per_ip, err)) ||
	    (rc = get_long(c, "connection_timeout", &out->connection_timeout, err)) ||
	    (rc = get_long(c, "request_timeout", &out->request_timeout, err)) ||
	    (rc = get_long(c, "shutdown_timeout", &out->shutdown_timeout, err)) ||
	    (rc = get_bool(c, "access_log", &out->access_log, err)) ||
	    (rc = get_level(c, &out->log_level, err)) ||
	    (rc = get_long(c, "checkin_interval", &out->api.checkin_interval, err)) ||
	    (rc = get_long(c, "job_lease", &out->api.job_lease, err)) ||
	    (rc = get_long(c, "json_max_depth", &depth, err)) ||
	    (rc = get_long(c, "json_max_string", &string, err)) ||
	    (rc = get_long(c, "inflated_max", &inflated, err)) ||
	    (rc = get_long(c, "session_idle", &out->api.session.idle, err)) ||
	    (rc = get_long(c, "session_lifetime", &out->api.session.absolute, err)) ||
	    (rc = get_long(c, "login_failures", &out->api.session.failures, err)) ||
	    (rc = get_long(c, "login_lockout", &out->api.session.lockout, err)) ||
	    (rc = pw_findings_config_load(c, &out->feeds, err)) ||
	    (rc = jobs_config_load(c, out, err)) ||
	    (rc = pw_notify_config_load(c, &out->notify, err)) ||
	    (rc = pw_policy_run_config_load(c, &out->policy_run, err)))
		return rc;
	if (out->api.session.absolute < out->api.session.idle)
		return pw_error_set(err, PW_ERR_PARSE,
				    "[server] session_lifetime = %" PRId64
				    " is below session_idle = %" PRId64
				    ": a session would end before it could go idle; raise "
				    "session_lifetime",
				    out->api.session.absolute, out->api.session.idle);
	const char *url = NULL;
	get_str(c, "public_url", &url);
	if (url && !pw_notify_public_url_ok(url))
		return pw_error_set(err, PW_ERR_PARSE,
				    "[server] public_url = '%s': give an http:// or https:// URL "
				    "without query, fragment, spaces or quotes "
				    "(https://patch.example.org)",
				    url);
	out->notify.public_url = url;
	out->db_url = c ? pw_config_get(c, "server", "db") : NULL;
	out->api.json.max_depth = (unsigned)depth;
	out->api.json.max_string = (size_t)string;
	out->api.inflated_max = (size_t)inflated;
	out->api.feed_store = out->feeds.store;
	out->api.stale_checkins = out->feeds.stale_checkins;
	for (int p = 0; p < PW_PRIO__COUNT && p < 4; p++)
		out->api.sla_days[p] = out->feeds.policy.sla_days[p];
	return PW_OK;
}

void pw_server_config_defaults(pw_server_config *out)
{
	/* The key table is the one place defaults are written; an empty
	 * configuration cannot fail to load. */
	pw_server_config_load(NULL, out, NULL);
}

/* "ADDR:PORT" or "[IPv6]:PORT", numeric only. */
static bool parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port;
	memset(ss, 0, sizeof *ss);
	if (!s)
		return false;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host)
			return false;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		port = end + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof host)
			return false;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		port = colon + 1;
	}
	if (!*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
		return false;
	long p = strtol(port, NULL, 10);
	if (p > 65535)
		return false;
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (s[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		*len = sizeof *v4;
		return true;
	}
	if (s[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		*len = sizeof *v6;
		return true;
	}
	return false;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;
		return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
	}
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;
	if (IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) && v6->sin6_addr.s6_addr[12] == 127;
}

bool pw_server_listen_is_loopback(const char *listen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	return parse_listen(listen, &ss, &len) && is_loopback(&ss);
}

static pw_err read_pem(const char *path, const char *what, pw_buf *out, pw_error *err)
{
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_read_file(path, out, 1 << 20, &e);
	if (rc)
		return pw_error_set(err, rc, "%s %s: %s", what, path, pw_error_text(&e));
	if (!strstr(pw_buf_str(out), "-----BEGIN "))
		return pw_error_set(err, PW_ERR_PARSE,
				    "%s %s is not in PEM format (no -----BEGIN line)", what, path);
	return PW_OK;
}

/* The key of every connection's TLS: only the server's user may read it. */
static pw_err check_key_mode(const char *path, pw_error *err)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return pw_error_set(err, PW_ERR_IO, "TLS key %s: %s", path, strerror(errno));
	if (st.st_mode & 077)
		return pw_error_set(err, PW_ERR_INVALID,
				    "TLS key %s is open to other users (mode %04o); chmod 600 it, "
				    "owned by the user the server runs as",
				    path, (unsigned)(st.st_mode & 07777));
	return PW_OK;
}

/* libmicrohttpd's messages, kept to name the cause when it refuses. */
struct mhd_msg {
	char text[256];
};

static void keep_mhd_msg(void *cls, const char *fmt, va_list ap)
{
	struct mhd_msg *m = cls;
	if (m->text[0]) /* the first message is the cause; the rest follow from it */
		return;
	vsnprintf(m->text, sizeof m->text, fmt, ap);
	m->text[strcspn(m->text, "\r\n")] = '\0';
}

static enum MHD_Result no_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	(void)cls;
	(void)conn;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)req_cls;
	return MHD_NO;
}

/* Whether GnuTLS takes the pair and the priority string, as the daemon
 * will: a daemon without a socket loads them and is stopped at once, so
 * -n finds a key of another certificate too. */
static pw_err check_tls_pair(const pw_server_config *cfg, const char *cert, const char *keytext,
			     pw_error *err)
{
	struct mhd_msg m = {{0}};
	struct MHD_Daemon *d =
		MHD_start_daemon(MHD_USE_TLS | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG, 0,
				 NULL, NULL, no_request, NULL, MHD_OPTION_EXTERNAL_LOGGER,
				 keep_mhd_msg, &m, MHD_OPTION_HTTPS_MEM_CERT, cert,
				 MHD_OPTION_HTTPS_MEM_KEY, keytext, MHD_OPTION_HTTPS_PRIORITIES,
				 cfg->tls_priorities ? cfg->tls_priorities : "NORMAL",
				 MHD_OPTION_END);
	if (d) {
		MHD_stop_daemon(d);
		return PW_OK;
	}
	if (strstr(m.text, "do not match"))
		return pw_error_set(err, PW_ERR_INVALID,
				    "TLS key %s does not match the certificate %s (the key of "
				    "another certificate?)",
				    cfg->tls_key, cfg->tls_cert);
	return pw_error_set(err, PW_ERR_INVALID, "TLS certificate %s with key %s: %s",
			    cfg->tls_cert, cfg->tls_key,
			    m.text[0] ? m.text : "libmicrohttpd cannot use them");
}

static bool tls_wanted(const pw_server_config *cfg)
{
	return (cfg->tls_cert && *cfg->tls_cert) || (cfg->tls_key && *cfg->tls_key);
}

/* Reads the TLS files when TLS is configured (cert/key may be NULL: only
 * checked). */
static pw_err check(const pw_server_config *cfg, pw_buf *cert, pw_buf *keybuf, pw_error *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (!parse_listen(cfg->listen, &ss, &len))
		return pw_error_set(
			err, PW_ERR_INVALID,
			"listen address '%s' is not ADDR:PORT or [IPv6]:PORT with a numeric "
			"address and a port from 0 to 65535",
			cfg->listen ? cfg->listen : "");
	if (!cfg->db_url || !*cfg->db_url)
		return pw_error_set(err, PW_ERR_INVALID, "no database given (db, --db)");
	if (!tls_wanted(cfg)) {
		if (!cfg->allow_plain_http)
			return pw_error_set(
				err, PW_ERR_INVALID,
				"no TLS certificate: set tls_cert and tls_key (or "
				"--tls-cert/--tls-key); plain HTTP needs allow_plain_http = true "
				"and a loopback listen address");
		if (!is_loopback(&ss))
			return pw_error_set(
				err, PW_ERR_INVALID,
				"plain HTTP is allowed on loopback addresses only (127.0.0.0/8, "
				"[::1]), not on %s: set tls_cert and tls_key, or put a TLS "
				"proxy in front and listen on 127.0.0.1",
				cfg->listen);
		return PW_OK;
	}
	if (!cfg->tls_cert || !*cfg->tls_cert || !cfg->tls_key || !*cfg->tls_key)
		return pw_error_set(
			err, PW_ERR_INVALID,
			"TLS needs both tls_cert and tls_key (--tls-cert and --tls-key)");
	pw_buf a = PW_BUF_INIT, b = PW_BUF_INIT;
	pw_err rc = read_pem(cfg->tls_cert, "TLS certificate", cert ? cert : &a, err);
	if (!rc)
		rc = read_pem(cfg->tls_key, "TLS key", keybuf ? keybuf : &b, err);
	if (!rc)
		rc = check_key_mode(cfg->tls_key, err);
	if (!rc)
		rc = check_tls_pair(cfg, pw_buf_str(cert ? cert : &a),
				    pw_buf_str(keybuf ? keybuf : &b), err);
	pw_buf_release(&a);
	pw_buf_release(&b);
	return rc;
}

pw_err pw_server_config_check(const pw_server_config *cfg, pw_error *err)
{
	return check(cfg, NULL, NULL, err);
}

/* ---- the server -------------------------------------------------------- */

struct pw_server {
	pw_server_config cfg;
	struct MHD_Daemon *d;
	unsigned threads;
	unsigned port;
	bool tls;
	pw_buf cert, key;
	/* One database handle per worker thread: opened on first use,
	 * closed when the server stops. */
	pthread_key_t db_key;
	pthread_mutex_t pool_lock;
	pw_db **dbs;
	size_t n_dbs, cap_dbs;
	/* SQLite: writers of this process take turns here instead of in
	 * SQLite's busy handler, which sleeps. */
	bool sqlite;
	pthread_mutex_t write_lock;
	struct pw_scheduler *sched;   /* scheduler.c */
	struct pw_notifier *notifier; /* notifier.c */
	/* Open connections, for the watchdog that closes those whose request
	 * is not in by request_timeout: connection_timeout alone lets a
	 * client that sends a byte now and then hold a connection forever. */
	pthread_mutex_t conn_lock;
	struct conn *conns;
	struct pw_worker watchdog;
	/* While the daemon starts: its first message, the cause if it fails. */
	struct mhd_msg start_msg;
	bool starting;
	pw_metrics *metrics;
};

/* A connection, from accept to close (MHD_OPTION_NOTIFY_CONNECTION). */
struct conn {
	struct conn *prev, *next;
	MHD_socket fd;
	/* Since when it has been waiting for a request's headers and body:
	 * its accept, then each reply's end; receiving is false from a
	 * request's last body byte to its reply's end (handlers are not cut). */
	struct timespec since;
	bool receiving;
	bool cut;
};

#define MAX_QUERY 16
/* A body streamed (chunked) past its limit is read and dropped up to
 * this much, so the client gets its 413; beyond, the connection is cut. */
#define DROP_MAX (16u << 20)
#define LOG_PATH_MAX 200

struct request {
	struct conn *conn; /* NULL when it could not be tracked (out of memory) */
	const pw_route *route;
	pw_route_args args;
	pw_api_identity who;
	pw_buf body;
	/* An answer found before the body (answer_early): sent when the
	 * request ends, the body read and dropped meanwhile. */
	pw_api_response early;
	bool has_early;
	bool responded;
	bool close;     /* the body's framing is in doubt: nothing more is read */
	bool web;       /* a console page (web.h), not an API route */
	size_t dropped; /* body bytes read past the limit */
	int status;
	size_t bytes;
	struct timespec t0;
	char method[8];
	char path[LOG_PATH_MAX];
	char client[INET6_ADDRSTRLEN];
};

struct query {
	pw_query_param v[MAX_QUERY];
	size_t n;
	bool overflow;
};

/* Every line goes out escaped (log.h): paths, addresses and messages
 * quote what clients sent. */
static void emit(struct pw_server *s, pw_log_level level, const char *line)
{
	if (level > (pw_log_level)__atomic_load_n(&s->cfg.log_level, __ATOMIC_RELAXED))
		return;
	char safe[4 * 1024];
	pw_log_escape(line, safe, sizeof safe);
	s->cfg.log(s->cfg.log_ctx, level, safe);
}

void pw_server_log(struct pw_server *s, pw_log_level level, const char *fmt, ...)
{
	if (!s->cfg.log)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	emit(s, level, line);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct pw_server *s = cls;
	char line[1024];
	int n = snprintf(line, sizeof line, "http: ");
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	size_t len = strlen(line);
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	pthread_mutex_lock(&s->conn_lock);
	if (s->starting && !s->start_msg.text[0])
		snprintf(s->start_msg.text, sizeof s->start_msg.text, "%s", line + n);
	pthread_mutex_unlock(&s->conn_lock);
	if (s->cfg.log)
		emit(s, PW_LOG_WARNING, line);
}

/* A worker thread's handle; the key's destructor closes it when the
 * thread ends, so the threads of a daemon replaced by a reload (and
 * their PostgreSQL connections) do not pile up. */
struct thread_db {
	struct pw_server *s;
	pw_db *db;
};

static void thread_db_end(void *arg)
{
	struct thread_db *t = arg;
	pthread_mutex_lock(&t->s->pool_lock);
	for (size_t i = 0; i < t->s->n_dbs; i++)
		if (t->s->dbs[i] == t->db) {
			t->s->dbs[i] = t->s->dbs[--t->s->n_dbs];
			break;
		}
	pthread_mutex_unlock(&t->s->pool_lock);
	pw_db_close(t->db);
	free(t);
}

static pw_db *thread_db(struct pw_server *s, pw_error *err)
{
	struct thread_db *t = pthread_getspecific(s->db_key);
	if (t)
		return t->db;
	pw_db *db = NULL;
	if (pw_db_open(s->cfg.db_url, &db, err))
		return NULL;
	pthread_mutex_lock(&s->pool_lock);
	pw_db **v = pw_grow(s->dbs, &s->cap_dbs, s->n_dbs, sizeof *v);
	t = v ? malloc(sizeof *t) : NULL;
	if (t) {
		s->dbs = v;
		s->dbs[s->n_dbs++] = db;
		*t = (struct thread_db){s, db};
	}
	pthread_mutex_unlock(&s->pool_lock);
	if (!t || pthread_setspecific(s->db_key, t) != 0) {
		if (!t)
			pw_db_close(db);
		pw_error_set(err, PW_ERR_NOMEM, "out of memory registering a database handle");
		return NULL;
	}
	return db;
}

/* ---- the request deadline ---------------------------------------------- */

static void address_text(const struct sockaddr *sa, char *out, size_t size)
{
	snprintf(out, size, "-");
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
			  (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  out, (socklen_t)size);
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct pw_server *s = cls;
	struct conn *c = *socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = ci ? calloc(1, sizeof *c) : NULL;
		if (!c) /* untracked: connection_timeout still applies to it */
			return;
		c->fd = ci->connect_fd;
		clock_gettime(CLOCK_MONOTONIC, &c->since);
		c->receiving = true;
		pthread_mutex_lock(&s->conn_lock);
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		pthread_mutex_unlock(&s->conn_lock);
		*socket_context = c;
		return;
	}
	if (!c)
		return;
	/* Before libmicrohttpd closes the socket: the watchdog never shuts
	 * down a descriptor that another connection has been given since. */
	pthread_mutex_lock(&s->conn_lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&s->conn_lock);
	free(c);
	*socket_context = NULL;
}

/* A request's body is in (false), or its reply is done and the next
 * request's time starts (true). */
static void conn_receiving(struct pw_server *s, struct conn *c, bool receiving)
{
	if (!c)
		return;
	pthread_mutex_lock(&s->conn_lock);
	c->receiving = receiving;
	if (receiving)
		clock_gettime(CLOCK_MONOTONIC, &c->since);
	pthread_mutex_unlock(&s->conn_lock);
}

#define WATCHDOG_TICK_MS 250

/* Shuts down the connections whose request is not in by request_timeout;
 * libmicrohttpd then reads the end of input and closes them itself. */
static void *watchdog(void *arg)
{
	struct pw_server *s = arg;
	long limit_ms = s->cfg.request_timeout * 1000;
	pthread_mutex_lock(&s->conn_lock);
	while (!s->watchdog.stopping) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		size_t cut = 0;
		char who[INET6_ADDRSTRLEN] = "-";
		for (struct conn *c = s->conns; c; c = c->next) {
			long ms = (long)(now.tv_sec - c->since.tv_sec) * 1000 +
				  (now.tv_nsec - c->since.tv_nsec) / 1000000;
			if (!c->receiving || c->cut || ms < limit_ms)
				continue;
			shutdown(c->fd, SHUT_RDWR);
			c->cut = true;
			struct sockaddr_storage ss;
			socklen_t len = sizeof ss;
			if (!cut++ && getpeername(c->fd, (struct sockaddr *)&ss, &len) == 0)
				address_text((struct sockaddr *)&ss, who, sizeof who);
		}
		if (cut) {
			pthread_mutex_unlock(&s->conn_lock);
			pw_server_log(
				s, PW_LOG_NOTICE,
				"http: closed %zu connection%s (%s%s) that had not sent a whole "
				"request within request_timeout (%ld s)",
				cut, cut == 1 ? "" : "s", who, cut == 1 ? "" : ", ...",
				s->cfg.request_timeout);
			pthread_mutex_lock(&s->conn_lock);
		}
		struct timespec next = now;
		next.tv_nsec += WATCHDOG_TICK_MS * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->watchdog.wake, &s->conn_lock, &next);
	}
	pthread_mutex_unlock(&s->conn_lock);
	return NULL;
}

/* ---- threads ------------------------------------------------------------ */

void pw_worker_init(struct pw_worker *w, pthread_mutex_t *lock)
{
	*w = (struct pw_worker){.lock = lock};
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_condattr_destroy(&ca);
}

pw_err pw_worker_start(struct pw_worker *w, void *(*fn)(void *), void *arg, const char *what,
		       pw_error *err)
{
	int e = pthread_create(&w->thread, NULL, fn, arg);
	if (e)
		return pw_error_set(err, PW_ERR_NOMEM, "cannot start the %s: %s", what,
				    strerror(e));
	w->started = true;
	return PW_OK;
}

void pw_worker_end(struct pw_worker *w)
{
	if (w->started) {
		pthread_mutex_lock(w->lock);
		w->stopping = true;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(w->lock);
		pthread_join(w->thread, NULL);
		w->started = false;
	}
	pthread_cond_destroy(&w->wake);
}

static pw_api_env api_env(struct pw_server *s, pw_error *err)
{
	pw_api_env env = {thread_db(s, err),  &s->cfg.api, s->sqlite ? &s->write_lock : NULL,
			  pw_scheduler_stale, s->sched,    s->metrics};
	return env;
}

static const char fallback_500[] =
	"{\"error\":{\"code\":\"internal\",\"message\":\"the server ran out of memory\"}}";

static enum MHD_Result respond(struct pw_server *s, struct MHD_Connection *conn, struct request *r,
			       pw_api_response *resp)
{
	r->responded = true;
	r->status = resp->status;
	conn_receiving(s, r->conn, false);
	if (resp->status >= 500 && resp->detail.msg[0])
		pw_server_log(s, PW_LOG_ERR, "error: %s %s: %s", r->method, r->path,
			      resp->detail.msg);
	if (resp->status >= 500 &&
	    (resp->detail.code == PW_ERR_STORE || resp->detail.code == PW_ERR_UNAVAILABLE))
		pw_metrics_db_error(s->metrics);
	struct MHD_Response *m;
	const char *type = "application/json";
	if (resp->body.len) {
		if (resp->content_type)
			type = resp->content_type;
		r->bytes = resp->body.len;
		size_t n = resp->body.len;
		m = MHD_create_response_from_buffer(n, pw_buf_detach(&resp->body),
						    MHD_RESPMEM_MUST_FREE);
	} else {
		r->status = 500;
		r->bytes = sizeof fallback_500 - 1;
		m = MHD_create_response_from_buffer(sizeof fallback_500 - 1,
						    (void *)(uintptr_t)fallback_500,
						    MHD_RESPMEM_PERSISTENT);
	}
	if (!m) {
		pw_api_response_release(resp);
		return MHD_NO;
	}
	MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	/* Replies carry tokens and fleet data: never cache them. */
	MHD_add_response_header(m, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
	if (r->status == 405 && resp->allow[0])
		MHD_add_response_header(m, MHD_HTTP_HEADER_ALLOW, resp->allow);
	if (r->status == 401)
		MHD_add_response_header(m, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"patchwarden\"");
	if (r->close)
		MHD_add_response_header(m, MHD_HTTP_HEADER_CONNECTION, "close");
	pw_api_response_release(resp);
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, m);
	MHD_destroy_response(m);
	return ret;
}

/* A console reply, with the headers that keep its pages from being
 * framed, sniffed, cached or given inline script. */
static enum MHD_Result respond_web(struct pw_server *s, struct MHD_Connection *conn,
				   struct request *r, pw_web_response *w)
{
	r->responded = true;
	r->status = w->status;
	r->bytes = w->body.len;
	snprintf(r->who.actor, sizeof r->who.actor, "%s", w->actor);
	conn_receiving(s, r->conn, false);
	size_t n = w->body.len;
	struct MHD_Response *m = MHD_create_response_from_buffer(n, pw_buf_detach(&w->body),
								 MHD_RESPMEM_MUST_FREE);
	if (!m)
		return MHD_NO;
	MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, w->content_type);
	MHD_add_response_header(m, MHD_HTTP_HEADER_CACHE_CONTROL, w->cache_control);
	MHD_add_response_header(m, "Content-Security-Policy", pw_web_csp);
	MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(m, "X-Frame-Options", "DENY");
	MHD_add_response_header(m, "Referrer-Policy", "no-referrer");
	if (w->set_cookie[0])
		MHD_add_response_header(m, MHD_HTTP_HEADER_SET_COOKIE, w->set_cookie);
	if (w->location[0])
		MHD_add_response_header(m, MHD_HTTP_HEADER_LOCATION, w->location);
	if (r->close)
		MHD_add_response_header(m, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, m);
	MHD_destroy_response(m);
	return ret;
}

/* The whole console request is in: its page. */
static enum MHD_Result answer_web(struct pw_server *s, struct MHD_Connection *conn,
				  struct request *r, const pw_query_param *query, size_t n_query)
{
	pw_web_response w = PW_WEB_RESPONSE_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_api_env env = api_env(s, &e);
	if (!env.db) {
		w.status = 503;
		w.content_type = "text/plain; charset=utf-8";
		w.cache_control = "no-store";
		snprintf(w.actor, sizeof w.actor, "-");
		if (pw_buf_puts(&w.body,
				"the server cannot reach its database; try again shortly\n"))
			return MHD_NO;
		return respond_web(s, conn, r, &w);
	}
	pw_web_request rq = {
		r->method,
		r->path,
		query,
		n_query,
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE),
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
		r->body.len ? pw_buf_str(&r->body) : "",
		r->body.len,
		r->client,
		s->tls || !pw_server_listen_is_loopback(s->cfg.listen),
	};
	pw_web_handle(&env, &rq, &w);
	enum MHD_Result ret = respond_web(s, conn, r, &w);
	pw_web_response_release(&w);
	return ret;
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *k,
				     const char *v)
{
	(void)kind;
	struct query *q = cls;
	if (q->n == MAX_QUERY) {
		q->overflow = true;
		return MHD_NO;
	}
	q->v[q->n].key = k;
	q->v[q->n].value = v;
	q->n++;
	return MHD_YES;
}

static void client_address(struct MHD_Connection *conn, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, size, "-");
	if (ci && ci->client_addr)
		address_text(ci->client_addr, out, size);
}

/* Bytes of body announced: Content-Length, SIZE_MAX for a chunked
 * body (length unknown), 0 for none. */
static size_t body_announced(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(cl, &end, 10);
		return errno || *end || n > SIZE_MAX ? SIZE_MAX : (size_t)n;
	}
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING)
		       ? SIZE_MAX
		       : 0;
}

/* An answer known from the headers. The body is not stored: it is read
 * and dropped (up to DROP_MAX), and the answer sent after it, because a
 * reply sent while the client is still sending is lost to many clients
 * (the close resets the connection under them, over TLS always). A
 * body announced larger than DROP_MAX gets the answer at once and the
 * connection closes. */
static enum MHD_Result answer_early(struct pw_server *s, struct MHD_Connection *conn,
				    struct request *r, pw_api_response *resp)
{
	size_t announced = body_announced(conn);
	const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if (announced > DROP_MAX && !te)
		return respond(s, conn, r, resp);
	r->early = *resp;
	r->has_early = true;
	return MHD_YES;
}

struct framing {
	unsigned content_length, transfer_encoding;
	bool not_chunked;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *k,
				     const char *v)
{
	(void)kind;
	struct framing *f = cls;
	if (!strcasecmp(k, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
		f->content_length++;
	} else if (!strcasecmp(k, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
		f->transfer_encoding++;
		f->not_chunked |= !v || strcasecmp(v, "chunked") != 0;
	}
	return MHD_YES;
}

/* Where a proxy in front and this server could disagree on where the
 * body ends, the rest of the stream could be read as another request
 * (request smuggling): two Content-Length headers, one with
 * Transfer-Encoding (which libmicrohttpd would let override it), or a
 * Transfer-Encoding other than a single "chunked" (RFC 9112 6.1:
 * libmicrohttpd would read such a body up to the connection's end). */
static bool framing_ambiguous(struct MHD_Connection *conn)
{
	struct framing f = {0, 0, false};
	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
	return f.content_length > 1 || (f.content_length && f.transfer_encoding) ||
	       f.transfer_encoding > 1 || f.not_chunked;
}

/* Headers are in: route, check the announced size, authenticate. */
static enum MHD_Result begin(struct pw_server *s, struct MHD_Connection *conn, struct request *r,
			     const char *url, const char *method)
{
	pw_api_response resp = PW_API_RESPONSE_INIT;
	if (framing_ambiguous(conn)) {
		pw_api_error(&resp, 400, "bad_request",
			     "where the request's body ends is ambiguous: send one Content-Length "
			     "header, or Transfer-Encoding: chunked alone");
		r->close = true;
		return respond(s, conn, r, &resp);
	}
	if (pw_web_owns(url)) {
		r->web = true;
		size_t announced = body_announced(conn);
		if (announced == SIZE_MAX || announced <= PW_WEB_BODY_MAX)
			return MHD_YES;
		pw_api_error(&resp, 413, "too_large", "a console form is at most %u bytes",
			     PW_WEB_BODY_MAX);
		return answer_early(s, conn, r, &resp);
	}
	int status;
	r->route = pw_route_find(method, url, &r->args, &status, resp.allow);
	if (!r->route) {
		if (status == 405)
			pw_api_error(&resp, 405, "method_not_allowed", "%s takes %s, not %s", url,
				     resp.allow, method);
		else
			pw_api_error(&resp, 404, "not_found",
				     "there is no %s; docs/api.md lists the API's paths", url);
		return answer_early(s, conn, r, &resp);
	}
	pw_error e = PW_ERROR_INIT;
	pw_api_env env = api_env(s, &e);
	if (!env.db) {
		pw_api_error(&resp, 503, "unavailable",
			     "the server cannot reach its database; try again shortly");
		resp.detail = e;
		return answer_early(s, conn, r, &resp);
	}
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_AUTHORIZATION);
	if (!pw_api_authorize(&env, r->route, auth, &r->who, &resp))
		return answer_early(s, conn, r, &resp);
	size_t announced = body_announced(conn);
	if (announced != SIZE_MAX && !pw_api_body_fits(r->route, announced, &resp))
		return answer_early(s, conn, r, &resp);
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	(void)version;
	struct pw_server *s = cls;
	struct request *r = *req_cls;
	if (!r) {
		r = calloc(1, sizeof *r);
		if (!r)
			return MHD_NO;
		*req_cls = r;
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		r->conn = ci ? ci->socket_context : NULL;
		clock_gettime(CLOCK_MONOTONIC, &r->t0);
		snprintf(r->method, sizeof r->method, "%s", method);
		snprintf(r->path, sizeof r->path, "%s", url);
		client_address(conn, r->client, sizeof r->client);
		return begin(s, conn, r, url, method);
	}
	if (r->responded) { /* answered at once: the connection closes */
		*upload_size = 0;
		return MHD_YES;
	}
	pw_api_response resp = PW_API_RESPONSE_INIT;
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (r->has_early) {
			/* libmicrohttpd cannot reply in the middle of a body: drop
			 * the rest and reply at its end, up to a bound. */
			r->dropped += n;
			return r->dropped > DROP_MAX ? MHD_NO : MHD_YES;
		}
		if (r->web ? r->body.len + n > PW_WEB_BODY_MAX
			   : !pw_api_body_fits(r->route, r->body.len + n, &resp)) {
			if (r->web)
				pw_api_error(&resp, 413, "too_large",
					     "a console form is at most %u bytes", PW_WEB_BODY_MAX);
			r->early = resp;
			r->has_early = true;
			r->dropped = r->body.len + n;
			pw_buf_release(&r->body);
			return MHD_YES;
		}
		if (pw_buf_append(&r->body, upload, n)) {
			pw_api_error(&r->early, 500, "internal",
				     "out of memory reading the request body");
			r->has_early = true;
			pw_buf_release(&r->body);
		}
		return MHD_YES;
	}
	/* The whole request is in: what follows is the server's time. */
	conn_receiving(s, r->conn, false);
	if (r->has_early) {
		r->has_early = false;
		return respond(s, conn, r, &r->early);
	}
	struct query q = {0};
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &q);
	if (q.overflow) {
		pw_api_error(&resp, 400, "bad_request", "more than %d query parameters", MAX_QUERY);
		return respond(s, conn, r, &resp);
	}
	if (r->web)
		return answer_web(s, conn, r, q.v, q.n);
	pw_error e = PW_ERROR_INIT;
	pw_api_env env = api_env(s, &e);
	pw_api_run_encoded(&env, r->route, &r->args, &r->who, q.v, q.n,
			   MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_CONTENT_ENCODING),
			   pw_buf_str(&r->body), r->body.len, &resp);
	return respond(s, conn, r, &resp);
}

/* A request path as one key=value token of the access log: spaces,
 * quotes, '%' and control bytes percent-encoded as in a URL (the path is
 * logged decoded), so a path cannot fake another field; emit() escapes
 * the rest. */
static const char *log_token(const char *in, char *out, size_t size)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && n + 4 < size; p++)
		if (*p <= ' ' || *p == '"' || *p == '%' || *p == 0x7f)
			n += (size_t)snprintf(out + n, size - n, "%%%02X", *p);
		else
			out[n++] = (char)*p;
	out[n] = '\0';
	return out;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)conn;
	struct pw_server *s = cls;
	struct request *r = *req_cls;
	if (!r)
		return;
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - r->t0.tv_sec) * 1e3 +
		    (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e6;
	if (r->status)
		pw_metrics_request(s->metrics, r->route, r->status, ms / 1e3);
	if (__atomic_load_n(&s->cfg.access_log, __ATOMIC_RELAXED)) {
		char path[3 * LOG_PATH_MAX];
		pw_server_log(s, PW_LOG_INFO,
			      "access: client=%s method=%s path=%s status=%d bytes=%zu "
			      "duration_ms=%.3f user=%s%s",
			      r->client, r->method, log_token(r->path, path, sizeof path),
			      r->status, r->bytes, ms, r->who.actor[0] ? r->who.actor : "-",
			      toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " closed=early");
	}
	conn_receiving(s, r->conn, true);
	pw_buf_release(&r->body);
	pw_api_response_release(&r->early);
	free(r);
	*req_cls = NULL;
}

/* Handlers block on database round trips, so a core runs several. */
static unsigned auto_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 4 : n > 64 ? 256 : 4 * (unsigned)n;
}

static void server_free(struct pw_server *s)
{
	pw_notifier_free(s->notifier);
	pw_scheduler_free(s->sched);
	pw_worker_end(&s->watchdog);
	for (size_t i = 0; i < s->n_dbs; i++)
		pw_db_close(s->dbs[i]);
	free(s->dbs);
	pthread_key_delete(s->db_key);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_mutex_destroy(&s->write_lock);
	pthread_mutex_destroy(&s->conn_lock);
	pw_buf_release(&s->cert);
	pw_buf_release(&s->key);
	pw_metrics_free(s->metrics);
	free(s);
}

pw_metrics *pw_server_metrics(struct pw_server *s)
{
	return s->metrics;
}

/* A SQLite file (and its directory, for the WAL and journal files) the
 * server's user cannot write: said before SQLite says "attempt to write
 * a readonly database" from a PRAGMA. */
static pw_err check_sqlite_writable(const char *url, pw_error *err)
{
	const char *file = pw_db_sqlite_path(url);
	if (!file || access(file, F_OK) != 0)
		return PW_OK;
	char dir[4096];
	pw_path_dir(file, dir, sizeof dir);
	const char *no = access(file, W_OK) != 0 ? file : access(dir, W_OK) != 0 ? dir : NULL;
	if (!no)
		return PW_OK;
	return pw_error_set(err, PW_ERR_IO,
			    "%s (uid %u): the database takes no writes: %s is not writable by "
			    "this user; give the server's user write access to the file and its "
			    "directory (chown), or run the server as their owner",
			    file, (unsigned)geteuid(), no);
}

static pw_err migrate(const char *url, bool *sqlite, pw_error *err)
{
	pw_db *db = NULL;
	if (check_sqlite_writable(url, err))
		return PW_ERR_IO;
	pw_err rc = pw_schema_open(url, &db, err);
	if (rc)
		return pw_error_prefix(err, "opening the database: ");
	*sqlite = pw_db_kind_of(db) == PW_DB_SQLITE;
	/* A database created by another user opens and reads fine; without
	 * this the server would answer healthy while every write fails. */
	rc = pw_schema_ready(db, err);
	pw_db_close(db);
	if (rc) {
		char shown[1024];
		pw_db_url_redact(url, shown, sizeof shown);
		return pw_error_prefix(err, "%s (uid %u): ", shown, (unsigned)geteuid());
	}
	return PW_OK;
}

/* Starts libmicrohttpd with s->cert and s->key on cfg->listen, or on
 * `listen_fd` (a reload: the socket the previous daemon gave up, so no
 * connection attempt is refused in between). */
static pw_err start_daemon(struct pw_server *s, const pw_server_config *cfg, MHD_socket listen_fd,
			   struct MHD_Daemon **out, pw_error *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	parse_listen(cfg->listen, &ss, &sslen);
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	struct MHD_OptionItem tls_opts[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)(uintptr_t)pw_buf_str(&s->cert)},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)(uintptr_t)pw_buf_str(&s->key)},
		{MHD_OPTION_HTTPS_PRIORITIES, 0,
		 (void *)(uintptr_t)(cfg->tls_priorities ? cfg->tls_priorities : "NORMAL")},
		{MHD_OPTION_END, 0, NULL},
	};
	struct MHD_OptionItem no_opts[] = {{MHD_OPTION_END, 0, NULL}};
	struct MHD_OptionItem where[] = {
		listen_fd == MHD_INVALID_SOCKET
			? (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss}
			: (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL},
		{MHD_OPTION_END, 0, NULL},
	};
	if (s->tls)
		flags |= MHD_USE_TLS;
	pthread_mutex_lock(&s->conn_lock);
	s->starting = true;
	s->start_msg.text[0] = '\0';
	pthread_mutex_unlock(&s->conn_lock);
	*out = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
				mhd_log, s, MHD_OPTION_ARRAY, where, MHD_OPTION_THREAD_POOL_SIZE,
				s->threads, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)cfg->connection_timeout, MHD_OPTION_CONNECTION_LIMIT,
				(unsigned)cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				(unsigned)cfg->max_connections_per_ip,
				MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_NOTIFY_COMPLETED,
				on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				MHD_OPTION_ARRAY, s->tls ? tls_opts : no_opts, MHD_OPTION_END);
	int e = errno;
	pthread_mutex_lock(&s->conn_lock);
	s->starting = false;
	pthread_mutex_unlock(&s->conn_lock);
	if (*out)
		return PW_OK;
	/* Its own message names the cause (a bind refused, TLS); errno may be
	 * left over from anything. */
	if (s->start_msg.text[0])
		return pw_error_set(err, PW_ERR_IO, "cannot serve on %s: %s", cfg->listen,
				    s->start_msg.text);
	return pw_error_set(err, PW_ERR_IO,
			    "cannot serve on %s: %s (address in use, not local, or a port below "
			    "1024 without the right to bind it?)",
			    cfg->listen, e ? strerror(e) : "libmicrohttpd refused to start");
}

pw_err pw_server_start(const pw_server_config *cfg, pw_server **out, pw_error *err)
{
	*out = NULL;
	if (!MHD_is_feature_supported(MHD_FEATURE_EPOLL))
		return pw_error_set(err, PW_ERR_UNSUPPORTED,
				    "this libmicrohttpd was built without epoll support");
	struct pw_server *s = calloc(1, sizeof *s);
	if (!s)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	s->cfg = *cfg;
	if (pthread_key_create(&s->db_key, thread_db_end) != 0) {
		free(s);
		return pw_error_set(err, PW_ERR_NOMEM,
				    "no thread-local key left for database handles");
	}
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_mutex_init(&s->write_lock, NULL);
	pthread_mutex_init(&s->conn_lock, NULL);
	pw_worker_init(&s->watchdog, &s->conn_lock);
	s->metrics = pw_metrics_new();
	pw_err rc = s->metrics ? pw_scheduler_new(&s->cfg, s, &s->sched, err)
			       : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = check(cfg, &s->cert, &s->key, err);
	s->tls = tls_wanted(cfg);
	if (!rc && s->tls && !MHD_is_feature_supported(MHD_FEATURE_TLS))
		rc = pw_error_set(err, PW_ERR_UNSUPPORTED,
				  "this libmicrohttpd was built without TLS (GnuTLS) support");
	if (!rc)
		rc = migrate(cfg->db_url, &s->sqlite, err);
	if (rc) {
		server_free(s);
		return rc;
	}
	s->threads = cfg->threads > 0 ? (unsigned)cfg->threads : auto_threads();
	rc = start_daemon(s, cfg, MHD_INVALID_SOCKET, &s->d, err);
	if (rc) {
		server_free(s);
		return rc;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : 0;
	if ((rc = pw_scheduler_start(s->sched, err)) ||
	    (rc = pw_notifier_start(&s->cfg, s, &s->notifier, err)) ||
	    (rc = pw_worker_start(&s->watchdog, watchdog, s, "request watchdog", err))) {
		MHD_stop_daemon(s->d);
		server_free(s);
		return rc;
	}
	*out = s;
	return PW_OK;
}

unsigned pw_server_port(const pw_server *s)
{
	return s->port;
}

unsigned pw_server_threads(const pw_server *s)
{
	return s->threads;
}

bool pw_server_tls(const pw_server *s)
{
	return s->tls;
}

/* Stops taking connections on `d`, lets requests in progress finish
 * (idle keep-alive connections would hold the count up until their
 * timeout, so the wait is bounded) and stops it. */
static void drain(struct pw_server *s, struct MHD_Daemon *d, bool close_listen)
{
	MHD_socket l = MHD_quiesce_daemon(d);
	if (close_listen && l != MHD_INVALID_SOCKET)
		close(l);
	for (long waited = 0; waited < s->cfg.shutdown_timeout * 1000; waited += 20) {
		const union MHD_DaemonInfo *di =
			MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (!di || di->num_connections == 0)
			break;
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(d);
}

void pw_server_stop(pw_server *s)
{
	if (!s)
		return;
	drain(s, s->d, true);
	server_free(s);
}

pw_err pw_server_reload(pw_server *s, const pw_server_config *next, pw_error *err)
{
	if (tls_wanted(next) != s->tls)
		return pw_error_set(err, PW_ERR_INVALID,
				    "switching between HTTPS and plain HTTP needs a restart");
	__atomic_store_n(&s->cfg.access_log, next->access_log, __ATOMIC_RELAXED);
	__atomic_store_n(&s->cfg.log_level, next->log_level, __ATOMIC_RELAXED);
	if (!s->tls)
		return PW_OK;
	/* A renewed certificate keeps its file name: the files are read
	 * again whatever the configuration says, and a bad pair keeps the
	 * daemon serving the old one. */
	pw_buf cert = PW_BUF_INIT, key = PW_BUF_INIT;
	pw_server_config tls = s->cfg;
	tls.tls_cert = next->tls_cert;
	tls.tls_key = next->tls_key;
	tls.tls_priorities = next->tls_priorities;
	pw_err rc = check(&tls, &cert, &key, err);
	if (rc) {
		pw_buf_release(&cert);
		pw_buf_release(&key);
		return pw_error_prefix(err, "still serving the previous certificate: ");
	}
	MHD_socket l = MHD_quiesce_daemon(s->d);
	if (l == MHD_INVALID_SOCKET) {
		pw_buf_release(&cert);
		pw_buf_release(&key);
		return pw_error_set(err, PW_ERR_IO, "libmicrohttpd gave up no listening socket");
	}
	pw_buf old_cert = s->cert, old_key = s->key;
	s->cert = cert;
	s->key = key;
	struct MHD_Daemon *old = s->d, *d = NULL;
	rc = start_daemon(s, &tls, l, &d, err);
	if (rc) {
		/* Back to the old pair on the same socket; failing that, the
		 * caller stops the server (systemd starts it again). */
		pw_buf_release(&s->cert);
		pw_buf_release(&s->key);
		s->cert = old_cert;
		s->key = old_key;
		pw_error again = PW_ERROR_INIT;
		if (start_daemon(s, &s->cfg, l, &d, &again)) {
			close(l);
			s->d = old;
			return pw_error_set(err, PW_ERR_UNAVAILABLE,
					    "%s; restarting on the previous certificate failed "
					    "too: %s",
					    err->msg, again.msg);
		}
		s->d = d;
		drain(s, old, false);
		return pw_error_prefix(err, "still serving the previous certificate: ");
	}
	s->d = d;
	drain(s, old, false);
	pw_buf_release(&old_cert);
	pw_buf_release(&old_key);
	return PW_OK;
}
