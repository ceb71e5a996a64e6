/* AF_UNIX sockets in the sentry (unix(7) is the specification; the errnos
 * follow net/unix/af_unix.c). Every socket has a receive queue of messages;
 * a sender charges what it queues at its peer against its own send buffer,
 * as Linux does. One wait queue per socket is woken on every change of the
 * socket or of its peer's queue. Everything runs under the kernel lock. */
#include "sentry/service.h"

#include "fs/vfs.h"
#include "fs/vfs_internal.h"
#include "net/inet.h"
#include "net/sock_timeo.h"
#include "net/unix.h"
#include "sentry/kernel/creds.h"
#include "sentry/kernel/task.h"

#define SK_STREAM 1
#define SK_DGRAM 2
#define SK_SEQPACKET 5
#define SHUT_RCV 1
#define SHUT_SEND 2
#define DEFAULT_BUF 212992 /* net.core.wmem_default / rmem_default */
#define MAX_BUF 212992 /* net.core.wmem_max / rmem_max */
#define SOMAXCONN 4096
#define STREAM_CHUNK 65536
#define NSEC 1000000000LL
#define CAP_NET_ADMIN_ 12
#define CAP_SYS_RESOURCE_ 24

/* Boolean socket options (sock_valbool_flag), as bits of usock.opts. */
#define OPT_DEBUG (1u << 0)
#define OPT_REUSEADDR (1u << 1)
#define OPT_DONTROUTE (1u << 2)
#define OPT_BROADCAST (1u << 3)
#define OPT_KEEPALIVE (1u << 4)
#define OPT_OOBINLINE (1u << 5)
#define OPT_NO_CHECK (1u << 6)
#define OPT_TSTAMP (1u << 7)
#define OPT_TSTAMPNS (1u << 8)
#define OPT_TSTAMP_NEW (1u << 9)

struct ucred_img {
	int32_t pid;
	uint32_t uid, gid;
};

struct skb {
	struct skb *next;
	size_t len, off;
	struct file **fds; /* SCM_RIGHTS in flight: references */
	int nfds;
	struct ucred_img cred; /* the sender's */
	uint32_t fds_uid; /* whose in-flight count the files are charged to */
	uint32_t addrlen; /* the sender's name, for datagrams */
	uint8_t addr[UNIX_ADDR_MAX];
	uint8_t data[];
};

enum { ST_UNCONNECTED, ST_LISTENING, ST_CONNECTED };

struct usock {
	int refs;
	int type;
	int state;
	bool closed; /* its file is gone */
	bool embryo; /* queued at a listener, not yet accepted */
	int shut;
	int so_error;
	bool passcred;
	int sndbuf, rcvbuf;
	/* Generic options (sock_setsockopt). */
	uint32_t opts;
	int priority, rcvlowat, mark, peek_off;
	int linger_on, linger_secs;
	/* SO_RCVTIMEO and SO_SNDTIMEO as set (timeval) and in ns (0: none,
	 * -1: do not wait at all, as a negative tv_sec means on Linux). */
	int64_t tv[2][2];
	int64_t timeo_ns[2];
	struct usock *peer; /* a reference */
	/* Its file (NULL for an embryo and once released), and how many
	 * references to that file messages in flight hold; sockets with some
	 * are on the in-flight list, which the collector walks. */
	struct file *file;
	int inflight;
	struct usock *if_next, *if_prev;
	bool gc_cand;
	int gc_refs;
	struct skb *rq_head, *rq_tail;
	size_t rq_used; /* bytes plus overhead queued here */
	struct waitq wq;
	/* The name (getsockname), and whether it is in the table. */
	uint8_t addr[UNIX_ADDR_MAX];
	uint32_t addrlen;
	bool in_table;
	bool path_bound;
	uint32_t dev_major, dev_minor;
	uint64_t ino;
	struct usock *next_bound;
	/* Listening. */
	int backlog;
	struct usock **acceptq;
	int nq, capq;
	/* SO_PEERCRED, and the creds a listener hands its clients. */
	struct ucred_img peercred, owncred;
};

static struct usock *bound_list;
static struct usock *inflight_list;
/* References to socket files in flight, and how many were left by the
 * last collection: sends collect when that grows by GC_TRIGGER, as
 * wait_for_unix_gc does, since a cycle made by sends alone is never
 * released and so never triggers a collection on its own. */
static long tot_inflight, gc_floor;
#define GC_TRIGGER 4096
static void unix_gc(void);

/* What Linux charges for a message of n bytes (an skb's truesize): the
 * data and shared info in a power-of-two kmalloc block, plus the sk_buff;
 * 768 for a small message. */
static size_t truesize(size_t n)
{
	size_t a = ((n + 63) & ~(size_t)63) + 320;
	if (a > 32768)
		return ((a + 4095) & ~(size_t)4095) + 256;
	size_t p = 512;
	while (p < a)
		p <<= 1;
	return p + 256;
}
static const struct file_ops unix_ops;

static struct usock *us_get(struct usock *s)
{
	s->refs++;
	return s;
}

/* Files in flight per real uid (user_struct.unix_inflight): a sender
 * whose count is already above its RLIMIT_NOFILE may send no more. */
struct inflight_user {
	struct inflight_user *next;
	uint32_t uid;
	uint64_t n;
};
static struct inflight_user *inflight_users;

static struct inflight_user *inflight_of(uint32_t uid, bool make)
{
	for (struct inflight_user *u = inflight_users; u; u = u->next)
		if (u->uid == uid)
			return u;
	if (!make)
		return NULL;
	struct inflight_user *u = calloc(1, sizeof(*u));
	if (u) {
		u->uid = uid;
		u->next = inflight_users;
		inflight_users = u;
	}
	return u;
}

/* too_many_unix_fds */
static bool too_many_fds(struct task *t)
{
	if (!t)
		return false;
	struct inflight_user *u = inflight_of(t->creds.uid, false);
	if (!u || u->n <= t->rlimits[RLIMIT_NOFILE].rlim_cur)
		return false;
	return !creds_capable(&t->creds, CAP_SYS_RESOURCE_) && !creds_capable(&t->creds, WARD_CAP_SYS_ADMIN);
}

