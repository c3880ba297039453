#include "patchwarden/audit.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/clock.h"
#include "patchwarden/grow.h"
#include "patchwarden/json_limits.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/sql.h"
#include "patchwarden/text.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
/* Events read per query while verifying: bounds memory on PostgreSQL,
 * whose client library holds a whole result at once. */
#define VERIFY_PAGE 1000
#define FIELD_MAX 4096 /* actor, action, target */

enum { F_TS, F_ACTOR, F_ACTION, F_TARGET, F_BEFORE, F_AFTER, N_FIELDS };

/* The chained hash: every field length-prefixed, so no two different
 * events hash the same bytes, and NULL distinct from "". Versioned, so
 * a future layout can coexist with old chains. */
static void hash_event(const char *prev_hash, const char *const f[N_FIELDS],
		       char out[PW_AUDIT_HASH_HEX + 1])
{
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	static const char tag[] = "patchwarden-audit-1\n";
	crypto_hash_sha256_update(&st, (const unsigned char *)tag, sizeof tag - 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)prev_hash, strlen(prev_hash));
	for (int i = 0; i < N_FIELDS; i++) {
		char len[32];
		int n = f[i] ? snprintf(len, sizeof len, "\n%zu:", strlen(f[i]))
			     : snprintf(len, sizeof len, "\n-");
		crypto_hash_sha256_update(&st, (const unsigned char *)len, (size_t)n);
		if (f[i])
			crypto_hash_sha256_update(&st, (const unsigned char *)f[i], strlen(f[i]));
	}
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(out, PW_AUDIT_HASH_HEX + 1, h, sizeof h);
}

/* Copies a hash column into a fixed buffer ("" for NULL or a wrong
 * length, which then fails every comparison). */
static void copy_hash(char dst[PW_AUDIT_HASH_HEX + 1], const char *src)
{
	if (src && strlen(src) == PW_AUDIT_HASH_HEX)
		memcpy(dst, src, PW_AUDIT_HASH_HEX + 1);
	else
		dst[0] = '\0';
}

static pw_err append_compacted(pw_db *db, const char *const f[N_FIELDS], int64_t *id, pw_error *err)
{
	pw_stmt *st;
	bool row = false;
	pw_err rc = pw_sql(db,
			   "UPDATE audit_head SET last_id = last_id + 1 WHERE id = 1"
			   " RETURNING last_id, last_hash",
			   &st, err, "");
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (rc) {
		pw_error_prefix(err, "appending to the audit log: ");
		return rc; /* pw_error_prefix gives PW_OK when err is NULL */
	}
	if (!row)
		return pw_error_set(err, PW_ERR_INTEGRITY,
				    "the audit log's head row is missing: the log was tampered "
				    "with; run 'patchwarden audit verify'");
	int64_t new_id = pw_stmt_int(st, 0);
	char prev[PW_AUDIT_HASH_HEX + 1];
	copy_hash(prev, pw_stmt_text(st, 1));
	pw_stmt_reset(st);
	if (!prev[0])
		return pw_error_set(err, PW_ERR_INTEGRITY,
				    "the audit log's head hash is malformed: the log was tampered "
				    "with; run 'patchwarden audit verify'");

	char hash[PW_AUDIT_HASH_HEX + 1];
	hash_event(prev, f, hash);
	rc = pw_sql(db,
		    "INSERT INTO audit_events (id, ts, actor, action, target, before_json,"
		    " after_json, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		    &st, err, "itttttttt", new_id, f[F_TS], f[F_ACTOR], f[F_ACTION], f[F_TARGET],
		    f[F_BEFORE], f[F_AFTER], prev, hash);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (!rc)
		rc = pw_sql(db, "UPDATE audit_head SET last_hash = ? WHERE id = 1", &st, err, "t",
			    hash);
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (rc) {
		pw_error_prefix(err, "appending to the audit log: ");
		return rc; /* pw_error_prefix gives PW_OK when err is NULL */
	}
	if (id)
		*id = new_id;
	return PW_OK;
}

