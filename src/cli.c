#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "patchwarden/config.h"
#include "patchwarden/db.h"
#include "patchwarden/fileio.h"
#include "patchwarden/jsonout.h"

static void vreport(const char *cmd, const char *kind, const char *fmt, va_list ap)
{
	fprintf(stderr, "patchwarden %s: %s", cmd, kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int pw_cli_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(cmd, "", fmt, ap);
	va_end(ap);
	return PW_EXIT_ERROR;
}

int pw_cli_fail_err(const char *cmd, const pw_error *e)
{
	return pw_cli_fail(cmd, "%s", pw_error_text(e));
}

/* The output options (every command; see cli.h). */
static bool out_quiet, out_verbose;
static const char *out_color;
static pw_color_mode color_mode = PW_COLOR_AUTO;

bool pw_cli_quiet(void)
{
	return out_quiet;
}

bool pw_cli_verbose(void)
{
	return out_verbose;
}

pw_color_mode pw_cli_color_mode(void)
{
	return color_mode;
}

double pw_cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void pw_cli_note(const char *cmd, const char *fmt, ...)
{
	if (out_quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vreport(cmd, "", fmt, ap);
	va_end(ap);
}

void pw_cli_info(const char *cmd, const char *fmt, ...)
{
	if (!out_verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	vreport(cmd, "", fmt, ap);
	va_end(ap);
}

void pw_cli_warn(const char *cmd, const char *fmt, ...)
{
	if (out_quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vreport(cmd, "warning: ", fmt, ap);
	va_end(ap);
}

int pw_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(cmd, "", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Run 'patchwarden help %s' for usage.\n", cmd);
	return PW_EXIT_ERROR;
}

bool pw_cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

/* The options of the set-up flags, for parsing (with targets in a
 * pw_setup) and for usage texts (without). */
#define SETUP_OPTIONS(config, db)                                                                  \
	{                                                                                          \
		PW_OPT_STRING(                                                                     \
			'c', "config", config, "FILE",                                             \
			"configuration file, which must exist (default\n" PW_CONFIG_DEFAULT_PATH   \
			", all defaults when\nit is missing)"),                                    \
			PW_OPT_STRING(0, "db", db, "URL",                                          \
				      "server database: sqlite:PATH, PATH or postgresql://...\n"   \
				      "(default: $PATCHWARDEN_DB, else db in [server] of the\n"    \
				      "configuration file, else " PW_SERVER_DB_DEFAULT ")"),       \
			PW_OPT_END(),                                                              \
	}

/* clang-format off */
#define OUTPUT_OPTIONS(q, v, c)                                                                    \
	{                                                                                          \
		PW_OPT_FLAG('q', "quiet", q,                                                       \
			    "only results and errors: no progress, notes\n"                        \
			    "or warnings on standard error"),                                      \
		PW_OPT_FLAG('v', "verbose", v,                                                     \
			    "more detail on standard error: the\n"                                 \
			    "configuration, database, store and snapshot\n"                        \
			    "used, timings"),                                                      \
		PW_OPT_STRING(0, "color", c, "WHEN",                                               \
			      "colour tables: auto (on a terminal unless\n"                        \
			      "NO_COLOR is set or TERM=dumb), always,\n"                           \
			      "never"),                                                            \
		PW_OPT_END(),                                                                      \
	}
/* clang-format on */

static const struct pw_option output_options[] = OUTPUT_OPTIONS(&out_quiet, &out_verbose,
								&out_color);

/* Checks the output options once they are parsed. */
static int output_options_check(const char *cmd)
{
	if (out_quiet && out_verbose)
		return pw_cli_usage_error(cmd, "give --quiet or --verbose, not both");
	if (!out_color)
		return 0;
	/* Consumed here: the pointer is into argv, which a later parse (the
	 * fuzzer's next input) no longer has. */
	const char *color = out_color;
	out_color = NULL;
	static const char *const modes[] = {"auto", "always", "never"};
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (!strcmp(color, modes[i])) {
			color_mode = (pw_color_mode)i;
			return 0;
		}
	return pw_cli_usage_error(cmd, "--color takes auto, always or never, not '%s'", color);
}

int pw_cli_global_option(const char *arg, const char *next)
{
	int taken = 1;
	if (!strcmp(arg, "-q") || !strcmp(arg, "--quiet"))
		out_quiet = true;
	else if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose"))
		out_verbose = true;
	else if (!strncmp(arg, "--color=", 8))
		out_color = arg + 8;
	else if (!strcmp(arg, "--color") && next)
		out_color = next, taken = 2;
	else
		return 0;
	return output_options_check("patchwarden") ? -1 : taken;
}

/* The part of the setup options table that `flags` selects. */
static const struct pw_option *setup_options(const struct pw_option *all, unsigned flags,
					     struct pw_option *out)
{
	size_t n = 0;
	if (flags & PW_SETUP_CONFIG)
		out[n++] = all[0];
	if (flags & PW_SETUP_DB)
		out[n++] = all[1];
	out[n] = all[2];
	return out;
}

static void print_usage_of(const struct pw_usage *u, unsigned setup, FILE *out)
{
	static const struct pw_option all[] = SETUP_OPTIONS(NULL, NULL);
	struct pw_option mine[3];
	fputs(u->head, out);
	if (u->options)
		pw_options_usage(out, u->options);
	if (u->setup_heading && setup)
		fprintf(out, "%s\n", u->setup_heading);
	pw_options_usage(out, PW_OPT_TABLES(setup_options(all, setup, mine)));
	if (u->tail)
		fputs(u->tail, out);
	/* Last, after the command's own text: the same for every command. */
	static const struct pw_option output[] = OUTPUT_OPTIONS(NULL, NULL, NULL);
	fputs("\nOutput options (every command):\n", out);
	pw_options_usage(out, PW_OPT_TABLES(output));
}

void pw_cli_print_usage(const char *cmd, FILE *out)
{
	const struct pw_cmd *c = pw_cli_find(cmd);
	if (c)
		print_usage_of(c->usage, c->setup, out);
}

int pw_cli_parse(const char *cmd, struct pw_setup *s, int argc, char **argv,
		 const struct pw_option *const *tables, unsigned scope)
{
	const struct pw_option all[] = SETUP_OPTIONS(&s->config_path, &s->db_url);
	struct pw_option mine[3];
	const struct pw_option *list[8];
	size_t n = 0;
	for (; tables && tables[n]; n++) {
		if (n == sizeof list / sizeof list[0] - 3)
			return pw_cli_fail(cmd, "internal error: too many option tables"), -1;
		list[n] = tables[n];
	}
	list[n++] = setup_options(all, s->flags, mine);
	list[n++] = output_options;
	list[n] = NULL;
	int rc = pw_parse_options(cmd, argc, argv, list, scope);
	if (rc < 0)
		out_color = NULL; /* into argv: see output_options_check */
	else if (output_options_check(cmd))
		return -1;
	return rc;
}

const char *pw_cli_config_path(const struct pw_setup *s)
{
	return s->config_path ? s->config_path : PW_CONFIG_DEFAULT_PATH;
}

pw_config *pw_cli_config(const char *cmd, struct pw_setup *s)
{
	if (s->config)
		return s->config;
	pw_error err = PW_ERROR_INIT;
	const char *path = pw_cli_config_path(s);
	if (pw_config_load(path, s->config_path != NULL, &s->config, &err)) {
		pw_cli_fail_err(cmd, &err);
		return NULL;
	}
	pw_cli_info(cmd, "configuration %s%s", path,
		    access(path, F_OK) ? " (not there: all defaults)" : "");
	return s->config;
}

const char *pw_cli_db_url(const char *cmd, struct pw_setup *s)
{
	if (s->db_url) {
		snprintf(s->db_from, sizeof s->db_from, "given by --db");
		return s->db_url;
	}
	const char *env = getenv("PATCHWARDEN_DB");
	if (env && *env) {
		snprintf(s->db_from, sizeof s->db_from, "given by $PATCHWARDEN_DB");
		return env;
	}
	pw_config *cfg = pw_cli_config(cmd, s);
	if (!cfg)
		return NULL;
	const char *v = pw_config_get(cfg, "server", "db");
	if (v && *v)
		snprintf(s->db_from, sizeof s->db_from, "given by db in [server] of %s",
			 pw_cli_config_path(s));
	else
		snprintf(s->db_from, sizeof s->db_from, "the default path");
	return v && *v ? v : PW_SERVER_DB_DEFAULT;
}

int pw_cli_db_missing(const char *cmd, const struct pw_setup *s, const char *url)
{
	const char *file = pw_db_sqlite_path(url);
	if (!file || s->db_create || access(file, F_OK) == 0)
		return PW_EXIT_OK;
	return pw_cli_fail(cmd,
			   "%s: no database there (%s; %s). Point --db or PATCHWARDEN_DB at the "
			   "server's database, or create it by starting 'patchwarden server' or "
			   "with 'patchwarden user add'",
			   file, strerror(errno), s->db_from);
}

void pw_cli_setup_release(struct pw_setup *s)
{
	pw_config_free(s->config);
	s->config = NULL;
}

const char *pw_cli_store(const char *given)
{
	if (given)
		return given;
	const char *env = getenv("PATCHWARDEN_STORE");
	return env && *env ? env : PW_SERVER_DB_DEFAULT;
}

int pw_cli_store_exists(const char *cmd, const char *store)
{
	const char *file = pw_db_sqlite_path(store);
	if (!file || access(file, F_OK) == 0)
		return PW_EXIT_OK;
	return pw_cli_fail(cmd,
			   "%s: no feed store there (%s); import feeds first ('patchwarden"
			   " feed import --store %s PATH'), or give --store FILE|URL or set"
			   " PATCHWARDEN_STORE",
			   file, strerror(errno), store);
}

void pw_cli_actor(char *out, size_t size)
{
	struct passwd *pw = getpwuid(geteuid());
	if (pw && pw->pw_name && *pw->pw_name)
		snprintf(out, size, "cli:%s", pw->pw_name);
	else
		snprintf(out, size, "cli:uid=%u", (unsigned)geteuid());
}

int pw_cli_finish(const char *cmd, int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return pw_cli_fail(cmd, "cannot write the output");
	return rc;
}

int pw_cli_print_json(const char *cmd, cJSON *v)
{
	char *text = v ? cJSON_Print(v) : NULL;
	cJSON_Delete(v);
	if (!text)
		return pw_cli_fail(cmd, "out of memory");
	puts(text);
	cJSON_free(text);
	return PW_EXIT_OK;
}

int pw_cli_print_json_array(const char *cmd, const void *items, size_t n, size_t size,
			    cJSON *(*to_json)(const void *item))
{
	return pw_cli_print_json(cmd, pw_json_array(items, n, size, to_json));
}

pw_err pw_cli_read_file(const char *path, pw_buf *out, size_t max_bytes, pw_error *err)
{
	/* Reopening descriptor 0 keeps pw_read_file's size check for a file
	 * given on standard input. */
	return pw_read_file(strcmp(path, "-") ? path : "/dev/stdin", out, max_bytes, err);
}

const char *pw_cli_or_dash(const char *s)
{
	return s && *s ? s : "-";
}
