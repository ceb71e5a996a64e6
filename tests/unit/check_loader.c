/* The ELF loader's checks: real binaries pass, every malformed or
 * truncated header is -ENOEXEC (and never a crash), and "#!" lines parse as
 * Linux's binfmt_script parses them. Loading itself needs a guest and is
 * tested end to end (tests/programs). */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/loader/loader.h"

#include "unit.h"

static char errbuf[256];

/* Reads a whole file of the host, or returns NULL (the test then skips). */
static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	unsigned char *b = malloc(cap);
	size_t got;
	while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			b = realloc(b, cap);
		}
	}
	fclose(f);
	*len = n;
	return b;
}

static unsigned char *bin_true;
static size_t bin_true_len;

static void setup(void)
{
	bin_true = slurp("/bin/true", &bin_true_len);
	if (!bin_true)
		bin_true = slurp("/usr/bin/true", &bin_true_len);
	ck_assert_msg(bin_true != NULL, "cannot read /bin/true");
}

static void teardown(void)
{
	free(bin_true);
	bin_true = NULL;
}

static long check(const void *buf, size_t len, uint64_t file_size, struct loader_elf_info *info)
{
	errbuf[0] = 0;
	long r = loader_check_elf("/test", buf, len, file_size, info, errbuf, sizeof(errbuf));
	if (r == 0)
		loader_elf_info_release(info);
	return r;
}

static long check_copy(const unsigned char *buf, size_t len)
{
	struct loader_elf_info info;
	return check(buf, len, len, &info);
}

static unsigned char *dup_true(void)
{
	unsigned char *c = malloc(bin_true_len);
	ck_assert_ptr_nonnull(c);
	memcpy(c, bin_true, bin_true_len);
	return c;
}

static Elf64_Phdr *phdr(unsigned char *b, size_t i)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	return (Elf64_Phdr *)(b + eh->e_phoff + i * sizeof(Elf64_Phdr));
}

static Elf64_Phdr *find_phdr(unsigned char *b, uint32_t type)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	for (size_t i = 0; i < eh->e_phnum; i++)
		if (phdr(b, i)->p_type == type)
			return phdr(b, i);
	return NULL;
}

/* The end of the file bytes the PT_LOADs map. */
static uint64_t loads_end(const unsigned char *b)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)b;
	uint64_t end = eh->e_phoff + eh->e_phnum * sizeof(Elf64_Phdr);
	for (size_t i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = (const Elf64_Phdr *)(b + eh->e_phoff + i * sizeof(Elf64_Phdr));
		if (p->p_type == PT_LOAD && p->p_offset + p->p_filesz > end)
			end = p->p_offset + p->p_filesz;
	}
	return end;
}

START_TEST(real_binary_passes)
{
	struct loader_elf_info info;
	ck_assert_int_eq(
		loader_check_elf("/bin/true", bin_true, bin_true_len, bin_true_len, &info, errbuf, sizeof(errbuf)), 0);
	ck_assert(info.type == ET_DYN || info.type == ET_EXEC);
	ck_assert_uint_ge(info.nload, 1);
	ck_assert_uint_eq(info.phentsize, sizeof(Elf64_Phdr));
	ck_assert_uint_eq(info.min_vaddr % 4096, 0);
	ck_assert_uint_gt(info.max_vaddr, info.min_vaddr);
	ck_assert_uint_ge(info.align, 4096);
	ck_assert_uint_ne(info.entry, 0);
	if (info.has_interp) {
		/* a dynamic /bin/true: ld.so's path, read from the buffer */
		ck_assert(!info.interp_pending);
		ck_assert_msg(strstr(info.interp, "ld-") != NULL, "interp %s", info.interp);
		ck_assert_uint_ne(info.phdr_vaddr, 0);
	}
	loader_elf_info_release(&info);
	ck_assert_ptr_null(info.loads);
}
END_TEST

START_TEST(interpreter_passes)
{
	size_t len;
	unsigned char *b = slurp("/lib64/ld-linux-x86-64.so.2", &len);
	if (!b)
		return;
	struct loader_elf_info info;
	ck_assert_int_eq(check(b, len, len, &info), 0);
	free(b);
}
END_TEST

