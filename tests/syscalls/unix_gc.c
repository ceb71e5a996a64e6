/* In-flight AF_UNIX sockets that nothing outside flight can reach are
 * collected: a stream socket sent over its own connection into its own
 * queue and closed is freed once another socket is closed, and its peer
 * then reads end-of-file; a cycle of two sockets each holding the other
 * goes the same way; a socket in flight that an fd still names is kept,
 * and can be received. Thousands of such cycles stay under the in-flight
 * limit of an unprivileged user, since each is collected. */
#include "ward_test.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

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

/* Closes a throwaway socket: Linux collects on a close. */
static void kick(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	close(s);
}

/* Linux collects in a worker: gives it time to catch up. */
static int send_retry(int s, int fd)
{
	int r;
	for (int tries = 0; (r = sendfd(s, fd)) < 0 && errno == ETOOMANYREFS && tries < 200; tries++) {
		kick();
		usleep(5000);
	}
	return r;
}

/* Reads a's end: 0 once its peer is gone, or -1 (EAGAIN) after 3 s. */
static int read_eof(int a)
{
	struct timeval tv = { 3, 0 };
	char buf[8];
	setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return (int)recv(a, buf, sizeof(buf), 0);
}

int main(void)
{
	int sv[2];
	/* b sent over a into b's own queue, then closed: garbage. */
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(sendfd(sv[0], sv[1]), 1);
	CHECK_OK(close(sv[1]));
	kick();
	CHECK_EQ(read_eof(sv[0]), 0);
	close(sv[0]);

	/* Two connections, each end holding the other's: a cycle. */
	int p[2], q[2];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, q));
	CHECK_EQ(sendfd(p[0], q[1]), 1); /* q[1] in p[1]'s queue */
	CHECK_EQ(sendfd(q[0], p[1]), 1); /* p[1] in q[1]'s queue */
	CHECK_OK(close(p[1]));
	CHECK_OK(close(q[1]));
	kick();
	CHECK_EQ(read_eof(p[0]), 0);
	CHECK_EQ(read_eof(q[0]), 0);
	close(p[0]);
	close(q[0]);

	/* Still named by an fd: kept, and it can be received. */
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	int keep = CHECK_OK(dup(sv[1]));
	CHECK_EQ(sendfd(sv[0], sv[1]), 1);
	CHECK_OK(close(sv[1]));
	kick();
	char c;
	struct iovec io = { &c, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { 0 };
	m.msg_iov = &io;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	CHECK_EQ(recvmsg(keep, &m, MSG_DONTWAIT), 1);
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	CHECK(h && h->cmsg_type == SCM_RIGHTS);
	if (h) {
		int got;
		memcpy(&got, CMSG_DATA(h), sizeof(got));
		CHECK_EQ(write(got, "z", 1), 1);
		CHECK_EQ(recv(sv[0], &c, 1, MSG_DONTWAIT), 1);
		close(got);
	}
	close(keep);
	close(sv[0]);

	/* Many self-cycles, unprivileged under a small file limit: the
	 * in-flight count would pass the limit (ETOOMANYREFS) unless the
	 * cycles were collected. */
	struct rlimit rl = { 64, 64 };
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
	CHECK_OK(setgid(65534));
	CHECK_OK(setuid(65534));
	int fails = 0;
	for (int i = 0; i < 1000 && fails < 5; i++) {
		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) {
			kick();
			fails++;
			continue;
		}
		int r = send_retry(sv[0], sv[1]);
		if (r == 1)
			r = send_retry(sv[1], sv[0]);
		if (r != 1) {
			fprintf(stderr, "cycle %d: %s\n", i, strerror(errno));
			fails++;
		}
		close(sv[0]);
		close(sv[1]);
	}
	CHECK_EQ(fails, 0);
	return test_done();
}
