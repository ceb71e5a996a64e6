/* strace formatting of results and errno names. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "sentry/syscalls/syscalls.h"

#include "unit.h"

START_TEST(results)
{
	char buf[128];
	strace_format_result(3, false, buf, sizeof(buf));
	ck_assert_str_eq(buf, ") = 3\n");
	strace_format_result(-ENOENT, false, buf, sizeof(buf));
	ck_assert_str_eq(buf, ") = -1 ENOENT (No such file or directory)\n");
	strace_format_result(0x7f0000001000L, true, buf, sizeof(buf));
	ck_assert_str_eq(buf, ") = 0x7f0000001000\n");
	strace_format_result(-4000, false, buf, sizeof(buf));
	ck_assert_str_eq(buf, ") = -1 errno 4000\n");
	/* A tiny buffer truncates, never overflows. */
	char small[4];
	strace_format_result(-ENOENT, false, small, sizeof(small));
	ck_assert_uint_le(strlen(small), 3);
}
END_TEST

START_TEST(table_names)
{
	ck_assert_str_eq(syscall_lookup(0)->name, "read");
	ck_assert_str_eq(syscall_lookup(231)->name, "exit_group");
	ck_assert_ptr_null(syscall_lookup(400));
	ck_assert_ptr_null(syscall_lookup(UINT64_MAX));
	ck_assert_str_eq(strace_errno_name(EFAULT), "EFAULT");
	ck_assert(strace_result_is_address(syscall_lookup(9)));
	ck_assert(!strace_result_is_address(syscall_lookup(0)));
}
END_TEST

static Suite *strace_suite(void)
{
	Suite *s = suite_create("strace");
	TCase *tc = tcase_create("format");
	tcase_add_test(tc, results);
	tcase_add_test(tc, table_names);
	suite_add_tcase(s, tc);
	return s;
}

WARD_UNIT_MAIN(strace_suite)
