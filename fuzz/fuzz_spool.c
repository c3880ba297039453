/* The spool's reading of files it finds on disk: a result file (header,
 * length, checksum) or, when the first byte is odd, the next-seq counter.
 * Whatever the bytes, open and read must end in a clear error or the
 * payload that the header vouches for; a damaged result goes to
 * quarantine/ and leaves the spool empty. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patchwarden/spool.h"

static char dir[] = "/tmp/pw-fuzz-spool-XXXXXX";
static char result_path[128], counter_path[128], quarantined[160];

static void put_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!result_path[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(result_path, sizeof result_path, "%s/00000000000000000001.result", dir);
		snprintf(counter_path, sizeof counter_path, "%s/next-seq", dir);
		snprintf(quarantined, sizeof quarantined,
			 "%s/quarantine/00000000000000000001.result", dir);
	}
	unlink(result_path);
	unlink(counter_path);
	unlink(quarantined);
	if (!size)
		return 0;
	bool counter = data[0] & 1;
	put_file(counter ? counter_path : result_path, data + 1, size - 1);

	pw_spool s = PW_SPOOL_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_spool_open(&s, dir, 0, &e);
	if (rc) {
		if (!counter || rc != PW_ERR_PARSE || !e.msg[0])
			abort();
		return 0;
	}
	if (counter) {
		if (s.next_seq == 0)
			abort();
		pw_spool_release(&s);
		return 0;
	}
	pw_buf b = PW_BUF_INIT;
	rc = pw_spool_read(&s, 1, &b, &e);
	if (rc == PW_OK) {
		/* What was read, written back, reads the same. */
		uint64_t seq;
		pw_buf again = PW_BUF_INIT;
		if (pw_spool_put(&s, b.data, b.len, &seq, NULL) ||
		    pw_spool_read(&s, seq, &again, NULL) || again.len != b.len ||
		    (b.len && memcmp(again.data, b.data, b.len)))
			abort();
		pw_spool_remove(&s, seq, NULL);
		pw_buf_release(&again);
	} else if (rc != PW_ERR_INTEGRITY || s.count != 0 || access(quarantined, F_OK) != 0) {
		abort();
	}
	pw_buf_release(&b);
	pw_spool_release(&s);
	return 0;
}
