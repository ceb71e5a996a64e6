/* Waiting for signals, and signals interrupting waits: sigsuspend and pause
 * return EINTR after a handler ran; sigtimedwait/sigwaitinfo take a blocked
 * signal with its siginfo and run no handler, time out with EAGAIN, and are
 * never restarted; nanosleep and poll are interrupted (EINTR, nanosleep's
 * remainder filled) even with SA_RESTART, while a pipe read is restarted
 * with SA_RESTART and fails with EINTR without it; a nanosleep stopped and
 * continued without a handler completes; alarm and setitimer(ITIMER_REAL)
 * deliver SIGALRM and read back. Signals from other processes come from a
 * forked sender that keeps sending until stopped, so no wait can miss it. */
#include "ward_test.h"

#include <poll.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t count;
static volatile int handler_saw_usr1_blocked, handler_saw_usr2_blocked;

static void handler(int sig)
{
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	handler_saw_usr1_blocked = sigismember(&cur, SIGUSR1);
	handler_saw_usr2_blocked = sigismember(&cur, SIGUSR2);
	count++;
}

static void set_handler(int sig, int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	CHECK_OK(sigaction(sig, &sa, NULL));
}

static sigset_t just(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	if (sig)
		sigaddset(&s, sig);
	return s;
}

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

#define MS 1000000LL

/* Forks a process that sends sig to target after delay_ms, then again
 * every delay_ms until it is stopped. */
static pid_t start_sender(pid_t target, int sig, int delay_ms)
{
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		struct timespec d = { 0, delay_ms * MS };
		for (;;) {
			nanosleep(&d, NULL);
			if (kill(target, sig) != 0)
				_exit(1);
		}
	}
	return pid;
}

static void stop_sender(pid_t pid)
{
	kill(pid, SIGKILL);
	CHECK_EQ(waitpid(pid, NULL, 0), pid);
}

static void test_sigsuspend(void)
{
	pid_t me = getpid();
	set_handler(SIGUSR1, 0);
	sigset_t usr1 = just(SIGUSR1), usr2 = just(SIGUSR2), cur;
	CHECK_OK(sigprocmask(SIG_BLOCK, &usr1, NULL));

	/* The signal comes while suspended (blocked until then, so it cannot
	 * be missed). The handler runs with sigsuspend's mask plus itself;
	 * the old mask is back afterwards. */
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		struct timespec d = { 0, 20 * MS };
		nanosleep(&d, NULL);
		kill(me, SIGUSR1);
		_exit(0);
	}
	count = 0;
	CHECK_ERRNO(sigsuspend(&usr2), EINTR);
	CHECK_EQ(count, 1);
	CHECK_EQ(handler_saw_usr1_blocked, 1);
	CHECK_EQ(handler_saw_usr2_blocked, 1);
	CHECK_OK(sigprocmask(SIG_BLOCK, NULL, &cur));
	CHECK(sigismember(&cur, SIGUSR1));
	CHECK(!sigismember(&cur, SIGUSR2));
	CHECK_EQ(waitpid(pid, NULL, 0), pid);

	/* Already pending: returns at once. */
	CHECK_OK(raise(SIGUSR1));
	CHECK_EQ(count, 1);
	sigset_t none = just(0);
	CHECK_ERRNO(sigsuspend(&none), EINTR);
	CHECK_EQ(count, 2);
	CHECK_OK(sigprocmask(SIG_SETMASK, &none, NULL));
	/* The raw call checks its size. */
	CHECK_ERRNO(syscall(SYS_rt_sigsuspend, &none, 4), EINVAL);
	CHECK_ERRNO(syscall(SYS_rt_sigsuspend, (void *)1, 8), EFAULT);

	/* pause() returns once a handler has run. */
	pid = start_sender(me, SIGUSR1, 20);
	count = 0;
	CHECK_ERRNO(pause(), EINTR);
	CHECK(count >= 1);
	stop_sender(pid);
}