/* Only the first page read: the headers are there, PT_INTERP too, and the
 * segments are checked against the whole file's size. */
START_TEST(first_page_of_file_passes)
{
	struct loader_elf_info info;
	ck_assert_uint_gt(bin_true_len, 4096);
	ck_assert_int_eq(check(bin_true, 4096, bin_true_len, &info), 0);
}
END_TEST

START_TEST(truncated_copies_fail)
{
	uint64_t need = loads_end(bin_true);
	size_t lens[] = { 0, 1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 100, 119, 120, 200, 500, 1000, 4095, 4096 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		if (lens[i] >= need)
			continue;
		ck_assert_int_eq(check_copy(bin_true, lens[i]), -ENOEXEC);
		ck_assert(errbuf[0] != 0);
	}
	/* Every length, in steps: ENOEXEC below the segments' end, never a
	 * crash, and success once all the mapped bytes are there. */
	for (size_t len = 0; len <= bin_true_len; len += 61) {
		long r = check_copy(bin_true, len);
		if (len < need)
			ck_assert_int_eq(r, -ENOEXEC);
		else
			ck_assert_int_eq(r, 0);
	}
	ck_assert_int_eq(check_copy(bin_true, need - 1), -ENOEXEC);
	ck_assert_int_eq(check_copy(bin_true, need), 0);
	/* A short read of a whole file: headers missing from the buffer. */
	struct loader_elf_info info;
	ck_assert_int_eq(check(bin_true, 70, bin_true_len, &info), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(errbuf, "truncated"));
}
END_TEST

START_TEST(wrong_machine_fails)
{
	unsigned char *b = dup_true();
	((Elf64_Ehdr *)b)->e_machine = EM_AARCH64;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(errbuf, "/test: malformed ELF:"));
	ck_assert_ptr_nonnull(strstr(errbuf, "x86-64"));
	((Elf64_Ehdr *)b)->e_machine = EM_386;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	free(b);
}
END_TEST

START_TEST(wrong_ident_fails)
{
	unsigned char *b = dup_true();
	b[EI_CLASS] = ELFCLASS32;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(errbuf, "64-bit"));
	b[EI_CLASS] = ELFCLASS64;
	b[EI_DATA] = ELFDATA2MSB;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	b[EI_DATA] = ELFDATA2LSB;
	b[EI_VERSION] = 7;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	b[EI_VERSION] = EV_CURRENT;
	b[0] = 0x7e;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(errbuf, "not an ELF"));
	b[0] = 0x7f;
	((Elf64_Ehdr *)b)->e_type = ET_REL;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	((Elf64_Ehdr *)b)->e_type = ET_CORE;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	free(b);
}
END_TEST

START_TEST(phdrs_outside_file_fail)
{
	unsigned char *b = dup_true();
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	eh->e_phoff = bin_true_len - 10;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(errbuf, "outside the file"));
	eh->e_phoff = UINT64_MAX - 8; /* overflows with the size */
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	free(b);
}
END_TEST

START_TEST(bad_phnum_and_phentsize_fail)
{
	unsigned char *b = dup_true();
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	uint16_t phnum = eh->e_phnum;
	eh->e_phnum = 0xffff; /* PN_XNUM: extended numbering, not for exec */
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	eh->e_phnum = 2000; /* 112000 bytes of headers */
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(errbuf, "too many"));
	eh->e_phnum = 0;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	eh->e_phnum = phnum;
	eh->e_phentsize = 32;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	ck_assert_int_eq(check_copy(b, bin_true_len), 0);
	free(b);
}
END_TEST

