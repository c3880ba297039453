/* The findings scheduler (findings.h): one thread per node that
 * recomputes the findings of hosts whose inventory changed, queued by
 * check-ins, and of the whole fleet when the feed store has a newer
 * snapshot. It works apart from the HTTP transport (server.c), which
 * only queues hosts and logs for it, so that a check-in neither waits
 * for a scan nor holds SQLite's writers meanwhile. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patchwarden/campaigns.h"
#include "patchwarden/findings.h"
#include "patchwarden/grow.h"
#include "patchwarden/jobs.h"
#include "patchwarden/metrics.h"
#include "patchwarden/policy_run.h"
#include "patchwarden/window.h"

#include "server-internal.h"

struct pw_scheduler {
	const pw_server_config *cfg;
	struct pw_server *server; /* where log lines go */
	pthread_mutex_t lock;     /* guards `changed` and the worker's `stopping` */
	/* Wakes every recompute_interval seconds, when a check-in changes a
	 * host's inventory, or to stop. */
	struct pw_worker worker;
	int64_t *changed; /* hosts whose inventory changed */
	size_t n_changed, cap_changed;
	/* A missing or empty feed store is logged once, until it works. */
	atomic_bool store_warned, unsupported_warned;
};

/* More hosts than this waiting to be recomputed (agents coming back
 * after an outage, a fleet enrolling) are cheaper as one fleet run:
 * each distinct inventory once, each ecosystem loaded once. */
#define CHANGED_AS_FLEET 32

/* Logged once until the store works again: the server runs without. */
static void store_unusable(struct pw_scheduler *s, const pw_error *e)
{
	if (!atomic_exchange(&s->store_warned, true))
		pw_server_log(s->server, PW_LOG_WARNING,
			      "findings: %s; findings are not computed until then (logged once)",
			      pw_error_text(e));
}

/* A check-in gave the host another inventory, or an operator changed its
 * exposure. Its findings are computed
 * by the scheduler thread, so the check-in neither waits for the scan
 * nor holds SQLite's writers meanwhile, and cannot fail for it. */
void pw_scheduler_stale(void *ctx, int64_t host_id)
{
	struct pw_scheduler *s = ctx;
	pthread_mutex_lock(&s->lock);
	size_t cap = s->cap_changed;
	int64_t *v = pw_grow(s->changed, &cap, s->n_changed, sizeof *v);
	if (v) {
		s->changed = v;
		s->cap_changed = cap;
		v[s->n_changed++] = host_id;
		pthread_cond_signal(&s->worker.wake);
	}
	pthread_mutex_unlock(&s->lock);
	if (!v)
		pw_server_log(s->server, PW_LOG_ERR,
			      "findings: host %" PRId64
			      ": out of memory queueing its recompute; its "
			      "findings wait for the next snapshot",
			      host_id);
}

static void log_run(struct pw_scheduler *s, const pw_findings_stats *st)
{
	pw_server_log(
		s->server, PW_LOG_INFO,
		"findings: recomputed against feed snapshot %" PRId64 " in %.2f s: %zu hosts, "
		"%zu distinct inventories, %zu hosts skipped (no advisories for their OS); %zu "
		"opened, %zu kept, %zu fixed; open now %" PRId64 " emergency, %" PRId64
		" high, %" PRId64 " normal, %" PRId64 " low",
		st->snapshot, st->seconds, st->hosts, st->inventories, st->skipped,
		st->delta.opened, st->delta.kept, st->delta.fixed, st->open[0], st->open[1],
		st->open[2], st->open[3]);
}

/* The database and the feed store for one round of work; false (logged)
 * when either cannot be had. */
