/* The memory manager: VMAs and the rules of the memory system calls.
 *
 * Every VMA that the guest can access is backed by one contiguous range of
 * the memory file (backing = the offset for vma.start). Backing is
 * allocated when a range first becomes accessible and freed when it is
 * unmapped; the file is sparse, so a large mapping costs nothing until it
 * is touched. PROT_NONE reservations that were never accessible have no
 * backing at all, which is what lets a guest reserve terabytes.
 *
 * Fork is copy-on-write. A private VMA's own backing then holds only the
 * pages written since; the others still read a source: the pages the VMA
 * had at the fork, frozen, which the child reads too. The core keeps, page
 * by page, which pages read a source and copies each to the VMA's own
 * backing at its first write (include/ward/guest.h); the VMA holds
 * references to the sources it may still read, and the last reference
 * frees one. */
#include "sentry/service.h"

#include "fs/vfs.h"
#include "sentry/mm/mm.h"

#define MM_MIN_ADDR ward_as_min_addr() /* vm.mmap_min_addr */
#ifndef PROT_SEM
#define PROT_SEM 0x8
#endif
#define MM_STACK_GUARD_GAP (256UL * WARD_PAGE_SIZE)

enum vma_flags {
	VMA_SHARED = 1,
	VMA_GROWSDOWN = 2,
	VMA_STACK = 4,
	VMA_HEAP = 8,
	/* The vDSO's mappings (mm_map_vdso): named in /proc/[pid]/maps,
	 * never grown by mremap; [vvar] can never be made writable or
	 * executable. */
	VMA_VVAR = 16,
	VMA_VDSO = 32,
	/* The backing is not this VMA's: pages every guest shares, which the
	 * mm never frees, copies at fork, or clears. */
	VMA_BORROWED = 64,
	/* A System V shared memory attachment (mm_shmat): never merged with
	 * its neighbours, since each VMA counts as one attach (shm_nattch),
	 * and what shmdt looks for. */
	VMA_SYSV = 128,
	/* mlock(2)ed: accounted against RLIMIT_MEMLOCK. The sentry never
	 * pages guest memory out, so there is nothing to pin. */
	VMA_LOCKED = 256,
};

static void shm_get(struct shm_backing *b)
{
	b->refs++;
	if (b->ops)
		b->ops->vm_open(b);
}

/* Drops a VMA's reference: MAP_SHARED anonymous memory is freed with its
 * last VMA; a System V segment's owner decides for itself. */
static void shm_put(struct shm_backing *b)
{
	b->refs--;
	if (b->ops) {
		b->ops->vm_close(b);
		return;
	}
	if (b->refs == 0) {
		ward_memfile_free(b->off, b->len);
		free(b);
	}
}

void mm_shm_put(struct shm_backing *b)
{
	shm_put(b);
}

/* A copy-on-write source: a VMA's backing as it was when the process
 * forked, which both sides read until they write. */
struct cow_src {
	uint64_t off;
	uint64_t len;
	int refs;
};

static void cow_src_put(struct cow_src *s)
{
	if (--s->refs == 0) {
		ward_memfile_free(s->off, s->len);
		free(s);
	}
}

struct vma {
	/* Set when the backing is shared (MAP_SHARED anonymous memory after
	 * fork, shared maps of tmpfs files): a reference. */
	struct shm_backing *shm;
	uint64_t start;
	uint64_t end;
	int prot;
	int flags;
	uint64_t backing; /* memory-file offset of start; 0 = none yet */
	struct file *file; /* for file maps: a reference, and the maps line */
	uint64_t file_off;
	/* File maps: where the file's data ends (page-rounded); pages past it
	 * are not mapped, and touching them is SIGBUS, as on Linux. */
	uint64_t eof_addr;
	/* The copy-on-write sources some of its pages may still read (a
	 * reference each); backing then holds only the pages written. */
	struct cow_src **cow;
	size_t ncow;
};

/* What a fork child maps when it first runs: a piece of a VMA that reads
 * src_off until written, then dst_off. */
struct cow_piece {
	uint64_t addr;
	uint64_t len;
	uint64_t src_off;
	uint64_t dst_off;
};

struct mm {
	int refs; /* tasks sharing this address space (threads, CLONE_VM) */
	struct ward_as *as;
	struct vma *v;
	size_t n;
	size_t cap;
	uint64_t brk_start;
	uint64_t brk_cur;
	uint64_t mmap_base;
	/* Where execve put the argv and envp strings (/proc/[pid]/cmdline
	 * and environ). */
	uint64_t arg_start, arg_end, env_start, env_end;
	/* mlockall(MCL_FUTURE): new mappings start locked. */
	bool lock_future;
	/* A fork child before its first run: its copy-on-write pieces, which
	 * mm_attach maps. */
	struct cow_piece *plan;
	size_t nplan;
};

static uint64_t vma_mapped_len(const struct vma *v);
static struct vma *vma_find(struct mm *mm, uint64_t addr);

static void vma_cow_drop(struct vma *v)
{
	for (size_t k = 0; k < v->ncow; k++)
		cow_src_put(v->cow[k]);
	free(v->cow);
	v->cow = NULL;
	v->ncow = 0;
}

/* Gives v its own references to the sources it shares with another VMA
 * (a split, a fork child). On failure v has none, and its pages must not
 * read a source: the caller copies them first or fails. */
static int vma_cow_dup(struct vma *v)
{
	if (!v->ncow)
		return 0;
	struct cow_src **c = malloc(v->ncow * sizeof(*c));
	if (!c) {
		v->cow = NULL;
		v->ncow = 0;
		return -ENOMEM;
	}
	memcpy(c, v->cow, v->ncow * sizeof(*c));
	for (size_t k = 0; k < v->ncow; k++)
		c[k]->refs++;
	v->cow = c;
	return 0;
}

/* Moves b's source references into a (b is going away). */
static void vma_cow_absorb(struct vma *a, struct vma *b)
{
	for (size_t k = 0; k < b->ncow; k++) {
		bool have = false;
		for (size_t j = 0; j < a->ncow && !have; j++)
			have = a->cow[j] == b->cow[k];
		struct cow_src **c = have ? NULL : realloc(a->cow, (a->ncow + 1) * sizeof(*c));
		if (c) {
			a->cow = c;
			a->cow[a->ncow++] = b->cow[k];
		} else {
			/* A duplicate, or no memory to record it: the source
			 * stays referenced by a, or leaks its pages until the
			 * process ends rather than being freed under a. */
			if (have)
				cow_src_put(b->cow[k]);
		}
	}
	free(b->cow);
	b->cow = NULL;
	b->ncow = 0;
}

/* Copies every page of v that still reads a source to v's own backing and
 * drops the sources: for what needs v's data in one place (mremap). */
static long vma_cow_materialize(struct mm *mm, struct vma *v)
{
	if (!v->ncow)
		return 0;
	uint64_t mapped = vma_mapped_len(v);
	long r = mapped && mm->as ? ward_as_cow_own(mm->as, gaddr(v->start), mapped, v->backing) : 0;
	if (r < 0)
		return r;
	vma_cow_drop(v);
	return 0;
}

