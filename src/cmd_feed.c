/* PLACEHOLDER: replaced by the module's owner. */
#include "cli.h"
#include "commands.h"

const char cmd_feed_usage[] = "usage: patchwarden feed\n";

int cmd_feed(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return pw_cli_fail("feed", "not built yet");
}

/* PLACEHOLDER until the sync/bundle owner lands. */
int cmd_feed_sync(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return pw_cli_fail("feed sync", "not built yet");
}

int cmd_feed_bundle(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return pw_cli_fail("feed bundle", "not built yet");
}
