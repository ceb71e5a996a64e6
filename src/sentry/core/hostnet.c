/* The host door for networking: the sandbox's network namespace, host
 * sockets, and the event thread that turns host readiness into wake-ups.
 *
 * Why this is trusted: these are the only host socket calls the sentry
 * makes. Each one acts on a descriptor this file created and recorded as a
 * socket (a service cannot make up a handle that reaches a file or the
 * sentry's own descriptors), of a domain and type fixed here (AF_INET and
 * AF_INET6 stream and datagram, AF_NETLINK NETLINK_ROUTE), opened inside the
 * sandbox's network namespace (only loopback, unless the user chose
 * --network=host; see net_enter). The sentry runs as root there, so the calls that
 * could use that privilege are narrowed here, not in a service: setsockopt
 * takes only plain-data options that need no capability (no BPF programs;
 * SO_MARK and SO_*BUFFORCE are EPERM, as without the capability), control
 * messages are IP-level data only
 * (never SCM_RIGHTS of the sentry's descriptors), and a netlink socket
 * sends only get-requests to the kernel, checked in the core's own copy of
 * the message. Data to and from guest memory moves through host iovecs
 * into the memory file that the guest's address-space lock keeps mapped,
 * for the length of one call that never waits. */
#include "core.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/sockios.h>

#include "ward/sched.h"

/* --- The network namespace ---------------------------------------------- */

static long write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	long r = n < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* Brings up lo in the calling thread's network namespace: a fresh one of
 * Linux has it down. */
static long bring_up_lo(char *err, size_t errlen)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		snprintf(err, errlen, "cannot open a socket to bring up lo: %s", strerror(errno));
		return -errno;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	long r = 0;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (r == 0 && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		r = -errno;
	close(s);
	if (r < 0)
		snprintf(err, errlen, "cannot bring up lo: %s", strerror((int)-r));
	return r;
}

/* Whether the sentry may make a network namespace at any time, from any of
 * its threads: with CAP_SYS_ADMIN, unshare(CLONE_NEWNET) needs no user
 * namespace (which only a single-threaded process may make). */
static bool may_unshare_net(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[CAP_SYS_ADMIN / 32].effective & (1U << (CAP_SYS_ADMIN % 32));
}

/* Making a network namespace costs about half a millisecond (and as much
 * again to destroy), a third of a sandbox's start-up, and most programs
 * never open an AF_INET, AF_INET6 or AF_NETLINK socket. So where it can,
 * the sentry makes it on first use: the first thread that needs a host
 * socket unshares into a new namespace, and every other thread enters that
 * namespace (setns) before its first host socket. The namespace is per
 * thread, and a thread not yet in it is in the host's network: every host
 * socket is made in this file, and only after net_enter succeeded, so none
 * is ever made there. Guarded by ns_lock; ns_joined is per thread. */
static pthread_mutex_t ns_lock = PTHREAD_MUTEX_INITIALIZER;
static bool ns_lazy; /* the namespace is made on first use */
static int ns_fd = -1; /* the namespace, once made */
static long ns_err; /* why it could not be made: then no host socket */
static __thread bool ns_joined;

/* Puts the calling thread in the sandbox's network namespace (made if it
 * is the first to need it). Returns 0, or -errno when it cannot: the
 * caller then makes no socket. */
