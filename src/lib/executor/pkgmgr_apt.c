/* The apt backend (Debian, Ubuntu): apt-get, apt-cache, apt-mark and
 * dpkg-query run with pw_run, chrooted into ctx->root when it is not "/".
 *
 * Every package kind refreshes the package lists first, then pins each
 * requested package to one exact version (an at_least minimum becomes the
 * candidate of `apt-cache policy`, checked against the minimum in dpkg
 * order) and simulates. A patch runs only what resolves, refuses removals
 * unless allowed, installs non-interactively keeping existing
 * configuration files, and dpkg stops at the first package that fails
 * (--abort-after=1): the result names it with its script's output and the
 * dpkg state afterwards. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor-internal.h"
#include "patchwarden/fileio.h"
#include "patchwarden/procuse.h"
#include "patchwarden/vercmp.h"

#define APT_GET "/usr/bin/apt-get"
#define APT_CACHE "/usr/bin/apt-cache"
#define APT_MARK "/usr/bin/apt-mark"
#define DPKG "/usr/bin/dpkg"
#define DPKG_QUERY "/usr/bin/dpkg-query"
#define DEFAULT_TIMEOUT 1800
#define ARGV_FIXED 24
/* Wait for another apt or dpkg run (unattended-upgrades) to finish
 * rather than fail at once. */
#define LOCK_WAIT "DPkg::Lock::Timeout=300"

static const char *const apt_env[] = {
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C.UTF-8",
	"DEBIAN_FRONTEND=noninteractive",
	"APT_LISTCHANGES_FRONTEND=none",
	NULL,
};

/* ---- parsers (executor-internal.h: unit-tested on recorded output) ---- */

/* The next line of [*p, end): its start and length; *p moves past it. */
static bool next_line(const char **p, const char *end, const char **line, size_t *len)
{
	if (*p >= end)
		return false;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	*line = *p;
	*len = (size_t)((nl ? nl : end) - *p);
	*p = nl ? nl + 1 : end;
	return true;
}

/* Copies the token at *s up to a byte of `stops` (or the end) into out. */
static bool token(const char **s, const char *end, const char *stops, char *out, size_t size)
{
	const char *t = *s;
	while (t < end && !strchr(stops, *t))
		t++;
	size_t n = (size_t)(t - *s);
	if (!n || n >= size)
		return false;
	memcpy(out, *s, n);
	out[n] = '\0';
	*s = t;
	return true;
}

/* "Inst NAME [OLD] (NEW SRC [ARCH])", "Remv NAME [OLD]". */
static bool parse_action_line(const char *l, size_t n, pw_exec_change *c)
{
	const char *end = l + n, *s;
	bool inst = n > 5 && !memcmp(l, "Inst ", 5), remv = n > 5 && !memcmp(l, "Remv ", 5);
	if (!inst && !remv)
		return false;
	memset(c, 0, sizeof *c);
	s = l + 5;
	if (!token(&s, end, " ", c->name, sizeof c->name))
		return false;
	if (s + 2 < end && s[0] == ' ' && s[1] == '[') {
		s += 2;
		if (!token(&s, end, "]", c->before, sizeof c->before))
			return false;
		s++;
	}
	if (inst) {
		if (!(s + 2 < end && s[0] == ' ' && s[1] == '('))
			return false;
		s += 2;
		if (!token(&s, end, " )", c->after, sizeof c->after))
			return false;
		int cmp = c->before[0] ? pw_deb_vercmp(c->after, c->before) : 1;
		c->action = !c->before[0] ? PW_CHANGE_INSTALL
			    : cmp < 0     ? PW_CHANGE_DOWNGRADE
					  : PW_CHANGE_UPGRADE;
	} else {
		c->action = PW_CHANGE_REMOVE;
	}
	c->ok = true;
	return true;
}

pw_err pw_apt_parse_simulate(const char *out, size_t len, pw_exec_result *res, pw_error *err)
{
	const char *p = out, *end = out + len, *l;
	size_t n;
	while (next_line(&p, end, &l, &n)) {
		pw_exec_change c;
		if (parse_action_line(l, n, &c) && pw_exec_result_add_change(res, &c, err))
			return err->code;
	}
	return PW_OK;
}

bool pw_apt_parse_candidate(const char *out, size_t len, char *cand, size_t size)
{
	const char *p = out, *end = out + len, *l;
	size_t n;
	while (next_line(&p, end, &l, &n)) {
		while (n && (*l == ' ' || *l == '\t'))
			l++, n--;
		if (n > 11 && !memcmp(l, "Candidate: ", 11)) {
			const char *s = l + 11;
			return token(&s, l + n, " \r", cand, size) && strcmp(cand, "(none)");
		}
	}
	return false;
}

