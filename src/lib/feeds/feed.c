#include "patchwarden/feed.h"

#include <ctype.h>
#include <string.h>

static const char *const format_names[PW_FEED__COUNT] = {
	[PW_FEED_UNKNOWN] = "unknown",
	[PW_FEED_OSV] = "osv",
	[PW_FEED_DEBIAN_LIST] = "debian-list",
	[PW_FEED_DEBIAN_JSON] = "debian-json",
	[PW_FEED_UBUNTU_UCT] = "ubuntu-uct",
	[PW_FEED_ALPINE_YAML] = "alpine-yaml",
	[PW_FEED_ALPINE_JSON] = "alpine-json",
	[PW_FEED_KEV] = "kev",
	[PW_FEED_EPSS] = "epss",
};

const char *pw_feed_format_name(pw_feed_format f)
{
	return (unsigned)f < PW_FEED__COUNT ? format_names[f] : "unknown";
}

/* Detection reads only a bounded prefix: real feed files announce their
 * kind in their first few kilobytes, and a 30 MB EPSS file must not be
 * scanned twice. */
#define SNIFF_BYTES 16384

static bool has(const char *data, size_t len, const char *needle)
{
	return memmem(data, len < SNIFF_BYTES ? len : SNIFF_BYTES, needle, strlen(needle)) != NULL;
}

static bool starts_with(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

/* "[29 Mar 2023] DSA-5380-1 ..." on the first non-empty line (DTSA
 * uses "[August 26th, 2005]"). */
static bool looks_debian_list(const char *p, const char *end)
{
	if (end - p < 16 || p[0] != '[')
		return false;
	const char *close = memchr(p, ']', (size_t)(end - p) < 40 ? (size_t)(end - p) : 40);
	if (!close || close + 2 >= end)
		return false;
	const char *id = close + 2;
	return starts_with(id, end, "DSA-") || starts_with(id, end, "DLA-") ||
	       starts_with(id, end, "DTSA-");
}

/* A line "CVE-YYYY-N[,;]<number>..." as in EPSS CSVs. */
static bool looks_epss_line(const char *p, const char *end)
{
	if (!starts_with(p, end, "CVE-"))
		return false;
	p += 4;
	while (p < end && (isdigit((unsigned char)*p) || *p == '-'))
		p++;
	return p + 1 < end && (*p == ',' || *p == ';') &&
	       (isdigit((unsigned char)p[1]) || p[1] == '.');
}

/* "Candidate: CVE-..." at the start of a line. The tracker's template
 * (active/00boilerplate) has an empty Candidate and is no advisory, so a
 * directory import of a tracker checkout must not try to parse it. */
static bool has_uct_candidate(const char *p, const char *end)
{
	const char *lim = (size_t)(end - p) < SNIFF_BYTES ? end : p + SNIFF_BYTES;
	for (const char *q = p; q < lim; q++) {
		if ((q == p || q[-1] == '\n') && starts_with(q, lim, "Candidate:")) {
			q += 10;
			while (q < lim && (*q == ' ' || *q == '\t'))
				q++;
			return starts_with(q, lim, "CVE-");
		}
	}
	return false;
}

pw_feed_format pw_feed_detect(const char *data, size_t len, const char *name)
{
	(void)name;
	const char *p = data, *end = data + len;
	if (starts_with(p, end, "\xEF\xBB\xBF"))
		p += 3;
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end)
		return PW_FEED_UNKNOWN;
	size_t rest = (size_t)(end - p);

	if (looks_debian_list(p, end))
		return PW_FEED_DEBIAN_LIST;
	if (*p == '{' || *p == '[') {
		/* A JSON Schema names the same properties as the data it describes. */
		if (has(p, rest, "\"$schema\"") && has(p, rest, "\"properties\""))
			return PW_FEED_UNKNOWN;
		if (has(p, rest, "\"catalogVersion\"") && has(p, rest, "\"vulnerabilities\""))
			return PW_FEED_KEV;
		/* secdb files carry "packages"; vuln-list splits them per package. */
		if (has(p, rest, "\"distroversion\"") &&
		    (has(p, rest, "\"packages\"") || has(p, rest, "\"secfixes\"")))
			return PW_FEED_ALPINE_JSON;
		if (has(p, rest, "\"releases\"") && has(p, rest, "\"CVE-") &&
		    !has(p, rest, "\"affected\""))
			return PW_FEED_DEBIAN_JSON;
		if (has(p, rest, "\"id\"") &&
		    (has(p, rest, "\"affected\"") || has(p, rest, "\"modified\"")))
			return PW_FEED_OSV;
		return PW_FEED_UNKNOWN;
	}
	if (starts_with(p, end, "#model_version") || starts_with(p, end, "cve,epss") ||
	    looks_epss_line(p, end))
		return PW_FEED_EPSS;
	if (has(p, rest, "distroversion:") && has(p, rest, "packages:"))
		return PW_FEED_ALPINE_YAML;
	if (has_uct_candidate(p, end) &&
	    (starts_with(p, end, "Candidate:") || has(p, rest, "\nPriority:")))
		return PW_FEED_UBUNTU_UCT;
	return PW_FEED_UNKNOWN;
}