long mm_create(struct mm **out)
{
	struct mm *mm = calloc(1, sizeof(*mm));
	if (!mm)
		return -ENOMEM;
	long r = ward_as_create(&mm->as);
	if (r < 0) {
		free(mm);
		return r;
	}
	mm->mmap_base = ward_as_user_limit() - (1UL << 30);
	mm->refs = 1;
	*out = mm;
	return 0;
}

void mm_get(struct mm *mm)
{
	mm->refs++;
}

void mm_put(struct mm *mm)
{
	if (mm && --mm->refs == 0)
		mm_destroy(mm);
}

/* How much of v, from its start, is mapped: all of it, but for file maps
 * that end past the end of the file. */
static uint64_t vma_mapped_len(const struct vma *v)
{
	if (!v->file || v->eof_addr >= v->end)
		return v->end - v->start;
	return v->eof_addr > v->start ? v->eof_addr - v->start : 0;
}

/* Bookkeeping of one VMA's fork: which sources its pieces read. */
struct fork_walk {
	struct mm *child;
	const struct vma *v;
	uint64_t child_dst;
	bool own_used; /* some piece reads v's own backing */
	bool *src_used; /* per v->cow[k] */
	long err;
};

static void fork_piece(void *arg, uint64_t addr, uint64_t len, uint64_t src_off)
{
	struct fork_walk *w = arg;
	const struct vma *v = w->v;
	if (src_off >= v->backing && src_off < v->backing + (v->end - v->start))
		w->own_used = true;
	for (size_t k = 0; k < v->ncow; k++)
		if (src_off >= v->cow[k]->off && src_off < v->cow[k]->off + v->cow[k]->len)
			w->src_used[k] = true;
	struct mm *c = w->child;
	if (w->err)
		return;
	struct cow_piece *p = realloc(c->plan, (c->nplan + 1) * sizeof(*p));
	if (!p) {
		w->err = -ENOMEM;
		return;
	}
	c->plan = p;
	c->plan[c->nplan++] = (struct cow_piece){ addr, len, src_off, w->child_dst + (addr - v->start) };
}

/* Makes the parent's private VMA v copy-on-write and sets up the child's
 * copy cv of it (same sources, backing of its own). */
static long fork_vma_cow(struct mm *parent, struct mm *child, struct vma *v, struct vma *cv)
{
	uint64_t len = v->end - v->start, pnew, cnew;
	long r = ward_memfile_alloc(len, &pnew);
	if (r < 0)
		return r;
	r = ward_memfile_alloc(len, &cnew);
	if (r < 0) {
		ward_memfile_free(pnew, len);
		return r;
	}
	struct cow_src *own = malloc(sizeof(*own));
	bool *used = calloc(v->ncow + 1, sizeof(*used));
	struct cow_src **list = malloc((v->ncow + 1) * sizeof(*list));
	if (!own || !used || !list) {
		free(own);
		free(used);
		free(list);
		ward_memfile_free(pnew, len);
		ward_memfile_free(cnew, len);
		return -ENOMEM;
	}
	struct fork_walk w = { .child = child, .v = v, .child_dst = cnew, .src_used = used };
	r = ward_as_fork_cow(parent->as, gaddr(v->start), vma_mapped_len(v), pnew, fork_piece, &w);
	if (r == 0)
		r = w.err;
	/* From here the parent's pieces write to pnew, whatever happened:
	 * its bookkeeping follows, and a failure fails only the child. */
	size_t n = 0;
	for (size_t k = 0; k < v->ncow; k++) {
		if (used[k])
			list[n++] = v->cow[k];
		else
			cow_src_put(v->cow[k]);
	}
	if (w.own_used) {
		*own = (struct cow_src){ v->backing, len, 1 };
		list[n++] = own;
	} else {
		free(own);
		ward_memfile_free(v->backing, len);
	}
	free(used);
	free(v->cow);
	v->cow = list;
	v->ncow = n;
	v->backing = pnew;
	*cv = *v;
	cv->backing = cnew;
	if (r == 0)
		r = vma_cow_dup(cv);
	if (r < 0) {
		cv->cow = NULL;
		cv->ncow = 0;
		ward_memfile_free(cnew, len);
		cv->backing = 0;
	}
	return r;
}

long mm_fork(struct mm *parent, struct mm **out)
{
	struct mm *mm = calloc(1, sizeof(*mm));
	if (!mm)
		return -ENOMEM;
	mm->v = calloc(parent->n ? parent->n : 1, sizeof(*mm->v));
	if (!mm->v) {
		free(mm);
		return -ENOMEM;
	}
	mm->cap = parent->n ? parent->n : 1;
	mm->refs = 1;
	mm->brk_start = parent->brk_start;
	mm->brk_cur = parent->brk_cur;
	mm->mmap_base = parent->mmap_base;
	mm->arg_start = parent->arg_start;
	mm->arg_end = parent->arg_end;
	mm->env_start = parent->env_start;
	mm->env_end = parent->env_end;
	for (size_t i = 0; i < parent->n; i++) {
		struct vma *pv = &parent->v[i];
		struct vma v = *pv;
		if (v.shm) {
			shm_get(v.shm);
		} else if (v.backing && !(v.flags & VMA_BORROWED) && parent->as && vma_mapped_len(pv)) {
			/* Copy-on-write: the fork costs a protection change
			 * per VMA; the pages are copied when written. */
			long r = fork_vma_cow(parent, mm, pv, &v);
			if (r < 0) {
				mm_destroy(mm);
				return r;
			}
		} else if (v.backing && !(v.flags & VMA_BORROWED)) {
			/* A parent without an address space has no pages to
			 * share yet: an eager copy of what holds data. */
			uint64_t off;
			long r = ward_memfile_alloc(v.end - v.start, &off);
			if (r < 0) {
				mm_destroy(mm);
				return r;
			}
			ward_memfile_copy_sparse(off, v.backing, v.end - v.start);
			v.backing = off;
			v.cow = NULL;
			v.ncow = 0;
		}
		if (v.file)
			file_get(v.file);
		mm->v[mm->n++] = v;
	}
	*out = mm;
	return 0;
}

long mm_attach(struct mm *mm)
{
	if (mm->as)
		return 0;
	long r = ward_as_create(&mm->as);
	if (r < 0)
		return r;
	for (size_t i = 0; i < mm->n; i++) {
		const struct vma *v = &mm->v[i];
		if (!v->backing || !vma_mapped_len(v) || v->ncow)
			continue;
		r = ward_as_map(mm->as, gaddr(v->start), vma_mapped_len(v), v->prot, v->backing);
		if (r < 0)
			return r;
	}
	for (size_t k = 0; k < mm->nplan; k++) {
		const struct cow_piece *p = &mm->plan[k];
		const struct vma *v = vma_find(mm, p->addr);
		if (!v)
			continue;
		r = ward_as_map_cow(mm->as, gaddr(p->addr), p->len, v->prot, p->src_off, p->dst_off);
		if (r < 0)
			return r;
	}
	free(mm->plan);
	mm->plan = NULL;
	mm->nplan = 0;
	return 0;
}

