#include "patchwarden/sql.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/grow.h"

pw_err pw_in_write_txn(pw_db *db, pw_txn_fn fn, void *arg, pw_error *err)
{
	pw_err rc = pw_db_begin_immediate(db, err);
	if (rc)
		return rc;
	rc = fn(db, arg, err);
	if (!rc)
		rc = pw_db_commit(db, err);
	if (rc)
		pw_db_rollback(db);
	return rc;
}

pw_err pw_sql(pw_db *db, const char *sql, pw_stmt **out, pw_error *err, const char *types, ...)
{
	pw_stmt *st = NULL;
	pw_err rc = pw_db_prepare(db, sql, &st, err);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, types);
	for (int i = 0; types[i] && !rc; i++) {
		if (types[i] == 't') {
			rc = pw_stmt_bind_text(st, i + 1, va_arg(ap, const char *));
		} else if (types[i] == 'i') {
			rc = pw_stmt_bind_int(st, i + 1, va_arg(ap, int64_t));
		} else {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			rc = pw_stmt_bind_blob(st, i + 1, p, n);
		}
	}
	va_end(ap);
	if (rc)
		return pw_error_set(err, rc, "binding parameters of \"%.60s\" failed", sql);
	*out = st;
	return PW_OK;
}

pw_err pw_sql_int(pw_stmt *st, int64_t *out, pw_error *err)
{
	bool row = false;
	pw_err rc = pw_stmt_step(st, &row, err);
	if (!rc && row)
		*out = pw_stmt_int(st, 0);
	if (!rc)
		pw_stmt_reset(st);
	return rc;
}

pw_err pw_rows_append(pw_stmt *st, void **v, size_t *n, size_t *cap, size_t elem, pw_row_fill fill,
		      const char *what, pw_error *err)
{
	for (;;) {
		bool row = false;
		pw_err rc = pw_stmt_step(st, &row, err);
		if (rc || !row)
			return rc;
		char *grown = pw_grow(*v, cap, *n, elem);
		if (!grown)
			break;
		*v = grown;
		bool oom = false;
		fill(st, grown + elem * (*n)++, &oom);
		if (oom)
			break;
	}
	pw_stmt_reset(st);
	return pw_error_set(err, PW_ERR_NOMEM, "%s: out of memory", what);
}

char *pw_col_dup(pw_stmt *st, int col, bool *oom)
{
	const char *s = pw_stmt_text(st, col);
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}
