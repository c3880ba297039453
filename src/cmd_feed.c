/* `patchwarden feed`: import advisory feeds into the feed store, show
 * what it holds. `feed sync` and `feed bundle` live in their own files. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/buf.h"
#include "patchwarden/feedstore.h"

/* The subcommands of this file, as option scopes. */
enum { IMPORT = 1 << 0, STATUS = 1 << 1, SNAPSHOTS = 1 << 2 };

struct opts {
	const char *store;
	const char *label;
	int64_t snapshot;
	bool replace, json, quiet, progress;
	char **paths;
	int n_paths;
};

static struct opts opt;

static const struct pw_option options[] = {
	PW_OPT_GROUP("Options of import, status and snapshots:"),
	PW_OPT_STRING(0, "store", &opt.store, "STORE",
		      "the feed store (default: $PATCHWARDEN_STORE, else\n"
		      "/var/lib/patchwarden/patchwarden.db)"),
	{.kind = PW_OPT_FLAG,
	 .long_name = "replace",
	 .value = &opt.replace,
	 .help = "import: a full refresh: retire the advisories the\n"
		 "import did not contain, of the sources and distro\n"
		 "releases it covered",
	 .scope = IMPORT},
	{.kind = PW_OPT_STRING,
	 .long_name = "label",
	 .value = &opt.label,
	 .argh = "TEXT",
	 .help = "import: text recorded on the snapshot (default: the\n"
		 "paths)",
	 .scope = IMPORT},
	{.kind = PW_OPT_FLAG,
	 .long_name = "progress",
	 .value = &opt.progress,
	 .help = "import: show progress even when stderr is not a\n"
		 "terminal",
	 .scope = IMPORT},
	{.kind = PW_OPT_INT,
	 .long_name = "snapshot",
	 .value = &opt.snapshot,
	 .argh = "N",
	 .help = "status: count ecosystems in snapshot N instead of\n"
		 "the latest",
	 .scope = STATUS,
	 .min = 1,
	 .max = INT64_MAX},
	PW_OPT_FLAG(0, "json", &opt.json, "print JSON on stdout"),
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden feed import [--store STORE] [--replace] [--label TEXT] [--json]\n"
	"                               [--quiet] [--progress] PATH...\n"
	"       patchwarden feed status [--store STORE] [--snapshot N] [--json]\n"
	"       patchwarden feed snapshots [--store STORE] [--json]\n"
	"       patchwarden feed sync [--config FILE] [--store STORE] [--source NAME]... [--json]\n"
	"       patchwarden feed bundle keygen|create|verify|import ...\n"
	"\n"
	"import     reads files, directory trees and archives (zip such as osv.dev's\n"
	"           all.zip, tar, .gz) of OSV JSON, Debian tracker lists and JSON,\n"
	"           Ubuntu CVE tracker files, Alpine secdb, CISA KEV JSON and EPSS CSV,\n"
	"           detecting each file's format from its content, and commits them as\n"
	"           one new numbered snapshot. Bad records, and malformed files inside\n"
	"           a directory or an archive, are skipped with a warning and counted.\n"
	"status     the latest snapshots, advisories and packages per ecosystem,\n"
	"           KEV and EPSS counts, and the state of `feed sync` sources\n"
	"snapshots  every snapshot, oldest first\n"
	"sync       fetches the configured feed sources and imports what changed\n"
	"bundle     makes, verifies and imports signed offline feed bundles\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"The store is --store STORE, else $PATCHWARDEN_STORE, else "
	"/var/lib/patchwarden/patchwarden.db:\n"
	"a SQLite file (PATH or sqlite:PATH, may be the server's database) or\n"
	"postgresql://USER@HOST/DB (the server's PostgreSQL, shared by its nodes).\n"
	"Exit status: 0 success (also when records were skipped), 2 error; a failed\n"
	"import changes nothing.\n";

static const struct pw_option sync_heading[] = {PW_OPT_GROUP("\nOptions of sync:"), PW_OPT_END()};
static const struct pw_option bundle_heading[] = {PW_OPT_GROUP("\nOptions of bundle:"),
						  PW_OPT_END()};

const struct pw_usage cmd_feed_usage = {
	usage_head,
	PW_OPT_TABLES(options, sync_heading, cmd_feed_sync_options, bundle_heading,
		      cmd_feed_bundle_options),
	usage_tail,
	"\nOptions of sync (its configuration):",
};

#define MAX_SHOWN_WARNINGS 100
#define STATUS_SNAPSHOTS 5
#define PROGRESS_NAME_MAX 40

/* The options of subcommand `scope` (only import takes operands, its
 * PATHs). */
static int parse_opts(const char *cmd, struct pw_setup *setup, int argc, char **argv,
		      unsigned scope, struct opts *o)
{
	int n = pw_cli_parse(cmd, setup, argc, argv, PW_OPT_TABLES(options), scope);
	if (n < 0)
		return PW_EXIT_ERROR;
	if (n > 0 && scope != IMPORT)
		return pw_cli_usage_error(cmd, "unexpected argument '%s'", argv[0]);
	*o = opt;
	o->store = pw_cli_store(opt.store);
	/* The output option of every command; import also leaves out its
	 * summary line. */
	o->quiet = pw_cli_quiet();
	if (pw_cli_verbose()) {
		char shown[1024];
		pw_db_url_redact(o->store, shown, sizeof shown);
		pw_cli_info(cmd, "feed store %s", shown);
	}
	o->paths = argv;
	o->n_paths = n;
	return PW_EXIT_OK;
}

static int open_existing(const char *cmd, const char *store, pw_feedstore **s)
{
	int ex = pw_cli_store_exists(cmd, store);
	if (ex)
		return ex;
	pw_error err = PW_ERROR_INIT;
	if (pw_feedstore_open(store, s, &err))
		return pw_cli_fail_err(cmd, &err);
	return PW_EXIT_OK;
}

/* ---- import ---- */

struct import_ui {
	bool quiet, progress, tty;
	size_t warnings;
	double last_progress;
	bool progress_shown;
};

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void clear_progress(struct import_ui *ui)
{
	if (ui->progress_shown && ui->tty)
		fputs("\r\033[K", stderr);
	ui->progress_shown = false;
}

static void on_warning(void *ctx, const char *where, const char *message)
{
	struct import_ui *ui = ctx;
	if (ui->quiet || ++ui->warnings > MAX_SHOWN_WARNINGS)
		return;
	clear_progress(ui);
	pw_cli_warn("feed import", "%s: %s", where, message);
}

/* At most four updates a second: a progress line per file would cost
 * more than parsing it. */
static void on_progress(void *ctx, size_t done, size_t total, const char *current)
{
	struct import_ui *ui = ctx;
	double t = now_seconds();
	if (t - ui->last_progress < 0.25 && done < total)
		return;
	ui->last_progress = t;
	/* On a terminal the line is rewritten in place, so it must not wrap. */
	size_t len = strlen(current);
	bool cut = ui->tty && len > PROGRESS_NAME_MAX;
	fprintf(stderr, "%spatchwarden feed import: %zu/%zu files  %s%s%s", ui->tty ? "\r" : "",
		done, total, cut ? "..." : "", cut ? current + len - PROGRESS_NAME_MAX : current,
		ui->tty ? "\033[K" : "\n");
	ui->progress_shown = true;
}

static cJSON *stats_json(int64_t snapshot, const pw_import_stats *st, double elapsed)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "snapshot", (double)snapshot);
	cJSON_AddNumberToObject(o, "files", (double)st->files);
	cJSON_AddNumberToObject(o, "advisories", (double)st->advisories);
	cJSON_AddNumberToObject(o, "added", (double)st->added);
	cJSON_AddNumberToObject(o, "unchanged", (double)st->unchanged);
	cJSON_AddNumberToObject(o, "retired", (double)st->retired);
	cJSON_AddNumberToObject(o, "affected", (double)st->affected);
	cJSON_AddNumberToObject(o, "kev", (double)st->kev);
	cJSON_AddNumberToObject(o, "epss", (double)st->epss);
	cJSON_AddNumberToObject(o, "warnings", (double)st->warnings);
	cJSON_AddNumberToObject(o, "skipped", (double)st->skipped);
	cJSON_AddNumberToObject(o, "elapsed_seconds", elapsed);
	return o;
}