bool pw_apt_source_version(const char *out, size_t len, char *version, size_t size)
{
	const char *p = out, *end = out + len, *l, *bin = NULL, *src = NULL;
	size_t n, bin_n = 0, src_n = 0;
	while (next_line(&p, end, &l, &n) && n) {
		if (n > 9 && !memcmp(l, "Version: ", 9))
			bin = l + 9, bin_n = n - 9;
		else if (n > 8 && !memcmp(l, "Source: ", 8))
			src = l + 8, src_n = n - 8;
	}
	/* "Source: NAME (VERSION)" when the versions differ; "Source: NAME"
	 * or no Source field: the source has the binary's version. */
	const char *open = src ? memchr(src, '(', src_n) : NULL;
	const char *close = open ? memchr(open, ')', src_n - (size_t)(open - src)) : NULL;
	const char *v = close ? open + 1 : bin;
	size_t vn = close ? (size_t)(close - open - 1) : bin_n;
	while (vn && v[vn - 1] == '\r')
		vn--;
	if (!v || !vn || vn >= size || memchr(v, ' ', vn))
		return false;
	memcpy(version, v, vn);
	version[vn] = '\0';
	return true;
}

bool pw_apt_madison_has(const char *out, size_t len, const char *version)
{
	const char *p = out, *end = out + len, *l;
	size_t n, vl = strlen(version);
	while (next_line(&p, end, &l, &n)) {
		const char *bar = memchr(l, '|', n);
		if (!bar)
			continue;
		const char *v = bar + 1, *e = l + n;
		while (v < e && *v == ' ')
			v++;
		const char *ve = v;
		while (ve < e && *ve != ' ' && *ve != '|')
			ve++;
		if ((size_t)(ve - v) == vl && !memcmp(v, version, vl))
			return true;
	}
	return false;
}

bool pw_apt_failed_package(const char *log, size_t len, char *name, size_t size, char *why,
			   size_t why_size)
{
	static const char mark[] = "dpkg: error processing package ";
	static const char mark2[] = "dpkg: error processing archive ";
	const char *p = log, *end = log + len, *l;
	size_t n;
	while (next_line(&p, end, &l, &n)) {
		size_t m = n > sizeof mark - 1 && !memcmp(l, mark, sizeof mark - 1)
				   ? sizeof mark - 1
			   : n > sizeof mark2 - 1 && !memcmp(l, mark2, sizeof mark2 - 1)
				   ? sizeof mark2 - 1
				   : 0;
		if (!m)
			continue;
		const char *s = l + m;
		if (!token(&s, l + n, " :", name, size))
			continue;
		char *colon = strchr(name, ':'); /* NAME:ARCH */
		if (colon)
			*colon = '\0';
		const char *w;
		size_t wn;
		why[0] = '\0';
		if (next_line(&p, end, &w, &wn)) {
			while (wn && *w == ' ')
				w++, wn--;
			snprintf(why, why_size, "%.*s", (int)(wn < why_size ? wn : why_size - 1),
				 w);
		}
		return true;
	}
	return false;
}

pw_pkgdb_state pw_apt_audit_state(const char *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)out[i]))
			return PW_PKGDB_HALF_CONFIGURED;
	return PW_PKGDB_CLEAN;
}

pw_err pw_apt_security_upgrades(const char *out, size_t len, pw_exec_request *req, pw_error *err)
{
	const char *p = out, *end = out + len, *l;
	size_t n;
	while (next_line(&p, end, &l, &n)) {
		pw_exec_change c;
		if (!parse_action_line(l, n, &c) || c.action != PW_CHANGE_UPGRADE)
			continue;
		/* "(NEW LABEL:VERSION/SUITE [ARCH])": Debian-Security:12/stable-security,
		 * Ubuntu:22.04/jammy-security */
		const char *open = memchr(l, '(', n);
		const char *close = open ? memchr(open, ')', (size_t)(l + n - open)) : NULL;
		if (!close || !memmem(open, (size_t)(close - open), "-security", 9))
			continue;
		if (req->n_packages >= PW_EXEC_MAX_PACKAGES)
			return pw_error_set(err, PW_ERR_TOOLARGE,
					    "more than %d security updates pending: name the "
					    "packages in several jobs",
					    PW_EXEC_MAX_PACKAGES);
		pw_exec_package *pk = &req->packages[req->n_packages++];
		memset(pk, 0, sizeof *pk);
		memcpy(pk->name, c.name, sizeof pk->name);
		memcpy(pk->version, c.after, sizeof pk->version);
	}
	return PW_OK;
}

/* ---- running ------------------------------------------------------------ */

static void log_append(pw_exec_result *res, const char *s, size_t n)
{
	if (res->log.len >= PW_EXEC_LOG_MAX)
		return;
	if (n > PW_EXEC_LOG_MAX - res->log.len)
		n = PW_EXEC_LOG_MAX - res->log.len;
	(void)pw_buf_append(&res->log, s, n);
}

/* Runs argv in the root. With res, the command line and its output go to
 * res's log. PW_OK when it ran (rr has the exit status). */
