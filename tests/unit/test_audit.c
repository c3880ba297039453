/* The hash-chained audit log (audit.h): appends, the append-only
 * triggers, and every kind of tampering `audit verify` must name:
 * an edited event, a deleted one in the middle or at the end, events
 * deleted with the ids renumbered, a reordering and an insertion. Each
 * tamper first drops the triggers, as a database superuser could. */
#include <pthread.h>

#include "servertest.h"

#include "patchwarden/audit.h"

static void append_one(struct srv *f, pw_db *db, const char *actor, int i, int64_t *id)
{
	char target[32], before[48], after[48];
	snprintf(target, sizeof target, "thing:%d", i);
	snprintf(before, sizeof before, "{\"n\": %d}", i - 1);
	snprintf(after, sizeof after, "{\"n\": %d, \"who\": \"%s\"}", i, actor);
	CHECK(f, pw_db_begin_immediate(db, &f->e));
	pw_err rc = pw_audit_append(db, actor, "test.change", target, i % 2 ? before : NULL, after,
				    id, &f->e);
	if (rc) {
		pw_db_rollback(db);
		fail_msg("append %d: %s", i, pw_error_text(&f->e));
	}
	CHECK(f, pw_db_commit(db, &f->e));
}

static void append_n(struct srv *f, int n)
{
	for (int i = 1; i <= n; i++)
		append_one(f, f->db, "cli:test", i, NULL);
}

/* What a superuser does before editing: removes the guards. */
static void drop_guards(struct srv *f)
{
	if (g_kind == PW_DB_POSTGRES)
		srv_exec(f, f->db,
			 "DROP TRIGGER audit_events_append_only ON audit_events;"
			 "DROP TRIGGER audit_events_no_truncate ON audit_events;"
			 "DROP TRIGGER audit_head_no_delete ON audit_head;"
			 "DROP TRIGGER audit_head_forward ON audit_head");
	else
		srv_exec(f, f->db,
			 "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;"
			 "DROP TRIGGER audit_head_no_delete; DROP TRIGGER audit_head_forward");
}

static void expect_fault(struct srv *f, pw_audit_fault fault, int64_t bad_id, const char *needle)
{
	pw_audit_report r;
	pw_err rc = pw_audit_verify(f->db, &r, &f->e);
	if (rc != PW_ERR_INTEGRITY)
		fail_msg("verify gave %d (%s), expected a verdict", (int)rc, pw_error_text(&f->e));
	if (r.fault != fault || r.bad_id != bad_id)
		fail_msg("verdict %s at event %lld, expected %s at %lld: %s",
			 pw_audit_fault_name(r.fault), (long long)r.bad_id,
			 pw_audit_fault_name(fault), (long long)bad_id, r.reason);
	srv_contains(r.reason, needle);
	assert_string_equal(f->e.msg, r.reason);
}

static void expect_intact(struct srv *f, int64_t events)
{
	pw_audit_report r;
	CHECK(f, pw_audit_verify(f->db, &r, &f->e));
	assert_int_equal(r.fault, PW_AUDIT_INTACT);
	assert_int_equal(r.events, events);
	assert_int_equal(r.bad_id, 0);
}

