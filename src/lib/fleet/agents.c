#include "patchwarden/agents.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/audit.h"
#include "patchwarden/clock.h"
#include "patchwarden/grow.h"
#include "patchwarden/hosts.h"
#include "patchwarden/inventory.h"
#include "patchwarden/jobkind.h"
#include "patchwarden/json_limits.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/sql.h"
#include "patchwarden/text.h"
#include "patchwarden/token.h"

#define AGENT_ID_HEX 16
#define MAX_USES 1000000
#define MAX_TTL (10LL * 366 * 86400)
#define MACHINE_ID_MAX 128
#define OS_FIELD_MAX 256

/* ---- enrollment tokens ---------------------------------------------- */

struct etok_new {
	const char *actor, *label;
	int64_t uses, ttl;
	pw_token_row row;
};

static char *etok_json(int64_t id, const char *label, int64_t uses, const char *expires,
		       const char *revoked)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddNumberToObject(o, "id", (double)id) &&
		  cJSON_AddStringToObject(o, "label", label) &&
		  cJSON_AddNumberToObject(o, "uses", (double)uses) &&
		  cJSON_AddStringToObject(o, "expires", expires) &&
		  (!revoked || cJSON_AddStringToObject(o, "revoked", revoked));
	char *s = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}

static pw_err audit_etok(pw_db *db, const char *actor, const char *action, int64_t id,
			 char *before, char *after, pw_error *err)
{
	char target[40];
	snprintf(target, sizeof target, "enroll_token:%" PRId64, id);
	pw_err rc = !after || (strcmp(action, "enroll_token.revoke") == 0 && !before)
			    ? pw_error_set(err, PW_ERR_NOMEM, "out of memory")
			    : pw_audit_append(db, actor, action, target, before, after, NULL, err);
	cJSON_free(before);
	cJSON_free(after);
	return rc;
}

static pw_err etok_create_txn(pw_db *db, void *arg, pw_error *err)
{
	struct etok_new *t = arg;
	char now[PW_TS_LEN], expires[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_ts_now(expires, t->ttl);
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db,
			   "INSERT INTO enroll_tokens (label, secret_hash, uses_total, uses_left,"
			   " expires, created, created_by) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
			   &st, err, "tbiittt", t->label, t->row.secret_hash,
			   (size_t)PW_SECRET_HASH_LEN, t->uses, t->uses, expires, now, t->actor);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	t->row.id = pw_stmt_int(st, 0);
	pw_stmt_reset(st);
	return audit_etok(db, t->actor, "enroll_token.create", t->row.id, NULL,
			  etok_json(t->row.id, t->label, t->uses, expires, NULL), err);
}

pw_err pw_enroll_token_create(pw_db *db, const char *actor, const char *label, int64_t uses,
			      int64_t ttl_seconds, char token[PW_ENROLL_TOKEN_MAX], int64_t *id,
			      pw_error *err)
{
	token[0] = '\0';
	if (!pw_text_ok(label, PW_LABEL_MAX))
		return pw_error_set(err, PW_ERR_INVALID,
				    "an enrollment token label needs 1 to %d printable characters",
				    PW_LABEL_MAX);
	if (uses < 1 || uses > MAX_USES)
		return pw_error_set(err, PW_ERR_INVALID,
				    "an enrollment token allows 1 to %d enrollments, not %" PRId64,
				    MAX_USES, uses);
	if (ttl_seconds < 1 || ttl_seconds > MAX_TTL)
		return pw_error_set(err, PW_ERR_INVALID,
				    "an enrollment token must expire within 1 second to 10 years, "
				    "not %" PRId64 " seconds",
				    ttl_seconds);
	struct etok_new t = {actor, label, uses, ttl_seconds, {NULL, 0}};
	return pw_token_issue(db, "pwe_", etok_create_txn, &t, &t.row, token, PW_ENROLL_TOKEN_MAX,
			      id, err);
}

struct etok_revoke {
	const char *actor;
	int64_t id;
};

static pw_err etok_revoke_txn(pw_db *db, void *arg, pw_error *err)
{
	struct etok_revoke *r = arg;
	pw_stmt *st;
	pw_err rc = pw_token_revocable(
		db, "SELECT label, uses_total, expires, revoked FROM enroll_tokens WHERE id = ?",
		r->id, "enrollment token", "enroll-token list", &st, err);
	if (rc)
		return rc;
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	const char *label = pw_stmt_text(st, 0), *expires = pw_stmt_text(st, 2);
	int64_t uses = pw_stmt_int(st, 1);
	char *before = etok_json(r->id, label ? label : "", uses, expires ? expires : "", NULL);
	char *after = etok_json(r->id, label ? label : "", uses, expires ? expires : "", now);
	pw_stmt_reset(st);
	rc = pw_sql(db, "UPDATE enroll_tokens SET revoked = ? WHERE id = ?", &st, err, "ti", now,
		    r->id);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (rc) {
		cJSON_free(before);
		cJSON_free(after);
		return rc;
	}
	return audit_etok(db, r->actor, "enroll_token.revoke", r->id, before, after, err);
}

pw_err pw_enroll_token_revoke(pw_db *db, const char *actor, int64_t id, pw_error *err)
{
	struct etok_revoke r = {actor, id};
	return pw_in_write_txn(db, etok_revoke_txn, &r, err);
}

void pw_enroll_token_list_release(pw_enroll_token_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		pw_enroll_token *t = &l->v[i];
		free(t->label);
		free(t->expires);
		free(t->created);
		free(t->created_by);
		free(t->revoked);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static void etok_fill(pw_stmt *st, void *item, bool *oom)
{
	pw_enroll_token *t = item;
	t->id = pw_stmt_int(st, 0);
	t->label = pw_col_dup(st, 1, oom);
	t->uses_total = pw_stmt_int(st, 2);
	t->uses_left = pw_stmt_int(st, 3);
	t->expires = pw_col_dup(st, 4, oom);
	t->created = pw_col_dup(st, 5, oom);
	t->created_by = pw_col_dup(st, 6, oom);
	t->revoked = pw_col_dup(st, 7, oom);
}

pw_err pw_enroll_token_list_all(pw_db *db, pw_enroll_token_list *out, pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "SELECT id, label, uses_total, uses_left, expires, created, created_by,"
			   " revoked FROM enroll_tokens ORDER BY id",
			   &st, err, "");
	if (rc)
		return rc;
	void *v = out->v;
	rc = pw_rows_append(st, &v, &out->n, &out->cap, sizeof *out->v, etok_fill,
			    "listing tokens", err);
	out->v = v;
	return rc;
}

/* ---- enrollment ------------------------------------------------------ */

struct enroll {
	const pw_enroll_request *req;
	const char *hostname; /* req's, checked and in lower case */
	int64_t token_id;
	const char *token_secret;
	const unsigned char *agent_hash;
	pw_enrollment *out;
};

