/* pw_executor_run: one validated request, dispatched. Package kinds go
 * to the backend of the root's os-release (or the configured one);
 * health and backup checks run what the agent's configuration names:
 *   tcp:HOST:PORT        a TCP connect within the timeout
 *   http://… https://…   /usr/bin/curl -f (curl is the agent's one extra
 *                        runtime dependency, for HTTP checks only: the
 *                        executor links no HTTP library)
 *   command:/abs/path A… the program, with the words after it as its
 *                        arguments (split on spaces, never a shell)
 * A reboot needs PW_EXEC_ALLOW_REBOOT; acting on an install root other
 * than "/" (the tests) it is recorded and nothing reboots. */
#include "patchwarden/executor.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "executor-internal.h"
#include "patchwarden/buf.h"
#include "patchwarden/fileio.h"
#include "patchwarden/inventory.h"
#include "patchwarden/procuse.h"
#include "patchwarden/run.h"

#define DEFAULT_CHECK_TIMEOUT 60
#define MAX_WORDS 32

static bool is_root_fs(const char *root)
{
	return !root || !strcmp(root, "/");
}

/* The value of KEY= in os-release text, unquoted, into out. */
static void os_release_value(const char *text, const char *key, char *out, size_t size)
{
	size_t kl = strlen(key);
	out[0] = '\0';
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, kl) || p[kl] != '=')
			continue;
		const char *v = p + kl + 1;
		size_t n = strcspn(v, "\n");
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
			v++, n -= 2;
		snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), v);
		return;
	}
}

static const pw_pkgmgr *backend_of(const pw_executor_conf *conf, char *why, size_t size)
{
	if (conf->backend) {
		const pw_pkgmgr *m = pw_pkgmgr_find(conf->backend);
		if (!m)
			snprintf(why, size, "no package-manager backend named %s", conf->backend);
		return m;
	}
	const char *root = is_root_fs(conf->root) ? "" : conf->root;
	static const char *const files[] = {"/etc/os-release", "/usr/lib/os-release"};
	pw_buf b = PW_BUF_INIT, path = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	bool read = false;
	for (size_t i = 0; i < 2 && !read; i++) {
		pw_buf_reset(&path);
		read = !pw_buf_printf(&path, "%s%s", root, files[i]) &&
		       !pw_read_file(pw_buf_str(&path), &b, 65536, &e);
	}
	char id[64] = "", like[256] = "";
	if (read) {
		os_release_value(pw_buf_str(&b), "ID", id, sizeof id);
		os_release_value(pw_buf_str(&b), "ID_LIKE", like, sizeof like);
	}
	pw_buf_release(&b);
	pw_buf_release(&path);
	const pw_pkgmgr *m = pw_pkgmgr_for_os(id, like);
	if (!m)
		snprintf(why, size,
			 "no package-manager backend for this system (os-release ID \"%s\", "
			 "ID_LIKE \"%s\")",
			 id, like);
	return m;
}

static unsigned timeout_of(const pw_executor_conf *conf)
{
	return conf->timeout_s ? conf->timeout_s : DEFAULT_CHECK_TIMEOUT;
}

static void log_output(pw_exec_result *res, const pw_run_result *rr)
{
	size_t n = rr->output.len < PW_EXEC_LOG_MAX ? rr->output.len : PW_EXEC_LOG_MAX;
	if (n)
		(void)pw_buf_append(&res->log, rr->output.data, n);
}

/* Runs argv (argv[0] absolute) and says DONE on exit status 0. */
static pw_err run_check(const pw_executor_conf *conf, const char *what, const char *const argv[],
			pw_exec_result *res, pw_error *err)
{
	pw_run_opts o = {NULL, NULL, NULL, timeout_of(conf), 65536, NULL, 0};
	pw_run_result rr = PW_RUN_RESULT_INIT;
	pw_error e = PW_ERROR_INIT;
	if (pw_run(argv, &o, &rr, &e)) {
		pw_run_result_release(&rr);
		return pw_exec_result_say(res, PW_EXEC_FAILED, "%s: %s", what, pw_error_text(&e));
	}
	(void)err;
	log_output(res, &rr);
	res->exit_code = rr.exit_code;
	char d[64];
	pw_run_describe(&rr, &o, d, sizeof d);
	bool ok = rr.exit_code == 0 && !rr.timed_out && !rr.signal;
	pw_run_result_release(&rr);
	return pw_exec_result_say(res, ok ? PW_EXEC_DONE : PW_EXEC_FAILED, "%s: %s (%s)", what,
				  ok ? "passed" : "failed", d);
}

/* "command:/abs/path A B": words split on spaces. */
static pw_err run_command(const pw_executor_conf *conf, const char *what, const char *spec,
			  pw_exec_result *res, pw_error *err)
{
	char *copy = strdup(spec);
	const char *argv[MAX_WORDS + 1];
	size_t n = 0;
	if (!copy)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	for (char *p = copy; *p && n < MAX_WORDS;) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		argv[n++] = p;
		p += strcspn(p, " ");
	}
	argv[n] = NULL;
	pw_err rc;
	if (!n || argv[0][0] != '/')
		rc = pw_exec_result_say(res, PW_EXEC_REFUSED,
					"%s: the configured command must start with an absolute "
					"path (command:/path ARG...)",
					what);
	else
		rc = run_check(conf, what, argv, res, err);
	free(copy);
	return rc;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A connect to one address within the deadline: 0, or an errno. */
