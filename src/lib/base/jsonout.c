#include "patchwarden/jsonout.h"

#include <cjson/cJSON.h>

#include "patchwarden/clock.h"

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

bool pw_json_add_report_head(cJSON *o, int64_t snapshot, const char *snapshot_created)
{
	char now[PW_TS_LEN];
	pw_ts_now(now, 0);
	bool ok = pw_json_add_int(o, "schema_version", PW_REPORT_SCHEMA_VERSION) &&
		  pw_json_add_str(o, "created", now);
	cJSON *t = ok ? cJSON_AddObjectToObject(o, "tool") : NULL;
	ok = t && pw_json_add_str(t, "name", "patchwarden") &&
	     pw_json_add_str(t, "version", PW_VERSION) &&
	     pw_json_add_str(t, "information_uri", PW_INFORMATION_URI);
	if (ok && snapshot <= 0)
		return cJSON_AddNullToObject(o, "feed_snapshot") != NULL;
	cJSON *s = ok ? cJSON_AddObjectToObject(o, "feed_snapshot") : NULL;
	return s && pw_json_add_int(s, "id", snapshot) &&
	       pw_json_add_str(s, "created", snapshot_created);
}
