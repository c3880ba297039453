/* Inventories: the dpkg, apk and rpm parsers on edge cases and on every
 * real fixture in shared/data/inventories, os-release quoting, kernels,
 * JSON both ways, sorting and the content hash. The dpkg-query
 * differential comparison is tests/scripts/inventory_dpkg_oracle.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/lib/inventory/inventory-internal.h"
#include "patchwarden/fileio.h"
#include "patchwarden/inventory.h"

/* ---- helpers ---- */

static const char *env_dir(const char *var)
{
	const char *d = getenv(var);
	if (!d)
		fail_msg("%s is not set; run through ctest", var);
	return d;
}

static void read_data(const char *var, const char *rel, pw_buf *out)
{
	pw_buf path = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_buf_printf(&path, "%s/%s", env_dir(var), rel), PW_OK);
	if (pw_read_file(path.data, out, 0, &e))
		fail_msg("%s", pw_error_text(&e));
	pw_buf_release(&path);
}

static const pw_package *find(const pw_inventory *inv, const char *name, const char *arch)
{
	for (size_t i = 0; i < inv->n_pkgs; i++)
		if (!strcmp(inv->pkgs[i].name, name) &&
		    (!arch || (inv->pkgs[i].arch && !strcmp(inv->pkgs[i].arch, arch))))
			return &inv->pkgs[i];
	return NULL;
}

static void expect_pkg(const pw_inventory *inv, const char *name, const char *arch,
		       const char *version, const char *source, const char *source_version,
		       const char *status)
{
	const pw_package *p = find(inv, name, arch);
	if (!p)
		fail_msg("package %s (%s) not found", name, arch ? arch : "any arch");
	assert_string_equal(p->version, version);
	assert_string_equal(p->source, source);
	assert_string_equal(p->source_version, source_version);
	if (status)
		assert_string_equal(p->status, status);
}

static bool has_warning(const pw_inventory *inv, const char *needle)
{
	for (size_t i = 0; i < inv->n_warnings; i++)
		if (strstr(inv->warnings[i], needle))
			return true;
	return false;
}

static void expect_warning(const pw_inventory *inv, const char *needle)
{
	if (has_warning(inv, needle))
		return;
	for (size_t i = 0; i < inv->n_warnings; i++)
		print_error("  warning: %s\n", inv->warnings[i]);
	fail_msg("no warning contains '%s'", needle);
}

static void parse_dpkg_text(pw_inventory *inv, const char *text, size_t len)
{
	assert_int_equal(pw_inventory_parse_dpkg(inv, text, len, "status", NULL), PW_OK);
}

