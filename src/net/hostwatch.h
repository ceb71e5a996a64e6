/* Host readiness for the sentry's wait queues: a host descriptor (a host
 * socket, the inherited stdio) is watched by the core's event thread, and
 * every change of its readiness wakes the wait queue registered here, so
 * poll, epoll and blocking calls sleep until something happens instead of
 * re-checking on a period.
 *
 * Locking: the kernel lock, for the table and for the wake-ups (the core's
 * event thread takes it before it calls in). */
#ifndef WARD_NET_HOSTWATCH_H
#define WARD_NET_HOSTWATCH_H

#include "ward/host.h"

struct waitq;

/* Watches a host socket or descriptor; changes wake q until
 * hostwatch_drop(*slot). -EPERM: the descriptor cannot be watched (a
 * regular file, always ready). */
long hostwatch_sock(ward_hostsock_t s, struct waitq *q, uint32_t *slot);
long hostwatch_fd(ward_hostfd_t f, struct waitq *q, uint32_t *slot);
/* Stops waking the queue (call before the queue goes away). */
void hostwatch_drop(uint32_t slot);

#endif
