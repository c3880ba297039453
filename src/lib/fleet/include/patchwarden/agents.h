/* The server side of the agent protocol (docs/protocol.md): enrollment
 * tokens, per-agent credentials, check-ins (inventory by content hash,
 * idempotent results, leased jobs) and job creation.
 *
 * Secrets (enrollment tokens, agent credentials) are 256-bit random
 * values; the database keeps their SHA-256 and compares in constant
 * time, so authenticating an agent costs one indexed lookup and no
 * Argon2. An agent reads and writes only its own host: its jobs, its
 * results, its inventory. Operator actions (tokens, jobs), enrollments
 * and check-ins that deliver results or an inventory write audit events
 * in the transaction of the change; a check-in that only reports an
 * unchanged inventory does not (it is recorded in hosts.last_seen), so
 * the hot path never waits for the audit chain. */
#ifndef PATCHWARDEN_AGENTS_H
#define PATCHWARDEN_AGENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/hosts.h"

struct cJSON;

/* ---- enrollment tokens ("pwe_<id>.<64 hex>") -------------------------- */

#define PW_ENROLL_TOKEN_MAX 96

/* A token valid for `uses` enrollments (1: single use) during
 * `ttl_seconds`. `token` receives the token, shown only now. */
pw_err pw_enroll_token_create(pw_db *db, const char *actor, const char *label, int64_t uses,
			      int64_t ttl_seconds, char token[PW_ENROLL_TOKEN_MAX], int64_t *id,
			      pw_error *err);
pw_err pw_enroll_token_revoke(pw_db *db, const char *actor, int64_t id, pw_error *err);

typedef struct pw_enroll_token {
	int64_t id;
	char *label;
	int64_t uses_total, uses_left;
	char *expires, *created, *created_by;
	char *revoked; /* NULL unless revoked */
} pw_enroll_token;

/* {"id", "label", "uses_total", "uses_left", "expires", "created",
 * "created_by", "revoked"}: `user enroll-token list --json` and
 * GET /api/v1/enroll-tokens. NULL when out of memory. */
struct cJSON *pw_enroll_token_to_json(const pw_enroll_token *t);

typedef struct pw_enroll_token_list {
	pw_enroll_token *v;
	size_t n, cap;
} pw_enroll_token_list;

#define PW_ENROLL_TOKEN_LIST_INIT {NULL, 0, 0}

pw_err pw_enroll_token_list_all(pw_db *db, pw_enroll_token_list *out, pw_error *err);
void pw_enroll_token_list_release(pw_enroll_token_list *l);

/* ---- enrollment and agent credentials --------------------------------- */

#define PW_AGENT_ID_MAX 32    /* "ag_" + 16 hex digits */
#define PW_CREDENTIAL_MAX 112 /* "<agent id>.<64 hex>" */

/* What an agent sends to enroll. token, hostname and machine_id are
 * required; the rest may be NULL. */
typedef struct pw_enroll_request {
	const char *token;
	const char *hostname;
	const char *machine_id; /* /etc/machine-id: identifies the host across re-installs of the agent */
	const char *os_id, *os_version_id, *os_codename, *os_pretty_name;
	const char *arch;
	/* The credential the agent holds, when it has one: proves that a
	 * re-key comes from the host's own agent. NULL when it has none. */
	const char *credential;
} pw_enroll_request;

typedef struct pw_enrollment {
	char agent_id[PW_AGENT_ID_MAX];
	char credential[PW_CREDENTIAL_MAX]; /* shown only now */
	int64_t host_id;
	bool rekeyed; /* the host existed with another agent, whose credential is now revoked */
	bool adopted; /* the host was one an operator entered, without an agent until now */
	/* A re-key waiting for an operator (pw_agent_rekey_decide): the
	 * credential works once it is approved. */
	bool pending;
} pw_enrollment;

/* Uses one enrollment of the token and issues a new agent credential.
 * The hostname is checked and stored as pw_host_name_check does; a name
 * another host holds (in any case) is PW_ERR_CONFLICT.
 * A machine_id seen before re-keys that host (same host id, a new agent
 * id; the old credential stops working and the old agent's leased jobs
 * are offered again), audited as "agent.rekey", when the host has no live
 * agent or req->credential is that agent's. Otherwise (a re-installed
 * agent, or anyone who read the world-readable /etc/machine-id) the re-key
 * waits for an operator: out->pending, the host and its agent unchanged
 * until pw_agent_rekey_decide, audited as "agent.rekey_request"; a newer
 * request replaces an older one. A new machine_id adopts
 * the host an operator entered under the hostname (any case; pw_host_create,
 * CSV import) that no agent has had, keeping its operator fields
 * ("agent.adopt"), else gets a new host ("agent.enroll"); when a host
 * enrolled from another machine_id has the name, the enrollment is
 * PW_ERR_CONFLICT and spends no use of the token. A wrong, unknown, revoked, expired or used-up
 * token is PW_ERR_AUTH with a message saying which (the secret is
 * checked first, so only its holder learns the token's state). */
