#include "patchwarden/agent.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "patchwarden/buf.h"
#include "patchwarden/clock.h"
#include "patchwarden/execjob.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/fileio.h"
#include "patchwarden/grow.h"
#include "patchwarden/gzip.h"
#include "patchwarden/inventory.h"
#include "patchwarden/jobkind.h"
#include "patchwarden/jsonout.h"
#include "patchwarden/matcher.h"
#include "patchwarden/policy.h"
#include "patchwarden/scan.h"
#include "patchwarden/spool.h"

/* A reply larger than this is refused: jobs and acks are small. */
#define REPLY_MAX (4u * 1024 * 1024)
/* Results per check-in and the body size after which no more are added
 * (the server takes at most 1000 results and 8 MiB). */
#define RESULTS_PER_CHECKIN 200
#define RESULTS_BODY_SOFT_MAX (4u * 1024 * 1024)
#define STATE_FILE_MAX 65536

struct pw_agent_client {
	char *state_dir;
	char *server; /* without a trailing slash */
	char *ca_file;
	char *root;
	char *feed_store;
	bool insecure;
	long timeout;
	char *agent_id;
	char *credential;
	/* state */
	char acked_hash[65];
	char acked_runtime[65]; /* hash of the runtime facts the server last took */
	bool need_inventory;
	long interval;
	char last_checkin[32];
	/* The server's last 413 to an inventory (refused_hash "" when none):
	 * what the check-ins report, kept in the state file. */
	char refused_hash[65];
	char refused_at[32];
	int64_t refused_time, refused_size, refused_sent;
	bool refused_gzip;
	/* Jobs leased to this agent whose results could not be spooled: given
	 * back with the next request (in memory: the disk may be full). */
	int64_t *release;
	size_t n_release, cap_release;
	bool plain_only; /* the server did not take a gzip body */
	pw_spool spool;
	CURL *curl;
	/* Executor jobs go through this one hook (execjob.h); by default
	 * pw_executor_run in this process with exec_conf. */
	pw_exec_fn exec_fn;
	void *exec_ctx;
	pw_executor_conf exec_conf;
	char *health_check, *backup_check;
};

/* ---- small helpers ------------------------------------------------------ */

static pw_err nomem(pw_error *err)
{
	return pw_error_set(err, PW_ERR_NOMEM, "agent: out of memory");
}

static pw_err dup_opt(char **dst, const char *src, pw_error *err)
{
	free(*dst);
	*dst = NULL;
	if (src && !(*dst = strdup(src)))
		return nomem(err);
	return PW_OK;
}

static pw_err state_path(const char *dir, const char *name, pw_buf *out, pw_error *err)
{
	pw_buf_reset(out);
	return pw_buf_printf(out, "%s/%s", dir, name) ? nomem(err) : PW_OK;
}

static pw_err ensure_dir(const char *dir, pw_error *err)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return pw_error_set(err, PW_ERR_IO,
				    "%s: cannot create the agent's state directory: %s", dir,
				    strerror(errno));
	return PW_OK;
}

/* Reads a JSON object file; PW_ERR_NOTFOUND passes through. */
static pw_err read_json(const char *path, cJSON **out, pw_error *err)
{
	pw_buf b = PW_BUF_INIT;
	pw_err rc = pw_read_file(path, &b, STATE_FILE_MAX, err);
	if (!rc) {
		*out = cJSON_ParseWithLength(pw_buf_str(&b), b.len);
		if (!cJSON_IsObject(*out)) {
			cJSON_Delete(*out);
			*out = NULL;
			rc = pw_error_set(err, PW_ERR_PARSE,
					  "%s: not a JSON object; remove it (for the credential: "
					  "enroll again)",
					  path);
		}
	}
	pw_buf_release(&b);
	return rc;
}

static pw_err write_json(const char *path, const cJSON *o, pw_error *err)
{
	char *text = cJSON_PrintUnformatted(o);
	if (!text)
		return nomem(err);
	pw_err rc = pw_write_file_atomic(path, text, strlen(text), 0600, err);
	cJSON_free(text);
	return rc;
}

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- URLs ------------------------------------------------------------- */

static bool is_loopback(const char *host, size_t len)
{
	if ((len == 9 && !strncmp(host, "localhost", 9)) ||
	    (len == 5 && !strncmp(host, "[::1]", 5)))
		return true;
	if (len < 4 || strncmp(host, "127.", 4))
		return false;
	for (size_t i = 4; i < len; i++)
		if (host[i] != '.' && (host[i] < '0' || host[i] > '9'))
			return false;
	return true;
}

pw_err pw_agent_check_url(const char *url, bool insecure, pw_error *err)
{
	bool https = !strncmp(url, "https://", 8);
	bool http = !strncmp(url, "http://", 7);
	const char *host = https ? url + 8 : http ? url + 7 : "";
	size_t len = strcspn(host, ":/?#");
	if (*host == '[')
		len = strcspn(host, "]") + 1;
	if (!len || len > strlen(host))
		return pw_error_set(err, PW_ERR_INVALID,
				    "server URL '%s': expected https://HOST[:PORT]", url);
	if (https && insecure)
		return pw_error_set(
			err, PW_ERR_INVALID,
			"--insecure is only for plain http:// to a loopback test "
			"server; an https server's certificate is always verified (give "
			"its CA with --ca FILE)");
	if (http && !insecure)
		return pw_error_set(
			err, PW_ERR_INVALID,
			"server URL '%s': plain http sends the credential unprotected; "
			"use https (a loopback test server may use http with --insecure)",
			url);
	if (http && !is_loopback(host, len))
		return pw_error_set(err, PW_ERR_INVALID,
				    "server URL '%s': --insecure (plain http) is allowed for a "
				    "loopback address only; use https with --ca FILE",
				    url);
	return PW_OK;
}

/* ---- HTTP ------------------------------------------------------------- */

static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
	pw_buf *b = ud;
	size_t len = size * n;
	if (b->len + len > REPLY_MAX || pw_buf_append(b, ptr, len))
		return 0; /* makes curl fail the transfer */
	return len;
}

/* POSTs a JSON body of `len` bytes to server + path, gzip-compressed
 * when `gzip`; *status gets the HTTP status, reply the body. Only
 * transport failures are errors here. */
static pw_err post(CURL *curl, const char *server, const char *path, const char *ca_file,
		   long timeout, const char *bearer, const char *body, size_t len, bool gzip,
		   long *status, pw_buf *reply, pw_error *err)
{
	pw_buf url = PW_BUF_INIT, auth = PW_BUF_INIT;
	if (pw_buf_printf(&url, "%s%s", server, path) ||
	    (bearer && pw_buf_printf(&auth, "Authorization: Bearer %s", bearer)))
		return nomem(err);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct curl_slist *h2 = h ? curl_slist_append(h, "Expect:") : NULL;
	struct curl_slist *h3 = h2 && bearer ? curl_slist_append(h2, auth.data) : h2;
	if (h3 && gzip)
		h3 = curl_slist_append(h3, "Content-Encoding: gzip");
	pw_err rc = PW_OK;
	if (!h3) {
		curl_slist_free_all(h);
		pw_buf_release(&url);
		pw_buf_release(&auth);
		return nomem(err);
	}
	char curl_err[CURL_ERROR_SIZE] = "";
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url.data);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_file)
		curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout < 15 ? timeout : 15L);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h3);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "patchwarden-agent/" PW_VERSION);
	CURLcode cc = curl_easy_perform(curl);
	if (cc != CURLE_OK)
		rc = pw_error_set(err, PW_ERR_NETWORK, "%s: %s", url.data,
				  *curl_err ? curl_err : curl_easy_strerror(cc));
	else
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(h);
	pw_buf_release(&url);
	pw_buf_release(&auth);
	return rc;
}

