/* Priorities of missing fixes and the service levels that go with them:
 * how urgent a finding is, from CISA KEV, EPSS, the attack vector and
 * severity, the host's exposure and whether the package is in use.
 *
 * The rules, first match wins (the reason is reported with each finding):
 *   emergency  a CVE of the finding is in CISA KEV; or the highest EPSS
 *              of its CVEs is >= epss_threshold on an internet-facing host
 *   low        the package is installed but no running process uses any
 *              of its files (known only when scanning the live host)
 *   low        attack vector local or physical only, or severity negligible
 *   high       attack vector network and severity high or critical (an
 *              unknown vector counts as network unless
 *              unknown_vector_is_network is off: the data of most distros
 *              carries no vector, and a missing fact must not lower urgency)
 *   normal     everything else
 *
 * Configuration (patchwarden.conf), all optional:
 *   [policy] epss_threshold = 0.1       EPSS probability, 0..1
 *            sla_emergency = 2           days to fix, per priority
 *            sla_high = 14
 *            sla_normal = 30
 *            sla_low = 90
 *            unknown_vector_is_network = true
 *            unused_is_low = true
 *   [scan]   exposure = internal         internet | internal | isolated */
#ifndef PATCHWARDEN_POLICY_H
#define PATCHWARDEN_POLICY_H

#include <stdbool.h>

#include "patchwarden/advisory.h"
#include "patchwarden/buf.h"
#include "patchwarden/config.h"
#include "patchwarden/error.h"

/* Ordered: a higher value is more urgent, so `--fail-on P` is `>= P`. */
typedef enum pw_priority {
	PW_PRIO_LOW = 0,
	PW_PRIO_NORMAL = 1,
	PW_PRIO_HIGH = 2,
	PW_PRIO_EMERGENCY = 3,
} pw_priority;
#define PW_PRIO__COUNT 4

const char *pw_priority_name(pw_priority p); /* "emergency", "high", ... */
pw_err pw_priority_from_name(const char *s, pw_priority *out, pw_error *err);

/* Where a host sits (DESIGN.md §3): only internet-facing hosts turn a
 * high EPSS into an emergency. */
typedef enum pw_exposure {
	PW_EXPOSURE_INTERNAL = 0,
	PW_EXPOSURE_INTERNET = 1,
	PW_EXPOSURE_ISOLATED = 2,
} pw_exposure;

const char *pw_exposure_name(pw_exposure e); /* "internal", "internet", "isolated" */
pw_err pw_exposure_from_name(const char *s, pw_exposure *out, pw_error *err);

typedef struct pw_policy {
	double epss_threshold;
	int sla_days[PW_PRIO__COUNT]; /* indexed by pw_priority */
	bool unknown_vector_is_network;
	bool unused_is_low;
	pw_exposure default_exposure;
} pw_policy;

/* The documented defaults above. */
void pw_policy_defaults(pw_policy *p);
/* Defaults overridden by [policy] and [scan] of `c`; a value of the wrong
 * type or out of range is an error naming the key. */
pw_err pw_policy_from_config(const pw_config *c, pw_policy *p, pw_error *err);

/* What the rules look at for one finding. */
typedef struct pw_priority_input {
	const char *kev_cve;  /* a CVE of the finding in KEV, or NULL */
	const char *kev_due;  /* its KEV due date, may be NULL */
	double epss;          /* highest EPSS of the finding's CVEs, < 0 unknown */
	const char *epss_cve; /* the CVE with that score */
	pw_severity severity;
	pw_attack_vector attack_vector;
	int in_use; /* 1 used by a running process, 0 not, -1 unknown */
	pw_exposure exposure;
} pw_priority_input;

/* Which rule decided; with the input it renders the reason text. */
typedef enum pw_priority_reason {
	PW_REASON_KEV = 0,
	PW_REASON_EPSS_INTERNET,
	PW_REASON_NOT_IN_USE,
	PW_REASON_LOCAL_VECTOR,
	PW_REASON_NEGLIGIBLE,
	PW_REASON_NETWORK_SEVERE,
	PW_REASON_DEFAULT,
} pw_priority_reason;

pw_priority pw_policy_decide(const pw_policy *p, const pw_priority_input *in,
			     pw_priority_reason *reason);
/* Appends the short reason ("CVE-2021-44228 is in CISA KEV (due
 * 2021-12-24)") to `out`. */
pw_err pw_policy_reason_text(const pw_policy *p, const pw_priority_input *in,
			     pw_priority_reason reason, pw_buf *out);

#endif
