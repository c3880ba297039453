/* The compliance and MTTR documents as CSV, and the compliance report as
 * one HTML page (compliance.h). Written from the JSON document, so the
 * command line and the API give the same rows. */
#include <cjson/cJSON.h>

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "patchwarden/compliance.h"
#include "patchwarden/csv.h"
#include "patchwarden/hosts.h"
#include "patchwarden/svg_chart.h"

static const cJSON *item(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = item(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = item(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* A member as CSV or HTML shows it: text as is, numbers whole or with one
 * decimal, booleans yes/no, null empty. */
static pw_err put_member(pw_buf *out, const cJSON *o, const char *k)
{
	const cJSON *v = item(o, k);
	if (cJSON_IsString(v))
		return pw_buf_puts(out, v->valuestring);
	if (cJSON_IsBool(v))
		return pw_buf_puts(out, cJSON_IsTrue(v) ? "yes" : "no");
	if (!cJSON_IsNumber(v))
		return PW_OK;
	double d = v->valuedouble;
	return d == floor(d) ? pw_buf_printf(out, "%.0f", d) : pw_buf_printf(out, "%.1f", d);
}

static pw_err csv_row(pw_buf *out, const char *const *cells, size_t n)
{
	pw_err rc = PW_OK;
	for (size_t i = 0; i < n && !rc; i++) {
		rc = i ? pw_buf_putc(out, ',') : PW_OK;
		rc = rc ? rc : pw_csv_cell(out, cells[i]);
	}
	return rc ? rc : pw_buf_puts(out, "\r\n");
}

/* A host's list member as one text: "3 name until DATE; ..." */
static pw_err list_text(pw_buf *out, const cJSON *arr, const char *id, const char *extra,
			const char *sep)
{
	const cJSON *e;
	pw_err rc = PW_OK;
	bool first = true;
	cJSON_ArrayForEach(e, arr) {
		rc = rc ? rc : pw_buf_puts(out, first ? "" : "; ");
		rc = rc ? rc : put_member(out, e, id);
		rc = rc ? rc : pw_buf_putc(out, ' ');
		rc = rc ? rc : put_member(out, e, "name");
		if (!rc && str(e, extra)) {
			rc = pw_buf_puts(out, sep);
			rc = rc ? rc : put_member(out, e, extra);
		}
		first = false;
	}
	return rc;
}

static const char *const host_columns[] = {"host",
					   "owner_group",
					   "category",
					   "last_patched",
					   "days_since",
					   "within_policy",
					   "emergency",
					   "high",
					   "normal",
					   "low",
					   "past_sla",
					   "accepted_risks",
					   "countermeasures",
					   "campaigns",
					   "compliant",
					   "coverage"};
#define N_HOST_COLUMNS (sizeof host_columns / sizeof host_columns[0])

/* The host's cells as text, in host_columns' order, into cells[] (each
 * pointing into bufs[]). */
static pw_err host_cells(const cJSON *h, pw_buf bufs[N_HOST_COLUMNS],
			 const char *cells[N_HOST_COLUMNS])
{
	pw_err rc = PW_OK;
	const cJSON *open = item(h, "open");
	for (size_t i = 0; i < N_HOST_COLUMNS && !rc; i++) {
		pw_buf *b = &bufs[i];
		pw_buf_reset(b);
		const char *c = host_columns[i];
		if (i >= 6 && i <= 9)
			rc = put_member(b, open, c);
		else if (!strcmp(c, "accepted_risks"))
			rc = list_text(b, item(h, c), "campaign", "expires", " until ");
		else if (!strcmp(c, "countermeasures"))
			rc = list_text(b, item(h, c), "campaign", "recheck", " re-check ");
		else if (!strcmp(c, "campaigns"))
			rc = list_text(b, item(h, c), "id", "state", ": ");
		else if (!strcmp(c, "compliant") && cJSON_IsNull(item(h, c)))
			rc = pw_buf_puts(b, "unknown");
		else if (!strcmp(c, "coverage") && str(h, "coverage_detail"))
			rc = pw_buf_printf(b, "%s (%s)", str(h, c), str(h, "coverage_detail"));
		else
			rc = put_member(b, h, c);
		cells[i] = pw_buf_str(b);
	}
	return rc;
}

static pw_err host_rows(const cJSON *doc, pw_buf *out,
			pw_err (*emit)(pw_buf *out, const char *const *cells, size_t n))
{
	pw_buf bufs[N_HOST_COLUMNS];
	const char *cells[N_HOST_COLUMNS];
	for (size_t i = 0; i < N_HOST_COLUMNS; i++)
		bufs[i] = (pw_buf)PW_BUF_INIT;
	pw_err rc = PW_OK;
	const cJSON *h;
	cJSON_ArrayForEach(h, item(doc, "hosts")) {
		rc = rc ? rc : host_cells(h, bufs, cells);
		rc = rc ? rc : emit(out, cells, N_HOST_COLUMNS);
	}
	for (size_t i = 0; i < N_HOST_COLUMNS; i++)
		pw_buf_release(&bufs[i]);
	return rc;
}

pw_err pw_compliance_csv(const cJSON *doc, pw_buf *out, pw_error *err)
{
	pw_err rc = csv_row(out, host_columns, N_HOST_COLUMNS);
	rc = rc ? rc : host_rows(doc, out, csv_row);
	return rc ? pw_error_set(err, rc, "writing the report: out of memory") : PW_OK;
}

static const char *const mttr_columns[] = {"group_by",
					   "group",
					   "fixed",
					   "detection_median_days",
					   "detection_mean_days",
					   "published",
					   "publication_median_days",
					   "publication_mean_days"};

pw_err pw_mttr_csv(const cJSON *doc, pw_buf *out, pw_error *err)
{
	size_t n = sizeof mttr_columns / sizeof mttr_columns[0];
	pw_err rc = csv_row(out, mttr_columns, n);
	pw_buf bufs[8];
	const char *cells[8];
	for (size_t i = 0; i < n; i++)
		bufs[i] = (pw_buf)PW_BUF_INIT;
	const cJSON *g;
	cJSON_ArrayForEach(g, item(doc, "groups")) {
		for (size_t i = 0; i < n && !rc; i++) {
			pw_buf_reset(&bufs[i]);
			rc = put_member(&bufs[i], g, mttr_columns[i]);
			cells[i] = pw_buf_str(&bufs[i]);
		}
		rc = rc ? rc : csv_row(out, cells, n);
	}
	for (size_t i = 0; i < n; i++)
		pw_buf_release(&bufs[i]);
	return rc ? pw_error_set(err, rc, "writing the report: out of memory") : PW_OK;
}

/* ---- HTML ---------------------------------------------------------------- */

/* Printable and readable offline: system fonts, no web font, no image
 * but the inline SVG; tables keep their header on every printed page. */
static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;color:#111;margin:2em auto;max-width:72em;"
	"padding:0 1em}"
	"h1{font-size:1.6em;margin:0}h2{font-size:1.2em;border-bottom:1px solid #999;"
	"margin-top:1.6em}"
	"table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #bbb;"
	"padding:.2em .5em;text-align:left;vertical-align:top}td.n,th.n{text-align:right}"
	"caption{text-align:left;font-weight:600;padding:.3em 0}"
	".no{color:#a00;font-weight:600}.meta{color:#444}"
	"svg.chart{display:block;max-width:100%;height:auto}"
	".p-emergency{fill:#7a0010}.p-high{fill:#c0392b}.p-normal{fill:#d4a017}"
	".p-low{fill:#7f8c8d}"
	".wide{overflow-x:auto}table.hosts{font-size:.85em}table.hosts td{white-space:nowrap}"
	"table.hosts td.l{white-space:normal;min-width:16em}"
	"@media print{body{margin:0;max-width:none;font-size:10pt}"
	".wide{overflow:visible}section{break-inside:avoid}thead{display:table-header-group}"
	"tr{break-inside:avoid}h2{break-after:avoid}table.hosts{font-size:7.5pt}}";

static pw_err esc(pw_buf *out, const char *s)
{
	return pw_xml_escape(out, s);
}

static pw_err cell(pw_buf *out, const char *tag, const char *cls, const cJSON *o, const char *k)
{
	pw_err rc = pw_buf_printf(out, "<%s%s%s%s>", tag, cls ? " class=\"" : "", cls ? cls : "",
				  cls ? "\"" : "");
	pw_buf t = PW_BUF_INIT;
	rc = rc ? rc : put_member(&t, o, k);
	rc = rc ? rc : esc(out, pw_buf_str(&t));
	pw_buf_release(&t);
	return rc ? rc : pw_buf_printf(out, "</%s>", tag);
}

static pw_err head_row(pw_buf *out, const char *const *names, size_t n, size_t first_num)
{
	pw_err rc = pw_buf_puts(out, "<thead><tr>");
	for (size_t i = 0; i < n && !rc; i++) {
		rc = pw_buf_printf(out, "<th scope=\"col\"%s>",
				   i >= first_num ? " class=\"n\"" : "");
		rc = rc ? rc : esc(out, names[i]);
		rc = rc ? rc : pw_buf_puts(out, "</th>");
	}
	return rc ? rc : pw_buf_puts(out, "</tr></thead><tbody>");
}

static pw_err html_head(pw_buf *out, const cJSON *doc)
{
	const cJSON *fleet = item(doc, "fleet");
	pw_err rc = pw_buf_puts(out,
				"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
				"<meta name=\"viewport\" content=\"width=device-width\">"
				"<title>Patch compliance report as of ");
	rc = rc ? rc : esc(out, str(doc, "as_of"));
	rc = rc ? rc : pw_buf_printf(out, "</title><style>%s</style></head><body>", style);
	rc = rc ? rc
		: pw_buf_puts(out,
			      "<header><h1>Patch compliance report</h1><p class=\"meta\">As of ");
	rc = rc ? rc : esc(out, str(doc, "as_of"));
	rc = rc ? rc
		: pw_buf_printf(out,
				" (UTC). Policy: every host patched within %.0f days and no open "
				"finding past its priority's SLA.",
				num(doc, "max_days_unpatched"));
	for (const char *k = "owner_group"; k; k = strcmp(k, "owner_group") ? NULL : "category") {
		if (!rc && str(doc, k)) {
			rc = pw_buf_printf(out, " Only %s ",
					   !strcmp(k, "category") ? "category" : "owner group");
			rc = rc ? rc : esc(out, str(doc, k));
			rc = rc ? rc : pw_buf_putc(out, '.');
		}
	}
	rc = rc ? rc
		: pw_buf_puts(out, "</p></header><section><h2>Fleet</h2><table>"
				   "<caption>Totals</caption><tbody>");
	static const char *const totals[][2] = {
		{"hosts", "hosts in service"},
		{"compliant", "compliant hosts"},
		{"percent", "compliance (%)"},
		{"within_policy", "patched within the policy"},
		{"unpatched", "not patched within the policy"},
		{"not_covered", "not covered: findings unknown, not compliant"},
		{"past_sla", "open findings past their SLA"},
		{"hosts_past_sla", "hosts with a finding past its SLA"},
		{"kev_open", "open findings listed in CISA KEV"},
		{"accepted_risks", "accepted risks in force"},
		{"expired_risks", "accepted risks expired"},
		{"countermeasures", "hosts under countermeasures"},
	};
	for (size_t i = 0; i < sizeof totals / sizeof totals[0] && !rc; i++) {
		rc = pw_buf_puts(out, "<tr><th scope=\"row\">");
		rc = rc ? rc : esc(out, totals[i][1]);
		rc = rc ? rc : pw_buf_puts(out, "</th>");
		rc = rc ? rc : cell(out, "td", "n", fleet, totals[i][0]);
		rc = rc ? rc : pw_buf_puts(out, "</tr>");
	}
	return rc ? rc : pw_buf_puts(out, "</tbody></table></section>");
}

/* A table of the records of `arr`: a caption, a header of `cols` and a
 * row per record of its members `keys`, the first a label, the others
 * numbers. */
static pw_err figures(pw_buf *out, const char *caption, const char *const *cols,
		      const char *const *keys, size_t n, const cJSON *arr)
{
	const cJSON *r;
	pw_err rc = pw_buf_puts(out, "<table><caption>");
	rc = rc ? rc : esc(out, caption);
	rc = rc ? rc : pw_buf_puts(out, "</caption>");
	rc = rc ? rc : head_row(out, cols, n, 1);
	cJSON_ArrayForEach(r, arr) {
		rc = rc ? rc : pw_buf_puts(out, "<tr>");
		for (size_t k = 0; k < n && !rc; k++)
			rc = cell(out, "td", k ? "n" : NULL, r, keys[k]);
		rc = rc ? rc : pw_buf_puts(out, "</tr>");
	}
	return rc ? rc : pw_buf_puts(out, "</tbody></table>");
}

/* A section: its heading, the chart (a line or bars) and its figures. */
struct chart_section {
	const char *heading;
	pw_svg_chart chart;
	bool line;
	const pw_svg_point *pts;
	size_t n;
};

static pw_err chart_section(pw_buf *out, const struct chart_section *c, pw_error *err)
{
	pw_err rc = pw_buf_puts(out, "<section><h2>");
	rc = rc ? rc : esc(out, c->heading);
	rc = rc ? rc : pw_buf_puts(out, "</h2>");
	if (rc)
		return pw_error_set(err, rc, "writing the report: out of memory");
	return c->line ? pw_svg_line_chart(out, &c->chart, c->pts, c->n, err)
		       : pw_svg_bar_chart(out, &c->chart, c->pts, c->n, err);
}

static pw_err trend_section(pw_buf *out, const cJSON *doc, pw_error *err)
{
	const cJSON *trend = item(doc, "trend"), *p;
	pw_svg_point pts[521];
	size_t i = 0;
	/* A week without a host in service has no share: no point. */
	cJSON_ArrayForEach(p, trend) {
		if (i < sizeof pts / sizeof pts[0] && cJSON_IsNumber(item(p, "percent")))
			pts[i++] = (pw_svg_point){str(p, "date"), num(p, "percent"), NULL};
	}
	struct chart_section c = {
		"Compliance over time",
		{"trend", "Compliance over time",
		 "The share of hosts in service that were compliant, week by week.", "%", 720, 260,
		 100},
		true,
		pts,
		i};
	static const char *const cols[] = {"date",           "hosts",         "compliant",
					   "compliance (%)", "open findings", "past SLA"};
	static const char *const keys[] = {"date",    "hosts", "compliant",
					   "percent", "open",  "past_sla"};
	pw_err rc = chart_section(out, &c, err);
	if (rc)
		return rc;
	rc = figures(out, "Compliance over time", cols, keys, 6, trend);
	rc = rc ? rc : pw_buf_puts(out, "</section>");
	return rc ? pw_error_set(err, rc, "writing the report: out of memory") : PW_OK;
}

static pw_err priority_sections(pw_buf *out, const cJSON *doc, pw_error *err)
{
	const cJSON *open = item(item(doc, "fleet"), "open");
	const cJSON *rem = item(doc, "remediation"), *r;
	pw_svg_point o[PW_HOST_PRIO__COUNT], d[PW_HOST_PRIO__COUNT];
	static const char *const cls[] = {"p-emergency", "p-high", "p-normal", "p-low"};
	size_t nd = 0;
	for (int p = 0; p < PW_HOST_PRIO__COUNT; p++) {
		const char *name = pw_host_prio_name((pw_host_prio)p);
		o[p] = (pw_svg_point){name, num(open, name), cls[p]};
	}
	/* The priorities with fixes: a bar of 0 days would say they were instant. */
	cJSON_ArrayForEach(r, rem) {
		pw_host_prio p;
		if (nd < PW_HOST_PRIO__COUNT && num(r, "fixed") > 0 &&
		    pw_host_prio_parse(str(r, "priority"), &p))
			d[nd++] = (pw_svg_point){str(r, "priority"), num(r, "median_days"), cls[p]};
	}
	struct chart_section co = {
		"Open findings by priority",
		{"open", "Open findings by priority",
		 "How many findings are open on the hosts in service, per priority.", NULL, 480,
		 240, 0},
		false,
		o,
		PW_HOST_PRIO__COUNT};
	struct chart_section cd = {
		"Time to remediate",
		{"remediate", "Time to remediate",
		 "Median days from first detection to the verified fix, per priority.", " d", 480,
		 240, 0},
		false,
		d,
		nd};
	pw_err rc = chart_section(out, &co, err);
	if (rc)
		return rc;
	static const char *const ocols[] = {"priority", "open findings"};
	rc = pw_buf_puts(out, "<table><caption>Open findings by priority</caption>");
	rc = rc ? rc : head_row(out, ocols, 2, 1);
	for (int p = 0; p < PW_HOST_PRIO__COUNT && !rc; p++) {
		rc = pw_buf_printf(out, "<tr><td>%s</td>", pw_host_prio_name((pw_host_prio)p));
		rc = rc ? rc : cell(out, "td", "n", open, pw_host_prio_name((pw_host_prio)p));
		rc = rc ? rc : pw_buf_puts(out, "</tr>");
	}
	rc = rc ? rc : pw_buf_puts(out, "</tbody></table></section>");
	if (rc)
		return pw_error_set(err, rc, "writing the report: out of memory");
	if ((rc = chart_section(out, &cd, err)))
		return rc;
	static const char *const rcols[] = {"priority", "fixed", "median days", "mean days"};
	static const char *const rkeys[] = {"priority", "fixed", "median_days", "mean_days"};
	rc = figures(out, "Days from first detection to the verified fix", rcols, rkeys, 4, rem);
	rc = rc ? rc : pw_buf_puts(out, "</section>");
	return rc ? pw_error_set(err, rc, "writing the report: out of memory") : PW_OK;
}

static pw_err campaigns_section(pw_buf *out, const cJSON *doc)
{
	static const char *const cols[] = {"id",    "name",        "emergency", "created",
					   "hosts", "host states", "outcome"};
	pw_err rc = pw_buf_puts(out, "<section><h2>Campaigns</h2><table><caption>Campaigns "
				     "created by the report's date, their hosts' states then"
				     "</caption>");
	rc = rc ? rc : head_row(out, cols, 7, 7);
	const cJSON *c, *s;
	cJSON_ArrayForEach(c, item(doc, "campaigns")) {
		rc = rc ? rc : pw_buf_puts(out, "<tr>");
		rc = rc ? rc : cell(out, "td", NULL, c, "id");
		rc = rc ? rc : cell(out, "td", NULL, c, "name");
		rc = rc ? rc : cell(out, "td", NULL, c, "emergency");
		rc = rc ? rc : cell(out, "td", NULL, c, "created");
		rc = rc ? rc : cell(out, "td", NULL, c, "hosts");
		rc = rc ? rc : pw_buf_puts(out, "<td>");
		bool first = true;
		cJSON_ArrayForEach(s, item(c, "states")) {
			rc = rc ? rc : pw_buf_puts(out, first ? "" : ", ");
			rc = rc ? rc : esc(out, s->string);
			rc = rc ? rc : pw_buf_printf(out, " %.0f", s->valuedouble);
			first = false;
		}
		rc = rc ? rc : pw_buf_puts(out, "</td>");
		rc = rc ? rc : cell(out, "td", NULL, c, "outcome");
		rc = rc ? rc : pw_buf_puts(out, "</tr>");
	}
	return rc ? rc : pw_buf_puts(out, "</tbody></table></section>");
}

static pw_err html_host_row(pw_buf *out, const char *const *cells, size_t n)
{
	pw_err rc = pw_buf_puts(out, "<tr>");
	for (size_t i = 0; i < n && !rc; i++) {
		bool numeric = (i >= 4 && i <= 10 && i != 5);
		bool bad = (i == 5 && !strcmp(cells[i], "no")) ||
			   (i == 14 && strcmp(cells[i], "yes"));
		bool list = i >= 11 && i <= 13;
		rc = pw_buf_printf(out, "<td%s>",
				   bad       ? " class=\"no\""
				   : numeric ? " class=\"n\""
				   : list    ? " class=\"l\""
					     : "");
		rc = rc ? rc : esc(out, cells[i]);
		rc = rc ? rc : pw_buf_puts(out, "</td>");
	}
	return rc ? rc : pw_buf_puts(out, "</tr>");
}

pw_err pw_compliance_html(const cJSON *doc, pw_buf *out, pw_error *err)
{
	pw_err rc = html_head(out, doc);
	if (rc)
		return pw_error_set(err, rc, "writing the report: out of memory");
	if ((rc = trend_section(out, doc, err)) || (rc = priority_sections(out, doc, err)))
		return rc;
	static const char *const cols[] = {"host",
					   "owner group",
					   "category",
					   "last patched",
					   "days since",
					   "within policy",
					   "emergency",
					   "high",
					   "normal",
					   "low",
					   "past SLA",
					   "accepted risks (until)",
					   "countermeasures (re-check)",
					   "campaigns (state)",
					   "compliant",
					   "coverage"};
	rc = campaigns_section(out, doc);
	rc = rc ? rc
		: pw_buf_puts(out, "<section><h2>Hosts</h2><div class=\"wide\"><table "
				   "class=\"hosts\"><caption>Each host in "
				   "service</caption>");
	rc = rc ? rc : head_row(out, cols, N_HOST_COLUMNS, N_HOST_COLUMNS);
	rc = rc ? rc : host_rows(doc, out, html_host_row);
	rc = rc ? rc
		: pw_buf_puts(out, "</tbody></table></div></section><footer class=\"meta\"><p>"
				   "Written by patchwarden " PW_VERSION " from the stored "
				   "history.</p></footer></body></html>\n");
	return rc ? pw_error_set(err, rc, "writing the report: out of memory") : PW_OK;
}
