/* Ubuntu CVE tracker (UCT): one RFC 822-like text file per CVE, the data
 * USNs, OVAL and Ubuntu's OSV are generated from. Field documentation:
 * active/00boilerplate and README ("Package Status") in the tracker.
 *
 * One file gives one advisory (id = Candidate). Each
 * "<release>_<source package>: <status> [(<version or note>)]" line gives
 * one row for ecosystem "ubuntu:<number>", by source package. Rows that
 * are not a release a host can run are skipped without a warning:
 *   upstream, devel     upstream's and the development series' state;
 *   snap, product       snaps and device kernels, not apt packages;
 *   <x>/<y>             ESM and variants ("trusty/esm", "esm-infra/xenial",
 *                       "vivid/ubuntu-core"). ESM fixes live in a separate
 *                       archive that os-release does not reveal; counting
 *                       them as fixes for plain "ubuntu:14.04" would report
 *                       patches a host without ESM cannot install, and the
 *                       plain release row already says what the public
 *                       archive offers.
 * Per-package "Priority_<pkg>" overrides are not used: a pw_advisory has
 * one severity, the file's Priority. */
#include <string.h>

#include "feeds-internal.h"

/* UCT statuses (README "Package Status"). "released" needs a version: a
 * fix we cannot compare against is useless to the matcher and reporting
 * it as unfixed would be wrong, so such a row is warned about and skipped.
 * "released-esm" on a plain release means the fix is only in ESM: for the
 * public archive that release is still unfixed. */
static const struct {
	const char *word;
	pw_fix_state state;
} uct_status[] = {
	{"released", PW_FIX_FIXED},  {"released-esm", PW_FIX_UNFIXED},
	{"needed", PW_FIX_UNFIXED},  {"needs-triage", PW_FIX_UNFIXED},
	{"pending", PW_FIX_UNFIXED}, {"deferred", PW_FIX_UNFIXED},
	{"active", PW_FIX_UNFIXED},  {"not-affected", PW_FIX_NOT_AFFECTED},
	{"DNE", PW_FIX_DNE},         {"ignored", PW_FIX_IGNORED},
};

static const char *const skipped_releases[] = {"upstream", "devel", "snap", "product"};

typedef enum uct_field {
	F_OTHER = 0,
	F_DESCRIPTION,
	F_CVSS,
} uct_field;

typedef struct uct_parse {
	const char *name;
	const pw_feed_sink *sink;
	pw_dadv adv;
	pw_buf description; /* the Description field with its continuation lines */
	int cvss_rank;      /* CVSS major version of adv.cvss_vector, 0 = none */
	uct_field last;     /* field that continuation lines extend */
} uct_parse;

/* "2019-07-15 02:15:00 UTC" -> "2019-07-15T02:15:00Z", "2019-07-15" kept. */
static bool uct_date(pw_dspan s, char out[21])
{
	static const char date_shape[] = "NNNN-NN-NN";
	static const char time_shape[] = "NNNN-NN-NN NN:NN:NN UTC";
	const char *shape = s.n == 10 ? date_shape : s.n == 23 ? time_shape : NULL;
	if (!shape)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (shape[i] == 'N' ? !pw_distro_is_digit(s.p[i]) : s.p[i] != shape[i])
			return false;
	memcpy(out, s.p, 10);
	if (s.n == 10) {
		out[10] = '\0';
		return true;
	}
	out[10] = 'T';
	memcpy(out + 11, s.p + 11, 8);
	out[19] = 'Z';
	out[20] = '\0';
	return true;
}

/* One "source: vector" CVSS entry; the highest CVSS version wins. */
static pw_err uct_cvss(uct_parse *up, pw_dspan s, size_t lineno)
{
	size_t colon = 0;
	while (colon < s.n && s.p[colon] != ':' && s.p[colon] != ' ' && s.p[colon] != '\t')
		colon++;
	pw_dspan v = pw_dspan_trim((pw_dspan){s.p + colon + 1, colon < s.n ? s.n - colon - 1 : 0});
	if (colon == 0 || colon == s.n || s.p[colon] != ':' || !pw_distro_is_version(v) ||
	    !(pw_dspan_starts(v, "CVSS:") || pw_dspan_starts(v, "AV:"))) {
		if (pw_dspan_trim(s).n)
			pw_distro_warn(up->sink, up->name, lineno, NULL,
				       "CVSS entry '%.*s' not understood (expected 'source: "
				       "vector'); ignored",
				       PW_DSPAN_CLIP(s));
		return PW_OK;
	}
	int rank = 2;
	if (pw_dspan_starts(v, "CVSS:") && v.n > 5 && pw_distro_is_digit(v.p[5]))
		rank = v.p[5] - '0';
	if (rank <= up->cvss_rank)
		return PW_OK;
	pw_dadv *a = &up->adv;
	pw_err rc = pw_dadv_str(a, v, &a->cvss_vector);
	if (rc)
		return rc;
	up->cvss_rank = rank;
	a->attack_vector = pw_attack_vector_from_cvss(pw_dadv_at(a, a->cvss_vector));
	return PW_OK;
}

