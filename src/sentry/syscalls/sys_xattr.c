/* Extended attributes, reading side. The read-only root shows no extended
 * attributes (the host's security.* and ACLs are the host's business), so
 * a lookup on an existing file is ENODATA and a listing is empty; the path
 * is still resolved, so a bad path fails as Linux fails it. Setting and
 * removing come with the VFS issue (user.* on tmpfs); ENOSYS until then. */
#include "sentry/service.h"

#include "fs/vfs.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define XATTR_NAME_MAX_ 255

static long resolve(struct task *t, gaddr_t path_addr, bool follow)
{
	char path[4096];
	struct linux_statx stx;
	long n = ward_copy_string_in(task_as(t), path, sizeof(path), path_addr);
	if (n < 0)
		return n;
	return vfs_statat(t, AT_FDCWD, path, follow ? 0 : AT_SYMLINK_NOFOLLOW, &stx);
}

static long check_name(struct task *t, gaddr_t name_addr)
{
	char name[XATTR_NAME_MAX_ + 1];
	long n = ward_copy_string_in(task_as(t), name, sizeof(name), name_addr);
	if (n == -ENAMETOOLONG || n == 0)
		return -ERANGE;
	return n < 0 ? n : 0;
}

static long get_common(struct task *t, const struct syscall_args *args, long resolved)
{
	if (resolved < 0)
		return resolved;
	long r = check_name(t, arg_addr(args, 1));
	return r < 0 ? r : -ENODATA;
}

/* getxattr(2) */
long sys_getxattr(struct task *t, const struct syscall_args *args)
{
	return get_common(t, args, resolve(t, arg_addr(args, 0), true));
}

/* lgetxattr(2) */
long sys_lgetxattr(struct task *t, const struct syscall_args *args)
{
	return get_common(t, args, resolve(t, arg_addr(args, 0), false));
}

static long fd_exists(struct task *t, int fd)
{
	struct file *f = fd_get(t, fd);
	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}

/* fgetxattr(2) */
long sys_fgetxattr(struct task *t, const struct syscall_args *args)
{
	return get_common(t, args, fd_exists(t, arg_int(args, 0)));
}

/* listxattr(2) */
long sys_listxattr(struct task *t, const struct syscall_args *args)
{
	long r = resolve(t, arg_addr(args, 0), true);
	return r < 0 ? r : 0;
}

/* llistxattr(2) */
long sys_llistxattr(struct task *t, const struct syscall_args *args)
{
	long r = resolve(t, arg_addr(args, 0), false);
	return r < 0 ? r : 0;
}

/* flistxattr(2) */
long sys_flistxattr(struct task *t, const struct syscall_args *args)
{
	long r = fd_exists(t, arg_int(args, 0));
	return r < 0 ? r : 0;
}
