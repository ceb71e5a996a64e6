/* Signals: dispositions, masks, alternate stacks, sending and waiting.
 * Queueing, delivery and frames are in kernel/signal.c. */
#include "sentry/service.h"

#include "sentry/kernel/creds.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define SIGSET_SIZE 8
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#define KNOWN_SA_FLAGS                                                                                    \
	(SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER | SA_RESETHAND | \
	 0x04000000 /* SA_RESTORER */ | 0x00000400 /* SA_UNSUPPORTED */ | 0x00000800 /* SA_EXPOSE_TAGBITS */)

static void discard_pending(struct task *t, int sig)
{
	struct linux_siginfo info;
	/* Drain every queued instance from the process and its threads. */
	while (sigpending_dequeue(&t->proc->pending, ~SIGBIT(sig), &info))
		;
	for (struct task *o = t->proc->threads; o; o = o->next_in_proc)
		while (sigpending_dequeue(&o->pending, ~SIGBIT(sig), &info))
			;
}

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
	if (!gaddr_is_null(oldact) && WARD_COPY_OUT_OBJ(task_as(t), oldact, &t->proc->sighand->actions[sig - 1]) < 0)
		return -EFAULT;
	if (!gaddr_is_null(act)) {
		/* Linux keeps unknown flag bits but clears SA_UNSUPPORTED; the
		 * handler's mask never holds SIGKILL or SIGSTOP. */
		sa.flags &= ~(uint64_t)0x00000400;
		sa.mask &= ~UNBLOCKABLE;
		t->proc->sighand->actions[sig - 1] = sa;
		/* Setting SIG_IGN (or a default that ignores) discards what is pending. */
		if (sa.handler == 1 || (sa.handler == 0 && (sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH)))
			discard_pending(t, sig);
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
	struct linux_stack nss, cur = t->altstack;
	uint64_t sp = t->regs.rsp;
	bool on_stack = t->altstack.ss_size && sp > t->altstack.ss_sp && sp - t->altstack.ss_sp <= t->altstack.ss_size;

	/* The old settings as they are now, with SS_ONSTACK when running on
	 * the stack (do_sigaltstack's order: read, then change, then copy). */
	cur.ss_flags = (on_stack	      ? SS_ONSTACK
			: t->altstack.ss_size ? 0
					      : SS_DISABLE) |
		       (t->altstack.ss_flags & (int)0x80000000);
	if (!gaddr_is_null(ss)) {
		if (WARD_COPY_IN_OBJ(task_as(t), &nss, ss) < 0)
			return -EFAULT;
		if (on_stack)
			return -EPERM;
		/* SS_AUTODISARM may be or'ed into SS_ONSTACK or 0. */
		int mode = nss.ss_flags & ~(int)0x80000000;
		if (mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK)
			return -EINVAL;
		if (mode == SS_DISABLE) {
			memset(&t->altstack, 0, sizeof(t->altstack));
		} else {
			if (nss.ss_size < MINSIGSTKSZ_LINUX)
				return -ENOMEM;
			t->altstack = nss;
			t->altstack.ss_flags &= (int)0x80000000;
		}
	}
	if (!gaddr_is_null(oss) && WARD_COPY_OUT_OBJ(task_as(t), oss, &cur) < 0)
		return -EFAULT;
	return 0;
}

/* rt_sigpending(2): the blocked signals waiting. Linux copies at most 8
 * bytes and accepts a shorter set. */
long sys_rt_sigpending(struct task *t, const struct syscall_args *args)
{
	uint64_t size = arg_u64(args, 1);
	uint64_t pending = (t->pending.set | t->proc->pending.set) & t->sigmask;
	if (size > SIGSET_SIZE)
		return -EINVAL;
	return ward_copy_out(task_as(t), arg_addr(args, 0), &pending, (size_t)size);
}

/* The sender's part of a siginfo. */
static void user_info(struct task *t, struct linux_siginfo *si, int sig, int code)
{
	memset(si, 0, sizeof(*si));
	si->si_signo = sig;
	si->si_code = code;
	si->u.rt.pid = t->tgid;
	si->u.rt.uid = t->creds.uid;
}

/* kill(2)'s permission rule (check_kill_permission): the sender's
 * credentials, or SIGCONT within one session. */
