/* The socket system calls. AF_UNIX lives in the sentry (src/net/unix.c);
 * AF_INET, AF_INET6 and AF_NETLINK (NETLINK_ROUTE) are host sockets in the
 * sandbox's network namespace (src/net/inet.c); other families are
 * EAFNOSUPPORT. This layer decodes the arguments and moves addresses,
 * options and data between the guest and the sentry. */
#include "sentry/service.h"

#include "fs/vfs.h"
#include "net/inet.h"
#include "net/unix.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define AF_UNIX_ 1
#define SOCK_TYPE_MASK 0xf
#define SOCK_MAX_ 11
#define NPROTO_ 46
#define SOCKADDR_STORAGE 128
#define IO_CHUNK (1UL << 20) /* a stream moves at most this much per step */
#define DGRAM_MAX (8UL << 20)

static long get_sock(struct task *t, int fd, struct file **out)
{
	struct file *f = fd_get(t, fd);
	if (!f)
		return -EBADF;
	if (!unix_is_socket(f) && !inet_is_socket(f)) {
		file_put(f);
		return -ENOTSOCK;
	}
	*out = f;
	return 0;
}

/* move_addr_to_kernel */
static long addr_in(struct task *t, gaddr_t uaddr, int len, uint8_t *buf)
{
	if (len < 0 || len > SOCKADDR_STORAGE)
		return -EINVAL;
	memset(buf, 0, SOCKADDR_STORAGE);
	if (len && ward_copy_in(task_as(t), buf, uaddr, (size_t)len) < 0)
		return -EFAULT;
	return 0;
}

/* move_addr_to_user: copies what fits and stores the full length. */
static long addr_out(struct task *t, const void *kaddr, uint32_t klen, gaddr_t uaddr, gaddr_t ulenp)
{
	int ulen;
	if (gaddr_is_null(uaddr))
		return 0;
	if (WARD_COPY_IN_OBJ(task_as(t), &ulen, ulenp) < 0)
		return -EFAULT;
	if (ulen < 0)
		return -EINVAL;
	if (ulen && klen && ward_copy_out(task_as(t), uaddr, kaddr, WARD_MIN((uint32_t)ulen, klen)) < 0)
		return -EFAULT;
	int kl = (int)klen;
	if (ward_copy_out(task_as(t), ulenp, &kl, sizeof(kl)) < 0)
		return -EFAULT;
	return 0;
}

/* Checks socket(2)'s arguments; returns the type with the flags apart. */
static long check_socket_args(int domain, int type, int protocol, int *base, int *flags)
{
	*flags = type & ~SOCK_TYPE_MASK;
	if (*flags & ~(O_NONBLOCK | O_CLOEXEC))
		return -EINVAL;
	*base = type & SOCK_TYPE_MASK;
	if (domain < 0 || domain >= NPROTO_)
		return -EAFNOSUPPORT;
	if (*base >= SOCK_MAX_)
		return -EINVAL;
	if (domain == INET_AF_INET || domain == INET_AF_INET6 || domain == INET_AF_NETLINK)
		return 0; /* inet_socket_create checks type and protocol */
	if (domain != AF_UNIX_)
		return -EAFNOSUPPORT;
	if (protocol && protocol != AF_UNIX_)
		return -EPROTONOSUPPORT;
	switch (*base) {
	case 1: /* SOCK_STREAM */
	case 2: /* SOCK_DGRAM */
	case 5: /* SOCK_SEQPACKET */
		return 0;
	case 3: /* SOCK_RAW is a datagram socket here */
		*base = 2;
		return 0;
	default:
		return -ESOCKTNOSUPPORT;
	}
}

static long install(struct task *t, struct file *f, int flags)
{
	long fd = fd_install(t, f, (flags & O_CLOEXEC) ? FD_CLOEXEC : 0, 0);
	file_put(f);
	return fd;
}

