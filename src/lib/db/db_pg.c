/* PostgreSQL backend of db.h over libpq. Every cached statement is a
 * server-side prepared statement (PQprepare under a generated name), run
 * with PQexecPrepared: parameters as text, blobs as binary; results in
 * text form, read row by row from the PGresult. */
#include <errno.h>

#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"
#include "patchwarden/text.h"

/* Type OIDs from PostgreSQL's catalog (pg_type.dat); stable since 7.x. */
#define PG_BOOLOID 16
#define PG_BYTEAOID 17

/* pg_advisory_lock(int4, int4) keys do not overlap the int8 keys of
 * pw_db_try_lock, so migrations cannot collide with a caller's lock. */
#define PG_MIGRATE_LOCK_CLASS 0x7077 /* "pw" */
#define PG_MIGRATE_LOCK_OBJ 1

typedef struct pg_db {
	struct pw_db base;
	PGconn *conn;
	unsigned gen;     /* bumped by each reconnect: statements prepare again */
	unsigned next_id; /* for statement names */
	/* The connection broke inside a transaction: the server rolled it
	 * back, and the caller must hear so (commit fails, rollback clears
	 * it) before a reconnect lets statements run in autocommit. */
	bool tx_lost;
} pg_db;

/* One parameter's storage, reused by every bind so a hot statement does
 * not allocate once its buffers have grown. */
typedef struct pg_param {
	char *buf;
	size_t cap;
	char num[32];
} pg_param;

typedef struct pg_stmt {
	struct pw_stmt base;
	char name[24];
	unsigned gen;
	char *text; /* translated SQL, kept to prepare again after a reconnect */
	const char **values;
	int *lengths;
	int *formats;
	pg_param *params;
	PGresult *res;
	int row, nrows;
	pw_buf *cols; /* decoded bytea per column, allocated on first use */
} pg_stmt;

static pg_db *PG(pw_db *db)
{
	return (pg_db *)db;
}

static pg_stmt *PGS(pw_stmt *st)
{
	return (pg_stmt *)st;
}

/* The default processor prints NOTICEs ("relation already exists,
 * skipping") to stderr; the library never prints. */
static void pg_ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static bool pg_tx_open(PGTransactionStatusType t)
{
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

/* After a failure: was a transaction lost with the connection? */
static void pg_note_loss(pg_db *d, PGTransactionStatusType before)
{
	if (PQstatus(d->conn) != CONNECTION_OK && pg_tx_open(before))
		d->tx_lost = true;
}

/* Fails with the server's message, its detail and hint, and SQLSTATE;
 * without a result (connection lost, out of memory) with libpq's.
 * `before`: the transaction status before the failed call. */
static pw_err pg_fail(pg_db *d, pw_error *err, const char *sql, const PGresult *res,
		      PGTransactionStatusType before)
{
	pg_note_loss(d, before);
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!primary) {
		primary = PQerrorMessage(d->conn);
		if (!*primary)
			primary = res ? PQresStatus(PQresultStatus(res)) : "no result";
	}
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (!state && PQstatus(d->conn) != CONNECTION_OK)
		state = "08006"; /* connection_failure */
	return pw_db_fail(&d->base, err, sql, state, "%s%s%s%s%s", primary, detail ? " — " : "",
			  detail ? detail : "", hint ? "; hint: " : "", hint ? hint : "");
}

static pw_err pg_exec(pw_db *db, const char *sql, pw_error *err)
{
	pg_db *d = PG(db);
	if (d->tx_lost && strcmp(sql, "ROLLBACK") == 0) {
		d->tx_lost = false; /* the server rolled back already */
		return PW_OK;
	}
	PGTransactionStatusType before = PQtransactionStatus(d->conn);
	PGresult *res = PQexec(d->conn, sql);
	ExecStatusType s = PQresultStatus(res);
	pw_err rc = PW_OK;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY)
		rc = pg_fail(d, err, sql, res, before);
	PQclear(res);
	return rc;
}

static void pg_close(pw_db *db)
{
	PQfinish(PG(db)->conn);
	free(db);
}

/* libpq notices a closed connection only when it next reads from it, so
 * a connection idle across a failover or a restart would fail the next
 * statement (and its request) although a new connection would succeed.
 * Between transactions, and without session locks (whose holder must
 * learn that they are gone: the failure tells it), nothing is lost by
 * finding out now: read what is pending (the server's last words, then
 * the end of the stream). */
