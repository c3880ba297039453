/* The patch driver (campaigns.h, pw_campaign_drive): what makes a
 * running campaign act through the agents. For each host it queues the
 * job its state needs and, once the job's result is in, takes the job's
 * outcome through the state machine (pw_campaign_job_outcome).
 *
 * Restart safety: every job queued is recorded in campaign_jobs in the
 * transaction that queues it, and the row is marked handled in the
 * transaction that takes its outcome; a row is looked up by (purpose,
 * round = the host's patches), so a driver killed anywhere either finds
 * the job it queued or queues it, never both, and never takes an outcome
 * twice. */
#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/audit.h"
#include "patchwarden/campaigns.h"
#include "patchwarden/findings.h"
#include "patchwarden/jobkind.h"
#include "patchwarden/jobs.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/sql.h"
#include "patchwarden/window.h"

#include "campaign-internal.h"

struct drive {
	pw_db *db;
	pw_feedstore *store;
	const pw_policy *policy;
	const char *actor;
	int64_t now;
	char ts[PW_TS_LEN];
	pw_campaign_drive_stats *st;
	int64_t cid, snapshot, soak;
	bool emergency;
};

struct dhost {
	int64_t host_id, ticket_id, patches;
	int wave;
	pw_chost_state state;
	char hostname[256];
	char *findings, *window; /* the selected ids (JSON); the maintenance window */
	bool has_backup, has_health;
};

/* A campaign_jobs row with its job and the job's newest result. */
struct cjob {
	bool found, finished, ok;
	int64_t id, job_id;
	char handled[16], handled_at[PW_TS_LEN];
	char *result, *output, *message;
};

static void cjob_release(struct cjob *j)
{
	free(j->result);
	free(j->output);
	free(j->message);
	memset(j, 0, sizeof *j);
}

static pw_err oom(pw_error *err)
{
	return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
}

static const char *str_or(const char *s)
{
	return s ? s : "-";
}

static pw_err load_cjob(struct drive *d, const struct dhost *h, const char *purpose, struct cjob *j,
			pw_error *err)
{
	pw_stmt *st;
	bool row = false, nomem = false;
	memset(j, 0, sizeof *j);
	pw_err rc = pw_sql(
		d->db,
		"SELECT c.id, c.job_id, c.handled, c.result, j.state, r.status, r.output,"
		" j.message, c.handled_at FROM campaign_jobs c JOIN jobs j ON j.id = c.job_id"
		" LEFT JOIN job_results r ON r.job_id = j.id WHERE c.campaign_id = ?"
		" AND c.host_id = ? AND c.purpose = ? AND c.round = ?"
		" ORDER BY c.id DESC, r.received DESC LIMIT 1",
		&st, err, "iiti", d->cid, h->host_id, purpose, h->patches);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc || !row)
		return rc;
	const char *state = pw_stmt_text(st, 4), *status = pw_stmt_text(st, 5);
	j->found = true;
	j->id = pw_stmt_int(st, 0);
	j->job_id = pw_stmt_int(st, 1);
	snprintf(j->handled, sizeof j->handled, "%s",
		 pw_stmt_text(st, 2) ? pw_stmt_text(st, 2) : "");
	j->finished = state && (!strcmp(state, "done") || !strcmp(state, "failed"));
	j->ok = j->finished && !strcmp(state, "done") && status && !strcmp(status, "ok");
	j->result = pw_col_dup(st, 3, &nomem);
	j->output = pw_col_dup(st, 6, &nomem);
	j->message = pw_col_dup(st, 7, &nomem);
	snprintf(j->handled_at, sizeof j->handled_at, "%s",
		 pw_stmt_text(st, 8) ? pw_stmt_text(st, 8) : "");
	pw_stmt_reset(st);
	return nomem ? oom(err) : PW_OK;
}

/* A ticket event of the driver that does not move the host, and its
 * audit event "campaign.<action>" in the same transaction. */
static pw_err note_event(struct drive *d, const struct dhost *h, const char *action,
			 const char *note, const cJSON *detail, pw_error *err)
{
	char *text = detail ? cJSON_PrintUnformatted(detail) : NULL;
	cJSON *a = cJSON_CreateObject();
	bool ok = (!detail || text) && a && pw_json_add_int(a, "campaign", d->cid) &&
		  pw_json_add_str(a, "host", h->hostname) &&
		  pw_json_add_int(a, "ticket", h->ticket_id) && pw_json_add_str(a, "note", note) &&
		  (!detail || cJSON_AddItemToObject(a, "detail", cJSON_Duplicate(detail, true)));
	/* A halted campaign waits for its operator (resume, skip, rollback). */
	struct ticket_event e = {
		h->ticket_id, d->ts,    d->actor,
		action,       note,     text,
		h->state,     h->state, !strcmp(action, "halt") ? "operator" : NULL};
	pw_err rc = ok ? pw_campaign_ticket_event(d->db, &e, err) : oom(err);
	char what[64];
	snprintf(what, sizeof what, "campaign.%s", action);
	if (!rc)
		rc = pw_campaign_audit(d->db, d->actor, what, d->cid, a, err);
	cJSON_Delete(a);
	cJSON_free(text);
	return rc;
}

