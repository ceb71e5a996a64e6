/* read, write, readv, writev, pread64, pwrite64, lseek.
 *
 * Bytes move between the guest and a file through a bounded bounce buffer
 * of the sentry's (never one sized by the guest): a read fills a chunk
 * from the file and copies it out; a copy that stops short (a buffer that
 * turns bad part way) ends the call with the bytes that made it, and the
 * file position only counts those, as Linux's read would. */
#include "sentry/service.h"

#include "fs/inotify.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define RW_CHUNK (64UL * 1024)

/* Looks fd up for reading (want_read) or writing. The reference is the
 * caller's. */
static long rw_get(struct task *t, int fd, bool want_read, struct file **out)
{
	struct file *f = fd_get(t, fd);
	if (!f)
		return -EBADF;
	int acc = (int)(f->flags & O_ACCMODE);
	bool ok = !(f->flags & O_PATH) &&
		  (want_read ? (acc == O_RDONLY || acc == O_RDWR) : (acc == O_WRONLY || acc == O_RDWR));
	if (!ok) {
		file_put(f);
		return -EBADF;
	}
	if (want_read ? !f->ops->read_buf : !f->ops->write_buf) {
		file_put(f);
		return -EINVAL;
	}
	*out = f;
	return 0;
}

/* Reads up to len bytes at *pos into guest buf. Returns bytes moved or
 * -errno (only when none moved). *done is set when the call must stop
 * (short read or short copy). */
static long rw_read_into(struct task *t, struct file *f, char *bounce, gaddr_t buf, uint64_t len, uint64_t *pos,
			 bool *done)
{
	uint64_t total = 0;
	*done = false;
	while (total < len) {
		size_t chunk = (size_t)WARD_MIN(len - total, RW_CHUNK);
		uint64_t p = *pos;
		long n = f->ops->read_buf(f, bounce, chunk, &p);
		if (n < 0) {
			*done = true;
			return total ? (long)total : n;
		}
		if (n == 0) {
			*done = true;
			break;
		}
		long c = ward_copy_out_partial(task_as(t), gaddr_add(buf, total), bounce, (size_t)n);
		if (c < 0) {
			*done = true;
			return total ? (long)total : c;
		}
		*pos += (uint64_t)c;
		total += (uint64_t)c;
		/* A stream returns what it has: asking again could block. */
		if ((size_t)c < (size_t)n || (size_t)n < chunk || fd_file_is_stream(f)) {
			*done = true;
			break;
		}
	}
	return (long)total;
}

/* Writes len bytes of guest buf at *pos. Same conventions. */
static long rw_write_from(struct task *t, struct file *f, char *bounce, gaddr_t buf, uint64_t len, uint64_t *pos,
			  bool *done)
{
	uint64_t total = 0;
	*done = false;
	while (total < len) {
		size_t chunk = (size_t)WARD_MIN(len - total, RW_CHUNK);
		/* A sink never reads the bytes, so Linux never faults on
		 * them: write(devnull, (void *)1, n) is n. */
		long c = devfs_is_sink(f) ? 0 : ward_copy_in(task_as(t), bounce, gaddr_add(buf, total), chunk);
		if (c < 0) {
			*done = true;
			return total ? (long)total : c;
		}
		long n = f->ops->write_buf(f, bounce, chunk, pos);
		if (n < 0) {
			*done = true;
			return total ? (long)total : n;
		}
		total += (uint64_t)n;
		if ((size_t)n < chunk) {
			*done = true;
			break;
		}
	}
	return (long)total;
}

static char *rw_bounce(uint64_t len)
{
	return malloc(WARD_MAX(WARD_MIN(len, RW_CHUNK), 1));
}

/* The most one call on a stream (pipe, socket, tty) moves at once: a
 * quarter of it for reads. */
#define RW_STREAM_CHUNK (4UL * 1024 * 1024)

/* read/write/readv/writev on a stream: one read_buf call for all the
 * iovecs (a stream returns what it has), and writes in calls of up to
 * RW_STREAM_CHUNK bytes, so that a datagram or a packet written with
 * writev stays one message. */
