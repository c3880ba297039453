/* patchwarden cve CVE-ID and patchwarden advisory ID: "are we exposed
 * to it?" (exposure.h), as GET /api/v1/cves/{cve} and
 * /api/v1/advisories/{advisory} answer it: a one-line verdict, then the
 * hosts of each group; --json prints the record the API returns. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/coverage.h"
#include "patchwarden/exposure.h"
#include "patchwarden/findings.h"

struct opts {
	pw_host_filter f;
	int64_t min_criticality;
	bool json;
};

static struct opts opt = {.f = PW_HOST_FILTER_INIT};

/* clang-format off */
static const struct pw_option options[] = {
	PW_OPT_GROUP("Hosts (default: all in service):"),
	PW_OPT_STRING(0, "category", &opt.f.category, "C", "hosts of category C"),
	PW_OPT_STRING(0, "exposure", &opt.f.exposure, "E", "hosts of exposure E"),
	PW_OPT_STRING(0, "environment", &opt.f.environment, "E", "hosts of environment E"),
	PW_OPT_STRING(0, "owner", &opt.f.owner_group, "GROUP", "hosts of owner group GROUP"),
	PW_OPT_INT(0, "criticality", &opt.min_criticality, 1, 5, "N",
		   "hosts of criticality N or higher"),
	PW_OPT_FLAG(0, "overdue", &opt.f.overdue,
		    "hosts not patched in the last 90 days, or never"),
	PW_OPT_INT(0, "stale", &opt.f.stale_days, 1, 100000, "DAYS",
		   "hosts not seen for DAYS days, or never"),
	PW_OPT_GROUP("\nOptions:"),
	PW_OPT_FLAG(0, "json", &opt.json, "print the record the API returns (docs/records.md)"),
	PW_OPT_END(),
};
/* clang-format on */

#define GROUPS                                                                                     \
	"The hosts in service (or those the filters select) in four groups:\n"                     \
	"  affected      an open finding names it (the findings are listed)\n"                     \
	"  fixed         findings named it, all fixed now\n"                                       \
	"  not affected  covered, and no finding names it\n"                                       \
	"  unknown       not covered (never reported, stale, no feed for the\n"                    \
	"                release, pending: see 'patchwarden help host'); and\n"                    \
	"                every host without a finding when no advisory of the\n"                   \
	"                newest feed snapshot names it: the feeds cannot clear\n"                  \
	"                anyone of what they do not know\n"                                        \
	"followed by what the newest feed snapshot knows of it: the advisories\n"                  \
	"naming it and their releases, KEV and EPSS.\n"                                            \
	"\n"

#define TAIL                                                                                       \
	"\n"                                                                                       \
	"The feed store is [feeds] store of the configuration file\n"                              \
	"($PATCHWARDEN_STORE takes precedence), else the server's database.\n"                     \
	"Exit status: 0 printed (whatever the verdict), 2 bad usage, a malformed\n"                \
	"id or unreadable data.\n"

static const char cve_head[] =
	"usage: patchwarden cve CVE-ID [HOST FILTERS] [--json]\n"
	"\n"
	"Are we exposed to CVE-ID (CVE-2023-5363)? A finding names it when the\n"
	"CVE is among its CVEs or is its advisory.\n"
	"\n" GROUPS;
static const char advisory_head[] =
	"usage: patchwarden advisory ID [HOST FILTERS] [--json]\n"
	"\n"
	"Are we exposed to the advisory ID, as its feed names it (DSA-5532-1,\n"
	"DLA-3325-1, USN-6123-1, RHSA-2024:1234, ALSA-2024:0627, GHSA-…)? A\n"
	"finding names it when it is that advisory.\n"
	"\n" GROUPS;

const struct pw_usage cmd_cve_usage = {cve_head, PW_OPT_TABLES(options),
				       TAIL "See patchwarden-cve(1).\n", NULL};
const struct pw_usage cmd_advisory_usage = {advisory_head, PW_OPT_TABLES(options),
					    TAIL "See patchwarden-advisory(1).\n", NULL};

static void print_feed(const pw_vuln_exposure *e)
{
	if (!e->snapshot) {
		printf("no feed snapshot: import feeds ('patchwarden feed import')\n");
		return;
	}
	if (!e->known)
		printf("feed snapshot %" PRId64 ": no advisory names %s\n", e->snapshot, e->id);
	for (size_t i = 0; i < e->n_advisories; i++)
		printf("%s %s (%s, %s)\n", i ? "              " : "advisories   ",
		       e->advisories[i].id, e->advisories[i].source, e->advisories[i].releases);
	if (e->kind == PW_VULN_ADVISORY && e->n_cves) {
		printf("CVEs          ");
		for (size_t i = 0; i < e->n_cves; i++)
			printf("%s%s", i ? " " : "", e->cves[i]);
		printf("\n");
	}
	if (*e->kev_cve)
		printf("KEV           %s, due %s\n", e->kev_cve, pw_cli_or_dash(e->kev_due));
	if (e->has_epss)
		printf("EPSS          %s %.5f (percentile %.4f)\n", e->epss_cve, e->epss,
		       e->epss_percentile);
}

