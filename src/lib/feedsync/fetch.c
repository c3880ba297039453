#include "patchwarden/fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "patchwarden/buf.h"

#define DEF_CONNECT_TIMEOUT_MS 15000L
#define DEF_TIMEOUT_MS 900000L
#define DEF_STALL_TIMEOUT_MS 60000L
#define DEF_MAX_BYTES ((uint64_t)1 << 30)
#define DEF_ATTEMPTS 4u
#define DEF_RETRY_DELAY_MS 2000L
#define DEF_RETRY_MAX_DELAY_MS 120000L

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

long pw_fetch_backoff_ms(unsigned retry, long base_ms, long max_ms)
{
	if (base_ms < 1)
		base_ms = 1;
	if (max_ms < base_ms)
		max_ms = base_ms;
	long d = base_ms;
	for (unsigned i = 1; i < retry && d < max_ms; i++)
		d = d > max_ms / 2 ? max_ms : d * 2;
	if (d > max_ms)
		d = max_ms;
	long half = d / 2;
	return d - half +
	       (half > 0 ? (long)randombytes_uniform(
				   (uint32_t)(half > INT32_MAX ? INT32_MAX : half) + 1)
			 : 0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Header values go back into request headers on the next run, so only
 * plain printable ASCII is kept. */
static bool header_safe(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

struct body {
	CURL *h;
	const pw_fetch_opts *o; /* for progress */
	const char *url;
	FILE *f;
	uint64_t bytes, max;
	bool too_large;
	int write_errno; /* non-zero: writing the temporary file failed */
};

static size_t on_body(char *ptr, size_t size, size_t n, void *ud)
{
	struct body *b = ud;
	size_t len = size * n;
	long status = 0;
	curl_easy_getinfo(b->h, CURLINFO_RESPONSE_CODE, &status);
	/* Error pages and 304s are not feed data. */
	if (status != 200)
		return len;
	if (b->max && (uint64_t)len > b->max - b->bytes) {
		b->too_large = true;
		return 0;
	}
	if (len && fwrite(ptr, 1, len, b->f) != len) {
		b->write_errno = errno ? errno : EIO;
		return 0;
	}
	b->bytes += len;
	return len;
}

static int on_xfer(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		   curl_off_t ulnow)
{
	(void)ultotal;
	(void)ulnow;
	const struct body *b = ud;
	long status = 0;
	curl_easy_getinfo(b->h, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200)
		b->o->on_progress(b->o->ctx, b->url, (uint64_t)(dlnow > 0 ? dlnow : 0),
				  (uint64_t)(dltotal > 0 ? dltotal : 0));
	return 0;
}

static void copy_header(CURL *h, const char *name, char *dst, size_t cap)
{
	struct curl_header *hv = NULL;
	if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hv) != CURLHE_OK || !hv)
		return;
	if (header_safe(hv->value) && strlen(hv->value) < cap)
		memcpy(dst, hv->value, strlen(hv->value) + 1);
}

static bool retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_BAD_CONTENT_ENCODING:
		return true;
	default:
		return false;
	}
}

