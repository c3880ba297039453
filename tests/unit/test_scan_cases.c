/* Data-driven scan cases: every directory under $PW_TEST_DATA/scan/ that
 * holds a `case` file is one case; adding a case adds no code.
 *
 * case file, one directive a line ('#' comments; ${PW_SHARED_DATA} and
 * ${PW_TEST_DATA} are expanded; relative paths are the case directory's):
 *   inventory FILE.json          an inventory as `patchwarden inventory --json` writes it
 *   dpkg FILE | apk FILE         a package database file, with:
 *   os ID VERSION_ID [CODENAME]  its os-release identity
 *   feed PATH-OR-GLOB            feed files or directories (walked, .gz inflated),
 *                                parsed with pw_feed_detect/pw_feed_parse straight into
 *                                the index (no store); repeatable
 *   exposure internet|internal|isolated
 *   e2e                          also run end to end (tests/scripts/scan_cases.sh)
 * expected.txt: one "package installed fixed advisory" line per finding, sorted.
 * expected-summary.txt (optional): "emergency N high N normal N low N unfixed N inactive N".
 * expected-unfixed.txt (optional): "package installed advisory" per unfixed entry.
 *
 * PW_SCAN_CASES_WRITE=1 writes the expected files from the current result
 * instead of comparing (review them before committing!). PW_SCAN_CASE=name
 * runs one case only. */
#include <dirent.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <zlib.h>

#include "patchwarden/ecosystem.h"
#include "patchwarden/feed.h"
#include "patchwarden/fileio.h"
#include "patchwarden/scan.h"

#define MAX_FEED_FILE ((size_t)512 << 20)

struct feed_stats {
	size_t files, parsed, failed;
};

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

/* ${PW_SHARED_DATA}, ${PW_TEST_DATA}, and case-relative paths. */
static void expand(const char *dir, const char *in, char *out, size_t size)
{
	pw_buf b = PW_BUF_INIT;
	if (in[0] != '/' && in[0] != '$')
		pw_buf_printf(&b, "%s/", dir);
	for (const char *p = in; *p;) {
		if (strncmp(p, "${PW_SHARED_DATA}", 17) == 0) {
			pw_buf_puts(&b, env_or("PW_SHARED_DATA", "../shared/data"));
			p += 17;
		} else if (strncmp(p, "${PW_TEST_DATA}", 15) == 0) {
			pw_buf_puts(&b, env_or("PW_TEST_DATA", "tests/data"));
			p += 15;
		} else {
			pw_buf_putc(&b, *p++);
		}
	}
	snprintf(out, size, "%s", pw_buf_str(&b));
	pw_buf_release(&b);
}

static bool read_gz(const char *path, pw_buf *out)
{
	gzFile g = gzopen(path, "rb");
	if (!g)
		return false;
	char chunk[65536];
	int n;
	while ((n = gzread(g, chunk, sizeof chunk)) > 0)
		pw_buf_append(out, chunk, (size_t)n);
	bool ok = n == 0;
	gzclose(g);
	return ok;
}

static void feed_file(const char *path, const pw_feed_sink *sink, struct feed_stats *st)
{
	pw_buf b = PW_BUF_INIT;
	size_t n = strlen(path);
	bool ok = n > 3 && strcmp(path + n - 3, ".gz") == 0
			  ? read_gz(path, &b)
			  : pw_read_file(path, &b, MAX_FEED_FILE, NULL) == PW_OK;
	st->files++;
	pw_feed_format f = ok ? pw_feed_detect(b.data ? b.data : "", b.len, path) : PW_FEED_UNKNOWN;
	if (f != PW_FEED_UNKNOWN) {
		pw_error e = PW_ERROR_INIT;
		if (pw_feed_parse(f, b.data ? b.data : "", b.len, path, sink, &e) == PW_OK) {
			st->parsed++;
		} else {
			st->failed++;
			print_message("  feed file skipped: %s\n", pw_error_text(&e));
		}
	}
	pw_buf_release(&b);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files and directories (walked in name order, for stable warnings). */
static void feed_path(const char *path, const pw_feed_sink *sink, struct feed_stats *st)
{
	struct stat sb;
	if (stat(path, &sb) != 0)
		fail_msg("feed path %s does not exist", path);
	if (!S_ISDIR(sb.st_mode)) {
		feed_file(path, sink, st);
		return;
	}
	DIR *d = opendir(path);
	assert_non_null(d);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			names = realloc(names, cap * sizeof *names);
			assert_non_null(names);
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n; i++) {
		char sub[4096];
		snprintf(sub, sizeof sub, "%s/%s", path, names[i]);
		feed_path(sub, sink, st);
		free(names[i]);
	}
	free(names);
}