static void pg_notice_closed(pg_db *d)
{
	if (d->base.nlocks || PQtransactionStatus(d->conn) != PQTRANS_IDLE)
		return;
	struct pollfd p = {.fd = PQsocket(d->conn), .events = POLLIN};
	for (int i = 0; i < 4 && poll(&p, 1, 0) == 1; i++)
		if (!PQconsumeInput(d->conn))
			break;
}

static pw_err pg_ensure_connected(pw_db *db, pw_error *err)
{
	pg_db *d = PG(db);
	pg_notice_closed(d);
	if (PQstatus(d->conn) == CONNECTION_OK)
		return PW_OK;
	if (d->tx_lost)
		return pw_db_fail(db, err, NULL, "08006",
				  "the connection to the database was lost inside a transaction, "
				  "which was rolled back; roll back and start it again");
	PQreset(d->conn);
	if (PQstatus(d->conn) != CONNECTION_OK)
		return pw_db_fail(db, err, NULL, "08006",
				  "lost the connection to the database and could not reconnect: %s",
				  PQerrorMessage(d->conn));
	d->gen++;
	pw_db_forget_locks(db);
	return PW_OK;
}

static bool pg_in_transaction(pw_db *db)
{
	return PG(db)->tx_lost || pg_tx_open(PQtransactionStatus(PG(db)->conn));
}

static pw_err pg_commit(pw_db *db, pw_error *err)
{
	pg_db *d = PG(db);
	if (d->tx_lost) {
		d->tx_lost = false;
		return pw_db_fail(db, err, NULL, "08006",
				  "the connection to the database was lost inside the transaction; "
				  "nothing was committed");
	}
	bool failed = PQtransactionStatus(d->conn) == PQTRANS_INERROR;
	PGresult *res = PQexec(d->conn, "COMMIT");
	pw_err rc = PW_OK;
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_fail(d, err, "COMMIT", res, PQTRANS_IDLE); /* over either way */
	else if (failed || strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
		/* PostgreSQL answers COMMIT of a failed transaction with a
		 * successful ROLLBACK: that must not look like a commit. */
		rc = pw_db_fail(db, err, NULL, "25P02",
				"the transaction was rolled back because a statement in it "
				"failed; nothing was committed");
	PQclear(res);
	return rc;
}

static pw_err pg_prepare_text(pg_stmt *s, const char *sql, pw_error *err)
{
	pg_db *d = PG(s->base.db);
	snprintf(s->name, sizeof s->name, "pw_%u", d->next_id++);
	PGTransactionStatusType before = PQtransactionStatus(d->conn);
	PGresult *res = PQprepare(d->conn, s->name, s->text, 0, NULL);
	pw_err rc = PW_OK;
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_fail(d, err, sql, res, before);
	PQclear(res);
	if (!rc)
		s->gen = d->gen;
	return rc;
}

static void pg_stmt_free(pw_stmt *st)
{
	pg_stmt *s = PGS(st);
	PQclear(s->res);
	for (int i = 0; i < st->nparams; i++)
		free(s->params[i].buf);
	for (int i = 0; s->cols && i < st->ncols; i++)
		pw_buf_release(&s->cols[i]);
	free(s->cols);
	free(s->params);
	free(s->values);
	free(s->lengths);
	free(s->formats);
	free(s->text);
	free(s);
}

static pw_err pg_stmt_new(pw_db *db, const char *sql, pw_stmt **out, pw_error *err)
{
	pg_db *d = PG(db);
	int nparams;
	pw_err rc = pw_db_translate(PW_DB_POSTGRES, sql, &db->scratch, &nparams, err);
	if (rc)
		return rc;
	pg_stmt *s = calloc(1, sizeof *s);
	if (!s)
		return pw_error_set(err, PW_ERR_NOMEM, "preparing SQL: out of memory");
	s->base.db = db;
	s->text = strdup(pw_buf_str(&db->scratch));
	size_t n = nparams ? (size_t)nparams : 1;
	s->values = calloc(n, sizeof *s->values);
	s->lengths = calloc(n, sizeof *s->lengths);
	s->formats = calloc(n, sizeof *s->formats);
	s->params = calloc(n, sizeof *s->params);
	if (!s->text || !s->values || !s->lengths || !s->formats || !s->params) {
		pg_stmt_free(&s->base);
		return pw_error_set(err, PW_ERR_NOMEM, "preparing SQL: out of memory");
	}
	rc = pg_prepare_text(s, sql, err);
	if (rc) {
		pg_stmt_free(&s->base);
		return rc;
	}
	/* The description gives the column count before execution (so
	 * pw_stmt_exec can refuse a SELECT without running it). */
	PGTransactionStatusType before = PQtransactionStatus(d->conn);
	PGresult *res = PQdescribePrepared(d->conn, s->name);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = pg_fail(d, err, sql, res, before);
		PQclear(res);
		pg_stmt_free(&s->base);
		return rc;
	}
	s->base.ncols = PQnfields(res);
	PQclear(res);
	s->base.nparams = nparams;
	*out = &s->base;
	return PW_OK;
}

