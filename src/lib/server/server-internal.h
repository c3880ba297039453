/* What the route handlers (routes.c) share with the dispatcher (api.c),
 * and the HTTP transport (server.c) with the findings scheduler
 * (scheduler.c). Not public API. */
#ifndef PATCHWARDEN_SERVER_INTERNAL_H
#define PATCHWARDEN_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/compliance.h"
#include "patchwarden/coverage.h"
#include "patchwarden/error.h"
#include "patchwarden/routes.h"
#include "patchwarden/server.h"
#include "patchwarden/session.h"
#include "patchwarden/web.h"

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

/* The hosts' coverage as the server's settings judge it ([feeds] store,
 * the check-in interval, stale_checkins): the list routes', the
 * compliance report's and the fleet chart's. Outside a transaction. */
pw_err pw_api_coverage_load(const pw_api_env *env, pw_coverage_ctx *cov, pw_error *e);

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

/* ---- the web console's pages (web*.c) ----------------------------------- */

/* One console request being answered: web.c has the plumbing (the
 * page's head, escaping, running a route as the session's user, JSON as
 * tables); each area's pages are in their own file (web_fleet.c,
 * web_hosts.c, web_campaigns.c, web_tickets.c, web_audit.c,
 * web_admin.c, web_login.c). */
struct pw_web_page {
	const pw_api_env *env;
	const struct pw_web_request *rq;
	struct pw_web_response *out;
	pw_session s;
	pw_api_identity who;
	bool in;    /* logged in */
	pw_err oom; /* an append failed */
};

#define PW_WEB_MSG 512
#define PW_WEB_COOKIE "pw_session"

