#include "patchwarden/hosts.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/audit.h"
#include "patchwarden/clock.h"
#include "patchwarden/coverage.h"
#include "patchwarden/grow.h"
#include "patchwarden/json_limits.h"
#include "patchwarden/sql.h"
#include "patchwarden/text.h"
#include "patchwarden/window.h"

#include "fleet-internal.h"

/* ---- fields ---------------------------------------------------------- */

enum kind { K_HOSTNAME, K_TEXT, K_ENUM, K_CRIT, K_WINDOW, K_DATE, K_AGENT, K_HEALTH };

static const char *const categories[] = {"core",        "security", "file-print", "mail",
					 "application", "database", "web",        NULL};
static const char *const exposures[] = {"internet", "internal", "isolated", NULL};
static const char *const environments[] = {"test", "production", NULL};

#define TEXT_MAX 256
#define COMMAND_MAX 1024

static const struct field {
	const char *name, *column;
	enum kind kind;
	const char *const *values; /* K_ENUM */
	size_t max;                /* K_TEXT */
} fields[PW_HF__COUNT] = {
	[PW_HF_HOSTNAME] = {"hostname", "hostname", K_HOSTNAME, NULL, 0},
	[PW_HF_LOCATION] = {"location", "location", K_TEXT, NULL, TEXT_MAX},
	[PW_HF_PURPOSE] = {"purpose", "purpose", K_TEXT, NULL, TEXT_MAX},
	[PW_HF_CATEGORY] = {"category", "category", K_ENUM, categories, 0},
	[PW_HF_OWNER_GROUP] = {"owner_group", "owner_group", K_TEXT, NULL, TEXT_MAX},
	[PW_HF_APP_OWNER] = {"app_owner", "app_owner", K_TEXT, NULL, TEXT_MAX},
	[PW_HF_CRITICALITY] = {"criticality", "criticality", K_CRIT, NULL, 0},
	[PW_HF_EXPOSURE] = {"exposure", "exposure", K_ENUM, exposures, 0},
	[PW_HF_ENVIRONMENT] = {"environment", "environment", K_ENUM, environments, 0},
	[PW_HF_MAINT_WINDOW] = {"maintenance_window", "maint_window", K_WINDOW, NULL, 0},
	[PW_HF_BACKUP_CHECK] = {"backup_check", "backup_check", K_TEXT, NULL, COMMAND_MAX},
	[PW_HF_HEALTH_CHECK] = {"health_check", "health_check", K_HEALTH, NULL, COMMAND_MAX},
	[PW_HF_LAST_PATCHED] = {"last_patched", "last_patched", K_DATE, NULL, 0},
	[PW_HF_TICKET] = {"ticket", "ticket", K_TEXT, NULL, TEXT_MAX},
	[PW_HF_AGENT_ID] = {"agent_id", "agent_id", K_AGENT, NULL, 0},
	[PW_HF_OS_ID] = {"os_id", "os_id", K_AGENT, NULL, 0},
	[PW_HF_OS_VERSION_ID] = {"os_version_id", "os_version_id", K_AGENT, NULL, 0},
	[PW_HF_OS_PRETTY_NAME] = {"os", "os_pretty_name", K_AGENT, NULL, 0},
	[PW_HF_ARCH] = {"arch", "arch", K_AGENT, NULL, 0},
	[PW_HF_KERNEL] = {"kernel", "kernel", K_AGENT, NULL, 0},
	[PW_HF_LAST_SEEN] = {"last_seen", "last_seen", K_AGENT, NULL, 0},
	[PW_HF_CREATED] = {"created", "created", K_AGENT, NULL, 0},
	[PW_HF_UPDATED] = {"updated", "updated", K_AGENT, NULL, 0},
	[PW_HF_MACHINE_ID] = {"machine_id", "machine_id", K_AGENT, NULL, 0},
	[PW_HF_OS_CODENAME] = {"os_codename", "os_codename", K_AGENT, NULL, 0},
	[PW_HF_INVENTORY_HASH] = {"inventory_hash", "inventory_hash", K_AGENT, NULL, 0},
	[PW_HF_INVENTORY_AT] = {"inventory_at", "inventory_at", K_AGENT, NULL, 0},
	[PW_HF_INVENTORY_REFUSED] = {"inventory_refused", "inventory_refused", K_AGENT, NULL, 0},
	[PW_HF_DECOMMISSIONED] = {"decommissioned", "decommissioned", K_AGENT, NULL, 0},
};

static const char *const prio_names[PW_HOST_PRIO__COUNT] = {"emergency", "high", "normal", "low"};

const char *pw_host_field_name(pw_host_field f)
{
	return (unsigned)f < PW_HF__COUNT ? fields[f].name : "unknown";
}

