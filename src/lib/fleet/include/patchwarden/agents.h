/* The server side of the agent protocol (docs/protocol.md): enrollment
 * tokens, enrollment and per-agent credentials. Check-ins (inventory by
 * content hash, idempotent results, leased jobs) are in checkin.h, job
 * creation in jobs.h.
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

/* clang-format off */
#define PW_ENROLL_TOKEN_LIST_INIT {NULL, 0, 0}
/* clang-format on */

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
	const char *machine_id; /* /etc/machine-id: identifies the host across re-installs of the
				   agent */
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
pw_err pw_agent_enroll(pw_db *db, const pw_enroll_request *req, pw_enrollment *out, pw_error *err);

/* A re-key waiting for an operator's decision. */
typedef struct pw_rekey_request {
	char agent_id[PW_AGENT_ID_MAX]; /* the new agent's, waiting */
	char current[PW_AGENT_ID_MAX];  /* the host's live agent, which approval revokes */
	char hostname[256];             /* the name the new agent reports */
	char requested[32];             /* when */
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
	bool jobs_waiting;       /* open jobs for the host */
	char inventory_hash[65]; /* the host's, "" when it has none */
	int64_t seq_high;        /* the highest result seq stored from this agent, 0 for none */
} pw_agent;

/* Checks "<agent id>.<secret>" (the Bearer credential): malformed,
 * unknown, wrong or revoked is PW_ERR_AUTH, and so is the credential of a
 * re-key still waiting for approval (the message says so). One indexed
 * lookup. */
pw_err pw_agent_authenticate(pw_db *db, const char *credential, pw_agent *out, pw_error *err);

#endif