/* A non-2xx reply as an error, with the server's message. */
static pw_err http_error(const char *what, long status, const pw_buf *reply, pw_error *err)
{
	cJSON *o = cJSON_ParseWithLength(pw_buf_str(reply), reply->len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
	const char *msg = json_str(e, "message");
	pw_err code = status == 401 || status == 403 ? PW_ERR_AUTH
		      : status == 413                ? PW_ERR_TOOLARGE
						     : PW_ERR_NETWORK;
	pw_error_set(err, code, "%s: the server answered %ld: %s%s", what, status,
		     msg ? msg : "(no error message)",
		     code == PW_ERR_AUTH ? "; enroll again with 'patchwarden agent enroll'" : "");
	cJSON_Delete(o);
	return code;
}

/* ---- host identity ---------------------------------------------------- */

static pw_err machine_id(const char *root, const char *state_dir, pw_buf *out, pw_error *err)
{
	pw_buf path = PW_BUF_INIT;
	pw_err rc = pw_buf_printf(&path, "%s/etc/machine-id", strcmp(root, "/") ? root : "")
			    ? nomem(err)
			    : PW_OK;
	if (!rc && pw_read_file(path.data, out, 4096, NULL) != PW_OK) {
		/* No machine-id (some containers): one of our own, kept. */
		pw_buf_reset(out);
		rc = state_path(state_dir, "machine-id", &path, err);
		if (!rc && pw_read_file(path.data, out, 4096, NULL) != PW_OK) {
			pw_buf_reset(out);
			unsigned char r[16];
			FILE *f = fopen("/dev/urandom", "rb");
			if (!f || fread(r, 1, sizeof r, f) != sizeof r)
				rc = pw_error_set(err, PW_ERR_IO, "/dev/urandom: cannot read");
			if (f)
				fclose(f);
			for (size_t i = 0; !rc && i < sizeof r; i++)
				rc = pw_buf_printf(out, "%02x", r[i]) ? nomem(err) : PW_OK;
			if (!rc)
				rc = pw_write_file_atomic(path.data, out->data, out->len, 0644,
							  err);
		}
	}
	while (out->len && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == ' '))
		out->data[--out->len] = '\0';
	if (!rc && !out->len)
		rc = pw_error_set(err, PW_ERR_PARSE, "%s: empty machine id", path.data);
	pw_buf_release(&path);
	return rc;
}

/* ---- enrollment ------------------------------------------------------- */

static const char *dir_of(const pw_agent_conf *conf)
{
	return conf->state_dir ? conf->state_dir : PW_AGENT_STATE_DIR;
}

static const char *root_of(const pw_agent_conf *conf)
{
	return conf->root ? conf->root : "/";
}

static long timeout_of(const pw_agent_conf *conf)
{
	return conf->timeout > 0 ? conf->timeout : PW_AGENT_TIMEOUT;
}

static char *base_url(const char *server)
{
	char *s = strdup(server);
	size_t n = s ? strlen(s) : 0;
	while (n && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

/* The name of the system reported: DIR/etc/hostname for a system under
 * --root DIR (an image, a chroot), else this machine's. */
static void system_hostname(const char *root, char *host, size_t size)
{
	host[0] = '\0';
	if (strcmp(root, "/") != 0) {
		pw_buf path = PW_BUF_INIT, text = PW_BUF_INIT;
		pw_error e = PW_ERROR_INIT;
		if (!pw_buf_printf(&path, "%s/etc/hostname", root) &&
		    !pw_read_file(pw_buf_str(&path), &text, 4096, &e))
			snprintf(host, size, "%.*s", (int)strcspn(pw_buf_str(&text), " \t\r\n"),
				 pw_buf_str(&text));
		pw_buf_release(&path);
		pw_buf_release(&text);
	}
	if (!host[0] && gethostname(host, size - 1) != 0)
		snprintf(host, size, "unknown");
}

/* The credential of an earlier enrollment in the state directory (caller
 * frees), or NULL: sent along, it proves that a re-enrollment comes from
 * the host's own agent, which the server then re-keys without asking an
 * operator. */
static char *old_credential(const pw_agent_conf *conf)
{
	pw_buf path = PW_BUF_INIT;
	cJSON *o = NULL;
	char *cred = NULL;
	if (!state_path(dir_of(conf), "credential", &path, NULL) &&
	    !read_json(path.data, &o, NULL) && json_str(o, "credential"))
		cred = strdup(json_str(o, "credential"));
	cJSON *cr = cJSON_GetObjectItemCaseSensitive(o, "credential");
	if (cJSON_IsString(cr))
		memset(cr->valuestring, 0, strlen(cr->valuestring));
	cJSON_Delete(o);
	pw_buf_release(&path);
	return cred;
}

static cJSON *enroll_body(const char *token, const char *mid, const char *root,
			  const pw_inventory *inv, const char *cred)
{
	char host[256] = "";
	system_hostname(root, host, sizeof host);
	cJSON *o = cJSON_CreateObject();
	cJSON *os = o ? cJSON_AddObjectToObject(o, "os") : NULL;
	bool ok = os && cJSON_AddStringToObject(o, "token", token) &&
		  cJSON_AddStringToObject(o, "hostname", host) &&
		  cJSON_AddStringToObject(o, "machine_id", mid);
	const char *osv[][2] = {{"id", inv->os_id},
				{"version_id", inv->os_version_id},
				{"codename", inv->os_codename},
				{"pretty_name", inv->os_pretty_name}};
	for (size_t i = 0; ok && i < sizeof osv / sizeof osv[0]; i++)
		if (osv[i][1])
			ok = cJSON_AddStringToObject(os, osv[i][0], osv[i][1]) != NULL;
	if (ok && inv->arch)
		ok = cJSON_AddStringToObject(o, "arch", inv->arch) != NULL;
	if (ok && cred)
		ok = cJSON_AddStringToObject(o, "credential", cred) != NULL;
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static pw_err save_credential(const pw_agent_conf *conf, const char *server, const cJSON *reply,
			      char **agent_id, pw_error *err)
{
	const char *id = json_str(reply, "agent_id"), *cred = json_str(reply, "credential");
	if (!id || !cred || !*id || !*cred)
		return pw_error_set(err, PW_ERR_PARSE,
				    "enroll: the server's reply has no agent_id and credential");
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddStringToObject(o, "server", server) &&
		  cJSON_AddStringToObject(o, "agent_id", id) &&
		  cJSON_AddStringToObject(o, "credential", cred) &&
		  (!conf->ca_file || cJSON_AddStringToObject(o, "ca_file", conf->ca_file)) &&
		  (!conf->insecure || cJSON_AddTrueToObject(o, "insecure"));
	pw_buf path = PW_BUF_INIT;
	pw_err rc = ok ? state_path(dir_of(conf), "credential", &path, err) : nomem(err);
	if (!rc)
		rc = write_json(path.data, o, err);
	if (!rc && !(*agent_id = strdup(id)))
		rc = nomem(err);
	/* A new identity: the server has no inventory from it yet. */
	if (!rc && !state_path(dir_of(conf), "state", &path, NULL))
		unlink(path.data);
	cJSON_Delete(o);
	pw_buf_release(&path);
	return rc;
}

pw_err pw_agent_client_enroll(const pw_agent_conf *conf, const char *token, char **agent_id,
			      bool *pending, pw_error *err)
{
	*agent_id = NULL;
	if (pending)
		*pending = false;
	if (!conf->server)
		return pw_error_set(err, PW_ERR_INVALID, "enroll needs the server URL (--server)");
	if (!token || !*token)
		return pw_error_set(err, PW_ERR_INVALID,
				    "enroll needs an enrollment token (--token)");
	pw_err rc = pw_agent_check_url(conf->server, conf->insecure, err);
	if (rc || (rc = ensure_dir(dir_of(conf), err)))
		return rc;
	pw_inventory inv = PW_INVENTORY_INIT;
	pw_buf mid = PW_BUF_INIT, reply = PW_BUF_INIT;
	char *server = base_url(conf->server), *body = NULL;
	CURL *curl = curl_easy_init();
	cJSON *o = NULL;
	long status = 0;
	if (!server || !curl)
		rc = nomem(err);
	if (!rc)
		rc = pw_inventory_read(root_of(conf), &inv, err);
	if (!rc)
		rc = machine_id(root_of(conf), dir_of(conf), &mid, err);
	if (!rc) {
		char *cred = old_credential(conf);
		o = enroll_body(token, mid.data, root_of(conf), &inv, cred);
		if (cred) {
			memset(cred, 0, strlen(cred));
			free(cred);
		}
		body = o ? cJSON_PrintUnformatted(o) : NULL;
		rc = body ? PW_OK : nomem(err);
	}
	if (!rc)
		rc = post(curl, server, "/api/v1/agents/enroll", conf->ca_file, timeout_of(conf),
			  NULL, body, strlen(body), false, &status, &reply, err);
	if (!rc && status != 201)
		rc = http_error("enroll", status, &reply, err);
	cJSON_Delete(o);
	o = NULL;
	if (!rc) {
		o = cJSON_ParseWithLength(pw_buf_str(&reply), reply.len);
		rc = save_credential(conf, server, o, agent_id, err);
		if (!rc && pending)
			*pending = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "pending"));
	}
	cJSON_Delete(o);
	if (body) /* it holds the old credential */
		memset(body, 0, strlen(body));
	cJSON_free(body);
	curl_easy_cleanup(curl);
	free(server);
	pw_buf_release(&mid);
	pw_buf_release(&reply);
	pw_inventory_release(&inv);
	return rc;
}

/* ---- the client ------------------------------------------------------- */

void pw_agent_client_close(pw_agent_client *c)
{
	if (!c)
		return;
	free(c->state_dir);
	free(c->server);
	free(c->ca_file);
	free(c->root);
	free(c->health_check);
	free(c->backup_check);
	free(c->feed_store);
	free(c->agent_id);
	if (c->credential) {
		memset(c->credential, 0, strlen(c->credential));
		free(c->credential);
	}
	pw_spool_release(&c->spool);
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->release);
	free(c);
}

