/* Runs one package-manager backend (pkgmgr.h) on a root, for the test
 * scripts: the request from the command line, the result as lines.
 *
 *   pkgmgr_drive BACKEND ROOT KIND [--allow-remove] [--all-security]
 *                [--at-least] [--bin-dir DIR] [--log FILE] NAME[=VERSION]...
 *
 * KIND is a job kind (simulate, patch, hold, unhold, rollback), or
 * db_state for the backend's db_state() alone ("db_state STATE" and a
 * "detail" line). Prints
 * status, exit, resolves, needs_reboot, db_state, seconds, message and one
 * "change ACTION NAME BEFORE AFTER ok|failed" line a change ("-" for an
 * empty version). Exit 0 when the backend said what happened, 2 when it
 * could not run at all. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patchwarden/pkgmgr.h"

static const char *status_name(pw_exec_status s)
{
	return s == PW_EXEC_DONE ? "done" : s == PW_EXEC_FAILED ? "failed" : "refused";
}

static const char *or_dash(const char *s)
{
	return s[0] ? s : "-";
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr,
			"usage: pkgmgr_drive BACKEND ROOT KIND [options] NAME[=VERSION]...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	const pw_pkgmgr *pm = pw_pkgmgr_find(argv[1]);
	pw_exec_request *req = calloc(1, sizeof *req);
	if (!pm || !req) {
		fprintf(stderr, "pkgmgr_drive: no backend '%s'\n", argv[1]);
		return 2;
	}
	pw_pkgmgr_ctx ctx = {.root = argv[2], .timeout_s = 600};
	if (!strcmp(argv[3], "db_state")) {
		pw_buf detail = PW_BUF_INIT;
		pw_pkgdb_state st = pm->db_state(&ctx, &detail);
		printf("db_state %s\ndetail %s\n", pw_pkgdb_state_name(st), pw_buf_str(&detail));
		pw_buf_release(&detail);
		free(req);
		return 0;
	}
	req->kind = pw_exec_kind_from_name(argv[3]);
	const char *log = NULL;
	bool at_least = false;
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--allow-remove")) {
			req->flags |= PW_EXEC_ALLOW_REMOVE;
		} else if (!strcmp(argv[i], "--all-security")) {
			req->flags |= PW_EXEC_ALL_SECURITY;
		} else if (!strcmp(argv[i], "--at-least")) {
			at_least = true;
		} else if (!strcmp(argv[i], "--bin-dir") && i + 1 < argc) {
			ctx.bin_dir = argv[++i];
		} else if (!strcmp(argv[i], "--log") && i + 1 < argc) {
			log = argv[++i];
		} else if (req->n_packages < PW_EXEC_MAX_PACKAGES) {
			pw_exec_package *p = &req->packages[req->n_packages++];
			const char *eq = strchr(argv[i], '=');
			size_t n = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
			snprintf(p->name, sizeof p->name, "%.*s", (int)n, argv[i]);
			snprintf(p->version, sizeof p->version, "%s", eq ? eq + 1 : "");
			p->at_least = at_least;
		}
	}
	pw_exec_result res;
	pw_exec_result_init(&res);
	pw_error err = PW_ERROR_INIT;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pw_err rc = pm->run(&ctx, req, &res, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc) {
		fprintf(stderr, "pkgmgr_drive: %s\n", pw_error_text(&err));
		return 2;
	}
	printf("status %s\nexit %d\nresolves %s\nneeds_reboot %s\ndb_state %s\nseconds %.2f\n",
	       status_name(res.status), res.exit_code, res.resolves ? "yes" : "no",
	       res.needs_reboot ? "yes" : "no", pw_pkgdb_state_name(res.db_state),
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("message %s\n", res.message);
	for (size_t i = 0; i < res.n_changes; i++) {
		const pw_exec_change *c = &res.changes[i];
		printf("change %s %s %s %s %s\n", pw_change_action_name(c->action), c->name,
		       or_dash(c->before), or_dash(c->after), c->ok ? "ok" : "failed");
	}
	if (log) {
		FILE *f = fopen(log, "w");
		if (f) {
			fwrite(pw_buf_str(&res.log), 1, res.log.len, f);
			fclose(f);
		}
	}
	pw_exec_result_release(&res);
	free(req);
	return 0;
}
