#include "patchwarden/jobs.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "patchwarden/audit.h"
#include "patchwarden/clock.h"
#include "patchwarden/grow.h"
#include "patchwarden/jobkind.h"
#include "patchwarden/sql.h"
#include "patchwarden/jsonout.h"

void pw_job_release(pw_job *j)
{
	char *const s[] = {
		j->kind,       j->args,        j->state,    j->created,       j->created_by,
		j->leased_to,  j->lease_until, j->finished, j->result_status, j->result_received,
		j->not_before, j->not_after,   j->message};
	for (size_t i = 0; i < sizeof s / sizeof *s; i++)
		free(s[i]);
}

void pw_job_list_release(pw_job_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		pw_job_release(&l->v[i]);
	free(l->v);
	*l = (pw_job_list)PW_JOB_LIST_INIT;
}

/* Columns 14..17 of both queries. */
#define JOB_WINDOW_COLS "j.not_before, j.not_after, j.emergency, j.message"

static void fill(pw_stmt *st, void *item, bool *oom)
{
	pw_job *j = item;
	*j = (pw_job){.id = pw_stmt_int(st, 0),
		      .host_id = pw_stmt_int(st, 13),
		      .attempts = pw_stmt_int(st, 8)};
	j->kind = pw_col_dup(st, 1, oom);
	j->args = pw_col_dup(st, 2, oom);
	j->state = pw_col_dup(st, 3, oom);
	j->created = pw_col_dup(st, 4, oom);
	j->created_by = pw_col_dup(st, 5, oom);
	j->leased_to = pw_col_dup(st, 6, oom);
	j->lease_until = pw_col_dup(st, 7, oom);
	j->finished = pw_col_dup(st, 9, oom);
	j->result_status = pw_col_dup(st, 10, oom);
	j->has_exit_code = !pw_stmt_is_null(st, 11);
	j->exit_code = pw_stmt_int(st, 11);
	j->result_received = pw_col_dup(st, 12, oom);
	j->not_before = pw_col_dup(st, 14, oom);
	j->not_after = pw_col_dup(st, 15, oom);
	j->emergency = pw_stmt_int(st, 16) != 0;
	j->message = pw_col_dup(st, 17, oom);
}

pw_err pw_job_page(pw_db *db, int64_t host_id, int64_t after, int64_t limit, pw_job_list *out,
		   pw_error *err)
{
	pw_stmt *st;
	int64_t found = 0;
	pw_err rc = pw_sql(db, "SELECT COUNT(*) FROM hosts WHERE id = ?", &st, err, "i", host_id);
	if (!rc)
		rc = pw_sql_int(st, &found, err);
	if (rc)
		return rc;
	if (!found)
		return pw_error_set(err, PW_ERR_NOTFOUND, "there is no host %" PRId64, host_id);
	/* The newest result of each job: a job leased again after its lease
	 * ran out may have more than one. */
	rc = pw_sql(db,
		    "SELECT j.id, j.kind, j.args, j.state, j.created, j.created_by, j.leased_to,"
		    " j.lease_until, j.attempts, j.finished, r.status, r.exit_code, r.received,"
		    " j.host_id, " JOB_WINDOW_COLS
		    " FROM jobs j LEFT JOIN job_results r ON r.job_id = j.id AND r.received ="
		    " (SELECT MAX(received) FROM job_results x WHERE x.job_id = j.id)"
		    " WHERE j.host_id = ? AND j.id > ? ORDER BY j.id LIMIT ?",
		    &st, err, "iii", host_id, after, limit);
	int64_t prev = 0;
	while (!rc) {
		bool row = false;
		rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			break;
		/* Two results received in the same millisecond: keep one. */
		if (pw_stmt_int(st, 0) == prev)
			continue;
		prev = pw_stmt_int(st, 0);
		pw_job *v = pw_grow(out->v, &out->cap, out->n, sizeof *v);
		bool oom = !v;
		if (v) {
			out->v = v;
			fill(st, &v[out->n++], &oom);
		}
		if (oom) {
			pw_stmt_reset(st);
			rc = pw_error_set(err, PW_ERR_NOMEM, "listing jobs: out of memory");
		}
	}
	return rc;
}

