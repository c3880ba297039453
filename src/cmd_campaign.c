/* `patchwarden campaign` and `patchwarden ticket`: patch campaigns and
 * their tickets (campaigns.h) from the command line on the server, the
 * same library calls as /api/v1/campaigns and /api/v1/tickets. Every
 * change is taken as a patchwarden user (--as USER), whose role the
 * step must be, and recorded as "cli:USER". */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/campaign_select.h"
#include "patchwarden/campaigns.h"
#include "patchwarden/window.h"
#include "ticket_html.h"

#define CMD "campaign"

/* Which subcommands take an option. */
enum {
	CREATE = 1 << 0,
	JSON = 1 << 1,
	HOST = 1 << 2,
	NOTE = 1 << 3,
	DECLINE = 1 << 4,
	EXPIRES = 1 << 5,
	RECHECK = 1 << 6,
	AS = 1 << 7,
	TICKETS = 1 << 8, /* ticket list */
	REASON = 1 << 9,  /* skip */
	FORMAT = 1 << 10, /* ticket show */
};

struct opts {
	const char *name, *hosts, *upgrades, *findings, *flow, *soak, *as, *host, *note;
	const char *reason, *data_value, *threat_frequency, *impact, *cost_benefit;
	const char *expires, *recheck, *format;
	bool emergency, dry_run, json;
	int64_t campaign;
};

static struct opts opt;

