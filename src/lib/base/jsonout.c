#include "patchwarden/jsonout.h"

#include <cjson/cJSON.h>

bool pw_json_add_str(cJSON *o, const char *key, const char *s)
{
	return s ? cJSON_AddStringToObject(o, key, s) != NULL
		 : cJSON_AddNullToObject(o, key) != NULL;
}

bool pw_json_add_int(cJSON *o, const char *key, int64_t v)
{
	return cJSON_AddNumberToObject(o, key, (double)v) != NULL;
}

bool pw_json_add_strings(cJSON *o, const char *key, char *const *v, size_t n)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);
	for (size_t i = 0; a && i < n; i++) {
		cJSON *s = cJSON_CreateString(v[i]);
		if (!s || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			return false;
		}
	}
	return a != NULL;
}

bool pw_json_add_raw(cJSON *o, const char *key, const char *json)
{
	return json ? cJSON_AddRawToObject(o, key, json) != NULL
		    : cJSON_AddNullToObject(o, key) != NULL;
}

cJSON *pw_json_array(const void *items, size_t n, size_t size, cJSON *(*to_json)(const void *item))
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < n; i++) {
		cJSON *o = to_json((const char *)items + i * size);
		if (!o || !cJSON_AddItemToArray(a, o)) {
			cJSON_Delete(o);
			cJSON_Delete(a);
			a = NULL;
		}
	}
	return a;
}

bool pw_json_add_array(cJSON *o, const char *key, const void *items, size_t n, size_t size,
		       cJSON *(*to_json)(const void *item))
{
	cJSON *a = pw_json_array(items, n, size, to_json);
	if (a && cJSON_AddItemToObject(o, key, a))
		return true;
	cJSON_Delete(a);
	return false;
}
