/* Log lines: what reaches the server's log (the journal) passes through
 * here, so that text from a request (a URL-decoded path, a header, an
 * error message quoting input) cannot start a line of its own or hide
 * in terminal escapes, and a reader can tell every byte apart. */
#ifndef PATCHWARDEN_LOG_H
#define PATCHWARDEN_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* Levels with syslog's numbers, which are the journal's priorities: a
 * line written "<3>text" to a stream systemd reads is logged at err. */
typedef enum pw_log_level {
	PW_LOG_ERR = 3,
	PW_LOG_WARNING = 4,
	PW_LOG_NOTICE = 5,
	PW_LOG_INFO = 6,
	PW_LOG_DEBUG = 7,
} pw_log_level;

/* "err", "warning", "notice", "info", "debug". */
const char *pw_log_level_name(pw_log_level level);
/* The level a name gives ([server] log_level); false for another word. */
bool pw_log_level_parse(const char *name, pw_log_level *out);

/* Copies `in` to `out` (at most size - 1 bytes, always NUL-terminated
 * when size > 0) with control characters, DEL, backslash, bytes that are
 * not UTF-8, and the UTF-8 characters that break or reorder a line (C1
 * controls, U+2028/U+2029, bidirectional controls) written as `\xNN`
 * (a backslash as `\\`). A line cut short is cut between characters,
 * never inside an escape. Returns the length written. */
size_t pw_log_escape(const char *in, char *out, size_t size);

#endif
