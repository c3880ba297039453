/* Agent check-ins against a running `patchwarden server` on 127.0.0.1,
 * and the same client against nginx serving a static file, so the
 * figures compare in one run. Without arguments it runs the whole
 * comparison (bench/checkin.sh: SQLite, PostgreSQL and nginx); the
 * modes below are the load client that script drives:
 *
 *   bench_checkin setup URL ENROLL_TOKEN FIRST N CREDS [--conns C] [--no-checkin]
 *       enrolls agents FIRST..FIRST+N-1 (hosts bench-<i>), appends
 *       "credential host_id variant" lines to CREDS, and checks each in
 *       once, uploading its inventory when the server asks
 *   bench_checkin checkin URL CREDS [--seconds S] [--conns C]
 *       unchanged-inventory check-ins by the agents in CREDS, round robin
 *   bench_checkin results URL CREDS OPERATOR_TOKEN [--conns C]
 *       a job for every host, handed out by a check-in, its result
 *       delivered by the next; reports jobs created, handed out, acknowledged
 *   bench_checkin get URL [--seconds S] [--conns C]
 *       GET URL (nginx's static file)
 *
 * Each mode prints one "RESULT key=value ..." line. The client is one
 * thread: an epoll loop over C keep-alive HTTP/1.1 connections, each
 * with one request in flight; latency is from the request's first byte
 * written to the response's last byte read.
 *
 * Inventories are real: Ubuntu 18.04's dpkg status from claircore
 * (shared/data/inventories/claircore/texlive.dpkg-status, 357 packages),
 * in VARIANTS versions (one package's version differs per variant), so a
 * fleet shares a few inventories as real fleets do. */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "benchutil.h"
#include "patchwarden/buf.h"
#include "patchwarden/fileio.h"
#include "patchwarden/inventory.h"

#define VARIANTS 50

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench_checkin: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* ---- the HTTP client ------------------------------------------------------ */

struct conn {
	int fd;
	bool busy;
	pw_buf out, in;
	size_t out_off;
	long item;
	double t0;
};

/* next: builds the next request of connection ci into req (without
 * headers that depend on the connection); false: this connection is done.
 * done: the reply (status 0 when the connection failed). */
struct engine {
	const char *host;
	unsigned port;
	struct conn *c;
	int n;
	int ep;
	bool (*next)(void *ud, long *item, const char **method, const char **path, pw_buf *body,
		     const char **auth);
	void (*done)(void *ud, long item, int status, const char *body, size_t len, double ns);
	void *ud;
	double deadline; /* no new requests after this (0: none) */
	long errors;
};

static int dial(const struct engine *e)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)e->port)};
	inet_pton(AF_INET, e->host, &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS)
		die("connect %s:%u: %s", e->host, e->port, strerror(errno));
	return fd;
}

