/* Debian security tracker: the advisory lists (data/DSA/list, DLA, DTSA)
 * and the per-CVE JSON export (security-tracker.debian.org/tracker/data/json).
 *
 * Both give fixed versions of *source* packages per release, keyed by
 * codename; rows become ecosystem "debian:<number>" through
 * pw_ecosystem_from_release(). A codename it does not know is a warning
 * naming the line (list) or the field (JSON), and that row is skipped.
 * "sid" and "experimental" are skipped silently: they have no release
 * number and no server fleet is patched from them. */
#include <stdio.h>

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "feeds-internal.h"
#include "patchwarden/grow.h"

/* ---- data/{DSA,DLA,DTSA}/list ------------------------------------------ */

/* The `<kind>` forms a release row may carry instead of a version. */
static const struct {
	const char *kind;
	pw_fix_state state;
} list_kinds[] = {
	{"not-affected", PW_FIX_NOT_AFFECTED},
	{"unfixed", PW_FIX_UNFIXED},
	{"undetermined", PW_FIX_UNFIXED},
	/* Postponed means "fix later with a point release or the next DSA". */
	{"postponed", PW_FIX_UNFIXED},
	{"end-of-life", PW_FIX_IGNORED},
	/* no-dsa: the team will not issue an advisory (minor issue). */
	{"no-dsa", PW_FIX_IGNORED},
	{"ignored", PW_FIX_IGNORED},
	{"removed", PW_FIX_DNE},
};