static pw_err apt_run(const pw_pkgmgr_ctx *ctx, const char *const argv[], pw_run_result *rr,
		      pw_exec_result *res, pw_error *err)
{
	pw_run_opts o = {
		apt_env,         ctx->root, NULL, ctx->timeout_s ? ctx->timeout_s : DEFAULT_TIMEOUT,
		PW_EXEC_LOG_MAX, NULL,      0};
	pw_run_result_release(rr);
	*rr = (pw_run_result)PW_RUN_RESULT_INIT;
	if (res) {
		log_append(res, "$", 1);
		for (size_t i = 0; argv[i]; i++) {
			log_append(res, " ", 1);
			log_append(res, argv[i], strlen(argv[i]));
		}
		log_append(res, "\n", 1);
	}
	pw_err rc = pw_run(argv, &o, rr, err);
	if (!rc && res) {
		log_append(res, rr->output.data ? rr->output.data : "", rr->output.len);
		if (rr->exit_code != 0) {
			char d[64], line[96];
			pw_run_describe(rr, &o, d, sizeof d);
			int k = snprintf(line, sizeof line, "[%s]\n", d);
			log_append(res, line, (size_t)k);
		}
	}
	return rc;
}

static bool ran_ok(const pw_run_result *rr)
{
	return rr->exit_code == 0 && !rr->signal && !rr->timed_out;
}

/* dpkg-query's installed version of `name` ("" when not installed), its
 * status word ("installed", "half-configured", ...) and, when `source`
 * is not NULL, the version of the source package it was built from. */
static pw_err query_version(const pw_pkgmgr_ctx *ctx, const char *name, char *version, size_t vsize,
			    char *state, size_t ssize, char *source, pw_error *err)
{
	const char *argv[] = {DPKG_QUERY, "-W", "-f=${Version}\\t${source:Version}\\t${Status}\\n",
			      "--",       name, NULL};
	pw_run_result rr = PW_RUN_RESULT_INIT;
	version[0] = state[0] = '\0';
	if (source)
		source[0] = '\0';
	pw_err rc = apt_run(ctx, argv, &rr, NULL, err);
	if (!rc && ran_ok(&rr) && rr.output.len) {
		const char *s = rr.output.data, *end = s + rr.output.len;
		char v[PW_EXEC_VERSION_MAX + 1] = "", sv[PW_EXEC_VERSION_MAX + 1] = "", st[96] = "";
		const char *t = memchr(s, '\t', (size_t)(end - s));
		const char *t2 = t ? memchr(t + 1, '\t', (size_t)(end - t - 1)) : NULL;
		if (t && t > s)
			token(&s, end, "\t", v, sizeof v);
		if (t2) {
			const char *u = t + 1, *w = t2 + 1;
			if (t2 > u)
				token(&u, end, "\t", sv, sizeof sv);
			token(&w, end, "\n", st, sizeof st);
		}
		const char *word = strrchr(st, ' ');
		word = word ? word + 1 : st;
		snprintf(state, ssize, "%s", word);
		if (strcmp(word, "not-installed") && strcmp(word, "config-files")) {
			snprintf(version, vsize, "%s", v);
			if (source)
				snprintf(source, PW_EXEC_VERSION_MAX + 1, "%s", sv[0] ? sv : v);
		}
	}
	pw_run_result_release(&rr);
	return rc;
}

static pw_err cache_output(const pw_pkgmgr_ctx *ctx, const char *what, const char *name,
			   pw_run_result *rr, pw_error *err)
{
	const char *argv[] = {APT_CACHE, what, "--", name, NULL};
	return apt_run(ctx, argv, rr, NULL, err);
}

static pw_err update_lists(const pw_pkgmgr_ctx *ctx, pw_exec_result *res, pw_error *err)
{
	const char *argv[] = {APT_GET, "update", "-q", "-o", LOCK_WAIT, NULL};
	pw_run_result rr = PW_RUN_RESULT_INIT;
	pw_err rc = apt_run(ctx, argv, &rr, res, err);
	pw_run_result_release(&rr);
	return rc;
}

/* The source version of candidate `cand` of `name` (apt-cache show);
 * false with err set when apt-cache fails. */
static bool candidate_source(const pw_pkgmgr_ctx *ctx, const char *name, const char *cand,
			     char *out, pw_error *err)
{
	char spec[PW_EXEC_NAME_MAX + PW_EXEC_VERSION_MAX + 2];
	snprintf(spec, sizeof spec, "%s=%s", name, cand);
	pw_run_result rr = PW_RUN_RESULT_INIT;
	if (cache_output(ctx, "show", spec, &rr, err))
		return false;
	/* no Source field to read: the binary's version stands */
	if (ran_ok(&rr))
		(void)pw_apt_source_version(rr.output.data ? rr.output.data : "", rr.output.len,
					    out, PW_EXEC_VERSION_MAX + 1);
	pw_run_result_release(&rr);
	return true;
}

/* "name=version" for each request package, all allocated in one block. */
typedef struct pinned {
	size_t n;
	char (*spec)[PW_EXEC_NAME_MAX + PW_EXEC_VERSION_MAX + 2];
	bool *skip; /* already at (or past) what was asked */
} pinned;

static void pinned_release(pinned *p)
{
	free(p->spec);
	free(p->skip);
}

