/* pw_fetch against a real HTTP server on 127.0.0.1 (tests/tools/feed_server.py):
 * conditional requests, retries and backoff, Retry-After, limits,
 * timeouts, truncation, redirects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "patchwarden/buf.h"
#include "patchwarden/fetch.h"
#include "patchwarden/fileio.h"

static char dir[256];
static char root[300];
static int port;
static pid_t server = -1;

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_write_file_atomic(p, text, strlen(text), 0644, &e), PW_OK);
}

static char *slurp(const char *path)
{
	pw_buf b = PW_BUF_INIT;
	if (pw_read_file(path, &b, 0, NULL) != PW_OK) {
		pw_buf_release(&b);
		return NULL;
	}
	pw_buf_putc(&b, '\0');
	return pw_buf_detach(&b);
}

static int start_server(void **state)
{
	(void)state;
	const char *src = getenv("PW_SOURCE_DIR");
	if (!src)
		src = ".";
	snprintf(dir, sizeof dir, "/tmp/pw-test-fetch-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(root, sizeof root, "%s/www", dir);
	mkdir(root, 0755);
	char script[512], portfile[512];
	snprintf(script, sizeof script, "%s/tests/tools/feed_server.py", src);
	snprintf(portfile, sizeof portfile, "%s/port", dir);
	server = fork();
	if (server == 0) {
		execlp("python3", "python3", script, root, portfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		char *t = slurp(portfile);
		if (t) {
			port = (int)strtol(t, NULL, 10);
			free(t);
			return 0;
		}
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return -1;
}

static int stop_server(void **state)
{
	(void)state;
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void url(char *out, size_t cap, const char *path)
{
	snprintf(out, cap, "http://127.0.0.1:%d%s", port, path);
}

static void dest(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
	unlink(out);
}

static int hits(const char *path)
{
	char u[1024], q[512], d[512];
	snprintf(q, sizeof q, "/hits?path=%s", path);
	url(u, sizeof u, q);
	dest(d, sizeof d, "hits");
	pw_fetch_result r;
	if (pw_fetch(u, d, NULL, NULL, NULL, &r, NULL) != PW_OK)
		return -1;
	char *t = slurp(d);
	int n = t ? (int)strtol(t, NULL, 10) : -1;
	free(t);
	return n;
}

static pw_fetch_opts fast(unsigned attempts)
{
	pw_fetch_opts o = PW_FETCH_OPTS_INIT;
	o.attempts = attempts;
	o.retry_delay_ms = 20;
	o.retry_max_delay_ms = 2000;
	o.connect_timeout_ms = 2000;
	o.timeout_ms = 10000;
	return o;
}

static void test_download_then_304_then_changed(void **state)
{
	(void)state;
	put("a.json", "{\"first\": 1}\n");
	char u[1024], d[512];
	url(u, sizeof u, "/file/a.json");
	dest(d, sizeof d, "a.json");
	pw_fetch_opts o = fast(1);
	pw_fetch_result r;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_fetch(u, d, NULL, NULL, &o, &r, &e), PW_OK);
	assert_int_equal(r.status, 200);
	assert_false(r.not_modified);
	assert_int_equal(r.bytes, 13);
	assert_true(r.etag[0] == '"');
	assert_true(r.last_modified[0] != '\0');
	char *t = slurp(d);
	assert_string_equal(t, "{\"first\": 1}\n");
	free(t);

	char etag[256], lm[64];
	snprintf(etag, sizeof etag, "%s", r.etag);
	snprintf(lm, sizeof lm, "%s", r.last_modified);
	assert_int_equal(pw_fetch(u, d, etag, lm, &o, &r, &e), PW_OK);
	assert_int_equal(r.status, 304);
	assert_true(r.not_modified);
	assert_int_equal(r.bytes, 0);
	assert_string_equal(r.etag, etag);
	t = slurp(d);
	assert_string_equal(t, "{\"first\": 1}\n"); /* untouched */
	free(t);

	put("a.json", "{\"second\": 2}\n");
	assert_int_equal(pw_fetch(u, d, etag, lm, &o, &r, &e), PW_OK);
	assert_int_equal(r.status, 200);
	assert_string_not_equal(r.etag, etag);
	t = slurp(d);
	assert_string_equal(t, "{\"second\": 2}\n");
	free(t);
}

