/* CSV (report.h): one row per finding, the cells through csv.h's one
 * writer (RFC 4180 quoting, the formula guard). */
#include <cjson/cJSON.h>
#include <string.h>

#include "patchwarden/csv.h"

#include "report-internal.h"

static const char *const columns[] = {"host", "package",  "installed", "fixed", "advisory",
				      "cves", "priority", "due",       "kev",   "state"};

static pw_err row(pw_buf *out, const char *const *cells, size_t n)
{
	pw_err rc = PW_OK;
	for (size_t i = 0; i < n && !rc; i++) {
		rc = i ? pw_buf_putc(out, ',') : PW_OK;
		if (!rc)
			rc = pw_csv_cell(out, cells[i]);
	}
	return rc ? rc : pw_buf_puts(out, "\r\n");
}

pw_err pw_report_csv(const cJSON *doc, pw_buf *out, pw_error *err)
{
	struct rp_doc d;
	pw_err rc = rp_doc_read(doc, &d, err);
	if (rc)
		return rc;
	rc = row(out, columns, sizeof columns / sizeof columns[0]);
	pw_buf cves = PW_BUF_INIT;
	for (size_t i = 0; i < d.n_findings && !rc; i++) {
		const struct rp_finding *f = &d.v[i];
		pw_buf_reset(&cves);
		rp_cves_text(f, " ", &cves);
		const char *cells[] = {f->host,     f->package,  f->installed,
				       f->fixed,    f->advisory, pw_buf_str(&cves),
				       f->priority, f->due,      f->kev_cve ? "true" : "false",
				       f->state};
		rc = row(out, cells, sizeof cells / sizeof cells[0]);
	}
	pw_buf_release(&cves);
	rp_doc_release(&d);
	return rc ? pw_error_set(err, rc, "writing CSV: out of memory") : PW_OK;
}
