/* Memory residency and placement: mlock, mlock2, munlock, mlockall,
 * munlockall, mincore, set_mempolicy, get_mempolicy, mbind.
 *
 * The sentry never pages guest memory out, so a lock pins nothing: it marks
 * the VMAs and is accounted against RLIMIT_MEMLOCK exactly as Linux does
 * (mm/mlock.c). The sandbox has one NUMA node, node 0 (mm/mempolicy.c's
 * rules with nr_node_ids == 1). */
#include "sentry/service.h"

#include "fs/vfs.h"
#include "sentry/kernel/creds.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

#define CAP_IPC_LOCK_ 14
#define CAP_SYS_NICE_ 23
#define MLOCK_ONFAULT_ 1
#define MCL_CURRENT_ 1
#define MCL_FUTURE_ 2
#define MCL_ONFAULT_ 4

#define MPOL_DEFAULT_ 0
#define MPOL_PREFERRED_ 1
#define MPOL_BIND_ 2
#define MPOL_INTERLEAVE_ 3
#define MPOL_LOCAL_ 4
#define MPOL_F_STATIC_NODES_ (1 << 15)
#define MPOL_F_RELATIVE_NODES_ (1 << 14)
#define MPOL_F_NUMA_BALANCING_ (1 << 13)
#define MPOL_MODE_FLAGS_ (MPOL_F_STATIC_NODES_ | MPOL_F_RELATIVE_NODES_ | MPOL_F_NUMA_BALANCING_)
#define MPOL_F_NODE_ 1
#define MPOL_F_ADDR_ 2
#define MPOL_F_MEMS_ALLOWED_ 4
#define MPOL_MF_STRICT_ 1
#define MPOL_MF_MOVE_ 2
#define MPOL_MF_MOVE_ALL_ 4
/* CONFIG_NODES_SHIFT=10 (Debian). */
#define MAX_NUMNODES_ 1024

/* can_do_mlock. */
static bool can_mlock(struct task *t)
{
	return creds_capable(&t->creds, CAP_IPC_LOCK_) || t->rlimits[RLIMIT_MEMLOCK].rlim_cur != 0;
}

/* do_mlock. */
static long do_mlock(struct task *t, uint64_t start, uint64_t len)
{
	if (!can_mlock(t))
		return -EPERM;
	uint64_t off = start % WARD_PAGE_SIZE;
	if (len + off < len || WARD_PAGE_ALIGN_UP(len + off) < len + off)
		return -ENOMEM; /* PAGE_ALIGN wraps to 0 on Linux, then find_vma fails */
	len = WARD_PAGE_ALIGN_UP(len + off);
	start -= off;
	uint64_t limit = t->rlimits[RLIMIT_MEMLOCK].rlim_cur;
	if (!creds_capable(&t->creds, CAP_IPC_LOCK_) && limit != RLIM_INFINITY) {
		uint64_t lim_pages = limit / WARD_PAGE_SIZE;
		uint64_t locked = len / WARD_PAGE_SIZE + mm_locked_bytes(t->mm, 0, UINT64_MAX) / WARD_PAGE_SIZE;
		if (locked > lim_pages)
			locked -= mm_locked_bytes(t->mm, start, start + len) / WARD_PAGE_SIZE;
		if (locked > lim_pages)
			return -ENOMEM;
	}
	return mm_mlock(t->mm, start, len, true);
}

/* mlock(2) */
long sys_mlock(struct task *t, const struct syscall_args *args)
{
	return do_mlock(t, arg_u64(args, 0), arg_u64(args, 1));
}

/* mlock2(2): MLOCK_ONFAULT only changes when pages would be faulted in,
 * which the sentry does not do ahead anyway. */
long sys_mlock2(struct task *t, const struct syscall_args *args)
{
	if (arg_uint(args, 2) & ~MLOCK_ONFAULT_)
		return -EINVAL;
	return do_mlock(t, arg_u64(args, 0), arg_u64(args, 1));
}

/* munlock(2) */
long sys_munlock(struct task *t, const struct syscall_args *args)
{
	uint64_t start = arg_u64(args, 0), len = arg_u64(args, 1);
	uint64_t off = start % WARD_PAGE_SIZE;
	if (len + off < len || WARD_PAGE_ALIGN_UP(len + off) < len + off)
		return -ENOMEM;
	return mm_mlock(t->mm, start - off, WARD_PAGE_ALIGN_UP(len + off), false);
}

