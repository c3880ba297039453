#include "patchwarden/feedsync.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "patchwarden/buf.h"
#include "patchwarden/clock.h"
#include "patchwarden/db.h"
#include "patchwarden/fileio.h"

#define DEF_RETRIES 3L
#define DEF_MAX_SIZE ((uint64_t)1 << 30)
/* A gzip feed that inflates beyond this is refused rather than exhausting memory. */
#define INFLATE_MAX ((size_t)4 << 30)

const char *pw_sync_status_name(pw_sync_status s)
{
	switch (s) {
	case PW_SYNC_DOWNLOADED:
		return "downloaded";
	case PW_SYNC_UNCHANGED:
		return "unchanged";
	case PW_SYNC_FAILED:
		return "failed";
	}
	return "unknown";
}

void pw_sync_summary_release(pw_sync_summary *s)
{
	free(s->sources);
	*s = (pw_sync_summary)PW_SYNC_SUMMARY_INIT;
}

char *pw_sync_default_cache_dir(const char *store)
{
	pw_buf b = PW_BUF_INIT;
	const char *file = pw_db_sqlite_path(store);
	if (pw_buf_printf(&b, "%s.cache", file ? file : "patchwarden-feeds")) {
		pw_buf_release(&b);
		return NULL;
	}
	return pw_buf_detach(&b);
}

/* ---- importing one file ---- */

enum kind { KIND_PLAIN, KIND_GZIP, KIND_ZIP, KIND_TAR };

static bool looks_tar(const unsigned char *p, size_t len)
{
	return len >= 262 && memcmp(p + 257, "ustar", 5) == 0;
}

static enum kind sniff(const unsigned char *p, size_t len)
{
	if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return KIND_GZIP;
	if (len >= 4 && p[0] == 'P' && p[1] == 'K' &&
	    ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6)))
		return KIND_ZIP;
	return looks_tar(p, len) ? KIND_TAR : KIND_PLAIN;
}

/* Inflates a gzip file (all members) into `out`. */
static pw_err gunzip(const pw_buf *in, const char *name, pw_buf *out, pw_error *err)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return pw_error_set(err, PW_ERR_NOMEM, "%s: zlib: out of memory", name);
	z.next_in = (unsigned char *)in->data;
	z.avail_in = 0;
	size_t left = in->len;
	pw_err rc = PW_OK;
	int zr = Z_OK;
	for (;;) {
		if (z.avail_in == 0 && left) {
			z.avail_in = left > 1u << 30 ? 1u << 30 : (unsigned)left;
			left -= z.avail_in;
		}
		if (out->len >= INFLATE_MAX) {
			rc = pw_error_set(err, PW_ERR_TOOLARGE, "%s: inflates beyond %zu bytes",
					  name, INFLATE_MAX);
			break;
		}
		if (pw_buf_reserve(out, 1u << 20)) {
			rc = pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", name);
			break;
		}
		z.next_out = (unsigned char *)out->data + out->len;
		z.avail_out = (unsigned)(out->cap - out->len - 1 > 1u << 30
						 ? 1u << 30
						 : out->cap - out->len - 1);
		unsigned before = z.avail_out;
		zr = inflate(&z, Z_NO_FLUSH);
		out->len += before - z.avail_out;
		out->data[out->len] = '\0';
		if (zr == Z_STREAM_END) {
			if (z.avail_in == 0 && left == 0)
				break;
			/* Concatenated gzip members form one stream. */
			if (inflateReset(&z) != Z_OK) {
				rc = pw_error_set(err, PW_ERR_PARSE, "%s: damaged gzip data", name);
				break;
			}
			continue;
		}
		if (zr == Z_BUF_ERROR && z.avail_in == 0 && left == 0) {
			rc = pw_error_set(err, PW_ERR_PARSE, "%s: truncated gzip data", name);
			break;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			rc = pw_error_set(err, PW_ERR_PARSE, "%s: damaged gzip data: %s", name,
					  z.msg ? z.msg : "inflate failed");
			break;
		}
	}
	inflateEnd(&z);
	return rc;
}