cJSON *pw_job_to_json(const pw_job *j)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *args = j->args ? cJSON_Parse(j->args) : cJSON_CreateNull();
	bool ok = o && args && cJSON_AddNumberToObject(o, "job_id", (double)j->id) &&
		  pw_json_add_str(o, "kind", j->kind) && cJSON_AddItemToObject(o, "args", args);
	if (!ok)
		cJSON_Delete(args);
	ok = ok && pw_json_add_str(o, "state", j->state) &&
	     pw_json_add_str(o, "created", j->created) &&
	     pw_json_add_str(o, "created_by", j->created_by) &&
	     pw_json_add_str(o, "leased_to", j->leased_to) &&
	     pw_json_add_str(o, "lease_until", j->lease_until) &&
	     cJSON_AddNumberToObject(o, "attempts", (double)j->attempts) &&
	     pw_json_add_str(o, "finished", j->finished) &&
	     cJSON_AddBoolToObject(o, "emergency", j->emergency) &&
	     pw_json_add_str(o, "not_before", j->not_before) &&
	     pw_json_add_str(o, "not_after", j->not_after) &&
	     pw_json_add_str(o, "message", j->message);
	if (ok && !j->result_status) {
		ok = cJSON_AddNullToObject(o, "result") != NULL;
	} else if (ok) {
		cJSON *r = cJSON_AddObjectToObject(o, "result");
		ok = r && pw_json_add_str(r, "status", j->result_status) &&
		     (j->has_exit_code ? cJSON_AddNumberToObject(r, "exit_code",
								 (double)j->exit_code) != NULL
				       : cJSON_AddNullToObject(r, "exit_code") != NULL) &&
		     pw_json_add_str(r, "received", j->result_received);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

pw_err pw_job_get(pw_db *db, int64_t host_id, int64_t job_id, pw_job *out, char **output,
		  pw_error *err)
{
	*out = (pw_job){0};
	*output = NULL;
	pw_stmt *st = NULL;
	bool row = false, oom = false;
	pw_err rc = pw_sql(db,
			   "SELECT j.id, j.kind, j.args, j.state, j.created, j.created_by,"
			   " j.leased_to, j.lease_until, j.attempts, j.finished, r.status,"
			   " r.exit_code, r.received, j.host_id, " JOB_WINDOW_COLS ", r.output"
			   " FROM jobs j LEFT JOIN job_results r ON r.job_id = j.id"
			   " WHERE j.id = ? ORDER BY r.received DESC, r.seq DESC LIMIT 1",
			   &st, err, "i", job_id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (!rc && (!row || (host_id && pw_stmt_int(st, 13) != host_id)))
		rc = host_id ? pw_error_set(err, PW_ERR_NOTFOUND,
					    "host %" PRId64 " has no job %" PRId64, host_id, job_id)
			     : pw_error_set(err, PW_ERR_NOTFOUND, "there is no job %" PRId64,
					    job_id);
	if (!rc) {
		fill(st, out, &oom);
		*output = pw_col_dup(st, 18, &oom);
	}
	if (st)
		pw_stmt_reset(st);
	if (!rc && oom)
		rc = pw_error_set(err, PW_ERR_NOMEM, "reading job %" PRId64 ": out of memory",
				  job_id);
	if (rc) {
		pw_job_release(out);
		free(*output);
		*output = NULL;
	}
	return rc;
}

cJSON *pw_job_show_json(const pw_job *j, const char *output)
{
	cJSON *o = pw_job_to_json(j);
	bool ok = o && pw_json_add_int(o, "host_id", j->host_id);
	cJSON *r = ok ? cJSON_GetObjectItemCaseSensitive(o, "result") : NULL;
	if (ok && cJSON_IsObject(r))
		ok = pw_json_add_raw(r, "output", output);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
