/* How guest code runs and traps. One interface, three implementations
 * (ptrace now; seccomp and kvm later): nothing above this header knows which
 * one is active.
 *
 * An address space (ward_platform_as) is a set of guest ranges mapped from
 * the memory file. A context (ward_platform_ctx) is the means by which one
 * sentry thread runs guest code: it is created on, and may be used only
 * from, that sentry thread, except for ctx_interrupt. Registers and the FPU
 * state belong to the caller (the task) and are handed in and out of each
 * run, so that a task can move between contexts and address spaces (execve). */
#ifndef WARD_PLATFORM_H
#define WARD_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The general registers, in the layout of struct user_regs_struct, which is
 * also the order of the guest's ucontext and of ptrace. */
struct ward_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10;
	uint64_t r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax;
	uint64_t rip, cs, eflags, rsp, ss;
	uint64_t fs_base, gs_base;
	uint64_t ds, es, fs, gs;
};
_Static_assert(sizeof(struct ward_regs) == 27 * 8, "ward_regs");

/* The FPU/SSE/AVX state in XSAVE layout. 4096 bytes covers every xstate
 * feature an x86-64 host has today (AMX aside, which ward disables). */
#define WARD_FPSTATE_SIZE 4096
struct ward_fpstate {
	uint8_t bytes[WARD_FPSTATE_SIZE];
	uint32_t size; /* bytes of the area in use: the host's XSAVE size */
} __attribute__((aligned(64)));

/* Why a run returned. */
enum ward_stop_kind {
	WARD_STOP_SYSCALL, /* regs.orig_rax is the syscall number; rip is past it */
	WARD_STOP_FAULT, /* a synchronous fault: info.signo/code/addr say which */
	WARD_STOP_INTERRUPT, /* ctx_interrupt was called, or a host signal came */
};

struct ward_stop {
	enum ward_stop_kind kind;
	int signo; /* WARD_STOP_FAULT: SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP */
	int code; /* the si_code the host reported */
	uint64_t addr; /* the faulting address (si_addr) */
	uint64_t trapno; /* the x86 trap number when known, else 0 */
	uint64_t error_code; /* the page-fault error code when known */
};

struct ward_as;
struct ward_platform_as;
struct ward_platform_ctx;

struct ward_platform {
	const char *name;
	/* Prepares the platform in the sentry. Called once, before any guest. */
	long (*init)(void);
	/* The first address above the guest's usable range. */
	uint64_t user_limit;

	/* Creates an empty address space for the core's owner, which the
	 * platform may ask for the current mappings (ward__as_replay) when it
	 * needs to build them again, for example for a new thread. */
	long (*as_create)(struct ward_as *owner, struct ward_platform_as **out);
	void (*as_destroy)(struct ward_platform_as *as);
	/* Maps [addr, addr+len) to the memory file at memfile_off, replacing
	 * what was there. All page-aligned; prot is WARD_PROT_*, with
	 * WARD_PROT_REPLACE when part of the range was mapped before (a
	 * copy-on-write page becoming the guest's own): then no guest thread
	 * may go on using the old pages once as_map returns. */
	long (*as_map)(struct ward_platform_as *as, uint64_t addr, uint64_t len, int prot, uint64_t memfile_off);
	long (*as_unmap)(struct ward_platform_as *as, uint64_t addr, uint64_t len);
	long (*as_protect)(struct ward_platform_as *as, uint64_t addr, uint64_t len, int prot);

	/* Creates a context for the calling sentry thread. */
	long (*ctx_create)(struct ward_platform_ctx **out);
	void (*ctx_destroy)(struct ward_platform_ctx *ctx);
	/* Runs guest code in as with regs until it makes a syscall, faults, or
	 * is interrupted; regs then hold the guest's state. fp may be NULL:
	 * then the FPU state stays where the platform keeps it between runs;
	 * otherwise it is loaded from fp before and saved to fp after.
	 * Returns 0 and fills stop, or -errno when the platform failed (the task
	 * cannot continue). Precondition: the calling thread created ctx. */
	long (*ctx_run)(struct ward_platform_ctx *ctx, struct ward_platform_as *as, struct ward_regs *regs,
			struct ward_fpstate *fp, struct ward_stop *stop);
	/* Makes a current or the next ctx_run of ctx return
	 * WARD_STOP_INTERRUPT soon. Callable from any thread. */
	void (*ctx_interrupt)(struct ward_platform_ctx *ctx);
	/* Fills fp with a clean initial FPU state (as after execve). */
	void (*fpstate_init)(struct ward_fpstate *fp);
	/* Reads or replaces the FPU state a context keeps for its guest in as
	 * between runs (for signal frames and execve). Same precondition as
	 * ctx_run. */
	long (*fpstate_get)(struct ward_platform_ctx *ctx, struct ward_platform_as *as, struct ward_fpstate *fp);
	long (*fpstate_set)(struct ward_platform_ctx *ctx, struct ward_platform_as *as, const struct ward_fpstate *fp);

	/* Syscall-site patching (NULL where the platform has none). Turns it
	 * on, before any address space exists; -errno if the host cannot.
	 * Sets *min_addr to the guest's lowest address from then on (the
	 * platform may keep what lies below it). */
	long (*patch_enable)(uint64_t *min_addr);
	/* Makes an entry for the site `mov $nr,%eax; syscall` that ends at
	 * ret, and says the absolute address, below 2 GiB, of the slot that
	 * reaches it: the site becomes `jmp *slot`. */
	long (*patch_site)(uint64_t ret, uint32_t nr, uint64_t *slot);
	/* Kills every stub and waits until each is gone, for a sentry that
	 * exits next without destroying its address spaces one by one; no
	 * address space may be used after it. NULL where the platform cannot
	 * (then each stub goes with its address space). */
	void (*shutdown)(void);
};

/* Selects and initialises a platform by name ("ptrace"). -ENOENT if unknown. */
long ward_platform_select(const char *name);
/* The active platform. */
const struct ward_platform *ward_platform(void);

/* Core entry points the task loop uses to switch into the guest. */
long ward_ctx_create(struct ward_platform_ctx **out);
void ward_ctx_destroy(struct ward_platform_ctx *ctx);
long ward_ctx_run(struct ward_platform_ctx *ctx, struct ward_platform_as *as, struct ward_regs *regs,
		  struct ward_fpstate *fp, struct ward_stop *stop);
void ward_ctx_interrupt(struct ward_platform_ctx *ctx);
/* The platform's shutdown: 0 when every stub is gone, -ENOSYS where the
 * platform has none (the sentry must then destroy its address spaces). */
long ward_platform_shutdown(void);
void ward_fpstate_init(struct ward_fpstate *fp);
long ward_fpstate_get(struct ward_platform_ctx *ctx, struct ward_platform_as *as, struct ward_fpstate *fp);
long ward_fpstate_set(struct ward_platform_ctx *ctx, struct ward_platform_as *as, const struct ward_fpstate *fp);

/* Turns on syscall-site patching (--patch-syscalls). -EOPNOTSUPP when the
 * active platform has none, or -errno when the host cannot. */
long ward_patch_enable(void);
/* Whether sites are patched. */
bool ward_patch_enabled(void);
/* See struct ward_platform's patch_site. */
long ward_patch_site(uint64_t ret, uint32_t nr, uint64_t *slot);

#endif
