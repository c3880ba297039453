/* The feed store: advisories, affected packages with fixed versions per
 * release, CVE aliases, KEV and EPSS, in immutable numbered snapshots.
 * It lives on the SQL layer (db.h): SQLite by default (one file, or the
 * server's database file) or PostgreSQL, where several server nodes
 * share the snapshots. One schema, migrated as the "feeds" component.
 *
 * Snapshots: every import commits one new snapshot. A row is visible in
 * snapshot N when it was added at or before N and not replaced or removed
 * at or before N, so `--snapshot N` reproduces an old scan exactly. An
 * import upserts the advisories it contains (same source + id: the new
 * content replaces the old from this snapshot on, unchanged content is
 * kept as it is) and, with `replace_source`, retires the source's
 * advisories it did not contain. KEV and EPSS imports replace the whole
 * catalogue. The import is one transaction: an error or crash mid-import
 * leaves the previous snapshot as it was. Imports into one database run
 * one after the other (SQLite's write lock, a PostgreSQL transaction
 * lock); readers see the previous snapshot until the commit. */
#ifndef PATCHWARDEN_FEEDSTORE_H
#define PATCHWARDEN_FEEDSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/advisory.h"
#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/feed.h"

typedef struct pw_feedstore pw_feedstore;

/* Opens (creating and migrating when needed) the store at `location`:
 * anything pw_db_open takes, a SQLite file (PATH, sqlite:PATH) or a
 * PostgreSQL URL (postgresql://...). A SQLite store written before the
 * store moved onto db.h (it has a schema_version table) is refused with
 * PW_ERR_UNSUPPORTED: import the feeds into a new one. Messages name the
 * location without its password. */
pw_err pw_feedstore_open(const char *location, pw_feedstore **out, pw_error *err);
/* The store on an open database (the server's own connection), migrated
 * when needed; call it outside a transaction. The store does not own
 * `db`: close the store first, then the database. An import uses the
 * handle's transaction, so nothing else may open one on it meanwhile. */
pw_err pw_feedstore_open_db(pw_db *db, pw_feedstore **out, pw_error *err);
/* Closes the store (and its database, when pw_feedstore_open opened it). */
void pw_feedstore_close(pw_feedstore *s);

/* ---- writing: one import = one snapshot ---- */

typedef struct pw_import_stats {
	size_t files;      /* input files read */
	size_t advisories; /* advisory records received */
	size_t added;      /* new or changed advisories */
	size_t unchanged;  /* identical to what the store had */
	size_t retired;    /* removed by replace_source */
	size_t affected;   /* affected-package rows received */
	size_t kev, epss;
	size_t warnings; /* warnings given (skipped records, entries, files) */
	size_t skipped;  /* malformed files or records left out whole */
} pw_import_stats;

typedef struct pw_feed_import pw_feed_import;

typedef void (*pw_warn_fn)(void *ctx, const char *where, const char *message);
typedef void (*pw_progress_fn)(void *ctx, size_t files_done, size_t files_total,
			       const char *current);

/* Starts an import; `label` is recorded on the snapshot ("import
 * advisories/almalinux8", "sync debian-dsa"). */
pw_err pw_feed_import_begin(pw_feedstore *s, const char *label, pw_feed_import **out,
			    pw_error *err);
/* Where skipped-record warnings and progress go (both optional). */
void pw_feed_import_set_callbacks(pw_feed_import *imp, pw_warn_fn warn, pw_progress_fn progress,
				  void *ctx);
/* Retire the advisories of each source seen in this import that the
 * import did not contain (for full refreshes such as `feed sync`). An
 * import that skipped a malformed file or record retires nothing (with a
 * warning): the skipped one may hold an advisory that still exists.
 * Scoped by ecosystem: one source ("osv") carries many distros, so only
 * advisories whose ecosystems were all covered by this import's records
 * of that source are retired; a refresh of Debian's OSV export leaves
 * AlmaLinux's OSV advisories alone. */
void pw_feed_import_replace_source(pw_feed_import *imp, bool replace);
/* The sink importers write into. */
const pw_feed_sink *pw_feed_import_sink(pw_feed_import *imp);
/* The number the snapshot will have once committed (the import holds
 * the writers' lock, so no other import can take it). */
int64_t pw_feed_import_snapshot(const pw_feed_import *imp);
/* Imports a file, a directory tree or an archive (zip, tar, .gz) at
 * `path`, detecting each member's format from its content. */
pw_err pw_feed_import_path(pw_feed_import *imp, const char *path, pw_error *err);
/* The same for several paths, with one progress count over all of them.
 * A file named here whose format is not recognised, or that its parser
 * cannot read (truncated JSON, an OSV record with a bad `modified`), is
 * an error; inside a directory or an archive it is skipped with a warning
 * naming file and field, and counted in stats.skipped. Paths that are
 * neither regular files nor directories (FIFOs, devices) are refused
 * before anything is read. */
pw_err pw_feed_import_paths(pw_feed_import *imp, const char *const *paths, size_t n, pw_error *err);
/* Imports one buffer (already inflated) under `name`. */
pw_err pw_feed_import_buffer(pw_feed_import *imp, const char *data, size_t len, const char *name,
			     pw_error *err);
