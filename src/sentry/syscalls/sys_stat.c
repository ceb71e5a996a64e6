/* stat, fstat, lstat, newfstatat, statx, statfs, fstatfs.
 *
 * The VFS answers in struct statx; the older calls get it converted to
 * x86-64's struct stat. */
#include "sentry/service.h"

#include "fs/vfs_internal.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define PATH_BUF 4096

/* statx's AT_STATX_SYNC_TYPE bits (FORCE_SYNC | DONT_SYNC). */
#define STAT_AT_SYNC_TYPE 0x6000
#define STAT_AT_NO_AUTOMOUNT 0x800

static long stat_copy_path(struct task *t, gaddr_t addr, char **out)
{
	char *buf = malloc(PATH_BUF);
	if (!buf)
		return -ENOMEM;
	long r = ward_copy_string_in(task_as(t), buf, PATH_BUF, addr);
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	return r;
}

static void statx_to_stat(const struct linux_statx *x, struct linux_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = vfs_makedev(x->stx_dev_major, x->stx_dev_minor);
	st->st_ino = x->stx_ino;
	st->st_nlink = x->stx_nlink;
	st->st_mode = x->stx_mode;
	st->st_uid = x->stx_uid;
	st->st_gid = x->stx_gid;
	st->st_rdev = vfs_makedev(x->stx_rdev_major, x->stx_rdev_minor);
	st->st_size = (int64_t)x->stx_size;
	st->st_blksize = x->stx_blksize;
	st->st_blocks = (int64_t)x->stx_blocks;
	st->st_atim = (struct linux_timespec){ x->stx_atime.tv_sec, x->stx_atime.tv_nsec };
	st->st_mtim = (struct linux_timespec){ x->stx_mtime.tv_sec, x->stx_mtime.tv_nsec };
	st->st_ctim = (struct linux_timespec){ x->stx_ctime.tv_sec, x->stx_ctime.tv_nsec };
}

static long put_stat(struct task *t, gaddr_t addr, const struct linux_statx *x)
{
	struct linux_stat st;
	statx_to_stat(x, &st);
	return WARD_COPY_OUT_OBJ(task_as(t), addr, &st);
}

static long do_fstatat(struct task *t, int dirfd, gaddr_t pathname, gaddr_t statbuf, int flags)
{
	if (flags & ~(AT_SYMLINK_NOFOLLOW | STAT_AT_NO_AUTOMOUNT | AT_EMPTY_PATH))
		return -EINVAL;
	cleanup_free char *path = NULL;
	long r = stat_copy_path(t, pathname, &path);
	if (r < 0)
		return r;
	struct linux_statx x;
	r = vfs_statat(t, dirfd, path, flags, &x);
	if (r < 0)
		return r;
	return put_stat(t, statbuf, &x);
}

/* stat(2) */
long sys_stat(struct task *t, const struct syscall_args *args)
{
	return do_fstatat(t, AT_FDCWD, arg_addr(args, 0), arg_addr(args, 1), 0);
}

/* lstat(2) */
long sys_lstat(struct task *t, const struct syscall_args *args)
{
	return do_fstatat(t, AT_FDCWD, arg_addr(args, 0), arg_addr(args, 1), AT_SYMLINK_NOFOLLOW);
}

/* newfstatat(2) */
long sys_newfstatat(struct task *t, const struct syscall_args *args)
{
	return do_fstatat(t, arg_int(args, 0), arg_addr(args, 1), arg_addr(args, 2), arg_int(args, 3));
}

/* fstat(2): O_PATH descriptors too. */
long sys_fstat(struct task *t, const struct syscall_args *args)
{
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	struct linux_statx x;
	long r = file_getattr(f, &x);
	file_put(f);
	if (r < 0)
		return r;
	return put_stat(t, arg_addr(args, 1), &x);
}

/* statx(2): every basic field and the birth time are always filled, and
 * stx_mask says so, whatever was asked (as local file systems do). */
long sys_statx(struct task *t, const struct syscall_args *args)
{
	int dirfd = arg_int(args, 0);
	gaddr_t pathname = arg_addr(args, 1);
	int flags = arg_int(args, 2);
	unsigned int mask = arg_uint(args, 3);
	gaddr_t buf = arg_addr(args, 4);

	if (mask & LINUX_STATX__RESERVED)
		return -EINVAL;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | STAT_AT_NO_AUTOMOUNT | AT_EMPTY_PATH | STAT_AT_SYNC_TYPE))
		return -EINVAL;
	if ((flags & STAT_AT_SYNC_TYPE) == STAT_AT_SYNC_TYPE)
		return -EINVAL;
	cleanup_free char *path = NULL;
	long r = stat_copy_path(t, pathname, &path);
	if (r < 0)
		return r;
	struct linux_statx x;
	r = vfs_statat(t, dirfd, path, flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH), &x);
	if (r < 0)
		return r;
	x.stx_mask &= LINUX_STATX_BASIC_STATS | LINUX_STATX_BTIME;
	if (!(x.stx_mask & LINUX_STATX_BTIME))
		x.stx_btime = (struct linux_statx_timestamp){ 0 };
	x.stx_mnt_id = 0;
	memset(x.spare3, 0, sizeof(x.spare3));
	return WARD_COPY_OUT_OBJ(task_as(t), buf, &x);
}

/* statfs(2) */
long sys_statfs(struct task *t, const struct syscall_args *args)
{
	cleanup_free char *path = NULL;
	long r = stat_copy_path(t, arg_addr(args, 0), &path);
	if (r < 0)
		return r;
	struct linux_statfs st;
	r = vfs_statfsat(t, AT_FDCWD, path, &st);
	if (r < 0)
		return r;
	return WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 1), &st);
}

/* fstatfs(2) */
long sys_fstatfs(struct task *t, const struct syscall_args *args)
{
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	struct linux_statfs st;
	memset(&st, 0, sizeof(st));
	long r;
	if (f->vn && f->vn->ops->statfs) {
		r = f->vn->ops->statfs(f->vn, &st);
		if (r >= 0 && vmount_rdonly(f->vn->mnt))
			st.f_flags |= VFS_ST_RDONLY;
	} else {
		r = f->ops->statfs ? f->ops->statfs(f, &st) : -ENOSYS;
	}
	file_put(f);
	if (r < 0)
		return r;
	return WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 1), &st);
}