/* Spends one use of the token, after its secret matched. */
static pw_err spend_token(pw_db *db, int64_t id, const char *secret, pw_error *err)
{
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db,
			   "SELECT secret_hash, uses_left, uses_total, expires, revoked"
			   " FROM enroll_tokens WHERE id = ?",
			   &st, err, "i", id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	size_t hlen = 0;
	const void *h = row ? pw_stmt_blob(st, 0, &hlen) : NULL;
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	const char *expires = row ? pw_stmt_text(st, 3) : NULL,
		   *revoked = row ? pw_stmt_text(st, 4) : NULL;
	if (!pw_secret_matches(h, hlen, secret))
		rc = pw_error_set(err, PW_ERR_AUTH,
				  "enrollment token pwe_%" PRId64 " is not valid (unknown token or "
				  "wrong secret); ask an admin for a new one",
				  id);
	else if (revoked)
		rc = pw_error_set(err, PW_ERR_AUTH,
				  "enrollment token pwe_%" PRId64 " was revoked at %s; ask an admin "
				  "for a new one",
				  id, revoked);
	else if (!expires || strcmp(expires, now) <= 0)
		rc = pw_error_set(err, PW_ERR_AUTH,
				  "enrollment token pwe_%" PRId64 " expired at %s; ask an admin for "
				  "a new one ('patchwarden user enroll-token create')",
				  id, expires ? expires : "an unknown time");
	else if (pw_stmt_int(st, 1) <= 0)
		rc = pw_error_set(err, PW_ERR_AUTH,
				  "enrollment token pwe_%" PRId64 " is used up (all %" PRId64
				  " enrollment(s) done); ask an admin for a new one",
				  id, pw_stmt_int(st, 2));
	pw_stmt_reset(st);
	if (rc)
		return rc;
	/* The condition again: a PostgreSQL node enrolling at the same time
	 * may have taken the last use since the SELECT. */
	rc = pw_sql(db,
		    "UPDATE enroll_tokens SET uses_left = uses_left - 1"
		    " WHERE id = ? AND uses_left > 0 AND revoked IS NULL AND expires > ?",
		    &st, err, "it", id, now);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (!rc && pw_stmt_changes(st) != 1)
		rc = pw_error_set(err, PW_ERR_AUTH,
				  "enrollment token pwe_%" PRId64 " was used up meanwhile; ask an "
				  "admin for a new one",
				  id);
	return rc;
}

/* Revokes the host's other agents; *old gets the first one's id ("" when
 * none), which makes this a re-key. */
static pw_err revoke_others(pw_db *db, int64_t host_id, const char *agent_id, const char *now,
			    char old[PW_AGENT_ID_MAX], pw_error *err)
{
	old[0] = '\0';
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "UPDATE agents SET revoked = ? WHERE host_id = ? AND id <> ?"
			   " AND revoked IS NULL RETURNING id",
			   &st, err, "tit", now, host_id, agent_id);
	for (bool row = true; !rc && row;) {
		rc = pw_stmt_step(st, &row, err);
		if (!rc && row && !old[0])
			snprintf(old, PW_AGENT_ID_MAX, "%s", pw_stmt_text(st, 0));
	}
	/* A waiting re-key of the host is moot now (its agent was revoked
	 * above). */
	if (!rc)
		rc = pw_sql(db, "DELETE FROM rekey_requests WHERE host_id = ?", &st, err, "i",
			    host_id);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (rc || !old[0])
		return rc;
	/* Jobs leased to the old agent will never get its results. */
	rc = pw_sql(db,
		    "UPDATE jobs SET state = 'queued', leased_to = NULL, lease_until = NULL"
		    " WHERE host_id = ? AND state = 'leased'",
		    &st, err, "i", host_id);
	return rc ? rc : pw_stmt_exec(st, err);
}

/* The host an enrollment of a machine_id not seen before takes over:
 * the one an operator entered under the same name (host add,
 * import-csv) that no agent has had; *id 0 when there is none. A name
 * held by a host enrolled from another machine is refused rather than
 * given a second record (which would leave the name ambiguous) or the
 * other server's record. */
static pw_err adoptable(pw_db *db, const char *name, int64_t *id, pw_error *err)
{
	*id = 0;
	pw_stmt *st = NULL;
	bool row = false;
	pw_err rc = pw_sql(db,
			   "SELECT id, machine_id FROM hosts WHERE lower(hostname) = ? ORDER BY id",
			   &st, err, "t", name);
	while (!rc) {
		rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			break;
		if (pw_stmt_is_null(st, 1)) {
			if (!*id)
				*id = pw_stmt_int(st, 0);
			continue;
		}
		rc = pw_error_set(err, PW_ERR_CONFLICT,
				  "enrollment: hostname %s belongs to host %" PRId64
				  ", enrolled from another machine (another machine_id); if this "
				  "server replaces it, rename the old record first ('patchwarden "
				  "host set id:%" PRId64 " hostname=%s-old'), then enroll again",
				  name, pw_stmt_int(st, 0), pw_stmt_int(st, 0), name);
		pw_stmt_reset(st);
	}
	return rc;
}

/* Gives the operator's host `id` to this machine and agent, keeping the
 * operator's fields (hostname included) and adding what the agent
 * reports. */
static pw_err adopt(pw_db *db, const pw_enroll_request *r, const char *agent_id, int64_t id,
		    pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "UPDATE hosts SET machine_id = ?, agent_id = ?,"
			   " os_id = COALESCE(?, os_id), os_version_id = COALESCE(?, os_version_id),"
			   " os_codename = COALESCE(?, os_codename),"
			   " os_pretty_name = COALESCE(?, os_pretty_name), arch = COALESCE(?, arch)"
			   " WHERE id = ? AND machine_id IS NULL",
			   &st, err, "ttttttti", r->machine_id, agent_id, r->os_id,
			   r->os_version_id, r->os_codename, r->os_pretty_name, r->arch, id);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	/* Another node's enrollment may have taken it since the SELECT. */
	if (!rc && pw_stmt_changes(st) != 1)
		rc = pw_error_set(err, PW_ERR_CONFLICT,
				  "enrollment: host %" PRId64 " was enrolled meanwhile; enroll again",
				  id);
	return rc;
}

/* `proof`: how a re-key showed it came from the host's agent, or NULL. */
static char *enroll_json(const struct enroll *e, const char *proof)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddStringToObject(o, "agent_id", e->out->agent_id) &&
		  cJSON_AddNumberToObject(o, "host_id", (double)e->out->host_id) &&
		  cJSON_AddStringToObject(o, "hostname", e->hostname) &&
		  cJSON_AddStringToObject(o, "machine_id", e->req->machine_id) &&
		  cJSON_AddNumberToObject(o, "enroll_token", (double)e->token_id) &&
		  (!proof || cJSON_AddStringToObject(o, "proof", proof));
	char *s = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}

/* A new host for the machine, or with a machine_id seen before, that
 * host with the name and what the agent reports now (a re-key). */
static pw_err upsert_host(pw_db *db, struct enroll *e, const char *now, pw_error *err)
{
	const pw_enroll_request *r = e->req;
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(
		db,
		"INSERT INTO hosts (hostname, machine_id, agent_id, os_id, os_version_id,"
		" os_codename, os_pretty_name, arch, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
		" ON CONFLICT (machine_id) DO UPDATE SET hostname = excluded.hostname,"
		" agent_id = excluded.agent_id,"
		" os_id = COALESCE(excluded.os_id, hosts.os_id),"
		" os_version_id = COALESCE(excluded.os_version_id, hosts.os_version_id),"
		" os_codename = COALESCE(excluded.os_codename, hosts.os_codename),"
		" os_pretty_name = COALESCE(excluded.os_pretty_name, hosts.os_pretty_name),"
		" arch = COALESCE(excluded.arch, hosts.arch)"
		" RETURNING id",
		&st, err, "ttttttttt", e->hostname, r->machine_id, e->out->agent_id, r->os_id,
		r->os_version_id, r->os_codename, r->os_pretty_name, r->arch, now);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	e->out->host_id = pw_stmt_int(st, 0);
	pw_stmt_reset(st);
	return PW_OK;
}

/* The host of a machine_id seen before (*id 0: none) and its live
 * agent, the one not revoked ("" when none). */
