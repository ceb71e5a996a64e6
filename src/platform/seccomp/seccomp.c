/* The seccomp platform: each guest address space is a stub process whose
 * threads run the guest's threads, and a seccomp filter traps (SIGSYS)
 * every system call that does not come from the stub's own code page.
 *
 * A guest thread's signal handler runs on a signal stack in memory the
 * sentry shares (the memory file), so the kernel itself writes the
 * thread's registers and FPU state where the sentry reads them: the handler
 * only says "stopped" and waits until the sentry has handled the call,
 * rewritten the frame and said "run"; its return is an rt_sigreturn that
 * loads the frame. A hand-off spins a little, then sleeps on a futex.
 *
 * The mappings of a stub are shared by its threads (one host mm), so a
 * change is made once, by the stub's control thread, which serves the
 * sentry's requests (in batches) from a page the stub can only read and
 * reports each batch done on a pipe that only it may write: a guest thread
 * can neither forge a request nor make the sentry believe one finished
 * before it did. Until a stub has its first thread, no guest code can run
 * in it, and its mapping requests wait to go in one batch (see
 * mapping_request).
 *
 * What the guest can write (its thread mailboxes and signal frames) the
 * sentry reads as untrusted: every pointer found there is bounds-checked
 * against the thread's region before use.
 *
 * Locking: one platform lock guards the stubs' thread lists and the
 * contexts; each stub's request lock orders its control requests. */
#include "../../sentry/core/core.h"
#include "seccomp_stub.h"

#include <cpuid.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <time.h>

extern const char ward__seccomp_stub_code[];
extern const char ward__seccomp_stub_code_end[];
extern const char ward__seccomp_stub_handler[];
extern const char ward__seccomp_stub_restorer[];
extern const char ward__seccomp_stub_fast[];
extern const char ward__seccomp_stub_fast_end[];

#define STUB_ADDR(sym) (WARD_SECCOMP_STUB_BASE + (uint64_t)((sym)-ward__seccomp_stub_code))

/* The host signal ctx_interrupt sends to a running guest thread. */
#define INTERRUPT_SIGNAL 64
/* The kernel's flag for a handler with its own return trampoline. */
#define SA_RESTORER 0x04000000
/* How long an interrupted thread may take to stop before the sentry gives
 * it up (a guest that blocked the signal with a forged sigreturn). */
#define INTERRUPT_GRACE_NS 2000000000LL

/* How many idle guest threads a stub keeps for reuse. */
#define MAX_PARKED 16

/* The stub's request: the control thread's clone of a guest thread. */
#define THREAD_CLONE_FLAGS                                                                                        \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID | \
	 CLONE_CHILD_CLEARTID)

struct sthread {
	struct ward_platform_as *as;
	struct ward_platform_ctx *ctx;
	uint64_t region_off; /* memory-file offset of the region */
	uint64_t region_addr; /* its address in the stub */
	pid_t tid;
	/* Recent guest run and sentry handling times (TSC cycles, moving
	 * averages): a side spins only when the other has been quick. */
	uint64_t avg_run, avg_handle;
	uint64_t stopped_at; /* TSC at the last stop */
	int cpu; /* the CPU the host thread is pinned to, or -1 */
	/* Patched sites: the thread stopped in the patched-site entry (its
	 * registers are in TH_P, its FPU state still in the CPU), not in the
	 * handler; site is 1 + the index of the patched site of its last
	 * syscall stop, or 0; run_fs is the FS base it was last run with. */
	bool fast;
	uint32_t site;
	uint64_t stop_rip; /* rip after the last syscall stop, or 0 */
	uint64_t run_fs;
	struct sthread *next_in_as;
	struct sthread *next_in_ctx;
};

struct ward_platform_as {
	struct ward_as *owner;
	pid_t pid;
	int done_fd; /* read end of the stub's done pipe */
	uint64_t control_off;
	uint64_t status_off;
	pthread_mutex_t request_lock;
	uint32_t seq;
	uint32_t nqueued; /* requests on the control page, not yet sent */
	bool started; /* the stub has had a thread: no more queueing */
	bool lost; /* a queued request failed: the stub's mappings are unknown */
	struct sthread *threads; /* in use by a context */
	struct sthread *retired; /* told to exit; the region is reused once it has */
	uint64_t nslots;
	unsigned nparked; /* retired threads left parked in their handler */
	atomic_bool spin_requests; /* a CPU is to spare: spin for the control thread */
};

struct ward_platform_ctx {
	pthread_t owner;
	cpu_set_t allowed; /* the thread's own affinity, restored now and then */
	int cpu; /* the CPU the thread is pinned to, or -1 */
	uint64_t runs;
	bool spin; /* this placement spins (else it pins) */
	atomic_bool interrupt;
	_Atomic(struct sthread *) running;
	struct sthread *threads;
};

static pthread_mutex_t plat_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t host_xstate_size;
/* How long either side of a hand-off spins before it sleeps, in TSC
 * cycles, and how many threads may spin at once (one fewer than the CPUs:
 * a spinner must never take the CPU the other side needs). */
static uint64_t spin_cycles;
static uint32_t max_spinners;
/* A thread whose calls the sentry answers faster than this, on average,
 * runs apart from its sentry thread and both spin (see place). */
static uint64_t quick_cycles;
static int pin_mode;
/* Memory-file offset of the page every stub shares with the sentry. */
static uint64_t shared_off = UINT64_MAX;

/* ---- Patched syscall sites (--patch-syscalls) ----
 *
 * The choices, and why:
 * - A site `mov $nr,%eax; syscall` (b8 imm32 0f 05) becomes `jmp *SLOTS+8i`
 *   (ff 24 25 disp32): the same 7 bytes, and no use of the guest's stack
 *   (a call would write its red zone). The slot table is below the guest's
 *   lowest address, where the guest can neither map nor unmap, since the
 *   address is a sign-extended 32-bit one: at 4 KiB where the host lets
 *   the stub map there, else at 64 KiB with the guest's lowest address
 *   raised past it (not shown in the guest's /proc/self/maps either way).
 * - Sites, slots and trampolines are one table for the whole sentry, keyed
 *   by (return address, nr) and never reused: a fork child runs its
 *   parent's patched code with nothing to copy, an execve'd program with
 *   the same site shares its entry, and no old code can reach a slot that
 *   now means another site. What a trampoline says (its index; its nr in
 *   the trapping half) the sentry reads from its own table, never from the
 *   stub, so a guest that jumps into a trampoline or the entry with forged
 *   registers makes the same call it could make from the site itself.
 * - The entry is in the stub's code page (its hand-off's futex calls must
 *   pass the filter, which stays the security boundary); the trampolines
 *   are outside it, so their trapping half (taken when the guest has a GS
 *   base of its own, and for restarts) traps as any guest syscall. Stops
 *   there report the site's return address as rip, as a trap at the site
 *   would have.
 * - The FPU state stays in the thread while the sentry handles the call:
 *   the fast path saves and loads no XSAVE area. When the sentry needs it
 *   (a signal frame, fork, sigreturn) or resumes with registers the entry's
 *   return cannot load (rcx/r11 other than rip/rflags, a GS base of the
 *   guest's), the thread is converted first: it leaves the entry through
 *   the trap page's syscall, and the handler's frame then holds its whole
 *   state, as after any trap. */
static bool patching;
static uint64_t slots_off = UINT64_MAX, tramp_off = UINT64_MAX;
/* SLOTS, or GUEST_SLOTS when the host refuses the low page: see
 * seccomp_patch_enable. Set before the first stub exists. */
static uint64_t slots_addr = WARD_SECCOMP_SLOTS;
static pthread_mutex_t site_lock = PTHREAD_MUTEX_INITIALIZER;
static struct patch_site {
	uint64_t ret; /* the site's address + 7 */
	uint32_t nr;
} sites[WARD_SECCOMP_MAX_SITES];
static _Atomic uint32_t nsites;
/* The sites by return address (1 + index; 0 = empty), open addressing:
 * written once per entry under site_lock, read without it. */
#define SITE_HASH_SIZE (2 * WARD_SECCOMP_MAX_SITES)
static _Atomic uint32_t site_hash[SITE_HASH_SIZE];

static size_t site_hash_slot(uint64_t ret)
{
	return (size_t)((ret * 0x9e3779b97f4a7c15ULL) >> 51) % SITE_HASH_SIZE;
}

/* The next site after *h (a hash position, start at SIZE_MAX) that returns
 * to ret, as 1 + its index, or 0 when there is none. Sites of different
 * programs may share a return address, with different calls. */
static uint32_t site_by_ret(uint64_t ret, size_t *h)
{
	*h = *h == SIZE_MAX ? site_hash_slot(ret) : (*h + 1) % SITE_HASH_SIZE;
	for (;; *h = (*h + 1) % SITE_HASH_SIZE) {
		uint32_t v = atomic_load(&site_hash[*h]);
		if (!v || sites[v - 1].ret == ret)
			return v;
	}
}

