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
	/* Copy-on-write (a fork): while nonzero, the pages still read
	 * memfile_off, a source that other address spaces read too, and the
	 * first write copies them here. The platform maps them without write
	 * permission, so a guest write faults; the core's own writes break
	 * them first. */
	uint64_t cow_dst;
};

/* How much a guest write fault copies at once: fewer faults for a child
 * that writes a region, little waste for one that writes a word. */
#define COW_CLUSTER (16 * WARD_PAGE_SIZE)

/* The protection the platform gives a range. */
static int host_prot(const struct backed_range *b)
{
	return b->cow_dst ? b->prot & ~WARD_PROT_WRITE : b->prot;
}

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
		r = fn(arg, b->start, b->end - b->start, host_prot(b), b->memfile_off);
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
	if (r.cow_dst)
		as->ranges[i + 1].cow_dst = r.cow_dst + (addr - r.start);
}

/* Joins range i with its neighbours where the memory file continues it,
 * so that a region whose copy-on-write pages were copied one cluster at
 * a time becomes one range again. */
static void merge_around(struct ward_as *as, size_t i)
{
	for (int side = 0; side < 2; side++) {
		size_t lo = side ? i - 1 : i;
		if ((side && i == 0) || lo + 1 >= as->n)
			continue;
		struct backed_range *a = &as->ranges[lo], *b = &as->ranges[lo + 1];
		if (a->end != b->start || a->prot != b->prot || a->cow_dst || b->cow_dst ||
		    a->memfile_off + (a->end - a->start) != b->memfile_off)
			continue;
		a->end = b->end;
		memmove(b, b + 1, (as->n - lo - 2) * sizeof(*b));
		as->n--;
		if (side)
			i--;
	}
}