static struct usock *inflight_sock(struct file *f)
{
	return f && f->ops == &unix_ops ? f->priv : NULL;
}

/* A reference to s's file goes into flight (+1) or leaves it (-1). */
static void inflight_adjust(struct usock *s, int d)
{
	if (!s)
		return;
	tot_inflight += d;
	if (d > 0 && s->inflight++ == 0) {
		s->if_prev = NULL;
		s->if_next = inflight_list;
		if (inflight_list)
			inflight_list->if_prev = s;
		inflight_list = s;
	} else if (d < 0 && --s->inflight == 0) {
		if (s->if_prev)
			s->if_prev->if_next = s->if_next;
		else
			inflight_list = s->if_next;
		if (s->if_next)
			s->if_next->if_prev = s->if_prev;
		s->if_next = s->if_prev = NULL;
	}
}

/* k's files leave flight (received or dropped). */
static void skb_uncharge(struct skb *k)
{
	struct inflight_user *u = k->nfds ? inflight_of(k->fds_uid, false) : NULL;
	if (u)
		u->n -= WARD_MIN(u->n, (uint64_t)k->nfds);
	for (int i = 0; i < k->nfds; i++)
		inflight_adjust(inflight_sock(k->fds[i]), -1);
}

static void skb_free(struct skb *k)
{
	skb_uncharge(k);
	for (int i = 0; i < k->nfds; i++)
		file_put(k->fds[i]);
	free(k->fds);
	free(k);
}

static void rq_flush(struct usock *s)
{
	/* Detached first: dropping a file in flight may close sockets. */
	struct skb *k = s->rq_head;
	s->rq_head = s->rq_tail = NULL;
	s->rq_used = 0;
	while (k) {
		struct skb *next = k->next;
		skb_free(k);
		k = next;
	}
}

static void us_put(struct usock *s)
{
	if (--s->refs > 0)
		return;
	rq_flush(s);
	free(s->acceptq);
	free(s);
}

static struct usock *us_new(int type)
{
	struct usock *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->refs = 1;
	s->type = type;
	s->sndbuf = DEFAULT_BUF;
	s->rcvbuf = DEFAULT_BUF;
	s->rcvlowat = 1;
	s->peek_off = -1;
	s->peercred = (struct ucred_img){ 0, (uint32_t)-1, (uint32_t)-1 };
	s->addrlen = 2;
	s->addr[0] = 1; /* AF_UNIX, little-endian */
	return s;
}

static struct ucred_img cred_of(struct task *t)
{
	if (!t)
		return (struct ucred_img){ 0, 0, 0 };
	return (struct ucred_img){ t->tgid, t->creds.euid, t->creds.egid };
}

static void wake(struct usock *s)
{
	waitq_wake_all(&s->wq);
	if (s->peer)
		waitq_wake_all(&s->peer->wq);
}

static int64_t deadline_of(struct usock *s, int which)
{
	int64_t ns = s->timeo_ns[which];
	return ns > 0 ? ward_now_ns() + ns : 0;
}

/* Sleeps on q until a wake, a signal or the deadline (0: none). 0, or what
 * Linux returns: EAGAIN when the socket's timeout passes, and for a signal
 * sock_intr_errno (a socket with a timeout is not restarted). */
static long sleep_on(struct task *t, struct waitq *q, struct usock *s, int which, int64_t deadline)
{
	struct waiter w;
	waitq_add(q, &w, t);
	long r = task_sleep(t, deadline);
	waitq_remove(q, &w);
	if (r == -ETIMEDOUT)
		return -EAGAIN;
	if (r == -EINTR)
		return s->timeo_ns[which] ? -EINTR : -WARD_ERESTARTSYS;
	return 0;
}

static void unbind(struct usock *s)
{
	if (!s->in_table)
		return;
	for (struct usock **pp = &bound_list; *pp; pp = &(*pp)->next_bound) {
		if (*pp == s) {
			*pp = s->next_bound;
			break;
		}
	}
	s->in_table = false;
}

static void us_close(struct usock *s, bool reset)
{
	s->closed = true;
	unbind(s);
	for (int i = 0; i < s->nq; i++) {
		us_close(s->acceptq[i], true);
		us_put(s->acceptq[i]);
	}
	s->nq = 0;
	struct usock *p = s->peer;
	if (p && s->type != SK_DGRAM && p->peer == s) {
		p->shut = SHUT_RCV | SHUT_SEND;
		if (s->rq_head || reset)
			p->so_error = ECONNRESET;
	}
	rq_flush(s);
	wake(s);
	s->peer = NULL;
	if (p)
		us_put(p);
}

static struct file *file_for(struct usock *s, int flags)
{
	char name[64];
	snprintf(name, sizeof(name), "socket:[%lu]", (unsigned long)((uintptr_t)s >> 4) & 0xffffff);
	struct file *f = file_alloc(&unix_ops, O_RDWR | (uint32_t)(flags & O_NONBLOCK), name, s);
	if (f)
		s->file = f;
	return f;
}

bool unix_is_socket(struct file *f)
{
	return f && f->ops == &unix_ops;
}

long unix_socket_create(int type, int flags, struct file **out)
{
	struct usock *s = us_new(type);
	if (!s)
		return -ENOMEM;
	struct file *f = file_for(s, flags);
	if (!f) {
		us_put(s);
		return -ENFILE;
	}
	*out = f;
	return 0;
}

long unix_socketpair(struct task *t, int type, int flags, struct file **a, struct file **b)
{
	long r = unix_socket_create(type, flags, a);
	if (r < 0)
		return r;
	r = unix_socket_create(type, flags, b);
	if (r < 0) {
		file_put(*a);
		return r;
	}
	struct usock *x = (*a)->priv, *y = (*b)->priv;
	x->peer = us_get(y);
	y->peer = us_get(x);
	x->state = y->state = ST_CONNECTED;
	x->peercred = y->peercred = cred_of(t);
	return 0;
}

/* Checks a sockaddr_un and computes the length Linux keeps for it. */
static long parse_addr(const void *addr, size_t len, uint32_t *keep)
{
	const uint8_t *a = addr;
	if (len < 2 || len > UNIX_ADDR_MAX || a[0] != 1 || a[1] != 0)
		return -EINVAL;
	if (len == 2)
		return 0; /* autobind (bind) */
	if (a[2] == 0) {
		*keep = (uint32_t)len;
		return 1; /* abstract */
	}
	size_t n = strnlen((const char *)a + 2, len - 2);
	*keep = (uint32_t)(2 + n + 1);
	return 2; /* path */
}

