/* Growable byte buffer, always NUL-terminated. Ownership: a pw_buf owns
 * its memory until pw_buf_release() or pw_buf_detach(). */
#ifndef PATCHWARDEN_BUF_H
#define PATCHWARDEN_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "patchwarden/error.h"

typedef struct pw_buf {
	char *data; /* NULL until the first append; never read through when len == 0 */
	size_t len;
	size_t cap;
} pw_buf;

/* clang-format off */
#define PW_BUF_INIT {NULL, 0, 0}
/* clang-format on */

pw_err pw_buf_reserve(pw_buf *b, size_t extra);
pw_err pw_buf_append(pw_buf *b, const void *data, size_t len);
pw_err pw_buf_puts(pw_buf *b, const char *s);
pw_err pw_buf_putc(pw_buf *b, char c);
pw_err pw_buf_printf(pw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
pw_err pw_buf_vprintf(pw_buf *b, const char *fmt, va_list ap);
/* Empties the buffer but keeps its memory. */
void pw_buf_reset(pw_buf *b);
/* "" when nothing was appended yet. */
const char *pw_buf_str(const pw_buf *b);
/* Hands the memory to the caller (free() it); the buffer is empty after. */
char *pw_buf_detach(pw_buf *b);
void pw_buf_release(pw_buf *b);

#endif
