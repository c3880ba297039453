#include "patchwarden/grow.h"

#include <stdint.h>
#include <stdlib.h>

void *pw_grow(void *v, size_t *cap, size_t n, size_t elem)
{
	if (v && n < *cap)
		return v;
	size_t ncap = *cap ? *cap * 2 : 16;
	if (ncap > SIZE_MAX / elem)
		return NULL;
	void *p = realloc(v, ncap * elem);
	if (p)
		*cap = ncap;
	return p;
}
