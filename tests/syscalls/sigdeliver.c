/* Signal delivery: handlers run before the call that sent the signal
 * returns, with the siginfo of the sender (SI_USER, SI_TKILL, SI_QUEUE), a
 * ucontext, and the right mask (the signal itself unless SA_NODEFER, plus
 * sa_mask); SA_RESETHAND; blocked signals stay pending, standard ones once,
 * real-time ones queued in order; what a handler writes into its ucontext
 * (registers, the mask) is what sigreturn restores; kill/tgkill/sigqueue
 * errors; default actions; synchronous faults (SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL, SIGTRAP) with Linux's si_code, si_addr and trap numbers;
 * sigaltstack; the FPU and general registers preserved across a handler. */
#include "ward_test.h"

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <ucontext.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static long page;

/* ---- Recording handlers. ---- */

static volatile sig_atomic_t count;
static volatile int got_sig, got_code, got_pid, got_uid, got_value, got_uc;
static volatile int self_blocked, usr2_blocked, uc_mask_has_self;
static char order[64];
static volatile int order_n;

static void note(int sig)
{
	if (order_n < (int)sizeof(order) - 1)
		order[order_n++] = sig == SIGUSR1 ? '1' : sig == SIGUSR2 ? '2' : sig >= SIGRTMIN ? 'R' : '?';
}

static void plain_handler(int sig)
{
	count++;
	note(sig);
}

static void info_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	count++;
	note(sig);
	got_sig = si->si_signo;
	got_code = si->si_code;
	got_pid = si->si_pid;
	got_uid = si->si_uid;
	got_value = si->si_value.sival_int;
	got_uc = uc != NULL;
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	self_blocked = sigismember(&cur, sig);
	usr2_blocked = sigismember(&cur, SIGUSR2);
	uc_mask_has_self = uc ? sigismember(&uc->uc_sigmask, sig) : -1;
}

static void set_handler(int sig, void (*h)(int, siginfo_t *, void *), int flags, const sigset_t *mask)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO | flags;
	if (mask)
		sa.sa_mask = *mask;
	else
		sigemptyset(&sa.sa_mask);
	CHECK_OK(sigaction(sig, &sa, NULL));
}

static void set_plain(int sig, void (*h)(int), int flags, const sigset_t *mask)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h;
	sa.sa_flags = flags;
	if (mask)
		sa.sa_mask = *mask;
	else
		sigemptyset(&sa.sa_mask);
	CHECK_OK(sigaction(sig, &sa, NULL));
}

static void reset(void)
{
	count = 0;
	got_sig = got_code = got_pid = got_uid = got_value = got_uc = 0;
	self_blocked = usr2_blocked = uc_mask_has_self = -1;
	order_n = 0;
	memset(order, 0, sizeof(order));
}

static sigset_t just(int a, int b)
{
	sigset_t s;
	sigemptyset(&s);
	if (a)
		sigaddset(&s, a);
	if (b)
		sigaddset(&s, b);
	return s;
}

static int is_blocked(int sig)
{
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, sig);
}

static int is_pending(int sig)
{
	sigset_t p;
	sigpending(&p);
	return sigismember(&p, sig);
}

/* A pid that no process has: a reaped child's. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static int reap(pid_t pid)
{
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	return status;
}

/* ---- Delivery and siginfo. ---- */

static void test_delivery(void)
{
	reset();
	set_plain(SIGUSR1, plain_handler, 0, NULL);
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(count, 1);
	/* A signal to oneself is delivered before kill returns. */
	CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK_EQ(count, 2);
	CHECK_OK(syscall(SYS_tkill, gettid(), SIGUSR1));
	CHECK_EQ(count, 3);

	/* SA_SIGINFO: who sent it and how. */
	set_handler(SIGUSR1, info_handler, 0, NULL);
	reset();
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(count, 1);
	CHECK_EQ(got_sig, SIGUSR1);
	CHECK_EQ(got_code, SI_TKILL);
	CHECK_EQ(got_pid, getpid());
	CHECK_EQ(got_uid, getuid());
	CHECK(got_uc);
	reset();
	CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK_EQ(got_code, SI_USER);
	CHECK_EQ(got_pid, getpid());
	set_handler(SIGUSR2, info_handler, 0, NULL);
	reset();
	CHECK_OK(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2));
	CHECK_EQ(count, 1);
	CHECK_EQ(got_sig, SIGUSR2);
	CHECK_EQ(got_code, SI_TKILL);
	CHECK_EQ(got_pid, getpid());

	/* sigqueue: SI_QUEUE and the value. */
	set_handler(SIGRTMIN, info_handler, 0, NULL);
	reset();
	union sigval v = { .sival_int = 1234 };
	CHECK_OK(sigqueue(getpid(), SIGRTMIN, v));
	CHECK_EQ(count, 1);
	CHECK_EQ(got_sig, SIGRTMIN);
	CHECK_EQ(got_code, SI_QUEUE);
	CHECK_EQ(got_value, 1234);
	CHECK_EQ(got_pid, getpid());
	CHECK_EQ(got_uid, getuid());
	/* rt_tgsigqueueinfo to this thread, with our own si_code. */
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGRTMIN;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = 77;
	reset();
	CHECK_OK(syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGRTMIN, &si));
	CHECK_EQ(count, 1);
	CHECK_EQ(got_value, 77);
	CHECK_EQ(got_code, SI_QUEUE);

	/* Signals whose default action is to do nothing. */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	int ignored[] = { SIGCHLD, SIGURG, SIGWINCH, SIGCONT };
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		CHECK_OK(sigaction(ignored[i], &dfl, NULL));
		CHECK_OK(raise(ignored[i]));
		CHECK(!is_pending(ignored[i]));
	}
}

