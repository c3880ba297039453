/* Running a program for the executor: an argv array and an absolute path,
 * never a shell or a PATH search; a fixed environment unless one is given;
 * its output captured up to a cap; a deadline after which its whole process
 * group is terminated. Everything the agent's privileged side starts goes
 * through pw_run. Callers ignore SIGPIPE: a program that exits before
 * reading all of its input must not kill the caller. */
#ifndef PATCHWARDEN_RUN_H
#define PATCHWARDEN_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/buf.h"
#include "patchwarden/error.h"

typedef struct pw_run_opts {
	/* NULL: PATH=/usr/sbin:/usr/bin:/sbin:/bin and LANG=C.UTF-8 only. */
	const char *const *env;
	const char *chroot; /* run inside this root (NULL or "/": none) */
	const char *dir;    /* working directory inside the root (NULL: "/") */
	unsigned timeout_s; /* 0: none; then SIGTERM, and SIGKILL 5 s later */
	size_t max_output;  /* bytes of output kept (0: 1 MiB); the rest is counted */
	const char *input;  /* standard input (NULL: /dev/null) */
	size_t input_len;
} pw_run_opts;

typedef struct pw_run_result {
	int exit_code; /* the exit status, or -1 when a signal ended it */
	int signal;    /* the signal that ended it, else 0 */
	bool timed_out;
	size_t dropped; /* output bytes past max_output */
	pw_buf output;  /* standard output and error, interleaved as written */
} pw_run_result;

/* clang-format off */
#define PW_RUN_RESULT_INIT {0, 0, false, 0, PW_BUF_INIT}
/* clang-format on */

/* Runs argv (argv[0] an absolute path) and waits for it. PW_OK whenever it
 * ran, whatever its exit status (in *r); PW_ERR_INVALID for a relative
 * program path, PW_ERR_EXTERNAL when it could not be started (the message
 * names the program and why). */
pw_err pw_run(const char *const argv[], const pw_run_opts *o, pw_run_result *r, pw_error *err);

void pw_run_result_release(pw_run_result *r);

/* "exit status 3", "killed by signal 9", "timed out after 30 s". */
void pw_run_describe(const pw_run_result *r, const pw_run_opts *o, char *out, size_t size);

#endif