/* Fixes each package's exact version: given, or the candidate (checked
 * against an at_least minimum). Sets res (FAILED/REFUSED) and returns
 * false when one cannot be pinned. For a rollback the version must be
 * older than the installed one and still in the repository. */
static bool pin_versions(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pinned *pin,
			 pw_exec_result *res, pw_error *err)
{
	pin->n = req->n_packages;
	pin->spec = calloc(req->n_packages ? req->n_packages : 1, sizeof *pin->spec);
	pin->skip = calloc(req->n_packages ? req->n_packages : 1, sizeof *pin->skip);
	if (!pin->spec || !pin->skip) {
		pw_error_set(err, PW_ERR_NOMEM, "out of memory pinning versions");
		return false;
	}
	bool rollback = req->kind == PW_EXEC_ROLLBACK;
	for (size_t i = 0; i < req->n_packages; i++) {
		const pw_exec_package *p = &req->packages[i];
		char inst[PW_EXEC_VERSION_MAX + 1], state[32], cand[PW_EXEC_VERSION_MAX + 1] = "";
		char inst_src[PW_EXEC_VERSION_MAX + 1], cand_src[PW_EXEC_VERSION_MAX + 1];
		pw_run_result rr = PW_RUN_RESULT_INIT;
		if (query_version(ctx, p->name, inst, sizeof inst, state, sizeof state, inst_src,
				  err))
			return false;
		const char *want = p->version;
		if (rollback) {
			if (cache_output(ctx, "madison", p->name, &rr, err))
				return false;
			bool has = pw_apt_madison_has(rr.output.data ? rr.output.data : "",
						      rr.output.len, p->version);
			pw_run_result_release(&rr);
			if (!inst[0] || pw_deb_vercmp(p->version, inst) >= 0) {
				pw_exec_result_say(
					res, PW_EXEC_REFUSED,
					"%s: %s is not older than the installed version "
					"(%s): a rollback only installs an older version",
					p->name, p->version, inst[0] ? inst : "none");
				return false;
			}
			if (!has) {
				pw_exec_result_say(res, PW_EXEC_REFUSED,
						   "%s %s: the repository no longer has this "
						   "version, so it cannot be rolled back to "
						   "(apt-cache madison %s lists what it has)",
						   p->name, p->version, p->name);
				return false;
			}
		} else if (!p->version[0] || p->at_least) {
			if (cache_output(ctx, "policy", p->name, &rr, err))
				return false;
			bool found = pw_apt_parse_candidate(rr.output.data ? rr.output.data : "",
							    rr.output.len, cand, sizeof cand);
			pw_run_result_release(&rr);
			if (!found) {
				pw_exec_result_say(res, PW_EXEC_FAILED,
						   "%s: no installable version in the configured "
						   "repositories (apt-cache policy: no candidate)",
						   p->name);
				return false;
			}
			/* An at_least minimum is a source package's fixed version:
			 * compared with the source versions, since a binary's own
			 * version may differ (gcc 4:12.2.0-3 from gcc-defaults 1.203). */
			snprintf(cand_src, sizeof cand_src, "%s", cand);
			if (p->at_least && !candidate_source(ctx, p->name, cand, cand_src, err))
				return false;
			if (p->version[0] && pw_deb_vercmp(cand_src, p->version) < 0) {
				pw_exec_result_say(res, PW_EXEC_FAILED,
						   "%s: the newest available version %s (source "
						   "version %s) is older than %s: the "
						   "repositories do not have the fix yet",
						   p->name, cand, cand_src, p->version);
				return false;
			}
			want = cand;
			if (p->at_least && inst[0] && pw_deb_vercmp(inst_src, p->version) >= 0)
				pin->skip[i] = true;
		} else if (inst[0] && pw_deb_vercmp(p->version, inst) < 0) {
			pw_exec_result_say(res, PW_EXEC_REFUSED,
					   "%s: %s is older than the installed %s: a patch does "
					   "not downgrade (a rollback job does)",
					   p->name, p->version, inst);
			return false;
		}
		if (inst[0] && !strcmp(inst, want) && !strcmp(state, "installed"))
			pin->skip[i] = true;
		snprintf(pin->spec[i], sizeof pin->spec[i], "%s=%s", p->name, want);
	}
	return true;
}

/* Requested packages that are held: a hold is the operator's word. */
static bool check_holds(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
			pw_error *err, pw_err *rc)
{
	const char *argv[] = {APT_MARK, "showhold", NULL};
	pw_run_result rr = PW_RUN_RESULT_INIT;
	if ((*rc = apt_run(ctx, argv, &rr, NULL, err)))
		return false;
	const char *p = rr.output.data ? rr.output.data : "", *end = p + rr.output.len, *l;
	size_t n;
	bool held = false;
	while (!held && next_line(&p, end, &l, &n))
		for (size_t i = 0; i < req->n_packages && !held; i++)
			if (strlen(req->packages[i].name) == n &&
			    !memcmp(l, req->packages[i].name, n)) {
				held = true;
				pw_exec_result_say(res,
						   req->kind == PW_EXEC_SIMULATE ? PW_EXEC_DONE
										 : PW_EXEC_REFUSED,
						   "%s is held (apt-mark hold): an unhold job must "
						   "release it first",
						   req->packages[i].name);
			}
	pw_run_result_release(&rr);
	return held;
}

