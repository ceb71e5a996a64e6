/* getrlimit/setrlimit/prlimit64: reading and lowering limits, the soft
 * limit taking effect (RLIMIT_NOFILE on new descriptors), and the errors. */
#include "ward_test.h"

#include <fcntl.h>
#include <sys/resource.h>

int main(void)
{
	struct rlimit rl, got;
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
	CHECK(rl.rlim_cur <= rl.rlim_max);
	CHECK(rl.rlim_cur >= 64);
	/* prlimit64 without a new value reads the same limit, for pid 0 and
	 * for the caller's own pid. */
	struct rlimit64 r64;
	CHECK_OK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &r64));
	CHECK_EQ(r64.rlim_cur, rl.rlim_cur);
	CHECK_EQ(r64.rlim_max, rl.rlim_max);
	CHECK_OK(syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &r64));
	CHECK_EQ(r64.rlim_cur, rl.rlim_cur);
	/* Every resource can be read, soft <= hard. */
	for (int r = 0; r < RLIMIT_NLIMITS; r++) {
		CHECK_OK(getrlimit(r, &got));
		CHECK(got.rlim_cur <= got.rlim_max);
	}
	/* The stack has a soft limit (programs size their stacks by it). */
	CHECK_OK(getrlimit(RLIMIT_STACK, &got));
	CHECK(got.rlim_cur > 0);

	/* Lower the soft limit: it reads back, and is enforced. */
	struct rlimit low = { 32, rl.rlim_max };
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &low));
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &got));
	CHECK_EQ(got.rlim_cur, 32);
	CHECK_EQ(got.rlim_max, rl.rlim_max);
	CHECK_ERRNO(fcntl(0, F_DUPFD, 32), EINVAL);
	int fd = CHECK_OK(fcntl(0, F_DUPFD, 31));
	CHECK_EQ(fd, 31);
	close(fd);
	/* prlimit64 sets and returns the old value in one call. */
	struct rlimit64 new64 = { rl.rlim_cur, rl.rlim_max }, old64;
	CHECK_OK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &new64, &old64));
	CHECK_EQ(old64.rlim_cur, 32);
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &got));
	CHECK_EQ(got.rlim_cur, rl.rlim_cur);

	/* Errors. */
	CHECK_ERRNO(getrlimit(RLIMIT_NLIMITS, &got), EINVAL);
	CHECK_ERRNO(getrlimit(-1, &got), EINVAL);
	struct rlimit bad = { 100, 50 };
	CHECK_ERRNO(setrlimit(RLIMIT_NOFILE, &bad), EINVAL);
	/* RLIMIT_NOFILE cannot exceed fs.nr_open. */
	struct rlimit huge = { RLIM_INFINITY, RLIM_INFINITY };
	CHECK_ERRNO(setrlimit(RLIMIT_NOFILE, &huge), EPERM);
	CHECK_ERRNO(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, (void *)1), EFAULT);
	CHECK_ERRNO(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, (void *)1, NULL), EFAULT);
	CHECK_ERRNO(syscall(SYS_getrlimit, RLIMIT_NOFILE, (void *)1), EFAULT);
	CHECK_ERRNO(syscall(SYS_prlimit64, 0x3fffffff, RLIMIT_NOFILE, NULL, &old64), ESRCH);
	/* Nothing changed along the way. */
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &got));
	CHECK_EQ(got.rlim_cur, rl.rlim_cur);
	CHECK_EQ(got.rlim_max, rl.rlim_max);
	return test_done();
}
