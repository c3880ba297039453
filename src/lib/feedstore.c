/* The feed store on SQLite: numbered immutable snapshots of advisories,
 * KEV and EPSS (schema and versioning rules in feedstore_schema.c).
 *
 * Writing: one import is one write transaction; every record is compared
 * by content hash with the current version of its key, so unchanged data
 * writes nothing and a re-import adds no rows.
 * Reading: the matcher asks for one ecosystem, optionally restricted to a
 * host's package names; each name is one range read on the clustered
 * (ecosystem, package) key with a single cached statement. */
#include "patchwarden/feedstore.h"

#include <ctype.h>
#include <math.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patchwarden/buf.h"
#include "feedstore_internal.h"

#define COMPONENT "feed" /* our rows in schema_version; other modules share the file */
#define HASH_LEN 16
#define BUSY_TIMEOUT_MS 10000
/* EPSS scores drift a little every day; a CVE gets a new versioned row
 * only when its score moves by at least the feed's published precision
 * or its percentile by a whole point, so daily imports stay small. */
#define EPSS_SCORE_STEP 0.00001
#define EPSS_PERCENTILE_STEP 0.01

/* ---- strings that live as long as one read or one import ---- */

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	char data[];
};

typedef struct arena {
	struct arena_block *head;
} arena;

#define ARENA_INIT {NULL}

static void *arena_alloc(arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	struct arena_block *b = a->head;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > 65536 ? n : 65536;
		b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	char *p = b->data + b->used;
	b->used += n;
	return p;
}

/* NULL in, NULL out; *oom set when the copy failed. */
static char *arena_strdup(arena *a, const unsigned char *s, bool *oom)
{
	if (!s)
		return NULL;
	size_t len = strlen((const char *)s);
	char *p = arena_alloc(a, len + 1);
	if (!p) {
		*oom = true;
		return NULL;
	}
	memcpy(p, s, len + 1);
	return p;
}

static void arena_release(arena *a)
{
	while (a->head) {
		struct arena_block *next = a->head->next;
		free(a->head);
		a->head = next;
	}
}

/* ---- the current KEV or EPSS catalogue during an import, by CVE ---- */

struct cat_entry {
	const char *cve; /* NULL: empty slot */
	int64_t added_in;
	unsigned char hash[HASH_LEN]; /* KEV: content hash */
	double score, percentile;     /* EPSS */
	bool seen;                    /* present in this import */
};

typedef struct catalogue {
	struct cat_entry *slots;
	size_t cap, n;
	arena keys;
	bool loaded;
} catalogue;

#define CATALOGUE_INIT {NULL, 0, 0, ARENA_INIT, false}

static size_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return (size_t)h;
}

static struct cat_entry *cat_slot(const catalogue *c, const char *cve)
{
	size_t i = str_hash(cve) & (c->cap - 1);
	while (c->slots[i].cve && strcmp(c->slots[i].cve, cve) != 0)
		i = (i + 1) & (c->cap - 1);
	return &c->slots[i];
}

static struct cat_entry *cat_find(const catalogue *c, const char *cve)
{
	if (!c->cap)
		return NULL;
	struct cat_entry *e = cat_slot(c, cve);
	return e->cve ? e : NULL;
}

static pw_err cat_grow(catalogue *c)
{
	size_t cap = c->cap ? c->cap * 2 : 1024;
	struct cat_entry *old = c->slots;
	size_t old_cap = c->cap;
	c->slots = calloc(cap, sizeof *c->slots);
	if (!c->slots) {
		c->slots = old;
		return PW_ERR_NOMEM;
	}
	c->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].cve)
			*cat_slot(c, old[i].cve) = old[i];
	free(old);
	return PW_OK;
}

/* Adds a CVE that cat_find did not find. */
static struct cat_entry *cat_add(catalogue *c, const unsigned char *cve)
{
	if ((c->n + 1) * 10 > c->cap * 7 && cat_grow(c))
		return NULL;
	bool oom = false;
	const char *key = arena_strdup(&c->keys, cve, &oom);
	if (oom)
		return NULL;
	struct cat_entry *e = cat_slot(c, key);
	memset(e, 0, sizeof *e);
	e->cve = key;
	c->n++;
	return e;
}

static void cat_release(catalogue *c)
{
	free(c->slots);
	arena_release(&c->keys);
	*c = (catalogue)CATALOGUE_INIT;
}

/* ---- the handle and its cached statements ---- */

#define VISIBLE(a, n) "(" a "added_in <= ?" #n " AND (" a "removed_in IS NULL OR " a "removed_in > ?" #n "))"

enum stmt_id {
	ST_LATEST,
	ST_SNAP_GET,
	ST_SNAP_ALL,
	ST_SNAP_INSERT,
	ST_ADV_CURRENT,
	ST_ADV_CLOSE,
	ST_ADV_INSERT,
	ST_AFF_INSERT,
	ST_ADV_OF_SOURCE,
	ST_KEV_CURRENT,
	ST_KEV_UPSERT,
	ST_KEV_CLOSE,
	ST_EPSS_CURRENT,
	ST_EPSS_UPSERT,
	ST_EPSS_CLOSE,
	ST_AFF_BY_ECO,
	ST_AFF_BY_PKG,
	ST_ADV_GET,
	ST_KEV_GET,
	ST_KEV_EACH,
	ST_EPSS_GET,
	ST_ECOSYSTEMS,
	ST_SRC_GET,
	ST_SRC_PUT,
	ST_SRC_ALL,
	ST__COUNT
};

#define SNAP_COLS "id, created, label, advisories, affected, kev, epss"
#define KEV_COLS "cve, date_added, due_date, vendor, product, name, ransomware"
#define AFF_COLS "package, adv, seq, by_source, state, fixed, note"
#define SRC_COLS "name, url, etag, last_modified, last_fetch, last_status, last_snapshot"

static const char *const stmt_sql[ST__COUNT] = {
	[ST_LATEST] = "SELECT MAX(id) FROM snapshot",
	[ST_SNAP_GET] = "SELECT " SNAP_COLS " FROM snapshot WHERE id = ?1",
	[ST_SNAP_ALL] = "SELECT " SNAP_COLS " FROM snapshot ORDER BY id",
	[ST_SNAP_INSERT] = "INSERT INTO snapshot (" SNAP_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_ADV_CURRENT] = "SELECT rid, hash, n_affected, added_in FROM advisory"
			   " WHERE source = ?1 AND adv_id = ?2 AND removed_in IS NULL",
	[ST_ADV_CLOSE] = "UPDATE advisory SET removed_in = ?2 WHERE rid = ?1",
	[ST_ADV_INSERT] = "INSERT INTO advisory (source, adv_id, added_in, hash, published, modified,"
			  " summary, severity, attack_vector, cvss_vector, cves, ecosystems, n_affected)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[ST_AFF_INSERT] = "INSERT INTO affected (ecosystem, package, adv, seq, by_source, state,"
			  " fixed, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_ADV_OF_SOURCE] = "SELECT rid, n_affected, ecosystems FROM advisory"
			     " WHERE source = ?1 AND removed_in IS NULL",
	[ST_KEV_CURRENT] = "SELECT " KEV_COLS ", added_in FROM kev WHERE removed_in IS NULL",
	[ST_KEV_UPSERT] = "INSERT INTO kev (" KEV_COLS ", added_in) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
			  " ON CONFLICT (cve, added_in) DO UPDATE SET date_added = excluded.date_added,"
			  " due_date = excluded.due_date, vendor = excluded.vendor,"
			  " product = excluded.product, name = excluded.name,"
			  " ransomware = excluded.ransomware",
	[ST_KEV_CLOSE] = "UPDATE kev SET removed_in = ?3 WHERE cve = ?1 AND added_in = ?2",
	[ST_EPSS_CURRENT] = "SELECT cve, score, percentile, added_in FROM epss WHERE removed_in IS NULL",
	[ST_EPSS_UPSERT] = "INSERT INTO epss (cve, score, percentile, added_in) VALUES (?1, ?2, ?3, ?4)"
			   " ON CONFLICT (cve, added_in) DO UPDATE SET score = excluded.score,"
			   " percentile = excluded.percentile",
	[ST_EPSS_CLOSE] = "UPDATE epss SET removed_in = ?3 WHERE cve = ?1 AND added_in = ?2",
	/* Validity is checked once per advisory (ST_ADV_GET), not per
	 * affected row: rows of replaced versions are few, seeks are not. */
	[ST_AFF_BY_ECO] = "SELECT " AFF_COLS " FROM affected WHERE ecosystem = ?1",
	[ST_AFF_BY_PKG] = "SELECT " AFF_COLS " FROM affected WHERE ecosystem = ?1"
			  " AND package = ?2",
	[ST_ADV_GET] = "SELECT source, adv_id, published, modified, summary, severity, attack_vector,"
		       " cvss_vector, cves FROM advisory WHERE rid = ?1 AND " VISIBLE("", 2),
	[ST_KEV_GET] = "SELECT " KEV_COLS " FROM kev WHERE cve = ?1 AND " VISIBLE("", 2),
	[ST_KEV_EACH] = "SELECT " KEV_COLS " FROM kev WHERE " VISIBLE("", 1) " ORDER BY cve",
	[ST_EPSS_GET] = "SELECT score, percentile FROM epss WHERE cve = ?1 AND " VISIBLE("", 2),
	[ST_ECOSYSTEMS] = "SELECT f.ecosystem, COUNT(DISTINCT f.adv), COUNT(DISTINCT f.package)"
			  " FROM affected f CROSS JOIN advisory a ON a.rid = f.adv"
			  " WHERE " VISIBLE("a.", 1) " GROUP BY f.ecosystem",
	[ST_SRC_GET] = "SELECT " SRC_COLS " FROM feed_source WHERE name = ?1",
	[ST_SRC_PUT] = "INSERT INTO feed_source (" SRC_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		       " ON CONFLICT (name) DO UPDATE SET url = excluded.url, etag = excluded.etag,"
		       " last_modified = excluded.last_modified, last_fetch = excluded.last_fetch,"
		       " last_status = excluded.last_status, last_snapshot = excluded.last_snapshot",
	[ST_SRC_ALL] = "SELECT " SRC_COLS " FROM feed_source ORDER BY name",
};

