/* PLACEHOLDER: replaced by the module's owner. */
#include "cli.h"
#include "commands.h"

const char cmd_vercmp_usage[] = "usage: patchwarden vercmp\n";

int cmd_vercmp(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return pw_cli_fail("vercmp", "not built yet");
}