pw_err pw_agent_enroll(pw_db *db, const pw_enroll_request *req, pw_enrollment *out,
		       pw_error *err);

/* A re-key waiting for an operator's decision. */
typedef struct pw_rekey_request {
	char agent_id[PW_AGENT_ID_MAX];   /* the new agent's, waiting */
	char current[PW_AGENT_ID_MAX];    /* the host's live agent, which approval revokes */
	char hostname[256];               /* the name the new agent reports */
	char requested[32];               /* when */
	int64_t enroll_token_id;
} pw_rekey_request;

/* The host's pending re-key: *found false when there is none. */
pw_err pw_agent_rekey_pending(pw_db *db, int64_t host_id, pw_rekey_request *out, bool *found,
			      pw_error *err);

/* {"agent_id", "current_agent_id", "hostname", "requested", "enroll_token"}
 * for `host show --json` and the API; NULL when out of memory. */
struct cJSON *pw_rekey_request_to_json(const pw_rekey_request *r);

/* One host as `host show --json` and GET /api/v1/hosts/{id} give it:
 * pw_host_to_json plus "pending_rekey" (an object or null). */
pw_err pw_host_show_json(pw_db *db, const pw_host *h, struct cJSON **out, pw_error *err);

/* An operator's decision on the host's pending re-key, audited as
 * "agent.rekey_approve" or "agent.rekey_refuse". Approval makes the new
 * agent the host's (its reported name and OS too; a name another host
 * took meanwhile is PW_ERR_CONFLICT) and revokes the old one, whose
 * leased jobs are offered again; refusal revokes the new agent. No
 * pending re-key is PW_ERR_NOTFOUND. */
pw_err pw_agent_rekey_decide(pw_db *db, const char *actor, int64_t host_id, bool approve,
			     pw_error *err);

/* An authenticated agent. */
typedef struct pw_agent {
	char id[PW_AGENT_ID_MAX];
	int64_t host_id;
	/* The host's check-in state as pw_agent_authenticate read it, kept
	 * for the next pw_agent_checkin with this struct only (it clears
	 * `fresh`): so an unchanged check-in right after authentication reads
	 * the database once and writes it once. */
	bool fresh;
	bool jobs_waiting; /* open jobs for the host */
	char inventory_hash[65]; /* the host's, "" when it has none */
	int64_t seq_high; /* the highest result seq stored from this agent, 0 for none */
} pw_agent;

/* Checks "<agent id>.<secret>" (the Bearer credential): malformed,
 * unknown, wrong or revoked is PW_ERR_AUTH, and so is the credential of a
 * re-key still waiting for approval (the message says so). One indexed
 * lookup. */
pw_err pw_agent_authenticate(pw_db *db, const char *credential, pw_agent *out, pw_error *err);

/* ---- check-in --------------------------------------------------------- */

typedef struct pw_job_result {
	int64_t job_id;
	int64_t seq;          /* the agent's own numbering, 1, 2, 3, ... */
	const char *status;   /* "ok" or "failed" */
	const char *started;  /* timestamps as the agent reports them; may be NULL */
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
	const char *inventory_hash;      /* required: pw_inventory_hash of what the agent has */
	const struct cJSON *inventory;   /* the inventory object, or NULL when only the hash is sent */
	const pw_job_result *results;
	size_t n_results;
	size_t max_jobs;       /* jobs to hand out at most; 0: PW_CHECKIN_MAX_JOBS */
	int64_t lease_seconds; /* how long a handed-out job waits for its result; 0: PW_JOB_LEASE */
	const pw_inventory_refusal *refused; /* NULL: none */
	/* Jobs leased to this agent that it gives back: it could not keep
	 * their results (its spool is full or unwritable). */
	const int64_t *release;
	size_t n_release;
} pw_checkin;

#define PW_CHECKIN_INIT {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, 0}
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
	int64_t seq_high; /* the highest result seq stored from this agent, 0 for none */
	bool need_inventory; /* the server does not know inventory_hash: send the inventory */
	pw_job_offer *jobs;  /* by id */
	size_t n_jobs;
	/* The host has another inventory since this check-in (sent now, or
	 * content the server knew): its findings are out of date. */
	bool inventory_changed;
	size_t n_released; /* of `release`, the jobs queued again */
} pw_checkin_reply;

#define PW_CHECKIN_REPLY_INIT {NULL, 0, NULL, 0, 0, false, NULL, 0, false, 0}
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
pw_err pw_agent_checkin(pw_db *db, pw_agent *agent, const pw_checkin *req,
			pw_checkin_reply *reply, pw_error *err);

/* ---- jobs ------------------------------------------------------------- */

/* Queues a job for a host: `kind` from the job-kind table (jobkind.h),
 * `args_json` a JSON object its schema accepts, or NULL ({}). */
pw_err pw_job_create(pw_db *db, const char *actor, int64_t host_id, const char *kind,
		     const char *args_json, int64_t *id, pw_error *err);

#endif
