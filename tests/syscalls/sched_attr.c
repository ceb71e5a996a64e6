/* sched_setattr and sched_getattr: sizes (VER0, the kernel's, larger ones
 * that must be zero past it, E2BIG writing the kernel's size back), nice
 * (clamped, seen by getpriority), real-time priorities, KEEP_POLICY and
 * KEEP_PARAMS, RESET_ON_FORK, invalid policies, flags and deadline
 * parameters, and the unprivileged caller's EPERM. The utilization clamps
 * and SCHED_DEADLINE's admission depend on the kernel's configuration and
 * are not checked here. */
#include "ward_test.h"

#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>

struct attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t prio;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
	uint32_t extra[4];
};

static long setattr(pid_t pid, struct attr *a, unsigned flags)
{
	return syscall(SYS_sched_setattr, pid, a, flags);
}

static long getattr(pid_t pid, struct attr *a, unsigned size, unsigned flags)
{
	return syscall(SYS_sched_getattr, pid, a, size, flags);
}

static void child_done(void)
{
	_exit(ward_test_failures ? 1 : 0);
}

static void reap_ok(pid_t pid)
{
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

int main(void)
{
	struct attr a;
	memset(&a, 0xff, sizeof(a));
	CHECK_OK(getattr(0, &a, 48, 0));
	CHECK_EQ(a.size, 48);
	CHECK_EQ(a.policy, SCHED_OTHER);
	CHECK_EQ(a.prio, 0);
	CHECK_EQ(a.extra[0], 0xffffffff); /* nothing past the size asked */
	memset(&a, 0, sizeof(a));
	CHECK_OK(getattr(getpid(), &a, sizeof(a), 0));
	CHECK_EQ(a.size, 56);
	CHECK_ERRNO(getattr(0, &a, 47, 0), EINVAL);
	CHECK_ERRNO(getattr(0, &a, 4097, 0), EINVAL);
	CHECK_ERRNO(getattr(0, &a, 48, 1), EINVAL);
	CHECK_ERRNO(getattr(0, NULL, 48, 0), EINVAL);
	CHECK_ERRNO(getattr(-1, &a, 48, 0), EINVAL);
	CHECK_ERRNO(getattr(999999, &a, 48, 0), ESRCH);
	CHECK_ERRNO(getattr(0, (struct attr *)8, 48, 0), EFAULT);

	/* nice, clamped to 19. */
	memset(&a, 0, sizeof(a));
	a.size = 48;
	a.nice = 5;
	CHECK_OK(setattr(0, &a, 0));
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), 5);
	a.nice = 100;
	a.size = 0; /* 0 means VER0 */
	CHECK_OK(setattr(0, &a, 0));
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), 19);
	CHECK_OK(getattr(0, &a, sizeof(a), 0));
	CHECK_EQ(a.nice, 19);

	/* Sizes. */
	memset(&a, 0, sizeof(a));
	a.size = 47;
	CHECK_ERRNO(setattr(0, &a, 0), E2BIG);
	CHECK_EQ(a.size, 56);
	a.size = 72;
	a.extra[1] = 1;
	CHECK_ERRNO(setattr(0, &a, 0), E2BIG);
	CHECK_EQ(a.size, 56);
	a.size = 72;
	a.extra[1] = 0;
	a.nice = 10;
	CHECK_OK(setattr(0, &a, 0));
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), 10);
	CHECK_ERRNO(setattr(0, (struct attr *)8, 0), EFAULT);
	CHECK_ERRNO(setattr(0, NULL, 0), EINVAL);
	CHECK_ERRNO(setattr(0, &a, 1), EINVAL);
	CHECK_ERRNO(setattr(-1, &a, 0), EINVAL);

	/* Invalid policies, flags and priorities. */
	memset(&a, 0, sizeof(a));
	a.size = 48;
	a.policy = (uint32_t)-1;
	CHECK_ERRNO(setattr(0, &a, 0), EINVAL);
	a.policy = 4;
	CHECK_ERRNO(setattr(0, &a, 0), EINVAL);
	a.policy = SCHED_OTHER;
	a.flags = 0x80;
	CHECK_ERRNO(setattr(0, &a, 0), EINVAL);
	a.flags = 0;
	a.prio = 1;
	CHECK_ERRNO(setattr(0, &a, 0), EINVAL);
	a.policy = SCHED_FIFO;
	a.prio = 0;
	CHECK_ERRNO(setattr(0, &a, 0), EINVAL);
	a.prio = 100;
	CHECK_ERRNO(setattr(0, &a, 0), EINVAL);
	a.policy = 6; /* SCHED_DEADLINE */
	a.prio = 0;
	a.runtime = 0;
	a.deadline = 30000000;
	CHECK_ERRNO(setattr(0, &a, 0), EINVAL);
	a.runtime = 40000000; /* more than the deadline */
	CHECK_ERRNO(setattr(0, &a, 0), EINVAL);
	CHECK_ERRNO(setattr(999999, &a, 0), ESRCH); /* the task comes first */
	a.policy = SCHED_OTHER;
	a.runtime = a.deadline = 0;
	CHECK_ERRNO(setattr(999999, &a, 0), ESRCH);

	if (geteuid() == 0) {
		/* Real-time, then back; KEEP_POLICY and KEEP_PARAMS. */
		memset(&a, 0, sizeof(a));
		a.size = 48;
		a.policy = SCHED_FIFO;
		a.prio = 10;
		CHECK_OK(setattr(0, &a, 0));
		CHECK_EQ(sched_getscheduler(0), SCHED_FIFO);
		CHECK_OK(getattr(0, &a, 48, 0));
		CHECK_EQ(a.prio, 10);
		CHECK_EQ(a.nice, 0);
		a.policy = SCHED_OTHER;
		a.prio = 20;
		a.flags = 8; /* KEEP_POLICY */
		CHECK_OK(setattr(0, &a, 0));
		CHECK_EQ(sched_getscheduler(0), SCHED_FIFO);
		CHECK_OK(getattr(0, &a, 48, 0));
		CHECK_EQ(a.prio, 20);
		memset(&a, 0, sizeof(a));
		a.size = 48;
		a.policy = SCHED_RR;
		a.flags = 0x10; /* KEEP_PARAMS: policy and priority stay */
		CHECK_OK(setattr(0, &a, 0));
		CHECK_EQ(sched_getscheduler(0), SCHED_FIFO);
		CHECK_OK(getattr(0, &a, 48, 0));
		CHECK_EQ(a.prio, 20);
		memset(&a, 0, sizeof(a));
		a.size = 48;
		a.policy = SCHED_OTHER;
		a.nice = 10;
		a.flags = 1; /* RESET_ON_FORK */
		CHECK_OK(setattr(0, &a, 0));
		CHECK_EQ(sched_getscheduler(0), SCHED_OTHER | SCHED_RESET_ON_FORK);
		CHECK_OK(getattr(0, &a, 48, 0));
		CHECK_EQ(a.flags, 1);
		CHECK_EQ(a.nice, 10);
		a.flags = 0;
		CHECK_OK(setattr(0, &a, 0));
		CHECK_EQ(sched_getscheduler(0), SCHED_OTHER);
	}

	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 0, 0 };
		CHECK_OK(setrlimit(RLIMIT_NICE, &rl));
		CHECK_OK(setrlimit(RLIMIT_RTPRIO, &rl));
		if (geteuid() == 0)
			CHECK_OK(setuid(65534));
		memset(&a, 0, sizeof(a));
		a.size = 48;
		a.nice = 15;
		CHECK_OK(setattr(0, &a, 0));
		a.nice = 12;
		CHECK_ERRNO(setattr(0, &a, 0), EPERM);
		a.policy = SCHED_FIFO;
		a.prio = 1;
		CHECK_ERRNO(setattr(0, &a, 0), EPERM);
		a.policy = SCHED_BATCH;
		a.prio = 0;
		a.nice = 18;
		CHECK_OK(setattr(0, &a, 0));
		CHECK_EQ(sched_getscheduler(0), SCHED_BATCH);
		if (getppid() != 1)
			CHECK_ERRNO(setattr(getppid(), &a, 0), EPERM);
		child_done();
	}
	reap_ok(pid);
	return test_done();
}
