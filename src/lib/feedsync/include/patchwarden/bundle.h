/* Signed offline feed bundles, for servers without internet access.
 *
 * A bundle is a gzip-compressed tar holding, in this order:
 *   MANIFEST       text: format version, creation time, signing key id and
 *                  one line per feed file with its size, SHA-256 and name
 *   MANIFEST.sig   base64 Ed25519 detached signature over MANIFEST
 *   feeds/NAME     the feed files, exactly those the manifest lists
 * The signature covers the manifest and the manifest covers every byte of
 * every file, so one signature check plus the hashes authenticate all.
 * Verification refuses anything else: a bad signature, a wrong key, a
 * hash or size mismatch, a member the manifest does not list, a listed
 * file that is missing, a truncated or damaged archive.
 *
 * MANIFEST grammar (LF line ends, ASCII):
 *   patchwarden-bundle 1
 *   created YYYY-MM-DDTHH:MM:SSZ
 *   key <16 hex digits: first 8 bytes of SHA-256 of the public key>
 *   file <size> <64 hex digits SHA-256> <name>      (sorted by name, unique)
 * A name is 1..255 bytes of [A-Za-z0-9._+,:@=~-] in '/'-separated
 * components, none empty and none starting with '.'.
 *
 * Key files are one line each, "pw-ed25519-public <base64>" and
 * "pw-ed25519-secret <base64>", after optional '#' comment lines; the
 * secret key must not be readable by group or others. */
#ifndef PATCHWARDEN_BUNDLE_H
#define PATCHWARDEN_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/error.h"
#include "patchwarden/feedstore.h"

#define PW_BUNDLE_VERSION 1
#define PW_BUNDLE_KEY_ID_LEN 16
#define PW_BUNDLE_NAME_MAX 255
/* Limits checked before the signature is: keep untrusted input small. */
#define PW_BUNDLE_MANIFEST_MAX (16u << 20)
#define PW_BUNDLE_FILES_MAX 1000000u

typedef struct pw_bundle_file {
	char *name;
	uint64_t size;
	unsigned char sha256[32];
} pw_bundle_file;

typedef struct pw_bundle_manifest {
	unsigned version;
	char created[21]; /* YYYY-MM-DDTHH:MM:SSZ */
	char key_id[PW_BUNDLE_KEY_ID_LEN + 1];
	pw_bundle_file *files; /* sorted by name */
	size_t n_files, cap;
} pw_bundle_manifest;

/* clang-format off */
#define PW_BUNDLE_MANIFEST_INIT {0, {0}, {0}, NULL, 0, 0}
/* clang-format on */

/* Parses MANIFEST text; errors name `where`:line. On error *out is
 * left empty. */
pw_err pw_bundle_manifest_parse(const char *data, size_t len, const char *where,
				pw_bundle_manifest *out, pw_error *err);
void pw_bundle_manifest_release(pw_bundle_manifest *m);
/* Whether `name` may appear in a manifest (and so be extracted). */
bool pw_bundle_name_valid(const char *name);

/* Writes PREFIX.pub (0644) and PREFIX.sec (0600). Existing files are
 * refused unless `force`. `key_id` receives the new key's id. */
pw_err pw_bundle_keygen(const char *prefix, bool force, char key_id[PW_BUNDLE_KEY_ID_LEN + 1],
			pw_error *err);

typedef struct pw_bundle_info {
	char created[21];
	char key_id[PW_BUNDLE_KEY_ID_LEN + 1];
	size_t files;
	uint64_t bytes; /* sum of the feed files' sizes */
} pw_bundle_info;

/* Bundles `inputs` (files, and directory trees whose hidden entries are
 * skipped) into `out_path`, written atomically. A file is named by its
 * base name, a tree's files by their path below the tree. */
pw_err pw_bundle_create(const char *out_path, const char *secret_key_path,
			const char *const *inputs, size_t n_inputs, pw_bundle_info *info,
			pw_error *err);

/* Verifies `bundle_path` against the public key. With `extract_dir` (an
 * existing empty directory) the files are also written there under
 * their names; after an error its content must be discarded. */
pw_err pw_bundle_verify(const char *bundle_path, const char *public_key_path,
			const char *extract_dir, pw_bundle_info *info, pw_error *err);

/* The feed source row (pw_feedstore_source_get) where a store records the
 * newest bundle it imported: last_modified its creation time, etag its
 * key id, url its file name. `feed sync` source names cannot clash. */
#define PW_BUNDLE_SOURCE "(bundle)"

typedef struct pw_bundle_import_opts {
	bool replace;     /* retire each imported source's advisories the bundle lacks */
	bool allow_older; /* import a bundle created before the newest one imported */
	pw_warn_fn warn;  /* skipped-record warnings; may be NULL */
	void *ctx;        /* for warn */
} pw_bundle_import_opts;

/* Verifies, then opens the store at `store_path` and imports every file
 * as one snapshot. Nothing reaches the store, and no store file is
 * created, unless the whole bundle verifies. A bundle created before the
 * newest one this store imported is refused with PW_ERR_CONFLICT unless
 * opts->allow_older: replaying an old signed bundle would bring back
 * advisories and scores a newer one changed. */
pw_err pw_bundle_import(const char *store_path, const char *bundle_path,
			const char *public_key_path, const pw_bundle_import_opts *opts,
			int64_t *snapshot, pw_import_stats *stats, pw_bundle_info *info,
			pw_error *err);

#endif
