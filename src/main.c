/* patchwarden: one binary, subcommands registered in one sorted table. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/db.h"
#include "patchwarden/schema.h"

static int cmd_help(int argc, char **argv, struct pw_setup *setup);
static const struct pw_usage cmd_help_usage = {
	"usage: patchwarden help [COMMAND]\n"
	"\n"
	"Without COMMAND, lists the commands. With one, prints its usage.\n"
	"The man page patchwarden-COMMAND(1) has the full description.\n",
	NULL,
	NULL,
	NULL,
};

#define CONFIG PW_SETUP_CONFIG
#define DB PW_SETUP_DB

/* Sorted by name: `help` and lookups walk this table. The last column is
 * the set-up the command needs; `feed` narrows it per subcommand. */
static const struct pw_cmd commands[] = {
	{"advisory", cmd_advisory,
	 "are we exposed to an advisory? hosts affected, fixed, not, unknown", &cmd_advisory_usage,
	 CONFIG | DB},
	{"agent", cmd_agent, "enroll this host and check in with the server", &cmd_agent_usage,
	 CONFIG},
	{"audit", cmd_audit, "verify and list the hash-chained audit log", &cmd_audit_usage, DB},
	{"campaign", cmd_campaign, "patch campaigns: create, list, show, and their steps",
	 &cmd_campaign_usage, DB},
	{"cve", cmd_cve, "are we exposed to a CVE? hosts affected, fixed, not affected, unknown",
	 &cmd_cve_usage, CONFIG | DB},
	{"db", cmd_db, "back up, restore and check the server database", &cmd_db_usage,
	 CONFIG | DB},
	{"feed", cmd_feed, "import, sync and bundle advisory feeds", &cmd_feed_usage, CONFIG},
	{"findings", cmd_findings, "list the findings stored for the fleet's hosts",
	 &cmd_findings_usage, CONFIG | DB},
	{"help", cmd_help, "show help for a command", &cmd_help_usage, 0},
	{"host", cmd_host, "list and edit the server inventory (hosts, owners, windows)",
	 &cmd_host_usage, CONFIG | DB},
	{"inventory", cmd_inventory, "list the packages installed on a host", &cmd_inventory_usage,
	 0},
	{"policy", cmd_policy,
	 "the daily patch policy run: unpatched, past SLA, expiring, emergencies",
	 &cmd_policy_usage, CONFIG | DB},
	{"report", cmd_report, "compliance and time-to-remediate reports, as of any date",
	 &cmd_report_usage, CONFIG | DB},
	{"scan", cmd_scan, "report the security fixes a host is missing", &cmd_scan_usage, CONFIG},
	{"server", cmd_server, "serve the HTTP/JSON API for agents and operators",
	 &cmd_server_usage, CONFIG | DB},
	{"summary", cmd_summary, "the fleet at a glance: coverage, findings, SLA, KEV exposure",
	 &cmd_summary_usage, CONFIG | DB},
	{"ticket", cmd_ticket, "the tickets of patch campaigns, with their events",
	 &cmd_ticket_usage, DB},
	{"upgrades", cmd_upgrades, "the fleet's open findings grouped by package upgrade",
	 &cmd_upgrades_usage, DB},
	{"user", cmd_user, "manage users, roles, API and enrollment tokens", &cmd_user_usage, DB},
	{"vercmp", cmd_vercmp, "compare package versions as dpkg, rpm or apk do", &cmd_vercmp_usage,
	 0},
};

const struct pw_cmd *pw_cli_find(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void print_overview(FILE *out)
{
	fprintf(out, "usage: patchwarden [--version] [--help] COMMAND [ARGS]\n"
		     "\n"
		     "patchwarden finds the security updates each server is missing, ranks\n"
		     "them by risk and drives their patching through an audited process.\n"
		     "\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'patchwarden help COMMAND' for a command's options.\n");
}

pw_db *pw_cli_db(const char *cmd, struct pw_setup *s)
{
	if (s->db)
		return s->db;
	const char *url = pw_cli_db_url(cmd, s);
	pw_error err = PW_ERROR_INIT;
	if (!url)
		return NULL;
	if (pw_cli_db_missing(cmd, s, url))
		return NULL;
	double start = pw_cli_now();
	if (pw_schema_open(url, &s->db, &err)) {
		pw_cli_fail_err(cmd, &err);
		return NULL;
	}
	if (pw_cli_verbose()) {
		char shown[1024];
		pw_db_url_redact(url, shown, sizeof shown);
		pw_cli_info(cmd, "database %s (%s), opened in %.3f s", shown,
			    pw_db_kind_of(s->db) == PW_DB_SQLITE ? "SQLite" : "PostgreSQL",
			    pw_cli_now() - start);
	}
	return s->db;
}

static int cmd_help(int argc, char **argv, struct pw_setup *setup)
{
	(void)setup;
	if (argc < 2) {
		print_overview(stdout);
		return PW_EXIT_OK;
	}
	if (!pw_cli_find(argv[1]))
		return pw_cli_usage_error("help", "'%s' is not a patchwarden command", argv[1]);
	pw_cli_print_usage(argv[1], stdout);
	return PW_EXIT_OK;
}

int main(int argc, char **argv)
{
	/* Output options before the command: "patchwarden -q scan". */
	while (argc > 1) {
		int g = pw_cli_global_option(argv[1], argc > 2 ? argv[2] : NULL);
		if (g < 0)
			return PW_EXIT_ERROR;
		if (!g)
			break;
		argv[g] = argv[0];
		argc -= g;
		argv += g;
	}
	if (argc < 2) {
		print_overview(stderr);
		return PW_EXIT_ERROR;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		print_overview(stdout);
		return PW_EXIT_OK;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("patchwarden %s\n", PW_VERSION);
		return PW_EXIT_OK;
	}
	const struct pw_cmd *cmd = pw_cli_find(name);
	if (!cmd) {
		fprintf(stderr,
			"patchwarden: '%s' is not a patchwarden command; see 'patchwarden "
			"--help'\n",
			name);
		return PW_EXIT_ERROR;
	}
	if (cmd->run != cmd_help && pw_cli_wants_help(argc - 1, argv + 1)) {
		pw_cli_print_usage(cmd->name, stdout);
		return PW_EXIT_OK;
	}
	struct pw_setup setup = {.flags = cmd->setup};
	double start = pw_cli_now();
	int rc = cmd->run(argc - 1, argv + 1, &setup);
	pw_db_close(setup.db);
	pw_cli_setup_release(&setup);
	pw_cli_info(cmd->name, "exit status %d after %.3f s", rc, pw_cli_now() - start);
	return rc;
}
