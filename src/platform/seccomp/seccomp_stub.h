/* Layout of the seccomp stub, shared by seccomp_stub.S and seccomp.c.
 *
 * Everything the stub needs lives in one area at the top of the guest's
 * address space, above the platform's user limit:
 *
 *   BASE             code page: the control loop, the thread start, the
 *                    signal handler and its restorer. The only page whose
 *                    system calls the filter lets through.
 *   BASE + 0x1000    trap page: the bootstrap system call of a new thread,
 *                    which must trap like a guest's.
 *   BASE + 0x2000    control page, read-only in the stub: the sentry's
 *                    requests to the control thread and the guest threads'
 *                    own filter.
 *   BASE + 0x3000    shared page, writable by the stub: the count of
 *                    threads that spin in a hand-off, shared by every stub
 *                    and the sentry (a guest can skew it; that only costs
 *                    it speed, since every spin is bounded in time).
 *   BASE + 0x4000    status page, writable by the stub: how far the
 *                    control thread has got, and whether it sleeps. Only
 *                    hints: a request is done when its byte is on the pipe.
 *   TRAMP            with --patch-syscalls: one 32-byte trampoline per
 *                    patched syscall site (shared by every stub, written
 *                    only by the sentry, read-only and executable here).
 *   THREADS + i*SIZE one region per guest thread: its mailbox page, then
 *                    its signal stack, on which the kernel writes the
 *                    thread's registers at every stop.
 *
 * And, with --patch-syscalls, below the guest's lowest address
 * (vm.mmap_min_addr, which the sentry enforces for the guest):
 *
 *   SLOTS            the slot table: slot i holds the address of trampoline
 *                    i, so that a patched site, `jmp *SLOTS+8i` (ff 24 25
 *                    disp32, the 7 bytes of `mov $nr,%eax; syscall`), can
 *                    reach it with a sign-extended 32-bit address. At
 *                    GUEST_SLOTS instead when the host refuses SLOTS.
 */
#ifndef WARD_SECCOMP_STUB_H
#define WARD_SECCOMP_STUB_H

#define WARD_SECCOMP_TASK_TOP 0x7ffffffff000
#define WARD_SECCOMP_STUB_BASE 0x7fffe0000000
#define WARD_SECCOMP_CODE_SIZE 0x1000
#define WARD_SECCOMP_TRAP_PAGE (WARD_SECCOMP_STUB_BASE + 0x1000)
#define WARD_SECCOMP_CONTROL (WARD_SECCOMP_STUB_BASE + 0x2000)
#define WARD_SECCOMP_SHARED (WARD_SECCOMP_STUB_BASE + 0x3000)
#define WARD_SECCOMP_STATUS (WARD_SECCOMP_STUB_BASE + 0x4000)
#define WARD_SECCOMP_THREADS (WARD_SECCOMP_STUB_BASE + 0x100000)
#define WARD_SECCOMP_THREAD_SIZE 0x10000
#define WARD_SECCOMP_TRAMP (WARD_SECCOMP_STUB_BASE + 0x10000)
#define WARD_SECCOMP_MAX_SITES 4096
#define WARD_SECCOMP_TRAMP_SIZE (WARD_SECCOMP_MAX_SITES * 32)
#define WARD_SECCOMP_SLOTS 0x1000
#define WARD_SECCOMP_SLOTS_SIZE (WARD_SECCOMP_MAX_SITES * 8)
#define WARD_SECCOMP_LOW_END 0x10000 /* the guest's lowest address */
/* Where the slot table goes when the host refuses SLOTS (vm.mmap_min_addr
 * above 4 KiB, no CAP_SYS_RAWIO): the bottom of the guest's range, which
 * the guest then never has (its lowest address becomes GUEST_SLOTS_END). */
#define WARD_SECCOMP_GUEST_SLOTS WARD_SECCOMP_LOW_END
#define WARD_SECCOMP_GUEST_SLOTS_END (WARD_SECCOMP_GUEST_SLOTS + WARD_SECCOMP_SLOTS_SIZE)
/* A trampoline: `mov $i,%ecx; jmp fast` (0), then its trapping half
 * `mov $nr,%eax` (TR_SLOW), `syscall` (TR_SYSCALL), `ud2` (TR_RET). */
