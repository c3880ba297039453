/* The import path on arbitrary file content: archive sniffing, the zip
 * end-of-directory reader, libarchive (zip, tar, compressed, nested),
 * format detection, every parser and the store's sink, into an in-memory
 * store. No crash, no sanitizer report; a failed import leaves no
 * snapshot and a committed one reads back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patchwarden/feedstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pw_err count(void *ctx, const pw_advisory *a, pw_error *err)
{
	(void)err;
	*(size_t *)ctx += a->n_affected;
	return PW_OK;
}

/* The walker reads paths, so each input goes through one temporary file. */
static const char *input_file(void)
{
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof path, "/tmp/pw-fuzz-import-%ld", (long)getpid());
	return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = input_file();
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);

	pw_feedstore *s;
	pw_error err = PW_ERROR_INIT;
	if (pw_feedstore_open(":memory:", &s, &err))
		abort();
	pw_feed_import *imp;
	if (pw_feed_import_begin(s, "fuzz", &imp, &err))
		abort();
	pw_feed_import_replace_source(imp, true);
	int64_t snap = 0;
	if (pw_feed_import_path(imp, path, &err)) {
		if (!err.msg[0])
			abort(); /* every failure must say why */
		pw_feed_import_abort(imp);
		if (pw_feedstore_latest(s, &snap, &err) != PW_ERR_NOTFOUND)
			abort();
	} else {
		pw_import_stats st;
		if (pw_feed_import_commit(imp, &snap, &st, &err) || snap != 1)
			abort();
		pw_ecosystem_count *ecos;
		size_t n;
		if (pw_feedstore_ecosystems(s, snap, &ecos, &n, &err))
			abort();
		for (size_t i = 0; i < n; i++) {
			size_t rows = 0;
			if (pw_feedstore_each_advisory(s, snap, ecos[i].ecosystem, NULL, 0, count,
						       &rows, &err))
				abort();
			if (rows == 0)
				abort();
		}
		pw_feedstore_free_counts(ecos, n);
	}
	pw_feedstore_close(s);
	unlink(path);
	return 0;
}