static int64_t json_int(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9e15
		       ? (int64_t)v->valuedouble
		       : 0;
}

static void load_refusal(pw_agent_client *c, const cJSON *r)
{
	const char *h = json_str(r, "hash"), *at = json_str(r, "at");
	if (!h || strlen(h) != 64 || !at)
		return;
	memcpy(c->refused_hash, h, 65);
	snprintf(c->refused_at, sizeof c->refused_at, "%s", at);
	c->refused_time = json_int(r, "time");
	c->refused_size = json_int(r, "size");
	c->refused_sent = json_int(r, "sent");
	c->refused_gzip = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "gzip"));
}

static pw_err load_state(pw_agent_client *c, pw_error *err)
{
	pw_buf path = PW_BUF_INIT;
	cJSON *o = NULL;
	pw_err rc = state_path(c->state_dir, "state", &path, err);
	if (!rc)
		rc = read_json(path.data, &o, err);
	if (rc == PW_ERR_NOTFOUND) {
		rc = PW_OK;
	} else if (!rc) {
		const char *h = json_str(o, "inventory_hash"), *t = json_str(o, "last_checkin");
		const cJSON *need = cJSON_GetObjectItemCaseSensitive(o, "need_inventory");
		const cJSON *iv = cJSON_GetObjectItemCaseSensitive(o, "checkin_interval");
		const char *rh = json_str(o, "runtime_hash");
		if (h && strlen(h) == 64)
			memcpy(c->acked_hash, h, 65);
		if (rh && strlen(rh) == 64)
			memcpy(c->acked_runtime, rh, 65);
		if (t)
			snprintf(c->last_checkin, sizeof c->last_checkin, "%s", t);
		c->need_inventory = cJSON_IsTrue(need);
		if (cJSON_IsNumber(iv) && iv->valuedouble >= 1 && iv->valuedouble <= 30 * 86400)
			c->interval = (long)iv->valuedouble;
		load_refusal(c, cJSON_GetObjectItemCaseSensitive(o, "inventory_refused"));
	}
	cJSON_Delete(o);
	pw_buf_release(&path);
	return rc;
}

static pw_err save_state(const pw_agent_client *c, pw_error *err)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddStringToObject(o, "inventory_hash", c->acked_hash) &&
		  cJSON_AddStringToObject(o, "runtime_hash", c->acked_runtime) &&
		  cJSON_AddBoolToObject(o, "need_inventory", c->need_inventory) &&
		  cJSON_AddNumberToObject(o, "checkin_interval", (double)c->interval) &&
		  cJSON_AddStringToObject(o, "last_checkin", c->last_checkin);
	if (ok && c->refused_hash[0]) {
		cJSON *r = cJSON_AddObjectToObject(o, "inventory_refused");
		ok = r && cJSON_AddStringToObject(r, "hash", c->refused_hash) &&
		     cJSON_AddStringToObject(r, "at", c->refused_at) &&
		     cJSON_AddNumberToObject(r, "time", (double)c->refused_time) &&
		     cJSON_AddNumberToObject(r, "size", (double)c->refused_size) &&
		     cJSON_AddNumberToObject(r, "sent", (double)c->refused_sent) &&
		     cJSON_AddBoolToObject(r, "gzip", c->refused_gzip);
	}
	pw_buf path = PW_BUF_INIT;
	pw_err rc = ok ? state_path(c->state_dir, "state", &path, err) : nomem(err);
	if (!rc)
		rc = write_json(path.data, o, err);
	cJSON_Delete(o);
	pw_buf_release(&path);
	return rc;
}

static pw_err load_credential(pw_agent_client *c, const pw_agent_conf *conf, pw_error *err)
{
	pw_buf path = PW_BUF_INIT;
	cJSON *o = NULL;
	pw_err rc = state_path(c->state_dir, "credential", &path, err);
	if (!rc)
		rc = read_json(path.data, &o, err);
	if (rc == PW_ERR_NOTFOUND)
		rc = pw_error_set(err, PW_ERR_NOTFOUND,
				  "%s: this host is not enrolled; run 'patchwarden agent enroll "
				  "--server URL --token TOKEN' first",
				  path.data);
	const char *server = o ? json_str(o, "server") : NULL;
	if (!rc && (!server || !json_str(o, "agent_id") || !json_str(o, "credential")))
		rc = pw_error_set(err, PW_ERR_PARSE,
				  "%s: lacks server, agent_id or credential; enroll again",
				  path.data);
	if (!rc) {
		c->insecure = conf->insecure ||
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "insecure"));
		c->server = base_url(conf->server ? conf->server : server);
		if (!c->server || dup_opt(&c->agent_id, json_str(o, "agent_id"), err) ||
		    dup_opt(&c->credential, json_str(o, "credential"), err) ||
		    dup_opt(&c->ca_file, conf->ca_file ? conf->ca_file : json_str(o, "ca_file"),
			    err))
			rc = nomem(err);
	}
	if (!rc)
		rc = pw_agent_check_url(c->server, c->insecure, err);
	if (o) {
		/* The secret should not linger in freed memory. */
		cJSON *cr = cJSON_GetObjectItemCaseSensitive(o, "credential");
		if (cJSON_IsString(cr))
			memset(cr->valuestring, 0, strlen(cr->valuestring));
	}
	cJSON_Delete(o);
	pw_buf_release(&path);
	return rc;
}