static pw_err known_machine(pw_db *db, const char *machine_id, int64_t *id,
			    char live[PW_AGENT_ID_MAX], pw_error *err)
{
	*id = 0;
	live[0] = '\0';
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db,
			   "SELECT h.id, a.id FROM hosts h LEFT JOIN agents a"
			   " ON a.id = h.agent_id AND a.revoked IS NULL WHERE h.machine_id = ?",
			   &st, err, "t", machine_id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc || !row)
		return rc;
	*id = pw_stmt_int(st, 0);
	snprintf(live, PW_AGENT_ID_MAX, "%s", pw_stmt_text(st, 1) ? pw_stmt_text(st, 1) : "");
	pw_stmt_reset(st);
	return PW_OK;
}

/* Whether `credential` is "<live>.<secret>" with the live agent's secret. */
static pw_err proves(pw_db *db, const char *credential, const char *live, bool *ok,
		     pw_error *err)
{
	*ok = false;
	size_t n = strlen(live);
	if (!credential || strncmp(credential, live, n) != 0 || credential[n] != '.')
		return PW_OK;
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db, "SELECT secret_hash FROM agents WHERE id = ? AND revoked IS NULL",
			   &st, err, "t", live);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc || !row)
		return rc;
	size_t hlen = 0;
	const void *h = pw_stmt_blob(st, 0, &hlen);
	*ok = pw_secret_matches(h, hlen, credential + n + 1);
	pw_stmt_reset(st);
	return PW_OK;
}

static pw_err insert_agent(pw_db *db, const struct enroll *e, const char *now, pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "INSERT INTO agents (id, host_id, secret_hash, enroll_token_id, created)"
			   " VALUES (?, ?, ?, ?, ?)",
			   &st, err, "tibit", e->out->agent_id, e->out->host_id, e->agent_hash,
			   (size_t)PW_SECRET_HASH_LEN, e->token_id, now);
	return rc ? rc : pw_stmt_exec(st, err);
}

static pw_err audit_enroll(pw_db *db, const struct enroll *e, const char *action,
			   const char *before, const char *proof, pw_error *err)
{
	char actor[48], target[32];
	snprintf(actor, sizeof actor, "enroll-token:pwe_%" PRId64, e->token_id);
	snprintf(target, sizeof target, "host:%" PRId64, e->out->host_id);
	char *after = enroll_json(e, proof);
	pw_err rc = after ? pw_audit_append(db, actor, action, target, before, after, NULL, err)
			  : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	cJSON_free(after);
	return rc;
}

/* A re-key without the live agent's credential: the new agent waits,
 * revoked again if an operator refuses or a newer request replaces it. */
static pw_err request_rekey(pw_db *db, struct enroll *e, const char *live, const char *now,
			    pw_error *err)
{
	const pw_enroll_request *r = e->req;
	int64_t host = e->out->host_id;
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "UPDATE agents SET revoked = ? WHERE id IN"
			   " (SELECT agent_id FROM rekey_requests WHERE host_id = ?)",
			   &st, err, "ti", now, host);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (!rc)
		rc = pw_sql(db, "DELETE FROM rekey_requests WHERE host_id = ?", &st, err, "i",
			    host);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (!rc)
		rc = insert_agent(db, e, now, err);
	if (!rc)
		rc = pw_sql(db,
			    "INSERT INTO rekey_requests (agent_id, host_id, hostname, os_id,"
			    " os_version_id, os_codename, os_pretty_name, arch, requested)"
			    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    &st, err, "tittttttt", e->out->agent_id, host, e->hostname, r->os_id,
			    r->os_version_id, r->os_codename, r->os_pretty_name, r->arch, now);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (rc)
		return rc;
	e->out->pending = true;
	char before[PW_AGENT_ID_MAX + 32];
	snprintf(before, sizeof before, "{\"agent_id\":\"%s\"}", live);
	return audit_enroll(db, e, "agent.rekey_request", before,
			    e->req->credential ? "wrong credential" : "none", err);
}

static pw_err enroll_txn(pw_db *db, void *arg, pw_error *err)
{
	struct enroll *e = arg;
	const pw_enroll_request *r = e->req;
	e->out->rekeyed = e->out->adopted = e->out->pending = false; /* a retried transaction */
	pw_err rc = spend_token(db, e->token_id, e->token_secret, err);
	if (rc)
		return rc;
	char now[PW_TS_LEN], live[PW_AGENT_ID_MAX];
	pw_ts_now(now, 0);
	int64_t known = 0;
	bool proven = false;
	if ((rc = known_machine(db, r->machine_id, &known, live, err)))
		return rc;
	if (known) {
		/* A re-key may rename the host, but not to another host's name. */
		char *name = NULL;
		rc = pw_host_name_check(db, e->hostname, known, &name, err);
		free(name);
		if (!rc && live[0])
			rc = proves(db, r->credential, live, &proven, err);
		if (rc) {
			pw_error_prefix(err, "enrollment: ");
			return rc;
		}
		e->out->host_id = known;
		if (live[0] && !proven)
			return request_rekey(db, e, live, now, err);
		rc = upsert_host(db, e, now, err);
	} else {
		rc = adoptable(db, e->hostname, &e->out->host_id, err);
		e->out->adopted = !rc && e->out->host_id;
		if (!rc)
			rc = e->out->adopted ? adopt(db, r, e->out->agent_id, e->out->host_id, err)
					     : upsert_host(db, e, now, err);
	}
	if (!rc)
		rc = insert_agent(db, e, now, err);
	char old[PW_AGENT_ID_MAX];
	if (!rc)
		rc = revoke_others(db, e->out->host_id, e->out->agent_id, now, old, err);
	if (rc)
		return rc;
	e->out->rekeyed = old[0] != '\0';

	char before[PW_AGENT_ID_MAX + 32];
	if (e->out->adopted)
		snprintf(before, sizeof before, "{\"agent_id\":null,\"machine_id\":null}");
	else
		snprintf(before, sizeof before, "{\"agent_id\":\"%s\"}", old);
	const char *action = e->out->rekeyed   ? "agent.rekey"
			     : e->out->adopted ? "agent.adopt"
					       : "agent.enroll";
	const char *proof = !e->out->rekeyed ? NULL : proven ? "credential" : "no live agent";
	return audit_enroll(db, e, action, e->out->rekeyed || e->out->adopted ? before : NULL,
			    proof, err);
}

static pw_err check_optional(const char *v, const char *what, size_t max, pw_error *err)
{
	if (!v || pw_text_ok(v, max))
		return PW_OK;
	return pw_error_set(err, PW_ERR_INVALID,
			    "enrollment: %s must be 1 to %zu printable characters", what, max);
}

/* *hostname gets the request's in lower case (the caller frees it). */
static pw_err check_request(const pw_enroll_request *r, char **hostname, pw_error *err)
{
	*hostname = NULL;
	if (!pw_word_ok(r->machine_id, MACHINE_ID_MAX))
		return pw_error_set(err, PW_ERR_INVALID,
				    "enrollment: machine_id must be 1 to %d printable characters "
				    "without spaces (the content of /etc/machine-id)",
				    MACHINE_ID_MAX);
	pw_err rc;
	if ((rc = check_optional(r->os_id, "os.id", OS_FIELD_MAX, err)) ||
	    (rc = check_optional(r->os_version_id, "os.version_id", OS_FIELD_MAX, err)) ||
	    (rc = check_optional(r->os_codename, "os.codename", OS_FIELD_MAX, err)) ||
	    (rc = check_optional(r->os_pretty_name, "os.pretty_name", OS_FIELD_MAX, err)) ||
	    (rc = check_optional(r->arch, "arch", 64, err)))
		return rc;
	rc = pw_host_name_check(NULL, r->hostname, 0, hostname, err);
	if (rc)
		pw_error_prefix(err, "enrollment: ");
	return rc;
}

