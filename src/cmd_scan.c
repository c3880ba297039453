/* PLACEHOLDER: replaced by the module's owner. */
#include "cli.h"
#include "commands.h"

const char cmd_scan_usage[] = "usage: patchwarden scan\n";

int cmd_scan(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return pw_cli_fail("scan", "not built yet");
}
