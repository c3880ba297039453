/* The end of a host's life (hosts.h): revoking its agent, decommissioning
 * and deleting it. Each runs in one write transaction with its audit
 * event; the audit log keeps the history of a deleted host. */
#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/agents.h"
#include "patchwarden/audit.h"
#include "patchwarden/clock.h"
#include "patchwarden/hosts.h"
#include "patchwarden/sql.h"

#include "fleet-internal.h"

struct life {
	const char *actor, *ref, *note;
	int64_t id;
};

static char *target_of(const pw_host *h, char *buf, size_t size)
{
	snprintf(buf, size, "host:%" PRId64, h->id);
	return buf;
}

/* Revokes every agent of the host not revoked yet; *revoked (may be NULL)
 * gets their ids as a JSON array. Leased jobs go back to the queue. */
static pw_err revoke_agents(pw_db *db, int64_t host_id, const char *now, cJSON *revoked,
			    pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "UPDATE agents SET revoked = ? WHERE host_id = ? AND revoked IS NULL"
			   " RETURNING id",
			   &st, err, "ti", now, host_id);
	for (bool row = true; !rc && row;) {
		rc = pw_stmt_step(st, &row, err);
		if (!rc && row &&
		    !cJSON_AddItemToArray(revoked, cJSON_CreateString(pw_stmt_text(st, 0)))) {
			pw_stmt_reset(st);
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
	}
	if (!rc)
		rc = pw_sql(db, "DELETE FROM rekey_requests WHERE host_id = ?", &st, err, "i",
			    host_id);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (!rc)
		rc = pw_sql(db,
			    "UPDATE jobs SET state = 'queued', leased_to = NULL, lease_until = NULL"
			    " WHERE host_id = ? AND state = 'leased'",
			    &st, err, "i", host_id);
	return rc ? rc : pw_stmt_exec(st, err);
}

static pw_err audit_json(pw_db *db, const char *actor, const char *action, const pw_host *h,
			 cJSON *before, cJSON *after, pw_error *err)
{
	char target[40];
	char *b = before ? cJSON_PrintUnformatted(before) : NULL;
	char *a = after ? cJSON_PrintUnformatted(after) : NULL;
	pw_err rc = (before && !b) || (after && !a)
			    ? pw_error_set(err, PW_ERR_NOMEM, "out of memory")
			    : pw_audit_append(db, actor, action,
					      target_of(h, target, sizeof target), b, a, NULL, err);
	cJSON_free(b);
	cJSON_free(a);
	return rc;
}

static pw_err revoke_txn(pw_db *db, void *arg, pw_error *err)
{
	struct life *l = arg;
	pw_host h = PW_HOST_INIT;
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	cJSON *after = cJSON_CreateObject();
	cJSON *ids = after ? cJSON_AddArrayToObject(after, "revoked_agents") : NULL;
	pw_err rc = ids ? pw_host_get_by_name(db, l->ref, &h, err)
			: pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = revoke_agents(db, h.id, now, ids, err);
	if (!rc && !cJSON_GetArraySize(ids))
		rc = pw_error_set(err, PW_ERR_CONFLICT, "host %s has no agent credential to revoke",
				  h.f[PW_HF_HOSTNAME]);
	if (!rc && (!cJSON_AddStringToObject(after, "hostname", h.f[PW_HF_HOSTNAME]) ||
		    !cJSON_AddStringToObject(after, "revoked", now)))
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = audit_json(db, l->actor, "agent.revoke", &h, NULL, after, err);
	l->id = h.id;
	cJSON_Delete(after);
	pw_host_release(&h);
	return rc;
}

pw_err pw_host_revoke_agent(pw_db *db, const char *actor, const char *ref, pw_error *err)
{
	struct life l = {actor, ref, NULL, 0};
	return pw_in_write_txn(db, revoke_txn, &l, err);
}

/* Runs `sql` (one ? for the host id, or two: `text` first) and adds the
 * rows it changed to `o` as `key`. */
static pw_err count_exec(pw_db *db, const char *sql, const char *text, int64_t id, cJSON *o,
			 const char *key, pw_error *err)
{
	pw_stmt *st;
	pw_err rc = text ? pw_sql(db, sql, &st, err, "ti", text, id)
			 : pw_sql(db, sql, &st, err, "i", id);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (!rc && key && !cJSON_AddNumberToObject(o, key, (double)pw_stmt_changes(st)))
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	return rc;
}