/* The first bytes of a file, enough to tell archives from documents. */
static pw_err read_head(const char *path, unsigned char *head, size_t cap, size_t *n, pw_error *err)
{
	int fd;
	pw_err rc = pw_open_regular(path, &fd, err);
	if (rc)
		return rc;
	*n = 0;
	while (*n < cap) {
		ssize_t r = read(fd, head + *n, cap - *n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		*n += (size_t)r;
	}
	close(fd);
	return PW_OK;
}

static pw_err archive_hint_error(const char *name, pw_feed_format hint, enum kind k, pw_error *err)
{
	return pw_error_set(
		err, PW_ERR_INVALID,
		"%s: format = %s, but the file is a %s archive; remove format= (archive "
		"members are detected by content)",
		name, pw_feed_format_name(hint), k == KIND_ZIP ? "zip" : "tar");
}

pw_err pw_sync_import_file(pw_feed_import *imp, const char *path, const char *name,
			   pw_feed_format hint, pw_error *err)
{
	unsigned char head[512];
	size_t hn = 0;
	pw_err rc = read_head(path, head, sizeof head, &hn, err);
	if (rc)
		return rc;
	enum kind k = sniff(head, hn);
	/* Archives are read member by member by the store, never whole. */
	if (k == KIND_ZIP || k == KIND_TAR)
		return hint != PW_FEED_UNKNOWN ? archive_hint_error(name, hint, k, err)
					       : pw_feed_import_path(imp, path, err);
	pw_buf raw = PW_BUF_INIT, plain = PW_BUF_INIT;
	rc = pw_read_file(path, &raw, 0, err);
	const pw_buf *doc = &raw;
	if (rc == PW_OK && k == KIND_GZIP) {
		rc = gunzip(&raw, name, &plain, err);
		doc = &plain;
	}
	bool tarball = rc == PW_OK && k == KIND_GZIP &&
		       looks_tar((const unsigned char *)plain.data, plain.len);
	const char *data = doc->data ? doc->data : "";
	if (rc == PW_OK && tarball)
		rc = hint != PW_FEED_UNKNOWN ? archive_hint_error(name, hint, KIND_TAR, err)
					     : pw_feed_import_path(imp, path, err);
	else if (rc == PW_OK && hint != PW_FEED_UNKNOWN)
		rc = pw_feed_parse(hint, data, doc->len, name, pw_feed_import_sink(imp), err);
	else if (rc == PW_OK)
		rc = pw_feed_import_buffer(imp, data, doc->len, name, err);
	pw_buf_release(&raw);
	pw_buf_release(&plain);
	return rc;
}

/* ---- configuration ---- */

struct settings {
	const pw_sync_options *o;
	pw_fetch_opts fetch;
	uint64_t max_bytes;
	const char *cache_dir;
};

/* The operator's value, else the shipped one. */
static const char *get(const pw_sync_options *o, const char *section, const char *key,
		       const char **from)
{
	const char *v = pw_config_get(o->config, section, key);
	*from = o->config_path ? o->config_path : "configuration";
	if (!v && o->shipped) {
		v = pw_config_get(o->shipped, section, key);
		*from = o->shipped_path ? o->shipped_path : "shipped sources";
	}
	return v;
}

static pw_err get_seconds(const pw_sync_options *o, const char *key, double def, long *ms,
			  pw_error *err)
{
	double v = def;
	pw_err rc = PW_OK;
	if (o->shipped)
		rc = pw_config_get_double(o->shipped, "sync", key, def, &v, err);
	if (rc == PW_OK)
		rc = pw_config_get_double(o->config, "sync", key, v, &v, err);
	if (rc)
		return rc;
	if (!(v >= 0.001 && v <= 86400.0 * 7))
		return pw_error_set(err, PW_ERR_PARSE,
				    "[sync] %s = %g: give seconds between 0.001 and 604800", key,
				    v);
	*ms = (long)(v * 1000.0 + 0.5);
	return PW_OK;
}

/* "1073741824", "500K", "300M", "2G" (powers of 1024). */
static pw_err parse_size(const char *text, const char *from, const char *section, uint64_t *out,
			 pw_error *err)
{
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	uint64_t mul = 1;
	if (end && *end) {
		switch (*end) {
		case 'k':
		case 'K':
			mul = 1ull << 10;
			break;
		case 'm':
		case 'M':
			mul = 1ull << 20;
			break;
		case 'g':
		case 'G':
			mul = 1ull << 30;
			break;
		default:
			mul = 0;
			break;
		}
		if (mul && end[1] && !((end[1] == 'B' || end[1] == 'b') && !end[2]))
			mul = 0;
	}
	if (end == text || errno || mul == 0 || text[0] == '-' || v == 0 || v > UINT64_MAX / mul)
		return pw_error_set(err, PW_ERR_PARSE,
				    "%s: [%s] max_size = '%s' is not a size; write e.g. 500M or 2G",
				    from, section, text);
	*out = (uint64_t)v * mul;
	return PW_OK;
}

static pw_err read_settings(const pw_sync_options *o, struct settings *s, pw_error *err)
{
	const char *from;
	s->o = o;
	s->fetch.ca_file = get(o, "sync", "ca_file", &from);
	s->fetch.user_agent = get(o, "sync", "user_agent", &from);
	s->cache_dir = o->cache_dir ? o->cache_dir : get(o, "sync", "cache_dir", &from);
	pw_err rc = get_seconds(o, "connect_timeout", 15, &s->fetch.connect_timeout_ms, err);
	if (rc == PW_OK)
		rc = get_seconds(o, "timeout", 900, &s->fetch.timeout_ms, err);
	if (rc == PW_OK)
		rc = get_seconds(o, "stall_timeout", 60, &s->fetch.stall_timeout_ms, err);
	if (rc == PW_OK)
		rc = get_seconds(o, "retry_delay", 2, &s->fetch.retry_delay_ms, err);
	if (rc == PW_OK)
		rc = get_seconds(o, "retry_max_delay", 120, &s->fetch.retry_max_delay_ms, err);
	long retries = DEF_RETRIES;
	if (rc == PW_OK && o->shipped)
		rc = pw_config_get_int(o->shipped, "sync", "retries", retries, &retries, err);
	if (rc == PW_OK)
		rc = pw_config_get_int(o->config, "sync", "retries", retries, &retries, err);
	if (rc)
		return rc;
	if (retries < 0 || retries > 20)
		return pw_error_set(err, PW_ERR_PARSE, "[sync] retries = %ld: give 0 to 20",
				    retries);
	s->fetch.attempts = (unsigned)retries + 1;
	s->fetch.on_retry = o->on_retry;
	s->fetch.on_progress = o->on_progress;
	s->fetch.ctx = o->ctx;
	s->max_bytes = DEF_MAX_SIZE;
	const char *ms = get(o, "sync", "max_size", &from);
	if (ms)
		return parse_size(ms, from, "sync", &s->max_bytes, err);
	return PW_OK;
}

struct source {
	const char *name, *url;
	pw_feed_format hint;
	uint64_t max_bytes;
	bool selected;
	char *dir;    /* cache_dir/NAME */
	char *base;   /* file name from the URL */
	char *cached; /* the last good download, NULL when none */
	char *fresh;  /* this run's download, NULL when none or unchanged */
	pw_fetch_result res;
	pw_source_state state;
	bool state_found;
	pw_sync_report *report; /* NULL when not selected */
};

static void source_release(struct source *s)
{
	free(s->dir);
	free(s->base);
	free(s->cached);
	if (s->fresh)
		unlink(s->fresh);
	free(s->fresh);
}

static bool name_valid(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len >= sizeof((pw_source_state *)0)->name || n[0] == '.')
		return false;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

static pw_feed_format format_by_name(const char *n)
{
	for (int f = PW_FEED_UNKNOWN + 1; f < PW_FEED__COUNT; f++)
		if (strcmp(pw_feed_format_name((pw_feed_format)f), n) == 0)
			return (pw_feed_format)f;
	return PW_FEED_UNKNOWN;
}

static pw_err format_error(const char *from, const char *name, const char *value, pw_error *err)
{
	pw_buf names = PW_BUF_INIT;
	for (int f = PW_FEED_UNKNOWN + 1; f < PW_FEED__COUNT; f++)
		pw_buf_printf(&names, "%s%s", f > 1 ? ", " : "",
			      pw_feed_format_name((pw_feed_format)f));
	pw_error_set(err, PW_ERR_PARSE,
		     "%s: [source %s] format = '%s' is not a feed format; use one of %s", from,
		     name, value, pw_buf_str(&names));
	pw_buf_release(&names);
	return PW_ERR_PARSE;
}

/* The last path component of the URL without query or fragment, made
 * safe as a file name. */
static char *url_base(const char *url)
{
	const char *start = strstr(url, "://");
	start = start ? start + 3 : url;
	size_t end = strcspn(start, "?#");
	const char *b = start;
	for (size_t i = 0; i + 1 < end; i++)
		if (start[i] == '/')
			b = start + i + 1;
	size_t len = (size_t)(start + end - b);
	if (len && b[len - 1] == '/')
		len--;
	pw_buf out = PW_BUF_INIT;
	for (size_t i = 0; i < len && out.len < 120; i++) {
		char c = b[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
		if (pw_buf_putc(&out, ok ? c : '_'))
			break;
	}
	if (out.len == 0 || out.data[0] == '.' || b == start) {
		pw_buf_reset(&out);
		pw_buf_puts(&out, "download");
	}
	return pw_buf_detach(&out);
}

static bool selected(const pw_sync_options *o, const char *name)
{
	if (o->n_only == 0)
		return true;
	for (size_t i = 0; i < o->n_only; i++)
		if (strcmp(o->only[i], name) == 0)
			return true;
	return false;
}

static bool listed(const struct source *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return true;
	return false;
}

static pw_err add_source(const struct settings *st, const char *name, struct source *s,
			 bool *enabled, pw_error *err)
{
	const pw_sync_options *o = st->o;
	char section[128];
	const char *from;
	snprintf(section, sizeof section, "source %s", name);
	if (!name_valid(name))
		return pw_error_set(
			err, PW_ERR_PARSE,
			"[source %s]: a source name is 1 to 63 letters, digits, '-', '_' "
			"or '.' and does not start with '.'",
			name);
	bool en = true;
	pw_err rc = PW_OK;
	if (o->shipped)
		rc = pw_config_get_bool(o->shipped, section, "enabled", en, &en, err);
	if (rc == PW_OK)
		rc = pw_config_get_bool(o->config, section, "enabled", en, &en, err);
	if (rc)
		return rc;
	*enabled = en;
	s->name = name;
	s->url = get(o, section, "url", &from);
	if (!s->url || !*s->url)
		return pw_error_set(err, PW_ERR_PARSE,
				    "%s: [source %s] has no url =; add the feed's URL", from, name);
	if (strlen(s->url) >= sizeof s->state.url)
		return pw_error_set(err, PW_ERR_PARSE,
				    "%s: [source %s] url is longer than %zu bytes", from, name,
				    sizeof s->state.url - 1);
	const char *fmt = get(o, section, "format", &from);
	if (fmt && *fmt) {
		s->hint = format_by_name(fmt);
		if (s->hint == PW_FEED_UNKNOWN)
			return format_error(from, name, fmt, err);
	}
	s->max_bytes = st->max_bytes;
	const char *ms = get(o, section, "max_size", &from);
	if (ms)
		return parse_size(ms, from, section, &s->max_bytes, err);
	return PW_OK;
}

static pw_err collect_sources(const struct settings *st, struct source **out, size_t *n,
			      pw_error *err)
{
	const pw_sync_options *o = st->o;
	const pw_config *cfgs[2] = {o->shipped, o->config};
	size_t total = 0;
	for (int c = 0; c < 2; c++)
		if (cfgs[c])
			total += pw_config_count_sections(cfgs[c], "source");
	struct source *v = calloc(total ? total : 1, sizeof *v);
	if (!v)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	size_t k = 0;
	pw_err rc = PW_OK;
	for (int c = 0; c < 2 && rc == PW_OK; c++) {
		size_t count = cfgs[c] ? pw_config_count_sections(cfgs[c], "source") : 0;
		for (size_t i = 0; i < count && rc == PW_OK; i++) {
			const char *name = pw_config_section_name(cfgs[c], "source", i);
			if (listed(v, k, name))
				continue;
			bool enabled = true;
			memset(&v[k], 0, sizeof v[k]);
			rc = add_source(st, name, &v[k], &enabled, err);
			if (rc == PW_OK && !enabled && o->n_only && selected(o, name))
				rc = pw_error_set(
					err, PW_ERR_INVALID,
					"source %s is disabled (enabled = no); set enabled = yes "
					"in [source %s] of %s first",
					name, name,
					o->config_path ? o->config_path : "the configuration");
			if (rc == PW_OK && enabled) {
				v[k].selected = selected(o, name);
				k++;
			}
		}
	}
	for (size_t i = 0; i < o->n_only && rc == PW_OK; i++) {
		if (listed(v, k, o->only[i]))
			continue;
		pw_buf names = PW_BUF_INIT;
		for (size_t j = 0; j < k; j++)
			pw_buf_printf(&names, "%s%s", j ? ", " : "", v[j].name);
		rc = pw_error_set(err, PW_ERR_NOTFOUND,
				  "no enabled source named '%s' in the configuration (enabled: %s)",
				  o->only[i], k ? pw_buf_str(&names) : "none");
		pw_buf_release(&names);
	}
	if (rc == PW_OK && k == 0)
		rc = pw_error_set(
			err, PW_ERR_NOTFOUND,
			"no enabled feed source: add [source NAME] sections with url = ... to %s",
			o->config_path ? o->config_path : "the configuration");
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n = k;
	return PW_OK;
}

/* ---- the cache ---- */

static pw_err mkdirs(const char *path, pw_error *err)
{
	pw_buf p = PW_BUF_INIT;
	pw_err rc = pw_buf_puts(&p, path) ? pw_error_set(err, PW_ERR_NOMEM, "out of memory")
					  : PW_OK;
	for (size_t i = 1; rc == PW_OK && i <= p.len; i++) {
		if (p.data[i] != '/' && p.data[i] != '\0')
			continue;
		char c = p.data[i];
		p.data[i] = '\0';
		if (mkdir(p.data, 0755) != 0 && errno != EEXIST)
			rc = pw_error_set(err, PW_ERR_IO, "%s: cannot create the directory: %s",
					  p.data, strerror(errno));
		p.data[i] = c;
	}
	pw_buf_release(&p);
	return rc;
}

static char *join(const char *a, const char *b)
{
	pw_buf p = PW_BUF_INIT;
	if (pw_buf_printf(&p, "%s/%s", a, b)) {
		pw_buf_release(&p);
		return NULL;
	}
	return pw_buf_detach(&p);
}

/* The cached copy: the visible regular file in the source's directory,
 * preferring the one named after the current URL. */
static pw_err find_cached(struct source *s, pw_error *err)
{
	DIR *d = opendir(s->dir);
	if (!d)
		return PW_OK;
	struct dirent *de;
	char *pick = NULL;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *p = join(s->dir, de->d_name);
		struct stat st;
		if (!p) {
			closedir(d);
			free(pick);
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
		if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode) ||
		    (pick && strcmp(de->d_name, s->base) != 0)) {
			free(p);
			continue;
		}
		free(pick);
		pick = p;
	}
	closedir(d);
	s->cached = pick;
	return PW_OK;
}

