/* Enrollment tokens, enrollment (new hosts, adoptions, re-keys) and the
 * re-keys that wait for an operator. The credentials issued here are
 * checked in checkin.c. */
#include "patchwarden/agents.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/audit.h"
#include "patchwarden/clock.h"
#include "patchwarden/hosts.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/sql.h"
#include "patchwarden/text.h"
#include "patchwarden/token.h"

#include "fleet-internal.h"

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

static char *etok_record(pw_stmt *st, int64_t id, const char *revoked)
{
	const char *label = pw_stmt_text(st, 0), *expires = pw_stmt_text(st, 2);
	return etok_json(id, label ? label : "", pw_stmt_int(st, 1), expires ? expires : "",
			 revoked);
}

static const pw_token_kind enroll_tokens = {
	"enrollment token",
	"enroll-token list",
	"enroll_token",
	"SELECT label, uses_total, expires, revoked FROM enroll_tokens WHERE id = ?",
	"UPDATE enroll_tokens SET revoked = ? WHERE id = ?",
	etok_record,
};

static pw_err etok_create_txn(pw_db *db, void *arg, pw_error *err)
{
	struct etok_new *t = arg;
	char now[PW_TS_LEN], expires[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_ts_now(expires, t->ttl);
	pw_stmt *st;
	bool row = false;
	pw_err rc =
		pw_sql(db,
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
	char *after = etok_json(t->row.id, t->label, t->uses, expires, NULL);
	rc = pw_token_audit(db, &enroll_tokens, t->actor, "create", t->row.id, NULL, after, err);
	cJSON_free(after);
	return rc;
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

pw_err pw_enroll_token_revoke(pw_db *db, const char *actor, int64_t id, pw_error *err)
{
	return pw_token_revoke(db, &enroll_tokens, actor, id, err);
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
	rc = pw_rows_append(st, &v, &out->n, &out->cap, sizeof *out->v, etok_fill, "listing tokens",
			    err);
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
	bool matches = pw_secret_matches_col(st, row, 0, secret);
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	const char *expires = row ? pw_stmt_text(st, 3) : NULL,
		   *revoked = row ? pw_stmt_text(st, 4) : NULL;
	if (!matches)
		rc = pw_error_set(err, PW_ERR_AUTH,
				  "enrollment token pwe_%" PRId64 " is not valid (unknown token or "
				  "wrong secret); ask an admin for a new one",
				  id);
	else if (revoked)
		rc = pw_error_set(err, PW_ERR_AUTH,
				  "enrollment token pwe_%" PRId64
				  " was revoked at %s; ask an admin "
				  "for a new one",
				  id, revoked);
	else if (!expires || strcmp(expires, now) <= 0)
		rc = pw_error_set(err, PW_ERR_AUTH,
				  "enrollment token pwe_%" PRId64
				  " expired at %s; ask an admin for "
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
	pw_err rc =
		pw_sql(db,
		       "UPDATE hosts SET machine_id = ?, agent_id = ?,"
		       " os_id = COALESCE(?, os_id), os_version_id = COALESCE(?, os_version_id),"
		       " os_codename = COALESCE(?, os_codename),"
		       " os_pretty_name = COALESCE(?, os_pretty_name), arch = COALESCE(?, arch)"
		       " WHERE id = ? AND machine_id IS NULL",
		       &st, err, "ttttttti", r->machine_id, agent_id, r->os_id, r->os_version_id,
		       r->os_codename, r->os_pretty_name, r->arch, id);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	/* Another node's enrollment may have taken it since the SELECT. */
	if (!rc && pw_stmt_changes(st) != 1)
		rc = pw_error_set(err, PW_ERR_CONFLICT,
				  "enrollment: host %" PRId64
				  " was enrolled meanwhile; enroll again",
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

/* The host of a machine_id seen before (*id 0: none), its live agent,
 * the one not revoked ("" when none), and its agent revoked or not
 * (`prev`, "" when none). */
static pw_err known_machine(pw_db *db, const char *machine_id, int64_t *id,
			    char live[PW_AGENT_ID_MAX], char prev[PW_AGENT_ID_MAX], pw_error *err)
{
	*id = 0;
	live[0] = prev[0] = '\0';
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db,
			   "SELECT h.id, a.id, h.decommissioned, h.agent_id FROM hosts h"
			   " LEFT JOIN agents a"
			   " ON a.id = h.agent_id AND a.revoked IS NULL WHERE h.machine_id = ?",
			   &st, err, "t", machine_id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc || !row)
		return rc;
	if (!pw_stmt_is_null(st, 2)) {
		int64_t h = pw_stmt_int(st, 0);
		pw_stmt_reset(st);
		return pw_error_set(err, PW_ERR_CONFLICT,
				    "this machine is host %" PRId64 ", decommissioned; an operator "
				    "deletes it ('patchwarden host delete id:%" PRId64
				    "') before it enrolls again",
				    h, h);
	}
	*id = pw_stmt_int(st, 0);
	snprintf(live, PW_AGENT_ID_MAX, "%s", pw_stmt_text(st, 1) ? pw_stmt_text(st, 1) : "");
	snprintf(prev, PW_AGENT_ID_MAX, "%s", pw_stmt_text(st, 3) ? pw_stmt_text(st, 3) : "");
	pw_stmt_reset(st);
	return PW_OK;
}

/* Whether `credential` is "<live>.<secret>" with the live agent's secret. */
static pw_err proves(pw_db *db, const char *credential, const char *live, bool *ok, pw_error *err)
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
	*ok = pw_secret_matches_col(st, row, 0, credential + n + 1);
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
	char now[PW_TS_LEN], live[PW_AGENT_ID_MAX], prev[PW_AGENT_ID_MAX];
	pw_ts_now(now, 0);
	int64_t known = 0;
	bool proven = false;
	if ((rc = known_machine(db, r->machine_id, &known, live, prev, err)))
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
	/* A known machine whose agent was revoked (host revoke-agent) is a
	 * re-key too, with no live agent to prove. */
	if (!old[0] && known && prev[0])
		snprintf(old, sizeof old, "%s", prev);
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

pw_err pw_agent_enroll(pw_db *db, const pw_enroll_request *req, pw_enrollment *out, pw_error *err)
{
	memset(out, 0, sizeof *out);
	struct enroll e = {req, NULL, 0, NULL, NULL, out};
	if (!pw_token_split(req->token, "pwe_", &e.token_id, &e.token_secret))
		return pw_error_set(
			err, PW_ERR_AUTH,
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
	snprintf(out->agent_id, sizeof out->agent_id, "ag_%.*s", PW_AGENT_ID_HEX, idhex);
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
			   " JOIN agents a ON a.id = r.agent_id JOIN hosts h ON h.id = r.host_id "
			   "WHERE r.host_id = ?",
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
	    pw_json_add_str(o, "expires", t->expires) &&
	    pw_json_add_str(o, "created", t->created) &&
	    pw_json_add_str(o, "created_by", t->created_by) &&
	    pw_json_add_str(o, "revoked", t->revoked))
		return o;
	cJSON_Delete(o);
	return NULL;
}
