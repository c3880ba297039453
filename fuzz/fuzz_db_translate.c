/* The SQL translation of the db layer (placeholders and {{words}}) on
 * arbitrary text, for both backends. Aborts on a crash, a sanitizer
 * report, or a broken law: both backends count the same parameters;
 * without {{words}} SQLite's text is unchanged and PostgreSQL's differs
 * from it only by "$n" in place of each "?". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/lib/db/db-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *sql = malloc(size + 1);
	if (!sql)
		abort();
	if (size)
		memcpy(sql, data, size);
	sql[size] = '\0'; /* an embedded NUL just ends the text early */
	pw_buf lite = PW_BUF_INIT, pg = PW_BUF_INIT;
	int nlite = -1, npg = -1;
	pw_err rl = pw_db_translate(PW_DB_SQLITE, sql, &lite, &nlite, NULL);
	pw_err rp = pw_db_translate(PW_DB_POSTGRES, sql, &pg, &npg, NULL);
	if (rl != rp || (!rl && nlite != npg))
		abort();
	if (!rl && !strstr(sql, "{{")) {
		if (strcmp(pw_buf_str(&lite), sql) != 0)
			abort();
		size_t extra = 0;
		for (int i = 1; i <= npg; i++)
			extra += (size_t)snprintf(NULL, 0, "$%d", i) - 1;
		if (pg.len != lite.len + extra)
			abort();
	}
	pw_buf_release(&lite);
	pw_buf_release(&pg);
	free(sql);
	return 0;
}
