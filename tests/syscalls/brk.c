/* brk, through the raw system call: glibc's brk()/sbrk() wrappers hide the
 * kernel's convention, which is to return the new break on success and the
 * unchanged current break on failure (never -1). */
#include "ward_test.h"

#include <stdint.h>

static uintptr_t __attribute__((noinline)) sys_brk(uintptr_t addr)
{
	return (uintptr_t)syscall(SYS_brk, addr);
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t start = sys_brk(0);
	CHECK(start != 0);
	/* Asking for 0 again returns the same break. */
	CHECK_EQ(sys_brk(0), start);

	/* Grow by a few pages and use the memory: it starts zeroed. */
	uintptr_t want = start + 4 * page + 123;
	CHECK_EQ(sys_brk(want), want);
	CHECK_EQ(sys_brk(0), want);
	char *mem = (char *)start;
	CHECK_EQ(mem[0], 0);
	CHECK_EQ(mem[4 * page + 122], 0);
	memset(mem, 0x33, 4 * page + 123);
	/* The break is not page aligned, but the page it ends in is mapped. */
	uintptr_t page_end = (want + page - 1) & ~(uintptr_t)(page - 1);
	mem[page_end - start - 1] = 1;

	/* Shrink and grow again: the released pages come back zeroed. */
	CHECK_EQ(sys_brk(start + page), start + page);
	CHECK_EQ(sys_brk(start + 4 * page), start + 4 * page);
	CHECK_EQ(mem[0], 0x33);
	CHECK_EQ(mem[2 * page], 0);

	/* A request below the start of the heap fails: the break stays. The
	 * program's own code is certainly below it (the break we started from
	 * is not: static glibc has already moved it to make room for TLS). */
	CHECK_EQ(sys_brk((uintptr_t)&sys_brk & ~(uintptr_t)(page - 1)), start + 4 * page);
	/* So does an absurd request. */
	CHECK_EQ(sys_brk((uintptr_t)1 << 62), start + 4 * page);
	CHECK_EQ(sys_brk(0), start + 4 * page);

	/* Back to the start. */
	CHECK_EQ(sys_brk(start), start);
	return test_done();
}
