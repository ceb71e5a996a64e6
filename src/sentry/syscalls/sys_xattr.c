/* Extended attributes: get, set, list and remove, with their l (no
 * symlink following) and f (descriptor) variants, as fs/xattr.c checks
 * them. The sentry's tmpfs and the overlay's upper layer keep user.*,
 * trusted.* and security.* attributes; the read-only lower layer shows
 * none (the host's are the host's business) until a change copies the
 * file up; system.* (POSIX ACLs) and unknown namespaces are EOPNOTSUPP.
 * The name and the value are read before the path, as Linux 6.13 on
 * does. */
#include "sentry/service.h"

#include "fs/vfs.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/creds.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define XATTR_NAME_MAX_ 255
#define XATTR_SIZE_MAX_ 65536
#define XATTR_LIST_MAX_ 65536
#define XATTR_CREATE_ 1
#define XATTR_REPLACE_ 2
#define CAP_SYS_ADMIN_ 21

#define MAY_READ_ 1
#define MAY_WRITE_ 2

/* How the object is named: a path (follow or not) or a descriptor. */
struct xattr_target {
	gaddr_t path;
	int fd;
	bool follow;
	bool by_fd;
};

static long copy_name(struct task *t, gaddr_t name_addr, char name[XATTR_NAME_MAX_ + 1])
{
	long n = ward_copy_string_in(task_as(t), name, XATTR_NAME_MAX_ + 1, name_addr);
	if (n == -ENAMETOOLONG || n == 0)
		return -ERANGE;
	return n < 0 ? n : 0;
}

static bool has_prefix(const char *name, const char *prefix)
{
	return strncmp(name, prefix, strlen(prefix)) == 0;
}

/* The object: a new vnode reference in *out, and its attributes in *stx.
 * Files without one (pipes, sockets, stdio) give *out NULL: they have
 * the namespace rules of their type and no attributes. */
static long target_vnode(struct task *t, const struct xattr_target *tg, struct vnode **out, struct linux_statx *stx)
{
	*out = NULL;
	if (tg->by_fd) {
		struct file *f = fd_get(t, tg->fd);
		if (!f)
			return -EBADF;
		long r = (f->flags & O_PATH) ? -EBADF : 0;
		if (r >= 0 && f->vn)
			*out = vnode_get(f->vn);
		else if (r >= 0)
			r = file_getattr(f, stx);
		file_put(f);
		if (r < 0 || !*out)
			return r;
	} else {
		cleanup_free char *path = malloc(VFS_PATH_MAX);
		if (!path)
			return -ENOMEM;
		long n = ward_copy_string_in(task_as(t), path, VFS_PATH_MAX, tg->path);
		if (n < 0)
			return n;
		n = vfs_resolve_vnode(t, AT_FDCWD, path, tg->follow ? 0 : AT_SYMLINK_NOFOLLOW, out);
		if (n < 0)
			return n;
	}
	long r = (*out)->ops->getattr ? (*out)->ops->getattr(*out, stx) : -EOPNOTSUPP;
	if (r < 0) {
		vnode_put(*out);
		*out = NULL;
	}
	return r;
}

/* xattr_permission and the namespace's handler: 0, or why not. */
static long xattr_check(struct task *t, const struct linux_statx *st, const char *name, int mask)
{
	struct linux_statx stx = *st;
	long r;
	bool admin = creds_capable(&t->creds, CAP_SYS_ADMIN_);
	if (has_prefix(name, "security.")) {
		/* No LSM: the capability module wants CAP_SYS_ADMIN to
		 * change security.* names. */
		if ((mask & MAY_WRITE_) && !admin)
			return -EPERM;
	} else if (has_prefix(name, "system.")) {
		return -EOPNOTSUPP;
	} else if (has_prefix(name, "trusted.")) {
		if (!admin)
			return (mask & MAY_WRITE_) ? -EPERM : -ENODATA;
	} else {
		if (has_prefix(name, "user.")) {
			if (!S_ISREG(stx.stx_mode) && !S_ISDIR(stx.stx_mode))
				return (mask & MAY_WRITE_) ? -EPERM : -ENODATA;
			if (S_ISDIR(stx.stx_mode) && (stx.stx_mode & S_ISVTX) && (mask & MAY_WRITE_) &&
			    t->creds.fsuid != stx.stx_uid && !creds_capable(&t->creds, 3 /* CAP_FOWNER */))
				return -EPERM;
		}
		r = vfs_permission(t, &stx, mask == MAY_WRITE_ ? VFS_MAY_WRITE : VFS_MAY_READ, false);
		if (r < 0)
			return r;
		if (!has_prefix(name, "user."))
			return -EOPNOTSUPP;
	}
	return 0;
}

