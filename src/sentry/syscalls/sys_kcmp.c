/* Calls that look into another process of the sandbox under the ptrace
 * access rule: kcmp, process_vm_readv, process_vm_writev. */
#include "sentry/service.h"

#include "fs/anonfd.h"
#include "fs/vfs.h"
#include "sentry/kernel/creds.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define CAP_SYS_PTRACE_ 19

/* __ptrace_may_access with the REALCREDS modes: the caller's real ids must
 * be all of the target's, and the target dumpable, or the caller holds
 * CAP_SYS_PTRACE. A thread of the caller's own process always passes. */
static bool ptrace_may_access(struct task *t, struct task *target)
{
	if (target->proc == t->proc)
		return true;
	const struct creds *c = &t->creds, *tc = &target->creds;
	bool cap = creds_capable(c, CAP_SYS_PTRACE_);
	bool same = c->uid == tc->uid && c->uid == tc->euid && c->uid == tc->suid && c->gid == tc->gid &&
		    c->gid == tc->egid && c->gid == tc->sgid;
	if (!same && !cap)
		return false;
	return !target->not_dumpable || cap;
}

/* --- kcmp(2) --- */

#define KCMP_FILE 0
#define KCMP_VM 1
#define KCMP_FILES 2
#define KCMP_FS 3
#define KCMP_SIGHAND 4
#define KCMP_IO 5
#define KCMP_SYSVSEM 6
#define KCMP_EPOLL_TFD 7

struct kcmp_epoll_slot {
	uint32_t efd, tfd, toff;
};

/* kcmp_ptr: 0 when equal, else 1 or 2 by an order that says nothing of
 * where the sentry keeps its objects (Linux obfuscates with random
 * cookies; this mixes with a per-sentry odd multiplier). */
static long kcmp_ptr(const void *a, const void *b)
{
	static uint64_t mul;
	if (!mul)
		mul = ((uint64_t)ward_now_ns() * 0x9e3779b97f4a7c15ULL) | 1;
	uint64_t x = (uint64_t)(uintptr_t)a * mul, y = (uint64_t)(uintptr_t)b * mul;
	return x == y ? 0 : x < y ? 1 : 2;
}

/* kcmp(2). KCMP_IO compares the tasks: each has an I/O context of its own
 * (CLONE_IO is not shared). */
long sys_kcmp(struct task *t, const struct syscall_args *args)
{
	struct task *t1 = task_by_tid(arg_int(args, 0)), *t2 = task_by_tid(arg_int(args, 1));
	int type = arg_int(args, 2);
	uint64_t idx1 = arg_u64(args, 3), idx2 = arg_u64(args, 4);
	if (!t1 || !t2)
		return -ESRCH;
	if (!ptrace_may_access(t, t1) || !ptrace_may_access(t, t2))
		return -EPERM;
	switch (type) {
	case KCMP_FILE: {
		struct file *f1 = idx1 <= INT_MAX && t1->files ? fd_get(t1, (int)idx1) : NULL;
		struct file *f2 = idx2 <= INT_MAX && t2->files ? fd_get(t2, (int)idx2) : NULL;
		long r = f1 && f2 ? kcmp_ptr(f1, f2) : -EBADF;
		if (f1)
			file_put(f1);
		if (f2)
			file_put(f2);
		return r;
	}
	case KCMP_VM:
		return kcmp_ptr(t1->mm, t2->mm);
	case KCMP_FILES:
		return kcmp_ptr(t1->files, t2->files);
	case KCMP_FS:
		return kcmp_ptr(t1->fs, t2->fs);
	case KCMP_SIGHAND:
		return kcmp_ptr(t1->proc->sighand, t2->proc->sighand);
	case KCMP_IO:
		return kcmp_ptr(t1, t2);
	case KCMP_SYSVSEM:
		return kcmp_ptr(t1->sysvsem, t2->sysvsem);
	case KCMP_EPOLL_TFD: {
		struct kcmp_epoll_slot slot;
		if (WARD_COPY_IN_OBJ(task_as(t), &slot, gaddr(idx2)) < 0)
			return -EFAULT;
		struct file *f = idx1 <= INT_MAX && t1->files ? fd_get(t1, (int)idx1) : NULL;
		if (!f)
			return -EBADF;
		struct file *ep = slot.efd <= INT_MAX && t2->files ? fd_get(t2, (int)slot.efd) : NULL;
		if (!ep) {
			file_put(f);
			return -EBADF;
		}
		long r = 0;
		struct file *target = epoll_target_file(ep, (int)slot.tfd, slot.toff, &r);
		if (target)
			r = kcmp_ptr(f, target);
		file_put(ep);
		file_put(f);
		return r;
	}
	default:
		return -EINVAL;
	}
}