static bool open_both(struct pw_scheduler *s, pw_db **db, pw_feedstore **store)
{
	pw_error e = PW_ERROR_INIT;
	if (!*db && pw_db_open(s->cfg->db_url, db, &e)) {
		pw_server_log(s->server, PW_LOG_ERR, "findings: cannot open the database: %s",
			      pw_error_text(&e));
		return false;
	}
	pw_err rc = pw_findings_store_open(s->cfg->feeds.store, *db, store, &e);
	int64_t snapshot;
	if (!rc)
		rc = pw_feedstore_latest(*store, &snapshot, &e);
	if (rc == PW_ERR_NOTFOUND)
		store_unusable(s, &e);
	else if (rc)
		pw_server_log(s->server, PW_LOG_ERR, "findings: feed store %s: %s",
			      s->cfg->feeds.store ? s->cfg->feeds.store : "(the server's database)",
			      pw_error_text(&e));
	if (!rc)
		atomic_store(&s->store_warned, false);
	return !rc;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void recompute_changed(struct pw_scheduler *s, pw_db **db, int64_t *ids, size_t n)
{
	pw_feedstore *store = NULL;
	if (!open_both(s, db, &store)) {
		pw_feedstore_close(store);
		return;
	}
	qsort(ids, n, sizeof *ids, cmp_id);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (!u || ids[u - 1] != ids[i])
			ids[u++] = ids[i];
	pw_error e = PW_ERROR_INIT;
	pw_findings_stats st = {.ran = false};
	pw_err rc = u > CHANGED_AS_FLEET
			    ? pw_findings_recompute(*db, store, 0, &s->cfg->feeds.policy,
						    "system:scheduler", &st, &e)
			    : PW_OK;
	if (!rc && st.ran)
		log_run(s, &st);
	for (size_t i = 0; i < u && !rc && !st.ran; i++) {
		pw_err hrc = pw_findings_recompute_host(*db, store, &s->cfg->feeds.policy, ids[i],
							NULL, &e);
		/* A fleet of an OS the feeds lack would fill the log. */
		if (hrc == PW_ERR_UNSUPPORTED && !atomic_exchange(&s->unsupported_warned, true))
			pw_server_log(s->server, PW_LOG_WARNING,
				      "findings: host %" PRId64 ": %s (hosts without feed data are "
				      "logged once; 'patchwarden host recompute' counts them)",
				      ids[i], pw_error_text(&e));
		else if (hrc && hrc != PW_ERR_UNSUPPORTED)
			pw_server_log(s->server, PW_LOG_WARNING, "findings: host %" PRId64 ": %s",
				      ids[i], pw_error_text(&e));
	}
	if (rc)
		pw_server_log(s->server, PW_LOG_ERR, "findings: recomputing %zu hosts failed: %s",
			      u, pw_error_text(&e));
	pw_feedstore_close(store);
}

/* pw_db_try_lock's key for the policy run: one node at a time. */
#define POLICY_LOCK 0x7077706f6c696379LL /* "pwpolicy" */

static void log_policy(struct pw_scheduler *s, const cJSON *r)
{
	pw_server_log(s->server, PW_LOG_NOTICE,
		      "policy: %d emergency findings, %d past SLA, %d hosts unpatched, %d "
		      "expiring, %d campaigns drafted ('patchwarden policy run --dry-run' lists "
		      "them)",
		      cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "emergency")),
		      cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "past_sla")),
		      cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "unpatched")),
		      cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "expiring")),
		      cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "drafted")));
}

/* The daily run when it is due (daily_at passed and no run since), or
 * the emergency path after a new snapshot; one node at a time. */
static void policy(struct pw_scheduler *s, pw_db *db, bool emergency)
{
	pw_error e = PW_ERROR_INIT;
	bool due = emergency, got = false;
	int64_t now = pw_window_now();
	/* daily_at turns the server's runs on, the emergency path with them:
	 * a server that does not run the policy drafts no campaign. */
	if (!db || !s->cfg->policy_run.daily_at)
		return;
	pw_err rc = emergency ? PW_OK : pw_policy_run_due(db, &s->cfg->policy_run, now, &due, &e);
	if (!rc && due)
		rc = pw_db_try_lock(db, POLICY_LOCK, &got, &e);
	if (!rc && got && !emergency)
		rc = pw_policy_run_due(db, &s->cfg->policy_run, now, &due, &e);
	cJSON *r = NULL;
	if (!rc && got && due)
		rc = pw_policy_run(db, &s->cfg->policy_run, now, false, emergency, &r, &e);
	if (!rc && r)
		log_policy(s, r);
	cJSON_Delete(r);
	if (rc)
		pw_server_log(s->server, PW_LOG_ERR, "policy: %s run: %s",
			      emergency ? "emergency" : "daily", pw_error_text(&e));
	pw_error e2 = PW_ERROR_INIT;
	if (got)
		pw_db_unlock(db, POLICY_LOCK, &e2);
}

