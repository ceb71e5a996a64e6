/* The ELF loader: execve's image half, after Linux's fs/binfmt_elf.c,
 * fs/binfmt_script.c and fs/exec.c (the spec; the code is our own).
 *
 * loader_load opens the file, follows "#!" interpreters, checks the ELF
 * headers (loader_check_elf: pure, unit-tested), maps the PT_LOAD segments
 * and the PT_INTERP interpreter through mm_mmap, and writes the initial
 * stack (strings, AT_RANDOM bytes, auxv, envp, argv, argc) with the core's
 * copy helpers.
 *
 * Include order: libelf.h and gelf.h come BEFORE the service prelude, an
 * exception to the rule. They include glibc's <elf.h>, whose ELF32_ST_INFO
 * macro names a parameter "bind", a name the prelude poisons; past the
 * prelude they do not compile. They are pure parsing code: this file only
 * uses elf_memory on a sentry buffer, never elf_begin on a descriptor. */
#include <gelf.h>
#include <libelf.h>

#include "sentry/service.h"

#include "fs/vfs.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "ward/vdso.h"

#define PAGE WARD_PAGE_SIZE
#define PAGE_DOWN(x) WARD_PAGE_ALIGN_DOWN(x)
#define PAGE_UP(x) WARD_PAGE_ALIGN_UP(x)

/* Largest p_align honoured when placing an ET_DYN image (Linux honours any;
 * past this the randomisation would have no room). */
#define MAX_SEGMENT_ALIGN (1UL << 30)
/* How far into a file the program headers may end for loader_load to read
 * them (they are at offset 64 in practice). */
#define MAX_HEADER_READ (16UL << 20)
/* RLIMIT_STACK's index and default (_STK_LIM). */
#define RLIMIT_STACK_INDEX 3
#define DEFAULT_STACK_LIMIT (8UL << 20)
/* The stack's room below the arguments at exec (Linux's stack_expand). */
#define STACK_EXPAND (128UL << 10)
/* AT_HWCAP: CPUID.1:EDX of a common x86-64 CPU (a service cannot run
 * CPUID; glibc reads CPUID itself and does not depend on this value). */
#define HWCAP_X86_64 0x178bfbffUL
#define PLATFORM_STRING "x86_64"
#define CLOCK_TICKS 100

/* ---------------------------------------------------------------- checks */

static long malformed(const char *name, char *errbuf, size_t errlen, const char *what)
{
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s: malformed ELF: %s", name, what);
	return -ENOEXEC;
}

static bool add_overflows(uint64_t a, uint64_t b, uint64_t *sum)
{
	return __builtin_add_overflow(a, b, sum);
}

static int prot_from_flags(uint32_t p_flags)
{
	return (p_flags & PF_R ? PROT_READ : 0) | (p_flags & PF_W ? PROT_WRITE : 0) | (p_flags & PF_X ? PROT_EXEC : 0);
}

void loader_elf_info_release(struct loader_elf_info *info)
{
	if (!info)
		return;
	free(info->loads);
	info->loads = NULL;
	info->nload = 0;
}

long loader_check_interp(const char *name, const void *bytes, size_t len, struct loader_elf_info *info, char *errbuf,
			 size_t errlen)
{
	/* Linux: 2 <= p_filesz <= PATH_MAX, and the last byte is NUL; the
	 * name is what precedes the first NUL. */
	if (len < 2 || len > LOADER_PATH_MAX)
		return malformed(name, errbuf, errlen, "bad PT_INTERP size");
	const char *s = bytes;
	if (s[len - 1] != '\0')
		return malformed(name, errbuf, errlen, "PT_INTERP not NUL-terminated");
	if (s[0] == '\0')
		return malformed(name, errbuf, errlen, "empty PT_INTERP");
	memcpy(info->interp, s, len);
	info->interp_pending = false;
	return 0;
}

/* The ELF identification bytes and the raw header, before libelf sees the
 * file: libelf accepts 32-bit and big-endian files, which we do not. */
static long check_ident(const char *name, const unsigned char *b, size_t buflen, char *errbuf, size_t errlen)
{
	if (buflen < SELFMAG || memcmp(b, ELFMAG, SELFMAG) != 0)
		return malformed(name, errbuf, errlen, "not an ELF file");
	if (buflen < EI_NIDENT)
		return malformed(name, errbuf, errlen, "truncated ELF header");
	if (b[EI_CLASS] != ELFCLASS64)
		return malformed(name, errbuf, errlen, "not a 64-bit ELF file");
	if (b[EI_DATA] != ELFDATA2LSB)
		return malformed(name, errbuf, errlen, "not a little-endian ELF file");
	if (b[EI_VERSION] != EV_CURRENT)
		return malformed(name, errbuf, errlen, "unknown ELF version");
	if (buflen < sizeof(Elf64_Ehdr))
		return malformed(name, errbuf, errlen, "truncated ELF header");
	return 0;
}

