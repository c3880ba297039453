/* The messages between the agent's unprivileged child and its privileged
 * parent (privsep.h): one request (execreq.h) down, one result up, each
 * a frame over a SOCK_STREAM socketpair: a 4-byte big-endian payload
 * length, then the payload in a fixed binary encoding.
 *
 *   request  u8 type (1), u32 kind, u32 flags, u32 n_packages, then per
 *            package: str name, str version, u8 at_least (0 or 1)
 *   result   u8 type (2), u8 status, i32 exit_code, u8 flags (bit 0
 *            resolves, bit 1 needs_reboot, bit 2 runtime follows), u8
 *            db_state, u32 n_changes, per change: str name, str before,
 *            str after, u8 action, u8 ok; u32 n_services, per service: str
 *            unit; blob log; str message; with flag bit 2 the runtime
 *            (runtime.h, an inventory request's answer): u8 in_use_known,
 *            u32 processes, u32 n_in_use, per package: str key, u32
 *            n_unknown, per package: str key, u32 n_restarts, per restart:
 *            u32 pid, str process, str path, str package, str unit (empty:
 *            unknown); counts and lengths within runtime.h's limits
 *   str      u32 length, then that many bytes (no NUL, no control
 *            character, no DEL); blob: u32 length, bytes without NUL
 *
 * Integers are big-endian. The decoders refuse an unknown type, kind,
 * flag, status, state or action, a count or length over its limit, a
 * byte a string may not hold, a truncated payload and trailing bytes; the
 * error names the field and its offset in the payload. Encoders apply the
 * same rules, so whatever encodes decodes to the same record. */
#ifndef PATCHWARDEN_PRIVMSG_H
#define PATCHWARDEN_PRIVMSG_H

#include <stddef.h>
#include <stdint.h>

#include "patchwarden/buf.h"
#include "patchwarden/error.h"
#include "patchwarden/execreq.h"

#define PW_PRIVMSG_REQUEST 1
#define PW_PRIVMSG_RESULT 2
/* The largest payload either side reads: a result with a full log. */
#define PW_PRIVMSG_MAX ((size_t)8 << 20)
#define PW_PRIVMSG_MAX_CHANGES (PW_EXEC_MAX_PACKAGES * 4) /* pw_exec_result_add_change */
#define PW_PRIVMSG_MAX_SERVICES 1024
#define PW_PRIVMSG_UNIT_MAX 256

/* Appends the payload (no frame header) to `out`. PW_ERR_INVALID names
 * the field that the decoder would refuse. */
pw_err pw_privmsg_encode_request(const pw_exec_request *req, pw_buf *out, pw_error *err);
pw_err pw_privmsg_encode_result(const pw_exec_result *res, pw_buf *out, pw_error *err);

/* Decode one payload. `req` is overwritten; `res` must be initialised
 * (pw_exec_result_init) and is released and refilled. PW_ERR_PARSE
 * ("request: packages[2].name at offset 41: ...") on anything refused;
 * `res` is then empty. */
pw_err pw_privmsg_decode_request(const uint8_t *p, size_t n, pw_exec_request *req, pw_error *err);
pw_err pw_privmsg_decode_result(const uint8_t *p, size_t n, pw_exec_result *res, pw_error *err);

/* Writes one frame (header and payload), retrying on EINTR and short
 * writes. PW_ERR_IO when the peer is gone. */
pw_err pw_privmsg_send(int fd, const void *payload, size_t n, pw_error *err);

/* Reads one frame's payload into `out` (reset first). PW_ERR_NOTFOUND at
 * a clean end of stream before a header, PW_ERR_TOOLARGE for a length
 * over `max` (nothing of the payload is read: the stream is then out of
 * step and must be closed), PW_ERR_IO when the stream ends inside a frame
 * or a read fails. */
pw_err pw_privmsg_recv(int fd, pw_buf *out, size_t max, pw_error *err);

#endif
