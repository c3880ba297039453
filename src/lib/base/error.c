#include "patchwarden/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const texts[PW_ERR__COUNT] = {
	[PW_OK] = "success",
	[PW_ERR_NOMEM] = "out of memory",
	[PW_ERR_INVALID] = "invalid argument",
	[PW_ERR_IO] = "input/output error",
	[PW_ERR_PARSE] = "malformed input",
	[PW_ERR_NOTFOUND] = "not found",
	[PW_ERR_UNSUPPORTED] = "unsupported",
	[PW_ERR_STORE] = "database error",
	[PW_ERR_TOOLARGE] = "input too large",
	[PW_ERR_EXTERNAL] = "external program failed",
	[PW_ERR_AUTH] = "permission denied",
	[PW_ERR_NETWORK] = "network error",
	[PW_ERR_INTEGRITY] = "integrity check failed",
	[PW_ERR_CONFLICT] = "conflicts with stored data",
	[PW_ERR_UNAVAILABLE] = "store unavailable (disk full or read-only)",
};

const char *pw_strerror(pw_err code)
{
	if ((unsigned)code >= PW_ERR__COUNT || !texts[code])
		return "unknown error";
	return texts[code];
}

pw_err pw_error_set(pw_error *e, pw_err code, const char *fmt, ...)
{
	if (!e)
		return code;
	e->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return code;
}

pw_err pw_error_prefix(pw_error *e, const char *fmt, ...)
{
	if (!e)
		return PW_OK;
	char prefix[PW_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	/* Truncation is acceptable here: the start of a message matters most. */
	size_t plen = strlen(prefix);
	size_t olen = strnlen(e->msg, sizeof e->msg - 1);
	if (plen + olen > sizeof e->msg - 1)
		olen = sizeof e->msg - 1 - plen;
	memmove(e->msg + plen, e->msg, olen);
	memcpy(e->msg, prefix, plen);
	e->msg[plen + olen] = '\0';
	return e->code;
}

const char *pw_error_text(const pw_error *e)
{
	if (!e)
		return pw_strerror(PW_OK);
	return e->msg[0] ? e->msg : pw_strerror(e->code);
}