pw_err pw_agent_enroll(pw_db *db, const pw_enroll_request *req, pw_enrollment *out,
		       pw_error *err)
{
	memset(out, 0, sizeof *out);
	struct enroll e = {req, NULL, 0, NULL, NULL, out};
	if (!pw_token_split(req->token, "pwe_", &e.token_id, &e.token_secret))
		return pw_error_set(err, PW_ERR_AUTH,
				    "not an enrollment token: expected pwe_<id>.<secret> as printed "
				    "by 'patchwarden user enroll-token create'");
	char *hostname = NULL;
	pw_err rc = check_request(req, &hostname, err);
	if (rc)
		return rc;
	e.hostname = hostname;
	char secret[PW_SECRET_HEX + 1], idhex[PW_SECRET_HEX + 1];
	if ((rc = pw_secret_new(secret, err)) || (rc = pw_secret_new(idhex, err))) {
		free(hostname);
		return rc;
	}
	snprintf(out->agent_id, sizeof out->agent_id, "ag_%.*s", AGENT_ID_HEX, idhex);
	unsigned char h[PW_SECRET_HASH_LEN];
	pw_secret_hash(secret, h);
	e.agent_hash = h;
	rc = pw_in_write_txn(db, enroll_txn, &e, err);
	if (!rc)
		snprintf(out->credential, sizeof out->credential, "%s.%s", out->agent_id, secret);
	else
		memset(out, 0, sizeof *out);
	sodium_memzero(secret, sizeof secret);
	free(hostname);
	return rc;
}

/* ---- re-keys waiting for an operator ---------------------------------- */

pw_err pw_agent_rekey_pending(pw_db *db, int64_t host_id, pw_rekey_request *out, bool *found,
			      pw_error *err)
{
	memset(out, 0, sizeof *out);
	*found = false;
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "SELECT r.agent_id, h.agent_id, r.hostname, r.requested,"
			   " a.enroll_token_id FROM rekey_requests r"
			   " JOIN agents a ON a.id = r.agent_id JOIN hosts h ON h.id = r.host_id WHERE r.host_id = ?",
			   &st, err, "i", host_id);
	if (!rc)
		rc = pw_stmt_step(st, found, err);
	if (rc || !*found)
		return rc;
	const char *cur = pw_stmt_text(st, 1);
	snprintf(out->agent_id, sizeof out->agent_id, "%s", pw_stmt_text(st, 0));
	snprintf(out->current, sizeof out->current, "%s", cur ? cur : "");
	snprintf(out->hostname, sizeof out->hostname, "%s", pw_stmt_text(st, 2));
	snprintf(out->requested, sizeof out->requested, "%s", pw_stmt_text(st, 3));
	out->enroll_token_id = pw_stmt_int(st, 4);
	pw_stmt_reset(st);
	return PW_OK;
}

cJSON *pw_rekey_request_to_json(const pw_rekey_request *r)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddStringToObject(o, "agent_id", r->agent_id) &&
		  (r->current[0] ? cJSON_AddStringToObject(o, "current_agent_id", r->current)
				 : cJSON_AddNullToObject(o, "current_agent_id")) &&
		  cJSON_AddStringToObject(o, "hostname", r->hostname) &&
		  cJSON_AddStringToObject(o, "requested", r->requested) &&
		  cJSON_AddNumberToObject(o, "enroll_token", (double)r->enroll_token_id);
	if (ok)
		return o;
	cJSON_Delete(o);
	return NULL;
}

struct decide {
	const char *actor;
	int64_t host_id;
	bool approve;
};

/* The new agent becomes the host's with what it reported at enrollment. */
static pw_err approve_rekey(pw_db *db, const struct decide *d, const pw_rekey_request *q,
			    const char *now, pw_error *err)
{
	char *name = NULL;
	pw_err rc = pw_host_name_check(db, q->hostname, d->host_id, &name, err);
	free(name);
	if (rc) {
		pw_error_prefix(err, "approving the re-key of host %" PRId64 ": ", d->host_id);
		return rc;
	}
	pw_stmt *st;
	rc = pw_sql(db,
		    "UPDATE hosts SET agent_id = r.agent_id, hostname = r.hostname,"
		    " os_id = COALESCE(r.os_id, hosts.os_id),"
		    " os_version_id = COALESCE(r.os_version_id, hosts.os_version_id),"
		    " os_codename = COALESCE(r.os_codename, hosts.os_codename),"
		    " os_pretty_name = COALESCE(r.os_pretty_name, hosts.os_pretty_name),"
		    " arch = COALESCE(r.arch, hosts.arch)"
		    " FROM rekey_requests r WHERE r.host_id = hosts.id AND hosts.id = ?",
		    &st, err, "i", d->host_id);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	char old[PW_AGENT_ID_MAX];
	return rc ? rc : revoke_others(db, d->host_id, q->agent_id, now, old, err);
}

static pw_err decide_txn(pw_db *db, void *arg, pw_error *err)
{
	const struct decide *d = arg;
	pw_rekey_request q;
	bool found = false;
	pw_err rc = pw_agent_rekey_pending(db, d->host_id, &q, &found, err);
	if (rc)
		return rc;
	if (!found)
		return pw_error_set(err, PW_ERR_NOTFOUND,
				    "host %" PRId64 " has no re-key waiting for approval",
				    d->host_id);
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_stmt *st;
	if (d->approve) {
		rc = approve_rekey(db, d, &q, now, err);
	} else {
		rc = pw_sql(db, "UPDATE agents SET revoked = ? WHERE id = ?", &st, err, "tt", now,
			    q.agent_id);
		if (!rc)
			rc = pw_stmt_exec(st, err);
		if (!rc)
			rc = pw_sql(db, "DELETE FROM rekey_requests WHERE host_id = ?", &st, err,
				    "i", d->host_id);
		if (!rc)
			rc = pw_stmt_exec(st, err);
	}
	if (rc)
		return rc;
	cJSON *before = cJSON_CreateObject(), *after = pw_rekey_request_to_json(&q);
	bool ok = before && after &&
		  (q.current[0] ? cJSON_AddStringToObject(before, "agent_id", q.current)
				: cJSON_AddNullToObject(before, "agent_id")) &&
		  cJSON_AddBoolToObject(after, "approved", d->approve);
	char *b = ok ? cJSON_PrintUnformatted(before) : NULL;
	char *a = ok ? cJSON_PrintUnformatted(after) : NULL;
	char target[32];
	snprintf(target, sizeof target, "host:%" PRId64, d->host_id);
	rc = a && b ? pw_audit_append(db, d->actor,
				      d->approve ? "agent.rekey_approve" : "agent.rekey_refuse",
				      target, b, a, NULL, err)
		    : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	cJSON_free(b);
	cJSON_free(a);
	cJSON_Delete(before);
	cJSON_Delete(after);
	return rc;
}

pw_err pw_agent_rekey_decide(pw_db *db, const char *actor, int64_t host_id, bool approve,
			     pw_error *err)
{
	struct decide d = {actor, host_id, approve};
	return pw_in_write_txn(db, decide_txn, &d, err);
}

/* ---- agent credentials ----------------------------------------------- */

/* Whether the host has jobs to hand out (a lease time as parameter),
 * written as the partial index jobs_open's condition so SQLite uses it. */
#define OPEN_JOB "state IN ('queued', 'leased') AND (state = 'queued' OR lease_until < ?)"
#define OPEN_JOBS_EXIST                                                                      \
	"CASE WHEN EXISTS (SELECT 1 FROM jobs WHERE jobs.host_id = h.id AND " OPEN_JOB           \
	") THEN 1 ELSE 0 END"

