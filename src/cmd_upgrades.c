/* `patchwarden upgrades` and `patchwarden host upgrades HOST`: open
 * findings grouped by package upgrade (upgrades.h), one line each, or the
 * records GET /api/v1/upgrades and GET /api/v1/hosts/{id}/upgrades give. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "patchwarden/hosts.h"
#include "patchwarden/upgrades.h"

#define CMD "upgrades"
#define FLEET 1u /* the options only `upgrades` takes */

struct opts {
	pw_host_filter f;
	int64_t min_criticality;
	const char *decommissioned;
	bool json;
};

static struct opts opt = {.f = PW_HOST_FILTER_INIT};

static const struct pw_option options[] = {
	PW_OPT_GROUP("Hosts (upgrades):"),
	PW_CLI_HOST_FILTER_OPTIONS(opt.f, opt.min_criticality, FLEET),
	{.kind = PW_OPT_STRING,
	 .long_name = "decommissioned",
	 .value = &opt.decommissioned,
	 .argh = "false|true|any",
	 .help = "of hosts in service (false, the default),\n"
		 "decommissioned ones (true) or both (any)",
	 .scope = FLEET},
	PW_OPT_GROUP("\nOptions:"),
	{.kind = PW_OPT_FLAG,
	 .long_name = "json",
	 .value = &opt.json,
	 .help = "print the records as a JSON array (GET /api/v1/upgrades,\n"
		 "GET /api/v1/hosts/{id}/upgrades)"},
	PW_OPT_END(),
};

static const char usage_head[] =
	"usage: patchwarden upgrades [FILTERS] [--json]\n"
	"       patchwarden host upgrades HOST [--json]\n"
	"\n"
	"Open findings grouped by package upgrade, the unit an operator patches:\n"
	"the fleet's (each upgrade with how many hosts need it), or one host's.\n"
	"HOST is a hostname, or id:N for host N.\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"One line per upgrade, most urgent first: the package (on Debian and\n"
	"Ubuntu the source package, with the binary packages installed from it:\n"
	"what apt install takes), the version that fixes all its findings (the\n"
	"highest of their fixed versions by dpkg's or rpm's own order), how many\n"
	"advisories and CVEs it fixes, the highest priority among them and the\n"
	"earliest due date. The fleet's upgrades group the hosts' by package and\n"
	"target version. --json prints the records of GET /api/v1/upgrades or\n"
	"GET /api/v1/hosts/{id}/upgrades (docs/records.md, \"fleet upgrade\",\n"
	"\"upgrade\").\n"
	"\n"
	"Exit status: 0 listed (also when there is nothing to upgrade), 2 bad\n"
	"usage, an unknown host or bad data.\n"
	"See patchwarden-upgrades(1).\n";

const struct pw_usage cmd_upgrades_usage = {usage_head, PW_OPT_TABLES(options), usage_tail, NULL};

static cJSON *upgrade_json(const void *u)
{
	return pw_upgrade_to_json(u);
}

/* The line after "upgrade PACKAGE to TARGET[ on N hosts]": the binaries
 * (names, each once) of a source package, then what it fixes. */
static void print_rest(bool by_source, char *const *names, size_t n, size_t n_adv, size_t n_cves,
		       pw_host_prio prio, const char *due, bool kev)
{
	if (by_source) {
		printf(" (");
		for (size_t i = 0; i < n; i++) {
			size_t k = 0;
			while (k < i && strcmp(names[k], names[i]))
				k++;
			if (k == i)
				printf("%s%s", i ? ", " : "", names[i]);
		}
		printf(")");
	}
	printf(": fixes %zu advisor%s, %zu CVE%s, highest priority %s", n_adv,
	       n_adv == 1 ? "y" : "ies", n_cves, n_cves == 1 ? "" : "s", pw_host_prio_name(prio));
	if (due)
		printf(", due %s", due);
	if (kev)
		printf(", in CISA KEV");
	printf("\n");
}

static void print_line(const void *item)
{
	const pw_upgrade *u = item;
	char **names = u->n_binaries ? calloc(u->n_binaries, sizeof *names) : NULL;
	size_t n = names ? u->n_binaries : 0; /* out of memory: no names */
	for (size_t i = 0; i < n; i++)
		names[i] = u->binaries[i].name;
	printf("upgrade %s to %s", u->package, u->target);
	print_rest(u->by_source, names, n, u->n_advisories, u->n_cves, u->highest_priority,
		   u->earliest_due, u->kev);
	free(names);
}

/* The n records at v (each `size` bytes) as --json asks: the JSON array,
 * or a line each. */
static int print_list(const char *cmd, const void *v, size_t n, size_t size,
		      cJSON *(*to_json)(const void *), void (*line)(const void *))
{
	int out = PW_EXIT_OK;
	if (opt.json)
		out = pw_cli_print_json_array(cmd, v, n, size, to_json);
	else
		for (size_t i = 0; i < n; i++)
			line((const char *)v + i * size);
	return pw_cli_finish(cmd, out);
}

int cmd_upgrades_host(int argc, char **argv, struct pw_setup *setup)
{
	const char *cmd = "host";
	int nargs = pw_cli_parse(cmd, setup, argc, argv, PW_OPT_TABLES(options), ~FLEET);
	if (nargs < 0)
		return PW_EXIT_ERROR;
	if (nargs != 1)
		return pw_cli_usage_error(cmd, "host upgrades takes one HOST");
	pw_db *db = pw_cli_db(cmd, setup);
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
		return pw_cli_fail_err(cmd, &err);
	}
	int out = print_list(cmd, l.v, l.n, sizeof *l.v, upgrade_json, print_line);
	pw_upgrade_list_release(&l);
	return out;
}

static cJSON *fleet_upgrade_json(const void *u)
{
	return pw_fleet_upgrade_to_json(u);
}

static void print_fleet_line(const void *item)
{
	const pw_fleet_upgrade *u = item;
	printf("upgrade %s to %s on %" PRId64 " host%s", u->package, u->target, u->hosts,
	       u->hosts == 1 ? "" : "s");
	print_rest(u->by_source, u->binaries, u->n_binaries, u->n_advisories, u->n_cves,
		   u->highest_priority, u->earliest_due, u->kev);
}

int cmd_upgrades(int argc, char **argv, struct pw_setup *setup)
{
	int nargs = pw_cli_parse(CMD, setup, argc, argv, PW_OPT_TABLES(options), FLEET);
	if (nargs < 0)
		return PW_EXIT_ERROR;
	if (nargs)
		return pw_cli_usage_error(CMD, "upgrades takes no arguments (filters are options)");
	struct opts o = opt;
	o.f.min_criticality = (int)opt.min_criticality;
	if (o.decommissioned && !pw_host_decom_parse(o.decommissioned, &o.f.decom))
		return pw_cli_usage_error(CMD, "--decommissioned takes false, true or any");
	pw_db *db = pw_cli_db(CMD, setup);
	if (!db)
		return PW_EXIT_ERROR;
	pw_error err = PW_ERROR_INIT;
	pw_fleet_upgrade_list l = PW_FLEET_UPGRADE_LIST_INIT;
	if (pw_fleet_upgrades(db, &o.f, &l, &err)) {
		pw_fleet_upgrade_list_release(&l);
		return pw_cli_fail_err(CMD, &err);
	}
	int out = print_list(CMD, l.v, l.n, sizeof *l.v, fleet_upgrade_json, print_fleet_line);
	pw_fleet_upgrade_list_release(&l);
	return out;
}
