/* pw_ts_parse (clock.h, the --as-of and as_of parser) on arbitrary text
 * (up to the first NUL). Aborts on a crash, a sanitizer report, or a
 * broken law: an accepted text is written back by pw_ts_seconds as the
 * same time (a date as its midnight, milliseconds dropped), and a refused
 * one's message names a position within the text or just past it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/clock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[64];
	size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	int64_t t = 0;
	bool date = false;
	pw_error err = PW_ERROR_INIT;
	if (pw_ts_parse("fuzz", text, &t, &date, &err) == PW_OK) {
		char back[PW_TS_SECONDS_LEN], want[PW_TS_SECONDS_LEN];
		pw_ts_seconds(t, back);
		if (date)
			snprintf(want, sizeof want, "%.10sT00:00:00Z", text);
		else
			snprintf(want, sizeof want, "%.19sZ", text);
		if (strcmp(back, want) || (date && strlen(text) != 10))
			abort();
		return 0;
	}
	/* The last "position ": the quoted text may hold the word too. */
	const char *at = NULL;
	for (const char *p = err.msg; (p = strstr(p, "position ")); p++)
		at = p;
	if (!at || strtoul(at + 9, NULL, 10) < 1 || strtoul(at + 9, NULL, 10) > strlen(text) + 1)
		abort();
	return 0;
}
