/* The vDSO's parameter page ([vvar]): written by the sentry's core
 * (src/sentry/core/vdso.c), read by the guest's vDSO (src/vdso/vdso.c).
 * Both sides are built from this one definition; the page is one page of
 * the memory file that every guest maps read-only, one page below its
 * vDSO image.
 *
 * A seqlock guards everything but seq itself: the writer (one sentry
 * thread) makes seq odd, writes, makes it even again; a reader retries
 * while seq is odd or changed under it. */
#ifndef WARD_VDSO_VVAR_H
#define WARD_VDSO_VVAR_H

#include <stdint.h>

/* flags: the host has no constant, invariant TSC (or the sentry has not
 * calibrated it yet): every vDSO call makes the real system call. */
#define WARD_VVAR_USE_SYSCALL 1u

struct ward_vvar {
	uint32_t seq;
	uint32_t flags;
	/* CLOCK_MONOTONIC is mono_ns at TSC value tsc_base and advances
	 * ((tsc - tsc_base) * mult) >> shift nanoseconds after it. */
	uint64_t tsc_base;
	uint64_t mono_ns;
	uint64_t mult;
	uint32_t shift;
	uint32_t ncpus; /* getcpu's answers are below this */
	/* The other clocks, as offsets from CLOCK_MONOTONIC in ns. */
	int64_t realtime_off;
	int64_t boottime_off;
	int64_t tai_off;
};

_Static_assert(sizeof(struct ward_vvar) == 64, "the vvar ABI between the sentry and the vDSO");

#endif