static long net_enter(void)
{
	if (!ns_lazy || ns_joined)
		return 0;
	pthread_mutex_lock(&ns_lock);
	long r = ns_err;
	if (r == 0 && ns_fd >= 0) {
		if (setns(ns_fd, CLONE_NEWNET) < 0)
			r = -errno;
	} else if (r == 0) {
		char err[256];
		if (unshare(CLONE_NEWNET) < 0) {
			r = -errno;
			snprintf(err, sizeof(err), "cannot make a network namespace: %s", strerror(errno));
		} else if ((ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
			/* This thread is in a namespace of its own, without lo:
			 * isolated still, and never used. */
			r = -errno;
			snprintf(err, sizeof(err), "cannot open the network namespace: %s", strerror(errno));
		} else {
			r = bring_up_lo(err, sizeof(err));
		}
		if (r < 0) {
			ns_err = r;
			ward_log(WARD_LOG_WARN, "%s: the sandbox has no network", err);
		}
	}
	if (r == 0)
		ns_joined = true;
	pthread_mutex_unlock(&ns_lock);
	return r;
}

long ward_host_net_init(enum ward_network mode, char *err, size_t errlen)
{
	if (mode == WARD_NETWORK_HOST)
		return 0;
	if (may_unshare_net()) {
		ns_lazy = true;
		return 0;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		if (errno != EPERM) {
			snprintf(err, errlen, "cannot make a network namespace: %s", strerror(errno));
			return -errno;
		}
		/* Unprivileged: a user namespace of our own, with our uid and gid
		 * mapped to themselves, owns the new network namespace, so host
		 * files are reached with the same ids as before. It is made now,
		 * while the sentry has one thread: unshare(CLONE_NEWUSER) needs
		 * that, and every later thread inherits the main thread's
		 * namespaces. */
		uid_t uid = getuid();
		gid_t gid = getgid();
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
			snprintf(err, errlen,
				 "cannot make a network namespace (nor a user namespace for one): %s "
				 "(--network=host runs in the host's network instead)",
				 strerror(errno));
			return -errno;
		}
		char map[64];
		long r = write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "%u %u 1", (unsigned)uid, (unsigned)uid);
		if (r == 0)
			r = write_file("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "%u %u 1", (unsigned)gid, (unsigned)gid);
		if (r == 0)
			r = write_file("/proc/self/gid_map", map);
		if (r < 0) {
			snprintf(err, errlen, "cannot map ids in the user namespace: %s", strerror((int)-r));
			return r;
		}
	}
	return bring_up_lo(err, errlen);
}

/* --- The registry of host sockets --------------------------------------- */

enum { SK_NONE, SK_INET, SK_INET6, SK_NETLINK };

struct sk_info {
	uint8_t family; /* SK_* */
	uint8_t dgram;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sk_info *reg;
static size_t reg_cap;

static long reg_add(int fd, uint8_t family, bool dgram)
{
	long r = 0;
	pthread_mutex_lock(&reg_lock);
	if ((size_t)fd >= reg_cap) {
		size_t cap = reg_cap ? reg_cap : 64;
		while (cap <= (size_t)fd)
			cap *= 2;
		struct sk_info *n = realloc(reg, cap * sizeof(*n));
		if (!n) {
			r = -ENOMEM;
		} else {
			memset(n + reg_cap, 0, (cap - reg_cap) * sizeof(*n));
			reg = n;
			reg_cap = cap;
		}
	}
	if (r == 0)
		reg[fd] = (struct sk_info){ family, dgram };
	pthread_mutex_unlock(&reg_lock);
	return r;
}

/* The socket's record, or family SK_NONE when s is no socket of ours. */
static struct sk_info reg_get(ward_hostsock_t s)
{
	struct sk_info i = { SK_NONE, 0 };
	pthread_mutex_lock(&reg_lock);
	if (s.fd >= 0 && (size_t)s.fd < reg_cap)
		i = reg[s.fd];
	pthread_mutex_unlock(&reg_lock);
	return i;
}

void ward__sock_forget(int fd)
{
	pthread_mutex_lock(&reg_lock);
	if (fd >= 0 && (size_t)fd < reg_cap)
		reg[fd].family = SK_NONE;
	pthread_mutex_unlock(&reg_lock);
}

#define CHECKED(s, info)                  \
	struct sk_info info = reg_get(s); \
	if (info.family == SK_NONE)       \
		return -EBADF;

long ward_host_socket(int domain, int type, int protocol, ward_hostsock_t *out)
{
	uint8_t fam;
	bool dgram;
	if (domain == AF_INET || domain == AF_INET6) {
		fam = domain == AF_INET ? SK_INET : SK_INET6;
		if (type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP))
			dgram = false;
		else if (type == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))
			dgram = true;
		else
			return -EPERM;
	} else if (domain == AF_NETLINK && (type == SOCK_RAW || type == SOCK_DGRAM) && protocol == NETLINK_ROUTE) {
		fam = SK_NETLINK;
		dgram = true;
	} else {
		return -EPERM;
	}
	long r = net_enter();
	if (r < 0)
		return r;
	int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
	if (fd < 0)
		return -errno;
	r = reg_add(fd, fam, dgram);
	if (r < 0) {
		close(fd);
		return r;
	}
	*out = (ward_hostsock_t){ fd };
	return 0;
}

