/* The privilege boundary's codec (privmsg.h) and the parent's request
 * check (pw_exec_request_check): round trips, and the bytes and requests
 * each must refuse. Refused payloads are written here byte by byte from
 * the layout in privmsg.h, not produced by the encoder under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "patchwarden/executor.h"
#include "patchwarden/privmsg.h"
#include "patchwarden/privsep.h"

/* A payload written by hand. */
typedef struct bytes {
	uint8_t b[4096];
	size_t n;
} bytes;

static void u8(bytes *x, unsigned v)
{
	x->b[x->n++] = (uint8_t)v;
}

static void u32(bytes *x, uint32_t v)
{
	for (int i = 3; i >= 0; i--)
		u8(x, (v >> (8 * i)) & 0xff);
}

static void str(bytes *x, const char *s)
{
	u32(x, (uint32_t)strlen(s));
	memcpy(x->b + x->n, s, strlen(s));
	x->n += strlen(s);
}

/* type 1, kind, flags, count */
static void head(bytes *x, uint32_t kind, uint32_t flags, uint32_t count)
{
	x->n = 0;
	u8(x, 1);
	u32(x, kind);
	u32(x, flags);
	u32(x, count);
}

static pw_exec_request *new_req(pw_exec_kind kind, uint32_t flags)
{
	pw_exec_request *r = calloc(1, sizeof *r);
	assert_non_null(r);
	r->kind = kind;
	r->flags = flags;
	return r;
}

static void add_pkg(pw_exec_request *r, const char *name, const char *version, bool at_least)
{
	pw_exec_package *p = &r->packages[r->n_packages++];
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->version, sizeof p->version, "%s", version);
	p->at_least = at_least;
}

static void refused(const bytes *x, const char *want)
{
	pw_exec_request *r = new_req(0, 0);
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_privmsg_decode_request(x->b, x->n, r, &e), PW_ERR_PARSE);
	if (!strstr(e.msg, want))
		fail_msg("'%s' does not say '%s'", e.msg, want);
	free(r);
}

static void test_request_round_trip(void **state)
{
	(void)state;
	pw_exec_request *r = new_req(PW_EXEC_PATCH, PW_EXEC_ALLOW_REBOOT);
	add_pkg(r, "openssl", "3.0.11-1~deb12u2", false);
	add_pkg(r, "libc6", "2.36-9+deb12u4", true);
	add_pkg(r, "tzdata", "", false);
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_privmsg_encode_request(r, &b, &e), PW_OK);
	/* The layout of privmsg.h: 13 bytes of head, 4+n per string, 1 flag. */
	bytes x;
	head(&x, 3, 2, 3);
	str(&x, "openssl");
	str(&x, "3.0.11-1~deb12u2");
	u8(&x, 0);
	str(&x, "libc6");
	str(&x, "2.36-9+deb12u4");
	u8(&x, 1);
	str(&x, "tzdata");
	str(&x, "");
	u8(&x, 0);
	assert_int_equal(b.len, x.n);
	assert_memory_equal(b.data, x.b, x.n);
	pw_exec_request *d = new_req(0, 0);
	assert_int_equal(pw_privmsg_decode_request(x.b, x.n, d, &e), PW_OK);
	assert_int_equal(d->kind, PW_EXEC_PATCH);
	assert_int_equal(d->flags, PW_EXEC_ALLOW_REBOOT);
	assert_int_equal(d->n_packages, 3);
	assert_string_equal(d->packages[1].name, "libc6");
	assert_string_equal(d->packages[1].version, "2.36-9+deb12u4");
	assert_true(d->packages[1].at_least);
	assert_string_equal(d->packages[2].version, "");
	/* Every proper prefix is truncated, and so refused. */
	for (size_t n = 0; n < x.n; n++)
		assert_int_equal(pw_privmsg_decode_request(x.b, n, d, &e), PW_ERR_PARSE);
	pw_buf_release(&b);
	free(r);
	free(d);
}

