/* UDP over loopback, IPv4 and IPv6: datagram boundaries, sendto/recvfrom
 * addresses, MSG_PEEK and MSG_TRUNC, zero-length datagrams, connected
 * sockets and AF_UNSPEC, EDESTADDRREQ, EMSGSIZE, ECONNREFUSED from an ICMP
 * error, recvmsg with IP_PKTINFO control data, sendmmsg and recvmmsg
 * (MSG_WAITFORONE), FIONREAD, and a blocking recv woken by another process. */
#include "ward_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

static int bound(int family, struct sockaddr_storage *a, socklen_t *al)
{
	int s = CHECK_OK(socket(family, SOCK_DGRAM, 0));
	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		struct sockaddr_in *v4 = (struct sockaddr_in *)a;
		v4->sin_family = AF_INET;
		v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*al = sizeof(*v4);
	} else {
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)a;
		v6->sin6_family = AF_INET6;
		v6->sin6_addr = in6addr_loopback;
		*al = sizeof(*v6);
	}
	CHECK_OK(bind(s, (struct sockaddr *)a, *al));
	*al = sizeof(*a);
	CHECK_OK(getsockname(s, (struct sockaddr *)a, al));
	return s;
}

static void test_basic(int family)
{
	struct sockaddr_storage ra, sa;
	socklen_t ral, sal;
	int r = bound(family, &ra, &ral);
	int s = bound(family, &sa, &sal);
	CHECK_EQ(sendto(s, "one", 3, 0, (struct sockaddr *)&ra, ral), 3);
	CHECK_EQ(sendto(s, "", 0, 0, (struct sockaddr *)&ra, ral), 0);
	CHECK_EQ(sendto(s, "three33", 7, 0, (struct sockaddr *)&ra, ral), 7);
	char buf[64];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	struct pollfd p = { r, POLLIN, 0 };
	CHECK_EQ(poll(&p, 1, 5000), 1);
	int n = -1;
	CHECK_OK(ioctl(r, FIONREAD, &n));
	CHECK_EQ(n, 3);
	CHECK_EQ(recvfrom(r, buf, sizeof(buf), MSG_PEEK, NULL, NULL), 3);
	CHECK_EQ(recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 3);
	CHECK(memcmp(buf, "one", 3) == 0);
	CHECK_EQ(fl, sal);
	CHECK(memcmp(&from, &sa, sal) == 0);
	CHECK_EQ(recv(r, buf, sizeof(buf), 0), 0); /* the empty datagram */
	/* Truncation: the rest of the datagram is gone; MSG_TRUNC gives the
	 * real length. */
	CHECK_EQ(recv(r, buf, 2, MSG_PEEK | MSG_TRUNC), 7);
	struct iovec v = { buf, 2 };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
	CHECK_EQ(recvmsg(r, &m, 0), 2);
	CHECK(m.msg_flags & MSG_TRUNC);
	CHECK_ERRNO(recv(r, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	/* Unconnected send: EDESTADDRREQ; too big: EMSGSIZE. */
	CHECK_ERRNO(send(s, "x", 1, 0), EDESTADDRREQ);
	static char big[70000];
	CHECK_ERRNO(sendto(s, big, sizeof(big), 0, (struct sockaddr *)&ra, ral), EMSGSIZE);
	/* Connected: send and recv, and datagrams from others are filtered. */
	CHECK_OK(connect(s, (struct sockaddr *)&ra, ral));
	CHECK_EQ(send(s, "conn", 4, 0), 4);
	CHECK_EQ(recv(r, buf, sizeof(buf), 0), 4);
	struct sockaddr_storage pa;
	socklen_t pl = sizeof(pa);
	CHECK_OK(getpeername(s, (struct sockaddr *)&pa, &pl));
	CHECK_EQ(pl, ral);
	/* Disconnect with AF_UNSPEC. */
	struct sockaddr un = { .sa_family = AF_UNSPEC };
	CHECK_OK(connect(s, &un, sizeof(un)));
	pl = sizeof(pa);
	CHECK_ERRNO(getpeername(s, (struct sockaddr *)&pa, &pl), ENOTCONN);
	close(s);
	/* A connected socket whose peer is gone hears ECONNREFUSED. */
	int gone = bound(family, &sa, &sal);
	close(gone);
	int c = CHECK_OK(socket(family, SOCK_DGRAM, 0));
	CHECK_OK(connect(c, (struct sockaddr *)&sa, sal));
	CHECK_EQ(send(c, "x", 1, 0), 1);
	p.fd = c;
	p.events = POLLIN;
	CHECK_EQ(poll(&p, 1, 5000), 1);
	CHECK(p.revents & POLLERR);
	CHECK_ERRNO(recv(c, buf, sizeof(buf), 0), ECONNREFUSED);
	close(c);
	close(r);
}

static void test_pktinfo(void)
{
	struct sockaddr_storage ra;
	socklen_t ral;
	int r = bound(AF_INET, &ra, &ral);
	int on = 1;
	CHECK_OK(setsockopt(r, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)));
	int s = CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	CHECK_EQ(sendto(s, "pk", 2, 0, (struct sockaddr *)&ra, ral), 2);
	char buf[8];
	union {
		char b[256];
		struct cmsghdr align;
	} ctl;
	struct iovec v = { buf, sizeof(buf) };
	struct sockaddr_in from;
	struct msghdr m = { .msg_name = &from,
			    .msg_namelen = sizeof(from),
			    .msg_iov = &v,
			    .msg_iovlen = 1,
			    .msg_control = ctl.b,
			    .msg_controllen = sizeof(ctl.b) };
	CHECK_EQ(recvmsg(r, &m, 0), 2);
	CHECK_EQ(m.msg_namelen, sizeof(from));
	CHECK_EQ(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ(c->cmsg_level, IPPROTO_IP);
		CHECK_EQ(c->cmsg_type, IP_PKTINFO);
		struct in_pktinfo pi;
		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		CHECK_EQ(pi.ipi_addr.s_addr, htonl(INADDR_LOOPBACK));
	}
	/* A too-small control buffer: MSG_CTRUNC. */
	CHECK_EQ(sendto(s, "pk", 2, 0, (struct sockaddr *)&ra, ral), 2);
	m.msg_controllen = 4;
	m.msg_namelen = sizeof(from);
	CHECK_EQ(recvmsg(r, &m, 0), 2);
	CHECK(m.msg_flags & MSG_CTRUNC);
	/* sendmsg with an IP_TOS control message. */
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} sctl;
	memset(&sctl, 0, sizeof(sctl));
	struct msghdr sm = { .msg_name = &ra,
			     .msg_namelen = ral,
			     .msg_iov = &v,
			     .msg_iovlen = 1,
			     .msg_control = sctl.b,
			     .msg_controllen = sizeof(sctl.b) };
	v.iov_len = 3;
	memcpy(buf, "tos", 3);
	struct cmsghdr *sc = CMSG_FIRSTHDR(&sm);
	sc->cmsg_level = IPPROTO_IP;
	sc->cmsg_type = IP_TOS;
	sc->cmsg_len = CMSG_LEN(sizeof(int));
	int tos = 0x10;
	memcpy(CMSG_DATA(sc), &tos, sizeof(tos));
	CHECK_EQ(sendmsg(s, &sm, 0), 3);
	CHECK_EQ(recv(r, buf, sizeof(buf), 0), 3);
	close(s);
	close(r);
}

