/* The vDSO's pages and the thread that keeps its parameter page current.
 *
 * Why this is core: the parameter page is memory every guest maps, written
 * through the sentry's raw mapping of the memory file while guests read it
 * (a seqlock), and its contents are what guest time is made of. The rest
 * (where it is mapped, what mprotect/mremap/fork do to it) is the mm and the
 * loader's, as for any other memory.
 *
 * The clock model: CLOCK_MONOTONIC is mono_ns + (tsc - tsc_base) * rate,
 * re-based every UPDATE_NS from the host's own clock_gettime. Guest time
 * must never run backwards across a re-base and never fall behind the host
 * (the sentry's sleeps and timers use the host's clocks, and programs check
 * "took >= N ms" with times read in the guest); it may be ahead by about
 * a microsecond. So:
 *  - each (tsc, host time) sample pairs the host time with a TSC read
 *    before it: the host clock at that TSC was at most what was read;
 *  - the rate is measured over a window of seconds and then run BIAS fast,
 *    so that between re-bases guest time gains on the host instead of
 *    losing;
 *  - a re-base starts from the later of the host's time and what the old
 *    parameters give at that TSC (never backwards), and a lead so gained
 *    is paid back by running up to 2 * BIAS slower over the next period,
 *    never slower than the measured rate less BIAS. */
#include "core.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vdso/vvar.h"
#include "ward/vdso.h"

extern const unsigned char ward__vdso_image_start[];
extern const unsigned char ward__vdso_image_end[];

#define NSEC_PER_SEC 1000000000ULL
#define SHIFT 32
#define UPDATE_NS (50 * 1000000ULL) /* steady-state re-base period */
#define FIRST_NS (4 * 1000000ULL) /* the first calibration; periods double up to UPDATE_NS */
#define BIAS_PPM 20 /* how much faster than measured guest time runs */
#define WINDOW 64 /* samples the rate is measured over (~3 s) */
#define STEP_NS 1000 /* an offset that moves more than this is a clock step */

static struct {
	pthread_once_t once;
	long err;
	struct ward_vdso info;
	struct ward_vvar *page; /* the sentry's view of the parameter page */
} vd = { .once = PTHREAD_ONCE_INIT };

struct sample {
	uint64_t tsc; /* read before mono */
	uint64_t mono; /* host CLOCK_MONOTONIC in ns */
	uint64_t width; /* TSC ticks the read took: the sample's uncertainty */
};

static uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t host_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* The tightest of a few (tsc, CLOCK_MONOTONIC) pairs. */
static struct sample take_sample(void)
{
	struct sample best = { 0, 0, UINT64_MAX };
	for (int i = 0; i < 5; i++) {
		uint64_t t1 = rdtsc_ordered();
		uint64_t m = host_ns(CLOCK_MONOTONIC);
		uint64_t t2 = rdtsc_ordered();
		if (t2 - t1 < best.width)
			best = (struct sample){ t1, m, t2 - t1 };
	}
	return best;
}

/* An upper bound of (clock id - CLOCK_MONOTONIC): the clock is read after
 * the monotonic one. */
static int64_t offset_bound(clockid_t id)
{
	int64_t best = INT64_MAX;
	for (int i = 0; i < 3; i++) {
		uint64_t m = host_ns(CLOCK_MONOTONIC);
		int64_t off = (int64_t)(host_ns(id) - m);
		if (off < best)
			best = off;
	}
	return best;
}

/* Offsets only change when the host's clock is stepped (slewing moves
 * CLOCK_MONOTONIC too). Within the noise of reading them, keep the lowest
 * bound seen, so that the offset settles instead of jittering. */
static int64_t settle_offset(int64_t old, int64_t bound, bool first)
{
	if (first || bound > old + STEP_NS || bound < old - STEP_NS)
		return bound;
	return bound < old ? bound : old;
}

/* Whether the TSC ticks at one rate in every power state: both flags in
 * /proc/cpuinfo, as Linux's own TSC clocksource wants. */
static bool tsc_usable(void)
{
	const char *force = getenv("WARD_VDSO");
	if (force && strcmp(force, "syscall") == 0)
		return false;
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return false;
	char line[8192];
	bool constant = false, nonstop = false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		constant = strstr(line, " constant_tsc") != NULL;
		nonstop = strstr(line, " nonstop_tsc") != NULL;
		break;
	}
	fclose(f);
	return constant && nonstop;
}

/* The writer's half of the seqlock (only the updater thread writes). On
 * x86 stores are not reordered with stores, so compiler barriers order
 * seq against the data for readers. */
static void publish(const struct ward_vvar *nv)
{
	struct ward_vvar *p = vd.page;
	uint32_t seq = p->seq;
	/* SAFETY: p is the parameter page in the sentry's mapping of the
	 * memory file, allocated for good in vdso_init; guests only read it. */
	__atomic_store_n(&p->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	p->flags = nv->flags;
	p->tsc_base = nv->tsc_base;
	p->mono_ns = nv->mono_ns;
	p->mult = nv->mult;
	p->shift = nv->shift;
	p->ncpus = nv->ncpus;
	p->realtime_off = nv->realtime_off;
	p->boottime_off = nv->boottime_off;
	p->tai_off = nv->tai_off;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&p->seq, seq + 2, __ATOMIC_RELAXED);
}

