/* Anonymous pipes: a 64 KiB ring in the sentry, with readers and writers
 * sleeping on wait queues (pipe(7) is the specification). */
#include "sentry/service.h"

#include "fs/pipe.h"
#include "fs/vfs.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/task.h"

struct pipe_buf {
	uint8_t *buf;
	size_t cap; /* bytes the ring holds: F_SETPIPE_SZ changes it */
	size_t head; /* where the next read starts */
	size_t len; /* bytes in the ring */
	/* Packet mode (O_DIRECT): the lengths of the packets in the ring, in
	 * order, as a ring of their own. */
	bool packets;
	uint16_t *pkt;
	size_t pkt_head, pkt_count, pkt_cap;
	int readers;
	int writers;
	struct waitq readable;
	struct waitq writable;
	uint64_t ino;
	struct linux_statx_timestamp created;
};

static uint64_t next_pipe_ino = 1000;

static long pipe_read(struct file *f, void *out, size_t len, uint64_t *pos)
{
	struct pipe_buf *p = f->priv;
	struct task *t = task_current();

	if (len == 0)
		return 0;
	for (;;) {
		if (p->len) {
			/* In packet mode a read takes one packet; what does not fit
			 * in the buffer is dropped (pipe(7)). */
			size_t avail = p->len, drop = 0;
			if (p->packets && p->pkt_count) {
				avail = p->pkt[p->pkt_head];
				p->pkt_head = (p->pkt_head + 1) % p->pkt_cap;
				p->pkt_count--;
			}
			size_t n = WARD_MIN(len, avail);
			if (p->packets)
				drop = avail - n;
			size_t first = WARD_MIN(n, p->cap - p->head);
			memcpy(out, p->buf + p->head, first);
			memcpy((uint8_t *)out + first, p->buf, n - first);
			p->head = (p->head + n + drop) % p->cap;
			p->len -= n + drop;
			waitq_wake_all(&p->writable);
			return (long)n;
		}
		if (!p->writers)
			return 0;
		if ((f->flags & O_NONBLOCK) || !t)
			return -EAGAIN;
		struct waiter w;
		waitq_add(&p->readable, &w, t);
		long r = task_sleep(t, 0);
		waitq_remove(&p->readable, &w);
		if (r == -EINTR)
			return -WARD_ERESTARTSYS;
	}
}

static long pipe_write(struct file *f, const void *in, size_t len, uint64_t *pos)
{
	struct pipe_buf *p = f->priv;
	struct task *t = task_current();
	size_t done = 0;

	if (len == 0)
		return 0;
	for (;;) {
		if (!p->readers) {
			/* pipe(7): no reader is SIGPIPE, then EPIPE. */
			if (t) {
				struct linux_siginfo si;
				memset(&si, 0, sizeof(si));
				si.si_signo = SIGPIPE;
				si.u.rt.pid = t->tgid;
				signal_send_task(t, &si);
			}
			return done ? (long)done : -EPIPE;
		}
		size_t space = p->cap - p->len, want = len - done;
		/* Up to PIPE_ATOMIC bytes go in whole or not at all. */
		if (p->packets && want > PIPE_ATOMIC)
			want = PIPE_ATOMIC; /* one packet at a time */
		if (p->packets && p->pkt_count == p->pkt_cap)
			space = 0;
		if (space && (want > PIPE_ATOMIC || space >= want)) {
			size_t n = WARD_MIN(space, want);
			if (p->packets) {
				p->pkt[(p->pkt_head + p->pkt_count) % p->pkt_cap] = (uint16_t)n;
				p->pkt_count++;
			}
			size_t tail = (p->head + p->len) % p->cap;
			size_t first = WARD_MIN(n, p->cap - tail);
			memcpy(p->buf + tail, (const uint8_t *)in + done, first);
			memcpy(p->buf, (const uint8_t *)in + done + first, n - first);
			p->len += n;
			done += n;
			waitq_wake_all(&p->readable);
			if (done == len)
				return (long)done;
			continue;
		}
		if ((f->flags & O_NONBLOCK) || !t)
			return done ? (long)done : -EAGAIN;
		struct waiter w;
		waitq_add(&p->writable, &w, t);
		long r = task_sleep(t, 0);
		waitq_remove(&p->writable, &w);
		if (r == -EINTR)
			return done ? (long)done : -WARD_ERESTARTSYS;
	}
}

