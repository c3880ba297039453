/* patchwarden user: users, roles, passwords, API tokens and agent
 * enrollment tokens, straight on the server database. Every change is
 * audited as "cli:<unix user>". */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/agents.h"
#include "patchwarden/schema.h"
#include "patchwarden/users.h"

#define CMD "user"

/* The options; also the scopes of the subcommands that take them. */
enum {
	O_JSON = 1 << 0,
	O_ROLE = 1 << 1,
	O_PWSTDIN = 1 << 2,
	O_NOPW = 1 << 3,
	O_LABEL = 1 << 4,
	O_EXPIRES = 1 << 5,
	O_USES = 1 << 6,
};

struct opts {
	unsigned seen; /* O_* given */
	bool json, pwstdin, nopw;
	const char *role, *label, *expires, *uses;
	char **pos;
	int npos;
	char actor[80];
};

static struct opts opt;

static const struct pw_option options[] = {
	{.kind = PW_OPT_STRING,
	 .long_name = "role",
	 .value = &opt.role,
	 .argh = "ROLE",
	 .help = "admin, operator, app-owner, manager, helpdesk or auditor",
	 .scope = O_ROLE},
	{.kind = PW_OPT_FLAG,
	 .long_name = "password-stdin",
	 .value = &opt.pwstdin,
	 .help = "read the password from the first line of standard input\n"
		 "(without it, a terminal is asked twice)",
	 .scope = O_PWSTDIN},
	{.kind = PW_OPT_FLAG,
	 .long_name = "no-password",
	 .value = &opt.nopw,
	 .help = "no password login: the user works with API tokens only",
	 .scope = O_NOPW},
	{.kind = PW_OPT_STRING,
	 .long_name = "label",
	 .value = &opt.label,
	 .argh = "TEXT",
	 .help = "what the token is for (default: the command that made it)",
	 .scope = O_LABEL,
	 .flags = PW_OPTF_EMPTY_OK},
	{.kind = PW_OPT_STRING,
	 .long_name = "expires",
	 .value = &opt.expires,
	 .argh = "D",
	 .help = "lifetime: N followed by s, m, h, d or w (\"90d\"), or\n"
		 "\"never\" (API tokens only; default never; enrollment\n"
		 "tokens default to 24h)",
	 .scope = O_EXPIRES},
	{.kind = PW_OPT_STRING,
	 .long_name = "uses",
	 .value = &opt.uses,
	 .argh = "N",
	 .help = "enrollments an enrollment token allows (default 1)",
	 .scope = O_USES},
	{.kind = PW_OPT_FLAG,
	 .long_name = "json",
	 .value = &opt.json,
	 .help = "print JSON instead of text",
	 .scope = O_JSON},
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden user add NAME --role ROLE [--password-stdin | --no-password]\n"
	"       patchwarden user list [--json]\n"
	"       patchwarden user passwd NAME [--password-stdin | --no-password]\n"
	"       patchwarden user role NAME ROLE\n"
	"       patchwarden user email NAME ADDRESS|none\n"
	"       patchwarden user disable NAME\n"
	"       patchwarden user enable NAME\n"
	"       patchwarden user token create NAME [--label TEXT] [--expires DURATION] [--json]\n"
	"       patchwarden user token list [NAME] [--json]\n"
	"       patchwarden user token revoke ID\n"
	"       patchwarden user enroll-token create [--label TEXT] [--uses N]\n"
	"                                            [--expires DURATION] [--json]\n"
	"       patchwarden user enroll-token list [--json]\n"
	"       patchwarden user enroll-token revoke ID\n"
	"\n"
	"Manages the people and scripts that use the patchwarden server, and the\n"
	"tokens agents enroll with. Every change is written to the audit log as\n"
	"done by cli:<your unix user>.\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"Tokens are printed once, at creation; the database keeps only a hash.\n"
	"Exit status: 0 done, 2 bad usage, refused or failed.\n"
	"See patchwarden-user(1).\n";

const struct pw_usage cmd_user_usage = {usage_head, PW_OPT_TABLES(options), usage_tail, NULL};

/* "90d", "12h", "30m", "45s", "2w", plain seconds; "never" is 0 when
 * `never_ok`. */
static bool parse_duration(const char *s, bool never_ok, int64_t *out)
{
	if (never_ok && !strcmp(s, "never")) {
		*out = 0;
		return true;
	}
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0 || *s == '+' || *s == ' ')
		return false;
	int64_t mul = 1;
	if (*end) {
		switch (*end) {
		case 's':
			mul = 1;
			break;
		case 'm':
			mul = 60;
			break;
		case 'h':
			mul = 3600;
			break;
		case 'd':
			mul = 86400;
			break;
		case 'w':
			mul = 7 * 86400;
			break;
		default:
			return false;
		}
		if (end[1])
			return false;
	}
	if (v > INT64_MAX / mul)
		return false;
	*out = (int64_t)v * mul;
	return true;
}