/* Temporary system roots. */
static void make_root(char dir[32])
{
	snprintf(dir, 32, "/tmp/pw-inv-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void put_file(const char *root, const char *rel, const char *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*s = '/';
	}
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void put_text(const char *root, const char *rel, const char *text)
{
	put_file(root, rel, text, strlen(text));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_root(const char *root)
{
	assert_int_equal(nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void read_root(const char *root, pw_inventory *inv)
{
	pw_error e = PW_ERROR_INIT;
	if (pw_inventory_read(root, inv, &e))
		fail_msg("%s", pw_error_text(&e));
}

static void read_test_root(const char *name, pw_inventory *inv)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/inventory/%s", env_dir("PW_TEST_DATA"), name);
	read_root(path, inv);
}

/* ---- dpkg ---- */

static void test_dpkg_status_states(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	pw_inventory inv = PW_INVENTORY_INIT;
	read_data("PW_SHARED_DATA", "inventories/osv-scalibr/dpkg/statusfield", &b);
	parse_dpkg_text(&inv, b.data, b.len);
	/* Files on disk count, whatever dpkg wants to do with them next;
	 * config-files and a missing Status (not-installed) do not. */
	assert_int_equal(inv.n_pkgs, 5);
	expect_pkg(&inv, "wantinstall_installed", NULL, "1.0", "wantinstall_installed", "1.0",
		   "install ok installed");
	expect_pkg(&inv, "wantdeinstall_installed", NULL, "1.0", "wantdeinstall_installed", "1.0",
		   "deinstall reinstreq installed");
	expect_pkg(&inv, "wantinstall_unpacked", NULL, "1.0", "wantinstall_unpacked", "1.0",
		   "install ok unpacked");
	expect_pkg(&inv, "wantpurge_installed", NULL, "1.0", "wantpurge_installed", "1.0",
		   "purge ok installed");
	expect_pkg(&inv, "wantinstall_halfinstalled", NULL, "1.0", "wantinstall_halfinstalled",
		   "1.0", "install reinstreq half-installed");
	assert_null(find(&inv, "wantdeinstall_configfiles", NULL));
	assert_null(find(&inv, "wantnostatus", NULL));
	assert_int_equal(inv.n_warnings, 0);
	assert_int_equal(inv.scheme, PW_SCHEME_DEB);
	pw_inventory_release(&inv);
	pw_buf_release(&b);
}

static void test_dpkg_crlf_and_last_line(void **state)
{
	(void)state;
	static const char text[] =
		"Package: a\r\nStatus: install ok installed\r\nVersion: 1.0-1 \r\n"
		"Architecture: amd64\r\nDescription: x\r\n more\r\n\r\n"
		"Package: b\nStatus: install ok installed\nVersion: 2.0\nSource: bsrc (1:2.0-3)";
	pw_inventory inv = PW_INVENTORY_INIT;
	parse_dpkg_text(&inv, text, sizeof text - 1);
	assert_int_equal(inv.n_pkgs, 2);
	assert_int_equal(inv.n_warnings, 0);
	expect_pkg(&inv, "a", "amd64", "1.0-1", "a", "1.0-1", "install ok installed");
	expect_pkg(&inv, "b", NULL, "2.0", "bsrc", "1:2.0-3", NULL);
	assert_null(find(&inv, "b", NULL)->arch);
	pw_inventory_release(&inv);
}

static void test_dpkg_malformed_lines(void **state)
{
	(void)state;
	static const char text[] =
		"Package: ok1\nStatus: install ok installed\nVersion: 1\n\n"       /* 1-3 */
		"Package: cont\nStatus: install ok installed\nVersion: 1\n 2\n\n"  /* 5-8 */
		" leading continuation\nPackage: x\n\n"                            /* 10-11 */
		"Package: nocolon\nno colon here\nVersion: 1\n\n"                  /* 13-15 */
		"Package: twice\nPackage: again\n\n"                               /* 17-18 */
		"Package: badstatus\nStatus: install ok sideways\nVersion: 1\n\n"  /* 20-22 */
		"Package: Bad_Name!\nStatus: install ok installed\nVersion: 1\n\n" /* 24-26 */
		"Package: badarch\nStatus: install ok installed\nVersion: 1\nArchitecture: "
		"am_d64\n\n"
		"Package: ok2\nStatus: install ok installed\nVersion: 2\n"; /* 33-35 */
	pw_inventory inv = PW_INVENTORY_INIT;
	parse_dpkg_text(&inv, text, sizeof text - 1);
	assert_int_equal(inv.n_pkgs, 2);
	assert_non_null(find(&inv, "ok1", NULL));
	assert_non_null(find(&inv, "ok2", NULL));
	expect_warning(&inv, "status:8: package 'cont': Version continues on a second line");
	expect_warning(&inv, "status:10: continuation line without a field before it; "
			     "stanza from line 10 skipped");
	expect_warning(&inv, "status:14: package 'nocolon': 'no colon here' is not a "
			     "'Field: value' line");
	expect_warning(&inv, "status:18: package 'twice': second Package field (first on line 17)");
	expect_warning(&inv, "status:21: package 'badstatus': Status 'install ok sideways'");
	expect_warning(&inv, "status:24: Package name 'Bad_Name!' has a character");
	expect_warning(&inv, "status:31: package 'badarch': Architecture 'am_d64'");
	assert_int_equal(inv.n_warnings, 7);
	pw_inventory_release(&inv);
}

static void test_dpkg_nul_and_huge_fields(void **state)
{
	(void)state;
	/* A NUL inside a kept field spoils the stanza; elsewhere it is just
	 * a byte of a field nobody reads. */
	static const char text[] =
		"Package: nul\nStatus: install ok installed\nVersion: 1.\0002\n\n"
		"Package: fine\nStatus: install ok installed\nVersion: 1\n"
		"Description: a \0 b\n";
	pw_inventory inv = PW_INVENTORY_INIT;
	parse_dpkg_text(&inv, text, sizeof text - 1);
	assert_int_equal(inv.n_pkgs, 1);
	assert_non_null(find(&inv, "fine", NULL));
	expect_warning(&inv, "status:3: package 'nul': Version '1.?2' is not printable ASCII");
	pw_inventory_release(&inv);

	/* A 4 MB description and a 1 MB version go through whole. */
	size_t vlen = 1 << 20, dlen = 4 << 20;
	pw_buf b = PW_BUF_INIT;
	assert_int_equal(pw_buf_puts(&b, "Package: big\nStatus: install ok installed\nVersion: 1."),
			 PW_OK);
	assert_int_equal(pw_buf_reserve(&b, vlen + dlen + 64), PW_OK);
	memset(b.data + b.len, '7', vlen);
	b.len += vlen;
	assert_int_equal(pw_buf_puts(&b, "\nDescription: "), PW_OK);
	memset(b.data + b.len, 'd', dlen);
	b.len += dlen;
	assert_int_equal(pw_buf_puts(&b, "\n"), PW_OK);
	parse_dpkg_text(&inv, b.data, b.len);
	assert_int_equal(inv.n_pkgs, 1);
	assert_int_equal(strlen(inv.pkgs[0].version), vlen + 2);
	assert_int_equal(inv.n_warnings, 0);
	pw_inventory_release(&inv);
	pw_buf_release(&b);
}

static void test_dpkg_source_forms(void **state)
{
	(void)state;
	static const char text[] =
		"Package: p1\nStatus: install ok installed\nVersion: 1.0-1\nSource: s1\n\n"
		"Package: p2\nStatus: install ok installed\nVersion: 1.0-1+b2\nSource: s2 "
		"(1.0-1)\n\n"
		"Package: p3\nStatus: install ok installed\nVersion: 3\nSource: s3 (3\n\n"
		"Package: p4\nStatus: install ok installed\nVersion: 4\nSource: s4 ()\n\n"
		"Package: p5\nStatus: install ok installed\nVersion: 5\nSource:   s5   (  5.1  )  "
		"\n\n"
		"Package: p6\nStatus: install ok installed\nVersion: 6\nSource: s6 (6 1)\n";
	pw_inventory inv = PW_INVENTORY_INIT;
	parse_dpkg_text(&inv, text, sizeof text - 1);
	assert_int_equal(inv.n_pkgs, 6);
	expect_pkg(&inv, "p1", NULL, "1.0-1", "s1", "1.0-1", NULL);
	expect_pkg(&inv, "p2", NULL, "1.0-1+b2", "s2", "1.0-1", NULL);
	/* A broken Source costs the source, not the package. */
	expect_pkg(&inv, "p3", NULL, "3", "p3", "3", NULL);
	expect_pkg(&inv, "p4", NULL, "4", "p4", "4", NULL);
	expect_pkg(&inv, "p5", NULL, "5", "s5", "5.1", NULL);
	expect_pkg(&inv, "p6", NULL, "6", "p6", "6", NULL);
	expect_warning(&inv,
		       "status:14: package 'p3': Source 's3 (3': is not 'NAME' or "
		       "'NAME (VERSION)'; the package's own name and version stand in for it");
	expect_warning(&inv, "package 'p4': Source 's4 ()'");
	expect_warning(&inv, "package 'p6': Source 's6 (6 1)': '6 1' is not printable ASCII");
	assert_int_equal(inv.n_warnings, 3);
	pw_inventory_release(&inv);
}

static void test_dpkg_versions(void **state)
{
	(void)state;
	/* dpkg-query lists a version that breaks only the syntax rules it
	 * warns about; one with a space or none at all it cannot. */
	static const char text[] =
		"Package: letters\nStatus: install ok installed\nVersion: abc\n\n"
		"Package: spaced\nStatus: install ok installed\nVersion: 1.0 2\n\n"
		"Package: empty\nStatus: install ok installed\nVersion:\n\n"
		"Package: none\nStatus: install ok installed\n\n"
		"Package: gone\nStatus: deinstall ok config-files\n";
	pw_inventory inv = PW_INVENTORY_INIT;
	parse_dpkg_text(&inv, text, sizeof text - 1);
	assert_int_equal(inv.n_pkgs, 1);
	expect_pkg(&inv, "letters", NULL, "abc", "letters", "abc", NULL);
	expect_warning(&inv, "status:3: package 'letters': Version: ");
	expect_warning(&inv, "kept, as dpkg keeps it");
	expect_warning(&inv, "status:7: package 'spaced': Version '1.0 2' is not printable ASCII "
			     "without spaces; stanza skipped");
	expect_warning(&inv, "status:9: package 'empty' is installed but has no Version");
	expect_warning(&inv, "status:13: package 'none' is installed but has no Version");
	assert_int_equal(inv.n_warnings, 4);
	pw_inventory_release(&inv);
}

static void test_dpkg_warning_cap(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	for (int i = 0; i < 3 * PW_INV_MAX_WARNINGS; i++)
		assert_int_equal(pw_buf_puts(&b, "junk\n\n"), PW_OK);
	assert_int_equal(pw_buf_puts(&b, "Package: a\nStatus: install ok installed\nVersion: 1\n"),
			 PW_OK);
	pw_inventory inv = PW_INVENTORY_INIT;
	parse_dpkg_text(&inv, b.data, b.len);
	assert_int_equal(inv.n_pkgs, 1);
	assert_int_equal(inv.n_warnings, PW_INV_MAX_WARNINGS + 1);
	assert_string_equal(inv.warnings[PW_INV_MAX_WARNINGS], "more warnings omitted");
	pw_inventory_release(&inv);
	pw_buf_release(&b);
}

struct dpkg_fixture {
	const char *file;
	size_t packages, warnings;
	/* One package to look at closely, or NULL. */
	const char *name, *arch, *version, *source, *source_version;
};

/* Counts checked against `dpkg-query -W` where dpkg can read the file
 * (tests/scripts/inventory_dpkg_oracle.sh compares every package); the
 * others are files dpkg refuses outright, where we skip stanzas. */
static const struct dpkg_fixture dpkg_fixtures[] = {
	{"claircore/texlive.dpkg-status", 357, 0, "bsdutils", "amd64", "1:2.31.1-0.4ubuntu3.6",
	 "util-linux", "2.31.1-0.4ubuntu3.6"},
	{"claircore/postgresql.dpkg-status", 3, 0, "postgresql-client", "all", "11+200+deb10u5",
	 "postgresql-common", "200+deb10u5"},
	{"claircore/debian-only.dpkg-status", 1, 0, NULL, NULL, NULL, NULL, NULL},
	/* vcpkg writes "Feature" stanzas without a Version. */
	{"claircore/vcpkg.dpkg-status", 15, 9, "libffi", "x86-windows", "3.3", "libffi", "3.3"},
	{"syft/image-dpkg.status", 1, 1, "libpam-runtime", "all", "1.1.8-3.6", "pam", "1.1.8-3.6"},
	{"osv-scalibr/dpkg/valid", 7, 0, "libacl1", "amd64", "2.3.1-3", "acl", "2.3.1-3"},
	{"osv-scalibr/dpkg/single", 1, 0, "acl", "amd64", "2.3.1-3", "acl", "2.3.1-3"},
	{"osv-scalibr/dpkg/empty", 0, 0, NULL, NULL, NULL, NULL, NULL},
	{"osv-scalibr/dpkg/invalid", 0, 2, NULL, NULL, NULL, NULL, NULL},
	{"osv-scalibr/dpkg/nopackage", 2, 1, "bar", NULL, "2.0", "bar", "2.0"},
	{"osv-scalibr/dpkg/noversion", 2, 1, "foo", NULL, "1.0", "foo", "1.0"},
	{"osv-scalibr/dpkg/trailingnewlines", 1, 0, NULL, NULL, NULL, NULL, NULL},
	{"osv-scalibr/dpkg/transitional", 1, 0, NULL, NULL, NULL, NULL, NULL},
	{"osv-scalibr/dpkg/transitional_dummy", 1, 0, "git-core", "all", "1:2.14.2-1", "git",
	 "1:2.14.2-1"},
	{"osv-scalibr/dpkg/transitional_empty", 1, 0, "runit-systemd", "all", "2.1.2-54+usrmerge",
	 "runit", "2.1.2-54+usrmerge"},
	{"syft/dpkg-status.d/corrupt", 0, 1, NULL, NULL, NULL, NULL, NULL},
	{"syft/dpkg-status.d/deinstall", 1, 0, "linux-image-6.14.0-1012-aws", "amd64",
	 "6.14.0-1012.12~24.04.1", "linux-signed-aws-6.14", "6.14.0-1012.12~24.04.1"},
	{"syft/dpkg-status.d/empty", 0, 1, NULL, NULL, NULL, NULL, NULL},
	{"syft/dpkg-status.d/multiple", 2, 1, "tzdata", "all", "2020a-0+deb10u1", "tzdata-dev",
	 "2020a-0+deb10u1"},
	{"syft/dpkg-status.d/coreutils-relationships", 9, 0, "libselinux1", "arm64", "3.4-1+b6",
	 "libselinux", "3.4-1"},
	{"syft/dpkg-status.d/libpam-runtime", 1, 0, NULL, NULL, NULL, NULL, NULL},
	{"syft/dpkg-status.d/single", 1, 0, "apt", "amd64", "1.8.2", "apt-dev", "1.8.2"},
};

static void test_dpkg_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof dpkg_fixtures / sizeof dpkg_fixtures[0]; i++) {
		const struct dpkg_fixture *f = &dpkg_fixtures[i];
		char rel[256];
		snprintf(rel, sizeof rel, "inventories/%s", f->file);
		pw_buf b = PW_BUF_INIT;
		pw_inventory inv = PW_INVENTORY_INIT;
		read_data("PW_SHARED_DATA", rel, &b);
		assert_int_equal(pw_inventory_parse_dpkg(&inv, pw_buf_str(&b), b.len, f->file,
							 NULL),
				 PW_OK);
		if (inv.n_pkgs != f->packages || inv.n_warnings != f->warnings) {
			for (size_t w = 0; w < inv.n_warnings; w++)
				print_error("  warning: %s\n", inv.warnings[w]);
			fail_msg("%s: %zu packages, %zu warnings; expected %zu and %zu", f->file,
				 inv.n_pkgs, inv.n_warnings, f->packages, f->warnings);
		}
		if (f->name)
			expect_pkg(&inv, f->name, f->arch, f->version, f->source, f->source_version,
				   NULL);
		pw_inventory_release(&inv);
		pw_buf_release(&b);
	}
}

static void test_dpkg_corrupt_names_line(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	pw_inventory inv = PW_INVENTORY_INIT;
	read_data("PW_SHARED_DATA", "inventories/syft/dpkg-status.d/corrupt", &b);
	assert_int_equal(pw_inventory_parse_dpkg(&inv, b.data, b.len, "corrupt", NULL), PW_OK);
	expect_warning(&inv, "corrupt:5: 'Insterface to the configuration settings' is not a "
			     "'Field: value' line; stanza from line 1 skipped");
	pw_inventory_release(&inv);
	pw_buf_release(&b);
}

/* The Ubuntu 18.04 status inside trivy's txtar archive. */
static void test_dpkg_trivy_txtar(void **state)
{
	(void)state;
	pw_buf b = PW_BUF_INIT;
	pw_inventory inv = PW_INVENTORY_INIT;
	read_data("PW_SHARED_DATA", "inventories/trivy/ubuntu1804-dpkg-status.valid.txtar", &b);
	const char *start = strstr(b.data, "-- var/lib/dpkg/status --\n");
	assert_non_null(start);
	start = strchr(start, '\n') + 1;
	const char *end = strstr(start, "\n-- ");
	size_t len = end ? (size_t)(end - start) + 1 : b.len - (size_t)(start - b.data);
	assert_int_equal(pw_inventory_parse_dpkg(&inv, start, len, "txtar", NULL), PW_OK);
	/* 91 stanzas; one is "deinstall ok config-files", as dpkg-query shows. */
	assert_int_equal(inv.n_pkgs, 90);
	assert_int_equal(inv.n_warnings, 0);
	expect_pkg(&inv, "fdisk", "amd64", "2.31.1-0.4ubuntu3.1", "util-linux",
		   "2.31.1-0.4ubuntu3.1", "install ok installed");
	pw_inventory_release(&inv);
	pw_buf_release(&b);
}

/* ---- reading roots ---- */

static void test_read_debian_root(void **state)
{
	(void)state;
	pw_inventory inv = PW_INVENTORY_INIT;
	read_test_root("debian", &inv);
	assert_string_equal(inv.os_id, "debian");
	assert_string_equal(inv.os_version_id, "12");
	assert_string_equal(inv.os_codename, "bookworm");
	assert_string_equal(inv.os_pretty_name, "Debian GNU/Linux 12 (bookworm)");
	assert_string_equal(inv.arch, "amd64");
	assert_null(inv.kernel_running);
	assert_int_equal(inv.n_pkgs, 9);
	/* The journal in updates/ replays over the status file. */
	expect_pkg(&inv, "openssl", "amd64", "3.0.13-1~deb12u1", "openssl", "3.0.13-1~deb12u1",
		   "install ok half-configured");
	assert_null(find(&inv, "oldpkg", NULL));
	assert_null(find(&inv, "removed-pkg", NULL));
	expect_pkg(&inv, "libc6", "i386", "2.36-9+deb12u4", "glibc", "2.36-9+deb12u4", NULL);
	expect_pkg(&inv, "libc6", "amd64", "2.36-9+deb12u4", "glibc", "2.36-9+deb12u4", NULL);
	expect_pkg(&inv, "vim", "amd64", "2:9.0.1378-2", "vim", "2:9.0.1378-2",
		   "install ok unpacked");
	assert_int_equal(inv.n_kernels, 2);
	assert_string_equal(inv.kernels_installed[0], "6.1.0-17-amd64");
	assert_string_equal(inv.kernels_installed[1], "6.1.0-18-amd64");
	assert_false(inv.needs_reboot);
	assert_int_equal(inv.n_warnings, 0);
	/* Sorted by name, then architecture. */
	for (size_t i = 1; i < inv.n_pkgs; i++)
		assert_true(strcmp(inv.pkgs[i - 1].name, inv.pkgs[i].name) <= 0);
	assert_string_equal(find(&inv, "libc6", NULL)->arch, "amd64");
	pw_inventory_release(&inv);
}

static void test_read_distroless_root(void **state)
{
	(void)state;
	pw_inventory inv = PW_INVENTORY_INIT;
	read_test_root("distroless", &inv);
	assert_int_equal(inv.n_pkgs, 4);
	assert_int_equal(inv.n_warnings, 0);
	assert_string_equal(inv.os_pretty_name, "Distroless");
	assert_null(inv.os_codename);
	expect_pkg(&inv, "libssl3", "amd64", "3.0.14-1~deb12u2", "openssl", "3.0.14-1~deb12u2",
		   "install ok installed");
	expect_pkg(&inv, "libc6", "amd64", "2.36-9+deb12u7", "glibc", "2.36-9+deb12u7", NULL);
	assert_string_equal(inv.arch, "amd64");
	pw_inventory_release(&inv);
}

/* syft's status.d fixtures as one distroless directory: only stanzas
 * with a Version and no Status, or an installed Status, count. */
static void test_read_syft_status_d(void **state)
{
	(void)state;
	static const char *const files[] = {
		"coreutils-relationships", "corrupt",        "deinstall", "doc-examples", "empty",
		"installed-size-4KB",      "libpam-runtime", "multiple",  "single"};
	char root[32];
	make_root(root);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char rel[256];
		pw_buf b = PW_BUF_INIT;
		snprintf(rel, sizeof rel, "inventories/syft/dpkg-status.d/%s", files[i]);
		read_data("PW_SHARED_DATA", rel, &b);
		snprintf(rel, sizeof rel, "var/lib/dpkg/status.d/%s", files[i]);
		put_file(root, rel, pw_buf_str(&b), b.len);
		pw_buf_release(&b);
	}
	pw_inventory inv = PW_INVENTORY_INIT;
	read_root(root, &inv);
	/* 9 + 1 + 5 (doc-examples: mutt, made-up-package-1..4) + 1 + 1 + 2 + 1,
	 * with apt twice (single, installed-size-4KB): the later file wins. */
	assert_int_equal(inv.n_pkgs, 19);
	expect_pkg(&inv, "made-up-package-1", NULL, "1.0.0", "glibc", "1.0.0",
		   "install ok installed");
	assert_null(find(&inv, "made-up-package-5", NULL));
	assert_null(find(&inv, "linux-image-6.8.0-1029-aws", NULL));
	expect_warning(&inv, "status.d/corrupt:5:");
	expect_warning(&inv, "status.d/empty:1: Package name '' is empty");
	assert_int_equal(inv.n_kernels, 1);
	assert_string_equal(inv.kernels_installed[0], "6.14.0-1012-aws");
	pw_inventory_release(&inv);
	remove_root(root);
}

