#include "patchwarden/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patchwarden/config.h"
#include "patchwarden/sql.h"

/* A migration whose SQL differs per backend names both; most share one. */
struct server_migration {
	int version;
	const char *name;
	const char *sql;
	const char *pg_sql; /* NULL: `sql` for PostgreSQL too */
};

/* The genesis link of the audit chain: the prev_hash of event 1. */
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* Migration 15 (campaign.h): the tables both backends share. */
#define CAMPAIGN_TABLES                                                                            \
	"CREATE TABLE campaigns ("                                                                 \
	" id {{id}},"                                                                              \
	" name TEXT NOT NULL,"                                                                     \
	" flow TEXT NOT NULL," /* auto, 1, 2: as asked */                                          \
	" emergency BIGINT NOT NULL DEFAULT 0,"                                                    \
	" soak_seconds BIGINT NOT NULL,"                                                           \
	" state TEXT NOT NULL,"                                                                    \
	" snapshot BIGINT NOT NULL,"                                                               \
	" selection TEXT NOT NULL," /* JSON: the host filter and the findings chosen */            \
	" created TEXT NOT NULL,"                                                                  \
	" created_by TEXT NOT NULL,"                                                               \
	" updated TEXT NOT NULL);"                                                                 \
	"CREATE TABLE tickets ("                                                                   \
	" id {{id}},"                                                                              \
	" campaign_id BIGINT NOT NULL REFERENCES campaigns(id),"                                   \
	" host_id BIGINT NOT NULL,"                                                                \
	" hostname TEXT NOT NULL,"                                                                 \
	" state TEXT NOT NULL," /* open, closed */                                                 \
	" next_actor TEXT NOT NULL,"                                                               \
	" created TEXT NOT NULL,"                                                                  \
	" closed TEXT);"                                                                           \
	"CREATE TABLE campaign_hosts ("                                                            \
	" id {{id}},"                                                                              \
	" campaign_id BIGINT NOT NULL REFERENCES campaigns(id),"                                   \
	" host_id BIGINT NOT NULL,"                                                                \
	" hostname TEXT NOT NULL,"                                                                 \
	" flow BIGINT NOT NULL CHECK (flow IN (1, 2)),"                                            \
	" wave BIGINT NOT NULL,"                                                                   \
	" category TEXT,"                                                                          \
	" app_owner TEXT,"                                                                         \
	" test_env BIGINT NOT NULL DEFAULT 0,"                                                     \
	" criticality BIGINT,"                                                                     \
	" state TEXT NOT NULL,"                                                                    \
	" patches BIGINT NOT NULL DEFAULT 0,"                                                      \
	" findings TEXT NOT NULL,"                                                                 \
	" ticket_id BIGINT NOT NULL REFERENCES tickets(id),"                                       \
	" recheck TEXT,"  /* countermeasures: when they are looked at again */                     \
	" finished TEXT," /* when it last reached an outcome (the soak counts from it) */          \
	" updated TEXT NOT NULL,"                                                                  \
	" UNIQUE (campaign_id, host_id));"                                                         \
	"CREATE TABLE ticket_events ("                                                             \
	" id {{id}},"                                                                              \
	" ticket_id BIGINT NOT NULL REFERENCES tickets(id),"                                       \
	" ts TEXT NOT NULL,"                                                                       \
	" actor TEXT NOT NULL,"                                                                    \
	" action TEXT NOT NULL,"                                                                   \
	" from_state TEXT,"                                                                        \
	" to_state TEXT,"                                                                          \
	" note TEXT,"                                                                              \
	" detail TEXT," /* JSON */                                                                 \
	" next_actor TEXT NOT NULL);"                                                              \
	"CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);"                       \
	"CREATE TABLE risk_acceptances ("                                                          \
	" id {{id}},"                                                                              \
	" campaign_id BIGINT NOT NULL REFERENCES campaigns(id),"                                   \
	" host_id BIGINT NOT NULL,"                                                                \
	" ticket_id BIGINT NOT NULL REFERENCES tickets(id),"                                       \
	" reason TEXT NOT NULL,"                                                                   \
	" data_value TEXT NOT NULL,"                                                               \
	" threat_frequency TEXT NOT NULL,"                                                         \
	" impact TEXT NOT NULL,"                                                                   \
	" cost_benefit TEXT NOT NULL,"                                                             \
	" declined_by TEXT NOT NULL,"                                                              \
	" declined TEXT NOT NULL,"                                                                 \
	" signed_by TEXT,"                                                                         \
	" signed TEXT,"                                                                            \
	" expires TEXT,"                                                                           \
	" expired TEXT);"                                                                          \
	"CREATE INDEX risk_acceptances_open ON risk_acceptances(expires) WHERE expired IS NULL;"

