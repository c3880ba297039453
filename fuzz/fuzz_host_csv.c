/* The host inventory's input checks on arbitrary bytes: the first byte
 * picks the input, the rest is it.
 *   0..12: a value for editable field N (pw_host_value_check)
 *   else:  a CSV file (pw_host_csv_parse)
 * Aborts on a crash, a sanitizer report, or a broken law: a stored form
 * checks again to itself, and a parsed CSV has a hostname column, a
 * non-empty hostname in every row and rows in line order. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/hosts.h"
#include "patchwarden/host_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void value(pw_host_field f, const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	char *out = NULL, *again = NULL;
	if (pw_host_value_check(f, s, &out, NULL) == PW_OK && out) {
		if (pw_host_value_check(f, out, &again, NULL) != PW_OK || strcmp(out, again)) {
			fprintf(stderr, "%s: stored form '%s' does not check to itself\n",
				pw_host_field_name(f), out);
			abort();
		}
	}
	free(again);
	free(out);
	free(s);
}

static void csv(const uint8_t *data, size_t size)
{
	pw_host_csv c = PW_HOST_CSV_INIT;
	if (pw_host_csv_parse("fuzz.csv", (const char *)data, size, &c, NULL) != PW_OK)
		return;
	size_t hcol = 0;
	while (hcol < c.ncols && c.cols[hcol] != PW_HF_HOSTNAME)
		hcol++;
	if (hcol == c.ncols)
		abort();
	for (size_t r = 0; r < c.nrows; r++) {
		const char *h = c.cells[r * c.ncols + hcol];
		if (!h || !*h || (r && c.lines[r] <= c.lines[r - 1]))
			abort();
	}
	pw_host_csv_release(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] < PW_HF__EDITABLE)
		value((pw_host_field)data[0], data + 1, size - 1);
	else
		csv(data + 1, size - 1);
	return 0;
}
