/* Signals: queueing, default actions, handler frames and sigreturn, the way
 * Linux does them on x86-64 (arch/x86/kernel/signal.c is the reference for
 * the frame; kernel/signal.c for the rules). */
#include "sentry/service.h"

#include "sentry/kernel/fault.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

#define SIG_DFL_ 0
#define SIG_IGN_ 1
#define SA_RESTORER_ 0x04000000ULL
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#define SYNCHRONOUS \
	(SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) | SIGBIT(SIGTRAP) | SIGBIT(SIGFPE) | SIGBIT(SIGSYS))
#define STOP_SIGNALS (SIGBIT(SIGSTOP) | SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | SIGBIT(SIGTTOU))
#define SI_USER_ 0
#define SI_KERNEL_ 0x80
#define NR_RESTART_SYSCALL 219

enum default_action { ACT_TERM, ACT_CORE, ACT_IGNORE, ACT_STOP, ACT_CONT };

static enum default_action default_action(int sig)
{
	switch (sig) {
	case SIGCHLD:
	case SIGURG:
	case SIGWINCH:
		return ACT_IGNORE;
	case SIGCONT:
		return ACT_CONT;
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		return ACT_STOP;
	case SIGQUIT:
	case SIGILL:
	case SIGTRAP:
	case SIGABRT:
	case SIGBUS:
	case SIGFPE:
	case SIGSEGV:
	case SIGXCPU:
	case SIGXFSZ:
	case SIGSYS:
		return ACT_CORE;
	default:
		return ACT_TERM;
	}
}

/* Pending sets. */

struct waitq signal_sent_waitq;

void sigpending_clear(struct sigpending *p)
{
	while (p->head) {
		struct sigqueue_entry *e = p->head;
		p->head = e->next;
		free(e);
	}
	p->set = 0;
}

static void sigpending_add(struct sigpending *p, const struct linux_siginfo *info)
{
	int sig = info->si_signo;
	/* A standard signal is pending at most once; real-time ones (32 and
	 * up, the kernel's SIGRTMIN) queue. */
	if (sig < 32 && (p->set & SIGBIT(sig)))
		return;
	struct sigqueue_entry *e = calloc(1, sizeof(*e));
	if (e) {
		e->info = *info;
		struct sigqueue_entry **pp = &p->head;
		while (*pp)
			pp = &(*pp)->next;
		*pp = e;
	}
	p->set |= SIGBIT(sig);
	/* signalfd readers wait for blocked signals too. */
	waitq_wake_all(&signal_sent_waitq);
}

static void sigpending_remove(struct sigpending *p, uint64_t set)
{
	for (struct sigqueue_entry **pp = &p->head; *pp;) {
		if (set & SIGBIT((*pp)->info.si_signo)) {
			struct sigqueue_entry *e = *pp;
			*pp = e->next;
			free(e);
		} else {
			pp = &(*pp)->next;
		}
	}
	p->set &= ~set;
}

/* The signal to take next from set: synchronous ones first, then the lowest
 * number, as Linux's next_signal. */
static int next_signal(uint64_t set)
{
	if (!set)
		return 0;
	uint64_t synchronous = set & SYNCHRONOUS;
	uint64_t pick = synchronous ? synchronous : set;
	return __builtin_ctzll(pick) + 1;
}

int sigpending_dequeue(struct sigpending *p, uint64_t mask, struct linux_siginfo *info)
{
	int sig = next_signal(p->set & ~mask);
	if (!sig)
		return 0;
	bool found = false, more = false;
	for (struct sigqueue_entry **pp = &p->head; *pp;) {
		if ((*pp)->info.si_signo != sig) {
			pp = &(*pp)->next;
			continue;
		}
		if (found) {
			more = true;
			break;
		}
		struct sigqueue_entry *e = *pp;
		*info = e->info;
		*pp = e->next;
		free(e);
		found = true;
	}
	if (!found) {
		/* Queued without a siginfo (out of memory): make a plain one. */
		memset(info, 0, sizeof(*info));
		info->si_signo = sig;
		info->si_code = SI_USER_;
	}
	if (!more)
		p->set &= ~SIGBIT(sig);
	return sig;
}

/* Sending. */

static struct linux_sigaction *action_of(struct process *p, int sig)
{
	return &p->sighand->actions[sig - 1];
}

static bool is_ignored(struct process *p, int sig)
{
	uint64_t h = action_of(p, sig)->handler;
	if (h == SIG_IGN_)
		return sig != SIGKILL && sig != SIGSTOP;
	return h == SIG_DFL_ && default_action(sig) == ACT_IGNORE;
}