/* Removes every visible file of the source's directory except `keep`. */
static void prune_cache(const struct source *s, const char *keep)
{
	DIR *d = opendir(s->dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, keep) == 0)
			continue;
		char *p = join(s->dir, de->d_name);
		struct stat st;
		if (p && lstat(p, &st) == 0 && S_ISREG(st.st_mode))
			unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
}

static bool same_content(const char *a, const char *b)
{
	struct stat sa, sb;
	if (stat(a, &sa) != 0 || stat(b, &sb) != 0 || sa.st_size != sb.st_size)
		return false;
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	char *ba = malloc(65536), *bb = malloc(65536);
	bool same = fa && fb && ba && bb;
	while (same) {
		size_t na = fread(ba, 1, 65536, fa);
		size_t nb = fread(bb, 1, 65536, fb);
		if (na != nb || memcmp(ba, bb, na) != 0)
			same = false;
		if (na == 0)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	free(ba);
	free(bb);
	return same;
}

static pw_err lock_cache(const char *dir, int *fd, pw_error *err)
{
	char *p = join(dir, ".lock");
	if (!p)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	pw_err rc = PW_OK;
	if (*fd < 0)
		rc = pw_error_set(err, PW_ERR_IO, "%s: cannot open: %s", p, strerror(errno));
	else if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
		rc = pw_error_set(
			err, PW_ERR_IO,
			"%s: another feed sync is using this cache; wait for it to finish", dir);
	free(p);
	return rc;
}

/* ---- one run ---- */

static void set_report(struct source *s, pw_sync_status status, const char *error)
{
	pw_sync_report *r = s->report;
	r->status = status;
	r->http_status = s->res.status;
	r->bytes = s->res.bytes;
	r->attempts = s->res.attempts;
	r->seconds = s->res.seconds;
	r->kept_previous = status == PW_SYNC_FAILED && s->cached;
	snprintf(r->error, sizeof r->error, "%s", error ? error : "");
}

static pw_err fetch_one(const struct settings *st, struct source *s, pw_error *err)
{
	pw_fetch_opts fo = st->fetch;
	fo.max_bytes = s->max_bytes;
	pw_buf dest = PW_BUF_INIT;
	if (pw_buf_printf(&dest, "%s/.%s.new", s->dir, s->base))
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	/* Validators are only worth sending when the body they stand for is
	 * still here to be imported again. */
	bool cond = s->cached && s->state_found && strcmp(s->state.url, s->url) == 0;
	if (st->o->on_fetch)
		st->o->on_fetch(st->o->ctx, s->name, s->url);
	pw_error fe = PW_ERROR_INIT;
	pw_err rc = pw_fetch(s->url, dest.data, cond ? s->state.etag : NULL,
			     cond ? s->state.last_modified : NULL, &fo, &s->res, &fe);
	if (rc == PW_ERR_NOMEM) {
		pw_buf_release(&dest);
		return pw_error_set(err, rc, "%s", fe.msg);
	}
	if (rc) {
		set_report(s, PW_SYNC_FAILED, pw_error_text(&fe));
	} else if (s->res.not_modified || (s->cached && same_content(dest.data, s->cached))) {
		if (!s->res.not_modified)
			unlink(dest.data);
		set_report(s, PW_SYNC_UNCHANGED, NULL);
	} else {
		s->fresh = pw_buf_detach(&dest);
		set_report(s, PW_SYNC_DOWNLOADED, NULL);
	}
	pw_buf_release(&dest);
	if (st->o->on_source)
		st->o->on_source(st->o->ctx, s->report);
	return PW_OK;
}

static void build_label(const struct source *v, size_t n, char *out, size_t cap)
{
	pw_buf b = PW_BUF_INIT;
	pw_buf_puts(&b, "sync");
	for (size_t i = 0; i < n; i++)
		if (v[i].fresh)
			pw_buf_printf(&b, " %s", v[i].name);
	if (b.len >= cap && cap > 4)
		memcpy(b.data + cap - 4, "...", 4);
	snprintf(out, cap, "%s", pw_buf_str(&b));
	pw_buf_release(&b);
}

struct import_failure {
	size_t index;
	bool fresh;
	pw_error e;
};

/* One import over every source's current file. PW_OK with *failed set
 * when one file could not be imported (the import was rolled back). */
static pw_err import_once(pw_feedstore *store, const struct settings *st, struct source *v,
			  size_t n, pw_sync_summary *sum, bool *failed, struct import_failure *f,
			  pw_error *err)
{
	char label[160];
	build_label(v, n, label, sizeof label);
	pw_feed_import *imp = NULL;
	pw_err rc = pw_feed_import_begin(store, label, &imp, err);
	if (rc)
		return rc;
	pw_feed_import_set_callbacks(imp, st->o->warn, st->o->import_progress, st->o->ctx);
	bool complete = true;
	for (size_t i = 0; i < n; i++)
		complete = complete && (v[i].fresh || v[i].cached);
	pw_feed_import_replace_source(imp, complete);
	*failed = false;
	for (size_t i = 0; i < n; i++) {
		const char *file = v[i].fresh ? v[i].fresh : v[i].cached;
		if (!file)
			continue;
		char name[256];
		snprintf(name, sizeof name, "%s/%s", v[i].name, v[i].base);
		f->e = (pw_error)PW_ERROR_INIT;
		if (pw_sync_import_file(imp, file, name, v[i].hint, &f->e) != PW_OK) {
			pw_feed_import_abort(imp);
			if (f->e.code == PW_ERR_NOMEM || f->e.code == PW_ERR_STORE ||
			    f->e.code == PW_ERR_UNAVAILABLE)
				return pw_error_set(err, f->e.code, "%s", f->e.msg);
			*failed = true;
			f->index = i;
			f->fresh = v[i].fresh != NULL;
			return PW_OK;
		}
	}
	rc = pw_feed_import_commit(imp, &sum->snapshot, &sum->stats, err);
	sum->replaced = complete && !sum->stats.skipped;
	return rc;
}

static bool any_fresh(const struct source *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].fresh)
			return true;
	return false;
}