static int try_connect(const struct addrinfo *a, long long deadline)
{
	int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			a->ai_protocol);
	if (fd < 0)
		return errno;
	int e = 0;
	if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
		e = errno;
		if (e == EINPROGRESS) {
			struct pollfd p = {fd, POLLOUT, 0};
			long long left = deadline - now_ms();
			int n = poll(&p, 1, left > 0 ? (int)left : 0);
			socklen_t l = sizeof e;
			if (n == 0)
				e = ETIMEDOUT;
			else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
				e = errno;
		}
	}
	close(fd);
	return e;
}

/* "tcp:HOST:PORT" ([v6] in brackets). */
static pw_err run_tcp(const pw_executor_conf *conf, const char *spec, pw_exec_result *res)
{
	char host[256];
	const char *h = spec + 4, *port = strrchr(h, ':');
	size_t hl = port ? (size_t)(port - h) : 0;
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
		h++, hl -= 2;
	if (!port || !hl || hl >= sizeof host || !port[1])
		return pw_exec_result_say(res, PW_EXEC_REFUSED,
					  "health check %s: expected tcp:HOST:PORT", spec);
	memcpy(host, h, hl);
	host[hl] = '\0';
	struct addrinfo hints = {0}, *ai = NULL;
	hints.ai_socktype = SOCK_STREAM;
	int g = getaddrinfo(host, port + 1, &hints, &ai);
	if (g)
		return pw_exec_result_say(res, PW_EXEC_FAILED, "health check %s: %s", spec,
					  gai_strerror(g));
	long long deadline = now_ms() + (long long)timeout_of(conf) * 1000;
	int e = ENOENT;
	for (const struct addrinfo *a = ai; a && e; a = a->ai_next)
		e = try_connect(a, deadline);
	freeaddrinfo(ai);
	res->exit_code = e ? 1 : 0;
	(void)pw_buf_printf(&res->log, "connect %s: %s\n", spec, e ? strerror(e) : "ok");
	return pw_exec_result_say(res, e ? PW_EXEC_FAILED : PW_EXEC_DONE, "health check %s: %s",
				  spec, e ? strerror(e) : "connected");
}

static pw_err run_health(const pw_executor_conf *conf, pw_exec_result *res, pw_error *err)
{
	const char *hc = conf->health_check;
	if (!hc || !*hc)
		return pw_exec_result_say(res, PW_EXEC_REFUSED,
					  "no health check configured ([agent] health_check)");
	if (!strncmp(hc, "command:", 8))
		return run_command(conf, "health check", hc + 8, res, err);
	if (!strncmp(hc, "tcp:", 4))
		return run_tcp(conf, hc, res);
	if (!strncmp(hc, "http://", 7) || !strncmp(hc, "https://", 8)) {
		char t[16];
		snprintf(t, sizeof t, "%u", timeout_of(conf));
		const char *argv[] = {"/usr/bin/curl",  "-fsS", "-o", "/dev/null", "-w",
				      "%{http_code}\n", "-m",   t,    hc,          NULL};
		return run_check(conf, "health check", argv, res, err);
	}
	return pw_exec_result_say(res, PW_EXEC_REFUSED,
				  "health check %s: expected http://, https://, tcp:HOST:PORT or "
				  "command:/path",
				  hc);
}

static pw_err run_reboot(const pw_executor_conf *conf, const pw_exec_request *req,
			 pw_exec_result *res, pw_error *err)
{
	if (!(req->flags & PW_EXEC_ALLOW_REBOOT))
		return pw_exec_result_say(res, PW_EXEC_REFUSED,
					  "a reboot needs a job that allows it (allow_reboot)");
#ifdef PW_TEST_HOOKS
	/* Tests play the reboot with a command of theirs (absolute path and
	 * blank-separated arguments, no shell): that the parent ran it. */
	const char *hook = getenv("PATCHWARDEN_TEST_REBOOT_CMD");
	if (hook && *hook)
		return run_command(conf, "reboot", hook, res, err);
#endif
	if (!is_root_fs(conf->root) || conf->bin_dir)
		return pw_exec_result_say(res, PW_EXEC_DONE,
					  "reboot allowed but not done: the executor acts on %s, "
					  "not this host (test hook)",
					  conf->root ? conf->root : "a test root");
	const char *sd[] = {"/usr/bin/systemctl", "reboot", NULL};
	const char *sh[] = {"/sbin/shutdown", "-r", "now", NULL};
	return run_check(conf, "reboot", access(sd[0], X_OK) == 0 ? sd : sh, res, err);
}

/* The inventory request: what only root sees, the running processes'
 * use of the packages and the services still running deleted code. The
 * inventory itself the asking side reads (it is world-readable). */
