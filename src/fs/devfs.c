/* devfs: the sentry's own /dev, so that the guest never opens a host
 * device. The memory devices of drivers/char/mem.c and random.c, with
 * their numbers and modes. */
#include "sentry/service.h"

#include "fs/pty.h"
#include "fs/vfs_internal.h"

enum devfs_dev {
	DEVFS_FULL,
	DEVFS_NULL,
	DEVFS_PTMX,
	DEVFS_RANDOM,
	DEVFS_TTY,
	DEVFS_URANDOM,
	DEVFS_ZERO,
	DEVFS_NDEV,
};

/* Sorted by name, as a directory listing shows them. */
static const struct {
	const char *name;
	uint32_t major, minor;
} devfs_devs[DEVFS_NDEV] = {
	[DEVFS_FULL] = { "full", 1, 7 },     [DEVFS_NULL] = { "null", 1, 3 }, [DEVFS_PTMX] = { "ptmx", 5, 2 },
	[DEVFS_RANDOM] = { "random", 1, 8 }, [DEVFS_TTY] = { "tty", 5, 0 },   [DEVFS_URANDOM] = { "urandom", 1, 9 },
	[DEVFS_ZERO] = { "zero", 1, 5 },
};

/* devtmpfs is its own file system: an anonymous device number. */
#define DEVFS_DEV_MINOR 6
#define DEVFS_DIR_INO 1
#define DEVFS_DT_DIR 4
#define DEVFS_DT_CHR 2
#define DEVFS_TMPFS_MAGIC 0x01021994

static long devfs_lookup_index(const char *name)
{
	for (int i = 0; i < DEVFS_NDEV; i++)
		if (strcmp(name, devfs_devs[i].name) == 0)
			return i;
	return -ENOENT;
}

static void devfs_common_attr(struct linux_statx *out)
{
	memset(out, 0, sizeof(*out));
	out->stx_mask = LINUX_STATX_BASIC_STATS | LINUX_STATX_BTIME;
	out->stx_blksize = 4096;
	out->stx_atime = out->stx_btime = out->stx_ctime = out->stx_mtime = vfs_boot_time();
	out->stx_dev_major = 0;
	out->stx_dev_minor = DEVFS_DEV_MINOR;
}

static long devfs_getattr_dir(struct linux_statx *out)
{
	devfs_common_attr(out);
	out->stx_nlink = 3;
	out->stx_mode = S_IFDIR | 0755;
	out->stx_ino = DEVFS_DIR_INO;
	out->stx_size = 60 + 20 * (DEVFS_NDEV + 2); /* what tmpfs reports, roughly */
	return 0;
}

static long devfs_getattr_dev(int dev, struct linux_statx *out)
{
	if (dev < 0 || dev >= DEVFS_NDEV)
		return -ENOENT;
	devfs_common_attr(out);
	out->stx_nlink = 1;
	out->stx_mode = S_IFCHR | 0666;
	out->stx_ino = (uint64_t)DEVFS_DIR_INO + 1 + (uint64_t)dev;
	out->stx_rdev_major = devfs_devs[dev].major;
	out->stx_rdev_minor = devfs_devs[dev].minor;
	return 0;
}

/* A file's priv points at its device's index here: no integer is ever
 * cast to a pointer in a service. */
static const int devfs_index[DEVFS_NDEV] = { 0, 1, 2, 3, 4, 5, 6 };

static int dev_of(const struct file *f)
{
	return *(const int *)f->priv;
}

static long devfs_dev_getattr(struct file *f, struct linux_statx *out)
{
	return devfs_getattr_dev(dev_of(f), out);
}

static long devfs_statfs(struct file *f, struct linux_statfs *out)
{
	vfs_synthetic_statfs(DEVFS_TMPFS_MAGIC, out);
	return 0;
}

/* Every memory device accepts any seek and stays at 0, as Linux's
 * null_lseek does; random devices too (noop_llseek keeps the position,
 * which for them is always 0). */
static long devfs_seek(struct file *f, int64_t off, int whence)
{
	f->pos = 0;
	return 0;
}

static long devfs_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	switch (dev_of(f)) {
	case DEVFS_NULL:
		return 0;
	case DEVFS_ZERO:
	case DEVFS_FULL:
		memset(buf, 0, len);
		return (long)len;
	case DEVFS_RANDOM:
	case DEVFS_URANDOM:
		return ward_host_getrandom(buf, len);
	}
	return -EINVAL;
}

static long devfs_write(struct file *f, const void *buf, size_t len, uint64_t *pos)
{
	switch (dev_of(f)) {
	case DEVFS_FULL:
		return -ENOSPC;
	case DEVFS_NULL:
	case DEVFS_ZERO:
	case DEVFS_RANDOM:
	case DEVFS_URANDOM:
		/* Writes to the random devices only mix entropy in: the
		 * sandbox has none to give the host. */
		return (long)len;
	}
	return -EINVAL;
}

static long devfs_mmap_fill(struct file *f, uint64_t memfile_off, uint64_t file_off, size_t len)
{
	if (dev_of(f) != DEVFS_ZERO)
		return -ENODEV;
	return ward_memfile_zero(memfile_off, len);
}

