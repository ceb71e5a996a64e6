/* sched_getaffinity/sched_setaffinity and sched_yield: at least one CPU is
 * allowed, the raw call returns the kernel's mask size, masks too small to
 * hold it are EINVAL, and setting the mask it returned is accepted. */
#include "ward_test.h"

#include <sched.h>

int main(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CHECK_OK(sched_getaffinity(0, sizeof(set), &set));
	int n = CPU_COUNT(&set);
	CHECK(n >= 1);
	CHECK(n <= sysconf(_SC_NPROCESSORS_CONF));
	/* The same for our own pid. */
	cpu_set_t mine;
	CPU_ZERO(&mine);
	CHECK_OK(sched_getaffinity(getpid(), sizeof(mine), &mine));
	CHECK(CPU_EQUAL(&set, &mine));

	/* The raw call returns the number of bytes it wrote: the kernel's
	 * mask size, a multiple of sizeof(long). */
	long bytes = syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
	CHECK(bytes > 0);
	CHECK(bytes <= (long)sizeof(set));
	CHECK_EQ(bytes % sizeof(long), 0);
	/* A size that is not a multiple of sizeof(long), or too small. */
	CHECK_ERRNO(syscall(SYS_sched_getaffinity, 0, bytes - 1, &set), EINVAL);
	CHECK_ERRNO(syscall(SYS_sched_getaffinity, 0, 0, &set), EINVAL);
	CHECK_ERRNO(syscall(SYS_sched_getaffinity, 0, sizeof(set), (void *)1), EFAULT);
	CHECK_ERRNO(sched_getaffinity(0x3fffffff, sizeof(set), &set), ESRCH);

	/* Setting the current mask back is accepted and changes nothing. */
	CHECK_OK(sched_setaffinity(0, sizeof(mine), &mine));
	CHECK_OK(sched_getaffinity(0, sizeof(set), &set));
	CHECK(CPU_EQUAL(&set, &mine));
	/* An empty mask is EINVAL. */
	cpu_set_t none;
	CPU_ZERO(&none);
	CHECK_ERRNO(sched_setaffinity(0, sizeof(none), &none), EINVAL);

	for (int i = 0; i < 10; i++)
		CHECK_OK(sched_yield());
	CHECK_EQ(syscall(SYS_sched_yield), 0);
	return test_done();
}
