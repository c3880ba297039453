/* The audit log: an append-only, hash-chained record of every state
 * change by every user and agent (table audit_events, schema.h).
 *
 * Event n stores hash_n = SHA-256(hash_{n-1} and the canonical fields
 * ts, actor, action, target, before, after), with hash_0 = 64 zeros.
 * Ids are 1, 2, 3, ... without gaps; the row audit_head records the
 * newest id and hash. Editing an event breaks its hash, deleting one
 * leaves a gap or a broken link, moving one breaks the links around it,
 * and deleting the newest ones disagrees with audit_head. Triggers
 * refuse UPDATE and DELETE; pw_audit_verify still detects tampering by
 * someone who dropped them. (Someone who rewrites the whole chain and
 * the head is caught only by comparing the head hash with a copy kept
 * elsewhere: `patchwarden audit verify` prints it for that.) */
#ifndef PATCHWARDEN_AUDIT_H
#define PATCHWARDEN_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/db.h"
#include "patchwarden/error.h"

struct cJSON;

#define PW_AUDIT_HASH_HEX 64

/* Appends one event inside the caller's write transaction
 * (pw_db_begin_immediate), so the event commits or rolls back with the
 * change it records. Appenders on all server nodes are serialised by
 * the audit_head row lock (SQLite: the write lock) until they commit.
 * `actor` ("cli:alice", "user:bob", "agent:ag_…"), `action`
 * ("user.add") and `target` ("user:carol") are required; before/after
 * are JSON texts or NULL and are stored compacted. *id (may be NULL)
 * gets the event id. */
pw_err pw_audit_append(pw_db *db, const char *actor, const char *action, const char *target,
		       const char *before_json, const char *after_json, int64_t *id, pw_error *err);

typedef enum pw_audit_fault {
	PW_AUDIT_INTACT = 0,
	PW_AUDIT_EDITED,    /* an event's content does not match its hash */
	PW_AUDIT_DELETED,   /* a gap in ids, a broken link, or events missing at the end */
	PW_AUDIT_REORDERED, /* an event links to an event that is not its predecessor */
} pw_audit_fault;

/* "intact", "edited", "deleted", "reordered". */
const char *pw_audit_fault_name(pw_audit_fault f);

typedef struct pw_audit_report {
	int64_t events;                        /* events read */
	char head_hash[PW_AUDIT_HASH_HEX + 1]; /* hash of the newest event as audit_head has it */
	pw_audit_fault fault;
	int64_t bad_id; /* the first event found bad (0 when intact) */
	char reason[PW_ERROR_MSG_MAX];
} pw_audit_report;

/* {"intact", "events", "head_hash", "fault", and when not intact "bad_id"
 * and "reason"}: `audit verify --json` and GET /api/v1/audit/verify. */
struct cJSON *pw_audit_report_to_json(const pw_audit_report *r, bool intact);

/* Walks the whole chain in id order in one consistent snapshot, with
 * bounded memory. Intact: PW_OK and fault PW_AUDIT_INTACT. Tampered:
 * PW_ERR_INTEGRITY, with fault, bad_id and reason filled in `out` and
 * the reason in *err ("audit event 7 was edited: ..."). Other codes:
 * the database could not be read. */
pw_err pw_audit_verify(pw_db *db, pw_audit_report *out, pw_error *err);

typedef struct pw_audit_event {
	int64_t id;
	char *ts, *actor, *action, *target;
	char *before_json, *after_json; /* NULL when absent */
	char *prev_hash, *hash;
} pw_audit_event;

/* {"id", "ts", "actor", "action", "target", "before", "after" (JSON or
 * null), "prev_hash", "hash"}: the one shape of `audit list --json` and
 * GET /api/v1/audit. NULL when out of memory. */
struct cJSON *pw_audit_event_to_json(const pw_audit_event *e);

typedef struct pw_audit_list {
	pw_audit_event *v;
	size_t n, cap;
} pw_audit_list;

/* clang-format off */
#define PW_AUDIT_LIST_INIT {NULL, 0, 0}
/* clang-format on */

/* Appends to `out` up to `limit` events with id > after_id, oldest first. */
pw_err pw_audit_read(pw_db *db, int64_t after_id, size_t limit, pw_audit_list *out, pw_error *err);
void pw_audit_list_release(pw_audit_list *l);

/* The newest event's id (0 for an empty log) and hash, from audit_head. */
pw_err pw_audit_head(pw_db *db, int64_t *last_id, char hash[PW_AUDIT_HASH_HEX + 1], pw_error *err);

/* Takes the audit log's head lock now (PostgreSQL row lock; SQLite's
 * write transaction already excludes everyone). Changes that check an
 * invariant across rows (the last admin) take it before reading, so two
 * server nodes cannot both pass the check. */
pw_err pw_audit_serialize(pw_db *db, pw_error *err);

#endif
