/* The ptrace platform: each guest address space is a stub process traced
 * with PTRACE_SYSEMU, so every guest system call stops in the sentry and
 * none runs on the host.
 *
 * The stub starts as a fork of a sentry task thread, copies stub.S to a
 * fixed page, installs a seccomp filter that allows a handful of memory
 * calls from that page only, unmaps everything else and traps. The sentry
 * then changes the stub's mappings by injecting those calls: it points the
 * stub's registers at the stub's syscall instruction and lets it run to the
 * int3 that follows.
 *
 * Tracing is per host thread, so each sentry thread that runs an address
 * space has a stub of its own for it: the guest threads of one process are
 * separate host processes that map the same memory-file ranges at the same
 * addresses, which is all sharing an address space means. A change of the
 * mappings goes into the address space's log; each stub applies what it
 * has not seen before it next runs guest code. Removing access (munmap,
 * mprotect) also interrupts the stubs that are running and waits until
 * they have stopped, so no guest thread keeps using memory that is gone.
 *
 * Locking: one platform lock guards the stubs, the logs and the contexts'
 * lists. Lock order: the core's address-space lock, then this one. */
#include "../../sentry/core/core.h"
#include "stub.h"

#include <elf.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

extern const char ward__ptrace_stub_code[];
extern const char ward__ptrace_stub_code_end[];
extern const char ward__ptrace_stub_syscall[];

/* The signal ctx_interrupt sends to a running stub. Any signal would stop a
 * tracee; this one is unused by the sentry and by stubs. */
#define INTERRUPT_SIGNAL (SIGRTMAX)

_Static_assert(sizeof(struct user_regs_struct) == sizeof(struct ward_regs), "regs layout");

struct stub {
	pid_t pid;
	pthread_t tracer;
	uint64_t gen; /* the log generation this stub has applied */
	int cpu; /* the host CPU the stub is pinned to, or -1 */
	struct ward_platform_as *as;
	struct ward_platform_ctx *ctx;
	struct stub *next_in_as;
	struct stub *next_in_ctx;
};

enum map_op { OP_MAP, OP_UNMAP, OP_PROTECT };

struct log_entry {
	uint64_t gen;
	enum map_op op;
	uint64_t addr, len, off;
	int prot;
};

struct ward_platform_as {
	struct ward_as *owner;
	struct stub *stubs;
	_Atomic uint64_t gen;
	struct log_entry *log;
	size_t nlog, cap;
};

struct ward_platform_ctx {
	pthread_t owner;
	cpu_set_t allowed; /* the tracer thread's own affinity, restored now and then */
	int cpu; /* the CPU the tracer is pinned to, or -1 */
	uint64_t runs;
	_Atomic pid_t running; /* the stub being run, or 0 */
	_Atomic(struct ward_platform_as *) running_as;
	atomic_bool interrupt;
	struct stub *stubs;
	struct ward_platform_ctx *next;
};

static pthread_mutex_t plat_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ward_platform_ctx *all_ctxs;

static uint64_t stub_syscall_ip(void)
{
	return WARD_PTRACE_STUB_BASE + (uint64_t)(ward__ptrace_stub_syscall - ward__ptrace_stub_code);
}

/* The stub's own host surface: memory calls and exit, from the stub page,
 * native x86-64 only. Everything else kills the stub. Guest system calls
 * never reach this filter (PTRACE_SYSEMU stops them before seccomp runs);
 * it bounds what an injected call, or a bug in the sentry, could do. */
static int install_stub_filter(void)
{
	const uint32_t lo = (uint32_t)WARD_PTRACE_STUB_BASE;
	const uint32_t hi = (uint32_t)(WARD_PTRACE_STUB_BASE >> 32);
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
		/* The host kernel's emulation of a vsyscall-page call asks the
		 * filter too (PTRACE_SYSEMU does not stop it): trap it to the
		 * tracer as a system call. */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffU, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0xff600000U, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo + WARD_PTRACE_STUB_SIZE, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 5, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_munmap, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = WARD_ARRAY_SIZE(filter), .filter = filter };

	if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* Runs in the forked child. Only raw system calls from here on: the child
 * of a multi-threaded process may not take libc's locks. */
