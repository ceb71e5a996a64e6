/* POSIX timers and CPU time: timer_create with SIGEV_SIGNAL (SI_TIMER, the
 * value, the timer id), SIGEV_THREAD_ID and SIGEV_NONE; timer_settime
 * relative and absolute, returning the old setting; timer_gettime counting
 * down; overruns of a periodic timer whose signal is blocked; timer_delete
 * and the EINVAL cases; the CPU clocks (process, thread, another process's)
 * advancing with CPU use only; ITIMER_VIRTUAL and ITIMER_PROF; times() and
 * getrusage for ourselves and for waited-for children. Lower bounds only. */
#include "ward_test.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>

#define MS 1000000LL

static long long ts_ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

static long long now_ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return ts_ns(&t);
}

static long long tv_ns(const struct timeval *t)
{
	return t->tv_sec * 1000000000LL + t->tv_usec * 1000LL;
}

/* Uses CPU until clk has advanced by ns (or 2 s of real time passed);
 * returns how far clk advanced. */
static long long burn(clockid_t clk, long long ns)
{
	long long start = now_ns(clk), wall = now_ns(CLOCK_MONOTONIC);
	volatile unsigned long x = 0;
	while (now_ns(clk) - start < ns && now_ns(CLOCK_MONOTONIC) - wall < 2000 * MS)
		for (int i = 0; i < 10000; i++)
			x += i;
	return now_ns(clk) - start;
}

static int kernel_id(timer_t t)
{
	return (int)(intptr_t)t;
}

static void test_signal_timer(void)
{
	int sig = SIGRTMIN;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));

	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = sig;
	sev.sigev_value.sival_int = 1234;
	timer_t t;
	CHECK_OK(timer_create(CLOCK_MONOTONIC, &sev, &t));
	/* Disarmed at first. */
	struct itimerspec cur;
	CHECK_OK(timer_gettime(t, &cur));
	CHECK_EQ(cur.it_value.tv_sec, 0);
	CHECK_EQ(cur.it_value.tv_nsec, 0);

	/* A 50 ms one-shot. */
	struct itimerspec one = { { 0, 0 }, { 0, 50 * MS } }, old;
	long long start = now_ns(CLOCK_MONOTONIC);
	CHECK_OK(timer_settime(t, 0, &one, &old));
	CHECK_EQ(old.it_value.tv_sec, 0);
	CHECK_EQ(old.it_value.tv_nsec, 0);
	CHECK_OK(timer_gettime(t, &cur));
	CHECK(ts_ns(&cur.it_value) > 0 && ts_ns(&cur.it_value) <= 50 * MS);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	struct timespec max = { 2, 0 };
	CHECK_EQ(sigtimedwait(&set, &si, &max), sig);
	CHECK(now_ns(CLOCK_MONOTONIC) - start >= 50 * MS);
	CHECK_EQ(si.si_signo, sig);
	CHECK_EQ(si.si_code, SI_TIMER);
	CHECK_EQ(si.si_value.sival_int, 1234);
	CHECK_EQ(si.si_timerid, kernel_id(t));
	CHECK_EQ(si.si_overrun, 0);
	CHECK_EQ(timer_getoverrun(t), 0);
	/* Spent: disarmed, and it fired once. */
	CHECK_OK(timer_gettime(t, &cur));
	CHECK_EQ(ts_ns(&cur.it_value), 0);
	struct timespec zero = { 0, 0 };
	CHECK_ERRNO(sigtimedwait(&set, &si, &zero), EAGAIN);

	/* Read back: the interval as given, the value counting down; the
	 * old setting comes back from the next timer_settime. */
	struct itimerspec periodic = { { 1, 500 * MS }, { 10, 0 } };
	CHECK_OK(timer_settime(t, 0, &periodic, NULL));
	CHECK_OK(timer_gettime(t, &cur));
	CHECK_EQ(cur.it_interval.tv_sec, 1);
	CHECK_EQ(cur.it_interval.tv_nsec, 500 * MS);
	CHECK(ts_ns(&cur.it_value) > 9000 * MS && ts_ns(&cur.it_value) <= 10000 * MS);
	struct itimerspec off = { { 0, 0 }, { 0, 0 } };
	CHECK_OK(timer_settime(t, 0, &off, &old));
	CHECK_EQ(old.it_interval.tv_sec, 1);
	CHECK(ts_ns(&old.it_value) > 9000 * MS && ts_ns(&old.it_value) <= 10000 * MS);
	CHECK_OK(timer_gettime(t, &cur));
	CHECK_EQ(ts_ns(&cur.it_value), 0);

	/* Absolute: fires at or after the deadline. */
	long long deadline = now_ns(CLOCK_MONOTONIC) + 30 * MS;
	struct itimerspec abs = { { 0, 0 }, { deadline / 1000000000, deadline % 1000000000 } };
	CHECK_OK(timer_settime(t, TIMER_ABSTIME, &abs, NULL));
	CHECK_EQ(sigtimedwait(&set, &si, &max), sig);
	CHECK(now_ns(CLOCK_MONOTONIC) >= deadline);
	CHECK_EQ(si.si_code, SI_TIMER);
	/* An absolute time in the past fires at once. */
	struct itimerspec past = { { 0, 0 }, { 1, 0 } };
	CHECK_OK(timer_settime(t, TIMER_ABSTIME, &past, NULL));
	CHECK_EQ(sigtimedwait(&set, &si, &max), sig);

	/* Periodic every 10 ms while the signal stays blocked for 100 ms:
	 * one signal, the missed expiries counted as its overrun, which
	 * timer_getoverrun then reports. */
	struct itimerspec fast = { { 0, 10 * MS }, { 0, 10 * MS } };
	CHECK_OK(timer_settime(t, 0, &fast, NULL));
	struct timespec d = { 0, 100 * MS };
	nanosleep(&d, NULL);
	memset(&si, 0, sizeof(si));
	CHECK_EQ(sigtimedwait(&set, &si, &max), sig);
	CHECK(si.si_overrun >= 3);
	CHECK_EQ(timer_getoverrun(t), si.si_overrun);
	CHECK_OK(timer_settime(t, 0, &off, NULL));
	sigtimedwait(&set, &si, &zero);

	/* Deleted: gone. */
	CHECK_OK(timer_delete(t));
	CHECK_ERRNO(syscall(SYS_timer_gettime, kernel_id(t), &cur), EINVAL);
	CHECK_ERRNO(syscall(SYS_timer_delete, kernel_id(t)), EINVAL);
	CHECK_ERRNO(syscall(SYS_timer_settime, kernel_id(t), 0, &one, NULL), EINVAL);
	CHECK_ERRNO(syscall(SYS_timer_getoverrun, kernel_id(t)), EINVAL);
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
}