void ward_host_sock_close(ward_hostsock_t s)
{
	struct sk_info i = reg_get(s);
	if (i.family == SK_NONE)
		return;
	ward__sock_forget(s.fd);
	close(s.fd);
}

/* An address for bind, connect or sendto: at most 128 bytes. A netlink
 * socket talks to the kernel only. Other checks (length, family) are the
 * host kernel's, which answers as Linux does. */
static long addr_ok(struct sk_info i, const void *addr, uint32_t len, bool to_peer)
{
	if (len > sizeof(struct sockaddr_storage))
		return -EINVAL;
	if (i.family == SK_NETLINK && to_peer && len >= sizeof(struct sockaddr_nl)) {
		struct sockaddr_nl nl;
		memcpy(&nl, addr, sizeof(nl));
		if (nl.nl_family == AF_NETLINK && (nl.nl_pid != 0 || nl.nl_groups != 0))
			return -EPERM;
	}
	return 0;
}

long ward_host_sock_bind(ward_hostsock_t s, const void *addr, uint32_t len)
{
	CHECKED(s, i);
	long r = addr_ok(i, addr, len, false);
	if (r < 0)
		return r;
	return bind(s.fd, addr, len) < 0 ? -errno : 0;
}

long ward_host_sock_connect(ward_hostsock_t s, const void *addr, uint32_t len)
{
	CHECKED(s, i);
	long r = addr_ok(i, addr, len, true);
	if (r < 0)
		return r;
	return connect(s.fd, addr, len) < 0 ? -errno : 0;
}

long ward_host_sock_listen(ward_hostsock_t s, int backlog)
{
	CHECKED(s, i);
	(void)i;
	return listen(s.fd, backlog) < 0 ? -errno : 0;
}