static void vma_release(struct vma *v)
{
	if (v->shm) {
		shm_put(v->shm);
		v->shm = NULL;
	} else if (v->backing && !(v->flags & VMA_BORROWED)) {
		ward_memfile_free(v->backing, v->end - v->start);
	}
	if (v->file)
		file_put(v->file);
	vma_cow_drop(v);
	v->backing = 0;
	v->file = NULL;
}

void mm_destroy(struct mm *mm)
{
	if (!mm)
		return;
	/* The stub goes first, so no guest can touch freed memory-file pages. */
	if (mm->as)
		ward_as_destroy(mm->as);
	for (size_t i = 0; i < mm->n; i++)
		vma_release(&mm->v[i]);
	free(mm->v);
	free(mm->plan);
	free(mm);
}

struct ward_as *mm_as(struct mm *mm)
{
	return mm->as;
}

void mm_set_brk_start(struct mm *mm, uint64_t start)
{
	mm->brk_start = mm->brk_cur = start;
}

void mm_set_mmap_base(struct mm *mm, uint64_t base)
{
	mm->mmap_base = WARD_PAGE_ALIGN_DOWN(base);
}

/* Index of the first VMA whose end is above addr. */
static size_t vma_first_above(const struct mm *mm, uint64_t addr)
{
	size_t lo = 0, hi = mm->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (mm->v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int vma_reserve(struct mm *mm, size_t extra)
{
	if (mm->n + extra <= mm->cap)
		return 0;
	size_t cap = mm->cap ? mm->cap * 2 : 32;
	while (cap < mm->n + extra)
		cap *= 2;
	struct vma *v = realloc(mm->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	mm->v = v;
	mm->cap = cap;
	return 0;
}

/* Splits the VMA containing addr so that addr starts one. Needs a slot. */
static void vma_split(struct mm *mm, uint64_t addr)
{
	size_t i = vma_first_above(mm, addr);
	if (i == mm->n || mm->v[i].start >= addr)
		return;
	struct vma v = mm->v[i];
	memmove(&mm->v[i + 1], &mm->v[i], (mm->n - i) * sizeof(v));
	mm->n++;
	mm->v[i].end = addr;
	struct vma *hi = &mm->v[i + 1];
	hi->start = addr;
	if (v.shm)
		shm_get(v.shm);
	if (v.backing)
		hi->backing = v.backing + (addr - v.start);
	/* Each half reads what it read: both may read the same sources. A
	 * failure to record that (no memory) copies the upper half's pages
	 * to its own backing: the lower half keeps the references. */
	if (vma_cow_dup(hi) < 0 && mm->as && vma_mapped_len(hi))
		ward_as_cow_own(mm->as, gaddr(hi->start), vma_mapped_len(hi), hi->backing);
	if (v.file) {
		hi->file = file_get(v.file);
		hi->file_off = v.file_off + (addr - v.start);
	}
}

static bool range_is_free(const struct mm *mm, uint64_t start, uint64_t end)
{
	size_t i = vma_first_above(mm, start);
	return i == mm->n || mm->v[i].start >= end;
}

static bool range_is_mapped(const struct mm *mm, uint64_t start, uint64_t end)
{
	uint64_t at = start;
	for (size_t i = vma_first_above(mm, start); i < mm->n && at < end; i++) {
		if (mm->v[i].start > at)
			return false;
		at = mm->v[i].end;
	}
	return at >= end;
}

/* Removes [start, end): the guest loses access first, then the backing is
 * freed. */
static long remove_range(struct mm *mm, uint64_t start, uint64_t end)
{
	if (vma_reserve(mm, 2) < 0)
		return -ENOMEM;
	vma_split(mm, start);
	vma_split(mm, end);
	size_t i = vma_first_above(mm, start), j = i;
	while (j < mm->n && mm->v[j].start < end) {
		struct vma *v = &mm->v[j];
		if (v->backing) {
			long r = ward_as_unmap(mm->as, gaddr(v->start), v->end - v->start);
			if (r < 0)
				return r;
		}
		vma_release(v);
		j++;
	}
	memmove(&mm->v[i], &mm->v[j], (mm->n - j) * sizeof(*mm->v));
	mm->n -= j - i;
	return 0;
}

/* Gives v backing (if it has none) and mirrors it into the core. */
static long vma_back(struct mm *mm, struct vma *v)
{
	uint64_t len = v->end - v->start;
	if (!v->backing && (v->flags & VMA_SHARED) && v->file && v->file->ops->mmap_shared) {
		/* The file's own pages: what the map stores, read(2) sees. */
		struct shm_backing *s;
		long r = v->file->ops->mmap_shared(v->file, v->file_off + len, v->prot & WARD_PROT_WRITE, &s);
		if (r < 0)
			return r;
		v->shm = s;
		v->backing = s->off + v->file_off;
	}
	if (!v->backing) {
		uint64_t off;
		long r = ward_memfile_alloc(len, &off);
		if (r < 0)
			return r;
		if (v->file) {
			r = v->file->ops->mmap_fill ? v->file->ops->mmap_fill(v->file, off, v->file_off, len) : -ENODEV;
			if (r < 0) {
				ward_memfile_free(off, len);
				return r;
			}
		}
		v->backing = off;
		if ((v->flags & VMA_SHARED) && !v->file) {
			v->shm = malloc(sizeof(*v->shm));
			if (!v->shm) {
				ward_memfile_free(off, len);
				v->backing = 0;
				return -ENOMEM;
			}
			*v->shm = (struct shm_backing){ .off = off, .len = len, .refs = 1 };
		}
	}
	uint64_t mapped = vma_mapped_len(v);
	return mapped ? ward_as_map(mm->as, gaddr(v->start), mapped, v->prot, v->backing) : 0;
}

/* Whether b continues a with nothing to tell them apart. */
static bool vma_mergeable(const struct vma *a, const struct vma *b)
{
	uint64_t len = a->end - a->start;
	return a->end == b->start && a->prot == b->prot && a->flags == b->flags && !(a->flags & VMA_SYSV) &&
	       a->file == b->file && a->shm == b->shm && (!a->file || a->file_off + len == b->file_off) &&
	       ((!a->backing && !b->backing) || (a->backing && b->backing && a->backing + len == b->backing));
}

/* Merges v[i] into its neighbours where they continue each other, as Linux
 * does, so that a heap or a grown mapping stays one VMA. */
static void vma_merge_around(struct mm *mm, size_t i)
{
	if (i + 1 < mm->n && vma_mergeable(&mm->v[i], &mm->v[i + 1])) {
		mm->v[i].end = mm->v[i + 1].end;
		if (mm->v[i + 1].file)
			file_put(mm->v[i + 1].file);
		if (mm->v[i + 1].shm)
			mm->v[i + 1].shm->refs--;
		vma_cow_absorb(&mm->v[i], &mm->v[i + 1]);
		memmove(&mm->v[i + 1], &mm->v[i + 2], (mm->n - i - 2) * sizeof(*mm->v));
		mm->n--;
	}
	if (i > 0 && vma_mergeable(&mm->v[i - 1], &mm->v[i])) {
		mm->v[i - 1].end = mm->v[i].end;
		if (mm->v[i].file)
			file_put(mm->v[i].file);
		if (mm->v[i].shm)
			mm->v[i].shm->refs--;
		vma_cow_absorb(&mm->v[i - 1], &mm->v[i]);
		memmove(&mm->v[i], &mm->v[i + 1], (mm->n - i - 1) * sizeof(*mm->v));
		mm->n--;
	}
}

/* Backs a new VMA that continues prev right after prev's own backing when
 * that part of the memory file is free, so the two can merge. */
static void vma_back_after(const struct vma *prev, struct vma *nv)
{
	if (!prev || !prev->backing || prev->end != nv->start || nv->backing || nv->prot == 0)
		return;
	uint64_t off = prev->backing + (prev->end - prev->start);
	if (ward_memfile_alloc_at(off, nv->end - nv->start) == 0)
		nv->backing = off;
}

static long insert_vma(struct mm *mm, const struct vma *nv)
{
	if (vma_reserve(mm, 1) < 0)
		return -ENOMEM;
	size_t i = vma_first_above(mm, nv->start);
	memmove(&mm->v[i + 1], &mm->v[i], (mm->n - i) * sizeof(*nv));
	mm->v[i] = *nv;
	mm->n++;
	if (nv->prot == 0) {
		vma_merge_around(mm, i);
		return 0;
	}
	if (i > 0 && !mm->v[i].file)
		vma_back_after(&mm->v[i - 1], &mm->v[i]);
	long r = vma_back(mm, &mm->v[i]);
	if (r < 0) {
		vma_release(&mm->v[i]);
		memmove(&mm->v[i], &mm->v[i + 1], (mm->n - i - 1) * sizeof(*nv));
		mm->n--;
		return r;
	}
	vma_merge_around(mm, i);
	return 0;
}

long mm_map_vdso(struct mm *mm, uint64_t addr, uint64_t vvar_off, uint64_t image_off, uint64_t image_len)
{
	const struct vma vvar = {
		.start = addr,
		.end = addr + WARD_PAGE_SIZE,
		.prot = WARD_PROT_READ,
		.flags = VMA_VVAR | VMA_BORROWED,
		.backing = vvar_off,
		.eof_addr = UINT64_MAX,
	};
	const struct vma vdso = {
		.start = vvar.end,
		.end = vvar.end + image_len,
		.prot = WARD_PROT_READ | WARD_PROT_EXEC,
		.flags = VMA_VDSO | VMA_BORROWED,
		.backing = image_off,
		.eof_addr = UINT64_MAX,
	};
	if (addr % WARD_PAGE_SIZE || image_len % WARD_PAGE_SIZE || !range_is_free(mm, vvar.start, vdso.end))
		return -EINVAL;
	long r = insert_vma(mm, &vvar);
	if (r == 0)
		r = insert_vma(mm, &vdso);
	return r;
}

long mm_find_free(struct mm *mm, uint64_t len, uint64_t *out)
{
	/* Top-down from the mmap base, as Linux's default layout. */
	uint64_t top = mm->mmap_base;
	if (len == 0 || len > top)
		return -ENOMEM;
	for (size_t i = vma_first_above(mm, top); i-- > 0;) {
		const struct vma *v = &mm->v[i];
		if (v->end >= top) {
			if (v->start < top)
				top = v->start;
			continue;
		}
		if (top - v->end >= len) {
			*out = top - len;
			return 0;
		}
		top = v->start;
	}
	if (top >= MM_MIN_ADDR + len) {
		*out = top - len;
		return 0;
	}
	return -ENOMEM;
}

static int prot_to_ward(int prot)
{
	/* x86 cannot express write-only or exec-only pages: PROT_WRITE and
	 * PROT_EXEC imply PROT_READ, as on Linux. */
	int p = 0;
	if (prot & PROT_READ)
		p |= WARD_PROT_READ;
	if (prot & PROT_WRITE)
		p |= WARD_PROT_WRITE | WARD_PROT_READ;
	if (prot & PROT_EXEC)
		p |= WARD_PROT_EXEC | WARD_PROT_READ;
	return p;
}

#define MAP_KNOWN_FLAGS                                                                                               \
	(MAP_SHARED | MAP_PRIVATE | MAP_SHARED_VALIDATE | MAP_FIXED | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_DENYWRITE | \
	 MAP_EXECUTABLE | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB |        \
	 MAP_FIXED_NOREPLACE | MAP_SYNC | MAP_32BIT)

long mm_mmap(struct mm *mm, uint64_t addr, uint64_t len, int prot, int flags, struct file *file, uint64_t off)
{
	uint64_t limit = ward_as_user_limit();
	int type = flags & MAP_SHARED_VALIDATE;

	if (len == 0)
		return -EINVAL;
	if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE)
		return -EINVAL;
	if (type == MAP_SHARED_VALIDATE && (flags & ~MAP_KNOWN_FLAGS))
		return -EOPNOTSUPP;
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM))
		return -EINVAL;
	if (flags & MAP_HUGETLB)
		return -EINVAL; /* no huge pages: as a kernel without hugetlbfs pages */
	if (off % WARD_PAGE_SIZE)
		return -EINVAL;
	uint64_t alen = WARD_PAGE_ALIGN_UP(len);
	if (alen < len || alen > limit)
		return -ENOMEM;
	if (file && off + alen < off)
		return -EOVERFLOW;

	bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	if (fixed) {
		if (addr % WARD_PAGE_SIZE)
			return -EINVAL;
		if (addr > limit - alen)
			return -ENOMEM;
		if (addr < MM_MIN_ADDR)
			return -EPERM;
		if ((flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED) && !range_is_free(mm, addr, addr + alen))
			return -EEXIST;
	} else {
		addr = WARD_PAGE_ALIGN_DOWN(addr);
		if (!addr || addr < MM_MIN_ADDR || addr > limit - alen || !range_is_free(mm, addr, addr + alen)) {
			long r = mm_find_free(mm, alen, &addr);
			if (r < 0)
				return r;
		}
	}

	struct vma nv = {
		.start = addr,
		.end = addr + alen,
		.prot = prot_to_ward(prot),
		.flags = (type != MAP_PRIVATE ? VMA_SHARED : 0) | (flags & MAP_GROWSDOWN ? VMA_GROWSDOWN : 0) |
			 (mm->lock_future ? VMA_LOCKED : 0),
	};
	nv.eof_addr = UINT64_MAX;
	if (file) {
		struct linux_statx stx;
		nv.file = file_get(file);
		nv.file_off = off;
		if (file_getattr(file, &stx) == 0 && S_ISREG(stx.stx_mode)) {
			uint64_t in_file = stx.stx_size > off ? WARD_PAGE_ALIGN_UP(stx.stx_size - off) : 0;
			nv.eof_addr = in_file > alen ? UINT64_MAX : addr + in_file;
		}
	}
	if (fixed) {
		long r = remove_range(mm, addr, addr + alen);
		if (r < 0) {
			if (nv.file)
				file_put(nv.file);
			return r;
		}
	}
	long r = insert_vma(mm, &nv);
	if (r < 0)
		return r;
	return (long)addr;
}

