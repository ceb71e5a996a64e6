/* futex and the threads built on it: FUTEX_WAIT's EAGAIN and ETIMEDOUT
 * (relative, and absolute with WAIT_BITSET on either clock), FUTEX_WAKE's
 * count, REQUEUE/CMP_REQUEUE moving a waiter, WAKE_OP's operation, shared
 * futexes across fork, PI futexes' ownership rules, robust futexes of a
 * process that died holding them; and pthreads: mutex, condition variable,
 * join (CLONE_CHILD_CLEARTID), thread ids. */
#include "ward_test.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#define MS 1000000LL

static long futex(void *uaddr, int op, int val, const void *timeout_or_val2, void *uaddr2, int val3)
{
	return syscall(SYS_futex, uaddr, op, val, timeout_or_val2, uaddr2, val3);
}

static long long now_ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void test_basic(void)
{
	int word = 1;
	struct timespec ms20 = { 0, 20 * MS };
	/* The value differs: EAGAIN at once, private or not. */
	CHECK_ERRNO(futex(&word, FUTEX_WAIT, 0, NULL, NULL, 0), EAGAIN);
	CHECK_ERRNO(futex(&word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0), EAGAIN);
	/* The value matches and nobody wakes us: ETIMEDOUT after at least
	 * the timeout (relative, measured on CLOCK_MONOTONIC). */
	long long start = now_ns(CLOCK_MONOTONIC);
	CHECK_ERRNO(futex(&word, FUTEX_WAIT_PRIVATE, 1, &ms20, NULL, 0), ETIMEDOUT);
	CHECK(now_ns(CLOCK_MONOTONIC) - start >= 20 * MS);
	start = now_ns(CLOCK_MONOTONIC);
	CHECK_ERRNO(futex(&word, FUTEX_WAIT, 1, &ms20, NULL, 0), ETIMEDOUT);
	CHECK(now_ns(CLOCK_MONOTONIC) - start >= 20 * MS);
	/* WAIT_BITSET takes an absolute time: CLOCK_MONOTONIC by default,
	 * CLOCK_REALTIME with FUTEX_CLOCK_REALTIME. */
	long long deadline = now_ns(CLOCK_MONOTONIC) + 20 * MS;
	struct timespec abs = { deadline / 1000000000, deadline % 1000000000 };
	CHECK_ERRNO(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, &abs, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
	CHECK(now_ns(CLOCK_MONOTONIC) >= deadline);
	deadline = now_ns(CLOCK_REALTIME) + 20 * MS;
	abs.tv_sec = deadline / 1000000000;
	abs.tv_nsec = deadline % 1000000000;
	CHECK_ERRNO(
		futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, &abs, NULL, FUTEX_BITSET_MATCH_ANY),
		ETIMEDOUT);
	CHECK(now_ns(CLOCK_REALTIME) >= deadline - MS);
	/* A deadline in the past: ETIMEDOUT at once. */
	struct timespec past = { 1, 0 };
	CHECK_ERRNO(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, &past, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
	/* A zero relative timeout too. */
	struct timespec zero = { 0, 0 };
	CHECK_ERRNO(futex(&word, FUTEX_WAIT_PRIVATE, 1, &zero, NULL, 0), ETIMEDOUT);

	/* Waking nobody wakes 0. */
	CHECK_EQ(futex(&word, FUTEX_WAKE, 1, NULL, NULL, 0), 0);
	CHECK_EQ(futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 0);
	CHECK_EQ(futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, FUTEX_BITSET_MATCH_ANY), 0);
	/* CMP_REQUEUE checks the value; with none waiting it moves none. */
	int other = 0;
	CHECK_ERRNO(futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1L, &other, 5), EAGAIN);
	CHECK_EQ(futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1L, &other, 1), 0);
	CHECK_EQ(futex(&word, FUTEX_REQUEUE_PRIVATE, 1, (void *)1L, &other, 0), 0);

	/* WAKE_OP does its operation on the second word (returning the number
	 * woken, here none): other += 5, and other = 3 when it was 5. */
	other = 10;
	CHECK_EQ(futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &other,
		       FUTEX_OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_EQ, 0)),
		 0);
	CHECK_EQ(other, 15);
	CHECK_EQ(futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &other,
		       FUTEX_OP(FUTEX_OP_SET, 3, FUTEX_OP_CMP_EQ, 15)),
		 0);
	CHECK_EQ(other, 3);
	CHECK_EQ(futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &other,
		       FUTEX_OP(FUTEX_OP_OR, 0x10, FUTEX_OP_CMP_NE, 0)),
		 0);
	CHECK_EQ(other, 0x13);

	/* Errors. */
	char bytes[8] __attribute__((aligned(4))) = { 0 };
	CHECK_ERRNO(futex(bytes + 1, FUTEX_WAIT, 0, NULL, NULL, 0), EINVAL);
	CHECK_ERRNO(futex(bytes + 1, FUTEX_WAKE, 1, NULL, NULL, 0), EINVAL);
	CHECK_ERRNO(futex((void *)8, FUTEX_WAIT, 0, NULL, NULL, 0), EFAULT);
	struct timespec bad = { 0, 1000000000 }, neg = { -1, 0 };
	CHECK_ERRNO(futex(&word, FUTEX_WAIT, 1, &bad, NULL, 0), EINVAL);
	CHECK_ERRNO(futex(&word, FUTEX_WAIT, 1, &neg, NULL, 0), EINVAL);
	CHECK_ERRNO(futex(&word, FUTEX_WAIT, 1, (void *)1, NULL, 0), EFAULT);
	CHECK_ERRNO(futex(&word, FUTEX_WAIT_BITSET, 1, NULL, NULL, 0), EINVAL);
	CHECK_ERRNO(futex(&word, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0), EINVAL);
	CHECK_ERRNO(futex(&word, 99, 0, NULL, NULL, 0), ENOSYS);
	/* FUTEX_CLOCK_REALTIME is only for the absolute waits. */
	CHECK_ERRNO(futex(&word, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0), ENOSYS);
}

