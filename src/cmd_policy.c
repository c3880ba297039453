/* patchwarden policy run: the daily policy run (policy_run.h) by hand. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/policy_run.h"
#include "patchwarden/window.h"

#define CMD "policy"

static struct {
	bool json, dry_run, emergency;
	const char *since;
} opt = {false, false, false, NULL};

static const struct pw_option options[] = {
	PW_OPT_FLAG(0, "dry-run", &opt.dry_run,
		    "list what is due; draft, notify and record nothing"),
	PW_OPT_FLAG(0, "emergency-only", &opt.emergency,
		    "the emergency path alone (KEV-listed and emergency findings)"),
	{.kind = PW_OPT_STRING,
	 .long_name = "since",
	 .value = &opt.since,
	 .argh = "TIME",
	 .help = "digest: advisories first seen since this UTC time\n"
		 "(YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ; default: the last digest)"},
	PW_OPT_FLAG(0, "json", &opt.json, "print the run's report as JSON"),
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden policy run [--dry-run] [--emergency-only] [--config FILE] [--db URL]\n"
	"                              [--json]\n"
	"       patchwarden policy digest [--since TIME] [--dry-run] [--json]\n"
	"\n"
	"Runs the patch policy as the server does daily ([policy] daily_at):\n"
	"lists the hosts not patched for [policy] max_days_unpatched days (90),\n"
	"the open findings past their priority's SLA, the risk acceptances and\n"
	"countermeasures expiring within expiry_warning_days (7), and the open\n"
	"KEV-listed or emergency findings; drafts an emergency campaign for the\n"
	"latter and, with draft_campaigns = true, campaigns for the others;\n"
	"mails the operators and managers a summary and the owners and managers\n"
	"each expiry (the outbox, [notify]); records the run (policy_runs) and\n"
	"audits it as policy.run.\n"
	"\n"
	"digest mails each owner group the advisories first seen on its hosts\n"
	"since the last digest, with their priority, the hosts affected and the\n"
	"campaign that handles them; the daily run sends it by [policy] digest\n"
	"(off, daily, weekly).\n"
	"\n";

static const char usage_tail[] = "\n"
				 "Exit status: 0 done, 2 bad usage or failed.\n"
				 "See patchwarden-policy(1).\n";

const struct pw_usage cmd_policy_usage = {usage_head, PW_OPT_TABLES(options), usage_tail, NULL};

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "-";
}

static void print_text(const cJSON *r)
{
	const cJSON *x;
	const cJSON *un = cJSON_GetObjectItemCaseSensitive(r, "unpatched");
	const cJSON *sla = cJSON_GetObjectItemCaseSensitive(r, "past_sla");
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(r, "expiring");
	const cJSON *em = cJSON_GetObjectItemCaseSensitive(r, "emergency");
	const cJSON *dr = cJSON_GetObjectItemCaseSensitive(r, "drafted");
	printf("policy run as of %s%s\n", str(r, "as_of"),
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "dry_run")) ? " (dry run)" : "");
	printf("\nemergency: %d open KEV-listed or emergency findings\n", cJSON_GetArraySize(em));
	cJSON_ArrayForEach(x, em)
		printf("  %-24s %-20s %-22s %-9s %s\n", str(x, "host"), str(x, "package"),
		       str(x, "advisory"), str(x, "priority"), str(x, "kev_cve"));
	printf("\npast SLA: %d open findings\n", cJSON_GetArraySize(sla));
	cJSON_ArrayForEach(x, sla)
		printf("  %-24s %-20s %-22s %-9s due %s\n", str(x, "host"), str(x, "package"),
		       str(x, "advisory"), str(x, "priority"), str(x, "due"));
	printf("\nunpatched: %d hosts\n", cJSON_GetArraySize(un));
	cJSON_ArrayForEach(x, un) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(x, "days");
		if (cJSON_IsNumber(d))
			printf("  %-24s last patched %.10s (%" PRId64 " days)\n", str(x, "host"),
			       str(x, "last_patched"), (int64_t)d->valuedouble);
		else
			printf("  %-24s never patched\n", str(x, "host"));
	}
	printf("\nexpiring: %d\n", cJSON_GetArraySize(ex));
	cJSON_ArrayForEach(x, ex)
		printf("  %-24s %-16s campaign %" PRId64 " expires %s\n", str(x, "host"),
		       str(x, "kind"),
		       (int64_t)cJSON_GetObjectItemCaseSensitive(x, "campaign")->valuedouble,
		       str(x, "expires"));
	if (cJSON_GetArraySize(dr))
		printf("\ndrafted:\n");
	cJSON_ArrayForEach(x, dr)
		printf("  campaign %" PRId64 " %s\n",
		       (int64_t)cJSON_GetObjectItemCaseSensitive(x, "id")->valuedouble,
		       str(x, "name"));
}

static void print_digest(const cJSON *r)
{
	const cJSON *g, *a;
	printf("advisories first seen since %s, as of %s%s\n", str(r, "since"), str(r, "as_of"),
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "dry_run")) ? " (dry run)" : "");
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(r, "groups")) {
		printf("\n%s\n", str(g, "owner_group"));
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(g, "advisories")) {
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "campaign");
			printf("  %-24s %-9s %3d hosts  ", str(a, "advisory"), str(a, "priority"),
			       (int)cJSON_GetObjectItemCaseSensitive(a, "hosts")->valuedouble);
			if (cJSON_IsNumber(c))
				printf("campaign %" PRId64 "\n", (int64_t)c->valuedouble);
			else
				printf("no campaign yet\n");
		}
	}
}

/* --since as the stored form: a date is its midnight. */
static bool since_ts(const char *v, char out[32])
{
	unsigned y, m, d, hh, mm, ss;
	char z, extra;
	if (sscanf(v, "%4u-%2u-%2u%c", &y, &m, &d, &extra) == 3 && m >= 1 && m <= 12 && d >= 1 &&
	    d <= 31) {
		snprintf(out, 32, "%04u-%02u-%02uT00:00:00Z", y, m, d);
		return true;
	}
	if (sscanf(v, "%4u-%2u-%2uT%2u:%2u:%2u%c%c", &y, &m, &d, &hh, &mm, &ss, &z, &extra) == 7 &&
	    z == 'Z' && m >= 1 && m <= 12 && d >= 1 && d <= 31 && hh < 24 && mm < 60 && ss < 61) {
		snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02uZ", y, m, d, hh, mm, ss);
		return true;
	}
	return false;
}