/* "<release>_<pkg>: <status> [(<version or note>)]" */
static pw_err uct_row(uct_parse *up, pw_dspan key, pw_dspan value, size_t lineno)
{
	size_t us = 0;
	while (us < key.n && key.p[us] != '_')
		us++;
	pw_dspan rel = {key.p, us};
	pw_dspan pkg = {key.p + us + 1, us + 1 < key.n ? key.n - us - 1 : 0};
	if (memchr(rel.p, '/', rel.n))
		return PW_OK;
	for (size_t i = 0; i < sizeof skipped_releases / sizeof skipped_releases[0]; i++)
		if (pw_dspan_eq(rel, skipped_releases[i]))
			return PW_OK;
	size_t sp = 0;
	while (sp < value.n && value.p[sp] != ' ' && value.p[sp] != '\t' && value.p[sp] != '(')
		sp++;
	pw_dspan status = {value.p, sp};
	pw_dspan paren = pw_dspan_trim((pw_dspan){value.p + sp, value.n - sp});
	size_t st = 0, n_st = sizeof uct_status / sizeof uct_status[0];
	while (st < n_st && !pw_dspan_eq(status, uct_status[st].word))
		st++;
	if (!pw_distro_is_version(pkg) || st == n_st ||
	    (paren.n && (paren.n < 2 || paren.p[0] != '(' || paren.p[paren.n - 1] != ')'))) {
		pw_distro_warn(up->sink, up->name, lineno, NULL,
			       "'%.*s: %.*s' not understood; expected '<release>_<package>: "
			       "<status> (<version or note>)'; row skipped",
			       PW_DSPAN_CLIP(key), PW_DSPAN_CLIP(value));
		return PW_OK;
	}
	pw_dspan inner = paren.n ? pw_dspan_trim((pw_dspan){paren.p + 1, paren.n - 2})
				 : (pw_dspan){NULL, 0};
	pw_dadv_rowin row = {.package = pkg, .by_source = true, .state = uct_status[st].state};
	if (row.state == PW_FIX_FIXED) {
		if (!pw_distro_is_version(inner)) {
			pw_distro_warn(up->sink, up->name, lineno, NULL,
				       "%.*s: 'released' needs the fixed version in "
				       "parentheses, got '%.*s'; row skipped",
				       PW_DSPAN_CLIP(key), PW_DSPAN_CLIP(value));
			return PW_OK;
		}
		row.fixed = inner;
	} else if (inner.n) {
		row.note = inner;
	} else if (pw_dspan_eq(status, "released-esm")) {
		row.note = pw_dspan_z("released in ESM only");
	}
	char eco[PW_ECOSYSTEM_MAX];
	pw_error e = PW_ERROR_INIT;
	if (pw_distro_ecosystem("ubuntu", rel, eco, &e)) {
		pw_distro_warn(up->sink, up->name, lineno, NULL, "%s; row for %.*s skipped",
			       pw_error_text(&e), PW_DSPAN_CLIP(pkg));
		return PW_OK;
	}
	row.ecosystem = pw_dspan_z(eco);
	return pw_dadv_add_row(&up->adv, &row);
}

