/* Signed bundles: the manifest grammar, keys, and create/verify with
 * every kind of damage a bundle can suffer on its way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "patchwarden/buf.h"
#include "patchwarden/bundle.h"
#include "patchwarden/fileio.h"

static char dir[256];

static void path(char *out, size_t cap, const char *rel)
{
	snprintf(out, cap, "%s/%s", dir, rel);
}

static void put(const char *rel, const char *text)
{
	char p[512];
	path(p, sizeof p, rel);
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_write_file_atomic(p, text, strlen(text), 0644, &e), PW_OK);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/pw-test-bundle-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	char p[512];
	path(p, sizeof p, "feeds");
	mkdir(p, 0755);
	path(p, sizeof p, "feeds/debian");
	mkdir(p, 0755);
	put("feeds/kev.json", "{\"catalogVersion\": \"1\", \"vulnerabilities\": []}\n");
	put("feeds/debian/list", "[29 Mar 2023] DSA-5380-1 firefox-esr - security update\n");
	put("feeds/.partial", "hidden files are not bundled\n");
	put("epss.csv", "cve,epss,percentile\nCVE-1999-0001,0.1,0.2\n");
	pw_error e = PW_ERROR_INIT;
	char id[PW_BUNDLE_KEY_ID_LEN + 1];
	path(p, sizeof p, "k");
	if (pw_bundle_keygen(p, false, id, &e) != PW_OK)
		return -1;
	path(p, sizeof p, "other");
	return pw_bundle_keygen(p, false, id, &e) == PW_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- manifest grammar ---- */

#define HDR "patchwarden-bundle 1\ncreated 2025-08-25T10:00:00Z\nkey 0123456789abcdef\n"
#define SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static pw_err parse(const char *text, pw_error *e)
{
	pw_bundle_manifest m;
	pw_err rc = pw_bundle_manifest_parse(text, strlen(text), "MANIFEST", &m, e);
	pw_bundle_manifest_release(&m);
	return rc;
}

static void test_manifest_valid(void **state)
{
	(void)state;
	const char *t = HDR "file 0 " SHA " a/b.json\nfile 12 " SHA " kev.json\n";
	pw_bundle_manifest m;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_bundle_manifest_parse(t, strlen(t), "MANIFEST", &m, &e), PW_OK);
	assert_int_equal(m.version, 1);
	assert_string_equal(m.created, "2025-08-25T10:00:00Z");
	assert_string_equal(m.key_id, "0123456789abcdef");
	assert_int_equal(m.n_files, 2);
	assert_string_equal(m.files[0].name, "a/b.json");
	assert_int_equal(m.files[1].size, 12);
	assert_int_equal(m.files[1].sha256[0], 0xe3);
	assert_int_equal(m.files[1].sha256[31], 0x55);
	pw_bundle_manifest_release(&m);
	assert_null(m.files);
}

