/* What identity2.c and timers.c leave out: setreuid/setfsuid rules and
 * what they do to capabilities, PR_SET_KEEPCAPS across setuid, the
 * bounding set (PR_CAPBSET_READ/DROP), capset's inheritable rules and
 * version 1, the other prctl options (child subreaper, timer slack, TSC),
 * getcpu, setitimer/getitimer errors, alarm's return value, and CPU clock
 * ids of nobody. Changes are made in children. */
#include "ward_test.h"

#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static pid_t test_fork(void)
{
	pid_t pid = fork();
	if (pid == 0)
		ward_test_failures = 0;
	return pid;
}

static void reap_ok(pid_t pid)
{
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		WARD_FAIL("child %d: status %#x", pid, status);
}

static void caps(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	memset(d, 0, 2 * sizeof(*d));
	CHECK_OK(syscall(SYS_capget, &h, d));
}

static int set_caps(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	return syscall(SYS_capset, &h, d);
}

#define BIT(c) (1u << ((c)&31))

static void test_setreuid(void)
{
	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0) {
		uid_t r, e, s;
		CHECK_ERRNO(setuid(-1), EINVAL);
		CHECK_ERRNO(setgid(-1), EINVAL);
		/* Root: setreuid with a new real id sets the saved one too. */
		CHECK_OK(setreuid(100, 200));
		CHECK_OK(getresuid(&r, &e, &s));
		CHECK(r == 100 && e == 200 && s == 200);
		/* Not root any more: the effective id may go to the real one,
		 * and the saved one follows when it differs from the real. */
		CHECK_OK(setreuid(-1, 100));
		CHECK_OK(getresuid(&r, &e, &s));
		CHECK(r == 100 && e == 100 && s == 200);
		CHECK_OK(setreuid(-1, 200)); /* back to the saved id */
		CHECK_ERRNO(setreuid(-1, 300), EPERM);
		CHECK_ERRNO(setreuid(300, -1), EPERM);
		/* Swapping real and effective is allowed. */
		CHECK_OK(setreuid(200, 100));
		CHECK_OK(getresuid(&r, &e, &s));
		CHECK(r == 200 && e == 100 && s == 100);
		/* setuid to a non-privileged id: only real or saved. */
		CHECK_OK(setuid(200));
		CHECK_OK(getresuid(&r, &e, &s));
		CHECK(r == 200 && e == 200 && s == 100);
		CHECK_ERRNO(setuid(0), EPERM);
		/* setfsuid: returns the old one; refused changes change
		 * nothing. */
		CHECK_EQ(setfsuid(100), 200);
		CHECK_EQ(setfsuid(-1), 100);
		CHECK_EQ(setfsuid(0), 100);
		CHECK_EQ(setfsuid(-1), 100);
		_exit(ward_test_failures ? 1 : 0);
	}
	reap_ok(pid);

	pid = CHECK_OK(test_fork());
	if (pid == 0) {
		gid_t r, e, s;
		CHECK_OK(setregid(10, 20));
		CHECK_OK(getresgid(&r, &e, &s));
		CHECK(r == 10 && e == 20 && s == 20);
		CHECK_EQ(setfsgid(30), 20);
		CHECK_EQ(setfsgid(-1), 30);
		/* setresgid with nothing to change succeeds. */
		CHECK_OK(setresgid(-1, -1, -1));
		_exit(ward_test_failures ? 1 : 0);
	}
	reap_ok(pid);
}

static void test_fsuid_caps(void)
{
	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0) {
		struct __user_cap_data_struct d[2];
		caps(d);
		CHECK(d[0].effective & BIT(CAP_CHOWN));
		/* fsuid 0 -> 1000 drops the file-system capabilities from the
		 * effective set only; back to 0 restores them. */
		CHECK_EQ(setfsuid(1000), 0);
		caps(d);
		CHECK_EQ(d[0].effective & BIT(CAP_CHOWN), 0);
		CHECK_EQ(d[0].effective & BIT(CAP_DAC_OVERRIDE), 0);
		CHECK(d[0].effective & BIT(CAP_KILL));
		CHECK(d[0].permitted & BIT(CAP_CHOWN));
		CHECK_EQ(setfsuid(0), 1000);
		caps(d);
		CHECK(d[0].effective & BIT(CAP_CHOWN));
		/* euid 0 -> 1000 empties the effective set, keeps permitted;
		 * back to 0 restores it. */
		CHECK_OK(setresuid(-1, 1000, -1));
		caps(d);
		CHECK_EQ(d[0].effective, 0);
		CHECK(d[0].permitted & BIT(CAP_SETUID));
		CHECK_OK(setresuid(-1, 0, -1));
		caps(d);
		CHECK_EQ(d[0].effective, d[0].permitted);
		_exit(ward_test_failures ? 1 : 0);
	}
	reap_ok(pid);
}

