/* Queuing a job (jobs.h): the kind's schema and roles, the expansion of
 * "findings" into the packages and versions the agent installs, the
 * check of named packages against the host's inventory, and the host's
 * maintenance window (window.h). */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/audit.h"
#include "patchwarden/clock.h"
#include "patchwarden/inventory.h"
#include "patchwarden/jobkind.h"
#include "patchwarden/jobs.h"
#include "patchwarden/pkgname.h"
#include "patchwarden/sql.h"
#include "patchwarden/window.h"

struct queue {
	const pw_job_request *r;
	const pw_job_kind *k;
	cJSON *args; /* the request's; rewritten as stored */
	pw_job_queued *out;
	char hostname[256];
	bool policy; /* the refusal is a policy's (window, emergency): audited */
};

void pw_job_ts(int64_t t, char out[PW_TS_LEN])
{
	char s[PW_TS_SECONDS_LEN];
	pw_ts_seconds(t, s);
	snprintf(out, PW_TS_LEN, "%.19s.000Z", s);
}

/* The host's stored inventory into inv; PW_ERR_INVALID when it has none
 * (a job that names packages needs one). */
static pw_err load_inventory(const char *json, struct queue *q, pw_inventory *inv, pw_error *err)
{
	if (!json)
		return pw_error_set(err, PW_ERR_INVALID,
				    "host %s has reported no inventory yet: a %s job that names "
				    "packages or findings needs one (queue an inventory job first)",
				    q->hostname, q->k->name);
	cJSON *j = cJSON_Parse(json);
	pw_err rc = j ? pw_inventory_from_json(inv, j, err)
		      : pw_error_set(err, PW_ERR_PARSE, "host %s: stored inventory is not JSON",
				     q->hostname);
	cJSON_Delete(j);
	return rc;
}

static const pw_package *installed(const pw_inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->n_pkgs; i++)
		if (!strcmp(inv->pkgs[i].name, name))
			return &inv->pkgs[i];
	return NULL;
}

/* Every package the arguments name is installed on the host. */
static pw_err names_installed(struct queue *q, const pw_inventory *inv, pw_error *err)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(q->args, "packages");
	int i = 0;
	for (const cJSON *e = p ? p->child : NULL; e; e = e->next, i++) {
		const cJSON *n = cJSON_IsString(e) ? e
						   : cJSON_GetObjectItemCaseSensitive(e, "name");
		if (!installed(inv, n->valuestring))
			return pw_error_set(err, PW_ERR_INVALID,
					    "packages[%d]: \"%s\" is not installed on host %s "
					    "(its stored inventory)",
					    i, n->valuestring, q->hostname);
	}
	return PW_OK;
}

/* Adds {name, version[, source]} to arr, or raises the version of the
 * entry for name already there to `version` when that is higher. */
static pw_err add_target(cJSON *arr, pw_scheme s, const char *name, const char *version,
			 const char *source, pw_error *err)
{
	for (cJSON *e = arr->child; e; e = e->next) {
		cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
		if (strcmp(n->valuestring, name))
			continue;
		cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "version");
		int cmp = 0;
		pw_err rc = pw_vercmp(s, version, v->valuestring, &cmp, err);
		if (!rc && cmp > 0 && !cJSON_SetValuestring(v, version))
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		return rc;
	}
	if (cJSON_GetArraySize(arr) >= PW_JOB_MAX_PACKAGES)
		return pw_error_set(err, PW_ERR_INVALID,
				    "findings: they come to more than %d packages; queue fewer "
				    "findings per job",
				    PW_JOB_MAX_PACKAGES);
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "name", name) ||
	    !cJSON_AddStringToObject(o, "version", version) ||
	    (source && !cJSON_AddStringToObject(o, "source", source)) ||
	    !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	return PW_OK;
}

/* "findings": [ids] -> "packages" (what the agent installs) and
 * "from_findings" (the ids, for the proof). A finding matched by source
 * package (Debian, Ubuntu) names the source: every binary the host has
 * from that source is upgraded, to the fixed version of the source (the
 * entry's "source" says the version is the source's: a binNMU binary,
 * 1.2-3+b1 from source 1.2-3, is the repository's binary built from that
 * source version, whatever its own suffix). Else the finding names the
 * installed package itself. Two findings of one package: the higher
 * fixed version. */