/* ---- Masks during a handler. ---- */

static void usr1_raises_usr2(int sig)
{
	note(sig);
	raise(SIGUSR2);
	note(sig);
}

static void adds_usr2_to_uc_mask(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	count++;
	sigaddset(&uc->uc_sigmask, SIGUSR2);
}

static void test_masks(void)
{
	/* By default the signal is blocked in its own handler, the
	 * ucontext holds the mask to go back to, and that is restored. */
	set_handler(SIGUSR1, info_handler, 0, NULL);
	reset();
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(self_blocked, 1);
	CHECK_EQ(usr2_blocked, 0);
	CHECK_EQ(uc_mask_has_self, 0);
	CHECK(!is_blocked(SIGUSR1));
	/* SA_NODEFER: not blocked. */
	set_handler(SIGUSR1, info_handler, SA_NODEFER, NULL);
	reset();
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(count, 1);
	CHECK_EQ(self_blocked, 0);
	/* sa_mask is added for the handler's duration only. */
	sigset_t m = just(SIGUSR2, 0);
	set_handler(SIGUSR1, info_handler, 0, &m);
	reset();
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(self_blocked, 1);
	CHECK_EQ(usr2_blocked, 1);
	CHECK(!is_blocked(SIGUSR2));
	CHECK(!is_blocked(SIGUSR1));

	/* A signal raised in a handler that blocks it runs after the handler;
	 * one not blocked runs nested, at once. */
	set_plain(SIGUSR2, plain_handler, 0, NULL);
	set_plain(SIGUSR1, usr1_raises_usr2, 0, &m);
	reset();
	CHECK_OK(raise(SIGUSR1));
	CHECK_STREQ(order, "112");
	set_plain(SIGUSR1, usr1_raises_usr2, 0, NULL);
	reset();
	CHECK_OK(raise(SIGUSR1));
	CHECK_STREQ(order, "121");

	/* SA_RESETHAND: one delivery, then SIG_DFL (the flag itself reads
	 * back). The signal is still blocked in the handler: Linux does not
	 * imply SA_NODEFER. */
	set_handler(SIGUSR1, info_handler, SA_RESETHAND, NULL);
	reset();
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(count, 1);
	CHECK_EQ(self_blocked, 1);
	struct sigaction got;
	CHECK_OK(sigaction(SIGUSR1, NULL, &got));
	CHECK(got.sa_handler == SIG_DFL);
	CHECK(got.sa_flags & SA_RESETHAND);

	/* The mask in the ucontext is what sigreturn installs. */
	set_handler(SIGUSR1, adds_usr2_to_uc_mask, 0, NULL);
	reset();
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(count, 1);
	CHECK(is_blocked(SIGUSR2));
	CHECK(!is_blocked(SIGUSR1));
	sigset_t none;
	sigemptyset(&none);
	CHECK_OK(sigprocmask(SIG_SETMASK, &none, NULL));
}

/* ---- Pending and queued signals. ---- */

static volatile int values[16];
static volatile int nvalues;

static void value_handler(int sig, siginfo_t *si, void *uc)
{
	note(sig);
	if (nvalues < 16)
		values[nvalues++] = si->si_value.sival_int;
}

