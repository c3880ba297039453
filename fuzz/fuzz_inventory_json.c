/* pw_inventory_from_json on any JSON: what it accepts, written out and
 * read again, is the same inventory (same hash). */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *in = cJSON_ParseWithLength((const char *)data, size);
	pw_inventory inv = PW_INVENTORY_INIT, back = PW_INVENTORY_INIT;
	pw_error e = PW_ERROR_INIT;
	if (in && pw_inventory_from_json(&inv, in, &e) == PW_OK) {
		cJSON *out = pw_inventory_to_json(&inv);
		if (out && pw_inventory_from_json(&back, out, &e) == PW_OK) {
			char a[65], b[65];
			pw_inventory_hash(&inv, a);
			pw_inventory_hash(&back, b);
			if (strcmp(a, b) != 0 || inv.n_pkgs != back.n_pkgs ||
			    inv.n_warnings != back.n_warnings || inv.n_kernels != back.n_kernels)
				abort();
		} else if (out && e.code != PW_ERR_NOMEM) {
			abort();
		}
		cJSON_Delete(out);
	}
	cJSON_Delete(in);
	pw_inventory_release(&inv);
	pw_inventory_release(&back);
	return 0;
}