/* Checks one PT_LOAD and appends it to info->loads. */
static long check_load(const char *name, const GElf_Phdr *ph, uint64_t file_size, struct loader_elf_info *info,
		       char *errbuf, size_t errlen)
{
	uint64_t end;
	if (ph->p_filesz > ph->p_memsz)
		return malformed(name, errbuf, errlen, "segment file size larger than its memory size");
	if (add_overflows(ph->p_offset, ph->p_filesz, &end) || end > file_size)
		return malformed(name, errbuf, errlen, "segment outside the file");
	if (add_overflows(ph->p_vaddr, ph->p_memsz, &end) || end > LOADER_VADDR_LIMIT)
		return malformed(name, errbuf, errlen, "segment outside the address space");
	if (ph->p_offset % PAGE != ph->p_vaddr % PAGE)
		return malformed(name, errbuf, errlen, "segment offset and address not congruent modulo the page size");

	struct loader_segment *s = &info->loads[info->nload++];
	s->vaddr = ph->p_vaddr;
	s->memsz = ph->p_memsz;
	s->offset = ph->p_offset;
	s->filesz = ph->p_filesz;
	s->prot = prot_from_flags(ph->p_flags);

	if (info->nload == 1 || PAGE_DOWN(ph->p_vaddr) < info->min_vaddr)
		info->min_vaddr = PAGE_DOWN(ph->p_vaddr);
	if (end > info->max_vaddr)
		info->max_vaddr = end;
	/* Linux's maximum_alignment: power-of-two alignments only. */
	if (ph->p_align > info->align && ph->p_align <= MAX_SEGMENT_ALIGN && (ph->p_align & (ph->p_align - 1)) == 0)
		info->align = ph->p_align;
	return 0;
}

static long check_phdrs(const char *name, Elf *elf, const unsigned char *b, size_t buflen, uint64_t file_size,
			struct loader_elf_info *info, char *errbuf, size_t errlen)
{
	bool have_pt_phdr = false;
	uint64_t pt_phdr_vaddr = 0;

	info->loads = calloc(info->phnum, sizeof(*info->loads));
	if (!info->loads)
		return -ENOMEM;
	info->align = PAGE;
	for (size_t i = 0; i < info->phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph))
			return malformed(name, errbuf, errlen, "unreadable program header");
		uint64_t end;
		long r;
		switch (ph.p_type) {
		case PT_LOAD:
			r = check_load(name, &ph, file_size, info, errbuf, errlen);
			if (r < 0)
				return r;
			break;
		case PT_INTERP:
			if (info->has_interp)
				break; /* Linux uses the first */
			if (ph.p_filesz < 2 || ph.p_filesz > LOADER_PATH_MAX)
				return malformed(name, errbuf, errlen, "bad PT_INTERP size");
			if (add_overflows(ph.p_offset, ph.p_filesz, &end) || end > file_size)
				return malformed(name, errbuf, errlen, "PT_INTERP outside the file");
			info->has_interp = true;
			info->interp_off = ph.p_offset;
			info->interp_len = ph.p_filesz;
			if (end <= buflen) {
				r = loader_check_interp(name, b + ph.p_offset, ph.p_filesz, info, errbuf, errlen);
				if (r < 0)
					return r;
			} else {
				info->interp_pending = true;
			}
			break;
		case PT_PHDR:
			have_pt_phdr = true;
			pt_phdr_vaddr = ph.p_vaddr;
			break;
		case PT_GNU_STACK:
			info->exec_stack = (ph.p_flags & PF_X) != 0;
			break;
		default:
			break;
		}
	}
	if (info->nload == 0)
		return malformed(name, errbuf, errlen, "no loadable segment");
	/* AT_PHDR: the PT_LOAD that maps e_phoff (Linux 6.x), else PT_PHDR. */
	uint64_t phsize = (uint64_t)info->phnum * info->phentsize;
	for (size_t i = 0; i < info->nload; i++) {
		const struct loader_segment *s = &info->loads[i];
		if (s->offset <= info->phoff && info->phoff + phsize <= s->offset + s->filesz) {
			info->phdr_vaddr = info->phoff - s->offset + s->vaddr;
			return 0;
		}
	}
	if (have_pt_phdr)
		info->phdr_vaddr = pt_phdr_vaddr;
	return 0;
}

long loader_check_elf(const char *name, const void *buf, size_t buflen, uint64_t file_size,
		      struct loader_elf_info *info, char *errbuf, size_t errlen)
{
	const unsigned char *b = buf;
	Elf64_Ehdr eh;
	long r;

