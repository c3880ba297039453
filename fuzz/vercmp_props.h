/* Shared by the version-comparison fuzz targets: splits an input into
 * three versions and checks that a comparison is a total preorder on
 * them (reflexive, antisymmetric, transitive). A violation traps, so
 * libFuzzer records the input. */
#ifndef PW_FUZZ_VERCMP_PROPS_H
#define PW_FUZZ_VERCMP_PROPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int (*vercmp_fn)(const char *a, const char *b);

/* Versions are the input's lines: up to three, the rest of the input
 * joins the third. Each is a NUL-terminated copy of exactly its bytes
 * (an embedded NUL simply ends that string), so ASan sees overreads. */
struct three {
	char *v[3];
};

static void three_split(const uint8_t *data, size_t size, struct three *t)
{
	size_t start = 0;
	for (int i = 0; i < 3; i++) {
		size_t end = start;
		while (end < size && (i == 2 || data[end] != '\n'))
			end++;
		size_t len = end - start;
		t->v[i] = malloc(len + 1);
		if (!t->v[i])
			abort();
		if (len)
			memcpy(t->v[i], data + start, len);
		t->v[i][len] = '\0';
		start = end < size ? end + 1 : size;
	}
}

static void three_free(struct three *t)
{
	for (int i = 0; i < 3; i++)
		free(t->v[i]);
}

static int props_sign(int v)
{
	return (v > 0) - (v < 0);
}

static void check_total_preorder(vercmp_fn cmp, char *const v[3])
{
	int r[3][3];
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			r[i][j] = props_sign(cmp(v[i], v[j]));
	for (int i = 0; i < 3; i++) {
		if (r[i][i] != 0)
			__builtin_trap();
		for (int j = 0; j < 3; j++) {
			if (r[i][j] != -r[j][i])
				__builtin_trap();
			for (int k = 0; k < 3; k++)
				if (r[i][j] <= 0 && r[j][k] <= 0 &&
				    (r[i][k] > 0 || (r[i][j] == 0 && r[j][k] == 0 && r[i][k] != 0)))
					__builtin_trap();
		}
	}
}

#endif
