/* AF_UNIX sockets: socket and socketpair arguments, stream, datagram and
 * seqpacket data (boundaries, MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL,
 * MSG_TRUNC), shutdown, EPIPE and SIGPIPE, ECONNRESET, poll readiness,
 * socket options (SO_TYPE, SO_SNDBUF/SO_RCVBUF doubling, SO_PEERCRED,
 * SO_PASSCRED), names, abstract and path-name bind/listen/connect/accept4
 * with their errors, a connection between two processes, SCM_RIGHTS (with
 * MSG_CTRUNC) and SCM_CREDENTIALS. */
#include "ward_test.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *tag)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "ward-unix-%d-%s", (int)getpid(), tag);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static short revents(int fd)
{
	struct pollfd p = { fd, POLLIN | POLLOUT | POLLRDHUP, 0 };
	CHECK_EQ(poll(&p, 1, 0) >= 0, 1);
	return p.revents;
}

static void test_create(void)
{
	int sv[2];
	CHECK_ERRNO(socket(AF_UNIX, 99, 0), EINVAL);
	CHECK_ERRNO(socket(AF_UNIX, SOCK_STREAM | 0x100000, 0), EINVAL);
	CHECK_ERRNO(socket(12345, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERRNO(socket(AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT);
	CHECK_ERRNO(socket(AF_UNIX, 0, 0), ESOCKTNOSUPPORT);
	CHECK_ERRNO(socket(AF_UNIX, SOCK_STREAM, 2), EPROTONOSUPPORT);
	CHECK_ERRNO(socketpair(AF_UNIX, SOCK_RDM, 0, sv), ESOCKTNOSUPPORT);
	CHECK_ERRNO(syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, 8L), EFAULT);
	int s = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, PF_UNIX));
	close(s);
	s = CHECK_OK(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	CHECK_EQ(fcntl(s, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	CHECK_EQ(fcntl(s, F_GETFD), FD_CLOEXEC);
	struct stat st;
	CHECK_OK(fstat(s, &st));
	CHECK(S_ISSOCK(st.st_mode));
	int v;
	socklen_t l = sizeof(v);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l));
	CHECK_EQ(v, SOCK_STREAM);
	CHECK_EQ(l, sizeof(int));
	/* A fresh stream socket is writable and hung up. */
	CHECK_EQ(revents(s), POLLOUT | POLLHUP);
	char b[4];
	CHECK_ERRNO(read(s, b, 1), EINVAL);
	CHECK_ERRNO(write(s, b, 1), ENOTCONN);
	CHECK_ERRNO(send(s, b, 1, MSG_NOSIGNAL), ENOTCONN);
	CHECK_ERRNO(recv(s, b, 1, 0), EINVAL);
	CHECK_ERRNO(listen(s, 1), EINVAL); /* unbound */
	CHECK_ERRNO(shutdown(s, 3), EINVAL);
	l = sizeof(struct sockaddr_un);
	struct sockaddr_un a;
	CHECK_ERRNO(getpeername(s, (struct sockaddr *)&a, &l), ENOTCONN);
	CHECK_OK(getsockname(s, (struct sockaddr *)&a, &l));
	CHECK_EQ(l, offsetof(struct sockaddr_un, sun_path));
	CHECK_EQ(a.sun_family, AF_UNIX);
	close(s);

	int d = CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERRNO(listen(d, 1), EOPNOTSUPP);
	CHECK_ERRNO(send(d, b, 1, 0), ENOTCONN);
	CHECK_ERRNO(recv(d, b, 1, MSG_DONTWAIT), EAGAIN);
	CHECK_EQ(revents(d), POLLOUT);
	close(d);
	d = CHECK_OK(socket(AF_UNIX, SOCK_RAW, 0)); /* a datagram socket */
	l = sizeof(v);
	CHECK_OK(getsockopt(d, SOL_SOCKET, SO_TYPE, &v, &l));
	CHECK_EQ(v, SOCK_DGRAM);
	close(d);

	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERRNO(listen(p[0], 1), ENOTSOCK);
	CHECK_ERRNO(shutdown(p[0], SHUT_RD), ENOTSOCK);
	CHECK_ERRNO(listen(9999, 1), EBADF);
	close(p[0]);
	close(p[1]);
}

static void test_stream_pair(void)
{
	int sv[2];
	char b[64];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(revents(sv[0]), POLLOUT);
	CHECK_EQ(write(sv[0], "hello", 5), 5);
	CHECK_EQ(send(sv[0], " world", 6, 0), 6);
	CHECK_EQ(revents(sv[1]), POLLIN | POLLOUT);
	/* A stream read takes what is there, across writes. */
	CHECK_EQ(recv(sv[1], b, sizeof(b), MSG_PEEK), 11);
	CHECK_EQ(recv(sv[1], b, 3, 0), 3);
	CHECK(memcmp(b, "hel", 3) == 0);
	struct iovec iov[2] = { { b, 2 }, { b + 2, 20 } };
	CHECK_EQ(readv(sv[1], iov, 2), 8);
	CHECK(memcmp(b, "lo world", 8) == 0);
	CHECK_ERRNO(recv(sv[1], b, 1, MSG_DONTWAIT), EAGAIN);
	struct iovec wv[2] = { { "ab", 2 }, { "cd", 2 } };
	CHECK_EQ(writev(sv[1], wv, 2), 4);
	struct sockaddr_un from;
	socklen_t fl = sizeof(from);
	CHECK_EQ(recvfrom(sv[0], b, sizeof(b), 0, (struct sockaddr *)&from, &fl), 4);
	CHECK(memcmp(b, "abcd", 4) == 0);
	/* sendto with an address on a connected stream socket. */
	struct sockaddr_un a;
	socklen_t al = abstract_addr(&a, "x");
	CHECK_ERRNO(sendto(sv[0], b, 1, MSG_NOSIGNAL, (struct sockaddr *)&a, al), EISCONN);
	int v;
	socklen_t l = sizeof(v);
	CHECK_OK(getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, &l));
	CHECK_EQ(v, 0);

	/* Peer credentials are those of the creator. */
	struct ucred uc;
	l = sizeof(uc);
	CHECK_OK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK_EQ(l, sizeof(uc));
	CHECK_EQ(uc.pid, getpid());
	CHECK_EQ(uc.uid, geteuid());
	CHECK_EQ(uc.gid, getegid());
	l = sizeof(struct sockaddr_un);
	CHECK_OK(getpeername(sv[0], (struct sockaddr *)&a, &l));
	CHECK_EQ(l, offsetof(struct sockaddr_un, sun_path));

	/* shutdown(SHUT_WR): the peer reads EOF and sees POLLRDHUP; the writer
	 * gets EPIPE. */
	CHECK_OK(shutdown(sv[0], SHUT_WR));
	CHECK_EQ(revents(sv[0]), POLLOUT);
	CHECK_EQ(revents(sv[1]), POLLIN | POLLOUT | POLLRDHUP);
	CHECK_EQ(read(sv[1], b, 1), 0);
	CHECK_ERRNO(send(sv[0], b, 1, MSG_NOSIGNAL), EPIPE);
	CHECK_OK(shutdown(sv[0], SHUT_RD));
	CHECK_EQ(revents(sv[0]), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
	CHECK_EQ(revents(sv[1]), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
	CHECK_ERRNO(send(sv[1], b, 1, MSG_NOSIGNAL), EPIPE);
	close(sv[0]);
	close(sv[1]);

	/* EOF after the data once the peer is gone; EPIPE and SIGPIPE to a
	 * writer. */
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(write(sv[1], "x", 1), 1);
	close(sv[1]);
	CHECK_EQ(revents(sv[0]), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
	CHECK_EQ(read(sv[0], b, 10), 1);
	CHECK_EQ(read(sv[0], b, 10), 0);
	signal(SIGPIPE, on_sigpipe);
	sigpipes = 0;
	CHECK_ERRNO(write(sv[0], "y", 1), EPIPE);
	CHECK_EQ(sigpipes, 1);
	CHECK_ERRNO(send(sv[0], "y", 1, MSG_NOSIGNAL), EPIPE);
	CHECK_EQ(sigpipes, 1);
	signal(SIGPIPE, SIG_DFL);
	close(sv[0]);

	/* Closing with unread data resets the peer: ECONNRESET once, then what
	 * it has, then EOF. */
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(write(sv[0], "x", 1), 1);
	CHECK_EQ(write(sv[1], "z", 1), 1);
	close(sv[1]);
	CHECK_EQ(read(sv[0], b, 1), 1);
	CHECK_ERRNO(read(sv[0], b, 1), ECONNRESET);
	CHECK_EQ(read(sv[0], b, 1), 0);
	close(sv[0]);

	/* A non-blocking writer fills the buffer and gets EAGAIN; the reader
	 * drains it. */
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv));
	static char big[1 << 20];
	long total = 0, n;
	while ((n = write(sv[0], big, sizeof(big))) > 0)
		total += n;
	CHECK_EQ(errno, EAGAIN);
	CHECK(total > 100000 && total < (long)sizeof(big));
	CHECK_EQ(revents(sv[0]), 0);
	long got = 0;
	while ((n = read(sv[1], big, sizeof(big))) > 0)
		got += n;
	CHECK_EQ(got, total);
	CHECK_EQ(revents(sv[0]), POLLOUT);
	close(sv[0]);
	close(sv[1]);
}

static void test_waitall(void)
{
	int sv[2];
	char b[8];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 8; i++) {
			usleep(2000);
			if (write(sv[1], "abcdefgh" + i, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	CHECK_EQ(recv(sv[0], b, 8, MSG_WAITALL), 8);
	CHECK(memcmp(b, "abcdefgh", 8) == 0);
	int status;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
	close(sv[0]);
	close(sv[1]);
}

static void test_dgram(int type)
{
	int sv[2];
	char b[64];
	CHECK_OK(socketpair(AF_UNIX, type, 0, sv));
	CHECK_EQ(send(sv[0], "one", 3, 0), 3);
	CHECK_EQ(send(sv[0], "three", 5, 0), 5);
	CHECK_EQ(send(sv[0], "", 0, 0), 0);
	CHECK_EQ(recv(sv[1], b, sizeof(b), MSG_PEEK), 3);
	CHECK_EQ(recv(sv[1], b, sizeof(b), 0), 3);
	CHECK(memcmp(b, "one", 3) == 0);
	/* A short buffer truncates the message; MSG_TRUNC gives its length. */
	struct iovec iov = { b, 2 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	CHECK_EQ(recvmsg(sv[1], &m, MSG_TRUNC), 5);
	CHECK_EQ(m.msg_flags & MSG_TRUNC, MSG_TRUNC);
	CHECK(memcmp(b, "th", 2) == 0);
	CHECK_EQ(recv(sv[1], b, sizeof(b), 0), 0); /* the empty message */
	CHECK_ERRNO(recv(sv[1], b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	/* Too big for the send buffer. */
	static char big[300000];
	CHECK_ERRNO(send(sv[0], big, sizeof(big), MSG_DONTWAIT), EMSGSIZE);
	int v = 4096;
	CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	CHECK_ERRNO(send(sv[0], big, 8192, MSG_DONTWAIT), EMSGSIZE);
	CHECK_EQ(send(sv[0], big, 4000, MSG_DONTWAIT), 4000);
	CHECK_ERRNO(send(sv[0], big, 4000, MSG_DONTWAIT), EAGAIN);
	CHECK_EQ(revents(sv[1]), POLLIN | POLLOUT);
	CHECK_EQ(recv(sv[1], big, sizeof(big), 0), 4000);
	CHECK_EQ(send(sv[0], big, 10, 0), 10);
	close(sv[0]);
	if (type == SOCK_SEQPACKET) {
		/* Data, then EOF; EPIPE to a writer. */
		CHECK_EQ(recv(sv[1], b, sizeof(b), 0), 10);
		CHECK_EQ(recv(sv[1], b, sizeof(b), 0), 0);
		CHECK_ERRNO(send(sv[1], b, 1, MSG_NOSIGNAL), EPIPE);
	} else {
		CHECK_EQ(recv(sv[1], b, sizeof(b), 0), 10);
		CHECK_ERRNO(recv(sv[1], b, sizeof(b), MSG_DONTWAIT), EAGAIN);
		CHECK_ERRNO(send(sv[1], b, 1, 0), ECONNREFUSED);
		CHECK_ERRNO(send(sv[1], b, 1, 0), ENOTCONN);
	}
	close(sv[1]);
}

static void test_sockopts(void)
{
	int s = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	int v = 1;
	socklen_t l = sizeof(v);
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &l));
	CHECK_EQ(v, 4608);
	v = 1;
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &l));
	CHECK_EQ(v, 2304);
	v = 50000;
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &l));
	CHECK_EQ(v, 100000);
	v = 1;
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)));
	v = 0;
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_PASSCRED, &v, &l));
	CHECK_EQ(v, 1);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &l));
	CHECK_EQ(v, AF_UNIX);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &l));
	CHECK_EQ(v, 0);
	/* A short length truncates. */
	char c = 0;
	l = 1;
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_TYPE, &c, &l));
	CHECK_EQ(l, 1);
	CHECK_EQ(c, SOCK_STREAM);
	l = sizeof(v);
	CHECK_ERRNO(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, 2), EINVAL);
	CHECK_ERRNO(getsockopt(s, 6 /* IPPROTO_TCP */, 1, &v, &l), EOPNOTSUPP);
	CHECK_ERRNO(setsockopt(s, 6 /* IPPROTO_TCP */, 1, &v, sizeof(v)), EOPNOTSUPP);
	CHECK_ERRNO(getsockopt(s, SOL_SOCKET, 9999, &v, &l), ENOPROTOOPT);
	l = (socklen_t)-1;
	CHECK_ERRNO(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l), EINVAL);
	/* Unconnected: no peer credentials. */
	struct ucred uc;
	l = sizeof(uc);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK_EQ(uc.pid, 0);
	CHECK_EQ(uc.uid, (uid_t)-1);
	CHECK_EQ(uc.gid, (gid_t)-1);
	close(s);
}

