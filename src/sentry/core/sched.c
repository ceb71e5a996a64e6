/* The kernel lock and condition variables (include/ward/sched.h). */
#include "core.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ward/sched.h"

static pthread_mutex_t kernel_lock = PTHREAD_MUTEX_INITIALIZER;

void ward_kernel_lock(void)
{
	pthread_mutex_lock(&kernel_lock);
}

void ward_kernel_unlock(void)
{
	pthread_mutex_unlock(&kernel_lock);
}

_Static_assert(sizeof(pthread_cond_t) <= sizeof(struct ward_cond), "ward_cond size");

static pthread_cond_t *cond_of(struct ward_cond *c)
{
	/* SAFETY: the opaque storage is large and aligned enough (asserted). */
	return (pthread_cond_t *)c->opaque;
}

void ward_cond_init(struct ward_cond *c)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond_of(c), &attr);
	pthread_condattr_destroy(&attr);
}

void ward_cond_destroy(struct ward_cond *c)
{
	pthread_cond_destroy(cond_of(c));
}

long ward_cond_wait(struct ward_cond *c, int64_t deadline_ns)
{
	if (deadline_ns <= 0) {
		pthread_cond_wait(cond_of(c), &kernel_lock);
		return 0;
	}
	struct timespec ts = { deadline_ns / 1000000000L, deadline_ns % 1000000000L };
	int r = pthread_cond_timedwait(cond_of(c), &kernel_lock, &ts);
	return r == ETIMEDOUT ? -ETIMEDOUT : 0;
}

void ward_cond_broadcast(struct ward_cond *c)
{
	pthread_cond_broadcast(cond_of(c));
}

int64_t ward_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Sentry threads are pooled: a thread whose work is done waits a while for
 * more, keeping its platform context (and with it the stubs it made, which
 * a next task in the same address space reuses), so that a guest thread or
 * process costs no host thread creation. */
#define POOL_IDLE_MAX 16
#define POOL_IDLE_NS (10LL * 1000000000LL)

struct pool_work {
	void *(*fn)(void *);
	void *arg;
	struct pool_work *next;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static struct pool_work *pool_queue;
static int pool_waiting, pool_queued;

static void *pool_thread(void *arg)
{
	struct pool_work *w = arg;
	for (;;) {
		w->fn(w->arg);
		free(w);
		w = NULL;
		pthread_mutex_lock(&pool_lock);
		if (pool_waiting >= POOL_IDLE_MAX) {
			pthread_mutex_unlock(&pool_lock);
			break;
		}
		pool_waiting++;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += POOL_IDLE_NS / 1000000000LL;
		while (!pool_queue) {
			if (pthread_cond_timedwait(&pool_cond, &pool_lock, &until) == ETIMEDOUT && !pool_queue)
				break;
		}
		pool_waiting--;
		if (pool_queue) {
			w = pool_queue;
			pool_queue = w->next;
			pool_queued--;
		}
		pthread_mutex_unlock(&pool_lock);
		if (!w)
			break;
	}
	ward__ctx_thread_exit();
	return NULL;
}

long ward_thread_spawn(void *(*fn)(void *), void *arg)
{
	struct pool_work *w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct pool_work){ fn, arg, NULL };
	pthread_mutex_lock(&pool_lock);
	if (pool_waiting > pool_queued) {
		struct pool_work **pp = &pool_queue;
		while (*pp)
			pp = &(*pp)->next;
		*pp = w;
		pool_queued++;
		pthread_cond_signal(&pool_cond);
		pthread_mutex_unlock(&pool_lock);
		return 0;
	}
	pthread_mutex_unlock(&pool_lock);
	pthread_t tid;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int r = pthread_create(&tid, &attr, pool_thread, w);
	pthread_attr_destroy(&attr);
	if (r)
		free(w);
	return -r;
}

static __thread void *thread_current;

void ward_thread_set_current(void *p)
{
	thread_current = p;
}

void *ward_thread_current(void)
{
	return thread_current;
}

/* The signal that breaks a sentry thread out of a blocking host call. Its
 * handler does nothing; installed without SA_RESTART, it makes the call
 * fail with EINTR. (SIGRTMAX is the ptrace platform's, sent to stubs.) */
#define KICK_SIGNAL (SIGRTMAX - 1)

static void kick_handler(int sig)
{
	(void)sig;
}

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;

static void kick_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(KICK_SIGNAL, &sa, NULL);
}

uint64_t ward_thread_self(void)
{
	pthread_once(&kick_once, kick_install);
	return (uint64_t)pthread_self();
}

void ward_thread_kick(uint64_t thread)
{
	if (thread)
		pthread_kill((pthread_t)thread, KICK_SIGNAL);
}