static void pg_stmt_reset(pw_stmt *st, bool clear)
{
	pg_stmt *s = PGS(st);
	if (s->res) {
		PQclear(s->res);
		s->res = NULL;
	}
	if (clear) {
		for (int i = 0; i < st->nparams; i++) {
			s->values[i] = NULL;
			s->formats[i] = 0;
		}
	}
}

/* Decimal without snprintf: this runs for every bound integer. */
static void format_int(char out[32], int64_t v)
{
	char tmp[24];
	size_t n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	size_t o = 0;
	if (v < 0)
		out[o++] = '-';
	while (n)
		out[o++] = tmp[--n];
	out[o] = '\0';
}

static pw_err pg_param_copy(pg_param *p, const void *data, size_t n)
{
	if (n + 1 > p->cap) {
		size_t cap = p->cap ? p->cap : 64;
		while (cap < n + 1)
			cap *= 2;
		char *b = realloc(p->buf, cap);
		if (!b)
			return PW_ERR_NOMEM;
		p->buf = b;
		p->cap = cap;
	}
	memcpy(p->buf, data, n);
	p->buf[n] = '\0';
	return PW_OK;
}

static pw_err pg_bind(pw_stmt *st, int idx, const pw_value *v)
{
	pg_stmt *s = PGS(st);
	int i = idx - 1;
	pg_param *p = &s->params[i];
	s->formats[i] = 0;
	s->lengths[i] = 0;
	switch (v->type) {
	case PW_VALUE_INT:
		format_int(p->num, v->i);
		s->values[i] = p->num;
		return PW_OK;
	case PW_VALUE_DOUBLE:
		if (isnan(v->d))
			s->values[i] = "NaN";
		else if (isinf(v->d))
			s->values[i] = v->d > 0 ? "Infinity" : "-Infinity";
		else {
			/* 17 significant digits read back to the same double. */
			snprintf(p->num, sizeof p->num, "%.17g", v->d);
			s->values[i] = p->num;
		}
		return PW_OK;
	case PW_VALUE_TEXT:
	case PW_VALUE_BLOB: {
		size_t n = v->type == PW_VALUE_TEXT ? strlen(v->p) : v->n;
		if (n > 0x3fffffff) /* PostgreSQL's 1 GB field limit; lengths are int */
			return PW_ERR_TOOLARGE;
		if (pg_param_copy(p, v->p, n))
			return PW_ERR_NOMEM;
		s->values[i] = p->buf;
		if (v->type == PW_VALUE_BLOB) {
			s->lengths[i] = (int)n;
			s->formats[i] = 1; /* binary: bytes go as they are */
		}
		return PW_OK;
	}
	default:
		s->values[i] = NULL;
		return PW_OK;
	}
}

static int64_t command_changes(PGresult *res)
{
	const char *tag = PQcmdStatus(res);
	if (strncmp(tag, "INSERT", 6) && strncmp(tag, "UPDATE", 6) && strncmp(tag, "DELETE", 6) &&
	    strncmp(tag, "MERGE", 5))
		return 0;
	return strtoll(PQcmdTuples(res), NULL, 10);
}

