/* AF_INET, AF_INET6 and AF_NETLINK sockets over host sockets (inet.h).
 *
 * The socket file holds a host socket of the core's (non-blocking) and a
 * wait queue the event thread wakes. Every call first tries the host
 * socket; a blocking guest call that would block sleeps on the queue until
 * the host socket is ready, a signal comes (restart or EINTR, as Linux's
 * sock_intr_errno) or its SO_RCVTIMEO/SO_SNDTIMEO passes (EAGAIN; connect:
 * EINPROGRESS), and tries again. The timeouts are kept here, since the host
 * socket never waits. */
#include "sentry/service.h"

#include "fs/vfs.h"
#include "fs/vfs_internal.h"
#include "net/hostwatch.h"
#include "net/inet.h"
#include "net/sock_timeo.h"
#include "sentry/kernel/task.h"

#define SOCK_STREAM_ 1
#define SOCK_DGRAM_ 2
#define SOCK_RAW_ 3
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define SOL_SOCKET_ 1
#define SO_ERROR_ 4
#define SO_RCVTIMEO_OLD_ 20
#define SO_SNDTIMEO_OLD_ 21
#define SO_RCVTIMEO_NEW_ 66
#define SO_SNDTIMEO_NEW_ 67
#define MSG_PEEK_ 0x2
#define MSG_DONTWAIT_ 0x40
#define MSG_WAITALL_ 0x100
#define MSG_NOSIGNAL_ 0x4000
/* The flags the host call may see; others are ignored, as Linux's inet
 * sockets ignore flags they do not know. */
#define MSG_PASS_ (0x1 | 0x2 | 0x4 | 0x20 | 0x40 | 0x80 | 0x100 | 0x800 | 0x2000 | 0x4000 | 0x8000 | 0x20000000)
#define NSEC 1000000000LL
#define NETLINK_SEND_MAX (1UL << 20)

struct isock {
	ward_hostsock_t h;
	int domain, type, protocol;
	struct waitq wq;
	uint32_t slot;
	bool watched;
	/* SO_RCVTIMEO and SO_SNDTIMEO as set (timeval) and in ns (0: none,
	 * -1: do not wait at all, as a negative tv_sec means on Linux). */
	int64_t tv[2][2];
	int64_t timeo_ns[2];
};

static const struct file_ops inet_ops;

bool inet_is_socket(struct file *f)
{
	return f && f->ops == &inet_ops;
}

static struct isock *sk(struct file *f)
{
	return f->priv;
}

static struct file *file_for(struct isock *s, int flags)
{
	char name[64];
	snprintf(name, sizeof(name), "socket:[%lu]", (unsigned long)((uintptr_t)s >> 4) & 0xffffff);
	return file_alloc(&inet_ops, O_RDWR | (uint32_t)(flags & O_NONBLOCK), name, s);
}

