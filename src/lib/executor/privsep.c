#include "patchwarden/privsep.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/fileio.h"
#include "patchwarden/log.h"
#include "patchwarden/privmsg.h"

/* os-release IDs per package scheme; ID first, then ID_LIKE words. */
static const struct {
	const char *scheme, *ids;
} scheme_ids[] = {
	{"deb", " debian ubuntu raspbian linuxmint pop kali devuan "},
	{"rpm", " rhel fedora centos rocky almalinux ol amzn suse opensuse opensuse-leap "
		"opensuse-tumbleweed sles sled mariner azurelinux "},
	{"apk", " alpine postmarketos wolfi "},
};

static const char *scheme_of_word(const char *w, size_t n)
{
	char pat[72];
	if (!n || n > 64)
		return NULL;
	snprintf(pat, sizeof pat, " %.*s ", (int)n, w);
	for (size_t i = 0; i < sizeof scheme_ids / sizeof scheme_ids[0]; i++)
		if (strstr(scheme_ids[i].ids, pat))
			return scheme_ids[i].scheme;
	return NULL;
}

/* The value of KEY= in an os-release text (quotes stripped) into out. */
static bool osrel_value(const char *text, const char *key, char *out, size_t size)
{
	size_t k = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, k) || p[k] != '=')
			continue;
		const char *v = p + k + 1;
		size_t n = strcspn(v, "\n");
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v++;
			n -= 2;
		}
		snprintf(out, size, "%.*s", (int)n, v);
		return true;
	}
	return false;
}

const char *pw_privsep_host_scheme(const char *root)
{
	static const char *const files[] = {"etc/os-release", "usr/lib/os-release"};
	pw_buf text = PW_BUF_INIT;
	bool found = false;
	for (size_t i = 0; i < 2 && !found; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", root && *root ? root : "", files[i]);
		pw_error e = PW_ERROR_INIT;
		found = !pw_read_file(path, &text, 1 << 16, &e);
	}
	char id[128] = "", like[512] = "";
	osrel_value(pw_buf_str(&text), "ID", id, sizeof id);
	osrel_value(pw_buf_str(&text), "ID_LIKE", like, sizeof like);
	pw_buf_release(&text);
	if (!found)
		return NULL;
	const char *s = scheme_of_word(id, strlen(id));
	for (const char *p = like; !s && *p;) {
		size_t w = strcspn(p, " ");
		s = scheme_of_word(p, w);
		p += w + (p[w] == ' ');
	}
	return s;
}

static void logline(const char *what, const char *text)
{
	char esc[PW_ERROR_MSG_MAX * 4];
	pw_log_escape(text, esc, sizeof esc);
	fprintf(stderr, "patchwarden agent: privileged parent: %s: %s\n", what, esc);
}

/* What the channel may carry back: no control characters in the
 * message (the codec refuses them). */
static void tidy_message(pw_exec_result *res)
{
	for (char *p = res->message; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

static bool reply(int fd, pw_exec_result *res, pw_error *err)
{
	pw_buf out = PW_BUF_INIT;
	tidy_message(res);
	pw_error ee = PW_ERROR_INIT;
	if (pw_privmsg_encode_result(res, &out, &ee)) {
		/* A backend's result the codec refuses: say so instead. */
		pw_exec_status st = res->status == PW_EXEC_DONE ? PW_EXEC_FAILED : res->status;
		int code = res->exit_code;
		pw_exec_result_release(res);
		res->exit_code = code;
		pw_exec_result_say(res, st, "the result could not be passed on: %s",
				   pw_error_text(&ee));
		tidy_message(res);
		logline("result not passed on", pw_error_text(&ee));
		pw_buf_reset(&out);
		if (pw_privmsg_encode_result(res, &out, err)) {
			pw_buf_release(&out);
			return false;
		}
	}
	bool ok = !pw_privmsg_send(fd, out.data, out.len, err);
	pw_buf_release(&out);
	return ok;
}

void pw_privsep_serve(int fd, const pw_executor_conf *conf, const char *scheme,
		      pw_privsep_stats *stats)
{
	memset(stats, 0, sizeof *stats);
	pw_buf in = PW_BUF_INIT;
	pw_exec_request *req = malloc(sizeof *req);
	if (!req) {
		snprintf(stats->ended, sizeof stats->ended, "out of memory");
		return;
	}
	/* Requests are small: a full one is ~136 KiB. */
	const size_t max_request = 16 + PW_EXEC_MAX_PACKAGES *
						(10 + PW_EXEC_NAME_MAX + PW_EXEC_VERSION_MAX);
	for (;;) {
		pw_error e = PW_ERROR_INIT;
		if (pw_privmsg_recv(fd, &in, max_request, &e)) {
			if (e.code != PW_ERR_NOTFOUND) {
				stats->refused++;
				logline("channel closed", pw_error_text(&e));
			}
			stats->clean = e.code == PW_ERR_NOTFOUND;
			snprintf(stats->ended, sizeof stats->ended, "%s", pw_error_text(&e));
			break;
		}
		pw_exec_result res;
		pw_exec_result_init(&res);
		if (pw_privmsg_decode_request((const uint8_t *)in.data, in.len, req, &e) ||
		    pw_exec_request_check(req, scheme, &e)) {
			stats->refused++;
			logline("request refused", pw_error_text(&e));
			pw_exec_result_say(&res, PW_EXEC_REFUSED,
					   "refused by the privileged side: %s", pw_error_text(&e));
		} else {
			stats->served++;
			fprintf(stderr,
				"patchwarden agent: privileged parent: running %s (%zu packages)\n",
				pw_exec_kind_name(req->kind), req->n_packages);
			if (pw_executor_run(conf, req, &res, &e)) {
				pw_exec_result_release(&res);
				pw_exec_result_say(&res, PW_EXEC_FAILED, "%s", pw_error_text(&e));
			}
		}
		bool sent = reply(fd, &res, &e);
		pw_exec_result_release(&res);
		if (!sent) {
			snprintf(stats->ended, sizeof stats->ended, "%s", pw_error_text(&e));
			break;
		}
		if (stats->refused >= PW_PRIVSEP_MAX_BAD) {
			snprintf(stats->ended, sizeof stats->ended,
				 "%d requests refused: closing the channel", PW_PRIVSEP_MAX_BAD);
			logline("channel closed", stats->ended);
			break;
		}
	}
	free(req);
	pw_buf_release(&in);
}

pw_err pw_privsep_call(int fd, const pw_exec_request *req, pw_exec_result *res, pw_error *err)
{
	pw_buf b = PW_BUF_INIT;
	pw_err rc = pw_privmsg_encode_request(req, &b, err);
	if (!rc)
		rc = pw_privmsg_send(fd, b.data, b.len, err);
	if (!rc)
		rc = pw_privmsg_recv(fd, &b, PW_PRIVMSG_MAX, err);
	if (rc == PW_ERR_NOTFOUND)
		rc = pw_error_set(err, PW_ERR_IO, "the privileged side closed the channel");
	if (!rc)
		rc = pw_privmsg_decode_result((const uint8_t *)b.data, b.len, res, err);
	pw_buf_release(&b);
	return rc;
}