pw_err pw_agent_client_open(const pw_agent_conf *conf, pw_agent_client **out, pw_error *err)
{
	*out = NULL;
	pw_agent_client *c = calloc(1, sizeof *c);
	if (!c)
		return nomem(err);
	c->spool = (pw_spool)PW_SPOOL_INIT;
	c->interval = PW_AGENT_DEFAULT_INTERVAL;
	c->timeout = timeout_of(conf);
	pw_buf sp = PW_BUF_INIT;
	pw_err rc = PW_OK;
	pw_buf store = PW_BUF_INIT;
	if (dup_opt(&c->state_dir, dir_of(conf), err) || dup_opt(&c->root, root_of(conf), err) ||
	    (conf->feed_store ? pw_buf_puts(&store, conf->feed_store)
			      : pw_buf_printf(&store, "%s/feeds.db", dir_of(conf))) ||
	    !(c->feed_store = pw_buf_detach(&store)) || !(c->curl = curl_easy_init()) ||
	    dup_opt(&c->health_check, conf->health_check, err) ||
	    dup_opt(&c->backup_check, conf->backup_check, err))
		rc = nomem(err);
	pw_buf_release(&store);
	c->exec_conf = (pw_executor_conf){c->root, NULL, c->health_check, c->backup_check, 0, NULL};
	c->exec_fn = pw_exec_in_process;
	c->exec_ctx = &c->exec_conf;
	if (!rc)
		rc = load_credential(c, conf, err);
	if (!rc)
		rc = load_state(c, err);
	if (!rc)
		rc = state_path(c->state_dir, "spool", &sp, err);
	if (!rc)
		rc = pw_spool_open(&c->spool, sp.data, conf->spool_max, err);
	pw_buf_release(&sp);
	if (rc) {
		pw_agent_client_close(c);
		return rc;
	}
	*out = c;
	return PW_OK;
}

const char *pw_agent_client_id(const pw_agent_client *c)
{
	return c->agent_id;
}

const char *pw_agent_client_server(const pw_agent_client *c)
{
	return c->server;
}

size_t pw_agent_client_spooled(const pw_agent_client *c)
{
	return c->spool.count;
}

const char *pw_agent_client_acked_hash(const pw_agent_client *c)
{
	return c->acked_hash;
}

const char *pw_agent_client_last_checkin(const pw_agent_client *c)
{
	return c->last_checkin;
}

long pw_agent_client_interval(const pw_agent_client *c)
{
	return c->interval;
}

double pw_agent_next_delay(long interval, unsigned failures, double r)
{
	double base = interval > 0 ? (double)interval : PW_AGENT_DEFAULT_INTERVAL;
	if (failures)
		base = failures >= 31 || (double)(1u << failures) > base ? base
									 : (double)(1u << failures);
	return base * (0.9 + 0.2 * r);
}

/* ---- jobs ------------------------------------------------------------- */

/* The `patchwarden scan --json` object for this host from the local feed
 * store's latest snapshot, with the default policy and the running
 * processes' facts (rt, NULL: unknown); NULL and err when there is no
 * store or it has no data for this release. */
static cJSON *scan_json(const pw_agent_client *c, const pw_inventory *inv, const pw_runtime *rt,
			pw_error *err)
{
	if (access(c->feed_store, F_OK) != 0) {
		pw_error_set(err, PW_ERR_NOTFOUND,
			     "%s: no feed store on this host; the agent scans with local advisory "
			     "data: fill it with 'patchwarden feed sync --store %s'",
			     c->feed_store, c->feed_store);
		return NULL;
	}
	pw_policy policy;
	pw_policy_defaults(&policy);
	pw_scan_host host = {policy.default_exposure, rt};
	pw_scan_result res = PW_SCAN_RESULT_INIT;
	pw_feedstore *store = NULL;
	pw_advindex *idx = NULL;
	int64_t snapshot;
	cJSON *out = NULL;
	if (!pw_feedstore_open(c->feed_store, &store, err) &&
	    !pw_feedstore_latest(store, &snapshot, err) && !pw_advindex_new(&idx, err) &&
	    !pw_scan_from_store(idx, store, snapshot, inv, &host, &policy, &res, err) &&
	    !(out = pw_scan_result_to_json(&res, &policy)))
		nomem(err);
	pw_scan_result_release(&res);
	pw_advindex_free(idx);
	pw_feedstore_close(store);
	return out;
}

/* Bytes a byte of a string takes in cJSON's output. */
static size_t escaped_len(unsigned char c)
{
	if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
		return 2;
	return c < 0x20 ? 6 : 1;
}

/* The marker with the largest count fits in this, escapes included. */
#define CUT_MARKER_MAX 64

static pw_err fit_string(cJSON *v, size_t max, size_t *cut, pw_error *err)
{
	const unsigned char *s = (const unsigned char *)v->valuestring;
	size_t n = strlen(v->valuestring), total = 0;
	for (size_t i = 0; i < n; i++)
		total += escaped_len(s[i]);
	if (total <= max)
		return PW_OK;
	size_t start = n, kept = 0;
	while (start > 0 && kept + escaped_len(s[start - 1]) <= max - CUT_MARKER_MAX)
		kept += escaped_len(s[--start]);
	while (start < n && (s[start] & 0xC0) == 0x80) /* inside a UTF-8 character */
		start++;
	pw_buf b = PW_BUF_INIT;
	pw_err rc = pw_buf_printf(&b, "[the first %zu bytes were cut]\n", start);
	if (!rc)
		rc = pw_buf_append(&b, (const char *)s + start, n - start);
	if (!rc && !cJSON_SetValuestring(v, pw_buf_str(&b)))
		rc = PW_ERR_NOMEM;
	pw_buf_release(&b);
	if (rc)
		return nomem(err);
	(*cut)++;
	return PW_OK;
}

static pw_err fit_all(cJSON *v, size_t max, size_t *cut, pw_error *err)
{
	if (cJSON_IsString(v) && v->valuestring)
		return fit_string(v, max, cut, err);
	pw_err rc = PW_OK;
	for (cJSON *x = v ? v->child : NULL; x && !rc; x = x->next)
		rc = fit_all(x, max, cut, err);
	return rc;
}

pw_err pw_agent_fit_output(cJSON *output, size_t max, size_t *cut, pw_error *err)
{
	size_t n = 0;
	if (max < 256)
		return pw_error_set(err, PW_ERR_INVALID,
				    "a string limit of %zu bytes is below the server's least (256)",
				    max);
	pw_err rc = fit_all(output, max, &n, err);
	if (cut)
		*cut = n;
	return rc;
}

void pw_agent_client_set_exec(pw_agent_client *c, pw_exec_fn fn, void *ctx)
{
	c->exec_fn = fn ? fn : pw_exec_in_process;
	c->exec_ctx = fn ? ctx : &c->exec_conf;
}

