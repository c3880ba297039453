/* Debian tracker parsers: every input goes through both the DSA/DLA list
 * parser and the JSON parser. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_feed_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pw_error err = PW_ERROR_INIT;
	pw_feed_parse_debian_list((const char *)data, size, "fuzz/list", &fuzz_sink, &err);
	pw_feed_parse_debian_json((const char *)data, size, "fuzz.json", &fuzz_sink, &err);
	return 0;
}
