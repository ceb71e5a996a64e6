/* Guest address spaces as the trusted core keeps them, and the only way
 * services move bytes in and out of guest memory.
 *
 * The core keeps, for each address space, the set of guest ranges that are
 * backed by the memory file (where, with which protection). The mm service
 * decides what is mapped where; the core records it, mirrors it into the
 * platform, and checks every guest access against it, so a service bug can
 * produce a wrong answer but never a sentry crash or an access outside the
 * guest's own memory.
 *
 * Locking: each address space has one lock inside the core; the functions
 * here take it themselves and may be called from any sentry thread. */
#ifndef WARD_GUEST_H
#define WARD_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "ward/types.h"

struct ward_as;
struct ward_platform_as;

/* Protection bits, as the guest's PROT_* values. */
#define WARD_PROT_READ 0x1
#define WARD_PROT_WRITE 0x2
#define WARD_PROT_EXEC 0x4
/* Not a protection: the platform's as_map hint (include/ward/platform.h). */
#define WARD_PROT_REPLACE 0x100

/* Creates an empty address space on the active platform. */
long ward_as_create(struct ward_as **out);
/* Tears the address space down; its platform half (the stub) goes too. */
void ward_as_destroy(struct ward_as *as);
/* The platform half, for the task loop's switch into the guest. */
struct ward_platform_as *ward_as_platform(struct ward_as *as);
/* The first address above the guest's usable range (the platform keeps
 * what lies above, such as the ptrace stub). */
uint64_t ward_as_user_limit(void);
/* The lowest address the guest may have (Linux's vm.mmap_min_addr, as
 * ward applies it): the core maps nothing below, where the seccomp
 * platform keeps its patched sites' slot table. WARD_AS_MIN_ADDR unless
 * the platform's patching needs more (ward_as_min_addr says). */
#define WARD_AS_MIN_ADDR 0x10000UL
uint64_t ward_as_min_addr(void);

/* Backs [start, start+len) with the memory file at memfile_off and the given
 * protection, replacing whatever backed that range before. start, len and
 * memfile_off must be page-aligned and the memory-file range allocated. */
long ward_as_map(struct ward_as *as, gaddr_t start, uint64_t len, int prot, uint64_t memfile_off);
/* Copy-on-write, for fork. The mm decides what is private; the core keeps,
 * per page, whether it still reads a shared source, maps such pages
 * without write permission, and copies them to their own pages at the
 * first write: the guest's (a write fault, ward_as_write_fault) or the
 * sentry's (every write entry point here breaks the pages it touches).
 *
 * ward_as_map_cow backs [start, start+len) with src_off for reading and
 * dst_off (allocated, the range's own pages) for the first write. */
long ward_as_map_cow(struct ward_as *as, gaddr_t start, uint64_t len, int prot, uint64_t src_off, uint64_t dst_off);
/* Makes the backed parts of [start, start+len) copy-on-write: what each
 * part reads now becomes its source, reported through piece (called with
 * the lock held: it must not call back into the core), and new writes go
 * to dst_off + (addr - start). */
long ward_as_fork_cow(struct ward_as *as, gaddr_t start, uint64_t len, uint64_t dst_off,
		      void (*piece)(void *arg, uint64_t addr, uint64_t len, uint64_t src_off), void *arg);
/* Makes every page of [start, start+len) read and write its own page,
 * own_off + (addr - start), copying what it reads now (a source, or
 * another page) there first: for what needs a region's data in one place. */
long ward_as_cow_own(struct ward_as *as, gaddr_t start, uint64_t len, uint64_t own_off);
/* The source at [src_off, src_off+src_len) has no reader but this address
 * space: its copy-on-write pages of [start, start+len) that read it become
 * plain pages of it, written in place from now on. 1 if there were any,
 * 0 if not, or -errno. */
long ward_as_cow_adopt(struct ward_as *as, gaddr_t start, uint64_t len, uint64_t src_off, uint64_t src_len);
/* A guest write fault at addr (SEGV_ACCERR): 0 when the page was
 * copy-on-write and is now the guest's own; 1 when it is writable and not
 * copy-on-write (another thread copied it first: retry once); -EFAULT when
 * the guest may not write there. */
