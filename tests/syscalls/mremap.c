/* mremap: growing in place, moving, shrinking, MREMAP_FIXED, and errors.
 * Contents must follow the mapping wherever it goes. */
#include "ward_test.h"

#include <stdint.h>
#include <sys/mman.h>

static long page;

static void fill(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(i * 7 + 1);
}

static int same(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (char)(i * 7 + 1))
			return 0;
	return 1;
}

int main(void)
{
	page = sysconf(_SC_PAGESIZE);
	/* Reserve 8 pages so that growing in place has room to grow into. */
	char *r = CHECK_OK(mmap(NULL, 8 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	if (r == MAP_FAILED)
		return test_done();
	CHECK_OK(munmap(r + 2 * page, 6 * page));
	char *p = mmap(r, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK_EQ(p, r);
	fill(p, 2 * page);

	/* Grow in place into the free pages after it; new pages are zero. */
	char *q = mremap(p, 2 * page, 4 * page, 0);
	CHECK_EQ(q, p);
	CHECK(same(q, 2 * page));
	CHECK_EQ(q[3 * page], 0);
	/* Shrink in place; the tail is unmapped (a fixed no-replace map there
	 * succeeds). */
	q = mremap(p, 4 * page, page, 0);
	CHECK_EQ(q, p);
	CHECK(same(q, page));
	char *t = mmap(p + page, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK_EQ(t, p + page);

	/* Growing into an occupied page without MREMAP_MAYMOVE fails... */
	CHECK_ERRNO(mremap(p, page, 2 * page, 0), ENOMEM);
	/* ...and with it, the mapping moves and keeps its contents. */
	q = mremap(p, page, 3 * page, MREMAP_MAYMOVE);
	CHECK(q != MAP_FAILED);
	CHECK(q != p);
	CHECK(same(q, page));
	CHECK_EQ(q[2 * page], 0);
	/* The old range is gone. */
	CHECK_EQ(mmap(p, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), p);
	munmap(p, 2 * page);

	/* MREMAP_FIXED moves to exactly new_address, replacing what is there. */
	char *dst = CHECK_OK(mmap(NULL, 3 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	p = mremap(q, 3 * page, 3 * page, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	CHECK_EQ(p, dst);
	CHECK(same(p, page));
	/* A same-size remap is a successful no-op. */
	CHECK_EQ(mremap(p, 3 * page, 3 * page, 0), p);

	/* Errors. */
	/* Unknown flags. */
	CHECK_ERRNO(mremap(p, page, page, 0x80), EINVAL);
	/* MREMAP_FIXED without MREMAP_MAYMOVE. */
	CHECK_ERRNO(mremap(p, page, page, MREMAP_FIXED, dst + 16 * page), EINVAL);
	/* Unaligned old address. */
	CHECK_ERRNO(mremap(p + 1, page, 2 * page, MREMAP_MAYMOVE), EINVAL);
	/* Zero new size. */
	CHECK_ERRNO(mremap(p, page, 0, MREMAP_MAYMOVE), EINVAL);
	/* New range overlapping the old one with MREMAP_FIXED. */
	CHECK_ERRNO(mremap(p, 2 * page, 2 * page, MREMAP_MAYMOVE | MREMAP_FIXED, p + page), EINVAL);
	/* Nothing mapped at the old address: EFAULT (not ENOMEM). */
	CHECK_OK(munmap(p, 3 * page));
	CHECK_ERRNO(mremap(p, page, 2 * page, MREMAP_MAYMOVE), EFAULT);

	return test_done();
}
