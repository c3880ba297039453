#include "patchwarden/hosts.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_internal.h"
#include "patchwarden/audit.h"
#include "patchwarden/json_limits.h"

/* ---- fields ---------------------------------------------------------- */

enum kind { K_HOSTNAME, K_TEXT, K_ENUM, K_CRIT, K_WINDOW, K_DATE, K_AGENT };

static const char *const categories[] = {"core", "security", "file-print", "mail",
					 "application", "database", "web", NULL};
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
	[PW_HF_INVENTORY_REFUSED] = {"inventory_refused", "inventory_refused", K_AGENT, NULL, 0},
};

static const char *const prio_names[PW_HOST_PRIO__COUNT] = {"emergency", "high", "normal",
							     "low"};

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

static int two_digits(const char *s)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* "HH:MM" into minutes; 24:00 only when `end`. */
static bool clock_ok(const char *s, bool end, int *minutes)
{
	int h = two_digits(s), m = two_digits(s + 3);
	if (h < 0 || s[2] != ':' || m < 0 || m > 59 || h > 24 || (h == 24 && (m || !end)))
		return false;
	*minutes = h * 60 + m;
	return true;
}

static const char *const day_names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

/* Reads a day name at *p (any case) and moves past it; -1 if none. */
static int day_at(const char **p)
{
	for (int d = 0; d < 7; d++) {
		if (!strncasecmp(*p, day_names[d], 3)) {
			*p += 3;
			return d;
		}
	}
	return -1;
}

/* DAYS HH:MM-HH:MM where DAYS is "daily" or a comma list of days and
 * day ranges ("Sat,Sun", "Mon-Fri"); an end before the start runs past
 * midnight. Stored with canonical day names. */
static bool window_ok(const char *s, pw_buf *out)
{
	const char *p = s;
	if (!strncasecmp(p, "daily", 5)) {
		p += 5;
		if (pw_buf_puts(out, "daily"))
			return false;
	} else {
		for (;;) {
			int d = day_at(&p);
			if (d < 0 || pw_buf_puts(out, day_names[d]))
				return false;
			if (*p == '-') {
				p++;
				int e = day_at(&p);
				if (e < 0 || e == d || pw_buf_putc(out, '-') || pw_buf_puts(out, day_names[e]))
					return false;
			}
			if (*p != ',')
				break;
			p++;
			if (pw_buf_putc(out, ','))
				return false;
		}
	}
	int start, end;
	if (*p != ' ' || strlen(p + 1) != 11 || p[6] != '-' || !clock_ok(p + 1, false, &start) ||
	    !clock_ok(p + 7, true, &end) || start == end % (24 * 60))
		return false;
	return !pw_buf_putc(out, ' ') && !pw_buf_puts(out, p + 1);
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
	int c1 = two_digits(s), c2 = two_digits(s + 2), mo = two_digits(s + 5), d = two_digits(s + 8);
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
	return pw_error_set(err, PW_ERR_INVALID, "%s: '%.80s' is not one of %s", fields[f].name,
			    value, list);
}

pw_err pw_host_value_check(pw_host_field f, const char *value, char **out, pw_error *err)
{
	*out = NULL;
	if ((unsigned)f >= PW_HF__EDITABLE)
		return pw_error_set(err, PW_ERR_INVALID,
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
		if (!hostname_ok(value))
			return pw_error_set(err, PW_ERR_INVALID,
					    "hostname: '%.80s' is not a valid host name (letters, "
					    "digits and '-' in dot-separated labels of up to 63 "
					    "characters, 253 in all)", value);
		break;
	case K_TEXT:
		if (!pw_text_ok(value, fields[f].max) || !pw_utf8_valid(value, strlen(value)))
			return pw_error_set(err, PW_ERR_INVALID,
					    "%s: the value must be at most %zu bytes of UTF-8 text "
					    "without control characters", name, fields[f].max);
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
					    "criticality: '%.80s' is not 1 (least) to 5 (most "
					    "critical)", value);
		break;
	case K_WINDOW:
		if (!window_ok(value, &b)) {
			pw_buf_release(&b);
			return pw_error_set(err, PW_ERR_INVALID,
					    "maintenance_window: '%.80s' is not DAYS HH:MM-HH:MM, "
					    "e.g. \"Sun 01:00-04:00\", \"Mon-Fri 22:00-02:00\", "
					    "\"Sat,Sun 23:00-05:00\" or \"daily 03:00-04:00\"", value);
		}
		store = pw_buf_str(&b);
		break;
	case K_DATE: {
		char limit[PW_TS_LEN];
		if (!date_ok(value, ts))
			return pw_error_set(err, PW_ERR_INVALID,
					    "last_patched: '%.80s' is not a date YYYY-MM-DD or a UTC "
					    "time YYYY-MM-DDTHH:MM:SSZ", value);
		pw_ts_now(limit, 86400);
		if (strcmp(ts, limit) > 0)
			return pw_error_set(err, PW_ERR_INVALID,
					    "last_patched: %.80s lies in the future", value);
		store = ts;
		break;
	}
	case K_AGENT:
		break;
	}
	*out = strdup(store);
	if (*out && fields[f].kind == K_HOSTNAME)
		for (char *p = *out; *p; p++)
			*p = (char)tolower((unsigned char)*p);
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
		rc = pw_buf_printf(sql, ", (SELECT COUNT(*) FROM findings f WHERE f.host_id = h.id"
					" AND f.fixed_at IS NULL AND f.priority = '%s')",
				   prio_names[p]);
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

