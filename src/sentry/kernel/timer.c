/* Kernel timers, interval timers of processes, and CPU-time accounting
 * (see timer.h). Everything runs under the kernel lock. */
#include "sentry/service.h"

#include "sentry/kernel/timer.h"
#include "sentry/mm/mm.h"

#define SI_TIMER_ (-2)
#define SI_KERNEL_ 0x80
#define DELAYTIMER_MAX_ INT_MAX
/* The shortest wait before a CPU timer's owner is interrupted to look: a
 * scheduler tick, as the kernel checks CPU timers once per tick. */
#define CPU_POLL_MIN_NS 1000000

/* The ktimer thread and its list of armed timers, earliest first. */
static struct ktimer *armed;
static struct ward_cond ktimer_cond;
static bool ktimer_thread_running;

static void *ktimer_thread(void *arg)
{
	(void)arg;
	ward_kernel_lock();
	for (;;) {
		int64_t now = ward_now_ns();
		while (armed && armed->deadline <= now) {
			struct ktimer *k = armed;
			armed = k->next;
			k->next = NULL;
			k->deadline = 0;
			k->fn(k, now);
		}
		ward_cond_wait(&ktimer_cond, armed ? armed->deadline : 0);
	}
	return NULL;
}

void ktimer_init(struct ktimer *k, ktimer_fn fn, void *arg)
{
	memset(k, 0, sizeof(*k));
	k->fn = fn;
	k->arg = arg;
}

void ktimer_cancel(struct ktimer *k)
{
	if (!k->deadline)
		return;
	for (struct ktimer **pp = &armed; *pp; pp = &(*pp)->next) {
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	}
	k->next = NULL;
	k->deadline = 0;
}

void ktimer_arm(struct ktimer *k, int64_t deadline)
{
	ktimer_cancel(k);
	if (deadline <= 0)
		deadline = 1;
	k->deadline = deadline;
	struct ktimer **pp = &armed;
	while (*pp && (*pp)->deadline <= deadline)
		pp = &(*pp)->next;
	k->next = *pp;
	*pp = k;
	if (!ktimer_thread_running) {
		ward_cond_init(&ktimer_cond);
		if (ward_thread_spawn(ktimer_thread, NULL) == 0)
			ktimer_thread_running = true;
		else
			ward_log(WARD_LOG_ERROR, "cannot start the timer thread");
	}
	/* A new earliest deadline: the thread must sleep less. */
	if (armed == k)
		ward_cond_broadcast(&ktimer_cond);
}

/* CPU time. */

int64_t timer_process_cpu_ns(const struct process *p)
{
	return p->cpu_ns;
}

int64_t timer_thread_cpu_ns(const struct task *t)
{
	return t->cpu_ns;
}

/* The live thread tid of p, or NULL. */
static struct task *thread_of(struct process *p, int32_t tid)
{
	struct task *t = task_by_tid(tid);
	return t && t->proc == p ? t : NULL;
}

int64_t ptimer_now(const struct ptimer *pt)
{
	switch (pt->clock) {
	case PTIMER_WALL:
		return ward_now_ns();
	case PTIMER_PROC_CPU:
		return pt->proc->cpu_ns;
	case PTIMER_THREAD_CPU: {
		struct task *t = thread_of(pt->proc, pt->cpu_tid);
		/* A thread that is gone uses no more CPU: its timer stays. */
		return t ? t->cpu_ns : 0;
	}
	}
	return 0;
}

long timer_cpu_clock(struct task *cur, int clockid, bool gettime, struct process **p, struct task **th, int *which)
{
	*p = cur->proc;
	*th = NULL;
	*which = CPUCLOCK_SCHED;
	if (clockid == CLOCK_PROCESS_CPUTIME_ID)
		return 1;
	if (clockid == CLOCK_THREAD_CPUTIME_ID) {
		*th = cur;
		return 1;
	}
	if (clockid >= 0)
		return 0;
	/* Negative: a CPU clock, or (low bits 3) a dynamic clock's fd, of
	 * which the sandbox has none. */
	*which = clockid & 3;
	if (*which == 3)
		return -EINVAL;
	int32_t pid = ~(clockid >> 3);
	bool thread = clockid & CPUCLOCK_PERTHREAD;
	if (pid == 0) {
		if (thread)
			*th = cur;
		return 1;
	}
	if (thread) {
		*th = thread_of(cur->proc, pid);
		return *th ? 1 : -EINVAL;
	}
	if (gettime && pid == cur->tid)
		return 1;
	*p = process_by_pid(pid);
	return *p ? 1 : -EINVAL;
}

