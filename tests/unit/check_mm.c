/* The memory manager's VMA rules, against a real ptrace stub. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "sentry/mm/mm.h"
#include "ward/guest.h"
#include "ward/memfile.h"
#include "ward/platform.h"

#include "unit.h"

static struct mm *mm;

static void setup(void)
{
	ck_assert_int_eq(ward_memfile_init(1UL << 32), 0);
	ck_assert_int_eq(ward_platform_select("ptrace"), 0);
	ck_assert_int_eq(mm_create(&mm), 0);
}

static void teardown(void)
{
	mm_destroy(mm);
}

#define PG WARD_PAGE_SIZE

START_TEST(anonymous_map_reads_zero_and_writes)
{
	long a = mm_mmap(mm, 0, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	ck_assert(a > 0);
	ck_assert_uint_eq((uint64_t)a % PG, 0);
	char buf[8] = "1234567", out[8];
	ck_assert_int_eq(ward_copy_in(mm_as(mm), out, gaddr((uint64_t)a + PG), 8), 0);
	ck_assert_int_eq(out[0], 0);
	ck_assert_int_eq(ward_copy_out(mm_as(mm), gaddr((uint64_t)a + 3 * PG - 4), buf, 4), 0);
	ck_assert_int_eq(ward_copy_out(mm_as(mm), gaddr((uint64_t)a + 3 * PG - 4), buf, 8), -EFAULT);
}
END_TEST

/* The vDSO's pages are shared by every guest: unmapping, forking, moving
 * or privately writing them never frees or changes them. */
START_TEST(vdso_pages_are_borrowed)
{
	uint64_t off;
	ck_assert_int_eq(ward_memfile_alloc(3 * PG, &off), 0);
	const char image[] = "image";
	ck_assert_int_eq(ward_memfile_write(off + PG, image, sizeof(image)), 0);
	uint64_t base = 0x400000;
	ck_assert_int_eq(mm_map_vdso(mm, base, off, off + PG, 2 * PG), 0);
	ck_assert_int_eq(mm_map_vdso(mm, base, off, off + PG, 2 * PG), -EINVAL);

	char buf[64];
	char big[1024];
	ck_assert(mm_format_maps(mm, big, sizeof(big)) > 0);
	char *l = strstr(big, "00400000-00401000 r--p 00000000 00:00 0 ");
	ck_assert(l != NULL && strncmp(strchr(l, '['), "[vvar]\n", 7) == 0);
	l = strstr(big, "00401000-00403000 r-xp 00000000 00:00 0 ");
	ck_assert(l != NULL && strncmp(strchr(l, '['), "[vdso]\n", 7) == 0);

	/* Neither is writable; [vvar] cannot become so. */
	char c = 'w';
	ck_assert_int_eq(ward_copy_out(mm_as(mm), gaddr(base), &c, 1), -EFAULT);
	ck_assert_int_eq(ward_copy_out(mm_as(mm), gaddr(base + PG), &c, 1), -EFAULT);
	ck_assert_int_eq(mm_mprotect(mm, base, PG, PROT_READ | PROT_WRITE), -EACCES);
	ck_assert_int_eq(mm_mprotect(mm, base, PG, PROT_READ | PROT_EXEC), -EACCES);
	ck_assert_int_eq(mm_madvise(mm, base, PG, MADV_DONTNEED), -EINVAL);
	ck_assert_int_eq(mm_madvise(mm, base + PG, PG, MADV_DONTNEED), 0);
	ck_assert_int_eq(ward_memfile_read(off + PG, buf, sizeof(image)), 0);
	ck_assert_str_eq(buf, image);

	/* A writable [vdso] page is this guest's own copy. */
	ck_assert_int_eq(mm_mprotect(mm, base + PG, PG, PROT_READ | PROT_WRITE | PROT_EXEC), 0);
	ck_assert_int_eq(ward_copy_in(mm_as(mm), buf, gaddr(base + PG), sizeof(image)), 0);
	ck_assert_str_eq(buf, image);
	ck_assert_int_eq(ward_copy_out(mm_as(mm), gaddr(base + PG), &c, 1), 0);
	ck_assert_int_eq(ward_memfile_read(off + PG, buf, sizeof(image)), 0);
	ck_assert_str_eq(buf, image);

	/* They never grow; they move with their pages. */
	ck_assert_int_eq(mm_mremap(mm, base, PG, 2 * PG, MREMAP_MAYMOVE, 0), -EFAULT);
	long to = mm_mremap(mm, base + 2 * PG, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, 0x800000);
	ck_assert_int_eq(to, 0x800000);
	uint64_t moff;
	int prot;
	ck_assert_int_eq(ward_as_translate(mm_as(mm), gaddr(0x800000), &moff, &prot), 0);
	ck_assert_uint_eq(moff, off + 2 * PG);

	/* A fork shares them; unmapping and destroying frees nothing. */
	struct mm *child;
	ck_assert_int_eq(mm_fork(mm, &child), 0);
	ck_assert_int_eq(mm_attach(child), 0);
	ck_assert_int_eq(ward_as_translate(mm_as(child), gaddr(base), &moff, &prot), 0);
	ck_assert_uint_eq(moff, off);
	mm_destroy(child);
	ck_assert_int_eq(mm_munmap(mm, base, 3 * PG), 0);
	ck_assert_int_eq(mm_munmap(mm, 0x800000, PG), 0);
	ck_assert_int_eq(ward_memfile_read(off, buf, 1), 0);
	ck_assert_int_eq(ward_memfile_read(off + PG, buf, sizeof(image)), 0);
	ck_assert_str_eq(buf, image);
	ward_memfile_free(off, 3 * PG);
}
END_TEST

