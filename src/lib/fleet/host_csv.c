#include "patchwarden/host_csv.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchwarden/audit.h"
#include "patchwarden/clock.h"
#include "patchwarden/grow.h"
#include "patchwarden/json_limits.h"
#include "patchwarden/sql.h"
#include "patchwarden/text.h"

#include "fleet-internal.h"

/* ---- CSV ------------------------------------------------------------- */

void pw_host_csv_release(pw_host_csv *c)
{
	for (size_t i = 0; i < c->nrows * c->ncols; i++)
		free(c->cells[i]);
	free(c->cells);
	free(c->lines);
	free(c->cols);
	*c = (pw_host_csv)PW_HOST_CSV_INIT;
}

/* Formula injection (OWASP): a spreadsheet runs a cell that begins with
 * = + - @, a tab or a carriage return. Export puts a quote before such a
 * value, and before one that begins with a quote itself, so that import,
 * which takes one leading quote off a value that begins with a quote and
 * one of those, gives back exactly what was exported. */
static bool csv_guarded(const char *v)
{
	return v[0] && strchr("=+-@\t\r'", v[0]);
}

struct cell {
	char *text;
	size_t line, col;
	bool quoted;
};

/* Lines of bad rows listed after the first bad row's error. */
#define BAD_LINES_LISTED 10

struct csv_state {
	const char *name;
	pw_host_csv *out;
	bool header_done;
	struct cell rec[PW_HF__EDITABLE];
	size_t n;
	pw_err bad; /* the first bad row's error, which err holds */
	size_t nbad;
	char more[128]; /* the lines of the next bad rows: ", 5, 9" */
};

static void rec_clear(struct csv_state *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->rec[i].text);
	s->n = 0;
}

static pw_err at(struct csv_state *s, size_t line, size_t col, pw_error *err, pw_err code,
		 const char *msg)
{
	return pw_error_set(err, code, "%s:%zu:%zu: %s", s->name, line, col, msg);
}

static pw_err take_header(struct csv_state *s, pw_error *err)
{
	pw_host_csv *c = s->out;
	c->cols = calloc(s->n, sizeof *c->cols);
	if (!c->cols)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	bool has_name = false;
	for (size_t i = 0; i < s->n; i++) {
		struct cell *x = &s->rec[i];
		pw_host_field f;
		char msg[300];
		if (!pw_host_field_parse(x->text, &f) || f >= PW_HF__EDITABLE) {
			snprintf(
				msg, sizeof msg,
				"column '%.80s' is not a host field; columns: hostname, location, "
				"purpose, category, owner_group, app_owner, criticality, exposure, "
				"environment, maintenance_window, backup_check, health_check, "
				"last_patched, "
				"ticket",
				x->text);
			return at(s, x->line, x->col, err, PW_ERR_PARSE, msg);
		}
		for (size_t j = 0; j < i; j++)
			if (c->cols[j] == f) {
				snprintf(msg, sizeof msg, "column %s appears twice",
					 pw_host_field_name(f));
				return at(s, x->line, x->col, err, PW_ERR_PARSE, msg);
			}
		c->cols[i] = f;
		c->ncols++;
		has_name |= f == PW_HF_HOSTNAME;
	}
	if (!has_name)
		return at(s, 1, 1, err, PW_ERR_PARSE,
			  "the header row has no hostname column; it names the host of each row");
	s->header_done = true;
	return PW_OK;
}

/* A row that cannot be imported is left out and the parse goes on, so
 * one run names every line to fix: the first bad row's error is kept,
 * the next ones add their line. */
static pw_err bad_row(struct csv_state *s, const struct cell *x, pw_err code, const char *msg,
		      pw_error *err)
{
	if (!s->nbad++) {
		s->bad = code;
		at(s, x->line, x->col, err, code, msg);
	} else if (s->nbad <= BAD_LINES_LISTED + 1) {
		size_t len = strlen(s->more);
		snprintf(s->more + len, sizeof s->more - len, ", %zu", x->line);
	}
	return PW_OK;
}

