/* Small helpers for building JSON replies and --json output with cJSON,
 * shared by every record's serialiser so their shapes agree. Each returns
 * false when out of memory. */
#ifndef PATCHWARDEN_JSONOUT_H
#define PATCHWARDEN_JSONOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

/* A string member; NULL text becomes JSON null. */
bool pw_json_add_str(struct cJSON *o, const char *key, const char *s);

/* A number member (int64 values of records are ids and counts, exact in
 * a double up to 2^53). */
bool pw_json_add_int(struct cJSON *o, const char *key, int64_t v);

/* An array member of the n strings of v. */
bool pw_json_add_strings(struct cJSON *o, const char *key, char *const *v, size_t n);

/* A stored JSON text (compacted when it was stored), embedded as it is;
 * NULL becomes JSON null. */
bool pw_json_add_raw(struct cJSON *o, const char *key, const char *json);

/* The n records of `size` bytes at `items` as a JSON array, each through
 * to_json (a record's one serialiser, through a one-line adapter); NULL
 * when out of memory. The caller frees it with cJSON_Delete. */
struct cJSON *pw_json_array(const void *items, size_t n, size_t size,
			    struct cJSON *(*to_json)(const void *item));

/* pw_json_array added to `o` as `key`. */
bool pw_json_add_array(struct cJSON *o, const char *key, const void *items, size_t n, size_t size,
		       struct cJSON *(*to_json)(const void *item));

#endif
