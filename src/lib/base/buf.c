#include "patchwarden/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pw_err pw_buf_reserve(pw_buf *b, size_t extra)
{
	if (extra > (size_t)-1 - b->len - 1)
		return PW_ERR_NOMEM;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return PW_OK;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > (size_t)-1 / 2 ? need : cap * 2;
	char *p = realloc(b->data, cap);
	if (!p)
		return PW_ERR_NOMEM;
	b->data = p;
	b->cap = cap;
	/* A reserved but still empty buffer reads as "" too. */
	b->data[b->len] = '\0';
	return PW_OK;
}

pw_err pw_buf_append(pw_buf *b, const void *data, size_t len)
{
	pw_err rc = pw_buf_reserve(b, len);
	if (rc)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return PW_OK;
}

pw_err pw_buf_puts(pw_buf *b, const char *s)
{
	return pw_buf_append(b, s, strlen(s));
}

pw_err pw_buf_putc(pw_buf *b, char c)
{
	return pw_buf_append(b, &c, 1);
}

pw_err pw_buf_vprintf(pw_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return PW_ERR_INVALID;
	pw_err rc = pw_buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return PW_OK;
}

pw_err pw_buf_printf(pw_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pw_err rc = pw_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void pw_buf_reset(pw_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

const char *pw_buf_str(const pw_buf *b)
{
	return b->data ? b->data : "";
}

char *pw_buf_detach(pw_buf *b)
{
	char *p = b->data;
	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void pw_buf_release(pw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