static long pipe_getattr(struct file *f, struct linux_statx *out)
{
	struct pipe_buf *p = f->priv;
	struct task *t = task_current();
	memset(out, 0, sizeof(*out));
	out->stx_mask = LINUX_STATX_BASIC_STATS;
	out->stx_mode = S_IFIFO | 0600;
	out->stx_nlink = 1;
	out->stx_ino = p->ino;
	out->stx_blksize = 4096;
	out->stx_uid = t ? t->creds.euid : 0;
	out->stx_gid = t ? t->creds.egid : 0;
	out->stx_atime = out->stx_mtime = out->stx_ctime = p->created;
	out->stx_dev_minor = 13; /* pipefs's anonymous device */
	return 0;
}

static long pipe_ioctl(struct task *t, struct file *f, unsigned int cmd, uint64_t arg)
{
	struct pipe_buf *p = f->priv;
	if (cmd == 0x541B /* FIONREAD */) {
		int n = (int)p->len;
		return ward_copy_out(task_as(t), gaddr(arg), &n, sizeof(n));
	}
	return -ENOTTY;
}

static void pipe_release(struct file *f)
{
	struct pipe_buf *p = f->priv;
	if ((f->flags & O_ACCMODE) == O_WRONLY) {
		p->writers--;
		waitq_wake_all(&p->readable);
	} else {
		p->readers--;
		waitq_wake_all(&p->writable);
	}
	if (!p->readers && !p->writers) {
		free(p->buf);
		free(p->pkt);
		free(p);
	}
}

static unsigned int pipe_poll(struct file *f, struct waitq **q)
{
	struct pipe_buf *p = f->priv;
	unsigned int ev = 0;
	if ((f->flags & O_ACCMODE) == O_WRONLY) {
		*q = &p->writable;
		if (p->cap - p->len >= PIPE_ATOMIC)
			ev |= POLLOUT | POLLWRNORM;
		if (!p->readers)
			ev |= POLLERR;
	} else {
		*q = &p->readable;
		if (p->len)
			ev |= POLLIN | POLLRDNORM;
		if (!p->writers)
			ev |= POLLHUP;
	}
	return ev;
}

static const struct file_ops pipe_ops = {
	.poll_events = pipe_poll,
	.read_buf = pipe_read,
	.write_buf = pipe_write,
	.getattr = pipe_getattr,
	.ioctl_cmd = pipe_ioctl,
	.release = pipe_release,
	.stream = true,
};

long pipe_create(int flags, struct file **read_end, struct file **write_end)
{
	struct pipe_buf *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENFILE;
	p->cap = PIPE_CAPACITY;
	p->buf = malloc(p->cap);
	p->packets = flags & O_DIRECT;
	p->pkt_cap = p->cap / 1; /* at most one packet per byte */
	p->pkt = p->packets ? calloc(p->pkt_cap, sizeof(*p->pkt)) : NULL;
	if (!p->buf || (p->packets && !p->pkt)) {
		free(p->buf);
		free(p->pkt);
		free(p);
		return -ENFILE;
	}
	p->ino = next_pipe_ino++;
	struct linux_timespec now;
	if (ward_host_clock_gettime(CLOCK_REALTIME, &now) == 0)
		p->created = (struct linux_statx_timestamp){ now.tv_sec, (uint32_t)now.tv_nsec, 0 };
	char name[64];
	snprintf(name, sizeof(name), "pipe:[%" PRIu64 "]", p->ino);
	uint32_t fl = (uint32_t)(flags & (O_NONBLOCK | O_DIRECT));
	struct file *r = file_alloc(&pipe_ops, O_RDONLY | fl, name, p);
	if (!r) {
		free(p->buf);
		free(p);
		return -ENFILE;
	}
	p->readers = 1;
	struct file *w = file_alloc(&pipe_ops, O_WRONLY | fl, name, p);
	if (!w) {
		file_put(r);
		return -ENFILE;
	}
	p->writers = 1;
	*read_end = r;
	*write_end = w;
	return 0;
}

bool pipe_is(const struct file *f)
{
	return f->ops == &pipe_ops;
}

bool pipe_same(const struct file *a, const struct file *b)
{
	return pipe_is(a) && pipe_is(b) && a->priv == b->priv;
}

