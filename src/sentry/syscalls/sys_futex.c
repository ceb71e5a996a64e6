/* futex(2). Waiters are keyed as Linux keys them (struct fkey): a word in
 * shared memory by its memory-file offset, the same futex for every process
 * that maps it; a word in private memory by its address space and address,
 * the same futex for every thread of a process and a different one for a
 * forked copy, even while the copy still shares the page. All of it runs under the kernel
 * lock; the guest changes words concurrently with its own atomics, which
 * the core's guest atomics are coherent with. */
#include "sentry/service.h"

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

#define FUTEX_WAIT_ 0
#define FUTEX_WAKE_ 1
#define FUTEX_FD_ 2
#define FUTEX_REQUEUE_ 3
#define FUTEX_CMP_REQUEUE_ 4
#define FUTEX_WAKE_OP_ 5
#define FUTEX_LOCK_PI_ 6
#define FUTEX_UNLOCK_PI_ 7
#define FUTEX_TRYLOCK_PI_ 8
#define FUTEX_WAIT_BITSET_ 9
#define FUTEX_WAKE_BITSET_ 10
#define FUTEX_WAIT_REQUEUE_PI_ 11
#define FUTEX_CMP_REQUEUE_PI_ 12
#define FUTEX_LOCK_PI2_ 13
#define FUTEX_PRIVATE_ 128
#define FUTEX_CLOCK_REALTIME_ 256
#define FUTEX_BITSET_ANY 0xffffffffU
#define FUTEX_WAITERS_ 0x80000000U
#define FUTEX_OWNER_DIED_ 0x40000000U
#define FUTEX_TID_MASK_ 0x3fffffffU
#define NSEC 1000000000L

/* A futex's identity, as Linux's futex_key: a word in a shared mapping is
 * its page in the memory file (mm 0), whatever address space maps it; a
 * word in a private mapping is its address in its address space, which
 * stays the same when copy-on-write moves the page after a fork. */
struct fkey {
	uintptr_t mm;
	uint64_t off;
};

static bool fkey_eq(struct fkey a, struct fkey b)
{
	return a.mm == b.mm && a.off == b.off;
}

struct futex_waiter {
	struct fkey key;
	uint32_t bitset;
	bool pi;
	bool woken;
	struct task *task;
	struct futex_waiter *next;
};

static struct futex_waiter *waiters;

static long futex_key(struct task *t, gaddr_t addr, struct fkey *key)
{
	int prot;
	uint64_t off;
	if (addr.v % 4)
		return -EINVAL;
	if (ward_as_translate(task_as(t), addr, &off, &prot) < 0 || !(prot & WARD_PROT_READ))
		return -EFAULT;
	if (mm_is_shared_at(t->mm, addr.v))
		*key = (struct fkey){ 0, off };
	else
		*key = (struct fkey){ (uintptr_t)t->mm, addr.v };
	return 0;
}

static void unlink_waiter(struct futex_waiter *w)
{
	for (struct futex_waiter **pp = &waiters; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			return;
		}
	}
}

/* Wakes up to n waiters of key whose bitset meets bitset. */
static int wake_key(struct fkey key, int n, uint32_t bitset)
{
	int woken = 0;
	for (struct futex_waiter **pp = &waiters; *pp && woken < n;) {
		struct futex_waiter *w = *pp;
		if (fkey_eq(w->key, key) && (w->bitset & bitset) && !w->pi) {
			*pp = w->next;
			w->woken = true;
			task_wake(w->task);
			woken++;
		} else {
			pp = &w->next;
		}
	}
	return woken;
}

/* Sleeps as waiter w (already listed) until woken, the deadline, or a
 * signal. restartable says whether a signal restarts the call. */
static long futex_sleep(struct task *t, struct futex_waiter *w, int64_t deadline, bool restartable)
{
	for (;;) {
		if (w->woken)
			return 0;
		long r = task_sleep(t, deadline);
		if (w->woken)
			return 0;
		if (r == -ETIMEDOUT) {
			unlink_waiter(w);
			return -ETIMEDOUT;
		}
		if (r == -EINTR) {
			unlink_waiter(w);
			return restartable ? -WARD_ERESTARTSYS : -EINTR;
		}
	}
}

/* The deadline of a timeout argument: relative for FUTEX_WAIT, absolute on
 * the chosen clock for the others. 0 = none. */
static long read_deadline(struct task *t, gaddr_t addr, bool absolute, bool realtime, int64_t *out)
{
	struct linux_timespec ts;
	*out = 0;
	if (gaddr_is_null(addr))
		return 0;
	if (WARD_COPY_IN_OBJ(task_as(t), &ts, addr) < 0)
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NSEC)
		return -EINVAL;
	int64_t ns = ts.tv_sec * NSEC + ts.tv_nsec;
	if (absolute) {
		/* Convert to CLOCK_MONOTONIC, which is what the sleep uses. */
		struct linux_timespec now;
		ward_host_clock_gettime(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC, &now);
		ns -= now.tv_sec * NSEC + now.tv_nsec;
	}
	int64_t d = ward_now_ns() + (ns > 0 ? ns : 0);
	*out = d > 0 ? d : 1;
	return 0;
}

