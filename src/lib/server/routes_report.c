/* The report routes (compliance.h): what `patchwarden report compliance`
 * writes as JSON and CSV. */
#include <cjson/cJSON.h>

#include "patchwarden/clock.h"
#include "patchwarden/compliance.h"
#include "patchwarden/hosts.h"
#include "patchwarden/window.h"

#include "server-internal.h"

/* The query: as_of (a date is its last second; default now), owner,
 * category; false after a 400. */
static bool report_query(struct pw_api_ctx *c, pw_compliance_query *q)
{
	*q = (pw_compliance_query){pw_window_now(),
				   PW_HOST_PATCH_POLICY_DAYS,
				   13,
				   pw_api_query_str(c, "owner"),
				   pw_api_query_str(c, "category"),
				   NULL};
	const char *as_of = pw_api_query_str(c, "as_of");
	bool date = false;
	pw_error e = PW_ERROR_INIT;
	if (as_of && pw_ts_parse("as_of", as_of, &q->as_of, &date, &e)) {
		pw_api_fail(c, PW_ERR_INVALID, &e);
		return false;
	}
	q->as_of += date ? 86399 : 0;
	return true;
}

static cJSON *compliance(struct pw_api_ctx *c)
{
	pw_compliance_query q;
	cJSON *doc = NULL;
	pw_error e = PW_ERROR_INIT;
	pw_coverage_ctx cov = PW_COVERAGE_CTX_INIT;
	if (!report_query(c, &q))
		return NULL;
	pw_err rc = pw_api_coverage_load(c->env, &cov, &e);
	q.coverage = &cov;
	rc = rc ? rc : pw_compliance_report(c->env->db, &q, &doc, &e);
	pw_coverage_ctx_release(&cov);
	if (rc)
		pw_api_fail(c, rc, &e);
	return doc;
}

void pw_h_report_compliance(struct pw_api_ctx *c)
{
	cJSON *doc = compliance(c);
	if (doc)
		pw_api_reply(c, doc);
}

void pw_h_report_compliance_csv(struct pw_api_ctx *c)
{
	cJSON *doc = compliance(c);
	if (!doc)
		return;
	pw_buf csv = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_compliance_csv(doc, &csv, &e);
	cJSON_Delete(doc);
	if (rc) {
		pw_buf_release(&csv);
		pw_api_fail(c, rc, &e);
		return;
	}
	pw_api_reply_buf(c, &csv);
}