pw_err pw_audit_append(pw_db *db, const char *actor, const char *action, const char *target,
		       const char *before_json, const char *after_json, int64_t *id, pw_error *err)
{
	if (!pw_text_ok(actor, FIELD_MAX) || !pw_text_ok(action, FIELD_MAX) ||
	    !pw_text_ok(target, FIELD_MAX))
		return pw_error_set(err, PW_ERR_INVALID,
				    "audit event needs an actor, an action and a target of 1 to %d "
				    "printable characters (got actor \"%.40s\", action \"%.40s\", "
				    "target \"%.40s\")",
				    FIELD_MAX, actor ? actor : "", action ? action : "",
				    target ? target : "");
	char *before = NULL, *after = NULL;
	pw_err rc = pw_json_compact(before_json, "audit event 'before'", &before, err);
	if (!rc)
		rc = pw_json_compact(after_json, "audit event 'after'", &after, err);
	if (!rc) {
		char ts[PW_TS_LEN];
		pw_ts_now(ts, 0);
		const char *f[N_FIELDS] = {ts, actor, action, target, before, after};
		rc = append_compacted(db, f, id, err);
	}
	free(before);
	free(after);
	return rc;
}

pw_err pw_audit_serialize(pw_db *db, pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(db, "UPDATE audit_head SET last_id = last_id WHERE id = 1", &st, err,
			   "");
	return rc ? rc : pw_stmt_exec(st, err);
}

const char *pw_audit_fault_name(pw_audit_fault f)
{
	switch (f) {
	case PW_AUDIT_INTACT:
		return "intact";
	case PW_AUDIT_EDITED:
		return "edited";
	case PW_AUDIT_DELETED:
		return "deleted";
	case PW_AUDIT_REORDERED:
		return "reordered";
	}
	return "unknown";
}

static pw_err fault(pw_audit_report *out, pw_error *err, pw_audit_fault kind, int64_t id,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static pw_err fault(pw_audit_report *out, pw_error *err, pw_audit_fault kind, int64_t id,
		    const char *fmt, ...)
{
	out->fault = kind;
	out->bad_id = id;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof out->reason, fmt, ap);
	va_end(ap);
	return pw_error_set(err, PW_ERR_INTEGRITY, "%s", out->reason);
}

/* Where a broken link points: the id of the event whose hash it names,
 * or 0. A full scan, but only once, on the way to a verdict. */
static pw_err find_by_hash(pw_db *db, const char *hash, int64_t *id, pw_error *err)
{
	pw_stmt *st;
	*id = 0;
	pw_err rc = pw_sql(db, "SELECT id FROM audit_events WHERE hash = ? ORDER BY id LIMIT 1",
			   &st, err, "t", hash);
	return rc ? rc : pw_sql_int(st, id, err);
}

struct walk {
	int64_t expect_id; /* the id the next event must have */
	char prev[PW_AUDIT_HASH_HEX + 1];
};

/* Checks one event against the chain so far; PW_ERR_INTEGRITY with the
 * verdict when it does not fit. */
static pw_err check_event(pw_db *db, pw_stmt *st, struct walk *w, pw_audit_report *out,
			  pw_error *err)
{
	int64_t id = pw_stmt_int(st, 0);
	if (id != w->expect_id) {
		if (id < w->expect_id) /* ids below 1: nothing appends those */
			return fault(out, err, PW_AUDIT_EDITED, id,
				     "audit event %" PRId64 " was inserted: the chain starts at "
				     "event 1",
				     id);
		return fault(out, err, PW_AUDIT_DELETED, w->expect_id,
			     "audit event %" PRId64 " was deleted: ids jump from %" PRId64
			     " to %" PRId64 " (%" PRId64 " event(s) missing)",
			     w->expect_id, w->expect_id - 1, id, id - w->expect_id);
	}
	char stored[PW_AUDIT_HASH_HEX + 1], link[PW_AUDIT_HASH_HEX + 1];
	copy_hash(link, pw_stmt_text(st, 7));
	copy_hash(stored, pw_stmt_text(st, 8));
	const char *f[N_FIELDS];
	for (int i = 0; i < N_FIELDS; i++)
		f[i] = pw_stmt_text(st, 1 + i);
	for (int i = F_TS; i <= F_TARGET; i++)
		if (!f[i])
			f[i] = "";
	char computed[PW_AUDIT_HASH_HEX + 1];
	hash_event(link, f, computed);
	bool content_ok = stored[0] && sodium_memcmp(computed, stored, PW_AUDIT_HASH_HEX) == 0;

	if (strcmp(link, w->prev) != 0) {
		int64_t j = 0;
		pw_stmt_reset(st); /* SQLite: the lookup must not run inside this page's read */
		pw_err rc = link[0] ? find_by_hash(db, link, &j, err) : PW_OK;
		if (rc)
			return rc;
		if (j && j != id - 1)
			return fault(out, err, PW_AUDIT_REORDERED, id,
				     "audit event %" PRId64 " was moved: it links to event %" PRId64
				     ", not to event %" PRId64 " before it",
				     id, j, id - 1);
		if (!content_ok)
			return fault(out, err, PW_AUDIT_EDITED, id,
				     "audit event %" PRId64 " was edited: its content and link do "
				     "not match its hash",
				     id);
		if (id == 1)
			return fault(out, err, PW_AUDIT_DELETED, id,
				     "audit event 1 does not start the chain: earlier events were "
				     "deleted and the ids renumbered");
		return fault(out, err, PW_AUDIT_DELETED, id,
			     "audit event %" PRId64 " does not link to event %" PRId64
			     ": events between them were deleted and the ids renumbered, or event "
			     "%" PRId64 " was edited and re-hashed",
			     id, id - 1, id - 1);
	}
	if (!content_ok)
		return fault(out, err, PW_AUDIT_EDITED, id,
			     "audit event %" PRId64 " was edited: its content does not match its "
			     "hash",
			     id);
	memcpy(w->prev, stored, sizeof w->prev);
	w->expect_id++;
	return PW_OK;
}

