/* nanosleep and clock_nanosleep: sleeps last at least as long as asked
 * (only lower bounds: machines are busy), absolute sleeps end at or after
 * the deadline, and bad requests fail. clock_nanosleep returns the error
 * number instead of setting errno. */
#include "ward_test.h"

#include <time.h>

static long long now_ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void)
{
	const long ms10 = 10 * 1000 * 1000;
	struct timespec req = { 0, ms10 }, rem = { 99, 99 };

	long long start = now_ns(CLOCK_MONOTONIC);
	CHECK_OK(nanosleep(&req, &rem));
	CHECK(now_ns(CLOCK_MONOTONIC) - start >= ms10);
	/* A zero sleep returns at once. */
	struct timespec zero = { 0, 0 };
	CHECK_OK(nanosleep(&zero, NULL));
	/* The raw call, with no remainder wanted. */
	start = now_ns(CLOCK_MONOTONIC);
	CHECK_OK(syscall(SYS_nanosleep, &req, NULL));
	CHECK(now_ns(CLOCK_MONOTONIC) - start >= ms10);

	/* Relative clock_nanosleep on two clocks. */
	start = now_ns(CLOCK_MONOTONIC);
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL), 0);
	CHECK(now_ns(CLOCK_MONOTONIC) - start >= ms10);
	start = now_ns(CLOCK_REALTIME);
	CHECK_EQ(clock_nanosleep(CLOCK_REALTIME, 0, &req, NULL), 0);
	CHECK(now_ns(CLOCK_REALTIME) - start >= ms10 - 1000000); /* may be stepped */

	/* TIMER_ABSTIME: wake at or after the deadline... */
	long long deadline = now_ns(CLOCK_MONOTONIC) + ms10;
	struct timespec abs = { deadline / 1000000000, deadline % 1000000000 };
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL), 0);
	CHECK(now_ns(CLOCK_MONOTONIC) >= deadline);
	/* ...and return at once for a deadline in the past. */
	struct timespec past = { 0, 1 };
	start = now_ns(CLOCK_MONOTONIC);
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL), 0);
	CHECK(now_ns(CLOCK_MONOTONIC) - start < 1000000000LL);

	/* Bad requests. */
	struct timespec bad_ns = { 0, 1000000000 }, neg_ns = { 0, -1 }, neg_s = { -1, 0 };
	CHECK_ERRNO(nanosleep(&bad_ns, NULL), EINVAL);
	CHECK_ERRNO(nanosleep(&neg_ns, NULL), EINVAL);
	CHECK_ERRNO(nanosleep(&neg_s, NULL), EINVAL);
	CHECK_ERRNO(syscall(SYS_nanosleep, (void *)1, NULL), EFAULT);
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad_ns, NULL), EINVAL);
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &neg_ns, NULL), EINVAL);
	CHECK_EQ(clock_nanosleep(100, 0, &req, NULL), EINVAL);
	/* A thread's CPU clock cannot be slept on: the man page says EINVAL,
	 * which is what glibc returns without asking; the kernel itself says
	 * EOPNOTSUPP (the clock has no nsleep method). */
	CHECK_EQ(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL), EINVAL);
	CHECK_ERRNO(syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL), EOPNOTSUPP);
	CHECK_ERRNO(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, (void *)1, NULL), EFAULT);
	/* Unknown flag bits are ignored (only TIMER_ABSTIME is looked at). */
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0x100, &zero, NULL), 0);
	return test_done();
}
