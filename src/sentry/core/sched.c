/* The kernel lock and condition variables (include/ward/sched.h). */
#include "core.h"

#include <pthread.h>
#include <signal.h>
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

long ward_thread_spawn(void *(*fn)(void *), void *arg)
{
	pthread_t tid;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int r = pthread_create(&tid, &attr, fn, arg);
	pthread_attr_destroy(&attr);
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
