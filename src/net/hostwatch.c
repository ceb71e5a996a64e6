/* Host readiness to wait queues (hostwatch.h). The core's event thread
 * hands back a cookie: a slot index and the slot's generation, so that a
 * wake-up already on its way for a socket that has since closed finds a
 * newer generation (or a free slot) and wakes nothing. */
#include "sentry/service.h"

#include "net/hostwatch.h"
#include "sentry/kernel/task.h"

struct slot {
	uint32_t gen;
	struct waitq *q; /* NULL: free */
};

static struct slot *slots;
static uint32_t nslots;
static bool handler_set;

static void on_ready(uint64_t cookie)
{
	uint32_t idx = (uint32_t)cookie, gen = (uint32_t)(cookie >> 32);
	if (idx < nslots && slots[idx].q && slots[idx].gen == gen)
		waitq_wake_all(slots[idx].q);
}

static long slot_alloc(struct waitq *q, uint64_t *cookie, uint32_t *slot)
{
	if (!handler_set) {
		ward_host_set_ready_handler(on_ready);
		handler_set = true;
	}
	uint32_t i = 0;
	while (i < nslots && slots[i].q)
		i++;
	if (i == nslots) {
		uint32_t cap = nslots ? nslots * 2 : 64;
		struct slot *n = realloc(slots, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n + nslots, 0, (cap - nslots) * sizeof(*n));
		slots = n;
		nslots = cap;
	}
	slots[i].gen++;
	slots[i].q = q;
	*cookie = (uint64_t)slots[i].gen << 32 | i;
	*slot = i;
	return 0;
}

long hostwatch_sock(ward_hostsock_t s, struct waitq *q, uint32_t *slot)
{
	uint64_t cookie;
	long r = slot_alloc(q, &cookie, slot);
	if (r < 0)
		return r;
	r = ward_host_sock_watch(s, cookie);
	if (r < 0)
		hostwatch_drop(*slot);
	return r;
}

long hostwatch_fd(ward_hostfd_t f, struct waitq *q, uint32_t *slot)
{
	uint64_t cookie;
	long r = slot_alloc(q, &cookie, slot);
	if (r < 0)
		return r;
	r = ward_host_watch(f, cookie);
	if (r < 0)
		hostwatch_drop(*slot);
	return r;
}

void hostwatch_drop(uint32_t slot)
{
	if (slot < nslots) {
		slots[slot].q = NULL;
		slots[slot].gen++;
	}
}