bool signal_pending(struct task *t)
{
	uint64_t set = (t->pending.set | t->proc->pending.set);
	return (set & ~t->sigmask) != 0 || (set & SIGBIT(SIGKILL));
}

static void kick(struct task *t)
{
	task_wake(t);
	if (t->ctx)
		ward_ctx_interrupt(t->ctx);
}

/* SIGCONT's and stop signals' effects happen when they are sent. */
static void send_side_effects(struct process *p, int sig)
{
	if (STOP_SIGNALS & SIGBIT(sig)) {
		sigpending_remove(&p->pending, SIGBIT(SIGCONT));
		for (struct task *t = p->threads; t; t = t->next_in_proc)
			sigpending_remove(&t->pending, SIGBIT(SIGCONT));
	}
	if (sig == SIGCONT || sig == SIGKILL) {
		sigpending_remove(&p->pending, STOP_SIGNALS);
		for (struct task *t = p->threads; t; t = t->next_in_proc)
			sigpending_remove(&t->pending, STOP_SIGNALS);
		if (p->stop == PROC_STOPPED) {
			p->stop = PROC_RUNNING;
			if (sig == SIGCONT) {
				p->report_continue = true;
				p->report_stop = false;
				signal_notify_parent(p, 6 /* CLD_CONTINUED */, SIGCONT);
			}
			for (struct task *t = p->threads; t; t = t->next_in_proc)
				task_wake(t);
		}
	}
}

/* Init of a PID namespace gets only the signals it handles (and those its
 * ancestors send, which do not exist inside a sandbox). A blocked signal is
 * still queued, since the handler may change before it is unblocked; it is
 * dropped at delivery instead. */
static bool init_protected(struct process *p, int sig, uint64_t mask)
{
	return p->pid == 1 && action_of(p, sig)->handler == SIG_DFL_ && !(mask & SIGBIT(sig));
}

long signal_send_process(struct process *p, const struct linux_siginfo *info)
{
	int sig = info->si_signo;
	if (p->zombie || p->exiting)
		return 0;
	send_side_effects(p, sig);
	if (p->threads && init_protected(p, sig, p->threads->sigmask | p->threads->real_blocked))
		return 0;
	/* An ignored signal is dropped unless every thread blocks it (the
	 * disposition could still change before it is unblocked), or waits
	 * for it in sigtimedwait (sig_ignored looks at real_blocked too). */
	bool blocked_everywhere = true;
	for (struct task *t = p->threads; t; t = t->next_in_proc)
		if (!((t->sigmask | t->real_blocked) & SIGBIT(sig)))
			blocked_everywhere = false;
	if (is_ignored(p, sig) && !blocked_everywhere)
		return 0;
	sigpending_add(&p->pending, info);
	if (sig == SIGKILL) {
		for (struct task *t = p->threads; t; t = t->next_in_proc)
			kick(t);
		return 0;
	}
	for (struct task *t = p->threads; t; t = t->next_in_proc) {
		if (!(t->sigmask & SIGBIT(sig))) {
			kick(t);
			break;
		}
	}
	return 0;
}

bool signal_forward_from_host(int sig)
{
	struct process *p = process_init();
	if (!p || p->zombie || p->exiting || !p->threads || sig < 1 || sig > WARD_NSIG)
		return false;
	uint64_t handler = action_of(p, sig)->handler;
	if (handler == SIG_IGN_)
		return true;
	bool blocked_everywhere = true;
	for (struct task *t = p->threads; t; t = t->next_in_proc)
		if (!((t->sigmask | t->real_blocked) & SIGBIT(sig)))
			blocked_everywhere = false;
	if (handler == SIG_DFL_ && !blocked_everywhere)
		return false;
	/* From outside the sandbox: no sender pid or uid inside it. */
	struct linux_siginfo info;
	memset(&info, 0, sizeof(info));
	info.si_signo = sig;
	info.si_code = 0; /* SI_USER */
	signal_send_process(p, &info);
	return true;
}

long signal_send_task(struct task *t, const struct linux_siginfo *info)
{
	struct process *p = t->proc;
	int sig = info->si_signo;
	if (p->zombie || p->exiting)
		return 0;
	send_side_effects(p, sig);
	if (init_protected(p, sig, t->sigmask | t->real_blocked))
		return 0;
	if (is_ignored(p, sig) && !((t->sigmask | t->real_blocked) & SIGBIT(sig)))
		return 0;
	sigpending_add(&t->pending, info);
	if (!(t->sigmask & SIGBIT(sig)) || sig == SIGKILL)
		kick(t);
	return 0;
}