struct pw_feedstore {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[ST__COUNT];
	pw_feed_import *active; /* the open import, at most one */
	pw_buf kev_strings;     /* what pw_feedstore_kev hands out */
};

static pw_err store_fail(pw_feedstore *s, pw_error *err, const char *what)
{
	return pw_error_set(err, PW_ERR_STORE, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

/* The cached statement, reset and ready to bind; NULL (err set) when it
 * does not prepare. Callers reset it again when done so no read
 * transaction stays open between calls. */
static sqlite3_stmt *stmt_get(pw_feedstore *s, enum stmt_id id, pw_error *err)
{
	sqlite3_stmt *st = s->stmt[id];
	if (st) {
		sqlite3_reset(st);
		return st;
	}
	if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		store_fail(s, err, "preparing a statement");
		return NULL;
	}
	s->stmt[id] = st;
	return st;
}

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
	return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* Runs a statement that returns no rows, then resets it. */
static pw_err stmt_done(pw_feedstore *s, sqlite3_stmt *st, pw_error *err, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? PW_OK : store_fail(s, err, what);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static void copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void iso_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- opening and migrating ---- */

static pw_err exec_sql(pw_feedstore *s, const char *sql, pw_error *err, const char *what)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(s, err, what);
	return PW_OK;
}

static pw_err query_int(pw_feedstore *s, const char *sql, int64_t *out, pw_error *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, err, "reading the schema");
	int rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? PW_OK : store_fail(s, err, "reading the schema");
}

/* Reads the schema version; PW_ERR_INVALID for a database of something
 * else. */
static pw_err schema_version(pw_feedstore *s, bool *has_table, int64_t *version, pw_error *err)
{
	int64_t tables = 0, marked = 0;
	*version = 0;
	pw_err rc = query_int(s, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
			      " AND name = 'schema_version'", &marked, err);
	if (!rc)
		rc = query_int(s, "SELECT COUNT(*) FROM sqlite_master", &tables, err);
	if (!rc && !marked && tables)
		rc = pw_error_set(err, PW_ERR_INVALID,
				  "%s: this SQLite database is not a patchwarden store (it has tables"
				  " but no schema_version); give another --store path", s->path);
	if (!rc && marked)
		rc = query_int(s, "SELECT COALESCE(MAX(version), 0) FROM schema_version"
				  " WHERE component = '" COMPONENT "'", version, err);
	if (!rc && *version > (int64_t)pw_feedstore_n_migrations)
		rc = pw_error_set(err, PW_ERR_UNSUPPORTED,
				  "%s: the feed store has schema version %lld, newer than this"
				  " patchwarden knows (%zu); use a newer patchwarden",
				  s->path, (long long)*version, pw_feedstore_n_migrations);
	*has_table = marked != 0;
	return rc;
}

static pw_err migrate(pw_feedstore *s, pw_error *err)
{
	bool has_table;
	int64_t version;
	pw_err rc = schema_version(s, &has_table, &version, err);
	/* Up to date, the usual case: no write lock, so opening a store for
	 * a scan does not wait for an import that is running. */
	if (rc || version == (int64_t)pw_feedstore_n_migrations)
		return rc;
	if ((rc = exec_sql(s, "BEGIN IMMEDIATE", err, "locking the store to migrate its schema")))
		return rc;
	/* Again under the lock: another process may have migrated meanwhile. */
	rc = schema_version(s, &has_table, &version, err);
	if (!rc && !has_table)
		rc = exec_sql(s, "CREATE TABLE schema_version (component TEXT NOT NULL,"
				 " version INTEGER NOT NULL, applied TEXT NOT NULL,"
				 " PRIMARY KEY (component, version))", err, "creating schema_version");
	for (size_t v = (size_t)version; !rc && v < pw_feedstore_n_migrations; v++) {
		rc = exec_sql(s, pw_feedstore_migrations[v], err, "migrating the schema");
		if (rc)
			break;
		char now[32], sql[160];
		iso_now(now);
		snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES ('" COMPONENT "', %zu, '%s')",
			 v + 1, now);
		rc = exec_sql(s, sql, err, "recording the schema version");
	}
	if (rc) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return exec_sql(s, "COMMIT", err, "committing the schema");
}

pw_err pw_feedstore_open(const char *path, pw_feedstore **out, pw_error *err)
{
	*out = NULL;
	if (sodium_init() < 0)
		return pw_error_set(err, PW_ERR_EXTERNAL, "libsodium failed to initialise");
	pw_feedstore *s = calloc(1, sizeof *s);
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", path);
	}
	pw_err rc = PW_OK;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				  SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = s->db ? store_fail(s, err, "cannot open")
			   : pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", path);
		pw_feedstore_close(s);
		return rc;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* WAL lets scans read while an import writes; NORMAL sync is
	 * durable at checkpoints and never corrupts on power loss. A larger
	 * cache keeps a full EPSS import out of the disk. */
	rc = exec_sql(s, "PRAGMA journal_mode = WAL", err, "cannot use it as a database");
	if (!rc)
		rc = exec_sql(s, "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;"
				 " PRAGMA cache_size = -32768", err, "setting it up");
	if (!rc)
		rc = migrate(s, err);
	if (rc) {
		pw_feedstore_close(s);
		return rc;
	}
	*out = s;
	return PW_OK;
}

void pw_feedstore_close(pw_feedstore *s)
{
	if (!s)
		return;
	if (s->active)
		pw_feed_import_abort(s->active);
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	pw_buf_release(&s->kev_strings);
	free(s->path);
	free(s);
}

/* ---- imports ---- */

/* A source seen in the import and the ecosystems its records covered. */
struct source {
	char *name;
	char **ecos;
	size_t n_ecos;
};

struct pw_feed_import {
	pw_feedstore *s;
	int64_t snap; /* the snapshot this import will commit */
	char *label;
	pw_feed_sink sink;
	pw_warn_fn warn;
	pw_progress_fn progress;
	void *cb_ctx;
	bool replace;
	const char *current; /* input being parsed, for the store's own warnings */
	pw_import_stats stats;
	int64_t n_adv, n_aff, n_kev, n_epss; /* visible counts, updated as rows change */
	struct source *sources; /* sources seen, for replace */
	size_t n_sources;
	int64_t *kept; /* current advisory rows this import contained */
	size_t n_kept, cap_kept;
	catalogue kev, epss;
	bool *keep; /* per affected[] entry of the record at hand */
	size_t cap_keep;
	pw_buf cves, ecos, where; /* the record at hand's CVE and ecosystem columns */
};

