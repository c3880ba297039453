/* patchwarden findings, and `patchwarden host findings HOST`: the stored
 * findings (host_findings.h) with the API's filters, as a table or as the
 * records GET /api/v1/findings pages. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/buf.h"
#include "patchwarden/host_findings.h"
#include "patchwarden/hosts.h"
#include "table.h"

#define CMD "findings"
#define PAGE 1000

struct opts {
	pw_finding_filter f;
	const char *kev;
	int64_t min_criticality;
	bool json;
};

static struct opts opt = {.f = PW_FINDING_FILTER_INIT};

static const struct pw_option options[] = {
	PW_OPT_GROUP("Findings:"),
	{.kind = PW_OPT_STRING,
	 .long_name = "priority",
	 .value = &opt.f.priority,
	 .argh = "P",
	 .help = "of priority P: emergency, high, normal or low"},
	{.kind = PW_OPT_STRING,
	 .long_name = "state",
	 .value = &opt.f.state,
	 .argh = "S",
	 .help = "in state S: open or fixed (accepted and\n"
		 "unfixed-upstream match nothing yet)"},
	{.kind = PW_OPT_STRING,
	 .long_name = "package",
	 .value = &opt.f.package,
	 .argh = "NAME",
	 .help = "of package NAME (the source package where the\n"
		 "distribution's data is per source)"},
	{.kind = PW_OPT_STRING,
	 .long_name = "advisory",
	 .value = &opt.f.advisory,
	 .argh = "ID",
	 .help = "of advisory ID"},
	{.kind = PW_OPT_STRING,
	 .long_name = "cve",
	 .value = &opt.f.cve,
	 .argh = "CVE",
	 .help = "with CVE among its CVEs"},
	{.kind = PW_OPT_STRING,
	 .long_name = "kev",
	 .value = &opt.kev,
	 .argh = "true|false",
	 .help = "in CISA KEV (true) or not (false)"},
	{.kind = PW_OPT_STRING,
	 .long_name = "due-before",
	 .value = &opt.f.due_before,
	 .argh = "DATE",
	 .help = "due before DATE (YYYY-MM-DD)"},
	PW_OPT_GROUP("\nHosts:"),
	PW_CLI_HOST_FILTER_OPTIONS(opt.f.host, opt.min_criticality, 0),
	PW_OPT_GROUP("\nOptions:"),
	{.kind = PW_OPT_FLAG,
	 .long_name = "json",
	 .value = &opt.json,
	 .help = "print the records as a JSON array (GET /api/v1/findings)"},
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden findings [FILTERS] [--json]\n"
	"       patchwarden host findings HOST [FILTERS] [--json]\n"
	"\n"
	"The findings the server stores for its hosts (what each one is\n"
	"missing, and what was fixed), by id, as the API lists them. HOST\n"
	"is a hostname, or id:N for host N.\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"The table has one row per finding: host, package, installed and fixed\n"
	"versions, advisory, priority and the date it is due (the earlier of\n"
	"first seen + the SLA of its priority and its KEV due date). --json prints\n"
	"the records of GET /api/v1/findings (docs/records.md).\n"
	"\n"
	"Exit status: 0 listed (also when none match), 2 bad usage or bad input.\n"
	"See patchwarden-findings(1).\n";

const struct pw_usage cmd_findings_usage = {usage_head, PW_OPT_TABLES(options), usage_tail, NULL};

static cJSON *finding_json(const void *r)
{
	return pw_finding_to_json(r);
}

/* clang-format off */
static const struct pw_table_col finding_cols[] = {
	{"HOST", PW_COL_FLEX, 0},
	{"PACKAGE", PW_COL_FLEX, 0},
	{"INSTALLED -> FIXED", 0, 0},
	{"ADVISORY", 0, 0},
	{"PRIORITY", PW_COL_STYLE, 0},
	{"DUE", 0, 0},
};
/* clang-format on */

static int print_table(const char *cmd, const pw_finding_list *l)
{
	pw_table t = PW_TABLE_INIT;
	pw_table_columns(&t, finding_cols, sizeof finding_cols / sizeof finding_cols[0]);
	pw_buf vers = PW_BUF_INIT, due = PW_BUF_INIT;
	for (size_t i = 0; i < l->n; i++) {
		const pw_finding_row *r = &l->v[i];
		pw_buf_reset(&vers);
		pw_buf_reset(&due);
		pw_buf_printf(&vers, "%s -> %s", r->installed, r->fixed);
		pw_buf_printf(&due, "%s%s", pw_cli_or_dash(r->due), r->fixed_at ? " (fixed)" : "");
		const char *row[] = {r->hostname, r->package,  pw_buf_str(&vers),
				     r->advisory, r->priority, pw_buf_str(&due)};
		pw_table_row(&t, r->fixed_at ? PW_STYLE_NONE : pw_style_of_priority(r->priority),
			     row);
	}
	int rc = pw_table_print(&t, stdout, pw_term_stdout());
	pw_buf_release(&vers);
	pw_buf_release(&due);
	pw_table_release(&t);
	return rc ? pw_cli_fail(cmd, "out of memory") : PW_EXIT_OK;
}

static int run(const char *cmd, int argc, char **argv, struct pw_setup *setup, bool one_host)
{
	int nargs = pw_cli_parse(cmd, setup, argc, argv, PW_OPT_TABLES(options), 0);
	if (nargs < 0)
		return PW_EXIT_ERROR;
	if (one_host && nargs != 1)
		return pw_cli_usage_error(cmd, "host findings takes one HOST");
	if (!one_host && nargs)
		return pw_cli_usage_error(cmd, "findings takes no arguments (filters are options)");
	struct opts o = opt;
	o.f.host.min_criticality = (int)opt.min_criticality;
	if (o.kev && strcmp(o.kev, "true") && strcmp(o.kev, "false"))
		return pw_cli_usage_error(cmd, "--kev takes true or false");
	o.f.kev = !o.kev ? 0 : !strcmp(o.kev, "true") ? 1 : -1;
	pw_db *db = pw_cli_db(cmd, setup);
	if (!db)
		return PW_EXIT_ERROR;
	pw_error err = PW_ERROR_INIT;
	if (one_host) {
		pw_host h = PW_HOST_INIT;
		pw_err rc = pw_host_get_by_name(db, argv[0], &h, &err);
		o.f.host_id = h.id;
		pw_host_release(&h);
		if (rc)
			return pw_cli_fail_err(cmd, &err);
	}
	pw_finding_list l = PW_FINDING_LIST_INIT;
	int64_t after = 0;
	for (;;) { /* every page */
		size_t before = l.n;
		if (pw_finding_page(db, &o.f, after, PAGE, &l, &err)) {
			pw_finding_list_release(&l);
			return pw_cli_fail_err(cmd, &err);
		}
		if (l.n - before < PAGE)
			break;
		after = l.v[l.n - 1].id;
	}
	int rc = PW_EXIT_OK;
	if (o.json)
		rc = pw_cli_print_json_array(cmd, l.v, l.n, sizeof *l.v, finding_json);
	else
		rc = print_table(cmd, &l);
	pw_finding_list_release(&l);
	return pw_cli_finish(cmd, rc);
}

int cmd_findings(int argc, char **argv, struct pw_setup *setup)
{
	return run(CMD, argc, argv, setup, false);
}

int cmd_findings_host(int argc, char **argv, struct pw_setup *setup)
{
	return run("host", argc, argv, setup, true);
}