static bool may_signal(struct task *t, struct process *p, int sig)
{
	if (!p->threads)
		return true; /* a zombie: nothing to hurt */
	if (creds_may_kill(&t->creds, &p->threads->creds))
		return true;
	return sig == SIGCONT && p->sid == t->proc->sid;
}

struct kill_walk {
	struct linux_siginfo info;
	int32_t pgid; /* 0: every process but init and the sender */
	struct process *self;
	struct task *sender;
	int count;
	int denied;
};

static void kill_one(struct process *p, void *arg)
{
	struct kill_walk *k = arg;
	if (p->zombie)
		return;
	if (k->pgid ? p->pgid != k->pgid : (p->pid == 1 || p == k->self))
		return;
	if (!may_signal(k->sender, p, k->info.si_signo)) {
		k->denied++;
		return;
	}
	k->count++;
	if (k->info.si_signo)
		signal_send_process(p, &k->info);
}

#define SI_TKILL_ (-6)
#define SI_QUEUE_ (-1)

/* kill(2) */
long sys_kill(struct task *t, const struct syscall_args *args)
{
	int32_t pid = arg_int(args, 0);
	int sig = arg_int(args, 1);
	struct kill_walk k;

	/* kill looks the process up before it checks the signal number. */
	if (pid > 0) {
		struct process *p = process_by_pid(pid);
		if (!p)
			return -ESRCH;
		if (sig < 0 || sig > WARD_NSIG)
			return -EINVAL;
		if (!may_signal(t, p, sig))
			return -EPERM;
		user_info(t, &k.info, sig, 0 /* SI_USER */);
		return sig ? signal_send_process(p, &k.info) : 0;
	}
	if (sig < 0 || sig > WARD_NSIG)
		return -EINVAL;
	user_info(t, &k.info, sig, 0 /* SI_USER */);
	if (pid == INT32_MIN)
		return -ESRCH;
	k.pgid = pid == 0 ? t->proc->pgid : pid == -1 ? 0 : -pid;
	k.self = t->proc;
	k.sender = t;
	k.count = 0;
	k.denied = 0;
	process_for_each(kill_one, &k);
	if (pid == -1 && sig)
		signal_send_process(t->proc, &k.info);
	if (k.count)
		return 0;
	return k.denied ? -EPERM : pid == -1 ? 0 : -ESRCH;
}

static long send_to_thread(struct task *t, int32_t tgid, int32_t tid, int sig, const struct linux_siginfo *info)
{
	if (tid <= 0 || (tgid != -1 && tgid <= 0))
		return -EINVAL;
	if (sig < 0 || sig > WARD_NSIG)
		return -EINVAL;
	struct task *target = task_by_tid(tid);
	if (!target || (tgid != -1 && target->tgid != tgid))
		return -ESRCH;
	return sig ? signal_send_task(target, info) : 0;
}

/* tkill(2) */
long sys_tkill(struct task *t, const struct syscall_args *args)
{
	struct linux_siginfo si;
	user_info(t, &si, arg_int(args, 1), SI_TKILL_);
	return send_to_thread(t, -1, arg_int(args, 0), arg_int(args, 1), &si);
}

/* tgkill(2) */
long sys_tgkill(struct task *t, const struct syscall_args *args)
{
	struct linux_siginfo si;
	user_info(t, &si, arg_int(args, 2), SI_TKILL_);
	return send_to_thread(t, arg_int(args, 0), arg_int(args, 1), arg_int(args, 2), &si);
}

/* The guest's siginfo for rt_(tg)sigqueueinfo: it may not pretend to be the
 * kernel or kill() when sending to another process. */
static long queued_info(struct task *t, gaddr_t addr, int sig, bool to_self, struct linux_siginfo *si)
{
	if (WARD_COPY_IN_OBJ(task_as(t), si, addr) < 0)
		return -EFAULT;
	if (!to_self && (si->si_code >= 0 || si->si_code == SI_TKILL_))
		return -EPERM;
	si->si_signo = sig;
	return 0;
}