static void test_manifest_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		pw_err code;
		const char *msg;
	} cases[] = {
		{"", PW_ERR_PARSE, "empty"},
		{"hello\n", PW_ERR_PARSE, "MANIFEST:1: not a patchwarden bundle manifest"},
		{"patchwarden-bundle 2\n", PW_ERR_UNSUPPORTED, "format '2'"},
		{"patchwarden-bundle 1", PW_ERR_PARSE, "MANIFEST:1: truncated"},
		{"patchwarden-bundle 1\n", PW_ERR_PARSE, "no 'created' line"},
		{"patchwarden-bundle 1\ncreated yesterday\n", PW_ERR_PARSE,
		 "MANIFEST:2: expected 'created"},
		{"patchwarden-bundle 1\ncreated 2025-08-25T10:00:00Z\nkey 0123\n", PW_ERR_PARSE,
		 "MANIFEST:3: expected 'key"},
		{"patchwarden-bundle 1\ncreated 2025-08-25T10:00:00Z\nkey 0123456789ABCDEF\n",
		 PW_ERR_PARSE, "MANIFEST:3"},
		{HDR, PW_ERR_PARSE, "lists no files"},
		{HDR "file 1 " SHA " a\nfile 1 " SHA " a\n", PW_ERR_PARSE,
		 "MANIFEST:5: file 'a' is out of order or repeated"},
		{HDR "file 1 " SHA " b\nfile 1 " SHA " a\n", PW_ERR_PARSE, "out of order"},
		{HDR "file 01 " SHA " a\n", PW_ERR_PARSE, "not a plain number"},
		{HDR "file 99999999999999999999999 " SHA " a\n", PW_ERR_PARSE,
		 "not a plain number"},
		{HDR "file -1 " SHA " a\n", PW_ERR_PARSE, "expected 'file <size>"},
		{HDR "file 1 " SHA "\n", PW_ERR_PARSE, "SHA-256"},
		{HDR "file 1 E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855 a\n",
		 PW_ERR_PARSE, "lower-case hex"},
		{HDR "file 1 " SHA " ../etc/passwd\n", PW_ERR_PARSE,
		 "'../etc/passwd' is not allowed"},
		{HDR "file 1 " SHA " /etc/passwd\n", PW_ERR_PARSE, "not allowed"},
		{HDR "file 1 " SHA " a//b\n", PW_ERR_PARSE, "not allowed"},
		{HDR "file 1 " SHA " a/\n", PW_ERR_PARSE, "not allowed"},
		{HDR "file 1 " SHA " a b\n", PW_ERR_PARSE, "not allowed"},
		{HDR "file 1 " SHA " a\r\n", PW_ERR_PARSE, "byte 0x0d"},
		{HDR "file 1 " SHA " a\nextra line\n", PW_ERR_PARSE,
		 "MANIFEST:5: expected a 'file' line"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		pw_error e = PW_ERROR_INIT;
		pw_err rc = parse(cases[i].text, &e);
		if (rc != cases[i].code || !strstr(e.msg, cases[i].msg))
			fail_msg("case %zu: got %d '%s', want %d '%s'", i, rc, e.msg, cases[i].code,
				 cases[i].msg);
	}
	/* A NUL byte inside a line. */
	static const char nul[] = HDR "file 1 " SHA " a\0b\n";
	pw_bundle_manifest m;
	assert_int_equal(pw_bundle_manifest_parse(nul, sizeof nul - 1, "M", &m, NULL),
			 PW_ERR_PARSE);
}