static pw_err default_label(pw_buf *label, const struct opts *o)
{
	pw_err rc = pw_buf_puts(label, "import");
	for (int i = 0; !rc && i < o->n_paths; i++)
		rc = pw_buf_printf(label, " %s", o->paths[i]);
	return rc;
}

static int feed_import(int argc, char **argv, struct pw_setup *setup)
{
	const char *cmd = "feed import";
	struct opts o = {0};
	int ex = parse_opts(cmd, setup, argc, argv, IMPORT, &o);
	if (ex)
		return ex;
	if (o.n_paths == 0)
		return pw_cli_usage_error(cmd,
					  "give at least one PATH (file, directory or archive)");
	pw_buf label = PW_BUF_INIT;
	if (!o.label && default_label(&label, &o))
		return pw_cli_fail(cmd, "out of memory");

	double start = now_seconds();
	struct import_ui ui = {o.quiet, !o.quiet && (o.progress || isatty(2)), isatty(2) != 0, 0, 0,
			       false};
	pw_error err = PW_ERROR_INIT;
	pw_feedstore *s = NULL;
	pw_feed_import *imp = NULL;
	int64_t snapshot = 0;
	pw_import_stats st;
	pw_err rc = pw_feedstore_open(o.store, &s, &err);
	if (!rc)
		rc = pw_feed_import_begin(s, o.label ? o.label : pw_buf_str(&label), &imp, &err);
	pw_buf_release(&label);
	if (!rc) {
		pw_feed_import_set_callbacks(imp, on_warning, ui.progress ? on_progress : NULL,
					     &ui);
		pw_feed_import_replace_source(imp, o.replace);
		rc = pw_feed_import_paths(imp, (const char *const *)o.paths, (size_t)o.n_paths,
					  &err);
		if (rc)
			pw_feed_import_abort(imp);
		else
			rc = pw_feed_import_commit(imp, &snapshot, &st, &err);
	}
	clear_progress(&ui);
	if (rc) {
		pw_cli_fail_err(cmd, &err);
		if (s)
			fprintf(stderr,
				"patchwarden %s: nothing was imported; the store is unchanged\n",
				cmd);
		pw_feedstore_close(s);
		return PW_EXIT_ERROR;
	}
	pw_feedstore_close(s);
	double elapsed = now_seconds() - start;
	if (ui.warnings > MAX_SHOWN_WARNINGS)
		pw_cli_warn(cmd, "%zu more warnings not shown", ui.warnings - MAX_SHOWN_WARNINGS);
	if (o.json)
		return pw_cli_print_json("feed", stats_json(snapshot, &st, elapsed));
	if (!o.quiet)
		printf("snapshot %" PRId64 ": %zu files, %zu advisories (%zu added, %zu unchanged,"
		       " %zu retired), %zu affected rows, %zu KEV, %zu EPSS, %zu warnings,"
		       " %zu skipped, %.2f s\n",
		       snapshot, st.files, st.advisories, st.added, st.unchanged, st.retired,
		       st.affected, st.kev, st.epss, st.warnings, st.skipped, elapsed);
	return PW_EXIT_OK;
}

