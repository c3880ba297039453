/* Alpine secdb: v3.x/{main,community}.yaml (the historical git copy) and
 * the same structure as JSON (secdb.alpinelinux.org), plus vuln-list's
 * one-package JSON ({"name", "secfixes", "distroversion"}).
 *
 *   distroversion: v3.10
 *   packages:
 *     - pkg:
 *         name: ansible
 *         secfixes:
 *           2.8.4-r0:            # installed < 2.8.4-r0 is affected by:
 *             - CVE-2019-10206
 *           0:                   # "0": these never affected this package
 *             - CVE-2019-14846
 *
 * One advisory per (package, fixed version), id
 * "ALPINE-<release>-<package>-<version>": one upgrade closes all its CVEs,
 * so a host gets one finding per upgrade to do, as with a DSA, rather than
 * one per CVE. The "0" key gives a not-affected advisory.
 *
 * by_source = true: secfixes come from the "# secfixes:" comment of an
 * aports APKBUILD, so the name is the origin package (e.g. "openssl" for
 * libssl1.1 and libcrypto1.1, which the data never names); installed
 * packages carry it as their origin ("o:" in lib/apk/db/installed).
 *
 * Entries are ids with optional remarks: "CVE-2018-3639 XSA-263",
 * "CVE-2018-16451 (SMB)". Every blank-separated word before a "(" must be
 * an advisory id (CVE, XSA, GHSA, TALOS, ...); other words ("CVE_2019-2426",
 * "CVE-????-?????", "CVE-2017-8073.patch") are warned about and dropped
 * while the rest of the advisory stands. */
#include <stdio.h>

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "feeds-internal.h"

typedef struct apk_parse {
	const char *name;
	const pw_feed_sink *sink;
	pw_dadv adv;
	char eco[PW_ECOSYSTEM_MAX];
	pw_buf scratch;  /* advisory id being assembled */
	char field[384]; /* JSON position for warnings; "" when a line is used */
	size_t line;     /* YAML position for warnings; 0 when `field` is used */
} apk_parse;

static const char *apk_field(const apk_parse *ap)
{
	return ap->field[0] ? ap->field : NULL;
}

static pw_err apk_release(apk_parse *ap, pw_dspan distroversion, pw_error *err)
{
	pw_error e = PW_ERROR_INIT;
	if (!distroversion.p)
		return pw_error_set(err, PW_ERR_PARSE,
				    "%s: no 'distroversion' (e.g. 'v3.10'); cannot tell which "
				    "Alpine release the fixes are for",
				    ap->name);
	if (pw_distro_ecosystem("alpine", distroversion, ap->eco, &e))
		return pw_error_set(err, PW_ERR_PARSE, "%s: distroversion: %s", ap->name,
				    pw_error_text(&e));
	return PW_OK;
}

/* Starts the advisory for `pkg` fixed in `ver`; false (warned) to skip. */
static pw_err fix_begin(apk_parse *ap, pw_dspan pkg, pw_dspan ver, bool *ok)
{
	*ok = false;
	if (!pw_distro_is_version(ver)) {
		pw_distro_warn(ap->sink, ap->name, ap->line, apk_field(ap),
			       "secfixes key '%.*s' of %.*s is not a version; skipped",
			       PW_DSPAN_CLIP(ver), PW_DSPAN_CLIP(pkg));
		return PW_OK;
	}
	pw_dadv *a = &ap->adv;
	pw_dadv_reset(a);
	bool zero = pw_dspan_eq(ver, "0");
	pw_buf_reset(&ap->scratch);
	pw_err rc = pw_buf_printf(&ap->scratch, "ALPINE-%s-%.*s-%.*s", strchr(ap->eco, ':') + 1,
				  PW_DSPAN_CLIP(pkg), PW_DSPAN_CLIP(ver));
	if (!rc)
		rc = pw_dadv_str(a, (pw_dspan){ap->scratch.data, ap->scratch.len}, &a->id);
	pw_buf_reset(&ap->scratch);
	if (!rc)
		rc = pw_buf_printf(&ap->scratch,
				   zero ? "%.*s is not affected" : "%.*s fixed in %.*s",
				   PW_DSPAN_CLIP(pkg), PW_DSPAN_CLIP(ver));
	if (!rc)
		rc = pw_dadv_set_summary(a, (pw_dspan){ap->scratch.data, ap->scratch.len});
	if (!rc)
		rc = pw_dadv_add_row(a, &(pw_dadv_rowin){
						.ecosystem = pw_dspan_z(ap->eco),
						.package = pkg,
						.by_source = true,
						.state = zero ? PW_FIX_NOT_AFFECTED : PW_FIX_FIXED,
						.fixed = zero ? (pw_dspan){NULL, 0} : ver,
					});
	*ok = !rc;
	return rc;
}

