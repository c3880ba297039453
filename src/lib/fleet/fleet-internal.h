/* What the host records (hosts.c) share with the CSV import and export
 * (host_csv.c), and enrollment (enroll.c) with authentication
 * (checkin.c). Not public: front ends use the headers in include/. */
#ifndef PATCHWARDEN_FLEET_INTERNAL_H
#define PATCHWARDEN_FLEET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "patchwarden/buf.h"
#include "patchwarden/clock.h"
#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/hosts.h"

/* Stored forms of the editable fields one write sets. */
struct pw_host_change {
	bool set[PW_HF__EDITABLE];
	char *val[PW_HF__EDITABLE]; /* owned; NULL clears */
};

void pw_host_change_release(struct pw_host_change *c);

/* One host by id (by_id) or hostname. */
pw_err pw_host_read_one(pw_db *db, bool by_id, int64_t id, const char *name, pw_host *out,
			pw_error *err);

/* Writes `c` to the host `old` (NULL: a new host named c->val[hostname])
 * and audits the fields that changed. The caller holds the transaction. */
pw_err pw_host_write(pw_db *db, const char *actor, const char *action, const pw_host *old,
		     const struct pw_host_change *c, int64_t *id, bool *changed, pw_error *err);

/* A value bound to a `?` of a filter: text, or `num` when text is NULL. */
struct pw_host_cond {
	const char *text;
	int64_t num;
};

/* Appends the conditions of `f` over "hosts h" to `sql`, the first
 * after *and (" WHERE " or " AND "; " AND " after any condition), and
 * their values to binds[*nb...] (at most 7). normal[] and cutoff[] hold
 * what binds point to; the caller frees normal[0..3] (NULL at first). */
pw_err pw_host_filter_where(const pw_host_filter *f, const char **and, struct pw_buf *sql,
			    struct pw_host_cond *binds, int *nb, char *normal[4],
			    char cutoff[2][PW_TS_LEN], pw_error *err);

/* Hex digits of an agent id: "ag_" + PW_AGENT_ID_HEX, as enrollment
 * issues it and authentication expects it. */
#define PW_AGENT_ID_HEX 16

#endif