static int range_ok(uint64_t start, uint64_t len)
{
	return len != 0 && start % WARD_PAGE_SIZE == 0 && len % WARD_PAGE_SIZE == 0 && start >= ward_as_min_addr() &&
	       start < ward_as_user_limit() && len <= ward_as_user_limit() - start;
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

/* WARD_PROT_REPLACE if part of [start, end) is backed now. */
static int replaces(const struct ward_as *as, uint64_t start, uint64_t end)
{
	size_t i = first_above(as, start);
	return i < as->n && as->ranges[i].start < end ? WARD_PROT_REPLACE : 0;
}

/* Maps [start, start+len) on the platform and records it: reading
 * memfile_off, and copy-on-write to cow_dst when that is nonzero. */
static long map_range(struct ward_as *as, gaddr_t start, uint64_t len, int prot, uint64_t memfile_off, uint64_t cow_dst)
{
	pthread_rwlock_wrlock(&as->lock);
	if (reserve(as, 3) < 0) {
		pthread_rwlock_unlock(&as->lock);
		return -ENOMEM;
	}
	int host = (cow_dst ? prot & ~WARD_PROT_WRITE : prot) | replaces(as, start.v, start.v + len);
	long r = ward_platform()->as_map(as->pas, start.v, len, host, memfile_off);
	if (r < 0) {
		pthread_rwlock_unlock(&as->lock);
		return r;
	}
	remove_locked(as, start.v, start.v + len);
	size_t i = first_above(as, start.v);
	memmove(&as->ranges[i + 1], &as->ranges[i], (as->n - i) * sizeof(*as->ranges));
	as->ranges[i] = (struct backed_range){ start.v, start.v + len, memfile_off, prot, cow_dst };
	as->n++;
	pthread_rwlock_unlock(&as->lock);
	return 0;
}

long ward_as_map(struct ward_as *as, gaddr_t start, uint64_t len, int prot, uint64_t memfile_off)
{
	if (!range_ok(start.v, len) || memfile_off % WARD_PAGE_SIZE || !ward__memfile_range_allocated(memfile_off, len))
		return -EINVAL;
	return map_range(as, start, len, prot, memfile_off, 0);
}

long ward_as_map_cow(struct ward_as *as, gaddr_t start, uint64_t len, int prot, uint64_t src_off, uint64_t dst_off)
{
	if (!range_ok(start.v, len) || src_off % WARD_PAGE_SIZE || dst_off % WARD_PAGE_SIZE || !dst_off ||
	    !ward__memfile_range_allocated(src_off, len) || !ward__memfile_range_allocated(dst_off, len))
		return -EINVAL;
	return map_range(as, start, len, prot, src_off, dst_off);
}

/* Takes the write lock and splits the ranges at start and end, so that
 * [start, end) is made of whole ranges; -ENOMEM (unlocked) without memory
 * for the split. */
static long wrlock_split(struct ward_as *as, uint64_t start, uint64_t end)
{
	pthread_rwlock_wrlock(&as->lock);
	if (reserve(as, 2) < 0) {
		pthread_rwlock_unlock(&as->lock);
		return -ENOMEM;
	}
	split_at(as, start);
	split_at(as, end);
	return 0;
}

long ward_as_fork_cow(struct ward_as *as, gaddr_t start, uint64_t len, uint64_t dst_off,
		      void (*piece)(void *arg, uint64_t addr, uint64_t len, uint64_t src_off), void *arg)
{
	uint64_t end = start.v + len;
	if (!range_ok(start.v, len) || dst_off % WARD_PAGE_SIZE || !ward__memfile_range_allocated(dst_off, len))
		return -EINVAL;
	if (wrlock_split(as, start.v, end) < 0)
		return -ENOMEM;
	size_t first = first_above(as, start.v), i;
	/* One host call for the whole range when it is one run of one
	 * protection (a VMA's usually is), else one per range. */
	bool one_run = true;
	uint64_t at = start.v;
	for (i = first; i < as->n && as->ranges[i].start < end; i++) {
		if (as->ranges[i].start != at || as->ranges[i].prot != as->ranges[first].prot)
			one_run = false;
		at = as->ranges[i].end;
	}
	one_run = one_run && at == end && first < as->n;
	long r = 0;
	if (one_run)
		r = ward_platform()->as_protect(as->pas, start.v, len, as->ranges[first].prot & ~WARD_PROT_WRITE);
	for (i = first; r == 0 && i < as->n && as->ranges[i].start < end; i++) {
		struct backed_range *b = &as->ranges[i];
		if (!one_run && !b->cow_dst && (b->prot & WARD_PROT_WRITE))
			r = ward_platform()->as_protect(as->pas, b->start, b->end - b->start,
							b->prot & ~WARD_PROT_WRITE);
		if (r < 0)
			break;
		/* What the range reads now (its own pages, or an older source)
		 * is the source from here on, for this space and the other. */
		piece(arg, b->start, b->end - b->start, b->memfile_off);
		b->cow_dst = dst_off + (b->start - start.v);
	}
	pthread_rwlock_unlock(&as->lock);
	return r;
}

/* Copies [a, b) of copy-on-write range i to its own pages and maps them
 * with the range's protection. The caller holds the write lock and has
 * reserved two slots. */
static long cow_break_locked(struct ward_as *as, size_t i, uint64_t a, uint64_t b)
{
	const struct backed_range *r = &as->ranges[i];
	uint64_t src = r->memfile_off + (a - r->start), dst = r->cow_dst + (a - r->start);
	int prot = r->prot;
	if (!ward__memfile_range_ok(src, b - a) || !ward__memfile_range_ok(dst, b - a))
		return -EFAULT;
	uint8_t *base = ward__memfile_base();
	/* SAFETY: both ranges lie in the memory file (checked above). The
	 * source is read-only to every guest that maps it, and the
	 * destination is mapped by no one until the map below. */
	memcpy(base + dst, base + src, b - a);
	long e = ward_platform()->as_map(as->pas, a, b - a, prot | WARD_PROT_REPLACE, dst);
	if (e < 0)
		return e;
	split_at(as, a);
	split_at(as, b);
	size_t j = first_above(as, a);
	as->ranges[j].memfile_off = dst;
	as->ranges[j].cow_dst = 0;
	merge_around(as, j);
	return 0;
}

/* Makes the copy-on-write pages of [start, end) the guest's own: whole
 * ranges when cluster is false, else the cluster around start. Returns 1
 * when something was copied, 0 when nothing there was copy-on-write, or
 * -errno. Takes the write lock. */
static long cow_break(struct ward_as *as, uint64_t start, uint64_t end, bool cluster)
{
	long r = 0, copied = 0;
	pthread_rwlock_wrlock(&as->lock);
	for (;;) {
		if (reserve(as, 2) < 0) {
			r = -ENOMEM;
			break;
		}
		size_t i = first_above(as, start);
		while (i < as->n && as->ranges[i].start < end && !as->ranges[i].cow_dst)
			i++;
		if (i == as->n || as->ranges[i].start >= end)
			break;
		const struct backed_range *b = &as->ranges[i];
		uint64_t a = WARD_MAX(b->start, start), z = WARD_MIN(b->end, end);
		if (cluster) {
			uint64_t c = start & ~(uint64_t)(COW_CLUSTER - 1);
			a = WARD_MAX(b->start, c);
			z = WARD_MIN(b->end, c + COW_CLUSTER);
		}
		r = cow_break_locked(as, i, a, z);
		if (r < 0)
			break;
		copied = 1;
		if (cluster)
			break;
	}
	pthread_rwlock_unlock(&as->lock);
	return r < 0 ? r : copied;
}

long ward_as_cow_own(struct ward_as *as, gaddr_t start, uint64_t len, uint64_t own_off)
{
	uint64_t end = start.v + len;
	if (!range_ok(start.v, len) || own_off % WARD_PAGE_SIZE || !ward__memfile_range_allocated(own_off, len))
		return -EINVAL;
	uint8_t *base = ward__memfile_base();
	long r = 0;
	if (wrlock_split(as, start.v, end) < 0)
		return -ENOMEM;
	for (size_t i = first_above(as, start.v); i < as->n && as->ranges[i].start < end; i++) {
		struct backed_range *b = &as->ranges[i];
		uint64_t own = own_off + (b->start - start.v), blen = b->end - b->start;
		if (b->memfile_off == own && !b->cow_dst)
			continue;
		if (!ward__memfile_range_ok(b->memfile_off, blen)) {
			r = -EFAULT;
			break;
		}
		/* SAFETY: both in the memory file; the destination is this
		 * range's own, mapped by no one else. */
		memmove(base + own, base + b->memfile_off, blen);
		r = ward_platform()->as_map(as->pas, b->start, blen, b->prot | WARD_PROT_REPLACE, own);
		if (r < 0)
			break;
		b->memfile_off = own;
		b->cow_dst = 0;
	}
	pthread_rwlock_unlock(&as->lock);
	return r;
}

long ward_as_cow_adopt(struct ward_as *as, gaddr_t start, uint64_t len, uint64_t src_off, uint64_t src_len)
{
	uint64_t end = start.v + len;
	if (!range_ok(start.v, len))
		return -EINVAL;
	long r = 0, adopted = 0;
	if (wrlock_split(as, start.v, end) < 0)
		return -ENOMEM;
	for (size_t i = first_above(as, start.v); i < as->n && as->ranges[i].start < end; i++) {
		struct backed_range *b = &as->ranges[i];
		if (!b->cow_dst || b->memfile_off < src_off || b->memfile_off - src_off >= src_len)
			continue;
		if (b->prot & WARD_PROT_WRITE) {
			r = ward_platform()->as_protect(as->pas, b->start, b->end - b->start, b->prot);
			if (r < 0)
				break;
		}
		b->cow_dst = 0;
		adopted = 1;
	}
	pthread_rwlock_unlock(&as->lock);
	return r < 0 ? r : adopted;
}

long ward_as_write_fault(struct ward_as *as, gaddr_t addr)
{
	int prot = 0;
	bool cow = false;
	pthread_rwlock_rdlock(&as->lock);
	size_t i = first_above(as, addr.v);
	bool backed = i < as->n && as->ranges[i].start <= addr.v;
	if (backed) {
		prot = as->ranges[i].prot;
		cow = as->ranges[i].cow_dst != 0;
	}
	pthread_rwlock_unlock(&as->lock);
	if (!backed || !(prot & WARD_PROT_WRITE))
		return -EFAULT;
	if (!cow)
		return 1;
	long r = cow_break(as, addr.v & ~(uint64_t)(WARD_PAGE_SIZE - 1), (addr.v | (WARD_PAGE_SIZE - 1)) + 1, true);
	return r < 0 ? r : 0;
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
		r = ward_platform()->as_protect(as->pas, b->start, b->end - b->start,
						b->cow_dst ? prot & ~WARD_PROT_WRITE : prot);
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
		if (r->cow_dst && dir != COPY_IN) {
			/* The sentry writes like the guest: a copy-on-write
			 * page is copied first (the cluster around it). */
			pthread_rwlock_unlock(&as->lock);
			long e = cow_break(as, at & ~(uint64_t)(WARD_PAGE_SIZE - 1), at + 1, true);
			pthread_rwlock_rdlock(&as->lock);
			if (e < 0)
				break;
			i = first_above(as, at);
			continue;
		}
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
 * address space's read lock. -EAGAIN: the word is on a copy-on-write page,
 * which the caller must break without the lock and look up again. */
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
	if (as->ranges[i].cow_dst) {
		*err = -EAGAIN;
		return NULL;
	}
	uint64_t off = as->ranges[i].memfile_off + (addr.v - as->ranges[i].start);
	if (!ward__memfile_range_ok(off, 4))
		return NULL;
	/* SAFETY: off is inside the memory file, 4-byte aligned (start and
	 * memfile_off are page-aligned), and mapped in the sentry at base. */
	return (uint32_t *)((uint8_t *)ward__memfile_base() + off);
}

/* guest_word with the read lock taken, copy-on-write broken first. On
 * success the caller holds the read lock. */
static uint32_t *guest_word_locked(struct ward_as *as, gaddr_t addr, long *err)
{
	for (int tries = 0;; tries++) {
		pthread_rwlock_rdlock(&as->lock);
		uint32_t *w = guest_word(as, addr, err);
		if (w || *err != -EAGAIN || tries == 4)
			return w;
		pthread_rwlock_unlock(&as->lock);
		long e = cow_break(as, addr.v & ~(uint64_t)(WARD_PAGE_SIZE - 1), addr.v + 1, true);
		if (e < 0) {
			pthread_rwlock_rdlock(&as->lock);
			*err = e;
			return NULL;
		}
	}
}

long ward_guest_cmpxchg32(struct ward_as *as, gaddr_t addr, uint32_t old_val, uint32_t new_val, uint32_t *actual)
{
	long err;
	uint32_t *w = guest_word_locked(as, addr, &err);
	if (w) {
		uint32_t expected = old_val;
		__atomic_compare_exchange_n(w, &expected, new_val, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*actual = expected;
		err = 0;
	}
	pthread_rwlock_unlock(&as->lock);
	return err == -EAGAIN ? -EFAULT : err;
}

long ward_guest_atomic_op32(struct ward_as *as, gaddr_t addr, int op, uint32_t oparg, uint32_t *old)
{
	long err;
	uint32_t *w = guest_word_locked(as, addr, &err);
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
	return err == -EAGAIN ? -EFAULT : err;
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
			if (r->cow_dst && (need & WARD_PROT_WRITE))
				return -2;
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

void ward__as_break_cow_iov(struct ward_as *as, const struct ward_iovec *v, int cnt)
{
	for (int k = 0; k < cnt; k++) {
		uint64_t addr = v[k].base.v, len = v[k].len;
		if (len && addr + len > addr)
			cow_break(as, addr & ~(uint64_t)(WARD_PAGE_SIZE - 1), addr + len, false);
	}
}
