/* What every subcommand shares: the command table entry, how to report
 * errors to the operator, and the exit codes. Front-end only: the library
 * never prints. */
#ifndef PATCHWARDEN_CLI_H
#define PATCHWARDEN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "parse_options.h"
#include "patchwarden/error.h"

struct pw_buf;
struct pw_config;
struct pw_db;

/* Exit codes shared by all subcommands (as dpkg --compare-versions uses them). */
enum {
	PW_EXIT_OK = 0,
	PW_EXIT_FALSE = 1, /* a test that did not hold, or findings at --fail-on */
	PW_EXIT_ERROR = 2, /* bad input, bad usage, unreadable data */
};

/* The shared set-up a command needs, as flags in the command table (git's
 * RUN_SETUP): the front end adds the options that go with each flag to the
 * command's own, and does the set-up itself, once, when the command first
 * asks for the configuration or the database. */
enum {
	PW_SETUP_CONFIG = 1 << 0, /* reads the configuration file; takes -c, --config FILE */
	PW_SETUP_DB = 1 << 1,     /* uses the server database; takes --db URL */
};

struct pw_setup {
	unsigned flags;           /* PW_SETUP_* of the command (or subcommand) */
	const char *config_path;  /* --config, or NULL for PW_CONFIG_DEFAULT_PATH */
	const char *db_url;       /* --db, or NULL */
	char db_from[320];        /* where pw_cli_db_url() found the URL, for messages */
	bool db_create;           /* the command may create a missing SQLite database */
	struct pw_config *config; /* owned; loaded by pw_cli_config() */
	struct pw_db *db;         /* owned; opened by pw_cli_db() */
};

/* The text of `help CMD`: `head` (synopsis and description), the option
 * list generated from `options` (a NULL-terminated list of tables) and the
 * options of the command's set-up flags, then `tail`. */
struct pw_usage {
	const char *head;
	const struct pw_option *const *options;
	const char *tail;
	const char *setup_heading; /* a line above the set-up's options, or NULL */
};

struct pw_cmd {
	const char *name;
	/* argv[0] is the subcommand name. */
	int (*run)(int argc, char **argv, struct pw_setup *setup);
	const char *summary;          /* one line for `patchwarden --help` */
	const struct pw_usage *usage; /* for `help CMD` and `CMD --help` */
	unsigned setup;               /* PW_SETUP_* */
};

/* --color: "auto" (the default), "always" or "never". */
typedef enum pw_color_mode {
	PW_COLOR_AUTO = 0,
	PW_COLOR_ALWAYS,
	PW_COLOR_NEVER,
} pw_color_mode;

/* The output options every command takes, in a section of its own in
 * every usage text: -q/--quiet (only results and errors), -v/--verbose
 * (what was used, timings) and --color WHEN. pw_cli_parse() adds them;
 * main.c also takes them before the command ("patchwarden -q scan"). */
bool pw_cli_quiet(void);
bool pw_cli_verbose(void);
pw_color_mode pw_cli_color_mode(void);
/* Takes one output option given before the command, `arg` (and `next`,
 * its value, or NULL): the number of arguments taken (1 or 2), 0 when arg
 * is not one, -1 after printing a usage error. */
int pw_cli_global_option(const char *arg, const char *next);
/* A remark or progress on stderr ("patchwarden CMD: ..."), not shown
 * with --quiet. */