static bool parse_id(const char *s, int64_t *out)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 1 || *s == '+' || *s == ' ' || *s == '-')
		return false;
	*out = v;
	return true;
}

/* Also takes the printed forms "pwt_12" and "pwe_12". */
static bool parse_token_id(const char *s, const char *prefix, int64_t *out)
{
	size_t n = strlen(prefix);
	return parse_id(strncmp(s, prefix, n) == 0 ? s + n : s, out);
}

/* ---- passwords ------------------------------------------------------- */

static bool read_line(FILE *in, char *buf, size_t size)
{
	if (!fgets(buf, (int)size, in))
		return false;
	size_t n = strlen(buf);
	if (n == size - 1 && buf[n - 1] != '\n')
		return false; /* longer than any valid password */
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return true;
}

static bool prompt(FILE *tty, const char *text, char *buf, size_t size)
{
	struct termios old, quiet;
	int fd = fileno(tty);
	if (tcgetattr(fd, &old) != 0)
		return false;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	fputs(text, tty);
	fflush(tty);
	tcsetattr(fd, TCSAFLUSH, &quiet);
	bool ok = read_line(tty, buf, size);
	tcsetattr(fd, TCSAFLUSH, &old);
	fputc('\n', tty);
	return ok;
}

/* The password to set, into buf; 1 for none (--no-password); an exit
 * code >= 2 on failure; 0 when buf holds one. */
static int get_password(const struct opts *o, const char *name, char *buf, size_t size)
{
	if ((o->seen & O_NOPW) && (o->seen & O_PWSTDIN))
		return pw_cli_usage_error(CMD,
					  "--password-stdin and --no-password exclude each other");
	if (o->seen & O_NOPW)
		return 1;
	if (o->seen & O_PWSTDIN) {
		if (!read_line(stdin, buf, size))
			return pw_cli_fail(CMD,
					   "no password on standard input (or longer than %d "
					   "characters)",
					   PW_PASSWORD_MAX);
		return 0;
	}
	FILE *tty = fopen("/dev/tty", "r+");
	if (!tty)
		return pw_cli_fail(CMD, "no terminal to ask for the password; use --password-stdin "
					"or --no-password");
	char again[PW_PASSWORD_MAX + 2], text[128];
	snprintf(text, sizeof text, "New password for %s: ", name);
	bool ok = prompt(tty, text, buf, size) && prompt(tty, "Repeat it: ", again, sizeof again);
	fclose(tty);
	bool same = ok && strcmp(buf, again) == 0;
	memset(again, 0, sizeof again);
	if (!ok)
		return pw_cli_fail(CMD, "could not read the password from the terminal");
	if (!same)
		return pw_cli_fail(CMD, "the two passwords differ; nothing changed");
	return 0;
}

/* ---- output ---------------------------------------------------------- */

/* ---- subcommands ----------------------------------------------------- */