/* The selected findings into o: "findings" with the ones still open, or,
 * when none is (a failed patch left a package half-installed at the fixed
 * version, which the host's findings count as fixed), "packages" at the
 * fixed versions, so the step is done again as resume promises. */
static pw_err patch_set(struct drive *d, const struct dhost *h, cJSON *o, pw_error *err)
{
	cJSON *sel = cJSON_Parse(h->findings);
	cJSON *ids = cJSON_AddArrayToObject(o, "findings"), *pkgs = cJSON_CreateArray();
	const cJSON *id;
	pw_err rc = !ids || !pkgs        ? oom(err)
		    : cJSON_IsArray(sel) ? PW_OK
					 : pw_error_set(err, PW_ERR_STORE,
							"campaign %" PRId64
							", %s: its findings are not a JSON array",
							d->cid, h->hostname);
	cJSON_ArrayForEach(id, sel) {
		pw_stmt *st;
		bool row = false;
		if (!rc)
			rc = pw_sql(
				d->db,
				"SELECT package, fixed, CASE WHEN fixed_at IS NULL THEN 1 ELSE 0"
				" END FROM findings"
				" WHERE id = ? AND host_id = ?",
				&st, err, "ii", (int64_t)id->valuedouble, h->host_id);
		if (!rc)
			rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			continue;
		cJSON *p = cJSON_CreateObject();
		bool ok = p && cJSON_AddItemToArray(pkgs, p) &&
			  pw_json_add_str(p, "name", pw_stmt_text(st, 0)) &&
			  pw_json_add_str(p, "version", pw_stmt_text(st, 1)) &&
			  (!pw_stmt_int(st, 2) ||
			   cJSON_AddItemToArray(ids, cJSON_Duplicate(id, false)));
		pw_stmt_reset(st);
		if (!ok)
			rc = oom(err);
	}
	cJSON_Delete(sel);
	if (!rc && !cJSON_GetArraySize(ids)) {
		cJSON_DeleteItemFromObject(o, "findings");
		cJSON_AddItemToObject(o, "packages", pkgs);
		pkgs = NULL;
	}
	cJSON_Delete(pkgs);
	return rc;
}

/* Each package the newest patch job upgraded, at the version it had
 * before: what its output says, as the agent saw dpkg before and after.
 * A package the patch newly installed has no older version to go back to
 * and stays. */
pw_err pw_campaign_rollback_set(pw_db *db, int64_t campaign, int64_t host_id, cJSON **pkgs,
				int64_t *patch_job, pw_error *err)
{
	pw_stmt *st;
	bool row = false, nomem = false;
	char *text = NULL;
	*patch_job = 0;
	*pkgs = cJSON_CreateArray();
	pw_err rc =
		*pkgs ? pw_sql(db,
			       "SELECT c.job_id, r.output FROM campaign_jobs c"
			       " LEFT JOIN job_results r ON r.job_id = c.job_id"
			       " WHERE c.campaign_id = ? AND c.host_id = ? AND c.purpose = 'patch'"
			       " ORDER BY c.id DESC, r.received DESC LIMIT 1",
			       &st, err, "ii", campaign, host_id)
		      : oom(err);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (!rc && row) {
		*patch_job = pw_stmt_int(st, 0);
		text = pw_col_dup(st, 1, &nomem);
		pw_stmt_reset(st);
	}
	cJSON *out = text ? cJSON_Parse(text) : NULL;
	free(text);
	const cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(out, "packages")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(p, "name"));
		const char *before = cJSON_GetStringValue(cJSON_GetObjectItem(p, "before"));
		const char *after = cJSON_GetStringValue(cJSON_GetObjectItem(p, "after"));
		if (!name || !before || !after || !strcmp(before, after))
			continue;
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(*pkgs, o) || !pw_json_add_str(o, "name", name) ||
		    !pw_json_add_str(o, "version", before)) {
			cJSON_Delete(o);
			nomem = true;
		}
	}
	cJSON_Delete(out);
	if (!rc && nomem)
		rc = oom(err);
	if (rc) {
		cJSON_Delete(*pkgs);
		*pkgs = NULL;
	}
	return rc;
}

/* The job's arguments: patch and simulate take the selected findings,
 * rollback what the patch upgraded. */
static pw_err job_args(struct drive *d, const struct dhost *h, const char *kind, char **out,
		       pw_error *err)
{
	cJSON *o = cJSON_CreateObject();
	pw_err rc = o ? PW_OK : oom(err);
	bool windowed = !strcmp(kind, "patch") || !strcmp(kind, "rollback");
	if (!rc && (!strcmp(kind, "patch") || !strcmp(kind, "simulate")))
		rc = patch_set(d, h, o, err);
	if (!rc && !strcmp(kind, "rollback")) {
		cJSON *pkgs = NULL;
		int64_t patch_job;
		rc = pw_campaign_rollback_set(d->db, d->cid, h->host_id, &pkgs, &patch_job, err);
		if (!rc && !cJSON_AddItemToObject(o, "packages", pkgs)) {
			cJSON_Delete(pkgs);
			rc = oom(err);
		}
	}
	if (!rc && windowed &&
	    !cJSON_AddBoolToObject(o, d->emergency ? "emergency" : "at_window", true))
		rc = oom(err);
	*out = rc ? NULL : cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return rc ? rc : *out ? PW_OK : oom(err);
}

