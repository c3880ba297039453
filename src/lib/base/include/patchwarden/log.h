/* Log lines: what reaches the server's log (the journal) passes through
 * here, so that text from a request (a URL-decoded path, a header, an
 * error message quoting input) cannot start a line of its own or hide
 * in terminal escapes, and a reader can tell every byte apart. */
#ifndef PATCHWARDEN_LOG_H
#define PATCHWARDEN_LOG_H

#include <stddef.h>

/* Copies `in` to `out` (at most size - 1 bytes, always NUL-terminated
 * when size > 0) with control characters, DEL, backslash, bytes that are
 * not UTF-8, and the UTF-8 characters that break or reorder a line (C1
 * controls, U+2028/U+2029, bidirectional controls) written as `\xNN`
 * (a backslash as `\\`). A line cut short is cut between characters,
 * never inside an escape. Returns the length written. */
size_t pw_log_escape(const char *in, char *out, size_t size);

#endif