static bool retryable_status(long status)
{
	return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

static const char *curl_reason(CURLcode rc, const char *errbuf)
{
	return errbuf[0] ? errbuf : curl_easy_strerror(rc);
}

/* Opens a hidden temporary file beside `dest`, so the final rename
 * stays within one file system. */
static pw_err open_temp(const char *dest, pw_buf *tmp, FILE **f, pw_error *err)
{
	const char *slash = strrchr(dest, '/');
	int dirlen = slash ? (int)(slash - dest + 1) : 0;
	const char *base = slash ? slash + 1 : dest;
	if (!*base)
		return pw_error_set(err, PW_ERR_INVALID, "%s: not a file name", dest);
	if (pw_buf_printf(tmp, "%.*s.%s.part.XXXXXX", dirlen, dest, base))
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	int fd = mkstemp(tmp->data);
	if (fd < 0)
		return pw_error_set(err, PW_ERR_IO, "%s: cannot create a temporary file: %s",
				    tmp->data, strerror(errno));
	fchmod(fd, 0644);
	*f = fdopen(fd, "w+b");
	if (!*f) {
		int e = errno;
		close(fd);
		unlink(tmp->data);
		return pw_error_set(err, PW_ERR_IO, "%s: %s", tmp->data, strerror(e));
	}
	return PW_OK;
}

static pw_err check_scheme(const char *url, bool *https, pw_error *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	pw_err rc = PW_OK;
	if (!u)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		rc = pw_error_set(err, PW_ERR_INVALID, "%s: not a valid URL", url);
	} else if (strcmp(scheme, "https") == 0) {
		*https = true;
	} else if (strcmp(scheme, "http") == 0) {
		*https = false;
	} else {
		rc = pw_error_set(err, PW_ERR_INVALID,
				  "%s: only http and https URLs can be fetched (scheme '%s')", url,
				  scheme);
	}
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

struct request {
	const char *url;
	const pw_fetch_opts *o;
	unsigned attempts;
	long retry_delay_ms, retry_max_delay_ms;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
};

static pw_err setup(CURL *h, struct request *rq, struct body *b, bool https, pw_error *err)
{
	const pw_fetch_opts *o = rq->o;
	long connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms
						    : DEF_CONNECT_TIMEOUT_MS;
	long total_ms = o->timeout_ms > 0 ? o->timeout_ms : DEF_TIMEOUT_MS;
	long stall_ms = o->stall_timeout_ms > 0 ? o->stall_timeout_ms : DEF_STALL_TIMEOUT_MS;
	CURLcode c = CURLE_OK;
#define SET(opt, val)                                                                              \
	if (c == CURLE_OK)                                                                         \
	c = curl_easy_setopt(h, opt, val)
	SET(CURLOPT_URL, rq->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	/* Never from https down to http, never to file:, ftp:, ... */
	SET(CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, 10L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	SET(CURLOPT_TIMEOUT_MS, total_ms);
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, stall_ms < 1000 ? 1L : stall_ms / 1000);
	/* Refuses early on a Content-Length; on_body enforces it anyway. */
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(b->max > (uint64_t)INT64_MAX ? 0 : b->max));
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_USERAGENT, o->user_agent ? o->user_agent : "patchwarden/" PW_VERSION);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, b);
	SET(CURLOPT_ERRORBUFFER, rq->errbuf);
	SET(CURLOPT_HTTPHEADER, rq->headers);
	if (o->ca_file)
		SET(CURLOPT_CAINFO, o->ca_file);
	if (o->on_progress) {
		SET(CURLOPT_XFERINFOFUNCTION, on_xfer);
		SET(CURLOPT_XFERINFODATA, b);
		SET(CURLOPT_NOPROGRESS, 0L);
	}
#undef SET
	if (c != CURLE_OK)
		return pw_error_set(err, PW_ERR_EXTERNAL, "%s: libcurl refused an option: %s",
				    rq->url, curl_easy_strerror(c));
	return PW_OK;
}

static pw_err add_conditions(struct request *rq, const char *etag, const char *last_modified,
			     pw_error *err)
{
	pw_buf line = PW_BUF_INIT;
	pw_err rc = PW_OK;
	const char *names[2] = {"If-None-Match", "If-Modified-Since"};
	const char *values[2] = {etag, last_modified};
	for (int i = 0; i < 2 && rc == PW_OK; i++) {
		if (!header_safe(values[i]))
			continue;
		pw_buf_reset(&line);
		struct curl_slist *n = NULL;
		if (pw_buf_printf(&line, "%s: %s", names[i], values[i]) == PW_OK)
			n = curl_slist_append(rq->headers, line.data);
		if (!n)
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		else
			rq->headers = n;
	}
	pw_buf_release(&line);
	return rc;
}

enum outcome { DONE, RETRY, FAIL };

/* Classifies one finished attempt; for RETRY and FAIL `reason` says
 * why, for FAIL *code is the error to report. */