	memset(info, 0, sizeof(*info));
	if (buflen > file_size)
		buflen = file_size;
	r = check_ident(name, b, buflen, errbuf, errlen);
	if (r < 0)
		return r;
	memcpy(&eh, b, sizeof(eh));
	if (eh.e_machine != EM_X86_64)
		return malformed(name, errbuf, errlen, "not an x86-64 executable");
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return malformed(name, errbuf, errlen, "not an executable or shared object");
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return malformed(name, errbuf, errlen, "bad program header size");
	if (eh.e_phnum == 0)
		return malformed(name, errbuf, errlen, "no program headers");
	if ((uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > LOADER_MAX_PHDR_BYTES)
		return malformed(name, errbuf, errlen, "too many program headers");
	uint64_t phend;
	if (add_overflows(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), &phend) || phend > file_size)
		return malformed(name, errbuf, errlen, "program headers outside the file");
	if (phend > buflen)
		return malformed(name, errbuf, errlen, "truncated program headers");

	/* libelf parses a private copy of the headers with the section header
	 * table dropped: the loader does not need sections, and a partly read
	 * file (or a fuzzed one) need not have them in the buffer. */
	size_t copylen = WARD_MAX((size_t)phend, sizeof(Elf64_Ehdr));
	cleanup_free char *copy = malloc(copylen);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, b, copylen);
	Elf64_Ehdr *ceh = (Elf64_Ehdr *)copy;
	ceh->e_shoff = 0;
	ceh->e_shnum = 0;
	ceh->e_shstrndx = SHN_UNDEF;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return malformed(name, errbuf, errlen, "libelf unavailable");
	Elf *elf = elf_memory(copy, copylen);
	if (!elf)
		return malformed(name, errbuf, errlen, elf_errmsg(-1));
	GElf_Ehdr geh;
	size_t phnum = 0;
	if (elf_kind(elf) != ELF_K_ELF || gelf_getclass(elf) != ELFCLASS64 || !gelf_getehdr(elf, &geh) ||
	    elf_getphdrnum(elf, &phnum) != 0 || phnum != eh.e_phnum || geh.e_phoff != eh.e_phoff) {
		elf_end(elf);
		return malformed(name, errbuf, errlen, "unreadable ELF header");
	}
	info->type = geh.e_type;
	info->entry = geh.e_entry;
	info->phoff = geh.e_phoff;
	info->phnum = (uint16_t)phnum;
	info->phentsize = geh.e_phentsize;
	r = check_phdrs(name, elf, b, buflen, file_size, info, errbuf, errlen);
	elf_end(elf);
	if (r < 0) {
		loader_elf_info_release(info);
		return r;
	}
	return 0;
}

/* ---------------------------------------------------------------- #! */

static bool spacetab(char c)
{
	return c == ' ' || c == '\t';
}

static char *next_non_spacetab(char *first, const char *last)
{
	for (; first <= last; first++)
		if (!spacetab(*first))
			return first;
	return NULL;
}

static char *next_terminator(char *first, const char *last)
{
	for (; first <= last; first++)
		if (spacetab(*first) || !*first)
			return first;
	return NULL;
}

long loader_parse_shebang(const void *buf, size_t len, struct loader_shebang *out)
{
	/* The same steps as Linux's load_script, on the same zero-padded
	 * BINPRM_BUF_SIZE buffer. */
	char b[LOADER_BINPRM_BUF_SIZE];
	memset(b, 0, sizeof(b));
	memcpy(b, buf, WARD_MIN(len, sizeof(b)));
	memset(out, 0, sizeof(*out));
	if (b[0] != '#' || b[1] != '!')
		return 0;

	char *buf_end = b + sizeof(b) - 1;
	char *i_end = NULL;
	for (char *p = b; p < b + sizeof(b) && *p; p++) {
		if (*p == '\n') {
			i_end = p;
			break;
		}
	}
	if (!i_end) {
		i_end = next_non_spacetab(b + 2, buf_end);
		if (!i_end)
			return -ENOEXEC; /* only blanks */
		/* No blank or NUL after the name: the name was cut. */
		if (!next_terminator(i_end, buf_end))
			return -ENOEXEC;
		i_end = buf_end;
	}
	while (spacetab(i_end[-1]))
		i_end--;
	char *i_name = next_non_spacetab(b + 2, i_end);
	if (!i_name || i_name == i_end)
		return -ENOEXEC;
	char *i_arg = NULL;
	char *i_sep = next_terminator(i_name, i_end);
	if (i_sep && *i_sep != '\0')
		i_arg = next_non_spacetab(i_sep, i_end);
	*i_end = '\0';
	if (i_sep)
		*i_sep = '\0';
	snprintf(out->name, sizeof(out->name), "%s", i_name);
	if (i_arg) {
		snprintf(out->arg, sizeof(out->arg), "%s", i_arg);
		out->has_arg = true;
	}
	return 1;
}

/* ---------------------------------------------------------------- loading */

/* A vector of owned strings (the argv being rewritten by #! lines). */
struct strvec {
	char **v;
	size_t n;
};

