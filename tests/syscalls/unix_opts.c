/* AF_UNIX generic socket options (sock_setsockopt/sock_getsockopt): the
 * boolean flags, SO_REUSEPORT (inet only), SO_LINGER, SO_PRIORITY,
 * SO_RCVLOWAT (a stream read waits for that much), SO_SNDLOWAT, SO_MARK,
 * SO_*BUFFORCE and SO_DEBUG without privilege, SO_RCVTIMEO/SO_SNDTIMEO
 * (layouts, EDOM, timeouts of recv, send, accept and connect with EAGAIN,
 * a negative time meaning no wait), SO_PEEK_OFF with MSG_PEEK on stream
 * and datagram sockets, SO_TIMESTAMP(NS) on streams, and the in-flight
 * descriptor limit (ETOOMANYREFS above RLIMIT_NOFILE for an unprivileged
 * sender, lifted when the files are received). */
#include "ward_test.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

static int geti(int fd, int name)
{
	int v = -77;
	socklen_t l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, name, &v, &l) != 0 || l != sizeof(v))
		return -99;
	return v;
}

static int seti(int fd, int name, int v)
{
	return setsockopt(fd, SOL_SOCKET, name, &v, sizeof(v));
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sendfds(int s, int fd, int n)
{
	char c = 'x';
	struct iovec io = { &c, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr m = { 0 };
	m.msg_iov = &io;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
	for (int i = 0; i < n; i++)
		((int *)CMSG_DATA(h))[i] = fd;
	return (int)sendmsg(s, &m, 0);
}

/* Receives one message and closes the files it carried. */
static int recvfds(int s)
{
	char c;
	struct iovec io = { &c, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct msghdr m = { 0 };
	m.msg_iov = &io;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	int r = (int)recvmsg(s, &m, 0);
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); r >= 0 && h; h = CMSG_NXTHDR(&m, h))
		for (size_t i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
			close(((int *)CMSG_DATA(h))[i]);
	return r;
}

static void flags_and_values(int type)
{
	int sv[2];
	CHECK_OK(socketpair(AF_UNIX, type, 0, sv));
	int fd = sv[0];
	static const int bools[] = {
		SO_REUSEADDR, SO_DONTROUTE, SO_BROADCAST, SO_KEEPALIVE, SO_OOBINLINE, SO_NO_CHECK
	};
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		CHECK_EQ(geti(fd, bools[i]), 0);
		CHECK_OK(seti(fd, bools[i], 5));
		CHECK_EQ(geti(fd, bools[i]), 1);
		CHECK_OK(seti(fd, bools[i], 0));
		CHECK_EQ(geti(fd, bools[i]), 0);
	}
	CHECK_ERRNO(seti(fd, SO_REUSEPORT, 1), EOPNOTSUPP);
	CHECK_OK(seti(fd, SO_REUSEPORT, 0));
	CHECK_EQ(geti(fd, SO_REUSEPORT), 0);
	CHECK_OK(seti(fd, SO_BSDCOMPAT, 1));
	CHECK_EQ(geti(fd, SO_BSDCOMPAT), 0);
	CHECK_OK(seti(fd, SO_PRIORITY, 6));
	CHECK_EQ(geti(fd, SO_PRIORITY), 6);
	CHECK_EQ(geti(fd, SO_RCVLOWAT), 1);
	CHECK_OK(seti(fd, SO_RCVLOWAT, 0));
	CHECK_EQ(geti(fd, SO_RCVLOWAT), 1);
	CHECK_OK(seti(fd, SO_RCVLOWAT, -1));
	CHECK_EQ(geti(fd, SO_RCVLOWAT), 2147483647);
	CHECK_OK(seti(fd, SO_RCVLOWAT, 1));
	CHECK_ERRNO(seti(fd, SO_SNDLOWAT, 5), ENOPROTOOPT);
	CHECK_EQ(geti(fd, SO_SNDLOWAT), 1);
	CHECK_EQ(geti(fd, SO_PEEK_OFF), -1);
	CHECK_OK(seti(fd, SO_PEEK_OFF, -5));
	CHECK_EQ(geti(fd, SO_PEEK_OFF), -5);
	CHECK_ERRNO(seti(fd, 999, 1), ENOPROTOOPT);
	CHECK_ERRNO(seti(fd, SO_KEEPALIVE + 1000, 1), ENOPROTOOPT);
	int v = 1;
	CHECK_ERRNO(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, 2), EINVAL);
	CHECK_ERRNO(setsockopt(fd, SOL_SOCKET + 1, SO_KEEPALIVE, &v, sizeof(v)), EOPNOTSUPP);
	socklen_t l = 2;
	v = 0;
	CHECK_OK(seti(fd, SO_KEEPALIVE, 1));
	CHECK_OK(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, &l));
	CHECK_EQ(l, 2);
	CHECK_EQ(v, 1);

	/* SO_LINGER: the time is kept when it is turned off. */
	struct linger lg = { 1, 7 }, got;
	CHECK_OK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	l = sizeof(got);
	CHECK_OK(getsockopt(fd, SOL_SOCKET, SO_LINGER, &got, &l));
	CHECK_EQ(l, sizeof(got));
	CHECK_EQ(got.l_onoff, 1);
	CHECK_EQ(got.l_linger, 7);
	CHECK_ERRNO(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, 4), EINVAL);
	lg.l_onoff = 0;
	lg.l_linger = 3;
	CHECK_OK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	l = sizeof(got);
	CHECK_OK(getsockopt(fd, SOL_SOCKET, SO_LINGER, &got, &l));
	CHECK_EQ(got.l_onoff, 0);
	CHECK_EQ(got.l_linger, 7);

	/* Timeouts: layouts and errors. */
	struct timeval tv = { 1, 1000000 }, tg;
	CHECK_ERRNO(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), EDOM);
	tv.tv_usec = -1;
	CHECK_ERRNO(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), EDOM);
	tv.tv_sec = 2;
	tv.tv_usec = 500000;
	CHECK_ERRNO(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, 8), EINVAL);
	CHECK_OK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	l = sizeof(tg);
	CHECK_OK(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tg, &l));
	CHECK_EQ(l, sizeof(tg));
	CHECK_EQ(tg.tv_sec, 2);
	CHECK_EQ(tg.tv_usec, 500000);
	long long nt[2] = { 0, 0 };
	l = 8;
	CHECK_OK(getsockopt(fd, SOL_SOCKET, 66 /* SO_RCVTIMEO_NEW */, nt, &l));
	CHECK_EQ(l, 8);
	CHECK_EQ(nt[0], 2);
	nt[0] = 0;
	nt[1] = 100000;
	CHECK_OK(setsockopt(fd, SOL_SOCKET, 67 /* SO_SNDTIMEO_NEW */, nt, sizeof(nt)));
	l = sizeof(tg);
	CHECK_OK(getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tg, &l));
	CHECK_EQ(tg.tv_sec, 0);
	CHECK_EQ(tg.tv_usec, 100000);

	/* Timestamps: accepted on a stream (its reads carry none). */
	if (type == SOCK_STREAM) {
		CHECK_OK(seti(fd, SO_TIMESTAMP, 1));
		CHECK_EQ(geti(fd, SO_TIMESTAMP), 1);
		CHECK_OK(seti(fd, SO_TIMESTAMPNS, 1));
		CHECK_EQ(geti(fd, SO_TIMESTAMP), 0);
		CHECK_EQ(geti(fd, SO_TIMESTAMPNS), 1);
		CHECK_OK(seti(fd, SO_TIMESTAMPNS, 0));
		CHECK_EQ(geti(fd, SO_TIMESTAMPNS), 0);
	}
	CHECK_OK(seti(fd, SO_TIMESTAMP, 0));
	CHECK_EQ(geti(fd, SO_TIMESTAMP), 0);
	close(sv[0]);
	close(sv[1]);
}

