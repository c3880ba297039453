/* patchwarden db: backup, restore and check of the server database. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/audit.h"
#include "patchwarden/db.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/schema.h"

#define CMD "db"

static struct {
	bool json;
} opt = {false};

static const struct pw_option options[] = {
	PW_OPT_FLAG(0, "json", &opt.json, "check: print JSON instead of text"),
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden db backup FILE [--config FILE] [--db URL]\n"
	"       patchwarden db restore FILE [--config FILE] [--db URL]\n"
	"       patchwarden db check [--json] [--config FILE] [--db URL]\n"
	"\n"
	"backup copies the server's SQLite database into FILE with SQLite's\n"
	"online backup API: one consistent snapshot while the server keeps\n"
	"running and writing; FILE is written whole (through FILE.tmp) or not\n"
	"at all, mode 0600.\n"
	"\n"
	"restore checks FILE (integrity, a patchwarden schema no newer than\n"
	"this one), keeps the current database as DB.before-restore-TIME, puts\n"
	"FILE's content in its place, migrates it when it is older and verifies\n"
	"its audit log. Stop the server first.\n"
	"\n"
	"check reports the database's integrity (PRAGMA integrity_check), its\n"
	"schema against this patchwarden's (current, migrations pending, or\n"
	"newer) and the audit log's hash chain, without changing anything.\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"PostgreSQL has its own tools: 'pg_dump -Fc -f FILE URL' while the\n"
	"servers run, 'pg_restore --clean --if-exists -d URL FILE' with them\n"
	"stopped; 'db check' works on both.\n"
	"Before a migration a SQLite database is copied to DB.schema-N.bak.\n"
	"Exit status: 0 done (check: all good), 1 check found a problem, 2 bad\n"
	"usage or an error. See patchwarden-db(1).\n";

const struct pw_usage cmd_db_usage = {usage_head, PW_OPT_TABLES(options), usage_tail, NULL};

/* The URL to act on; NULL after a message. `may_create`: restore. */
static const char *target(struct pw_setup *setup, bool may_create)
{
	const char *url = pw_cli_db_url(CMD, setup);
	setup->db_create = may_create;
	return url && !pw_cli_db_missing(CMD, setup, url) ? url : NULL;
}

static int sqlite_only(const char *url, const char *what)
{
	char shown[1024];
	pw_db_url_redact(url, shown, sizeof shown);
	return pw_cli_fail(CMD,
			   "%s: %s is for SQLite databases; for PostgreSQL use 'pg_dump -Fc -f "
			   "FILE URL' and 'pg_restore --clean --if-exists -d URL FILE' "
			   "(patchwarden-db(1))",
			   shown, what);
}

static int backup(struct pw_setup *setup, const char *dest)
{
	const char *url = target(setup, false);
	if (!url)
		return PW_EXIT_ERROR;
	if (!pw_db_sqlite_path(url))
		return sqlite_only(url, "db backup");
	pw_db *db = NULL;
	pw_error e = PW_ERROR_INIT;
	double t0 = pw_cli_now();
	pw_err rc = pw_db_open(url, &db, &e);
	if (!rc)
		rc = pw_db_sqlite_backup(db, dest, &e);
	pw_db_close(db);
	if (rc)
		return pw_cli_fail_err(CMD, &e);
	pw_cli_note(CMD, "backed up %s to %s in %.2f s", pw_db_sqlite_path(url), dest,
		    pw_cli_now() - t0);
	return PW_EXIT_OK;
}

