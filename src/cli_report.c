/* The report formats of the report commands (cli_report.h). */
#include "cli_report.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "patchwarden/buf.h"
#include "patchwarden/fileio.h"

int pw_cli_report_format(const char *cmd, const char *format, bool json, pw_report_format *out)
{
	*out = json ? PW_REPORT_JSON : PW_REPORT_TABLE;
	if (!format)
		return PW_EXIT_OK;
	pw_error e = PW_ERROR_INIT;
	pw_report_format f;
	if (pw_report_format_parse(format, &f, &e))
		return pw_cli_usage_error(cmd, "--format: %s", pw_error_text(&e));
	if (json && f != PW_REPORT_JSON)
		return pw_cli_usage_error(cmd, "--json is --format json; give one format");
	*out = f;
	return PW_EXIT_OK;
}

int pw_cli_report_print(const char *cmd, pw_report_format fmt, cJSON *doc, const cJSON *packages)
{
	if (!doc)
		return pw_cli_fail(cmd, "out of memory writing the report");
	pw_buf b = PW_BUF_INIT;
	pw_error e = PW_ERROR_INIT;
	pw_err rc = pw_report_write(fmt, doc, packages, &b, &e);
	cJSON_Delete(doc);
	if (!rc)
		fwrite(b.data ? b.data : "", 1, b.len, stdout);
	pw_buf_release(&b);
	return rc ? pw_cli_fail_err(cmd, &e) : PW_EXIT_OK;
}

const char *pw_cli_scan_hostname(const char *root, bool from_inventory, char *buf, size_t size)
{
	if (from_inventory || size < 2)
		return NULL;
	if (!root || !strcmp(root, "/")) {
		if (gethostname(buf, size - 1))
			return NULL;
		buf[size - 1] = '\0';
		return buf[0] ? buf : NULL;
	}
	pw_buf path = PW_BUF_INIT, text = PW_BUF_INIT;
	const char *name = NULL;
	if (!pw_buf_printf(&path, "%s/etc/hostname", root) &&
	    !pw_read_file(pw_buf_str(&path), &text, 4096, NULL) && text.len) {
		size_t n = strcspn(pw_buf_str(&text), " \t\r\n");
		if (n && n < size) {
			memcpy(buf, text.data, n);
			buf[n] = '\0';
			name = buf;
		}
	}
	pw_buf_release(&path);
	pw_buf_release(&text);
	return name;
}