void signal_force_fault(struct task *t, int signo, int code, uint64_t addr)
{
	struct process *p = t->proc;
	struct linux_siginfo si;
	memset(&si, 0, sizeof(si));
	si.si_signo = signo;
	si.si_code = code;
	/* A general protection fault carries no address (SI_KERNEL). */
	si.u.fault.addr = code == SI_KERNEL_ && signo == SIGSEGV ? 0 : addr;
	fault_classify(t, signo, code, addr, &t->fault_trapno, &t->fault_err);
	/* As force_sig_info: a blocked or ignored fault signal cannot be
	 * escaped; the disposition goes back to the default. */
	struct linux_sigaction *act = action_of(p, signo);
	if (act->handler == SIG_IGN_ || (t->sigmask & SIGBIT(signo))) {
		act->handler = SIG_DFL_;
		t->sigmask &= ~SIGBIT(signo);
	}
	/* Even init dies of a fault it does not handle. */
	if (act->handler == SIG_DFL_)
		p->init_killable = true;
	sigpending_add(&t->pending, &si);
}

void signal_notify_parent(struct process *p, int why, int status)
{
	struct process *parent = p->parent;
	if (!parent)
		return;
	bool stop_report = why == 5 /* CLD_STOPPED */ || why == 6 /* CLD_CONTINUED */;
	struct linux_sigaction *act = &parent->sighand->actions[SIGCHLD - 1];
	/* A parent that ignores SIGCHLD, or asked for SA_NOCLDWAIT, never sees
	 * zombies: the child is reaped at once. SIGCHLD is still sent unless it
	 * is ignored (do_notify_parent). */
	bool autoreap =
		!stop_report && p->exit_signal == SIGCHLD && (act->handler == SIG_IGN_ || (act->flags & SA_NOCLDWAIT));
	waitq_wake_all(&parent->child_events);
	int sig = stop_report ? SIGCHLD : p->exit_signal;
	if (!sig || (stop_report && (act->flags & SA_NOCLDSTOP)) || (autoreap && act->handler == SIG_IGN_)) {
		if (autoreap)
			process_release(p);
		return;
	}
	struct linux_siginfo si;
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = why;
	si.u.child.pid = p->pid;
	si.u.child.status = why == 1 ? (status >> 8) & 0xff : why == 6 ? SIGCONT : why == 5 ? status : status & 0x7f;
	signal_send_process(parent, &si);
	if (autoreap)
		process_release(p);
}

/* The frame. */

struct linux_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};
_Static_assert(sizeof(struct linux_sigcontext) == 256, "sigcontext");

struct linux_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct linux_stack uc_stack;
	struct linux_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};
_Static_assert(sizeof(struct linux_ucontext) == 304, "ucontext");

struct linux_rt_sigframe {
	uint64_t pretcode;
	struct linux_ucontext uc;
	struct linux_siginfo info;
};
_Static_assert(sizeof(struct linux_rt_sigframe) == 440, "rt_sigframe");
_Static_assert(offsetof(struct linux_rt_sigframe, info) == 312, "rt_sigframe.info");

#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define EFLAGS_TF 0x100ULL
#define EFLAGS_DF 0x400ULL
#define EFLAGS_RF 0x10000ULL
/* The flags sigreturn may restore (Linux's FIX_EFLAGS). */
#define FIX_EFLAGS 0x254dd5ULL
#define SS_AUTODISARM_ 0x80000000

static bool on_altstack(const struct task *t, uint64_t sp)
{
	return t->altstack.ss_size && sp > t->altstack.ss_sp && sp - t->altstack.ss_sp <= t->altstack.ss_size;
}

static int altstack_flags(const struct task *t)
{
	if (!t->altstack.ss_size)
		return SS_DISABLE;
	return on_altstack(t, t->regs.rsp) ? SS_ONSTACK : 0;
}

/* Builds the rt_sigframe for sig on t's stack and points t at the handler.
 * Returns 0, or -EFAULT when the frame cannot be written (then the caller
 * forces SIGSEGV, as Linux does). */