/* Whether the step's job is to be queued again: a failed step the
 * operator resumed ("retry"), or a failed backup check after
 * PW_CAMPAIGN_BACKUP_RETRY. */
static bool due_again(const struct drive *d, const char *purpose, const struct cjob *j)
{
	if (!strcmp(j->handled, "retry"))
		return true;
	if (strcmp(purpose, "backup") != 0 || strcmp(j->handled, "failed") != 0)
		return false;
	char due[PW_TS_LEN];
	pw_job_ts(d->now - PW_CAMPAIGN_BACKUP_RETRY, due);
	return strcmp(j->handled_at, due) <= 0;
}

struct queue_ctx {
	struct drive *d;
	const struct dhost *h;
	const char *purpose, *kind;
};

static pw_err queue_txn(pw_db *db, void *arg, pw_error *err)
{
	struct queue_ctx *q = arg;
	struct drive *d = q->d;
	struct cjob j;
	pw_err rc = pw_audit_serialize(db, err);
	/* Another node may have queued it since we looked. */
	if (!rc)
		rc = load_cjob(d, q->h, q->purpose, &j, err);
	bool again = !rc && j.found && !due_again(d, q->purpose, &j);
	cjob_release(&j);
	if (rc || again)
		return rc;
	char *args = NULL;
	rc = job_args(d, q->h, q->kind, &args, err);
	pw_job_request r = {d->actor, NULL, q->h->host_id, q->kind, args};
	pw_job_queued out;
	if (!rc)
		rc = pw_job_queue(db, &r, &out, err);
	free(args);
	pw_stmt *st;
	if (!rc)
		rc = pw_sql(
			db,
			"INSERT INTO campaign_jobs (campaign_id, host_id, purpose, round, job_id,"
			" queued) VALUES (?, ?, ?, ?, ?, ?)",
			&st, err, "iitiit", d->cid, q->h->host_id, q->purpose, q->h->patches,
			out.id, d->ts);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	/* Outside the windows the job gets a deadline instead: a host that
	 * does not come back halts the campaign rather than stall it. */
	const pw_job_kind *k = pw_job_kind_find(q->kind);
	if (!rc && !(k && k->windowed)) {
		pw_job_ts(d->now + PW_CAMPAIGN_JOB_DEADLINE, out.not_after);
		rc = pw_sql(db, "UPDATE jobs SET not_after = ? WHERE id = ?", &st, err, "ti",
			    out.not_after, out.id);
		if (!rc)
			rc = pw_stmt_exec(st, err);
	}
	cJSON *e = rc ? NULL : cJSON_CreateObject();
	if (!rc &&
	    !(e && pw_json_add_int(e, "job", out.id) && pw_json_add_str(e, "kind", q->kind) &&
	      pw_json_add_str(e, "purpose", q->purpose) &&
	      pw_json_add_str(e, "not_after", out.not_after[0] ? out.not_after : NULL)))
		rc = oom(err);
	char note[96];
	snprintf(note, sizeof note, "%s job %" PRId64 " queued (%s)", q->kind, out.id, q->purpose);
	if (!rc)
		rc = note_event(d, q->h, "job-queued", note, e, err);
	cJSON_Delete(e);
	if (!rc)
		d->st->queued++;
	return rc;
}

static pw_err queue(struct drive *d, const struct dhost *h, const char *purpose, const char *kind,
		    pw_error *err)
{
	struct queue_ctx q = {d, h, purpose, kind};
	pw_err rc = pw_in_write_txn(d->db, queue_txn, &q, err);
	return rc ? pw_error_prefix(err, "campaign %" PRId64 ", %s: queuing %s: ", d->cid,
				    h->hostname, kind)
		  : PW_OK;
}

/* ---- scans -------------------------------------------------------------- */

static pw_err add_finding(void *ctx, const pw_host_finding *f, pw_error *err)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *cves = o ? cJSON_AddArrayToObject(o, "cves") : NULL;
	bool ok = cves && cJSON_AddItemToArray(ctx, o);
	if (!ok)
		cJSON_Delete(o);
	ok = ok && pw_json_add_str(o, "package", f->package) &&
	     pw_json_add_str(o, "advisory", f->advisory) &&
	     pw_json_add_str(o, "installed", f->installed) && pw_json_add_str(o, "fixed", f->fixed);
	for (const char *p = f->cves; ok && p && *p;) {
		size_t n = strcspn(p, ",");
		char cve[64];
		snprintf(cve, sizeof cve, "%.*s", (int)(n < 63 ? n : 63), p);
		ok = cJSON_AddItemToArray(cves, cJSON_CreateString(cve));
		p += n + (p[n] == ',');
	}
	return ok ? PW_OK : oom(err);
}

/* The findings of an inventory job's output against `snapshot`. */
static pw_err scan(struct drive *d, const struct cjob *j, int64_t snapshot, cJSON **out,
		   pw_error *err)
{
	*out = cJSON_CreateArray();
	if (!*out)
		return oom(err);
	if (!j->output)
		return pw_error_set(err, PW_ERR_INVALID,
				    "inventory job %" PRId64 " has no inventory in its result",
				    j->job_id);
	return pw_findings_scan_inventory(d->store, snapshot, d->policy, j->output, add_finding,
					  *out, err);
}