static void arm(struct engine *e, int i, bool want_out)
{
	struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0),
				 .data.u32 = (uint32_t)i};
	if (epoll_ctl(e->ep, EPOLL_CTL_MOD, e->c[i].fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
}

static void open_conn(struct engine *e, int i)
{
	e->c[i].fd = dial(e);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
	if (epoll_ctl(e->ep, EPOLL_CTL_ADD, e->c[i].fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
}

static void reopen(struct engine *e, int i)
{
	epoll_ctl(e->ep, EPOLL_CTL_DEL, e->c[i].fd, NULL);
	close(e->c[i].fd);
	open_conn(e, i);
}

/* Starts the connection's next request; false when it has none. */
static bool start(struct engine *e, int i)
{
	struct conn *c = &e->c[i];
	if (e->deadline && bench_now_ns() > e->deadline)
		return false;
	const char *method, *path, *auth = NULL;
	pw_buf body = PW_BUF_INIT;
	if (!e->next(e->ud, &c->item, &method, &path, &body, &auth)) {
		pw_buf_release(&body);
		return false;
	}
	pw_buf_reset(&c->out);
	pw_buf_printf(&c->out, "%s %s HTTP/1.1\r\nHost: %s:%u\r\n", method, path, e->host, e->port);
	if (auth)
		pw_buf_printf(&c->out, "Authorization: Bearer %s\r\n", auth);
	if (body.len)
		pw_buf_printf(&c->out, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			      body.len);
	pw_buf_puts(&c->out, "\r\n");
	if (body.len)
		pw_buf_append(&c->out, body.data, body.len);
	pw_buf_release(&body);
	c->out_off = 0;
	pw_buf_reset(&c->in);
	c->busy = true;
	c->t0 = bench_now_ns();
	arm(e, i, true);
	return true;
}

/* A complete response in c->in: its status, body and total length. */
static bool parse_reply(const pw_buf *in, int *status, size_t *body_at, size_t *total,
			bool *close_after)
{
	const char *d = pw_buf_str(in);
	const char *end = strstr(d, "\r\n\r\n");
	if (!end)
		return false;
	*status = (int)strtol(d + 9, NULL, 10);
	size_t hdr = (size_t)(end - d) + 4, cl = 0;
	*close_after = false;
	for (const char *l = strstr(d, "\r\n") + 2; l < end; l = strstr(l, "\r\n") + 2) {
		if (!strncasecmp(l, "Content-Length:", 15))
			cl = strtoul(l + 15, NULL, 10);
		else if (!strncasecmp(l, "Connection: close", 17))
			*close_after = true;
	}
	*body_at = hdr;
	*total = hdr + cl;
	return in->len >= *total;
}

static void on_readable(struct engine *e, int i)
{
	struct conn *c = &e->c[i];
	char buf[65536];
	bool eof = false;
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof buf, 0);
		if (n > 0) {
			pw_buf_append(&c->in, buf, (size_t)n);
		} else {
			eof = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
			break;
		}
	}
	int status;
	size_t at, total;
	bool close_after = false;
	if (c->busy && parse_reply(&c->in, &status, &at, &total, &close_after)) {
		c->busy = false;
		if (status < 200 || status > 299)
			e->errors++;
		e->done(e->ud, c->item, status, c->in.data + at, total - at,
			bench_now_ns() - c->t0);
	}
	if (eof || close_after) {
		if (c->busy) { /* the connection failed under the request */
			c->busy = false;
			e->errors++;
			e->done(e->ud, c->item, 0, "", 0, 0);
		}
		reopen(e, i);
	}
	if (!c->busy && !start(e, i))
		c->fd = -c->fd - 1; /* parked: no more work */
}

static void on_writable(struct engine *e, int i)
{
	struct conn *c = &e->c[i];
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			return; /* the read side reports the failure */
		}
		c->out_off += (size_t)n;
	}
	arm(e, i, false);
}

static void engine_run(struct engine *e)
{
	e->ep = epoll_create1(EPOLL_CLOEXEC);
	e->c = calloc((size_t)e->n, sizeof *e->c);
	if (e->ep < 0 || !e->c)
		die("out of resources");
	int active = 0;
	for (int i = 0; i < e->n; i++) {
		open_conn(e, i);
		if (start(e, i))
			active++;
		else
			e->c[i].fd = -e->c[i].fd - 1;
	}
	struct epoll_event ev[256];
	int idle = 0;
	while (active > 0) {
		int k = epoll_wait(e->ep, ev, 256, 1000);
		if (k == 0 && ++idle == 30)
			die("no reply for 30 s; is the server stuck?");
		if (k > 0)
			idle = 0;
		for (int j = 0; j < k; j++) {
			int i = (int)ev[j].data.u32;
			if (e->c[i].fd < 0)
				continue;
			if (ev[j].events & EPOLLOUT)
				on_writable(e, i);
			if (ev[j].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				on_readable(e, i);
			if (e->c[i].fd < 0)
				active--;
		}
	}
	for (int i = 0; i < e->n; i++) {
		int fd = e->c[i].fd < 0 ? -e->c[i].fd - 1 : e->c[i].fd;
		close(fd);
		pw_buf_release(&e->c[i].out);
		pw_buf_release(&e->c[i].in);
	}
	free(e->c);
	close(e->ep);
}

/* ---- latency statistics ----------------------------------------------------- */

struct lat {
	double *v;
	size_t n, cap;
};

static void lat_add(struct lat *l, double ns)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4096;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		if (!l->v)
			die("out of memory");
	}
	l->v[l->n++] = ns;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(struct lat *l, double p)
{
	if (!l->n)
		return 0;
	qsort(l->v, l->n, sizeof *l->v, cmp_double);
	size_t i = (size_t)(p * (double)(l->n - 1));
	return l->v[i] / 1e6;
}