static void test_request_refused(void **state)
{
	(void)state;
	bytes x;
	head(&x, 99, 0, 0);
	refused(&x, "request: kind at offset 1: unknown kind 99");
	head(&x, 0, 0, 0);
	refused(&x, "unknown kind 0");
	head(&x, 3, 0x10, 0);
	refused(&x, "flags at offset 5: unknown flags 0x10");
	head(&x, 3, 0, 513);
	refused(&x, "n_packages at offset 9: 513, more than 512");
	head(&x, 3, 0, 0xffffffffu);
	refused(&x, "n_packages");
	head(&x, 3, 0, 0);
	x.b[0] = 2;
	refused(&x, "type at offset 0: 2, expected 1");
	head(&x, 3, 0, 0);
	u8(&x, 0);
	refused(&x, "end at offset 13: 1 trailing bytes");
	head(&x, 3, 0, 1);
	u32(&x, 129);
	refused(&x, "packages[0].name at offset 13: length 129, more than 128");
	head(&x, 3, 0, 1);
	u32(&x, 100); /* more than is left */
	u8(&x, 'a');
	refused(&x, "packages[0].name at offset 13: length 100 past the end");
	head(&x, 3, 0, 1);
	str(&x, "openssl");
	str(&x, "3.0\ntouch /tmp/x");
	u8(&x, 0);
	refused(&x, "packages[0].version at offset 31: byte 0x0a is not allowed");
	head(&x, 3, 0, 1);
	u32(&x, 3);
	u8(&x, 'a');
	u8(&x, 0);
	u8(&x, 'b');
	refused(&x, "packages[0].name at offset 18: byte 0x00");
	head(&x, 3, 0, 1);
	str(&x, "a\x1b[2J");
	refused(&x, "byte 0x1b");
	head(&x, 3, 0, 1);
	str(&x, "openssl");
	str(&x, "");
	u8(&x, 2);
	refused(&x, "packages[0].at_least at offset 28: 2 is neither 0 nor 1");
}

static void test_result_round_trip(void **state)
{
	(void)state;
	pw_exec_result r, d;
	pw_exec_result_init(&r);
	pw_exec_result_init(&d);
	pw_error e = PW_ERROR_INIT;
	pw_exec_change c = {"openssl", "3.0.9-1", "3.0.11-1~deb12u2", PW_CHANGE_UPGRADE, true};
	assert_int_equal(pw_exec_result_add_change(&r, &c, &e), PW_OK);
	pw_exec_change c2 = {"old-thing", "1.0", "", PW_CHANGE_REMOVE, false};
	assert_int_equal(pw_exec_result_add_change(&r, &c2, &e), PW_OK);
	assert_int_equal(pw_exec_result_add_service(&r, "nginx.service", &e), PW_OK);
	assert_int_equal(pw_buf_puts(&r.log, "Setting up openssl ...\n\tdone\r\n"), PW_OK);
	pw_exec_result_say(&r, PW_EXEC_FAILED, "dpkg: error processing old-thing");
	r.exit_code = -1;
	r.needs_reboot = true;
	r.db_state = PW_PKGDB_HALF_CONFIGURED;
	pw_buf b = PW_BUF_INIT;
	assert_int_equal(pw_privmsg_encode_result(&r, &b, &e), PW_OK);
	assert_int_equal(pw_privmsg_decode_result((const uint8_t *)b.data, b.len, &d, &e), PW_OK);
	assert_int_equal(d.status, PW_EXEC_FAILED);
	assert_int_equal(d.exit_code, -1);
	assert_false(d.resolves);
	assert_true(d.needs_reboot);
	assert_int_equal(d.db_state, PW_PKGDB_HALF_CONFIGURED);
	assert_int_equal(d.n_changes, 2);
	assert_string_equal(d.changes[0].after, "3.0.11-1~deb12u2");
	assert_int_equal(d.changes[1].action, PW_CHANGE_REMOVE);
	assert_false(d.changes[1].ok);
	assert_int_equal(d.n_services, 1);
	assert_string_equal(d.services[0], "nginx.service");
	assert_string_equal(pw_buf_str(&d.log), "Setting up openssl ...\n\tdone\r\n");
	assert_string_equal(d.message, "dpkg: error processing old-thing");
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(pw_privmsg_decode_result((const uint8_t *)b.data, n, &d, &e),
				 PW_ERR_PARSE);
	assert_int_equal(d.n_changes, 0); /* emptied on refusal */
	/* A message with a newline is not encoded (the parent tidies it). */
	pw_exec_result_say(&r, PW_EXEC_FAILED, "two\nlines");
	pw_buf_reset(&b);
	assert_int_equal(pw_privmsg_encode_result(&r, &b, &e), PW_ERR_INVALID);
	pw_buf_release(&b);
	pw_exec_result_release(&r);
	pw_exec_result_release(&d);
}

/* type 2, status, exit, flags, state */
static void rhead(bytes *x, unsigned status, unsigned flags, unsigned state)
{
	x->n = 0;
	u8(x, 2);
	u8(x, status);
	u32(x, 0);
	u8(x, flags);
	u8(x, state);
}

