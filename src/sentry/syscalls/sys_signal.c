/* Signals: the bookkeeping half (dispositions, masks, alternate stacks).
 * Delivery comes with the process issue; until then a handler is recorded
 * and reported back but never run. */
#include "sentry/service.h"

#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define SIGSET_SIZE 8
#define SIGBIT(sig) (1ULL << ((sig)-1))
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#define KNOWN_SA_FLAGS                                                                                    \
	(SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER | SA_RESETHAND | \
	 0x04000000 /* SA_RESTORER */ | 0x00000400 /* SA_UNSUPPORTED */ | 0x00000800 /* SA_EXPOSE_TAGBITS */)

/* rt_sigaction(2) */
long sys_rt_sigaction(struct task *t, const struct syscall_args *args)
{
	int sig = arg_int(args, 0);
	gaddr_t act = arg_addr(args, 1), oldact = arg_addr(args, 2);
	struct linux_sigaction sa;

	if (arg_u64(args, 3) != SIGSET_SIZE)
		return -EINVAL;
	if (sig < 1 || sig > WARD_NSIG)
		return -EINVAL;
	if (!gaddr_is_null(act)) {
		if (WARD_COPY_IN_OBJ(task_as(t), &sa, act) < 0)
			return -EFAULT;
		if (sig == SIGKILL || sig == SIGSTOP)
			return -EINVAL;
	}
	if (!gaddr_is_null(oldact) && WARD_COPY_OUT_OBJ(task_as(t), oldact, &t->sigactions[sig - 1]) < 0)
		return -EFAULT;
	if (!gaddr_is_null(act)) {
		/* Linux keeps unknown flag bits but clears SA_UNSUPPORTED; the
		 * handler's mask never holds SIGKILL or SIGSTOP. */
		sa.flags &= ~(uint64_t)0x00000400;
		sa.mask &= ~UNBLOCKABLE;
		t->sigactions[sig - 1] = sa;
	}
	return 0;
}

/* rt_sigprocmask(2) */
long sys_rt_sigprocmask(struct task *t, const struct syscall_args *args)
{
	int how = arg_int(args, 0);
	gaddr_t set = arg_addr(args, 1), oldset = arg_addr(args, 2);
	uint64_t mask = 0, old = t->sigmask;

	if (arg_u64(args, 3) != SIGSET_SIZE)
		return -EINVAL;
	if (!gaddr_is_null(set)) {
		if (how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK)
			return -EINVAL;
		if (WARD_COPY_IN_OBJ(task_as(t), &mask, set) < 0)
			return -EFAULT;
	}
	if (!gaddr_is_null(oldset) && WARD_COPY_OUT_OBJ(task_as(t), oldset, &old) < 0)
		return -EFAULT;
	if (!gaddr_is_null(set)) {
		if (how == SIG_BLOCK)
			t->sigmask |= mask;
		else if (how == SIG_UNBLOCK)
			t->sigmask &= ~mask;
		else
			t->sigmask = mask;
		t->sigmask &= ~UNBLOCKABLE;
	}
	return 0;
}

#define MINSIGSTKSZ_LINUX 2048

/* sigaltstack(2) */
long sys_sigaltstack(struct task *t, const struct syscall_args *args)
{
	gaddr_t ss = arg_addr(args, 0), oss = arg_addr(args, 1);
	struct linux_stack nss;

	if (!gaddr_is_null(ss)) {
		if (WARD_COPY_IN_OBJ(task_as(t), &nss, ss) < 0)
			return -EFAULT;
		/* SS_AUTODISARM may be or'ed into SS_ONSTACK or 0. */
		int mode = nss.ss_flags & ~(int)0x80000000;
		if (mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK)
			return -EINVAL;
		if (mode != SS_DISABLE && nss.ss_size < MINSIGSTKSZ_LINUX)
			return -ENOMEM;
	}
	if (!gaddr_is_null(oss)) {
		struct linux_stack cur = t->altstack;
		if (!cur.ss_size)
			cur.ss_flags = SS_DISABLE;
		if (WARD_COPY_OUT_OBJ(task_as(t), oss, &cur) < 0)
			return -EFAULT;
	}
	if (!gaddr_is_null(ss)) {
		if ((nss.ss_flags & ~(int)0x80000000) == SS_DISABLE) {
			memset(&t->altstack, 0, sizeof(t->altstack));
		} else {
			t->altstack = nss;
			t->altstack.ss_flags &= (int)0x80000000;
		}
	}
	return 0;
}

/* rt_sigpending(2): without delivery (the process issue) no signal is ever
 * pending. Linux copies at most 8 bytes and accepts a shorter set. */
long sys_rt_sigpending(struct task *t, const struct syscall_args *args)
{
	uint64_t size = arg_u64(args, 1), pending = 0;
	if (size > SIGSET_SIZE)
		return -EINVAL;
	return ward_copy_out(task_as(t), arg_addr(args, 0), &pending, (size_t)size);
}
