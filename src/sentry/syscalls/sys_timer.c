/* POSIX timers (timer_create and friends) and CPU usage (times,
 * getrusage). The timers are kernel/timer.c's ptimers. */
#include "sentry/service.h"

#include "sentry/kernel/task.h"
#include "sentry/kernel/timer.h"
#include "sentry/syscalls/syscalls.h"

#define NSEC_PER_SEC 1000000000L
#define SI_TIMER_ (-2)
#define SIGEV_SIGNAL_ 0
#define SIGEV_NONE_ 1
#define SIGEV_THREAD_ 2
#define SIGEV_THREAD_ID_ 4
/* A bound on one process's timers, so that a guest cannot eat the
 * sentry's memory (Linux bounds them by memory only; EAGAIN is its answer
 * when it runs out). */
#define MAX_POSIX_TIMERS 65536

/* The kernel's sigevent: 64 bytes. */
struct linux_sigevent {
	uint64_t sigev_value;
	int32_t sigev_signo;
	int32_t sigev_notify;
	union {
		int32_t tid;
		int32_t pad[12];
	} u;
};
_Static_assert(sizeof(struct linux_sigevent) == 64, "sigevent");

struct linux_itimerspec {
	struct linux_timespec it_interval;
	struct linux_timespec it_value;
};