/* apt-get with the fixed options, then the pinned specs (skips left
 * out); `extra` options before them. *any: there was something to do. */
static pw_err apt_get(const pw_pkgmgr_ctx *ctx, const char *const *fixed, const pinned *pin,
		      bool *any, pw_run_result *rr, pw_exec_result *res, pw_error *err)
{
	const char **argv = calloc(ARGV_FIXED + pin->n + 1, sizeof *argv);
	if (!argv)
		return pw_error_set(err, PW_ERR_NOMEM,
				    "out of memory building apt-get's arguments");
	size_t k = 0;
	while (fixed[k] && k < ARGV_FIXED - 1) {
		argv[k] = fixed[k];
		k++;
	}
	argv[k++] = "--";
	size_t first = k;
	for (size_t i = 0; i < pin->n; i++)
		if (!pin->skip[i])
			argv[k++] = pin->spec[i];
	*any = k > first;
	pw_err rc = *any ? apt_run(ctx, argv, rr, res, err) : PW_OK;
	free(argv);
	return rc;
}

static pw_err simulate(const pw_pkgmgr_ctx *ctx, const pinned *pin, bool downgrades,
		       pw_exec_result *res, pw_error *err)
{
	const char *fixed[8] = {APT_GET, "-s", "-q", "install", "--no-install-recommends"};
	if (downgrades)
		fixed[5] = "--allow-downgrades";
	pw_run_result rr = PW_RUN_RESULT_INIT;
	bool any;
	pw_err rc = apt_get(ctx, fixed, pin, &any, &rr, res, err);
	if (!rc && any) {
		res->resolves = ran_ok(&rr);
		res->exit_code = rr.exit_code;
		rc = pw_apt_parse_simulate(rr.output.data ? rr.output.data : "", rr.output.len, res,
					   err);
	} else if (!rc) {
		res->resolves = true;
		res->exit_code = 0;
	}
	pw_run_result_release(&rr);
	return rc;
}

static pw_pkgdb_state apt_db_state(const pw_pkgmgr_ctx *ctx, pw_buf *detail)
{
	const char *audit[] = {DPKG, "--audit", NULL};
	const char *check[] = {APT_GET, "check", "-q", NULL};
	pw_run_result rr = PW_RUN_RESULT_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_pkgdb_state st = PW_PKGDB_UNKNOWN;
	if (!apt_run(ctx, audit, &rr, NULL, &e)) {
		st = pw_apt_audit_state(rr.output.data ? rr.output.data : "", rr.output.len);
		if (detail && st != PW_PKGDB_CLEAN)
			(void)pw_buf_append(detail, rr.output.data, rr.output.len);
	}
	if (st == PW_PKGDB_CLEAN && !apt_run(ctx, check, &rr, NULL, &e) && !ran_ok(&rr)) {
		st = PW_PKGDB_BROKEN;
		if (detail)
			(void)pw_buf_append(detail, rr.output.data, rr.output.len);
	}
	pw_run_result_release(&rr);
	return st;
}

/* `rel` (under /var/run) as a path outside the root: var/run is a
 * symlink to /run, which must resolve inside the root, not here. */
static void run_path(const char *root, const char *rel, char *path, size_t size)
{
	if (!root || !strcmp(root, "/"))
		snprintf(path, size, "/var/run/%s", rel);
	else
		snprintf(path, size, "%s/run/%s", root, rel);
}

/* needs_reboot from /var/run/reboot-required, and the packages that
 * asked for it (reboot-required.pkgs, one a line) into `why`; or a
 * kernel package among the changes. */
static bool reboot_needed(const char *root, const pw_exec_result *res, char *why, size_t size)
{
	char path[4096];
	why[0] = '\0';
	run_path(root, "reboot-required", path, sizeof path);
	bool flag = access(path, F_OK) == 0;
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	run_path(root, "reboot-required.pkgs", path, sizeof path);
	if (flag && !pw_read_file(path, &b, 65536, &e) && b.len) {
		size_t len = 0;
		const char *p = b.data, *end = b.data + b.len, *l;
		size_t n;
		while (len + 1 < size && next_line(&p, end, &l, &n))
			if (n && !memmem(why, len, l, n))
				len += (size_t)snprintf(why + len, size - len, "%s%.*s",
							len ? ", " : "", (int)n, l);
	}
	pw_buf_release(&b);
	for (size_t i = 0; i < res->n_changes && !flag; i++)
		if (!strncmp(res->changes[i].name, "linux-image-", 12) &&
		    res->changes[i].action != PW_CHANGE_REMOVE) {
			flag = true;
			snprintf(why, size, "%s", res->changes[i].name);
		}
	return flag;
}