__attribute__((noreturn)) static void stub_child(pid_t parent, int memfd)
{
	sigset_t all;

	syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (syscall(SYS_getppid) != parent)
		syscall(SYS_exit_group, 1);
	/* Out of the terminal's foreground group: keyboard signals go to the
	 * sentry, which decides what the guest sees. */
	syscall(SYS_setpgid, 0, 0);
	sigemptyset(&all);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof(uint64_t));
	/* Keep only the memory file, as fd 3. */
	if (memfd != 3 && syscall(SYS_dup3, memfd, 3, 0) < 0)
		syscall(SYS_exit_group, 2);
	syscall(SYS_close_range, 0, 2, 0);
	syscall(SYS_close_range, 4, ~0U, 0);
	/* glibc registered an rseq area in this thread's TLS, which the stub is
	 * about to unmap: the kernel would then fail to update it on some
	 * return to user mode and kill the stub with SIGSEGV. The length must be
	 * the registered one, sizeof(struct rseq), not __rseq_size. */
	if (__rseq_size > 0)
		syscall(SYS_rseq, (char *)__builtin_thread_pointer() + __rseq_offset, sizeof(struct rseq),
			RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
	if (syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0) < 0)
		syscall(SYS_exit_group, 3);
	syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);

	size_t code_len = (size_t)(ward__ptrace_stub_code_end - ward__ptrace_stub_code);
	void *page = (void *)syscall(SYS_mmap, WARD_PTRACE_STUB_BASE, WARD_PTRACE_STUB_SIZE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (page != (void *)WARD_PTRACE_STUB_BASE)
		syscall(SYS_exit_group, 4);
	/* SAFETY: the child's own fresh page at the stub address, and the stub
	 * code in the child's copy of the sentry's text. */
	memcpy(page, ward__ptrace_stub_code, code_len);
	if (syscall(SYS_mprotect, WARD_PTRACE_STUB_BASE, WARD_PTRACE_STUB_SIZE, PROT_READ | PROT_EXEC) < 0)
		syscall(SYS_exit_group, 5);
	if (install_stub_filter() < 0)
		syscall(SYS_exit_group, 6);
	/* SAFETY: jumps to the stub's entry, which never returns. */
	__asm__ volatile("jmp *%0" : : "r"((uint64_t)WARD_PTRACE_STUB_BASE));
	__builtin_unreachable();
}

static long wait_stop(pid_t pid, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, __WALL);
		if (r == pid)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -errno : -ECHILD;
	}
}

/* Runs one host system call inside a stopped stub traced by the caller.
 * Returns its result, or -ECHILD if the stub is gone. */
static long inject(struct stub *st, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		   uint64_t a5)
{
	struct user_regs_struct regs;
	int status;

	if (ptrace(PTRACE_GETREGS, st->pid, 0, &regs) < 0)
		return -ECHILD;
	regs.rip = stub_syscall_ip();
	regs.rax = (uint64_t)nr;
	regs.orig_rax = (uint64_t)-1;
	regs.rdi = a0;
	regs.rsi = a1;
	regs.rdx = a2;
	regs.r10 = a3;
	regs.r8 = a4;
	regs.r9 = a5;
	if (ptrace(PTRACE_SETREGS, st->pid, 0, &regs) < 0 || ptrace(PTRACE_CONT, st->pid, 0, 0) < 0)
		return -ECHILD;
	for (;;) {
		if (wait_stop(st->pid, &status) < 0 || !WIFSTOPPED(status))
			return -ECHILD;
		if (WSTOPSIG(status) == SIGTRAP)
			break;
		/* A signal that arrived meanwhile (an interrupt): drop it, the
		 * next run notices the interrupt flag. */
		if (ptrace(PTRACE_CONT, st->pid, 0, 0) < 0)
			return -ECHILD;
	}
	if (ptrace(PTRACE_GETREGS, st->pid, 0, &regs) < 0)
		return -ECHILD;
	return (long)regs.rax;
}

static long apply(struct stub *st, enum map_op op, uint64_t addr, uint64_t len, int prot, uint64_t off)
{
	long r;
	switch (op) {
	case OP_MAP:
		/* fd 3 of the stub is the memory file (stub_child). */
		r = inject(st, SYS_mmap, addr, len, (uint64_t)ward__host_prot(prot), MAP_SHARED | MAP_FIXED, 3, off);
		if (r < 0 && r > -4096)
			return r;
		return (uint64_t)r == addr ? 0 : -ENOMEM;
	case OP_UNMAP:
		r = inject(st, SYS_munmap, addr, len, 0, 0, 0, 0);
		return r < 0 ? r : 0;
	case OP_PROTECT:
		r = inject(st, SYS_mprotect, addr, len, (uint64_t)ward__host_prot(prot), 0, 0, 0);
		return r < 0 ? r : 0;
	}
	return -EINVAL;
}

