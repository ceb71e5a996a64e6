/* pipe and pipe2. */
#include "sentry/service.h"

#include "fs/pipe.h"
#include "fs/vfs.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

static long do_pipe(struct task *t, gaddr_t fds_addr, int flags)
{
	struct file *r, *w;
	/* O_NOTIFICATION_PIPE (watch queues) is not offered. */
	if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	long e = pipe_create(flags, &r, &w);
	if (e < 0)
		return e;
	int fd_flags = (flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
	long rfd = fd_install(t, r, fd_flags, 0);
	long wfd = rfd < 0 ? rfd : fd_install(t, w, fd_flags, 0);
	file_put(r);
	file_put(w);
	if (rfd < 0 || wfd < 0) {
		if (rfd >= 0)
			fd_close(t, (int)rfd);
		return rfd < 0 ? rfd : wfd;
	}
	int fds[2] = { (int)rfd, (int)wfd };
	if (ward_copy_out(task_as(t), fds_addr, fds, sizeof(fds)) < 0) {
		fd_close(t, fds[0]);
		fd_close(t, fds[1]);
		return -EFAULT;
	}
	return 0;
}

/* pipe(2) */
long sys_pipe(struct task *t, const struct syscall_args *args)
{
	return do_pipe(t, arg_addr(args, 0), 0);
}

/* pipe2(2) */
long sys_pipe2(struct task *t, const struct syscall_args *args)
{
	return do_pipe(t, arg_addr(args, 0), arg_int(args, 1));
}