void pw_feed_import_count_file(pw_feed_import *imp)
{
	imp->stats.files++;
}

void pw_feed_import_warn(pw_feed_import *imp, const char *where, const char *message)
{
	imp->stats.warnings++;
	if (imp->warn)
		imp->warn(imp->cb_ctx, where, message);
}

void pw_feed_import_progress(pw_feed_import *imp, size_t done, size_t total, const char *current)
{
	if (imp->progress)
		imp->progress(imp->cb_ctx, done, total, current);
}

void pw_feed_import_set_current(pw_feed_import *imp, const char *name)
{
	imp->current = name;
}

static void sink_warn(void *ctx, const char *where, const char *message)
{
	pw_feed_import_warn(ctx, where, message);
}

static bool blank(const char *s)
{
	return !s || !*s;
}

/* A warning about record `id` the store itself raises. */
static void record_warn(pw_feed_import *imp, const char *id, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void record_warn(pw_feed_import *imp, const char *id, const char *field, const char *fmt, ...)
{
	/* "where" and the message share one buffer, split by a NUL. */
	pw_buf *w = &imp->where;
	pw_buf_reset(w);
	pw_err e = pw_buf_printf(w, "%s%s%s%s%s", imp->current ? imp->current : "",
				 imp->current ? ": " : "", blank(id) ? "(no id)" : id,
				 field ? ": " : "", field ? field : "");
	size_t at = w->len;
	if (!e)
		e = pw_buf_putc(w, '\0');
	va_list ap;
	va_start(ap, fmt);
	if (!e)
		e = pw_buf_vprintf(w, fmt, ap);
	va_end(ap);
	if (e)
		pw_feed_import_warn(imp, imp->current ? imp->current : "import",
				    "out of memory while reporting a skipped record");
	else
		pw_feed_import_warn(imp, w->data, w->data + at + 1);
}

static bool has_space(const char *s)
{
	for (; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			return true;
	return false;
}

static void hash_bytes(crypto_generichash_state *h, const void *p, size_t n)
{
	uint64_t len = n;
	crypto_generichash_update(h, (const unsigned char *)&len, sizeof len);
	crypto_generichash_update(h, p, n);
}

/* NULL and "" hash differently, so a field that appears is a change. */
static void hash_str(crypto_generichash_state *h, const char *s)
{
	if (s)
		hash_bytes(h, s, strlen(s));
	else
		hash_bytes(h, "\xff", 1);
}

static void hash_int(crypto_generichash_state *h, int64_t v)
{
	crypto_generichash_update(h, (const unsigned char *)&v, sizeof v);
}

static void advisory_hash(const pw_advisory *a, const bool *keep, const char *cves,
			  unsigned char out[HASH_LEN])
{
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, HASH_LEN);
	hash_str(&h, a->published);
	hash_str(&h, a->modified);
	hash_str(&h, a->summary);
	hash_int(&h, a->severity);
	hash_int(&h, a->attack_vector);
	hash_str(&h, a->cvss_vector);
	hash_str(&h, cves);
	for (size_t i = 0; i < a->n_affected; i++) {
		if (!keep[i])
			continue;
		const pw_affected *f = &a->affected[i];
		hash_str(&h, f->ecosystem);
		hash_str(&h, f->package);
		hash_int(&h, f->by_source);
		hash_int(&h, f->state);
		hash_str(&h, f->fixed);
		hash_str(&h, f->note);
	}
	crypto_generichash_final(&h, out, HASH_LEN);
}

static void kev_hash(const char *date_added, const char *due_date, const char *vendor,
		     const char *product, const char *name, bool ransomware,
		     unsigned char out[HASH_LEN])
{
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, HASH_LEN);
	hash_str(&h, date_added);
	hash_str(&h, due_date);
	hash_str(&h, vendor);
	hash_str(&h, product);
	hash_str(&h, name);
	hash_int(&h, ransomware);
	crypto_generichash_final(&h, out, HASH_LEN);
}

static pw_err nomem(pw_error *err)
{
	return pw_error_set(err, PW_ERR_NOMEM, "out of memory during the import");
}

/* Records the source and the ecosystems of the record at hand (its
 * ecosystems column, imp->ecos), for the scope of replace. */
static pw_err note_source(pw_feed_import *imp, const char *name, pw_error *err)
{
	struct source *src = NULL;
	for (size_t i = 0; i < imp->n_sources && !src; i++)
		if (strcmp(imp->sources[i].name, name) == 0)
			src = &imp->sources[i];
	if (!src) {
		struct source *v = realloc(imp->sources, (imp->n_sources + 1) * sizeof *v);
		if (!v)
			return nomem(err);
		imp->sources = v;
		src = &v[imp->n_sources];
		*src = (struct source){strdup(name), NULL, 0};
		if (!src->name)
			return nomem(err);
		imp->n_sources++;
	}
	const char *p = pw_buf_str(&imp->ecos);
	while (*p) {
		size_t n = strcspn(p, " ");
		bool known = false;
		for (size_t i = 0; i < src->n_ecos && !known; i++)
			known = strlen(src->ecos[i]) == n && memcmp(src->ecos[i], p, n) == 0;
		if (!known) {
			char **v = realloc(src->ecos, (src->n_ecos + 1) * sizeof *v);
			if (!v)
				return nomem(err);
			src->ecos = v;
			if (!(v[src->n_ecos] = strndup(p, n)))
				return nomem(err);
			src->n_ecos++;
		}
		p += n + (p[n] == ' ');
	}
	return PW_OK;
}

/* Whether every ecosystem an advisory names was covered by `src`. */
static bool covered(const struct source *src, const char *ecosystems)
{
	const char *p = ecosystems ? ecosystems : "";
	while (*p) {
		size_t n = strcspn(p, " ");
		bool found = false;
		for (size_t i = 0; i < src->n_ecos && !found; i++)
			found = strlen(src->ecos[i]) == n && memcmp(src->ecos[i], p, n) == 0;
		if (!found)
			return false;
		p += n + (p[n] == ' ');
	}
	return true;
}

static pw_err note_kept(pw_feed_import *imp, int64_t rid, pw_error *err)
{
	if (imp->n_kept == imp->cap_kept) {
		size_t cap = imp->cap_kept ? imp->cap_kept * 2 : 1024;
		int64_t *v = realloc(imp->kept, cap * sizeof *v);
		if (!v)
			return nomem(err);
		imp->kept = v;
		imp->cap_kept = cap;
	}
	imp->kept[imp->n_kept++] = rid;
	return PW_OK;
}

/* Decides which affected[] entries and CVE ids the store can keep,
 * warning about the others; fills imp->keep and imp->cves. */
/* The distinct ecosystems of the kept entries, sorted, space-separated. */
static pw_err ecosystem_column(pw_feed_import *imp, const pw_advisory *a, pw_error *err)
{
	pw_buf_reset(&imp->ecos);
	const char **v = malloc((a->n_affected ? a->n_affected : 1) * sizeof *v);
	if (!v)
		return nomem(err);
	size_t n = 0;
	for (size_t i = 0; i < a->n_affected; i++)
		if (imp->keep[i] && (!n || strcmp(v[n - 1], a->affected[i].ecosystem) != 0))
			v[n++] = a->affected[i].ecosystem;
	qsort(v, n, sizeof *v, cmp_str);
	pw_err rc = PW_OK;
	for (size_t i = 0; !rc && i < n; i++)
		if (!i || strcmp(v[i], v[i - 1]) != 0)
			rc = (imp->ecos.len && pw_buf_putc(&imp->ecos, ' ')) ||
			     pw_buf_puts(&imp->ecos, v[i]) ? nomem(err) : PW_OK;
	free(v);
	return rc;
}

