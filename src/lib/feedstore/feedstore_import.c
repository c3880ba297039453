/* The feed store's import path: one import is one transaction,
 * serialised with other imports (SQLite's write lock; a transaction lock
 * on PostgreSQL, where several server nodes share the tables). Every
 * record is compared by content hash with the current version of its
 * key, loaded per source (KEV and EPSS: the whole catalogue) into memory
 * on first sight, so unchanged data writes nothing and a re-import adds
 * no rows. New rows go out in multi-row INSERTs: a round trip per row
 * would dominate on PostgreSQL. Committing writes the snapshot row. */
#include "patchwarden/feedstore.h"

#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/arena.h"
#include "patchwarden/buf.h"
#include "patchwarden/clock.h"
#include "patchwarden/grow.h"
#include "patchwarden/hashtab.h"

#include "feedstore-internal.h"

#define HASH_LEN 16
/* Imports on one database run one after the other ("pwfeed" + 1). */
#define IMPORT_LOCK_KEY INT64_C(0x7077666565640001)
/* EPSS scores drift a little every day; a CVE gets a new versioned row
 * only when its score moves by at least the feed's published precision
 * or its percentile by a whole point, so daily imports stay small. */
#define EPSS_SCORE_STEP 0.00001
#define EPSS_PERCENTILE_STEP 0.01
/* Rows per page when loading the current catalogue or a source's
 * advisories: PostgreSQL results arrive whole. */
#define PAGE_ROWS 8192
/* Enough page cache for a full EPSS or distro import to stay in memory. */
#define IMPORT_CACHE_KIB 32768
#define PAGE_LIMIT "LIMIT 8192" /* PAGE_ROWS */

/* ---- the current version of each key during an import ---- */

/* An advisory's current row. */
struct adv_cur {
	int64_t rid, n_affected;
	const char *ecosystems;
	size_t source; /* index in the import's sources */
};

/* A KEV entry's content, kept until the commit writes it. */
struct kev_content {
	const char *date_added, *due_date, *vendor, *product, *name;
	bool ransomware;
};

struct entry {
	const char *key;  /* NULL: empty slot. Advisories: "source id" */
	int64_t added_in; /* advisory: of the current row, committed or this import's */
	union {
		unsigned char hash[HASH_LEN]; /* advisory, KEV: content hash */
		struct {
			double score, percentile;
		} epss;
	} v;
	void *extra; /* struct adv_cur; struct kev_content while `write` */
	bool seen;   /* present in this import */
	bool stored; /* a committed current row exists (KEV, EPSS) */
	bool write;  /* KEV, EPSS: the commit writes a row for this snapshot */
};

typedef struct ktab {
	pw_hashtab index; /* of struct entry, by key */
	pw_arena mem;     /* the entries, their keys and extras */
	bool loaded;
} ktab;

/* clang-format off */
#define KTAB_INIT {PW_HASHTAB_INIT, PW_ARENA_INIT, false}
/* clang-format on */

static bool entry_is(const void *rec, const void *key)
{
	return strcmp(((const struct entry *)rec)->key, key) == 0;
}

static struct entry *kt_find(const ktab *t, const char *key)
{
	return pw_hashtab_find(&t->index, pw_hash_str(PW_HASH_SEED, key), entry_is, key);
}

/* Adds a key that kt_find did not find; NULL when out of memory. */
static struct entry *kt_add(ktab *t, const char *key)
{
	struct entry *e = pw_arena_alloc(&t->mem, sizeof *e);
	char *copy = pw_arena_strdup(&t->mem, key);
	if (!e || !copy)
		return NULL;
	memset(e, 0, sizeof *e);
	e->key = copy;
	if (pw_hashtab_insert(&t->index, pw_hash_str(PW_HASH_SEED, copy), e))
		return NULL;
	return e;
}

static void kt_release(ktab *t)
{
	pw_hashtab_release(&t->index);
	pw_arena_release(&t->mem);
	*t = (ktab)KTAB_INIT;
}

/* ---- rows waiting for a multi-row statement ---- */

static const struct {
	const char *head;
	int ncols;
} insert_into[T__COUNT] = {
	[T_ADV] = {"INSERT INTO feed_advisory (rid, source, adv_id, added_in, removed_in, hash,"
		   " published, modified, summary, severity, attack_vector, cvss_vector, cves,"
		   " ecosystems, n_affected) VALUES ",
		   15},
	[T_AFF] = {"INSERT INTO feed_affected (ecosystem, package, adv, seq, by_source, state,"
		   " fixed, note) VALUES ",
		   8},
	[T_KEV] = {"INSERT INTO feed_kev (cve, added_in, date_added, due_date, vendor, product,"
		   " name, ransomware) VALUES ",
		   8},
	[T_EPSS] = {"INSERT INTO feed_epss (cve, added_in, score, percentile) VALUES ", 4},
};

