/* pw_feed_parse_epss on arbitrary bytes: no crash, no sanitizer report,
 * every emitted record well formed, every failure explained. */
#include "feed_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run(pw_feed_parse_epss, data, size);
	return 0;
}
