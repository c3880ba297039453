/* Subcommand entry points and their usage texts (with their option
 * tables), one pair per src/cmd_<name>.c. */
#ifndef PATCHWARDEN_COMMANDS_H
#define PATCHWARDEN_COMMANDS_H

#include "cli.h"

#define PW_DECLARE_CMD(name)                                                                       \
	int cmd_##name(int argc, char **argv, struct pw_setup *setup);                             \
	extern const struct pw_usage cmd_##name##_usage

PW_DECLARE_CMD(advisory);
PW_DECLARE_CMD(agent);
PW_DECLARE_CMD(audit);
PW_DECLARE_CMD(campaign);
PW_DECLARE_CMD(policy);
PW_DECLARE_CMD(report);
PW_DECLARE_CMD(cve);
PW_DECLARE_CMD(db);
PW_DECLARE_CMD(feed);
PW_DECLARE_CMD(findings);
PW_DECLARE_CMD(host);
PW_DECLARE_CMD(inventory);
PW_DECLARE_CMD(scan);
PW_DECLARE_CMD(server);
PW_DECLARE_CMD(summary);
PW_DECLARE_CMD(ticket);
PW_DECLARE_CMD(upgrades);
PW_DECLARE_CMD(user);
PW_DECLARE_CMD(vercmp);

/* `host findings HOST`: cmd_findings.c for one host (argv[0] "findings"). */
int cmd_findings_host(int argc, char **argv, struct pw_setup *setup);
/* `host upgrades HOST`: cmd_upgrades.c (argv[0] "upgrades"). */
int cmd_upgrades_host(int argc, char **argv, struct pw_setup *setup);

/* `feed sync` and `feed bundle` live in their own files; cmd_feed.c
 * dispatches to them. */
int cmd_feed_sync(int argc, char **argv, struct pw_setup *setup);
int cmd_feed_bundle(int argc, char **argv, struct pw_setup *setup);
/* Their option tables, for the usage text of `feed`. */
extern const struct pw_option cmd_feed_sync_options[];
extern const struct pw_option cmd_feed_bundle_options[];

#endif
