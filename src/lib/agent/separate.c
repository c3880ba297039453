#include "patchwarden/separate.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "patchwarden/buf.h"
#include "patchwarden/fileio.h"
#include "patchwarden/privmsg.h"
#include "patchwarden/privsep.h"

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

/* ---- handing the state directory to the agent user -------------------- */

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	/* Never follows a link: FTW_PHYS, and lchown on the entry itself. */
	return lchown(path, chown_uid, chown_gid) ? -1 : 0;
}

static pw_err hand_over(const char *dir, uid_t uid, gid_t gid, pw_error *err)
{
	if (mkdir(dir, 0700) && errno != EEXIST)
		return pw_error_set(err, PW_ERR_IO, "%s: cannot make the state directory: %s", dir,
				    strerror(errno));
	struct stat st;
	if (lstat(dir, &st) || !S_ISDIR(st.st_mode))
		return pw_error_set(err, PW_ERR_IO, "%s: not a directory", dir);
	chown_uid = uid;
	chown_gid = gid;
	if (nftw(dir, chown_one, 16, FTW_PHYS | FTW_MOUNT))
		return pw_error_set(err, PW_ERR_IO, "%s: cannot hand it to uid %u: %s", dir,
				    (unsigned)uid, strerror(errno));
	if (chmod(dir, 0700))
		return pw_error_set(err, PW_ERR_IO, "%s: chmod: %s", dir, strerror(errno));
	return PW_OK;
}

/* ---- dropping privileges ---------------------------------------------- */

static pw_err fail(pw_error *err, const char *what)
{
	return pw_error_set(err, PW_ERR_EXTERNAL, "dropping privileges: %s: %s", what,
			    strerror(errno));
}

static pw_err drop(uid_t uid, gid_t gid, pw_error *err)
{
	/* While still root: the bounding set, so that nothing can come back. */
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return fail(err, "PR_CAPBSET_DROP");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return fail(err, "PR_CAP_AMBIENT_CLEAR_ALL");
	if (setgroups(0, NULL))
		return fail(err, "setgroups");
	if (setresgid(gid, gid, gid))
		return fail(err, "setresgid");
	if (setresuid(uid, uid, uid))
		return fail(err, "setresuid");
	uid_t r, e, s;
	gid_t rg, eg, sg;
	if (getresuid(&r, &e, &s) || r != uid || e != uid || s != uid || getresgid(&rg, &eg, &sg) ||
	    rg != gid || eg != gid || sg != gid || getgroups(0, NULL) != 0)
		return pw_error_set(err, PW_ERR_EXTERNAL, "dropping privileges: ids not as set");
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return pw_error_set(err, PW_ERR_EXTERNAL,
				    "dropping privileges: root could be regained");
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d))
		return fail(err, "capget");
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return pw_error_set(err, PW_ERR_EXTERNAL,
					    "dropping privileges: capabilities left (capget)");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return fail(err, "PR_SET_NO_NEW_PRIVS");
	return PW_OK;
}

/* ---- Landlock --------------------------------------------------------- */

#define FS_FILE_RIGHTS                                                                             \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                              \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |                              \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)
#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

/* One path's rule; a path that does not exist is skipped. */
static pw_err ll_allow(int ruleset, const char *path, uint64_t access, uint64_t handled,
		       pw_error *err)
{
	if (!path || !*path)
		return PW_OK;
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == EACCES ? PW_OK : fail(err, path);
	struct stat st;
	if (fstat(fd, &st)) {
		close(fd);
		return fail(err, path);
	}
	if (!S_ISDIR(st.st_mode))
		access &= FS_FILE_RIGHTS;
	struct landlock_path_beneath_attr pb = {.allowed_access = access & handled,
						.parent_fd = fd};
	long rc = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	if (rc)
		return pw_error_set(err, PW_ERR_EXTERNAL, "landlock: %s: %s", path,
				    strerror(errno));
	return PW_OK;
}