/* ---- status and snapshots ---- */

static cJSON *snapshot_json(const pw_snapshot_info *i)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)i->id);
	cJSON_AddStringToObject(o, "created", i->created);
	cJSON_AddStringToObject(o, "label", i->label);
	cJSON_AddNumberToObject(o, "advisories", (double)i->advisories);
	cJSON_AddNumberToObject(o, "affected", (double)i->affected);
	cJSON_AddNumberToObject(o, "kev", (double)i->kev);
	cJSON_AddNumberToObject(o, "epss", (double)i->epss);
	return o;
}

static void print_snapshot_table(const pw_snapshot_info *list, size_t from, size_t n)
{
	printf("  %6s  %-20s  %10s  %9s  %6s  %7s  %s\n", "ID", "CREATED", "ADVISORIES", "AFFECTED",
	       "KEV", "EPSS", "LABEL");
	for (size_t i = from; i < n; i++)
		printf("  %6" PRId64 "  %-20s  %10zu  %9zu  %6zu  %7zu  %s\n", list[i].id,
		       list[i].created, list[i].advisories, list[i].affected, list[i].kev,
		       list[i].epss, list[i].label);
}

struct status {
	pw_snapshot_info *snaps;
	size_t n_snaps;
	int64_t shown; /* snapshot whose ecosystems are counted */
	pw_ecosystem_count *ecos;
	size_t n_ecos;
	pw_source_state *srcs;
	size_t n_srcs;
};

