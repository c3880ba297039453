#include "patchwarden/metrics.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/routes.h"
#include "patchwarden/sql.h"
#include "patchwarden/summary.h"

/* The statuses the API sends (docs/api.md); any other counts as "other".
 * A fixed set keeps the counters a flat array updated without a lock. */
static const int codes[] = {200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503};
#define N_CODES (sizeof codes / sizeof codes[0] + 1)

/* Seconds: from a cached read to a big check-in or a fleet export. */
static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				0.1,   0.25,   0.5,   1,    2.5,   10};
#define N_BOUNDS (sizeof bounds / sizeof bounds[0])

static const char *const task_names[PW_SCHED__COUNT] = {
	[PW_SCHED_FINDINGS_CHANGED] = "findings_changed",
	[PW_SCHED_FINDINGS_SNAPSHOT] = "findings_snapshot",
	[PW_SCHED_JOB_DEADLINES] = "job_deadlines",
};

/* Per route (and one more slot for requests no route matched): counts by
 * status, histogram buckets (not cumulative: summed when written), the
 * latency sum in microseconds. */
struct route_counters {
	uint64_t by_code[N_CODES];
	uint64_t bucket[N_BOUNDS + 1];
	uint64_t sum_us;
};

struct pw_metrics {
	const pw_route *routes;
	size_t n_routes;
	struct route_counters *r; /* n_routes + 1 */
	uint64_t db_errors;
	uint64_t sched_runs[PW_SCHED__COUNT];
	uint64_t sched_us[PW_SCHED__COUNT];
};

