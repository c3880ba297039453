/* The privilege boundary's decoders (privmsg.h), both directions: the
 * parent decodes what a possibly compromised child sends, the child what
 * the parent answers. The first byte picks the decoder (even: request,
 * odd: result); the rest is the payload. Whatever the bytes, a decoder
 * must end in PW_OK or PW_ERR_PARSE; what it accepts must encode again
 * to exactly the same bytes (the encoding is canonical) and decode to
 * the same record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/privmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request(const uint8_t *p, size_t n)
{
	static pw_exec_request a, b;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_privmsg_decode_request(p, n, &a, &e);
	if (rc != PW_OK && rc != PW_ERR_PARSE)
		abort();
	if (rc)
		return;
	pw_buf out = PW_BUF_INIT;
	if (pw_privmsg_encode_request(&a, &out, &e) || out.len != n || memcmp(out.data, p, n))
		abort();
	if (pw_privmsg_decode_request((const uint8_t *)out.data, out.len, &b, &e) ||
	    a.kind != b.kind || a.flags != b.flags || a.n_packages != b.n_packages)
		abort();
	for (size_t i = 0; i < a.n_packages; i++)
		if (strcmp(a.packages[i].name, b.packages[i].name) ||
		    strcmp(a.packages[i].version, b.packages[i].version) ||
		    a.packages[i].at_least != b.packages[i].at_least)
			abort();
	pw_buf_release(&out);
}

static void result(const uint8_t *p, size_t n)
{
	pw_exec_result a, b;
	pw_exec_result_init(&a);
	pw_exec_result_init(&b);
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_privmsg_decode_result(p, n, &a, &e);
	if (rc != PW_OK && rc != PW_ERR_PARSE && rc != PW_ERR_NOMEM)
		abort();
	if (rc) {
		if (a.n_changes || a.n_services || a.log.len)
			abort(); /* a refused result is empty */
		return;
	}
	pw_buf out = PW_BUF_INIT;
	if (pw_privmsg_encode_result(&a, &out, &e) || out.len != n || memcmp(out.data, p, n))
		abort();
	if (pw_privmsg_decode_result((const uint8_t *)out.data, out.len, &b, &e) ||
	    a.status != b.status || a.exit_code != b.exit_code || a.n_changes != b.n_changes ||
	    a.n_services != b.n_services || a.log.len != b.log.len || strcmp(a.message, b.message))
		abort();
	pw_buf_release(&out);
	pw_exec_result_release(&a);
	pw_exec_result_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		result(data + 1, size - 1);
	else
		request(data + 1, size - 1);
	return 0;
}
