/* The runtime facts a check-in carries (pw_runtime_from_json), parsed as
 * the server parses a check-in body (pw_json_parse_limited). Aborts on a
 * crash, a sanitizer report, or a broken law: an accepted record is
 * within the limits of runtime.h, its keys sorted, and its JSON read back
 * gives the same record (the same hash); a refusal is PW_ERR_INVALID. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/json_limits.h"
#include "patchwarden/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sorted(char *const *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i - 1], v[i]) > 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pw_json_limits lim = PW_JSON_LIMITS_DEFAULT;
	cJSON *j = NULL;
	pw_error e = PW_ERROR_INIT;
	if (pw_json_parse_limited((const char *)data, size, &lim, "runtime", &j, &e))
		return 0;
	pw_runtime rt;
	pw_err rc = pw_runtime_from_json(&rt, j, &e);
	cJSON_Delete(j);
	if (rc) {
		if (rc != PW_ERR_INVALID && rc != PW_ERR_NOMEM)
			abort();
		return 0;
	}
	if (rt.n_in_use + rt.n_unknown > PW_RUNTIME_MAX_PACKAGES ||
	    rt.n_restarts > PW_RUNTIME_MAX_RESTARTS)
		abort();
	sorted(rt.in_use, rt.n_in_use);
	sorted(rt.unknown, rt.n_unknown);
	for (size_t i = 0; i < rt.n_restarts; i++)
		if (rt.restarts[i].pid <= 0 || strlen(rt.restarts[i].path) > PW_RUNTIME_PATH_MAX)
			abort();
	char h1[65], h2[65];
	cJSON *back = pw_runtime_to_json(&rt);
	pw_runtime again;
	if (!back || pw_runtime_from_json(&again, back, &e))
		abort();
	cJSON_Delete(back);
	if (pw_runtime_hash(&rt, h1, &e) || pw_runtime_hash(&again, h2, &e) || strcmp(h1, h2))
		abort();
	pw_runtime_release(&again);
	pw_runtime_release(&rt);
	return 0;
}
