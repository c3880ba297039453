/* The mail composer (pw_notify_message) on any subject and body.
 *
 * Input: the subject, a NUL, the body (each ends at the first NUL, as a C
 * string does). Aborts on a crash, a sanitizer report, or a broken law,
 * checked here without the composer's code: the header section (up to
 * the first empty line) is lines ending in CRLF with no other CR or LF,
 * each one of the fixed headers or a continuation of the Subject; the
 * Subject's encoded words are base64 of at most 45 bytes that decode,
 * put together, to the subject; the body has no bare CR or LF. So no
 * subject or body can add a header or a recipient. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int b64(char c)
{
	const char *set = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(set, c) : NULL;
	return p ? (int)(p - set) : -1;
}

/* Decodes the base64 of s[0..n) onto out; the decoded length, or -1. */
static long decode(const char *s, size_t n, unsigned char *out)
{
	long len = 0;
	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		int pad = 0;
		for (int j = 0; j < 4; j++) {
			v[j] = s[i + j] == '=' ? (pad++, 0) : b64(s[i + j]);
			if (v[j] < 0 || (s[i + j] != '=' && pad))
				return -1;
		}
		if (pad > 2 || (pad && i + 4 != n))
			return -1;
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		out[len++] = (unsigned char)(w >> 16);
		if (pad < 2)
			out[len++] = (unsigned char)(w >> 8);
		if (pad < 1)
			out[len++] = (unsigned char)w;
	}
	return len;
}

static const char *const headers[] = {"Date: ",
				      "From: <a@example.org>",
				      "To: <b@example.org>",
				      "Message-ID: <patchwarden.7.",
				      "Subject: =?UTF-8?B?",
				      "MIME-Version: 1.0",
				      "Content-Type: text/plain; charset=UTF-8",
				      "Content-Transfer-Encoding: 8bit",
				      "Auto-Submitted: auto-generated"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 2);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = in[size + 1] = '\0';
	const char *subject = in, *body = in + strlen(in) + 1;
	if ((size_t)(body - in) > size)
		body = in + size + 1;
	/* The subject and body as a public_url and a path too: a link they
	 * make has no byte that could end the line or the URL. */
	char url[600];
	bool linked = pw_notify_url(subject, body, url, sizeof url);
	if (linked && strpbrk(url, " \t\r\n\"'<>\\`"))
		abort();
	pw_notify_mail m = {
		"a@example.org",    "b@example.org", 7, "2026-12-07T10:00:00.000Z", subject, body,
		linked ? url : NULL};
	pw_buf b = PW_BUF_INIT;
	if (!pw_notify_message(&b, &m))
		abort();
	const char *msg = pw_buf_str(&b), *end = strstr(msg, "\r\n\r\n");
	if (!end)
		abort();
	unsigned char *got = malloc(strlen(subject) + 64);
	size_t got_len = 0;
	bool in_subject = false;
	for (const char *line = msg; line <= end;) {
		const char *eol = strstr(line, "\r\n");
		size_t n = (size_t)(eol - line);
		if (memchr(line, '\r', n) || memchr(line, '\n', n))
			abort();
		const char *word = NULL;
		if (line[0] == ' ' && in_subject) {
			word = line + 1;
		} else {
			size_t k = 0;
			while (k < sizeof headers / sizeof *headers &&
			       strncmp(line, headers[k], strlen(headers[k])))
				k++;
			if (k == sizeof headers / sizeof *headers)
				abort();
			in_subject = k == 4;
			if (in_subject)
				word = line + strlen("Subject: ");
		}
		if (word) {
			if (strncmp(word, "=?UTF-8?B?", 10) || n < (size_t)(word - line) + 12 ||
			    strncmp(line + n - 2, "?=", 2))
				abort();
			long d = decode(word + 10, (size_t)(line + n - 2 - (word + 10)),
					got + got_len);
			if (d < 0 || d > 45)
				abort();
			got_len += (size_t)d;
		}
		line = eol + 2;
	}
	if (got_len != strlen(subject) || memcmp(got, subject, got_len))
		abort();
	for (const char *p = end + 4; *p; p++)
		if ((*p == '\r' && p[1] != '\n') || (*p == '\n' && (p == end + 4 || p[-1] != '\r')))
			abort();
	free(got);
	pw_buf_release(&b);
	free(in);
	return 0;
}