static void test_pending(void)
{
	sigset_t usr1 = just(SIGUSR1, 0), none;
	sigemptyset(&none);
	set_plain(SIGUSR1, plain_handler, 0, NULL);
	reset();
	/* Blocked: pending, not delivered; delivered by the unblocking call. */
	CHECK_OK(sigprocmask(SIG_BLOCK, &usr1, NULL));
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(count, 0);
	CHECK(is_pending(SIGUSR1));
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &usr1, NULL));
	CHECK_EQ(count, 1);
	CHECK(!is_pending(SIGUSR1));
	/* A standard signal sent three times while blocked runs once. */
	reset();
	CHECK_OK(sigprocmask(SIG_BLOCK, &usr1, NULL));
	for (int i = 0; i < 3; i++)
		CHECK_OK(raise(SIGUSR1));
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &usr1, NULL));
	CHECK_EQ(count, 1);

	/* A real-time signal is queued: three sends, three runs, in order. */
	sigset_t rt = just(SIGRTMIN, SIGRTMIN + 1);
	set_handler(SIGRTMIN, value_handler, 0, NULL);
	set_handler(SIGRTMIN + 1, value_handler, 0, NULL);
	reset();
	nvalues = 0;
	CHECK_OK(sigprocmask(SIG_BLOCK, &rt, NULL));
	for (int i = 1; i <= 3; i++) {
		union sigval v = { .sival_int = i };
		CHECK_OK(sigqueue(getpid(), SIGRTMIN, v));
	}
	CHECK_EQ(nvalues, 0);
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &rt, NULL));
	CHECK_EQ(nvalues, 3);
	CHECK_EQ(values[0], 1);
	CHECK_EQ(values[1], 2);
	CHECK_EQ(values[2], 3);

	/* Lower-numbered signals are taken first. With every other signal
	 * blocked in the handlers, they run one after the other in that
	 * order. */
	sigset_t all;
	sigfillset(&all);
	set_handler(SIGRTMIN, value_handler, 0, &all);
	set_handler(SIGRTMIN + 1, value_handler, 0, &all);
	nvalues = 0;
	CHECK_OK(sigprocmask(SIG_BLOCK, &rt, NULL));
	union sigval v10 = { .sival_int = 10 }, v20 = { .sival_int = 20 };
	CHECK_OK(sigqueue(getpid(), SIGRTMIN + 1, v10));
	CHECK_OK(sigqueue(getpid(), SIGRTMIN, v20));
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &rt, NULL));
	CHECK_EQ(nvalues, 2);
	CHECK_EQ(values[0], 20);
	CHECK_EQ(values[1], 10);
	/* The same for SIGUSR1 (10) and SIGUSR2 (12). */
	sigset_t usr = just(SIGUSR1, SIGUSR2);
	set_plain(SIGUSR1, plain_handler, 0, &all);
	set_plain(SIGUSR2, plain_handler, 0, &all);
	reset();
	CHECK_OK(sigprocmask(SIG_BLOCK, &usr, NULL));
	CHECK_OK(raise(SIGUSR2));
	CHECK_OK(raise(SIGUSR1));
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &usr, NULL));
	CHECK_STREQ(order, "12");
	/* Without the handler masks, Linux sets up both frames before
	 * returning to user mode: SIGUSR1's first, then SIGUSR2's on top of
	 * it, so SIGUSR2's handler is entered first. */
	set_plain(SIGUSR1, plain_handler, 0, NULL);
	set_plain(SIGUSR2, plain_handler, 0, NULL);
	reset();
	CHECK_OK(sigprocmask(SIG_BLOCK, &usr, NULL));
	CHECK_OK(raise(SIGUSR2));
	CHECK_OK(raise(SIGUSR1));
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &usr, NULL));
	CHECK_STREQ(order, "21");

	/* A blocked signal is kept pending even if ignored, and discarded
	 * when unblocked... */
	set_plain(SIGUSR1, SIG_IGN, 0, NULL);
	CHECK_OK(sigprocmask(SIG_BLOCK, &usr1, NULL));
	CHECK_OK(raise(SIGUSR1));
	CHECK(is_pending(SIGUSR1));
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &usr1, NULL));
	CHECK(!is_pending(SIGUSR1));
	/* ...and setting SIG_IGN discards one that is pending. */
	set_plain(SIGUSR1, plain_handler, 0, NULL);
	reset();
	CHECK_OK(sigprocmask(SIG_BLOCK, &usr1, NULL));
	CHECK_OK(raise(SIGUSR1));
	CHECK(is_pending(SIGUSR1));
	set_plain(SIGUSR1, SIG_IGN, 0, NULL);
	CHECK(!is_pending(SIGUSR1));
	set_plain(SIGUSR1, plain_handler, 0, NULL);
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &usr1, NULL));
	CHECK_EQ(count, 0);
	/* An unblocked ignored signal is not even made pending. */
	set_plain(SIGUSR1, SIG_IGN, 0, NULL);
	CHECK_OK(raise(SIGUSR1));
	CHECK(!is_pending(SIGUSR1));

	/* SIGKILL and SIGSTOP: no handler, no blocking. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = plain_handler;
	CHECK_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
	CHECK_ERRNO(sigaction(SIGSTOP, &sa, NULL), EINVAL);
	sa.sa_handler = SIG_IGN;
	CHECK_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
	CHECK_ERRNO(sigaction(SIGSTOP, &sa, NULL), EINVAL);
	sigset_t ks = just(SIGKILL, SIGSTOP);
	CHECK_OK(sigprocmask(SIG_BLOCK, &ks, NULL));
	CHECK(!is_blocked(SIGKILL));
	CHECK(!is_blocked(SIGSTOP));
	CHECK_OK(sigprocmask(SIG_SETMASK, &none, NULL));
	set_plain(SIGUSR1, SIG_DFL, 0, NULL);
}

/* ---- kill, tgkill, sigqueue: errors. ---- */