static void result_refused(const bytes *x, const char *want)
{
	pw_exec_result d;
	pw_exec_result_init(&d);
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_privmsg_decode_result(x->b, x->n, &d, &e), PW_ERR_PARSE);
	if (!strstr(e.msg, want))
		fail_msg("'%s' does not say '%s'", e.msg, want);
	pw_exec_result_release(&d);
}

static void test_result_refused(void **state)
{
	(void)state;
	bytes x;
	rhead(&x, 3, 0, 0);
	result_refused(&x, "result: status at offset 1: unknown status 3");
	rhead(&x, 0, 8, 0);
	result_refused(&x, "flags at offset 6: unknown flags 0x8");
	rhead(&x, 0, 0, 4);
	result_refused(&x, "db_state at offset 7: unknown state 4");
	rhead(&x, 0, 0, 0);
	u32(&x, 2049);
	result_refused(&x, "n_changes at offset 8: 2049, more than 2048");
	rhead(&x, 0, 0, 0);
	u32(&x, 1);
	str(&x, "a");
	str(&x, "1");
	str(&x, "2");
	u8(&x, 6);
	result_refused(&x, "changes[0].action at offset 27: unknown action 6");
	rhead(&x, 0, 0, 0);
	u32(&x, 0);
	u32(&x, 2);
	str(&x, "a.service");
	str(&x, "a.service");
	result_refused(&x, "services[1] at offset 29: a repeated unit");
	rhead(&x, 0, 0, 0);
	u32(&x, 0);
	u32(&x, 0);
	u32(&x, 3);
	u8(&x, 'o');
	u8(&x, 0);
	u8(&x, 'k');
	result_refused(&x, "log at offset 21: a NUL byte");
	rhead(&x, 0, 0, 0);
	u32(&x, 0);
	u32(&x, 0);
	u32(&x, (4u << 20) + 1);
	result_refused(&x, "log at offset 16: length 4194305, more than 4194304");
	rhead(&x, 0, 0, 0);
	u32(&x, 0);
	u32(&x, 0);
	u32(&x, 0);
	str(&x, "ok");
	u8(&x, 0);
	result_refused(&x, "end at offset 26: 1 trailing bytes");
	/* The runtime section (flag 4) after the message at offset 16. */
	rhead(&x, 0, 4, 0);
	u32(&x, 0);
	u32(&x, 0);
	u32(&x, 0);
	str(&x, "ok");
	result_refused(&x, "runtime.in_use_known at offset 26: truncated");
	u8(&x, 2);
	result_refused(&x, "runtime.in_use_known at offset 26: 2 is neither 0 nor 1");
	x.n--;
	u8(&x, 1);
	u32(&x, 7);
	u32(&x, 20001);
	result_refused(&x, "runtime.in_use at offset 31: 20001, more than 20000");
	x.n -= 4;
	u32(&x, 1);
	str(&x, "");
	result_refused(&x, "in_use[0] at offset 35: empty");
	x.n -= 4;
	str(&x, "libc6:amd64");
	u32(&x, 0);
	u32(&x, 1025);
	result_refused(&x, "runtime.n_restarts at offset 54: 1025, more than 1024");
	x.n -= 4;
	u32(&x, 1);
	u32(&x, 0);
	result_refused(&x, "restarts[0].pid at offset 58: 0 is not a process id");
	x.n -= 4;
	u32(&x, 42);
	str(&x, "nginx");
	str(&x, "/usr/lib/x86_64-linux-gnu/libc.so.6\n");
	result_refused(&x, "restarts[0].path at offset 110: byte 0x0a is not allowed");
}