static long setup_frame(struct task *t, int sig, const struct linux_sigaction *act, const struct linux_siginfo *info,
			uint64_t old_mask)
{
	struct ward_as *as = task_as(t);

	if (!(act->flags & SA_RESTORER_))
		return -EFAULT;
	cleanup_free struct ward_fpstate *fp = malloc(sizeof(*fp));
	if (!fp)
		return -EFAULT;
	if (ward_fpstate_get(t->ctx, ward_as_platform(as), fp) < 0 || fp->size < 576 || fp->size > WARD_FPSTATE_SIZE)
		return -EFAULT;

	uint64_t sp = t->regs.rsp - 128; /* the red zone */
	if ((act->flags & SA_ONSTACK) && t->altstack.ss_size && !on_altstack(t, sp))
		sp = t->altstack.ss_sp + t->altstack.ss_size;
	uint64_t fp_addr = (sp - (fp->size + 4)) & ~63ULL;
	uint64_t frame_addr = ((fp_addr - sizeof(struct linux_rt_sigframe)) & ~15ULL) - 8;

	/* The software-reserved bytes of the FXSAVE area tell sigreturn (and
	 * debuggers) what follows: the kernel's fpx_sw_bytes. */
	uint32_t sw[12] = { 0 };
	uint64_t xfeatures;
	memcpy(&xfeatures, fp->bytes + 512, sizeof(xfeatures));
	sw[0] = FP_XSTATE_MAGIC1;
	sw[1] = fp->size + 4;
	memcpy(&sw[2], &xfeatures, sizeof(xfeatures));
	sw[4] = fp->size;
	memcpy(fp->bytes + 464, sw, sizeof(sw));
	uint32_t magic2 = FP_XSTATE_MAGIC2;

	struct linux_rt_sigframe frame;
	memset(&frame, 0, sizeof(frame));
	frame.pretcode = act->restorer;
	frame.uc.uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	frame.uc.uc_stack.ss_sp = t->altstack.ss_sp;
	frame.uc.uc_stack.ss_size = t->altstack.ss_size;
	frame.uc.uc_stack.ss_flags = altstack_flags(t);
	struct linux_sigcontext *sc = &frame.uc.uc_mcontext;
	const struct ward_regs *r = &t->regs;
	sc->r8 = r->r8, sc->r9 = r->r9, sc->r10 = r->r10, sc->r11 = r->r11;
	sc->r12 = r->r12, sc->r13 = r->r13, sc->r14 = r->r14, sc->r15 = r->r15;
	sc->rdi = r->rdi, sc->rsi = r->rsi, sc->rbp = r->rbp, sc->rbx = r->rbx;
	sc->rdx = r->rdx, sc->rax = r->rax, sc->rcx = r->rcx, sc->rsp = r->rsp;
	sc->rip = r->rip, sc->eflags = r->eflags;
	sc->cs = 0x33;
	sc->ss = 0x2b;
	sc->oldmask = old_mask;
	if (SYNCHRONOUS & SIGBIT(sig) && info->si_code > 0) {
		sc->trapno = t->fault_trapno;
		sc->err = t->fault_err;
		if (sig == SIGSEGV || sig == SIGBUS)
			sc->cr2 = info->u.fault.addr;
	}
	sc->fpstate = fp_addr;
	frame.uc.uc_sigmask = old_mask;
	frame.info = *info;

	if (ward_copy_out(as, gaddr(fp_addr), fp->bytes, fp->size) < 0 ||
	    ward_copy_out(as, gaddr(fp_addr + fp->size), &magic2, sizeof(magic2)) < 0 ||
	    WARD_COPY_OUT_OBJ(as, gaddr(frame_addr), &frame) < 0)
		return -EFAULT;

	t->regs.rdi = (uint64_t)sig;
	t->regs.rsi = frame_addr + offsetof(struct linux_rt_sigframe, info);
	t->regs.rdx = frame_addr + offsetof(struct linux_rt_sigframe, uc);
	t->regs.rax = 0;
	t->regs.rsp = frame_addr;
	t->regs.rip = act->handler;
	t->regs.eflags &= ~(EFLAGS_DF | EFLAGS_TF | EFLAGS_RF);
	t->regs.cs = 0x33;
	t->regs.ss = 0x2b;
	/* The handler starts with a clean FPU, as on Linux. */
	struct ward_fpstate *clean = fp;
	ward_fpstate_init(clean);
	ward_fpstate_set(t->ctx, ward_as_platform(as), clean);
	if (t->altstack.ss_flags & SS_AUTODISARM_)
		memset(&t->altstack, 0, sizeof(t->altstack));
	return 0;
}