/* ---- agents and inventories ------------------------------------------------ */

struct agent {
	char *cred;
	char id[24];
	int64_t host;
	int variant;
	int64_t job;
};

struct fleet {
	struct agent *a;
	size_t n, cap;
	char *hash[VARIANTS];
	char *json[VARIANTS];
};

static void load_inventories(struct fleet *f)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/inventories/claircore/texlive.dpkg-status",
		 bench_shared_data());
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	if (pw_read_file(path, &b, 0, &e))
		die("%s", pw_error_text(&e));
	static const char osrel[] = "ID=ubuntu\nVERSION_ID=\"18.04\"\nVERSION_CODENAME=bionic\n"
				    "PRETTY_NAME=\"Ubuntu 18.04.6 LTS\"\n";
	for (int v = 0; v < VARIANTS; v++) {
		pw_inventory inv = PW_INVENTORY_INIT;
		if (pw_inventory_parse_dpkg(&inv, b.data, b.len, "status", &e) ||
		    pw_inventory_parse_os_release(&inv, osrel, sizeof osrel - 1))
			die("%s: %s", path, pw_error_text(&e));
		if (!inv.n_pkgs)
			die("%s: no packages", path);
		/* Variant v: package v has a newer build, as after one update. */
		pw_package *p = &inv.pkgs[(size_t)v % inv.n_pkgs];
		size_t len = strlen(p->version) + 16;
		char *nv = malloc(len);
		snprintf(nv, len, "%s+b%d", p->version, v);
		free(p->version);
		p->version = nv;
		pw_inventory_sort(&inv);
		char h[65];
		pw_inventory_hash(&inv, h);
		f->hash[v] = strdup(h);
		cJSON *j = pw_inventory_to_json(&inv);
		f->json[v] = cJSON_PrintUnformatted(j);
		cJSON_Delete(j);
		pw_inventory_release(&inv);
	}
	pw_buf_release(&b);
}

static void load_creds(struct fleet *f, const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		die("%s: %s", path, strerror(errno));
	char line[512];
	while (fgets(line, sizeof line, fp)) {
		char cred[256];
		long long host;
		int variant;
		if (sscanf(line, "%255s %lld %d", cred, &host, &variant) != 3)
			continue;
		if (f->n == f->cap) {
			f->cap = f->cap ? 2 * f->cap : 1024;
			f->a = realloc(f->a, f->cap * sizeof *f->a);
			if (!f->a)
				die("out of memory");
		}
		struct agent *a = &f->a[f->n++];
		memset(a, 0, sizeof *a);
		a->cred = strdup(cred);
		snprintf(a->id, sizeof a->id, "%.*s", (int)strcspn(cred, "."), cred);
		a->host = host;
		a->variant = variant % VARIANTS;
	}
	fclose(fp);
	if (!f->n)
		die("%s: no agents", path);
}

/* ---- modes -------------------------------------------------------------------- */

struct run {
	struct fleet *f;
	const char *token; /* enrollment or operator token */
	long first;
	long count;
	long next_item, hi; /* items still to do in this phase: next_item..hi-1 */
	int phase;
	char path[128];
	struct lat lat;
	long ok, need_inv, uploads, handed, acked;
	bool *pending; /* setup: agents whose check-in must be resent with the inventory */
	FILE *out;
	const char *url_path; /* get */
};

static void checkin_body(pw_buf *b, const struct fleet *f, const struct agent *a, bool with_inv,
			 const char *results)
{
	pw_buf_printf(b, "{\"agent_id\":\"%s\",\"inventory_hash\":\"%s\"", a->id,
		      f->hash[a->variant]);
	if (with_inv)
		pw_buf_printf(b, ",\"inventory\":%s", f->json[a->variant]);
	if (results)
		pw_buf_printf(b, ",\"results\":%s", results);
	pw_buf_putc(b, '}');
}

/* setup, phase 0: enroll; then the first check-in of the first agent of
 * each variant (phase 1), their uploads (2), the first check-in of the
 * others (3) and any uploads they are asked for (4): a fleet's content
 * reaches the server once. */
