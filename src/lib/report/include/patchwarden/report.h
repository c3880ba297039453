/* Reports in the formats the tools users already run read: CSV, SARIF
 * 2.1.0 and CycloneDX 1.5 (JSON, with VEX). Each writer works from the
 * one JSON document of the report, so one writer serves `scan` and
 * `findings`: a scan report (pw_scan_report_to_json, scan.h: "host" and
 * its "findings" and "unfixed") or a findings document
 * (pw_finding_report_json, host_findings.h: "findings" records, each with
 * its "hostname" and "ecosystem"). The finding members are the same in
 * both (docs/records.md). */
#ifndef PATCHWARDEN_REPORT_H
#define PATCHWARDEN_REPORT_H

#include "patchwarden/buf.h"
#include "patchwarden/error.h"

struct cJSON;

typedef enum pw_report_format {
	PW_REPORT_TABLE, /* the command's own table (not written here) */
	PW_REPORT_JSON,  /* the document itself */
	PW_REPORT_CSV,
	PW_REPORT_SARIF,
	PW_REPORT_CYCLONEDX,
} pw_report_format;

/* "table", "json", "csv", "sarif", "cyclonedx"; PW_ERR_INVALID naming
 * the choices otherwise. */
pw_err pw_report_format_parse(const char *name, pw_report_format *out, pw_error *err);

/* One row per finding, RFC 4180 (CRLF line ends, a header row) with the
 * formula guard of csv.h: host, package, installed, fixed, advisory,
 * cves (space-separated), priority, due (YYYY-MM-DD; for a scan, from
 * the report's day plus the SLA days or the KEV due date, whichever is
 * earlier), kev (true/false), state (open, fixed). */
pw_err pw_report_csv(const struct cJSON *doc, pw_buf *out, pw_error *err);

/* SARIF 2.1.0: one run of tool "patchwarden", one rule per advisory, one
 * result per finding (level error for emergency and high, warning for
 * normal, note for low; a fixed finding is kind "pass"), located at the
 * package (its purl, and a logical location host/package), with the
 * versions, CVEs, EPSS and KEV as properties. */
pw_err pw_report_sarif(const struct cJSON *doc, pw_buf *out, pw_error *err);

/* CycloneDX 1.5 JSON: metadata (timestamp, tool, the host as component),
 * the packages as components with their purls (pkg:deb, pkg:rpm,
 * pkg:apk), and a vulnerability per finding and per vulnerability
 * without a fix yet, with its VEX analysis (open: exploitable, fixed:
 * resolved, not affected: not_affected) and the affected component's
 * versions. `packages`: the scanned inventory's packages (the "packages"
 * array of pw_inventory_to_json) to list as components; NULL lists the
 * findings' packages. */
pw_err pw_report_cyclonedx(const struct cJSON *doc, const struct cJSON *packages, pw_buf *out,
			   pw_error *err);

/* The document in `fmt` (JSON: indented, as --json prints it; TABLE is
 * PW_ERR_INVALID); `packages` as for pw_report_cyclonedx. */
pw_err pw_report_write(pw_report_format fmt, const struct cJSON *doc, const struct cJSON *packages,
		       pw_buf *out, pw_error *err);

/* The package URL of a package of release `ecosystem` ("debian:12"):
 * pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12, pkg:rpm/...
 * (an epoch goes into the epoch qualifier), pkg:apk/...; `arch` NULL
 * leaves it out; components percent-encoded. PW_ERR_INVALID for an
 * ecosystem that is not "<distro>:<release>". */
pw_err pw_report_purl(const char *ecosystem, const char *name, const char *version,
		      const char *arch, pw_buf *out, pw_error *err);

#endif