static volatile sig_atomic_t fired, fired_code, fired_value;

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	fired++;
	fired_code = si->si_code;
	fired_value = si->si_value.sival_int;
}

static void test_handler_and_thread_id(void)
{
	/* SIGEV_SIGNAL to a handler. With no sigevent at all the kernel
	 * sends SIGALRM with the timer id as the value (raw calls: glibc
	 * passes a sigevent of its own). */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_timer;
	sa.sa_flags = SA_SIGINFO;
	CHECK_OK(sigaction(SIGALRM, &sa, NULL));
	int id = -1;
	CHECK_OK(syscall(SYS_timer_create, CLOCK_REALTIME, NULL, &id));
	struct itimerspec one = { { 0, 0 }, { 0, 20 * MS } };
	fired = 0;
	CHECK_OK(syscall(SYS_timer_settime, id, 0, &one, NULL));
	struct timespec d = { 0, MS };
	for (int i = 0; i < 2000 && !fired; i++)
		nanosleep(&d, NULL);
	CHECK_EQ(fired, 1);
	CHECK_EQ(fired_code, SI_TIMER);
	CHECK_EQ(fired_value, id);
	CHECK_OK(syscall(SYS_timer_delete, id));
	signal(SIGALRM, SIG_DFL);
	timer_t t;

	/* SIGEV_THREAD_ID: to this very thread. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGRTMIN + 1;
	sev.sigev_value.sival_int = 99;
	sev._sigev_un._tid = gettid();
	CHECK_OK(timer_create(CLOCK_MONOTONIC, &sev, &t));
	CHECK_OK(timer_settime(t, 0, &one, NULL));
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	struct timespec max = { 2, 0 };
	CHECK_EQ(sigtimedwait(&set, &si, &max), SIGRTMIN + 1);
	CHECK_EQ(si.si_code, SI_TIMER);
	CHECK_EQ(si.si_value.sival_int, 99);
	CHECK_OK(timer_delete(t));
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &set, NULL));

	/* A thread id that is not one of ours. */
	pid_t gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	sev._sigev_un._tid = gone;
	CHECK_ERRNO(timer_create(CLOCK_MONOTONIC, &sev, &t), EINVAL);
}

