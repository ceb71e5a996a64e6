/* The calls that change the file tree and its attributes: creat, mkdir(at),
 * mknod(at), rmdir, unlink(at), rename(at,at2), link(at), symlink(at),
 * truncate, ftruncate, fallocate, chmod, fchmod, fchmodat, chown, fchown,
 * lchown, fchownat, utime, utimes, utimensat, futimesat, fsync, fdatasync,
 * sync, syncfs. */
#include "sentry/service.h"

#include "fs/vfs_internal.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define PATH_BUF 4096

#define FS_UTIME_NOW ((1L << 30) - 1)
#define FS_UTIME_OMIT ((1L << 30) - 2)
#define FS_FALLOC_FL_KEEP_SIZE 0x1

/* Copies a guest path into a fresh heap buffer; paths of PATH_MAX bytes
 * or more are -ENAMETOOLONG. */
static long fs_copy_path(struct task *t, gaddr_t addr, char **out)
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

/* creat(2): open(path, O_CREAT | O_WRONLY | O_TRUNC, mode). */
long sys_creat(struct task *t, const struct syscall_args *args)
{
	struct syscall_args a = { .nr = args->nr };
	a.a[0] = (uint64_t)AT_FDCWD;
	a.a[1] = args->a[0];
	a.a[2] = O_CREAT | O_WRONLY | O_TRUNC;
	a.a[3] = args->a[1];
	return sys_openat(t, &a);
}

static long do_mknodat(struct task *t, int dirfd, gaddr_t pathname, uint32_t mode, uint64_t dev)
{
	cleanup_free char *path = NULL;
	long r = fs_copy_path(t, pathname, &path);
	if (r < 0)
		return r;
	uint32_t type = mode & S_IFMT;
	if (type == S_IFDIR)
		return -EPERM;
	return vfs_mknodat(t, dirfd, path, type | (mode & 07777 & ~t->fs->umask), dev);
}

/* mknod(2) */
long sys_mknod(struct task *t, const struct syscall_args *args)
{
	return do_mknodat(t, AT_FDCWD, arg_addr(args, 0), arg_uint(args, 1), arg_u64(args, 2));
}

/* mknodat(2) */
long sys_mknodat(struct task *t, const struct syscall_args *args)
{
	return do_mknodat(t, arg_int(args, 0), arg_addr(args, 1), arg_uint(args, 2), arg_u64(args, 3));
}

static long do_mkdirat(struct task *t, int dirfd, gaddr_t pathname, uint32_t mode)
{
	cleanup_free char *path = NULL;
	long r = fs_copy_path(t, pathname, &path);
	if (r < 0)
		return r;
	return vfs_mkdirat(t, dirfd, path, mode & 07777 & ~t->fs->umask);
}

/* mkdir(2) */
long sys_mkdir(struct task *t, const struct syscall_args *args)
{
	return do_mkdirat(t, AT_FDCWD, arg_addr(args, 0), arg_uint(args, 1));
}

/* mkdirat(2) */
long sys_mkdirat(struct task *t, const struct syscall_args *args)
{
	return do_mkdirat(t, arg_int(args, 0), arg_addr(args, 1), arg_uint(args, 2));
}

static long do_unlinkat(struct task *t, int dirfd, gaddr_t pathname, int flags)
{
	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	cleanup_free char *path = NULL;
	long r = fs_copy_path(t, pathname, &path);
	if (r < 0)
		return r;
	return vfs_unlinkat(t, dirfd, path, flags);
}

/* rmdir(2) */
long sys_rmdir(struct task *t, const struct syscall_args *args)
{
	return do_unlinkat(t, AT_FDCWD, arg_addr(args, 0), AT_REMOVEDIR);
}

/* unlink(2) */
long sys_unlink(struct task *t, const struct syscall_args *args)
{
	return do_unlinkat(t, AT_FDCWD, arg_addr(args, 0), 0);
}

/* unlinkat(2) */
long sys_unlinkat(struct task *t, const struct syscall_args *args)
{
	return do_unlinkat(t, arg_int(args, 0), arg_addr(args, 1), arg_int(args, 2));
}

static long do_renameat(struct task *t, int olddirfd, gaddr_t oldname, int newdirfd, gaddr_t newname,
			unsigned int flags)
{
	cleanup_free char *oldpath = NULL;
	cleanup_free char *newpath = NULL;
	long r = fs_copy_path(t, oldname, &oldpath);
	if (r >= 0)
		r = fs_copy_path(t, newname, &newpath);
	if (r < 0)
		return r;
	return vfs_renameat(t, olddirfd, oldpath, newdirfd, newpath, flags);
}

/* rename(2) */
long sys_rename(struct task *t, const struct syscall_args *args)
{
	return do_renameat(t, AT_FDCWD, arg_addr(args, 0), AT_FDCWD, arg_addr(args, 1), 0);
}

