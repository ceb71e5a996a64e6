/* ward's vDSO: the clock calls answered in the guest from the parameter
 * page the sentry keeps (vvar.h), so a time-hungry program does not trap to
 * the sentry on every clock_gettime. Built freestanding and linked on its
 * own (vdso.lds, vdso.map); the sentry embeds the image and the loader maps
 * it into every guest. Whatever this code cannot answer (CPU-time clocks,
 * unknown ids, a host without a usable TSC) it asks with a real system
 * call, which traps to the sentry like any other guest call. */
#include <stddef.h>
#include <stdint.h>

#include "vvar.h"

/* Linux's ABI, spelled out: this file includes no libc header. */
struct vdso_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};
struct vdso_timeval {
	int64_t tv_sec;
	int64_t tv_usec;
};
struct vdso_timezone {
	int tz_minuteswest;
	int tz_dsttime;
};

#define NR_gettimeofday 96
#define NR_time 201
#define NR_clock_gettime 228
#define NR_clock_getres 229
#define NR_getcpu 309

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define CLOCK_TAI 11

#define NSEC_PER_SEC 1000000000ULL

/* Defined by vdso.lds one page below the image. */
extern const struct ward_vvar ward_vvar_page __attribute__((visibility("hidden")));

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define barrier() __asm__ __volatile__("" ::: "memory")

static long vdso_syscall2(long nr, long a, long b)
{
	long ret;
	__asm__ __volatile__("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

static long vdso_syscall3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ __volatile__("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

/* The TSC, ordered after the loads before it (as Linux's rdtsc_ordered),
 * so it is never read ahead of the seq that guards the base it is used
 * with. */
static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/* Nanoseconds of clock id, or false when the caller must make the system
 * call. */
static bool read_clock(int id, uint64_t *out)
{
	const struct ward_vvar *v = &ward_vvar_page;
	uint32_t seq;
	uint64_t ns;

	for (;;) {
		seq = READ_ONCE(v->seq);
		if (seq & 1) {
			__asm__ __volatile__("pause");
			continue;
		}
		barrier();
		if (READ_ONCE(v->flags) & WARD_VVAR_USE_SYSCALL)
			return false;
		uint64_t tsc = rdtsc_ordered();
		uint64_t delta = tsc - READ_ONCE(v->tsc_base);
		/* Another CPU's TSC may lag the writer's by a few cycles. */
		if ((int64_t)delta < 0)
			delta = 0;
		ns = READ_ONCE(v->mono_ns) +
		     (uint64_t)(((unsigned __int128)delta * READ_ONCE(v->mult)) >> READ_ONCE(v->shift));
		switch (id) {
		case CLOCK_REALTIME:
		case CLOCK_REALTIME_COARSE:
			ns += (uint64_t)READ_ONCE(v->realtime_off);
			break;
		case CLOCK_BOOTTIME:
			ns += (uint64_t)READ_ONCE(v->boottime_off);
			break;
		case CLOCK_TAI:
			ns += (uint64_t)READ_ONCE(v->tai_off);
			break;
		default:
			break;
		}
		barrier();
		if (READ_ONCE(v->seq) == seq)
			break;
	}
	*out = ns;
	return true;
}

/* The clocks answered here. The _COARSE ones get the precise time: it is
 * within their resolution of the tick Linux would give, never behind it. */
static bool clock_is_ours(int id)
{
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_TAI:
		return true;
	default:
		return false;
	}
}

int __vdso_clock_gettime(int id, struct vdso_timespec *ts);
int __vdso_clock_gettime(int id, struct vdso_timespec *ts)
{
	uint64_t ns;
	if (!clock_is_ours(id) || !read_clock(id, &ns))
		return (int)vdso_syscall2(NR_clock_gettime, id, (long)ts);
	ts->tv_sec = (int64_t)(ns / NSEC_PER_SEC);
	ts->tv_nsec = (int64_t)(ns % NSEC_PER_SEC);
	return 0;
}

int __vdso_gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz);
int __vdso_gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz)
{
	uint64_t ns;
	if (!read_clock(CLOCK_REALTIME, &ns))
		return (int)vdso_syscall2(NR_gettimeofday, (long)tv, (long)tz);
	if (tv) {
		tv->tv_sec = (int64_t)(ns / NSEC_PER_SEC);
		tv->tv_usec = (int64_t)(ns % NSEC_PER_SEC / 1000);
	}
	/* The sentry's timezone is always zero (sys_time.c). */
	if (tz) {
		tz->tz_minuteswest = 0;
		tz->tz_dsttime = 0;
	}
	return 0;
}

int64_t __vdso_time(int64_t *t);
int64_t __vdso_time(int64_t *t)
{
	uint64_t ns;
	if (!read_clock(CLOCK_REALTIME, &ns))
		return vdso_syscall2(NR_time, (long)t, 0);
	int64_t s = (int64_t)(ns / NSEC_PER_SEC);
	if (t)
		*t = s;
	return s;
}

int __vdso_clock_getres(int id, struct vdso_timespec *res);
int __vdso_clock_getres(int id, struct vdso_timespec *res)
{
	/* The high-resolution clocks: 1 ns, as hrtimer_resolution. The
	 * coarse ones report the tick, which only the sentry knows. */
	bool hres = id == CLOCK_REALTIME || id == CLOCK_MONOTONIC || id == CLOCK_BOOTTIME || id == CLOCK_TAI;
	if (!hres || (READ_ONCE(ward_vvar_page.flags) & WARD_VVAR_USE_SYSCALL))
		return (int)vdso_syscall2(NR_clock_getres, id, (long)res);
	if (res) {
		res->tv_sec = 0;
		res->tv_nsec = 1;
	}
	return 0;
}

/* getcpu: the host CPU this thread runs on, from the limit of the per-CPU
 * segment the host kernel keeps (Linux's vdso_read_cpunode), folded into
 * the sandbox's CPUs; node 0, as the sentry's getcpu says. */
int __vdso_getcpu(unsigned int *cpu, unsigned int *node, void *unused);
int __vdso_getcpu(unsigned int *cpu, unsigned int *node, void *unused)
{
	uint32_t ncpus = READ_ONCE(ward_vvar_page.ncpus);
	if (!ncpus || (READ_ONCE(ward_vvar_page.flags) & WARD_VVAR_USE_SYSCALL))
		return (int)vdso_syscall3(NR_getcpu, (long)cpu, (long)node, (long)unused);
	unsigned int p = 0;
	__asm__("lsl %1, %0" : "+r"(p) : "r"(0x7bu)); /* __CPUNODE_SEG */
	if (cpu)
		*cpu = (p & 0xfff) % ncpus;
	if (node)
		*node = 0;
	return 0;
}

int clock_gettime(int id, struct vdso_timespec *ts) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz) __attribute__((weak, alias("__vdso_gettimeofday")));
int64_t time(int64_t *t) __attribute__((weak, alias("__vdso_time")));
int clock_getres(int id, struct vdso_timespec *res) __attribute__((weak, alias("__vdso_clock_getres")));
int getcpu(unsigned int *cpu, unsigned int *node, void *unused) __attribute__((weak, alias("__vdso_getcpu")));
