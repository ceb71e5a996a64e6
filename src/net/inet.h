/* AF_INET and AF_INET6 sockets (TCP and UDP), and AF_NETLINK NETLINK_ROUTE
 * sockets, through host sockets that the core opens in the sandbox's own
 * network namespace (include/ward/host.h). The host sockets never block:
 * a guest's blocking call sleeps on the socket's wait queue, which the
 * core's event thread wakes (net/hostwatch.h), so it holds no lock while it
 * waits and a signal breaks it off as it would on Linux. Data moves between
 * the host socket and guest memory directly (the host kernel copies into
 * the memory file), except for netlink requests, which the core checks in
 * its own copy. Linux's own checks (address lengths and families, states)
 * are the host kernel's, so their errnos are Linux's. */
#ifndef WARD_NET_INET_H
#define WARD_NET_INET_H

#include "ward/guest.h"
#include "ward/types.h"

struct task;
struct file;

#define INET_AF_INET 2
#define INET_AF_INET6 10
#define INET_AF_NETLINK 16
#define INET_OPT_MAX 256

bool inet_is_socket(struct file *f);
/* socket(2) for AF_INET, AF_INET6 and AF_NETLINK; type without its flags,
 * flags O_NONBLOCK. */
long inet_socket_create(int domain, int type, int protocol, int flags, struct file **out);
long inet_bind(struct file *f, const void *addr, uint32_t len);
long inet_connect(struct task *t, struct file *f, const void *addr, uint32_t len);
long inet_listen(struct file *f, int backlog);
/* *alen in: room at addr (128 bytes), out: the full length. */
long inet_accept(struct task *t, struct file *f, int flags, struct file **out, void *addr, uint32_t *alen);
long inet_shutdown(struct file *f, int how);
long inet_getname(struct file *f, bool peer, void *addr, uint32_t *alen);
/* val holds INET_OPT_MAX bytes; *len in: the guest's room, out: the
 * length to copy back. */
long inet_getsockopt(struct file *f, int level, int name, void *val, uint32_t *len);
long inet_setsockopt(struct file *f, int level, int name, const void *val, uint32_t len);
/* One sendmsg or recvmsg of the guest's iovecs (total bytes). addr/ctl are
 * the sentry's copies: for recv, *alen and *ctllen are in: room, out:
 * length; *mflags gets the message flags. */
long inet_send(struct task *t, struct file *f, const struct ward_iovec *v, long cnt, uint64_t total, int flags,
	       const void *addr, uint32_t alen, const void *ctl, size_t ctllen);
long inet_recv(struct task *t, struct file *f, const struct ward_iovec *v, long cnt, uint64_t total, int flags,
	       void *addr, uint32_t *alen, void *ctl, size_t *ctllen, int *mflags);

/* The interface queries (SIOCGIF*) that ioctl(2) answers on any socket,
 * AF_UNIX included: -ENOTTY for other commands. */
long inet_dev_ioctl(struct task *t, unsigned int cmd, uint64_t arg);

#endif
