/* Small helpers for building JSON replies and --json output with cJSON,
 * shared by every record's serialiser so their shapes agree. Each returns
 * false when out of memory. */
#ifndef PATCHWARDEN_JSONOUT_H
#define PATCHWARDEN_JSONOUT_H

#include <stdbool.h>
#include <stdint.h>

struct cJSON;

/* A string member; NULL text becomes JSON null. */
bool pw_json_add_str(struct cJSON *o, const char *key, const char *s);

/* A number member (int64 values of records are ids and counts, exact in
 * a double up to 2^53). */
bool pw_json_add_int(struct cJSON *o, const char *key, int64_t v);

/* A stored JSON text (compacted when it was stored), embedded as it is;
 * NULL becomes JSON null. */
bool pw_json_add_raw(struct cJSON *o, const char *key, const char *json);

#endif