static void test_names(void **state)
{
	(void)state;
	const char *good[] = {"a", "kev.json", "almalinux/ALSA-2023:1234.json", "x_y+z,1@2=3~4-5",
			      "a.b/c.d/e"};
	const char *bad[] = {"",   ".",    "..",  ".hidden", "a/.b", "a/../b",     "/a",
			     "a/", "a//b", "a b", "a\\b",    "a\tb", "caf\xc3\xa9"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(pw_bundle_name_valid(good[i]));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (pw_bundle_name_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_false(pw_bundle_name_valid(longname));
	longname[PW_BUNDLE_NAME_MAX] = '\0';
	assert_true(pw_bundle_name_valid(longname));
}

/* ---- keys ---- */

static void test_keygen(void **state)
{
	(void)state;
	char p[512], sec[512], pub[512];
	path(p, sizeof p, "kg");
	path(sec, sizeof sec, "kg.sec");
	path(pub, sizeof pub, "kg.pub");
	char id[PW_BUNDLE_KEY_ID_LEN + 1], id2[PW_BUNDLE_KEY_ID_LEN + 1];
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_bundle_keygen(p, false, id, &e), PW_OK);
	assert_int_equal(strlen(id), PW_BUNDLE_KEY_ID_LEN);
	struct stat st;
	assert_int_equal(stat(sec, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(pub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(pw_bundle_keygen(p, false, id2, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "exists"));
	assert_int_equal(pw_bundle_keygen(p, true, id2, &e), PW_OK);
	assert_string_not_equal(id, id2);
}

/* ---- create and verify ---- */

static pw_err create(const char *out, const char *key, pw_bundle_info *info, pw_error *e)
{
	char o[512], k[512], f1[512], f2[512];
	path(o, sizeof o, out);
	path(k, sizeof k, key);
	path(f1, sizeof f1, "feeds");
	path(f2, sizeof f2, "epss.csv");
	const char *inputs[] = {f1, f2};
	return pw_bundle_create(o, k, inputs, 2, info, e);
}

static pw_err verify(const char *bundle, const char *key, const char *extract, pw_error *e)
{
	char b[512], k[512];
	path(b, sizeof b, bundle);
	path(k, sizeof k, key);
	pw_bundle_info info;
	return pw_bundle_verify(b, k, extract, &info, e);
}

static void test_round_trip(void **state)
{
	(void)state;
	pw_bundle_info info;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(create("good.tar.gz", "k.sec", &info, &e), PW_OK);
	assert_int_equal(info.files, 3); /* the hidden file stays out */
	char b[512], k[512], x[512];
	path(b, sizeof b, "good.tar.gz");
	path(k, sizeof k, "k.pub");
	path(x, sizeof x, "extract");
	mkdir(x, 0700);
	pw_bundle_info vi;
	assert_int_equal(pw_bundle_verify(b, k, x, &vi, &e), PW_OK);
	assert_int_equal(vi.files, 3);
	assert_int_equal(vi.bytes, info.bytes);
	assert_string_equal(vi.key_id, info.key_id);
	assert_string_equal(vi.created, info.created);
	pw_buf got = PW_BUF_INIT;
	char p[600];
	snprintf(p, sizeof p, "%s/debian/list", x);
	assert_int_equal(pw_read_file(p, &got, 0, &e), PW_OK);
	assert_string_equal(pw_buf_str(&got),
			    "[29 Mar 2023] DSA-5380-1 firefox-esr - security update\n");
	pw_buf_release(&got);
	snprintf(p, sizeof p, "%s/epss.csv", x);
	assert_int_equal(access(p, F_OK), 0);
}

static void test_wrong_key(void **state)
{
	(void)state;
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(create("wk.tar.gz", "k.sec", NULL, &e), PW_OK);
	assert_int_equal(verify("wk.tar.gz", "other.pub", NULL, &e), PW_ERR_INTEGRITY);
	assert_non_null(strstr(e.msg, "signed with key"));
	assert_non_null(strstr(e.msg, "other.pub is key"));
	/* A secret key where the public one belongs, and the reverse. */
	assert_int_equal(verify("wk.tar.gz", "k.sec", NULL, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "secret key; give the public"));
	assert_int_equal(create("wk2.tar.gz", "k.pub", NULL, &e), PW_ERR_INVALID);
}

static void test_secret_key_permissions(void **state)
{
	(void)state;
	char k[512];
	path(k, sizeof k, "k.sec");
	chmod(k, 0644);
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(create("perm.tar.gz", "k.sec", NULL, &e), PW_ERR_AUTH);
	assert_non_null(strstr(e.msg, "chmod 600"));
	chmod(k, 0600);
	char o[512];
	path(o, sizeof o, "perm.tar.gz");
	assert_int_equal(access(o, F_OK), -1);
}

static void test_create_refusals(void **state)
{
	(void)state;
	char k[512], o[512], a[512], b[512];
	path(k, sizeof k, "k.sec");
	path(o, sizeof o, "dup.tar.gz");
	path(a, sizeof a, "feeds/kev.json");
	path(b, sizeof b, "dupdir");
	mkdir(b, 0755);
	put("dupdir/kev.json", "{}\n");
	path(b, sizeof b, "dupdir/kev.json");
	const char *dup[] = {a, b};
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(pw_bundle_create(o, k, dup, 2, NULL, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "would both be bundled as 'kev.json'"));

	char ln[512];
	path(ln, sizeof ln, "dupdir/link");
	assert_int_equal(symlink("/etc/passwd", ln), 0);
	path(b, sizeof b, "dupdir");
	const char *withlink[] = {b};
	assert_int_equal(pw_bundle_create(o, k, withlink, 1, NULL, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "symbolic links"));
	unlink(ln);

	put("bad name.json", "{}\n");
	path(b, sizeof b, "bad name.json");
	const char *badname[] = {b};
	assert_int_equal(pw_bundle_create(o, k, badname, 1, NULL, &e), PW_ERR_INVALID);
	assert_non_null(strstr(e.msg, "cannot be bundled"));
	assert_int_equal(access(o, F_OK), -1);
}

/* ---- damage: rewrite a good bundle member by member ---- */

struct member {
	char name[300];
	pw_buf data;
};

struct members {
	struct member m[16];
	size_t n;
};

static void load_members(const char *bundle, struct members *ms)
{
	char b[512];
	path(b, sizeof b, bundle);
	struct archive *a = archive_read_new();
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_filename(a, b, 65536), ARCHIVE_OK);
	struct archive_entry *e;
	ms->n = 0;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		struct member *m = &ms->m[ms->n++];
		snprintf(m->name, sizeof m->name, "%s", archive_entry_pathname(e));
		m->data = (pw_buf)PW_BUF_INIT;
		char chunk[4096];
		la_ssize_t n;
		while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0)
			pw_buf_append(&m->data, chunk, (size_t)n);
	}
	archive_read_free(a);
}

static void write_members(const char *bundle, struct members *ms)
{
	char b[512];
	path(b, sizeof b, bundle);
	struct archive *a = archive_write_new();
	archive_write_add_filter_gzip(a);
	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, b), ARCHIVE_OK);
	for (size_t i = 0; i < ms->n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, ms->m[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)ms->m[i].data.len);
		archive_write_header(a, e);
		archive_write_data(a, ms->m[i].data.data ? ms->m[i].data.data : "",
				   ms->m[i].data.len);
		archive_entry_free(e);
		pw_buf_release(&ms->m[i].data);
	}
	archive_write_close(a);
	archive_write_free(a);
}