/* The site whose trampoline a stop at rip (past a syscall) trapped from,
 * as 1 + its index, or 0. */
static uint32_t tramp_site(uint64_t rip)
{
	if (!patching || rip < WARD_SECCOMP_TRAMP + TR_RET || rip >= WARD_SECCOMP_TRAMP + WARD_SECCOMP_TRAMP_SIZE)
		return 0;
	uint64_t off = rip - WARD_SECCOMP_TRAMP;
	uint32_t i = (uint32_t)(off / 32);
	if (off % 32 != TR_RET || i >= atomic_load(&nsites))
		return 0;
	return i + 1;
}

static bool in_entry(uint64_t rip)
{
	return rip >= STUB_ADDR(ward__seccomp_stub_fast) && rip < STUB_ADDR(ward__seccomp_stub_fast_end);
}

static uint8_t *mf_ptr(uint64_t off)
{
	return (uint8_t *)ward__memfile_base() + off;
}

static long futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *timeout)
{
	return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

static _Atomic uint32_t *th_word(const struct sthread *t, unsigned off)
{
	/* SAFETY: off is one of the mailbox's aligned u32 slots, in the region's
	 * first page, which lies in the memory file. */
	return (_Atomic uint32_t *)(void *)(mf_ptr(t->region_off) + off);
}

static uint64_t th_load64(const struct sthread *t, unsigned off)
{
	/* SAFETY: as th_word, for the u64 slots; the guest may change them at
	 * any time, so each is read once. */
	return atomic_load((_Atomic uint64_t *)(void *)(mf_ptr(t->region_off) + off));
}

static void th_store64(const struct sthread *t, unsigned off, uint64_t v)
{
	/* SAFETY: as th_load64. */
	atomic_store((_Atomic uint64_t *)(void *)(mf_ptr(t->region_off) + off), v);
}

/* The sentry pointer of [addr, addr+len) in t's region, if it lies inside
 * the region's signal stack; NULL otherwise. addr comes from the guest. */
static uint8_t *th_range(const struct sthread *t, uint64_t addr, uint64_t len)
{
	uint64_t lo = t->region_addr + TH_STACK, hi = t->region_addr + WARD_SECCOMP_THREAD_SIZE;
	if (addr < lo || addr > hi || len > hi - addr)
		return NULL;
	return mf_ptr(t->region_off) + (addr - t->region_addr);
}

/* ---- Filters ---- */

#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define JEQ(k, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define JGE(k, t, f) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (k), (t), (f))

/* The process filter, which every thread of the stub has: the stub's code
 * may make the calls the control thread and a starting thread need. */
static size_t build_filter(struct sock_filter *f, const int *allowed, size_t nallowed)
{
	const uint32_t lo = (uint32_t)WARD_SECCOMP_STUB_BASE;
	const uint32_t hi = (uint32_t)(WARD_SECCOMP_STUB_BASE >> 32);
	size_t n = 0;
	f[n++] = (struct sock_filter)LOAD(arch);
	f[n++] = (struct sock_filter)JEQ(AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, instruction_pointer) + 4);
	f[n++] = (struct sock_filter)JEQ(hi, 1, 0);
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_TRAP);
	f[n++] = (struct sock_filter)LOAD(instruction_pointer);
	f[n++] = (struct sock_filter)JGE(lo, 1, 0);
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_TRAP);
	f[n++] = (struct sock_filter)JGE(lo + WARD_SECCOMP_CODE_SIZE, 0, 1);
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_TRAP);
	/* The stub's futex calls are plain waits and wakes. A requeue could
	 * move the control thread off the word the sentry wakes it on. */
	f[n++] = (struct sock_filter)LOAD(nr);
	f[n++] = (struct sock_filter)JEQ(SYS_futex, 0, 3);
	f[n++] = (struct sock_filter)LOAD(args[1]);
	f[n++] = (struct sock_filter)JGE(FUTEX_WAKE + 1, 0, 1);
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)LOAD(nr);
	for (size_t i = 0; i < nallowed; i++)
		f[n++] = (struct sock_filter)JEQ((uint32_t)allowed[i], (uint8_t)(nallowed - i), 0);
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
	return n;
}

/* The control thread's and a starting thread's calls (the entry's munmap,
 * the requests, the done byte, the thread start). */
static const int stub_calls[] = {
	SYS_mmap,	  SYS_munmap,	      SYS_mprotect, SYS_clone,	     SYS_write, SYS_futex,
	SYS_rt_sigreturn, SYS_rt_sigprocmask, SYS_seccomp,  SYS_sigaltstack, SYS_exit,
};
/* What a guest thread's stub code may call: its hand-off and return. A
 * guest that jumps into the stub to make any other call is killed. */
static const int guest_thread_calls[] = { SYS_futex, SYS_rt_sigreturn, SYS_exit };

/* ---- The stub process ---- */

static const int handled_signals[] = { SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, INTERRUPT_SIGNAL };

struct kernel_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

/* Runs in the forked child. Only raw system calls from here on: the child
 * of a multi-threaded process may not take libc's locks. */
