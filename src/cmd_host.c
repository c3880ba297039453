/* patchwarden host: the server inventory database (hosts.h) from the
 * command line. Every change is audited as "cli:<unix user>". */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/agents.h"
#include "patchwarden/buf.h"
#include "patchwarden/coverage.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/fileio.h"
#include "patchwarden/findings.h"
#include "patchwarden/hosts.h"
#include "patchwarden/host_csv.h"
#include "patchwarden/jobs.h"
#include "patchwarden/policy_run.h"
#include "patchwarden/schema.h"
#include "patchwarden/window.h"
#include "table.h"

#define CMD "host"
#define CSV_MAX ((size_t)64 << 20)

/* Which subcommands take an option (struct sub says which each one is). */
enum { FILTERS = 1 << 0, JSON = 1 << 1, FEEDS = 1 << 2, NOTE = 1 << 3 };

struct opts {
	const char *store, *note;
	int64_t snapshot, min_criticality;
	bool json, all, decommissioned;
	pw_host_filter filter;
	char **pos;
	int npos;
	char actor[80];
};

static struct opts opt = {.filter = PW_HOST_FILTER_INIT};

static const struct pw_option options[] = {
	PW_OPT_GROUP("Filters (list, export-csv):"),
	{.kind = PW_OPT_STRING,
	 .long_name = "category",
	 .value = &opt.filter.category,
	 .argh = "C",
	 .help = "hosts of category C",
	 .scope = FILTERS,
	 .flags = PW_OPTF_EMPTY_OK},
	{.kind = PW_OPT_STRING,
	 .long_name = "exposure",
	 .value = &opt.filter.exposure,
	 .argh = "E",
	 .help = "hosts of exposure E",
	 .scope = FILTERS,
	 .flags = PW_OPTF_EMPTY_OK},
	{.kind = PW_OPT_STRING,
	 .long_name = "environment",
	 .value = &opt.filter.environment,
	 .argh = "E",
	 .help = "hosts of environment E",
	 .scope = FILTERS,
	 .flags = PW_OPTF_EMPTY_OK},
	{.kind = PW_OPT_STRING,
	 .long_name = "owner",
	 .value = &opt.filter.owner_group,
	 .argh = "GROUP",
	 .help = "hosts of owner group GROUP",
	 .scope = FILTERS,
	 .flags = PW_OPTF_EMPTY_OK},
	{.kind = PW_OPT_INT,
	 .long_name = "criticality",
	 .value = &opt.min_criticality,
	 .argh = "N",
	 .help = "criticality N or higher",
	 .scope = FILTERS,
	 .min = 1,
	 .max = 5},
	{.kind = PW_OPT_FLAG,
	 .long_name = "overdue",
	 .value = &opt.filter.overdue,
	 .help = "not patched in the last 90 days (policy), or never",
	 .scope = FILTERS},
	{.kind = PW_OPT_INT,
	 .long_name = "stale",
	 .value = &opt.filter.stale_days,
	 .argh = "DAYS",
	 .help = "not seen by its agent for DAYS days, or never",
	 .scope = FILTERS,
	 .min = 1,
	 .max = 100000},
	{.kind = PW_OPT_FLAG,
	 .long_name = "all",
	 .value = &opt.all,
	 .help = "decommissioned hosts too (left out by default)",
	 .scope = FILTERS},
	{.kind = PW_OPT_FLAG,
	 .long_name = "decommissioned",
	 .value = &opt.decommissioned,
	 .help = "decommissioned hosts only",
	 .scope = FILTERS},
	PW_OPT_GROUP("\nOptions:"),
	{.kind = PW_OPT_STRING,
	 .long_name = "note",
	 .value = &opt.note,
	 .argh = "TEXT",
	 .help = "decommission, set compromised=true|false: why, for the audit log",
	 .scope = NOTE},
	{.kind = PW_OPT_FLAG,
	 .long_name = "json",
	 .value = &opt.json,
	 .help = "print JSON instead of a table (list, show, job, queue, recompute)",
	 .scope = JSON},
	{.kind = PW_OPT_STRING,
	 .long_name = "store",
	 .value = &opt.store,
	 .argh = "FEEDS",
	 .help = "recompute: feed store (default: $PATCHWARDEN_STORE, else\n"
		 "'store' in [feeds] of the configuration file, else the\n"
		 "feed tables of the server database, where 'feed import'\n"
		 "puts them)",
	 .scope = FEEDS},
	{.kind = PW_OPT_INT,
	 .long_name = "snapshot",
	 .value = &opt.snapshot,
	 .argh = "N",
	 .help = "recompute: scan against feed snapshot N (default: the\n"
		 "newest; 'patchwarden feed status' lists them)",
	 .scope = FEEDS,
	 .min = 1,
	 .max = INT64_MAX},
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden host list [FILTERS] [--json]\n"
	"       patchwarden host show HOST [--json]\n"
	"       patchwarden host findings HOST [FILTERS] [--json]   (patchwarden-findings(1))\n"
	"       patchwarden host upgrades HOST [--json]          (patchwarden-upgrades(1))\n"
	"       patchwarden host add HOST [FIELD=VALUE ...]\n"
	"       patchwarden host set HOST FIELD=VALUE ...\n"
	"       patchwarden host set HOST compromised=true|false [--note TEXT]\n"
	"       patchwarden host import-csv FILE\n"
	"       patchwarden host export-csv [FILE] [FILTERS]\n"
	"       patchwarden host rekey HOST approve|refuse\n"
	"       patchwarden host revoke-agent HOST\n"
	"       patchwarden host decommission HOST [--note TEXT]\n"
	"       patchwarden host delete HOST\n"
	"       patchwarden host job HOST JOB [--json]\n"
	"       patchwarden host queue HOST KIND [ARGS] [--json]\n"
	"       patchwarden host recompute [--db URL] [--store FEEDS] [--snapshot N] [--json]\n"
	"\n"
	"The server inventory: one record per server with what its agent reports\n"
	"and what operators maintain. Every change is written to the audit log as\n"
	"done by cli:<your unix user>. HOST is a hostname, or id:N for host N\n"
	"(when agents that enrolled apart share a hostname).\n"
	"\n"
	"Fields (FIELD=VALUE; an empty VALUE clears the field):\n"
	"  hostname            letters, digits, '-' and '.'; stored in lower case\n"
	"  location, purpose, owner_group, app_owner, ticket   free text\n"
	"  category            core, security, file-print, mail, application,\n"
	"                      database or web\n"
	"  criticality         1 (least) to 5 (most critical)\n"
	"  exposure            internet, internal or isolated\n"
	"  environment         test or production\n"
	"  maintenance_window  DAYS HH:MM-HH:MM in UTC: \"Sun 01:00-04:00\",\n"
	"                      \"Mon-Fri 22:00-02:00\", \"daily 03:00-04:00\"; or\n"
	"                      \"always\" (patch, rollback and reboot at any time)\n"
	"  backup_check        a command that proves the backup is restorable\n"
	"  health_check        http(s)://URL, tcp:HOST:PORT or command:/abs/path ARGS\n"
	"  last_patched        YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"import-csv reads a header row naming the columns (the fields above) and\n"
	"adds or updates one host per row by hostname, all in one transaction: an\n"
	"invalid row stops the import with FILE:LINE:COLUMN (and the lines of the\n"
	"other bad rows) and nothing is written. export-csv writes the same\n"
	"columns (to standard output without FILE); a value that begins with =, +,\n"
	"-, @, a tab, a carriage return or a quote gets a quote before it, which\n"
	"import-csv takes off again, so no spreadsheet runs it as a formula.\n"
	"\n"
	"rekey decides a re-key waiting for approval, which 'host show' lists: an\n"
	"enrollment of the host's machine that did not prove its live agent's\n"
	"credential (an agent whose state directory was lost, or someone who read\n"
	"/etc/machine-id). approve makes the new agent the host's and revokes the\n"
	"old one; refuse revokes the new one. import-csv reads standard input when\n"
	"FILE is -.\n"
	"\n"
	"revoke-agent revokes the host's agent credential: its next check-in is\n"
	"refused, its leased jobs are queued again, and the machine's next\n"
	"enrollment (with an enrollment token) re-keys the host.\n"
	"\n"
	"decommission takes a host out of service for good: its agent is revoked,\n"
	"its queued and leased jobs cancelled, its open findings closed (kept for\n"
	"the record), and it is left out of list, export-csv (unless --all or\n"
	"--decommissioned) and recompute; its machine cannot enroll again until\n"
	"delete removes the host and all stored about it but the audit log. delete\n"
	"refuses a host in service.\n"
	"\n"
	"recompute scans every host's stored inventory against the feed store, each\n"
	"distinct inventory once, and makes the result the hosts' open findings, as\n"
	"the server does when a newer feed snapshot lands; it prints the hosts, the\n"
	"distinct inventories scanned, findings opened, kept and fixed, the open\n"
	"findings per priority and the time taken. Priorities follow [policy] of\n"
	"the configuration file.\n"
	"\n"
	"upgrades lists the host's open findings grouped by package upgrade, most\n"
	"urgent first: the package (on Debian and Ubuntu the source package, with\n"
	"the binary packages installed from it: what apt install takes), the version\n"
	"that fixes all its findings, the advisories and CVEs it fixes, the highest\n"
	"priority and the earliest due date (--json: GET /api/v1/hosts/{id}/upgrades).\n"
	"\n"
	"job shows one of the host's jobs with its newest result and the output\n"
	"its agent sent (--json: what GET /api/v1/jobs/{id} returns).\n"
	"\n"
	"queue queues a job of KIND (scan, inventory, simulate, patch, hold, unhold,\n"
	"rollback, reboot, health, backup_check) with ARGS, a JSON object (see\n"
	"docs/protocol.md), as POST /api/v1/hosts/{id}/jobs does: the same checks\n"
	"of the arguments, the host's inventory and findings and its maintenance\n"
	"window, but no role (the command line on the server may queue every kind,\n"
	"and mark a job emergency). patch, rollback and reboot outside the host's\n"
	"window are refused unless ARGS has \"at_window\": true (the job waits for\n"
	"the next window) or \"emergency\": true.\n"
	"\n"
	"Exit status: 0 done, 2 bad usage, bad input, refused or failed.\n"
	"See patchwarden-host(1).\n";

const struct pw_usage cmd_host_usage = {usage_head, PW_OPT_TABLES(options), usage_tail, NULL};

/* ---- output ---------------------------------------------------------- */

static int print_json(cJSON *v)
{
	int rc = pw_cli_print_json(CMD, v);
	return rc ? rc : pw_cli_finish(CMD, rc);
}

/* A timestamp as its day, for tables. */
static const char *day(const char *ts, char out[11])
{
	if (!ts || strlen(ts) < 10)
		return "never";
	memcpy(out, ts, 10);
	out[10] = '\0';
	return out;
}

/* The coverage as the tables show it: "no_feed (debian:13)". */
static const char *coverage_text(const pw_host *h, char *out, size_t size)
{
	if (h->coverage == PW_COVERAGE_NO_FEED)
		snprintf(out, size, "no_feed (%s)", h->coverage_detail);
	else
		snprintf(out, size, "%s", pw_host_coverage_name(h->coverage));
	return out;
}

/* Findings only of a covered host: anything else would read as clean. */
static const char *findings_text(const pw_host *h, char *out, size_t size)
{
	if (h->coverage != PW_COVERAGE_COVERED)
		return "-";
	snprintf(out, size, "%" PRId64 "/%" PRId64 "/%" PRId64 "/%" PRId64, h->open_findings[0],
		 h->open_findings[1], h->open_findings[2], h->open_findings[3]);
	return out;
}

/* clang-format off */
static const struct pw_table_col host_cols[] = {
	{"HOSTNAME", PW_COL_FLEX, 0},
	{"CATEGORY", 0, 0},
	{"CRIT", PW_COL_RIGHT, 0},
	{"EXPOSURE", 0, 0},
	{"ENV", 0, 0},
	{"OWNER", PW_COL_FLEX, 0},
	{"PATCHED", 0, 0},
	{"SEEN", 0, 0},
	{"FINDINGS E/H/N/L", 0, 0},
	{"COVERAGE", PW_COL_FLEX, 0},
};
/* clang-format on */

static int print_table(const pw_host_list *l)
{
	pw_table t = PW_TABLE_INIT;
	pw_table_columns(&t, host_cols, sizeof host_cols / sizeof host_cols[0]);
	for (size_t i = 0; i < l->n; i++) {
		const pw_host *h = &l->v[i];
		char d1[11], d2[11], fnd[96], cov[160];
		const char *row[] = {h->f[PW_HF_HOSTNAME],
				     h->f[PW_HF_CATEGORY],
				     h->f[PW_HF_CRITICALITY],
				     h->f[PW_HF_EXPOSURE],
				     h->f[PW_HF_ENVIRONMENT],
				     h->f[PW_HF_OWNER_GROUP],
				     day(h->f[PW_HF_LAST_PATCHED], d1),
				     day(h->f[PW_HF_LAST_SEEN], d2),
				     findings_text(h, fnd, sizeof fnd),
				     coverage_text(h, cov, sizeof cov)};
		pw_table_row(&t, PW_STYLE_NONE, row);
	}
	int rc = pw_table_print(&t, stdout, pw_term_stdout());
	pw_table_release(&t);
	return pw_cli_finish(CMD, rc ? pw_cli_fail(CMD, "out of memory") : PW_EXIT_OK);
}

/* ---- subcommands ----------------------------------------------------- */

static cJSON *host_json(const void *h)
{
	return pw_host_to_json(h);
}

/* What hosts' coverage is judged against ([feeds], [server]); false
 * after printing why not. */
static bool load_coverage(pw_db *db, struct pw_setup *setup, pw_coverage_ctx *c)
{
	pw_config *cfg = pw_cli_config(CMD, setup);
	pw_findings_config fc;
	pw_error err = PW_ERROR_INIT;
	*c = (pw_coverage_ctx)PW_COVERAGE_CTX_INIT;
	if (!cfg)
		return false;
	if (pw_findings_config_load(cfg, &fc, &err) || pw_coverage_load(db, &fc, c, &err)) {
		pw_cli_fail_err(CMD, &err);
		return false;
	}
	return true;
}

static int host_list(pw_db *db, const struct opts *o, struct pw_setup *setup)
{
	if (o->npos)
		return pw_cli_usage_error(CMD,
					  "host list takes no arguments (filters are options)");
	pw_host_list l = PW_HOST_LIST_INIT;
	pw_error err = PW_ERROR_INIT;
	pw_coverage_ctx cov;
	if (!load_coverage(db, setup, &cov))
		return PW_EXIT_ERROR;
	pw_err qrc = pw_host_list_query(db, &o->filter, &l, &err);
	pw_host_list_coverage_set(&cov, &l);
	pw_coverage_ctx_release(&cov);
	if (qrc)
		return pw_cli_fail_err(CMD, &err);
	int rc;
	if (o->json) {
		rc = pw_cli_print_json_array(CMD, l.v, l.n, sizeof *l.v, host_json);
		rc = rc ? rc : pw_cli_finish(CMD, rc);
	} else {
		rc = print_table(&l);
	}
	pw_host_list_release(&l);
	return rc;
}

static int host_show(pw_db *db, const struct opts *o, struct pw_setup *setup)
{
	if (o->npos != 1)
		return pw_cli_usage_error(CMD, "host show needs one HOST");
	pw_host h = PW_HOST_INIT;
	pw_error err = PW_ERROR_INIT;
	pw_coverage_ctx cov;
	if (!load_coverage(db, setup, &cov))
		return PW_EXIT_ERROR;
	pw_err grc = pw_host_get_by_name(db, o->pos[0], &h, &err);
	if (!grc)
		pw_host_coverage_set(&cov, &h);
	pw_coverage_ctx_release(&cov);
	if (grc)
		return pw_cli_fail_err(CMD, &err);
	pw_rekey_request q;
	bool waiting = false;
	if (pw_agent_rekey_pending(db, h.id, &q, &waiting, &err)) {
		pw_host_release(&h);
		return pw_cli_fail_err(CMD, &err);
	}
	int rc;
	if (o->json) {
		cJSON *j = NULL;
		rc = pw_host_show_json(db, &h, &j, &err) ? pw_cli_fail_err(CMD, &err)
							 : print_json(j);
	} else {
		printf("%-20s %" PRId64 "\n", "id", h.id);
		for (int f = 0; f < PW_HF__COUNT; f++)
			printf("%-20s %s\n", pw_host_field_name((pw_host_field)f),
			       pw_cli_or_dash(h.f[f]));
		printf("%-20s %s: %s\n", "coverage", pw_host_coverage_name(h.coverage),
		       h.coverage_detail);
		printf("%-20s", "open_findings");
		for (int p = 0; p < PW_HOST_PRIO__COUNT; p++)
			printf(" %s %" PRId64, pw_host_prio_name((pw_host_prio)p),
			       h.open_findings[p]);
		if (h.coverage != PW_COVERAGE_COVERED)
			printf(" (not covered: %s)", pw_host_coverage_name(h.coverage));
		putchar('\n');
		if (waiting)
			printf("%-20s agent %s (enrolled as %s at %s with enrollment token "
			       "pwe_%" PRId64
			       ") waits to replace %s: 'patchwarden host rekey id:%" PRId64
			       " approve' or 'refuse'\n",
			       "pending_rekey", q.agent_id, q.hostname, q.requested,
			       q.enroll_token_id, q.current[0] ? q.current : "-", h.id);
		else
			printf("%-20s -\n", "pending_rekey");
		rc = pw_cli_finish(CMD, PW_EXIT_OK);
	}
	pw_host_release(&h);
	return rc;
}

static int host_queue(pw_db *db, const struct opts *o)
{
	if (o->npos != 2 && o->npos != 3)
		return pw_cli_usage_error(CMD, "host queue needs HOST, KIND and maybe ARGS (a JSON "
					       "object)");
	pw_host h = PW_HOST_INIT;
	pw_error err = PW_ERROR_INIT;
	pw_err bad = pw_host_get_by_name(db, o->pos[0], &h, &err);
	pw_job_request r = {o->actor, NULL, h.id, o->pos[1], o->npos == 3 ? o->pos[2] : NULL};
	pw_host_release(&h);
	pw_job_queued q;
	if (bad || pw_job_queue(db, &r, &q, &err))
		return pw_cli_fail_err(CMD, &err);
	if (o->json)
		return print_json(pw_job_queued_to_json(&q, r.host_id, r.kind));
	printf("job %" PRId64 " queued: %s for host %s", q.id, r.kind, o->pos[0]);
	if (q.emergency)
		printf(", emergency");
	if (q.not_before[0])
		printf(", not before %s", q.not_before);
	if (q.not_after[0])
		printf(", not after %s", q.not_after);
	printf("\n");
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

static int host_job(pw_db *db, const struct opts *o)
{
	if (o->npos != 2)
		return pw_cli_usage_error(CMD, "host job needs HOST and JOB (a job id)");
	char *end = NULL;
	long long id = strtoll(o->pos[1], &end, 10);
	if (!*o->pos[1] || *end || id < 1)
		return pw_cli_usage_error(CMD, "JOB: '%s' is not a job id", o->pos[1]);
	pw_host h = PW_HOST_INIT;
	pw_error err = PW_ERROR_INIT;
	pw_err bad = pw_host_get_by_name(db, o->pos[0], &h, &err);
	int64_t host_id = h.id;
	pw_host_release(&h);
	pw_job j;
	char *output = NULL;
	if (bad || pw_job_get(db, host_id, id, &j, &output, &err))
		return pw_cli_fail_err(CMD, &err);
	int rc;
	if (o->json) {
		rc = print_json(pw_job_show_json(&j, output));
	} else {
		printf("%-12s %" PRId64 "\n%-12s %s\n%-12s %s\n%-12s %s by %s\n%-12s %s\n"
		       "%-12s %" PRId64 "\n%-12s %s\n",
		       "job", j.id, "kind", j.kind, "state", j.state, "created", j.created,
		       j.created_by, "leased_to", pw_cli_or_dash(j.leased_to), "attempts",
		       j.attempts, "finished", pw_cli_or_dash(j.finished));
		if (j.result_status && j.has_exit_code)
			printf("%-12s %s, exit code %" PRId64 ", received %s\n", "result",
			       j.result_status, j.exit_code, j.result_received);
		else if (j.result_status)
			printf("%-12s %s, received %s\n", "result", j.result_status,
			       j.result_received);
		else
			printf("%-12s -\n", "result");
		cJSON *out = output ? cJSON_Parse(output) : NULL;
		char *text = out ? cJSON_Print(out) : NULL;
		printf("%-12s %s\n", "output", text ? text : pw_cli_or_dash(output));
		cJSON_free(text);
		cJSON_Delete(out);
		rc = pw_cli_finish(CMD, PW_EXIT_OK);
	}
	pw_job_release(&j);
	free(output);
	return rc;
}

/* FIELD=VALUE operands from pos[1..]. */
static int assignments(const struct opts *o, pw_host_assign *a)
{
	for (int i = 1; i < o->npos; i++) {
		const char *eq = strchr(o->pos[i], '=');
		char name[40];
		size_t n = eq ? (size_t)(eq - o->pos[i]) : 0;
		if (!eq || n == 0 || n >= sizeof name)
			return pw_cli_usage_error(CMD, "'%s' is not FIELD=VALUE", o->pos[i]);
		memcpy(name, o->pos[i], n);
		name[n] = '\0';
		if (!pw_host_field_parse(name, &a[i - 1].field))
			return pw_cli_usage_error(CMD,
						  "'%s' is not a host field; see 'patchwarden "
						  "help host'",
						  name);
		a[i - 1].value = eq + 1;
	}
	return -1;
}

/* An incident, not a field: the host is marked and its similar hosts
 * get an emergency campaign (policy_run.h). */
static int host_compromised(pw_db *db, const struct opts *o)
{
	pw_error err = PW_ERROR_INIT;
	int64_t campaign = 0, ticket = 0;
	size_t similar = 0;
	if (pw_policy_compromised(db, o->actor, o->pos[0], o->note, pw_window_now(), &campaign,
				  &similar, &ticket, &err))
		return pw_cli_fail_err(CMD, &err);
	if (campaign)
		printf("%s marked compromised; emergency campaign %" PRId64
		       " drafted for %zu similar hosts ('patchwarden campaign show %" PRId64 "')\n",
		       o->pos[0], campaign, similar, campaign);
	else
		printf("%s marked compromised; no similar host shares its open findings\n",
		       o->pos[0]);
	if (ticket)
		printf("%s: ticket %" PRId64
		       " on the incident track ('patchwarden ticket show %" PRId64 "')\n",
		       o->pos[0], ticket, ticket);
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

static int host_compromise_clear(pw_db *db, const struct opts *o)
{
	pw_error err = PW_ERROR_INIT;
	size_t tickets = 0;
	if (pw_policy_compromise_clear(db, o->actor, o->pos[0], o->note, pw_window_now(), &tickets,
				       &err))
		return pw_cli_fail_err(CMD, &err);
	printf("%s no longer compromised; %zu tickets back on the regular track\n", o->pos[0],
	       tickets);
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

static int host_add_set(pw_db *db, struct opts *o, bool add)
{
	if (!add && o->npos == 2 && !strcmp(o->pos[1], "compromised=true"))
		return host_compromised(db, o);
	if (!add && o->npos == 2 && !strcmp(o->pos[1], "compromised=false"))
		return host_compromise_clear(db, o);
	if (o->note && !add)
		return pw_cli_usage_error(CMD, "--note goes with compromised=true|false only");
	if (o->npos < 1 || (!add && o->npos < 2))
		return pw_cli_usage_error(CMD, add ? "host add needs HOST"
						   : "host set needs HOST and FIELD=VALUE");
	pw_host_assign a[64];
	int rc = assignments(o, a);
	if (rc >= 0)
		return rc;
	pw_error err = PW_ERROR_INIT;
	size_t n = (size_t)(o->npos - 1);
	if (add) {
		int64_t id = 0;
		if (pw_host_create(db, o->actor, o->pos[0], a, n, &id, &err))
			return pw_cli_fail_err(CMD, &err);
		printf("added host %s (id %" PRId64 ")\n", o->pos[0], id);
	} else {
		bool changed = false;
		if (pw_host_set(db, o->actor, o->pos[0], a, n, &changed, &err))
			return pw_cli_fail_err(CMD, &err);
		printf(changed ? "updated host %s\n" : "host %s: nothing changed\n", o->pos[0]);
	}
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

static int host_rekey(pw_db *db, const struct opts *o)
{
	bool approve = o->npos == 2 && !strcmp(o->pos[1], "approve");
	if (o->npos != 2 || (!approve && strcmp(o->pos[1], "refuse")))
		return pw_cli_usage_error(CMD, "host rekey needs HOST and approve or refuse");
	pw_host h = PW_HOST_INIT;
	pw_error err = PW_ERROR_INIT;
	if (pw_host_get_by_name(db, o->pos[0], &h, &err))
		return pw_cli_fail_err(CMD, &err);
	int64_t id = h.id;
	pw_host_release(&h);
	if (pw_agent_rekey_decide(db, o->actor, id, approve, &err))
		return pw_cli_fail_err(CMD, &err);
	printf("host %s (id %" PRId64 "): re-key %s\n", o->pos[0], id,
	       approve ? "approved; the new agent is the host's" : "refused");
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

static int host_lifecycle(pw_db *db, const struct opts *o, const char *sub)
{
	if (o->npos != 1)
		return pw_cli_usage_error(CMD, "host %s needs one HOST", sub);
	pw_error err = PW_ERROR_INIT;
	pw_err rc;
	if (!strcmp(sub, "revoke-agent"))
		rc = pw_host_revoke_agent(db, o->actor, o->pos[0], &err);
	else if (!strcmp(sub, "decommission"))
		rc = pw_host_decommission(db, o->actor, o->pos[0], o->note, NULL, &err);
	else
		rc = pw_host_delete(db, o->actor, o->pos[0], &err);
	if (rc)
		return pw_cli_fail_err(CMD, &err);
	if (!strcmp(sub, "revoke-agent"))
		printf("host %s: agent credential revoked; its next check-in is refused\n",
		       o->pos[0]);
	else if (!strcmp(sub, "decommission"))
		printf("host %s decommissioned: agent revoked, open jobs cancelled, open "
		       "findings closed\n",
		       o->pos[0]);
	else
		printf("host %s deleted\n", o->pos[0]);
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

static int host_import(pw_db *db, const struct opts *o)
{
	if (o->npos != 1)
		return pw_cli_usage_error(CMD, "host import-csv needs one FILE");
	pw_buf data = PW_BUF_INIT;
	pw_error err = PW_ERROR_INIT;
	pw_host_import_stats st;
	pw_err rc = pw_cli_read_file(o->pos[0], &data, CSV_MAX, &err);
	if (!rc)
		rc = pw_host_import_csv(db, o->actor, o->pos[0], pw_buf_str(&data), data.len, &st,
					&err);
	pw_buf_release(&data);
	if (rc)
		return pw_cli_fail(CMD, "%s; nothing was imported", pw_error_text(&err));
	printf("imported %s: %zu rows, %zu added, %zu updated, %zu unchanged\n", o->pos[0], st.rows,
	       st.created, st.updated, st.unchanged);
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

static int host_export(pw_db *db, const struct opts *o)
{
	if (o->npos > 1)
		return pw_cli_usage_error(CMD, "host export-csv takes at most one FILE");
	pw_buf out = PW_BUF_INIT;
	pw_error err = PW_ERROR_INIT;
	pw_err rc = pw_host_export_csv(db, &o->filter, &out, &err);
	bool to_file = o->npos == 1 && strcmp(o->pos[0], "-") != 0;
	if (!rc && to_file)
		rc = pw_write_file_atomic(o->pos[0], pw_buf_str(&out), out.len, 0644, &err);
	else if (!rc)
		fwrite(pw_buf_str(&out), 1, out.len, stdout);
	pw_buf_release(&out);
	if (rc)
		return pw_cli_fail_err(CMD, &err);
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

static int host_recompute(pw_db *db, const struct opts *o, struct pw_setup *setup)
{
	if (o->npos)
		return pw_cli_usage_error(CMD, "host recompute takes no arguments");
	pw_config *cfg = pw_cli_config(CMD, setup);
	pw_findings_config fc;
	pw_feedstore *store = NULL;
	pw_findings_stats st;
	pw_error err = PW_ERROR_INIT;
	if (!cfg)
		return PW_EXIT_ERROR;
	pw_err rc = pw_findings_config_load(cfg, &fc, &err);
	if (!rc)
		rc = pw_findings_store_open(o->store ? o->store : fc.store, db, &store, &err);
	if (!rc)
		rc = pw_findings_recompute(db, store, o->snapshot, &fc.policy, o->actor, &st, &err);
	pw_feedstore_close(store);
	if (rc)
		return pw_cli_fail_err(CMD, &err);
	if (!st.ran)
		return pw_cli_fail(CMD, "another recompute is running (a server's scheduler or "
					"'host recompute'); try again when it has finished");
	if (o->json)
		return print_json(pw_findings_stats_to_json(&st));
	printf("recomputed findings against feed snapshot %" PRId64 " in %.3f s\n", st.snapshot,
	       st.seconds);
	printf("%-14s %zu (%zu skipped: no advisories for their OS)\n", "hosts", st.hosts,
	       st.skipped);
	printf("%-14s %zu distinct scanned\n", "inventories", st.inventories);
	printf("%-14s %zu opened, %zu kept, %zu fixed\n", "findings", st.delta.opened,
	       st.delta.kept, st.delta.fixed);
	printf("%-14s", "open findings");
	for (int p = 0; p < PW_HOST_PRIO__COUNT; p++)
		printf("%s %s %" PRId64, p ? "," : "", pw_host_prio_name((pw_host_prio)p),
		       st.open[p]);
	putchar('\n');
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

int cmd_host(int argc, char **argv, struct pw_setup *setup)
{
	if (argc < 2)
		return pw_cli_usage_error(
			CMD, "which one: list, show, findings, upgrades, job, queue, add, "
			     "set, "
			     "import-csv, export-csv, rekey, revoke-agent, "
			     "decommission, delete or recompute?");
	if (!strcmp(argv[1], "findings"))
		return cmd_findings_host(argc - 1, argv + 1, setup);
	if (!strcmp(argv[1], "upgrades"))
		return cmd_upgrades_host(argc - 1, argv + 1, setup);
	static const struct {
		const char *name;
		bool filters, json, feeds;
	} subs[] = {
		{"list", true, true, false},           {"show", false, true, false},
		{"add", false, false, false},          {"set", false, false, false},
		{"import-csv", false, false, false},   {"export-csv", true, false, false},
		{"recompute", false, true, true},      {"rekey", false, false, false},
		{"revoke-agent", false, false, false}, {"decommission", false, false, false},
		{"delete", false, false, false},       {"job", false, true, false},
		{"queue", false, true, false},
	};
	size_t k = 0, n = sizeof subs / sizeof *subs;
	while (k < n && strcmp(argv[1], subs[k].name))
		k++;
	if (k == n)
		return pw_cli_usage_error(CMD, "'%s' is not a host subcommand", argv[1]);
	unsigned scope = (subs[k].filters ? FILTERS : 0) | (subs[k].json ? JSON : 0) |
			 (subs[k].feeds ? FEEDS : 0) |
			 (!strcmp(argv[1], "decommission") || !strcmp(argv[1], "set") ? NOTE : 0);
	int nargs = pw_cli_parse(CMD, setup, argc - 1, argv + 1, PW_OPT_TABLES(options), scope);
	if (nargs < 0)
		return PW_EXIT_ERROR;
	/* HOST and the FIELD=VALUE assignments host_add_set() has room for. */
	if (nargs > 64)
		return pw_cli_usage_error(CMD, "too many arguments");
	struct opts o = opt;
	o.filter.min_criticality = (int)opt.min_criticality;
	if (opt.all && opt.decommissioned)
		return pw_cli_usage_error(CMD, "--all and --decommissioned: choose one");
	o.filter.decom = opt.all              ? PW_HOST_ANY
			 : opt.decommissioned ? PW_HOST_DECOMMISSIONED
					      : PW_HOST_IN_SERVICE;
	o.pos = argv + 1;
	o.npos = nargs;
	pw_cli_actor(o.actor, sizeof o.actor);
	/* Adding hosts may start a database; everything else needs one. */
	setup->db_create = k == 2 || k == 4;
	pw_db *db = pw_cli_db(CMD, setup);
	if (!db)
		return PW_EXIT_ERROR;
	int rc;
	switch (k) {
	case 0:
		rc = host_list(db, &o, setup);
		break;
	case 1:
		rc = host_show(db, &o, setup);
		break;
	case 2:
		rc = host_add_set(db, &o, true);
		break;
	case 3:
		rc = host_add_set(db, &o, false);
		break;
	case 4:
		rc = host_import(db, &o);
		break;
	case 5:
		rc = host_export(db, &o);
		break;
	case 6:
		rc = host_recompute(db, &o, setup);
		break;
	case 7:
		rc = host_rekey(db, &o);
		break;
	case 11:
		rc = host_job(db, &o);
		break;
	case 12:
		rc = host_queue(db, &o);
		break;
	default:
		rc = host_lifecycle(db, &o, subs[k].name);
		break;
	}
	return rc;
}
