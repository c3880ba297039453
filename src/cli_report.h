/* The report formats of `scan`, `findings` and `host findings`
 * (report.h): --format and its --json alias, and printing a report. */
#ifndef PATCHWARDEN_CLI_REPORT_H
#define PATCHWARDEN_CLI_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "patchwarden/report.h"

struct cJSON;

#define PW_CLI_FORMAT_HELP                                                                         \
	"write the report as table (the default), json, csv,\n"                                    \
	"sarif (SARIF 2.1.0) or cyclonedx (CycloneDX 1.5 with VEX)"

/* The format of --format `format` (NULL: table) and --json (an alias of
 * --format json); a usage error (PW_EXIT_ERROR) for an unknown name or
 * --json with another format. */
int pw_cli_report_format(const char *cmd, const char *format, bool json, pw_report_format *out);

/* Prints `doc` (a report document, which it frees) in `fmt` on stdout;
 * `packages` as pw_report_cyclonedx takes them. Does not flush. */
int pw_cli_report_print(const char *cmd, pw_report_format fmt, struct cJSON *doc,
			const struct cJSON *packages);

/* The name of the host a scan reads: this host's for the live system,
 * ROOT/etc/hostname for another root, NULL for an inventory file (which
 * does not carry one). */
const char *pw_cli_scan_hostname(const char *root, bool from_inventory, char *buf, size_t size);

#endif
