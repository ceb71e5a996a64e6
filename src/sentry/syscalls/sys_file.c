/* open, openat, close, getdents(64), readlink(at), access, faccessat(2),
 * getcwd, chdir, fchdir, fcntl, dup, dup2, dup3, ioctl, umask. */
#include "sentry/service.h"

#include "fs/inotify.h"
#include "fs/pipe.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define PATH_BUF 4096
#define GETDENTS_CHUNK (64UL * 1024)

/* Copies a guest path into a fresh heap buffer (PATH_MAX bytes, so paths
 * of 4096 bytes or more are -ENAMETOOLONG). */
static long copy_path(struct task *t, gaddr_t addr, char **out)
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

static long do_openat(struct task *t, int dirfd, gaddr_t pathname, int flags, uint32_t mode)
{
	cleanup_free char *path = NULL;
	long r = copy_path(t, pathname, &path);
	if (r < 0)
		return r;
	struct file *f;
	r = vfs_openat(t, dirfd, path, flags, mode & ~t->fs->umask & 07777, &f);
	if (r < 0)
		return r;
	r = fd_install(t, f, (flags & O_CLOEXEC) ? FD_CLOEXEC : 0, 0);
	file_put(f);
	return r;
}

/* struct open_how of openat2(2). */
struct linux_open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};
_Static_assert(sizeof(struct linux_open_how) == 24, "open_how");

/* The flags open(2) knows (VALID_OPEN_FLAGS), with the kernel's
 * O_LARGEFILE. */
#define OPEN_VALID_FLAGS                                                                                            \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT | \
	 VFS_O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH | O_SYNC | VFS_O_TMPFILE_BIT)
#define OPEN_RESOLVE_ALL 0x3f

/* openat2(2) */
long sys_openat2(struct task *t, const struct syscall_args *args)
{
	uint64_t size = arg_u64(args, 3);
	struct linux_open_how how;
	/* copy_struct_from_user: too small is EINVAL, more than a page E2BIG,
	 * and bytes past the struct must be zero. */
	if (size < sizeof(how))
		return -EINVAL;
	if (size > WARD_PAGE_SIZE)
		return -E2BIG;
	long r = WARD_COPY_IN_OBJ(task_as(t), &how, arg_addr(args, 2));
	if (r < 0)
		return r;
	for (uint64_t off = sizeof(how); off < size;) {
		uint8_t tail[256];
		size_t n = (size_t)WARD_MIN(size - off, sizeof(tail));
		r = ward_copy_in(task_as(t), tail, gaddr_add(arg_addr(args, 2), off), n);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++)
			if (tail[i])
				return -E2BIG;
		off += n;
	}
	/* build_open_flags. */
	if (how.flags & ~(uint64_t)OPEN_VALID_FLAGS)
		return -EINVAL;
	if (how.resolve & ~(uint64_t)OPEN_RESOLVE_ALL)
		return -EINVAL;
	int flags = (int)how.flags;
	if ((flags & O_CREAT) || (flags & VFS_O_TMPFILE_BIT)) {
		if (how.mode & ~(uint64_t)07777)
			return -EINVAL;
	} else if (how.mode) {
		return -EINVAL;
	}
	if ((flags & O_PATH) && (flags & ~(O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC)))
		return -EINVAL;
	if ((how.resolve & VFS_RESOLVE_BENEATH) && (how.resolve & VFS_RESOLVE_IN_ROOT))
		return -EINVAL;
	/* Nothing is cached that could be trusted: the caller does it the
	 * slow way, as Linux has it do for creations and truncations. */
	if (how.resolve & VFS_RESOLVE_CACHED)
		return -EAGAIN;
	cleanup_free char *path = NULL;
	r = copy_path(t, arg_addr(args, 1), &path);
	if (r < 0)
		return r;
	struct file *f;
	r = vfs_openat2(t, arg_int(args, 0), path, flags, (uint32_t)how.mode & ~t->fs->umask & 07777, how.resolve, &f);
	if (r < 0)
		return r;
	r = fd_install(t, f, (flags & O_CLOEXEC) ? FD_CLOEXEC : 0, 0);
	file_put(f);
	return r;
}

/* open(2) */
long sys_open(struct task *t, const struct syscall_args *args)
{
	return do_openat(t, AT_FDCWD, arg_addr(args, 0), arg_int(args, 1), arg_uint(args, 2));
}

/* openat(2) */
long sys_openat(struct task *t, const struct syscall_args *args)
{
	return do_openat(t, arg_int(args, 0), arg_addr(args, 1), arg_int(args, 2), arg_uint(args, 3));
}

