/* epoll: an interest list of files, checked through each file's poll
 * operation. Every item keeps a callback waiter on its file's wait queue,
 * which marks it for edge-triggered reporting and wakes the epoll's own
 * waiters (epoll_wait callers, and outer epolls that hold this one). As on
 * Linux, an item goes away when its file description does: the item holds a
 * reference, and one that is the last reference means every descriptor for
 * the file was closed. */
#include "sentry/service.h"

#include "fs/anonfd.h"
#include "fs/vfs.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/task.h"

#define EPOLLIN_ 0x001
#define EPOLLOUT_ 0x004
#define EPOLLERR_ 0x008
#define EPOLLHUP_ 0x010
#define EPOLLRDNORM_ 0x040
#define EPOLLWRNORM_ 0x100
#define EPOLLRDHUP_ 0x2000
#define EPOLLEXCLUSIVE_ (1U << 28)
#define EPOLLWAKEUP_ (1U << 29)
#define EPOLLONESHOT_ (1U << 30)
#define EPOLLET_ (1U << 31)
#define EPOLL_CTL_ADD_ 1
#define EPOLL_CTL_DEL_ 2
#define EPOLL_CTL_MOD_ 3
#define HOST_RECHECK_NS (10 * 1000 * 1000)
#define MAX_NESTING 5

struct epoll;

struct epitem {
	int fd;
	struct file *file;
	uint32_t events;
	uint64_t data;
	bool edge; /* something happened since the last edge-triggered report */
	bool disabled; /* EPOLLONESHOT fired */
	struct waitq *q; /* the file's queue our waiter sits on, or NULL */
	struct waiter w;
	struct epoll *ep;
	struct epitem *next;
};

struct epoll {
	struct epitem *items;
	struct waitq readers;
};

struct epoll_event_abi {
	uint32_t events;
	uint64_t data;
} __attribute__((packed));
_Static_assert(sizeof(struct epoll_event_abi) == 12, "epoll_event");

static const struct file_ops epoll_ops;

static void item_wake(struct waiter *w)
{
	struct epitem *it = w->arg;
	it->edge = true;
	waitq_wake_all(&it->ep->readers);
}

static void item_free(struct epitem *it)
{
	if (it->q)
		waitq_remove(it->q, &it->w);
	file_put(it->file);
	free(it);
}

static void item_unlink(struct epoll *ep, struct epitem *it)
{
	for (struct epitem **pp = &ep->items; *pp; pp = &(*pp)->next) {
		if (*pp == it) {
			*pp = it->next;
			return;
		}
	}
}

/* The events an item has now, masked by what it asked for. */
static uint32_t item_events(struct epitem *it, bool *host)
{
	struct waitq *q = NULL;
	uint32_t ev = it->file->ops->poll_events ? it->file->ops->poll_events(it->file, &q) : EPOLLIN_ | EPOLLOUT_;
	if (!q)
		*host = true;
	return ev & (it->events | EPOLLERR_ | EPOLLHUP_);
}

/* Drops items whose file no descriptor refers to any more. */
static void reap_closed(struct epoll *ep)
{
	for (struct epitem **pp = &ep->items; *pp;) {
		struct epitem *it = *pp;
		if (it->file->refcount <= 1) {
			*pp = it->next;
			item_free(it);
		} else {
			pp = &it->next;
		}
	}
}

static unsigned int epoll_poll(struct file *f, struct waitq **q)
{
	struct epoll *ep = f->priv;
	*q = &ep->readers;
	bool host = false;
	for (struct epitem *it = ep->items; it; it = it->next) {
		if (it->disabled || it->file->refcount <= 1)
			continue;
		uint32_t ev = item_events(it, &host);
		if (ev && (!(it->events & EPOLLET_) || it->edge))
			return POLLIN | POLLRDNORM;
	}
	return 0;
}

static void epoll_release(struct file *f)
{
	struct epoll *ep = f->priv;
	while (ep->items) {
		struct epitem *it = ep->items;
		ep->items = it->next;
		item_free(it);
	}
	free(ep);
}

static long epoll_getattr(struct file *f, struct linux_statx *out)
{
	memset(out, 0, sizeof(*out));
	out->stx_mask = LINUX_STATX_BASIC_STATS;
	out->stx_mode = 0600;
	out->stx_nlink = 1;
	out->stx_blksize = 4096;
	return 0;
}

static const struct file_ops epoll_ops = {
	.getattr = epoll_getattr,
	.poll_events = epoll_poll,
	.release = epoll_release,
};