/* Rows of one table waiting to be inserted; text copied into `mem`. */
struct batch {
	enum table table;
	struct cell cells[INSERT_ROWS * 15];
	size_t rows;
	pw_arena mem;
	bool oom;
};

/* The next row's cells, to fill in; flush first when it is full. */
static struct cell *batch_row(struct batch *b)
{
	return &b->cells[b->rows++ * (size_t)insert_into[b->table].ncols];
}

/* A copy of s that lives until the batch is flushed. */
static struct cell b_text(struct batch *b, const char *s)
{
	return c_text(pw_fs_arena_dup(&b->mem, s, &b->oom));
}

static bool batch_full(const struct batch *b)
{
	return b->rows == INSERT_ROWS;
}

static const char SQL_MAX_RID[] = "SELECT MAX(rid) FROM feed_advisory";
static const char SQL_SNAP_INSERT[] = "INSERT INTO feed_snapshot (" SNAP_COLS ")"
				      " VALUES (?, ?, ?, ?, ?, ?, ?)";
/* Pages: the last key of the previous page is the parameter after the
 * filter's own. */
static const char SQL_ADV_OF_SOURCE[] =
	"SELECT adv_id, rid, hash, n_affected, added_in, ecosystems FROM feed_advisory"
	" WHERE source = ? AND removed_in IS NULL AND adv_id > ? ORDER BY adv_id " PAGE_LIMIT;
static const char SQL_KEV_CURRENT[] = "SELECT " KEV_COLS
				      " FROM feed_kev WHERE removed_in IS NULL AND cve > ?"
				      " ORDER BY cve " PAGE_LIMIT;
static const char SQL_EPSS_CURRENT[] =
	"SELECT cve, score, percentile FROM feed_epss WHERE removed_in IS NULL"
	" AND cve > ? ORDER BY cve " PAGE_LIMIT;

/* The INSERT of 2^k rows into table t. */
static pw_err prep_insert(pw_feedstore *s, enum table t, int k, pw_stmt **st, pw_error *err)
{
	char **text = &s->insert_text[t][k];
	if (!*text) {
		char group[64];
		size_t len = 0;
		for (int i = 0; i < insert_into[t].ncols; i++)
			len += (size_t)snprintf(group + len, sizeof group - len, "%s",
						i ? ", ?" : "(?");
		snprintf(group + len, sizeof group - len, ")");
		if (!(*text = pw_fs_sql_list(insert_into[t].head, group, (size_t)1 << k, "")))
			return pw_fs_nomem(err);
	}
	return pw_fs_prep(s, *text, st, err);
}

/* Inserts the batch's rows, biggest chunks first, and empties it. */
static pw_err batch_flush(pw_feedstore *s, struct batch *b, pw_error *err)
{
	int ncols = insert_into[b->table].ncols;
	size_t done = 0;
	pw_err rc = b->oom ? pw_fs_nomem(err) : PW_OK;
	for (int k = INSERT_CHUNKS - 1; !rc && k >= 0; k--) {
		size_t n = (size_t)1 << k;
		while (!rc && b->rows - done >= n) {
			pw_stmt *st;
			if ((rc = prep_insert(s, b->table, k, &st, err)))
				break;
			const struct cell *c = &b->cells[done * (size_t)ncols];
			for (size_t i = 0; i < n * (size_t)ncols; i++)
				pw_fs_bind_cell(st, (int)i + 1, &c[i]);
			rc = pw_fs_fail(s, pw_stmt_exec(st, err), err, "storing imported rows");
			done += n;
		}
	}
	b->rows = 0;
	b->oom = false;
	pw_arena_reset(&b->mem);
	return rc;
}

/* Runs IN-list statement `id` that changes rows: parameter 1 is `first`,
 * then the values; n may exceed IN_LIST. */
static pw_err in_exec(pw_feedstore *s, enum in_stmt id, struct cell first, const struct cell *v,
		      size_t n, pw_error *err)
{
	pw_err rc = PW_OK;
	for (size_t at = 0; !rc && at < n; at += IN_LIST) {
		pw_stmt *st;
		if ((rc = pw_fs_prep(s, s->in_text[id], &st, err)))
			break;
		pw_fs_bind_cell(st, 1, &first);
		pw_fs_bind_in_list(st, 2, v + at, n - at < IN_LIST ? n - at : IN_LIST);
		rc = pw_fs_fail(s, pw_stmt_exec(st, err), err, "retiring replaced rows");
	}
	return rc;
}

