/* mprotect: changing protections of whole and partial mappings, and its
 * errors. Faults are not tested (signal delivery comes later); only that
 * permitted accesses work after each change. */
#include "ward_test.h"

#include <sys/mman.h>

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = CHECK_OK(mmap(NULL, 4 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	if (p == MAP_FAILED)
		return test_done();

	/* PROT_NONE to read-write, then write. */
	CHECK_OK(mprotect(p, 4 * page, PROT_READ | PROT_WRITE));
	memset(p, 7, 4 * page);
	/* Read-only keeps the contents. */
	CHECK_OK(mprotect(p, 4 * page, PROT_READ));
	CHECK_EQ(p[4 * page - 1], 7);
	/* Changing one page in the middle splits the mapping; the pages
	 * either side keep their protection and contents. */
	CHECK_OK(mprotect(p + page, page, PROT_READ | PROT_WRITE));
	p[page] = 9;
	CHECK_EQ(p[page], 9);
	CHECK_EQ(p[0], 7);
	CHECK_EQ(p[2 * page], 7);
	/* A length that is not a page multiple is rounded up. */
	CHECK_OK(mprotect(p + 2 * page, 1, PROT_READ | PROT_WRITE));
	p[3 * page - 1] = 5;
	/* Zero length is a successful no-op. */
	CHECK_OK(mprotect(p, 0, PROT_READ));
	/* PROT_EXEC on anonymous memory is allowed. */
	CHECK_OK(mprotect(p, page, PROT_READ | PROT_EXEC));

	/* An unaligned start. */
	CHECK_ERRNO(mprotect(p + 1, page, PROT_READ), EINVAL);
	/* Unknown protection bits. */
	CHECK_ERRNO(mprotect(p, page, 0x100), EINVAL);
	/* PROT_GROWSDOWN and PROT_GROWSUP together. */
	CHECK_ERRNO(mprotect(p, page, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP), EINVAL);
	/* A range that is not (entirely) mapped: ENOMEM, not EFAULT. */
	CHECK_OK(munmap(p + 3 * page, page));
	CHECK_ERRNO(mprotect(p + 3 * page, page, PROT_READ), ENOMEM);
	CHECK_ERRNO(mprotect(p + 2 * page, 2 * page, PROT_READ), ENOMEM);
	/* A range that wraps around the end of the address space. */
	CHECK_ERRNO(mprotect(p, (size_t)-page, PROT_READ), ENOMEM);

	CHECK_OK(munmap(p, 3 * page));
	return test_done();
}