static pw_err walk_chain(pw_db *db, struct walk *w, pw_audit_report *out, pw_error *err)
{
	int64_t from = INT64_MIN; /* then each page starts where the chain goes on */
	for (;; from = w->expect_id) {
		pw_stmt *st;
		pw_err rc = pw_sql(db,
				   "SELECT id, ts, actor, action, target, before_json, after_json,"
				   " prev_hash, hash FROM audit_events WHERE id >= ? ORDER BY id"
				   " LIMIT ?",
				   &st, err, "ii", from, (int64_t)VERIFY_PAGE);
		if (rc)
			return rc;
		int64_t n = 0;
		for (;;) {
			bool row = false;
			rc = pw_stmt_step(st, &row, err);
			if (rc || !row)
				break;
			n++;
			rc = check_event(db, st, w, out, err);
			if (rc) {
				pw_stmt_reset(st);
				return rc;
			}
		}
		if (rc || n < VERIFY_PAGE)
			return rc;
	}
}

/* Reads the chain head; *found is false when its row is gone (the
 * callers differ in what that means). */
static pw_err read_head(pw_db *db, bool *found, int64_t *last_id, char hash[PW_AUDIT_HASH_HEX + 1],
			pw_error *err)
{
	pw_stmt *st;
	*found = false;
	pw_err rc = pw_sql(db, "SELECT last_id, last_hash FROM audit_head WHERE id = 1", &st, err,
			   "");
	if (!rc)
		rc = pw_stmt_step(st, found, err);
	if (rc || !*found)
		return rc;
	*last_id = pw_stmt_int(st, 0);
	copy_hash(hash, pw_stmt_text(st, 1));
	pw_stmt_reset(st);
	return PW_OK;
}

static pw_err verify_in_snapshot(pw_db *db, pw_audit_report *out, pw_error *err)
{
	bool found;
	int64_t head_id = 0;
	pw_err rc = read_head(db, &found, &head_id, out->head_hash, err);
	if (rc)
		return rc;
	if (!found)
		return fault(out, err, PW_AUDIT_DELETED, 0,
			     "the audit log's head row was deleted: the number of events and the "
			     "newest hash are no longer known");

	struct walk w = {1, ZERO_HASH};
	rc = walk_chain(db, &w, out, err);
	out->events = w.expect_id - 1;
	if (rc)
		return rc;
	int64_t last = w.expect_id - 1;
	if (head_id > last)
		return fault(out, err, PW_AUDIT_DELETED, last + 1,
			     "audit event %" PRId64 " was deleted: the chain head records %" PRId64
			     " event(s) but the log ends at event %" PRId64,
			     last + 1, head_id, last);
	if (head_id < last)
		return fault(out, err, PW_AUDIT_EDITED, head_id + 1,
			     "audit event %" PRId64 " is not covered by the chain head, which "
			     "records %" PRId64 " event(s): the head was rolled back or events "
			     "were inserted",
			     head_id + 1, head_id);
	if (strcmp(out->head_hash, w.prev) != 0)
		return fault(out, err, PW_AUDIT_EDITED, last,
			     "audit event %" PRId64 " was edited: its hash differs from the one "
			     "the chain head recorded",
			     last);
	return PW_OK;
}