static cJSON *message_output(const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	if (o && !cJSON_AddStringToObject(o, "message", msg)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

/* An executor job (execjob.h) through the client's hook. */
static cJSON *exec_job(pw_agent_client *c, const char *kind, const cJSON *args, const char **status,
		       int *exit_code)
{
	pw_exec_request *req = calloc(1, sizeof *req);
	pw_exec_result res;
	pw_error e = PW_ERROR_INIT;
	cJSON *out = NULL;
	pw_exec_result_init(&res);
	*status = "failed";
	*exit_code = 2;
	if (!req)
		return NULL;
	if (pw_exec_request_from_json(kind, args, req, &e) ||
	    c->exec_fn(c->exec_ctx, req, &res, &e)) {
		out = message_output(pw_error_text(&e));
	} else {
		out = pw_exec_result_to_json(req, &res);
		*status = res.status == PW_EXEC_DONE ? "ok" : "failed";
		*exit_code = pw_exec_status_exit(res.status);
	}
	pw_exec_result_release(&res);
	free(req);
	return out;
}

/* Spools one job result (without seq: the spool numbers it); takes
 * `output` (NULL: out of memory). */
static pw_err spool_result(pw_agent_client *c, double job_id, const char *status,
			   const char *started, const char *finished, int exit_code, cJSON *output,
			   pw_error *err)
{
	/* A result the server refuses would block the spool for good. */
	pw_err fit = output ? pw_agent_fit_output(output, PW_AGENT_OUTPUT_STRING_MAX, NULL, err)
			    : PW_OK;
	if (fit) {
		cJSON_Delete(output);
		return fit;
	}
	cJSON *r = cJSON_CreateObject();
	bool ok = r && output && cJSON_AddNumberToObject(r, "job_id", job_id) &&
		  cJSON_AddStringToObject(r, "status", status) &&
		  cJSON_AddStringToObject(r, "started", started) &&
		  cJSON_AddStringToObject(r, "finished", finished) &&
		  cJSON_AddNumberToObject(r, "exit_code", exit_code) &&
		  cJSON_AddItemToObject(r, "output", output);
	if (!ok && output && (!r || !cJSON_GetObjectItemCaseSensitive(r, "output")))
		cJSON_Delete(output);
	char *text = ok ? cJSON_PrintUnformatted(r) : NULL;
	cJSON_Delete(r);
	if (!text)
		return nomem(err);
	uint64_t seq;
	pw_err rc = pw_spool_put(&c->spool, text, strlen(text), &seq, err);
	cJSON_free(text);
	return rc;
}

/* ---- reboots ------------------------------------------------------------ */

/* A reboot job leaves STATE_DIR/reboot ({"job_id", "started", "boot_id",
 * "kernel"}) before the reboot command runs; the first check-in in
 * another boot reports the job with the kernel running then. The boot id
 * (a new random one each boot), not the clock or the kernel, tells that
 * a reboot happened: a check-in before it (the command returned, the
 * machine is still going down, or it never did) reports nothing, and the
 * server fails the job after [jobs] reboot_timeout. */
#define REBOOT_FILE "reboot"

/* This boot's id into out ("" when it cannot be read). */
static void boot_id(char out[64])
{
	const char *path = "/proc/sys/kernel/random/boot_id";
#ifdef PW_TEST_HOOKS
	/* Tests "reboot" by changing the id this file holds. */
	const char *hook = getenv("PATCHWARDEN_TEST_BOOT_ID");
	if (hook && *hook)
		path = hook;
#endif
	pw_buf b = PW_BUF_INIT;
	out[0] = '\0';
	if (!pw_read_file(path, &b, 4096, NULL))
		snprintf(out, 64, "%.*s", (int)strcspn(pw_buf_str(&b), "\n"), pw_buf_str(&b));
	pw_buf_release(&b);
}

static void kernel_release(char out[65])
{
	struct utsname u;
	snprintf(out, 65, "%s", uname(&u) == 0 ? u.release : "");
}

static pw_err reboot_mark(pw_agent_client *c, int64_t job_id, const char *started, pw_error *err)
{
	char boot[64], kernel[65];
	boot_id(boot);
	kernel_release(kernel);
	cJSON *o = cJSON_CreateObject();
	pw_buf path = PW_BUF_INIT;
	pw_err rc = o && pw_json_add_int(o, "job_id", job_id) &&
				    cJSON_AddStringToObject(o, "started", started) &&
				    cJSON_AddStringToObject(o, "boot_id", boot) &&
				    cJSON_AddStringToObject(o, "kernel", kernel)
			    ? state_path(c->state_dir, REBOOT_FILE, &path, err)
			    : nomem(err);
	if (!rc)
		rc = write_json(path.data, o, err);
	cJSON_Delete(o);
	pw_buf_release(&path);
	return rc;
}

/* The job of the mark left in this boot, or 0 when there is none. */
static int64_t reboot_marked(pw_agent_client *c)
{
	pw_buf path = PW_BUF_INIT;
	cJSON *m = NULL;
	int64_t id = 0;
	if (!state_path(c->state_dir, REBOOT_FILE, &path, NULL) &&
	    !read_json(path.data, &m, NULL)) {
		const cJSON *j = cJSON_GetObjectItemCaseSensitive(m, "job_id");
		id = cJSON_IsNumber(j) ? (int64_t)j->valuedouble : 0;
	}
	cJSON_Delete(m);
	pw_buf_release(&path);
	return id;
}

static void reboot_unmark(pw_agent_client *c)
{
	pw_buf path = PW_BUF_INIT;
	if (!state_path(c->state_dir, REBOOT_FILE, &path, NULL))
		unlink(path.data);
	pw_buf_release(&path);
}

/* After a reboot a job started: spools its result, with the kernel this
 * boot runs, and forgets the mark. */
static pw_err reboot_report(pw_agent_client *c, pw_agent_cycle_report *rep, pw_error *err)
{
	pw_buf path = PW_BUF_INIT;
	cJSON *m = NULL;
	pw_err rc = state_path(c->state_dir, REBOOT_FILE, &path, err);
	if (!rc)
		rc = read_json(path.data, &m, err);
	pw_buf_release(&path);
	if (rc == PW_ERR_NOTFOUND)
		return pw_error_set(err, PW_OK, "%s", "");
	if (rc == PW_ERR_PARSE)
		reboot_unmark(c); /* a damaged mark cannot be reported; the server fails the job */
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "job_id");
	const char *started = json_str(m, "started"), *before = json_str(m, "boot_id");
	const char *kernel_before = json_str(m, "kernel");
	char boot[64], kernel[65];
	boot_id(boot);
	kernel_release(kernel);
	if (!rc && (!cJSON_IsNumber(id) || !started || !before || !kernel_before)) {
		reboot_unmark(c);
		rc = pw_error_set(err, PW_ERR_PARSE, "%s: not a reboot mark; removed", REBOOT_FILE);
	}
	if (rc || !boot[0] || !strcmp(boot, before)) {
		cJSON_Delete(m);
		return rc; /* not rebooted yet */
	}
	char msg[400], finished[32];
	snprintf(msg, sizeof msg, "rebooted: up again with kernel %s (was %s)", kernel,
		 kernel_before);
	cJSON *out = cJSON_CreateObject();
	if (out && !(cJSON_AddStringToObject(out, "message", msg) &&
		     cJSON_AddStringToObject(out, "kernel", kernel) &&
		     cJSON_AddStringToObject(out, "kernel_before", kernel_before) &&
		     cJSON_AddStringToObject(out, "boot_id", boot) &&
		     cJSON_AddStringToObject(out, "boot_id_before", before))) {
		cJSON_Delete(out);
		out = NULL;
	}
	pw_ts_seconds_now(finished);
	rc = spool_result(c, id->valuedouble, "ok", started, finished, 0, out, err);
	if (!rc) {
		snprintf(rep->reboot, sizeof rep->reboot, "back after the reboot of job %.0f: %s",
			 id->valuedouble, msg);
		reboot_unmark(c);
	}
	cJSON_Delete(m);
	return rc;
}

/* Runs one job and spools its result (without seq: the spool numbers it).
 * Without an inventory (inv NULL) every job fails with inv_error. */
static pw_err run_job(pw_agent_client *c, const cJSON *job, const pw_inventory *inv,
		      const pw_runtime *rt, const char *inv_error, int64_t *job_id,
		      pw_agent_cycle_report *rep, pw_error *err)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(job, "job_id");
	const char *kind = json_str(job, "kind");
	*job_id = 0;
	if (!cJSON_IsNumber(id) || id->valuedouble < 1 || id->valuedouble > 9e15 || !kind)
		return pw_error_set(err, PW_ERR_PARSE,
				    "check-in reply: a job without a job_id or kind; skipped");
	*job_id = (int64_t)id->valuedouble;
	char started[32], finished[32];
	pw_ts_seconds_now(started);
	cJSON *output = NULL;
	const char *status = "ok";
	int exit_code = 0;
	bool reboot = false;
	if (!inv) {
		output = cJSON_CreateObject();
		if (output && !cJSON_AddStringToObject(output, "message", inv_error)) {
			cJSON_Delete(output);
			output = NULL;
		}
		status = "failed";
		exit_code = 2;
	} else if (!strcmp(kind, "inventory")) {
		output = pw_inventory_to_json(inv);
	} else if (!strcmp(kind, "scan")) {
		pw_error se = PW_ERROR_INIT;
		output = scan_json(c, inv, rt, &se);
		if (!output) {
			/* Say why, with the inventory the server can scan itself. */
			output = cJSON_CreateObject();
			cJSON *iv = pw_inventory_to_json(inv);
			if (!output || !iv ||
			    !cJSON_AddStringToObject(output, "message", pw_error_text(&se)) ||
			    !cJSON_AddItemToObject(output, "inventory", iv)) {
				cJSON_Delete(iv);
				cJSON_Delete(output);
				output = NULL;
			}
			status = "failed";
			exit_code = 2;
		}
	} else if (pw_exec_kind_from_name(kind) > PW_EXEC_INVENTORY) {
		/* A reboot is marked before it starts, so that the report after
		 * boot knows its job and the boot it left. */
		reboot = pw_exec_kind_from_name(kind) == PW_EXEC_REBOOT;
		int64_t under_way = reboot ? reboot_marked(c) : 0;
		pw_err rc = reboot && !under_way ? reboot_mark(c, *job_id, started, err) : PW_OK;
		if (rc)
			return rc;
		if (under_way == *job_id) {
			/* Handed out again (its lease ran out) before the reboot came:
			 * one reboot, one report. */
			snprintf(rep->reboot, sizeof rep->reboot,
				 "the reboot of job %" PRId64 " is under way; reported after boot",
				 *job_id);
			return PW_OK;
		}
		if (under_way) {
			char msg[200];
			snprintf(msg, sizeof msg,
				 "not rebooted: the reboot of job %" PRId64 " is under way",
				 under_way);
			output = message_output(msg);
			status = "failed";
			exit_code = 2;
			reboot = false; /* the mark is the other job's */
		} else {
			output = exec_job(c, kind, cJSON_GetObjectItemCaseSensitive(job, "args"),
					  &status, &exit_code);
		}
	} else {
		/* A kind of the table this agent's build does not run yet, or
		 * none of the table's. */
		char msg[400];
		snprintf(msg, sizeof msg, "this agent does not run %s jobs (it runs %s)",
			 pw_job_kind_find(kind) ? kind : "such", pw_job_kind_names());
		output = cJSON_CreateObject();
		if (output && !cJSON_AddStringToObject(output, "message", msg)) {
			cJSON_Delete(output);
			output = NULL;
		}
		status = "failed";
		exit_code = 2;
	}
	if (reboot && !strcmp(status, "ok")) {
		/* The machine goes down: the result is the report after boot
		 * (reboot_report), not this one. */
		cJSON_Delete(output);
		snprintf(rep->reboot, sizeof rep->reboot,
			 "reboot started for job %" PRId64 "; its result is reported after boot",
			 *job_id);
		return PW_OK;
	}
	if (reboot)
		reboot_unmark(c);
	pw_ts_seconds_now(finished);
	return spool_result(c, id->valuedouble, status, started, finished, exit_code, output, err);
}

