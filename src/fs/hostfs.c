/* hostfs: a host directory bind-mounted into the sandbox (--volume), and
 * the host side of the overlay root. Read-only unless the mount was made
 * writable.
 *
 * A vnode holds one O_PATH host handle. A file holds one host handle: an O_PATH handle for O_PATH opens (stat,
 * readlink, use as a dirfd), a read handle otherwise. Directory offsets are
 * the host file system's own cookies, kept in f->pos and handed back to the
 * host on each getdents, so dup'd descriptors share them as Linux does. */
#include "sentry/service.h"

#include "fs/vfs_internal.h"
#include "sentry/kernel/task.h"

struct hostfs_file {
	ward_hostfd_t h;
	uint32_t type; /* S_IFMT bits */
};

static ward_hostfd_t handle_of(struct file *f)
{
	return ((struct hostfs_file *)f->priv)->h;
}

static long hostfs_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	struct hostfs_file *hf = f->priv;
	if (S_ISDIR(hf->type))
		return -EISDIR;
	if (*pos > INT64_MAX)
		return 0;
	long n = ward_host_pread(hf->h, buf, len, *pos);
	if (n > 0)
		*pos += (uint64_t)n;
	return n;
}

static long hostfs_write(struct file *f, const void *buf, size_t len, uint64_t *pos)
{
	struct hostfs_file *hf = f->priv;
	if (f->flags & O_APPEND) {
		struct linux_statx stx;
		long r = ward_host_statx(hf->h, &stx);
		if (r < 0)
			return r;
		*pos = stx.stx_size;
	}
	if (*pos > INT64_MAX)
		return -EFBIG;
	long n = ward_host_pwrite(hf->h, buf, len, *pos);
	if (n > 0)
		*pos += (uint64_t)n;
	return n;
}

static long hostfs_getattr(struct file *f, struct linux_statx *out)
{
	long r = ward_host_statx(handle_of(f), out);
	if (r < 0)
		return r;
	out->stx_mask &= LINUX_STATX_BASIC_STATS | LINUX_STATX_BTIME;
	out->stx_mnt_id = 0;
	return 0;
}

static long hostfs_seek(struct file *f, int64_t off, int whence)
{
	struct linux_statx stx;
	long r = ward_host_statx(handle_of(f), &stx);
	if (r < 0)
		return r;
	return vfs_generic_seek(f, off, whence, stx.stx_size);
}

static long hostfs_dir_seek(struct file *f, int64_t off, int whence)
{
	/* Directory offsets are opaque cookies: only SEEK_SET to one the
	 * host gave (or 0) and SEEK_CUR make sense. */
	switch (whence) {
	case SEEK_SET:
		if (off < 0)
			return -EINVAL;
		f->pos = (uint64_t)off;
		return off;
	case SEEK_CUR:
		return vfs_generic_seek(f, off, whence, 0);
	default:
		return -EINVAL;
	}
}

static long hostfs_getdents(struct file *f, void *buf, size_t len)
{
	return ward_host_getdents64(handle_of(f), &f->pos, buf, len);
}

static long hostfs_ioctl(struct task *t, struct file *f, unsigned int cmd, uint64_t arg)
{
	return -ENOTTY;
}

static long hostfs_mmap_fill(struct file *f, uint64_t memfile_off, uint64_t file_off, size_t len)
{
	long n = ward_memfile_fill_from_host(memfile_off, handle_of(f), file_off, len);
	if (n < 0)
		return n;
	if ((size_t)n < len) {
		long r = ward_memfile_zero(memfile_off + (uint64_t)n, len - (size_t)n);
		if (r < 0)
			return r;
	}
	return 0;
}

static long hostfs_statfs(struct file *f, struct linux_statfs *out)
{
	long r = ward_host_statfs(handle_of(f), out);
	if (r < 0)
		return r;
	return 0;
}

static void hostfs_release(struct file *f)
{
	struct hostfs_file *hf = f->priv;
	if (!hf)
		return;
	ward_host_close(hf->h);
	free(hf);
	f->priv = NULL;
}

static const struct file_ops hostfs_reg_ops = {
	.read_buf = hostfs_read,
	.seek = hostfs_seek,
	.getattr = hostfs_getattr,
	.ioctl_cmd = hostfs_ioctl,
	.mmap_fill = hostfs_mmap_fill,
	.statfs = hostfs_statfs,
	.release = hostfs_release,
};

/* Regular files opened for writing on a writable bind. */
static const struct file_ops hostfs_rw_ops = {
	.read_buf = hostfs_read,
	.write_buf = hostfs_write,
	.seek = hostfs_seek,
	.getattr = hostfs_getattr,
	.ioctl_cmd = hostfs_ioctl,
	.mmap_fill = hostfs_mmap_fill,
	.statfs = hostfs_statfs,
	.release = hostfs_release,
};