static void test_mmsg(void)
{
	struct sockaddr_storage ra;
	socklen_t ral;
	int r = bound(AF_INET6, &ra, &ral);
	int s = CHECK_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	CHECK_OK(connect(s, (struct sockaddr *)&ra, ral));
	struct iovec v[3] = { { "a", 1 }, { "bb", 2 }, { "ccc", 3 } };
	struct mmsghdr mm[3];
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < 3; i++) {
		mm[i].msg_hdr.msg_iov = &v[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	CHECK_EQ(sendmmsg(s, mm, 3, 0), 3);
	CHECK_EQ(mm[0].msg_len, 1);
	CHECK_EQ(mm[2].msg_len, 3);
	char b[4][8];
	struct iovec rv[4];
	struct mmsghdr rm[4];
	memset(rm, 0, sizeof(rm));
	for (int i = 0; i < 4; i++) {
		rv[i] = (struct iovec){ b[i], sizeof(b[i]) };
		rm[i].msg_hdr.msg_iov = &rv[i];
		rm[i].msg_hdr.msg_iovlen = 1;
	}
	struct pollfd p = { r, POLLIN, 0 };
	CHECK_EQ(poll(&p, 1, 5000), 1);
	usleep(50000);
	/* Three are queued; WAITFORONE returns them without waiting for a 4th. */
	CHECK_EQ(recvmmsg(r, rm, 4, MSG_WAITFORONE, NULL), 3);
	CHECK_EQ(rm[0].msg_len, 1);
	CHECK_EQ(rm[1].msg_len, 2);
	CHECK_EQ(rm[2].msg_len, 3);
	CHECK(memcmp(b[2], "ccc", 3) == 0);
	CHECK_ERRNO(recvmmsg(r, rm, 4, MSG_DONTWAIT, NULL), EAGAIN);
	close(s);
	close(r);
}

/* A blocking recv sleeps until another process sends. */
static void test_blocking(void)
{
	struct sockaddr_storage ra;
	socklen_t ral;
	int r = bound(AF_INET, &ra, &ral);
	pid_t pid = fork();
	if (pid == 0) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		usleep(100000);
		sendto(s, "late", 4, 0, (struct sockaddr *)&ra, ral);
		_exit(0);
	}
	char buf[8];
	CHECK_EQ(recv(r, buf, sizeof(buf), 0), 4);
	CHECK(memcmp(buf, "late", 4) == 0);
	waitpid(pid, NULL, 0);
	close(r);
}

int main(void)
{
	test_basic(AF_INET);
	test_basic(AF_INET6);
	test_pktinfo();
	test_mmsg();
	test_blocking();
	return test_done();
}