/* The highest result seq stored from an agent: one probe of the
 * primary key (agent_id, seq). */
#define SEQ_HIGH(agent)                                                                      \
	"(SELECT COALESCE(MAX(seq), 0) FROM job_results r WHERE r.agent_id = " agent ")"

/* An inventory hash column into a fixed buffer ("" for NULL or junk). */
static void copy_hash(char dst[65], const char *src)
{
	if (src && strlen(src) == 64)
		memcpy(dst, src, 65);
	else
		dst[0] = '\0';
}

static bool hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

pw_err pw_agent_authenticate(pw_db *db, const char *credential, pw_agent *out, pw_error *err)
{
	memset(out, 0, sizeof *out);
	enum { ID_LEN = 3 + AGENT_ID_HEX };
	if (!credential || strncmp(credential, "ag_", 3) != 0 ||
	    strnlen(credential, ID_LEN + 1) <= ID_LEN || credential[ID_LEN] != '.' ||
	    !hex_run(credential + 3, AGENT_ID_HEX) ||
	    strlen(credential + ID_LEN + 1) != PW_SECRET_HEX ||
	    !hex_run(credential + ID_LEN + 1, PW_SECRET_HEX))
		return pw_error_set(err, PW_ERR_AUTH,
				    "not an agent credential: expected ag_<id>.<secret> as "
				    "returned by enrollment");
	char id[PW_AGENT_ID_MAX], now[PW_TS_LEN];
	memcpy(id, credential, ID_LEN);
	id[ID_LEN] = '\0';
	pw_ts_now(now, 0);
	pw_stmt *st;
	bool row = false;
	/* The host's check-in state comes along in the same lookup. */
	pw_err rc = pw_sql(db,
			   "SELECT a.secret_hash, a.host_id, h.inventory_hash,"
			   " CASE WHEN h.agent_id = a.id THEN 1 ELSE 0 END, " OPEN_JOBS_EXIST
			   ", " SEQ_HIGH("a.id") " FROM agents a JOIN hosts h ON h.id = a.host_id"
			   " WHERE a.id = ? AND a.revoked IS NULL",
			   &st, err, "tt", now, id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	size_t hlen = 0;
	const void *h = row ? pw_stmt_blob(st, 0, &hlen) : NULL;
	bool ok = pw_secret_matches(h, hlen, credential + ID_LEN + 1);
	if (ok) {
		memcpy(out->id, id, sizeof id);
		out->host_id = pw_stmt_int(st, 1);
		copy_hash(out->inventory_hash, pw_stmt_text(st, 2));
		out->fresh = pw_stmt_int(st, 3) != 0;
		out->jobs_waiting = pw_stmt_int(st, 4) != 0;
		out->seq_high = pw_stmt_int(st, 5);
	}
	pw_stmt_reset(st);
	if (!ok)
		return pw_error_set(err, PW_ERR_AUTH,
				    "agent %s: the credential is not valid (unknown, revoked or "
				    "wrong secret); enroll the agent again",
				    id);
	/* Not the host's agent yet not revoked: only a waiting re-key is. */
	if (!out->fresh) {
		rc = pw_sql(db, "SELECT 1 FROM rekey_requests WHERE agent_id = ?", &st, err, "t",
			    id);
		if (!rc)
			rc = pw_stmt_step(st, &row, err);
		if (!rc && row) {
			pw_stmt_reset(st);
			rc = pw_error_set(err, PW_ERR_AUTH,
					  "agent %s waits for an operator to approve its re-key of "
					  "host %" PRId64 " ('patchwarden host rekey id:%" PRId64
					  " approve')",
					  id, out->host_id, out->host_id);
		}
		if (rc)
			memset(out, 0, sizeof *out);
		return rc;
	}
	return PW_OK;
}

/* ---- check-in -------------------------------------------------------- */

void pw_checkin_reply_release(pw_checkin_reply *r)
{
	for (size_t i = 0; i < r->n_jobs; i++)
		free(r->jobs[i].args_json);
	free(r->jobs);
	free(r->ack);
	free(r->conflict);
	memset(r, 0, sizeof *r);
}

enum fate { STORED, RESENT, CONFLICT };

/* What the check-in carries, checked and canonicalised before the
 * transaction so that no lock is held while JSON is parsed. */
struct checkin {
	pw_agent *agent;
	const pw_checkin *req;
	pw_checkin_reply *reply;
	pw_inventory inv;
	char *inv_json;  /* canonical text, when an inventory came */
	char *refused;   /* the host's inventory_refused, when the agent reports one */
	char **outputs;  /* compacted output_json per result */
	enum fate *fates; /* per result, what store_result did */
	char now[PW_TS_LEN];
};

static bool hash_ok(const char *h)
{
	return h && strlen(h) == PW_SECRET_HEX && hex_run(h, PW_SECRET_HEX);
}

static pw_err prepare_inventory(struct checkin *c, pw_error *err)
{
	const pw_checkin *q = c->req;
	if (!hash_ok(q->inventory_hash))
		return pw_error_set(err, PW_ERR_INVALID,
				    "check-in: inventory_hash must be 64 lowercase hex digits "
				    "(the SHA-256 of the inventory)");
	if (!q->inventory)
		return PW_OK;
	pw_err rc = pw_inventory_from_json(&c->inv, q->inventory, err);
	if (rc) {
		pw_error_prefix(err, "check-in: inventory: ");
		return rc; /* pw_error_prefix gives PW_OK when err is NULL */
	}
	char h[65];
	pw_inventory_hash(&c->inv, h);
	if (strcmp(h, q->inventory_hash) != 0)
		return pw_error_set(err, PW_ERR_INVALID,
				    "check-in: inventory_hash %s does not match the inventory sent, "
				    "whose hash is %s",
				    q->inventory_hash, h[0] ? h : "(not computable)");
	cJSON *canon = pw_inventory_to_json(&c->inv);
	char *text = canon ? cJSON_PrintUnformatted(canon) : NULL;
	cJSON_Delete(canon);
	c->inv_json = text ? strdup(text) : NULL;
	cJSON_free(text);
	if (!c->inv_json)
		return pw_error_set(err, PW_ERR_NOMEM, "check-in: out of memory");
	return PW_OK;
}

/* The host's inventory_refused text, in c->refused (NULL: none). */
static pw_err prepare_refusal(struct checkin *c, pw_error *err)
{
	const pw_inventory_refusal *r = c->req->refused;
	if (!r)
		return PW_OK;
	if (r->size < 1 || r->sent < 1 || r->limit < 0)
		return pw_error_set(err, PW_ERR_INVALID,
				    "check-in: inventory_refused: size and sent must be positive "
				    "byte counts");
	if (!r->encoding || (strcmp(r->encoding, "gzip") != 0 && strcmp(r->encoding, "identity")))
		return pw_error_set(err, PW_ERR_INVALID,
				    "check-in: inventory_refused: encoding must be \"gzip\" or "
				    "\"identity\"");
	if (!r->at || !pw_word_ok(r->at, 64))
		return pw_error_set(err, PW_ERR_INVALID,
				    "check-in: inventory_refused: at must be a timestamp");
	char text[400];
	snprintf(text, sizeof text,
		 "%s: inventory %.16s of %" PRId64 " bytes (%" PRId64 " sent, %s) refused as over "
		 "the server's limit of %" PRId64 " bytes; the host keeps its last inventory",
		 r->at, c->req->inventory_hash, r->size, r->sent, r->encoding, r->limit);
	if (!(c->refused = strdup(text)))
		return pw_error_set(err, PW_ERR_NOMEM, "check-in: out of memory");
	return PW_OK;
}

static pw_err prepare_release(const pw_checkin *q, pw_error *err)
{
	if (q->n_release > PW_CHECKIN_MAX_RELEASE)
		return pw_error_set(err, PW_ERR_INVALID,
				    "check-in: release: at most %d jobs", PW_CHECKIN_MAX_RELEASE);
	for (size_t i = 0; i < q->n_release; i++)
		if (q->release[i] < 1)
			return pw_error_set(err, PW_ERR_INVALID,
					    "check-in: release[%zu]: a job id must be positive", i);
	return PW_OK;
}

static pw_err prepare_results(struct checkin *c, pw_error *err)
{
	const pw_checkin *q = c->req;
	if (!q->n_results)
		return PW_OK;
	c->outputs = calloc(q->n_results, sizeof *c->outputs);
	c->fates = calloc(q->n_results, sizeof *c->fates);
	if (!c->outputs || !c->fates)
		return pw_error_set(err, PW_ERR_NOMEM, "check-in: out of memory");
	for (size_t i = 0; i < q->n_results; i++) {
		const pw_job_result *r = &q->results[i];
		if (r->job_id < 1 || r->seq < 1)
			return pw_error_set(err, PW_ERR_INVALID,
					    "check-in: results[%zu]: job_id and seq must be "
					    "positive",
					    i);
		if (!r->status || (strcmp(r->status, "ok") != 0 && strcmp(r->status, "failed") != 0))
			return pw_error_set(err, PW_ERR_INVALID,
					    "check-in: results[%zu] (seq %" PRId64
					    "): status must be \"ok\" or \"failed\"",
					    i, r->seq);
		if ((r->started && !pw_word_ok(r->started, 64)) ||
		    (r->finished && !pw_word_ok(r->finished, 64)))
			return pw_error_set(err, PW_ERR_INVALID,
					    "check-in: results[%zu] (seq %" PRId64
					    "): started/finished must be timestamps",
					    i, r->seq);
		char what[64];
		snprintf(what, sizeof what, "check-in: results[%zu].output", i);
		pw_err rc = pw_json_compact(r->output_json, what, &c->outputs[i], err);
		if (rc)
			return rc;
	}
	return PW_OK;
}

static bool text_eq(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

/* Whether the result stored under result i's seq is result i itself,
 * sent again after a lost reply, rather than another one numbered by an
 * agent whose counter went back. Compared whole, not by a digest: the
 * stored row is at hand, and this runs only when a seq is used again. */
static pw_err is_resend(pw_db *db, struct checkin *c, size_t i, bool *same, pw_error *err)
{
	const pw_job_result *r = &c->req->results[i];
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db,
			   "SELECT job_id, status, started, finished, exit_code, output"
			   " FROM job_results WHERE agent_id = ? AND seq = ?",
			   &st, err, "ti", c->agent->id, r->seq);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	*same = row && pw_stmt_int(st, 0) == r->job_id && text_eq(pw_stmt_text(st, 1), r->status) &&
		text_eq(pw_stmt_text(st, 2), r->started) &&
		text_eq(pw_stmt_text(st, 3), r->finished) &&
		(pw_stmt_is_null(st, 4) ? !r->has_exit_code
					: r->has_exit_code && pw_stmt_int(st, 4) == r->exit_code) &&
		text_eq(pw_stmt_text(st, 5), c->outputs[i]);
	if (row)
		pw_stmt_reset(st);
	return PW_OK;
}

static pw_err store_result(pw_db *db, struct checkin *c, size_t i, pw_error *err)
{
	const pw_job_result *r = &c->req->results[i];
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db, "SELECT host_id FROM jobs WHERE id = ?", &st, err, "i", r->job_id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	bool mine = row && pw_stmt_int(st, 0) == c->agent->host_id;
	pw_stmt_reset(st);
	if (!mine)
		return pw_error_set(err, PW_ERR_AUTH,
				    "check-in: results[%zu] (seq %" PRId64 "): job %" PRId64
				    " is not a job of host %" PRId64,
				    i, r->seq, r->job_id, c->agent->host_id);
	rc = pw_sql(db,
		    "INSERT INTO job_results (agent_id, seq, job_id, host_id, status, started,"
		    " finished, exit_code, output, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		    " ON CONFLICT (agent_id, seq) DO NOTHING",
		    &st, err, "tiiitttitt", c->agent->id, r->seq, r->job_id, c->agent->host_id,
		    r->status, r->started, r->finished, r->exit_code, c->outputs[i], c->now);
	if (!rc && !r->has_exit_code)
		rc = pw_stmt_bind_null(st, 8);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (rc)
		return rc;
	if (pw_stmt_changes(st) == 0) {
		bool same = false;
		rc = is_resend(db, c, i, &same, err);
		c->fates[i] = same ? RESENT : CONFLICT;
		return rc;
	}
	c->fates[i] = STORED;
	rc = pw_sql(db,
		    "UPDATE jobs SET state = ?, finished = ?, lease_until = NULL"
		    " WHERE id = ? AND state IN ('queued', 'leased')",
		    &st, err, "tti", strcmp(r->status, "ok") == 0 ? "done" : "failed", c->now,
		    r->job_id);
	return rc ? rc : pw_stmt_exec(st, err);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Sorts v[0..n) and drops repeats; returns the new count. */
static size_t sort_unique(int64_t *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof *v, cmp_i64);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

static pw_err store_results(pw_db *db, struct checkin *c, pw_error *err)
{
	size_t n = c->req->n_results;
	if (!n)
		return PW_OK;
	int64_t *ack = malloc(n * sizeof *ack), *conflict = malloc(n * sizeof *conflict);
	if (!ack || !conflict) {
		free(ack);
		free(conflict);
		return pw_error_set(err, PW_ERR_NOMEM, "check-in: out of memory");
	}
	pw_err rc = PW_OK;
	size_t n_ack = 0, n_conflict = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		rc = store_result(db, c, i, err);
		if (c->fates[i] == CONFLICT)
			conflict[n_conflict++] = c->req->results[i].seq;
		else
			ack[n_ack++] = c->req->results[i].seq;
	}
	if (rc) {
		free(ack);
		free(conflict);
		return rc;
	}
	c->reply->ack = ack;
	c->reply->n_ack = sort_unique(ack, n_ack);
	c->reply->conflict = conflict;
	c->reply->n_conflict = sort_unique(conflict, n_conflict);
	return PW_OK;
}

static pw_err store_inventory(pw_db *db, struct checkin *c, const char *current,
			      pw_error *err)
{
	const char *hash = c->req->inventory_hash;
	pw_stmt *st;
	pw_err rc;
	bool changed = !current || strcmp(current, hash) != 0;
	if (c->inv_json) {
		c->reply->inventory_changed = changed;
		rc = pw_sql(db,
			    "INSERT INTO inventories (hash, json, first_seen) VALUES (?, ?, ?)"
			    " ON CONFLICT (hash) DO NOTHING",
			    &st, err, "ttt", hash, c->inv_json, c->now);
		if (!rc)
			rc = pw_stmt_exec(st, err);
		if (!rc)
			rc = pw_sql(db,
				    "UPDATE hosts SET inventory_hash = ?, inventory_at = ?,"
				    " os_id = ?, os_version_id = ?, os_codename = ?, os_pretty_name = ?,"
				    " arch = COALESCE(?, arch), kernel = COALESCE(?, kernel) WHERE id = ?",
				    &st, err, "tttttttti", hash, c->now, c->inv.os_id,
				    c->inv.os_version_id, c->inv.os_codename, c->inv.os_pretty_name,
				    c->inv.arch, c->inv.kernel_running, c->agent->host_id);
		return rc ? rc : pw_stmt_exec(st, err);
	}
	if (!changed)
		return PW_OK;
	/* Content the server has from another host (or from this one
	 * earlier) needs no upload. */
	bool known = false;
	rc = pw_sql(db, "SELECT 1 FROM inventories WHERE hash = ?", &st, err, "t", hash);
	if (!rc)
		rc = pw_stmt_step(st, &known, err);
	if (rc)
		return rc;
	pw_stmt_reset(st);
	if (!known) {
		c->reply->need_inventory = true;
		return PW_OK;
	}
	c->reply->inventory_changed = true;
	rc = pw_sql(db, "UPDATE hosts SET inventory_hash = ?, inventory_at = ? WHERE id = ?", &st,
		    err, "tti", hash, c->now, c->agent->host_id);
	return rc ? rc : pw_stmt_exec(st, err);
}

static int cmp_offer(const void *a, const void *b)
{
	return cmp_i64(&((const pw_job_offer *)a)->id, &((const pw_job_offer *)b)->id);
}

static pw_err take_jobs(pw_db *db, struct checkin *c, pw_error *err)
{
	const pw_checkin *q = c->req;
	size_t max = q->max_jobs ? q->max_jobs : PW_CHECKIN_MAX_JOBS;
	if (max > 1000)
		max = 1000;
	char until[PW_TS_LEN];
	pw_ts_now(until, q->lease_seconds > 0 ? q->lease_seconds : PW_JOB_LEASE);
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "UPDATE jobs SET state = 'leased', leased_to = ?, lease_until = ?,"
			   " attempts = attempts + 1 WHERE id IN (SELECT id FROM jobs"
			   " WHERE host_id = ? AND " OPEN_JOB " ORDER BY id LIMIT ? {{skip_locked}})"
			   " RETURNING id, kind, args",
			   &st, err, "ttiti", c->agent->id, until, c->agent->host_id, c->now,
			   (int64_t)max);
	pw_checkin_reply *r = c->reply;
	size_t cap = 0;
	while (!rc) {
		bool row = false;
		rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			break;
		pw_job_offer *v = pw_grow(r->jobs, &cap, r->n_jobs, sizeof *v);
		const char *args = pw_stmt_text(st, 2);
		char *a = v ? strdup(args ? args : "{}") : NULL;
		if (!a) {
			if (v)
				r->jobs = v;
			pw_stmt_reset(st);
			return pw_error_set(err, PW_ERR_NOMEM, "check-in: out of memory");
		}
		r->jobs = v;
		pw_job_offer *o = &v[r->n_jobs++];
		o->id = pw_stmt_int(st, 0);
		snprintf(o->kind, sizeof o->kind, "%s", pw_stmt_text(st, 1) ? pw_stmt_text(st, 1) : "");
		o->args_json = a;
	}
	if (!rc && r->n_jobs > 1)
		qsort(r->jobs, r->n_jobs, sizeof *r->jobs, cmp_offer);
	return rc;
}