static const struct pw_option options[] = {
	PW_OPT_GROUP("Create:"),
	{.kind = PW_OPT_STRING,
	 .long_name = "name",
	 .value = &opt.name,
	 .argh = "NAME",
	 .help = "the campaign's name",
	 .scope = CREATE},
	{.kind = PW_OPT_STRING,
	 .long_name = "hosts",
	 .value = &opt.hosts,
	 .argh = "FILTER",
	 .help = "\"all\", or key=value pairs of host list's filters joined by ','\n"
		 "(category=web,environment=production,criticality=3)",
	 .scope = CREATE},
	{.kind = PW_OPT_STRING,
	 .long_name = "upgrades",
	 .value = &opt.upgrades,
	 .argh = "SELECTOR",
	 .help = "only the findings of these packages (openssl,curl)",
	 .scope = CREATE},
	{.kind = PW_OPT_STRING,
	 .long_name = "findings",
	 .value = &opt.findings,
	 .argh = "FILTER",
	 .help = "only the findings of these filters (priority=high,kev=true)",
	 .scope = CREATE},
	{.kind = PW_OPT_STRING,
	 .long_name = "flow",
	 .value = &opt.flow,
	 .argh = "auto|1|2",
	 .help = "Flow 1 or 2 for every host (default auto: by category)",
	 .scope = CREATE},
	{.kind = PW_OPT_FLAG,
	 .long_name = "emergency",
	 .value = &opt.emergency,
	 .help = "may run outside maintenance windows (a manager or admin)",
	 .scope = CREATE},
	{.kind = PW_OPT_STRING,
	 .long_name = "soak",
	 .value = &opt.soak,
	 .argh = "DAYS",
	 .help = "soak time between waves: days, or 30m, 4h, 90s (default 2)",
	 .scope = CREATE},
	{.kind = PW_OPT_FLAG,
	 .long_name = "dry-run",
	 .value = &opt.dry_run,
	 .help = "print the plan (hosts, flows, waves, findings); store nothing",
	 .scope = CREATE},
	PW_OPT_GROUP("\nSteps:"),
	{.kind = PW_OPT_STRING,
	 .long_name = "as",
	 .value = &opt.as,
	 .argh = "USER",
	 .help = "the patchwarden user taking the step (required for changes)",
	 .scope = AS},
	{.kind = PW_OPT_STRING,
	 .long_name = "host",
	 .value = &opt.host,
	 .argh = "HOST",
	 .help = "the host the step acts on (a hostname or id:N)",
	 .scope = HOST},
	{.kind = PW_OPT_STRING,
	 .long_name = "note",
	 .value = &opt.note,
	 .argh = "TEXT",
	 .help = "the proof, the UAT's result, the countermeasure, or a note",
	 .scope = NOTE},
	{.kind = PW_OPT_STRING,
	 .long_name = "reason",
	 .value = &opt.reason,
	 .argh = "TEXT",
	 .help = "decline, skip: why",
	 .scope = DECLINE | REASON},
	{.kind = PW_OPT_STRING,
	 .long_name = "data-value",
	 .value = &opt.data_value,
	 .argh = "LEVEL",
	 .help = "decline: the data's value (low, medium, high)",
	 .scope = DECLINE},
	{.kind = PW_OPT_STRING,
	 .long_name = "threat-frequency",
	 .value = &opt.threat_frequency,
	 .argh = "LEVEL",
	 .help = "decline: how often the threat occurs (low, medium, high)",
	 .scope = DECLINE},
	{.kind = PW_OPT_STRING,
	 .long_name = "impact",
	 .value = &opt.impact,
	 .argh = "LEVEL",
	 .help = "decline: the impact if it is realised (low, medium, high)",
	 .scope = DECLINE},
	{.kind = PW_OPT_STRING,
	 .long_name = "cost-benefit",
	 .value = &opt.cost_benefit,
	 .argh = "TEXT",
	 .help = "decline: the cost/benefit analysis",
	 .scope = DECLINE},
	{.kind = PW_OPT_STRING,
	 .long_name = "expires",
	 .value = &opt.expires,
	 .argh = "DATE",
	 .help = "sign-off: when the risk acceptance expires (YYYY-MM-DD)",
	 .scope = EXPIRES},
	{.kind = PW_OPT_STRING,
	 .long_name = "recheck",
	 .value = &opt.recheck,
	 .argh = "DATE",
	 .help = "record-countermeasure: when to look again (YYYY-MM-DD)",
	 .scope = RECHECK},
	PW_OPT_GROUP("\nOptions:"),
	{.kind = PW_OPT_FLAG,
	 .long_name = "json",
	 .value = &opt.json,
	 .help = "print the records as JSON (GET /api/v1/campaigns...)",
	 .scope = JSON},
	{.kind = PW_OPT_STRING,
	 .long_name = "format",
	 .value = &opt.format,
	 .argh = "html",
	 .help = "ticket show: one self-contained HTML page (log, approvals, risk,\n"
		 "scan diffs, job logs, who acts next)",
	 .scope = FORMAT},
	{.kind = PW_OPT_INT,
	 .long_name = "campaign",
	 .value = &opt.campaign,
	 .argh = "ID",
	 .help = "ticket list: that campaign's tickets only",
	 .scope = TICKETS,
	 .min = 1,
	 .max = INT64_MAX},
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden campaign create --name NAME --hosts FILTER [--upgrades SELECTOR |\n"
	"                               --findings FILTER] [--flow auto|1|2] [--emergency]\n"
	"                               [--soak DAYS] [--dry-run] [--as USER] [--json]\n"
	"       patchwarden campaign list|show ID [--json]\n"
	"       patchwarden campaign confirm-backup|approve|decline|sign-off|record-uat|\n"
	"                            record-countermeasure ID --host HOST --as USER [...]\n"
	"       patchwarden campaign skip ID --host HOST --reason TEXT --as USER\n"
	"       patchwarden campaign rollback ID --host HOST --as USER [--note TEXT]\n"
	"       patchwarden campaign start|pause|resume|cancel ID --as USER [--note TEXT]\n"
	"       patchwarden ticket list [--campaign ID] [--json]\n"
	"       patchwarden ticket show N [--json | --format html]\n"
	"\n"
	"Patch campaigns: every host of the filter walks its flow's state machine\n"
	"(Flow 1: core, security, file-print, mail; Flow 2: application, database,\n"
	"web) and cannot skip a step; each step is its role's, and a refusal says\n"
	"what is missing and who must do it. Every step is on the host's ticket\n"
	"and in the audit log.\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"Steps and their roles: confirm-backup (the backup role: operator, admin;\n"
	"--note the proof), approve and decline (app-owner; decline needs --reason,\n"
	"--data-value, --threat-frequency, --impact, --cost-benefit), sign-off\n"
	"(manager; --expires), record-uat (app-owner; --note, after the host's test\n"
	"environment hosts are verified), record-countermeasure (operator, admin;\n"
	"--note and --recheck), start, pause, resume, cancel (operator, admin).\n"
	"A failed patch, health check or rollback halts the campaign; the operator\n"
	"resumes it (the step is done again), skips the host (--reason) or rolls it\n"
	"back (a rollback job to the versions before its patch); skip and rollback\n"
	"let the campaign's other hosts go on.\n"
	"\n"
	"Exit status: 0 done, 2 bad usage, a refused step or bad data.\n"
	"See patchwarden-campaign(1) and patchwarden-ticket(1).\n";

const struct pw_usage cmd_campaign_usage = {usage_head, PW_OPT_TABLES(options), usage_tail, NULL};
static const char ticket_head[] =
	"usage: patchwarden ticket list [--campaign ID] [--json]\n"
	"       patchwarden ticket show N [--json | --format html]\n"
	"\n"
	"The tickets of patch campaigns, one per host: every step with who, when,\n"
	"the states before and after and who acts next, and the risk acceptances.\n"
	"\n";
static const char ticket_tail[] = "\nExit status: 0 listed, 2 bad usage or an unknown ticket.\n"
				  "See patchwarden-ticket(1).\n";

const struct pw_usage cmd_ticket_usage = {ticket_head, PW_OPT_TABLES(options), ticket_tail, NULL};

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : cJSON_IsNull(v) || !v ? "-" : "?";
}

static int64_t int_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static void print_campaign_line(const cJSON *c)
{
	printf("campaign %" PRId64 " %s: %s, %" PRId64 " host%s, flow %s%s, feed snapshot %" PRId64
	       "\n",
	       int_of(c, "id"), str_of(c, "name"), str_of(c, "state"), int_of(c, "hosts"),
	       int_of(c, "hosts") == 1 ? "" : "s", str_of(c, "flow"),
	       cJSON_IsTrue(cJSON_GetObjectItem(c, "emergency")) ? ", emergency" : "",
	       int_of(c, "feed_snapshot"));
}

/* The driver's simulate job on the host: "-" until its result is in. The
 * record holds it as raw JSON (the stored text). */
static const char *simulated(const cJSON *h)
{
	const cJSON *s = cJSON_GetObjectItem(h, "simulate");
	cJSON *r = cJSON_IsRaw(s) ? cJSON_Parse(s->valuestring) : NULL;
	const char *v = !cJSON_IsObject(r)                                     ? "-"
			: cJSON_IsTrue(cJSON_GetObjectItem(r, "unresolvable")) ? "UNRESOLVABLE"
									       : "resolves";
	cJSON_Delete(r);
	return v;
}

static void print_hosts(const cJSON *c)
{
	const cJSON *h;
	cJSON_ArrayForEach(h, cJSON_GetObjectItem(c, "host_list")) {
		printf("  wave %" PRId64 "  %-20s flow %" PRId64 "  %-18s next: %-12s ticket "
		       "%" PRId64 "  simulate: %s\n",
		       int_of(h, "wave"), str_of(h, "hostname"), int_of(h, "flow"),
		       str_of(h, "state"), str_of(h, "next_actor"), int_of(h, "ticket_id"),
		       simulated(h));
	}
}

/* Prints o (consumed) as --json asks, else through `text`. */
static int print(const char *cmd, cJSON *o, void (*text)(const cJSON *))
{
	if (opt.json)
		return pw_cli_finish(cmd, pw_cli_print_json(cmd, o));
	text(o);
	cJSON_Delete(o);
	return pw_cli_finish(cmd, PW_EXIT_OK);
}

static void print_campaign(const cJSON *c)
{
	print_campaign_line(c);
	print_hosts(c);
}

static void print_campaigns(const cJSON *arr)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, arr) {
		print_campaign_line(c);
	}
}