static void test_sigtimedwait(void)
{
	set_handler(SIGUSR2, 0);
	set_handler(SIGRTMIN, 0);
	sigset_t usr2 = just(SIGUSR2), none = just(0);
	CHECK_OK(sigprocmask(SIG_BLOCK, &usr2, NULL));
	siginfo_t si;
	struct timespec zero = { 0, 0 }, ms50 = { 0, 50 * MS };

	/* Nothing pending: EAGAIN at once, or after the timeout. */
	CHECK_ERRNO(sigtimedwait(&usr2, &si, &zero), EAGAIN);
	long long start = now_ns();
	CHECK_ERRNO(sigtimedwait(&usr2, &si, &ms50), EAGAIN);
	CHECK(now_ns() - start >= 50 * MS);

	/* A pending signal is taken, with its siginfo; no handler runs. */
	count = 0;
	CHECK_OK(raise(SIGUSR2));
	memset(&si, 0, sizeof(si));
	CHECK_EQ(syscall(SYS_rt_sigtimedwait, &usr2, &si, &zero, 8), SIGUSR2);
	CHECK_EQ(si.si_signo, SIGUSR2);
	CHECK_EQ(si.si_code, SI_TKILL);
	CHECK_EQ(si.si_pid, getpid());
	CHECK_EQ(si.si_uid, getuid());
	CHECK_EQ(count, 0);
	sigset_t pending;
	CHECK_OK(sigpending(&pending));
	CHECK(!sigismember(&pending, SIGUSR2));
	/* (glibc's wrapper reports tkill's SI_TKILL as SI_USER.) */
	CHECK_OK(raise(SIGUSR2));
	CHECK_EQ(sigtimedwait(&usr2, &si, &zero), SIGUSR2);
	CHECK_EQ(si.si_code, SI_USER);
	/* A NULL info is fine. */
	CHECK_OK(kill(getpid(), SIGUSR2));
	CHECK_EQ(sigtimedwait(&usr2, NULL, &zero), SIGUSR2);

	/* sigwaitinfo: a queued real-time signal and its value. */
	sigset_t rt = just(SIGRTMIN);
	CHECK_OK(sigprocmask(SIG_BLOCK, &rt, NULL));
	union sigval v = { .sival_int = 4321 };
	CHECK_OK(sigqueue(getpid(), SIGRTMIN, v));
	CHECK_OK(sigqueue(getpid(), SIGRTMIN, v));
	memset(&si, 0, sizeof(si));
	CHECK_EQ(sigwaitinfo(&rt, &si), SIGRTMIN);
	CHECK_EQ(si.si_code, SI_QUEUE);
	CHECK_EQ(si.si_value.sival_int, 4321);
	CHECK_EQ(si.si_pid, getpid());
	/* The second one is still queued. */
	CHECK_EQ(sigtimedwait(&rt, &si, &zero), SIGRTMIN);
	CHECK_ERRNO(sigtimedwait(&rt, &si, &zero), EAGAIN);
	CHECK_EQ(count, 0);

	/* Waiting for a signal another process sends later. */
	pid_t me = getpid();
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		struct timespec d = { 0, 20 * MS };
		nanosleep(&d, NULL);
		kill(me, SIGUSR2);
		_exit(0);
	}
	memset(&si, 0, sizeof(si));
	CHECK_EQ(sigwaitinfo(&usr2, &si), SIGUSR2);
	CHECK_EQ(si.si_code, SI_USER);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_uid, getuid());
	CHECK_EQ(count, 0);
	CHECK_EQ(waitpid(pid, NULL, 0), pid);

	/* A handled signal outside the set interrupts the wait: EINTR, even
	 * with SA_RESTART. */
	set_handler(SIGUSR1, SA_RESTART);
	pid = start_sender(me, SIGUSR1, 20);
	count = 0;
	struct timespec long_wait = { 10, 0 };
	CHECK_ERRNO(sigtimedwait(&usr2, &si, &long_wait), EINTR);
	CHECK(count >= 1);
	CHECK_ERRNO(sigwaitinfo(&usr2, &si), EINTR);
	stop_sender(pid);

	/* Bad arguments. */
	struct timespec bad = { 0, 1000000000 }, neg = { -1, 0 };
	CHECK_ERRNO(sigtimedwait(&usr2, &si, &bad), EINVAL);
	CHECK_ERRNO(sigtimedwait(&usr2, &si, &neg), EINVAL);
	CHECK_ERRNO(syscall(SYS_rt_sigtimedwait, &usr2, &si, &zero, 4), EINVAL);
	CHECK_ERRNO(syscall(SYS_rt_sigtimedwait, (void *)1, &si, &zero, 8), EFAULT);
	CHECK_OK(sigprocmask(SIG_SETMASK, &none, NULL));
}

