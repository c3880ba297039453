/* patchwarden report compliance|mttr: reports from the stored history
 * (compliance.h), as of now or a past time. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/clock.h"
#include "patchwarden/compliance.h"
#include "patchwarden/coverage.h"
#include "patchwarden/fileio.h"
#include "patchwarden/findings.h"
#include "patchwarden/policy_run.h"
#include "patchwarden/window.h"
#include "table.h"

#define CMD "report"

static struct {
	bool json;
	const char *format, *as_of, *output, *owner, *category, *store;
	int64_t weeks;
} opt = {false, NULL, NULL, NULL, NULL, NULL, NULL, 13};

static const struct pw_option options[] = {
	PW_OPT_STRING(0, "format", &opt.format, "FMT",
		      "table (the default), csv, json, or html (compliance)"),
	PW_OPT_FLAG(0, "json", &opt.json, "the same as --format json"),
	PW_OPT_STRING(0, "as-of", &opt.as_of, "TIME",
		      "the report as of this UTC time: YYYY-MM-DD (the end\n"
		      "of that day) or YYYY-MM-DDTHH:MM:SSZ; default now"),
	PW_OPT_STRING(0, "output", &opt.output, "FILE", "write the report to FILE, not stdout"),
	PW_OPT_STRING(0, "owner", &opt.owner, "GROUP", "only the hosts of owner group GROUP"),
	PW_OPT_STRING(0, "category", &opt.category, "C", "only the hosts of category C"),
	PW_OPT_STRING(0, "store", &opt.store, "URL",
		      "the feed store: the releases it covers (compliance: a host\n"
		      "of another release is not covered) and the advisories'\n"
		      "publication (mttr) (default: [feeds] store,\n"
		      "$PATCHWARDEN_STORE, the database)"),
	PW_OPT_INT(0, "weeks", &opt.weeks, 1, 520, "N",
		   "compliance: the trend's weeks before the report's time (13)"),
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden report compliance [--format table|csv|json|html] [--as-of TIME]\n"
	"                                     [--output FILE] [--owner GROUP] [--category C]\n"
	"                                     [--weeks N] [--config FILE] [--db URL]\n"
	"       patchwarden report mttr [--format table|csv|json] [--as-of TIME] [--output FILE]\n"
	"                               [--owner GROUP] [--category C] [--store URL]\n"
	"\n"
	"compliance: per host in service the last patch and the days since, the\n"
	"open findings per priority, those past their SLA, the accepted risks and\n"
	"countermeasures in force with their expiry, the campaigns and the host's\n"
	"state in each; the fleet's totals, the compliance trend week by week,\n"
	"and the days from detection to fix per priority. A host is compliant\n"
	"when patched within [policy] max_days_unpatched days (never patched:\n"
	"enrolled within them) with no open finding past its SLA. html is one\n"
	"self-contained page with charts, readable offline and printable.\n"
	"\n"
	"mttr: the findings fixed (a fresh inventory no longer has them), days\n"
	"from first detection and from the advisory's publication (the feed\n"
	"store) to the fix, per priority and per owner group: count, median, mean.\n"
	"\n"
	"Both are computed from the stored history, so --as-of gives the report\n"
	"of that time: nothing that happened after it counts.\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"The feed store (mttr) is [feeds] store of the configuration file\n"
	"($PATCHWARDEN_STORE takes precedence), else the server's database.\n"
	"Exit status: 0 written, 2 bad usage or unreadable data.\n"
	"See patchwarden-report(1).\n";

const struct pw_usage cmd_report_usage = {usage_head, PW_OPT_TABLES(options), usage_tail, NULL};

enum fmt { F_TABLE, F_CSV, F_JSON, F_HTML };

static int parse_format(bool mttr, enum fmt *out)
{
	static const char *const names[] = {"table", "csv", "json", "html"};
	const char *f = opt.format ? opt.format : opt.json ? "json" : "table";
	if (opt.json && strcmp(f, "json"))
		return pw_cli_usage_error(CMD, "--json and --format %s: give one", f);
	for (int i = 0; i < 4 - mttr; i++)
		if (!strcmp(f, names[i])) {
			*out = (enum fmt)i;
			return PW_EXIT_OK;
		}
	return pw_cli_usage_error(CMD, "--format '%s': use table, csv, json%s", f,
				  mttr ? "" : " or html");
}

/* --as-of: a date is its last second, so the report has the whole day. */
static int parse_as_of(int64_t *out)
{
	if (!opt.as_of) {
		*out = pw_window_now();
		return PW_EXIT_OK;
	}
	bool date = false;
	pw_error err = PW_ERROR_INIT;
	if (pw_ts_parse("--as-of", opt.as_of, out, &date, &err))
		return pw_cli_usage_error(CMD, "%s", err.msg);
	if (date)
		*out += 86399;
	return PW_EXIT_OK;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "-";
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* A number for a table: whole, one decimal, or "-" for null. */
static const char *numtext(const cJSON *o, const char *k, char buf[32])
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v))
		return "-";
	snprintf(buf, 32, v->valuedouble == (double)(int64_t)v->valuedouble ? "%.0f" : "%.1f",
		 v->valuedouble);
	return buf;
}