long signal_return(struct task *t)
{
	struct ward_as *as = task_as(t);
	struct linux_ucontext uc;
	/* The frame's FPU state, and the current one (for its size). */
	cleanup_free struct ward_fpstate *fp = malloc(2 * sizeof(*fp));
	if (!fp)
		goto bad;

	uint64_t frame_addr = t->regs.rsp - 8;
	if (WARD_COPY_IN_OBJ(as, &uc, gaddr(frame_addr + offsetof(struct linux_rt_sigframe, uc))) < 0)
		goto bad;
	const struct linux_sigcontext *sc = &uc.uc_mcontext;
	struct ward_regs *r = &t->regs;
	r->r8 = sc->r8, r->r9 = sc->r9, r->r10 = sc->r10, r->r11 = sc->r11;
	r->r12 = sc->r12, r->r13 = sc->r13, r->r14 = sc->r14, r->r15 = sc->r15;
	r->rdi = sc->rdi, r->rsi = sc->rsi, r->rbp = sc->rbp, r->rbx = sc->rbx;
	r->rdx = sc->rdx, r->rax = sc->rax, r->rcx = sc->rcx, r->rsp = sc->rsp;
	r->rip = sc->rip;
	r->eflags = (r->eflags & ~FIX_EFLAGS) | (sc->eflags & FIX_EFLAGS);
	r->cs = 0x33;
	r->ss = 0x2b;
	/* Not a system call any more: nothing to restart. */
	r->orig_rax = (uint64_t)-1;
	t->sigmask = uc.uc_sigmask & ~UNBLOCKABLE;

	/* The alternate stack, as sigaltstack would set it (errors ignored,
	 * as restore_altstack does). */
	if (!on_altstack(t, r->rsp)) {
		int mode = uc.uc_stack.ss_flags & ~SS_AUTODISARM_;
		if (mode == SS_DISABLE)
			memset(&t->altstack, 0, sizeof(t->altstack));
		else if (mode == 0 && uc.uc_stack.ss_size >= 2048)
			t->altstack = uc.uc_stack;
	}

	if (sc->fpstate) {
		uint64_t size = 0;
		uint32_t sw[12];
		if (ward_copy_in(as, sw, gaddr(sc->fpstate + 464), sizeof(sw)) < 0)
			goto bad;
		size = sw[0] == FP_XSTATE_MAGIC1 ? sw[4] : 512;
		if (size < 512 || size > WARD_FPSTATE_SIZE)
			goto bad;
		memset(fp, 0, sizeof(*fp));
		if (ward_copy_in(as, fp->bytes, gaddr(sc->fpstate), size) < 0)
			goto bad;
		/* An FXSAVE-only frame: keep the rest of the XSAVE area clean. */
		struct ward_fpstate *cur = fp + 1;
		if (ward_fpstate_get(t->ctx, ward_as_platform(as), cur) < 0)
			goto bad;
		fp->size = cur->size;
		if (size == 512)
			memset(fp->bytes + 512, 0, 64);
		memset(fp->bytes + 464, 0, 48);
		if (ward_fpstate_set(t->ctx, ward_as_platform(as), fp) < 0)
			goto bad;
	} else {
		struct ward_fpstate *clean = fp;
		ward_fpstate_init(clean);
		ward_fpstate_set(t->ctx, ward_as_platform(as), clean);
	}
	return (long)r->rax;
bad:
	signal_force_fault(t, SIGSEGV, SI_KERNEL_, 0);
	return (long)t->regs.rax;
}

/* Stops the process for job control until SIGCONT (or SIGKILL). */
static void do_stop(struct task *t, int sig)
{
	struct process *p = t->proc;
	if (p->stop != PROC_STOPPED) {
		p->stop = PROC_STOPPED;
		p->stop_signal = sig;
		p->report_stop = true;
		p->report_continue = false;
		signal_notify_parent(p, 5 /* CLD_STOPPED */, sig);
	}
	while (p->stop == PROC_STOPPED && !t->exiting && !((t->pending.set | p->pending.set) & SIGBIT(SIGKILL)))
		ward_cond_wait(&t->wake, 0);
}

static bool is_restart_code(long r)
{
	return r == -WARD_ERESTARTSYS || r == -WARD_ERESTARTNOINTR || r == -WARD_ERESTARTNOHAND ||
	       r == -WARD_ERESTART_RESTARTBLOCK;
}

