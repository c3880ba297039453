/* Shared between the feed store (feedstore.c, feedstore_import.c,
 * feedstore_read.c), its schema (feedstore_schema.c) and the path walker
 * (feed_import.c). Not public: front ends use
 * include/patchwarden/feedstore.h. */
#ifndef PATCHWARDEN_FEEDSTORE_INTERNAL_H
#define PATCHWARDEN_FEEDSTORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/arena.h"
#include "patchwarden/buf.h"
#include "patchwarden/db.h"
#include "patchwarden/feedstore.h"

/* The "feeds" component's numbered migrations, oldest first. Append only. */
extern const pw_migration pw_feedstore_migrations[];
extern const size_t pw_feedstore_n_migrations;

/* Hooks the walker uses to account for what it reads. */
void pw_feed_import_count_file(pw_feed_import *imp);
/* Counts a warning and passes it to the caller's warn callback. */
void pw_feed_import_warn(pw_feed_import *imp, const char *where, const char *message);
/* The same for a malformed file or record left out whole (stats.skipped). */
void pw_feed_import_skip(pw_feed_import *imp, const char *where, const char *message);
void pw_feed_import_progress(pw_feed_import *imp, size_t done, size_t total, const char *current);
/* Names the input being parsed, for warnings the store itself raises
 * (a record the parser accepted but the store cannot keep). NULL clears. */
void pw_feed_import_set_current(pw_feed_import *imp, const char *name);

/* ---- shared by the store's own files: feedstore.c (opening, migrating,
 * the statement cache, sources), feedstore_import.c and feedstore_read.c.
 * Helpers that are not static are named pw_fs_*. ---- */

/* Rows per multi-row INSERT (chunks of 64, 32, ... 1: seven cached
 * statements per table) and values per IN list (padded with the last). */
#define INSERT_CHUNKS 7
#define INSERT_ROWS (1u << (INSERT_CHUNKS - 1))
#define IN_LIST 128

#define VISIBLE(a) "(" a "added_in <= ? AND (" a "removed_in IS NULL OR " a "removed_in > ?))"
#define SNAP_COLS "id, created, label, advisories, affected, kev, epss"
#define KEV_COLS "cve, date_added, due_date, vendor, product, name, ransomware"
#define AFF_COLS "package, adv, seq, by_source, state, fixed, note"
#define ADV_COLS                                                                                   \
	"rid, source, adv_id, published, modified, summary, severity, attack_vector,"              \
	" cvss_vector, cves"
#define SRC_COLS "name, url, etag, last_modified, last_fetch, last_status, last_snapshot"

#define SQL_LATEST "SELECT MAX(id) FROM feed_snapshot"

/* ---- values bound to statements ---- */

enum cell_type { CELL_NULL, CELL_INT, CELL_DOUBLE, CELL_TEXT, CELL_BLOB };

struct cell {
	enum cell_type type;
	int64_t i;
	double d;
	const void *p; /* TEXT: NUL-terminated; BLOB: n bytes */
	size_t n;
};

static inline struct cell c_int(int64_t v)
{
	return (struct cell){.type = CELL_INT, .i = v};
}

static inline struct cell c_double(double v)
{
	return (struct cell){.type = CELL_DOUBLE, .d = v};
}

/* Not copied: for values that outlive the statement. */
static inline struct cell c_text(const char *s)
{
	return (struct cell){.type = s ? CELL_TEXT : CELL_NULL, .p = s};
}

void pw_fs_bind_cell(pw_stmt *st, int idx, const struct cell *c);
/* Binds the n (1..IN_LIST) values of an IN list to parameters from `at`
 * on, repeating the last to fill the list's IN_LIST places. */
void pw_fs_bind_in_list(pw_stmt *st, int at, const struct cell *c, size_t n);

/* ---- the handle ---- */

/* The tables imports write with multi-row INSERTs. */
enum table { T_ADV, T_AFF, T_KEV, T_EPSS, T__COUNT };

/* Statements with an IN list of IN_LIST places, built at open. */
enum in_stmt { IN_ADV_CLOSE, IN_KEV_CLOSE, IN_EPSS_CLOSE, IN_AFF_BY_PKG, IN_ADV_GET, IN__COUNT };

struct pw_feedstore {
	pw_db *db;
	bool owns_db;
	char *where; /* the location for messages, password removed */
	char *in_text[IN__COUNT];
	char *insert_text[T__COUNT][INSERT_CHUNKS]; /* built on first use */
	pw_feed_import *active;                     /* the open import, at most one */
	pw_buf kev_strings;                         /* what pw_feedstore_kev hands out */
};

/* Names the failed operation and the store in front of the database's
 * message. */
pw_err pw_fs_fail(pw_feedstore *s, pw_err rc, pw_error *err, const char *what);
pw_err pw_fs_nomem(pw_error *err);
/* `head`, then n groups of `group` separated by ", ", then `tail`. */
char *pw_fs_sql_list(const char *head, const char *group, size_t n, const char *tail);
/* The cached statement for `sql`, ready to bind. */
pw_err pw_fs_prep(pw_feedstore *s, const char *sql, pw_stmt **st, pw_error *err);
/* Runs `sql` with parameters `v` and hands its first row, if any, to
 * from_row (with `item`); *found tells whether there was one. */
pw_err pw_fs_row_one(pw_feedstore *s, const char *sql, const struct cell *v, int n,
		     void (*from_row)(pw_stmt *st, void *item), void *item, bool *found,
		     const char *what, pw_error *err);
/* Every row of the unbound statement `sql` as a new array of *n items
 * of `elem` bytes, each filled by from_row; `what` names the read in a
 * store error. On any error *out is NULL and *n is 0. */
pw_err pw_fs_rows_all(pw_feedstore *s, const char *sql, size_t elem,
		      void (*from_row)(pw_stmt *st, void *item), const char *what, void **out,
		      size_t *n, pw_error *err);

/* Strings that live as long as one read or one import: NULL in, NULL
 * out; *oom set when the copy failed, so a record's fields can be copied
 * and checked once. */
char *pw_fs_arena_dup(pw_arena *a, const char *s, bool *oom);
void pw_fs_copy_text(char *dst, size_t size, const char *src);
/* qsort order of an array of strings. */
int pw_fs_cmp_str(const void *a, const void *b);

/* Sends the rows the import holds back, so reads on its handle see them. */
pw_err pw_feed_import_flush(pw_feed_import *imp, pw_error *err);

#endif