static void print_plan(const cJSON *p)
{
	printf("dry run: campaign %s, flow %s, soak %" PRId64 " s, feed snapshot %" PRId64 "\n",
	       str_of(p, "name"), str_of(p, "flow"), int_of(p, "soak_seconds"),
	       int_of(p, "feed_snapshot"));
	const cJSON *h;
	cJSON_ArrayForEach(h, cJSON_GetObjectItem(p, "hosts")) {
		printf("  wave %" PRId64 "  %-20s flow %" PRId64 "  %d finding(s)\n",
		       int_of(h, "wave"), str_of(h, "hostname"), int_of(h, "flow"),
		       cJSON_GetArraySize(cJSON_GetObjectItem(h, "findings")));
	}
}

/* --as USER: the actor "cli:USER" and the user's role. */
static int as_user(pw_db *db, char *actor, size_t size, pw_role *role)
{
	pw_error err = PW_ERROR_INIT;
	if (!opt.as)
		return pw_cli_usage_error(CMD, "give --as USER: the patchwarden user whose role "
					       "takes the step (the ticket records who)");
	if (pw_campaign_user_role(db, opt.as, role, &err))
		return pw_cli_fail_err(CMD, &err);
	snprintf(actor, size, "cli:%s", opt.as);
	return PW_EXIT_OK;
}

static int show(pw_db *db, int64_t id)
{
	cJSON *o = NULL;
	pw_error err = PW_ERROR_INIT;
	if (pw_campaign_show_json(db, id, &o, &err))
		return pw_cli_fail_err(CMD, &err);
	return print(CMD, o, print_campaign);
}