/* mlockall(2) */
long sys_mlockall(struct task *t, const struct syscall_args *args)
{
	int flags = arg_int(args, 0);
	if (!flags || (flags & ~(MCL_CURRENT_ | MCL_FUTURE_ | MCL_ONFAULT_)) || flags == MCL_ONFAULT_)
		return -EINVAL;
	if (!can_mlock(t))
		return -EPERM;
	uint64_t limit = t->rlimits[RLIMIT_MEMLOCK].rlim_cur;
	if ((flags & MCL_CURRENT_) && !creds_capable(&t->creds, CAP_IPC_LOCK_) && limit != RLIM_INFINITY &&
	    mm_mapped_bytes(t->mm) / WARD_PAGE_SIZE > limit / WARD_PAGE_SIZE)
		return -ENOMEM;
	mm_mlock_all(t->mm, flags & MCL_CURRENT_, flags & MCL_FUTURE_);
	return 0;
}

/* munlockall(2) */
long sys_munlockall(struct task *t, const struct syscall_args *args)
{
	(void)args;
	mm_mlock_all(t->mm, false, false);
	return 0;
}

/* mincore(2): a page is resident when the memory file backs it. */
long sys_mincore(struct task *t, const struct syscall_args *args)
{
	uint64_t start = arg_u64(args, 0), len = arg_u64(args, 1);
	gaddr_t vec = arg_addr(args, 2);
	if (start % WARD_PAGE_SIZE)
		return -EINVAL;
	uint64_t limit = ward_as_user_limit();
	uint64_t alen = WARD_PAGE_ALIGN_UP(len);
	if (alen < len || start > limit || alen > limit - start)
		return -ENOMEM;
	if (alen == 0)
		return 0;
	uint64_t pages = alen / WARD_PAGE_SIZE;
	/* In chunks, as Linux copies a page of the vector at a time. */
	uint8_t buf[4096];
	for (uint64_t done = 0; done < pages;) {
		uint64_t n = WARD_MIN(pages - done, sizeof(buf));
		long r = mm_mincore(t->mm, start + done * WARD_PAGE_SIZE, n * WARD_PAGE_SIZE, buf);
		if (r < 0)
			return r;
		if (ward_copy_out(task_as(t), gaddr(vec.v + done), buf, n) < 0)
			return -EFAULT;
		done += n;
	}
	return 0;
}

/* sanitize_mpol_flags. */
static long mpol_flags(int *mode, int *flags)
{
	*flags = *mode & MPOL_MODE_FLAGS_;
	*mode &= ~MPOL_MODE_FLAGS_;
	/* MPOL_PREFERRED_MANY and later modes would need several nodes to
	 * mean anything: refused. */
	if ((unsigned int)*mode > MPOL_LOCAL_)
		return -EINVAL;
	if ((*flags & MPOL_F_STATIC_NODES_) && (*flags & MPOL_F_RELATIVE_NODES_))
		return -EINVAL;
	if ((*flags & MPOL_F_NUMA_BALANCING_) && *mode != MPOL_BIND_)
		return -EINVAL;
	return 0;
}

/* get_nodes: the first 64 nodes are read; the rest of a longer mask must
 * be zero past MAX_NUMNODES, and nodes 64..1023 do not exist here. */
static long mpol_nodes(struct task *t, gaddr_t nmask, uint64_t maxnode, uint64_t *nodes)
{
	*nodes = 0;
	if (maxnode)
		maxnode--;
	if (maxnode == 0 || gaddr_is_null(nmask))
		return 0;
	if (maxnode > WARD_PAGE_SIZE * 8)
		return -EINVAL;
	uint64_t words = (maxnode + 63) / 64;
	for (uint64_t w = 0; w < words; w++) {
		uint64_t v;
		if (WARD_COPY_IN_OBJ(task_as(t), &v, gaddr(nmask.v + w * 8)) < 0)
			return -EFAULT;
		uint64_t bits = WARD_MIN(64, maxnode - w * 64);
		if (bits < 64)
			v &= (1ULL << bits) - 1;
		if (w * 64 >= MAX_NUMNODES_ && v)
			return -EINVAL;
		if (w == 0)
			*nodes = v;
	}
	return 0;
}

