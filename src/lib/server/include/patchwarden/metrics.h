/* The server's metrics in Prometheus' text format (GET /metrics):
 * counters kept in memory by this node (requests by route and status with
 * latency histograms, database errors, scheduler runs) and gauges read
 * from the database when scraped (jobs by kind and state, hosts by
 * coverage state, open findings by priority, the feed snapshot's age).
 * Counters are per node and start at zero, as Prometheus expects; the
 * gauges are the fleet's, the same from every node. */
#ifndef PATCHWARDEN_METRICS_H
#define PATCHWARDEN_METRICS_H

#include <stddef.h>

#include "patchwarden/buf.h"
#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/findings.h"

typedef struct pw_metrics pw_metrics;

#define PW_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The scheduler's kinds of work, each counted with its time. */
typedef enum pw_sched_task {
	PW_SCHED_FINDINGS_CHANGED,  /* hosts whose inventory changed */
	PW_SCHED_FINDINGS_SNAPSHOT, /* the fleet against a newer snapshot */
	PW_SCHED_JOB_DEADLINES,     /* reboots and windows past their time */
	PW_SCHED__COUNT
} pw_sched_task;

/* Counters for the routes of pw_routes(); NULL when out of memory. */
pw_metrics *pw_metrics_new(void);
void pw_metrics_free(pw_metrics *m);

/* One answered request: `route` from the route table (NULL: no route
 * matched), the status sent, the time from its first byte to its reply.
 * Lock-free: called from every worker thread. */
void pw_metrics_request(pw_metrics *m, const void *route, int status, double seconds);
/* A request failed on the database (unreachable, busy, read-only, full). */
void pw_metrics_db_error(pw_metrics *m);
void pw_metrics_scheduler(pw_metrics *m, pw_sched_task task, double seconds);

/* Appends the exposition: the counters, then the gauges from `db` (the
 * coverage and summary rules of `fc`). A database error is returned and
 * nothing of the gauges is appended. */
pw_err pw_metrics_render(pw_metrics *m, pw_db *db, const pw_findings_config *fc, pw_buf *out,
			 pw_error *err);

#endif
