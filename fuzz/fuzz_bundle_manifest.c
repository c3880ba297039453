/* The bundle MANIFEST parser reads untrusted bytes before any signature
 * is checked (to name the signing key when verification fails). */
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pw_bundle_manifest m;
	pw_error e = PW_ERROR_INIT;
	if (pw_bundle_manifest_parse((const char *)data, size, "MANIFEST", &m, &e) == PW_OK) {
		/* Accepted names must be safe to extract. */
		for (size_t i = 0; i < m.n_files; i++)
			if (!pw_bundle_name_valid(m.files[i].name))
				__builtin_trap();
	}
	pw_bundle_manifest_release(&m);
	return 0;
}