int cmd_policy(int argc, char **argv, struct pw_setup *setup)
{
	bool digest = argc >= 2 && strcmp(argv[1], "digest") == 0;
	if (argc < 2 || (!digest && strcmp(argv[1], "run") != 0))
		return pw_cli_usage_error(CMD, "which subcommand? run or digest");
	int n = pw_cli_parse(CMD, setup, argc - 1, argv + 1, PW_OPT_TABLES(options), 1);
	if (n < 0)
		return PW_EXIT_ERROR;
	if (n > 0)
		return pw_cli_usage_error(CMD, "policy %s takes no arguments", argv[1]);
	char since[32];
	if (opt.since && (!digest || !since_ts(opt.since, since)))
		return pw_cli_usage_error(CMD,
					  digest ? "--since '%s': give YYYY-MM-DD or "
						   "YYYY-MM-DDTHH:MM:SSZ (UTC)"
						 : "--since '%s' goes with digest",
					  opt.since);
	if (digest && opt.emergency)
		return pw_cli_usage_error(CMD, "--emergency-only goes with run");
	pw_config *cfg = pw_cli_config(CMD, setup);
	if (!cfg)
		return PW_EXIT_ERROR;
	pw_db *db = pw_cli_db(CMD, setup);
	if (!db)
		return PW_EXIT_ERROR;
	pw_policy_run_config pc;
	pw_error err = PW_ERROR_INIT;
	cJSON *r = NULL;
	if (pw_policy_run_config_load(cfg, &pc, &err) ||
	    (digest ? pw_policy_digest(db, &pc, pw_window_now(), opt.since ? since : NULL,
				       opt.dry_run, &r, &err)
		    : pw_policy_run(db, &pc, pw_window_now(), opt.dry_run, opt.emergency, &r,
				    &err))) {
		cJSON_Delete(r);
		return pw_cli_fail_err(CMD, &err);
	}
	if (opt.json) {
		int rc = pw_cli_print_json(CMD, r);
		return rc ? rc : pw_cli_finish(CMD, rc);
	}
	if (digest)
		print_digest(r);
	else
		print_text(r);
	cJSON_Delete(r);
	return pw_cli_finish(CMD, PW_EXIT_OK);
}
