/* TCP over loopback, IPv4 and IPv6: socket arguments, bind/listen/accept4,
 * blocking and non-blocking connect (EINPROGRESS, SO_ERROR), ECONNREFUSED,
 * EADDRINUSE, names, send/recv with MSG_PEEK, MSG_DONTWAIT and MSG_WAITALL,
 * readv/writev, FIONREAD, shutdown with EPIPE and SIGPIPE, poll and epoll
 * readiness woken from another process, a blocking accept broken off by a
 * signal, SO_RCVTIMEO, EFAULT, and a 4 MiB transfer. Every port is chosen
 * by the kernel (bind to port 0), so runs never collide. */
#include "ward_test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t sigpipes, alarms;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static struct sockaddr_in lo4(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* A listener on 127.0.0.1 (or ::1) with a kernel-chosen port. */
static int listener(int family, struct sockaddr_storage *addr, socklen_t *len)
{
	int s = CHECK_OK(socket(family, SOCK_STREAM, 0));
	if (family == AF_INET) {
		struct sockaddr_in a = lo4(0);
		CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
	} else {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
		CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
	}
	CHECK_OK(listen(s, 16));
	*len = sizeof(*addr);
	CHECK_OK(getsockname(s, (struct sockaddr *)addr, len));
	return s;
}

static void pair(int family, int *client, int *server, int *lst)
{
	struct sockaddr_storage a;
	socklen_t al;
	*lst = listener(family, &a, &al);
	*client = CHECK_OK(socket(family, SOCK_STREAM, 0));
	CHECK_OK(connect(*client, (struct sockaddr *)&a, al));
	*server = CHECK_OK(accept(*lst, NULL, NULL));
}

static void test_args(void)
{
	CHECK_ERRNO(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	CHECK_ERRNO(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
	CHECK_ERRNO(socket(AF_INET, SOCK_STREAM | 0x1000000, 0), EINVAL);
	CHECK_ERRNO(socket(AF_INET6, 77, 0), EINVAL);
	CHECK_ERRNO(socket(12345, SOCK_STREAM, 0), EAFNOSUPPORT);
	int sv[2];
	CHECK_ERRNO(socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
	int s = CHECK_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
	CHECK(fcntl(s, F_GETFL) & O_NONBLOCK);
	CHECK_EQ(fcntl(s, F_GETFD), FD_CLOEXEC);
	int v;
	socklen_t l = sizeof(v);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l));
	CHECK_EQ(v, SOCK_STREAM);
	l = sizeof(v);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &l));
	CHECK_EQ(v, AF_INET);
	l = sizeof(v);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &l));
	CHECK_EQ(v, IPPROTO_TCP);
	/* bind's address checks. */
	struct sockaddr_in a = lo4(0);
	CHECK_ERRNO(bind(s, (struct sockaddr *)&a, sizeof(a) - 1), EINVAL);
	CHECK_ERRNO(bind(s, (struct sockaddr *)&a, -1), EINVAL);
	CHECK_ERRNO(bind(s, (struct sockaddr *)8, sizeof(a)), EFAULT);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	CHECK_ERRNO(bind(s, (struct sockaddr *)&a6, sizeof(a6)), EAFNOSUPPORT);
	struct sockaddr_in far = lo4(0);
	far.sin_addr.s_addr = inet_addr("192.0.2.1"); /* TEST-NET: no such local address */
	CHECK_ERRNO(bind(s, (struct sockaddr *)&far, sizeof(far)), EADDRNOTAVAIL);
	CHECK_ERRNO(accept(s, NULL, NULL), EINVAL); /* not listening */
	CHECK_ERRNO(accept4(s, NULL, NULL, 0x1234), EINVAL);
	char c;
	CHECK_ERRNO(recv(s, &c, 1, 0), ENOTCONN);
	CHECK_ERRNO(send(s, "x", 1, MSG_NOSIGNAL), EPIPE);
	struct sockaddr_in peer;
	l = sizeof(peer);
	CHECK_ERRNO(getpeername(s, (struct sockaddr *)&peer, &l), ENOTCONN);
	CHECK_ERRNO(shutdown(s, SHUT_RDWR), ENOTCONN);
	CHECK_ERRNO(shutdown(s, 7), EINVAL);
	close(s);
}