static void timeouts(void)
{
	int sv[2];
	char buf[64];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	struct timeval tv = { 0, 200000 };
	CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	double t0 = now();
	CHECK_ERRNO(recv(sv[0], buf, sizeof(buf), 0), EAGAIN);
	double dt = now() - t0;
	CHECK(dt > 0.15 && dt < 3);
	/* A negative time: no wait at all. */
	tv.tv_sec = -1;
	CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	t0 = now();
	CHECK_ERRNO(recv(sv[0], buf, sizeof(buf), 0), EAGAIN);
	CHECK(now() - t0 < 0.1);
	/* send: fill the peer, then time out. */
	tv.tv_sec = 0;
	tv.tv_usec = 200000;
	CHECK_OK(setsockopt(sv[1], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	CHECK_OK(fcntl(sv[1], F_SETFL, O_NONBLOCK));
	static char big[65536];
	while (send(sv[1], big, sizeof(big), 0) > 0)
		;
	CHECK_OK(fcntl(sv[1], F_SETFL, 0));
	t0 = now();
	CHECK_ERRNO(send(sv[1], big, sizeof(big), 0), EAGAIN);
	dt = now() - t0;
	CHECK(dt > 0.15 && dt < 3);
	close(sv[0]);
	close(sv[1]);

	/* accept, and connect to a full backlog. */
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "ward-unixopts-%d", (int)getpid());
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a.sun_path + 1));
	CHECK_OK(bind(l, (struct sockaddr *)&a, alen));
	CHECK_OK(listen(l, 0));
	CHECK_OK(setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	t0 = now();
	CHECK_ERRNO(accept(l, NULL, NULL), EAGAIN);
	dt = now() - t0;
	CHECK(dt > 0.15 && dt < 3);
	int c1 = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_OK(connect(c1, (struct sockaddr *)&a, alen));
	int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_OK(setsockopt(c2, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	t0 = now();
	int r = connect(c2, (struct sockaddr *)&a, alen);
	int e = errno;
	dt = now() - t0;
	if (r == 0) {
		/* Linux admits backlog + 1. */
		int c3 = socket(AF_UNIX, SOCK_STREAM, 0);
		CHECK_OK(setsockopt(c3, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
		t0 = now();
		CHECK_ERRNO(connect(c3, (struct sockaddr *)&a, alen), EAGAIN);
		dt = now() - t0;
		close(c3);
	} else {
		CHECK_EQ(e, EAGAIN);
	}
	CHECK(dt > 0.15 && dt < 3);
	close(c1);
	close(c2);
	close(l);
}

static void lowat(void)
{
	int sv[2];
	char buf[64];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_OK(seti(sv[0], SO_RCVLOWAT, 5));
	struct timeval tv = { 0, 200000 };
	CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	CHECK_EQ(send(sv[1], "abc", 3, 0), 3);
	/* Fewer bytes than the mark: the read waits, then gives what came. */
	CHECK_EQ(recv(sv[0], buf, sizeof(buf), 0), 3);
	CHECK_EQ(send(sv[1], "abcdefg", 7, 0), 7);
	CHECK_EQ(recv(sv[0], buf, sizeof(buf), 0), 7);
	pid_t p = fork();
	if (p == 0) {
		usleep(50000);
		send(sv[1], "ab", 2, 0);
		usleep(50000);
		send(sv[1], "cdef", 4, 0);
		_exit(0);
	}
	tv.tv_sec = 5;
	CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	CHECK_EQ(recv(sv[0], buf, sizeof(buf), 0), 6);
	waitpid(p, NULL, 0);
	close(sv[0]);
	close(sv[1]);
}

static void peek_off(void)
{
	int sv[2];
	char buf[64];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(send(sv[1], "abcdef", 6, 0), 6);
	CHECK_EQ(send(sv[1], "ghij", 4, 0), 4);
	CHECK_OK(seti(sv[0], SO_PEEK_OFF, 2));
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv(sv[0], buf, 3, MSG_PEEK), 3);
	CHECK_STREQ(buf, "cde");
	CHECK_EQ(geti(sv[0], SO_PEEK_OFF), 5);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv(sv[0], buf, sizeof(buf), MSG_PEEK), 5);
	CHECK_STREQ(buf, "fghij");
	CHECK_EQ(geti(sv[0], SO_PEEK_OFF), 10);
	CHECK_ERRNO(recv(sv[0], buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT), EAGAIN);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv(sv[0], buf, 4, 0), 4);
	CHECK_STREQ(buf, "abcd");
	CHECK_EQ(geti(sv[0], SO_PEEK_OFF), 6);
	CHECK_OK(seti(sv[0], SO_PEEK_OFF, 1));
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv(sv[0], buf, sizeof(buf), MSG_PEEK), 5);
	CHECK_STREQ(buf, "fghij");
	CHECK_EQ(recv(sv[0], buf, sizeof(buf), 0), 6);
	CHECK_EQ(geti(sv[0], SO_PEEK_OFF), 0);
	close(sv[0]);
	close(sv[1]);

	CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	CHECK_EQ(send(sv[1], "abcdef", 6, 0), 6);
	CHECK_EQ(send(sv[1], "ghij", 4, 0), 4);
	CHECK_OK(seti(sv[0], SO_PEEK_OFF, 2));
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv(sv[0], buf, sizeof(buf), MSG_PEEK), 4);
	CHECK_STREQ(buf, "cdef");
	CHECK_EQ(geti(sv[0], SO_PEEK_OFF), 6);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv(sv[0], buf, sizeof(buf), MSG_PEEK), 4);
	CHECK_STREQ(buf, "ghij");
	CHECK_EQ(geti(sv[0], SO_PEEK_OFF), 10);
	CHECK_ERRNO(recv(sv[0], buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT), EAGAIN);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(recv(sv[0], buf, sizeof(buf), 0), 6);
	CHECK_STREQ(buf, "abcdef");
	CHECK_EQ(geti(sv[0], SO_PEEK_OFF), 4);
	close(sv[0]);
	close(sv[1]);
}