bool pw_host_field_parse(const char *name, pw_host_field *out)
{
	for (int f = 0; f < PW_HF__COUNT; f++) {
		const char *a = fields[f].name, *b = name;
		while (*a && (*a == tolower((unsigned char)*b) || (*a == '_' && *b == '-'))) {
			a++;
			b++;
		}
		if (!*a && !*b) {
			*out = (pw_host_field)f;
			return true;
		}
	}
	return false;
}

const char *pw_host_prio_name(pw_host_prio p)
{
	return (unsigned)p < PW_HOST_PRIO__COUNT ? prio_names[p] : "unknown";
}

bool pw_host_prio_parse(const char *name, pw_host_prio *out)
{
	for (int p = 0; p < PW_HOST_PRIO__COUNT; p++) {
		if (name && !strcmp(name, prio_names[p])) {
			*out = (pw_host_prio)p;
			return true;
		}
	}
	return false;
}

/* ---- value checks ---------------------------------------------------- */

static bool hostname_ok(const char *s)
{
	size_t n = strlen(s), label = 0;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!(isalnum((unsigned char)c) || (c == '-' && label > 0)))
			return false;
		label++;
	}
	return true;
}

pw_err pw_host_name_check(pw_db *db, const char *value, int64_t self, char **out, pw_error *err)
{
	*out = NULL;
	if (!value || !*value)
		return pw_error_set(err, PW_ERR_INVALID, "hostname: a host needs a name");
	if (!hostname_ok(value))
		return pw_error_set(err, PW_ERR_INVALID,
				    "hostname: '%.*s' is not a valid host name (letters, "
				    "digits and '-' in dot-separated labels of up to 63 "
				    "characters, 253 in all)",
				    pw_utf8_prefix(value, 80), value);
	char *name = strdup(value);
	if (!name)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	for (char *p = name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	pw_stmt *st = NULL;
	bool row = false;
	/* lower(): names stored before every writer lowered them may be in
	 * any case (index hosts_hostname_lower). */
	pw_err rc = db ? pw_sql(db,
				"SELECT id FROM hosts WHERE lower(hostname) = ? AND id <> ?"
				" ORDER BY id",
				&st, err, "ti", name, self)
		       : PW_OK;
	if (!rc && db)
		rc = pw_stmt_step(st, &row, err);
	if (!rc && row)
		rc = pw_error_set(err, PW_ERR_CONFLICT,
				  "hostname: %s is already the name of host %" PRId64
				  " (names are compared without case)",
				  name, pw_stmt_int(st, 0));
	if (st && row)
		pw_stmt_reset(st);
	if (rc)
		free(name);
	else
		*out = name;
	return rc;
}

static int two_digits(const char *s)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* DAYS HH:MM-HH:MM or "always" (window.h), stored with canonical day
 * names. */
static bool window_ok(const char *s, pw_buf *out)
{
	return !pw_window_canonical(s, out, NULL);
}

/* tcp:HOST:PORT: HOST a name of [A-Za-z0-9.-], or [IPv6]; PORT 1..65535. */
static bool tcp_ok(const char *p)
{
	const char *colon = strrchr(p, ':');
	if (!colon || colon == p || !colon[1] || strlen(colon + 1) > 5)
		return false;
	long port = 0;
	for (const char *d = colon + 1; *d; d++) {
		if (!isdigit((unsigned char)*d))
			return false;
		port = port * 10 + (*d - '0');
	}
	if (port < 1 || port > 65535)
		return false;
	if (*p == '[')
		return colon[-1] == ']' && colon - p > 2 &&
		       strspn(p + 1, "0123456789abcdefABCDEF:.") == (size_t)(colon - p - 2);
	for (const char *h = p; h < colon; h++)
		if (!isalnum((unsigned char)*h) && *h != '.' && *h != '-')
			return false;
	return *p != '-';
}

/* http(s)://URL without blanks, tcp:HOST:PORT, or command:/abs/path ARGS;
 * printable ASCII only (the agent runs the command without a shell). */
static bool health_ok(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return false;
	if (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8)) {
		const char *rest = s + (s[4] == 's' ? 8 : 7);
		return *rest && *rest != '/' && !strpbrk(s, " \t");
	}
	if (!strncmp(s, "tcp:", 4))
		return tcp_ok(s + 4);
	if (!strncmp(s, "command:", 8))
		return s[8] == '/' && s[9] && s[9] != ' ';
	return false;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DDTHH:MM:SS.mmmZ",
 * into the store's fixed-width form. */
static bool date_ok(const char *s, char out[PW_TS_LEN])
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t n = strlen(s);
	if (n != 10 && n != 20 && n != 24)
		return false;
	int c1 = two_digits(s), c2 = two_digits(s + 2), mo = two_digits(s + 5),
	    d = two_digits(s + 8);
	if (c1 < 0 || c2 < 0 || s[4] != '-' || s[7] != '-' || mo < 1 || mo > 12 || d < 1)
		return false;
	int y = c1 * 100 + c2;
	if (y < 1970 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return false;
	memcpy(out, s, 10);
	memcpy(out + 10, "T00:00:00.000Z", PW_TS_LEN - 10);
	if (n == 10)
		return true;
	int h = two_digits(s + 11), mi = two_digits(s + 14), se = two_digits(s + 17);
	if (s[10] != 'T' || s[13] != ':' || s[16] != ':' || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    se < 0 || se > 59)
		return false;
	memcpy(out + 10, s + 10, 9);
	if (n == 20)
		return s[19] == 'Z';
	if (s[19] != '.' || !isdigit((unsigned char)s[20]) || !isdigit((unsigned char)s[21]) ||
	    !isdigit((unsigned char)s[22]) || s[23] != 'Z')
		return false;
	memcpy(out + 19, s + 19, 5);
	return true;
}

static pw_err enum_error(pw_host_field f, const char *value, pw_error *err)
{
	char list[160] = "";
	size_t used = 0;
	for (const char *const *v = fields[f].values; *v; v++) {
		int k = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", *v);
		if (k > 0)
			used += (size_t)k < sizeof list - used ? (size_t)k : sizeof list - used - 1;
	}
	return pw_error_set(err, PW_ERR_INVALID, "%s: '%.*s' is not one of %s", fields[f].name,
			    pw_utf8_prefix(value, 80), value, list);
}

pw_err pw_host_value_check(pw_host_field f, const char *value, char **out, pw_error *err)
{
	*out = NULL;
	if ((unsigned)f >= PW_HF__EDITABLE)
		return pw_error_set(
			err, PW_ERR_INVALID,
			"%s is reported by the host's agent and cannot be set; settable "
			"fields: hostname ... ticket (see patchwarden-host(1))",
			pw_host_field_name(f));
	if (!value || !*value) {
		if (f == PW_HF_HOSTNAME)
			return pw_error_set(err, PW_ERR_INVALID, "hostname: a host needs a name");
		return PW_OK;
	}
	const char *name = fields[f].name;
	char ts[PW_TS_LEN];
	pw_buf b = PW_BUF_INIT;
	const char *store = value;
	switch (fields[f].kind) {
	case K_HOSTNAME:
		return pw_host_name_check(NULL, value, 0, out, err);
	case K_TEXT:
		if (!pw_text_ok(value, fields[f].max) || !pw_utf8_valid(value, strlen(value)))
			return pw_error_set(err, PW_ERR_INVALID,
					    "%s: the value must be at most %zu bytes of UTF-8 text "
					    "without control characters",
					    name, fields[f].max);
		break;
	case K_ENUM: {
		size_t k = 0;
		while (fields[f].values[k] && strcasecmp(value, fields[f].values[k]))
			k++;
		if (!fields[f].values[k])
			return enum_error(f, value, err);
		store = fields[f].values[k];
		break;
	}
	case K_CRIT:
		if (value[0] < '1' || value[0] > '5' || value[1])
			return pw_error_set(err, PW_ERR_INVALID,
					    "criticality: '%.*s' is not 1 (least) to 5 (most "
					    "critical)",
					    pw_utf8_prefix(value, 80), value);
		break;
	case K_WINDOW:
		if (!window_ok(value, &b)) {
			pw_buf_release(&b);
			return pw_error_set(
				err, PW_ERR_INVALID,
				"maintenance_window: '%.*s' is not DAYS HH:MM-HH:MM, "
				"e.g. \"Sun 01:00-04:00\", \"Mon-Fri 22:00-02:00\", "
				"\"Sat,Sun 23:00-05:00\", \"daily 03:00-04:00\" (UTC) or "
				"\"always\"",
				pw_utf8_prefix(value, 80), value);
		}
		store = pw_buf_str(&b);
		break;
	case K_DATE: {
		char limit[PW_TS_LEN];
		if (!date_ok(value, ts))
			return pw_error_set(err, PW_ERR_INVALID,
					    "last_patched: '%.*s' is not a date YYYY-MM-DD or a "
					    "UTC time YYYY-MM-DDTHH:MM:SSZ",
					    pw_utf8_prefix(value, 80), value);
		pw_ts_now(limit, 86400);
		if (strcmp(ts, limit) > 0)
			return pw_error_set(err, PW_ERR_INVALID,
					    "last_patched: %.*s lies in the future",
					    pw_utf8_prefix(value, 80), value);
		store = ts;
		break;
	}
	case K_HEALTH:
		if (strlen(value) > fields[f].max || !health_ok(value))
			return pw_error_set(
				err, PW_ERR_INVALID,
				"health_check: '%.*s' is not http(s)://URL, tcp:HOST:PORT "
				"or command:/absolute/path [ARGS] (printable ASCII, at most "
				"%zu bytes)",
				pw_utf8_prefix(value, 80), value, fields[f].max);
		break;
	case K_AGENT:
		break;
	}
	*out = strdup(store);
	pw_buf_release(&b);
	return *out ? PW_OK : pw_error_set(err, PW_ERR_NOMEM, "out of memory");
}

/* ---- reading --------------------------------------------------------- */

void pw_host_release(pw_host *h)
{
	for (int f = 0; f < PW_HF__COUNT; f++) {
		free(h->f[f]);
		h->f[f] = NULL;
	}
	free(h->findings_inventory);
	h->findings_inventory = NULL;
}

void pw_host_list_release(pw_host_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		pw_host_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* The SELECT of every host query: id, the fields in enum order, then
 * the open findings per priority. Counted per host through the
 * findings_host index, so looking up one host costs the same however
 * many findings the fleet has. */
static pw_err select_sql(pw_buf *sql)
{
	pw_err rc = pw_buf_puts(sql, "SELECT h.id");
	for (int f = 0; f < PW_HF__COUNT && !rc; f++)
		rc = pw_buf_printf(sql, ", h.%s", fields[f].column);
	for (int p = 0; p < PW_HOST_PRIO__COUNT && !rc; p++)
		rc = pw_buf_printf(sql,
				   ", (SELECT COUNT(*) FROM findings f WHERE f.host_id = h.id"
				   " AND f.fixed_at IS NULL AND f.priority = '%s')",
				   prio_names[p]);
	if (!rc)
		rc = pw_buf_puts(sql, ", (SELECT COUNT(*) FROM jobs j WHERE j.host_id = h.id"
				      " AND j.state IN ('queued', 'leased'))");
	if (!rc)
		rc = pw_buf_puts(sql, ", h.findings_snapshot, h.findings_inventory");
	return rc ? rc : pw_buf_puts(sql, " FROM hosts h");
}

static pw_err read_row(pw_stmt *st, pw_host *h, pw_error *err)
{
	bool oom = false;
	h->id = pw_stmt_int(st, 0);
	for (int f = 0; f < PW_HF__COUNT; f++)
		h->f[f] = pw_col_dup(st, 1 + f, &oom);
	for (int p = 0; p < PW_HOST_PRIO__COUNT; p++)
		h->open_findings[p] = pw_stmt_int(st, 1 + PW_HF__COUNT + p);
	h->open_jobs = pw_stmt_int(st, 1 + PW_HF__COUNT + PW_HOST_PRIO__COUNT);
	h->findings_snapshot = pw_stmt_int(st, 2 + PW_HF__COUNT + PW_HOST_PRIO__COUNT);
	h->findings_inventory = pw_col_dup(st, 3 + PW_HF__COUNT + PW_HOST_PRIO__COUNT, &oom);
	if (oom) {
		pw_host_release(h);
		return pw_error_set(err, PW_ERR_NOMEM, "reading hosts: out of memory");
	}
	return PW_OK;
}

/* "id:N" names a host by id (':' is never in a hostname). */
static bool id_ref(const char *s, int64_t *id)
{
	if (!s || strncmp(s, "id:", 3) || !isdigit((unsigned char)s[3]))
		return false;
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s + 3, &end, 10);
	*id = v;
	return !errno && !*end && v > 0;
}

pw_err pw_host_read_one(pw_db *db, bool by_id, int64_t id, const char *name, pw_host *out,
			pw_error *err)
{
	pw_buf sql = PW_BUF_INIT;
	pw_err rc = select_sql(&sql);
	if (!rc)
		rc = pw_buf_puts(&sql, by_id ? " WHERE h.id = ?"
					     : " WHERE lower(h.hostname) = ? ORDER BY h.id");
	if (rc) {
		pw_buf_release(&sql);
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	pw_stmt *st = NULL;
	rc = by_id ? pw_sql(db, pw_buf_str(&sql), &st, err, "i", id)
		   : pw_sql(db, pw_buf_str(&sql), &st, err, "t", name);
	pw_buf_release(&sql);
	bool row = false;
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (!rc && !row) {
		if (by_id)
			return pw_error_set(err, PW_ERR_NOTFOUND, "no host with id %" PRId64, id);
		return pw_error_set(err, PW_ERR_NOTFOUND,
				    "no host named '%.*s'; 'patchwarden host list' shows them, "
				    "'patchwarden host add' enters one",
				    pw_utf8_prefix(name, 100), name);
	}
	if (!rc)
		rc = read_row(st, out, err);
	/* Agents that enrolled separately may share a name: say which,
	 * rather than edit one of them at random. */
	if (!rc && !by_id)
		rc = pw_stmt_step(st, &row, err);
	if (!rc && !by_id && row) {
		int64_t other = pw_stmt_int(st, 0);
		rc = pw_error_set(err, PW_ERR_INVALID,
				  "hostname %.*s is ambiguous: hosts %" PRId64 " and %" PRId64
				  " share it; name one by id (\"id:%" PRId64 "\") to rename it",
				  pw_utf8_prefix(name, 100), name, out->id, other, other);
		pw_host_release(out);
	}
	if (st)
		pw_stmt_reset(st);
	return rc;
}

pw_err pw_host_get(pw_db *db, int64_t id, pw_host *out, pw_error *err)
{
	return pw_host_read_one(db, true, id, NULL, out, err);
}

pw_err pw_host_get_by_name(pw_db *db, const char *hostname, pw_host *out, pw_error *err)
{
	int64_t id;
	if (id_ref(hostname, &id))
		return pw_host_read_one(db, true, id, NULL, out, err);
	char *name = NULL;
	pw_err rc = pw_host_value_check(PW_HF_HOSTNAME, hostname, &name, err);
	if (!rc)
		rc = pw_host_read_one(db, false, 0, name, out, err);
	free(name);
	return rc;
}

bool pw_host_decom_parse(const char *s, pw_host_decom *out)
{
	static const char *const names[] = {"false", "true", "any"};
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, names[i])) {
			*out = (pw_host_decom)i;
			return true;
		}
	return false;
}