/* mpol_new and mpol_set_nodemask: the policy, checked against node 0.
 * Returns the mode kept (MPOL_PREFERRED without nodes is MPOL_LOCAL). */
static long mpol_check(int mode, int flags, uint64_t nodes, uint64_t *kept)
{
	bool rel_or_static = flags & (MPOL_F_STATIC_NODES_ | MPOL_F_RELATIVE_NODES_);
	*kept = 0;
	if (mode == MPOL_DEFAULT_)
		return nodes ? -EINVAL : MPOL_DEFAULT_;
	if (mode == MPOL_PREFERRED_ && !nodes)
		return rel_or_static ? -EINVAL : MPOL_LOCAL_;
	if (mode == MPOL_LOCAL_)
		return nodes || rel_or_static ? -EINVAL : MPOL_LOCAL_;
	if (!nodes)
		return -EINVAL;
	/* Intersected with the nodes allowed, node 0 alone (RELATIVE maps
	 * the first set bit onto it). */
	uint64_t eff = (flags & MPOL_F_RELATIVE_NODES_) ? 1 : nodes & 1;
	if (!eff)
		return -EINVAL;
	*kept = rel_or_static ? nodes : eff;
	return mode;
}

/* set_mempolicy(2) */
long sys_set_mempolicy(struct task *t, const struct syscall_args *args)
{
	int mode = arg_int(args, 0), flags;
	uint64_t nodes, kept = 0;
	long r = mpol_flags(&mode, &flags);
	if (r == 0)
		r = mpol_nodes(t, arg_addr(args, 1), arg_u64(args, 2), &nodes);
	if (r == 0)
		r = mpol_check(mode, flags, nodes, &kept);
	if (r < 0)
		return r;
	t->mempolicy.mode = (int)r;
	t->mempolicy.flags = r == MPOL_DEFAULT_ ? 0 : flags;
	t->mempolicy.nodes = kept;
	return 0;
}

/* copy_nodes_to_user: maxnode bits, node 0 the only one that can be set. */
static long mpol_nodes_out(struct task *t, gaddr_t nmask, uint64_t maxnode, uint64_t nodes)
{
	uint64_t copy = ((maxnode - 1 + 63) & ~63ULL) / 8;
	if (copy > 8) {
		if (copy > WARD_PAGE_SIZE)
			return -EINVAL;
		if (ward_zero_out(task_as(t), gaddr(nmask.v + 8), copy - 8) < 0)
			return -EFAULT;
		copy = 8;
	}
	return ward_copy_out(task_as(t), nmask, &nodes, copy) < 0 ? -EFAULT : 0;
}

/* get_mempolicy(2). mbind does not keep a policy per mapping: with
 * MPOL_F_ADDR the task's own policy is reported. */
long sys_get_mempolicy(struct task *t, const struct syscall_args *args)
{
	gaddr_t mode_out = arg_addr(args, 0), nmask = arg_addr(args, 1);
	uint64_t maxnode = arg_u64(args, 2), addr = arg_u64(args, 3), flags = arg_u64(args, 4);
	if (!gaddr_is_null(nmask) && maxnode < 1)
		return -EINVAL;
	if (flags & ~(uint64_t)(MPOL_F_NODE_ | MPOL_F_ADDR_ | MPOL_F_MEMS_ALLOWED_))
		return -EINVAL;
	int pval = 0;
	uint64_t nodes = 1;
	if (flags & MPOL_F_MEMS_ALLOWED_) {
		if (flags & (MPOL_F_NODE_ | MPOL_F_ADDR_))
			return -EINVAL;
	} else {
		if (flags & MPOL_F_ADDR_) {
			if (!mm_range_mapped(t->mm, addr, addr + 1))
				return -EFAULT;
		} else if (addr) {
			return -EINVAL;
		}
		if (flags & MPOL_F_NODE_) {
			/* The node of the page at addr, or the next interleave
			 * node: node 0 either way. */
			if (!(flags & MPOL_F_ADDR_) && t->mempolicy.mode != MPOL_INTERLEAVE_)
				return -EINVAL;
			pval = 0;
		} else {
			pval = t->mempolicy.mode | t->mempolicy.flags;
		}
		/* get_policy_nodemask: the default and local policies report
		 * no nodes; the others their (user) mask. */
		switch (t->mempolicy.mode) {
		case MPOL_DEFAULT_:
		case MPOL_LOCAL_:
			nodes = 0;
			break;
		default:
			nodes = t->mempolicy.nodes;
		}
	}
	if (!gaddr_is_null(mode_out) && WARD_COPY_OUT_OBJ(task_as(t), mode_out, &pval) < 0)
		return -EFAULT;
	if (!gaddr_is_null(nmask))
		return mpol_nodes_out(t, nmask, maxnode, nodes);
	return 0;
}