static pw_err filter_record(pw_feed_import *imp, const pw_advisory *a, size_t *n_keep,
			    pw_error *err)
{
	pw_err rc;
	if (a->n_affected > imp->cap_keep) {
		bool *k = realloc(imp->keep, a->n_affected * sizeof *k);
		if (!k)
			return nomem(err);
		imp->keep = k;
		imp->cap_keep = a->n_affected;
	}
	*n_keep = 0;
	for (size_t i = 0; i < a->n_affected; i++) {
		const pw_affected *f = &a->affected[i];
		const char *why = NULL;
		if (blank(f->ecosystem) || has_space(f->ecosystem))
			why = "no usable ecosystem name";
		else if (blank(f->package))
			why = "no package name";
		else if (f->state < PW_FIX_FIXED || f->state > PW_FIX_IGNORED)
			why = "unknown fix state";
		else if (f->state == PW_FIX_FIXED && blank(f->fixed))
			why = "state fixed without a fixed version";
		imp->keep[i] = !why;
		if (why) {
			char field[48];
			snprintf(field, sizeof field, "affected[%zu]", i);
			record_warn(imp, a->id, field, "%s; entry skipped", why);
		} else {
			(*n_keep)++;
		}
	}
	if ((rc = ecosystem_column(imp, a, err)))
		return rc;
	pw_buf_reset(&imp->cves);
	for (size_t i = 0; i < a->n_cves; i++) {
		const char *c = a->cves[i];
		if (blank(c) || has_space(c)) {
			char field[48];
			snprintf(field, sizeof field, "cves[%zu]", i);
			record_warn(imp, a->id, field, "'%s' is not a CVE id; dropped", c ? c : "");
			continue;
		}
		if ((imp->cves.len && pw_buf_putc(&imp->cves, ' ')) || pw_buf_puts(&imp->cves, c))
			return nomem(err);
	}
	return PW_OK;
}

static pw_err insert_advisory(pw_feed_import *imp, const pw_advisory *a, size_t n_keep,
			      const unsigned char *hash, int64_t *rid, pw_error *err)
{
	pw_feedstore *s = imp->s;
	sqlite3_stmt *st = stmt_get(s, ST_ADV_INSERT, err);
	if (!st)
		return PW_ERR_STORE;
	bind_text(st, 1, a->source);
	bind_text(st, 2, a->id);
	sqlite3_bind_int64(st, 3, imp->snap);
	sqlite3_bind_blob(st, 4, hash, HASH_LEN, SQLITE_STATIC);
	bind_text(st, 5, a->published);
	bind_text(st, 6, a->modified);
	bind_text(st, 7, a->summary);
	sqlite3_bind_int(st, 8, (int)a->severity);
	sqlite3_bind_int(st, 9, (int)a->attack_vector);
	bind_text(st, 10, a->cvss_vector);
	bind_text(st, 11, pw_buf_str(&imp->cves));
	bind_text(st, 12, pw_buf_str(&imp->ecos));
	sqlite3_bind_int64(st, 13, (int64_t)n_keep);
	pw_err rc = stmt_done(s, st, err, "storing an advisory");
	if (rc)
		return rc;
	*rid = sqlite3_last_insert_rowid(s->db);
	if (!(st = stmt_get(s, ST_AFF_INSERT, err)))
		return PW_ERR_STORE;
	int64_t seq = 0;
	for (size_t i = 0; i < a->n_affected; i++) {
		if (!imp->keep[i])
			continue;
		const pw_affected *f = &a->affected[i];
		bind_text(st, 1, f->ecosystem);
		bind_text(st, 2, f->package);
		sqlite3_bind_int64(st, 3, *rid);
		sqlite3_bind_int64(st, 4, seq++);
		sqlite3_bind_int(st, 5, f->by_source);
		sqlite3_bind_int(st, 6, (int)f->state);
		bind_text(st, 7, f->state == PW_FIX_FIXED ? f->fixed : NULL);
		bind_text(st, 8, f->note);
		if ((rc = stmt_done(s, st, err, "storing an affected package")))
			return rc;
	}
	return PW_OK;
}

static pw_err close_advisory(pw_feed_import *imp, int64_t rid, int64_t n_affected, pw_error *err)
{
	sqlite3_stmt *st = stmt_get(imp->s, ST_ADV_CLOSE, err);
	if (!st)
		return PW_ERR_STORE;
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_int64(st, 2, imp->snap);
	imp->n_adv--;
	imp->n_aff -= n_affected;
	return stmt_done(imp->s, st, err, "retiring an advisory");
}