static void test_interrupted_sleeps(void)
{
	pid_t me = getpid();
	/* nanosleep: EINTR and the time left, with or without SA_RESTART. */
	for (int restart = 0; restart < 2; restart++) {
		set_handler(SIGUSR1, restart ? SA_RESTART : 0);
		pid_t pid = start_sender(me, SIGUSR1, 20);
		struct timespec req = { 10, 0 }, rem = { -1, -1 };
		count = 0;
		CHECK_ERRNO(nanosleep(&req, &rem), EINTR);
		CHECK(count >= 1);
		CHECK(rem.tv_sec >= 8 && rem.tv_sec <= 9);
		CHECK(rem.tv_nsec >= 0 && rem.tv_nsec < 1000000000);
		/* clock_nanosleep returns the error instead. */
		CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem), EINTR);
		CHECK(rem.tv_sec >= 8 && rem.tv_sec <= 9);
		/* poll with a timeout, and with none. */
		CHECK_ERRNO(poll(NULL, 0, 10000), EINTR);
		CHECK_ERRNO(poll(NULL, 0, -1), EINTR);
		stop_sender(pid);
	}

	/* A stop and a continue with no handler involved: the sleep is
	 * resumed and lasts its full time. */
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		long long start = now_ns();
		struct timespec req = { 0, 200 * MS };
		int r = nanosleep(&req, NULL);
		_exit(r == 0 && now_ns() - start >= 200 * MS ? 0 : 1);
	}
	struct timespec d = { 0, 50 * MS };
	nanosleep(&d, NULL);
	CHECK_OK(kill(pid, SIGSTOP));
	int status;
	CHECK_EQ(waitpid(pid, &status, WUNTRACED), pid);
	CHECK(WIFSTOPPED(status));
	CHECK_OK(kill(pid, SIGCONT));
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

static void test_restart(void)
{
	pid_t me = getpid();
	int p[2];
	char c = 0;
	/* Without SA_RESTART a blocked read fails with EINTR (nothing is ever
	 * written, so only the signal can end it). */
	set_handler(SIGUSR1, 0);
	CHECK_OK(pipe(p));
	pid_t pid = start_sender(me, SIGUSR1, 20);
	count = 0;
	CHECK_ERRNO(read(p[0], &c, 1), EINTR);
	CHECK(count >= 1);
	stop_sender(pid);

	/* With SA_RESTART it is restarted and gets the data written after
	 * the signals. */
	set_handler(SIGUSR1, SA_RESTART);
	pid = CHECK_OK(fork());
	if (pid == 0) {
		struct timespec d = { 0, 20 * MS };
		for (int i = 0; i < 3; i++) {
			nanosleep(&d, NULL);
			kill(me, SIGUSR1);
		}
		nanosleep(&d, NULL);
		_exit(write(p[1], "x", 1) == 1 ? 0 : 1);
	}
	count = 0;
	c = 0;
	CHECK_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(c, 'x');
	CHECK(count >= 1);
	int status;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
	/* wait4 is restarted too: it returns the child, not EINTR. */
	pid_t sender = start_sender(me, SIGUSR1, 10);
	pid = CHECK_OK(fork());
	if (pid == 0) {
		struct timespec d = { 0, 100 * MS };
		nanosleep(&d, NULL);
		_exit(3);
	}
	count = 0;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(WEXITSTATUS(status), 3);
	CHECK(count >= 1);
	stop_sender(sender);
	close(p[0]);
	close(p[1]);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	alarms++;
}

/* Waits up to max_ms for n SIGALRMs; returns the time taken in ns. */
static long long wait_alarms(int n, int max_ms)
{
	long long start = now_ns();
	struct timespec d = { 0, MS };
	while (alarms < n && now_ns() - start < max_ms * MS)
		nanosleep(&d, NULL);
	return now_ns() - start;
}

