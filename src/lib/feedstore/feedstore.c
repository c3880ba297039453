/* The feed store on the SQL layer (db.h: SQLite or PostgreSQL):
 * numbered immutable snapshots of advisories, KEV and EPSS (schema and
 * versioning rules in feedstore_schema.c).
 *
 * This file opens and migrates the store and keeps what both paths use:
 * the statement cache (IN-list statements built at open), binding, row
 * helpers, and the feed sources' fetch state. Writing is
 * feedstore_import.c, reading feedstore_read.c. */
#include "patchwarden/feedstore.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/arena.h"
#include "patchwarden/buf.h"
#include "patchwarden/grow.h"

#include "feedstore-internal.h"

#define COMPONENT "feeds"

/* ---- values and statements ---- */

char *pw_fs_arena_dup(pw_arena *a, const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *p = pw_arena_strdup(a, s);
	if (!p)
		*oom = true;
	return p;
}

void pw_fs_bind_cell(pw_stmt *st, int idx, const struct cell *c)
{
	/* A failed bind is reported again, with a message, by the step. */
	switch (c->type) {
	case CELL_INT:
		pw_stmt_bind_int(st, idx, c->i);
		break;
	case CELL_DOUBLE:
		pw_stmt_bind_double(st, idx, c->d);
		break;
	case CELL_TEXT:
		pw_stmt_bind_text(st, idx, c->p);
		break;
	case CELL_BLOB:
		pw_stmt_bind_blob(st, idx, c->p, c->n);
		break;
	default:
		pw_stmt_bind_null(st, idx);
		break;
	}
}

void pw_fs_bind_in_list(pw_stmt *st, int at, const struct cell *c, size_t n)
{
	for (size_t i = 0; i < IN_LIST; i++)
		pw_fs_bind_cell(st, at + (int)i, &c[i < n ? i : n - 1]);
}

static const char SQL_SRC_GET[] = "SELECT " SRC_COLS " FROM feed_source WHERE name = ?";
static const char SQL_SRC_PUT[] =
	"INSERT INTO feed_source (" SRC_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?)"
	" ON CONFLICT (name) DO UPDATE SET url = excluded.url, etag = excluded.etag,"
	" last_modified = excluded.last_modified, last_fetch = excluded.last_fetch,"
	" last_status = excluded.last_status, last_snapshot = excluded.last_snapshot";
static const char SQL_SRC_ALL[] = "SELECT " SRC_COLS " FROM feed_source ORDER BY name";

static const struct {
	const char *head, *tail;
} in_sql[IN__COUNT] = {
	[IN_ADV_CLOSE] = {"UPDATE feed_advisory SET removed_in = ? WHERE rid IN (", ")"},
	/* One current row per CVE: the commit closes them before it writes
	 * this snapshot's rows. */
	[IN_KEV_CLOSE] =
		{"UPDATE feed_kev SET removed_in = ? WHERE removed_in IS NULL AND cve IN (", ")"},
	[IN_EPSS_CLOSE] = {"UPDATE feed_epss SET removed_in = ? WHERE removed_in IS NULL"
			   " AND cve IN (",
			   ")"},
	[IN_AFF_BY_PKG] = {"SELECT " AFF_COLS " FROM feed_affected WHERE ecosystem = ?"
			   " AND package IN (",
			   ")"},
	[IN_ADV_GET] = {"SELECT " ADV_COLS " FROM feed_advisory WHERE rid IN (",
			") AND " VISIBLE("")},
};

pw_err pw_fs_fail(pw_feedstore *s, pw_err rc, pw_error *err, const char *what)
{
	if (rc)
		pw_error_prefix(err, "%s: %s: ", s->where, what);
	return rc;
}

pw_err pw_fs_nomem(pw_error *err)
{
	return pw_error_set(err, PW_ERR_NOMEM, "out of memory in the feed store");
}

char *pw_fs_sql_list(const char *head, const char *group, size_t n, const char *tail)
{
	pw_buf b = PW_BUF_INIT;
	bool bad = pw_buf_puts(&b, head) != PW_OK;
	for (size_t i = 0; i < n && !bad; i++)
		bad = (i && pw_buf_puts(&b, ", ")) || pw_buf_puts(&b, group);
	if (bad || pw_buf_puts(&b, tail)) {
		pw_buf_release(&b);
		return NULL;
	}
	return pw_buf_detach(&b);
}