static int restore(struct pw_setup *setup, const char *src)
{
	const char *url = target(setup, true);
	if (!url)
		return PW_EXIT_ERROR;
	const char *file = pw_db_sqlite_path(url);
	if (!file)
		return sqlite_only(url, "db restore");
	int64_t version = 0;
	pw_error e = PW_ERROR_INIT;
	if (pw_db_sqlite_file_check(src, "server", &version, &e))
		return pw_cli_fail(CMD, "%s is not a usable backup: %s", src, e.msg);
	if (version == 0)
		return pw_cli_fail(CMD, "%s holds no patchwarden server database", src);
	if (version > pw_schema_version())
		return pw_cli_fail(CMD,
				   "%s holds schema %" PRId64 ", newer than this patchwarden's %d: "
				   "restore it with the version that wrote it",
				   src, version, pw_schema_version());
	pw_db *db = NULL;
	char kept[4096] = "";
	if (access(file, F_OK) == 0) {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
		snprintf(kept, sizeof kept, "%s.before-restore-%s", file, stamp);
	}
	pw_err rc = pw_db_open(url, &db, &e);
	if (!rc && kept[0])
		rc = pw_db_sqlite_backup(db, kept, &e);
	if (!rc)
		rc = pw_db_sqlite_restore(db, src, &e);
	pw_db_close(db);
	db = NULL;
	/* An older backup is migrated now (and copied to .schema-N.bak
	 * first), so the chain is verified on what the server will open. */
	pw_audit_report r;
	if (!rc)
		rc = pw_schema_open(url, &db, &e);
	if (!rc)
		rc = pw_audit_verify(db, &r, &e);
	pw_db_close(db);
	if (rc)
		return pw_cli_fail(CMD, "restoring %s into %s: %s%s%s", src, file, e.msg,
				   kept[0] ? "; the previous database is kept as " : "", kept);
	printf("restored %s (schema %" PRId64 ") into %s; audit log intact: %" PRId64 " events\n",
	       src, version, file, r.events);
	if (kept[0])
		printf("the previous database is kept as %s\n", kept);
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

struct check {
	bool integrity_ok, schema_ok, audit_ok;
	pw_error integrity;
	int64_t version;
	pw_audit_report audit;
};

static const char *schema_state(const struct check *c)
{
	return c->version == pw_schema_version()  ? "current"
	       : c->version < pw_schema_version() ? "migrations pending"
						  : "newer than this patchwarden";
}

static int print_check(const char *url, pw_db *db, const struct check *c)
{
	char shown[1024];
	pw_db_url_redact(url, shown, sizeof shown);
	bool sqlite = pw_db_kind_of(db) == PW_DB_SQLITE;
	if (opt.json) {
		cJSON *o = cJSON_CreateObject(),
		      *a = pw_audit_report_to_json(&c->audit, c->audit_ok);
		if (!o || !a || !pw_json_add_str(o, "database", shown) ||
		    !pw_json_add_str(o, "kind", sqlite ? "sqlite" : "postgresql") ||
		    !cJSON_AddBoolToObject(o, "integrity", c->integrity_ok) ||
		    !pw_json_add_str(o, "integrity_message",
				     c->integrity_ok ? "ok" : c->integrity.msg) ||
		    !pw_json_add_int(o, "schema", c->version) ||
		    !pw_json_add_int(o, "schema_expected", pw_schema_version()) ||
		    !pw_json_add_str(o, "schema_state", schema_state(c)) ||
		    !cJSON_AddItemToObject(o, "audit", a) ||
		    !cJSON_AddBoolToObject(o, "ok",
					   c->integrity_ok && c->schema_ok && c->audit_ok)) {
			cJSON_Delete(a);
			cJSON_Delete(o);
			return pw_cli_fail(CMD, "out of memory");
		}
		return pw_cli_print_json(CMD, o);
	}
	printf("%-12s %s (%s)\n", "database", shown, sqlite ? "SQLite" : "PostgreSQL");
	printf("%-12s %s\n", "integrity", c->integrity_ok ? "ok" : c->integrity.msg);
	printf("%-12s %" PRId64 " (%s; this patchwarden: %d)\n", "schema", c->version,
	       schema_state(c), pw_schema_version());
	if (c->audit_ok)
		printf("%-12s intact: %" PRId64 " events\n", "audit log", c->audit.events);
	else
		printf("%-12s TAMPERED: %s\n", "audit log", c->audit.reason);
	return pw_cli_finish(CMD, PW_EXIT_OK);
}

static int check(struct pw_setup *setup)
{
	const char *url = target(setup, false);
	if (!url)
		return PW_EXIT_ERROR;
	pw_db *db = NULL;
	pw_error e = PW_ERROR_INIT;
	struct check c = {0};
	/* Opened without migrating: check changes nothing. */
	if (pw_db_open(url, &db, &e))
		return pw_cli_fail_err(CMD, &e);
	c.integrity_ok = pw_db_integrity(db, &c.integrity) == PW_OK;
	pw_err rc = pw_schema_stored_version(db, &c.version, &e);
	c.schema_ok = !rc && c.version == pw_schema_version();
	if (!rc && c.version > 0) {
		rc = pw_audit_verify(db, &c.audit, &e);
		c.audit_ok = !rc;
		if (rc == PW_ERR_INTEGRITY)
			rc = PW_OK;
	}
	if (rc) {
		pw_db_close(db);
		return pw_cli_fail_err(CMD, &e);
	}
	int out = print_check(url, db, &c);
	pw_db_close(db);
	if (out)
		return out;
	return c.integrity_ok && c.schema_ok && c.audit_ok ? PW_EXIT_OK : PW_EXIT_FALSE;
}

int cmd_db(int argc, char **argv, struct pw_setup *setup)
{
	if (argc < 2)
		return pw_cli_usage_error(CMD, "which subcommand? backup, restore or check");
	static const char *const subs[] = {"backup", "restore", "check"};
	size_t k = 0;
	while (k < 3 && strcmp(argv[1], subs[k]))
		k++;
	if (k == 3)
		return pw_cli_usage_error(CMD,
					  "unknown subcommand '%s'; use backup, restore or check",
					  argv[1]);
	int n = pw_cli_parse(CMD, setup, argc - 1, argv + 1, PW_OPT_TABLES(options), ~0u);
	if (n < 0)
		return PW_EXIT_ERROR;
	if (n != (k == 2 ? 0 : 1))
		return pw_cli_usage_error(CMD,
					  k == 2 ? "check takes no arguments" : "%s needs one FILE",
					  subs[k]);
	if (opt.json && k != 2)
		return pw_cli_usage_error(CMD, "--json is for check");
	return k == 0 ? backup(setup, argv[1]) : k == 1 ? restore(setup, argv[1]) : check(setup);
}