static pw_err uct_field_line(uct_parse *up, pw_dspan key, pw_dspan value, size_t lineno)
{
	pw_dadv *a = &up->adv;
	up->last = F_OTHER;
	if (key.n && key.p[0] >= 'a' && key.p[0] <= 'z')
		return uct_row(up, key, value, lineno);
	if (pw_dspan_eq(key, "Candidate")) {
		if (a->id != PW_DADV_NONE) {
			pw_distro_warn(up->sink, up->name, lineno, NULL,
				       "second Candidate field ignored");
			return PW_OK;
		}
		if (!pw_distro_is_id(value))
			return PW_OK; /* reported as a missing Candidate at the end */
		pw_err rc = pw_dadv_str(a, value, &a->id);
		if (!rc && pw_feed_is_cve(value.p, value.n))
			rc = pw_dadv_add_cve(a, value);
		return rc;
	}
	if (pw_dspan_eq(key, "PublicDate")) {
		char iso[21];
		if (!value.n)
			return PW_OK;
		if (uct_date(value, iso))
			return pw_dadv_str(a, pw_dspan_z(iso), &a->published);
		pw_distro_warn(up->sink, up->name, lineno, NULL,
			       "PublicDate '%.*s' not understood (expected 'YYYY-MM-DD "
			       "[HH:MM:SS UTC]'); left empty",
			       PW_DSPAN_CLIP(value));
		return PW_OK;
	}
	if (pw_dspan_eq(key, "Priority")) {
		char word[32];
		size_t n = value.n < sizeof word - 1 ? value.n : sizeof word - 1;
		memcpy(word, value.p, n);
		word[n] = '\0';
		a->severity = pw_severity_from_text(word);
		return PW_OK;
	}
	if (pw_dspan_eq(key, "Description")) {
		up->last = F_DESCRIPTION;
		pw_buf_reset(&up->description);
		return pw_buf_append(&up->description, value.p, value.n);
	}
	if (pw_dspan_eq(key, "CVSS")) {
		up->last = F_CVSS;
		return value.n ? uct_cvss(up, value, lineno) : PW_OK;
	}
	return PW_OK;
}

static pw_err uct_continuation(uct_parse *up, pw_dspan line, size_t lineno)
{
	if (up->last == F_CVSS)
		return uct_cvss(up, pw_dspan_trim(line), lineno);
	if (up->last == F_DESCRIPTION) {
		pw_err rc = pw_buf_putc(&up->description, ' ');
		return rc ? rc : pw_buf_append(&up->description, line.p, line.n);
	}
	return PW_OK;
}

pw_err pw_feed_parse_ubuntu_uct(const char *data, size_t len, const char *name,
				const pw_feed_sink *sink, pw_error *err)
{
	uct_parse up = {.name = name,
			.sink = sink,
			.adv = PW_DADV_INIT,
			.description = PW_BUF_INIT};
	pw_dlines it;
	pw_dspan line;
	pw_err rc = PW_OK;
	pw_dlines_init(&it, data, len);
	while (!rc && pw_dlines_next(&it, &line)) {
		if (line.n == 0 || line.p[0] == '#')
			continue;
		if (memchr(line.p, '\0', line.n)) {
			pw_distro_warn(sink, name, it.lineno, NULL, "NUL byte in line; skipped");
			continue;
		}
		if (line.p[0] == ' ' || line.p[0] == '\t') {
			rc = uct_continuation(&up, line, it.lineno);
			continue;
		}
		size_t colon = 0;
		while (colon < line.n && line.p[colon] != ':' && line.p[colon] != ' ' &&
		       line.p[colon] != '\t')
			colon++;
		if (colon == 0 || colon == line.n || line.p[colon] != ':') {
			up.last = F_OTHER;
			pw_distro_warn(sink, name, it.lineno, NULL,
				       "not a 'Field: value' line: '%.*s'; ignored",
				       PW_DSPAN_CLIP(line));
			continue;
		}
		pw_dspan key = {line.p, colon};
		pw_dspan value = pw_dspan_trim((pw_dspan){line.p + colon + 1, line.n - colon - 1});
		rc = uct_field_line(&up, key, value, it.lineno);
	}
	pw_dadv *a = &up.adv;
	if (!rc && a->id == PW_DADV_NONE)
		rc = pw_error_set(
			err, PW_ERR_PARSE,
			"%s: no valid 'Candidate: CVE-YYYY-NNNN' field; not a UCT CVE file", name);
	if (!rc && up.description.len)
		rc = pw_dadv_set_summary(a, (pw_dspan){up.description.data, up.description.len});
	if (!rc)
		rc = pw_dadv_emit(a, "ubuntu-uct", sink, err);
	if (rc == PW_ERR_NOMEM)
		pw_error_set(err, rc, "%s: out of memory", name);
	pw_dadv_release(&up.adv);
	pw_buf_release(&up.description);
	return rc;
}