#define cond pw_host_cond

pw_err pw_host_filter_where(const pw_host_filter *f, const char **and, pw_buf *sql,
			    struct cond *binds, int *nb, char *normal[4], char cutoff[2][PW_TS_LEN],
			    pw_error *err)
{
	static const pw_host_field enum_fields[4] = {PW_HF_CATEGORY, PW_HF_EXPOSURE,
						     PW_HF_ENVIRONMENT, PW_HF_OWNER_GROUP};
	const char *given[4] = {f->category, f->exposure, f->environment, f->owner_group};
	pw_err rc = PW_OK;
	for (int i = 0; i < 4 && !rc; i++) {
		if (!given[i])
			continue;
		rc = pw_host_value_check(enum_fields[i], given[i], &normal[i], err);
		if (!rc && !normal[i])
			rc = pw_error_set(err, PW_ERR_INVALID,
					  "%s: an empty filter matches nothing",
					  fields[enum_fields[i]].name);
		if (!rc && pw_buf_printf(sql, "%sh.%s = ?", *and, fields[enum_fields[i]].column))
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		binds[(*nb)++] = (struct cond){normal[i], 0};
		*and = " AND ";
	}
	if (rc)
		return rc;
	if (f->min_criticality) {
		if (f->min_criticality < 1 || f->min_criticality > 5)
			return pw_error_set(err, PW_ERR_INVALID, "criticality: %d is not 1 to 5",
					    f->min_criticality);
		if (pw_buf_printf(sql, "%sh.criticality >= ?", *and))
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		binds[(*nb)++] = (struct cond){NULL, f->min_criticality};
		*and = " AND ";
	}
	if (f->overdue) {
		pw_ts_now(cutoff[0], -(int64_t)PW_HOST_PATCH_POLICY_DAYS * 86400);
		if (pw_buf_printf(sql, "%s(h.last_patched IS NULL OR h.last_patched < ?)", *and))
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		binds[(*nb)++] = (struct cond){cutoff[0], 0};
		*and = " AND ";
	}
	if (f->stale_days) {
		if (f->stale_days < 0 || f->stale_days > 100000)
			return pw_error_set(err, PW_ERR_INVALID,
					    "stale: %" PRId64 " is not a number of days (1-100000)",
					    f->stale_days);
		pw_ts_now(cutoff[1], -f->stale_days * 86400);
		if (pw_buf_printf(sql, "%s(h.last_seen IS NULL OR h.last_seen < ?)", *and))
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		binds[(*nb)++] = (struct cond){cutoff[1], 0};
		*and = " AND ";
	}
	if (f->decom == PW_HOST_ANY)
		return PW_OK;
	if (pw_buf_printf(sql, "%sh.decommissioned IS %sNULL", *and,
			  f->decom == PW_HOST_DECOMMISSIONED ? "NOT " : ""))
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	*and = " AND ";
	return PW_OK;
}

