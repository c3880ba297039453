/* The report formats (report.h): reading either document into findings,
 * package URLs and advisory links, and the dispatch. */
#include "patchwarden/report.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patchwarden/ecosystem.h"
#include "patchwarden/grow.h"

#include "report-internal.h"

static const char *const format_names[] = {
	[PW_REPORT_TABLE] = "table", [PW_REPORT_JSON] = "json",           [PW_REPORT_CSV] = "csv",
	[PW_REPORT_SARIF] = "sarif", [PW_REPORT_CYCLONEDX] = "cyclonedx",
};

pw_err pw_report_format_parse(const char *name, pw_report_format *out, pw_error *err)
{
	for (size_t i = 0; name && i < sizeof format_names / sizeof format_names[0]; i++)
		if (!strcmp(name, format_names[i])) {
			*out = (pw_report_format)i;
			return PW_OK;
		}
	return pw_error_set(err, PW_ERR_INVALID,
			    "format '%s' is not one of table, json, csv, sarif, cyclonedx",
			    name ? name : "");
}

pw_err pw_report_write(pw_report_format fmt, const cJSON *doc, const cJSON *packages, pw_buf *out,
		       pw_error *err)
{
	switch (fmt) {
	case PW_REPORT_CSV:
		return pw_report_csv(doc, out, err);
	case PW_REPORT_SARIF:
		return pw_report_sarif(doc, out, err);
	case PW_REPORT_CYCLONEDX:
		return pw_report_cyclonedx(doc, packages, out, err);
	case PW_REPORT_JSON: {
		char *text = cJSON_Print(doc);
		pw_err rc = text ? pw_buf_puts(out, text) : PW_ERR_NOMEM;
		if (!rc)
			rc = pw_buf_putc(out, '\n');
		cJSON_free(text);
		return rc ? pw_error_set(err, rc, "writing JSON: out of memory") : PW_OK;
	}
	case PW_REPORT_TABLE:
		break;
	}
	return pw_error_set(err, PW_ERR_INVALID, "the table is the command's own");
}

/* ---- package URLs ------------------------------------------------------- */

/* Percent-encodes all but the purl's unreserved characters. */
static pw_err put_enc(pw_buf *out, const char *s)
{
	pw_err rc = PW_OK;
	for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(".-_~", *p))
			rc = pw_buf_putc(out, (char)*p);
		else
			rc = pw_buf_printf(out, "%%%02X", *p);
	}
	return rc;
}

/* The purl namespace of a distribution (the vendor, as the purl types
 * name them). */
