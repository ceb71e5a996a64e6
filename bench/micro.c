/* Microbenchmarks for bench/run.sh: run one benchmark for a number of
 * iterations and print its cost in nanoseconds per operation.
 *
 *   micro getpid N     syscall(SYS_getpid)
 *   micro read1 N      a 1-byte read(2) of /dev/zero
 *   micro openclose N  open(2) and close(2) of /etc/passwd
 *
 * Built by bench/run.sh with cc -O2, both static and dynamic, and run the
 * same way natively and under each sandbox. Prints one number (ns/op) on
 * stdout; exits 1 with a message on stderr if an operation fails. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("micro: clock_gettime");
		exit(1);
	}
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int zero_fd = -1;

static int op_getpid(void)
{
	return syscall(SYS_getpid) > 0 ? 0 : -1;
}

static int op_read1(void)
{
	char c = 1;

	return (read(zero_fd, &c, 1) == 1 && c == 0) ? 0 : -1;
}

static int op_openclose(void)
{
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	return close(fd);
}

int main(int argc, char **argv)
{
	int (*op)(void);
	long n, i, warm;
	double t0, t1;

	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: micro getpid|read1|openclose ITERATIONS\n");
		return 2;
	}
	if (strcmp(argv[1], "getpid") == 0) {
		op = op_getpid;
	} else if (strcmp(argv[1], "read1") == 0) {
		op = op_read1;
		zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
		if (zero_fd < 0) {
			perror("micro: /dev/zero");
			return 1;
		}
	} else if (strcmp(argv[1], "openclose") == 0) {
		op = op_openclose;
	} else {
		fprintf(stderr, "micro: unknown benchmark %s\n", argv[1]);
		return 2;
	}

	warm = n / 10 + 1;
	for (i = 0; i < warm; i++)
		if (op() != 0)
			goto failed;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (op() != 0)
			goto failed;
	t1 = now_ns();
	printf("%.1f\n", (t1 - t0) / (double)n);
	return 0;

failed:
	perror(argv[1]);
	return 1;
}