/* ---- imports ---- */

/* A source seen in the import and the ecosystems its records covered. */
struct source {
	char *name;
	char **ecos;
	size_t n_ecos, cap_ecos;
};

struct pw_feed_import {
	pw_feedstore *s;
	int64_t snap;     /* the snapshot this import will commit */
	int64_t next_rid; /* assigned here: the import holds the writers' lock */
	char *label;
	pw_feed_sink sink;
	pw_warn_fn warn;
	pw_progress_fn progress;
	void *cb_ctx;
	bool replace;
	const char *current; /* input being parsed, for the store's own warnings */
	pw_import_stats stats;
	int64_t n_adv, n_aff, n_kev, n_epss; /* visible counts, updated as rows change */
	struct source *sources;              /* sources seen, for replace */
	size_t n_sources, cap_sources;
	ktab advs;      /* current advisories of the sources seen, by "source id" */
	ktab kev, epss; /* the catalogues, by CVE, once the import brings entries */
	struct batch adv_rows, aff_rows, cat_rows;
	struct cell closing[IN_LIST]; /* committed advisory rows to retire */
	size_t n_closing;
	bool *keep; /* per affected[] entry of the record at hand */
	size_t cap_keep;
	pw_buf cves, ecos, where, key; /* the record at hand's columns and key */
};

/* Sends what the import holds back: retired rows first, so a new version
 * never meets its predecessor under the current-advisory index. */
pw_err pw_feed_import_flush(pw_feed_import *imp, pw_error *err)
{
	pw_err rc = in_exec(imp->s, IN_ADV_CLOSE, c_int(imp->snap), imp->closing, imp->n_closing,
			    err);
	imp->n_closing = 0;
	if (!rc)
		rc = batch_flush(imp->s, &imp->adv_rows, err);
	if (!rc)
		rc = batch_flush(imp->s, &imp->aff_rows, err);
	return rc;
}

/* Rows of a paged statement: parameters are `filter` (when not NULL) and
 * the previous page's last key, column 0 is the key. */
typedef pw_err (*row_fn)(pw_feed_import *imp, pw_stmt *st, const void *ctx, pw_error *err);

static pw_err load_paged(pw_feed_import *imp, const char *sql, const char *filter, row_fn fn,
			 const void *ctx, const char *what, pw_error *err)
{
	pw_buf last = PW_BUF_INIT;
	pw_err rc = PW_OK;
	for (size_t n = PAGE_ROWS; !rc && n == PAGE_ROWS;) {
		pw_stmt *st;
		if ((rc = pw_fs_prep(imp->s, sql, &st, err)))
			break;
		int at = 1;
		if (filter)
			pw_stmt_bind_text(st, at++, filter);
		pw_stmt_bind_text(st, at, pw_buf_str(&last));
		bool row;
		n = 0;
		while (!(rc = pw_stmt_step(st, &row, err)) && row) {
			if ((rc = fn(imp, st, ctx, err)))
				break;
			if (++n == PAGE_ROWS) {
				pw_buf_reset(&last);
				if (pw_buf_puts(&last, pw_stmt_text(st, 0)))
					rc = pw_fs_nomem(err);
			}
		}
		pw_stmt_reset(st);
	}
	pw_buf_release(&last);
	return pw_fs_fail(imp->s, rc, err, what);
}

/* imp->key: "source id" (a source has no spaces). */
static pw_err advisory_key(pw_feed_import *imp, const char *source, const char *id, pw_error *err)
{
	pw_buf_reset(&imp->key);
	if (pw_buf_puts(&imp->key, source) || pw_buf_putc(&imp->key, ' ') ||
	    pw_buf_puts(&imp->key, id))
		return pw_fs_nomem(err);
	return PW_OK;
}

static pw_err source_row(pw_feed_import *imp, pw_stmt *st, const void *ctx, pw_error *err)
{
	size_t source = *(const size_t *)ctx;
	pw_err rc = advisory_key(imp, imp->sources[source].name, pw_stmt_text(st, 0), err);
	struct entry *e = rc ? NULL : kt_add(&imp->advs, pw_buf_str(&imp->key));
	struct adv_cur *cur = e ? pw_arena_alloc(&imp->advs.mem, sizeof *cur) : NULL;
	bool oom = false;
	if (cur)
		*cur = (struct adv_cur){pw_stmt_int(st, 1), pw_stmt_int(st, 3),
					pw_fs_arena_dup(&imp->advs.mem, pw_stmt_text(st, 5), &oom),
					source};
	if (rc || !cur || oom)
		return rc ? rc : pw_fs_nomem(err);
	size_t len;
	const void *hash = pw_stmt_blob(st, 2, &len);
	if (hash && len == HASH_LEN)
		memcpy(e->v.hash, hash, HASH_LEN);
	e->added_in = pw_stmt_int(st, 4);
	e->extra = cur;
	return PW_OK;
}