static int64_t ts_ns(const struct linux_timespec *ts)
{
	return ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

static struct linux_timespec ns_ts(int64_t ns)
{
	struct linux_timespec ts = { ns / NSEC_PER_SEC, ns % NSEC_PER_SEC };
	return ts;
}

static bool ts_valid(const struct linux_timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < NSEC_PER_SEC;
}

/* The wall clocks a timer may count (converted to CLOCK_MONOTONIC). */
static bool wall_timer_clock(int id)
{
	return id == CLOCK_REALTIME || id == CLOCK_MONOTONIC || id == CLOCK_BOOTTIME || id == CLOCK_TAI;
}

static struct ptimer *find_timer(struct task *t, int32_t id)
{
	struct timer_proc *tp = t->proc->timers;
	if (!tp || id < 0)
		return NULL;
	for (struct ptimer *pt = tp->posix; pt; pt = pt->next)
		if (pt->id == id)
			return pt;
	return NULL;
}

/* timer_create(2) */
long sys_timer_create(struct task *t, const struct syscall_args *args)
{
	int clockid = arg_int(args, 0);
	struct linux_sigevent ev;
	bool have_ev = !gaddr_is_null(arg_addr(args, 1));
	struct process *cp;
	struct task *cth = NULL;
	int which;
	enum ptimer_clock kind = PTIMER_WALL;

	if (have_ev && WARD_COPY_IN_OBJ(task_as(t), &ev, arg_addr(args, 1)) < 0)
		return -EFAULT;
	/* The clock: fixed ones first, then the CPU clocks; dynamic (fd)
	 * clocks and the clocks without timers are EOPNOTSUPP. */
	if (clockid < 0) {
		if ((clockid & 7) == 3)
			return -EOPNOTSUPP;
		if ((clockid & 3) == 3)
			return -EINVAL;
	} else if (!wall_timer_clock(clockid) && clockid != CLOCK_PROCESS_CPUTIME_ID &&
		   clockid != CLOCK_THREAD_CPUTIME_ID) {
		if (clockid <= CLOCK_TAI && clockid != 10)
			return -EOPNOTSUPP; /* MONOTONIC_RAW, the COARSE ones, the ALARM ones (no RTC) */
		return -EINVAL;
	}
	struct timer_proc *tp = timer_proc_of(t->proc);
	if (!tp)
		return -ENOMEM;
	if (tp->nposix >= MAX_POSIX_TIMERS)
		return -EAGAIN;
	/* The id is used up from here on, even if the call then fails. */
	int32_t id = tp->next_id;
	tp->next_id = (tp->next_id + 1) & INT32_MAX;
	while (find_timer(t, id)) {
		id = tp->next_id;
		tp->next_id = (tp->next_id + 1) & INT32_MAX;
	}

	int notify = PTIMER_NOTIFY_SIGNAL, signo = SIGALRM;
	int32_t target = 0;
	uint64_t value = (uint32_t)id;
	if (have_ev) {
		switch (ev.sigev_notify) {
		case SIGEV_SIGNAL_ | SIGEV_THREAD_ID_: {
			struct task *tt = task_by_tid(ev.u.tid);
			if (!tt || tt->proc != t->proc)
				return -EINVAL;
			notify = PTIMER_NOTIFY_THREAD;
			target = ev.u.tid;
		}
			/* fall through */
		case SIGEV_SIGNAL_:
		case SIGEV_THREAD_:
			if (ev.sigev_signo <= 0 || ev.sigev_signo > WARD_NSIG)
				return -EINVAL;
			break;
		case SIGEV_NONE_:
			notify = PTIMER_NOTIFY_NONE;
			break;
		default:
			return -EINVAL;
		}
		signo = ev.sigev_signo;
		value = ev.sigev_value;
	}
	if (ward_copy_out(task_as(t), arg_addr(args, 2), &id, sizeof(id)) < 0)
		return -EFAULT;
	if (clockid < 0 || clockid == CLOCK_PROCESS_CPUTIME_ID || clockid == CLOCK_THREAD_CPUTIME_ID) {
		long r = timer_cpu_clock(t, clockid, false, &cp, &cth, &which);
		if (r < 0)
			return r;
		/* A timer on another process's clock is not offered: EINVAL,
		 * as for a clock that does not exist. */
		if (cp != t->proc)
			return -EINVAL;
		kind = cth ? PTIMER_THREAD_CPU : PTIMER_PROC_CPU;
	}

	struct ptimer *pt = calloc(1, sizeof(*pt));
	if (!pt)
		return -EAGAIN;
	ptimer_init(pt, t->proc, kind);
	pt->cpu_tid = cth ? cth->tid : 0;
	pt->notify = notify;
	pt->signo = signo;
	pt->si_code = SI_TIMER_;
	pt->target_tid = target;
	pt->value = value;
	pt->id = id;
	pt->clockid = clockid;
	pt->next = tp->posix;
	tp->posix = pt;
	tp->nposix++;
	return 0;
}

static long get_setting(struct ptimer *pt, struct linux_itimerspec *out)
{
	memset(out, 0, sizeof(*out));
	out->it_interval = ns_ts(pt->interval);
	out->it_value = ns_ts(ptimer_remaining(pt));
	return 0;
}

/* timer_settime(2) */
long sys_timer_settime(struct task *t, const struct syscall_args *args)
{
	int32_t id = arg_int(args, 0);
	int flags = arg_int(args, 1);
	struct linux_itimerspec nv, old;

	if (gaddr_is_null(arg_addr(args, 2)))
		return -EINVAL;
	if (WARD_COPY_IN_OBJ(task_as(t), &nv, arg_addr(args, 2)) < 0)
		return -EFAULT;
	if (!ts_valid(&nv.it_interval) || !ts_valid(&nv.it_value))
		return -EINVAL;
	struct ptimer *pt = find_timer(t, id);
	if (!pt)
		return -EINVAL;
	get_setting(pt, &old);
	int64_t v = ts_ns(&nv.it_value), expires = 0;
	if (v) {
		if (!(flags & TIMER_ABSTIME)) {
			expires = ptimer_now(pt) + v;
		} else if (pt->clock != PTIMER_WALL) {
			expires = v;
		} else {
			/* An absolute time on a wall clock: CLOCK_MONOTONIC's
			 * time at the same moment. */
			struct linux_timespec now;
			long r = ward_host_clock_gettime(pt->clockid, &now);
			if (r < 0)
				return r;
			expires = ward_now_ns() + (v - ts_ns(&now));
		}
		if (expires <= 0)
			expires = 1; /* long past: fires at once */
	}
	ptimer_set(pt, expires, ts_ns(&nv.it_interval));
	if (!gaddr_is_null(arg_addr(args, 3)) && WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 3), &old) < 0)
		return -EFAULT;
	return 0;
}