START_TEST(segment_checks_fail)
{
	unsigned char *b = dup_true();
	Elf64_Phdr *load = find_phdr(b, PT_LOAD);
	ck_assert_ptr_nonnull(load);
	Elf64_Phdr saved = *load;

	load->p_filesz = load->p_memsz + 1;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(errbuf, "file size larger"));
	*load = saved;

	load->p_offset = bin_true_len;
	load->p_vaddr = saved.p_vaddr + (bin_true_len % 4096) - (saved.p_offset % 4096);
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(errbuf, "outside the file"));
	*load = saved;

	load->p_offset = UINT64_MAX - 4095 + (saved.p_vaddr % 4096);
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	*load = saved;

	load->p_vaddr = UINT64_MAX - 100;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	*load = saved;

	load->p_vaddr = (1ULL << 47) - 4096 + (saved.p_offset % 4096);
	load->p_memsz = 8192;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(errbuf, "address space"));
	*load = saved;

	load->p_vaddr = saved.p_vaddr + 1; /* no longer congruent with the offset */
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(errbuf, "congruent"));
	*load = saved;

	/* No PT_LOAD at all. */
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	for (size_t i = 0; i < eh->e_phnum; i++)
		if (phdr(b, i)->p_type == PT_LOAD)
			phdr(b, i)->p_type = PT_NOTE;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(errbuf, "no loadable"));
	free(b);
}
END_TEST

START_TEST(bad_interp_fails)
{
	unsigned char *b = dup_true();
	Elf64_Phdr *interp = find_phdr(b, PT_INTERP);
	if (!interp) {
		free(b);
		return; /* a static /bin/true */
	}
	Elf64_Phdr saved = *interp;
	b[interp->p_offset + interp->p_filesz - 1] = 'x';
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(errbuf, "NUL"));
	b[interp->p_offset + interp->p_filesz - 1] = 0;
	ck_assert_int_eq(check_copy(b, bin_true_len), 0);

	interp->p_filesz = 5000; /* > PATH_MAX */
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	interp->p_filesz = 1;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	*interp = saved;
	interp->p_offset = bin_true_len - 2;
	ck_assert_int_eq(check_copy(b, bin_true_len), -ENOEXEC);
	*interp = saved;

	/* Beyond the buffer but inside the file: left for the caller. */
	struct loader_elf_info info;
	interp->p_offset = bin_true_len - saved.p_filesz;
	memcpy(b + interp->p_offset, bin_true + saved.p_offset, saved.p_filesz);
	ck_assert_int_eq(loader_check_elf("/test", b, 4096, bin_true_len, &info, errbuf, sizeof(errbuf)), 0);
	ck_assert(info.has_interp && info.interp_pending);
	ck_assert_uint_eq(info.interp_off, bin_true_len - saved.p_filesz);
	ck_assert_int_eq(
		loader_check_interp("/test", b + info.interp_off, info.interp_len, &info, errbuf, sizeof(errbuf)), 0);
	ck_assert_str_eq(info.interp, (const char *)bin_true + saved.p_offset);
	loader_elf_info_release(&info);
	ck_assert_int_eq(loader_check_interp("/test", "abc", 3, &info, errbuf, sizeof(errbuf)), -ENOEXEC);
	free(b);
}
END_TEST

/* A minimal static ET_EXEC built here, for the cases /bin/true cannot show. */
static size_t tiny_elf(unsigned char *b, size_t cap)
{
	memset(b, 0, cap);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0x401000;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 2;
	Elf64_Phdr *p = (Elf64_Phdr *)(b + eh->e_phoff);
	p[0].p_type = PT_LOAD;
	p[0].p_flags = PF_R | PF_X;
	p[0].p_offset = 0;
	p[0].p_vaddr = 0x400000;
	p[0].p_filesz = 0x1010;
	p[0].p_memsz = 0x1010;
	p[0].p_align = 0x1000;
	p[1].p_type = PT_LOAD;
	p[1].p_flags = PF_R | PF_W;
	p[1].p_offset = 0x1010;
	p[1].p_vaddr = 0x402010;
	p[1].p_filesz = 0x10;
	p[1].p_memsz = 0x3000;
	p[1].p_align = 0x200000;
	return 0x1020;
}

