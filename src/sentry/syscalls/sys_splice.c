/* sendfile, copy_file_range, splice, tee and vmsplice: data moved between
 * the sentry's files inside the sentry, through a bounded buffer, with the
 * argument rules of fs/read_write.c and fs/splice.c. Pipe-to-pipe moves
 * and tee work on the rings themselves (src/fs/pipe.c). */
#include "sentry/service.h"

#include "fs/pipe.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define XFER_CHUNK (64UL * 1024)

#define SPLICE_F_MOVE_ 1U
#define SPLICE_F_NONBLOCK_ 2U
#define SPLICE_F_MORE_ 4U
#define SPLICE_F_GIFT_ 8U
#define SPLICE_F_ALL_ (SPLICE_F_MOVE_ | SPLICE_F_NONBLOCK_ | SPLICE_F_MORE_ | SPLICE_F_GIFT_)

static bool can_read(const struct file *f)
{
	int acc = (int)(f->flags & O_ACCMODE);
	return !(f->flags & O_PATH) && (acc == O_RDONLY || acc == O_RDWR);
}

static bool can_write(const struct file *f)
{
	int acc = (int)(f->flags & O_ACCMODE);
	return !(f->flags & O_PATH) && (acc == O_WRONLY || acc == O_RDWR);
}

/* Files that can be read or written at an offset (FMODE_PREAD). */
static bool seekable(const struct file *f)
{
	return f->ops->seek && !fd_file_is_stream(f);
}

/* One read or write on a pipe, without sleeping when nonblock. */
static long pipe_io(struct file *f, void *buf, size_t len, bool nonblock, bool is_read)
{
	uint32_t saved = f->flags;
	if (nonblock)
		f->flags |= O_NONBLOCK;
	uint64_t pos = 0;
	long r = is_read ? f->ops->read_buf(f, buf, len, &pos) : f->ops->write_buf(f, buf, len, &pos);
	f->flags = saved;
	return r;
}

/* Moves up to len bytes from in (at *in_pos; a stream reads once) to out
 * (at *out_pos). Positions advance by what reached out. nb_in and nb_out
 * make pipe ends not wait. */
static long xfer(struct file *in, uint64_t *in_pos, struct file *out, uint64_t *out_pos, size_t len, bool nb_in,
		 bool nb_out)
{
	bool in_stream = !seekable(in);
	cleanup_free char *buf = malloc(WARD_MAX(WARD_MIN(len, XFER_CHUNK), 1));
	if (!buf)
		return -ENOMEM;
	size_t total = 0;
	while (total < len) {
		size_t chunk = WARD_MIN(len - total, XFER_CHUNK);
		if (pipe_is(out)) {
			/* Take no more than the pipe holds now when it may not
			 * wait, so that nothing read is dropped. */
			size_t room = pipe_space(out);
			if (nb_out && !room)
				return total ? (long)total : -EAGAIN;
			if (nb_out)
				chunk = WARD_MIN(chunk, room);
		}
		uint64_t p = *in_pos;
		long n = pipe_is(in) ? pipe_io(in, buf, chunk, nb_in, true) : in->ops->read_buf(in, buf, chunk, &p);
		if (n <= 0)
			return total ? (long)total : n;
		size_t wrote = 0;
		while (wrote < (size_t)n) {
			long w = pipe_is(out) ? pipe_io(out, buf + wrote, (size_t)n - wrote, nb_out, false)
					      : out->ops->write_buf(out, buf + wrote, (size_t)n - wrote, out_pos);
			if (w <= 0) {
				if (!total && !wrote)
					return w < 0 ? w : -EIO;
				break;
			}
			wrote += (size_t)w;
		}
		if (!in_stream)
			*in_pos += wrote;
		total += wrote;
		if (wrote < (size_t)n || (size_t)n < chunk || in_stream)
			break;
	}
	return (long)total;
}

static long get_off(struct task *t, gaddr_t addr, int64_t *out)
{
	return WARD_COPY_IN_OBJ(task_as(t), out, addr);
}