/* --- process_vm_readv(2), process_vm_writev(2) --- */

/* Moves bytes between the caller's iovecs and the target's, in order, as
 * process_vm_rw_core: the target's ranges page by page, stopping at the
 * first page that cannot be read (or written); a fault on the caller's
 * side stops too. Returns the bytes moved, or the error when none were. */
static long vm_rw(struct task *t, const struct syscall_args *args, bool to_remote)
{
	int32_t pid = arg_int(args, 0);
	uint64_t liovcnt = arg_u64(args, 2), riovcnt = arg_u64(args, 4);
	if (arg_u64(args, 5) != 0)
		return -EINVAL;
	struct ward_as *as = task_as(t);
	if (liovcnt > WARD_UIO_MAXIOV)
		return -EINVAL;
	struct ward_iovec *lv = calloc(liovcnt ? liovcnt : 1, sizeof(*lv));
	struct ward_iovec *rv = calloc(riovcnt && riovcnt <= WARD_UIO_MAXIOV ? riovcnt : 1, sizeof(*rv));
	if (!lv || !rv) {
		free(lv);
		free(rv);
		return -ENOMEM;
	}
	long r = ward_iovec_import(as, arg_addr(args, 1), (long)liovcnt, lv);
	long total = 0;
	if (r <= 0)
		goto out; /* an error, or nothing to move: 0 */
	if (riovcnt > WARD_UIO_MAXIOV) {
		r = -EINVAL;
		goto out;
	}
	/* iovec_from_user: the remote vector is read and checked, but not
	 * clamped to MAX_RW_COUNT. */
	for (uint64_t i = 0; i < riovcnt; i++) {
		struct {
			uint64_t base, len;
		} v;
		if (WARD_COPY_IN_OBJ(as, &v, gaddr(arg_u64(args, 3) + i * 16)) < 0) {
			r = -EFAULT;
			goto out;
		}
		if ((int64_t)v.len < 0) {
			r = -EINVAL;
			goto out;
		}
		rv[i] = (struct ward_iovec){ gaddr(v.base), v.len };
	}
	bool any = false;
	for (uint64_t i = 0; i < riovcnt; i++)
		any |= rv[i].len > 0;
	if (!any) {
		r = 0;
		goto out;
	}
	struct task *target = task_by_tid(pid);
	if (!target || !target->mm) {
		r = -ESRCH;
		goto out;
	}
	if (!ptrace_may_access(t, target)) {
		r = -EPERM;
		goto out;
	}
	struct ward_as *ras = task_as(target);
	uint64_t li = 0, loff = 0;
	r = 0;
	static char buf[WARD_PAGE_SIZE];
	for (uint64_t i = 0; i < riovcnt && li < liovcnt && r == 0; i++) {
		uint64_t addr = rv[i].base.v, left = rv[i].len;
		while (left && li < liovcnt && r == 0) {
			/* One page of the target at a time. */
			uint64_t n = WARD_MIN(left, WARD_PAGE_SIZE - addr % WARD_PAGE_SIZE);
			/* As much of it as the caller's current iovec takes. */
			while (li < liovcnt && loff == lv[li].len) {
				li++;
				loff = 0;
			}
			if (li == liovcnt)
				break;
			n = WARD_MIN(n, lv[li].len - loff);
			gaddr_t local = gaddr(lv[li].base.v + loff);
			if (!to_remote) {
				if (ward_copy_in(ras, buf, gaddr(addr), n) < 0) {
					r = -EFAULT;
					break;
				}
				long c = ward_copy_out_partial(as, local, buf, n);
				if (c < 0) {
					r = -EFAULT;
					break;
				}
				total += c;
				if ((uint64_t)c < n) {
					r = -EFAULT;
					break;
				}
			} else {
				if (ward_copy_in(as, buf, local, n) < 0) {
					r = -EFAULT;
					break;
				}
				if (ward_copy_out(ras, gaddr(addr), buf, n) < 0) {
					r = -EFAULT;
					break;
				}
				total += (long)n;
			}
			addr += n;
			left -= n;
			loff += n;
		}
	}
out:
	free(lv);
	free(rv);
	return total ? total : r;
}

/* process_vm_readv(2) */
long sys_process_vm_readv(struct task *t, const struct syscall_args *args)
{
	return vm_rw(t, args, false);
}

/* process_vm_writev(2) */
long sys_process_vm_writev(struct task *t, const struct syscall_args *args)
{
	return vm_rw(t, args, true);
}