static enum outcome classify(CURL *h, CURLcode rc, const struct body *b, struct request *rq,
			     pw_buf *reason, pw_err *code)
{
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	*code = PW_ERR_NETWORK;
	if (b->write_errno) {
		*code = PW_ERR_IO;
		pw_buf_printf(reason, "cannot write the download: %s", strerror(b->write_errno));
		return FAIL;
	}
	if (b->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		*code = PW_ERR_TOOLARGE;
		pw_buf_printf(
			reason,
			"the response is larger than the limit of %llu bytes; raise max_size if "
			"the feed really grew",
			(unsigned long long)b->max);
		return FAIL;
	}
	switch (rc) {
	case CURLE_OK:
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		pw_buf_printf(reason,
			      "refused a redirect to a URL that is not http(s) or that leaves "
			      "https (%s)",
			      curl_reason(rc, rq->errbuf));
		return FAIL;
	case CURLE_TOO_MANY_REDIRECTS:
		pw_buf_printf(reason, "too many redirects (%s)", curl_reason(rc, rq->errbuf));
		return FAIL;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		pw_buf_printf(reason, "TLS verification failed: %s; check ca_file",
			      curl_reason(rc, rq->errbuf));
		return FAIL;
	case CURLE_PARTIAL_FILE:
		pw_buf_printf(reason, "truncated transfer: %s", curl_reason(rc, rq->errbuf));
		return RETRY;
	default:
		pw_buf_printf(reason, "%s", curl_reason(rc, rq->errbuf));
		return retryable_curl(rc) ? RETRY : FAIL;
	}
	if (status == 200 || status == 304)
		return DONE;
	pw_buf_printf(reason, "HTTP %ld", status);
	if (retryable_status(status))
		return RETRY;
	if (status == 404 || status == 410)
		pw_buf_puts(reason, " (check the URL)");
	else if (status == 401 || status == 403)
		pw_buf_puts(reason, " (access refused by the server)");
	return FAIL;
}

/* Delay before the next attempt, honouring Retry-After; -1 when the
 * server asks for longer than we are willing to wait. */
static long next_delay(CURL *h, const struct request *rq, unsigned retry, long *retry_after_s)
{
	long d = pw_fetch_backoff_ms(retry, rq->retry_delay_ms, rq->retry_max_delay_ms);
	curl_off_t ra = 0;
	*retry_after_s = 0;
	if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0) {
		*retry_after_s = (long)(ra > 86400 * 365 ? 86400 * 365 : ra);
		if ((curl_off_t)rq->retry_max_delay_ms < ra * 1000)
			return -1;
		if (d < (long)ra * 1000)
			d = (long)ra * 1000;
	}
	return d;
}