static pw_err take_row(struct csv_state *s, pw_error *err)
{
	pw_host_csv *c = s->out;
	if (s->n != c->ncols) {
		char msg[120];
		snprintf(msg, sizeof msg, "this row has %zu fields, the header %zu", s->n,
			 c->ncols);
		return bad_row(s, &s->rec[0], PW_ERR_PARSE, msg, err);
	}
	if (c->nrows == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		char **cells = realloc(c->cells, cap * c->ncols * sizeof *cells);
		if (!cells)
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		c->cells = cells;
		size_t *lines = realloc(c->lines, cap * sizeof *lines);
		if (!lines)
			return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		c->lines = lines;
		c->cap = cap;
	}
	char **row = c->cells + c->nrows * c->ncols;
	for (size_t i = 0; i < c->ncols; i++)
		row[i] = NULL;
	c->lines[c->nrows++] = s->rec[0].line;
	for (size_t i = 0; i < c->ncols; i++) {
		struct cell *x = &s->rec[i];
		char msg[PW_ERROR_MSG_MAX];
		pw_error e = PW_ERROR_INIT;
		const char *text = x->text[0] == '\'' && csv_guarded(x->text + 1) ? x->text + 1
										  : x->text;
		pw_err rc = pw_host_value_check(c->cols[i], text, &row[i], &e);
		if (rc == PW_ERR_NOMEM)
			return pw_error_set(err, rc, "%s", e.msg);
		snprintf(msg, sizeof msg, "%s", e.msg);
		for (size_t r = 0; !rc && c->cols[i] == PW_HF_HOSTNAME && r + 1 < c->nrows; r++) {
			if (!strcmp(c->cells[r * c->ncols + i], row[i])) {
				snprintf(msg, sizeof msg,
					 "host %s appears again (first on line %zu)", row[i],
					 c->lines[r]);
				rc = PW_ERR_PARSE;
			}
		}
		if (!rc)
			continue;
		c->nrows--; /* left out */
		for (size_t k = 0; k < c->ncols; k++) {
			free(row[k]);
			row[k] = NULL;
		}
		return bad_row(s, x, rc, msg, err);
	}
	return PW_OK;
}

static pw_err end_record(struct csv_state *s, pw_error *err)
{
	/* Blank lines carry no row. */
	if (s->n == 1 && !s->rec[0].quoted && !*s->rec[0].text)
		return PW_OK;
	return s->header_done ? take_row(s, err) : take_header(s, err);
}

/* Reads one field starting at data[*i]; `line` and `ls` track the line
 * number and the offset where that line starts. */
static pw_err read_field(struct csv_state *s, const char *data, size_t len, size_t *i, size_t *line,
			 size_t *ls, pw_buf *b, pw_error *err)
{
	size_t p = *i;
	if (p < len && data[p] == '"') {
		size_t l0 = *line, c0 = p - *ls + 1;
		for (p++;; p++) {
			if (p >= len)
				return at(
					s, l0, c0, err, PW_ERR_PARSE,
					"this quoted field never ends; a closing '\"' is missing");
			if (data[p] == '"') {
				if (p + 1 < len && data[p + 1] == '"') {
					p++;
				} else {
					p++;
					break;
				}
			} else if (data[p] == '\n') {
				(*line)++;
				*ls = p + 1;
			} else if (data[p] == '\0') {
				break;
			}
			if (pw_buf_putc(b, data[p]))
				return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		}
		if (p < len && data[p] != ',' && data[p] != '\n' &&
		    !(data[p] == '\r' && p + 1 < len && data[p + 1] == '\n'))
			return at(s, *line, p - *ls + 1, err, PW_ERR_PARSE,
				  "text after a closing quote; inside a quoted field write a quote "
				  "as \"\"");
	} else {
		for (; p < len && data[p] != ',' && data[p] != '\n' && data[p] != '\r' &&
		       data[p] != '"' && data[p] != '\0';
		     p++)
			if (pw_buf_putc(b, data[p]))
				return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
		if (p < len && data[p] == '"')
			return at(s, *line, p - *ls + 1, err, PW_ERR_PARSE,
				  "a quote inside an unquoted field; quote the whole field and "
				  "write the quote as \"\"");
		if (p < len && data[p] == '\r' && !(p + 1 < len && data[p + 1] == '\n'))
			return at(s, *line, p - *ls + 1, err, PW_ERR_PARSE,
				  "a carriage return not followed by a line feed");
	}
	if (p < len && data[p] == '\0')
		return at(s, *line, p - *ls + 1, err, PW_ERR_PARSE,
			  "a NUL byte; this is not a text file");
	*i = p;
	return PW_OK;
}