static pw_err run_runtime(const pw_executor_conf *conf, pw_exec_result *res, pw_error *err)
{
	const char *root = is_root_fs(conf->root) ? "/" : conf->root;
	pw_inventory inv = PW_INVENTORY_INIT;
	pw_procuse *pu = NULL;
	pw_error e = PW_ERROR_INIT;
	pw_runtime *rt = calloc(1, sizeof *rt);
	if (!rt)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory reading the processes");
	pw_err rc = pw_inventory_read(root, &inv, &e);
	if (!rc)
		rc = pw_procuse_read("/proc", root, &pu, &e);
	if (!rc)
		rc = pw_runtime_from_procuse(pu, &inv, rt, &e);
	for (size_t i = 0; !rc && i < rt->n_restarts; i++) {
		char unit[PW_RUNTIME_UNIT_MAX + 1];
		if (!pw_pid_unit(rt->restarts[i].pid, unit, sizeof unit))
			continue;
		if (!(rt->restarts[i].unit = strdup(unit)))
			rc = pw_error_set(&e, PW_ERR_NOMEM, "out of memory reading the processes");
		if (!rc)
			rc = pw_exec_result_add_service(res, unit, &e);
	}
	pw_procuse_free(pu);
	pw_inventory_release(&inv);
	if (rc) {
		pw_runtime_release(rt);
		free(rt);
		if (rc == PW_ERR_NOMEM)
			return pw_error_set(err, rc, "%s", e.msg);
		return pw_exec_result_say(res, PW_EXEC_FAILED, "running processes unknown: %s",
					  e.msg);
	}
	res->runtime = rt;
	res->exit_code = 0;
	return pw_exec_result_say(res, PW_EXEC_DONE,
				  "%zu processes read%s: %zu packages in use, %zu processes "
				  "running deleted files (%zu services)",
				  rt->processes, rt->in_use_known ? "" : " (incomplete)",
				  rt->n_in_use, rt->n_restarts, res->n_services);
}

pw_err pw_executor_run(const pw_executor_conf *conf, const pw_exec_request *req,
		       pw_exec_result *res, pw_error *err)
{
	char why[PW_ERROR_MSG_MAX] = "";
	const pw_pkgmgr *m = backend_of(conf, why, sizeof why);
	pw_pkgmgr_ctx ctx = {is_root_fs(conf->root) ? "/" : conf->root, conf->timeout_s,
			     conf->bin_dir};
	pw_err rc = PW_OK;
	switch (req->kind) {
	case PW_EXEC_SIMULATE:
	case PW_EXEC_PATCH:
	case PW_EXEC_HOLD:
	case PW_EXEC_UNHOLD:
	case PW_EXEC_ROLLBACK:
		if (!m)
			return pw_exec_result_say(res, PW_EXEC_REFUSED, "%s", why);
		rc = m->run(&ctx, req, res, err);
		break;
	case PW_EXEC_HEALTH:
		rc = run_health(conf, res, err);
		break;
	case PW_EXEC_BACKUP_CHECK:
		if (!conf->backup_check || strncmp(conf->backup_check, "command:", 8))
			rc = pw_exec_result_say(res, PW_EXEC_REFUSED,
						"no backup check configured ([agent] "
						"backup_check = command:/path ARG...)");
		else
			rc = run_command(conf, "backup check", conf->backup_check + 8, res, err);
		break;
	case PW_EXEC_REBOOT:
		rc = run_reboot(conf, req, res, err);
		break;
	case PW_EXEC_INVENTORY:
		return run_runtime(conf, res, err);
	default:
		return pw_exec_result_say(res, PW_EXEC_REFUSED, "the executor does not run %s jobs",
					  pw_exec_kind_name(req->kind)
						  ? pw_exec_kind_name(req->kind)
						  : "such");
	}
	if (!rc && m && res->db_state == PW_PKGDB_UNKNOWN)
		res->db_state = m->db_state(&ctx, NULL);
	return rc;
}

bool pw_cgroup_unit(const char *text, size_t len, char *unit, size_t size)
{
	/* cgroup v2: "0::/system.slice/foo.service"; v1 lines have
	 * "name=systemd:" paths. The last path element ending .service. */
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		for (const char *s = le; s > p; s--) {
			if (s[-1] != '/')
				continue;
			size_t n = (size_t)(le - s);
			const char *sfx = ".service";
			if (n > 8 && n < size && !memcmp(le - 8, sfx, 8) &&
			    (le - p > 13 && memmem(p, (size_t)(le - p), "system.slice/", 13))) {
				memcpy(unit, s, n);
				unit[n] = '\0';
				return true;
			}
			break;
		}
		p = nl ? nl + 1 : end;
	}
	return false;
}

bool pw_pid_unit(int pid, char *unit, size_t size)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
	pw_buf b = PW_BUF_INIT;
	bool found = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		char chunk[4096];
		ssize_t n;
		while ((n = read(fd, chunk, sizeof chunk)) > 0 && b.len < 65536)
			(void)pw_buf_append(&b, chunk, (size_t)n);
		close(fd);
		found = pw_cgroup_unit(b.data ? b.data : "", b.len, unit, size);
	}
	pw_buf_release(&b);
	return found;
}