static void path_of(const void *addr, size_t len, char *out)
{
	size_t n = strnlen((const char *)addr + 2, len - 2);
	memcpy(out, (const char *)addr + 2, n);
	out[n] = 0;
}

/* Abstract names are per type, as Linux hashes them with the type. */
static struct usock *find_abstract(const uint8_t *addr, uint32_t len, int type)
{
	for (struct usock *s = bound_list; s; s = s->next_bound)
		if (!s->path_bound && s->type == type && s->addrlen == len && memcmp(s->addr, addr, len) == 0)
			return s;
	return NULL;
}

static struct usock *find_inode(const struct linux_statx *st)
{
	for (struct usock *s = bound_list; s; s = s->next_bound)
		if (s->path_bound && s->ino == st->stx_ino && s->dev_major == st->stx_dev_major &&
		    s->dev_minor == st->stx_dev_minor)
			return s;
	return NULL;
}

static uint32_t autobind_seq = 0x10000;

static long autobind(struct usock *s)
{
	for (int tries = 0; tries < 0x100000; tries++) {
		uint8_t a[8] = { 1, 0, 0 };
		char hex[8];
		snprintf(hex, sizeof(hex), "%05x", (unsigned)(autobind_seq++ & 0xfffff));
		memcpy(a + 3, hex, 5);
		if (!find_abstract(a, 8, s->type)) {
			memcpy(s->addr, a, 8);
			s->addrlen = 8;
			s->in_table = true;
			s->next_bound = bound_list;
			bound_list = s;
			return 0;
		}
	}
	return -ENOSPC;
}

long unix_bind(struct task *t, struct file *f, const void *addr, size_t len)
{
	struct usock *s = f->priv;
	uint32_t keep = 0;
	long kind = parse_addr(addr, len, &keep);
	if (kind < 0)
		return kind;
	if (kind == 0)
		return s->addrlen > 2 ? 0 : autobind(s);
	if (kind == 1) {
		if (s->addrlen > 2)
			return -EINVAL;
		if (find_abstract(addr, keep, s->type))
			return -EADDRINUSE;
	} else {
		char path[UNIX_ADDR_MAX];
		path_of(addr, len, path);
		uint32_t mode = S_IFSOCK | (0777 & ~(t->fs ? t->fs->umask : 022));
		long r = vfs_mknodat(t, AT_FDCWD, path, mode, 0);
		if (r == -EEXIST)
			return -EADDRINUSE;
		if (r < 0)
			return r;
		/* Linux makes the inode first, then finds the socket bound. */
		struct linux_statx st;
		r = s->addrlen > 2 ? -EINVAL : vfs_statat(t, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, &st);
		if (r < 0) {
			vfs_unlinkat(t, AT_FDCWD, path, 0);
			return r;
		}
		s->path_bound = true;
		s->ino = st.stx_ino;
		s->dev_major = st.stx_dev_major;
		s->dev_minor = st.stx_dev_minor;
	}
	memset(s->addr, 0, sizeof(s->addr));
	memcpy(s->addr, addr, WARD_MIN(len, (size_t)keep));
	s->addrlen = keep;
	s->in_table = true;
	s->next_bound = bound_list;
	bound_list = s;
	return 0;
}

long unix_listen(struct task *t, struct file *f, int backlog)
{
	struct usock *s = f->priv;
	if (s->type == SK_DGRAM)
		return -EOPNOTSUPP;
	if (s->addrlen <= 2 || s->state == ST_CONNECTED)
		return -EINVAL;
	if ((unsigned int)backlog > SOMAXCONN)
		backlog = SOMAXCONN;
	s->backlog = backlog;
	if (s->state != ST_LISTENING)
		s->owncred = cred_of(t);
	s->state = ST_LISTENING;
	wake(s);
	return 0;
}

/* Finds the socket a name designates, as unix_find_other does. */
static long find_other(struct task *t, const void *addr, size_t len, int type, struct usock **out)
{
	uint32_t keep = 0;
	long kind = parse_addr(addr, len, &keep);
	if (kind < 0)
		return kind;
	if (kind == 0)
		return -EINVAL;
	struct usock *o;
	if (kind == 1) {
		o = find_abstract(addr, keep, type);
		if (!o)
			return -ECONNREFUSED;
	} else {
		char path[UNIX_ADDR_MAX];
		path_of(addr, len, path);
		struct linux_statx st;
		long r = vfs_statat(t, AT_FDCWD, path, 0, &st);
		if (r < 0)
			return r;
		if ((st.stx_mode & S_IFMT) != S_IFSOCK)
			return -ECONNREFUSED;
		r = vfs_accessat(t, AT_FDCWD, path, 2 /* W_OK */, AT_EACCESS);
		if (r < 0)
			return r;
		o = find_inode(&st);
		if (!o)
			return -ECONNREFUSED;
	}
	if (o->type != type)
		return -EPROTOTYPE;
	*out = o;
	return 0;
}

