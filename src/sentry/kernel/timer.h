/* Kernel timers and CPU-time accounting.
 *
 * Two layers:
 *
 * - ktimer: a callback at a CLOCK_MONOTONIC deadline. One sentry thread
 *   (started on first use) sleeps on a condition with the kernel lock until
 *   the earliest deadline and runs the expired callbacks, with the kernel
 *   lock held, in deadline order.
 *
 * - interval timers of a process (struct ptimer): ITIMER_REAL/VIRTUAL/PROF,
 *   alarm(2) and POSIX timers (timer_create). Wall-clock ones ride on a
 *   ktimer; CPU-clock ones are checked each time a thread's CPU time is
 *   accounted (timer_account_run), and a ktimer interrupts the process's
 *   guest threads when a CPU timer could expire, so that a guest spinning
 *   without system calls still gets its SIGVTALRM/SIGPROF.
 *
 * CPU time is the time a thread spends running guest code, measured by the
 * task loop around each run (there is no user/system split: it is all user
 * time, and ITIMER_VIRTUAL and ITIMER_PROF count the same).
 *
 * Hooks the task code calls (all with the kernel lock held):
 *
 *   timer_account_run(t, ns)  task.c run_loop, after every guest run
 *                             (ward_ctx_run), once the kernel lock is taken
 *                             again, with the nanoseconds the run took.
 *   timer_process_exec(p)     execve, once the new image is committed:
 *                             POSIX timers are deleted (itimers and alarm
 *                             survive exec, as in Linux).
 *   timer_process_exit(p)     when the process ends (its last thread is
 *                             gone, before or as it becomes a zombie, and in
 *                             any case before the struct is freed): every
 *                             timer of p is disarmed and freed.
 *
 * A process that is freed without timer_process_exit does not crash the
 * timer thread (its ktimers check that the owner is still registered under
 * its pid before touching it) but its timers leak.
 *
 * Lock order: the kernel lock only; nothing here sleeps except the timer
 * thread itself. */
#ifndef WARD_KERNEL_TIMER_H
#define WARD_KERNEL_TIMER_H

#include "sentry/kernel/task.h"

struct ktimer;
typedef void (*ktimer_fn)(struct ktimer *k, int64_t now);

/* A one-shot callback at a CLOCK_MONOTONIC deadline. Embed it, initialise
 * it once, then arm and cancel it as often as needed. The callback runs on
 * the timer thread with the kernel lock held; the ktimer is already
 * disarmed then, so the callback may re-arm it or free it. */
struct ktimer {
	int64_t deadline; /* 0 when not armed */
	ktimer_fn fn;
	void *arg;
	struct ktimer *next; /* in the armed list, sorted by deadline */
};

void ktimer_init(struct ktimer *k, ktimer_fn fn, void *arg);
/* Arms (or re-arms) k for deadline (> 0; a deadline already past fires
 * at once). */
void ktimer_arm(struct ktimer *k, int64_t deadline);
/* Disarms k; harmless when it is not armed. */
void ktimer_cancel(struct ktimer *k);

/* What an interval timer counts. */
enum ptimer_clock {
	PTIMER_WALL, /* CLOCK_MONOTONIC nanoseconds (realtime and boottime are converted when armed) */
	PTIMER_PROC_CPU, /* the CPU time of a process */
	PTIMER_THREAD_CPU, /* the CPU time of one thread (cpu_tid) */
};

/* How an interval timer tells its owner. */
#define PTIMER_NOTIFY_SIGNAL 0 /* SIGEV_SIGNAL: to the process */
#define PTIMER_NOTIFY_NONE 1 /* SIGEV_NONE */
#define PTIMER_NOTIFY_THREAD 4 /* SIGEV_THREAD_ID: to the thread target_tid */

/* An interval timer of a process. */
struct ptimer {
	struct process *proc;
	int32_t pid; /* proc's pid, to check the owner is alive */
	enum ptimer_clock clock;
	int32_t cpu_tid; /* PTIMER_THREAD_CPU */
	int64_t expires; /* on its clock; 0 = disarmed */
	int64_t interval; /* 0 = one-shot */
	struct ktimer kt; /* PTIMER_WALL */

	int notify;
	int signo;
	int si_code; /* SI_TIMER for POSIX timers, SI_KERNEL for itimers */
	int32_t target_tid;
	uint64_t value; /* si_value */
	int32_t id; /* POSIX timer id; -1 for itimers */
	int clockid; /* the clock id it was created with (absolute times) */
	/* Overruns: of the signal queued now, and of the last one delivered. */
	int overrun_cur;
	int overrun_last;
	struct ptimer *next; /* the process's POSIX timers */
};

/* The timer state of a process, created on first use. */
struct timer_proc {
	struct ptimer itimer[3]; /* ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF */
	struct ptimer *posix; /* POSIX timers, newest first */
	int32_t next_id;
	int nposix;
	/* Interrupts the process's running threads when a CPU timer may have
	 * expired. */
	struct ktimer cpu_poll;
};

/* Called by the task loop after every guest run (see above). */
void timer_account_run(struct task *t, int64_t ns);
/* Called at execve and at process exit (see above). */
void timer_process_exec(struct process *p);
void timer_process_exit(struct process *p);

/* Records the memory t's process maps now in its peak (ru_maxrss). */
void timer_sample_rss(struct task *t);

/* The timer state of p, created if needed; NULL when out of memory. */
struct timer_proc *timer_proc_of(struct process *p);

/* The CPU time of a process (all its threads, live and gone) and of one
 * thread, in nanoseconds. */
int64_t timer_process_cpu_ns(const struct process *p);
int64_t timer_thread_cpu_ns(const struct task *t);

/* CPU clock ids: CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID and the
 * negative ids of clock_getcpuclockid(3) and pthread_getcpuclockid(3)
 * (MAKE_PROCESS_CPUCLOCK(pid, which) = ~pid << 3 | which, plus 4 for a
 * thread's). */
#define CPUCLOCK_PROF 0
#define CPUCLOCK_VIRT 1
#define CPUCLOCK_SCHED 2
#define CPUCLOCK_PERTHREAD 4

/* Resolves clockid for cur as Linux does: 1 when it is a CPU clock, with
 * *p set to the process and *th to the thread (NULL for a process clock)
 * and *which to CPUCLOCK_*; 0 when clockid is no CPU clock; -EINVAL for a
 * CPU clock of nobody (a process that was reaped, a thread of another
 * process) or a dynamic (fd) clock. gettime: a process clock may name the
 * caller's own tid (clock_gettime only). */
long timer_cpu_clock(struct task *cur, int clockid, bool gettime, struct process **p, struct task **th, int *which);

/* Initialises a disarmed ptimer of p counting clock (the notification
 * fields are the caller's to fill). */
void ptimer_init(struct ptimer *pt, struct process *p, enum ptimer_clock clock);

/* The current value of the clock a ptimer counts. */
int64_t ptimer_now(const struct ptimer *pt);
/* Arms pt to expire at value (on its clock; 0 disarms) and every interval
 * after it. Drops a signal of pt's still queued from an earlier arming. */
void ptimer_set(struct ptimer *pt, int64_t value, int64_t interval);
/* Nanoseconds until pt expires (0 when disarmed; at least 1 when armed). */
int64_t ptimer_remaining(const struct ptimer *pt);
/* timer_getoverrun(2)'s answer. */
int ptimer_overrun(const struct ptimer *pt);
/* Disarms pt, unlinks it from its process and frees it (timer_delete). */
void ptimer_delete(struct timer_proc *tp, struct ptimer *pt);

#endif
