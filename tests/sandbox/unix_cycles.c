/* Makes N socketpairs, sends each end over itself (SCM_RIGHTS) and closes
 * both: every pair is garbage in flight that only the collector frees.
 * Prints "half" after N/10 pairs and "done" at the end, sleeping 2 s after
 * each so that the sentry's memory can be sampled. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int sendfd(int s, int fd)
{
	char c = 'x';
	struct iovec io = { &c, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr m = { 0 };
	m.msg_iov = &io;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(fd));
	return (int)sendmsg(s, &m, 0);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	for (long i = 0; i < n; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0 || sendfd(sv[0], sv[1]) != 1 ||
		    sendfd(sv[1], sv[0]) != 1) {
			perror("cycle");
			return 1;
		}
		close(sv[0]);
		close(sv[1]);
		if (i + 1 == n / 10 || i + 1 == n) {
			printf("%s\n", i + 1 == n ? "done" : "half");
			fflush(stdout);
			sleep(2);
		}
	}
	return 0;
}