/* timer_gettime(2) */
long sys_timer_gettime(struct task *t, const struct syscall_args *args)
{
	struct linux_itimerspec cur;
	struct ptimer *pt = find_timer(t, arg_int(args, 0));
	if (!pt)
		return -EINVAL;
	get_setting(pt, &cur);
	return WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 1), &cur);
}

/* timer_getoverrun(2) */
long sys_timer_getoverrun(struct task *t, const struct syscall_args *args)
{
	struct ptimer *pt = find_timer(t, arg_int(args, 0));
	if (!pt)
		return -EINVAL;
	return ptimer_overrun(pt);
}

/* timer_delete(2) */
long sys_timer_delete(struct task *t, const struct syscall_args *args)
{
	struct ptimer *pt = find_timer(t, arg_int(args, 0));
	if (!pt)
		return -EINVAL;
	ptimer_delete(t->proc->timers, pt);
	return 0;
}

/* CPU usage. */

struct linux_tms {
	int64_t tms_utime, tms_stime, tms_cutime, tms_cstime;
};

#define USER_HZ 100
#define KERNEL_HZ 250
/* jiffies start 5 minutes before wrapping 32 bits (INITIAL_JIFFIES), so
 * that times(2) counts from a large, arbitrary value as on Linux. */
#define INITIAL_JIFFIES_ ((int64_t)(uint32_t)(-300 * KERNEL_HZ))

static int64_t ns_ticks(int64_t ns)
{
	return ns / (NSEC_PER_SEC / USER_HZ);
}

/* times(2): the buffer may be NULL. All CPU time is user time. */
long sys_times(struct task *t, const struct syscall_args *args)
{
	struct process *p = t->proc;
	if (!gaddr_is_null(arg_addr(args, 0))) {
		struct linux_tms tms = { ns_ticks(timer_process_cpu_ns(p)), 0, ns_ticks(p->children_run_ns), 0 };
		if (WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 0), &tms) < 0)
			return -EFAULT;
	}
	int64_t jiffies = INITIAL_JIFFIES_ + ward_now_ns() / (NSEC_PER_SEC / KERNEL_HZ);
	return (long)(jiffies * USER_HZ / KERNEL_HZ);
}

struct linux_rusage_ {
	struct linux_timeval ru_utime;
	struct linux_timeval ru_stime;
	int64_t ru_maxrss;
	int64_t rest[13];
};
_Static_assert(sizeof(struct linux_rusage_) == 144, "rusage");

#define RUSAGE_SELF_ 0
#define RUSAGE_CHILDREN_ (-1)
#define RUSAGE_THREAD_ 1

/* getrusage(2): CPU time (all user time) and the peak of mapped memory;
 * the other counters are zero. */
long sys_getrusage(struct task *t, const struct syscall_args *args)
{
	int who = arg_int(args, 0);
	struct process *p = t->proc;
	struct linux_rusage_ ru;
	int64_t ns;

	memset(&ru, 0, sizeof(ru));
	switch (who) {
	case RUSAGE_SELF_:
	case RUSAGE_THREAD_:
		ns = who == RUSAGE_SELF_ ? timer_process_cpu_ns(p) : timer_thread_cpu_ns(t);
		timer_sample_rss(t);
		ru.ru_maxrss = p->maxrss_kb;
		break;
	case RUSAGE_CHILDREN_:
		ns = p->children_run_ns;
		ru.ru_maxrss = p->children_maxrss_kb;
		break;
	default:
		return -EINVAL;
	}
	ru.ru_utime.tv_sec = ns / NSEC_PER_SEC;
	ru.ru_utime.tv_usec = (ns % NSEC_PER_SEC) / 1000;
	return WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 1), &ru);
}