static void test_append_and_verify(void **state)
{
	struct srv *f = *state;
	expect_intact(f, 0);
	int64_t id = 0;
	append_one(f, f->db, "cli:alice", 1, &id);
	assert_int_equal(id, 1);
	append_n(f, 4);
	expect_intact(f, 5);

	pw_audit_list l = PW_AUDIT_LIST_INIT;
	CHECK(f, pw_audit_read(f->db, 0, 100, &l, &f->e));
	assert_int_equal(l.n, 5);
	assert_string_equal(l.v[0].actor, "cli:alice");
	assert_string_equal(l.v[0].action, "test.change");
	assert_string_equal(l.v[0].target, "thing:1");
	assert_string_equal(l.v[0].before_json, "{\"n\":0}"); /* stored compacted */
	assert_string_equal(l.v[0].prev_hash,
			    "0000000000000000000000000000000000000000000000000000000000000000");
	assert_non_null(l.v[1].before_json);
	assert_null(l.v[2].before_json);
	for (size_t i = 1; i < l.n; i++) {
		assert_int_equal(l.v[i].id, (int64_t)i + 1);
		assert_string_equal(l.v[i].prev_hash, l.v[i - 1].hash);
		assert_int_equal(strlen(l.v[i].hash), PW_AUDIT_HASH_HEX);
		assert_true(strcmp(l.v[i].ts, l.v[i - 1].ts) >= 0);
	}
	int64_t last = 0;
	char head[PW_AUDIT_HASH_HEX + 1];
	CHECK(f, pw_audit_head(f->db, &last, head, &f->e));
	assert_int_equal(last, 5);
	assert_string_equal(head, l.v[4].hash);
	pw_audit_report r;
	CHECK(f, pw_audit_verify(f->db, &r, &f->e));
	assert_string_equal(r.head_hash, head);
	pw_audit_list_release(&l);

	CHECK(f, pw_audit_read(f->db, 3, 1, &l, &f->e));
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].id, 4);
	pw_audit_list_release(&l);
}

static void test_append_checks_input(void **state)
{
	struct srv *f = *state;
	CHECK(f, pw_db_begin_immediate(f->db, &f->e));
	REFUSED(f, PW_ERR_INVALID, "actor",
		pw_audit_append(f->db, "", "a", "t", NULL, NULL, NULL, &f->e));
	REFUSED(f, PW_ERR_INVALID, "target",
		pw_audit_append(f->db, "cli:x", "a", "bad\nline", NULL, NULL, NULL, &f->e));
	REFUSED(f, PW_ERR_PARSE, "'after' is not valid JSON",
		pw_audit_append(f->db, "cli:x", "a", "t", NULL, "{\"open\": ", NULL, &f->e));
	pw_db_rollback(f->db);
	expect_intact(f, 0);
}

/* An append rolled back with its change leaves no trace and no gap. */
static void test_rollback_leaves_no_gap(void **state)
{
	struct srv *f = *state;
	append_n(f, 2);
	CHECK(f, pw_db_begin_immediate(f->db, &f->e));
	CHECK(f, pw_audit_append(f->db, "cli:x", "doomed", "t", NULL, NULL, NULL, &f->e));
	pw_db_rollback(f->db);
	int64_t id = 0;
	append_one(f, f->db, "cli:x", 3, &id);
	assert_int_equal(id, 3);
	expect_intact(f, 3);
}

static void test_triggers_refuse_changes(void **state)
{
	struct srv *f = *state;
	append_n(f, 2);
	static const char *const sql[] = {
		"UPDATE audit_events SET actor = 'mallory' WHERE id = 1",
		"DELETE FROM audit_events WHERE id = 2",
		"DELETE FROM audit_head",
		"UPDATE audit_head SET last_id = 1",
	};
	for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
		pw_err rc = pw_db_exec(f->db, sql[i], &f->e);
		if (rc != PW_ERR_STORE)
			fail_msg("%s was not refused", sql[i]);
		srv_contains(f->e.msg, "audit log");
	}
	if (g_kind == PW_DB_POSTGRES) {
		assert_int_equal(pw_db_exec(f->db, "TRUNCATE audit_events", &f->e), PW_ERR_STORE);
		srv_contains(f->e.msg, "append-only");
	}
	expect_intact(f, 2);
}

static void test_edit_detected(void **state)
{
	struct srv *f = *state;
	append_n(f, 5);
	drop_guards(f);
	srv_exec(f, f->db, "UPDATE audit_events SET after_json = '{\"n\":99}' WHERE id = 3");
	expect_fault(f, PW_AUDIT_EDITED, 3, "audit event 3 was edited");
}

static void test_edit_of_metadata_detected(void **state)
{
	struct srv *f = *state;
	append_n(f, 3);
	drop_guards(f);
	/* Turning a NULL 'before' into "" changes no visible text, but the
	 * canonical form tells them apart. */
	srv_exec(f, f->db, "UPDATE audit_events SET before_json = '' WHERE id = 2");
	expect_fault(f, PW_AUDIT_EDITED, 2, "edited");
}

