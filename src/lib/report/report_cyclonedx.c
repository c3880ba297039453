/* CycloneDX 1.5 JSON with VEX (report.h): the host, its packages as
 * components with their purls, and a vulnerability per finding whose
 * analysis says what the finding's state is. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "report-internal.h"

#define CDX_SCHEMA "http://cyclonedx.org/schema/bom-1.5.schema.json"

/* A finding's state as VEX (CISA's statuses, in CycloneDX 1.5 terms):
 * affected is "exploitable" (with the response "update" when a fixed
 * version exists), fixed is "resolved", not affected "not_affected"; the
 * affected component's versions say "affected" for the installed version
 * and "unaffected" for the fixed one. */
struct vex {
	const char *state;    /* finding state */
	const char *analysis; /* analysis.state */
	const char *response; /* analysis.response[0], or NULL */
	const char *status;   /* affects.versions.status of the installed version */
};

static const struct vex vex_map[] = {
	{"open", "exploitable", "update", "affected"},
	{"fixed", "resolved", NULL, "affected"},
	{"not_affected", "not_affected", NULL, "unaffected"},
	{"unfixed-upstream", "exploitable", NULL, "affected"},
	{"accepted", "exploitable", "will_not_fix", "affected"},
};

static const struct vex *vex_of(const char *state)
{
	for (size_t i = 0; state && i < sizeof vex_map / sizeof vex_map[0]; i++)
		if (!strcmp(state, vex_map[i].state))
			return &vex_map[i];
	return NULL;
}

/* CycloneDX severities of the advisory's severity and of a priority. */
static const char *severity_of(const char *s)
{
	static const char *const map[][2] = {
		{"critical", "critical"}, {"high", "high"},       {"medium", "medium"},
		{"low", "low"},           {"negligible", "info"}, {"emergency", "critical"},
		{"normal", "medium"},
	};
	for (size_t i = 0; s && i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(s, map[i][0]))
			return map[i][1];
	return "unknown";
}

static void prop(struct rp_json *j, cJSON *props, const char *name, const char *value)
{
	if (!value)
		return;
	cJSON *p = rp_obj(j, props, NULL);
	rp_str(j, p, "name", name);
	rp_str(j, p, "value", value);
}

/* The element of `list` whose "bom-ref" is `ref`, or NULL. */
static cJSON *by_ref(cJSON *list, const char *ref)
{
	cJSON *c;
	cJSON_ArrayForEach(c, list) {
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(c, "bom-ref");
		if (cJSON_IsString(r) && !strcmp(r->valuestring, ref))
			return c;
	}
	return NULL;
}

/* Adds a package component (bom-ref: `prefix` + its purl) unless there. */
static void component(struct rp_json *j, cJSON *list, const char *prefix, const char *purl,
		      const char *name, const char *version, const char *source, pw_buf *ref)
{
	pw_buf_reset(ref);
	pw_buf_printf(ref, "%s%s", prefix, purl);
	if (by_ref(list, pw_buf_str(ref)))
		return;
	cJSON *c = rp_obj(j, list, NULL);
	rp_str(j, c, "type", "library");
	rp_str(j, c, "bom-ref", pw_buf_str(ref));
	rp_str(j, c, "name", name);
	rp_str(j, c, "version", version);
	rp_str(j, c, "purl", purl);
	if (source && strcmp(source, name)) {
		cJSON *props = rp_arr(j, c, "properties");
		prop(j, props, "patchwarden:source_package", source);
	}
}

/* The host as a component (type device); `nested` adds its "components". */
static cJSON *host_component(struct rp_json *j, cJSON *parent, const char *key,
			     const struct rp_finding *f, const char *hostname, bool nested)
{
	cJSON *h = rp_obj(j, parent, key);
	pw_buf b = PW_BUF_INIT;
	pw_buf_printf(&b, "host:%s", hostname ? hostname : "-");
	rp_str(j, h, "type", "device");
	rp_str(j, h, "bom-ref", pw_buf_str(&b));
	rp_str(j, h, "name", hostname ? hostname : "unknown host");
	pw_buf_release(&b);
	if (f && f->ecosystem) {
		cJSON *props = rp_arr(j, h, "properties");
		prop(j, props, "patchwarden:ecosystem", f->ecosystem);
	}
	return nested ? rp_arr(j, h, "components") : h;
}

