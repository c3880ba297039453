/* OSV records (https://ossf.github.io/osv-schema/), one JSON object per
 * buffer, as AlmaLinux, Rocky, Red Hat, SUSE, Ubuntu, Debian and Alpine
 * publish them.
 *
 * Only affected[] entries of a distro patchwarden handles produce rows;
 * entries of other ecosystems (PyPI, Go, GIT-only entries without a
 * package) are skipped without a warning, and a record left with no row
 * (or a withdrawn one) emits nothing: the caller counts it as not
 * applicable. Every ECOSYSTEM range of an entry is its own row, so module
 * streams (".module_el8.5.0+..." next to ".module_el8.4.0+...") all reach
 * the matcher.
 *
 * Schema checks follow validation/schema.json where this importer relies
 * on a field: a record-level violation (no id, bad modified, a list of
 * the wrong type) fails the record; a violation inside one affected[]
 * entry skips that entry with a warning. References and credits are not
 * read and so not checked, and the id prefix list is not enforced
 * because new databases join it every few months. */
#include "feeds-internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/ecosystem.h"
#include "patchwarden/feed.h"
#include "patchwarden/grow.h"

/* One distinct ecosystem string of the record and its normalised name. */
typedef struct eco_slot {
	const char *raw; /* borrowed from the JSON tree */
	pw_err rc;       /* PW_OK, PW_ERR_UNSUPPORTED (not a distro) or why the release is bad */
	bool by_source;  /* the distro's data is per source package */
	char norm[PW_ECOSYSTEM_MAX];
} eco_slot;

/* Only the latest slots are searched: consecutive entries share their
 * ecosystem, and a hostile record with thousands of distinct ones must
 * not make the lookup quadratic. */
#define ECO_SEARCH 32

typedef struct osv_ctx {
	const char *name;
	const pw_feed_sink *sink;
	pw_affected *rows;
	size_t *row_eco; /* index into ecos; slots move when ecos grows */
	size_t n_rows, cap_rows, cap_row_eco;
	eco_slot *ecos;
	size_t n_ecos, cap_ecos;
	const char **cves;
	size_t n_cves, cap_cves;
	pw_severity severity;
	const char *cvss;
	int cvss_rank;
} osv_ctx;

static void ctx_release(osv_ctx *c)
{
	free(c->rows);
	free(c->row_eco);
	free(c->ecos);
	free(c->cves);
}

static const char *fieldf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static const char *fieldf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return buf;
}

static void warn(const osv_ctx *c, const char *field, const char *msg)
{
	if (!c->sink->warn)
		return;
	char where[1024];
	snprintf(where, sizeof where, "%s: %s", c->name, field);
	c->sink->warn(c->sink->ctx, where, msg);
}

static pw_err bad(const osv_ctx *c, pw_error *err, const char *field, const char *what)
{
	return pw_error_set(err, PW_ERR_PARSE, "%s: %s: %s", c->name, field, what);
}

static pw_err nomem(const osv_ctx *c, pw_error *err)
{
	return pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", c->name);
}

static const cJSON *get(const cJSON *obj, const char *key)
{
	return pw_feed_json_get(obj, key);
}

/* RFC 3339 date-time as the schema's "timestamp":
 * YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). */
static bool is_timestamp(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	for (size_t k = 0; pat[k]; k++)
		if (pat[k] == 'd' ? !isdigit((unsigned char)s[k]) : s[k] != pat[k])
			return false;
	s += sizeof pat - 1;
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'Z')
		return s[1] == '\0';
	return (*s == '+' || *s == '-') && isdigit((unsigned char)s[1]) &&
	       isdigit((unsigned char)s[2]) && s[3] == ':' && isdigit((unsigned char)s[4]) &&
	       isdigit((unsigned char)s[5]) && s[6] == '\0';
}

/* The CVE an identifier stands for: a CVE id itself, or a distro's record
 * of one ("UBUNTU-CVE-2021-3782", "DEBIAN-CVE-2024-1234"). */
static const char *cve_of(const char *s)
{
	if (pw_feed_is_cve(s, strlen(s)))
		return s;
	const char *p = strstr(s, "-CVE-");
	return p && pw_feed_is_cve(p + 1, strlen(p + 1)) ? p + 1 : NULL;
}

