/* patchwarden agent: enrollment, the check-in daemon and its status. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/agent.h"
#include "patchwarden/config.h"
#include "patchwarden/execjob.h"
#include "patchwarden/executor.h"
#include "patchwarden/separate.h"

#define CMD "agent"

struct opts {
	const char *action, *state_dir, *server, *token, *ca, *root, *store;
	const char *kind, *args; /* exec */
	int64_t timeout;         /* 0: not given */
	bool insecure, once, json;
};

static struct opts opt;

/* [agent] user: who the unprivileged side of `run` as root becomes. */
static const char *agent_user;

static const struct pw_option options[] = {
	PW_OPT_STRING(0, "state-dir", &opt.state_dir, "DIR",
		      "state directory (default " PW_AGENT_STATE_DIR ")"),
	PW_OPT_STRING(0, "server", &opt.server, "URL",
		      "https://HOST[:PORT] of the patchwarden server"),
	PW_OPT_STRING(0, "token", &opt.token, "TOKEN", "enrollment token (enroll)"),
	PW_OPT_STRING(0, "ca", &opt.ca, "FILE",
		      "PEM CA certificates the server's certificate must\n"
		      "chain to (default: the system's)"),
	PW_OPT_FLAG(0, "insecure", &opt.insecure,
		    "allow plain http://, to a loopback address only (tests);\n"
		    "https certificates are always verified"),
	PW_OPT_STRING(0, "root", &opt.root, "DIR",
		      "report the system under DIR (its packages, and the name in\n"
		      "DIR/etc/hostname when there is one)"),
	PW_OPT_STRING(0, "store", &opt.store, "FILE",
		      "feed store for scan jobs (default STATE-DIR/feeds.db,\n"
		      "filled by 'patchwarden feed sync')"),
	PW_OPT_INT(0, "timeout", &opt.timeout, 1, 3600, "SEC",
		   "time limit per request (default 60)"),
	PW_OPT_FLAG(0, "once", &opt.once, "run: one check-in, then exit (for tests and cron)"),
	PW_OPT_STRING(0, "args", &opt.args, "JSON",
		      "exec: the job's arguments, as the server would send them"),
	PW_OPT_FLAG(0, "json", &opt.json, "exec: print the job's output JSON"),
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden agent enroll --server URL --token TOKEN [OPTIONS]\n"
	"       patchwarden agent run [--once] [OPTIONS]\n"
	"       patchwarden agent status [OPTIONS]\n"
	"       patchwarden agent exec [KIND] [--args JSON] [--root DIR] [--json]\n"
	"\n"
	"The host agent: 'enroll' trades an enrollment token for this host's own\n"
	"credential (saved 0600 in the state directory with the server URL and\n"
	"CA file); 'run' checks in every interval the server gives (+-10% jitter),\n"
	"sends the inventory only when its hash changed, runs the jobs handed out\n"
	"(inventory, scan) and delivers their results, which wait in an on-disk\n"
	"spool until the server acknowledges them; 'status' shows the state.\n"
	"'exec' runs one executor job here and now, as a job from the server\n"
	"would run (KIND: simulate, the default, patch, hold, unhold, rollback,\n"
	"reboot, health, backup_check); an operator's dry tool: simulate changes\n"
	"nothing. Its exit status is 0 done, 1 failed, 2 refused or bad input.\n"
	"\n";

static const char usage_tail[] =
	"  (the configuration file's section [agent] holds the same settings)\n"
	"\n"
	"'run' stops cleanly on SIGTERM; on SIGHUP it reads its configuration file\n"
	"again and starts again with it (a file that does not load changes\n"
	"nothing). After a failed check-in it retries after\n"
	"2, 4, 8... seconds, at most the check-in interval. Exit status: 0 ok,\n"
	"2 on errors (for --once: the check-in failed). See patchwarden-agent(1).\n";

const struct pw_usage cmd_agent_usage = {usage_head, PW_OPT_TABLES(options), usage_tail, NULL};

static int parse(int argc, char **argv, struct pw_setup *setup, struct opts *o)
{
	int n = pw_cli_parse(CMD, setup, argc, argv, PW_OPT_TABLES(options), ~0u);
	if (n < 0)
		return PW_EXIT_ERROR;
	bool exec = n && !strcmp(argv[0], "exec");
	if (n > (exec ? 2 : 1))
		return pw_cli_usage_error(CMD, "unexpected argument '%s'", argv[exec ? 2 : 1]);
	*o = opt;
	o->action = n ? argv[0] : NULL;
	o->kind = exec && n > 1 ? argv[1] : "simulate";
	if (!o->action)
		return pw_cli_usage_error(CMD, "expected enroll, run or status");
	return PW_EXIT_OK;
}

/* `path` as an absolute path in buf (p itself when it is one or NULL):
 * under privilege separation the child works from its state directory, so
 * a path relative to where the agent was started would name another file. */
static const char *absolute(const char *path, char *buf, size_t size)
{
	char cwd[PATH_MAX];
	if (!path || path[0] == '/' || !getcwd(cwd, sizeof cwd))
		return path;
	if (snprintf(buf, size, "%s/%s", cwd, path) >= (int)size)
		return path;
	return buf;
}

/* Where the absolute forms of a configuration's paths are kept. */
struct conf_paths {
	char state_dir[PATH_MAX], ca[PATH_MAX], root[PATH_MAX], store[PATH_MAX];
};

/* Flags first, then the [agent] section of `cfg`. */
static pw_err conf_from(const struct opts *o, const pw_config *cfg, struct conf_paths *p,
			pw_agent_conf *conf, pw_error *e)
{
	long timeout, spool_max;
	if (pw_config_get_int(cfg, "agent", "timeout", PW_AGENT_TIMEOUT, &timeout, e) ||
	    pw_config_get_int(cfg, "agent", "spool_max_bytes", 0, &spool_max, e))
		return e->code;
	if (o->timeout)
		timeout = (long)o->timeout;
	if (timeout < 1 || spool_max < 0)
		return pw_error_set(e, PW_ERR_INVALID,
				    "[agent] timeout must be positive and spool_max_bytes not "
				    "negative");
	conf->state_dir = absolute(o->state_dir ? o->state_dir
						: pw_config_get(cfg, "agent", "state_dir"),
				   p->state_dir, sizeof p->state_dir);
	conf->server = o->server ? o->server : pw_config_get(cfg, "agent", "server");
	conf->ca_file = absolute(o->ca ? o->ca : pw_config_get(cfg, "agent", "ca"), p->ca,
				 sizeof p->ca);
	conf->root = absolute(o->root, p->root, sizeof p->root);
	conf->feed_store = absolute(o->store ? o->store : pw_config_get(cfg, "agent", "feed_store"),
				    p->store, sizeof p->store);
	conf->insecure = o->insecure;
	conf->timeout = timeout;
	conf->spool_max = (size_t)spool_max;
	conf->health_check = pw_config_get(cfg, "agent", "health_check");
	conf->backup_check = pw_config_get(cfg, "agent", "backup_check");
	if (conf->ca_file && access(conf->ca_file, R_OK) != 0)
		return pw_error_set(e, PW_ERR_IO, "%s: cannot read the CA file", conf->ca_file);
	return PW_OK;
}

static int settings(const struct opts *o, struct pw_setup *setup, pw_config **cfg,
		    pw_agent_conf *conf)
{
	static struct conf_paths paths;
	pw_error e = PW_ERROR_INIT;
	if (!(*cfg = pw_cli_config(CMD, setup)))
		return PW_EXIT_ERROR;
	if (conf_from(o, *cfg, &paths, conf, &e))
		return pw_cli_fail_err(CMD, &e);
	agent_user = pw_config_get(*cfg, "agent", "user");
	return PW_EXIT_OK;
}

/* ---- SIGHUP: the agent starts again with its configuration read again -- */

/* What reload_check reads again: the options and the file of this run. */
static struct {
	struct opts o;
	const char *path;
	bool must_exist;
} reload_from;

/* The configuration file still loads and makes a valid configuration;
 * else `why` says what is wrong and the agent keeps the one it has. */
static bool reload_check(char *why, size_t size)
{
	pw_error e = PW_ERROR_INIT;
	pw_config *cfg = NULL;
	struct conf_paths p;
	pw_agent_conf conf = PW_AGENT_CONF_INIT;
	pw_err rc = pw_config_load(reload_from.path, reload_from.must_exist, &cfg, &e);
	if (!rc)
		rc = conf_from(&reload_from.o, cfg, &p, &conf, &e);
	pw_config_free(cfg);
	if (rc)
		snprintf(why, size, "%s", pw_error_text(&e));
	return !rc;
}

/* Runs this program again with the arguments it was started with
 * (/proc/self/cmdline); returns only when that failed. */
static void restart(void)
{
	static char buf[8192];
	char *argv[128];
	FILE *f = fopen("/proc/self/cmdline", "re");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	size_t argc = 0;
	for (size_t i = 0; i < n && argc < sizeof argv / sizeof argv[0] - 1;
	     i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;
	if (!argc || n >= sizeof buf - 1)
		return;
	/* The binary's own path, so the process keeps its name. */
	static char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len <= 0 || (size_t)len >= sizeof self - 1)
		return;
	self[len] = '\0';
	/* Replaced by an upgrade: the new binary at the same path. */
	static const char deleted[] = " (deleted)";
	if ((size_t)len > sizeof deleted - 1 && !strcmp(self + len - (sizeof deleted - 1), deleted))
		self[len - (sizeof deleted - 1)] = '\0';
	fflush(NULL);
	execv(self, argv);
	fprintf(stderr, "patchwarden agent: SIGHUP: cannot start again: %s\n", strerror(errno));
}

static int do_enroll(const pw_agent_conf *conf, const char *token)
{
	pw_error e = PW_ERROR_INIT;
	char *id = NULL;
	bool pending = false;
	if (pw_agent_client_enroll(conf, token, &id, &pending, &e))
		return pw_cli_fail_err(CMD, &e);
	if (pending)
		printf("enrolled as %s, waiting: the server knows this machine with another live "
		       "agent, so an operator must approve the re-key ('patchwarden host rekey "
		       "HOST approve' after 'patchwarden host show HOST'); until then check-ins "
		       "are refused\n",
		       id);
	else
		printf("enrolled as %s\n", id);
	free(id);
	return PW_EXIT_OK;
}

static int do_status(const pw_agent_conf *conf)
{
	pw_error e = PW_ERROR_INIT;
	pw_agent_client *c;
	if (pw_agent_client_open(conf, &c, &e))
		return pw_cli_fail_err(CMD, &e);
	const char *h = pw_agent_client_acked_hash(c), *t = pw_agent_client_last_checkin(c);
	printf("agent_id: %s\nserver: %s\nspooled_results: %zu\ninventory_hash_acked: %s\n"
	       "last_checkin: %s\ncheckin_interval: %ld\n",
	       pw_agent_client_id(c), pw_agent_client_server(c), pw_agent_client_spooled(c),
	       *h ? h : "-", *t ? t : "-", pw_agent_client_interval(c));
	char sandbox[512];
	pw_agent_sandbox_read(conf->state_dir ? conf->state_dir : PW_AGENT_STATE_DIR, sandbox,
			      sizeof sandbox);
	printf("privileges: %s\n", *sandbox ? sandbox : "-");
	pw_agent_client_close(c);
	return PW_EXIT_OK;
}

static void print_exec(const pw_exec_request *req, const pw_exec_result *res)
{
	printf("%s: %s: %s\n", pw_exec_kind_name(req->kind), pw_exec_status_name(res->status),
	       res->message);
	for (size_t i = 0; i < res->n_changes; i++) {
		const pw_exec_change *c = &res->changes[i];
		printf("  %-9s %s %s -> %s%s\n", pw_change_action_name(c->action), c->name,
		       c->before[0] ? c->before : "-", c->after[0] ? c->after : "-",
		       c->ok ? "" : " (failed)");
	}
	if (req->kind == PW_EXEC_SIMULATE)
		printf("resolves: %s\n", res->resolves ? "yes" : "no");
	printf("db_state: %s\nneeds_reboot: %s\n", pw_pkgdb_state_name(res->db_state),
	       res->needs_reboot ? "yes" : "no");
	for (size_t i = 0; i < res->n_services; i++)
		printf("restart: %s\n", res->services[i]);
}

/* One executor job now, in this process: what a job from the server
 * with these arguments would do. */
static int do_exec(const struct opts *o, const pw_agent_conf *conf)
{
	pw_error e = PW_ERROR_INIT;
	cJSON *args = NULL;
	if (o->args && !(args = cJSON_Parse(o->args)))
		return pw_cli_fail(CMD, "--args is not JSON");
	pw_exec_request *req = calloc(1, sizeof *req);
	if (!req) {
		cJSON_Delete(args);
		return pw_cli_fail(CMD, "out of memory");
	}
	pw_exec_result res;
	pw_exec_result_init(&res);
	pw_executor_conf xc = {conf->root,           NULL, conf->health_check, conf->backup_check,
			       (unsigned)o->timeout, NULL};
	int rc;
	if (pw_exec_request_from_json(o->kind, args, req, &e) ||
	    pw_executor_run(&xc, req, &res, &e)) {
		rc = pw_cli_fail_err(CMD, &e);
	} else if (o->json) {
		cJSON *out = pw_exec_result_to_json(req, &res);
		rc = pw_cli_print_json(CMD, out);
		if (!rc)
			rc = pw_exec_status_exit(res.status);
	} else {
		print_exec(req, &res);
		rc = pw_exec_status_exit(res.status);
	}
	pw_exec_result_release(&res);
	free(req);
	cJSON_Delete(args);
	return rc;
}

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_stop(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	stop_requested = 1;
}

/* Sleeps up to `seconds`; a stop signal ends the wait early. */
static void wait_for(double seconds)
{
	struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
	while (!stop_requested && nanosleep(&ts, &ts) != 0)
		;
}

static void log_cycle(const pw_agent_cycle_report *r, double next)
{
	pw_cli_note(CMD,
		    "check-in ok: %s %.12s; %zu results sent, %zu acknowledged; "
		    "%zu jobs run; %zu spooled; next in %.0fs",
		    r->sent_inventory ? "inventory sent, hash" : "hash only,", r->inventory_hash,
		    r->results_sent, r->results_acked, r->jobs_run, r->spooled, next);
	if (r->inventory_error[0])
		pw_cli_warn(CMD, "the inventory could not be read, the last hash was sent: %s",
			    r->inventory_error);
	if (r->reboot[0])
		pw_cli_note(CMD, "%s", r->reboot);
	if (r->sent_runtime)
		pw_cli_note(CMD, "runtime sent: %.12s", r->runtime_hash);
	else if (r->runtime_error[0])
		pw_cli_warn(CMD, "the running processes could not be read: %s", r->runtime_error);
	if (r->results_renumbered)
		pw_cli_warn(CMD,
			    "%zu results renumbered: the server holds other results under their "
			    "numbers (this agent's counter went back); they are sent again",
			    r->results_renumbered);
	if (r->inventory_refused[0])
		pw_cli_warn(CMD, "%s", r->inventory_refused);
	if (r->jobs_failed || r->results_quarantined)
		pw_cli_warn(CMD, "%zu jobs failed, %zu damaged results set aside: %s",
			    r->jobs_failed, r->results_quarantined, r->job_error);
	if (r->results_refused)
		pw_cli_warn(CMD, "%zu results replaced by failed ones: %s", r->results_refused,
			    r->job_error);
	if (r->jobs_released)
		pw_cli_warn(CMD,
			    "%zu jobs given back to the server: their results could not be "
			    "kept",
			    r->jobs_released);
}

/* The daemon sleeps between check-ins holding nothing but its state, so
 * what a check-in allocated (the package database read whole, the
 * inventory JSON, a scan's index) should go back to the kernel rather
 * than stay in the heap. A fixed mmap threshold keeps glibc from raising
 * it after the first big free, so big buffers stay mmapped and are
 * unmapped on free; one arena keeps libcurl's resolver thread from
 * starting a second heap. */
static void tune_malloc(void)
{
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_ARENA_MAX, 1);
}