/* The components a finding affects, as refs appended to `affects`: the
 * binary packages of a scan's source-package finding, else the package
 * itself (its installed version, or the fixed one once fixed). */
static void affected(struct rp_json *j, cJSON *list, const char *prefix, const cJSON *packages,
		     const struct rp_finding *f, cJSON *affects, pw_error *e)
{
	pw_buf purl = PW_BUF_INIT, ref = PW_BUF_INIT;
	const struct vex *v = vex_of(f->state);
	bool fixed = v && !strcmp(v->analysis, "resolved") && f->fixed;
	const cJSON *b;
	cJSON_ArrayForEach(b, f->binaries) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(b, "name");
		const cJSON *ver = cJSON_GetObjectItemCaseSensitive(b, "version");
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(b, "arch");
		if (!cJSON_IsString(n) || !cJSON_IsString(ver))
			continue;
		pw_buf_reset(&purl);
		if (rp_purl(f, n->valuestring, ver->valuestring,
			    cJSON_IsString(a) ? a->valuestring : NULL, &purl, e))
			continue;
		component(j, list, prefix, pw_buf_str(&purl), n->valuestring, ver->valuestring,
			  f->package, &ref);
		rp_str(j, rp_obj(j, affects, NULL), "ref", pw_buf_str(&ref));
	}
	if (!f->binaries) {
		const char *version = fixed ? f->fixed : f->installed;
		const char *arch = NULL; /* the inventory's, when it lists the package */
		const cJSON *p;
		cJSON_ArrayForEach(p, packages) {
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(p, "name");
			const cJSON *ver = cJSON_GetObjectItemCaseSensitive(p, "version");
			const cJSON *a = cJSON_GetObjectItemCaseSensitive(p, "arch");
			if (cJSON_IsString(n) && cJSON_IsString(ver) && cJSON_IsString(a) &&
			    !strcmp(n->valuestring, f->package) &&
			    !strcmp(ver->valuestring, version))
				arch = a->valuestring;
		}
		if (!rp_purl(f, f->package, version, arch, &purl, e)) {
			component(j, list, prefix, pw_buf_str(&purl), f->package, version, NULL,
				  &ref);
			rp_str(j, rp_obj(j, affects, NULL), "ref", pw_buf_str(&ref));
		}
	}
	pw_buf_release(&purl);
	pw_buf_release(&ref);
}

static void versions(struct rp_json *j, cJSON *affects, const struct rp_finding *f,
		     const struct vex *v)
{
	cJSON *a;
	cJSON_ArrayForEach(a, affects) {
		cJSON *vs = rp_arr(j, a, "versions");
		cJSON *one = rp_obj(j, vs, NULL);
		rp_str(j, one, "version", f->installed);
		rp_str(j, one, "status", v->status);
		if (f->fixed && strcmp(f->fixed, f->installed)) {
			one = rp_obj(j, vs, NULL);
			rp_str(j, one, "version", f->fixed);
			rp_str(j, one, "status", "unaffected");
		}
	}
}

/* "2024-05-01" or a full timestamp as a date-time; NULL otherwise. */
static const char *date_time(const char *s, char out[32])
{
	if (!s || strlen(s) < 10 || s[4] != '-' || s[7] != '-')
		return NULL;
	if (strlen(s) >= 20 && s[10] == 'T')
		return s;
	snprintf(out, 32, "%.10sT00:00:00Z", s);
	return out;
}