/* Signals. */

/* The queued signal of POSIX timer pt in q, or NULL. */
static struct sigqueue_entry *queued_entry(struct sigpending *q, const struct ptimer *pt,
					   struct sigqueue_entry ***where)
{
	for (struct sigqueue_entry **pp = &q->head; *pp; pp = &(*pp)->next) {
		struct linux_siginfo *i = &(*pp)->info;
		if (i->si_signo == pt->signo && i->si_code == SI_TIMER_ && i->u.timer.tid == pt->id) {
			if (where)
				*where = pp;
			return *pp;
		}
	}
	return NULL;
}

/* Where pt's signals queue: the target thread's or the process's list. */
static struct sigpending *pending_of(struct ptimer *pt, struct task **thread)
{
	*thread = NULL;
	if (pt->notify == PTIMER_NOTIFY_THREAD) {
		*thread = thread_of(pt->proc, pt->target_tid);
		return *thread ? &(*thread)->pending : NULL;
	}
	return &pt->proc->pending;
}

/* Drops a signal of pt that is still queued: since Linux 6.13 a signal of
 * an earlier arming of a timer is not delivered once the timer is re-armed
 * or deleted. */
static void drop_queued(struct ptimer *pt)
{
	struct task *th;
	struct sigqueue_entry **pp;
	if (pt->id < 0 || pt->notify == PTIMER_NOTIFY_NONE)
		return;
	struct sigpending *q = pending_of(pt, &th);
	if (!q || !queued_entry(q, pt, &pp))
		return;
	struct sigqueue_entry *e = *pp;
	*pp = e->next;
	free(e);
	bool more = false;
	for (struct sigqueue_entry *x = q->head; x; x = x->next)
		if (x->info.si_signo == pt->signo)
			more = true;
	if (!more)
		q->set &= ~SIGBIT(pt->signo);
}

/* Tells pt's owner that it expired; over more expiries were missed.
 * Returns true when pt's earlier signal was still queued. */
static bool ptimer_notify(struct ptimer *pt, int64_t over)
{
	if (pt->notify == PTIMER_NOTIFY_NONE || pt->proc->zombie || pt->proc->exiting)
		return false;
	struct task *th;
	struct sigpending *q = pending_of(pt, &th);
	if (!q)
		return false; /* the target thread is gone */
	if (pt->id >= 0) {
		/* Still queued: one more overrun instead of another signal. */
		struct sigqueue_entry *e = queued_entry(q, pt, NULL);
		if (e) {
			int64_t n = (int64_t)e->info.u.timer.overrun + 1 + over;
			e->info.u.timer.overrun = n > DELAYTIMER_MAX_ ? DELAYTIMER_MAX_ : (int32_t)n;
			pt->overrun_cur = e->info.u.timer.overrun;
			return true;
		}
		pt->overrun_last = pt->overrun_cur;
	}
	struct linux_siginfo si;
	memset(&si, 0, sizeof(si));
	si.si_signo = pt->signo;
	si.si_code = pt->si_code;
	if (pt->id >= 0) {
		si.u.timer.tid = pt->id;
		si.u.timer.overrun = over > DELAYTIMER_MAX_ ? DELAYTIMER_MAX_ : (int32_t)over;
		si.u.timer.value = pt->value;
		pt->overrun_cur = si.u.timer.overrun;
	}
	if (th)
		signal_send_task(th, &si);
	else
		signal_send_process(pt->proc, &si);
	return false;
}