static void test_errors(void)
{
	pid_t gone = dead_pid();
	CHECK_OK(kill(getpid(), 0));
	CHECK_OK(kill(0, 0));
	CHECK_ERRNO(kill(gone, 0), ESRCH);
	CHECK_ERRNO(kill(gone, SIGTERM), ESRCH);
	CHECK_ERRNO(kill(999999, SIGTERM), ESRCH);
	CHECK_ERRNO(kill(INT_MAX, 0), ESRCH);
	CHECK_ERRNO(kill(INT_MIN, 0), ESRCH);
	CHECK_ERRNO(kill(-gone, 0), ESRCH);
	CHECK_ERRNO(kill(getpid(), 65), EINVAL);
	CHECK_ERRNO(kill(getpid(), -1), EINVAL);
	/* kill looks the pid up before it checks the signal number. */
	CHECK_ERRNO(kill(gone, 65), ESRCH);

	CHECK_ERRNO(syscall(SYS_tgkill, getpid(), gone, SIGUSR2), ESRCH);
	CHECK_ERRNO(syscall(SYS_tgkill, gone, gettid(), SIGUSR2), ESRCH);
	CHECK_ERRNO(syscall(SYS_tgkill, getpid(), gettid(), 65), EINVAL);
	CHECK_ERRNO(syscall(SYS_tgkill, 0, gettid(), SIGUSR2), EINVAL);
	CHECK_ERRNO(syscall(SYS_tgkill, getpid(), 0, SIGUSR2), EINVAL);
	CHECK_ERRNO(syscall(SYS_tgkill, getpid(), -1, SIGUSR2), EINVAL);
	CHECK_OK(syscall(SYS_tgkill, getpid(), gettid(), 0));
	CHECK_ERRNO(syscall(SYS_tkill, gone, SIGUSR2), ESRCH);
	CHECK_ERRNO(syscall(SYS_tkill, 0, SIGUSR2), EINVAL);
	CHECK_ERRNO(syscall(SYS_tkill, gettid(), 65), EINVAL);

	union sigval v = { .sival_int = 1 };
	CHECK_ERRNO(sigqueue(getpid(), 65, v), EINVAL);
	CHECK_ERRNO(sigqueue(gone, SIGRTMIN, v), ESRCH);
	CHECK_OK(sigqueue(getpid(), 0, v));

	/* Another process cannot be sent a siginfo claiming to come from
	 * kill() or tkill() (si_code >= 0 or SI_TKILL); SI_QUEUE is fine. */
	pid_t child = CHECK_OK(fork());
	if (child == 0) {
		signal(SIGUSR1, SIG_IGN);
		for (;;)
			pause();
	}
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_USER;
	si.si_pid = getpid();
	CHECK_ERRNO(syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, &si), EPERM);
	si.si_code = SI_TKILL;
	CHECK_ERRNO(syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, &si), EPERM);
	si.si_code = SI_QUEUE;
	CHECK_OK(syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, &si));
	CHECK_ERRNO(syscall(SYS_rt_sigqueueinfo, child, SIGUSR1, (void *)1), EFAULT);
	kill(child, SIGKILL);
	reap(child);
}

/* ---- Default actions, seen from the parent. ---- */

static void test_default_actions(void)
{
	int status;
	/* SIGTERM from the parent. */
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		for (;;)
			pause();
	}
	CHECK_OK(kill(pid, SIGTERM));
	status = reap(pid);
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGTERM);
	/* Raised by the child itself; and other terminating signals. */
	int sigs[] = { SIGTERM, SIGUSR1, SIGHUP, SIGALRM, SIGRTMIN, SIGQUIT };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		pid = CHECK_OK(fork());
		if (pid == 0) {
			struct rlimit rl = { 0, 0 };
			setrlimit(RLIMIT_CORE, &rl);
			signal(sigs[i], SIG_DFL);
			raise(sigs[i]);
			_exit(99);
		}
		status = reap(pid);
		CHECK(WIFSIGNALED(status));
		CHECK_EQ(WTERMSIG(status), sigs[i]);
	}
	/* An ignored SIGTERM does nothing. */
	pid = CHECK_OK(fork());
	if (pid == 0) {
		signal(SIGTERM, SIG_IGN);
		raise(SIGTERM);
		kill(getpid(), SIGTERM);
		_exit(0);
	}
	status = reap(pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	/* A blocked SIGTERM kills when unblocked. */
	pid = CHECK_OK(fork());
	if (pid == 0) {
		sigset_t t = just(SIGTERM, 0);
		sigprocmask(SIG_BLOCK, &t, NULL);
		raise(SIGTERM);
		sigprocmask(SIG_UNBLOCK, &t, NULL);
		_exit(0);
	}
	status = reap(pid);
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGTERM);
}