/* Unprivileged: what needs a capability, and the in-flight limit. */
static void unprivileged(void)
{
	pid_t p = fork();
	if (p == 0) {
		struct rlimit rl = { 10, 10 };
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		int sv[2];
		CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
		CHECK_ERRNO(seti(sv[0], SO_DEBUG, 1), EACCES);
		CHECK_OK(seti(sv[0], SO_DEBUG, 0));
		CHECK_ERRNO(seti(sv[0], SO_PRIORITY, 7), EPERM);
		CHECK_ERRNO(seti(sv[0], SO_PRIORITY, -1), EPERM);
		CHECK_OK(seti(sv[0], SO_PRIORITY, 0));
		CHECK_ERRNO(seti(sv[0], SO_MARK, 1), EPERM);
		CHECK_ERRNO(seti(sv[0], SO_SNDBUFFORCE, 10000), EPERM);
		CHECK_ERRNO(seti(sv[0], SO_RCVBUFFORCE, 10000), EPERM);
		/* Refused once more than RLIMIT_NOFILE files are in flight. */
		int n = 0;
		while (n < 40 && sendfds(sv[0], sv[0], 3) == 1)
			n++;
		CHECK_EQ(n, 4);
		CHECK_ERRNO(sendfds(sv[0], sv[0], 1), ETOOMANYREFS);
		/* Sending with no files still works. */
		CHECK_EQ(send(sv[0], "y", 1, 0), 1);
		/* Receiving 3 leaves 9 in flight: two more may go. */
		CHECK_EQ(recvfds(sv[1]), 1);
		CHECK_EQ(sendfds(sv[0], sv[0], 1), 1);
		CHECK_EQ(sendfds(sv[0], sv[0], 1), 1);
		CHECK_ERRNO(sendfds(sv[0], sv[0], 1), ETOOMANYREFS);
		/* Dropping the queue (closing the receiver) lifts it too. */
		close(sv[1]);
		close(sv[0]);
		CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
		CHECK_EQ(sendfds(sv[0], sv[0], 3), 1);
		close(sv[0]);
		close(sv[1]);
		_exit(test_done());
	}
	int st;
	CHECK_EQ(waitpid(p, &st, 0), p);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	flags_and_values(SOCK_STREAM);
	flags_and_values(SOCK_DGRAM);
	flags_and_values(SOCK_SEQPACKET);
	timeouts();
	lowat();
	peek_off();
	unprivileged();
	return test_done();
}
