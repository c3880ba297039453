/* `patchwarden ticket show N --format html` (ticket_html.c). */
#ifndef PATCHWARDEN_TICKET_HTML_H
#define PATCHWARDEN_TICKET_HTML_H

#include "patchwarden/buf.h"
#include "patchwarden/db.h"
#include "patchwarden/error.h"

struct cJSON;

/* The ticket `t` (pw_ticket_show_json) as one self-contained HTML page
 * into *out (which the caller releases): who acts next, the people's
 * approvals and decisions, the risk assessment, each scan diff, the
 * driver's jobs with their results and logs (read from db), and the
 * whole append-only log. Every value is escaped. */
pw_err pw_ticket_html(pw_db *db, const struct cJSON *t, pw_buf *out, pw_error *err);

#endif