/* The size of the host's user XSAVE area (PTRACE_GETREGSET tells it; a
 * SETREGSET must pass exactly this much). */
static uint32_t host_xstate_size;

static int xstate_io(pid_t pid, int request, struct ward_fpstate *fp)
{
	struct iovec iov = { fp->bytes, sizeof(fp->bytes) };
	if (request == PTRACE_SETREGSET && fp->size >= 512 && fp->size <= sizeof(fp->bytes))
		iov.iov_len = fp->size;
	int r = (int)ptrace(request, pid, (void *)NT_X86_XSTATE, &iov);
	if (r == 0 && request == PTRACE_GETREGSET)
		fp->size = (uint32_t)iov.iov_len;
	return r;
}

static long ptrace_init(void)
{
	return 0;
}

static void reap(pid_t pid)
{
	int status;
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;
}

/* Forks a new stub traced by the calling thread. */
static long stub_spawn(pid_t *out)
{
	int status = 0;
	pid_t parent = getpid();
	pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (pid < 0)
		return -errno;
	if (pid == 0)
		stub_child(parent, ward__memfile_fd());
	/* The child stops itself once traced; then it may run to the stub. */
	if (wait_stop(pid, &status) < 0 || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP)
		goto fail;
	if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD) < 0)
		goto fail;
	if (ptrace(PTRACE_CONT, pid, 0, 0) < 0)
		goto fail;
	if (wait_stop(pid, &status) < 0 || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP)
		goto fail;
	if (!host_xstate_size) {
		static struct ward_fpstate probe;
		if (xstate_io(pid, PTRACE_GETREGSET, &probe) == 0)
			host_xstate_size = probe.size;
	}
	*out = pid;
	return 0;
fail:
	ward_log(WARD_LOG_ERROR, "ptrace: the stub did not start (status %#x)", status);
	reap(pid);
	return -ECHILD;
}

/* Removes st from both lists and kills it. Caller holds plat_lock. */
static void stub_drop(struct stub *st)
{
	for (struct stub **pp = &st->as->stubs; *pp; pp = &(*pp)->next_in_as) {
		if (*pp == st) {
			*pp = st->next_in_as;
			break;
		}
	}
	for (struct stub **pp = &st->ctx->stubs; *pp; pp = &(*pp)->next_in_ctx) {
		if (*pp == st) {
			*pp = st->next_in_ctx;
			break;
		}
	}
	reap(st->pid);
	free(st);
}

static long ptrace_as_create(struct ward_as *owner, struct ward_platform_as **out)
{
	struct ward_platform_as *as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	as->owner = owner;
	*out = as;
	return 0;
}

static void ptrace_as_destroy(struct ward_platform_as *as)
{
	if (!as)
		return;
	pthread_mutex_lock(&plat_lock);
	while (as->stubs)
		stub_drop(as->stubs);
	pthread_mutex_unlock(&plat_lock);
	free(as->log);
	free(as);
}

/* The stub the calling thread uses for as, or NULL. Caller holds plat_lock. */
static struct stub *my_stub(struct ward_platform_as *as)
{
	for (struct stub *st = as->stubs; st; st = st->next_in_as)
		if (pthread_equal(st->tracer, pthread_self()))
			return st;
	return NULL;
}

/* Drops log entries every stub has applied. Caller holds plat_lock. */
static void log_trim(struct ward_platform_as *as)
{
	uint64_t min = atomic_load(&as->gen);
	for (struct stub *st = as->stubs; st; st = st->next_in_as)
		if (st->gen < min)
			min = st->gen;
	size_t keep = 0;
	while (keep < as->nlog && as->log[keep].gen <= min)
		keep++;
	if (keep == 0)
		return;
	memmove(as->log, as->log + keep, (as->nlog - keep) * sizeof(*as->log));
	as->nlog -= keep;
}

/* Records a change and applies it to the caller's own stub. Removals and
 * replacements also wait until no other stub of as runs guest code with
 * the old mapping. */
