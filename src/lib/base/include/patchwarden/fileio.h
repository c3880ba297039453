/* Whole-file reading and crash-safe writing. */
#ifndef PATCHWARDEN_FILEIO_H
#define PATCHWARDEN_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/buf.h"
#include "patchwarden/error.h"

/* The most pw_read_file reads into memory, whatever the caller asks:
 * 1 GiB, more than any feed, inventory or configuration file. */
#define PW_READ_FILE_MAX ((size_t)1 << 30)

/* Opens `path` for reading when it is a regular file (or /dev/null, an
 * empty one), and refuses anything else (a directory, a FIFO that would
 * block for ever, a device such as /dev/zero that never ends) with
 * PW_ERR_INVALID naming it; never blocks in open(2). The caller owns *fd
 * (close it). */
pw_err pw_open_regular(const char *path, int *fd, pw_error *err);

/* Appends the whole content of the regular file `path` to `out` (see
 * pw_open_regular). Files larger than `max_bytes` (0 or more than
 * PW_READ_FILE_MAX: PW_READ_FILE_MAX) are refused with PW_ERR_TOOLARGE
 * naming the file and the limit. */
pw_err pw_read_file(const char *path, pw_buf *out, size_t max_bytes, pw_error *err);

/* Writes `len` bytes to `path` through a temporary file in the same
 * directory, fsync and rename, so readers see the old or the new content,
 * never a mix. `mode` as for open(2). */
pw_err pw_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode,
			    pw_error *err);

/* The directory holding `path` into out: "." when it has no slash, "/"
 * for a name at the top (cut to size like snprintf). */
void pw_path_dir(const char *path, char *out, size_t size);

/* The names in directory `dir` that do not start with '.' and that `keep`
 * accepts (NULL: all), in strcmp order, so what is read from a directory
 * comes in a repeatable order: a new array of new strings, freed with
 * pw_free_names. A directory that cannot be read is PW_ERR_IO naming it,
 * or PW_ERR_NOTFOUND (same message) when it does not exist or is not a
 * directory. On error *names is NULL and *n 0. */
pw_err pw_dir_names(const char *dir, bool (*keep)(const char *name), char ***names, size_t *n,
		    pw_error *err);
void pw_free_names(char **names, size_t n);

#endif
