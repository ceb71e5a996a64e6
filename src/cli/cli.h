/* The ward command line. */
#ifndef WARD_CLI_H
#define WARD_CLI_H

/* Exit codes of ward itself, as shells and container runtimes use them. */
#define WARD_EXIT_USAGE 2 /* a bad command line */
#define WARD_EXIT_SETUP 125 /* ward could not set the sandbox up */
#define WARD_EXIT_CANNOT_EXEC 126 /* PROGRAM is not executable */
#define WARD_EXIT_NOT_FOUND 127 /* PROGRAM does not exist */

int ward_cmd_do(int argc, char **argv);

#endif
