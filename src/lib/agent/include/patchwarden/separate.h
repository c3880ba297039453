/* `patchwarden-agent run` as root: the fork into a privileged parent and
 * the unprivileged, sandboxed child that runs the agent (docs/agent.md,
 * "Privilege separation").
 *
 * The parent keeps root, closes every descriptor but the socketpair and
 * stdout/stderr, and serves the child's requests (patchwarden/privsep.h)
 * until the child ends; then it exits the process with the child's
 * status. It kills the child and exits 2 when the channel ends badly (a
 * malformed frame, PW_PRIVSEP_MAX_BAD refused requests).
 *
 * The child, in this order: drops every capability from its bounding
 * set, setgroups(0), setgid, setuid to the agent user (checked: real,
 * effective and saved ids, and that setuid(0) then fails), verifies with
 * capget that no capability is left, sets no_new_privs, restricts its
 * file system with Landlock where the kernel has it (writes: the state
 * directory only; reads: the system's libraries and configuration, the
 * package databases, the CA file and feed store; from Landlock ABI 4: no
 * TCP bind, TCP connect to the server's port only unless a proxy is set
 * in the environment), and installs a seccomp
 * allow-list (libseccomp). What was applied is written to
 * STATE_DIR/sandbox (shown by `patchwarden-agent status`). */
#ifndef PATCHWARDEN_SEPARATE_H
#define PATCHWARDEN_SEPARATE_H

#include <stddef.h>

#include "patchwarden/error.h"
#include "patchwarden/executor.h"

#define PW_AGENT_USER "patchwarden-agent"

typedef struct pw_agent_sep_conf {
	/* NULL: PW_AGENT_USER (test builds: $PATCHWARDEN_AGENT_USER when
	 * set); must exist (no fallback) */
	const char *user;
	const char *state_dir;        /* made and handed to the user */
	const char *root;             /* the system reported (read-only); NULL: "/" */
	const char *ca_file;          /* read by the child; may be NULL */
	const char *server;           /* its URL; NULL: the one saved at enrollment */
	const char *feed_store;       /* read by the child; may be NULL */
	const pw_executor_conf *exec; /* what the parent runs requests with */
	/* SIGHUP to the parent: it stops the child as SIGTERM does, then asks
	 * reload_check whether the configuration still loads. Yes: restart()
	 * runs the agent again (it returns only on failure); no, or no
	 * restart: the parent logs why and starts a new child with the
	 * configuration it has. NULL: SIGHUP stops the agent. */
	bool (*reload_check)(char *why, size_t size);
	void (*restart)(void);
} pw_agent_sep_conf;

typedef struct pw_agent_sep {
	int fd;            /* the child's end of the channel (pw_privsep_call) */
	char applied[512]; /* "user patchwarden-agent (uid 998); ...; seccomp; landlock ABI 7" */
} pw_agent_sep;

/* Must be called as root. Returns only in the child, with its privileges
 * dropped and its sandbox applied (PW_OK), or with an error when that
 * failed (the child must then exit; the parent follows). Errors before
 * the fork (the user does not exist, the state directory cannot be
 * handed over) return in the one process. */
pw_err pw_agent_separate(const pw_agent_sep_conf *conf, pw_agent_sep *out, pw_error *err);

/* The agent's executor hook (pw_exec_fn of execjob.h, set with
 * pw_agent_client_set_exec) in the separated child: sends the request to
 * the privileged parent and waits for its result. ctx: the pw_agent_sep. */
pw_err pw_agent_privsep_exec(void *ctx, const pw_exec_request *req, pw_exec_result *res,
			     pw_error *err);

/* STATE_DIR/sandbox: what the running agent applied ("" when absent). */
void pw_agent_sandbox_read(const char *state_dir, char *out, size_t size);
/* Writes that line (best effort: a state directory not made yet is
 * made by the agent later). */
void pw_agent_sandbox_write(const char *state_dir, const char *applied);

#ifdef PW_TEST_HOOKS
/* Test hook (PATCHWARDEN_PRIVSEP_FRAMES=FILE, test builds only): the
 * child sends the chunks of FILE (each a 4-byte big-endian length and
 * that many raw bytes) to the parent as they are, prints each reply
 * ("reply N: STATUS: MESSAGE") or why there was none to stderr, and the
 * process exits: a compromised child, for tests. Returns whether the hook
 * ran (*exit_code then set). PATCHWARDEN_PRIVSEP_TRY=write:PATH,
 * exec:PATH, setuid or ptrace: the child tries that instead and says
 * what happened, if it survives. */
int pw_agent_separate_test_frames(const pw_agent_sep *sep, int *exit_code);
#endif

#endif
