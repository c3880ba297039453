/* Alpine secdb parser (YAML through libyaml, JSON through cJSON; the
 * first non-blank byte picks). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_feed_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pw_error err = PW_ERROR_INIT;
	pw_feed_parse_alpine_secdb((const char *)data, size, "fuzz.yaml", &fuzz_sink, &err);
	return 0;
}
