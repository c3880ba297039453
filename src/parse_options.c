#include "parse_options.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "patchwarden/grow.h"

/* The column where help texts start in the usage text. */
#define HELP_COLUMN 22

static bool takes_value(const struct pw_option *o)
{
	return o->kind != PW_OPT_FLAG;
}

static const struct pw_option *find_long(const struct pw_option *const *tables, const char *name,
					 size_t len)
{
	for (size_t t = 0; tables[t]; t++)
		for (const struct pw_option *o = tables[t]; o->kind != PW_OPT_END; o++)
			if (o->kind != PW_OPT_GROUP && o->long_name &&
			    strlen(o->long_name) == len && !strncmp(o->long_name, name, len))
				return o;
	return NULL;
}

static const struct pw_option *find_short(const struct pw_option *const *tables, char c)
{
	for (size_t t = 0; tables[t]; t++)
		for (const struct pw_option *o = tables[t]; o->kind != PW_OPT_END; o++)
			if (o->kind != PW_OPT_GROUP && o->short_name == c)
				return o;
	return NULL;
}

/* "--name" or "-x", as the operator should read it in a message. */
static const char *shown_name(const struct pw_option *o, char buf[64])
{
	if (o->long_name)
		snprintf(buf, 64, "--%s", o->long_name);
	else
		snprintf(buf, 64, "-%c", o->short_name);
	return buf;
}

static bool parse_int(const char *s, int64_t *out)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || *s == '+' || *s == ' ' || *s == '\t')
		return false;
	*out = v;
	return true;
}

/* Stores `value` (NULL for a flag) into the option's target. */
static int store(const char *cmd, const struct pw_option *o, const char *value)
{
	char name[64];
	switch (o->kind) {
	case PW_OPT_FLAG:
		*(bool *)o->value = true;
		return 0;
	case PW_OPT_STRING:
	case PW_OPT_FILE:
		if (!*value && !(o->flags & PW_OPTF_EMPTY_OK))
			return pw_cli_usage_error(cmd, "option '%s' needs a non-empty value",
						  shown_name(o, name));
		*(const char **)o->value = value;
		return 0;
	case PW_OPT_INT: {
		int64_t n;
		if (!parse_int(value, &n) || n < o->min || n > o->max) {
			if (o->max == INT64_MAX)
				return pw_cli_usage_error(cmd,
							  "option '%s' needs a number of at "
							  "least %" PRId64 ", not '%s'",
							  shown_name(o, name), o->min, value);
			return pw_cli_usage_error(cmd,
						  "option '%s' needs a number from %" PRId64
						  " to %" PRId64 ", not '%s'",
						  shown_name(o, name), o->min, o->max, value);
		}
		*(int64_t *)o->value = n;
		return 0;
	}
	case PW_OPT_LIST: {
		struct pw_opt_list *l = o->value;
		if (!*value)
			return pw_cli_usage_error(cmd, "option '%s' needs a non-empty value",
						  shown_name(o, name));
		const char **v = pw_grow(l->v, &l->cap, l->n, sizeof *v);
		if (!v)
			return pw_cli_fail(cmd, "out of memory");
		l->v = v;
		l->v[l->n++] = value;
		return 0;
	}
	case PW_OPT_END:
	case PW_OPT_GROUP:
		break;
	}
	return pw_cli_fail(cmd, "internal error: option table");
}

static int missing_value(const char *cmd, const struct pw_option *o)
{
	char name[64];
	if (o->kind == PW_OPT_INT)
		return pw_cli_usage_error(cmd, "option '%s' needs a number", shown_name(o, name));
	return pw_cli_usage_error(cmd, "option '%s' needs a value (%s)", shown_name(o, name),
				  o->argh ? o->argh : "VALUE");
}

static bool in_scope(const struct pw_option *o, unsigned scope)
{
	return !o->scope || (o->scope & scope);
}

/* argv[*i] is "--name[=value]". */
static int long_option(const char *cmd, int argc, char **argv, int *i,
		       const struct pw_option *const *tables, unsigned scope)
{
	const char *arg = argv[*i] + 2;
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct pw_option *o = find_long(tables, arg, len);
	if (!o)
		return pw_cli_usage_error(cmd, "unknown option '--%.*s'", (int)len, arg);
	if (!in_scope(o, scope))
		return pw_cli_usage_error(cmd, "unexpected option '--%s' here", o->long_name);
	if (!takes_value(o)) {
		if (eq)
			return pw_cli_usage_error(cmd, "option '--%s' takes no value",
						  o->long_name);
		return store(cmd, o, NULL);
	}
	if (eq)
		return store(cmd, o, eq + 1);
	if (*i + 1 >= argc)
		return missing_value(cmd, o);
	return store(cmd, o, argv[++*i]);
}

/* argv[*i] is "-xyz": flags, the last of which may take the rest or the
 * next argument as its value. */
static int short_options(const char *cmd, int argc, char **argv, int *i,
			 const struct pw_option *const *tables, unsigned scope)
{
	for (const char *p = argv[*i] + 1; *p; p++) {
		const struct pw_option *o = find_short(tables, *p);
		if (!o)
			return pw_cli_usage_error(cmd, "unknown option '-%c'", *p);
		if (!in_scope(o, scope))
			return pw_cli_usage_error(cmd, "unexpected option '-%c' here", *p);
		if (!takes_value(o)) {
			if (store(cmd, o, NULL))
				return PW_EXIT_ERROR;
			continue;
		}
		if (p[1])
			return store(cmd, o, p + 1);
		if (*i + 1 >= argc)
			return missing_value(cmd, o);
		return store(cmd, o, argv[++*i]);
	}
	return 0;
}

int pw_parse_options(const char *cmd, int argc, char **argv, const struct pw_option *const *tables,
		     unsigned scope)
{
	int n = 0;
	bool options_done = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int rc = 0;
		if (options_done || a[0] != '-' || a[1] == '\0')
			argv[n++] = argv[i]; /* n <= i - 1: operands only move left */
		else if (!strcmp(a, "--"))
			options_done = true;
		else if (a[1] == '-')
			rc = long_option(cmd, argc, argv, &i, tables, scope);
		else
			rc = short_options(cmd, argc, argv, &i, tables, scope);
		if (rc)
			return -1;
	}
	return n;
}

/* Writes `text`, each line after the first indented to the help column. */
static void put_help(FILE *out, const char *text)
{
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		fprintf(out, "%.*s\n", (int)len, p);
		p += len;
		if (*p == '\n' && *++p)
			fprintf(out, "%*s", HELP_COLUMN, "");
	}
}

void pw_options_usage(FILE *out, const struct pw_option *const *tables)
{
	for (size_t t = 0; tables[t]; t++) {
		for (const struct pw_option *o = tables[t]; o->kind != PW_OPT_END; o++) {
			if (o->kind == PW_OPT_GROUP) {
				fprintf(out, "%s\n", o->help);
				continue;
			}
			int w = fprintf(out, "  ");
			if (o->short_name)
				w += fprintf(out, "-%c%s", o->short_name, o->long_name ? ", " : "");
			if (o->long_name)
				w += fprintf(out, "--%s", o->long_name);
			if (takes_value(o))
				w += fprintf(out, " %s", o->argh ? o->argh : "VALUE");
			if (w >= HELP_COLUMN - 1)
				fprintf(out, "\n%*s", HELP_COLUMN, "");
			else
				fprintf(out, "%*s", HELP_COLUMN - w, "");
			put_help(out, o->help ? o->help : "");
		}
	}
}