/* ---- check-in --------------------------------------------------------- */

/* Adds spooled results, oldest first, as far as the limits allow;
 * `sent` gets their seqs. Damaged files are quarantined and skipped. */
static pw_err add_results(pw_agent_client *c, cJSON *body, uint64_t *sent, size_t *n_sent,
			  uint64_t *largest, pw_agent_cycle_report *rep, pw_error *err)
{
	uint64_t *seqs;
	size_t n, most = 0;
	*n_sent = 0;
	*largest = 0;
	pw_err rc = pw_spool_list(&c->spool, &seqs, &n, err);
	if (rc || !n) {
		free(seqs);
		return rc;
	}
	cJSON *a = cJSON_AddArrayToObject(body, "results");
	if (!a)
		rc = nomem(err);
	size_t bytes = 0;
	pw_buf text = PW_BUF_INIT;
	for (size_t i = 0; !rc && i < n && *n_sent < RESULTS_PER_CHECKIN; i++) {
		pw_buf_reset(&text);
		pw_error e = PW_ERROR_INIT;
		pw_err r = pw_spool_read(&c->spool, seqs[i], &text, &e);
		if (r == PW_ERR_INTEGRITY) {
			rep->results_quarantined++;
			snprintf(rep->job_error, sizeof rep->job_error, "%s", e.msg);
			continue;
		}
		if (r) {
			rc = pw_error_set(err, r, "%s", e.msg);
			break;
		}
		if (*n_sent && bytes + text.len > RESULTS_BODY_SOFT_MAX)
			break;
		cJSON *o = cJSON_ParseWithLength(pw_buf_str(&text), text.len);
		if (!cJSON_IsObject(o)) {
			/* Intact on disk but not ours to send: never block the queue. */
			cJSON_Delete(o);
			snprintf(rep->job_error, sizeof rep->job_error,
				 "spool result %" PRIu64 " is not a JSON object; deleted", seqs[i]);
			pw_spool_remove(&c->spool, seqs[i], NULL);
			rep->results_quarantined++;
			continue;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(o, "seq");
		if (!cJSON_AddNumberToObject(o, "seq", (double)seqs[i]) ||
		    !cJSON_AddItemToArray(a, o)) {
			cJSON_Delete(o);
			rc = nomem(err);
			break;
		}
		bytes += text.len;
		if (text.len > most) {
			most = text.len;
			*largest = seqs[i];
		}
		sent[(*n_sent)++] = seqs[i];
	}
	pw_buf_release(&text);
	free(seqs);
	return rc;
}

static bool acked(const cJSON *ack, uint64_t seq)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, ack)
		if (cJSON_IsNumber(x) && x->valuedouble == (double)seq)
			return true;
	return false;
}

static pw_err add_release(pw_agent_client *c, int64_t id)
{
	int64_t *v = pw_grow(c->release, &c->cap_release, c->n_release, sizeof *v);
	if (!v)
		return PW_ERR_NOMEM;
	c->release = v;
	c->release[c->n_release++] = id;
	return PW_OK;
}

