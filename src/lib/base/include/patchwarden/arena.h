/* Bump allocator for records that live and die together (the advisory
 * index, one scan result). Library-internal, not a public interface. */
#ifndef PATCHWARDEN_ARENA_H
#define PATCHWARDEN_ARENA_H

#include <stddef.h>

struct pw_arena_chunk;

typedef struct pw_arena {
	struct pw_arena_chunk *head;
	size_t bytes; /* held from malloc, headers included */
} pw_arena;

/* clang-format off */
#define PW_ARENA_INIT {NULL, 0}
/* clang-format on */

/* Aligned for any type; NULL without memory. */
void *pw_arena_alloc(pw_arena *a, size_t n);
/* NULL for a NULL s, or without memory (tell them apart by s). */
char *pw_arena_strdup(pw_arena *a, const char *s);
void pw_arena_release(pw_arena *a);
/* Empties the arena but keeps one chunk for reuse: a loop that fills and
 * empties an arena thousands of times (a feed import's batches) would
 * otherwise pay a large malloc and free each time. */
void pw_arena_reset(pw_arena *a);

#endif