/* A string member of the credential saved at enrollment ("ca_file",
 * "server"); NULL when none (caller frees). */
static char *credential_str(const char *state_dir, const char *key)
{
	char path[4096];
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	char *out = NULL;
	snprintf(path, sizeof path, "%s/credential", state_dir);
	if (!pw_read_file(path, &b, 1 << 16, &e)) {
		cJSON *o = cJSON_Parse(pw_buf_str(&b));
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
		if (cJSON_IsString(v))
			out = strdup(v->valuestring);
		cJSON_Delete(o);
	}
	pw_buf_release(&b);
	return out;
}

/* The TCP port of an http(s) URL, 0 when it has none we can tell. */
static unsigned long url_port(const char *url)
{
	if (!url)
		return 0;
	bool tls = !strncmp(url, "https://", 8);
	if (!tls && strncmp(url, "http://", 7))
		return 0;
	const char *h = url + (tls ? 8 : 7), *end = h + strcspn(h, "/?#");
	const char *colon = NULL;
	for (const char *p = *h == '[' ? memchr(h, ']', (size_t)(end - h)) : h; p && p < end; p++)
		if (*p == ':')
			colon = p;
	if (!colon)
		return tls ? 443 : 80;
	char *e;
	unsigned long port = strtoul(colon + 1, &e, 10);
	return e == end && port > 0 && port < 65536 ? port : 0;
}

/* Landlock's network rules (ABI 4, Linux 6.7), newer than some headers. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs, handled_access_net;
};
struct ll_net_port_attr {
	uint64_t allowed_access, port;
};
#define LL_RULE_NET_PORT 2
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)

/* What TCP the child may do: connect to the server's port only (unless a
 * proxy is configured: then any port), never bind. */
static pw_err ll_net(int rs, unsigned long port, pw_error *err)
{
	if (!port)
		return PW_OK;
	struct ll_net_port_attr np = {LL_NET_CONNECT_TCP, port};
	if (syscall(SYS_landlock_add_rule, rs, LL_RULE_NET_PORT, &np, 0))
		return pw_error_set(err, PW_ERR_EXTERNAL, "landlock: port %lu: %s", port,
				    strerror(errno));
	return PW_OK;
}

static bool proxy_configured(void)
{
	static const char *const vars[] = {"https_proxy", "HTTPS_PROXY", "http_proxy", "ALL_PROXY",
					   "all_proxy"};
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		if (getenv(vars[i]) && *getenv(vars[i]))
			return true;
	return false;
}