static pw_err expand_findings(pw_db *db, struct queue *q, const pw_inventory *inv, pw_error *err)
{
	cJSON *ids = cJSON_DetachItemFromObjectCaseSensitive(q->args, "findings");
	cJSON *pkgs = cJSON_CreateArray();
	pw_err rc = pkgs ? PW_OK : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	for (const cJSON *e = ids->child; e && !rc; e = e->next) {
		int64_t id = (int64_t)e->valuedouble;
		pw_stmt *st;
		bool row = false;
		rc = pw_sql(db,
			    "SELECT package, fixed, by_source FROM findings"
			    " WHERE id = ? AND host_id = ? AND fixed_at IS NULL",
			    &st, err, "ii", id, q->r->host_id);
		if (!rc)
			rc = pw_stmt_step(st, &row, err);
		if (rc)
			break;
		if (!row) {
			rc = pw_error_set(err, PW_ERR_INVALID,
					  "findings: %" PRId64 " is not an open finding of host %s",
					  id, q->hostname);
			break;
		}
		char *pkg = strdup(pw_stmt_text(st, 0) ? pw_stmt_text(st, 0) : "");
		char *fixed = strdup(pw_stmt_text(st, 1) ? pw_stmt_text(st, 1) : "");
		bool by_source = pw_stmt_int(st, 2) != 0;
		pw_stmt_reset(st);
		size_t found = 0;
		for (size_t i = 0; pkg && fixed && i < inv->n_pkgs && !rc; i++) {
			const pw_package *p = &inv->pkgs[i];
			const char *src = p->source ? p->source : p->name;
			if (strcmp(by_source ? src : p->name, pkg))
				continue;
			found++;
			rc = add_target(pkgs, inv->scheme, p->name, fixed, by_source ? pkg : NULL,
					err);
		}
		if (!pkg || !fixed)
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		else if (!rc && !found)
			rc = pw_error_set(
				err, PW_ERR_INVALID,
				"findings: finding %" PRId64 " names %s, which host %s's "
				"stored inventory no longer has; wait for its findings to "
				"be recomputed",
				id, pkg, q->hostname);
		free(pkg);
		free(fixed);
	}
	if (!rc) {
		cJSON_AddItemToObject(q->args, "packages", pkgs);
		cJSON_AddItemToObject(q->args, "from_findings", ids);
		return PW_OK;
	}
	cJSON_Delete(pkgs);
	cJSON_Delete(ids);
	return rc;
}

/* The maintenance window: out->not_before/not_after, or a refusal. */
static pw_err fit_window(struct queue *q, const char *text, pw_error *err)
{
	const char *roles = q->k->emergency_by;
	if (!text) {
		q->policy = true;
		return pw_error_set(
			err, PW_ERR_CONFLICT,
			"host %s has no maintenance window: a %s job runs only in one; "
			"set the host's maintenance_window (\"always\" for any time) or "
			"queue it with \"emergency\": true (roles %s)",
			q->hostname, q->k->name, roles);
	}
	pw_window w;
	pw_err rc = pw_window_parse(text, &w, err);
	if (rc || w.always)
		return rc;
	int64_t now = pw_window_now(), start, end;
	if (pw_window_at(&w, now, NULL, &end)) {
		pw_job_ts(end, q->out->not_after);
		return PW_OK;
	}
	pw_window_next(&w, now, &start, &end);
	char at[PW_TS_LEN];
	pw_job_ts(start, at);
	if (pw_job_arg_true(q->args, "at_window")) {
		memcpy(q->out->not_before, at, PW_TS_LEN);
		pw_job_ts(end, q->out->not_after);
		return PW_OK;
	}
	q->policy = true;
	return pw_error_set(err, PW_ERR_CONFLICT,
			    "host %s is outside its maintenance window (%s, UTC); the next one "
			    "starts %s: queue the %s job with \"at_window\": true to run it then, "
			    "or with \"emergency\": true (roles %s) to run it now",
			    q->hostname, text, at, q->k->name, roles);
}

