/* System-call handlers and their dispatch. Each handler is
 * long sys_x(struct task *, const struct syscall_args *): decode and check
 * the arguments, then do the work; >= 0 is the result, -errno the error. */
#ifndef WARD_SYSCALLS_H
#define WARD_SYSCALLS_H

#include "ward/types.h"

struct task;

struct syscall_args {
	uint64_t nr;
	uint64_t a[6];
};

/* Typed accessors: the ABI passes int arguments in the low 32 bits. */
static inline int arg_int(const struct syscall_args *args, int i)
{
	return (int)(uint32_t)args->a[i];
}

static inline unsigned int arg_uint(const struct syscall_args *args, int i)
{
	return (uint32_t)args->a[i];
}

static inline long arg_long(const struct syscall_args *args, int i)
{
	return (long)args->a[i];
}

static inline uint64_t arg_u64(const struct syscall_args *args, int i)
{
	return args->a[i];
}

static inline gaddr_t arg_addr(const struct syscall_args *args, int i)
{
	return gaddr(args->a[i]);
}

typedef long (*syscall_handler)(struct task *t, const struct syscall_args *args);

enum syscall_support { FULL, PARTIAL, NONE };

struct syscall_entry {
	const char *name;
	syscall_handler handler;
	enum syscall_support support;
	const char *format;
	const char *note;
};

#define SYSCALL_TABLE_SIZE 512

/* The table entry for nr, or NULL when nr is no x86-64 system call. */
const struct syscall_entry *syscall_lookup(uint64_t nr);

/* Runs one system call for t and returns what the guest sees in rax
 * (internal restart codes already mapped). Traces it when --strace is on. */
long syscall_dispatch(struct task *t, const struct syscall_args *args);

/* strace formatting (strace.c). Formats "name(args" into buf. */
size_t strace_format_call(struct task *t, const struct syscall_entry *e, const struct syscall_args *args, long result,
			  char *buf, size_t len);
/* Formats ") = result" with errno names, as strace does; hex for
 * addresses. */
size_t strace_format_result(long result, bool hex, char *buf, size_t len);
/* Whether the call returns an address (mmap, brk, mremap). */
bool strace_result_is_address(const struct syscall_entry *e);
/* The symbolic name of an errno value ("ENOENT"), or NULL. */
const char *strace_errno_name(int err);

struct file;
/* fcntl's lock commands (sys_lock.c): cmd is F_GETLK, F_SETLK(W) or an
 * F_OFD_ one, arg the guest's struct flock. */
long fcntl_lock(struct task *t, struct file *f, unsigned int cmd, uint64_t arg);
/* F_ADD_SEALS (1033) and F_GET_SEALS (1034) (sys_memfd.c). */
long fcntl_seals(struct task *t, struct file *f, unsigned int cmd, uint64_t arg);

/* Every handler, declared from the table (names are strings there, since a
 * service may not even name the host's wrappers). */
#define SYSCALL(nr, name, handler, support, fmt, note) long handler(struct task *t, const struct syscall_args *args);
#include "table.def"
#undef SYSCALL

#endif