static pw_err load_source(pw_feed_import *imp, size_t index, pw_error *err)
{
	return load_paged(imp, SQL_ADV_OF_SOURCE, imp->sources[index].name, source_row, &index,
			  "reading a source's advisories", err);
}
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

void pw_feed_import_skip(pw_feed_import *imp, const char *where, const char *message)
{
	imp->stats.skipped++;
	pw_feed_import_warn(imp, where, message);
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
static void record_warn(pw_feed_import *imp, const char *id, const char *field, const char *fmt,
			...) __attribute__((format(printf, 4, 5)));
static void record_warn(pw_feed_import *imp, const char *id, const char *field, const char *fmt,
			...)
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

/* Records the source and the ecosystems of the record at hand (its
 * ecosystems column, imp->ecos), for the scope of replace; *index is the
 * source's place in imp->sources. A new source's current advisories are
 * loaded. */
static pw_err note_source(pw_feed_import *imp, const char *name, size_t *index, pw_error *err)
{
	struct source *src = NULL;
	for (size_t i = 0; i < imp->n_sources && !src; i++)
		if (strcmp(imp->sources[i].name, name) == 0)
			src = &imp->sources[i];
	if (!src) {
		struct source *v = pw_grow(imp->sources, &imp->cap_sources, imp->n_sources,
					   sizeof *v);
		if (!v)
			return pw_fs_nomem(err);
		imp->sources = v;
		src = &v[imp->n_sources];
		*src = (struct source){strdup(name), NULL, 0, 0};
		if (!src->name)
			return pw_fs_nomem(err);
		imp->n_sources++;
		pw_err rc = load_source(imp, imp->n_sources - 1, err);
		if (rc)
			return rc;
	}
	*index = (size_t)(src - imp->sources);
	const char *p = pw_buf_str(&imp->ecos);
	while (*p) {
		size_t n = strcspn(p, " ");
		bool known = false;
		for (size_t i = 0; i < src->n_ecos && !known; i++)
			known = strlen(src->ecos[i]) == n && memcmp(src->ecos[i], p, n) == 0;
		if (!known) {
			char **v = pw_grow(src->ecos, &src->cap_ecos, src->n_ecos, sizeof *v);
			if (!v)
				return pw_fs_nomem(err);
			src->ecos = v;
			if (!(v[src->n_ecos] = strndup(p, n)))
				return pw_fs_nomem(err);
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

/* The distinct ecosystems of the kept entries, sorted, space-separated. */
static pw_err ecosystem_column(pw_feed_import *imp, const pw_advisory *a, pw_error *err)
{
	pw_buf_reset(&imp->ecos);
	const char **v = malloc((a->n_affected ? a->n_affected : 1) * sizeof *v);
	if (!v)
		return pw_fs_nomem(err);
	size_t n = 0;
	for (size_t i = 0; i < a->n_affected; i++)
		if (imp->keep[i] && (!n || strcmp(v[n - 1], a->affected[i].ecosystem) != 0))
			v[n++] = a->affected[i].ecosystem;
	qsort(v, n, sizeof *v, pw_fs_cmp_str);
	pw_err rc = PW_OK;
	for (size_t i = 0; !rc && i < n; i++)
		if (!i || strcmp(v[i], v[i - 1]) != 0)
			rc = (imp->ecos.len && pw_buf_putc(&imp->ecos, ' ')) ||
					     pw_buf_puts(&imp->ecos, v[i])
				     ? pw_fs_nomem(err)
				     : PW_OK;
	free(v);
	return rc;
}

/* Decides which affected[] entries and CVE ids the store can keep,
 * warning about the others; fills imp->keep, imp->ecos and imp->cves. */
static pw_err filter_record(pw_feed_import *imp, const pw_advisory *a, size_t *n_keep,
			    pw_error *err)
{
	pw_err rc;
	if (a->n_affected > imp->cap_keep) {
		bool *k = realloc(imp->keep, a->n_affected * sizeof *k);
		if (!k)
			return pw_fs_nomem(err);
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
			return pw_fs_nomem(err);
	}
	return PW_OK;
}

/* Retires advisory row `rid`: in place when it is still waiting in the
 * batch (a second version in one import), else with the next flush. */
static pw_err close_advisory(pw_feed_import *imp, int64_t rid, int64_t n_affected, pw_error *err)
{
	imp->n_adv--;
	imp->n_aff -= n_affected;
	int64_t first_pending = imp->next_rid - (int64_t)imp->adv_rows.rows;
	if (rid >= first_pending) {
		size_t row = (size_t)(rid - first_pending);
		imp->adv_rows.cells[row * (size_t)insert_into[T_ADV].ncols + 4] = c_int(imp->snap);
		return PW_OK;
	}
	imp->closing[imp->n_closing++] = c_int(rid);
	return imp->n_closing == IN_LIST ? pw_feed_import_flush(imp, err) : PW_OK;
}

static pw_err insert_advisory(pw_feed_import *imp, const pw_advisory *a, size_t n_keep,
			      const unsigned char *hash, int64_t rid, pw_error *err)
{
	pw_err rc;
	struct batch *b = &imp->adv_rows;
	if (batch_full(b) && (rc = pw_feed_import_flush(imp, err)))
		return rc;
	unsigned char *h = pw_arena_alloc(&b->mem, HASH_LEN);
	if (!h)
		return pw_fs_nomem(err);
	memcpy(h, hash, HASH_LEN);
	struct cell *c = batch_row(b);
	c[0] = c_int(rid);
	c[1] = b_text(b, a->source);
	c[2] = b_text(b, a->id);
	c[3] = c_int(imp->snap);
	c[4] = c_text(NULL); /* removed_in */
	c[5] = (struct cell){.type = CELL_BLOB, .p = h, .n = HASH_LEN};
	c[6] = b_text(b, a->published);
	c[7] = b_text(b, a->modified);
	c[8] = b_text(b, a->summary);
	c[9] = c_int(a->severity);
	c[10] = c_int(a->attack_vector);
	c[11] = b_text(b, a->cvss_vector);
	c[12] = b_text(b, pw_buf_str(&imp->cves));
	c[13] = b_text(b, pw_buf_str(&imp->ecos));
	c[14] = c_int((int64_t)n_keep);
	int64_t seq = 0;
	b = &imp->aff_rows;
	for (size_t i = 0; i < a->n_affected; i++) {
		if (!imp->keep[i])
			continue;
		if (batch_full(b) && (rc = pw_feed_import_flush(imp, err)))
			return rc;
		const pw_affected *f = &a->affected[i];
		c = batch_row(b);
		c[0] = b_text(b, f->ecosystem);
		c[1] = b_text(b, f->package);
		c[2] = c_int(rid);
		c[3] = c_int(seq++);
		c[4] = c_int(f->by_source);
		c[5] = c_int(f->state);
		c[6] = b_text(b, f->state == PW_FIX_FIXED ? f->fixed : NULL);
		c[7] = b_text(b, f->note);
	}
	return PW_OK;
}

static pw_err sink_advisory(void *ctx, const pw_advisory *a, pw_error *err)
{
	pw_feed_import *imp = ctx;
	if (blank(a->id) || blank(a->source) || has_space(a->source)) {
		record_warn(imp, a->id, blank(a->id) ? "id" : "source", "%s; advisory skipped",
			    blank(a->id) ? "no advisory id" : "no usable source name");
		return PW_OK;
	}
	size_t n_keep = 0, source = 0;
	pw_err rc = filter_record(imp, a, &n_keep, err);
	if (rc)
		return rc;
	unsigned char hash[HASH_LEN];
	advisory_hash(a, imp->keep, pw_buf_str(&imp->cves), hash);
	if ((rc = note_source(imp, a->source, &source, err)) ||
	    (rc = advisory_key(imp, a->source, a->id, err)))
		return rc;
	imp->stats.advisories++;
	imp->stats.affected += n_keep;

	struct entry *e = kt_find(&imp->advs, pw_buf_str(&imp->key));
	if (e && memcmp(e->v.hash, hash, HASH_LEN) == 0) {
		imp->stats.unchanged++;
		e->seen = true;
		return PW_OK;
	}
	struct adv_cur *cur;
	if (e) {
		cur = e->extra;
		/* Two versions in one import: the later one stands. */
		if (e->added_in == imp->snap)
			record_warn(imp, a->id, NULL,
				    "appears twice in this import with different"
				    " content (source %s); the later one replaces the earlier",
				    a->source);
		else
			imp->stats.added++;
		if ((rc = close_advisory(imp, cur->rid, cur->n_affected, err)))
			return rc;
	} else {
		imp->stats.added++;
		e = kt_add(&imp->advs, pw_buf_str(&imp->key));
		cur = e ? pw_arena_alloc(&imp->advs.mem, sizeof *cur) : NULL;
		if (!cur)
			return pw_fs_nomem(err);
		e->extra = cur;
	}
	/* Seen entries are never retired, so they need no ecosystems. */
	*cur = (struct adv_cur){imp->next_rid++, (int64_t)n_keep, NULL, source};
	e->seen = true;
	e->added_in = imp->snap;
	memcpy(e->v.hash, hash, HASH_LEN);
	if ((rc = insert_advisory(imp, a, n_keep, hash, cur->rid, err)))
		return rc;
	imp->n_adv++;
	imp->n_aff += (int64_t)n_keep;
	return PW_OK;
}

static pw_err catalogue_row(pw_feed_import *imp, pw_stmt *st, const void *ctx, pw_error *err)
{
	bool kev = *(const bool *)ctx;
	struct entry *e = kt_add(kev ? &imp->kev : &imp->epss, pw_stmt_text(st, 0));
	if (!e)
		return pw_fs_nomem(err);
	e->stored = true;
	if (kev) {
		kev_hash(pw_stmt_text(st, 1), pw_stmt_text(st, 2), pw_stmt_text(st, 3),
			 pw_stmt_text(st, 4), pw_stmt_text(st, 5), pw_stmt_int(st, 6) != 0,
			 e->v.hash);
	} else {
		e->v.epss.score = pw_stmt_double(st, 1);
		e->v.epss.percentile = pw_stmt_double(st, 2);
	}
	return PW_OK;
}

/* The shared part of a KEV or EPSS entry: loads the committed catalogue
 * the first time an import brings entries for it, then finds or adds the
 * CVE. *out is the entry when this snapshot must write a row for it (new
 * or changed), NULL when it is unchanged. */
static pw_err catalogue_entry(pw_feed_import *imp, bool kev, const char *cve,
			      bool changed_fn(const struct entry *e, const void *arg),
			      const void *arg, struct entry **out, pw_error *err)
{
	ktab *c = kev ? &imp->kev : &imp->epss;
	*out = NULL;
	if (!c->loaded) {
		pw_err rc = load_paged(imp, kev ? SQL_KEV_CURRENT : SQL_EPSS_CURRENT, NULL,
				       catalogue_row, &kev,
				       kev ? "reading the KEV catalogue" : "reading EPSS scores",
				       err);
		if (rc)
			return rc;
		c->loaded = true;
	}
	struct entry *e = kt_find(c, cve);
	if (!e && !(e = kt_add(c, cve)))
		return pw_fs_nomem(err);
	bool unchanged = (e->stored || e->write) && !changed_fn(e, arg);
	e->seen = true;
	if (unchanged)
		return PW_OK;
	e->write = true;
	*out = e;
	return PW_OK;
}

static bool kev_changed(const struct entry *e, const void *hash)
{
	return memcmp(e->v.hash, hash, HASH_LEN) != 0;
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
	struct entry *e;
	pw_err rc = catalogue_entry(imp, true, k->cve, kev_changed, hash, &e, err);
	if (rc)
		return rc;
	imp->stats.kev++;
	if (!e)
		return PW_OK;
	pw_arena *m = &imp->kev.mem;
	struct kev_content *v = pw_arena_alloc(m, sizeof *v);
	bool oom = !v;
	if (v)
		*v = (struct kev_content){pw_fs_arena_dup(m, k->date_added, &oom),
					  pw_fs_arena_dup(m, k->due_date, &oom),
					  pw_fs_arena_dup(m, k->vendor, &oom),
					  pw_fs_arena_dup(m, k->product, &oom),
					  pw_fs_arena_dup(m, k->name, &oom),
					  k->ransomware};
	if (oom)
		return pw_fs_nomem(err);
	memcpy(e->v.hash, hash, HASH_LEN);
	e->extra = v;
	return PW_OK;
}

static bool epss_changed(const struct entry *e, const void *arg)
{
	const pw_epss_entry *x = arg;
	return fabs(e->v.epss.score - x->score) >= EPSS_SCORE_STEP ||
	       fabs(e->v.epss.percentile - x->percentile) >= EPSS_PERCENTILE_STEP;
}

static pw_err sink_epss(void *ctx, const pw_epss_entry *x, pw_error *err)
{
	pw_feed_import *imp = ctx;
	if (blank(x->cve) || has_space(x->cve) || !(x->score >= 0 && x->score <= 1) ||
	    !(x->percentile >= 0 && x->percentile <= 1)) {
		record_warn(imp, x->cve, NULL,
			    "not a CVE id with a score and percentile in 0..1;"
			    " EPSS entry skipped");
		return PW_OK;
	}
	struct entry *e;
	pw_err rc = catalogue_entry(imp, false, x->cve, epss_changed, x, &e, err);
	if (rc)
		return rc;
	imp->stats.epss++;
	if (e) {
		e->v.epss.score = x->score;
		e->v.epss.percentile = x->percentile;
	}
	return PW_OK;
}

pw_err pw_feed_import_begin(pw_feedstore *s, const char *label, pw_feed_import **out, pw_error *err)
{
	*out = NULL;
	if (s->active)
		return pw_error_set(err, PW_ERR_INVALID,
				    "%s: an import is already open on"
				    " this store handle; commit or abort it first",
				    s->where);
	pw_feed_import *imp = calloc(1, sizeof *imp);
	if (!imp || !(imp->label = strdup(label ? label : "import"))) {
		free(imp);
		return pw_fs_nomem(err);
	}
	imp->s = s;
	imp->advs = (ktab)KTAB_INIT;
	imp->kev = (ktab)KTAB_INIT;
	imp->epss = (ktab)KTAB_INIT;
	imp->adv_rows.table = T_ADV;
	imp->aff_rows.table = T_AFF;
	imp->sink = (pw_feed_sink){imp, sink_advisory, sink_kev, sink_epss, sink_warn};
	/* The write lock now: a second import waits here (SQLite's busy
	 * timeout, PostgreSQL's transaction lock) instead of failing
	 * halfway, and the snapshot and row ids read below stay ours. */
	pw_err rc = pw_db_tune_bulk(s->db, IMPORT_CACHE_KIB, err);
	if (!rc)
		rc = pw_db_begin_immediate(s->db, err);
	if (rc) {
		free(imp->label);
		free(imp);
		return pw_fs_fail(s, rc, err,
				  "cannot start the import (is another import running?)");
	}
	s->active = imp;
	pw_stmt *st = NULL;
	bool row = false;
	int64_t latest = 0;
	rc = pw_fs_fail(s, pw_db_xact_lock(s->db, IMPORT_LOCK_KEY, err), err,
			"waiting for another import to finish");
	for (int i = 0; !rc && i < 2; i++) {
		rc = pw_fs_prep(s, i ? SQL_MAX_RID : SQL_LATEST, &st, err);
		if (!rc)
			rc = pw_stmt_step(st, &row, err);
		if (!rc) {
			*(i ? &imp->next_rid : &latest) = row ? pw_stmt_int(st, 0) : 0;
			pw_stmt_reset(st);
		}
		rc = pw_fs_fail(s, rc, err, "reading the latest snapshot");
	}
	imp->next_rid++;
	imp->snap = latest + 1;
	if (!rc && latest) {
		pw_snapshot_info prev;
		if (!(rc = pw_feedstore_snapshot_info(s, latest, &prev, err))) {
			imp->n_adv = (int64_t)prev.advisories;
			imp->n_aff = (int64_t)prev.affected;
			imp->n_kev = (int64_t)prev.kev;
			imp->n_epss = (int64_t)prev.epss;
		}
	}
	if (rc) {
		pw_feed_import_abort(imp);
		return rc;
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

int64_t pw_feed_import_snapshot(const pw_feed_import *imp)
{
	return imp->snap;
}

/* With replace: the sources' current advisories this import lacked. */
static pw_err retire_missing(pw_feed_import *imp, pw_error *err)
{
	pw_err rc = PW_OK;
	for (size_t i = 0; !rc && i < imp->advs.index.cap; i++) {
		const struct entry *e = imp->advs.index.slots[i].rec;
		if (!e)
			continue;
		const struct adv_cur *cur = e->extra;
		if (e->seen || !covered(&imp->sources[cur->source], cur->ecosystems))
			continue;
		rc = close_advisory(imp, cur->rid, cur->n_affected, err);
		imp->stats.retired++;
	}
	return rc;
}

static int cmp_entry_key(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a;
	const struct entry *y = *(const struct entry *const *)b;
	return strcmp(x->key, y->key);
}

/* KEV and EPSS are whole catalogues: an import that brought one retires
 * what it did not contain. The replaced rows are closed first, then this
 * snapshot's rows are written, both in key order: inserts into the
 * clustered table then append instead of landing on random pages. */
static pw_err commit_catalogue(pw_feed_import *imp, bool kev, pw_error *err)
{
	ktab *c = kev ? &imp->kev : &imp->epss;
	struct entry **v = malloc((c->index.n ? c->index.n : 1) * sizeof *v);
	if (!v)
		return pw_fs_nomem(err);
	size_t n = 0;
	int64_t visible = 0;
	for (size_t i = 0; i < c->index.cap; i++) {
		struct entry *e = c->index.slots[i].rec;
		if (!e)
			continue;
		visible += e->seen;
		if ((e->write || (e->stored && !e->seen)))
			v[n++] = e;
	}
	qsort(v, n, sizeof *v, cmp_entry_key);
	struct cell cves[IN_LIST];
	size_t k = 0;
	pw_err rc = PW_OK;
	for (size_t i = 0; !rc && i < n; i++) {
		if (v[i]->stored)
			cves[k++] = c_text(v[i]->key);
		if (k == IN_LIST || (k && i + 1 == n)) {
			rc = in_exec(imp->s, kev ? IN_KEV_CLOSE : IN_EPSS_CLOSE, c_int(imp->snap),
				     cves, k, err);
			k = 0;
		}
	}
	struct batch *b = &imp->cat_rows;
	b->table = kev ? T_KEV : T_EPSS;
	for (size_t i = 0; !rc && i < n; i++) {
		const struct entry *e = v[i];
		if (!e->write)
			continue;
		if (batch_full(b) && (rc = batch_flush(imp->s, b, err)))
			break;
		struct cell *r = batch_row(b);
		r[0] = c_text(e->key);
		r[1] = c_int(imp->snap);
		if (kev) {
			const struct kev_content *kc = e->extra;
			r[2] = c_text(kc->date_added);
			r[3] = c_text(kc->due_date);
			r[4] = c_text(kc->vendor);
			r[5] = c_text(kc->product);
			r[6] = c_text(kc->name);
			r[7] = c_int(kc->ransomware);
		} else {
			r[2] = c_double(e->v.epss.score);
			r[3] = c_double(e->v.epss.percentile);
		}
	}
	free(v);
	if (!rc)
		rc = batch_flush(imp->s, b, err);
	*(kev ? &imp->n_kev : &imp->n_epss) = visible;
	return rc;
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
	free(imp->keep);
	kt_release(&imp->advs);
	kt_release(&imp->kev);
	kt_release(&imp->epss);
	pw_arena_release(&imp->adv_rows.mem);
	pw_arena_release(&imp->aff_rows.mem);
	pw_arena_release(&imp->cat_rows.mem);
	pw_buf_release(&imp->cves);
	pw_buf_release(&imp->ecos);
	pw_buf_release(&imp->where);
	pw_buf_release(&imp->key);
	free(imp->label);
	free(imp);
}

pw_err pw_feed_import_commit(pw_feed_import *imp, int64_t *snapshot, pw_import_stats *stats,
			     pw_error *err)
{
	pw_feedstore *s = imp->s;
	pw_err rc = pw_feed_import_flush(imp, err);
	if (!rc && imp->replace && imp->stats.skipped) {
		char msg[200];
		snprintf(msg, sizeof msg,
			 "%zu malformed file%s or record%s skipped, so nothing is"
			 " retired this time: a skipped one may hold an advisory that still exists",
			 imp->stats.skipped, imp->stats.skipped == 1 ? "" : "s",
			 imp->stats.skipped == 1 ? "" : "s");
		pw_feed_import_warn(imp, imp->label, msg);
	} else if (!rc && imp->replace && !(rc = retire_missing(imp, err))) {
		rc = pw_feed_import_flush(imp, err);
	}
	if (!rc && imp->kev.loaded)
		rc = commit_catalogue(imp, true, err);
	if (!rc && imp->epss.loaded)
		rc = commit_catalogue(imp, false, err);
	pw_stmt *st = NULL;
	if (!rc)
		rc = pw_fs_prep(s, SQL_SNAP_INSERT, &st, err);
	if (!rc) {
		char now[32];
		pw_ts_seconds_now(now);
		pw_stmt_bind_int(st, 1, imp->snap);
		pw_stmt_bind_text(st, 2, now);
		pw_stmt_bind_text(st, 3, imp->label);
		pw_stmt_bind_int(st, 4, imp->n_adv);
		pw_stmt_bind_int(st, 5, imp->n_aff);
		pw_stmt_bind_int(st, 6, imp->n_kev);
		pw_stmt_bind_int(st, 7, imp->n_epss);
		rc = pw_fs_fail(s, pw_stmt_exec(st, err), err, "recording the snapshot");
	}
	if (!rc)
		rc = pw_fs_fail(s, pw_db_commit(s->db, err), err, "committing the import");
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
	pw_db_rollback(imp->s->db);
	import_free(imp);
}