/* One secfixes entry: ids, then an optional "(remark)". */
static pw_err fix_entry(apk_parse *ap, pw_dspan entry)
{
	pw_dspan s = entry;
	for (pw_dspan word = pw_dspan_word(&s); word.n && word.p[0] != '(';
	     word = pw_dspan_word(&s)) {
		if (!pw_distro_is_id(word)) {
			pw_distro_warn(ap->sink, ap->name, ap->line, apk_field(ap),
				       "'%.*s' in secfixes entry '%.*s' is not an advisory id; "
				       "dropped",
				       PW_DSPAN_CLIP(word), PW_DSPAN_CLIP(entry));
			continue;
		}
		pw_err rc = pw_dadv_add_cve(&ap->adv, word);
		if (rc)
			return rc;
	}
	return PW_OK;
}

/* ---- YAML (libyaml document API) ------------------------------------- */

typedef struct apk_yaml {
	apk_parse *ap;
	yaml_document_t doc;
	unsigned char *seen; /* per node: visited already (an alias) */
} apk_yaml;

static size_t ynode_line(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

static pw_dspan yscalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return (pw_dspan){NULL, 0};
	return (pw_dspan){(const char *)n->data.scalar.value, n->data.scalar.length};
}

static yaml_node_t *ymap_get(apk_yaml *y, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++)
		if (pw_dspan_eq(yscalar(yaml_document_get_node(&y->doc, p->key)), key))
			return yaml_document_get_node(&y->doc, p->value);
	return NULL;
}

/* YAML aliases can make one node appear many times; the secdb never uses
 * them, and walking each collection once keeps the work linear in the
 * input whatever a crafted file does. */
static bool first_visit(apk_yaml *y, const yaml_node_t *n)
{
	size_t i = (size_t)(n - y->doc.nodes.start);
	if (y->seen[i]) {
		pw_distro_warn(y->ap->sink, y->ap->name, ynode_line(n), NULL,
			       "YAML alias repeats an earlier node; ignored");
		return false;
	}
	y->seen[i] = 1;
	return true;
}

static bool yaml_null(const yaml_node_t *n)
{
	pw_dspan s = yscalar(n);
	return n && n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (s.n == 0 || pw_dspan_eq(s, "~") || pw_dspan_eq(s, "null"));
}

static pw_err yaml_fix(apk_yaml *y, pw_dspan pkg, const yaml_node_pair_t *pair, pw_error *err)
{
	apk_parse *ap = y->ap;
	yaml_node_t *key = yaml_document_get_node(&y->doc, pair->key);
	yaml_node_t *list = yaml_document_get_node(&y->doc, pair->value);
	ap->line = ynode_line(key);
	if (!list || list->type != YAML_SEQUENCE_NODE) {
		pw_distro_warn(ap->sink, ap->name, ap->line, NULL,
			       "secfixes of %.*s %.*s is not a list of ids; skipped",
			       PW_DSPAN_CLIP(pkg), PW_DSPAN_CLIP(yscalar(key)));
		return PW_OK;
	}
	if (!first_visit(y, list))
		return PW_OK;
	bool ok;
	pw_err rc = fix_begin(ap, pkg, yscalar(key), &ok);
	if (rc || !ok)
		return rc;
	for (yaml_node_item_t *i = list->data.sequence.items.start;
	     !rc && i < list->data.sequence.items.top; i++) {
		yaml_node_t *item = yaml_document_get_node(&y->doc, *i);
		ap->line = ynode_line(item);
		if (item->type != YAML_SCALAR_NODE) {
			pw_distro_warn(ap->sink, ap->name, ap->line, NULL,
				       "secfixes entry is not text; dropped");
			continue;
		}
		rc = fix_entry(ap, yscalar(item));
	}
	return rc ? rc : pw_dadv_emit(&ap->adv, "alpine-secdb", ap->sink, err);
}