/* Units whose processes still map deleted files (old code that an
 * upgrade replaced): on the running system only. */
static pw_err restart_services(const pw_pkgmgr_ctx *ctx, pw_exec_result *res, pw_error *err)
{
	if (ctx->root && strcmp(ctx->root, "/"))
		return PW_OK;
	pw_procuse *pu = NULL;
	pw_error e = PW_ERROR_INIT;
	if (pw_procuse_read("/proc", "/", &pu, &e))
		return PW_OK; /* not knowing is not a failed patch */
	pw_err rc = PW_OK;
	for (size_t i = 0; !rc && i < pw_procuse_deleted_count(pu); i++) {
		const pw_proc_deleted *d = pw_procuse_deleted(pu, i);
		if (!d->package)
			continue;
		char unit[256];
		if (pw_pid_unit(d->pid, unit, sizeof unit))
			rc = pw_exec_result_add_service(res, unit, err);
	}
	pw_procuse_free(pu);
	return rc;
}

/* The installed version of `name` in dpkg-query output of
 * "${Package}\t${Version}\t${Status}" lines ("" when not installed);
 * *half: its state is not "installed". Lines without tabs (dpkg-query's
 * complaints about unknown names) are skipped. */
static void version_in(const pw_buf *out, const char *name, char *version, size_t size, bool *half)
{
	const char *p = out->data ? out->data : "", *end = p + out->len, *l;
	size_t n, nl = strlen(name);
	version[0] = '\0';
	*half = false;
	while (next_line(&p, end, &l, &n)) {
		const char *t1 = memchr(l, '\t', n);
		const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(l + n - t1 - 1)) : NULL;
		if (!t2 || (size_t)(t1 - l) != nl || memcmp(l, name, nl))
			continue;
		const char *st = memrchr(t2, ' ', (size_t)(l + n - t2));
		st = st ? st + 1 : t2 + 1;
		size_t sl = (size_t)(l + n - st);
		if ((sl == 13 && !memcmp(st, "not-installed", 13)) ||
		    (sl == 12 && !memcmp(st, "config-files", 12)))
			continue;
		snprintf(version, size, "%.*s", (int)(t2 - t1 - 1), t1 + 1);
		*half = !(sl == 9 && !memcmp(st, "installed", 9));
		return;
	}
}

/* Every change's before (after == false) or after version from one
 * dpkg-query; after: ok when it reached what the simulation said. */
static pw_err snapshot(const pw_pkgmgr_ctx *ctx, pw_exec_result *res, bool after, pw_error *err)
{
	const char **argv = calloc(res->n_changes + 5, sizeof *argv);
	if (!argv)
		return pw_error_set(err, PW_ERR_NOMEM,
				    "out of memory building dpkg-query's "
				    "arguments");
	argv[0] = DPKG_QUERY;
	argv[1] = "-W";
	argv[2] = "-f=${Package}\\t${Version}\\t${Status}\\n";
	argv[3] = "--";
	for (size_t i = 0; i < res->n_changes; i++)
		argv[4 + i] = res->changes[i].name;
	pw_run_result rr = PW_RUN_RESULT_INIT;
	pw_err rc = apt_run(ctx, argv, &rr, NULL, err);
	free(argv);
	for (size_t i = 0; !rc && i < res->n_changes; i++) {
		pw_exec_change *c = &res->changes[i];
		char now[PW_EXEC_VERSION_MAX + 1];
		bool half;
		version_in(&rr.output, c->name, now, sizeof now, &half);
		if (!after) {
			memcpy(c->before, now, sizeof c->before);
			continue;
		}
		bool gone = c->action == PW_CHANGE_REMOVE;
		c->ok = gone ? !now[0] : !strcmp(now, c->after) && !half;
		if (!gone || now[0])
			memcpy(c->after, now, sizeof c->after);
	}
	pw_run_result_release(&rr);
	return rc;
}

static void say_failure(pw_exec_result *res, const char *what)
{
	char name[PW_EXEC_NAME_MAX + 1], why[200];
	const char *log = res->log.data ? res->log.data : "";
	if (pw_apt_failed_package(log, res->log.len, name, sizeof name, why, sizeof why))
		pw_exec_result_say(res, PW_EXEC_FAILED,
				   "%s failed at %s: %s; dpkg stopped there (the package database "
				   "is %s; the log has the script's output)",
				   what, name, why, pw_pkgdb_state_name(res->db_state));
	else
		pw_exec_result_say(res, PW_EXEC_FAILED,
				   "%s failed: apt-get exit status %d (the package database is %s; "
				   "see the log)",
				   what, res->exit_code, pw_pkgdb_state_name(res->db_state));
}