static void strvec_free(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

static long strvec_from(struct strvec *sv, char *const src[])
{
	size_t n = 0;
	while (src && src[n])
		n++;
	sv->v = calloc(n + 1, sizeof(char *));
	if (!sv->v)
		return -ENOMEM;
	for (sv->n = 0; sv->n < n; sv->n++) {
		sv->v[sv->n] = strdup(src[sv->n]);
		if (!sv->v[sv->n])
			return -ENOMEM;
	}
	return 0;
}

/* argv of a script: [name, (arg), path, old argv[1..]], as load_script. */
static long strvec_script(struct strvec *sv, const struct loader_shebang *sb, const char *path)
{
	size_t rest = sv->n > 0 ? sv->n - 1 : 0;
	size_t n = 2 + (sb->has_arg ? 1 : 0) + rest;
	char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	size_t k = 0;
	v[k++] = strdup(sb->name);
	if (sb->has_arg)
		v[k++] = strdup(sb->arg);
	v[k++] = strdup(path);
	bool ok = true;
	for (size_t i = 0; i < k; i++)
		ok = ok && v[i];
	if (!ok) {
		for (size_t i = 0; i < k; i++)
			free(v[i]);
		free(v);
		return -ENOMEM;
	}
	/* Move the old argv[1..] over; argv[0] is dropped. */
	for (size_t i = 1; i < sv->n; i++)
		v[k++] = sv->v[i];
	if (sv->n > 0)
		free(sv->v[0]);
	free(sv->v);
	sv->v = v;
	sv->n = k;
	return 0;
}

static uint64_t random_u64(void)
{
	uint64_t v = 0;
	if (ward_host_getrandom(&v, sizeof(v)) != (long)sizeof(v))
		v = 0;
	return v;
}

/* A random page-aligned offset below max (a power of two, or any value). */
static uint64_t random_pages(uint64_t max)
{
	if (max < PAGE)
		return 0;
	return PAGE_DOWN(random_u64() % max);
}

/* Reads exactly len bytes at off, or fewer at the end of the file. */
static long read_full(struct file *f, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		long r = file_pread(f, (char *)buf + got, len - got, off + got);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (long)got;
}

static void file_putp(struct file **f)
{
	if (*f)
		file_put(*f);
}
#define cleanup_file __attribute__((cleanup(file_putp)))

/* Reads and checks the ELF headers of an open file. */
static long read_elf(struct file *f, const char *name, struct loader_elf_info *info, char *errbuf, size_t errlen)
{
	struct linux_statx st;
	memset(&st, 0, sizeof(st));
	long r = file_getattr(f, &st);
	if (r < 0) {
		snprintf(errbuf, errlen, "%s: cannot stat: %s", name, strerror((int)-r));
		return r;
	}
	uint64_t size = st.stx_size;
	size_t want = (size_t)WARD_MIN(size, (uint64_t)PAGE);
	cleanup_free unsigned char *buf = malloc(WARD_MAX(want, (size_t)1));
	if (!buf)
		return -ENOMEM;
	r = read_full(f, buf, want, 0);
	if (r < 0) {
		snprintf(errbuf, errlen, "%s: cannot read: %s", name, strerror((int)-r));
		return r;
	}
	size_t have = (size_t)r;

	/* Program headers past the first page: read up to their end. */
	if (have >= sizeof(Elf64_Ehdr) && memcmp(buf, ELFMAG, SELFMAG) == 0) {
		Elf64_Ehdr eh;
		memcpy(&eh, buf, sizeof(eh));
		uint64_t phend = eh.e_phoff + (uint64_t)eh.e_phnum * eh.e_phentsize;
		if (phend > have && phend >= eh.e_phoff && phend <= size && phend <= MAX_HEADER_READ) {
			unsigned char *nb = realloc(buf, phend);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			r = read_full(f, buf, phend, 0);
			if (r < 0)
				return r;
			have = (size_t)r;
		}
	}
	r = loader_check_elf(name, buf, have, have < want ? have : size, info, errbuf, errlen);
	if (r < 0)
		return r;
	if (info->interp_pending) {
		char ibuf[LOADER_PATH_MAX];
		r = read_full(f, ibuf, info->interp_len, info->interp_off);
		if (r >= 0 && (uint64_t)r != info->interp_len)
			r = -ENOEXEC;
		if (r >= 0)
			r = loader_check_interp(name, ibuf, info->interp_len, info, errbuf, errlen);
		if (r < 0) {
			if (!errbuf[0])
				snprintf(errbuf, errlen, "%s: cannot read PT_INTERP", name);
			loader_elf_info_release(info);
			return r;
		}
	}
	return 0;
}

/* Maps the PT_LOAD segments of info at bias, as Linux's elf_load: the file
 * pages privately, the tail of the last file page zeroed, and anonymous
 * pages for the rest of p_memsz. Returns the end of the highest segment. */
static long map_segments(struct task *t, struct file *f, const char *name, const struct loader_elf_info *info,
			 uint64_t bias, uint64_t *end_out, char *errbuf, size_t errlen)
{
	static const char zeros[PAGE];
	uint64_t limit = ward_as_user_limit();
	uint64_t high = 0;

	for (size_t i = 0; i < info->nload; i++) {
		const struct loader_segment *s = &info->loads[i];
		if (s->memsz == 0)
			continue;
		uint64_t start = bias + s->vaddr;
		uint64_t page_start = PAGE_DOWN(start);
		uint64_t file_end = start + s->filesz;
		uint64_t mem_end = start + s->memsz;
		long r;
		if (start < bias || mem_end < start || PAGE_UP(mem_end) > limit || PAGE_UP(mem_end) < mem_end) {
			snprintf(errbuf, errlen, "%s: segment outside the address space", name);
			return -ENOMEM;
		}
		uint64_t anon_start = page_start;
		if (s->filesz) {
			uint64_t off = s->offset - (start - page_start);
			r = mm_mmap(t->mm, page_start, PAGE_UP(file_end) - page_start, s->prot, MAP_PRIVATE | MAP_FIXED,
				    f, off);
			if (r < 0) {
				snprintf(errbuf, errlen, "%s: cannot map segment at %#" PRIx64 ": %s", name, page_start,
					 strerror((int)-r));
				return r;
			}
			anon_start = PAGE_UP(file_end);
			/* Zero the rest of the last file page: it is bss. Linux
			 * ignores a failure when the segment is not writable. */
			if (s->memsz > s->filesz && file_end < anon_start) {
				r = ward_copy_out_force(mm_as(t->mm), gaddr(file_end), zeros, anon_start - file_end);
				if (r < 0 && (s->prot & PROT_WRITE)) {
					snprintf(errbuf, errlen, "%s: cannot clear bss", name);
					return r;
				}
			}
		}
		if (PAGE_UP(mem_end) > anon_start) {
			r = mm_mmap(t->mm, anon_start, PAGE_UP(mem_end) - anon_start, s->prot,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
			if (r < 0) {
				snprintf(errbuf, errlen, "%s: cannot map bss at %#" PRIx64 ": %s", name, anon_start,
					 strerror((int)-r));
				return r;
			}
		}
		if (mem_end > high)
			high = mem_end;
	}
	*end_out = high;
	return 0;
}

/* The span an image needs, from its lowest page to its highest. */
static uint64_t image_span(const struct loader_elf_info *info)
{
	return PAGE_UP(info->max_vaddr) - info->min_vaddr;
}

/* Places an image in the mmap region (interpreters, PIEs without one):
 * a free range of its span, aligned to its largest p_align. */
static long place_in_mmap_region(struct task *t, const struct loader_elf_info *info, uint64_t *bias)
{
	uint64_t span = image_span(info);
	uint64_t extra = info->align > PAGE ? info->align - PAGE : 0;
	uint64_t base;
	if (span + extra < span)
		return -ENOMEM;
	long r = mm_find_free(t->mm, span + extra, &base);
	if (r < 0)
		return r;
	/* The top of the free range, as Linux's top-down allocator. */
	base = (base + extra) & ~(info->align - 1);
	*bias = base - info->min_vaddr;
	return 0;
}

/* Linux's ELF_ET_DYN_BASE: two thirds of the address space. */
static uint64_t et_dyn_base(uint64_t limit)
{
	return PAGE_DOWN(limit / 3 * 2);
}

static uint64_t random_range(uint64_t limit)
{
	/* Linux uses 28 bits of pages (1 TiB) for mmap and PIE bases; keep
	 * a smaller address space (a future platform) in proportion. */
	return WARD_MIN(1ULL << 40, limit / 16);
}

struct auxv {
	uint64_t key, val;
};

/* Writes the initial stack as Linux's create_elf_tables lays it out, from
 * the top down: a NULL word, the execfn string, the envp strings, the argv
 * strings; then (after a random pad, 16-aligned) the platform string and
 * the 16 AT_RANDOM bytes; then, 16-aligned at argc, argc, argv, NULL, envp,
 * NULL, auxv. Maps the stack VMA around it. */
struct stack_args {
	const struct strvec *argv;
	const struct strvec *envp;
	const char *execfn;
	uint64_t top;
	bool exec;
	/* for auxv */
	uint64_t phdr, phnum, base, entry, vdso;
};

static long write_stack(struct task *t, const struct stack_args *a, uint64_t *sp_out, char *errbuf, size_t errlen)
{
	size_t argc = a->argv->n, envc = a->envp->n;
	size_t execfn_len = strlen(a->execfn) + 1;
	uint64_t strings = execfn_len;
	for (size_t i = 0; i < argc; i++)
		strings += strlen(a->argv->v[i]) + 1;
	for (size_t i = 0; i < envc; i++)
		strings += strlen(a->envp->v[i]) + 1;

	uint64_t execfn_addr = a->top - 8 - execfn_len;
	uint64_t strings_start = a->top - 8 - strings;
	uint64_t p = strings_start - (random_u64() % 8192);
	p &= ~15UL;
	uint64_t platform_addr = p - sizeof(PLATFORM_STRING);
	uint64_t random_addr = platform_addr - 16;
	p = random_addr;

	const struct creds *c = &t->creds;
	const struct auxv aux[] = {
		/* x86's ARCH_DLINFO comes first; without a vDSO it is
		 * AT_IGNORE, which keeps the layout. */
		{ a->vdso ? AT_SYSINFO_EHDR : AT_IGNORE, a->vdso },
		{ AT_HWCAP, HWCAP_X86_64 },
		{ AT_PAGESZ, PAGE },
		{ AT_CLKTCK, CLOCK_TICKS },
		{ AT_PHDR, a->phdr },
		{ AT_PHENT, sizeof(Elf64_Phdr) },
		{ AT_PHNUM, a->phnum },
		{ AT_BASE, a->base },
		{ AT_FLAGS, 0 },
		{ AT_ENTRY, a->entry },
		{ AT_UID, c->uid },
		{ AT_EUID, c->euid },
		{ AT_GID, c->gid },
		{ AT_EGID, c->egid },
		{ AT_SECURE, c->uid != c->euid || c->gid != c->egid },
		{ AT_RANDOM, random_addr },
		{ AT_HWCAP2, 0 },
		{ AT_EXECFN, execfn_addr },
		{ AT_PLATFORM, platform_addr },
		{ AT_NULL, 0 },
	};
	size_t items = (argc + 1) + (envc + 1) + 1 + 2 * WARD_ARRAY_SIZE(aux);
	uint64_t sp = (p - items * 8) & ~15UL;
	size_t total = (size_t)(a->top - sp);

	/* The stack VMA: the arguments plus Linux's 128 KiB, growing down. */
	uint64_t stack_start = PAGE_DOWN(sp) - STACK_EXPAND;
	long r = mm_mmap(t->mm, stack_start, a->top - stack_start, PROT_READ | PROT_WRITE | (a->exec ? PROT_EXEC : 0),
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, NULL, 0);
	if (r < 0) {
		snprintf(errbuf, errlen, "cannot map the stack: %s", strerror((int)-r));
		return r;
	}

	cleanup_free unsigned char *img = calloc(1, total);
	if (!img)
		return -ENOMEM;
#define AT(addr) (img + ((addr)-sp))
	uint64_t *words = (uint64_t *)img;
	size_t w = 0;
	uint64_t s = strings_start;
	words[w++] = argc;
	for (size_t i = 0; i < argc; i++) {
		size_t l = strlen(a->argv->v[i]) + 1;
		memcpy(AT(s), a->argv->v[i], l);
		words[w++] = s;
		s += l;
	}
	words[w++] = 0;
	uint64_t env_start = s;
	for (size_t i = 0; i < envc; i++) {
		size_t l = strlen(a->envp->v[i]) + 1;
		memcpy(AT(s), a->envp->v[i], l);
		words[w++] = s;
		s += l;
	}
	words[w++] = 0;
	mm_set_args(t->mm, strings_start, env_start, env_start, s);
	for (size_t i = 0; i < WARD_ARRAY_SIZE(aux); i++) {
		words[w++] = aux[i].key;
		words[w++] = aux[i].val;
	}
	memcpy(AT(execfn_addr), a->execfn, execfn_len);
	memcpy(AT(platform_addr), PLATFORM_STRING, sizeof(PLATFORM_STRING));
	uint64_t rnd[2] = { random_u64(), random_u64() };
	memcpy(AT(random_addr), rnd, sizeof(rnd));
#undef AT

	r = ward_copy_out(mm_as(t->mm), gaddr(sp), img, total);
	if (r < 0) {
		snprintf(errbuf, errlen, "cannot write the initial stack");
		return r;
	}
	*sp_out = sp;
	return 0;
}

/* fs/exec.c's limits on the strings: each at most MAX_ARG_STRLEN, all of
 * them (and their pointers) at most a quarter of the stack limit, clamped
 * to [ARG_MAX, 3/4 of _STK_LIM]. */
static long check_arg_limits(struct task *t, const struct strvec *argv, const struct strvec *envp, const char *execfn)
{
	uint64_t stack_lim = t->rlimits[RLIMIT_STACK_INDEX].rlim_cur;
	if (stack_lim == 0)
		stack_lim = DEFAULT_STACK_LIMIT;
	uint64_t limit = WARD_MIN(DEFAULT_STACK_LIMIT / 4 * 3, stack_lim / 4);
	limit = WARD_MAX(limit, LOADER_MAX_ARG_STRLEN);
	uint64_t ptrs = (WARD_MAX(argv->n, (size_t)1) + envp->n) * 8;
	if (limit <= ptrs)
		return -E2BIG;
	limit -= ptrs;
	uint64_t total = strlen(execfn) + 1 + 8;
	const struct strvec *vs[2] = { argv, envp };
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < vs[k]->n; i++) {
			uint64_t l = strlen(vs[k]->v[i]) + 1;
			if (l > LOADER_MAX_ARG_STRLEN)
				return -E2BIG;
			total += l;
		}
	}
	return total > limit ? -E2BIG : 0;
}