static void test_keepcaps(void)
{
	CHECK_EQ(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 0);
	CHECK_ERRNO(prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0), EINVAL);
	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0) {
		CHECK_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
		CHECK_EQ(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 1);
		CHECK_OK(setresuid(1000, 1000, 1000));
		struct __user_cap_data_struct d[2];
		caps(d);
		/* Kept permitted, lost effective. */
		CHECK_EQ(d[0].effective, 0);
		CHECK(d[0].permitted & BIT(CAP_SETUID));
		/* And they can be raised again. */
		d[0].effective = BIT(CAP_SETUID);
		CHECK_OK(set_caps(d));
		CHECK_OK(setresuid(0, 0, 0));
		_exit(ward_test_failures ? 1 : 0);
	}
	reap_ok(pid);
	pid = CHECK_OK(test_fork());
	if (pid == 0) {
		/* Without it, losing root loses everything. */
		CHECK_OK(setresuid(1000, 1000, 1000));
		struct __user_cap_data_struct d[2];
		caps(d);
		CHECK_EQ(d[0].permitted, 0);
		CHECK_EQ(d[1].permitted, 0);
		CHECK_ERRNO(prctl(PR_CAPBSET_DROP, CAP_KILL, 0, 0, 0), EPERM);
		_exit(ward_test_failures ? 1 : 0);
	}
	reap_ok(pid);
}

static void test_bset_and_inheritable(void)
{
	CHECK_EQ(prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0), 1);
	CHECK_EQ(prctl(PR_CAPBSET_READ, 40, 0, 0, 0), 1);
	CHECK_ERRNO(prctl(PR_CAPBSET_READ, 41, 0, 0, 0), EINVAL);
	CHECK_ERRNO(prctl(PR_CAPBSET_READ, -1L, 0, 0, 0), EINVAL);
	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0) {
		CHECK_OK(prctl(PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0));
		CHECK_EQ(prctl(PR_CAPBSET_READ, CAP_NET_RAW, 0, 0, 0), 0);
		CHECK_ERRNO(prctl(PR_CAPBSET_DROP, 41, 0, 0, 0), EINVAL);
		struct __user_cap_data_struct d[2];
		caps(d);
		/* Still permitted: the bounding set limits what exec gives. */
		CHECK(d[0].permitted & BIT(CAP_NET_RAW));
		/* Inheritable may not take what the bounding set lost... */
		d[0].inheritable = BIT(CAP_NET_RAW);
		CHECK_ERRNO(set_caps(d), EPERM);
		/* ...but may take a permitted one. */
		d[0].inheritable = BIT(CAP_CHOWN);
		CHECK_OK(set_caps(d));
		caps(d);
		CHECK_EQ(d[0].inheritable, BIT(CAP_CHOWN));
		/* Version 1 sets 32 bits: the upper permitted ones are
		 * dropped. */
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_1, 0 };
		struct __user_cap_data_struct v1 = { d[0].effective, d[0].permitted, d[0].inheritable };
		CHECK_OK(syscall(SYS_capset, &h, &v1));
		caps(d);
		CHECK_EQ(d[1].permitted, 0);
		CHECK(d[0].permitted & BIT(CAP_CHOWN));
		/* A bad version: EINVAL and the preferred one written back. */
		h.version = 1;
		CHECK_ERRNO(syscall(SYS_capset, &h, &v1), EINVAL);
		CHECK_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
		_exit(ward_test_failures ? 1 : 0);
	}
	reap_ok(pid);
}

static void test_prctl(void)
{
	int v = -1;
	CHECK_OK(prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0));
	CHECK_EQ(v, 0);
	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0) {
		CHECK_OK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
		CHECK_OK(prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0));
		CHECK_EQ(v, 1);
		/* An orphaned grandchild comes to us, not to init. */
		int p[2];
		CHECK_OK(pipe(p));
		pid_t mid = fork();
		if (mid == 0) {
			if (fork() == 0) {
				char c;
				close(p[1]);
				read(p[0], &c, 1);
				_exit(getppid() == getppid() ? 7 : 0);
			}
			_exit(0);
		}
		CHECK_EQ(waitpid(mid, NULL, 0), mid);
		close(p[0]);
		close(p[1]);
		int status;
		pid_t got = wait(&status);
		CHECK(got > 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
		CHECK_ERRNO(prctl(PR_GET_CHILD_SUBREAPER, (void *)1, 0, 0, 0), EFAULT);
		_exit(ward_test_failures ? 1 : 0);
	}
	reap_ok(pid);

	/* Timer slack: 50 us by default; 0 restores the default. */
	CHECK_EQ(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), 50000);
	CHECK_OK(prctl(PR_SET_TIMERSLACK, 1000, 0, 0, 0));
	CHECK_EQ(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), 1000);
	CHECK_OK(prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0));
	CHECK_EQ(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), 50000);

	/* The TSC is readable. */
	v = 0;
	CHECK_OK(prctl(PR_GET_TSC, &v, 0, 0, 0));
	CHECK_EQ(v, PR_TSC_ENABLE);
	CHECK_OK(prctl(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0));
	CHECK_ERRNO(prctl(PR_SET_TSC, 42, 0, 0, 0), EINVAL);
	CHECK_ERRNO(prctl(PR_GET_TSC, (void *)1, 0, 0, 0), EFAULT);
}

