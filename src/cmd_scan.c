/* patchwarden scan: the security fixes this host (or an inventory) is
 * missing, ranked, from one feed snapshot. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_report.h"
#include "commands.h"
#include "patchwarden/config.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/fileio.h"
#include "patchwarden/inventory.h"
#include "patchwarden/matcher.h"
#include "patchwarden/policy.h"
#include "patchwarden/procuse.h"
#include "patchwarden/runtime.h"
#include "patchwarden/scan.h"
#include "patchwarden/upgrade.h"
#include "table.h"

struct opts {
	const char *root, *inventory, *store, *exposure, *fail_on, *by;
	int64_t snapshot;
	bool json;
	const char *format;   /* --format */
	pw_report_format fmt; /* from --format and --json */
};

static struct opts opt;

static const struct pw_option options[] = {
	PW_OPT_STRING(0, "root", &opt.root, "DIR",
		      "scan the system whose root is DIR (default /; only /\n"
		      "knows the running kernel and processes)"),
	PW_OPT_FILE(0, "inventory", &opt.inventory, "FILE",
		    "scan an inventory saved by 'patchwarden inventory --json'\n"
		    "(- reads it from standard input)"),
	PW_OPT_STRING(0, "store", &opt.store, "STORE",
		      "feed store: a SQLite file (PATH, sqlite:PATH) or\n"
		      "postgresql://USER@HOST/DB (default $PATCHWARDEN_STORE,\n"
		      "else /var/lib/patchwarden/patchwarden.db)"),
	PW_OPT_INT(0, "snapshot", &opt.snapshot, 1, INT64_MAX, "N",
		   "use feed snapshot N (default: the newest)"),
	PW_OPT_STRING(0, "exposure", &opt.exposure, "WHERE",
		      "internet, internal or isolated (default [scan] exposure,\n"
		      "else internal); EPSS counts only on internet hosts"),
	PW_OPT_FLAG(0, "json", &opt.json, "one JSON object (see patchwarden-scan(1))"),
	PW_OPT_STRING(0, "format", &opt.format, "FMT", PW_CLI_FORMAT_HELP),
	PW_OPT_STRING(0, "fail-on", &opt.fail_on, "PRIORITY",
		      "exit 1 when a finding has PRIORITY or higher"),
	PW_OPT_STRING(0, "by", &opt.by, "ROWS",
		      "the table's rows: upgrade (default: one per package\n"
		      "upgrade) or advisory (one per finding)"),
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden scan [--root DIR | --inventory FILE.json] [--store STORE]\n"
	"                        [--snapshot N] [--config FILE] [--exposure WHERE]\n"
	"                        [--json | --format FMT] [--fail-on PRIORITY]\n"
	"                        [--by upgrade|advisory]\n"
	"\n"
	"Reports every security fix this host is missing: package, installed and\n"
	"fixed version, advisory, CVEs, priority (emergency, high, normal, low),\n"
	"CISA KEV due date, EPSS, and why it has that priority. Vulnerabilities\n"
	"without a fix yet, and fixes installed but not active (reboot into the\n"
	"fixed kernel, restart processes that map replaced libraries), are listed\n"
	"apart. The distro's own fixed versions for the host's release are used.\n"
	"\n";

static const char usage_tail[] =
	"  ([policy] and [scan] of the configuration file set the priorities)\n"
	"\n"
	"Exit status: 0 scanned (and nothing at --fail-on), 1 findings at --fail-on,\n"
	"2 error. See patchwarden-scan(1) for the rules.\n";

const struct pw_usage cmd_scan_usage = {usage_head, PW_OPT_TABLES(options), usage_tail, NULL};

#define CMD "scan"
/* An inventory of 200,000 packages is ~60 MB of JSON. */
#define MAX_INVENTORY_JSON ((size_t)256 << 20)

static int parse_opts(int argc, char **argv, struct pw_setup *setup, struct opts *o)
{
	int n = pw_cli_parse(CMD, setup, argc, argv, PW_OPT_TABLES(options), ~0u);
	if (n < 0)
		return PW_EXIT_ERROR;
	if (n > 0)
		return pw_cli_usage_error(CMD, "unexpected argument '%s'", argv[0]);
	*o = opt;
	o->store = pw_cli_store(opt.store);
	if (o->root && o->inventory)
		return pw_cli_usage_error(CMD, "give --root or --inventory, not both");
	if (o->by && strcmp(o->by, "upgrade") && strcmp(o->by, "advisory"))
		return pw_cli_usage_error(CMD, "--by takes upgrade or advisory, not '%s'", o->by);
	return pw_cli_report_format(CMD, o->format, o->json, &o->fmt);
}

static int load_inventory_json(const char *path, pw_inventory *inv)
{
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	if (pw_cli_read_file(path, &b, MAX_INVENTORY_JSON, &e)) {
		pw_buf_release(&b);
		return pw_cli_fail_err(CMD, &e);
	}
	cJSON *j = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
	if (!j) {
		const char *at = cJSON_GetErrorPtr();
		size_t off = at && b.data && at >= b.data && at <= b.data + b.len
				     ? (size_t)(at - b.data)
				     : b.len;
		pw_buf_release(&b);
		return pw_cli_fail(CMD,
				   "%s: not valid JSON (near byte %zu); expected the output of "
				   "'patchwarden inventory --json'",
				   path, off);
	}
	pw_buf_release(&b);
	pw_err rc = pw_inventory_from_json(inv, j, &e);
	cJSON_Delete(j);
	if (rc) {
		pw_error_prefix(&e, "%s: ", path);
		return pw_cli_fail_err(CMD, &e);
	}
	return PW_EXIT_OK;
}

static int open_store(const char *path, int64_t want, pw_feedstore **s, int64_t *snapshot)
{
	int ex = pw_cli_store_exists(CMD, path);
	if (ex)
		return ex;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_feedstore_open(path, s, &e);
	if (!rc && want) {
		pw_snapshot_info info;
		rc = pw_feedstore_snapshot_info(*s, want, &info, &e);
		*snapshot = want;
	} else if (!rc) {
		rc = pw_feedstore_latest(*s, snapshot, &e);
	}
	if (rc) {
		pw_feedstore_close(*s);
		*s = NULL;
		return pw_cli_fail_err(CMD, &e);
	}
	return PW_EXIT_OK;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* "CVE-1, CVE-2 +3": a table cell, not the whole list. */
static void cves_cell(const pw_index_cve *const *cves, size_t n, char *out, size_t size)
{
	size_t w = 0;
	out[0] = '\0';
	size_t shown = n < 2 ? n : 2;
	for (size_t i = 0; i < shown && w < size; i++)
		w += (size_t)snprintf(out + w, size - w, "%s%s", i ? "," : "", cves[i]->id);
	if (n > shown && w < size)
		snprintf(out + w, size - w, " +%zu", n - shown);
	if (!n)
		snprintf(out, size, "-");
}

/* "N ID ID ...": the count first, so a shortened cell keeps it. */
static pw_err count_and_ids(pw_buf *b, size_t n, const char *(*id)(const void *, size_t),
			    const void *v)
{
	pw_buf_reset(b);
	pw_err rc = pw_buf_printf(b, "%zu", n);
	for (size_t i = 0; !rc && i < n; i++)
		rc = pw_buf_printf(b, " %s", id(v, i));
	return rc;
}

static const char *finding_adv_id(const void *v, size_t i)
{
	return ((const pw_scan_upgrade *)v)->findings[i]->adv->id;
}

static const char *upgrade_cve_id(const void *v, size_t i)
{
	return ((const pw_scan_upgrade *)v)->cves[i];
}

/* "openssl (libssl3, openssl)": the source with the binaries installed
 * from it (what apt install takes); a package alone when that is all. */
static pw_err package_cell(pw_buf *b, const pw_scan_upgrade *u)
{
	pw_buf_reset(b);
	pw_err rc = pw_buf_puts(b, u->package);
	if (!u->by_source || !u->n_binaries ||
	    (u->n_binaries == 1 && !strcmp(u->binaries[0]->name, u->package)))
		return rc;
	for (size_t i = 0; !rc && i < u->n_binaries; i++)
		rc = pw_buf_printf(b, "%s%s", i ? ", " : " (", u->binaries[i]->name);
	return rc ? rc : pw_buf_puts(b, ")");
}

/* clang-format off */
static const struct pw_table_col upgrade_cols[] = {
	{"PRIORITY", PW_COL_STYLE, 0},
	{"PACKAGE", PW_COL_FLEX, 16},
	{"INSTALLED \xe2\x86\x92 TARGET", 0, 0},
	{"ADVISORIES", PW_COL_FLEX, 0},
	{"CVES", PW_COL_FLEX, 0},
	{"DUE", 0, 0},
};
/* clang-format on */

static int print_upgrades(const pw_scan_result *r, FILE *out, struct pw_term term)
{
	pw_scan_upgrade_list l = PW_UPGRADE_LIST_INIT;
	pw_error e = PW_ERROR_INIT;
	if (pw_scan_upgrades(r, &l, &e))
		return pw_cli_fail_err(CMD, &e);
	pw_table t = PW_TABLE_INIT;
	pw_table_columns(&t, upgrade_cols, sizeof upgrade_cols / sizeof upgrade_cols[0]);
	pw_buf pkg = PW_BUF_INIT, vers = PW_BUF_INIT, advs = PW_BUF_INIT, cves = PW_BUF_INIT;
	pw_err rc = PW_OK;
	for (size_t i = 0; !rc && i < l.n; i++) {
		const pw_scan_upgrade *u = &l.v[i];
		char due[32];
		if (u->kev)
			snprintf(due, sizeof due, "KEV %s", u->kev_due ? u->kev_due : "");
		else
			snprintf(due, sizeof due, "%d days", u->sla_days);
		pw_buf_reset(&vers);
		rc = package_cell(&pkg, u);
		if (!rc)
			rc = pw_buf_printf(&vers, "%s \xe2\x86\x92 %s", u->installed, u->target);
		if (!rc)
			rc = count_and_ids(&advs, u->n_findings, finding_adv_id, u);
		if (!rc)
			rc = count_and_ids(&cves, u->n_cves, upgrade_cve_id, u);
		const char *row[] = {pw_priority_name(u->priority),
				     pw_buf_str(&pkg),
				     pw_buf_str(&vers),
				     pw_buf_str(&advs),
				     pw_buf_str(&cves),
				     due};
		pw_table_row(&t, pw_style_of_priority(row[0]), row);
	}
	fputc('\n', out);
	if (rc || pw_table_print(&t, out, term))
		rc = PW_ERR_NOMEM;
	pw_cli_info(CMD, "%zu package upgrades fix the %zu findings", l.n, r->n_findings);
	pw_buf_release(&pkg);
	pw_buf_release(&vers);
	pw_buf_release(&advs);
	pw_buf_release(&cves);
	pw_table_release(&t);
	pw_scan_upgrade_list_release(&l);
	return rc ? pw_cli_fail(CMD, "out of memory") : PW_EXIT_OK;
}

/* clang-format off */
static const struct pw_table_col advisory_cols[] = {
	{"PRIORITY", PW_COL_STYLE, 0},
	{"PACKAGE", PW_COL_FLEX, 0},
	{"INSTALLED", 0, 0},
	{"FIXED", 0, 0},
	{"ADVISORY", 0, 0},
	{"CVES", PW_COL_FLEX, 0},
	{"KEV DUE", 0, 0},
	{"EPSS", PW_COL_RIGHT, 0},
	{"WHY", PW_COL_FLEX, 0},
};
/* clang-format on */

static int print_findings(const pw_scan_result *r, const pw_policy *pol, FILE *out,
			  struct pw_term term)
{
	pw_table t = PW_TABLE_INIT;
	pw_table_columns(&t, advisory_cols, sizeof advisory_cols / sizeof advisory_cols[0]);
	pw_buf why = PW_BUF_INIT;
	for (size_t i = 0; i < r->n_findings; i++) {
		const pw_finding *f = &r->findings[i];
		char cves[128], epss[16];
		cves_cell(f->cves, f->n_cves, cves, sizeof cves);
		if (f->why.epss >= 0)
			snprintf(epss, sizeof epss, "%.3f", f->why.epss);
		else
			snprintf(epss, sizeof epss, "-");
		pw_buf_reset(&why);
		pw_finding_reason(f, pol, &why);
		const char *row[] = {pw_priority_name(f->priority),
				     f->package,
				     f->installed,
				     f->fixed,
				     f->adv->id,
				     cves,
				     f->why.kev_cve ? f->why.kev_due : NULL,
				     epss,
				     pw_buf_str(&why)};
		pw_table_row(&t, pw_style_of_priority(row[0]), row);
	}
	pw_buf_release(&why);
	fputc('\n', out);
	int rc = pw_table_print(&t, out, term);
	pw_table_release(&t);
	return rc ? pw_cli_fail(CMD, "out of memory") : PW_EXIT_OK;
}

/* clang-format off */
static const struct pw_table_col unfixed_cols[] = {
	{"PACKAGE", PW_COL_FLEX, 0},
	{"INSTALLED", 0, 0},
	{"ADVISORY", 0, 0},
	{"NOTE", PW_COL_FLEX, 0},
};
/* clang-format on */

static void print_unfixed(const pw_scan_result *r, FILE *out, struct pw_term term)
{
	fprintf(out, "\n");
	pw_term_wrap(out, term.width, 2, "No fix available yet (not counted as missing patches):");
	pw_table t = PW_TABLE_INIT;
	pw_table_columns(&t, unfixed_cols, sizeof unfixed_cols / sizeof unfixed_cols[0]);
	for (size_t i = 0; i < r->n_unfixed; i++) {
		const pw_unfixed *u = &r->unfixed[i];
		const char *row[] = {u->package, u->installed, u->adv->id, u->note};
		pw_table_row(&t, PW_STYLE_NONE, row);
	}
	pw_table_print(&t, out, term);
	pw_table_release(&t);
}

static void print_inactive(const pw_inactive *a, FILE *out, struct pw_term term)
{
	pw_buf b = PW_BUF_INIT;
	if (a->kind == PW_INACTIVE_RESTART) {
		pw_buf_printf(&b, "restart: pid %d (%s) maps the deleted %s%s%s", a->pid,
			      or_dash(a->process), a->file, a->owner ? " of " : "",
			      a->owner ? a->owner : "");
	} else if (!a->package) {
		pw_buf_printf(&b,
			      "reboot: the host reports that a reboot is required"
			      " (running kernel %s)",
			      or_dash(a->running));
	} else {
		pw_buf_printf(&b,
			      "reboot: running kernel %s (%s %s) lacks %zu fix%s that "
			      "the installed %s has:",
			      or_dash(a->running), a->package, or_dash(a->running_version),
			      a->n_advs, a->n_advs == 1 ? "" : "es", or_dash(a->installed));
		for (size_t k = 0; k < a->n_advs && k < 5; k++)
			pw_buf_printf(&b, " %s", a->advs[k]->id);
		if (a->n_advs > 5)
			pw_buf_puts(&b, " ...");
	}
	fputs("  ", out);
	pw_term_wrap(out, term.width > 2 ? term.width - 2 : term.width, 4, pw_buf_str(&b));
	pw_buf_release(&b);
}

static int print_table(const pw_scan_result *r, const pw_policy *pol, bool by_advisory, FILE *out)
{
	struct pw_term term = pw_term_stdout();
	const pw_inventory *inv = r->inventory;
	pw_buf b = PW_BUF_INIT;
	pw_buf_printf(&b, "Host: %s [%s], %zu packages, exposure %s", or_dash(inv->os_pretty_name),
		      r->ecosystem, inv->n_pkgs, pw_exposure_name(r->exposure));
	if (inv->kernel_running)
		pw_buf_printf(&b, ", kernel %s", inv->kernel_running);
	pw_buf_printf(&b, "; feed snapshot %lld", (long long)r->snapshot);
	pw_term_wrap(out, term.width, 2, pw_buf_str(&b));
	int ex = PW_EXIT_OK;
	if (r->n_findings)
		ex = by_advisory ? print_findings(r, pol, out, term) : print_upgrades(r, out, term);
	if (r->n_unfixed)
		print_unfixed(r, out, term);
	if (r->n_inactive) {
		fprintf(out, "\nInstalled but not active:\n");
		for (size_t i = 0; i < r->n_inactive; i++)
			print_inactive(&r->inactive[i], out, term);
	}
	pw_buf_reset(&b);
	pw_buf_printf(&b,
		      "Summary: %zu emergency, %zu high, %zu normal, %zu low; %zu unfixed; "
		      "%zu inactive (%s, snapshot %lld)",
		      r->counts[PW_PRIO_EMERGENCY], r->counts[PW_PRIO_HIGH],
		      r->counts[PW_PRIO_NORMAL], r->counts[PW_PRIO_LOW], r->n_unfixed,
		      r->n_inactive, r->ecosystem, (long long)r->snapshot);
	fputc('\n', out);
	pw_term_wrap(out, term.width, 2, pw_buf_str(&b));
	pw_buf_release(&b);
	return ex;
}

static void index_warn(void *ctx, const char *where, const char *message)
{
	size_t *n = ctx;
	if ((*n)++ < 20)
		pw_cli_warn(CMD, "%s: %s", where, message);
}

struct run {
	struct opts o;
	pw_config *config;
	pw_policy policy;
	pw_inventory inv;
	pw_feedstore *store;
	pw_advindex *idx;
	pw_runtime runtime;
	bool live; /* runtime holds the running processes' facts */
	pw_scan_result result;
	int64_t snapshot;
	size_t index_warnings;
};

static int setup(struct run *r, struct pw_setup *s)
{
	pw_error e = PW_ERROR_INIT;
	if (!(r->config = pw_cli_config(CMD, s)))
		return PW_EXIT_ERROR;
	if (pw_policy_from_config(r->config, &r->policy, &e))
		return pw_cli_fail_err(CMD, &e);
	if (r->o.exposure && pw_exposure_from_name(r->o.exposure, &r->policy.default_exposure, &e))
		return pw_cli_usage_error(CMD, "--exposure: %s", pw_error_text(&e));
	pw_priority p;
	if (r->o.fail_on && pw_priority_from_name(r->o.fail_on, &p, &e))
		return pw_cli_usage_error(CMD, "--fail-on: %s", pw_error_text(&e));
	int ex;
	if (r->o.inventory) {
		if ((ex = load_inventory_json(r->o.inventory, &r->inv)))
			return ex;
	} else if (pw_inventory_read(r->o.root ? r->o.root : "/", &r->inv, &e)) {
		return pw_cli_fail_err(CMD, &e);
	}
	for (size_t i = 0; i < r->inv.n_warnings; i++)
		pw_cli_warn(CMD, "%s", r->inv.warnings[i]);
	char eco[PW_ECOSYSTEM_MAX];
	if (pw_ecosystem_from_os(r->inv.os_id, r->inv.os_version_id, r->inv.os_codename, eco, &e))
		return pw_cli_fail(CMD, "%s: %s", r->o.inventory ? r->o.inventory : "inventory",
				   pw_error_text(&e));
	if ((ex = open_store(r->o.store, r->o.snapshot, &r->store, &r->snapshot)))
		return ex;
	if (pw_advindex_new(&r->idx, &e))
		return pw_cli_fail_err(CMD, &e);
	pw_advindex_set_warn(r->idx, index_warn, &r->index_warnings);
	/* Only the live host has running processes that belong to it. */
	bool live = !r->o.inventory && (!r->o.root || strcmp(r->o.root, "/") == 0);
	pw_procuse *pu = NULL;
	if (live && pw_procuse_read("/proc", "/", &pu, &e))
		pw_cli_warn(CMD, "running processes unknown (%s); no restart or in-use checks",
			    pw_error_text(&e));
	else if (live && !pw_procuse_complete(pu))
		pw_cli_warn(CMD, "some processes could not be read (run as root for the full "
				 "picture); packages are not ranked low for being unused");
	if (pu && pw_runtime_from_procuse(pu, &r->inv, &r->runtime, &e))
		pw_cli_warn(CMD, "running processes unknown (%s); no restart or in-use checks",
			    pw_error_text(&e));
	else
		r->live = pu != NULL;
	pw_procuse_free(pu);
	return PW_EXIT_OK;
}

/* --format other than table: the report document in that format. */
static int print_report(const struct run *r)
{
	char name[256];
	pw_snapshot_info info = {0};
	pw_error e = PW_ERROR_INIT;
	bool dated = !pw_feedstore_snapshot_info(r->store, r->snapshot, &info, &e);
	cJSON *doc = pw_scan_report_to_json(&r->result, &r->policy,
					    pw_cli_scan_hostname(r->o.root, r->o.inventory != NULL,
								 name, sizeof name),
					    dated ? info.created : NULL);
	cJSON *inv = r->o.fmt == PW_REPORT_CYCLONEDX ? pw_inventory_to_json(&r->inv) : NULL;
	int ex = pw_cli_report_print(CMD, r->o.fmt, doc,
				     cJSON_GetObjectItemCaseSensitive(inv, "packages"));
	cJSON_Delete(inv);
	return ex;
}

int cmd_scan(int argc, char **argv, struct pw_setup *s)
{
	struct run r = {0};
	pw_inventory empty = PW_INVENTORY_INIT;
	r.inv = empty;
	pw_scan_result none = PW_SCAN_RESULT_INIT;
	r.result = none;
	int ex = parse_opts(argc, argv, s, &r.o);
	if (!ex)
		ex = setup(&r, s);
	if (!ex) {
		pw_scan_host host = {r.policy.default_exposure, r.live ? &r.runtime : NULL};
		pw_error e = PW_ERROR_INIT;
		char shown[1024];
		pw_db_url_redact(r.o.store, shown, sizeof shown);
		pw_cli_info(CMD, "inventory %s: %zu packages (%s); feed store %s, snapshot %lld%s",
			    r.o.inventory ? r.o.inventory
			    : r.o.root    ? r.o.root
					  : "/",
			    r.inv.n_pkgs, or_dash(r.inv.os_pretty_name), shown,
			    (long long)r.snapshot, r.o.snapshot ? "" : " (the newest)");
		double t0 = pw_cli_now();
		if (pw_scan_from_store(r.idx, r.store, r.snapshot, &r.inv, &host, &r.policy,
				       &r.result, &e)) {
			pw_error_prefix(&e, "%s: ", shown);
			ex = pw_cli_fail_err(CMD, &e);
		} else {
			pw_cli_info(CMD,
				    "scanned in %.3f s: %zu findings, %zu unfixed, %zu inactive",
				    pw_cli_now() - t0, r.result.n_findings, r.result.n_unfixed,
				    r.result.n_inactive);
		}
	}
	if (!ex) {
		for (size_t i = 0; i < r.result.n_warnings; i++)
			pw_cli_warn(CMD, "%s", r.result.warnings[i]);
		if (r.index_warnings > 20)
			pw_cli_warn(CMD, "%zu more advisory statements skipped",
				    r.index_warnings - 20);
		if (r.o.fmt != PW_REPORT_TABLE) {
			ex = print_report(&r);
		} else {
			ex = print_table(&r.result, &r.policy,
					 r.o.by && !strcmp(r.o.by, "advisory"), stdout);
		}
		if (fflush(stdout) != 0 && !ex)
			ex = pw_cli_fail(CMD, "writing the report failed: %s", strerror(errno));
	}
	if (!ex && r.o.fail_on) {
		pw_priority p = PW_PRIO_LOW;
		pw_priority_from_name(r.o.fail_on, &p, NULL);
		for (int k = p; k < PW_PRIO__COUNT; k++)
			if (r.result.counts[k])
				ex = PW_EXIT_FALSE;
	}
	pw_scan_result_release(&r.result);
	pw_runtime_release(&r.runtime);
	pw_advindex_free(r.idx);
	pw_feedstore_close(r.store);
	pw_inventory_release(&r.inv);
	return ex;
}
