/* Cleanup attributes, after crun: variables start at NULL or -1, functions
 * return early, and the compiler runs the cleanup on every path. */
#ifndef WARD_CLEANUP_H
#define WARD_CLEANUP_H

#include <stdlib.h>

static inline void ward__freep(void *p)
{
	free(*(void **)p);
}

#define cleanup_free __attribute__((cleanup(ward__freep)))

/* Hands ownership out of a cleanup variable: returns the value and leaves
 * NULL behind, keeping the pointer's type. */
#define steal_pointer(pp)                             \
	({                                            \
		__typeof__(*(pp)) steal__tmp = *(pp); \
		*(pp) = NULL;                         \
		steal__tmp;                           \
	})

#endif