static pw_err sink_advisory(void *ctx, const pw_advisory *a, pw_error *err)
{
	pw_feed_import *imp = ctx;
	pw_feedstore *s = imp->s;
	if (blank(a->id) || blank(a->source) || has_space(a->source)) {
		record_warn(imp, a->id, blank(a->id) ? "id" : "source", "%s; advisory skipped",
			    blank(a->id) ? "no advisory id" : "no usable source name");
		return PW_OK;
	}
	size_t n_keep = 0;
	pw_err rc = filter_record(imp, a, &n_keep, err);
	if (rc)
		return rc;
	unsigned char hash[HASH_LEN];
	advisory_hash(a, imp->keep, pw_buf_str(&imp->cves), hash);
	if ((rc = note_source(imp, a->source, err)))
		return rc;
	imp->stats.advisories++;
	imp->stats.affected += n_keep;

	sqlite3_stmt *st = stmt_get(s, ST_ADV_CURRENT, err);
	if (!st)
		return PW_ERR_STORE;
	bind_text(st, 1, a->source);
	bind_text(st, 2, a->id);
	int step = sqlite3_step(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		sqlite3_reset(st);
		return store_fail(s, err, "looking up an advisory");
	}
	bool exists = step == SQLITE_ROW;
	int64_t old_rid = 0, old_n = 0, old_added = 0;
	bool same = false;
	if (exists) {
		old_rid = sqlite3_column_int64(st, 0);
		same = sqlite3_column_bytes(st, 1) == HASH_LEN &&
		       memcmp(sqlite3_column_blob(st, 1), hash, HASH_LEN) == 0;
		old_n = sqlite3_column_int64(st, 2);
		old_added = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	if (same) {
		imp->stats.unchanged++;
		return note_kept(imp, old_rid, err);
	}
	if (exists) {
		/* Two versions in one import: the later one stands. */
		if (old_added == imp->snap)
			record_warn(imp, a->id, NULL, "appears twice in this import with different"
				    " content (source %s); the later one replaces the earlier", a->source);
		else
			imp->stats.added++;
		if ((rc = close_advisory(imp, old_rid, old_n, err)))
			return rc;
	} else {
		imp->stats.added++;
	}
	int64_t rid;
	if ((rc = insert_advisory(imp, a, n_keep, hash, &rid, err)))
		return rc;
	imp->n_adv++;
	imp->n_aff += (int64_t)n_keep;
	return note_kept(imp, rid, err);
}

/* Loads the committed KEV or EPSS catalogue the first time an import
 * brings entries for it, so each entry is compared in memory. */
static pw_err load_catalogue(pw_feed_import *imp, catalogue *c, bool kev, pw_error *err)
{
	sqlite3_stmt *st = stmt_get(imp->s, kev ? ST_KEV_CURRENT : ST_EPSS_CURRENT, err);
	if (!st)
		return PW_ERR_STORE;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cat_entry *e = cat_add(c, sqlite3_column_text(st, 0));
		if (!e) {
			sqlite3_reset(st);
			return nomem(err);
		}
		if (kev) {
			kev_hash(col_text(st, 1), col_text(st, 2), col_text(st, 3), col_text(st, 4),
				 col_text(st, 5), sqlite3_column_int(st, 6) != 0, e->hash);
			e->added_in = sqlite3_column_int64(st, 7);
		} else {
			e->score = sqlite3_column_double(st, 1);
			e->percentile = sqlite3_column_double(st, 2);
			e->added_in = sqlite3_column_int64(st, 3);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(imp->s, err, kev ? "reading the KEV catalogue" : "reading EPSS scores");
	c->loaded = true;
	return PW_OK;
}

static pw_err close_catalogue_row(pw_feed_import *imp, bool kev, const struct cat_entry *e,
				  pw_error *err)
{
	sqlite3_stmt *st = stmt_get(imp->s, kev ? ST_KEV_CLOSE : ST_EPSS_CLOSE, err);
	if (!st)
		return PW_ERR_STORE;
	bind_text(st, 1, e->cve);
	sqlite3_bind_int64(st, 2, e->added_in);
	sqlite3_bind_int64(st, 3, imp->snap);
	return stmt_done(imp->s, st, err, kev ? "retiring a KEV entry" : "retiring an EPSS score");
}

/* The shared part of a KEV or EPSS entry: finds or adds the CVE and
 * tells whether a new row must be written (closing the old version when
 * it belongs to an earlier snapshot). */
static pw_err catalogue_entry(pw_feed_import *imp, bool kev, const char *cve, bool changed_fn(
				      const struct cat_entry *e, const void *arg), const void *arg,
			      struct cat_entry **out, pw_error *err)
{
	catalogue *c = kev ? &imp->kev : &imp->epss;
	pw_err rc;
	if (!c->loaded && (rc = load_catalogue(imp, c, kev, err)))
		return rc;
	*out = NULL;
	struct cat_entry *e = cat_find(c, cve);
	if (!e) {
		if (!(e = cat_add(c, (const unsigned char *)cve)))
			return nomem(err);
		e->added_in = imp->snap;
		e->seen = true;
		if (kev)
			imp->n_kev++;
		else
			imp->n_epss++;
		*out = e;
		return PW_OK;
	}
	e->seen = true;
	if (!changed_fn(e, arg))
		return PW_OK;
	if (e->added_in != imp->snap) {
		if ((rc = close_catalogue_row(imp, kev, e, err)))
			return rc;
		e->added_in = imp->snap;
	}
	*out = e;
	return PW_OK;
}

static bool kev_changed(const struct cat_entry *e, const void *hash)
{
	return memcmp(e->hash, hash, HASH_LEN) != 0;
}

static pw_err sink_kev(void *ctx, const pw_kev_entry *k, pw_error *err)
{
	pw_feed_import *imp = ctx;
	if (blank(k->cve) || has_space(k->cve)) {
		record_warn(imp, k->cve, "cveID", "not a CVE id; KEV entry skipped");
		return PW_OK;
	}
	unsigned char hash[HASH_LEN];
	kev_hash(k->date_added, k->due_date, k->vendor, k->product, k->name, k->ransomware, hash);
	struct cat_entry *e;
	pw_err rc = catalogue_entry(imp, true, k->cve, kev_changed, hash, &e, err);
	if (rc)
		return rc;
	imp->stats.kev++;
	if (!e)
		return PW_OK;
	memcpy(e->hash, hash, HASH_LEN);
	sqlite3_stmt *st = stmt_get(imp->s, ST_KEV_UPSERT, err);
	if (!st)
		return PW_ERR_STORE;
	bind_text(st, 1, k->cve);
	bind_text(st, 2, k->date_added);
	bind_text(st, 3, k->due_date);
	bind_text(st, 4, k->vendor);
	bind_text(st, 5, k->product);
	bind_text(st, 6, k->name);
	sqlite3_bind_int(st, 7, k->ransomware);
	sqlite3_bind_int64(st, 8, imp->snap);
	return stmt_done(imp->s, st, err, "storing a KEV entry");
}

static bool epss_changed(const struct cat_entry *e, const void *arg)
{
	const pw_epss_entry *x = arg;
	return fabs(e->score - x->score) >= EPSS_SCORE_STEP ||
	       fabs(e->percentile - x->percentile) >= EPSS_PERCENTILE_STEP;
}

static pw_err sink_epss(void *ctx, const pw_epss_entry *x, pw_error *err)
{
	pw_feed_import *imp = ctx;
	if (blank(x->cve) || has_space(x->cve) || !(x->score >= 0 && x->score <= 1) ||
	    !(x->percentile >= 0 && x->percentile <= 1)) {
		record_warn(imp, x->cve, NULL, "not a CVE id with a score and percentile in 0..1;"
			    " EPSS entry skipped");
		return PW_OK;
	}
	struct cat_entry *e;
	pw_err rc = catalogue_entry(imp, false, x->cve, epss_changed, x, &e, err);
	if (rc)
		return rc;
	imp->stats.epss++;
	if (!e)
		return PW_OK;
	e->score = x->score;
	e->percentile = x->percentile;
	sqlite3_stmt *st = stmt_get(imp->s, ST_EPSS_UPSERT, err);
	if (!st)
		return PW_ERR_STORE;
	bind_text(st, 1, x->cve);
	sqlite3_bind_double(st, 2, x->score);
	sqlite3_bind_double(st, 3, x->percentile);
	sqlite3_bind_int64(st, 4, imp->snap);
	return stmt_done(imp->s, st, err, "storing an EPSS score");
}

pw_err pw_feed_import_begin(pw_feedstore *s, const char *label, pw_feed_import **out,
			    pw_error *err)
{
	*out = NULL;
	if (s->active)
		return pw_error_set(err, PW_ERR_INVALID, "%s: an import is already open on this store"
				    " handle; commit or abort it first", s->path);
	pw_feed_import *imp = calloc(1, sizeof *imp);
	if (!imp || !(imp->label = strdup(label ? label : "import"))) {
		free(imp);
		return nomem(err);
	}
	imp->s = s;
	imp->kev = (catalogue)CATALOGUE_INIT;
	imp->epss = (catalogue)CATALOGUE_INIT;
	imp->sink = (pw_feed_sink){imp, sink_advisory, sink_kev, sink_epss, sink_warn};
	/* IMMEDIATE takes the write lock now: a second import waits here
	 * (busy timeout) instead of failing halfway. */
	pw_err rc = exec_sql(s, "BEGIN IMMEDIATE", err, "cannot start the import (is another"
			     " import running?)");
	if (rc) {
		free(imp->label);
		free(imp);
		return rc;
	}
	s->active = imp;
	sqlite3_stmt *st = stmt_get(s, ST_LATEST, err);
	if (!st) {
		pw_feed_import_abort(imp);
		return PW_ERR_STORE;
	}
	int step = sqlite3_step(st);
	int64_t latest = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (step != SQLITE_ROW) {
		rc = store_fail(s, err, "reading the latest snapshot");
		pw_feed_import_abort(imp);
		return rc;
	}
	imp->snap = latest + 1;
	if (latest) {
		pw_snapshot_info prev;
		if ((rc = pw_feedstore_snapshot_info(s, latest, &prev, err))) {
			pw_feed_import_abort(imp);
			return rc;
		}
		imp->n_adv = (int64_t)prev.advisories;
		imp->n_aff = (int64_t)prev.affected;
		imp->n_kev = (int64_t)prev.kev;
		imp->n_epss = (int64_t)prev.epss;
	}
	*out = imp;
	return PW_OK;
}

void pw_feed_import_set_callbacks(pw_feed_import *imp, pw_warn_fn warn, pw_progress_fn progress,
				  void *ctx)
{
	imp->warn = warn;
	imp->progress = progress;
	imp->cb_ctx = ctx;
}

void pw_feed_import_replace_source(pw_feed_import *imp, bool replace)
{
	imp->replace = replace;
}

const pw_feed_sink *pw_feed_import_sink(pw_feed_import *imp)
{
	return &imp->sink;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

struct retiree {
	int64_t rid, n_affected;
};

/* With replace: the sources' current advisories this import lacked. */
static pw_err retire_missing(pw_feed_import *imp, pw_error *err)
{
	if (imp->n_kept)
		qsort(imp->kept, imp->n_kept, sizeof *imp->kept, cmp_i64);
	struct retiree *gone = NULL;
	size_t n_gone = 0, cap = 0;
	pw_err rc = PW_OK;
	for (size_t i = 0; !rc && i < imp->n_sources; i++) {
		sqlite3_stmt *st = stmt_get(imp->s, ST_ADV_OF_SOURCE, err);
		if (!st) {
			rc = PW_ERR_STORE;
			break;
		}
		bind_text(st, 1, imp->sources[i].name);
		int step;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t rid = sqlite3_column_int64(st, 0);
			if ((imp->n_kept && bsearch(&rid, imp->kept, imp->n_kept, sizeof rid, cmp_i64)) ||
			    !covered(&imp->sources[i], col_text(st, 2)))
				continue;
			if (n_gone == cap) {
				cap = cap ? cap * 2 : 256;
				struct retiree *v = realloc(gone, cap * sizeof *v);
				if (!v) {
					rc = nomem(err);
					break;
				}
				gone = v;
			}
			gone[n_gone++] = (struct retiree){rid, sqlite3_column_int64(st, 1)};
		}
		sqlite3_reset(st);
		if (!rc && step != SQLITE_DONE)
			rc = store_fail(imp->s, err, "listing a source's advisories");
	}
	/* Closed only after the scan: closing removes rows from the index
	 * the scan walks. */
	for (size_t i = 0; !rc && i < n_gone; i++) {
		rc = close_advisory(imp, gone[i].rid, gone[i].n_affected, err);
		imp->stats.retired++;
	}
	free(gone);
	return rc;
}

/* KEV and EPSS are whole catalogues: an import that brought one retires
 * what it did not contain. */
static pw_err retire_catalogue(pw_feed_import *imp, bool kev, pw_error *err)
{
	catalogue *c = kev ? &imp->kev : &imp->epss;
	for (size_t i = 0; i < c->cap; i++) {
		struct cat_entry *e = &c->slots[i];
		if (!e->cve || e->seen)
			continue;
		pw_err rc = close_catalogue_row(imp, kev, e, err);
		if (rc)
			return rc;
		if (kev)
			imp->n_kev--;
		else
			imp->n_epss--;
	}
	return PW_OK;
}

static void import_free(pw_feed_import *imp)
{
	if (imp->s->active == imp)
		imp->s->active = NULL;
	for (size_t i = 0; i < imp->n_sources; i++) {
		for (size_t j = 0; j < imp->sources[i].n_ecos; j++)
			free(imp->sources[i].ecos[j]);
		free(imp->sources[i].ecos);
		free(imp->sources[i].name);
	}
	free(imp->sources);
	free(imp->kept);
	free(imp->keep);
	cat_release(&imp->kev);
	cat_release(&imp->epss);
	pw_buf_release(&imp->cves);
	pw_buf_release(&imp->ecos);
	pw_buf_release(&imp->where);
	free(imp->label);
	free(imp);
}

pw_err pw_feed_import_commit(pw_feed_import *imp, int64_t *snapshot, pw_import_stats *stats,
			     pw_error *err)
{
	pw_feedstore *s = imp->s;
	pw_err rc = PW_OK;
	if (imp->replace)
		rc = retire_missing(imp, err);
	if (!rc && imp->kev.loaded)
		rc = retire_catalogue(imp, true, err);
	if (!rc && imp->epss.loaded)
		rc = retire_catalogue(imp, false, err);
	sqlite3_stmt *st = rc ? NULL : stmt_get(s, ST_SNAP_INSERT, err);
	if (!rc && !st)
		rc = PW_ERR_STORE;
	if (!rc) {
		char now[32];
		iso_now(now);
		sqlite3_bind_int64(st, 1, imp->snap);
		bind_text(st, 2, now);
		bind_text(st, 3, imp->label);
		sqlite3_bind_int64(st, 4, imp->n_adv);
		sqlite3_bind_int64(st, 5, imp->n_aff);
		sqlite3_bind_int64(st, 6, imp->n_kev);
		sqlite3_bind_int64(st, 7, imp->n_epss);
		rc = stmt_done(s, st, err, "recording the snapshot");
	}
	if (!rc)
		rc = exec_sql(s, "COMMIT", err, "committing the import");
	if (rc) {
		pw_feed_import_abort(imp);
		return rc;
	}
	if (snapshot)
		*snapshot = imp->snap;
	if (stats)
		*stats = imp->stats;
	import_free(imp);
	return PW_OK;
}

void pw_feed_import_abort(pw_feed_import *imp)
{
	if (!imp)
		return;
	for (int i = 0; i < ST__COUNT; i++)
		if (imp->s->stmt[i])
			sqlite3_reset(imp->s->stmt[i]);
	sqlite3_exec(imp->s->db, "ROLLBACK", NULL, NULL, NULL);
	import_free(imp);
}

/* ---- snapshots ---- */

/* Every row of the unbound statement `id` as a new array of *n items
 * of `elem` bytes, each filled by from_row; `what` names the read in a
 * store error. On any error *out is NULL and *n is 0. */
static pw_err rows_all(pw_feedstore *s, enum stmt_id id, size_t elem, size_t first_cap,
		       void (*from_row)(sqlite3_stmt *st, void *item), const char *what,
		       void **out, size_t *n, pw_error *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = stmt_get(s, id, err);
	if (!st)
		return PW_ERR_STORE;
	char *list = NULL;
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : first_cap;
			char *v = realloc(list, cap * elem);
			if (!v) {
				sqlite3_reset(st);
				free(list);
				*n = 0;
				return nomem(err);
			}
			list = v;
		}
		from_row(st, list + elem * (*n)++);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(list);
		*n = 0;
		return store_fail(s, err, what);
	}
	*out = list;
	return PW_OK;
}