static pw_err import_all(pw_feedstore *store, const struct settings *st, struct source *v, size_t n,
			 pw_sync_summary *sum, pw_error *err)
{
	/* A file that cannot be imported is left out and the import redone,
	 * so one broken feed never blocks the others. Each round drops one
	 * file, so this ends. */
	while (any_fresh(v, n)) {
		bool failed;
		struct import_failure f;
		pw_err rc = import_once(store, st, v, n, sum, &failed, &f, err);
		if (rc || !failed)
			return rc;
		struct source *s = &v[f.index];
		if (f.fresh) {
			unlink(s->fresh);
			free(s->fresh);
			s->fresh = NULL;
			char msg[PW_ERROR_MSG_MAX];
			snprintf(msg, sizeof msg, "downloaded data cannot be imported: %s",
				 pw_error_text(&f.e));
			set_report(s, PW_SYNC_FAILED, msg);
		} else {
			free(s->cached);
			s->cached = NULL;
			if (s->report)
				s->report->kept_previous = false;
			if (st->o->warn)
				st->o->warn(st->o->ctx, s->name,
					    "the cached copy of the last download cannot be "
					    "imported and is left out");
		}
	}
	return PW_OK;
}

/* Moves this run's downloads into place and records every selected
 * source's state. Runs after the commit: a crash before it only costs
 * one more full download. */
