/* arch_prctl: ARCH_GET_FS returns the thread pointer glibc set up (whose
 * first word points at itself), ARCH_SET_FS to that same value is accepted,
 * and bad codes and pointers fail. FS is never actually moved: glibc's TLS
 * lives there. */
#include "ward_test.h"

#include <asm/prctl.h>
#include <stdint.h>

static long arch_prctl(int code, unsigned long addr)
{
	return syscall(SYS_arch_prctl, code, addr);
}

int main(void)
{
	unsigned long fs = 0, gs = 1, self;
	CHECK_OK(arch_prctl(ARCH_GET_FS, (unsigned long)&fs));
	CHECK(fs != 0);
	/* x86-64 TLS ABI: %fs:0 holds the thread pointer itself. */
	__asm__ volatile("mov %%fs:0, %0" : "=r"(self));
	CHECK_EQ(self, fs);
	CHECK_EQ((uintptr_t)__builtin_thread_pointer(), fs);
	/* Setting FS to its current value is accepted and changes nothing. */
	CHECK_OK(arch_prctl(ARCH_SET_FS, fs));
	unsigned long again = 0;
	CHECK_OK(arch_prctl(ARCH_GET_FS, (unsigned long)&again));
	CHECK_EQ(again, fs);

	/* Nothing uses GS in user space on x86-64 Linux. */
	CHECK_OK(arch_prctl(ARCH_GET_GS, (unsigned long)&gs));
	CHECK_EQ(gs, 0);

	CHECK_ERRNO(arch_prctl(0x1234, 0), EINVAL);
	CHECK_ERRNO(arch_prctl(ARCH_GET_FS, 1), EFAULT);
	/* A non-canonical base cannot be loaded. */
	CHECK_ERRNO(arch_prctl(ARCH_SET_FS, 0x8000000000000000UL), EPERM);
	CHECK_ERRNO(arch_prctl(ARCH_SET_GS, 0x8000000000000000UL), EPERM);
	return test_done();
}