static void test_sigev_none(void)
{
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_NONE;
	timer_t t;
	CHECK_OK(timer_create(CLOCK_MONOTONIC, &sev, &t));
	/* It counts down, and tells nobody. */
	struct itimerspec sec = { { 0, 0 }, { 1, 0 } }, cur;
	CHECK_OK(timer_settime(t, 0, &sec, NULL));
	struct timespec d = { 0, 30 * MS };
	nanosleep(&d, NULL);
	CHECK_OK(timer_gettime(t, &cur));
	CHECK(ts_ns(&cur.it_value) > 0);
	CHECK(ts_ns(&cur.it_value) <= 970 * MS);
	struct itimerspec short_one = { { 0, 0 }, { 0, 20 * MS } };
	CHECK_OK(timer_settime(t, 0, &short_one, NULL));
	d.tv_nsec = 50 * MS;
	nanosleep(&d, NULL);
	CHECK_OK(timer_gettime(t, &cur));
	CHECK_EQ(ts_ns(&cur.it_value), 0);
	sigset_t pending;
	CHECK_OK(sigpending(&pending));
	CHECK(sigisemptyset(&pending));
	CHECK_OK(timer_delete(t));
}

static void test_timer_errors(void)
{
	timer_t t;
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGRTMIN;
	CHECK_ERRNO(timer_create((clockid_t)100, &sev, &t), EINVAL);
	sev.sigev_signo = 0;
	CHECK_ERRNO(timer_create(CLOCK_MONOTONIC, &sev, &t), EINVAL);
	sev.sigev_signo = 65;
	CHECK_ERRNO(timer_create(CLOCK_MONOTONIC, &sev, &t), EINVAL);
	sev.sigev_signo = SIGRTMIN;
	sev.sigev_notify = 99;
	CHECK_ERRNO(timer_create(CLOCK_MONOTONIC, &sev, &t), EINVAL);
	int id;
	CHECK_ERRNO(syscall(SYS_timer_create, CLOCK_MONOTONIC, (void *)1, &id), EFAULT);
	sev.sigev_notify = SIGEV_SIGNAL;
	CHECK_ERRNO(syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, (void *)1), EFAULT);
	/* Ids that were never created. */
	struct itimerspec cur;
	CHECK_ERRNO(syscall(SYS_timer_gettime, 12345, &cur), EINVAL);
	CHECK_ERRNO(syscall(SYS_timer_gettime, -1, &cur), EINVAL);
	CHECK_ERRNO(syscall(SYS_timer_delete, 12345), EINVAL);
	/* Bad times. */
	CHECK_OK(timer_create(CLOCK_MONOTONIC, &sev, &t));
	struct itimerspec bad = { { 0, 0 }, { 0, 1000000000 } };
	CHECK_ERRNO(timer_settime(t, 0, &bad, NULL), EINVAL);
	struct itimerspec neg = { { 0, 0 }, { -1, 0 } };
	CHECK_ERRNO(timer_settime(t, 0, &neg, NULL), EINVAL);
	CHECK_ERRNO(syscall(SYS_timer_settime, kernel_id(t), 0, NULL, NULL), EINVAL);
	CHECK_OK(timer_delete(t));
}

