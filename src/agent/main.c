/* patchwarden-agent: `patchwarden agent` as an executable of its own, for
 * the daemon on every host. It is linked (--as-needed) only with what the
 * agent uses, so the process does not map, relocate and initialise the
 * server's and the feed tools' libraries (libpq, libmicrohttpd and GnuTLS,
 * libarchive with libxml2 and ICU, libyaml): see "Agent memory" in
 * docs/benchmarks.md. Same actions, options and exit codes. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const struct pw_cmd agent = {"agent", cmd_agent,
				    "enroll this host and check in with the server",
				    &cmd_agent_usage, PW_SETUP_CONFIG};

/* cli.c looks usage texts up here; this executable has one command. */
const struct pw_cmd *pw_cli_find(const char *name)
{
	return strcmp(name, agent.name) == 0 ? &agent : NULL;
}

int main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
		printf("patchwarden %s\n", PW_VERSION);
		return PW_EXIT_OK;
	}
	if (pw_cli_wants_help(argc, argv)) {
		pw_cli_print_usage(agent.name, stdout);
		return PW_EXIT_OK;
	}
	struct pw_setup setup = {.flags = agent.setup};
	int rc = cmd_agent(argc, argv, &setup);
	pw_cli_setup_release(&setup);
	return rc;
}