static pw_err csv_scan(struct csv_state *s, const char *data, size_t len, pw_error *err)
{
	size_t i = 0, line = 1, ls = 0;
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		i = ls = 3; /* a UTF-8 byte order mark, as spreadsheets write it */
	pw_buf b = PW_BUF_INIT;
	pw_err rc = PW_OK;
	for (;;) {
		size_t max = s->header_done ? s->out->ncols : PW_HF__EDITABLE;
		struct cell x = {NULL, line, i - ls + 1, i < len && data[i] == '"'};
		pw_buf_reset(&b);
		rc = read_field(s, data, len, &i, &line, &ls, &b, err);
		if (rc)
			break;
		if (s->n == max) {
			rc = at(s, x.line, x.col, err, PW_ERR_PARSE,
				s->header_done ? "more fields than the header has columns"
					       : "more columns than a host has fields");
			break;
		}
		x.text = strdup(pw_buf_str(&b));
		if (!x.text) {
			rc = pw_error_set(err, PW_ERR_NOMEM, "out of memory");
			break;
		}
		s->rec[s->n++] = x;
		if (i < len && data[i] == ',') {
			i++;
			continue;
		}
		bool eof = i >= len;
		if (!eof) {
			i += data[i] == '\r' ? 2 : 1;
			line++;
			ls = i;
		}
		rc = end_record(s, err);
		rec_clear(s);
		if (rc || i >= len)
			break;
	}
	rec_clear(s);
	pw_buf_release(&b);
	if (!rc && !s->header_done)
		rc = at(s, 1, 1, err, PW_ERR_PARSE,
			"the file is empty; its first row must name the columns (hostname, ...)");
	if (!rc && s->nbad > 1 && err) {
		char first[PW_ERROR_MSG_MAX];
		snprintf(first, sizeof first, "%s", err->msg);
		bool one = s->nbad == 2;
		pw_error_set(err, s->bad, "%s; %zu more bad row%s, on line%s %s%s", first,
			     s->nbad - 1, one ? "" : "s", one ? "" : "s", s->more + 2,
			     s->nbad > BAD_LINES_LISTED + 1 ? " and later" : "");
	}
	return rc ? rc : s->bad;
}

pw_err pw_host_csv_parse(const char *name, const char *data, size_t len, pw_host_csv *out,
			 pw_error *err)
{
	struct csv_state s = {
		name ? name : "<csv>", out, false, {{NULL, 0, 0, false}}, 0, PW_OK, 0, ""};
	pw_err rc = csv_scan(&s, data, len, err);
	if (rc)
		pw_host_csv_release(out);
	return rc;
}

struct import {
	const char *actor, *name;
	const pw_host_csv *csv;
	pw_host_import_stats st;
};