static long rw_stream_vec(struct task *t, struct file *f, const struct ward_iovec *vecs, long cnt, uint64_t total_len,
			  bool is_read)
{
	if (f->ops->rw_vec)
		return f->ops->rw_vec(t, f, vecs, cnt, total_len, is_read);
	size_t cap = (size_t)WARD_MIN(total_len, is_read ? RW_STREAM_CHUNK / 4 : RW_STREAM_CHUNK);
	char *b = malloc(WARD_MAX(cap, 1));
	if (!b)
		return -ENOMEM;
	uint64_t pos = 0, done = 0;
	long r = 0;
	if (is_read) {
		r = f->ops->read_buf(f, b, cap, &pos);
		for (long i = 0; r > 0 && i < cnt && done < (uint64_t)r; i++) {
			size_t k = (size_t)WARD_MIN(vecs[i].len, (uint64_t)r - done);
			if (k && ward_copy_out(task_as(t), vecs[i].base, b + done, k) < 0) {
				r = done ? (long)done : -EFAULT;
				break;
			}
			done += k;
		}
		free(b);
		return r;
	}
	long vi = 0;
	uint64_t voff = 0;
	while (done < total_len) {
		size_t n = (size_t)WARD_MIN(total_len - done, (uint64_t)cap), got = 0;
		while (got < n) {
			size_t k = (size_t)WARD_MIN(n - got, vecs[vi].len - voff);
			if (k && ward_copy_in(task_as(t), b + got, gaddr_add(vecs[vi].base, voff), k) < 0) {
				free(b);
				return done ? (long)done : -EFAULT;
			}
			got += k;
			voff += k;
			if (voff == vecs[vi].len) {
				vi++;
				voff = 0;
			}
		}
		r = f->ops->write_buf(f, b, n, &pos);
		if (r < 0)
			break;
		done += (uint64_t)r;
		if ((size_t)r < n)
			break;
	}
	free(b);
	return done ? (long)done : r;
}

/* The file offset a plain read or write starts from: f->pos, or the end
 * for O_APPEND writes. */
/* inotify hears of every read and write that moved bytes (IN_ACCESS,
 * IN_MODIFY), as vfs_read and vfs_write report them. */
static void rw_notify(struct file *f, bool is_read, long r)
{
	if (r > 0 && inotify_active())
		inotify_file_event(f, is_read ? WARD_IN_ACCESS : WARD_IN_MODIFY);
}

static long rw_common(struct task *t, int fd, gaddr_t buf, uint64_t len, bool is_read, bool positional, int64_t off)
{
	struct file *f;
	long r;

	if (positional && off < 0)
		return -EINVAL;
	r = rw_get(t, fd, is_read, &f);
	if (r < 0)
		return r;
	if (positional && (!f->ops->seek || fd_file_is_stream(f))) {
		file_put(f);
		return -ESPIPE;
	}
	len = WARD_MIN(len, WARD_MAX_RW_COUNT);
	if (len == 0) {
		/* Nothing moves, but a directory still answers EISDIR. */
		uint64_t p = positional ? (uint64_t)off : f->pos;
		char none;
		r = is_read ? f->ops->read_buf(f, &none, 0, &p) : 0;
		file_put(f);
		return r < 0 ? r : 0;
	}
	if (fd_file_is_stream(f)) {
		struct ward_iovec v = { buf, len };
		r = rw_stream_vec(t, f, &v, 1, len, is_read);
		rw_notify(f, is_read, r);
		file_put(f);
		return r;
	}
	char *bounce = rw_bounce(len);
	if (!bounce) {
		file_put(f);
		return -ENOMEM;
	}
	uint64_t pos = positional ? (uint64_t)off : f->pos;
	bool done;
	if (is_read)
		r = rw_read_into(t, f, bounce, buf, len, &pos, &done);
	else
		r = rw_write_from(t, f, bounce, buf, len, &pos, &done);
	if (!positional)
		f->pos = pos;
	free(bounce);
	rw_notify(f, is_read, r);
	file_put(f);
	return r;
}

/* read(2) */
long sys_read(struct task *t, const struct syscall_args *args)
{
	return rw_common(t, arg_int(args, 0), arg_addr(args, 1), arg_u64(args, 2), true, false, 0);
}

/* write(2) */
long sys_write(struct task *t, const struct syscall_args *args)
{
	return rw_common(t, arg_int(args, 0), arg_addr(args, 1), arg_u64(args, 2), false, false, 0);
}

/* pread64(2) */
long sys_pread64(struct task *t, const struct syscall_args *args)
{
	return rw_common(t, arg_int(args, 0), arg_addr(args, 1), arg_u64(args, 2), true, true, arg_long(args, 3));
}

/* pwrite64(2) */
long sys_pwrite64(struct task *t, const struct syscall_args *args)
{
	return rw_common(t, arg_int(args, 0), arg_addr(args, 1), arg_u64(args, 2), false, true, arg_long(args, 3));
}

/* readv/writev, and preadv/pwritev when positional (at off, leaving the
 * file offset alone). */
