/* patchwarden vercmp: compare versions as dpkg, rpm or apk do, one pair
 * from the command line or many from standard input. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/vercmp.h"

static struct {
	const char *scheme;
	bool batch;
} opt;

static const struct pw_option options[] = {
	PW_OPT_STRING('s', "scheme", &opt.scheme, "SCHEME",
		      "deb (also dpkg, apt), rpm (also dnf, yum) or apk"),
	PW_OPT_FLAG('b', "batch", &opt.batch,
		    "read lines \"VERSION1 VERSION2\" from standard input\n"
		    "and write one line for each: <, =, > or \"! REASON\"\n"
		    "when a version is refused or the line is malformed"),
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden vercmp --scheme SCHEME [--] VERSION1 VERSION2\n"
	"       patchwarden vercmp --scheme SCHEME [--] VERSION1 OP VERSION2\n"
	"       patchwarden vercmp --scheme SCHEME --batch < PAIRS\n"
	"\n"
	"Compares package versions with the rules of one ecosystem, exactly as\n"
	"its own tool does: deb as dpkg 1.21, rpm as rpm 4.18 (rpm.vercmp() on\n"
	"[epoch:]version[-release]), apk as apk-tools.\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"With two versions, prints <, = or > and exits 0. With OP, one of\n"
	"lt le eq ne ge gt (or dpkg's << <= = >= >>), exits 0 when the relation\n"
	"holds and 1 when it does not, as dpkg --compare-versions does.\n"
	"For deb, an empty VERSION or \"<unknown>\" means no version, as for dpkg:\n"
	"it sorts before every version, and after every version with the\n"
	"operators lt-nl le-nl ge-nl gt-nl.\n"
	"\n"
	"A version the scheme's tool refuses is reported on standard error with\n"
	"what is wrong with it, and the exit status is 2. Put -- before versions\n"
	"that start with '-'.\n";

const struct pw_usage cmd_vercmp_usage = {usage_head, PW_OPT_TABLES(options), usage_tail, NULL};

static const char CMD[] = "vercmp";

/* dpkg --compare-versions' relations. `none_last` selects dpkg's -nl
 * variants, where a missing deb version sorts after every version. */
static const struct relation {
	const char *name;
	bool if_less, if_equal, if_greater, none_last;
} relations[] = {
	{"lt", true, false, false, false},   {"le", true, true, false, false},
	{"eq", false, true, false, false},   {"ne", true, false, true, false},
	{"ge", false, true, true, false},    {"gt", false, false, true, false},
	{"<<", true, false, false, false},   {"<=", true, true, false, false},
	{"=", false, true, false, false},    {">=", false, true, true, false},
	{">>", false, false, true, false},   {"lt-nl", true, false, false, true},
	{"le-nl", true, true, false, true},  {"ge-nl", false, true, true, true},
	{"gt-nl", false, false, true, true},
};

static const struct relation *find_relation(const char *name)
{
	for (size_t i = 0; i < sizeof relations / sizeof relations[0]; i++)
		if (strcmp(relations[i].name, name) == 0)
			return &relations[i];
	return NULL;
}

/* dpkg --compare-versions reads "" and "<unknown>" as "no version". */
static bool deb_no_version(pw_scheme s, const char *v)
{
	return s == PW_SCHEME_DEB && (!*v || strcmp(v, "<unknown>") == 0);
}

static pw_err compare(pw_scheme s, const char *a, const char *b, bool none_last, int *cmp,
		      pw_error *e)
{
	bool na = deb_no_version(s, a), nb = deb_no_version(s, b);
	if (!na && !nb)
		return pw_vercmp(s, a, b, cmp, e);
	pw_err rc;
	if ((!na && (rc = pw_version_check(s, a, e)) != PW_OK) ||
	    (!nb && (rc = pw_version_check(s, b, e)) != PW_OK))
		return rc;
	*cmp = na == nb ? 0 : (na ? -1 : 1);
	if (none_last)
		*cmp = -*cmp;
	return PW_OK;
}

static char cmp_char(int cmp)
{
	return cmp < 0 ? '<' : (cmp > 0 ? '>' : '=');
}

