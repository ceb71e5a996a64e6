/* inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch. The
 * instances and their events are in src/fs/inotify.c. */
#include "sentry/service.h"

#include "fs/inotify.h"
#include "fs/vfs.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define IN_ALL_EVENTS_ 0x00000fff
#define IN_MASK_CREATE_ 0x10000000
#define IN_MASK_ADD_ 0x20000000
#define INOTIFY_PATH_BUF 4096

static long init_common(struct task *t, int flags)
{
	struct file *f = NULL;
	long r = inotify_create(flags, &f);
	if (r < 0)
		return r;
	r = fd_install(t, f, (flags & O_CLOEXEC) ? FD_CLOEXEC : 0, 0);
	file_put(f);
	return r;
}

/* inotify_init(2) */
long sys_inotify_init(struct task *t, const struct syscall_args *args)
{
	return init_common(t, 0);
}

/* inotify_init1(2) */
long sys_inotify_init1(struct task *t, const struct syscall_args *args)
{
	return init_common(t, arg_int(args, 0));
}

/* inotify_add_watch(2): the mask is checked before the descriptor, as
 * fs/notify/inotify/inotify_user.c does. */
long sys_inotify_add_watch(struct task *t, const struct syscall_args *args)
{
	uint32_t mask = arg_uint(args, 2);
	if ((mask & IN_MASK_ADD_) && (mask & IN_MASK_CREATE_))
		return -EINVAL;
	if (!(mask & IN_ALL_EVENTS_))
		return -EINVAL;
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	long r = -EINVAL;
	char *path = NULL;
	if (inotify_is(f)) {
		path = malloc(INOTIFY_PATH_BUF);
		r = path ? ward_copy_string_in(task_as(t), path, INOTIFY_PATH_BUF, arg_addr(args, 1)) : -ENOMEM;
		if (r >= 0)
			r = inotify_add(t, f, path, mask);
	}
	free(path);
	file_put(f);
	return r;
}

/* inotify_rm_watch(2) */
long sys_inotify_rm_watch(struct task *t, const struct syscall_args *args)
{
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	long r = inotify_is(f) ? inotify_rm(f, arg_int(args, 1)) : -EINVAL;
	file_put(f);
	return r;
}