/* Jobs the agent gives back are open again at once rather than when
 * their lease runs out; a job it does not hold is left alone. */
static pw_err release_jobs(pw_db *db, struct checkin *c, pw_error *err)
{
	for (size_t i = 0; i < c->req->n_release; i++) {
		pw_stmt *st;
		pw_err rc = pw_sql(db,
				   "UPDATE jobs SET state = 'queued', leased_to = NULL,"
				   " lease_until = NULL WHERE id = ? AND host_id = ?"
				   " AND leased_to = ? AND state = 'leased'",
				   &st, err, "iit", c->req->release[i], c->agent->host_id,
				   c->agent->id);
		if (!rc)
			rc = pw_stmt_exec(st, err);
		if (rc)
			return rc;
		c->reply->n_released += (size_t)pw_stmt_changes(st);
	}
	return PW_OK;
}

static pw_err rekeyed(const pw_agent *a, pw_error *err)
{
	return pw_error_set(err, PW_ERR_AUTH,
			    "agent %s is no longer the agent of host %" PRId64
			    " (the host was enrolled again); enroll this agent again",
			    a->id, a->host_id);
}

/* What pw_agent_authenticate reads too, for an agent struct used again. */
static pw_err read_state(pw_db *db, pw_agent *a, const char *now, pw_error *err)
{
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db,
			   "SELECT h.inventory_hash, " OPEN_JOBS_EXIST ", " SEQ_HIGH("h.agent_id")
			   " FROM hosts h WHERE h.id = ? AND h.agent_id = ?",
			   &st, err, "tit", now, a->host_id, a->id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	if (!row)
		return rekeyed(a, err);
	copy_hash(a->inventory_hash, pw_stmt_text(st, 0));
	a->jobs_waiting = pw_stmt_int(st, 1) != 0;
	a->seq_high = pw_stmt_int(st, 2);
	pw_stmt_reset(st);
	return PW_OK;
}

