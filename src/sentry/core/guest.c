/* Guest address spaces as the core keeps them, and guest memory access.
 *
 * Each address space holds a sorted array of backed ranges. A copy walks the
 * ranges covering the guest buffer and memcpys through the sentry's mapping
 * of the memory file; any gap or missing permission is -EFAULT. */
#include "core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

struct backed_range {
	uint64_t start;
	uint64_t end;
	uint64_t memfile_off;
	int prot;
};

struct ward_as {
	pthread_rwlock_t lock;
	struct backed_range *ranges;
	size_t n;
	size_t cap;
	struct ward_platform_as *pas;
};

long ward_as_create(struct ward_as **out)
{
	struct ward_as *as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	pthread_rwlock_init(&as->lock, NULL);
	long r = ward_platform()->as_create(as, &as->pas);
	if (r < 0) {
		free(as);
		return r;
	}
	*out = as;
	return 0;
}

void ward_as_destroy(struct ward_as *as)
{
	if (!as)
		return;
	ward_platform()->as_destroy(as->pas);
	pthread_rwlock_destroy(&as->lock);
	free(as->ranges);
	free(as);
}

long ward__as_replay(struct ward_as *as, int (*fn)(void *arg, uint64_t start, uint64_t len, int prot, uint64_t off),
		     void *arg, _Atomic uint64_t *gen, uint64_t *gen_out)
{
	long r = 0;
	pthread_rwlock_rdlock(&as->lock);
	*gen_out = atomic_load(gen);
	for (size_t i = 0; i < as->n && r >= 0; i++) {
		const struct backed_range *b = &as->ranges[i];
		r = fn(arg, b->start, b->end - b->start, b->prot, b->memfile_off);
	}
	pthread_rwlock_unlock(&as->lock);
	return r;
}

struct ward_platform_as *ward_as_platform(struct ward_as *as)
{
	return as->pas;
}

uint64_t ward_as_user_limit(void)
{
	return ward_platform()->user_limit;
}