/* The store as shown: a PostgreSQL password is not printed. */
static const char *shown_store(const char *store)
{
	static char out[1024];
	pw_db_url_redact(store, out, sizeof out);
	return out;
}

static cJSON *status_json(const char *store, const struct status *st)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "store", shown_store(store));
	cJSON *snaps = cJSON_AddArrayToObject(root, "snapshots");
	size_t from = st->n_snaps > STATUS_SNAPSHOTS ? st->n_snaps - STATUS_SNAPSHOTS : 0;
	for (size_t i = from; i < st->n_snaps; i++)
		cJSON_AddItemToArray(snaps, snapshot_json(&st->snaps[i]));
	cJSON_AddNumberToObject(root, "snapshot_count", (double)st->n_snaps);
	if (st->shown) {
		cJSON_AddNumberToObject(root, "ecosystems_snapshot", (double)st->shown);
		for (size_t i = 0; i < st->n_snaps; i++)
			if (st->snaps[i].id == st->shown) {
				cJSON_AddNumberToObject(root, "kev", (double)st->snaps[i].kev);
				cJSON_AddNumberToObject(root, "epss", (double)st->snaps[i].epss);
			}
	}
	cJSON *ecos = cJSON_AddArrayToObject(root, "ecosystems");
	for (size_t i = 0; i < st->n_ecos; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "ecosystem", st->ecos[i].ecosystem);
		cJSON_AddNumberToObject(o, "advisories", (double)st->ecos[i].advisories);
		cJSON_AddNumberToObject(o, "packages", (double)st->ecos[i].packages);
		cJSON_AddItemToArray(ecos, o);
	}
	cJSON *srcs = cJSON_AddArrayToObject(root, "sources");
	for (size_t i = 0; i < st->n_srcs; i++) {
		const pw_source_state *s = &st->srcs[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", s->name);
		cJSON_AddStringToObject(o, "url", s->url);
		cJSON_AddStringToObject(o, "etag", s->etag);
		cJSON_AddStringToObject(o, "last_modified", s->last_modified);
		cJSON_AddStringToObject(o, "last_fetch", s->last_fetch);
		cJSON_AddStringToObject(o, "last_status", s->last_status);
		cJSON_AddNumberToObject(o, "last_snapshot", (double)s->last_snapshot);
		cJSON_AddItemToArray(srcs, o);
	}
	return root;
}

static void status_text(const char *store, const struct status *st)
{
	printf("Store: %s\n", shown_store(store));
	if (!st->n_snaps) {
		printf("No snapshots yet; run 'patchwarden feed import PATH' or 'patchwarden feed"
		       " sync'.\n");
	} else {
		size_t from = st->n_snaps > STATUS_SNAPSHOTS ? st->n_snaps - STATUS_SNAPSHOTS : 0;
		printf("\nSnapshots (latest %zu of %zu):\n", st->n_snaps - from, st->n_snaps);
		print_snapshot_table(st->snaps, from, st->n_snaps);
		for (size_t i = 0; i < st->n_snaps; i++)
			if (st->snaps[i].id == st->shown)
				printf("\nIn snapshot %" PRId64
				       ": %zu advisories, %zu KEV entries, %zu"
				       " EPSS scores\n",
				       st->shown, st->snaps[i].advisories, st->snaps[i].kev,
				       st->snaps[i].epss);
		printf("  %-24s  %10s  %8s\n", "ECOSYSTEM", "ADVISORIES", "PACKAGES");
		for (size_t i = 0; i < st->n_ecos; i++)
			printf("  %-24s  %10zu  %8zu\n", st->ecos[i].ecosystem,
			       st->ecos[i].advisories, st->ecos[i].packages);
	}
	printf("\nSources:\n");
	if (!st->n_srcs)
		printf("  none fetched yet ('patchwarden feed sync' records them)\n");
	for (size_t i = 0; i < st->n_srcs; i++) {
		const pw_source_state *s = &st->srcs[i];
		printf("  %-16s  last fetch %s  snapshot %" PRId64 "  %s\n    %s\n", s->name,
		       s->last_fetch[0] ? s->last_fetch : "never", s->last_snapshot, s->last_status,
		       s->url);
	}
}