/* ---- Synchronous signals from faults. ---- */

static sigjmp_buf jump;
static volatile int fault_sig, fault_code;
static void *volatile fault_addr;
static volatile long long fault_rip, fault_trapno, fault_err, fault_cr2;
static volatile int fix_by_mprotect;
static char *volatile fix_page;

static void fault_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	fault_sig = si->si_signo;
	fault_code = si->si_code;
	fault_addr = si->si_addr;
	fault_rip = uc->uc_mcontext.gregs[REG_RIP];
	fault_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	fault_err = uc->uc_mcontext.gregs[REG_ERR];
	fault_cr2 = uc->uc_mcontext.gregs[REG_CR2];
	if (fix_by_mprotect) {
		/* Return and let the access run again. */
		mprotect(fix_page, page, PROT_READ | PROT_WRITE);
		return;
	}
	siglongjmp(jump, 1);
}

static void clear_fault(void)
{
	fault_sig = fault_code = 0;
	fault_addr = NULL;
	fault_rip = fault_trapno = fault_err = fault_cr2 = -1;
}

/* Runs the access; returns 1 if it faulted (and the handler jumped out). */
#define FAULTS(access)                         \
	({                                     \
		int _faulted = 0;              \
		clear_fault();                 \
		if (sigsetjmp(jump, 1) == 0) { \
			access;                \
		} else {                       \
			_faulted = 1;          \
		}                              \
		_faulted;                      \
	})

/* Instructions at known addresses. */
extern const char ward_ud2[], ward_int3[], ward_after_int3[], ward_div[];

__attribute__((noinline)) static long run_ud2(void)
{
	long rax;
	__asm__ volatile("mov $1, %%eax\n"
			 ".globl ward_ud2\n"
			 "ward_ud2: ud2\n"
			 "mov %%rax, %0\n"
			 : "=r"(rax)
			 :
			 : "rax", "memory");
	return rax;
}

static void skip_ud2(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	fault_sig = si->si_signo;
	fault_code = si->si_code;
	fault_addr = si->si_addr;
	fault_rip = uc->uc_mcontext.gregs[REG_RIP];
	fault_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	/* Resume after the two-byte instruction with a new rax. */
	uc->uc_mcontext.gregs[REG_RIP] += 2;
	uc->uc_mcontext.gregs[REG_RAX] = 42;
}

__attribute__((noinline)) static void run_int3(void)
{
	__asm__ volatile(".globl ward_int3\n"
			 "ward_int3: int3\n"
			 ".globl ward_after_int3\n"
			 "ward_after_int3: nop\n" ::
				 : "memory");
}

__attribute__((noinline)) static int run_div(int a, int b)
{
	int q;
	__asm__ volatile("cltd\n"
			 ".globl ward_div\n"
			 "ward_div: idivl %2\n"
			 : "=a"(q)
			 : "a"(a), "r"(b)
			 : "edx", "memory");
	return q;
}