static struct member *find(struct members *ms, const char *name)
{
	for (size_t i = 0; i < ms->n; i++)
		if (strcmp(ms->m[i].name, name) == 0)
			return &ms->m[i];
	fail_msg("no member %s", name);
	return NULL;
}

static void expect_refused(const char *bundle, const char *msg)
{
	pw_error e = PW_ERROR_INIT;
	pw_err rc = verify(bundle, "k.pub", NULL, &e);
	if (rc == PW_OK || !strstr(e.msg, msg))
		fail_msg("%s: got %d '%s', want '%s'", bundle, rc, e.msg, msg);
}

static void test_tampered_file(void **state)
{
	(void)state;
	assert_int_equal(create("base.tar.gz", "k.sec", NULL, NULL), PW_OK);
	struct members ms;
	load_members("base.tar.gz", &ms);
	struct member *m = find(&ms, "feeds/debian/list");
	m->data.data[1] = '3'; /* same size, other bytes */
	write_members("tampered.tar.gz", &ms);
	expect_refused("tampered.tar.gz", "debian/list does not match its SHA-256");

	load_members("base.tar.gz", &ms);
	pw_buf_puts(&find(&ms, "feeds/kev.json")->data, "\n");
	write_members("grown.tar.gz", &ms);
	expect_refused("grown.tar.gz", "kev.json is");
}

static void test_tampered_manifest(void **state)
{
	(void)state;
	struct members ms;
	load_members("base.tar.gz", &ms);
	struct member *m = find(&ms, "MANIFEST");
	char *created = strstr(m->data.data, "created 20");
	assert_non_null(created);
	created[9] = created[9] == '1' ? '2' : '1';
	write_members("badmanifest.tar.gz", &ms);
	expect_refused("badmanifest.tar.gz", "the signature does not verify");

	load_members("base.tar.gz", &ms);
	pw_buf_reset(&find(&ms, "MANIFEST.sig")->data);
	pw_buf_puts(&find(&ms, "MANIFEST.sig")->data, "bm90IGEgc2lnbmF0dXJl\n");
	write_members("badsig.tar.gz", &ms);
	expect_refused("badsig.tar.gz", "not an Ed25519 signature");
}