static pw_err configure_pending(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req,
				pw_exec_result *res, bool *stop, pw_error *err)
{
	pw_buf detail = PW_BUF_INIT;
	pw_pkgdb_state st = apt_db_state(ctx, &detail);
	*stop = false;
	pw_err rc = PW_OK;
	if (st == PW_PKGDB_HALF_CONFIGURED && !(req->flags & PW_EXEC_CONFIGURE_PENDING)) {
		log_append(res, detail.data ? detail.data : "", detail.len);
		res->db_state = st;
		pw_exec_result_say(res, PW_EXEC_REFUSED,
				   "dpkg has packages left unconfigured by an earlier run (dpkg "
				   "--audit, in the log): a job with configure_pending finishes "
				   "them first");
		*stop = true;
	} else if (st == PW_PKGDB_HALF_CONFIGURED) {
		const char *argv[] = {DPKG, "--configure", "-a", NULL};
		pw_run_result rr = PW_RUN_RESULT_INIT;
		rc = apt_run(ctx, argv, &rr, res, err);
		if (!rc && !ran_ok(&rr)) {
			res->exit_code = rr.exit_code;
			res->db_state = apt_db_state(ctx, NULL);
			say_failure(res, "dpkg --configure -a");
			*stop = true;
		}
		pw_run_result_release(&rr);
	}
	pw_buf_release(&detail);
	return rc;
}

/* The pending upgrades from -security suites, as exact versions. */
static pw_err security_upgrades(const pw_pkgmgr_ctx *ctx, pw_exec_request *req, pw_exec_result *res,
				pw_error *err)
{
	const char *argv[] = {APT_GET, "-s", "-q", "upgrade", NULL};
	pw_run_result rr = PW_RUN_RESULT_INIT;
	pw_err rc = apt_run(ctx, argv, &rr, res, err);
	if (!rc && !ran_ok(&rr))
		rc = pw_error_set(err, PW_ERR_EXTERNAL,
				  "apt-get -s upgrade failed (exit status %d): see the log",
				  rr.exit_code);
	if (!rc)
		rc = pw_apt_security_upgrades(rr.output.data ? rr.output.data : "", rr.output.len,
					      req, err);
	pw_run_result_release(&rr);
	return rc;
}

static bool has_removals(const pw_exec_result *res, char *names, size_t size)
{
	size_t len = 0;
	bool any = false;
	names[0] = '\0';
	for (size_t i = 0; i < res->n_changes; i++)
		if (res->changes[i].action == PW_CHANGE_REMOVE) {
			any = true;
			if (len < size)
				len += (size_t)snprintf(names + len, size - len, "%s%s",
							len ? ", " : "", res->changes[i].name);
		}
	return any;
}

/* patch and rollback: simulate, then install. */
static pw_err install(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, const pinned *pin,
		      pw_exec_result *res, pw_error *err)
{
	bool rollback = req->kind == PW_EXEC_ROLLBACK;
	pw_err rc = simulate(ctx, pin, rollback, res, err);
	if (rc)
		return rc;
	if (!res->resolves)
		return pw_exec_result_say(res, PW_EXEC_FAILED,
					  "the request does not resolve (apt-get -s exit status "
					  "%d; the log says why): nothing was installed",
					  res->exit_code);
	char removed[256];
	if (has_removals(res, removed, sizeof removed) && !(req->flags & PW_EXEC_ALLOW_REMOVE))
		return pw_exec_result_say(res, PW_EXEC_REFUSED,
					  "the upgrade would remove %s; refused without "
					  "allow_remove: nothing was installed",
					  removed);
	if (!res->n_changes)
		return pw_exec_result_say(res, PW_EXEC_DONE,
					  "nothing to do: the requested versions are installed");
	const char *fixed[16] = {APT_GET,
				 "install",
				 "-o",
				 LOCK_WAIT,
				 "-y",
				 "-q",
				 "--no-install-recommends",
				 "-o",
				 "Dpkg::Options::=--force-confold",
				 "-o",
				 "Dpkg::Options::=--force-confdef",
				 "-o",
				 "Dpkg::Options::=--abort-after=1"};
	size_t k = 0;
	while (fixed[k])
		k++;
	if (!(req->flags & PW_EXEC_ALLOW_REMOVE))
		fixed[k++] = "--no-remove";
	if (rollback)
		fixed[k++] = "--allow-downgrades";
	pw_run_result rr = PW_RUN_RESULT_INIT;
	bool any;
	if ((rc = snapshot(ctx, res, false, err)))
		return rc;
	rc = apt_get(ctx, fixed, pin, &any, &rr, res, err);
	if (!rc) {
		res->exit_code = rr.exit_code;
		rc = snapshot(ctx, res, true, err);
	}
	bool ok = !rc && ran_ok(&rr);
	pw_run_result_release(&rr);
	if (rc)
		return rc;
	res->db_state = apt_db_state(ctx, NULL);
	char reboot_why[200];
	res->needs_reboot = reboot_needed(ctx->root, res, reboot_why, sizeof reboot_why);
	if ((rc = restart_services(ctx, res, err)))
		return rc;
	if (!ok) {
		say_failure(res, rollback ? "the rollback" : "the patch");
		return PW_OK;
	}
	size_t done = 0;
	for (size_t i = 0; i < res->n_changes; i++)
		done += res->changes[i].ok;
	return pw_exec_result_say(res, done == res->n_changes ? PW_EXEC_DONE : PW_EXEC_FAILED,
				  "%zu of %zu package changes made%s%s%s", done, res->n_changes,
				  res->needs_reboot ? "; the host needs a reboot" : "",
				  reboot_why[0] ? " for " : "", reboot_why);
}