/* /proc/self/exe wants an absolute path. */
static char *absolute_path(struct task *t, const char *path)
{
	if (path[0] == '/' || !t->fs)
		return strdup(path);
	const char *cwd = t->fs->cwd;
	size_t n = strlen(cwd), len = n + 1 + strlen(path) + 1;
	char *s = malloc(len);
	if (s)
		snprintf(s, len, "%s%s%s", cwd, n && cwd[n - 1] == '/' ? "" : "/", path);
	return s;
}

static void set_comm(struct task *t, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	snprintf(t->comm, sizeof(t->comm), "%s", base);
}

/* Opens path for exec, following "#!" lines: returns the open ELF file,
 * its path in *elf_path, with argv rewritten. */
static long open_following_scripts(struct task *t, const char *path, struct strvec *argv, struct file **out,
				   char **elf_path, char *errbuf, size_t errlen)
{
	cleanup_free char *cur = strdup(path);
	if (!cur)
		return -ENOMEM;
	for (int depth = 0;; depth++) {
		if (depth > LOADER_MAX_SCRIPT_DEPTH) {
			snprintf(errbuf, errlen, "%s: too many levels of script interpreters", path);
			return -ELOOP;
		}
		struct file *f = NULL;
		long r = vfs_open_exec(t, cur, &f);
		if (r < 0) {
			if (depth == 0)
				snprintf(errbuf, errlen, "%s: %s", cur, strerror((int)-r));
			else
				snprintf(errbuf, errlen, "%s: bad interpreter %s: %s", path, cur, strerror((int)-r));
			return r;
		}
		char head[LOADER_BINPRM_BUF_SIZE];
		r = read_full(f, head, sizeof(head), 0);
		if (r < 0) {
			snprintf(errbuf, errlen, "%s: cannot read: %s", cur, strerror((int)-r));
			file_put(f);
			return r;
		}
		struct loader_shebang sb;
		r = loader_parse_shebang(head, (size_t)r, &sb);
		if (r == 0) {
			*out = f;
			*elf_path = steal_pointer(&cur);
			return 0;
		}
		file_put(f);
		if (r < 0) {
			snprintf(errbuf, errlen, "%s: bad #! line", cur);
			return r;
		}
		/* The script's own path as execve named it replaces argv[0]. */
		r = strvec_script(argv, &sb, cur);
		if (r < 0)
			return r;
		free(cur);
		cur = strdup(sb.name);
		if (!cur)
			return -ENOMEM;
	}
}