size_t pipe_space(const struct file *f)
{
	const struct pipe_buf *p = f->priv;
	if (p->packets && p->pkt_count == p->pkt_cap)
		return 0;
	return p->cap - p->len;
}

/* Sleeps on q until woken; -WARD_ERESTARTSYS for a signal. */
static long pipe_wait(struct waitq *q, struct task *t)
{
	struct waiter w;
	waitq_add(q, &w, t);
	long r = task_sleep(t, 0);
	waitq_remove(q, &w);
	return r == -EINTR ? -WARD_ERESTARTSYS : 0;
}

long pipe_to_pipe(struct file *in, struct file *out, size_t len, bool nonblock, bool consume)
{
	struct pipe_buf *ip = in->priv, *op = out->priv;
	struct task *t = task_current();
	long r;
	/* Data first (ipipe_prep), then room (opipe_prep). */
	while (!ip->len) {
		if (!ip->writers)
			return 0;
		if (nonblock || !t)
			return -EAGAIN;
		if ((r = pipe_wait(&ip->readable, t)) < 0)
			return r;
	}
	for (;;) {
		if (!op->readers) {
			if (t) {
				struct linux_siginfo si;
				memset(&si, 0, sizeof(si));
				si.si_signo = SIGPIPE;
				si.u.rt.pid = t->tgid;
				signal_send_task(t, &si);
			}
			return -EPIPE;
		}
		if (pipe_space(out))
			break;
		if (nonblock || !t)
			return -EAGAIN;
		if ((r = pipe_wait(&op->writable, t)) < 0)
			return r;
		if (!ip->len)
			return 0;
	}
	size_t n = WARD_MIN(WARD_MIN(len, ip->len), pipe_space(out));
	/* In packet mode whole packets move, one at a time. */
	if (ip->packets && ip->pkt_count)
		n = WARD_MIN(n, (size_t)ip->pkt[ip->pkt_head]);
	cleanup_free uint8_t *buf = malloc(WARD_MAX(n, 1));
	if (!buf)
		return -ENOMEM;
	size_t first = WARD_MIN(n, ip->cap - ip->head);
	memcpy(buf, ip->buf + ip->head, first);
	memcpy(buf + first, ip->buf, n - first);
	if (consume) {
		if (ip->packets && ip->pkt_count) {
			ip->pkt_head = (ip->pkt_head + 1) % ip->pkt_cap;
			ip->pkt_count--;
		}
		ip->head = (ip->head + n) % ip->cap;
		ip->len -= n;
		waitq_wake_all(&ip->writable);
	}
	uint32_t saved = out->flags;
	out->flags |= O_NONBLOCK; /* the room is there: never sleeps */
	uint64_t pos = 0;
	r = pipe_write(out, buf, n, &pos);
	out->flags = saved;
	return r;
}

#define PIPE_MAX_SIZE (1024 * 1024) /* /proc/sys/fs/pipe-max-size */

long pipe_fcntl_size(struct file *f, bool set, uint64_t arg)
{
	if (f->ops != &pipe_ops)
		return -EBADF;
	struct pipe_buf *p = f->priv;
	if (!set)
		return (long)p->cap;
	/* Rounded up to a power of two pages, at least one page. */
	uint64_t want = 4096;
	while (want < arg && want <= PIPE_MAX_SIZE)
		want <<= 1;
	if (arg > PIPE_MAX_SIZE || want > PIPE_MAX_SIZE)
		return -EPERM;
	if (want < p->len)
		return -EBUSY;
	if (want == p->cap)
		return (long)want;
	uint8_t *nb = malloc(want);
	uint16_t *np = p->packets ? calloc(want, sizeof(*np)) : NULL;
	if (!nb || (p->packets && !np)) {
		free(nb);
		free(np);
		return -ENOMEM;
	}
	/* Move the data (and packet lengths) to the front of the new ring. */
	size_t first = WARD_MIN(p->len, p->cap - p->head);
	memcpy(nb, p->buf + p->head, first);
	memcpy(nb + first, p->buf, p->len - first);
	for (size_t i = 0; np && i < p->pkt_count; i++)
		np[i] = p->pkt[(p->pkt_head + i) % p->pkt_cap];
	free(p->buf);
	free(p->pkt);
	p->buf = nb;
	p->pkt = np;
	p->pkt_head = 0;
	p->pkt_cap = want;
	p->head = 0;
	p->cap = want;
	waitq_wake_all(&p->writable);
	return (long)want;
}
