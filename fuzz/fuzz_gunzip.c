/* The bounded gzip inflate of agent check-in bodies on arbitrary bytes.
 * Aborts on a crash, a sanitizer report, or a broken law: the output
 * never exceeds the cap (plus the one byte that detects it), what
 * inflates within a tight cap inflates the same within a wide one, and
 * what inflates compresses and inflates back to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/gzip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum { TIGHT = 4096, WIDE = 1 << 20 };
	pw_buf a = PW_BUF_INIT, b = PW_BUF_INIT, z = PW_BUF_INIT, back = PW_BUF_INIT;
	pw_err ra = pw_gunzip(data, size, TIGHT, "fuzz", &a, NULL);
	pw_err rb = pw_gunzip(data, size, WIDE, "fuzz", &b, NULL);
	if (a.len > TIGHT + 1 || b.len > WIDE + 1)
		abort();
	if (ra == PW_OK && (rb != PW_OK || a.len != b.len || memcmp(a.data, b.data, a.len)))
		abort();
	if (rb == PW_OK) {
		if (pw_gzip(b.data, b.len, &z, NULL) ||
		    pw_gunzip(z.data, z.len, WIDE, "again", &back, NULL) || back.len != b.len ||
		    (b.len && memcmp(back.data, b.data, b.len)))
			abort();
	}
	pw_buf_release(&a);
	pw_buf_release(&b);
	pw_buf_release(&z);
	pw_buf_release(&back);
	return 0;
}
