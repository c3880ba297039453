/* The HTTP/JSON API as data: one declarative table of routes (method,
 * path, who may call it, body limit, the audit event it writes, the
 * handler), from which the server routes, authorizes and limits
 * requests, docs/api.md is generated (`patchwarden server --routes-md`)
 * and the authorization test derives what every role must get.
 *
 * Requests are handled independently of the transport: server.c feeds
 * them in from libmicrohttpd; tests and the fuzzer call pw_api_handle
 * directly. Handling is stateless: everything lives in the database, so
 * any number of server nodes can share one PostgreSQL. */
#ifndef PATCHWARDEN_ROUTES_H
#define PATCHWARDEN_ROUTES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/buf.h"
#include "patchwarden/checkin.h"
#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/json_limits.h"
#include "patchwarden/session.h"
#include "patchwarden/users.h"

typedef enum pw_route_access {
	PW_ACCESS_PUBLIC = 0, /* anyone; an Authorization header is ignored */
	PW_ACCESS_ENROLL,     /* anyone; the enrollment token in the body is the credential */
	PW_ACCESS_AGENT,      /* an agent credential (Bearer ag_<id>.<secret>) */
	PW_ACCESS_USER, /* a user's API token (Bearer pwt_<id>.<secret>) with a role in `roles` */
} pw_route_access;

#define PW_ROLE_BIT(r) (1u << (r))
#define PW_ROLES_ALL ((1u << PW_ROLE__COUNT) - 1u)

/* Settings the handlers use, from the [server] section. */
typedef struct pw_api_settings {
	int64_t checkin_interval; /* seconds, told to agents */
	int64_t job_lease;        /* seconds a handed-out job waits for its result */
	pw_json_limits json;
	/* A gzip body (Content-Encoding: gzip, agent routes) may inflate to
	 * this many bytes; its compressed size counts against the route's
	 * body_max as it arrives. */
	size_t inflated_max;
	/* For the hosts' coverage (coverage.h): the feed store ([feeds] store;
	 * NULL: the server's database) and [feeds] stale_checkins (0: 3). */
	const char *feed_store;
	int64_t stale_checkins;
	/* [policy] SLA days per priority (pw_priority order, policy.h), for
	 * the fleet summary; -1: the default. */
	int sla_days[4];
	/* The web console's sessions and logins. */
	pw_session_limits session;
} pw_api_settings;

#define PW_API_INFLATED_MAX_DEFAULT (32u << 20)
#define PW_API_SETTINGS_INIT                                                                       \
	{                                                                                          \
		900, PW_JOB_LEASE, PW_JSON_LIMITS_DEFAULT, PW_API_INFLATED_MAX_DEFAULT, NULL, 0,   \
			{-1, -1, -1, -1}, PW_SESSION_LIMITS_DEFAULT                                \
	}

/* Who is calling, once authenticated. */
typedef enum pw_identity_kind {
	PW_ID_NONE = 0,
	PW_ID_USER,
	PW_ID_AGENT,
} pw_identity_kind;

typedef struct pw_api_identity {
	pw_identity_kind kind;
	pw_principal user; /* PW_ID_USER */
	pw_agent agent;    /* PW_ID_AGENT */
	char actor[96];    /* audit actor and access-log name: "user:alice", "agent:ag_…", "-" */
} pw_api_identity;

typedef struct pw_query_param {
	const char *key, *value;
} pw_query_param;

/* What a handler produces: a status and a JSON body. */
#define PW_ALLOW_MAX 48

typedef struct pw_api_response {
	int status;
	pw_buf body;
	const char *content_type; /* NULL: application/json */
	char allow[PW_ALLOW_MAX]; /* 405: the methods the path takes ("GET, POST") */
	pw_error detail; /* 5xx: the cause, for the server's log; clients get a generic message */
} pw_api_response;

#define PW_API_RESPONSE_INIT                                                                       \
	{                                                                                          \
		0, PW_BUF_INIT, NULL, {0}, PW_ERROR_INIT                                           \
	}
void pw_api_response_release(pw_api_response *r);

struct pw_api_ctx; /* a request being handled (api_internal.h) */
typedef void (*pw_route_handler)(struct pw_api_ctx *ctx);

/* What a route reads and writes besides JSON. Errors are JSON always. */
typedef enum pw_route_format {
	PW_FORMAT_JSON = 0,      /* a JSON body (if any) and reply */
	PW_FORMAT_CSV_BODY,      /* a text/csv body, handed to the handler as it is; a JSON reply */
	PW_FORMAT_CSV_REPLY,     /* a text/csv reply */
	PW_FORMAT_METRICS_REPLY, /* Prometheus' text format (metrics.h) */
} pw_route_format;

/* A reply in plain text rather than JSON: CSV or metrics. */
#define PW_FORMAT_TEXT_REPLY(f) ((f) == PW_FORMAT_CSV_REPLY || (f) == PW_FORMAT_METRICS_REPLY)

#define PW_CSV_TYPE "text/csv; charset=utf-8"