struct progress {
	int calls;
	uint64_t done, total;
};

static void count_progress(void *ctx, const char *u, uint64_t done, uint64_t total)
{
	(void)u;
	struct progress *p = ctx;
	p->calls++;
	assert_true(done >= p->done); /* never goes backwards */
	p->done = done;
	p->total = total;
}

static void test_progress(void **state)
{
	(void)state;
	char u[1024], d[512];
	url(u, sizeof u, "/big/200000");
	dest(d, sizeof d, "big");
	struct progress p = {0};
	pw_fetch_opts o = fast(1);
	o.on_progress = count_progress;
	o.ctx = &p;
	pw_fetch_result r;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_fetch(u, d, NULL, NULL, &o, &r, &e), PW_OK);
	assert_true(p.calls > 0);
	assert_int_equal(p.done, 200000);
	assert_int_equal(r.bytes, 200000);
	/* Error pages are not reported as feed progress. */
	p = (struct progress){0};
	url(u, sizeof u, "/status/503/p");
	assert_int_equal(pw_fetch(u, d, NULL, NULL, &o, &r, &e), PW_ERR_NETWORK);
	assert_int_equal(p.done, 0);
}

static void test_unsafe_validators_are_not_sent(void **state)
{
	(void)state;
	put("b.json", "{}\n");
	char u[1024], d[512];
	url(u, sizeof u, "/file/b.json");
	dest(d, sizeof d, "b.json");
	pw_fetch_result r;
	assert_int_equal(pw_fetch(u, d, "\"x\"\r\nX-Evil: 1", NULL, NULL, &r, NULL), PW_OK);
	assert_int_equal(r.status, 200);
}

struct retries {
	int calls;
	long delays[8];
};

static void count_retry(void *ctx, const char *u, unsigned attempt, unsigned attempts,
			long delay_ms, const char *reason)
{
	(void)u;
	(void)attempts;
	struct retries *rt = ctx;
	assert_int_equal(attempt, (unsigned)rt->calls + 2);
	assert_non_null(strstr(reason, "HTTP 503"));
	rt->delays[rt->calls++] = delay_ms;
}

static void test_retries_then_succeeds(void **state)
{
	(void)state;
	put("c.json", "{\"c\": true}\n");
	char u[1024], d[512];
	url(u, sizeof u, "/flaky/2/503/c.json");
	dest(d, sizeof d, "c.json");
	struct retries rt = {0};
	pw_fetch_opts o = fast(4);
	o.on_retry = count_retry;
	o.ctx = &rt;
	pw_fetch_result r;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_fetch(u, d, NULL, NULL, &o, &r, &e), PW_OK);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(rt.calls, 2);
	/* Equal jitter: the n-th delay lies in [base*2^(n-1)/2, base*2^(n-1)]. */
	assert_in_range(rt.delays[0], 10, 20);
	assert_in_range(rt.delays[1], 20, 40);
	assert_int_equal(hits("/flaky/2/503/c.json"), 3);
	char *t = slurp(d);
	assert_string_equal(t, "{\"c\": true}\n");
	free(t);
}

static void test_server_error_gives_up(void **state)
{
	(void)state;
	char u[1024], d[512];
	url(u, sizeof u, "/status/500/x");
	dest(d, sizeof d, "x");
	pw_fetch_opts o = fast(3);
	pw_fetch_result r;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_fetch(u, d, NULL, NULL, &o, &r, &e), PW_ERR_NETWORK);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(r.status, 500);
	assert_non_null(strstr(e.msg, "HTTP 500"));
	assert_non_null(strstr(e.msg, "gave up after 3 attempts"));
	assert_non_null(strstr(e.msg, u));
	assert_int_equal(hits("/status/500/x"), 3);
	assert_int_equal(access(d, F_OK), -1); /* nothing half-written */
}

