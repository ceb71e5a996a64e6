/* Credentials, capabilities, limits and scheduling attributes, as root and
 * (in a child) after dropping to an ordinary user: setresuid/setresgid and
 * what losing root costs (capabilities cleared, EPERM to signal root,
 * EACCES to lower the nice value), setgroups/getgroups (sorted), capget's
 * version handshake and capset's rules, RLIMIT_NOFILE enforced on every way
 * to make a descriptor, umask, get/setpriority, sched policies, membarrier.
 * Changes are made in children so the test's own state stays as it was.
 *
 * Root here need not have every capability (a container may drop some), so
 * only the ones any root has are required. */
#include "ward_test.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* fork() for a child that makes checks of its own: its count starts
 * from zero, so that its exit status speaks only for them. */
static pid_t test_fork(void)
{
	pid_t pid = fork();
	if (pid == 0)
		ward_test_failures = 0;
	return pid;
}

static void child_done(void)
{
	_exit(ward_test_failures ? 1 : 0);
}

static void reap_ok(pid_t pid)
{
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		WARD_FAIL("child %d: status %#x", pid, status);
}

static pid_t dead_pid(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static int capget_v3(pid_t pid, struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, pid };
	memset(data, 0, 2 * sizeof(*data));
	return syscall(SYS_capget, &h, data);
}

static int capset_v3(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	return syscall(SYS_capset, &h, data);
}

#define CAP_BIT(c) (1u << ((c)&31))

/* Capabilities that root keeps even in a default container. */
static const int basic_caps[] = { CAP_CHOWN,	   CAP_DAC_OVERRIDE, CAP_FOWNER,	   CAP_FSETID,
				  CAP_KILL,	   CAP_SETGID,	     CAP_SETUID,	   CAP_SETPCAP,
				  CAP_NET_RAW,	   CAP_SYS_CHROOT,   CAP_NET_BIND_SERVICE, CAP_MKNOD,
				  CAP_AUDIT_WRITE, CAP_SETFCAP };