static void test_extra_and_missing_members(void **state)
{
	(void)state;
	struct members ms;
	load_members("base.tar.gz", &ms);
	struct member *x = &ms.m[ms.n++];
	snprintf(x->name, sizeof x->name, "feeds/extra.json");
	x->data = (pw_buf)PW_BUF_INIT;
	pw_buf_puts(&x->data, "{}\n");
	write_members("extra.tar.gz", &ms);
	expect_refused("extra.tar.gz", "member 'feeds/extra.json' is not listed");

	load_members("base.tar.gz", &ms);
	x = &ms.m[ms.n++];
	snprintf(x->name, sizeof x->name, "../../etc/cron.d/evil");
	x->data = (pw_buf)PW_BUF_INIT;
	write_members("escape.tar.gz", &ms);
	expect_refused("escape.tar.gz", "is not listed in the signed manifest");

	load_members("base.tar.gz", &ms);
	x = &ms.m[ms.n++];
	snprintf(x->name, sizeof x->name, "feeds/kev.json");
	x->data = (pw_buf)PW_BUF_INIT;
	pw_buf_puts(&x->data, find(&ms, "feeds/kev.json")->data.data);
	write_members("twice.tar.gz", &ms);
	expect_refused("twice.tar.gz", "appears twice");

	load_members("base.tar.gz", &ms);
	pw_buf_release(&ms.m[ms.n - 1].data);
	ms.n--;
	write_members("missing.tar.gz", &ms);
	expect_refused("missing.tar.gz", "missing from the bundle");

	load_members("base.tar.gz", &ms);
	struct member tmp = ms.m[0];
	ms.m[0] = ms.m[1];
	ms.m[1] = tmp;
	write_members("order.tar.gz", &ms);
	expect_refused("order.tar.gz", "expected member MANIFEST, found MANIFEST.sig");
}

static void test_truncated_and_garbage(void **state)
{
	(void)state;
	char b[512], t[512];
	path(b, sizeof b, "base.tar.gz");
	pw_buf data = PW_BUF_INIT;
	assert_int_equal(pw_read_file(b, &data, 0, NULL), PW_OK);
	/* Cut at many points: each must be refused, none may crash. */
	for (size_t cut = 0; cut < data.len; cut += data.len / 23 + 1) {
		path(t, sizeof t, "cut.tar.gz");
		assert_int_equal(pw_write_file_atomic(t, data.data, cut, 0644, NULL), PW_OK);
		pw_error e = PW_ERROR_INIT;
		if (verify("cut.tar.gz", "k.pub", NULL, &e) == PW_OK)
			fail_msg("truncated at %zu of %zu accepted", cut, data.len);
	}
	path(t, sizeof t, "cut.tar.gz");
	assert_int_equal(pw_write_file_atomic(t, data.data, data.len - 10, 0644, NULL), PW_OK);
	expect_refused("cut.tar.gz", "damaged or truncated bundle");
	pw_buf_release(&data);

	put("garbage.tar.gz", "this is not a bundle at all\n");
	expect_refused("garbage.tar.gz", "not a patchwarden bundle");
	pw_error e = PW_ERROR_INIT;
	assert_int_equal(verify("absent.tar.gz", "k.pub", NULL, &e), PW_ERR_NOTFOUND);
}

/* ---- replay: a bundle older than the newest imported one ---- */

/* Signs `manifest` with the secret key file `key` into `sig` (base64 and
 * a newline, as MANIFEST.sig holds it). */
