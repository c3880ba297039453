/* The notifier (notify.h): one thread per node that delivers the
 * outbox every [notify] interval seconds, apart from the request threads
 * and the findings scheduler, so that a slow or absent mail server or
 * webhook receiver delays nothing else. Nodes take turns through
 * pw_notify_deliver's lock. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "patchwarden/notify.h"

#include "server-internal.h"

/* Rows per round: a backlog drains over several rounds, so that a stop
 * does not wait for all of it. */
#define ROUND_ROWS 50

struct pw_notifier {
	const pw_server_config *cfg;
	struct pw_server *server;
	pthread_mutex_t lock;
	struct pw_worker worker;
};

static void deliver(struct pw_notifier *n, pw_db **db)
{
	pw_error e = PW_ERROR_INIT;
	if (!*db && pw_db_open(n->cfg->db_url, db, &e)) {
		pw_server_log(n->server, PW_LOG_ERR, "notify: cannot open the database: %s",
			      pw_error_text(&e));
		return;
	}
	pw_notify_stats st;
	if (pw_notify_deliver(*db, &n->cfg->notify, ROUND_ROWS, &st, &e)) {
		pw_server_log(n->server, PW_LOG_ERR, "notify: %s", pw_error_text(&e));
		return;
	}
	if (st.sent || st.dropped)
		pw_server_log(n->server, PW_LOG_INFO, "notify: %zu sent, %zu dropped", st.sent,
			      st.dropped);
	if (st.failed)
		pw_server_log(n->server, PW_LOG_WARNING,
			      "notify: %zu messages not delivered, kept for a later attempt "
			      "('notify_outbox.last_error' says why)",
			      st.failed);
}

static void *notifier(void *arg)
{
	struct pw_notifier *n = arg;
	pw_db *db = NULL;
	pthread_mutex_lock(&n->lock);
	while (!n->worker.stopping) {
		pthread_mutex_unlock(&n->lock);
		deliver(n, &db);
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += n->cfg->notify.interval;
		pthread_mutex_lock(&n->lock);
		while (!n->worker.stopping &&
		       pthread_cond_timedwait(&n->worker.wake, &n->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&n->lock);
	pw_db_close(db);
	return NULL;
}

pw_err pw_notifier_start(const pw_server_config *cfg, struct pw_server *server,
			 struct pw_notifier **out, pw_error *err)
{
	struct pw_notifier *n = calloc(1, sizeof *n);
	*out = n;
	if (!n)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	n->cfg = cfg;
	n->server = server;
	pthread_mutex_init(&n->lock, NULL);
	pw_worker_init(&n->worker, &n->lock);
	return pw_worker_start(&n->worker, notifier, n, "notifier", err);
}

void pw_notifier_free(struct pw_notifier *n)
{
	if (!n)
		return;
	pw_worker_end(&n->worker);
	pthread_mutex_destroy(&n->lock);
	free(n);
}