/* close(2) */
long sys_close(struct task *t, const struct syscall_args *args)
{
	return fd_close(t, arg_int(args, 0));
}

/* Rewrites getdents64 records in place as getdents(2)'s linux_dirent: the
 * same ino, off and record length (the name moves down one byte and the
 * type goes to the record's last byte), so a buffer lists the same entries
 * in either layout. */
static void dirents_to_old(char *buf, size_t len)
{
	size_t at = 0;
	while (at + 20 <= len) {
		char *rec = buf + at;
		uint16_t reclen;
		memcpy(&reclen, rec + 16, 2);
		if (reclen < 24 || at + reclen > len)
			break;
		uint8_t type = (uint8_t)rec[18];
		size_t n = strnlen(rec + 19, reclen - 19);
		memmove(rec + 18, rec + 19, n);
		memset(rec + 18 + n, 0, (size_t)reclen - 18 - n);
		rec[reclen - 1] = (char)type;
		at += reclen;
	}
}

static long do_getdents(struct task *t, const struct syscall_args *args, bool old_layout)
{
	int fd = arg_int(args, 0);
	gaddr_t dirp = arg_addr(args, 1);
	unsigned int count = arg_uint(args, 2);

	struct file *f = fd_get(t, fd);
	if (!f)
		return -EBADF;
	long r;
	if (f->flags & O_PATH) {
		r = -EBADF;
	} else if (!f->ops->getdents_buf) {
		r = -ENOTDIR;
	} else {
		size_t len = WARD_MIN((size_t)count, GETDENTS_CHUNK);
		cleanup_free char *buf = malloc(WARD_MAX(len, 1));
		uint64_t saved = f->pos;
		r = buf ? f->ops->getdents_buf(f, buf, len) : -ENOMEM;
		if (r > 0 && old_layout)
			dirents_to_old(buf, (size_t)r);
		if (r > 0) {
			long c = ward_copy_out(task_as(t), dirp, buf, (size_t)r);
			if (c < 0) {
				/* Nothing reached the guest: list the same
				 * entries again next time. */
				f->pos = saved;
				r = c;
			}
		}
		/* iterate_dir reports every listing, the end's included. */
		if (r >= 0 && inotify_active())
			inotify_file_event(f, WARD_IN_ACCESS);
	}
	file_put(f);
	return r;
}

/* getdents64(2) */
long sys_getdents64(struct task *t, const struct syscall_args *args)
{
	return do_getdents(t, args, false);
}

/* getdents(2): the same listing in the older record layout. */
long sys_getdents(struct task *t, const struct syscall_args *args)
{
	return do_getdents(t, args, true);
}

static long do_readlinkat(struct task *t, int dirfd, gaddr_t pathname, gaddr_t buf, int bufsiz)
{
	if (bufsiz <= 0)
		return -EINVAL;
	cleanup_free char *path = NULL;
	long r = copy_path(t, pathname, &path);
	if (r < 0)
		return r;
	size_t len = WARD_MIN((size_t)bufsiz, (size_t)PATH_BUF);
	cleanup_free char *target = malloc(len);
	if (!target)
		return -ENOMEM;
	r = vfs_readlinkat(t, dirfd, path, target, len);
	if (r < 0)
		return r;
	long c = ward_copy_out(task_as(t), buf, target, (size_t)r);
	return c < 0 ? c : r;
}

/* readlink(2) */
long sys_readlink(struct task *t, const struct syscall_args *args)
{
	return do_readlinkat(t, AT_FDCWD, arg_addr(args, 0), arg_addr(args, 1), arg_int(args, 2));
}

/* readlinkat(2) */
long sys_readlinkat(struct task *t, const struct syscall_args *args)
{
	return do_readlinkat(t, arg_int(args, 0), arg_addr(args, 1), arg_addr(args, 2), arg_int(args, 3));
}

static long do_faccessat(struct task *t, int dirfd, gaddr_t pathname, int mode, int flags)
{
	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	cleanup_free char *path = NULL;
	long r = copy_path(t, pathname, &path);
	if (r < 0)
		return r;
	return vfs_accessat(t, dirfd, path, mode, flags);
}

/* access(2) */
long sys_access(struct task *t, const struct syscall_args *args)
{
	return do_faccessat(t, AT_FDCWD, arg_addr(args, 0), arg_int(args, 1), 0);
}

/* faccessat(2): the raw call has no flags argument. */
long sys_faccessat(struct task *t, const struct syscall_args *args)
{
	return do_faccessat(t, arg_int(args, 0), arg_addr(args, 1), arg_int(args, 2), 0);
}