static void sign_with(const char *key, const pw_buf *manifest, pw_buf *sig)
{
	char k[512];
	path(k, sizeof k, key);
	pw_buf text = PW_BUF_INIT;
	assert_int_equal(pw_read_file(k, &text, 4096, NULL), PW_OK);
	const char *b64 = strstr(pw_buf_str(&text), "pw-ed25519-secret ");
	assert_non_null(b64);
	b64 += strlen("pw-ed25519-secret ");
	unsigned char sk[crypto_sign_SECRETKEYBYTES], sg[crypto_sign_BYTES];
	size_t got = 0;
	assert_int_equal(sodium_base642bin(sk, sizeof sk, b64, strcspn(b64, "\n"), NULL, &got, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(got, sizeof sk);
	crypto_sign_detached(sg, NULL, (const unsigned char *)manifest->data, manifest->len, sk);
	char out[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(out, sizeof out, sg, sizeof sg, sodium_base64_VARIANT_ORIGINAL);
	pw_buf_reset(sig);
	pw_buf_printf(sig, "%s\n", out);
	pw_buf_release(&text);
}

static pw_err import(const char *bundle, bool allow_older, int64_t *snap, pw_error *e)
{
	char b[512], k[512], st[512];
	path(b, sizeof b, bundle);
	path(k, sizeof k, "k.pub");
	path(st, sizeof st, "replay.db");
	pw_bundle_import_opts o = {.allow_older = allow_older};
	pw_import_stats stats;
	pw_bundle_info info;
	return pw_bundle_import(st, b, k, &o, snap, &stats, &info, e);
}

static void test_older_bundle_refused(void **state)
{
	(void)state;
	pw_bundle_info info;
	char o[512], k[512], f[512];
	path(o, sizeof o, "new.tar.gz");
	path(k, sizeof k, "k.sec");
	path(f, sizeof f, "epss.csv");
	const char *inputs[] = {f};
	assert_int_equal(pw_bundle_create(o, k, inputs, 1, &info, NULL), PW_OK);
	/* The same files, signed by the same key, but made in 2020. */
	struct members ms;
	load_members("new.tar.gz", &ms);
	struct member *m = find(&ms, "MANIFEST");
	char *created = strstr(m->data.data, "created ");
	assert_non_null(created);
	memcpy(created + 8, "2020-01-01T00:00:00Z", 20);
	sign_with("k.sec", &m->data, &find(&ms, "MANIFEST.sig")->data);
	write_members("old.tar.gz", &ms);

	pw_error e = PW_ERROR_INIT;
	int64_t snap = 0;
	assert_int_equal(import("new.tar.gz", false, &snap, &e), PW_OK);
	assert_int_equal(snap, 1);
	pw_err rc = import("old.tar.gz", false, &snap, &e);
	if (rc != PW_ERR_CONFLICT ||
	    !strstr(e.msg, "old.tar.gz: created 2020-01-01T00:00:00Z, before the newest bundle") ||
	    !strstr(e.msg, "new.tar.gz, created ") || !strstr(e.msg, "--allow-older"))
		fail_msg("got %d '%s'", rc, e.msg);

	/* Refused means nothing was imported. */
	char st[512];
	path(st, sizeof st, "replay.db");
	pw_feedstore *s = NULL;
	assert_int_equal(pw_feedstore_open(st, &s, &e), PW_OK);
	int64_t latest = 0;
	assert_int_equal(pw_feedstore_latest(s, &latest, &e), PW_OK);
	assert_int_equal(latest, 1);
	pw_feedstore_close(s);

	assert_int_equal(import("old.tar.gz", true, &snap, &e), PW_OK);
	assert_int_equal(snap, 2);
	/* The newest stays the one to compare with; the same bundle again is
	 * no replay of an older one. */
	assert_int_equal(import("old.tar.gz", false, &snap, &e), PW_ERR_CONFLICT);
	assert_int_equal(import("new.tar.gz", false, &snap, &e), PW_OK);
	assert_int_equal(snap, 3);

	assert_int_equal(pw_feedstore_open(st, &s, &e), PW_OK);
	pw_source_state src;
	bool found = false;
	assert_int_equal(pw_feedstore_source_get(s, PW_BUNDLE_SOURCE, &src, &found, &e), PW_OK);
	assert_true(found);
	assert_string_equal(src.last_modified, info.created);
	assert_string_equal(src.etag, info.key_id);
	assert_int_equal(src.last_snapshot, 3);
	pw_feedstore_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_valid),
		cmocka_unit_test(test_manifest_errors),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_keygen),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_secret_key_permissions),
		cmocka_unit_test(test_create_refusals),
		cmocka_unit_test(test_tampered_file),
		cmocka_unit_test(test_tampered_manifest),
		cmocka_unit_test(test_extra_and_missing_members),
		cmocka_unit_test(test_truncated_and_garbage),
		cmocka_unit_test(test_older_bundle_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
