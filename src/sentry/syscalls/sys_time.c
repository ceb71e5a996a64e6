/* Time: clocks, sleeps, interval timers and alarm. The timers themselves
 * are kernel/timer.c's; POSIX timers and CPU usage are in sys_timer.c. */
#include "sentry/service.h"

#include "sentry/kernel/task.h"
#include "sentry/kernel/timer.h"
#include "sentry/syscalls/syscalls.h"

#define NSEC_PER_SEC 1000000000L

/* The fixed clock ids Linux accepts (CLOCK_SGI_CYCLE, 10, is gone). The
 * CPU-time ones (2, 3 and the negative ids) are the sandbox's own. */
static bool clock_valid(int id)
{
	return id >= CLOCK_REALTIME && id <= CLOCK_TAI && id != 10;
}

/* The resolution of CPU clocks other than CPUCLOCK_SCHED: a tick (HZ=250),
 * as Linux reports them. */
#define TICK_NSEC_ 4000000

/* clock_gettime(2) */
long sys_clock_gettime(struct task *t, const struct syscall_args *args)
{
	struct linux_timespec ts;
	int id = arg_int(args, 0), which;
	struct process *p;
	struct task *th;
	long r = timer_cpu_clock(t, id, true, &p, &th, &which);
	if (r < 0)
		return r;
	if (r) {
		int64_t ns = th ? timer_thread_cpu_ns(th) : timer_process_cpu_ns(p);
		ts.tv_sec = ns / NSEC_PER_SEC;
		ts.tv_nsec = ns % NSEC_PER_SEC;
	} else {
		if (!clock_valid(id))
			return -EINVAL;
		r = ward_host_clock_gettime(id, &ts);
		if (r < 0)
			return r;
	}
	return WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 1), &ts);
}

/* clock_getres(2): a NULL res is allowed. */
long sys_clock_getres(struct task *t, const struct syscall_args *args)
{
	struct linux_timespec ts;
	int id = arg_int(args, 0), which;
	struct process *p;
	struct task *th;
	long r = timer_cpu_clock(t, id, false, &p, &th, &which);
	if (r < 0)
		return r;
	if (r) {
		ts.tv_sec = 0;
		ts.tv_nsec = which == CPUCLOCK_SCHED ? 1 : TICK_NSEC_;
	} else {
		if (!clock_valid(id))
			return -EINVAL;
		r = ward_host_clock_getres(id, &ts);
		if (r < 0)
			return r;
	}
	if (gaddr_is_null(arg_addr(args, 1)))
		return 0;
	return WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 1), &ts);
}

/* gettimeofday(2): the timezone is always zero, as on a modern kernel. */
long sys_gettimeofday(struct task *t, const struct syscall_args *args)
{
	struct linux_timespec ts;
	long r = ward_host_clock_gettime(CLOCK_REALTIME, &ts);
	if (r < 0)
		return r;
	if (!gaddr_is_null(arg_addr(args, 0))) {
		struct linux_timeval tv = { ts.tv_sec, ts.tv_nsec / 1000 };
		if (WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 0), &tv) < 0)
			return -EFAULT;
	}
	if (!gaddr_is_null(arg_addr(args, 1))) {
		struct linux_timezone tz = { 0, 0 };
		if (WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 1), &tz) < 0)
			return -EFAULT;
	}
	return 0;
}

/* time(2) */
long sys_time(struct task *t, const struct syscall_args *args)
{
	struct linux_timespec ts;
	long r = ward_host_clock_gettime(CLOCK_REALTIME, &ts);
	if (r < 0)
		return r;
	if (!gaddr_is_null(arg_addr(args, 0))) {
		int64_t s = ts.tv_sec;
		if (WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 0), &s) < 0)
			return -EFAULT;
	}
	return (long)ts.tv_sec;
}

static long read_timespec(struct task *t, gaddr_t addr, struct linux_timespec *ts)
{
	if (WARD_COPY_IN_OBJ(task_as(t), ts, addr) < 0)
		return -EFAULT;
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= NSEC_PER_SEC)
		return -EINVAL;
	return 0;
}

/* Sleeps until deadline (CLOCK_MONOTONIC ns). A signal ends the sleep: the
 * rest goes to rem, and restart_syscall can finish it if no handler runs. */
static long sleep_until(struct task *t, int64_t deadline, gaddr_t rem)
{
	for (;;) {
		long r = task_sleep(t, deadline);
		if (r == -ETIMEDOUT)
			return 0;
		if (r == -EINTR)
			break;
	}
	int64_t left = deadline - ward_now_ns();
	if (left < 0)
		left = 0;
	if (!gaddr_is_null(rem)) {
		struct linux_timespec ts = { left / NSEC_PER_SEC, left % NSEC_PER_SEC };
		if (WARD_COPY_OUT_OBJ(task_as(t), rem, &ts) < 0)
			return -EFAULT;
	}
	t->restart_deadline_ns = deadline;
	t->restart_rem = rem;
	return -WARD_ERESTART_RESTARTBLOCK;
}

