/* `patchwarden ticket show N --format html`: one self-contained page
 * (no script, no outside resource) for an auditor or for the ticket
 * system a help desk pastes it into. Every value from the database goes
 * through pw_html_escape: notes, reasons and job logs are anyone's text. */
#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/jobs.h"
#include "patchwarden/web.h"

#include "ticket_html.h"

/* The page's one error: the buffer could not grow. */
struct page {
	pw_buf b;
	pw_err rc;
};

static void put(struct page *p, const char *s)
{
	if (!p->rc)
		p->rc = pw_buf_puts(&p->b, s);
}

static void text(struct page *p, const char *s)
{
	if (!p->rc)
		p->rc = pw_html_escape(&p->b, s ? s : "-");
}

static const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int64_t num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* An event's detail: the stored JSON, which the record carries as raw
 * text (pw_ticket_show_json); the caller deletes it. */
static cJSON *detail_of(const cJSON *e)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "detail");
	return cJSON_IsRaw(d) ? cJSON_Parse(d->valuestring) : cJSON_Duplicate(d, true);
}

static void cell(struct page *p, const char *s)
{
	put(p, "<td>");
	text(p, s);
	put(p, "</td>");
}

static void cell_num(struct page *p, int64_t v)
{
	char n[24];
	snprintf(n, sizeof n, "%" PRId64, v);
	cell(p, n);
}

/* A JSON value as indented text in a <pre>. */
static void json_pre(struct page *p, const cJSON *v)
{
	char *s = v ? cJSON_Print(v) : NULL;
	if (!s)
		return;
	put(p, "<pre>");
	text(p, s);
	put(p, "</pre>");
	cJSON_free(s);
}

static void row_head(struct page *p, const char *const *cols)
{
	put(p, "<table><tr>");
	for (; *cols; cols++) {
		put(p, "<th>");
		text(p, *cols);
		put(p, "</th>");
	}
	put(p, "</tr>");
}

static const char style[] =
	"<style>body{font-family:sans-serif;margin:2em;max-width:80em}"
	"table{border-collapse:collapse;margin:.5em 0 1.5em}"
	"th,td{border:1px solid #999;padding:.2em .5em;text-align:left;vertical-align:top}"
	"pre{white-space:pre-wrap;margin:0;font-size:.85em}.next{font-size:1.2em}</style>";

