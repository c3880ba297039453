/* deb versions: parsing never crashes on any bytes; on versions dpkg
 * accepts, every entry point agrees and the order is a total preorder. */
#include <stdint.h>

#include "patchwarden/vercmp.h"
#include "vercmp_props.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct three t;
	three_split(data, size, &t);
	bool all_valid = true;
	pw_deb_version d[3];
	for (int i = 0; i < 3; i++) {
		pw_error e = PW_ERROR_INIT;
		pw_err rc = pw_deb_version_parse(t.v[i], &d[i], &e);
		if (rc != PW_OK && (rc != PW_ERR_PARSE || !e.msg[0]))
			__builtin_trap(); /* a refusal always explains itself */
		all_valid &= rc == PW_OK;
	}
	/* Refused versions must still compare without harm. */
	(void)pw_deb_vercmp(t.v[0], t.v[1]);
	if (all_valid) {
		check_total_preorder(pw_deb_vercmp, t.v);
		for (int i = 0; i < 3; i++) {
			for (int j = 0; j < 3; j++) {
				int via = 2;
				if (pw_vercmp(PW_SCHEME_DEB, t.v[i], t.v[j], &via, NULL) != PW_OK ||
				    props_sign(via) != pw_deb_vercmp(t.v[i], t.v[j]) ||
				    pw_deb_version_cmp(&d[i], &d[j]) !=
					    pw_deb_vercmp(t.v[i], t.v[j]))
					__builtin_trap();
			}
		}
	}
	three_free(&t);
	return 0;
}