static void test_result_runtime(void **state)
{
	(void)state;
	pw_exec_result r, d;
	pw_exec_result_init(&r);
	pw_exec_result_init(&d);
	pw_error e = PW_ERROR_INIT;
	r.runtime = calloc(1, sizeof *r.runtime);
	assert_non_null(r.runtime);
	pw_runtime *rt = r.runtime;
	rt->in_use_known = true;
	rt->processes = 120;
	assert_int_equal(pw_runtime_add_key(rt, false, "openssl:amd64", &e), PW_OK);
	assert_int_equal(pw_runtime_add_key(rt, false, "libc6:amd64", &e), PW_OK);
	assert_int_equal(pw_runtime_add_key(rt, true, "kernel-thing", &e), PW_OK);
	assert_int_equal(pw_runtime_add_restart(rt, 812, "nginx", "/usr/lib/libssl.so.3",
						"libssl3:amd64", "nginx.service", &e),
			 PW_OK);
	assert_int_equal(pw_runtime_add_restart(rt, 77, "cron\x01", "/usr/sbin/cron", NULL, NULL,
						&e),
			 PW_OK);
	pw_runtime_sort(rt);
	assert_string_equal(rt->restarts[0].process, "cron?"); /* made safe to carry */
	pw_exec_result_say(&r, PW_EXEC_DONE, "read");
	pw_buf b = PW_BUF_INIT;
	assert_int_equal(pw_privmsg_encode_result(&r, &b, &e), PW_OK);
	assert_int_equal(pw_privmsg_decode_result((const uint8_t *)b.data, b.len, &d, &e), PW_OK);
	assert_non_null(d.runtime);
	assert_true(d.runtime->in_use_known);
	assert_int_equal(d.runtime->processes, 120);
	assert_int_equal(d.runtime->n_in_use, 2);
	assert_string_equal(d.runtime->in_use[0], "libc6:amd64");
	assert_int_equal(d.runtime->n_unknown, 1);
	assert_int_equal(d.runtime->n_restarts, 2);
	assert_int_equal(d.runtime->restarts[0].pid, 77);
	assert_null(d.runtime->restarts[0].package);
	assert_string_equal(d.runtime->restarts[1].unit, "nginx.service");
	assert_int_equal(pw_runtime_in_use(d.runtime, "libc6", "amd64"), 1);
	assert_int_equal(pw_runtime_in_use(d.runtime, "less", "amd64"), 0);
	assert_int_equal(pw_runtime_in_use(d.runtime, "kernel-thing", NULL), -1);
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(pw_privmsg_decode_result((const uint8_t *)b.data, n, &d, &e),
				 PW_ERR_PARSE);
	assert_null(d.runtime); /* emptied on refusal */
	/* Lists out of order, or a key twice: the one canonical form only
	 * (fuzz_privmsg found an unsorted list decoded, sorted, re-encoded
	 * differently). */
	char *first = rt->in_use[0];
	rt->in_use[0] = rt->in_use[1];
	rt->in_use[1] = first;
	pw_buf_reset(&b);
	assert_int_equal(pw_privmsg_encode_result(&r, &b, &e), PW_OK);
	assert_int_equal(pw_privmsg_decode_result((const uint8_t *)b.data, b.len, &d, &e),
			 PW_ERR_PARSE);
	assert_non_null(strstr(e.msg, "runtime at offset"));
	assert_non_null(strstr(e.msg, "not sorted or repeat an entry"));
	free(rt->in_use[0]);
	rt->in_use[0] = strdup(rt->in_use[1]);
	pw_buf_reset(&b);
	assert_int_equal(pw_privmsg_encode_result(&r, &b, &e), PW_OK);
	assert_int_equal(pw_privmsg_decode_result((const uint8_t *)b.data, b.len, &d, &e),
			 PW_ERR_PARSE);
	/* A path with a newline is not encoded. */
	free(rt->restarts[0].path);
	rt->restarts[0].path = strdup("/a\nb");
	pw_buf_reset(&b);
	assert_int_equal(pw_privmsg_encode_result(&r, &b, &e), PW_ERR_INVALID);
	pw_buf_release(&b);
	pw_exec_result_release(&r);
	pw_exec_result_release(&d);
}

static void test_frames(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pw_error e = PW_ERROR_INIT;
	pw_buf b = PW_BUF_INIT;
	assert_int_equal(pw_privmsg_send(sv[0], "abc", 3, &e), PW_OK);
	assert_int_equal(pw_privmsg_recv(sv[1], &b, 16, &e), PW_OK);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "abc", 3);
	/* A length over the reader's limit: nothing of the payload is read. */
	assert_int_equal(pw_privmsg_send(sv[0], "0123456789abcdefX", 17, &e), PW_OK);
	assert_int_equal(pw_privmsg_recv(sv[1], &b, 16, &e), PW_ERR_TOOLARGE);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	const uint8_t cut[] = {0, 0, 0, 10, 'x', 'y'};
	assert_int_equal(write(sv[0], cut, sizeof cut), (ssize_t)sizeof cut);
	close(sv[0]);
	assert_int_equal(pw_privmsg_recv(sv[1], &b, 16, &e), PW_ERR_IO);
	assert_non_null(strstr(e.msg, "cut short after 2"));
	assert_int_equal(pw_privmsg_recv(sv[1], &b, 16, &e), PW_ERR_NOTFOUND);
	close(sv[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], cut, 2), 2);
	close(sv[0]);
	assert_int_equal(pw_privmsg_recv(sv[1], &b, 16, &e), PW_ERR_IO);
	assert_non_null(strstr(e.msg, "header cut short after 2"));
	close(sv[1]);
	pw_buf_release(&b);
}

