#include "patchwarden/jobs.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>

#include "patchwarden/grow.h"
#include "patchwarden/sql.h"

static void job_release(pw_job *j)
{
	char *const s[] = {j->kind,      j->args,	 j->state,	   j->created,
			   j->created_by, j->leased_to, j->lease_until,   j->finished,
			   j->result_status, j->result_received};
	for (size_t i = 0; i < sizeof s / sizeof *s; i++)
		free(s[i]);
}

void pw_job_list_release(pw_job_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		job_release(&l->v[i]);
	free(l->v);
	*l = (pw_job_list)PW_JOB_LIST_INIT;
}

static void fill(pw_stmt *st, void *item, bool *oom)
{
	pw_job *j = item;
	*j = (pw_job){.id = pw_stmt_int(st, 0), .host_id = pw_stmt_int(st, 13),
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
		    " j.host_id"
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

static bool add_text(cJSON *o, const char *key, const char *v)
{
	return (v ? cJSON_AddStringToObject(o, key, v) : cJSON_AddNullToObject(o, key)) != NULL;
}

cJSON *pw_job_to_json(const pw_job *j)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *args = j->args ? cJSON_Parse(j->args) : cJSON_CreateNull();
	bool ok = o && args && cJSON_AddNumberToObject(o, "job_id", (double)j->id) &&
		  add_text(o, "kind", j->kind) && cJSON_AddItemToObject(o, "args", args);
	if (!ok)
		cJSON_Delete(args);
	ok = ok && add_text(o, "state", j->state) && add_text(o, "created", j->created) &&
	     add_text(o, "created_by", j->created_by) && add_text(o, "leased_to", j->leased_to) &&
	     add_text(o, "lease_until", j->lease_until) &&
	     cJSON_AddNumberToObject(o, "attempts", (double)j->attempts) &&
	     add_text(o, "finished", j->finished);
	if (ok && !j->result_status) {
		ok = cJSON_AddNullToObject(o, "result") != NULL;
	} else if (ok) {
		cJSON *r = cJSON_AddObjectToObject(o, "result");
		ok = r && add_text(r, "status", j->result_status) &&
		     (j->has_exit_code
			      ? cJSON_AddNumberToObject(r, "exit_code", (double)j->exit_code) != NULL
			      : cJSON_AddNullToObject(r, "exit_code") != NULL) &&
		     add_text(r, "received", j->result_received);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