/* Commits the snapshot; frees imp whatever the outcome. A snapshot that
 * would change nothing is still recorded (its counts show that). */
pw_err pw_feed_import_commit(pw_feed_import *imp, int64_t *snapshot, pw_import_stats *stats,
			     pw_error *err);
/* Rolls back; frees imp. */
void pw_feed_import_abort(pw_feed_import *imp);

/* ---- snapshots ---- */

typedef struct pw_snapshot_info {
	int64_t id;
	char created[32]; /* ISO 8601 UTC */
	char label[160];
	size_t advisories; /* visible in this snapshot */
	size_t affected;
	size_t kev, epss;
} pw_snapshot_info;

/* Newest snapshot id, PW_ERR_NOTFOUND (with advice to run `feed import`)
 * when the store has none. */
pw_err pw_feedstore_latest(pw_feedstore *s, int64_t *snapshot, pw_error *err);
/* Fails with PW_ERR_NOTFOUND for an id that does not exist. */
pw_err pw_feedstore_snapshot_info(pw_feedstore *s, int64_t snapshot, pw_snapshot_info *out,
				  pw_error *err);
/* All snapshots, oldest first; caller frees *list. */
pw_err pw_feedstore_snapshots(pw_feedstore *s, pw_snapshot_info **list, size_t *n, pw_error *err);

/* ---- reading, for the matcher ---- */

typedef pw_err (*pw_advisory_fn)(void *ctx, const pw_advisory *adv, pw_error *err);

/* Emits every advisory visible in `snapshot` that has affected entries
 * for `ecosystem`, with affected[] restricted to that ecosystem and, when
 * n_packages > 0, to those package names (source or binary names, as the
 * data has them). Records are borrowed for the duration of the call. */
pw_err pw_feedstore_each_advisory(pw_feedstore *s, int64_t snapshot, const char *ecosystem,
				  const char *const *packages, size_t n_packages, pw_advisory_fn fn,
				  void *ctx, pw_error *err);

/* KEV and EPSS by CVE in `snapshot`. *found false when absent. Strings
 * in *out are valid until the next call on this store. */
pw_err pw_feedstore_kev(pw_feedstore *s, int64_t snapshot, const char *cve, pw_kev_entry *out,
			bool *found, pw_error *err);
pw_err pw_feedstore_epss(pw_feedstore *s, int64_t snapshot, const char *cve, pw_epss_entry *out,
			 bool *found, pw_error *err);
/* Every KEV entry of the snapshot (fleet scans load them once). */
pw_err pw_feedstore_each_kev(pw_feedstore *s, int64_t snapshot,
			     pw_err (*fn)(void *ctx, const pw_kev_entry *e, pw_error *err),
			     void *ctx, pw_error *err);

/* An advisory that names an id (pw_feedstore_naming). Borrowed: valid
 * during the callback only. */
typedef struct pw_advisory_name {
	const char *id, *source;
	const char *ecosystems; /* the releases it has data for, space-separated, sorted */
	const char *cves;       /* its CVEs, space-separated; may be "" */
	const char *published;  /* as the feed gives it (ISO 8601), or NULL */
} pw_advisory_name;

/* Emits, by (id, source), the advisories visible in `snapshot` whose id
 * is `id` or, with `as_cve`, that have the CVE `id` among their CVEs (an
 * advisory id that is a CVE, as the Ubuntu CVE tracker's, counts too).
 * The store keeps CVEs per advisory, not an index by CVE, so this reads
 * the snapshot's advisory table once: for one question, not per host.
 * `fn` must not use the store. PW_ERR_INVALID for an id that is not a
 * CVE id (as_cve) or an advisory id (text.h). */
pw_err pw_feedstore_naming(pw_feedstore *s, int64_t snapshot, const char *id, bool as_cve,
			   pw_err (*fn)(void *ctx, const pw_advisory_name *a, pw_error *err),
			   void *ctx, pw_error *err);

/* Ecosystems present in a snapshot with their advisory counts, for
 * `feed status`; caller frees with pw_feedstore_free_counts. */
typedef struct pw_ecosystem_count {
	char *ecosystem;
	size_t advisories;
	size_t packages;
} pw_ecosystem_count;
pw_err pw_feedstore_ecosystems(pw_feedstore *s, int64_t snapshot, pw_ecosystem_count **list,
			       size_t *n, pw_error *err);
void pw_feedstore_free_counts(pw_ecosystem_count *list, size_t n);

/* ---- feed sources' fetch state (for `feed sync`, `feed status`) ---- */

typedef struct pw_source_state {
	char name[64];
	char url[1024];
	char etag[256];
	char last_modified[64];
	char last_fetch[32];   /* ISO 8601 UTC of the last attempt */
	char last_status[256]; /* "200 imported", "304 not modified", "error: ..." */
	int64_t last_snapshot;
} pw_source_state;

/* *found false when the source was never fetched. */
pw_err pw_feedstore_source_get(pw_feedstore *s, const char *name, pw_source_state *out, bool *found,
			       pw_error *err);
pw_err pw_feedstore_source_put(pw_feedstore *s, const pw_source_state *st, pw_error *err);
/* All recorded sources; caller frees *list. */
pw_err pw_feedstore_sources(pw_feedstore *s, pw_source_state **list, size_t *n, pw_error *err);

#endif
