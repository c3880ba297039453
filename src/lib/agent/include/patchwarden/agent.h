/* The host agent's side of the protocol (docs/protocol.md): enrollment,
 * check-ins over HTTPS with libcurl, the jobs it runs and the results it
 * keeps in its spool (patchwarden/spool.h) until the server acknowledges
 * them. The library never prints: each check-in fills a
 * pw_agent_cycle_report that the front end logs.
 *
 * State directory (default PW_AGENT_STATE_DIR, created 0700):
 *   credential   0600 JSON: server URL, CA file, agent id, credential
 *   state        JSON: last acknowledged inventory hash, need_inventory,
 *                check-in interval, time of the last good check-in, the
 *                server's last 413 to an inventory (inventory_refused)
 *   machine-id   made once when the host has no /etc/machine-id
 *   spool/       results not yet acknowledged
 *   feeds.db     the default feed store scan jobs read (filled by
 *                `patchwarden feed sync`); without one a scan job fails
 *                saying so, with the inventory attached
 *
 * Transport security: https URLs are always verified (peer and host
 * name) against the CA file given, or the system's CAs. Plain http is
 * accepted only with `insecure` AND a loopback host (127.0.0.0/8, ::1,
 * localhost): for tests against a local server; `insecure` never turns
 * certificate verification off. */
#ifndef PATCHWARDEN_AGENT_H
#define PATCHWARDEN_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/error.h"
#include "patchwarden/execjob.h"

struct cJSON;

#define PW_AGENT_STATE_DIR "/var/lib/patchwarden-agent"
#define PW_AGENT_TIMEOUT 60           /* seconds per request */
#define PW_AGENT_DEFAULT_INTERVAL 900 /* until the server tells one */

/* Settings from flags and the [agent] section; strings are borrowed. */
typedef struct pw_agent_conf {
	const char *state_dir;  /* NULL: PW_AGENT_STATE_DIR */
	const char *server;     /* base URL; NULL: the one saved at enrollment */
	const char *ca_file;    /* NULL: the one saved at enrollment, else the system's */
	const char *root;       /* system whose inventory is reported; NULL: "/" */
	const char *feed_store; /* advisory data for scan jobs; NULL: STATE_DIR/feeds.db */
	bool insecure;          /* allow http:// to a loopback host */
	long timeout;           /* seconds per request; 0: PW_AGENT_TIMEOUT */
	size_t spool_max;       /* bytes; 0: PW_SPOOL_DEFAULT_MAX */
	/* [agent] health_check and backup_check for the executor's jobs
	 * (executor.h says their forms); NULL: none configured */
	const char *health_check;
	const char *backup_check;
} pw_agent_conf;

/* clang-format off */
#define PW_AGENT_CONF_INIT {NULL, NULL, NULL, NULL, NULL, false, 0, 0, NULL, NULL}
/* clang-format on */

/* PW_ERR_INVALID with the reason when `url` is not one the agent may
 * use (see the transport rules above). */
pw_err pw_agent_check_url(const char *url, bool insecure, pw_error *err);

/* Enrolls this host with an enrollment token and saves the credential
 * (0600) in the state directory. *agent_id gets the new id (caller
 * frees). The credential of an earlier enrollment in the state directory
 * goes along as proof that this is the host's agent; without it the server
 * may keep the re-key waiting for an operator: *pending (may be NULL) then,
 * and the new credential works once the operator approves. */
pw_err pw_agent_client_enroll(const pw_agent_conf *conf, const char *token, char **agent_id,
			      bool *pending, pw_error *err);

typedef struct pw_agent_client pw_agent_client;

/* Loads the credential and state and opens the spool. PW_ERR_NOTFOUND
 * with "run patchwarden agent enroll" when the host is not enrolled. */
pw_err pw_agent_client_open(const pw_agent_conf *conf, pw_agent_client **out, pw_error *err);
void pw_agent_client_close(pw_agent_client *c);