static pw_err yaml_package(apk_yaml *y, yaml_node_t *item, pw_error *err)
{
	apk_parse *ap = y->ap;
	if (!first_visit(y, item))
		return PW_OK;
	yaml_node_t *pkg = ymap_get(y, item, "pkg");
	pw_dspan name = yscalar(ymap_get(y, pkg, "name"));
	yaml_node_t *fixes = ymap_get(y, pkg, "secfixes");
	if (!pw_distro_is_version(name)) {
		pw_distro_warn(ap->sink, ap->name, ynode_line(item), NULL,
			       "package entry without a usable pkg.name; skipped");
		return PW_OK;
	}
	if (!fixes || yaml_null(fixes))
		return PW_OK;
	if (fixes->type != YAML_MAPPING_NODE) {
		pw_distro_warn(ap->sink, ap->name, ynode_line(fixes), NULL,
			       "secfixes of %.*s is not a mapping; package skipped",
			       PW_DSPAN_CLIP(name));
		return PW_OK;
	}
	if (!first_visit(y, fixes))
		return PW_OK;
	pw_err rc = PW_OK;
	for (yaml_node_pair_t *p = fixes->data.mapping.pairs.start;
	     !rc && p < fixes->data.mapping.pairs.top; p++)
		rc = yaml_fix(y, name, p, err);
	return rc;
}

static pw_err parse_yaml(apk_parse *ap, const char *data, size_t len, pw_error *err)
{
	yaml_parser_t parser;
	apk_yaml y = {.ap = ap};
	if (!yaml_parser_initialize(&parser))
		return pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", ap->name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &y.doc)) {
		pw_err rc = pw_error_set(err, PW_ERR_PARSE, "%s:%zu: invalid YAML: %s%s%s",
					 ap->name, parser.problem_mark.line + 1,
					 parser.problem ? parser.problem : "unknown problem",
					 parser.context ? " " : "",
					 parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return rc;
	}
	yaml_parser_delete(&parser);
	pw_err rc = PW_OK;
	yaml_node_t *root = yaml_document_get_root_node(&y.doc);
	yaml_node_t *packages = ymap_get(&y, root, "packages");
	if (!root || root->type != YAML_MAPPING_NODE) {
		rc = pw_error_set(err, PW_ERR_PARSE,
				  "%s: not an Alpine secdb (expected a mapping with distroversion "
				  "and packages)",
				  ap->name);
		goto out;
	}
	if ((rc = apk_release(ap, yscalar(ymap_get(&y, root, "distroversion")), err)))
		goto out;
	if (!packages || yaml_null(packages))
		goto out;
	if (packages->type != YAML_SEQUENCE_NODE) {
		rc = pw_error_set(err, PW_ERR_PARSE, "%s:%zu: 'packages' is not a list", ap->name,
				  ynode_line(packages));
		goto out;
	}
	y.seen = calloc((size_t)(y.doc.nodes.top - y.doc.nodes.start), 1);
	if (!y.seen) {
		rc = pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", ap->name);
		goto out;
	}
	for (yaml_node_item_t *i = packages->data.sequence.items.start;
	     !rc && i < packages->data.sequence.items.top; i++)
		rc = yaml_package(&y, yaml_document_get_node(&y.doc, *i), err);
out:
	free(y.seen);
	yaml_document_delete(&y.doc);
	return rc;
}

/* ---- JSON ------------------------------------------------------------ */