struct index_warnings {
	size_t n;
};

static void count_warn(void *ctx, const char *where, const char *message)
{
	(void)where;
	(void)message;
	((struct index_warnings *)ctx)->n++;
}

static char *read_text(const char *path)
{
	pw_buf b = PW_BUF_INIT;
	if (pw_read_file(path, &b, 0, NULL) != PW_OK) {
		pw_buf_release(&b);
		return NULL;
	}
	/* An empty file leaves the buffer allocated but unterminated. */
	char *text = strndup(b.data ? b.data : "", b.len);
	pw_buf_release(&b);
	return text;
}

/* Cuts the next line off *p (in place); NULL at the end. */
static char *next_line(char **p)
{
	if (!**p)
		return NULL;
	char *line = *p, *eol = strchr(line, '\n');
	if (eol) {
		*eol = '\0';
		*p = eol + 1;
	} else {
		*p = line + strlen(line);
	}
	return line;
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the lines of text in place (a copy is returned). */
static char *sorted_lines(const char *text)
{
	char *copy = strdup(text);
	size_t n = 0, cap = 64;
	char **lines = malloc(cap * sizeof *lines);
	for (char *p = copy; *p;) {
		char *eol = strchr(p, '\n');
		if (eol)
			*eol = '\0';
		if (*p) {
			if (n == cap)
				lines = realloc(lines, (cap *= 2) * sizeof *lines);
			lines[n++] = p;
		}
		p = eol ? eol + 1 : p + strlen(p);
	}
	qsort(lines, n, sizeof *lines, cmp_lines);
	pw_buf b = PW_BUF_INIT;
	for (size_t i = 0; i < n; i++)
		pw_buf_printf(&b, "%s\n", lines[i]);
	if (!b.data)
		pw_buf_puts(&b, "");
	free(lines);
	free(copy);
	return pw_buf_detach(&b);
}

/* Compares (or, with PW_SCAN_CASES_WRITE, writes) one expected file;
 * returns false on a difference, after printing it. */
static bool check(const char *dir, const char *file, const char *got, bool optional)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	if (getenv("PW_SCAN_CASES_WRITE")) {
		assert_int_equal(pw_write_file_atomic(path, got, strlen(got), 0644, NULL), PW_OK);
		print_message("  wrote %s\n", path);
		return true;
	}
	char *want = read_text(path);
	if (!want) {
		if (optional)
			return true;
		print_message("  %s is missing\n", path);
		return false;
	}
	char *w = sorted_lines(want);
	bool same = strcmp(w, got) == 0;
	if (!same) {
		/* Lines only one side has, so a long case shows what changed. */
		print_message("  %s differs:\n", path);
		char *g = strdup(got), *cur = g;
		size_t shown = 0;
		for (char *l; (l = next_line(&cur)) && shown < 40;) {
			char needle[1024];
			snprintf(needle, sizeof needle, "%s\n", l);
			if (!strstr(w, needle) && ++shown)
				print_message("    + %s\n", l);
		}
		free(g);
		g = strdup(w);
		cur = g;
		for (char *l; (l = next_line(&cur)) && shown < 80;) {
			char needle[1024];
			snprintf(needle, sizeof needle, "%s\n", l);
			if (!strstr(got, needle) && ++shown)
				print_message("    - %s\n", l);
		}
		free(g);
	}
	free(w);
	free(want);
	return same;
}