static const char *const month_abbr[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const month_full[12] = {"January",   "February", "March",    "April",
					   "May",       "June",     "July",     "August",
					   "September", "October",  "November", "December"};

/* Reads 1..max digits at *s as a number; advances the span. */
static bool take_number(pw_dspan *s, size_t max, int *out)
{
	size_t i = 0;
	int v = 0;
	while (i < s->n && i < max && pw_distro_is_digit(s->p[i]))
		v = v * 10 + (s->p[i++] - '0');
	if (i == 0 || (i < s->n && pw_distro_is_digit(s->p[i])))
		return false;
	s->p += i;
	s->n -= i;
	*out = v;
	return true;
}

static bool take_word(pw_dspan *s, pw_dspan *word)
{
	size_t i = 0;
	while (i < s->n && s->p[i] != ' ' && s->p[i] != ',')
		i++;
	word->p = s->p;
	word->n = i;
	s->p += i;
	s->n -= i;
	return i > 0;
}

static bool take_char(pw_dspan *s, char c)
{
	if (!s->n || s->p[0] != c)
		return false;
	s->p++;
	s->n--;
	return true;
}

static int month_of(pw_dspan w, const char *const names[12])
{
	for (int i = 0; i < 12; i++)
		if (pw_dspan_eq(w, names[i]))
			return i + 1;
	return 0;
}

/* "29 Mar 2023" (DSA, DLA) or "August 26th, 2005" (DTSA) -> "2023-03-29". */
static bool list_date(pw_dspan s, char out[11])
{
	int day, month, year;
	pw_dspan w;
	if (s.n && pw_distro_is_digit(s.p[0])) {
		if (!take_number(&s, 2, &day) || !take_char(&s, ' ') || !take_word(&s, &w) ||
		    !(month = month_of(w, month_abbr)) || !take_char(&s, ' '))
			return false;
	} else {
		if (!take_word(&s, &w) || !(month = month_of(w, month_full)) ||
		    !take_char(&s, ' ') || !take_number(&s, 2, &day))
			return false;
		/* The ordinal suffix: 1st, 2nd, 3rd, 26th. */
		if (s.n < 2 || !(pw_dspan_starts(s, "st") || pw_dspan_starts(s, "nd") ||
				 pw_dspan_starts(s, "rd") || pw_dspan_starts(s, "th")))
			return false;
		s.p += 2;
		s.n -= 2;
		if (!take_char(&s, ',') || !take_char(&s, ' '))
			return false;
	}
	if (!take_number(&s, 4, &year) || s.n != 0 || year < 1990 || day < 1 || day > 31)
		return false;
	out[0] = (char)('0' + year / 1000);
	out[1] = (char)('0' + year / 100 % 10);
	out[2] = (char)('0' + year / 10 % 10);
	out[3] = (char)('0' + year % 10);
	out[4] = '-';
	out[5] = (char)('0' + month / 10);
	out[6] = (char)('0' + month % 10);
	out[7] = '-';
	out[8] = (char)('0' + day / 10);
	out[9] = (char)('0' + day % 10);
	out[10] = '\0';
	return true;
}

/* "DSA-5380-1", "DLA-3380-1", "DTSA-1-1" and the old "DSA-141". */
static bool list_id(pw_dspan s)
{
	size_t i = 0;
	while (i < s.n && s.p[i] >= 'A' && s.p[i] <= 'Z')
		i++;
	if (i == 0 || i == s.n || s.p[i] != '-')
		return false;
	for (int part = 0; part < 2 && i < s.n; part++) {
		if (s.p[i] != '-')
			return false;
		size_t start = ++i;
		while (i < s.n && pw_distro_is_digit(s.p[i]))
			i++;
		if (i == start)
			return false;
	}
	return i == s.n;
}

typedef struct list_parse {
	const char *name;
	const pw_feed_sink *sink;
	pw_dadv adv;
	bool open;     /* an advisory is being collected */
	bool skipping; /* the last header was malformed: ignore its body */
} list_parse;

static pw_err list_flush(list_parse *lp, pw_error *err)
{
	if (!lp->open)
		return PW_OK;
	lp->open = false;
	return pw_dadv_emit(&lp->adv, "debian-list", lp->sink, err);
}

static pw_err list_header(list_parse *lp, pw_dspan line, size_t lineno)
{
	pw_dadv *a = &lp->adv;
	size_t close = pw_dspan_index(line, ']');
	pw_dspan rest = {line.p + close + 1, close < line.n ? line.n - close - 1 : 0};
	pw_dspan id = pw_dspan_word(&rest);
	if (close == line.n || !list_id(id)) {
		pw_distro_warn(lp->sink, lp->name, lineno, NULL,
			       "not an advisory header: '%.*s'; expected '[DD Mon YYYY] "
			       "DSA-NNNN-N package - description'; entry skipped",
			       PW_DSPAN_CLIP(line));
		lp->skipping = true;
		return PW_OK;
	}
	pw_dadv_reset(a);
	lp->open = true;
	lp->skipping = false;
	char date[11];
	pw_dspan dspan = {line.p + 1, close - 1};
	pw_err rc = pw_dadv_str(a, id, &a->id);
	if (!rc && list_date(dspan, date))
		rc = pw_dadv_str(a, pw_dspan_z(date), &a->published);
	else if (!rc)
		pw_distro_warn(lp->sink, lp->name, lineno, NULL,
			       "date '%.*s' not understood (expected 'DD Mon YYYY'); "
			       "%.*s kept without a date",
			       PW_DSPAN_CLIP(dspan), PW_DSPAN_CLIP(id));
	if (!rc)
		rc = pw_dadv_set_summary(a, rest);
	return rc;
}

static pw_err list_cves(list_parse *lp, pw_dspan t, size_t lineno)
{
	if (t.p[t.n - 1] != '}') {
		pw_distro_warn(lp->sink, lp->name, lineno, NULL,
			       "CVE list without closing '}'; line ignored");
		return PW_OK;
	}
	pw_dspan s = {t.p + 1, t.n - 2};
	for (pw_dspan tok = pw_dspan_word(&s); tok.n; tok = pw_dspan_word(&s)) {
		if (!pw_feed_is_cve(tok.p, tok.n)) {
			pw_distro_warn(lp->sink, lp->name, lineno, NULL,
				       "'%.*s' is not a CVE id; ignored", PW_DSPAN_CLIP(tok));
			continue;
		}
		pw_err rc = pw_dadv_add_cve(&lp->adv, tok);
		if (rc)
			return rc;
	}
	return PW_OK;
}

/* "[bullseye] - xorg-server 2:1.20.11-1+deb11u6",
 * "[woody] - mailman <not-affected> (Vulnerable code not present)". */
static pw_err list_release(list_parse *lp, pw_dspan t, size_t lineno)
{
	size_t close = pw_dspan_index(t, ']');
	pw_dspan rel = {t.p + 1, close > 0 ? close - 1 : 0};
	pw_dspan s = {t.p + close + 1, close < t.n ? t.n - close - 1 : 0};
	pw_dspan dash = pw_dspan_word(&s);
	pw_dspan pkg = pw_dspan_word(&s);
	pw_dspan what = pw_dspan_word(&s);
	pw_dspan note = pw_dspan_trim(s);
	if (close == t.n || !pw_dspan_eq(dash, "-") || !pw_distro_is_version(pkg) || !what.n ||
	    (note.n && (note.p[0] != '(' || note.p[note.n - 1] != ')'))) {
		pw_distro_warn(lp->sink, lp->name, lineno, NULL,
			       "release line not understood: '%.*s'; expected "
			       "'[codename] - package version' or '[codename] - package <kind>'",
			       PW_DSPAN_CLIP(t));
		return PW_OK;
	}
	if (note.n) {
		note.p++;
		note.n -= 2;
	} else {
		note.p = NULL;
	}
	pw_dadv_rowin row = {.package = pkg, .by_source = true, .note = note};
	if (what.p[0] == '<') {
		size_t i = 0, n = sizeof list_kinds / sizeof list_kinds[0];
		pw_dspan kind = {what.p + 1, what.n >= 2 ? what.n - 2 : 0};
		while (i < n &&
		       !(what.p[what.n - 1] == '>' && pw_dspan_eq(kind, list_kinds[i].kind)))
			i++;
		if (i == n) {
			pw_distro_warn(lp->sink, lp->name, lineno, NULL,
				       "unknown kind '%.*s' for %.*s; row skipped",
				       PW_DSPAN_CLIP(what), PW_DSPAN_CLIP(pkg));
			return PW_OK;
		}
		row.state = list_kinds[i].state;
		if (!row.note.p)
			row.note = kind;
	} else if (pw_distro_is_version(what)) {
		row.state = PW_FIX_FIXED;
		row.fixed = what;
	} else {
		pw_distro_warn(lp->sink, lp->name, lineno, NULL,
			       "'%.*s' is not a version for %.*s; row skipped", PW_DSPAN_CLIP(what),
			       PW_DSPAN_CLIP(pkg));
		return PW_OK;
	}
	if (pw_dspan_eq(rel, "sid") || pw_dspan_eq(rel, "experimental"))
		return PW_OK;
	char eco[PW_ECOSYSTEM_MAX];
	pw_error e = PW_ERROR_INIT;
	if (pw_distro_ecosystem("debian", rel, eco, &e)) {
		pw_distro_warn(lp->sink, lp->name, lineno, NULL, "%s; row for %.*s skipped",
			       pw_error_text(&e), PW_DSPAN_CLIP(pkg));
		return PW_OK;
	}
	row.ecosystem = pw_dspan_z(eco);
	return pw_dadv_add_row(&lp->adv, &row);
}

static pw_err list_body(list_parse *lp, pw_dspan line, size_t lineno)
{
	pw_dspan t = pw_dspan_trim(line);
	if (t.n == 0)
		return PW_OK;
	if (!lp->open) {
		if (!lp->skipping)
			pw_distro_warn(lp->sink, lp->name, lineno, NULL,
				       "line before the first advisory header; ignored");
		return PW_OK;
	}
	if (t.p[0] == '{')
		return list_cves(lp, t, lineno);
	if (t.p[0] == '[')
		return list_release(lp, t, lineno);
	if (pw_dspan_starts(t, "NOTE:"))
		return PW_OK;
	pw_distro_warn(lp->sink, lp->name, lineno, NULL, "unexpected line '%.*s'; ignored",
		       PW_DSPAN_CLIP(t));
	return PW_OK;
}

pw_err pw_feed_parse_debian_list(const char *data, size_t len, const char *name,
				 const pw_feed_sink *sink, pw_error *err)
{
	list_parse lp = {.name = name, .sink = sink, .adv = PW_DADV_INIT};
	pw_dlines it;
	pw_dspan line;
	pw_err rc = PW_OK;
	pw_dlines_init(&it, data, len);
	while (!rc && pw_dlines_next(&it, &line)) {
		if (line.n && memchr(line.p, '\0', line.n)) {
			pw_distro_warn(sink, name, it.lineno, NULL, "NUL byte in line; %s skipped",
				       line.p[0] == '[' ? "entry" : "line");
			if (line.p[0] == '[') {
				rc = list_flush(&lp, err);
				lp.skipping = true;
			}
			continue;
		}
		if (line.n && line.p[0] == '[') {
			rc = list_flush(&lp, err);
			if (!rc)
				rc = list_header(&lp, line, it.lineno);
		} else if (line.n == 0 || line.p[0] == ' ' || line.p[0] == '\t') {
			rc = list_body(&lp, line, it.lineno);
		} else {
			pw_distro_warn(sink, name, it.lineno, NULL,
				       "unexpected line '%.*s'; ignored", PW_DSPAN_CLIP(line));
		}
	}
	if (!rc)
		rc = list_flush(&lp, err);
	if (rc == PW_ERR_NOMEM)
		pw_error_set(err, rc, "%s: out of memory", name);
	pw_dadv_release(&lp.adv);
	return rc;
}

/* ---- tracker JSON ---------------------------------------------------- */

/* Urgency -> severity. The tracker's "unimportant" is its lowest rating;
 * a trailing "**" marks an urgency the tracker took from NVD rather than
 * set itself, the rating still holds. "not yet assigned" and
 * "end-of-life" are no rating. */
static pw_severity urgency_severity(const char *u)
{
	size_t n = strlen(u);
	while (n && u[n - 1] == '*')
		n--;
	pw_dspan s = {u, n};
	if (pw_dspan_eq(s, "unimportant"))
		return PW_SEV_NEGLIGIBLE;
	if (pw_dspan_eq(s, "low"))
		return PW_SEV_LOW;
	if (pw_dspan_eq(s, "medium"))
		return PW_SEV_MEDIUM;
	if (pw_dspan_eq(s, "high"))
		return PW_SEV_HIGH;
	return PW_SEV_UNKNOWN;
}

static const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One (CVE, source package) pair of the export; pairs of the same CVE are
 * sorted together so each CVE gives one advisory over all its packages. */
typedef struct json_item {
	const char *id;
	const char *package;
	const cJSON *entry;
	size_t order;
} json_item;

static int json_item_cmp(const void *x, const void *y)
{
	const json_item *a = x, *b = y;
	int c = strcmp(a->id, b->id);
	return c ? c : (a->order > b->order) - (a->order < b->order);
}

typedef struct json_parse {
	const char *name;
	const pw_feed_sink *sink;
	pw_dadv adv;
	char where[512];
} json_parse;

static const char *json_where(json_parse *jp, const json_item *it, const char *rel)
{
	snprintf(jp->where, sizeof jp->where, "%s/%s%s%s", it->package, it->id,
		 rel ? "/releases/" : "", rel ? rel : "");
	return jp->where;
}

/* Status and fields of one release -> a row, or false (warned) to skip:
 *   resolved + fixed_version "0"  -> not affected (the tracker's "never vulnerable")
 *   resolved + fixed_version V    -> fixed in V
 *   open + urgency end-of-life    -> ignored: the release gets no more fixes
 *   open + nodsa_reason "ignored" -> ignored: the team decided not to fix it
 *   open + urgency unimportant    -> ignored: not fixed in stable by policy
 *   open otherwise                -> unfixed (note: the nodsa text, if any)
 *   undetermined                  -> unfixed: not settled, treat as exposed */
static bool json_state(json_parse *jp, const json_item *it, const char *rel, const cJSON *r,
		       pw_dadv_rowin *row)
{
	const char *status = json_str(r, "status");
	const char *fixed = json_str(r, "fixed_version");
	const char *urgency = json_str(r, "urgency");
	const char *nodsa = json_str(r, "nodsa");
	const char *reason = json_str(r, "nodsa_reason");
	if (!urgency)
		urgency = "";
	if (status && !strcmp(status, "resolved")) {
		if (fixed && !strcmp(fixed, "0")) {
			row->state = PW_FIX_NOT_AFFECTED;
			return true;
		}
		if (fixed && pw_distro_is_version(pw_dspan_z(fixed))) {
			row->state = PW_FIX_FIXED;
			row->fixed = pw_dspan_z(fixed);
			return true;
		}
		pw_distro_warn(jp->sink, jp->name, 0, json_where(jp, it, rel),
			       "resolved without a usable fixed_version; release skipped");
		return false;
	}
	if (status && !strcmp(status, "open")) {
		row->note = pw_dspan_z(nodsa && *nodsa ? nodsa : NULL);
		row->state = PW_FIX_UNFIXED;
		if (!strcmp(urgency, "end-of-life")) {
			row->state = PW_FIX_IGNORED;
			row->note = pw_dspan_z("end-of-life");
		} else if (reason && !strcmp(reason, "ignored")) {
			row->state = PW_FIX_IGNORED;
			if (!row->note.p)
				row->note = pw_dspan_z("ignored");
		} else if (urgency_severity(urgency) == PW_SEV_NEGLIGIBLE) {
			row->state = PW_FIX_IGNORED;
			if (!row->note.p)
				row->note = pw_dspan_z("unimportant");
		}
		return true;
	}
	if (status && !strcmp(status, "undetermined")) {
		row->state = PW_FIX_UNFIXED;
		row->note = pw_dspan_z("undetermined");
		return true;
	}
	pw_distro_warn(jp->sink, jp->name, 0, json_where(jp, it, rel),
		       "status '%.40s' not understood (expected resolved, open or "
		       "undetermined); release skipped",
		       status ? status : "(missing)");
	return false;
}

static pw_err json_releases(json_parse *jp, const json_item *it)
{
	pw_dadv *a = &jp->adv;
	const cJSON *rels = cJSON_GetObjectItemCaseSensitive(it->entry, "releases");
	/* The export writes an empty "releases" as [] (a Perl/Python empty
	 * collection): nothing to record, nothing wrong. */
	if (cJSON_IsArray(rels) && cJSON_GetArraySize(rels) == 0)
		return PW_OK;
	if (!cJSON_IsObject(rels)) {
		pw_distro_warn(jp->sink, jp->name, 0, json_where(jp, it, NULL),
			       "no 'releases' object; package skipped");
		return PW_OK;
	}
	const cJSON *r;
	cJSON_ArrayForEach(r, rels) {
		const char *rel = r->string;
		if (!cJSON_IsObject(r)) {
			pw_distro_warn(jp->sink, jp->name, 0, json_where(jp, it, rel),
				       "release is not an object; skipped");
			continue;
		}
		const char *urgency = json_str(r, "urgency");
		pw_severity sev = urgency ? urgency_severity(urgency) : PW_SEV_UNKNOWN;
		if (sev > a->severity)
			a->severity = sev;
		pw_dadv_rowin row = {.package = pw_dspan_z(it->package), .by_source = true};
		if (!json_state(jp, it, rel, r, &row))
			continue;
		if (!strcmp(rel, "sid") || !strcmp(rel, "experimental"))
			continue;
		char eco[PW_ECOSYSTEM_MAX];
		pw_error e = PW_ERROR_INIT;
		if (pw_ecosystem_from_release("debian", rel, eco, &e)) {
			pw_distro_warn(jp->sink, jp->name, 0, json_where(jp, it, rel),
				       "%s; release skipped", pw_error_text(&e));
			continue;
		}
		row.ecosystem = pw_dspan_z(eco);
		pw_err rc = pw_dadv_add_row(a, &row);
		if (rc)
			return rc;
	}
	return PW_OK;
}

/* One advisory from items[0..n), all of the same id. */
static pw_err json_advisory(json_parse *jp, const json_item *items, size_t n, pw_error *err)
{
	pw_dadv *a = &jp->adv;
	pw_dadv_reset(a);
	pw_dspan id = pw_dspan_z(items[0].id);
	pw_err rc = pw_dadv_str(a, id, &a->id);
	if (!rc && pw_feed_is_cve(id.p, id.n))
		rc = pw_dadv_add_cve(a, id);
	for (size_t i = 0; !rc && i < n; i++) {
		const char *desc = json_str(items[i].entry, "description");
		const char *scope = json_str(items[i].entry, "scope");
		if (desc && a->summary == PW_DADV_NONE)
			rc = pw_dadv_set_summary(a, pw_dspan_z(desc));
		if (scope && a->attack_vector == PW_AV_UNKNOWN)
			a->attack_vector = !strcmp(scope, "remote")  ? PW_AV_NETWORK
					   : !strcmp(scope, "local") ? PW_AV_LOCAL
								     : PW_AV_UNKNOWN;
		if (!rc)
			rc = json_releases(jp, &items[i]);
	}
	if (!rc)
		rc = pw_dadv_emit(a, "debian-json", jp->sink, err);
	return rc;
}

pw_err pw_feed_parse_debian_json(const char *data, size_t len, const char *name,
				 const pw_feed_sink *sink, pw_error *err)
{
	cJSON *root;
	pw_err prc = pw_feed_json_parse(data, len, name,
					"a Debian security tracker export (JSON object of source "
					"packages)",
					&root, err);
	if (prc)
		return prc;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return pw_error_set(err, PW_ERR_PARSE,
				    "%s: not a Debian tracker export (expected an object of "
				    "source packages)",
				    name);
	}
	json_parse jp = {.name = name, .sink = sink, .adv = PW_DADV_INIT};
	json_item *items = NULL;
	size_t n = 0, cap = 0;
	pw_err rc = PW_OK;
	const cJSON *pkg;
	cJSON_ArrayForEach(pkg, root) {
		if (!cJSON_IsObject(pkg)) {
			pw_distro_warn(sink, name, 0, pkg->string,
				       "package entry is not an object; skipped");
			continue;
		}
		const cJSON *entry;
		cJSON_ArrayForEach(entry, pkg) {
			if (!cJSON_IsObject(entry) || !pw_distro_is_id(pw_dspan_z(entry->string))) {
				snprintf(jp.where, sizeof jp.where, "%s/%.100s", pkg->string,
					 entry->string);
				pw_distro_warn(sink, name, 0, jp.where,
					       "not an issue id with an object; skipped");
				continue;
			}
			json_item *p = pw_grow(items, &cap, n, sizeof *items);
			if (!p) {
				rc = PW_ERR_NOMEM;
				goto done;
			}
			items = p;
			items[n] = (json_item){entry->string, pkg->string, entry, n};
			n++;
		}
	}
	if (n)
		qsort(items, n, sizeof *items, json_item_cmp);
	for (size_t i = 0, j; !rc && i < n; i = j) {
		for (j = i + 1; j < n && !strcmp(items[j].id, items[i].id); j++)
			;
		rc = json_advisory(&jp, items + i, j - i, err);
	}
done:
	if (rc == PW_ERR_NOMEM)
		pw_error_set(err, rc, "%s: out of memory", name);
	free(items);
	pw_dadv_release(&jp.adv);
	cJSON_Delete(root);
	return rc;
}
