/* Checks for short texts that end up in audit targets, log lines and
 * labels. */
#ifndef PATCHWARDEN_TEXT_H
#define PATCHWARDEN_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s is 1..max bytes of printable ASCII without spaces (ids and
 * names that end up in audit targets and log lines). */
bool pw_word_ok(const char *s, size_t max);
/* Whether s is 1..max bytes without control characters (labels). */
#define PW_LABEL_MAX 128
bool pw_text_ok(const char *s, size_t max);

/* How many bytes of s a message may quote when it shows at most max of
 * them: all of s when it is that short, else max or fewer so that no
 * UTF-8 character is cut in two (messages end up in JSON replies, which
 * must be UTF-8). For "%.*s". */
int pw_utf8_prefix(const char *s, size_t max);

/* Vulnerability ids as the feeds name them, case as stored (no case is
 * folded: the store and the findings keep what the feed wrote).
 * pw_cve_id_ok: "CVE-", a four-digit year, "-", 4 to 12 digits.
 * pw_advisory_id_ok: 1..PW_ADVISORY_ID_MAX bytes of letters, digits and
 * "-:._", beginning with a letter or a digit: "DSA-5532-1", "DLA-3325-1",
 * "USN-6123-1", "RHSA-2024:1234", "ALSA-2024:0627", "GHSA-xxxx-xxxx-xxxx",
 * OSV ids ("DEBIAN-CVE-2023-5363", "PYSEC-2021-1"), a CVE id (the Ubuntu
 * CVE tracker's advisories are CVEs). */
#define PW_ADVISORY_ID_MAX 64
bool pw_cve_id_ok(const char *s);
bool pw_advisory_id_ok(const char *s);

/* The value of a hexadecimal digit (either case), or -1. */
int pw_hex_digit(char c);

/* Whether a and b are both NULL or equal strings. */
bool pw_str_same(const char *a, const char *b);

#endif
