/* The command-line option parser (src/parse_options.c), with the error
 * messages an operator sees and the option list of the usage text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"
#include "parse_options.h"

/* cli.c looks usage texts up in the command table of main.c. */
const struct pw_cmd *pw_cli_find(const char *name)
{
	(void)name;
	return NULL;
}

struct vals {
	bool json, quiet;
	const char *db, *input;
	int64_t limit;
	struct pw_opt_list sources;
};

static struct vals v;

enum { LIST = 1, SHOW = 2 };

static const struct pw_option table[] = {
	PW_OPT_GROUP("Output:"),
	PW_OPT_FLAG('j', "json", &v.json, "print JSON"),
	PW_OPT_FLAG('q', "quiet", &v.quiet, "say less"),
	PW_OPT_STRING(0, "db", &v.db, "URL", "the database\nsecond line"),
	PW_OPT_FILE('i', "input", &v.input, "FILE", "read FILE (- for standard input)"),
	{.kind = PW_OPT_INT,
	 .long_name = "limit",
	 .short_name = 'n',
	 .value = &v.limit,
	 .argh = "N",
	 .help = "at most N",
	 .scope = LIST,
	 .min = 1,
	 .max = 100},
	PW_OPT_LIST(0, "source", &v.sources, "NAME", "only NAME (repeatable)"),
	PW_OPT_END(),
};

/* Parses the words of `line` (split on blanks; at most 15) for the
 * subcommand `scope`; what was printed on stderr goes to `err`. */
static int parse(const char *line, unsigned scope, char **operands, char *err, size_t size)
{
	static char buf[512];
	static char *argv[16];
	free(v.sources.v);
	memset(&v, 0, sizeof v);
	snprintf(buf, sizeof buf, "%s", line);
	int argc = 0;
	argv[argc++] = "test";
	for (char *p = buf; *p && argc < 16;) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		argv[argc++] = p;
		while (*p && *p != ' ')
			p++;
	}
	fflush(stderr);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	int saved = dup(2);
	dup2(fileno(tmp), 2);
	int n = pw_parse_options("test", argc, argv, PW_OPT_TABLES(table), scope);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	size_t got = fread(err, 1, size - 1, tmp);
	err[got] = '\0';
	fclose(tmp);
	for (int i = 0; i < n; i++)
		operands[i] = argv[i];
	return n;
}

static void test_forms(void **state)
{
	(void)state;
	char *ops[16], err[512];
	assert_int_equal(parse("--json --db=sqlite:x a --limit 5 b", LIST, ops, err, sizeof err),
			 2);
	assert_true(v.json);
	assert_string_equal(v.db, "sqlite:x");
	assert_int_equal(v.limit, 5);
	assert_string_equal(ops[0], "a");
	assert_string_equal(ops[1], "b");
	assert_string_equal(err, "");

	/* "--opt value", short forms, bundled flags and an attached value. */
	assert_int_equal(parse("--db u -jqn7 -i -", LIST, ops, err, sizeof err), 0);
	assert_string_equal(v.db, "u");
	assert_true(v.json && v.quiet);
	assert_int_equal(v.limit, 7);
	assert_string_equal(v.input, "-");
	assert_int_equal(parse("-n 9 -iFILE", LIST, ops, err, sizeof err), 0);
	assert_int_equal(v.limit, 9);
	assert_string_equal(v.input, "FILE");

	/* "--" ends the options; "-" is an operand. */
	assert_int_equal(parse("- --json -- --db -x", LIST, ops, err, sizeof err), 3);
	assert_string_equal(ops[0], "-");
	assert_string_equal(ops[1], "--db");
	assert_string_equal(ops[2], "-x");
	assert_true(v.json);
	assert_null(v.db);

	/* Repeated values are kept in order; a repeated option's last wins. */
	assert_int_equal(parse("--source a --source=b --db x --db y", SHOW, ops, err, sizeof err),
			 0);
	assert_int_equal(v.sources.n, 2);
	assert_string_equal(v.sources.v[0], "a");
	assert_string_equal(v.sources.v[1], "b");
	assert_string_equal(v.db, "y");
}

static void test_errors(void **state)
{
	(void)state;
	char *ops[16], err[512];
	static const struct {
		const char *line;
		unsigned scope;
		const char *message;
	} cases[] = {
		{"--foo", LIST, "patchwarden test: unknown option '--foo'\n"},
		{"--foo=1", LIST, "patchwarden test: unknown option '--foo'\n"},
		{"-x", LIST, "patchwarden test: unknown option '-x'\n"},
		{"-jx", LIST, "patchwarden test: unknown option '-x'\n"},
		{"--js", LIST, "patchwarden test: unknown option '--js'\n"},
		{"--json=yes", LIST, "patchwarden test: option '--json' takes no value\n"},
		{"--db", LIST, "patchwarden test: option '--db' needs a value (URL)\n"},
		{"--db=", LIST, "patchwarden test: option '--db' needs a non-empty value\n"},
		{"--limit", LIST, "patchwarden test: option '--limit' needs a number\n"},
		{"--limit x", LIST,
		 "patchwarden test: option '--limit' needs a number from 1 to 100, not 'x'\n"},
		{"--limit=0", LIST,
		 "patchwarden test: option '--limit' needs a number from 1 to 100, not '0'\n"},
		{"-n+5", LIST,
		 "patchwarden test: option '--limit' needs a number from 1 to 100, not '+5'\n"},
		{"--limit 5", SHOW, "patchwarden test: unexpected option '--limit' here\n"},
		{"-n5", SHOW, "patchwarden test: unexpected option '-n' here\n"},
		{"-i", LIST, "patchwarden test: option '--input' needs a value (FILE)\n"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char want[256];
		snprintf(want, sizeof want, "%sRun 'patchwarden help test' for usage.\n",
			 cases[i].message);
		assert_int_equal(parse(cases[i].line, cases[i].scope, ops, err, sizeof err), -1);
		assert_string_equal(err, want);
	}
}

static void test_usage(void **state)
{
	(void)state;
	char text[2048];
	FILE *f = fmemopen(text, sizeof text, "w");
	assert_non_null(f);
	pw_options_usage(f, PW_OPT_TABLES(table));
	fclose(f);
	assert_string_equal(text, "Output:\n"
				  "  -j, --json          print JSON\n"
				  "  -q, --quiet         say less\n"
				  "  --db URL            the database\n"
				  "                      second line\n"
				  "  -i, --input FILE    read FILE (- for standard input)\n"
				  "  -n, --limit N       at most N\n"
				  "  --source NAME       only NAME (repeatable)\n");
	free(v.sources.v);
	v.sources.v = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