static pw_err hold(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
		   pw_error *err)
{
	bool on = req->kind == PW_EXEC_HOLD;
	const char **argv = calloc(req->n_packages + 4, sizeof *argv);
	if (!argv)
		return pw_error_set(err, PW_ERR_NOMEM,
				    "out of memory building apt-mark's arguments");
	argv[0] = APT_MARK;
	argv[1] = on ? "hold" : "unhold";
	argv[2] = "--";
	for (size_t i = 0; i < req->n_packages; i++)
		argv[3 + i] = req->packages[i].name;
	pw_run_result rr = PW_RUN_RESULT_INIT;
	pw_err rc = apt_run(ctx, argv, &rr, res, err);
	free(argv);
	if (rc)
		return rc;
	res->exit_code = rr.exit_code;
	const char *show[] = {APT_MARK, "showhold", NULL};
	rc = apt_run(ctx, show, &rr, NULL, err);
	size_t done = 0;
	for (size_t i = 0; !rc && i < req->n_packages; i++) {
		pw_exec_change c = {0};
		snprintf(c.name, sizeof c.name, "%s", req->packages[i].name);
		char state[32];
		if ((rc = query_version(ctx, c.name, c.before, sizeof c.before, state, sizeof state,
					NULL, err)))
			break;
		memcpy(c.after, c.before, sizeof c.after);
		c.action = on ? PW_CHANGE_HOLD : PW_CHANGE_UNHOLD;
		const char *p = rr.output.data ? rr.output.data : "", *end = p + rr.output.len, *l;
		size_t n;
		bool held = false;
		while (!held && next_line(&p, end, &l, &n))
			held = n == strlen(c.name) && !memcmp(l, c.name, n);
		c.ok = held == on;
		done += c.ok;
		rc = pw_exec_result_add_change(res, &c, err);
	}
	pw_run_result_release(&rr);
	if (rc)
		return rc;
	return pw_exec_result_say(res, done == req->n_packages ? PW_EXEC_DONE : PW_EXEC_FAILED,
				  "%zu of %zu packages %s", done, req->n_packages,
				  on ? "held" : "no longer held");
}

static pw_err apt_do(const pw_pkgmgr_ctx *ctx, const pw_exec_request *req, pw_exec_result *res,
		     pw_error *err)
{
	if (req->kind == PW_EXEC_HOLD || req->kind == PW_EXEC_UNHOLD)
		return hold(ctx, req, res, err);
	if (req->kind != PW_EXEC_SIMULATE && req->kind != PW_EXEC_PATCH &&
	    req->kind != PW_EXEC_ROLLBACK)
		return pw_exec_result_say(res, PW_EXEC_REFUSED, "the apt backend does not run %s",
					  pw_exec_kind_name(req->kind));
	if (!req->n_packages && !(req->flags & PW_EXEC_ALL_SECURITY))
		return pw_exec_result_say(res, PW_EXEC_REFUSED, "no packages named");
	pw_err rc = PW_OK;
	if (req->kind != PW_EXEC_SIMULATE) {
		bool stop;
		if ((rc = configure_pending(ctx, req, res, &stop, err)) || stop)
			return rc;
	}
	if ((rc = update_lists(ctx, res, err)))
		return rc;
	pw_exec_request *sec = NULL;
	if (req->flags & PW_EXEC_ALL_SECURITY) {
		if (!(sec = calloc(1, sizeof *sec)))
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		sec->kind = req->kind;
		sec->flags = req->flags;
		rc = security_upgrades(ctx, sec, res, err);
		if (rc || !sec->n_packages) {
			free(sec);
			res->resolves = !rc;
			return rc ? pw_exec_result_say(res, PW_EXEC_FAILED, "%s",
						       pw_error_text(err))
				  : pw_exec_result_say(res, PW_EXEC_DONE,
						       "no security updates pending");
		}
		req = sec;
	}
	pinned pin = {0, NULL, NULL};
	if (check_holds(ctx, req, res, err, &rc) || rc) {
		res->resolves = false;
	} else if (!pin_versions(ctx, req, &pin, res, err)) {
		rc = err->code;
	} else if (req->kind == PW_EXEC_SIMULATE) {
		rc = simulate(ctx, &pin, false, res, err);
		if (!rc)
			pw_exec_result_say(res, PW_EXEC_DONE,
					   res->resolves ? "resolves: %zu package changes"
							 : "does not resolve (%zu changes listed; "
							   "the log says why)",
					   res->n_changes);
	} else {
		rc = install(ctx, req, &pin, res, err);
	}
	pinned_release(&pin);
	free(sec);
	return rc;
}

const pw_pkgmgr pw_pkgmgr_apt = {"apt", "debian ubuntu", apt_do, apt_db_state};