static bool same(const cJSON *a, const cJSON *b)
{
	const char *pa = cJSON_GetStringValue(cJSON_GetObjectItem(a, "package"));
	const char *pb = cJSON_GetStringValue(cJSON_GetObjectItem(b, "package"));
	const char *aa = cJSON_GetStringValue(cJSON_GetObjectItem(a, "advisory"));
	const char *ab = cJSON_GetStringValue(cJSON_GetObjectItem(b, "advisory"));
	return pa && pb && aa && ab && !strcmp(pa, pb) && !strcmp(aa, ab);
}

static bool in(const cJSON *arr, const cJSON *f)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, arr) {
		if (same(x, f))
			return true;
	}
	return false;
}

/* Into `to` the members of `a` that are (want) or are not in `b`. */
static bool pick(cJSON *to, const cJSON *a, const cJSON *b, bool want)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, a) {
		if (in(b, x) == want && !cJSON_AddItemToArray(to, cJSON_Duplicate(x, true)))
			return false;
	}
	return true;
}

/* Whether a finding of the scan `post` is one of the host's selected
 * findings (by package and advisory). */
static pw_err selected_left(struct drive *d, const struct dhost *h, const cJSON *post, bool *left,
			    pw_error *err)
{
	cJSON *sel = cJSON_Parse(h->findings);
	const cJSON *id;
	pw_err rc = PW_OK;
	*left = false;
	cJSON_ArrayForEach(id, sel) {
		pw_stmt *st;
		bool row = false;
		if (!rc)
			rc = pw_sql(d->db, "SELECT package, advisory FROM findings WHERE id = ?",
				    &st, err, "i", (int64_t)id->valuedouble);
		if (!rc)
			rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			continue;
		cJSON *f = cJSON_CreateObject();
		if (f && pw_json_add_str(f, "package", pw_stmt_text(st, 0)) &&
		    pw_json_add_str(f, "advisory", pw_stmt_text(st, 1)))
			*left = *left || in(post, f);
		cJSON_Delete(f);
		pw_stmt_reset(st);
	}
	cJSON_Delete(sel);
	return rc;
}

/* ---- halting ------------------------------------------------------------ */

/* Halts the running campaign, saying why on the host's ticket; `notify`
 * the operators too, unless the outcome step that halted it did. */
static pw_err halt(struct drive *d, const struct dhost *h, const char *why, bool notify,
		   pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(d->db,
			   "UPDATE campaigns SET state = 'halted', updated = ? WHERE id = ?"
			   " AND state = 'running'",
			   &st, err, "ti", d->ts, d->cid);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	cJSON *o = cJSON_CreateObject();
	if (!rc && !(o && pw_json_add_int(o, "campaign", d->cid) &&
		     pw_json_add_str(o, "host", h->hostname) && pw_json_add_str(o, "reason", why)))
		rc = oom(err);
	char note[PW_ERROR_MSG_MAX + 1024];
	snprintf(note, sizeof note,
		 "campaign %" PRId64
		 " halted: %.400s; an operator must look at it and run 'campaign "
		 "resume %" PRId64 "' (the step is done again), 'campaign skip %" PRId64
		 " --host %s --reason TEXT', 'campaign rollback %" PRId64 " --host %s' or "
		 "'campaign cancel %" PRId64 "'",
		 d->cid, why, d->cid, d->cid, h->hostname, d->cid, h->hostname, d->cid);
	if (!rc)
		rc = note_event(d, h, "halt", note, o, err);
	if (!rc && notify)
		rc = pw_campaign_notice_halt(d->db, d->cid, why, err);
	cJSON_Delete(o);
	if (!rc)
		d->st->halted++;
	return rc;
}

/* "patch job 12 failed: <message>" from the job's output or message. */
static void failure(const struct cjob *j, const char *kind, char *out, size_t size)
{
	cJSON *o = j->output ? cJSON_Parse(j->output) : NULL;
	const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(o, "message"));
	if (!m)
		m = cJSON_GetStringValue(cJSON_GetObjectItem(o, "error"));
	if (!m)
		m = j->message;
	snprintf(out, size, "%s job %" PRId64 " failed%s%.300s", kind, j->job_id, m ? ": " : "",
		 m ? m : "");
	cJSON_Delete(o);
}

/* ---- outcomes ----------------------------------------------------------- */

struct finish_ctx {
	struct drive *d;
	const struct dhost *h;
	const char *purpose;
	struct cjob *j;
	cJSON *scan;  /* pre-scan, post-scan: the findings against the pinned snapshot */
	cJSON *since; /* post-scan: against the newest snapshot, when newer */
	int64_t newest;
};

static pw_err outcome(struct finish_ctx *f, pw_campaign_action a, pw_error *err)
{
	pw_err rc = pw_campaign_job_outcome(f->d->db, f->d->actor, f->d->cid, f->h->host_id, a,
					    f->j->job_id, f->d->now, err);
	if (!rc)
		f->d->st->outcomes++;
	return rc;
}