/* `said` gets what was applied ("no landlock (kernel)" when nothing). */
static pw_err landlock(const pw_agent_sep_conf *c, char *said, size_t size, pw_error *err)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	snprintf(said, size, "no landlock (kernel)");
	if (v <= 0)
		return PW_OK;
	uint64_t handled = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
			   LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
			   LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
			   LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
			   LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
			   LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
			   LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (v >= 2)
		handled |= LANDLOCK_ACCESS_FS_REFER;
	if (v >= 3)
		handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (v >= 5)
		handled |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	/* TCP from ABI 4: bind never, connect to the server's port only. */
	char *saved_server = credential_str(c->state_dir, "server");
	unsigned long port = url_port(c->server ? c->server : saved_server);
	free(saved_server);
	bool proxy = proxy_configured();
	struct ll_ruleset_attr attr = {handled, 0};
	if (v >= 4)
		attr.handled_access_net = LL_NET_BIND_TCP |
					  (port && !proxy ? LL_NET_CONNECT_TCP : 0);
	int rs = (int)syscall(SYS_landlock_create_ruleset, &attr,
			      v >= 4 ? sizeof attr : sizeof attr.handled_access_fs, 0);
	if (rs < 0)
		return fail(err, "landlock_create_ruleset");
	if (v < 4)
		snprintf(said, size, "landlock ABI %ld (files)", v);
	else if (attr.handled_access_net & LL_NET_CONNECT_TCP)
		snprintf(said, size,
			 "landlock ABI %ld (files; tcp: connect to port %lu and 53 only, no bind)",
			 v, port);
	else
		snprintf(said, size, "landlock ABI %ld (files; tcp: no bind%s)", v,
			 proxy ? ", any port through the proxy" : "");
	/* Reads: libraries (curl, TLS, NSS modules), the system's configuration
	 * (resolver, CA certificates, os-release), the package databases the
	 * inventory reads, /proc for the processes' view. Writes: the state
	 * directory (credential, state, spool) and /dev/null. */
	static const char *const reads[] = {
		"/etc",
		"/usr",
		"/lib",
		"/lib64",
		"/lib32",
		"/var/lib",
		"/proc",
		"/sys/devices/system/cpu",
		"/run/systemd/resolve",
		"/dev/urandom",
		"/dev/random",
	};
	uint64_t all = handled & ~(uint64_t)LANDLOCK_ACCESS_FS_EXECUTE;
	pw_err rc = PW_OK;
	for (size_t i = 0; !rc && i < sizeof reads / sizeof reads[0]; i++)
		rc = ll_allow(rs, reads[i], FS_READ, handled, err);
	if (!rc)
		rc = ll_allow(rs, c->root, FS_READ, handled, err);
	if (!rc)
		rc = ll_allow(rs, c->ca_file, FS_READ, handled, err);
	char *saved = credential_str(c->state_dir, "ca_file");
	if (!rc)
		rc = ll_allow(rs, saved, FS_READ, handled, err);
	free(saved);
	if (!rc)
		rc = ll_allow(rs, c->feed_store, FS_READ, handled, err);
	if (!rc)
		rc = ll_allow(rs, "/dev/null",
			      LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE, handled,
			      err);
	if (!rc)
		rc = ll_allow(rs, c->state_dir, all, handled, err);
	/* The server's port, and 53: DNS over TCP, the resolver's fallback
	 * for long answers. */
	if (!rc && (attr.handled_access_net & LL_NET_CONNECT_TCP))
		rc = ll_net(rs, port, err);
	if (!rc && (attr.handled_access_net & LL_NET_CONNECT_TCP) && port != 53)
		rc = ll_net(rs, 53, err);
	if (!rc && syscall(SYS_landlock_restrict_self, rs, 0))
		rc = fail(err, "landlock_restrict_self");
	close(rs);
	return rc;
}

/* ---- seccomp ---------------------------------------------------------- */

/* A sanitizer build's LeakSanitizer stops the world at exit with a
 * non-thread clone and ptrace: there the filter lets those through (the
 * log says so). Production builds have no sanitizer. */
#if defined(__SANITIZE_ADDRESS__)
#define PW_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PW_LSAN 1
#endif
#endif
#ifndef PW_LSAN
#define PW_LSAN 0
#endif

/* What the agent's network, JSON, inventory and spool code calls: glibc,
 * libcurl (with its resolver thread), OpenSSL, SQLite (the feed store of
 * scan jobs), zlib. */
