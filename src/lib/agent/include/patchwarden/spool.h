/* The agent's result spool: one file per result, named by its sequence
 * number, kept until the server acknowledges it. Results survive crashes
 * and reboots (each file and the sequence counter are written with
 * pw_write_file_atomic: temporary file, fsync, rename) and are listed in
 * sequence order, so an agent cut off for a day delivers everything, in
 * order, once.
 *
 * Layout of DIR (created 0700):
 *   next-seq                 the next sequence number, decimal
 *   00000000000000000042.result
 *                            "PWSPOOL1 <length> <crc32 hex>\n" + payload
 *   quarantine/              files whose header, length or checksum is
 *                            wrong, moved aside for the operator */
#ifndef PATCHWARDEN_SPOOL_H
#define PATCHWARDEN_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "patchwarden/buf.h"
#include "patchwarden/error.h"

typedef struct pw_spool {
	char *dir;
	uint64_t next_seq;
	size_t max_bytes;   /* limit on the total size of the result files */
	size_t total_bytes; /* their current total */
	size_t count;
} pw_spool;

/* clang-format off */
#define PW_SPOOL_INIT {NULL, 1, 0, 0, 0}
/* clang-format on */
#define PW_SPOOL_DEFAULT_MAX (64u * 1024 * 1024)

/* Opens (creating it 0700 when missing) the spool in `dir`: reads the
 * counter, removes temporary files left by a crash mid-write, counts the
 * results. max_bytes 0 means PW_SPOOL_DEFAULT_MAX. The sequence counter
 * never goes back: it is at least one past the highest file present
 * (and the agent raises it past what the server acknowledged with
 * pw_spool_raise, so a lost or restored counter file is harmless). */
pw_err pw_spool_open(pw_spool *s, const char *dir, size_t max_bytes, pw_error *err);
void pw_spool_release(pw_spool *s);

/* Stores one result and sets *seq to its number. The counter is made
 * durable before the file, so a crash leaves a gap, never a reused
 * number. PW_ERR_TOOLARGE, saying how full the spool is, when the result
 * would take the spool past max_bytes. */
pw_err pw_spool_put(pw_spool *s, const void *data, size_t len, uint64_t *seq, pw_error *err);

/* Raises the counter to `next` (durably) when it is below; never lowers
 * it. */
pw_err pw_spool_raise(pw_spool *s, uint64_t next, pw_error *err);

/* Gives result `seq` the next sequence number, set in *to: for a result
 * the server holds another one under `seq`. Like pw_spool_put, the
 * counter is made durable first; the rename is atomic, so a crash leaves
 * the result under one of the two numbers, never under none.
 * PW_ERR_NOTFOUND when there is no result `seq`. */
pw_err pw_spool_renumber(pw_spool *s, uint64_t seq, uint64_t *to, pw_error *err);

/* The sequence numbers present, ascending (caller frees *seqs). */
pw_err pw_spool_list(const pw_spool *s, uint64_t **seqs, size_t *n, pw_error *err);

/* Appends the payload of result `seq` to out. A file with a bad header,
 * length or checksum is moved to DIR/quarantine/ and the result is
 * PW_ERR_INTEGRITY naming it; the caller goes on with the next one. */
pw_err pw_spool_read(pw_spool *s, uint64_t seq, pw_buf *out, pw_error *err);

/* Deletes result `seq` (acknowledged by the server). Deleting one that
 * is not there is not an error: acks can repeat. */
pw_err pw_spool_remove(pw_spool *s, uint64_t seq, pw_error *err);

#endif