static void snapshot_from_row(sqlite3_stmt *st, void *item)
{
	pw_snapshot_info *out = item;
	memset(out, 0, sizeof *out);
	out->id = sqlite3_column_int64(st, 0);
	copy_text(out->created, sizeof out->created, col_text(st, 1));
	copy_text(out->label, sizeof out->label, col_text(st, 2));
	out->advisories = (size_t)sqlite3_column_int64(st, 3);
	out->affected = (size_t)sqlite3_column_int64(st, 4);
	out->kev = (size_t)sqlite3_column_int64(st, 5);
	out->epss = (size_t)sqlite3_column_int64(st, 6);
}

pw_err pw_feedstore_latest(pw_feedstore *s, int64_t *snapshot, pw_error *err)
{
	sqlite3_stmt *st = stmt_get(s, ST_LATEST, err);
	if (!st)
		return PW_ERR_STORE;
	int rc = sqlite3_step(st);
	bool none = rc != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL;
	*snapshot = none ? 0 : sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_fail(s, err, "reading the latest snapshot");
	if (none)
		return pw_error_set(err, PW_ERR_NOTFOUND, "%s: the feed store has no snapshot yet;"
				    " run 'patchwarden feed import PATH' first", s->path);
	return PW_OK;
}

pw_err pw_feedstore_snapshot_info(pw_feedstore *s, int64_t snapshot, pw_snapshot_info *out,
				  pw_error *err)
{
	sqlite3_stmt *st = stmt_get(s, ST_SNAP_GET, err);
	if (!st)
		return PW_ERR_STORE;
	sqlite3_bind_int64(st, 1, snapshot);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snapshot_from_row(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return pw_error_set(err, PW_ERR_NOTFOUND, "%s: there is no snapshot %lld; 'patchwarden"
				    " feed snapshots' lists them", s->path, (long long)snapshot);
	return rc == SQLITE_ROW ? PW_OK : store_fail(s, err, "reading a snapshot");
}

pw_err pw_feedstore_snapshots(pw_feedstore *s, pw_snapshot_info **list, size_t *n, pw_error *err)
{
	void *v;
	pw_err rc = rows_all(s, ST_SNAP_ALL, sizeof **list, 16, snapshot_from_row,
			     "listing snapshots", &v, n, err);
	*list = v;
	return rc;
}

/* ---- reading advisories ---- */

struct aff_row {
	int64_t adv, seq;
	const char *package, *fixed, *note;
	int state;
	bool by_source;
};

struct adv_rec {
	pw_advisory a;
	size_t first; /* its rows in the sorted row array */
};

struct reader {
	pw_feedstore *s;
	int64_t snapshot;
	arena mem;
	struct aff_row *rows;
	size_t n_rows, cap_rows;
	struct adv_rec *advs;
	size_t n_advs, max_group;
	bool oom;
};

static pw_err collect_rows(struct reader *r, sqlite3_stmt *st, pw_error *err)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (r->n_rows == r->cap_rows) {
			size_t cap = r->cap_rows ? r->cap_rows * 2 : 256;
			struct aff_row *v = realloc(r->rows, cap * sizeof *v);
			if (!v) {
				sqlite3_reset(st);
				return nomem(err);
			}
			r->rows = v;
			r->cap_rows = cap;
		}
		struct aff_row *w = &r->rows[r->n_rows++];
		w->package = arena_strdup(&r->mem, sqlite3_column_text(st, 0), &r->oom);
		w->adv = sqlite3_column_int64(st, 1);
		w->seq = sqlite3_column_int64(st, 2);
		w->by_source = sqlite3_column_int(st, 3) != 0;
		w->state = sqlite3_column_int(st, 4);
		w->fixed = arena_strdup(&r->mem, sqlite3_column_text(st, 5), &r->oom);
		w->note = arena_strdup(&r->mem, sqlite3_column_text(st, 6), &r->oom);
	}
	sqlite3_reset(st);
	if (r->oom)
		return nomem(err);
	return rc == SQLITE_DONE ? PW_OK : store_fail(r->s, err, "reading affected packages");
}