static void test_abstract(void)
{
	struct sockaddr_un a, b;
	socklen_t al = abstract_addr(&a, "listen"), bl;
	char buf[16];
	int lst = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	int c = CHECK_OK(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
	CHECK_ERRNO(connect(c, (struct sockaddr *)&a, al), ECONNREFUSED);
	CHECK_ERRNO(bind(lst, (struct sockaddr *)&a, 1), EINVAL);
	CHECK_ERRNO(bind(lst, (struct sockaddr *)&a, sizeof(a) + 1), EINVAL);
	a.sun_family = AF_INET;
	CHECK_ERRNO(bind(lst, (struct sockaddr *)&a, al), EINVAL);
	a.sun_family = AF_UNIX;
	CHECK_OK(bind(lst, (struct sockaddr *)&a, al));
	CHECK_ERRNO(bind(lst, (struct sockaddr *)&a, al), EINVAL);
	int other = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERRNO(bind(other, (struct sockaddr *)&a, al), EADDRINUSE);
	close(other);
	/* Bound but not listening. */
	CHECK_ERRNO(connect(c, (struct sockaddr *)&a, al), ECONNREFUSED);
	CHECK_ERRNO(accept(lst, NULL, NULL), EINVAL);
	bl = sizeof(b);
	CHECK_OK(getsockname(lst, (struct sockaddr *)&b, &bl));
	CHECK_EQ(bl, al);
	CHECK(memcmp(&a, &b, al) == 0);
	CHECK_OK(listen(lst, 0));
	CHECK_EQ(revents(lst), 0);
	int v;
	socklen_t l = sizeof(v);
	CHECK_OK(getsockopt(lst, SOL_SOCKET, SO_ACCEPTCONN, &v, &l));
	CHECK_EQ(v, 1);
	fcntl(lst, F_SETFL, O_NONBLOCK);
	CHECK_ERRNO(accept(lst, NULL, NULL), EAGAIN);
	fcntl(lst, F_SETFL, 0);

	/* A socket of another type does not find the name. */
	int d = CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERRNO(connect(d, (struct sockaddr *)&a, al), ECONNREFUSED);
	close(d);

	/* A backlog of 0 admits one connection; the next is EAGAIN. */
	CHECK_OK(connect(c, (struct sockaddr *)&a, al));
	/* Linux looks at the backlog before the socket's own state. */
	CHECK_ERRNO(connect(c, (struct sockaddr *)&a, al), EAGAIN);
	CHECK_ERRNO(listen(c, 1), EINVAL);
	int c2 = CHECK_OK(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
	CHECK_ERRNO(connect(c2, (struct sockaddr *)&a, al), EAGAIN);
	CHECK_EQ(revents(lst), POLLIN);
	/* Data sent before the accept waits for it. */
	CHECK_EQ(write(c, "hi", 2), 2);
	bl = sizeof(b);
	memset(&b, 0xff, sizeof(b));
	int s = CHECK_OK(accept4(lst, (struct sockaddr *)&b, &bl, SOCK_NONBLOCK | SOCK_CLOEXEC));
	CHECK_EQ(bl, offsetof(struct sockaddr_un, sun_path)); /* the client is unbound */
	CHECK_EQ(b.sun_family, AF_UNIX);
	CHECK_EQ(fcntl(s, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	CHECK_EQ(fcntl(s, F_GETFD), FD_CLOEXEC);
	CHECK_ERRNO(accept4(lst, NULL, NULL, 0x1234), EINVAL);
	CHECK_EQ(read(s, buf, sizeof(buf)), 2);
	CHECK_ERRNO(read(s, buf, sizeof(buf)), EAGAIN);
	/* The accepted socket has the listener's name; the client's peer is
	 * the listener's name. */
	bl = sizeof(b);
	CHECK_OK(getsockname(s, (struct sockaddr *)&b, &bl));
	CHECK_EQ(bl, al);
	CHECK(memcmp(&a, &b, al) == 0);
	bl = sizeof(b);
	CHECK_OK(getpeername(c, (struct sockaddr *)&b, &bl));
	CHECK_EQ(bl, al);
	CHECK(memcmp(&a, &b, al) == 0);
	struct ucred uc;
	l = sizeof(uc);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK_EQ(uc.pid, getpid());
	l = sizeof(uc);
	CHECK_OK(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK_EQ(uc.pid, getpid());
	CHECK_EQ(uc.uid, geteuid());
	CHECK_EQ(send(s, "back", 4, 0), 4);
	CHECK_EQ(recv(c, buf, sizeof(buf), 0), 4);
	/* Room again in the backlog. */
	CHECK_ERRNO(connect(c, (struct sockaddr *)&a, al), EISCONN);
	CHECK_OK(connect(c2, (struct sockaddr *)&a, al));
	close(s);
	close(c);

	/* Closing the listener resets a queued connection. */
	close(lst);
	CHECK_ERRNO(read(c2, buf, 1), ECONNRESET);
	CHECK_EQ(read(c2, buf, 1), 0);
	close(c2);
	/* The name is free again. */
	lst = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(bind(lst, (struct sockaddr *)&a, al));
	close(lst);

	/* Autobind: a 5-hex-digit abstract name. */
	int ab = CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	struct sockaddr_un z = { .sun_family = AF_UNIX };
	CHECK_OK(bind(ab, (struct sockaddr *)&z, offsetof(struct sockaddr_un, sun_path)));
	bl = sizeof(b);
	CHECK_OK(getsockname(ab, (struct sockaddr *)&b, &bl));
	CHECK_EQ(bl, offsetof(struct sockaddr_un, sun_path) + 6);
	CHECK_EQ(b.sun_path[0], 0);

	/* Datagrams to a name, with the sender's name. */
	struct sockaddr_un r;
	socklen_t rl = abstract_addr(&r, "dgram");
	int rs = CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERRNO(sendto(ab, "x", 1, 0, (struct sockaddr *)&r, rl), ECONNREFUSED);
	CHECK_OK(bind(rs, (struct sockaddr *)&r, rl));
	CHECK_EQ(sendto(ab, "dat", 3, 0, (struct sockaddr *)&r, rl), 3);
	struct sockaddr_un from;
	socklen_t fl = sizeof(from);
	CHECK_EQ(recvfrom(rs, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 3);
	CHECK_EQ(fl, bl);
	CHECK(memcmp(&from, &b, bl) == 0);
	/* connect gives a default destination. */
	CHECK_OK(connect(ab, (struct sockaddr *)&r, rl));
	CHECK_EQ(send(ab, "two", 3, 0), 3);
	CHECK_EQ(recv(rs, buf, sizeof(buf), 0), 3);
	close(ab);
	close(rs);
}

static void test_path(void)
{
	char dir[] = "/tmp/ward-unix-XXXXXX";
	if (!mkdtemp(dir)) {
		WARD_FAIL("mkdtemp: %s", strerror(errno));
		return;
	}
	struct sockaddr_un a = { .sun_family = AF_UNIX }, b;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/sock", dir);
	socklen_t al = sizeof(a), bl;
	int c = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERRNO(connect(c, (struct sockaddr *)&a, al), ENOENT);
	int lst = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	mode_t old = umask(022);
	CHECK_OK(bind(lst, (struct sockaddr *)&a, al));
	umask(old);
	struct stat st;
	CHECK_OK(stat(a.sun_path, &st));
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0755);
	bl = sizeof(b);
	CHECK_OK(getsockname(lst, (struct sockaddr *)&b, &bl));
	CHECK_EQ(bl, offsetof(struct sockaddr_un, sun_path) + strlen(a.sun_path) + 1);
	CHECK_STREQ(b.sun_path, a.sun_path);
	int other = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERRNO(bind(other, (struct sockaddr *)&a, al), EADDRINUSE);
	CHECK_ERRNO(bind(lst, (struct sockaddr *)&a, al), EADDRINUSE);
	/* Bound but not listening; of another type; not a socket. */
	CHECK_ERRNO(connect(c, (struct sockaddr *)&a, al), ECONNREFUSED);
	int d = CHECK_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERRNO(connect(d, (struct sockaddr *)&a, al), EPROTOTYPE);
	close(d);
	struct sockaddr_un f = { .sun_family = AF_UNIX };
	snprintf(f.sun_path, sizeof(f.sun_path), "%s/file", dir);
	int fd = CHECK_OK(open(f.sun_path, O_CREAT | O_WRONLY, 0600));
	close(fd);
	CHECK_ERRNO(connect(c, (struct sockaddr *)&f, sizeof(f)), ECONNREFUSED);
	CHECK_ERRNO(bind(other, (struct sockaddr *)&f, sizeof(f)), EADDRINUSE);
	CHECK_OK(listen(lst, 5));
	CHECK_OK(connect(c, (struct sockaddr *)&a, al));
	int s = CHECK_OK(accept(lst, NULL, NULL));
	CHECK_EQ(write(c, "p", 1), 1);
	char buf[4];
	CHECK_EQ(read(s, buf, 4), 1);
	close(s);
	close(c);
	/* Closed: the inode stays but nobody listens. */
	close(lst);
	c = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERRNO(connect(c, (struct sockaddr *)&a, al), ECONNREFUSED);
	CHECK_OK(unlink(a.sun_path));
	CHECK_ERRNO(connect(c, (struct sockaddr *)&a, al), ENOENT);
	/* Rebinding the path works once it is unlinked. */
	CHECK_OK(bind(other, (struct sockaddr *)&a, al));
	CHECK_OK(unlink(a.sun_path));
	close(other);
	close(c);
	CHECK_OK(unlink(f.sun_path));
	CHECK_OK(rmdir(dir));
}

/* A server and a client in two processes: accept blocks until the client
 * connects. */
static void test_processes(void)
{
	struct sockaddr_un a;
	socklen_t al = abstract_addr(&a, "proc");
	int lst = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(bind(lst, (struct sockaddr *)&a, al));
	CHECK_OK(listen(lst, 8));
	pid_t pid = fork();
	if (pid == 0) {
		usleep(20000);
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, al) != 0)
			_exit(2);
		char b[1024];
		for (int i = 0; i < 100; i++) {
			memset(b, i, sizeof(b));
			if (write(c, b, sizeof(b)) != sizeof(b))
				_exit(3);
		}
		if (read(c, b, 1) != 1 || b[0] != 'k')
			_exit(4);
		_exit(0);
	}
	int s = CHECK_OK(accept(lst, NULL, NULL));
	struct ucred uc;
	socklen_t l = sizeof(uc);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK_EQ(uc.pid, pid);
	static char b[100 * 1024];
	CHECK_EQ(recv(s, b, sizeof(b), MSG_WAITALL), sizeof(b));
	int ok = 1;
	for (int i = 0; i < 100 * 1024; i++)
		ok &= b[i] == (char)(i / 1024);
	CHECK(ok);
	CHECK_EQ(write(s, "k", 1), 1);
	int status;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
	CHECK_EQ(read(s, b, 1), 0);
	close(s);
	close(lst);
}

static int send_fds(int s, const int *fds, int n, const char *data)
{
	char cb[CMSG_SPACE(sizeof(int) * 8)];
	memset(cb, 0, sizeof(cb));
	struct iovec iov = { (void *)data, strlen(data) };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = CMSG_SPACE(sizeof(int) * n)
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	return (int)sendmsg(s, &m, 0);
}

static void test_scm_rights(void)
{
	int sv[2], p[2];
	char b[16];
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_OK(pipe(p));
	CHECK_EQ(send_fds(sv[0], &p[1], 1, "fd"), 2);
	close(p[1]);
	/* The write end is in flight: the pipe has a writer. */
	char cb[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { b, sizeof(b) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof(cb) };
	CHECK_EQ(recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC), 2);
	CHECK_EQ(m.msg_flags, MSG_CMSG_CLOEXEC); /* echoed */
	CHECK_EQ(m.msg_controllen, CMSG_SPACE(sizeof(int)));
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ(c->cmsg_level, SOL_SOCKET);
		CHECK_EQ(c->cmsg_type, SCM_RIGHTS);
		CHECK_EQ(c->cmsg_len, CMSG_LEN(sizeof(int)));
		int fd;
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
		CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
		CHECK_EQ(write(fd, "via", 3), 3);
		CHECK_EQ(read(p[0], b, sizeof(b)), 3);
		close(fd);
	}
	/* All writers gone now. */
	CHECK_EQ(read(p[0], b, sizeof(b)), 0);

	/* Files in flight end a stream read (after the data before them). */
	CHECK_EQ(write(sv[0], "ab", 2), 2);
	CHECK_EQ(send_fds(sv[0], &p[0], 1, "cd"), 2);
	CHECK_EQ(write(sv[0], "gh", 2), 2);
	m.msg_controllen = sizeof(cb);
	CHECK_EQ(recvmsg(sv[1], &m, 0), 4);
	CHECK(memcmp(b, "abcd", 4) == 0);
	CHECK_EQ(m.msg_controllen, CMSG_SPACE(sizeof(int)));
	c = CMSG_FIRSTHDR(&m);
	if (c) {
		int fd;
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
		CHECK_EQ(fcntl(fd, F_GETFD), 0);
		CHECK_OK(close(fd));
	}
	m.msg_controllen = sizeof(cb);
	CHECK_EQ(recvmsg(sv[1], &m, 0), 2);
	CHECK_EQ(m.msg_controllen, 0);
	CHECK(memcmp(b, "gh", 2) == 0);
	CHECK_EQ(send_fds(sv[0], &p[0], 1, "cd"), 2);
	/* A control buffer too short: MSG_CTRUNC and the files are lost. */
	m.msg_controllen = CMSG_LEN(0);
	CHECK_EQ(recvmsg(sv[1], &m, 0), 2);
	CHECK_EQ(m.msg_flags & MSG_CTRUNC, MSG_CTRUNC);
	CHECK_EQ(m.msg_controllen, 0);
	/* Two files, room for one. */
	int two[2] = { p[0], p[0] };
	CHECK_EQ(send_fds(sv[0], two, 2, "ef"), 2);
	m.msg_controllen = CMSG_LEN(sizeof(int));
	CHECK_EQ(recvmsg(sv[1], &m, 0), 2);
	CHECK_EQ(m.msg_flags & MSG_CTRUNC, MSG_CTRUNC);
	CHECK_EQ(m.msg_controllen, CMSG_LEN(sizeof(int)));
	c = CMSG_FIRSTHDR(&m);
	if (c) {
		int fd;
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
		CHECK_OK(close(fd));
	}
	/* A bad descriptor. */
	int bad = 9999;
	CHECK_ERRNO(send_fds(sv[0], &bad, 1, "x"), EBADF);
	/* A bad cmsg_len. */
	char cb2[CMSG_SPACE(sizeof(int))];
	memset(cb2, 0, sizeof(cb2));
	struct iovec wv = { "y", 1 };
	struct msghdr wm = { .msg_iov = &wv, .msg_iovlen = 1, .msg_control = cb2, .msg_controllen = sizeof(cb2) };
	CMSG_FIRSTHDR(&wm)->cmsg_len = sizeof(cb2) + 8;
	CMSG_FIRSTHDR(&wm)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&wm)->cmsg_type = SCM_RIGHTS;
	CHECK_ERRNO(sendmsg(sv[0], &wm, 0), EINVAL);
	close(sv[0]);
	close(sv[1]);

	/* Datagrams carry their files; and a file crosses to another process. */
	CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	CHECK_OK(pipe(p));
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		char cbuf[CMSG_SPACE(sizeof(int))];
		char d[8];
		struct iovec ci = { d, sizeof(d) };
		struct msghdr cm = {
			.msg_iov = &ci, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)
		};
		if (recvmsg(sv[1], &cm, 0) != 4 || !CMSG_FIRSTHDR(&cm))
			_exit(1);
		int fd;
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&cm)), sizeof(fd));
		_exit(write(fd, "child", 5) == 5 ? 0 : 2);
	}
	close(sv[1]);
	CHECK_EQ(send_fds(sv[0], &p[1], 1, "pipe"), 4);
	close(p[1]);
	CHECK_EQ(read(p[0], b, sizeof(b)), 5);
	CHECK(memcmp(b, "child", 5) == 0);
	int status;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
	close(p[0]);
	close(sv[0]);
}