__attribute__((noreturn)) static void stub_child(pid_t parent, int memfd, int done_fd, uint64_t control_off,
						 uint64_t status_off)
{
	uint64_t all = ~0ULL;

	syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (syscall(SYS_getppid) != parent)
		syscall(SYS_exit_group, 1);
	syscall(SYS_setpgid, 0, 0);
	/* A stub the guest got killed leaves no core file behind. */
	syscall(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* The control thread takes no signals; guest threads unblock theirs. */
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof(all));
	if (memfd == WARD_SECCOMP_DONEFD) {
		memfd = (int)syscall(SYS_fcntl, memfd, F_DUPFD, 5);
		if (memfd < 0)
			syscall(SYS_exit_group, 2);
	}
	if (done_fd != WARD_SECCOMP_DONEFD && syscall(SYS_dup3, done_fd, WARD_SECCOMP_DONEFD, 0) < 0)
		syscall(SYS_exit_group, 2);
	if (memfd != WARD_SECCOMP_MEMFD && syscall(SYS_dup3, memfd, WARD_SECCOMP_MEMFD, 0) < 0)
		syscall(SYS_exit_group, 2);
	syscall(SYS_close_range, 0, 2, 0);
	syscall(SYS_close_range, 5, ~0U, 0);
	if (__rseq_size > 0)
		syscall(SYS_rseq, (char *)__builtin_thread_pointer() + __rseq_offset, sizeof(struct rseq),
			RSEQ_FLAG_UNREGISTER, RSEQ_SIG);

	size_t code_len = (size_t)(ward__seccomp_stub_code_end - ward__seccomp_stub_code);
	void *page = (void *)syscall(SYS_mmap, WARD_SECCOMP_STUB_BASE, code_len, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (page != (void *)WARD_SECCOMP_STUB_BASE)
		syscall(SYS_exit_group, 4);
	/* SAFETY: the child's own fresh pages at the stub address, and the stub
	 * code in the child's copy of the sentry's text. */
	memcpy(page, ward__seccomp_stub_code, code_len);
	if (syscall(SYS_mprotect, WARD_SECCOMP_STUB_BASE, code_len, PROT_READ | PROT_EXEC) < 0)
		syscall(SYS_exit_group, 5);
	if (syscall(SYS_mmap, WARD_SECCOMP_CONTROL, 0x1000, PROT_READ, MAP_SHARED | MAP_FIXED, WARD_SECCOMP_MEMFD,
		    control_off) != (long)WARD_SECCOMP_CONTROL)
		syscall(SYS_exit_group, 6);
	if (syscall(SYS_mmap, WARD_SECCOMP_SHARED, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		    WARD_SECCOMP_MEMFD, shared_off) != (long)WARD_SECCOMP_SHARED)
		syscall(SYS_exit_group, 6);
	if (syscall(SYS_mmap, WARD_SECCOMP_STATUS, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		    WARD_SECCOMP_MEMFD, status_off) != (long)WARD_SECCOMP_STATUS)
		syscall(SYS_exit_group, 6);
	/* The low pages and the trampolines' range, which the entry keeps:
	 * the patched sites' slot table and trampolines, or nothing (the
	 * sentry's own mappings there are not the guest's to see). */
	syscall(SYS_munmap, 0, WARD_SECCOMP_GUEST_SLOTS_END);
	syscall(SYS_munmap, WARD_SECCOMP_TRAMP, WARD_SECCOMP_TRAMP_SIZE);
	if (slots_off != UINT64_MAX &&
	    (syscall(SYS_mmap, slots_addr, WARD_SECCOMP_SLOTS_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED,
		     WARD_SECCOMP_MEMFD, slots_off) != (long)slots_addr ||
	     syscall(SYS_mmap, WARD_SECCOMP_TRAMP, WARD_SECCOMP_TRAMP_SIZE, PROT_READ | PROT_EXEC,
		     MAP_SHARED | MAP_FIXED, WARD_SECCOMP_MEMFD, tramp_off) != (long)WARD_SECCOMP_TRAMP))
		syscall(SYS_exit_group, 6);
	struct kernel_sigaction act = {
		.handler = STUB_ADDR(ward__seccomp_stub_handler),
		.flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
		.restorer = STUB_ADDR(ward__seccomp_stub_restorer),
		.mask = ~0ULL,
	};
	for (size_t i = 0; i < WARD_ARRAY_SIZE(handled_signals); i++)
		if (syscall(SYS_rt_sigaction, handled_signals[i], &act, NULL, sizeof(act.mask)) < 0)
			syscall(SYS_exit_group, 7);

	struct sock_filter filter[64];
	struct sock_fprog prog = { .filter = filter };
	prog.len = (unsigned short)build_filter(filter, stub_calls, WARD_ARRAY_SIZE(stub_calls));
	if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		syscall(SYS_exit_group, 8);
	/* SAFETY: jumps to the stub's entry, which never returns. */
	__asm__ volatile("jmp *%0" : : "r"((uint64_t)WARD_SECCOMP_STUB_BASE));
	__builtin_unreachable();
}

/* Stubs are forked by one sentry thread that lives as long as the sentry:
 * a stub's PDEATHSIG follows the thread that forked it, and an address
 * space outlives the task thread that made it. */
struct spawn_request {
	uint64_t control_off;
	uint64_t status_off;
	int done_w;
	pid_t pid; /* the answer; 0 while pending */
	int err;
	struct spawn_request *next;
};

static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t spawn_cond = PTHREAD_COND_INITIALIZER;
static struct spawn_request *spawn_queue;
/* The stubs alive, for shutdown: a pid is listed from its fork until the
 * sentry takes it off to reap it, so a listed pid is never a reaped (and
 * perhaps reused) one. After shutdown no stub is forked. Guarded by
 * spawn_lock. */
static pid_t *live_stubs;
static size_t nlive, live_cap;
static bool shut_down;

/* Takes pid off the list. Returns whether it was there (else shutdown has
 * reaped it). Caller holds spawn_lock. */
static bool unlist_stub(pid_t pid)
{
	for (size_t i = 0; i < nlive; i++) {
		if (live_stubs[i] == pid) {
			live_stubs[i] = live_stubs[--nlive];
			return true;
		}
	}
	return false;
}

/* The spin budgets, from the TSC's rate: measured on the spawner thread
 * while the rest of the sentry starts. Set once, under spawn_lock, before
 * the first stub is forked; as_create waits for them. */
static uint64_t spin_us = 20;
static bool calibrated;

static uint64_t tsc_per_us(void);

static void *spawner(void *arg)
{
	(void)arg;
	uint64_t per_us = tsc_per_us();
	pthread_mutex_lock(&spawn_lock);
	spin_cycles = spin_us * per_us;
	quick_cycles = 4 * per_us;
	calibrated = true;
	pthread_cond_broadcast(&spawn_cond);
	for (;;) {
		while (!spawn_queue)
			pthread_cond_wait(&spawn_cond, &spawn_lock);
		struct spawn_request *rq = spawn_queue;
		spawn_queue = rq->next;
		if (nlive == live_cap) {
			size_t cap = live_cap ? live_cap * 2 : 16;
			pid_t *n = realloc(live_stubs, cap * sizeof(*n));
			if (n) {
				live_stubs = n;
				live_cap = cap;
			}
		}
		pid_t parent = getpid();
		pid_t pid = -1;
		errno = shut_down ? ESHUTDOWN : ENOMEM;
		if (!shut_down && nlive < live_cap)
			pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
		if (pid == 0)
			stub_child(parent, ward__memfile_fd(), rq->done_w, rq->control_off, rq->status_off);
		if (pid < 0) {
			rq->err = errno;
			rq->pid = -1;
		} else {
			rq->pid = pid;
			live_stubs[nlive++] = pid;
		}
		pthread_cond_broadcast(&spawn_cond);
	}
	return NULL;
}

static void reap(pid_t pid)
{
	int status;
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;
}

/* Adds a request to the batch on the control page. Caller holds the
 * request lock and has made room (nqueued < CTL_MAX_REQS). */
static void queue_request(struct ward_platform_as *as, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
			  uint64_t a4, uint64_t a5)
{
	uint64_t req[7] = { (uint64_t)nr, a0, a1, a2, a3, a4, a5 };
	_Static_assert(sizeof(req) == CTL_REQ_SIZE, "request size");
	memcpy(mf_ptr(as->control_off) + CTL_REQS + (size_t)as->nqueued * CTL_REQ_SIZE, req, sizeof(req));
	as->nqueued++;
}

/* Sends the queued batch to the control thread and waits until it is done.
 * Caller holds the request lock. Returns 0, -ENOMEM when a host call
 * failed, -ECHILD if the stub is gone or a deferred batch failed before. */
static long flush_locked(struct ward_platform_as *as)
{
	uint8_t *ctl = mf_ptr(as->control_off);
	char done;

	if (as->lost)
		return -ECHILD;
	if (!as->nqueued)
		return 0;
	uint32_t count = as->nqueued;
	memcpy(ctl + CTL_COUNT, &count, sizeof(count));
	as->nqueued = 0;
	/* SAFETY: aligned words of the control and status pages, in the
	 * memory file. The status page is the guest's to scribble on: what it
	 * says only decides whether to wake and how long to spin; the pipe
	 * decides when the request is done. */
	_Atomic uint32_t *seq = (_Atomic uint32_t *)(void *)(ctl + CTL_SEQ);
	_Atomic uint32_t *done_seq = (_Atomic uint32_t *)(void *)(mf_ptr(as->status_off) + ST_DONE);
	_Atomic uint32_t *sleeps = (_Atomic uint32_t *)(void *)(mf_ptr(as->status_off) + ST_SLEEPS);
	uint32_t my = ++as->seq;
	atomic_exchange(seq, my);
	bool woken = false;
	if (atomic_load(sleeps)) {
		futex(seq, FUTEX_WAKE, 1, NULL);
		woken = true;
	}
	if (spin_cycles && atomic_load(&as->spin_requests)) {
		uint64_t deadline = __builtin_ia32_rdtsc() + spin_cycles;
		while (atomic_load(done_seq) != my && __builtin_ia32_rdtsc() < deadline)
			__builtin_ia32_pause();
	}
	if (!woken && atomic_load(done_seq) != my)
		futex(seq, FUTEX_WAKE, 1, NULL);
	ssize_t n;
	while ((n = read(as->done_fd, &done, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		return -ECHILD;
	return done == 'o' ? 0 : -ENOMEM;
}

/* Sends one request (after any queued ones) to the control thread and
 * waits until it is done. Returns as flush_locked. */
static long control(struct ward_platform_as *as, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		    uint64_t a4, uint64_t a5)
{
	pthread_mutex_lock(&as->request_lock);
	long r = as->nqueued == CTL_MAX_REQS ? flush_locked(as) : 0;
	if (r == 0) {
		queue_request(as, nr, a0, a1, a2, a3, a4, a5);
		bool deferred = as->nqueued > 1;
		r = flush_locked(as);
		/* A failed batch that held earlier, deferred requests leaves the
		 * stub's mappings unknown: the address space is lost. */
		if (r == -ENOMEM && deferred)
			as->lost = true;
	}
	pthread_mutex_unlock(&as->request_lock);
	return r;
}

/* A mapping change. Until the stub has a thread, no guest code can run in
 * it, so a change may wait there, queued, and go with the next ones in one
 * round trip to the control thread (an exec's loader makes a dozen; a
 * fork's copy one per mapping): the queue is sent before the first thread
 * is made, which is before anything runs. A queued request that fails then
 * loses the address space (its first run fails, and the guest process is
 * killed), as an exec that fails past its point of no return kills the
 * process in Linux. */
static long mapping_request(struct ward_platform_as *as, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
			    uint64_t a4, uint64_t a5)
{
	pthread_mutex_lock(&as->request_lock);
	if (as->started) {
		pthread_mutex_unlock(&as->request_lock);
		return control(as, nr, a0, a1, a2, a3, a4, a5);
	}
	long r = 0;
	if (as->nqueued == CTL_MAX_REQS) {
		r = flush_locked(as);
		if (r == -ENOMEM)
			as->lost = true;
	}
	if (r == 0)
		queue_request(as, nr, a0, a1, a2, a3, a4, a5);
	pthread_mutex_unlock(&as->request_lock);
	return r;
}

/* Makes a guest thread in the stub, whose region is at t->region_addr
 * (mapped first if fresh), in one round trip with whatever was queued:
 * from now on the stub has a thread, and no request waits. Returns as
 * flush_locked. */
static long thread_requests(struct ward_platform_as *as, const struct sthread *t, bool fresh)
{
	pthread_mutex_lock(&as->request_lock);
	as->started = true;
	bool deferred = as->nqueued > 0;
	long r = as->nqueued + 2 > CTL_MAX_REQS ? flush_locked(as) : 0;
	if (r == 0 && fresh)
		queue_request(as, SYS_mmap, t->region_addr, WARD_SECCOMP_THREAD_SIZE, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_FIXED, WARD_SECCOMP_MEMFD, t->region_off);
	/* Last: the new thread leaves the batch for its start. */
	if (r == 0) {
		queue_request(as, SYS_clone, THREAD_CLONE_FLAGS, t->region_addr + WARD_SECCOMP_THREAD_SIZE,
			      t->region_addr + TH_TID, t->region_addr + TH_STATE, 0, 0);
		r = flush_locked(as);
	}
	if (r == -ENOMEM && deferred)
		as->lost = true;
	pthread_mutex_unlock(&as->request_lock);
	return r;
}

/* The TSC's rate, measured against the monotonic clock over 50 us of
 * polling: precise enough for spin budgets, and cheap at start-up. */
static uint64_t tsc_per_us(void)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	uint64_t t0 = __builtin_ia32_rdtsc(), t1;
	int64_t ns;
	do {
		clock_gettime(CLOCK_MONOTONIC, &b);
		t1 = __builtin_ia32_rdtsc();
		ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	} while (ns < 50000);
	if (t1 <= t0)
		return 1000;
	return (t1 - t0) * 1000 / (uint64_t)ns;
}

static long seccomp_init(void)
{
	/* The handler saves and loads the guest's fs and gs bases with the
	 * FSGSBASE instructions, which the host kernel must have enabled. */
	if (!(getauxval(AT_HWCAP2) & 2))
		return -ENOTSUP;
	/* The filter's actions must exist here (a kernel without seccomp
	 * filters, or a container that forbids them, says no). */
	static const uint32_t actions[] = { SECCOMP_RET_TRAP, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_ALLOW };
	for (size_t i = 0; i < WARD_ARRAY_SIZE(actions); i++)
		if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &actions[i]) < 0)
			return -ENOTSUP;
	unsigned eax, ebx, ecx, edx;
	if (!__get_cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx) || ebx < 576 || ebx > WARD_FPSTATE_SIZE)
		return -ENOTSUP;
	host_xstate_size = ebx;
	const char *spin = getenv("WARD_SECCOMP_SPIN_US");
	if (spin)
		spin_us = strtoull(spin, NULL, 0);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	max_spinners = ncpu > 1 ? (uint32_t)(ncpu - 1) : 0;
	if (getenv("WARD_SECCOMP_PIN"))
		pin_mode = 1;
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int r = pthread_create(&t, &attr, spawner, NULL);
	pthread_attr_destroy(&attr);
	return r ? -r : 0;
}