static void test_read_errors(void **state)
{
	(void)state;
	char root[32], path[64];
	pw_error e = PW_ERROR_INIT;
	pw_inventory inv = PW_INVENTORY_INIT;
	make_root(root);
	assert_int_equal(pw_inventory_read(root, &inv, &e), PW_ERR_NOTFOUND);
	assert_non_null(strstr(e.msg, "no package database found"));
	pw_inventory_release(&inv);

	/* An os-release that cannot be read costs the OS, with a warning. */
	put_text(root, "etc/os-release/x", "");
	put_text(root, "var/lib/dpkg/status",
		 "Package: a\nStatus: install ok installed\nVersion: 1\n");
	read_root(root, &inv);
	assert_int_equal(inv.n_pkgs, 1);
	assert_null(inv.os_id);
	expect_warning(&inv, "/etc/os-release: a directory, not a regular file; give a file; "
			     "the OS is unknown");
	pw_inventory_release(&inv);

	/* A status file no real system has: refused, not read into memory. */
	put_text(root, "var/lib/dpkg/status", "");
	snprintf(path, sizeof path, "%s/var/lib/dpkg/status", root);
	assert_int_equal(truncate(path, (off_t)PW_INV_MAX_FILE + 1), 0);
	assert_int_equal(pw_inventory_read(root, &inv, &e), PW_ERR_TOOLARGE);
	assert_non_null(
		strstr(e.msg, "var/lib/dpkg/status: 536870913 bytes is more than the limit"));
	pw_inventory_release(&inv);
	remove_root(root);

	assert_int_equal(pw_inventory_read("/nonexistent/root", &inv, &e), PW_ERR_NOTFOUND);
	assert_string_equal(e.msg, "/nonexistent/root: cannot read: No such file or directory");
	pw_inventory_release(&inv);
	assert_int_equal(pw_inventory_read("/dev/null", &inv, &e), PW_ERR_INVALID);
	assert_string_equal(e.msg, "/dev/null: not a directory");
	pw_inventory_release(&inv);
}

