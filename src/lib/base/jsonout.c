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

bool pw_json_add_raw(cJSON *o, const char *key, const char *json)
{
	return json ? cJSON_AddRawToObject(o, key, json) != NULL
		    : cJSON_AddNullToObject(o, key) != NULL;
}