/* Makes the patched sites' slot table and trampoline pages, once.
 * Caller holds spawn_lock. */
static bool patch_tables(void)
{
	if (tramp_off != UINT64_MAX)
		return true;
	uint64_t so, to;
	if (ward_memfile_alloc(WARD_SECCOMP_SLOTS_SIZE, &so) < 0)
		return false;
	if (ward_memfile_alloc(WARD_SECCOMP_TRAMP_SIZE, &to) < 0) {
		ward_memfile_free(so, WARD_SECCOMP_SLOTS_SIZE);
		return false;
	}
	for (uint64_t i = 0; i < WARD_SECCOMP_MAX_SITES; i++) {
		uint64_t tramp = WARD_SECCOMP_TRAMP + 32 * i;
		memcpy(mf_ptr(so) + 8 * i, &tramp, 8);
	}
	/* An unused trampoline is int3s: a guest that jumps there traps. */
	memset(mf_ptr(to), 0xcc, WARD_SECCOMP_TRAMP_SIZE);
	slots_off = so;
	tramp_off = to;
	return true;
}

static long seccomp_patch_enable(uint64_t *min_addr)
{
	/* The stub maps the slot table at 4 KiB, which the host allows when
	 * vm.mmap_min_addr is at most that (Debian's default is 64 KiB) or to
	 * a process with CAP_SYS_RAWIO. Stubs are forks of the sentry, with its
	 * credentials: what the sentry may map there, they may. Otherwise the
	 * table takes the bottom of the guest's range, which the guest then
	 * cannot map, move to, unmap or protect (the mm and the core refuse
	 * anything below *min_addr, EPERM as Linux below vm.mmap_min_addr), so
	 * the guest has 32 KiB less. WARD_PATCH_TABLE=guest (or =low) chooses,
	 * for tests of both layouts on one host. */
	const char *want = getenv("WARD_PATCH_TABLE");
	bool low = true;
	if (want && !strcmp(want, "guest"))
		low = false;
	else if (want && strcmp(want, "low"))
		return -EINVAL;
	if (low) {
		void *p = mmap((void *)WARD_SECCOMP_SLOTS, WARD_PAGE_SIZE, PROT_READ,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		long err = p == MAP_FAILED ? -errno : 0;
		if (p != MAP_FAILED)
			munmap(p, WARD_PAGE_SIZE);
		if (!err && p != (void *)WARD_SECCOMP_SLOTS)
			err = -EPERM;
		if (err && want)
			return err;
		low = !err;
	}
	slots_addr = low ? WARD_SECCOMP_SLOTS : WARD_SECCOMP_GUEST_SLOTS;
	*min_addr = low ? WARD_SECCOMP_LOW_END : WARD_SECCOMP_GUEST_SLOTS_END;
	patching = true;
	return 0;
}

/* Gives the site that returns to ret and makes call nr a trampoline (or
 * finds the one it has) and says which slot reaches it. */
static long seccomp_patch_site(uint64_t ret, uint32_t nr, uint64_t *slot)
{
	if (!patching || tramp_off == UINT64_MAX)
		return -EOPNOTSUPP;
	pthread_mutex_lock(&site_lock);
	uint32_t n = atomic_load(&nsites), i = n, v;
	for (size_t h = SIZE_MAX; (v = site_by_ret(ret, &h));) {
		if (sites[v - 1].nr == nr) {
			i = v - 1;
			break;
		}
	}
	if (i == n) {
		if (n == WARD_SECCOMP_MAX_SITES) {
			pthread_mutex_unlock(&site_lock);
			return -ENOSPC;
		}
		uint64_t at = WARD_SECCOMP_TRAMP + 32 * (uint64_t)i;
		int32_t rel = (int32_t)((int64_t)STUB_ADDR(ward__seccomp_stub_fast) - (int64_t)(at + 10));
		uint8_t code[TR_RET + 2] = { 0xb9, 0, 0, 0, 0, 0xe9, 0,	   0,	 0,   0,
					     0xb8, 0, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b };
		memcpy(code + 1, &i, 4);
		memcpy(code + 6, &rel, 4);
		memcpy(code + TR_SLOW + 1, &nr, 4);
		/* SAFETY: trampoline i of the sentry's trampoline pages, which no
		 * stub can reach before nsites says it exists. */
		memcpy(mf_ptr(tramp_off) + 32 * (uint64_t)i, code, sizeof(code));
		sites[i] = (struct patch_site){ ret, nr };
		size_t h = site_hash_slot(ret);
		while (atomic_load(&site_hash[h]))
			h = (h + 1) % SITE_HASH_SIZE;
		atomic_store(&site_hash[h], i + 1);
		atomic_store(&nsites, n + 1);
	}
	pthread_mutex_unlock(&site_lock);
	*slot = slots_addr + 8 * (uint64_t)i;
	return 0;
}

static void as_free(struct ward_platform_as *as)
{
	if (as->pid > 0) {
		pthread_mutex_lock(&spawn_lock);
		bool listed = unlist_stub(as->pid);
		pthread_mutex_unlock(&spawn_lock);
		if (listed)
			reap(as->pid);
	}
	/* The stub is gone, and with it every mapping of these pages. */
	for (struct sthread *t = as->threads, *next; t; t = next) {
		next = t->next_in_as;
		ward_memfile_free(t->region_off, WARD_SECCOMP_THREAD_SIZE);
		free(t);
	}
	for (struct sthread *t = as->retired, *next; t; t = next) {
		next = t->next_in_as;
		ward_memfile_free(t->region_off, WARD_SECCOMP_THREAD_SIZE);
		free(t);
	}
	if (as->control_off != UINT64_MAX)
		ward_memfile_free(as->control_off, 0x1000);
	if (as->status_off != UINT64_MAX)
		ward_memfile_free(as->status_off, 0x1000);
	if (as->done_fd >= 0)
		close(as->done_fd);
	pthread_mutex_destroy(&as->request_lock);
	free(as);
}

static bool spare_cpu(bool pair_spins);

static long seccomp_as_create(struct ward_as *owner, struct ward_platform_as **out)
{
	struct ward_platform_as *as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	as->owner = owner;
	as->done_fd = -1;
	as->control_off = UINT64_MAX;
	as->status_off = UINT64_MAX;
	pthread_mutex_init(&as->request_lock, NULL);
	/* The shared page comes from the memory file, which exists only after
	 * the platform is chosen. */
	pthread_mutex_lock(&spawn_lock);
	while (!calibrated)
		pthread_cond_wait(&spawn_cond, &spawn_lock);
	if (shared_off == UINT64_MAX && ward_memfile_alloc(0x1000, &shared_off) == 0)
		memset(mf_ptr(shared_off), 0, 0x1000);
	bool patch_ok = !patching || patch_tables();
	pthread_mutex_unlock(&spawn_lock);
	if (shared_off == UINT64_MAX || !patch_ok) {
		as_free(as);
		return -ENOMEM;
	}
	long r = ward_memfile_alloc(0x1000, &as->control_off);
	if (r < 0) {
		as->control_off = UINT64_MAX;
		as_free(as);
		return r;
	}
	r = ward_memfile_alloc(0x1000, &as->status_off);
	if (r < 0) {
		as->status_off = UINT64_MAX;
		as_free(as);
		return r;
	}
	memset(mf_ptr(as->status_off), 0, 0x1000);
	atomic_store(&as->spin_requests, spin_cycles && spare_cpu(false));
	uint8_t *ctl = mf_ptr(as->control_off);
	memset(ctl, 0, 0x1000);
	ctl[CTL_OK_BYTE] = 'o';
	ctl[CTL_FAIL_BYTE] = 'f';
	memcpy(ctl + CTL_MAXSPIN, &max_spinners, sizeof(max_spinners));
	uint64_t ctl_spin = atomic_load(&as->spin_requests) ? spin_cycles : 0;
	memcpy(ctl + CTL_SPIN, &ctl_spin, sizeof(ctl_spin));
	/* SAFETY: the control page is the sentry's, in the memory file; the
	 * filter is built where the stub will find it. */
	struct sock_filter *filter = (struct sock_filter *)(void *)(ctl + CTL_FILTER);
	size_t n = build_filter(filter, guest_thread_calls, WARD_ARRAY_SIZE(guest_thread_calls));
	struct sock_fprog prog = { .len = (unsigned short)n,
				   /* SAFETY: the stub's address of the same bytes. */
				   .filter = (struct sock_filter *)(uintptr_t)(WARD_SECCOMP_CONTROL + CTL_FILTER) };
	memcpy(ctl + CTL_FPROG, &prog, sizeof(prog));

	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		r = -errno;
		as_free(as);
		return r;
	}
	as->done_fd = pipefd[0];
	struct spawn_request rq = { .control_off = as->control_off, .status_off = as->status_off, .done_w = pipefd[1] };
	pthread_mutex_lock(&spawn_lock);
	rq.next = spawn_queue;
	spawn_queue = &rq;
	pthread_cond_broadcast(&spawn_cond);
	while (rq.pid == 0)
		pthread_cond_wait(&spawn_cond, &spawn_lock);
	pthread_mutex_unlock(&spawn_lock);
	close(pipefd[1]);
	if (rq.pid < 0) {
		as_free(as);
		return -rq.err;
	}
	as->pid = rq.pid;
	/* The entry reports once it has dropped the sentry's mappings. */
	char ready;
	ssize_t got;
	while ((got = read(as->done_fd, &ready, 1)) < 0 && errno == EINTR)
		;
	if (got != 1 || ready != 'o') {
		int status = 0;
		waitpid(as->pid, &status, WNOHANG);
		ward_log(WARD_LOG_ERROR, "seccomp: the stub did not start (status %#x)", status);
		as_free(as);
		return -ECHILD;
	}
	*out = as;
	return 0;
}