static void test_cpu_clocks(void)
{
	struct timespec res;
	CHECK_OK(clock_getres(CLOCK_PROCESS_CPUTIME_ID, &res));
	CHECK_EQ(res.tv_sec, 0);
	CHECK_EQ(res.tv_nsec, 1);
	CHECK_OK(clock_getres(CLOCK_THREAD_CPUTIME_ID, &res));
	CHECK_EQ(res.tv_nsec, 1);

	long long p0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), t0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	CHECK(p0 > 0 && t0 > 0);
	/* ~50 ms of CPU. */
	CHECK(burn(CLOCK_PROCESS_CPUTIME_ID, 50 * MS) >= 50 * MS);
	long long t1 = now_ns(CLOCK_THREAD_CPUTIME_ID), p1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	CHECK(p1 - p0 >= 50 * MS);
	/* One thread did all of it. */
	CHECK(t1 - t0 >= 45 * MS);
	CHECK(p1 >= t1);
	/* Sleeping uses none (well under the 50 ms slept). */
	struct timespec d = { 0, 50 * MS };
	nanosleep(&d, NULL);
	CHECK(now_ns(CLOCK_THREAD_CPUTIME_ID) - t1 < 40 * MS);

	/* Our pid's CPU clock is the process clock; a child's can be read;
	 * this thread's via pthread_getcpuclockid. */
	clockid_t c;
	CHECK_EQ(clock_getcpuclockid(getpid(), &c), 0);
	long long mine = now_ns(c);
	CHECK(mine >= p1);
	CHECK_EQ(pthread_getcpuclockid(pthread_self(), &c), 0);
	CHECK(now_ns(c) >= t1);
	int p[2];
	CHECK_OK(pipe(p));
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		char ch;
		close(p[1]);
		read(p[0], &ch, 1);
		_exit(0);
	}
	close(p[0]);
	CHECK_EQ(clock_getcpuclockid(pid, &c), 0);
	struct timespec ct;
	CHECK_OK(clock_gettime(c, &ct));
	CHECK(ts_ns(&ct) >= 0 && ts_ns(&ct) < 1000 * MS);
	close(p[1]);
	waitpid(pid, NULL, 0);
	/* Gone: its clock is invalid. */
	CHECK_ERRNO(clock_gettime(c, &ct), EINVAL);
}

static volatile sig_atomic_t vt_count, prof_count;

static void on_vtalrm(int sig)
{
	vt_count++;
}

static void on_prof(int sig)
{
	prof_count++;
}

static void test_cpu_itimers(void)
{
	signal(SIGVTALRM, on_vtalrm);
	signal(SIGPROF, on_prof);
	/* ITIMER_VIRTUAL only counts while we run: after a 50 ms sleep a 1 s
	 * timer has barely moved. (Linux adds one tick, TICK_NSEC, to the
	 * value of a CPU-time itimer when it is set, so it usually reads a
	 * little over 1 s; but a tick of user time may have been charged
	 * meanwhile, so that is not required.) */
	struct itimerval sec = { { 0, 0 }, { 1, 0 } }, cur, off = { { 0, 0 }, { 0, 0 } };
	CHECK_OK(setitimer(ITIMER_VIRTUAL, &sec, NULL));
	struct timespec d = { 0, 50 * MS };
	nanosleep(&d, NULL);
	CHECK_OK(getitimer(ITIMER_VIRTUAL, &cur));
	CHECK(tv_ns(&cur.it_value) > 980 * MS);
	CHECK(tv_ns(&cur.it_value) <= 1010 * MS);
	/* The interval gets no such tick. */
	struct itimerval with_interval = { { 0, 300000 }, { 5, 0 } };
	CHECK_OK(setitimer(ITIMER_PROF, &with_interval, NULL));
	CHECK_OK(getitimer(ITIMER_PROF, &cur));
	CHECK_EQ(cur.it_interval.tv_sec, 0);
	CHECK_EQ(cur.it_interval.tv_usec, 300000);
	CHECK(tv_ns(&cur.it_value) > 5000 * MS - 20 * MS);
	CHECK(tv_ns(&cur.it_value) <= 5010 * MS);
	CHECK_OK(setitimer(ITIMER_PROF, &off, NULL));
	CHECK_OK(setitimer(ITIMER_VIRTUAL, &off, NULL));

	/* 20 ms of user time: SIGVTALRM; 20 ms of CPU: SIGPROF. These count
	 * CPU time sampled at ticks, which under load can run well ahead of
	 * the precise CPU clock: only "some CPU was used" is checked. */
	struct itimerval ms20 = { { 0, 0 }, { 0, 20000 } };
	vt_count = 0;
	CHECK_OK(setitimer(ITIMER_VIRTUAL, &ms20, NULL));
	long long wall = now_ns(CLOCK_MONOTONIC), cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	volatile unsigned long x = 0;
	while (!vt_count && now_ns(CLOCK_MONOTONIC) - wall < 2000 * MS)
		x++;
	CHECK_EQ(vt_count, 1);
	CHECK(now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu >= 1 * MS);
	prof_count = 0;
	CHECK_OK(setitimer(ITIMER_PROF, &ms20, NULL));
	wall = now_ns(CLOCK_MONOTONIC);
	cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	while (!prof_count && now_ns(CLOCK_MONOTONIC) - wall < 2000 * MS)
		x++;
	CHECK_EQ(prof_count, 1);
	CHECK(now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu >= 1 * MS);
	CHECK_OK(getitimer(ITIMER_PROF, &cur));
	CHECK_EQ(tv_ns(&cur.it_value), 0);
	signal(SIGVTALRM, SIG_DFL);
	signal(SIGPROF, SIG_DFL);
}

