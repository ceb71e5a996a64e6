/* The memory manager: a task's VMAs and the rules of mmap, munmap,
 * mprotect, mremap, madvise and brk. It decides what is mapped where and
 * asks the core to back and mirror it (include/ward/guest.h). */
#ifndef WARD_MM_H
#define WARD_MM_H

#include "ward/types.h"

struct mm;
struct file;
struct ward_as;

/* Memory that several mappings share. Without ops it is MAP_SHARED
 * anonymous memory, which the mm owns and frees with its last VMA. With ops
 * it is a System V segment (kernel/ipc.c), whose owner frees it: the mm
 * calls open for every VMA that comes to map it (shmat, a split, fork) and
 * close for every one that goes, as Linux's vm_ops do. */
struct shm_backing;
struct shm_backing_ops {
	void (*vm_open)(struct shm_backing *b);
	void (*vm_close)(struct shm_backing *b);
};

struct shm_backing {
	uint64_t off; /* memory-file offset */
	uint64_t len; /* page-aligned */
	int refs; /* VMAs that map it */
	const struct shm_backing_ops *ops;
	int32_t key; /* System V: the key, for /proc/[pid]/maps */
};

/* Drops a reference to shared memory (the tmpfs segment of a file mapped
 * shared holds one of its own): freed with the last, unless its ops
 * decide. */
void mm_shm_put(struct shm_backing *b);

/* Creates an empty address space (and its platform stub). */
long mm_create(struct mm **out);
void mm_destroy(struct mm *mm);
/* References for tasks that share an address space; the last put destroys
 * it. mm_create and mm_fork return one reference. */
void mm_get(struct mm *mm);
void mm_put(struct mm *mm);
/* Copies parent (fork): the VMAs and the contents of their memory, but no
 * address space yet; mm_attach gives it one on the child's own sentry
 * thread (the platform ties an address space to the thread that made it). */
long mm_fork(struct mm *parent, struct mm **out);
long mm_attach(struct mm *mm);
/* Reads guest memory through the VMAs, for a process that may have no
 * address space yet (a fork child before its first run): /proc's cmdline
 * and environ. 0, or -EFAULT when a byte is unmapped or unreadable. */
long mm_read(struct mm *mm, uint64_t addr, void *buf, size_t len);
struct ward_as *mm_as(struct mm *mm);

/* mmap(2) with Linux's argument rules: addr is a hint unless MAP_FIXED or
 * MAP_FIXED_NOREPLACE. file is NULL for anonymous maps (the caller has
 * checked the descriptor's access mode). Returns the address or -errno. */
long mm_mmap(struct mm *mm, uint64_t addr, uint64_t len, int prot, int flags, struct file *file, uint64_t off);
long mm_munmap(struct mm *mm, uint64_t addr, uint64_t len);
long mm_mprotect(struct mm *mm, uint64_t addr, uint64_t len, int prot);
long mm_mremap(struct mm *mm, uint64_t old_addr, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr);
/* msync(2): checks the range; shared file maps need no write-back. */
long mm_msync(struct mm *mm, uint64_t addr, uint64_t len, int flags);
long mm_madvise(struct mm *mm, uint64_t addr, uint64_t len, int advice);
/* brk(2): returns the new break, or the old one when it cannot move. */
uint64_t mm_brk(struct mm *mm, uint64_t new_brk);
/* Sets the start of the heap (the end of the loaded image). */
void mm_set_brk_start(struct mm *mm, uint64_t start);
/* A free range of len bytes, searching down from the mmap base. */
long mm_find_free(struct mm *mm, uint64_t len, uint64_t *out);
/* Where mmap without a hint starts searching (below the stack). */
void mm_set_mmap_base(struct mm *mm, uint64_t base);

/* shmat's mapping of a whole System V segment, shared and page-rounded,
 * with prot (PROT_*). addr 0 picks a free range; otherwise the range must be
 * free (-EINVAL) unless remap, which replaces what is there (SHM_REMAP).
 * Returns the address or -errno. */
