/* hostfs: files and directories of the host root, read-only.
 *
 * A file holds one host handle: an O_PATH handle for O_PATH opens (stat,
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
	out->f_flags |= 0x1; /* ST_RDONLY: the guest sees the root read-only */
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

long hostfs_open(ward_hostfd_t h, const struct linux_statx *stx, int flags, const char *path, struct file **out)
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
	} else if (S_ISREG(type)) {
		ops = &hostfs_reg_ops;
		r = ward_host_reopen(h, WARD_HOST_READ, &fh);
	} else {
		return -EACCES;
	}
	if (r < 0)
		return r;
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

ward_hostfd_t hostfs_file_handle(const struct file *f)
{
	if (f->ops != &hostfs_path_ops)
		return WARD_HOSTFD_NONE;
	return ((const struct hostfs_file *)f->priv)->h;
}