/* A waiter that sleeps on *addr while it reads 0, then exits. */
struct waiter {
	atomic_int *addr;
	int op;
	atomic_int done;
};

static void *wait_while_zero(void *arg)
{
	struct waiter *w = arg;
	while (atomic_load(w->addr) == 0)
		futex(w->addr, w->op, 0, NULL, NULL, 0);
	atomic_store(&w->done, 1);
	return (void *)42;
}

/* Wakes *addr until one waiter is reported woken (the waiter goes back to
 * sleep while the word is 0); returns whether that happened within 2 s. */
static int wake_one(atomic_int *addr, int op)
{
	for (int i = 0; i < 2000; i++) {
		if (futex(addr, op, 1, NULL, NULL, 0) == 1)
			return 1;
		usleep(1000);
	}
	return 0;
}

static void test_wake_requeue(void)
{
	/* FUTEX_WAKE reports the waiter it woke. */
	static atomic_int word;
	atomic_store(&word, 0);
	struct waiter w = { &word, FUTEX_WAIT_PRIVATE, 0 };
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, wait_while_zero, &w), 0);
	CHECK(wake_one(&word, FUTEX_WAKE_PRIVATE));
	atomic_store(&word, 1);
	futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	void *ret = NULL;
	CHECK_EQ(pthread_join(t, &ret), 0);
	CHECK_EQ((long)ret, 42);
	CHECK_EQ(atomic_load(&w.done), 1);

	/* CMP_REQUEUE moves the waiter to another word: once it says it
	 * requeued one, a wake on the second word must find it. */
	static atomic_int a, b;
	atomic_store(&a, 0);
	atomic_store(&b, 0);
	struct waiter wa = { &a, FUTEX_WAIT_PRIVATE, 0 };
	CHECK_EQ(pthread_create(&t, NULL, wait_while_zero, &wa), 0);
	int moved = 0;
	for (int i = 0; i < 2000 && !moved; i++) {
		/* Wake none, requeue up to one, if a is still 0. */
		long r = futex(&a, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)1L, &b, 0);
		CHECK(r == 0 || r == 1);
		moved = r == 1;
		if (!moved)
			usleep(1000);
	}
	CHECK(moved);
	atomic_store(&a, 1);
	/* Nobody is left on a; the waiter is on b. */
	CHECK_EQ(futex(&a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 0);
	CHECK_EQ(futex(&b, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), moved ? 1 : 0);
	CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK_EQ(atomic_load(&wa.done), 1);
}

static atomic_int bits_word;

static void *wait_bitset_1(void *arg)
{
	while (atomic_load(&bits_word) == 0)
		futex(&bits_word, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, 1);
	return NULL;
}

