/* patchwarden feed sync: download the configured feeds and import them
 * as one snapshot. All the work is in feedsync.c; this file parses
 * options and prints. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/config.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/feedsync.h"

#define CMD "feed sync"
#define SOURCES_DEFAULT_PATH "/etc/patchwarden/sources.conf"
#define WARN_SHOWN_MAX 20

struct run {
	bool json;
	bool progress, tty; /* progress lines, rewritten in place on a terminal */
	bool shown;         /* a progress line is on the screen */
	double last;        /* when progress was last printed */
	char current[64];   /* the source being fetched */
	size_t warnings;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void clear_progress(struct run *run)
{
	if (run->shown && run->tty)
		fputs("\r\033[K", stderr);
	run->shown = false;
}

/* At most four updates a second. */
static bool progress_due(struct run *run, bool last)
{
	double t = now_s();
	if (!run->progress || (!last && t - run->last < 0.25))
		return false;
	run->last = t;
	run->shown = true;
	return true;
}

static void on_retry(void *ctx, const char *url, unsigned attempt, unsigned attempts, long delay_ms,
		     const char *reason)
{
	clear_progress(ctx);
	pw_cli_warn(CMD, "%s: %s; attempt %u of %u in %.1f s", url, reason, attempt, attempts,
		    (double)delay_ms / 1000.0);
}

static void human_size(uint64_t n, char *out, size_t cap)
{
	if (n >= 10u << 20)
		snprintf(out, cap, "%.0f MiB", (double)n / (1 << 20));
	else if (n >= 10u << 10)
		snprintf(out, cap, "%.0f KiB", (double)n / (1 << 10));
	else
		snprintf(out, cap, "%llu B", (unsigned long long)n);
}

static void on_fetch(void *ctx, const char *name, const char *url)
{
	(void)url;
	struct run *run = ctx;
	snprintf(run->current, sizeof run->current, "%s", name);
	run->last = now_s();
}

static void on_download(void *ctx, const char *url, uint64_t done, uint64_t total)
{
	(void)url;
	struct run *run = ctx;
	if (!progress_due(run, total && done == total))
		return;
	char d[32], t[32] = "?";
	human_size(done, d, sizeof d);
	if (total)
		human_size(total, t, sizeof t);
	fprintf(stderr, "%s%s: %s of %s%s", run->tty ? "\r" : "", run->current, d, t,
		run->tty ? "\033[K" : "\n");
}

static void on_import(void *ctx, size_t done, size_t total, const char *current)
{
	struct run *run = ctx;
	if (!progress_due(run, done == total))
		return;
	fprintf(stderr, "%simporting: %zu of %zu files (%s)%s", run->tty ? "\r" : "", done, total,
		current ? current : "", run->tty ? "\033[K" : "\n");
}

static void on_source(void *ctx, const pw_sync_report *r)
{
	struct run *run = ctx;
	clear_progress(run);
	if (r->status == PW_SYNC_FAILED)
		pw_cli_fail(CMD, "%s: %s%s", r->name, r->error,
			    r->kept_previous ? " (its previous data is kept)" : "");
	if (run->json)
		return;
	char size[32] = "";
	if (r->status == PW_SYNC_DOWNLOADED || (r->status == PW_SYNC_UNCHANGED && r->bytes))
		human_size(r->bytes, size, sizeof size);
	printf("%-24s %-10s %3ld %10s %6.1f s%s\n", r->name, pw_sync_status_name(r->status),
	       r->http_status, size, r->seconds, r->attempts > 1 ? "  (retried)" : "");
	fflush(stdout);
}

static void on_warn(void *ctx, const char *where, const char *message)
{
	struct run *run = ctx;
	clear_progress(run);
	if (++run->warnings <= WARN_SHOWN_MAX)
		pw_cli_warn(CMD, "%s: %s", where, message);
}