static void test_connect_errors(void)
{
	/* A port that is bound but not listening refuses. */
	int b = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a = lo4(0);
	CHECK_OK(bind(b, (struct sockaddr *)&a, sizeof(a)));
	socklen_t l = sizeof(a);
	CHECK_OK(getsockname(b, (struct sockaddr *)&a, &l));
	CHECK(ntohs(a.sin_port) != 0);
	CHECK_EQ(a.sin_addr.s_addr, htonl(INADDR_LOOPBACK));

	int c = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_ERRNO(connect(c, (struct sockaddr *)&a, sizeof(a)), ECONNREFUSED);
	close(c);

	/* Non-blocking: EINPROGRESS (or an immediate refusal), then SO_ERROR. */
	c = CHECK_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	int r = connect(c, (struct sockaddr *)&a, sizeof(a));
	if (r < 0 && errno == EINPROGRESS) {
		struct pollfd p = { c, POLLOUT, 0 };
		CHECK_EQ(poll(&p, 1, 5000), 1);
		int err = 0;
		l = sizeof(err);
		CHECK_OK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &l));
		CHECK_EQ(err, ECONNREFUSED);
		/* SO_ERROR is cleared by reading it. */
		l = sizeof(err);
		CHECK_OK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &l));
		CHECK_EQ(err, 0);
	} else {
		CHECK(r < 0 && errno == ECONNREFUSED);
	}
	close(c);

	/* EADDRINUSE: the same port twice (without SO_REUSEADDR). */
	int d = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_OK(listen(b, 1));
	CHECK_ERRNO(bind(d, (struct sockaddr *)&a, sizeof(a)), EADDRINUSE);
	int on = 1;
	CHECK_OK(setsockopt(d, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)));
	CHECK_ERRNO(bind(d, (struct sockaddr *)&a, sizeof(a)), EADDRINUSE); /* a listener holds it */
	close(d);
	close(b);

	/* Connecting twice. */
	int s, srv, lst;
	pair(AF_INET, &s, &srv, &lst);
	struct sockaddr_in la;
	l = sizeof(la);
	CHECK_OK(getsockname(lst, (struct sockaddr *)&la, &l));
	CHECK_ERRNO(connect(s, (struct sockaddr *)&la, sizeof(la)), EISCONN);
	close(s);
	close(srv);
	close(lst);
}

static void test_nonblocking_connect(void)
{
	struct sockaddr_storage a;
	socklen_t al;
	int lst = listener(AF_INET, &a, &al);
	int c = CHECK_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	int r = connect(c, (struct sockaddr *)&a, al);
	CHECK(r == 0 || errno == EINPROGRESS);
	struct pollfd p = { c, POLLOUT, 0 };
	CHECK_EQ(poll(&p, 1, 5000), 1);
	CHECK(p.revents & POLLOUT);
	int err = -1;
	socklen_t l = sizeof(err);
	CHECK_OK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &l));
	CHECK_EQ(err, 0);
	/* After EINPROGRESS, the next connect reports the success once. */
	if (r < 0)
		CHECK_OK(connect(c, (struct sockaddr *)&a, al));
	CHECK_ERRNO(connect(c, (struct sockaddr *)&a, al), EISCONN);
	/* accept4 with flags, and the peer's address. */
	struct sockaddr_in peer;
	l = sizeof(peer);
	int srv = CHECK_OK(accept4(lst, (struct sockaddr *)&peer, &l, SOCK_NONBLOCK | SOCK_CLOEXEC));
	CHECK_EQ(l, sizeof(peer));
	CHECK_EQ(peer.sin_family, AF_INET);
	CHECK_EQ(peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	struct sockaddr_in mine;
	socklen_t ml = sizeof(mine);
	CHECK_OK(getsockname(c, (struct sockaddr *)&mine, &ml));
	CHECK_EQ(mine.sin_port, peer.sin_port);
	CHECK(fcntl(srv, F_GETFL) & O_NONBLOCK);
	CHECK_EQ(fcntl(srv, F_GETFD), FD_CLOEXEC);
	/* A short address buffer gets the full length back. */
	int c2 = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_OK(connect(c2, (struct sockaddr *)&a, al));
	char tiny[4];
	l = sizeof(tiny);
	int s2 = CHECK_OK(accept(lst, (struct sockaddr *)tiny, &l));
	CHECK_EQ(l, sizeof(struct sockaddr_in));
	/* Nothing pending: EAGAIN. */
	CHECK_OK(fcntl(lst, F_SETFL, O_NONBLOCK));
	CHECK_ERRNO(accept(lst, NULL, NULL), EAGAIN);
	char buf[8];
	CHECK_ERRNO(recv(srv, buf, sizeof(buf), 0), EAGAIN);
	close(c2);
	close(s2);
	close(c);
	close(srv);
	close(lst);
}