static pw_err import_txn(pw_db *db, void *arg, pw_error *err)
{
	struct import *im = arg;
	const pw_host_csv *c = im->csv;
	size_t hcol = 0;
	while (c->cols[hcol] != PW_HF_HOSTNAME)
		hcol++;
	pw_err rc = PW_OK;
	for (size_t r = 0; r < c->nrows && !rc; r++) {
		char **row = c->cells + r * c->ncols;
		struct pw_host_change ch = {{false}, {NULL}};
		for (size_t i = 0; i < c->ncols; i++) {
			ch.set[c->cols[i]] = true;
			ch.val[c->cols[i]] = row[i]; /* borrowed: not released */
		}
		pw_host old = PW_HOST_INIT;
		rc = pw_host_read_one(db, false, 0, row[hcol], &old, err);
		bool exists = !rc, changed = false;
		int64_t id = 0;
		if (rc == PW_ERR_NOTFOUND)
			rc = PW_OK;
		if (!rc)
			rc = pw_host_write(db, im->actor, "host.import", exists ? &old : NULL, &ch,
					   &id, &changed, err);
		pw_host_release(&old);
		if (rc) {
			pw_error_prefix(err, "%s:%zu: host %s: ", im->name, c->lines[r], row[hcol]);
			break;
		}
		im->st.rows++;
		if (!exists)
			im->st.created++;
		else if (changed)
			im->st.updated++;
		else
			im->st.unchanged++;
	}
	return rc;
}

pw_err pw_host_import_csv(pw_db *db, const char *actor, const char *name, const char *data,
			  size_t len, pw_host_import_stats *stats, pw_error *err)
{
	pw_host_csv csv = PW_HOST_CSV_INIT;
	struct import im = {actor, name ? name : "<csv>", &csv, {0, 0, 0, 0}};
	pw_err rc = pw_host_csv_parse(im.name, data, len, &csv, err);
	if (!rc)
		rc = pw_in_write_txn(db, import_txn, &im, err);
	pw_host_csv_release(&csv);
	if (stats)
		*stats = rc ? (pw_host_import_stats){0, 0, 0, 0} : im.st;
	return rc;
}

static pw_err csv_field(pw_buf *out, const char *v)
{
	if (!v)
		return PW_OK;
	bool guard = csv_guarded(v);
	if (!guard && !strpbrk(v, ",\"\r\n") && v[0] != ' ' && v[strlen(v) - 1] != ' ')
		return pw_buf_puts(out, v);
	pw_err rc = pw_buf_putc(out, '"');
	if (!rc && guard)
		rc = pw_buf_putc(out, '\'');
	for (const char *p = v; *p && !rc; p++)
		rc = *p == '"' ? pw_buf_puts(out, "\"\"") : pw_buf_putc(out, *p);
	return rc ? rc : pw_buf_putc(out, '"');
}

pw_err pw_host_export_csv(pw_db *db, const pw_host_filter *f, pw_buf *out, pw_error *err)
{
	pw_host_list l = PW_HOST_LIST_INIT;
	pw_err rc = pw_host_list_query(db, f, &l, err);
	for (int k = 0; k < PW_HF__EDITABLE && !rc; k++)
		rc = pw_buf_printf(out, "%s%s", k ? "," : "", pw_host_field_name((pw_host_field)k));
	if (!rc)
		rc = pw_buf_puts(out, "\r\n");
	for (size_t i = 0; i < l.n && !rc; i++) {
		for (int k = 0; k < PW_HF__EDITABLE && !rc; k++) {
			rc = k ? pw_buf_putc(out, ',') : PW_OK;
			/* Dates go out as entered: a day stays a day. */
			const char *v = l.v[i].f[k];
			if (!rc && k == PW_HF_LAST_PATCHED && v &&
			    !strcmp(v + 10, "T00:00:00.000Z"))
				rc = pw_buf_append(out, v, 10);
			else if (!rc)
				rc = csv_field(out, v);
		}
		if (!rc)
			rc = pw_buf_puts(out, "\r\n");
	}
	if (rc == PW_ERR_NOMEM)
		pw_error_set(err, rc, "exporting hosts: out of memory");
	pw_host_list_release(&l);
	return rc;
}