long mm_munmap(struct mm *mm, uint64_t addr, uint64_t len)
{
	uint64_t limit = ward_as_user_limit();
	if (addr % WARD_PAGE_SIZE || len == 0)
		return -EINVAL;
	uint64_t alen = WARD_PAGE_ALIGN_UP(len);
	if (alen < len || addr > limit || alen > limit - addr)
		return -EINVAL;
	return remove_range(mm, addr, addr + alen);
}

long mm_mprotect(struct mm *mm, uint64_t addr, uint64_t len, int prot)
{
	if (addr % WARD_PAGE_SIZE)
		return -EINVAL;
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM | PROT_GROWSDOWN | PROT_GROWSUP))
		return -EINVAL;
	if ((prot & (PROT_GROWSDOWN | PROT_GROWSUP)) == (PROT_GROWSDOWN | PROT_GROWSUP))
		return -EINVAL;
	if (len == 0)
		return 0;
	uint64_t alen = WARD_PAGE_ALIGN_UP(len);
	if (alen < len || addr + alen < addr)
		return -ENOMEM;
	uint64_t end = addr + alen;
	if (!range_is_mapped(mm, addr, end))
		return -ENOMEM;
	if (vma_reserve(mm, 2) < 0)
		return -ENOMEM;
	vma_split(mm, addr);
	vma_split(mm, end);
	int wprot = prot_to_ward(prot);
	for (size_t i = vma_first_above(mm, addr); i < mm->n && mm->v[i].start < end; i++) {
		struct vma *v = &mm->v[i];
		/* A shared file map opened read-only cannot become writable. */
		if ((v->flags & VMA_SHARED) && v->file && (wprot & WARD_PROT_WRITE) &&
		    (v->file->flags & O_ACCMODE) == O_RDONLY)
			return -EACCES;
		/* [vvar] may only be read (Linux installs it without
		 * VM_MAYWRITE or VM_MAYEXEC). */
		if ((v->flags & VMA_VVAR) && (wprot & (WARD_PROT_WRITE | WARD_PROT_EXEC)))
			return -EACCES;
		/* Nor may a map of a file on a noexec mount become executable. */
		if (v->file && (wprot & WARD_PROT_EXEC) && file_on_noexec(v->file))
			return -EACCES;
		long r;
		/* Writing to the shared vDSO image gets this guest its own
		 * copy, as a write to a private mapping does. */
		if ((v->flags & VMA_BORROWED) && (wprot & WARD_PROT_WRITE)) {
			uint64_t off;
			r = ward_memfile_alloc(v->end - v->start, &off);
			if (r == 0)
				r = ward_memfile_copy(off, v->backing, v->end - v->start);
			if (r == 0)
				r = ward_as_map(mm->as, gaddr(v->start), v->end - v->start, wprot, off);
			if (r < 0)
				return r;
			v->backing = off;
			v->flags &= ~VMA_BORROWED;
			v->prot = wprot;
			continue;
		}
		v->prot = wprot;
		if (!v->backing && wprot == 0)
			r = 0;
		else if (!v->backing)
			r = vma_back(mm, v);
		else
			r = ward_as_protect(mm->as, gaddr(v->start), v->end - v->start, wprot);
		if (r < 0)
			return r;
	}
	return 0;
}

