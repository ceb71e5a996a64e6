/* NETLINK_ROUTE: socket, bind and getsockname, an RTM_GETLINK dump that
 * lists lo and ends with NLMSG_DONE, RTM_GETADDR with lo's 127.0.0.1, a get
 * of a missing link answered with NLMSG_ERROR (-ENODEV), an acked request,
 * getifaddrs() and if_nametoindex(), and unsupported protocols. */
#include "ward_test.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>

static int nl_open(void)
{
	int s = CHECK_OK(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	CHECK_OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
	socklen_t l = sizeof(a);
	CHECK_OK(getsockname(s, (struct sockaddr *)&a, &l));
	CHECK_EQ(l, sizeof(a));
	CHECK_EQ(a.nl_family, AF_NETLINK);
	CHECK(a.nl_pid != 0);
	return s;
}

static void nl_send(int s, uint16_t type, uint16_t flags, const void *body, size_t blen, uint32_t seq)
{
	char buf[256];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	memset(buf, 0, sizeof(buf));
	h->nlmsg_len = NLMSG_LENGTH(blen);
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	memcpy(NLMSG_DATA(h), body, blen);
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	CHECK_EQ(sendto(s, buf, h->nlmsg_len, 0, (struct sockaddr *)&k, sizeof(k)), h->nlmsg_len);
}

/* Reads a dump to NLMSG_DONE; returns what it saw. */
static void dump(int s, uint32_t seq, bool *saw_lo, bool *saw_127, int *nerr)
{
	static char buf[65536];
	for (;;) {
		struct sockaddr_nl from;
		struct iovec v = { buf, sizeof(buf) };
		struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &v, .msg_iovlen = 1 };
		ssize_t n = recvmsg(s, &m, 0);
		CHECK(n > 0);
		if (n <= 0)
			return;
		CHECK_EQ(m.msg_namelen, sizeof(from));
		CHECK_EQ(from.nl_pid, 0); /* from the kernel */
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			CHECK_EQ(h->nlmsg_seq, seq);
			if (h->nlmsg_type == NLMSG_DONE)
				return;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				*nerr = e->error;
				return;
			}
			if (h->nlmsg_type == RTM_NEWLINK) {
				struct ifinfomsg *ifi = NLMSG_DATA(h);
				int len = (int)IFLA_PAYLOAD(h);
				for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
					if (a->rta_type == IFLA_IFNAME && strcmp(RTA_DATA(a), "lo") == 0)
						*saw_lo = ifi->ifi_index == 1 && (ifi->ifi_flags & IFF_LOOPBACK);
			} else if (h->nlmsg_type == RTM_NEWADDR) {
				struct ifaddrmsg *ifa = NLMSG_DATA(h);
				int len = (int)IFA_PAYLOAD(h);
				for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len))
					if (ifa->ifa_family == AF_INET && a->rta_type == IFA_LOCAL &&
					    *(uint32_t *)RTA_DATA(a) == htonl(INADDR_LOOPBACK))
						*saw_127 = ifa->ifa_prefixlen == 8;
			}
		}
	}
}

static void test_raw(void)
{
	int s = nl_open();
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	nl_send(s, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &ifi, sizeof(ifi), 1);
	bool lo = false, a127 = false;
	int err = 0;
	dump(s, 1, &lo, &a127, &err);
	CHECK(lo);
	CHECK_EQ(err, 0);
	struct ifaddrmsg ifa = { .ifa_family = AF_INET };
	nl_send(s, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, &ifa, sizeof(ifa), 2);
	dump(s, 2, &lo, &a127, &err);
	CHECK(a127);
	CHECK_EQ(err, 0);
	/* One link by index: lo is 1; a missing one is -ENODEV. */
	struct ifinfomsg one = { .ifi_family = AF_UNSPEC, .ifi_index = 1 };
	lo = false;
	nl_send(s, RTM_GETLINK, NLM_F_REQUEST, &one, sizeof(one), 3);
	static char buf[65536];
	ssize_t n = recv(s, buf, sizeof(buf), 0);
	CHECK(n > 0);
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	CHECK_EQ(h->nlmsg_type, RTM_NEWLINK);
	one.ifi_index = 0x7ffffff0;
	nl_send(s, RTM_GETLINK, NLM_F_REQUEST, &one, sizeof(one), 4);
	n = recv(s, buf, sizeof(buf), 0);
	CHECK(n > 0);
	CHECK_EQ(h->nlmsg_type, NLMSG_ERROR);
	CHECK_EQ(((struct nlmsgerr *)NLMSG_DATA(h))->error, -ENODEV);
	CHECK_EQ(h->nlmsg_seq, 4);
	/* Nothing more: a non-blocking read gets EAGAIN; poll says so too. */
	CHECK_ERRNO(recv(s, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	struct pollfd p = { s, POLLIN, 0 };
	CHECK_EQ(poll(&p, 1, 0), 0);
	close(s);
	/* A datagram socket works the same. */
	s = CHECK_OK(socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE));
	nl_send(s, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &ifi, sizeof(ifi), 5);
	lo = false;
	dump(s, 5, &lo, &a127, &err);
	CHECK(lo);
	close(s);
}

static void test_libc(void)
{
	struct ifaddrs *ifs = NULL;
	CHECK_OK(getifaddrs(&ifs));
	bool lo4 = false, lo6 = false, lolink = false;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (strcmp(i->ifa_name, "lo") != 0 || !i->ifa_addr)
			continue;
		CHECK(i->ifa_flags & IFF_UP);
		if (i->ifa_addr->sa_family == AF_INET)
			lo4 = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
		else if (i->ifa_addr->sa_family == AF_INET6)
			lo6 = IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr);
		else if (i->ifa_addr->sa_family == AF_PACKET)
			lolink = true;
	}
	CHECK(lo4);
	CHECK(lo6);
	CHECK(lolink);
	freeifaddrs(ifs);
	CHECK_EQ(if_nametoindex("lo"), 1);
	char name[IF_NAMESIZE];
	CHECK(if_indextoname(1, name) != NULL);
	CHECK_STREQ(name, "lo");
}

int main(void)
{
	CHECK_ERRNO(socket(AF_NETLINK, SOCK_RAW, 9999), EPROTONOSUPPORT);
	CHECK_ERRNO(socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE), ESOCKTNOSUPPORT);
	test_raw();
	test_libc();
	return test_done();
}