/* sendfile(2) */
long sys_sendfile(struct task *t, const struct syscall_args *args)
{
	int out_fd = arg_int(args, 0), in_fd = arg_int(args, 1);
	gaddr_t offp = arg_addr(args, 2);
	size_t count = (size_t)WARD_MIN(arg_u64(args, 3), WARD_MAX_RW_COUNT);
	struct file *in = fd_get(t, in_fd), *out = NULL;
	long r = 0;
	int64_t off = 0;
	if (!in || !can_read(in))
		r = -EBADF;
	if (r >= 0 && !gaddr_is_null(offp)) {
		r = get_off(t, offp, &off);
		if (r >= 0 && !seekable(in))
			r = -ESPIPE;
	} else if (r >= 0) {
		off = (int64_t)in->pos;
	}
	if (r >= 0 && off < 0)
		r = -EINVAL;
	if (r >= 0 && !(out = fd_get(t, out_fd)))
		r = -EBADF;
	if (r >= 0 && !can_write(out))
		r = -EBADF;
	if (r >= 0 && !pipe_is(out) && (out->flags & O_APPEND))
		r = -EINVAL;
	if (r >= 0 && (!in->ops->read_buf || !out->ops->write_buf || pipe_is(in)))
		r = -EINVAL;
	if (r >= 0 && count) {
		uint64_t pos = (uint64_t)off, opos = out->pos;
		bool nb = (in->flags & O_NONBLOCK) || (pipe_is(out) && (out->flags & O_NONBLOCK));
		r = xfer(in, &pos, out, &opos, count, nb, nb);
		if (!pipe_is(out) && r > 0)
			out->pos = opos;
		if (r > 0) {
			if (!gaddr_is_null(offp)) {
				int64_t np = (int64_t)pos;
				long c = WARD_COPY_OUT_OBJ(task_as(t), offp, &np);
				if (c < 0)
					r = c;
			} else {
				in->pos = pos;
			}
		}
	}
	file_put(in);
	file_put(out);
	return r;
}

/* copy_file_range(2) */
long sys_copy_file_range(struct task *t, const struct syscall_args *args)
{
	gaddr_t offin = arg_addr(args, 1), offout = arg_addr(args, 3);
	size_t len = (size_t)arg_u64(args, 4);
	if (arg_uint(args, 5))
		return -EINVAL;
	struct file *in = fd_get(t, arg_int(args, 0));
	if (!in)
		return -EBADF;
	struct file *out = fd_get(t, arg_int(args, 2));
	if (!out) {
		file_put(in);
		return -EBADF;
	}
	int64_t pin = (int64_t)in->pos, pout = (int64_t)out->pos;
	long r = 0;
	if (!gaddr_is_null(offin))
		r = get_off(t, offin, &pin);
	if (r >= 0 && !gaddr_is_null(offout))
		r = get_off(t, offout, &pout);
	struct linux_statx si, so;
	if (r >= 0 && (in->flags & O_PATH || out->flags & O_PATH))
		r = -EBADF;
	if (r >= 0)
		r = file_getattr(in, &si);
	if (r >= 0)
		r = file_getattr(out, &so);
	/* generic_file_rw_checks, then the offsets, then the file systems. */
	if (r >= 0 && (S_ISDIR(si.stx_mode) || S_ISDIR(so.stx_mode)))
		r = -EISDIR;
	else if (r >= 0 && (!S_ISREG(si.stx_mode) || !S_ISREG(so.stx_mode)))
		r = -EINVAL;
	else if (r >= 0 && (!can_read(in) || !can_write(out) || (out->flags & O_APPEND)))
		r = -EBADF;
	else if (r >= 0 && (si.stx_dev_major != so.stx_dev_major || si.stx_dev_minor != so.stx_dev_minor))
		r = -EXDEV;
	/* Offsets that are negative or would wrap (as loff_t) overflow. */
	if (r >= 0 && (pin < 0 || pout < 0 || (uint64_t)pin + len > INT64_MAX || (uint64_t)pout + len > INT64_MAX))
		r = -EOVERFLOW;
	if (r < 0) {
		file_put(in);
		file_put(out);
		return r;
	}
	/* Shortened to the end of the source, and no overlap within one
	 * file. */
	len = (uint64_t)pin >= si.stx_size ? 0 : (size_t)WARD_MIN((uint64_t)len, si.stx_size - (uint64_t)pin);
	len = WARD_MIN(len, WARD_MAX_RW_COUNT);
	if (si.stx_ino == so.stx_ino && (uint64_t)pout + len > (uint64_t)pin && (uint64_t)pout < (uint64_t)pin + len)
		r = -EINVAL;
	if (r >= 0 && len) {
		uint64_t a = (uint64_t)pin, b = (uint64_t)pout;
		r = xfer(in, &a, out, &b, len, false, false);
		if (r > 0) {
			int64_t na = (int64_t)a, nb = (int64_t)b;
			long c = 0;
			if (!gaddr_is_null(offin))
				c = WARD_COPY_OUT_OBJ(task_as(t), offin, &na);
			else
				in->pos = a;
			if (c >= 0 && !gaddr_is_null(offout))
				c = WARD_COPY_OUT_OBJ(task_as(t), offout, &nb);
			else if (c >= 0)
				out->pos = b;
			if (c < 0)
				r = c;
		}
	}
	file_put(in);
	file_put(out);
	return r;
}