static void test_bitset(void)
{
	atomic_store(&bits_word, 0);
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, wait_bitset_1, NULL), 0);
	/* Once a bitset-1 wake has found the waiter, it is known to be
	 * waiting (and goes back to wait); a bitset-2 wake never finds it. */
	int found = 0;
	for (int i = 0; i < 2000 && !found; i++) {
		found = futex(&bits_word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 1) == 1;
		if (!found)
			usleep(1000);
	}
	CHECK(found);
	/* It may not be back asleep yet; either way bitset 2 wakes none. */
	CHECK_EQ(futex(&bits_word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 2), 0);
	atomic_store(&bits_word, 1);
	futex(&bits_word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	CHECK_EQ(pthread_join(t, NULL), 0);
}

static void test_shared(void)
{
	/* A non-private futex in a shared mapping works across fork. */
	atomic_int *word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(word != MAP_FAILED);
	if (word == MAP_FAILED)
		return;
	atomic_store(word, 0);
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		while (atomic_load(word) == 0)
			futex(word, FUTEX_WAIT, 0, NULL, NULL, 0);
		_exit(atomic_load(word) == 7 ? 0 : 1);
	}
	CHECK(wake_one(word, FUTEX_WAKE));
	atomic_store(word, 7);
	futex(word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
	munmap(word, 4096);
}

static void test_pi(void)
{
	static atomic_int lock;
	atomic_store(&lock, 0);
	pid_t tid = gettid();
	/* LOCK_PI on a free lock takes it: the word becomes our tid. */
	CHECK_OK(futex(&lock, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0));
	CHECK_EQ(atomic_load(&lock) & FUTEX_TID_MASK, tid);
	/* Taking it again: EDEADLK, and so for TRYLOCK. */
	CHECK_ERRNO(futex(&lock, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), EDEADLK);
	CHECK_ERRNO(futex(&lock, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0), EDEADLK);
	/* UNLOCK_PI by the owner frees it. */
	CHECK_OK(futex(&lock, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
	CHECK_EQ(atomic_load(&lock), 0);
	/* Unlocking a lock we do not own: EPERM. */
	CHECK_ERRNO(futex(&lock, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), EPERM);
	atomic_store(&lock, tid + 1);
	CHECK_ERRNO(futex(&lock, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), EPERM);
	/* A lock word naming a thread that does not exist: ESRCH. */
	pid_t gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	atomic_store(&lock, gone);
	CHECK_ERRNO(futex(&lock, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0), ESRCH);
	atomic_store(&lock, 0);
	CHECK_OK(futex(&lock, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
	CHECK_EQ(atomic_load(&lock) & FUTEX_TID_MASK, tid);
	CHECK_OK(futex(&lock, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
}

/* ---- pthreads. ---- */

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t pi_mutex;
static long counter;

static void *add_many(void *arg)
{
	pthread_mutex_t *m = arg;
	for (int i = 0; i < 100000; i++) {
		pthread_mutex_lock(m);
		counter++;
		pthread_mutex_unlock(m);
	}
	return NULL;
}

static pthread_mutex_t pp_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_cond = PTHREAD_COND_INITIALIZER;
static int turn; /* 0: main's turn, 1: the thread's */
static int rounds;

static void *pong(void *arg)
{
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&pp_mutex);
		while (turn != 1)
			pthread_cond_wait(&pp_cond, &pp_mutex);
		rounds++;
		turn = 0;
		pthread_cond_signal(&pp_cond);
		pthread_mutex_unlock(&pp_mutex);
	}
	return NULL;
}

struct ids {
	pid_t pid, tid, ppid;
};

static void *get_ids(void *arg)
{
	struct ids *ids = arg;
	ids->pid = getpid();
	ids->tid = gettid();
	ids->ppid = getppid();
	return arg;
}

static void test_pthreads(void)
{
	/* Ids: same process, a thread id of its own. */
	struct ids ids = { 0, 0, 0 };
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, get_ids, &ids), 0);
	void *ret = NULL;
	CHECK_EQ(pthread_join(t, &ret), 0);
	CHECK(ret == &ids);
	CHECK_EQ(ids.pid, getpid());
	CHECK_EQ(ids.ppid, getppid());
	CHECK(ids.tid > 0);
	CHECK(ids.tid != gettid());
	CHECK_EQ(gettid(), getpid());
	/* The joined thread is gone: its tid no longer names a thread. The
	 * kernel clears the tid (which ends the join) a moment before the
	 * thread is released, so look again for up to a second. */
	for (int i = 0; i < 1000 && syscall(SYS_tgkill, getpid(), ids.tid, 0) == 0; i++)
		usleep(1000);
	CHECK_ERRNO(syscall(SYS_tgkill, getpid(), ids.tid, 0), ESRCH);

	/* Two threads, one counter, a mutex. */
	counter = 0;
	pthread_t a, b;
	CHECK_EQ(pthread_create(&a, NULL, add_many, &mutex), 0);
	CHECK_EQ(pthread_create(&b, NULL, add_many, &mutex), 0);
	CHECK_EQ(pthread_join(a, NULL), 0);
	CHECK_EQ(pthread_join(b, NULL), 0);
	CHECK_EQ(counter, 200000);

	/* The same with a priority-inheritance mutex (LOCK_PI/UNLOCK_PI when
	 * contended). */
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	CHECK_EQ(pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT), 0);
	CHECK_EQ(pthread_mutex_init(&pi_mutex, &attr), 0);
	counter = 0;
	CHECK_EQ(pthread_create(&a, NULL, add_many, &pi_mutex), 0);
	CHECK_EQ(pthread_create(&b, NULL, add_many, &pi_mutex), 0);
	CHECK_EQ(pthread_join(a, NULL), 0);
	CHECK_EQ(pthread_join(b, NULL), 0);
	CHECK_EQ(counter, 200000);
	pthread_mutex_destroy(&pi_mutex);
	pthread_mutexattr_destroy(&attr);

	/* Condition variable ping-pong, 1000 rounds. */
	turn = 0;
	rounds = 0;
	CHECK_EQ(pthread_create(&t, NULL, pong, NULL), 0);
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&pp_mutex);
		turn = 1;
		pthread_cond_signal(&pp_cond);
		while (turn != 0)
			pthread_cond_wait(&pp_cond, &pp_mutex);
		pthread_mutex_unlock(&pp_mutex);
	}
	CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK_EQ(rounds, 1000);

	/* A timed wait that times out. */
	pthread_mutex_lock(&pp_mutex);
	struct timespec abs;
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_nsec += 20 * MS;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	CHECK_EQ(pthread_cond_timedwait(&pp_cond, &pp_mutex, &abs), ETIMEDOUT);
	pthread_mutex_unlock(&pp_mutex);
}

