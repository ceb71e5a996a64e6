/* Blocking and waking for services: the kernel lock and condition
 * variables that sleep with it released.
 *
 * The sentry kernel runs under one lock (the kernel lock): a task thread
 * takes it to handle whatever stopped its guest and drops it to run guest
 * code again, so system calls of different tasks are serialised but guests
 * run in parallel. A task that must wait sleeps on a condition, which
 * releases the kernel lock while it sleeps.
 *
 * Lock order: the kernel lock, then any lock inside the core (address
 * spaces, the memory file). */
#ifndef WARD_SCHED_H
#define WARD_SCHED_H

#include <stdint.h>

void ward_kernel_lock(void);
void ward_kernel_unlock(void);

/* A condition to sleep on with the kernel lock held. */
struct ward_cond {
	unsigned char opaque[48] __attribute__((aligned(8)));
};

void ward_cond_init(struct ward_cond *c);
void ward_cond_destroy(struct ward_cond *c);
/* Sleeps until woken or until deadline (CLOCK_MONOTONIC nanoseconds; 0 for
 * none). Precondition: the caller holds the kernel lock; it holds it again
 * on return. Returns 0 when woken (or spuriously), -ETIMEDOUT at the
 * deadline. Callers re-check their condition in a loop. */
long ward_cond_wait(struct ward_cond *c, int64_t deadline_ns);
/* Wakes every sleeper. */
void ward_cond_broadcast(struct ward_cond *c);

/* CLOCK_MONOTONIC now, in nanoseconds. */
int64_t ward_now_ns(void);

/* One pointer per sentry thread, for the kernel's "current task" (a
 * service cannot declare thread-local storage of its own: TLS is reached
 * through the GOT, which the boundary check does not let services use). */
void ward_thread_set_current(void *p);
void *ward_thread_current(void);

/* Host calls that may block (a read of an inherited terminal or pipe) run
 * with the kernel lock dropped, so other tasks go on, and can be broken off
 * by ward_thread_kick from another thread: they then return -EINTR. A
 * thread's handle comes from ward_thread_self. */
uint64_t ward_thread_self(void);
void ward_thread_kick(uint64_t thread);

/* Starts fn(arg) on a new detached sentry thread. */
long ward_thread_spawn(void *(*fn)(void *), void *arg);

#endif
