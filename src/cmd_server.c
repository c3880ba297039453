/* patchwarden server: the HTTP/JSON API for agents and operators. */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/config.h"
#include "patchwarden/db.h"
#include "patchwarden/findings.h"
#include "patchwarden/routes.h"
#include "patchwarden/schema.h"
#include "patchwarden/server.h"

struct opts {
	const char *config, *listen, *cert, *key;
	bool check, routes_md;
};

static struct opts opt;

static const struct pw_option options[] = {
	PW_OPT_FLAG('n', "check", &opt.check,
		    "check the configuration and the TLS files, print a\n"
		    "summary and exit: 0 valid, 2 not"),
	PW_OPT_STRING(0, "listen", &opt.listen, "ADDR:PORT",
		      "address to serve on, numeric (\"0.0.0.0:8443\",\n"
		      "\"[::]:8443\"; port 0 picks a free one)"),
	PW_OPT_STRING(0, "tls-cert", &opt.cert, "FILE",
		      "PEM certificate chain; with --tls-key, serve HTTPS"),
	PW_OPT_STRING(0, "tls-key", &opt.key, "FILE", "PEM private key"),
	PW_OPT_FLAG(0, "routes-md", &opt.routes_md,
		    "print the API reference (docs/api.md) generated from\n"
		    "the route table, and exit"),
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden server [-c FILE] [-n] [--listen ADDR:PORT]\n"
	"                          [--tls-cert FILE --tls-key FILE] [--db URL]\n"
	"       patchwarden server --routes-md\n"
	"\n"
	"Serves the HTTP/JSON API (/api/v1/...) that agents check in with and\n"
	"operators use, until SIGTERM or SIGINT; then it stops accepting, lets\n"
	"requests in progress finish (shutdown_timeout) and exits 0. SIGHUP reads\n"
	"the configuration again: it applies the TLS certificate and key (read\n"
	"again, as a renewal keeps their names) and access_log, and names every\n"
	"other change as waiting for a restart. Several servers can share one\n"
	"PostgreSQL database and serve the same fleet.\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"Options override the [server] section of the configuration file. HTTPS\n"
	"needs tls_cert and tls_key. Plain HTTP is served only when\n"
	"allow_plain_http = true is set in the file AND the listen address is a\n"
	"loopback address (127.0.0.0/8 or [::1]); anything else without a\n"
	"certificate is refused, so bearer secrets never cross a network in clear.\n"
	"\n"
	"Exit status: 0 stopped by a signal (or -n: valid), 2 bad configuration or\n"
	"the server could not start. See patchwarden-server(1) and docs/api.md.\n";

const struct pw_usage cmd_server_usage = {usage_head, PW_OPT_TABLES(options), usage_tail, NULL};

#define CMD "server"

/* Under systemd, standard error is the journal's stream when
 * $JOURNAL_STREAM names its device and inode: each line then starts with
 * its priority as "<N>" (sd-daemon(3)) and the journal adds the unit's
 * name. Elsewhere the line says who wrote it. */
static bool to_journal(void)
{
	static int known = -1;
	if (known < 0) {
		const char *js = getenv("JOURNAL_STREAM");
		unsigned long long dev = 0, ino = 0;
		struct stat st;
		known = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
			(unsigned long long)st.st_dev == dev &&
			(unsigned long long)st.st_ino == ino;
	}
	return known;
}

static void log_line(void *ctx, pw_log_level level, const char *line)
{
	(void)ctx;
	if (to_journal())
		fprintf(stderr, "<%d>%s\n", (int)level, line);
	else
		fprintf(stderr, "patchwarden server: %s\n", line);
}

static int parse(int argc, char **argv, struct pw_setup *setup, struct opts *o)
{
	int n = pw_cli_parse(CMD, setup, argc, argv, PW_OPT_TABLES(options), ~0u);
	if (n < 0)
		return PW_EXIT_ERROR;
	if (n > 0)
		return pw_cli_usage_error(CMD, "unexpected argument '%s'", argv[0]);
	*o = opt;
	o->config = setup->config_path;
	return PW_EXIT_OK;
}

static int routes_md(void)
{
	pw_buf b = PW_BUF_INIT;
	if (pw_routes_markdown(&b)) {
		pw_buf_release(&b);
		return pw_cli_fail(CMD, "out of memory");
	}
	fwrite(b.data, 1, b.len, stdout);
	pw_buf_release(&b);
	return fflush(stdout) == 0 ? PW_EXIT_OK : pw_cli_fail(CMD, "cannot write the output");
}

static pw_err apply_options(const struct opts *o, pw_config *cfg)
{
	const char *over[][2] = {{"listen", o->listen}, {"tls_cert", o->cert}, {"tls_key", o->key}};
	for (size_t i = 0; i < sizeof over / sizeof over[0]; i++)
		if (over[i][1] && pw_config_set(cfg, "server", over[i][0], over[i][1]))
			return PW_ERR_NOMEM;
	return PW_OK;
}

/* The configuration with the command-line options applied over it. */
static int load(const struct opts *o, struct pw_setup *setup, pw_config **cfg, pw_server_config *sc)
{
	pw_error e = PW_ERROR_INIT;
	if (!(*cfg = pw_cli_config(CMD, setup)))
		return PW_EXIT_ERROR;
	if (apply_options(o, *cfg))
		return pw_cli_fail(CMD, "out of memory");
	if (pw_server_config_load(*cfg, sc, &e))
		return pw_cli_fail_err(CMD, &e);
	if (!(sc->db_url = pw_cli_db_url(CMD, setup)))
		return PW_EXIT_ERROR;
	sc->log = log_line;
	return PW_EXIT_OK;
}

static const char *db_kind(const char *url)
{
	return !strncmp(url, "postgres", 8) || strchr(url, '=') ? "PostgreSQL" : "SQLite";
}

/* "127.0.0.1:0" with the bound port instead of 0. */
static void print_url(const pw_server_config *sc, const pw_server *s)
{
	const char *colon = strrchr(sc->listen, ':');
	int host_len = colon ? (int)(colon - sc->listen) : 0;
	pw_cli_note(CMD, "listening on %s://%.*s:%u (%u worker threads, %s database)",
		    pw_server_tls(s) ? "https" : "http", host_len, sc->listen, pw_server_port(s),
		    pw_server_threads(s), db_kind(sc->db_url));
}

/* Where findings come from, without opening the store: -n checks files
 * and never connects (a PostgreSQL URL is shown with its password
 * hidden). A missing SQLite store is not an error: the server runs
 * without feeds, but says so. */
static void check_store(const pw_findings_config *f, const char *db_url)
{
	const char *where = f->store ? f->store : db_url;
	const char *file = pw_db_sqlite_path(where);
	if (file && access(file, F_OK) != 0) {
		pw_cli_warn(CMD,
			    "no feed store at %s; until feeds are imported no findings are "
			    "computed",
			    file);
		return;
	}
	char shown[1024];
	pw_db_url_redact(where, shown, sizeof shown);
	printf("feed store %s%s (not opened by -n); findings recomputed %s\n", shown,
	       f->store ? "" : " (the server's database)",
	       f->recompute_interval ? "when a newer snapshot lands" : "on check-ins only");
}

/* What SIGHUP applies; every other key waits for a restart. */
static bool reloadable(const char *section, const char *key)
{
	static const char *const keys[] = {"tls_cert", "tls_key", "tls_priorities", "access_log",
					   "log_level"};
	for (size_t i = 0; !strcmp(section, "server") && i < sizeof keys / sizeof keys[0]; i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

/* SIGHUP: reads the file again; applies the TLS pair (read again even
 * when unchanged: a renewal keeps the names) and access_log; names each
 * other change as waiting for a restart. A bad file changes nothing. */
static pw_err reload(const struct opts *o, const struct pw_setup *setup, const pw_config *running,
		     pw_server *s)
{
	pw_error e = PW_ERROR_INIT;
	pw_config *next = NULL;
	pw_server_config sc;
	const char *path = pw_cli_config_path(setup);
	if (pw_config_load(path, setup->config_path != NULL, &next, &e) || apply_options(o, next) ||
	    pw_server_config_load(next, &sc, &e)) {
		pw_cli_warn(CMD, "SIGHUP: %s; nothing changed", e.msg[0] ? e.msg : "out of memory");
		pw_config_free(next);
		return PW_OK;
	}
	static const char *const sections[] = {"server", "feeds", "jobs", "policy", "notify"};
	char later[512] = "";
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
		size_t pos = 0;
		for (const char *k; (k = pw_config_changed(running, next, sections[i], &pos));)
			if (!reloadable(sections[i], k))
				snprintf(later + strlen(later), sizeof later - strlen(later),
					 "%s[%s] %s", later[0] ? ", " : "", sections[i], k);
	}
	if (later[0])
		pw_cli_warn(CMD, "SIGHUP: changed, applied at the next restart: %s", later);
	pw_err rc = pw_server_reload(s, &sc, &e);
	if (rc)
		pw_cli_warn(CMD, "SIGHUP: %s", e.msg);
	else
		pw_cli_note(CMD, "SIGHUP: reloaded %s: %saccess_log %s, log_level %s", path,
			    pw_server_tls(s) ? "TLS certificate and key read again, " : "",
			    sc.access_log ? "on" : "off", pw_log_level_name(sc.log_level));
	pw_config_free(next);
	return rc == PW_ERR_UNAVAILABLE ? rc : PW_OK;
}

int cmd_server(int argc, char **argv, struct pw_setup *setup)
{
	struct opts o = {0};
	int rc = parse(argc, argv, setup, &o);
	if (rc)
		return rc;
	if (o.routes_md)
		return routes_md();
	pw_config *cfg = NULL;
	pw_server_config sc;
	rc = load(&o, setup, &cfg, &sc);
	pw_error e = PW_ERROR_INIT;
	if (!rc && pw_server_config_check(&sc, &e))
		rc = pw_cli_fail_err(CMD, &e);
	if (rc || o.check) {
		if (!rc) {
			printf("%s: configuration OK: %s on %s, %s database\n",
			       o.config ? o.config : PW_CONFIG_DEFAULT_PATH,
			       sc.tls_cert ? "HTTPS" : "plain HTTP (loopback)", sc.listen,
			       db_kind(sc.db_url));
			check_store(&sc.feeds, sc.db_url);
		}
		return rc;
	}

	/* Worker threads inherit this mask, so the signals reach sigwait. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	pw_server *s = NULL;
	if (pw_server_start(&sc, &s, &e)) {
		return pw_cli_fail_err(CMD, &e);
	}
	print_url(&sc, s);
	int sig = 0;
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		if (reload(&o, setup, cfg, s)) {
			pw_cli_warn(CMD, "no longer listening after SIGHUP: stopping");
			pw_server_stop(s);
			return PW_EXIT_ERROR;
		}
	pw_cli_note(CMD, "%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	pw_server_stop(s);
	return PW_EXIT_OK;
}