static pw_err finish_file(FILE *f, const char *tmp, const char *dest, pw_error *err)
{
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		return pw_error_set(err, PW_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
	if (rename(tmp, dest) != 0)
		return pw_error_set(err, PW_ERR_IO, "%s: cannot rename to %s: %s", tmp, dest,
				    strerror(errno));
	return PW_OK;
}

static pw_err perform(CURL *h, struct request *rq, struct body *b, const char *tmp,
		      const char *dest, pw_fetch_result *out, pw_error *err)
{
	pw_buf reason = PW_BUF_INIT;
	pw_err rc = PW_OK;
	for (unsigned attempt = 1;; attempt++) {
		out->attempts = attempt;
		rewind(b->f);
		if (ftruncate(fileno(b->f), 0) != 0) {
			rc = pw_error_set(err, PW_ERR_IO, "%s: %s", tmp, strerror(errno));
			break;
		}
		b->bytes = 0;
		rq->errbuf[0] = '\0';
		pw_buf_reset(&reason);
		CURLcode c = curl_easy_perform(h);
		pw_err code;
		enum outcome oc = classify(h, c, b, rq, &reason, &code);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
		if (oc == DONE) {
			copy_header(h, "ETag", out->etag, sizeof out->etag);
			copy_header(h, "Last-Modified", out->last_modified,
				    sizeof out->last_modified);
			out->not_modified = out->status == 304;
			out->bytes = out->not_modified ? 0 : b->bytes;
			if (!out->not_modified)
				rc = finish_file(b->f, tmp, dest, err);
			break;
		}
		if (oc == FAIL) {
			rc = pw_error_set(err, code, "%s: %s", rq->url, pw_buf_str(&reason));
			break;
		}
		if (attempt >= rq->attempts) {
			rc = pw_error_set(err, PW_ERR_NETWORK,
					  "%s: %s (gave up after %u attempt%s)", rq->url,
					  pw_buf_str(&reason), attempt, attempt == 1 ? "" : "s");
			break;
		}
		long retry_after_s;
		long delay = next_delay(h, rq, attempt, &retry_after_s);
		if (delay < 0) {
			rc = pw_error_set(
				err, PW_ERR_NETWORK,
				"%s: %s and the server asks to wait %ld s before retrying, more "
				"than retry_max_delay allows; run feed sync again later",
				rq->url, pw_buf_str(&reason), retry_after_s);
			break;
		}
		if (rq->o->on_retry)
			rq->o->on_retry(rq->o->ctx, rq->url, attempt + 1, rq->attempts, delay,
					pw_buf_str(&reason));
		sleep_ms(delay);
	}
	pw_buf_release(&reason);
	return rc;
}

pw_err pw_fetch(const char *url, const char *dest, const char *etag, const char *last_modified,
		const pw_fetch_opts *opts, pw_fetch_result *out, pw_error *err)
{
	static const pw_fetch_opts defaults = PW_FETCH_OPTS_INIT;
	const pw_fetch_opts *o = opts ? opts : &defaults;
	memset(out, 0, sizeof *out);
	double t0 = now_s();
	bool https = false;
	pw_err rc = check_scheme(url, &https, err);
	if (rc)
		return rc;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return pw_error_set(err, PW_ERR_EXTERNAL, "libcurl cannot start: %s",
				    curl_easy_strerror(curl_init_rc));

	struct request rq = {
		.url = url,
		.o = o,
		.attempts = o->attempts ? o->attempts : DEF_ATTEMPTS,
		.retry_delay_ms = o->retry_delay_ms > 0 ? o->retry_delay_ms : DEF_RETRY_DELAY_MS,
		.retry_max_delay_ms = o->retry_max_delay_ms > 0 ? o->retry_max_delay_ms
								: DEF_RETRY_MAX_DELAY_MS,
	};
	struct body b = {.o = o, .url = url, .max = o->max_bytes ? o->max_bytes : DEF_MAX_BYTES};
	pw_buf tmp = PW_BUF_INIT;
	rc = add_conditions(&rq, etag, last_modified, err);
	if (rc == PW_OK)
		rc = open_temp(dest, &tmp, &b.f, err);
	if (rc == PW_OK) {
		b.h = curl_easy_init();
		if (!b.h)
			rc = pw_error_set(err, PW_ERR_NOMEM, "libcurl: out of memory");
	}
	if (rc == PW_OK)
		rc = setup(b.h, &rq, &b, https, err);
	if (rc == PW_OK)
		rc = perform(b.h, &rq, &b, tmp.data, dest, out, err);
	if (out->not_modified) {
		/* A 304 may omit the validators; the ones we sent still hold. */
		if (!out->etag[0] && header_safe(etag) && strlen(etag) < sizeof out->etag)
			memcpy(out->etag, etag, strlen(etag) + 1);
		if (!out->last_modified[0] && header_safe(last_modified) &&
		    strlen(last_modified) < sizeof out->last_modified)
			memcpy(out->last_modified, last_modified, strlen(last_modified) + 1);
	}
	if (b.f) {
		fclose(b.f);
		if (rc != PW_OK || out->not_modified)
			unlink(tmp.data);
	}
	if (b.h)
		curl_easy_cleanup(b.h);
	curl_slist_free_all(rq.headers);
	pw_buf_release(&tmp);
	out->seconds = now_s() - t0;
	return rc;
}