static void test_not_found_is_not_retried(void **state)
{
	(void)state;
	char u[1024], d[512];
	url(u, sizeof u, "/status/404/y");
	dest(d, sizeof d, "y");
	pw_fetch_opts o = fast(4);
	pw_fetch_result r;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_fetch(u, d, NULL, NULL, &o, &r, &e), PW_ERR_NETWORK);
	assert_int_equal(r.attempts, 1);
	assert_non_null(strstr(e.msg, "HTTP 404 (check the URL)"));
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_retry_after_is_honoured(void **state)
{
	(void)state;
	put("d.json", "{}\n");
	char u[1024], d[512];
	url(u, sizeof u, "/flaky/1/429/d.json?retry_after=1");
	dest(d, sizeof d, "d.json");
	pw_fetch_opts o = fast(3);
	pw_fetch_result r;
	pw_error e = PW_ERROR_INIT;
	double t0 = now();
	assert_int_equal(pw_fetch(u, d, NULL, NULL, &o, &r, &e), PW_OK);
	assert_true(now() - t0 >= 0.95);
	assert_int_equal(r.attempts, 2);
}

static void test_retry_after_beyond_limit_gives_up(void **state)
{
	(void)state;
	char u[1024], d[512];
	url(u, sizeof u, "/flaky/100/503/d.json?retry_after=3600");
	dest(d, sizeof d, "d2.json");
	pw_fetch_opts o = fast(4);
	pw_fetch_result r;
	pw_error e = PW_ERROR_INIT;
	/* One attempt and the reason: it gave up rather than waited (an hour's
	 * wait would outlast the test's timeout). */
	assert_int_equal(pw_fetch(u, d, NULL, NULL, &o, &r, &e), PW_ERR_NETWORK);
	assert_int_equal(r.attempts, 1);
	assert_non_null(strstr(e.msg, "wait 3600 s"));
}

static void test_truncated_transfer(void **state)
{
	(void)state;
	char u[1024], d[512];
	url(u, sizeof u, "/truncate");
	dest(d, sizeof d, "t");
	pw_fetch_opts o = fast(2);
	pw_fetch_result r;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_fetch(u, d, NULL, NULL, &o, &r, &e), PW_ERR_NETWORK);
	assert_int_equal(r.attempts, 2);
	assert_non_null(strstr(e.msg, "truncated transfer"));
	assert_int_equal(access(d, F_OK), -1);
}

static void test_size_limit(void **state)
{
	(void)state;
	put("e.json", "{\"this is more than ten bytes\": 1}\n");
	char u[1024], d[512];
	url(u, sizeof u, "/file/e.json");
	dest(d, sizeof d, "e.json");
	pw_fetch_opts o = fast(3);
	o.max_bytes = 10;
	pw_fetch_result r;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_fetch(u, d, NULL, NULL, &o, &r, &e), PW_ERR_TOOLARGE);
	assert_int_equal(r.attempts, 1);
	assert_non_null(strstr(e.msg, "limit of 10 bytes"));
	/* Without Content-Length the limit is enforced while receiving. */
	url(u, sizeof u, "/big/300000");
	o.max_bytes = 50000;
	assert_int_equal(pw_fetch(u, d, NULL, NULL, &o, &r, &e), PW_ERR_TOOLARGE);
	assert_int_equal(access(d, F_OK), -1);
}

