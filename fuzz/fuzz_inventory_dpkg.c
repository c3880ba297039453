/* dpkg status parser. The first byte picks the PW_DPKG_* flags (status
 * file, journal, status.d); the rest is the file. Whatever is accepted
 * must survive dpkg's resolution, the kernel scan, and a JSON round trip
 * that hashes the same. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/lib/inventory/inventory-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags = size ? data[0] & 3 : 0;
	const char *text = size ? (const char *)data + 1 : "";
	pw_inventory inv = PW_INVENTORY_INIT, back = PW_INVENTORY_INIT;
	if (pw_inv_parse_dpkg(&inv, text, size ? size - 1 : 0, "status", flags) ||
	    pw_inv_dpkg_resolve(&inv, NULL) || pw_inv_find_kernels(&inv, "/nonexistent"))
		goto out;
	pw_inventory_sort(&inv);
	cJSON *o = pw_inventory_to_json(&inv);
	if (!o)
		goto out;
	/* Every package read has a name and a version: reading back fails
	 * only for lack of memory. */
	pw_error e = PW_ERROR_INIT;
	if (pw_inventory_from_json(&back, o, &e) != PW_OK && e.code != PW_ERR_NOMEM)
		abort();
	cJSON_Delete(o);
	char a[65], b[65];
	pw_inventory_hash(&inv, a);
	pw_inventory_hash(&back, b);
	if (e.code == PW_OK && strcmp(a, b) != 0)
		abort();
out:
	pw_inventory_release(&inv);
	pw_inventory_release(&back);
	return 0;
}