/* Finishes `sql` (a SELECT over "hosts h", up to its FROM) with the
 * conditions of `f` and an order: by hostname, or with limit > 0 a page
 * by id after `after`; and calls `row` for every row. */
typedef pw_err (*row_fn)(void *ctx, pw_stmt *st, pw_error *err);

static pw_err each_host(pw_db *db, pw_buf *sql, const pw_host_filter *f, int64_t after,
			int64_t limit, row_fn row, void *ctx, pw_error *err)
{
	static const pw_host_filter none = PW_HOST_FILTER_INIT;
	struct cond binds[10];
	char *normal[4] = {NULL, NULL, NULL, NULL};
	char cutoff[2][PW_TS_LEN];
	int nb = 0;
	const char *and = " WHERE ";
	pw_err rc = pw_host_filter_where(f ? f : &none, &and, sql, binds, &nb, normal, cutoff, err);
	if (!rc && limit > 0) {
		if (pw_buf_printf(sql, "%sh.id > ? ORDER BY h.id LIMIT ?", and))
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		binds[nb++] = (struct cond){NULL, after};
		binds[nb++] = (struct cond){NULL, limit};
	} else if (!rc && pw_buf_puts(sql, " ORDER BY h.hostname, h.id")) {
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	pw_stmt *st = NULL;
	if (!rc)
		rc = pw_db_prepare(db, pw_buf_str(sql), &st, err);
	for (int i = 0; i < nb && !rc; i++)
		rc = binds[i].text ? pw_stmt_bind_text(st, i + 1, binds[i].text)
				   : pw_stmt_bind_int(st, i + 1, binds[i].num);
	while (!rc) {
		bool more = false;
		rc = pw_stmt_step(st, &more, err);
		if (rc || !more)
			break;
		rc = row(ctx, st, err);
	}
	if (rc && st)
		pw_stmt_reset(st);
	for (int i = 0; i < 4; i++)
		free(normal[i]);
	return rc;
}

static pw_err append_host(void *ctx, pw_stmt *st, pw_error *err)
{
	pw_host_list *out = ctx;
	pw_host *v = pw_grow(out->v, &out->cap, out->n, sizeof *v);
	if (!v)
		return pw_error_set(err, PW_ERR_NOMEM, "listing hosts: out of memory");
	out->v = v;
	pw_err rc = read_row(st, &v[out->n], err);
	if (!rc)
		out->n++;
	return rc;
}

pw_err pw_host_list_query(pw_db *db, const pw_host_filter *f, pw_host_list *out, pw_error *err)
{
	pw_buf sql = PW_BUF_INIT;
	pw_err rc = select_sql(&sql) ? pw_error_set(err, PW_ERR_NOMEM, "out of memory")
				     : each_host(db, &sql, f, 0, 0, append_host, out, err);
	pw_buf_release(&sql);
	return rc;
}

pw_err pw_host_page(pw_db *db, const pw_host_filter *f, int64_t after, int64_t limit,
		    pw_host_list *out, pw_error *err)
{
	if (limit < 1)
		return pw_error_set(err, PW_ERR_INVALID,
				    "a page of hosts needs a limit of 1 or more");
	pw_buf sql = PW_BUF_INIT;
	pw_err rc = select_sql(&sql) ? pw_error_set(err, PW_ERR_NOMEM, "out of memory")
				     : each_host(db, &sql, f, after, limit, append_host, out, err);
	pw_buf_release(&sql);
	return rc;
}

static bool add_field(cJSON *o, const char *key, const pw_host *h, pw_host_field f)
{
	const char *v = h->f[f];
	if (!v)
		return cJSON_AddNullToObject(o, key) != NULL;
	if (f == PW_HF_CRITICALITY)
		return cJSON_AddNumberToObject(o, key, strtod(v, NULL)) != NULL;
	return cJSON_AddStringToObject(o, key, v) != NULL;
}

cJSON *pw_host_to_json(const pw_host *h)
{
	static const struct {
		const char *key;
		pw_host_field f;
	} os[] = {{"id", PW_HF_OS_ID},
		  {"version_id", PW_HF_OS_VERSION_ID},
		  {"codename", PW_HF_OS_CODENAME},
		  {"pretty_name", PW_HF_OS_PRETTY_NAME}};
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddNumberToObject(o, "id", (double)h->id) &&
		  add_field(o, "hostname", h, PW_HF_HOSTNAME) &&
		  add_field(o, "machine_id", h, PW_HF_MACHINE_ID) &&
		  add_field(o, "agent_id", h, PW_HF_AGENT_ID);
	cJSON *sub = ok ? cJSON_AddObjectToObject(o, "os") : NULL;
	ok = sub != NULL;
	for (size_t i = 0; ok && i < sizeof os / sizeof *os; i++)
		ok = add_field(sub, os[i].key, h, os[i].f);
	ok = ok && add_field(o, "arch", h, PW_HF_ARCH) && add_field(o, "kernel", h, PW_HF_KERNEL) &&
	     add_field(o, "created", h, PW_HF_CREATED) &&
	     add_field(o, "last_seen", h, PW_HF_LAST_SEEN);
	sub = ok ? cJSON_AddObjectToObject(o, "inventory") : NULL;
	ok = sub && add_field(sub, "hash", h, PW_HF_INVENTORY_HASH) &&
	     add_field(sub, "at", h, PW_HF_INVENTORY_AT) &&
	     add_field(sub, "refused", h, PW_HF_INVENTORY_REFUSED);
	for (int f = PW_HF_LOCATION; ok && f <= PW_HF_TICKET; f++)
		ok = add_field(o, fields[f].name, h, (pw_host_field)f);
	ok = ok && add_field(o, "updated", h, PW_HF_UPDATED) &&
	     add_field(o, "decommissioned", h, PW_HF_DECOMMISSIONED);
	sub = ok ? cJSON_AddObjectToObject(o, "open_findings") : NULL;
	ok = sub != NULL;
	for (int p = 0; p < PW_HOST_PRIO__COUNT && ok; p++)
		ok = cJSON_AddNumberToObject(sub, pw_host_prio_name((pw_host_prio)p),
					     (double)h->open_findings[p]) != NULL;
	ok = ok && cJSON_AddNumberToObject(o, "open_jobs", (double)h->open_jobs);
	if (ok && h->coverage == PW_COVERAGE_UNKNOWN)
		ok = cJSON_AddNullToObject(o, "coverage") != NULL;
	else if (ok) {
		sub = cJSON_AddObjectToObject(o, "coverage");
		ok = sub &&
		     cJSON_AddStringToObject(sub, "state", pw_host_coverage_name(h->coverage)) &&
		     cJSON_AddStringToObject(sub, "detail", h->coverage_detail);
	}
	if (ok)
		return o;
	cJSON_Delete(o);
	return NULL;
}

/* ---- writing --------------------------------------------------------- */

void pw_host_change_release(struct pw_host_change *c)
{
	for (int f = 0; f < PW_HF__EDITABLE; f++)
		free(c->val[f]);
}

static pw_err change_from(const pw_host_assign *a, size_t n, struct pw_host_change *c,
			  pw_error *err)
{
	for (size_t i = 0; i < n; i++) {
		pw_host_field f = a[i].field;
		char *v = NULL;
		pw_err rc = pw_host_value_check(f, a[i].value, &v, err);
		if (rc)
			return rc;
		if (c->set[f]) {
			free(v);
			return pw_error_set(err, PW_ERR_INVALID, "%s is given twice",
					    fields[f].name);
		}
		c->val[f] = v;
		c->set[f] = true;
	}
	return PW_OK;
}

static bool json_put(cJSON *o, pw_host_field f, const char *v)
{
	if (!v)
		return cJSON_AddNullToObject(o, fields[f].name) != NULL;
	if (f == PW_HF_CRITICALITY)
		return cJSON_AddNumberToObject(o, fields[f].name, v[0] - '0') != NULL;
	return cJSON_AddStringToObject(o, fields[f].name, v) != NULL;
}

static pw_err audit_change(pw_db *db, const char *actor, const char *action, const char *name,
			   cJSON *before, cJSON *after, pw_error *err)
{
	char *b = before ? cJSON_PrintUnformatted(before) : NULL;
	char *a = cJSON_PrintUnformatted(after);
	char target[300];
	snprintf(target, sizeof target, "host:%s", name);
	pw_err rc = (before && !b) || !a
			    ? pw_error_set(err, PW_ERR_NOMEM, "out of memory")
			    : pw_audit_append(db, actor, action, target, b, a, NULL, err);
	cJSON_free(b);
	cJSON_free(a);
	return rc;
}

pw_err pw_host_write(pw_db *db, const char *actor, const char *action, const pw_host *old,
		     const struct pw_host_change *c, int64_t *id, bool *changed, pw_error *err)
{
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	*changed = false;
	const char *name = c->set[PW_HF_HOSTNAME] ? c->val[PW_HF_HOSTNAME] : old->f[PW_HF_HOSTNAME];
	char *checked = NULL;
	pw_err rc = old && !strcmp(name, old->f[PW_HF_HOSTNAME])
			    ? PW_OK
			    : pw_host_name_check(db, name, old ? old->id : 0, &checked, err);
	free(checked);
	if (rc)
		return rc;
	if (!old) {
		pw_stmt *st = NULL;
		bool row = false;
		rc = pw_sql(db,
			    "INSERT INTO hosts (hostname, created, updated) VALUES (?, ?, ?)"
			    " RETURNING id",
			    &st, err, "ttt", name, now, now);
		if (!rc)
			rc = pw_stmt_step(st, &row, err);
		if (!rc && !row)
			rc = pw_error_set(err, PW_ERR_STORE, "adding host %s returned no id", name);
		if (rc)
			return rc;
		*id = pw_stmt_int(st, 0);
		pw_stmt_reset(st);
	} else {
		*id = old->id;
	}
	cJSON *before = old ? cJSON_CreateObject() : NULL, *after = cJSON_CreateObject();
	pw_buf sql = PW_BUF_INIT;
	bool ok = after && (!old || before) && !pw_buf_puts(&sql, "UPDATE hosts SET updated = ?");
	int nset = 0;
	for (int f = 0; f < PW_HF__EDITABLE && ok; f++) {
		const char *was = old ? old->f[f] : NULL;
		if (!c->set[f] || pw_str_same(was, c->val[f]))
			continue;
		nset++;
		ok = pw_buf_printf(&sql, ", %s = ?", fields[f].column) == PW_OK &&
		     (!before || json_put(before, (pw_host_field)f, was)) &&
		     json_put(after, (pw_host_field)f, c->val[f]);
	}
	ok = ok && !pw_buf_puts(&sql, " WHERE id = ?");
	pw_stmt *st = NULL;
	rc = !ok ? pw_error_set(err, PW_ERR_NOMEM, "out of memory") : PW_OK;
	if (!rc && nset > 0)
		rc = pw_db_prepare(db, pw_buf_str(&sql), &st, err);
	if (!rc && nset > 0) {
		int k = 1;
		rc = pw_stmt_bind_text(st, k++, now);
		for (int f = 0; f < PW_HF__EDITABLE && !rc; f++) {
			const char *was = old ? old->f[f] : NULL;
			if (!c->set[f] || pw_str_same(was, c->val[f]))
				continue;
			if (f == PW_HF_CRITICALITY && c->val[f])
				rc = pw_stmt_bind_int(st, k++, c->val[f][0] - '0');
			else
				rc = pw_stmt_bind_text(st, k++, c->val[f]);
		}
		if (!rc)
			rc = pw_stmt_bind_int(st, k, *id);
		if (rc)
			rc = pw_error_set(err, rc, "binding the host update failed");
		if (!rc)
			rc = pw_stmt_exec(st, err);
	}
	if (!rc && (nset > 0 || !old)) {
		*changed = true;
		rc = audit_change(db, actor, action, name, before, after, err);
	}
	cJSON_Delete(before);
	cJSON_Delete(after);
	pw_buf_release(&sql);
	return rc;
}

struct one_write {
	const char *actor, *action, *name;
	bool create;
	struct pw_host_change *c;
	int64_t id; /* in: the host when by_id; out: the host written */
	bool changed, by_id;
};

static pw_err one_write_txn(pw_db *db, void *arg, pw_error *err)
{
	struct one_write *w = arg;
	pw_host old = PW_HOST_INIT;
	pw_err rc = pw_host_read_one(db, w->by_id, w->id, w->name, &old, err);
	if (w->create) {
		if (!rc)
			rc = pw_error_set(err, PW_ERR_INVALID,
					  "host %s exists already (id %" PRId64 "); change it with "
					  "'patchwarden host set'",
					  w->name, old.id);
		else if (rc == PW_ERR_NOTFOUND)
			rc = pw_host_write(db, w->actor, w->action, NULL, w->c, &w->id, &w->changed,
					   err);
	} else if (!rc) {
		rc = pw_host_write(db, w->actor, w->action, &old, w->c, &w->id, &w->changed, err);
	}
	pw_host_release(&old);
	return rc;
}

static pw_err one_write(pw_db *db, struct one_write *w, const pw_host_assign *a, size_t n,
			pw_error *err)
{
	struct pw_host_change c = {{false}, {NULL}};
	char *name = NULL;
	w->by_id = !w->create && id_ref(w->name, &w->id);
	pw_err rc = w->by_id ? PW_OK : pw_host_value_check(PW_HF_HOSTNAME, w->name, &name, err);
	if (!rc)
		rc = change_from(a, n, &c, err);
	if (!rc && w->create && c.set[PW_HF_HOSTNAME])
		rc = pw_error_set(err, PW_ERR_INVALID, "hostname is given twice");
	if (!rc && w->create) {
		c.set[PW_HF_HOSTNAME] = true;
		c.val[PW_HF_HOSTNAME] = name;
		name = NULL;
		w->name = c.val[PW_HF_HOSTNAME];
	} else if (!rc && !w->by_id) {
		w->name = name;
	}
	w->c = &c;
	if (!rc)
		rc = pw_in_write_txn(db, one_write_txn, w, err);
	pw_host_change_release(&c);
	free(name);
	return rc;
}

pw_err pw_host_create(pw_db *db, const char *actor, const char *hostname, const pw_host_assign *a,
		      size_t n, int64_t *id, pw_error *err)
{
	struct one_write w = {actor, "host.add", hostname, true, NULL, 0, false, false};
	pw_err rc = one_write(db, &w, a, n, err);
	if (!rc && id)
		*id = w.id;
	return rc;
}

pw_err pw_host_set(pw_db *db, const char *actor, const char *hostname, const pw_host_assign *a,
		   size_t n, bool *changed, pw_error *err)
{
	struct one_write w = {actor, "host.set", hostname, false, NULL, 0, false, false};
	pw_err rc = one_write(db, &w, a, n, err);
	if (changed)
		*changed = !rc && w.changed;
	return rc;
}
