/* rt_sigaction and rt_sigprocmask as bookkeeping: a handler that is set
 * reads back with its flags and mask, a blocked signal shows in the mask,
 * SIGKILL and SIGSTOP can be neither caught nor blocked, and bad sizes and
 * numbers are EINVAL. No signal is ever raised. */
#include "ward_test.h"

#include <signal.h>

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

/* The kernel's struct sigaction on x86-64 (glibc's differs in layout). */
struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

static void handler(int sig)
{
	(void)sig;
}

static void test_sigaction(void)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);

	/* Initially the default action. */
	CHECK_OK(sigaction(SIGUSR1, NULL, &old));
	CHECK(old.sa_handler == SIG_DFL);
	CHECK_OK(sigaction(SIGUSR1, &sa, &old));
	CHECK(old.sa_handler == SIG_DFL);
	/* Read it back: handler, flags, mask. */
	memset(&old, 0, sizeof(old));
	CHECK_OK(sigaction(SIGUSR1, NULL, &old));
	CHECK(old.sa_handler == handler);
	CHECK(old.sa_flags & SA_RESTART);
	CHECK(sigismember(&old.sa_mask, SIGUSR2));
	CHECK(!sigismember(&old.sa_mask, SIGUSR1));

	/* The raw call: glibc adds SA_RESTORER and its restorer, which must
	 * come back as given. */
	struct ksigaction k = { 0 };
	CHECK_OK(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &k, 8));
	CHECK(k.handler == handler);
	CHECK(k.flags & SA_RESTORER);
	CHECK(k.restorer != NULL);
	CHECK_EQ(k.mask, 1UL << (SIGUSR2 - 1));
	/* SIGKILL and SIGSTOP cannot be blocked by a handler's mask: the
	 * kernel drops them from it. */
	k.mask |= 1UL << (SIGKILL - 1) | 1UL << (SIGSTOP - 1);
	CHECK_OK(syscall(SYS_rt_sigaction, SIGUSR1, &k, NULL, 8));
	struct ksigaction back = { 0 };
	CHECK_OK(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &back, 8));
	CHECK_EQ(back.mask, 1UL << (SIGUSR2 - 1));
	/* SA_SIGINFO reads back; SIG_IGN reads back. */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
	CHECK_OK(sigaction(SIGUSR2, NULL, &old));
	CHECK((old.sa_flags & (SA_SIGINFO | SA_NODEFER | SA_ONSTACK)) == (SA_SIGINFO | SA_NODEFER | SA_ONSTACK));
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
	CHECK_OK(sigaction(SIGUSR2, NULL, &old));
	CHECK(old.sa_handler == SIG_IGN);
	/* Real-time signals have handlers too. */
	CHECK_OK(syscall(SYS_rt_sigaction, 64, &k, NULL, 8));
	CHECK_OK(syscall(SYS_rt_sigaction, 64, NULL, &back, 8));
	CHECK(back.handler == handler);

	/* SIGKILL and SIGSTOP: reading is fine, setting is EINVAL, even to
	 * the default. */
	CHECK_OK(sigaction(SIGKILL, NULL, &old));
	CHECK(old.sa_handler == SIG_DFL);
	sa.sa_handler = handler;
	CHECK_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
	CHECK_ERRNO(sigaction(SIGSTOP, &sa, NULL), EINVAL);
	sa.sa_handler = SIG_DFL;
	CHECK_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
	/* Out of range signal numbers. */
	CHECK_ERRNO(syscall(SYS_rt_sigaction, 0, NULL, &k, 8), EINVAL);
	CHECK_ERRNO(syscall(SYS_rt_sigaction, 65, NULL, &k, 8), EINVAL);
	CHECK_ERRNO(syscall(SYS_rt_sigaction, -1, NULL, &k, 8), EINVAL);
	/* The sigset size must be exactly 8. */
	CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &k, 4), EINVAL);
	CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &k, 16), EINVAL);
	/* Bad pointers. */
	CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, (void *)1, NULL, 8), EFAULT);
	CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, NULL, (void *)1, 8), EFAULT);
}

static void test_sigprocmask(void)
{
	sigset_t set, old, cur;
	/* The mask starts empty here (the harness blocks nothing). */
	CHECK_OK(sigprocmask(SIG_SETMASK, NULL, &cur));
	CHECK(!sigismember(&cur, SIGUSR1));

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, &old));
	CHECK(!sigismember(&old, SIGUSR1));
	CHECK_OK(sigprocmask(SIG_BLOCK, NULL, &cur));
	CHECK(sigismember(&cur, SIGUSR1));
	/* Blocking adds; SIG_SETMASK replaces; SIG_UNBLOCK removes. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	CHECK_OK(sigprocmask(SIG_BLOCK, NULL, &cur));
	CHECK(sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGUSR2));
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
	CHECK_OK(sigprocmask(SIG_BLOCK, NULL, &cur));
	CHECK(sigismember(&cur, SIGUSR1) && !sigismember(&cur, SIGUSR2));
	CHECK_OK(sigprocmask(SIG_SETMASK, &set, NULL));
	CHECK_OK(sigprocmask(SIG_BLOCK, NULL, &cur));
	CHECK(!sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGUSR2));

	/* SIGKILL and SIGSTOP are silently left out. Raw calls: glibc's
	 * wrapper never passes them. */
	unsigned long all = ~0UL, got = 0;
	CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8));
	CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &got, 8));
	CHECK_EQ(got, ~(1UL << (SIGKILL - 1) | 1UL << (SIGSTOP - 1)));
	/* Nothing is pending, though everything is blocked. */
	sigset_t pending;
	CHECK_OK(sigpending(&pending));
	CHECK(!sigismember(&pending, SIGUSR1));
	CHECK(sigisemptyset(&pending));

	/* An invalid how is EINVAL, but only when a new set is given. */
	CHECK_ERRNO(syscall(SYS_rt_sigprocmask, 42, &all, NULL, 8), EINVAL);
	CHECK_OK(syscall(SYS_rt_sigprocmask, 42, NULL, &got, 8));
	/* The sigset size must be exactly 8. */
	CHECK_ERRNO(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &got, 4), EINVAL);
	CHECK_ERRNO(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &got, 16), EINVAL);
	CHECK_ERRNO(syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)1, NULL, 8), EFAULT);
	CHECK_ERRNO(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, (void *)1, 8), EFAULT);
	/* rt_sigpending, unlike the others, takes any size up to 8 and copies
	 * that many bytes. */
	CHECK_ERRNO(syscall(SYS_rt_sigpending, &got, 16), EINVAL);
	got = ~0UL;
	CHECK_OK(syscall(SYS_rt_sigpending, &got, 4));
	CHECK_EQ(got, 0xffffffff00000000UL);

	unsigned long none = 0;
	CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8));
	CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &got, 8));
	CHECK_EQ(got, 0);
}

int main(void)
{
	test_sigaction();
	test_sigprocmask();
	return test_done();
}
