/* Records a patch-driver job outcome into a campaign for the test
 * scripts (tests/scripts/campaign_flows.sh), through the call the driver
 * will make (pw_campaign_job_outcome, campaigns.h): the driver that
 * queues the jobs is not written yet.
 *
 * usage: campaign_outcome DB_URL CAMPAIGN HOST OUTCOME [JOB]
 * OUTCOME: backup-check-passed, pre-scan-done, patch-done, patch-failed,
 * post-scan-clean, post-scan-vulnerable, health-failed. The time is
 * pw_window_now() (PATCHWARDEN_TEST_NOW in a test build). Exit 0 when
 * recorded, 1 refused (the message on stderr), 2 bad usage. */
#include <stdio.h>
#include <stdlib.h>

#include "patchwarden/campaigns.h"
#include "patchwarden/hosts.h"
#include "patchwarden/window.h"

int main(int argc, char **argv)
{
	pw_campaign_action a;
	if ((argc != 5 && argc != 6) || !pw_campaign_action_parse(argv[4], &a)) {
		fprintf(stderr, "usage: campaign_outcome DB_URL CAMPAIGN HOST OUTCOME [JOB]\n");
		return 2;
	}
	pw_db *db = NULL;
	pw_error e = PW_ERROR_INIT;
	pw_host h = PW_HOST_INIT;
	int64_t job = argc == 6 ? strtoll(argv[5], NULL, 10) : 0;
	pw_err rc = pw_db_open(argv[1], &db, &e);
	if (!rc)
		rc = pw_host_get_by_name(db, argv[3], &h, &e);
	if (!rc)
		rc = pw_campaign_job_outcome(db, "system:driver", strtoll(argv[2], NULL, 10), h.id,
					     a, job, pw_window_now(), &e);
	pw_host_release(&h);
	pw_db_close(db);
	if (rc)
		fprintf(stderr, "campaign_outcome: %s\n", pw_error_text(&e));
	return rc ? 1 : 0;
}
