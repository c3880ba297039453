/* PLACEHOLDER: replaced by the module's owner. */
#include "cli.h"
#include "commands.h"

const char cmd_inventory_usage[] = "usage: patchwarden inventory\n";

int cmd_inventory(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return pw_cli_fail("inventory", "not built yet");
}
