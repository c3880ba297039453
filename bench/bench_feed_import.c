/* Feed store: import of AlmaLinux 8+9 OSV (3,820 files, 34 MB) into a
 * fresh store and again (all unchanged), EPSS/KEV and the other distro
 * feeds, then the matcher's reads: a host's package names against one
 * ecosystem (the Ubuntu 18.04 inventory of 357 packages, this machine's
 * dpkg packages) and a whole ecosystem (AlmaLinux 8, for fleet scans).
 *
 * Usage: bench_feed_import [ROUNDS]   (lookups are repeated ROUNDS times,
 * default 50; the table shows the first call after open and the median). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "patchwarden/buf.h"
#include "patchwarden/feedstore.h"
#include "patchwarden/fileio.h"

static void die(const char *what, const pw_error *err)
{
	fprintf(stderr, "bench_feed_import: %s: %s\n", what, pw_error_text(err));
	exit(2);
}

/* CPU seconds of this process: the machine is shared, so wall time
 * alone says more about the neighbours than about the code. */
static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Imports `paths` as one snapshot; returns wall seconds, *cpu CPU seconds. */
static double import(pw_feedstore *s, const char *label, const char *const *paths, size_t n,
		     pw_import_stats *st, double *cpu)
{
	pw_error err = PW_ERROR_INIT;
	pw_feed_import *imp;
	double c = cpu_seconds();
	double t = bench_now_ns();
	if (pw_feed_import_begin(s, label, &imp, &err))
		die(label, &err);
	if (pw_feed_import_paths(imp, paths, n, &err)) {
		pw_feed_import_abort(imp);
		die(label, &err);
	}
	if (pw_feed_import_commit(imp, NULL, st, &err))
		die(label, &err);
	*cpu = cpu_seconds() - c;
	return (bench_now_ns() - t) / 1e9;
}

static void import_row(pw_feedstore *s, const char *label, const char *const *paths, size_t n)
{
	pw_import_stats st;
	double cpu, sec = import(s, label, paths, n, &st, &cpu);
	printf("%-30s %5zu files %6zu adv (%6zu new) %6zu aff %5zu KEV %6zu EPSS %6zu warn"
	       "  %6.3f s (cpu %6.3f s)\n",
	       label, st.files, st.advisories, st.added, st.affected, st.kev, st.epss, st.warnings,
	       sec, cpu);
}

/* Package and source names from a dpkg status file, as a scan would ask. */
static size_t dpkg_names(const char *path, char ***out)
{
	pw_buf data = PW_BUF_INIT;
	pw_error err = PW_ERROR_INIT;
	if (pw_read_file(path, &data, 0, &err))
		die(path, &err);
	size_t n = 0, cap = 0;
	char **v = NULL;
	for (char *line = data.data; line && *line;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		const char *name = NULL;
		if (strncmp(line, "Package: ", 9) == 0)
			name = line + 9;
		else if (strncmp(line, "Source: ", 8) == 0)
			name = line + 8;
		if (name) {
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				v = realloc(v, cap * sizeof *v);
				if (!v)
					exit(2);
			}
			v[n++] = strndup(name, strcspn(name, " "));
		}
		line = next;
	}
	pw_buf_release(&data);
	*out = v;
	return n;
}