/* Unlinks t from its context's list. Caller holds plat_lock. */
static void unlink_from_ctx(struct sthread *t)
{
	if (!t->ctx)
		return;
	for (struct sthread **pp = &t->ctx->threads; *pp; pp = &(*pp)->next_in_ctx) {
		if (*pp == t) {
			*pp = t->next_in_ctx;
			break;
		}
	}
	t->ctx = NULL;
}

static void seccomp_as_destroy(struct ward_platform_as *as)
{
	if (!as)
		return;
	pthread_mutex_lock(&plat_lock);
	for (struct sthread *t = as->threads; t; t = t->next_in_as)
		unlink_from_ctx(t);
	pthread_mutex_unlock(&plat_lock);
	as_free(as);
}

static long seccomp_as_map(struct ward_platform_as *as, uint64_t addr, uint64_t len, int prot, uint64_t memfile_off)
{
	return mapping_request(as, SYS_mmap, addr, len, (uint64_t)ward__host_prot(prot), MAP_SHARED | MAP_FIXED,
			       WARD_SECCOMP_MEMFD, memfile_off);
}

static long seccomp_as_unmap(struct ward_platform_as *as, uint64_t addr, uint64_t len)
{
	return mapping_request(as, SYS_munmap, addr, len, 0, 0, 0, 0);
}

static long seccomp_as_protect(struct ward_platform_as *as, uint64_t addr, uint64_t len, int prot)
{
	return mapping_request(as, SYS_mprotect, addr, len, (uint64_t)ward__host_prot(prot), 0, 0, 0);
}

static long seccomp_ctx_create(struct ward_platform_ctx **out)
{
	struct ward_platform_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->owner = pthread_self();
	ctx->cpu = -1;
	if (sched_getaffinity(0, sizeof(ctx->allowed), &ctx->allowed) < 0)
		CPU_ZERO(&ctx->allowed);
	*out = ctx;
	return 0;
}

/* Tells t to leave and keeps its region for reuse in the same stub, once
 * the thread is gone. Caller holds plat_lock. */
static void retire(struct sthread *t, bool park)
{
	struct ward_platform_as *as = t->as;
	unlink_from_ctx(t);
	for (struct sthread **pp = &as->threads; *pp; pp = &(*pp)->next_in_as) {
		if (*pp == t) {
			*pp = t->next_in_as;
			break;
		}
	}
	_Atomic uint32_t *state = th_word(t, TH_STATE);
	uint32_t s = atomic_load(state);
	/* A thread stopped in its handler stays there, parked, for the next
	 * guest thread of the process: a new thread then costs no clone. */
	if (park && s == TH_STOPPED && as->nparked < MAX_PARKED) {
		as->nparked++;
	} else if (s != TH_DEAD) {
		atomic_store(state, TH_EXIT);
		futex(state, FUTEX_WAKE, 1, NULL);
	}
	t->next_in_as = as->retired;
	as->retired = t;
}