static void test_data(int family)
{
	int c, s, lst;
	pair(family, &c, &s, &lst);
	CHECK_EQ(send(c, "hello world", 11, 0), 11);
	char buf[64] = { 0 };
	/* MSG_PEEK leaves the bytes. */
	struct pollfd p = { s, POLLIN, 0 };
	CHECK_EQ(poll(&p, 1, 5000), 1);
	CHECK_EQ(recv(s, buf, 5, MSG_PEEK), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	int n = 0;
	CHECK_OK(ioctl(s, FIONREAD, &n));
	CHECK_EQ(n, 11);
	CHECK_EQ(recv(s, buf, sizeof(buf), 0), 11);
	CHECK(memcmp(buf, "hello world", 11) == 0);
	CHECK_ERRNO(recv(s, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	/* writev / readv across iovecs. */
	struct iovec w[3] = { { "ab", 2 }, { "", 0 }, { "cdef", 4 } };
	CHECK_EQ(writev(c, w, 3), 6);
	char r1[3] = { 0 }, r2[8] = { 0 };
	struct iovec r[2] = { { r1, 3 }, { r2, 8 } };
	CHECK_EQ(poll(&p, 1, 5000), 1);
	CHECK_EQ(readv(s, r, 2), 6);
	CHECK(memcmp(r1, "abc", 3) == 0 && memcmp(r2, "def", 3) == 0);
	/* write/read work on sockets too; sendto with no address on a
	 * connected stream is send. */
	CHECK_EQ(write(s, "xyz", 3), 3);
	CHECK_EQ(sendto(s, "!", 1, 0, NULL, 0), 1);
	CHECK_EQ(recv(c, buf, 4, MSG_WAITALL), 4);
	CHECK(memcmp(buf, "xyz!", 4) == 0);
	/* A bad buffer. */
	CHECK_ERRNO(send(c, (void *)8, 4, 0), EFAULT);
	/* recvfrom on a stream gives no address. */
	CHECK_EQ(send(c, "q", 1, 0), 1);
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	CHECK_EQ(recvfrom(s, buf, 1, 0, (struct sockaddr *)&from, &fl), 1);
	CHECK_EQ(fl, 0);
	/* Shutdown: the reader sees the end, the writer EPIPE and SIGPIPE. */
	CHECK_OK(shutdown(c, SHUT_WR));
	CHECK_EQ(recv(s, buf, sizeof(buf), 0), 0);
	p.events = POLLIN | POLLRDHUP;
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK(p.revents & POLLRDHUP);
	sigpipes = 0;
	CHECK_ERRNO(send(c, "x", 1, 0), EPIPE);
	CHECK_EQ(sigpipes, 1);
	CHECK_ERRNO(send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK_EQ(sigpipes, 1);
	CHECK_ERRNO(write(c, "x", 1), EPIPE);
	CHECK_EQ(sigpipes, 2);
	/* The other way still works. */
	CHECK_EQ(send(s, "back", 4, 0), 4);
	CHECK_EQ(recv(c, buf, 4, MSG_WAITALL), 4);
	close(s);
	/* The peer closed: EOF. */
	CHECK_EQ(recv(c, buf, sizeof(buf), 0), 0);
	close(c);
	close(lst);
}

/* A 4 MiB transfer between two processes, checked byte for byte. */
static void test_bulk(void)
{
	int c, s, lst;
	pair(AF_INET, &c, &s, &lst);
	const size_t total = 4 << 20;
	pid_t pid = fork();
	if (pid == 0) {
		close(s);
		char *b = malloc(total);
		for (size_t i = 0; i < total; i++)
			b[i] = (char)(i * 7 + i / 4096);
		ssize_t n = send(c, b, total, 0); /* blocking: all of it */
		_exit(n == (ssize_t)total ? 0 : 1);
	}
	close(c);
	char *b = malloc(total);
	size_t got = 0;
	while (got < total) {
		ssize_t n = recv(s, b + got, total - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	CHECK_EQ(got, total);
	size_t bad = 0;
	for (size_t i = 0; i < got; i++)
		if (b[i] != (char)(i * 7 + i / 4096))
			bad++;
	CHECK_EQ(bad, 0);
	char x;
	CHECK_EQ(recv(s, &x, 1, 0), 0);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	free(b);
	close(s);
	close(lst);
}

/* Readiness must wake a sleeper when another process writes. */
static void test_wakeups(void)
{
	int c, s, lst;
	pair(AF_INET, &c, &s, &lst);
	int ep = CHECK_OK(epoll_create1(0));
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 };
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	struct epoll_event out;
	CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(100000);
		send(c, "a", 1, 0);
		usleep(100000);
		send(c, "b", 1, 0);
		_exit(0);
	}
	CHECK_EQ(epoll_wait(ep, &out, 1, 5000), 1);
	CHECK_EQ(out.data.u32, 7);
	char buf[4];
	CHECK_EQ(recv(s, buf, 1, 0), 1);
	struct pollfd p = { s, POLLIN, 0 };
	CHECK_EQ(poll(&p, 1, 5000), 1);
	CHECK_EQ(recv(s, buf, 1, 0), 1);
	CHECK_EQ(buf[0], 'b');
	waitpid(pid, NULL, 0);
	close(ep);
	close(c);
	close(s);
	close(lst);
}

static void test_interrupt_and_timeout(void)
{
	struct sockaddr_storage a;
	socklen_t al;
	int lst = listener(AF_INET6, &a, &al);
	/* A blocking accept broken off by a handler without SA_RESTART. */
	struct sigaction sa = { .sa_handler = on_alarm };
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { .it_value = { 0, 100000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	CHECK_ERRNO(accept(lst, NULL, NULL), EINTR);
	CHECK_EQ(alarms, 1);
	/* SO_RCVTIMEO: EAGAIN after the timeout. */
	int c, s, l2;
	pair(AF_INET6, &c, &s, &l2);
	struct timeval tv = { 0, 200000 }, got;
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	socklen_t gl = sizeof(got);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &got, &gl));
	CHECK_EQ(gl, sizeof(got));
	CHECK_EQ(got.tv_sec, 0);
	CHECK_EQ(got.tv_usec, 200000);
	struct timeval bad = { 0, 1000000 };
	CHECK_ERRNO(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof(bad)), EDOM);
	CHECK_ERRNO(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, 4), EINVAL);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char buf[4];
	CHECK_ERRNO(recv(s, buf, sizeof(buf), 0), EAGAIN);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(ms >= 150 && ms < 3000);
	/* A v6 socket accepts a v4-mapped connection unless IPV6_V6ONLY. */
	int v = -1;
	socklen_t vl = sizeof(v);
	CHECK_OK(getsockopt(c, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl));
	CHECK_EQ(v, 0);
	close(c);
	close(s);
	close(l2);
	close(lst);
}

int main(void)
{
	signal(SIGPIPE, on_sigpipe);
	test_args();
	test_connect_errors();
	test_nonblocking_connect();
	test_data(AF_INET);
	test_data(AF_INET6);
	test_bulk();
	test_wakeups();
	test_interrupt_and_timeout();
	return test_done();
}
