/* CISA Known Exploited Vulnerabilities catalog
 * (known_exploited_vulnerabilities.json, schema in the kev-data repo):
 * one object with catalogVersion, dateReleased, count and
 * vulnerabilities[]; every entry becomes a pw_kev_entry.
 *
 * The catalog's own fields are checked as the schema says (a catalog
 * without them is not one); an entry that breaks the schema (no cveID, a
 * date that is not YYYY-MM-DD, a field of the wrong type) is skipped with
 * a warning naming vulnerabilities[i] and its cveID. */
#include "feeds-internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "patchwarden/feed.h"

static const cJSON *get(const cJSON *obj, const char *key)
{
	return pw_feed_json_get(obj, key);
}

static bool is_date(const char *s)
{
	static const char pat[] = "dddd-dd-dd";
	for (size_t k = 0; pat[k]; k++)
		if (pat[k] == 'd' ? !isdigit((unsigned char)s[k]) : s[k] != pat[k])
			return false;
	return s[sizeof pat - 1] == '\0';
}

static void warn_entry(const pw_feed_sink *sink, const char *name, size_t i, const char *cve,
		       const char *msg)
{
	if (!sink->warn)
		return;
	char where[1024];
	if (cve)
		snprintf(where, sizeof where, "%s: vulnerabilities[%zu] (%s)", name, i, cve);
	else
		snprintf(where, sizeof where, "%s: vulnerabilities[%zu]", name, i);
	sink->warn(sink->ctx, where, msg);
}

/* A string field of an entry: NULL when absent; *ok = false when present
 * with another type. */
static const char *opt_string(const cJSON *e, const char *key, bool *ok)
{
	const cJSON *v = get(e, key);
	if (!v)
		return NULL;
	if (!cJSON_IsString(v)) {
		*ok = false;
		return NULL;
	}
	return v->valuestring;
}

static pw_err take_entry(const cJSON *e, size_t i, const char *name, const pw_feed_sink *sink,
			 pw_error *err)
{
	if (!cJSON_IsObject(e)) {
		warn_entry(sink, name, i, NULL, "not an object");
		return PW_OK;
	}
	const cJSON *id = get(e, "cveID");
	if (!cJSON_IsString(id) || !pw_feed_is_cve(id->valuestring, strlen(id->valuestring))) {
		warn_entry(sink, name, i, NULL,
			   id ? "cveID is not a CVE id like CVE-2024-1234" : "no cveID");
		return PW_OK;
	}
	const char *cve = id->valuestring;
	bool ok = true;
	pw_kev_entry k = {
		.cve = cve,
		.date_added = opt_string(e, "dateAdded", &ok),
		.due_date = opt_string(e, "dueDate", &ok),
		.vendor = opt_string(e, "vendorProject", &ok),
		.product = opt_string(e, "product", &ok),
		.name = opt_string(e, "vulnerabilityName", &ok),
	};
	const char *ransomware = opt_string(e, "knownRansomwareCampaignUse", &ok);
	if (!ok) {
		warn_entry(sink, name, i, cve,
			   "dateAdded, dueDate, vendorProject, product, vulnerabilityName and "
			   "knownRansomwareCampaignUse must be strings");
		return PW_OK;
	}
	if ((k.date_added && !is_date(k.date_added)) || (k.due_date && !is_date(k.due_date))) {
		warn_entry(sink, name, i, cve,
			   "dateAdded and dueDate must be dates like 2025-08-25");
		return PW_OK;
	}
	k.ransomware = ransomware && strcmp(ransomware, "Known") == 0;
	return sink->kev ? sink->kev(sink->ctx, &k, err) : PW_OK;
}

static pw_err check_catalog(const cJSON *root, const char *name, pw_error *err)
{
	if (!cJSON_IsObject(root))
		return pw_error_set(err, PW_ERR_PARSE,
				    "%s: not a JSON object; a KEV catalog is one object with "
				    "vulnerabilities[]",
				    name);
	static const struct {
		const char *key;
		cJSON_bool (*is)(const cJSON *);
		const char *type;
	} fields[] = {
		{"catalogVersion", cJSON_IsString, "a string"},
		{"dateReleased", cJSON_IsString, "a string"},
		{"count", cJSON_IsNumber, "a number"},
		{"vulnerabilities", cJSON_IsArray, "a list"},
	};
	for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
		const cJSON *v = get(root, fields[k].key);
		if (!v || !fields[k].is(v))
			return pw_error_set(err, PW_ERR_PARSE,
					    "%s: %s: %s (a KEV catalog needs it as %s)", name,
					    fields[k].key, v ? "wrong type" : "missing",
					    fields[k].type);
	}
	return PW_OK;
}

pw_err pw_feed_parse_kev(const char *data, size_t len, const char *name, const pw_feed_sink *sink,
			 pw_error *err)
{
	cJSON *root;
	pw_err rc = pw_feed_json_parse(data, len, name, "a KEV catalog", &root, err);
	if (rc)
		return rc;
	rc = check_catalog(root, name, err);
	size_t i = 0;
	for (const cJSON *e = rc ? NULL : get(root, "vulnerabilities")->child; e && !rc;
	     e = e->next, i++)
		rc = take_entry(e, i, name, sink, err);
	cJSON_Delete(root);
	return rc;
}
