/* `patchwarden host upgrades HOST`: a host's open findings grouped by
 * package upgrade (upgrades.h), one line each, or the records
 * GET /api/v1/hosts/{id}/upgrades gives. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/hosts.h"
#include "patchwarden/upgrades.h"

#define CMD "host"

static bool opt_json;

static const struct pw_option options[] = {
	PW_OPT_GROUP("Options:"),
	{.kind = PW_OPT_FLAG,
	 .long_name = "json",
	 .value = &opt_json,
	 .help = "print the records as a JSON array (GET /api/v1/hosts/{id}/upgrades)"},
	PW_OPT_END(),
};

static cJSON *upgrade_json(const void *u)
{
	return pw_upgrade_to_json(u);
}

static void print_line(const pw_upgrade *u)
{
	printf("upgrade %s to %s", u->package, u->target);
	if (u->by_source) {
		printf(" (");
		for (size_t i = 0; i < u->n_binaries; i++) {
			/* each name once: two versions (architectures) of one */
			size_t k = 0;
			while (k < i && strcmp(u->binaries[k].name, u->binaries[i].name))
				k++;
			if (k == i)
				printf("%s%s", i ? ", " : "", u->binaries[i].name);
		}
		printf(")");
	}
	printf(": fixes %zu advisor%s, %zu CVE%s, highest priority %s", u->n_advisories,
	       u->n_advisories == 1 ? "y" : "ies", u->n_cves, u->n_cves == 1 ? "" : "s",
	       pw_host_prio_name(u->highest_priority));
	if (u->earliest_due)
		printf(", due %s", u->earliest_due);
	if (u->kev)
		printf(", in CISA KEV");
	printf("\n");
}

int cmd_upgrades_host(int argc, char **argv, struct pw_setup *setup)
{
	int nargs = pw_cli_parse(CMD, setup, argc, argv, PW_OPT_TABLES(options), 0);
	if (nargs < 0)
		return PW_EXIT_ERROR;
	if (nargs != 1)
		return pw_cli_usage_error(CMD, "host upgrades takes one HOST");
	pw_db *db = pw_cli_db(CMD, setup);
	if (!db)
		return PW_EXIT_ERROR;
	pw_error err = PW_ERROR_INIT;
	pw_host h = PW_HOST_INIT;
	pw_upgrade_list l = PW_UPGRADE_LIST_INIT;
	pw_err rc = pw_host_get_by_name(db, argv[0], &h, &err);
	if (!rc)
		rc = pw_host_upgrades(db, h.id, &l, &err);
	pw_host_release(&h);
	if (rc) {
		pw_upgrade_list_release(&l);
		return pw_cli_fail_err(CMD, &err);
	}
	int out = PW_EXIT_OK;
	if (opt_json)
		out = pw_cli_print_json_array(CMD, l.v, l.n, sizeof *l.v, upgrade_json);
	else
		for (size_t i = 0; i < l.n; i++)
			print_line(&l.v[i]);
	pw_upgrade_list_release(&l);
	return pw_cli_finish(CMD, out);
}