static int create(pw_db *db)
{
	pw_campaign_spec s = {opt.name,      opt.hosts, opt.findings, opt.upgrades, 0,
			      opt.emergency, -1};
	pw_error err = PW_ERROR_INIT;
	if (opt.flow && strcmp(opt.flow, "auto"))
		s.flow = !strcmp(opt.flow, "1") ? 1 : !strcmp(opt.flow, "2") ? 2 : -1;
	if (s.flow < 0)
		return pw_cli_usage_error(CMD, "--flow takes auto, 1 or 2");
	if (opt.soak && pw_campaign_soak_parse(opt.soak, &s.soak_seconds, &err))
		return pw_cli_usage_error(CMD, "%s", pw_error_text(&err));
	if (opt.dry_run) {
		cJSON *plan = NULL;
		if (pw_campaign_plan(db, &s, &plan, &err))
			return pw_cli_fail_err(CMD, &err);
		return print(CMD, plan, print_plan);
	}
	char actor[96];
	pw_role role;
	int64_t id;
	int rc = as_user(db, actor, sizeof actor, &role);
	if (rc)
		return rc;
	if (pw_campaign_create(db, actor, role, &s, pw_window_now(), &id, &err))
		return pw_cli_fail_err(CMD, &err);
	return show(db, id);
}

static int step(pw_db *db, pw_campaign_action a)
{
	char actor[96];
	pw_role role;
	int rc = as_user(db, actor, sizeof actor, &role);
	if (rc)
		return rc;
	pw_campaign_step s = {actor,
			      role,
			      opt.campaign,
			      a,
			      opt.host,
			      a == PW_CA_DECLINE || a == PW_CA_SKIP ? opt.reason : opt.note,
			      {opt.data_value, opt.threat_frequency, opt.impact, opt.cost_benefit},
			      a == PW_CA_SIGN_OFF ? opt.expires : opt.recheck,
			      pw_window_now()};
	pw_error err = PW_ERROR_INIT;
	if (pw_campaign_step_apply(db, &s, &err))
		return pw_cli_fail_err(CMD, &err);
	if (!opt.json)
		printf("campaign %" PRId64 ": %s%s%s done\n", opt.campaign,
		       pw_campaign_action_name(a), opt.host ? " on " : "",
		       opt.host ? opt.host : "");
	return show(db, opt.campaign);
}

/* The options each step takes besides --as and --json. */
static unsigned step_scope(pw_campaign_action a)
{
	switch (a) {
	case PW_CA_DECLINE:
		return HOST | DECLINE;
	case PW_CA_SIGN_OFF:
		return HOST | NOTE | EXPIRES;
	case PW_CA_RECORD_COUNTERMEASURE:
		return HOST | NOTE | RECHECK;
	case PW_CA_SKIP:
		return HOST | REASON;
	default:
		return (a < PW_CA__HOST_STEPS ? HOST : 0) | NOTE;
	}
}

static int parse_id(const char *cmd, const char *text, int64_t *id)
{
	char *end;
	long long v = text ? strtoll(text, &end, 10) : 0;
	if (!text || *end || v < 1)
		return pw_cli_usage_error(cmd, "give the id (a positive number)");
	*id = v;
	return PW_EXIT_OK;
}

int cmd_campaign(int argc, char **argv, struct pw_setup *setup)
{
	if (argc < 2)
		return pw_cli_usage_error(CMD, "which one: create, list, show, or a step "
					       "(confirm-backup, approve, decline, sign-off, "
					       "record-uat, record-countermeasure, skip, rollback, "
					       "start, pause, resume, cancel)?");
	const char *sub = argv[1];
	pw_campaign_action a = PW_CA__COUNT;
	bool is_step = pw_campaign_action_parse(sub, &a) && a < PW_CA__STEPS;
	unsigned scope = !strcmp(sub, "create")                         ? CREATE | JSON | AS
			 : is_step                                      ? step_scope(a) | JSON | AS
			 : !strcmp(sub, "list") || !strcmp(sub, "show") ? JSON
									: 0;
	if (!scope)
		return pw_cli_usage_error(CMD, "'%s' is not a campaign subcommand", sub);
	int nargs = pw_cli_parse(CMD, setup, argc - 1, argv + 1, PW_OPT_TABLES(options), scope);
	if (nargs < 0)
		return PW_EXIT_ERROR;
	bool takes_id = is_step || !strcmp(sub, "show");
	if (nargs != (takes_id ? 1 : 0))
		return pw_cli_usage_error(CMD,
					  takes_id ? "campaign %s takes one ID"
						   : "campaign %s takes no arguments",
					  sub);
	if (takes_id && parse_id(CMD, argv[1], &opt.campaign))
		return PW_EXIT_ERROR;
	pw_db *db = pw_cli_db(CMD, setup);
	if (!db)
		return PW_EXIT_ERROR;
	if (is_step)
		return step(db, a);
	if (!strcmp(sub, "create"))
		return create(db);
	if (!strcmp(sub, "show"))
		return show(db, opt.campaign);
	cJSON *arr = NULL;
	pw_error err = PW_ERROR_INIT;
	if (pw_campaign_list_json(db, &arr, &err))
		return pw_cli_fail_err(CMD, &err);
	return print(CMD, arr, print_campaigns);
}

