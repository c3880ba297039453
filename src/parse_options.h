/* One option parser for every subcommand, after git's parse-options: a
 * command describes its options in a table, and the parser, the error
 * messages and the option list of its usage text all come from that one
 * table, so they cannot disagree.
 *
 * Accepted forms: "--name", "--name=VALUE", "--name VALUE", "-x", "-xVALUE",
 * "-x VALUE" and bundled flags ("-nb"). Options and operands may be mixed;
 * "--" ends the options; "-" alone is an operand (standard input or output
 * where a command reads or writes a file). Front-end only: it prints its
 * errors itself, as "patchwarden CMD: ..." followed by a hint to run
 * 'patchwarden help CMD'. */
#ifndef PATCHWARDEN_PARSE_OPTIONS_H
#define PATCHWARDEN_PARSE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum pw_opt_kind {
	PW_OPT_END,    /* ends a table */
	PW_OPT_GROUP,  /* a heading in the usage text; parses nothing */
	PW_OPT_FLAG,   /* bool *: set to true; takes no value */
	PW_OPT_STRING, /* const char **: the value, not empty */
	PW_OPT_FILE,   /* const char **: a file the command reads with
			* pw_cli_read_file(), so "-" is standard input */
	PW_OPT_INT,    /* int64_t *: a decimal number within [min, max] */
	PW_OPT_LIST,   /* struct pw_opt_list *: every value of a repeated option */
};

/* Option flags. */
enum {
	PW_OPTF_EMPTY_OK = 1 << 0, /* STRING: "" is a value (it means "none") */
};

/* The values of a PW_OPT_LIST option, in order. The caller frees `v`. */
struct pw_opt_list {
	const char **v;
	size_t n, cap;
};

struct pw_option {
	enum pw_opt_kind kind;
	char short_name;       /* 0: none */
	const char *long_name; /* without "--"; NULL: none */
	void *value;           /* see enum pw_opt_kind */
	const char *argh;      /* the value's name in the usage text: "URL", "N" */
	const char *help;      /* '\n' starts an indented continuation line */
	unsigned scope;        /* subcommands that take it (a mask); 0: all */
	int64_t min, max;      /* PW_OPT_INT */
	unsigned flags;        /* PW_OPTF_* */
};

#define PW_OPT_END()                                                                               \
	{                                                                                          \
		.kind = PW_OPT_END                                                                 \
	}
#define PW_OPT_GROUP(h)                                                                            \
	{                                                                                          \
		.kind = PW_OPT_GROUP, .help = (h)                                                  \
	}
#define PW_OPT_FLAG(s, l, v, h)                                                                    \
	{                                                                                          \
		.kind = PW_OPT_FLAG, .short_name = (s), .long_name = (l), .value = (v),            \
		.help = (h)                                                                        \
	}
#define PW_OPT_STRING(s, l, v, a, h)                                                               \
	{                                                                                          \
		.kind = PW_OPT_STRING, .short_name = (s), .long_name = (l), .value = (v),          \
		.argh = (a), .help = (h)                                                           \
	}
#define PW_OPT_FILE(s, l, v, a, h)                                                                 \
	{                                                                                          \
		.kind = PW_OPT_FILE, .short_name = (s), .long_name = (l), .value = (v),            \
		.argh = (a), .help = (h)                                                           \
	}
#define PW_OPT_INT(s, l, v, lo, hi, a, h)                                                          \
	{                                                                                          \
		.kind = PW_OPT_INT, .short_name = (s), .long_name = (l), .value = (v),             \
		.argh = (a), .help = (h), .min = (lo), .max = (hi)                                 \
	}
#define PW_OPT_LIST(s, l, v, a, h)                                                                 \
	{                                                                                          \
		.kind = PW_OPT_LIST, .short_name = (s), .long_name = (l), .value = (v),            \
		.argh = (a), .help = (h)                                                           \
	}

/* A NULL-terminated list of option tables, for the functions below. */
#define PW_OPT_TABLES(...) ((const struct pw_option *const[]){__VA_ARGS__, NULL})

/* Parses argv[1..argc) (argv[0] names the command or subcommand) against
 * `tables`, a NULL-terminated list of option tables searched in order.
 * Options whose scope does not meet `scope` are refused as "unexpected
 * option '--x' here" (pass ~0u to accept every option). The operands are
 * moved, in their order, to argv[0..n). Returns n, or -1 when it printed
 * a usage error for `cmd` (the command then exits PW_EXIT_ERROR). */
int pw_parse_options(const char *cmd, int argc, char **argv, const struct pw_option *const *tables,
		     unsigned scope);

/* Writes the option list of `tables` for the usage text: one entry per
 * option, "  -x, --name ARG   help", the help starting at one column. */
void pw_options_usage(FILE *out, const struct pw_option *const *tables);

#endif