long loader_load(struct task *t, const char *path, char *const argv[], char *const envp[], struct loader_result *out,
		 char *errbuf, size_t errlen)
{
	struct strvec av = { 0 }, ev = { 0 };
	struct loader_elf_info exe = { 0 }, interp = { 0 };
	cleanup_file struct file *f = NULL;
	cleanup_file struct file *fi = NULL;
	cleanup_free char *elf_path = NULL;
	char dummy[1];
	long r;

	if (!errbuf || !errlen) {
		errbuf = dummy;
		errlen = sizeof(dummy);
	}
	errbuf[0] = '\0';

	r = strvec_from(&av, argv);
	if (r == 0)
		r = strvec_from(&ev, envp);
	if (r < 0)
		goto out;
	r = open_following_scripts(t, path, &av, &f, &elf_path, errbuf, errlen);
	if (r < 0)
		goto out;
	/* Linux 5.18+: an empty argv gets "" as argv[0]. */
	if (av.n == 0) {
		free(av.v);
		char *const empty[] = { "", NULL };
		r = strvec_from(&av, empty);
		if (r < 0)
			goto out;
	}
	r = check_arg_limits(t, &av, &ev, path);
	if (r < 0) {
		snprintf(errbuf, errlen, "%s: argument list too long", path);
		goto out;
	}

	r = read_elf(f, elf_path, &exe, errbuf, errlen);
	if (r < 0)
		goto out;

	/* The layout, top down: the stack, a gap, the mmap region (shared
	 * libraries, the interpreter), and far below it the PIE and its brk. */
	uint64_t limit = ward_as_user_limit();
	uint64_t stack_rnd_max = WARD_MIN(16ULL << 30, limit / 64);
	uint64_t stack_top = PAGE_DOWN(limit - random_pages(stack_rnd_max));
	uint64_t gap = DEFAULT_STACK_LIMIT + (256 * PAGE) + stack_rnd_max;
	gap = WARD_MAX(gap, 128ULL << 20);
	uint64_t mmap_base = PAGE_DOWN(limit - gap - random_pages(random_range(limit)));
	mm_set_mmap_base(t->mm, mmap_base);

	/* The executable. */
	uint64_t bias = 0;
	if (exe.type == ET_DYN) {
		if (exe.has_interp) {
			uint64_t base = et_dyn_base(limit) + random_pages(random_range(limit));
			base &= ~(exe.align - 1);
			bias = PAGE_DOWN(base - exe.min_vaddr);
		} else {
			r = place_in_mmap_region(t, &exe, &bias);
			if (r < 0) {
				snprintf(errbuf, errlen, "%s: no room for the image", elf_path);
				goto out;
			}
		}
	}
	uint64_t exe_end;
	r = map_segments(t, f, elf_path, &exe, bias, &exe_end, errbuf, errlen);
	if (r < 0)
		goto out;
	uint64_t entry = bias + exe.entry;
	uint64_t at_entry = entry;
	uint64_t at_base = 0;

	/* The interpreter. */
	if (exe.has_interp) {
		r = vfs_open_exec(t, exe.interp, &fi);
		if (r < 0) {
			snprintf(errbuf, errlen, "%s: cannot open the interpreter %s: %s", elf_path, exe.interp,
				 strerror((int)-r));
			goto out;
		}
		r = read_elf(fi, exe.interp, &interp, errbuf, errlen);
		if (r == -ENOEXEC)
			r = -ELIBBAD; /* Linux's answer for a bad interpreter */
		if (r < 0)
			goto out;
		uint64_t ibias = 0;
		if (interp.type == ET_DYN) {
			r = place_in_mmap_region(t, &interp, &ibias);
			if (r < 0) {
				snprintf(errbuf, errlen, "%s: no room for the interpreter", exe.interp);
				goto out;
			}
		}
		uint64_t iend;
		r = map_segments(t, fi, exe.interp, &interp, ibias, &iend, errbuf, errlen);
		if (r < 0)
			goto out;
		at_base = ibias;
		entry = ibias + interp.entry;
	}
	if (entry >= limit || at_entry >= limit) {
		snprintf(errbuf, errlen, "%s: entry point outside the address space", elf_path);
		r = -EINVAL;
		goto out;
	}

	/* The vDSO, in the mmap region after the images, as Linux's
	 * arch_setup_additional_pages. Without one (no room in the memory
	 * file) glibc makes system calls, which work as well. */
	uint64_t vdso_addr = 0;
	struct ward_vdso vdso;
	if (ward_vdso_get(&vdso) == 0) {
		uint64_t at;
		r = mm_find_free(t->mm, PAGE + vdso.image_len, &at);
		if (r == 0)
			r = mm_map_vdso(t->mm, at, vdso.vvar_off, vdso.image_off, vdso.image_len);
		if (r < 0) {
			snprintf(errbuf, errlen, "%s: cannot map the vDSO: %s", elf_path, strerror((int)-r));
			goto out;
		}
		vdso_addr = at + PAGE;
	}

	/* The heap: after the image, at a random page within 32 MiB, as
	 * arch_randomize_brk; a PIE run without an interpreter (ld.so run
	 * directly) gets ELF_ET_DYN_BASE, where there is room. */
	uint64_t heap = PAGE_UP(exe_end);
	if (exe.type == ET_DYN && !exe.has_interp)
		heap = et_dyn_base(limit);
	heap += random_pages(32UL << 20);
	mm_set_brk_start(t->mm, heap);

	/* The stack. */
	struct stack_args sa = {
		.argv = &av,
		.envp = &ev,
		.execfn = path,
		.top = stack_top,
		.exec = exe.exec_stack,
		.phdr = bias + exe.phdr_vaddr,
		.phnum = exe.phnum,
		.base = at_base,
		.entry = at_entry,
		.vdso = vdso_addr,
	};
	uint64_t sp;
	r = write_stack(t, &sa, &sp, errbuf, errlen);
	if (r < 0)
		goto out;

	/* /proc/self/exe: the file's canonical path (symlinks resolved), as
	 * Linux's d_path gives it. */
	char *exe_abs = f->path && f->path[0] == '/' ? strdup(f->path) : absolute_path(t, elf_path);
	if (!exe_abs) {
		r = -ENOMEM;
		goto out;
	}
	free(t->exe_path);
	t->exe_path = exe_abs;
	set_comm(t, path);
	out->entry = entry;
	out->stack_pointer = sp;
	r = 0;
out:
	if (r == -ENOMEM && !errbuf[0])
		snprintf(errbuf, errlen, "%s: out of memory", path);
	loader_elf_info_release(&exe);
	loader_elf_info_release(&interp);
	strvec_free(&av);
	strvec_free(&ev);
	return r;
}
