/* The ptrace platform: a stub starts, runs guest code to a syscall, reports
 * faults with the right address and code, and honours protections. */
#include "ward/guest.h"
#include "ward/memfile.h"
#include "ward/platform.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "unit.h"

static const uint64_t code_addr = 0x400000;

static struct ward_as *as;
static struct ward_platform_ctx *ctx;

static void setup(void)
{
	ck_assert_int_eq(ward_memfile_init(1UL << 30), 0);
	ck_assert_int_eq(ward_platform_select("ptrace"), 0);
	ck_assert_int_eq(ward_as_create(&as), 0);
	ck_assert_int_eq(ward_ctx_create(&ctx), 0);
}

static void teardown(void)
{
	ward_ctx_destroy(ctx);
	ward_as_destroy(as);
}

static void map_code(const uint8_t *code, size_t len)
{
	uint64_t off;
	ck_assert_int_eq(ward_memfile_alloc(WARD_PAGE_SIZE, &off), 0);
	ck_assert_int_eq(ward_as_map(as, gaddr(code_addr), WARD_PAGE_SIZE, WARD_PROT_READ | WARD_PROT_WRITE, off), 0);
	ck_assert_int_eq(ward_copy_out(as, gaddr(code_addr), code, len), 0);
	ck_assert_int_eq(ward_as_protect(as, gaddr(code_addr), WARD_PAGE_SIZE, WARD_PROT_READ | WARD_PROT_EXEC), 0);
}

START_TEST(syscall_stops_in_sentry)
{
	/* mov $39, %eax (getpid); syscall; mov $60, %eax; syscall */
	static const uint8_t code[] = { 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xb8, 60, 0, 0, 0, 0x0f, 0x05 };
	struct ward_regs regs = { 0 };
	struct ward_stop stop;

	map_code(code, sizeof(code));
	regs.rip = code_addr;
	regs.cs = 0x33;
	regs.ss = 0x2b;
	regs.eflags = 0x202;
	ck_assert_int_eq(ward_ctx_run(ctx, ward_as_platform(as), &regs, NULL, &stop), 0);
	ck_assert_int_eq(stop.kind, WARD_STOP_SYSCALL);
	ck_assert_uint_eq(regs.orig_rax, 39);
	ck_assert_uint_eq(regs.rip, code_addr + 7);
	regs.rax = 1234;
	ck_assert_int_eq(ward_ctx_run(ctx, ward_as_platform(as), &regs, NULL, &stop), 0);
	ck_assert_int_eq(stop.kind, WARD_STOP_SYSCALL);
	ck_assert_uint_eq(regs.orig_rax, 60);
}
END_TEST

START_TEST(fault_reports_address)
{
	/* movabs $0x12345000, %rax; mov (%rax), %rax */
	static const uint8_t code[] = { 0x48, 0xb8, 0x00, 0x50, 0x34, 0x12, 0, 0, 0, 0, 0x48, 0x8b, 0x00 };
	struct ward_regs regs = { 0 };
	struct ward_stop stop;

	map_code(code, sizeof(code));
	regs.rip = code_addr;
	regs.cs = 0x33;
	regs.ss = 0x2b;
	regs.eflags = 0x202;
	ck_assert_int_eq(ward_ctx_run(ctx, ward_as_platform(as), &regs, NULL, &stop), 0);
	ck_assert_int_eq(stop.kind, WARD_STOP_FAULT);
	ck_assert_int_eq(stop.signo, SIGSEGV);
	ck_assert_int_eq(stop.code, SEGV_MAPERR);
	ck_assert_uint_eq(stop.addr, 0x12345000);
}
END_TEST

START_TEST(write_to_readonly_is_accerr)
{
	/* mov %eax, (%rip-relative code page) : movl $1, 0x400000 */
	static const uint8_t code[] = { 0xc7, 0x04, 0x25, 0x00, 0x00, 0x40, 0x00, 1, 0, 0, 0 };
	struct ward_regs regs = { 0 };
	struct ward_stop stop;

	map_code(code, sizeof(code));
	regs.rip = code_addr;
	regs.cs = 0x33;
	regs.ss = 0x2b;
	regs.eflags = 0x202;
	ck_assert_int_eq(ward_ctx_run(ctx, ward_as_platform(as), &regs, NULL, &stop), 0);
	ck_assert_int_eq(stop.kind, WARD_STOP_FAULT);
	ck_assert_int_eq(stop.signo, SIGSEGV);
	ck_assert_int_eq(stop.code, SEGV_ACCERR);
	ck_assert_uint_eq(stop.addr, code_addr);
}
END_TEST