/* mbind(2): checked as Linux checks it; with one node there is nothing to
 * place or move. */
long sys_mbind(struct task *t, const struct syscall_args *args)
{
	uint64_t start = arg_u64(args, 0), len = arg_u64(args, 1);
	int mode = (int)arg_u64(args, 2), mflags;
	unsigned int flags = arg_uint(args, 5);
	uint64_t nodes, kept;
	long r = mpol_flags(&mode, &mflags);
	if (r == 0)
		r = mpol_nodes(t, arg_addr(args, 3), arg_u64(args, 4), &nodes);
	if (r < 0)
		return r;
	if (flags & ~(unsigned int)(MPOL_MF_STRICT_ | MPOL_MF_MOVE_ | MPOL_MF_MOVE_ALL_))
		return -EINVAL;
	if ((flags & MPOL_MF_MOVE_ALL_) && !creds_capable(&t->creds, CAP_SYS_NICE_))
		return -EPERM;
	if (start % WARD_PAGE_SIZE)
		return -EINVAL;
	uint64_t alen = WARD_PAGE_ALIGN_UP(len);
	if (alen < len || start + alen < start)
		return -EINVAL;
	if (alen == 0)
		return 0;
	r = mpol_check(mode, mflags, nodes, &kept);
	if (r < 0)
		return r;
	/* queue_pages_range: a hole in the range is EFAULT. */
	return mm_range_mapped(t->mm, start, start + alen) ? 0 : -EFAULT;
}

/* readahead(2): the page cache is the host's; the call is checked as Linux
 * checks it and then has nothing to do. */
long sys_readahead(struct task *t, const struct syscall_args *args)
{
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	long r = 0;
	struct linux_statx stx;
	if ((f->flags & O_PATH) || (f->flags & O_ACCMODE) == O_WRONLY)
		r = -EBADF;
	else if (file_getattr(f, &stx) < 0 || !(S_ISREG(stx.stx_mode) || S_ISBLK(stx.stx_mode)))
		r = -EINVAL;
	else if (arg_long(args, 2) < 0)
		r = -EINVAL; /* generic_fadvise: len < 0 */
	file_put(f);
	return r;
}

#define SYNC_FILE_RANGE_VALID 7

/* sync_file_range(2): checked as Linux checks it; writeback is not the
 * sentry's to start or wait for (fsync and the host do that). */
long sys_sync_file_range(struct task *t, const struct syscall_args *args)
{
	int64_t off = arg_long(args, 1), nbytes = arg_long(args, 2);
	unsigned int flags = arg_uint(args, 3);
	struct file *f = fd_get(t, arg_int(args, 0));
	if (!f)
		return -EBADF;
	long r = 0;
	struct linux_statx stx;
	uint64_t end = (uint64_t)off + (uint64_t)nbytes;
	if (f->flags & O_PATH)
		r = -EBADF;
	else if (flags & ~(unsigned int)SYNC_FILE_RANGE_VALID)
		r = -EINVAL;
	else if (off < 0 || (int64_t)end < 0 || (int64_t)end < off)
		r = -EINVAL;
	else if (file_getattr(f, &stx) < 0 ||
		 !(S_ISREG(stx.stx_mode) || S_ISBLK(stx.stx_mode) || S_ISDIR(stx.stx_mode) || S_ISLNK(stx.stx_mode)))
		r = -ESPIPE;
	file_put(f);
	return r;
}
