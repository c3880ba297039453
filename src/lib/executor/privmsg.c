#include "patchwarden/privmsg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- encoding ---------------------------------------------------------- */

static pw_err put_u8(pw_buf *b, unsigned v)
{
	uint8_t c = (uint8_t)v;
	return pw_buf_append(b, &c, 1);
}

static pw_err put_u32(pw_buf *b, uint32_t v)
{
	uint8_t c[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	return pw_buf_append(b, c, 4);
}

/* Whether `s` (n bytes) may be a string field: no NUL, no control
 * character, no DEL; `blob` allows every byte but NUL. Returns the index
 * of the first bad byte, or n. */
static size_t bad_byte(const uint8_t *s, size_t n, bool blob)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == 0 || (!blob && (s[i] < 0x20 || s[i] == 0x7f)))
			return i;
	return n;
}

static pw_err put_str(pw_buf *b, const char *s, size_t max, bool blob, const char *field,
		      size_t idx, pw_error *err)
{
	size_t n = s ? strlen(s) : 0;
	if (n > max)
		return pw_error_set(err, PW_ERR_INVALID, "%s[%zu]: %zu bytes, more than %zu", field,
				    idx, n, max);
	if (bad_byte((const uint8_t *)s, n, blob) != n)
		return pw_error_set(err, PW_ERR_INVALID, "%s[%zu]: a control character", field,
				    idx);
	if (put_u32(b, (uint32_t)n) || (n && pw_buf_append(b, s, n)))
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory encoding a message");
	return PW_OK;
}

static pw_err enomem(pw_error *err)
{
	return pw_error_set(err, PW_ERR_NOMEM, "out of memory encoding a message");
}

pw_err pw_privmsg_encode_request(const pw_exec_request *req, pw_buf *out, pw_error *err)
{
	if (req->kind <= 0 || req->kind >= PW_EXEC__END)
		return pw_error_set(err, PW_ERR_INVALID, "request: unknown kind %d",
				    (int)req->kind);
	if (req->flags & ~PW_EXEC_FLAGS_ALL)
		return pw_error_set(err, PW_ERR_INVALID, "request: unknown flags 0x%x",
				    (unsigned)req->flags);
	if (req->n_packages > PW_EXEC_MAX_PACKAGES)
		return pw_error_set(err, PW_ERR_INVALID, "request: %zu packages, more than %d",
				    req->n_packages, PW_EXEC_MAX_PACKAGES);
	if (put_u8(out, PW_PRIVMSG_REQUEST) || put_u32(out, (uint32_t)req->kind) ||
	    put_u32(out, req->flags) || put_u32(out, (uint32_t)req->n_packages))
		return enomem(err);
	for (size_t i = 0; i < req->n_packages; i++) {
		const pw_exec_package *p = &req->packages[i];
		if (put_str(out, p->name, PW_EXEC_NAME_MAX, false, "packages.name", i, err) ||
		    put_str(out, p->version, PW_EXEC_VERSION_MAX, false, "packages.version", i,
			    err))
			return err->code;
		if (put_u8(out, p->at_least ? 1 : 0))
			return enomem(err);
	}
	return PW_OK;
}

static pw_err put_keys(pw_buf *b, char *const *v, size_t n, const char *field, pw_error *err)
{
	if (put_u32(b, (uint32_t)n))
		return enomem(err);
	for (size_t i = 0; i < n; i++)
		if (put_str(b, v[i], PW_RUNTIME_KEY_MAX, false, field, i, err))
			return err->code;
	return PW_OK;
}

