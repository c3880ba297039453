/* The agent's side of the hot path: authenticating its credential and
 * its check-ins (results, inventory, refusals, releases, leases). */
#include "patchwarden/checkin.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/audit.h"
#include "patchwarden/clock.h"
#include "patchwarden/grow.h"
#include "patchwarden/inventory.h"
#include "patchwarden/runtime.h"
#include "patchwarden/jobs.h"
#include "patchwarden/json_limits.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/sql.h"
#include "patchwarden/text.h"
#include "patchwarden/token.h"
#include "patchwarden/window.h"

#include "fleet-internal.h"

/* Whether the host has jobs to hand out (a lease time as parameter),
 * written as the partial index jobs_open's condition so SQLite uses it. */
#define OPEN_JOB "state IN ('queued', 'leased') AND (state = 'queued' OR lease_until < ?)"
#define OPEN_JOBS_EXIST                                                                            \
	"CASE WHEN EXISTS (SELECT 1 FROM jobs WHERE jobs.host_id = h.id AND " OPEN_JOB             \
	") THEN 1 ELSE 0 END"

/* The highest result seq stored from an agent: one probe of the
 * primary key (agent_id, seq). */
#define SEQ_HIGH(agent)                                                                            \
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

/* ---- authentication -------------------------------------------------- */

pw_err pw_agent_authenticate(pw_db *db, const char *credential, pw_agent *out, pw_error *err)
{
	memset(out, 0, sizeof *out);
	enum { ID_LEN = 3 + PW_AGENT_ID_HEX };
	if (!credential || strncmp(credential, "ag_", 3) != 0 ||
	    strnlen(credential, ID_LEN + 1) <= ID_LEN || credential[ID_LEN] != '.' ||
	    !hex_run(credential + 3, PW_AGENT_ID_HEX) ||
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
	bool ok = pw_secret_matches_col(st, row, 0, credential + ID_LEN + 1);
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
	char *inv_json; /* canonical text, when an inventory came */
	char *rt_json;  /* canonical runtime facts, when they came */
	char rt_hash[65];
	bool rt_changed;  /* stored now: other than the host had */
	char *refused;    /* the host's inventory_refused, when the agent reports one */
	char **outputs;   /* compacted output_json per result */
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
		return pw_error_set(
			err, PW_ERR_INVALID,
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

static pw_err prepare_runtime(struct checkin *c, pw_error *err)
{
	if (!c->req->runtime)
		return PW_OK;
	pw_runtime rt;
	pw_err rc = pw_runtime_from_json(&rt, c->req->runtime, err);
	if (rc)
		return pw_error_prefix(err, "check-in: ");
	cJSON *canon = pw_runtime_to_json(&rt);
	char *text = canon ? cJSON_PrintUnformatted(canon) : NULL;
	cJSON_Delete(canon);
	c->rt_json = text ? strdup(text) : NULL;
	cJSON_free(text);
	rc = c->rt_json ? pw_runtime_hash(&rt, c->rt_hash, err)
			: pw_error_set(err, PW_ERR_NOMEM, "check-in: out of memory");
	pw_runtime_release(&rt);
	return rc;
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
		return pw_error_set(err, PW_ERR_INVALID, "check-in: release: at most %d jobs",
				    PW_CHECKIN_MAX_RELEASE);
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
		if (!r->status ||
		    (strcmp(r->status, "ok") != 0 && strcmp(r->status, "failed") != 0))
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

static pw_err store_inventory(pw_db *db, struct checkin *c, const char *current, pw_error *err)
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
				    " os_id = ?, os_version_id = ?, os_codename = ?, "
				    "os_pretty_name = ?,"
				    " arch = COALESCE(?, arch), kernel = COALESCE(?, kernel) WHERE "
				    "id = ?",
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

/* The runtime facts go with the host, not the shared inventory: they
 * are this machine's processes. Stored only when they differ. */
static pw_err store_runtime(pw_db *db, struct checkin *c, pw_error *err)
{
	if (!c->rt_json)
		return PW_OK;
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "UPDATE hosts SET runtime = ?, runtime_hash = ?, runtime_at = ?"
			   " WHERE id = ? AND (runtime_hash IS NULL OR runtime_hash <> ?)"
			   " RETURNING id",
			   &st, err, "tttit", c->rt_json, c->rt_hash, c->now, c->agent->host_id,
			   c->rt_hash);
	if (!rc)
		rc = pw_stmt_step(st, &c->rt_changed, err);
	if (!rc && c->rt_changed) {
		pw_stmt_reset(st);
		c->reply->inventory_changed = true;
	}
	return rc;
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
	char until[PW_TS_LEN], wnow[PW_TS_LEN];
	pw_ts_now(until, q->lease_seconds > 0 ? q->lease_seconds : PW_JOB_LEASE);
	/* A job bound to a maintenance window only inside it (jobs.h). */
	pw_job_ts(pw_window_now(), wnow);
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "UPDATE jobs SET state = 'leased', leased_to = ?, lease_until = ?,"
			   " leased = ?, attempts = attempts + 1 WHERE id IN (SELECT id FROM jobs"
			   " WHERE host_id = ? AND " OPEN_JOB
			   " AND (not_before IS NULL OR not_before <= ?)"
			   " AND (not_after IS NULL OR not_after > ?)"
			   " ORDER BY id LIMIT ? {{skip_locked}})"
			   " RETURNING id, kind, args",
			   &st, err, "tttittti", c->agent->id, until, wnow, c->agent->host_id,
			   c->now, wnow, wnow, (int64_t)max);
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
		snprintf(o->kind, sizeof o->kind, "%s",
			 pw_stmt_text(st, 1) ? pw_stmt_text(st, 1) : "");
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
			   "SELECT h.inventory_hash, " OPEN_JOBS_EXIST ", " SEQ_HIGH(
				   "h.agent_id") " FROM hosts h WHERE h.id = ? AND h.agent_id = ?",
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
	if (ok && c->rt_changed)
		ok = cJSON_AddStringToObject(o, "runtime_hash", c->rt_hash) != NULL;
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
	if (!c->req->n_results && !c->inv_json && !c->req->n_release && !c->rt_changed)
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
	    (rc = store_inventory(db, c, current[0] ? current : NULL, err)) ||
	    (rc = store_runtime(db, c, err)))
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

pw_err pw_agent_checkin(pw_db *db, pw_agent *agent, const pw_checkin *req, pw_checkin_reply *reply,
			pw_error *err)
{
	pw_checkin_reply_release(reply);
	struct checkin c = {agent, req,  reply, PW_INVENTORY_INIT, NULL, NULL, {0}, false, NULL,
			    NULL,  NULL, {0}};
	pw_ts_now(c.now, 0);
	pw_err rc = prepare_inventory(&c, err);
	if (!rc)
		rc = prepare_runtime(&c, err);
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
			 !req->refused && !req->n_release && !req->runtime && req->inventory_hash &&
			 strcmp(agent->inventory_hash, req->inventory_hash) == 0;
	if (!rc)
		rc = unchanged ? touch(db, agent, c.now, err)
			       : pw_in_write_txn(db, checkin_txn, &c, err);
	if (!rc && unchanged)
		reply->seq_high = agent->seq_high;
	if (rc)
		pw_checkin_reply_release(reply);
	pw_inventory_release(&c.inv);
	free(c.inv_json);
	free(c.rt_json);
	free(c.refused);
	for (size_t i = 0; c.outputs && i < req->n_results; i++)
		free(c.outputs[i]);
	free(c.outputs);
	free(c.fates);
	return rc;
}
