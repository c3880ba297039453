#include "cli.h"

#include <stdarg.h>
#include <string.h>

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
