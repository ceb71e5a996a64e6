/* A guest that fights the seccomp platform's stub (ward-only: natively
 * there is no stub). Each mode attacks one part of it; run.sh says what
 * ward must do then. The layout constants are the platform's
 * (src/platform/seccomp/seccomp_stub.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define STUB_BASE 0x7fffe0000000UL
#define STUB_AREA 0x1fff000UL
#define FIRST_REGION 0x7fffe0100000UL

/* The address of the first syscall instruction in the stub's code page. */
static uint64_t stub_syscall(void)
{
	const uint8_t *code = (const uint8_t *)STUB_BASE;
	for (int i = 0; i < 4095; i++)
		if (code[i] == 0x0f && code[i + 1] == 0x05)
			return STUB_BASE + (uint64_t)i;
	fprintf(stderr, "no syscall instruction in the stub\n");
	exit(3);
}

/* Makes system call nr with the stub's own syscall instruction. */
static long via_stub(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	uint64_t at = stub_syscall();
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	long ret;
	/* The stub never returns here for a call the filter forbids. */
	__asm__ volatile("lea 1f(%%rip), %%rcx\n\t"
			 "push %%rcx\n\t"
			 "jmp *%[at]\n"
			 "1:"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9), [at] "r"(at)
			 : "rcx", "r11", "memory");
	return ret;
}

static void alive(void)
{
	/* A guest that still makes system calls afterwards. */
	if (getpid() <= 0 || write(1, "alive\n", 6) != 6)
		exit(4);
}

static char forged_stack[65536] __attribute__((aligned(16)));

__attribute__((noreturn)) static void after_sigreturn(void)
{
	/* With SIGSYS blocked on the host, this trap can only kill the stub. */
	syscall(SYS_getpid);
	syscall(SYS_exit_group, 0);
	for (;;)
		;
}

/* rt_sigreturn through the stub with a frame of our making. */
static void forged_sigreturn(int disable_altstack)
{
	static ucontext_t uc __attribute__((aligned(16)));
	unsigned short cs;
	__asm__("mov %%cs, %0" : "=r"(cs));
	memset(&uc, 0, sizeof(uc));
	if (disable_altstack) {
		uc.uc_stack.ss_flags = SS_DISABLE;
	} else {
		uc.uc_stack.ss_sp = (void *)(FIRST_REGION + 0x1000);
		uc.uc_stack.ss_size = 0xf000;
	}
	uc.uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)after_sigreturn;
	uc.uc_mcontext.gregs[REG_RSP] = (greg_t)(uintptr_t)(forged_stack + sizeof(forged_stack) - 8);
	uc.uc_mcontext.gregs[REG_EFL] = 0x202;
	uc.uc_mcontext.gregs[REG_CSGSFS] = cs;
	memset(&uc.uc_sigmask, disable_altstack ? 0 : 0xff, 8);
	uint64_t at = stub_syscall();
	__asm__ volatile("mov %[frame], %%rsp\n\t"
			 "mov $15, %%eax\n\t"
			 "jmp *%[at]"
			 :
			 : [frame] "r"(&uc), [at] "r"(at)
			 : "memory");
	__builtin_unreachable();
}

static volatile sig_atomic_t sigsys_seen;
static void on_sigsys(int sig)
{
	(void)sig;
	sigsys_seen++;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *m = argv[1];
	if (!strcmp(m, "write-code")) {
		/* The code page is read-only: a store is the guest's own SIGSEGV. */
		*(volatile uint8_t *)(STUB_BASE + 16) = 0xcc;
		return 5;
	}
	if (!strcmp(m, "write-mailbox")) {
		/* Scribble over the first thread region's mailbox and what lies
		 * below its signal stack, then go on. */
		memset((void *)FIRST_REGION, 0x5a, 0x800);
		alive();
		return 0;
	}
	if (!strcmp(m, "unmap")) {
		/* Above the guest's limit: refused, and the stub stays. */
		if (munmap((void *)STUB_BASE, STUB_AREA) == 0)
			return 6;
		alive();
		return 0;
	}
	if (!strcmp(m, "mprotect")) {
		if (mprotect((void *)STUB_BASE, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) == 0)
			return 6;
		alive();
		return 0;
	}
	if (!strcmp(m, "map-over")) {
		void *p = mmap((void *)STUB_BASE, 0x4000, PROT_READ | PROT_WRITE,
			       MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED)
			return 6;
		alive();
		return 0;
	}
	if (!strcmp(m, "stub-mkdir") && argc == 3) {
		/* A host call from the stub's own syscall instruction. */
		via_stub(SYS_mkdir, (long)argv[2], 0700, 0, 0, 0, 0);
		return 7;
	}
	if (!strcmp(m, "stub-mmap-memfile")) {
		/* The stub's descriptor 3 is the memory file of the sandbox. */
		long r = via_stub(SYS_mmap, 0x10000000, 1 << 20, PROT_READ, MAP_SHARED | MAP_FIXED, 3, 0);
		return r == 0x10000000 ? 8 : 7;
	}
	if (!strcmp(m, "stub-futex-requeue")) {
		/* Only plain waits and wakes pass: a requeue could strand the
		 * stub's control thread. */
		int word = 0, other = 0;
		via_stub(SYS_futex, (long)&word, 4 /* FUTEX_CMP_REQUEUE */, 0, 1, (long)&other, 0);
		return 7;
	}
	if (!strcmp(m, "sigreturn-block"))
		forged_sigreturn(0);
	if (!strcmp(m, "sigreturn-altstack"))
		forged_sigreturn(1);
	if (!strcmp(m, "own-sigsys")) {
		/* The guest's SIGSYS is the sentry's emulation, not the stub's. */
		signal(SIGSYS, on_sigsys);
		alive();
		raise(SIGSYS);
		if (sigsys_seen != 1)
			return 9;
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGSYS);
		sigprocmask(SIG_BLOCK, &set, NULL);
		alive();
		return 0;
	}
	return 2;
}
