/* apk installed-database parser, then the kernel scan; the content hash
 * must not depend on the order of the packages. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/lib/inventory/inventory-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pw_inventory inv = PW_INVENTORY_INIT;
	if (pw_inventory_parse_apk(&inv, (const char *)data, size, "installed", NULL) == PW_OK &&
	    pw_inv_find_kernels(&inv, "/nonexistent") == PW_OK) {
		char a[65], b[65];
		pw_inventory_hash(&inv, a);
		for (size_t i = 0, j = inv.n_pkgs; i + 1 < j; i++, j--) {
			pw_package t = inv.pkgs[i];
			inv.pkgs[i] = inv.pkgs[j - 1];
			inv.pkgs[j - 1] = t;
		}
		pw_inventory_hash(&inv, b);
		if (a[0] && b[0] && strcmp(a, b) != 0)
			abort();
	}
	pw_inventory_release(&inv);
	return 0;
}