/* socket(2) */
long sys_socket(struct task *t, const struct syscall_args *args)
{
	int base, flags;
	long r = check_socket_args(arg_int(args, 0), arg_int(args, 1), arg_int(args, 2), &base, &flags);
	if (r < 0)
		return r;
	struct file *f = NULL;
	int domain = arg_int(args, 0);
	if (domain != AF_UNIX_)
		r = inet_socket_create(domain, base, arg_int(args, 2), flags, &f);
	else
		r = unix_socket_create(base, flags, &f);
	if (r < 0)
		return r;
	return install(t, f, flags);
}

/* socketpair(2) */
long sys_socketpair(struct task *t, const struct syscall_args *args)
{
	int base, flags;
	long r = check_socket_args(arg_int(args, 0), arg_int(args, 1), arg_int(args, 2), &base, &flags);
	if (r < 0)
		return r;
	struct file *a = NULL, *b = NULL;
	if (arg_int(args, 0) != AF_UNIX_)
		return -EOPNOTSUPP; /* inet_socketpair: sock_no_socketpair */
	r = unix_socketpair(t, base, flags, &a, &b);
	if (r < 0)
		return r;
	long fa = install(t, a, flags);
	if (fa < 0) {
		file_put(b);
		return fa;
	}
	long fb = install(t, b, flags);
	if (fb < 0) {
		fd_close(t, (int)fa);
		return fb;
	}
	int fds[2] = { (int)fa, (int)fb };
	if (ward_copy_out(task_as(t), arg_addr(args, 3), fds, sizeof(fds)) < 0) {
		fd_close(t, fds[0]);
		fd_close(t, fds[1]);
		return -EFAULT;
	}
	return 0;
}

/* bind(2) */
long sys_bind(struct task *t, const struct syscall_args *args)
{
	struct file *f;
	uint8_t addr[SOCKADDR_STORAGE];
	long r = get_sock(t, arg_int(args, 0), &f);
	if (r < 0)
		return r;
	r = addr_in(t, arg_addr(args, 1), arg_int(args, 2), addr);
	if (r == 0)
		r = inet_is_socket(f) ? inet_bind(f, addr, (uint32_t)arg_int(args, 2))
				      : unix_bind(t, f, addr, (size_t)arg_int(args, 2));
	file_put(f);
	return r;
}

/* listen(2) */
long sys_listen(struct task *t, const struct syscall_args *args)
{
	struct file *f;
	long r = get_sock(t, arg_int(args, 0), &f);
	if (r < 0)
		return r;
	r = inet_is_socket(f) ? inet_listen(f, arg_int(args, 1)) : unix_listen(t, f, arg_int(args, 1));
	file_put(f);
	return r;
}

/* connect(2) */
long sys_connect(struct task *t, const struct syscall_args *args)
{
	struct file *f;
	uint8_t addr[SOCKADDR_STORAGE];
	long r = get_sock(t, arg_int(args, 0), &f);
	if (r < 0)
		return r;
	r = addr_in(t, arg_addr(args, 1), arg_int(args, 2), addr);
	if (r == 0)
		r = inet_is_socket(f) ? inet_connect(t, f, addr, (uint32_t)arg_int(args, 2))
				      : unix_connect(t, f, addr, (size_t)arg_int(args, 2));
	file_put(f);
	return r;
}

static long do_accept(struct task *t, const struct syscall_args *args, int flags)
{
	struct file *f, *nf = NULL;
	uint8_t addr[SOCKADDR_STORAGE];
	uint32_t alen = 0;
	if (flags & ~(O_NONBLOCK | O_CLOEXEC))
		return -EINVAL;
	long r = get_sock(t, arg_int(args, 0), &f);
	if (r < 0)
		return r;
	if (inet_is_socket(f)) {
		alen = SOCKADDR_STORAGE;
		r = inet_accept(t, f, flags, &nf, addr, &alen);
	} else {
		r = unix_accept(t, f, flags, &nf, addr, &alen);
	}
	file_put(f);
	if (r < 0)
		return r;
	r = addr_out(t, addr, alen, arg_addr(args, 1), arg_addr(args, 2));
	if (r < 0) {
		file_put(nf);
		return r;
	}
	return install(t, nf, flags);
}

/* accept(2) */
long sys_accept(struct task *t, const struct syscall_args *args)
{
	return do_accept(t, args, 0);
}