static pw_err add_cve(osv_ctx *c, const char *s, pw_error *err)
{
	const char *cve = cve_of(s);
	if (!cve)
		return PW_OK;
	const char **cves = pw_grow(c->cves, &c->cap_cves, c->n_cves, sizeof *cves);
	if (!cves)
		return nomem(c, err);
	c->cves = cves;
	c->cves[c->n_cves++] = cve;
	return PW_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void unique_cves(osv_ctx *c)
{
	if (c->n_cves < 2)
		return;
	qsort(c->cves, c->n_cves, sizeof *c->cves, cmp_str);
	size_t w = 1;
	for (size_t r = 1; r < c->n_cves; r++)
		if (strcmp(c->cves[r], c->cves[w - 1]) != 0)
			c->cves[w++] = c->cves[r];
	c->n_cves = w;
}

static void consider_severity(osv_ctx *c, const char *text)
{
	pw_severity s = pw_severity_from_text(text);
	if (s > c->severity)
		c->severity = s;
}

/* AlmaLinux and Rocky put the Red Hat rating in front of the summary:
 * "Important: kernel security update". Only a word followed by ':'
 * counts, so "Low-level ..." is not taken for a rating. */
static void consider_summary(osv_ctx *c, const char *summary)
{
	size_t n = 0;
	while (isalpha((unsigned char)summary[n]))
		n++;
	if (n && summary[n] == ':')
		consider_severity(c, summary);
}

/* Whether a severity[] list follows the schema; *bad_at names the
 * offending element, SIZE_MAX when the list itself is not a list. */
static bool severity_list_ok(const cJSON *list, size_t *bad_at)
{
	*bad_at = SIZE_MAX;
	if (!list || cJSON_IsNull(list))
		return true;
	if (!cJSON_IsArray(list))
		return false;
	size_t k = 0;
	for (const cJSON *s = list->child; s; s = s->next, k++) {
		if (!cJSON_IsString(get(s, "type")) || !cJSON_IsString(get(s, "score"))) {
			*bad_at = k;
			return false;
		}
	}
	return true;
}

/* Takes the ratings of a list that passed severity_list_ok(): the CVSS
 * vector of the highest version, and Ubuntu's own priority word. */
static void take_severity_list(osv_ctx *c, const cJSON *list)
{
	for (const cJSON *s = list ? list->child : NULL; s; s = s->next) {
		const char *type = get(s, "type")->valuestring,
			   *score = get(s, "score")->valuestring;
		int rank = strcmp(type, "CVSS_V2") == 0   ? 2
			   : strcmp(type, "CVSS_V3") == 0 ? 3
			   : strcmp(type, "CVSS_V4") == 0 ? 4
							  : 0;
		if (rank > c->cvss_rank) {
			c->cvss_rank = rank;
			c->cvss = score;
		} else if (strcmp(type, "Ubuntu") == 0) {
			consider_severity(c, score);
		}
	}
}

static void warn_severity(const osv_ctx *c, const char *at, size_t bad_at)
{
	char fb[128];
	if (bad_at == SIZE_MAX)
		warn(c, fieldf(fb, sizeof fb, "%s", at), "not a list");
	else
		warn(c, fieldf(fb, sizeof fb, "%s[%zu]", at, bad_at),
		     "needs 'type' and 'score' strings");
}

/* Index of the ecosystem slot for `raw`, classified on first sight. */
static pw_err eco_slot_for(osv_ctx *c, const char *raw, size_t *out, pw_error *err)
{
	size_t lo = c->n_ecos > ECO_SEARCH ? c->n_ecos - ECO_SEARCH : 0;
	for (size_t k = c->n_ecos; k-- > lo;) {
		if (strcmp(c->ecos[k].raw, raw) == 0) {
			*out = k;
			return PW_OK;
		}
	}
	eco_slot *ecos = pw_grow(c->ecos, &c->cap_ecos, c->n_ecos, sizeof *ecos);
	if (!ecos)
		return nomem(c, err);
	c->ecos = ecos;
	eco_slot *slot = &c->ecos[c->n_ecos];
	slot->raw = raw;
	slot->rc = pw_ecosystem_from_osv(raw, slot->norm, NULL);
	slot->by_source = slot->rc == PW_OK && pw_ecosystem_by_source(slot->norm);
	*out = c->n_ecos++;
	return PW_OK;
}

static pw_err add_row(osv_ctx *c, size_t eco, const char *package, bool by_source,
		      pw_fix_state state, const char *fixed, const char *note, pw_error *err)
{
	pw_affected *rows = pw_grow(c->rows, &c->cap_rows, c->n_rows, sizeof *rows);
	if (rows)
		c->rows = rows;
	size_t *row_eco = pw_grow(c->row_eco, &c->cap_row_eco, c->n_rows, sizeof *row_eco);
	if (row_eco)
		c->row_eco = row_eco;
	if (!rows || !row_eco)
		return nomem(c, err);
	c->rows[c->n_rows] = (pw_affected){
		.ecosystem = NULL, /* set from row_eco once the slots stop moving */
		.package = package,
		.by_source = by_source,
		.state = state,
		.fixed = fixed,
		.note = note,
	};
	c->row_eco[c->n_rows++] = eco;
	return PW_OK;
}

static const char *const event_kinds[] = {"introduced", "fixed", "last_affected", "limit"};
#define N_EVENT_KINDS (sizeof event_kinds / sizeof event_kinds[0])

/* The one event kind an events[] element holds (schema: oneOf), or -1. */
static int event_kind(const cJSON *ev, const char **value)
{
	if (!cJSON_IsObject(ev))
		return -1;
	int kind = -1;
	for (const cJSON *m = ev->child; m; m = m->next) {
		for (size_t k = 0; k < N_EVENT_KINDS; k++) {
			if (strcmp(m->string, event_kinds[k]) != 0)
				continue;
			if (kind >= 0 || !cJSON_IsString(m))
				return -1;
			kind = (int)k;
			*value = m->valuestring;
		}
	}
	return kind;
}

enum { EV_INTRODUCED = 0, EV_FIXED = 1, EV_LAST_AFFECTED = 2 };

/* Checks one range and, when it is an ECOSYSTEM range, adds its rows.
 * *ok = false (with a warning) when it breaks the schema; the caller
 * then drops the whole entry. */
static pw_err take_range(osv_ctx *c, const cJSON *r, size_t i, size_t j, size_t eco,
			 const char *package, bool by_source, const char *note, bool *is_eco,
			 bool *ok, pw_error *err)
{
	char fb[128];
	*ok = false;
	const cJSON *type = get(r, "type"), *events = get(r, "events");
	if (!cJSON_IsObject(r)) {
		warn(c, fieldf(fb, sizeof fb, "affected[%zu].ranges[%zu]", i, j), "not an object");
		return PW_OK;
	}
	if (!cJSON_IsString(type) ||
	    (strcmp(type->valuestring, "ECOSYSTEM") != 0 &&
	     strcmp(type->valuestring, "SEMVER") != 0 && strcmp(type->valuestring, "GIT") != 0)) {
		warn(c, fieldf(fb, sizeof fb, "affected[%zu].ranges[%zu].type", i, j),
		     "missing or not one of ECOSYSTEM, SEMVER, GIT");
		return PW_OK;
	}
	if (!cJSON_IsArray(events) || !events->child) {
		warn(c, fieldf(fb, sizeof fb, "affected[%zu].ranges[%zu].events", i, j),
		     "missing, empty or not a list");
		return PW_OK;
	}
	size_t count[N_EVENT_KINDS] = {0};
	size_t k = 0;
	for (const cJSON *ev = events->child; ev; ev = ev->next, k++) {
		const char *v = NULL;
		int kind = event_kind(ev, &v);
		if (kind < 0) {
			warn(c,
			     fieldf(fb, sizeof fb, "affected[%zu].ranges[%zu].events[%zu]", i, j,
				    k),
			     "must be an object with exactly one of introduced, fixed, "
			     "last_affected, "
			     "limit as a string");
			return PW_OK;
		}
		if (kind == EV_FIXED && !*v) {
			warn(c,
			     fieldf(fb, sizeof fb, "affected[%zu].ranges[%zu].events[%zu].fixed", i,
				    j, k),
			     "empty version");
			return PW_OK;
		}
		count[kind]++;
	}
	if (!count[EV_INTRODUCED]) {
		warn(c, fieldf(fb, sizeof fb, "affected[%zu].ranges[%zu].events", i, j),
		     "no 'introduced' event (required by the OSV schema)");
		return PW_OK;
	}
	if (count[EV_FIXED] && count[EV_LAST_AFFECTED]) {
		warn(c, fieldf(fb, sizeof fb, "affected[%zu].ranges[%zu].events", i, j),
		     "'fixed' and 'last_affected' together (the OSV schema forbids it)");
		return PW_OK;
	}
	*ok = true;
	*is_eco = strcmp(type->valuestring, "ECOSYSTEM") == 0;
	if (!*is_eco)
		return PW_OK;
	/* A range that is never fixed (introduced alone, or up to
	 * last_affected) leaves the package affected with no fix. */
	if (!count[EV_FIXED])
		return add_row(c, eco, package, by_source, PW_FIX_UNFIXED, NULL, note, err);
	for (const cJSON *ev = events->child; ev; ev = ev->next) {
		const char *v = NULL;
		if (event_kind(ev, &v) == EV_FIXED) {
			pw_err rc = add_row(c, eco, package, by_source, PW_FIX_FIXED, v, note, err);
			if (rc)
				return rc;
		}
	}
	return PW_OK;
}

/* purl qualifiers "arch=source" (deb, apk) and "arch=src" (rpm) mark a
 * source package whatever the distro's default is: Alpine's OSV names
 * origin packages and says so this way. */
static bool purl_is_source(const char *purl)
{
	const char *q = strchr(purl, '?');
	while (q) {
		q++;
		size_t n = strcspn(q, "&#");
		if ((n == 11 && strncmp(q, "arch=source", 11) == 0) ||
		    (n == 8 && strncmp(q, "arch=src", 8) == 0))
			return true;
		q = strchr(q, '&');
	}
	return false;
}

static pw_err take_affected(osv_ctx *c, const cJSON *a, size_t i, pw_error *err)
{
	char fb[128];
	if (!cJSON_IsObject(a)) {
		warn(c, fieldf(fb, sizeof fb, "affected[%zu]", i), "not an object");
		return PW_OK;
	}
	const cJSON *pkg = get(a, "package");
	if (!pkg)
		return PW_OK; /* GIT-only entry: nothing a package manager installs */
	if (!cJSON_IsObject(pkg)) {
		warn(c, fieldf(fb, sizeof fb, "affected[%zu].package", i), "not an object");
		return PW_OK;
	}
	const cJSON *eco = get(pkg, "ecosystem"), *name = get(pkg, "name"),
		    *purl = get(pkg, "purl");
	if (!cJSON_IsString(eco)) {
		warn(c, fieldf(fb, sizeof fb, "affected[%zu].package.ecosystem", i),
		     "missing or not a string");
		return PW_OK;
	}
	size_t slot = 0;
	pw_err rc = eco_slot_for(c, eco->valuestring, &slot, err);
	if (rc)
		return rc;
	if (c->ecos[slot].rc == PW_ERR_UNSUPPORTED)
		return PW_OK;
	if (c->ecos[slot].rc != PW_OK) {
		pw_error why = PW_ERROR_INIT;
		char norm[PW_ECOSYSTEM_MAX];
		pw_ecosystem_from_osv(eco->valuestring, norm, &why);
		warn(c, fieldf(fb, sizeof fb, "affected[%zu].package.ecosystem", i),
		     pw_error_text(&why));
		return PW_OK;
	}
	if (!cJSON_IsString(name) || !*name->valuestring) {
		warn(c, fieldf(fb, sizeof fb, "affected[%zu].package.name", i),
		     "missing, empty or not a string");
		return PW_OK;
	}
	if (purl && !cJSON_IsString(purl)) {
		warn(c, fieldf(fb, sizeof fb, "affected[%zu].package.purl", i), "not a string");
		return PW_OK;
	}
	static const char *const objects[] = {"ecosystem_specific", "database_specific"};
	for (size_t k = 0; k < 2; k++) {
		const cJSON *o = get(a, objects[k]);
		if (o && !cJSON_IsObject(o)) {
			warn(c, fieldf(fb, sizeof fb, "affected[%zu].%s", i, objects[k]),
			     "not an object");
			return PW_OK;
		}
	}
	size_t bad_at;
	if (!severity_list_ok(get(a, "severity"), &bad_at)) {
		warn_severity(c, fieldf(fb, sizeof fb, "affected[%zu].severity", i), bad_at);
		return PW_OK;
	}
	const cJSON *ranges = get(a, "ranges");
	if (!cJSON_IsArray(ranges)) {
		warn(c, fieldf(fb, sizeof fb, "affected[%zu].ranges", i),
		     ranges ? "not a list"
			    : "missing: without an ECOSYSTEM range there is no fixed version");
		return PW_OK;
	}
	const cJSON *es = get(a, "ecosystem_specific"), *ds = get(a, "database_specific");
	const cJSON *avail = get(es, "availability");
	const char *note = cJSON_IsString(avail) ? avail->valuestring : NULL;
	bool by_source = c->ecos[slot].by_source || (purl && purl_is_source(purl->valuestring));

	size_t first_row = c->n_rows;
	bool any_eco = false;
	size_t j = 0;
	for (const cJSON *r = ranges->child; r; r = r->next, j++) {
		bool ok, is_eco = false;
		rc = take_range(c, r, i, j, slot, name->valuestring, by_source, note, &is_eco, &ok,
				err);
		if (rc)
			return rc;
		if (!ok) {
			c->n_rows = first_row;
			return PW_OK;
		}
		any_eco |= is_eco;
	}
	if (!any_eco) {
		c->n_rows = first_row;
		warn(c, fieldf(fb, sizeof fb, "affected[%zu].ranges", i),
		     "no ECOSYSTEM range: cannot tell the distro's fixed version");
		return PW_OK;
	}
	take_severity_list(c, get(a, "severity"));
	/* Debian rates per release ("urgency"); others use "severity". */
	static const char *const rating_keys[] = {"severity", "urgency"};
	for (size_t k = 0; k < 2; k++) {
		const cJSON *v = get(es, rating_keys[k]);
		if (cJSON_IsString(v))
			consider_severity(c, v->valuestring);
	}
	const cJSON *v = get(ds, "severity");
	if (cJSON_IsString(v))
		consider_severity(c, v->valuestring);
	return PW_OK;
}

/* Fields the record cannot be used without, checked before anything is
 * collected. */
static pw_err check_record(const osv_ctx *c, const cJSON *root, pw_error *err)
{
	if (!cJSON_IsObject(root))
		return bad(c, err, "(top level)", "not a JSON object; an OSV record is one object");
	const cJSON *id = get(root, "id");
	if (!cJSON_IsString(id) || !*id->valuestring)
		return bad(c, err, "id",
			   "missing, empty or not a string (required by the OSV schema)");
	const cJSON *sv = get(root, "schema_version");
	if (sv) {
		const char *s = cJSON_IsString(sv) ? sv->valuestring : "";
		size_t n = strspn(s, "0123456789");
		if (!n || strspn(s + n, "0123456789.") != strlen(s + n))
			return bad(c, err, "schema_version", "not a version string like \"1.6.0\"");
		if (n != 1 || s[0] != '1')
			return pw_error_set(
				err, PW_ERR_UNSUPPORTED,
				"%s: schema_version: %s is not OSV 1.x; this importer reads "
				"1.x records only",
				c->name, s);
	}
	static const char *const stamps[] = {"modified", "published", "withdrawn"};
	for (size_t k = 0; k < 3; k++) {
		const cJSON *t = get(root, stamps[k]);
		if (!t && k == 0)
			return bad(c, err, "modified", "missing (required by the OSV schema)");
		if (t && (!cJSON_IsString(t) || !is_timestamp(t->valuestring)))
			return bad(c, err, stamps[k],
				   "not an RFC 3339 timestamp like \"2024-05-29T23:34:56Z\"");
	}
	static const char *const strings[] = {"summary", "details"};
	for (size_t k = 0; k < 2; k++) {
		const cJSON *t = get(root, strings[k]);
		if (t && !cJSON_IsString(t))
			return bad(c, err, strings[k], "not a string");
	}
	static const char *const lists[] = {"aliases", "related", "upstream"};
	for (size_t k = 0; k < 3; k++) {
		const cJSON *l = get(root, lists[k]);
		if (!l || (k == 0 && cJSON_IsNull(l)))
			continue;
		if (!cJSON_IsArray(l))
			return bad(c, err, lists[k], "not a list of strings");
		size_t n = 0;
		for (const cJSON *s = l->child; s; s = s->next, n++) {
			if (!cJSON_IsString(s)) {
				char fb[64];
				return bad(c, err, fieldf(fb, sizeof fb, "%s[%zu]", lists[k], n),
					   "not a string");
			}
		}
	}
	const cJSON *affected = get(root, "affected");
	if (affected && !cJSON_IsArray(affected) && !cJSON_IsNull(affected))
		return bad(c, err, "affected", "not a list");
	const cJSON *ds = get(root, "database_specific");
	if (ds && !cJSON_IsObject(ds))
		return bad(c, err, "database_specific", "not an object");
	return PW_OK;
}

static pw_err take_record(osv_ctx *c, const cJSON *root, pw_error *err)
{
	pw_err rc = check_record(c, root, err);
	if (rc)
		return rc;
	size_t bad_at;
	if (!severity_list_ok(get(root, "severity"), &bad_at)) {
		char fb[64];
		return bad(c, err,
			   bad_at == SIZE_MAX ? "severity"
					      : fieldf(fb, sizeof fb, "severity[%zu]", bad_at),
			   bad_at == SIZE_MAX ? "not a list" : "needs 'type' and 'score' strings");
	}
	take_severity_list(c, get(root, "severity"));
	if (get(root, "withdrawn"))
		return PW_OK;

	const cJSON *affected = get(root, "affected");
	size_t i = 0;
	for (const cJSON *a = affected ? affected->child : NULL; a; a = a->next, i++)
		if ((rc = take_affected(c, a, i, err)))
			return rc;
	if (!c->n_rows)
		return PW_OK;

	const char *id = get(root, "id")->valuestring;
	if ((rc = add_cve(c, id, err)))
		return rc;
	static const char *const lists[] = {"aliases", "related", "upstream"};
	for (size_t k = 0; k < 3; k++)
		for (const cJSON *s = get(root, lists[k]) ? get(root, lists[k])->child : NULL; s;
		     s = s->next)
			if ((rc = add_cve(c, s->valuestring, err)))
				return rc;
	unique_cves(c);

	const cJSON *summary = get(root, "summary");
	if (summary)
		consider_summary(c, summary->valuestring);
	const cJSON *dsev = get(get(root, "database_specific"), "severity");
	if (cJSON_IsString(dsev))
		consider_severity(c, dsev->valuestring);

	for (size_t k = 0; k < c->n_rows; k++)
		c->rows[k].ecosystem = c->ecos[c->row_eco[k]].norm;
	const cJSON *published = get(root, "published");
	pw_advisory adv = {
		.id = id,
		.source = "osv",
		.published = published ? published->valuestring : NULL,
		.modified = get(root, "modified")->valuestring,
		.summary = summary ? summary->valuestring : NULL,
		.severity = c->severity,
		.attack_vector = pw_attack_vector_from_cvss(c->cvss),
		.cvss_vector = c->cvss,
		.cves = c->cves,
		.n_cves = c->n_cves,
		.affected = c->rows,
		.n_affected = c->n_rows,
	};
	return c->sink->advisory ? c->sink->advisory(c->sink->ctx, &adv, err) : PW_OK;
}

pw_err pw_feed_parse_osv(const char *data, size_t len, const char *name, const pw_feed_sink *sink,
			 pw_error *err)
{
	cJSON *root;
	pw_err rc = pw_feed_json_parse(data, len, name, "an OSV record", &root, err);
	if (rc)
		return rc;
	osv_ctx c = {.name = name, .sink = sink};
	rc = take_record(&c, root, err);
	ctx_release(&c);
	cJSON_Delete(root);
	return rc;
}