/* The hot path: nothing to store, nothing to hand out. */
static pw_err touch(pw_db *db, const pw_agent *a, const char *now, pw_error *err)
{
	pw_stmt *st;
	/* The refusal goes with the agent's next check-in without one: its
	 * inventory is then one the server has. */
	pw_err rc = pw_sql(db,
			   "UPDATE hosts SET last_seen = ?, inventory_refused = NULL"
			   " WHERE id = ? AND agent_id = ?",
			   &st, err, "tit", now, a->host_id, a->id);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (!rc && pw_stmt_changes(st) != 1)
		rc = rekeyed(a, err);
	return rc;
}

static char *checkin_event(const struct checkin *c)
{
	const pw_checkin *q = c->req;
	cJSON *o = cJSON_CreateObject();
	cJSON *a = o && q->n_results ? cJSON_AddArrayToObject(o, "results") : NULL;
	bool ok = o && (!q->n_results || a);
	for (size_t i = 0; ok && i < q->n_results; i++) {
		const pw_job_result *x = &q->results[i];
		cJSON *e = cJSON_CreateObject();
		ok = e && cJSON_AddItemToArray(a, e) &&
		     cJSON_AddNumberToObject(e, "job_id", (double)x->job_id) &&
		     cJSON_AddNumberToObject(e, "seq", (double)x->seq) &&
		     cJSON_AddStringToObject(e, "status", x->status) &&
		     (!x->has_exit_code ||
		      cJSON_AddNumberToObject(e, "exit_code", (double)x->exit_code)) &&
		     (c->fates[i] != RESENT || cJSON_AddTrueToObject(e, "resent")) &&
		     (c->fates[i] != CONFLICT || cJSON_AddTrueToObject(e, "conflict"));
	}
	if (ok && c->inv_json)
		ok = cJSON_AddStringToObject(o, "inventory_hash", q->inventory_hash) != NULL;
	/* The jobs the agent asked to give back; n_released of them were its
	 * own to give. */
	cJSON *rel = ok && q->n_release ? cJSON_AddArrayToObject(o, "release") : NULL;
	ok = ok && (!q->n_release ||
		    (rel && pw_json_add_int(o, "released", (int64_t)c->reply->n_released)));
	for (size_t i = 0; ok && i < q->n_release; i++)
		ok = cJSON_AddItemToArray(rel, cJSON_CreateNumber((double)q->release[i]));
	char *s = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}

/* Results, inventories and released jobs are audited in the check-in's
 * transaction, so a stored result is never left unaudited; "resent" and
 * "conflict" mark those not stored by this check-in. The heartbeat (none
 * of them) is not audited. */
