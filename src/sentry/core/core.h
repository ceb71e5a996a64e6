/* Private header of the trusted core (src/sentry/core, src/platform).
 * Core files may make host system calls; each raw access to memory that is
 * not the sentry's own carries a SAFETY comment. */
#ifndef WARD_CORE_PRIVATE_H
#define WARD_CORE_PRIVATE_H

#define WARD_CORE 1

#include <errno.h>
#include <unistd.h>

#include "ward/cleanup.h"
#include "ward/core.h"
#include "ward/guest.h"
#include "ward/host.h"
#include "ward/memfile.h"
#include "ward/platform.h"
#include "ward/types.h"

static inline void ward__closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define cleanup_close __attribute__((cleanup(ward__closep)))

/* The sentry's mapping of the memory file, and its size: for the guest
 * copy helpers, which check every range against the allocator first. */
void *ward__memfile_base(void);
int ward__memfile_fd(void);
/* Checks that [off, off+len) lies inside the memory file (cheap: for
 * every copy). */
int ward__memfile_range_ok(uint64_t off, uint64_t len);
/* Checks that [off, off+len) is allocated, none of it free (for mapping a
 * range into a guest, so no guest can see pages another mapping freed). */
int ward__memfile_range_allocated(uint64_t off, uint64_t len);

/* Calls fn for every backed range of as, under the address space's lock,
 * and reads *gen (the platform's generation of the mappings) under the same
 * lock into *gen_out. Stops at and returns the first negative fn result. */
long ward__as_replay(struct ward_as *as, int (*fn)(void *arg, uint64_t start, uint64_t len, int prot, uint64_t off),
		     void *arg, _Atomic uint64_t *gen, uint64_t *gen_out);

/* Destroys the calling sentry thread's kept platform context, as the
 * thread ends. */
void ward__ctx_thread_exit(void);

/* Direct host I/O on guest memory (host sockets): with the address space's
 * read lock held (ward__as_rdlock), translates the guest iovecs into at most
 * max host iovecs pointing into the sentry's mapping of the memory file,
 * merging neighbours. Stops at the first byte that is unbacked or lacks
 * need (WARD_PROT_READ or WARD_PROT_WRITE); *total is what was translated.
 * Returns the number of host iovecs, -1 when more than max are needed, or
 * -2 when need has WARD_PROT_WRITE and a page is still copy-on-write
 * (ward__as_break_cow_iov first, without the lock, then try again).
 * The pointers are valid only until ward__as_unlock. */
struct iovec;
void ward__as_rdlock(struct ward_as *as);
void ward__as_unlock(struct ward_as *as);
int ward__as_host_iov(struct ward_as *as, const struct ward_iovec *v, int cnt, int need, struct iovec *out, int max,
		      size_t *total);
/* Makes the copy-on-write pages under the iovecs the guest's own, so the
 * host kernel may write into them. Without the lock held. */
void ward__as_break_cow_iov(struct ward_as *as, const struct ward_iovec *v, int cnt);

/* Forgets that fd was a host socket (ward_host_close of a reused number). */
void ward__sock_forget(int fd);

/* Shared by the platforms: a clean FPU state (as after execve) of the
 * host's XSAVE size, and WARD_PROT_* as host PROT_* bits. */
void ward__fpstate_clean(struct ward_fpstate *fp, uint32_t size);
int ward__host_prot(int prot);

/* The platform implementations. */
extern const struct ward_platform ward__ptrace_platform;
extern const struct ward_platform ward__seccomp_platform;

#endif