static void test_getcpu(void)
{
	unsigned int cpu = ~0u, node = ~0u;
	CHECK_OK(syscall(SYS_getcpu, &cpu, &node, NULL));
	CHECK(cpu < (unsigned int)sysconf(_SC_NPROCESSORS_CONF));
	CHECK_EQ(node, 0);
	cpu_set_t set;
	CHECK_OK(sched_getaffinity(0, sizeof(set), &set));
	CHECK(CPU_ISSET(cpu, &set));
	CHECK_OK(syscall(SYS_getcpu, NULL, NULL, NULL));
	CHECK_ERRNO(syscall(SYS_getcpu, (void *)1, NULL, NULL), EFAULT);
}

static void test_itimer_errors(void)
{
	struct itimerval v, old;
	CHECK_ERRNO(getitimer(3, &v), EINVAL);
	CHECK_ERRNO(getitimer(-1, &v), EINVAL);
	memset(&v, 0, sizeof(v));
	CHECK_ERRNO(setitimer(3, &v, NULL), EINVAL);
	v.it_value.tv_usec = 1000000;
	CHECK_ERRNO(setitimer(ITIMER_REAL, &v, NULL), EINVAL);
	v.it_value.tv_usec = 0;
	v.it_interval.tv_sec = -1;
	CHECK_ERRNO(setitimer(ITIMER_PROF, &v, NULL), EINVAL);
	CHECK_ERRNO(syscall(SYS_setitimer, ITIMER_REAL, (void *)1, NULL), EFAULT);
	CHECK_ERRNO(syscall(SYS_getitimer, ITIMER_REAL, (void *)1), EFAULT);

	/* An interval without a value stays disarmed. */
	struct itimerval iv = { { 1, 0 }, { 0, 0 } };
	CHECK_OK(setitimer(ITIMER_REAL, &iv, NULL));
	CHECK_OK(getitimer(ITIMER_REAL, &old));
	CHECK_EQ(old.it_interval.tv_sec, 0);
	CHECK_EQ(old.it_value.tv_sec, 0);
	/* ITIMER_REAL reads back, and alarm() reports it rounded. */
	struct itimerval t = { { 0, 0 }, { 5, 600000 } };
	CHECK_OK(setitimer(ITIMER_REAL, &t, NULL));
	CHECK_EQ(alarm(0), 6);
	CHECK_EQ(alarm(10), 0);
	CHECK_OK(getitimer(ITIMER_REAL, &old));
	CHECK(old.it_value.tv_sec == 9 || old.it_value.tv_sec == 10);
	CHECK_EQ(alarm(0), 10);
	/* An ITIMER_VIRTUAL with an interval: both read back. */
	struct itimerval vt = { { 2, 0 }, { 3, 0 } };
	CHECK_OK(setitimer(ITIMER_VIRTUAL, &vt, NULL));
	memset(&vt, 0, sizeof(vt));
	CHECK_OK(setitimer(ITIMER_VIRTUAL, &vt, &old));
	CHECK_EQ(old.it_interval.tv_sec, 2);
	CHECK(old.it_value.tv_sec >= 2 && old.it_value.tv_sec <= 3);
}

static void test_cpu_clock_ids(void)
{
	struct timespec ts;
	/* A thread clock of a thread that is not ours. */
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		pause();
		_exit(0);
	}
	clockid_t thread_of_other = (~(clockid_t)pid << 3) | 2 | 4;
	CHECK_ERRNO(clock_gettime(thread_of_other, &ts), EINVAL);
	/* A process clock of a live child is fine. */
	clockid_t proc_of_child = (~(clockid_t)pid << 3) | 2;
	CHECK_OK(clock_gettime(proc_of_child, &ts));
	CHECK_OK(clock_getres(proc_of_child, &ts));
	CHECK_EQ(ts.tv_nsec, 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	CHECK_ERRNO(clock_gettime(proc_of_child, &ts), EINVAL);
	/* Our own process and thread clocks by pid/tid. */
	CHECK_OK(clock_gettime((~(clockid_t)getpid() << 3) | 2, &ts));
	CHECK_OK(clock_gettime((~(clockid_t)gettid() << 3) | 2 | 4, &ts));
	/* A dynamic clock (an fd's): none here. */
	CHECK_ERRNO(clock_gettime((~(clockid_t)1000 << 3) | 3, &ts), EINVAL);
	/* CPUCLOCK_PROF: a tick of resolution. */
	CHECK_OK(clock_getres((~(clockid_t)0 << 3) | 0, &ts));
	CHECK(ts.tv_nsec > 1);
}

int main(void)
{
	if (geteuid() != 0)
		SKIP("needs root");
	test_setreuid();
	test_fsuid_caps();
	test_keepcaps();
	test_bset_and_inheritable();
	test_prctl();
	test_getcpu();
	test_itimer_errors();
	test_cpu_clock_ids();
	return test_done();
}