static long rw_vec(struct task *t, int fd, gaddr_t iov, long iovcnt, bool is_read, bool positional, int64_t off)
{
	struct file *f;
	if (positional && off < 0)
		return -EINVAL;
	long r = rw_get(t, fd, is_read, &f);
	if (r < 0)
		return r;
	if (positional && (!f->ops->seek || fd_file_is_stream(f))) {
		file_put(f);
		return -ESPIPE;
	}
	if (iovcnt < 0 || iovcnt > WARD_UIO_MAXIOV) {
		file_put(f);
		return -EINVAL;
	}
	struct ward_iovec *vecs = calloc((size_t)WARD_MAX(iovcnt, 1), sizeof(*vecs));
	if (!vecs) {
		file_put(f);
		return -ENOMEM;
	}
	long total_len = ward_iovec_import(task_as(t), iov, iovcnt, vecs);
	if (total_len < 0) {
		free(vecs);
		file_put(f);
		return total_len;
	}
	if (fd_file_is_stream(f) && total_len > 0) {
		long r2 = rw_stream_vec(t, f, vecs, iovcnt, (uint64_t)total_len, is_read);
		free(vecs);
		rw_notify(f, is_read, r2);
		file_put(f);
		return r2;
	}
	char *bounce = rw_bounce((uint64_t)total_len);
	if (!bounce) {
		free(vecs);
		file_put(f);
		return -ENOMEM;
	}
	uint64_t pos = positional ? (uint64_t)off : f->pos;
	long total = 0;
	for (long i = 0; i < iovcnt; i++) {
		if (!vecs[i].len)
			continue;
		bool done;
		long n = is_read ? rw_read_into(t, f, bounce, vecs[i].base, vecs[i].len, &pos, &done)
				 : rw_write_from(t, f, bounce, vecs[i].base, vecs[i].len, &pos, &done);
		if (n < 0) {
			if (!total)
				total = n;
			break;
		}
		total += n;
		if (done)
			break;
	}
	if (!positional)
		f->pos = pos;
	free(bounce);
	free(vecs);
	rw_notify(f, is_read, total);
	file_put(f);
	return total;
}

/* readv(2) */
long sys_readv(struct task *t, const struct syscall_args *args)
{
	return rw_vec(t, arg_int(args, 0), arg_addr(args, 1), (long)arg_int(args, 2), true, false, 0);
}

/* writev(2) */
long sys_writev(struct task *t, const struct syscall_args *args)
{
	return rw_vec(t, arg_int(args, 0), arg_addr(args, 1), (long)arg_int(args, 2), false, false, 0);
}

/* preadv(2): the offset comes in two halves (pos_l, pos_h), which on
 * 64-bit is simply pos_l. */
long sys_preadv(struct task *t, const struct syscall_args *args)
{
	return rw_vec(t, arg_int(args, 0), arg_addr(args, 1), (long)arg_int(args, 2), true, true, arg_long(args, 3));
}

/* pwritev(2) */
long sys_pwritev(struct task *t, const struct syscall_args *args)
{
	return rw_vec(t, arg_int(args, 0), arg_addr(args, 1), (long)arg_int(args, 2), false, true, arg_long(args, 3));
}

/* preadv2/pwritev2: offset -1 means the file offset; the RWF_* hints are
 * refused (EOPNOTSUPP), as Linux does for flags a file cannot honour. */
static long rw_vec2(struct task *t, const struct syscall_args *args, bool is_read)
{
	int64_t off = arg_long(args, 3);
	if (arg_int(args, 5) != 0)
		return -EOPNOTSUPP;
	return rw_vec(t, arg_int(args, 0), arg_addr(args, 1), (long)arg_int(args, 2), is_read, off != -1, off);
}

long sys_preadv2(struct task *t, const struct syscall_args *args)
{
	return rw_vec2(t, args, true);
}

long sys_pwritev2(struct task *t, const struct syscall_args *args)
{
	return rw_vec2(t, args, false);
}

/* lseek(2) */
long sys_lseek(struct task *t, const struct syscall_args *args)
{
	int fd = arg_int(args, 0);
	int64_t off = arg_long(args, 1);
	unsigned int whence = arg_uint(args, 2);

	struct file *f = fd_get(t, fd);
	if (!f)
		return -EBADF;
	long r;
	if (f->flags & O_PATH)
		r = -EBADF;
	else if (whence > SEEK_HOLE)
		r = -EINVAL;
	else if (!f->ops->seek)
		r = -ESPIPE;
	else
		r = f->ops->seek(f, off, (int)whence);
	file_put(f);
	return r;
}

/* fadvise64(2): advice is a hint, and this root has no page cache of its
 * own to act on; the arguments are still checked as Linux checks them. */
long sys_fadvise64(struct task *t, const struct syscall_args *args)
{
	int advice = arg_int(args, 3);
	if (advice < POSIX_FADV_NORMAL || advice > POSIX_FADV_NOREUSE)
		return -EINVAL;
	if (arg_long(args, 2) < 0)
		return -EINVAL;
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	long r = fd_file_is_stream(f) ? -ESPIPE : 0;
	file_put(f);
	return r;
}