static pw_err audit_job(pw_db *db, struct queue *q, const char *action, int64_t id, const char *why,
			pw_error *err)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *args = cJSON_Duplicate(q->args, true);
	bool ok = o && args && (!id || cJSON_AddNumberToObject(o, "job_id", (double)id)) &&
		  cJSON_AddStringToObject(o, "kind", q->k->name);
	if (ok)
		cJSON_AddItemToObject(o, "args", args);
	else
		cJSON_Delete(args);
	ok = ok &&
	     (!q->out->not_before[0] ||
	      cJSON_AddStringToObject(o, "not_before", q->out->not_before)) &&
	     (!q->out->not_after[0] ||
	      cJSON_AddStringToObject(o, "not_after", q->out->not_after)) &&
	     (!q->out->emergency || cJSON_AddTrueToObject(o, "emergency")) &&
	     (!why || cJSON_AddStringToObject(o, "refused", why));
	char *after = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	char target[32];
	snprintf(target, sizeof target, "host:%" PRId64, q->r->host_id);
	pw_err rc = after ? pw_audit_append(db, q->r->actor, action, target, NULL, after, NULL, err)
			  : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	cJSON_free(after);
	return rc;
}

static pw_err queue_txn(pw_db *db, void *arg, pw_error *err)
{
	struct queue *q = arg;
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db,
			   "SELECT h.hostname, h.maint_window, i.json, h.health_check,"
			   " h.backup_check FROM hosts h"
			   " LEFT JOIN inventories i ON i.hash = h.inventory_hash WHERE h.id = ?",
			   &st, err, "i", q->r->host_id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	if (!row)
		return pw_error_set(err, PW_ERR_NOTFOUND, "there is no host %" PRId64,
				    q->r->host_id);
	bool oom = false;
	snprintf(q->hostname, sizeof q->hostname, "%s",
		 pw_stmt_text(st, 0) ? pw_stmt_text(st, 0) : "?");
	char *window = pw_col_dup(st, 1, &oom), *inv_json = pw_col_dup(st, 2, &oom);
	/* health and backup_check run what the host record configures. */
	const char *check = !strcmp(q->k->name, "health")         ? "health_check"
			    : !strcmp(q->k->name, "backup_check") ? "backup_check"
								  : NULL;
	bool unset = check && pw_stmt_is_null(st, !strcmp(check, "health_check") ? 3 : 4);
	pw_stmt_reset(st);
	if (unset) {
		free(window);
		free(inv_json);
		return pw_error_set(err, PW_ERR_INVALID,
				    "host %s has no %s to run: set it first (patchwarden host set "
				    "%s %s=...)",
				    q->hostname, check, q->hostname, check);
	}
	pw_inventory inv = PW_INVENTORY_INIT;
	bool names = cJSON_GetObjectItemCaseSensitive(q->args, "packages") != NULL;
	bool findings = cJSON_GetObjectItemCaseSensitive(q->args, "findings") != NULL;
	if (oom)
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (!rc && (names || findings))
		rc = load_inventory(inv_json, q, &inv, err);
	if (!rc && names)
		rc = names_installed(q, &inv, err);
	if (!rc && findings)
		rc = expand_findings(db, q, &inv, err);
	if (!rc && (names || findings))
		rc = pw_job_args_check_scheme(q->k, q->args, inv.scheme, err);
	if (!rc && q->k->windowed && !q->out->emergency)
		rc = fit_window(q, window, err);
	free(window);
	free(inv_json);
	pw_inventory_release(&inv);
	char *text = rc ? NULL : cJSON_PrintUnformatted(q->args);
	if (!rc && !text)
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	if (!rc)
		rc = pw_sql(db,
			    "INSERT INTO jobs (host_id, kind, args, state, created, created_by,"
			    " not_before, not_after, emergency)"
			    " VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?) RETURNING id",
			    &st, err, "itttttti", q->r->host_id, q->k->name, text, now, q->r->actor,
			    q->out->not_before[0] ? q->out->not_before : NULL,
			    q->out->not_after[0] ? q->out->not_after : NULL,
			    (int64_t)q->out->emergency);
	cJSON_free(text);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc)
		return rc;
	q->out->id = pw_stmt_int(st, 0);
	pw_stmt_reset(st);
	return audit_job(db, q, "job.create", q->out->id, NULL, err);
}

