/* The Reports page: the compliance report (compliance.h) as the very
 * document `patchwarden report compliance --html` writes, for the roles
 * that may read GET /api/v1/reports/compliance, with a date field and
 * its CSV. */
#include <cjson/cJSON.h>

#include <stdio.h>
#include <string.h>

#include "patchwarden/compliance.h"

#include "server-internal.h"

/* The report carries its own <style> (it is one file to save or mail):
 * inline style, and nothing else, script least of all. */
static const char report_csp[] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
				 "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

static const char api_path[] = "/api/v1/reports/compliance";

static const char *as_of_of(struct pw_web_page *p)
{
	const char *v = pw_web_query(p->rq, "as_of");
	return v && *v ? v : NULL;
}

/* The date form, the CSV link and the way back. */
static void controls(struct pw_web_page *p, const char *as_of)
{
	pw_web_put(p, "<nav aria-label=\"Report\"><p><a href=\"/\">Back to the console</a> | "
		      "<a download=\"compliance.csv\" href=\"/reports/compliance.csv");
	if (as_of) {
		pw_web_put(p, "?as_of=");
		pw_web_url_value(p, as_of);
	}
	pw_web_put(p, "\">Download the hosts as CSV</a></p><form method=\"get\" "
		      "action=\"/reports/compliance\"><label>As of (a date, YYYY-MM-DD; empty: "
		      "now) <input name=\"as_of\" value=\"");
	pw_web_esc(p, as_of);
	pw_web_put(p, "\"></label> <button type=\"submit\">Show</button></form></nav>\n");
}

/* The report's document, or NULL after an error page (a bad date: 400,
 * a role that may not: 403). */
static cJSON *report(struct pw_web_page *p, const char *as_of)
{
	pw_query_param q = {"as_of", as_of};
	cJSON *doc;
	char msg[PW_WEB_MSG];
	int st = pw_web_call(p, "GET", api_path, &q, as_of ? 1 : 0, NULL, &doc, msg, sizeof msg);
	if (doc)
		return doc;
	pw_web_head(p, st, st == 403 ? "Not allowed" : "Compliance report");
	pw_web_message(p, "error", msg);
	if (st == 400)
		controls(p, as_of);
	pw_web_foot(p);
	return NULL;
}

void pw_web_reports_compliance(struct pw_web_page *p)
{
	const char *as_of = as_of_of(p);
	cJSON *doc = report(p, as_of);
	if (!doc)
		return;
	pw_buf html = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_compliance_html(doc, &html, &e);
	cJSON_Delete(doc);
	const char *body = rc ? NULL : strstr(pw_buf_str(&html), "<body>");
	if (!body) {
		pw_buf_release(&html);
		pw_web_error_page(p, 500, rc ? pw_error_text(&e) : "the report has no body");
		return;
	}
	p->out->status = 200;
	p->out->content_type = "text/html; charset=utf-8";
	p->out->csp = report_csp;
	pw_buf_reset(&p->out->body);
	size_t head = (size_t)(body - html.data) + strlen("<body>");
	if (!p->oom)
		p->oom = pw_buf_append(&p->out->body, html.data, head);
	controls(p, as_of);
	pw_web_put(p, html.data + head);
	pw_buf_release(&html);
}

void pw_web_reports_compliance_csv(struct pw_web_page *p)
{
	cJSON *doc = report(p, as_of_of(p));
	if (!doc)
		return;
	pw_error e = PW_ERROR_INIT;
	p->out->status = 200;
	p->out->content_type = "text/csv; charset=utf-8";
	pw_buf_reset(&p->out->body);
	pw_err rc = pw_compliance_csv(doc, &p->out->body, &e);
	cJSON_Delete(doc);
	if (rc)
		pw_web_error_page(p, 500, pw_error_text(&e));
}