uint64_t mm_brk(struct mm *mm, uint64_t new_brk)
{
	if (new_brk < mm->brk_start)
		return mm->brk_cur;
	uint64_t old_top = WARD_PAGE_ALIGN_UP(mm->brk_cur);
	uint64_t new_top = WARD_PAGE_ALIGN_UP(new_brk);
	if (new_top < new_brk || new_top > ward_as_user_limit())
		return mm->brk_cur;
	if (new_top > old_top) {
		if (!range_is_free(mm, old_top, new_top + MM_STACK_GUARD_GAP * 0))
			return mm->brk_cur;
		struct vma nv = {
			.start = old_top,
			.end = new_top,
			.prot = WARD_PROT_READ | WARD_PROT_WRITE,
			.flags = VMA_HEAP,
		};
		if (insert_vma(mm, &nv) < 0)
			return mm->brk_cur;
	} else if (new_top < old_top) {
		if (remove_range(mm, new_top, old_top) < 0)
			return mm->brk_cur;
	}
	mm->brk_cur = new_brk;
	return mm->brk_cur;
}

/* Finds the VMA containing addr, or NULL. */
static struct vma *vma_find(struct mm *mm, uint64_t addr)
{
	size_t i = vma_first_above(mm, addr);
	if (i < mm->n && mm->v[i].start <= addr)
		return &mm->v[i];
	return NULL;
}