static void test_scm_credentials(void)
{
	int sv[2];
	char b[8];
	CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	int one = 1;
	CHECK_OK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)));
	CHECK_EQ(send(sv[0], "c", 1, 0), 1);
	char cb[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { b, sizeof(b) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof(cb) };
	CHECK_EQ(recvmsg(sv[1], &m, 0), 1);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ(c->cmsg_type, SCM_CREDENTIALS);
		CHECK_EQ(c->cmsg_len, CMSG_LEN(sizeof(struct ucred)));
		struct ucred uc;
		memcpy(&uc, CMSG_DATA(c), sizeof(uc));
		CHECK_EQ(uc.pid, getpid());
		CHECK_EQ(uc.uid, geteuid());
		CHECK_EQ(uc.gid, getegid());
	}
	/* Explicit credentials. */
	struct ucred mine = { getpid(), getuid(), getgid() };
	memset(cb, 0, sizeof(cb));
	struct iovec wv = { "d", 1 };
	struct msghdr wm = { .msg_iov = &wv, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof(cb) };
	c = CMSG_FIRSTHDR(&wm);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(mine));
	memcpy(CMSG_DATA(c), &mine, sizeof(mine));
	CHECK_EQ(sendmsg(sv[0], &wm, 0), 1);
	m.msg_controllen = sizeof(cb);
	CHECK_EQ(recvmsg(sv[1], &m, 0), 1);
	CHECK_EQ(m.msg_controllen, CMSG_SPACE(sizeof(struct ucred)));
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	test_create();
	test_stream_pair();
	test_waitall();
	test_dgram(SOCK_DGRAM);
	test_dgram(SOCK_SEQPACKET);
	test_sockopts();
	test_abstract();
	test_path();
	test_processes();
	test_scm_rights();
	test_scm_credentials();
	return test_done();
}