static void test_caps(void)
{
	struct __user_cap_data_struct d[2];
	CHECK_OK(capget_v3(0, d));
	/* Root: effective == permitted, nothing inheritable, the basic set
	 * present, nothing beyond CAP_CHECKPOINT_RESTORE (40). */
	CHECK_EQ(d[0].effective, d[0].permitted);
	CHECK_EQ(d[1].effective, d[1].permitted);
	CHECK_EQ(d[0].inheritable, 0);
	CHECK_EQ(d[1].inheritable, 0);
	for (size_t i = 0; i < sizeof(basic_caps) / sizeof(basic_caps[0]); i++)
		if (!(d[0].effective & CAP_BIT(basic_caps[i])))
			WARD_FAIL("root lacks capability %d", basic_caps[i]);
	CHECK_EQ(d[1].effective & ~0x1ffu, 0);
	/* Our own pid means the same as 0. */
	struct __user_cap_data_struct again[2];
	CHECK_OK(capget_v3(getpid(), again));
	CHECK_EQ(again[0].effective, d[0].effective);
	CHECK_EQ(again[1].effective, d[1].effective);

	/* A bad version: EINVAL, and the preferred version written back... */
	struct __user_cap_header_struct h = { 0x12345678, 0 };
	CHECK_ERRNO(syscall(SYS_capget, &h, d), EINVAL);
	CHECK_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
	/* ...but with no data pointer, the probe libcap makes, it is 0. */
	h.version = 0;
	CHECK_OK(syscall(SYS_capget, &h, NULL));
	CHECK_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
	/* The older versions still work (version 1: 32 bits). */
	h.version = _LINUX_CAPABILITY_VERSION_1;
	h.pid = 0;
	struct __user_cap_data_struct v1;
	CHECK_OK(syscall(SYS_capget, &h, &v1));
	CHECK_EQ(v1.effective, again[0].effective);
	/* A process that does not exist; a bad pointer. */
	pid_t gone = dead_pid();
	CHECK_ERRNO(capget_v3(gone, d), ESRCH);
	h.version = _LINUX_CAPABILITY_VERSION_3;
	h.pid = 0;
	CHECK_ERRNO(syscall(SYS_capget, &h, (void *)1), EFAULT);
	CHECK_ERRNO(syscall(SYS_capget, (void *)1, d), EFAULT);

	/* capset, in a child. */
	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0) {
		struct __user_cap_data_struct c[2];
		CHECK_OK(capget_v3(0, c));
		/* Drop CAP_CHOWN from the effective set only: it reads back,
		 * and can be raised again (it is still permitted). */
		c[0].effective &= ~CAP_BIT(CAP_CHOWN);
		CHECK_OK(capset_v3(c));
		struct __user_cap_data_struct r[2];
		CHECK_OK(capget_v3(0, r));
		CHECK_EQ(r[0].effective & CAP_BIT(CAP_CHOWN), 0);
		CHECK(r[0].permitted & CAP_BIT(CAP_CHOWN));
		c[0].effective |= CAP_BIT(CAP_CHOWN);
		CHECK_OK(capset_v3(c));
		/* Drop CAP_NET_RAW from permitted too: gone for good. */
		c[0].effective &= ~CAP_BIT(CAP_NET_RAW);
		c[0].permitted &= ~CAP_BIT(CAP_NET_RAW);
		CHECK_OK(capset_v3(c));
		c[0].effective |= CAP_BIT(CAP_NET_RAW);
		CHECK_ERRNO(capset_v3(c), EPERM);
		c[0].permitted |= CAP_BIT(CAP_NET_RAW);
		CHECK_ERRNO(capset_v3(c), EPERM);
		/* Effective must be within permitted. */
		CHECK_OK(capget_v3(0, c));
		c[0].permitted &= ~CAP_BIT(CAP_KILL);
		CHECK_ERRNO(capset_v3(c), EPERM);
		/* Only our own capabilities can be set. */
		struct __user_cap_header_struct hh = { _LINUX_CAPABILITY_VERSION_3, getppid() };
		CHECK_OK(capget_v3(0, c));
		CHECK_ERRNO(syscall(SYS_capset, &hh, c), EPERM);
		child_done();
	}
	reap_ok(pid);
}

