/* The server's database schema: the numbered migrations of component
 * "server" (pw_db_migrate), the same tables on SQLite and PostgreSQL:
 *
 *   users, api_tokens          people, their roles and script tokens (users.h)
 *   audit_events, audit_head   the hash-chained, append-only audit log (audit.h)
 *   enroll_tokens, agents      agent enrollment and credentials (agents.h)
 *   hosts, inventories         one row per server; inventories stored once
 *                              per content hash
 *   jobs, job_results          work for agents and what they reported
 *   findings                   open and fixed findings per host (hosts.h)
 *   findings_state             the feed snapshot they were computed against
 *                              (findings.h)
 *
 * Timestamps are TEXT "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC, fixed width, so
 * they compare as strings). Later features add migrations at the end of
 * the list in schema.c; a released migration is never edited. */
#ifndef PATCHWARDEN_SCHEMA_H
#define PATCHWARDEN_SCHEMA_H

#include "patchwarden/db.h"
#include "patchwarden/error.h"

/* Brings `db` to the newest server schema; safe when several nodes start
 * at once. A database from a newer patchwarden is refused. */
pw_err pw_schema_migrate(pw_db *db, pw_error *err);

/* The newest server schema version this build knows. */
int pw_schema_version(void);

/* The database URL to use when none was given: $PATCHWARDEN_DB, else the
 * `db` key of the [server] section of the configuration file
 * `config_path` (PW_CONFIG_DEFAULT_PATH when NULL; a missing file is
 * fine, a malformed one an error naming file:line), else
 * PW_SERVER_DB_DEFAULT. The caller frees *out. */
pw_err pw_schema_default_url(const char *config_path, char **out, pw_error *err);

/* The newest server migration `db` has had (0 for a new database),
 * without migrating: `db check`. */
pw_err pw_schema_stored_version(pw_db *db, int64_t *version, pw_error *err);

/* Ready to serve: `db` takes writes (a no-op UPDATE, which SQLite and
 * PostgreSQL both refuse on a read-only file, user or transaction) and
 * holds this build's schema. PW_ERR_IO or PW_ERR_CONFLICT saying which,
 * for the start-up check and GET /api/v1/health/ready. */
pw_err pw_schema_ready(pw_db *db, pw_error *err);

/* Opens `url` (the pw_schema_default_url when NULL) and migrates it. */
pw_err pw_schema_open(const char *url, pw_db **out, pw_error *err);

#endif