/* faccessat2(2) */
long sys_faccessat2(struct task *t, const struct syscall_args *args)
{
	return do_faccessat(t, arg_int(args, 0), arg_addr(args, 1), arg_int(args, 2), arg_int(args, 3));
}

/* getcwd(2): the kernel's own call returns the length with the NUL. */
long sys_getcwd(struct task *t, const struct syscall_args *args)
{
	gaddr_t buf = arg_addr(args, 0);
	uint64_t size = arg_u64(args, 1);
	/* The cwd as the task sees it from its root; "(unreachable)" marks
	 * one outside a chroot, as Linux does. */
	char shown[4096 + 16];
	long n = vfs_guest_path(t, t->fs->cwd, shown, sizeof(shown));
	if (n < 0)
		return n;
	size_t len = (size_t)n + 1;
	if (size < len)
		return -ERANGE;
	long r = ward_copy_out(task_as(t), buf, shown, len);
	return r < 0 ? r : (long)len;
}

/* chdir(2) */
long sys_chdir(struct task *t, const struct syscall_args *args)
{
	cleanup_free char *path = NULL;
	long r = copy_path(t, arg_addr(args, 0), &path);
	if (r < 0)
		return r;
	return vfs_chdir(t, path);
}

/* fchdir(2) */
long sys_fchdir(struct task *t, const struct syscall_args *args)
{
	return vfs_fchdir(t, arg_int(args, 0));
}

/* The status flags F_SETFL may change (fs/fcntl.c SETFL_MASK). */
#define FCNTL_SETFL_MASK (O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT | O_NOATIME | O_ASYNC)

/* fcntl(2) */
long sys_fcntl(struct task *t, const struct syscall_args *args)
{
	int fd = arg_int(args, 0);
	unsigned int cmd = arg_uint(args, 1);
	uint64_t arg = arg_u64(args, 2);

	struct file *f = fd_get(t, fd);
	if (!f)
		return -EBADF;
	long r;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		/* The argument is an int; at or past the limit is EINVAL. */
		if ((int)arg < 0 || (unsigned long)(int)arg >= fd_limit(t))
			r = -EINVAL;
		else
			r = fd_install(t, f, cmd == F_DUPFD_CLOEXEC ? FD_CLOEXEC : 0, (int)arg);
		break;
	case F_GETFD:
		r = fd_get_flags(t, fd);
		break;
	case F_SETFD:
		r = fd_set_flags(t, fd, (int)arg & FD_CLOEXEC);
		break;
	case F_GETFL:
		r = (long)f->flags;
		break;
	case F_SETFL:
		if (f->flags & O_PATH) {
			r = -EBADF;
			break;
		}
		f->flags = (f->flags & ~(uint32_t)FCNTL_SETFL_MASK) | ((uint32_t)arg & FCNTL_SETFL_MASK);
		r = 0;
		break;
	case 5: /* F_GETLK */
	case 6: /* F_SETLK */
	case 7: /* F_SETLKW */
	case 36: /* F_OFD_GETLK */
	case 37: /* F_OFD_SETLK */
	case 38: /* F_OFD_SETLKW */
		r = (f->flags & O_PATH) ? -EBADF : fcntl_lock(t, f, cmd, arg);
		break;
	case 1033: /* F_ADD_SEALS */
	case 1034: /* F_GET_SEALS */
		r = (f->flags & O_PATH) ? -EBADF : fcntl_seals(t, f, cmd, arg);
		break;
	case 1031: /* F_SETPIPE_SZ */
	case 1032: /* F_GETPIPE_SZ */
		r = pipe_fcntl_size(f, cmd == 1031, arg);
		break;
	default:
		r = -EINVAL;
		break;
	}
	file_put(f);
	return r;
}

/* dup(2) */
long sys_dup(struct task *t, const struct syscall_args *args)
{
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	long r = fd_install(t, f, 0, 0);
	file_put(f);
	return r;
}

static long do_dup3(struct task *t, int oldfd, int newfd, int flags, bool is_dup2)
{
	if (!is_dup2) {
		if (flags & ~O_CLOEXEC)
			return -EINVAL;
		if (oldfd == newfd)
			return -EINVAL;
	}
	if (newfd < 0 || (unsigned long)newfd >= fd_limit(t))
		return -EBADF;
	struct file *f = fd_get(t, oldfd);
	if (!f)
		return -EBADF;
	long r = newfd;
	/* dup2 onto itself only checks that the descriptor is open. */
	if (oldfd != newfd)
		r = fd_replace(t, newfd, f, (flags & O_CLOEXEC) ? FD_CLOEXEC : 0);
	file_put(f);
	return r;
}

