/* Open-addressing hash table of record pointers, for the matcher, the
 * scanner and procuse. The caller owns the records and supplies their
 * hash and equality; the table only stores pointers. Library-internal. */
#ifndef PATCHWARDEN_HASHTAB_H
#define PATCHWARDEN_HASHTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "patchwarden/error.h"

typedef struct pw_hashtab_slot {
	uint64_t hash;
	void *rec;
} pw_hashtab_slot;

typedef struct pw_hashtab {
	pw_hashtab_slot *slots;
	size_t cap, n; /* cap: a power of two, 0 before the first insert */
} pw_hashtab;

/* clang-format off */
#define PW_HASHTAB_INIT {NULL, 0, 0}
/* clang-format on */
#define PW_HASH_SEED 0xcbf29ce484222325ULL

/* FNV-1a: the keys are short names, where it is as fast as anything. */
uint64_t pw_hash_bytes(uint64_t h, const void *p, size_t n);
/* Hashes the terminator too, so ("ab","c") and ("a","bc") differ. */
uint64_t pw_hash_str(uint64_t h, const char *s);

typedef bool (*pw_hashtab_eq)(const void *rec, const void *key);

/* The record equal to `key`, or NULL. */
void *pw_hashtab_find(const pw_hashtab *t, uint64_t hash, pw_hashtab_eq eq, const void *key);
/* Adds a record that is not in the table yet. */
pw_err pw_hashtab_insert(pw_hashtab *t, uint64_t hash, void *rec);
void pw_hashtab_release(pw_hashtab *t);

/* For sets of strings kept elsewhere: eq() comparing a `const char *`
 * record with a `const char *` key. */
bool pw_hashtab_str_eq(const void *rec, const void *key);

#endif
