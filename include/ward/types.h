/* Basic types shared by the trusted core and the services. */
#ifndef WARD_TYPES_H
#define WARD_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A guest virtual address. It is a struct, not a pointer, so that a service
 * cannot dereference it: guest bytes move only through the core's copy
 * helpers (include/ward/guest.h), which check the address first. */
typedef struct {
	uint64_t v;
} gaddr_t;

/* Makes a guest address from the integer a guest passed in a register. */
static inline gaddr_t gaddr(uint64_t v)
{
	return (gaddr_t){ v };
}

/* Adds a byte offset; wrap-around is caught by the core's range checks. */
static inline gaddr_t gaddr_add(gaddr_t a, uint64_t off)
{
	return (gaddr_t){ a.v + off };
}

static inline bool gaddr_is_null(gaddr_t a)
{
	return a.v == 0;
}

#define WARD_PAGE_SIZE 4096UL
#define WARD_PAGE_MASK (~(WARD_PAGE_SIZE - 1))
#define WARD_PAGE_ALIGN_UP(x) (((x) + WARD_PAGE_SIZE - 1) & WARD_PAGE_MASK)
#define WARD_PAGE_ALIGN_DOWN(x) ((x)&WARD_PAGE_MASK)

/* Internal result codes. Kernel code returns long: >= 0 is success and
 * -errno is failure. These sit above the errno range (4095) and are turned
 * into what Linux returns only by the syscall dispatcher. */
#define WARD_ERESTARTSYS 4097 /* restart if SA_RESTART, else EINTR */
#define WARD_ERESTARTNOINTR 4098 /* always restart */
#define WARD_ERESTARTNOHAND 4099 /* restart if no handler ran */
#define WARD_ERESTART_RESTARTBLOCK 4100 /* restart through restart_syscall */
#define WARD_EEXITED 4101 /* the task has exited: leave the run loop */

#define WARD_IS_ERR(x) ((unsigned long)(x) >= (unsigned long)-4096L - 16)

#define WARD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WARD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define WARD_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
