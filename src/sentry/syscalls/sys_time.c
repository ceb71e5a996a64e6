/* Time: clocks and sleeps. */
#include "sentry/service.h"

#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define NSEC_PER_SEC 1000000000L

/* The clock ids Linux accepts (CLOCK_SGI_CYCLE, 10, is gone). Dynamic
 * per-process CPU clocks (negative ids) come with the process issue. */
static bool clock_valid(int id)
{
	return id >= CLOCK_REALTIME && id <= CLOCK_TAI && id != 10;
}

/* clock_gettime(2) */
long sys_clock_gettime(struct task *t, const struct syscall_args *args)
{
	struct linux_timespec ts;
	int id = arg_int(args, 0);
	if (!clock_valid(id))
		return -EINVAL;
	long r = ward_host_clock_gettime(id, &ts);
	if (r < 0)
		return r;
	return WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 1), &ts);
}

/* clock_getres(2): a NULL res is allowed. */
long sys_clock_getres(struct task *t, const struct syscall_args *args)
{
	struct linux_timespec ts;
	int id = arg_int(args, 0);
	if (!clock_valid(id))
		return -EINVAL;
	long r = ward_host_clock_getres(id, &ts);
	if (r < 0)
		return r;
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
	case CLOCK_PROCESS_CPUTIME_ID:
		break;
	case CLOCK_THREAD_CPUTIME_ID:
		return -EOPNOTSUPP; /* the kernel's answer; glibc says EINVAL itself */
	default:
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

/* ITIMER_REAL and alarm: one sentry thread sleeps until the earliest
 * deadline of any process and sends SIGALRM when it passes. */
static struct ward_cond timer_cond;
static bool timer_running;

struct timer_scan {
	int64_t now;
	int64_t earliest;
};

static void timer_check(struct process *p, void *arg)
{
	struct timer_scan *s = arg;
	if (!p->alarm_deadline_ns || p->zombie)
		return;
	if (p->alarm_deadline_ns <= s->now) {
		struct linux_siginfo si;
		memset(&si, 0, sizeof(si));
		si.si_signo = SIGALRM;
		si.si_code = 0x80; /* SI_KERNEL */
		signal_send_process(p, &si);
		p->alarm_deadline_ns = p->alarm_interval_ns ? s->now + p->alarm_interval_ns : 0;
	}
	if (p->alarm_deadline_ns && (!s->earliest || p->alarm_deadline_ns < s->earliest))
		s->earliest = p->alarm_deadline_ns;
}

static void *timer_thread(void *arg)
{
	ward_kernel_lock();
	for (;;) {
		struct timer_scan s = { ward_now_ns(), 0 };
		process_for_each(timer_check, &s);
		ward_cond_wait(&timer_cond, s.earliest);
	}
	return NULL;
}

static void timer_kick(void)
{
	if (!timer_running) {
		ward_cond_init(&timer_cond);
		if (ward_thread_spawn(timer_thread, NULL) == 0)
			timer_running = true;
	}
	ward_cond_broadcast(&timer_cond);
}

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

static void get_real(struct process *p, struct linux_itimerval *out)
{
	int64_t left = p->alarm_deadline_ns ? p->alarm_deadline_ns - ward_now_ns() : 0;
	out->it_value = ns_tv(left > 0 ? left : (p->alarm_deadline_ns ? 1 : 0));
	out->it_interval = ns_tv(p->alarm_interval_ns);
}

/* getitimer(2): ITIMER_VIRTUAL and ITIMER_PROF need per-task CPU
 * accounting and are refused until then. */
long sys_getitimer(struct task *t, const struct syscall_args *args)
{
	struct linux_itimerval it;
	int which = arg_int(args, 0);
	if (which == ITIMER_VIRTUAL_ || which == ITIMER_PROF_ || which != ITIMER_REAL_)
		return -EINVAL;
	get_real(t->proc, &it);
	return WARD_COPY_OUT_OBJ(task_as(t), arg_addr(args, 1), &it);
}

/* setitimer(2) */
long sys_setitimer(struct task *t, const struct syscall_args *args)
{
	struct linux_itimerval nv, old;
	int which = arg_int(args, 0);
	if (which != ITIMER_REAL_)
		return -EINVAL;
	memset(&nv, 0, sizeof(nv));
	if (!gaddr_is_null(arg_addr(args, 1)) && WARD_COPY_IN_OBJ(task_as(t), &nv, arg_addr(args, 1)) < 0)
		return -EFAULT;
	if (nv.it_value.tv_usec < 0 || nv.it_value.tv_usec >= 1000000 || nv.it_interval.tv_usec < 0 ||
	    nv.it_interval.tv_usec >= 1000000 || nv.it_value.tv_sec < 0 || nv.it_interval.tv_sec < 0)
		return -EINVAL;
	get_real(t->proc, &old);
	int64_t v = tv_ns(&nv.it_value);
	t->proc->alarm_deadline_ns = v ? ward_now_ns() + v : 0;
	t->proc->alarm_interval_ns = v ? tv_ns(&nv.it_interval) : 0;
	timer_kick();
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
	get_real(t->proc, &old);
	t->proc->alarm_deadline_ns = secs ? ward_now_ns() + (int64_t)secs * NSEC_PER_SEC : 0;
	t->proc->alarm_interval_ns = 0;
	timer_kick();
	int64_t left = old.it_value.tv_sec;
	if ((!left && old.it_value.tv_usec) || old.it_value.tv_usec >= 500000)
		left++;
	return left;
}
