/* apk version comparison on arbitrary bytes: the input is split at '\n'
 * into up to three versions, each checked for validity, and the three
 * compared pairwise. Any crash, sanitizer report or broken ordering law
 * (reflexivity, antisymmetry, transitivity) aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/vercmp.h"

/* Exact-size copies so ASan sees any read past a version's NUL. */
static char *dup_part(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		abort();
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static void check_transitive(const char *x, const char *y, const char *z)
{
	int xy = pw_apk_vercmp(x, y), yz = pw_apk_vercmp(y, z), xz = pw_apk_vercmp(x, z);
	if (xy <= 0 && yz <= 0 && xz > 0)
		abort();
	if ((xy < 0 || yz < 0) && xy <= 0 && yz <= 0 && xz >= 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v[3];
	size_t start = 0;
	for (int i = 0; i < 3; i++) {
		size_t end = start;
		while (end < size && (i == 2 || data[end] != '\n'))
			end++;
		v[i] = dup_part(data + start, end - start);
		start = end < size ? end + 1 : size;
	}

	for (int i = 0; i < 3; i++) {
		pw_error e = PW_ERROR_INIT;
		pw_err rc = pw_apk_version_check(v[i], &e);
		if (rc != PW_OK && (rc != PW_ERR_PARSE || e.code != rc || !e.msg[0]))
			abort();
		if (pw_apk_version_check(v[i], NULL) != rc)
			abort();
		if (pw_apk_vercmp(v[i], v[i]) != 0)
			abort();
		for (int j = 0; j < 3; j++) {
			int c = pw_apk_vercmp(v[i], v[j]);
			if (c < -1 || c > 1 || pw_apk_vercmp(v[j], v[i]) != -c)
				abort();
		}
	}
	static const int perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
				       {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	for (int p = 0; p < 6; p++)
		check_transitive(v[perm[p][0]], v[perm[p][1]], v[perm[p][2]]);

	for (int i = 0; i < 3; i++)
		free(v[i]);
	return 0;
}