static void add(uint64_t *c, uint64_t v)
{
	__atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

pw_metrics *pw_metrics_new(void)
{
	pw_metrics *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->routes = pw_routes(&m->n_routes);
	m->r = calloc(m->n_routes + 1, sizeof *m->r);
	if (!m->r) {
		free(m);
		return NULL;
	}
	return m;
}

void pw_metrics_free(pw_metrics *m)
{
	if (!m)
		return;
	free(m->r);
	free(m);
}

static uint64_t micros(double seconds)
{
	return seconds > 0 ? (uint64_t)(seconds * 1e6 + 0.5) : 0;
}

void pw_metrics_request(pw_metrics *m, const void *route, int status, double seconds)
{
	if (!m)
		return;
	const pw_route *rt = route;
	size_t i = rt && rt >= m->routes && rt < m->routes + m->n_routes ? (size_t)(rt - m->routes)
									 : m->n_routes;
	size_t c = 0;
	while (c < N_CODES - 1 && codes[c] != status)
		c++;
	size_t b = 0;
	while (b < N_BOUNDS && seconds > bounds[b])
		b++;
	add(&m->r[i].by_code[c], 1);
	add(&m->r[i].bucket[b], 1);
	add(&m->r[i].sum_us, micros(seconds));
}

void pw_metrics_db_error(pw_metrics *m)
{
	if (m)
		add(&m->db_errors, 1);
}

void pw_metrics_scheduler(pw_metrics *m, pw_sched_task task, double seconds)
{
	if (!m || task >= PW_SCHED__COUNT)
		return;
	add(&m->sched_runs[task], 1);
	add(&m->sched_us[task], micros(seconds));
}

static pw_err head(pw_buf *out, const char *name, const char *type, const char *help)
{
	return pw_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric with one value and no labels. */
static pw_err single(pw_buf *out, const char *name, const char *type, const char *help, int64_t v)
{
	pw_err rc = head(out, name, type, help);
	return rc ? rc : pw_buf_printf(out, "%s %" PRId64 "\n", name, v);
}

/* Route paths need no escaping in a label value (no backslash, quote or
 * newline: they come from the route table). */
static void route_labels(const pw_metrics *m, size_t i, const char **method, const char **path)
{
	*method = i < m->n_routes ? m->routes[i].method : "-";
	*path = i < m->n_routes ? m->routes[i].path : "unmatched";
}

static pw_err render_requests(const pw_metrics *m, pw_buf *out)
{
	pw_err rc = head(out, "patchwarden_http_requests_total", "counter",
			 "HTTP requests answered by this node, by route and status code.");
	for (size_t i = 0; i <= m->n_routes && !rc; i++) {
		const char *method, *path;
		route_labels(m, i, &method, &path);
		for (size_t c = 0; c < N_CODES && !rc; c++) {
			uint64_t v = get(&m->r[i].by_code[c]);
			char code[8] = "other";
			if (c < N_CODES - 1)
				snprintf(code, sizeof code, "%d", codes[c]);
			if (v)
				rc = pw_buf_printf(out,
						   "patchwarden_http_requests_total{method=\"%s\","
						   "route=\"%s\",code=\"%s\"} %" PRIu64 "\n",
						   method, path, code, v);
		}
	}
	if (!rc)
		rc = head(out, "patchwarden_http_request_duration_seconds", "histogram",
			  "Time from a request's arrival to its reply, by route.");
	for (size_t i = 0; i <= m->n_routes && !rc; i++) {
		const char *method, *path;
		route_labels(m, i, &method, &path);
		uint64_t total = 0;
		for (size_t b = 0; b <= N_BOUNDS; b++)
			total += get(&m->r[i].bucket[b]);
		if (!total)
			continue;
		uint64_t cum = 0;
		for (size_t b = 0; b <= N_BOUNDS && !rc; b++) {
			cum += get(&m->r[i].bucket[b]);
			char le[16] = "+Inf";
			if (b < N_BOUNDS)
				snprintf(le, sizeof le, "%g", bounds[b]);
			rc = pw_buf_printf(
				out,
				"patchwarden_http_request_duration_seconds_bucket{method="
				"\"%s\",route=\"%s\",le=\"%s\"} %" PRIu64 "\n",
				method, path, le, cum);
		}
		if (!rc)
			rc = pw_buf_printf(
				out,
				"patchwarden_http_request_duration_seconds_sum{method=\"%s\","
				"route=\"%s\"} %.6f\n"
				"patchwarden_http_request_duration_seconds_count{method=\"%s\","
				"route=\"%s\"} %" PRIu64 "\n",
				method, path, (double)get(&m->r[i].sum_us) / 1e6, method, path,
				cum);
	}
	return rc;
}

/* Successful calls of one route: check-ins and enrollments. */
static uint64_t successes(const pw_metrics *m, const char *method, const char *path)
{
	uint64_t n = 0;
	for (size_t i = 0; i < m->n_routes; i++)
		if (!strcmp(m->routes[i].method, method) && !strcmp(m->routes[i].path, path))
			for (size_t c = 0; c < N_CODES - 1; c++)
				if (codes[c] < 300)
					n += get(&m->r[i].by_code[c]);
	return n;
}

static pw_err render_counters(const pw_metrics *m, pw_buf *out)
{
	pw_err rc = render_requests(m, out);
	if (!rc)
		rc = single(out, "patchwarden_agent_checkins_total", "counter",
			    "Agent check-ins this node accepted.",
			    (int64_t)successes(m, "POST", "/api/v1/agents/checkin"));
	if (!rc)
		rc = single(out, "patchwarden_agent_enrollments_total", "counter",
			    "Agent enrollments (and re-keys) this node accepted.",
			    (int64_t)successes(m, "POST", "/api/v1/agents/enroll"));
	if (!rc)
		rc = single(out, "patchwarden_db_errors_total", "counter",
			    "Requests that failed on the database (unreachable, busy, read-only, "
			    "full).",
			    (int64_t)get(&m->db_errors));
	if (!rc)
		rc = head(out, "patchwarden_scheduler_run_duration_seconds", "summary",
			  "The scheduler's runs on this node and their time, by task.");
	for (int t = 0; t < PW_SCHED__COUNT && !rc; t++)
		rc = pw_buf_printf(out,
				   "patchwarden_scheduler_run_duration_seconds_sum{task=\"%s\"} "
				   "%.6f\n"
				   "patchwarden_scheduler_run_duration_seconds_count{task=\"%s\"} "
				   "%" PRIu64 "\n",
				   task_names[t], (double)get(&m->sched_us[t]) / 1e6, task_names[t],
				   get(&m->sched_runs[t]));
	return rc;
}

static pw_err render_jobs(pw_db *db, pw_buf *out, pw_error *err)
{
	pw_stmt *st = NULL;
	pw_err rc = pw_sql(db,
			   "SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state"
			   " ORDER BY kind, state",
			   &st, err, "");
	if (!rc)
		rc = head(out, "patchwarden_jobs", "gauge", "Jobs by kind and state.");
	bool row = false;
	while (!rc && !(rc = pw_stmt_step(st, &row, err)) && row)
		/* Kinds and states are the job-kind table's words: no escaping. */
		rc = pw_buf_printf(out, "patchwarden_jobs{kind=\"%s\",state=\"%s\"} %" PRId64 "\n",
				   pw_stmt_text(st, 0), pw_stmt_text(st, 1), pw_stmt_int(st, 2));
	if (st)
		pw_stmt_reset(st);
	return rc;
}

static pw_err render_fleet(pw_db *db, const pw_findings_config *fc, pw_buf *out, pw_error *err)
{
	pw_fleet_summary s;
	pw_err rc = pw_fleet_summary_get(db, fc, &s, err);
	if (!rc)
		rc = head(out, "patchwarden_hosts", "gauge", "Hosts in service by coverage state.");
	for (int c = 0; c < PW_COVERAGE__COUNT && !rc; c++)
		rc = pw_buf_printf(out, "patchwarden_hosts{coverage=\"%s\"} %" PRId64 "\n",
				   pw_host_coverage_name((pw_host_coverage)c), s.coverage[c]);
	if (!rc)
		rc = head(out, "patchwarden_findings_open", "gauge",
			  "Open findings of all hosts by priority.");
	for (int p = 0; p < PW_HOST_PRIO__COUNT && !rc; p++)
		rc = pw_buf_printf(out, "patchwarden_findings_open{priority=\"%s\"} %" PRId64 "\n",
				   pw_host_prio_name((pw_host_prio)p), s.open[p]);
	if (!rc)
		rc = single(out, "patchwarden_hosts_past_sla", "gauge",
			    "Hosts with an open finding past its SLA or KEV due date.", s.past_sla);
	if (!rc)
		rc = head(out, "patchwarden_feed_snapshot_age_seconds", "gauge",
			  "Age of the newest feed snapshot; absent until feeds are imported.");
	if (!rc && s.snapshot)
		rc = pw_buf_printf(out, "patchwarden_feed_snapshot_age_seconds %" PRId64 "\n",
				   s.snapshot_age_seconds);
	return rc;
}

pw_err pw_metrics_render(pw_metrics *m, pw_db *db, const pw_findings_config *fc, pw_buf *out,
			 pw_error *err)
{
	pw_buf gauges = PW_BUF_INIT;
	pw_err rc = render_jobs(db, &gauges, err);
	if (!rc)
		rc = render_fleet(db, fc, &gauges, err);
	if (rc) {
		pw_buf_release(&gauges);
		return rc;
	}
	rc = m ? render_counters(m, out) : PW_OK; /* none in unit tests */
	if (!rc)
		rc = pw_buf_append(out, gauges.data, gauges.len);
	pw_buf_release(&gauges);
	return rc ? pw_error_set(err, PW_ERR_NOMEM, "out of memory writing the metrics") : PW_OK;
}
