/* patchwarden summary: the fleet at a glance (summary.h), as GET
 * /api/v1/summary gives it. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/findings.h"
#include "patchwarden/summary.h"

#define CMD "summary"

static struct {
	bool json;
} opt = {false};

static const struct pw_option options[] = {
	PW_OPT_FLAG(0, "json", &opt.json, "print JSON (the API's shape) instead of text"),
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden summary [--config FILE] [--db URL] [--json]\n"
	"\n"
	"Prints the fleet at a glance: hosts by coverage state (covered,\n"
	"never_reported, no_feed, stale, pending; see 'patchwarden help host'),\n"
	"the open findings of all hosts per priority, the hosts with an open\n"
	"finding past its priority's SLA ([policy] sla_*) or its KEV due date,\n"
	"the hosts not patched for 90 days (last_patched), the hosts with an\n"
	"open finding of a CVE in CISA's KEV list, and the newest feed snapshot\n"
	"with its age.\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"The feed store is [feeds] store of the configuration file\n"
	"($PATCHWARDEN_STORE takes precedence), else the server's database.\n"
	"Exit status: 0 printed, 2 bad usage or unreadable data.\n"
	"See patchwarden-summary(1).\n";

const struct pw_usage cmd_summary_usage = {usage_head, PW_OPT_TABLES(options), usage_tail, NULL};

static void print_text(const pw_fleet_summary *s)
{
	printf("%-22s %" PRId64 "\n", "hosts", s->hosts);
	printf("%-22s", "coverage");
	for (int c = PW_COVERAGE_COVERED; c < PW_COVERAGE__COUNT; c++)
		printf("%s %s %" PRId64, c == PW_COVERAGE_COVERED ? "" : ",",
		       pw_host_coverage_name((pw_host_coverage)c), s->coverage[c]);
	printf("\n%-22s", "open findings");
	for (int p = 0; p < PW_HOST_PRIO__COUNT; p++)
		printf("%s %s %" PRId64, p ? "," : "", pw_host_prio_name((pw_host_prio)p),
		       s->open[p]);
	printf("\n%-22s %" PRId64 " host%s\n", "past SLA", s->past_sla,
	       s->past_sla == 1 ? "" : "s");
	printf("%-22s %" PRId64 " host%s\n", "not patched 90 days", s->unpatched,
	       s->unpatched == 1 ? "" : "s");
	printf("%-22s %" PRId64 " host%s with an open KEV-listed finding\n", "KEV exposure", s->kev,
	       s->kev == 1 ? "" : "s");
	if (s->snapshot)
		printf("%-22s %" PRId64 " (%s, %" PRId64 " days old)\n", "feed snapshot",
		       s->snapshot, s->snapshot_created, s->snapshot_age_days);
	else
		printf("%-22s none: import feeds ('patchwarden feed import')\n", "feed snapshot");
}

int cmd_summary(int argc, char **argv, struct pw_setup *setup)
{
	int n = pw_cli_parse(CMD, setup, argc, argv, PW_OPT_TABLES(options), 1);
	if (n < 0)
		return PW_EXIT_ERROR;
	if (n > 0)
		return pw_cli_usage_error(CMD, "summary takes no arguments");
	pw_config *cfg = pw_cli_config(CMD, setup);
	if (!cfg)
		return PW_EXIT_ERROR;
	pw_db *db = pw_cli_db(CMD, setup);
	if (!db)
		return PW_EXIT_ERROR;
	pw_findings_config fc;
	pw_fleet_summary s;
	pw_error err = PW_ERROR_INIT;
	if (pw_findings_config_load(cfg, &fc, &err) || pw_fleet_summary_get(db, &fc, &s, &err))
		return pw_cli_fail_err(CMD, &err);
	if (opt.json) {
		int rc = pw_cli_print_json(CMD, pw_fleet_summary_to_json(&s));
		return rc ? rc : pw_cli_finish(CMD, rc);
	}
	print_text(&s);
	return pw_cli_finish(CMD, PW_EXIT_OK);
}