static long do_get(struct task *t, const struct xattr_target *tg, gaddr_t name_addr, gaddr_t value, size_t size)
{
	char name[XATTR_NAME_MAX_ + 1];
	long r = copy_name(t, name_addr, name);
	if (r < 0)
		return r;
	struct vnode *v;
	struct linux_statx stx;
	r = target_vnode(t, tg, &v, &stx);
	if (r < 0)
		return r;
	r = xattr_check(t, &stx, name, MAY_READ_);
	/* File systems without attributes: none to find (the read-only
	 * root), or none to have at all (pipes and sockets). */
	if (r >= 0 && !v)
		r = -EOPNOTSUPP;
	else if (r >= 0 && !v->ops->xattr_get)
		r = -ENODATA;
	if (size > XATTR_SIZE_MAX_)
		size = XATTR_SIZE_MAX_;
	cleanup_free void *buf = NULL;
	if (r >= 0 && size && !(buf = malloc(size)))
		r = -ENOMEM;
	if (r >= 0)
		r = v->ops->xattr_get(v, name, buf, size);
	/* A value longer than the largest buffer one may ask for. */
	if (r == -ERANGE && size == XATTR_SIZE_MAX_)
		r = -E2BIG;
	if (r > 0 && size) {
		long c = ward_copy_out(task_as(t), value, buf, (size_t)r);
		if (c < 0)
			r = c;
	}
	vnode_put(v);
	return r;
}

static long do_set(struct task *t, const struct xattr_target *tg, gaddr_t name_addr, gaddr_t value, size_t size,
		   int flags)
{
	if (flags & ~(XATTR_CREATE_ | XATTR_REPLACE_))
		return -EINVAL;
	char name[XATTR_NAME_MAX_ + 1];
	long r = copy_name(t, name_addr, name);
	if (r < 0)
		return r;
	if (size > XATTR_SIZE_MAX_)
		return -E2BIG;
	cleanup_free void *buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	if (size) {
		r = ward_copy_in(task_as(t), buf, value, size);
		if (r < 0)
			return r;
	}
	struct vnode *v;
	struct linux_statx stx;
	r = target_vnode(t, tg, &v, &stx);
	if (r < 0)
		return r;
	if (v && vmount_rdonly(v->mnt))
		r = -EROFS;
	if (r >= 0)
		r = xattr_check(t, &stx, name, MAY_WRITE_);
	if (r >= 0 && (!v || !v->ops->xattr_set))
		r = -EOPNOTSUPP;
	if (r >= 0)
		r = v->ops->xattr_set(v, name, buf, size, flags);
	vnode_put(v);
	return r < 0 ? r : 0;
}

static long do_list(struct task *t, const struct xattr_target *tg, gaddr_t list, size_t size)
{
	struct vnode *v;
	struct linux_statx stx;
	long r = target_vnode(t, tg, &v, &stx);
	if (r < 0)
		return r;
	if (!v)
		return 0;
	if (size > XATTR_LIST_MAX_)
		size = XATTR_LIST_MAX_;
	cleanup_free char *buf = NULL;
	if (size && !(buf = malloc(size)))
		r = -ENOMEM;
	if (r >= 0)
		r = v->ops->xattr_list ? v->ops->xattr_list(v, buf, size, creds_capable(&t->creds, CAP_SYS_ADMIN_)) : 0;
	if (r == -ERANGE && size == XATTR_LIST_MAX_)
		r = -E2BIG;
	if (r > 0 && size) {
		long c = ward_copy_out(task_as(t), list, buf, (size_t)r);
		if (c < 0)
			r = c;
	}
	vnode_put(v);
	return r;
}