static void seccomp_ctx_destroy(struct ward_platform_ctx *ctx)
{
	pthread_mutex_lock(&plat_lock);
	while (ctx->threads)
		retire(ctx->threads, true);
	pthread_mutex_unlock(&plat_lock);
	if (ctx->cpu >= 0 && pthread_equal(ctx->owner, pthread_self()) && CPU_COUNT(&ctx->allowed) > 0)
		sched_setaffinity(0, sizeof(ctx->allowed), &ctx->allowed);
	free(ctx);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static _Atomic uint32_t *spinners(void)
{
	/* SAFETY: the shared page's aligned counter, in the memory file. */
	return (_Atomic uint32_t *)(void *)(mf_ptr(shared_off) + SH_SPINNERS);
}

/* Spins until t's state is no longer from, for at most spin_cycles and only
 * if few enough threads spin already. Returns the state seen last. */
static uint32_t spin_change(struct sthread *t, uint32_t from, uint64_t budget)
{
	_Atomic uint32_t *state = th_word(t, TH_STATE);
	uint32_t s = atomic_load(state);
	if (s != from || !budget)
		return s;
	if (atomic_fetch_add(spinners(), 1) < max_spinners) {
		uint64_t deadline = __builtin_ia32_rdtsc() + budget;
		while ((s = atomic_load(state)) == from && __builtin_ia32_rdtsc() < deadline)
			__builtin_ia32_pause();
	}
	atomic_fetch_sub(spinners(), 1);
	return s;
}

/* Waits until t's state is no longer from. Returns the new state, or
 * -ECHILD when the thread is gone or ignores an interrupt. */
static long wait_change(struct ward_platform_ctx *ctx, struct ward_platform_as *as, struct sthread *t, uint32_t from,
			uint64_t spin_budget)
{
	_Atomic uint32_t *state = th_word(t, TH_STATE);
	_Atomic uint32_t *sleeps = th_word(t, TH_SENTRY_SLEEPS);
	uint32_t s = spin_change(t, from, spin_budget);
	if (s != from)
		return s == TH_DEAD ? -ECHILD : (long)s;
	int64_t interrupted_at = 0;
	long ret;
	for (;;) {
		/* Say we sleep, then look again (Dekker with the handler's
		 * exchange-then-look). */
		atomic_store(sleeps, 1);
		if ((s = atomic_load(state)) != from)
			break;
		struct timespec timeout = { 0, 200 * 1000 * 1000 };
		long r = futex(state, FUTEX_WAIT, from, &timeout);
		if ((s = atomic_load(state)) != from)
			break;
		if (r < 0 && errno == ETIMEDOUT) {
			/* A thread that died with its whole stub leaves no
			 * CLEARTID behind: look. */
			if (t->tid > 0 && syscall(SYS_tgkill, as->pid, t->tid, 0) < 0) {
				s = TH_DEAD;
				break;
			}
			if (ctx && atomic_load(&ctx->interrupt)) {
				if (!interrupted_at) {
					interrupted_at = now_ns();
				} else if (now_ns() - interrupted_at > INTERRUPT_GRACE_NS) {
					s = TH_DEAD;
					break;
				}
			}
		}
	}
	atomic_store(sleeps, 0);
	ret = s == TH_DEAD ? -ECHILD : (long)s;
	return ret;
}

/* Gives t to ctx in as, with fresh placement and timings. Caller holds
 * plat_lock. */
static void attach(struct sthread *t, struct ward_platform_as *as, struct ward_platform_ctx *ctx)
{
	t->as = as;
	t->ctx = ctx;
	t->cpu = -1;
	t->avg_run = t->avg_handle = t->stopped_at = 0;
	t->fast = false;
	t->site = 0;
	t->stop_rip = 0;
	t->next_in_as = as->threads;
	as->threads = t;
	t->next_in_ctx = ctx->threads;
	ctx->threads = t;
}

/* The caller's thread in as, created if it has none. */
static struct sthread *thread_for(struct ward_platform_ctx *ctx, struct ward_platform_as *as)
{
	pthread_mutex_lock(&plat_lock);
	for (struct sthread *t = ctx->threads; t; t = t->next_in_ctx) {
		if (t->as == as) {
			pthread_mutex_unlock(&plat_lock);
			return t;
		}
	}
	/* A parked thread; else a retired thread's region, once its thread
	 * has left; else a new one. */
	struct sthread *t = NULL;
	bool parked = false;
	for (struct sthread **pp = &as->retired; *pp; pp = &(*pp)->next_in_as) {
		uint32_t s = atomic_load(th_word(*pp, TH_STATE));
		if (s == TH_STOPPED || s == TH_DEAD) {
			t = *pp;
			*pp = t->next_in_as;
			parked = s == TH_STOPPED;
			break;
		}
	}
	if (parked) {
		as->nparked--;
		attach(t, as, ctx);
		pthread_mutex_unlock(&plat_lock);
		return t;
	}
	bool fresh = false;
	if (!t) {
		if (as->nslots >= WARD_SECCOMP_MAX_THREADS) {
			pthread_mutex_unlock(&plat_lock);
			return NULL;
		}
		t = calloc(1, sizeof(*t));
		if (!t || ward_memfile_alloc(WARD_SECCOMP_THREAD_SIZE, &t->region_off) < 0) {
			free(t);
			pthread_mutex_unlock(&plat_lock);
			return NULL;
		}
		t->region_addr = WARD_SECCOMP_THREADS + as->nslots++ * WARD_SECCOMP_THREAD_SIZE;
		fresh = true;
	}
	t->tid = 0;
	attach(t, as, ctx);
	pthread_mutex_unlock(&plat_lock);

	memset(mf_ptr(t->region_off), 0, TH_STACK);
	atomic_store(th_word(t, TH_STATE), TH_BOOT);
	th_store64(t, TH_SPIN, 0);
	long r = thread_requests(as, t, fresh);
	if (r == 0) {
		/* The kernel wrote the tid where the guest can write too: it is
		 * used only if it names a thread of this stub. */
		t->tid = (pid_t)atomic_load(th_word(t, TH_TID));
		if (t->tid <= 0 || syscall(SYS_tgkill, as->pid, t->tid, 0) < 0)
			t->tid = 0;
		r = wait_change(NULL, as, t, TH_BOOT, 0);
		if (r >= 0 && r != TH_STOPPED)
			r = -ECHILD;
	}
	if (r < 0) {
		pthread_mutex_lock(&plat_lock);
		retire(t, false);
		pthread_mutex_unlock(&plat_lock);
		return NULL;
	}
	return t;
}

/* How many runs a placement lasts before it is chosen again. */
#define REBALANCE_RUNS 256

/* Whether the host has a CPU to spare for the other side of a hand-off
 * besides the one each side runs on: the runnable count of /proc/loadavg,
 * less this pair's own share (two when the guest thread spins while we
 * look, one when it sleeps). */
static bool spare_cpu(bool pair_spins)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char buf[128];
	int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ncpu >= 4;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return ncpu >= 4;
	buf[n] = 0;
	long running = 0;
	if (sscanf(buf, "%*s %*s %*s %ld/", &running) != 1)
		return ncpu >= 4;
	long others = running - (pair_spins ? 2 : 1);
	return others <= ncpu - 2;
}

/* Places a sentry thread and its guest thread for the next hand-offs.
 * Where a CPU is to spare, they run apart and each spins for the other
 * (a hand-off then costs no wake-up); where none is, spinning would take
 * the CPU the other side needs, so both are pinned to one CPU, where a
 * futex hand-off is a plain switch rather than a cross-CPU wake-up (see
 * the ptrace platform's pin_together, whose measurements this follows).
 * The choice is made again every REBALANCE_RUNS runs. */