/* ---- kernels ---- */

static void test_kernels_and_reboot(void **state)
{
	(void)state;
	static const char status[] =
		"Package: linux-image-6.1.0-18-amd64\nStatus: install ok installed\nVersion: "
		"6.1.76-1\n\n"
		"Package: linux-image-6.1.0-18-cloud-amd64\nStatus: install ok installed\n"
		"Version: 6.1.76-1\n\n"
		"Package: linux-image-6.1.0-9-amd64\nStatus: install ok installed\nVersion: "
		"6.1.27-1\n\n"
		"Package: linux-image-6.1.0-9-amd64-dbg\nStatus: install ok installed\n"
		"Version: 6.1.27-1\n\n"
		"Package: linux-image-amd64\nStatus: install ok installed\nVersion: 6.1.76-1\n\n"
		"Package: linux-image-unsigned-5.15.0-91-generic\nStatus: install ok installed\n"
		"Version: 5.15.0-91.101\n\n"
		"Package: linux-image-6.1.0-9-amd64-unsigned\nStatus: install ok installed\n"
		"Version: 6.1.27-1\n";
	char root[32];
	make_root(root);
	struct {
		const char *running;
		bool reboot;
	} cases[] = {
		{NULL, false},
		{"6.1.0-18-amd64", false},
		/* Another flavour of the newest build is just as new. */
		{"6.1.0-18-cloud-amd64", false},
		{"6.1.0-9-amd64", true},
		{"6.5.0-custom", true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		pw_inventory inv = PW_INVENTORY_INIT;
		parse_dpkg_text(&inv, status, sizeof status - 1);
		if (cases[i].running)
			inv.kernel_running = strdup(cases[i].running);
		assert_int_equal(pw_inv_find_kernels(&inv, root), PW_OK);
		assert_int_equal(inv.n_kernels, 4);
		assert_string_equal(inv.kernels_installed[0], "5.15.0-91-generic");
		assert_string_equal(inv.kernels_installed[1], "6.1.0-9-amd64");
		assert_string_equal(inv.kernels_installed[2], "6.1.0-18-amd64");
		assert_string_equal(inv.kernels_installed[3], "6.1.0-18-cloud-amd64");
		if (inv.needs_reboot != cases[i].reboot)
			fail_msg("running %s: needs_reboot %d", cases[i].running, inv.needs_reboot);
		pw_inventory_release(&inv);
	}
	put_text(root, "run/reboot-required", "*** System restart required ***\n");
	pw_inventory inv = PW_INVENTORY_INIT;
	parse_dpkg_text(&inv, status, sizeof status - 1);
	inv.kernel_running = strdup("6.1.0-18-amd64");
	assert_int_equal(pw_inv_find_kernels(&inv, root), PW_OK);
	assert_true(inv.needs_reboot);
	pw_inventory_release(&inv);
	remove_root(root);
}

static void test_kernel_release_names(void **state)
{
	(void)state;
	struct {
		pw_err (*fn)(const pw_package *, char **);
		const char *name, *version, *arch, *release;
	} cases[] = {
		{pw_inv_apk_kernel_release, "linux-lts", "6.6.14-r0", "x86_64", "6.6.14-0-lts"},
		{pw_inv_apk_kernel_release, "linux-virt", "5.15.74-r12", "x86_64",
		 "5.15.74-12-virt"},
		{pw_inv_apk_kernel_release, "linux-firmware-none", "20240115-r0", "x86_64", NULL},
		{pw_inv_apk_kernel_release, "linux-pam", "1.5.3-r7", "x86_64", NULL},
		{pw_inv_apk_kernel_release, "linux-lts", "6.6.14", "x86_64", NULL},
		{pw_inv_rpm_kernel_release, "kernel-core", "4.18.0-553.el8_10", "x86_64",
		 "4.18.0-553.el8_10.x86_64"},
		{pw_inv_rpm_kernel_release, "kernel", "1:5.14.0-362.el9", "aarch64",
		 "5.14.0-362.el9.aarch64"},
		{pw_inv_rpm_kernel_release, "kernel-headers", "4.18.0-553.el8_10", "x86_64", NULL},
		{pw_inv_dpkg_kernel_release, "linux-image-generic", "5.15.0.91.88", "amd64", NULL},
		{pw_inv_dpkg_kernel_release, "linux-image-5.15.0-91-generic-dbgsym",
		 "5.15.0-91.101", "amd64", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		pw_package p = {.name = strdup(cases[i].name),
				.version = strdup(cases[i].version),
				.arch = strdup(cases[i].arch)};
		char *r = NULL;
		assert_int_equal(cases[i].fn(&p, &r), PW_OK);
		pw_package_release(&p);
		if (cases[i].release)
			assert_string_equal(r, cases[i].release);
		else if (r)
			fail_msg("%s %s is not a kernel, got %s", cases[i].name, cases[i].version,
				 r);
		free(r);
	}
}

/* ---- apk ---- */

struct apk_fixture {
	const char *file;
	size_t packages, warnings;
	const char *name, *arch, *version, *source;
};

static const struct apk_fixture apk_fixtures[] = {
	{"osv-scalibr/apk/installed", 15, 0, "busybox-binsh", "x86_64", "1.36.0-r9", "busybox"},
	{"osv-scalibr/apk/single", 1, 0, "alpine-baselayout-data", "x86_64", "3.4.3-r1",
	 "alpine-baselayout"},
	{"osv-scalibr/apk/different-arch", 1, 0, "alpine-baselayout-data", "noarch", "3.4.3-r1",
	 "alpine-baselayout"},
	{"osv-scalibr/apk/no-origin", 1, 0, "pkgname", "x86_64", "1.2.3", "pkgname"},
	{"osv-scalibr/apk/invalid", 0, 2, NULL, NULL, NULL, NULL},
	{"osv-scalibr/apk/empty", 0, 0, NULL, NULL, NULL, NULL},
	{"syft/apk/corrupt.installed", 1, 1, "alpine-baselayout-data", "x86_64", "3.2.0-r22",
	 "alpine-baselayout"},
	{"syft/apk/multiple-1.installed", 4, 0, NULL, NULL, NULL, NULL},
	{"syft/apk/multiple-2.installed", 14, 0, NULL, NULL, NULL, NULL},
	/* 16 P: lines, one of them "invalidPackageWithoutAVersion". */
	{"trivy/alpine-apk-installed", 15, 1, "musl", "x86_64", "1.1.14-r10", "musl"},
};

static void test_apk_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof apk_fixtures / sizeof apk_fixtures[0]; i++) {
		const struct apk_fixture *f = &apk_fixtures[i];
		char rel[256];
		snprintf(rel, sizeof rel, "inventories/%s", f->file);
		pw_buf b = PW_BUF_INIT;
		pw_inventory inv = PW_INVENTORY_INIT;
		read_data("PW_SHARED_DATA", rel, &b);
		assert_int_equal(pw_inventory_parse_apk(&inv, pw_buf_str(&b), b.len, f->file, NULL),
				 PW_OK);
		if (inv.n_pkgs != f->packages || inv.n_warnings != f->warnings) {
			for (size_t w = 0; w < inv.n_warnings; w++)
				print_error("  warning: %s\n", inv.warnings[w]);
			fail_msg("%s: %zu packages, %zu warnings; expected %zu and %zu", f->file,
				 inv.n_pkgs, inv.n_warnings, f->packages, f->warnings);
		}
		if (f->name)
			expect_pkg(&inv, f->name, f->arch, f->version, f->source, f->version,
				   "installed");
		assert_int_equal(inv.scheme, PW_SCHEME_APK);
		pw_inventory_release(&inv);
		pw_buf_release(&b);
	}
}