static void record(pw_feedstore *store, const struct settings *st, struct source *v, size_t n,
		   int64_t snapshot)
{
	char now[32];
	pw_ts_seconds_now(now);
	for (size_t i = 0; i < n; i++) {
		struct source *s = &v[i];
		if (!s->report)
			continue;
		pw_source_state ns = s->state;
		if (!s->state_found) {
			memset(&ns, 0, sizeof ns);
			snprintf(ns.name, sizeof ns.name, "%s", s->name);
		}
		snprintf(ns.last_fetch, sizeof ns.last_fetch, "%s", now);
		pw_sync_report *r = s->report;
		bool validators = false;
		if (r->status == PW_SYNC_DOWNLOADED && s->fresh) {
			char *final = join(s->dir, s->base);
			if (final && rename(s->fresh, final) == 0) {
				free(s->fresh);
				s->fresh = NULL;
				prune_cache(s, s->base);
				validators = true;
				ns.last_snapshot = snapshot;
				snprintf(ns.last_status, sizeof ns.last_status,
					 "200 imported, %llu bytes", (unsigned long long)r->bytes);
			} else {
				snprintf(ns.last_status, sizeof ns.last_status,
					 "error: imported, but the cache file %s cannot be "
					 "written: %s",
					 final ? final : s->dir, strerror(errno));
			}
			free(final);
		} else if (r->status == PW_SYNC_UNCHANGED) {
			validators = true;
			snprintf(ns.last_status, sizeof ns.last_status, "%ld %s", r->http_status,
				 r->http_status == 304 ? "not modified" : "unchanged content");
		} else {
			snprintf(ns.last_status, sizeof ns.last_status, "error: %.*s",
				 (int)sizeof ns.last_status - 8, r->error);
		}
		if (validators) {
			snprintf(ns.url, sizeof ns.url, "%s", s->url);
			snprintf(ns.etag, sizeof ns.etag, "%s", s->res.etag);
			snprintf(ns.last_modified, sizeof ns.last_modified, "%s",
				 s->res.last_modified);
		} else if (!s->state_found) {
			snprintf(ns.url, sizeof ns.url, "%s", s->url);
		}
		pw_error e = PW_ERROR_INIT;
		if (pw_feedstore_source_put(store, &ns, &e) != PW_OK && st->o->warn)
			st->o->warn(st->o->ctx, s->name, pw_error_text(&e));
	}
}