static void test_delete_middle_detected(void **state)
{
	struct srv *f = *state;
	append_n(f, 5);
	drop_guards(f);
	srv_exec(f, f->db, "DELETE FROM audit_events WHERE id = 3");
	expect_fault(f, PW_AUDIT_DELETED, 3, "ids jump from 2 to 4");
}

static void test_delete_first_detected(void **state)
{
	struct srv *f = *state;
	append_n(f, 3);
	drop_guards(f);
	srv_exec(f, f->db, "DELETE FROM audit_events WHERE id = 1");
	expect_fault(f, PW_AUDIT_DELETED, 1, "audit event 1 was deleted");
}

static void test_delete_last_detected(void **state)
{
	struct srv *f = *state;
	append_n(f, 5);
	drop_guards(f);
	srv_exec(f, f->db, "DELETE FROM audit_events WHERE id = 5");
	expect_fault(f, PW_AUDIT_DELETED, 5,
		     "chain head records 5 event(s) but the log ends at event 4");
	srv_exec(f, f->db, "DELETE FROM audit_events");
	expect_fault(f, PW_AUDIT_DELETED, 1, "audit event 1 was deleted");
}

/* Deleting event 3 and moving 4 and 5 down leaves ids without gaps;
 * the link of the new event 3 gives it away. */
static void test_delete_renumbered_detected(void **state)
{
	struct srv *f = *state;
	append_n(f, 5);
	drop_guards(f);
	srv_exec(f, f->db,
		 "DELETE FROM audit_events WHERE id = 3;"
		 "UPDATE audit_events SET id = -id WHERE id > 3;"
		 "UPDATE audit_events SET id = -id - 1 WHERE id < 0;"
		 "UPDATE audit_head SET last_id = 4");
	expect_fault(f, PW_AUDIT_DELETED, 3, "does not link to event 2");
}

static void test_reorder_detected(void **state)
{
	struct srv *f = *state;
	append_n(f, 5);
	drop_guards(f);
	srv_exec(f, f->db,
		 "UPDATE audit_events SET id = -1 WHERE id = 2;"
		 "UPDATE audit_events SET id = 2 WHERE id = 3;"
		 "UPDATE audit_events SET id = 3 WHERE id = -1");
	expect_fault(f, PW_AUDIT_REORDERED, 2, "was moved: it links to event 3");
}

static void test_insert_detected(void **state)
{
	struct srv *f = *state;
	append_n(f, 2);
	drop_guards(f);
	srv_exec(f, f->db,
		 "INSERT INTO audit_events (id, ts, actor, action, target, prev_hash, hash)"
		 " SELECT 0, ts, actor, action, target, prev_hash, hash FROM audit_events WHERE id "
		 "= 1");
	expect_fault(f, PW_AUDIT_EDITED, 0, "inserted");
	/* A replayed copy of event 2 as event 3 links to event 1. */
	srv_exec(f, f->db,
		 "DELETE FROM audit_events WHERE id = 0;"
		 "INSERT INTO audit_events (id, ts, actor, action, target, prev_hash, hash)"
		 " SELECT 3, ts, actor, action, target, prev_hash, hash FROM audit_events WHERE id "
		 "= 2");
	expect_fault(f, PW_AUDIT_REORDERED, 3, "it links to event 1");
}

/* A head rolled back behind the newest event. */
static void test_head_rollback_detected(void **state)
{
	struct srv *f = *state;
	append_n(f, 3);
	drop_guards(f);
	srv_exec(f, f->db,
		 "UPDATE audit_head SET last_id = 2, last_hash = (SELECT hash FROM audit_events"
		 " WHERE id = 2)");
	expect_fault(f, PW_AUDIT_EDITED, 3, "not covered by the chain head");
}

static void test_head_tampering_detected(void **state)
{
	struct srv *f = *state;
	append_n(f, 3);
	drop_guards(f);
	srv_exec(f, f->db,
		 "UPDATE audit_head SET last_hash = prev_hash FROM audit_events"
		 " WHERE audit_events.id = 3");
	expect_fault(f, PW_AUDIT_EDITED, 3, "differs from the one the chain head recorded");
	srv_exec(f, f->db, "DELETE FROM audit_head");
	expect_fault(f, PW_AUDIT_DELETED, 0, "head row was deleted");
	/* And appending refuses to start a new chain. */
	CHECK(f, pw_db_begin_immediate(f->db, &f->e));
	REFUSED(f, PW_ERR_INTEGRITY, "head row is missing",
		pw_audit_append(f->db, "cli:x", "a", "t", NULL, NULL, NULL, &f->e));
	pw_db_rollback(f->db);
}

