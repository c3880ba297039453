/* Ubuntu CVE tracker (UCT) file parser. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_feed_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pw_error err = PW_ERROR_INIT;
	pw_feed_parse_ubuntu_uct((const char *)data, size, "fuzz/CVE", &fuzz_sink, &err);
	return 0;
}