static const struct server_migration migrations[] = {
	{1, "users and API tokens",
	 /* Roles and token kinds are checked in C, so adding one needs no
	  * table rebuild on SQLite. disabled is 0/1: a portable boolean. */
	 "CREATE TABLE users ("
	 " id {{id}},"
	 " name TEXT NOT NULL UNIQUE,"
	 " role TEXT NOT NULL,"
	 " password_hash TEXT," /* NULL: no password login, API tokens only */
	 " disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
	 " created TEXT NOT NULL,"
	 " updated TEXT NOT NULL);"
	 "CREATE TABLE api_tokens ("
	 " id {{id}},"
	 " user_id BIGINT NOT NULL REFERENCES users(id),"
	 " label TEXT NOT NULL,"
	 " secret_hash {{blob}} NOT NULL," /* SHA-256 of the secret part */
	 " created TEXT NOT NULL,"
	 " expires TEXT," /* NULL: never */
	 " last_used TEXT,"
	 " revoked TEXT);"
	 "CREATE INDEX api_tokens_user ON api_tokens(user_id);",
	 NULL},

	{2, "audit log",
	 /* Ids are assigned by the appender from audit_head (not a
	  * sequence), so a rolled-back append leaves no gap and every gap
	  * is a deletion. audit_head also remembers the newest event, so
	  * deleting the last events is detected too. */
	 "CREATE TABLE audit_events ("
	 " id BIGINT PRIMARY KEY,"
	 " ts TEXT NOT NULL,"
	 " actor TEXT NOT NULL,"
	 " action TEXT NOT NULL,"
	 " target TEXT NOT NULL,"
	 " before_json TEXT,"
	 " after_json TEXT,"
	 " prev_hash TEXT NOT NULL,"
	 " hash TEXT NOT NULL);"
	 "CREATE TABLE audit_head ("
	 " id INTEGER PRIMARY KEY CHECK (id = 1),"
	 " last_id BIGINT NOT NULL,"
	 " last_hash TEXT NOT NULL);"
	 "INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 0, '" ZERO_HASH "');",
	 NULL},

	{3, "audit log is append-only",
	 /* Guards against mistakes and against anyone without the rights to
	  * drop a trigger; pw_audit_verify catches the rest. */
	 "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events"
	 " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END;"
	 "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events"
	 " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END;"
	 "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head"
	 " BEGIN SELECT RAISE(ABORT, 'the audit log head cannot be deleted'); END;"
	 "CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head"
	 " WHEN NEW.last_id < OLD.last_id"
	 " BEGIN SELECT RAISE(ABORT, 'the audit log head only moves forward'); END;",
	 "CREATE FUNCTION pw_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$\n"
	 "BEGIN\n"
	 "  RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME\n"
	 "    USING ERRCODE = 'insufficient_privilege';\n"
	 "END\n"
	 "$$;"
	 "CREATE FUNCTION pw_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$\n"
	 "BEGIN\n"
	 "  IF NEW.last_id < OLD.last_id THEN\n"
	 "    RAISE EXCEPTION 'the audit log head only moves forward'\n"
	 "      USING ERRCODE = 'insufficient_privilege';\n"
	 "  END IF;\n"
	 "  RETURN NEW;\n"
	 "END\n"
	 "$$;"
	 "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events"
	 " FOR EACH ROW EXECUTE FUNCTION pw_audit_append_only();"
	 "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events"
	 " FOR EACH STATEMENT EXECUTE FUNCTION pw_audit_append_only();"
	 "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head"
	 " FOR EACH ROW EXECUTE FUNCTION pw_audit_append_only();"
	 "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head"
	 " FOR EACH STATEMENT EXECUTE FUNCTION pw_audit_append_only();"
	 "CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head"
	 " FOR EACH ROW EXECUTE FUNCTION pw_audit_head_forward();"},

	{4, "hosts, inventories, agents and enrollment tokens",
	 /* hosts keeps only what agents report; fleet attributes (location,
	  * category, ...) come in later migrations. hosts.agent_id is the
	  * current credential; agents keeps the revoked ones for the record. */
	 "CREATE TABLE inventories ("
	 " hash TEXT PRIMARY KEY," /* pw_inventory_hash of the content */
	 " json TEXT NOT NULL,"
	 " first_seen TEXT NOT NULL);"
	 "CREATE TABLE hosts ("
	 " id {{id}},"
	 " hostname TEXT NOT NULL,"
	 " machine_id TEXT UNIQUE,"
	 " agent_id TEXT,"
	 " os_id TEXT,"
	 " os_version_id TEXT,"
	 " os_codename TEXT,"
	 " os_pretty_name TEXT,"
	 " arch TEXT,"
	 " kernel TEXT,"
	 " created TEXT NOT NULL,"
	 " last_seen TEXT,"
	 " inventory_hash TEXT REFERENCES inventories(hash),"
	 " inventory_at TEXT);"
	 "CREATE TABLE enroll_tokens ("
	 " id {{id}},"
	 " label TEXT NOT NULL,"
	 " secret_hash {{blob}} NOT NULL,"
	 " uses_total BIGINT NOT NULL,"
	 " uses_left BIGINT NOT NULL,"
	 " expires TEXT NOT NULL,"
	 " created TEXT NOT NULL,"
	 " created_by TEXT NOT NULL,"
	 " revoked TEXT);"
	 "CREATE TABLE agents ("
	 " id TEXT PRIMARY KEY,"
	 " host_id BIGINT NOT NULL REFERENCES hosts(id),"
	 " secret_hash {{blob}} NOT NULL,"
	 " enroll_token_id BIGINT REFERENCES enroll_tokens(id),"
	 " created TEXT NOT NULL,"
	 " revoked TEXT);"
	 "CREATE INDEX agents_host ON agents(host_id);",
	 NULL},

	{5, "jobs and job results",
	 /* Open jobs sit in a small partial index per host, which is all an
	  * unchanged check-in probes. Results are keyed by (agent, seq): the
	  * agent's own numbering makes resends idempotent. */
	 "CREATE TABLE jobs ("
	 " id {{id}},"
	 " host_id BIGINT NOT NULL REFERENCES hosts(id),"
	 " kind TEXT NOT NULL,"
	 " args TEXT NOT NULL,"
	 " state TEXT NOT NULL," /* queued, leased, done, failed */
	 " created TEXT NOT NULL,"
	 " created_by TEXT NOT NULL,"
	 " leased_to TEXT,"
	 " lease_until TEXT,"
	 " attempts BIGINT NOT NULL DEFAULT 0,"
	 " finished TEXT);"
	 "CREATE INDEX jobs_open ON jobs(host_id, id) WHERE state IN ('queued', 'leased');"
	 "CREATE TABLE job_results ("
	 " agent_id TEXT NOT NULL REFERENCES agents(id),"
	 " seq BIGINT NOT NULL,"
	 " job_id BIGINT NOT NULL REFERENCES jobs(id),"
	 " host_id BIGINT NOT NULL REFERENCES hosts(id),"
	 " status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),"
	 " started TEXT,"
	 " finished TEXT,"
	 " exit_code BIGINT,"
	 " output TEXT,"
	 " received TEXT NOT NULL,"
	 " PRIMARY KEY (agent_id, seq));"
	 "CREATE INDEX job_results_job ON job_results(job_id);",
	 NULL},

	{6, "host inventory fields and findings",
	 /* The case study's server inventory (hosts.h); enumerations are
	  * checked in C like the roles. One open finding per (host,
	  * package, advisory): a fixed one keeps its row for the record. */
	 "ALTER TABLE hosts ADD COLUMN location TEXT;"
	 "ALTER TABLE hosts ADD COLUMN purpose TEXT;"
	 "ALTER TABLE hosts ADD COLUMN category TEXT;"
	 "ALTER TABLE hosts ADD COLUMN owner_group TEXT;"
	 "ALTER TABLE hosts ADD COLUMN app_owner TEXT;"
	 "ALTER TABLE hosts ADD COLUMN criticality BIGINT CHECK (criticality BETWEEN 1 AND 5);"
	 "ALTER TABLE hosts ADD COLUMN exposure TEXT;"
	 "ALTER TABLE hosts ADD COLUMN environment TEXT;"
	 "ALTER TABLE hosts ADD COLUMN maint_window TEXT;"
	 "ALTER TABLE hosts ADD COLUMN backup_check TEXT;"
	 "ALTER TABLE hosts ADD COLUMN last_patched TEXT;"
	 "ALTER TABLE hosts ADD COLUMN ticket TEXT;"
	 "ALTER TABLE hosts ADD COLUMN updated TEXT;"
	 "CREATE INDEX hosts_hostname ON hosts(hostname);"
	 "CREATE INDEX hosts_category ON hosts(category);"
	 "CREATE TABLE findings ("
	 " id {{id}},"
	 " host_id BIGINT NOT NULL REFERENCES hosts(id),"
	 " package TEXT NOT NULL,"
	 " advisory TEXT NOT NULL,"
	 " installed TEXT NOT NULL,"
	 " fixed TEXT NOT NULL,"
	 " priority TEXT NOT NULL CHECK (priority IN ('emergency', 'high', 'normal', 'low')),"
	 " cves TEXT NOT NULL,"
	 " first_seen TEXT NOT NULL,"
	 " fixed_at TEXT);"
	 "CREATE UNIQUE INDEX findings_open ON findings(host_id, package, advisory)"
	 " WHERE fixed_at IS NULL;"
	 "CREATE INDEX findings_host ON findings(host_id, fixed_at);",
	 NULL},

	{7, "feed snapshot of the findings",
	 /* One row: the snapshot the fleet's findings were last recomputed
	  * against (findings.h), which a server compares with the feed
	  * store's newest to know that a new one has landed. */
	 "CREATE TABLE findings_state ("
	 " id INTEGER PRIMARY KEY CHECK (id = 1),"
	 " snapshot BIGINT NOT NULL,"
	 " computed TEXT NOT NULL);",
	 NULL},

	{8, "hostname lookup without case",
	 /* Enrollment looks for a pre-entered host by lower(hostname); without
	  * this index each enrollment read the whole hosts table. */
	 "CREATE INDEX hosts_hostname_lower ON hosts(lower(hostname));", NULL},

	{9, "re-keys waiting for an operator",
	 /* An enrollment of a known machine whose agent is live, without that
	  * agent's credential: its new agent (in agents, not yet the host's)
	  * and what it reported, until an operator decides (agents.h). At
	  * most one per host. */
	 "CREATE TABLE rekey_requests ("
	 " agent_id TEXT PRIMARY KEY REFERENCES agents(id),"
	 " host_id BIGINT NOT NULL UNIQUE REFERENCES hosts(id),"
	 " hostname TEXT NOT NULL,"
	 " os_id TEXT,"
	 " os_version_id TEXT,"
	 " os_codename TEXT,"
	 " os_pretty_name TEXT,"
	 " arch TEXT,"
	 " requested TEXT NOT NULL);",
	 NULL},

	{10, "refused inventories",
	 /* Why a host's agent could not deliver its inventory (over the
	  * server's body limit), for `host show`; NULL when it could. */
	 "ALTER TABLE hosts ADD COLUMN inventory_refused TEXT;", NULL},

	{11, "what each host's findings were computed from",
	 /* The feed snapshot and the inventory a host's findings were last
	  * computed from, set where its findings are replaced (host_findings.h);
	  * its coverage (coverage.h) compares them with the newest. */
	 "ALTER TABLE hosts ADD COLUMN findings_snapshot BIGINT;"
	 "ALTER TABLE hosts ADD COLUMN findings_inventory TEXT;",
	 NULL},

	{12, "decommissioned hosts",
	 /* When a host was decommissioned (hosts.h, pw_host_decommission):
	  * kept for the record, out of lists and recomputes; its findings
	  * closed then say why (NULL: fixed by an inventory). */
	 "ALTER TABLE hosts ADD COLUMN decommissioned TEXT;"
	 "ALTER TABLE findings ADD COLUMN closed_reason TEXT;",
	 NULL},

	{13, "what scan --json says of each finding",
	 /* The finding record (host_findings.h): whether it matched by source
	  * package, the reason, the SLA in days and the date it is due (the
	  * earlier of first_seen + SLA and the KEV due date), the KEV and EPSS
	  * CVE behind the priority, and the feed snapshot the row was last
	  * written from. Rows from before stay NULL there. */
	 "ALTER TABLE findings ADD COLUMN by_source BIGINT NOT NULL DEFAULT 0;"
	 "ALTER TABLE findings ADD COLUMN reason TEXT;"
	 "ALTER TABLE findings ADD COLUMN sla_days BIGINT;"
	 "ALTER TABLE findings ADD COLUMN due TEXT;"
	 "ALTER TABLE findings ADD COLUMN kev_cve TEXT;"
	 "ALTER TABLE findings ADD COLUMN kev_due TEXT;"
	 "ALTER TABLE findings ADD COLUMN epss_cve TEXT;"
	 "ALTER TABLE findings ADD COLUMN epss DOUBLE PRECISION;"
	 "ALTER TABLE findings ADD COLUMN snapshot BIGINT;",
	 NULL},

	{14, "job windows, emergencies and messages; hosts' health checks",
	 /* A job bound to the host's maintenance window is leased only
	  * between not_before and not_after (window.h, jobs.h); emergency
	  * marks one a manager or admin let run outside it; message says why
	  * the server failed a job (a reboot that did not report back, a
	  * window that closed before the agent came); leased is when it was
	  * last handed out (the reboot deadline counts from it). health_check is the
	  * host's health check (hosts.h). */
	 "ALTER TABLE jobs ADD COLUMN not_before TEXT;"
	 "ALTER TABLE jobs ADD COLUMN not_after TEXT;"
	 "ALTER TABLE jobs ADD COLUMN emergency BIGINT NOT NULL DEFAULT 0;"
	 "ALTER TABLE jobs ADD COLUMN message TEXT;"
	 "ALTER TABLE jobs ADD COLUMN leased TEXT;"
	 "ALTER TABLE hosts ADD COLUMN health_check TEXT;",
	 NULL},

	{15, "campaigns, their hosts, tickets and risk acceptances",
	 /* A campaign (campaign.h) pins the feed snapshot its scans prove
	  * against; each of its hosts walks the state machine of
	  * campaign/machine.c (state, the patches done, the finding ids it
	  * patches as a JSON array) and has one ticket, whose events are
	  * append-only like the audit log. A risk acceptance is written by a
	  * decline and completed by the manager's sign-off; `expired` is when
	  * the scheduler re-opened its host. */
	 CAMPAIGN_TABLES
	 /* Like the audit log: a ticket's history is never rewritten. */
	 "CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events"
	 " BEGIN SELECT RAISE(ABORT, 'ticket events are append-only: UPDATE refused'); END;"
	 "CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events"
	 " BEGIN SELECT RAISE(ABORT, 'ticket events are append-only: DELETE refused'); END;",
	 CAMPAIGN_TABLES
	 "CREATE FUNCTION pw_ticket_append_only() RETURNS trigger LANGUAGE plpgsql AS $$\n"
	 "BEGIN\n"
	 "  RAISE EXCEPTION 'ticket events are append-only: % refused', TG_OP\n"
	 "    USING ERRCODE = 'insufficient_privilege';\n"
	 "END\n"
	 "$$;"
	 "CREATE TRIGGER ticket_events_append_only BEFORE UPDATE OR DELETE ON ticket_events"
	 " FOR EACH ROW EXECUTE FUNCTION pw_ticket_append_only();"},

	{16, "hosts' runtime facts",
	 /* What the host's running processes use, as its agent last sent it
	  * (runtime.h; JSON): per host, not with the shared inventories, since
	  * they are this machine's processes. runtime_hash (SHA-256 of the
	  * JSON) groups the hosts a recompute scans alike. */
	 "ALTER TABLE hosts ADD COLUMN runtime TEXT;"
	 "ALTER TABLE hosts ADD COLUMN runtime_hash TEXT;"
	 "ALTER TABLE hosts ADD COLUMN runtime_at TEXT;",
	 NULL},

	{17, "the campaign driver's jobs",
	 /* Each job the driver queues for a campaign host (campaign/driver.c),
	  * written in the transaction that queues it, so a driver killed
	  * between the two never queues it twice: purpose is the step it
	  * serves (simulate, backup, pre-scan, patch, post-scan, health),
	  * round the host's patches when queued; handled is set (done, retry,
	  * failed) in the transaction that takes the job's outcome, and
	  * result keeps what the step read from it (a scan's findings, the
	  * simulation) as JSON. */
	 "CREATE TABLE campaign_jobs ("
	 " id {{id}},"
	 " campaign_id BIGINT NOT NULL REFERENCES campaigns(id),"
	 " host_id BIGINT NOT NULL,"
	 " purpose TEXT NOT NULL,"
	 " round BIGINT NOT NULL,"
	 " job_id BIGINT NOT NULL REFERENCES jobs(id),"
	 " queued TEXT NOT NULL,"
	 " handled TEXT,"
	 " handled_at TEXT,"
	 " result TEXT);"
	 "CREATE INDEX campaign_jobs_host ON campaign_jobs(campaign_id, host_id, purpose, round);",
	 NULL},

	{18, "the notification outbox, users' email addresses, policy runs",
	 /* notify.h: a message is written here in the transaction of the
	  * event behind it (a campaign step, a halt, a ticket waiting on
	  * someone), so it is sent exactly when that event is committed; the
	  * sender thread delivers it and keeps it until then (attempts,
	  * last_error, next_attempt for the backoff). recipient is the email
	  * address (NULL for a webhook, whose URL is the configuration's). */
	 "CREATE TABLE notify_outbox ("
	 " id {{id}},"
	 " created TEXT NOT NULL,"
	 " event TEXT NOT NULL,"
	 " channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),"
	 " recipient TEXT,"
	 " subject TEXT NOT NULL,"
	 " body TEXT NOT NULL,"
	 " payload TEXT NOT NULL,"                 /* JSON: the webhook's body */
	 " state TEXT NOT NULL DEFAULT 'pending'," /* pending, sent, dropped */
	 " attempts BIGINT NOT NULL DEFAULT 0,"
	 " next_attempt TEXT NOT NULL,"
	 " last_error TEXT,"
	 " sent TEXT);"
	 "CREATE INDEX notify_outbox_due ON notify_outbox(state, next_attempt);"
	 "ALTER TABLE users ADD COLUMN email TEXT;"
	 /* When an operator marked the host compromised (policy_run.h). */
	 "ALTER TABLE hosts ADD COLUMN compromised TEXT;"
	 /* policy_run.h: each run and what it found (its JSON report), so
	  * the server's daily run happens once a day across nodes. */
	 "CREATE TABLE policy_runs ("
	 " id {{id}},"
	 " started TEXT NOT NULL,"
	 " kind TEXT NOT NULL," /* daily, emergency */
	 " actor TEXT NOT NULL,"
	 " report TEXT NOT NULL);",
	 NULL},

	{19, "web console sessions, login lockout, the open findings' summary index",
	 /* Sessions (session.h) are tokens like API tokens, with the CSRF
	  * token their forms carry; a user's failures in a row and the end
	  * of their lockout live with the user, so every node sees them.
	  * The fleet summary (the console's fleet page, GET /api/v1/summary)
	  * reads every open finding's host, priority, first sighting and KEV
	  * due date: this index holds exactly those, so it is answered from
	  * the index alone (10,000 hosts with 20 findings each: 380 ms without
	  * it, docs/benchmarks.md). */
	 "CREATE TABLE sessions ("
	 " id {{id}},"
	 " user_id BIGINT NOT NULL REFERENCES users(id),"
	 " secret_hash {{blob}} NOT NULL," /* SHA-256 of the secret part */
	 " csrf TEXT NOT NULL,"
	 " client TEXT NOT NULL,"
	 " created TEXT NOT NULL,"
	 " last_seen TEXT NOT NULL,"
	 " expires TEXT NOT NULL,"
	 " revoked TEXT);"
	 "CREATE INDEX sessions_user ON sessions(user_id);"
	 "ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE users ADD COLUMN locked_until TEXT;"
	 "CREATE INDEX findings_open_summary ON findings(priority, host_id, first_seen, kev_due)"
	 " WHERE fixed_at IS NULL;",
	 NULL},

	{20, "links in notifications, the incident track of tickets",
	 /* The console page a message's recipient acts on (notify.h): the
	  * sending node prefixes its public_url. A ticket's track is
	  * 'incident' while its host is marked compromised (policy_run.h). */
	 "ALTER TABLE notify_outbox ADD COLUMN link TEXT;"
	 "ALTER TABLE tickets ADD COLUMN track TEXT NOT NULL DEFAULT 'regular';",
	 NULL},

	{21, "a host's tickets",
	 /* The console's host page lists its tickets (GET /tickets?host=),
	  * which read the whole table without it. */
	 "CREATE INDEX tickets_host ON tickets(host_id);", NULL},
};