static void test_timeout(void **state)
{
	(void)state;
	char u[1024], d[512];
	/* The server answers after 600 s: only the 500 ms timeout can end the
	 * fetch before the test's own timeout, so no clock is needed. */
	url(u, sizeof u, "/slow/600");
	dest(d, sizeof d, "slow");
	pw_fetch_opts o = fast(1);
	o.timeout_ms = 500;
	pw_fetch_result r;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_fetch(u, d, NULL, NULL, &o, &r, &e), PW_ERR_NETWORK);
	assert_non_null(strstr(e.msg, "imed out"));
}

static void test_unreachable(void **state)
{
	(void)state;
	/* A port that was free a moment ago: nothing listens there. */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	char u[1024], d[512];
	snprintf(u, sizeof u, "http://127.0.0.1:%d/feed.json", ntohs(a.sin_port));
	dest(d, sizeof d, "unreachable");
	pw_fetch_opts o = fast(2);
	pw_fetch_result r;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_fetch(u, d, NULL, NULL, &o, &r, &e), PW_ERR_NETWORK);
	assert_int_equal(r.attempts, 2);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(e.msg, "connect"));
}

static void test_redirects(void **state)
{
	(void)state;
	put("f.json", "{\"f\": 1}\n");
	char target[512], q[700], u[1024], d[512];
	url(target, sizeof target, "/file/f.json");
	snprintf(q, sizeof q, "/redirect?to=%s", target);
	url(u, sizeof u, q);
	dest(d, sizeof d, "f.json");
	pw_fetch_result r;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_fetch(u, d, NULL, NULL, NULL, &r, &e), PW_OK);
	assert_int_equal(r.status, 200);

	dest(d, sizeof d, "passwd");
	url(u, sizeof u, "/redirect?to=file:///etc/passwd");
	assert_int_equal(pw_fetch(u, d, NULL, NULL, NULL, &r, &e), PW_ERR_NETWORK);
	assert_int_equal(r.attempts, 1);
	assert_non_null(strstr(e.msg, "redirect"));
	assert_int_equal(access(d, F_OK), -1);
}

static void test_only_http_urls(void **state)
{
	(void)state;
	char d[512];
	dest(d, sizeof d, "scheme");
	pw_fetch_result r;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_fetch("file:///etc/passwd", d, NULL, NULL, NULL, &r, &e),
			 PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "only http and https"));
	assert_int_equal(pw_fetch("ftp://127.0.0.1/x", d, NULL, NULL, NULL, &r, &e),
			 PW_ERR_INVALID);
	assert_int_equal(pw_fetch("not a url", d, NULL, NULL, NULL, &r, &e), PW_ERR_INVALID);
	assert_int_equal(access(d, F_OK), -1);
}

static void test_backoff_bounds(void **state)
{
	(void)state;
	for (int i = 0; i < 200; i++) {
		assert_in_range(pw_fetch_backoff_ms(1, 100, 10000), 50, 100);
		assert_in_range(pw_fetch_backoff_ms(3, 100, 10000), 200, 400);
		assert_in_range(pw_fetch_backoff_ms(6, 100, 300), 150, 300);
		assert_in_range(pw_fetch_backoff_ms(60, 1000, 120000), 60000, 120000);
	}
	assert_int_equal(pw_fetch_backoff_ms(1, 1, 1), 1);
}

int main(void)
{
	/* Loopback only: a proxy from the environment must not see these requests. */
	setenv("no_proxy", "127.0.0.1,localhost", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_download_then_304_then_changed),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_unsafe_validators_are_not_sent),
		cmocka_unit_test(test_retries_then_succeeds),
		cmocka_unit_test(test_server_error_gives_up),
		cmocka_unit_test(test_not_found_is_not_retried),
		cmocka_unit_test(test_retry_after_is_honoured),
		cmocka_unit_test(test_retry_after_beyond_limit_gives_up),
		cmocka_unit_test(test_truncated_transfer),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_only_http_urls),
		cmocka_unit_test(test_backoff_bounds),
	};
	return cmocka_run_group_tests(tests, start_server, stop_server);
}