static long as_change(struct ward_platform_as *as, enum map_op op, uint64_t addr, uint64_t len, int prot, uint64_t off)
{
	pthread_mutex_lock(&plat_lock);
	struct stub *mine = my_stub(as);
	if (as->stubs && (as->stubs != mine || mine->next_in_as)) {
		if (as->nlog == as->cap) {
			size_t cap = as->cap ? as->cap * 2 : 64;
			struct log_entry *l = realloc(as->log, cap * sizeof(*l));
			if (!l) {
				pthread_mutex_unlock(&plat_lock);
				return -ENOMEM;
			}
			as->log = l;
			as->cap = cap;
		}
		as->log[as->nlog++] = (struct log_entry){ atomic_load(&as->gen) + 1, op, addr, len, off, prot };
	}
	uint64_t gen = atomic_fetch_add(&as->gen, 1) + 1;
	long r = 0;
	if (mine) {
		r = apply(mine, op, addr, len, prot, off);
		if (mine->gen == gen - 1)
			mine->gen = gen;
	}
	if (op != OP_MAP || (prot & WARD_PROT_REPLACE)) {
		/* Dekker with ctx_run: the generation is bumped before we look
		 * at who is running, and a runner announces itself before it
		 * reads the generation. */
		for (struct ward_platform_ctx *c = all_ctxs; c; c = c->next) {
			if (pthread_equal(c->owner, pthread_self()) || atomic_load(&c->running_as) != as)
				continue;
			atomic_store(&c->interrupt, true);
			/* The runner may be just about to enter the guest: signal
			 * each stub pid it shows, until it has left. */
			pid_t signalled = 0;
			while (atomic_load(&c->running_as) == as) {
				pid_t pid = atomic_load(&c->running);
				if (pid > 0 && pid != signalled) {
					syscall(SYS_tgkill, pid, pid, INTERRUPT_SIGNAL);
					signalled = pid;
				}
				sched_yield();
			}
		}
	}
	log_trim(as);
	pthread_mutex_unlock(&plat_lock);
	return r;
}

static long ptrace_as_map(struct ward_platform_as *as, uint64_t addr, uint64_t len, int prot, uint64_t memfile_off)
{
	return as_change(as, OP_MAP, addr, len, prot, memfile_off);
}

static long ptrace_as_unmap(struct ward_platform_as *as, uint64_t addr, uint64_t len)
{
	return as_change(as, OP_UNMAP, addr, len, 0, 0);
}

static long ptrace_as_protect(struct ward_platform_as *as, uint64_t addr, uint64_t len, int prot)
{
	return as_change(as, OP_PROTECT, addr, len, prot, 0);
}

static long ptrace_ctx_create(struct ward_platform_ctx **out)
{
	struct ward_platform_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->owner = pthread_self();
	ctx->cpu = -1;
	if (sched_getaffinity(0, sizeof(ctx->allowed), &ctx->allowed) < 0)
		CPU_ZERO(&ctx->allowed);
	pthread_mutex_lock(&plat_lock);
	ctx->next = all_ctxs;
	all_ctxs = ctx;
	pthread_mutex_unlock(&plat_lock);
	*out = ctx;
	return 0;
}

static void ptrace_ctx_destroy(struct ward_platform_ctx *ctx)
{
	pthread_mutex_lock(&plat_lock);
	while (ctx->stubs)
		stub_drop(ctx->stubs);
	for (struct ward_platform_ctx **pp = &all_ctxs; *pp; pp = &(*pp)->next) {
		if (*pp == ctx) {
			*pp = ctx->next;
			break;
		}
	}
	pthread_mutex_unlock(&plat_lock);
	/* Give the thread its own affinity back. */
	if (ctx->cpu >= 0 && pthread_equal(ctx->owner, pthread_self()) && CPU_COUNT(&ctx->allowed) > 0)
		sched_setaffinity(0, sizeof(ctx->allowed), &ctx->allowed);
	free(ctx);
}

static int replay_one(void *arg, uint64_t start, uint64_t len, int prot, uint64_t off)
{
	return (int)apply(arg, OP_MAP, start, len, prot, off);
}

/* The caller's stub for as, created (and given every current mapping) if
 * it has none, and brought up to date with the log. */