static pw_err json_fixes(apk_parse *ap, const char *prefix, const cJSON *pkg, pw_error *err)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(pkg, "name");
	const cJSON *fixes = cJSON_GetObjectItemCaseSensitive(pkg, "secfixes");
	snprintf(ap->field, sizeof ap->field, "%sname", prefix);
	if (!cJSON_IsString(name) || !pw_distro_is_version(pw_dspan_z(name->valuestring))) {
		pw_distro_warn(ap->sink, ap->name, 0, ap->field,
			       "missing or unusable package name; skipped");
		return PW_OK;
	}
	pw_dspan pname = pw_dspan_z(name->valuestring);
	if (!fixes || cJSON_IsNull(fixes))
		return PW_OK;
	snprintf(ap->field, sizeof ap->field, "%ssecfixes", prefix);
	if (!cJSON_IsObject(fixes)) {
		pw_distro_warn(ap->sink, ap->name, 0, ap->field,
			       "not an object; package %.*s skipped", PW_DSPAN_CLIP(pname));
		return PW_OK;
	}
	const cJSON *list;
	cJSON_ArrayForEach(list, fixes) {
		snprintf(ap->field, sizeof ap->field, "%ssecfixes[\"%.60s\"]", prefix,
			 list->string);
		if (!cJSON_IsArray(list)) {
			pw_distro_warn(ap->sink, ap->name, 0, ap->field,
				       "not a list of ids; skipped");
			continue;
		}
		bool ok;
		pw_err rc = fix_begin(ap, pname, pw_dspan_z(list->string), &ok);
		if (rc)
			return rc;
		if (!ok)
			continue;
		const cJSON *e;
		cJSON_ArrayForEach(e, list) {
			if (!cJSON_IsString(e)) {
				pw_distro_warn(ap->sink, ap->name, 0, ap->field,
					       "entry is not a string; dropped");
				continue;
			}
			if ((rc = fix_entry(ap, pw_dspan_z(e->valuestring))))
				return rc;
		}
		if ((rc = pw_dadv_emit(&ap->adv, "alpine-secdb", ap->sink, err)))
			return rc;
	}
	return PW_OK;
}

static pw_err parse_json(apk_parse *ap, const char *data, size_t len, pw_error *err)
{
	cJSON *root;
	pw_err rc = pw_feed_json_parse(data, len, ap->name, "an Alpine secdb (JSON)", &root, err);
	if (rc)
		return rc;
	const cJSON *dv = cJSON_GetObjectItemCaseSensitive(root, "distroversion");
	const cJSON *packages = cJSON_GetObjectItemCaseSensitive(root, "packages");
	if (!cJSON_IsObject(root) ||
	    (!packages && !cJSON_GetObjectItemCaseSensitive(root, "secfixes"))) {
		rc = pw_error_set(err, PW_ERR_PARSE,
				  "%s: not an Alpine secdb (expected an object with distroversion "
				  "and packages, or name and secfixes)",
				  ap->name);
		goto out;
	}
	if ((rc = apk_release(ap, pw_dspan_z(cJSON_IsString(dv) ? dv->valuestring : NULL), err)))
		goto out;
	if (!packages) {
		rc = json_fixes(ap, "", root, err);
		goto out;
	}
	if (!cJSON_IsArray(packages)) {
		if (!cJSON_IsNull(packages))
			rc = pw_error_set(err, PW_ERR_PARSE, "%s: 'packages' is not a list",
					  ap->name);
		goto out;
	}
	size_t i = 0;
	const cJSON *item;
	cJSON_ArrayForEach(item, packages) {
		char prefix[64];
		snprintf(prefix, sizeof prefix, "packages[%zu].pkg.", i++);
		const cJSON *pkg = cJSON_GetObjectItemCaseSensitive(item, "pkg");
		if (!cJSON_IsObject(pkg)) {
			pw_distro_warn(ap->sink, ap->name, 0, prefix,
				       "package entry without a 'pkg' object; skipped");
			continue;
		}
		if ((rc = json_fixes(ap, prefix, pkg, err)))
			break;
	}
out:
	cJSON_Delete(root);
	return rc;
}

pw_err pw_feed_parse_alpine_secdb(const char *data, size_t len, const char *name,
				  const pw_feed_sink *sink, pw_error *err)
{
	apk_parse ap = {.name = name, .sink = sink, .adv = PW_DADV_INIT, .scratch = PW_BUF_INIT};
	size_t i = 0;
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		i = 3;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	pw_err rc = i < len && data[i] == '{' ? parse_json(&ap, data, len, err)
					      : parse_yaml(&ap, data, len, err);
	if (rc == PW_ERR_NOMEM)
		pw_error_set(err, rc, "%s: out of memory", name);
	pw_dadv_release(&ap.adv);
	pw_buf_release(&ap.scratch);
	return rc;
}
