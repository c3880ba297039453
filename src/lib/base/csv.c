/* The one CSV cell writer (csv.h). */
#include "patchwarden/csv.h"

#include <string.h>

bool pw_csv_guarded(const char *v)
{
	return v[0] && strchr("=+-@\t\r'", v[0]);
}

pw_err pw_csv_cell(pw_buf *out, const char *v)
{
	if (!v || !*v)
		return PW_OK;
	bool guard = pw_csv_guarded(v);
	if (!guard && !strpbrk(v, ",\"\r\n") && v[0] != ' ' && v[strlen(v) - 1] != ' ')
		return pw_buf_puts(out, v);
	pw_err rc = pw_buf_putc(out, '"');
	if (!rc && guard)
		rc = pw_buf_putc(out, '\'');
	for (const char *p = v; *p && !rc; p++)
		rc = *p == '"' ? pw_buf_puts(out, "\"\"") : pw_buf_putc(out, *p);
	return rc ? rc : pw_buf_putc(out, '"');
}