START_TEST(interrupt_before_run)
{
	struct ward_regs regs = { 0 };
	struct ward_stop stop;
	ward_ctx_interrupt(ctx);
	ck_assert_int_eq(ward_ctx_run(ctx, ward_as_platform(as), &regs, NULL, &stop), 0);
	ck_assert_int_eq(stop.kind, WARD_STOP_INTERRUPT);
}
END_TEST

START_TEST(copy_checks_protection)
{
	uint64_t off;
	char buf[8] = "abcdefg";
	ck_assert_int_eq(ward_memfile_alloc(2 * WARD_PAGE_SIZE, &off), 0);
	ck_assert_int_eq(ward_as_map(as, gaddr(0x10000), 2 * WARD_PAGE_SIZE, WARD_PROT_READ, off), 0);
	ck_assert_int_eq(ward_copy_out(as, gaddr(0x10000), buf, 8), -EFAULT);
	ck_assert_int_eq(ward_copy_in(as, buf, gaddr(0x10000), 8), 0);
	ck_assert_int_eq(ward_copy_in(as, buf, gaddr(0x10000 + 2 * WARD_PAGE_SIZE - 4), 8), -EFAULT);
	ck_assert_int_eq(ward_as_unmap(as, gaddr(0x10000), WARD_PAGE_SIZE), 0);
	ck_assert_int_eq(ward_copy_in(as, buf, gaddr(0x10000), 1), -EFAULT);
	ck_assert_int_eq(ward_copy_in(as, buf, gaddr(0x11000), 8), 0);
	ck_assert_int_eq(ward_copy_in(as, buf, gaddr(UINT64_MAX - 3), 8), -EFAULT);
}
END_TEST

START_TEST(fpstate_round_trip)
{
	/* movq %rax, %xmm0; syscall */
	static const uint8_t code[] = { 0x66, 0x48, 0x0f, 0x6e, 0xc0, 0x0f, 0x05 };
	struct ward_regs regs = { 0 };
	struct ward_stop stop;
	static struct ward_fpstate fp;

	map_code(code, sizeof(code));
	ward_fpstate_init(&fp);
	regs.rip = code_addr;
	regs.rax = 0x1122334455667788ULL;
	regs.cs = 0x33;
	regs.ss = 0x2b;
	regs.eflags = 0x202;
	ck_assert_int_eq(ward_ctx_run(ctx, ward_as_platform(as), &regs, &fp, &stop), 0);
	ck_assert_int_eq(stop.kind, WARD_STOP_SYSCALL);
	/* xmm0 sits at offset 160 of the legacy XSAVE area. */
	uint64_t xmm0;
	memcpy(&xmm0, fp.bytes + 160, sizeof(xmm0));
	ck_assert_uint_eq(xmm0, 0x1122334455667788ULL);
}
END_TEST

START_TEST(map_refuses_free_memory)
{
	uint64_t off;
	ck_assert_int_eq(ward_memfile_alloc(2 * WARD_PAGE_SIZE, &off), 0);
	ward_memfile_free(off + WARD_PAGE_SIZE, WARD_PAGE_SIZE);
	/* Half of the range is free again: no guest may see it. */
	ck_assert_int_eq(ward_as_map(as, gaddr(0x20000), 2 * WARD_PAGE_SIZE, WARD_PROT_READ, off), -EINVAL);
	ck_assert_int_eq(ward_as_map(as, gaddr(0x20000), WARD_PAGE_SIZE, WARD_PROT_READ, off), 0);
	ck_assert_int_eq(ward_as_map(as, gaddr(0x7fffffff0000), WARD_PAGE_SIZE, WARD_PROT_READ, off), -EINVAL);
	ck_assert_int_eq(ward_as_map(as, gaddr(0x20001), WARD_PAGE_SIZE, WARD_PROT_READ, off), -EINVAL);
}
END_TEST

static Suite *platform_suite(void)
{
	Suite *s = suite_create("platform");
	TCase *tc = tcase_create("ptrace");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, syscall_stops_in_sentry);
	tcase_add_test(tc, fault_reports_address);
	tcase_add_test(tc, write_to_readonly_is_accerr);
	tcase_add_test(tc, interrupt_before_run);
	tcase_add_test(tc, copy_checks_protection);
	tcase_add_test(tc, fpstate_round_trip);
	tcase_add_test(tc, map_refuses_free_memory);
	suite_add_tcase(s, tc);
	return s;
}

WARD_UNIT_MAIN(platform_suite)