long epoll_create_file(int flags, struct file **out)
{
	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	struct epoll *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	struct file *f = file_alloc(&epoll_ops, O_RDWR, "anon_inode:[eventpoll]", ep);
	if (!f) {
		free(ep);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

/* Whether adding target to ep would make a cycle or nest too deep. */
static bool would_loop(struct epoll *ep, struct file *target, int depth)
{
	if (target->ops != &epoll_ops)
		return false;
	if (depth >= MAX_NESTING)
		return true;
	struct epoll *inner = target->priv;
	if (inner == ep)
		return true;
	for (struct epitem *it = inner->items; it; it = it->next)
		if (would_loop(ep, it->file, depth + 1))
			return true;
	return false;
}

struct file *epoll_target_file(struct file *epf, int fd, unsigned int toff, long *err)
{
	if (epf->ops != &epoll_ops) {
		*err = -EINVAL;
		return NULL;
	}
	struct epoll *ep = epf->priv;
	for (struct epitem *it = ep->items; it; it = it->next)
		if (it->fd == fd && toff-- == 0)
			return it->file;
	*err = -ENOENT;
	return NULL;
}

long epoll_ctl_file(struct task *t, struct file *epf, int op, int fd, struct file *target, uint32_t events,
		    uint64_t data)
{
	/* do_epoll_ctl's order: the target's readiness, then the descriptors. */
	if (!target->ops->poll_events)
		return -EPERM; /* a file without readiness (a regular file) */
	if (target == epf || epf->ops != &epoll_ops)
		return -EINVAL;
	struct epoll *ep = epf->priv;
	if (op != EPOLL_CTL_ADD_ && op != EPOLL_CTL_MOD_ && op != EPOLL_CTL_DEL_)
		return -EINVAL;
	if ((events & EPOLLEXCLUSIVE_) &&
	    (op == EPOLL_CTL_MOD_ || target->ops == &epoll_ops ||
	     (events & ~(uint32_t)(EPOLLIN_ | EPOLLOUT_ | EPOLLERR_ | EPOLLHUP_ | EPOLLRDNORM_ | EPOLLWRNORM_ |
				   EPOLLEXCLUSIVE_ | EPOLLET_ | EPOLLWAKEUP_))))
		return -EINVAL;
	reap_closed(ep);
	struct epitem *it = ep->items;
	while (it && !(it->fd == fd && it->file == target))
		it = it->next;
	switch (op) {
	case EPOLL_CTL_ADD_: {
		if (it)
			return -EEXIST;
		if (would_loop(ep, target, 0))
			return -ELOOP;
		it = calloc(1, sizeof(*it));
		if (!it)
			return -ENOMEM;
		it->fd = fd;
		it->file = file_get(target);
		it->events = events;
		it->data = data;
		it->ep = ep;
		it->edge = true; /* what is ready now is reported once */
		struct waitq *q = NULL;
		target->ops->poll_events(target, &q);
		if (q) {
			it->q = q;
			waitq_add_callback(q, &it->w, item_wake, it);
		}
		it->next = ep->items;
		ep->items = it;
		waitq_wake_all(&ep->readers);
		return 0;
	}
	case EPOLL_CTL_MOD_:
		if (!it)
			return -ENOENT;
		if (it->events & EPOLLEXCLUSIVE_)
			return -EINVAL;
		it->events = events;
		it->data = data;
		it->disabled = false;
		it->edge = true;
		waitq_wake_all(&ep->readers);
		return 0;
	default:
		if (!it)
			return -ENOENT;
		item_unlink(ep, it);
		item_free(it);
		return 0;
	}
}

long epoll_wait_file(struct task *t, struct file *epf, uint64_t events_addr, int maxevents, int64_t deadline)
{
	if (epf->ops != &epoll_ops)
		return -EINVAL;
	struct epoll *ep = epf->priv;
	cleanup_free struct epoll_event_abi *out = calloc((size_t)maxevents, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (;;) {
		reap_closed(ep);
		int n = 0;
		bool host = false;
		for (struct epitem *it = ep->items; it && n < maxevents; it = it->next) {
			if (it->disabled)
				continue;
			uint32_t ev = item_events(it, &host);
			if (!ev)
				continue;
			if (it->events & EPOLLET_) {
				if (!it->edge)
					continue;
				it->edge = false;
			}
			out[n].events = ev;
			out[n].data = it->data;
			n++;
			if (it->events & EPOLLONESHOT_)
				it->disabled = true;
		}
		if (n || deadline == -1) {
			if (n && ward_copy_out(task_as(t), gaddr(events_addr), out, (size_t)n * sizeof(*out)) < 0)
				return -EFAULT;
			return n;
		}
		int64_t now = ward_now_ns();
		if (deadline > 0 && now >= deadline)
			return 0;
		int64_t until = deadline;
		if (host && (until == 0 || until > now + HOST_RECHECK_NS))
			until = now + HOST_RECHECK_NS;
		struct waiter w;
		waitq_add(&ep->readers, &w, t);
		long r = task_sleep(t, until);
		waitq_remove(&ep->readers, &w);
		if (r == -EINTR)
			return -EINTR; /* epoll_wait is never restarted after a handler */
	}
}