/* Splits a line on blanks into at most `max` fields; returns how many
 * fields there were (possibly more than max). */
static int split_fields(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return n;
		if (n < max)
			fields[n] = p;
		n++;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

static int run_batch(pw_scheme s)
{
	/* Large, fully buffered output: one write per 64 KiB, not per line. */
	static char outbuf[1 << 16];
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		char *f[2];
		int n = split_fields(line, f, 2);
		if (n != 2) {
			printf("! expected two versions separated by blanks, found %d field%s\n", n,
			       n == 1 ? "" : "s");
			continue;
		}
		pw_error e = PW_ERROR_INIT;
		int cmp;
		if (compare(s, f[0], f[1], false, &cmp, &e) != PW_OK) {
			printf("! %s\n", pw_error_text(&e));
			continue;
		}
		putchar(cmp_char(cmp));
		putchar('\n');
	}
	bool read_failed = ferror(stdin);
	free(line);
	if (read_failed)
		return pw_cli_fail(CMD, "reading standard input failed");
	if (fflush(stdout) != 0 || ferror(stdout))
		return pw_cli_fail(CMD, "writing the results failed");
	return PW_EXIT_OK;
}

/* dpkg prints a warning for versions it accepts but dislikes; so do we. */
static void warn_deb(pw_scheme s, const char *v)
{
	pw_deb_version d;
	if (s == PW_SCHEME_DEB && !deb_no_version(s, v) &&
	    pw_deb_version_parse(v, &d, NULL) == PW_OK && d.warning)
		pw_cli_warn(CMD, "version '%s' has bad syntax: %s", v, d.warning);
}

int cmd_vercmp(int argc, char **argv, struct pw_setup *setup)
{
	int npos = pw_cli_parse(CMD, setup, argc, argv, PW_OPT_TABLES(options), ~0u);
	if (npos < 0)
		return PW_EXIT_ERROR;
	if (npos > 3)
		return pw_cli_usage_error(CMD, "too many arguments: expected VERSION1 [OP] "
					       "VERSION2");
	char **pos = argv;
	if (!opt.scheme)
		return pw_cli_usage_error(CMD, "missing --scheme: deb, rpm or apk");
	pw_scheme s;
	pw_error e = PW_ERROR_INIT;
	if (pw_scheme_from_name(opt.scheme, &s, &e) != PW_OK)
		return pw_cli_usage_error(CMD, "%s", pw_error_text(&e));

	if (opt.batch) {
		if (npos)
			return pw_cli_usage_error(
				CMD, "--batch reads versions from standard input, not arguments");
		return run_batch(s);
	}
	if (npos != 2 && npos != 3)
		return pw_cli_usage_error(CMD, "expected VERSION1 [OP] VERSION2, got %d argument%s",
					  npos, npos == 1 ? "" : "s");
	const char *a = pos[0], *b = pos[npos - 1];
	const struct relation *rel = NULL;
	if (npos == 3 && !(rel = find_relation(pos[1]))) {
		if (strcmp(pos[1], "<") == 0 || strcmp(pos[1], ">") == 0)
			return pw_cli_usage_error(
				CMD,
				"relation '%s' is ambiguous (dpkg reads it as '%s='): "
				"use %s%s or %s=",
				pos[1], pos[1], pos[1], pos[1], pos[1]);
		return pw_cli_usage_error(CMD,
					  "unknown relation '%s': use lt le eq ne ge gt "
					  "(or << <= = >= >>)",
					  pos[1]);
	}
	int cmp;
	if (compare(s, a, b, rel && rel->none_last, &cmp, &e) != PW_OK)
		return pw_cli_fail_err(CMD, &e);
	warn_deb(s, a);
	warn_deb(s, b);
	if (!rel) {
		printf("%c\n", cmp_char(cmp));
		return fflush(stdout) == 0 ? PW_EXIT_OK
					   : pw_cli_fail(CMD, "writing the result failed");
	}
	bool holds = cmp < 0 ? rel->if_less : (cmp > 0 ? rel->if_greater : rel->if_equal);
	return holds ? PW_EXIT_OK : PW_EXIT_FALSE;
}