static void vulnerability(struct rp_json *j, cJSON *vulns, cJSON *list, const char *prefix,
			  const cJSON *packages, const struct rp_finding *f)
{
	const struct vex *v = vex_of(f->state);
	if (!v)
		return;
	pw_error e = PW_ERROR_INIT;
	cJSON *o = rp_obj(j, vulns, NULL);
	pw_buf b = PW_BUF_INIT;
	pw_buf_printf(&b, "finding:%s/%s/%s", f->host ? f->host : "-", f->package, f->advisory);
	rp_str(j, o, "bom-ref", pw_buf_str(&b));
	rp_str(j, o, "id", f->advisory);
	pw_buf_reset(&b);
	rp_advisory_url(f->advisory, &b);
	cJSON *src = rp_obj(j, o, "source");
	rp_str(j, src, "name", f->advisory_source ? f->advisory_source : f->ecosystem);
	rp_str(j, src, "url", pw_buf_str(&b));
	cJSON *refs = rp_arr(j, o, "references");
	const cJSON *c;
	cJSON_ArrayForEach(c, f->cves) {
		if (!cJSON_IsString(c) || !strcmp(c->valuestring, f->advisory))
			continue;
		cJSON *r = rp_obj(j, refs, NULL);
		rp_str(j, r, "id", c->valuestring);
		cJSON *s = rp_obj(j, r, "source");
		rp_str(j, s, "name", "NVD");
		pw_buf url = PW_BUF_INIT;
		rp_advisory_url(c->valuestring, &url);
		rp_str(j, s, "url", pw_buf_str(&url));
		pw_buf_release(&url);
	}
	cJSON *ratings = rp_arr(j, o, "ratings");
	if (f->severity && strcmp(f->severity, "unknown")) {
		cJSON *r = rp_obj(j, ratings, NULL);
		rp_str(j, rp_obj(j, r, "source"), "name",
		       f->advisory_source ? f->advisory_source : f->ecosystem);
		rp_str(j, r, "severity", severity_of(f->severity));
		rp_str(j, r, "method", "other");
	}
	if (f->priority) {
		cJSON *r = rp_obj(j, ratings, NULL);
		rp_str(j, rp_obj(j, r, "source"), "name", "patchwarden");
		rp_str(j, r, "severity", severity_of(f->priority));
		rp_str(j, r, "method", "other");
		rp_str(j, r, "justification", f->reason);
	}
	rp_str(j, o, "description", f->summary);
	pw_buf rec = PW_BUF_INIT;
	if (f->fixed)
		pw_buf_printf(&rec, "Upgrade %s to %s or later.", f->package, f->fixed);
	rp_str(j, o, "recommendation", f->fixed ? pw_buf_str(&rec) : NULL);
	pw_buf_release(&rec);
	cJSON *adv = rp_obj(j, rp_arr(j, o, "advisories"), NULL);
	rp_str(j, adv, "title", f->advisory);
	rp_str(j, adv, "url", pw_buf_str(&b));
	char when[32];
	rp_str(j, o, "published", date_time(f->published, when));
	cJSON *an = rp_obj(j, o, "analysis");
	rp_str(j, an, "state", v->analysis);
	if (v->response)
		rp_str(j, rp_arr(j, an, "response"), NULL, v->response);
	rp_str(j, an, "detail", f->reason);
	char first[32], last[32];
	rp_str(j, an, "firstIssued", date_time(f->first_seen, first));
	rp_str(j, an, "lastUpdated", date_time(f->fixed_at, last));
	cJSON *affects = rp_arr(j, o, "affects");
	affected(j, list, prefix, packages, f, affects, &e);
	versions(j, affects, f, v);
	cJSON *props = rp_arr(j, o, "properties");
	struct rp_fact facts[RP_FACTS];
	rp_facts(f, facts);
	for (size_t i = 0; i < RP_FACTS; i++) {
		pw_buf_reset(&b);
		pw_buf_printf(&b, "patchwarden:%s", facts[i].name);
		prop(j, props, pw_buf_str(&b), facts[i].value);
	}
	prop(j, props, "patchwarden:kev.cve", f->kev_cve);
	prop(j, props, "patchwarden:kev.due_date", f->kev_due);
	prop(j, props, "patchwarden:epss.cve", f->epss_cve);
	char score[32];
	snprintf(score, sizeof score, "%g", f->epss);
	prop(j, props, "patchwarden:epss.score", f->has_epss ? score : NULL);
	pw_buf_release(&b);
}

static void serial_number(struct rp_json *j, cJSON *root)
{
	unsigned char r[16];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return;                               /* optional */
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* variant 1 */
	char s[64];
	snprintf(s, sizeof s,
		 "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
		 r[13], r[14], r[15]);
	rp_str(j, root, "serialNumber", s);
}