static void print_json(const pw_sync_summary *s)
{
	cJSON *o = cJSON_CreateObject();
	if (s->snapshot)
		cJSON_AddNumberToObject(o, "snapshot", (double)s->snapshot);
	else
		cJSON_AddNullToObject(o, "snapshot");
	cJSON_AddBoolToObject(o, "replaced", s->replaced);
	cJSON_AddNumberToObject(o, "downloaded", (double)s->downloaded);
	cJSON_AddNumberToObject(o, "unchanged", (double)s->unchanged);
	cJSON_AddNumberToObject(o, "failed", (double)s->failed);
	cJSON *st = cJSON_AddObjectToObject(o, "stats");
	const struct {
		const char *k;
		size_t v;
	} stats[] = {{"files", s->stats.files},       {"advisories", s->stats.advisories},
		     {"added", s->stats.added},       {"unchanged", s->stats.unchanged},
		     {"retired", s->stats.retired},   {"affected", s->stats.affected},
		     {"kev", s->stats.kev},           {"epss", s->stats.epss},
		     {"warnings", s->stats.warnings}, {"skipped", s->stats.skipped}};
	for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++)
		cJSON_AddNumberToObject(st, stats[i].k, (double)stats[i].v);
	cJSON *arr = cJSON_AddArrayToObject(o, "sources");
	for (size_t i = 0; i < s->n_sources; i++) {
		const pw_sync_report *r = &s->sources[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "name", r->name);
		cJSON_AddStringToObject(j, "url", r->url);
		cJSON_AddStringToObject(j, "status", pw_sync_status_name(r->status));
		cJSON_AddNumberToObject(j, "http_status", (double)r->http_status);
		cJSON_AddNumberToObject(j, "bytes", (double)r->bytes);
		cJSON_AddNumberToObject(j, "attempts", r->attempts);
		cJSON_AddNumberToObject(j, "seconds", r->seconds);
		cJSON_AddBoolToObject(j, "kept_previous", r->kept_previous);
		if (r->error[0])
			cJSON_AddStringToObject(j, "error", r->error);
		else
			cJSON_AddNullToObject(j, "error");
		cJSON_AddItemToArray(arr, j);
	}
	char *text = cJSON_Print(o);
	if (text)
		puts(text);
	free(text);
	cJSON_Delete(o);
}

static void print_summary(const pw_sync_summary *s, const struct run *run)
{
	if (run->warnings > WARN_SHOWN_MAX)
		pw_cli_warn(CMD, "%zu more warnings not shown", run->warnings - WARN_SHOWN_MAX);
	if (!s->snapshot) {
		printf("no new snapshot: no feed changed (%zu unchanged, %zu failed)\n",
		       s->unchanged, s->failed);
		return;
	}
	printf("snapshot %lld: %zu downloaded, %zu unchanged, %zu failed; %zu advisories "
	       "(%zu new or changed, %zu retired), %zu KEV, %zu EPSS, %zu warnings, %zu skipped\n",
	       (long long)s->snapshot, s->downloaded, s->unchanged, s->failed, s->stats.advisories,
	       s->stats.added, s->stats.retired, s->stats.kev, s->stats.epss, s->stats.warnings,
	       s->stats.skipped);
	if (!s->replaced && s->stats.skipped)
		printf("note: malformed files or records were skipped, so withdrawn advisories were"
		       " not retired; they will be on the next sync without them\n");
	else if (!s->replaced)
		printf("note: some enabled source has no data yet, so withdrawn advisories were "
		       "not "
		       "retired; they will be on the next complete sync\n");
}

struct args {
	const char *sources, *store, *cache_dir;
	struct pw_opt_list only;
	bool json, progress;
};

static struct args args;

const struct pw_option cmd_feed_sync_options[] = {
	{.kind = PW_OPT_STRING,
	 .long_name = "sources",
	 .value = &args.sources,
	 .argh = "FILE",
	 .help = "the feed sources (default: 'sources' in [sync] of the\n"
		 "configuration file, else " SOURCES_DEFAULT_PATH ";\n"
		 "'' for none)",
	 .flags = PW_OPTF_EMPTY_OK},
	PW_OPT_STRING(0, "store", &args.store, "STORE", "the feed store"),
	PW_OPT_STRING(0, "cache-dir", &args.cache_dir, "DIR",
		      "where downloads are kept between syncs"),
	PW_OPT_LIST(0, "source", &args.only, "NAME", "sync only source NAME (repeatable)"),
	PW_OPT_FLAG(0, "json", &args.json, "print the summary as JSON"),
	PW_OPT_FLAG(0, "progress", &args.progress,
		    "show progress even when stderr is not a terminal"),
	PW_OPT_END(),
};

