#include "patchwarden/run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_OUTPUT ((size_t)1 << 20)
#define KILL_GRACE_MS 5000

static const char *const default_env[] = {
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	"LANG=C.UTF-8",
	NULL,
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Only async-signal-safe calls between fork and exec: the agent may have
 * threads (libcurl's resolver). Reports errno on `report` and exits. */
static void child(const char *const argv[], const pw_run_opts *o, const char *const *env, int in_fd,
		  int out_fd, int report)
{
	int e = 0;
	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		e = errno;
	else if (o->chroot && strcmp(o->chroot, "/") && chroot(o->chroot) < 0)
		e = errno;
	else if (chdir(o->dir ? o->dir : "/") < 0)
		e = errno;
	if (!e) {
		close_range(3, report - 1, 0);
		close_range(report + 1, ~0u, 0);
		/* execve's prototype predates const; it does not write them. */
		char *const *args, *const *envp;
		memcpy(&args, &argv, sizeof args);
		memcpy(&envp, &env, sizeof envp);
		execve(argv[0], args, envp);
		e = errno;
	}
	(void)!write(report, &e, sizeof e);
	_exit(127);
}

static void feed_input(int *fd, const pw_run_opts *o, size_t *sent)
{
	ssize_t n = write(*fd, o->input + *sent, o->input_len - *sent);
	if (n > 0)
		*sent += (size_t)n;
	if ((n < 0 && errno != EAGAIN && errno != EINTR) || *sent == o->input_len) {
		close(*fd);
		*fd = -1;
	}
}

static pw_err drain(int *fd, size_t max, pw_run_result *r, pw_error *err)
{
	char chunk[16384];
	ssize_t n = read(*fd, chunk, sizeof chunk);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return PW_OK;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return PW_OK;
	}
	size_t keep = r->output.len < max ? max - r->output.len : 0;
	if (keep > (size_t)n)
		keep = (size_t)n;
	r->dropped += (size_t)n - keep;
	if (keep && pw_buf_append(&r->output, chunk, keep))
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory reading a program's output");
	return PW_OK;
}

/* Reads output and feeds input until the output closes, the deadline
 * passes or the process ends; kills the group on the deadline. */
static pw_err supervise(pid_t pid, int out, int in, const pw_run_opts *o, pw_run_result *r,
			pw_error *err)
{
	size_t max = o->max_output ? o->max_output : DEFAULT_MAX_OUTPUT;
	long long deadline = o->timeout_s ? now_ms() + (long long)o->timeout_s * 1000 : 0;
	long long kill_at = 0;
	size_t sent = 0;
	pw_err rc = PW_OK;
	while (out >= 0 && !rc) {
		struct pollfd p[2] = {{out, POLLIN, 0}, {in, POLLOUT, 0}};
		int wait = -1;
		long long t = now_ms();
		if (kill_at)
			wait = (int)(kill_at > t ? kill_at - t : 0);
		else if (deadline)
			wait = (int)(deadline > t ? deadline - t : 0);
		int n = poll(p, in >= 0 ? 2 : 1, wait);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && p[0].revents)
			rc = drain(&out, max, r, err);
		if (n > 0 && in >= 0 && p[1].revents)
			feed_input(&in, o, &sent);
		t = now_ms();
		if (deadline && !kill_at && t >= deadline) {
			r->timed_out = true;
			kill(-pid, SIGTERM);
			kill_at = t + KILL_GRACE_MS;
		} else if (kill_at && t >= kill_at) {
			kill(-pid, SIGKILL);
			/* A grandchild holding the pipe must not keep us here. */
			break;
		}
	}
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r->timed_out)
		kill(-pid, SIGKILL);
	r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	r->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	return rc;
}

pw_err pw_run(const char *const argv[], const pw_run_opts *o, pw_run_result *r, pw_error *err)
{
	static const pw_run_opts none = {0};
	if (!o)
		o = &none;
	if (!argv || !argv[0] || argv[0][0] != '/')
		return pw_error_set(err, PW_ERR_INVALID,
				    "program '%s' is not an absolute path; the executor runs no "
				    "PATH search",
				    argv && argv[0] ? argv[0] : "(none)");
	int out[2] = {-1, -1}, in[2] = {-1, -1}, rep[2] = {-1, -1};
	if (pipe2(out, O_CLOEXEC) || pipe2(rep, O_CLOEXEC) ||
	    (o->input ? pipe2(in, O_CLOEXEC) : (in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC))) <
		    0) {
		int e = errno;
		for (int i = 0; i < 2; i++) {
			if (out[i] >= 0)
				close(out[i]);
			if (rep[i] >= 0)
				close(rep[i]);
			if (in[i] >= 0)
				close(in[i]);
		}
		return pw_error_set(err, PW_ERR_EXTERNAL, "%s: cannot make pipes: %s", argv[0],
				    strerror(e));
	}
	pid_t pid = fork();
	if (pid == 0)
		child(argv, o, o->env ? o->env : default_env, in[0], out[1], rep[1]);
	close(out[1]);
	close(rep[1]);
	close(in[0]);
	if (pid < 0) {
		int e = errno;
		close(out[0]);
		close(rep[0]);
		if (in[1] >= 0)
			close(in[1]);
		return pw_error_set(err, PW_ERR_EXTERNAL, "%s: cannot fork: %s", argv[0],
				    strerror(e));
	}
	int e = 0;
	ssize_t n;
	while ((n = read(rep[0], &e, sizeof e)) < 0 && errno == EINTR)
		;
	close(rep[0]);
	if (in[1] >= 0)
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	if (n == (ssize_t)sizeof e) {
		close(out[0]);
		if (in[1] >= 0)
			close(in[1]);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return pw_error_set(err, PW_ERR_EXTERNAL, "cannot run %s: %s", argv[0],
				    strerror(e));
	}
	return supervise(pid, out[0], in[1], o, r, err);
}

void pw_run_result_release(pw_run_result *r)
{
	pw_buf_release(&r->output);
}

void pw_run_describe(const pw_run_result *r, const pw_run_opts *o, char *out, size_t size)
{
	if (r->timed_out)
		snprintf(out, size, "timed out after %u s", o ? o->timeout_s : 0);
	else if (r->signal)
		snprintf(out, size, "killed by signal %d", r->signal);
	else
		snprintf(out, size, "exit status %d", r->exit_code);
}