/* The runtime section after the message (result flag 4). */
static pw_err encode_runtime(const pw_runtime *rt, pw_buf *out, pw_error *err)
{
	if (rt->n_in_use + rt->n_unknown > PW_RUNTIME_MAX_PACKAGES ||
	    rt->n_restarts > PW_RUNTIME_MAX_RESTARTS || rt->processes > UINT32_MAX)
		return pw_error_set(
			err, PW_ERR_INVALID,
			"result: runtime of %zu packages and %zu restarts, more than %d "
			"or %d",
			rt->n_in_use + rt->n_unknown, rt->n_restarts, PW_RUNTIME_MAX_PACKAGES,
			PW_RUNTIME_MAX_RESTARTS);
	if (put_u8(out, rt->in_use_known ? 1 : 0) || put_u32(out, (uint32_t)rt->processes))
		return enomem(err);
	if (put_keys(out, rt->in_use, rt->n_in_use, "runtime.in_use", err) ||
	    put_keys(out, rt->unknown, rt->n_unknown, "runtime.unknown", err))
		return err->code;
	if (put_u32(out, (uint32_t)rt->n_restarts))
		return enomem(err);
	for (size_t i = 0; i < rt->n_restarts; i++) {
		const pw_runtime_restart *r = &rt->restarts[i];
		if (r->pid <= 0 || !r->path || !*r->path)
			return pw_error_set(err, PW_ERR_INVALID,
					    "runtime.restarts[%zu]: a pid and a path are required",
					    i);
		if (put_u32(out, (uint32_t)r->pid))
			return enomem(err);
		if (put_str(out, r->process, PW_RUNTIME_PROCESS_MAX, false, "restarts.process", i,
			    err) ||
		    put_str(out, r->path, PW_RUNTIME_PATH_MAX, false, "restarts.path", i, err) ||
		    put_str(out, r->package, PW_RUNTIME_KEY_MAX, false, "restarts.package", i,
			    err) ||
		    put_str(out, r->unit, PW_RUNTIME_UNIT_MAX, false, "restarts.unit", i, err))
			return err->code;
	}
	return PW_OK;
}

pw_err pw_privmsg_encode_result(const pw_exec_result *res, pw_buf *out, pw_error *err)
{
	if ((unsigned)res->status > PW_EXEC_REFUSED)
		return pw_error_set(err, PW_ERR_INVALID, "result: unknown status %d",
				    (int)res->status);
	if ((unsigned)res->db_state > PW_PKGDB_BROKEN)
		return pw_error_set(err, PW_ERR_INVALID, "result: unknown db_state %d",
				    (int)res->db_state);
	if (res->n_changes > PW_PRIVMSG_MAX_CHANGES || res->n_services > PW_PRIVMSG_MAX_SERVICES)
		return pw_error_set(err, PW_ERR_INVALID,
				    "result: %zu changes and %zu services, more than %d or %d",
				    res->n_changes, res->n_services, PW_PRIVMSG_MAX_CHANGES,
				    PW_PRIVMSG_MAX_SERVICES);
	unsigned flags = (res->resolves ? 1u : 0u) | (res->needs_reboot ? 2u : 0u) |
			 (res->runtime ? 4u : 0u);
	if (put_u8(out, PW_PRIVMSG_RESULT) || put_u8(out, (unsigned)res->status) ||
	    put_u32(out, (uint32_t)(int32_t)res->exit_code) || put_u8(out, flags) ||
	    put_u8(out, (unsigned)res->db_state) || put_u32(out, (uint32_t)res->n_changes))
		return enomem(err);
	for (size_t i = 0; i < res->n_changes; i++) {
		const pw_exec_change *c = &res->changes[i];
		if ((unsigned)c->action >= PW_CHANGE__END)
			return pw_error_set(err, PW_ERR_INVALID, "changes[%zu].action: unknown %d",
					    i, (int)c->action);
		if (put_str(out, c->name, PW_EXEC_NAME_MAX, false, "changes.name", i, err) ||
		    put_str(out, c->before, PW_EXEC_VERSION_MAX, false, "changes.before", i, err) ||
		    put_str(out, c->after, PW_EXEC_VERSION_MAX, false, "changes.after", i, err))
			return err->code;
		if (put_u8(out, (unsigned)c->action) || put_u8(out, c->ok ? 1 : 0))
			return enomem(err);
	}
	if (put_u32(out, (uint32_t)res->n_services))
		return enomem(err);
	for (size_t i = 0; i < res->n_services; i++)
		if (put_str(out, res->services[i], PW_PRIVMSG_UNIT_MAX, false, "services", i, err))
			return err->code;
	if (res->log.len > PW_EXEC_LOG_MAX)
		return pw_error_set(err, PW_ERR_INVALID,
				    "result: a log of %zu bytes, more than %zu", res->log.len,
				    PW_EXEC_LOG_MAX);
	if (bad_byte((const uint8_t *)res->log.data, res->log.len, true) != res->log.len)
		return pw_error_set(err, PW_ERR_INVALID, "result: a NUL byte in the log");
	if (put_u32(out, (uint32_t)res->log.len) ||
	    (res->log.len && pw_buf_append(out, res->log.data, res->log.len)))
		return enomem(err);
	pw_err rc = put_str(out, res->message, PW_ERROR_MSG_MAX - 1, false, "message", 0, err);
	return rc || !res->runtime ? rc : encode_runtime(res->runtime, out, err);
}

