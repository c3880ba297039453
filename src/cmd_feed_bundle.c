/* patchwarden feed bundle keygen|create|verify|import: signed offline
 * feed bundles (bundle.c does the work). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/bundle.h"

#define CMD "feed bundle"
#define WARN_SHOWN_MAX 20

static const char usage[] =
	"usage: patchwarden feed bundle keygen --output PREFIX [--force]\n"
	"       patchwarden feed bundle create --key SECRET-KEY --output BUNDLE PATH...\n"
	"       patchwarden feed bundle verify --key PUBLIC-KEY [--json] BUNDLE\n"
	"       patchwarden feed bundle import --key PUBLIC-KEY [--store STORE] [--replace]\n"
	"                                      [--allow-older] [--json] BUNDLE";

struct args {
	const char *action;
	const char *key, *output, *store;
	bool force, replace, allow_older, json;
	char **rest;
	int n_rest;
};

static struct args args;

const struct pw_option cmd_feed_bundle_options[] = {
	PW_OPT_STRING('k', "key", &args.key, "KEY",
		      "the secret key (create) or public key (verify, import)"),
	PW_OPT_STRING('o', "output", &args.output, "PATH",
		      "keygen: PATH.sec and PATH.pub; create: the bundle"),
	PW_OPT_STRING(0, "store", &args.store, "STORE", "import: the feed store"),
	PW_OPT_FLAG(0, "force", &args.force, "keygen: overwrite existing key files"),
	PW_OPT_FLAG(0, "replace", &args.replace, "import: a full refresh, as feed import's"),
	PW_OPT_FLAG(0, "allow-older", &args.allow_older,
		    "import: accept a bundle older than the newest imported one"),
	PW_OPT_FLAG(0, "json", &args.json, "verify, import: print JSON"),
	PW_OPT_END(),
};

static int parse_args(int argc, char **argv, struct pw_setup *setup, struct args *a)
{
	if (argc < 2)
		return pw_cli_usage_error(CMD,
					  "give an action: keygen, create, verify or import\n%s",
					  usage);
	const char *action = argv[1]; /* the parser moves the operands over it */
	int n = pw_cli_parse(CMD, setup, argc - 1, argv + 1, PW_OPT_TABLES(cmd_feed_bundle_options),
			     ~0u);
	if (n < 0)
		return PW_EXIT_ERROR;
	*a = args;
	a->action = action;
	a->rest = argv + 1;
	a->n_rest = n;
	return PW_EXIT_OK;
}

static int need(const char *what, const char *value, const char *action)
{
	if (value)
		return PW_EXIT_OK;
	return pw_cli_usage_error(CMD, "%s needs %s\n%s", action, what, usage);
}

static int do_keygen(const struct args *a)
{
	int rc = need("--output PREFIX", a->output, "keygen");
	if (rc)
		return rc;
	if (a->n_rest)
		return pw_cli_usage_error(CMD, "keygen takes no arguments besides options");
	char id[PW_BUNDLE_KEY_ID_LEN + 1];
	pw_error e = PW_ERROR_INIT;
	if (pw_bundle_keygen(a->output, a->force, id, &e))
		return pw_cli_fail_err(CMD, &e);
	printf("key %s: wrote %s.sec (secret, mode 0600) and %s.pub\n"
	       "Keep %s.sec on the signing host; copy %s.pub to the servers that import bundles.\n",
	       id, a->output, a->output, a->output, a->output);
	return PW_EXIT_OK;
}

static int do_create(const struct args *a)
{
	int rc = need("--key SECRET-KEY", a->key, "create");
	if (rc == PW_EXIT_OK)
		rc = need("--output BUNDLE", a->output, "create");
	if (rc)
		return rc;
	if (a->n_rest == 0)
		return pw_cli_usage_error(CMD,
					  "create needs the feed files or directories to bundle");
	pw_bundle_info info;
	pw_error e = PW_ERROR_INIT;
	if (pw_bundle_create(a->output, a->key, (const char *const *)a->rest, (size_t)a->n_rest,
			     &info, &e))
		return pw_cli_fail_err(CMD, &e);
	printf("%s: %zu files, %llu bytes, signed with key %s\n", a->output, info.files,
	       (unsigned long long)info.bytes, info.key_id);
	return PW_EXIT_OK;
}