#define TR_SLOW 10
#define TR_SYSCALL 15
#define TR_RET 17
#define WARD_SECCOMP_MAX_THREADS ((WARD_SECCOMP_TASK_TOP - WARD_SECCOMP_THREADS) / WARD_SECCOMP_THREAD_SIZE)

/* The stub's descriptors: the memory file, and the write end of the pipe
 * on which the control thread reports each finished request. */
#define WARD_SECCOMP_MEMFD 3
#define WARD_SECCOMP_DONEFD 4

/* Control page offsets. */
#define CTL_SEQ 0 /* u32, futex: bumped by the sentry per batch of requests */
#define CTL_COUNT 8 /* u32: the requests in the batch, 1 to CTL_MAX_REQS */
#define CTL_OK_BYTE 64 /* the byte written when a request succeeded */
#define CTL_FAIL_BYTE 65 /* and when it failed */
#define CTL_EMPTY_MASK 72 /* u64 0: the signal mask of a guest thread */
#define CTL_MAXSPIN 80 /* u32: how many threads may spin at once */
#define CTL_SPIN 88 /* u64: TSC cycles the control thread waits for more work */
#define CTL_FPROG 128 /* struct sock_fprog of the guest threads' filter */
#define CTL_FILTER 256 /* its instructions (at most 64: to 768) */
#define CTL_REQS 1024 /* the batch: per request, the call's number and six arguments (u64) */
#define CTL_REQ_SIZE 56
#define CTL_MAX_REQS 48 /* to 3712 */

/* Thread mailbox offsets. */
#define TH_STATE 0 /* u32, futex; the thread's CLONE_CHILD_CLEARTID word */
#define TH_SIGNO 4 /* u32 */
#define TH_UC 8 /* u64: stub address of the frame's ucontext */
#define TH_INFO 16 /* u64: stub address of the frame's siginfo */
#define TH_FS 24 /* u64 */
#define TH_GS 32 /* u64 */
#define TH_SETBASES 40 /* u32: load TH_FS/TH_GS before resuming */
#define TH_TID 44 /* u32: CLONE_PARENT_SETTID */
#define TH_SPIN 48 /* u64: TSC cycles the thread spins before it sleeps */
#define TH_STUB_SLEEPS 56 /* u32: the stub thread sleeps (or is about to) on TH_STATE */
#define TH_SENTRY_SLEEPS 60 /* u32: the sentry sleeps (or is about to) on TH_STATE */
#define TH_PREV 64 /* u32: the state the handler's stop replaced */
/* The patched-site entry's register save area, laid out as the first 20
 * words of struct ward_regs (P_ORIG holds the site's index). */
#define TH_P 128
#define P_R15 0
#define P_R14 8
#define P_R13 16
#define P_R12 24
#define P_RBP 32
#define P_RBX 40
#define P_R11 48
#define P_R10 56
#define P_R9 64
#define P_R8 72
#define P_RAX 80
#define P_RCX 88
#define P_RDX 96
#define P_RSI 104
#define P_RDI 112
#define P_ORIG 120
#define P_RIP 128
#define P_EFLAGS 144
#define P_RSP 152

/* Status page offsets. */
#define ST_DONE 0 /* u32: the last request served */
#define ST_SLEEPS 4 /* u32: the control thread sleeps (or is about to) */

/* Shared page offsets. */
#define SH_SPINNERS 0 /* u32 */
#define TH_STACK 0x1000 /* the signal stack, to the end of the region */

/* TH_STATE values. 0 is what the kernel writes when the thread is gone. */
#define TH_DEAD 0
#define TH_RUN 1 /* sentry: run the guest */
#define TH_STOPPED 2 /* stub: stopped in the handler, registers published */
#define TH_EXIT 3 /* sentry: leave */
#define TH_BOOT 4 /* created, not yet stopped */
#define TH_FAST 5 /* stub: stopped in the patched-site entry, registers in TH_P */
#define TH_CONVERT 6 /* sentry: leave the entry through a trapping syscall */

#endif