/* pt's expiry time has come (now is on pt's clock): notify, and move a
 * periodic timer to its next expiry past now, counting the ones missed. */
static void ptimer_expire(struct ptimer *pt, int64_t now)
{
	int64_t over = 0;
	if (pt->interval > 0) {
		int64_t next = pt->expires + pt->interval;
		if (next <= now) {
			int64_t missed = (now - next) / pt->interval + 1;
			over = missed;
			next += missed * pt->interval;
		}
		pt->expires = next;
	} else {
		pt->expires = 0;
	}
	bool still_queued = ptimer_notify(pt, over);
	/* While the signal waits (blocked), a fast periodic timer need not
	 * wake the timer thread every period: the next expiry counts the
	 * periods missed meanwhile as overruns anyway. */
	if (pt->clock == PTIMER_WALL && pt->expires)
		ktimer_arm(&pt->kt, still_queued ? WARD_MAX(pt->expires, now + 1000000) : pt->expires);
}

static void ptimer_wall_fire(struct ktimer *k, int64_t now)
{
	struct ptimer *pt = k->arg;
	/* The owner must still be registered (see timer.h). */
	if (process_by_pid(pt->pid) != pt->proc || !pt->expires)
		return;
	ptimer_expire(pt, now);
}

/* CPU timers. */

static bool is_cpu(const struct ptimer *pt)
{
	return pt->clock != PTIMER_WALL && pt->expires;
}

/* Fires p's expired CPU timers, then schedules the next look. */
static void check_cpu_timers(struct process *p)
{
	struct timer_proc *tp = p->timers;
	int64_t soonest = INT64_MAX;
	for (int i = 0; i < 3; i++) {
		struct ptimer *pt = &tp->itimer[i];
		if (!is_cpu(pt))
			continue;
		if (pt->expires <= p->cpu_ns)
			ptimer_expire(pt, p->cpu_ns);
		if (pt->expires) {
			/* All threads may run at once: the process clock advances
			 * up to nthreads times as fast as the wall clock. */
			int64_t left = (pt->expires - p->cpu_ns) / (p->nthreads > 0 ? p->nthreads : 1);
			soonest = WARD_MIN(soonest, left);
		}
	}
	for (struct ptimer *pt = tp->posix; pt; pt = pt->next) {
		if (!is_cpu(pt))
			continue;
		int64_t now = ptimer_now(pt);
		if (pt->expires <= now)
			ptimer_expire(pt, now);
		if (pt->expires) {
			int64_t left = pt->expires - now;
			if (pt->clock == PTIMER_PROC_CPU)
				left /= p->nthreads > 0 ? p->nthreads : 1;
			soonest = WARD_MIN(soonest, left);
		}
	}
	if (soonest == INT64_MAX) {
		ktimer_cancel(&tp->cpu_poll);
		return;
	}
	int64_t when = ward_now_ns() + WARD_MAX(soonest, (int64_t)CPU_POLL_MIN_NS);
	if (!tp->cpu_poll.deadline || tp->cpu_poll.deadline > when)
		ktimer_arm(&tp->cpu_poll, when);
}

/* A CPU timer of the process may have expired: stop its running threads,
 * whose accounting then fires it (and looks again). */
static void cpu_poll_fire(struct ktimer *k, int64_t now)
{
	struct timer_proc *tp = k->arg;
	struct process *p = tp->itimer[0].proc;
	(void)now;
	if (process_by_pid(tp->itimer[0].pid) != p || p->zombie)
		return;
	for (struct task *t = p->threads; t; t = t->next_in_proc)
		if (t->ctx)
			ward_ctx_interrupt(t->ctx);
}

void timer_sample_rss(struct task *t)
{
	if (!t->mm)
		return;
	int64_t kb = (int64_t)(mm_mapped_bytes(t->mm) / 1024);
	if (kb > t->proc->maxrss_kb)
		t->proc->maxrss_kb = kb;
}

/* How often (in CPU time) the peak memory is sampled. */
#define RSS_SAMPLE_NS 10000000

