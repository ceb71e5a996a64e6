/* The memory file's allocator: allocation, coalescing, bounds. */
#include "ward/memfile.h"
#include "ward/types.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

static void setup(void)
{
	ck_assert_int_eq(ward_memfile_init(64 * WARD_PAGE_SIZE), 0);
}

START_TEST(alloc_free_reuse)
{
	uint64_t a, b, c;
	uint64_t used = ward_memfile_used();
	ck_assert_int_eq(ward_memfile_alloc(WARD_PAGE_SIZE, &a), 0);
	ck_assert_int_eq(ward_memfile_alloc(3 * WARD_PAGE_SIZE, &b), 0);
	ck_assert_uint_ne(a, 0);
	ck_assert(b >= a + WARD_PAGE_SIZE || b + 3 * WARD_PAGE_SIZE <= a);
	ck_assert_uint_eq(ward_memfile_used(), used + 4 * WARD_PAGE_SIZE);
	ward_memfile_free(a, WARD_PAGE_SIZE);
	ward_memfile_free(b, 3 * WARD_PAGE_SIZE);
	ck_assert_uint_eq(ward_memfile_used(), used);
	/* Freed neighbours coalesce, so a bigger request fits where they were. */
	ck_assert_int_eq(ward_memfile_alloc(4 * WARD_PAGE_SIZE, &c), 0);
	ward_memfile_free(c, 4 * WARD_PAGE_SIZE);
}
END_TEST

START_TEST(freed_pages_read_zero)
{
	uint64_t a;
	char buf[16] = "not zero at all";
	ck_assert_int_eq(ward_memfile_alloc(WARD_PAGE_SIZE, &a), 0);
	ck_assert_int_eq(ward_memfile_write(a, buf, sizeof(buf)), 0);
	ward_memfile_free(a, WARD_PAGE_SIZE);
	ck_assert_int_eq(ward_memfile_alloc(WARD_PAGE_SIZE, &a), 0);
	ck_assert_int_eq(ward_memfile_read(a, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], 0);
	ward_memfile_free(a, WARD_PAGE_SIZE);
}
END_TEST

START_TEST(exhaustion_and_bounds)
{
	uint64_t a;
	char c = 0;
	ck_assert_int_eq(ward_memfile_alloc(1000 * WARD_PAGE_SIZE, &a), -ENOMEM);
	ck_assert_int_eq(ward_memfile_alloc(0, &a), -ENOMEM);
	ck_assert_int_eq(ward_memfile_read(0, &c, 1), -EFAULT);
	ck_assert_int_eq(ward_memfile_read(64 * WARD_PAGE_SIZE, &c, 1), -EFAULT);
	ck_assert_int_eq(ward_memfile_write(UINT64_MAX - 1, &c, 1), -EFAULT);
	ck_assert_int_eq(ward_memfile_copy(WARD_PAGE_SIZE, UINT64_MAX, 2), -EFAULT);
	/* A double free is refused, not merged into a corrupt list. */
	ck_assert_int_eq(ward_memfile_alloc(WARD_PAGE_SIZE, &a), 0);
	ward_memfile_free(a, WARD_PAGE_SIZE);
	uint64_t used = ward_memfile_used();
	ward_memfile_free(a, WARD_PAGE_SIZE);
	ck_assert_uint_eq(ward_memfile_used(), used);
}
END_TEST

/* A host file's bytes arrive whole, large fills (spliced) and small
 * (read) alike, and a fill stops at the file's end. */
START_TEST(fill_from_host_large_and_short)
{
	char path[] = "/tmp/ward-unit-fill.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	size_t size = 40 * WARD_PAGE_SIZE + 100;
	static uint8_t data[40 * WARD_PAGE_SIZE + 100], back[41 * WARD_PAGE_SIZE];
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i * 7 + i / 4096);
	ck_assert_int_eq(write(fd, data, size), (long)size);
	ward_hostfd_t f = { fd };
	uint64_t a;
	ck_assert_int_eq(ward_memfile_alloc(41 * WARD_PAGE_SIZE, &a), 0);
	ck_assert_int_eq(ward_memfile_fill_from_host(a, f, 0, 41 * WARD_PAGE_SIZE), (long)size);
	ck_assert_int_eq(ward_memfile_read(a, back, size), 0);
	ck_assert_int_eq(memcmp(back, data, size), 0);
	/* From an offset, small: the plain path. */
	ck_assert_int_eq(ward_memfile_fill_from_host(a, f, 3 * WARD_PAGE_SIZE + 5, 1000), 1000);
	ck_assert_int_eq(ward_memfile_read(a, back, 1000), 0);
	ck_assert_int_eq(memcmp(back, data + 3 * WARD_PAGE_SIZE + 5, 1000), 0);
	/* Past the end: nothing. */
	ck_assert_int_eq(ward_memfile_fill_from_host(a, f, size + 10, 20 * WARD_PAGE_SIZE), 0);
	ward_memfile_free(a, 41 * WARD_PAGE_SIZE);
	close(fd);
}
END_TEST

static Suite *memfile_suite(void)
{
	Suite *s = suite_create("memfile");
	TCase *tc = tcase_create("alloc");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, alloc_free_reuse);
	tcase_add_test(tc, freed_pages_read_zero);
	tcase_add_test(tc, exhaustion_and_bounds);
	tcase_add_test(tc, fill_from_host_large_and_short);
	suite_add_tcase(s, tc);
	return s;
}

WARD_UNIT_MAIN(memfile_suite)