/* renameat(2) */
long sys_renameat(struct task *t, const struct syscall_args *args)
{
	return do_renameat(t, arg_int(args, 0), arg_addr(args, 1), arg_int(args, 2), arg_addr(args, 3), 0);
}

/* renameat2(2) */
long sys_renameat2(struct task *t, const struct syscall_args *args)
{
	return do_renameat(t, arg_int(args, 0), arg_addr(args, 1), arg_int(args, 2), arg_addr(args, 3),
			   arg_uint(args, 4));
}

static long do_linkat(struct task *t, int olddirfd, gaddr_t oldname, int newdirfd, gaddr_t newname, int flags)
{
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	cleanup_free char *oldpath = NULL;
	cleanup_free char *newpath = NULL;
	long r = fs_copy_path(t, oldname, &oldpath);
	if (r >= 0)
		r = fs_copy_path(t, newname, &newpath);
	if (r < 0)
		return r;
	return vfs_linkat(t, olddirfd, oldpath, newdirfd, newpath, flags);
}

/* link(2) */
long sys_link(struct task *t, const struct syscall_args *args)
{
	return do_linkat(t, AT_FDCWD, arg_addr(args, 0), AT_FDCWD, arg_addr(args, 1), 0);
}

/* linkat(2) */
long sys_linkat(struct task *t, const struct syscall_args *args)
{
	return do_linkat(t, arg_int(args, 0), arg_addr(args, 1), arg_int(args, 2), arg_addr(args, 3), arg_int(args, 4));
}

static long do_symlinkat(struct task *t, gaddr_t target_addr, int dirfd, gaddr_t linkname)
{
	cleanup_free char *target = NULL;
	cleanup_free char *path = NULL;
	long r = fs_copy_path(t, target_addr, &target);
	if (r >= 0)
		r = fs_copy_path(t, linkname, &path);
	if (r < 0)
		return r;
	return vfs_symlinkat(t, target, dirfd, path);
}

/* symlink(2) */
long sys_symlink(struct task *t, const struct syscall_args *args)
{
	return do_symlinkat(t, arg_addr(args, 0), AT_FDCWD, arg_addr(args, 1));
}

/* symlinkat(2) */
long sys_symlinkat(struct task *t, const struct syscall_args *args)
{
	return do_symlinkat(t, arg_addr(args, 0), arg_int(args, 1), arg_addr(args, 2));
}

/* Path-based attribute changes. */
static long setattr_path(struct task *t, int dirfd, gaddr_t pathname, int at_flags, const struct vattr *a)
{
	cleanup_free char *path = NULL;
	long r = fs_copy_path(t, pathname, &path);
	if (r < 0)
		return r;
	return vfs_setattrat(t, dirfd, path, at_flags, a);
}

/* fd-based ones: O_PATH descriptors are EBADF. */
static long setattr_fd(struct task *t, int fd, const struct vattr *a)
{
	struct file *f = fd_get(t, fd);
	if (!f)
		return -EBADF;
	long r = (f->flags & O_PATH) ? -EBADF : vfs_setattr_file(t, f, a);
	file_put(f);
	return r;
}

/* truncate(2) */
long sys_truncate(struct task *t, const struct syscall_args *args)
{
	int64_t len = arg_long(args, 1);
	if (len < 0)
		return -EINVAL;
	struct vattr a = { .valid = VATTR_SIZE, .size = (uint64_t)len };
	return setattr_path(t, AT_FDCWD, arg_addr(args, 0), 0, &a);
}

/* ftruncate(2): the descriptor must be open for writing (EINVAL). */
long sys_ftruncate(struct task *t, const struct syscall_args *args)
{
	int64_t len = arg_long(args, 1);
	if (len < 0)
		return -EINVAL;
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	int acc = (int)(f->flags & O_ACCMODE);
	long r;
	if (f->flags & O_PATH)
		r = -EBADF;
	else if (acc != O_WRONLY && acc != O_RDWR)
		r = -EINVAL;
	else if (!f->vn || !S_ISREG(f->vn->type))
		r = -EINVAL;
	else {
		struct vattr a = { .valid = VATTR_SIZE, .size = (uint64_t)len };
		r = vfs_setattr_file(t, f, &a);
	}
	file_put(f);
	return r;
}

/* fallocate(2): mode 0 and FALLOC_FL_KEEP_SIZE. Space is not reserved
 * (tmpfs pages come when written): a later write can still fail with
 * ENOSPC, which tmpfs's fallocate would have reported earlier. */