static pw_err mark(struct finish_ctx *f, const char *handled, const cJSON *result, pw_error *err)
{
	char *text = result ? cJSON_PrintUnformatted(result) : NULL;
	if (result && !text)
		return oom(err);
	pw_stmt *st;
	pw_err rc = pw_sql(f->d->db,
			   "UPDATE campaign_jobs SET handled = ?, handled_at = ?, result = ?"
			   " WHERE id = ?",
			   &st, err, "ttti", handled, f->d->ts, text, f->j->id);
	cJSON_free(text);
	return rc ? rc : pw_stmt_exec(st, err);
}

/* The post-scan's verdict: clean or still vulnerable, from its result. */
static pw_err verdict(struct finish_ctx *f, const char *result, pw_error *err)
{
	cJSON *r = result ? cJSON_Parse(result) : NULL;
	bool vulnerable = cJSON_IsTrue(cJSON_GetObjectItem(r, "vulnerable"));
	cJSON_Delete(r);
	return outcome(f, vulnerable ? PW_CA_POST_SCAN_VULNERABLE : PW_CA_POST_SCAN_CLEAN, err);
}

/* The diff of the post-scan against the host's pre-scan, on its ticket. */
static pw_err scan_diff(struct finish_ctx *f, cJSON **result, pw_error *err)
{
	struct drive *d = f->d;
	pw_stmt *st;
	bool row = false;
	char *pre_text = NULL;
	int64_t pre_job = 0;
	bool nomem = false;
	pw_err rc = pw_sql(d->db,
			   "SELECT result, job_id FROM campaign_jobs WHERE campaign_id = ?"
			   " AND host_id = ? AND purpose = 'pre-scan' AND handled = 'done'"
			   " ORDER BY id DESC LIMIT 1",
			   &st, err, "ii", d->cid, f->h->host_id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (!rc && row) {
		pre_text = pw_col_dup(st, 0, &nomem);
		pre_job = pw_stmt_int(st, 1);
		pw_stmt_reset(st);
	}
	cJSON *pre = pre_text ? cJSON_Parse(pre_text) : cJSON_CreateArray();
	free(pre_text);
	bool left = false;
	if (!rc)
		rc = selected_left(d, f->h, f->scan, &left, err);
	cJSON *o = cJSON_CreateObject(), *closed = NULL, *open = NULL, *fresh = NULL;
	bool ok = !nomem && pre && o && pw_json_add_int(o, "job", f->j->job_id) &&
		  pw_json_add_int(o, "pre_scan_job", pre_job) &&
		  pw_json_add_int(o, "snapshot", d->snapshot) &&
		  (closed = cJSON_AddArrayToObject(o, "closed")) &&
		  (open = cJSON_AddArrayToObject(o, "still_open")) &&
		  (fresh = cJSON_AddArrayToObject(o, "new")) && pick(closed, pre, f->scan, false) &&
		  pick(open, pre, f->scan, true) && pick(fresh, f->scan, pre, false) &&
		  cJSON_AddBoolToObject(o, "vulnerable", left);
	if (ok && f->since) {
		cJSON *since = cJSON_AddArrayToObject(o, "new_advisories_since");
		ok = since && pw_json_add_int(o, "newest_snapshot", f->newest) &&
		     pick(since, f->since, f->scan, false);
	}
	cJSON_Delete(pre);
	if (!rc && !ok)
		rc = oom(err);
	char note[200];
	snprintf(note, sizeof note,
		 "post-scan against feed snapshot %" PRId64 ": %d closed, %d still open, %d new%s",
		 d->snapshot, cJSON_GetArraySize(closed), cJSON_GetArraySize(open),
		 cJSON_GetArraySize(fresh), left ? "; still vulnerable" : "");
	if (!rc)
		rc = note_event(d, f->h, "scan-diff", note, o, err);
	if (rc)
		cJSON_Delete(o);
	else
		*result = o;
	return rc;
}

/* apt's reasons in a simulate job's log ("pwt-x : Depends: pwt-y but it
 * is not installable", "E: Unable to correct problems"), joined by "; ". */
static void apt_reasons(const char *log, char *out, size_t size)
{
	size_t len = 0;
	out[0] = '\0';
	for (const char *l = log; l && *l && len + 1 < size;) {
		size_t n = strcspn(l, "\n");
		bool reason = !strncmp(l, "E: ", 3);
		for (const char *p = l; !reason && p + 6 < l + n; p++)
			reason = !strncmp(p, "Depends:", 8) || !strncmp(p, "Conflicts:", 10) ||
				 !strncmp(p, "Breaks:", 7);
		if (reason) {
			while (n && (*l == ' ')) {
				l++;
				n--;
			}
			int w = snprintf(out + len, size - len, "%s%.*s", len ? "; " : "", (int)n,
					 l);
			len += w > 0 ? (size_t)w : 0;
		}
		l += n + (l[n] == '\n');
	}
	if (len >= size)
		out[size - 1] = '\0';
}

/* The dry run on the host: unresolvable when the job failed or apt says
 * the upgrade does not resolve (a done job with "resolves": false). */
static pw_err simulated(struct finish_ctx *f, pw_error *err)
{
	cJSON *out = f->j->output ? cJSON_Parse(f->j->output) : NULL;
	cJSON *o = cJSON_CreateObject();
	char why[400] = "";
	bool unresolvable = !f->j->ok || cJSON_IsFalse(cJSON_GetObjectItem(out, "resolves"));
	if (!f->j->ok) {
		failure(f->j, "simulate", why, sizeof why);
	} else if (unresolvable) {
		char reasons[300];
		apt_reasons(cJSON_GetStringValue(cJSON_GetObjectItem(out, "log")), reasons,
			    sizeof reasons);
		snprintf(why, sizeof why,
			 "simulate job %" PRId64 ": the upgrade does not resolve%s%s", f->j->job_id,
			 reasons[0] ? ": " : "", reasons);
	}
	cJSON *pk = cJSON_DetachItemFromObject(out, "packages");
	bool ok = o && pw_json_add_int(o, "job", f->j->job_id) &&
		  cJSON_AddBoolToObject(o, "unresolvable", unresolvable) &&
		  pw_json_add_str(o, "message", why[0] ? why : NULL) &&
		  (pk ? cJSON_AddItemToObject(o, "packages", pk)
		      : cJSON_AddArrayToObject(o, "packages") != NULL);
	if (!ok && !cJSON_GetObjectItem(o, "packages"))
		cJSON_Delete(pk);
	cJSON_Delete(out);
	pw_err rc = ok ? PW_OK : oom(err);
	char note[480];
	snprintf(note, sizeof note, "simulate: %s",
		 unresolvable ? why : "the package manager resolves the upgrade");
	if (!rc)
		rc = note_event(f->d, f->h, "simulate", note, o, err);
	if (!rc)
		rc = mark(f, unresolvable ? "failed" : "done", o, err);
	cJSON_Delete(o);
	return rc;
}

/* The rollback job's changes on the ticket, as the agent reports them. */
static pw_err rolled_back(struct finish_ctx *f, pw_error *err)
{
	cJSON *out = f->j->output ? cJSON_Parse(f->j->output) : NULL;
	cJSON *o = cJSON_CreateObject();
	cJSON *pk = cJSON_DetachItemFromObject(out, "packages");
	bool ok = o && pw_json_add_int(o, "job", f->j->job_id) &&
		  cJSON_AddItemToObject(o, "packages", pk ? pk : cJSON_CreateArray());
	const cJSON *p;
	char note[400];
	size_t len = (size_t)snprintf(note, sizeof note, "rollback job %" PRId64 ":", f->j->job_id);
	cJSON_ArrayForEach(p, pk) {
		if (len < sizeof note)
			len += (size_t)snprintf(
				note + len, sizeof note - len, " %s %s -> %s",
				str_or(cJSON_GetStringValue(cJSON_GetObjectItem(p, "name"))),
				str_or(cJSON_GetStringValue(cJSON_GetObjectItem(p, "before"))),
				str_or(cJSON_GetStringValue(cJSON_GetObjectItem(p, "after"))));
	}
	cJSON_Delete(out);
	pw_err rc = ok ? note_event(f->d, f->h, "rollback-job", note, o, err) : oom(err);
	cJSON_Delete(o);
	return rc ? rc : outcome(f, PW_CA_ROLLBACK_DONE, err);
}

static pw_err finish_txn(pw_db *db, void *arg, pw_error *err)
{
	struct finish_ctx *f = arg;
	const char *p = f->purpose;
	char why[400];
	pw_err rc = pw_audit_serialize(db, err);
	struct cjob now;
	if (!rc)
		rc = load_cjob(f->d, f->h, p, &now, err);
	/* Another node took it since we looked. */
	bool taken = !rc && (!now.found || now.id != f->j->id || now.handled[0]);
	cjob_release(&now);
	if (rc || taken)
		return rc;
	if (!strcmp(p, "simulate"))
		return simulated(f, err);
	if (!f->j->ok) {
		failure(f->j, !strcmp(p, "backup") ? "backup_check" : p, why, sizeof why);
		if (!strcmp(p, "backup")) {
			/* No halt: the host waits for a backup proof, as before. */
			rc = note_event(f->d, f->h, "backup-check-failed", why, NULL, err);
			return rc ? rc : mark(f, "failed", NULL, err);
		}
		bool step = !strcmp(p, "patch") || !strcmp(p, "health") || !strcmp(p, "rollback");
		if (step)
			rc = outcome(f,
				     !strcmp(p, "patch")    ? PW_CA_PATCH_FAILED
				     : !strcmp(p, "health") ? PW_CA_HEALTH_FAILED
							    : PW_CA_ROLLBACK_FAILED,
				     err);
		/* patch-failed and health-failed halted it already; say why. */
		if (!rc)
			rc = halt(f->d, f->h, why, !step, err);
		return rc ? rc : mark(f, "retry", NULL, err);
	}
	if (!strcmp(p, "backup"))
		rc = outcome(f, PW_CA_BACKUP_CHECK_PASSED, err);
	else if (!strcmp(p, "rollback"))
		rc = rolled_back(f, err);
	else if (!strcmp(p, "patch"))
		rc = outcome(f, PW_CA_PATCH_DONE, err);
	else if (!strcmp(p, "health")) {
		struct dhost h = *f->h;
		struct cjob post;
		rc = load_cjob(f->d, &h, "post-scan", &post, err);
		if (!rc)
			rc = verdict(f, post.result, err);
		cjob_release(&post);
	} else if (!strcmp(p, "pre-scan")) {
		char note[160];
		snprintf(note, sizeof note,
			 "pre-scan against feed snapshot %" PRId64 ": %d findings", f->d->snapshot,
			 cJSON_GetArraySize(f->scan));
		cJSON *o = cJSON_CreateObject();
		bool ok = o && pw_json_add_int(o, "job", f->j->job_id) &&
			  pw_json_add_int(o, "snapshot", f->d->snapshot) &&
			  cJSON_AddItemReferenceToObject(o, "findings", f->scan);
		rc = ok ? note_event(f->d, f->h, "pre-scan", note, o, err) : oom(err);
		cJSON_Delete(o);
		if (!rc)
			rc = outcome(f, PW_CA_PRE_SCAN_DONE, err);
		return rc ? rc : mark(f, "done", f->scan, err);
	} else {
		cJSON *diff = NULL;
		rc = scan_diff(f, &diff, err);
		if (!rc)
			rc = mark(f, "done", diff, err);
		char *text = diff ? cJSON_PrintUnformatted(diff) : NULL;
		if (!rc && !f->h->has_health)
			rc = verdict(f, text, err);
		cJSON_free(text);
		cJSON_Delete(diff);
		return rc;
	}
	return rc ? rc : mark(f, "done", NULL, err);
}

static pw_err finish(struct drive *d, const struct dhost *h, const char *purpose, struct cjob *j,
		     pw_error *err)
{
	struct finish_ctx f = {d, h, purpose, j, NULL, NULL, 0};
	bool scanned = j->ok && (!strcmp(purpose, "pre-scan") || !strcmp(purpose, "post-scan"));
	/* The scans run before the write transaction, which they would hold. */
	pw_err rc = scanned ? scan(d, j, d->snapshot, &f.scan, err) : PW_OK;
	if (!rc && scanned && !strcmp(purpose, "post-scan"))
		rc = pw_feedstore_latest(d->store, &f.newest, err);
	if (!rc && f.newest > d->snapshot)
		rc = scan(d, j, f.newest, &f.since, err);
	if (!rc)
		rc = pw_in_write_txn(d->db, finish_txn, &f, err);
	cJSON_Delete(f.scan);
	cJSON_Delete(f.since);
	return rc ? pw_error_prefix(err, "campaign %" PRId64 ", %s: %s job %" PRId64 ": ", d->cid,
				    h->hostname, purpose, j->job_id)
		  : PW_OK;
}

/* The step `purpose` of host h: queues its job, or takes its outcome
 * once the job finished. *handled: the job's outcome was taken before. */
static pw_err step(struct drive *d, const struct dhost *h, const char *purpose, const char *kind,
		   bool *handled, pw_error *err)
{
	struct cjob j;
	pw_err rc = load_cjob(d, h, purpose, &j, err);
	if (handled)
		*handled = !rc && j.found && j.handled[0] && strcmp(j.handled, "retry") != 0;
	if (!rc && (!j.found || due_again(d, purpose, &j)))
		rc = queue(d, h, purpose, kind, err);
	else if (!rc && j.finished && !j.handled[0])
		rc = finish(d, h, purpose, &j, err);
	cjob_release(&j);
	return rc;
}

/* Whether the host's maintenance window is open (an emergency campaign
 * needs none): the pre-scan is taken right before the patch. */
static bool in_window(struct drive *d, const struct dhost *h)
{
	pw_window w;
	pw_error e = PW_ERROR_INIT;
	if (d->emergency)
		return true;
	return h->window && !pw_window_parse(h->window, &w, &e) &&
	       (w.always || pw_window_at(&w, d->now, NULL, NULL));
}

static pw_err drive_host(struct drive *d, const struct dhost *h, pw_error *err)
{
	bool done = false;
	int64_t waiting = 0;
	if (pw_chost_state_final(h->state))
		return PW_OK;
	/* The dry run on the host itself, once, as soon as the campaign runs. */
	struct dhost first = *h;
	first.patches = 0;
	pw_err rc = step(d, &first, "simulate", "simulate", NULL, err);
	if (rc)
		return rc;
	switch (h->state) {
	case PW_CH_AWAITING_BACKUP:
		return h->has_backup ? step(d, h, "backup", "backup_check", NULL, err) : PW_OK;
	case PW_CH_SCHEDULED:
		rc = pw_campaign_wave_waiting(d->db, d->cid, h->wave, d->soak, d->now, &waiting,
					      err);
		return rc || waiting || !in_window(d, h)
			       ? rc
			       : step(d, h, "pre-scan", "inventory", NULL, err);
	case PW_CH_PATCHING:
		return step(d, h, "patch", "patch", NULL, err);
	case PW_CH_ROLLING_BACK:
		return step(d, h, "rollback", "rollback", NULL, err);
	case PW_CH_POST_SCAN:
		rc = step(d, h, "post-scan", "inventory", &done, err);
		return rc || !done || !h->has_health ? rc
						     : step(d, h, "health", "health", NULL, err);
	default:
		return PW_OK;
	}
}

/* ---- the run ------------------------------------------------------------ */

static void hosts_release(struct dhost *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].findings);
		free(v[i].window);
	}
	free(v);
}

