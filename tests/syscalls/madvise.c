/* madvise: MADV_DONTNEED zeroes private anonymous pages and re-reads private
 * file pages from the file; harmless advice succeeds; bad advice, unaligned
 * starts and unmapped ranges fail with the documented errors. */
#include "ward_test.h"

#include <fcntl.h>
#include <sys/mman.h>

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = CHECK_OK(mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	if (p == MAP_FAILED)
		return test_done();
	memset(p, 0x5a, 3 * page);

	/* MADV_DONTNEED on the middle page drops it: it reads as zero, and
	 * the neighbours keep their data. */
	CHECK_OK(madvise(p + page, page, MADV_DONTNEED));
	CHECK_EQ(p[page], 0);
	CHECK_EQ(p[2 * page - 1], 0);
	CHECK_EQ(p[page - 1], 0x5a);
	CHECK_EQ(p[2 * page], 0x5a);
	/* The page is usable again afterwards. */
	p[page] = 1;
	CHECK_EQ(p[page], 1);

	/* Advice that changes nothing visible. */
	CHECK_OK(madvise(p, 3 * page, MADV_NORMAL));
	CHECK_OK(madvise(p, 3 * page, MADV_RANDOM));
	CHECK_OK(madvise(p, 3 * page, MADV_SEQUENTIAL));
	CHECK_OK(madvise(p, 3 * page, MADV_WILLNEED));
	CHECK_EQ(p[0], 0x5a);
	/* Zero length succeeds. */
	CHECK_OK(madvise(p, 0, MADV_DONTNEED));
	CHECK_EQ(p[0], 0x5a);

	/* Errors. */
	CHECK_ERRNO(madvise(p, page, 12345), EINVAL);
	CHECK_ERRNO(madvise(p + 1, page, MADV_DONTNEED), EINVAL);
	CHECK_OK(munmap(p + 2 * page, page));
	/* Partly unmapped: ENOMEM. */
	CHECK_ERRNO(madvise(p + page, 2 * page, MADV_NORMAL), ENOMEM);
	CHECK_ERRNO(madvise(p + 2 * page, page, MADV_DONTNEED), ENOMEM);
	munmap(p, 2 * page);

	/* On a private file mapping, MADV_DONTNEED throws away the private
	 * copy: the page shows the file again. */
	int fd = CHECK_OK(open("/etc/passwd", O_RDONLY));
	char first[8];
	CHECK_EQ(pread(fd, first, sizeof(first), 0), sizeof(first));
	char *f = CHECK_OK(mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
	if (f != MAP_FAILED) {
		memset(f, 'z', sizeof(first));
		CHECK_OK(madvise(f, page, MADV_DONTNEED));
		CHECK(memcmp(f, first, sizeof(first)) == 0);
		munmap(f, page);
	}
	close(fd);
	return test_done();
}
