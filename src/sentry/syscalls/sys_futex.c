/* futex(2), for a process of one thread: there is never another waiter to
 * wake nor another thread to change the word, so WAKE wakes nobody, and a
 * WAIT whose word matches sleeps until its timeout (or forever, as it would
 * on Linux with no one left to wake it). Multi-threaded futexes, requeue
 * and PI come with the process issue; their operations return ENOSYS. */
#include "sentry/service.h"

#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

#define FUTEX_WAIT_OP 0
#define FUTEX_WAKE_OP_ 1
#define FUTEX_WAIT_BITSET_OP 9
#define FUTEX_WAKE_BITSET_OP 10
#define FUTEX_PRIVATE 128
#define FUTEX_CLOCK_RT 256

/* futex(2) */
long sys_futex(struct task *t, const struct syscall_args *args)
{
	gaddr_t uaddr = arg_addr(args, 0);
	int op = arg_int(args, 1);
	int cmd = op & ~(FUTEX_PRIVATE | FUTEX_CLOCK_RT);
	uint32_t val = arg_uint(args, 2);
	uint32_t word;

	if ((op & FUTEX_CLOCK_RT) && cmd != FUTEX_WAIT_BITSET_OP && cmd != FUTEX_WAIT_OP)
		return -ENOSYS;
	if (uaddr.v % 4)
		return -EINVAL;
	switch (cmd) {
	case FUTEX_WAKE_OP_:
	case FUTEX_WAKE_BITSET_OP:
		if (cmd == FUTEX_WAKE_BITSET_OP && arg_uint(args, 5) == 0)
			return -EINVAL;
		return 0;
	case FUTEX_WAIT_OP:
	case FUTEX_WAIT_BITSET_OP: {
		if (cmd == FUTEX_WAIT_BITSET_OP && arg_uint(args, 5) == 0)
			return -EINVAL;
		struct linux_timespec ts;
		bool has_timeout = !gaddr_is_null(arg_addr(args, 3));
		if (has_timeout) {
			if (WARD_COPY_IN_OBJ(task_as(t), &ts, arg_addr(args, 3)) < 0)
				return -EFAULT;
			if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
				return -EINVAL;
		}
		if (ward_copy_in(task_as(t), &word, uaddr, sizeof(word)) < 0)
			return -EFAULT;
		if (word != val)
			return -EAGAIN;
		if (!has_timeout) {
			/* No other thread can wake this one: only a signal ends it. */
			while (task_sleep(t, 0) != -EINTR)
				;
			return -WARD_ERESTARTSYS;
		}
		if (cmd == FUTEX_WAIT_BITSET_OP || (op & FUTEX_CLOCK_RT)) {
			/* An absolute timeout on the chosen clock. */
			struct linux_timespec now;
			ward_host_clock_gettime(op & FUTEX_CLOCK_RT ? CLOCK_REALTIME : CLOCK_MONOTONIC, &now);
			int64_t ns = (ts.tv_sec - now.tv_sec) * 1000000000L + (ts.tv_nsec - now.tv_nsec);
			if (ns <= 0)
				return -ETIMEDOUT;
			ts.tv_sec = ns / 1000000000L;
			ts.tv_nsec = ns % 1000000000L;
		}
		int64_t deadline = ward_now_ns() + ts.tv_sec * 1000000000L + ts.tv_nsec;
		for (;;) {
			long r = task_sleep(t, deadline);
			if (r == -ETIMEDOUT)
				return -ETIMEDOUT;
			if (r == -EINTR)
				return -WARD_ERESTARTSYS;
		}
	}
	default:
		return -ENOSYS;
	}
}