static pw_err load_hosts(struct drive *d, struct dhost **out, size_t *n, pw_error *err)
{
	pw_stmt *st;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	pw_err rc =
		pw_sql(d->db,
		       "SELECT c.host_id, c.ticket_id, c.patches, c.wave, c.state, c.hostname,"
		       " c.findings, h.maint_window,"
		       " CASE WHEN h.backup_check IS NULL THEN 0 ELSE 1 END,"
		       " CASE WHEN h.health_check IS NULL THEN 0 ELSE 1 END FROM campaign_hosts c"
		       " JOIN hosts h ON h.id = c.host_id WHERE c.campaign_id = ?"
		       " ORDER BY c.wave, c.id",
		       &st, err, "i", d->cid);
	for (bool row = true; !rc && row;) {
		rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			break;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			struct dhost *v = realloc(*out, cap * sizeof *v);
			if (!v) {
				pw_stmt_reset(st);
				rc = oom(err);
				break;
			}
			*out = v;
		}
		struct dhost *h = &(*out)[(*n)++];
		bool nomem = false;
		memset(h, 0, sizeof *h);
		h->host_id = pw_stmt_int(st, 0);
		h->ticket_id = pw_stmt_int(st, 1);
		h->patches = pw_stmt_int(st, 2);
		h->wave = (int)pw_stmt_int(st, 3);
		if (!pw_chost_state_parse(pw_stmt_text(st, 4), &h->state))
			h->state = PW_CH__COUNT;
		snprintf(h->hostname, sizeof h->hostname, "%s",
			 pw_stmt_text(st, 5) ? pw_stmt_text(st, 5) : "?");
		h->findings = pw_col_dup(st, 6, &nomem);
		h->window = pw_col_dup(st, 7, &nomem);
		h->has_backup = pw_stmt_int(st, 8) != 0;
		h->has_health = pw_stmt_int(st, 9) != 0;
		if (nomem || !h->findings) {
			pw_stmt_reset(st);
			rc = oom(err);
		}
	}
	return rc;
}

