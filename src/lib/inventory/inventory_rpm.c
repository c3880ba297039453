/* rpm databases. Their formats (sqlite, ndb, Berkeley DB) belong to rpm,
 * so the rpm program itself lists the packages: `rpm --root DIR --dbpath
 * PATH -qa --qf PW_INVENTORY_RPM_QF`, one tab-separated line a package. */
#include "inventory-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum { Q_NAME, Q_EPOCH, Q_VERSION, Q_RELEASE, Q_ARCH, Q_SRPM, Q_COUNT };

static bool span_is(struct pw_span s, const char *lit)
{
	return strlen(lit) == s.n && memcmp(s.p, lit, s.n) == 0;
}

static bool all_digits(struct pw_span s)
{
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
	return true;
}

static char *evr(struct pw_span epoch, struct pw_span v, struct pw_span r)
{
	pw_buf b = PW_BUF_INIT;
	if ((epoch.n && pw_buf_printf(&b, "%.*s:", (int)epoch.n, epoch.p)) ||
	    pw_buf_printf(&b, "%.*s-%.*s", (int)v.n, v.p, (int)r.n, r.p)) {
		pw_buf_release(&b);
		return NULL;
	}
	return pw_buf_detach(&b);
}

/* "bash-5.1.8-6.el9.src.rpm" -> name "bash", version "5.1.8", release
 * "6.el9". False when the file name has not that shape. */
static bool split_srpm(struct pw_span s, struct pw_span *name, struct pw_span *v, struct pw_span *r)
{
	static const char *const suffixes[] = {".src.rpm", ".nosrc.rpm"};
	bool suffixed = false;
	for (size_t i = 0; i < 2 && !suffixed; i++) {
		size_t n = strlen(suffixes[i]);
		if (s.n > n && memcmp(s.p + s.n - n, suffixes[i], n) == 0) {
			s.n -= n;
			suffixed = true;
		}
	}
	const char *dash2 = NULL, *dash1 = NULL;
	for (size_t i = s.n; suffixed && i-- > 0;) {
		if (s.p[i] != '-')
			continue;
		if (!dash2) {
			dash2 = s.p + i;
		} else {
			dash1 = s.p + i;
			break;
		}
	}
	if (!dash1 || dash1 == s.p || dash2 == dash1 + 1 || dash2 == s.p + s.n - 1)
		return false;
	*name = (struct pw_span){s.p, (size_t)(dash1 - s.p)};
	*v = (struct pw_span){dash1 + 1, (size_t)(dash2 - dash1 - 1)};
	*r = (struct pw_span){dash2 + 1, (size_t)(s.p + s.n - dash2 - 1)};
	return true;
}

static pw_err parse_line(pw_inventory *inv, const char *line, size_t n, const char *file,
			 unsigned long lno)
{
	struct pw_span f[Q_COUNT];
	size_t nf = 0;
	const char *p = line, *end = line + n;
	for (;;) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		const char *stop = tab ? tab : end;
		if (nf < Q_COUNT)
			f[nf] = (struct pw_span){p, (size_t)(stop - p)};
		nf++;
		if (!tab)
			break;
		p = tab + 1;
	}
	char q[PW_INV_EXCERPT + 4];
	if (nf != Q_COUNT) {
		pw_inv_excerpt(q, sizeof q, line, n);
		return pw_inv_warn(inv,
				   "%s:%lu: '%s' has %zu tab-separated fields, not %d; skipped",
				   file, lno, q, nf, Q_COUNT);
	}
	/* The public keys rpm keeps as packages are not software. */
	if (span_is(f[Q_NAME], "gpg-pubkey"))
		return PW_OK;
	static const char *const what[Q_COUNT] = {"name",    "epoch",        "version",
						  "release", "architecture", "source rpm"};
	for (int i = 0; i < Q_COUNT; i++) {
		bool ok = i == Q_EPOCH ? all_digits(f[i]) : pw_inv_is_token(f[i].p, f[i].n);
		if (!ok) {
			pw_inv_excerpt(q, sizeof q, f[i].p, f[i].n);
			return pw_inv_warn(inv, "%s:%lu: %s '%s' is not valid; package skipped",
					   file, lno, what[i], q);
		}
	}
	struct pw_span sname = f[Q_NAME], sv = f[Q_VERSION], sr = f[Q_RELEASE];
	if (!span_is(f[Q_SRPM], "(none)") && !split_srpm(f[Q_SRPM], &sname, &sv, &sr)) {
		pw_inv_excerpt(q, sizeof q, f[Q_SRPM].p, f[Q_SRPM].n);
		pw_err rc =
			pw_inv_warn(inv,
				    "%s:%lu: source rpm '%s' is not NAME-VERSION-RELEASE"
				    ".src.rpm; the package's own name and version stand in for it",
				    file, lno, q);
		if (rc)
			return rc;
	}
	/* A source rpm's file name carries no epoch; its packages share one. */
	pw_package pkg = {0};
	if (!(pkg.name = pw_inv_strndup(f[Q_NAME].p, f[Q_NAME].n)) ||
	    !(pkg.version = evr(f[Q_EPOCH], f[Q_VERSION], f[Q_RELEASE])) ||
	    !(pkg.source = pw_inv_strndup(sname.p, sname.n)) ||
	    !(pkg.source_version = evr(f[Q_EPOCH], sv, sr)) ||
	    !(pkg.status = strdup("installed")) ||
	    (!span_is(f[Q_ARCH], "(none)") &&
	     !(pkg.arch = pw_inv_strndup(f[Q_ARCH].p, f[Q_ARCH].n)))) {
		pw_package_release(&pkg);
		return PW_ERR_NOMEM;
	}
	return pw_inv_push(inv, &pkg);
}

