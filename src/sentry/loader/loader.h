/* The ELF loader: execve's image half. */
#ifndef WARD_LOADER_H
#define WARD_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct task;

struct loader_result {
	uint64_t entry; /* where the task starts: the interpreter's entry if any */
	uint64_t stack_pointer; /* rsp at entry: points at argc */
};

/* Loads path (a guest path, resolved in the task's file system) into the
 * task's address space t->mm, which must be fresh and empty: the ELF image,
 * its PT_INTERP interpreter, a stack with argv, envp and auxv, and the heap
 * start. "#!" scripts run their interpreter (up to LOADER_MAX_SCRIPT_DEPTH
 * rewrites, as Linux's exec_binprm). Returns 0, or -ENOENT, -EACCES,
 * -ENOEXEC (malformed or truncated ELF, wrong machine), -ELIBBAD (bad
 * interpreter), -ELOOP, -E2BIG, -ENOMEM; on failure errbuf holds one line
 * for the user (without a "ward: " prefix). On success t->exe_path and
 * t->comm are set. On failure the address space may be partly filled. */
long loader_load(struct task *t, const char *path, char *const argv[], char *const envp[], struct loader_result *out,
		 char *errbuf, size_t errlen);

/* Linux's limits, as fs/exec.c and fs/binfmt_script.c have them. */
#define LOADER_BINPRM_BUF_SIZE 256 /* the bytes of a file exec looks at first */
#define LOADER_MAX_SCRIPT_DEPTH 5 /* interpreter rewrites before ELOOP */
#define LOADER_MAX_ARG_STRLEN (32 * 4096UL) /* one argv or envp string, with its NUL */
#define LOADER_MAX_PHDR_BYTES 65536UL /* e_phnum * e_phentsize at most */
#define LOADER_PATH_MAX 4096
/* The highest user address any x86-64 image may name (47-bit). */
#define LOADER_VADDR_LIMIT (1ULL << 47)

/* One PT_LOAD segment, validated: filesz <= memsz, the file bytes inside the
 * file, offset and vaddr congruent modulo the page size, vaddr + memsz
 * below LOADER_VADDR_LIMIT. prot is PROT_* from p_flags. */
struct loader_segment {
	uint64_t vaddr;
	uint64_t memsz;
	uint64_t offset;
	uint64_t filesz;
	int prot;
};

/* What the loader needs from an ELF file's headers. */
struct loader_elf_info {
	int type; /* ET_EXEC or ET_DYN */
	uint64_t entry; /* e_entry, before the load bias */
	uint64_t phoff;
	uint16_t phnum;
	uint16_t phentsize;
	size_t nload;
	struct loader_segment *loads; /* malloc'd; loader_elf_info_release frees it */
	uint64_t min_vaddr; /* page-aligned start of the lowest PT_LOAD */
	uint64_t max_vaddr; /* end (vaddr + memsz) of the highest PT_LOAD */
	uint64_t align; /* largest power-of-two p_align of the PT_LOADs, >= page */
	uint64_t phdr_vaddr; /* where the program headers are in memory, before the bias */
	bool exec_stack; /* PT_GNU_STACK with PF_X */
	bool has_interp;
	/* PT_INTERP's place in the file; interp holds the string when its
	 * bytes were in the buffer given (interp_pending is false), else the
	 * caller reads them and checks them with loader_check_interp. */
	uint64_t interp_off;
	uint64_t interp_len;
	bool interp_pending;
	char interp[LOADER_PATH_MAX];
};

/* Checks the headers of an ELF file for this machine and fills info. buf
 * holds the first buflen bytes of a file of file_size bytes; the ELF header
 * and the program headers must lie in buf (a shorter buf is a truncated
 * file). Everything is checked, not only what libelf checks: class, byte
 * order, machine, type, e_phentsize, e_phnum, every segment inside the file,
 * filesz <= memsz, page congruence, no overflow, at least one PT_LOAD, a
 * NUL-terminated PT_INTERP of at most LOADER_PATH_MAX bytes. Returns 0, or
 * -ENOEXEC with one line naming name in errbuf. Never reads outside buf.
 * On success the caller must call loader_elf_info_release. */
long loader_check_elf(const char *name, const void *buf, size_t buflen, uint64_t file_size,
		      struct loader_elf_info *info, char *errbuf, size_t errlen);
/* Checks the PT_INTERP bytes (len of them, read by the caller when
 * info->interp_pending) and copies them into info->interp: 0 or -ENOEXEC. */
long loader_check_interp(const char *name, const void *bytes, size_t len, struct loader_elf_info *info, char *errbuf,
			 size_t errlen);
void loader_elf_info_release(struct loader_elf_info *info);

/* A parsed "#!" line. */
struct loader_shebang {
	char name[LOADER_BINPRM_BUF_SIZE];
	char arg[LOADER_BINPRM_BUF_SIZE];
	bool has_arg;
};

/* Parses the first len bytes of a file (at most LOADER_BINPRM_BUF_SIZE are
 * looked at) as Linux's binfmt_script does: the interpreter name after "#!"
 * and leading blanks, up to the first blank, and the rest of the line, with
 * trailing blanks cut, as one optional argument. Returns 1 for a script, 0
 * when buf does not start with "#!", -ENOEXEC when no interpreter is named
 * or its name does not end within the first LOADER_BINPRM_BUF_SIZE bytes. */
long loader_parse_shebang(const void *buf, size_t len, struct loader_shebang *out);

#endif