/* One host by id (by_id) or hostname. */
static pw_err get_one(pw_db *db, bool by_id, int64_t id, const char *name, pw_host *out,
		      pw_error *err)
{
	pw_buf sql = PW_BUF_INIT;
	pw_err rc = select_sql(&sql);
	if (!rc)
		rc = pw_buf_puts(&sql, by_id ? " WHERE h.id = ?" : " WHERE h.hostname = ? ORDER BY h.id");
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
				    "no host named '%.100s'; 'patchwarden host list' shows them, "
				    "'patchwarden host add' enters one", name);
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
				  "hostname %.100s is ambiguous: hosts %" PRId64 " and %" PRId64
				  " share it; name one by id (\"id:%" PRId64 "\") to rename it",
				  name, out->id, other, other);
		pw_host_release(out);
	}
	if (st)
		pw_stmt_reset(st);
	return rc;
}

pw_err pw_host_get(pw_db *db, int64_t id, pw_host *out, pw_error *err)
{
	return get_one(db, true, id, NULL, out, err);
}

pw_err pw_host_get_by_name(pw_db *db, const char *hostname, pw_host *out, pw_error *err)
{
	int64_t id;
	if (id_ref(hostname, &id))
		return get_one(db, true, id, NULL, out, err);
	char *name = NULL;
	pw_err rc = pw_host_value_check(PW_HF_HOSTNAME, hostname, &name, err);
	if (!rc)
		rc = get_one(db, false, 0, name, out, err);
	free(name);
	return rc;
}

struct cond {
	const char *text; /* bound as text, or NULL for `num` */
	int64_t num;
};

static pw_err filter_where(const pw_host_filter *f, pw_buf *sql, struct cond *binds, int *nb,
			   char *normal[4], char cutoff[2][PW_TS_LEN], pw_error *err)
{
	static const pw_host_field enum_fields[4] = {PW_HF_CATEGORY, PW_HF_EXPOSURE,
						     PW_HF_ENVIRONMENT, PW_HF_OWNER_GROUP};
	const char *given[4] = {f->category, f->exposure, f->environment, f->owner_group};
	pw_err rc = PW_OK;
	const char *and = " WHERE ";
	for (int i = 0; i < 4 && !rc; i++) {
		if (!given[i])
			continue;
		rc = pw_host_value_check(enum_fields[i], given[i], &normal[i], err);
		if (!rc && !normal[i])
			rc = pw_error_set(err, PW_ERR_INVALID, "%s: an empty filter matches nothing",
					  fields[enum_fields[i]].name);
		if (!rc && pw_buf_printf(sql, "%sh.%s = ?", and, fields[enum_fields[i]].column))
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		binds[(*nb)++] = (struct cond){normal[i], 0};
		and = " AND ";
	}
	if (rc)
		return rc;
	if (f->min_criticality) {
		if (f->min_criticality < 1 || f->min_criticality > 5)
			return pw_error_set(err, PW_ERR_INVALID, "criticality: %d is not 1 to 5",
					    f->min_criticality);
		if (pw_buf_printf(sql, "%sh.criticality >= ?", and))
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		binds[(*nb)++] = (struct cond){NULL, f->min_criticality};
		and = " AND ";
	}
	if (f->overdue) {
		pw_ts_now(cutoff[0], -(int64_t)PW_HOST_PATCH_POLICY_DAYS * 86400);
		if (pw_buf_printf(sql, "%s(h.last_patched IS NULL OR h.last_patched < ?)", and))
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		binds[(*nb)++] = (struct cond){cutoff[0], 0};
		and = " AND ";
	}
	if (f->stale_days) {
		if (f->stale_days < 0 || f->stale_days > 100000)
			return pw_error_set(err, PW_ERR_INVALID,
					    "stale: %" PRId64 " is not a number of days (1-100000)",
					    f->stale_days);
		pw_ts_now(cutoff[1], -f->stale_days * 86400);
		if (pw_buf_printf(sql, "%s(h.last_seen IS NULL OR h.last_seen < ?)", and))
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		binds[(*nb)++] = (struct cond){cutoff[1], 0};
	}
	return PW_OK;
}

/* Finishes `sql` (a SELECT over "hosts h", up to its FROM) with the
 * conditions of `f` and an order: by hostname, or with limit > 0 a page
 * by id after `after`; and calls `row` for every row. */