typedef struct pw_route {
	const char *method; /* "GET", "POST", "PATCH", "DELETE" */
	const char *path;   /* "/api/v1/hosts/{id}": {id} is a positive integer (see below) */
	pw_route_access access;
	unsigned roles;  /* PW_ACCESS_USER: PW_ROLE_BIT set of the roles allowed */
	size_t body_max; /* largest accepted body in bytes; 0: no body */
	pw_route_format format;
	int ok_status;     /* 200 or 201 */
	const char *audit; /* the audit action a successful call writes; NULL: changes nothing */
	pw_route_handler handler;
	const char *summary;
	const char *query;            /* documented query parameters, or NULL */
	const char *request_example;  /* JSON (CSV for PW_FORMAT_CSV_BODY); "<…>" marks values to
					 fill in */
	const char *response_example; /* JSON (CSV for PW_FORMAT_CSV_REPLY) */
} pw_route;

/* The table, in documentation order. */
const pw_route *pw_routes(size_t *n);

/* A path has at most this many numeric {…} parameters
 * ("/hosts/{id}/jobs/{job}"), and at most one text parameter: {cve} (a
 * CVE id) or {advisory} (an advisory id), each with its grammar (text.h). */
#define PW_ROUTE_IDS 2
#define PW_ROUTE_NAME_MAX 64

/* A request's path parameters: the numeric ones (positive integers) in
 * id[] in order, 0 for those it does not have; the text one in name as
 * sent, "" when none. A longer text is cut after PW_ROUTE_NAME_MAX + 1
 * bytes, so it stays too long: pw_api_run answers 400 naming the
 * parameter before any handler sees one that does not fit its grammar. */
typedef struct pw_route_args {
	int64_t id[PW_ROUTE_IDS];
	char name[PW_ROUTE_NAME_MAX + 2];
} pw_route_args;

/* The route for method and path (no query). NULL when there is none;
 * *status is then 404 (no such path) or 405 (the path exists with other
 * methods, which `allow` lists). *args gets the path's {…} values. */
const pw_route *pw_route_find(const char *method, const char *path, pw_route_args *args,
			      int *status, char allow[PW_ALLOW_MAX]);

/* Where handlers run. write_lock, when set (SQLite), serialises the
 * state-changing calls of this process, so writers queue on a mutex
 * instead of sleeping in SQLite's busy handler. */
typedef struct pw_api_env {
	pw_db *db;
	const pw_api_settings *settings;
	pthread_mutex_t *write_lock;
	/* Called after a check-in gave a host another inventory, or an
	 * operator changed its exposure (which the priorities depend on):
	 * the server queues the recompute of its findings; NULL: nothing to
	 * do. It must not fail or slow the request, so it returns nothing. */
	void (*findings_stale)(void *ctx, int64_t host_id);
	void *hook_ctx;
	struct pw_metrics *metrics; /* this node's counters (GET /metrics); NULL in tests */
} pw_api_env;

/* Step 1, before the body is read: authenticates the Authorization
 * header as the route requires. False: *resp holds the 401/403/5xx. */
bool pw_api_authorize(const pw_api_env *env, const pw_route *route, const char *authorization,
		      pw_api_identity *who, pw_api_response *resp);

/* Whether a body of `len` bytes is within the route's limit; false:
 * *resp holds the 413. Checked on Content-Length and as the body
 * arrives, and again by pw_api_run. */
bool pw_api_body_fits(const pw_route *route, size_t len, pw_api_response *resp);

/* Step 2: parses the body within the limits and runs the handler. `body`
 * must be NUL-terminated at body[len]. */
void pw_api_run(const pw_api_env *env, const pw_route *route, const pw_route_args *args,
		const pw_api_identity *who, const pw_query_param *query, size_t n_query,
		const char *body, size_t len, pw_api_response *resp);

/* Step 2 for a body sent with a Content-Encoding header (`encoding`;
 * NULL or "identity": none): "gzip" on a route with agent access is
 * inflated up to settings->inflated_max (beyond: 413, damaged: 400) and
 * run; any other encoding, or gzip elsewhere, is a 415. */
void pw_api_run_encoded(const pw_api_env *env, const pw_route *route, const pw_route_args *args,
			const pw_api_identity *who, const pw_query_param *query, size_t n_query,
			const char *encoding, const char *body, size_t len, pw_api_response *resp);

/* Both steps plus routing, for tests and the fuzzer. */
typedef struct pw_api_call {
	const char *method, *path, *authorization; /* authorization may be NULL */
	const pw_query_param *query;
	size_t n_query;
	const char *body; /* NUL-terminated; NULL: none */
	size_t body_len;
	const char *content_encoding; /* NULL: none */
} pw_api_call;

void pw_api_handle(const pw_api_env *env, const pw_api_call *call, pw_api_response *resp);

/* An error response: {"error":{"code":…,"message":…}}. */
void pw_api_error(pw_api_response *resp, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The error code word for a status ("bad_request" for 400, ...). */
const char *pw_api_error_code(int status);

/* Whether a route lets in a caller: `who` NULL means no credential. The
 * status a well-formed call gets: ok_status, 401 or 403. */
int pw_route_expected_status(const pw_route *route, const pw_api_identity *who);

/* docs/api.md, generated from the table. */
pw_err pw_routes_markdown(pw_buf *out);

#endif