static int user_add(pw_db *db, struct opts *o)
{
	pw_role role;
	if (!o->role)
		return pw_cli_usage_error(CMD, "user add needs --role ROLE");
	if (!pw_role_parse(o->role, &role))
		return pw_cli_usage_error(CMD,
					  "unknown role '%s'; roles: admin, operator, app-owner, "
					  "manager, helpdesk, auditor",
					  o->role);
	char pw[PW_PASSWORD_MAX + 2];
	int got = get_password(o, o->pos[0], pw, sizeof pw);
	if (got >= PW_EXIT_ERROR)
		return got;
	pw_error err = PW_ERROR_INIT;
	int64_t id = 0;
	pw_err rc = pw_user_add(db, o->actor, o->pos[0], role, got == 0 ? pw : NULL, &id, &err);
	memset(pw, 0, sizeof pw);
	if (rc)
		return pw_cli_fail_err(CMD, &err);
	printf("added user %s (%s, id %" PRId64 ")%s\n", o->pos[0], pw_role_name(role), id,
	       got == 0 ? "" : ", API tokens only");
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

static int user_passwd(pw_db *db, struct opts *o)
{
	char pw[PW_PASSWORD_MAX + 2];
	int got = get_password(o, o->pos[0], pw, sizeof pw);
	if (got >= PW_EXIT_ERROR)
		return got;
	pw_error err = PW_ERROR_INIT;
	pw_err rc = pw_user_set_password(db, o->actor, o->pos[0], got == 0 ? pw : NULL, &err);
	memset(pw, 0, sizeof pw);
	if (rc)
		return pw_cli_fail_err(CMD, &err);
	printf(got == 0 ? "password of %s changed\n" : "password login of %s removed\n", o->pos[0]);
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

static int user_role(pw_db *db, struct opts *o)
{
	pw_role role;
	if (!pw_role_parse(o->pos[1], &role))
		return pw_cli_usage_error(CMD,
					  "unknown role '%s'; roles: admin, operator, app-owner, "
					  "manager, helpdesk, auditor",
					  o->pos[1]);
	pw_error err = PW_ERROR_INIT;
	if (pw_user_set_role(db, o->actor, o->pos[0], role, &err))
		return pw_cli_fail_err(CMD, &err);
	printf("%s is now %s\n", o->pos[0], pw_role_name(role));
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

/* Where notifications for the user go (notify.h); "none" removes it. */
static int user_email(pw_db *db, struct opts *o)
{
	pw_error err = PW_ERROR_INIT;
	const char *email = strcmp(o->pos[1], "none") == 0 ? NULL : o->pos[1];
	if (pw_user_set_email(db, o->actor, o->pos[0], email, &err))
		return pw_cli_fail_err(CMD, &err);
	printf("%s: notifications %s%s\n", o->pos[0], email ? "go to " : "are not mailed",
	       email ? email : "");
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

static int user_disable(pw_db *db, struct opts *o, bool disable)
{
	pw_error err = PW_ERROR_INIT;
	if (pw_user_set_disabled(db, o->actor, o->pos[0], disable, &err))
		return pw_cli_fail_err(CMD, &err);
	printf("%s is %s\n", o->pos[0], disable ? "disabled" : "enabled");
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

static cJSON *user_json(const void *u)
{
	return pw_user_to_json(u);
}

static cJSON *api_token_json(const void *t)
{
	return pw_api_token_to_json(t);
}

static cJSON *enroll_token_json(const void *t)
{
	return pw_enroll_token_to_json(t);
}

static int user_list(pw_db *db, struct opts *o)
{
	pw_user_list l = PW_USER_LIST_INIT;
	pw_error err = PW_ERROR_INIT;
	if (pw_user_list_all(db, &l, &err)) {
		pw_user_list_release(&l);
		return pw_cli_fail_err(CMD, &err);
	}
	int rc = PW_EXIT_OK;
	if (o->seen & O_JSON) {
		rc = pw_cli_print_json_array(CMD, l.v, l.n, sizeof *l.v, user_json);
	} else {
		int w = 4;
		for (size_t i = 0; i < l.n; i++)
			if ((int)strlen(l.v[i].name) > w)
				w = (int)strlen(l.v[i].name);
		printf("%-*s  %-9s  %-8s  %-8s  %s\n", w, "NAME", "ROLE", "STATUS", "PASSWORD",
		       "CREATED");
		for (size_t i = 0; i < l.n; i++)
			printf("%-*s  %-9s  %-8s  %-8s  %s\n", w, l.v[i].name,
			       pw_role_name(l.v[i].role), l.v[i].disabled ? "disabled" : "active",
			       l.v[i].has_password ? "yes" : "no", pw_cli_or_dash(l.v[i].created));
	}
	pw_user_list_release(&l);
	return pw_cli_finish(CMD, rc);
}

static int token_create(pw_db *db, struct opts *o)
{
	int64_t ttl = 0;
	if (o->expires && !parse_duration(o->expires, true, &ttl))
		return pw_cli_usage_error(CMD,
					  "--expires '%s' is not a duration like 90d, 12h or "
					  "'never'",
					  o->expires);
	char token[PW_API_TOKEN_MAX];
	int64_t id = 0;
	pw_error err = PW_ERROR_INIT;
	const char *label = o->label ? o->label : "cli";
	if (pw_api_token_create(db, o->actor, o->pos[0], label, ttl, token, &id, &err))
		return pw_cli_fail_err(CMD, &err);
	int rc = PW_EXIT_OK;
	if (o->seen & O_JSON) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddNumberToObject(t, "id", (double)id);
		cJSON_AddStringToObject(t, "user", o->pos[0]);
		cJSON_AddStringToObject(t, "label", label);
		cJSON_AddStringToObject(t, "token", token);
		rc = pw_cli_print_json(CMD, t);
	} else {
		puts(token);
		if (!pw_cli_quiet())
			fprintf(stderr,
				"API token pwt_%" PRId64 " for %s created; it is shown only now\n",
				id, o->pos[0]);
	}
	memset(token, 0, sizeof token);
	return pw_cli_finish(CMD, rc);
}

static int token_list(pw_db *db, struct opts *o)
{
	pw_api_token_list l = PW_API_TOKEN_LIST_INIT;
	pw_error err = PW_ERROR_INIT;
	if (pw_api_token_list_all(db, o->npos ? o->pos[0] : NULL, &l, &err)) {
		pw_api_token_list_release(&l);
		return pw_cli_fail_err(CMD, &err);
	}
	int rc = PW_EXIT_OK;
	if (o->seen & O_JSON) {
		rc = pw_cli_print_json_array(CMD, l.v, l.n, sizeof *l.v, api_token_json);
	} else {
		printf("%-8s  %-16s  %-24s  %-24s  %-24s  %s\n", "ID", "USER", "CREATED", "EXPIRES",
		       "LAST USED", "LABEL");
		for (size_t i = 0; i < l.n; i++) {
			const pw_api_token *t = &l.v[i];
			char id[32];
			snprintf(id, sizeof id, "pwt_%" PRId64, t->id);
			printf("%-8s  %-16s  %-24s  %-24s  %-24s  %s%s\n", id, t->user,
			       pw_cli_or_dash(t->created), t->expires ? t->expires : "never",
			       pw_cli_or_dash(t->last_used), t->label,
			       t->revoked ? " (revoked)" : "");
		}
	}
	pw_api_token_list_release(&l);
	return pw_cli_finish(CMD, rc);
}

static int token_revoke(pw_db *db, struct opts *o, bool enroll)
{
	int64_t id;
	if (!parse_token_id(o->pos[0], enroll ? "pwe_" : "pwt_", &id))
		return pw_cli_usage_error(CMD, "'%s' is not a token id (a number, or %s<number>)",
					  o->pos[0], enroll ? "pwe_" : "pwt_");
	pw_error err = PW_ERROR_INIT;
	pw_err rc = enroll ? pw_enroll_token_revoke(db, o->actor, id, &err)
			   : pw_api_token_revoke(db, o->actor, id, &err);
	if (rc)
		return pw_cli_fail_err(CMD, &err);
	printf("%s %" PRId64 " revoked\n", enroll ? "enrollment token" : "API token", id);
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

static int etoken_create(pw_db *db, struct opts *o)
{
	int64_t ttl = 86400, uses = 1;
	if (o->expires && !parse_duration(o->expires, false, &ttl))
		return pw_cli_usage_error(CMD, "--expires '%s' is not a duration like 24h or 7d",
					  o->expires);
	if (o->uses && !parse_id(o->uses, &uses))
		return pw_cli_usage_error(CMD, "--uses '%s' is not a positive number", o->uses);
	char token[PW_ENROLL_TOKEN_MAX];
	int64_t id = 0;
	pw_error err = PW_ERROR_INIT;
	const char *label = o->label ? o->label : "cli";
	if (pw_enroll_token_create(db, o->actor, label, uses, ttl, token, &id, &err))
		return pw_cli_fail_err(CMD, &err);
	int rc = PW_EXIT_OK;
	if (o->seen & O_JSON) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddNumberToObject(t, "id", (double)id);
		cJSON_AddStringToObject(t, "label", label);
		cJSON_AddNumberToObject(t, "uses", (double)uses);
		cJSON_AddNumberToObject(t, "expires_in", (double)ttl);
		cJSON_AddStringToObject(t, "token", token);
		rc = pw_cli_print_json(CMD, t);
	} else {
		puts(token);
		if (!pw_cli_quiet())
			fprintf(stderr,
				"enrollment token pwe_%" PRId64 " created: %" PRId64
				" use(s), expires in %" PRId64 " s; it is shown only now\n",
				id, uses, ttl);
	}
	memset(token, 0, sizeof token);
	return pw_cli_finish(CMD, rc);
}

static int etoken_list(pw_db *db, struct opts *o)
{
	pw_enroll_token_list l = PW_ENROLL_TOKEN_LIST_INIT;
	pw_error err = PW_ERROR_INIT;
	if (pw_enroll_token_list_all(db, &l, &err)) {
		pw_enroll_token_list_release(&l);
		return pw_cli_fail_err(CMD, &err);
	}
	int rc = PW_EXIT_OK;
	if (o->seen & O_JSON) {
		rc = pw_cli_print_json_array(CMD, l.v, l.n, sizeof *l.v, enroll_token_json);
	} else {
		printf("%-8s  %-9s  %-24s  %-16s  %s\n", "ID", "USES LEFT", "EXPIRES", "CREATED BY",
		       "LABEL");
		for (size_t i = 0; i < l.n; i++) {
			const pw_enroll_token *t = &l.v[i];
			char id[32], uses[48];
			snprintf(id, sizeof id, "pwe_%" PRId64, t->id);
			snprintf(uses, sizeof uses, "%" PRId64 "/%" PRId64, t->uses_left,
				 t->uses_total);
			printf("%-8s  %-9s  %-24s  %-16s  %s%s\n", id, uses,
			       pw_cli_or_dash(t->expires), pw_cli_or_dash(t->created_by), t->label,
			       t->revoked ? " (revoked)" : "");
		}
	}
	pw_enroll_token_list_release(&l);
	return pw_cli_finish(CMD, rc);
}

/* ---- dispatch -------------------------------------------------------- */

enum sub {
	S_ADD,
	S_LIST,
	S_PASSWD,
	S_ROLE,
	S_EMAIL,
	S_DISABLE,
	S_ENABLE,
	S_TOKEN_CREATE,
	S_TOKEN_LIST,
	S_TOKEN_REVOKE,
	S_ETOKEN_CREATE,
	S_ETOKEN_LIST,
	S_ETOKEN_REVOKE,
};

static const struct {
	const char *group, *name; /* group NULL: a top-level word */
	enum sub sub;
	unsigned allowed;
	int min_pos, max_pos;
} subs[] = {
	{NULL, "add", S_ADD, O_ROLE | O_PWSTDIN | O_NOPW, 1, 1},
	{NULL, "list", S_LIST, O_JSON, 0, 0},
	{NULL, "passwd", S_PASSWD, O_PWSTDIN | O_NOPW, 1, 1},
	{NULL, "role", S_ROLE, 0, 2, 2},
	{NULL, "email", S_EMAIL, 0, 2, 2},
	{NULL, "disable", S_DISABLE, 0, 1, 1},
	{NULL, "enable", S_ENABLE, 0, 1, 1},
	{"token", "create", S_TOKEN_CREATE, O_LABEL | O_EXPIRES | O_JSON, 1, 1},
	{"token", "list", S_TOKEN_LIST, O_JSON, 0, 1},
	{"token", "revoke", S_TOKEN_REVOKE, 0, 1, 1},
	{"enroll-token", "create", S_ETOKEN_CREATE, O_LABEL | O_EXPIRES | O_USES | O_JSON, 0, 0},
	{"enroll-token", "list", S_ETOKEN_LIST, O_JSON, 0, 0},
	{"enroll-token", "revoke", S_ETOKEN_REVOKE, 0, 1, 1},
};

static int run(pw_db *db, enum sub s, struct opts *o)
{
	switch (s) {
	case S_ADD:
		return user_add(db, o);
	case S_LIST:
		return user_list(db, o);
	case S_PASSWD:
		return user_passwd(db, o);
	case S_ROLE:
		return user_role(db, o);
	case S_EMAIL:
		return user_email(db, o);
	case S_DISABLE:
		return user_disable(db, o, true);
	case S_ENABLE:
		return user_disable(db, o, false);
	case S_TOKEN_CREATE:
		return token_create(db, o);
	case S_TOKEN_LIST:
		return token_list(db, o);
	case S_TOKEN_REVOKE:
		return token_revoke(db, o, false);
	case S_ETOKEN_CREATE:
		return etoken_create(db, o);
	case S_ETOKEN_LIST:
		return etoken_list(db, o);
	case S_ETOKEN_REVOKE:
		return token_revoke(db, o, true);
	}
	return PW_EXIT_ERROR;
}

int cmd_user(int argc, char **argv, struct pw_setup *setup)
{
	if (argc < 2)
		return pw_cli_usage_error(CMD,
					  "which subcommand? add, list, passwd, role, disable, "
					  "enable, token or enroll-token");
	const char *group = NULL, *name = argv[1];
	int first = 2;
	if (!strcmp(argv[1], "token") || !strcmp(argv[1], "enroll-token")) {
		if (argc < 3)
			return pw_cli_usage_error(CMD,
						  "%s needs a subcommand: create, list or revoke",
						  argv[1]);
		group = argv[1];
		name = argv[2];
		first = 3;
	}
	size_t k = 0, n = sizeof subs / sizeof *subs;
	while (k < n &&
	       !((group ? subs[k].group && !strcmp(group, subs[k].group) : !subs[k].group) &&
		 !strcmp(name, subs[k].name)))
		k++;
	if (k == n)
		return pw_cli_usage_error(CMD, "unknown subcommand '%s%s%s'", group ? group : "",
					  group ? " " : "", name);
	int nargs = pw_cli_parse(CMD, setup, argc - first + 1, argv + first - 1,
				 PW_OPT_TABLES(options), subs[k].allowed);
	if (nargs < 0)
		return PW_EXIT_ERROR;
	if (nargs > subs[k].max_pos)
		return pw_cli_usage_error(CMD, "unexpected argument '%s'",
					  argv[first - 1 + subs[k].max_pos]);
	struct opts o = opt;
	o.seen = (o.json ? O_JSON : 0) | (o.pwstdin ? O_PWSTDIN : 0) | (o.nopw ? O_NOPW : 0);
	o.pos = argv + first - 1;
	o.npos = nargs;
	if (o.npos < subs[k].min_pos)
		return pw_cli_usage_error(
			CMD, "%s%s%s needs %s", group ? group : "", group ? " " : "", name,
			subs[k].min_pos == 2
				? (subs[k].sub == S_EMAIL ? "NAME and ADDRESS" : "NAME and ROLE")
			: subs[k].sub == S_TOKEN_REVOKE || subs[k].sub == S_ETOKEN_REVOKE
				? "a token ID"
				: "a user NAME");
	pw_cli_actor(o.actor, sizeof o.actor);
	/* The first admin is added before the server ever ran. */
	setup->db_create = subs[k].sub == S_ADD;
	pw_db *db = pw_cli_db(CMD, setup);
	return db ? run(db, subs[k].sub, &o) : PW_EXIT_ERROR;
}
