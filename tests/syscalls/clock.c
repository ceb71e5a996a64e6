/* clock_gettime/clock_getres/gettimeofday/time: the clocks agree with one
 * another, move forward, report sane resolutions, and reject bad ids and
 * pointers. Glibc answers most of these from the vDSO, so the raw system
 * calls are checked too. Times are only compared with slack. */
#include "ward_test.h"

#include <sys/time.h>
#include <time.h>

static long long ns(struct timespec t)
{
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void valid(struct timespec t)
{
	CHECK(t.tv_sec >= 0);
	CHECK(t.tv_nsec >= 0 && t.tv_nsec < 1000000000);
}

int main(void)
{
	static const clockid_t clocks[] = {
		CLOCK_REALTIME,	     CLOCK_MONOTONIC,	    CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
		CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE,   CLOCK_BOOTTIME,
	};
	struct timespec t, u, res;

	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		CHECK_OK(clock_gettime(clocks[i], &t));
		valid(t);
		CHECK_OK(syscall(SYS_clock_gettime, clocks[i], &u));
		valid(u);
		CHECK_OK(clock_getres(clocks[i], &res));
		valid(res);
		CHECK(ns(res) > 0 && ns(res) <= 10000000);
		/* A NULL result is allowed for getres. */
		CHECK_OK(clock_getres(clocks[i], NULL));
	}
	/* High-resolution clocks report 1 ns. */
	CHECK_OK(clock_getres(CLOCK_MONOTONIC, &res));
	CHECK_EQ(ns(res), 1);
	CHECK_OK(clock_getres(CLOCK_REALTIME, &res));
	CHECK_EQ(ns(res), 1);

	/* Monotonic time never goes back, through glibc or not. */
	struct timespec prev;
	CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &prev));
	for (int i = 0; i < 1000; i++) {
		if (i % 2)
			CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &t));
		else
			CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t));
		if (ns(t) < ns(prev)) {
			WARD_FAIL("CLOCK_MONOTONIC went back from %lld to %lld", ns(prev), ns(t));
			break;
		}
		prev = t;
	}
	/* Boot time includes suspend, so it is never behind monotonic. */
	CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &t));
	CHECK_OK(clock_gettime(CLOCK_BOOTTIME, &u));
	CHECK(ns(u) >= ns(t));

	/* The wall clocks agree to within a few seconds, and are after 2020.
	 * time() is not simply CLOCK_REALTIME truncated: it reads the coarse
	 * clock, updated once a tick, so just after a second boundary it can
	 * still say the previous second (a second behind a later, precise
	 * read). Hence the "- 1" below. */
	struct timeval tv;
	time_t before = time(NULL);
	CHECK_OK(clock_gettime(CLOCK_REALTIME, &t));
	CHECK_OK(gettimeofday(&tv, NULL));
	time_t now = time(NULL);
	time_t raw = 0;
	CHECK_EQ(syscall(SYS_time, &raw), raw);
	CHECK(t.tv_sec > 1577836800);
	CHECK(before <= t.tv_sec);
	CHECK(tv.tv_sec >= t.tv_sec && tv.tv_sec - t.tv_sec <= 5);
	CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	CHECK(now >= t.tv_sec - 1 && now - t.tv_sec <= 5);
	CHECK(raw >= t.tv_sec - 1 && raw - t.tv_sec <= 5);
	CHECK(raw >= now);
	CHECK_OK(syscall(SYS_gettimeofday, &tv, NULL));
	CHECK(tv.tv_sec >= t.tv_sec && tv.tv_sec - t.tv_sec <= 5);
	CHECK(syscall(SYS_time, NULL) >= t.tv_sec - 1);
	/* The coarse clock lags the same way, by less than a tick. */
	struct timespec coarse;
	CHECK_OK(clock_gettime(CLOCK_REALTIME_COARSE, &coarse));
	CHECK(ns(coarse) >= ns(t) - 1000000000LL);

	/* Bad clock ids. */
	CHECK_ERRNO(clock_gettime(100, &t), EINVAL);
	CHECK_ERRNO(syscall(SYS_clock_gettime, 100, &t), EINVAL);
	CHECK_ERRNO(clock_getres(100, &res), EINVAL);
	CHECK_ERRNO(syscall(SYS_clock_getres, 100, &res), EINVAL);
	/* Bad pointers: raw calls, since the vDSO would just fault. */
	CHECK_ERRNO(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)1), EFAULT);
	CHECK_ERRNO(syscall(SYS_clock_getres, CLOCK_MONOTONIC, (void *)1), EFAULT);
	CHECK_ERRNO(syscall(SYS_gettimeofday, (void *)1, NULL), EFAULT);
	CHECK_ERRNO(syscall(SYS_time, (void *)1), EFAULT);
	return test_done();
}