static const char *const allowed[] = {
	"read",
	"write",
	"readv",
	"writev",
	"pread64",
	"pwrite64",
	"lseek",
	"close",
	"close_range",
	"open",
	"openat",
	"fstat",
	"newfstatat",
	"stat",
	"lstat",
	"statx",
	"statfs",
	"fstatfs",
	"getdents64",
	"rename",
	"renameat",
	"renameat2",
	"unlink",
	"unlinkat",
	"mkdir",
	"mkdirat",
	"rmdir",
	"fsync",
	"fdatasync",
	"ftruncate",
	"flock",
	"fcntl",
	"readlink",
	"readlinkat",
	"access",
	"faccessat",
	"faccessat2",
	"fchmod",
	"umask",
	"getcwd",
	"dup",
	"dup2",
	"dup3",
	"fadvise64",
	"pipe2",
	"eventfd2",
	"mmap",
	"munmap",
	"mremap",
	"mprotect",
	"madvise",
	"brk",
	"membarrier",
	"socket",
	"connect",
	"bind",
	"getsockname",
	"getpeername",
	"getsockopt",
	"setsockopt",
	"sendto",
	"recvfrom",
	"sendmsg",
	"recvmsg",
	"sendmmsg",
	"recvmmsg",
	"shutdown",
	"poll",
	"ppoll",
	"select",
	"pselect6",
	"epoll_create1",
	"epoll_ctl",
	"epoll_wait",
	"epoll_pwait",
	"futex",
	"set_robust_list",
	"get_robust_list",
	"rseq",
	"set_tid_address",
	"sched_yield",
	"sched_getaffinity",
	"gettid",
	"getpid",
	"getppid",
	"getuid",
	"geteuid",
	"getgid",
	"getegid",
	"getresuid",
	"getresgid",
	"getgroups",
	"exit",
	"exit_group",
	"rt_sigaction",
	"rt_sigprocmask",
	"rt_sigreturn",
	"sigaltstack",
	"rt_sigtimedwait",
	"clock_gettime",
	"clock_getres",
	"clock_nanosleep",
	"nanosleep",
	"gettimeofday",
	"time",
	"uname",
	"sysinfo",
	"getrandom",
	"prlimit64",
	"getrlimit",
	"getrusage",
	"restart_syscall",
	"wait4",
};

/* Never: the child has no business with these; the process dies. */
static const char *const killed[] = {
	"execve",
	"execveat",
	"ptrace",
	"mount",
	"umount2",
	"pivot_root",
	"chroot",
	"fsopen",
	"fsmount",
	"fsconfig",
	"move_mount",
	"open_tree",
	"init_module",
	"finit_module",
	"delete_module",
	"kexec_load",
	"kexec_file_load",
	"reboot",
	"swapon",
	"swapoff",
	"bpf",
	"perf_event_open",
	"process_vm_readv",
	"process_vm_writev",
	"keyctl",
	"add_key",
	"request_key",
	"unshare",
	"setns",
	"setuid",
	"setgid",
	"setreuid",
	"setregid",
	"setresuid",
	"setresgid",
	"setgroups",
	"setfsuid",
	"setfsgid",
	"capset",
	"mknod",
	"mknodat",
	"personality",
	"userfaultfd",
	"open_by_handle_at",
	"name_to_handle_at",
	"iopl",
	"ioperm",
	"acct",
	"settimeofday",
	"clock_settime",
	"clock_adjtime",
	"adjtimex",
	"syslog",
	"quotactl",
	"fork",
	"vfork",
	"chown",
	"fchown",
	"lchown",
	"fchownat",
	"landlock_create_ruleset",
	"landlock_add_rule",
	"landlock_restrict_self",
	"seccomp",
};

static pw_err add_names(scmp_filter_ctx f, const char *const *names, size_t n, uint32_t action,
			pw_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		int rc = seccomp_rule_add(f, action, nr, 0);
		if (rc)
			return pw_error_set(err, PW_ERR_EXTERNAL, "seccomp: %s: %s", names[i],
					    strerror(-rc));
	}
	return PW_OK;
}

/* SCMP_A0() and friends leave datum_b to the compiler's zeroing, which
 * clang's -Wmissing-field-initializers refuses. */
static struct scmp_arg_cmp cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
	struct scmp_arg_cmp c = {arg, op, a, b};
	return c;
}