static pw_err pg_step(pw_stmt *st, bool *row, pw_error *err)
{
	pg_stmt *s = PGS(st);
	pg_db *d = PG(st->db);
	if (st->state == PW_STMT_ROWS) {
		if (++s->row < s->nrows) {
			*row = true;
			return PW_OK;
		}
		pg_stmt_reset(st, false);
		st->state = PW_STMT_DONE;
		return PW_OK;
	}
	st->state = PW_STMT_DONE;
	PGTransactionStatusType before = PQtransactionStatus(d->conn);
	if (s->gen != d->gen) {
		pw_err rc = pg_prepare_text(s, st->sql, err);
		if (rc)
			return rc;
	}
	PGresult *res = PQexecPrepared(d->conn, s->name, st->nparams, s->values, s->lengths,
				       s->formats, 0);
	ExecStatusType status = PQresultStatus(res);
	if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
		st->changes = command_changes(res);
		if (status == PGRES_TUPLES_OK && PQntuples(res) > 0) {
			s->res = res;
			s->row = 0;
			s->nrows = PQntuples(res);
			st->state = PW_STMT_ROWS;
			*row = true;
			return PW_OK;
		}
		PQclear(res);
		return PW_OK;
	}
	pw_err rc = pg_fail(d, err, st->sql, res, before);
	PQclear(res);
	return rc;
}

static bool pg_col_is_null(pw_stmt *st, int col)
{
	pg_stmt *s = PGS(st);
	return PQgetisnull(s->res, s->row, col);
}

static const char *pg_col_text(pw_stmt *st, int col)
{
	pg_stmt *s = PGS(st);
	return PQgetisnull(s->res, s->row, col) ? NULL : PQgetvalue(s->res, s->row, col);
}

/* bytea arrives as text: "\x" + hex (PostgreSQL's default output), or
 * the old escape format when a server sets bytea_output = escape. */
static const void *pg_col_blob(pw_stmt *st, int col, size_t *len)
{
	pg_stmt *s = PGS(st);
	const char *v = PQgetvalue(s->res, s->row, col);
	size_t n = (size_t)PQgetlength(s->res, s->row, col);
	if (PQftype(s->res, col) != PG_BYTEAOID) {
		*len = n;
		return v;
	}
	if (!s->cols) {
		s->cols = calloc((size_t)st->ncols, sizeof *s->cols);
		if (!s->cols)
			return NULL;
	}
	pw_buf *b = &s->cols[col];
	pw_buf_reset(b);
	if (n >= 2 && v[0] == '\\' && v[1] == 'x') {
		if (pw_buf_reserve(b, (n - 2) / 2))
			return NULL;
		for (size_t i = 2; i + 1 < n; i += 2) {
			int hi = pw_hex_digit(v[i]), lo = pw_hex_digit(v[i + 1]);
			if (hi < 0 || lo < 0)
				return NULL;
			b->data[b->len++] = (char)(hi << 4 | lo);
		}
		b->data[b->len] = '\0';
	} else {
		size_t un = 0;
		unsigned char *u = PQunescapeBytea((const unsigned char *)v, &un);
		if (!u)
			return NULL;
		pw_err rc = pw_buf_append(b, u, un);
		PQfreemem(u);
		if (rc)
			return NULL;
	}
	*len = b->len;
	return b->len ? b->data : "";
}