static void test_ids(void)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	/* As root: setting 0 everywhere, or changing nothing (-1). */
	CHECK_OK(setresuid(0, 0, 0));
	CHECK_OK(getresuid(&r, &e, &s));
	CHECK(r == 0 && e == 0 && s == 0);
	CHECK_OK(setresuid(-1, -1, -1));
	CHECK_OK(setresgid(0, 0, 0));
	CHECK_OK(getresgid(&gr, &ge, &gs));
	CHECK(gr == 0 && ge == 0 && gs == 0);
	CHECK_ERRNO(syscall(SYS_getresuid, (void *)1, &e, &s), EFAULT);

	pid_t parent = getpid();
	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0) {
		/* Supplementary groups: set, read back sorted. */
		gid_t set[3] = { 500, 30, 7 }, got[8];
		CHECK_OK(setgroups(3, set));
		CHECK_EQ(getgroups(0, NULL), 3);
		CHECK_EQ(getgroups(8, got), 3);
		CHECK(got[0] == 7 && got[1] == 30 && got[2] == 500);
		/* A buffer too small for them. */
		CHECK_ERRNO(getgroups(2, got), EINVAL);
		CHECK_OK(setgroups(0, NULL));
		CHECK_EQ(getgroups(0, NULL), 0);
		CHECK_EQ(getgroups(8, got), 0);
		CHECK_ERRNO(setgroups(65537, set), EINVAL);

		/* An ordinary user, the groups first. */
		CHECK_OK(setresgid(1000, 1000, 1000));
		CHECK_OK(setresuid(1000, 1001, 1002));
		CHECK_OK(getresuid(&r, &e, &s));
		CHECK(r == 1000 && e == 1001 && s == 1002);
		CHECK_EQ(getuid(), 1000);
		CHECK_EQ(geteuid(), 1001);
		CHECK_OK(getresgid(&gr, &ge, &gs));
		CHECK(gr == 1000 && ge == 1000 && gs == 1000);
		/* Any of the three may become any of the three... */
		CHECK_OK(setresuid(1002, 1000, 1001));
		CHECK_OK(getresuid(&r, &e, &s));
		CHECK(r == 1002 && e == 1000 && s == 1001);
		/* ...but nothing else, root included. */
		CHECK_ERRNO(setresuid(0, -1, -1), EPERM);
		CHECK_ERRNO(setresuid(-1, 2000, -1), EPERM);
		CHECK_ERRNO(setuid(0), EPERM);
		CHECK_ERRNO(setgroups(0, NULL), EPERM);
		CHECK_ERRNO(setresgid(0, -1, -1), EPERM);
		/* The capabilities are gone with root. */
		struct __user_cap_data_struct c[2];
		CHECK_OK(capget_v3(0, c));
		CHECK_EQ(c[0].effective, 0);
		CHECK_EQ(c[0].permitted, 0);
		CHECK_EQ(c[1].effective, 0);
		/* Signalling a root process is EPERM; ourselves is fine. */
		CHECK_ERRNO(kill(parent, 0), EPERM);
		CHECK_ERRNO(kill(parent, SIGTERM), EPERM);
		CHECK_OK(kill(getpid(), 0));
		/* Lowering the nice value needs privilege: EACCES. */
		CHECK_OK(setpriority(PRIO_PROCESS, 0, 5));
		CHECK_ERRNO(setpriority(PRIO_PROCESS, 0, 4), EACCES);
		/* Raising a hard limit needs privilege: EPERM. */
		struct rlimit rl;
		CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
		rl.rlim_max = rl.rlim_cur;
		CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
		rl.rlim_max++;
		CHECK_ERRNO(setrlimit(RLIMIT_NOFILE, &rl), EPERM);
		child_done();
	}
	reap_ok(pid);
}

static int lowest_free(void)
{
	int fd = dup(0);
	if (fd >= 0)
		close(fd);
	return fd;
}

static void test_nofile(void)
{
	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0) {
		struct rlimit rl, got;
		CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
		/* Room for exactly two more descriptors. */
		int low = lowest_free();
		struct rlimit lim = { low + 2, rl.rlim_max };
		CHECK_OK(setrlimit(RLIMIT_NOFILE, &lim));
		CHECK_OK(getrlimit(RLIMIT_NOFILE, &got));
		CHECK_EQ(got.rlim_cur, low + 2);
		CHECK_EQ(got.rlim_max, rl.rlim_max);
		int a = CHECK_OK(open("/etc/os-release", O_RDONLY));
		int b = CHECK_OK(dup(a));
		CHECK_EQ(b, low + 1);
		/* Every way to make a new one is refused. */
		CHECK_ERRNO(open("/etc/os-release", O_RDONLY), EMFILE);
		CHECK_ERRNO(dup(a), EMFILE);
		CHECK_ERRNO(fcntl(a, F_DUPFD, 0), EMFILE);
		int p[2];
		CHECK_ERRNO(pipe(p), EMFILE);
		/* Numbers at or above the limit: EBADF for dup2, EINVAL for
		 * F_DUPFD. */
		CHECK_ERRNO(dup2(a, low + 2), EBADF);
		CHECK_ERRNO(dup2(a, 1000), EBADF);
		CHECK_ERRNO(fcntl(a, F_DUPFD, low + 2), EINVAL);
		/* Below it, dup2 over an existing one is fine. */
		CHECK_EQ(dup2(a, b), b);
		/* Freeing one makes room for one. */
		close(b);
		CHECK_EQ(dup(a), b);
		/* Two with one slot: pipe fails and leaves nothing behind. */
		close(b);
		CHECK_ERRNO(pipe(p), EMFILE);
		CHECK_EQ(lowest_free(), b);
		/* soft > hard is EINVAL. */
		struct rlimit inverted = { 10, 5 };
		CHECK_ERRNO(setrlimit(RLIMIT_NOFILE, &inverted), EINVAL);
		CHECK_ERRNO(setrlimit(RLIMIT_NLIMITS + 5, &lim), EINVAL);
		child_done();
	}
	reap_ok(pid);
}