static pw_err handle_reply(pw_agent_client *c, const pw_buf *reply, const uint64_t *sent,
			   size_t n_sent, const pw_inventory *inv, const pw_runtime *rt,
			   pw_agent_cycle_report *rep, pw_error *err)
{
	cJSON *o = cJSON_ParseWithLength(pw_buf_str(reply), reply->len);
	const cJSON *ack = cJSON_GetObjectItemCaseSensitive(o, "ack");
	const cJSON *conflict = cJSON_GetObjectItemCaseSensitive(o, "conflict");
	const cJSON *high = cJSON_GetObjectItemCaseSensitive(o, "seq_high");
	const cJSON *jobs = cJSON_GetObjectItemCaseSensitive(o, "jobs");
	const cJSON *iv = cJSON_GetObjectItemCaseSensitive(o, "checkin_interval");
	if (!cJSON_IsObject(o) || (ack && !cJSON_IsArray(ack)) || (jobs && !cJSON_IsArray(jobs)) ||
	    (conflict && !cJSON_IsArray(conflict)) || (high && !cJSON_IsNumber(high))) {
		cJSON_Delete(o);
		return pw_error_set(err, PW_ERR_PARSE,
				    "check-in: the server's reply is not a check-in reply; is "
				    "%s a patchwarden server?",
				    c->server);
	}
	pw_err rc = PW_OK;
	const cJSON *x;
	cJSON_ArrayForEach(x, ack) {
		/* Only what was sent can be acknowledged: a stray ack must not
		 * drop a result the server never saw. */
		for (size_t i = 0; cJSON_IsNumber(x) && i < n_sent; i++) {
			if ((double)sent[i] != x->valuedouble)
				continue;
			if (!rc)
				rc = pw_spool_remove(&c->spool, sent[i], err);
			rep->results_acked++;
		}
	}
	/* Before any result is numbered again, renumbered or new: a counter
	 * that went back must not reuse a seq the server has. */
	if (!rc && cJSON_IsNumber(high) && high->valuedouble >= 0 &&
	    high->valuedouble < 9007199254740992.0)
		rc = pw_spool_raise(&c->spool, (uint64_t)high->valuedouble + 1, err);
	cJSON_ArrayForEach(x, conflict) {
		for (size_t i = 0; !rc && cJSON_IsNumber(x) && i < n_sent; i++) {
			uint64_t to;
			if ((double)sent[i] != x->valuedouble || acked(ack, sent[i]))
				continue;
			rc = pw_spool_renumber(&c->spool, sent[i], &to, err);
			rep->results_renumbered += !rc;
		}
	}
	c->need_inventory = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "need_inventory"));
	if (rep->sent_inventory && !c->need_inventory)
		memcpy(c->acked_hash, rep->inventory_hash, 65);
	if (c->need_inventory) {
		/* A server that lacks the inventory (a new one, a restored
		 * database) may lack the runtime facts too. */
		c->acked_hash[0] = '\0';
		c->acked_runtime[0] = '\0';
	}
	if (rep->sent_runtime)
		memcpy(c->acked_runtime, rep->runtime_hash, 65);
	if (cJSON_IsNumber(iv) && iv->valuedouble >= 1 && iv->valuedouble <= 30 * 86400)
		c->interval = (long)iv->valuedouble;
	pw_ts_seconds_now(c->last_checkin);
	pw_err src = save_state(c, rc ? NULL : err);
	if (!rc)
		rc = src;
	cJSON_ArrayForEach(x, jobs) {
		pw_error e = PW_ERROR_INIT;
		int64_t id;
		if (run_job(c, x, inv, rt, rep->inventory_error, &id, rep, &e)) {
			rep->jobs_failed++;
			snprintf(rep->job_error, sizeof rep->job_error, "%s", e.msg);
			/* Held without a result, the job would wait out its lease. */
			if (id && add_release(c, id))
				snprintf(rep->job_error, sizeof rep->job_error,
					 "out of memory noting job %" PRId64 " to give back", id);
		} else {
			rep->jobs_run++;
		}
	}
	cJSON_Delete(o);
	return rc;
}

/* Sends a check-in body, gzip-compressed from PW_AGENT_GZIP_FROM bytes
 * on; *sent gets the bytes that went out. */
static pw_err send_checkin(pw_agent_client *c, const char *text, long *status, pw_buf *reply,
			   size_t *sent, bool *gzip, pw_error *err)
{
	size_t len = strlen(text);
	pw_buf z = PW_BUF_INIT;
	*gzip = len >= PW_AGENT_GZIP_FROM && !c->plain_only;
	pw_err rc = *gzip ? pw_gzip(text, len, &z, err) : PW_OK;
	if (!rc) {
		*sent = *gzip ? z.len : len;
		pw_buf_reset(reply);
		rc = post(c->curl, c->server, "/api/v1/agents/checkin", c->ca_file, c->timeout,
			  c->credential, *gzip ? z.data : text, *sent, *gzip, status, reply, err);
	}
	pw_buf_release(&z);
	/* A server older than gzip check-ins reads the bytes as JSON (400)
	 * or does not take the encoding (415): the same body plain, and
	 * plain from now on, rather than no inventory at all. */
	if (!rc && *gzip && (*status == 400 || *status == 415)) {
		c->plain_only = true;
		*gzip = false;
		*sent = len;
		pw_buf_reset(reply);
		rc = post(c->curl, c->server, "/api/v1/agents/checkin", c->ca_file, c->timeout,
			  c->credential, text, len, false, status, reply, err);
	}
	return rc;
}

/* Whether the last refusal still stands for the inventory `hash`. */
static bool refusal_holds(const pw_agent_client *c, const char *hash)
{
	return c->refused_hash[0] && !strcmp(c->refused_hash, hash) &&
	       (int64_t)time(NULL) < c->refused_time + PW_AGENT_REFUSED_RETRY;
}

static bool add_refusal(const pw_agent_client *c, cJSON *body)
{
	cJSON *r = cJSON_AddObjectToObject(body, "inventory_refused");
	return r && cJSON_AddNumberToObject(r, "size", (double)c->refused_size) &&
	       cJSON_AddNumberToObject(r, "sent", (double)c->refused_sent) &&
	       cJSON_AddStringToObject(r, "encoding", c->refused_gzip ? "gzip" : "identity") &&
	       cJSON_AddStringToObject(r, "at", c->refused_at);
}

static bool add_release_ids(const pw_agent_client *c, cJSON *body)
{
	if (!c->n_release)
		return true;
	cJSON *a = cJSON_AddArrayToObject(body, "release");
	for (size_t i = 0; a && i < c->n_release; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateNumber((double)c->release[i])))
			return false;
	return a != NULL;
}

/* The server's 413 message, for the report. */
static void refusal_message(const pw_agent_client *c, const pw_buf *reply,
			    pw_agent_cycle_report *rep)
{
	cJSON *o = cJSON_ParseWithLength(pw_buf_str(reply), reply->len);
	const char *msg = json_str(cJSON_GetObjectItemCaseSensitive(o, "error"), "message");
	snprintf(rep->inventory_refused, sizeof rep->inventory_refused,
		 "the server refused the check-in with the inventory (%" PRId64 " bytes, %" PRId64
		 " sent%s): %s; checked in without it, next try after %ds or when it changes",
		 c->refused_size, c->refused_sent, c->refused_gzip ? " gzip" : "",
		 msg ? msg : "413", PW_AGENT_REFUSED_RETRY);
	cJSON_Delete(o);
}

/* Gives back the jobs whose results could not be spooled, at once: a
 * check-in with only the hash and `release`, which the server answers
 * with no jobs. Kept for the next check-in when this fails. */
static void release_now(pw_agent_client *c, pw_agent_cycle_report *rep)
{
	cJSON *body = cJSON_CreateObject();
	char *text = NULL;
	if (body && cJSON_AddStringToObject(body, "agent_id", c->agent_id) &&
	    cJSON_AddStringToObject(body, "inventory_hash", rep->inventory_hash) &&
	    add_release_ids(c, body))
		text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	pw_buf reply = PW_BUF_INIT;
	long status = 0;
	size_t sent;
	bool gz;
	if (text && !send_checkin(c, text, &status, &reply, &sent, &gz, NULL) && status == 200) {
		rep->jobs_released += c->n_release;
		c->n_release = 0;
	}
	cJSON_free(text);
	pw_buf_release(&reply);
}

/* A spooled result the server refused as too large (413) becomes a
 * failed result saying so, under a new seq: the job gets an answer and
 * the spool moves on (the refused seq was never stored). */
static pw_err replace_refused(pw_agent_client *c, uint64_t seq, const pw_buf *reply,
			      pw_agent_cycle_report *rep, pw_error *err)
{
	pw_buf text = PW_BUF_INIT;
	pw_err rc = pw_spool_read(&c->spool, seq, &text, err);
	cJSON *o = rc ? NULL : cJSON_ParseWithLength(pw_buf_str(&text), text.len);
	cJSON *e = cJSON_ParseWithLength(pw_buf_str(reply), reply->len);
	const char *why = json_str(cJSON_GetObjectItemCaseSensitive(e, "error"), "message");
	char msg[PW_ERROR_MSG_MAX];
	snprintf(msg, sizeof msg,
		 "the result (%zu bytes) was refused by the server as too large: %s", text.len,
		 why ? why : "413");
	cJSON *out = cJSON_CreateObject();
	if (!rc && (!out || !cJSON_AddStringToObject(out, "message", msg)))
		rc = nomem(err);
	if (!rc && cJSON_IsObject(o)) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, "output");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "status");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "exit_code");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "seq");
		char *stub = NULL;
		if (cJSON_AddItemToObject(o, "output", out)) {
			out = NULL;
			if (cJSON_AddStringToObject(o, "status", "failed") &&
			    cJSON_AddNumberToObject(o, "exit_code", 2))
				stub = cJSON_PrintUnformatted(o);
		}
		uint64_t n;
		rc = stub ? pw_spool_put(&c->spool, stub, strlen(stub), &n, err) : nomem(err);
		if (!rc)
			rc = pw_spool_remove(&c->spool, seq, err);
		cJSON_free(stub);
	} else if (!rc) {
		/* Not a result we can rewrite: never block the queue. */
		rc = pw_spool_remove(&c->spool, seq, err);
	}
	if (!rc) {
		rep->results_refused++;
		snprintf(rep->job_error, sizeof rep->job_error, "%s", msg);
	}
	cJSON_Delete(out);
	cJSON_Delete(o);
	cJSON_Delete(e);
	pw_buf_release(&text);
	return rc;
}