long ward_as_write_fault(struct ward_as *as, gaddr_t addr);

/* Removes the backing of [start, start+len); unbacked parts are ignored. */
long ward_as_unmap(struct ward_as *as, gaddr_t start, uint64_t len);
/* Changes the protection of the backed parts of [start, start+len). */
long ward_as_protect(struct ward_as *as, gaddr_t start, uint64_t len, int prot);
/* Looks up the memory-file offset backing addr: 0 and *memfile_off set, or
 * -EFAULT if addr is not backed. */
long ward_as_translate(struct ward_as *as, gaddr_t addr, uint64_t *memfile_off, int *prot);

/* Copies len bytes from guest src into dst. 0, or -EFAULT when any byte of
 * the range is not readable by the guest (then dst may be partly written). */
long ward_copy_in(struct ward_as *as, void *dst, gaddr_t src, size_t len);
/* Copies len bytes from src to guest dst: 0, or -EFAULT when any byte of the
 * range is not writable by the guest. */
long ward_copy_out(struct ward_as *as, gaddr_t dst, const void *src, size_t len);
/* As ward_copy_out, but stops at the first unwritable byte and returns the
 * number of bytes copied (read(2) semantics), or -EFAULT if none was. */
long ward_copy_out_partial(struct ward_as *as, gaddr_t dst, const void *src, size_t len);
/* Writes len zero bytes to guest dst: 0 or -EFAULT. */
long ward_zero_out(struct ward_as *as, gaddr_t dst, size_t len);
/* Writes into guest memory ignoring the guest's write protection (but not
 * its mapping): for the loader and the kernel's own writes to read-only
 * pages. 0 or -EFAULT. */
long ward_copy_out_force(struct ward_as *as, gaddr_t dst, const void *src, size_t len);

/* Reads a NUL-terminated string of at most bufsize-1 bytes into buf. Returns
 * its length, -EFAULT, or -ENAMETOOLONG when no NUL is found in bufsize
 * bytes. */
long ward_copy_string_in(struct ward_as *as, char *buf, size_t bufsize, gaddr_t src);

/* Copies one object of an ABI type whole. */
#define WARD_COPY_IN_OBJ(as, objp, src) ward_copy_in((as), (objp), (src), sizeof(*(objp)))
#define WARD_COPY_OUT_OBJ(as, dst, objp) ward_copy_out((as), (dst), (objp), sizeof(*(objp)))

/* Atomics on a 32-bit guest word (futexes), coherent with the guest's own
 * atomic instructions. The word must be 4-byte aligned and writable:
 * -EINVAL for a misaligned address, -EFAULT otherwise.
 *
 * ward_guest_cmpxchg32 stores new_val if the word holds old_val; either way
 * *actual gets what the word held. */
long ward_guest_cmpxchg32(struct ward_as *as, gaddr_t addr, uint32_t old_val, uint32_t new_val, uint32_t *actual);
/* Applies op (0 set, 1 add, 2 or, 3 andn, 4 xor: FUTEX_OP_*) with oparg and
 * returns the old value in *old. */
long ward_guest_atomic_op32(struct ward_as *as, gaddr_t addr, int op, uint32_t oparg, uint32_t *old);

/* One guest iovec, validated. */
struct ward_iovec {
	gaddr_t base;
	uint64_t len;
};

#define WARD_UIO_MAXIOV 1024
/* The most one read or write moves, as Linux's MAX_RW_COUNT. */
#define WARD_MAX_RW_COUNT (0x7ffff000UL)

/* Reads and validates a guest iovec array (at most WARD_UIO_MAXIOV entries)
 * into vecs. Lengths are clamped so the total stays within
 * WARD_MAX_RW_COUNT, as Linux does. Returns the total length, -EINVAL for a
 * bad count or a negative length, -EFAULT for a bad array. */
long ward_iovec_import(struct ward_as *as, gaddr_t iov, long iovcnt, struct ward_iovec *vecs);

#endif