static void test_apk_edge_cases(void **state)
{
	(void)state;
	static const char text[] = "this is a corrupt db\n\n"             /* 1 */
				   "P:ok\r\nV:1.0-r0\r\nA:x86_64\r\n\r\n" /* 3-5 */
				   "P:nover\nA:x86_64\n\n"                /* 7-8 */
				   "P:twice\nV:1-r0\nV:2-r0\n\n"          /* 10-12 */
				   "P:sp ace\nV:1-r0\n\n"                 /* 14-15 */
				   "V:1-r0\n\n"                           /* 17 */
				   "P:last\nV:2.0-r1\no:origin"; /* 19-21, no final newline */
	pw_inventory inv = PW_INVENTORY_INIT;
	assert_int_equal(pw_inventory_parse_apk(&inv, text, sizeof text - 1, "installed", NULL),
			 PW_OK);
	assert_int_equal(inv.n_pkgs, 2);
	expect_pkg(&inv, "ok", "x86_64", "1.0-r0", "ok", "1.0-r0", "installed");
	expect_pkg(&inv, "last", NULL, "2.0-r1", "origin", "2.0-r1", "installed");
	expect_warning(&inv, "installed:1: 'this is a corrupt db' is not an 'X:value' line");
	expect_warning(&inv, "installed:7: package 'nover' has no V: (version) line");
	expect_warning(&inv, "installed:12: second V: line (first on line 11)");
	expect_warning(&inv, "installed:14: package name 'sp ace' is empty or not printable");
	expect_warning(&inv, "installed:17: stanza has no P: (package name) line");
	assert_int_equal(inv.n_warnings, 5);
	pw_inventory_release(&inv);
}

