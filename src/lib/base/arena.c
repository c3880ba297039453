#include "patchwarden/arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* Big enough that malloc overhead vanishes, small enough that a small
 * scan result does not hold much unused memory. */
#define ARENA_CHUNK ((size_t)64 << 10)

struct pw_arena_chunk {
	struct pw_arena_chunk *next;
	size_t used, size;
	alignas(max_align_t) unsigned char data[];
};

void *pw_arena_alloc(pw_arena *a, size_t n)
{
	if (n > (size_t)-1 / 2)
		return NULL;
	n = (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
	struct pw_arena_chunk *c = a->head;
	if (!c || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
		c = malloc(sizeof *c + size);
		if (!c)
			return NULL;
		c->used = 0;
		c->size = size;
		/* A large one-off allocation goes behind the current chunk so
		 * that the current chunk's free space is not abandoned. */
		if (size != ARENA_CHUNK && a->head) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
		a->bytes += sizeof *c + size;
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

char *pw_arena_strdup(pw_arena *a, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = pw_arena_alloc(a, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

void pw_arena_release(pw_arena *a)
{
	while (a->head) {
		struct pw_arena_chunk *next = a->head->next;
		free(a->head);
		a->head = next;
	}
	a->bytes = 0;
}

void pw_arena_reset(pw_arena *a)
{
	struct pw_arena_chunk *keep = a->head;
	if (!keep)
		return;
	a->head = keep->next;
	pw_arena_release(a);
	keep->next = NULL;
	keep->used = 0;
	a->head = keep;
	a->bytes = sizeof *keep + keep->size;
}