static const struct file_ops devfs_dev_ops = {
	.read_buf = devfs_read,
	.write_buf = devfs_write,
	.seek = devfs_seek,
	.getattr = devfs_dev_getattr,
	.mmap_fill = devfs_mmap_fill,
	.statfs = devfs_statfs,
};

static long devfs_open_dev(int dev, int flags, const char *path, struct file **out)
{
	if (dev < 0 || dev >= DEVFS_NDEV)
		return -ENOENT;
	/* The terminal devices are pty.c's. */
	if (dev == DEVFS_PTMX)
		return pty_open_master(flags, path, out);
	if (dev == DEVFS_TTY)
		return pty_open_ctty(flags, path, out);
	struct file *f = file_alloc(&devfs_dev_ops, (uint32_t)flags, path, (void *)&devfs_index[dev]);
	if (!f)
		return -ENOMEM;
	*out = f;
	return 0;
}

bool devfs_is_sink(const struct file *f)
{
	return f->ops == &devfs_dev_ops && dev_of(f) == DEVFS_NULL;
}

/* The directory: ".", "..", the devices, then "pts" and "shm" (where
 * /dev/pts and /dev/shm are mounted); the position is the index of the next
 * entry. */

#define DEVFS_NENT (2 + DEVFS_NDEV + 2)

static long devfs_dir_getattr(struct file *f, struct linux_statx *out)
{
	return devfs_getattr_dir(out);
}

static long devfs_dir_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	return -EISDIR;
}

static long devfs_dir_getdents(struct file *f, void *buf, size_t len)
{
	size_t used = 0;
	while (f->pos < DEVFS_NENT) {
		long r;
		int64_t next = (int64_t)f->pos + 1;
		if (f->pos < 2) {
			/* ".." is the root, whose number the host has; 2 is
			 * what most file systems give their root. */
			r = vfs_dirent_emit(buf, len, &used, f->pos == 0 ? DEVFS_DIR_INO : 2, next, DEVFS_DT_DIR,
					    f->pos == 0 ? "." : "..");
		} else if (f->pos < 2 + DEVFS_NDEV) {
			int dev = (int)f->pos - 2;
			r = vfs_dirent_emit(buf, len, &used, (uint64_t)DEVFS_DIR_INO + 1 + (uint64_t)dev, next,
					    DEVFS_DT_CHR, devfs_devs[dev].name);
		} else {
			r = vfs_dirent_emit(buf, len, &used, 1, next, DEVFS_DT_DIR,
					    f->pos == 2 + DEVFS_NDEV ? "pts" : "shm");
		}
		if (r < 0)
			return used ? (long)used : r;
		f->pos++;
	}
	return (long)used;
}

static long devfs_dir_seek(struct file *f, int64_t off, int whence)
{
	return vfs_generic_seek(f, off, whence, DEVFS_NENT);
}

static const struct file_ops devfs_dir_ops = {
	.read_buf = devfs_dir_read,
	.seek = devfs_dir_seek,
	.getattr = devfs_dir_getattr,
	.getdents_buf = devfs_dir_getdents,
	.statfs = devfs_statfs,
};

static const struct file_ops devfs_path_ops = {
	.statfs = devfs_statfs,
};

/* Vnodes: the directory has no priv, a device points at its index. */

static long devfs_vn_getattr(struct vnode *v, struct linux_statx *out)
{
	if (!v->priv)
		return devfs_getattr_dir(out);
	return devfs_getattr_dev(*(const int *)v->priv, out);
}

static long devfs_vn_statfs(struct vnode *v, struct linux_statfs *out)
{
	vfs_synthetic_statfs(DEVFS_TMPFS_MAGIC, out);
	return 0;
}

static long devfs_vn_open(struct vnode *v, int flags, const char *path, struct file **out)
{
	struct file *f;
	if (flags & O_PATH)
		f = file_alloc(&devfs_path_ops, (uint32_t)flags, path, NULL);
	else if (!v->priv)
		f = file_alloc(&devfs_dir_ops, (uint32_t)flags, path, NULL);
	else
		return devfs_open_dev(*(const int *)v->priv, flags, path, out);
	if (!f)
		return -ENOMEM;
	*out = f;
	return 0;
}

static long devfs_vn_lookup(struct vnode *dir, const char *name, struct vnode **out);

static const struct vnode_ops devfs_vn_ops = {
	.lookup = devfs_vn_lookup,
	.getattr = devfs_vn_getattr,
	.open_file = devfs_vn_open,
	.statfs = devfs_vn_statfs,
};

static long devfs_vn_lookup(struct vnode *dir, const char *name, struct vnode **out)
{
	long idx = devfs_lookup_index(name);
	if (idx < 0)
		return idx;
	struct vnode *v = vnode_alloc(&devfs_vn_ops, dir->mnt, S_IFCHR, (void *)&devfs_index[idx]);
	if (!v)
		return -ENOMEM;
	*out = v;
	return 0;
}

long devfs_root(struct vmount *mnt, struct vnode **out)
{
	struct vnode *v = vnode_alloc(&devfs_vn_ops, mnt, S_IFDIR, NULL);
	if (!v)
		return -ENOMEM;
	*out = v;
	return 0;
}