START_TEST(tiny_static_exec)
{
	unsigned char b[0x2000];
	size_t len = tiny_elf(b, sizeof(b));
	struct loader_elf_info info;
	ck_assert_int_eq(loader_check_elf("/tiny", b, len, len, &info, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(info.type, ET_EXEC);
	ck_assert(!info.has_interp);
	ck_assert_uint_eq(info.nload, 2);
	ck_assert_uint_eq(info.min_vaddr, 0x400000);
	ck_assert_uint_eq(info.max_vaddr, 0x405010);
	ck_assert_uint_eq(info.align, 0x200000);
	ck_assert_uint_eq(info.phdr_vaddr, 0x400040); /* the headers, in the first PT_LOAD */
	ck_assert_int_eq(info.loads[0].prot, 0x5);
	ck_assert_int_eq(info.loads[1].prot, 0x3);
	ck_assert(!info.exec_stack);
	loader_elf_info_release(&info);

	/* A PT_PHDR alone names AT_PHDR when no PT_LOAD maps the headers. */
	Elf64_Phdr *p = (Elf64_Phdr *)(b + sizeof(Elf64_Ehdr));
	p[0].p_offset = 0x1000;
	p[0].p_vaddr = 0x401000;
	p[0].p_filesz = p[0].p_memsz = 0x10;
	ck_assert_int_eq(loader_check_elf("/tiny", b, len, len, &info, errbuf, sizeof(errbuf)), 0);
	ck_assert_uint_eq(info.phdr_vaddr, 0);
	loader_elf_info_release(&info);
}
END_TEST

/* Random bytes, with and without a valid identification, and random
 * corruption of a real header: -ENOEXEC or success, never a crash. */
START_TEST(garbage_never_crashes)
{
	unsigned int seed = 12345;
	unsigned char *b = malloc(8192);
	ck_assert_ptr_nonnull(b);
	for (int iter = 0; iter < 3000; iter++) {
		size_t len = (size_t)rand_r(&seed) % 8192;
		for (size_t i = 0; i < len; i++)
			b[i] = (unsigned char)rand_r(&seed);
		if (iter % 2 && len >= 64) {
			memcpy(b, ELFMAG, SELFMAG);
			b[EI_CLASS] = ELFCLASS64;
			b[EI_DATA] = ELFDATA2LSB;
			b[EI_VERSION] = EV_CURRENT;
			Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
			eh->e_machine = EM_X86_64;
			eh->e_type = ET_DYN;
			eh->e_phentsize = sizeof(Elf64_Phdr);
			eh->e_phoff = (uint64_t)rand_r(&seed) % 256;
			eh->e_phnum = (uint16_t)(rand_r(&seed) % 64);
		}
		long r = check_copy(b, len);
		ck_assert(r == 0 || r == -ENOEXEC);
	}
	/* Corrupt a few bytes of /bin/true's headers at a time. */
	size_t hl = bin_true_len < 4096 ? bin_true_len : 4096;
	for (int iter = 0; iter < 3000; iter++) {
		memcpy(b, bin_true, hl);
		int n = 1 + rand_r(&seed) % 8;
		for (int k = 0; k < n; k++)
			b[(size_t)rand_r(&seed) % (iter % 3 ? 64 + 13 * 56 : hl)] = (unsigned char)rand_r(&seed);
		struct loader_elf_info info;
		long r = check(b, hl, bin_true_len, &info);
		ck_assert(r == 0 || r == -ENOEXEC);
	}
	free(b);
}
END_TEST

START_TEST(shebang_parses)
{
	struct loader_shebang sb;
#define PARSE(s) loader_parse_shebang((s), strlen(s), &sb)
	ck_assert_int_eq(PARSE("\x7f"
			       "ELF"),
			 0);
	ck_assert_int_eq(PARSE(""), 0);
	ck_assert_int_eq(PARSE("#"), 0);
	ck_assert_int_eq(PARSE("# !/bin/sh\n"), 0);

	ck_assert_int_eq(PARSE("#!/bin/sh\necho hi\n"), 1);
	ck_assert_str_eq(sb.name, "/bin/sh");
	ck_assert(!sb.has_arg);

	ck_assert_int_eq(PARSE("#!/bin/sh"), 1); /* no newline, short file */
	ck_assert_str_eq(sb.name, "/bin/sh");
	ck_assert(!sb.has_arg);

	ck_assert_int_eq(PARSE("#! \t/usr/bin/env  python3 -u \t\nprint(1)\n"), 1);
	ck_assert_str_eq(sb.name, "/usr/bin/env");
	ck_assert(sb.has_arg);
	ck_assert_str_eq(sb.arg, "python3 -u"); /* one argument, inner blanks kept */

	ck_assert_int_eq(PARSE("#!/bin/sh -e\n"), 1);
	ck_assert_str_eq(sb.arg, "-e");
	ck_assert_int_eq(PARSE("#!/bin/sh\t-x\n"), 1);
	ck_assert_str_eq(sb.name, "/bin/sh");
	ck_assert_str_eq(sb.arg, "-x");
	ck_assert_int_eq(PARSE("#!/bin/sh \n"), 1);
	ck_assert(!sb.has_arg);
	ck_assert_int_eq(PARSE("#!/bin/sh\r\n"), 1); /* \r is part of the name, as on Linux */
	ck_assert_str_eq(sb.name, "/bin/sh\r");

	ck_assert_int_eq(PARSE("#!\n"), -ENOEXEC);
	ck_assert_int_eq(PARSE("#!   \t \n"), -ENOEXEC);
	/* "#!" alone names the empty interpreter; opening it gives ENOENT. */
	ck_assert_int_eq(PARSE("#!"), 1);
	ck_assert_str_eq(sb.name, "");

	/* A NUL ends the line: what follows is not looked at. */
	static const char withnul[] = "#!/bin/sh\0-e\n";
	ck_assert_int_eq(loader_parse_shebang(withnul, sizeof(withnul) - 1, &sb), 1);
	ck_assert_str_eq(sb.name, "/bin/sh");
	ck_assert(!sb.has_arg);
#undef PARSE
}
END_TEST

START_TEST(shebang_long_lines)
{
	struct loader_shebang sb;
	char line[600];

	/* An interpreter name that does not end in the first 256 bytes. */
	strcpy(line, "#!/bin/");
	memset(line + 7, 'a', 400);
	strcpy(line + 407, "\n");
	ck_assert_int_eq(loader_parse_shebang(line, strlen(line), &sb), -ENOEXEC);
	/* The same, exactly filling the buffer. */
	ck_assert_int_eq(loader_parse_shebang(line, LOADER_BINPRM_BUF_SIZE, &sb), -ENOEXEC);

	/* A short name and a long argument: the argument is cut (Linux 5.1+). */
	strcpy(line, "#!/bin/sh ");
	memset(line + 10, 'x', 400);
	strcpy(line + 410, "\n");
	ck_assert_int_eq(loader_parse_shebang(line, strlen(line), &sb), 1);
	ck_assert_str_eq(sb.name, "/bin/sh");
	ck_assert(sb.has_arg);
	ck_assert_uint_eq(strlen(sb.arg), LOADER_BINPRM_BUF_SIZE - 1 - 10);

	/* A name of 253 bytes ending just before the buffer does. */
	memset(line, 0, sizeof(line));
	strcpy(line, "#!");
	memset(line + 2, 'n', 253);
	line[255] = ' ';
	memset(line + 256, 'z', 100);
	ck_assert_int_eq(loader_parse_shebang(line, 356, &sb), 1);
	ck_assert_uint_eq(strlen(sb.name), 253);
	ck_assert(!sb.has_arg);
}
END_TEST

static Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("elf");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, real_binary_passes);
	tcase_add_test(tc, interpreter_passes);
	tcase_add_test(tc, first_page_of_file_passes);
	tcase_add_test(tc, truncated_copies_fail);
	tcase_add_test(tc, wrong_machine_fails);
	tcase_add_test(tc, wrong_ident_fails);
	tcase_add_test(tc, phdrs_outside_file_fail);
	tcase_add_test(tc, bad_phnum_and_phentsize_fail);
	tcase_add_test(tc, segment_checks_fail);
	tcase_add_test(tc, bad_interp_fails);
	tcase_add_test(tc, tiny_static_exec);
	tcase_add_test(tc, garbage_never_crashes);
	suite_add_tcase(s, tc);
	TCase *ts = tcase_create("script");
	tcase_add_test(ts, shebang_parses);
	tcase_add_test(ts, shebang_long_lines);
	suite_add_tcase(s, ts);
	return s;
}

WARD_UNIT_MAIN(loader_suite)