void timer_account_run(struct task *t, int64_t ns)
{
	if (ns <= 0)
		return;
	struct process *p = t->proc;
	int64_t before = p->cpu_ns;
	t->cpu_ns += ns;
	p->cpu_ns += ns;
	if (!p->maxrss_kb || before / RSS_SAMPLE_NS != p->cpu_ns / RSS_SAMPLE_NS)
		timer_sample_rss(t);
	if (p->timers)
		check_cpu_timers(p);
}

/* Process state. */

void ptimer_init(struct ptimer *pt, struct process *p, enum ptimer_clock clock)
{
	memset(pt, 0, sizeof(*pt));
	pt->proc = p;
	pt->pid = p->pid;
	pt->clock = clock;
	pt->clockid = CLOCK_MONOTONIC;
	ktimer_init(&pt->kt, ptimer_wall_fire, pt);
}

static void itimer_init(struct ptimer *pt, struct process *p, enum ptimer_clock clock, int signo)
{
	ptimer_init(pt, p, clock);
	pt->notify = PTIMER_NOTIFY_SIGNAL;
	pt->signo = signo;
	pt->si_code = SI_KERNEL_;
	pt->id = -1;
}

struct timer_proc *timer_proc_of(struct process *p)
{
	if (p->timers)
		return p->timers;
	struct timer_proc *tp = calloc(1, sizeof(*tp));
	if (!tp)
		return NULL;
	itimer_init(&tp->itimer[0], p, PTIMER_WALL, SIGALRM);
	itimer_init(&tp->itimer[1], p, PTIMER_PROC_CPU, SIGVTALRM);
	itimer_init(&tp->itimer[2], p, PTIMER_PROC_CPU, SIGPROF);
	ktimer_init(&tp->cpu_poll, cpu_poll_fire, tp);
	p->timers = tp;
	return tp;
}

void ptimer_set(struct ptimer *pt, int64_t value, int64_t interval)
{
	ktimer_cancel(&pt->kt);
	drop_queued(pt);
	pt->expires = value > 0 ? value : 0;
	pt->interval = pt->expires ? interval : 0;
	pt->overrun_cur = pt->overrun_last = 0;
	if (!pt->expires)
		return;
	if (pt->clock == PTIMER_WALL)
		ktimer_arm(&pt->kt, pt->expires);
	else
		check_cpu_timers(pt->proc);
}

int64_t ptimer_remaining(const struct ptimer *pt)
{
	if (!pt->expires)
		return 0;
	int64_t left = pt->expires - ptimer_now(pt);
	return left > 0 ? left : 1;
}

int ptimer_overrun(const struct ptimer *pt)
{
	struct task *th;
	struct sigpending *q = pending_of((struct ptimer *)pt, &th);
	if (q && queued_entry(q, pt, NULL))
		return pt->overrun_last;
	return pt->overrun_cur;
}

void ptimer_delete(struct timer_proc *tp, struct ptimer *pt)
{
	ktimer_cancel(&pt->kt);
	drop_queued(pt);
	for (struct ptimer **pp = &tp->posix; *pp; pp = &(*pp)->next) {
		if (*pp == pt) {
			*pp = pt->next;
			tp->nposix--;
			break;
		}
	}
	free(pt);
}

void timer_process_exec(struct process *p)
{
	struct timer_proc *tp = p->timers;
	if (!tp)
		return;
	while (tp->posix)
		ptimer_delete(tp, tp->posix);
	check_cpu_timers(p);
}

void timer_process_exit(struct process *p)
{
	if (p->parent) {
		int64_t kb = WARD_MAX(p->maxrss_kb, p->children_maxrss_kb);
		if (kb > p->parent->children_maxrss_kb)
			p->parent->children_maxrss_kb = kb;
	}
	struct timer_proc *tp = p->timers;
	if (!tp)
		return;
	while (tp->posix)
		ptimer_delete(tp, tp->posix);
	for (int i = 0; i < 3; i++)
		ktimer_cancel(&tp->itimer[i].kt);
	ktimer_cancel(&tp->cpu_poll);
	p->timers = NULL;
	free(tp);
}