static void test_usage(void)
{
	long tck = sysconf(_SC_CLK_TCK);
	CHECK(tck > 0);
	struct tms t0, t1;
	clock_t e0 = times(&t0);
	CHECK(e0 != (clock_t)-1);
	struct rusage r0, r1, th;
	CHECK_OK(getrusage(RUSAGE_SELF, &r0));
	burn(CLOCK_PROCESS_CPUTIME_ID, 50 * MS);
	clock_t e1 = times(&t1);
	CHECK(e1 >= e0);
	CHECK_OK(getrusage(RUSAGE_SELF, &r1));
	CHECK_OK(getrusage(RUSAGE_THREAD, &th));
	/* times(): in clock ticks, at least 40 ms more of CPU. */
	CHECK(t1.tms_utime >= 0 && t1.tms_stime >= 0);
	CHECK((t1.tms_utime + t1.tms_stime) - (t0.tms_utime + t0.tms_stime) >= 40 * tck / 1000);
	/* getrusage: the same in timevals; sane fields. */
	long long used = tv_ns(&r1.ru_utime) + tv_ns(&r1.ru_stime) - tv_ns(&r0.ru_utime) - tv_ns(&r0.ru_stime);
	CHECK(used >= 40 * MS);
	CHECK(r1.ru_utime.tv_usec >= 0 && r1.ru_utime.tv_usec < 1000000);
	CHECK(r1.ru_maxrss > 0);
	CHECK(tv_ns(&th.ru_utime) + tv_ns(&th.ru_stime) >= 40 * MS);
	CHECK_ERRNO(getrusage(42, &r1), EINVAL);
	CHECK_ERRNO(syscall(SYS_getrusage, RUSAGE_SELF, (void *)1), EFAULT);

	/* A child's CPU shows in RUSAGE_CHILDREN and tms_cutime once it has
	 * been waited for, and in wait4's rusage. */
	struct rusage c0, c1, w;
	CHECK_OK(getrusage(RUSAGE_CHILDREN, &c0));
	times(&t0);
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		burn(CLOCK_PROCESS_CPUTIME_ID, 60 * MS);
		_exit(0);
	}
	int status;
	CHECK_EQ(wait4(pid, &status, 0, &w), pid);
	CHECK(tv_ns(&w.ru_utime) + tv_ns(&w.ru_stime) >= 50 * MS);
	CHECK_OK(getrusage(RUSAGE_CHILDREN, &c1));
	long long child = tv_ns(&c1.ru_utime) + tv_ns(&c1.ru_stime) - tv_ns(&c0.ru_utime) - tv_ns(&c0.ru_stime);
	CHECK(child >= 50 * MS);
	times(&t1);
	CHECK((t1.tms_cutime + t1.tms_cstime) - (t0.tms_cutime + t0.tms_cstime) >= 50 * tck / 1000);
	CHECK(c1.ru_maxrss > 0);
}

int main(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	test_signal_timer();
	test_handler_and_thread_id();
	test_sigev_none();
	test_timer_errors();
	test_cpu_clocks();
	test_cpu_itimers();
	test_usage();
	return test_done();
}
