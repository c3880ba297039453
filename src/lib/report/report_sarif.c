/* SARIF 2.1.0 (report.h): one rule per advisory, one result per finding
 * located at the package. */
#include <cjson/cJSON.h>
#include <string.h>

#include "report-internal.h"

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"

static const char *level_of(const char *priority)
{
	if (priority && (!strcmp(priority, "emergency") || !strcmp(priority, "high")))
		return "error";
	if (priority && !strcmp(priority, "normal"))
		return "warning";
	return "note";
}

static void dup_to(struct rp_json *j, cJSON *o, const char *key, const cJSON *v)
{
	if (!j->ok || !v || cJSON_IsNull(v))
		return;
	cJSON *c = cJSON_Duplicate(v, true);
	if (!c || !cJSON_AddItemToObject(o, key, c)) {
		cJSON_Delete(c);
		j->ok = false;
	}
}

static void text_obj(struct rp_json *j, cJSON *parent, const char *key, const char *text)
{
	cJSON *o = rp_obj(j, parent, key);
	rp_str(j, o, "text", text);
}

static void tool(struct rp_json *j, cJSON *run, const cJSON *doc)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "tool");
	cJSON *driver = rp_obj(j, rp_obj(j, run, "tool"), "driver");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(t, "version");
	const cJSON *uri = cJSON_GetObjectItemCaseSensitive(t, "information_uri");
	rp_str(j, driver, "name", cJSON_IsString(name) ? name->valuestring : "patchwarden");
	if (cJSON_IsString(version)) {
		rp_str(j, driver, "version", version->valuestring);
		rp_str(j, driver, "semanticVersion", version->valuestring);
	}
	if (cJSON_IsString(uri))
		rp_str(j, driver, "informationUri", uri->valuestring);
}

/* The rule of the finding's advisory: its index, added on first use. */
static int rule_index(struct rp_json *j, cJSON *rules, const struct rp_finding *f)
{
	int k = 0;
	const cJSON *r;
	cJSON_ArrayForEach(r, rules) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
		if (cJSON_IsString(id) && !strcmp(id->valuestring, f->advisory))
			return k;
		k++;
	}
	cJSON *rule = rp_obj(j, rules, NULL);
	rp_str(j, rule, "id", f->advisory);
	pw_buf b = PW_BUF_INIT;
	pw_buf_printf(&b, "%s: security fixes for %s", f->advisory, f->package);
	text_obj(j, rule, "shortDescription", f->summary ? f->summary : pw_buf_str(&b));
	pw_buf_reset(&b);
	pw_buf_printf(&b, "%s%s", f->summary ? f->summary : f->advisory,
		      cJSON_GetArraySize(f->cves) ? " (" : "");
	rp_cves_text(f, ", ", &b);
	pw_buf_puts(&b, cJSON_GetArraySize(f->cves) ? ")." : ".");
	text_obj(j, rule, "fullDescription", pw_buf_str(&b));
	pw_buf_reset(&b);
	rp_advisory_url(f->advisory, &b);
	rp_str(j, rule, "helpUri", pw_buf_str(&b));
	pw_buf_reset(&b);
	text_obj(j, rule, "help",
		 f->fixed
			 ? "Upgrade the affected packages to the fixed versions the advisory names."
			 : "No fixed version yet: watch the advisory.");
	pw_buf_release(&b);
	cJSON *props = rp_obj(j, rule, "properties");
	cJSON *tags = props ? rp_arr(j, props, "tags") : NULL;
	rp_str(j, tags, NULL, "security");
	rp_str(j, tags, NULL, "vulnerability");
	rp_str(j, props, "advisory_source", f->advisory_source);
	rp_str(j, props, "severity", f->severity);
	dup_to(j, props, "cves", f->cves);
	return k;
}