#define N_MIGRATIONS (sizeof migrations / sizeof migrations[0])

int pw_schema_version(void)
{
	return migrations[N_MIGRATIONS - 1].version;
}

pw_err pw_schema_migrate(pw_db *db, pw_error *err)
{
	bool pg = pw_db_kind_of(db) == PW_DB_POSTGRES;
	pw_migration m[N_MIGRATIONS];
	for (size_t i = 0; i < N_MIGRATIONS; i++) {
		m[i].version = migrations[i].version;
		m[i].name = migrations[i].name;
		m[i].sql = pg && migrations[i].pg_sql ? migrations[i].pg_sql : migrations[i].sql;
	}
	return pw_db_migrate(db, "server", m, N_MIGRATIONS, err);
}

pw_err pw_schema_default_url(const char *config_path, char **out, pw_error *err)
{
	*out = NULL;
	const char *env = getenv("PATCHWARDEN_DB");
	if (env && *env) {
		*out = strdup(env);
		return *out ? PW_OK : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	pw_config *cfg = NULL;
	pw_err rc = pw_config_load(config_path ? config_path : PW_CONFIG_DEFAULT_PATH, false, &cfg,
				   err);
	if (rc)
		return rc;
	const char *v = pw_config_get(cfg, "server", "db");
	*out = strdup(v && *v ? v : PW_SERVER_DB_DEFAULT);
	pw_config_free(cfg);
	return *out ? PW_OK : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
}

pw_err pw_schema_stored_version(pw_db *db, int64_t *version, pw_error *err)
{
	bool exists = false;
	*version = 0;
	pw_err rc = pw_db_table_exists(db, "schema_migrations", &exists, err);
	if (rc || !exists)
		return rc;
	pw_stmt *st = NULL;
	rc = pw_sql(db,
		    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations "
		    "WHERE component = 'server'",
		    &st, err, "");
	return rc ? rc : pw_sql_int(st, version, err);
}

/* A SQLite database about to be migrated is copied to FILE.schema-N.bak
 * first (N: its schema), once: a failed or regretted upgrade can go back
 * with 'patchwarden db restore'. PostgreSQL: the operator's pg_dump. */
static pw_err backup_before_migrating(pw_db *db, const char *url, pw_error *err)
{
	const char *file = pw_db_sqlite_path(url);
	int64_t version = 0;
	if (!file || pw_db_kind_of(db) != PW_DB_SQLITE)
		return PW_OK;
	pw_err rc = pw_schema_stored_version(db, &version, err);
	if (rc || version == 0 || version >= pw_schema_version())
		return rc;
	char bak[4096];
	if (snprintf(bak, sizeof bak, "%s.schema-%lld.bak", file, (long long)version) >=
	    (int)sizeof bak)
		return pw_error_set(err, PW_ERR_INVALID, "%s: path too long for a backup", file);
	if (access(bak, F_OK) == 0)
		return PW_OK;
	rc = pw_db_sqlite_backup(db, bak, err);
	return rc ? pw_error_prefix(err, "backing up before migrating from schema %lld: ",
				    (long long)version)
		  : PW_OK;
}

pw_err pw_schema_ready(pw_db *db, pw_error *err)
{
	pw_stmt *st = NULL;
	pw_err rc = pw_sql(db, "UPDATE schema_migrations SET version = version WHERE 1 = 0", &st,
			   err, "");
	if (!rc)
		rc = pw_stmt_exec(st, err);
	if (rc)
		return pw_error_prefix(err,
				       "the database takes no writes (give the server's user write "
				       "access to it, and for SQLite to its directory): ");
	int64_t version = 0;
	rc = pw_schema_stored_version(db, &version, err);
	if (rc)
		return rc;
	if (version != pw_schema_version())
		return pw_error_set(err, PW_ERR_CONFLICT,
				    "the database has schema %lld, this server needs %d: %s",
				    (long long)version, pw_schema_version(),
				    version < pw_schema_version()
					    ? "restart a node of this version to migrate it"
					    : "a newer patchwarden migrated it; upgrade this node");
	return PW_OK;
}

pw_err pw_schema_open(const char *url, pw_db **out, pw_error *err)
{
	*out = NULL;
	char *owned = NULL;
	pw_err rc = PW_OK;
	if (!url) {
		rc = pw_schema_default_url(NULL, &owned, err);
		if (rc)
			return rc;
		url = owned;
	}
	pw_db *db = NULL;
	rc = pw_db_open(url, &db, err);
	if (!rc)
		rc = backup_before_migrating(db, url, err);
	if (!rc)
		rc = pw_schema_migrate(db, err);
	free(owned);
	if (rc) {
		pw_db_close(db);
		return rc;
	}
	*out = db;
	return PW_OK;
}