static int cmp_row(const void *a, const void *b)
{
	const struct aff_row *x = a, *y = b;
	if (x->adv != y->adv)
		return (x->adv > y->adv) - (x->adv < y->adv);
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_adv(const void *a, const void *b)
{
	const struct adv_rec *x = a, *y = b;
	int c = strcmp(x->a.id, y->a.id);
	return c ? c : strcmp(x->a.source, y->a.source);
}

/* Splits the space-separated CVE column into an arena array. */
static void split_cves(struct reader *r, const unsigned char *text, pw_advisory *a)
{
	a->cves = NULL;
	a->n_cves = 0;
	char *t = arena_strdup(&r->mem, text, &r->oom);
	if (!t || !*t)
		return;
	size_t n = 1;
	for (const char *p = t; *p; p++)
		n += *p == ' ';
	const char **v = arena_alloc(&r->mem, n * sizeof *v);
	if (!v) {
		r->oom = true;
		return;
	}
	for (char *p = t;; p++) {
		v[a->n_cves++] = p;
		if (!(p = strchr(p, ' ')))
			break;
		*p = '\0';
	}
	a->cves = v;
}

/* *visible false when row `rid` is not part of the snapshot. */
static pw_err load_advisory(struct reader *r, int64_t rid, struct adv_rec *out, bool *visible,
			    pw_error *err)
{
	*visible = false;
	sqlite3_stmt *st = stmt_get(r->s, ST_ADV_GET, err);
	if (!st)
		return PW_ERR_STORE;
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_int64(st, 2, r->snapshot);
	int rc = sqlite3_step(st);
	*visible = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? PW_OK : store_fail(r->s, err, "reading an advisory");
	}
	pw_advisory *a = &out->a;
	memset(a, 0, sizeof *a);
	a->source = arena_strdup(&r->mem, sqlite3_column_text(st, 0), &r->oom);
	a->id = arena_strdup(&r->mem, sqlite3_column_text(st, 1), &r->oom);
	a->published = arena_strdup(&r->mem, sqlite3_column_text(st, 2), &r->oom);
	a->modified = arena_strdup(&r->mem, sqlite3_column_text(st, 3), &r->oom);
	a->summary = arena_strdup(&r->mem, sqlite3_column_text(st, 4), &r->oom);
	a->severity = (pw_severity)sqlite3_column_int(st, 5);
	a->attack_vector = (pw_attack_vector)sqlite3_column_int(st, 6);
	a->cvss_vector = arena_strdup(&r->mem, sqlite3_column_text(st, 7), &r->oom);
	split_cves(r, sqlite3_column_text(st, 8), a);
	sqlite3_reset(st);
	return r->oom ? nomem(err) : PW_OK;
}

static pw_err snapshot_exists(pw_feedstore *s, int64_t snapshot, pw_error *err)
{
	pw_snapshot_info info;
	return pw_feedstore_snapshot_info(s, snapshot, &info, err);
}

/* Orders the rows by (adv, seq). Row ids are dense, so a whole
 * ecosystem (30k rows) is bucketed by a counting sort in linear time,
 * then each advisory's few rows are put back in their seq order. */
static pw_err sort_rows(struct reader *r, pw_error *err)
{
	size_t n = r->n_rows;
	if (n < 2)
		return PW_OK;
	int64_t lo = r->rows[0].adv, hi = lo;
	for (size_t i = 1; i < n; i++) {
		lo = r->rows[i].adv < lo ? r->rows[i].adv : lo;
		hi = r->rows[i].adv > hi ? r->rows[i].adv : hi;
	}
	uint64_t range = (uint64_t)(hi - lo) + 1;
	if (range > 4 * (uint64_t)n + 1024) {
		qsort(r->rows, n, sizeof *r->rows, cmp_row);
		return PW_OK;
	}
	size_t *start = calloc((size_t)range + 1, sizeof *start);
	struct aff_row *out = malloc(n * sizeof *out);
	if (!start || !out) {
		free(start);
		free(out);
		return nomem(err);
	}
	for (size_t i = 0; i < n; i++)
		start[r->rows[i].adv - lo + 1]++;
	for (size_t b = 1; b <= range; b++)
		start[b] += start[b - 1];
	for (size_t i = 0; i < n; i++)
		out[start[r->rows[i].adv - lo]++] = r->rows[i];
	free(start);
	free(r->rows);
	r->rows = out;
	r->cap_rows = n;
	for (size_t i = 1; i < n; i++) {
		struct aff_row x = out[i];
		size_t j = i;
		for (; j > 0 && out[j - 1].adv == x.adv && out[j - 1].seq > x.seq; j--)
			out[j] = out[j - 1];
		out[j] = x;
	}
	return PW_OK;
}

/* Groups the rows by advisory, loads the advisories and sorts them by
 * (id, source), so the order does not depend on import history. */
static pw_err load_advisories(struct reader *r, pw_error *err)
{
	pw_err rc = sort_rows(r, err);
	if (rc)
		return rc;
	size_t n_adv = 0;
	for (size_t i = 0; i < r->n_rows; i++)
		n_adv += i + 1 == r->n_rows || r->rows[i + 1].adv != r->rows[i].adv;
	if (!n_adv)
		return PW_OK;
	if (!(r->advs = calloc(n_adv, sizeof *r->advs)))
		return nomem(err);
	for (size_t i = 0; !rc && i < r->n_rows;) {
		size_t end = i;
		while (end < r->n_rows && r->rows[end].adv == r->rows[i].adv)
			end++;
		struct adv_rec *a = &r->advs[r->n_advs];
		bool visible;
		rc = load_advisory(r, r->rows[i].adv, a, &visible, err);
		if (visible) {
			a->first = i;
			a->a.n_affected = end - i;
			r->max_group = end - i > r->max_group ? end - i : r->max_group;
			r->n_advs++;
		}
		i = end;
	}
	if (!rc)
		qsort(r->advs, r->n_advs, sizeof *r->advs, cmp_adv);
	return rc;
}

static pw_err emit_advisories(struct reader *r, const char *ecosystem, pw_advisory_fn fn,
			      void *ctx, pw_error *err)
{
	if (!r->n_advs)
		return PW_OK;
	pw_affected *aff = calloc(r->max_group, sizeof *aff);
	pw_err rc = aff ? PW_OK : nomem(err);
	for (size_t k = 0; !rc && k < r->n_advs; k++) {
		pw_advisory *a = &r->advs[k].a;
		for (size_t j = 0; j < a->n_affected; j++) {
			const struct aff_row *w = &r->rows[r->advs[k].first + j];
			aff[j] = (pw_affected){ecosystem, w->package, w->by_source,
					       (pw_fix_state)w->state, w->fixed, w->note};
		}
		a->affected = aff;
		rc = fn(ctx, a, err);
	}
	free(aff);
	return rc;
}

pw_err pw_feedstore_each_advisory(pw_feedstore *s, int64_t snapshot, const char *ecosystem,
				  const char *const *packages, size_t n_packages,
				  pw_advisory_fn fn, void *ctx, pw_error *err)
{
	pw_err rc = snapshot_exists(s, snapshot, err);
	if (rc)
		return rc;
	/* One read transaction for all the lookups: without it each one
	 * would take and drop the WAL read lock, which costs more than the
	 * lookup itself. Inside an import the import's transaction serves. */
	bool own_txn = sqlite3_get_autocommit(s->db) != 0;
	if (own_txn && (rc = exec_sql(s, "BEGIN", err, "starting a read")))
		return rc;
	struct reader r = {s, snapshot, ARENA_INIT, NULL, 0, 0, NULL, 0, 0, false};
	if (n_packages == 0) {
		sqlite3_stmt *st = stmt_get(s, ST_AFF_BY_ECO, err);
		if (!st) {
			rc = PW_ERR_STORE;
		} else {
			bind_text(st, 1, ecosystem);
			rc = collect_rows(&r, st, err);
		}
	} else {
		/* Sorted and unique: a name listed twice (binary = source)
		 * must not duplicate its rows, and sorted keys walk the
		 * index in order. */
		const char **names = malloc(n_packages * sizeof *names);
		sqlite3_stmt *st = names ? stmt_get(s, ST_AFF_BY_PKG, err) : NULL;
		if (!names)
			rc = nomem(err);
		else if (!st)
			rc = PW_ERR_STORE;
		else
			memcpy(names, packages, n_packages * sizeof *names);
		if (!rc)
			qsort(names, n_packages, sizeof *names, cmp_str);
		for (size_t i = 0; !rc && i < n_packages; i++) {
			if (i && strcmp(names[i], names[i - 1]) == 0)
				continue;
			bind_text(st, 1, ecosystem);
			bind_text(st, 2, names[i]);
			rc = collect_rows(&r, st, err);
		}
		free(names);
	}
	if (!rc)
		rc = load_advisories(&r, err);
	/* Everything is in memory now: the transaction ends before the
	 * callbacks run, so they may use the store freely. */
	if (own_txn)
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (!rc)
		rc = emit_advisories(&r, ecosystem, fn, ctx, err);
	free(r.rows);
	free(r.advs);
	arena_release(&r.mem);
	return rc;
}

