/* One error type for the whole library: a code from an append-only enum
 * plus a message that tells the operator what went wrong and where.
 * The library never prints and never exits; front ends decide that. */
#ifndef PATCHWARDEN_ERROR_H
#define PATCHWARDEN_ERROR_H

#include <stddef.h>

/* Append only: scripts and logs may carry the numbers. */
typedef enum pw_err {
	PW_OK = 0,
	PW_ERR_NOMEM = 1,       /* out of memory */
	PW_ERR_INVALID = 2,     /* a value the caller passed is not valid */
	PW_ERR_IO = 3,          /* reading or writing a file failed */
	PW_ERR_PARSE = 4,       /* input is malformed */
	PW_ERR_NOTFOUND = 5,    /* the named thing does not exist */
	PW_ERR_UNSUPPORTED = 6, /* known format or feature we do not handle */
	PW_ERR_STORE = 7,       /* the database refused an operation */
	PW_ERR_TOOLARGE = 8,    /* input exceeds a configured limit */
	PW_ERR_EXTERNAL = 9,    /* an external program or library failed */
	PW_ERR_AUTH = 10,       /* authentication or authorization refused */
	PW_ERR_NETWORK = 11,    /* a network transfer failed */
	PW_ERR_INTEGRITY = 12,  /* a signature, hash or chain does not verify */
	PW_ERR_CONFLICT = 13,   /* the request conflicts with what is stored (a name taken) */
	PW_ERR_UNAVAILABLE =
		14, /* the store takes no changes now: its disk is full, it is read-only */
	PW_ERR__COUNT
} pw_err;

#define PW_ERROR_MSG_MAX 512

/* Filled by library functions that can fail; pass NULL when the message
 * is not wanted. `code` mirrors the function's return value. */
typedef struct pw_error {
	pw_err code;
	char msg[PW_ERROR_MSG_MAX];
} pw_error;

/* clang-format off */
#define PW_ERROR_INIT {PW_OK, {0}}
/* clang-format on */

/* Short, stable text for a code ("out of memory"). */
const char *pw_strerror(pw_err code);

/* Records code and a printf-style message in *e (if e is non-NULL) and
 * returns code, so callers can write `return pw_error_set(e, ...)`. */
pw_err pw_error_set(pw_error *e, pw_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with more context ("file.json: ").
 * Returns e->code (PW_OK when e is NULL). */
pw_err pw_error_prefix(pw_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The message if one was set, otherwise pw_strerror(code). */
const char *pw_error_text(const pw_error *e);

#endif