static long wrap(ward_hostsock_t h, int domain, int type, int protocol, int flags, struct file **out)
{
	struct isock *s = calloc(1, sizeof(*s));
	if (!s) {
		ward_host_sock_close(h);
		return -ENOMEM;
	}
	s->h = h;
	s->domain = domain;
	s->type = type;
	s->protocol = protocol;
	long r = hostwatch_sock(h, &s->wq, &s->slot);
	if (r < 0) {
		ward_host_sock_close(h);
		free(s);
		return r;
	}
	s->watched = true;
	struct file *f = file_for(s, flags);
	if (!f) {
		hostwatch_drop(s->slot);
		ward_host_sock_close(h);
		free(s);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

long inet_socket_create(int domain, int type, int protocol, int flags, struct file **out)
{
	if (domain == INET_AF_NETLINK) {
		if (type != SOCK_RAW_ && type != SOCK_DGRAM_)
			return -ESOCKTNOSUPPORT;
		if (protocol != 0) /* NETLINK_ROUTE only */
			return -EPROTONOSUPPORT;
	} else if (type == SOCK_STREAM_) {
		if (protocol != 0 && protocol != IPPROTO_TCP_)
			return -EPROTONOSUPPORT;
	} else if (type == SOCK_DGRAM_) {
		if (protocol != 0 && protocol != IPPROTO_UDP_)
			return -EPROTONOSUPPORT;
	} else {
		/* Raw and packet sockets would need the host's privilege. */
		return -ESOCKTNOSUPPORT;
	}
	ward_hostsock_t h;
	long r = ward_host_socket(domain, type, protocol, &h);
	if (r < 0)
		return r;
	return wrap(h, domain, type, protocol, flags, out);
}

/* Sleeps until the host socket has one of ev (or an error or hang-up), a
 * signal comes or the deadline passes. 0, -EINTR or -ETIMEDOUT. */
static long wait_for(struct task *t, struct isock *s, unsigned int ev, int64_t deadline)
{
	struct waiter w;
	waitq_add(&s->wq, &w, t);
	long r = 0;
	if (!(ward_host_sock_poll_now(s->h, ev) & (ev | POLLERR | POLLHUP)))
		r = task_sleep(t, deadline);
	waitq_remove(&s->wq, &w);
	return r;
}

/* What an interrupted or timed-out wait returns (sock_intr_errno: a
 * socket with a timeout is not restarted). */
static long wait_error(long r, int64_t timeo, long on_timeout)
{
	if (r == -ETIMEDOUT)
		return on_timeout;
	return timeo ? -EINTR : -WARD_ERESTARTSYS;
}

static int64_t deadline_of(struct isock *s, int which)
{
	int64_t ns = s->timeo_ns[which];
	return ns > 0 ? ward_now_ns() + ns : 0;
}

static bool nonblocking(struct file *f, struct isock *s, int which, int flags)
{
	return (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT_) || s->timeo_ns[which] < 0;
}

long inet_bind(struct file *f, const void *addr, uint32_t len)
{
	return ward_host_sock_bind(sk(f)->h, addr, len);
}

long inet_listen(struct file *f, int backlog)
{
	return ward_host_sock_listen(sk(f)->h, backlog);
}

long inet_connect(struct task *t, struct file *f, const void *addr, uint32_t len)
{
	struct isock *s = sk(f);
	long r = ward_host_sock_connect(s->h, addr, len);
	if ((r != -EINPROGRESS && r != -EALREADY) || nonblocking(f, s, 1, 0))
		return r;
	/* A blocking connect: wait for the handshake, then its outcome. */
	int64_t deadline = deadline_of(s, 1);
	for (;;) {
		long w = wait_for(t, s, POLLOUT, deadline);
		if (w < 0)
			return wait_error(w, s->timeo_ns[1], -EINPROGRESS);
		unsigned int ev = ward_host_sock_poll_now(s->h, POLLOUT);
		if (ev & (POLLOUT | POLLERR | POLLHUP))
			break;
	}
	int err = 0;
	uint32_t l = sizeof(err);
	r = ward_host_sock_getopt(s->h, SOL_SOCKET_, SO_ERROR_, &err, &l);
	if (r < 0)
		return r;
	/* Linux's blocking connect leaves the socket connected (or unconnected
	 * after an error); the host socket gets there with one more connect,
	 * which reports the outcome it saw (0, or ECONNABORTED). */
	(void)ward_host_sock_connect(s->h, addr, len);
	return -err;
}

long inet_accept(struct task *t, struct file *f, int flags, struct file **out, void *addr, uint32_t *alen)
{
	struct isock *s = sk(f);
	int64_t deadline = deadline_of(s, 0);
	for (;;) {
		uint32_t l = *alen;
		ward_hostsock_t h;
		long r = ward_host_sock_accept(s->h, &h, addr, &l);
		if (r == 0) {
			*alen = l;
			return wrap(h, s->domain, s->type, s->protocol, flags, out);
		}
		if (r != -EAGAIN || nonblocking(f, s, 0, 0))
			return r;
		long w = wait_for(t, s, POLLIN, deadline);
		if (w < 0)
			return wait_error(w, s->timeo_ns[0], -EAGAIN);
	}
}

long inet_shutdown(struct file *f, int how)
{
	long r = ward_host_sock_shutdown(sk(f)->h, how);
	/* A shut-down socket is ready now; sleepers must look again. */
	if (r == 0)
		waitq_wake_all(&sk(f)->wq);
	return r;
}

long inet_getname(struct file *f, bool peer, void *addr, uint32_t *alen)
{
	return ward_host_sock_getname(sk(f)->h, peer, addr, alen);
}

static bool is_timeo(int level, int name, int *which)
{
	if (level != SOL_SOCKET_)
		return false;
	if (name == SO_RCVTIMEO_OLD_ || name == SO_RCVTIMEO_NEW_)
		*which = 0;
	else if (name == SO_SNDTIMEO_OLD_ || name == SO_SNDTIMEO_NEW_)
		*which = 1;
	else
		return false;
	return true;
}

long inet_getsockopt(struct file *f, int level, int name, void *val, uint32_t *len)
{
	struct isock *s = sk(f);
	int which;
	if (is_timeo(level, name, &which)) {
		/* sock_getsockopt copies min(len, sizeof(timeval)). */
		int64_t tv[2] = { s->tv[which][0], s->tv[which][1] };
		if ((int)*len < 0)
			return -EINVAL;
		*len = WARD_MIN(*len, (uint32_t)sizeof(tv));
		memcpy(val, tv, *len);
		return 0;
	}
	return ward_host_sock_getopt(s->h, level, name, val, len);
}

long inet_setsockopt(struct file *f, int level, int name, const void *val, uint32_t len)
{
	struct isock *s = sk(f);
	int which;
	if (is_timeo(level, name, &which))
		return sock_timeo_set(s->tv[which], &s->timeo_ns[which], val, len);
	return ward_host_sock_setopt(s->h, level, name, val, WARD_MIN(len, (uint32_t)INET_OPT_MAX));
}

static void send_sigpipe(struct task *t)
{
	if (!t)
		return;
	struct linux_siginfo si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGPIPE;
	si.u.rt.pid = t->tgid;
	signal_send_task(t, &si);
}

/* One host message call, made with the kernel lock dropped: it never
 * waits, but it copies up to a socket buffer's worth between the host and
 * guest memory, and other tasks need not wait for that. The caller holds a
 * reference to the file, so the socket stays; a readiness change during
 * the call is not lost, since wait_for looks at the host socket again with
 * its waiter queued. */
static long host_msg(struct isock *s, struct ward_host_msg *m, int flags, bool is_send)
{
	ward_kernel_unlock();
	long r = is_send ? ward_host_sock_sendmsg(s->h, m, flags) : ward_host_sock_recvmsg(s->h, m, flags);
	ward_kernel_lock();
	return r;
}

/* The iovecs from byte off on, into out (cnt entries at most). */
static long iov_skip(const struct ward_iovec *v, long cnt, uint64_t off, struct ward_iovec *out)
{
	long n = 0;
	for (long i = 0; i < cnt; i++) {
		if (off >= v[i].len) {
			off -= v[i].len;
			continue;
		}
		out[n++] = (struct ward_iovec){ gaddr_add(v[i].base, off), v[i].len - off };
		off = 0;
	}
	return n;
}

/* A netlink request goes through the core's check in a sentry copy. */
static long netlink_send(struct task *t, struct isock *s, const struct ward_iovec *v, long cnt, uint64_t total,
			 int flags, const void *addr, uint32_t alen)
{
	if (total > NETLINK_SEND_MAX)
		return -EMSGSIZE;
	uint8_t *buf = malloc(total ? total : 1);
	if (!buf)
		return -ENOMEM;
	uint64_t got = 0;
	for (long i = 0; i < cnt; i++) {
		if (v[i].len && ward_copy_in(task_as(t), buf + got, v[i].base, v[i].len) < 0) {
			free(buf);
			return -EFAULT;
		}
		got += v[i].len;
	}
	struct ward_host_msg m = { .buf = buf, .len = total, .addr = (void *)addr, .addrlen = alen };
	long r = ward_host_sock_sendmsg(s->h, &m, flags & MSG_PASS_);
	free(buf);
	return r;
}

long inet_send(struct task *t, struct file *f, const struct ward_iovec *v, long cnt, uint64_t total, int flags,
	       const void *addr, uint32_t alen, const void *ctl, size_t ctllen)
{
	struct isock *s = sk(f);
	if (s->domain == INET_AF_NETLINK)
		return netlink_send(t, s, v, cnt, total, flags, addr, alen);
	struct ward_iovec *rest = calloc((size_t)(cnt ? cnt : 1), sizeof(*rest));
	if (!rest)
		return -ENOMEM;
	bool block = !nonblocking(f, s, 1, flags);
	int64_t deadline = deadline_of(s, 1);
	uint64_t done = 0;
	long r;
	for (;;) {
		long n = iov_skip(v, cnt, done, rest);
		struct ward_host_msg m = { .as = task_as(t),
					   .iov = rest,
					   .iovcnt = (int)n,
					   .addr = (void *)addr,
					   .addrlen = alen,
					   .ctl = done ? NULL : (void *)ctl,
					   .ctllen = done ? 0 : ctllen };
		r = host_msg(s, &m, flags & MSG_PASS_, true);
		if (r >= 0) {
			done += (uint64_t)r;
			if (s->type != SOCK_STREAM_ || done >= total || !block)
				break;
			continue;
		}
		if (r != -EAGAIN || !block)
			break;
		long w = wait_for(t, s, POLLOUT, deadline);
		if (w < 0) {
			r = wait_error(w, s->timeo_ns[1], -EAGAIN);
			break;
		}
	}
	free(rest);
	if (done)
		return (long)done;
	if (r == -EPIPE && !(flags & MSG_NOSIGNAL_))
		send_sigpipe(t);
	return r;
}

long inet_recv(struct task *t, struct file *f, const struct ward_iovec *v, long cnt, uint64_t total, int flags,
	       void *addr, uint32_t *alen, void *ctl, size_t *ctllen, int *mflags)
{
	struct isock *s = sk(f);
	struct ward_iovec *rest = calloc((size_t)(cnt ? cnt : 1), sizeof(*rest));
	if (!rest)
		return -ENOMEM;
	bool block = !nonblocking(f, s, 0, flags);
	bool waitall = (flags & MSG_WAITALL_) && !(flags & MSG_PEEK_) && s->type == SOCK_STREAM_;
	int64_t deadline = deadline_of(s, 0);
	uint64_t done = 0;
	size_t ctlroom = ctllen ? *ctllen : 0;
	uint32_t aroom = alen ? *alen : 0;
	long r;
	for (;;) {
		long n = iov_skip(v, cnt, done, rest);
		struct ward_host_msg m = { .as = task_as(t),
					   .iov = rest,
					   .iovcnt = (int)n,
					   .addr = addr,
					   .addrlen = aroom,
					   .ctl = ctl,
					   .ctllen = ctlroom };
		r = host_msg(s, &m, flags & MSG_PASS_, false);
		if (r >= 0) {
			if (alen)
				*alen = m.addrlen;
			if (ctllen)
				*ctllen = m.ctllen;
			*mflags = m.msg_flags;
			done += (uint64_t)r;
			if (!waitall || r == 0 || done >= total || !block)
				break;
			continue;
		}
		if (r != -EAGAIN || !block)
			break;
		long w = wait_for(t, s, POLLIN, deadline);
		if (w < 0) {
			r = wait_error(w, s->timeo_ns[0], -EAGAIN);
			break;
		}
	}
	free(rest);
	return done ? (long)done : r;
}

/* read(2) and write(2) through the sentry's buffer, for callers that have
 * one (the syscall layer uses rw_vec). */
static long inet_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct isock *s = sk(f);
	struct task *t = task_current();
	for (;;) {
		struct ward_host_msg m = { .buf = buf, .len = len };
		long r = ward_host_sock_recvmsg(s->h, &m, 0);
		if (r != -EAGAIN || !t || nonblocking(f, s, 0, 0))
			return r;
		long w = wait_for(t, s, POLLIN, deadline_of(s, 0));
		if (w < 0)
			return wait_error(w, s->timeo_ns[0], -EAGAIN);
	}
}

static long inet_write(struct file *f, const void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	struct isock *s = sk(f);
	struct task *t = task_current();
	for (;;) {
		struct ward_host_msg m = { .buf = (void *)buf, .len = len };
		long r = ward_host_sock_sendmsg(s->h, &m, 0);
		if (r == -EPIPE)
			send_sigpipe(t);
		if (r != -EAGAIN || !t || nonblocking(f, s, 1, 0))
			return r;
		long w = wait_for(t, s, POLLOUT, deadline_of(s, 1));
		if (w < 0)
			return wait_error(w, s->timeo_ns[1], -EAGAIN);
	}
}

static long inet_rw_vec(struct task *t, struct file *f, const struct ward_iovec *v, long cnt, uint64_t total,
			bool is_read)
{
	int mflags = 0;
	if (is_read)
		return inet_recv(t, f, v, cnt, total, 0, NULL, NULL, NULL, NULL, &mflags);
	return inet_send(t, f, v, cnt, total, 0, NULL, 0, NULL, 0);
}

static unsigned int inet_poll(struct file *f, struct waitq **q)
{
	struct isock *s = sk(f);
	*q = &s->wq;
	return ward_host_sock_poll_now(s->h, POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLRDNORM | POLLRDBAND |
						     POLLWRNORM | POLLWRBAND);
}

static long inet_getattr(struct file *f, struct linux_statx *out)
{
	struct task *t = task_current();
	memset(out, 0, sizeof(*out));
	out->stx_mask = LINUX_STATX_BASIC_STATS;
	out->stx_mode = S_IFSOCK | 0777;
	out->stx_nlink = 1;
	out->stx_ino = ((uintptr_t)f->priv >> 4) & 0xffffff;
	out->stx_blksize = 4096;
	out->stx_uid = t ? t->creds.euid : 0;
	out->stx_gid = t ? t->creds.egid : 0;
	out->stx_dev_minor = 8; /* sockfs's anonymous device */
	return 0;
}

long inet_dev_ioctl(struct task *t, unsigned int cmd, uint64_t arg)
{
	uint8_t ifr[40];
	if (cmd < 0x8900 || cmd > 0x89ff)
		return -ENOTTY;
	if (ward_copy_in(task_as(t), ifr, gaddr(arg), sizeof(ifr)) < 0)
		return -EFAULT;
	long r = ward_host_net_ifreq(cmd, ifr);
	if (r < 0)
		return r;
	return ward_copy_out(task_as(t), gaddr(arg), ifr, sizeof(ifr));
}

static long inet_ioctl(struct task *t, struct file *f, unsigned int cmd, uint64_t arg)
{
	if (cmd == 0x541B /* FIONREAD, SIOCINQ */ || cmd == 0x5411 /* TIOCOUTQ, SIOCOUTQ */) {
		long n = ward_host_sock_queued(sk(f)->h, cmd == 0x5411);
		if (n < 0)
			return n;
		int v = (int)n;
		return ward_copy_out(task_as(t), gaddr(arg), &v, sizeof(v));
	}
	return inet_dev_ioctl(t, cmd, arg);
}

static void inet_release(struct file *f)
{
	struct isock *s = sk(f);
	if (s->watched)
		hostwatch_drop(s->slot);
	ward_host_sock_close(s->h);
	free(s);
}

static const struct file_ops inet_ops = {
	.read_buf = inet_read,
	.write_buf = inet_write,
	.rw_vec = inet_rw_vec,
	.getattr = inet_getattr,
	.ioctl_cmd = inet_ioctl,
	.poll_events = inet_poll,
	.release = inet_release,
	.stream = true,
};
