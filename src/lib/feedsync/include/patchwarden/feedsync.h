/* `feed sync`: downloads every configured feed source and imports what
 * arrived into the store as ONE snapshot.
 *
 * Sources are the `[source NAME]` sections of the configuration:
 *   url      = http(s) URL (required)
 *   enabled  = yes|no (default yes)
 *   format   = a pw_feed_format_name() (default: detected from content;
 *              a hint applies to single documents, plain or gzip)
 *   max_size = size limit of this source, e.g. 300M (default [sync] max_size)
 * and `[sync]` holds the transfer settings (see patchwarden-feed-sync(1)):
 *   cache_dir, ca_file, connect_timeout, timeout, stall_timeout, retries,
 *   retry_delay, retry_max_delay, max_size, user_agent.
 * Two configurations may be given: the shipped source list and the
 * operator's file; the operator's keys override the shipped ones key by
 * key, so `[source x]` + `enabled = yes` is enough to turn one on.
 *
 * Each source's last good download is kept in the cache directory
 * (cache_dir/NAME/FILE). Requests are conditional (If-None-Match,
 * If-Modified-Since) only when that copy exists for the same URL. A
 * snapshot is made only when some source's bytes changed; it then holds
 * every enabled source, the unchanged and the failed ones from their
 * cached copies, so each snapshot is complete and advisories withdrawn
 * upstream can be retired (replace_source) safely. When an enabled
 * source has no data at all (never downloaded), nothing is retired.
 * A source whose download or import fails keeps its previous data and
 * does not stop the others. */
#ifndef PATCHWARDEN_FEEDSYNC_H
#define PATCHWARDEN_FEEDSYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/config.h"
#include "patchwarden/error.h"
#include "patchwarden/feed.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/fetch.h"

typedef enum pw_sync_status {
	PW_SYNC_DOWNLOADED = 0, /* new content, imported */
	PW_SYNC_UNCHANGED = 1,  /* 304, or a 200 with the same bytes as the cached copy */
	PW_SYNC_FAILED = 2,     /* download or import failed; the previous data stays */
} pw_sync_status;

const char *pw_sync_status_name(pw_sync_status s); /* "downloaded", "unchanged", "failed" */

typedef struct pw_sync_report {
	char name[64];
	char url[1024];
	pw_sync_status status;
	long http_status; /* last HTTP status, 0 when no reply arrived */
	uint64_t bytes;   /* downloaded body size */
	unsigned attempts;
	double seconds;
	bool kept_previous; /* failed, and the last good download was imported again */
	char error[PW_ERROR_MSG_MAX];
} pw_sync_report;

typedef void (*pw_sync_source_fn)(void *ctx, const pw_sync_report *r);
typedef void (*pw_sync_fetch_fn)(void *ctx, const char *name, const char *url);

typedef struct pw_sync_options {
	const pw_config *config;  /* the operator's configuration (required) */
	const char *config_path;  /* named in messages */
	const pw_config *shipped; /* the shipped source list, may be NULL */
	const char *shipped_path;
	const char *const *only; /* sync only these sources (--source) */
	size_t n_only;
	const char *cache_dir; /* overrides [sync] cache_dir */
	/* All callbacks are optional and receive `ctx`. */
	pw_sync_fetch_fn on_fetch;        /* before each selected source is fetched */
	pw_fetch_progress_fn on_progress; /* bytes of the current download */
	pw_fetch_retry_fn on_retry;
	pw_sync_source_fn on_source;    /* after each selected source was fetched */
	pw_progress_fn import_progress; /* files of the import */
	pw_warn_fn warn;                /* skipped-record warnings of the import */
	void *ctx;
} pw_sync_options;

typedef struct pw_sync_summary {
	pw_sync_report *sources; /* the selected sources, in configuration order */
	size_t n_sources;
	size_t downloaded, unchanged, failed;
	int64_t snapshot; /* 0 when no snapshot was made */
	bool replaced;    /* withdrawn advisories were retired */
	pw_import_stats stats;
} pw_sync_summary;

/* clang-format off */
#define PW_SYNC_SUMMARY_INIT {NULL, 0, 0, 0, 0, 0, false, {0}}
/* clang-format on */
void pw_sync_summary_release(pw_sync_summary *s);

/* Runs one sync. Returns PW_OK when the run completed, even if some
 * sources failed (summary->failed counts them); an error means a bad
 * configuration, a busy or unwritable cache, or a store failure, and
 * then the store is unchanged. */
pw_err pw_feed_sync(pw_feedstore *store, const pw_sync_options *opts, pw_sync_summary *out,
		    pw_error *err);

/* The cache directory when neither the options nor [sync] name one:
 * "<store file>.cache", or "patchwarden-feeds.cache" in the working
 * directory for a PostgreSQL store. Caller frees. */
char *pw_sync_default_cache_dir(const char *store);

/* Imports one file under `name` (used in warnings): archives and gzip
 * through pw_feed_import_path, single documents as a buffer, with the
 * format `hint` when it is not PW_FEED_UNKNOWN. Shared by sync and
 * bundle import. */
pw_err pw_sync_import_file(pw_feed_import *imp, const char *path, const char *name,
			   pw_feed_format hint, pw_error *err);

#endif