static const char *purl_namespace(const char *distro)
{
	static const char *const map[][2] = {
		{"rhel", "redhat"},
		{"sles", "suse"},
		{"opensuse-leap", "opensuse"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(distro, map[i][0]))
			return map[i][1];
	return distro;
}

pw_err pw_report_purl(const char *ecosystem, const char *name, const char *version,
		      const char *arch, pw_buf *out, pw_error *err)
{
	const char *colon = ecosystem ? strchr(ecosystem, ':') : NULL;
	if (!colon || colon == ecosystem || !colon[1] || colon - ecosystem >= 32 || !name || !*name)
		return pw_error_set(err, PW_ERR_INVALID, "no package URL for '%s' of release '%s'",
				    name ? name : "", ecosystem ? ecosystem : "");
	char distro[32];
	memcpy(distro, ecosystem, (size_t)(colon - ecosystem));
	distro[colon - ecosystem] = '\0';
	pw_scheme scheme = pw_ecosystem_scheme(ecosystem);
	const char *type = scheme == PW_SCHEME_RPM   ? "rpm"
			   : scheme == PW_SCHEME_APK ? "apk"
						     : "deb";
	/* rpm: "[epoch:]version-release", the epoch a qualifier of its own */
	const char *epoch_end = scheme == PW_SCHEME_RPM && version ? strchr(version, ':') : NULL;
	if (epoch_end && strspn(version, "0123456789") != (size_t)(epoch_end - version))
		epoch_end = NULL;
	pw_err rc = pw_buf_printf(out, "pkg:%s/%s/", type, purl_namespace(distro));
	if (!rc)
		rc = put_enc(out, name);
	if (!rc && version && *version) {
		rc = pw_buf_putc(out, '@');
		if (!rc)
			rc = put_enc(out, epoch_end ? epoch_end + 1 : version);
	}
	/* qualifiers in key order: arch, distro, epoch */
	char sep = '?';
	if (!rc && arch && *arch) {
		rc = pw_buf_printf(out, "%carch=", sep);
		sep = '&';
		if (!rc)
			rc = put_enc(out, arch);
	}
	if (!rc)
		rc = pw_buf_printf(out, "%cdistro=", sep);
	if (!rc)
		rc = put_enc(out, distro);
	if (!rc)
		rc = pw_buf_putc(out, '-');
	if (!rc)
		rc = put_enc(out, colon + 1);
	if (!rc && epoch_end)
		rc = pw_buf_printf(out, "&epoch=%.*s", (int)(epoch_end - version), version);
	return rc ? pw_error_set(err, rc, "package URL: out of memory") : PW_OK;
}

pw_err rp_purl(const struct rp_finding *f, const char *name, const char *version, const char *arch,
	       pw_buf *out, pw_error *err)
{
	if (!arch)
		arch = f->by_source && !strcmp(name, f->package) ? "source" : f->host_arch;
	return pw_report_purl(f->ecosystem, name, version, arch, out, err);
}

void rp_facts(const struct rp_finding *f, struct rp_fact out[RP_FACTS])
{
	const struct rp_fact v[RP_FACTS] = {
		{"hostname", f->host},       {"package", f->package},
		{"installed", f->installed}, {"fixed", f->fixed},
		{"priority", f->priority},   {"due", f->due[0] ? f->due : NULL},
		{"state", f->state},
	};
	memcpy(out, v, sizeof v);
}

void rp_advisory_url(const char *id, pw_buf *out)
{
	static const char *const by_prefix[][2] = {
		{"CVE-", "https://nvd.nist.gov/vuln/detail/"},
		{"DSA-", "https://security-tracker.debian.org/tracker/"},
		{"DLA-", "https://security-tracker.debian.org/tracker/"},
		{"DTSA-", "https://security-tracker.debian.org/tracker/"},
		{"USN-", "https://ubuntu.com/security/notices/"},
	};
	const char *base = "https://osv.dev/vulnerability/";
	for (size_t i = 0; i < sizeof by_prefix / sizeof by_prefix[0]; i++)
		if (!strncmp(id, by_prefix[i][0], strlen(by_prefix[i][0])))
			base = by_prefix[i][1];
	if (!pw_buf_puts(out, base))
		put_enc(out, id);
}

void rp_cves_text(const struct rp_finding *f, const char *sep, pw_buf *out)
{
	const cJSON *c;
	bool first = true;
	cJSON_ArrayForEach(c, f->cves) {
		if (!cJSON_IsString(c))
			continue;
		pw_buf_printf(out, "%s%s", first ? "" : sep, c->valuestring);
		first = false;
	}
}

/* ---- reading the documents ----------------------------------------------- */

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A scan's due date: the report's day plus the SLA days, or the KEV due
 * date when that is earlier (as a stored finding's `due`). */
static void scan_due(const char *created, const cJSON *sla, const char *kev_due, char due[11])
{
	due[0] = '\0';
	struct tm tm = {0};
	if (created && cJSON_IsNumber(sla) && sla->valuedouble > 0 &&
	    sscanf(created, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) == 3) {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		time_t t = timegm(&tm) + (time_t)sla->valuedouble * 86400;
		struct tm d;
		if (gmtime_r(&t, &d))
			strftime(due, 11, "%Y-%m-%d", &d);
	}
	if (kev_due && strlen(kev_due) == 10 && (!due[0] || strcmp(kev_due, due) < 0))
		memcpy(due, kev_due, 11);
}

static void read_finding(const cJSON *o, struct rp_finding *f)
{
	f->package = str(o, "package");
	f->installed = str(o, "installed");
	f->fixed = str(o, "fixed");
	f->advisory = str(o, "advisory");
	f->advisory_source = str(o, "advisory_source");
	f->summary = str(o, "summary");
	f->published = str(o, "published");
	f->severity = str(o, "severity");
	f->priority = str(o, "priority");
	f->reason = str(o, "reason");
	f->first_seen = str(o, "first_seen");
	f->fixed_at = str(o, "fixed_at");
	f->by_source = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "by_source"));
	f->cves = cJSON_GetObjectItemCaseSensitive(o, "cves");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "binaries");
	f->binaries = cJSON_IsArray(b) && cJSON_GetArraySize(b) ? b : NULL;
	const cJSON *kev = cJSON_GetObjectItemCaseSensitive(o, "kev");
	f->kev_cve = str(kev, "cve");
	f->kev_due = str(kev, "due_date");
	const cJSON *epss = cJSON_GetObjectItemCaseSensitive(o, "epss");
	const cJSON *score = cJSON_GetObjectItemCaseSensitive(epss, "score");
	f->has_epss = cJSON_IsNumber(score);
	f->epss = f->has_epss ? score->valuedouble : 0;
	f->epss_cve = str(epss, "cve");
	const char *due = str(o, "due");
	if (due && strlen(due) == 10)
		memcpy(f->due, due, 11);
}

