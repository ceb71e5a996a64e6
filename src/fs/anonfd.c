/* eventfd, timerfd and signalfd: counters and queues that are files, so a
 * program can read, poll and epoll them (eventfd(2), timerfd_create(2),
 * signalfd(2) are the specification). */
#include "sentry/service.h"

#include "fs/anonfd.h"
#include "fs/vfs.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/timer.h"

#define NSEC 1000000000LL
#define EVENTFD_MAX 0xfffffffffffffffeULL

/* Blocks t on q until cond() holds or a signal comes. */
static long sleep_on(struct task *t, struct waitq *q)
{
	struct waiter w;
	waitq_add(q, &w, t);
	long r = task_sleep(t, 0);
	waitq_remove(q, &w);
	return r == -EINTR ? -WARD_ERESTARTSYS : 0;
}

static long anon_getattr(struct file *f, struct linux_statx *out)
{
	memset(out, 0, sizeof(*out));
	out->stx_mask = LINUX_STATX_BASIC_STATS;
	out->stx_mode = 0600; /* an anonymous inode: no file type bits */
	out->stx_nlink = 1;
	out->stx_blksize = 4096;
	return 0;
}

/* eventfd */

struct eventfd {
	uint64_t count;
	bool semaphore;
	struct waitq q;
};

static long eventfd_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	struct eventfd *e = f->priv;
	struct task *t = task_current();
	if (len < 8)
		return -EINVAL;
	while (e->count == 0) {
		if ((f->flags & O_NONBLOCK) || !t)
			return -EAGAIN;
		long r = sleep_on(t, &e->q);
		if (r < 0)
			return r;
	}
	uint64_t v = e->semaphore ? 1 : e->count;
	e->count -= v;
	memcpy(buf, &v, 8);
	waitq_wake_all(&e->q);
	return 8;
}

static long eventfd_write(struct file *f, const void *buf, size_t len, uint64_t *pos)
{
	struct eventfd *e = f->priv;
	struct task *t = task_current();
	uint64_t v;
	if (len < 8)
		return -EINVAL;
	memcpy(&v, buf, 8);
	if (v == 0xffffffffffffffffULL)
		return -EINVAL;
	while (EVENTFD_MAX - e->count < v) {
		if ((f->flags & O_NONBLOCK) || !t)
			return -EAGAIN;
		long r = sleep_on(t, &e->q);
		if (r < 0)
			return r;
	}
	e->count += v;
	waitq_wake_all(&e->q);
	return 8;
}

static unsigned int eventfd_poll(struct file *f, struct waitq **q)
{
	struct eventfd *e = f->priv;
	*q = &e->q;
	unsigned int ev = 0;
	if (e->count > 0)
		ev |= POLLIN | POLLRDNORM;
	if (e->count < EVENTFD_MAX)
		ev |= POLLOUT | POLLWRNORM;
	return ev;
}

static void eventfd_release(struct file *f)
{
	free(f->priv);
}

static const struct file_ops eventfd_ops = {
	.read_buf = eventfd_read,
	.write_buf = eventfd_write,
	.getattr = anon_getattr,
	.poll_events = eventfd_poll,
	.release = eventfd_release,
	.stream = true,
};

#define EFD_SEMAPHORE_ 1

