#include "patchwarden/policy.h"

#include <string.h>

static const char *const prio_names[PW_PRIO__COUNT] = {"low", "normal", "high", "emergency"};
static const char *const exposure_names[] = {"internal", "internet", "isolated"};
/* Config keys of the SLAs, indexed by pw_priority. */
static const char *const sla_keys[PW_PRIO__COUNT] = {"sla_low", "sla_normal", "sla_high",
						     "sla_emergency"};

const char *pw_priority_name(pw_priority p)
{
	return (unsigned)p < PW_PRIO__COUNT ? prio_names[p] : "unknown";
}

pw_err pw_priority_from_name(const char *s, pw_priority *out, pw_error *err)
{
	for (int i = 0; i < PW_PRIO__COUNT; i++)
		if (s && strcmp(s, prio_names[i]) == 0) {
			*out = (pw_priority)i;
			return PW_OK;
		}
	return pw_error_set(err, PW_ERR_INVALID,
			    "'%s' is not a priority; use emergency, high, normal or low",
			    s ? s : "");
}

const char *pw_exposure_name(pw_exposure e)
{
	return (unsigned)e < sizeof exposure_names / sizeof exposure_names[0] ? exposure_names[e]
									      : "unknown";
}

pw_err pw_exposure_from_name(const char *s, pw_exposure *out, pw_error *err)
{
	for (size_t i = 0; i < sizeof exposure_names / sizeof exposure_names[0]; i++)
		if (s && strcmp(s, exposure_names[i]) == 0) {
			*out = (pw_exposure)i;
			return PW_OK;
		}
	return pw_error_set(err, PW_ERR_INVALID,
			    "'%s' is not an exposure; use internet, internal or isolated",
			    s ? s : "");
}

void pw_policy_defaults(pw_policy *p)
{
	p->epss_threshold = 0.1;
	p->sla_days[PW_PRIO_EMERGENCY] = 2;
	p->sla_days[PW_PRIO_HIGH] = 14;
	p->sla_days[PW_PRIO_NORMAL] = 30;
	p->sla_days[PW_PRIO_LOW] = 90;
	p->unknown_vector_is_network = true;
	p->unused_is_low = true;
	p->default_exposure = PW_EXPOSURE_INTERNAL;
}

pw_err pw_policy_from_config(const pw_config *c, pw_policy *p, pw_error *err)
{
	pw_policy_defaults(p);
	if (!c)
		return PW_OK;
	pw_err rc = pw_config_get_double(c, "policy", "epss_threshold", p->epss_threshold,
					 &p->epss_threshold, err);
	if (rc)
		return rc;
	if (!(p->epss_threshold >= 0.0 && p->epss_threshold <= 1.0))
		return pw_error_set(
			err, PW_ERR_INVALID,
			"[policy] epss_threshold = %g: an EPSS probability is between 0 and 1",
			p->epss_threshold);
	for (int i = 0; i < PW_PRIO__COUNT; i++) {
		long days;
		rc = pw_config_get_int(c, "policy", sla_keys[i], p->sla_days[i], &days, err);
		if (rc)
			return rc;
		if (days < 0 || days > 3650)
			return pw_error_set(
				err, PW_ERR_INVALID,
				"[policy] %s = %ld: give a number of days from 0 to 3650",
				sla_keys[i], days);
		p->sla_days[i] = (int)days;
	}
	rc = pw_config_get_bool(c, "policy", "unknown_vector_is_network",
				p->unknown_vector_is_network, &p->unknown_vector_is_network, err);
	if (rc)
		return rc;
	rc = pw_config_get_bool(c, "policy", "unused_is_low", p->unused_is_low, &p->unused_is_low,
				err);
	if (rc)
		return rc;
	const char *exposure = pw_config_get(c, "scan", "exposure");
	if (exposure && pw_exposure_from_name(exposure, &p->default_exposure, err))
		return pw_error_prefix(err, "[scan] exposure: ");
	return PW_OK;
}

static bool vector_is_network(const pw_policy *p, pw_attack_vector av)
{
	return av == PW_AV_NETWORK || (av == PW_AV_UNKNOWN && p->unknown_vector_is_network);
}

pw_priority pw_policy_decide(const pw_policy *p, const pw_priority_input *in,
			     pw_priority_reason *reason)
{
	pw_priority_reason r;
	pw_priority prio;
	if (in->kev_cve) {
		r = PW_REASON_KEV;
		prio = PW_PRIO_EMERGENCY;
	} else if (in->exposure == PW_EXPOSURE_INTERNET && in->epss >= 0 &&
		   in->epss >= p->epss_threshold) {
		r = PW_REASON_EPSS_INTERNET;
		prio = PW_PRIO_EMERGENCY;
	} else if (p->unused_is_low && in->in_use == 0) {
		r = PW_REASON_NOT_IN_USE;
		prio = PW_PRIO_LOW;
	} else if (in->attack_vector == PW_AV_LOCAL || in->attack_vector == PW_AV_PHYSICAL) {
		r = PW_REASON_LOCAL_VECTOR;
		prio = PW_PRIO_LOW;
	} else if (in->severity == PW_SEV_NEGLIGIBLE) {
		r = PW_REASON_NEGLIGIBLE;
		prio = PW_PRIO_LOW;
	} else if ((in->severity == PW_SEV_HIGH || in->severity == PW_SEV_CRITICAL) &&
		   vector_is_network(p, in->attack_vector)) {
		r = PW_REASON_NETWORK_SEVERE;
		prio = PW_PRIO_HIGH;
	} else {
		r = PW_REASON_DEFAULT;
		prio = PW_PRIO_NORMAL;
	}
	if (reason)
		*reason = r;
	return prio;
}

pw_err pw_policy_reason_text(const pw_policy *p, const pw_priority_input *in,
			     pw_priority_reason reason, pw_buf *out)
{
	const char *sev = pw_severity_name(in->severity);
	const char *av = pw_attack_vector_name(in->attack_vector);
	switch (reason) {
	case PW_REASON_KEV:
		if (in->kev_due)
			return pw_buf_printf(out, "%s is in CISA KEV (due %s)", in->kev_cve,
					     in->kev_due);
		return pw_buf_printf(out, "%s is in CISA KEV", in->kev_cve);
	case PW_REASON_EPSS_INTERNET:
		return pw_buf_printf(out, "EPSS %.3f (%s) >= %.3f on an internet-facing host",
				     in->epss, in->epss_cve ? in->epss_cve : "?",
				     p->epss_threshold);
	case PW_REASON_NOT_IN_USE:
		return pw_buf_puts(out, "installed, but no running process uses its files");
	case PW_REASON_LOCAL_VECTOR:
		return pw_buf_printf(out, "attack vector %s only", av);
	case PW_REASON_NEGLIGIBLE:
		return pw_buf_puts(out, "severity negligible");
	case PW_REASON_NETWORK_SEVERE:
		if (in->attack_vector == PW_AV_UNKNOWN)
			return pw_buf_printf(
				out, "severity %s, attack vector unknown (counted as network)",
				sev);
		return pw_buf_printf(out, "severity %s, attack vector network", sev);
	case PW_REASON_DEFAULT:
		break;
	}
	if (in->severity == PW_SEV_UNKNOWN && in->attack_vector == PW_AV_UNKNOWN)
		return pw_buf_puts(out, "no KEV entry, severity and attack vector unknown");
	return pw_buf_printf(out, "severity %s, attack vector %s", sev, av);
}