/* splice(2) */
long sys_splice(struct task *t, const struct syscall_args *args)
{
	gaddr_t offin = arg_addr(args, 1), offout = arg_addr(args, 3);
	size_t len = (size_t)WARD_MIN(arg_u64(args, 4), WARD_MAX_RW_COUNT);
	unsigned int flags = arg_uint(args, 5);
	if (!len)
		return 0;
	if (flags & ~SPLICE_F_ALL_)
		return -EINVAL;
	struct file *in = fd_get(t, arg_int(args, 0));
	if (!in)
		return -EBADF;
	struct file *out = fd_get(t, arg_int(args, 2));
	if (!out) {
		file_put(in);
		return -EBADF;
	}
	bool ip = pipe_is(in), op = pipe_is(out);
	bool nb = flags & SPLICE_F_NONBLOCK_;
	int64_t off = 0;
	long r = 0;
	if ((ip && !gaddr_is_null(offin)) || (op && !gaddr_is_null(offout)))
		r = -ESPIPE;
	else if (!can_read(in) || !can_write(out))
		r = -EBADF;
	else if (!ip && !op)
		r = -EINVAL;
	if (r < 0)
		goto out;
	if (ip && op) {
		if (pipe_same(in, out))
			r = -EINVAL;
		else
			r = pipe_to_pipe(in, out, len, nb || ((in->flags | out->flags) & O_NONBLOCK), true);
		goto out;
	}
	/* One end a pipe, the other a file or socket at an offset or its
	 * position. */
	struct file *f = ip ? out : in;
	gaddr_t offp = ip ? offout : offin;
	if (!gaddr_is_null(offp)) {
		if (!seekable(f)) {
			r = -EINVAL;
			goto out;
		}
		r = get_off(t, offp, &off);
		if (r < 0)
			goto out;
	} else {
		off = (int64_t)f->pos;
	}
	if (ip && (out->flags & O_APPEND)) {
		r = -EINVAL;
		goto out;
	}
	if (off < 0) {
		r = -EINVAL;
		goto out;
	}
	if (ip ? !out->ops->write_buf : !in->ops->read_buf) {
		r = -EINVAL;
		goto out;
	}
	uint64_t pos = (uint64_t)off;
	if (ip) {
		r = xfer(in, &(uint64_t){ 0 }, out, &pos, len, nb || (in->flags & O_NONBLOCK), false);
	} else {
		uint64_t dummy = 0;
		r = xfer(in, &pos, out, &dummy, len, false, nb || (out->flags & O_NONBLOCK));
	}
	if (r > 0) {
		if (!gaddr_is_null(offp)) {
			int64_t np = (int64_t)pos;
			long c = WARD_COPY_OUT_OBJ(task_as(t), offp, &np);
			if (c < 0)
				r = c;
		} else if (seekable(f)) {
			f->pos = pos;
		}
	}
out:
	file_put(in);
	file_put(out);
	return r;
}