static int64_t deadline_after(const struct linux_timespec *ts)
{
	int64_t d = ward_now_ns() + ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
	return d > 0 ? d : INT64_MAX;
}

/* restart_syscall(2): finishes the sleep a signal without a handler broke. */
long sys_restart_syscall(struct task *t, const struct syscall_args *args)
{
	if (!t->restart_deadline_ns)
		return -EINTR;
	int64_t deadline = t->restart_deadline_ns;
	t->restart_deadline_ns = 0;
	return sleep_until(t, deadline, t->restart_rem);
}

/* nanosleep(2) */
long sys_nanosleep(struct task *t, const struct syscall_args *args)
{
	struct linux_timespec req;
	long r = read_timespec(t, arg_addr(args, 0), &req);
	if (r < 0)
		return r;
	return sleep_until(t, deadline_after(&req), arg_addr(args, 1));
}

/* clock_nanosleep(2) on a CPU clock: sleeps until the clock (advanced by
 * the other threads) reaches the time. The CPU time of threads running
 * guest code is only counted when they stop, so they are stopped at each
 * look. A signal ends the sleep with EINTR (and the time left). */
static long cpu_nanosleep(struct task *t, int id, int flags, gaddr_t req_addr, gaddr_t rem)
{
	struct process *p;
	struct task *th;
	struct linux_timespec req;
	int which;
	/* A thread cannot wait for its own CPU clock. */
	if ((id & CPUCLOCK_PERTHREAD) && id < 0 && (~(id >> 3) == 0 || ~(id >> 3) == t->tid))
		return -EINVAL;
	long r = timer_cpu_clock(t, id, false, &p, &th, &which);
	if (r < 0)
		return r;
	r = read_timespec(t, req_addr, &req);
	if (r < 0)
		return r;
	int64_t now = th ? timer_thread_cpu_ns(th) : timer_process_cpu_ns(p);
	int64_t target = req.tv_sec * NSEC_PER_SEC + req.tv_nsec;
	if (!(flags & TIMER_ABSTIME))
		target = target > INT64_MAX - now ? INT64_MAX : now + target;
	int32_t pid = p->pid, tid = th ? th->tid : 0;
	for (;;) {
		/* The clock's owner may be gone. */
		if (process_by_pid(pid) != p || (tid && task_by_tid(tid) != th))
			return -EINVAL;
		now = th ? timer_thread_cpu_ns(th) : timer_process_cpu_ns(p);
		if (now >= target)
			return 0;
		for (struct task *o = p->threads; o; o = o->next_in_proc)
			if (o != t && o->ctx)
				ward_ctx_interrupt(o->ctx);
		int64_t step = (target - now) / (p->nthreads > 0 ? p->nthreads : 1);
		r = task_sleep(t, ward_now_ns() + WARD_MAX(step, (int64_t)1000000));
		if (r == -EINTR)
			break;
	}
	if (!(flags & TIMER_ABSTIME) && !gaddr_is_null(rem)) {
		int64_t left = target - now;
		struct linux_timespec ts = { left / NSEC_PER_SEC, left % NSEC_PER_SEC };
		if (WARD_COPY_OUT_OBJ(task_as(t), rem, &ts) < 0)
			return -EFAULT;
	}
	return -EINTR;
}

/* clock_nanosleep(2) */
long sys_clock_nanosleep(struct task *t, const struct syscall_args *args)
{
	int id = arg_int(args, 0), flags = arg_int(args, 1);
	struct linux_timespec req;

	/* Linux looks at TIMER_ABSTIME only and ignores other flag bits. */
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
	case CLOCK_TAI:
		break;
	case CLOCK_PROCESS_CPUTIME_ID:
		return cpu_nanosleep(t, id, flags, arg_addr(args, 2), arg_addr(args, 3));
	case CLOCK_THREAD_CPUTIME_ID:
		return -EOPNOTSUPP; /* the kernel's answer; glibc says EINVAL itself */
	default:
		if (id < 0)
			return cpu_nanosleep(t, id, flags, arg_addr(args, 2), arg_addr(args, 3));
		return clock_valid(id) ? -ENOTSUP : -EINVAL;
	}
	long r = read_timespec(t, arg_addr(args, 2), &req);
	if (r < 0)
		return r;
	if (flags & TIMER_ABSTIME) {
		struct linux_timespec now;
		r = ward_host_clock_gettime(id, &now);
		if (r < 0)
			return r;
		int64_t ns = (req.tv_sec - now.tv_sec) * NSEC_PER_SEC + (req.tv_nsec - now.tv_nsec);
		if (ns <= 0)
			return 0;
		req.tv_sec = ns / NSEC_PER_SEC;
		req.tv_nsec = ns % NSEC_PER_SEC;
		/* An absolute sleep never reports the remaining time, and is simply
		 * called again after a handler. */
		r = sleep_until(t, deadline_after(&req), gaddr(0));
		return r == -WARD_ERESTART_RESTARTBLOCK ? -WARD_ERESTARTNOHAND : r;
	}
	return sleep_until(t, deadline_after(&req), arg_addr(args, 3));
}