START_TEST(argument_errors)
{
	ck_assert_int_eq(mm_mmap(mm, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0), -EINVAL);
	ck_assert_int_eq(mm_mmap(mm, 0, PG, PROT_READ, MAP_ANONYMOUS, NULL, 0), -EINVAL);
	ck_assert_int_eq(mm_mmap(mm, 0x100001, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0),
			 -EINVAL);
	ck_assert_int_eq(mm_mmap(mm, 0, UINT64_MAX - 10, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0), -ENOMEM);
	ck_assert_int_eq(mm_munmap(mm, 0x100001, PG), -EINVAL);
	ck_assert_int_eq(mm_munmap(mm, 0x100000, 0), -EINVAL);
	ck_assert_int_eq(mm_mprotect(mm, 0x100000, PG, PROT_READ), -ENOMEM);
	ck_assert_int_eq(mm_madvise(mm, 0x100000, PG, 12345), -EINVAL);
	ck_assert_int_eq(mm_mremap(mm, 0x100000, PG, 2 * PG, 0, 0), -EFAULT);
}
END_TEST

START_TEST(fixed_noreplace_and_split)
{
	uint64_t base = 0x200000;
	ck_assert_int_eq(
		mm_mmap(mm, base, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0),
		(long)base);
	ck_assert_int_eq(
		mm_mmap(mm, base + PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, NULL, 0),
		-EEXIST);
	char c = 'x';
	ck_assert_int_eq(ward_copy_out(mm_as(mm), gaddr(base + 3 * PG), &c, 1), 0);
	ck_assert_int_eq(mm_munmap(mm, base + PG, PG), 0);
	ck_assert_int_eq(ward_copy_out(mm_as(mm), gaddr(base + PG), &c, 1), -EFAULT);
	ck_assert_int_eq(ward_copy_in(mm_as(mm), &c, gaddr(base + 3 * PG), 1), 0);
	ck_assert_int_eq(c, 'x');
	ck_assert_int_eq(mm_mprotect(mm, base, 4 * PG, PROT_READ), -ENOMEM);
	ck_assert_int_eq(mm_mprotect(mm, base + 2 * PG, 2 * PG, PROT_READ), 0);
	ck_assert_int_eq(ward_copy_out(mm_as(mm), gaddr(base + 2 * PG), &c, 1), -EFAULT);
	ck_assert_int_eq(ward_copy_out(mm_as(mm), gaddr(base), &c, 1), 0);
}
END_TEST

START_TEST(prot_none_reservation_then_access)
{
	/* A huge PROT_NONE reservation costs no backing. */
	long a = mm_mmap(mm, 0, 1UL << 36, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, NULL, 0);
	ck_assert(a > 0);
	char c = 'y';
	ck_assert_int_eq(ward_copy_out(mm_as(mm), gaddr((uint64_t)a), &c, 1), -EFAULT);
	ck_assert_int_eq(mm_mprotect(mm, (uint64_t)a + PG, PG, PROT_READ | PROT_WRITE), 0);
	ck_assert_int_eq(ward_copy_out(mm_as(mm), gaddr((uint64_t)a + PG), &c, 1), 0);
	ck_assert_int_eq(mm_munmap(mm, (uint64_t)a, 1UL << 36), 0);
}
END_TEST