static void test_faults(void)
{
	set_handler(SIGSEGV, fault_handler, 0, NULL);
	set_handler(SIGBUS, fault_handler, 0, NULL);
	set_handler(SIGFPE, fault_handler, 0, NULL);
	set_handler(SIGILL, fault_handler, 0, NULL);

	/* Two pages: the first populated then made read-only, the second
	 * unmapped. */
	char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	if (m == MAP_FAILED)
		return;
	m[0] = 5;
	CHECK_OK(mprotect(m, page, PROT_READ));
	CHECK_OK(munmap(m + page, page));
	char *ro = m, *unmapped = m + page;

	/* Write to a present read-only page: SEGV_ACCERR at the exact
	 * address; a page fault (14) with error code PROT|WRITE|USER. */
	CHECK(FAULTS(*(volatile char *)(ro + 8) = 1));
	CHECK_EQ(fault_sig, SIGSEGV);
	CHECK_EQ(fault_code, SEGV_ACCERR);
	CHECK_EQ(fault_addr, ro + 8);
	CHECK_EQ(fault_trapno, 14);
	CHECK_EQ(fault_err, 7);
	CHECK_EQ(fault_cr2, (long long)(uintptr_t)(ro + 8));
	/* Reading it is fine, and the write did not happen. */
	CHECK(!FAULTS((void)*(volatile char *)ro));
	CHECK_EQ(ro[0], 5);
	CHECK_EQ(ro[8], 0);
	/* Unmapped: SEGV_MAPERR; not-present|USER, plus WRITE for a write. */
	CHECK(FAULTS((void)*(volatile char *)(unmapped + 100)));
	CHECK_EQ(fault_code, SEGV_MAPERR);
	CHECK_EQ(fault_addr, unmapped + 100);
	CHECK_EQ(fault_err, 4);
	CHECK(FAULTS(*(volatile char *)(unmapped + 3) = 1));
	CHECK_EQ(fault_code, SEGV_MAPERR);
	CHECK_EQ(fault_addr, unmapped + 3);
	CHECK_EQ(fault_err, 6);
	/* NULL. */
	CHECK(FAULTS((void)*(volatile int *)0));
	CHECK_EQ(fault_code, SEGV_MAPERR);
	CHECK_EQ(fault_addr, 0);
	/* PROT_NONE: SEGV_ACCERR even for a read. */
	char *none = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(none != MAP_FAILED);
	CHECK(FAULTS((void)*(volatile char *)(none + 1)));
	CHECK_EQ(fault_code, SEGV_ACCERR);
	CHECK_EQ(fault_addr, none + 1);
	/* A non-canonical address is a general protection fault (13): the
	 * kernel sends SI_KERNEL and no address. */
	CHECK(FAULTS((void)*(volatile char *)0x8000000000000000UL));
	CHECK_EQ(fault_sig, SIGSEGV);
	CHECK_EQ(fault_code, SI_KERNEL);
	CHECK_EQ(fault_addr, 0);
	CHECK_EQ(fault_trapno, 13);
	/* A kernel address: SEGV_MAPERR with the address. */
	CHECK(FAULTS((void)*(volatile char *)0xffffffff81000000UL));
	CHECK_EQ(fault_code, SEGV_MAPERR);
	CHECK_EQ(fault_addr, (void *)0xffffffff81000000UL);
	CHECK_EQ(fault_trapno, 14);
	/* A privileged instruction: #GP as well. */
	CHECK(FAULTS(__asm__ volatile("hlt")));
	CHECK_EQ(fault_sig, SIGSEGV);
	CHECK_EQ(fault_code, SI_KERNEL);
	CHECK_EQ(fault_trapno, 13);

	/* The handler may fix the fault and return: the write is retried. */
	char *fixme = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(fixme != MAP_FAILED);
	fix_page = fixme;
	fix_by_mprotect = 1;
	clear_fault();
	*(volatile char *)(fixme + 10) = 'w';
	fix_by_mprotect = 0;
	CHECK_EQ(fault_code, SEGV_ACCERR);
	CHECK_EQ(fault_addr, fixme + 10);
	CHECK_EQ(fixme[10], 'w');
	munmap(fixme, page);
	munmap(none, page);
	munmap(m, page);

	/* SIGBUS: a file mapping's page past the end of the file. */
	int fd = CHECK_OK(open("/etc/os-release", O_RDONLY));
	char *f = mmap(NULL, 2 * page, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(f != MAP_FAILED);
	if (f != MAP_FAILED) {
		CHECK(!FAULTS((void)*(volatile char *)f));
		CHECK(FAULTS((void)*(volatile char *)(f + page + 16)));
		CHECK_EQ(fault_sig, SIGBUS);
		CHECK_EQ(fault_code, BUS_ADRERR);
		CHECK_EQ(fault_addr, f + page + 16);
		munmap(f, 2 * page);
	}
	close(fd);

	/* SIGFPE: division by zero, and INT_MIN / -1 (the same #DE on x86),
	 * both FPE_INTDIV at the instruction. */
	CHECK(FAULTS(run_div(1, 0)));
	CHECK_EQ(fault_sig, SIGFPE);
	CHECK_EQ(fault_code, FPE_INTDIV);
	CHECK_EQ(fault_addr, ward_div);
	CHECK_EQ(fault_rip, (long long)(uintptr_t)ward_div);
	CHECK_EQ(fault_trapno, 0);
	CHECK(FAULTS(run_div(INT_MIN, -1)));
	CHECK_EQ(fault_sig, SIGFPE);
	CHECK_EQ(fault_code, FPE_INTDIV);
	CHECK(!FAULTS(run_div(7, 2)));
	CHECK_EQ(run_div(7, 2), 3);

	/* SIGILL from ud2: ILL_ILLOPN at the instruction (trap 6). The
	 * handler moves rip past it and sets rax, which sigreturn restores. */
	CHECK(FAULTS(run_ud2()));
	CHECK_EQ(fault_sig, SIGILL);
	CHECK_EQ(fault_code, ILL_ILLOPN);
	CHECK_EQ(fault_addr, ward_ud2);
	CHECK_EQ(fault_rip, (long long)(uintptr_t)ward_ud2);
	CHECK_EQ(fault_trapno, 6);
	set_handler(SIGILL, skip_ud2, 0, NULL);
	clear_fault();
	CHECK_EQ(run_ud2(), 42);
	CHECK_EQ(fault_code, ILL_ILLOPN);

	/* SIGTRAP from int3: SI_KERNEL, with rip already after the int3, so
	 * returning continues there. */
	set_handler(SIGTRAP, fault_handler, 0, NULL);
	fix_by_mprotect = 0;
	clear_fault();
	if (sigsetjmp(jump, 1) == 0)
		run_int3();
	CHECK_EQ(fault_sig, SIGTRAP);
	CHECK_EQ(fault_code, SI_KERNEL);
	CHECK_EQ(fault_rip, (long long)(uintptr_t)ward_after_int3);
	CHECK_EQ(fault_trapno, 3);
	set_handler(SIGTRAP, info_handler, 0, NULL);
	reset();
	run_int3();
	CHECK_EQ(count, 1);
	CHECK_EQ(got_sig, SIGTRAP);
	CHECK_EQ(got_code, SI_KERNEL);

	/* A fault while its signal is blocked, or ignored, kills anyway. */
	for (int how = 0; how < 2; how++) {
		pid_t pid = CHECK_OK(fork());
		if (pid == 0) {
			struct rlimit rl = { 0, 0 };
			setrlimit(RLIMIT_CORE, &rl);
			if (how == 0) {
				sigset_t s = just(SIGSEGV, 0);
				sigprocmask(SIG_BLOCK, &s, NULL);
			} else {
				signal(SIGSEGV, SIG_IGN);
			}
			*(volatile int *)0 = 1;
			_exit(99);
		}
		int status = reap(pid);
		CHECK(WIFSIGNALED(status));
		CHECK_EQ(WTERMSIG(status), SIGSEGV);
	}
	set_plain(SIGSEGV, SIG_DFL, 0, NULL);
	set_plain(SIGBUS, SIG_DFL, 0, NULL);
	set_plain(SIGFPE, SIG_DFL, 0, NULL);
	set_plain(SIGILL, SIG_DFL, 0, NULL);
	set_plain(SIGTRAP, SIG_DFL, 0, NULL);
}

/* ---- sigaltstack. ---- */

static char *alt;
static size_t alt_size;
static volatile int on_alt, alt_flags, alt_set_errno;
static void *volatile uc_ss_sp;

static void alt_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	char local;
	on_alt = &local >= alt && &local < alt + alt_size;
	stack_t cur;
	sigaltstack(NULL, &cur);
	alt_flags = cur.ss_flags;
	/* It cannot be changed while in use. */
	stack_t other = { .ss_sp = alt, .ss_size = alt_size };
	errno = 0;
	alt_set_errno = sigaltstack(&other, NULL) == 0 ? 0 : errno;
	uc_ss_sp = uc->uc_stack.ss_sp;
}