static int feed_status(int argc, char **argv, struct pw_setup *setup)
{
	const char *cmd = "feed status";
	struct opts o = {0};
	int ex = parse_opts(cmd, setup, argc, argv, STATUS, &o);
	pw_feedstore *s = NULL;
	if (ex || (ex = open_existing(cmd, o.store, &s)))
		return ex;
	struct status st = {0};
	pw_error err = PW_ERROR_INIT;
	pw_err rc = pw_feedstore_snapshots(s, &st.snaps, &st.n_snaps, &err);
	if (!rc && st.n_snaps) {
		st.shown = o.snapshot ? o.snapshot : st.snaps[st.n_snaps - 1].id;
		pw_snapshot_info info;
		rc = pw_feedstore_snapshot_info(s, st.shown, &info, &err);
		if (!rc)
			rc = pw_feedstore_ecosystems(s, st.shown, &st.ecos, &st.n_ecos, &err);
	} else if (!rc && o.snapshot) {
		rc = pw_feedstore_snapshot_info(s, o.snapshot, &(pw_snapshot_info){0}, &err);
	}
	if (!rc)
		rc = pw_feedstore_sources(s, &st.srcs, &st.n_srcs, &err);
	pw_feedstore_close(s);
	if (rc)
		ex = pw_cli_fail_err(cmd, &err);
	else if (o.json)
		ex = pw_cli_print_json("feed", status_json(o.store, &st));
	else
		status_text(o.store, &st);
	free(st.snaps);
	pw_feedstore_free_counts(st.ecos, st.n_ecos);
	free(st.srcs);
	return ex;
}

static int feed_snapshots(int argc, char **argv, struct pw_setup *setup)
{
	const char *cmd = "feed snapshots";
	struct opts o = {0};
	int ex = parse_opts(cmd, setup, argc, argv, SNAPSHOTS, &o);
	pw_feedstore *s = NULL;
	if (ex || (ex = open_existing(cmd, o.store, &s)))
		return ex;
	pw_snapshot_info *list;
	size_t n;
	pw_error err = PW_ERROR_INIT;
	pw_err rc = pw_feedstore_snapshots(s, &list, &n, &err);
	pw_feedstore_close(s);
	if (rc)
		return pw_cli_fail_err(cmd, &err);
	if (o.json) {
		cJSON *arr = cJSON_CreateArray();
		for (size_t i = 0; i < n; i++)
			cJSON_AddItemToArray(arr, snapshot_json(&list[i]));
		ex = pw_cli_print_json("feed", arr);
	} else if (!n) {
		printf("No snapshots yet; run 'patchwarden feed import PATH'.\n");
	} else {
		print_snapshot_table(list, 0, n);
	}
	free(list);
	return ex;
}

int cmd_feed(int argc, char **argv, struct pw_setup *setup)
{
	/* The set-up of `feed` in main.c's table is what sync needs. */
	static const struct {
		const char *name;
		int (*run)(int, char **, struct pw_setup *);
		unsigned setup;
	} subs[] = {
		{"bundle", cmd_feed_bundle, 0},           {"import", feed_import, 0},
		{"snapshots", feed_snapshots, 0},         {"status", feed_status, 0},
		{"sync", cmd_feed_sync, PW_SETUP_CONFIG},
	};
	if (argc < 2)
		return pw_cli_usage_error("feed",
					  "give a subcommand: import, status, snapshots, sync"
					  " or bundle");
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		if (strcmp(argv[1], subs[i].name) == 0) {
			setup->flags = subs[i].setup;
			return subs[i].run(argc - 1, argv + 1, setup);
		}
	}
	return pw_cli_usage_error("feed", "'%s' is not a feed subcommand", argv[1]);
}
