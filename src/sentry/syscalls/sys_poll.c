/* poll, ppoll, select and pselect6: readiness through each file's poll
 * operation; the caller sleeps on every file's wait queue at once. Host
 * descriptors are woken by the core's event thread (net/hostwatch.h); one
 * it could not watch has no queue, and a wait that includes one re-checks
 * every HOST_RECHECK_NS. */
#include "sentry/service.h"

#include "fs/vfs.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define HOST_RECHECK_NS (10 * 1000 * 1000)
#define DEFAULT_POLLMASK (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)
#define NSEC 1000000000L

struct pollfd_abi {
	int32_t fd;
	int16_t events;
	int16_t revents;
};

struct poll_entry {
	struct file *file;
	struct waitq *queue;
	struct waiter waiter;
};

/* One scan: revents for each entry; with register_waiters, waiters go on the
 * files' queues. Returns how many have events; *host_pending says a host
 * descriptor may become ready unannounced. */
static int scan(struct task *t, struct pollfd_abi *fds, struct poll_entry *ents, size_t n, bool register_waiters,
		bool *host_pending)
{
	int ready = 0;
	*host_pending = false;
	for (size_t i = 0; i < n; i++) {
		fds[i].revents = 0;
		if (fds[i].fd < 0)
			continue;
		if (!ents[i].file) {
			fds[i].revents = POLLNVAL;
			ready++;
			continue;
		}
		struct file *f = ents[i].file;
		struct waitq *q = NULL;
		unsigned int ev = f->ops->poll_events ? f->ops->poll_events(f, &q) : DEFAULT_POLLMASK;
		if (f->ops->poll_events && !q)
			*host_pending = true;
		if (register_waiters && q && !ents[i].queue) {
			ents[i].queue = q;
			waitq_add(q, &ents[i].waiter, t);
		}
		/* POLLERR, POLLHUP and POLLNVAL are reported whether asked or not. */
		ev &= (unsigned int)(uint16_t)fds[i].events | POLLERR | POLLHUP | POLLNVAL;
		fds[i].revents = (int16_t)ev;
		if (ev)
			ready++;
	}
	return ready;
}

static void unregister(struct poll_entry *ents, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ents[i].queue) {
			waitq_remove(ents[i].queue, &ents[i].waiter);
			ents[i].queue = NULL;
		}
	}
}

/* The core of all four calls. deadline: 0 = wait forever, -1 = do not wait,
 * else CLOCK_MONOTONIC ns. Returns the ready count or -errno
 * (-WARD_ERESTARTNOHAND when a signal came). */
static long do_poll(struct task *t, struct pollfd_abi *fds, size_t n, int64_t deadline)
{
	cleanup_free struct poll_entry *ents = calloc(n ? n : 1, sizeof(*ents));
	if (!ents)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		ents[i].file = fds[i].fd >= 0 ? fd_get(t, fds[i].fd) : NULL;
	long r;
	for (;;) {
		bool host;
		int ready = scan(t, fds, ents, n, deadline != -1, &host);
		if (ready || deadline == -1) {
			r = ready;
			break;
		}
		int64_t now = ward_now_ns();
		if (deadline > 0 && now >= deadline) {
			r = 0;
			break;
		}
		int64_t until = deadline;
		if (host && (until == 0 || until > now + HOST_RECHECK_NS))
			until = now + HOST_RECHECK_NS;
		long s = task_sleep(t, until);
		if (s == -EINTR) {
			r = -WARD_ERESTARTNOHAND;
			break;
		}
	}
	unregister(ents, n);
	for (size_t i = 0; i < n; i++)
		if (ents[i].file)
			file_put(ents[i].file);
	return r;
}

static long poll_common(struct task *t, gaddr_t ufds, uint64_t nfds, int64_t deadline)
{
	if (nfds > t->rlimits[RLIMIT_NOFILE].rlim_cur || nfds > (1u << 20))
		return -EINVAL;
	size_t n = (size_t)nfds;
	cleanup_free struct pollfd_abi *fds = calloc(n ? n : 1, sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	if (ward_copy_in(task_as(t), fds, ufds, n * sizeof(*fds)) < 0)
		return -EFAULT;
	long r = do_poll(t, fds, n, deadline);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (ward_copy_out(task_as(t), gaddr_add(ufds, i * sizeof(*fds) + 6), &fds[i].revents, 2) < 0)
			return -EFAULT;
	return r;
}

/* poll(2) */
long sys_poll(struct task *t, const struct syscall_args *args)
{
	int timeout = arg_int(args, 2);
	int64_t deadline = timeout < 0 ? 0 : timeout == 0 ? -1 : ward_now_ns() + (int64_t)timeout * 1000000;
	/* After a handler: EINTR even with SA_RESTART; without one the call
	 * goes again (ERESTARTNOHAND, as Linux's poll). */
	return poll_common(t, arg_addr(args, 0), arg_u64(args, 1), deadline);
}

static long read_timeout(struct task *t, gaddr_t addr, int64_t *deadline)
{
	struct linux_timespec ts;
	*deadline = 0;
	if (gaddr_is_null(addr))
		return 0;
	if (WARD_COPY_IN_OBJ(task_as(t), &ts, addr) < 0)
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NSEC)
		return -EINVAL;
	if (ts.tv_sec == 0 && ts.tv_nsec == 0)
		*deadline = -1;
	else
		*deadline = ward_now_ns() + ts.tv_sec * NSEC + ts.tv_nsec;
	return 0;
}

