/* The JSON pre-scan and bounded parse on arbitrary bytes, with tight and
 * default limits. Aborts on a crash, a sanitizer report, or a broken law:
 * what the bounded parse accepts, cJSON accepts too, and it passes the
 * pre-scan alone; what the tight limits accept, the default ones accept. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/json_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const pw_json_limits tight = {3, 16}, wide = PW_JSON_LIMITS_DEFAULT;
	/* An exact-size copy without a NUL: the parse must stay within len. */
	char *text = malloc(size ? size : 1);
	if (!text)
		abort();
	if (size)
		memcpy(text, data, size);
	cJSON *a = NULL, *b = NULL;
	pw_err ra = pw_json_parse_limited(text, size, &tight, "fuzz", &a, NULL);
	pw_err rb = pw_json_parse_limited(text, size, &wide, "fuzz", &b, NULL);
	if ((ra == PW_OK) != (a != NULL) || (rb == PW_OK) != (b != NULL))
		abort();
	if (ra == PW_OK && rb != PW_OK)
		abort();
	if (rb == PW_OK) {
		if (pw_json_check(text, size, &wide, NULL) != PW_OK)
			abort();
		char *printed = cJSON_PrintUnformatted(b);
		cJSON *again = printed ? cJSON_Parse(printed) : NULL;
		if (printed && !again)
			abort();
		cJSON_Delete(again);
		cJSON_free(printed);
	}
	cJSON_Delete(a);
	cJSON_Delete(b);
	free(text);
	return 0;
}