/* ---- KEV and EPSS ---- */

static void kev_from_row(sqlite3_stmt *st, pw_kev_entry *out)
{
	out->cve = col_text(st, 0);
	out->date_added = col_text(st, 1);
	out->due_date = col_text(st, 2);
	out->vendor = col_text(st, 3);
	out->product = col_text(st, 4);
	out->name = col_text(st, 5);
	out->ransomware = sqlite3_column_int(st, 6) != 0;
}

pw_err pw_feedstore_kev(pw_feedstore *s, int64_t snapshot, const char *cve, pw_kev_entry *out,
			bool *found, pw_error *err)
{
	*found = false;
	sqlite3_stmt *st = stmt_get(s, ST_KEV_GET, err);
	if (!st)
		return PW_ERR_STORE;
	bind_text(st, 1, cve);
	sqlite3_bind_int64(st, 2, snapshot);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? PW_OK : store_fail(s, err, "reading KEV");
	}
	/* Copied out: the strings must outlive the statement's reset. */
	pw_buf *b = &s->kev_strings;
	pw_buf_reset(b);
	size_t off[6];
	bool isnull[6];
	pw_err e = PW_OK;
	for (int i = 0; i < 6 && !e; i++) {
		const char *t = col_text(st, i);
		isnull[i] = !t;
		off[i] = b->len;
		e = pw_buf_append(b, t ? t : "", t ? strlen(t) + 1 : 1);
	}
	bool ransomware = sqlite3_column_int(st, 6) != 0;
	sqlite3_reset(st);
	if (e)
		return nomem(err);
	const char *f[6];
	for (int i = 0; i < 6; i++)
		f[i] = isnull[i] ? NULL : b->data + off[i];
	*out = (pw_kev_entry){f[0], f[1], f[2], f[3], f[4], f[5], ransomware};
	*found = true;
	return PW_OK;
}

pw_err pw_feedstore_epss(pw_feedstore *s, int64_t snapshot, const char *cve, pw_epss_entry *out,
			 bool *found, pw_error *err)
{
	*found = false;
	sqlite3_stmt *st = stmt_get(s, ST_EPSS_GET, err);
	if (!st)
		return PW_ERR_STORE;
	bind_text(st, 1, cve);
	sqlite3_bind_int64(st, 2, snapshot);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = (pw_epss_entry){cve, sqlite3_column_double(st, 0), sqlite3_column_double(st, 1)};
		*found = true;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? PW_OK : store_fail(s, err, "reading EPSS");
}

pw_err pw_feedstore_each_kev(pw_feedstore *s, int64_t snapshot,
			     pw_err (*fn)(void *ctx, const pw_kev_entry *e, pw_error *err),
			     void *ctx, pw_error *err)
{
	pw_err rc = snapshot_exists(s, snapshot, err);
	if (rc)
		return rc;
	sqlite3_stmt *st = stmt_get(s, ST_KEV_EACH, err);
	if (!st)
		return PW_ERR_STORE;
	sqlite3_bind_int64(st, 1, snapshot);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		pw_kev_entry e;
		kev_from_row(st, &e);
		if ((rc = fn(ctx, &e, err)))
			break;
	}
	sqlite3_reset(st);
	if (!rc && step != SQLITE_DONE)
		rc = store_fail(s, err, "reading KEV");
	return rc;
}

/* ---- status ---- */

/* "debian:9" before "debian:10", "alpine:3.9" before "alpine:3.10":
 * runs of digits compare as numbers. */
static int cmp_release(const void *a, const void *b)
{
	const char *x = ((const pw_ecosystem_count *)a)->ecosystem;
	const char *y = ((const pw_ecosystem_count *)b)->ecosystem;
	while (*x && *y) {
		if (isdigit((unsigned char)*x) && isdigit((unsigned char)*y)) {
			while (*x == '0')
				x++;
			while (*y == '0')
				y++;
			size_t nx = strspn(x, "0123456789"), ny = strspn(y, "0123456789");
			if (nx != ny)
				return nx < ny ? -1 : 1;
			int c = strncmp(x, y, nx);
			if (c)
				return c;
			x += nx;
			y += ny;
		} else {
			if (*x != *y)
				return (unsigned char)*x < (unsigned char)*y ? -1 : 1;
			x++;
			y++;
		}
	}
	return (unsigned char)*x - (unsigned char)*y;
}

pw_err pw_feedstore_ecosystems(pw_feedstore *s, int64_t snapshot, pw_ecosystem_count **list,
			       size_t *n, pw_error *err)
{
	*list = NULL;
	*n = 0;
	sqlite3_stmt *st = stmt_get(s, ST_ECOSYSTEMS, err);
	if (!st)
		return PW_ERR_STORE;
	sqlite3_bind_int64(st, 1, snapshot);
	size_t cap = 0;
	int rc;
	pw_err e = PW_OK;
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			pw_ecosystem_count *v = realloc(*list, cap * sizeof *v);
			if (!v) {
				e = nomem(err);
				break;
			}
			*list = v;
		}
		pw_ecosystem_count *c = &(*list)[*n];
		if (!(c->ecosystem = strdup(col_text(st, 0)))) {
			e = nomem(err);
			break;
		}
		c->advisories = (size_t)sqlite3_column_int64(st, 1);
		c->packages = (size_t)sqlite3_column_int64(st, 2);
		(*n)++;
	}
	sqlite3_reset(st);
	if (!e && rc != SQLITE_DONE)
		e = store_fail(s, err, "counting ecosystems");
	if (e) {
		pw_feedstore_free_counts(*list, *n);
		*list = NULL;
		*n = 0;
	} else if (*n) {
		qsort(*list, *n, sizeof **list, cmp_release);
	}
	return e;
}

void pw_feedstore_free_counts(pw_ecosystem_count *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i].ecosystem);
	free(list);
}

/* ---- sources ---- */

static void source_from_row(sqlite3_stmt *st, void *item)
{
	pw_source_state *out = item;
	memset(out, 0, sizeof *out);
	copy_text(out->name, sizeof out->name, col_text(st, 0));
	copy_text(out->url, sizeof out->url, col_text(st, 1));
	copy_text(out->etag, sizeof out->etag, col_text(st, 2));
	copy_text(out->last_modified, sizeof out->last_modified, col_text(st, 3));
	copy_text(out->last_fetch, sizeof out->last_fetch, col_text(st, 4));
	copy_text(out->last_status, sizeof out->last_status, col_text(st, 5));
	out->last_snapshot = sqlite3_column_int64(st, 6);
}

pw_err pw_feedstore_source_get(pw_feedstore *s, const char *name, pw_source_state *out,
			       bool *found, pw_error *err)
{
	*found = false;
	sqlite3_stmt *st = stmt_get(s, ST_SRC_GET, err);
	if (!st)
		return PW_ERR_STORE;
	bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		source_from_row(st, out);
		*found = true;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? PW_OK : store_fail(s, err, "reading a source");
}

pw_err pw_feedstore_source_put(pw_feedstore *s, const pw_source_state *in, pw_error *err)
{
	if (!in->name[0])
		return pw_error_set(err, PW_ERR_INVALID, "a feed source needs a name");
	sqlite3_stmt *st = stmt_get(s, ST_SRC_PUT, err);
	if (!st)
		return PW_ERR_STORE;
	bind_text(st, 1, in->name);
	bind_text(st, 2, in->url);
	bind_text(st, 3, in->etag);
	bind_text(st, 4, in->last_modified);
	bind_text(st, 5, in->last_fetch);
	bind_text(st, 6, in->last_status);
	sqlite3_bind_int64(st, 7, in->last_snapshot);
	return stmt_done(s, st, err, "recording a source's state");
}

pw_err pw_feedstore_sources(pw_feedstore *s, pw_source_state **list, size_t *n, pw_error *err)
{
	void *v;
	pw_err rc = rows_all(s, ST_SRC_ALL, sizeof **list, 8, source_from_row, "listing sources",
			     &v, n, err);
	*list = v;
	return rc;
}