/* What one check-in did, for the log. */
typedef struct pw_agent_cycle_report {
	bool sent_inventory;
	char inventory_hash[65];
	/* The running processes' facts (runtime.h): sent when their hash
	 * changed since the server took them; runtime_error says why they
	 * could not be read ("" when they were). */
	bool sent_runtime;
	char runtime_hash[65];
	char runtime_error[PW_ERROR_MSG_MAX];
	size_t results_sent;
	size_t results_acked;
	size_t results_quarantined; /* damaged spool files moved aside */
	/* Results the server holds others under their seq (the counter went
	 * back): kept and renumbered above its high-water mark, sent next. */
	size_t results_renumbered;
	/* Spooled results the server refused as too large (413), each
	 * replaced by a failed result saying so (job_error has the last). */
	size_t results_refused;
	size_t jobs_run;
	size_t jobs_failed;               /* could not be run or their result not spooled */
	size_t spooled;                   /* results waiting after this check-in */
	long interval;                    /* seconds until the next regular check-in */
	char job_error[PW_ERROR_MSG_MAX]; /* the last job problem, "" if none */
	/* Why the inventory could not be read ("" when it was): the check-in
	 * then carries the last acknowledged hash and jobs fail with this. */
	char inventory_error[PW_ERROR_MSG_MAX];
	/* The server refuses this inventory as too large (a 413, now or
	 * within PW_AGENT_REFUSED_RETRY before): the check-in went without
	 * it, saying so (inventory_refused); "" when not. */
	char inventory_refused[PW_ERROR_MSG_MAX];
	size_t jobs_released; /* leases given back: their results could not be spooled */
	/* A reboot job started ("reboot started for job N; ...") or reported
	 * after boot ("back after the reboot of job N: ..."); "" when neither. */
	char reboot[PW_ERROR_MSG_MAX];
} pw_agent_cycle_report;

/* Seconds before an inventory the server refused (413) is uploaded
 * again, unless it changes first. */
#define PW_AGENT_REFUSED_RETRY (6 * 3600)
/* Check-in bodies from this size on are sent gzip-compressed. */
#define PW_AGENT_GZIP_FROM (64u * 1024)

/* One check-in: reads the inventory (when it cannot but a hash was
 * acknowledged before, goes on without it: see inventory_error), sends
 * its hash (and the inventory itself when the server has not
 * acknowledged that hash or asked for it), the spooled results in seq
 * order, deletes the acknowledged ones, renumbers those in conflict
 * (results_renumbered), raises its counter above the highest seq the
 * server has stored from it (so it never numbers a result the server
 * would take for one it has), runs the jobs handed out and spools their
 * results (sent with the next check-in). A transfer or server failure
 * leaves the spool as it was.
 * A body of PW_AGENT_GZIP_FROM bytes or more goes gzip-compressed. When
 * the server answers 413 to a body with the inventory, the check-in is
 * made again at once without it, telling the server why
 * (inventory_refused), and the inventory is not sent again before
 * PW_AGENT_REFUSED_RETRY unless it changes: a host whose inventory is
 * over the server's limit keeps checking in and getting jobs. A job
 * whose result cannot be spooled (spool full, disk full) is given back
 * to the server at once (or with the next check-in) rather than held
 * until its lease runs out. */
pw_err pw_agent_client_checkin(pw_agent_client *c, pw_agent_cycle_report *rep, pw_error *err);

/* The hook executor jobs (simulate, patch, hold, ...) run through:
 * `fn(ctx, ...)` instead of pw_executor_run in this process (the
 * default; fn NULL restores it). The privilege-separated agent sets one
 * that asks its privileged parent. */
void pw_agent_client_set_exec(pw_agent_client *c, pw_exec_fn fn, void *ctx);

/* The agent's id, server and spool size, for `agent status`. */
const char *pw_agent_client_id(const pw_agent_client *c);
const char *pw_agent_client_server(const pw_agent_client *c);
size_t pw_agent_client_spooled(const pw_agent_client *c);
const char *pw_agent_client_acked_hash(const pw_agent_client *c);
const char *pw_agent_client_last_checkin(const pw_agent_client *c);
long pw_agent_client_interval(const pw_agent_client *c);

/* The longest string the server takes in a check-in by default
 * (json_max_string), counted as sent: JSON escapes included. */
#define PW_AGENT_OUTPUT_STRING_MAX 65536

/* Fits a job's output to the server's string limit instead of losing the
 * result: every string value whose JSON form (escapes included) is
 * longer than `max` bytes keeps its tail, where a failing command says
 * why, behind a marker "[the first N bytes were cut]\n", and then fits.
 * The cut falls between UTF-8 characters. *cut (may be NULL) gets the
 * number of strings cut. `max` below 256 is PW_ERR_INVALID. */
pw_err pw_agent_fit_output(struct cJSON *output, size_t max, size_t *cut, pw_error *err);

/* The next wait in seconds: `interval` ±10% after a good check-in;
 * after `failures` failed ones in a row, 2^failures seconds capped at
 * the interval, ±10%. `r` is a uniform random number in [0, 1). */
double pw_agent_next_delay(long interval, unsigned failures, double r);

#endif
