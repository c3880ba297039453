/* An enrolled agent's check-in (docs/protocol.md): its job results,
 * stored once per (agent, seq); its inventory, by content hash; a
 * refusal of its inventory; jobs it gives back; and the jobs leased to
 * it. The agent authenticates first (pw_agent_authenticate, agents.h).
 * Check-ins that deliver results or an inventory write their audit event
 * in their own transaction; an unchanged one does not, so the hot path
 * never waits for the audit chain. */
#ifndef PATCHWARDEN_CHECKIN_H
#define PATCHWARDEN_CHECKIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/agents.h"
#include "patchwarden/db.h"
#include "patchwarden/error.h"

struct cJSON;

typedef struct pw_job_result {
	int64_t job_id;
	int64_t seq;         /* the agent's own numbering, 1, 2, 3, ... */
	const char *status;  /* "ok" or "failed" */
	const char *started; /* timestamps as the agent reports them; may be NULL */
	const char *finished;
	bool has_exit_code;
	int64_t exit_code;
	const char *output_json; /* JSON text or NULL */
} pw_job_result;

/* An agent's report that the server refused its inventory (the one of
 * the check-in's inventory_hash) with a 413: the check-in that carries
 * it comes without the inventory, so that the host keeps checking in. */
typedef struct pw_inventory_refusal {
	int64_t size;         /* bytes of the inventory's JSON */
	int64_t sent;         /* bytes of the body as sent (compressed) */
	const char *encoding; /* "gzip" or "identity" */
	const char *at;       /* when (the agent's clock), a timestamp */
	int64_t limit;        /* the server's limit that applied, bytes (the caller's) */
} pw_inventory_refusal;

typedef struct pw_checkin {
	const char *inventory_hash; /* required: pw_inventory_hash of what the agent has */
	const struct cJSON
		*inventory; /* the inventory object, or NULL when only the hash is sent */
	const pw_job_result *results;
	size_t n_results;
	size_t max_jobs;       /* jobs to hand out at most; 0: PW_CHECKIN_MAX_JOBS */
	int64_t lease_seconds; /* how long a handed-out job waits for its result; 0: PW_JOB_LEASE */
	const pw_inventory_refusal *refused; /* NULL: none */
	/* Jobs leased to this agent that it gives back: it could not keep
	 * their results (its spool is full or unwritable). */
	const int64_t *release;
	size_t n_release;
	/* What the host's running processes use (runtime.h), when the agent
	 * sends it (it changed since the server last took it); NULL: the
	 * host keeps the facts it has (an agent older than them sends none). */
	const struct cJSON *runtime;
} pw_checkin;

/* clang-format off */
#define PW_CHECKIN_INIT {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, 0, NULL}
/* clang-format on */
#define PW_CHECKIN_MAX_RELEASE 1000
#define PW_CHECKIN_MAX_JOBS 16
#define PW_JOB_LEASE (2 * 3600)

typedef struct pw_job_offer {
	int64_t id;
	char kind[16];   /* "scan", "inventory" */
	char *args_json; /* a JSON object */
} pw_job_offer;

typedef struct pw_checkin_reply {
	int64_t *ack; /* result seqs stored (now or before), ascending */
	size_t n_ack;
	/* Result seqs the server holds another result under (another job or
	 * other content): not stored; the agent renumbers them above
	 * seq_high. Ascending. */
	int64_t *conflict;
	size_t n_conflict;
	int64_t seq_high;    /* the highest result seq stored from this agent, 0 for none */
	bool need_inventory; /* the server does not know inventory_hash: send the inventory */
	pw_job_offer *jobs;  /* by id */
	size_t n_jobs;
	/* The host has another inventory since this check-in (sent now, or
	 * content the server knew), or other runtime facts: its findings are
	 * out of date. */
	bool inventory_changed;
	size_t n_released; /* of `release`, the jobs queued again */
} pw_checkin_reply;

/* clang-format off */
#define PW_CHECKIN_REPLY_INIT {NULL, 0, NULL, 0, 0, false, NULL, 0, false, 0}
/* clang-format on */
void pw_checkin_reply_release(pw_checkin_reply *r);

/* One check-in of an authenticated agent, atomic:
 * - updates the host's last_seen (PW_ERR_AUTH if the agent was re-keyed
 *   away from its host meanwhile);
 * - stores each result once by (agent, seq) and acknowledges it; a
 *   result equal to the one stored under its seq before (same job,
 *   status, times, exit code and output: a resend after a lost reply) is
 *   acknowledged again and not stored twice; another result under a
 *   used seq (the agent's counter went back: a deleted counter file, a
 *   state directory restored from a backup) is a conflict, neither
 *   stored nor acknowledged, so the agent keeps it and renumbers it
 *   above seq_high; a result for a job of another host is PW_ERR_AUTH
 *   and nothing of the check-in is kept;
 * - with results or an inventory: appends the audit event
 *   "agent.checkin" (each result with "resent" or "conflict" when it was
 *   not stored now) in the same transaction;
 * - with an inventory: checks that it hashes to inventory_hash
 *   (PW_ERR_INVALID otherwise), stores it once per hash and makes it the
 *   host's; with only a hash: need_inventory unless the server knows
 *   that content (from this host or any other);
 * - with `refused`: records on the host (inventory_refused) that its
 *   agent's inventory is over the server's limit, until a check-in
 *   without a refusal; the host keeps the inventory it had;
 * - leases up to max_jobs open jobs of the host to this agent: queued
 *   ones and those whose lease ran out without a result. A job goes to
 *   one check-in at a time, also across server nodes (PostgreSQL: FOR
 *   UPDATE SKIP LOCKED);
 * - reports seq_high, on every check-in: the agent never numbers a
 *   result at or below it.
 * - with `release`: queues again those of the jobs that are leased to
 *   this agent (others are ignored), and hands out no jobs: the agent
 *   could not keep a result.
 * An unchanged check-in (same hash, no results, no open jobs) is one
 * UPDATE of last_seen, plus one indexed read unless `agent` comes fresh
 * from pw_agent_authenticate; anything else runs in one write
 * transaction. `reply` must be initialised (PW_CHECKIN_REPLY_INIT); it is
 * filled only on success. */
pw_err pw_agent_checkin(pw_db *db, pw_agent *agent, const pw_checkin *req, pw_checkin_reply *reply,
			pw_error *err);

#endif
