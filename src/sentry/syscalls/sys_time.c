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

/* Sleeps for a relative duration; on interruption writes the rest to rem.
 * Signals cannot interrupt a sleep until the process issue brings them. */
static long sleep_relative(struct task *t, const struct linux_timespec *req, gaddr_t rem)
{
	struct linux_timespec left = { 0, 0 };
	long r = ward_host_nanosleep(req, &left);
	if (r == -EINTR && !gaddr_is_null(rem) && WARD_COPY_OUT_OBJ(task_as(t), rem, &left) < 0)
		return -EFAULT;
	return r == -EINTR ? -WARD_ERESTART_RESTARTBLOCK : r;
}

/* nanosleep(2) */
long sys_nanosleep(struct task *t, const struct syscall_args *args)
{
	struct linux_timespec req;
	long r = read_timespec(t, arg_addr(args, 0), &req);
	if (r < 0)
		return r;
	return sleep_relative(t, &req, arg_addr(args, 1));
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
		/* An absolute sleep never reports the remaining time. */
		r = sleep_relative(t, &req, gaddr(0));
		return r == -WARD_ERESTART_RESTARTBLOCK ? -WARD_ERESTARTNOHAND : r;
	}
	return sleep_relative(t, &req, arg_addr(args, 3));
}