static const struct file_ops hostfs_dir_ops = {
	.read_buf = hostfs_read,
	.seek = hostfs_dir_seek,
	.getattr = hostfs_getattr,
	.getdents_buf = hostfs_getdents,
	.statfs = hostfs_statfs,
	.release = hostfs_release,
};

/* O_PATH files: only what needs no open file (the syscall layer refuses
 * reads, writes and getdents on O_PATH descriptors with EBADF). */
static const struct file_ops hostfs_path_ops = {
	.getattr = hostfs_getattr,
	.statfs = hostfs_statfs,
	.release = hostfs_release,
};

long hostfs_stat_handle(ward_hostfd_t h, struct linux_statx *out)
{
	long r = ward_host_statx(h, out);
	if (r < 0)
		return r;
	/* The guest learns nothing of the host's mounts. */
	out->stx_mask &= LINUX_STATX_BASIC_STATS | LINUX_STATX_BTIME;
	out->stx_mnt_id = 0;
	return 0;
}

/* A file description over the open host handle fh (consumed). */
static long hostfs_wrap(ward_hostfd_t fh, uint32_t type, const struct file_ops *ops, int flags, const char *path,
			struct file **out)
{
	struct hostfs_file *hf = calloc(1, sizeof(*hf));
	if (!hf) {
		ward_host_close(fh);
		return -ENOMEM;
	}
	hf->h = fh;
	hf->type = type;
	struct file *f = file_alloc(ops, (uint32_t)flags, path, hf);
	if (!f) {
		ward_host_close(fh);
		free(hf);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

long hostfs_open_handle(ward_hostfd_t h, const struct linux_statx *stx, int flags, const char *path, struct file **out)
{
	uint32_t type = stx->stx_mode & S_IFMT;
	const struct file_ops *ops;
	ward_hostfd_t fh;
	long r;

	if (flags & O_PATH) {
		ops = &hostfs_path_ops;
		r = ward_host_dup(h, &fh);
	} else if (S_ISDIR(type)) {
		ops = &hostfs_dir_ops;
		r = ward_host_reopen(h, WARD_HOST_READ | WARD_HOST_DIRECTORY, &fh);
	} else if (S_ISREG(type) && ((flags & O_ACCMODE) == O_WRONLY || (flags & O_ACCMODE) == O_RDWR)) {
		/* Only a writable bind gets here: the VFS refuses write opens
		 * on read-only mounts (EROFS). */
		ops = &hostfs_rw_ops;
		r = ward_host_reopen_write(h, &fh);
	} else if (S_ISREG(type)) {
		ops = &hostfs_reg_ops;
		r = ward_host_reopen(h, WARD_HOST_READ, &fh);
	} else {
		/* Host devices, fifos and sockets stay out of reach: a fifo
		 * would block the sentry, a device is the host's. */
		return S_ISSOCK(type) ? -ENXIO : -EACCES;
	}
	if (r < 0)
		return r;
	return hostfs_wrap(fh, type, ops, flags, path, out);
}

long hostfs_open_read_at(ward_hostfd_t dir, const char *name, int flags, const char *path, struct file **out)
{
	ward_hostfd_t fh;
	long r = ward_host_lookup(dir, name, WARD_HOST_READ, &fh);
	if (r < 0)
		return r;
	return hostfs_wrap(fh, S_IFREG, &hostfs_reg_ops, flags, path, out);
}

/* Vnodes of a hostfs mount. */

struct hostfs_node {
	ward_hostfd_t h; /* O_PATH */
};

static ward_hostfd_t vn_handle(struct vnode *v)
{
	return ((struct hostfs_node *)v->priv)->h;
}

static long hostfs_vn_getattr(struct vnode *v, struct linux_statx *out)
{
	return hostfs_stat_handle(vn_handle(v), out);
}

static long hostfs_vn_readlink(struct vnode *v, char *buf, size_t len)
{
	return ward_host_readlink(vn_handle(v), buf, len);
}

static long hostfs_vn_open(struct vnode *v, int flags, const char *path, struct file **out)
{
	struct linux_statx stx;
	long r = hostfs_stat_handle(vn_handle(v), &stx);
	if (r < 0)
		return r;
	return hostfs_open_handle(vn_handle(v), &stx, flags, path, out);
}

static long hostfs_vn_statfs(struct vnode *v, struct linux_statfs *out)
{
	return ward_host_statfs(vn_handle(v), out);
}

static void hostfs_vn_release(struct vnode *v)
{
	struct hostfs_node *n = v->priv;
	ward_host_close(n->h);
	free(n);
}

static long hostfs_vn_lookup(struct vnode *dir, const char *name, struct vnode **out);
static long hostfs_vnode(ward_hostfd_t h, struct vmount *mnt, struct vnode **out);

/* A bind mount's root: the same host object under another handle (the
 * handle stays confined as the original is). */
static long hostfs_vn_bind_root(struct vnode *v, struct vmount *mnt, struct vnode **out)
{
	ward_hostfd_t h;
	long r = ward_host_dup(vn_handle(v), &h);
	if (r < 0)
		return r;
	return hostfs_vnode(h, mnt, out);
}

/* The write side, for writable binds (the VFS answers EROFS on read-only
 * ones before calling these). */

static long hostfs_vn_create(struct vnode *dir, const char *name, uint32_t mode, uint64_t rdev,
			     const struct vfs_owner *o, struct vnode **out)
{
	long r;
	switch (mode & S_IFMT) {
	case S_IFREG:
		r = ward_host_create(vn_handle(dir), name, mode);
		break;
	case S_IFDIR:
		r = ward_host_mkdir(vn_handle(dir), name, mode);
		break;
	case S_IFIFO:
		r = ward_host_mknod(vn_handle(dir), name, mode);
		break;
	default:
		r = -EPERM;
		break;
	}
	if (r < 0)
		return r;
	return hostfs_vn_lookup(dir, name, out);
}

static long hostfs_vn_symlink(struct vnode *dir, const char *name, const char *target, const struct vfs_owner *o)
{
	return ward_host_symlink(vn_handle(dir), name, target);
}

static long hostfs_vn_link(struct vnode *dir, const char *name, struct vnode *src)
{
	return ward_host_link(vn_handle(src), vn_handle(dir), name);
}

static long hostfs_vn_unlink(struct vnode *dir, const char *name, bool is_dir)
{
	return ward_host_unlink(vn_handle(dir), name, is_dir);
}

static long hostfs_vn_rename(struct vnode *odir, const char *oname, struct vnode *ndir, const char *nname,
			     unsigned int flags)
{
	return ward_host_rename(vn_handle(odir), oname, vn_handle(ndir), nname, flags);
}

static long hostfs_vn_setattr(struct vnode *v, const struct vattr *a)
{
	ward_hostfd_t h = vn_handle(v);
	long r = 0;
	if (a->valid & VATTR_SIZE)
		r = ward_host_truncate(h, a->size);
	if (r >= 0 && (a->valid & (VATTR_UID | VATTR_GID)))
		r = ward_host_chown(h, (a->valid & VATTR_UID) ? a->uid : (uint32_t)-1,
				    (a->valid & VATTR_GID) ? a->gid : (uint32_t)-1);
	if (r >= 0 && (a->valid & VATTR_MODE))
		r = ward_host_chmod(h, a->mode);
	if (r >= 0 && (a->valid & (VATTR_ATIME | VATTR_MTIME))) {
		const long omit = (1L << 30) - 2; /* UTIME_OMIT */
		struct linux_timespec ts[2] = {
			{ a->atime.tv_sec, (a->valid & VATTR_ATIME) ? (long)a->atime.tv_nsec : omit },
			{ a->mtime.tv_sec, (a->valid & VATTR_MTIME) ? (long)a->mtime.tv_nsec : omit },
		};
		r = ward_host_utimens(h, ts);
	}
	return r;
}

static const struct vnode_ops hostfs_vn_ops = {
	.lookup = hostfs_vn_lookup,
	.getattr = hostfs_vn_getattr,
	.setattr = hostfs_vn_setattr,
	.read_link = hostfs_vn_readlink,
	.open_file = hostfs_vn_open,
	.create = hostfs_vn_create,
	.make_symlink = hostfs_vn_symlink,
	.make_link = hostfs_vn_link,
	.remove = hostfs_vn_unlink,
	.move = hostfs_vn_rename,
	.statfs = hostfs_vn_statfs,
	.bind_root = hostfs_vn_bind_root,
	.release = hostfs_vn_release,
};

static long hostfs_vnode(ward_hostfd_t h, struct vmount *mnt, struct vnode **out)
{
	struct linux_statx stx;
	long r = ward_host_statx(h, &stx);
	if (r < 0) {
		ward_host_close(h);
		return r;
	}
	struct hostfs_node *n = calloc(1, sizeof(*n));
	struct vnode *v = n ? vnode_alloc(&hostfs_vn_ops, mnt, stx.stx_mode & S_IFMT, n) : NULL;
	if (!v) {
		free(n);
		ward_host_close(h);
		return -ENOMEM;
	}
	n->h = h;
	*out = v;
	return 0;
}

static long hostfs_vn_lookup(struct vnode *dir, const char *name, struct vnode **out)
{
	ward_hostfd_t h;
	long r = ward_host_lookup(vn_handle(dir), name, 0, &h);
	if (r < 0)
		return r;
	return hostfs_vnode(h, dir->mnt, out);
}

long hostfs_root(ward_hostfd_t root, bool writable, struct vmount *mnt, struct vnode **out)
{
	(void)writable;
	return hostfs_vnode(root, mnt, out);
}
