/* The mount table's calls: mount, umount2, pivot_root, chroot, and
 * unshare's CLONE_NEWNS and CLONE_FS.
 *
 * The sandbox is one mount namespace of its own, made when it starts:
 * unshare(CLONE_NEWNS) is accepted (with CAP_SYS_ADMIN) but makes no new
 * one, so mounts made after it are seen by every process of the sandbox.
 * Nothing here reaches the host (vfs.c says how). */
#include "sentry/service.h"

#include "fs/vfs_internal.h"
#include "sentry/kernel/creds.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define MOUNT_PAGE 4096

/* strndup_user(s, PATH_MAX) as mount(2) copies its strings: NULL stays
 * NULL, a string of PATH_MAX bytes or more is EINVAL. */
static long mount_copy_string(struct task *t, gaddr_t addr, char **out)
{
	*out = NULL;
	if (gaddr_is_null(addr))
		return 0;
	char *buf = malloc(MOUNT_PAGE);
	if (!buf)
		return -ENOMEM;
	long r = ward_copy_string_in(task_as(t), buf, MOUNT_PAGE, addr);
	if (r < 0) {
		free(buf);
		return r == -ENAMETOOLONG ? -EINVAL : r;
	}
	*out = buf;
	return 0;
}

/* copy_mount_options: at most a page, cut there. */
static long mount_copy_data(struct task *t, gaddr_t addr, char **out)
{
	*out = NULL;
	if (gaddr_is_null(addr))
		return 0;
	char *buf = malloc(MOUNT_PAGE);
	if (!buf)
		return -ENOMEM;
	long r = ward_copy_string_in(task_as(t), buf, MOUNT_PAGE, addr);
	if (r == -ENAMETOOLONG) {
		r = ward_copy_in(task_as(t), buf, addr, MOUNT_PAGE - 1);
		buf[MOUNT_PAGE - 1] = '\0';
	}
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	return 0;
}

static long mount_copy_path(struct task *t, gaddr_t addr, char **out)
{
	char *buf = malloc(MOUNT_PAGE);
	if (!buf)
		return -ENOMEM;
	long r = ward_copy_string_in(task_as(t), buf, MOUNT_PAGE, addr);
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	return 0;
}

/* mount(2) */
long sys_mount(struct task *t, const struct syscall_args *args)
{
	cleanup_free char *source = NULL, *target = NULL, *type = NULL, *data = NULL;
	long r = mount_copy_string(t, arg_addr(args, 2), &type);
	if (r >= 0)
		r = mount_copy_string(t, arg_addr(args, 0), &source);
	if (r >= 0)
		r = mount_copy_data(t, arg_addr(args, 4), &data);
	if (r >= 0)
		r = mount_copy_path(t, arg_addr(args, 1), &target);
	if (r < 0)
		return r;
	if (!target[0])
		return -ENOENT;
	return vfs_mount(t, source, target, type, arg_u64(args, 3), data);
}

/* umount2(2) */
long sys_umount2(struct task *t, const struct syscall_args *args)
{
	int flags = arg_int(args, 1);
	/* The flags are checked before the path is looked at. */
	if (flags & ~0xf)
		return -EINVAL;
	cleanup_free char *target = NULL;
	long r = mount_copy_path(t, arg_addr(args, 0), &target);
	if (r < 0)
		return r;
	if (!target[0])
		return -ENOENT;
	return vfs_umount(t, target, flags);
}

/* pivot_root(2) */
long sys_pivot_root(struct task *t, const struct syscall_args *args)
{
	if (!creds_capable(&t->creds, WARD_CAP_SYS_ADMIN))
		return -EPERM;
	cleanup_free char *new_root = NULL, *put_old = NULL;
	long r = mount_copy_path(t, arg_addr(args, 0), &new_root);
	if (r >= 0)
		r = mount_copy_path(t, arg_addr(args, 1), &put_old);
	if (r < 0)
		return r;
	if (!new_root[0] || !put_old[0])
		return -ENOENT;
	return vfs_pivot_root(t, new_root, put_old);
}

/* chroot(2) */
long sys_chroot(struct task *t, const struct syscall_args *args)
{
	cleanup_free char *path = NULL;
	long r = mount_copy_path(t, arg_addr(args, 0), &path);
	if (r < 0)
		return r;
	if (!path[0])
		return -ENOENT;
	return vfs_chroot(t, path);
}

/* unshare(2): CLONE_FS gives the task a file-system context (cwd, root,
 * umask) of its own; CLONE_NEWNS implies it (see the top of this file for
 * the namespace). Other flags are EINVAL: not supported yet. */
long sys_unshare(struct task *t, const struct syscall_args *args)
{
	unsigned long flags = arg_u64(args, 0);
	if (flags & ~(unsigned long)(CLONE_NEWNS | CLONE_FS))
		return -EINVAL;
	if ((flags & CLONE_NEWNS) && !creds_capable(&t->creds, WARD_CAP_SYS_ADMIN))
		return -EPERM;
	if (!(flags & (CLONE_NEWNS | CLONE_FS)) || *t->fs_refs == 1)
		return 0;
	struct fs_context *fs = malloc(sizeof(*fs));
	int *refs = malloc(sizeof(*refs));
	if (!fs || !refs) {
		free(fs);
		free(refs);
		return -ENOMEM;
	}
	*fs = *t->fs;
	*refs = 1;
	(*t->fs_refs)--;
	t->fs = fs;
	t->fs_refs = refs;
	return 0;
}