long mm_mremap(struct mm *mm, uint64_t old_addr, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr)
{
	uint64_t limit = ward_as_user_limit();

	if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if (flags & MREMAP_DONTUNMAP)
		return -EINVAL; /* not supported yet: refused, not ignored */
	if (old_addr % WARD_PAGE_SIZE)
		return -EINVAL;
	old_len = WARD_PAGE_ALIGN_UP(old_len);
	uint64_t alen = WARD_PAGE_ALIGN_UP(new_len);
	if (new_len == 0 || alen < new_len)
		return -EINVAL;
	if (old_len == 0)
		return -EINVAL; /* duplicating a shared mapping: not supported */
	struct vma *v = vma_find(mm, old_addr);
	if (!v || old_addr + old_len > v->end || old_addr + old_len < old_addr)
		return -EFAULT;
	/* Moving and growing work on the VMA's own backing: its pages that
	 * still read a fork's source are copied first. */
	long cr = vma_cow_materialize(mm, v);
	if (cr < 0)
		return cr;
	/* The vDSO's mappings are VM_DONTEXPAND: they move but never grow. */
	if ((v->flags & (VMA_VVAR | VMA_VDSO)) && alen > old_len)
		return -EFAULT;
	/* A System V attachment moves or shrinks, but growing it past its
	 * segment (SIGBUS pages on Linux) is not offered. */
	if ((v->flags & VMA_SYSV) && alen > old_len)
		return -EINVAL;
	if (flags & MREMAP_FIXED) {
		if (new_addr % WARD_PAGE_SIZE || new_addr > limit - alen)
			return -EINVAL;
		if (new_addr < old_addr + old_len && old_addr < new_addr + alen)
			return -EINVAL;
		/* get_unmapped_area's security_mmap_addr: below mmap_min_addr. */
		if (new_addr < MM_MIN_ADDR)
			return -EPERM;
	}

	if (!(flags & MREMAP_FIXED)) {
		if (alen <= old_len) {
			if (alen < old_len) {
				long r = remove_range(mm, old_addr + alen, old_addr + old_len);
				if (r < 0)
					return r;
			}
			return (long)old_addr;
		}
		/* Grow in place when the VMA ends here and the space is free. */
		if (old_addr + old_len == v->end && old_addr + alen <= limit &&
		    range_is_free(mm, old_addr + old_len, old_addr + alen)) {
			struct vma ext = *v;
			ext.start = old_addr + old_len;
			ext.end = old_addr + alen;
			ext.backing = 0;
			ext.flags &= ~VMA_HEAP;
			if (v->file) {
				ext.file = file_get(v->file);
				ext.file_off = v->file_off + (ext.start - v->start);
			}
			long r = insert_vma(mm, &ext);
			return r < 0 ? r : (long)old_addr;
		}
		if (!(flags & MREMAP_MAYMOVE))
			return -ENOMEM;
		long r = mm_find_free(mm, alen, &new_addr);
		if (r < 0)
			return r;
	}

	/* Move: a new VMA with a fresh backing holding the old contents. */
	struct vma nv = *v;
	nv.start = new_addr;
	nv.end = new_addr + alen;
	if (v->eof_addr != UINT64_MAX)
		nv.eof_addr = v->eof_addr - old_addr + new_addr;
	nv.backing = 0;
	nv.flags &= ~VMA_HEAP;
	if (v->file) {
		nv.file = file_get(v->file);
		nv.file_off = v->file_off + (old_addr - v->start);
	}
	uint64_t copy_len = WARD_MIN(old_len, alen);
	uint64_t src = v->backing ? v->backing + (old_addr - v->start) : 0;
	uint64_t nb = 0;
	if (v->flags & VMA_BORROWED) {
		nb = src; /* the shared pages move as they are */
		nv.backing = nb;
	} else if (v->shm && v->file && v->file->ops->mmap_shared) {
		/* A shared file map moves over the file's own pages, which
		 * grow as far as the map now reaches. */
		struct shm_backing *sb;
		long r = v->file->ops->mmap_shared(v->file, nv.file_off + alen, nv.prot & WARD_PROT_WRITE, &sb);
		if (r < 0) {
			file_put(nv.file);
			return r;
		}
		nv.shm = sb;
		nb = sb->off + nv.file_off;
		nv.backing = nb;
	} else if (v->shm && src + alen <= v->shm->off + v->shm->len) {
		/* Shared memory moves, it is not copied: the other maps of it
		 * must go on seeing the same pages. */
		nb = src;
		nv.backing = nb;
		shm_get(nv.shm);
	} else if (v->shm && !v->shm->ops && v->shm->refs == 1) {
		/* The only map of this shared memory: it moves to a larger
		 * range of its own. */
		struct shm_backing *sb = calloc(1, sizeof(*sb));
		long r = sb ? ward_memfile_alloc(alen, &nb) : -ENOMEM;
		if (r < 0) {
			free(sb);
			if (nv.file)
				file_put(nv.file);
			return r;
		}
		ward_memfile_copy(nb, src, copy_len);
		sb->off = nb;
		sb->len = alen;
		sb->refs = 1;
		nv.shm = sb;
		nv.backing = nb;
	} else if (v->shm) {
		if (nv.file)
			file_put(nv.file);
		return -ENOMEM; /* others map the pages it would leave */
	} else if (nv.prot || src) {
		long r = ward_memfile_alloc(alen, &nb);
		if (r < 0) {
			if (nv.file)
				file_put(nv.file);
			return r;
		}
		if (src)
			ward_memfile_copy(nb, src, copy_len);
		if (nv.file && alen > old_len && nv.file->ops->mmap_fill)
			nv.file->ops->mmap_fill(nv.file, nb + old_len, nv.file_off + old_len, alen - old_len);
		nv.backing = nb;
	}
	long r = remove_range(mm, new_addr, new_addr + alen);
	if (r == 0)
		r = remove_range(mm, old_addr, old_addr + old_len);
	if (r < 0 || vma_reserve(mm, 1) < 0) {
		nv.backing = nb;
		vma_release(&nv);
		return r < 0 ? r : -ENOMEM;
	}
	size_t i = vma_first_above(mm, nv.start);
	memmove(&mm->v[i + 1], &mm->v[i], (mm->n - i) * sizeof(nv));
	mm->v[i] = nv;
	mm->n++;
	if (nv.backing && vma_mapped_len(&nv)) {
		r = ward_as_map(mm->as, gaddr(nv.start), vma_mapped_len(&nv), nv.prot, nv.backing);
		if (r < 0)
			return r;
	}
	return (long)new_addr;
}

long mm_msync(struct mm *mm, uint64_t addr, uint64_t len, int flags)
{
	if (addr % WARD_PAGE_SIZE)
		return -EINVAL;
	if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
		return -EINVAL;
	if ((flags & MS_ASYNC) && (flags & MS_SYNC))
		return -EINVAL;
	uint64_t alen = WARD_PAGE_ALIGN_UP(len);
	if (alen < len || addr + alen < addr)
		return -ENOMEM;
	if (alen && !range_is_mapped(mm, addr, addr + alen))
		return -ENOMEM;
	/* Shared file maps are the file's own pages: nothing to write back. */
	return 0;
}

long mm_madvise(struct mm *mm, uint64_t addr, uint64_t len, int advice)
{
	if (addr % WARD_PAGE_SIZE)
		return -EINVAL;
	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_DONTNEED:
	case MADV_FREE:
	case MADV_DONTFORK:
	case MADV_DOFORK:
	case MADV_MERGEABLE:
	case MADV_UNMERGEABLE:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_DONTDUMP:
	case MADV_DODUMP:
	case MADV_WIPEONFORK:
	case MADV_KEEPONFORK:
	case MADV_COLD:
	case MADV_PAGEOUT:
		break;
	default:
		return -EINVAL;
	}
	uint64_t alen = WARD_PAGE_ALIGN_UP(len);
	if (alen < len)
		return -EINVAL;
	if (alen == 0)
		return 0;
	uint64_t end = addr + alen;
	if (end < addr || !range_is_mapped(mm, addr, end))
		return -ENOMEM;
	if (advice != MADV_DONTNEED && advice != MADV_FREE)
		return 0;
	/* [vvar] is a VM_PFNMAP mapping on Linux: its pages cannot be
	 * dropped. */
	for (size_t i = vma_first_above(mm, addr); i < mm->n && mm->v[i].start < end; i++)
		if (mm->v[i].flags & VMA_VVAR)
			return -EINVAL;
	/* Private pages are dropped: anonymous ones read back as zeros, file
	 * ones as the file's contents again. Shared ones keep their data. */
	for (size_t i = vma_first_above(mm, addr); i < mm->n && mm->v[i].start < end; i++) {
		struct vma *v = &mm->v[i];
		if (!v->backing || (v->flags & (VMA_SHARED | VMA_BORROWED)))
			continue;
		uint64_t s = WARD_MAX(addr, v->start), e = WARD_MIN(end, v->end);
		uint64_t off = v->backing + (s - v->start);
		/* Pages that still read a fork's source read the VMA's own
		 * backing from now on, refilled below. */
		uint64_t me = WARD_MIN(e, v->start + vma_mapped_len(v));
		if (v->ncow && me > s) {
			long r = ward_as_map(mm->as, gaddr(s), me - s, v->prot, off);
			if (r < 0)
				return r;
		}
		if (v->file && v->file->ops->mmap_fill)
			v->file->ops->mmap_fill(v->file, off, v->file_off + (s - v->start), e - s);
		else
			ward_memfile_zero(off, e - s);
	}
	return 0;
}