/* One check-in request: builds the body (the inventory when
 * rep->sent_inventory, the standing refusal when `held`), sends it. */
static pw_err attempt(pw_agent_client *c, const pw_inventory *inv, const pw_runtime *rt, bool held,
		      uint64_t *sent, size_t *n_sent, uint64_t *largest, size_t *n_release,
		      long *status, pw_buf *reply, pw_agent_cycle_report *rep, pw_error *err)
{
	cJSON *body = cJSON_CreateObject();
	pw_err rc = PW_OK;
	*n_release = c->n_release;
	if (!body || !cJSON_AddStringToObject(body, "agent_id", c->agent_id) ||
	    !cJSON_AddStringToObject(body, "inventory_hash", rep->inventory_hash) ||
	    (held && !add_refusal(c, body)) || !add_release_ids(c, body))
		rc = nomem(err);
	if (!rc && rep->sent_inventory) {
		cJSON *j = pw_inventory_to_json(inv);
		if (!j || !cJSON_AddItemToObject(body, "inventory", j)) {
			cJSON_Delete(j);
			rc = nomem(err);
		}
	}
	if (!rc && rep->sent_runtime) {
		cJSON *j = pw_runtime_to_json(rt);
		if (!j || !cJSON_AddItemToObject(body, "runtime", j)) {
			cJSON_Delete(j);
			rc = nomem(err);
		}
	}
	if (!rc)
		rc = add_results(c, body, sent, n_sent, largest, rep, err);
	rep->results_sent = *n_sent;
	char *text = rc ? NULL : cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (!rc && !text)
		rc = nomem(err);
	size_t bytes = 0;
	bool gzip = false;
	if (!rc)
		rc = send_checkin(c, text, status, reply, &bytes, &gzip, err);
	if (!rc && *status == 413 && rep->sent_inventory) {
		memcpy(c->refused_hash, rep->inventory_hash, 65);
		pw_ts_seconds_now(c->refused_at);
		c->refused_time = (int64_t)time(NULL);
		c->refused_size = (int64_t)strlen(text);
		c->refused_sent = (int64_t)bytes;
		c->refused_gzip = gzip;
	}
	cJSON_free(text);
	return rc;
}

/* What the running processes use, from the executor (the privileged
 * parent: only root reads every process's maps), into res; sent when it
 * changed since the server last took it. NULL when it cannot be read:
 * the server then keeps what it has. */
static const pw_runtime *read_runtime(pw_agent_client *c, pw_exec_result *res,
				      pw_agent_cycle_report *rep)
{
	pw_exec_request *req = calloc(1, sizeof *req);
	pw_error e = PW_ERROR_INIT;
	if (!req)
		return NULL;
	req->kind = PW_EXEC_INVENTORY;
	pw_err rc = c->exec_fn(c->exec_ctx, req, res, &e);
	free(req);
	if (rc || res->status != PW_EXEC_DONE || !res->runtime) {
		snprintf(rep->runtime_error, sizeof rep->runtime_error, "%s",
			 rc ? pw_error_text(&e) : res->message);
		return NULL;
	}
	if (pw_runtime_hash(res->runtime, rep->runtime_hash, &e))
		return NULL;
	rep->sent_runtime = strcmp(rep->runtime_hash, c->acked_runtime) != 0;
	return res->runtime;
}

/* Attempts per check-in: with the inventory, without it, then with the
 * largest result rewritten (413 each time before). */
#define ATTEMPTS 5

pw_err pw_agent_client_checkin(pw_agent_client *c, pw_agent_cycle_report *rep, pw_error *err)
{
	memset(rep, 0, sizeof *rep);
	pw_error re = PW_ERROR_INIT;
	if (reboot_report(c, rep, &re))
		snprintf(rep->job_error, sizeof rep->job_error, "%s", re.msg);
	pw_inventory inv = PW_INVENTORY_INIT;
	pw_error ie = PW_ERROR_INIT;
	pw_err rc = pw_inventory_read(c->root, &inv, &ie);
	bool held = false; /* an inventory to send that the server refused lately */
	if (rc && !c->acked_hash[0]) {
		pw_inventory_release(&inv);
		return pw_error_set(err, rc, "%s", ie.msg);
	}
	if (rc) {
		/* The spool must not wait for the package database: check in
		 * with the last known hash; the jobs report the error. */
		snprintf(rep->inventory_error, sizeof rep->inventory_error, "%s", ie.msg);
		memcpy(rep->inventory_hash, c->acked_hash, 65);
		rc = PW_OK;
	} else {
		pw_inventory_hash(&inv, rep->inventory_hash);
		bool want = c->need_inventory || strcmp(rep->inventory_hash, c->acked_hash) != 0;
		held = want && refusal_holds(c, rep->inventory_hash);
		rep->sent_inventory = want && !held;
	}
	pw_exec_result rres;
	pw_exec_result_init(&rres);
	const pw_runtime *rt = read_runtime(c, &rres, rep);
	uint64_t *sent = malloc(RESULTS_PER_CHECKIN * sizeof *sent), largest = 0;
	size_t n_sent = 0, n_release = 0;
	pw_buf reply = PW_BUF_INIT;
	long status = 0;
	if (!sent)
		rc = nomem(err);
	/* Too large is not unreachable: the host must go on checking in, so
	 * again at once without what the server refused, saying why. */
	for (int i = 0; !rc && i < ATTEMPTS; i++) {
		rc = attempt(c, &inv, rt, held, sent, &n_sent, &largest, &n_release, &status,
			     &reply, rep, err);
		if (rc || status != 413)
			break;
		if (rep->sent_inventory) {
			refusal_message(c, &reply, rep);
			rep->sent_inventory = false;
			held = true;
		} else if (n_sent) {
			rc = replace_refused(c, largest, &reply, rep, err);
		} else {
			break;
		}
	}
	if (!rc && held && !rep->inventory_refused[0])
		snprintf(rep->inventory_refused, sizeof rep->inventory_refused,
			 "the server refused this inventory (%" PRId64 " bytes, %" PRId64
			 " sent%s) at %s as too large; checked in without it",
			 c->refused_size, c->refused_sent, c->refused_gzip ? " gzip" : "",
			 c->refused_at);
	if (!rc && status != 200)
		rc = http_error("check-in", status, &reply, err);
	if (!rc && n_release) {
		/* Given back (they went with this check-in); any added since stay. */
		rep->jobs_released += n_release;
		memmove(c->release, c->release + n_release,
			(c->n_release - n_release) * sizeof *c->release);
		c->n_release -= n_release;
	}
	if (!rc && rep->sent_inventory)
		c->refused_hash[0] = '\0';
	if (!rc)
		rc = handle_reply(c, &reply, sent, n_sent, rep->inventory_error[0] ? NULL : &inv,
				  rt, rep, err);
	if (c->n_release)
		release_now(c, rep);
	rep->spooled = c->spool.count;
	rep->interval = c->interval;
	pw_buf_release(&reply);
	free(sent);
	pw_inventory_release(&inv);
	pw_exec_result_release(&rres);
	return rc;
}