long unix_connect(struct task *t, struct file *f, const void *addr, size_t len)
{
	struct usock *s = f->priv, *o;
	if (len < 2 || ((const uint8_t *)addr)[0] != 1 || ((const uint8_t *)addr)[1] != 0)
		return len >= 2 && s->type == SK_DGRAM ? -EAFNOSUPPORT : -EINVAL;
	if (s->type == SK_DGRAM) {
		long r = find_other(t, addr, len, s->type, &o);
		if (r < 0)
			return r;
		if (s->peer)
			us_put(s->peer);
		s->peer = us_get(o);
		s->state = ST_CONNECTED;
		return 0;
	}
	int64_t deadline = deadline_of(s, 1);
	for (;;) {
		long r = find_other(t, addr, len, s->type, &o);
		if (r < 0)
			return r;
		if (o->state != ST_LISTENING || (o->shut & SHUT_RCV))
			return -ECONNREFUSED;
		if (o->nq <= o->backlog)
			break;
		if ((f->flags & O_NONBLOCK) || s->timeo_ns[1] < 0)
			return -EAGAIN;
		r = sleep_on(t, &o->wq, s, 1, deadline);
		if (r < 0)
			return r;
	}
	/* Linux looks at the socket's own state last. */
	if (s->state == ST_CONNECTED)
		return -EISCONN;
	if (s->state == ST_LISTENING)
		return -EINVAL;
	if (o->nq == o->capq) {
		int cap = o->capq ? o->capq * 2 : 4;
		struct usock **q = realloc(o->acceptq, (size_t)cap * sizeof(*q));
		if (!q)
			return -ENOMEM;
		o->acceptq = q;
		o->capq = cap;
	}
	struct usock *e = us_new(s->type);
	if (!e)
		return -ENOMEM;
	e->embryo = true;
	e->state = ST_CONNECTED;
	memcpy(e->addr, o->addr, sizeof(e->addr));
	e->addrlen = o->addrlen;
	e->peercred = cred_of(t);
	e->peer = us_get(s);
	s->peer = us_get(e);
	s->state = ST_CONNECTED;
	s->peercred = o->owncred;
	o->acceptq[o->nq++] = e; /* the queue holds e's first reference */
	wake(o);
	wake(s);
	return 0;
}