static long futex_wait(struct task *t, gaddr_t uaddr, uint32_t val, int64_t deadline, uint32_t bitset)
{
	struct fkey key;
	uint32_t word;
	long r = futex_key(t, uaddr, &key);
	if (r < 0)
		return r;
	if (ward_copy_in(task_as(t), &word, uaddr, sizeof(word)) < 0)
		return -EFAULT;
	if (word != val)
		return -EAGAIN;
	if (deadline && ward_now_ns() >= deadline)
		return -ETIMEDOUT;
	struct futex_waiter w = { key, bitset, false, false, t, waiters };
	waiters = &w;
	return futex_sleep(t, &w, deadline, deadline == 0);
}

static long futex_requeue(struct task *t, gaddr_t uaddr, gaddr_t uaddr2, int nwake, int nrequeue, bool cmp,
			  uint32_t val3)
{
	struct fkey key, key2;
	if (nwake < 0 || nrequeue < 0)
		return -EINVAL;
	long r = futex_key(t, uaddr, &key);
	if (r == 0)
		r = futex_key(t, uaddr2, &key2);
	if (r < 0)
		return r;
	if (cmp) {
		uint32_t word;
		if (ward_copy_in(task_as(t), &word, uaddr, sizeof(word)) < 0)
			return -EFAULT;
		if (word != val3)
			return -EAGAIN;
	}
	int done = wake_key(key, nwake, FUTEX_BITSET_ANY);
	int moved = 0;
	for (struct futex_waiter *w = waiters; w && moved < nrequeue; w = w->next) {
		if (fkey_eq(w->key, key) && !w->pi) {
			w->key = key2;
			moved++;
		}
	}
	return done + moved;
}

static long futex_wake_op(struct task *t, gaddr_t uaddr, gaddr_t uaddr2, int n1, int n2, uint32_t encoded)
{
	struct fkey key, key2;
	long r = futex_key(t, uaddr, &key);
	if (r == 0)
		r = futex_key(t, uaddr2, &key2);
	if (r < 0)
		return r;
	int op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
	int32_t oparg = (int32_t)(encoded << 8) >> 20, cmparg = (int32_t)(encoded << 20) >> 20;
	if (encoded & (8U << 28)) {
		if (oparg < 0 || oparg > 31)
			return -EINVAL;
		oparg = (int32_t)(1U << oparg);
	}
	if (op > 4 || cmp > 5)
		return -ENOSYS;
	uint32_t old;
	r = ward_guest_atomic_op32(task_as(t), uaddr2, op, (uint32_t)oparg, &old);
	if (r < 0)
		return r;
	int woken = wake_key(key, n1, FUTEX_BITSET_ANY);
	int32_t o = (int32_t)old;
	bool hit = cmp == 0   ? o == cmparg
		   : cmp == 1 ? o != cmparg
		   : cmp == 2 ? o < cmparg
		   : cmp == 3 ? o <= cmparg
		   : cmp == 4 ? o > cmparg
			      : o >= cmparg;
	if (hit)
		woken += wake_key(key2, n2, FUTEX_BITSET_ANY);
	return woken;
}

/* Priority-inheritance futexes, as an ownership protocol: the word holds
 * the owner's tid, FUTEX_WAITERS while someone sleeps, and the kernel hands
 * the lock to the first waiter on unlock. (Priorities themselves are not
 * boosted: the sandbox schedules no real-time tasks.) */
static long futex_lock_pi(struct task *t, gaddr_t uaddr, int64_t deadline, bool try_only)
{
	struct fkey key;
	long r = futex_key(t, uaddr, &key);
	if (r < 0)
		return r;
	uint32_t tid = (uint32_t)t->tid;
	for (;;) {
		uint32_t word;
		r = ward_guest_cmpxchg32(task_as(t), uaddr, 0, tid, &word);
		if (r < 0)
			return r;
		if (word == 0)
			return 0;
		uint32_t owner = word & FUTEX_TID_MASK_;
		if (owner == tid)
			return -EDEADLK;
		if (owner == 0) {
			/* The owner died: take it over, keeping the flags. */
			uint32_t seen;
			r = ward_guest_cmpxchg32(task_as(t), uaddr, word, tid | (word & FUTEX_WAITERS_), &seen);
			if (r < 0)
				return r;
			if (seen == word)
				return 0;
			continue;
		}
		if (!task_by_tid((int32_t)owner))
			return -ESRCH;
		if (try_only)
			return -EAGAIN;
		if (!(word & FUTEX_WAITERS_)) {
			uint32_t seen;
			r = ward_guest_cmpxchg32(task_as(t), uaddr, word, word | FUTEX_WAITERS_, &seen);
			if (r < 0)
				return r;
			if (seen != word)
				continue;
		}
		struct futex_waiter w = { key, FUTEX_BITSET_ANY, true, false, t, NULL };
		struct futex_waiter **pp = &waiters;
		while (*pp)
			pp = &(*pp)->next;
		*pp = &w; /* FIFO: the first waiter gets the lock first */
		r = futex_sleep(t, &w, deadline, false);
		if (r == 0)
			return 0; /* the unlocker made us the owner */
		if (r == -EINTR)
			continue; /* Linux restarts LOCK_PI after a handler */
		return r;
	}
}

