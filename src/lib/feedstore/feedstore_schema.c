/* The feed store's schema as numbered migrations of the "feeds"
 * component (pw_db_migrate records them in schema_migrations, next to
 * the server's own). Append a new entry to change the schema; never edit
 * a released one, stores in the field have already run it.
 *
 * One text for SQLite and PostgreSQL: BIGINT for every id and count
 * (PostgreSQL's INTEGER is 32 bits), DOUBLE PRECISION for EPSS (REAL is
 * single precision there), and the {{…}} words of db.h:
 *   - {{id}}: SQLite's rowid alias, so the matcher's advisory reads by
 *     rid are direct; the import assigns rids itself (it holds the
 *     writers' lock), which PostgreSQL's BY DEFAULT identity allows.
 *   - {{without_rowid}} clusters `feed_affected` on its primary key on
 *     SQLite, which makes the matcher's (ecosystem, package) lookups one
 *     range read; on PostgreSQL the primary key index does the same.
 * Tables are prefixed feed_ because the store may share the server's
 * database.
 *
 * Versioning: a row is visible in snapshot N when
 *     added_in <= N AND (removed_in IS NULL OR removed_in > N).
 * Rows are never rewritten once their snapshot is committed, except to
 * set removed_in when a later snapshot replaces or retires them.
 * `feed_affected` rows belong to one advisory row version and share its
 * validity, so only the advisory carries the columns. */
#include "feedstore-internal.h"

const pw_migration pw_feedstore_migrations[] = {
	{1, "create feed snapshots, advisories, affected packages, KEV, EPSS, sources",
	 "CREATE TABLE feed_snapshot ("
	 " id {{id}},"             /* 1, 2, ...; assigned by the import */
	 " created TEXT NOT NULL," /* ISO 8601 UTC */
	 " label TEXT NOT NULL,"
	 " advisories BIGINT NOT NULL," /* visible counts, fixed at commit */
	 " affected BIGINT NOT NULL,"
	 " kev BIGINT NOT NULL,"
	 " epss BIGINT NOT NULL);"
	 "CREATE TABLE feed_advisory ("
	 " rid {{id}}," /* one row per version of an advisory */
	 " source TEXT NOT NULL,"
	 " adv_id TEXT NOT NULL,"
	 " added_in BIGINT NOT NULL,"
	 " removed_in BIGINT,"
	 " hash {{blob}} NOT NULL," /* BLAKE2b-128 of the content, to skip unchanged */
	 " published TEXT,"
	 " modified TEXT,"
	 " summary TEXT,"
	 " severity BIGINT NOT NULL,"      /* pw_severity */
	 " attack_vector BIGINT NOT NULL," /* pw_attack_vector */
	 " cvss_vector TEXT,"
	 " cves TEXT NOT NULL,"       /* space-separated CVE ids */
	 " ecosystems TEXT NOT NULL," /* space-separated, sorted: what --replace covers */
	 " n_affected BIGINT NOT NULL);"
	 /* The current version of each advisory, for the import's upsert. */
	 "CREATE UNIQUE INDEX feed_advisory_current ON feed_advisory (source, adv_id)"
	 " WHERE removed_in IS NULL;"
	 "CREATE TABLE feed_affected ("
	 " ecosystem TEXT NOT NULL,"
	 " package TEXT NOT NULL,"
	 " adv BIGINT NOT NULL," /* feed_advisory.rid */
	 " seq BIGINT NOT NULL," /* position in the advisory's affected[] */
	 " by_source BIGINT NOT NULL,"
	 " state BIGINT NOT NULL," /* pw_fix_state */
	 " fixed TEXT,"
	 " note TEXT,"
	 " PRIMARY KEY (ecosystem, package, adv, seq)) {{without_rowid}};"
	 "CREATE TABLE feed_kev ("
	 " cve TEXT NOT NULL,"
	 " added_in BIGINT NOT NULL,"
	 " removed_in BIGINT,"
	 " date_added TEXT,"
	 " due_date TEXT,"
	 " vendor TEXT,"
	 " product TEXT,"
	 " name TEXT,"
	 " ransomware BIGINT NOT NULL,"
	 " PRIMARY KEY (cve, added_in)) {{without_rowid}};"
	 /* A CVE gets a new row only when its score moved (see feedstore.c),
	  * so daily imports of 360k scores add rows only for what changed. */
	 "CREATE TABLE feed_epss ("
	 " cve TEXT NOT NULL,"
	 " added_in BIGINT NOT NULL,"
	 " removed_in BIGINT,"
	 " score DOUBLE PRECISION NOT NULL,"
	 " percentile DOUBLE PRECISION NOT NULL,"
	 " PRIMARY KEY (cve, added_in)) {{without_rowid}};"
	 /* Fetch state of `feed sync` sources; not versioned. */
	 "CREATE TABLE feed_source ("
	 " name TEXT PRIMARY KEY,"
	 " url TEXT NOT NULL,"
	 " etag TEXT NOT NULL,"
	 " last_modified TEXT NOT NULL,"
	 " last_fetch TEXT NOT NULL,"
	 " last_status TEXT NOT NULL,"
	 " last_snapshot BIGINT NOT NULL);"},
};

const size_t pw_feedstore_n_migrations = sizeof pw_feedstore_migrations /
					 sizeof pw_feedstore_migrations[0];