long sys_fallocate(struct task *t, const struct syscall_args *args)
{
	int mode = arg_int(args, 1);
	int64_t off = arg_long(args, 2), len = arg_long(args, 3);
	if (off < 0 || len <= 0)
		return -EINVAL;
	if (mode & ~FS_FALLOC_FL_KEEP_SIZE)
		return -EOPNOTSUPP;
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	int acc = (int)(f->flags & O_ACCMODE);
	long r = 0;
	int64_t end;
	if ((f->flags & O_PATH) || (acc != O_WRONLY && acc != O_RDWR))
		r = -EBADF;
	else if (f->ops->stream)
		r = -ESPIPE;
	else if (!f->vn)
		r = -ENODEV;
	else if (S_ISDIR(f->vn->type))
		r = -EISDIR;
	else if (!S_ISREG(f->vn->type))
		r = -ENODEV;
	else if (__builtin_add_overflow(off, len, &end))
		r = -EFBIG;
	if (r >= 0 && !(mode & FS_FALLOC_FL_KEEP_SIZE)) {
		struct linux_statx stx;
		r = file_getattr(f, &stx);
		if (r >= 0 && (uint64_t)end > stx.stx_size) {
			struct vattr a = { .valid = VATTR_SIZE, .size = (uint64_t)end };
			r = vfs_setattr_file(t, f, &a);
		}
	}
	file_put(f);
	return r;
}

/* chmod(2) */
long sys_chmod(struct task *t, const struct syscall_args *args)
{
	struct vattr a = { .valid = VATTR_MODE, .mode = arg_uint(args, 1) & 07777 };
	return setattr_path(t, AT_FDCWD, arg_addr(args, 0), 0, &a);
}

/* fchmod(2) */
long sys_fchmod(struct task *t, const struct syscall_args *args)
{
	struct vattr a = { .valid = VATTR_MODE, .mode = arg_uint(args, 1) & 07777 };
	return setattr_fd(t, arg_int(args, 0), &a);
}

/* fchmodat(2): the raw call has no flags argument. */
long sys_fchmodat(struct task *t, const struct syscall_args *args)
{
	struct vattr a = { .valid = VATTR_MODE, .mode = arg_uint(args, 2) & 07777 };
	return setattr_path(t, arg_int(args, 0), arg_addr(args, 1), 0, &a);
}

static struct vattr chown_attr(uint32_t uid, uint32_t gid)
{
	struct vattr a = { 0 };
	if (uid != (uint32_t)-1) {
		a.valid |= VATTR_UID;
		a.uid = uid;
	}
	if (gid != (uint32_t)-1) {
		a.valid |= VATTR_GID;
		a.gid = gid;
	}
	return a;
}

/* chown(2) */
long sys_chown(struct task *t, const struct syscall_args *args)
{
	struct vattr a = chown_attr(arg_uint(args, 1), arg_uint(args, 2));
	return setattr_path(t, AT_FDCWD, arg_addr(args, 0), 0, &a);
}

/* lchown(2) */
long sys_lchown(struct task *t, const struct syscall_args *args)
{
	struct vattr a = chown_attr(arg_uint(args, 1), arg_uint(args, 2));
	return setattr_path(t, AT_FDCWD, arg_addr(args, 0), AT_SYMLINK_NOFOLLOW, &a);
}

/* fchown(2) */
long sys_fchown(struct task *t, const struct syscall_args *args)
{
	struct vattr a = chown_attr(arg_uint(args, 1), arg_uint(args, 2));
	return setattr_fd(t, arg_int(args, 0), &a);
}

/* fchownat(2) */
long sys_fchownat(struct task *t, const struct syscall_args *args)
{
	int flags = arg_int(args, 4);
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct vattr a = chown_attr(arg_uint(args, 2), arg_uint(args, 3));
	return setattr_path(t, arg_int(args, 0), arg_addr(args, 1), flags, &a);
}

/* Builds the vattr of utimensat from two timespecs (NULL: both now). */
static long utimes_attr(const struct linux_timespec *ts, struct vattr *a)
{
	struct linux_statx_timestamp now = vfs_now();
	*a = (struct vattr){ .valid = VATTR_ATIME | VATTR_MTIME, .atime = now, .mtime = now };
	if (!ts)
		return 0;
	for (int i = 0; i < 2; i++) {
		long nsec = ts[i].tv_nsec;
		if (nsec == FS_UTIME_OMIT) {
			a->valid &= ~(uint32_t)(i == 0 ? VATTR_ATIME : VATTR_MTIME);
			continue;
		}
		if (nsec == FS_UTIME_NOW)
			continue;
		if (nsec < 0 || nsec > 999999999)
			return -EINVAL;
		struct linux_statx_timestamp v = { .tv_sec = ts[i].tv_sec, .tv_nsec = (uint32_t)nsec };
		if (i == 0)
			a->atime = v;
		else
			a->mtime = v;
	}
	return 0;
}