static pw_err audit_checkin(pw_db *db, const struct checkin *c, pw_error *err)
{
	if (!c->req->n_results && !c->inv_json && !c->req->n_release)
		return PW_OK;
	char *after = checkin_event(c);
	if (!after)
		return pw_error_set(err, PW_ERR_NOMEM, "check-in: out of memory");
	char actor[PW_AGENT_ID_MAX + 8], target[32];
	snprintf(actor, sizeof actor, "agent:%s", c->agent->id);
	snprintf(target, sizeof target, "host:%" PRId64, c->agent->host_id);
	pw_err rc = pw_audit_append(db, actor, "agent.checkin", target, NULL, after, NULL, err);
	cJSON_free(after);
	return rc;
}

static pw_err checkin_txn(pw_db *db, void *arg, pw_error *err)
{
	struct checkin *c = arg;
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db,
			   "UPDATE hosts SET last_seen = ?, inventory_refused = ?"
			   " WHERE id = ? AND agent_id = ? RETURNING inventory_hash",
			   &st, err, "ttit", c->now, c->refused, c->agent->host_id, c->agent->id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	if (!row)
		return rekeyed(c->agent, err);
	char current[PW_SECRET_HEX + 1];
	const char *cur = pw_stmt_text(st, 0);
	snprintf(current, sizeof current, "%s", cur ? cur : "");
	pw_stmt_reset(st);
	if ((rc = store_results(db, c, err)) ||
	    (rc = store_inventory(db, c, current[0] ? current : NULL, err)))
		return rc;
	rc = pw_sql(db, "SELECT " SEQ_HIGH("?"), &st, err, "t", c->agent->id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	c->reply->seq_high = row ? pw_stmt_int(st, 0) : 0;
	if (row)
		pw_stmt_reset(st);
	rc = c->req->n_release ? release_jobs(db, c, err) : take_jobs(db, c, err);
	return rc ? rc : audit_checkin(db, c, err);
}

pw_err pw_agent_checkin(pw_db *db, pw_agent *agent, const pw_checkin *req,
			pw_checkin_reply *reply, pw_error *err)
{
	pw_checkin_reply_release(reply);
	struct checkin c = {agent, req, reply, PW_INVENTORY_INIT, NULL, NULL, NULL, NULL, {0}};
	pw_ts_now(c.now, 0);
	pw_err rc = prepare_inventory(&c, err);
	if (!rc)
		rc = prepare_refusal(&c, err);
	if (!rc)
		rc = prepare_release(req, err);
	if (!rc)
		rc = prepare_results(&c, err);
	if (!rc && !agent->fresh)
		rc = read_state(db, agent, c.now, err);
	agent->fresh = false;
	bool unchanged = !req->n_results && !req->inventory && !agent->jobs_waiting &&
			 !req->refused && !req->n_release &&
			 req->inventory_hash && strcmp(agent->inventory_hash, req->inventory_hash) == 0;
	if (!rc)
		rc = unchanged ? touch(db, agent, c.now, err)
			       : pw_in_write_txn(db, checkin_txn, &c, err);
	if (!rc && unchanged)
		reply->seq_high = agent->seq_high;
	if (rc)
		pw_checkin_reply_release(reply);
	pw_inventory_release(&c.inv);
	free(c.inv_json);
	free(c.refused);
	for (size_t i = 0; c.outputs && i < req->n_results; i++)
		free(c.outputs[i]);
	free(c.outputs);
	free(c.fates);
	return rc;
}

/* ---- jobs ------------------------------------------------------------ */

struct job_new {
	const char *actor, *kind;
	int64_t host_id;
	const cJSON *args;
	const char *args_text;
	int64_t id;
};

static pw_err job_create_txn(pw_db *db, void *arg, pw_error *err)
{
	struct job_new *j = arg;
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db, "SELECT hostname FROM hosts WHERE id = ?", &st, err, "i",
			   j->host_id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	pw_stmt_reset(st);
	if (!row)
		return pw_error_set(err, PW_ERR_NOTFOUND, "there is no host %" PRId64, j->host_id);
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	rc = pw_sql(db,
		    "INSERT INTO jobs (host_id, kind, args, state, created, created_by)"
		    " VALUES (?, ?, ?, 'queued', ?, ?) RETURNING id",
		    &st, err, "itttt", j->host_id, j->kind, j->args_text, now, j->actor);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	j->id = pw_stmt_int(st, 0);
	pw_stmt_reset(st);

	cJSON *o = cJSON_CreateObject();
	cJSON *args = cJSON_Duplicate(j->args, true);
	bool ok = o && args && cJSON_AddNumberToObject(o, "job_id", (double)j->id) &&
		  cJSON_AddStringToObject(o, "kind", j->kind);
	if (ok)
		cJSON_AddItemToObject(o, "args", args);
	else
		cJSON_Delete(args);
	char *after = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	char target[32];
	snprintf(target, sizeof target, "host:%" PRId64, j->host_id);
	rc = after ? pw_audit_append(db, j->actor, "job.create", target, NULL, after, NULL, err)
		   : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	cJSON_free(after);
	return rc;
}

pw_err pw_job_create(pw_db *db, const char *actor, int64_t host_id, const char *kind,
		     const char *args_json, int64_t *id, pw_error *err)
{
	const pw_job_kind *k = pw_job_kind_find(kind);
	if (!k)
		return pw_error_set(err, PW_ERR_INVALID, "job kind \"%.40s\" is not known; use one of %s",
				    kind ? kind : "", pw_job_kind_names());
	cJSON *args = cJSON_Parse(args_json ? args_json : "{}");
	if (!cJSON_IsObject(args)) {
		cJSON_Delete(args);
		return pw_error_set(err, PW_ERR_INVALID, "job arguments must be a JSON object");
	}
	pw_err bad = pw_job_args_check(k, args, err);
	if (bad) {
		cJSON_Delete(args);
		return bad;
	}
	char *text = cJSON_PrintUnformatted(args);
	struct job_new j = {actor, kind, host_id, args, text, 0};
	pw_err rc = text ? pw_in_write_txn(db, job_create_txn, &j, err)
			 : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	cJSON_free(text);
	cJSON_Delete(args);
	if (!rc && id)
		*id = j.id;
	return rc;
}

pw_err pw_host_show_json(pw_db *db, const pw_host *h, cJSON **out, pw_error *err)
{
	*out = NULL;
	pw_rekey_request q;
	bool waiting = false;
	pw_err rc = pw_agent_rekey_pending(db, h->id, &q, &waiting, err);
	if (rc)
		return rc;
	cJSON *j = pw_host_to_json(h);
	cJSON *p = waiting ? pw_rekey_request_to_json(&q) : cJSON_CreateNull();
	if (!j || !p || !cJSON_AddItemToObject(j, "pending_rekey", p)) {
		cJSON_Delete(j);
		cJSON_Delete(p);
		return pw_error_set(err, PW_ERR_NOMEM, "host %" PRId64 ": out of memory", h->id);
	}
	*out = j;
	return PW_OK;
}

cJSON *pw_enroll_token_to_json(const pw_enroll_token *t)
{
	cJSON *o = cJSON_CreateObject();
	if (o && pw_json_add_int(o, "id", t->id) && pw_json_add_str(o, "label", t->label) &&
	    pw_json_add_int(o, "uses_total", t->uses_total) &&
	    pw_json_add_int(o, "uses_left", t->uses_left) &&
	    pw_json_add_str(o, "expires", t->expires) && pw_json_add_str(o, "created", t->created) &&
	    pw_json_add_str(o, "created_by", t->created_by) &&
	    pw_json_add_str(o, "revoked", t->revoked))
		return o;
	cJSON_Delete(o);
	return NULL;
}