/* ---- pw_exec_request_check -------------------------------------------- */

static void check_refused(const pw_exec_request *r, const char *scheme, const char *want)
{
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_exec_request_check(r, scheme, &e), PW_ERR_INVALID);
	if (!strstr(e.msg, want))
		fail_msg("'%s' does not say '%s'", e.msg, want);
}

static void one(pw_exec_kind k, uint32_t flags, const char *name, const char *version,
		const char *scheme, const char *want)
{
	pw_exec_request *r = new_req(k, flags);
	if (name)
		add_pkg(r, name, version, false);
	pw_error e = PW_ERROR_INIT;
	if (want)
		check_refused(r, scheme, want);
	else if (pw_exec_request_check(r, scheme, &e))
		fail_msg("refused: %s", e.msg);
	free(r);
}

static void test_check(void **state)
{
	(void)state;
	/* Accepted. */
	one(PW_EXEC_INVENTORY, 0, NULL, NULL, "deb", NULL);
	one(PW_EXEC_PATCH, PW_EXEC_ALLOW_REBOOT, "openssl", "3.0.11-1~deb12u2", "deb", NULL);
	one(PW_EXEC_PATCH, PW_EXEC_ALL_SECURITY, NULL, NULL, "deb", NULL);
	one(PW_EXEC_PATCH, 0, "libstdc++6", "", "deb", NULL);
	one(PW_EXEC_PATCH, 0, "NetworkManager", "1:1.42.2-1.el9", "rpm", NULL);
	one(PW_EXEC_ROLLBACK, 0, "openssl", "3.0.9-1", "deb", NULL);
	one(PW_EXEC_HOLD, 0, "openssl", "", "deb", NULL);
	one(PW_EXEC_REBOOT, PW_EXEC_ALLOW_REBOOT, NULL, NULL, "deb", NULL);
	one(PW_EXEC_HEALTH, 0, NULL, NULL, NULL, NULL);
	/* Kind and flags. */
	one((pw_exec_kind)0, 0, NULL, NULL, "deb", "kind: 0 is not one of the requests");
	one((pw_exec_kind)99, 0, NULL, NULL, "deb", "kind: 99");
	one(PW_EXEC_SIMULATE, PW_EXEC_ALLOW_REBOOT, "openssl", "", "deb",
	    "flags: 0x2 not allowed on simulate");
	one(PW_EXEC_HOLD, PW_EXEC_ALLOW_REMOVE, "openssl", "", "deb", "not allowed on hold");
	one(PW_EXEC_INVENTORY, 0x100, NULL, NULL, "deb", "flags: 0x100");
	one(PW_EXEC_REBOOT, 0, NULL, NULL, "deb", "needs the job's allow_reboot");
	/* Package lists. */
	one(PW_EXEC_HEALTH, 0, "openssl", "", "deb", "packages: health takes none");
	one(PW_EXEC_PATCH, 0, NULL, NULL, "deb", "patch needs at least one");
	one(PW_EXEC_PATCH, PW_EXEC_ALL_SECURITY, "openssl", "", "deb", "not both");
	one(PW_EXEC_HOLD, 0, "openssl", "1.0", "deb", "hold takes package names only");
	one(PW_EXEC_ROLLBACK, 0, "openssl", "", "deb", "rollback needs the exact version");
	one(PW_EXEC_PATCH, 0, "openssl", "1.0", NULL, "no package scheme known");
	/* Names and versions: never an option, a blank or shell syntax. */
	one(PW_EXEC_PATCH, 0, "-o APT::Update::Pre-Invoke=touch /tmp/x", "", "deb",
	    "packages[0].name: starts with '-'");
	one(PW_EXEC_PATCH, 0, "foo;rm", "", "deb", "packages[0].name: holds a shell");
	one(PW_EXEC_PATCH, 0, "foo; rm -rf /", "", "deb", "packages[0].name: holds a");
	one(PW_EXEC_PATCH, 0, "openssl", "1.0\ntouch", "deb", "packages[0].version: holds a");
	one(PW_EXEC_PATCH, 0, "openssl", "$(id)", "rpm", "holds a shell");
	one(PW_EXEC_PATCH, 0, "openssl", "-1", "deb", "starts with '-'");
	one(PW_EXEC_PATCH, 0, "OpenSSL", "", "deb", "packages[0].name");
	one(PW_EXEC_PATCH, 0, "openssl", "a:1.0", "deb", "packages[0].version");
	/* Duplicates and counts. */
	pw_exec_request *r = new_req(PW_EXEC_PATCH, 0);
	add_pkg(r, "openssl", "", false);
	add_pkg(r, "libssl3", "", false);
	add_pkg(r, "openssl", "3.0", false);
	check_refused(r, "deb", "packages[2].name: openssl is also packages[0]");
	r->n_packages = PW_EXEC_MAX_PACKAGES + 1;
	check_refused(r, "deb", "packages: 513, more than 512");
	r->n_packages = 1;
	memset(r->packages[0].name, 'a', sizeof r->packages[0].name);
	check_refused(r, "deb", "packages[0].name: not terminated");
	r->kind = PW_EXEC_SIMULATE;
	r->n_packages = 1;
	add_pkg(r, "x", "", true);
	r->packages[0] = r->packages[1];
	snprintf(r->packages[0].name, sizeof r->packages[0].name, "openssl");
	check_refused(r, "deb", "packages[0].at_least: without a version");
	free(r);
}

