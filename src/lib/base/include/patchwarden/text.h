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

/* Whether a and b are both NULL or equal strings. */
bool pw_str_same(const char *a, const char *b);

#endif