static void recompute_if_new(struct pw_scheduler *s, pw_db **db)
{
	pw_feedstore *store = NULL;
	pw_findings_stats st = {.ran = false};
	pw_error e = PW_ERROR_INIT;
	pw_err rc = open_both(s, db, &store)
			    ? pw_findings_refresh(*db, store, &s->cfg->feeds.policy,
						  "system:scheduler", &st, &e)
			    : PW_OK;
	pw_feedstore_close(store);
	if (rc)
		pw_server_log(s->server, PW_LOG_ERR,
			      "findings: recompute failed (next try in %ld s): %s",
			      s->cfg->feeds.recompute_interval, pw_error_text(&e));
	else if (st.ran) {
		log_run(s, &st);
		/* A snapshot that brings a KEV-listed or emergency finding
		 * drafts its emergency campaign at once. */
		policy(s, *db, true);
	}
}

static void job_deadlines(struct pw_scheduler *s, pw_db **db)
{
	pw_error e = PW_ERROR_INIT;
	if (!*db && pw_db_open(s->cfg->db_url, db, &e)) {
		pw_server_log(s->server, PW_LOG_ERR, "jobs: cannot open the database: %s",
			      pw_error_text(&e));
		return;
	}
	size_t failed = 0;
	if (pw_job_deadlines(*db, "system:scheduler", s->cfg->reboot_timeout, &failed, &e))
		pw_server_log(s->server, PW_LOG_ERR, "jobs: deadlines: %s", pw_error_text(&e));
	else if (failed)
		pw_server_log(s->server, PW_LOG_WARNING,
			      "jobs: %zu jobs failed: a reboot that did not report back or a "
			      "maintenance window that closed (their messages say which)",
			      failed);
}

/* Risk acceptances and countermeasures whose date passed re-open their
 * hosts (campaigns.h), at the cadence of the job deadlines. */
static void campaign_expiry(struct pw_scheduler *s, pw_db *db)
{
	pw_error e = PW_ERROR_INIT;
	size_t reopened = 0;
	if (!db)
		return;
	if (pw_campaign_expire(db, "system:scheduler", pw_window_now(), &reopened, &e))
		pw_server_log(s->server, PW_LOG_ERR, "campaigns: expiry: %s", pw_error_text(&e));
	else if (reopened)
		pw_server_log(s->server, PW_LOG_NOTICE,
			      "campaigns: %zu hosts re-opened: a risk acceptance expired or a "
			      "countermeasure is due for its re-check",
			      reopened);
}

/* The patch driver (campaigns.h) after the deadlines, which fail the
 * jobs it then sees failed. One node at a time drives. */
static void campaign_drive(struct pw_scheduler *s, pw_db **db)
{
	pw_feedstore *store = NULL;
	pw_campaign_drive_stats st;
	pw_error e = PW_ERROR_INIT;
	memset(&st, 0, sizeof st);
	pw_err rc = *db && open_both(s, db, &store)
			    ? pw_campaign_drive(*db, store, &s->cfg->feeds.policy, "system:driver",
						pw_window_now(), &st, &e)
			    : PW_OK;
	pw_feedstore_close(store);
	if (rc)
		pw_server_log(s->server, PW_LOG_ERR, "campaigns: driver: %s", pw_error_text(&e));
	if (st.errors)
		pw_server_log(s->server, PW_LOG_WARNING,
			      "campaigns: driver: %zu hosts' steps failed (tried again next run); "
			      "the first: %s",
			      st.errors, st.first_error);
	if (st.queued || st.outcomes || st.halted)
		pw_server_log(s->server, st.halted ? PW_LOG_WARNING : PW_LOG_INFO,
			      "campaigns: driver: %zu jobs queued, %zu outcomes taken, %zu "
			      "campaigns halted (their tickets say why)",
			      st.queued, st.outcomes, st.halted);
}