struct refusal {
	struct queue *q;
	const char *why;
};

static pw_err refusal_txn(pw_db *db, void *arg, pw_error *err)
{
	struct refusal *f = arg;
	return audit_job(db, f->q, "job.refuse", 0, f->why, err);
}

/* A refusal by policy is audited (job.refuse) in a transaction of its
 * own, since the queuing one rolled back; the refusal is what the caller
 * gets whether or not that write succeeds. */
static void audit_refusal(pw_db *db, struct queue *q, const pw_error *why)
{
	struct refusal f = {q, why ? why->msg : ""};
	pw_error e = PW_ERROR_INIT;
	(void)pw_in_write_txn(db, refusal_txn, &f, &e);
}

pw_err pw_job_queue(pw_db *db, const pw_job_request *r, pw_job_queued *out, pw_error *err)
{
	*out = (pw_job_queued){.id = 0};
	const pw_job_kind *k = pw_job_kind_find(r->kind);
	if (!k)
		return pw_error_set(err, PW_ERR_INVALID,
				    "job kind \"%.40s\" is not known; use one of %s",
				    r->kind ? r->kind : "", pw_job_kind_names());
	cJSON *args = cJSON_Parse(r->args_json ? r->args_json : "{}");
	if (!cJSON_IsObject(args)) {
		cJSON_Delete(args);
		return pw_error_set(err, PW_ERR_INVALID, "job arguments must be a JSON object");
	}
	struct queue q = {r, k, args, out, "", false};
	out->emergency = pw_job_arg_true(args, "emergency");
	pw_err rc = pw_job_args_check_request(k, args, err);
	if (!rc && out->emergency && pw_job_arg_true(args, "at_window"))
		rc = pw_error_set(
			err, PW_ERR_INVALID,
			"\"emergency\" and \"at_window\" exclude each other: an emergency "
			"runs now, at_window waits for the maintenance window");
	if (!rc && r->role) {
		rc = pw_job_role_check(k, r->role, args, err);
		q.policy = rc && out->emergency;
	}
	/* The campaign driver queues a job and records it on its campaign
	 * host in one transaction: a caller's open one is joined. */
	if (!rc)
		rc = pw_db_in_transaction(db) ? queue_txn(db, &q, err)
					      : pw_in_write_txn(db, queue_txn, &q, err);
	if (rc && q.policy && !pw_db_in_transaction(db))
		audit_refusal(db, &q, err);
	cJSON_Delete(args);
	return rc;
}

pw_err pw_job_create(pw_db *db, const char *actor, int64_t host_id, const char *kind,
		     const char *args_json, int64_t *id, pw_error *err)
{
	pw_job_request r = {actor, NULL, host_id, kind, args_json};
	pw_job_queued out;
	pw_err rc = pw_job_queue(db, &r, &out, err);
	if (!rc && id)
		*id = out.id;
	return rc;
}

