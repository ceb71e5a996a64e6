/* ward: a userspace kernel for Linux/x86-64 programs. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: ward COMMAND [OPTIONS]\n"
		     "\n"
		     "Commands:\n"
		     "  do [OPTIONS] -- PROGRAM [ARGS...]   run PROGRAM in a new sandbox\n"
		     "  help                                this text\n"
		     "  version                             the version\n"
		     "\n"
		     "Run 'ward do --help' for the options of 'do'.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return WARD_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "do") == 0)
		return ward_cmd_do(argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("ward %s\n", PACKAGE_VERSION);
		return 0;
	}
	fprintf(stderr, "ward: unknown command '%s' (try 'ward help')\n", cmd);
	return WARD_EXIT_USAGE;
}