static uint64_t clock_at(const struct ward_vvar *v, uint64_t tsc)
{
	uint64_t delta = tsc - v->tsc_base;
	if ((int64_t)delta < 0)
		delta = 0;
	return v->mono_ns + (uint64_t)(((unsigned __int128)delta * v->mult) >> v->shift);
}

static void *updater(void *arg)
{
	(void)arg;
	struct sample ring[WINDOW];
	size_t n = 0;
	struct ward_vvar cur = { 0 };
	bool have = false;
	uint64_t period = FIRST_NS;

	ring[n++] = take_sample();
	for (;;) {
		struct timespec req = { (time_t)(period / NSEC_PER_SEC), (long)(period % NSEC_PER_SEC) };
		while (nanosleep(&req, &req) < 0)
			;
		struct sample s = take_sample();
		const struct sample *a = n < WINDOW ? &ring[0] : &ring[n % WINDOW];
		ring[n % WINDOW] = s;
		n++;
		if (s.tsc <= a->tsc || s.mono <= a->mono)
			continue; /* a TSC that went back: keep the old parameters */

		/* The measured rate (ns per tick << SHIFT), and how far it may
		 * be off given the two samples' widths. */
		uint64_t dt = s.tsc - a->tsc;
		unsigned __int128 rate = ((unsigned __int128)(s.mono - a->mono) << SHIFT) / dt;
		uint64_t err_ppm = (a->width + s.width) * 1000000 / dt + 1;
		uint64_t bias_ppm = BIAS_PPM + err_ppm;

		uint64_t base = s.mono;
		if (have) {
			uint64_t pred = clock_at(&cur, s.tsc);
			if (pred > base)
				base = pred;
		}
		/* The lead over the host, paid back over the next period at
		 * most 2 * bias; the rate then stays within bias of measured. */
		uint64_t next = period * 2 < UPDATE_NS ? period * 2 : UPDATE_NS;
		uint64_t lead_ppm = (base - s.mono) * 1000000 / next;
		if (lead_ppm > 2 * bias_ppm)
			lead_ppm = 2 * bias_ppm;
		rate = rate * (1000000 + bias_ppm - lead_ppm) / 1000000;

		struct ward_vvar nv = {
			.flags = 0,
			.tsc_base = s.tsc,
			.mono_ns = base,
			.mult = (uint64_t)rate,
			.shift = SHIFT,
			.ncpus = (uint32_t)ward_host_ncpus(),
		};
		int64_t real = offset_bound(CLOCK_REALTIME), boot = offset_bound(CLOCK_BOOTTIME);
		nv.realtime_off = settle_offset(cur.realtime_off, real, !have);
		nv.boottime_off = settle_offset(cur.boottime_off, boot < 0 ? 0 : boot, !have);
		/* TAI is REALTIME plus a whole number of seconds. */
		int64_t tai = (int64_t)(host_ns(CLOCK_TAI) - host_ns(CLOCK_REALTIME));
		nv.tai_off = nv.realtime_off +
			     (tai + (int64_t)NSEC_PER_SEC / 2) / (int64_t)NSEC_PER_SEC * (int64_t)NSEC_PER_SEC;
		publish(&nv);
		cur = nv;
		have = true;
		period = next;
	}
	return NULL;
}

static void vdso_init(void)
{
	size_t len = (size_t)(ward__vdso_image_end - ward__vdso_image_start);
	uint64_t image_len = WARD_PAGE_ALIGN_UP(len);
	uint64_t off;
	long r = ward_memfile_alloc(WARD_PAGE_SIZE + image_len, &off);
	if (r < 0) {
		vd.err = r;
		return;
	}
	r = ward_memfile_write(off + WARD_PAGE_SIZE, ward__vdso_image_start, len);
	if (r < 0) {
		ward_memfile_free(off, WARD_PAGE_SIZE + image_len);
		vd.err = r;
		return;
	}
	vd.info = (struct ward_vdso){ off, off + WARD_PAGE_SIZE, image_len };
	/* SAFETY: [off, off + page) is allocated above and never freed. */
	vd.page = (struct ward_vvar *)((uint8_t *)ward__memfile_base() + off);
	/* Until the first calibration, and for good on a host without a
	 * usable TSC, every vDSO call is a system call. */
	struct ward_vvar nv = { .flags = WARD_VVAR_USE_SYSCALL, .shift = SHIFT, .ncpus = (uint32_t)ward_host_ncpus() };
	publish(&nv);
	if (!tsc_usable())
		return;

	/* The updater takes no signals: they are the task threads'. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t tid;
	int e = pthread_create(&tid, NULL, updater, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e == 0)
		pthread_detach(tid);
	else
		ward_log(WARD_LOG_WARN, "vdso: cannot start the clock thread: %s; clocks use system calls",
			 strerror(e));
}

long ward_vdso_get(struct ward_vdso *out)
{
	pthread_once(&vd.once, vdso_init);
	if (vd.err < 0)
		return vd.err;
	*out = vd.info;
	return 0;
}