cJSON *pw_job_queued_to_json(const pw_job_queued *q, int64_t host_id, const char *kind)
{
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddNumberToObject(o, "job_id", (double)q->id) ||
	    !cJSON_AddNumberToObject(o, "host_id", (double)host_id) ||
	    !cJSON_AddStringToObject(o, "kind", kind) ||
	    !cJSON_AddStringToObject(o, "state", "queued") ||
	    !cJSON_AddBoolToObject(o, "emergency", q->emergency) ||
	    !(q->not_before[0] ? cJSON_AddStringToObject(o, "not_before", q->not_before)
			       : cJSON_AddNullToObject(o, "not_before")) ||
	    !(q->not_after[0] ? cJSON_AddStringToObject(o, "not_after", q->not_after)
			      : cJSON_AddNullToObject(o, "not_after"))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ---- deadlines --------------------------------------------------------- */

struct deadlines {
	const char *actor;
	int64_t reboot_timeout;
	size_t failed;
};

static const char reboot_gone[] = "the host did not report back within [jobs] reboot_timeout "
				  "after it was handed the reboot";
static const char window_closed[] = "the maintenance window closed before the host's agent "
				    "took (or finished) the job";
/* A kind outside the windows has a not_after only as a deadline (the
 * campaign driver's: campaigns.h). */
static const char deadline_passed[] = "the host's agent did not take (or finish) the job "
				      "before its deadline: is the host up and its agent running?";

/* Fails the jobs `sql` selects (id, host_id, kind; binds a and b) with
 * `why`; a kind outside the windows, whose not_after can only be a
 * deadline, with deadline_passed. */
static pw_err fail_each(pw_db *db, struct deadlines *d, const char *sql, const char *a,
			const char *b, const char *now, const char *why, pw_error *err)
{
	pw_stmt *st;
	int64_t ids[64], hosts[64];
	const char *whys[64];
	size_t n = 0;
	pw_err rc = pw_sql(db, sql, &st, err, "tt", a, b);
	while (!rc && n < 64) {
		bool row = false;
		rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			break;
		const pw_job_kind *k = pw_job_kind_find(pw_stmt_text(st, 2));
		whys[n] = k && k->windowed ? why : deadline_passed;
		ids[n] = pw_stmt_int(st, 0);
		hosts[n++] = pw_stmt_int(st, 1);
	}
	if (!rc && n == 64)
		pw_stmt_reset(st);
	for (size_t i = 0; i < n && !rc; i++) {
		rc = pw_sql(db,
			    "UPDATE jobs SET state = 'failed', finished = ?, lease_until = NULL,"
			    " message = ? WHERE id = ? AND state IN ('queued', 'leased')",
			    &st, err, "tti", now, whys[i], ids[i]);
		if (!rc)
			rc = pw_stmt_exec(st, err);
		char target[32], after[PW_ERROR_MSG_MAX];
		snprintf(target, sizeof target, "host:%" PRId64, hosts[i]);
		snprintf(after, sizeof after,
			 "{\"job_id\":%" PRId64 ",\"state\":\"failed\",\"message\":\"%s\"}", ids[i],
			 whys[i]);
		if (!rc)
			rc = pw_audit_append(db, d->actor, "job.fail", target, NULL, after, NULL,
					     err);
		d->failed += !rc;
	}
	return rc;
}

static pw_err deadlines_txn(pw_db *db, void *arg, pw_error *err)
{
	struct deadlines *d = arg;
	int64_t t = pw_window_now();
	char now[PW_TS_LEN], cutoff[PW_TS_LEN];
	pw_job_ts(t, now);
	pw_job_ts(t - d->reboot_timeout, cutoff);
	pw_err rc = fail_each(db, d,
			      "SELECT id, host_id, kind FROM jobs WHERE kind = 'reboot' AND"
			      " state = 'leased' AND leased < ? AND leased <> ? ORDER BY id",
			      cutoff, "", now, reboot_gone, err);
	/* Leases run on the wall clock (checkin.c), windows on pw_window_now:
	 * the same clock but in tests. */
	char wall[PW_TS_LEN];
	pw_ts_now(wall, 0);
	if (!rc)
		rc = fail_each(
			db, d,
			"SELECT id, host_id, kind FROM jobs WHERE state IN ('queued', 'leased')"
			" AND (state = 'queued' OR lease_until < ?) AND not_after <= ?"
			" ORDER BY id",
			wall, now, now, window_closed, err);
	return rc;
}

pw_err pw_job_deadlines(pw_db *db, const char *actor, int64_t reboot_timeout, size_t *failed,
			pw_error *err)
{
	struct deadlines d = {actor, reboot_timeout, 0};
	pw_err rc = pw_in_write_txn(db, deadlines_txn, &d, err);
	*failed = rc ? 0 : d.failed;
	return rc;
}