static void *lock_and_exit(void *arg)
{
	pthread_mutex_lock(arg);
	return NULL;
}

static void test_robust(void)
{
	/* A process-shared robust mutex held by a process that exits: the
	 * kernel walks the dead process's robust list, and the next locker
	 * gets EOWNERDEAD. */
	pthread_mutex_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	if (m == MAP_FAILED)
		return;
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	CHECK_EQ(pthread_mutex_init(m, &attr), 0);
	pid_t pid = CHECK_OK(fork());
	if (pid == 0) {
		pthread_mutex_lock(m);
		_exit(0);
	}
	CHECK_EQ(waitpid(pid, NULL, 0), pid);
	CHECK_EQ(pthread_mutex_lock(m), EOWNERDEAD);
	CHECK_EQ(pthread_mutex_consistent(m), 0);
	CHECK_EQ(pthread_mutex_unlock(m), 0);
	CHECK_EQ(pthread_mutex_lock(m), 0);
	CHECK_EQ(pthread_mutex_unlock(m), 0);

	/* The same for a thread that exits holding a robust mutex. */
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_PRIVATE);
	pthread_mutex_destroy(m);
	CHECK_EQ(pthread_mutex_init(m, &attr), 0);
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, lock_and_exit, m), 0);
	CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK_EQ(pthread_mutex_lock(m), EOWNERDEAD);
	CHECK_EQ(pthread_mutex_consistent(m), 0);
	CHECK_EQ(pthread_mutex_unlock(m), 0);
	pthread_mutex_destroy(m);
	pthread_mutexattr_destroy(&attr);

	/* The robust list syscalls themselves. */
	void *head = NULL;
	size_t len = 0;
	CHECK_OK(syscall(SYS_get_robust_list, 0, &head, &len));
	CHECK(head != NULL); /* glibc registers one for every thread */
	CHECK_EQ(len, 24);
	CHECK_ERRNO(syscall(SYS_set_robust_list, head, 23), EINVAL);
	munmap(m, 4096);
}

int main(void)
{
	test_basic();
	test_wake_requeue();
	test_bitset();
	test_shared();
	test_pi();
	test_pthreads();
	test_robust();
	return test_done();
}