static pw_err count(void *ctx, const pw_advisory *a, pw_error *err)
{
	(void)err;
	size_t *c = ctx;
	c[0]++;
	c[1] += a->n_affected;
	return PW_OK;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Opens the store afresh, then times `rounds` reads. */
static void lookup_row(const char *store, const char *what, const char *eco, char **names, size_t n,
		       int rounds)
{
	pw_feedstore *s;
	pw_error err = PW_ERROR_INIT;
	if (pw_feedstore_open(store, &s, &err))
		die(store, &err);
	int64_t snap;
	if (pw_feedstore_latest(s, &snap, &err))
		die(store, &err);
	double *t = calloc((size_t)rounds, sizeof *t), *cpu = calloc((size_t)rounds, sizeof *cpu);
	if (!t || !cpu)
		exit(2);
	size_t c[2] = {0, 0};
	for (int i = 0; i < rounds; i++) {
		c[0] = c[1] = 0;
		double c0 = cpu_seconds(), t0 = bench_now_ns();
		if (pw_feedstore_each_advisory(s, snap, eco, (const char *const *)names, n, count,
					       c, &err))
			die(what, &err);
		t[i] = (bench_now_ns() - t0) / 1e6;
		cpu[i] = (cpu_seconds() - c0) * 1e3;
	}
	double first = t[0], first_cpu = cpu[0];
	qsort(t, (size_t)rounds, sizeof *t, cmp_double);
	qsort(cpu, (size_t)rounds, sizeof *cpu, cmp_double);
	printf("%-34s %-12s %5zu names %5zu adv %6zu aff  first %6.2f ms (cpu %6.2f)"
	       "  median %6.2f ms (cpu %6.2f)\n",
	       what, eco, n, c[0], c[1], first, first_cpu, t[rounds / 2], cpu[rounds / 2]);
	free(t);
	free(cpu);
	pw_feedstore_close(s);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 50;
	if (rounds < 1)
		rounds = 1;
	const char *d = bench_shared_data();
	char dir[] = "/tmp/pw-bench-feed-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	char store[64], p[8][512];
	snprintf(store, sizeof store, "%s/store.db", dir);
	pw_feedstore *s;
	pw_error err = PW_ERROR_INIT;
	if (pw_feedstore_open(store, &s, &err))
		die(store, &err);

	printf("== import (fresh store %s)\n", store);
	snprintf(p[0], sizeof p[0], "%s/almalinux-osv/advisories", d);
	const char *alma[] = {p[0]};
	import_row(s, "AlmaLinux 8+9 OSV, fresh", alma, 1);
	import_row(s, "AlmaLinux 8+9 OSV, unchanged", alma, 1);
	snprintf(p[1], sizeof p[1], "%s/epss", d);
	snprintf(p[2], sizeof p[2], "%s/cisa-kev/known_exploited_vulnerabilities.json", d);
	const char *scores[] = {p[1], p[2]};
	import_row(s, "EPSS (28 .csv.gz) + KEV, fresh", scores, 2);
	import_row(s, "EPSS + KEV, unchanged", scores, 2);
	snprintf(p[3], sizeof p[3], "%s/ubuntu-cve-tracker-2020/active", d);
	snprintf(p[4], sizeof p[4], "%s/ubuntu-cve-tracker-2020/retired", d);
	snprintf(p[5], sizeof p[5], "%s/debian-security-tracker/data/DSA/list", d);
	snprintf(p[6], sizeof p[6], "%s/debian-security-tracker/data/DLA/list", d);
	snprintf(p[7], sizeof p[7], "%s/alpine-secdb", d);
	const char *distros[] = {p[3], p[4], p[5], p[6], p[7]};
	import_row(s, "Ubuntu UCT + DSA/DLA + Alpine", distros, 5);
	pw_feedstore_close(s);

	printf("\n== reads (%d rounds each, store reopened per row)\n", rounds);
	char path[512];
	char **ubuntu, **host;
	snprintf(path, sizeof path, "%s/inventories/claircore/texlive.dpkg-status", d);
	size_t n_ubuntu = dpkg_names(path, &ubuntu);
	size_t n_host = dpkg_names("/var/lib/dpkg/status", &host);
	lookup_row(store, "Ubuntu 18.04 inventory (357 pkgs)", "ubuntu:18.04", ubuntu, n_ubuntu,
		   rounds);
	lookup_row(store, "Ubuntu 18.04 inventory (357 pkgs)", "almalinux:8", ubuntu, n_ubuntu,
		   rounds);
	lookup_row(store, "this machine's dpkg packages", "debian:11", host, n_host, rounds);
	lookup_row(store, "this machine's dpkg packages", "almalinux:8", host, n_host, rounds);
	lookup_row(store, "whole ecosystem (fleet scan)", "almalinux:8", NULL, 0, rounds);
	lookup_row(store, "whole ecosystem (fleet scan)", "ubuntu:18.04", NULL, 0, rounds);
	printf("\npeak RSS %ld KiB\n", bench_peak_rss_kib());

	for (size_t i = 0; i < n_ubuntu; i++)
		free(ubuntu[i]);
	for (size_t i = 0; i < n_host; i++)
		free(host[i]);
	free(ubuntu);
	free(host);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 2;
}