static int64_t double_to_int(double d)
{
	if (isnan(d))
		return 0;
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

static int64_t pg_col_int(pw_stmt *st, int col)
{
	pg_stmt *s = PGS(st);
	if (PQgetisnull(s->res, s->row, col))
		return 0;
	const char *v = PQgetvalue(s->res, s->row, col);
	if (PQftype(s->res, col) == PG_BOOLOID)
		return v[0] == 't';
	char *end;
	long long x = strtoll(v, &end, 10);
	if (end != v && !*end)
		return x;
	return double_to_int(strtod(v, NULL)); /* numeric or float text */
}

static double pg_col_double(pw_stmt *st, int col)
{
	pg_stmt *s = PGS(st);
	if (PQgetisnull(s->res, s->row, col))
		return 0.0;
	const char *v = PQgetvalue(s->res, s->row, col);
	if (PQftype(s->res, col) == PG_BOOLOID)
		return v[0] == 't';
	return strtod(v, NULL);
}

/* Runs a one-row SELECT of an advisory-lock function on one or two keys. */
static pw_err pg_lock_call(pw_db *db, const char *sql, int64_t k1, int64_t k2, int nkeys,
			   bool *result, pw_error *err)
{
	pw_stmt *st = NULL;
	pw_err rc = pw_db_prepare(db, sql, &st, err);
	if (!rc)
		rc = pw_stmt_bind_int(st, 1, k1);
	if (!rc && nkeys == 2)
		rc = pw_stmt_bind_int(st, 2, k2);
	bool row = false;
	if (!rc)
		rc = pw_stmt_step(st, &row, err);
	*result = row && pw_stmt_int(st, 0) == 1;
	if (st)
		pw_stmt_reset(st);
	return rc;
}

static pw_err pg_try_lock(pw_db *db, int64_t key, bool *got, pw_error *err)
{
	return pg_lock_call(db, "SELECT pg_try_advisory_lock(CAST(? AS BIGINT))", key, 0, 1, got,
			    err);
}

static pw_err pg_unlock(pw_db *db, int64_t key, pw_error *err)
{
	bool released;
	pw_err rc = pg_lock_call(db, "SELECT pg_advisory_unlock(CAST(? AS BIGINT))", key, 0, 1,
				 &released, err);
	if (!rc && !released)
		rc = pw_db_fail(db, err, NULL, NULL,
				"advisory lock %lld was not held by this session (was the "
				"connection re-established?)",
				(long long)key);
	return rc;
}

/* Blocks until no other node migrates: the second node then finds the
 * migrations applied. A crashed holder's session ends and frees it. */
static pw_err pg_migrate_lock(pw_db *db, bool take, pw_error *err)
{
	bool ignored;
	return pg_lock_call(
		db,
		take ? "SELECT pg_advisory_lock(CAST(? AS INTEGER), CAST(? AS INTEGER))"
		     : "SELECT pg_advisory_unlock(CAST(? AS INTEGER), CAST(? AS INTEGER))",
		PG_MIGRATE_LOCK_CLASS, PG_MIGRATE_LOCK_OBJ, 2, &ignored, err);
}

static const pw_db_ops pg_ops = {
	.name = "PostgreSQL",
	.close = pg_close,
	.ensure_connected = pg_ensure_connected,
	.in_transaction = pg_in_transaction,
	.exec = pg_exec,
	.commit = pg_commit,
	.stmt_new = pg_stmt_new,
	.stmt_free = pg_stmt_free,
	.stmt_reset = pg_stmt_reset,
	.bind = pg_bind,
	.step = pg_step,
	.col_is_null = pg_col_is_null,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.col_int = pg_col_int,
	.col_double = pg_col_double,
	.try_lock = pg_try_lock,
	.unlock = pg_unlock,
	.migrate_lock = pg_migrate_lock,
};

static pw_err pg_open(const char *conninfo, pw_db **out, pw_error *err)
{
	pg_db *d = calloc(1, sizeof *d);
	if (!d)
		return pw_error_set(err, PW_ERR_NOMEM, "PostgreSQL: out of memory");
	d->base.ops = &pg_ops;
	d->base.kind = PW_DB_POSTGRES;
	/* Defaults first: a later keyword (the URL's own) wins. */
	const char *const keys[] = {"connect_timeout", "application_name", "client_encoding",
				    "dbname", NULL};
	const char *const vals[] = {"10", "patchwarden", "UTF8", conninfo, NULL};
	d->conn = PQconnectdbParams(keys, vals, 1);
	if (!d->conn) {
		free(d);
		return pw_error_set(err, PW_ERR_NOMEM, "PostgreSQL: out of memory");
	}
	if (PQstatus(d->conn) != CONNECTION_OK) {
		/* Not the URL itself: it may carry a password. */
		char msg[PW_ERROR_MSG_MAX];
		snprintf(msg, sizeof msg, "%s", PQerrorMessage(d->conn));
		size_t len = strlen(msg);
		while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
			msg[--len] = '\0';
		pw_error_set(
			err, PW_ERR_STORE,
			"PostgreSQL: cannot connect to database \"%s\" on %s port %s as %s: %s; "
			"check the URL and that the server is running",
			PQdb(d->conn) ? PQdb(d->conn) : "?",
			PQhost(d->conn) ? PQhost(d->conn) : "?",
			PQport(d->conn) ? PQport(d->conn) : "?",
			PQuser(d->conn) ? PQuser(d->conn) : "?", msg);
		PQfinish(d->conn);
		free(d);
		return PW_ERR_STORE;
	}
	PQsetNoticeProcessor(d->conn, pg_ignore_notice, NULL);
	*out = &d->base;
	return PW_OK;
}

/* Runs when this object is linked into a program (see db-internal.h). */
__attribute__((constructor)) static void pg_register(void)
{
	pw_db_register_postgres(pg_open);
}