static void metadata(struct rp_json *j, cJSON *root, const struct rp_doc *d)
{
	cJSON *m = rp_obj(j, root, "metadata");
	char when[32];
	rp_str(j, m, "timestamp", date_time(d->created, when));
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(d->doc, "tool");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(t, "version");
	const cJSON *uri = cJSON_GetObjectItemCaseSensitive(t, "information_uri");
	cJSON *tool = rp_obj(j, rp_arr(j, rp_obj(j, m, "tools"), "components"), NULL);
	rp_str(j, tool, "type", "application");
	rp_str(j, tool, "name", cJSON_IsString(name) ? name->valuestring : "patchwarden");
	rp_str(j, tool, "version", cJSON_IsString(version) ? version->valuestring : NULL);
	if (cJSON_IsString(uri)) {
		cJSON *x = rp_obj(j, rp_arr(j, tool, "externalReferences"), NULL);
		rp_str(j, x, "type", "website");
		rp_str(j, x, "url", uri->valuestring);
	}
	if (d->scan)
		host_component(j, m, "component", d->n ? &d->v[0] : NULL, d->hostname, false);
	cJSON *props = rp_arr(j, m, "properties");
	const cJSON *snap = cJSON_GetObjectItemCaseSensitive(d->doc, "feed_snapshot");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(snap, "id");
	const cJSON *created = cJSON_GetObjectItemCaseSensitive(snap, "created");
	char n[32];
	snprintf(n, sizeof n, "%.0f", cJSON_IsNumber(id) ? id->valuedouble : 0);
	prop(j, props, "patchwarden:feed_snapshot", cJSON_IsNumber(id) ? n : NULL);
	prop(j, props, "patchwarden:feed_snapshot.created",
	     cJSON_IsString(created) ? created->valuestring : NULL);
}

/* A scan's components: the inventory's packages (or, without them, what
 * the findings name). */
static void scan_components(struct rp_json *j, cJSON *list, const struct rp_doc *d,
			    const cJSON *packages)
{
	pw_buf purl = PW_BUF_INIT, ref = PW_BUF_INIT;
	const char *eco = d->n ? d->v[0].ecosystem : NULL;
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(d->doc, "host");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(host, "ecosystem");
	if (cJSON_IsString(e))
		eco = e->valuestring;
	const cJSON *p;
	cJSON_ArrayForEach(p, packages) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(p, "name");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "version");
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(p, "arch");
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "source");
		pw_buf_reset(&purl);
		if (!cJSON_IsString(n) || !cJSON_IsString(v) ||
		    pw_report_purl(eco, n->valuestring, v->valuestring,
				   cJSON_IsString(a) ? a->valuestring : NULL, &purl, NULL))
			continue;
		component(j, list, "", pw_buf_str(&purl), n->valuestring, v->valuestring,
			  cJSON_IsString(s) ? s->valuestring : NULL, &ref);
	}
	pw_buf_release(&purl);
	pw_buf_release(&ref);
}

pw_err pw_report_cyclonedx(const cJSON *doc, const cJSON *packages, pw_buf *out, pw_error *err)
{
	struct rp_doc d;
	pw_err rc = rp_doc_read(doc, &d, err);
	if (rc)
		return rc;
	if (!d.scan)
		packages = NULL;
	struct rp_json j = {true};
	cJSON *root = cJSON_CreateObject();
	j.ok = root != NULL;
	rp_str(&j, root, "$schema", CDX_SCHEMA);
	rp_str(&j, root, "bomFormat", "CycloneDX");
	rp_str(&j, root, "specVersion", "1.5");
	serial_number(&j, root);
	rp_num(&j, root, "version", 1);
	metadata(&j, root, &d);
	cJSON *comps = rp_arr(&j, root, "components");
	cJSON *vulns = rp_arr(&j, root, "vulnerabilities");
	if (d.scan)
		scan_components(&j, comps, &d, packages);
	pw_buf prefix = PW_BUF_INIT;
	for (size_t i = 0; i < d.n && j.ok; i++) {
		const struct rp_finding *f = &d.v[i];
		cJSON *list = comps;
		pw_buf_reset(&prefix);
		if (!d.scan) { /* a fleet: each host a component holding its packages */
			pw_buf_printf(&prefix, "host:%s", f->host ? f->host : "-");
			cJSON *h = by_ref(comps, pw_buf_str(&prefix));
			list = h ? cJSON_GetObjectItemCaseSensitive(h, "components")
				 : host_component(&j, comps, NULL, f, f->host, true);
			pw_buf_putc(&prefix, '/');
		}
		vulnerability(&j, vulns, list, pw_buf_str(&prefix), packages, f);
	}
	pw_buf_release(&prefix);
	rp_doc_release(&d);
	return rp_print(&j, root, out, "CycloneDX", err);
}