void pw_web_put(struct pw_web_page *p, const char *s);
void pw_web_putf(struct pw_web_page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Escaped text: the one way a value reaches a page. */
void pw_web_esc(struct pw_web_page *p, const char *s);
/* The page's head (status, title, the navigation for the user's role)
 * and its end. */
void pw_web_head(struct pw_web_page *p, int status, const char *title);
void pw_web_foot(struct pw_web_page *p);
/* A result in words ("Error: ...", "Done: ...", "Verified: ..."), not
 * only in colour; cls "error", "ok" or "verified". */
void pw_web_message(struct pw_web_page *p, const char *cls, const char *text);
/* The outcome a form's redirect names (?done=CODE) in words, from the
 * page's own n pairs {code, text}: never the query's text itself, so a
 * link from elsewhere cannot put words of its choosing on the page. */
void pw_web_done(struct pw_web_page *p, const char *const said[][2], size_t n);
void pw_web_error_page(struct pw_web_page *p, int status, const char *text);
void pw_web_redirect(struct pw_web_page *p, const char *to);
/* Runs `method path` as the session's user with the query and JSON
 * body given; the reply's JSON in *out (NULL on an error, whose message
 * goes to msg). Returns the status. A role the route does not let in
 * is refused with the API's own 403 before the handler runs. */
int pw_web_call(struct pw_web_page *p, const char *method, const char *path,
		const pw_query_param *q, size_t nq, const char *body, struct cJSON **out, char *msg,
		size_t msize);
/* A form's change: runs `method path` with the JSON body `b` (consumed;
 * NULL: no body) and returns the reply, or NULL after an error page
 * (the API's refusal). pw_web_act then redirects to `to`. */
struct cJSON *pw_web_send(struct pw_web_page *p, const char *method, const char *path,
			  struct cJSON *b);
void pw_web_act(struct pw_web_page *p, const char *method, const char *path, struct cJSON *b,
		const char *to);
/* The JSON of `GET path` for a page, or NULL after an error page. */
struct cJSON *pw_web_page_data(struct pw_web_page *p, const char *path);
/* Whether the route `method path` lets the session's role in: pages
 * offer no form for what the role may not do. */
bool pw_web_may(const struct pw_web_page *p, const char *method, const char *path);
/* JSON as HTML: a table of an array of objects (the column `link_key`
 * links to link_prefix + the row's `link_id`), an object as a <dl>
 * (without member `skip`), any value. */
void pw_web_table(struct pw_web_page *p, const struct cJSON *arr, const char *caption,
		  const char *link_key, const char *link_prefix, const char *link_id);
/* The same with a last column of each row's forms, by `actions`. */
void pw_web_table_actions(struct pw_web_page *p, const struct cJSON *arr, const char *caption,
			  const char *link_key, const char *link_prefix, const char *link_id,
			  void (*actions)(struct pw_web_page *p, const struct cJSON *row));
void pw_web_dl(struct pw_web_page *p, const struct cJSON *o, const char *skip);
void pw_web_value(struct pw_web_page *p, const struct cJSON *v);
/* "/prefix/<id>" or "/prefix/<id>/<rest>" (skip: the prefix's length):
 * the id, 0 when malformed; *rest the text after it. */
int64_t pw_web_path_id(const char *path, size_t skip, const char **rest);
/* A query parameter of the request, NULL when absent. */
const char *pw_web_query(const struct pw_web_request *rq, const char *key);
/* Appends a query value, percent-encoded but for unreserved bytes. */
void pw_web_url_value(struct pw_web_page *p, const char *v);
void pw_web_hidden(struct pw_web_page *p, const char *name, const char *v);
/* The session's CSRF token as a hidden field: every form that changes
 * something carries it. */
void pw_web_csrf(struct pw_web_page *p);
/* A JSON object's string member, "" when absent. */
const char *pw_web_str(const struct cJSON *o, const char *key);

/* ---- the console's charts (web_chart.c) ---------------------------------- */

/* The compliance chart's weekly points, the report's trend's (a quarter:
 * 13 weeks, 14 points), and how long a node draws the same ones
 * (seconds): the series moves by the week. */
#define PW_WEB_CHART_POINTS 14
#define PW_WEB_CHART_TTL 300

typedef struct pw_web_charts pw_web_charts;
pw_web_charts *pw_web_charts_new(int ttl);
void pw_web_charts_free(pw_web_charts *c);
/* The compliance series as of `now`: the stored one while younger than
 * the ttl (or while another thread computes its successor), else computed
 * and stored, the hosts' coverage judged by `env`'s settings (NULL: every
 * host counts as covered). c NULL: computed each time. Thread-safe. */
pw_err pw_web_charts_compliance(pw_web_charts *c, pw_db *db, const pw_api_env *env, int64_t now,
				pw_compliance_point out[PW_WEB_CHART_POINTS], pw_error *err);
/* The fleet page's chart section with its figures, for the roles that
 * may read the compliance report (nothing for the others). */
void pw_web_compliance_chart(struct pw_web_page *p);

/* The pages, by area. ids are the path's; f the posted form. */
void pw_web_fleet(struct pw_web_page *p);
void pw_web_reports_compliance(struct pw_web_page *p);
void pw_web_reports_compliance_csv(struct pw_web_page *p);
void pw_web_hosts(struct pw_web_page *p);
void pw_web_host(struct pw_web_page *p, int64_t id);
void pw_web_host_set(struct pw_web_page *p, int64_t id, const struct pw_form *f);
void pw_web_cves(struct pw_web_page *p);
void pw_web_campaigns(struct pw_web_page *p);
void pw_web_campaign(struct pw_web_page *p, int64_t id);
void pw_web_campaign_new(struct pw_web_page *p);
void pw_web_campaign_create(struct pw_web_page *p, const struct pw_form *f);
void pw_web_actions(struct pw_web_page *p);
void pw_web_step(struct pw_web_page *p, int64_t id, const struct pw_form *f);
void pw_web_tickets(struct pw_web_page *p);
void pw_web_ticket(struct pw_web_page *p, int64_t id);
/* A host's tickets, for its page. */
void pw_web_host_tickets(struct pw_web_page *p, int64_t host_id);
void pw_web_audit(struct pw_web_page *p);
void pw_web_admin(struct pw_web_page *p);
void pw_web_admin_post(struct pw_web_page *p, const char *what, const struct pw_form *f);
/* The page a login goes back to (a link in a mail lands on /login when
 * its reader has no session): `v` when it is a path of this server - one
 * leading '/', no "//", no scheme or backslash, only the characters of
 * the console's paths - so that no link can send who logs in to another
 * site; NULL otherwise (the fleet page). */
const char *pw_web_login_next(const char *v);
/* The login form, carrying `next` (pw_web_login_next's) when set. */
void pw_web_login_form(struct pw_web_page *p, int status, const char *error, const char *next);
void pw_web_login(struct pw_web_page *p, const struct pw_form *f);
void pw_web_logout(struct pw_web_page *p);

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