/* The separated child's channel to its parent; fd -1 when not separated. */
static pw_agent_sep sep = {-1, ""};

/* As root: fork into the privileged parent (which does not come back)
 * and the sandboxed child that goes on (patchwarden/separate.h). */
static int separate(const pw_agent_conf *conf, bool *exit_now)
{
	pw_error e = PW_ERROR_INIT;
	*exit_now = false;
	if (geteuid() != 0) {
		char line[160];
		snprintf(line, sizeof line,
			 "privileges are not separated: running as uid %u, not root (one "
			 "process, no sandbox of its own)",
			 (unsigned)geteuid());
		fprintf(stderr, "patchwarden agent: %s\n", line);
		pw_agent_sandbox_write(conf->state_dir ? conf->state_dir : PW_AGENT_STATE_DIR,
				       line);
		return PW_EXIT_OK;
	}
	static pw_executor_conf ex;
	ex.root = conf->root ? conf->root : "/";
	ex.health_check = conf->health_check;
	ex.backup_check = conf->backup_check;
	pw_agent_sep_conf sc = {
		agent_user,   conf->state_dir ? conf->state_dir : PW_AGENT_STATE_DIR,
		conf->root,   conf->ca_file,
		conf->server, conf->feed_store,
		&ex,          reload_check,
		restart};
	if (pw_agent_separate(&sc, &sep, &e))
		return pw_cli_fail_err(CMD, &e);
	fprintf(stderr, "patchwarden agent: %s\n", sep.applied);
#ifdef PW_TEST_HOOKS
	int code;
	if (pw_agent_separate_test_frames(&sep, &code)) {
		*exit_now = true;
		return code;
	}
#endif
	return PW_EXIT_OK;
}