static long futex_unlock_pi(struct task *t, gaddr_t uaddr)
{
	struct fkey key;
	long r = futex_key(t, uaddr, &key);
	if (r < 0)
		return r;
	uint32_t tid = (uint32_t)t->tid;
	for (;;) {
		uint32_t word;
		if (ward_copy_in(task_as(t), &word, uaddr, sizeof(word)) < 0)
			return -EFAULT;
		if ((word & FUTEX_TID_MASK_) != tid)
			return -EPERM;
		struct futex_waiter *next = NULL;
		bool more = false;
		for (struct futex_waiter *w = waiters; w; w = w->next) {
			if (!fkey_eq(w->key, key) || !w->pi)
				continue;
			if (!next)
				next = w;
			else
				more = true;
		}
		uint32_t nw = next ? ((uint32_t)next->task->tid | (more ? FUTEX_WAITERS_ : 0)) : 0;
		uint32_t seen;
		r = ward_guest_cmpxchg32(task_as(t), uaddr, word, nw, &seen);
		if (r < 0)
			return r;
		if (seen != word)
			continue;
		if (next) {
			unlink_waiter(next);
			next->woken = true;
			task_wake(next->task);
		}
		return 0;
	}
}

long futex_wake_addr(struct task *t, gaddr_t uaddr, int n)
{
	struct fkey key;
	if (futex_key(t, uaddr, &key) < 0)
		return -EFAULT;
	return wake_key(key, n, FUTEX_BITSET_ANY);
}

/* futex(2) */
long sys_futex(struct task *t, const struct syscall_args *args)
{
	gaddr_t uaddr = arg_addr(args, 0), uaddr2 = arg_addr(args, 4);
	int op = arg_int(args, 1);
	int cmd = op & ~(FUTEX_PRIVATE_ | FUTEX_CLOCK_REALTIME_);
	bool realtime = op & FUTEX_CLOCK_REALTIME_;
	uint32_t val = arg_uint(args, 2), val3 = arg_uint(args, 5);
	int64_t deadline;
	long r;

	if (realtime && cmd != FUTEX_WAIT_ && cmd != FUTEX_WAIT_BITSET_ && cmd != FUTEX_WAIT_REQUEUE_PI_ &&
	    cmd != FUTEX_LOCK_PI2_)
		return -ENOSYS;
	switch (cmd) {
	case FUTEX_WAIT_:
		r = read_deadline(t, arg_addr(args, 3), false, false, &deadline);
		return r < 0 ? r : futex_wait(t, uaddr, val, deadline, FUTEX_BITSET_ANY);
	case FUTEX_WAIT_BITSET_:
		if (!val3)
			return -EINVAL;
		r = read_deadline(t, arg_addr(args, 3), true, realtime, &deadline);
		return r < 0 ? r : futex_wait(t, uaddr, val, deadline, val3);
	case FUTEX_WAKE_:
	case FUTEX_WAKE_BITSET_: {
		struct fkey key;
		if (cmd == FUTEX_WAKE_BITSET_ && !val3)
			return -EINVAL;
		r = futex_key(t, uaddr, &key);
		if (r < 0)
			return r;
		return wake_key(key, (int)WARD_MIN(val, (uint32_t)INT32_MAX),
				cmd == FUTEX_WAKE_ ? FUTEX_BITSET_ANY : val3);
	}
	case FUTEX_REQUEUE_:
		return futex_requeue(t, uaddr, uaddr2, (int)val, (int)arg_uint(args, 3), false, 0);
	case FUTEX_CMP_REQUEUE_:
		return futex_requeue(t, uaddr, uaddr2, (int)val, (int)arg_uint(args, 3), true, val3);
	case FUTEX_WAKE_OP_:
		return futex_wake_op(t, uaddr, uaddr2, (int)val, (int)arg_uint(args, 3), val3);
	case FUTEX_LOCK_PI_:
	case FUTEX_LOCK_PI2_:
		r = read_deadline(t, arg_addr(args, 3), true, cmd == FUTEX_LOCK_PI_ || realtime, &deadline);
		return r < 0 ? r : futex_lock_pi(t, uaddr, deadline, false);
	case FUTEX_TRYLOCK_PI_:
		return futex_lock_pi(t, uaddr, 0, true);
	case FUTEX_UNLOCK_PI_:
		return futex_unlock_pi(t, uaddr);
	default:
		/* FUTEX_FD is gone from Linux; the requeue-PI pair is not offered. */
		return -ENOSYS;
	}
}