long ward_host_sock_accept(ward_hostsock_t s, ward_hostsock_t *out, void *addr, uint32_t *addrlen)
{
	CHECKED(s, i);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = accept4(s.fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	long r = reg_add(fd, i.family, i.dgram);
	if (r < 0) {
		close(fd);
		return r;
	}
	memcpy(addr, &ss, WARD_MIN((size_t)*addrlen, (size_t)sl));
	*addrlen = sl;
	*out = (ward_hostsock_t){ fd };
	return 0;
}

long ward_host_sock_shutdown(ward_hostsock_t s, int how)
{
	CHECKED(s, i);
	(void)i;
	return shutdown(s.fd, how) < 0 ? -errno : 0;
}

long ward_host_sock_getname(ward_hostsock_t s, int peer, void *addr, uint32_t *addrlen)
{
	CHECKED(s, i);
	(void)i;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int r = peer ? getpeername(s.fd, (struct sockaddr *)&ss, &sl) : getsockname(s.fd, (struct sockaddr *)&ss, &sl);
	if (r < 0)
		return -errno;
	memcpy(addr, &ss, WARD_MIN((size_t)*addrlen, (size_t)sl));
	*addrlen = sl;
	return 0;
}

#define OPT_MAX 256

/* Options that need CAP_NET_ADMIN or CAP_NET_RAW, which the sentry has in
 * its namespace and the guest must not borrow. */
static bool privileged(int level, int name)
{
	if (level == SOL_SOCKET)
		return name == SO_MARK || name == SO_SNDBUFFORCE || name == SO_RCVBUFFORCE;
	if (level == IPPROTO_IP)
		return name == IP_TRANSPARENT;
	if (level == IPPROTO_IPV6)
		return name == IPV6_TRANSPARENT;
	return false;
}

/* Options a guest may set: plain data, no capability needed. */
/* An option allowlist: the names of one level. */
struct opt_list {
	int level;
	const int *names;
	size_t n;
};

static bool in_opt_lists(const struct opt_list *lists, size_t nlists, int level, int name)
{
	for (size_t i = 0; i < nlists; i++) {
		if (lists[i].level != level)
			continue;
		for (size_t k = 0; k < lists[i].n; k++)
			if (lists[i].names[k] == name)
				return true;
	}
	return false;
}

static bool settable(int level, int name)
{
	static const int sol_socket[] = { SO_REUSEADDR,	   SO_KEEPALIVE,   SO_BROADCAST, SO_LINGER,   SO_SNDBUF,
					  SO_RCVBUF,	   SO_REUSEPORT,   SO_OOBINLINE, SO_RCVLOWAT, SO_SNDLOWAT,
					  SO_TIMESTAMP,	   SO_TIMESTAMPNS, SO_DONTROUTE, SO_PASSCRED, SO_BUSY_POLL,
					  SO_INCOMING_CPU, SO_BINDTODEVICE };
	static const int sol_ip[] = { IP_TOS,
				      IP_TTL,
				      IP_RECVTTL,
				      IP_RECVTOS,
				      IP_PKTINFO,
				      IP_MULTICAST_TTL,
				      IP_MULTICAST_LOOP,
				      IP_RECVERR,
				      IP_MTU_DISCOVER,
				      IP_FREEBIND,
				      IP_BIND_ADDRESS_NO_PORT,
				      IP_RECVORIGDSTADDR,
				      IP_ADD_MEMBERSHIP,
				      IP_DROP_MEMBERSHIP,
				      IP_MULTICAST_IF };
	static const int sol_ipv6[] = { IPV6_V6ONLY,	  IPV6_UNICAST_HOPS,   IPV6_TCLASS,
					IPV6_RECVPKTINFO, IPV6_MULTICAST_LOOP, IPV6_MULTICAST_HOPS,
					IPV6_RECVERR,	  IPV6_MTU_DISCOVER,   IPV6_RECVHOPLIMIT,
					IPV6_RECVTCLASS,  IPV6_ADD_MEMBERSHIP, IPV6_DROP_MEMBERSHIP,
					IPV6_MULTICAST_IF };
	static const int sol_tcp[] = { TCP_NODELAY,	  TCP_MAXSEG,	 TCP_CORK,
				       TCP_KEEPIDLE,	  TCP_KEEPINTVL, TCP_KEEPCNT,
				       TCP_SYNCNT,	  TCP_LINGER2,	 TCP_DEFER_ACCEPT,
				       TCP_WINDOW_CLAMP,  TCP_QUICKACK,	 TCP_USER_TIMEOUT,
				       TCP_NOTSENT_LOWAT, TCP_FASTOPEN,	 TCP_FASTOPEN_CONNECT };
	static const int sol_udp[] = { 1 /* UDP_CORK */ };
	static const int sol_netlink[] = { NETLINK_ADD_MEMBERSHIP,  NETLINK_DROP_MEMBERSHIP, NETLINK_PKTINFO,
					   NETLINK_BROADCAST_ERROR, NETLINK_NO_ENOBUFS,	     NETLINK_CAP_ACK,
					   NETLINK_EXT_ACK,	    NETLINK_GET_STRICT_CHK };
	const struct opt_list lists[] = {
		{ SOL_SOCKET, sol_socket, WARD_ARRAY_SIZE(sol_socket) },
		{ IPPROTO_IP, sol_ip, WARD_ARRAY_SIZE(sol_ip) },
		{ IPPROTO_IPV6, sol_ipv6, WARD_ARRAY_SIZE(sol_ipv6) },
		{ IPPROTO_TCP, sol_tcp, WARD_ARRAY_SIZE(sol_tcp) },
		{ IPPROTO_UDP, sol_udp, WARD_ARRAY_SIZE(sol_udp) },
		{ SOL_NETLINK, sol_netlink, WARD_ARRAY_SIZE(sol_netlink) },
	};
	return in_opt_lists(lists, WARD_ARRAY_SIZE(lists), level, name);
}

/* Options a guest may read: what it may set, and read-only state. Not
 * everything: some "gets" act (TCP_ZEROCOPY_RECEIVE maps pages into the
 * caller, which would be the sentry) or dump what needs a capability
 * (the netfilter tables). */
static bool readable(int level, int name)
{
	static const int sol_socket[] = { SO_TYPE,
					  SO_ERROR,
					  SO_ACCEPTCONN,
					  SO_DOMAIN,
					  SO_PROTOCOL,
					  SO_PEERCRED,
					  SO_PRIORITY,
					  SO_MARK,
					  SO_COOKIE,
					  SO_DEBUG,
					  SO_NO_CHECK,
					  SO_PEEK_OFF,
					  SO_TIMESTAMPING,
					  SO_MEMINFO,
					  SO_BINDTOIFINDEX,
					  SO_PASSSEC,
					  SO_RXQ_OVFL,
					  SO_SELECT_ERR_QUEUE,
					  SO_ZEROCOPY,
					  SO_TXTIME,
					  SO_MAX_PACING_RATE,
					  SO_INCOMING_NAPI_ID,
					  SO_PEERNAME };
	static const int sol_ip[] = { IP_OPTIONS,	IP_HDRINCL,	 IP_RECVOPTS,	IP_RETOPTS,	IP_MTU,
				      IP_MULTICAST_ALL, IP_TRANSPARENT,	 IP_NODEFRAG,	IP_CHECKSUM,	IP_MINTTL,
				      IP_PASSSEC,	IP_RECVFRAGSIZE, IP_PKTOPTIONS, IP_ROUTER_ALERT };
	static const int sol_ipv6[] = { IPV6_MTU,	    IPV6_HOPLIMIT,    IPV6_TRANSPARENT,
					IPV6_AUTOFLOWLABEL, IPV6_DONTFRAG,    IPV6_RECVPATHMTU,
					IPV6_PATHMTU,	    IPV6_MINHOPCOUNT, IPV6_ADDR_PREFERENCES,
					IPV6_RECVRTHDR,	    IPV6_RECVHOPOPTS, IPV6_RECVDSTOPTS };
	static const int sol_tcp[] = { TCP_INFO,	TCP_CONGESTION, TCP_THIN_LINEAR_TIMEOUTS,
				       TCP_THIN_DUPACK, TCP_TIMESTAMP,	TCP_SAVE_SYN,
				       TCP_SAVED_SYN,	TCP_CC_INFO,	TCP_INQ,
				       TCP_TX_DELAY,	TCP_MAXSEG };
	static const int sol_udp[] = { 103 /* UDP_SEGMENT */, 104 /* UDP_GRO */ };
	static const int sol_netlink[] = { NETLINK_LIST_MEMBERSHIPS };
	if (settable(level, name) || privileged(level, name))
		return true;
	const struct opt_list lists[] = {
		{ SOL_SOCKET, sol_socket, WARD_ARRAY_SIZE(sol_socket) },
		{ IPPROTO_IP, sol_ip, WARD_ARRAY_SIZE(sol_ip) },
		{ IPPROTO_IPV6, sol_ipv6, WARD_ARRAY_SIZE(sol_ipv6) },
		{ IPPROTO_TCP, sol_tcp, WARD_ARRAY_SIZE(sol_tcp) },
		{ IPPROTO_UDP, sol_udp, WARD_ARRAY_SIZE(sol_udp) },
		{ SOL_NETLINK, sol_netlink, WARD_ARRAY_SIZE(sol_netlink) },
	};
	return in_opt_lists(lists, WARD_ARRAY_SIZE(lists), level, name);
}

long ward_host_sock_getopt(ward_hostsock_t s, int level, int name, void *val, uint32_t *len)
{
	CHECKED(s, i);
	(void)i;
	if (!readable(level, name))
		return -ENOPROTOOPT;
	if (*len > OPT_MAX)
		*len = OPT_MAX;
	socklen_t l = *len;
	if (getsockopt(s.fd, level, name, val, &l) < 0)
		return -errno;
	*len = l;
	return 0;
}

long ward_host_sock_setopt(ward_hostsock_t s, int level, int name, const void *val, uint32_t len)
{
	CHECKED(s, i);
	(void)i;
	if (len > OPT_MAX)
		return -EINVAL;
	if (level == SOL_SOCKET && name == SO_PRIORITY) {
		/* 0..6 need no privilege; more would use the sentry's. */
		int v;
		if (len < sizeof(v))
			return -EINVAL;
		memcpy(&v, val, sizeof(v));
		if (v < 0 || v > 6)
			return -EPERM;
	} else if (privileged(level, name)) {
		/* What Linux tells a process without CAP_NET_ADMIN/NET_RAW. */
		return -EPERM;
	} else if (!settable(level, name)) {
		return -ENOPROTOOPT;
	}
	return setsockopt(s.fd, level, name, val, len) < 0 ? -errno : 0;
}

long ward_host_sock_queued(ward_hostsock_t s, int outq)
{
	CHECKED(s, i);
	(void)i;
	int n = 0;
	if (ioctl(s.fd, outq ? SIOCOUTQ : SIOCINQ, &n) < 0)
		return -errno;
	return n;
}

unsigned int ward_host_sock_poll_now(ward_hostsock_t s, unsigned int events)
{
	struct sk_info i = reg_get(s);
	if (i.family == SK_NONE)
		return POLLNVAL;
	struct pollfd p = { s.fd, (short)events, 0 };
	if (poll(&p, 1, 0) < 0)
		return POLLERR;
	return (unsigned short)p.revents;
}

long ward_host_net_ifreq(unsigned int cmd, void *ifr)
{
	_Static_assert(sizeof(struct ifreq) == 40, "ifreq");
	switch (cmd) {
	case SIOCGIFNAME:
	case SIOCGIFFLAGS:
	case SIOCGIFADDR:
	case SIOCGIFDSTADDR:
	case SIOCGIFBRDADDR:
	case SIOCGIFNETMASK:
	case SIOCGIFMETRIC:
	case SIOCGIFMTU:
	case SIOCGIFHWADDR:
	case SIOCGIFINDEX:
	case SIOCGIFTXQLEN:
	case SIOCGIFMAP:
		break;
	default:
		return -ENOTTY;
	}
	/* A socket of the caller's thread, in the sandbox's namespace. */
	long e = net_enter();
	if (e < 0)
		return e;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq r;
	memcpy(&r, ifr, sizeof(r));
	r.ifr_name[IFNAMSIZ - 1] = 0;
	long ret = ioctl(s, cmd, &r) < 0 ? -errno : 0;
	close(s);
	if (ret == 0)
		memcpy(ifr, &r, sizeof(r));
	return ret;
}

/* --- Messages ------------------------------------------------------------ */

#define MSG_ALLOWED                                                                                            \
	(MSG_OOB | MSG_PEEK | MSG_DONTROUTE | MSG_TRUNC | MSG_DONTWAIT | MSG_EOR | MSG_WAITALL | MSG_CONFIRM | \
	 MSG_ERRQUEUE | MSG_NOSIGNAL | MSG_MORE | MSG_FASTOPEN)
#define HOST_IOV_MAX 1024

/* Control data a guest may send: IP- and IPv6-level messages only. */
static long ctl_ok(const void *ctl, size_t len)
{
	size_t off = 0;
	while (off + sizeof(struct cmsghdr) <= len) {
		struct cmsghdr h;
		memcpy(&h, (const uint8_t *)ctl + off, sizeof(h));
		if (h.cmsg_len < sizeof(h) || h.cmsg_len > len - off)
			return -EINVAL;
		if (h.cmsg_level != IPPROTO_IP && h.cmsg_level != IPPROTO_IPV6)
			return -EINVAL;
		off += CMSG_ALIGN(h.cmsg_len);
	}
	return 0;
}

/* Every message of a netlink send must be a get-request to the kernel
 * (RTM_GET*: type & 3 == 2), which needs no privilege on Linux. */
static long netlink_ok(const uint8_t *buf, size_t len)
{
	size_t off = 0;
	while (off + sizeof(struct nlmsghdr) <= len) {
		struct nlmsghdr h;
		memcpy(&h, buf + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
			break; /* the kernel drops a truncated message */
		if (h.nlmsg_type >= RTM_BASE && (h.nlmsg_type & 3) != 2)
			return -EPERM;
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	return 0;
}

static long do_msg(ward_hostsock_t s, struct ward_host_msg *m, int flags, bool is_send)
{
	CHECKED(s, i);
	if (flags & ~MSG_ALLOWED)
		return -EINVAL;
	flags |= MSG_DONTWAIT | MSG_NOSIGNAL;
	struct msghdr h;
	memset(&h, 0, sizeof(h));
	h.msg_name = m->addr;
	h.msg_namelen = m->addr ? m->addrlen : 0;
	h.msg_control = m->ctllen ? m->ctl : NULL;
	h.msg_controllen = m->ctllen;
	if (is_send && m->addr) {
		long r = addr_ok(i, m->addr, m->addrlen, true);
		if (r < 0)
			return r;
	}
	if (is_send && m->ctllen) {
		long r = i.family == SK_NETLINK ? -EINVAL : ctl_ok(m->ctl, m->ctllen);
		if (r < 0)
			return r;
	}
	if (is_send && i.family == SK_NETLINK) {
		if (m->as)
			return -EINVAL;
		long r = netlink_ok(m->buf, m->len);
		if (r < 0)
			return r;
	}
	ssize_t n;
	if (!m->as) {
		struct iovec v = { m->buf, m->len };
		h.msg_iov = &v;
		h.msg_iovlen = 1;
		n = is_send ? sendmsg(s.fd, &h, flags) : recvmsg(s.fd, &h, flags);
	} else {
		uint64_t want = 0;
		for (int k = 0; k < m->iovcnt; k++)
			want += m->iov[k].len;
		struct iovec *hv = malloc(HOST_IOV_MAX * sizeof(*hv));
		if (!hv)
			return -ENOMEM;
		size_t total = 0;
		int cnt;
		/* A receive writes guest memory behind the core's back: its
		 * copy-on-write pages are copied first (again, if a fork in
		 * another thread made them copy-on-write in between). */
		for (int tries = 0;; tries++) {
			if (!is_send)
				ward__as_break_cow_iov(m->as, m->iov, m->iovcnt);
			ward__as_rdlock(m->as);
			cnt = ward__as_host_iov(m->as, m->iov, m->iovcnt, is_send ? WARD_PROT_READ : WARD_PROT_WRITE,
						hv, HOST_IOV_MAX, &total);
			if (cnt != -2)
				break;
			ward__as_unlock(m->as);
			if (tries == 8) {
				free(hv);
				return -EFAULT;
			}
		}
		if (cnt < 0) {
			/* Too scattered for one host call: a stream moves what the
			 * first HOST_IOV_MAX pieces hold; a datagram must go whole. */
			if (i.dgram) {
				ward__as_unlock(m->as);
				free(hv);
				return -EMSGSIZE;
			}
			cnt = HOST_IOV_MAX;
		}
		if ((want && total == 0) || (i.dgram && total < want)) {
			ward__as_unlock(m->as);
			free(hv);
			return -EFAULT;
		}
		h.msg_iov = hv;
		h.msg_iovlen = (size_t)cnt;
		n = is_send ? sendmsg(s.fd, &h, flags) : recvmsg(s.fd, &h, flags);
		int e = errno;
		ward__as_unlock(m->as);
		free(hv);
		errno = e;
	}
	if (n < 0)
		return -errno;
	if (!is_send) {
		m->addrlen = m->addr ? h.msg_namelen : 0;
		m->ctllen = h.msg_controllen;
		m->msg_flags = h.msg_flags;
	}
	return n;
}

long ward_host_sock_sendmsg(ward_hostsock_t s, struct ward_host_msg *m, int flags)
{
	return do_msg(s, m, flags, true);
}

long ward_host_sock_recvmsg(ward_hostsock_t s, struct ward_host_msg *m, int flags)
{
	return do_msg(s, m, flags, false);
}

/* --- The event thread ----------------------------------------------------
 * A plain epoll thread rather than libuv's loop: a libuv handle may only be
 * touched on the loop's own thread, so every watch made by a task thread
 * would be a round trip through uv_async, while epoll_ctl may be called
 * from any thread and one epoll_wait loop is all this needs. Watches are
 * edge-triggered, so the thread sleeps until something changes and never
 * spins on a descriptor that stays ready. */

static int ep_fd = -1;
static void (*ready_fn)(uint64_t cookie);
static pthread_once_t ep_once = PTHREAD_ONCE_INIT;

static void *event_main(void *arg)
{
	(void)arg;
	/* Signals are for the task threads (kicks) and the main thread. */
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	struct epoll_event evs[64];
	for (;;) {
		int n = epoll_wait(ep_fd, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ward_log(WARD_LOG_ERROR, "event thread: epoll_wait: %s", strerror(errno));
			return NULL;
		}
		/* One lock for the batch; the handler wakes wait queues, which
		 * only the kernel lock guards. */
		ward_kernel_lock();
		for (int k = 0; k < n; k++)
			if (ready_fn)
				ready_fn(evs[k].data.u64);
		ward_kernel_unlock();
	}
}

static void ep_start(void)
{
	ep_fd = epoll_create1(EPOLL_CLOEXEC);
	if (ep_fd < 0) {
		ward_log(WARD_LOG_ERROR, "cannot create the event thread's epoll: %s", strerror(errno));
		return;
	}
	if (ward_thread_spawn(event_main, NULL) < 0) {
		ward_log(WARD_LOG_ERROR, "cannot start the event thread");
		close(ep_fd);
		ep_fd = -1;
	}
}

void ward_host_set_ready_handler(void (*fn)(uint64_t cookie))
{
	ready_fn = fn;
}

static long watch_fd(int fd, uint64_t cookie)
{
	pthread_once(&ep_once, ep_start);
	if (ep_fd < 0)
		return -ENOSYS;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLET, .data.u64 = cookie };
	if (epoll_ctl(ep_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		if (errno != EEXIST)
			return -errno;
		if (epoll_ctl(ep_fd, EPOLL_CTL_MOD, fd, &ev) < 0)
			return -errno;
	}
	return 0;
}

long ward_host_watch(ward_hostfd_t f, uint64_t cookie)
{
	if (f.fd < 0)
		return -EBADF;
	return watch_fd(f.fd, cookie);
}

long ward_host_sock_watch(ward_hostsock_t s, uint64_t cookie)
{
	CHECKED(s, i);
	(void)i;
	return watch_fd(s.fd, cookie);
}