static int do_run(const pw_agent_conf *conf, bool once)
{
	pw_error e = PW_ERROR_INIT;
	pw_agent_client *c;
	bool exit_now;
	int src = separate(conf, &exit_now);
	if (src || exit_now)
		return src;
	tune_malloc();
	if (pw_agent_client_open(conf, &c, &e))
		return pw_cli_fail_err(CMD, &e);
	if (sep.fd >= 0) /* executor jobs: asked of the privileged parent */
		pw_agent_client_set_exec(c, pw_agent_privsep_exec, &sep);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop; /* no SA_RESTART: a stop ends the wait */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	unsigned failures = 0;
	int rc = PW_EXIT_OK;
again:
	while (!stop_requested) {
		pw_agent_cycle_report r;
		pw_error ce = PW_ERROR_INIT;
		double jitter = (double)random() / ((double)RAND_MAX + 1.0), next;
		if (pw_agent_client_checkin(c, &r, &ce)) {
			failures += failures < 31;
			next = pw_agent_next_delay(pw_agent_client_interval(c), failures, jitter);
			pw_cli_warn(CMD,
				    "check-in failed (%s): %s; %zu results spooled; retry in %.0fs",
				    pw_strerror(ce.code), pw_error_text(&ce),
				    pw_agent_client_spooled(c), next);
			rc = PW_EXIT_ERROR;
		} else {
			failures = 0;
			rc = PW_EXIT_OK;
			/* Results of jobs just run, or more than one check-in could
			 * carry: deliver them now rather than an interval later. */
			bool more = r.jobs_run || r.results_renumbered ||
				    (r.results_acked && r.spooled);
			next = more ? 1.0
				    : pw_agent_next_delay(pw_agent_client_interval(c), 0, jitter);
			log_cycle(&r, once ? 0 : next);
		}
		if (once)
			break;
		malloc_trim(0); /* the free pages of this check-in, see tune_malloc() */
		wait_for(next);
	}
	/* Separated, the parent reads the file again (the sandbox cannot) and
	 * starts a new child: SIGHUP stops this one like SIGTERM. */
	if (reload_requested && sep.fd < 0) {
		char why[PW_ERROR_MSG_MAX];
		reload_requested = stop_requested = 0;
		if (!reload_check(why, sizeof why)) {
			pw_cli_warn(CMD, "SIGHUP: %s; going on with the previous configuration",
				    why);
			goto again;
		}
		pw_cli_note(CMD,
			    "SIGHUP: configuration read again: starting again with it; %zu "
			    "results stay spooled",
			    pw_agent_client_spooled(c));
		pw_agent_client_close(c);
		restart();
		return PW_EXIT_ERROR;
	}
	if (stop_requested)
		pw_cli_note(CMD, "stopping; %zu results stay spooled", pw_agent_client_spooled(c));
	pw_agent_client_close(c);
	return once ? rc : PW_EXIT_OK;
}

