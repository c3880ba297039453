/* Parser of `rpm -qa --qf PW_INVENTORY_RPM_QF` output, then the kernel
 * scan and the JSON form. */
#include <cjson/cJSON.h>
#include <stdint.h>

#include "../src/lib/inventory/inventory-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pw_inventory inv = PW_INVENTORY_INIT;
	if (pw_inventory_parse_rpm_qa(&inv, (const char *)data, size, "rpm -qa", NULL) == PW_OK &&
	    pw_inv_find_kernels(&inv, "/nonexistent") == PW_OK)
		cJSON_Delete(pw_inventory_to_json(&inv));
	pw_inventory_release(&inv);
	return 0;
}
