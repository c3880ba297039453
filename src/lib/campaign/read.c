/* Reading campaigns and tickets (campaigns.h) as the records of
 * docs/records.md: each query's columns are named after the members
 * they become, so one row-to-object function serves every record. */
#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "patchwarden/campaigns.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/sql.h"

#include "campaign-internal.h"

/* A record's members: the query's columns in order, each
 * "name:kind", kind i (integer), t (text), b (boolean), j (JSON text). */
struct shape {
	const char *const *cols;
	size_t n;
};

static bool add_col(cJSON *o, pw_stmt *st, int i, const char *spec)
{
	char name[48];
	const char *colon = strchr(spec, ':');
	snprintf(name, sizeof name, "%.*s", (int)(colon - spec), spec);
	if (pw_stmt_is_null(st, i))
		return cJSON_AddNullToObject(o, name) != NULL;
	switch (colon[1]) {
	case 'i':
		return pw_json_add_int(o, name, pw_stmt_int(st, i));
	case 'b':
		return cJSON_AddBoolToObject(o, name, pw_stmt_int(st, i) != 0) != NULL;
	case 'j':
		return pw_json_add_raw(o, name, pw_stmt_text(st, i));
	default:
		return pw_json_add_str(o, name, pw_stmt_text(st, i));
	}
}