struct scan_case {
	char dir[8192];
	char name[256];
};

static void load_inventory(const char *dir, const char *kind, const char *path, const char *os,
			   pw_inventory *inv)
{
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	if (pw_read_file(path, &b, 0, &e))
		fail_msg("%s: %s", dir, pw_error_text(&e));
	pw_err rc;
	if (strcmp(kind, "inventory") == 0) {
		cJSON *j = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
		if (!j)
			fail_msg("%s: not JSON", path);
		rc = pw_inventory_from_json(inv, j, &e);
		cJSON_Delete(j);
	} else {
		rc = strcmp(kind, "dpkg") == 0
			     ? pw_inventory_parse_dpkg(inv, b.data ? b.data : "", b.len, path, &e)
			     : pw_inventory_parse_apk(inv, b.data ? b.data : "", b.len, path, &e);
		inv->scheme = strcmp(kind, "dpkg") == 0 ? PW_SCHEME_DEB : PW_SCHEME_APK;
		char id[64] = "", ver[64] = "", code[64] = "";
		if (sscanf(os, "%63s %63s %63s", id, ver, code) < 2)
			fail_msg("%s: '%s' needs 'os ID VERSION_ID [CODENAME]'", dir, kind);
		inv->os_id = strdup(id);
		inv->os_version_id = strdup(ver);
		inv->os_codename = code[0] ? strdup(code) : NULL;
	}
	if (rc)
		fail_msg("%s: %s", path, pw_error_text(&e));
	pw_buf_release(&b);
}