static void print_hosts(const pw_vuln_exposure *e)
{
	static const char *const titles[PW_EXPOSED__COUNT] = {"AFFECTED", "FIXED", "NOT AFFECTED",
							      "UNKNOWN"};
	for (int g = 0; g < PW_EXPOSED__COUNT; g++) {
		if (!e->n_hosts[g])
			continue;
		printf("\n%s\n", titles[g]);
		for (size_t i = 0; i < e->n_hosts[g]; i++) {
			const pw_exposure_host *h = &e->hosts[g][i];
			const char *rel = pw_cli_or_dash(h->release);
			if (g == PW_EXPOSED_FIXED)
				printf("  %-24s %-14s fixed %s\n", h->hostname, rel, h->fixed_at);
			else if (g == PW_EXPOSED_NOT_AFFECTED)
				printf("  %-24s %s%s\n", h->hostname, rel,
				       h->release_named
					       ? ""
					       : "  (no advisory for its release names it)");
			else if (g == PW_EXPOSED_UNKNOWN)
				printf("  %-24s %-14s %s: %s\n", h->hostname, rel,
				       pw_host_coverage_name(h->coverage), h->coverage_detail);
			for (size_t k = 0; g == PW_EXPOSED_AFFECTED && k < h->n_findings; k++) {
				const pw_exposure_finding *f = h->findings[k];
				printf("  %-24s %-14s %s %s -> %s  %s  %s  due %s%s%s\n",
				       k ? "" : h->hostname, k ? "" : rel, f->package, f->installed,
				       f->fixed, f->advisory, f->priority, pw_cli_or_dash(f->due),
				       f->kev_cve ? "  KEV " : "", f->kev_cve ? f->kev_cve : "");
			}
		}
	}
}

static int run(const char *cmd, pw_vuln_kind kind, int argc, char **argv, struct pw_setup *setup)
{
	int n = pw_cli_parse(cmd, setup, argc, argv, PW_OPT_TABLES(options), 0);
	if (n < 0)
		return PW_EXIT_ERROR;
	if (n != 1)
		return pw_cli_usage_error(cmd, "%s takes one %s", cmd,
					  kind == PW_VULN_CVE ? "CVE-ID" : "ID");
	struct opts o = opt;
	o.f.min_criticality = (int)opt.min_criticality;
	pw_config *cfg = pw_cli_config(cmd, setup);
	if (!cfg)
		return PW_EXIT_ERROR;
	pw_findings_config fc;
	pw_error err = PW_ERROR_INIT;
	if (pw_findings_config_load(cfg, &fc, &err))
		return pw_cli_fail_err(cmd, &err);
	pw_db *db = pw_cli_db(cmd, setup);
	if (!db)
		return PW_EXIT_ERROR;
	pw_vuln_exposure e;
	if (pw_vuln_exposure_get(db, &fc, kind, argv[0], &o.f, &e, &err))
		return pw_cli_fail_err(cmd, &err);
	int rc = PW_EXIT_OK;
	if (o.json) {
		rc = pw_cli_print_json(cmd, pw_exposure_to_json(&e));
	} else {
		size_t a = e.n_hosts[PW_EXPOSED_AFFECTED];
		printf("%s: %zu host%s affected, %zu fixed, %zu not affected, %zu unknown (%s)\n",
		       e.id, a, a == 1 ? "" : "s", e.n_hosts[PW_EXPOSED_FIXED],
		       e.n_hosts[PW_EXPOSED_NOT_AFFECTED], e.n_hosts[PW_EXPOSED_UNKNOWN],
		       e.known ? "not covered" : "not covered, or the feeds do not know it");
		print_feed(&e);
		print_hosts(&e);
	}
	pw_vuln_exposure_release(&e);
	return rc ? rc : pw_cli_finish(cmd, rc);
}

int cmd_cve(int argc, char **argv, struct pw_setup *setup)
{
	return run("cve", PW_VULN_CVE, argc, argv, setup);
}

int cmd_advisory(int argc, char **argv, struct pw_setup *setup)
{
	return run("advisory", PW_VULN_ADVISORY, argc, argv, setup);
}
