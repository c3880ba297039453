/* Whole-file reading and crash-safe writing. */
#ifndef PATCHWARDEN_FILEIO_H
#define PATCHWARDEN_FILEIO_H

#include <stddef.h>

#include "patchwarden/buf.h"
#include "patchwarden/error.h"

/* Appends the whole content of `path` to `out`. Files larger than
 * `max_bytes` are refused with PW_ERR_TOOLARGE (0 = no limit). */
pw_err pw_read_file(const char *path, pw_buf *out, size_t max_bytes, pw_error *err);

/* Writes `len` bytes to `path` through a temporary file in the same
 * directory, fsync and rename, so readers see the old or the new content,
 * never a mix. `mode` as for open(2). */
pw_err pw_write_file_atomic(const char *path, const void *data, size_t len,
			    unsigned mode, pw_error *err);

#endif