/* Index of the first range whose end is above addr. */
static size_t first_above(const struct ward_as *as, uint64_t addr)
{
	size_t lo = 0, hi = as->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (as->ranges[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int reserve(struct ward_as *as, size_t extra)
{
	if (as->n + extra <= as->cap)
		return 0;
	size_t cap = as->cap ? as->cap * 2 : 16;
	while (cap < as->n + extra)
		cap *= 2;
	struct backed_range *r = realloc(as->ranges, cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	as->ranges = r;
	as->cap = cap;
	return 0;
}

/* Splits the range containing addr so that addr starts a range. Needs one
 * free slot. */
static void split_at(struct ward_as *as, uint64_t addr)
{
	size_t i = first_above(as, addr);
	if (i == as->n || as->ranges[i].start >= addr)
		return;
	struct backed_range r = as->ranges[i];
	memmove(&as->ranges[i + 1], &as->ranges[i], (as->n - i) * sizeof(r));
	as->n++;
	as->ranges[i].end = addr;
	as->ranges[i + 1].start = addr;
	as->ranges[i + 1].memfile_off = r.memfile_off + (addr - r.start);
}

static int range_ok(uint64_t start, uint64_t len)
{
	return len != 0 && start % WARD_PAGE_SIZE == 0 && len % WARD_PAGE_SIZE == 0 && start < ward_as_user_limit() &&
	       len <= ward_as_user_limit() - start;
}

/* Removes [start, end) from the array (caller holds the lock, has reserved
 * two slots). */
static void remove_locked(struct ward_as *as, uint64_t start, uint64_t end)
{
	split_at(as, start);
	split_at(as, end);
	size_t i = first_above(as, start);
	size_t j = i;
	while (j < as->n && as->ranges[j].start < end)
		j++;
	memmove(&as->ranges[i], &as->ranges[j], (as->n - j) * sizeof(*as->ranges));
	as->n -= j - i;
}

long ward_as_map(struct ward_as *as, gaddr_t start, uint64_t len, int prot, uint64_t memfile_off)
{
	if (!range_ok(start.v, len) || memfile_off % WARD_PAGE_SIZE || !ward__memfile_range_allocated(memfile_off, len))
		return -EINVAL;
	pthread_rwlock_wrlock(&as->lock);
	if (reserve(as, 3) < 0) {
		pthread_rwlock_unlock(&as->lock);
		return -ENOMEM;
	}
	long r = ward_platform()->as_map(as->pas, start.v, len, prot, memfile_off);
	if (r < 0) {
		pthread_rwlock_unlock(&as->lock);
		return r;
	}
	remove_locked(as, start.v, start.v + len);
	size_t i = first_above(as, start.v);
	memmove(&as->ranges[i + 1], &as->ranges[i], (as->n - i) * sizeof(*as->ranges));
	as->ranges[i] = (struct backed_range){ start.v, start.v + len, memfile_off, prot };
	as->n++;
	pthread_rwlock_unlock(&as->lock);
	return 0;
}

long ward_as_unmap(struct ward_as *as, gaddr_t start, uint64_t len)
{
	if (!range_ok(start.v, len))
		return -EINVAL;
	pthread_rwlock_wrlock(&as->lock);
	if (reserve(as, 2) < 0) {
		pthread_rwlock_unlock(&as->lock);
		return -ENOMEM;
	}
	/* The guest must lose access before the sentry forgets the range, so
	 * that freed memory-file pages are never reachable from the stub. */
	long r = ward_platform()->as_unmap(as->pas, start.v, len);
	if (r == 0)
		remove_locked(as, start.v, start.v + len);
	pthread_rwlock_unlock(&as->lock);
	return r;
}

long ward_as_protect(struct ward_as *as, gaddr_t start, uint64_t len, int prot)
{
	if (!range_ok(start.v, len))
		return -EINVAL;
	pthread_rwlock_wrlock(&as->lock);
	if (reserve(as, 2) < 0) {
		pthread_rwlock_unlock(&as->lock);
		return -ENOMEM;
	}
	/* Only the backed parts exist on the platform side (a host mprotect
	 * over a hole would fail), so protect range by range. */
	long r = 0;
	split_at(as, start.v);
	split_at(as, start.v + len);
	for (size_t i = first_above(as, start.v); i < as->n && as->ranges[i].start < start.v + len; i++) {
		struct backed_range *b = &as->ranges[i];
		r = ward_platform()->as_protect(as->pas, b->start, b->end - b->start, prot);
		if (r < 0)
			break;
		b->prot = prot;
	}
	pthread_rwlock_unlock(&as->lock);
	return r;
}

long ward_as_translate(struct ward_as *as, gaddr_t addr, uint64_t *memfile_off, int *prot)
{
	long r = -EFAULT;
	pthread_rwlock_rdlock(&as->lock);
	size_t i = first_above(as, addr.v);
	if (i < as->n && as->ranges[i].start <= addr.v) {
		*memfile_off = as->ranges[i].memfile_off + (addr.v - as->ranges[i].start);
		if (prot)
			*prot = as->ranges[i].prot;
		r = 0;
	}
	pthread_rwlock_unlock(&as->lock);
	return r;
}

enum copy_dir { COPY_IN, COPY_OUT, COPY_OUT_FORCE, ZERO_OUT };

/* Moves up to len bytes between the sentry buffer and the guest range at
 * addr, range by range. Returns the bytes moved before the first byte that
 * is unbacked or lacks the permission. */
static size_t copy_ranges(struct ward_as *as, enum copy_dir dir, uint64_t addr, void *buf, size_t len)
{
	uint8_t *base = ward__memfile_base();
	size_t done = 0;
	int need = dir == COPY_IN ? WARD_PROT_READ : dir == COPY_OUT_FORCE ? 0 : WARD_PROT_WRITE;

	/* No address space: a task caught between two (exec, exit), as seen
	 * by another process through /proc. Nothing is backed. */
	if (len == 0 || !as)
		return 0;
	if (addr + len < addr)
		len = -addr; /* stop at the wrap; the rest is unbacked anyway */
	pthread_rwlock_rdlock(&as->lock);
	size_t i = first_above(as, addr);
	while (done < len && i < as->n) {
		const struct backed_range *r = &as->ranges[i];
		uint64_t at = addr + done;
		if (r->start > at || (r->prot & need) != need)
			break;
		size_t chunk = WARD_MIN(len - done, r->end - at);
		uint64_t off = r->memfile_off + (at - r->start);
		if (!ward__memfile_range_ok(off, chunk))
			break;
		/* SAFETY: off..off+chunk lies in the memory file (checked above)
		 * and the sentry maps the whole file at base. The guest may change
		 * these bytes concurrently; callers treat what they read as
		 * untrusted. */
		switch (dir) {
		case COPY_IN:
			memcpy((uint8_t *)buf + done, base + off, chunk);
			break;
		case COPY_OUT:
		case COPY_OUT_FORCE:
			memcpy(base + off, (const uint8_t *)buf + done, chunk);
			break;
		case ZERO_OUT:
			memset(base + off, 0, chunk);
			break;
		}
		done += chunk;
		i++;
	}
	pthread_rwlock_unlock(&as->lock);
	return done;
}

long ward_copy_in(struct ward_as *as, void *dst, gaddr_t src, size_t len)
{
	return copy_ranges(as, COPY_IN, src.v, dst, len) == len ? 0 : -EFAULT;
}

long ward_copy_out(struct ward_as *as, gaddr_t dst, const void *src, size_t len)
{
	return copy_ranges(as, COPY_OUT, dst.v, (void *)src, len) == len ? 0 : -EFAULT;
}

long ward_copy_out_force(struct ward_as *as, gaddr_t dst, const void *src, size_t len)
{
	return copy_ranges(as, COPY_OUT_FORCE, dst.v, (void *)src, len) == len ? 0 : -EFAULT;
}

long ward_copy_out_partial(struct ward_as *as, gaddr_t dst, const void *src, size_t len)
{
	size_t n = copy_ranges(as, COPY_OUT, dst.v, (void *)src, len);
	if (n == 0 && len != 0)
		return -EFAULT;
	return (long)n;
}

long ward_zero_out(struct ward_as *as, gaddr_t dst, size_t len)
{
	return copy_ranges(as, ZERO_OUT, dst.v, NULL, len) == len ? 0 : -EFAULT;
}

long ward_copy_string_in(struct ward_as *as, char *buf, size_t bufsize, gaddr_t src)
{
	size_t done = 0;

	if (bufsize == 0)
		return -ENAMETOOLONG;
	/* Read page by page: the string may end just before an unmapped page. */
	while (done < bufsize) {
		uint64_t at = src.v + done;
		size_t chunk = WARD_MIN(bufsize - done, WARD_PAGE_SIZE - (at % WARD_PAGE_SIZE));
		size_t n = copy_ranges(as, COPY_IN, at, buf + done, chunk);
		void *nul = memchr(buf + done, 0, n);
		if (nul)
			return (long)((char *)nul - buf);
		if (n < chunk)
			return -EFAULT;
		done += n;
	}
	buf[bufsize - 1] = 0;
	return -ENAMETOOLONG;
}

long ward_iovec_import(struct ward_as *as, gaddr_t iov, long iovcnt, struct ward_iovec *vecs)
{
	uint64_t total = 0;

	if (iovcnt < 0 || iovcnt > WARD_UIO_MAXIOV)
		return -EINVAL;
	for (long i = 0; i < iovcnt; i++) {
		struct linux_iovec v;
		if (WARD_COPY_IN_OBJ(as, &v, gaddr_add(iov, (uint64_t)i * sizeof(v))) < 0)
			return -EFAULT;
		if ((int64_t)v.iov_len < 0)
			return -EINVAL;
		/* As Linux's access_ok: a range past the user address space is
		 * EFAULT before anything moves. */
		if (v.iov_len && (v.iov_base + v.iov_len < v.iov_base || v.iov_base + v.iov_len > ward_as_user_limit()))
			return -EFAULT;
		if (v.iov_len > WARD_MAX_RW_COUNT - total)
			v.iov_len = WARD_MAX_RW_COUNT - total;
		total += v.iov_len;
		vecs[i] = (struct ward_iovec){ gaddr(v.iov_base), v.iov_len };
	}
	return (long)total;
}

/* The sentry's view of a writable, aligned guest word. The caller holds the
 * address space's read lock. */
static uint32_t *guest_word(struct ward_as *as, gaddr_t addr, long *err)
{
	*err = -EFAULT;
	if (addr.v % 4) {
		*err = -EINVAL;
		return NULL;
	}
	size_t i = first_above(as, addr.v);
	if (i == as->n || as->ranges[i].start > addr.v || !(as->ranges[i].prot & WARD_PROT_WRITE))
		return NULL;
	uint64_t off = as->ranges[i].memfile_off + (addr.v - as->ranges[i].start);
	if (!ward__memfile_range_ok(off, 4))
		return NULL;
	/* SAFETY: off is inside the memory file, 4-byte aligned (start and
	 * memfile_off are page-aligned), and mapped in the sentry at base. */
	return (uint32_t *)((uint8_t *)ward__memfile_base() + off);
}

long ward_guest_cmpxchg32(struct ward_as *as, gaddr_t addr, uint32_t old_val, uint32_t new_val, uint32_t *actual)
{
	long err;
	pthread_rwlock_rdlock(&as->lock);
	uint32_t *w = guest_word(as, addr, &err);
	if (w) {
		uint32_t expected = old_val;
		__atomic_compare_exchange_n(w, &expected, new_val, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*actual = expected;
		err = 0;
	}
	pthread_rwlock_unlock(&as->lock);
	return err;
}

long ward_guest_atomic_op32(struct ward_as *as, gaddr_t addr, int op, uint32_t oparg, uint32_t *old)
{
	long err;
	pthread_rwlock_rdlock(&as->lock);
	uint32_t *w = guest_word(as, addr, &err);
	if (w) {
		err = 0;
		switch (op) {
		case 0:
			*old = __atomic_exchange_n(w, oparg, __ATOMIC_SEQ_CST);
			break;
		case 1:
			*old = __atomic_fetch_add(w, oparg, __ATOMIC_SEQ_CST);
			break;
		case 2:
			*old = __atomic_fetch_or(w, oparg, __ATOMIC_SEQ_CST);
			break;
		case 3:
			*old = __atomic_fetch_and(w, ~oparg, __ATOMIC_SEQ_CST);
			break;
		case 4:
			*old = __atomic_fetch_xor(w, oparg, __ATOMIC_SEQ_CST);
			break;
		default:
			err = -ENOSYS;
		}
	}
	pthread_rwlock_unlock(&as->lock);
	return err;
}

void ward__as_rdlock(struct ward_as *as)
{
	pthread_rwlock_rdlock(&as->lock);
}

void ward__as_unlock(struct ward_as *as)
{
	pthread_rwlock_unlock(&as->lock);
}

int ward__as_host_iov(struct ward_as *as, const struct ward_iovec *v, int cnt, int need, struct iovec *out, int max,
		      size_t *total)
{
	uint8_t *base = ward__memfile_base();
	int n = 0;
	*total = 0;
	for (int k = 0; k < cnt; k++) {
		uint64_t addr = v[k].base.v, len = v[k].len, done = 0;
		if (addr + len < addr)
			return n;
		size_t i = first_above(as, addr);
		while (done < len) {
			if (i >= as->n)
				return n;
			const struct backed_range *r = &as->ranges[i];
			uint64_t at = addr + done;
			if (r->start > at || (r->prot & need) != need)
				return n;
			size_t chunk = (size_t)WARD_MIN(len - done, r->end - at);
			uint64_t off = r->memfile_off + (at - r->start);
			if (!ward__memfile_range_ok(off, chunk))
				return n;
			/* SAFETY: off..off+chunk lies in the memory file and the
			 * caller holds the address space's lock until the host call
			 * that uses the pointer returns, so the range stays the
			 * guest's; the host kernel copies, the sentry never reads. */
			uint8_t *p = base + off;
			if (n && (uint8_t *)out[n - 1].iov_base + out[n - 1].iov_len == p) {
				out[n - 1].iov_len += chunk;
			} else {
				if (n == max)
					return -1;
				out[n++] = (struct iovec){ p, chunk };
			}
			*total += chunk;
			done += chunk;
			i++;
		}
	}
	return n;
}
