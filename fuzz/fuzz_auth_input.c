/* What agents and scripts send to the server store, on arbitrary bytes:
 * the first byte picks the input, the rest is it.
 *   0: an API token      (pw_api_token_authenticate)
 *   1: an agent credential (pw_agent_authenticate)
 *   2: an enrollment token (pw_agent_enroll)
 *   3: a check-in inventory (JSON), sent with its true hash
 *   4: the output (JSON) of a job result in a check-in
 * against an in-memory SQLite store holding one user, one token, one
 * agent and one job. Aborts on a crash, a sanitizer report, or a broken
 * law: only the real secrets authenticate, a valid inventory with its
 * hash is always taken, and a result is taken exactly when its output is
 * JSON. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/agents.h"
#include "patchwarden/checkin.h"
#include "patchwarden/inventory.h"
#include "patchwarden/jobs.h"
#include "patchwarden/schema.h"
#include "patchwarden/users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pw_db *db;
static char api_token[PW_API_TOKEN_MAX], credential[PW_CREDENTIAL_MAX];
static char enroll_token[PW_ENROLL_TOKEN_MAX];
static pw_agent agent;
static int64_t job_id;
static int64_t seq; /* a new one per result: a used one with other output is a conflict */

static void must(pw_err rc, const pw_error *e)
{
	if (rc) {
		fprintf(stderr, "fuzz_auth_input set-up: %s\n", pw_error_text(e));
		abort();
	}
}

static void setup(void)
{
	pw_error e = PW_ERROR_INIT;
	setenv("PATCHWARDEN_PWHASH", "fast", 1);
	must(pw_schema_open("sqlite::memory:", &db, &e), &e);
	must(pw_user_add(db, "fuzz", "bot", PW_ROLE_OPERATOR, NULL, NULL, &e), &e);
	must(pw_api_token_create(db, "fuzz", "bot", "fuzz", 0, api_token, NULL, &e), &e);
	must(pw_enroll_token_create(db, "fuzz", "fuzz", 1, 3600, enroll_token, NULL, &e), &e);
	pw_enroll_request q = {enroll_token, "fuzz-host", "fuzz-machine", NULL, NULL,
			       NULL,         NULL,        NULL,           NULL};
	pw_enrollment en;
	must(pw_agent_enroll(db, &q, &en, &e), &e);
	memcpy(credential, en.credential, sizeof credential);
	must(pw_agent_authenticate(db, credential, &agent, &e), &e);
	must(pw_job_create(db, "fuzz", agent.host_id, "scan", NULL, &job_id, &e), &e);
}

static void checkin(const char *text, bool inventory)
{
	cJSON *inv = NULL;
	char hash[65] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	bool valid;
	if (inventory) {
		if (!(inv = cJSON_Parse(text)))
			return;
		pw_inventory parsed = PW_INVENTORY_INIT;
		valid = pw_inventory_from_json(&parsed, inv, NULL) == PW_OK;
		if (valid)
			pw_inventory_hash(&parsed, hash);
		pw_inventory_release(&parsed);
		valid = valid && hash[0];
	} else {
		cJSON *out = cJSON_ParseWithOpts(text, NULL, true);
		valid = out != NULL;
		cJSON_Delete(out);
	}
	pw_job_result res = {job_id, ++seq, "ok", NULL, NULL, false, 0, text};
	pw_checkin c = PW_CHECKIN_INIT;
	c.inventory_hash = hash;
	c.inventory = inv;
	c.results = inventory ? NULL : &res;
	c.n_results = inventory ? 0 : 1;
	pw_checkin_reply r = PW_CHECKIN_REPLY_INIT;
	pw_agent a = agent;
	pw_err rc = pw_agent_checkin(db, &a, &c, &r, NULL);
	if ((rc == PW_OK) != valid)
		abort();
	if (rc == PW_OK && !inventory && (r.n_ack != 1 || r.ack[0] != seq || r.n_conflict))
		abort();
	pw_checkin_reply_release(&r);
	cJSON_Delete(inv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!db)
		setup();
	if (size < 1)
		return 0;
	char *s = malloc(size);
	if (!s)
		abort();
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0'; /* an embedded NUL ends the text early */
	pw_error e = PW_ERROR_INIT;
	switch (data[0] % 5) {
	case 0: {
		pw_principal p;
		if (pw_api_token_authenticate(db, s, &p, &e) == PW_OK && strcmp(s, api_token) != 0)
			abort();
		break;
	}
	case 1: {
		pw_agent a;
		if (pw_agent_authenticate(db, s, &a, &e) == PW_OK && strcmp(s, credential) != 0)
			abort();
		break;
	}
	case 2: {
		pw_enroll_request q = {s, "h", "m", NULL, NULL, NULL, NULL, NULL, NULL};
		pw_enrollment en;
		/* The only real token is used up by the set-up. */
		if (pw_agent_enroll(db, &q, &en, &e) == PW_OK)
			abort();
		break;
	}
	default:
		checkin(s, data[0] % 5 == 3);
		break;
	}
	free(s);
	return 0;
}