static pw_err seccomp(pw_error *err)
{
	/* Anything not listed fails with EPERM (a library's optional probe
	 * must not kill the agent); the dangerous ones kill the process. */
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!f)
		return pw_error_set(err, PW_ERR_EXTERNAL, "seccomp_init failed");
	pw_err rc = add_names(f, allowed, sizeof allowed / sizeof allowed[0], SCMP_ACT_ALLOW, err);
	for (size_t i = 0; !rc && i < sizeof killed / sizeof killed[0]; i++)
		if (!PW_LSAN || strcmp(killed[i], "ptrace"))
			rc = add_names(f, &killed[i], 1, SCMP_ACT_KILL_PROCESS, err);
	int r = 0;
	if (PW_LSAN && !rc &&
	    ((r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ptrace), 0)) ||
	     (r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				   cmp(0, SCMP_CMP_EQ, PR_SET_PDEATHSIG, 0))) ||
	     (r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				   cmp(0, SCMP_CMP_EQ, PR_SET_PTRACER, 0)))))
		rc = pw_error_set(err, PW_ERR_EXTERNAL, "seccomp: sanitizer: %s", strerror(-r));
	/* Threads only (CLONE_THREAD), never a new process or namespace;
	 * clone3's flags are out of a filter's reach: ENOSYS makes glibc
	 * fall back to clone. */
	const uint64_t ns = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
			    CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
	if (!rc &&
	    ((r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				   cmp(0, SCMP_CMP_MASKED_EQ, ns | (PW_LSAN ? 0 : CLONE_THREAD),
				       PW_LSAN ? 0 : CLONE_THREAD))) ||
	     (r = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0))))
		rc = pw_error_set(err, PW_ERR_EXTERNAL, "seccomp: clone: %s", strerror(-r));
	/* Sockets: IP, Unix (nscd) and netlink (getaddrinfo's AI_ADDRCONFIG). */
	static const int families[] = {AF_INET, AF_INET6, AF_UNIX, AF_NETLINK};
	for (size_t i = 0; !rc && i < 4; i++)
		if ((r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
					  cmp(0, SCMP_CMP_EQ, (scmp_datum_t)families[i], 0))))
			rc = pw_error_set(err, PW_ERR_EXTERNAL, "seccomp: socket: %s",
					  strerror(-r));
	/* ioctl: the few that libc and curl ask (is it a terminal, bytes
	 * readable, non-blocking). */
	static const unsigned long ioctls[] = {TCGETS, FIONREAD, FIONBIO, TIOCGWINSZ};
	for (size_t i = 0; !rc && i < 4; i++)
		if ((r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					  cmp(1, SCMP_CMP_EQ, (scmp_datum_t)ioctls[i], 0))))
			rc = pw_error_set(err, PW_ERR_EXTERNAL, "seccomp: ioctl: %s", strerror(-r));
	/* tgkill to this process only (raise, abort). */
	if (!rc && (r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
					 cmp(0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0))))
		rc = pw_error_set(err, PW_ERR_EXTERNAL, "seccomp: tgkill: %s", strerror(-r));
	/* prctl: names of threads only. */
	if (!rc && (r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
					 cmp(0, SCMP_CMP_EQ, PR_SET_NAME, 0))))
		rc = pw_error_set(err, PW_ERR_EXTERNAL, "seccomp: prctl: %s", strerror(-r));
	if (!rc && (r = seccomp_load(f)))
		rc = pw_error_set(err, PW_ERR_EXTERNAL, "seccomp_load: %s", strerror(-r));
	seccomp_release(f);
	return rc;
}

/* ---- the fork --------------------------------------------------------- */

#ifdef PW_TEST_HOOKS
static int test_frames_fd = -1;
#endif

static void close_others(int keep)
{
	if (keep > 3)
		syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u);
	syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u);
}

static volatile pid_t child_pid;
static volatile sig_atomic_t reload_requested, stop_forwarded;

/* A stop signal is for the child (systemd's KillMode=mixed sends it to
 * the parent only): the parent ends when the child has, and a package
 * manager it runs is not interrupted. SIGHUP stops the child too; the
 * parent then starts the agent again (pw_agent_sep_conf). */
static void on_stop(int sig)
{
	int saved = errno;
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_forwarded = 1;
	if (child_pid > 0)
		kill(child_pid, sig == SIGHUP ? SIGTERM : sig);
	errno = saved;
}

