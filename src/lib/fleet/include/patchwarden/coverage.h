/* Coverage is not cleanliness: whether a host's stored findings can be
 * trusted to be all it is missing. A host is covered only when it has
 * reported an inventory, the feed store has advisories for its OS release
 * and its findings were computed against the store's newest snapshot from
 * its current inventory; otherwise, checked in this order, it is
 * never_reported (no inventory), stale (no check-in for [feeds]
 * stale_checkins × [server] checkin_interval), no_feed (the detail names
 * the release, "debian:13") or pending (the findings are older than the
 * newest snapshot or the inventory). */
#ifndef PATCHWARDEN_COVERAGE_H
#define PATCHWARDEN_COVERAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/db.h"
#include "patchwarden/error.h"
#include "patchwarden/findings.h"
#include "patchwarden/hosts.h"

/* What the coverage of every host is judged against, read once per
 * listing. */
typedef struct pw_coverage_ctx {
	int64_t snapshot; /* the feed store's newest snapshot; 0: none */
	char created[32]; /* its creation time, "" when none */
	char **releases;  /* the ecosystems ("debian:12") it has advisories for */
	size_t n_releases;
	int64_t stale_after;   /* seconds without a check-in that make a host stale */
	char stale_before[32]; /* last_seen before this (UTC ISO-8601) is stale */
} pw_coverage_ctx;

/* clang-format off */
#define PW_COVERAGE_CTX_INIT {0, "", NULL, 0, 0, ""}
/* clang-format on */
void pw_coverage_ctx_release(pw_coverage_ctx *c);

/* Reads the newest snapshot of the feed store `cfg->store` (NULL: the
 * feed tables of `db`; pw_findings_store_open) and the releases it has
 * advisories for; no store or no snapshot yet is no error (every host
 * that reported is no_feed). Call it outside a transaction. */
pw_err pw_coverage_load(pw_db *db, const pw_findings_config *cfg, pw_coverage_ctx *out,
			pw_error *err);

/* Whether the store has advisories for the OS release an inventory
 * reported (os-release ID, VERSION_ID, VERSION_CODENAME); `release` gets
 * its name, "debian:12", or "ID:VERSION_ID" when it is no ecosystem the
 * feeds know. */
#define PW_COVERAGE_RELEASE_MAX 96
bool pw_coverage_has_feed(const pw_coverage_ctx *c, const char *os_id, const char *version_id,
			  const char *codename, char release[PW_COVERAGE_RELEASE_MAX]);

/* "covered", "never_reported", "no_feed", "stale", "pending"; "unknown". */
const char *pw_host_coverage_name(pw_host_coverage c);

/* Sets h->coverage and h->coverage_detail. */
void pw_host_coverage_set(const pw_coverage_ctx *c, pw_host *h);
void pw_host_list_coverage_set(const pw_coverage_ctx *c, pw_host_list *l);

#endif