static void test_read_alpine_root(void **state)
{
	(void)state;
	pw_inventory inv = PW_INVENTORY_INIT;
	read_test_root("alpine", &inv);
	assert_int_equal(inv.scheme, PW_SCHEME_APK);
	assert_string_equal(inv.os_id, "alpine");
	assert_string_equal(inv.os_version_id, "3.19.1");
	assert_string_equal(inv.arch, "x86_64");
	assert_int_equal(inv.n_pkgs, 6);
	expect_pkg(&inv, "busybox-binsh", "x86_64", "1.36.1-r15", "busybox", "1.36.1-r15",
		   "installed");
	assert_int_equal(inv.n_kernels, 1);
	assert_string_equal(inv.kernels_installed[0], "6.6.14-0-lts");
	pw_inventory_release(&inv);
}

/* ---- rpm ---- */

static void test_rpm_qa(void **state)
{
	(void)state;
	static const char text[] =
		"bash\t\t5.1.8\t6.el9\tx86_64\tbash-5.1.8-6.el9.src.rpm\n"
		"openssl-libs\t1\t3.0.7\t24.el9\tx86_64\topenssl-3.0.7-24.el9.src.rpm\n"
		"gpg-pubkey\t\tfd431d51\t4ae0493b\t(none)\t(none)\n"
		"tzdata\t\t2024a\t1.el9\tnoarch\ttzdata-2024a-1.el9.nosrc.rpm\n"
		"odd\t\t1\t1\tx86_64\tnot-a-source-name\n"
		"short\t1\n"
		"badepoch\tx\t1\t1\tx86_64\tbadepoch-1-1.src.rpm\n"
		"\n"
		"virt\t\t1\t2\t(none)\t(none)";
	pw_inventory inv = PW_INVENTORY_INIT;
	assert_int_equal(pw_inventory_parse_rpm_qa(&inv, text, sizeof text - 1, "rpm -qa", NULL),
			 PW_OK);
	assert_int_equal(inv.scheme, PW_SCHEME_RPM);
	assert_int_equal(inv.n_pkgs, 5);
	expect_pkg(&inv, "bash", "x86_64", "5.1.8-6.el9", "bash", "5.1.8-6.el9", "installed");
	expect_pkg(&inv, "openssl-libs", "x86_64", "1:3.0.7-24.el9", "openssl", "1:3.0.7-24.el9",
		   "installed");
	expect_pkg(&inv, "tzdata", "noarch", "2024a-1.el9", "tzdata", "2024a-1.el9", NULL);
	expect_pkg(&inv, "odd", "x86_64", "1-1", "odd", "1-1", NULL);
	expect_pkg(&inv, "virt", NULL, "1-2", "virt", "1-2", NULL);
	assert_null(find(&inv, "virt", NULL)->arch);
	assert_null(find(&inv, "gpg-pubkey", NULL));
	expect_warning(&inv,
		       "rpm -qa:5: source rpm 'not-a-source-name' is not NAME-VERSION-RELEASE");
	expect_warning(&inv, "rpm -qa:6: 'short?1' has 2 tab-separated fields, not 6");
	expect_warning(&inv, "rpm -qa:7: epoch 'x' is not valid");
	assert_int_equal(inv.n_warnings, 3);
	pw_inventory_release(&inv);
}

