/* os-release parser (shell quoting). What it keeps must be text a
 * terminal and a JSON document can carry: no control bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "patchwarden/inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pw_inventory inv = PW_INVENTORY_INIT;
	if (pw_inventory_parse_os_release(&inv, (const char *)data, size) == PW_OK) {
		check_text(inv.os_id);
		check_text(inv.os_version_id);
		check_text(inv.os_codename);
		check_text(inv.os_pretty_name);
	}
	pw_inventory_release(&inv);
	return 0;
}