static pw_err each_host(pw_db *db, pw_buf *sql, const pw_host_filter *f, int64_t after,
			int64_t limit, pw_host_row_fn row, void *ctx, pw_error *err)
{
	static const pw_host_filter none = PW_HOST_FILTER_INIT;
	struct cond binds[10];
	char *normal[4] = {NULL, NULL, NULL, NULL};
	char cutoff[2][PW_TS_LEN];
	int nb = 0;
	pw_err rc = filter_where(f ? f : &none, sql, binds, &nb, normal, cutoff, err);
	if (!rc && limit > 0) {
		if (pw_buf_printf(sql, "%sh.id > ? ORDER BY h.id LIMIT ?", nb ? " AND " : " WHERE "))
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

pw_err pw_host_page(pw_db *db, const char *columns, const pw_host_filter *f, int64_t after,
		    int64_t limit, pw_host_row_fn row, void *ctx, pw_error *err)
{
	if (limit < 1)
		return pw_error_set(err, PW_ERR_INVALID, "a page of hosts needs a limit of 1 or more");
	pw_buf sql = PW_BUF_INIT;
	pw_err rc = pw_buf_printf(&sql, "SELECT %s FROM hosts h", columns)
			    ? pw_error_set(err, PW_ERR_NOMEM, "out of memory")
			    : each_host(db, &sql, f, after, limit, row, ctx, err);
	pw_buf_release(&sql);
	return rc;
}

cJSON *pw_host_to_json(const pw_host *h)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *fnd = cJSON_CreateObject();
	bool ok = o && fnd && cJSON_AddNumberToObject(o, "id", (double)h->id);
	for (int f = 0; f < PW_HF__COUNT && ok; f++) {
		const char *name = pw_host_field_name((pw_host_field)f);
		const char *v = h->f[f];
		if (!v)
			ok = cJSON_AddNullToObject(o, name) != NULL;
		else if (f == PW_HF_CRITICALITY)
			ok = cJSON_AddNumberToObject(o, name, strtod(v, NULL)) != NULL;
		else
			ok = cJSON_AddStringToObject(o, name, v) != NULL;
	}
	for (int p = 0; p < PW_HOST_PRIO__COUNT && ok; p++)
		ok = cJSON_AddNumberToObject(fnd, pw_host_prio_name((pw_host_prio)p),
					     (double)h->open_findings[p]) != NULL;
	if (ok && cJSON_AddItemToObject(o, "open_findings", fnd))
		return o;
	cJSON_Delete(fnd);
	cJSON_Delete(o);
	return NULL;
}

/* ---- writing --------------------------------------------------------- */

/* Stored forms of the editable fields one write sets. */
struct change {
	bool set[PW_HF__EDITABLE];
	char *val[PW_HF__EDITABLE]; /* owned; NULL clears */
};

static void change_release(struct change *c)
{
	for (int f = 0; f < PW_HF__EDITABLE; f++)
		free(c->val[f]);
}

static pw_err change_from(const pw_host_assign *a, size_t n, struct change *c, pw_error *err)
{
	for (size_t i = 0; i < n; i++) {
		pw_host_field f = a[i].field;
		char *v = NULL;
		pw_err rc = pw_host_value_check(f, a[i].value, &v, err);
		if (rc)
			return rc;
		if (c->set[f]) {
			free(v);
			return pw_error_set(err, PW_ERR_INVALID, "%s is given twice", fields[f].name);
		}
		c->val[f] = v;
		c->set[f] = true;
	}
	return PW_OK;
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
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

static pw_err name_free(pw_db *db, const char *name, int64_t self, pw_error *err)
{
	pw_stmt *st = NULL;
	bool row = false;
	pw_err rc = pw_sql(db, "SELECT id FROM hosts WHERE hostname = ? AND id <> ?", &st, err,
			   "ti", name, self);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (!rc && row)
		rc = pw_error_set(err, PW_ERR_INVALID, "hostname: %s is already host %" PRId64,
				  name, pw_stmt_int(st, 0));
	if (st)
		pw_stmt_reset(st);
	return rc;
}

/* Writes `c` to the host `old` (NULL: a new host named c->val[hostname])
 * and audits the fields that changed. The caller holds the transaction. */
static pw_err write_host(pw_db *db, const char *actor, const char *action, const pw_host *old,
			 const struct change *c, int64_t *id, bool *changed, pw_error *err)
{
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	*changed = false;
	const char *name = c->set[PW_HF_HOSTNAME] ? c->val[PW_HF_HOSTNAME] : old->f[PW_HF_HOSTNAME];
	pw_err rc = old && !strcmp(name, old->f[PW_HF_HOSTNAME])
			    ? PW_OK
			    : name_free(db, name, old ? old->id : 0, err);
	if (rc)
		return rc;
	if (!old) {
		pw_stmt *st = NULL;
		bool row = false;
		rc = pw_sql(db, "INSERT INTO hosts (hostname, created, updated) VALUES (?, ?, ?)"
				" RETURNING id", &st, err, "ttt", name, now, now);
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
		if (!c->set[f] || same(was, c->val[f]))
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
			if (!c->set[f] || same(was, c->val[f]))
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
	struct change *c;
	int64_t id; /* in: the host when by_id; out: the host written */
	bool changed, by_id;
};


static pw_err one_write_txn(pw_db *db, void *arg, pw_error *err)
{
	struct one_write *w = arg;
	pw_host old = PW_HOST_INIT;
	pw_err rc = get_one(db, w->by_id, w->id, w->name, &old, err);
	if (w->create) {
		if (!rc)
			rc = pw_error_set(err, PW_ERR_INVALID,
					  "host %s exists already (id %" PRId64 "); change it with "
					  "'patchwarden host set'", w->name, old.id);
		else if (rc == PW_ERR_NOTFOUND)
			rc = write_host(db, w->actor, w->action, NULL, w->c, &w->id, &w->changed, err);
	} else if (!rc) {
		rc = write_host(db, w->actor, w->action, &old, w->c, &w->id, &w->changed, err);
	}
	pw_host_release(&old);
	return rc;
}

static pw_err one_write(pw_db *db, struct one_write *w, const pw_host_assign *a, size_t n,
			pw_error *err)
{
	struct change c = {{false}, {NULL}};
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
	change_release(&c);
	free(name);
	return rc;
}

pw_err pw_host_create(pw_db *db, const char *actor, const char *hostname,
		      const pw_host_assign *a, size_t n, int64_t *id, pw_error *err)
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

/* ---- CSV ------------------------------------------------------------- */

void pw_host_csv_release(pw_host_csv *c)
{
	for (size_t i = 0; i < c->nrows * c->ncols; i++)
		free(c->cells[i]);
	free(c->cells);
	free(c->lines);
	free(c->cols);
	*c = (pw_host_csv)PW_HOST_CSV_INIT;
}

struct cell {
	char *text;
	size_t line, col;
	bool quoted;
};

/* Lines of bad rows listed after the first bad row's error. */
#define BAD_LINES_LISTED 10

struct csv_state {
	const char *name;
	pw_host_csv *out;
	bool header_done;
	struct cell rec[PW_HF__EDITABLE];
	size_t n;
	pw_err bad;     /* the first bad row's error, which err holds */
	size_t nbad;
	char more[128]; /* the lines of the next bad rows: ", 5, 9" */
};

static void rec_clear(struct csv_state *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->rec[i].text);
	s->n = 0;
}

static pw_err at(struct csv_state *s, size_t line, size_t col, pw_error *err, pw_err code,
		 const char *msg)
{
	return pw_error_set(err, code, "%s:%zu:%zu: %s", s->name, line, col, msg);
}

static pw_err take_header(struct csv_state *s, pw_error *err)
{
	pw_host_csv *c = s->out;
	c->cols = calloc(s->n, sizeof *c->cols);
	if (!c->cols)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	bool has_name = false;
	for (size_t i = 0; i < s->n; i++) {
		struct cell *x = &s->rec[i];
		pw_host_field f;
		char msg[300];
		if (!pw_host_field_parse(x->text, &f) || f >= PW_HF__EDITABLE) {
			snprintf(msg, sizeof msg,
				 "column '%.80s' is not a host field; columns: hostname, location, "
				 "purpose, category, owner_group, app_owner, criticality, exposure, "
				 "environment, maintenance_window, backup_check, last_patched, ticket",
				 x->text);
			return at(s, x->line, x->col, err, PW_ERR_PARSE, msg);
		}
		for (size_t j = 0; j < i; j++)
			if (c->cols[j] == f) {
				snprintf(msg, sizeof msg, "column %s appears twice", fields[f].name);
				return at(s, x->line, x->col, err, PW_ERR_PARSE, msg);
			}
		c->cols[i] = f;
		c->ncols++;
		has_name |= f == PW_HF_HOSTNAME;
	}
	if (!has_name)
		return at(s, 1, 1, err, PW_ERR_PARSE,
			  "the header row has no hostname column; it names the host of each row");
	s->header_done = true;
	return PW_OK;
}

/* A row that cannot be imported is left out and the parse goes on, so
 * one run names every line to fix: the first bad row's error is kept,
 * the next ones add their line. */
static pw_err bad_row(struct csv_state *s, const struct cell *x, pw_err code, const char *msg,
		      pw_error *err)
{
	if (!s->nbad++) {
		s->bad = code;
		at(s, x->line, x->col, err, code, msg);
	} else if (s->nbad <= BAD_LINES_LISTED + 1) {
		size_t len = strlen(s->more);
		snprintf(s->more + len, sizeof s->more - len, ", %zu", x->line);
	}
	return PW_OK;
}

static pw_err take_row(struct csv_state *s, pw_error *err)
{
	pw_host_csv *c = s->out;
	if (s->n != c->ncols) {
		char msg[120];
		snprintf(msg, sizeof msg, "this row has %zu fields, the header %zu", s->n, c->ncols);
		return bad_row(s, &s->rec[0], PW_ERR_PARSE, msg, err);
	}
	if (c->nrows == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		char **cells = realloc(c->cells, cap * c->ncols * sizeof *cells);
		if (!cells)
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		c->cells = cells;
		size_t *lines = realloc(c->lines, cap * sizeof *lines);
		if (!lines)
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		c->lines = lines;
		c->cap = cap;
	}
	char **row = c->cells + c->nrows * c->ncols;
	for (size_t i = 0; i < c->ncols; i++)
		row[i] = NULL;
	c->lines[c->nrows++] = s->rec[0].line;
	for (size_t i = 0; i < c->ncols; i++) {
		struct cell *x = &s->rec[i];
		char msg[PW_ERROR_MSG_MAX];
		pw_error e = PW_ERROR_INIT;
		pw_err rc = pw_host_value_check(c->cols[i], x->text, &row[i], &e);
		if (rc == PW_ERR_NOMEM)
			return pw_error_set(err, rc, "%s", e.msg);
		snprintf(msg, sizeof msg, "%s", e.msg);
		for (size_t r = 0; !rc && c->cols[i] == PW_HF_HOSTNAME && r + 1 < c->nrows; r++) {
			if (!strcmp(c->cells[r * c->ncols + i], row[i])) {
				snprintf(msg, sizeof msg, "host %s appears again (first on line %zu)",
					 row[i], c->lines[r]);
				rc = PW_ERR_PARSE;
			}
		}
		if (!rc)
			continue;
		c->nrows--; /* left out */
		for (size_t k = 0; k < c->ncols; k++) {
			free(row[k]);
			row[k] = NULL;
		}
		return bad_row(s, x, rc, msg, err);
	}
	return PW_OK;
}

static pw_err end_record(struct csv_state *s, pw_error *err)
{
	/* Blank lines carry no row. */
	if (s->n == 1 && !s->rec[0].quoted && !*s->rec[0].text)
		return PW_OK;
	return s->header_done ? take_row(s, err) : take_header(s, err);
}

/* Reads one field starting at data[*i]; `line` and `ls` track the line
 * number and the offset where that line starts. */
static pw_err read_field(struct csv_state *s, const char *data, size_t len, size_t *i,
			 size_t *line, size_t *ls, pw_buf *b, pw_error *err)
{
	size_t p = *i;
	if (p < len && data[p] == '"') {
		size_t l0 = *line, c0 = p - *ls + 1;
		for (p++;; p++) {
			if (p >= len)
				return at(s, l0, c0, err, PW_ERR_PARSE,
					  "this quoted field never ends; a closing '\"' is missing");
			if (data[p] == '"') {
				if (p + 1 < len && data[p + 1] == '"') {
					p++;
				} else {
					p++;
					break;
				}
			} else if (data[p] == '\n') {
				(*line)++;
				*ls = p + 1;
			} else if (data[p] == '\0') {
				break;
			}
			if (pw_buf_putc(b, data[p]))
				return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
		if (p < len && data[p] != ',' && data[p] != '\n' &&
		    !(data[p] == '\r' && p + 1 < len && data[p + 1] == '\n'))
			return at(s, *line, p - *ls + 1, err, PW_ERR_PARSE,
				  "text after a closing quote; inside a quoted field write a quote "
				  "as \"\"");
	} else {
		for (; p < len && data[p] != ',' && data[p] != '\n' && data[p] != '\r' &&
		       data[p] != '"' && data[p] != '\0'; p++)
			if (pw_buf_putc(b, data[p]))
				return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		if (p < len && data[p] == '"')
			return at(s, *line, p - *ls + 1, err, PW_ERR_PARSE,
				  "a quote inside an unquoted field; quote the whole field and "
				  "write the quote as \"\"");
		if (p < len && data[p] == '\r' && !(p + 1 < len && data[p + 1] == '\n'))
			return at(s, *line, p - *ls + 1, err, PW_ERR_PARSE,
				  "a carriage return not followed by a line feed");
	}
	if (p < len && data[p] == '\0')
		return at(s, *line, p - *ls + 1, err, PW_ERR_PARSE,
			  "a NUL byte; this is not a text file");
	*i = p;
	return PW_OK;
}

static pw_err csv_scan(struct csv_state *s, const char *data, size_t len, pw_error *err)
{
	size_t i = 0, line = 1, ls = 0;
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		i = ls = 3; /* a UTF-8 byte order mark, as spreadsheets write it */
	pw_buf b = PW_BUF_INIT;
	pw_err rc = PW_OK;
	for (;;) {
		size_t max = s->header_done ? s->out->ncols : PW_HF__EDITABLE;
		struct cell x = {NULL, line, i - ls + 1, i < len && data[i] == '"'};
		pw_buf_reset(&b);
		rc = read_field(s, data, len, &i, &line, &ls, &b, err);
		if (rc)
			break;
		if (s->n == max) {
			rc = at(s, x.line, x.col, err, PW_ERR_PARSE,
				s->header_done ? "more fields than the header has columns"
					       : "more columns than a host has fields");
			break;
		}
		x.text = strdup(pw_buf_str(&b));
		if (!x.text) {
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
			break;
		}
		s->rec[s->n++] = x;
		if (i < len && data[i] == ',') {
			i++;
			continue;
		}
		bool eof = i >= len;
		if (!eof) {
			i += data[i] == '\r' ? 2 : 1;
			line++;
			ls = i;
		}
		rc = end_record(s, err);
		rec_clear(s);
		if (rc || i >= len)
			break;
	}
	rec_clear(s);
	pw_buf_release(&b);
	if (!rc && !s->header_done)
		rc = at(s, 1, 1, err, PW_ERR_PARSE,
			"the file is empty; its first row must name the columns (hostname, ...)");
	if (!rc && s->nbad > 1 && err) {
		char first[PW_ERROR_MSG_MAX];
		snprintf(first, sizeof first, "%s", err->msg);
		bool one = s->nbad == 2;
		pw_error_set(err, s->bad, "%s; %zu more bad row%s, on line%s %s%s", first,
			     s->nbad - 1, one ? "" : "s", one ? "" : "s", s->more + 2,
			     s->nbad > BAD_LINES_LISTED + 1 ? " and later" : "");
	}
	return rc ? rc : s->bad;
}

pw_err pw_host_csv_parse(const char *name, const char *data, size_t len, pw_host_csv *out,
			 pw_error *err)
{
	struct csv_state s = {name ? name : "<csv>", out, false, {{NULL, 0, 0, false}}, 0,
			      PW_OK, 0, ""};
	pw_err rc = csv_scan(&s, data, len, err);
	if (rc)
		pw_host_csv_release(out);
	return rc;
}

struct import {
	const char *actor, *name;
	const pw_host_csv *csv;
	pw_host_import_stats st;
};

static pw_err import_txn(pw_db *db, void *arg, pw_error *err)
{
	struct import *im = arg;
	const pw_host_csv *c = im->csv;
	size_t hcol = 0;
	while (c->cols[hcol] != PW_HF_HOSTNAME)
		hcol++;
	pw_err rc = PW_OK;
	for (size_t r = 0; r < c->nrows && !rc; r++) {
		char **row = c->cells + r * c->ncols;
		struct change ch = {{false}, {NULL}};
		for (size_t i = 0; i < c->ncols; i++) {
			ch.set[c->cols[i]] = true;
			ch.val[c->cols[i]] = row[i]; /* borrowed: not released */
		}
		pw_host old = PW_HOST_INIT;
		rc = get_one(db, false, 0, row[hcol], &old, err);
		bool exists = !rc, changed = false;
		int64_t id = 0;
		if (rc == PW_ERR_NOTFOUND)
			rc = PW_OK;
		if (!rc)
			rc = write_host(db, im->actor, "host.import", exists ? &old : NULL, &ch, &id,
					&changed, err);
		pw_host_release(&old);
		if (rc) {
			pw_error_prefix(err, "%s:%zu: host %s: ", im->name, c->lines[r], row[hcol]);
			break;
		}
		im->st.rows++;
		if (!exists)
			im->st.created++;
		else if (changed)
			im->st.updated++;
		else
			im->st.unchanged++;
	}
	return rc;
}

pw_err pw_host_import_csv(pw_db *db, const char *actor, const char *name, const char *data,
			  size_t len, pw_host_import_stats *stats, pw_error *err)
{
	pw_host_csv csv = PW_HOST_CSV_INIT;
	struct import im = {actor, name ? name : "<csv>", &csv, {0, 0, 0, 0}};
	pw_err rc = pw_host_csv_parse(im.name, data, len, &csv, err);
	if (!rc)
		rc = pw_in_write_txn(db, import_txn, &im, err);
	pw_host_csv_release(&csv);
	if (stats)
		*stats = rc ? (pw_host_import_stats){0, 0, 0, 0} : im.st;
	return rc;
}

static pw_err csv_field(pw_buf *out, const char *v)
{
	if (!v)
		return PW_OK;
	if (!strpbrk(v, ",\"\r\n") && v[0] != ' ' && v[strlen(v) - 1] != ' ')
		return pw_buf_puts(out, v);
	pw_err rc = pw_buf_putc(out, '"');
	for (const char *p = v; *p && !rc; p++)
		rc = *p == '"' ? pw_buf_puts(out, "\"\"") : pw_buf_putc(out, *p);
	return rc ? rc : pw_buf_putc(out, '"');
}

pw_err pw_host_export_csv(pw_db *db, const pw_host_filter *f, pw_buf *out, pw_error *err)
{
	pw_host_list l = PW_HOST_LIST_INIT;
	pw_err rc = pw_host_list_query(db, f, &l, err);
	for (int k = 0; k < PW_HF__EDITABLE && !rc; k++)
		rc = pw_buf_printf(out, "%s%s", k ? "," : "", fields[k].name);
	if (!rc)
		rc = pw_buf_puts(out, "\r\n");
	for (size_t i = 0; i < l.n && !rc; i++) {
		for (int k = 0; k < PW_HF__EDITABLE && !rc; k++) {
			rc = k ? pw_buf_putc(out, ',') : PW_OK;
			/* Dates go out as entered: a day stays a day. */
			const char *v = l.v[i].f[k];
			if (!rc && k == PW_HF_LAST_PATCHED && v && !strcmp(v + 10, "T00:00:00.000Z"))
				rc = pw_buf_append(out, v, 10);
			else if (!rc)
				rc = csv_field(out, v);
		}
		if (!rc)
			rc = pw_buf_puts(out, "\r\n");
	}
	if (rc == PW_ERR_NOMEM)
		pw_error_set(err, rc, "exporting hosts: out of memory");
	pw_host_list_release(&l);
	return rc;
}

/* ---- findings -------------------------------------------------------- */

struct open_finding {
	int64_t id;
	char *package, *advisory;
	char *cur[4]; /* installed, fixed, priority, cves */
};

struct replace {
	int64_t host_id;
	const pw_host_finding *v;
	size_t n;
	pw_host_findings_delta d;
};

static int by_key(const void *a, const void *b)
{
	const pw_host_finding *x = *(const pw_host_finding *const *)a;
	const pw_host_finding *y = *(const pw_host_finding *const *)b;
	int c = strcmp(x->package, y->package);
	return c ? c : strcmp(x->advisory, y->advisory);
}

static pw_err finding_check(const pw_host_finding *f, size_t i, pw_error *err)
{
	if (!f->package || !*f->package || !f->advisory || !*f->advisory || !f->installed ||
	    !f->fixed || !f->cves)
		return pw_error_set(err, PW_ERR_INVALID,
				    "finding %zu: package, advisory, installed, fixed and cves are "
				    "required", i + 1);
	if ((unsigned)f->priority >= PW_HOST_PRIO__COUNT)
		return pw_error_set(err, PW_ERR_INVALID, "finding %zu (%s %s): unknown priority %d",
				    i + 1, f->package, f->advisory, (int)f->priority);
	return PW_OK;
}

static pw_err load_open(pw_db *db, int64_t host_id, struct open_finding **out, size_t *n,
			pw_error *err)
{
	pw_stmt *st = NULL;
	size_t cap = 0;
	pw_err rc = pw_sql(db, "SELECT id, package, advisory, installed, fixed, priority, cves"
			       " FROM findings"
			       " WHERE host_id = ? AND fixed_at IS NULL", &st, err, "i", host_id);
	while (!rc) {
		bool row = false, oom = false;
		rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			break;
		struct open_finding *v = pw_grow(*out, &cap, *n, sizeof *v);
		if (!v) {
			pw_stmt_reset(st);
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
		*out = v;
		v[*n] = (struct open_finding){pw_stmt_int(st, 0), pw_col_dup(st, 1, &oom),
					      pw_col_dup(st, 2, &oom), {NULL}};
		for (int k = 0; k < 4; k++)
			v[*n].cur[k] = pw_col_dup(st, 3 + k, &oom);
		(*n)++;
		if (oom) {
			pw_stmt_reset(st);
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
	}
	return rc;
}

static pw_err replace_txn(pw_db *db, void *arg, pw_error *err)
{
	struct replace *r = arg;
	struct open_finding *open = NULL;
	size_t nopen = 0;
	const pw_host_finding **sorted = r->n ? malloc(r->n * sizeof *sorted) : NULL;
	bool *kept = r->n ? calloc(r->n, sizeof *kept) : NULL;
	pw_err rc = r->n && (!sorted || !kept) ? pw_error_set(err, PW_ERR_NOMEM, "out of memory")
					       : PW_OK;
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	pw_stmt *st = NULL;
	bool row = false;
	if (!rc)
		rc = pw_sql(db, "SELECT id FROM hosts WHERE id = ?", &st, err, "i", r->host_id);
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	if (!rc && !row)
		rc = pw_error_set(err, PW_ERR_NOTFOUND, "no host with id %" PRId64, r->host_id);
	if (st)
		pw_stmt_reset(st);
	for (size_t i = 0; i < r->n && !rc; i++) {
		rc = finding_check(&r->v[i], i, err);
		sorted[i] = &r->v[i];
	}
	if (!rc && r->n) {
		qsort(sorted, r->n, sizeof *sorted, by_key);
		for (size_t i = 1; i < r->n && !rc; i++)
			if (!by_key(&sorted[i - 1], &sorted[i]))
				rc = pw_error_set(err, PW_ERR_INVALID,
						  "finding %s %s is listed twice", sorted[i]->package,
						  sorted[i]->advisory);
	}
	if (!rc)
		rc = load_open(db, r->host_id, &open, &nopen, err);
	for (size_t i = 0; i < nopen && !rc; i++) {
		pw_host_finding key = {open[i].package, open[i].advisory, NULL, NULL, 0, NULL};
		const pw_host_finding *kp = &key;
		const pw_host_finding **hit =
			r->n ? bsearch(&kp, sorted, r->n, sizeof *sorted, by_key) : NULL;
		if (hit) {
			kept[hit - sorted] = true;
			r->d.kept++;
			const pw_host_finding *h = *hit;
			const char *got[4] = {h->installed, h->fixed, pw_host_prio_name(h->priority),
					       h->cves};
			int k = 0;
			while (k < 4 && same(got[k], open[i].cur[k]))
				k++;
			if (k == 4)
				continue; /* most rescans change nothing: write nothing */
			rc = pw_sql(db, "UPDATE findings SET installed = ?, fixed = ?, priority = ?,"
					" cves = ? WHERE id = ?", &st, err, "tttti",
				    (*hit)->installed, (*hit)->fixed,
				    pw_host_prio_name((*hit)->priority), (*hit)->cves, open[i].id);
		} else {
			r->d.fixed++;
			rc = pw_sql(db, "UPDATE findings SET fixed_at = ? WHERE id = ?", &st, err, "ti",
				    now, open[i].id);
		}
		if (!rc)
			rc = pw_stmt_exec(st, err);
	}
	for (size_t i = 0; i < r->n && !rc; i++) {
		if (kept[i])
			continue;
		const pw_host_finding *f = sorted[i];
		rc = pw_sql(db, "INSERT INTO findings (host_id, package, advisory, installed, fixed,"
				" priority, cves, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			    &st, err, "ittttttt", r->host_id, f->package, f->advisory,
			    f->installed, f->fixed, pw_host_prio_name(f->priority), f->cves, now);
		if (!rc)
			rc = pw_stmt_exec(st, err);
		r->d.opened++;
	}
	for (size_t i = 0; i < nopen; i++) {
		free(open[i].package);
		free(open[i].advisory);
		for (int k = 0; k < 4; k++)
			free(open[i].cur[k]);
	}
	free(open);
	free(sorted);
	free(kept);
	return rc;
}

pw_err pw_host_findings_replace(pw_db *db, int64_t host_id, const pw_host_finding *v, size_t n,
				pw_host_findings_delta *delta, pw_error *err)
{
	struct replace r = {host_id, v, n, {0, 0, 0}};
	pw_err rc = pw_in_write_txn(db, replace_txn, &r, err);
	if (delta)
		*delta = rc ? (pw_host_findings_delta){0, 0, 0} : r.d;
	return rc;
}

pw_err pw_host_findings_count(pw_db *db, int64_t host_id, int64_t counts[PW_HOST_PRIO__COUNT],
			      pw_error *err)
{
	for (int p = 0; p < PW_HOST_PRIO__COUNT; p++)
		counts[p] = 0;
	pw_stmt *st = NULL;
	pw_err rc = host_id ? pw_sql(db, "SELECT priority, COUNT(*) FROM findings"
					 " WHERE host_id = ? AND fixed_at IS NULL GROUP BY priority",
				     &st, err, "i", host_id)
			    : pw_sql(db, "SELECT priority, COUNT(*) FROM findings"
					 " WHERE fixed_at IS NULL GROUP BY priority",
				     &st, err, "");
	while (!rc) {
		bool row = false;
		rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			break;
		pw_host_prio p;
		if (pw_host_prio_parse(pw_stmt_text(st, 0), &p))
			counts[p] = pw_stmt_int(st, 1);
	}
	return rc;
}

/* ---- recomputing findings ---------------------------------------------- */

/* Copies the first column of every row of `st` (text or integer) into
 * an array, so nothing is left reading while the findings are written. */
struct column_copy {
	char **text;
	int64_t *num;
	size_t n, cap;
};

static void column_copy_release(struct column_copy *c)
{
	for (size_t i = 0; c->text && i < c->n; i++)
		free(c->text[i]);
	free(c->text);
	free(c->num);
}

static pw_err copy_column(pw_stmt *st, bool text, struct column_copy *out, pw_error *err)
{
	pw_err rc = PW_OK;
	while (!rc) {
		bool row = false, oom = false;
		rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			break;
		size_t cap = out->cap;
		if (text) {
			char **v = pw_grow(out->text, &cap, out->n, sizeof *v);
			if (v) {
				out->text = v;
				v[out->n] = pw_col_dup(st, 0, &oom);
			}
			oom |= !v;
		} else {
			int64_t *v = pw_grow(out->num, &cap, out->n, sizeof *v);
			if (v) {
				out->num = v;
				v[out->n] = pw_stmt_int(st, 0);
			}
			oom |= !v;
		}
		out->cap = cap;
		if (oom) {
			pw_stmt_reset(st);
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
		out->n++;
	}
	return rc;
}

/* Scans the inventory `hash` and gives its findings to `hosts`. */
static pw_err recompute_hash(pw_db *db, const char *hash, const char *exposure,
			     const int64_t *hosts, size_t nhosts, pw_host_scan_fn scan, void *ctx,
			     pw_host_recompute_stats *st, pw_error *err)
{
	pw_stmt *q = NULL;
	bool row = false;
	char *json = NULL;
	pw_err rc = pw_sql(db, "SELECT json FROM inventories WHERE hash = ?", &q, err, "t", hash);
	if (!rc)
		rc = pw_stmt_step(q, &row, err);
	if (!rc && !row)
		rc = pw_error_set(err, PW_ERR_NOTFOUND, "inventory %.64s is not stored", hash);
	if (!rc && !(json = strdup(pw_stmt_text(q, 0) ? pw_stmt_text(q, 0) : "")))
		rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (q)
		pw_stmt_reset(q);
	const pw_host_finding *v = NULL;
	size_t n = 0;
	if (!rc)
		rc = scan(ctx, hash, json, exposure, &v, &n, err);
	if (!rc)
		st->inventories++;
	for (size_t i = 0; i < nhosts && !rc; i++) {
		pw_host_findings_delta d;
		rc = pw_host_findings_replace(db, hosts[i], v, n, &d, err);
		if (rc)
			break;
		st->hosts++;
		st->delta.opened += d.opened;
		st->delta.kept += d.kept;
		st->delta.fixed += d.fixed;
	}
	free(json);
	return rc;
}

pw_err pw_host_recompute_findings(pw_db *db, pw_host_scan_fn scan, void *ctx,
				  pw_host_recompute_stats *stats, pw_error *err)
{
	pw_host_recompute_stats st = {0, 0, 0, {0, 0, 0}};
	struct column_copy hashes = {NULL, NULL, 0, 0};
	pw_stmt *q = NULL;
	pw_err rc = pw_sql(db, "SELECT DISTINCT inventory_hash || ' ' || COALESCE(exposure, '')"
			       " FROM hosts WHERE inventory_hash IS NOT NULL ORDER BY 1",
			   &q, err, "");
	if (!rc)
		rc = copy_column(q, true, &hashes, err);
	for (size_t i = 0; i < hashes.n && !rc; i++) {
		/* "HASH EXPOSURE": hashes are hex, so the first space splits. */
		char *exposure = strchr(hashes.text[i], ' ');
		*exposure++ = '\0';
		struct column_copy ids = {NULL, NULL, 0, 0};
		rc = pw_sql(db, "SELECT id FROM hosts WHERE inventory_hash = ?"
				" AND COALESCE(exposure, '') = ? ORDER BY id", &q, err, "tt",
			    hashes.text[i], exposure);
		if (!rc)
			rc = copy_column(q, false, &ids, err);
		if (!rc)
			rc = recompute_hash(db, hashes.text[i], *exposure ? exposure : NULL, ids.num,
					    ids.n, scan, ctx, &st, err);
		if (rc == PW_ERR_UNSUPPORTED) {
			st.skipped += ids.n;
			rc = pw_error_set(err, PW_OK, "%s", "");
		}
		column_copy_release(&ids);
	}
	column_copy_release(&hashes);
	if (stats)
		*stats = st;
	return rc;
}

pw_err pw_host_recompute_host(pw_db *db, int64_t host_id, pw_host_scan_fn scan, void *ctx,
			      pw_host_findings_delta *delta, pw_error *err)
{
	pw_stmt *q = NULL;
	bool row = false;
	char *hash = NULL;
	char *exposure = NULL;
	bool oom = false;
	pw_err rc = pw_sql(db, "SELECT inventory_hash, exposure FROM hosts WHERE id = ?", &q, err,
			   "i", host_id);
	if (!rc)
		rc = pw_stmt_step(q, &row, err);
	if (!rc && !row)
		rc = pw_error_set(err, PW_ERR_NOTFOUND, "no host with id %" PRId64, host_id);
	if (!rc && pw_stmt_is_null(q, 0))
		rc = pw_error_set(err, PW_ERR_NOTFOUND,
				  "host %" PRId64 " has no inventory yet: its agent has not sent one",
				  host_id);
	if (!rc) {
		hash = pw_col_dup(q, 0, &oom);
		exposure = pw_col_dup(q, 1, &oom);
		if (oom)
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	if (q)
		pw_stmt_reset(q);
	pw_host_recompute_stats st = {0, 0, 0, {0, 0, 0}};
	if (!rc)
		rc = recompute_hash(db, hash, exposure, &host_id, 1, scan, ctx, &st, err);
	free(hash);
	free(exposure);
	if (delta)
		*delta = st.delta;
	return rc;
}

/* ---- the matcher behind pw_host_scan_fn ----------------------------- */

static void matcher_clear(pw_host_matcher *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->cves[i]);
	free(m->cves);
	free(m->v);
	m->cves = NULL;
	m->v = NULL;
	m->n = 0;
	pw_scan_result_release(&m->res);
	m->res = (pw_scan_result)PW_SCAN_RESULT_INIT;
	pw_inventory_release(&m->inv);
	m->inv = (pw_inventory)PW_INVENTORY_INIT;
}

void pw_host_matcher_release(pw_host_matcher *m)
{
	matcher_clear(m);
}

pw_err pw_host_matcher_scan(void *ctx, const char *inventory_hash, const char *inventory_json,
			    const char *exposure, const pw_host_finding **v, size_t *n,
			    pw_error *err)
{
	pw_host_matcher *m = ctx;
	matcher_clear(m);
	pw_scan_host host = {PW_EXPOSURE_INTERNAL, NULL};
	if (exposure && !strcmp(exposure, "internet"))
		host.exposure = PW_EXPOSURE_INTERNET;
	else if (exposure && !strcmp(exposure, "isolated"))
		host.exposure = PW_EXPOSURE_ISOLATED;
	cJSON *j = cJSON_Parse(inventory_json);
	pw_err rc = j ? pw_inventory_from_json(&m->inv, j, err)
		      : pw_error_set(err, PW_ERR_PARSE, "not JSON");
	cJSON_Delete(j);
	if (!rc)
		rc = pw_scan_inventory(m->idx, &m->inv, &host, m->policy, &m->res, err);
	size_t nf = rc ? 0 : m->res.n_findings;
	if (!rc && nf) {
		m->v = calloc(nf, sizeof *m->v);
		m->cves = calloc(nf, sizeof *m->cves);
		if (!m->v || !m->cves)
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < nf && !rc; i++) {
		const pw_finding *f = &m->res.findings[i];
		pw_buf cves = PW_BUF_INIT;
		for (size_t k = 0; k < f->n_cves && !rc; k++)
			rc = pw_buf_printf(&cves, "%s%s", k ? "," : "", f->cves[k]->id);
		m->cves[i] = rc ? NULL : pw_buf_detach(&cves);
		pw_buf_release(&cves);
		if (rc || !m->cves[i]) {
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
			break;
		}
		m->n++;
		pw_host_prio p = PW_HOST_PRIO_NORMAL;
		pw_host_prio_parse(pw_priority_name(f->priority), &p);
		m->v[i] = (pw_host_finding){f->package, f->adv->id, f->installed, f->fixed, p,
					    m->cves[i]};
	}
	if (rc) {
		matcher_clear(m);
		pw_error_prefix(err, "inventory %.64s: ", inventory_hash);
		return rc;
	}
	*v = m->v;
	*n = m->n;
	return PW_OK;
}