/* ---- ticket --------------------------------------------------------------- */

static void print_ticket_line(const cJSON *t)
{
	printf("ticket %" PRId64 "  campaign %" PRId64 "  %-20s %-6s %-8s next: %s\n",
	       int_of(t, "id"), int_of(t, "campaign_id"), str_of(t, "hostname"), str_of(t, "state"),
	       str_of(t, "track"), str_of(t, "next_actor"));
}

static void print_tickets(const cJSON *arr)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, arr) {
		print_ticket_line(t);
	}
}

static void print_ticket(const cJSON *t)
{
	print_ticket_line(t);
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(t, "events")) {
		printf("  %s  %-14s %-22s %s -> %s  next: %s%s%s\n", str_of(e, "ts"),
		       str_of(e, "actor"), str_of(e, "action"), str_of(e, "from"), str_of(e, "to"),
		       str_of(e, "next_actor"),
		       cJSON_IsString(cJSON_GetObjectItem(e, "note")) ? "  note: " : "",
		       cJSON_IsString(cJSON_GetObjectItem(e, "note")) ? str_of(e, "note") : "");
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(t, "risk_acceptances")) {
		printf("  risk acceptance: %s (data %s, threat %s, impact %s; %s) declined by %s, "
		       "signed by %s, expires %s, expired %s\n",
		       str_of(e, "reason"), str_of(e, "data_value"), str_of(e, "threat_frequency"),
		       str_of(e, "impact"), str_of(e, "cost_benefit"), str_of(e, "declined_by"),
		       str_of(e, "signed_by"), str_of(e, "expires"), str_of(e, "expired"));
	}
}

int cmd_ticket(int argc, char **argv, struct pw_setup *setup)
{
	const char *cmd = "ticket";
	bool list = argc >= 2 && !strcmp(argv[1], "list"),
	     one = argc >= 2 && !strcmp(argv[1], "show");
	if (!list && !one)
		return pw_cli_usage_error(cmd, "which one: list or show?");
	int nargs = pw_cli_parse(cmd, setup, argc - 1, argv + 1, PW_OPT_TABLES(options),
				 JSON | (list ? TICKETS : FORMAT));
	if (nargs < 0)
		return PW_EXIT_ERROR;
	int64_t id = 0;
	if (nargs != (one ? 1 : 0))
		return pw_cli_usage_error(cmd, one ? "ticket show takes one N"
						   : "ticket list takes no arguments");
	if (one && parse_id(cmd, argv[1], &id))
		return PW_EXIT_ERROR;
	if (opt.format && strcmp(opt.format, "html"))
		return pw_cli_usage_error(cmd, "--format takes html (--json gives the record)");
	if (opt.format && opt.json)
		return pw_cli_usage_error(cmd, "--format html or --json, not both");
	pw_db *db = pw_cli_db(cmd, setup);
	if (!db)
		return PW_EXIT_ERROR;
	cJSON *o = NULL;
	pw_error err = PW_ERROR_INIT;
	pw_err rc = one ? pw_ticket_show_json(db, id, &o, &err)
			: pw_ticket_list_json(db, opt.campaign, &o, &err);
	if (rc)
		return pw_cli_fail_err(cmd, &err);
	if (opt.format) {
		pw_buf page = PW_BUF_INIT;
		rc = pw_ticket_html(db, o, &page, &err);
		cJSON_Delete(o);
		if (rc)
			return pw_cli_fail_err(cmd, &err);
		fwrite(page.data, 1, page.len, stdout);
		pw_buf_release(&page);
		return pw_cli_finish(cmd, PW_EXIT_OK);
	}
	return print(cmd, o, one ? print_ticket : print_tickets);
}