static void place(struct ward_platform_ctx *ctx, struct sthread *t)
{
	if (ctx->runs++ % REBALANCE_RUNS == 0) {
		/* Spinning pays only for calls the sentry answers in a few
		 * microseconds: a spinning guest thread slows the sentry's own
		 * work on a sibling CPU (open+close measured 50 us spinning, 24
		 * pinned), and a call that outlasts the spin still ends in a
		 * cross-CPU wake-up. */
		ctx->spin = spin_cycles && !pin_mode && t->avg_handle < quick_cycles && spare_cpu(ctx->spin);
		if (ctx->cpu >= 0 && CPU_COUNT(&ctx->allowed) > 0 &&
		    sched_setaffinity(0, sizeof(ctx->allowed), &ctx->allowed) == 0)
			ctx->cpu = -1;
		if (t->cpu >= 0 && CPU_COUNT(&ctx->allowed) > 0 &&
		    sched_setaffinity(t->tid, sizeof(ctx->allowed), &ctx->allowed) == 0)
			t->cpu = -1;
		return;
	}
	if (ctx->spin)
		return;
	int cpu = sched_getcpu();
	if (cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (cpu != ctx->cpu && sched_setaffinity(0, sizeof(set), &set) == 0)
		ctx->cpu = cpu;
	if (cpu != t->cpu && t->tid > 0 && sched_setaffinity(t->tid, sizeof(set), &set) == 0)
		t->cpu = cpu;
}

/* ---- Registers ---- */

static uint8_t *frame_uc(const struct sthread *t)
{
	/* The kernel's ucontext ends after the first word of uc_sigmask. */
	return th_range(t, th_load64(t, TH_UC), offsetof(ucontext_t, uc_sigmask) + 8);
}

static uint8_t *frame_fp(const struct sthread *t, uint8_t *uc)
{
	uint64_t fpregs;
	memcpy(&fpregs, uc + offsetof(ucontext_t, uc_mcontext.fpregs), sizeof(fpregs));
	if (fpregs % 64)
		return NULL;
	return th_range(t, fpregs, host_xstate_size + 4);
}

/* The frame's general registers, gregs[] order, as ward_regs fields. */
static const struct {
	int greg;
	size_t off;
} greg_map[] = {
	{ REG_R8, offsetof(struct ward_regs, r8) },   { REG_R9, offsetof(struct ward_regs, r9) },
	{ REG_R10, offsetof(struct ward_regs, r10) }, { REG_R11, offsetof(struct ward_regs, r11) },
	{ REG_R12, offsetof(struct ward_regs, r12) }, { REG_R13, offsetof(struct ward_regs, r13) },
	{ REG_R14, offsetof(struct ward_regs, r14) }, { REG_R15, offsetof(struct ward_regs, r15) },
	{ REG_RDI, offsetof(struct ward_regs, rdi) }, { REG_RSI, offsetof(struct ward_regs, rsi) },
	{ REG_RBP, offsetof(struct ward_regs, rbp) }, { REG_RBX, offsetof(struct ward_regs, rbx) },
	{ REG_RDX, offsetof(struct ward_regs, rdx) }, { REG_RAX, offsetof(struct ward_regs, rax) },
	{ REG_RCX, offsetof(struct ward_regs, rcx) }, { REG_RSP, offsetof(struct ward_regs, rsp) },
	{ REG_RIP, offsetof(struct ward_regs, rip) }, { REG_EFL, offsetof(struct ward_regs, eflags) },
};

static void regs_from_frame(const uint8_t *uc, struct ward_regs *regs)
{
	const uint8_t *gregs = uc + offsetof(ucontext_t, uc_mcontext.gregs);
	for (size_t i = 0; i < WARD_ARRAY_SIZE(greg_map); i++)
		memcpy((uint8_t *)regs + greg_map[i].off, gregs + (size_t)greg_map[i].greg * 8, 8);
}

static void regs_to_frame(uint8_t *uc, const struct ward_regs *regs)
{
	uint8_t *gregs = uc + offsetof(ucontext_t, uc_mcontext.gregs);
	for (size_t i = 0; i < WARD_ARRAY_SIZE(greg_map); i++)
		memcpy(gregs + (size_t)greg_map[i].greg * 8, (const uint8_t *)regs + greg_map[i].off, 8);
	/* The guest thread runs with every host signal open. */
	memset(uc + offsetof(ucontext_t, uc_sigmask), 0, 8);
}

/* Bytes 464-511 of the legacy area are the kernel's (its frame magic). */
#define FX_SW_BYTES 464
#define FX_SW_END 512

static void fp_from_frame(const uint8_t *frame, struct ward_fpstate *fp)
{
	memcpy(fp->bytes, frame, host_xstate_size);
	fp->size = host_xstate_size;
}

static void fp_to_frame(uint8_t *frame, const struct ward_fpstate *fp)
{
	uint32_t size = fp->size >= FX_SW_END && fp->size <= host_xstate_size ? fp->size : host_xstate_size;
	memcpy(frame, fp->bytes, FX_SW_BYTES);
	memcpy(frame + FX_SW_END, fp->bytes + FX_SW_END, size - FX_SW_END);
	/* An MXCSR with reserved bits set would make the sigreturn fail. */
	uint32_t mxcsr;
	memcpy(&mxcsr, frame + 24, 4);
	mxcsr &= 0xffff;
	memcpy(frame + 24, &mxcsr, 4);
}

static long convert(struct ward_platform_as *as, struct sthread *t);

static long seccomp_fpstate_get(struct ward_platform_ctx *ctx, struct ward_platform_as *as, struct ward_fpstate *fp)
{
	struct sthread *t = thread_for(ctx, as);
	if (t && t->fast && convert(as, t) < 0)
		return -ECHILD;
	uint8_t *uc = t ? frame_uc(t) : NULL;
	uint8_t *frame = uc ? frame_fp(t, uc) : NULL;
	if (!frame)
		return -ECHILD;
	fp_from_frame(frame, fp);
	return 0;
}

static long seccomp_fpstate_set(struct ward_platform_ctx *ctx, struct ward_platform_as *as,
				const struct ward_fpstate *fp)
{
	struct sthread *t = thread_for(ctx, as);
	if (t && t->fast && convert(as, t) < 0)
		return -ECHILD;
	uint8_t *uc = t ? frame_uc(t) : NULL;
	uint8_t *frame = uc ? frame_fp(t, uc) : NULL;
	if (!frame)
		return -ECHILD;
	fp_to_frame(frame, fp);
	return 0;
}

static void fill_stop(const struct sthread *t, uint32_t signo, const uint8_t *uc, struct ward_regs *regs,
		      struct ward_stop *stop)
{
	const uint8_t *info = th_range(t, th_load64(t, TH_INFO), sizeof(siginfo_t));
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (info)
		memcpy(&si, info, sizeof(si));
	if (signo == SIGSYS && si.si_code == 1 /* SYS_SECCOMP */) {
		stop->kind = WARD_STOP_SYSCALL;
		regs->orig_rax = (uint64_t)(int64_t)si.si_syscall;
		return;
	}
	regs->orig_rax = UINT64_MAX;
	if ((signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL || signo == SIGTRAP) &&
	    si.si_code > 0) {
		const uint8_t *gregs = uc + offsetof(ucontext_t, uc_mcontext.gregs);
		stop->kind = WARD_STOP_FAULT;
		stop->signo = (int)signo;
		stop->code = si.si_code;
		stop->addr = (uint64_t)si.si_addr;
		memcpy(&stop->trapno, gregs + REG_TRAPNO * 8, 8);
		memcpy(&stop->error_code, gregs + REG_ERR * 8, 8);
		return;
	}
	stop->kind = WARD_STOP_INTERRUPT;
}

/* One long wait says little about the next: a sample counts for at most a
 * few spin budgets, so the averages come back down within a few stops. */
static uint64_t clamp_sample(uint64_t cycles)
{
	return cycles < 8 * spin_cycles ? cycles : 8 * spin_cycles;
}

/* How long to spin for the other side, given how long it has been taking
 * lately: twice that, between one and five budgets, or not at all when it
 * has been slower (a blocking call, a long computation), since a spin that
 * fails costs a CPU and still ends in a wake-up. */
static uint64_t spin_budget(uint64_t avg)
{
	if (avg >= 5 * spin_cycles)
		return 0;
	return WARD_MAX(spin_cycles, WARD_MIN(2 * avg, 5 * spin_cycles));
}

static uint64_t frame_rip(const uint8_t *uc)
{
	uint64_t rip;
	memcpy(&rip, uc + offsetof(ucontext_t, uc_mcontext.gregs) + REG_RIP * 8, 8);
	return rip;
}

/* The GS base the thread runs with: the guest's, or while that is 0 and
 * sites are patched, the thread's region, where the patched-site entry
 * finds its mailbox. */
static uint64_t run_gs(const struct sthread *t, uint64_t guest_gs)
{
	return patching && !guest_gs ? t->region_addr : guest_gs;
}

static void wake_stub(struct sthread *t)
{
	if (atomic_load(th_word(t, TH_STUB_SLEEPS)))
		futex(th_word(t, TH_STATE), FUTEX_WAKE, 1, NULL);
}

/* A signal stopped t inside the patched-site entry (its frame's rip is
 * there): puts back the state the handler's stop replaced, prev, which
 * the handler takes for "return", and the bases the entry runs with (the
 * handler saved the ones it found, which may predate the sentry's). */
static void resume_entry(struct sthread *t, uint32_t prev)
{
	th_store64(t, TH_FS, t->run_fs);
	th_store64(t, TH_GS, run_gs(t, 0));
	atomic_store(th_word(t, TH_SETBASES), 1);
	atomic_store(th_word(t, TH_STATE), prev);
	wake_stub(t);
}

/* Whether the frame stop at uc is one the entry's code cannot make but
 * a synchronous fault can: then it is the guest's (it broke its GS base),
 * and reported as a fault. */
static bool frame_is_fault(const struct sthread *t, const uint8_t *uc)
{
	struct ward_regs r;
	struct ward_stop st;
	memset(&st, 0, sizeof(st));
	fill_stop(t, atomic_load(th_word(t, TH_SIGNO)), uc, &r, &st);
	return st.kind == WARD_STOP_FAULT;
}

/* Makes a thread stopped in the patched-site entry stop in the handler
 * instead: it leaves through the trap page's syscall, whose frame holds
 * its FPU state (the entry never touches it). The frame's general
 * registers are the entry's: the next run writes the guest's. */
static long convert(struct ward_platform_as *as, struct sthread *t)
{
	uint32_t from = TH_CONVERT;
	atomic_store(th_word(t, TH_STATE), TH_CONVERT);
	wake_stub(t);
	for (;;) {
		long s = wait_change(NULL, as, t, from, spin_cycles);
		if (s != TH_STOPPED)
			return -ECHILD;
		uint8_t *uc = frame_uc(t);
		if (!uc || !frame_fp(t, uc))
			return -ECHILD;
		uint64_t rip = frame_rip(uc);
		if (rip == WARD_SECCOMP_TRAP_PAGE + 7 && atomic_load(th_word(t, TH_SIGNO)) == SIGSYS) {
			t->fast = false;
			return 0;
		}
		if (!in_entry(rip) || frame_is_fault(t, uc) || atomic_load(th_word(t, TH_PREV)) != TH_CONVERT)
			return -ECHILD;
		resume_entry(t, TH_CONVERT);
	}
}

/* Where regs resume in the middle of a patched site, between what were
 * its mov and its syscall (a restart rewinds rip by the syscall's 2
 * bytes, and a signal frame may keep that rip): there is no syscall
 * instruction there any more, but the site's trampoline has one that does
 * the same with the rax it is given, and returns to the site's end; rcx
 * and r11 are the call's to set. Only where the guest's bytes are this
 * site's jump: a site of the table may be another program's. */
static void resume_mid_site(struct ward_platform_as *as, struct ward_regs *regs)
{
	uint8_t code[7];
	uint32_t site;
	bool read = false;
	for (size_t h = SIZE_MAX; (site = site_by_ret(regs->rip + 2, &h));) {
		if (!read && ward_copy_in(as->owner, code, gaddr(regs->rip - 5), sizeof(code)) < 0)
			return;
		read = true;
		uint8_t want[7] = { 0xff, 0x24, 0x25 };
		uint32_t slot = (uint32_t)slots_addr + 8 * (site - 1);
		memcpy(want + 3, &slot, 4);
		if (memcmp(code, want, sizeof(want)) == 0) {
			regs->rip = regs->rcx = WARD_SECCOMP_TRAMP + 32 * (uint64_t)(site - 1) + TR_SYSCALL;
			regs->r11 = regs->eflags;
			return;
		}
	}
}

/* Whether regs can be loaded by the entry's return, which sets rcx to rip
 * and r11 to rflags, as sysret does, and the GS base to the region. */
static bool entry_can_return(const struct ward_regs *regs)
{
	return regs->rcx == regs->rip && regs->r11 == regs->eflags && !regs->gs_base;
}

/* Reads a stop of the patched-site entry: the registers it saved, and the
 * call and return address of the site whose index it was given, from the
 * sentry's own table. */
static void fast_stop(struct sthread *t, struct ward_regs *regs, struct ward_stop *stop)
{
	const uint8_t *p = mf_ptr(t->region_off) + TH_P;
	uint64_t idx;
	/* SAFETY: the save area is in the mailbox page, in the memory file;
	 * the guest may change it, so it is copied once and read as untrusted. */
	memcpy(regs, p, offsetof(struct ward_regs, rip));
	memcpy(&regs->eflags, p + P_EFLAGS, 8);
	memcpy(&regs->rsp, p + P_RSP, 8);
	memcpy(&idx, p + P_ORIG, 8);
	regs->fs_base = th_load64(t, TH_FS);
	regs->gs_base = 0;
	regs->r11 = regs->eflags;
	t->fast = true;
	if (idx >= atomic_load(&nsites)) {
		/* No trampoline sent it: the guest jumped into the entry. */
		regs->rip = regs->rcx = STUB_ADDR(ward__seccomp_stub_fast);
		regs->orig_rax = UINT64_MAX;
		t->site = 0;
		t->stop_rip = 0;
		stop->kind = WARD_STOP_FAULT;
		stop->signo = SIGSEGV;
		stop->code = SEGV_ACCERR;
		stop->addr = regs->rip;
		return;
	}
	regs->rip = regs->rcx = sites[idx].ret;
	regs->orig_rax = regs->rax = sites[idx].nr;
	t->site = (uint32_t)idx + 1;
	t->stop_rip = regs->rip;
	stop->kind = WARD_STOP_SYSCALL;
}

static long seccomp_ctx_run(struct ward_platform_ctx *ctx, struct ward_platform_as *as, struct ward_regs *regs,
			    struct ward_fpstate *fp, struct ward_stop *stop)
{
	if (!pthread_equal(ctx->owner, pthread_self()))
		return -EPERM;
	memset(stop, 0, sizeof(*stop));
	struct sthread *t = thread_for(ctx, as);
	if (!t)
		return -ECHILD;
	_Atomic uint32_t *state = th_word(t, TH_STATE);
	uint32_t now = atomic_load(state);
	/* A thread in the entry may be stopped in a signal it took there. */
	if (now != TH_STOPPED && !(t->fast && now == TH_FAST))
		return -ECHILD;
	if (patching && regs->rip != t->stop_rip && atomic_load(&nsites))
		resume_mid_site(as, regs);
	if (t->fast && (fp || !entry_can_return(regs)) && convert(as, t) < 0)
		return -ECHILD;
	if (t->fast) {
		uint8_t *p = mf_ptr(t->region_off) + TH_P;
		/* SAFETY: as in fast_stop. */
		memcpy(p, regs, offsetof(struct ward_regs, cs));
		memcpy(p + P_EFLAGS, &regs->eflags, 8);
		memcpy(p + P_RSP, &regs->rsp, 8);
		atomic_store(th_word(t, TH_SETBASES), regs->fs_base != th_load64(t, TH_FS));
	} else {
		uint8_t *uc = frame_uc(t);
		uint8_t *frame = uc ? frame_fp(t, uc) : NULL;
		if (!frame)
			return -ECHILD;
		regs_to_frame(uc, regs);
		if (fp)
			fp_to_frame(frame, fp);
		atomic_store(th_word(t, TH_SETBASES), 1);
	}
	th_store64(t, TH_FS, regs->fs_base);
	th_store64(t, TH_GS, run_gs(t, regs->gs_base));
	t->run_fs = regs->fs_base;

	/* Announce the run, then look at the interrupt flag: with
	 * ctx_interrupt's set-then-look, one of the two sees the other. */
	atomic_store(&ctx->running, t);
	if (atomic_exchange(&ctx->interrupt, false)) {
		atomic_store(&ctx->running, NULL);
		stop->kind = WARD_STOP_INTERRUPT;
		return 0;
	}
	place(ctx, t);
	/* The guest thread will wait for the sentry after its next stop:
	 * worth a spin if the sentry has been quick lately. */
	uint64_t started = __builtin_ia32_rdtsc();
	if (t->stopped_at)
		t->avg_handle = (t->avg_handle * 7 + clamp_sample(started - t->stopped_at)) / 8;
	th_store64(t, TH_SPIN, ctx->spin ? spin_budget(t->avg_handle) : 0);
	atomic_exchange(state, TH_RUN);
	wake_stub(t);
	long s;
	uint8_t *uc = NULL;
	for (;;) {
		s = wait_change(ctx, as, t, TH_RUN, ctx->spin ? spin_budget(t->avg_run) : 0);
		if (s != TH_STOPPED || !patching)
			break;
		uc = frame_uc(t);
		if (!uc || !in_entry(frame_rip(uc)) || frame_is_fault(t, uc))
			break;
		/* A signal in the entry, on its way in or out: let it go on. */
		uint32_t prev = atomic_load(th_word(t, TH_PREV));
		if (prev != TH_RUN && prev != TH_FAST) {
			s = -ECHILD;
			break;
		}
		resume_entry(t, prev);
		if (prev == TH_FAST) {
			s = TH_FAST;
			break;
		}
	}
	t->stopped_at = __builtin_ia32_rdtsc();
	t->avg_run = (t->avg_run * 7 + clamp_sample(t->stopped_at - started)) / 8;
	atomic_store(&ctx->running, NULL);
	if (s < 0)
		return -ECHILD;
	if (s == TH_FAST && patching) {
		fast_stop(t, regs, stop);
		if (fp && convert(as, t) == 0)
			fp_from_frame(frame_fp(t, frame_uc(t)), fp);
		return 0;
	}
	t->fast = false;
	uint32_t signo = atomic_load(th_word(t, TH_SIGNO));
	uc = frame_uc(t);
	uint8_t *frame = uc ? frame_fp(t, uc) : NULL;
	if (s != TH_STOPPED || !frame) {
		/* Not a stop the handler made: the guest wrote its mailbox. */
		return -ECHILD;
	}
	regs_from_frame(uc, regs);
	regs->fs_base = th_load64(t, TH_FS);
	regs->gs_base = th_load64(t, TH_GS);
	if (regs->gs_base == run_gs(t, 0))
		regs->gs_base = 0;
	fill_stop(t, signo, uc, regs, stop);
	/* A trap in a trampoline's trapping half is a trap at its site. */
	t->site = stop->kind == WARD_STOP_SYSCALL ? tramp_site(regs->rip) : 0;
	if (t->site)
		regs->rip = regs->rcx = sites[t->site - 1].ret;
	t->stop_rip = stop->kind == WARD_STOP_SYSCALL ? regs->rip : 0;
	if (fp)
		fp_from_frame(frame, fp);
	return 0;
}

static void seccomp_ctx_interrupt(struct ward_platform_ctx *ctx)
{
	atomic_store(&ctx->interrupt, true);
	struct sthread *t = atomic_load(&ctx->running);
	if (t && t->tid > 0)
		syscall(SYS_tgkill, t->as->pid, t->tid, INTERRUPT_SIGNAL);
}

static void seccomp_shutdown(void)
{
	pthread_mutex_lock(&spawn_lock);
	shut_down = true;
	/* All killed first, so that they die in parallel. */
	for (size_t i = 0; i < nlive; i++)
		kill(live_stubs[i], SIGKILL);
	for (size_t i = 0; i < nlive; i++) {
		int status;
		while (waitpid(live_stubs[i], &status, __WALL) < 0 && errno == EINTR)
			;
	}
	nlive = 0;
	pthread_mutex_unlock(&spawn_lock);
}

static void seccomp_fpstate_init(struct ward_fpstate *fp)
{
	ward__fpstate_clean(fp, host_xstate_size);
}

const struct ward_platform ward__seccomp_platform = {
	.name = "seccomp",
	.init = seccomp_init,
	.user_limit = WARD_SECCOMP_STUB_BASE,
	.as_create = seccomp_as_create,
	.as_destroy = seccomp_as_destroy,
	.as_map = seccomp_as_map,
	.as_unmap = seccomp_as_unmap,
	.as_protect = seccomp_as_protect,
	.ctx_create = seccomp_ctx_create,
	.ctx_destroy = seccomp_ctx_destroy,
	.ctx_run = seccomp_ctx_run,
	.ctx_interrupt = seccomp_ctx_interrupt,
	.fpstate_init = seccomp_fpstate_init,
	.fpstate_get = seccomp_fpstate_get,
	.fpstate_set = seccomp_fpstate_set,
	.patch_enable = seccomp_patch_enable,
	.patch_site = seccomp_patch_site,
	.shutdown = seccomp_shutdown,
};