pw_err pw_fs_prep(pw_feedstore *s, const char *sql, pw_stmt **st, pw_error *err)
{
	return pw_db_prepare(s->db, sql, st, err);
}

void pw_fs_copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

int pw_fs_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

pw_err pw_fs_rows_all(pw_feedstore *s, const char *sql, size_t elem,
		      void (*from_row)(pw_stmt *st, void *item), const char *what, void **out,
		      size_t *n, pw_error *err)
{
	*out = NULL;
	*n = 0;
	pw_stmt *st;
	pw_err rc = pw_fs_prep(s, sql, &st, err);
	char *list = NULL;
	size_t cap = 0;
	bool row = false;
	while (!rc && !(rc = pw_stmt_step(st, &row, err)) && row) {
		char *v = pw_grow(list, &cap, *n, elem);
		if (!v) {
			pw_stmt_reset(st);
			free(list);
			*n = 0;
			return pw_fs_nomem(err);
		}
		list = v;
		from_row(st, list + elem * (*n)++);
	}
	if (rc) {
		free(list);
		*n = 0;
		return pw_fs_fail(s, rc, err, what);
	}
	*out = list;
	return PW_OK;
}

pw_err pw_fs_row_one(pw_feedstore *s, const char *sql, const struct cell *v, int n,
		     void (*from_row)(pw_stmt *st, void *item), void *item, bool *found,
		     const char *what, pw_error *err)
{
	pw_stmt *st;
	*found = false;
	pw_err rc = pw_fs_prep(s, sql, &st, err);
	for (int i = 0; !rc && i < n; i++)
		pw_fs_bind_cell(st, i + 1, &v[i]);
	if (!rc)
		rc = pw_stmt_step(st, found, err);
	if (!rc && *found)
		from_row(st, item);
	if (!rc)
		pw_stmt_reset(st);
	return pw_fs_fail(s, rc, err, what);
}

/* ---- opening and migrating ---- */

/* Stores made before the feed store moved onto the SQL layer kept their
 * own `schema_version` table; their data is refused, not converted: a
 * re-import rebuilds it from the feeds. */
static pw_err refuse_old_store(pw_feedstore *s, pw_error *err)
{
	bool old = false;
	pw_err rc = pw_db_table_exists(s->db, "schema_version", &old, err);
	pw_stmt *st = NULL;
	if (!rc && old)
		rc = pw_fs_prep(s, "SELECT COUNT(*) FROM schema_version WHERE component = 'feed'",
				&st, err);
	bool row = false;
	if (!rc && old)
		rc = pw_stmt_step(st, &row, err);
	old = row && pw_stmt_int(st, 0) > 0;
	if (st)
		pw_stmt_reset(st);
	if (rc)
		return pw_fs_fail(s, rc, err, "checking the schema");
	if (old)
		return pw_error_set(
			err, PW_ERR_UNSUPPORTED,
			"%s: this feed store was written by an older patchwarden (it has"
			" a schema_version table) and cannot be upgraded in place; move"
			" it aside and import the feeds again ('patchwarden feed import"
			" --store LOCATION PATH' or 'feed sync')",
			s->where);
	return PW_OK;
}

static void store_free(pw_feedstore *s)
{
	for (int i = 0; i < IN__COUNT; i++)
		free(s->in_text[i]);
	for (int t = 0; t < T__COUNT; t++)
		for (int k = 0; k < INSERT_CHUNKS; k++)
			free(s->insert_text[t][k]);
	if (s->owns_db)
		pw_db_close(s->db);
	pw_buf_release(&s->kev_strings);
	free(s->where);
	free(s);
}