static void header(struct page *p, const cJSON *t)
{
	char title[160];
	snprintf(title, sizeof title, "Ticket %" PRId64 " - campaign %" PRId64 " - ", num(t, "id"),
		 num(t, "campaign_id"));
	put(p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
	text(p, title);
	text(p, str(t, "hostname"));
	put(p, "</title>");
	put(p, style);
	put(p, "</head><body><h1>");
	text(p, title);
	text(p, str(t, "hostname"));
	put(p, "</h1><p class=\"next\">State: <strong>");
	text(p, str(t, "state"));
	put(p, "</strong>; who acts next: <strong>");
	text(p, str(t, "next_actor"));
	put(p, "</strong></p><p>Opened ");
	text(p, str(t, "created"));
	put(p, ", closed ");
	text(p, str(t, "closed"));
	put(p, ". Every entry below is also in the hash-chained audit log.</p>");
}

/* The people's decisions: every event not taken by the patch driver. */
static void approvals(struct page *p, const cJSON *events)
{
	static const char *const cols[] = {"when", "who", "step", "state", "note", NULL};
	put(p, "<h2>Approvals and decisions</h2>");
	row_head(p, cols);
	const cJSON *e;
	cJSON_ArrayForEach(e, events) {
		const char *actor = str(e, "actor");
		if (!actor || !strncmp(actor, "system:", 7) || !strcmp(str(e, "action"), "open"))
			continue;
		char move[96];
		snprintf(move, sizeof move, "%s -> %s", str(e, "from") ? str(e, "from") : "-",
			 str(e, "to") ? str(e, "to") : "-");
		put(p, "<tr>");
		cell(p, str(e, "ts"));
		cell(p, actor);
		cell(p, str(e, "action"));
		cell(p, move);
		cell(p, str(e, "note"));
		put(p, "</tr>");
	}
	put(p, "</table>");
}

static void risk(struct page *p, const cJSON *list)
{
	static const char *const cols[] = {"reason",    "data value",   "threat frequency",
					   "impact",    "cost/benefit", "declined by",
					   "signed by", "expires",      "expired",
					   NULL};
	static const char *const keys[] = {"reason",    "data_value",   "threat_frequency",
					   "impact",    "cost_benefit", "declined_by",
					   "signed_by", "expires",      "expired"};
	put(p, "<h2>Risk assessment</h2>");
	if (!cJSON_GetArraySize(list)) {
		put(p, "<p>None: the host was not declined.</p>");
		return;
	}
	row_head(p, cols);
	const cJSON *r;
	cJSON_ArrayForEach(r, list) {
		put(p, "<tr>");
		for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
			cell(p, str(r, keys[i]));
		put(p, "</tr>");
	}
	put(p, "</table>");
}

static void findings(struct page *p, const char *what, const cJSON *list)
{
	static const char *const cols[] = {"package", "advisory", "installed",
					   "fixed",   "CVEs",     NULL};
	put(p, "<h4>");
	text(p, what);
	put(p, "</h4>");
	if (!cJSON_GetArraySize(list)) {
		put(p, "<p>none</p>");
		return;
	}
	row_head(p, cols);
	const cJSON *f;
	cJSON_ArrayForEach(f, list) {
		pw_buf cves = PW_BUF_INIT;
		const cJSON *c;
		cJSON_ArrayForEach(c, cJSON_GetObjectItem(f, "cves")) {
			if (!p->rc && cves.len)
				p->rc = pw_buf_puts(&cves, " ");
			if (!p->rc)
				p->rc = pw_buf_puts(&cves,
						    cJSON_GetStringValue(c) ? c->valuestring : "?");
		}
		put(p, "<tr>");
		cell(p, str(f, "package"));
		cell(p, str(f, "advisory"));
		cell(p, str(f, "installed"));
		cell(p, str(f, "fixed"));
		cell(p, cves.data ? cves.data : "");
		put(p, "</tr>");
		pw_buf_release(&cves);
	}
	put(p, "</table>");
}

static void scan_diffs(struct page *p, const cJSON *events)
{
	put(p, "<h2>Scan diff (pre-scan against post-scan, same feed snapshot)</h2>");
	bool any = false;
	const cJSON *e;
	cJSON_ArrayForEach(e, events) {
		if (strcmp(str(e, "action") ? str(e, "action") : "", "scan-diff") != 0)
			continue;
		cJSON *d = detail_of(e);
		any = true;
		put(p, "<h3>");
		text(p, str(e, "ts"));
		put(p, ": ");
		text(p, str(e, "note"));
		put(p, "</h3>");
		findings(p, "closed", cJSON_GetObjectItem(d, "closed"));
		findings(p, "still open", cJSON_GetObjectItem(d, "still_open"));
		findings(p, "new", cJSON_GetObjectItem(d, "new"));
		if (cJSON_GetObjectItem(d, "new_advisories_since"))
			findings(p,
				 "new advisories since (a newer feed snapshot; not part of the "
				 "proof)",
				 cJSON_GetObjectItem(d, "new_advisories_since"));
		cJSON_Delete(d);
	}
	if (!any)
		put(p, "<p>No post-scan yet.</p>");
}

/* Each job the driver queued for the host, with its result and log. */
static void jobs(struct page *p, pw_db *db, const cJSON *events)
{
	static const char *const cols[] = {"job",    "kind",    "purpose", "state",
					   "result", "message", NULL};
	put(p, "<h2>Jobs</h2>");
	row_head(p, cols);
	struct page logs = {PW_BUF_INIT, PW_OK};
	const cJSON *e;
	cJSON_ArrayForEach(e, events) {
		if (strcmp(str(e, "action") ? str(e, "action") : "", "job-queued") != 0)
			continue;
		cJSON *d = detail_of(e);
		int64_t id = num(d, "job");
		pw_job j;
		char *output = NULL;
		pw_error err = PW_ERROR_INIT;
		memset(&j, 0, sizeof j);
		bool got = id && !pw_job_get(db, 0, id, &j, &output, &err);
		cJSON *out = output ? cJSON_Parse(output) : NULL;
		put(p, "<tr>");
		cell_num(p, id);
		cell(p, str(d, "kind"));
		cell(p, str(d, "purpose"));
		cell(p, got ? j.state : "?");
		cell(p, got ? j.result_status : NULL);
		cell(p, str(out, "message") ? str(out, "message") : got ? j.message : NULL);
		put(p, "</tr>");
		const char *log = str(out, "log");
		if (log) {
			char h[48];
			snprintf(h, sizeof h, "<h3>Job %" PRId64 " (", id);
			put(&logs, h);
			text(&logs, str(d, "kind"));
			put(&logs, ")</h3><pre>");
			text(&logs, log);
			put(&logs, "</pre>");
		}
		cJSON_Delete(out);
		cJSON_Delete(d);
		free(output);
		if (got)
			pw_job_release(&j);
	}
	put(p, "</table>");
	if (logs.rc && !p->rc)
		p->rc = logs.rc;
	if (logs.b.len) {
		put(p, "<h2>Job logs</h2>");
		put(p, logs.b.data);
	}
	pw_buf_release(&logs.b);
}

static void log_table(struct page *p, const cJSON *events)
{
	static const char *const cols[] = {"#",  "when", "who",  "action", "from",
					   "to", "next", "note", "detail", NULL};
	put(p, "<h2>Log (append-only, oldest first)</h2>");
	row_head(p, cols);
	const cJSON *e;
	cJSON_ArrayForEach(e, events) {
		put(p, "<tr>");
		cell_num(p, num(e, "id"));
		cell(p, str(e, "ts"));
		cell(p, str(e, "actor"));
		cell(p, str(e, "action"));
		cell(p, str(e, "from"));
		cell(p, str(e, "to"));
		cell(p, str(e, "next_actor"));
		cell(p, str(e, "note"));
		put(p, "<td>");
		json_pre(p, cJSON_GetObjectItem(e, "detail"));
		put(p, "</td></tr>");
	}
	put(p, "</table>");
}

pw_err pw_ticket_html(pw_db *db, const cJSON *t, pw_buf *out, pw_error *err)
{
	struct page p = {PW_BUF_INIT, PW_OK};
	const cJSON *events = cJSON_GetObjectItem(t, "events");
	header(&p, t);
	approvals(&p, events);
	risk(&p, cJSON_GetObjectItem(t, "risk_acceptances"));
	scan_diffs(&p, events);
	jobs(&p, db, events);
	log_table(&p, events);
	put(&p, "</body></html>\n");
	if (p.rc) {
		pw_buf_release(&p.b);
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory writing the ticket's page");
	}
	*out = p.b;
	return PW_OK;
}
