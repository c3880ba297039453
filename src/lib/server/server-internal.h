/* What the route handlers (routes.c) share with the dispatcher (api.c),
 * and the HTTP transport (server.c) with the findings scheduler
 * (scheduler.c). Not public API. */
#ifndef PATCHWARDEN_SERVER_INTERNAL_H
#define PATCHWARDEN_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/error.h"
#include "patchwarden/routes.h"
#include "patchwarden/server.h"

struct cJSON;

/* One request being handled. */
struct pw_api_ctx {
	const pw_api_env *env;
	const pw_route *route;
	int64_t id;       /* {id} in the path, 0 when the path has none */
	int64_t sub_id;   /* the path's second parameter ({job}), 0 when it has none */
	const char *name; /* {cve}, {advisory}: checked by its grammar; "" when none */
	const pw_api_identity *who;
	const pw_query_param *query;
	size_t n_query;
	const struct cJSON *body; /* the parsed body; NULL for routes without one */
	const char *text;         /* PW_FORMAT_CSV_BODY: the body as sent, NUL-terminated */
	size_t text_len;
	pw_api_response *resp;
};

/* Replies with the route's ok_status and `obj` (consumed). */
void pw_api_reply(struct pw_api_ctx *c, struct cJSON *obj);
/* Replies with the route's ok_status and a text (consumed) in the
 * route's format: JSON, CSV for PW_FORMAT_CSV_REPLY, Prometheus' text for
 * PW_FORMAT_METRICS_REPLY. */
void pw_api_reply_buf(struct pw_api_ctx *c, pw_buf *text);
/* Replies with the status a library error calls for: 400 for bad input,
 * 401 refused credentials, 404, 409 conflicts, 413, 503 a busy database,
 * else 500 (the message then goes to the server log only). */
void pw_api_fail(struct pw_api_ctx *c, pw_err rc, const pw_error *err);
/* 500 for out of memory while building a reply. */
void pw_api_oom(struct pw_api_ctx *c);

/* Body members. A wrong type or length is a 400 naming the member; the
 * functions then return false. `max` bounds string length in bytes. */
bool pw_api_body_str(struct pw_api_ctx *c, const struct cJSON *obj, const char *key, bool required,
		     size_t max, const char **out);
bool pw_api_body_int(struct pw_api_ctx *c, const struct cJSON *obj, const char *key, bool required,
		     int64_t min, int64_t max, int64_t *out);
/* The body must be an object; true when it is. */
bool pw_api_body_object(struct pw_api_ctx *c);

/* A query parameter as an integer in [min, max], `def` when absent;
 * false after a 400. */
bool pw_api_query_int(struct pw_api_ctx *c, const char *key, int64_t def, int64_t min, int64_t max,
		      int64_t *out);

/* A query parameter's value: NULL when absent, "" when given without one. */
const char *pw_api_query_str(const struct pw_api_ctx *c, const char *key);

/* Appends s as a JSON string literal (quotes included); NULL as null. */
pw_err pw_api_json_str(pw_buf *b, const char *s);

/* The campaign and ticket handlers (routes_campaign.c), for the table. */
void pw_h_campaigns(struct pw_api_ctx *c);
void pw_h_campaign(struct pw_api_ctx *c);
void pw_h_campaign_create(struct pw_api_ctx *c);
void pw_h_campaign_step(struct pw_api_ctx *c);
void pw_h_tickets(struct pw_api_ctx *c);
void pw_h_ticket(struct pw_api_ctx *c);

/* The report handlers (routes_report.c), for the table. */
void pw_h_report_compliance(struct pw_api_ctx *c);
void pw_h_report_compliance_csv(struct pw_api_ctx *c);

/* ---- the web console's assets (web_assets.c) ---------------------------- */

typedef struct pw_web_asset {
	const char *ext, *content_type, *text;
	size_t len;
} pw_web_asset;

/* "/static/pw-<hash>.css" for "css", the script's for "js". */
const char *pw_web_asset_path(const char *ext);
/* The asset at `path`, NULL when none. */
const pw_web_asset *pw_web_asset_find(const char *path);

/* ---- the transport and the findings scheduler -------------------------- */

/* A line for the server's log (cfg.log), escaped (log.h); nothing when
 * the server has no log. */
void pw_server_log(struct pw_server *s, pw_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The node's counters (metrics.h), for the scheduler. */
struct pw_metrics *pw_server_metrics(struct pw_server *s);

/* A thread that waits on `wake` under `*lock` between rounds of work
 * until `stopping` is set: the findings scheduler and the request
 * watchdog. */
struct pw_worker {
	pthread_mutex_t *lock;
	pthread_cond_t wake; /* on CLOCK_MONOTONIC, for timed waits */
	bool stopping;       /* read and set under *lock */
	pthread_t thread;
	bool started;
};

void pw_worker_init(struct pw_worker *w, pthread_mutex_t *lock);
/* Runs fn(arg); `what` names the thread in the error. */
pw_err pw_worker_start(struct pw_worker *w, void *(*fn)(void *), void *arg, const char *what,
		       pw_error *err);
/* Stops the thread when it runs (sets stopping, wakes it, waits for it
 * to end) and releases `wake`. */
void pw_worker_end(struct pw_worker *w);

/* The findings scheduler: one thread that computes the findings of the
 * hosts queued to it and, every feeds.recompute_interval seconds, of
 * the fleet when the feed store has a newer snapshot. */
struct pw_scheduler;

/* A scheduler that takes hosts (pw_scheduler_stale) at once and works
 * on them from pw_scheduler_start on. `cfg` and `server` (its log) must
 * outlive it. */
pw_err pw_scheduler_new(const pw_server_config *cfg, struct pw_server *server,
			struct pw_scheduler **out, pw_error *err);
pw_err pw_scheduler_start(struct pw_scheduler *s, pw_error *err);
/* Queues a host whose findings are out of date (pw_api_env's
 * findings_stale hook; `ctx` is the scheduler). Never waits for a scan. */
void pw_scheduler_stale(void *ctx, int64_t host_id);
/* Stops the thread, waiting for a recompute in progress; hosts still
 * queued are left to the next snapshot or their next change. NULL is
 * a no-op. */
void pw_scheduler_free(struct pw_scheduler *s);

/* The notifier thread (notifier.c): delivers the outbox at [notify]
 * interval from now on. `cfg` and `server` must outlive it. */
struct pw_notifier;
pw_err pw_notifier_start(const pw_server_config *cfg, struct pw_server *server,
			 struct pw_notifier **out, pw_error *err);
/* Stops it after the delivery in progress. NULL is fine. */
void pw_notifier_free(struct pw_notifier *n);

#endif