void signal_deliver(struct task *t, bool in_syscall, long result)
{
	struct process *p = t->proc;
	bool restart_pending = in_syscall && is_restart_code(result);
	bool handled = false;

	while (!t->exiting) {
		struct linux_siginfo info;
		int sig = sigpending_dequeue(&t->pending, t->sigmask, &info);
		if (!sig)
			sig = sigpending_dequeue(&p->pending, t->sigmask, &info);
		if (!sig) {
			/* SIGKILL is never blocked. */
			if ((t->pending.set | p->pending.set) & SIGBIT(SIGKILL)) {
				process_exit(t, SIGKILL);
				return;
			}
			break;
		}
		if (sig == SIGKILL) {
			process_exit(t, SIGKILL);
			return;
		}
		struct linux_sigaction *act = action_of(p, sig);
		if (act->handler == SIG_IGN_ && sig != SIGSTOP)
			continue;
		if (act->handler == SIG_DFL_ || sig == SIGSTOP) {
			switch (default_action(sig)) {
			case ACT_IGNORE:
			case ACT_CONT:
				continue;
			case ACT_STOP:
				/* Init ignores stop signals it does not handle. */
				if (p->pid == 1)
					continue;
				do_stop(t, sig);
				continue;
			case ACT_TERM:
			case ACT_CORE:
				if (p->pid == 1 && !p->init_killable)
					continue;
				/* No core files in a sandbox, so never the core bit. */
				process_exit(t, sig);
				return;
			}
		}
		/* A handler runs: decide about the interrupted call first. */
		if (restart_pending) {
			restart_pending = false;
			if (result == -WARD_ERESTARTNOINTR ||
			    (result == -WARD_ERESTARTSYS && (act->flags & SA_RESTART))) {
				t->regs.rax = t->regs.orig_rax;
				t->regs.rip -= 2;
			} else {
				t->regs.rax = (uint64_t)-EINTR;
			}
		}
		uint64_t old_mask = t->restore_sigmask ? t->saved_sigmask : t->sigmask;
		t->restore_sigmask = false;
		if (setup_frame(t, sig, act, &info, old_mask) < 0) {
			signal_force_fault(t, SIGSEGV, SI_KERNEL_, 0);
			action_of(p, SIGSEGV)->handler = SIG_DFL_;
			continue;
		}
		t->sigmask |= act->mask | ((act->flags & SA_NODEFER) ? 0 : SIGBIT(sig));
		t->sigmask &= ~UNBLOCKABLE;
		if (act->flags & SA_RESETHAND) {
			act->handler = SIG_DFL_;
			act->flags &= ~(uint64_t)SA_SIGINFO;
		}
		handled = true;
	}
	if (restart_pending && !handled) {
		/* No handler ran: the call goes again, transparently. */
		if (result == -WARD_ERESTART_RESTARTBLOCK)
			t->regs.rax = NR_RESTART_SYSCALL;
		else
			t->regs.rax = t->regs.orig_rax;
		t->regs.rip -= 2;
	}
	if (t->restore_sigmask) {
		t->restore_sigmask = false;
		t->sigmask = t->saved_sigmask;
	}
}

void signal_exec_reset(struct task *t)
{
	struct process *p = t->proc;
	/* A shared table is unshared first (unshare_sighand in exec). */
	if (p->sighand->refs > 1) {
		struct sighand *own = malloc(sizeof(*own));
		if (own) {
			*own = *p->sighand;
			own->refs = 1;
			p->sighand->refs--;
			p->sighand = own;
		}
	}
	for (int i = 0; i < WARD_NSIG; i++) {
		if (p->sighand->actions[i].handler != SIG_IGN_) {
			memset(&p->sighand->actions[i], 0, sizeof(p->sighand->actions[i]));
		} else {
			p->sighand->actions[i].flags = 0;
			p->sighand->actions[i].mask = 0;
			p->sighand->actions[i].restorer = 0;
		}
	}
	memset(&t->altstack, 0, sizeof(t->altstack));
}

long signal_swap_mask(struct task *t, gaddr_t mask_addr, uint64_t size)
{
	uint64_t mask;
	if (gaddr_is_null(mask_addr))
		return 0;
	if (size != 8)
		return -EINVAL;
	if (WARD_COPY_IN_OBJ(task_as(t), &mask, mask_addr) < 0)
		return -EFAULT;
	t->saved_sigmask = t->sigmask;
	t->restore_sigmask = true;
	t->sigmask = mask & ~UNBLOCKABLE;
	return 0;
}
