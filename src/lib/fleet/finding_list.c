/* Reading the stored findings: the finding record, its one JSON
 * serialiser and the filtered pages the API and the CLI list. */
#include "patchwarden/host_findings.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/grow.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/sql.h"
#include "patchwarden/text.h"

#include "fleet-internal.h"

void pw_finding_list_release(pw_finding_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		pw_finding_row *r = &l->v[i];
		char *s[] = {r->hostname, r->package,  r->advisory,   r->installed, r->fixed,
			     r->priority, r->cves,     r->reason,     r->due,       r->kev_cve,
			     r->kev_due,  r->epss_cve, r->first_seen, r->fixed_at};
		for (size_t k = 0; k < sizeof s / sizeof s[0]; k++)
			free(s[k]);
	}
	free(l->v);
	*l = (pw_finding_list)PW_FINDING_LIST_INIT;
}

const char *pw_finding_state(const pw_finding_row *r)
{
	return r->fixed_at ? "fixed" : "open";
}

static bool add_cves(cJSON *o, const char *cves)
{
	cJSON *a = cJSON_AddArrayToObject(o, "cves");
	if (!a)
		return false;
	const char *p = cves ? cves : "";
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n) {
			char one[128];
			if (n >= sizeof one)
				n = sizeof one - 1;
			memcpy(one, p, n);
			one[n] = '\0';
			cJSON *s = cJSON_CreateString(one);
			if (!s || !cJSON_AddItemToArray(a, s)) {
				cJSON_Delete(s);
				return false;
			}
		}
		p += strcspn(p, ",");
		if (*p)
			p++;
	}
	return true;
}

cJSON *pw_finding_to_json(const pw_finding_row *r)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && pw_json_add_int(o, "id", r->id) &&
		  pw_json_add_int(o, "host_id", r->host_id) &&
		  pw_json_add_str(o, "hostname", r->hostname) &&
		  pw_json_add_str(o, "package", r->package) &&
		  cJSON_AddBoolToObject(o, "by_source", r->by_source) &&
		  pw_json_add_str(o, "installed", r->installed) &&
		  pw_json_add_str(o, "fixed", r->fixed) &&
		  pw_json_add_str(o, "advisory", r->advisory) && add_cves(o, r->cves) &&
		  pw_json_add_str(o, "priority", r->priority) &&
		  pw_json_add_str(o, "reason", r->reason);
	if (ok)
		ok = r->has_sla ? pw_json_add_int(o, "sla_days", r->sla_days)
				: cJSON_AddNullToObject(o, "sla_days") != NULL;
	ok = ok && pw_json_add_str(o, "due", r->due);
	if (ok && r->kev_cve) {
		cJSON *k = cJSON_AddObjectToObject(o, "kev");
		ok = k && pw_json_add_str(k, "cve", r->kev_cve) &&
		     pw_json_add_str(k, "due_date", r->kev_due);
	} else if (ok) {
		ok = cJSON_AddNullToObject(o, "kev") != NULL;
	}
	if (ok && r->has_epss) {
		cJSON *e = cJSON_AddObjectToObject(o, "epss");
		ok = e && pw_json_add_str(e, "cve", r->epss_cve) &&
		     cJSON_AddNumberToObject(e, "score", r->epss);
	} else if (ok) {
		ok = cJSON_AddNullToObject(o, "epss") != NULL;
	}
	ok = ok && pw_json_add_str(o, "first_seen", r->first_seen) &&
	     pw_json_add_str(o, "fixed_at", r->fixed_at) &&
	     pw_json_add_str(o, "state", pw_finding_state(r));
	if (ok)
		ok = r->snapshot > 0 ? pw_json_add_int(o, "snapshot", r->snapshot)
				     : cJSON_AddNullToObject(o, "snapshot") != NULL;
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ---- the query ------------------------------------------------------------ */

static bool is_date(const char *s)
{
	static const char shape[] = "dddd-dd-dd";
	for (size_t i = 0; i < 10; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != '-')
			return false;
	return s[10] == '\0';
}