/* ppoll(2) */
long sys_ppoll(struct task *t, const struct syscall_args *args)
{
	int64_t deadline;
	long r = read_timeout(t, arg_addr(args, 2), &deadline);
	if (r < 0)
		return r;
	r = signal_swap_mask(t, arg_addr(args, 3), arg_u64(args, 4));
	if (r < 0)
		return r;
	return poll_common(t, arg_addr(args, 0), arg_u64(args, 1), deadline);
}

/* select: the fd_set bitmaps become poll entries and back. */
static long select_common(struct task *t, int nfds, gaddr_t rset, gaddr_t wset, gaddr_t eset, int64_t deadline)
{
	if (nfds < 0)
		return -EINVAL;
	if ((uint64_t)nfds > t->rlimits[RLIMIT_NOFILE].rlim_cur)
		nfds = (int)WARD_MIN((uint64_t)nfds, t->rlimits[RLIMIT_NOFILE].rlim_cur);
	size_t bytes = ((size_t)nfds + 63) / 64 * 8;
	cleanup_free uint64_t *sets = calloc(3, bytes ? bytes : 8);
	if (!sets)
		return -ENOMEM;
	uint64_t *in[3] = { sets, sets + bytes / 8, sets + 2 * (bytes / 8) };
	gaddr_t addrs[3] = { rset, wset, eset };
	for (int k = 0; k < 3; k++)
		if (!gaddr_is_null(addrs[k]) && bytes && ward_copy_in(task_as(t), in[k], addrs[k], bytes) < 0)
			return -EFAULT;
	cleanup_free struct pollfd_abi *fds = calloc((size_t)nfds ? (size_t)nfds : 1, sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	size_t n = 0;
	for (int fd = 0; fd < nfds; fd++) {
		uint64_t bit = 1ULL << (fd % 64);
		bool r = in[0][fd / 64] & bit, w = in[1][fd / 64] & bit, e = in[2][fd / 64] & bit;
		if (!r && !w && !e)
			continue;
		struct file *f = fd_get(t, fd);
		if (!f)
			return -EBADF;
		file_put(f);
		fds[n].fd = fd;
		fds[n].events =
			(int16_t)((r ? POLLIN | POLLRDNORM : 0) | (w ? POLLOUT | POLLWRNORM : 0) | (e ? POLLPRI : 0));
		n++;
	}
	long ready = do_poll(t, fds, n, deadline);
	if (ready < 0)
		return ready;
	memset(sets, 0, 3 * (bytes ? bytes : 8));
	long count = 0;
	for (size_t i = 0; i < n; i++) {
		int fd = fds[i].fd;
		unsigned int ev = (uint16_t)fds[i].revents, want = (uint16_t)fds[i].events;
		uint64_t bit = 1ULL << (fd % 64);
		if ((want & POLLIN) && (ev & (POLLIN | POLLRDNORM | POLLHUP | POLLERR))) {
			in[0][fd / 64] |= bit;
			count++;
		}
		if ((want & POLLOUT) && (ev & (POLLOUT | POLLWRNORM | POLLERR))) {
			in[1][fd / 64] |= bit;
			count++;
		}
		if ((want & POLLPRI) && (ev & POLLPRI)) {
			in[2][fd / 64] |= bit;
			count++;
		}
	}
	for (int k = 0; k < 3; k++)
		if (!gaddr_is_null(addrs[k]) && bytes && ward_copy_out(task_as(t), addrs[k], in[k], bytes) < 0)
			return -EFAULT;
	return count;
}

/* select(2): the timeout is updated with the time left, as Linux does. */
long sys_select(struct task *t, const struct syscall_args *args)
{
	int64_t deadline = 0;
	gaddr_t tv_addr = arg_addr(args, 4);
	if (!gaddr_is_null(tv_addr)) {
		struct linux_timeval tv;
		if (WARD_COPY_IN_OBJ(task_as(t), &tv, tv_addr) < 0)
			return -EFAULT;
		if (tv.tv_sec < 0 || tv.tv_usec < 0)
			return -EINVAL;
		int64_t ns = tv.tv_sec * NSEC + (tv.tv_usec % 1000000) * 1000 + (tv.tv_usec / 1000000) * NSEC;
		deadline = ns == 0 ? -1 : ward_now_ns() + ns;
	}
	long r = select_common(t, arg_int(args, 0), arg_addr(args, 1), arg_addr(args, 2), arg_addr(args, 3), deadline);
	if (!gaddr_is_null(tv_addr) && deadline > 0) {
		int64_t left = deadline - ward_now_ns();
		if (left < 0)
			left = 0;
		struct linux_timeval tv = { left / NSEC, (left % NSEC) / 1000 };
		WARD_COPY_OUT_OBJ(task_as(t), tv_addr, &tv);
	}
	return r;
}

/* pselect6(2): the sixth argument points at { sigset pointer, size }. */
long sys_pselect6(struct task *t, const struct syscall_args *args)
{
	int64_t deadline;
	long r = read_timeout(t, arg_addr(args, 4), &deadline);
	if (r < 0)
		return r;
	if (!gaddr_is_null(arg_addr(args, 5))) {
		uint64_t pair[2];
		if (WARD_COPY_IN_OBJ(task_as(t), &pair, arg_addr(args, 5)) < 0)
			return -EFAULT;
		r = signal_swap_mask(t, gaddr(pair[0]), pair[1]);
		if (r < 0)
			return r;
	}
	return select_common(t, arg_int(args, 0), arg_addr(args, 1), arg_addr(args, 2), arg_addr(args, 3), deadline);
}
