/* How long reading an installed-package database takes: patchwarden's
 * dpkg parser on this machine's /var/lib/dpkg/status (or a file given on
 * the command line), beside libdpkg's own parser (parsedb, what dpkg and
 * dpkg-query use) and a `dpkg-query -W` process.
 *
 *   bench_inventory [RUNS [STATUS-FILE]]     (default 200 runs)
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "benchutil.h"
#include "patchwarden/fileio.h"
#include "patchwarden/inventory.h"

#ifdef HAVE_LIBDPKG
#define LIBDPKG_VOLATILE_API 1
#include <dpkg/dpkg-db.h>
#include <dpkg/dpkg.h>
#include <dpkg/program.h>
#endif

extern char **environ;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct result {
	const char *what;
	double best_ms, median_ms;
	size_t packages;
	int runs;
};

/* Times `fn` `runs` times; the first run only warms caches. */
static struct result measure(const char *what, int runs, size_t (*fn)(void *), void *arg)
{
	double *t = malloc((size_t)runs * sizeof *t);
	struct result r = {what, 0, 0, 0, runs};
	if (!t) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	r.packages = fn(arg);
	for (int i = 0; i < runs; i++) {
		double start = bench_now_ns();
		fn(arg);
		t[i] = (bench_now_ns() - start) / 1e6;
	}
	qsort(t, (size_t)runs, sizeof *t, cmp_double);
	r.best_ms = t[0];
	r.median_ms = t[runs / 2];
	free(t);
	return r;
}

struct input {
	const char *path;
	pw_buf data;
};

static size_t pw_parse_buffer(void *arg)
{
	struct input *in = arg;
	pw_inventory inv = PW_INVENTORY_INIT;
	if (pw_inventory_parse_dpkg(&inv, in->data.data, in->data.len, in->path, NULL))
		exit(1);
	size_t n = inv.n_pkgs;
	pw_inventory_release(&inv);
	return n;
}

static size_t pw_read_and_parse(void *arg)
{
	struct input *in = arg;
	pw_buf b = PW_BUF_INIT;
	pw_inventory inv = PW_INVENTORY_INIT;
	if (pw_read_file(in->path, &b, 0, NULL) ||
	    pw_inventory_parse_dpkg(&inv, b.data, b.len, in->path, NULL))
		exit(1);
	size_t n = inv.n_pkgs;
	pw_inventory_release(&inv);
	pw_buf_release(&b);
	return n;
}

static size_t pw_read_root(void *arg)
{
	(void)arg;
	pw_inventory inv = PW_INVENTORY_INIT;
	pw_error e = PW_ERROR_INIT;
	if (pw_inventory_read("/", &inv, &e)) {
		fprintf(stderr, "%s\n", pw_error_text(&e));
		exit(1);
	}
	size_t n = inv.n_pkgs;
	pw_inventory_release(&inv);
	return n;
}

#ifdef HAVE_LIBDPKG
/* parsedb() reads the file and fills dpkg's package hash, the first step
 * of every dpkg and dpkg-query run. Counts what dpkg-query -W lists. */
static size_t libdpkg_parsedb(void *arg)
{
	struct input *in = arg;
	parsedb(in->path, pdb_parse_status, NULL);
	size_t n = 0;
	struct pkg_hash_iter *it = pkg_hash_iter_new();
	struct pkginfo *pkg;
	while ((pkg = pkg_hash_iter_next_pkg(it)))
		n += pkg->status != PKG_STAT_NOTINSTALLED && pkg->status != PKG_STAT_CONFIGFILES;
	pkg_hash_iter_free(it);
	pkg_hash_reset();
	return n;
}
#endif

static size_t dpkg_query_process(void *arg)
{
	(void)arg;
	char *argv[] = {"dpkg-query", "-W", NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "dpkg-query", &fa, NULL, argv, environ) != 0)
		return 0;
	posix_spawn_file_actions_destroy(&fa);
	waitpid(pid, &status, 0);
	return 0;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 200;
	struct input in = {argc > 2 ? argv[2] : "/var/lib/dpkg/status", PW_BUF_INIT};
	pw_error e = PW_ERROR_INIT;
	if (runs < 1 || pw_read_file(in.path, &in.data, 0, &e)) {
		fprintf(stderr, "usage: bench_inventory [RUNS [STATUS-FILE]]\n%s\n",
			pw_error_text(&e));
		return 1;
	}
	struct result r[5];
	int n = 0;
	r[n++] = measure("patchwarden: parse (file in memory)", runs, pw_parse_buffer, &in);
	r[n++] = measure("patchwarden: read file + parse", runs, pw_read_and_parse, &in);
	if (argc <= 2)
		r[n++] = measure("patchwarden: pw_inventory_read(\"/\")", runs, pw_read_root, NULL);
#ifdef HAVE_LIBDPKG
	dpkg_program_init("bench_inventory");
	r[n++] = measure("libdpkg 1.21: parsedb (read + parse)", runs, libdpkg_parsedb, &in);
	dpkg_program_done();
#endif
	if (argc <= 2)
		r[n++] = measure("dpkg-query -W (whole process)", runs < 20 ? runs : 20,
				 dpkg_query_process, NULL);

	printf("dpkg status: %s, %zu bytes\n", in.path, in.data.len);
	printf("%-40s %6s %10s %10s %10s\n", "what", "runs", "best ms", "median ms", "packages");
	for (int i = 0; i < n; i++) {
		char pk[24] = "-";
		if (r[i].packages)
			snprintf(pk, sizeof pk, "%zu", r[i].packages);
		printf("%-40s %6d %10.3f %10.3f %10s\n", r[i].what, r[i].runs, r[i].best_ms,
		       r[i].median_ms, pk);
	}
	printf("patchwarden parse throughput (median): %.0f MB/s; peak RSS %ld KiB\n",
	       (double)in.data.len / 1e6 / (r[0].median_ms / 1e3), bench_peak_rss_kib());
	pw_buf_release(&in.data);
	return 0;
}