long mm_shmat(struct mm *mm, uint64_t addr, int prot, bool remap, struct shm_backing *b)
{
	uint64_t limit = ward_as_user_limit();
	uint64_t len = b->len;
	if (addr == 0) {
		long r = mm_find_free(mm, len, &addr);
		if (r < 0)
			return r;
	} else {
		/* do_mmap's MAP_FIXED checks. */
		if (len > limit || addr > limit - len)
			return -ENOMEM;
		if (addr < MM_MIN_ADDR)
			return -EPERM;
		if (!remap && !range_is_free(mm, addr, addr + len))
			return -EINVAL;
		long r = remove_range(mm, addr, addr + len);
		if (r < 0)
			return r;
	}
	struct vma nv = {
		.shm = b,
		.start = addr,
		.end = addr + len,
		.prot = prot_to_ward(prot),
		.flags = VMA_SHARED | VMA_SYSV,
		.backing = b->off,
		.eof_addr = UINT64_MAX,
	};
	shm_get(b);
	long r = insert_vma(mm, &nv);
	return r < 0 ? r : (long)addr;
}

/* Whether v is an attachment of a segment that would start at addr: its
 * offset in the segment is its distance from addr (Linux's vm_pgoff test,
 * which finds the pieces mprotect or munmap left). */
static bool vma_sysv_from(const struct vma *v, uint64_t addr)
{
	return (v->flags & VMA_SYSV) && v->start >= addr && v->start - addr == v->backing - v->shm->off;
}