static long do_remove(struct task *t, const struct xattr_target *tg, gaddr_t name_addr)
{
	char name[XATTR_NAME_MAX_ + 1];
	long r = copy_name(t, name_addr, name);
	if (r < 0)
		return r;
	struct vnode *v;
	struct linux_statx stx;
	r = target_vnode(t, tg, &v, &stx);
	if (r < 0)
		return r;
	if (v && vmount_rdonly(v->mnt))
		r = -EROFS;
	if (r >= 0)
		r = xattr_check(t, &stx, name, MAY_WRITE_);
	if (r >= 0 && (!v || !v->ops->xattr_remove))
		r = -EOPNOTSUPP;
	if (r >= 0)
		r = v->ops->xattr_remove(v, name);
	vnode_put(v);
	return r;
}

static struct xattr_target by_path(const struct syscall_args *args, bool follow)
{
	return (struct xattr_target){ .path = arg_addr(args, 0), .follow = follow };
}

static struct xattr_target by_fd(const struct syscall_args *args)
{
	return (struct xattr_target){ .fd = arg_int(args, 0), .by_fd = true };
}

/* getxattr(2) */
long sys_getxattr(struct task *t, const struct syscall_args *args)
{
	struct xattr_target tg = by_path(args, true);
	return do_get(t, &tg, arg_addr(args, 1), arg_addr(args, 2), arg_u64(args, 3));
}

/* lgetxattr(2) */
long sys_lgetxattr(struct task *t, const struct syscall_args *args)
{
	struct xattr_target tg = by_path(args, false);
	return do_get(t, &tg, arg_addr(args, 1), arg_addr(args, 2), arg_u64(args, 3));
}

/* fgetxattr(2) */
long sys_fgetxattr(struct task *t, const struct syscall_args *args)
{
	struct xattr_target tg = by_fd(args);
	return do_get(t, &tg, arg_addr(args, 1), arg_addr(args, 2), arg_u64(args, 3));
}

/* setxattr(2) */
long sys_setxattr(struct task *t, const struct syscall_args *args)
{
	struct xattr_target tg = by_path(args, true);
	return do_set(t, &tg, arg_addr(args, 1), arg_addr(args, 2), arg_u64(args, 3), arg_int(args, 4));
}

/* lsetxattr(2) */
long sys_lsetxattr(struct task *t, const struct syscall_args *args)
{
	struct xattr_target tg = by_path(args, false);
	return do_set(t, &tg, arg_addr(args, 1), arg_addr(args, 2), arg_u64(args, 3), arg_int(args, 4));
}

/* fsetxattr(2) */
long sys_fsetxattr(struct task *t, const struct syscall_args *args)
{
	struct xattr_target tg = by_fd(args);
	return do_set(t, &tg, arg_addr(args, 1), arg_addr(args, 2), arg_u64(args, 3), arg_int(args, 4));
}

/* listxattr(2) */
long sys_listxattr(struct task *t, const struct syscall_args *args)
{
	struct xattr_target tg = by_path(args, true);
	return do_list(t, &tg, arg_addr(args, 1), arg_u64(args, 2));
}

/* llistxattr(2) */
long sys_llistxattr(struct task *t, const struct syscall_args *args)
{
	struct xattr_target tg = by_path(args, false);
	return do_list(t, &tg, arg_addr(args, 1), arg_u64(args, 2));
}

/* flistxattr(2) */
long sys_flistxattr(struct task *t, const struct syscall_args *args)
{
	struct xattr_target tg = by_fd(args);
	return do_list(t, &tg, arg_addr(args, 1), arg_u64(args, 2));
}

/* removexattr(2) */
long sys_removexattr(struct task *t, const struct syscall_args *args)
{
	struct xattr_target tg = by_path(args, true);
	return do_remove(t, &tg, arg_addr(args, 1));
}

/* lremovexattr(2) */
long sys_lremovexattr(struct task *t, const struct syscall_args *args)
{
	struct xattr_target tg = by_path(args, false);
	return do_remove(t, &tg, arg_addr(args, 1));
}

/* fremovexattr(2) */
long sys_fremovexattr(struct task *t, const struct syscall_args *args)
{
	struct xattr_target tg = by_fd(args);
	return do_remove(t, &tg, arg_addr(args, 1));
}