pw_err pw_inventory_parse_rpm_qa(pw_inventory *inv, const char *data, size_t len, const char *name,
				 pw_error *err)
{
	inv->scheme = PW_SCHEME_RPM;
	const char *p = data, *end = data + len;
	unsigned long lno = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		lno++;
		if (n) {
			pw_err rc = parse_line(inv, p, n, name, lno);
			if (rc)
				return pw_error_set(err, rc, "%s: out of memory", name);
		}
		p = nl ? nl + 1 : end;
	}
	return PW_OK;
}

/* Reads both pipes to the end; stderr is kept up to a bound, since only
 * its start goes into a message. */
static pw_err drain(int out_fd, int err_fd, pw_buf *out, pw_buf *errb)
{
	struct pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
	int open_fds = 2;
	char chunk[65536];
	while (open_fds) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return PW_ERR_IO;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = read(fds[i].fd, chunk, sizeof chunk);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			pw_buf *b = i == 0 ? out : errb;
			if (i == 1 && b->len > 8192)
				continue;
			if (i == 0 && b->len + (size_t)r > PW_INV_MAX_FILE)
				return PW_ERR_TOOLARGE;
			if (pw_buf_append(b, chunk, (size_t)r))
				return PW_ERR_NOMEM;
		}
	}
	return PW_OK;
}

/* Runs argv, collecting stdout and stderr; *status is the wait status. */
static pw_err run(char *const argv[], pw_buf *out, pw_buf *errb, int *status, int *spawn_errno)
{
	int po[2] = {-1, -1}, pe[2] = {-1, -1};
	pw_err rc = PW_ERR_IO;
	posix_spawn_file_actions_t fa;
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
		*spawn_errno = errno;
		goto close_pipes;
	}
	if ((*spawn_errno = posix_spawn_file_actions_init(&fa)))
		goto close_pipes;
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	pid_t pid;
	*spawn_errno = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (*spawn_errno)
		goto close_pipes;
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	rc = drain(po[0], pe[0], out, errb);
	if (rc)
		kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
close_pipes:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	return rc;
}

pw_err pw_inv_read_rpm(pw_inventory *inv, const char *root, const char *dbpath, pw_error *err)
{
	/* posix_spawn wants char *const argv[]: give it copies, not casts. */
	char *root_arg = strdup(root), *dbpath_arg = strdup(dbpath);
	char *argv[] = {"rpm",      "--root", root_arg, "--dbpath",
			dbpath_arg, "-qa",    "--qf",   PW_INVENTORY_RPM_QF,
			NULL};
	pw_buf out = PW_BUF_INIT, errb = PW_BUF_INIT, name = PW_BUF_INIT;
	int status = 0, spawn_errno = 0;
	pw_err rc;
	inv->scheme = PW_SCHEME_RPM;
	if (!root_arg || !dbpath_arg) {
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = run(argv, &out, &errb, &status, &spawn_errno);
	if (spawn_errno) {
		rc = pw_error_set(err, spawn_errno == ENOENT ? PW_ERR_NOTFOUND : PW_ERR_EXTERNAL,
				  "%s%s: an rpm database is there, but the rpm program %s; install "
				  "rpm to inventory it",
				  root, dbpath,
				  spawn_errno == ENOENT ? "is not installed" : "cannot be started");
		goto out;
	}
	if (rc) {
		pw_error_set(err, rc, "rpm --root %s -qa: %s", root,
			     rc == PW_ERR_TOOLARGE ? "output larger than the limit"
						   : pw_strerror(rc));
		goto out;
	}
	/* rpm's own complaint is the most useful message: its first line. */
	const char *e = pw_buf_str(&errb);
	size_t elen = strcspn(e, "\n");
	char q[256];
	pw_inv_excerpt(q, sizeof q, e, elen);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = pw_error_set(err, PW_ERR_EXTERNAL,
				  "rpm --root %s --dbpath %s -qa failed (%s %d)%s%s", root, dbpath,
				  WIFEXITED(status) ? "exit status" : "signal",
				  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				  elen ? ": " : "", q);
		goto out;
	}
	if (elen && (rc = pw_inv_warn(inv, "rpm: %s", q)))
		goto out;
	if (pw_buf_printf(&name, "rpm --root %s -qa", root)) {
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = pw_inventory_parse_rpm_qa(inv, pw_buf_str(&out), out.len, name.data, err);
out:
	free(root_arg);
	free(dbpath_arg);
	pw_buf_release(&out);
	pw_buf_release(&errb);
	pw_buf_release(&name);
	return rc;
}

pw_err pw_inv_rpm_kernel_release(const pw_package *pkg, char **release)
{
	static const char *const kernels[] = {"kernel", "kernel-core", "kernel-uek",
					      "kernel-uek-core"};
	*release = NULL;
	bool is_kernel = false;
	for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
		is_kernel |= strcmp(pkg->name, kernels[i]) == 0;
	if (!is_kernel || !pkg->version || !pkg->arch)
		return PW_OK;
	/* uname -r on these systems is VERSION-RELEASE.ARCH, without epoch. */
	const char *colon = strchr(pkg->version, ':');
	pw_buf b = PW_BUF_INIT;
	if (pw_buf_printf(&b, "%s.%s", colon ? colon + 1 : pkg->version, pkg->arch)) {
		pw_buf_release(&b);
		return PW_ERR_NOMEM;
	}
	*release = pw_buf_detach(&b);
	return PW_OK;
}