static int parse_args(int argc, char **argv, struct pw_setup *setup, struct args *a)
{
	int n = pw_cli_parse(CMD, setup, argc, argv, PW_OPT_TABLES(cmd_feed_sync_options), ~0u);
	*a = args;
	if (n < 0)
		return PW_EXIT_ERROR;
	if (n > 0)
		return pw_cli_usage_error(CMD, "unexpected argument '%s'", argv[0]);
	return PW_EXIT_OK;
}

static int load_configs(const struct args *a, struct pw_setup *setup, pw_config **cfg,
			pw_config **shipped, const char **shipped_path)
{
	pw_error e = PW_ERROR_INIT;
	if (!(*cfg = pw_cli_config(CMD, setup)))
		return PW_EXIT_ERROR;
	const char *sp = a->sources ? a->sources : pw_config_get(*cfg, "sync", "sources");
	bool must = sp != NULL;
	if (!sp)
		sp = SOURCES_DEFAULT_PATH;
	*shipped_path = sp;
	if (!*sp)
		return PW_EXIT_OK;
	if (pw_config_load(sp, must, shipped, &e))
		return pw_cli_fail_err(CMD, &e);
	return PW_EXIT_OK;
}

int cmd_feed_sync(int argc, char **argv, struct pw_setup *setup)
{
	struct args a = {0};
	pw_config *cfg = NULL, *shipped = NULL;
	pw_feedstore *store = NULL;
	char *cache = NULL;
	const char *shipped_path = NULL;
	pw_sync_summary sum = PW_SYNC_SUMMARY_INIT;
	struct run run = {0};
	int rc = parse_args(argc, argv, setup, &a);
	if (rc == PW_EXIT_OK)
		rc = load_configs(&a, setup, &cfg, &shipped, &shipped_path);
	if (rc != PW_EXIT_OK)
		goto out;
	const char *store_path = pw_cli_store(a.store);
	const char *cache_dir = a.cache_dir;
	if (!cache_dir && !pw_config_get(cfg, "sync", "cache_dir")) {
		cache = pw_sync_default_cache_dir(store_path);
		if (!cache) {
			rc = pw_cli_fail(CMD, "out of memory");
			goto out;
		}
		cache_dir = cache;
	}
	pw_error e = PW_ERROR_INIT;
	if (pw_feedstore_open(store_path, &store, &e)) {
		rc = pw_cli_fail_err(CMD, &e);
		goto out;
	}
	run.json = a.json;
	run.tty = isatty(STDERR_FILENO) != 0;
	run.progress = (a.progress || run.tty) && !pw_cli_quiet();
	pw_sync_options o = {
		.config = cfg,
		.config_path = pw_cli_config_path(setup),
		.shipped = shipped,
		.shipped_path = shipped_path,
		.only = a.only.v,
		.n_only = a.only.n,
		.cache_dir = cache_dir,
		.on_fetch = on_fetch,
		.on_progress = on_download,
		.on_retry = on_retry,
		.on_source = on_source,
		.import_progress = on_import,
		.warn = on_warn,
		.ctx = &run,
	};
	if (pw_feed_sync(store, &o, &sum, &e)) {
		rc = pw_cli_fail_err(CMD, &e);
		goto out;
	}
	clear_progress(&run);
	if (a.json)
		print_json(&sum);
	else
		print_summary(&sum, &run);
	/* The others were imported, but a cron job must still notice. */
	rc = sum.failed ? PW_EXIT_ERROR : PW_EXIT_OK;
out:
	pw_sync_summary_release(&sum);
	if (store)
		pw_feedstore_close(store);
	if (shipped)
		pw_config_free(shipped);
	free(cache);
	free(a.only.v);
	return rc;
}
