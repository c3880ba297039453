/* rpm versions: any bytes compare without harm, and both rpmvercmp() and
 * the EVR comparison are total preorders. */
#include <stdint.h>

#include "patchwarden/vercmp.h"
#include "vercmp_props.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct three t;
	three_split(data, size, &t);
	check_total_preorder(pw_rpm_segcmp, t.v);
	check_total_preorder(pw_rpm_vercmp, t.v);
	for (int i = 0; i < 3; i++) {
		int via = 2;
		pw_err rc = pw_vercmp(PW_SCHEME_RPM, t.v[i], t.v[(i + 1) % 3], &via, NULL);
		bool refused = !t.v[i][0] || !t.v[(i + 1) % 3][0];
		if (refused ? rc != PW_ERR_PARSE
			    : rc != PW_OK ||
				      props_sign(via) != pw_rpm_vercmp(t.v[i], t.v[(i + 1) % 3]))
			__builtin_trap();
	}
	three_free(&t);
	return 0;
}