/* ---- os-release ---- */

static void test_os_release_quoting(void **state)
{
	(void)state;
	static const char text[] = "# comment ID=wrong\n"
				   "  ID=ubu\\ntu  # trailing comment\n"
				   "VERSION_ID='18.04'\r\n"
				   "PRETTY_NAME=\"Ubuntu \\\"Bionic\\\" \\$HOME \\\\ \\a\"'!'\n"
				   "VERSION_CODENAME=\"unterminated\n"
				   "UBUNTU_CODENAME=bionic\n"
				   "NAME=\"multi\\\nline\"\n";
	pw_inventory inv = PW_INVENTORY_INIT;
	assert_int_equal(pw_inventory_parse_os_release(&inv, text, sizeof text - 1), PW_OK);
	assert_string_equal(inv.os_id, "ubuntu");
	assert_string_equal(inv.os_version_id, "18.04");
	assert_string_equal(inv.os_pretty_name, "Ubuntu \"Bionic\" $HOME \\ \\a!");
	/* The unterminated quote spoils its own line only. */
	assert_string_equal(inv.os_codename, "bionic");
	pw_inventory_release(&inv);

	static const char bad[] =
		"ID=\"\xff\xfe\"\nVERSION_ID=\"a\x01\"\nPRETTY_NAME=\"Caf\xc3\xa9\"\n";
	assert_int_equal(pw_inventory_parse_os_release(&inv, bad, sizeof bad - 1), PW_OK);
	assert_null(inv.os_id);
	assert_null(inv.os_version_id);
	assert_string_equal(inv.os_pretty_name, "Caf\xc3\xa9");
	pw_inventory_release(&inv);
}

/* ---- JSON, sort, hash ---- */

static void expect_same(const pw_inventory *a, const pw_inventory *b)
{
	assert_int_equal(a->n_pkgs, b->n_pkgs);
	for (size_t i = 0; i < a->n_pkgs; i++) {
		const pw_package *x = &a->pkgs[i], *y = &b->pkgs[i];
		assert_string_equal(x->name, y->name);
		assert_string_equal(x->version, y->version);
		assert_true((x->arch == NULL) == (y->arch == NULL));
		if (x->arch)
			assert_string_equal(x->arch, y->arch);
		assert_string_equal(x->source, y->source);
		assert_string_equal(x->source_version, y->source_version);
		assert_string_equal(x->status, y->status);
	}
	assert_int_equal(a->scheme, b->scheme);
	assert_int_equal(a->n_kernels, b->n_kernels);
	assert_int_equal(a->needs_reboot, b->needs_reboot);
	assert_int_equal(a->n_warnings, b->n_warnings);
	char ha[65], hb[65];
	pw_inventory_hash(a, ha);
	pw_inventory_hash(b, hb);
	assert_string_equal(ha, hb);
}

static void test_json_round_trip(void **state)
{
	(void)state;
	const char *roots[] = {"debian", "alpine"};
	for (size_t r = 0; r < 2; r++) {
		pw_inventory inv = PW_INVENTORY_INIT, back = PW_INVENTORY_INIT;
		read_test_root(roots[r], &inv);
		inv.kernel_running = strdup("6.1.0-18-amd64");
		assert_int_equal(pw_inv_warn(&inv, "a warning"), PW_OK);
		cJSON *o = pw_inventory_to_json(&inv);
		assert_non_null(o);
		char *text = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		cJSON *parsed = cJSON_Parse(text);
		assert_non_null(parsed);
		pw_error e = PW_ERROR_INIT;
		if (pw_inventory_from_json(&back, parsed, &e))
			fail_msg("%s", pw_error_text(&e));
		expect_same(&inv, &back);
		assert_string_equal(back.os_id, inv.os_id);
		assert_string_equal(back.os_pretty_name, inv.os_pretty_name);
		assert_string_equal(back.kernel_running, "6.1.0-18-amd64");
		assert_string_equal(back.kernels_installed[0], inv.kernels_installed[0]);
		assert_string_equal(back.warnings[back.n_warnings - 1], "a warning");
		cJSON_Delete(parsed);
		cJSON_free(text);
		pw_inventory_release(&inv);
		pw_inventory_release(&back);
	}
}

