/* Socket options of TCP and UDP sockets: SO_REUSEADDR, SO_REUSEPORT (two
 * listeners on one port), SO_KEEPALIVE, SO_LINGER, SO_SNDBUF/SO_RCVBUF
 * doubling, SO_ERROR, SO_ACCEPTCONN, SO_SNDTIMEO, TCP_NODELAY, TCP_KEEPIDLE,
 * TCP_KEEPINTVL, TCP_KEEPCNT, TCP_INFO, IP_TOS, IP_TTL, IPV6_V6ONLY (and
 * what it does to a dual-stack bind), unknown options and levels
 * (ENOPROTOOPT), bad lengths and pointers. */
#include "ward_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

static int geti(int s, int level, int name)
{
	int v = -12345;
	socklen_t l = sizeof(v);
	CHECK_OK(getsockopt(s, level, name, &v, &l));
	CHECK_EQ(l, sizeof(int));
	return v;
}

static void seti(int s, int level, int name, int v)
{
	CHECK_OK(setsockopt(s, level, name, &v, sizeof(v)));
}

static void test_socket_level(void)
{
	int s = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_EQ(geti(s, SOL_SOCKET, SO_REUSEADDR), 0);
	seti(s, SOL_SOCKET, SO_REUSEADDR, 5);
	CHECK_EQ(geti(s, SOL_SOCKET, SO_REUSEADDR), 1);
	seti(s, SOL_SOCKET, SO_KEEPALIVE, 1);
	CHECK_EQ(geti(s, SOL_SOCKET, SO_KEEPALIVE), 1);
	seti(s, SOL_SOCKET, SO_SNDBUF, 65536);
	CHECK_EQ(geti(s, SOL_SOCKET, SO_SNDBUF), 131072);
	seti(s, SOL_SOCKET, SO_RCVBUF, 32768);
	CHECK_EQ(geti(s, SOL_SOCKET, SO_RCVBUF), 65536);
	CHECK_EQ(geti(s, SOL_SOCKET, SO_ERROR), 0);
	CHECK_EQ(geti(s, SOL_SOCKET, SO_ACCEPTCONN), 0);
	struct linger lg = { 1, 7 }, lg2;
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	socklen_t l = sizeof(lg2);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_LINGER, &lg2, &l));
	CHECK_EQ(l, sizeof(lg2));
	CHECK_EQ(lg2.l_onoff, 1);
	CHECK_EQ(lg2.l_linger, 7);
	CHECK_ERRNO(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, 4), EINVAL);
	struct timeval tv = { 2, 500000 }, tv2;
	CHECK_OK(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	l = sizeof(tv2);
	CHECK_OK(getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv2, &l));
	CHECK_EQ(tv2.tv_sec, 2);
	CHECK_EQ(tv2.tv_usec, 500000);
	/* Unknown names and levels. */
	int v = 1;
	CHECK_ERRNO(setsockopt(s, SOL_SOCKET, 9999, &v, sizeof(v)), ENOPROTOOPT);
	l = sizeof(v);
	CHECK_ERRNO(getsockopt(s, SOL_SOCKET, 9999, &v, &l), ENOPROTOOPT);
	CHECK_ERRNO(setsockopt(s, 9999, 1, &v, sizeof(v)), ENOPROTOOPT);
	CHECK_ERRNO(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2), EINVAL);
	CHECK_ERRNO(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, (void *)8, sizeof(v)), EFAULT);
	l = sizeof(v);
	CHECK_ERRNO(getsockopt(s, SOL_SOCKET, SO_REUSEADDR, (void *)8, &l), EFAULT);
	int neg = -1;
	CHECK_ERRNO(getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, (socklen_t *)&neg), EINVAL);
	/* SO_TYPE is read-only. */
	CHECK_ERRNO(setsockopt(s, SOL_SOCKET, SO_TYPE, &v, sizeof(v)), ENOPROTOOPT);
	CHECK_OK(listen(s, 1));
	CHECK_EQ(geti(s, SOL_SOCKET, SO_ACCEPTCONN), 1);
	close(s);
}

static void test_tcp_level(void)
{
	int s = CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0));
	CHECK_EQ(geti(s, IPPROTO_TCP, TCP_NODELAY), 0);
	seti(s, IPPROTO_TCP, TCP_NODELAY, 1);
	CHECK_EQ(geti(s, IPPROTO_TCP, TCP_NODELAY), 1);
	seti(s, IPPROTO_TCP, TCP_KEEPIDLE, 30);
	CHECK_EQ(geti(s, IPPROTO_TCP, TCP_KEEPIDLE), 30);
	seti(s, IPPROTO_TCP, TCP_KEEPINTVL, 5);
	CHECK_EQ(geti(s, IPPROTO_TCP, TCP_KEEPINTVL), 5);
	seti(s, IPPROTO_TCP, TCP_KEEPCNT, 3);
	CHECK_EQ(geti(s, IPPROTO_TCP, TCP_KEEPCNT), 3);
	int v = 0;
	CHECK_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)), EINVAL);
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	CHECK_OK(getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &l));
	CHECK_EQ(ti.tcpi_state, TCP_CLOSE);
	/* IPv6 level. */
	CHECK_EQ(geti(s, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	seti(s, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	CHECK_EQ(geti(s, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	/* A v6-only socket refuses a v4-mapped address. */
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr);
	CHECK_ERRNO(bind(s, (struct sockaddr *)&a, sizeof(a)), EINVAL);
	close(s);
	/* A UDP socket has no TCP options. */
	int u = CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	v = 1;
	CHECK_ERRNO(setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), ENOPROTOOPT);
	close(u);
}

static void test_ip_level(void)
{
	int s = CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0));
	seti(s, IPPROTO_IP, IP_TOS, 0x10);
	CHECK_EQ(geti(s, IPPROTO_IP, IP_TOS), 0x10);
	seti(s, IPPROTO_IP, IP_TTL, 9);
	CHECK_EQ(geti(s, IPPROTO_IP, IP_TTL), 9);
	CHECK_ERRNO(setsockopt(s, IPPROTO_IP, IP_TTL, &(int){ 300 }, sizeof(int)), EINVAL);
	seti(s, SOL_SOCKET, SO_BROADCAST, 1);
	CHECK_EQ(geti(s, SOL_SOCKET, SO_BROADCAST), 1);
	close(s);
}

static void test_reuseport(void)
{
	int a = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	int b = CHECK_OK(socket(AF_INET, SOCK_STREAM, 0));
	seti(a, SOL_SOCKET, SO_REUSEPORT, 1);
	seti(b, SOL_SOCKET, SO_REUSEPORT, 1);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_OK(bind(a, (struct sockaddr *)&sa, sizeof(sa)));
	socklen_t l = sizeof(sa);
	CHECK_OK(getsockname(a, (struct sockaddr *)&sa, &l));
	CHECK_OK(listen(a, 1));
	CHECK_OK(bind(b, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK_OK(listen(b, 1));
	close(a);
	close(b);
}

int main(void)
{
	test_socket_level();
	test_tcp_level();
	test_ip_level();
	test_reuseport();
	return test_done();
}