static bool run_case(const struct scan_case *c)
{
	char casefile[8300];
	snprintf(casefile, sizeof casefile, "%s/case", c->dir);
	char *text = read_text(casefile);
	assert_non_null(text);
	pw_advindex *idx = NULL;
	assert_int_equal(pw_advindex_new(&idx, NULL), PW_OK);
	struct index_warnings iw = {0};
	pw_advindex_set_warn(idx, count_warn, &iw);
	pw_feed_sink sink = pw_advindex_sink(idx);
	pw_inventory inv = PW_INVENTORY_INIT;
	pw_policy pol;
	pw_policy_defaults(&pol);
	pw_scan_host host = {PW_EXPOSURE_INTERNAL, NULL};
	struct feed_stats fs = {0};
	char inv_kind[32] = "", inv_path[4096] = "", os[256] = "";
	char *cur = text;
	for (char *line; (line = next_line(&cur));) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line || *line == '#' || strcmp(line, "e2e") == 0)
			continue;
		char *arg = strchr(line, ' ');
		if (arg)
			*arg++ = '\0';
		if (!arg)
			fail_msg("%s: '%s' needs an argument", casefile, line);
		char path[4096];
		if (strcmp(line, "feed") == 0) {
			expand(c->dir, arg, path, sizeof path);
			glob_t g;
			if (glob(path, 0, NULL, &g) != 0)
				fail_msg("%s: feed %s matches nothing", casefile, path);
			for (size_t i = 0; i < g.gl_pathc; i++)
				feed_path(g.gl_pathv[i], &sink, &fs);
			globfree(&g);
		} else if (strcmp(line, "inventory") == 0 || strcmp(line, "dpkg") == 0 ||
			   strcmp(line, "apk") == 0) {
			snprintf(inv_kind, sizeof inv_kind, "%s", line);
			expand(c->dir, arg, inv_path, sizeof inv_path);
		} else if (strcmp(line, "os") == 0) {
			snprintf(os, sizeof os, "%s", arg);
		} else if (strcmp(line, "exposure") == 0) {
			assert_int_equal(pw_exposure_from_name(arg, &host.exposure, NULL), PW_OK);
		} else {
			fail_msg("%s: unknown directive '%s'", casefile, line);
		}
	}
	free(text);
	if (!inv_kind[0])
		fail_msg("%s: no inventory", casefile);
	load_inventory(c->dir, inv_kind, inv_path, os, &inv);

	pw_scan_result r = PW_SCAN_RESULT_INIT;
	pw_error e = PW_ERROR_INIT;
	if (pw_scan_inventory(idx, &inv, &host, &pol, &r, &e))
		fail_msg("%s: scan failed: %s", c->name, pw_error_text(&e));
	pw_advindex_stats st;
	pw_advindex_get_stats(idx, &st);
	print_message("[ CASE     ] %s: %s, %zu packages; %zu feed files (%zu parsed, %zu failed), "
		      "%zu advisories, %zu fixes, %zu warnings; %zu findings "
		      "(%zu emergency, %zu high, %zu normal, %zu low), %zu unfixed, %zu inactive\n",
		      c->name, r.ecosystem, inv.n_pkgs, fs.files, fs.parsed, fs.failed,
		      st.advisories, st.fixes, iw.n, r.n_findings, r.counts[PW_PRIO_EMERGENCY],
		      r.counts[PW_PRIO_HIGH], r.counts[PW_PRIO_NORMAL], r.counts[PW_PRIO_LOW],
		      r.n_unfixed, r.n_inactive);

	pw_buf b = PW_BUF_INIT;
	for (size_t i = 0; i < r.n_findings; i++)
		pw_buf_printf(&b, "%s %s %s %s\n", r.findings[i].package, r.findings[i].installed,
			      r.findings[i].fixed, r.findings[i].adv->id);
	char *findings = sorted_lines(pw_buf_str(&b));
	pw_buf_reset(&b);
	for (size_t i = 0; i < r.n_unfixed; i++)
		pw_buf_printf(&b, "%s %s %s\n", r.unfixed[i].package, r.unfixed[i].installed,
			      r.unfixed[i].adv->id);
	char *unfixed = sorted_lines(pw_buf_str(&b));
	pw_buf_reset(&b);
	pw_buf_printf(&b, "emergency %zu high %zu normal %zu low %zu unfixed %zu inactive %zu\n",
		      r.counts[PW_PRIO_EMERGENCY], r.counts[PW_PRIO_HIGH], r.counts[PW_PRIO_NORMAL],
		      r.counts[PW_PRIO_LOW], r.n_unfixed, r.n_inactive);
	bool ok = check(c->dir, "expected.txt", findings, false);
	ok = check(c->dir, "expected-summary.txt", pw_buf_str(&b), true) && ok;
	ok = check(c->dir, "expected-unfixed.txt", unfixed, true) && ok;
	free(findings);
	free(unfixed);
	pw_buf_release(&b);
	pw_scan_result_release(&r);
	pw_inventory_release(&inv);
	pw_advindex_free(idx);
	return ok;
}

static void test_cases(void **state)
{
	(void)state;
	char top[2048];
	snprintf(top, sizeof top, "%s/scan", env_or("PW_TEST_DATA", "tests/data"));
	DIR *d = opendir(top);
	if (!d)
		fail_msg("%s: no scan cases (is PW_TEST_DATA set?)", top);
	const char *only = getenv("PW_SCAN_CASE");
	struct scan_case *cases = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char probe[8192];
		struct stat sb;
		snprintf(probe, sizeof probe, "%s/%s/case", top, e->d_name);
		if (e->d_name[0] == '.' || stat(probe, &sb) != 0)
			continue;
		if (only && strcmp(only, e->d_name) != 0)
			continue;
		cases = realloc(cases, (n + 1) * sizeof *cases);
		assert_non_null(cases);
		snprintf(cases[n].dir, sizeof cases[n].dir, "%s/%s", top, e->d_name);
		snprintf(cases[n].name, sizeof cases[n].name, "%s", e->d_name);
		n++;
	}
	closedir(d);
	assert_true(n > 0);
	size_t failed = 0;
	for (size_t i = 0; i < n; i++)
		failed += !run_case(&cases[i]);
	free(cases);
	print_message("[ CASES    ] %zu passed, %zu failed\n", n - failed, failed);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