static void test_json_errors(void **state)
{
	(void)state;
	static const struct {
		const char *json, *error;
	} cases[] = {
		{"[]", "inventory: expected an object, got an array"},
		{"{\"scheme\":\"deb\"}", "packages: expected an array, got nothing"},
		{"{\"packages\":[]}", "scheme: expected \"deb\", \"rpm\" or \"apk\", got nothing"},
		{"{\"scheme\":\"msi\",\"packages\":[]}",
		 "scheme: 'msi' is not \"deb\", \"rpm\" or \"apk\""},
		{"{\"scheme\":\"deb\",\"os\":[],\"packages\":[]}",
		 "os: expected an object, got an array"},
		{"{\"scheme\":\"deb\",\"os\":{\"id\":12},\"packages\":[]}",
		 "os.id: expected a string, got a number"},
		{"{\"scheme\":\"deb\",\"arch\":true,\"packages\":[]}",
		 "arch: expected a string, got a boolean"},
		{"{\"scheme\":\"deb\",\"packages\":[{\"name\":\"a\",\"version\":\"1\"},"
		 "{\"name\":\"b\",\"version\":2}]}",
		 "packages[1].version: expected a string, got a number"},
		{"{\"scheme\":\"deb\",\"packages\":[{\"name\":\"a\"}]}",
		 "packages[0].version: missing; it must be a string"},
		{"{\"scheme\":\"deb\",\"packages\":[{\"name\":\"\",\"version\":\"1\"}]}",
		 "packages[0].name: must not be empty"},
		{"{\"scheme\":\"deb\",\"packages\":[7]}",
		 "packages[0]: expected an object, got a number"},
		{"{\"scheme\":\"deb\",\"packages\":"
		 "[{\"name\":\"a\",\"version\":\"1\",\"status\":{}}]}",
		 "packages[0].status: expected a string, got an object"},
		{"{\"scheme\":\"deb\",\"kernel\":{\"installed\":[\"a\",1]},\"packages\":[]}",
		 "kernel.installed[1]: expected a string, got a number"},
		{"{\"scheme\":\"deb\",\"kernel\":{\"needs_reboot\":\"yes\"},\"packages\":[]}",
		 "kernel.needs_reboot: expected a boolean, got a string"},
		{"{\"scheme\":\"deb\",\"packages\":[],\"warnings\":{}}",
		 "warnings: expected an array of strings, got an object"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *o = cJSON_Parse(cases[i].json);
		assert_non_null(o);
		pw_inventory inv = PW_INVENTORY_INIT;
		pw_error e = PW_ERROR_INIT;
		assert_int_equal(pw_inventory_from_json(&inv, o, &e), PW_ERR_PARSE);
		if (strncmp(e.msg, cases[i].error, strlen(cases[i].error)) != 0)
			fail_msg("%s: got '%s', expected '%s'", cases[i].json, e.msg,
				 cases[i].error);
		pw_inventory_release(&inv);
		cJSON_Delete(o);
	}
}

static void test_json_defaults(void **state)
{
	(void)state;
	cJSON *o = cJSON_Parse("{\"scheme\":\"rpm\",\"os\":null,\"packages\":["
			       "{\"name\":\"z\",\"version\":\"1-1\",\"arch\":null},"
			       "{\"name\":\"a\",\"version\":\"2-1\",\"source\":\"asrc\"}]}");
	pw_inventory inv = PW_INVENTORY_INIT;
	assert_int_equal(pw_inventory_from_json(&inv, o, NULL), PW_OK);
	assert_int_equal(inv.scheme, PW_SCHEME_RPM);
	assert_int_equal(inv.n_pkgs, 2);
	/* Sorted on the way in, sources filled in as readers do. */
	expect_pkg(&inv, "a", NULL, "2-1", "asrc", "2-1", NULL);
	assert_string_equal(inv.pkgs[0].name, "a");
	expect_pkg(&inv, "z", NULL, "1-1", "z", "1-1", NULL);
	assert_null(inv.pkgs[1].arch);
	assert_null(inv.pkgs[1].status);
	assert_null(inv.os_id);
	pw_inventory_release(&inv);
	cJSON_Delete(o);
}

static void add_pkg(pw_inventory *inv, const char *name, const char *version, const char *arch,
		    const char *source, const char *status)
{
	pw_package p = {strdup(name),   strdup(version), arch ? strdup(arch) : NULL,
			strdup(source), strdup(version), status ? strdup(status) : NULL};
	assert_int_equal(pw_inv_push(inv, &p), PW_OK);
}

static void test_hash(void **state)
{
	(void)state;
	pw_inventory inv = PW_INVENTORY_INIT;
	inv.os_id = strdup("debian");
	inv.os_version_id = strdup("12");
	add_pkg(&inv, "b", "2.0", "amd64", "bsrc", "install ok installed");
	add_pkg(&inv, "a", "1:1.0-1", NULL, "a", NULL);
	char h1[65], h2[65];
	/* The documented canonical form, hashed independently (Python's
	 * hashlib) when this test was written: changing the form changes
	 * every stored inventory's identity. */
	pw_inventory_hash(&inv, h1);
	assert_string_equal(h1, "5f900bc521e0c390ef3aaee338678e999ff93de6018c56d49237db17c51293d2");
	pw_inventory_sort(&inv);
	assert_string_equal(inv.pkgs[0].name, "a");
	pw_inventory_hash(&inv, h2);
	assert_string_equal(h1, h2);
	/* Kernel state, warnings and codename are not content. */
	inv.needs_reboot = true;
	inv.os_codename = strdup("bookworm");
	assert_int_equal(pw_inv_warn(&inv, "w"), PW_OK);
	pw_inventory_hash(&inv, h2);
	assert_string_equal(h1, h2);
	free(inv.pkgs[1].status);
	inv.pkgs[1].status = strdup("install ok half-configured");
	pw_inventory_hash(&inv, h2);
	assert_string_not_equal(h1, h2);
	free(inv.pkgs[1].status);
	inv.pkgs[1].status = strdup("install ok installed");
	free(inv.os_version_id);
	inv.os_version_id = strdup("13");
	pw_inventory_hash(&inv, h2);
	assert_string_not_equal(h1, h2);
	pw_inventory_release(&inv);
}

static void test_excerpt(void **state)
{
	(void)state;
	char out[12];
	pw_inv_excerpt(out, sizeof out, "ab\x1b[2Jc", 7);
	assert_string_equal(out, "ab?[2Jc");
	pw_inv_excerpt(out, sizeof out, "0123456789abcdef", 16);
	assert_string_equal(out, "01234567...");
	pw_inv_excerpt(out, sizeof out, "\xc3\xa9", 2);
	assert_string_equal(out, "??");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dpkg_status_states),
		cmocka_unit_test(test_dpkg_crlf_and_last_line),
		cmocka_unit_test(test_dpkg_malformed_lines),
		cmocka_unit_test(test_dpkg_nul_and_huge_fields),
		cmocka_unit_test(test_dpkg_source_forms),
		cmocka_unit_test(test_dpkg_versions),
		cmocka_unit_test(test_dpkg_warning_cap),
		cmocka_unit_test(test_dpkg_fixtures),
		cmocka_unit_test(test_dpkg_corrupt_names_line),
		cmocka_unit_test(test_dpkg_trivy_txtar),
		cmocka_unit_test(test_read_debian_root),
		cmocka_unit_test(test_read_distroless_root),
		cmocka_unit_test(test_read_syft_status_d),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_kernels_and_reboot),
		cmocka_unit_test(test_kernel_release_names),
		cmocka_unit_test(test_apk_fixtures),
		cmocka_unit_test(test_apk_edge_cases),
		cmocka_unit_test(test_read_alpine_root),
		cmocka_unit_test(test_rpm_qa),
		cmocka_unit_test(test_os_release_quoting),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_json_defaults),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_excerpt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
