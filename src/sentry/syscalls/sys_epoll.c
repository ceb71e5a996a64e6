/* epoll, eventfd, timerfd and signalfd: the system calls. The files
 * themselves are in src/fs/epoll.c and src/fs/anonfd.c. */
#include "sentry/service.h"

#include "fs/anonfd.h"
#include "fs/vfs.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define NSEC 1000000000L

/* Installs a new anonymous file and drops the creation reference. (The
 * creating call must have run before: argument order is unspecified.) */
static long install(struct task *t, long r, struct file *f, int flags)
{
	if (r < 0)
		return r;
	r = fd_install(t, f, (flags & O_CLOEXEC) ? FD_CLOEXEC : 0, 0);
	file_put(f);
	return r;
}

/* epoll_create(2): size is only checked. */
long sys_epoll_create(struct task *t, const struct syscall_args *args)
{
	struct file *f = NULL;
	if (arg_int(args, 0) <= 0)
		return -EINVAL;
	long r = epoll_create_file(0, &f);
	return install(t, r, f, 0);
}

/* epoll_create1(2) */
long sys_epoll_create1(struct task *t, const struct syscall_args *args)
{
	struct file *f = NULL;
	int flags = arg_int(args, 0);
	long r = epoll_create_file(flags, &f);
	return install(t, r, f, flags);
}

/* epoll_ctl(2) */
long sys_epoll_ctl(struct task *t, const struct syscall_args *args)
{
	int op = arg_int(args, 1), fd = arg_int(args, 2);
	struct {
		uint32_t events;
		uint64_t data;
	} __attribute__((packed)) ev = { 0, 0 };
	struct file *ep = fd_get(t, arg_int(args, 0));
	if (!ep)
		return -EBADF;
	struct file *target = fd_get(t, fd);
	long r;
	if (!target) {
		r = -EBADF;
	} else if (op != 2 /* DEL */ && ward_copy_in(task_as(t), &ev, arg_addr(args, 3), 12) < 0) {
		r = -EFAULT;
	} else {
		r = epoll_ctl_file(t, ep, op, fd, target, ev.events, ev.data);
	}
	if (target)
		file_put(target);
	file_put(ep);
	return r;
}

static long wait_common(struct task *t, const struct syscall_args *args, int64_t deadline)
{
	int maxevents = arg_int(args, 2);
	if (maxevents <= 0 || maxevents > INT_MAX / 12)
		return -EINVAL;
	struct file *ep = fd_get(t, arg_int(args, 0));
	if (!ep)
		return -EBADF;
	long r = epoll_wait_file(t, ep, arg_u64(args, 1), maxevents, deadline);
	file_put(ep);
	return r;
}

static int64_t ms_deadline(int timeout)
{
	return timeout < 0 ? 0 : timeout == 0 ? -1 : ward_now_ns() + (int64_t)timeout * 1000000;
}

/* epoll_wait(2) */
long sys_epoll_wait(struct task *t, const struct syscall_args *args)
{
	return wait_common(t, args, ms_deadline(arg_int(args, 3)));
}

/* epoll_pwait(2) */
long sys_epoll_pwait(struct task *t, const struct syscall_args *args)
{
	long r = signal_swap_mask(t, arg_addr(args, 4), arg_u64(args, 5));
	if (r < 0)
		return r;
	return wait_common(t, args, ms_deadline(arg_int(args, 3)));
}

/* epoll_pwait2(2): a timespec timeout. */
long sys_epoll_pwait2(struct task *t, const struct syscall_args *args)
{
	int64_t deadline = 0;
	if (!gaddr_is_null(arg_addr(args, 3))) {
		struct linux_timespec ts;
		if (WARD_COPY_IN_OBJ(task_as(t), &ts, arg_addr(args, 3)) < 0)
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NSEC)
			return -EINVAL;
		deadline = ts.tv_sec == 0 && ts.tv_nsec == 0 ? -1 : ward_now_ns() + ts.tv_sec * NSEC + ts.tv_nsec;
	}
	long r = signal_swap_mask(t, arg_addr(args, 4), arg_u64(args, 5));
	if (r < 0)
		return r;
	return wait_common(t, args, deadline);
}

/* eventfd(2) */
long sys_eventfd(struct task *t, const struct syscall_args *args)
{
	struct file *f = NULL;
	long r = eventfd_create(arg_uint(args, 0), 0, &f);
	return install(t, r, f, 0);
}

/* eventfd2(2) */
long sys_eventfd2(struct task *t, const struct syscall_args *args)
{
	struct file *f = NULL;
	int flags = arg_int(args, 1);
	long r = eventfd_create(arg_uint(args, 0), flags, &f);
	return install(t, r, f, flags);
}

/* timerfd_create(2) */
long sys_timerfd_create(struct task *t, const struct syscall_args *args)
{
	struct file *f = NULL;
	int flags = arg_int(args, 1);
	long r = timerfd_file_create(arg_int(args, 0), flags, &f);
	return install(t, r, f, flags);
}

/* timerfd_settime(2) */
long sys_timerfd_settime(struct task *t, const struct syscall_args *args)
{
	uint8_t nv[32], old[32];
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	long r = ward_copy_in(task_as(t), nv, arg_addr(args, 2), sizeof(nv));
	if (r == 0)
		r = timerfd_file_settime(t, f, arg_int(args, 1), nv, gaddr_is_null(arg_addr(args, 3)) ? NULL : old);
	else
		r = -EFAULT;
	file_put(f);
	if (r == 0 && !gaddr_is_null(arg_addr(args, 3)) && ward_copy_out(task_as(t), arg_addr(args, 3), old, 32) < 0)
		return -EFAULT;
	return r;
}

/* timerfd_gettime(2) */
long sys_timerfd_gettime(struct task *t, const struct syscall_args *args)
{
	uint8_t cur[32];
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	long r = timerfd_file_gettime(f, cur);
	file_put(f);
	if (r == 0 && ward_copy_out(task_as(t), arg_addr(args, 1), cur, sizeof(cur)) < 0)
		return -EFAULT;
	return r;
}

static long do_signalfd(struct task *t, int fd, gaddr_t mask_addr, uint64_t size, int flags)
{
	uint64_t mask;
	if (size != 8)
		return -EINVAL;
	if (flags & ~(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL;
	if (WARD_COPY_IN_OBJ(task_as(t), &mask, mask_addr) < 0)
		return -EFAULT;
	if (fd == -1) {
		struct file *f = NULL;
		long r = signalfd_create(mask, flags, &f);
		return install(t, r, f, flags);
	}
	struct file *f = fd_get(t, fd);
	if (!f)
		return -EBADF;
	long r = signalfd_set_mask(f, mask);
	file_put(f);
	return r < 0 ? r : fd;
}

/* signalfd(2) */
long sys_signalfd(struct task *t, const struct syscall_args *args)
{
	return do_signalfd(t, arg_int(args, 0), arg_addr(args, 1), arg_u64(args, 2), 0);
}

/* signalfd4(2) */
long sys_signalfd4(struct task *t, const struct syscall_args *args)
{
	return do_signalfd(t, arg_int(args, 0), arg_addr(args, 1), arg_u64(args, 2), arg_int(args, 3));
}
