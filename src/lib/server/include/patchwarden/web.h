/* The web console (issue 15): server-rendered pages for the people who
 * do not use the CLI, served by `patchwarden server` next to the API.
 * Pages get their data by running the API's own routes (routes.c) as
 * the logged-in user, so the roles, rules and library calls are the
 * API's: the console has no second implementation of any of them. */
#ifndef PATCHWARDEN_WEB_H
#define PATCHWARDEN_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/buf.h"
#include "patchwarden/error.h"
#include "patchwarden/routes.h"

/* Appends s with & < > " ' escaped, for text and quoted attribute
 * values alike; NULL appends nothing. Every value a page shows goes
 * through it. */
pw_err pw_html_escape(pw_buf *b, const char *s);

/* An application/x-www-form-urlencoded body, decoded. */
#define PW_FORM_MAX 32
typedef struct pw_form {
	size_t n;
	const char *key[PW_FORM_MAX], *value[PW_FORM_MAX];
	char *store; /* the decoded keys and values */
} pw_form;

/* PW_ERR_INVALID for a malformed %-escape, a decoded NUL byte or more
 * than PW_FORM_MAX fields; *out is then empty. */
pw_err pw_form_parse(const char *s, size_t len, pw_form *out, pw_error *err);
/* The first value of key, NULL when absent. */
const char *pw_form_get(const pw_form *f, const char *key);
void pw_form_release(pw_form *f);

/* The value of cookie `name` in a Cookie header, copied to out (false
 * when absent or longer than size - 1). */
bool pw_cookie_get(const char *header, const char *name, char *out, size_t size);

/* Whether a path is the console's rather than the API's. */
bool pw_web_owns(const char *path);

typedef struct pw_web_request {
	const char *method, *path;
	const pw_query_param *query;
	size_t n_query;
	const char *cookie;       /* the Cookie header, NULL when none */
	const char *content_type; /* NULL when none */
	const char *body;         /* NUL-terminated */
	size_t body_len;
	const char *client;  /* the peer's address, for the audit log */
	bool secure_cookies; /* false only for plain HTTP on loopback */
} pw_web_request;

typedef struct pw_web_response {
	int status;
	pw_buf body;
	const char *content_type;
	const char *cache_control;
	const char *csp; /* NULL: pw_web_csp */
	char set_cookie[256];
	char location[256];
	char actor[96]; /* "user:alice" once logged in, for the access log */
} pw_web_response;

#define PW_WEB_RESPONSE_INIT                                                                       \
	{                                                                                          \
		0, PW_BUF_INIT, NULL, NULL, NULL, {0}, {0},                                        \
		{                                                                                  \
			0                                                                          \
		}                                                                                  \
	}
void pw_web_response_release(pw_web_response *r);

/* The headers every console reply carries: a CSP without inline
 * script, no framing, no sniffing, no referrer. */
extern const char pw_web_csp[];

/* The largest body a console form may send. */
#define PW_WEB_BODY_MAX (64u << 10)

void pw_web_handle(const pw_api_env *env, const pw_web_request *rq, pw_web_response *out);

#endif
