#include "patchwarden/hashtab.h"

#include <stdlib.h>
#include <string.h>

uint64_t pw_hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t pw_hash_str(uint64_t h, const char *s)
{
	return pw_hash_bytes(h, s, strlen(s) + 1);
}

bool pw_hashtab_str_eq(const void *rec, const void *key)
{
	return strcmp(rec, key) == 0;
}

void *pw_hashtab_find(const pw_hashtab *t, uint64_t hash, pw_hashtab_eq eq, const void *key)
{
	if (!t->cap)
		return NULL;
	size_t mask = t->cap - 1;
	for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
		const pw_hashtab_slot *s = &t->slots[i];
		if (!s->rec)
			return NULL;
		if (s->hash == hash && eq(s->rec, key))
			return s->rec;
	}
}

static void place(pw_hashtab_slot *slots, size_t cap, uint64_t hash, void *rec)
{
	size_t i = (size_t)hash & (cap - 1);
	while (slots[i].rec)
		i = (i + 1) & (cap - 1);
	slots[i].hash = hash;
	slots[i].rec = rec;
}

pw_err pw_hashtab_insert(pw_hashtab *t, uint64_t hash, void *rec)
{
	/* At most half full: probe runs stay short. */
	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		pw_hashtab_slot *slots = calloc(cap, sizeof *slots);
		if (!slots)
			return PW_ERR_NOMEM;
		for (size_t i = 0; i < t->cap; i++)
			if (t->slots[i].rec)
				place(slots, cap, t->slots[i].hash, t->slots[i].rec);
		free(t->slots);
		t->slots = slots;
		t->cap = cap;
	}
	place(t->slots, t->cap, hash, rec);
	t->n++;
	return PW_OK;
}

void pw_hashtab_release(pw_hashtab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->n = 0;
}