static void test_umask(void)
{
	mode_t old = umask(027);
	CHECK_EQ(umask(022), 027);
	/* Only the permission bits are kept. */
	CHECK_EQ(umask(07777), 022);
	CHECK_EQ(umask(old), 0777);
	CHECK_EQ(umask(old), old);
	/* Inherited by a child. */
	umask(023);
	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0)
		_exit(umask(0) == 023 ? 0 : 1);
	reap_ok(pid);
	umask(old);
}

static void test_priority(void)
{
	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0) {
		CHECK_OK(setpriority(PRIO_PROCESS, 0, 5));
		errno = 0;
		CHECK_EQ(getpriority(PRIO_PROCESS, 0), 5);
		CHECK_EQ(errno, 0);
		CHECK_EQ(getpriority(PRIO_PROCESS, getpid()), 5);
		/* The raw call returns 20 - nice, never negative. */
		CHECK_EQ(syscall(SYS_getpriority, PRIO_PROCESS, 0), 15);
		/* Out of range values are clamped to 19 and -20. */
		CHECK_OK(setpriority(PRIO_PROCESS, 0, 100));
		CHECK_EQ(getpriority(PRIO_PROCESS, 0), 19);
		CHECK_EQ(syscall(SYS_getpriority, PRIO_PROCESS, 0), 1);
		/* Root may lower it. */
		CHECK_OK(setpriority(PRIO_PROCESS, 0, 2));
		CHECK_EQ(getpriority(PRIO_PROCESS, 0), 2);
		/* nice() adds and returns the new value. */
		errno = 0;
		CHECK_EQ(nice(3), 5);
		CHECK_EQ(errno, 0);
		/* Inherited by a child. */
		pid_t g = fork();
		if (g == 0)
			_exit(getpriority(PRIO_PROCESS, 0) == 5 ? 0 : 1);
		reap_ok(g);
		/* Errors. */
		CHECK_ERRNO(getpriority(42, 0), EINVAL);
		CHECK_ERRNO(setpriority(42, 0, 0), EINVAL);
		pid_t gone = dead_pid();
		CHECK_ERRNO(getpriority(PRIO_PROCESS, gone), ESRCH);
		CHECK_ERRNO(setpriority(PRIO_PROCESS, gone, 1), ESRCH);
		child_done();
	}
	reap_ok(pid);
}