pw_err pw_audit_verify(pw_db *db, pw_audit_report *out, pw_error *err)
{
	memset(out, 0, sizeof *out);
	pw_err rc = pw_db_begin(db, err);
	if (rc)
		return rc;
	/* One snapshot for the head and every page, while others append. */
	if (pw_db_kind_of(db) == PW_DB_POSTGRES)
		rc = pw_db_exec(db, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
				err);
	if (!rc)
		rc = verify_in_snapshot(db, out, err);
	pw_db_rollback(db);
	return rc;
}

static void event_release(pw_audit_event *e)
{
	free(e->ts);
	free(e->actor);
	free(e->action);
	free(e->target);
	free(e->before_json);
	free(e->after_json);
	free(e->prev_hash);
	free(e->hash);
	memset(e, 0, sizeof *e);
}

void pw_audit_list_release(pw_audit_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		event_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

pw_err pw_audit_read(pw_db *db, int64_t after_id, size_t limit, pw_audit_list *out, pw_error *err)
{
	pw_stmt *st;
	pw_err rc = pw_sql(db,
			   "SELECT id, ts, actor, action, target, before_json, after_json,"
			   " prev_hash, hash FROM audit_events WHERE id > ? ORDER BY id LIMIT ?",
			   &st, err, "ii", after_id,
			   (int64_t)(limit > INT64_MAX ? INT64_MAX : limit));
	if (rc)
		return rc;
	for (;;) {
		bool row = false;
		rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			return rc;
		pw_audit_event *v = pw_grow(out->v, &out->cap, out->n, sizeof *v);
		if (!v)
			break;
		out->v = v;
		pw_audit_event *e = &out->v[out->n];
		bool oom = false;
		e->id = pw_stmt_int(st, 0);
		e->ts = pw_col_dup(st, 1, &oom);
		e->actor = pw_col_dup(st, 2, &oom);
		e->action = pw_col_dup(st, 3, &oom);
		e->target = pw_col_dup(st, 4, &oom);
		e->before_json = pw_col_dup(st, 5, &oom);
		e->after_json = pw_col_dup(st, 6, &oom);
		e->prev_hash = pw_col_dup(st, 7, &oom);
		e->hash = pw_col_dup(st, 8, &oom);
		if (oom) {
			event_release(e);
			break;
		}
		out->n++;
	}
	pw_stmt_reset(st);
	return pw_error_set(err, PW_ERR_NOMEM, "reading the audit log: out of memory");
}

pw_err pw_audit_head(pw_db *db, int64_t *last_id, char hash[PW_AUDIT_HASH_HEX + 1], pw_error *err)
{
	bool found;
	pw_err rc = read_head(db, &found, last_id, hash, err);
	if (!rc && !found)
		rc = pw_error_set(err, PW_ERR_INTEGRITY,
				  "the audit log's head row is missing; run 'patchwarden audit "
				  "verify'");
	return rc;
}

cJSON *pw_audit_event_to_json(const pw_audit_event *e)
{
	cJSON *o = cJSON_CreateObject();
	if (o && pw_json_add_int(o, "id", e->id) && pw_json_add_str(o, "ts", e->ts) &&
	    pw_json_add_str(o, "actor", e->actor) && pw_json_add_str(o, "action", e->action) &&
	    pw_json_add_str(o, "target", e->target) &&
	    pw_json_add_raw(o, "before", e->before_json) &&
	    pw_json_add_raw(o, "after", e->after_json) &&
	    pw_json_add_str(o, "prev_hash", e->prev_hash) && pw_json_add_str(o, "hash", e->hash))
		return o;
	cJSON_Delete(o);
	return NULL;
}

cJSON *pw_audit_report_to_json(const pw_audit_report *r, bool intact)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddBoolToObject(o, "intact", intact) &&
		  pw_json_add_int(o, "events", r->events) &&
		  pw_json_add_str(o, "head_hash", r->head_hash) &&
		  pw_json_add_str(o, "fault", pw_audit_fault_name(r->fault));
	if (ok && !intact)
		ok = pw_json_add_int(o, "bad_id", r->bad_id) &&
		     pw_json_add_str(o, "reason", r->reason);
	if (ok)
		return o;
	cJSON_Delete(o);
	return NULL;
}