static void overflow_handler(int sig, siginfo_t *si, void *uc)
{
	char local;
	int ok = sig == SIGSEGV && &local >= alt && &local < alt + alt_size;
	_exit(ok ? 42 : 43);
}

__attribute__((noinline)) static int recurse(int n)
{
	volatile char buf[1024];
	buf[0] = (char)n;
	if (n < 0)
		return 0;
	return recurse(n + 1) + buf[0];
}

static void test_altstack(void)
{
	stack_t ss, old;
	CHECK_OK(sigaltstack(NULL, &old));
	CHECK_EQ(old.ss_flags, SS_DISABLE);

	alt_size = 64 * 1024;
	alt = mmap(NULL, alt_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(alt != MAP_FAILED);
	if (alt == MAP_FAILED)
		return;
	ss.ss_sp = alt;
	ss.ss_size = alt_size;
	ss.ss_flags = 0;
	CHECK_OK(sigaltstack(&ss, &old));
	CHECK_EQ(old.ss_flags, SS_DISABLE);
	memset(&old, 0, sizeof(old));
	CHECK_OK(sigaltstack(NULL, &old));
	CHECK(old.ss_sp == alt);
	CHECK_EQ(old.ss_size, alt_size);
	CHECK_EQ(old.ss_flags, 0);

	/* SA_ONSTACK: the handler runs on it, sees SS_ONSTACK, cannot change
	 * it (EPERM), and its ucontext holds the stack's settings. */
	set_handler(SIGUSR1, alt_handler, SA_ONSTACK, NULL);
	on_alt = alt_flags = alt_set_errno = -1;
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(on_alt, 1);
	CHECK_EQ(alt_flags, SS_ONSTACK);
	CHECK_EQ(alt_set_errno, EPERM);
	CHECK(uc_ss_sp == alt);
	CHECK_OK(sigaltstack(NULL, &old));
	CHECK_EQ(old.ss_flags, 0);
	/* Without SA_ONSTACK: the normal stack. */
	set_handler(SIGUSR1, alt_handler, 0, NULL);
	on_alt = alt_flags = -1;
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(on_alt, 0);
	CHECK_EQ(alt_flags, 0);
	CHECK_EQ(alt_set_errno, 0);

	/* SS_AUTODISARM: disarmed while the handler runs, back after: from
	 * the ucontext, which does not record the SS_AUTODISARM flag, so
	 * the stack comes back without it. */
	ss.ss_flags = SS_AUTODISARM;
	CHECK_OK(sigaltstack(&ss, NULL));
	set_handler(SIGUSR1, alt_handler, SA_ONSTACK, NULL);
	on_alt = alt_flags = -1;
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(on_alt, 1);
	CHECK_EQ(alt_flags, SS_DISABLE);
	CHECK_OK(sigaltstack(NULL, &old));
	CHECK_EQ(old.ss_flags, 0);
	CHECK(old.ss_sp == alt);
	CHECK_EQ(old.ss_size, alt_size);

	/* Errors. */
	stack_t small = { .ss_sp = alt, .ss_size = 1024, .ss_flags = 0 };
	CHECK_ERRNO(sigaltstack(&small, NULL), ENOMEM);
	stack_t badflags = { .ss_sp = alt, .ss_size = alt_size, .ss_flags = 0x7 };
	CHECK_ERRNO(sigaltstack(&badflags, NULL), EINVAL);
	CHECK_ERRNO(syscall(SYS_sigaltstack, (void *)1, NULL), EFAULT);
	CHECK_ERRNO(syscall(SYS_sigaltstack, NULL, (void *)1), EFAULT);
	/* SS_DISABLE: any size will do, and it reads back disabled. */
	stack_t off = { .ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE };
	CHECK_OK(sigaltstack(&off, NULL));
	CHECK_OK(sigaltstack(NULL, &old));
	CHECK_EQ(old.ss_flags, SS_DISABLE);
	/* With it disabled, SA_ONSTACK runs on the normal stack. */
	on_alt = -1;
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(on_alt, 0);
	set_plain(SIGUSR1, SIG_DFL, 0, NULL);

	/* A stack overflow is caught on the alternate stack. */
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		struct rlimit rl = { 1024 * 1024, 1024 * 1024 };
		setrlimit(RLIMIT_STACK, &rl);
		stack_t s2 = { .ss_sp = alt, .ss_size = alt_size, .ss_flags = 0 };
		sigaltstack(&s2, NULL);
		set_handler(SIGSEGV, overflow_handler, SA_ONSTACK, NULL);
		recurse(0);
		_exit(44);
	}
	int status = reap(pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 42);
	munmap(alt, alt_size);
}