long mm_shmdt(struct mm *mm, uint64_t addr)
{
	if (addr % WARD_PAGE_SIZE)
		return -EINVAL;
	/* ksys_shmdt: the first attachment at or above addr that starts
	 * the segment there gives the segment and its size... */
	struct shm_backing *b = NULL;
	uint64_t at = addr, seg_len = 0;
	for (size_t i = vma_first_above(mm, addr); i < mm->n; i++) {
		if (vma_sysv_from(&mm->v[i], addr)) {
			b = mm->v[i].shm;
			/* Removing this piece may drop the segment's last
			 * reference: keep its size, and b only as a name. */
			seg_len = b->len;
			at = mm->v[i].end;
			long r = remove_range(mm, mm->v[i].start, mm->v[i].end);
			if (r < 0)
				return r;
			break;
		}
	}
	if (!b)
		return -EINVAL;
	/* ...then every other piece of it within that size goes too. */
	for (;;) {
		size_t i = vma_first_above(mm, at);
		if (i >= mm->n || mm->v[i].end - addr > seg_len)
			break;
		struct vma *v = &mm->v[i];
		at = v->end;
		if (v->shm == b && vma_sysv_from(v, addr)) {
			long r = remove_range(mm, v->start, v->end);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

long mm_mlock(struct mm *mm, uint64_t start, uint64_t len, bool lock)
{
	uint64_t end = start + len;
	if (end < start)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (!range_is_mapped(mm, start, end))
		return -ENOMEM;
	if (vma_reserve(mm, 2) < 0)
		return -ENOMEM;
	vma_split(mm, start);
	vma_split(mm, end);
	size_t first = vma_first_above(mm, start), i = first;
	for (; i < mm->n && mm->v[i].start < end; i++) {
		if (lock)
			mm->v[i].flags |= VMA_LOCKED;
		else
			mm->v[i].flags &= ~VMA_LOCKED;
	}
	/* Merge back from the top, so the indices below stay valid. */
	while (i-- > first)
		vma_merge_around(mm, i);
	return 0;
}

void mm_mlock_all(struct mm *mm, bool current, bool future)
{
	for (size_t i = 0; i < mm->n; i++) {
		if (current)
			mm->v[i].flags |= VMA_LOCKED;
		else if (!future)
			mm->v[i].flags &= ~VMA_LOCKED;
	}
	mm->lock_future = future;
	for (size_t i = mm->n; i-- > 0;)
		vma_merge_around(mm, i < mm->n ? i : mm->n - 1);
}

uint64_t mm_locked_bytes(struct mm *mm, uint64_t start, uint64_t end)
{
	uint64_t total = 0;
	for (size_t i = vma_first_above(mm, start); i < mm->n && mm->v[i].start < end; i++)
		if (mm->v[i].flags & VMA_LOCKED)
			total += WARD_MIN(end, mm->v[i].end) - WARD_MAX(start, mm->v[i].start);
	return total;
}

bool mm_range_mapped(struct mm *mm, uint64_t start, uint64_t end)
{
	return end > start && range_is_mapped(mm, start, end);
}

bool mm_patchable(struct mm *mm, int users, uint64_t start, uint64_t end)
{
	if (mm->refs != users || end <= start)
		return false;
	size_t i = vma_first_above(mm, start);
	if (i >= mm->n)
		return false;
	const struct vma *v = &mm->v[i];
	return v->start <= start && end <= v->start + vma_mapped_len(v) && (v->backing || v->ncow) && !v->shm &&
	       !(v->flags & (VMA_SHARED | VMA_BORROWED | VMA_VVAR | VMA_VDSO)) && (v->prot & WARD_PROT_EXEC);
}

long mm_mincore(struct mm *mm, uint64_t start, uint64_t len, uint8_t *vec)
{
	uint64_t end = start + len;
	if (!range_is_mapped(mm, start, end))
		return -ENOMEM;
	for (size_t i = vma_first_above(mm, start); i < mm->n && mm->v[i].start < end; i++) {
		const struct vma *v = &mm->v[i];
		uint64_t s = WARD_MAX(start, v->start), e = WARD_MIN(end, v->end);
		uint64_t mapped_end = v->start + vma_mapped_len(v);
		for (uint64_t a = s; a < e; a += WARD_PAGE_SIZE)
			vec[(a - start) / WARD_PAGE_SIZE] = v->backing && a < mapped_end ? 1 : 0;
	}
	return 0;
}

long mm_write_fault(struct mm *mm, uint64_t addr)
{
	struct vma *v = vma_find(mm, addr);
	if (!mm->as)
		return -EFAULT;
	/* A source no other VMA reads any more (the child exited or ran
	 * another program): its pages become this VMA's, written in place,
	 * with nothing to copy. */
	bool adopted = false;
	for (size_t k = 0; v && k < v->ncow; k++) {
		if (v->cow[k]->refs == 1 && vma_mapped_len(v) &&
		    ward_as_cow_adopt(mm->as, gaddr(v->start), vma_mapped_len(v), v->cow[k]->off, v->cow[k]->len) > 0)
			adopted = true;
	}
	long r = ward_as_write_fault(mm->as, gaddr(addr));
	return r == 1 && adopted ? 0 : r;
}

bool mm_is_shared_at(struct mm *mm, uint64_t addr)
{
	const struct vma *v = vma_find(mm, addr);
	return v && (v->shm || (v->flags & (VMA_SHARED | VMA_BORROWED)));
}

uint64_t mm_mapped_bytes(struct mm *mm)
{
	uint64_t total = 0;
	for (size_t i = 0; i < mm->n; i++)
		total += mm->v[i].end - mm->v[i].start;
	return total;
}

uint64_t mm_resident_bytes(struct mm *mm)
{
	uint64_t total = 0;
	for (size_t i = 0; i < mm->n; i++)
		if (mm->v[i].backing || mm->v[i].shm)
			total += mm->v[i].end - mm->v[i].start;
	return total;
}

void mm_set_args(struct mm *mm, uint64_t arg_start, uint64_t arg_end, uint64_t env_start, uint64_t env_end)
{
	mm->arg_start = arg_start;
	mm->arg_end = arg_end;
	mm->env_start = env_start;
	mm->env_end = env_end;
}

void mm_get_args(struct mm *mm, uint64_t *arg_start, uint64_t *arg_end, uint64_t *env_start, uint64_t *env_end)
{
	*arg_start = mm->arg_start;
	*arg_end = mm->arg_end;
	*env_start = mm->env_start;
	*env_end = mm->env_end;
}

/* Re-reads the size of a shared file map's file and maps the pages that
 * lie within it now (the segment behind the map already holds them). */
static long vma_refresh_eof(struct mm *mm, struct vma *v)
{
	struct linux_statx stx;
	long r = file_getattr(v->file, &stx);
	if (r < 0)
		return r;
	uint64_t len = v->end - v->start, old = vma_mapped_len(v);
	uint64_t in_file = stx.stx_size > v->file_off ? WARD_PAGE_ALIGN_UP(stx.stx_size - v->file_off) : 0;
	uint64_t eof = in_file >= len ? UINT64_MAX : v->start + in_file;
	if (eof <= v->eof_addr)
		return 0;
	v->eof_addr = eof;
	uint64_t now = vma_mapped_len(v);
	return ward_as_map(mm->as, gaddr(v->start + old), now - old, v->prot, v->backing + old);
}

long mm_handle_fault(struct mm *mm, uint64_t addr, bool is_write, uint64_t stack_limit, int *signo, int *si_code)
{
	struct vma *v = vma_find(mm, addr);
	*signo = SIGSEGV;
	if (v) {
		/* A shared map of a file that has grown since: its pages are
		 * there now. */
		if (v->file && v->shm && addr >= v->eof_addr && v->prot && vma_refresh_eof(mm, v) >= 0 &&
		    addr < v->eof_addr)
			return 0;
		if (v->file && addr >= v->eof_addr && v->prot) {
			*signo = SIGBUS;
			*si_code = BUS_ADRERR;
			return -EFAULT;
		}
		*si_code = SEGV_ACCERR;
		return -EFAULT;
	}
	/* A fault just below a grows-down VMA extends it, as the stack does. */
	size_t i = vma_first_above(mm, addr);
	if (i < mm->n && (mm->v[i].flags & VMA_GROWSDOWN)) {
		uint64_t start = WARD_PAGE_ALIGN_DOWN(addr);
		uint64_t prev_end = i > 0 ? mm->v[i - 1].end : 0;
		/* Up to RLIMIT_STACK below the stack's top, as Linux's
		 * acct_stack_growth. */
		uint64_t top = mm->v[i].end;
		for (size_t j = i + 1; j < mm->n && mm->v[j].start == top && (mm->v[j].flags & VMA_GROWSDOWN); j++)
			top = mm->v[j].end;
		if (start >= prev_end + MM_STACK_GUARD_GAP && top - start <= stack_limit) {
			struct vma nv = mm->v[i];
			nv.start = start;
			nv.end = mm->v[i].start;
			nv.backing = 0;
			nv.cow = NULL;
			nv.ncow = 0;
			if (insert_vma(mm, &nv) == 0)
				return 0;
		}
	}
	*si_code = SEGV_MAPERR;
	return -EFAULT;
}

static const char *prot_letters(int prot, int flags, char out[5])
{
	out[0] = prot & WARD_PROT_READ ? 'r' : '-';
	out[1] = prot & WARD_PROT_WRITE ? 'w' : '-';
	out[2] = prot & WARD_PROT_EXEC ? 'x' : '-';
	out[3] = flags & VMA_SHARED ? 's' : 'p';
	out[4] = 0;
	return out;
}

/* One line of /proc/self/maps; a name starts at column 74, as Linux pads
 * it. */
static long format_maps_line(char *buf, size_t len, uint64_t start, uint64_t end, const char *perms, uint64_t off,
			     const char *name)
{
	int n = snprintf(buf, len, "%08" PRIx64 "-%08" PRIx64 " %s %08" PRIx64 " 00:00 0", start, end, perms, off);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	int m = *name ? snprintf(buf + n, len - (size_t)n, "%*s%s\n", n < 73 ? 73 - n : 1, "", name)
		      : snprintf(buf + n, len - (size_t)n, "\n");
	if (m < 0 || (size_t)m >= len - (size_t)n)
		return -ENOSPC;
	return n + m;
}

long mm_format_maps(struct mm *mm, char *buf, size_t len)
{
	size_t at = 0;
	for (size_t i = 0; i < mm->n; i++) {
		const struct vma *v = &mm->v[i];
		char p[5];
		const char *name = v->file && v->file->path   ? v->file->path
				   : v->flags & VMA_HEAP      ? "[heap]"
				   : v->flags & VMA_GROWSDOWN ? "[stack]"
				   : v->flags & VMA_VVAR      ? "[vvar]"
				   : v->flags & VMA_VDSO      ? "[vdso]"
							      : "";
		char sysv[32];
		if (v->flags & VMA_SYSV) {
			snprintf(sysv, sizeof(sysv), "/SYSV%08x (deleted)", (uint32_t)v->shm->key);
			name = sysv;
		}
		uint64_t off = v->file ? v->file_off : (v->flags & VMA_SYSV) ? v->backing - v->shm->off : 0;
		long n = format_maps_line(buf + at, len - at, v->start, v->end, prot_letters(v->prot, v->flags, p), off,
					  name);
		if (n < 0)
			return n;
		at += (size_t)n;
	}
	if (ward_host_has_vsyscall()) {
		long n = format_maps_line(buf + at, len - at, 0xffffffffff600000ULL, 0xffffffffff601000ULL, "--xp", 0,
					  "[vsyscall]");
		if (n < 0)
			return n;
		at += (size_t)n;
	}
	return (long)at;
}

long mm_read(struct mm *mm, uint64_t addr, void *buf, size_t len)
{
	/* Running: the core knows which pages read a fork's source. */
	if (mm->as)
		return ward_copy_in(mm->as, buf, gaddr(addr), len);
	size_t done = 0;
	size_t i = vma_first_above(mm, addr);
	while (done < len && i < mm->n) {
		const struct vma *v = &mm->v[i++];
		uint64_t at = addr + done;
		if (v->start > at || !v->backing || !(v->prot & WARD_PROT_READ) || at >= v->start + vma_mapped_len(v))
			break;
		size_t chunk = (size_t)WARD_MIN(len - done, v->start + vma_mapped_len(v) - at);
		uint64_t off = v->backing + (at - v->start);
		/* A fork child before its first run reads its sources. */
		for (size_t k = 0; v->ncow && k < mm->nplan; k++) {
			const struct cow_piece *p = &mm->plan[k];
			if (at >= p->addr && at < p->addr + p->len) {
				off = p->src_off + (at - p->addr);
				chunk = (size_t)WARD_MIN(chunk, p->addr + p->len - at);
			}
		}
		if (ward_memfile_read(off, (char *)buf + done, chunk) < 0)
			break;
		done += chunk;
	}
	return done == len ? 0 : -EFAULT;
}
