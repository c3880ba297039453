/* The one array-growth helper: doubling capacity, overflow-checked. */
#ifndef PATCHWARDEN_GROW_H
#define PATCHWARDEN_GROW_H

#include <stddef.h>

/* Returns the array `v` of n `elem`-byte items, grown so one more fits
 * (updating *cap), or NULL when out of memory (v is then unchanged). */
void *pw_grow(void *v, size_t *cap, size_t n, size_t elem);

#endif
