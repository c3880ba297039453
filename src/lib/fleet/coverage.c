/* A host's coverage (coverage.h): the feed store read once, then each
 * host judged from its record alone. */
#include "patchwarden/coverage.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/clock.h"
#include "patchwarden/ecosystem.h"
#include "patchwarden/feedstore.h"

static const char *const names[PW_COVERAGE__COUNT] = {
	[PW_COVERAGE_UNKNOWN] = "unknown",
	[PW_COVERAGE_COVERED] = "covered",
	[PW_COVERAGE_NEVER_REPORTED] = "never_reported",
	[PW_COVERAGE_NO_FEED] = "no_feed",
	[PW_COVERAGE_STALE] = "stale",
	[PW_COVERAGE_PENDING] = "pending",
};

const char *pw_host_coverage_name(pw_host_coverage c)
{
	return (unsigned)c < PW_COVERAGE__COUNT ? names[c] : "unknown";
}

void pw_coverage_ctx_release(pw_coverage_ctx *c)
{
	for (size_t i = 0; i < c->n_releases; i++)
		free(c->releases[i]);
	free(c->releases);
	c->releases = NULL;
	c->n_releases = 0;
}

static pw_err load_store(pw_feedstore *store, pw_coverage_ctx *out, pw_error *err)
{
	pw_err rc = pw_feedstore_latest(store, &out->snapshot, err);
	if (rc == PW_ERR_NOTFOUND) {
		out->snapshot = 0;
		return pw_error_set(err, PW_OK, "%s", "");
	}
	pw_snapshot_info info;
	if (!rc)
		rc = pw_feedstore_snapshot_info(store, out->snapshot, &info, err);
	if (!rc)
		snprintf(out->created, sizeof out->created, "%s", info.created);
	pw_ecosystem_count *list = NULL;
	size_t n = 0;
	if (!rc)
		rc = pw_feedstore_ecosystems(store, out->snapshot, &list, &n, err);
	if (!rc && n) {
		out->releases = calloc(n, sizeof *out->releases);
		if (!out->releases)
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; !rc && i < n; i++) {
		if (!list[i].advisories)
			continue;
		char *s = strdup(list[i].ecosystem);
		if (!s)
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		else
			out->releases[out->n_releases++] = s;
	}
	pw_feedstore_free_counts(list, n);
	return rc;
}

pw_err pw_coverage_load(pw_db *db, const pw_findings_config *cfg, pw_coverage_ctx *out,
			pw_error *err)
{
	*out = (pw_coverage_ctx)PW_COVERAGE_CTX_INIT;
	long interval = cfg->checkin_interval > 0 ? cfg->checkin_interval
						  : PW_CHECKIN_INTERVAL_DEFAULT;
	long n = cfg->stale_checkins > 0 ? cfg->stale_checkins : PW_FEEDS_STALE_CHECKINS_DEFAULT;
	out->stale_after = (int64_t)interval * n;
	char before[PW_TS_LEN];
	pw_ts_now(before, -out->stale_after);
	snprintf(out->stale_before, sizeof out->stale_before, "%s", before);
	pw_feedstore *store = NULL;
	pw_err rc = pw_findings_store_open(cfg->store, db, &store, err);
	if (rc == PW_ERR_NOTFOUND)
		return pw_error_set(err, PW_OK, "%s", "");
	if (!rc)
		rc = load_store(store, out, err);
	pw_feedstore_close(store);
	if (rc)
		pw_coverage_ctx_release(out);
	return rc;
}

bool pw_coverage_has_feed(const pw_coverage_ctx *c, const char *os_id, const char *version_id,
			  const char *codename, char release[PW_COVERAGE_RELEASE_MAX])
{
	char eco[PW_ECOSYSTEM_MAX];
	if (pw_ecosystem_from_os(os_id, version_id, codename, eco, NULL)) {
		snprintf(release, PW_COVERAGE_RELEASE_MAX, "%.40s:%.40s", os_id ? os_id : "unknown",
			 version_id ? version_id : "unknown");
		return false;
	}
	snprintf(release, PW_COVERAGE_RELEASE_MAX, "%s", eco);
	for (size_t i = 0; i < c->n_releases; i++)
		if (!strcmp(c->releases[i], eco))
			return true;
	return false;
}

void pw_host_coverage_set(const pw_coverage_ctx *c, pw_host *h)
{
	const char *seen = h->f[PW_HF_LAST_SEEN];
	const char *inv = h->f[PW_HF_INVENTORY_HASH];
	char release[PW_COVERAGE_RELEASE_MAX];
	size_t sz = sizeof h->coverage_detail;
	if (!inv) {
		h->coverage = PW_COVERAGE_NEVER_REPORTED;
		snprintf(h->coverage_detail, sz, "no inventory reported yet");
	} else if (seen && strcmp(seen, c->stale_before) < 0) {
		h->coverage = PW_COVERAGE_STALE;
		snprintf(h->coverage_detail, sz, "no check-in since %.32s (over %" PRId64 " s)",
			 seen, c->stale_after);
	} else if (!pw_coverage_has_feed(c, h->f[PW_HF_OS_ID], h->f[PW_HF_OS_VERSION_ID],
					 h->f[PW_HF_OS_CODENAME], release)) {
		h->coverage = PW_COVERAGE_NO_FEED;
		snprintf(h->coverage_detail, sz, "%s", release);
	} else if (h->findings_snapshot != c->snapshot || !h->findings_inventory ||
		   strcmp(h->findings_inventory, inv) != 0) {
		h->coverage = PW_COVERAGE_PENDING;
		if (h->findings_snapshot != c->snapshot)
			snprintf(h->coverage_detail, sz,
				 "findings computed against snapshot %" PRId64
				 ", newest is %" PRId64,
				 h->findings_snapshot, c->snapshot);
		else
			snprintf(h->coverage_detail, sz,
				 "inventory changed since its findings were computed");
	} else {
		h->coverage = PW_COVERAGE_COVERED;
		snprintf(h->coverage_detail, sz, "snapshot %" PRId64, c->snapshot);
	}
}

void pw_host_list_coverage_set(const pw_coverage_ctx *c, pw_host_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		pw_host_coverage_set(c, &l->v[i]);
}