void pw_cli_note(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Detail shown only with --verbose ("patchwarden CMD: ..."). */
void pw_cli_info(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Seconds on the monotonic clock, for --verbose timings. */
double pw_cli_now(void);

/* "patchwarden CMD: message\n" on stderr; returns PW_EXIT_ERROR. */
int pw_cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a library error with the command's prefix; returns PW_EXIT_ERROR. */
int pw_cli_fail_err(const char *cmd, const pw_error *e);
/* Prints "patchwarden CMD: warning: ..." (not with --quiet). */
void pw_cli_warn(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A usage error: message, then a hint to run `patchwarden help CMD`. */
int pw_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when argv holds -h or --help before any "--". */
bool pw_cli_wants_help(int argc, char **argv);
/* Prints the usage text of a command to `out`. */
void pw_cli_print_usage(const char *cmd, FILE *out);

/* pw_parse_options() with the options of s->flags added: --config sets
 * s->config_path, --db s->db_url. `tables` is NULL-terminated. */
int pw_cli_parse(const char *cmd, struct pw_setup *s, int argc, char **argv,
		 const struct pw_option *const *tables, unsigned scope);
/* The configuration file named by --config (which must exist), else
 * PW_CONFIG_DEFAULT_PATH (all defaults when missing). */
const char *pw_cli_config_path(const struct pw_setup *s);
/* Loads the configuration on the first call; NULL after printing why not. */
struct pw_config *pw_cli_config(const char *cmd, struct pw_setup *s);
/* The server database to use: --db, else $PATCHWARDEN_DB when not empty,
 * else `db` in the [server] section of the configuration, else
 * /var/lib/patchwarden/patchwarden.db. NULL after printing why not (a bad configuration). */
const char *pw_cli_db_url(const char *cmd, struct pw_setup *s);
/* Opens (and migrates) the server database on the first call; NULL after
 * printing why not. A missing SQLite file is an error naming the path and
 * where it came from, unless s->db_create (commands that add the first
 * user or host): reading commands never create an empty database. In main.c: only `patchwarden`
 * links the server's database code. */
struct pw_db *pw_cli_db(const char *cmd, struct pw_setup *s);
/* A SQLite `url` whose file is missing while the command may not create
 * it: prints so (the path and where it came from) and returns
 * PW_EXIT_ERROR; else PW_EXIT_OK. pw_cli_db() calls it. */
int pw_cli_db_missing(const char *cmd, const struct pw_setup *s, const char *url);
/* Frees what pw_cli_config() loaded (main.c also closes the database). */
void pw_cli_setup_release(struct pw_setup *s);

/* The feed store a command uses: `given` (its --store) when not NULL,
 * else $PATCHWARDEN_STORE when set and not empty, else /var/lib/patchwarden/patchwarden.db. */
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
/* Prints the n records of `size` bytes at `items` as one JSON array, each
 * through the record's serialiser (the API's too, so the shapes agree). */
int pw_cli_print_json_array(const char *cmd, const void *items, size_t n, size_t size,
			    struct cJSON *(*to_json)(const void *item));
/* pw_read_file(), where the path "-" means standard input. */
pw_err pw_cli_read_file(const char *path, struct pw_buf *out, size_t max_bytes, pw_error *err);
/* s, or "-" for a missing or empty value in tables. */
const char *pw_cli_or_dash(const char *s);

/* The sorted command table lives in main.c. */
const struct pw_cmd *pw_cli_find(const char *name);

/* The host filters of GET /api/v1/hosts as options of a listing command
 * (findings, upgrades): F is its pw_host_filter, CRIT an int64_t for
 * --criticality (copied into F.min_criticality after parsing), SCOPE the
 * options' scope mask. */
/* clang-format off */
#define PW_CLI_HOST_FILTER_OPTIONS(F, CRIT, SCOPE)                                                 \
	{.kind = PW_OPT_STRING, .long_name = "category", .value = &(F).category, .argh = "C",      \
	 .help = "of hosts of category C", .scope = (SCOPE)},                                      \
	{.kind = PW_OPT_STRING, .long_name = "exposure", .value = &(F).exposure, .argh = "E",      \
	 .help = "of hosts of exposure E", .scope = (SCOPE)},                                      \
	{.kind = PW_OPT_STRING, .long_name = "environment", .value = &(F).environment,             \
	 .argh = "E", .help = "of hosts of environment E", .scope = (SCOPE)},                      \
	{.kind = PW_OPT_STRING, .long_name = "owner", .value = &(F).owner_group, .argh = "GROUP",  \
	 .help = "of hosts of owner group GROUP", .scope = (SCOPE)},                               \
	{.kind = PW_OPT_INT, .long_name = "criticality", .value = &(CRIT), .argh = "N",            \
	 .help = "of hosts of criticality N or higher", .min = 1, .max = 5, .scope = (SCOPE)},     \
	{.kind = PW_OPT_FLAG, .long_name = "overdue", .value = &(F).overdue,                       \
	 .help = "of hosts not patched in the last 90 days, or never", .scope = (SCOPE)},          \
	{.kind = PW_OPT_INT, .long_name = "stale", .value = &(F).stale_days, .argh = "DAYS",       \
	 .help = "of hosts not seen for DAYS days, or never", .min = 1, .max = 100000,             \
	 .scope = (SCOPE)}
/* clang-format on */

#endif
