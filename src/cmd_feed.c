/* PLACEHOLDER: replaced by the module's owner. Until then it only
 * dispatches `feed sync` and `feed bundle`. */
#include <string.h>

#include "cli.h"
#include "commands.h"

const char cmd_feed_usage[] =
	"usage: patchwarden feed sync [--config FILE] [--store FILE] [--source NAME]... [--json]\n"
	"       patchwarden feed bundle keygen|create|verify|import ...\n";

int cmd_feed(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "sync") == 0)
		return cmd_feed_sync(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "bundle") == 0)
		return cmd_feed_bundle(argc - 1, argv + 1);
	return pw_cli_fail("feed", "not built yet");
}