static pw_err drive_campaign(struct drive *d, pw_error *err)
{
	struct dhost *v = NULL;
	size_t n = 0;
	pw_err rc = load_hosts(d, &v, &n, err);
	for (size_t i = 0; !rc && i < n; i++) {
		pw_stmt *st;
		bool row = false, running = false;
		/* A host's outcome may have halted the campaign. */
		rc = pw_sql(d->db, "SELECT state FROM campaigns WHERE id = ?", &st, err, "i",
			    d->cid);
		if (!rc)
			rc = pw_stmt_step(st, &row, err);
		if (!rc && row) {
			running = !strcmp(pw_stmt_text(st, 0), "running");
			pw_stmt_reset(st);
		}
		if (rc || !running)
			break;
		pw_error e = PW_ERROR_INIT;
		/* One host's trouble (a window refusal, an agent's odd output) does
		 * not stop the others: it is reported, the host retried next run. */
		if (drive_host(d, &v[i], &e)) {
			d->st->errors++;
			if (d->st->errors == 1)
				snprintf(d->st->first_error, sizeof d->st->first_error, "%s",
					 pw_error_text(&e));
		}
	}
	hosts_release(v, n);
	return rc;
}

static pw_err drive_locked(struct drive *d, pw_error *err)
{
	pw_stmt *st;
	int64_t ids[256][4];
	size_t n = 0;
	pw_err rc = pw_sql(d->db,
			   "SELECT id, snapshot, soak_seconds, emergency FROM campaigns"
			   " WHERE state = 'running' ORDER BY id LIMIT 256",
			   &st, err, "");
	for (bool row = true; !rc && row && n < 256;) {
		rc = pw_stmt_step(st, &row, err);
		for (int c = 0; !rc && row && c < 4; c++)
			ids[n][c] = pw_stmt_int(st, c);
		n += !rc && row;
	}
	pw_stmt_reset(st);
	for (size_t i = 0; !rc && i < n; i++) {
		d->cid = ids[i][0];
		d->snapshot = ids[i][1];
		d->soak = ids[i][2];
		d->emergency = ids[i][3] != 0;
		rc = drive_campaign(d, err);
	}
	return rc;
}

pw_err pw_campaign_drive(pw_db *db, pw_feedstore *store, const pw_policy *policy, const char *actor,
			 int64_t now, pw_campaign_drive_stats *stats, pw_error *err)
{
	pw_campaign_drive_stats st;
	memset(&st, 0, sizeof st);
	struct drive d = {db, store, policy, actor, now, "", &st, 0, 0, 0, false};
	pw_job_ts(now, d.ts);
	bool got = false;
	pw_err rc = pw_db_try_lock(db, PW_CAMPAIGN_DRIVER_LOCK_KEY, &got, err);
	if (!rc && got) {
		st.ran = true;
		rc = drive_locked(&d, err);
		pw_error e = PW_ERROR_INIT;
		pw_err urc = pw_db_unlock(db, PW_CAMPAIGN_DRIVER_LOCK_KEY, &e);
		if (!rc && urc) {
			rc = urc;
			if (err)
				*err = e;
		}
	}
	if (stats)
		*stats = st;
	return rc;
}
