/* File locks: flock(2) and fcntl(2)'s lock commands (F_GETLK, F_SETLK,
 * F_SETLKW and their F_OFD_ twins); the locks themselves are src/fs/locks.c. */
#include "sentry/service.h"

#include "fs/locks.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

/* struct flock of x86-64 (the same as flock64 there). */
struct linux_flock {
	int16_t l_type;
	int16_t l_whence;
	int64_t l_start;
	int64_t l_len;
	int32_t l_pid;
	int32_t pad;
};
_Static_assert(sizeof(struct linux_flock) == 32, "struct flock");
_Static_assert(offsetof(struct linux_flock, l_pid) == 24, "struct flock l_pid");

#define LOCK_F_GETLK 5
#define LOCK_F_SETLK 6
#define LOCK_F_SETLKW 7
#define LOCK_F_OFD_GETLK 36
#define LOCK_F_OFD_SETLK 37
#define LOCK_F_OFD_SETLKW 38

/* flock_to_posix_lock: the range from l_whence, l_start and l_len. */
static long flock_range(struct file *f, const struct linux_flock *fl, struct lock_range *r)
{
	int64_t base;
	switch (fl->l_whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)f->pos;
		break;
	case SEEK_END: {
		struct linux_statx stx;
		long e = file_getattr(f, &stx);
		if (e < 0)
			return e;
		base = (int64_t)stx.stx_size;
		break;
	}
	default:
		return -EINVAL;
	}
	if (fl->l_start > 0 && base > INT64_MAX - fl->l_start)
		return -EOVERFLOW;
	int64_t start = base + fl->l_start;
	if (start < 0)
		return -EINVAL;
	int64_t end;
	if (fl->l_len > 0) {
		if (fl->l_len - 1 > INT64_MAX - start)
			return -EOVERFLOW;
		end = start + fl->l_len - 1;
	} else if (fl->l_len < 0) {
		if (start + fl->l_len < 0)
			return -EINVAL;
		end = start - 1;
		start += fl->l_len;
	} else {
		end = INT64_MAX;
	}
	if (fl->l_type != F_RDLCK && fl->l_type != F_WRLCK && fl->l_type != F_UNLCK)
		return -EINVAL;
	r->type = fl->l_type;
	r->start = start;
	r->end = end;
	r->pid = 0;
	return 0;
}

long fcntl_lock(struct task *t, struct file *f, unsigned int cmd, uint64_t arg)
{
	bool ofd = cmd >= LOCK_F_OFD_GETLK;
	struct linux_flock fl;
	struct lock_range r;
	long e = WARD_COPY_IN_OBJ(task_as(t), &fl, gaddr(arg));
	if (e < 0)
		return e;
	if (cmd == LOCK_F_GETLK || cmd == LOCK_F_OFD_GETLK) {
		if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK)
			return -EINVAL;
		e = flock_range(f, &fl, &r);
		if (e < 0)
			return e;
		if (ofd && fl.l_pid != 0)
			return -EINVAL;
		locks_posix_get(f, t->files, ofd, &r);
		fl.l_type = (int16_t)r.type;
		if (r.type != F_UNLCK) {
			fl.l_whence = SEEK_SET;
			fl.l_start = r.start;
			fl.l_len = r.end == INT64_MAX ? 0 : r.end - r.start + 1;
			fl.l_pid = r.pid;
		}
		return WARD_COPY_OUT_OBJ(task_as(t), gaddr(arg), &fl);
	}
	e = flock_range(f, &fl, &r);
	if (e < 0)
		return e;
	int acc = (int)(f->flags & O_ACCMODE);
	if ((r.type == F_RDLCK && acc == O_WRONLY) || (r.type == F_WRLCK && acc == O_RDONLY))
		return -EBADF;
	if (ofd && fl.l_pid != 0)
		return -EINVAL;
	bool wait = cmd == LOCK_F_SETLKW || cmd == LOCK_F_OFD_SETLKW;
	return locks_posix_set(t, f, t->files, t->tgid, ofd, &r, wait);
}

/* flock(2) */
long sys_flock(struct task *t, const struct syscall_args *args)
{
	unsigned int cmd = arg_uint(args, 1);
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	long r;
	unsigned int op = cmd & ~4U; /* LOCK_NB */
	if (f->flags & O_PATH)
		r = -EBADF;
	else if (op != 1 && op != 2 && op != 8)
		r = -EINVAL;
	else
		r = locks_flock(t, f, (int)op, cmd & 4U);
	file_put(f);
	return r;
}
