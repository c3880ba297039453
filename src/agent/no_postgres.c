/* patchwarden-agent reads only SQLite feed stores (its scan jobs), so it is
 * linked without libpq: this constructor stands in for db_pg.c's, which the
 * linker then never takes from the static core library. */
#include "db_internal.h"

pw_err pw_db_pg_open(const char *conninfo, pw_db **out, pw_error *err)
{
	(void)conninfo;
	*out = NULL;
	return pw_error_set(err, PW_ERR_UNSUPPORTED,
			    "patchwarden-agent opens SQLite feed stores only; give --store a file "
			    "path (use 'patchwarden' for a PostgreSQL store)");
}