/* accept4(2) */
long sys_accept4(struct task *t, const struct syscall_args *args)
{
	return do_accept(t, args, arg_int(args, 3));
}

/* shutdown(2) */
long sys_shutdown(struct task *t, const struct syscall_args *args)
{
	struct file *f;
	long r = get_sock(t, arg_int(args, 0), &f);
	if (r < 0)
		return r;
	r = inet_is_socket(f) ? inet_shutdown(f, arg_int(args, 1)) : unix_shutdown(f, arg_int(args, 1));
	file_put(f);
	return r;
}

static long getname(struct task *t, const struct syscall_args *args, bool peer)
{
	struct file *f;
	uint8_t addr[SOCKADDR_STORAGE];
	uint32_t alen = 0;
	long r = get_sock(t, arg_int(args, 0), &f);
	if (r < 0)
		return r;
	if (inet_is_socket(f)) {
		alen = SOCKADDR_STORAGE;
		r = inet_getname(f, peer, addr, &alen);
	} else {
		r = unix_getname(f, peer, addr, &alen);
	}
	file_put(f);
	if (r < 0)
		return r;
	return addr_out(t, addr, alen, arg_addr(args, 1), arg_addr(args, 2));
}

/* getsockname(2) */
long sys_getsockname(struct task *t, const struct syscall_args *args)
{
	return getname(t, args, false);
}

/* getpeername(2) */
long sys_getpeername(struct task *t, const struct syscall_args *args)
{
	return getname(t, args, true);
}

/* getsockopt(2) */
long sys_getsockopt(struct task *t, const struct syscall_args *args)
{
	struct file *f;
	uint8_t val[INET_OPT_MAX];
	int len;
	long r = get_sock(t, arg_int(args, 0), &f);
	if (r < 0)
		return r;
	if (WARD_COPY_IN_OBJ(task_as(t), &len, arg_addr(args, 4)) < 0) {
		file_put(f);
		return -EFAULT;
	}
	uint32_t ulen = (uint32_t)len;
	if (inet_is_socket(f)) {
		if (len < 0) {
			file_put(f);
			return -EINVAL;
		}
		r = inet_getsockopt(f, arg_int(args, 1), arg_int(args, 2), val, &ulen);
	} else {
		r = unix_getsockopt(f, arg_int(args, 1), arg_int(args, 2), val, &ulen);
	}
	file_put(f);
	if (r < 0)
		return r;
	if (ulen && ward_copy_out(task_as(t), arg_addr(args, 3), val, ulen) < 0)
		return -EFAULT;
	len = (int)ulen;
	if (ward_copy_out(task_as(t), arg_addr(args, 4), &len, sizeof(len)) < 0)
		return -EFAULT;
	return 0;
}

/* setsockopt(2) */
long sys_setsockopt(struct task *t, const struct syscall_args *args)
{
	struct file *f;
	uint8_t val[INET_OPT_MAX] = { 0 };
	int len = arg_int(args, 4);
	long r = get_sock(t, arg_int(args, 0), &f);
	if (r < 0)
		return r;
	if (len < 0) {
		r = -EINVAL;
	} else if (len && ward_copy_in(task_as(t), val, arg_addr(args, 3),
				       WARD_MIN((size_t)len, inet_is_socket(f) ? sizeof(val) : 16)) < 0) {
		r = -EFAULT;
	} else if (inet_is_socket(f)) {
		r = inet_setsockopt(f, arg_int(args, 1), arg_int(args, 2), val, (uint32_t)len);
	} else {
		r = unix_setsockopt(f, arg_int(args, 1), arg_int(args, 2), val, (uint32_t)len);
	}
	file_put(f);
	return r;
}

/* Copies bytes [off, off + n) of the guest's iovecs into buf. */
static long gather(struct task *t, const struct ward_iovec *v, long cnt, uint64_t off, uint8_t *buf, size_t n)
{
	size_t got = 0;
	for (long i = 0; i < cnt && got < n; i++) {
		if (off >= v[i].len) {
			off -= v[i].len;
			continue;
		}
		size_t k = WARD_MIN(n - got, v[i].len - off);
		if (ward_copy_in(task_as(t), buf + got, gaddr_add(v[i].base, off), k) < 0)
			return -EFAULT;
		got += k;
		off = 0;
	}
	return 0;
}

