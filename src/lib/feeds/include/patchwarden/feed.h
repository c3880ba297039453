/* Advisory feed parsers. Each parser reads one buffer and emits records
 * into a sink; it never touches the store, so tests and fuzzers can run it
 * alone and the store decides what a record means for a snapshot.
 *
 * Bad records are skipped with sink->warn("file:line" or "file: field",
 * message) and counted by the caller; only an unreadable whole (not the
 * format it claimed, truncated JSON, a sink error) fails the parse. */
#ifndef PATCHWARDEN_FEED_H
#define PATCHWARDEN_FEED_H

#include <stddef.h>

#include "patchwarden/advisory.h"
#include "patchwarden/error.h"

typedef struct pw_feed_sink {
	void *ctx;
	pw_err (*advisory)(void *ctx, const pw_advisory *adv, pw_error *err);
	pw_err (*kev)(void *ctx, const pw_kev_entry *e, pw_error *err);
	pw_err (*epss)(void *ctx, const pw_epss_entry *e, pw_error *err);
	/* `where` names the input and position: "DSA/list:1234",
	 * "ALSA-2023:1234.json: affected[2].ranges". */
	void (*warn)(void *ctx, const char *where, const char *message);
} pw_feed_sink;

typedef enum pw_feed_format {
	PW_FEED_UNKNOWN = 0,
	PW_FEED_OSV,         /* OSV JSON record (one object) */
	PW_FEED_DEBIAN_LIST, /* security-tracker data/{DSA,DLA,DTSA}/list */
	PW_FEED_DEBIAN_JSON, /* security-tracker.debian.org/tracker/data/json */
	PW_FEED_UBUNTU_UCT,  /* Ubuntu CVE tracker per-CVE text file */
	PW_FEED_ALPINE_YAML, /* Alpine secdb v3.x/main.yaml */
	PW_FEED_ALPINE_JSON, /* secdb.alpinelinux.org v3.x/main.json */
	PW_FEED_KEV,         /* CISA known_exploited_vulnerabilities.json */
	PW_FEED_EPSS,        /* FIRST EPSS CSV (official daily or "cve;epss;pct") */
	PW_FEED__COUNT
} pw_feed_format;

const char *pw_feed_format_name(pw_feed_format f); /* "osv", "debian-list", ... */

/* Detects the format from content, not name (the name only breaks ties
 * between equally plausible formats). Gzip must be inflated first. */
pw_feed_format pw_feed_detect(const char *data, size_t len, const char *name);

/* Parses with the parser of `format`; `name` is used in warnings. */
pw_err pw_feed_parse(pw_feed_format format, const char *data, size_t len, const char *name,
		     const pw_feed_sink *sink, pw_error *err);

/* One parser per format, each with a cheap content sniff for detection. */
/* OSV: one record per buffer, at most one advisory emitted. A valid
 * record with no row for a supported distro (only PyPI, Go, GIT-only
 * entries; withdrawn) emits nothing and warns nothing: count it as not
 * applicable. */
pw_err pw_feed_parse_osv(const char *data, size_t len, const char *name, const pw_feed_sink *sink,
			 pw_error *err);
pw_err pw_feed_parse_debian_list(const char *data, size_t len, const char *name,
				 const pw_feed_sink *sink, pw_error *err);
pw_err pw_feed_parse_debian_json(const char *data, size_t len, const char *name,
				 const pw_feed_sink *sink, pw_error *err);
pw_err pw_feed_parse_ubuntu_uct(const char *data, size_t len, const char *name,
				const pw_feed_sink *sink, pw_error *err);
pw_err pw_feed_parse_alpine_secdb(const char *data, size_t len, const char *name,
				  const pw_feed_sink *sink, pw_error *err); /* YAML or JSON */
pw_err pw_feed_parse_kev(const char *data, size_t len, const char *name, const pw_feed_sink *sink,
			 pw_error *err);
pw_err pw_feed_parse_epss(const char *data, size_t len, const char *name, const pw_feed_sink *sink,
			  pw_error *err);

#endif
