/* mmap/munmap of anonymous memory: placement, MAP_FIXED, MAP_FIXED_NOREPLACE,
 * MAP_GROWSDOWN, zero fill, and the errno for each kind of bad argument. */
#include "ward_test.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>

static long page;

/* Reserves n pages and leaves them mapped PROT_NONE, so the tests below own
 * an address range nothing else will be placed in. */
static char *reserve(size_t n)
{
	char *p = mmap(NULL, n * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	return p;
}

static void test_anon(void)
{
	char *p = CHECK_OK(mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	if (p == MAP_FAILED)
		return;
	CHECK_EQ((uintptr_t)p % page, 0);
	/* Fresh anonymous memory reads as zeroes. */
	for (long i = 0; i < 3 * page; i++)
		if (p[i] != 0) {
			CHECK(p[i] == 0);
			break;
		}
	memset(p, 0xab, 3 * page);
	CHECK_EQ((unsigned char)p[3 * page - 1], 0xab);
	/* Unmapping the middle page leaves the two ends usable. */
	CHECK_OK(munmap(p + page, page));
	CHECK_EQ((unsigned char)p[0], 0xab);
	CHECK_EQ((unsigned char)p[2 * page], 0xab);
	CHECK_OK(munmap(p, 3 * page));
	/* Unmapping an unmapped range is not an error. */
	CHECK_OK(munmap(p, 3 * page));
	/* A length that is not a page multiple is rounded up. */
	p = CHECK_OK(mmap(NULL, 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	if (p != MAP_FAILED) {
		p[page - 1] = 1;
		CHECK_OK(munmap(p, 1));
	}
}

static void test_fixed(void)
{
	char *r = reserve(4);

	/* MAP_FIXED replaces whatever is there and lands exactly at addr. */
	char *p = mmap(r + page, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK_EQ(p, r + page);
	p[0] = 42;
	/* Mapping over it again gives a fresh zero page. */
	p = mmap(r + page, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK_EQ(p, r + page);
	CHECK_EQ(p[0], 0);

	/* MAP_FIXED_NOREPLACE refuses an occupied range with EEXIST... */
	CHECK_ERRNO(mmap(r, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
	/* ...even when only part of the range is occupied. */
	CHECK_OK(munmap(r + 2 * page, 2 * page));
	CHECK_ERRNO(mmap(r + page, 2 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
		    EEXIST);
	/* ...and lands exactly at addr in a free range. */
	p = mmap(r + 2 * page, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
		 0);
	CHECK_EQ(p, r + 2 * page);

	/* A hint without MAP_FIXED is honoured when the range is free. */
	CHECK_OK(munmap(r, 4 * page));
	p = mmap(r, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK_EQ(p, r);
	/* A hint on an occupied range picks some other free address. */
	char *q = mmap(r, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(q != MAP_FAILED);
	CHECK(q != r);
	munmap(q, page);
	munmap(r, page);
}

static void test_growsdown(void)
{
	char *p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	/* The mapping behaves as ordinary memory within its bounds. */
	p[0] = 1;
	p[4 * page - 1] = 2;
	CHECK_EQ(p[0] + p[4 * page - 1], 3);
	CHECK_OK(munmap(p, 4 * page));
}

static void test_errors(void)
{
	int fd;

	/* Zero length. */
	CHECK_ERRNO(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
	/* Neither MAP_PRIVATE nor MAP_SHARED. */
	CHECK_ERRNO(mmap(NULL, page, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
	/* MAP_FIXED at an address that is not page aligned. */
	CHECK_ERRNO(mmap((void *)(0x10000000 + 1), page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
		    EINVAL);
	/* A file offset that is not page aligned. */
	fd = CHECK_OK(open("/etc/passwd", O_RDONLY));
	CHECK_ERRNO(mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, 1), EINVAL);
	close(fd);
	/* A file mapping of a bad descriptor. */
	CHECK_ERRNO(mmap(NULL, page, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
	CHECK_ERRNO(mmap(NULL, page, PROT_READ, MAP_PRIVATE, 12345, 0), EBADF);
	/* A length that overflows once rounded to pages. */
	CHECK_ERRNO(mmap(NULL, (size_t)-1, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM);
	/* More than the address space can hold. */
	CHECK_ERRNO(mmap(NULL, 1UL << 47, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), ENOMEM);
	/* munmap: unaligned address, zero length. */
	CHECK_ERRNO(munmap((void *)(0x10000000 + 1), page), EINVAL);
	CHECK_ERRNO(munmap((void *)0x10000000, 0), EINVAL);
	/* munmap beyond the user address space. */
	CHECK_ERRNO(munmap((void *)0xffff800000000000UL, page), EINVAL);
}

int main(void)
{
	page = sysconf(_SC_PAGESIZE);
	CHECK_EQ(page, 4096);
	test_anon();
	test_fixed();
	test_growsdown();
	test_errors();
	return test_done();
}