static cJSON *info_json(const char *bundle, const pw_bundle_info *info)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "bundle", bundle);
	cJSON_AddStringToObject(o, "created", info->created);
	cJSON_AddStringToObject(o, "key", info->key_id);
	cJSON_AddNumberToObject(o, "files", (double)info->files);
	cJSON_AddNumberToObject(o, "bytes", (double)info->bytes);
	return o;
}

static void print_json(cJSON *o)
{
	char *text = cJSON_Print(o);
	if (text)
		puts(text);
	free(text);
	cJSON_Delete(o);
}

static int one_bundle(const struct args *a, const char *action)
{
	int rc = need("--key PUBLIC-KEY", a->key, action);
	if (rc)
		return rc;
	if (a->n_rest != 1)
		return pw_cli_usage_error(CMD, "%s takes exactly one bundle", action);
	return PW_EXIT_OK;
}

static int do_verify(const struct args *a)
{
	int rc = one_bundle(a, "verify");
	if (rc)
		return rc;
	pw_bundle_info info;
	pw_error e = PW_ERROR_INIT;
	if (pw_bundle_verify(a->rest[0], a->key, NULL, &info, &e))
		return pw_cli_fail_err(CMD, &e);
	if (a->json)
		print_json(info_json(a->rest[0], &info));
	else
		printf("%s: OK: %zu files, %llu bytes, created %s, signed with key %s\n",
		       a->rest[0], info.files, (unsigned long long)info.bytes, info.created,
		       info.key_id);
	return PW_EXIT_OK;
}

static size_t warnings_seen;

static void on_warn(void *ctx, const char *where, const char *message)
{
	(void)ctx;
	if (++warnings_seen <= WARN_SHOWN_MAX)
		pw_cli_warn(CMD, "%s: %s", where, message);
}

static int do_import(const struct args *a)
{
	int rc = one_bundle(a, "import");
	if (rc)
		return rc;
	pw_error e = PW_ERROR_INIT;
	const char *store_path = pw_cli_store(a->store);
	pw_bundle_info info;
	pw_import_stats st = {0};
	int64_t snap = 0;
	pw_bundle_import_opts io = {a->replace, a->allow_older, on_warn, NULL};
	if (pw_bundle_import(store_path, a->rest[0], a->key, &io, &snap, &st, &info, &e)) {
		rc = pw_cli_fail_err(CMD, &e);
	} else if (a->json) {
		cJSON *o = info_json(a->rest[0], &info);
		cJSON_AddNumberToObject(o, "snapshot", (double)snap);
		cJSON_AddNumberToObject(o, "advisories", (double)st.advisories);
		cJSON_AddNumberToObject(o, "added", (double)st.added);
		cJSON_AddNumberToObject(o, "retired", (double)st.retired);
		cJSON_AddNumberToObject(o, "kev", (double)st.kev);
		cJSON_AddNumberToObject(o, "epss", (double)st.epss);
		cJSON_AddNumberToObject(o, "warnings", (double)st.warnings);
		cJSON_AddNumberToObject(o, "skipped", (double)st.skipped);
		print_json(o);
	} else {
		if (warnings_seen > WARN_SHOWN_MAX)
			pw_cli_warn(CMD, "%zu more warnings not shown",
				    warnings_seen - WARN_SHOWN_MAX);
		printf("%s: verified %zu files (key %s, created %s)\n"
		       "snapshot %lld: %zu advisories (%zu new or changed, %zu retired), %zu KEV, "
		       "%zu EPSS, %zu warnings, %zu skipped\n",
		       a->rest[0], info.files, info.key_id, info.created, (long long)snap,
		       st.advisories, st.added, st.retired, st.kev, st.epss, st.warnings,
		       st.skipped);
	}
	return rc;
}

int cmd_feed_bundle(int argc, char **argv, struct pw_setup *setup)
{
	struct args a = {0};
	int rc = parse_args(argc, argv, setup, &a);
	if (rc)
		return rc;
	static const struct {
		const char *name;
		int (*run)(const struct args *a);
	} actions[] = {
		{"create", do_create},
		{"import", do_import},
		{"keygen", do_keygen},
		{"verify", do_verify},
	};
	for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
		if (strcmp(actions[i].name, a.action) == 0)
			return actions[i].run(&a);
	return pw_cli_usage_error(CMD,
				  "unknown action '%s'; use keygen, create, verify or import\n%s",
				  a.action, usage);
}