static pw_err add_from(struct rp_doc *d, size_t *cap, const cJSON *arr, const char *state,
		       const cJSON *host, pw_error *err)
{
	const cJSON *o;
	cJSON_ArrayForEach(o, arr) {
		if (!cJSON_IsObject(o))
			return pw_error_set(err, PW_ERR_INVALID, "a finding is not an object");
		struct rp_finding *v = pw_grow(d->v, cap, d->n, sizeof *v);
		if (!v)
			return pw_error_set(err, PW_ERR_NOMEM, "reading the report: out of memory");
		d->v = v;
		struct rp_finding *f = &d->v[d->n++];
		memset(f, 0, sizeof *f);
		read_finding(o, f);
		if (host) {
			f->host = d->hostname;
			f->ecosystem = str(host, "ecosystem");
			f->host_arch = str(host, "arch");
			f->state = state;
			if (f->fixed)
				scan_due(d->created,
					 cJSON_GetObjectItemCaseSensitive(o, "sla_days"),
					 f->kev_due, f->due);
		} else {
			f->host = str(o, "hostname");
			f->ecosystem = str(o, "ecosystem");
			f->state = str(o, "state");
		}
		if (!f->package || !f->installed || !f->advisory || !f->state)
			return pw_error_set(err, PW_ERR_INVALID,
					    "a finding lacks its package, installed version, "
					    "advisory or state");
	}
	return PW_OK;
}

pw_err rp_doc_read(const cJSON *doc, struct rp_doc *d, pw_error *err)
{
	memset(d, 0, sizeof *d);
	d->doc = doc;
	const cJSON *findings = cJSON_GetObjectItemCaseSensitive(doc, "findings");
	if (!cJSON_IsObject(doc) || !cJSON_IsArray(findings))
		return pw_error_set(err, PW_ERR_INVALID,
				    "not a report: no \"findings\" array (expected a scan report "
				    "or a findings document)");
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(doc, "host");
	d->scan = cJSON_IsObject(host);
	d->created = str(doc, "created");
	d->hostname = d->scan ? str(host, "hostname") : NULL;
	size_t cap = 0;
	pw_err rc = add_from(d, &cap, findings, "open", d->scan ? host : NULL, err);
	d->n_findings = d->n;
	if (!rc && d->scan)
		rc = add_from(d, &cap, cJSON_GetObjectItemCaseSensitive(doc, "unfixed"),
			      "unfixed-upstream", host, err);
	if (rc)
		rp_doc_release(d);
	return rc;
}

void rp_doc_release(struct rp_doc *d)
{
	free(d->v);
	d->v = NULL;
	d->n = d->n_findings = 0;
}

/* ---- building JSON ------------------------------------------------------- */

cJSON *rp_obj(struct rp_json *j, cJSON *parent, const char *key)
{
	cJSON *o = NULL;
	if (j->ok) {
		o = cJSON_CreateObject();
		if (o && !(key ? cJSON_AddItemToObject(parent, key, o)
			       : cJSON_AddItemToArray(parent, o))) {
			cJSON_Delete(o);
			o = NULL;
		}
	}
	if (!o)
		j->ok = false;
	return o;
}

cJSON *rp_arr(struct rp_json *j, cJSON *parent, const char *key)
{
	cJSON *a = j->ok ? cJSON_AddArrayToObject(parent, key) : NULL;
	if (!a)
		j->ok = false;
	return a;
}

void rp_str(struct rp_json *j, cJSON *o, const char *key, const char *v)
{
	if (!j->ok || !v)
		return;
	cJSON *s = cJSON_CreateString(v);
	if (!s || !(key ? cJSON_AddItemToObject(o, key, s) : cJSON_AddItemToArray(o, s))) {
		cJSON_Delete(s);
		j->ok = false;
	}
}

void rp_num(struct rp_json *j, cJSON *o, const char *key, double v)
{
	if (j->ok && !cJSON_AddNumberToObject(o, key, v))
		j->ok = false;
}

pw_err rp_print(struct rp_json *j, cJSON *root, pw_buf *out, const char *what, pw_error *err)
{
	char *text = j->ok && root ? cJSON_Print(root) : NULL;
	cJSON_Delete(root);
	pw_err rc = text ? pw_buf_puts(out, text) : PW_ERR_NOMEM;
	if (!rc)
		rc = pw_buf_putc(out, '\n');
	cJSON_free(text);
	return rc ? pw_error_set(err, rc, "writing %s: out of memory", what) : PW_OK;
}