static struct stub *stub_for(struct ward_platform_ctx *ctx, struct ward_platform_as *as)
{
	pthread_mutex_lock(&plat_lock);
	struct stub *st = my_stub(as);
	pthread_mutex_unlock(&plat_lock);
	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return NULL;
		if (stub_spawn(&st->pid) < 0) {
			free(st);
			return NULL;
		}
		st->tracer = pthread_self();
		st->cpu = -1;
		st->as = as;
		st->ctx = ctx;
		/* Listed first (at generation 0, so the log keeps everything from
		 * now on), then given what is mapped now: the core's lock holds the
		 * mappings still during the replay, and the generation read under
		 * it says which log entries the replay already covers. */
		pthread_mutex_lock(&plat_lock);
		st->next_in_as = as->stubs;
		as->stubs = st;
		st->next_in_ctx = ctx->stubs;
		ctx->stubs = st;
		pthread_mutex_unlock(&plat_lock);
		uint64_t gen = 0;
		if (ward__as_replay(as->owner, replay_one, st, &as->gen, &gen) < 0) {
			pthread_mutex_lock(&plat_lock);
			stub_drop(st);
			pthread_mutex_unlock(&plat_lock);
			return NULL;
		}
		st->gen = gen;
	}
	if (st->gen != atomic_load(&as->gen)) {
		pthread_mutex_lock(&plat_lock);
		for (size_t i = 0; i < as->nlog; i++) {
			const struct log_entry *e = &as->log[i];
			if (e->gen > st->gen)
				apply(st, e->op, e->addr, e->len, e->prot, e->off);
		}
		st->gen = atomic_load(&as->gen);
		log_trim(as);
		pthread_mutex_unlock(&plat_lock);
	}
	return st;
}

static void fill_fault(struct ward_stop *stop, pid_t pid, int sig)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
	stop->kind = WARD_STOP_FAULT;
	stop->signo = sig;
	stop->code = si.si_code;
	stop->addr = (uint64_t)si.si_addr;
}

/* How many runs a tracer stays pinned before the host may move it again. */
#define REBALANCE_RUNS 1024

/* Keeps the tracer and its stub on one CPU. Every guest system call is two
 * hand-offs between them; on one CPU a hand-off is a plain switch, across
 * two it is a cross-CPU wake-up, which measured almost six times slower
 * here (getpid: 8 us pinned, 47 us not, 15 us with only the stub
 * following). Every REBALANCE_RUNS runs the tracer gets its own affinity
 * back for one run, so the host scheduler can still spread busy tasks over
 * the CPUs; the next run pins both where the tracer then is. */