/* The fleet's totals, a row per host (through table.c, which escapes
 * what operators typed and fits the terminal) and the trend. */
static void compliance_table(const cJSON *doc, FILE *out, pw_table *t)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, "fleet"), *h, *p;
	const cJSON *open = cJSON_GetObjectItemCaseSensitive(f, "open");
	char pc[32] = "no host in service";
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(f, "percent")))
		snprintf(pc, sizeof pc, "%.1f%%", num(f, "percent"));
	fprintf(out,
		"compliance as of %s: %.0f of %.0f hosts compliant (%s); %.0f not patched "
		"within %.0f days; %.0f findings past SLA on %.0f hosts; %.0f not covered "
		"(findings unknown)\n",
		str(doc, "as_of"), num(f, "compliant"), num(f, "hosts"), pc, num(f, "unpatched"),
		num(doc, "max_days_unpatched"), num(f, "past_sla"), num(f, "hosts_past_sla"),
		num(f, "not_covered"));
	fprintf(out,
		"open findings: emergency %.0f, high %.0f, normal %.0f, low %.0f; accepted risks "
		"%.0f (expired %.0f); countermeasures %.0f\n\n",
		num(open, "emergency"), num(open, "high"), num(open, "normal"), num(open, "low"),
		num(f, "accepted_risks"), num(f, "expired_risks"), num(f, "countermeasures"));
	static const struct pw_table_col cols[] = {
		{"HOST", PW_COL_FLEX, 16},      {"LAST PATCHED", 0, 0},
		{"DAYS", PW_COL_RIGHT, 0},      {"EMERG", PW_COL_RIGHT, 0},
		{"HIGH", PW_COL_RIGHT, 0},      {"NORMAL", PW_COL_RIGHT, 0},
		{"LOW", PW_COL_RIGHT, 0},       {"PAST SLA", PW_COL_RIGHT, 0},
		{"COMPLIANT", PW_COL_STYLE, 0}, {"COVERAGE", 0, 0}};
	pw_table_columns(t, cols, sizeof cols / sizeof cols[0]);
	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(doc, "hosts")) {
		char d[32], e[32], hi[32], n[32], l[32], s[32];
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(h, "open");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(h, "compliant");
		bool ok = cJSON_IsTrue(c);
		const char *cells[] = {str(h, "host"),
				       str(h, "last_patched"),
				       numtext(h, "days_since", d),
				       numtext(o, "emergency", e),
				       numtext(o, "high", hi),
				       numtext(o, "normal", n),
				       numtext(o, "low", l),
				       numtext(h, "past_sla", s),
				       ok                ? "yes"
				       : cJSON_IsNull(c) ? "unknown"
							 : "no",
				       str(h, "coverage")};
		pw_table_row(t, ok ? PW_STYLE_NONE : PW_STYLE_HIGH, cells);
	}
	pw_table_print(t, out, out == stdout ? pw_term_stdout() : (struct pw_term){0, false});
	fputs("\ntrend:", out);
	/* A week without a host in service has no share to show. */
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "trend"))
		if (num(p, "hosts") > 0)
			fprintf(out, " %s %.1f%%", str(p, "date"), num(p, "percent"));
		else
			fprintf(out, " %s -", str(p, "date"));
	fputc('\n', out);
}

static void mttr_table(const cJSON *doc, FILE *out, pw_table *t)
{
	const cJSON *g;
	fprintf(out, "time to remediate as of %s (days)\n", str(doc, "as_of"));
	static const struct pw_table_col cols[] = {{"BY", 0, 0},
						   {"GROUP", PW_COL_FLEX, 12},
						   {"FIXED", PW_COL_RIGHT, 0},
						   {"DETECTION MEDIAN", PW_COL_RIGHT, 0},
						   {"MEAN", PW_COL_RIGHT, 0},
						   {"PUBLISHED", PW_COL_RIGHT, 0},
						   {"PUBLICATION MEDIAN", PW_COL_RIGHT, 0},
						   {"MEAN", PW_COL_RIGHT, 0}};
	pw_table_columns(t, cols, sizeof cols / sizeof cols[0]);
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(doc, "groups")) {
		char a[32], b[32], c[32], d[32], e[32], f[32];
		const char *grp = str(g, "group");
		const char *cells[] = {str(g, "group_by"),
				       *grp ? grp : "(none)",
				       numtext(g, "fixed", a),
				       numtext(g, "detection_median_days", b),
				       numtext(g, "detection_mean_days", c),
				       numtext(g, "published", d),
				       numtext(g, "publication_median_days", e),
				       numtext(g, "publication_mean_days", f)};
		pw_table_row(t, PW_STYLE_NONE, cells);
	}
	pw_table_print(t, out, out == stdout ? pw_term_stdout() : (struct pw_term){0, false});
}