long eventfd_create(uint64_t initval, int flags, struct file **out)
{
	if (flags & ~(O_CLOEXEC | O_NONBLOCK | EFD_SEMAPHORE_))
		return -EINVAL;
	struct eventfd *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->count = initval;
	e->semaphore = flags & EFD_SEMAPHORE_;
	struct file *f = file_alloc(&eventfd_ops, (uint32_t)(O_RDWR | (flags & O_NONBLOCK)), "anon_inode:[eventfd]", e);
	if (!f) {
		free(e);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

/* timerfd */

struct timerfd {
	int clockid;
	struct ktimer kt;
	int64_t interval_ns;
	int64_t deadline; /* CLOCK_MONOTONIC, 0 when disarmed */
	uint64_t expirations;
	struct waitq q;
};

static void timerfd_fire(struct ktimer *k, int64_t now)
{
	struct timerfd *tf = k->arg;
	tf->expirations++;
	if (tf->interval_ns) {
		/* Missed periods count too: each is one expiration. */
		int64_t next = tf->deadline + tf->interval_ns;
		if (next <= now) {
			int64_t missed = (now - next) / tf->interval_ns + 1;
			tf->expirations += (uint64_t)missed;
			next += missed * tf->interval_ns;
		}
		tf->deadline = next;
		ktimer_arm(&tf->kt, next);
	} else {
		tf->deadline = 0;
	}
	waitq_wake_all(&tf->q);
}

static long timerfd_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	struct timerfd *tf = f->priv;
	struct task *t = task_current();
	if (len < 8)
		return -EINVAL;
	while (tf->expirations == 0) {
		if ((f->flags & O_NONBLOCK) || !t)
			return -EAGAIN;
		long r = sleep_on(t, &tf->q);
		if (r < 0)
			return r;
	}
	memcpy(buf, &tf->expirations, 8);
	tf->expirations = 0;
	return 8;
}

static unsigned int timerfd_poll(struct file *f, struct waitq **q)
{
	struct timerfd *tf = f->priv;
	*q = &tf->q;
	return tf->expirations ? POLLIN | POLLRDNORM : 0;
}

static void timerfd_release(struct file *f)
{
	struct timerfd *tf = f->priv;
	ktimer_cancel(&tf->kt);
	free(tf);
}

static const struct file_ops timerfd_ops = {
	.read_buf = timerfd_read,
	.getattr = anon_getattr,
	.poll_events = timerfd_poll,
	.release = timerfd_release,
	.stream = true,
};

long timerfd_file_create(int clockid, int flags, struct file **out)
{
	if (flags & ~(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL;
	if (clockid != CLOCK_REALTIME && clockid != CLOCK_MONOTONIC && clockid != CLOCK_BOOTTIME &&
	    clockid != CLOCK_REALTIME_ALARM && clockid != CLOCK_BOOTTIME_ALARM)
		return -EINVAL;
	struct timerfd *tf = calloc(1, sizeof(*tf));
	if (!tf)
		return -ENOMEM;
	tf->clockid = clockid;
	ktimer_init(&tf->kt, timerfd_fire, tf);
	struct file *f =
		file_alloc(&timerfd_ops, (uint32_t)(O_RDWR | (flags & O_NONBLOCK)), "anon_inode:[timerfd]", tf);
	if (!f) {
		free(tf);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

struct linux_itimerspec {
	struct linux_timespec it_interval;
	struct linux_timespec it_value;
};

static int64_t ts_ns(const struct linux_timespec *ts)
{
	return ts->tv_sec * NSEC + ts->tv_nsec;
}

static struct linux_timespec ns_ts(int64_t ns)
{
	struct linux_timespec ts = { ns / NSEC, ns % NSEC };
	return ts;
}

long timerfd_file_gettime(struct file *f, void *cur_value)
{
	if (f->ops != &timerfd_ops)
		return -EINVAL;
	struct timerfd *tf = f->priv;
	struct linux_itimerspec cur;
	int64_t left = tf->deadline ? tf->deadline - ward_now_ns() : 0;
	if (tf->deadline && left <= 0)
		left = 1;
	cur.it_value = ns_ts(left);
	cur.it_interval = ns_ts(tf->interval_ns);
	memcpy(cur_value, &cur, sizeof(cur));
	return 0;
}

#define TFD_TIMER_ABSTIME_ 1
#define TFD_TIMER_CANCEL_ON_SET_ 2

long timerfd_file_settime(struct task *t, struct file *f, int flags, const void *new_value, void *old_value)
{
	if (f->ops != &timerfd_ops)
		return -EINVAL;
	if (flags & ~(TFD_TIMER_ABSTIME_ | TFD_TIMER_CANCEL_ON_SET_))
		return -EINVAL;
	struct timerfd *tf = f->priv;
	struct linux_itimerspec nv;
	memcpy(&nv, new_value, sizeof(nv));
	if (nv.it_value.tv_nsec < 0 || nv.it_value.tv_nsec >= NSEC || nv.it_interval.tv_nsec < 0 ||
	    nv.it_interval.tv_nsec >= NSEC || nv.it_value.tv_sec < 0 || nv.it_interval.tv_sec < 0)
		return -EINVAL;
	if (old_value)
		timerfd_file_gettime(f, old_value);
	ktimer_cancel(&tf->kt);
	tf->expirations = 0;
	tf->deadline = 0;
	tf->interval_ns = ts_ns(&nv.it_interval);
	int64_t v = ts_ns(&nv.it_value);
	if (v == 0)
		return 0;
	int64_t now = ward_now_ns();
	if (flags & TFD_TIMER_ABSTIME_) {
		/* An absolute time on the timer's clock, turned into the
		 * monotonic deadline the timer service sleeps to. */
		struct linux_timespec c;
		int clk = tf->clockid == CLOCK_REALTIME_ALARM	? CLOCK_REALTIME
			  : tf->clockid == CLOCK_BOOTTIME_ALARM ? CLOCK_BOOTTIME
								: tf->clockid;
		ward_host_clock_gettime(clk, &c);
		v -= ts_ns(&c);
		if (v <= 0)
			v = 1;
	}
	tf->deadline = now + v;
	ktimer_arm(&tf->kt, tf->deadline);
	return 0;
}

/* signalfd */

struct signalfd {
	uint64_t mask;
};

struct linux_signalfd_siginfo {
	uint32_t ssi_signo;
	int32_t ssi_errno;
	int32_t ssi_code;
	uint32_t ssi_pid;
	uint32_t ssi_uid;
	int32_t ssi_fd;
	uint32_t ssi_tid;
	uint32_t ssi_band;
	uint32_t ssi_overrun;
	uint32_t ssi_trapno;
	int32_t ssi_status;
	int32_t ssi_int;
	uint64_t ssi_ptr;
	uint64_t ssi_utime;
	uint64_t ssi_stime;
	uint64_t ssi_addr;
	uint16_t ssi_addr_lsb;
	uint8_t pad[46];
};
_Static_assert(sizeof(struct linux_signalfd_siginfo) == 128, "signalfd_siginfo");

static bool signalfd_ready(struct task *t, uint64_t mask)
{
	return t && ((t->pending.set | t->proc->pending.set) & mask);
}

static long signalfd_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	struct signalfd *sf = f->priv;
	struct task *t = task_current();
	if (len < sizeof(struct linux_signalfd_siginfo))
		return -EINVAL;
	size_t done = 0;
	for (;;) {
		while (done + sizeof(struct linux_signalfd_siginfo) <= len) {
			struct linux_siginfo si;
			int sig = sigpending_dequeue(&t->pending, ~sf->mask, &si);
			if (!sig)
				sig = sigpending_dequeue(&t->proc->pending, ~sf->mask, &si);
			if (!sig)
				break;
			struct linux_signalfd_siginfo out;
			memset(&out, 0, sizeof(out));
			out.ssi_signo = (uint32_t)sig;
			out.ssi_errno = si.si_errno;
			out.ssi_code = si.si_code;
			out.ssi_pid = (uint32_t)si.u.rt.pid;
			out.ssi_uid = si.u.rt.uid;
			if (sig == SIGCHLD)
				out.ssi_status = si.u.child.status;
			else
				out.ssi_int = (int32_t)si.u.rt.value;
			out.ssi_ptr = si.u.rt.value;
			if (si.si_code > 0 && (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE))
				out.ssi_addr = si.u.fault.addr;
			memcpy((uint8_t *)buf + done, &out, sizeof(out));
			done += sizeof(out);
		}
		if (done)
			return (long)done;
		if ((f->flags & O_NONBLOCK) || !t)
			return -EAGAIN;
		long r = sleep_on(t, &signal_sent_waitq);
		if (r < 0 && !signalfd_ready(t, sf->mask))
			return r;
	}
}

static unsigned int signalfd_poll(struct file *f, struct waitq **q)
{
	struct signalfd *sf = f->priv;
	*q = &signal_sent_waitq;
	return signalfd_ready(task_current(), sf->mask) ? POLLIN | POLLRDNORM : 0;
}

static void signalfd_release(struct file *f)
{
	free(f->priv);
}

static const struct file_ops signalfd_ops = {
	.read_buf = signalfd_read,
	.getattr = anon_getattr,
	.poll_events = signalfd_poll,
	.release = signalfd_release,
	.stream = true,
};

long signalfd_create(uint64_t mask, int flags, struct file **out)
{
	if (flags & ~(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL;
	struct signalfd *sf = calloc(1, sizeof(*sf));
	if (!sf)
		return -ENOMEM;
	sf->mask = mask & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
	struct file *f =
		file_alloc(&signalfd_ops, (uint32_t)(O_RDWR | (flags & O_NONBLOCK)), "anon_inode:[signalfd]", sf);
	if (!f) {
		free(sf);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

long signalfd_set_mask(struct file *f, uint64_t mask)
{
	if (f->ops != &signalfd_ops)
		return -EINVAL;
	struct signalfd *sf = f->priv;
	sf->mask = mask & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
	waitq_wake_all(&signal_sent_waitq);
	return 0;
}