/* Cutting the newest events together with the head cannot be seen from
 * inside the database: the head hash verify prints is what an operator
 * compares with a copy kept elsewhere. */
static void test_truncation_changes_head_hash(void **state)
{
	struct srv *f = *state;
	append_n(f, 4);
	pw_audit_report before, after;
	CHECK(f, pw_audit_verify(f->db, &before, &f->e));
	drop_guards(f);
	srv_exec(f, f->db,
		 "DELETE FROM audit_events WHERE id = 4;"
		 "UPDATE audit_head SET last_id = 3, last_hash = (SELECT hash FROM audit_events"
		 " WHERE id = 3)");
	CHECK(f, pw_audit_verify(f->db, &after, &f->e));
	assert_int_equal(after.events, 3);
	assert_string_not_equal(before.head_hash, after.head_hash);
}

/* More events than one verification page, and a fault beyond the first. */
static void test_long_chain(void **state)
{
	struct srv *f = *state;
	CHECK(f, pw_db_begin_immediate(f->db, &f->e));
	for (int i = 1; i <= 2500; i++)
		CHECK(f, pw_audit_append(f->db, "cli:bulk", "bulk.add", "thing:bulk", NULL, "{}",
					 NULL, &f->e));
	CHECK(f, pw_db_commit(f->db, &f->e));
	expect_intact(f, 2500);
	drop_guards(f);
	srv_exec(f, f->db, "UPDATE audit_events SET actor = 'cli:mallory' WHERE id = 2101");
	expect_fault(f, PW_AUDIT_EDITED, 2101, "audit event 2101 was edited");
}

struct appender {
	struct srv *f;
	pw_db *db;
	const char *actor;
	int n;
	pw_error e;
	int failures;
};

/* Threads own their handles; results are checked on the main thread. */
static void *append_many(void *arg)
{
	struct appender *a = arg;
	for (int i = 0; i < a->n; i++) {
		pw_err rc = pw_db_begin_immediate(a->db, &a->e);
		if (!rc)
			rc = pw_audit_append(a->db, a->actor, "race", "thing:race", NULL, NULL,
					     NULL, &a->e);
		if (!rc)
			rc = pw_db_commit(a->db, &a->e);
		if (rc) {
			pw_db_rollback(a->db);
			a->failures++;
		}
	}
	return NULL;
}

static void test_concurrent_appends(void **state)
{
	struct srv *f = *state;
	struct appender a[2] = {
		{f, srv_open_other(f), "node:a", 150, PW_ERROR_INIT, 0},
		{f, srv_open_other(f), "node:b", 150, PW_ERROR_INIT, 0},
	};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, append_many, &a[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++) {
		if (a[i].failures)
			fail_msg("%s: %d failed appends, last: %s", a[i].actor, a[i].failures,
				 pw_error_text(&a[i].e));
		pw_db_close(a[i].db);
	}
	expect_intact(f, 300);
	assert_int_equal(srv_int(f, "SELECT COUNT(*) FROM audit_events WHERE actor = ?", "node:a"),
			 150);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_append_and_verify),
		T(test_append_checks_input),
		T(test_rollback_leaves_no_gap),
		T(test_triggers_refuse_changes),
		T(test_edit_detected),
		T(test_edit_of_metadata_detected),
		T(test_delete_middle_detected),
		T(test_delete_first_detected),
		T(test_delete_last_detected),
		T(test_delete_renumbered_detected),
		T(test_reorder_detected),
		T(test_insert_detected),
		T(test_head_tampering_detected),
		T(test_head_rollback_detected),
		T(test_truncation_changes_head_hash),
		T(test_long_chain),
		T(test_concurrent_appends),
	};
	return srv_run("audit", tests, sizeof tests / sizeof *tests);
}
