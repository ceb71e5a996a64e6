/* The memory file's allocator: allocation, coalescing, bounds. */
#include "ward/memfile.h"
#include "ward/types.h"

#include <errno.h>
#include <string.h>

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

static Suite *memfile_suite(void)
{
	Suite *s = suite_create("memfile");
	TCase *tc = tcase_create("alloc");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, alloc_free_reuse);
	tcase_add_test(tc, freed_pages_read_zero);
	tcase_add_test(tc, exhaustion_and_bounds);
	suite_add_tcase(s, tc);
	return s;
}

WARD_UNIT_MAIN(memfile_suite)