/* Interval timers: kernel/timer.c's itimers of the process. */
#define ITIMER_REAL_ 0
#define ITIMER_VIRTUAL_ 1
#define ITIMER_PROF_ 2

struct linux_itimerval {
	struct linux_timeval it_interval;
	struct linux_timeval it_value;
};

static int64_t tv_ns(const struct linux_timeval *tv)
{
	return tv->tv_sec * NSEC_PER_SEC + tv->tv_usec * 1000;
}

static struct linux_timeval ns_tv(int64_t ns)
{
	struct linux_timeval tv = { ns / NSEC_PER_SEC, (ns % NSEC_PER_SEC) / 1000 };
	/* A timer still running never reads as zero. */
	if (ns > 0 && tv.tv_sec == 0 && tv.tv_usec == 0)
		tv.tv_usec = 1;
	return tv;
}

static bool tv_valid(const struct linux_timeval *tv)
{
	return tv->tv_sec >= 0 && tv->tv_usec >= 0 && tv->tv_usec < 1000000;
}

static void get_itimer(struct ptimer *pt, struct linux_itimerval *out)
{
	out->it_value = ns_tv(ptimer_remaining(pt));
	out->it_interval = ns_tv(pt->interval);
}

/* Arms itimer which of p for value ns from now (0 disarms), repeating
 * every interval; the old setting goes to old. */
static long set_itimer(struct process *p, int which, int64_t value, int64_t interval, struct linux_itimerval *old)
{
	struct timer_proc *tp = timer_proc_of(p);
	if (!tp)
		return -ENOMEM;
	struct ptimer *pt = &tp->itimer[which];
	if (old)
		get_itimer(pt, old);
	ptimer_set(pt, value ? ptimer_now(pt) + value : 0, interval);
	return 0;
}

/* getitimer(2) */
long sys_getitimer(struct task *t, const struct syscall_args *args)
{
	struct linux_itimerval it;
	int which = arg_int(args, 0);
	if (which < ITIMER_REAL_ || which > ITIMER_PROF_)
		return -EINVAL;
	memset(&it, 0, sizeof(it));
	struct timer_proc *tp = timer_proc_of(t->proc);
	if (!tp)
		return -ENOMEM;
	get_itimer(&tp->itimer[which], &it);
	return WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 1), &it);
}

/* setitimer(2): a NULL new value disarms (a misfeature Linux keeps). */
long sys_setitimer(struct task *t, const struct syscall_args *args)
{
	struct linux_itimerval nv, old;
	int which = arg_int(args, 0);
	memset(&nv, 0, sizeof(nv));
	if (!gaddr_is_null(arg_addr(args, 1))) {
		if (WARD_COPY_IN_OBJ(task_as(t), &nv, arg_addr(args, 1)) < 0)
			return -EFAULT;
		if (!tv_valid(&nv.it_value) || !tv_valid(&nv.it_interval))
			return -EINVAL;
	}
	if (which < ITIMER_REAL_ || which > ITIMER_PROF_)
		return -EINVAL;
	long r = set_itimer(t->proc, which, tv_ns(&nv.it_value), tv_ns(&nv.it_interval), &old);
	if (r < 0)
		return r;
	if (!gaddr_is_null(arg_addr(args, 2)) && WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 2), &old) < 0)
		return -EFAULT;
	return 0;
}

/* alarm(2): returns the seconds left of the previous alarm, rounded as
 * Linux rounds them (never 0 for a pending alarm). */
long sys_alarm(struct task *t, const struct syscall_args *args)
{
	struct linux_itimerval old;
	unsigned int secs = arg_uint(args, 0);
	long r = set_itimer(t->proc, ITIMER_REAL_, (int64_t)secs * NSEC_PER_SEC, 0, &old);
	if (r < 0)
		return r;
	int64_t left = old.it_value.tv_sec;
	if ((!left && old.it_value.tv_usec) || old.it_value.tv_usec >= 500000)
		left++;
	return left;
}