static void test_alarm(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	CHECK_OK(sigaction(SIGALRM, &sa, NULL));

	/* alarm returns what was left of the previous one, rounded. */
	CHECK_EQ(alarm(0), 0);
	CHECK_EQ(alarm(10), 0);
	CHECK_EQ(alarm(5), 10);
	/* alarm is ITIMER_REAL. */
	struct itimerval it;
	CHECK_OK(getitimer(ITIMER_REAL, &it));
	CHECK(it.it_value.tv_sec >= 4 && it.it_value.tv_sec <= 5);
	CHECK_EQ(it.it_interval.tv_sec, 0);
	CHECK_EQ(it.it_interval.tv_usec, 0);
	CHECK_EQ(alarm(0), 5);
	CHECK_EQ(alarm(0), 0);

	/* alarm(1) fires once, after a second. */
	alarms = 0;
	long long start = now_ns();
	CHECK_EQ(alarm(1), 0);
	wait_alarms(1, 3000);
	CHECK_EQ(alarms, 1);
	CHECK(now_ns() - start >= 950 * MS);
	CHECK_EQ(alarm(0), 0);

	/* A 100 ms one-shot ITIMER_REAL. */
	struct itimerval one = { { 0, 0 }, { 0, 100000 } }, old;
	alarms = 0;
	start = now_ns();
	CHECK_OK(setitimer(ITIMER_REAL, &one, &old));
	CHECK_EQ(old.it_value.tv_sec, 0);
	CHECK_EQ(old.it_value.tv_usec, 0);
	wait_alarms(1, 2000);
	CHECK_EQ(alarms, 1);
	CHECK(now_ns() - start >= 100 * MS);
	/* Expired: reads as all zero. */
	CHECK_OK(getitimer(ITIMER_REAL, &it));
	CHECK_EQ(it.it_value.tv_sec, 0);
	CHECK_EQ(it.it_value.tv_usec, 0);

	/* Read back: the value counts down, the interval is as given, and
	 * setitimer returns the old setting. */
	struct itimerval longer = { { 2, 500000 }, { 10, 0 } };
	CHECK_OK(setitimer(ITIMER_REAL, &longer, NULL));
	CHECK_OK(getitimer(ITIMER_REAL, &it));
	CHECK_EQ(it.it_interval.tv_sec, 2);
	CHECK_EQ(it.it_interval.tv_usec, 500000);
	CHECK(it.it_value.tv_sec == 9 || (it.it_value.tv_sec == 10 && it.it_value.tv_usec == 0));
	CHECK(it.it_value.tv_usec >= 0 && it.it_value.tv_usec < 1000000);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	CHECK_OK(setitimer(ITIMER_REAL, &off, &old));
	CHECK_EQ(old.it_interval.tv_sec, 2);
	CHECK(old.it_value.tv_sec == 9 || old.it_value.tv_sec == 10);
	CHECK_EQ(alarm(0), 0);

	/* A periodic timer: three signals, at least a period apart. */
	struct itimerval periodic = { { 0, 20000 }, { 0, 20000 } };
	alarms = 0;
	start = now_ns();
	CHECK_OK(setitimer(ITIMER_REAL, &periodic, NULL));
	wait_alarms(3, 2000);
	/* Measured from before setitimer: the timer starts inside the call. */
	long long took = now_ns() - start;
	CHECK_OK(setitimer(ITIMER_REAL, &off, NULL));
	CHECK(alarms >= 3);
	CHECK(took >= 60 * MS);

	/* Bad arguments. */
	struct itimerval bad = { { 0, 0 }, { 0, 1000000 } };
	CHECK_ERRNO(setitimer(ITIMER_REAL, &bad, NULL), EINVAL);
	CHECK_ERRNO(setitimer((__itimer_which_t)5, &one, NULL), EINVAL);
	CHECK_ERRNO(getitimer((__itimer_which_t)5, &it), EINVAL);
	CHECK_ERRNO(syscall(SYS_getitimer, ITIMER_REAL, (void *)1), EFAULT);
}

int main(void)
{
	sigset_t none = just(0);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGCHLD, SIG_DFL);

	test_sigsuspend();
	test_sigtimedwait();
	test_interrupted_sleeps();
	test_restart();
	test_alarm();
	return test_done();
}