/* Every row of st as an object of `sh` appended to arr. */
static pw_err rows(pw_stmt *st, const struct shape *sh, cJSON *arr, pw_error *err)
{
	pw_err rc = PW_OK;
	for (bool row = true; !rc && row;) {
		rc = pw_stmt_step(st, &row, err);
		cJSON *o = !rc && row ? cJSON_CreateObject() : NULL;
		bool ok = o && cJSON_AddItemToArray(arr, o);
		for (size_t i = 0; ok && i < sh->n; i++)
			ok = add_col(o, st, (int)i, sh->cols[i]);
		if (!rc && row && !ok) {
			pw_stmt_reset(st);
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
	}
	return rc;
}

#define SHAPE(cols)                                                                                \
	{                                                                                          \
		cols, sizeof cols / sizeof cols[0]                                                 \
	}

static const char *const campaign_cols[] = {
	"id:i",           "name:t",       "flow:t",          "emergency:b",
	"soak_seconds:i", "state:t",      "feed_snapshot:i", "selection:j",
	"created:t",      "created_by:t", "updated:t",       "hosts:i",
};
#define CAMPAIGN_SQL                                                                               \
	"SELECT c.id, c.name, c.flow, c.emergency, c.soak_seconds, c.state, c.snapshot,"           \
	" c.selection, c.created, c.created_by, c.updated,"                                        \
	" (SELECT count(*) FROM campaign_hosts h WHERE h.campaign_id = c.id) FROM campaigns c"

static const char *const host_cols[] = {
	"host_id:i",  "hostname:t",    "flow:i",     "wave:i",     "category:t",  "app_owner:t",
	"test_env:b", "criticality:i", "state:t",    "patches:i",  "ticket_id:i", "next_actor:t",
	"recheck:t",  "finished:t",    "findings:j", "simulate:j",
};
#define HOST_SQL                                                                                   \
	"SELECT h.host_id, h.hostname, h.flow, h.wave, h.category, h.app_owner, h.test_env,"       \
	" CASE WHEN h.criticality > 0 THEN h.criticality END, h.state, h.patches, h.ticket_id,"    \
	" t.next_actor, h.recheck, h.finished, h.findings,"                                        \
	" (SELECT j.result FROM campaign_jobs j WHERE j.campaign_id = h.campaign_id"               \
	" AND j.host_id = h.host_id AND j.purpose = 'simulate' ORDER BY j.id DESC LIMIT 1)"        \
	" FROM campaign_hosts h"                                                                   \
	" JOIN tickets t ON t.id = h.ticket_id WHERE h.campaign_id = ? ORDER BY h.wave, "          \
	"h.hostname"

static const char *const ticket_cols[] = {
	"id:i",    "campaign_id:i", "host_id:i", "hostname:t", "state:t",
	"track:t", "next_actor:t",  "created:t", "closed:t",
};
#define TICKET_SQL                                                                                 \
	"SELECT id, campaign_id, host_id, hostname, state, track, next_actor, created, closed"     \
	" FROM tickets"

static const char *const event_cols[] = {
	"id:i", "ts:t",   "actor:t",  "action:t",     "from:t",
	"to:t", "note:t", "detail:j", "next_actor:t",
};
#define EVENT_SQL                                                                                  \
	"SELECT id, ts, actor, action, from_state, to_state, note, detail, next_actor"             \
	" FROM ticket_events WHERE ticket_id = ? ORDER BY id"

static const char *const risk_cols[] = {
	"id:i",        "reason:t",       "data_value:t",  "threat_frequency:t",
	"impact:t",    "cost_benefit:t", "declined_by:t", "declined:t",
	"signed_by:t", "signed:t",       "expires:t",     "expired:t",
};
#define RISK_SQL                                                                                   \
	"SELECT id, reason, data_value, threat_frequency, impact, cost_benefit, declined_by,"      \
	" declined, signed_by, signed, expires, expired FROM risk_acceptances WHERE ticket_id = ?" \
	" ORDER BY id"

static const struct shape campaign_shape = SHAPE(campaign_cols), host_shape = SHAPE(host_cols),
			  ticket_shape = SHAPE(ticket_cols), event_shape = SHAPE(event_cols),
			  risk_shape = SHAPE(risk_cols);

/* The rows of `sql` bound to id (types "i") or nothing (""), as an array. */
static pw_err query(pw_db *db, const char *sql, const char *types, int64_t id,
		    const struct shape *sh, cJSON **out, pw_error *err)
{
	pw_stmt *st;
	*out = cJSON_CreateArray();
	pw_err rc = !*out    ? pw_error_set(err, PW_ERR_NOMEM, "out of memory")
		    : *types ? pw_sql(db, sql, &st, err, types, id)
			     : pw_sql(db, sql, &st, err, "");
	if (!rc)
		rc = rows(st, sh, *out, err);
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

/* The one record of `sql` for id, with `key` added from `sub_sql`. */
static pw_err one(pw_db *db, const char *sql, const struct shape *sh, int64_t id, const char *what,
		  cJSON **out, pw_error *err)
{
	cJSON *arr;
	*out = NULL;
	pw_err rc = query(db, sql, "i", id, sh, &arr, err);
	if (!rc && !cJSON_GetArraySize(arr))
		rc = pw_error_set(err, PW_ERR_NOTFOUND, "there is no %s %" PRId64, what, id);
	if (!rc)
		*out = cJSON_DetachItemFromArray(arr, 0);
	cJSON_Delete(arr);
	return rc;
}

static pw_err add_rows(pw_db *db, cJSON *o, const char *key, const char *sql, int64_t id,
		       const struct shape *sh, pw_error *err)
{
	cJSON *arr;
	pw_err rc = query(db, sql, "i", id, sh, &arr, err);
	if (!rc && !cJSON_AddItemToObject(o, key, arr)) {
		cJSON_Delete(arr);
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	return rc;
}

pw_err pw_campaign_list_json(pw_db *db, cJSON **out, pw_error *err)
{
	return query(db, CAMPAIGN_SQL " ORDER BY c.id", "", 0, &campaign_shape, out, err);
}

pw_err pw_campaign_show_json(pw_db *db, int64_t id, cJSON **out, pw_error *err)
{
	pw_err rc = one(db, CAMPAIGN_SQL " WHERE c.id = ?", &campaign_shape, id, "campaign", out,
			err);
	if (!rc)
		rc = add_rows(db, *out, "host_list", HOST_SQL, id, &host_shape, err);
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

pw_err pw_ticket_list_json(pw_db *db, int64_t campaign, cJSON **out, pw_error *err)
{
	return campaign ? query(db, TICKET_SQL " WHERE campaign_id = ? ORDER BY id", "i", campaign,
				&ticket_shape, out, err)
			: query(db, TICKET_SQL " ORDER BY id", "", 0, &ticket_shape, out, err);
}

pw_err pw_ticket_list_host_json(pw_db *db, int64_t host, cJSON **out, pw_error *err)
{
	return query(db, TICKET_SQL " WHERE host_id = ? ORDER BY id", "i", host, &ticket_shape, out,
		     err);
}

pw_err pw_ticket_show_json(pw_db *db, int64_t id, cJSON **out, pw_error *err)
{
	pw_err rc = one(db, TICKET_SQL " WHERE id = ?", &ticket_shape, id, "ticket", out, err);
	if (!rc)
		rc = add_rows(db, *out, "events", EVENT_SQL, id, &event_shape, err);
	if (!rc)
		rc = add_rows(db, *out, "risk_acceptances", RISK_SQL, id, &risk_shape, err);
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

pw_err pw_campaign_user_role(pw_db *db, const char *name, pw_role *out, pw_error *err)
{
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db, "SELECT role, disabled FROM users WHERE name = ?", &st, err, "t",
			   name);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (!rc && !row)
		return pw_error_set(err, PW_ERR_NOTFOUND,
				    "--as %.64s: there is no such user ('user list' shows them)",
				    name);
	bool ok = !rc && pw_role_parse(pw_stmt_text(st, 0), out);
	bool disabled = !rc && pw_stmt_int(st, 1);
	pw_stmt_reset(st);
	if (rc)
		return rc;
	if (disabled)
		return pw_error_set(err, PW_ERR_AUTH, "--as %.64s: the user is disabled", name);
	return ok ? PW_OK : pw_error_set(err, PW_ERR_STORE, "user %.64s has an unknown role", name);
}