static struct timespec earlier(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec) ? a : b;
}

static bool passed(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* Counts a run of `task` begun at t0; returns its end, the next one's
 * start. */
static struct timespec timed(struct pw_scheduler *s, pw_sched_task task, struct timespec t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pw_metrics_scheduler(pw_server_metrics(s->server), task,
			     (double)(t1.tv_sec - t0.tv_sec) +
				     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return t1;
}

/* Computes the findings of hosts whose inventory changed as check-ins
 * report them, and looks for a newer snapshot at once (a server started
 * after an import catches up), then every recompute_interval seconds.
 * Several nodes may look; the lock in pw_findings_refresh lets one of
 * them work. */
static void *scheduler(void *arg)
{
	struct pw_scheduler *s = arg;
	long interval = s->cfg->feeds.recompute_interval;
	pw_db *db = NULL;
	bool look = interval > 0;
	struct timespec next = {0, 0}, next_jobs = {0, 0};
	pthread_mutex_lock(&s->lock);
	while (!s->worker.stopping) {
		int64_t *ids = s->changed;
		size_t n = s->n_changed;
		s->changed = NULL;
		s->n_changed = s->cap_changed = 0;
		pthread_mutex_unlock(&s->lock);
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (n) {
			recompute_changed(s, &db, ids, n);
			t0 = timed(s, PW_SCHED_FINDINGS_CHANGED, t0);
		}
		free(ids);
		if (look) {
			recompute_if_new(s, &db);
			t0 = timed(s, PW_SCHED_FINDINGS_SNAPSHOT, t0);
			clock_gettime(CLOCK_MONOTONIC, &next);
			next.tv_sec += interval;
			look = false;
		}
		if (passed(&next_jobs)) {
			job_deadlines(s, &db);
			campaign_expiry(s, db);
			campaign_drive(s, &db);
			policy(s, db, false);
			timed(s, PW_SCHED_JOB_DEADLINES, t0);
			clock_gettime(CLOCK_MONOTONIC, &next_jobs);
			next_jobs.tv_sec += s->cfg->deadline_interval > 0
						    ? s->cfg->deadline_interval
						    : PW_DEADLINE_INTERVAL_DEFAULT;
		}
		pthread_mutex_lock(&s->lock);
		/* A stream of changed hosts does not put the look off. */
		look = interval > 0 && passed(&next);
		while (!s->worker.stopping && !s->n_changed && !look && !passed(&next_jobs)) {
			struct timespec until = interval > 0 ? earlier(next, next_jobs) : next_jobs;
			if (pthread_cond_timedwait(&s->worker.wake, &s->lock, &until) == ETIMEDOUT)
				look = interval > 0 && passed(&next);
		}
	}
	pthread_mutex_unlock(&s->lock);
	pw_db_close(db);
	return NULL;
}

pw_err pw_scheduler_start(struct pw_scheduler *s, pw_error *err)
{
	return pw_worker_start(&s->worker, scheduler, s, "findings scheduler", err);
}

pw_err pw_scheduler_new(const pw_server_config *cfg, struct pw_server *server,
			struct pw_scheduler **out, pw_error *err)
{
	struct pw_scheduler *s = calloc(1, sizeof *s);
	*out = s;
	if (!s)
		return pw_error_set(err, PW_ERR_NOMEM, "out of memory");
	s->cfg = cfg;
	s->server = server;
	pthread_mutex_init(&s->lock, NULL);
	pw_worker_init(&s->worker, &s->lock);
	atomic_init(&s->store_warned, false);
	atomic_init(&s->unsupported_warned, false);
	return PW_OK;
}

void pw_scheduler_free(struct pw_scheduler *s)
{
	if (!s)
		return;
	/* Waits for a recompute in progress; hosts still waiting are left to
	 * the next snapshot (or their next inventory change). */
	pw_worker_end(&s->worker);
	pthread_mutex_destroy(&s->lock);
	free(s->changed);
	free(s);
}