static pw_err prepare(pw_feedstore *store, const struct settings *st, struct source *v, size_t n,
		      pw_sync_summary *sum, pw_error *err)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += v[i].selected;
	sum->sources = calloc(k ? k : 1, sizeof *sum->sources);
	if (!sum->sources)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct source *s = &v[i];
		s->dir = join(st->cache_dir, s->name);
		s->base = url_base(s->url);
		if (!s->dir || !s->base)
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		pw_err rc = find_cached(s, err);
		if (rc == PW_OK)
			rc = pw_feedstore_source_get(store, s->name, &s->state, &s->state_found,
						     err);
		if (rc == PW_OK && s->selected)
			rc = mkdirs(s->dir, err);
		if (rc)
			return rc;
		if (s->selected) {
			s->report = &sum->sources[sum->n_sources++];
			snprintf(s->report->name, sizeof s->report->name, "%s", s->name);
			snprintf(s->report->url, sizeof s->report->url, "%s", s->url);
		}
	}
	return PW_OK;
}

pw_err pw_feed_sync(pw_feedstore *store, const pw_sync_options *opts, pw_sync_summary *out,
		    pw_error *err)
{
	*out = (pw_sync_summary)PW_SYNC_SUMMARY_INIT;
	struct settings st;
	memset(&st, 0, sizeof st);
	pw_err rc = read_settings(opts, &st, err);
	if (rc)
		return rc;
	if (!st.cache_dir || !*st.cache_dir)
		return pw_error_set(err, PW_ERR_INVALID,
				    "no cache directory: set [sync] cache_dir or pass one");
	struct source *v = NULL;
	size_t n = 0;
	int lock = -1;
	rc = collect_sources(&st, &v, &n, err);
	if (rc)
		return rc;
	rc = mkdirs(st.cache_dir, err);
	if (rc == PW_OK)
		rc = lock_cache(st.cache_dir, &lock, err);
	if (rc == PW_OK)
		rc = prepare(store, &st, v, n, out, err);
	for (size_t i = 0; i < n && rc == PW_OK; i++)
		if (v[i].selected)
			rc = fetch_one(&st, &v[i], err);
	if (rc == PW_OK)
		rc = import_all(store, &st, v, n, out, err);
	if (rc == PW_OK) {
		record(store, &st, v, n, out->snapshot);
		for (size_t i = 0; i < out->n_sources; i++) {
			pw_sync_status s = out->sources[i].status;
			out->downloaded += s == PW_SYNC_DOWNLOADED;
			out->unchanged += s == PW_SYNC_UNCHANGED;
			out->failed += s == PW_SYNC_FAILED;
		}
	} else {
		pw_sync_summary_release(out);
	}
	for (size_t i = 0; i < n; i++)
		source_release(&v[i]);
	free(v);
	if (lock >= 0)
		close(lock);
	return rc;
}