/* The fuzz target's seeds mean what their names say: req-/res- seeds
 * that name a valid message decode (so the fuzzer starts from the round
 * trip), the others are refused. */
static void test_seeds(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		bool ok;
	} seeds[] = {
		{"req-patch", true},    {"req-inventory", true},    {"req-hold", true},
		{"req-badkind", false}, {"req-option", true},       {"req-newline", false},
		{"req-count", false},   {"req-trailing", false},    {"res-done", true},
		{"res-failed", true},   {"res-refused", true},      {"res-badstate", false},
		{"res-runtime", true},  {"res-runtime-pid", false},
	};
	const char *src = getenv("PW_SOURCE_DIR");
	if (!src)
		skip();
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/fuzz/corpus/privmsg/%s", src, seeds[i].name);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		static uint8_t b[8192];
		size_t n = fread(b, 1, sizeof b, f);
		fclose(f);
		pw_error e = PW_ERROR_INIT;
		pw_err rc;
		if (b[0] & 1) {
			pw_exec_result r;
			pw_exec_result_init(&r);
			rc = pw_privmsg_decode_result(b + 1, n - 1, &r, &e);
			pw_exec_result_release(&r);
		} else {
			pw_exec_request *r = new_req(0, 0);
			rc = pw_privmsg_decode_request(b + 1, n - 1, r, &e);
			free(r);
		}
		if ((rc == PW_OK) != seeds[i].ok)
			fail_msg("%s: %s", seeds[i].name, rc ? e.msg : "decoded");
	}
}

/* The parent's package scheme from a root's os-release: ID, then ID_LIKE. */
static const char *scheme_of(const char *osrel, const char *where)
{
	char root[] = "/tmp/pw-osrel-XXXXXX", dir[64], path[96];
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof dir, "%s/%s", root, where);
	snprintf(path, sizeof path, "%s/os-release", dir);
	char cmd[160];
	snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(osrel, f);
	fclose(f);
	const char *s = pw_privsep_host_scheme(root);
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
	return s;
}

static void test_host_scheme(void **state)
{
	(void)state;
	assert_string_equal(scheme_of("NAME=\"Debian\"\nID=debian\n", "etc"), "deb");
	assert_string_equal(scheme_of("ID=ubuntu\nID_LIKE=debian\n", "etc"), "deb");
	assert_string_equal(scheme_of("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n", "etc"),
			    "rpm");
	assert_string_equal(scheme_of("ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\n", "etc"),
			    "rpm");
	assert_string_equal(scheme_of("ID=mydistro\nID_LIKE=\"ubuntu debian\"\n", "etc"), "deb");
	assert_string_equal(scheme_of("ID=alpine\n", "usr/lib"), "apk");
	assert_null(scheme_of("ID=gentoo\n", "etc"));
	assert_null(scheme_of("IDX=debian\n", "etc"));
	assert_null(pw_privsep_host_scheme("/nonexistent-root"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_refused),
		cmocka_unit_test(test_result_round_trip),
		cmocka_unit_test(test_result_refused),
		cmocka_unit_test(test_result_runtime),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_seeds),
		cmocka_unit_test(test_host_scheme),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