long mm_shmat(struct mm *mm, uint64_t addr, int prot, bool remap, struct shm_backing *b);
/* shmdt(2): unmaps the attachment that starts at addr, with the pieces of
 * it that mprotect or munmap left. 0, or -EINVAL if there is none. */
long mm_shmdt(struct mm *mm, uint64_t addr);

/* mlock/munlock of [start, start+len) (page-aligned): marks the VMAs, which
 * is all locking means here (guest memory is never paged out). -ENOMEM if
 * part of the range is not mapped. */
long mm_mlock(struct mm *mm, uint64_t start, uint64_t len, bool lock);
/* mlockall: current locks every VMA (else, without future, unlocks them:
 * munlockall); future makes new mappings start locked. */
void mm_mlock_all(struct mm *mm, bool current, bool future);
/* Bytes of [start, end) that are locked (0, UINT64_MAX: all of them). */
uint64_t mm_locked_bytes(struct mm *mm, uint64_t start, uint64_t end);
/* Whether every byte of [start, end) is mapped (end > start). */
bool mm_range_mapped(struct mm *mm, uint64_t start, uint64_t end);
/* Whether [start, end) may be rewritten by syscall-site patching: it lies
 * in one private executable mapping with memory of its own (not shared,
 * not the vDSO every guest shares), of an address space exactly users
 * tasks share (the caller's process's threads). */
bool mm_patchable(struct mm *mm, int users, uint64_t start, uint64_t end);
/* mincore(2): one byte per page of [start, start+len) (page-aligned), 1 for
 * pages with memory behind them. -ENOMEM if part is not mapped. */
long mm_mincore(struct mm *mm, uint64_t start, uint64_t len, uint8_t *vec);

/* Maps the vDSO at addr, as Linux's map_vdso: [vvar], one read-only page
 * of the memory file at vvar_off, and right above it [vdso], image_len
 * bytes read+exec at image_off. Both are pages every guest shares: the mm
 * never frees or copies them (fork keeps them, a write to [vdso] after
 * mprotect gets a private copy, mprotect cannot make [vvar] writable or
 * executable, mremap moves but never grows them). The range must be free. */
long mm_map_vdso(struct mm *mm, uint64_t addr, uint64_t vvar_off, uint64_t image_off, uint64_t image_len);

/* Handles a guest fault at addr; returns 0 if it was fixed (a stack that
 * grows down), or -EFAULT with the signal to send: SIGSEGV with
 * SEGV_MAPERR / SEGV_ACCERR, or SIGBUS with BUS_ADRERR past a file's end. */
long mm_handle_fault(struct mm *mm, uint64_t addr, bool is_write, uint64_t stack_limit, int *signo, int *si_code);
/* A guest write fault on a present page (SEGV_ACCERR): as
 * ward_as_write_fault, but pages whose copy-on-write source no one else
 * reads become the faulting VMA's own without a copy. */
long mm_write_fault(struct mm *mm, uint64_t addr);
/* Whether addr lies in a shared mapping (MAP_SHARED, System V, the
 * vDSO's pages): futexes there are keyed by their page. */
bool mm_is_shared_at(struct mm *mm, uint64_t addr);
/* Bytes mapped in all, for RLIMIT_AS. */
uint64_t mm_mapped_bytes(struct mm *mm);

/* Bytes of the VMAs that have memory behind them (touched at least once):
 * an upper bound of the resident set, for /proc's VmRSS and statm. */
uint64_t mm_resident_bytes(struct mm *mm);

/* Where execve put the argv and envp strings: [arg_start, arg_end) and
 * [env_start, env_end), each a run of NUL-terminated strings, for
 * /proc/[pid]/cmdline and environ. Set by the loader, copied by fork. */
void mm_set_args(struct mm *mm, uint64_t arg_start, uint64_t arg_end, uint64_t env_start, uint64_t env_end);
void mm_get_args(struct mm *mm, uint64_t *arg_start, uint64_t *arg_end, uint64_t *env_start, uint64_t *env_end);

/* Formats the VMAs as /proc/self/maps does into buf. */
long mm_format_maps(struct mm *mm, char *buf, size_t len);

#endif