/* The table into `out` (stdout, or a buffer for --output). */
static pw_err table(bool is_mttr, const cJSON *doc, pw_buf *out)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *f = opt.output ? open_memstream(&mem, &len) : stdout;
	if (!f)
		return PW_ERR_NOMEM;
	pw_table t = PW_TABLE_INIT;
	if (is_mttr)
		mttr_table(doc, f, &t);
	else
		compliance_table(doc, f, &t);
	pw_err rc = t.failed ? PW_ERR_NOMEM : PW_OK;
	pw_table_release(&t);
	if (f != stdout) {
		rc = fclose(f) || rc ? PW_ERR_NOMEM : pw_buf_append(out, mem, len);
		free(mem);
	}
	return rc;
}

static int emit(pw_buf *out)
{
	pw_error err = PW_ERROR_INIT;
	if (opt.output) {
		if (pw_write_file_atomic(opt.output, out->data ? out->data : "", out->len, 0644,
					 &err))
			return pw_cli_fail_err(CMD, &err);
		return PW_EXIT_OK;
	}
	fwrite(pw_buf_str(out), 1, out->len, stdout);
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

/* The MTTR's publication times need the feed store; without one they are
 * left out (with a note). */
static pw_err mttr(pw_db *db, pw_config *cfg, const pw_compliance_query *q, cJSON **doc,
		   pw_error *err)
{
	pw_findings_config fc;
	pw_err rc = pw_findings_config_load(cfg, &fc, err);
	if (rc)
		return rc;
	pw_feedstore *store = NULL;
	pw_error se = PW_ERROR_INIT;
	if (pw_findings_store_open(opt.store ? opt.store : fc.store, db, &store, &se))
		pw_cli_note(CMD, "no publication times: %s", se.msg);
	rc = pw_mttr_report(db, store, q, doc, err);
	pw_feedstore_close(store);
	return rc;
}

/* Each host's coverage is judged against the feed store's releases. */
static pw_err compliance(pw_db *db, pw_config *cfg, pw_compliance_query *q, cJSON **doc,
			 pw_error *err)
{
	pw_findings_config fc;
	pw_coverage_ctx cov = PW_COVERAGE_CTX_INIT;
	pw_err rc = pw_findings_config_load(cfg, &fc, err);
	if (!rc && opt.store)
		fc.store = opt.store;
	rc = rc ? rc : pw_coverage_load(db, &fc, &cov, err);
	q->coverage = &cov;
	rc = rc ? rc : pw_compliance_report(db, q, doc, err);
	q->coverage = NULL;
	pw_coverage_ctx_release(&cov);
	return rc;
}

int cmd_report(int argc, char **argv, struct pw_setup *setup)
{
	bool is_mttr = argc >= 2 && !strcmp(argv[1], "mttr");
	if (argc < 2 || (!is_mttr && strcmp(argv[1], "compliance")))
		return pw_cli_usage_error(CMD, "which report? compliance or mttr");
	int n = pw_cli_parse(CMD, setup, argc - 1, argv + 1, PW_OPT_TABLES(options), 1);
	if (n < 0)
		return PW_EXIT_ERROR;
	if (n > 0)
		return pw_cli_usage_error(CMD, "report %s takes no arguments", argv[1]);
	enum fmt fmt = F_TABLE;
	pw_compliance_query q = {0, 90, (int)opt.weeks, opt.owner, opt.category, NULL};
	if (parse_format(is_mttr, &fmt) || parse_as_of(&q.as_of))
		return PW_EXIT_ERROR;
	pw_config *cfg = pw_cli_config(CMD, setup);
	if (!cfg)
		return PW_EXIT_ERROR;
	pw_policy_run_config pc;
	pw_error err = PW_ERROR_INIT;
	if (pw_policy_run_config_load(cfg, &pc, &err))
		return pw_cli_fail_err(CMD, &err);
	q.max_days = pc.max_days_unpatched;
	pw_db *db = pw_cli_db(CMD, setup);
	if (!db)
		return PW_EXIT_ERROR;
	cJSON *doc = NULL;
	if (is_mttr ? mttr(db, cfg, &q, &doc, &err) : compliance(db, cfg, &q, &doc, &err))
		return pw_cli_fail_err(CMD, &err);
	pw_buf out = PW_BUF_INIT;
	pw_err rc = PW_OK;
	if (fmt == F_JSON) {
		char *s = cJSON_Print(doc);
		rc = s && !pw_buf_puts(&out, s) && !pw_buf_putc(&out, '\n') ? PW_OK : PW_ERR_NOMEM;
		cJSON_free(s);
		if (rc)
			pw_error_set(&err, rc, "out of memory");
	} else if (fmt == F_CSV) {
		rc = is_mttr ? pw_mttr_csv(doc, &out, &err) : pw_compliance_csv(doc, &out, &err);
	} else if (fmt == F_HTML) {
		rc = pw_compliance_html(doc, &out, &err);
	} else if ((rc = table(is_mttr, doc, &out))) {
		pw_error_set(&err, rc, "out of memory");
	}
	cJSON_Delete(doc);
	int x = rc ? pw_cli_fail_err(CMD, &err) : emit(&out);
	pw_buf_release(&out);
	return x;
}