/* Applies a utimes change to path (NULL: dirfd itself). */
static long do_utimes(struct task *t, int dirfd, gaddr_t pathname, const struct linux_timespec *ts, int flags)
{
	struct vattr a;
	long r = utimes_attr(ts, &a);
	if (r < 0)
		return r;
	if (gaddr_is_null(pathname)) {
		if (dirfd == AT_FDCWD)
			return -EFAULT;
		if (!a.valid)
			return 0;
		struct file *f = fd_get(t, dirfd);
		if (!f)
			return -EBADF;
		r = vfs_setattr_file(t, f, &a);
		file_put(f);
		return r;
	}
	cleanup_free char *path = NULL;
	r = fs_copy_path(t, pathname, &path);
	if (r < 0)
		return r;
	if (!a.valid) {
		/* Nothing changes, but the path must still resolve. */
		struct linux_statx stx;
		return vfs_statat(t, dirfd, path, flags, &stx);
	}
	return vfs_setattrat(t, dirfd, path, flags, &a);
}

/* utimensat(2) */
long sys_utimensat(struct task *t, const struct syscall_args *args)
{
	int flags = arg_int(args, 3);
	gaddr_t times = arg_addr(args, 2);
	struct linux_timespec ts[2];
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (!gaddr_is_null(times)) {
		long r = ward_copy_in(task_as(t), ts, times, sizeof(ts));
		if (r < 0)
			return r;
	}
	return do_utimes(t, arg_int(args, 0), arg_addr(args, 1), gaddr_is_null(times) ? NULL : ts, flags);
}

/* Reads the timeval pair of utimes/futimesat. */
static long timevals_in(struct task *t, gaddr_t addr, struct linux_timespec ts[2])
{
	struct linux_timeval tv[2];
	long r = ward_copy_in(task_as(t), tv, addr, sizeof(tv));
	if (r < 0)
		return r;
	for (int i = 0; i < 2; i++) {
		if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
			return -EINVAL;
		ts[i].tv_sec = tv[i].tv_sec;
		ts[i].tv_nsec = tv[i].tv_usec * 1000;
	}
	return 0;
}

static long do_futimesat(struct task *t, int dirfd, gaddr_t pathname, gaddr_t times)
{
	struct linux_timespec ts[2];
	if (!gaddr_is_null(times)) {
		long r = timevals_in(t, times, ts);
		if (r < 0)
			return r;
	}
	return do_utimes(t, dirfd, pathname, gaddr_is_null(times) ? NULL : ts, 0);
}

/* utimes(2) */
long sys_utimes(struct task *t, const struct syscall_args *args)
{
	return do_futimesat(t, AT_FDCWD, arg_addr(args, 0), arg_addr(args, 1));
}

/* futimesat(2) */
long sys_futimesat(struct task *t, const struct syscall_args *args)
{
	return do_futimesat(t, arg_int(args, 0), arg_addr(args, 1), arg_addr(args, 2));
}

/* utime(2): struct utimbuf is two longs, actime and modtime. */
long sys_utime(struct task *t, const struct syscall_args *args)
{
	gaddr_t times = arg_addr(args, 1);
	struct linux_timespec ts[2];
	if (!gaddr_is_null(times)) {
		int64_t buf[2];
		long r = ward_copy_in(task_as(t), buf, times, sizeof(buf));
		if (r < 0)
			return r;
		ts[0] = (struct linux_timespec){ buf[0], 0 };
		ts[1] = (struct linux_timespec){ buf[1], 0 };
	}
	return do_utimes(t, AT_FDCWD, arg_addr(args, 0), gaddr_is_null(times) ? NULL : ts, 0);
}

/* fsync(2) and fdatasync(2): tmpfs has nothing to flush, and nothing of
 * the overlay's upper layer is ever to reach a disk. */
static long do_fsync(struct task *t, int fd, bool data_only)
{
	struct file *f = fd_get(t, fd);
	if (!f)
		return -EBADF;
	long r;
	if (f->flags & O_PATH)
		r = -EBADF;
	else if (f->ops->sync_data)
		r = f->ops->sync_data(f, data_only);
	else
		r = (f->ops->stream || !f->vn) ? -EINVAL : 0;
	file_put(f);
	return r;
}

long sys_fsync(struct task *t, const struct syscall_args *args)
{
	return do_fsync(t, arg_int(args, 0), false);
}

long sys_fdatasync(struct task *t, const struct syscall_args *args)
{
	return do_fsync(t, arg_int(args, 0), true);
}

/* sync(2) */
long sys_sync(struct task *t, const struct syscall_args *args)
{
	return 0;
}

/* syncfs(2) */
long sys_syncfs(struct task *t, const struct syscall_args *args)
{
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}