static pw_err decommission_txn(pw_db *db, void *arg, pw_error *err)
{
	struct life *l = arg;
	pw_host h = PW_HOST_INIT;
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	cJSON *after = cJSON_CreateObject();
	cJSON *ids = after ? cJSON_AddArrayToObject(after, "revoked_agents") : NULL;
	pw_err rc = ids ? pw_host_get_by_name(db, l->ref, &h, err)
			: pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc && h.f[PW_HF_DECOMMISSIONED])
		rc = pw_error_set(err, PW_ERR_CONFLICT, "host %s was decommissioned at %s",
				  h.f[PW_HF_HOSTNAME], h.f[PW_HF_DECOMMISSIONED]);
	if (!rc)
		rc = revoke_agents(db, h.id, now, ids, err);
	if (!rc)
		rc = count_exec(
			db,
			"UPDATE jobs SET state = 'cancelled', finished = ?, leased_to = NULL,"
			" lease_until = NULL WHERE host_id = ? AND state IN ('queued', "
			"'leased')",
			now, h.id, after, "cancelled_jobs", err);
	if (!rc)
		rc = count_exec(db,
				"UPDATE findings SET fixed_at = ?, closed_reason = 'decommissioned'"
				" WHERE host_id = ? AND fixed_at IS NULL",
				now, h.id, after, "closed_findings", err);
	if (!rc)
		rc = count_exec(db, "UPDATE hosts SET decommissioned = ? WHERE id = ?", now, h.id,
				NULL, NULL, err);
	if (!rc && (!cJSON_AddStringToObject(after, "hostname", h.f[PW_HF_HOSTNAME]) ||
		    !cJSON_AddStringToObject(after, "decommissioned", now) ||
		    !(l->note ? cJSON_AddStringToObject(after, "note", l->note)
			      : cJSON_AddNullToObject(after, "note"))))
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = audit_json(db, l->actor, "host.decommission", &h, NULL, after, err);
	l->id = h.id;
	cJSON_Delete(after);
	pw_host_release(&h);
	return rc;
}

pw_err pw_host_decommission(pw_db *db, const char *actor, const char *ref, const char *note,
			    int64_t *id, pw_error *err)
{
	if (note && strlen(note) > 1024)
		return pw_error_set(err, PW_ERR_INVALID, "note: at most 1024 bytes");
	struct life l = {actor, ref, note, 0};
	pw_err rc = pw_in_write_txn(db, decommission_txn, &l, err);
	if (!rc && id)
		*id = l.id;
	return rc;
}

static pw_err delete_txn(pw_db *db, void *arg, pw_error *err)
{
	struct life *l = arg;
	pw_host h = PW_HOST_INIT;
	static const char *const del[] = {
		"DELETE FROM job_results WHERE host_id = ?",
		"DELETE FROM jobs WHERE host_id = ?",
		"DELETE FROM findings WHERE host_id = ?",
		"DELETE FROM rekey_requests WHERE host_id = ?",
		"UPDATE hosts SET agent_id = NULL WHERE id = ?",
		"DELETE FROM agents WHERE host_id = ?",
		"DELETE FROM hosts WHERE id = ?",
	};
	pw_err rc = pw_host_get_by_name(db, l->ref, &h, err);
	if (!rc && !h.f[PW_HF_DECOMMISSIONED])
		rc = pw_error_set(err, PW_ERR_CONFLICT,
				  "host %s is in service: decommission it first "
				  "('patchwarden host decommission %s')",
				  h.f[PW_HF_HOSTNAME], h.f[PW_HF_HOSTNAME]);
	cJSON *before = rc ? NULL : pw_host_to_json(&h);
	if (!rc && !before)
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	for (size_t i = 0; !rc && i < sizeof del / sizeof *del; i++)
		rc = count_exec(db, del[i], NULL, h.id, NULL, NULL, err);
	if (!rc)
		rc = audit_json(db, l->actor, "host.delete", &h, before, NULL, err);
	l->id = h.id;
	cJSON_Delete(before);
	pw_host_release(&h);
	return rc;
}

pw_err pw_host_delete(pw_db *db, const char *actor, const char *ref, pw_error *err)
{
	struct life l = {actor, ref, NULL, 0};
	return pw_in_write_txn(db, delete_txn, &l, err);
}