long unix_accept(struct task *t, struct file *f, int flags, struct file **out, void *addr, uint32_t *addrlen)
{
	struct usock *s = f->priv;
	if (s->type == SK_DGRAM)
		return -EOPNOTSUPP;
	if (s->state != ST_LISTENING)
		return -EINVAL;
	int64_t deadline = deadline_of(s, 0);
	while (!s->nq) {
		if ((f->flags & O_NONBLOCK) || s->timeo_ns[0] < 0)
			return -EAGAIN;
		long r = sleep_on(t, &s->wq, s, 0, deadline);
		if (r < 0)
			return r;
		if (s->state != ST_LISTENING)
			return -EINVAL;
	}
	struct usock *e = s->acceptq[0];
	struct file *nf = file_for(e, flags);
	if (!nf)
		return -ENFILE;
	memmove(s->acceptq, s->acceptq + 1, (size_t)(s->nq - 1) * sizeof(*s->acceptq));
	s->nq--;
	e->embryo = false;
	wake(s); /* connectors waiting for room */
	if (e->peer) {
		memcpy(addr, e->peer->addr, UNIX_ADDR_MAX);
		*addrlen = e->peer->addrlen;
	} else {
		memset(addr, 0, 2);
		((uint8_t *)addr)[0] = 1;
		*addrlen = 2;
	}
	*out = nf;
	return 0;
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

static long enqueue(struct task *t, struct usock *s, struct usock *p, const void *buf, size_t n,
		    const struct unix_ctl *ctl)
{
	struct skb *k = calloc(1, sizeof(*k) + n);
	if (!k)
		return -ENOBUFS;
	k->cred = cred_of(t);
	if (ctl && ctl->has_cred)
		k->cred = (struct ucred_img){ ctl->pid, ctl->uid, ctl->gid };
	if (ctl && ctl->nfds) {
		k->fds = calloc((size_t)ctl->nfds, sizeof(*k->fds));
		if (!k->fds) {
			free(k);
			return -ENOBUFS;
		}
		for (int i = 0; i < ctl->nfds; i++) {
			k->fds[i] = file_get(ctl->fds[i]);
			inflight_adjust(inflight_sock(k->fds[i]), 1);
		}
		k->nfds = ctl->nfds;
		k->fds_uid = t ? t->creds.uid : 0;
		struct inflight_user *u = inflight_of(k->fds_uid, true);
		if (u)
			u->n += (uint64_t)k->nfds;
	}
	k->next = NULL;
	k->len = n;
	k->off = 0;
	k->addrlen = s->addrlen > 2 ? s->addrlen : 0;
	memcpy(k->addr, s->addr, sizeof(k->addr));
	memcpy(k->data, buf, n);
	if (p->rq_tail)
		p->rq_tail->next = k;
	else
		p->rq_head = k;
	p->rq_tail = k;
	p->rq_used += truesize(n);
	waitq_wake_all(&p->wq);
	return 0;
}

/* The sending half of unix_send, to p, which the caller holds. */
static long send_to(struct task *t, struct usock *s, struct usock *p, const void *buf, size_t len, int flags,
		    const struct unix_ctl *ctl, bool nonblock, int64_t deadline)
{
	size_t done = 0;
	long r;

	if (s->type != SK_STREAM && len + 32 > (size_t)s->sndbuf)
		return -EMSGSIZE;
	for (;;) {
		if (s->type != SK_DGRAM && ((s->shut & SHUT_SEND) || p->closed || (p->shut & SHUT_RCV))) {
			if (!(flags & UMSG_NOSIGNAL))
				send_sigpipe(t);
			return done ? (long)done : -EPIPE;
		}
		if (s->type == SK_DGRAM && p->closed)
			return -ECONNREFUSED;
		if (ctl && ctl->nfds && too_many_fds(t))
			return done ? (long)done : -ETOOMANYREFS;
		if (p->rq_used < (size_t)s->sndbuf) {
			size_t n = s->type == SK_STREAM ? WARD_MIN(len - done, (size_t)STREAM_CHUNK) : len;
			r = enqueue(t, s, p, (const uint8_t *)buf + done, n, ctl);
			if (r < 0)
				return done ? (long)done : r;
			ctl = NULL; /* the files go with the first message */
			done += n;
			if (done == len)
				return (long)done;
			continue;
		}
		if (nonblock)
			return done ? (long)done : -EAGAIN;
		r = sleep_on(t, &p->wq, s, 1, deadline);
		if (r < 0)
			return done ? (long)done : r;
	}
}

long unix_send(struct task *t, struct file *f, const void *buf, size_t len, int flags, const void *addr, size_t addrlen,
	       const struct unix_ctl *ctl)
{
	struct usock *s = f->priv, *p;
	bool nonblock = (f->flags & O_NONBLOCK) || (flags & UMSG_DONTWAIT) || s->timeo_ns[1] < 0;
	int64_t deadline = deadline_of(s, 1);
	long r;

	/* Before the peer is looked up: a collection may release it. */
	if (ctl && ctl->nfds && tot_inflight > gc_floor + GC_TRIGGER)
		unix_gc();

	if (s->type == SK_DGRAM) {
		if (addr && addrlen) {
			r = find_other(t, addr, addrlen, s->type, &p);
			if (r < 0)
				return r;
		} else {
			p = s->peer;
			if (!p)
				return -ENOTCONN;
			if (p->closed) {
				s->peer = NULL;
				s->state = ST_UNCONNECTED;
				us_put(p);
				return -ECONNREFUSED;
			}
		}
	} else {
		if (addr && addrlen)
			return s->state == ST_CONNECTED ? -EISCONN : -EOPNOTSUPP;
		if (s->state != ST_CONNECTED || !s->peer)
			return -ENOTCONN;
		p = s->peer;
	}
	/* The peer may be closed and released while this sender sleeps on its
	 * queue: hold it until the send is over. */
	us_get(p);
	r = send_to(t, s, p, buf, len, flags, ctl, nonblock, deadline);
	us_put(p);
	return r;
}

static void dequeue(struct usock *s)
{
	struct skb *k = s->rq_head;
	s->rq_head = k->next;
	if (!s->rq_head)
		s->rq_tail = NULL;
	s->rq_used -= truesize(k->len);
	skb_free(k);
}

/* Hands k's files (and creds) to ctl: moved, or new references for a
 * peek; dropped when there is no ctl. */
static void take_ctl(struct usock *s, struct skb *k, bool peek, struct unix_ctl *ctl)
{
	if (ctl && s->passcred && !ctl->has_cred) {
		ctl->has_cred = true;
		ctl->pid = k->cred.pid;
		ctl->uid = k->cred.uid;
		ctl->gid = k->cred.gid;
	}
	if (!k->nfds)
		return;
	if (!peek)
		skb_uncharge(k);
	if (ctl && !ctl->nfds) {
		ctl->fds = calloc((size_t)k->nfds, sizeof(*ctl->fds));
		if (ctl->fds) {
			for (int i = 0; i < k->nfds; i++)
				ctl->fds[i] = peek ? file_get(k->fds[i]) : k->fds[i];
			ctl->nfds = k->nfds;
			if (!peek) {
				free(k->fds);
				k->fds = NULL;
				k->nfds = 0;
			}
			return;
		}
	}
	if (!peek) {
		for (int i = 0; i < k->nfds; i++)
			file_put(k->fds[i]);
		free(k->fds);
		k->fds = NULL;
		k->nfds = 0;
	}
}

/* sk_peek_offset_fwd / sk_peek_offset_bwd */
static void peek_fwd(struct usock *s, size_t n)
{
	if (s->peek_off >= 0)
		s->peek_off = (int)WARD_MIN((size_t)INT_MAX, (size_t)s->peek_off + n);
}

static void peek_bwd(struct usock *s, size_t n)
{
	if (s->peek_off >= 0)
		s->peek_off = n >= (size_t)s->peek_off ? 0 : s->peek_off - (int)n;
}

/* A datagram or seqpacket message; peeking from SO_PEEK_OFF bytes into the
 * queue when it is set, as __skb_try_recv_from_queue skips them. */
static long recv_msg(struct usock *s, void *buf, size_t len, int flags, void *addr, uint32_t *addrlen, int *msg_flags,
		     struct unix_ctl *ctl, bool *empty)
{
	bool peek = flags & UMSG_PEEK;
	struct skb *k = s->rq_head;
	size_t skip = 0;
	if (peek && s->peek_off >= 0) {
		skip = (size_t)s->peek_off;
		while (k && skip && skip >= k->len) {
			skip -= k->len;
			k = k->next;
		}
		if (!k) {
			*empty = true;
			return 0;
		}
	}
	size_t avail = k->len - skip;
	size_t n = WARD_MIN(len, avail);
	memcpy(buf, k->data + skip, n);
	if (avail > len)
		*msg_flags |= UMSG_TRUNC;
	long ret = (flags & UMSG_TRUNC) ? (long)avail : (long)n;
	take_ctl(s, k, peek, ctl);
	if (s->type == SK_DGRAM && k->addrlen) {
		memcpy(addr, k->addr, UNIX_ADDR_MAX);
		*addrlen = k->addrlen;
	}
	if (peek) {
		peek_fwd(s, n);
	} else {
		peek_bwd(s, k->len);
		dequeue(s);
		wake(s);
	}
	return ret;
}

long unix_recv(struct task *t, struct file *f, void *buf, size_t len, int flags, void *addr, uint32_t *addrlen,
	       int *msg_flags, struct unix_ctl *ctl)
{
	struct usock *s = f->priv;
	bool nonblock = (f->flags & O_NONBLOCK) || (flags & UMSG_DONTWAIT) || s->timeo_ns[0] < 0;
	bool peek = flags & UMSG_PEEK;
	int64_t deadline = deadline_of(s, 0);
	size_t done = 0;
	/* sock_rcvlowat: how much a stream read waits for. */
	size_t target = (flags & UMSG_WAITALL) ? len : WARD_MIN(len, (size_t)WARD_MAX(s->rcvlowat, 1));
	if (!target)
		target = 1;

	*addrlen = 0;
	*msg_flags = 0;
	if (s->type == SK_STREAM && s->state != ST_CONNECTED)
		return -EINVAL;
	if (s->type == SK_SEQPACKET && s->state != ST_CONNECTED)
		return -ENOTCONN;
	for (;;) {
		bool data = s->rq_head != NULL;
		if (data && s->type != SK_STREAM) {
			bool empty = false;
			long r = recv_msg(s, buf, len, flags, addr, addrlen, msg_flags, ctl, &empty);
			if (!empty)
				return r;
			data = false;
		} else if (data && peek) {
			/* A stream peek: from SO_PEEK_OFF when it is set, up to
			 * the first message carrying files. */
			size_t skip = s->peek_off >= 0 ? (size_t)s->peek_off : 0;
			struct skb *k = s->rq_head;
			for (; k && skip >= k->len - k->off; k = k->next)
				skip -= k->len - k->off;
			for (; k && done < len; k = k->next) {
				take_ctl(s, k, true, ctl);
				size_t n = WARD_MIN(len - done, k->len - k->off - skip);
				memcpy((uint8_t *)buf + done, k->data + k->off + skip, n);
				done += n;
				skip = 0;
				if (k->nfds)
					break;
			}
			peek_fwd(s, done);
			if (done)
				return (long)done;
			data = false;
		} else if (data) {
			/* Files in flight end a read. */
			bool had_fds = false;
			while (s->rq_head && done < len && !had_fds) {
				struct skb *k = s->rq_head;
				had_fds = k->nfds > 0;
				take_ctl(s, k, false, ctl);
				size_t n = WARD_MIN(len - done, k->len - k->off);
				memcpy((uint8_t *)buf + done, k->data + k->off, n);
				done += n;
				k->off += n;
				peek_bwd(s, n);
				if (k->off == k->len)
					dequeue(s);
			}
			wake(s);
			if (done >= target || had_fds)
				return (long)done;
			continue;
		}
		if (s->so_error) {
			if (done)
				return (long)done;
			long e = -s->so_error;
			s->so_error = 0;
			return e;
		}
		if (s->shut & SHUT_RCV)
			return (long)done;
		if (len == 0)
			return 0;
		if (nonblock)
			return done ? (long)done : -EAGAIN;
		long r = sleep_on(t, &s->wq, s, 0, deadline);
		if (r < 0)
			return done ? (long)done : r;
	}
}

long unix_shutdown(struct file *f, int how)
{
	struct usock *s = f->priv;
	if (how < 0 || how > 2)
		return -EINVAL;
	int mode = how + 1;
	s->shut |= mode;
	struct usock *p = s->peer;
	if (p && s->type != SK_DGRAM) {
		int pm = ((mode & SHUT_RCV) ? SHUT_SEND : 0) | ((mode & SHUT_SEND) ? SHUT_RCV : 0);
		p->shut |= pm;
	}
	wake(s);
	return 0;
}

long unix_getname(struct file *f, bool peer, void *addr, uint32_t *addrlen)
{
	struct usock *s = f->priv;
	if (peer) {
		if (s->state != ST_CONNECTED || !s->peer)
			return -ENOTCONN;
		s = s->peer;
	}
	memcpy(addr, s->addr, UNIX_ADDR_MAX);
	*addrlen = s->addrlen;
	return 0;
}

#define SOL_SOCKET_ 1
#define SO_DEBUG_ 1
#define SO_REUSEADDR_ 2
#define SO_TYPE_ 3
#define SO_ERROR_ 4
#define SO_DONTROUTE_ 5
#define SO_BROADCAST_ 6
#define SO_SNDBUF_ 7
#define SO_RCVBUF_ 8
#define SO_KEEPALIVE_ 9
#define SO_OOBINLINE_ 10
#define SO_NO_CHECK_ 11
#define SO_PRIORITY_ 12
#define SO_LINGER_ 13
#define SO_BSDCOMPAT_ 14
#define SO_REUSEPORT_ 15
#define SO_PASSCRED_ 16
#define SO_PEERCRED_ 17
#define SO_RCVLOWAT_ 18
#define SO_SNDLOWAT_ 19
#define SO_RCVTIMEO_OLD_ 20
#define SO_SNDTIMEO_OLD_ 21
#define SO_TIMESTAMP_OLD_ 29
#define SO_ACCEPTCONN_ 30
#define SO_SNDBUFFORCE_ 32
#define SO_RCVBUFFORCE_ 33
#define SO_TIMESTAMPNS_OLD_ 35
#define SO_MARK_ 36
#define SO_PROTOCOL_ 38
#define SO_DOMAIN_ 39
#define SO_PEEK_OFF_ 42
#define SO_TIMESTAMP_NEW_ 63
#define SO_TIMESTAMPNS_NEW_ 64
#define SO_RCVTIMEO_NEW_ 66
#define SO_SNDTIMEO_NEW_ 67
#define HZ_ 250 /* SO_LINGER keeps jiffies: seconds beyond MAX_SCHEDULE_TIMEOUT / HZ saturate */

static uint32_t bool_opt(int name)
{
	switch (name) {
	case SO_DEBUG_:
		return OPT_DEBUG;
	case SO_REUSEADDR_:
		return OPT_REUSEADDR;
	case SO_DONTROUTE_:
		return OPT_DONTROUTE;
	case SO_BROADCAST_:
		return OPT_BROADCAST;
	case SO_KEEPALIVE_:
		return OPT_KEEPALIVE;
	case SO_OOBINLINE_:
		return OPT_OOBINLINE;
	case SO_NO_CHECK_:
		return OPT_NO_CHECK;
	default:
		return 0;
	}
}

static int timeo_which(int name)
{
	if (name == SO_RCVTIMEO_OLD_ || name == SO_RCVTIMEO_NEW_)
		return 0;
	if (name == SO_SNDTIMEO_OLD_ || name == SO_SNDTIMEO_NEW_)
		return 1;
	return -1;
}

static bool capable(int cap)
{
	struct task *t = task_current();
	return !t || creds_capable(&t->creds, cap);
}

long unix_getsockopt(struct file *f, int level, int name, void *val, uint32_t *len)
{
	struct usock *s = f->priv;
	int v;
	if ((int)*len < 0)
		return -EINVAL;
	if (level != SOL_SOCKET_)
		return -EOPNOTSUPP;
	if (bool_opt(name)) {
		v = (s->opts & bool_opt(name)) != 0;
		goto out;
	}
	int which = timeo_which(name);
	if (which >= 0) {
		/* sock_getsockopt copies min(len, sizeof(timeval)); x86-64's
		 * old and new layouts are the same. */
		int64_t tv[2] = { s->tv[which][0], s->tv[which][1] };
		*len = WARD_MIN(*len, (uint32_t)sizeof(tv));
		memcpy(val, tv, *len);
		return 0;
	}
	switch (name) {
	case SO_TYPE_:
		v = s->type;
		break;
	case SO_ERROR_:
		v = s->so_error;
		s->so_error = 0;
		break;
	case SO_SNDBUF_:
		v = s->sndbuf;
		break;
	case SO_RCVBUF_:
		v = s->rcvbuf;
		break;
	case SO_PASSCRED_:
		v = s->passcred;
		break;
	case SO_ACCEPTCONN_:
		v = s->state == ST_LISTENING;
		break;
	case SO_PROTOCOL_:
		v = 0;
		break;
	case SO_DOMAIN_:
		v = 1;
		break;
	case SO_REUSEPORT_:
	case SO_BSDCOMPAT_:
		v = 0;
		break;
	case SO_PRIORITY_:
		v = s->priority;
		break;
	case SO_RCVLOWAT_:
		v = s->rcvlowat;
		break;
	case SO_SNDLOWAT_:
		v = 1;
		break;
	case SO_MARK_:
		v = s->mark;
		break;
	case SO_PEEK_OFF_:
		v = s->peek_off;
		break;
	case SO_TIMESTAMP_OLD_:
		v = (s->opts & (OPT_TSTAMP | OPT_TSTAMP_NEW | OPT_TSTAMPNS)) == OPT_TSTAMP;
		break;
	case SO_TIMESTAMP_NEW_:
		v = (s->opts & (OPT_TSTAMP | OPT_TSTAMP_NEW | OPT_TSTAMPNS)) == (OPT_TSTAMP | OPT_TSTAMP_NEW);
		break;
	case SO_TIMESTAMPNS_OLD_:
		v = (s->opts & (OPT_TSTAMPNS | OPT_TSTAMP_NEW)) == OPT_TSTAMPNS;
		break;
	case SO_TIMESTAMPNS_NEW_:
		v = (s->opts & (OPT_TSTAMPNS | OPT_TSTAMP_NEW)) == (OPT_TSTAMPNS | OPT_TSTAMP_NEW);
		break;
	case SO_LINGER_: {
		int lg[2] = { s->linger_on, s->linger_secs };
		*len = WARD_MIN(*len, (uint32_t)sizeof(lg));
		memcpy(val, lg, *len);
		return 0;
	}
	case SO_PEERCRED_:
		*len = WARD_MIN(*len, (uint32_t)sizeof(struct ucred_img));
		memcpy(val, &s->peercred, sizeof(s->peercred));
		return 0;
	default:
		return -ENOPROTOOPT;
	}
out:
	*len = WARD_MIN(*len, (uint32_t)sizeof(int));
	memcpy(val, &v, sizeof(v));
	return 0;
}

static long set_timeo(struct usock *s, int which, const void *val, uint32_t len)
{
	return sock_timeo_set(s->tv[which], &s->timeo_ns[which], val, len);
}

long unix_setsockopt(struct file *f, int level, int name, const void *val, uint32_t len)
{
	struct usock *s = f->priv;
	if (level != SOL_SOCKET_)
		return -EOPNOTSUPP;
	int which = timeo_which(name);
	if (which >= 0)
		return set_timeo(s, which, val, len);
	if (name == SO_LINGER_) {
		int lg[2];
		if (len < sizeof(lg))
			return -EINVAL;
		memcpy(lg, val, sizeof(lg));
		s->linger_on = lg[0] != 0;
		if (lg[0]) {
			/* A negative l_linger becomes a huge unsigned long:
			 * MAX_SCHEDULE_TIMEOUT jiffies, read back as that over HZ
			 * cut to an int. */
			s->linger_secs = lg[1] >= 0 ? lg[1] : (int)(uint32_t)(uint64_t)(INT64_MAX / HZ_);
		}
		return 0;
	}
	if (len < sizeof(int))
		return -EINVAL;
	int v;
	memcpy(&v, val, sizeof(v));
	uint32_t bit = bool_opt(name);
	if (bit) {
		if (name == SO_DEBUG_ && v && !capable(CAP_NET_ADMIN_))
			return -EACCES;
		if (v)
			s->opts |= bit;
		else
			s->opts &= ~bit;
		return 0;
	}
	switch (name) {
	case SO_SNDBUF_:
	case SO_SNDBUFFORCE_: {
		if (name == SO_SNDBUFFORCE_ && !capable(CAP_NET_ADMIN_))
			return -EPERM;
		uint32_t u = (uint32_t)v;
		if (name == SO_SNDBUF_ && u > MAX_BUF)
			u = MAX_BUF;
		if (u > INT_MAX / 2)
			u = INT_MAX / 2;
		s->sndbuf = (int)WARD_MAX(u * 2, 4608u);
		wake(s);
		return 0;
	}
	case SO_RCVBUF_:
	case SO_RCVBUFFORCE_: {
		if (name == SO_RCVBUFFORCE_ && !capable(CAP_NET_ADMIN_))
			return -EPERM;
		uint32_t u = (uint32_t)v;
		if (name == SO_RCVBUF_ && u > MAX_BUF)
			u = MAX_BUF;
		if (u > INT_MAX / 2)
			u = INT_MAX / 2;
		s->rcvbuf = (int)WARD_MAX(u * 2, 2304u);
		return 0;
	}
	case SO_PASSCRED_:
		s->passcred = v != 0;
		return 0;
	case SO_REUSEPORT_:
		/* Only inet sockets have it. */
		return v ? -EOPNOTSUPP : 0;
	case SO_BSDCOMPAT_:
		return 0;
	case SO_PRIORITY_:
		if ((v < 0 || v > 6) && !capable(CAP_NET_ADMIN_) && !capable(13 /* CAP_NET_RAW */))
			return -EPERM;
		s->priority = v;
		return 0;
	case SO_RCVLOWAT_:
		s->rcvlowat = v < 0 ? INT_MAX : v ? v : 1;
		wake(s);
		return 0;
	case SO_SNDLOWAT_:
		return -ENOPROTOOPT;
	case SO_MARK_:
		if (!capable(CAP_NET_ADMIN_) && !capable(13 /* CAP_NET_RAW */))
			return -EPERM;
		s->mark = v;
		return 0;
	case SO_PEEK_OFF_:
		s->peek_off = v;
		return 0;
	case SO_TIMESTAMP_OLD_:
	case SO_TIMESTAMP_NEW_:
	case SO_TIMESTAMPNS_OLD_:
	case SO_TIMESTAMPNS_NEW_:
		/* Only datagram receives carry SCM_TIMESTAMP* on Linux; ward
		 * does not build those messages, so it refuses to turn them on
		 * there rather than ignore the request. */
		if (v && s->type != SK_STREAM)
			return -EOPNOTSUPP;
		if (!v) {
			s->opts &= ~(OPT_TSTAMP | OPT_TSTAMPNS);
			return 0;
		}
		s->opts |= OPT_TSTAMP;
		if (name == SO_TIMESTAMP_NEW_ || name == SO_TIMESTAMPNS_NEW_)
			s->opts |= OPT_TSTAMP_NEW;
		else
			s->opts &= ~OPT_TSTAMP_NEW;
		if (name == SO_TIMESTAMPNS_OLD_ || name == SO_TIMESTAMPNS_NEW_)
			s->opts |= OPT_TSTAMPNS;
		else
			s->opts &= ~OPT_TSTAMPNS;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static long unix_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	uint8_t addr[UNIX_ADDR_MAX];
	uint32_t alen;
	int mf;
	(void)pos;
	return unix_recv(task_current(), f, buf, len, 0, addr, &alen, &mf, NULL);
}

static long unix_write(struct file *f, const void *buf, size_t len, uint64_t *pos)
{
	(void)pos;
	return unix_send(task_current(), f, buf, len, 0, NULL, 0, NULL);
}

static unsigned int unix_poll(struct file *f, struct waitq **q)
{
	struct usock *s = f->priv;
	unsigned int ev = 0;
	*q = &s->wq;
	if (s->shut == (SHUT_RCV | SHUT_SEND))
		ev |= POLLHUP;
	if (s->shut & SHUT_RCV)
		ev |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (s->rq_head || s->nq || s->so_error)
		ev |= POLLIN | POLLRDNORM;
	if (s->so_error)
		ev |= POLLERR;
	if (s->type != SK_DGRAM && s->state == ST_UNCONNECTED)
		ev |= POLLHUP;
	if (s->state != ST_LISTENING) {
		struct usock *p = s->peer;
		bool writable = !p || p->rq_used < (size_t)s->sndbuf;
		if (s->type == SK_DGRAM && p && p->closed)
			writable = true;
		if (writable)
			ev |= POLLOUT | POLLWRNORM | POLLWRBAND;
	}
	return ev;
}

static long unix_getattr(struct file *f, struct linux_statx *out)
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

static long unix_ioctl(struct task *t, struct file *f, unsigned int cmd, uint64_t arg)
{
	struct usock *s = f->priv;
	if (cmd == 0x541B /* FIONREAD */ || cmd == 0x5411 /* TIOCOUTQ */) {
		int n = 0;
		if (cmd == 0x541B) {
			for (struct skb *k = s->rq_head; k; k = k->next) {
				n += (int)(k->len - k->off);
				if (s->type != SK_STREAM)
					break;
			}
		} else if (s->peer) {
			for (struct skb *k = s->peer->rq_head; k; k = k->next)
				n += (int)(k->len - k->off);
		}
		return ward_copy_out(task_as(t), gaddr(arg), &n, sizeof(n));
	}
	return inet_dev_ioctl(t, cmd, arg);
}

/* Calls fn for every in-flight socket that a message queued at s (or at
 * one of its embryos) holds. */
static void for_children(struct usock *s, void (*fn)(struct usock *c, bool *changed), bool *changed)
{
	for (int e = -1; e < s->nq; e++) {
		struct usock *q = e < 0 ? s : s->acceptq[e];
		for (struct skb *k = q->rq_head; k; k = k->next)
			for (int i = 0; i < k->nfds; i++) {
				struct usock *c = inflight_sock(k->fds[i]);
				if (c && c->gc_cand)
					fn(c, changed);
			}
	}
}

static void gc_unref(struct usock *c, bool *changed)
{
	(void)changed;
	c->gc_refs--;
}

static void gc_reach(struct usock *c, bool *changed)
{
	if (c->gc_refs <= 0) {
		c->gc_refs = 1;
		*changed = true;
	}
}

/* unix_gc: sockets whose every file reference is held by messages in
 * flight are candidates; those that no socket reachable from outside (an
 * fd, a task in a call, a non-candidate's queue) holds are garbage, and
 * their queues are dropped, which releases them. */
static void unix_gc(void)
{
	static bool running;
	if (running || !inflight_list)
		return;
	running = true;
	int n = 0;
	for (struct usock *s = inflight_list; s; s = s->if_next) {
		s->gc_cand = s->file && s->file->refcount == s->inflight;
		s->gc_refs = s->inflight;
		n += s->gc_cand;
	}
	bool changed = false;
	for (struct usock *s = inflight_list; s; s = s->if_next)
		if (s->gc_cand)
			for_children(s, gc_unref, &changed);
	/* References left come from outside the candidates: those sockets,
	 * and all they reach, live. */
	do {
		changed = false;
		for (struct usock *s = inflight_list; s; s = s->if_next) {
			if (s->gc_cand && s->gc_refs > 0) {
				s->gc_cand = false;
				n--;
				changed = true;
				for_children(s, gc_reach, &changed);
			}
		}
	} while (changed);
	struct file **dead = n > 0 ? calloc((size_t)n, sizeof(*dead)) : NULL;
	int nd = 0;
	for (struct usock *s = inflight_list; dead && s; s = s->if_next)
		if (s->gc_cand && nd < n)
			dead[nd++] = file_get(s->file);
	/* Hold every dead file while the queues go, so that none is released
	 * while another's queue is being dropped. */
	for (int i = 0; i < nd; i++) {
		struct usock *s = dead[i]->priv;
		rq_flush(s);
		for (int e = 0; e < s->nq; e++)
			rq_flush(s->acceptq[e]);
	}
	for (int i = 0; i < nd; i++)
		file_put(dead[i]);
	free(dead);
	gc_floor = tot_inflight;
	running = false;
}

static void unix_release(struct file *f)
{
	struct usock *s = f->priv;
	s->file = NULL;
	us_close(s, false);
	us_put(s);
	/* As unix_release_sock: collect when sockets are in flight. */
	unix_gc();
}

static const struct file_ops unix_ops = {
	.read_buf = unix_read,
	.write_buf = unix_write,
	.getattr = unix_getattr,
	.ioctl_cmd = unix_ioctl,
	.poll_events = unix_poll,
	.release = unix_release,
	.stream = true,
};

int unix_type(struct file *f)
{
	return ((struct usock *)f->priv)->type;
}