static bool setup_next(void *ud, long *item, const char **method, const char **path, pw_buf *body,
		       const char **auth)
{
	struct run *r = ud;
	*method = "POST";
	while (r->next_item < r->hi) {
		long i = r->next_item++;
		*item = i;
		if (r->phase == 0) {
			*path = "/api/v1/agents/enroll";
			long k = r->first + i;
			pw_buf_printf(
				body,
				"{\"token\":\"%s\",\"hostname\":\"bench-%ld\",\"machine_id\":"
				"\"bench-machine-%ld\",\"os\":{\"id\":\"ubuntu\",\"version_id\":"
				"\"18.04\",\"codename\":\"bionic\"},\"arch\":\"amd64\"}",
				r->token, k, k);
			return true;
		}
		bool upload = r->phase == 2 || r->phase == 4;
		if (upload && !r->pending[i])
			continue;
		r->pending[i] = false;
		*path = "/api/v1/agents/checkin";
		struct agent *a = &r->f->a[i];
		*auth = a->cred;
		checkin_body(body, r->f, a, upload, NULL);
		return true;
	}
	return false;
}

static void setup_done(void *ud, long item, int status, const char *body, size_t len, double ns)
{
	struct run *r = ud;
	lat_add(&r->lat, ns);
	if (status < 200 || status > 299) {
		fprintf(stderr, "bench_checkin: setup phase %d: status %d: %.*s\n", r->phase,
			status, (int)len, body);
		return;
	}
	r->ok++;
	cJSON *j = cJSON_ParseWithLength(body, len);
	if (r->phase == 0) {
		struct agent *a = &r->f->a[item];
		const cJSON *cred = cJSON_GetObjectItem(j, "credential");
		a->cred = strdup(cJSON_IsString(cred) ? cred->valuestring : "?");
		snprintf(a->id, sizeof a->id, "%.*s", (int)strcspn(a->cred, "."), a->cred);
		a->host = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "host_id"));
		a->variant = (int)((r->first + item) % VARIANTS);
	} else if (r->phase == 1 || r->phase == 3) {
		if (cJSON_IsTrue(cJSON_GetObjectItem(j, "need_inventory"))) {
			r->pending[item] = true;
			r->need_inv++;
		}
	} else {
		r->uploads++;
	}
	cJSON_Delete(j);
}

static void run_engine(struct run *r, const char *url, int conns, double seconds,
		       bool (*next)(void *, long *, const char **, const char **, pw_buf *,
				    const char **),
		       void (*done)(void *, long, int, const char *, size_t, double), long *errors,
		       double *elapsed)
{
	char host[64];
	unsigned port;
	if (sscanf(url, "http://%63[0-9.]:%u", host, &port) != 2)
		die("URL '%s' is not http://127.0.0.1:PORT", url);
	if (strcmp(host, "127.0.0.1") != 0)
		die("only 127.0.0.1 is benchmarked, not %s", host);
	struct engine e = {host, port, NULL, conns, -1, next, done, r, 0, 0};
	double t0 = bench_now_ns();
	if (seconds > 0)
		e.deadline = t0 + seconds * 1e9;
	engine_run(&e);
	*elapsed = (bench_now_ns() - t0) / 1e9;
	*errors = e.errors;
}

static void report(const char *name, struct run *r, long errors, double secs)
{
	printf("RESULT mode=%s requests=%zu seconds=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f "
	       "errors=%ld",
	       name, r->lat.n, secs, (double)r->lat.n / secs, pct(&r->lat, 0.50),
	       pct(&r->lat, 0.99), errors);
}

