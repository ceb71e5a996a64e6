/* AF_UNIX sockets, entirely in the sentry (unix(7)): stream, datagram and
 * seqpacket sockets, socketpair, abstract names in a sandbox-wide table and
 * path names bound as socket inodes of the VFS. Buffers are the sentry's
 * own; the syscall layer (sys_socket.c) moves bytes to and from the guest.
 * Addresses are struct sockaddr_un images (family, then up to 108 bytes). */
#ifndef WARD_NET_UNIX_H
#define WARD_NET_UNIX_H

#include "ward/types.h"

struct task;
struct file;

#define UNIX_ADDR_MAX 110 /* sizeof(struct sockaddr_un) */

/* The MSG_* flags (the socket headers cannot be included in a service). */
#define UMSG_PEEK 0x2
#define UMSG_CTRUNC 0x8
#define UMSG_TRUNC 0x20
#define UMSG_DONTWAIT 0x40
#define UMSG_EOR 0x80
#define UMSG_WAITALL 0x100
#define UMSG_NOSIGNAL 0x4000
#define UMSG_CMSG_CLOEXEC 0x40000000

/* type is SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET; flags O_NONBLOCK. */
long unix_socket_create(int type, int flags, struct file **out);
long unix_socketpair(struct task *t, int type, int flags, struct file **a, struct file **b);
bool unix_is_socket(struct file *f);
int unix_type(struct file *f);

long unix_bind(struct task *t, struct file *f, const void *addr, size_t len);
long unix_listen(struct task *t, struct file *f, int backlog);
long unix_connect(struct task *t, struct file *f, const void *addr, size_t len);
/* Accepts a connection: *out is a new file (flags O_NONBLOCK); addr gets
 * the peer's name (UNIX_ADDR_MAX bytes) and *addrlen its length. */
long unix_accept(struct task *t, struct file *f, int flags, struct file **out, void *addr, uint32_t *addrlen);
/* Ancillary data: SCM_RIGHTS files and SCM_CREDENTIALS. */
struct unix_ctl {
	struct file **fds; /* references */
	int nfds;
	bool has_cred;
	int32_t pid;
	uint32_t uid, gid;
};

/* MSG_* flags. addr may be NULL (send) / receives the source (recv). ctl
 * may be NULL: send takes its own references to ctl's files; recv hands
 * the caller a malloc'd array of references (or drops them when ctl is
 * NULL) and the sender's creds when the socket has SO_PASSCRED. */
long unix_send(struct task *t, struct file *f, const void *buf, size_t len, int flags, const void *addr, size_t addrlen,
	       const struct unix_ctl *ctl);
long unix_recv(struct task *t, struct file *f, void *buf, size_t len, int flags, void *addr, uint32_t *addrlen,
	       int *msg_flags, struct unix_ctl *ctl);
long unix_shutdown(struct file *f, int how);
long unix_getname(struct file *f, bool peer, void *addr, uint32_t *addrlen);
/* val holds up to 16 bytes; *len in: the guest's length, out: the length
 * to copy back. */
long unix_getsockopt(struct file *f, int level, int name, void *val, uint32_t *len);
long unix_setsockopt(struct file *f, int level, int name, const void *val, uint32_t len);

#endif