/* dup2(2) */
long sys_dup2(struct task *t, const struct syscall_args *args)
{
	int oldfd = arg_int(args, 0), newfd = arg_int(args, 1);
	if (oldfd == newfd) {
		struct file *f = fd_get(t, oldfd);
		if (!f)
			return -EBADF;
		file_put(f);
		return newfd;
	}
	return do_dup3(t, oldfd, newfd, 0, true);
}

/* dup3(2) */
long sys_dup3(struct task *t, const struct syscall_args *args)
{
	return do_dup3(t, arg_int(args, 0), arg_int(args, 1), arg_int(args, 2), false);
}

/* The generic ioctl requests of fs/ioctl.c, by their x86-64 numbers. */
#define IOCTL_FIONREAD 0x541B
#define IOCTL_FIONBIO 0x5421
#define IOCTL_FIONCLEX 0x5450
#define IOCTL_FIOCLEX 0x5451
#define IOCTL_FIOASYNC 0x5452

/* ioctl(2) */
long sys_ioctl(struct task *t, const struct syscall_args *args)
{
	int fd = arg_int(args, 0);
	unsigned int cmd = arg_uint(args, 1);
	uint64_t arg = arg_u64(args, 2);

	struct file *f = fd_get(t, fd);
	if (!f)
		return -EBADF;
	long r;
	if (f->flags & O_PATH) {
		r = -EBADF;
		goto out;
	}
	switch (cmd) {
	case IOCTL_FIOCLEX:
		r = fd_set_flags(t, fd, FD_CLOEXEC);
		goto out;
	case IOCTL_FIONCLEX:
		r = fd_set_flags(t, fd, 0);
		goto out;
	case IOCTL_FIONBIO:
	case IOCTL_FIOASYNC: {
		int on;
		r = WARD_COPY_IN_OBJ(task_as(t), &on, gaddr(arg));
		if (r < 0)
			goto out;
		uint32_t bit = cmd == IOCTL_FIONBIO ? O_NONBLOCK : O_ASYNC;
		f->flags = on ? (f->flags | bit) : (f->flags & ~bit);
		r = 0;
		goto out;
	}
	case IOCTL_FIONREAD: {
		/* Regular files answer here (fs/ioctl.c); others ask their
		 * file system. */
		struct linux_statx stx;
		if (file_getattr(f, &stx) >= 0 && S_ISREG(stx.stx_mode)) {
			int left =
				stx.stx_size > f->pos ? (int)WARD_MIN(stx.stx_size - f->pos, (uint64_t)INT32_MAX) : 0;
			r = WARD_COPY_OUT_OBJ(task_as(t), gaddr(arg), &left);
			goto out;
		}
		break;
	}
	default:
		break;
	}
	r = f->ops->ioctl_cmd ? f->ops->ioctl_cmd(t, f, cmd, arg) : -ENOTTY;
out:
	file_put(f);
	return r;
}

/* umask(2) */
long sys_umask(struct task *t, const struct syscall_args *args)
{
	uint32_t old = t->fs->umask;
	t->fs->umask = arg_uint(args, 0) & 0777;
	return old;
}

#define CLOSE_RANGE_UNSHARE_ 0x2
#define CLOSE_RANGE_CLOEXEC_ 0x4

/* close_range(2) */
long sys_close_range(struct task *t, const struct syscall_args *args)
{
	unsigned int first = arg_uint(args, 0), last = arg_uint(args, 1), flags = arg_uint(args, 2);
	if (flags & ~(unsigned int)(CLOSE_RANGE_UNSHARE_ | CLOSE_RANGE_CLOEXEC_))
		return -EINVAL;
	if (first > last)
		return -EINVAL;
	if ((flags & CLOSE_RANGE_UNSHARE_) && t->files_refs && *t->files_refs > 1) {
		struct fd_table *own = fdtable_dup(t->files);
		int *refs = malloc(sizeof(int));
		if (!own || !refs) {
			free(refs);
			if (own)
				fdtable_destroy(own);
			return -ENOMEM;
		}
		(*t->files_refs)--;
		t->files = own;
		t->files_refs = refs;
		*refs = 1;
	}
	uint64_t limit = fd_limit(t);
	for (uint64_t fd = first; fd <= last && fd < limit; fd++) {
		if (flags & CLOSE_RANGE_CLOEXEC_)
			fd_set_flags(t, (int)fd, FD_CLOEXEC);
		else
			fd_close(t, (int)fd);
	}
	return 0;
}