static long scatter(struct task *t, const struct ward_iovec *v, long cnt, const uint8_t *buf, size_t n)
{
	size_t put = 0;
	for (long i = 0; i < cnt && put < n; i++) {
		size_t k = WARD_MIN(n - put, v[i].len);
		if (k && ward_copy_out(task_as(t), v[i].base, buf + put, k) < 0)
			return -EFAULT;
		put += k;
	}
	return 0;
}

static long send_common(struct task *t, int fd, const struct ward_iovec *v, long cnt, uint64_t total, int flags,
			gaddr_t uaddr, int ualen, const struct unix_ctl *ctl)
{
	struct file *f;
	uint8_t addr[SOCKADDR_STORAGE];
	long r = get_sock(t, fd, &f);
	if (r < 0)
		return r;
	if (!gaddr_is_null(uaddr)) {
		r = addr_in(t, uaddr, ualen, addr);
		if (r < 0)
			goto out;
	} else {
		ualen = 0;
	}
	if (inet_is_socket(f)) {
		r = inet_send(t, f, v, cnt, total, flags, ualen ? addr : NULL, (uint32_t)ualen, NULL, 0);
		goto out;
	}
	bool stream = unix_type(f) == 1;
	if (!stream && total > DGRAM_MAX) {
		r = -EMSGSIZE;
		goto out;
	}
	size_t bufsz = stream ? WARD_MIN(total, IO_CHUNK) : total;
	uint8_t *buf = malloc(bufsz ? bufsz : 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	uint64_t done = 0;
	do {
		size_t n = (size_t)WARD_MIN(total - done, (uint64_t)bufsz);
		r = gather(t, v, cnt, done, buf, n);
		if (r < 0)
			break;
		r = unix_send(t, f, buf, n, flags, ualen ? addr : NULL, (size_t)ualen, done ? NULL : ctl);
		if (r < 0)
			break;
		done += (uint64_t)r;
		if ((size_t)r < n)
			break;
	} while (done < total);
	free(buf);
	if (done)
		r = (long)done;
out:
	file_put(f);
	return r;
}

struct msghdr_img {
	uint64_t name;
	int32_t namelen;
	int32_t pad;
	uint64_t iov;
	uint64_t iovlen;
	uint64_t control;
	uint64_t controllen;
	int32_t flags;
	int32_t pad2;
};

/* sendto(2) */
long sys_sendto(struct task *t, const struct syscall_args *args)
{
	struct ward_iovec v = { arg_addr(args, 1), WARD_MIN(arg_u64(args, 2), (uint64_t)WARD_MAX_RW_COUNT) };
	return send_common(t, arg_int(args, 0), &v, 1, v.len, arg_int(args, 3), arg_addr(args, 4), arg_int(args, 5),
			   NULL);
}

#define SOL_SOCKET_ 1
#define SCM_RIGHTS_ 1
#define SCM_CREDENTIALS_ 2
#define SCM_MAX_FD 253
#define CMSG_HDR 16
#define CMSG_ALIGN_(n) (((n) + 7) & ~(size_t)7)
#define CTL_MAX 65536

struct cmsghdr_img {
	uint64_t len;
	int32_t level;
	int32_t type;
};

static void ctl_release(struct unix_ctl *c)
{
	for (int i = 0; i < c->nfds; i++)
		file_put(c->fds[i]);
	free(c->fds);
	c->fds = NULL;
	c->nfds = 0;
}

/* Parses sendmsg's control buffer as __scm_send does. */
static long ctl_parse(struct task *t, const uint8_t *cb, size_t clen, struct unix_ctl *c)
{
	size_t off = 0;
	while (off + CMSG_HDR <= clen) {
		struct cmsghdr_img h;
		memcpy(&h, cb + off, sizeof(h));
		if (h.len < CMSG_HDR || h.len > clen - off)
			return -EINVAL;
		if (h.level == SOL_SOCKET_) {
			if (h.type == SCM_RIGHTS_) {
				int n = (int)((h.len - CMSG_HDR) / 4);
				if (c->nfds + n > SCM_MAX_FD)
					return -EINVAL;
				struct file **nf = realloc(c->fds, (size_t)(c->nfds + n + 1) * sizeof(*nf));
				if (!nf)
					return -ENOMEM;
				c->fds = nf;
				for (int i = 0; i < n; i++) {
					int fd;
					memcpy(&fd, cb + off + CMSG_HDR + 4 * (size_t)i, 4);
					struct file *f = fd_get(t, fd);
					if (!f)
						return -EBADF;
					c->fds[c->nfds++] = f;
				}
			} else if (h.type == SCM_CREDENTIALS_) {
				if (h.len != CMSG_HDR + 12)
					return -EINVAL;
				int32_t cr[3];
				memcpy(cr, cb + off + CMSG_HDR, sizeof(cr));
				bool root = t->creds.euid == 0;
				if (!root && (cr[0] != t->tgid ||
					      ((uint32_t)cr[1] != t->creds.uid && (uint32_t)cr[1] != t->creds.euid &&
					       (uint32_t)cr[1] != t->creds.suid) ||
					      ((uint32_t)cr[2] != t->creds.gid && (uint32_t)cr[2] != t->creds.egid &&
					       (uint32_t)cr[2] != t->creds.sgid)))
					return -EPERM;
				c->has_cred = true;
				c->pid = cr[0];
				c->uid = (uint32_t)cr[1];
				c->gid = (uint32_t)cr[2];
			} else {
				return -EINVAL;
			}
		}
		off += CMSG_ALIGN_(h.len);
	}
	return 0;
}

static bool fd_is_inet(struct task *t, int fd)
{
	struct file *f = fd_get(t, fd);
	bool r = inet_is_socket(f);
	if (f)
		file_put(f);
	return r;
}

/* sendmsg on a host socket: the control data goes to the host as it is
 * (the core lets IP-level messages through only). */
static long inet_sendmsg_sys(struct task *t, int fd, const struct msghdr_img *m, int flags)
{
	struct file *f;
	long r = get_sock(t, fd, &f);
	if (r < 0)
		return r;
	uint8_t addr[SOCKADDR_STORAGE];
	uint32_t alen = 0;
	cleanup_free uint8_t *cb = NULL;
	cleanup_free struct ward_iovec *v = calloc(m->iovlen ? m->iovlen : 1, sizeof(*v));
	if (!v) {
		r = -ENOMEM;
		goto out;
	}
	if (m->name) {
		r = addr_in(t, gaddr(m->name), m->namelen, addr);
		if (r < 0)
			goto out;
		alen = (uint32_t)m->namelen;
	}
	if (m->controllen) {
		cb = malloc(m->controllen);
		r = !cb ? -ENOMEM : ward_copy_in(task_as(t), cb, gaddr(m->control), m->controllen) < 0 ? -EFAULT : 0;
		if (r < 0)
			goto out;
	}
	r = ward_iovec_import(task_as(t), gaddr(m->iov), (long)m->iovlen, v);
	if (r >= 0)
		r = inet_send(t, f, v, (long)m->iovlen, (uint64_t)r, flags, alen ? addr : NULL, alen, cb,
			      (size_t)m->controllen);
out:
	file_put(f);
	return r;
}

/* sendmsg(2): SCM_RIGHTS and SCM_CREDENTIALS. */
long sys_sendmsg(struct task *t, const struct syscall_args *args)
{
	struct msghdr_img m;
	struct unix_ctl c = { 0 };
	if (WARD_COPY_IN_OBJ(task_as(t), &m, arg_addr(args, 1)) < 0)
		return -EFAULT;
	if (m.iovlen > WARD_UIO_MAXIOV)
		return -EMSGSIZE;
	if (m.controllen > INT_MAX || m.controllen > CTL_MAX)
		return -ENOBUFS;
	if (fd_is_inet(t, arg_int(args, 0)))
		return inet_sendmsg_sys(t, arg_int(args, 0), &m, arg_int(args, 2));
	long r = 0;
	if (m.controllen >= CMSG_HDR) {
		uint8_t *cb = malloc(m.controllen);
		if (!cb)
			return -ENOMEM;
		r = ward_copy_in(task_as(t), cb, gaddr(m.control), m.controllen) < 0 ? -EFAULT : 0;
		if (r == 0)
			r = ctl_parse(t, cb, m.controllen, &c);
		free(cb);
	}
	struct ward_iovec *v = r < 0 ? NULL : calloc(m.iovlen ? m.iovlen : 1, sizeof(*v));
	if (r == 0 && !v)
		r = -ENOMEM;
	if (r == 0) {
		long total = ward_iovec_import(task_as(t), gaddr(m.iov), (long)m.iovlen, v);
		r = total;
		if (total >= 0)
			r = send_common(t, arg_int(args, 0), v, (long)m.iovlen, (uint64_t)total, arg_int(args, 2),
					m.name ? gaddr(m.name) : gaddr(0), m.namelen, &c);
	}
	free(v);
	ctl_release(&c);
	return r;
}

static long recv_common(struct task *t, int fd, const struct ward_iovec *v, long cnt, uint64_t total, int flags,
			uint8_t *addr, uint32_t *alen, int *mflags, struct unix_ctl *ctl)
{
	struct file *f;
	long r = get_sock(t, fd, &f);
	if (r < 0)
		return r;
	if (inet_is_socket(f)) {
		*alen = SOCKADDR_STORAGE;
		r = inet_recv(t, f, v, cnt, total, flags, addr, alen, NULL, NULL, mflags);
		file_put(f);
		return r;
	}
	size_t bufsz = (size_t)WARD_MIN(total, (uint64_t)DGRAM_MAX);
	uint8_t *buf = malloc(bufsz ? bufsz : 1);
	if (!buf) {
		file_put(f);
		return -ENOMEM;
	}
	r = unix_recv(t, f, buf, bufsz, flags, addr, alen, mflags, ctl);
	file_put(f);
	if (r > 0 && scatter(t, v, cnt, buf, WARD_MIN((size_t)r, bufsz)) < 0)
		r = -EFAULT;
	free(buf);
	return r;
}

/* recvfrom(2) */
long sys_recvfrom(struct task *t, const struct syscall_args *args)
{
	struct ward_iovec v = { arg_addr(args, 1), WARD_MIN(arg_u64(args, 2), (uint64_t)WARD_MAX_RW_COUNT) };
	uint8_t addr[SOCKADDR_STORAGE];
	uint32_t alen = 0;
	int mflags = 0;
	long r = recv_common(t, arg_int(args, 0), &v, 1, v.len, arg_int(args, 3), addr, &alen, &mflags, NULL);
	if (r < 0)
		return r;
	if (!gaddr_is_null(arg_addr(args, 4))) {
		long e = addr_out(t, addr, alen, arg_addr(args, 4), arg_addr(args, 5));
		if (e < 0)
			return e;
	}
	return r;
}

/* Builds recvmsg's control messages in cb (clen bytes) as scm_recv does:
 * the creds, then the files, installed as descriptors here; what does
 * not fit is MSG_CTRUNC and dropped. Returns the bytes used. */
static size_t ctl_build(struct task *t, struct unix_ctl *c, uint8_t *cb, size_t clen, bool cloexec, int *mflags)
{
	size_t used = 0;
	if (c->has_cred) {
		if (clen - used < CMSG_HDR + 12) {
			*mflags |= UMSG_CTRUNC;
		} else {
			struct cmsghdr_img h = { CMSG_HDR + 12, SOL_SOCKET_, SCM_CREDENTIALS_ };
			int32_t cr[3] = { c->pid, (int32_t)c->uid, (int32_t)c->gid };
			memcpy(cb + used, &h, sizeof(h));
			memcpy(cb + used + CMSG_HDR, cr, sizeof(cr));
			used += WARD_MIN(CMSG_ALIGN_(CMSG_HDR + 12), clen - used);
		}
	}
	if (c->nfds) {
		size_t avail = clen - used;
		int fdmax = avail > CMSG_HDR ? (int)((avail - CMSG_HDR) / 4) : 0;
		int i = 0;
		for (; i < c->nfds && i < fdmax; i++) {
			long fd = fd_install(t, c->fds[i], cloexec ? FD_CLOEXEC : 0, 0);
			if (fd < 0)
				break;
			int32_t v = (int32_t)fd;
			memcpy(cb + used + CMSG_HDR + 4 * (size_t)i, &v, 4);
		}
		if (i < c->nfds)
			*mflags |= UMSG_CTRUNC;
		if (i) {
			struct cmsghdr_img h = { CMSG_HDR + 4 * (uint64_t)i, SOL_SOCKET_, SCM_RIGHTS_ };
			memcpy(cb + used, &h, sizeof(h));
			used += WARD_MIN(CMSG_ALIGN_(CMSG_HDR + 4 * (size_t)i), avail);
		}
	}
	return used;
}

/* recvmsg on a host socket: the host's control messages and flags. */
static long inet_recvmsg_sys(struct task *t, int fd, gaddr_t mp, struct msghdr_img *m, int flags,
			     const struct ward_iovec *v, long total)
{
	struct file *f;
	long r = get_sock(t, fd, &f);
	if (r < 0)
		return r;
	uint8_t addr[SOCKADDR_STORAGE];
	uint32_t alen = SOCKADDR_STORAGE;
	size_t clen = m->control ? (size_t)WARD_MIN(m->controllen, (uint64_t)CTL_MAX) : 0;
	cleanup_free uint8_t *cb = clen ? malloc(clen) : NULL;
	if (clen && !cb) {
		file_put(f);
		return -ENOMEM;
	}
	int mflags = 0;
	r = inet_recv(t, f, v, (long)m->iovlen, (uint64_t)total, flags & ~UMSG_CMSG_CLOEXEC, m->name ? addr : NULL,
		      &alen, cb, &clen, &mflags);
	file_put(f);
	if (r < 0)
		return r;
	if (m->name && alen) {
		uint32_t n = WARD_MIN((uint32_t)m->namelen, alen);
		if (n && ward_copy_out(task_as(t), gaddr(m->name), addr, n) < 0)
			return -EFAULT;
	}
	if (clen && ward_copy_out(task_as(t), gaddr(m->control), cb, clen) < 0)
		return -EFAULT;
	m->namelen = m->name ? (int32_t)alen : 0;
	m->controllen = clen;
	m->flags = mflags | (flags & UMSG_CMSG_CLOEXEC);
	if (ward_copy_out(task_as(t), mp, m, sizeof(*m)) < 0)
		return -EFAULT;
	return r;
}

/* recvmsg(2) */
long sys_recvmsg(struct task *t, const struct syscall_args *args)
{
	struct msghdr_img m;
	gaddr_t mp = arg_addr(args, 1);
	if (WARD_COPY_IN_OBJ(task_as(t), &m, mp) < 0)
		return -EFAULT;
	if (m.iovlen > WARD_UIO_MAXIOV)
		return -EMSGSIZE;
	if (m.namelen < 0)
		return -EINVAL;
	struct ward_iovec *v = calloc(m.iovlen ? m.iovlen : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	long total = ward_iovec_import(task_as(t), gaddr(m.iov), (long)m.iovlen, v);
	uint8_t addr[SOCKADDR_STORAGE];
	uint32_t alen = 0;
	int mflags = 0;
	long r = total;
	struct unix_ctl c = { 0 };
	int flags = arg_int(args, 2);
	if (total >= 0 && fd_is_inet(t, arg_int(args, 0))) {
		r = inet_recvmsg_sys(t, arg_int(args, 0), mp, &m, flags, v, total);
		free(v);
		return r;
	}
	if (total >= 0)
		r = recv_common(t, arg_int(args, 0), v, (long)m.iovlen, (uint64_t)total, flags & ~UMSG_CMSG_CLOEXEC,
				addr, &alen, &mflags, &c);
	free(v);
	size_t clen = m.control ? (size_t)WARD_MIN(m.controllen, (uint64_t)CTL_MAX) : 0, used = 0;
	if (r >= 0 && (c.nfds || c.has_cred)) {
		uint8_t *cb = calloc(1, clen + 1);
		if (cb) {
			used = ctl_build(t, &c, cb, clen, flags & UMSG_CMSG_CLOEXEC, &mflags);
			if (used && ward_copy_out(task_as(t), gaddr(m.control), cb, used) < 0)
				r = -EFAULT;
			free(cb);
		}
	}
	ctl_release(&c);
	if (r < 0)
		return r;
	if (m.name && alen) {
		uint32_t n = WARD_MIN((uint32_t)m.namelen, alen);
		if (ward_copy_out(task_as(t), gaddr(m.name), addr, n) < 0)
			return -EFAULT;
	}
	m.namelen = m.name ? (int32_t)alen : 0;
	m.controllen = used;
	m.flags = mflags | (flags & UMSG_CMSG_CLOEXEC); /* echoed, as Linux does */
	if (ward_copy_out(task_as(t), mp, &m, sizeof(m)) < 0)
		return -EFAULT;
	return r;
}

#define MMSG_SIZE 64 /* struct mmsghdr: a msghdr, then msg_len */
#define UMSG_WAITFORONE 0x10000
#define MMSG_VLEN_MAX 1024 /* UIO_MAXIOV */

/* sendmmsg(2): sendmsg for each message until one fails; the count sent,
 * or the first message's error. */
long sys_sendmmsg(struct task *t, const struct syscall_args *args)
{
	gaddr_t vec = arg_addr(args, 1);
	unsigned int vlen = WARD_MIN(arg_uint(args, 2), (unsigned int)MMSG_VLEN_MAX);
	struct file *f;
	long r = get_sock(t, arg_int(args, 0), &f);
	if (r < 0)
		return r;
	file_put(f);
	unsigned int i = 0;
	for (; i < vlen; i++) {
		struct syscall_args a = { .a = { args->a[0], vec.v + (uint64_t)i * MMSG_SIZE, args->a[3] } };
		r = sys_sendmsg(t, &a);
		if (r < 0)
			break;
		uint32_t n = (uint32_t)r;
		if (ward_copy_out(task_as(t), gaddr_add(vec, (uint64_t)i * MMSG_SIZE + 56), &n, sizeof(n)) < 0) {
			r = -EFAULT;
			break;
		}
	}
	return i ? (long)i : r;
}

/* recvmmsg(2): recvmsg for each message; after the first, MSG_WAITFORONE
 * stops waiting, and the timeout is checked between messages (as Linux
 * does: it does not bound the wait for one message). */
long sys_recvmmsg(struct task *t, const struct syscall_args *args)
{
	gaddr_t vec = arg_addr(args, 1);
	unsigned int vlen = WARD_MIN(arg_uint(args, 2), (unsigned int)MMSG_VLEN_MAX);
	int flags = arg_int(args, 3);
	int64_t deadline = 0;
	if (!gaddr_is_null(arg_addr(args, 4))) {
		struct linux_timespec ts;
		if (WARD_COPY_IN_OBJ(task_as(t), &ts, arg_addr(args, 4)) < 0)
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
			return -EINVAL;
		deadline = ward_now_ns() + ts.tv_sec * 1000000000L + ts.tv_nsec;
	}
	struct file *f;
	long r = get_sock(t, arg_int(args, 0), &f);
	if (r < 0)
		return r;
	file_put(f);
	unsigned int i = 0;
	for (; i < vlen; i++) {
		int fl = flags & ~UMSG_WAITFORONE;
		if (i && (flags & UMSG_WAITFORONE))
			fl |= UMSG_DONTWAIT;
		struct syscall_args a = { .a = { args->a[0], vec.v + (uint64_t)i * MMSG_SIZE,
						 (uint64_t)(uint32_t)fl } };
		r = sys_recvmsg(t, &a);
		if (r < 0)
			break;
		uint32_t n = (uint32_t)r;
		if (ward_copy_out(task_as(t), gaddr_add(vec, (uint64_t)i * MMSG_SIZE + 56), &n, sizeof(n)) < 0) {
			r = -EFAULT;
			break;
		}
		if (deadline && ward_now_ns() >= deadline) {
			i++;
			break;
		}
	}
	if (i)
		return (long)i;
	return r;
}
