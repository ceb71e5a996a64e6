/* Memory: mmap, munmap, mprotect, mremap, madvise, brk. The rules live in
 * mm/; these decode the arguments and check the descriptor. */
#include "sentry/service.h"

#include "fs/vfs.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

/* RLIMIT_AS: would growing by len pass the limit? */
static bool over_as_limit(struct task *t, uint64_t len)
{
	uint64_t limit = t->rlimits[RLIMIT_AS].rlim_cur;
	if (limit == RLIM_INFINITY)
		return false;
	uint64_t cur = mm_mapped_bytes(t->mm);
	return len > limit || cur > limit - len;
}

/* mmap(2) */
long sys_mmap(struct task *t, const struct syscall_args *args)
{
	uint64_t addr = arg_u64(args, 0), len = arg_u64(args, 1), off = arg_u64(args, 5);
	int prot = arg_int(args, 2), flags = arg_int(args, 3), fd = arg_int(args, 4);

	/* A MAP_FIXED map may replace what is there; count it as growth all the
	 * same (Linux subtracts the overlap; this is slightly stricter). */
	if (len && over_as_limit(t, WARD_PAGE_ALIGN_UP(len)))
		return -ENOMEM;

	if (flags & MAP_ANONYMOUS)
		return mm_mmap(t->mm, addr, len, prot, flags, NULL, 0);
	struct file *f = fd_get(t, fd);
	if (!f)
		return -EBADF;
	long r;
	int acc = (int)(f->flags & O_ACCMODE);
	int type = flags & MAP_SHARED_VALIDATE;
	/* mmap(2) ERRORS: EACCES for a descriptor not open for reading, or a
	 * shared writable map of one not open read-write. */
	if (f->flags & O_PATH)
		r = -EBADF;
	else if (acc == O_WRONLY)
		r = -EACCES;
	else if (type != MAP_PRIVATE && (prot & PROT_WRITE) && acc != O_RDWR)
		r = -EACCES;
	else if (!f->ops->mmap_fill)
		r = -ENODEV;
	else if ((prot & PROT_EXEC) && file_on_noexec(f))
		r = -EPERM; /* a file of a noexec mount */
	else
		r = mm_mmap(t->mm, addr, len, prot, flags, f, off);
	file_put(f);
	return r;
}

/* munmap(2) */
long sys_munmap(struct task *t, const struct syscall_args *args)
{
	return mm_munmap(t->mm, arg_u64(args, 0), arg_u64(args, 1));
}

/* mprotect(2) */
long sys_mprotect(struct task *t, const struct syscall_args *args)
{
	return mm_mprotect(t->mm, arg_u64(args, 0), arg_u64(args, 1), arg_int(args, 2));
}

/* mremap(2) */
long sys_mremap(struct task *t, const struct syscall_args *args)
{
	if (arg_u64(args, 2) > arg_u64(args, 1) && over_as_limit(t, arg_u64(args, 2) - arg_u64(args, 1)))
		return -ENOMEM;
	return mm_mremap(t->mm, arg_u64(args, 0), arg_u64(args, 1), arg_u64(args, 2), arg_int(args, 3),
			 arg_u64(args, 4));
}

/* msync(2) */
long sys_msync(struct task *t, const struct syscall_args *args)
{
	return mm_msync(t->mm, arg_u64(args, 0), arg_u64(args, 1), arg_int(args, 2));
}

/* madvise(2) */
long sys_madvise(struct task *t, const struct syscall_args *args)
{
	return mm_madvise(t->mm, arg_u64(args, 0), arg_u64(args, 1), arg_int(args, 2));
}

/* brk(2): the raw call returns the new break, or the old one on failure. */
long sys_brk(struct task *t, const struct syscall_args *args)
{
	uint64_t cur = mm_brk(t->mm, 0);
	if (arg_u64(args, 0) > cur && over_as_limit(t, WARD_PAGE_ALIGN_UP(arg_u64(args, 0) - cur)))
		return (long)cur;
	return (long)mm_brk(t->mm, arg_u64(args, 0));
}