static void test_sched(void)
{
	CHECK_EQ(sched_getscheduler(0), SCHED_OTHER);
	CHECK_EQ(sched_getscheduler(getpid()), SCHED_OTHER);
	struct sched_param sp = { .sched_priority = 99 };
	CHECK_OK(sched_getparam(0, &sp));
	CHECK_EQ(sp.sched_priority, 0);
	CHECK_EQ(sched_get_priority_max(SCHED_FIFO), 99);
	CHECK_EQ(sched_get_priority_min(SCHED_FIFO), 1);
	CHECK_EQ(sched_get_priority_max(SCHED_RR), 99);
	CHECK_EQ(sched_get_priority_min(SCHED_RR), 1);
	CHECK_EQ(sched_get_priority_max(SCHED_OTHER), 0);
	CHECK_EQ(sched_get_priority_min(SCHED_OTHER), 0);
	CHECK_EQ(sched_get_priority_max(SCHED_BATCH), 0);
	CHECK_EQ(sched_get_priority_max(SCHED_IDLE), 0);
	CHECK_ERRNO(sched_get_priority_max(42), EINVAL);
	CHECK_ERRNO(sched_get_priority_min(-1), EINVAL);
	pid_t gone = dead_pid();
	CHECK_ERRNO(sched_getscheduler(gone), ESRCH);
	CHECK_ERRNO(sched_getscheduler(-1), EINVAL);
	CHECK_ERRNO(sched_getparam(gone, &sp), ESRCH);
	CHECK_ERRNO(sched_getparam(0, NULL), EINVAL);
	struct timespec ts;
	CHECK_OK(sched_rr_get_interval(0, &ts));
	CHECK(ts.tv_sec >= 0);

	pid_t pid = CHECK_OK(test_fork());
	if (pid == 0) {
		struct sched_param zero = { .sched_priority = 0 }, five = { .sched_priority = 5 };
		CHECK_OK(sched_setscheduler(0, SCHED_BATCH, &zero));
		CHECK_EQ(sched_getscheduler(0), SCHED_BATCH);
		CHECK_OK(sched_setscheduler(0, SCHED_IDLE, &zero));
		CHECK_EQ(sched_getscheduler(0), SCHED_IDLE);
		/* Priorities out of the policy's range. */
		CHECK_ERRNO(sched_setscheduler(0, SCHED_OTHER, &five), EINVAL);
		CHECK_ERRNO(sched_setscheduler(0, SCHED_FIFO, &zero), EINVAL);
		CHECK_ERRNO(sched_setscheduler(0, 42, &zero), EINVAL);
		CHECK_ERRNO(sched_setparam(0, &five), EINVAL);
		/* SCHED_RESET_ON_FORK reads back; a child does not inherit
		 * the flag, and keeps a policy that is not real-time... */
		CHECK_OK(sched_setscheduler(0, SCHED_BATCH | SCHED_RESET_ON_FORK, &zero));
		CHECK_EQ(sched_getscheduler(0), SCHED_BATCH | SCHED_RESET_ON_FORK);
		pid_t g = fork();
		if (g == 0)
			_exit(sched_getscheduler(0) == SCHED_BATCH ? 0 : 1);
		reap_ok(g);
		/* ...but not a negative nice value, which starts over at 0. */
		CHECK_OK(setpriority(PRIO_PROCESS, 0, -5));
		CHECK_OK(sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &zero));
		g = fork();
		if (g == 0)
			_exit(getpriority(PRIO_PROCESS, 0) == 0 && sched_getscheduler(0) == SCHED_OTHER ? 0 : 1);
		reap_ok(g);
		CHECK_EQ(getpriority(PRIO_PROCESS, 0), -5);
		CHECK_OK(sched_setscheduler(0, SCHED_OTHER, &zero));
		CHECK_EQ(sched_getscheduler(0), SCHED_OTHER);
		child_done();
	}
	reap_ok(pid);
}

static void test_membarrier(void)
{
	long mask = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	CHECK(mask >= 0);
	if (mask < 0)
		return;
	CHECK_EQ(mask & MEMBARRIER_CMD_QUERY, 0);
	CHECK_ERRNO(syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 1, 0), EINVAL);
	CHECK_ERRNO(syscall(SYS_membarrier, 1 << 20, 0, 0), EINVAL);
	if (mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED) {
		/* Only after registering. */
		CHECK(mask & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED);
		pid_t pid = CHECK_OK(test_fork());
		if (pid == 0) {
			CHECK_ERRNO(syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0), EPERM);
			CHECK_OK(syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0));
			CHECK_OK(syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
			child_done();
		}
		reap_ok(pid);
	}
	if (mask & MEMBARRIER_CMD_GLOBAL)
		CHECK_OK(syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0));
}

int main(void)
{
	if (geteuid() != 0)
		SKIP("needs root");
	test_caps();
	test_ids();
	test_nofile();
	test_umask();
	test_priority();
	test_sched();
	test_membarrier();
	return test_done();
}