static void result(struct rp_json *j, cJSON *results, cJSON *rules, const struct rp_finding *f)
{
	cJSON *r = rp_obj(j, results, NULL);
	int k = rule_index(j, rules, f);
	rp_str(j, r, "ruleId", f->advisory);
	rp_num(j, r, "ruleIndex", k);
	bool fixed = f->state && !strcmp(f->state, "fixed");
	rp_str(j, r, "kind", fixed ? "pass" : "fail");
	rp_str(j, r, "level", fixed ? "none" : level_of(f->priority));
	pw_buf b = PW_BUF_INIT;
	pw_buf_printf(&b, "%s %s%s%s %s %s (%s", f->package, f->installed, f->host ? " on " : "",
		      f->host ? f->host : "", fixed ? "was fixed by" : "needs",
		      f->fixed ? f->fixed : "a fix", f->advisory);
	if (cJSON_GetArraySize(f->cves))
		pw_buf_puts(&b, ": ");
	rp_cves_text(f, ", ", &b);
	pw_buf_printf(&b, "); priority %s", f->priority ? f->priority : "unknown");
	if (f->reason)
		pw_buf_printf(&b, ": %s", f->reason);
	text_obj(j, r, "message", pw_buf_str(&b));
	pw_buf_reset(&b);
	pw_error e = PW_ERROR_INIT;
	cJSON *loc = rp_obj(j, rp_arr(j, r, "locations"), NULL);
	if (!rp_purl(f, f->package, f->installed, NULL, &b, &e)) {
		cJSON *al = rp_obj(j, rp_obj(j, loc, "physicalLocation"), "artifactLocation");
		rp_str(j, al, "uri", pw_buf_str(&b));
	}
	cJSON *ll = rp_obj(j, rp_arr(j, loc, "logicalLocations"), NULL);
	rp_str(j, ll, "name", f->package);
	pw_buf_reset(&b);
	pw_buf_printf(&b, "%s/%s", f->host ? f->host : "-", f->package);
	rp_str(j, ll, "fullyQualifiedName", pw_buf_str(&b));
	rp_str(j, ll, "kind", "module");
	pw_buf_printf(&b, "/%s", f->advisory);
	rp_str(j, rp_obj(j, r, "partialFingerprints"), "patchwardenFinding/v1", pw_buf_str(&b));
	pw_buf_release(&b);
	cJSON *p = rp_obj(j, r, "properties");
	struct rp_fact facts[RP_FACTS];
	rp_facts(f, facts);
	for (size_t i = 0; i < RP_FACTS; i++)
		rp_str(j, p, facts[i].name, facts[i].value);
	dup_to(j, p, "cves", f->cves);
	if (f->kev_cve) {
		cJSON *kev = rp_obj(j, p, "kev");
		rp_str(j, kev, "cve", f->kev_cve);
		rp_str(j, kev, "due_date", f->kev_due);
	}
	if (f->has_epss) {
		cJSON *epss = rp_obj(j, p, "epss");
		rp_str(j, epss, "cve", f->epss_cve);
		rp_num(j, epss, "score", f->epss);
	}
}

pw_err pw_report_sarif(const cJSON *doc, pw_buf *out, pw_error *err)
{
	struct rp_doc d;
	pw_err rc = rp_doc_read(doc, &d, err);
	if (rc)
		return rc;
	struct rp_json j = {true};
	cJSON *root = cJSON_CreateObject();
	j.ok = root != NULL;
	rp_str(&j, root, "$schema", SARIF_SCHEMA);
	rp_str(&j, root, "version", "2.1.0");
	cJSON *run = rp_obj(&j, rp_arr(&j, root, "runs"), NULL);
	tool(&j, run, doc);
	cJSON *driver =
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(run, "tool"),
						 "driver");
	cJSON *rules = rp_arr(&j, driver, "rules");
	cJSON *results = rp_arr(&j, run, "results");
	for (size_t i = 0; i < d.n_findings && j.ok; i++)
		result(&j, results, rules, &d.v[i]);
	cJSON *props = rp_obj(&j, run, "properties");
	dup_to(&j, props, "schema_version",
	       cJSON_GetObjectItemCaseSensitive(doc, "schema_version"));
	dup_to(&j, props, "created", cJSON_GetObjectItemCaseSensitive(doc, "created"));
	dup_to(&j, props, "feed_snapshot", cJSON_GetObjectItemCaseSensitive(doc, "feed_snapshot"));
	rp_str(&j, props, "hostname", d.hostname);
	rp_doc_release(&d);
	return rp_print(&j, root, out, "SARIF", err);
}