static bool is_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 256)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || s[i] == 0x7f)
			return false;
	return true;
}

static pw_err check_filter(const pw_finding_filter *f, pw_error *err)
{
	static const char *const states[] = {"open", "fixed", "accepted", "unfixed-upstream"};
	pw_host_prio p;
	if (f->priority && !pw_host_prio_parse(f->priority, &p))
		return pw_error_set(err, PW_ERR_INVALID,
				    "priority: \"%.64s\" is not emergency, high, normal or low",
				    f->priority);
	if (f->state) {
		size_t i = 0;
		while (i < 4 && strcmp(f->state, states[i]))
			i++;
		if (i == 4)
			return pw_error_set(err, PW_ERR_INVALID,
					    "state: \"%.64s\" is not open, fixed, accepted or "
					    "unfixed-upstream",
					    f->state);
	}
	if (f->package && !is_name(f->package))
		return pw_error_set(err, PW_ERR_INVALID,
				    "package: not a package name (1-256 printable characters)");
	if (f->advisory && !is_name(f->advisory))
		return pw_error_set(err, PW_ERR_INVALID,
				    "advisory: not an advisory id (1-256 printable characters)");
	if (f->cve && !pw_cve_id_ok(f->cve))
		return pw_error_set(err, PW_ERR_INVALID, "cve: \"%.64s\" is not like CVE-2024-1234",
				    f->cve);
	if (f->due_before && !is_date(f->due_before))
		return pw_error_set(err, PW_ERR_INVALID,
				    "due_before: \"%.64s\" is not a date like 2026-01-31",
				    f->due_before);
	if (f->kev < -1 || f->kev > 1)
		return pw_error_set(err, PW_ERR_INVALID, "kev: %d is not -1, 0 or 1", f->kev);
	return PW_OK;
}

#define COLUMNS                                                                                    \
	"SELECT f.id, f.host_id, h.hostname, f.package, f.advisory, f.installed, f.fixed,"         \
	" f.priority, f.cves, f.reason, f.due, f.kev_cve, f.kev_due, f.epss_cve, f.first_seen,"    \
	" f.fixed_at, f.by_source, f.epss, f.sla_days, f.snapshot"                                 \
	" FROM findings f JOIN hosts h ON h.id = f.host_id"

static pw_err read_finding(pw_stmt *st, pw_finding_row *r, pw_error *err)
{
	bool oom = false;
	*r = (pw_finding_row){0};
	r->id = pw_stmt_int(st, 0);
	r->host_id = pw_stmt_int(st, 1);
	char **text[] = {&r->hostname, &r->package,  &r->advisory,   &r->installed, &r->fixed,
			 &r->priority, &r->cves,     &r->reason,     &r->due,       &r->kev_cve,
			 &r->kev_due,  &r->epss_cve, &r->first_seen, &r->fixed_at};
	for (int k = 0; k < 14; k++)
		*text[k] = pw_col_dup(st, 2 + k, &oom);
	r->by_source = pw_stmt_int(st, 16) != 0;
	r->has_epss = !pw_stmt_is_null(st, 17);
	r->epss = r->has_epss ? pw_stmt_double(st, 17) : 0;
	r->has_sla = !pw_stmt_is_null(st, 18);
	r->sla_days = r->has_sla ? pw_stmt_int(st, 18) : 0;
	r->snapshot = pw_stmt_is_null(st, 19) ? 0 : pw_stmt_int(st, 19);
	return oom ? pw_error_set(err, PW_ERR_NOMEM, "listing findings: out of memory") : PW_OK;
}