/* ---- decoding ---------------------------------------------------------- */

typedef struct reader {
	const uint8_t *p;
	size_t n, off;
	const char *what; /* "request", "result" */
	pw_error *err;
} reader;

static pw_err refuse(reader *r, const char *field, size_t idx, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "request: packages[3].name at offset 57: ..." (idx SIZE_MAX: no index) */
static pw_err refuse(reader *r, const char *field, size_t idx, const char *fmt, ...)
{
	char why[200], name[80];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	const char *dot = strchr(field, '.');
	if (idx != SIZE_MAX && dot)
		snprintf(name, sizeof name, "%.*s[%zu]%s", (int)(dot - field), field, idx, dot);
	else if (idx != SIZE_MAX)
		snprintf(name, sizeof name, "%s[%zu]", field, idx);
	else
		snprintf(name, sizeof name, "%s", field);
	return pw_error_set(r->err, PW_ERR_PARSE, "%s: %s at offset %zu: %s", r->what, name, r->off,
			    why);
}

static pw_err get_u8(reader *r, const char *field, size_t idx, unsigned *v)
{
	if (r->n - r->off < 1)
		return refuse(r, field, idx, "truncated");
	*v = r->p[r->off++];
	return PW_OK;
}

static pw_err get_u32(reader *r, const char *field, size_t idx, uint32_t *v)
{
	if (r->n - r->off < 4)
		return refuse(r, field, idx, "truncated");
	const uint8_t *q = r->p + r->off;
	*v = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
	r->off += 4;
	return PW_OK;
}

static pw_err get_bool(reader *r, const char *field, size_t idx, bool *v)
{
	unsigned b = 0;
	if (get_u8(r, field, idx, &b))
		return r->err->code;
	if (b > 1) {
		r->off--;
		return refuse(r, field, idx, "%u is neither 0 nor 1", b);
	}
	*v = b;
	return PW_OK;
}

/* A string field into out[max + 1]. */
static pw_err get_str(reader *r, const char *field, size_t idx, char *out, size_t max)
{
	uint32_t len = 0;
	if (get_u32(r, field, idx, &len))
		return r->err->code;
	r->off -= 4;
	if (len > max)
		return refuse(r, field, idx, "length %u, more than %zu", (unsigned)len, max);
	if (r->n - r->off - 4 < len)
		return refuse(r, field, idx, "length %u past the end", (unsigned)len);
	r->off += 4;
	size_t bad = bad_byte(r->p + r->off, len, false);
	if (bad != len) {
		r->off += bad;
		return refuse(r, field, idx, "byte 0x%02x is not allowed", r->p[r->off]);
	}
	memcpy(out, r->p + r->off, len);
	out[len] = '\0';
	r->off += len;
	return PW_OK;
}

static pw_err get_end(reader *r)
{
	if (r->off != r->n)
		return refuse(r, "end", SIZE_MAX, "%zu trailing bytes", r->n - r->off);
	return PW_OK;
}

static pw_err get_type(reader *r, unsigned want)
{
	unsigned t = 0;
	if (get_u8(r, "type", SIZE_MAX, &t))
		return r->err->code;
	if (t != want) {
		r->off--;
		return refuse(r, "type", SIZE_MAX, "%u, expected %u", t, want);
	}
	return PW_OK;
}

pw_err pw_privmsg_decode_request(const uint8_t *p, size_t n, pw_exec_request *req, pw_error *err)
{
	reader r = {p, n, 0, "request", err};
	uint32_t kind = 0, flags = 0, count = 0;
	req->kind = 0;
	req->flags = 0;
	req->n_packages = 0;
	if (get_type(&r, PW_PRIVMSG_REQUEST) || get_u32(&r, "kind", SIZE_MAX, &kind))
		return err->code;
	if (kind == 0 || kind >= PW_EXEC__END) {
		r.off -= 4;
		return refuse(&r, "kind", SIZE_MAX, "unknown kind %u", (unsigned)kind);
	}
	if (get_u32(&r, "flags", SIZE_MAX, &flags))
		return err->code;
	if (flags & ~PW_EXEC_FLAGS_ALL) {
		r.off -= 4;
		return refuse(&r, "flags", SIZE_MAX, "unknown flags 0x%x",
			      (unsigned)(flags & ~PW_EXEC_FLAGS_ALL));
	}
	if (get_u32(&r, "n_packages", SIZE_MAX, &count))
		return err->code;
	if (count > PW_EXEC_MAX_PACKAGES) {
		r.off -= 4;
		return refuse(&r, "n_packages", SIZE_MAX, "%u, more than %d", (unsigned)count,
			      PW_EXEC_MAX_PACKAGES);
	}
	for (size_t i = 0; i < count; i++) {
		pw_exec_package *pk = &req->packages[i];
		if (get_str(&r, "packages.name", i, pk->name, PW_EXEC_NAME_MAX) ||
		    get_str(&r, "packages.version", i, pk->version, PW_EXEC_VERSION_MAX) ||
		    get_bool(&r, "packages.at_least", i, &pk->at_least))
			return err->code;
	}
	if (get_end(&r))
		return err->code;
	req->kind = (pw_exec_kind)kind;
	req->flags = flags;
	req->n_packages = count;
	return PW_OK;
}

/* A count at most max. */
static pw_err get_count(reader *r, const char *field, uint32_t max, uint32_t *n)
{
	if (get_u32(r, field, SIZE_MAX, n))
		return r->err->code;
	if (*n > max) {
		r->off -= 4;
		return refuse(r, field, SIZE_MAX, "%u, more than %u", (unsigned)*n, (unsigned)max);
	}
	return PW_OK;
}

/* One optional string (empty: NULL) of a restart into a copy. */
static pw_err get_restart_str(reader *r, const char *field, size_t idx, char *buf, size_t max,
			      bool required)
{
	if (get_str(r, field, idx, buf, max))
		return r->err->code;
	if (required && !*buf) {
		r->off -= 4;
		return refuse(r, field, idx, "empty");
	}
	return PW_OK;
}

static pw_err decode_runtime(reader *r, pw_runtime *rt)
{
	pw_error *err = r->err;
	uint32_t processes = 0, count = 0;
	char key[PW_RUNTIME_KEY_MAX + 1];
	if (get_bool(r, "runtime.in_use_known", SIZE_MAX, &rt->in_use_known) ||
	    get_u32(r, "runtime.processes", SIZE_MAX, &processes))
		return err->code;
	rt->processes = processes;
	for (int list = 0; list < 2; list++) {
		const char *field = list ? "unknown" : "in_use";
		uint32_t room = PW_RUNTIME_MAX_PACKAGES - (uint32_t)rt->n_in_use;
		if (get_count(r, list ? "runtime.unknown" : "runtime.in_use", room, &count))
			return err->code;
		for (size_t i = 0; i < count; i++) {
			size_t at = r->off;
			if (get_restart_str(r, field, i, key, PW_RUNTIME_KEY_MAX, true))
				return err->code;
			if (pw_runtime_add_key(rt, list == 1, key, err)) {
				r->off = at;
				return err->code == PW_ERR_NOMEM
					       ? err->code
					       : refuse(r, field, i, "%s", err->msg);
			}
		}
	}
	if (get_count(r, "runtime.n_restarts", PW_RUNTIME_MAX_RESTARTS, &count))
		return err->code;
	for (size_t i = 0; i < count; i++) {
		uint32_t pid = 0;
		char process[PW_RUNTIME_PROCESS_MAX + 1], path[PW_RUNTIME_PATH_MAX + 1];
		char package[PW_RUNTIME_KEY_MAX + 1], unit[PW_RUNTIME_UNIT_MAX + 1];
		if (get_u32(r, "restarts.pid", i, &pid))
			return err->code;
		if (pid == 0 || pid > INT32_MAX) {
			r->off -= 4;
			return refuse(r, "restarts.pid", i, "%u is not a process id",
				      (unsigned)pid);
		}
		if (get_restart_str(r, "restarts.process", i, process, PW_RUNTIME_PROCESS_MAX,
				    false) ||
		    get_restart_str(r, "restarts.path", i, path, PW_RUNTIME_PATH_MAX, true) ||
		    get_restart_str(r, "restarts.package", i, package, PW_RUNTIME_KEY_MAX, false) ||
		    get_restart_str(r, "restarts.unit", i, unit, PW_RUNTIME_UNIT_MAX, false))
			return err->code;
		if (pw_runtime_add_restart(rt, (int)pid, process, path, *package ? package : NULL,
					   *unit ? unit : NULL, err))
			return err->code;
	}
	if (!pw_runtime_sorted(rt))
		return refuse(r, "runtime", SIZE_MAX,
			      "its lists are not sorted or repeat an entry (the encoder sorts "
			      "them)");
	return PW_OK;
}

static pw_err decode_result(reader *r, pw_exec_result *res)
{
	unsigned status = 0, flags = 0, state = 0;
	uint32_t code = 0, count = 0;
	pw_error *err = r->err;
	if (get_type(r, PW_PRIVMSG_RESULT) || get_u8(r, "status", SIZE_MAX, &status))
		return err->code;
	if (status > PW_EXEC_REFUSED) {
		r->off--;
		return refuse(r, "status", SIZE_MAX, "unknown status %u", status);
	}
	if (get_u32(r, "exit_code", SIZE_MAX, &code) || get_u8(r, "flags", SIZE_MAX, &flags))
		return err->code;
	if (flags > 7) {
		r->off--;
		return refuse(r, "flags", SIZE_MAX, "unknown flags 0x%x", flags & ~7u);
	}
	if (get_u8(r, "db_state", SIZE_MAX, &state))
		return err->code;
	if (state > PW_PKGDB_BROKEN) {
		r->off--;
		return refuse(r, "db_state", SIZE_MAX, "unknown state %u", state);
	}
	res->status = (pw_exec_status)status;
	res->exit_code = (int)(int32_t)code;
	res->resolves = flags & 1;
	res->needs_reboot = (flags & 2) != 0;
	res->db_state = (pw_pkgdb_state)state;
	if (get_u32(r, "n_changes", SIZE_MAX, &count))
		return err->code;
	if (count > PW_PRIVMSG_MAX_CHANGES) {
		r->off -= 4;
		return refuse(r, "n_changes", SIZE_MAX, "%u, more than %d", (unsigned)count,
			      PW_PRIVMSG_MAX_CHANGES);
	}
	for (size_t i = 0; i < count; i++) {
		pw_exec_change c;
		unsigned action = 0;
		memset(&c, 0, sizeof c);
		if (get_str(r, "changes.name", i, c.name, PW_EXEC_NAME_MAX) ||
		    get_str(r, "changes.before", i, c.before, PW_EXEC_VERSION_MAX) ||
		    get_str(r, "changes.after", i, c.after, PW_EXEC_VERSION_MAX) ||
		    get_u8(r, "changes.action", i, &action))
			return err->code;
		if (action >= PW_CHANGE__END) {
			r->off--;
			return refuse(r, "changes.action", i, "unknown action %u", action);
		}
		c.action = (pw_change_action)action;
		if (get_bool(r, "changes.ok", i, &c.ok) || pw_exec_result_add_change(res, &c, err))
			return err->code;
	}
	if (get_u32(r, "n_services", SIZE_MAX, &count))
		return err->code;
	if (count > PW_PRIVMSG_MAX_SERVICES) {
		r->off -= 4;
		return refuse(r, "n_services", SIZE_MAX, "%u, more than %d", (unsigned)count,
			      PW_PRIVMSG_MAX_SERVICES);
	}
	for (size_t i = 0; i < count; i++) {
		char unit[PW_PRIVMSG_UNIT_MAX + 1];
		size_t at = r->off, before = res->n_services;
		if (get_str(r, "services", i, unit, PW_PRIVMSG_UNIT_MAX) ||
		    pw_exec_result_add_service(res, unit, err))
			return err->code;
		if (res->n_services == before) {
			r->off = at;
			return refuse(r, "services", i, "a repeated unit");
		}
	}
	uint32_t len = 0;
	if (get_u32(r, "log", SIZE_MAX, &len))
		return err->code;
	r->off -= 4;
	if (len > PW_EXEC_LOG_MAX)
		return refuse(r, "log", SIZE_MAX, "length %u, more than %zu", (unsigned)len,
			      PW_EXEC_LOG_MAX);
	if (r->n - r->off - 4 < len)
		return refuse(r, "log", SIZE_MAX, "length %u past the end", (unsigned)len);
	r->off += 4;
	size_t bad = bad_byte(r->p + r->off, len, true);
	if (bad != len) {
		r->off += bad;
		return refuse(r, "log", SIZE_MAX, "a NUL byte");
	}
	if (len && pw_buf_append(&res->log, r->p + r->off, len))
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory decoding a result");
	r->off += len;
	if (get_str(r, "message", SIZE_MAX, res->message, PW_ERROR_MSG_MAX - 1))
		return err->code;
	if (flags & 4) {
		if (!(res->runtime = calloc(1, sizeof *res->runtime)))
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory decoding a result");
		if (decode_runtime(r, res->runtime))
			return err->code;
	}
	return get_end(r);
}

pw_err pw_privmsg_decode_result(const uint8_t *p, size_t n, pw_exec_result *res, pw_error *err)
{
	reader r = {p, n, 0, "result", err};
	pw_exec_result_release(res);
	if (decode_result(&r, res)) {
		pw_exec_result_release(res);
		return err->code;
	}
	return PW_OK;
}

/* ---- frames ------------------------------------------------------------ */

static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Bytes read before the end of the stream or an error. */
static size_t read_all(int fd, uint8_t *p, size_t n, int *error)
{
	size_t got = 0;
	*error = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			*error = errno;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

pw_err pw_privmsg_send(int fd, const void *payload, size_t n, pw_error *err)
{
	if (n > PW_PRIVMSG_MAX)
		return pw_error_set(err, PW_ERR_TOOLARGE, "a message of %zu bytes, more than %zu",
				    n, PW_PRIVMSG_MAX);
	uint8_t h[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
	if (!write_all(fd, h, 4) || !write_all(fd, payload, n))
		return pw_error_set(err, PW_ERR_IO,
				    "cannot send a message to the other process: %s",
				    strerror(errno));
	return PW_OK;
}

pw_err pw_privmsg_recv(int fd, pw_buf *out, size_t max, pw_error *err)
{
	uint8_t h[4];
	int e;
	pw_buf_reset(out);
	size_t got = read_all(fd, h, 4, &e);
	if (got == 0 && !e)
		return pw_error_set(err, PW_ERR_NOTFOUND, "the other process closed the channel");
	if (got < 4)
		return pw_error_set(err, PW_ERR_IO,
				    "a message header cut short after %zu bytes%s%s", got,
				    e ? ": " : "", e ? strerror(e) : "");
	size_t n = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	if (n > max)
		return pw_error_set(err, PW_ERR_TOOLARGE,
				    "a message of %zu bytes announced, more than %zu", n, max);
	if (pw_buf_reserve(out, n + 1))
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory reading a message");
	got = read_all(fd, (uint8_t *)out->data, n, &e);
	if (got < n)
		return pw_error_set(err, PW_ERR_IO,
				    "a message of %zu bytes cut short after %zu%s%s", n, got,
				    e ? ": " : "", e ? strerror(e) : "");
	out->len = n;
	out->data[n] = '\0';
	return PW_OK;
}
