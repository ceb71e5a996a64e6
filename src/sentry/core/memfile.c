/* The memory file: allocation of page ranges in one memfd, mapped whole into
 * the sentry. */
#include "core.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* A free extent of the file. The free list is kept sorted by offset and
 * coalesced, so allocation is first-fit over a short list. */
struct free_extent {
	uint64_t off;
	uint64_t len;
};

static struct {
	int fd;
	uint8_t *base;
	uint64_t size;
	uint64_t used;
	struct free_extent *free;
	size_t nfree;
	size_t cap;
	/* Allocated extents are not listed: a range is allocated when it lies
	 * inside the file and overlaps no free extent. */
	pthread_mutex_t lock;
} mf = { .fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

long ward_memfile_init(uint64_t size)
{
	cleanup_close int fd = -1;

	if (mf.base)
		return 0;
	size = WARD_PAGE_ALIGN_UP(size);
	fd = memfd_create("ward-memory", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0)
		return -errno;
	void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (base == MAP_FAILED)
		return -errno;
	mf.free = malloc(sizeof(*mf.free) * 64);
	if (!mf.free) {
		munmap(base, size);
		return -ENOMEM;
	}
	mf.cap = 64;
	/* Offset 0 is never handed out, so 0 can mean "no backing". */
	mf.free[0] = (struct free_extent){ WARD_PAGE_SIZE, size - WARD_PAGE_SIZE };
	mf.nfree = 1;
	mf.base = base;
	mf.size = size;
	mf.fd = fd;
	fd = -1;
	return 0;
}

void *ward__memfile_base(void)
{
	return mf.base;
}

int ward__memfile_fd(void)
{
	return mf.fd;
}

static int insert_free(size_t at, uint64_t off, uint64_t len)
{
	if (mf.nfree == mf.cap) {
		struct free_extent *n = realloc(mf.free, sizeof(*n) * mf.cap * 2);
		if (!n)
			return -ENOMEM;
		mf.free = n;
		mf.cap *= 2;
	}
	memmove(&mf.free[at + 1], &mf.free[at], (mf.nfree - at) * sizeof(*mf.free));
	mf.free[at] = (struct free_extent){ off, len };
	mf.nfree++;
	return 0;
}

long ward_memfile_alloc(uint64_t len, uint64_t *off)
{
	if (len == 0 || len > mf.size)
		return -ENOMEM;
	len = WARD_PAGE_ALIGN_UP(len);
	pthread_mutex_lock(&mf.lock);
	for (size_t i = 0; i < mf.nfree; i++) {
		if (mf.free[i].len < len)
			continue;
		*off = mf.free[i].off;
		mf.free[i].off += len;
		mf.free[i].len -= len;
		if (mf.free[i].len == 0) {
			memmove(&mf.free[i], &mf.free[i + 1], (mf.nfree - i - 1) * sizeof(*mf.free));
			mf.nfree--;
		}
		mf.used += len;
		pthread_mutex_unlock(&mf.lock);
		return 0;
	}
	pthread_mutex_unlock(&mf.lock);
	return -ENOMEM;
}

long ward_memfile_alloc_at(uint64_t off, uint64_t len)
{
	len = WARD_PAGE_ALIGN_UP(len);
	if (len == 0 || off % WARD_PAGE_SIZE || off > mf.size || len > mf.size - off)
		return -ENOMEM;
	pthread_mutex_lock(&mf.lock);
	for (size_t i = 0; i < mf.nfree; i++) {
		struct free_extent *e = &mf.free[i];
		if (e->off > off || e->off + e->len < off + len)
			continue;
		/* Carve [off, off+len) out of this extent: keep what lies before
		 * and after it. */
		uint64_t before = off - e->off, after = e->off + e->len - (off + len);
		if (before && after) {
			if (insert_free(i + 1, off + len, after) < 0) {
				pthread_mutex_unlock(&mf.lock);
				return -ENOMEM;
			}
			mf.free[i].len = before;
		} else if (before) {
			e->len = before;
		} else if (after) {
			e->off = off + len;
			e->len = after;
		} else {
			memmove(&mf.free[i], &mf.free[i + 1], (mf.nfree - i - 1) * sizeof(*mf.free));
			mf.nfree--;
		}
		mf.used += len;
		pthread_mutex_unlock(&mf.lock);
		return 0;
	}
	pthread_mutex_unlock(&mf.lock);
	return -ENOMEM;
}

void ward_memfile_free(uint64_t off, uint64_t len)
{
	len = WARD_PAGE_ALIGN_UP(len);
	if (len == 0 || off % WARD_PAGE_SIZE || off < WARD_PAGE_SIZE || off > mf.size || len > mf.size - off)
		return;
	/* Give the pages back to the host first: a later allocation must read
	 * zeros, and an idle guest must not hold memory it unmapped. */
	fallocate(mf.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
	pthread_mutex_lock(&mf.lock);
	size_t i = 0;
	while (i < mf.nfree && mf.free[i].off < off)
		i++;
	/* Refuse a double free: the range overlaps a free neighbour. */
	if ((i > 0 && mf.free[i - 1].off + mf.free[i - 1].len > off) || (i < mf.nfree && off + len > mf.free[i].off)) {
		pthread_mutex_unlock(&mf.lock);
		ward_log(WARD_LOG_ERROR, "memfile: double free of [%#lx, +%#lx)", (unsigned long)off,
			 (unsigned long)len);
		return;
	}
	bool merge_prev = i > 0 && mf.free[i - 1].off + mf.free[i - 1].len == off;
	bool merge_next = i < mf.nfree && off + len == mf.free[i].off;
	if (merge_prev && merge_next) {
		mf.free[i - 1].len += len + mf.free[i].len;
		memmove(&mf.free[i], &mf.free[i + 1], (mf.nfree - i - 1) * sizeof(*mf.free));
		mf.nfree--;
	} else if (merge_prev) {
		mf.free[i - 1].len += len;
	} else if (merge_next) {
		mf.free[i].off = off;
		mf.free[i].len += len;
	} else if (insert_free(i, off, len) < 0) {
		/* Out of memory for the list: the range leaks inside the file,
		 * but its pages were already returned to the host. */
		pthread_mutex_unlock(&mf.lock);
		return;
	}
	mf.used -= len;
	pthread_mutex_unlock(&mf.lock);
}

int ward__memfile_range_ok(uint64_t off, uint64_t len)
{
	if (!mf.base || off < WARD_PAGE_SIZE || off > mf.size || len > mf.size - off)
		return 0;
	return 1;
}

int ward__memfile_range_allocated(uint64_t off, uint64_t len)
{
	if (!ward__memfile_range_ok(off, len))
		return 0;
	pthread_mutex_lock(&mf.lock);
	size_t lo = 0, hi = mf.nfree;
	/* The first free extent that ends above off. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (mf.free[mid].off + mf.free[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	int ok = lo == mf.nfree || mf.free[lo].off >= off + len;
	pthread_mutex_unlock(&mf.lock);
	return ok;
}

uint64_t ward_memfile_used(void)
{
	return mf.used;
}

long ward_memfile_write(uint64_t off, const void *buf, size_t len)
{
	if (!ward__memfile_range_ok(off, len))
		return -EFAULT;
	/* SAFETY: [off, off+len) is inside the sentry's mapping of the file. */
	memcpy(mf.base + off, buf, len);
	return 0;
}

long ward_memfile_read(uint64_t off, void *buf, size_t len)
{
	if (!ward__memfile_range_ok(off, len))
		return -EFAULT;
	/* SAFETY: as above. */
	memcpy(buf, mf.base + off, len);
	return 0;
}

long ward_memfile_zero(uint64_t off, size_t len)
{
	if (!ward__memfile_range_ok(off, len))
		return -EFAULT;
	/* SAFETY: as above. */
	memset(mf.base + off, 0, len);
	return 0;
}

long ward_memfile_copy(uint64_t dst, uint64_t src, size_t len)
{
	if (!ward__memfile_range_ok(dst, len) || !ward__memfile_range_ok(src, len))
		return -EFAULT;
	/* SAFETY: both ranges are inside the mapping; they may overlap. */
	memmove(mf.base + dst, mf.base + src, len);
	return 0;
}

/* Fills at least this large go through splice_fill. */
#define SPLICE_FILL_MIN (64 * 1024)

long ward_memfile_copy_sparse(uint64_t dst, uint64_t src, size_t len)
{
	if (!ward__memfile_range_ok(dst, len) || !ward__memfile_range_ok(src, len))
		return -EFAULT;
	/* Copy only the parts of src that hold data: a hole reads as zeros,
	 * and dst is zero already (fresh allocations are), so copying a hole
	 * would only make the host allocate pages of zeros. */
	uint64_t at = src, end = src + len;
	while (at < end) {
		off_t data = lseek(mf.fd, (off_t)at, SEEK_DATA);
		if (data < 0 || (uint64_t)data >= end)
			break;
		off_t hole = lseek(mf.fd, data, SEEK_HOLE);
		uint64_t stop = hole < 0 || (uint64_t)hole > end ? end : (uint64_t)hole;
		/* The host copies within the file without faulting every page
		 * into the sentry first; a memcpy is the fallback. */
		loff_t in = data, out = (loff_t)(dst + ((uint64_t)data - src));
		size_t left = stop - (uint64_t)data;
		while (left > 0) {
			ssize_t n = copy_file_range(mf.fd, &in, mf.fd, &out, left, 0);
			if (n <= 0)
				break;
			left -= (size_t)n;
		}
		if (left > 0) {
			/* SAFETY: [in, stop) lies inside [src, end), checked above. */
			memcpy(mf.base + out, mf.base + in, left);
		}
		at = stop;
	}
	return 0;
}

/* Moves up to len bytes of a host file into the memory file through a pipe,
 * inside the host kernel: for large fills (an executable's text) this is
 * about twice as fast as a pread into the sentry's mapping, which takes a
 * page fault per page. Returns the bytes moved (fewer at the file's end),
 * or -errno if nothing moved. */
static long splice_fill(uint64_t off, int fd, uint64_t file_off, size_t len)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	loff_t in = (loff_t)file_off, out = (loff_t)off;
	size_t done = 0;
	long err = 0;
	while (done < len) {
		ssize_t n = splice(fd, &in, p[1], NULL, WARD_MIN(len - done, (size_t)1 << 20), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : 0;
			break;
		}
		ssize_t moved = 0;
		while (moved < n) {
			ssize_t k = splice(p[0], NULL, mf.fd, &out, (size_t)(n - moved), 0);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				/* What is left in the pipe is lost: say where the
				 * memory file's copy stops. */
				close(p[0]);
				close(p[1]);
				done += (size_t)moved;
				return done ? (long)done : (k < 0 ? -errno : -EIO);
			}
			moved += k;
		}
		done += (size_t)n;
	}
	close(p[0]);
	close(p[1]);
	return done ? (long)done : err;
}

long ward_memfile_fill_from_host(uint64_t off, ward_hostfd_t file, uint64_t file_off, size_t len)
{
	size_t done = 0;

	if (!ward__memfile_range_ok(off, len))
		return -EFAULT;
	if (len >= SPLICE_FILL_MIN) {
		long n = splice_fill(off, file.fd, file_off, len);
		if (n > 0)
			done = (size_t)n;
		/* At the file's end, or the host cannot splice this file: the
		 * rest (if any) goes the plain way. */
	}
	while (done < len) {
		/* SAFETY: the destination is inside the mapping (checked above). */
		ssize_t n = pread(file.fd, mf.base + off + done, len - done, (off_t)(file_off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return done ? (long)done : -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (long)done;
}