pw_err pw_finding_page(pw_db *db, const pw_finding_filter *f, int64_t after, int64_t limit,
		       pw_finding_list *out, pw_error *err)
{
	static const pw_finding_filter none = PW_FINDING_FILTER_INIT;
	if (!f)
		f = &none;
	if (limit < 1)
		return pw_error_set(err, PW_ERR_INVALID,
				    "a page of findings needs a limit of 1 or more");
	pw_err rc = check_filter(f, err);
	if (rc)
		return rc;
	pw_buf sql = PW_BUF_INIT;
	struct pw_host_cond binds[20];
	int nb = 0;
	char *normal[4] = {NULL, NULL, NULL, NULL};
	char cutoff[2][PW_TS_LEN];
	bool oom = pw_buf_puts(&sql, COLUMNS " WHERE f.id > ?") != 0;
	binds[nb++] = (struct pw_host_cond){NULL, after};
	if (f->host_id) {
		oom |= pw_buf_puts(&sql, " AND f.host_id = ?") != 0;
		binds[nb++] = (struct pw_host_cond){NULL, f->host_id};
	}
	if (f->priority) {
		oom |= pw_buf_puts(&sql, " AND f.priority = ?") != 0;
		binds[nb++] = (struct pw_host_cond){f->priority, 0};
	}
	if (f->state && !strcmp(f->state, "open"))
		oom |= pw_buf_puts(&sql, " AND f.fixed_at IS NULL") != 0;
	else if (f->state && !strcmp(f->state, "fixed"))
		oom |= pw_buf_puts(&sql, " AND f.fixed_at IS NOT NULL") != 0;
	else if (f->state) /* not stored yet: matches nothing */
		oom |= pw_buf_puts(&sql, " AND 1 = 0") != 0;
	if (f->package) {
		oom |= pw_buf_puts(&sql, " AND f.package = ?") != 0;
		binds[nb++] = (struct pw_host_cond){f->package, 0};
	}
	if (f->advisory) {
		oom |= pw_buf_puts(&sql, " AND f.advisory = ?") != 0;
		binds[nb++] = (struct pw_host_cond){f->advisory, 0};
	}
	if (f->cve) { /* checked as CVE-N-N: no LIKE wildcard in it */
		oom |= pw_buf_puts(&sql, " AND ',' || f.cves || ',' LIKE '%,' || ? || ',%'") != 0;
		binds[nb++] = (struct pw_host_cond){f->cve, 0};
	}
	if (f->kev)
		oom |= pw_buf_puts(&sql, f->kev > 0 ? " AND f.kev_cve IS NOT NULL"
						    : " AND f.kev_cve IS NULL") != 0;
	if (f->due_before) {
		oom |= pw_buf_puts(&sql, " AND f.due < ?") != 0;
		binds[nb++] = (struct pw_host_cond){f->due_before, 0};
	}
	if (oom)
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	const char *and = " AND ";
	if (!rc)
		rc = pw_host_filter_where(&f->host, &and, &sql, binds, &nb, normal, cutoff, err);
	if (!rc && pw_buf_puts(&sql, " ORDER BY f.id LIMIT ?"))
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	binds[nb++] = (struct pw_host_cond){NULL, limit};
	pw_stmt *st = NULL;
	if (!rc)
		rc = pw_db_prepare(db, pw_buf_str(&sql), &st, err);
	for (int i = 0; i < nb && !rc; i++)
		rc = binds[i].text ? pw_stmt_bind_text(st, i + 1, binds[i].text)
				   : pw_stmt_bind_int(st, i + 1, binds[i].num);
	while (!rc) {
		bool more = false;
		rc = pw_stmt_step(st, &more, err);
		if (rc || !more)
			break;
		pw_finding_row *v = pw_grow(out->v, &out->cap, out->n, sizeof *v);
		if (!v) {
			rc = pw_error_set(err, PW_ERR_NOMEM, "listing findings: out of memory");
			break;
		}
		out->v = v;
		rc = read_finding(st, &v[out->n], err);
		out->n++; /* counted either way: the release frees what it got */
	}
	if (rc && st)
		pw_stmt_reset(st);
	for (int i = 0; i < 4; i++)
		free(normal[i]);
	pw_buf_release(&sql);
	return rc;
}