static void pin_together(struct ward_platform_ctx *ctx, struct stub *st)
{
	if (++ctx->runs % REBALANCE_RUNS == 0 && CPU_COUNT(&ctx->allowed) > 0) {
		sched_setaffinity(0, sizeof(ctx->allowed), &ctx->allowed);
		ctx->cpu = -1;
		return;
	}
	int cpu = sched_getcpu();
	if (cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (cpu != ctx->cpu && sched_setaffinity(0, sizeof(set), &set) == 0)
		ctx->cpu = cpu;
	if (cpu != st->cpu && sched_setaffinity(st->pid, sizeof(set), &set) == 0)
		st->cpu = cpu;
}

static long ptrace_fpstate_get(struct ward_platform_ctx *ctx, struct ward_platform_as *as, struct ward_fpstate *fp)
{
	struct stub *st = stub_for(ctx, as);
	if (!st)
		return -ECHILD;
	return xstate_io(st->pid, PTRACE_GETREGSET, fp) < 0 ? -errno : 0;
}

static long ptrace_fpstate_set(struct ward_platform_ctx *ctx, struct ward_platform_as *as,
			       const struct ward_fpstate *fp)
{
	struct stub *st = stub_for(ctx, as);
	if (!st)
		return -ECHILD;
	/* SAFETY: SETREGSET only reads the buffer. */
	return xstate_io(st->pid, PTRACE_SETREGSET, (struct ward_fpstate *)fp) < 0 ? -errno : 0;
}

static long ptrace_ctx_run(struct ward_platform_ctx *ctx, struct ward_platform_as *as, struct ward_regs *regs,
			   struct ward_fpstate *fp, struct ward_stop *stop)
{
	int status;

	if (!pthread_equal(ctx->owner, pthread_self()))
		return -EPERM;
	memset(stop, 0, sizeof(*stop));
	for (;;) {
		struct stub *st = stub_for(ctx, as);
		if (!st)
			return -ECHILD;
		/* Announce the address space, then look at its generation again:
		 * with as_change's bump-then-look, one of the two sees the other
		 * (see there). */
		atomic_store(&ctx->running_as, as);
		if (st->gen != atomic_load(&as->gen)) {
			atomic_store(&ctx->running_as, NULL);
			continue;
		}
		if (atomic_exchange(&ctx->interrupt, false)) {
			stop->kind = WARD_STOP_INTERRUPT;
			break;
		}
		pin_together(ctx, st);
		/* SAFETY: ward_regs has the layout of user_regs_struct (asserted). */
		if (ptrace(PTRACE_SETREGS, st->pid, 0, regs) < 0)
			goto lost;
		/* The FPU state stays in the stub between runs; it moves only when
		 * the caller asks, since it is large. */
		if (fp && xstate_io(st->pid, PTRACE_SETREGSET, fp) < 0)
			goto lost;
		atomic_store(&ctx->running, st->pid);
		if (ptrace(PTRACE_SYSEMU, st->pid, 0, 0) < 0)
			goto lost;
		if (wait_stop(st->pid, &status) < 0 || !WIFSTOPPED(status))
			goto lost;
		atomic_store(&ctx->running, 0);
		int sig = WSTOPSIG(status);
		bool retry = false;
		int vsyscall_nr = -1;
		if (sig == (SIGTRAP | 0x80)) {
			stop->kind = WARD_STOP_SYSCALL;
		} else if (sig == SIGSYS) {
			/* A vsyscall-page call the filter trapped (the only
			 * thing it traps): the kernel has already made the
			 * call's return, so it is a system call whose result
			 * goes to rax. Any other SIGSYS is an interruption. */
			siginfo_t si;
			memset(&si, 0, sizeof(si));
			ptrace(PTRACE_GETSIGINFO, st->pid, 0, &si);
			stop->kind = WARD_STOP_INTERRUPT;
			if (si.si_code == 1 /* SYS_SECCOMP */) {
				stop->kind = WARD_STOP_SYSCALL;
				vsyscall_nr = si.si_syscall;
			}
		} else if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP) {
			fill_fault(stop, st->pid, sig);
			/* A kernel-made si_code (> 0) is a real fault; one sent with
			 * kill() from outside is only an interruption. A fault on a
			 * page another thread mapped since this stub last caught up
			 * is no fault: catch up and go again. */
			if (stop->code <= 0)
				stop->kind = WARD_STOP_INTERRUPT;
			else if (sig == SIGSEGV && st->gen != atomic_load(&as->gen))
				retry = true;
		} else {
			stop->kind = WARD_STOP_INTERRUPT;
		}
		if (ptrace(PTRACE_GETREGS, st->pid, 0, regs) < 0)
			goto lost;
		if (vsyscall_nr >= 0)
			regs->orig_rax = (uint64_t)vsyscall_nr;
		if (retry) {
			atomic_store(&ctx->running_as, NULL);
			continue;
		}
		if (fp && xstate_io(st->pid, PTRACE_GETREGSET, fp) < 0)
			goto lost;
		break;
	}
	atomic_store(&ctx->running_as, NULL);
	return 0;
lost:
	atomic_store(&ctx->running, 0);
	atomic_store(&ctx->running_as, NULL);
	return -ECHILD;
}

static void ptrace_ctx_interrupt(struct ward_platform_ctx *ctx)
{
	atomic_store(&ctx->interrupt, true);
	pid_t pid = atomic_load(&ctx->running);
	if (pid > 0)
		syscall(SYS_tgkill, pid, pid, INTERRUPT_SIGNAL);
}

static void ptrace_fpstate_init(struct ward_fpstate *fp)
{
	ward__fpstate_clean(fp, host_xstate_size);
}

const struct ward_platform ward__ptrace_platform = {
	.name = "ptrace",
	.init = ptrace_init,
	.user_limit = WARD_PTRACE_STUB_BASE,
	.as_create = ptrace_as_create,
	.as_destroy = ptrace_as_destroy,
	.as_map = ptrace_as_map,
	.as_unmap = ptrace_as_unmap,
	.as_protect = ptrace_as_protect,
	.ctx_create = ptrace_ctx_create,
	.ctx_destroy = ptrace_ctx_destroy,
	.ctx_run = ptrace_ctx_run,
	.ctx_interrupt = ptrace_ctx_interrupt,
	.fpstate_init = ptrace_fpstate_init,
	.fpstate_get = ptrace_fpstate_get,
	.fpstate_set = ptrace_fpstate_set,
};