/* tee(2) */
long sys_tee(struct task *t, const struct syscall_args *args)
{
	size_t len = (size_t)WARD_MIN(arg_u64(args, 2), WARD_MAX_RW_COUNT);
	unsigned int flags = arg_uint(args, 3);
	if (flags & ~SPLICE_F_ALL_)
		return -EINVAL;
	if (!len)
		return 0;
	struct file *in = fd_get(t, arg_int(args, 0));
	if (!in)
		return -EBADF;
	struct file *out = fd_get(t, arg_int(args, 1));
	if (!out) {
		file_put(in);
		return -EBADF;
	}
	long r;
	if (!can_read(in) || !can_write(out))
		r = -EBADF;
	else if (!pipe_is(in) || !pipe_is(out) || pipe_same(in, out))
		r = -EINVAL;
	else
		r = pipe_to_pipe(in, out, len, (flags & SPLICE_F_NONBLOCK_) || ((in->flags | out->flags) & O_NONBLOCK),
				 false);
	file_put(in);
	file_put(out);
	return r;
}

/* vmsplice(2): into a pipe's write end from guest memory, or out of its
 * read end into guest memory. */
long sys_vmsplice(struct task *t, const struct syscall_args *args)
{
	long cnt = (long)arg_u64(args, 2);
	unsigned int flags = arg_uint(args, 3);
	if (flags & ~SPLICE_F_ALL_)
		return -EINVAL;
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	bool to_pipe = can_write(f);
	long r = 0;
	if (!to_pipe && !can_read(f))
		r = -EBADF;
	if (r >= 0 && (cnt < 0 || cnt > WARD_UIO_MAXIOV))
		r = -EINVAL;
	struct ward_iovec *vecs = r >= 0 ? calloc((size_t)WARD_MAX(cnt, 1), sizeof(*vecs)) : NULL;
	if (r >= 0 && !vecs)
		r = -ENOMEM;
	long total = r >= 0 ? ward_iovec_import(task_as(t), arg_addr(args, 1), cnt, vecs) : 0;
	if (r >= 0 && total < 0)
		r = total;
	if (r >= 0 && total && !pipe_is(f))
		r = -EBADF;
	if (r < 0 || !total) {
		free(vecs);
		file_put(f);
		return r;
	}
	bool nb = (flags & SPLICE_F_NONBLOCK_) || (f->flags & O_NONBLOCK);
	size_t cap = (size_t)WARD_MIN((uint64_t)total, XFER_CHUNK * 16);
	char *buf = malloc(cap);
	if (!buf) {
		free(vecs);
		file_put(f);
		return -ENOMEM;
	}
	size_t done = 0;
	if (to_pipe) {
		/* Gather what fits in one buffer, then one write. */
		size_t got = 0;
		for (long i = 0; i < cnt && got < cap; i++) {
			size_t k = (size_t)WARD_MIN(vecs[i].len, (uint64_t)(cap - got));
			if (k && ward_copy_in(task_as(t), buf + got, vecs[i].base, k) < 0) {
				r = -EFAULT;
				break;
			}
			got += k;
		}
		if (r >= 0)
			r = pipe_io(f, buf, got, nb, false);
	} else {
		r = pipe_io(f, buf, cap, nb, true);
		for (long i = 0; r > 0 && i < cnt && done < (size_t)r; i++) {
			size_t k = (size_t)WARD_MIN(vecs[i].len, (uint64_t)((size_t)r - done));
			if (k && ward_copy_out(task_as(t), vecs[i].base, buf + done, k) < 0) {
				r = done ? (long)done : -EFAULT;
				break;
			}
			done += k;
		}
	}
	free(buf);
	free(vecs);
	file_put(f);
	return r;
}
