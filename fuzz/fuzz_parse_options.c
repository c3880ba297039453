/* The command-line option parser (src/parse_options.c, through
 * pw_cli_parse so the set-up options are chained in as every command
 * has them) on arbitrary command lines.
 *
 * Input: one byte choosing the subcommand scope (bits 0-1: list, show,
 * both or every option) and the set-up flags (bits 2-3: --config, --db),
 * then the arguments, separated by NUL bytes (at most 64), each copied
 * to an allocation of its own size. Aborts on a crash, a sanitizer
 * report, or a broken law: the result is -1 or an operand count; the
 * operands are the arguments that are not options, in their order (a
 * word starting with '-' only after "--", or "-" itself); every value
 * stored points into an argument and keeps the option's rule (strings
 * and list items not empty unless allowed, numbers within their range);
 * an option outside the scope is never stored. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parse_options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* cli.c looks usage texts up in the command table of main.c. */
const struct pw_cmd *pw_cli_find(const char *name)
{
	(void)name;
	return NULL;
}

enum { LIST = 1, SHOW = 2 };
#define MAX_ARGS 64

static struct {
	bool json, quiet, all;
	const char *db_label, *input, *since, *format;
	int64_t limit, days, offset;
	struct pw_opt_list sources;
} v;

/* Every kind of option, short and long names, a scope on some, an
 * option that takes "" and one with only a short name. */
static const struct pw_option output[] = {
	PW_OPT_GROUP("Output:"),
	PW_OPT_FLAG('j', "json", &v.json, "print JSON"),
	PW_OPT_FLAG('q', "quiet", &v.quiet, "say less"),
	PW_OPT_STRING(0, "label", &v.db_label, "TEXT", "a label"),
	PW_OPT_FILE('i', "input", &v.input, "FILE", "read FILE (- for standard input)"),
	{.kind = PW_OPT_STRING,
	 .short_name = 'f',
	 .value = &v.format,
	 .argh = "FMT",
	 .help = "output format, \"\" for the default",
	 .flags = PW_OPTF_EMPTY_OK},
	PW_OPT_END(),
};
static const struct pw_option filters[] = {
	PW_OPT_GROUP("Filters:"),
	{.kind = PW_OPT_INT,
	 .long_name = "limit",
	 .short_name = 'n',
	 .value = &v.limit,
	 .argh = "N",
	 .help = "at most N",
	 .scope = LIST,
	 .min = 1,
	 .max = 1000},
	{.kind = PW_OPT_INT,
	 .long_name = "stale",
	 .value = &v.days,
	 .argh = "DAYS",
	 .help = "not seen for DAYS days",
	 .scope = LIST | SHOW,
	 .min = 1,
	 .max = INT64_MAX},
	{.kind = PW_OPT_INT,
	 .long_name = "offset",
	 .value = &v.offset,
	 .argh = "N",
	 .help = "skip N",
	 .min = INT64_MIN,
	 .max = INT64_MAX},
	{.kind = PW_OPT_STRING,
	 .long_name = "since",
	 .short_name = 's',
	 .value = &v.since,
	 .argh = "DATE",
	 .help = "changed since DATE",
	 .scope = SHOW},
	{.kind = PW_OPT_FLAG,
	 .long_name = "all",
	 .short_name = 'a',
	 .value = &v.all,
	 .help = "every host",
	 .scope = SHOW},
	PW_OPT_LIST(0, "source", &v.sources, "NAME", "only NAME (repeatable)"),
	PW_OPT_END(),
};

/* Whether p points into one of the n words. */
static bool inside(const char *p, char *const *words, int n)
{
	for (int i = 0; i < n; i++)
		if (p >= words[i] && p <= words[i] + strlen(words[i]))
			return true;
	return false;
}

static void check_string(const char *s, bool empty_ok, char *const *words, int n)
{
	if (s && (!inside(s, words, n) || (!*s && !empty_ok)))
		abort();
}

/* The operands must be the non-option words, in order: a word is an
 * operand when it is "-" or does not start with '-', or comes after
 * "--"; the value of an option may be taken for one. So each operand is
 * a later word than the one before, and one that looks like an option
 * was preceded by a "--" (or is the value of one before it). */
static void check_operands(char *const *argv, int n, char *const *words, int nwords)
{
	int at = 0;
	for (int i = 0; i < n; i++) {
		int j = at;
		while (j < nwords && words[j] != argv[i])
			j++;
		if (j == nwords)
			abort(); /* not a word, or out of order */
		const char *w = words[j];
		if (w[0] == '-' && w[1]) {
			bool dashes = false;
			for (int k = 0; k < j && !dashes; k++)
				dashes = !strcmp(words[k], "--");
			if (!dashes)
				abort();
		}
		at = j + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	static const unsigned scopes[] = {LIST, SHOW, LIST | SHOW, ~0u};
	unsigned scope = scopes[data[0] & 3];
	struct pw_setup setup = {.flags = (unsigned)(data[0] >> 2) & 3};
	data++;
	size--;

	char *words[MAX_ARGS]; /* argv[1..] as given; argv is reordered */
	char *argv[MAX_ARGS + 1];
	int nwords = 0;
	for (size_t at = 0; at <= size && nwords < MAX_ARGS;) {
		const uint8_t *end = memchr(data + at, 0, size - at);
		size_t len = end ? (size_t)(end - data - at) : size - at;
		char *w = malloc(len + 1);
		if (!w)
			break;
		memcpy(w, data + at, len);
		w[len] = '\0';
		words[nwords++] = w;
		at += len + 1;
	}
	argv[0] = "fuzz";
	memcpy(argv + 1, words, (size_t)nwords * sizeof *words);

	memset(&v, 0, sizeof v);
	(void)pw_cli_wants_help(nwords + 1, argv);
	int n = pw_cli_parse("fuzz", &setup, nwords + 1, argv, PW_OPT_TABLES(output, filters),
			     scope);
	if (n < -1 || n > nwords)
		abort();
	if (n >= 0) {
		check_operands(argv, n, words, nwords);
		check_string(v.db_label, false, words, nwords);
		check_string(v.input, false, words, nwords);
		check_string(v.format, true, words, nwords);
		check_string(v.since, false, words, nwords);
		check_string(setup.config_path, false, words, nwords);
		check_string(setup.db_url, false, words, nwords);
		for (size_t i = 0; i < v.sources.n; i++)
			check_string(v.sources.v[i], false, words, nwords);
		if ((v.limit && (v.limit < 1 || v.limit > 1000 || !(scope & LIST))) ||
		    (v.days && (v.days < 1 || !(scope & (LIST | SHOW)))) ||
		    ((v.since || v.all) && !(scope & SHOW)))
			abort();
		if ((setup.config_path && !(setup.flags & PW_SETUP_CONFIG)) ||
		    (setup.db_url && !(setup.flags & PW_SETUP_DB)))
			abort();
	}
	free(v.sources.v);
	for (int i = 0; i < nwords; i++)
		free(words[i]);
	return 0;
}