/* rt_sigqueueinfo(2) */
long sys_rt_sigqueueinfo(struct task *t, const struct syscall_args *args)
{
	int32_t pid = arg_int(args, 0);
	int sig = arg_int(args, 1);
	struct linux_siginfo si;
	if (sig < 0 || sig > WARD_NSIG)
		return -EINVAL;
	struct process *p = process_by_pid(pid);
	if (!p)
		return -ESRCH;
	long r = queued_info(t, arg_addr(args, 2), sig, p == t->proc, &si);
	if (r < 0)
		return r;
	return sig ? signal_send_process(p, &si) : 0;
}

/* rt_tgsigqueueinfo(2) */
long sys_rt_tgsigqueueinfo(struct task *t, const struct syscall_args *args)
{
	int32_t tgid = arg_int(args, 0), tid = arg_int(args, 1);
	int sig = arg_int(args, 2);
	struct linux_siginfo si;
	if (tgid <= 0 || tid <= 0 || sig < 0 || sig > WARD_NSIG)
		return -EINVAL;
	struct task *target = task_by_tid(tid);
	if (!target || target->tgid != tgid)
		return -ESRCH;
	long r = queued_info(t, arg_addr(args, 3), sig, target->proc == t->proc, &si);
	if (r < 0)
		return r;
	return sig ? signal_send_task(target, &si) : 0;
}

/* pause(2) */
long sys_pause(struct task *t, const struct syscall_args *args)
{
	while (task_sleep(t, 0) != -EINTR)
		;
	return -WARD_ERESTARTNOHAND;
}

/* rt_sigsuspend(2) */
long sys_rt_sigsuspend(struct task *t, const struct syscall_args *args)
{
	uint64_t mask;
	if (arg_u64(args, 1) != SIGSET_SIZE)
		return -EINVAL;
	if (WARD_COPY_IN_OBJ(task_as(t), &mask, arg_addr(args, 0)) < 0)
		return -EFAULT;
	t->saved_sigmask = t->sigmask;
	t->restore_sigmask = true;
	t->sigmask = mask & ~UNBLOCKABLE;
	while (task_sleep(t, 0) != -EINTR)
		;
	return -WARD_ERESTARTNOHAND;
}

/* rt_sigtimedwait(2) */
long sys_rt_sigtimedwait(struct task *t, const struct syscall_args *args)
{
	uint64_t set;
	int64_t deadline = 0;
	struct linux_siginfo info;

	if (arg_u64(args, 3) != SIGSET_SIZE)
		return -EINVAL;
	if (WARD_COPY_IN_OBJ(task_as(t), &set, arg_addr(args, 0)) < 0)
		return -EFAULT;
	set &= ~UNBLOCKABLE;
	if (!gaddr_is_null(arg_addr(args, 2))) {
		struct linux_timespec ts;
		if (WARD_COPY_IN_OBJ(task_as(t), &ts, arg_addr(args, 2)) < 0)
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
			return -EINVAL;
		deadline = ward_now_ns() + ts.tv_sec * 1000000000L + ts.tv_nsec;
		if (deadline <= 0)
			deadline = 1;
	}
	/* The awaited signals wake the sleep: unblock them while waiting. */
	uint64_t old = t->sigmask;
	int sig = 0;
	for (;;) {
		sig = sigpending_dequeue(&t->pending, ~set, &info);
		if (!sig)
			sig = sigpending_dequeue(&t->proc->pending, ~set, &info);
		if (sig)
			break;
		if (deadline && ward_now_ns() >= deadline) {
			t->sigmask = old;
			return -EAGAIN;
		}
		t->sigmask = old & ~set;
		t->real_blocked = old;
		long r = task_sleep(t, deadline);
		t->sigmask = old;
		t->real_blocked = 0;
		if (r == -ETIMEDOUT)
			return -EAGAIN;
		if (r == -EINTR && !((t->pending.set | t->proc->pending.set) & set))
			return -EINTR;
	}
	t->sigmask = old;
	if (!gaddr_is_null(arg_addr(args, 1)) && WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 1), &info) < 0)
		return -EFAULT;
	return sig;
}

/* rt_sigreturn(2): returns the restored rax, so the dispatcher's write of
 * the result leaves it as it was. */
long sys_rt_sigreturn(struct task *t, const struct syscall_args *args)
{
	return signal_return(t);
}