static int mode_setup(int argc, char **argv, int conns)
{
	if (argc < 7)
		die("setup URL ENROLL_TOKEN FIRST N CREDS");
	bool no_checkin = false;
	for (int i = 7; i < argc; i++)
		no_checkin |= !strcmp(argv[i], "--no-checkin");
	struct fleet f = {0};
	struct run r = {0};
	r.f = &f;
	r.token = argv[3];
	r.first = strtol(argv[4], NULL, 10);
	r.count = strtol(argv[5], NULL, 10);
	if (r.count < 1)
		die("N must be positive");
	load_inventories(&f);
	f.a = calloc((size_t)r.count, sizeof *f.a);
	r.pending = calloc((size_t)r.count, sizeof *r.pending);
	f.n = (size_t)r.count;
	long errors = 0;
	double secs = 0;
	r.hi = r.count;
	run_engine(&r, argv[2], conns, 0, setup_next, setup_done, &errors, &secs);
	report("enroll", &r, errors, secs);
	printf(" enrolled=%ld\n", r.ok);
	FILE *out = fopen(argv[6], "a");
	if (!out)
		die("%s: %s", argv[6], strerror(errno));
	for (long i = 0; i < r.count; i++)
		if (f.a[i].cred)
			fprintf(out, "%s %" PRId64 " %d\n", f.a[i].cred, f.a[i].host,
				f.a[i].variant);
	fclose(out);
	if (no_checkin || errors)
		return errors ? 1 : 0;
	long split = r.count < VARIANTS ? r.count : VARIANTS;
	for (r.phase = 1; r.phase <= 4; r.phase++) {
		r.next_item = r.phase <= 2 ? 0 : split;
		r.hi = r.phase <= 2 ? split : r.count;
		r.ok = 0;
		free(r.lat.v);
		memset(&r.lat, 0, sizeof r.lat);
		long e2 = 0;
		run_engine(&r, argv[2], conns, 0, setup_next, setup_done, &e2, &secs);
		errors += e2;
	}
	printf("RESULT mode=first-checkin agents=%ld asked_for_inventory=%ld uploads=%ld "
	       "errors=%ld\n",
	       r.count, r.need_inv, r.uploads, errors);
	return errors ? 1 : 0;
}

static bool checkin_next(void *ud, long *item, const char **method, const char **path, pw_buf *body,
			 const char **auth)
{
	struct run *r = ud;
	struct agent *a = &r->f->a[(size_t)r->next_item++ % r->f->n];
	*item = 0;
	*method = "POST";
	*path = "/api/v1/agents/checkin";
	*auth = a->cred;
	checkin_body(body, r->f, a, false, NULL);
	return true;
}

static void lat_done(void *ud, long item, int status, const char *body, size_t len, double ns)
{
	(void)item;
	(void)body;
	(void)len;
	struct run *r = ud;
	if (status >= 200 && status <= 299)
		lat_add(&r->lat, ns);
}

static int mode_checkin(int argc, char **argv, int conns, double seconds)
{
	if (argc < 4)
		die("checkin URL CREDS");
	struct fleet f = {0};
	load_inventories(&f);
	load_creds(&f, argv[3]);
	struct run r = {0};
	r.f = &f;
	long errors;
	double secs;
	run_engine(&r, argv[2], conns, seconds, checkin_next, lat_done, &errors, &secs);
	report("checkin", &r, errors, secs);
	printf(" agents=%zu conns=%d\n", f.n, conns);
	return 0;
}

static bool get_next(void *ud, long *item, const char **method, const char **path, pw_buf *body,
		     const char **auth)
{
	(void)body;
	(void)auth;
	struct run *r = ud;
	*item = 0;
	*method = "GET";
	*path = r->url_path;
	return true;
}

static int mode_get(int argc, char **argv, int conns, double seconds)
{
	if (argc < 3)
		die("get URL");
	struct run r = {0};
	const char *p = strchr(argv[2] + 7, '/');
	r.url_path = p ? p : "/";
	long errors;
	double secs;
	run_engine(&r, argv[2], conns, seconds, get_next, lat_done, &errors, &secs);
	report("get", &r, errors, secs);
	printf(" conns=%d\n", conns);
	return 0;
}

/* results: phase 0 creates a job per host, phase 1 hands them out,
 * phase 2 delivers the results. */