/* ---- Registers and FPU state across a handler. ---- */

static volatile unsigned handler_mxcsr;

static void clobber_handler(int sig)
{
	double big = 99.0;
	unsigned m;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	handler_mxcsr = m;
	/* Clobber what the interrupted code had in flight. */
	__asm__ volatile("movsd %0, %%xmm7\n"
			 "movsd %0, %%xmm0\n"
			 "xor %%r8, %%r8\n"
			 "xor %%r9, %%r9\n"
			 "xor %%r10, %%r10\n"
			 "xor %%edx, %%edx\n"
			 :
			 : "m"(big)
			 : "xmm0", "xmm7", "r8", "r9", "r10", "rdx");
	count++;
}

static void test_registers(void)
{
	set_plain(SIGUSR1, clobber_handler, 0, NULL);
	reset();
	unsigned mxcsr = 0x3f80, saved, after; /* round toward -inf */
	__asm__ volatile("stmxcsr %0" : "=m"(saved));
	__asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
	double in = 1.25, out = 0;
	long r8 = 0, r9 = 0, r10 = 0, ret = SYS_tgkill;
	/* Load xmm7 and r8-r10, send the signal with a bare syscall, and
	 * read them back: all but rax, rcx and r11 must survive. */
	__asm__ volatile("movsd %[in], %%xmm7\n"
			 "mov $0x1111, %%r8\n"
			 "mov $0x2222, %%r9\n"
			 "mov $0x3333, %%r10\n"
			 "syscall\n"
			 "movsd %%xmm7, %[out]\n"
			 "mov %%r8, %[r8]\n"
			 "mov %%r9, %[r9]\n"
			 "mov %%r10, %[r10]\n"
			 : [out] "=m"(out), [r8] "=m"(r8), [r9] "=m"(r9), [r10] "=m"(r10), "+a"(ret)
			 : [in] "m"(in), "D"((long)getpid()), "S"((long)gettid()), "d"((long)SIGUSR1)
			 : "rcx", "r11", "r8", "r9", "r10", "xmm7", "memory");
	__asm__ volatile("stmxcsr %0" : "=m"(after));
	__asm__ volatile("ldmxcsr %0" : : "m"(saved));
	CHECK_EQ(ret, 0);
	CHECK_EQ(count, 1);
	CHECK(out == 1.25);
	CHECK_EQ(r8, 0x1111);
	CHECK_EQ(r9, 0x2222);
	CHECK_EQ(r10, 0x3333);
	/* The handler starts with a fresh MXCSR; ours comes back after. */
	CHECK_EQ(handler_mxcsr, 0x1f80);
	CHECK_EQ(after, 0x3f80);
	set_plain(SIGUSR1, SIG_DFL, 0, NULL);
}

int main(void)
{
	page = sysconf(_SC_PAGESIZE);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	test_delivery();
	test_masks();
	test_pending();
	test_errors();
	test_default_actions();
	test_faults();
	test_altstack();
	test_registers();
	return test_done();
}
