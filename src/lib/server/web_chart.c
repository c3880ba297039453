/* The fleet page's compliance-over-time chart (issue 15), drawn by the
 * compliance report's own code (pw_compliance_series, pw_svg_line_chart).
 * The series reads every finding row (about 150 ms on 10,000 hosts), twice
 * the fleet page's whole budget, and moves by the week: each node keeps
 * the last one for PW_WEB_CHART_TTL seconds. While one request refreshes
 * it, the others draw the previous one rather than queue behind it. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/compliance.h"
#include "patchwarden/hosts.h"
#include "patchwarden/svg_chart.h"
#include "patchwarden/clock.h"
#include "patchwarden/window.h"

#include "server-internal.h"

struct pw_web_charts {
	pthread_mutex_t lock;
	int ttl;
	int64_t at; /* when pts was computed; 0: never */
	bool refreshing;
	pw_compliance_point pts[PW_WEB_CHART_POINTS];
};

pw_web_charts *pw_web_charts_new(int ttl)
{
	pw_web_charts *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->ttl = ttl;
	return c;
}

void pw_web_charts_free(pw_web_charts *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static pw_err series(pw_db *db, const pw_api_env *env, int64_t now, pw_compliance_point *out,
		     pw_error *err)
{
	pw_compliance_point *pts = NULL;
	pw_coverage_ctx cov = PW_COVERAGE_CTX_INIT;
	pw_compliance_query q = {now, PW_HOST_PATCH_POLICY_DAYS, 0, NULL, NULL, env ? &cov : NULL};
	pw_err rc = env ? pw_api_coverage_load(env, &cov, err) : PW_OK;
	rc = rc ? rc : pw_compliance_series(db, &q, PW_WEB_CHART_POINTS, &pts, err);
	pw_coverage_ctx_release(&cov);
	if (!rc)
		memcpy(out, pts, PW_WEB_CHART_POINTS * sizeof *pts);
	free(pts);
	return rc;
}

pw_err pw_web_charts_compliance(pw_web_charts *c, pw_db *db, const pw_api_env *env, int64_t now,
				pw_compliance_point out[PW_WEB_CHART_POINTS], pw_error *err)
{
	if (!c)
		return series(db, env, now, out, err);
	pthread_mutex_lock(&c->lock);
	bool fresh = c->at && now >= c->at && now - c->at < c->ttl;
	if (fresh || (c->at && c->refreshing)) {
		memcpy(out, c->pts, sizeof c->pts);
		pthread_mutex_unlock(&c->lock);
		return PW_OK;
	}
	c->refreshing = true;
	pthread_mutex_unlock(&c->lock);
	pw_err rc = series(db, env, now, out, err);
	pthread_mutex_lock(&c->lock);
	c->refreshing = false;
	if (!rc) {
		memcpy(c->pts, out, sizeof c->pts);
		c->at = now;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void pw_web_compliance_chart(struct pw_web_page *p)
{
	/* The roles that may read the compliance report; the others see no chart. */
	if (!pw_web_may(p, "GET", "/api/v1/reports/compliance"))
		return;
	pw_compliance_point pts[PW_WEB_CHART_POINTS];
	pw_error e = PW_ERROR_INIT;
	pw_web_put(p, "<section aria-labelledby=\"trend-h\"><h2 id=\"trend-h\">Compliance over "
		      "time</h2>\n");
	if (pw_web_charts_compliance(p->env->charts, p->env->db, p->env, pw_window_now(), pts,
				     &e)) {
		pw_web_message(p, "error", pw_error_text(&e));
		pw_web_put(p, "</section>\n");
		return;
	}
	char dates[PW_WEB_CHART_POINTS][PW_TS_SECONDS_LEN];
	pw_svg_point sp[PW_WEB_CHART_POINTS];
	size_t n = 0;
	for (size_t i = 0; i < PW_WEB_CHART_POINTS; i++) {
		pw_ts_seconds(pts[i].at, dates[i]);
		dates[i][10] = '\0';
		/* A week without a host in service has no share: no point. */
		if (pts[i].hosts)
			sp[n++] = (pw_svg_point){dates[i], pts[i].percent, NULL};
	}
	pw_svg_chart chart = {"trend",
			      "Compliance over time",
			      "The share of hosts in service that were compliant (patched within "
			      "the policy, no open finding past its SLA), week by week.",
			      "%",
			      720,
			      260,
			      100};
	if (!p->oom)
		p->oom = pw_svg_line_chart(&p->out->body, &chart, sp, n, &e);
	/* The figures, for a screen reader and for anyone who cannot tell the line. */
	pw_web_put(p, "<details><summary>The figures</summary><table><caption>Compliance over "
		      "time</caption><thead><tr><th scope=\"col\">date</th><th scope=\"col\">"
		      "hosts</th><th scope=\"col\">compliant</th><th scope=\"col\">compliance "
		      "(%)</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < PW_WEB_CHART_POINTS; i++) {
		char pc[16] = "-";
		if (pts[i].hosts)
			snprintf(pc, sizeof pc, "%.1f", pts[i].percent);
		pw_web_putf(p,
			    "<tr><td>%s</td><td>%" PRId64 "</td><td>%" PRId64
			    "</td><td>%s</td></tr>\n",
			    dates[i], pts[i].hosts, pts[i].compliant, pc);
	}
	pw_web_put(p, "</tbody></table></details><p><a href=\"/reports/compliance\">The compliance "
		      "report</a></p></section>\n");
}
