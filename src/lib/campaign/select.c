/* The selection texts of campaign_select.h. */
#include "patchwarden/campaign_select.h"

#include <stdlib.h>
#include <string.h>

#define SEP ','

static pw_err bad(pw_error *err, const char *what, const char *pair, const char *accepted)
{
	return pw_error_set(err, PW_ERR_INVALID, "%s: \"%.64s\" is not valid: %s", what, pair,
			    accepted);
}

static bool parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "true") && strcmp(v, "false"))
		return false;
	*out = !strcmp(v, "true");
	return true;
}

/* A decimal number in [lo, hi]. */
static bool parse_num(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	if (!*v || *v == '-' || *v == '+' || strlen(v) > 12)
		return false;
	long long n = strtoll(v, &end, 10);
	if (*end || n < lo || n > hi)
		return false;
	*out = n;
	return true;
}

static const char host_keys[] = "category, exposure, environment, owner, criticality (1-5), "
				"overdue (true/false), stale (DAYS), decommissioned "
				"(false/true/any)";

static bool host_pair(pw_host_filter *f, const char *k, const char *v)
{
	int64_t n;
	if (!strcmp(k, "category"))
		f->category = v;
	else if (!strcmp(k, "exposure"))
		f->exposure = v;
	else if (!strcmp(k, "environment"))
		f->environment = v;
	else if (!strcmp(k, "owner"))
		f->owner_group = v;
	else if (!strcmp(k, "criticality") && parse_num(v, 1, 5, &n))
		f->min_criticality = (int)n;
	else if (!strcmp(k, "stale") && parse_num(v, 1, 100000, &n))
		f->stale_days = n;
	else if (!strcmp(k, "overdue"))
		return parse_bool(v, &f->overdue);
	else if (!strcmp(k, "decommissioned"))
		return pw_host_decom_parse(v, &f->decom);
	else
		return false;
	return true;
}

static const char finding_keys[] = "priority, package, cve, advisory, kev (true/false), "
				   "due_before (YYYY-MM-DD)";

static bool finding_pair(pw_finding_filter *f, const char *k, const char *v)
{
	bool kev;
	if (!strcmp(k, "priority"))
		f->priority = v;
	else if (!strcmp(k, "package"))
		f->package = v;
	else if (!strcmp(k, "cve"))
		f->cve = v;
	else if (!strcmp(k, "advisory"))
		f->advisory = v;
	else if (!strcmp(k, "due_before"))
		f->due_before = v;
	else if (!strcmp(k, "kev") && parse_bool(v, &kev))
		f->kev = kev ? 1 : -1;
	else
		return false;
	return true;
}

typedef bool (*pair_fn)(pw_campaign_select *s, const char *k, const char *v);

static bool host_fn(pw_campaign_select *s, const char *k, const char *v)
{
	return host_pair(&s->f.host, k, v);
}

static bool finding_fn(pw_campaign_select *s, const char *k, const char *v)
{
	return finding_pair(&s->f, k, v);
}

/* Splits the pairs of `text` (a copy in the select's buffer at *p) and
 * hands each to fn; *p moves past the copy. */
static pw_err pairs(pw_campaign_select *s, char **p, const char *text, const char *what,
		    const char *accepted, pair_fn fn, pw_error *err)
{
	size_t len = strlen(text);
	char *copy = memcpy(*p, text, len + 1);
	*p += len + 1;
	if (!len)
		return bad(err, what, text, "give key=value pairs joined by ','");
	for (char *save = NULL, *pair = strtok_r(copy, ",", &save); pair;
	     pair = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(pair, '=');
		if (!eq || eq == pair || !eq[1])
			return bad(err, what, pair, "give key=value pairs joined by ','");
		*eq = '\0';
		if (!fn(s, pair, eq + 1)) {
			*eq = '=';
			return bad(err, what, pair, accepted);
		}
	}
	return PW_OK;
}

static pw_err packages(pw_campaign_select *s, char **p, const char *text, pw_error *err)
{
	size_t len = strlen(text);
	char *copy = memcpy(*p, text, len + 1);
	*p += len + 1;
	for (char *save = NULL, *name = strtok_r(copy, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		if (s->n_packages == PW_SELECT_PACKAGES_MAX)
			return bad(err, "--upgrades", text, "at most 256 packages");
		if (strlen(name) > 255 || strpbrk(name, "= \t\n"))
			return bad(err, "--upgrades", name,
				   "give package names as 'upgrades' prints them, joined by ','");
		s->packages[s->n_packages++] = name;
	}
	return s->n_packages ? PW_OK : bad(err, "--upgrades", text, "name at least one package");
}

pw_err pw_campaign_select_parse(const char *hosts, const char *findings, const char *upgrades,
				pw_campaign_select *out, pw_error *err)
{
	memset(out, 0, sizeof *out);
	out->f = (pw_finding_filter)PW_FINDING_FILTER_INIT;
	out->f.state = "open";
	if (!hosts)
		return pw_error_set(
			err, PW_ERR_INVALID,
			"--hosts is required: a host filter (\"all\", or key=value pairs "
			"of %s)",
			host_keys);
	if (findings && upgrades)
		return pw_error_set(err, PW_ERR_INVALID, "give --upgrades or --findings, not both");
	size_t total = strlen(hosts) + (findings ? strlen(findings) : 0) +
		       (upgrades ? strlen(upgrades) : 0);
	if (total > PW_SELECT_TEXT_MAX)
		return pw_error_set(err, PW_ERR_INVALID, "the selection is longer than %d bytes",
				    PW_SELECT_TEXT_MAX);
	char *p = out->buf = malloc(total + 3);
	if (!p)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	pw_err rc = strcmp(hosts, "all") ? pairs(out, &p, hosts, "--hosts", host_keys, host_fn, err)
					 : PW_OK;
	if (!rc && findings)
		rc = pairs(out, &p, findings, "--findings", finding_keys, finding_fn, err);
	if (!rc && upgrades)
		rc = packages(out, &p, upgrades, err);
	return rc;
}

void pw_campaign_select_release(pw_campaign_select *s)
{
	free(s->buf);
	s->buf = NULL;
}

pw_err pw_campaign_soak_parse(const char *text, int64_t *seconds, pw_error *err)
{
	static const char units[] = "smhd";
	static const int64_t mult[] = {1, 60, 3600, 86400};
	size_t len = text ? strlen(text) : 0;
	const char *u = len ? strchr(units, text[len - 1]) : NULL;
	char num[16];
	int64_t n;
	size_t digits = u ? len - 1 : len;
	if (digits && digits < sizeof num) {
		memcpy(num, text, digits);
		num[digits] = '\0';
		int64_t m = u ? mult[u - units] : 86400;
		if (parse_num(num, 0, 366 * 86400 / m, &n)) {
			*seconds = n * m;
			return PW_OK;
		}
	}
	return pw_error_set(err, PW_ERR_INVALID,
			    "--soak: \"%.32s\" is not a duration: give days (\"2\") or a number "
			    "with s, m, h or d (\"30m\"), at most a year",
			    text ? text : "");
}