static void parent(int fd, pid_t pid)
{
	child_pid = pid;
	signal(SIGPIPE, SIG_IGN);
	/* A handler rather than SIG_IGN, which programs it runs would inherit. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	int null = open("/dev/null", O_RDONLY);
	if (null >= 0) {
		dup2(null, 0);
		if (null > 2)
			close(null);
	}
	close_others(fd);
	if (chdir("/"))
		_exit(2);
}

void pw_agent_sandbox_write(const char *state_dir, const char *applied)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/sandbox", state_dir);
	pw_error e = PW_ERROR_INIT;
	char line[600];
	int n = snprintf(line, sizeof line, "%s\n", applied);
	pw_write_file_atomic(path, line, (size_t)n, 0600, &e);
}

#if PW_LSAN
/* LeakSanitizer's exit check stops the process from a tracer whose calls
 * the sandbox refuses, and the tracee then stays stopped for good: the
 * sandboxed child of a sanitizer build ends before that check (on_exit
 * runs before the sanitizer's earlier atexit handler). AddressSanitizer's
 * own checks stay on, and the same code is leak-checked unsandboxed by
 * the unit tests (test_agent). */
static void exit_before_leak_check(int status, void *arg)
{
	(void)arg;
	fflush(NULL);
	_exit(status);
}
#endif

static pw_err child(const pw_agent_sep_conf *c, const struct passwd *pw, int fd, pw_agent_sep *out,
		    pw_error *err)
{
#if PW_LSAN
	on_exit(exit_before_leak_check, NULL);
#endif
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	out->fd = fd;
#ifdef PW_TEST_HOOKS
	const char *frames = getenv("PATCHWARDEN_PRIVSEP_FRAMES");
	if (frames && (test_frames_fd = open(frames, O_RDONLY | O_CLOEXEC)) < 0)
		return pw_error_set(err, PW_ERR_IO, "%s: %s", frames, strerror(errno));
#endif
	if (drop(pw->pw_uid, pw->pw_gid, err))
		return err->code;
	if (chdir(c->state_dir))
		return fail(err, c->state_dir);
	if (c->ca_file && access(c->ca_file, R_OK))
		return pw_error_set(err, PW_ERR_IO,
				    "%s: the agent user %s cannot read this CA file (%s); make it "
				    "readable, it holds no secret",
				    c->ca_file, pw->pw_name, strerror(errno));
	char ll[200];
	if (landlock(c, ll, sizeof ll, err) || seccomp(err))
		return err->code;
	/* A user name of 200 bytes or more would cut the line: it stays a line. */
	if (snprintf(
		    out->applied, sizeof out->applied,
		    "separated: user %.200s (uid %u), no capabilities, no_new_privs, seccomp%s, %s",
		    pw->pw_name, (unsigned)pw->pw_uid,
		    PW_LSAN ? " (ptrace and clone open for LeakSanitizer)" : "",
		    ll) >= (int)sizeof out->applied)
		out->applied[sizeof out->applied - 1] = '\0';
	pw_agent_sandbox_write(c->state_dir, out->applied);
	return PW_OK;
}

/* SIGHUP ended the child: the agent again with the configuration read
 * again, or, when it does not load, a new child with this one. */
static void reload(const pw_agent_sep_conf *c)
{
	char why[PW_ERROR_MSG_MAX] = "no reload configured";
	reload_requested = 0;
	if (c->reload_check && c->reload_check(why, sizeof why) && c->restart) {
		fprintf(stderr, "patchwarden agent: SIGHUP: configuration read again: starting "
				"again with it\n");
		c->restart();
		snprintf(why, sizeof why, "starting again failed");
	}
	fprintf(stderr,
		"patchwarden agent: SIGHUP: %s; a new child goes on with the previous "
		"configuration\n",
		why);
}

/* Forks the child, which returns false with *rc (PW_OK: its privileges
 * dropped). The parent serves it and exits with its status, or after a
 * SIGHUP returns true: start another. */
static bool serve_child(const pw_agent_sep_conf *c, const struct passwd *whop, const char *scheme,
			pw_agent_sep *out, pw_error *err, pw_err *rc)
{
	struct passwd who = *whop;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		*rc = pw_error_set(err, PW_ERR_EXTERNAL, "socketpair: %s", strerror(errno));
		return false;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		*rc = pw_error_set(err, PW_ERR_EXTERNAL, "fork: %s", strerror(errno));
		return false;
	}
	if (pid == 0) {
		/* The parent's handlers would forward a stop to an older child:
		 * until the agent sets its own, a stop ends this one. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		close(sv[0]);
		*rc = child(c, &who, sv[1], out, err);
		return false;
	}
	close(sv[1]);
	parent(sv[0], pid);
	fprintf(stderr,
		"patchwarden agent: privileged parent %ld serves child %ld (user %s); package "
		"scheme %s\n",
		(long)getpid(), (long)pid, who.pw_name, scheme ? scheme : "unknown (refused)");
	pw_privsep_stats st;
	pw_privsep_serve(sv[0], c->exec, scheme, &st);
	close(sv[0]);
	bool bad = !st.clean;
	fprintf(stderr,
		"patchwarden agent: privileged parent: %zu requests served, %zu refused; %s\n",
		st.served, st.refused, st.ended);
	if (bad)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* A stop that reached the child before its own handler did. */
	bool stopped = WIFSIGNALED(status) && stop_forwarded &&
		       (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGINT);
	if (WIFSIGNALED(status) && !bad && !stopped)
		fprintf(stderr,
			"patchwarden agent: privileged parent: the child was killed by "
			"signal %d\n",
			WTERMSIG(status));
	if (bad)
		_exit(2);
	if (reload_requested) {
		reload(c);
		return true;
	}
	_exit(stopped ? 0 : WIFEXITED(status) ? WEXITSTATUS(status) : 2);
}

pw_err pw_agent_separate(const pw_agent_sep_conf *c, pw_agent_sep *out, pw_error *err)
{
	const char *user = c->user && *c->user ? c->user : PW_AGENT_USER;
#ifdef PW_TEST_HOOKS
	/* Test builds: the test scripts' default user when no [agent] user is
	 * configured (tests/scripts/lib/agent.sh sets it to nobody). */
	if (!(c->user && *c->user) && getenv("PATCHWARDEN_AGENT_USER"))
		user = getenv("PATCHWARDEN_AGENT_USER");
#endif
	memset(out, 0, sizeof *out);
	out->fd = -1;
	if (geteuid() != 0)
		return pw_error_set(err, PW_ERR_INVALID, "privilege separation needs root");
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (!pw)
		return pw_error_set(err, PW_ERR_NOTFOUND,
				    "the agent user '%s' does not exist: create it (useradd "
				    "--system --no-create-home %s) or name another in [agent] user",
				    user, user);
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		return pw_error_set(err, PW_ERR_INVALID,
				    "the agent user '%s' is root or in group root: refusing", user);
	struct passwd who = *pw;
	char name[256];
	snprintf(name, sizeof name, "%s", pw->pw_name);
	who.pw_name = name;
	if (hand_over(c->state_dir, who.pw_uid, who.pw_gid, err))
		return err->code;
	const char *scheme = pw_privsep_host_scheme(c->exec ? c->exec->root : NULL);
	pw_err rc = PW_OK;
	while (serve_child(c, &who, scheme, out, err, &rc))
		;
	return rc;
}

pw_err pw_agent_privsep_exec(void *ctx, const pw_exec_request *req, pw_exec_result *res,
			     pw_error *err)
{
	const pw_agent_sep *sep = ctx;
	return pw_privsep_call(sep->fd, req, res, err);
}

void pw_agent_sandbox_read(const char *state_dir, char *out, size_t size)
{
	char path[4096];
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	snprintf(path, sizeof path, "%s/sandbox", state_dir);
	out[0] = '\0';
	if (!pw_read_file(path, &b, 1024, &e))
		snprintf(out, size, "%.*s", (int)strcspn(pw_buf_str(&b), "\n"), pw_buf_str(&b));
	pw_buf_release(&b);
}

#ifdef PW_TEST_HOOKS
/* One chunk of the frames file: *shut for bit 31 of its length. */
static bool next_chunk(int fd, pw_buf *chunk, bool *shut)
{
	uint8_t h[4];
	if (read(fd, h, 4) != 4)
		return false;
	size_t n = (size_t)(h[0] & 0x7f) << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	*shut = h[0] & 0x80;
	pw_buf_reset(chunk);
	if (n > PW_PRIVMSG_MAX + 4 || pw_buf_reserve(chunk, n))
		return false;
	chunk->len = n;
	return read(fd, chunk->data, n) == (ssize_t)n;
}

/* PATCHWARDEN_PRIVSEP_TRY=write:PATH|exec:PATH|setuid|ptrace: what a
 * compromised child would try next. Prints what happened, if it lives. */
static void try_escape(const char *what)
{
	if (!strncmp(what, "write:", 6)) {
		int fd = open(what + 6, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		fprintf(stderr, "try %s: %s%s\n", what,
			fd >= 0 ? "allowed" : "refused: ", fd >= 0 ? "" : strerror(errno));
		if (fd >= 0)
			close(fd);
	} else if (!strncmp(what, "exec:", 5)) {
		execl(what + 5, what + 5, (char *)NULL);
		fprintf(stderr, "try %s: refused: %s\n", what, strerror(errno));
	} else if (!strncmp(what, "connect:", 8) || !strncmp(what, "bind:", 5)) {
		bool conn = what[0] == 'c';
		struct sockaddr_in a = {.sin_family = AF_INET};
		a.sin_port = htons((uint16_t)strtoul(strchr(what, ':') + 1, NULL, 10));
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int rc = fd < 0 ? -1
			 : conn ? connect(fd, (struct sockaddr *)&a, sizeof a)
				: bind(fd, (struct sockaddr *)&a, sizeof a);
		fprintf(stderr, "try %s: %s\n", what, rc ? strerror(errno) : "allowed");
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(what, "setuid")) {
		fprintf(stderr, "try setuid: %d\n", setuid(0));
	} else if (!strcmp(what, "ptrace")) {
		fprintf(stderr, "try ptrace: %ld\n", syscall(SYS_ptrace, 0L, 0L, 0L, 0L));
	}
}

int pw_agent_separate_test_frames(const pw_agent_sep *sep, int *exit_code)
{
	const char *try = getenv("PATCHWARDEN_PRIVSEP_TRY");
	if (try) {
		try_escape(try);
		*exit_code = 0;
		return 1;
	}
	if (test_frames_fd < 0)
		return 0;
	pw_buf chunk = PW_BUF_INIT, reply = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	bool shut = false;
	for (int n = 1; !shut && next_chunk(test_frames_fd, &chunk, &shut); n++) {
		if (write(sep->fd, chunk.data, chunk.len) != (ssize_t)chunk.len) {
			fprintf(stderr, "reply %d: none: cannot send: %s\n", n, strerror(errno));
			break;
		}
		if (shut)
			shutdown(sep->fd, SHUT_WR);
		pw_exec_result res;
		pw_exec_result_init(&res);
		if (pw_privmsg_recv(sep->fd, &reply, PW_PRIVMSG_MAX, &e) ||
		    pw_privmsg_decode_result((const uint8_t *)reply.data, reply.len, &res, &e)) {
			fprintf(stderr, "reply %d: none: %s\n", n, pw_error_text(&e));
			break;
		}
		static const char *const st[] = {"done", "failed", "refused"};
		fprintf(stderr, "reply %d: %s: %s\n", n, st[res.status], res.message);
		pw_exec_result_release(&res);
	}
	pw_buf_release(&chunk);
	pw_buf_release(&reply);
	close(test_frames_fd);
	*exit_code = 0;
	return 1;
}
#endif