START_TEST(mremap_keeps_contents)
{
	long a = mm_mmap(mm, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	ck_assert(a > 0);
	ck_assert_int_eq(ward_copy_out(mm_as(mm), gaddr((uint64_t)a + PG), "abc", 4), 0);
	/* Block growth in place, so the mapping must move. */
	ck_assert_int_eq(mm_mmap(mm, (uint64_t)a + 2 * PG, PG, PROT_READ,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, NULL, 0),
			 a + 2 * (long)PG);
	ck_assert_int_eq(mm_mremap(mm, (uint64_t)a, 2 * PG, 8 * PG, 0, 0), -ENOMEM);
	long b = mm_mremap(mm, (uint64_t)a, 2 * PG, 8 * PG, MREMAP_MAYMOVE, 0);
	ck_assert(b > 0 && b != a);
	char s[4];
	ck_assert_int_eq(ward_copy_in(mm_as(mm), s, gaddr((uint64_t)b + PG), 4), 0);
	ck_assert_str_eq(s, "abc");
	ck_assert_int_eq(ward_copy_in(mm_as(mm), s, gaddr((uint64_t)a + PG), 1), -EFAULT);
	ck_assert_int_eq(mm_mremap(mm, (uint64_t)b, 8 * PG, PG, 0, 0), b);
	ck_assert_int_eq(ward_copy_in(mm_as(mm), s, gaddr((uint64_t)b + PG), 1), -EFAULT);
}
END_TEST

START_TEST(brk_grows_and_shrinks)
{
	mm_set_brk_start(mm, 0x600000);
	ck_assert_uint_eq(mm_brk(mm, 0), 0x600000);
	ck_assert_uint_eq(mm_brk(mm, 0x600000 + 5000), 0x600000 + 5000);
	char c = 'z';
	ck_assert_int_eq(ward_copy_out(mm_as(mm), gaddr(0x600000 + 4999), &c, 1), 0);
	ck_assert_uint_eq(mm_brk(mm, 0x600000), 0x600000);
	ck_assert_int_eq(ward_copy_out(mm_as(mm), gaddr(0x600000), &c, 1), -EFAULT);
	/* Below the start: the break stays. */
	ck_assert_uint_eq(mm_brk(mm, 0x500000), 0x600000);
}
END_TEST

START_TEST(madvise_dontneed_zeroes)
{
	long a = mm_mmap(mm, 0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	char c = 'q';
	ck_assert_int_eq(ward_copy_out(mm_as(mm), gaddr((uint64_t)a), &c, 1), 0);
	ck_assert_int_eq(mm_madvise(mm, (uint64_t)a, PG, MADV_DONTNEED), 0);
	ck_assert_int_eq(ward_copy_in(mm_as(mm), &c, gaddr((uint64_t)a), 1), 0);
	ck_assert_int_eq(c, 0);
}
END_TEST

START_TEST(maps_lists_vmas)
{
	char buf[4096];
	ck_assert_int_eq(
		mm_mmap(mm, 0x300000, PG, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0),
		0x300000);
	long n = mm_format_maps(mm, buf, sizeof(buf));
	ck_assert(n > 0);
	ck_assert_ptr_nonnull(strstr(buf, "00300000-00301000 r-xp 00000000 00:00 0"));
}
END_TEST

static Suite *mm_suite(void)
{
	Suite *s = suite_create("mm");
	TCase *tc = tcase_create("vma");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, anonymous_map_reads_zero_and_writes);
	tcase_add_test(tc, argument_errors);
	tcase_add_test(tc, fixed_noreplace_and_split);
	tcase_add_test(tc, prot_none_reservation_then_access);
	tcase_add_test(tc, mremap_keeps_contents);
	tcase_add_test(tc, brk_grows_and_shrinks);
	tcase_add_test(tc, madvise_dontneed_zeroes);
	tcase_add_test(tc, maps_lists_vmas);
	tcase_add_test(tc, vdso_pages_are_borrowed);
	suite_add_tcase(s, tc);
	return s;
}

WARD_UNIT_MAIN(mm_suite)