int cmd_agent(int argc, char **argv, struct pw_setup *setup)
{
	struct opts o = {0};
	int rc = parse(argc, argv, setup, &o);
	if (rc)
		return rc;
	bool enroll = !strcmp(o.action, "enroll"), run = !strcmp(o.action, "run");
	bool exec = !strcmp(o.action, "exec");
	if (!enroll && !run && !exec && strcmp(o.action, "status"))
		return pw_cli_usage_error(CMD,
					  "unknown action '%s'; expected enroll, run, status or "
					  "exec",
					  o.action);
	if ((o.args || o.json) && !exec)
		return pw_cli_usage_error(CMD, "--args and --json are for exec only");
	if (o.token && !enroll)
		return pw_cli_usage_error(CMD, "--token is for enroll only");
	if (o.once && !run)
		return pw_cli_usage_error(CMD, "--once is for run only");
	pw_config *cfg = NULL;
	pw_agent_conf conf = PW_AGENT_CONF_INIT;
	reload_from.o = o;
	reload_from.path = pw_cli_config_path(setup);
	reload_from.must_exist = setup->config_path != NULL;
	rc = settings(&o, setup, &cfg, &conf);
	if (!rc)
		rc = enroll ? do_enroll(&conf, o.token)
		     : run  ? do_run(&conf, o.once)
		     : exec ? do_exec(&o, &conf)
			    : do_status(&conf);
	if (fflush(stdout) != 0 || ferror(stdout))
		return pw_cli_fail(CMD, "cannot write the output");
	return rc;
}
