#include "patchwarden/advisory.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

const char *pw_fix_state_name(pw_fix_state s)
{
	switch (s) {
	case PW_FIX_FIXED:
		return "fixed";
	case PW_FIX_UNFIXED:
		return "unfixed";
	case PW_FIX_NOT_AFFECTED:
		return "not-affected";
	case PW_FIX_DNE:
		return "dne";
	case PW_FIX_IGNORED:
		return "ignored";
	}
	return "unknown";
}

const char *pw_severity_name(pw_severity s)
{
	switch (s) {
	case PW_SEV_UNKNOWN:
		return "unknown";
	case PW_SEV_NEGLIGIBLE:
		return "negligible";
	case PW_SEV_LOW:
		return "low";
	case PW_SEV_MEDIUM:
		return "medium";
	case PW_SEV_HIGH:
		return "high";
	case PW_SEV_CRITICAL:
		return "critical";
	}
	return "unknown";
}

/* Each distro rates on its own scale; these are the words seen in the
 * feeds we import (Red Hat/Alma/Rocky "Important", Debian "unimportant",
 * Ubuntu "negligible", CVSS qualitative "None"). */
static const struct {
	const char *word;
	pw_severity sev;
} severity_words[] = {
	{"critical", PW_SEV_CRITICAL},
	{"important", PW_SEV_HIGH},
	{"high", PW_SEV_HIGH},
	{"moderate", PW_SEV_MEDIUM},
	{"medium", PW_SEV_MEDIUM},
	{"low", PW_SEV_LOW},
	{"negligible", PW_SEV_NEGLIGIBLE},
	{"unimportant", PW_SEV_NEGLIGIBLE},
	{"none", PW_SEV_NEGLIGIBLE},
};

pw_severity pw_severity_from_text(const char *s)
{
	if (!s)
		return PW_SEV_UNKNOWN;
	while (isspace((unsigned char)*s))
		s++;
	size_t n = 0;
	while (s[n] && isalpha((unsigned char)s[n]))
		n++;
	for (size_t i = 0; i < sizeof severity_words / sizeof severity_words[0]; i++) {
		const char *w = severity_words[i].word;
		if (strlen(w) == n && strncasecmp(s, w, n) == 0)
			return severity_words[i].sev;
	}
	return PW_SEV_UNKNOWN;
}

pw_attack_vector pw_attack_vector_from_cvss(const char *v)
{
	if (!v)
		return PW_AV_UNKNOWN;
	/* The metric is "AV:x" at the start of the vector or after a '/'. */
	for (const char *p = v; *p; p++) {
		if ((p == v || p[-1] == '/') && p[0] == 'A' && p[1] == 'V' && p[2] == ':') {
			switch (p[3]) {
			case 'N':
				return PW_AV_NETWORK;
			case 'A':
				return PW_AV_ADJACENT;
			case 'L':
				return PW_AV_LOCAL;
			case 'P':
				return PW_AV_PHYSICAL;
			default:
				return PW_AV_UNKNOWN;
			}
		}
	}
	return PW_AV_UNKNOWN;
}

const char *pw_attack_vector_name(pw_attack_vector av)
{
	switch (av) {
	case PW_AV_UNKNOWN:
		return "unknown";
	case PW_AV_NETWORK:
		return "network";
	case PW_AV_ADJACENT:
		return "adjacent";
	case PW_AV_LOCAL:
		return "local";
	case PW_AV_PHYSICAL:
		return "physical";
	}
	return "unknown";
}
