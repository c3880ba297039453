/* What a campaign covers, as `campaign create` and POST /api/v1/campaigns
 * take it: text a person types, so every parser here is fuzzed
 * (fuzz/fuzz_campaign_select.c).
 *
 * --hosts FILTER: "all", or "key=value" pairs joined by ',' with the
 *   keys of `host list` and GET /hosts: category, exposure, environment,
 *   owner, criticality (N or higher), overdue (true/false), stale (DAYS),
 *   decommissioned (false/true/any). "category=web,environment=test".
 * --findings FILTER: pairs with the keys of `findings` and GET /findings:
 *   priority, package, cve, advisory, kev (true/false), due_before
 *   (YYYY-MM-DD). The findings are always open ones.
 * --upgrades SELECTOR: package names as `upgrades` prints them, joined
 *   by ',' ("openssl,curl"): the hosts' open findings of those packages.
 * --soak DURATION: days ("2"), or a number with s, m, h or d ("30m"). */
#ifndef PATCHWARDEN_CAMPAIGN_SELECT_H
#define PATCHWARDEN_CAMPAIGN_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/error.h"
#include "patchwarden/host_findings.h"
#include "patchwarden/hosts.h"

#define PW_SELECT_TEXT_MAX 4096
#define PW_SELECT_PACKAGES_MAX 256

/* A parsed selection; its strings point into `buf`. */
typedef struct pw_campaign_select {
	pw_finding_filter f; /* f.host: the host filter */
	const char *packages[PW_SELECT_PACKAGES_MAX];
	size_t n_packages;
	char *buf;
} pw_campaign_select;

/* Parses the three texts (findings and upgrades may be NULL, not both
 * given) into *out, which pw_campaign_select_release frees even after an
 * error. PW_ERR_INVALID names the text, the pair and what is accepted. */
pw_err pw_campaign_select_parse(const char *hosts, const char *findings, const char *upgrades,
				pw_campaign_select *out, pw_error *err);
void pw_campaign_select_release(pw_campaign_select *s);

/* A soak time in seconds; PW_ERR_INVALID names the text. At most a year. */
pw_err pw_campaign_soak_parse(const char *text, int64_t *seconds, pw_error *err);

#endif
