/* What every subcommand shares: the command table entry, how to report
 * errors to the operator, and the exit codes. Front-end only: the library
 * never prints. */
#ifndef PATCHWARDEN_CLI_H
#define PATCHWARDEN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "patchwarden/error.h"

/* Exit codes shared by all subcommands (as dpkg --compare-versions uses them). */
enum {
	PW_EXIT_OK = 0,
	PW_EXIT_FALSE = 1, /* a test that did not hold, or findings at --fail-on */
	PW_EXIT_ERROR = 2, /* bad input, bad usage, unreadable data */
};

struct pw_cmd {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
	const char *summary;               /* one line for `patchwarden --help` */
	const char *usage;                 /* full text for `help CMD` and `CMD --help` */
};

/* "patchwarden CMD: message\n" on stderr; returns PW_EXIT_ERROR. */
int pw_cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a library error with the command's prefix; returns PW_EXIT_ERROR. */
int pw_cli_fail_err(const char *cmd, const pw_error *e);
/* Prints "patchwarden CMD: warning: ...". */
void pw_cli_warn(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A usage error: message, then a hint to run `patchwarden help CMD`. */
int pw_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when argv holds -h or --help before any "--". */
bool pw_cli_wants_help(int argc, char **argv);
/* Prints the usage text of a command to `out`. */
void pw_cli_print_usage(const char *cmd, FILE *out);

/* The feed store a command uses: `given` (its --store) when not NULL,
 * else $PATCHWARDEN_STORE when set and not empty, else ./patchwarden.db. */
const char *pw_cli_store(const char *given);
/* Reading commands must not create an empty store by mistake: fails,
 * with advice, when `store` names a SQLite file that does not exist. A
 * PostgreSQL store is checked by opening it. */
int pw_cli_store_exists(const char *cmd, const char *store);
/* The audit actor for changes made from this command line: "cli:<login>",
 * or "cli:uid=<n>" when the user has no name. */
void pw_cli_actor(char *out, size_t size);
/* Flushes stdout; returns rc, or PW_EXIT_ERROR (with a message) when the
 * output could not be written. */
int pw_cli_finish(const char *cmd, int rc);
/* Prints v as indented JSON on stdout and frees it; NULL (a failed
 * build) or a failed print is "out of memory". Does not flush. */
struct cJSON;
int pw_cli_print_json(const char *cmd, struct cJSON *v);
/* s, or "-" for a missing or empty value in tables. */
const char *pw_cli_or_dash(const char *s);

/* The sorted command table lives in main.c. */
const struct pw_cmd *pw_cli_find(const char *name);

#endif