static bool results_next(void *ud, long *item, const char **method, const char **path, pw_buf *body,
			 const char **auth)
{
	struct run *r = ud;
	if (r->next_item >= (long)r->f->n)
		return false;
	long i = r->next_item++;
	struct agent *a = &r->f->a[i];
	*item = i;
	*method = "POST";
	if (r->phase == 0) { /* the operator's request */
		snprintf(r->path, sizeof r->path, "/api/v1/hosts/%" PRId64 "/jobs", a->host);
		*path = r->path; /* copied into the request at once */
		*auth = r->token;
		pw_buf_puts(body, "{\"kind\":\"scan\",\"args\":{}}");
		return true;
	}
	*path = "/api/v1/agents/checkin";
	*auth = a->cred;
	char res[160];
	if (r->phase == 2)
		snprintf(res, sizeof res,
			 "[{\"job_id\":%" PRId64 ",\"seq\":%ld,\"status\":\"ok\",\"exit_code\":0}]",
			 a->job, r->first);
	checkin_body(body, r->f, a, false, r->phase == 2 ? res : NULL);
	return true;
}

static void results_done(void *ud, long item, int status, const char *body, size_t len, double ns)
{
	struct run *r = ud;
	lat_add(&r->lat, ns);
	if (status < 200 || status > 299)
		return;
	cJSON *j = cJSON_ParseWithLength(body, len);
	struct agent *a = &r->f->a[item];
	if (r->phase == 0) {
		r->ok++;
	} else if (r->phase == 1) {
		const cJSON *jobs = cJSON_GetObjectItem(j, "jobs"), *x;
		cJSON_ArrayForEach(x, jobs) {
			a->job = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(x, "job_id"));
			r->handed++;
		}
	} else {
		const cJSON *ack = cJSON_GetObjectItem(j, "ack"), *x;
		cJSON_ArrayForEach(x, ack)
			if ((long)x->valuedouble == r->first)
				r->acked++;
	}
	cJSON_Delete(j);
}

static int mode_results(int argc, char **argv, int conns)
{
	if (argc < 5)
		die("results URL CREDS OPERATOR_TOKEN");
	struct fleet f = {0};
	load_inventories(&f);
	load_creds(&f, argv[3]);
	struct run r = {0};
	r.f = &f;
	r.token = argv[4];
	/* The result's seq: unique per run, so reruns are new results. */
	r.first = (long)(bench_now_ns() / 1e6) % 1000000000L + 1;
	long errors = 0, e;
	double secs, total = 0;
	for (r.phase = 0; r.phase <= 2; r.phase++) {
		r.next_item = 0;
		run_engine(&r, argv[2], conns, 0, results_next, results_done, &e, &secs);
		errors += e;
		total += secs;
	}
	printf("RESULT mode=results agents=%zu jobs_created=%ld handed_out=%ld acknowledged=%ld "
	       "lost=%ld errors=%ld seconds=%.2f seq=%ld\n",
	       f.n, r.ok, r.handed, r.acked, r.ok - r.acked, errors, total, r.first);
	return r.ok == r.acked && (size_t)r.ok == f.n ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		/* The whole comparison, as scripts/bench runs every benchmark. */
		char script[1024], exe[1024], bin[1100];
		snprintf(script, sizeof script, "%s/bench/checkin.sh", PW_SOURCE_DIR);
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (n <= 0)
			die("cannot find this program: %s", strerror(errno));
		exe[n] = '\0';
		setenv("PW_BENCH_CLIENT", exe, 1);
		/* build/<preset>/bench/bench_checkin -> build/<preset>/patchwarden */
		char *slash = strrchr(exe, '/');
		*slash = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		snprintf(bin, sizeof bin, "%s/patchwarden", exe);
		setenv("PW_BIN", bin, 0);
		execlp("bash", "bash", script, (char *)NULL);
		die("cannot run %s: %s", script, strerror(errno));
	}
	int conns = 64;
	double seconds = 10;
	for (int i = 2; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "--conns"))
			conns = (int)strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = strtod(argv[i + 1], NULL);
	}
	if (conns < 1 || conns > 4096 || seconds <= 0 || seconds > 600)
		die("--conns 1..4096, --seconds up to 600");
	if (!strcmp(argv[1], "setup"))
		return mode_setup(argc, argv, conns);
	if (!strcmp(argv[1], "checkin"))
		return mode_checkin(argc, argv, conns, seconds);
	if (!strcmp(argv[1], "results"))
		return mode_results(argc, argv, conns);
	if (!strcmp(argv[1], "get"))
		return mode_get(argc, argv, conns, seconds);
	die("unknown mode '%s'", argv[1]);
}