static pw_err store_new(pw_db *db, const char *location, bool owns, pw_feedstore **out,
			pw_error *err)
{
	*out = NULL;
	if (sodium_init() < 0)
		return pw_error_set(err, PW_ERR_EXTERNAL, "libsodium failed to initialise");
	pw_feedstore *s = calloc(1, sizeof *s);
	char where[512];
	pw_db_url_redact(location, where, sizeof where);
	if (!s || !(s->where = strdup(where))) {
		free(s);
		return pw_fs_nomem(err);
	}
	s->db = db;
	s->owns_db = owns;
	char group[IN_LIST * 3];
	size_t len = 0;
	for (int i = 0; i < IN_LIST; i++)
		len += (size_t)snprintf(group + len, sizeof group - len, "%s", i ? ", ?" : "?");
	pw_err rc = PW_OK;
	for (int i = 0; !rc && i < IN__COUNT; i++)
		if (!(s->in_text[i] = pw_fs_sql_list(in_sql[i].head, group, 1, in_sql[i].tail)))
			rc = pw_fs_nomem(err);
	if (!rc)
		rc = refuse_old_store(s, err);
	if (!rc)
		rc = pw_fs_fail(s,
				pw_db_migrate(db, COMPONENT, pw_feedstore_migrations,
					      pw_feedstore_n_migrations, err),
				err, "setting up the feed tables");
	if (rc) {
		s->owns_db = false; /* the caller closes a database it passed in */
		store_free(s);
		return rc;
	}
	*out = s;
	return PW_OK;
}

pw_err pw_feedstore_open(const char *location, pw_feedstore **out, pw_error *err)
{
	*out = NULL;
	pw_db *db = NULL;
	pw_err rc = pw_db_open(location, &db, err);
	if (rc)
		return rc;
	if ((rc = store_new(db, location, true, out, err)))
		pw_db_close(db);
	return rc;
}

pw_err pw_feedstore_open_db(pw_db *db, pw_feedstore **out, pw_error *err)
{
	return store_new(db,
			 pw_db_kind_of(db) == PW_DB_POSTGRES ? "the PostgreSQL feed store"
							     : "the SQLite feed store",
			 false, out, err);
}

void pw_feedstore_close(pw_feedstore *s)
{
	if (!s)
		return;
	if (s->active)
		pw_feed_import_abort(s->active);
	store_free(s);
}

/* ---- sources ---- */

static void source_from_row(pw_stmt *st, void *item)
{
	pw_source_state *out = item;
	memset(out, 0, sizeof *out);
	pw_fs_copy_text(out->name, sizeof out->name, pw_stmt_text(st, 0));
	pw_fs_copy_text(out->url, sizeof out->url, pw_stmt_text(st, 1));
	pw_fs_copy_text(out->etag, sizeof out->etag, pw_stmt_text(st, 2));
	pw_fs_copy_text(out->last_modified, sizeof out->last_modified, pw_stmt_text(st, 3));
	pw_fs_copy_text(out->last_fetch, sizeof out->last_fetch, pw_stmt_text(st, 4));
	pw_fs_copy_text(out->last_status, sizeof out->last_status, pw_stmt_text(st, 5));
	out->last_snapshot = pw_stmt_int(st, 6);
}

pw_err pw_feedstore_source_get(pw_feedstore *s, const char *name, pw_source_state *out, bool *found,
			       pw_error *err)
{
	struct cell v = c_text(name);
	return pw_fs_row_one(s, SQL_SRC_GET, &v, 1, source_from_row, out, found, "reading a source",
			     err);
}

pw_err pw_feedstore_source_put(pw_feedstore *s, const pw_source_state *in, pw_error *err)
{
	if (!in->name[0])
		return pw_error_set(err, PW_ERR_INVALID, "a feed source needs a name");
	pw_stmt *st;
	pw_err rc = pw_fs_prep(s, SQL_SRC_PUT, &st, err);
	if (!rc) {
		pw_stmt_bind_text(st, 1, in->name);
		pw_stmt_bind_text(st, 2, in->url);
		pw_stmt_bind_text(st, 3, in->etag);
		pw_stmt_bind_text(st, 4, in->last_modified);
		pw_stmt_bind_text(st, 5, in->last_fetch);
		pw_stmt_bind_text(st, 6, in->last_status);
		pw_stmt_bind_int(st, 7, in->last_snapshot);
		rc = pw_stmt_exec(st, err);
	}
	return pw_fs_fail(s, rc, err, "recording a source's state");
}

pw_err pw_feedstore_sources(pw_feedstore *s, pw_source_state **list, size_t *n, pw_error *err)
{
	void *v;
	pw_err rc = pw_fs_rows_all(s, SQL_SRC_ALL, sizeof **list, source_from_row,
				   "listing sources", &v, n, err);
	*list = v;
	return rc;
}
