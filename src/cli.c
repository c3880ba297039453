#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patchwarden/db.h"

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

void pw_cli_warn(const char *cmd, const char *fmt, ...)
{
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

void pw_cli_print_usage(const char *cmd, FILE *out)
{
	const struct pw_cmd *c = pw_cli_find(cmd);
	if (c)
		fputs(c->usage, out);
}

const char *pw_cli_store(const char *given)
{
	if (given)
		return given;
	const char *env = getenv("PATCHWARDEN_STORE");
	return env && *env ? env : "./patchwarden.db";
}

int pw_cli_store_exists(const char *cmd, const char *store)
{
	const char *file = pw_db_sqlite_path(store);
	if (!file || access(file, F_OK) == 0)
		return PW_EXIT_OK;
	return pw_cli_fail(cmd, "%s: no feed store there (%s); import feeds first ('patchwarden"
			   " feed import --store %s PATH'), or give --store FILE|URL or set"
			   " PATCHWARDEN_STORE", file, strerror(errno), store);
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

const char *pw_cli_or_dash(const char *s)
{
	return s && *s ? s : "-";
}
